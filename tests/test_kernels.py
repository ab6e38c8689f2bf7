"""The ensemble solver's kernels (issue 13): numba and numpy agree; selection and its errors.

The comparison tests skip when numba is absent (the default install); the
``test`` extra installs it, so they run in CI. Kept small: a 60-day horizon and
a few members, so the compiled kernels (cached on disk by numba) cost seconds.
"""

import numpy as np
import pytest

import flowsim
from flowsim.exceptions import SolverError
from flowsim.solve import kernels
from flowsim.solve.ensemble import EnsembleSolver

needs_numba = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed (flowsim[fast])")
TOLERANCE = 1e-9        # of each series' peak (per member and host, at least one person)


def _deviation(a, b) -> float:
    peak = np.maximum(np.abs(a).max(axis=-1, keepdims=True), 1.0)
    return float((np.abs(a - b) / peak).max())


def _both(scenario, n, **kw):
    out = {}
    for kernel in ("numpy", "numba"):
        res = flowsim.ensemble(scenario.replace(), n, progress=False, solver_options={"kernel": kernel}, **kw)
        assert res.stats["options"]["kernel"] == kernel
        out[kernel] = res
    return out["numpy"], out["numba"]


@needs_numba
@pytest.mark.parametrize("name", ["kazakhstan-2022", "border-closure"])
def test_numba_and_numpy_ensembles_agree(name):
    """Every kept series, k varied (members with fewer stages), closures and diversion in border-closure."""
    sc = flowsim.load_scenario(name).replace(horizon_days=90)
    a, b = _both(sc, 5, seed=2, keep=("N", "residents", "fiscal", "net", "T", "E"))
    for series in a.series:
        assert _deviation(a.series[series], b.series[series]) <= TOLERANCE, series
    assert a.series["N"].max() > 1000                       # not a trivially empty comparison


@needs_numba
def test_numba_and_numpy_full_states_agree():
    """``solver="ensemble"`` (every compartment, counters included) through run_batch."""
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=60)
    runs = [flowsim.run(sc, solver="ensemble", kernel=k) for k in ("numpy", "numba")]
    assert [r.stats["kernel"] for r in runs] == ["numpy", "numba"]
    x, y = (r.states for r in runs)
    assert x.shape == y.shape and x.shape[-2] == len(runs[0].layout.names)
    assert _deviation(x, y) <= TOLERANCE


def test_numpy_kernel_is_the_numpy_code(monkeypatch):
    """Forced numpy: no numba stepper is made, even when numba imports."""
    monkeypatch.setenv(kernels.ENV_VAR, "numpy")
    assert EnsembleSolver().kernel == "numpy"
    made = []
    real = kernels.NumbaStepper
    monkeypatch.setattr(kernels, "NumbaStepper", lambda *a: made.append(a) or real(*a))
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=20)
    flowsim.ensemble(sc, 2, seed=1, progress=False)
    assert not made


def test_kernel_selection_and_errors(monkeypatch):
    monkeypatch.delenv(kernels.ENV_VAR, raising=False)
    expected = "numba" if kernels.numba_available() else "numpy"
    assert kernels.resolve_kernel() == expected == EnsembleSolver().kernel
    assert EnsembleSolver(kernel="numpy").options()["kernel"] == "numpy"
    with pytest.raises(SolverError, match=r"solver option `kernel` must be one of auto, numpy, numba; got 'fortran'"):
        EnsembleSolver(kernel="fortran")
    monkeypatch.setenv(kernels.ENV_VAR, "cuda")
    with pytest.raises(SolverError, match="environment variable FLOWSIM_KERNEL must be one of"):
        EnsembleSolver()
    monkeypatch.setattr(kernels, "_numba", False)            # as if numba did not import
    monkeypatch.setenv(kernels.ENV_VAR, "auto")
    assert EnsembleSolver().kernel == "numpy"
    with pytest.raises(SolverError, match=r"numba does not import. Fix: pip install numba"):
        EnsembleSolver(kernel="numba")
