"""The command line end to end: outputs, their contents, and clean failures."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import flowsim
from flowsim.cli import main


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "seed"
    proc = subprocess.run([sys.executable, "-m", "flowsim", "run", "kazakhstan-2022", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_outputs_written(seed_run):
    out, stdout = seed_run
    names = sorted(p.name for p in out.iterdir())
    pngs = ["accounts.png", "boost_burden.png", "boost_burden_first_120_days.png", "population.png",
            "population_first_120_days.png"]
    assert names == sorted(pngs + ["resolved.json", "summary.csv", "timeseries.csv", ".flowsim-manifest.json"])
    assert "resid. PV" in stdout and "fiscal PV" in stdout and "net(v1) PV" in stdout and "KAZ" in stdout
    for png in pngs:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_csv(seed_run, seed_result):
    from flowsim.summary import SUMMARY_COLUMNS

    out, _ = seed_run
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [(r["host"], r["balance"]) for r in rows] == [(h, b) for h in flowsim.REFERENCE_HOSTS
                                                         for b in flowsim.BALANCES]
    required = ["host", "balance", "status", "peak_present", "peak_usd_per_day", "peak_date", "crossover_date",
                "sustained_crossover_date", "breakeven_date", "cumulative_usd", "pv_usd",
                "short_term_usd_per_day", "long_term_usd_per_day", "fade_ratio"]
    assert list(rows[0]) == required == list(SUMMARY_COLUMNS)
    table = seed_result.summary("all")
    for r in rows:
        expect = table[r["host"], r["balance"]]
        assert r["status"] == expect["status"]
        assert float(r["pv_usd"]) == pytest.approx(expect["pv_usd"], abs=0.5)       # rounded to the whole USD
        for col in ("crossover_date", "sustained_crossover_date"):
            assert r[col] == (expect[col].isoformat() if expect[col] else "")
    assert table["KAZ", "residents"]["sustained_crossover_date"] is not None      # the column is not always empty
    for r in rows:
        if r["host"] == "TKM":
            assert r["status"] == "zero"
            assert r["crossover_date"] == r["sustained_crossover_date"] == r["breakeven_date"] == r["peak_date"] == ""


def test_outputs_readable_by_others(seed_run):
    out, _ = seed_run
    mask = os.umask(0)
    os.umask(mask)
    for path in [out, *out.iterdir()]:
        mode = path.stat().st_mode & 0o777
        want = (0o777 if path.is_dir() else 0o666) & ~mask
        assert mode == want, (path.name, oct(mode))


def test_timeseries_csv(seed_run, seed_result):
    out, _ = seed_run
    with (out / "timeseries.csv").open() as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["date", "host", "variable", "value"]
        rows = list(reader)
    variables = {r[2] for r in rows}
    assert {"T", "S", "S1", "S2", "S3", "R", "E", "U", "Ret", "Out", "In", "N", "boost", "burden", "net"} <= variables
    n_days = seed_result.dates.size
    assert len(rows) == len(seed_result.hosts) * len(variables) * n_days
    kaz_n = [float(r[3]) for r in rows if r[1] == "KAZ" and r[2] == "N"]
    np.testing.assert_array_equal(kaz_n, seed_result.series("N", "KAZ"))
    assert rows[0][0] == "2022-09-21"


def test_resolved_json(seed_run, seed_result):
    out, _ = seed_run
    data = json.loads((out / "resolved.json").read_text())
    assert data["start"] == "2022-09-21" and data["horizon_days"] == 1826
    assert data["k"] == 3 or isinstance(data["k"], int)
    assert isinstance(data["r"], float)
    assert set(data["tau_T"]) == set(flowsim.REFERENCE_HOSTS)
    for h, row in data["P"].items():
        assert "W" in row and h not in row
        assert sum(row.values()) == pytest.approx(1.0)
    kaz = data["arrivals"]["KAZ"]
    assert len(kaz) == 1826
    assert sum(kaz[:7]) == pytest.approx(1e5, rel=0.05)
    assert sum(data["arrivals"]["TKM"]) == 0.0
    total = sum(sum(v) for v in data["arrivals"].values())
    assert total == pytest.approx(seed_result.cumulative_arrivals[-1].sum(), rel=1e-12)


def test_unknown_scenario_exits_nonzero_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "nope"
    assert main(["run", "kazakstan-2022", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("flowsim: error: unknown scenario 'kazakstan-2022'")
    assert not out.exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc (unwritable even for root)")
def test_unwritable_folder(capsys):
    target = "/proc/flowsim-test/out"
    assert main(["run", "kazakhstan-2022", "--out", target]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("flowsim: error: output folder /proc/flowsim-test/out")
    assert not os.path.exists(target)


def test_output_path_that_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", "kazakhstan-2022", "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write there" in err[0]
    assert blocker.read_text() == "x"


def test_failure_mid_run_leaves_no_partial_output(tmp_path, monkeypatch, capsys):
    """If writing fails after some files are staged, the target folder is not created."""
    import flowsim.io as fio

    def boom(result, member=0):
        raise flowsim.OutputError("disk full (simulated)")

    monkeypatch.setattr(fio, "resolved_json_text", boom)
    out = tmp_path / "partial"
    assert main(["run", "kazakhstan-2022", "--out", str(out), "--no-figures"]) == 2
    assert not out.exists()
    assert not any(p.name.startswith(".flowsim-stage") for p in tmp_path.iterdir())


def test_existing_folder_gets_files_replaced(tmp_path):
    out = tmp_path / "exists"
    out.mkdir()
    (out / "summary.csv").write_text("old")
    (out / "keep.txt").write_text("mine")
    assert main(["run", "kazakhstan-2022", "--out", str(out), "--no-figures"]) == 0
    assert (out / "summary.csv").read_text().startswith("host,")
    assert (out / "keep.txt").read_text() == "mine"
    assert not any(p.name.startswith(".flowsim-stage") for p in out.iterdir())


def test_list(capsys):
    assert main(["list"]) == 0
    assert "kazakhstan-2022" in capsys.readouterr().out
