"""Ordinary border traffic: the part of gross border counts that is not the outflow.

Border counts of Russian citizens entering or leaving a host include the usual
travellers (Kazakhstan: about 8,500 entries a day before 21 September 2022).
The model simulates the outflow only, so the observation model adds a
background rate ``b_h(t)`` (people/day) to the model's entries and exits
before comparing them with gross counts.

The rate is piecewise constant in calendar time: a host has one or more levels,
each applying from its date until the next level's date; the first level also
applies to every earlier day. Ordinary travellers come and go, so by default
exits carry the same background as entries; give ``exits`` separately when
they differ.

Example: ``BackgroundTraffic(entries={"KAZ": {"2022-01-01": 8500, "2022-10-01": 3000}})``
is 8,500 people/day up to 30 September and 3,000 from 1 October, in both
directions. Kazakhstan's entries in October 2022 (all travellers, about 4,600 a
day) fell below the ordinary traffic before 21 September, so a single level
cannot fit both months: a separate level from 1 October lets the calibration
find how far ordinary travel fell.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_in_bounds, did_you_mean, to_date
from ..exceptions import ObservationError
from ..scenario.free_parameters import Label

__all__ = ["BackgroundTraffic", "BackgroundLevel", "DIRECTIONS", "DEFAULT_BREAKS"]

#: The two directions of border traffic.
DIRECTIONS = ("entries", "exits")

#: Dates from which :meth:`BackgroundTraffic.from_observations` starts a new level.
DEFAULT_BREAKS = (_dt.date(2022, 10, 1),)

Levels = tuple[tuple[_dt.date, float], ...]


@dataclass(frozen=True)
class BackgroundLevel:
    """One level of a background schedule: ``rate`` people/day from ``start`` on."""

    direction: str
    host: str
    start: _dt.date
    rate: float
    first: bool

    @property
    def name(self) -> str:
        """Calibration name: ``background[KAZ]`` (first level) or ``background[KAZ@2022-10-01]``."""
        stem = "background" if self.direction == "entries" else "background_exits"
        return str(Label(stem, self.host, period=None if self.first else self.start))


@functools.lru_cache(maxsize=256)
def _level_arrays(levels: Levels) -> tuple[np.ndarray, np.ndarray]:
    """The start days (ordinals) and rates of some levels, as arrays (read-only: they are shared)."""
    starts = np.array([d.toordinal() for d, _ in levels])
    rates = np.array([r for _, r in levels])
    starts.flags.writeable = rates.flags.writeable = False
    return starts, rates


def _levels(value, host: str, what: str) -> Levels:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        pairs = [(_dt.date.min, value)]
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        try:
            pairs = [(d, r) for d, r in value]
        except (TypeError, ValueError):
            raise ObservationError(
                f"{what} for host {host} must be a rate (people/day), a mapping {{date: rate}} or "
                f"(date, rate) pairs; got {value!r}."
            ) from None
    if not pairs:
        raise ObservationError(f"{what} for host {host}: at least one level is needed; got none.")
    clean = []
    for d, r in pairs:
        d = d if d == _dt.date.min else to_date(d, f"{what} date for host {host}", ObservationError)
        r = check_in_bounds(r, f"{what} rate for host {host} from {d} (people/day)", 0.0, math.inf,
                            upper_open=True, error=ObservationError)
        clean.append((d, r))
    clean.sort(key=lambda p: p[0])
    for (a, _), (b, _) in zip(clean, clean[1:]):
        if a == b:
            raise ObservationError(f"{what} for host {host}: two levels start on {a}; keep one.")
    return tuple(clean)


@dataclass(frozen=True, kw_only=True)
class BackgroundTraffic:
    """Ordinary border traffic per host, people/day, piecewise constant by date.

    Parameters
    ----------
    entries : mapping of str to rate, mapping or pairs
        Per host: a constant rate (people/day), or ``{date: rate}`` /
        ``[(date, rate), ...]``: each rate applies from its date to the next
        one; the first also applies to all earlier days.
    exits : mapping, optional
        The same for exits; default None: exits have the entries' background
        (ordinary travellers leave as they come).

    Examples
    --------
    >>> from flowsim.analysis.background import BackgroundTraffic
    >>> bg = BackgroundTraffic(entries={"KAZ": {"2022-01-01": 8500, "2022-10-01": 3000}})
    >>> float(bg.total("entries", "KAZ", "2022-09-29", "2022-10-02"))   # 2 days at 8,500, 2 at 3,000
    23000.0
    >>> [lv.name for lv in bg.levels()]
    ['background[KAZ]', 'background[KAZ@2022-10-01]']
    """

    entries: Mapping[str, Levels] = field(default_factory=dict)
    exits: Mapping[str, Levels] | None = None

    def __post_init__(self):
        object.__setattr__(self, "entries", {h: _levels(v, h, "background entries")
                                             for h, v in dict(self.entries).items()})
        if self.exits is not None:
            object.__setattr__(self, "exits", {h: _levels(v, h, "background exits")
                                               for h, v in dict(self.exits).items()})

    # ------------------------------------------------------------------- access
    def _schedule(self, direction: str, host: str) -> Levels:
        if direction not in DIRECTIONS:
            raise ObservationError(f"background direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}.")
        table = self.entries if direction == "entries" or self.exits is None else self.exits
        return table.get(host, ())

    @property
    def hosts(self) -> tuple[str, ...]:
        """Hosts with a background level in either direction."""
        return tuple(dict.fromkeys([*self.entries, *(self.exits or {})]))

    def daily(self, direction: str, host: str, date_start, date_end) -> np.ndarray:
        """Background people on each calendar day ``date_start..date_end`` (both included).

        Returns
        -------
        ndarray, shape (days,)
            People/day on each day (0 for a host without background).
        """
        d0 = date_start if type(date_start) is _dt.date else to_date(date_start, "date_start", ObservationError)
        d1 = date_end if type(date_end) is _dt.date else to_date(date_end, "date_end", ObservationError)
        n = (d1 - d0).days + 1
        levels = self._schedule(direction, host)
        if not levels or n <= 0:
            return np.zeros(max(n, 0))
        days = d0.toordinal() + np.arange(n)
        starts, rates = _level_arrays(levels)
        idx = np.searchsorted(starts, days, side="right") - 1      # in [-1, levels - 1]
        np.maximum(idx, 0, out=idx)                                 # the first level also applies before its date
        return rates[idx]

    def total(self, direction: str, host: str, date_start, date_end) -> float:
        """Background people over the days ``date_start..date_end`` (both included)."""
        return float(self.daily(direction, host, date_start, date_end).sum())

    def levels(self) -> list[BackgroundLevel]:
        """Every level, entries first, then exits when given separately."""
        out = []
        for direction, table in (("entries", self.entries), ("exits", self.exits or {})):
            for host, levels in table.items():
                for i, (d, r) in enumerate(levels):
                    out.append(BackgroundLevel(direction, host, d, r, i == 0))
        return out

    def level(self, direction: str, host: str, start: _dt.date | None = None) -> BackgroundLevel:
        """The level of ``host`` starting on ``start`` (the first level when None)."""
        for lv in self.levels():
            if lv.direction == direction and lv.host == host and (lv.first if start is None else lv.start == start):
                return lv
        known = [lv.name for lv in self.levels()]
        want = BackgroundLevel(direction, host, start or _dt.date.min, 0.0, start is None).name
        fix = did_you_mean(want, known)
        raise ObservationError(
            f"no background level {want}; levels: {', '.join(known) or 'none'}.{fix}"
        )

    def with_level(self, direction: str, host: str, start: _dt.date | None, rate: float) -> BackgroundTraffic:
        """A copy with one level's rate replaced (``start=None``: the first level)."""
        lv = self.level(direction, host, start)
        table = dict(self.entries if direction == "entries" else self.exits)
        table[host] = tuple((d, rate if d == lv.start else r) for d, r in table[host])
        return dataclasses.replace(self, **{direction: table})

    # -------------------------------------------------------------- builders
    @classmethod
    def from_observations(cls, observations, *, breaks=DEFAULT_BREAKS) -> BackgroundTraffic:
        """Levels taken from ``baseline_daily_entries`` observations.

        For every host with such an observation, the first level is its value
        (the middle of ``low..high`` when no value is given), from the
        observation's first date; each date of ``breaks`` (default 1 October
        2022) starts another level at the same rate, for a calibration to
        move. Hosts without a baseline get no background.

        Parameters
        ----------
        observations : ObservationTable or list of Observation
        breaks : sequence of date
            Dates that start a new level (after the baseline window).

        Returns
        -------
        BackgroundTraffic
        """
        entries: dict[str, dict] = {}
        for obs in observations:
            if obs.quantity != "baseline_daily_entries" or obs.host in entries:
                continue
            rate = obs.value if obs.value is not None else 0.5 * ((obs.low or obs.high) + (obs.high or obs.low))
            levels = {obs.date_start: rate}
            for b in breaks:
                b = to_date(b, "breaks", ObservationError)
                if b > obs.date_end:
                    levels[b] = rate
            entries[obs.host] = levels
        return cls(entries=entries)

    def to_dict(self) -> dict:
        """Levels as ``{"entries": {host: [[date or null, rate], ...]}, "exits": ... or null}``."""
        def dump(table):
            return {h: [[None if d == _dt.date.min else d.isoformat(), r] for d, r in levels]
                    for h, levels in table.items()}

        return {"entries": dump(self.entries), "exits": None if self.exits is None else dump(self.exits)}

    def __repr__(self) -> str:
        parts = []
        for lv in self.levels():
            since = "" if lv.start == _dt.date.min else f" from {lv.start}"
            parts.append(f"{lv.direction} {lv.host}: {lv.rate:,.0f}/day{since}")
        mirror = "; exits = entries" if self.exits is None and self.entries else ""
        return f"<BackgroundTraffic {'; '.join(parts) or 'none'}{mirror}>"
