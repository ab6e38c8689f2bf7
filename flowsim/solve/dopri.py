"""Dormand-Prince 5(4) over a whole batch, with an error test per member.

The step-size controller and initial step are those of
:class:`scipy.integrate.RK45` (``solve_ivp``'s default); the tableau, the step
and the dense output are in :mod:`flowsim.solve.stepper`, the kernel that
runs them is picked by :mod:`flowsim.solve.kernels`. What differs from scipy
is that every array has a member axis and that a step's error is tested
member by member (see :mod:`flowsim.solve.ensemble`). :func:`march`
integrates a batch either adaptively or on a given list of steps, and hands
the dense output of every accepted step to a sink
(:mod:`flowsim.solve.sinks`).

Arithmetic is elementwise over the members (numpy's own loops: no BLAS call
whose result for one member could depend on the batch's size), so a member's
numbers depend only on its parameters and the steps.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import IntegrationError, SolverError
from ..model.rhs import FlowRHS
from .fused import fused_march
from .ivp import enter_segment, segment_edges
from .kernels import make_stepper
from .stepper import EXPONENT, MAX_FACTOR, MIN_FACTOR, SAFETY, Stepper, dense

__all__ = ["march", "dense", "Stepper"]


def _next_step(h: float, err: float, rejected_before: bool) -> tuple[bool, float]:
    """``solve_ivp``'s controller: ``(accepted, next step)`` for error ratio ``err`` (NaN is a rejection)."""
    if not err <= 1.0:
        return False, h * (max(MIN_FACTOR, SAFETY * err ** EXPONENT) if np.isfinite(err) else MIN_FACTOR)
    factor = MAX_FACTOR if err == 0 else min(MAX_FACTOR, SAFETY * err ** EXPONENT)
    return True, h * (min(1.0, factor) if rejected_before else factor)


#: Work guard of the adaptive march: more steps than this (accepted or rejected) end it with a SolverError.
MAX_STEPS = 100_000


def march(batch, horizon: int, *, rtol: float, atol: float, drain: float, steps=None, sink=None,
          counters: bool = True, kernel: str = "numpy", fused: bool = True):
    """Integrate a batch, adaptively (``steps=None``) or on given steps.

    Parameters
    ----------
    batch : ModelBatch
    horizon : int
        Days.
    rtol, atol : float
        Error test: a step passes for a member when the RMS over its
        components of ``err / (atol + rtol max(|y|, |y_new|))`` is <= 1.
    drain : float
        Drain threshold relative to each member's people (see
        :mod:`flowsim.solve.ensemble`); 0 switches the drain off.
    steps : tuple of (ndarray, ndarray, tuple), optional
        ``(t, h, edges)`` of steps to replay; adaptive when None (a step is
        accepted when every member passes).
    sink : object, optional
        Receives ``start(Y)`` and ``step(t, h, t_new, Y, K, Y_new)`` for every
        accepted step (:mod:`flowsim.solve.sinks`).
    counters : bool
        Integrate the counters ``Ret, Out, In`` too (they feed back into
        nothing: when no output needs them they are skipped, and their errors
        take no part in the error test).
    kernel : {"numpy", "numba"}
        Which kernel evaluates the steps (:mod:`flowsim.solve.kernels`; resolved already).
    fused : bool
        With the numba kernel, run the whole march in one compiled call
        (:mod:`flowsim.solve.fused`) when the arrivals and the sink can be
        packed; False (or anything it cannot pack) steps in Python, one
        compiled call per step. The two agree to rounding.

    Returns
    -------
    accepted : list of (float, float)
        Accepted ``(t, h)``.
    worst : ndarray (M,)
        Each member's largest error ratio over all steps (<= 1 when adaptive; NaN after an overflow).
    stats : dict
        ``nfev``, ``steps``, ``rejected``, ``drained_people`` (M,).
    """
    rhs = FlowRHS(batch)
    edges = segment_edges(batch, horizon)
    if steps is not None and tuple(steps[2]) != tuple(edges):
        raise SolverError("this step plan was made for other breakpoints (arrivals, closures or policy dates); "
                          "make a plan for this scenario with EnsembleSolver.plan().")
    lay = batch.layout
    n_read = lay.present.stop                                   # T, S1..Sk, R, E, U: the counters feed nothing
    Y = rhs.to_compartment_major(batch.y0)
    arrivals = batch.arrivals
    people = Y[lay.people].sum(axis=(0, 1)) + arrivals.people_arrived(float(horizon))
    if not counters:
        Y = np.ascontiguousarray(Y[:n_read])
    M = Y.shape[2]
    threshold = drain * np.maximum(people, 1.0)                                   # (M,) people
    if kernel == "numba" and fused:
        if sink is not None:
            sink.start(Y)
        out = fused_march(rhs, batch, Y, edges, horizon, rtol=rtol, atol=atol,
                          threshold=np.broadcast_to(threshold, (M,)), steps=steps, sink=sink, max_steps=MAX_STEPS)
        if out is not None:
            return out
    stepper = make_stepper(kernel, rhs, Y.shape, n_read, rtol, atol)
    K = stepper.K
    dropped, worst = np.zeros(M), np.zeros(M)
    accepted: list[tuple[float, float]] = []
    nfev, rejected, i = 0, 0, 0
    if sink is not None and not (kernel == "numba" and fused):
        sink.start(Y)
    for t0, t1 in zip(edges[:-1], edges[1:]):
        enter_segment(rhs, batch, t0, t1)
        rhs.arrival_mask = None
        drained = np.zeros(M, dtype=bool)
        cum_end = arrivals.people_arrived(t1)
        t = t0
        stepper.derivative(t, Y, K[0])
        nfev += 1
        if steps is None:
            h_next, nfev, rejected_before = stepper.initial_step(t0, Y, t1), nfev + 1, False
        while t < t1:
            if steps is not None:
                if i >= len(steps[0]) or steps[0][i] != t:
                    raise SolverError("the step plan does not match this integration (a plan is made for one "
                                      "scenario and horizon).")
                h, i = float(steps[1][i]), i + 1
            else:
                h = t1 - t if t + h_next >= t1 - 1e-12 * max(1.0, t1) else h_next
            t_new = t1 if t + h >= t1 else t + h
            Y_new, ratio = stepper.step(t, h, t_new, Y)
            nfev += 6
            if steps is None and len(accepted) + rejected >= MAX_STEPS:
                raise IntegrationError(
                    f"the ensemble solver needed more than {MAX_STEPS:,} steps (stopped at day {t:.4g} of {horizon}): "
                    "the model is stiff at these parameters (a time constant of minutes, or a rate of hundreds "
                    "per day). Fix: use slower rates, or run the members one by one with method='LSODA'."
                )
            if steps is None:
                ok, h_next = _next_step(h, float(ratio.max()), rejected_before)
                rejected_before = not ok
                if not ok:
                    rejected += 1
                    if h_next < 1e-12 * max(1.0, abs(t)):
                        raise IntegrationError(f"the ensemble solver's step fell below {h_next:.3g} days at day {t:g}: "
                                          "the error test cannot be met; loosen `rtol`/`atol`.")
                    continue
            np.fmax(worst, ratio, out=worst)
            worst[np.isnan(ratio)] = np.nan
            accepted.append((t, h))
            if sink is not None:
                sink.step(t, h, t_new, Y, K, Y_new)
            stepper.accept(Y)
            Y, t = Y_new, t_new
            newly = ~drained & (np.abs(Y[lay.T]).sum(axis=0) <= threshold)
            if newly.any():
                newly &= cum_end - arrivals.people_arrived(t) <= threshold
            if newly.any():                                       # transit drained: exactly zero from now on
                dropped[newly] += Y[lay.T][:, newly].sum(axis=0)
                Y[lay.T][:, newly] = 0.0
                drained |= newly
                rhs.arrival_mask = (~drained).astype(float)
                stepper.derivative(t, Y, K[0])
                nfev += 1
    if steps is not None and i != len(steps[0]):
        raise SolverError("the step plan is longer than this integration (a plan is made for one horizon).")
    return accepted, worst, {"nfev": nfev, "steps": len(accepted), "rejected": rejected, "drained_people": dropped}
