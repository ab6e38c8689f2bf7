"""A whole Dormand-Prince march in one compiled call (numba kernel), with the schedules packed into arrays.

With the numba kernel, :func:`flowsim.solve.dopri.march` hands the whole
integration to :func:`flowsim.solve._numba_kernels.march` when it can: the
step loop (replay of a plan, or ``solve_ivp``'s adaptive controller), the
direct arrivals at every stage, the per-member error test, the
drained-transit test, the counts and the dense output into a
:class:`~flowsim.solve.sinks.Projected` or
:class:`~flowsim.solve.sinks.FullStates` sink all run in compiled code.
Python packs each parameter regime and closure state once, then makes one
call (the previous path made a call per step and evaluated the schedules in
Python six times per step).

For that the direct arrivals must be evaluable in compiled code:
:func:`pack_arrivals` packs the three schedule types (``Pulse``,
``PiecewiseLinear``, ``DailyCounts``; shared by all members, per-member pulse
stacks, or one schedule per member) into flat arrays, with their integrals
for the drain test (the arrivals still to come in a segment; a pulse's
integral is the regularised incomplete gamma function, computed in compiled
code). Closures and the diversion matrix apply as in
:meth:`~flowsim.scenario.arrivals.CompiledArrivals.rate`. Rates agree with
the schedules' own ``rate`` to rounding (``exp`` and ``log`` of another
library) and integrals with their ``cumulative`` to about 1e-15 relative;
``tests/test_fused.py`` checks both. Anything else (another schedule, arrivals
or sink class) makes :func:`fused_march` return None, and the march steps in
Python with one compiled call per step.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import IntegrationError, SolverError
from ..model.member_arrivals import MemberArrivals, _Listed, _PulseStack, _Shared
from ..scenario.arrivals import CompiledArrivals
from ..scenario.schedules import _CompiledDaily, _CompiledLinear, _CompiledPulse
from . import kernels
from .kernels import pack_entry, pack_onward, pack_rates
from .sinks import FullStates, Projected
from .stepper import A, B, C, E, P

__all__ = ["PackedArrivals", "pack_arrivals", "fused_march"]

PULSE, LINEAR, DAILY = 0, 1, 2            # as flowsim.solve._numba_kernels (which only imports with numba)


class PackedArrivals:
    """Direct arrival schedules as flat arrays (see :func:`flowsim.solve._numba_kernels.schedule_rate`).

    Attributes
    ----------
    term_i : ndarray (terms, 5) of int64
        ``(kind, host, member or -1, offset, length)`` of each schedule term, in the order the
        schedules' rates are added up.
    term_f : ndarray of float
        The terms' numbers (days, people, people/day).
    width : int
        1 when every member shares the schedules, else the members ``M`` (rates ``(H, width)``).
    D : ndarray (H, H)
        Diversion shares; ``diverts`` whether any is non-zero.
    """

    def __init__(self, terms: list, width: int, D: np.ndarray, diverts: bool):
        rows, data = [], []
        for kind, host, member, numbers in terms:
            numbers = np.asarray(numbers, float)
            length = {PULSE: 5, LINEAR: numbers.size // 3, DAILY: (numbers.size - 2) // 2}[kind]
            rows.append((kind, host, member, sum(len(d) for d in data), length))
            data.append(numbers)
        self.term_i = np.array(rows, dtype=np.int64).reshape(-1, 5)
        self.term_f = np.concatenate(data) if data else np.zeros(0)
        self.width = int(width)
        self.D = np.ascontiguousarray(D, dtype=float)
        self.diverts = bool(diverts)

    def rate(self, t: float, is_open, lo: float = -np.inf, hi: float = np.inf) -> np.ndarray:
        """Compiled rates at ``t`` (clamped to ``[lo, hi]``), shape (H, width), people/day (for tests)."""
        nb = kernels._kernels()
        H = self.D.shape[0]
        out, raw = np.empty((H, self.width)), np.empty((H, self.width))
        nb.arrival_rates(float(t), float(lo), float(hi), self.term_i, self.term_f,
                         np.asarray(is_open, float), self.D, self.diverts, raw, out)
        return out


    def remaining(self, t: float, t1: float, is_open) -> np.ndarray:
        """Compiled arrivals over ``[t, t1]`` with the closures ``is_open`` fixed, shape (width,), people."""
        out = np.empty(self.width)
        kernels._kernels().remaining_arrivals(float(t), float(t1), self.term_i, self.term_f,
                                              np.asarray(is_open, float), self.D, out)
        return out


def _numbers(compiled):
    """``(kind, numbers)`` of one compiled schedule, or None when it is of another class."""
    kind = type(compiled)
    if kind is _CompiledPulse:
        return PULSE, (compiled.total, compiled.shape, compiled.scale, compiled.t0, compiled._log_norm)
    if kind is _CompiledLinear:
        return LINEAR, np.concatenate([compiled.t, compiled.r, compiled._cum])
    if kind is _CompiledDaily:
        return DAILY, np.concatenate([[compiled.t0], compiled.counts, compiled._cum])
    return None


def pack_arrivals(arrivals) -> PackedArrivals | None:
    """Pack the direct arrivals of a batch for compiled code; None when a schedule cannot be packed.

    Parameters
    ----------
    arrivals : CompiledArrivals or MemberArrivals
        Shared schedules, or each member's (shared slots, pulse stacks, per-member lists).
    """
    terms = []
    if type(arrivals) is CompiledArrivals:
        for h, per_host in enumerate(arrivals.schedules):
            for s in per_host:
                packed = _numbers(s)
                if packed is None:
                    return None
                terms.append((packed[0], h, -1, packed[1]))
        width = 1
    elif type(arrivals) is MemberArrivals:
        for h, per_host in enumerate(arrivals.schedules):
            for slot in per_host:
                if type(slot) is _Shared:
                    packed = _numbers(slot.compiled)
                    if packed is None:
                        return None
                    terms.append((packed[0], h, -1, packed[1]))
                elif type(slot) is _PulseStack:
                    for m in range(slot.total.size):
                        terms.append((PULSE, h, m, (slot.total[m], slot.shape[m], slot.scale[m], slot.t0[m],
                                                    slot._log_norm[m])))
                elif type(slot) is _Listed:
                    for m, compiled in enumerate(slot.members):
                        packed = _numbers(compiled)
                        if packed is None:
                            return None
                        terms.append((packed[0], h, m, packed[1]))
                else:
                    return None
        width = arrivals.n_members
    else:
        return None
    return PackedArrivals(terms, width, arrivals.diversion, arrivals._diverts)


#: Most series a Projected sink may have for the compiled march (more take the per-step path). The series
#: go to the compiled code as a tuple of exactly this many arrays (padded with empty ones): one type, so
#: one compilation cached on disk (a numba typed list would compile its methods in every new process).
MAX_SERIES = 48
_PAD = np.zeros((0, 0, 0))


def _outs_tuple(outs) -> tuple:
    return tuple(outs) + (_PAD,) * (MAX_SERIES - len(outs))


def _sink_args(sink, Y):
    """``(kind, W, starts, groups, outs, coef, poly, full)`` for the compiled march, or None if unsupported.

    ``W`` (R, V, G, H, M) has each regime's weights, ``outs`` the V series padded to :data:`MAX_SERIES`.
    """
    nb = kernels._kernels()
    _, H, M = Y.shape
    no_W, no_starts, no_groups = np.zeros((0, 0, 0, 0, 0)), np.zeros(1), np.zeros((0, 2), np.int64)
    no_coef, no_full = np.zeros((0, 0, 0, 0)), np.zeros((0, 0, 0, 0))
    if sink is None:
        return nb.SINK_NONE, no_W, no_starts, no_groups, _outs_tuple([]), no_coef, np.zeros((0, 0, 0)), no_full
    if type(sink) is FullStates:
        if sink.out.shape[1:] != Y.shape or not sink.out.flags.c_contiguous or sink.out.dtype != float:
            return None
        return nb.SINK_FULL, no_W, no_starts, no_groups, _outs_tuple([]), no_coef, np.zeros((0, 0, 0)), sink.out
    if type(sink) is Projected:
        outs = list(sink.out)
        if not 0 < len(outs) <= MAX_SERIES or any(o.dtype != float or not o.flags.c_contiguous or o.ndim != 3
                                                  or o.shape[:2] != (M, H) for o in outs):
            return None
        if sink.rows > Y.shape[0]:
            return None
        W = np.ascontiguousarray(np.stack(sink.weights), dtype=float)            # (R, V, G, H, M)
        groups = np.array(sink.groups, dtype=np.int64).reshape(-1, 2)
        return (nb.SINK_PROJECTED, W, np.ascontiguousarray(sink.starts, dtype=float), groups, _outs_tuple(outs),
                np.empty((5, W.shape[2], H, M)), np.empty((5, H, M)), no_full)
    return None


def fused_march(rhs, batch, Y, edges, horizon: int, *, rtol: float, atol: float, threshold: np.ndarray,
                steps, sink, max_steps: int):
    """:func:`flowsim.solve.dopri.march` in one compiled call; None when the arrivals or the sink cannot be packed.

    ``Y`` is the compartment-major initial state (the rows integrated),
    ``threshold`` (M,) each member's drain threshold (people). The sink's
    ``start`` has been called. Returns ``(accepted, worst, stats)`` as
    :func:`~flowsim.solve.dopri.march`.
    """
    nb = kernels._kernels()
    arrivals = batch.arrivals
    packed = pack_arrivals(arrivals)
    if packed is None:
        return None
    sink_args = _sink_args(sink, Y)
    if sink_args is None:
        return None
    C_, H, M = Y.shape
    # each segment's parameter regime and closure state, packed once per distinct one
    regimes, opens, seg_regime, seg_open = {}, {}, [], []
    pars, P3s, Pws, open_rows = [], [], [], []
    for t0, t1 in zip(edges[:-1], edges[1:]):
        lo = t0 + 1e-9 * (t1 - t0)
        r = batch.regime_at(t0) if batch.regime_flows else 0
        if r not in regimes:
            rhs.use_flow(batch.flow_at(t0))
            regimes[r] = len(pars)
            pars.append(pack_rates(rhs, nb.PAR_NAMES))
        is_open = np.asarray(arrivals.is_open(lo), dtype=bool)
        key = is_open.tobytes()
        if key not in opens:
            rhs.use_open(is_open)
            opens[key] = len(P3s)
            P3, Pw = pack_onward(rhs)
            P3s.append(P3)
            Pws.append(Pw)
            open_rows.append(is_open.astype(float))
        seg_regime.append(regimes[r])
        seg_open.append(opens[key])
    adaptive = steps is None
    plan_t = np.zeros(0) if adaptive else np.ascontiguousarray(steps[0], dtype=float)
    plan_h = np.zeros(0) if adaptive else np.ascontiguousarray(steps[1], dtype=float)
    capacity = max_steps + 1 if adaptive else plan_t.size
    acc_t, acc_h = np.empty(capacity), np.empty(capacity)
    worst, dropped = np.zeros(M), np.zeros(M)
    ist, fst = np.zeros(3, dtype=np.int64), np.zeros(2)
    kind, W, starts, groups, outs, coef, poly, full = sink_args
    code = nb.march(
        ist, fst, np.array(Y, dtype=float, order="C"), np.empty((C_, H, M)), np.empty((7, C_, H, M)),
        np.empty((batch.layout.present.stop, H, M)), np.empty(M), worst, dropped,
        np.ascontiguousarray(threshold, dtype=float), np.asarray(edges, dtype=float),
        np.array(seg_regime, np.int64), np.array(seg_open, np.int64), np.ascontiguousarray(np.stack(pars)),
        np.ascontiguousarray(np.stack(P3s)), np.ascontiguousarray(np.stack(Pws)),
        np.ascontiguousarray(np.stack(open_rows)), packed.D, packed.diverts, pack_entry(rhs), rhs.layout.k,
        packed.term_i, packed.term_f, np.empty((6, H, packed.width)), np.empty((H, packed.width)),
        np.empty(packed.width), adaptive, plan_t, plan_h, acc_t, acc_h, int(max_steps), float(rtol), float(atol),
        A, B, C, E, P, np.empty((H + 5, M)), kind, W, starts, groups, outs, coef, poly, full, np.empty((3, M)))
    t = float(fst[nb.F_T])
    if code == nb.TOO_MANY_STEPS:
        raise IntegrationError(
            f"the ensemble solver needed more than {max_steps:,} steps (stopped at day {t:.4g} of {horizon}): "
            "the model is stiff at these parameters (a time constant of minutes, or a rate of hundreds "
            "per day). Fix: use slower rates, or run the members one by one with method='LSODA'."
        )
    if code == nb.STEP_TOO_SMALL:
        raise IntegrationError(f"the ensemble solver's step fell below {fst[nb.F_H_NEXT]:.3g} days at day {t:g}: "
                               "the error test cannot be met; loosen `rtol`/`atol`.")
    if code == nb.PLAN_MISMATCH:
        raise SolverError("the step plan does not match this integration (a plan is made for one "
                          "scenario and horizon).")
    if code == nb.PLAN_TOO_LONG:
        raise SolverError("the step plan is longer than this integration (a plan is made for one horizon).")
    n = int(ist[nb.S_ACCEPTED])
    accepted = list(zip(acc_t[:n].tolist(), acc_h[:n].tolist()))
    stats = {"nfev": int(ist[nb.S_NFEV]), "steps": n, "rejected": int(ist[nb.S_REJECTED]),
             "drained_people": dropped}
    return accepted, worst, stats
