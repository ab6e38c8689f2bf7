"""Direct arrivals of all hosts, with closures applied, in days since the start."""

from __future__ import annotations

import math

import numpy as np

from ..scenario.schedules import CompiledSchedule

__all__ = ["CompiledArrivals"]


class CompiledArrivals:
    """Arrival rates ``a_h(t)`` and open/closed status of every host.

    Parameters
    ----------
    schedules : list of list of CompiledSchedule
        For each host, the schedules whose rates add up to its arrivals.
    windows : list of list of (float, float)
        For each host, closed windows ``[t_a, t_b)`` in days.
    """

    def __init__(self, schedules: list[list[CompiledSchedule]], windows: list[list[tuple[float, float]]]):
        self.schedules = schedules
        self.windows = windows
        self.n_hosts = len(schedules)
        self._closable = any(windows)

    @classmethod
    def build(cls, hosts, arrivals, closures, start):
        """Compile per-host schedules (:class:`Schedule`) and closures against ``start``."""
        schedules = [[s.compile(start) for s in arrivals.get(h, ())] for h in hosts]
        windows = [[c.window(start) for c in closures.get(h, ())] for h in hosts]
        return cls(schedules, windows)

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
        a = np.array([sum(s.rate(t) for s in per_host) for per_host in self.schedules], dtype=float)
        if self._closable:
            a *= self.is_open(t) if is_open is None else is_open
        return a

    def cumulative(self, t) -> np.ndarray:
        """Exact integral of the arrivals over ``[0, t]``, closures applied.

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
        for h, per_host in enumerate(self.schedules):
            for s in per_host:
                c0 = s.cumulative(0.0)
                total = s.cumulative(t) - c0
                for t_a, t_b in _merged(self.windows[h]):
                    a = max(t_a, 0.0)
                    hi = np.minimum(t, t_b)
                    closed = s.cumulative(np.maximum(hi, a)) - s.cumulative(a)
                    total = total - np.where(hi > a, closed, 0.0)
                out[:, h] += total
        return out

    def daily_counts(self, horizon: int) -> np.ndarray:
        """People entering during each day ``d = 0..horizon-1``, shape (horizon, H)."""
        c = self.cumulative(np.arange(horizon + 1, dtype=float))
        return np.diff(c, axis=0)


def _merged(windows):
    """Union of closed windows as disjoint sorted intervals."""
    out: list[list[float]] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [tuple(w) for w in out]


