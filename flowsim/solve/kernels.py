"""Which kernel runs the ensemble solver's per-step work: numpy (always there) or numba (optional).

The ensemble solver (:mod:`flowsim.solve.ensemble`) spends its time in the
Dormand-Prince stages of every member, the error test, and the dense output to
the daily series. Two kernels do that work:

``"numpy"``
    The arrays of :class:`~flowsim.model.rhs.FlowRHS` and
    :class:`~flowsim.solve.stepper.Stepper`: about 35 numpy calls per
    right-hand side, so a step costs a fixed ~0.3 ms of call overhead
    whatever the batch's size, plus the elementwise work.
``"numba"``
    The same arithmetic compiled with numba (:mod:`flowsim.solve._numba_kernels`):
    one call for a whole march (:mod:`flowsim.solve.fused`: the step loop,
    the arrival schedules, the error and drain tests and the dense output),
    or, for schedules or sinks it cannot pack, one call per step and one per
    step's output days. Needs the optional extra ``pip install numba``
    (``numba>=0.60``). Compiled code is cached on disk (numba's
    ``cache=True``): the first use on a machine compiles for 20-60 s; later
    processes load it in well under a second.

The kernels agree to rounding: sums are taken in another order, so results
differ by about 1e-12 of each series' peak (``tests/test_kernels.py`` asks
for 1e-9). Both are elementwise per member, so with either kernel a member's
numbers do not depend on its chunk.

Selection: the solver option ``kernel`` (``EnsembleSolver(kernel=...)``,
``flowsim.ensemble(..., solver_options={"kernel": ...})``), else the
environment variable ``FLOWSIM_KERNEL``, else ``"auto"``: numba when it
imports, numpy otherwise.
"""

from __future__ import annotations

import os

import numpy as np

from ..exceptions import SolverError
from .stepper import A, B, C, E, P, Stepper

__all__ = ["KERNELS", "ENV_VAR", "requested_kernel", "resolve_kernel", "numba_available", "make_stepper",
           "NumbaStepper"]

KERNELS = ("auto", "numpy", "numba")
ENV_VAR = "FLOWSIM_KERNEL"
_numba = None          # the compiled module, once imported; False when numba does not import


def _kernels():
    """The compiled kernels' module, or None when numba cannot be imported."""
    global _numba
    if _numba is None:
        try:
            from . import _numba_kernels
        except ImportError:
            _numba = False
        else:
            _numba = _numba_kernels
    return _numba or None


def numba_available() -> bool:
    """Whether the numba kernel can be used (numba imports)."""
    return _kernels() is not None


def requested_kernel(kernel: str | None, where: str, error=SolverError) -> tuple[str, str]:
    """The kernel asked for, ``"auto"``, ``"numpy"`` or ``"numba"``, and where it was asked (for messages).

    The one reader of the choice for the solver and the summary figures alike: ``kernel``
    when given (``where`` names the option), else the environment variable ``FLOWSIM_KERNEL``
    (default ``"auto"``). An unknown name raises ``error`` naming where it came from.
    """
    if kernel is None:
        kernel, where = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto", f"environment variable {ENV_VAR}"
    if kernel not in KERNELS:
        raise error(f"{where} must be one of {', '.join(KERNELS)}; got {kernel!r}.")
    return kernel, where


def resolve_kernel(kernel: str | None = None) -> str:
    """The kernel to use: ``"numpy"`` or ``"numba"``.

    Parameters
    ----------
    kernel : {"auto", "numpy", "numba"} or None
        None reads the environment variable ``FLOWSIM_KERNEL`` (default
        ``"auto"``); ``"auto"`` is numba when it imports, numpy otherwise.

    Raises
    ------
    SolverError
        An unknown name, or ``"numba"`` asked for when numba does not import.
    """
    kernel, where = requested_kernel(kernel, "solver option `kernel`", SolverError)
    if kernel == "numpy":
        return "numpy"
    if numba_available():
        return "numba"
    if kernel == "numba":
        raise SolverError(f"{where} asks for the numba kernel, but numba does not import. Fix: "
                          "pip install numba (>= 0.60), or use kernel='numpy'.")
    return "numpy"


def make_stepper(kernel: str, rhs, shape, n_read: int, rtol: float, atol: float) -> Stepper:
    """A :class:`~flowsim.solve.stepper.Stepper` for the resolved ``kernel``."""
    if kernel == "numba":
        return NumbaStepper(rhs, shape, n_read, rtol, atol)
    return Stepper(rhs, shape, n_read, rtol, atol)


def pack_rates(rhs, names) -> np.ndarray:
    """The rates of the right-hand side's current regime as one ``(len(names), H, M)`` block (1/day)."""
    H, M = rhs.n_hosts, rhs.n_members
    return np.ascontiguousarray(np.stack([np.broadcast_to(getattr(rhs, n), (H, M)) for n in names]), dtype=float)


def pack_onward(rhs) -> tuple[np.ndarray, np.ndarray]:
    """The onward shares of the current closure state: ``P3`` (H_to, H_from, 1 or M) and ``Pw`` (H, 1 or M)."""
    if rhs._shared_P:
        P3 = np.ascontiguousarray(rhs.P_in[:, :, None], dtype=float)         # (H_to, H_from, 1)
    else:
        P3 = np.ascontiguousarray(rhs.P_in.transpose(1, 0, 2), dtype=float)  # (H_to, H_from, M)
    return P3, np.ascontiguousarray(rhs.P_world, dtype=float)


def pack_entry(rhs) -> np.ndarray:
    """Each member's first savings stage (k, M), or shape (0, 0) when every member has all ``k``."""
    return np.zeros((0, 0)) if rhs.entry is None else np.ascontiguousarray(rhs.entry[:, 0, :], dtype=float)


class NumbaStepper(Stepper):
    """:class:`~flowsim.solve.stepper.Stepper` whose right-hand side and step run in the compiled kernel.

    The rates of the right-hand side are packed into one ``(NPAR, H, M)``
    block whenever the :class:`~flowsim.model.rhs.FlowRHS` takes a new
    parameter regime or closure state (each segment); the arrival rates of a
    step's six stage times are evaluated in Python (they are schedules, not
    arrays) and handed over together.
    """

    def __init__(self, rhs, shape, n_read: int, rtol: float, atol: float):
        super().__init__(rhs, shape, n_read, rtol, atol)
        self.nb = _kernels()
        if self.nb is None:
            raise SolverError("the numba kernel needs numba: pip install numba.")
        _, H, M = shape
        self.k = rhs.layout.k
        self.out_T = np.empty((H + 5, M))
        self.ratio = np.empty(M)
        self.arrs = None
        self._source = None

    def _sync(self) -> None:
        """Re-pack the rates when the right-hand side has new ones (compared by identity)."""
        rhs = self.rhs
        source = (rhs.s, rhs.P_in, rhs.P_world, rhs.g, rhs.f0, rhs.q_out)
        if self._source is not None and all(a is b for a, b in zip(source, self._source)):
            return
        self._source = source
        self.par = pack_rates(rhs, self.nb.PAR_NAMES)
        self.P3, self.Pw = pack_onward(rhs)
        self.entry = pack_entry(rhs)

    def _arrivals(self, t: float) -> np.ndarray:
        """Direct arrivals at ``t`` (before the drain mask), (H, 1) or (H, M), people/day."""
        rhs = self.rhs
        a = np.asarray(rhs.arrivals.rate(rhs.arrival_time(t), rhs.is_open), float)
        return a.reshape(a.shape[0], -1)

    def _mask(self) -> np.ndarray:
        mask = self.rhs.arrival_mask
        return np.ones(self.shape[2]) if mask is None else np.ascontiguousarray(mask, dtype=float)

    def derivative(self, t: float, Y: np.ndarray, dY: np.ndarray) -> np.ndarray:
        self._sync()
        return self.nb.derivative(Y, dY, np.ascontiguousarray(self._arrivals(t)), self._mask(), self.par,
                                  self.P3, self.Pw, self.entry, self.k, self.out_T)

    def step(self, t: float, h: float, t_new: float, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._sync()
        times = [t + c * h if c < 1.0 else t_new for c in C[1:]] + [t_new]    # stages 1-5, then K[6]
        first = self._arrivals(times[0])
        if self.arrs is None or self.arrs.shape[2] != first.shape[1]:
            self.arrs = np.empty((6, *first.shape))
        self.arrs[0] = first
        for s in range(1, 6):
            self.arrs[s] = self._arrivals(times[s])
        Y_new = self.spare
        self.nb.dopri_step(Y, self.K, self.stage, Y_new, self.ratio, h, self.arrs, self._mask(), self.par,
                           self.P3, self.Pw, self.entry, self.k, self.rtol, self.atol, A, B, E, self.out_T)
        return Y_new, self.ratio.copy()


def project_step(W, groups, h, t, first, last, Y, K, outs, coef) -> None:
    """Compiled :meth:`~flowsim.solve.sinks.Projected.step` for the days ``first..last`` (one regime).

    ``coef`` is a (5, G, H, M) buffer for the step's interpolant summed over each group.
    """
    nb = _kernels()
    nb.group_coefficients(Y, K, groups, P, h, coef)
    for v, out in enumerate(outs):
        nb.project_days(coef, W[v], t, h, first, last, out)


def project_state(W, groups, day, Y, outs) -> None:
    """Compiled series of one ``day`` from a state ``Y``."""
    nb = _kernels()
    for v, out in enumerate(outs):
        nb.project_state(Y, W[v:v + 1], groups, day, out[None])
