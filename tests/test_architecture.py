"""The import layers of docs/architecture.md hold: `lint-imports` with the contracts in pyproject.toml.

A module imports only from the layers below its own (imports inside
functions count), and no package has an import cycle among its modules. The
second test breaks a copy of the package both ways and checks that the
contracts catch it, so a contract that stopped checking would fail here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    # lint_imports puts its working directory first on sys.path: the flowsim checked is the one in `cwd`.
    return subprocess.run([sys.executable, "-c", LINT], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_import_contracts_hold():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 2 kept, 0 broken." in out.stdout


def test_contracts_catch_an_upward_import_and_a_cycle(tmp_path):
    shutil.copytree(ROOT / "flowsim", tmp_path / "flowsim", ignore=shutil.ignore_patterns("__pycache__", "data"))
    (tmp_path / "flowsim" / "data").mkdir()
    (tmp_path / "flowsim" / "data" / "__init__.py").write_text("")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    assert _lint(tmp_path).returncode == 0

    economy = tmp_path / "flowsim" / "model" / "economy.py"
    clean = economy.read_text()
    economy.write_text(clean + "\n\ndef _upward():\n    from ..runner import run\n\n    return run\n")
    out = _lint(tmp_path)
    assert out.returncode != 0
    assert "flowsim.model.economy -> flowsim.runner" in out.stdout, out.stdout

    economy.write_text(clean)
    specs = tmp_path / "flowsim" / "scenario" / "specs.py"
    specs.write_text(specs.read_text() + "\n\ndef _cycle():\n    from .parameter_set import ParameterSet\n\n"
                     "    return ParameterSet\n")
    out = _lint(tmp_path)
    assert out.returncode != 0
    assert "No cycles are allowed in flowsim.scenario." in out.stdout, out.stdout
    assert "Contracts: 1 kept, 1 broken." in out.stdout, out.stdout


@pytest.mark.parametrize("old, new", [("flowsim.analysis.economy", "flowsim.model.economy"),
                                      ("flowsim.analysis.summary", "flowsim.summary"),
                                      ("flowsim.uncertainty.result", "flowsim.uncertainty.ensemble_result")])
def test_moved_documented_modules_still_import_with_a_warning(old, new, monkeypatch):
    import importlib

    import flowsim

    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(flowsim.FlowsimDeprecationWarning, match=f"{old} moved to {new}"):
        shim = importlib.import_module(old)
    home = importlib.import_module(new)
    assert shim.__all__ == home.__all__
    assert all(getattr(shim, name) is getattr(home, name) for name in home.__all__)
