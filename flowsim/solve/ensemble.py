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
  step only when *every* reference member passes the error test at
  ``plan_margin`` (default half) times the tolerances. The accepted steps
  are the plan.
* **Replay.** Every chunk integrates its members on the plan's steps. The
  arithmetic is elementwise per member, so a member's numbers depend only on
  its own parameters and the plan: identical whatever the chunking, the
  order or the executor.
* **Per-member error test.** On every step of the replay each member's local
  error estimate is tested like ``solve_ivp`` would (RMS over that member's
  components of ``err / (atol + rtol |y|)`` <= 1). A member that fails on
  any step is re-solved on its own, adaptively (``fallbacks`` in the stats).
* **Drained transit.** When a member's transit compartments hold less than
  ``drain`` times its people (all arrivals plus initial stocks; 1e-8 by
  default, well above the solver's noise of a few ``atol``) and the direct
  arrivals still to come in the current segment are below that too, its
  ``T`` is set to exactly 0 and its arrivals are switched off until the
  next breakpoint. ``T`` then stays exactly 0, which no longer limits the
  step, so the tail is integrated with steps set by accuracy and the slower
  rates alone (weeks instead of ``3.3 tau_T``). The people set aside are
  below the threshold (about 5e-3 people in the seed scenario), far inside
  the conservation tolerance of 1e-6; ``stats["drained_people"]`` reports them.
* **Only what is read.** The stages carry ``T, S1..Sk, R, E, U`` only (the
  counters ``Ret, Out, In`` feed back into nothing), and when no output needs
  the counters they are not integrated at all.

Accuracy: default ``rtol=3e-6``, ``atol=3e-4`` people, the loosest setting
that keeps docs/model.md's invariants in the seed scenario (conservation error
5e-7 relative, most negative compartment -6e-10 of the total; at
``rtol=1e-5`` they are 2.6e-6 and -4e-9). Against ``solve_ivp`` RK45 at
``rtol=1e-8`` the largest deviation of any series is a few 1e-6 of its peak
(``benchmarks/bench_ensemble.py`` measures it for whole ensembles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_in_bounds
from ..exceptions import SolverError
from .base import Solver, Trajectories, check_rtol, register_solver
from .dopri import march
from .ivp import segment_edges
from .kernels import resolve_kernel
from .sinks import FullStates, Projected

__all__ = ["EnsembleSolver", "StepPlan", "FullStates", "Projected"]


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


@register_solver
class EnsembleSolver(Solver):
    """RK45 with a per-member error test, replaying a shared step plan (see the module notes).

    Parameters
    ----------
    rtol : float
        Relative tolerance, in [2.2e-14, 1e-4] (default 3e-6; 100 x machine
        epsilon at least, as for ``solve_ivp``).
    atol : float
        Absolute tolerance, people (> 0; default 3e-4).
    drain : float
        Drained-transit threshold relative to a member's people, in [0, 1e-6]
        (0 switches the drain off).
    plan_margin : float
        The plan is made at ``plan_margin`` times the tolerances, so that
        members other than the reference ones pass the test on its steps;
        in (0, 1].
    kernel : {"auto", "numpy", "numba"}, optional
        What evaluates the steps (:mod:`flowsim.solve.kernels`): numba's
        compiled kernel (the optional extra ``flowsim[fast]``) or numpy.
        Default: the environment variable ``FLOWSIM_KERNEL``, else
        ``"auto"`` (numba when it imports). The two agree to rounding
        (about 1e-12 of each series' peak). The resolved name is kept in
        :attr:`kernel` and :meth:`options`.
    """

    name = "ensemble"

    def __init__(self, rtol: float = 3e-6, atol: float = 3e-4, drain: float = 1e-8, plan_margin: float = 0.5,
                 kernel: str | None = None):
        self.rtol = check_rtol(rtol, 1e-4)
        self.atol = check_in_bounds(atol, "solver option `atol` (people)", 0.0, math.inf,
                                    lower_open=True, upper_open=True, error=SolverError)
        self.drain = check_in_bounds(drain, "solver option `drain`", 0.0, 1e-6, error=SolverError)
        self.plan_margin = check_in_bounds(plan_margin, "solver option `plan_margin`", 0.0, 1.0,
                                           lower_open=True, error=SolverError)
        self.kernel = resolve_kernel(kernel)

    def options(self) -> dict:
        """The solver options, to rebuild an identical solver elsewhere (e.g. in a worker)."""
        return {"rtol": self.rtol, "atol": self.atol, "drain": self.drain, "plan_margin": self.plan_margin,
                "kernel": self.kernel}

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
                            atol=self.atol * self.plan_margin, drain=self.drain, counters=False,
                            kernel=self.kernel)
        if not steps:
            raise SolverError("the step plan is empty (a horizon of at least one day is needed).")
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
        _, worst, stats = march(batch, horizon, rtol=plan.rtol, atol=plan.atol, drain=plan.drain,
                                steps=(plan.t, plan.h, plan.edges), sink=sink, counters=counters,
                                kernel=self.kernel)
        failed = np.flatnonzero(~(worst <= 1.0))                  # NaN (an unstable step) fails too
        for m in failed:
            alone = make_sink(np.array([m]))
            _, _, extra = march(batch.select([m]), horizon, rtol=plan.rtol, atol=plan.atol, drain=plan.drain,
                                sink=alone, counters=counters, kernel=self.kernel)
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
        stats = {"method": "RK45 on a step plan (per-member error test)", "kernel": self.kernel,
                 "rtol": self.rtol, "atol": self.atol,
                 "drain": self.drain, "plan_margin": self.plan_margin, "steps": plan.n_steps,
                 "nfev": stats["nfev"], "fallbacks": int(len(stats["fallbacks"])),
                 "drained_people": float(np.max(stats["drained_people"], initial=0.0))}
        return Trajectories(t=np.arange(horizon + 1, dtype=float), y=sink.states(),
                            message="integration successful", stats=stats)
