"""Saved results: exact round trip, atomic writes, refused damaged files, xarray and NetCDF export."""

import json
import os
import zipfile

import numpy as np
import pytest

import flowsim
from flowsim import ResultFileError


@pytest.fixture(scope="module")
def result():
    """A two-member batch with policies and a closure, 120 days: every kind of input is stored."""
    sc = flowsim.load_scenario("border-closure").replace(
        horizon_days=120, policies=(flowsim.Policy(parameter="f0", host="KAZ", start="2022-11-01", factor=2.0,
                                                   source="assumption: test"),))
    members = [sc.params, sc.params.with_params(tau_S={"GEO": 200.0}, r=0.03)]
    return flowsim.run_batch(sc, members)


@pytest.fixture(scope="module")
def saved(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "run.npz"
    assert result.save(path) == path
    return path


def test_every_array_and_label_round_trips(result, saved):
    back = flowsim.load_result(saved)
    for name in ("states", "economy", "dates", "cumulative_arrivals"):
        a, b = getattr(result, name), getattr(back, name)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert set(back.summary_arrays) == set(result.summary_arrays)
    for name, arr in result.summary_arrays.items():
        assert back.summary_arrays[name].dtype == arr.dtype
        np.testing.assert_array_equal(back.summary_arrays[name], arr)
    assert (back.hosts, back.variables, back.compartments, back.layout) == \
        (result.hosts, result.variables, result.compartments, result.layout)
    assert (back.success, back.message, back.stats) == (result.success, result.message, result.stats)
    assert back.summary(1).rows == result.summary(1).rows


def test_stored_inputs_reproduce_the_run(result, saved):
    back = flowsim.load_result(saved)
    assert len(back.params) == 2
    for a, b in zip(back.params, result.params):
        assert a == b and a.table() == b.table()          # values, ranges and sources
    assert back.scenario.policies == result.scenario.policies and back.scenario.name == "border-closure"
    again = flowsim.run_batch(back.scenario, list(back.params))
    np.testing.assert_array_equal(again.states, result.states)
    np.testing.assert_array_equal(again.economy, result.economy)


def test_metadata_version_and_hash(result, saved):
    with np.load(saved, allow_pickle=False) as npz:
        meta = json.loads(str(npz["metadata"]))
    assert meta["flowsim_version"] == flowsim.__version__
    assert len(meta["inputs_sha256"]) == 64 and meta["inputs_sha256"] == result.inputs_sha256()
    assert flowsim.load_result(saved).inputs_sha256() == result.inputs_sha256()
    # the hash follows the inputs: another parameter value, another hash
    other = flowsim.run(result.scenario.with_params(f0={"KAZ": 0.012}).replace(horizon_days=5))
    assert other.inputs_sha256() != result.inputs_sha256()


def test_truncated_file_is_refused(saved, tmp_path):
    data = saved.read_bytes()
    for n in (0, 100, len(data) // 2, len(data) - 1):
        bad = tmp_path / f"cut{n}.npz"
        bad.write_bytes(data[:n])
        with pytest.raises(ResultFileError, match=rf"cut{n}\.npz: not a readable flowsim result \(truncated or "
                                                  r"corrupted"):
            flowsim.load_result(bad)


def test_corrupted_bytes_are_refused(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    data[len(data) // 3] ^= 0xFF
    bad = tmp_path / "flip.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ResultFileError, match=r"flip\.npz: not a readable flowsim result"):
        flowsim.load_result(bad)


def test_edited_inputs_are_refused(saved, tmp_path):
    with np.load(saved, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["inputs"] = np.array(str(arrays["inputs"]).replace('"f0":{"ARM":0.008', '"f0":{"ARM":0.009'))
    bad = tmp_path / "edited.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ResultFileError, match=r"edited\.npz: the stored inputs do not match their SHA-256 hash"):
        flowsim.load_result(bad)


def test_other_files_are_refused(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ResultFileError, match=r"other\.npz: not a flowsim result file \(no metadata"):
        flowsim.load_result(tmp_path / "other.npz")
    with pytest.raises(ResultFileError, match=r"missing\.npz: no such result file"):
        flowsim.load_result(tmp_path / "missing.npz")


def test_save_is_atomic(result, tmp_path, monkeypatch):
    """A failure while writing leaves the old file in place and no temporary file behind."""
    path = tmp_path / "run.npz"
    result.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(flowsim.OutputError, match=r"run\.npz: cannot write the result \(No space left"):
        result.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["run.npz"]
    with pytest.raises(flowsim.OutputError, match=r"does not exist"):
        result.save(tmp_path / "nowhere" / "run.npz")


def test_no_pickles_inside(saved):
    with zipfile.ZipFile(saved) as zf:
        names = sorted(zf.namelist())
    assert "states.npy" in names and "inputs.npy" in names and "summary__net.crossover_day.npy" in names
    assert "summary__residents.sustained_crossover_day.npy" in names and "summary__peak_present.npy" in names
    with np.load(saved, allow_pickle=False) as npz:        # would raise on an object array
        assert all(npz[k].dtype != object for k in npz.files)


def test_to_xarray(result):
    ds = result.to_xarray()
    assert ds["states"].dims == ("member", "host", "compartment", "date")
    assert ds["economy"].dims == ("member", "host", "variable", "date")
    np.testing.assert_array_equal(ds["states"].values, result.states)
    assert list(ds["host"].values) == list(result.hosts)
    assert ds["states"].sel(host="KAZ", compartment="E", member=1).values[50] == result.series("E", "KAZ", 1)[50]
    assert ds.attrs["inputs_sha256"] == result.inputs_sha256()
    assert ds["summary_peak_present"].attrs["units"] == "people"


def test_to_netcdf_round_trip(result, tmp_path):
    xr = pytest.importorskip("xarray")
    path = result.to_netcdf(tmp_path / "run.nc")
    with xr.open_dataset(path, engine="scipy") as ds:
        ds = ds.load()
    np.testing.assert_array_equal(ds["states"].values, result.states)
    np.testing.assert_array_equal(ds["economy"].values, result.economy)
    assert ds["summary_crossover_day"].dims == ("member", "host", "balance")
    for balance in flowsim.BALANCES:
        np.testing.assert_array_equal(ds["summary_crossover_day"].sel(balance=balance).values,
                                      result.summary_arrays[f"{balance}.crossover_day"])
    np.testing.assert_array_equal(ds["summary_status"].sel(balance="residents").values,
                                  result.summary_arrays["residents.status"])
    assert str(ds["date"].values[0])[:10] == "2022-09-21" and ds.attrs["scenario"] == "border-closure"
    assert json.loads(ds.attrs["inputs_json"])["scenario"]["name"] == "border-closure"
    assert sorted(os.listdir(tmp_path)) == ["run.nc"]


def test_cli_run_can_save_the_result(tmp_path):
    from flowsim.cli import main

    toml = tmp_path / "short.toml"
    toml.write_text('base = "kazakhstan-2022"\nhorizon_days = 60\n')
    assert main(["run", str(toml), "--out", str(tmp_path / "out"), "--no-figures", "--save-result"]) == 0
    back = flowsim.load_result(tmp_path / "out" / "result.npz")
    assert back.scenario.name == "short" and back.dates.size == 61
