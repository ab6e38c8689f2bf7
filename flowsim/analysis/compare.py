"""Differences between the per-host summaries of several runs (pure functions).

The first result is the reference; for every other result, host and summary
figure the difference ``value - reference`` is computed: in the figure's unit
for numbers, in days for dates. Two dates that both do not occur (e.g. no
crossover in either run) agree: their difference is 0. When only one occurs
the difference is undefined (None) and the row says which.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

from ..summary import SUMMARY_COLUMNS
from ..table import Table

__all__ = ["COMPARED_FIGURES", "Difference", "compare_results", "all_zero"]

#: Summary figures compared per host and balance, with their units (dates: days; ``status``: same or changed).
COMPARED_FIGURES = {name: unit for name, unit in SUMMARY_COLUMNS.items() if name not in ("host", "balance")}


@dataclass(frozen=True)
class Difference:
    """One figure of one host: a scenario against the reference.

    Attributes
    ----------
    scenario, reference_scenario : str
        Names of the compared and the reference scenario.
    host, balance, figure, unit : str
        Host code, balance, summary figure (:data:`COMPARED_FIGURES`) and its unit.
    reference, value : float, date or None
        The figure in the reference and in the scenario (None: does not occur).
    difference : float or None
        ``value - reference`` (unit of the figure; days for dates); 0 when both
        are None or a status is the same; None when only one is, or a status changed.
    note : str
        (A property) ``""``, or which side has no value when only one does.
    """

    #: Columns of ``comparison.csv``, in order.
    COLUMNS: ClassVar[tuple[str, ...]] = ("scenario", "reference_scenario", "host", "balance", "figure", "reference",
                                          "value", "difference", "unit", "note")

    scenario: str
    reference_scenario: str
    host: str
    balance: str
    figure: str
    unit: str
    reference: object
    value: object
    difference: float | None

    @property
    def note(self) -> str:
        """``""``, or which side has no value when only one does."""
        if self.difference is not None:
            return ""
        if self.figure == "status":
            return "status changed"
        return f"only in {self.reference_scenario}" if self.value is None else f"only in {self.scenario}"


def _difference(ref, value):
    if ref is None and value is None:
        return 0.0
    if ref is None or value is None:
        return None
    if isinstance(ref, str):
        return 0.0 if ref == value else None
    if isinstance(ref, _dt.date):
        return float((value - ref).days)
    return float(value) - float(ref)


def compare_results(results, names=None, member: int = 0) -> Table:
    """Every summary figure of every host, each result against the first.

    Parameters
    ----------
    results : sequence of Result
        At least two; the first is the reference.
    names : sequence of str, optional
        Labels of the results (default their scenario names).
    member : int
        Ensemble member compared.

    Returns
    -------
    Table
        Of :class:`Difference`, ordered by scenario, host (the reference's
        order), balance, figure; ``.to_csv()`` is ``comparison.csv``. Hosts
        missing from a scenario are reported with value None.
    """
    results = list(results)
    names = [r.scenario.name for r in results] if names is None else list(names)
    ref = results[0].summary("all", member)
    out = []
    for res, name in zip(results[1:], names[1:]):
        table = res.summary("all", member)
        rows = {(row["host"], row["balance"]): row for row in table.rows}
        for row in ref.rows:
            host, balance = row["host"], row["balance"]
            other = rows.get((host, balance), {})
            for figure, unit in COMPARED_FIGURES.items():
                a, b = row[figure], other.get(figure)
                out.append(Difference(name, names[0], host, balance, figure, "days" if unit == "date" else unit,
                                      a, b, _difference(a, b)))
    return Table(tuple(out), title=f"differences against {names[0]}",
                 display=("scenario", "host", "balance", "figure", "reference", "value", "difference", "unit"))


def all_zero(differences) -> bool:
    """Whether every difference is exactly 0 (the scenarios agree everywhere)."""
    return all(d.difference == 0.0 for d in differences)
