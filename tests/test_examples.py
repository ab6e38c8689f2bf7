"""The example scripts run end to end and write what they promise."""

import ast
import runpy
import sys
from pathlib import Path

import matplotlib
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_kazakhstan_2022_example(tmp_path, monkeypatch, capsys):
    matplotlib.use("Agg")
    monkeypatch.setattr(sys, "argv", ["kazakhstan_2022.py", str(tmp_path / "out")])
    runpy.run_path(str(EXAMPLES / "kazakhstan_2022.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "KAZ" in out and "resid. PV" in out                      # the accounts overview
    import flowsim

    for balance in flowsim.BALANCES:
        assert f"KAZ {balance} " in out
    assert "present value of the residents' balance" in out and "present value of the public budget" in out
    pngs = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert pngs == ["accounts.png", "boost_burden.png", "population.png"]
    for p in (tmp_path / "out").glob("*.png"):
        assert p.stat().st_size > 10_000


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_every_example_is_covered(path):
    """Some test of this module runs the example: a ``runpy.run_path(str(EXAMPLES / "NAME.py"), ...)`` call in
    its code (read from the syntax tree, so a comment or a string naming the example does not count)."""
    run = set()
    for node in ast.walk(ast.parse(Path(__file__).read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "run_path"
                and node.args):
            run.update(c.value for c in ast.walk(node.args[0])
                       if isinstance(c, ast.Constant) and isinstance(c.value, str))
    assert path.name in run, f"examples/{path.name} has no test that runs it"


def test_your_own_event_example(tmp_path, monkeypatch, capsys):
    """examples/your_own_event.py: files -> scenario -> accounts -> calibration that finds the synthetic truth."""
    matplotlib.use("Agg")
    monkeypatch.setattr(sys, "argv", ["your_own_event.py", str(tmp_path / "out")])
    runpy.run_path(str(EXAMPLES / "your_own_event.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "ALP" in out and "BRV" in out and "resid. PV" in out
    for name in ("tau_T[ALP]", "q_ret[ALP]", "g_pub[BRV]"):
        line = next(x for x in out.splitlines() if x.startswith(f"{name}: true"))
        true, fitted = float(line.split("true ")[1].split(",")[0]), float(line.split("fitted ")[1].split(" ")[0])
        assert abs(fitted - true) <= 1e-3 * true and "identified by the figures" in line
    assert sorted(p.name for p in (tmp_path / "out" / "inputs").glob("*.csv")) == ["arrivals.csv", "hosts.csv",
                                                                                   "onward.csv"]
    assert (tmp_path / "out" / "accounts.png").stat().st_size > 10_000
