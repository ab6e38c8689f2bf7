"""Issue 12, "tracebacks": bad input from the CLI is one line and exit 2; from Python a FlowsimError or a
TypeError written for a person."""

import subprocess
import sys
import time

import pytest

import flowsim
from flowsim.cli import main


@pytest.mark.parametrize("argv,words", [
    (["sweep", "kazakhstan-2022", "--n", "4", "--seed", "-1"], "seed must be a whole number >= 0"),
    (["sweep", "kazakhstan-2022", "--n", "4", "--chunk-size", "0"], "chunk_size must be a whole number >= 1; got 0"),
    (["sweep", "kazakhstan-2022", "--n", "100000000"], "needs about"),
    (["sensitivity", "kazakhstan-2022", "--n", "8", "--seed", "-3"], "seed must be a whole number >= 0"),
    (["sensitivity", "kazakhstan-2022", "--n", "8", "--bootstrap", "-1"], "bootstrap (resamples; 0 for none) must be"),
    (["validate", "kazakhstan-2022", "--until", "2022-10-15", "--params", "tau_T[KAZ]", "--seed", "-1"],
     "seed must be a whole number >= 0"),
    (["calibrate", "kazakhstan-2022", "--params", "tau_T[KAZ]", "--seed", "-1"], "seed must be a whole number >= 0"),
])
def test_cli_bad_numbers_are_one_line_exit_2(tmp_path, capsys, argv, words):
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert err.count("\n") == 1 and err.startswith("flowsim: error:")
    assert not out.exists()


def test_calibrate_negative_mcmc_seed(tmp_path, capsys, monkeypatch):
    """Refused before the fit runs (the fit would cost seconds to minutes first)."""
    pytest.importorskip("emcee")
    import flowsim.calibration

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran before the seed was checked")

    monkeypatch.setattr(flowsim.calibration, "calibrate", no_fit)
    out = tmp_path / "out"
    code = main(["calibrate", "kazakhstan-2022", "--params", "tau_T[KAZ]", "--mcmc-steps", "4", "--walkers", "4",
                 "--mcmc-seed", "-1", "--no-figures", "--out", str(out)])
    assert code == 2
    assert "seed must be a whole number >= 0" in capsys.readouterr().err
    assert not out.exists()


def test_unreachable_dask_scheduler_is_reported_within_seconds(tmp_path, capsys, monkeypatch):
    """The connection gives up after DASK_TIMEOUT (5 s for users; 1 s here, the suite's time) and says so."""
    pytest.importorskip("distributed")
    import flowsim.cli._uncertainty_options as options

    monkeypatch.setattr(options, "DASK_TIMEOUT", 1)
    t0 = time.perf_counter()
    assert main(["sweep", "kazakhstan-2022", "--n", "4", "--dask", "tcp://127.0.0.1:1", "--out",
                 str(tmp_path / "o")]) == 2
    assert time.perf_counter() - t0 < 15
    assert "cannot reach a dask scheduler there within 1 s" in capsys.readouterr().err


def test_memory_error_is_one_line(tmp_path, capsys, monkeypatch):
    import flowsim.runner as runner  # `flowsim run` imports runner.run when it runs

    def boom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(runner, "run", boom)
    assert main(["run", "kazakhstan-2022", "--out", str(tmp_path / "o")]) == 2
    assert "out of memory" in capsys.readouterr().err


def test_schedule_type_that_is_a_table(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('name = "t"\nbase = "kazakhstan-2022"\n[[extra_arrivals.KAZ]]\ntype = { a = 1 }\ntotal = 5\n')
    assert main(["run", str(f), "--out", str(tmp_path / "o")]) == 2
    assert "key extra_arrivals.KAZ[0].type: an arrival schedule needs `type`" in capsys.readouterr().err
    with pytest.raises(flowsim.ScheduleError, match="arrival schedule type must be one of"):
        flowsim.scenario.schedules.schedule_from_dict({"type": {"a": 1}})


@pytest.fixture(scope="module")
def seed():
    return flowsim.load_scenario("kazakhstan-2022")


def test_python_api_errors_are_written_for_a_person(seed):
    with pytest.raises(flowsim.ScenarioError, match=r"unknown field 'bogus'; allowed: params, start"):
        seed.replace(bogus=1)
    with pytest.raises(flowsim.ScenarioError, match=r"Did you mean 'horizon_days'"):
        seed.replace(horizon=30)
    with pytest.raises(TypeError, match=r"Load it first: flowsim.run\(flowsim.load_scenario\('kazakhstan-2022'\)\)"):
        flowsim.run("kazakhstan-2022")
    with pytest.raises(TypeError, match=r"`scenario` must be a flowsim.Scenario; got NoneType"):
        flowsim.run(None)
    with pytest.raises(flowsim.FlowsimError, match=r"run_batch: `params` is empty"):
        flowsim.run_batch(seed, [])
    with pytest.raises(TypeError, match=r"params\[0\] must be a ParameterSet"):
        flowsim.run_batch(seed, [{"tau_S": 3}])
    with pytest.raises(flowsim.FlowsimError, match=r"ensemble: seed must be a whole number >= 0"):
        flowsim.ensemble(seed, 4, seed=-1)


def test_huge_run_is_refused_up_front_with_figures(seed):
    from flowsim._memory import check_memory

    with pytest.raises(flowsim.FlowsimError, match=r"needs about 2.0 GiB of memory; this machine has 1.0 GiB"):
        check_memory(2 * 1024 ** 3, "a run", "fewer members", available=1024 ** 3)
    check_memory(1024, "a run", "fewer members", available=1024 ** 3)


def test_console_script_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "flowsim", "sweep", "kazakhstan-2022", "--n", "3", "--seed", "-1",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_derived_scenarios_get_a_derived_name(seed):
    assert seed.with_params(tau_S=90, f0=0.02).name == "kazakhstan-2022 (tau_S, f0)"
    assert seed.with_params(tau_S=90, name="slow runway").name == "slow runway"
    assert seed.with_params().name == "kazakhstan-2022"


def test_a_missing_optional_dependency_says_what_needs_it_and_how_to_install_it():
    from flowsim._optional import require

    with pytest.raises(ImportError) as info:
        require("flowsim_no_such_module", "thing() needs", extra="extra", package="no-such-pkg", version=">= 2")
    assert str(info.value) == ("thing() needs no-such-pkg (>= 2); install it with `pip install no-such-pkg` (or "
                               "`pip install '.[extra]'` in the flowsim source folder).")
    assert require("math", "x needs", extra="e").sqrt(4.0) == 2.0
