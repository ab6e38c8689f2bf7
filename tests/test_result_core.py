"""One result core (issue 14, item 2): a run and an ensemble answer the same accessors the same way.

:class:`flowsim.result_core.SeriesResult` sits under :class:`~flowsim.Result` and
:class:`~flowsim.EnsembleResult`: named series on (member, host, date), one
``series`` accessor, one long ``to_dataframe``, ``save``/``load_result``,
``to_xarray``/``to_netcdf`` and a ``plot`` accessor on both.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import matplotlib
import numpy as np
import pytest

import flowsim
from flowsim.result_core import DATAFRAME_COLUMNS

matplotlib.use("Agg")

SCENARIO = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30)
D = SCENARIO.horizon_days + 1
H = len(SCENARIO.hosts)


@pytest.fixture(scope="module")
def ens():
    return flowsim.ensemble(SCENARIO, 4, seed=11, progress=False, vary=["tau_T", "tau_S", "f0", "r"])


@pytest.fixture(scope="module")
def member_run(ens):
    """Member 2 of the ensemble, run alone: a Result of the same member."""
    return flowsim.run(ens.member_scenario(2))


@pytest.fixture(scope="module")
def batch(ens):
    """Every member of the ensemble run as one batch: a Result with the ensemble's member axis."""
    return flowsim.run_batch(SCENARIO, [ens.member_parameters(m) for m in range(ens.n_members)])


# ------------------------------------------------------------------ series
def test_the_same_member_gives_the_same_series_through_both_accessors(ens, member_run, batch):
    for variable in ens.series:
        alone = member_run.series(variable, "KAZ")                    # a run: member 0 by default
        drawn = ens.series(variable, "KAZ", member=2)
        assert alone.shape == drawn.shape == (D,)
        scale = max(np.abs(alone).max(), 1.0)
        assert np.abs(alone - drawn).max() / scale < 1e-4, variable   # solve_ivp against the ensemble solver
        assert np.abs(batch.series(variable, "KAZ", member=2) - drawn).max() / scale < 1e-4, variable
        # every member at once: the same (M, H, D) layout and the same member on both
        all_batch, all_ens = batch.series(variable, member=None), ens.series(variable)
        assert all_batch.shape == all_ens.shape == (4, H, D)
        np.testing.assert_array_equal(all_ens[2], ens.series(variable, member=2))
        np.testing.assert_array_equal(all_batch[2], batch.series(variable, member=2))
        np.testing.assert_array_equal(batch.series[variable], all_batch)   # the mapping view is the same array
        np.testing.assert_array_equal(ens.series[variable], all_ens)


def test_series_view_is_a_mapping_on_both(ens, member_run):
    assert list(ens.series) == ["N", "net"] and "N" in ens.series and "U" not in ens.series
    assert dict(ens.series.items()).keys() == {"N", "net"}
    assert set(ens.series) <= set(member_run.series) and len(member_run.series) == len(member_run.variable_names)
    assert member_run.series["N"].shape == (1, H, D)
    again = dataclasses.replace(ens, unit=ens.unit)                  # a copy built from the view keeps the arrays
    assert again.series["N"] is ens.series["N"]


def test_both_refuse_the_same_bad_asks(ens, member_run):
    for res in (ens, member_run):
        with pytest.raises(flowsim.UnknownHostError, match="host 'KZA' is not in this .*Did you mean 'KAZ'"):
            res.series("N", "KZA")
        with pytest.raises(flowsim.FlowsimError, match=r"member must be an integer in \[0, \d\] \(or None"):
            res.series("N", "KAZ", member=9)
    with pytest.raises(flowsim.FlowsimError, match="'U' was not kept by this ensemble"):
        ens.series("U")
    with pytest.raises(flowsim.FlowsimError, match="unknown variable 'nett'.*Did you mean 'net'"):
        member_run.series("nett")


def test_series_of_is_a_deprecated_alias(ens):
    with pytest.warns(flowsim.FlowsimDeprecationWarning, match=r"call ens.series\(variable, host\)"):
        old = ens.series_of("N", "GEO")
    np.testing.assert_array_equal(old, ens.series("N", "GEO"))


# -------------------------------------------------------------- dataframe
def test_to_dataframe_is_the_same_long_table_on_both(ens, batch):
    pytest.importorskip("pandas")
    run_df = batch.to_dataframe(member=None)
    ens_df = ens.to_dataframe("series")
    assert tuple(run_df.columns) == tuple(ens_df.columns) == DATAFRAME_COLUMNS
    assert len(ens_df) == 4 * H * len(ens.series) * D
    assert len(run_df) == 4 * H * len(batch.variable_names) * D
    assert dict(run_df.dtypes) == dict(ens_df.dtypes)
    for df, res in ((run_df, batch), (ens_df, ens)):
        row = df[(df.member == 3) & (df.host == "GEO") & (df.variable == "net")]
        assert list(row.date.dt.strftime("%Y-%m-%d")) == [str(d) for d in res.dates]
        np.testing.assert_array_equal(row.value.to_numpy(), res.series("net", "GEO", member=3))
    # rows in the order member, host, variable, day on both
    first = ens_df.iloc[[0, D, H * len(ens.series) * D]]
    assert list(first.member) == [0, 0, 1] and list(first.variable) == ["N", "net", "N"]
    one = ens.to_dataframe("series", member=1)
    assert set(one.member) == {1} and len(one) == H * len(ens.series) * D


def test_to_dataframe_keeps_the_old_tables_reachable(ens, member_run):
    pytest.importorskip("pandas")
    with pytest.warns(flowsim.FlowsimWarning, match=r"now gives the kept series.*to_dataframe\('parameters'\)"):
        assert tuple(ens.to_dataframe().columns) == DATAFRAME_COLUMNS
    params = ens.to_dataframe("parameters")
    assert list(params.columns) == list(ens.labels) and params.index.name == "member"
    np.testing.assert_array_equal(params.to_numpy(), ens.values)
    with pytest.warns(flowsim.FlowsimDeprecationWarning, match=r"to_dataframe\(member=0\)"):
        old = member_run.to_dataframe(0)
    assert old.equals(member_run.to_dataframe())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert set(member_run.to_dataframe().member) == {0}
    with pytest.raises(flowsim.FlowsimError, match="which must be one of 'series'; got 'parameters'"):
        member_run.to_dataframe("parameters")


# ------------------------------------------------------------ save / load
def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def test_both_save_and_load_bit_for_bit(ens, batch, tmp_path):
    back = flowsim.load_result(batch.save(tmp_path / "run.npz"))
    assert type(back) is flowsim.Result
    for name in ("states", "economy", "dates", "cumulative_arrivals"):
        _same(getattr(back, name), getattr(batch, name))
    loaded = flowsim.load_result(ens.save(tmp_path / "ens.npz"))
    assert type(loaded) is flowsim.EnsembleResult
    for name in ("unit", "values"):
        _same(getattr(loaded, name), getattr(ens, name))
    for group in ("series", "summary_arrays", "scalars"):
        mine, theirs = dict(getattr(ens, group)), dict(getattr(loaded, group))
        assert list(mine) == list(theirs)
        for name in mine:
            _same(theirs[name], mine[name])
    assert (loaded.dims, loaded.sampler, loaded.seed) == (ens.dims, ens.sampler, ens.seed)
    assert loaded.stats.keys() == ens.stats.keys()
    _same(loaded.stats["fallbacks"], ens.stats["fallbacks"])
    assert {k: v for k, v in loaded.stats.items() if k != "fallbacks"} == \
        {k: v for k, v in ens.stats.items() if k != "fallbacks"}
    assert loaded.scenario.to_dict() == ens.scenario.to_dict() and loaded.arrivals is None
    assert loaded.events().to_csv() == ens.events().to_csv()
    assert loaded.member_parameters(3) == ens.member_parameters(3)
    with pytest.raises(flowsim.ResultFileError, match="holds an ensemble.*flowsim.load_result"):
        flowsim.results.load_result(tmp_path / "ens.npz")


def test_member_arrivals_round_trip(ens, tmp_path):
    pulse = SCENARIO.arrivals["KAZ"][0]
    own = tuple({**SCENARIO.arrivals, "KAZ": (dataclasses.replace(pulse, total=pulse.total * (1 + m / 10)),)}
                for m in range(ens.n_members))
    mixed = dataclasses.replace(ens, arrivals=own)
    back = flowsim.load_result(mixed.save(tmp_path / "posterior.npz"))
    assert [dict(a) for a in back.arrivals] == [dict(a) for a in own]
    assert back.member_scenario(3).arrivals["KAZ"][0].total == pytest.approx(pulse.total * 1.3)


def test_a_run_file_keeps_its_layout(batch, tmp_path):
    """A Result file is written as before (no ``kind``: every flowsim that reads format 2 reads it)."""
    with np.load(batch.save(tmp_path / "run.npz"), allow_pickle=False) as npz:
        meta = json.loads(str(npz["metadata"]))
    assert "kind" not in meta and meta["format_version"] == 2


@pytest.mark.parametrize("which", ["run", "ensemble"])
def test_bad_paths_are_refused_clearly(which, ens, member_run, tmp_path):
    res = member_run if which == "run" else ens
    with pytest.raises(flowsim.OutputError, match="is a folder; give a file name inside it"):
        res.save(tmp_path)
    with pytest.raises(flowsim.OutputError, match="folder .*nowhere does not exist; create it first"):
        res.save(tmp_path / "nowhere" / "r.npz")
    with pytest.raises(TypeError, match="`path` must be a file path"):
        res.save(None)
    with pytest.raises(flowsim.OutputError, match="is a folder"):
        res.to_netcdf(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_ensemble_to_xarray_and_netcdf(ens, tmp_path):
    xr = pytest.importorskip("xarray")
    ds = ens.to_xarray()
    assert ds["N"].dims == ("member", "host", "date") and ds["N"].attrs["units"] == "people"
    assert ds["net"].attrs["units"] == "USD/day"
    np.testing.assert_array_equal(ds["net"].sel(host="GEO").values, ens.series("net", "GEO"))
    assert list(ds["parameter"].values) == list(ens.labels)
    np.testing.assert_array_equal(ds["parameter_values"].values, ens.values)
    path = ens.to_netcdf(tmp_path / "ens.nc")
    with xr.open_dataset(path, engine="scipy") as back:
        np.testing.assert_array_equal(back["N"].values, ens.series["N"])
        assert back.attrs["seed"] == str(ens.seed)


# ------------------------------------------------------------------- plots
def _check_figure(fig, hosts):
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    assert fig._suptitle is not None and fig._suptitle.get_text()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == [f"{flowsim.HOST_NAMES[h]} ({h})" for h in hosts]
    for ax in axes:
        assert ax.get_xlabel() == "date" and ax.get_ylabel()
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels and labels[0].endswith("2022")                  # dates on the time axis
    assert fig.legends and fig.legends[0].get_texts()


@pytest.mark.parametrize("variable, unit", [("N", "thousand people"), ("net", "USD million per day")])
def test_plot_accessor_draws_the_same_figure_on_both(variable, unit, ens, member_run):
    import matplotlib.pyplot as plt

    for res, legend in ((member_run, "people present" if variable == "N" else "net impact"), (ens, "median of 4")):
        fig = res.plot.series(variable, hosts=["KAZ", "GEO"])
        _check_figure(fig, ["KAZ", "GEO"])
        assert {ax.get_ylabel() for ax in fig.axes if ax.get_visible()} == {unit}
        assert legend in " ".join(t.get_text() for t in fig.legends[0].get_texts())
        plt.close(fig)
    fig = member_run.plot.accounts(hosts=["KAZ"])
    assert fig._suptitle.get_text().startswith("Accounts per host")
    plt.close(fig)
    fig = ens.plot.crossovers(hosts=["KAZ", "GEO"])
    assert "members" in fig._suptitle.get_text()
    plt.close(fig)


def test_plot_accessor_says_what_a_result_lacks(ens, member_run):
    with pytest.raises(flowsim.FlowsimError, match=r"keeps only the series N, net.*member_scenario"):
        ens.plot.accounts()
    with pytest.raises(flowsim.FlowsimError, match="crossover dates are in result.summary"):
        member_run.plot.crossovers()
    with pytest.raises(flowsim.UnknownHostError, match="host 'KZA'"):
        ens.plot.series("N", hosts=["KZA"])
