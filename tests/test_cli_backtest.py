"""``flowsim backtest`` end to end on a small file of observations, and its failures."""

import csv

import pytest

from flowsim.calibration.backtest import COVERAGE_COLUMNS, SCORE_COLUMNS
from flowsim.cli import main


def test_backtest_cli_writes_scores_coverage_and_figure(kaz_obs_file, tmp_path, capsys):
    path, _ = kaz_obs_file
    out = tmp_path / "bt"
    code = main(["backtest", "kazakhstan-2022", "--observations", str(path), "--until", "2022-09-30",
                 "--out", str(out), "--params", "pulse.total[KAZ]", "--starts", "1", "--method", "laplace",
                 "--members", "40"])
    assert code == 0, capsys.readouterr().err
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))      # the manifest is hidden
    assert written == ["backtest.png", "coverage.csv", "scores.csv"]
    scores = list(csv.DictReader((out / "scores.csv").open()))
    assert list(scores[0]) == list(SCORE_COLUMNS)
    assert len(scores) == 2                      # the figures ending after 30 September
    for r in scores:                             # the figures come from the model: covered
        assert r["in_90"] == "True" and float(r["crps"]) >= 0
    cov = list(csv.DictReader((out / "coverage.csv").open()))
    assert list(cov[0]) == list(COVERAGE_COLUMNS)
    assert {(r["host"], r["quantity"], r["kinds"]) for r in cov} >= {("all", "all", "all")}
    assert (out / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stdout = capsys.readouterr().out
    assert "flowsim backtest of scenario" in stdout and "wrote scores.csv, coverage.csv, backtest.png" in stdout


@pytest.mark.parametrize("args, message", [
    (["--until", "2022-09-01"], "no figure ends on or before 2022-09-01"),
    (["--until", "2022-12-31"], "no figure ends after"),
    (["--until", "2022-09-30", "--members", "1"], "--members"),
    (["--until", "2022-09-30", "--temperature", "hot"], "--temperature must be a number > 0"),
    (["--until", "2022-09-30", "--hosts", "KAX"], "--hosts: host 'KAX' is not in scenario"),
])
def test_backtest_cli_errors_write_nothing(kaz_obs_file, tmp_path, capsys, args, message):
    path, _ = kaz_obs_file
    out = tmp_path / "nothing"
    code = main(["backtest", "kazakhstan-2022", "--observations", str(path), "--out", str(out),
                 "--params", "pulse.total[KAZ]", "--method", "laplace", *args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("flowsim: error:") and message in err
    assert not out.exists()
