"""One name per module (docs/architecture.md, "Names"): no two modules of flowsim share a file name.

Three kinds of sharing are allowed, each for the same role: ``__init__.py``;
a figure module ``plotting/<name>.py`` draws the figures of the module
``<name>`` (``plotting/backtest.py`` for ``calibration/backtest.py``); a
deprecated shim (``from <home> import *`` plus a ``FlowsimDeprecationWarning``)
keeps an old, documented import path of the module it re-exports.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "flowsim"


def _is_shim(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return "import *  # noqa: F403" in text and "FlowsimDeprecationWarning" in text


def clashes(package: Path) -> dict[str, list[str]]:
    """File names that two or more non-exempt modules under `package` share, with their paths."""
    seen = defaultdict(list)
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if path.name == "__init__.py" or rel.parts[0] == "plotting" or _is_shim(path):
            continue
        seen[path.name].append(rel.as_posix())
    return {name: paths for name, paths in seen.items() if len(paths) > 1}


def test_no_two_modules_share_a_name():
    assert clashes(PACKAGE) == {}


def test_a_second_module_of_the_same_name_is_caught(tmp_path):
    for rel in ("runner.py", "uncertainty/runner.py", "plotting/runner.py", "analysis/runner.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text('"""A module."""\n')
    (tmp_path / "analysis/runner.py").write_text(
        "import warnings\nfrom ..exceptions import FlowsimDeprecationWarning\n"
        "from ..runner import *  # noqa: F403\n")
    assert clashes(tmp_path) == {"runner.py": ["runner.py", "uncertainty/runner.py"]}
