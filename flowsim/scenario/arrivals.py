"""Direct arrivals of all hosts, with closures and diversion applied, in days since the start.

While host ``h`` is closed its direct arrivals ``a_h(t)`` are refused; a share
``D[h, j]`` of them goes to host ``j`` instead when ``j`` is open at that time
(the diversion matrix of the scenario; zero by default), the rest stay at the
origin and never arrive. The exact integrals of these rates are computed from
the schedules' own integrals over intervals, so conservation can be checked
against them.
"""

from __future__ import annotations

import math

import numpy as np

from .schedules import CompiledSchedule

__all__ = ["CompiledArrivals"]

Intervals = list[tuple[float, float]]


class CompiledArrivals:
    """Arrival rates ``a_h(t)`` and open/closed status of every host.

    Parameters
    ----------
    schedules : list of list of CompiledSchedule
        For each host, the schedules whose rates add up to its arrivals.
    windows : list of list of (float, float)
        For each host, closed windows ``[t_a, t_b)`` in days.
    diversion : ndarray, shape (H, H), optional
        ``D[h, j]``: share of ``h``'s refused arrivals sent to ``j``.
    """

    #: Rates and integrals have no member axis: every member of a batch shares them
    #: (:class:`~flowsim.model.member_arrivals.MemberArrivals` has one).
    per_member = False

    def __init__(self, schedules: list[list[CompiledSchedule]], windows: list[Intervals],
                 diversion: np.ndarray | None = None):
        self.schedules = schedules
        self.n_hosts = len(schedules)
        self.windows = [_merged(w) for w in windows]
        self.diversion = np.zeros((self.n_hosts, self.n_hosts)) if diversion is None else np.asarray(diversion)
        self._closable = any(self.windows)
        self._diverts = bool(self.diversion.any())
        self._rates = [(h, s.rate) for h, per_host in enumerate(schedules) for s in per_host]

    @classmethod
    def build(cls, hosts, arrivals, closures, start, diversion=None):
        """Compile per-host schedules, closures and a diversion mapping against ``start``."""
        schedules = [[s.compile(start) for s in arrivals.get(h, ())] for h in hosts]
        windows = [[c.window(start) for c in closures.get(h, ())] for h in hosts]
        D = np.zeros((len(hosts), len(hosts)))
        for h, row in (diversion or {}).items():
            for j, share in row.items():
                D[hosts.index(h), hosts.index(j)] = share
        return cls(schedules, windows, D)

    def select(self, members) -> CompiledArrivals:
        """The arrivals of some members of a batch: the same, since every member shares them."""
        return self

    def people_arrived(self, t: float) -> float:
        """Direct arrivals of all hosts over ``[0, t]``, people."""
        return self.cumulative([float(t)]).sum()

    def breakpoints(self, horizon: float) -> list[float]:
        """Sorted times in ``(0, horizon)`` where a rate or a closure jumps."""
        pts = set()
        for per_host in self.schedules:
            for s in per_host:
                pts.update(s.breakpoints)
        for per_host in self.windows:
            for t_a, t_b in per_host:
                pts.update((t_a, t_b))
        return sorted(p for p in pts if math.isfinite(p) and 0.0 < p < horizon)

    def is_open(self, t: float) -> np.ndarray:
        """Boolean array (H,): whether each host is open at time ``t`` (days)."""
        out = np.ones(self.n_hosts, dtype=bool)
        if self._closable:
            for h, per_host in enumerate(self.windows):
                for t_a, t_b in per_host:
                    if t_a <= t < t_b:
                        out[h] = False
        return out

    def rate(self, t: float, is_open: np.ndarray | None = None) -> np.ndarray:
        """Direct arrivals (people/day) of every host at time ``t``, shape (H,)."""
        sums = [0.0] * self.n_hosts
        for h, rate in self._rates:                   # the schedules of a host add up, in their order
            sums[h] += rate(t)
        a = np.array(sums)
        if not self._closable:
            return a
        is_open = self.is_open(t) if is_open is None else is_open
        arrived = a * is_open
        if self._diverts:
            arrived += ((a * ~is_open) @ self.diversion) * is_open
        return arrived

    # ------------------------------------------------------------ integrals
    def _open(self, h: int) -> Intervals:
        return _complement(self.windows[h])

    def _integral(self, h: int, intervals: Intervals, t: np.ndarray) -> np.ndarray:
        """Integral of host ``h``'s raw schedule rates over ``intervals ∩ [0, t]``."""
        total = np.zeros_like(t)
        for s in self.schedules[h]:
            for a, b in intervals:
                a = max(a, 0.0)
                hi = np.minimum(t, b)
                part = s.cumulative(np.maximum(hi, a)) - s.cumulative(a)
                total += np.where(hi > a, part, 0.0)
        return total

    def cumulative(self, t) -> np.ndarray:
        """Exact integral of the arrivals over ``[0, t]``, closures and diversion applied.

        Parameters
        ----------
        t : array_like, shape (D,)
            Times in days.

        Returns
        -------
        ndarray, shape (D, H)
            People.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros((t.size, self.n_hosts))
        for j in range(self.n_hosts):
            out[:, j] = self._integral(j, self._open(j), t)
            for h in np.flatnonzero(self.diversion[:, j]):
                both = _intersect(self.windows[h], self._open(j))
                out[:, j] += self.diversion[h, j] * self._integral(h, both, t)
        return out

    def cumulative_refused(self, t) -> np.ndarray:
        """People refused at closed borders and not diverted to an open host, shape (D, H)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros((t.size, self.n_hosts))
        for h in range(self.n_hosts):
            out[:, h] = self._integral(h, self.windows[h], t)
            for j in np.flatnonzero(self.diversion[h]):
                both = _intersect(self.windows[h], self._open(j))
                out[:, h] -= self.diversion[h, j] * self._integral(h, both, t)
        return out

    def daily_counts(self, horizon: int) -> np.ndarray:
        """People entering during each day ``d = 0..horizon-1``, shape (horizon, H)."""
        c = self.cumulative(np.arange(horizon + 1, dtype=float))
        return np.diff(c, axis=0)


def _merged(windows) -> Intervals:
    """Union of windows as disjoint sorted intervals."""
    out: list[list[float]] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [tuple(w) for w in out]


def _complement(windows: Intervals) -> Intervals:
    """``(-inf, inf)`` minus sorted disjoint ``windows``."""
    out, lo = [], -math.inf
    for a, b in windows:
        if a > lo:
            out.append((lo, a))
        lo = b
    if lo < math.inf:
        out.append((lo, math.inf))
    return out


def _intersect(xs: Intervals, ys: Intervals) -> Intervals:
    """Intersection of two sorted disjoint interval lists."""
    out = []
    for a, b in xs:
        for c, d in ys:
            lo, hi = max(a, c), min(b, d)
            if lo < hi:
                out.append((lo, hi))
    return out
