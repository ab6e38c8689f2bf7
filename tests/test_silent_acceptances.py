"""Issue 12, "silent acceptances": input that used to be taken without a word is now refused with a named error,
or taken with a warning that says what was done."""

from __future__ import annotations

import warnings

import pytest
from conftest import day, pulse_scenario

import flowsim
from flowsim.cli import main

SEED = "kazakhstan-2022"


def _notes(make):
    """The FlowsimWarning messages raised while ``make()`` runs."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    return [str(w.message) for w in caught if issubclass(w.category, flowsim.FlowsimWarning)]


def _write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------- policies, closures and diversions
def test_policy_before_the_start_is_applied_from_day_0_with_a_warning():
    sc = pulse_scenario(horizon=20)
    early = flowsim.Policy(parameter="tau_T", host="KAZ", start=day(-30), factor=2.0)
    notes = _notes(lambda: sc.replace(policies=(early,)))
    assert notes == [f"policy on `tau_T` for host KAZ from {day(-30)} starts before the scenario start {day(0)}: "
                     f"applied from day 0 ({day(0)}). Fix: date it {day(0)} to say so."]


def test_policy_after_the_horizon_has_no_effect_and_says_so():
    sc = pulse_scenario(horizon=20)
    late = flowsim.Policy(parameter="tau_T", host="KAZ", start=day(20), factor=2.0)
    inside = flowsim.Policy(parameter="tau_T", host="KAZ", start=day(19), factor=2.0)
    assert _notes(lambda: sc.replace(policies=(inside,))) == []
    (note,) = _notes(lambda: sc.replace(policies=(late,)))
    assert f"from {day(20)} starts on or after the end of the simulated period {day(0)} .. {day(20)}" in note
    assert "no effect" in note and "lengthen horizon_days to more than 20" in note


def test_closure_outside_the_horizon_and_diversion_of_a_host_never_closed():
    sc = flowsim.load_scenario("border-closure")          # KAZ closed from day 7, half diverted
    assert _notes(lambda: sc.replace(horizon_days=30)) == []
    notes = _notes(lambda: sc.replace(horizon_days=7))
    assert len(notes) == 2
    assert notes[0].startswith("closure of host KAZ from 2022-09-28 to 2023-01-01 lies outside the simulated period")
    assert notes[1].startswith("diversion for host KAZ has no effect: KAZ is never closed within")
    # a closure that ended before the start, and a diversion of a host with no closure at all
    old = flowsim.Closure(start="2021-01-01", end="2021-06-01")
    notes = _notes(lambda: sc.replace(closures={"KAZ": old, "TKM": sc.closures["TKM"]},
                                      diversion={**sc.diversion, "GEO": {"ARM": 0.5}}))
    assert [n.split(" lies")[0] for n in notes[:1]] == ["closure of host KAZ from 2021-01-01 to 2021-06-01"]
    assert {n.split(" has no effect")[0] for n in notes[1:]} == {"diversion for host KAZ", "diversion for host GEO"}


def test_a_variant_does_not_repeat_its_sources_notes():
    sc = pulse_scenario(horizon=20)
    with pytest.warns(flowsim.FlowsimWarning):
        odd = sc.replace(policies=(flowsim.Policy(parameter="tau_T", host="KAZ", start=day(-1), factor=2.0),))
    assert _notes(lambda: odd.with_params(tau_T=4.0)) == []
    assert _notes(lambda: odd.replace(name="other")) == []


def test_cli_prints_each_warning_as_one_line(tmp_path, capsys):
    path = _write(tmp_path, f'base = "{SEED}"\nhorizon_days = 30\n[[policies]]\nparameter = "f0"\nhosts = ["KAZ"]\n'
                            'start = 2024-01-01\nfactor = 2.0\n[[closures.GEO]]\nstart = 2030-01-01\n'
                            '[diversion.ARM]\nGEO = 0.3\n')
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-figures"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("flowsim: warning: ") for line in err)
    assert "policy on `f0` for host KAZ from 2024-01-01" in err[0]
    assert "closure of host GEO from 2030-01-01 to the end" in err[1]
    assert "diversion for host ARM has no effect" in err[2]


# ------------------------------------------------------------------------ a value outside its own range
@pytest.mark.parametrize("text,line,host,value", [
    ("[parameters.KAZ]\nrho = {value = 0.9, low = 0.1, high = 0.2}\n", 3, "KAZ", 0.9),
    ("[parameters]\nrho = {KAZ = {low = 0.1, high = 0.2}}\n", 3, "KAZ", 0.3),       # the inherited value
    ("[parameters]\nrho = {low = 0.1, high = 0.2}\n[parameters.KAZ]\nrho = 0.15\n", 3, "UZB", 0.3),
])
def test_file_value_outside_its_own_range_is_refused(tmp_path, text, line, host, value):
    path = _write(tmp_path, f'base = "{SEED}"\n' + text)
    with pytest.raises(flowsim.ParameterError) as err:
        flowsim.read_scenario(path)
    assert f"s.toml, line {line}" in str(err.value)
    assert f"`rho` for host {host}: value {value:g} is outside its own range [0.1, 0.2]" in str(err.value)


def test_file_range_set_after_value_is_checked_once_whole(tmp_path):
    path = _write(tmp_path, f'base = "{SEED}"\n[parameters]\nrho = {{low = 0.1, high = 0.5}}\n'
                            '[parameters.KAZ]\nrho = {value = 0.15, low = 0.1, high = 0.2}\n')
    sc = flowsim.read_scenario(path)
    assert sc.params.get("rho", "KAZ") == 0.15 and list(sc.params.ranges["rho"][0]) == [0.1, 0.2]


def test_python_value_outside_its_own_range_is_refused():
    p = flowsim.reference_parameters(["KAZ", "GEO"])
    ranges = {n: r.copy() for n, r in p.ranges.items()}
    ranges["rho"][1] = [0.1, 0.2]
    with pytest.raises(flowsim.ParameterError, match=r"`rho` for host GEO: value 0\.\d+ is outside its own range"):
        flowsim.ParameterSet(hosts=p.hosts, values=p.values, P=p.P, ranges=ranges)
    with pytest.raises(flowsim.ParameterError, match=r"`rho` for host POL: value 0.9 is outside its own range"):
        p.with_hosts(flowsim.Host("POL", like="KAZ", values={"rho": {"value": 0.9, "low": 0.1, "high": 0.2}}))
    ranges["rho"][1] = [0.5, 0.2]
    with pytest.raises(flowsim.ParameterError, match=r"range of `rho` for host GEO must have low <= high"):
        flowsim.ParameterSet(hosts=p.hosts, values=p.values, P=p.P, ranges=ranges)
    assert p.with_params(rho=0.9).ranges["rho"][0][1] == 0.9        # a new value without a range widens it


# ----------------------------------------------------------------------------------- solver options
def test_rtol_below_the_floor_scipy_would_use_is_refused(tmp_path, capsys):
    from flowsim.solve.base import MIN_RTOL

    assert MIN_RTOL == pytest.approx(2.22e-14, rel=1e-3)
    out = tmp_path / "out"
    assert main(["run", SEED, "--rtol", "1e-30", "--no-figures", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`rtol` must be in [100 x machine epsilon = 2.2204e-14, 1e-06]; got 1e-30" in err
    assert not out.exists()
    sc = pulse_scenario(horizon=5)
    with pytest.raises(flowsim.SolverError, match="machine epsilon"):
        flowsim.run(sc, rtol=MIN_RTOL / 2)
    with pytest.raises(flowsim.SolverError, match="machine epsilon"):
        flowsim.run(sc, solver="ensemble", rtol=1e-20)
    res = flowsim.run(sc, rtol=MIN_RTOL)                                  # the floor itself is what is used
    assert res.stats["rtol"] == MIN_RTOL


def test_dt_without_stochastic_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", SEED, "--n", "4", "--dt", "0.5", "--no-figures", "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dt = 0.5 is the step of the stochastic chain, but stochastic is off" in err
    assert not out.exists()
    sc = pulse_scenario(horizon=5)
    with pytest.raises(flowsim.FlowsimError, match="stochastic is off"):
        flowsim.ensemble(sc, 2, vary={"tau_T": (2, 4)}, dt=0.5, progress=False)
    with pytest.raises(flowsim.FlowsimError, match="stochastic is on: the chain would ignore them"):
        flowsim.ensemble(sc, 2, vary={"tau_T": (2, 4)}, stochastic=True, solver_options={"rtol": 1e-5},
                         progress=False)


# ---------------------------------------------------------------------------------------- validate
def test_validate_until_after_the_last_figure_has_nothing_to_predict(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["validate", SEED, "--until", "2030-01-01", "--params", "tau_T[KAZ]", "--no-figures",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "nothing to predict: every observation ends on or before --until 2030-01-01 (the last on 2022-" in err
    assert not out.exists()


def test_validate_refuses_figures_past_the_horizon(tmp_path, capsys):
    obs = tmp_path / "obs.csv"
    obs.write_text("host,quantity,date_start,date_end,value\nKAZ,cumulative_entries,2022-09-21,2022-09-27,98000\n"
                   "KAZ,daily_entries,2029-10-03,2029-10-03,7000\n")
    out = tmp_path / "out"
    assert main(["validate", SEED, "--observations", str(obs), "--until", "2022-10-01", "--params", "tau_T[KAZ]",
                 "--no-figures", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "KAZ daily_entries 2029-10-03 (observations from " in err
    assert "line 3): ends on or after the end of the simulated period of scenario 'kazakhstan-2022' " in err
    assert "lengthen horizon_days to at least 2570" in err
    assert not out.exists()
    short = pulse_scenario(horizon=10)
    table = flowsim.datasets.ObservationTable((
        flowsim.datasets.Observation(host="KAZ", quantity="cumulative_entries", date_start=day(0), date_end=day(3),
                                     value=1e4),
        flowsim.datasets.Observation(host="KAZ", quantity="cumulative_entries", date_start=day(0), date_end=day(10),
                                     value=2e4)))
    with pytest.raises(flowsim.ObservationError, match="lengthen horizon_days to at least 11"):
        flowsim.validate(short, table, day(5), ["tau_T[KAZ]"])


# ------------------------------------------------------------------------------------ observation files
def _obs_file(tmp_path, text):
    path = tmp_path / "obs.csv"
    path.write_text(text)
    return path


def test_a_share_of_7_is_refused(tmp_path):
    path = _obs_file(tmp_path, "host,quantity,date_start,date_end,value,unit\n"
                               "KAZ,share_left_soon,2022-09-21,2022-10-04,0.75,share\n"
                               "KAZ,share_left_soon,2022-09-21,2022-10-04,7,share\n")
    with pytest.raises(flowsim.ObservationError, match=r"obs.csv, line 3: column value is a share \(unit 'share'\), "
                                                       r"so it must be in \[0, 1\]; got 7"):
        flowsim.load_observations(path)
    # without a unit column, the quantity says it is a share: refused before any fit
    path = _obs_file(tmp_path, "host,quantity,date_start,date_end,value\nKAZ,share_stayed,2022-09-21,2022-10-04,7\n")
    table = flowsim.load_observations(path)
    with pytest.raises(flowsim.ObservationError, match=r"\(line 2\): share_stayed is a share, so its value must be "
                                                       r"in \[0, 1\]; got 7"):
        flowsim.calibrate(flowsim.load_scenario(SEED), table, ["tau_T[KAZ]"])
    with pytest.raises(flowsim.ObservationError, match="must be in"):
        flowsim.datasets.Observation(host="KAZ", quantity="share_stayed", date_start=day(0), date_end=day(3),
                                     value=0.5, high=1.5, unit="share")


def test_a_duplicated_csv_header_is_refused(tmp_path):
    path = _obs_file(tmp_path, "host,quantity,date_start,date_end,value,value\n"
                               "KAZ,cumulative_entries,2022-09-21,2022-09-27,98000,5\n")
    with pytest.raises(flowsim.ObservationError, match=r"obs.csv, line 1: column 'value' appears twice "
                                                       r"\(columns 5 and 6\)"):
        flowsim.load_observations(path)
    with pytest.raises(flowsim.ScheduleError, match="column 'entries' appears twice"):
        flowsim.daily_arrivals_from_csv("host,date,entries,entries\nPOL,2022-02-24,100,5\n")


def test_an_unknown_qualifier_is_refused_also_in_python(tmp_path):
    path = _obs_file(tmp_path, "host,quantity,date_start,date_end,value,qualifier\n"
                               "KAZ,cumulative_entries,2022-09-21,2022-09-27,98000,roughly maybe\n")
    with pytest.raises(flowsim.ObservationError, match="line 2: unknown qualifier 'roughly maybe'"):
        flowsim.load_observations(path)
    with pytest.raises(flowsim.ObservationError, match="unknown qualifier 'mostly'"):
        flowsim.datasets.Observation(host="KAZ", quantity="cumulative_entries", date_start=day(0), date_end=day(3),
                                     value=1e4, qualifier="mostly")


# -------------------------------------------------------------------------------- saved results and records
def _rewrite_npz(src, dst, change):
    import numpy as np

    with np.load(src, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    with open(dst, "wb") as fh:
        np.savez_compressed(fh, **arrays)


@pytest.mark.parametrize("edit", ["nan", "negated", "summary", "dropped"])
def test_load_result_refuses_edited_arrays(tmp_path, edit):
    import numpy as np

    res = flowsim.run(pulse_scenario(horizon=10))
    src = res.save(tmp_path / "run.npz")
    assert flowsim.load_result(src).states.tobytes() == res.states.tobytes()

    def change(arrays):
        if edit == "nan":
            arrays["states"] = arrays["states"].copy()
            arrays["states"][0, 0, 0, 3] = np.nan
        elif edit == "negated":
            arrays["economy"] = -arrays["economy"]
        elif edit == "summary":
            key = next(k for k in arrays if k.startswith("summary__"))
            arrays[key] = arrays[key] + 1
        else:
            del arrays["cumulative_arrivals"]

    _rewrite_npz(src, tmp_path / "edited.npz", change)
    with pytest.raises(flowsim.ResultFileError, match="edited.npz: .*(does not match its SHA-256 hash|not a flowsim "
                                                      "result file)"):
        flowsim.load_result(tmp_path / "edited.npz")


def test_load_result_refuses_edited_metadata_and_warns_on_format_1(tmp_path):
    import json

    import numpy as np

    src = flowsim.run(pulse_scenario(horizon=10)).save(tmp_path / "run.npz")

    def edit_meta(arrays, **changes):
        meta = json.loads(str(arrays["metadata"]))
        meta.update(changes)
        arrays["metadata"] = np.array(json.dumps(meta))

    _rewrite_npz(src, tmp_path / "meta.npz", lambda a: edit_meta(a, success=False))
    with pytest.raises(flowsim.ResultFileError, match="the metadata does not match its SHA-256 hash"):
        flowsim.load_result(tmp_path / "meta.npz")
    _rewrite_npz(src, tmp_path / "v1.npz", lambda a: edit_meta(a, format_version=1))
    with pytest.warns(flowsim.FlowsimWarning, match="result format 1.*edits to them cannot be detected"):
        flowsim.load_result(tmp_path / "v1.npz")


@pytest.fixture(scope="module")
def seed_resolved_json(tmp_path_factory) -> str:
    """resolved.json of ``flowsim run kazakhstan-2022`` (one run for the module; each test edits a copy)."""
    out = tmp_path_factory.mktemp("resolved") / "a"
    assert main(["run", SEED, "--no-figures", "--out", str(out)]) == 0
    return (out / "resolved.json").read_text()


@pytest.mark.parametrize("change,words", [
    (lambda d: d["solver"].update(speed=3), "key solver.speed: unknown key of `solver` 'speed'"),
    (lambda d: d.update(solver="fast"), "key solver: must be a table of solver options"),
    (lambda d: d.update(flowsim_version="9.0.0"), "written by flowsim 9.0.0, newer than this flowsim"),
    (lambda d: d.update(flowsim_version="soon"), "key flowsim_version: must be a version such as"),
    (lambda d: d["solver"].update(method="fast"), "key solver: solver option `method` must be one of"),
])
def test_edited_resolved_json_is_refused(tmp_path, capsys, seed_resolved_json, change, words):
    import json

    data = json.loads(seed_resolved_json)
    change(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["run", str(path), "--no-figures", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "edited.json" in err and words in err
    assert not (tmp_path / "b").exists()


def test_daily_counts_refuses_a_2d_array():
    import numpy as np

    with pytest.raises(flowsim.ScheduleError, match=r"must be a flat sequence, one number per day; got an array of "
                                                    r"shape \(2, 3\)"):
        flowsim.DailyCounts(counts=np.ones((2, 3)))
    with pytest.raises(flowsim.ScheduleError, match=r"shape \(\)"):
        flowsim.DailyCounts(counts=5.0)
    assert flowsim.DailyCounts(counts=np.ones(3)).counts == (1.0, 1.0, 1.0)
