"""Deterministic solver: ``scipy.integrate.solve_ivp`` on the whole batch.

The batch state ``(M, H, C)`` is flattened into one ODE system. Arrivals are
discontinuous at known times (pulse starts, knots, daily steps, closure
edges), so the horizon is cut into segments between those breakpoints and
each segment is integrated on its own; within a segment the arrival rates are
evaluated strictly inside it, so no step straddles a jump (docs/model.md, "Time,
places, people"). Policy dates (parameters that change from a date on) are
breakpoints too: each segment runs with the parameters in force on it.

Default method and tolerances
-----------------------------
``RK45`` (Dormand-Prince 5(4)) with ``rtol=1e-8`` and ``atol=1e-6`` people.
The model is not stiff on the scale of a day (its fastest rate, ``1/tau_T``,
is a fraction of a day^-1), so an explicit method takes few, long steps and
the daily outputs come from its dense interpolant. An explicit Runge-Kutta
method also preserves the linear invariant "total people = initial stocks +
cumulative arrivals" up to its quadrature error of ``a(t)``: at these
tolerances the conservation error of the seed scenario is about 2e-9
relative, far below the 1e-6 that docs/model.md asks for. ``atol`` is in people
(one millionth of a person).

Why not ``DOP853`` by default: once the arrivals have passed, the transit
compartments decay fast while everything else is slow, and DOP853's step
controller then runs at the edge of its stability region, letting ``T`` dip to
about -0.04 people in a test (tighter ``rtol`` made it worse). RK45 keeps the
same compartments above -1e-5 people. DOP853 is available with
``method="DOP853"``; pass ``max_step`` (days, e.g. ``3 * min(tau_T)``) with it.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_in_bounds, check_whole_number
from ..exceptions import IntegrationError, SolverError
from ..model.rhs import FlowRHS
from .base import Solver, Trajectories, check_rtol, register_solver

__all__ = ["IvpSolver", "DEFAULT_METHOD", "DEFAULT_RTOL", "DEFAULT_ATOL", "MAX_NFEV", "segment_edges",
           "enter_segment"]

DEFAULT_METHOD = "RK45"
DEFAULT_RTOL = 1e-8
DEFAULT_ATOL = 1e-6
#: Work guard: evaluations of the model allowed in one run (10-30 s for eight hosts).
MAX_NFEV = 200_000
_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")


@register_solver
class IvpSolver(Solver):
    """Integrate the batch with :func:`scipy.integrate.solve_ivp`.

    Parameters
    ----------
    method : str
        Any ``solve_ivp`` method (default ``"RK45"``).
    rtol : float
        Relative tolerance, in [2.2e-14, 1e-6] (docs/model.md asks for no looser than
        1e-6; ``solve_ivp`` would raise anything below 100 x machine epsilon
        to that floor, so it is refused instead).
    atol : float
        Absolute tolerance, people (> 0).
    max_step : float
        Largest step, days (default no limit: breakpoints are handled by
        segments).
    max_nfev : int
        Work guard: evaluations of the model allowed over the whole run
        (default :data:`MAX_NFEV`, about 20 s for eight hosts). A run that
        needs more ends with a :class:`~flowsim.exceptions.SolverError` that
        advises ``method="LSODA"``: it means the model is stiff at these
        parameters (a time constant of minutes over years).
    """

    name = "ivp"

    def __init__(self, method: str = DEFAULT_METHOD, rtol: float = DEFAULT_RTOL,
                 atol: float = DEFAULT_ATOL, max_step: float = math.inf, max_nfev: int = None):
        if method not in _METHODS:
            raise SolverError(f"solver option `method` must be one of {', '.join(_METHODS)}; got {method!r}.")
        self.method = method
        self.rtol = check_rtol(rtol, 1e-6)
        self.atol = check_in_bounds(atol, "solver option `atol` (people)", 0.0, math.inf,
                                    lower_open=True, upper_open=True, error=SolverError)
        if not (isinstance(max_step, (int, float)) and max_step > 0) or max_step != max_step:
            raise SolverError(
                f"solver option `max_step` (days) must be > 0 (inf for no limit); got {max_step!r}."
            )
        self.max_step = float(max_step)
        self.max_nfev = MAX_NFEV if max_nfev is None else check_whole_number(
            max_nfev, "solver option `max_nfev`", 1, error=SolverError)

    def solve(self, batch, horizon: int) -> Trajectories:
        from scipy.integrate import solve_ivp  # a quarter of a second: imported when first needed

        rhs = FlowRHS(batch)
        edges = segment_edges(batch, horizon)
        grid = np.arange(horizon + 1, dtype=float)
        out = np.empty((grid.size, *rhs.shape))                      # (D, C, H, M)
        Y0 = rhs.to_compartment_major(batch.y0)
        y = Y0.ravel().copy()
        out[0] = Y0
        nfev = 0
        for t0, t1 in zip(edges[:-1], edges[1:]):
            enter_segment(rhs, batch, t0, t1)
            days = grid[(grid > t0) & (grid <= t1)]
            t_eval = days if days.size and days[-1] == t1 else np.append(days, t1)
            guarded = _Budget(rhs, self.max_nfev - nfev)
            try:
                sol = solve_ivp(
                    guarded, (t0, t1), y, method=self.method, t_eval=t_eval,
                    rtol=self.rtol, atol=self.atol, max_step=self.max_step,
                    dense_output=False,
                )
            except _OverBudget:
                raise IntegrationError(
                    f"solve_ivp ({self.method}) needed more than {self.max_nfev:,} evaluations of the model "
                    f"(stopped at day {guarded.t:.4g} of {horizon}): the model is stiff at these parameters "
                    "(a time constant of minutes, or a rate of hundreds per day, over months). "
                    "Fix: method='LSODA' (flowsim run --method LSODA), slower rates, or a larger max_nfev."
                ) from None
            nfev += sol.nfev
            if not sol.success:
                raise IntegrationError(
                    f"solve_ivp ({self.method}) failed on days [{t0:g}, {t1:g}]: {sol.message}"
                )
            if days.size:
                states = np.moveaxis(sol.y[:, : days.size], -1, 0)
                out[days.astype(int)] = states.reshape(days.size, *rhs.shape)
            y = sol.y[:, -1]
        stats = {
            "method": self.method, "rtol": self.rtol, "atol": self.atol,
            "nfev": int(nfev), "segments": len(edges) - 1,
        }
        y_out = np.ascontiguousarray(out.transpose(3, 2, 1, 0))     # (M, H, C, D)
        return Trajectories(t=grid, y=y_out, message="integration successful", stats=stats)


class _OverBudget(Exception):
    """Raised inside solve_ivp when the work guard is spent."""


class _Budget:
    """The right-hand side with a count of evaluations that stops at ``budget``."""

    def __init__(self, rhs, budget: int):
        self.rhs, self.left, self.t = rhs, budget, 0.0

    def __call__(self, t, y):
        self.left -= 1
        self.t = t
        if self.left < 0:
            raise _OverBudget
        return self.rhs(t, y)


def segment_edges(batch, horizon: int) -> list[float]:
    """``[0, breakpoints..., horizon]``: arrival jumps, closure edges and policy dates, in days."""
    cuts = set(batch.arrivals.breakpoints(horizon)) | {t for t in batch.regime_starts if 0.0 < t < horizon}
    return [0.0, *sorted(cuts), float(horizon)]


def enter_segment(rhs: FlowRHS, batch, t0: float, t1: float) -> None:
    """Set the parameters, closures and arrival clamp of the segment ``[t0, t1]``.

    Arrivals are evaluated strictly inside ``(t0, t1)``: the right limit at
    ``t0`` and the left limit at ``t1``, so no step straddles a jump.
    """
    eps = 1e-9 * (t1 - t0)
    lo, hi = t0 + eps, t1 - eps
    rhs.use_flow(batch.flow_at(t0))
    rhs.use_open(batch.arrivals.is_open(lo))
    rhs.arrival_time = lambda t: min(max(t, lo), hi)
