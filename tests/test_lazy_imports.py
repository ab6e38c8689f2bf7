"""``import flowsim`` and the CLI's help stay light: heavy dependencies load on first use (issue 13).

No wall time is asserted (timings belong to ``benchmarks/``): the tests check which modules get imported.
"""

import subprocess
import sys

import pytest

import flowsim
from flowsim.cli import COMMANDS

HEAVY = ("scipy", "matplotlib", "pandas", "flowsim.calibration", "flowsim.plotting", "flowsim.uncertainty")
#: Not even numpy (nor the flowsim modules, which all use it) for ``import flowsim`` and ``flowsim --help``:
#: every command module is imported to register its options, so one top-level import of the scenario layer
#: in any of them (as `flowsim init` had after a merge) costs every command 0.2 s.
HEAVY_FOR_HELP = HEAVY + ("numpy", "flowsim.scenario", "flowsim.model", "flowsim.solve", "flowsim._validation")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def _heavy(loaded: set[str], heavy: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in heavy))


@pytest.mark.parametrize("code, heavy", [
    ("import flowsim", HEAVY_FOR_HELP),
    ("from flowsim.cli import build_parser; build_parser()", HEAVY_FOR_HELP),
    ("import flowsim.cli._list as m; m.run(None)", HEAVY),
])
def test_no_heavy_imports(code, heavy):
    assert _heavy(_imported_after(code), heavy) == []


@pytest.mark.parametrize("module", COMMANDS)
def test_each_command_module_is_light(module):
    """``--help`` imports every command module: none may import numpy or the model at its top."""
    assert _heavy(_imported_after(f"import flowsim.cli.{module}"), HEAVY_FOR_HELP) == []


def test_public_names_resolve():
    for name in flowsim.__all__:
        assert getattr(flowsim, name) is not None
    assert set(flowsim.__all__) <= set(dir(flowsim))
    assert flowsim.run is __import__("flowsim.runner", fromlist=["run"]).run
    with pytest.raises(AttributeError, match="no attribute"):
        flowsim.not_a_name  # noqa: B018


def test_tableau_is_scipys():
    from scipy.integrate import RK45

    from flowsim.solve import stepper

    for name in "ABCEP":
        assert (getattr(stepper, name) == getattr(RK45, name)).all(), name


def test_sweep_samplers_match():
    from flowsim.cli._sweep import SAMPLERS
    from flowsim.scenario.sampling import SAMPLERS as sampling_samplers

    assert SAMPLERS == sampling_samplers
