"""``import flowsim`` and the CLI's help stay light: heavy dependencies load on first use (issue 13).

No wall time is asserted (timings belong to ``benchmarks/``): the tests check which modules get imported.
"""

import subprocess
import sys

import pytest

import flowsim

HEAVY = ("scipy", "matplotlib", "pandas", "flowsim.calibration", "flowsim.plotting", "flowsim.uncertainty")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("code", [
    "import flowsim",
    "from flowsim.cli import build_parser; build_parser()",
    "import flowsim.cli._list as m; m.run(None)",
])
def test_no_heavy_imports(code):
    loaded = _imported_after(code)
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY]


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
