"""``flowsim calibrate`` end to end: the fit, the fitted scenario read back, the posterior and its ensemble."""

import csv

import numpy as np
import pytest

import flowsim
from flowsim.cli import main

pytest.importorskip("emcee")


@pytest.fixture(scope="module")
def calibrated(kaz_obs_file, tmp_path_factory):
    """One fit of the pulse total to figures made by the model with 80% of the seed's pulse, a tiny chain and
    8 posterior members (the chain is far too short for inference; it checks the plumbing)."""
    path, total = kaz_obs_file
    out = tmp_path_factory.mktemp("cal") / "out"
    code = main(["calibrate", "kazakhstan-2022", "--observations", str(path), "--params", "pulse.total[KAZ]",
                 "--starts", "1", "--mcmc-steps", "12", "--walkers", "4", "--burn", "4", "--members", "8",
                 "--out", str(out)])
    assert code == 0
    return out, total


def test_calibrate_cli_writes_the_fit_and_a_runnable_scenario(calibrated, capsys):
    out, total = calibrated
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "estimates.csv", "residuals.csv", "calibrated.json", "fit.png", "crossings_KAZ.png", "posterior.csv",
        "posterior_summary.csv", "trace.png", "pairs.png", "quantiles.csv", "events.csv", "fan_N.png",
        "fan_residents.png", "fan_fiscal.png", "fan_net.png", "crossover_histogram_residents.png",
        "crossover_histogram_fiscal.png", ".flowsim-manifest.json"])
    est = list(csv.DictReader((out / "estimates.csv").open()))
    assert [e["name"] for e in est] == ["pulse.total[KAZ]"]
    assert float(est[0]["value"]) == pytest.approx(total, rel=1e-4)        # synthetic data: recovered exactly
    res = list(csv.DictReader((out / "residuals.csv").open()))
    assert len(res) == 6 and all(abs(float(r["relative_error"])) < 1e-4 for r in res)
    # the fitted scenario runs as it is, with the fitted total, over the seed's whole horizon
    sc = flowsim.load_scenario(str(out / "calibrated.json"))
    assert sc.horizon_days == flowsim.load_scenario("kazakhstan-2022").horizon_days
    assert sc.arrivals["KAZ"][0].total == float(est[0]["value"])
    for name in ("fit.png", "crossings_KAZ.png", "trace.png", "pairs.png", "fan_N.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibrate_cli_posterior_files_agree(calibrated):
    out, _ = calibrated
    rows = list(csv.DictReader((out / "posterior.csv").open()))
    assert len(rows) == (12 - 4) * 4                                        # kept steps x walkers
    assert [int(r["step"]) for r in rows[:5]] == [4, 4, 4, 4, 5] and [int(r["walker"]) for r in rows[:5]] == [
        0, 1, 2, 3, 0]
    summary = list(csv.DictReader((out / "posterior_summary.csv").open()))
    values = np.array([float(r["pulse.total[KAZ]"]) for r in rows])
    assert float(summary[0]["median"]) == pytest.approx(np.median(values), rel=1e-12)
    assert float(summary[0]["ci_low"]) <= float(summary[0]["median"]) <= float(summary[0]["ci_high"])
    events = list(csv.DictReader((out / "events.csv").open()))
    assert [(e["host"], e["balance"]) for e in events] == [(h, b) for h in flowsim.REFERENCE_HOSTS
                                                           for b in flowsim.BALANCES]
    assert all(e["members"] == "8" for e in events)
    q = list(csv.DictReader((out / "quantiles.csv").open()))
    assert all(float(r["q05"]) <= float(r["q50"]) <= float(r["q95"]) for r in q[:500])


def test_calibrate_cli_mcmc_moves_and_solver_reach_the_sampler(kaz_obs_file, tmp_path, capsys, monkeypatch):
    """--mcmc-moves and --mcmc-solver go to sample_posterior; the report names the moves."""
    from flowsim.calibration import calibration_result

    seen = []
    real = calibration_result.CalibrationResult.sample_posterior

    def spy(self, **options):
        seen.append(options)
        return real(self, **options)

    monkeypatch.setattr(calibration_result.CalibrationResult, "sample_posterior", spy)
    path, _ = kaz_obs_file
    out = tmp_path / "de"
    code = main(["calibrate", "kazakhstan-2022", "--observations", str(path), "--params", "pulse.total[KAZ]",
                 "--starts", "1", "--mcmc-steps", "6", "--walkers", "4", "--burn", "2", "--mcmc-moves", "de",
                 "--mcmc-solver", "ensemble", "--no-figures", "--out", str(out)])
    assert code == 0
    assert seen[0]["moves"] == "de" and seen[0]["solver"] == "ensemble" and seen[0]["n_steps"] == 6
    assert "moves de; seed 1" in capsys.readouterr().out
    assert len(list(csv.DictReader((out / "posterior.csv").open()))) == (6 - 2) * 4
    main(["calibrate", "kazakhstan-2022", "--observations", str(path), "--params", "pulse.total[KAZ]",
          "--starts", "1", "--mcmc-steps", "6", "--walkers", "4", "--burn", "2", "--no-figures",
          "--out", str(tmp_path / "default")])
    assert seen[1]["moves"] == "stretch" and seen[1]["solver"] == "ivp"        # the defaults of sample_posterior


@pytest.mark.parametrize("args, message", [
    (["--members", "10"], "--members solves posterior draws: give --mcmc-steps too"),
    (["--vary-ranges"], "--vary-ranges applies to the posterior ensemble: give --members too"),
    (["--mcmc-steps", "-3"], "--mcmc-steps must be a whole number >= 0; got -3"),
    (["--params", "tau_t[KAZ]"], "Did you mean 'tau_T'"),
    (["--hosts", "KAX"], "--hosts: host 'KAX' is not in scenario"),
    (["--mcmc-steps", "10", "--walkers", "1", "--params", "pulse.total[KAZ]"], "n_walkers"),
])
def test_calibrate_cli_errors_write_nothing(kaz_obs_file, tmp_path, capsys, args, message):
    path, _ = kaz_obs_file
    out = tmp_path / "nothing"
    code = main(["calibrate", "kazakhstan-2022", "--observations", str(path), "--starts", "1", "--out", str(out),
                 *args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("flowsim: error:") and message in err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--mcmc-moves", "walk"], "argument --mcmc-moves: invalid choice: 'walk' (choose from 'stretch', 'de')"),
    (["--mcmc-solver", "stochastic"], "argument --mcmc-solver: invalid choice: 'stochastic' (choose from 'ivp', "
                                      "'ensemble')"),
])
def test_calibrate_cli_refuses_unknown_moves_and_solvers(tmp_path, capsys, args, message):
    out = tmp_path / "nothing"
    with pytest.raises(SystemExit) as exc:
        main(["calibrate", "kazakhstan-2022", "--mcmc-steps", "10", "--out", str(out), *args])
    assert exc.value.code == 2 and message in capsys.readouterr().err and not out.exists()


def test_calibrate_cli_offers_the_moves_sample_posterior_knows():
    from flowsim.calibration.posterior import MOVES
    from flowsim.cli import _calibrate

    assert _calibrate.MOVES == MOVES
