"""``flowsim validate`` end to end on a small file of observations, and its failures."""

import csv

import pytest
from conftest import OBS_HEADER

import flowsim
from flowsim.cli import main


def test_validate_cli_writes_table_estimates_and_figure(kaz_obs_file, tmp_path, capsys):
    path, total = kaz_obs_file
    out = tmp_path / "val"
    code = main(["validate", "kazakhstan-2022", "--observations", str(path), "--until", "2022-09-30",
                 "--out", str(out), "--params", "pulse.total[KAZ]", "--starts", "1"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [".flowsim-manifest.json", "estimates.csv", "validation.csv",
                                                     "validation.png"]
    rows = list(csv.DictReader((out / "validation.csv").open()))
    assert list(rows[0]) == list(flowsim.calibration.VALIDATION_COLUMNS)
    assert [r["in_sample"] for r in rows] == ["True", "True", "True", "False", "False", "True"]
    # the data come from the model with 80% of the pulse: fitted exactly, predicted exactly
    est = list(csv.DictReader((out / "estimates.csv").open()))
    assert est[0]["name"] == "pulse.total[KAZ]"
    assert float(est[0]["value"]) == pytest.approx(total, rel=1e-4)
    for r in rows:
        assert abs(float(r["relative_error"])) < 1e-4
    assert (out / "validation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stdout = capsys.readouterr().out
    assert "out of sample" in stdout and "pulse.total[KAZ]" in stdout


@pytest.mark.parametrize("args, message", [
    (["--until", "2022-09-01"], "no observation ends on or before 2022-09-01"),
    (["--until", "30.09.2022"], "until must be a date"),
    (["--until", "2022-09-30", "--params", "tau_t[KAZ]"], "Did you mean 'tau_T'"),
    (["--until", "2022-09-30", "--hosts", "KAX"], "--hosts: host 'KAX' is not in scenario"),
])
def test_validate_cli_errors_write_nothing(kaz_obs_file, tmp_path, capsys, args, message):
    path, _ = kaz_obs_file
    out = tmp_path / "nothing"
    code = main(["validate", "kazakhstan-2022", "--observations", str(path), "--out", str(out), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("flowsim: error:") and message in err
    assert not out.exists()


def test_validate_cli_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(OBS_HEADER + "KAZ,cumulative_entries,2022-09-21,2022-09-27,lots,,\n", encoding="utf-8")
    code = main(["validate", "kazakhstan-2022", "--observations", str(bad), "--until", "2022-09-30",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert f"{bad}, line 2: column value must be a number" in capsys.readouterr().err
