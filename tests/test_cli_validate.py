"""``flowsim validate`` end to end on a small file of observations, and its failures."""

import csv
import dataclasses
import datetime as dt

import pytest

import flowsim
from flowsim import BackgroundTraffic, Observation, ObservationModel
from flowsim.cli import main

HEADER = "host,quantity,date_start,date_end,value,qualifier,note\n"


@pytest.fixture(scope="module")
def obs_file(tmp_path_factory):
    """Kazakhstan figures computed from the seed scenario itself, with its pulse total scaled by 0.8."""
    sc = flowsim.load_scenario("kazakhstan-2022")
    pulse = sc.arrivals["KAZ"][0]
    truth = sc.replace(horizon_days=20,
                       arrivals={**sc.arrivals, "KAZ": dataclasses.replace(pulse, total=0.8 * pulse.total)})
    d = [dt.date(2022, 9, 21) + dt.timedelta(days=i) for i in range(20)]
    obs = [Observation(host="KAZ", quantity="cumulative_entries", date_start=d[0], date_end=d[i], value=1.0)
           for i in (3, 6, 9, 12)]
    obs.append(Observation(host="KAZ", quantity="daily_exits", date_start=d[15], date_end=d[15], value=1.0))
    obs.append(Observation(host="KAZ", quantity="baseline_daily_entries", date_start=dt.date(2022, 9, 1),
                           date_end=dt.date(2022, 9, 20), value=1.0))
    bg = BackgroundTraffic(entries={"KAZ": 8500.0})
    values = ObservationModel.build(obs, bg).predict(flowsim.run(truth))
    path = tmp_path_factory.mktemp("obs") / "kaz.csv"
    path.write_text(HEADER + "".join(f"{o.host},{o.quantity},{o.date_start},{o.date_end},{v!r},,\n"
                                     for o, v in zip(obs, values.tolist())), encoding="utf-8")
    return path, 0.8 * pulse.total


def test_validate_cli_writes_table_estimates_and_figure(obs_file, tmp_path, capsys):
    path, total = obs_file
    out = tmp_path / "val"
    code = main(["validate", "kazakhstan-2022", "--observations", str(path), "--until", "2022-09-30",
                 "--out", str(out), "--params", "pulse.total[KAZ]", "--starts", "1"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["estimates.csv", "validation.csv", "validation.png"]
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
    (["--until", "2022-09-30", "--hosts", "KAX"], "unknown host"),
])
def test_validate_cli_errors_write_nothing(obs_file, tmp_path, capsys, args, message):
    path, _ = obs_file
    out = tmp_path / "nothing"
    code = main(["validate", "kazakhstan-2022", "--observations", str(path), "--out", str(out), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("flowsim: error:") and message in err
    assert not out.exists()


def test_validate_cli_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "KAZ,cumulative_entries,2022-09-21,2022-09-27,lots,,\n", encoding="utf-8")
    code = main(["validate", "kazakhstan-2022", "--observations", str(bad), "--until", "2022-09-30",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert f"{bad}, line 2: column value must be a number" in capsys.readouterr().err
