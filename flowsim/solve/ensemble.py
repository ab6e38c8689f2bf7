"""Ensemble solver: Dormand-Prince 5(4) on a shared step plan with a per-member error test.

Why not one ``solve_ivp`` over the flattened batch
--------------------------------------------------
1. ``solve_ivp`` controls the RMS error over *all* components, so in a batch of
   a thousand members one member can run ten times over its tolerance
   unnoticed.
2. The steps then depend on which members share a batch: a member's numbers
   would change with the chunking of the ensemble or the executor.
3. Once the arrivals are over, the transit compartments ``T`` decay at rate
   ``1/tau_T`` (up to 1/day) while everything else moves on scales of weeks;
   an explicit method must keep its step inside its stability limit for that
   rate (about ``3.3 tau_T`` for RK45), long after ``T`` has emptied. Half
   the steps of a five-year run are spent there.

What this solver does
---------------------
* **Step plan.** :meth:`EnsembleSolver.plan` integrates a few *reference
  members* (the ensemble builds them from its ranges: the scenario's values,
  the corners, a fixed Latin hypercube) adaptively with the RK45 pair of
  ``solve_ivp`` (the same tableau, controller and initial step), accepting a
  step only when *every* reference member passes the error test at half the
  tolerance. The accepted steps are the plan.
* **Replay.** Every chunk integrates its members on the plan's steps. The
  arithmetic is elementwise per member, so a member's numbers depend only on
  its own parameters and the plan: identical whatever the chunking, the
  order or the executor.
* **Per-member error test.** On every step of the replay each member's local
  error estimate is tested like ``solve_ivp`` would (RMS over that member's
  components of ``err / (atol + rtol |y|)`` <= 1). A member that fails on
  any step is re-solved on its own, adaptively (``fallbacks`` in the stats).
* **Drained transit.** When a member's transit compartments hold less than
  ``drain`` times its people (all arrivals plus initial stocks; 1e-10 by
  default) and the direct arrivals still to come in the current segment are
  below that too, its ``T`` is set to exactly 0 and its arrivals are switched
  off until the next breakpoint. ``T`` then stays exactly 0, which no longer
  limits the step, so the tail is integrated with steps set by accuracy alone
  (days to weeks instead of ``3.3 tau_T``). The people set aside are below
  the threshold (about 5e-5 people in the seed scenario), far inside the
  conservation tolerance of 1e-6; ``stats["drained_people"]`` reports them.

Accuracy: default ``rtol=3e-6``, ``atol=3e-4`` people, the loosest setting
that keeps MODEL.md's invariants in the seed scenario (conservation error
5e-7 relative, most negative compartment -6e-10 of the total; at
``rtol=1e-5`` they are 2.6e-6 and -4e-9). Against ``solve_ivp`` RK45 at
``rtol=1e-8`` the largest deviation of any series is a few 1e-6 of its peak
(``benchmarks/bench_ensemble.py`` measures it for whole ensembles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import RK45

from .._validation import check_in_bounds
from ..exceptions import SolverError
from ..model.rhs import FlowRHS
from .base import Solver, Trajectories, register_solver
from .ivp import enter_segment, segment_edges

__all__ = ["EnsembleSolver", "StepPlan", "march", "FullStates", "Projected", "dense"]

# The RK45 (Dormand-Prince 5(4)) tableau and controller constants of scipy's solve_ivp.
_A, _B, _C, _E, _P = RK45.A, RK45.B, RK45.C, RK45.E, RK45.P
_EXPONENT = -1.0 / (RK45.error_estimator_order + 1)
_SAFETY, _MIN_FACTOR, _MAX_FACTOR = 0.9, 0.2, 10.0


@dataclass(frozen=True, eq=False)
class StepPlan:
    """The steps every member of an ensemble takes.

    Attributes
    ----------
    t, h : ndarray, shape (steps,)
        Start and length of each step, days.
    edges : tuple of float
        Segment edges (breakpoints) the plan was made for.
    rtol, atol, drain : float
        Tolerances of the error test and the drain threshold.
    reference_members : int
        How many reference members made the plan.
    """

    t: np.ndarray
    h: np.ndarray
    edges: tuple
    rtol: float
    atol: float
    drain: float
    reference_members: int = 1

    @property
    def n_steps(self) -> int:
        return int(self.t.size)


class FullStates:
    """Output sink keeping every compartment on the daily grid, shape (D, C, H, M)."""

    def __init__(self, horizon: int, shape):
        self.out = np.empty((horizon + 1, *shape))

    def start(self, Y, regime: int) -> None:
        self.out[0] = Y

    def segment(self, regime: int) -> None:
        pass

    def step(self, t, h, t_new, Y, K, Y_new) -> None:
        days = np.arange(math.floor(t) + 1, math.floor(t_new) + 1)
        if not days.size:
            return
        theta = (days - t) / h
        if days[-1] == t_new:
            self.out[days[-1]] = Y_new
            days, theta = days[:-1], theta[:-1]
        if days.size:
            self.out[days] = dense(theta, h, Y, K)

    def absorb(self, other: FullStates, m: int) -> None:
        """Take member ``m``'s states from a sink that solved it alone."""
        self.out[..., m] = other.out[..., 0]

    def states(self) -> np.ndarray:
        """``(M, H, C, D)``, the order of :class:`~flowsim.solve.base.Trajectories`."""
        return np.ascontiguousarray(self.out.transpose(3, 2, 1, 0))


class Projected:
    """Output sink keeping only linear combinations of the compartments, on the daily grid.

    Every series of a result (a compartment, ``N``, an economy channel,
    ``net``...) is a linear function of the compartments with weights that
    are constant within a parameter regime, so an ensemble keeps just the
    series it needs: ``V`` values per host, member and day instead of ``C``.
    The interpolant of a step is projected once (its coefficients), then
    evaluated on the days the step covers.

    Parameters
    ----------
    horizon : int
        Days.
    weights : sequence of ndarray, each (V, C, H, M)
        For each parameter regime, the weight of every compartment in every
        output series.
    regime_starts : sequence of float
        First day of each regime (a day belongs to the regime in force on it).

    Attributes
    ----------
    out : ndarray, shape (V, M, H, D)
        The series on the daily grid; ``out[v]`` is member-major, the layout
        of :attr:`EnsembleResult.series` and of the summary functions.
    """

    def __init__(self, horizon: int, weights, regime_starts):
        used = np.flatnonzero(np.any([np.any(w != 0, axis=(0, 2, 3)) for w in weights], axis=0))
        self.rows = int(used.max()) + 1 if used.size else 1          # compartments 0..rows-1 carry weight
        self.weights = [np.ascontiguousarray(w[:, :self.rows]) for w in weights]
        self.starts = np.asarray(regime_starts, float)
        n_series, _, n_hosts, n_members = self.weights[0].shape
        self.out = np.empty((n_series, n_members, n_hosts, horizon + 1))

    def _weights(self, day: float) -> np.ndarray:
        return self.weights[int(np.searchsorted(self.starts, day, side="right") - 1)]

    @staticmethod
    def project(W: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``sum_c W[v, c, h, m] Y[c, h, m]`` -> ``(V, H, M)``."""
        return np.einsum("vchm,chm->vhm", W, Y)

    def _put(self, day: int, values: np.ndarray) -> None:
        """Write the (V, H, M) values of one day."""
        self.out[..., day] = values.transpose(0, 2, 1)

    def start(self, Y, regime: int) -> None:
        self._put(0, self.project(self._weights(0.0), Y[:self.rows]))

    def segment(self, regime: int) -> None:
        pass

    def step(self, t, h, t_new, Y, K, Y_new) -> None:
        first, last = math.floor(t) + 1, math.floor(t_new)
        if last < first:
            return
        r = self.rows
        if last == t_new:                                         # the step ends on a day: no interpolation
            self._put(last, self.project(self._weights(t_new), Y_new[:r]))
            last -= 1
        if last < first:
            return
        W = self._weights(first)                                  # days inside a step share a regime
        if last == first:
            self._put(first, self.project(W, dense(np.array([(first - t) / h]), h, Y[:r], K)[0]))
            return
        K_rows = K[:, :r].reshape(7, -1)
        terms = [self.project(W, _combine(h * p, K_rows).reshape(r, *Y.shape[1:])) for p in _P.T]  # 4 x (V, H, M)
        theta = ((np.arange(first, last + 1) - t) / h)[:, None, None, None]
        block = terms[3] * theta                                  # Horner: ((c4 th + c3) th + c2) th + c1) th + y
        for c in terms[2::-1]:
            block += c
            block *= theta
        block += self.project(W, Y[:r])                                                  # (days, V, H, M)
        self.out[..., first:last + 1] = block.transpose(1, 3, 2, 0)

    def absorb(self, other: Projected, m: int) -> None:
        """Take member ``m``'s series from a sink that solved it alone."""
        self.out[..., m] = other.out[..., 0]


def dense(theta: np.ndarray, h: float, Y: np.ndarray, K: np.ndarray) -> np.ndarray:
    """RK45's quartic interpolant at ``t + theta h``: shape ``(len(theta), *Y.shape)``."""
    weights = _P @ _powers(theta).T                                                # (7, days)
    K_rows = K[:, :Y.shape[0]].reshape(7, -1)
    return np.stack([Y + h * _combine(w, K_rows).reshape(Y.shape) for w in weights.T])


def _combine(a: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``sum_s a[s] K[s]`` over the rows of a 2-D ``K``.

    numpy's own loops, not BLAS: a multithreaded BLAS ``gemv`` on these long
    rows is up to 20 times slower on a busy machine, and its result for one
    element could depend on the array's length (SIMD tails); this is
    elementwise, so a member's numbers do not depend on its chunk.
    """
    return np.einsum("s,sn->n", a, K)


def _powers(theta: np.ndarray) -> np.ndarray:
    """``theta, theta^2, theta^3, theta^4`` for each theta, shape (days, 4)."""
    return np.cumprod(np.tile(np.asarray(theta, float)[:, None], (1, _P.shape[1])), axis=1)


def _rms_per_member(x: np.ndarray) -> np.ndarray:
    """``sqrt(mean(x**2))`` over the (C, H) axes of a (C, H, M) array."""
    n = x.shape[0] * x.shape[1]
    return np.sqrt(np.square(x).sum(axis=(0, 1)) / n)


def _initial_step(rhs, t0, Y, F, t1, rtol, atol) -> float:
    """``solve_ivp``'s initial step (Hairer-Norsett-Wanner II.4), smallest over members."""
    scale = atol + np.abs(Y) * rtol
    d0, d1 = _rms_per_member(Y / scale), _rms_per_member(F / scale)
    h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.maximum(d1, 1e-300))
    h0 = float(min(h0.min(), t1 - t0))
    F1 = rhs.derivative(t0 + h0, Y + h0 * F, np.empty_like(Y))
    d2 = _rms_per_member((F1 - F) / scale) / h0
    d = np.maximum(d1, d2)
    h1 = np.where(d <= 1e-15, max(1e-6, h0 * 1e-3), (0.01 / np.maximum(d, 1e-300)) ** (-_EXPONENT))
    return float(min(100 * h0, h1.min(), t1 - t0))


def march(batch, horizon: int, *, rtol: float, atol: float, drain: float, plan: StepPlan | None = None,
          sink=None, counters: bool = True):
    """Integrate a batch, adaptively (``plan=None``) or on a plan's steps.

    Parameters
    ----------
    batch : ModelBatch
    horizon : int
        Days.
    rtol, atol : float
        Error test: a step passes for a member when the RMS over its
        components of ``err / (atol + rtol max(|y|, |y_new|))`` is <= 1.
    drain : float
        Drain threshold relative to each member's people (see module notes).
    plan : StepPlan, optional
        Steps to replay; adaptive when None (a step is accepted when every
        member passes).
    sink : object, optional
        Receives ``start``, ``segment`` and ``step`` calls with the dense
        output of every accepted step (:class:`FullStates` or a projection).
    counters : bool
        Integrate the counters ``Ret, Out, In`` too (they feed back into
        nothing: a sink that needs none of them can skip 3 of ``k + 7``
        rows, and their errors then take no part in the error test).

    Returns
    -------
    steps : list of (float, float)
        Accepted ``(t, h)`` (the plan when adaptive).
    worst : ndarray (M,)
        Each member's largest error ratio over all steps (<= 1 when adaptive).
    stats : dict
        ``nfev``, ``steps``, ``rejected``, ``drained_people`` (M,).
    """
    rhs = FlowRHS(batch)
    edges = segment_edges(batch, horizon)
    if plan is not None and tuple(plan.edges) != tuple(edges):
        raise SolverError("this step plan was made for other breakpoints (arrivals, closures or policy dates); "
                          "make a plan for this scenario with EnsembleSolver.plan().")
    lay = batch.layout
    n_read = lay.present.stop                                   # T, S1..Sk, R, E, U: the counters feed nothing
    Y = rhs.to_compartment_major(batch.y0)
    arrivals = batch.arrivals
    people = Y[lay.people].sum(axis=(0, 1)) + arrivals.cumulative([float(horizon)]).sum()
    if not counters:
        Y = np.ascontiguousarray(Y[:n_read])
    C, H, M = Y.shape
    K = np.empty((7, C, H, M))
    K_flat, K_read = K.reshape(7, -1), K[:, :n_read].reshape(7, -1)
    threshold = drain * np.maximum(people, 1.0)                                   # (M,) people
    dropped = np.zeros(M)
    worst = np.zeros(M)
    steps: list[tuple[float, float]] = []
    nfev, rejected, i_plan = 0, 0, 0
    if sink is not None:
        sink.start(Y, batch.regime_at(0.0))
    for t0, t1 in zip(edges[:-1], edges[1:]):
        enter_segment(rhs, batch, t0, t1)
        rhs.arrival_mask = None
        drained = np.zeros(M, dtype=bool)
        cum_end = arrivals.cumulative([t1]).sum()
        if sink is not None:
            sink.segment(batch.regime_at(t0))
        t = t0
        rhs.derivative(t, Y, K[0])
        nfev += 1
        if plan is None:
            h_abs = _initial_step(rhs, t0, Y, K[0], t1, rtol, atol)
            nfev += 1
        step_rejected = False
        while t < t1:
            if plan is not None:
                if i_plan >= plan.n_steps or plan.t[i_plan] != t:
                    raise SolverError("the step plan does not match this integration (a plan is made for one "
                                      "scenario and horizon).")
                h = float(plan.h[i_plan])
                i_plan += 1
            else:
                h = min(h_abs, t1 - t)
                if t + h >= t1 - 1e-12 * max(1.0, t1):
                    h = t1 - t
            t_new = t1 if t + h >= t1 else t + h
            for s in range(1, 6):                                 # stages need only what the RHS reads
                Ys = Y[:n_read] + h * _combine(_A[s, :s], K_read[:s]).reshape(n_read, H, M)
                rhs.derivative(t + _C[s] * h if _C[s] < 1.0 else t_new, Ys, K[s])
            Y_new = Y + h * _combine(_B, K_flat[:6]).reshape(C, H, M)
            rhs.derivative(t_new, Y_new, K[6])
            nfev += 6
            scale = atol + rtol * np.maximum(np.abs(Y), np.abs(Y_new))
            ratio = _rms_per_member(h * _combine(_E, K_flat).reshape(C, H, M) / scale)
            if plan is None:
                err = float(ratio.max())
                if not err <= 1.0:                                # NaN (an overflow) is a rejection too
                    h_abs = h * (max(_MIN_FACTOR, _SAFETY * err ** _EXPONENT) if np.isfinite(err) else _MIN_FACTOR)
                    step_rejected, rejected = True, rejected + 1
                    if h_abs < 1e-12 * max(1.0, abs(t)):
                        raise SolverError(f"the ensemble solver's step fell below {h_abs:.3g} days at day {t:g}: "
                                          "the error test cannot be met; loosen `rtol`/`atol`.")
                    continue
                factor = _MAX_FACTOR if err == 0 else min(_MAX_FACTOR, _SAFETY * err ** _EXPONENT)
                h_abs = h * (min(1.0, factor) if step_rejected else factor)
                step_rejected = False
            np.maximum(worst, ratio, out=worst)
            steps.append((t, h))
            if sink is not None:
                sink.step(t, h, t_new, Y, K, Y_new)
            Y, t = Y_new, t_new
            K[0] = K[6]
            newly = ~drained & (np.abs(Y[lay.T]).sum(axis=0) <= threshold)
            if newly.any():
                newly &= cum_end - arrivals.cumulative([t]).sum() <= threshold
            if newly.any():
                dropped[newly] += Y[lay.T][:, newly].sum(axis=0)
                Y[lay.T][:, newly] = 0.0
                drained |= newly
                rhs.arrival_mask = (~drained).astype(float)
                rhs.derivative(t, Y, K[0])
                nfev += 1
    if plan is not None and i_plan != plan.n_steps:
        raise SolverError("the step plan is longer than this integration (a plan is made for one horizon).")
    return steps, worst, {"nfev": nfev, "steps": len(steps), "rejected": rejected, "drained_people": dropped}


@register_solver
class EnsembleSolver(Solver):
    """RK45 with a per-member error test, replaying a shared step plan (see the module notes).

    Parameters
    ----------
    rtol : float
        Relative tolerance, in (0, 1e-4] (default 3e-6).
    atol : float
        Absolute tolerance, people (> 0; default 3e-4).
    drain : float
        Drained-transit threshold relative to a member's people, in [0, 1e-6]
        (0 switches the drain off).
    plan_margin : float
        The plan is made at ``plan_margin`` times the tolerances, so that
        members other than the reference ones pass the test on its steps;
        in (0, 1].
    """

    name = "ensemble"

    def __init__(self, rtol: float = 3e-6, atol: float = 3e-4, drain: float = 1e-8, plan_margin: float = 0.5):
        self.rtol = check_in_bounds(rtol, "solver option `rtol`", 0.0, 1e-4, lower_open=True, error=SolverError)
        self.atol = check_in_bounds(atol, "solver option `atol` (people)", 0.0, math.inf,
                                    lower_open=True, upper_open=True, error=SolverError)
        self.drain = check_in_bounds(drain, "solver option `drain`", 0.0, 1e-6, error=SolverError)
        self.plan_margin = check_in_bounds(plan_margin, "solver option `plan_margin`", 0.0, 1.0,
                                           lower_open=True, error=SolverError)

    def options(self) -> dict:
        """The solver options, to rebuild an identical solver elsewhere (e.g. in a worker)."""
        return {"rtol": self.rtol, "atol": self.atol, "drain": self.drain, "plan_margin": self.plan_margin}

    def plan(self, reference, horizon: int) -> StepPlan:
        """Make the step plan from a batch of reference members.

        Parameters
        ----------
        reference : ModelBatch
            Members whose needs the steps must meet (all must pass the error
            test at ``plan_margin`` times the tolerances).
        horizon : int
            Days.
        """
        steps, _, _ = march(reference, horizon, rtol=self.rtol * self.plan_margin,
                            atol=self.atol * self.plan_margin, drain=self.drain, counters=False)
        t, h = (np.array(x, float) for x in zip(*steps))
        return StepPlan(t=t, h=h, edges=tuple(segment_edges(reference, horizon)), rtol=self.rtol,
                        atol=self.atol, drain=self.drain, reference_members=reference.n_members)

    def replay(self, batch, horizon: int, plan: StepPlan, make_sink):
        """Integrate ``batch`` on ``plan``; re-solve alone every member that fails the error test.

        Parameters
        ----------
        batch : ModelBatch
        horizon : int
        plan : StepPlan
        make_sink : callable
            ``make_sink(member_indices)`` returns a fresh sink for those
            members of ``batch`` (all of them first, then each fallback).

        Returns
        -------
        sink : object
            The sink of the whole batch, fallback members written in.
        stats : dict
            ``nfev``, ``steps``, ``fallbacks`` (member indices), ``drained_people`` (M,).
        """
        sink = make_sink(np.arange(batch.n_members))
        counters = getattr(sink, "rows", batch.layout.size) > batch.layout.present.stop
        _, worst, stats = march(batch, horizon, rtol=plan.rtol, atol=plan.atol, drain=plan.drain, plan=plan,
                                sink=sink, counters=counters)
        failed = np.flatnonzero(~(worst <= 1.0))                  # NaN (an unstable step) fails too
        for m in failed:
            alone = make_sink(np.array([m]))
            _, _, extra = march(batch.select([m]), horizon, rtol=plan.rtol, atol=plan.atol, drain=plan.drain,
                                sink=alone, counters=counters)
            sink.absorb(alone, m)
            stats["nfev"] += extra["nfev"]
            stats["drained_people"][m] = extra["drained_people"][0]
        stats["fallbacks"] = failed
        return sink, stats

    def solve(self, batch, horizon: int) -> Trajectories:
        """Solve ``batch`` on a plan made from its own members; every compartment on the daily grid.

        The same path as an ensemble whose reference members are these
        members: ``flowsim.run(scenario, solver="ensemble")`` gives the
        numbers of a one-member ensemble of the same scenario that varies
        nothing.
        """
        plan = self.plan(batch, horizon)
        shape = (batch.layout.size, batch.shape[1])
        sink, stats = self.replay(batch, horizon, plan, lambda idx: FullStates(horizon, (*shape, len(idx))))
        stats = {"method": "RK45 on a step plan (per-member error test)", "rtol": self.rtol, "atol": self.atol,
                 "drain": self.drain, "plan_margin": self.plan_margin, "steps": plan.n_steps,
                 "nfev": stats["nfev"], "fallbacks": int(len(stats["fallbacks"])),
                 "drained_people": float(np.max(stats["drained_people"], initial=0.0))}
        return Trajectories(t=np.arange(horizon + 1, dtype=float), y=sink.states(), success=True,
                            message="integration successful", stats=stats)
