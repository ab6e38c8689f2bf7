"""`flowsim sweep` and `flowsim sensitivity` end to end, and their clean failures."""

import csv
import subprocess
import sys

import numpy as np
import pytest

import flowsim
from flowsim.cli import main
from flowsim.cli._uncertainty_options import parse_vary_options


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "out"
    cmd = [sys.executable, "-m", "flowsim", "sweep", "kazakhstan-2022", "--n", "6", "--seed", "1",
           "--vary", "tau_S=60:240", "--vary", "f0[KAZ]=0.005:0.02", "--no-progress", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_sweep_writes_its_files(sweep):
    out, stdout = sweep
    pngs = ["fan_N.png", "fan_residents.png", "fan_fiscal.png", "fan_net.png", "crossover_histogram_residents.png",
            "crossover_histogram_fiscal.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(["quantiles.csv", "events.csv", "draws.csv", *pngs,
                                                           ".flowsim-manifest.json"])
    for png in pngs:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "residents: sust. x" in stdout and "fiscal: sust. x" in stdout and "6 members" in stdout


def test_sweep_quantiles_csv(sweep):
    out, _ = sweep
    with (out / "quantiles.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["date", "host", "variable", "q05", "q25", "q50", "q75", "q95"]
    sc = flowsim.load_scenario("kazakhstan-2022")
    assert len(rows) == 4 * len(sc.hosts) * (sc.horizon_days + 1)
    q = np.array([[float(r[c]) for c in ("q05", "q25", "q50", "q75", "q95")] for r in rows])
    assert np.all(np.diff(q, axis=1) >= 0)
    assert {r["variable"] for r in rows} == {"N", "residents", "fiscal", "net"}
    assert rows[0]["date"] == "2022-09-21"
    # the same seed in Python gives the same numbers
    ens = flowsim.ensemble(sc, 6, vary={"tau_S": (60, 240), "f0": {"KAZ": (0.005, 0.02)}}, seed=1, progress=False)
    kaz_n = [r for r in rows if r["host"] == "KAZ" and r["variable"] == "N"]
    np.testing.assert_array_equal([float(r["q50"]) for r in kaz_n], ens.quantiles("N", q=[0.5], host="KAZ")[0])


def test_sweep_events_and_draws_csv(sweep):
    out, _ = sweep
    with (out / "events.csv").open() as fh:
        events = list(csv.DictReader(fh))
    assert list(events[0]) == ["host", "balance", "members", "p_crossover", "p_sustained_crossover",
                               "median_crossover_date", "median_sustained_crossover_date", "p_negative_pv"]
    assert [(e["host"], e["balance"]) for e in events] == [(h, b) for h in flowsim.REFERENCE_HOSTS
                                                           for b in flowsim.BALANCES]
    for tkm in (e for e in events if e["host"] == "TKM"):
        assert tkm["p_crossover"] == tkm["p_sustained_crossover"] == "0.0"
        assert tkm["median_crossover_date"] == tkm["median_sustained_crossover_date"] == ""
    for e in events:
        assert 0 <= float(e["p_sustained_crossover"]) <= float(e["p_crossover"]) <= 1
        assert 0 <= float(e["p_negative_pv"]) <= 1
        assert e["members"] == "6"
    inflow = [e for e in events if e["balance"] == "inflow"]       # money brought in is never negative
    assert all(e["p_crossover"] == "0.0" and e["p_negative_pv"] == "0.0" for e in inflow)
    with (out / "draws.csv").open() as fh:
        draws = list(csv.DictReader(fh))
    assert len(draws) == 6 and "tau_S[KAZ]" in draws[0] and "f0[KAZ]" in draws[0]
    assert all(60 <= float(d["tau_S[GEO]"]) <= 240 for d in draws)


def test_stochastic_sweep(tmp_path):
    code = main(["sweep", "kazakhstan-2022", "--n", "2", "--seed", "3", "--vary", "tau_S[KAZ]=60:240",
                 "--stochastic", "--dt", "1", "--no-figures", "--no-progress", "--keep", "E", "fiscal",
                 "--out", str(tmp_path / "s")])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [".flowsim-manifest.json", "draws.csv", "events.csv",
                                                                  "quantiles.csv"]
    with (tmp_path / "s" / "quantiles.csv").open() as fh:
        assert {r["variable"] for r in csv.DictReader(fh)} == {"E", "fiscal"}          # --keep


def test_sensitivity_command(tmp_path, capsys):
    out = tmp_path / "sens"
    code = main(["sensitivity", "kazakhstan-2022", "--output", "pv_net_usd", "--host", "KAZ", "--n", "4",
                 "--seed", "1", "--vary", "c_S[KAZ]=20:40", "--vary", "tau_S[KAZ]=60:240", "--bootstrap", "0",
                 "--no-progress", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [".flowsim-manifest.json", "sobol.csv", "sobol.png", "tornado.png"]
    with (out / "sobol.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["parameter"] for r in rows} == {"c_S", "tau_S"} and rows[0]["host"] == "KAZ"
    assert float(rows[0]["total_order"]) >= float(rows[1]["total_order"])
    assert "first" in capsys.readouterr().out


def test_vary_options_parse():
    assert parse_vary_options(["f0=0.005:0.02", "tau_S[KAZ]=60:240", "tau_S[UZB]", "rho"]) == {
        "f0": (0.005, 0.02), "tau_S": {"KAZ": (60.0, 240.0), "UZB": None}, "rho": None}
    assert parse_vary_options(None) is None


@pytest.mark.parametrize("argv, words", [
    (["--vary", "tau_S=240:60"], ["low must be <= high", "(60, 240)"]),
    (["--vary", "tau_S=abc:60"], ["'abc' is not a number"]),
    (["--vary", "tau_S[KAX]=60:240"], ["Did you mean 'KAZ'"]),
    (["--vary", "tau-S=1:2"], ["is not a label", "NAME[HOST]"]),
    (["--n", "0"], ["n must be a whole number >= 1"]),
    (["--workers", "0"], ["--workers must be >= 1"]),
])
def test_sweep_refuses_bad_input_and_writes_nothing(tmp_path, capsys, argv, words):
    out = tmp_path / "never"
    code = main(["sweep", "kazakhstan-2022", "--no-progress", "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("flowsim: error:")
    for word in words:
        assert word in err
    assert not out.exists()


def test_help_lists_the_commands():
    proc = subprocess.run([sys.executable, "-m", "flowsim", "--help"], capture_output=True, text=True, timeout=60)
    assert "sweep" in proc.stdout and "sensitivity" in proc.stdout
