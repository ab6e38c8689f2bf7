"""Arrival schedules and closure windows.

A schedule describes direct arrivals from the origin into one host, in
people/day, on calendar dates. Schedules are frozen dataclasses; before solving
they are *compiled* against the scenario's start date into
:class:`CompiledSchedule` objects that work in days since the start.

Three shapes are provided (docs/model.md, "Time, places, people"):

* :class:`Pulse` -- a total spread with a gamma-shaped profile;
* :class:`PiecewiseLinear` -- a rate given at knots, linear between them;
* :class:`DailyCounts` -- people entering during each day, a constant rate over
  ``[d, d + 1)``.

A :class:`Closure` is a window of dates during which a host receives no one.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_in_bounds, to_date
from ..exceptions import ScheduleError
from .specs import MAX_PEOPLE, MAX_TIME_DAYS, MIN_TIME_DAYS

__all__ = [
    "Schedule",
    "Pulse",
    "PiecewiseLinear",
    "DailyCounts",
    "Closure",
    "CompiledSchedule",
]


def _special():
    """:mod:`scipy.special`, imported on first use (not by ``import flowsim``)."""
    from scipy import special

    return special


def _days(date: _dt.date, start: _dt.date) -> float:
    return float((date - start).days)


class CompiledSchedule:
    """A schedule in days since the scenario start.

    Subclasses implement :meth:`rate` (people/day at time ``t``, days),
    :meth:`cumulative` (exact integral of the rate over ``[0, t]``, people) and
    expose :attr:`breakpoints` (days where the rate or its slope jumps).
    """

    breakpoints: tuple[float, ...] = ()

    def rate(self, t: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def cumulative(self, t):  # pragma: no cover - abstract
        raise NotImplementedError


class Schedule:
    """Base class of arrival schedules (people/day into one host)."""

    def compile(self, start: _dt.date) -> CompiledSchedule:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


#: Largest gamma shape of a pulse (its width is then 1% of its mean delay).
MAX_SHAPE = 1e4


# --------------------------------------------------------------------------- pulse
@dataclass(frozen=True, kw_only=True)
class Pulse(Schedule):
    """A pulse of ``total`` arrivals with a gamma-shaped profile.

    The rate is ``total * gamma_pdf(t - start; shape, scale_days)`` people/day
    for ``t >= start`` and 0 before.

    Parameters
    ----------
    total : float
        People arriving over the whole pulse (>= 0).
    shape : float
        Gamma shape (>= 1, so the rate is finite at the start; 1 is an
        exponential decay from the start).
    scale_days : float
        Gamma scale, days (> 0). The mean arrival time is
        ``shape * scale_days`` days after ``start``.
    start : date or str, optional
        First day of the pulse; default the scenario's start date.

    Examples
    --------
    >>> from flowsim import Pulse
    >>> p = Pulse(total=100_000, shape=2.0, scale_days=2.0, start="2022-09-21")
    >>> round(p.compile(p.start).cumulative(7.0))
    86411
    """

    total: float
    shape: float = 2.0
    scale_days: float = 2.0
    start: _dt.date | None = None

    def __post_init__(self):
        check_in_bounds(self.total, "Pulse.total (people)", 0.0, MAX_PEOPLE, upper_open=True, error=ScheduleError)
        check_in_bounds(self.shape, "Pulse.shape", 1.0, MAX_SHAPE, error=ScheduleError)
        check_in_bounds(self.scale_days, "Pulse.scale_days (days)", MIN_TIME_DAYS, MAX_TIME_DAYS,
                        error=ScheduleError)
        if self.start is not None:
            object.__setattr__(self, "start", to_date(self.start, "Pulse.start", ScheduleError))

    def compile(self, start: _dt.date) -> CompiledSchedule:
        t0 = 0.0 if self.start is None else _days(self.start, start)
        return _CompiledPulse(float(self.total), float(self.shape), float(self.scale_days), t0)

    def to_dict(self) -> dict:
        return {
            "type": "pulse",
            "total": self.total,
            "shape": self.shape,
            "scale_days": self.scale_days,
            "start": None if self.start is None else self.start.isoformat(),
        }


class _CompiledPulse(CompiledSchedule):
    def __init__(self, total, shape, scale, t0):
        self.total, self.shape, self.scale, self.t0 = total, shape, scale, t0
        self._log_norm = -_special().gammaln(shape) - math.log(scale)
        self.breakpoints = (t0, *_narrow_pulse_cuts(shape, scale, t0))

    def rate(self, t):
        x = (t - self.t0) / self.scale
        if x <= 0.0:
            # shape == 1 starts at total/scale; the t0 breakpoint makes the solver
            # start a new segment there, so the right-limit is what matters.
            return self.total / self.scale if (x == 0.0 and self.shape == 1.0) else 0.0
        return self.total * math.exp((self.shape - 1.0) * math.log(x) - x + self._log_norm)

    def cumulative(self, t):
        x = np.maximum((np.asarray(t, dtype=float) - self.t0) / self.scale, 0.0)
        return self.total * _special().gammainc(self.shape, x)


#: A pulse whose arrivals (all but 1e-13 of them) fall within this many days is *narrow*.
NARROW_PULSE_DAYS = 1.0


def _narrow_pulse_cuts(shape: float, scale: float, t0: float) -> tuple[float, ...]:
    """Extra breakpoints that make the solver step exactly across a narrow pulse.

    A pulse much shorter than the solver's natural step (a day or more) could
    be stepped over, losing or inventing people. For a pulse whose arrivals
    all but 1e-13 fall within :data:`NARROW_PULSE_DAYS`, the solver gets
    breakpoints at its median and at the end of that support, so the pulse
    is integrated on its own short segments.
    """
    end = scale * float(_special().gammaincinv(shape, 1.0 - 1e-13))
    if not end < NARROW_PULSE_DAYS:
        return ()
    median = scale * float(_special().gammaincinv(shape, 0.5))
    return tuple(t0 + x for x in (median, end) if x > 0.0)


# ------------------------------------------------------------------ piecewise linear
@dataclass(frozen=True, kw_only=True)
class PiecewiseLinear(Schedule):
    """Arrival rate given at dates, linear in between, zero outside.

    Parameters
    ----------
    points : sequence of (date, float)
        ``(date, rate)`` pairs, rate in people/day (>= 0), dates strictly
        increasing. The rate is 0 before the first and after the last date.

    Examples
    --------
    >>> from flowsim import PiecewiseLinear
    >>> s = PiecewiseLinear(points=[("2022-09-21", 0), ("2022-09-23", 2000), ("2022-09-25", 0)])
    >>> float(s.compile(s.points[0][0]).cumulative(10.0))
    4000.0
    """

    points: tuple[tuple[_dt.date, float], ...]

    def __post_init__(self):
        try:
            pts = [(d, r) for d, r in self.points]
        except (TypeError, ValueError):
            raise ScheduleError(
                f"PiecewiseLinear.points must be a sequence of (date, rate) pairs; got {self.points!r}."
            ) from None
        if len(pts) < 2:
            raise ScheduleError(f"PiecewiseLinear.points needs at least 2 points; got {len(pts)}.")
        clean = []
        for i, (d, r) in enumerate(pts):
            d = to_date(d, f"PiecewiseLinear.points[{i}] date", ScheduleError)
            r = check_in_bounds(r, f"PiecewiseLinear.points[{i}] rate (people/day)", 0.0, MAX_PEOPLE,
                                upper_open=True, error=ScheduleError)
            if clean and d <= clean[-1][0]:
                raise ScheduleError(
                    f"PiecewiseLinear.points[{i}] date {d} must come after {clean[-1][0]} "
                    "(dates strictly increasing)."
                )
            clean.append((d, r))
        object.__setattr__(self, "points", tuple(clean))

    def compile(self, start: _dt.date) -> CompiledSchedule:
        t = np.array([_days(d, start) for d, _ in self.points])
        r = np.array([rate for _, rate in self.points])
        return _CompiledLinear(t, r)

    def to_dict(self) -> dict:
        return {"type": "piecewise_linear", "points": [[d.isoformat(), r] for d, r in self.points]}


class _CompiledLinear(CompiledSchedule):
    def __init__(self, t, r):
        self.t, self.r = t, r
        self.breakpoints = tuple(float(x) for x in t)
        seg = 0.5 * (r[1:] + r[:-1]) * np.diff(t)
        self._cum = np.concatenate([[0.0], np.cumsum(seg)])

    def rate(self, t):
        if t < self.t[0] or t > self.t[-1]:
            return 0.0
        return float(np.interp(t, self.t, self.r))

    def cumulative(self, t):
        tt = np.clip(np.asarray(t, dtype=float), self.t[0], self.t[-1])
        i = np.clip(np.searchsorted(self.t, tt, side="right") - 1, 0, len(self.t) - 2)
        dt = tt - self.t[i]
        slope = (self.r[i + 1] - self.r[i]) / (self.t[i + 1] - self.t[i])
        return self._cum[i] + self.r[i] * dt + 0.5 * slope * dt * dt


# ---------------------------------------------------------------------- daily counts
@dataclass(frozen=True, kw_only=True)
class DailyCounts(Schedule):
    """People entering during each day, as data.

    Day ``d`` (``start + d`` days) contributes a constant rate ``counts[d]``
    people/day over ``[d, d + 1)``.

    Parameters
    ----------
    counts : sequence of float
        People entering on each consecutive day (>= 0).
    start : date or str, optional
        Date of ``counts[0]``; default the scenario's start date.
    """

    counts: tuple[float, ...]
    start: _dt.date | None = None

    def __post_init__(self):
        values = np.asarray(self.counts, dtype=object)
        if values.ndim != 1:
            raise ScheduleError(f"DailyCounts.counts must be a flat sequence, one number per day; got an array of "
                                f"shape {values.shape}. Fix: one schedule per host, or flatten the days in order "
                                "yourself (e.g. counts.ravel()).")
        if values.size == 0:
            raise ScheduleError("DailyCounts.counts needs at least one day; got none.")
        clean = tuple(
            check_in_bounds(v, f"DailyCounts.counts[{i}] (people)", 0.0, MAX_PEOPLE,
                            upper_open=True, error=ScheduleError)
            for i, v in enumerate(values)
        )
        object.__setattr__(self, "counts", clean)
        if self.start is not None:
            object.__setattr__(self, "start", to_date(self.start, "DailyCounts.start", ScheduleError))

    def compile(self, start: _dt.date) -> CompiledSchedule:
        t0 = 0.0 if self.start is None else _days(self.start, start)
        return _CompiledDaily(np.asarray(self.counts, dtype=float), t0)

    def to_dict(self) -> dict:
        return {
            "type": "daily_counts",
            "counts": list(self.counts),
            "start": None if self.start is None else self.start.isoformat(),
        }


class _CompiledDaily(CompiledSchedule):
    def __init__(self, counts, t0):
        self.counts, self.t0 = counts, t0
        self.breakpoints = tuple(t0 + d for d in range(len(counts) + 1))
        self._cum = np.concatenate([[0.0], np.cumsum(counts)])

    def rate(self, t):
        d = math.floor(t - self.t0)
        return float(self.counts[d]) if 0 <= d < len(self.counts) else 0.0

    def cumulative(self, t):
        x = np.clip(np.asarray(t, dtype=float) - self.t0, 0.0, len(self.counts))
        d = np.minimum(np.floor(x).astype(int), len(self.counts) - 1)
        return self._cum[d] + self.counts[d] * (x - d)


# --------------------------------------------------------------------------- closure
@dataclass(frozen=True, kw_only=True)
class Closure:
    """A window during which a host's border is closed.

    While closed, the host's direct arrivals are multiplied by 0 and onward
    movers who would go there go to the rest of the world ``W`` instead.

    Parameters
    ----------
    start : date or str, optional
        First closed day (from 00:00); default the scenario's start.
    end : date or str, optional
        First day open again (the window is ``[start, end)``); default never
        (closed to the end of the horizon).
    """

    start: _dt.date | None = None
    end: _dt.date | None = None

    def __post_init__(self):
        if self.start is not None:
            object.__setattr__(self, "start", to_date(self.start, "Closure.start", ScheduleError))
        if self.end is not None:
            object.__setattr__(self, "end", to_date(self.end, "Closure.end", ScheduleError))
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ScheduleError(
                f"Closure.end ({self.end}) must come after Closure.start ({self.start})."
            )

    def window(self, start: _dt.date) -> tuple[float, float]:
        """The closed window ``[t_a, t_b)`` in days since ``start``."""
        t_a = -math.inf if self.start is None else _days(self.start, start)
        t_b = math.inf if self.end is None else _days(self.end, start)
        return t_a, t_b

    def to_dict(self) -> dict:
        return {
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
        }


def schedule_from_dict(data: dict) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.to_dict` output."""
    kind = data.get("type")
    body = {k: v for k, v in data.items() if k != "type"}
    table = {"pulse": Pulse, "piecewise_linear": PiecewiseLinear, "daily_counts": DailyCounts}
    if not isinstance(kind, str) or kind not in table:
        raise ScheduleError(
            f"arrival schedule type must be one of {', '.join(table)}; got {kind!r}."
        )
    try:
        return table[kind](**body)
    except TypeError as exc:
        raise ScheduleError(f"arrival schedule of type {kind!r}: {exc}") from None


