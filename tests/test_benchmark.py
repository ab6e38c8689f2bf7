"""The benchmark script runs (a smoke test with one member; the benchmark itself is not a test)."""

import importlib.util
from pathlib import Path


def test_benchmark_script_smoke(capsys):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_ensemble.py"
    spec = importlib.util.spec_from_file_location("bench_ensemble", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--sizes", "1", "--no-memory"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:2] == ["1", "loop,"]]
    assert len(rows) == 2 and "ensemble" in out and "max dev N" in out
    for row in rows:                                  # deviation from each loop, relative to the series' peak
        assert float(row[-2]) < 1e-4 and float(row[-1]) < 1e-4


def test_hosts_benchmark_smoke(capsys):
    """benchmarks/bench_hosts.py runs and prints one row per number of hosts (costs are not asserted)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_hosts.py"
    spec = importlib.util.spec_from_file_location("bench_hosts", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--hosts", "2", "3", "--n", "4"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["2", "3"] and rows[0][-1] == "1.00"


def test_posterior_benchmark_smoke(capsys):
    """benchmarks/bench_posterior.py runs and prints the batch, the one-by-one baseline and the parts."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_posterior.py"
    spec = importlib.util.spec_from_file_location("bench_posterior", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "ms" not in line and ("batch" in line or "part:" in line
                                                                        or "one by one" in line)]
    assert len(rows) == 5 and rows[1].split()[-1] == "1.00"
    assert "median of the walkers' log posterior" in out
