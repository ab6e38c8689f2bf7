"""Typed records of the shipped datasets and a small table container for them.

An :class:`Observation` is one published figure about the 2022 outflow (a
border count, a registration total, a share...), with its window of dates, its
qualifier ("more than", "about"...) and its source. An :class:`EconomyRecord`
is one economic indicator as a source stated it. A :class:`RecordTable` holds
records of one type in file order (it is flowsim's one table type,
:class:`flowsim.table.Table`): it filters them, renders as text or HTML and
writes CSV or a pandas DataFrame.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass

from ..exceptions import ObservationError
from ..table import Table

__all__ = ["Observation", "EconomyRecord", "RecordTable", "ObservationTable", "QUALIFIERS", "SHARE_UNITS"]

#: Qualifiers understood in the ``qualifier`` column (lower case; empty = stated plainly),
#: and what each makes of the figure (see ``docs/calibration.md``).
QUALIFIERS: dict[str, str] = {
    "": "point",
    "exactly": "point",
    "about": "rough point",
    "approximately": "rough point",
    "around": "rough point",
    "roughly": "rough point",
    "some": "rough point",
    "more than": "lower bound",
    "at least": "lower bound",
    "over": "lower bound",
    "a little more than": "range [value, 1.1 value]",
    "almost": "range [0.9 value, value]",
    "nearly": "range [0.9 value, value]",
    "up to": "upper bound",
    "less than": "upper bound",
    "at most": "upper bound",
    "under": "upper bound",
}

#: Units whose figures are shares of a whole, so in [0, 1].
SHARE_UNITS = ("share",)


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One published figure, to be compared with the model.

    Attributes
    ----------
    host : str
        ISO 3166 alpha-3 code of the host country.
    quantity : str
        What was counted; one of the observation model's quantities
        (:data:`flowsim.analysis.observations.QUANTITIES`, e.g.
        ``cumulative_entries``).
    date_start, date_end : datetime.date
        The window the figure covers, both days included (``date_end >= date_start``).
    value : float or None
        The figure (people, people/day, a share or a ratio; see ``unit``).
    low, high : float or None
        A stated range, where the source gives one.
    unit : str
        ``persons``, ``persons/day``, ``share`` or ``ratio``.
    qualifier : str
        As the source words it (``more than``, ``about``, ``up to``...), empty
        when the figure is stated plainly; see
        :data:`flowsim.datasets.QUALIFIERS`.
    note : str
        What the figure includes, caveats.
    source_title, source_url, quote : str
        Where it was published and the words that give the number.
    weight : float or None
        Optional weight in the fit (a ``weight`` column); None means the
        default rules of the observation model.
    sigma : float or None
        Optional relative uncertainty (a ``sigma`` column, e.g. 0.1 for 10%);
        None means the default for the qualifier.
    line : int or None
        Line of the file it was read from (None when made in code).
    """

    host: str
    quantity: str
    date_start: _dt.date
    date_end: _dt.date
    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str = ""
    qualifier: str = ""
    note: str = ""
    source_title: str = ""
    source_url: str = ""
    quote: str = ""
    weight: float | None = None
    sigma: float | None = None
    line: int | None = None

    def __post_init__(self):
        for name in ("date_start", "date_end"):
            value = getattr(self, name)
            if not isinstance(value, _dt.date) or isinstance(value, _dt.datetime):
                from .._validation import to_date

                object.__setattr__(self, name, to_date(value, f"Observation.{name}", ObservationError))
        for name in ("value", "low", "high", "weight", "sigma"):
            value = getattr(self, name)
            if value is not None:
                from .._validation import check_in_bounds

                object.__setattr__(self, name, check_in_bounds(
                    value, f"observation {self.host} {self.quantity}: {name}", 0.0, float("inf"),
                    upper_open=True, error=ObservationError))
        if self.date_end < self.date_start:
            raise ObservationError(
                f"observation {self.host} {self.quantity}: date_end {self.date_end} is before "
                f"date_start {self.date_start}; the window must run forward."
            )
        if self.value is None and self.low is None and self.high is None:
            raise ObservationError(
                f"observation {self.host} {self.quantity} {self.date_start}..{self.date_end}: "
                "give a value, or a low and/or high bound; got none."
            )
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ObservationError(
                f"observation {self.host} {self.quantity} {self.date_start}..{self.date_end}: "
                f"low ({self.low:g}) is above high ({self.high:g}); swap them."
            )
        if not isinstance(self.qualifier, str) or self.qualifier not in QUALIFIERS:
            from .._validation import did_you_mean

            fix = did_you_mean(str(self.qualifier), [q for q in QUALIFIERS if q])
            raise ObservationError(
                f"observation {self.host} {self.quantity}: unknown qualifier {self.qualifier!r}; allowed: "
                f"{', '.join(repr(q) for q in QUALIFIERS if q)} or empty (lower case).{fix}"
            )
        if isinstance(self.unit, str) and self.unit.lower() in SHARE_UNITS:
            for name in ("value", "low", "high"):
                x = getattr(self, name)
                if x is not None and x > 1:
                    raise ObservationError(f"observation {self.host} {self.quantity}: {name} is a share (unit "
                                           f"{self.unit!r}), so it must be in [0, 1]; got {x:g}.")

    @property
    def label(self) -> str:
        """Short identification: ``KAZ cumulative_entries 2022-09-21..2022-09-27``."""
        span = self.date_end.isoformat() if self.date_start == self.date_end else \
            f"{self.date_start.isoformat()}..{self.date_end.isoformat()}"
        return f"{self.host} {self.quantity} {span}"

    @property
    def days(self) -> int:
        """Number of calendar days in the window (both ends included)."""
        return (self.date_end - self.date_start).days + 1

    def replace(self, **changes) -> Observation:
        """A copy with fields replaced (e.g. ``value=...`` for synthetic data)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class EconomyRecord:
    """One economic indicator as a source stated it (``economy_context_2022.csv``).

    Attributes
    ----------
    country : str
        Country or region, as written in the source table (``Kazakhstan``,
        ``Tbilisi (Georgia)``, ``Regional``...).
    indicator : str
        What was measured.
    period : str
        The period or date as written (``2022-01 to 2022-05``, ``late Sep 2022``).
    period_start, period_end : datetime.date or None
        The period as dates when it is written as ISO dates, months
        (``2022-09``), quarters (``2022-Q2``), halves (``2022-H1``) or years,
        optionally ``A to B``; None when it is free text.
    value : float or None
        The value when it is a plain number; None otherwise (see ``value_text``).
    low, high : float or None
        Both ends when the value is a plain range such as ``20-30``.
    value_text : str
        The value as written (``4.5 -> 9``, ``20-30``, ``qualitative``...).
    unit : str
        As written (``percent``, ``USD million (about)``...).
    source_title, source_url, quote : str
        Where it was published and the words that give it.
    line : int or None
        Line of the file it was read from.
    """

    country: str
    indicator: str
    period: str
    period_start: _dt.date | None
    period_end: _dt.date | None
    value: float | None
    low: float | None
    high: float | None
    value_text: str
    unit: str
    source_title: str
    source_url: str
    quote: str
    line: int | None = None


#: The table of records: flowsim's one table type (:class:`flowsim.table.Table`), under its older name.
RecordTable = Table


@dataclass(frozen=True, eq=False, repr=False)
class ObservationTable(Table):
    """A :class:`~flowsim.table.Table` of :class:`Observation` records, with date helpers."""

    display: tuple = ("host", "quantity", "date_start", "date_end", "value", "low", "high", "qualifier",
                      "source_title")

    def _error(self, message: str) -> ObservationError:
        return ObservationError(message)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Host codes that have observations, in order of first appearance."""
        return tuple(dict.fromkeys(o.host for o in self.records))

    @property
    def quantities(self) -> tuple[str, ...]:
        """Quantities observed, in order of first appearance."""
        return tuple(dict.fromkeys(o.quantity for o in self.records))

    def until(self, date) -> ObservationTable:
        """Observations whose window ends on or before ``date``."""
        from .._validation import to_date

        d = to_date(date, "until", ObservationError)
        return self.filter(lambda o: o.date_end <= d)

    def after(self, date) -> ObservationTable:
        """Observations whose window ends after ``date``."""
        from .._validation import to_date

        d = to_date(date, "after", ObservationError)
        return self.filter(lambda o: o.date_end > d)


def as_observation_table(observations, where: str = "observations") -> ObservationTable:
    """Accept an :class:`ObservationTable`, a list of :class:`Observation` or a single one."""
    if isinstance(observations, ObservationTable):
        return observations
    if isinstance(observations, Observation):
        observations = [observations]
    try:
        items = tuple(observations)
    except TypeError:
        raise ObservationError(
            f"{where} must be an ObservationTable or a list of Observation records; "
            f"got {type(observations).__name__}."
        ) from None
    for item in items:
        if not isinstance(item, Observation):
            raise ObservationError(f"{where} must hold Observation records; got {item!r}.")
    return ObservationTable(items, title=where)
