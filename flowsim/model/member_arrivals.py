"""Direct arrivals that differ from member to member (e.g. posterior draws of a pulse).

:class:`CompiledArrivals` holds one schedule set shared by every member of a
batch. :class:`MemberArrivals` holds one per member: for each host and
schedule position a *slot* that is either shared (every member has the same
schedule), a stack of :class:`~flowsim.scenario.schedules.Pulse` fields
evaluated vectorised over the members, or a plain list of compiled schedules
(any other schedule that differs). Rates come back with a member axis
``(H, M)``, integrals ``(D, H, M)``; the integrals are exact (each slot's own
closed form), so conservation can be checked per member. Closures and the
diversion matrix are shared by all members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..exceptions import ScheduleError
from ..scenario.arrivals import CompiledArrivals, _complement, _intersect
from ..scenario.schedules import Pulse

__all__ = ["MemberArrivals", "compile_arrivals"]


def _special():
    """:mod:`scipy.special`, imported on first use (not by ``import flowsim``)."""
    from scipy import special

    return special


class _Shared:
    """One compiled schedule that every member shares."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.breakpoints = tuple(compiled.breakpoints)

    def rate(self, t: float):
        return self.compiled.rate(t)

    def cumulative(self, t: np.ndarray) -> np.ndarray:
        return np.asarray(self.compiled.cumulative(t), float)[:, None]          # (D, 1)

    def select(self, idx) -> _Shared:
        return self


class _PulseStack:
    """Gamma pulses with member-specific ``total``, ``shape``, ``scale`` and start, each of shape (M,)."""

    def __init__(self, total, shape, scale, t0):
        self.total, self.shape, self.scale, self.t0 = (np.asarray(a, float) for a in (total, shape, scale, t0))
        self._log_norm = -_special().gammaln(self.shape) - np.log(self.scale)
        self.breakpoints = tuple(sorted(set(self.t0.tolist())))

    def rate(self, t: float) -> np.ndarray:
        x = (t - self.t0) / self.scale
        pos = x > 0.0
        xs = np.where(pos, x, 1.0)
        out = np.where(pos, self.total * np.exp((self.shape - 1.0) * np.log(xs) - xs + self._log_norm), 0.0)
        start = (x == 0.0) & (self.shape == 1.0)                   # as the single pulse: the right limit at t0
        if start.any():
            out = np.where(start, self.total / self.scale, out)
        return out

    def cumulative(self, t: np.ndarray) -> np.ndarray:
        x = np.maximum((np.asarray(t, float)[:, None] - self.t0) / self.scale, 0.0)
        return self.total * _special().gammainc(self.shape, x)                  # (D, M)

    def select(self, idx) -> _PulseStack:
        return _PulseStack(self.total[idx], self.shape[idx], self.scale[idx], self.t0[idx])

    @property
    def extremes(self) -> set[int]:
        """Members with the smallest and largest of each field (reference members of a step plan)."""
        out = set()
        for a in (self.total, self.shape, self.scale, self.shape * self.scale, self.t0):
            out.update((int(np.argmin(a)), int(np.argmax(a))))
        return out


class _Listed:
    """Any other schedules that differ between members: one compiled schedule per member."""

    def __init__(self, compiled: list):
        self.members = list(compiled)
        self.breakpoints = tuple(sorted({b for c in self.members for b in c.breakpoints}))

    def rate(self, t: float) -> np.ndarray:
        return np.array([c.rate(t) for c in self.members])

    def cumulative(self, t: np.ndarray) -> np.ndarray:
        return np.column_stack([np.asarray(c.cumulative(t), float) for c in self.members])

    def select(self, idx) -> _Listed:
        return _Listed([self.members[i] for i in np.asarray(idx, int)])


def _slot(schedules: list, start):
    first = schedules[0]
    if all(s == first for s in schedules[1:]):
        return _Shared(first.compile(start))
    if all(isinstance(s, Pulse) for s in schedules):
        compiled = [s.compile(start) for s in schedules]
        return _PulseStack([c.total for c in compiled], [c.shape for c in compiled], [c.scale for c in compiled],
                           [c.t0 for c in compiled])
    return _Listed([s.compile(start) for s in schedules])


class MemberArrivals(CompiledArrivals):
    """Arrival rates ``a_h(t)`` of every host and member, with shared closures and diversion.

    Build it with :meth:`build`. The interface is that of
    :class:`CompiledArrivals` with a trailing member axis on every rate and
    integral.

    Parameters
    ----------
    slots : list of list
        For each host, its schedule slots (shared, pulse stack or listed).
    windows, diversion
        As in :class:`CompiledArrivals`.
    n_members : int
        Members ``M``.
    """

    per_member = True

    def __init__(self, slots, windows, diversion=None, *, n_members: int):
        super().__init__(slots, windows, diversion)
        self.n_members = int(n_members)

    @classmethod
    def build(cls, hosts, member_arrivals: Sequence[Mapping], closures, start, diversion=None) -> MemberArrivals:
        """Compile the arrival schedules of each member.

        Parameters
        ----------
        hosts : tuple of str
        member_arrivals : sequence of mapping
            One ``{host: (Schedule, ...)}`` per member (as
            :attr:`Scenario.arrivals`); every member must have the same
            number of schedules per host, schedule ``i`` of a host being of
            one type for all members.
        closures, start, diversion
            As in :meth:`CompiledArrivals.build` (shared by the members).

        Raises
        ------
        ScheduleError
            No member, or members whose schedules do not line up.
        """
        members = list(member_arrivals)
        if not members:
            raise ScheduleError("member arrivals: need the arrivals of at least one member; got none.")
        slots = []
        for h in hosts:
            per_member = [tuple(m.get(h, ())) for m in members]
            n = len(per_member[0])
            for i, schedules in enumerate(per_member):
                if len(schedules) != n:
                    raise ScheduleError(f"member arrivals of host {h}: every member must have the same number of "
                                        f"schedules (member 0 has {n}); got {len(schedules)} for member {i}.")
            host_slots = []
            for j in range(n):
                column = [s[j] for s in per_member]
                kinds = {type(s).__name__ for s in column}
                if len(kinds) > 1:
                    raise ScheduleError(f"member arrivals of host {h}: schedule {j} must be of one type for every "
                                        f"member; got {', '.join(sorted(kinds))}.")
                host_slots.append(_slot(column, start))
            slots.append(host_slots)
        shared = CompiledArrivals.build(hosts, {}, closures, start, diversion)
        return cls(slots, [list(w) for w in shared.windows], shared.diversion, n_members=len(members))

    # ---------------------------------------------------------------- rates
    def select(self, members) -> MemberArrivals:
        """The arrivals of some members (indices into the member axis)."""
        idx = np.asarray(members, dtype=int)
        slots = [[s.select(idx) for s in per_host] for per_host in self.schedules]
        return MemberArrivals(slots, self.windows, self.diversion, n_members=idx.size)

    def rate(self, t: float, is_open: np.ndarray | None = None) -> np.ndarray:
        """Direct arrivals (people/day) of every host and member at time ``t``, shape (H, M)."""
        a = np.zeros((self.n_hosts, self.n_members))
        for h, per_host in enumerate(self.schedules):
            for s in per_host:
                a[h] += s.rate(t)
        if not self._closable:
            return a
        is_open = (self.is_open(t) if is_open is None else np.asarray(is_open, bool))[:, None]
        arrived = a * is_open
        if self._diverts:
            arrived += ((a * ~is_open).T @ self.diversion).T * is_open
        return arrived

    def people_arrived(self, t: float) -> np.ndarray:
        """Direct arrivals of all hosts over ``[0, t]``, people, shape (M,)."""
        return self.cumulative([float(t)])[0].sum(axis=0)

    # ------------------------------------------------------------ integrals
    def _integral(self, h: int, intervals, t: np.ndarray) -> np.ndarray:
        total = np.zeros((t.size, self.n_members))
        for s in self.schedules[h]:
            for a, b in intervals:
                a = max(a, 0.0)
                hi = np.minimum(t, b)
                part = s.cumulative(np.maximum(hi, a)) - s.cumulative(np.array([a]))
                total += np.where((hi > a)[:, None], part, 0.0)
        return total

    def cumulative(self, t) -> np.ndarray:
        """Exact integral of the arrivals over ``[0, t]``, closures and diversion applied, shape (D, H, M)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros((t.size, self.n_hosts, self.n_members))
        for j in range(self.n_hosts):
            out[:, j] = self._integral(j, _complement(self.windows[j]), t)
            for h in np.flatnonzero(self.diversion[:, j]):
                both = _intersect(self.windows[h], _complement(self.windows[j]))
                out[:, j] += self.diversion[h, j] * self._integral(h, both, t)
        return out

    def cumulative_refused(self, t) -> np.ndarray:
        """People refused at closed borders and not diverted to an open host, shape (D, H, M)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros((t.size, self.n_hosts, self.n_members))
        for h in range(self.n_hosts):
            out[:, h] = self._integral(h, self.windows[h], t)
            for j in np.flatnonzero(self.diversion[h]):
                both = _intersect(self.windows[h], _complement(self.windows[j]))
                out[:, h] -= self.diversion[h, j] * self._integral(h, both, t)
        return out

    def daily_counts(self, horizon: int) -> np.ndarray:
        """People entering during each day ``d = 0..horizon-1``, shape (horizon, H, M)."""
        return np.diff(self.cumulative(np.arange(horizon + 1, dtype=float)), axis=0)

    def representatives(self, limit: int = 12) -> np.ndarray:
        """A few members spanning the arrivals (extremes of each pulse field; member 0), sorted indices."""
        picks = {0}
        for per_host in self.schedules:
            for s in per_host:
                if isinstance(s, _PulseStack):
                    picks |= s.extremes
                elif isinstance(s, _Listed):
                    picks.update(np.linspace(0, self.n_members - 1, min(4, self.n_members)).astype(int).tolist())
        out = sorted(picks)
        if len(out) > limit:
            out = sorted(np.asarray(out)[np.linspace(0, len(out) - 1, limit).astype(int)].tolist())
        return np.asarray(out, int)


def compile_arrivals(scenario, member_arrivals=None) -> CompiledArrivals:
    """The direct arrivals of ``scenario`` with its closures and diversion, ready for a batch.

    Parameters
    ----------
    scenario : Scenario
    member_arrivals : sequence of mapping, optional
        Each member's own schedules ``{host: (Schedule, ...)}`` (see
        :meth:`MemberArrivals.build`); default the scenario's, shared by every member.

    Returns
    -------
    CompiledArrivals or MemberArrivals
    """
    if member_arrivals is None:
        return CompiledArrivals.build(scenario.hosts, scenario.arrivals, scenario.closures, scenario.start,
                                      scenario.diversion)
    return MemberArrivals.build(scenario.hosts, member_arrivals, scenario.closures, scenario.start,
                                scenario.diversion)
