"""The fields that every row of "a published figure against the model" shares.

A calibration's residuals (:class:`~flowsim.calibration.ResidualRow`), a
validation's rows (:class:`~flowsim.calibration.ValidationRow`) and a
backtest's scores (:class:`~flowsim.calibration.ScoreRow`) each put one
published figure beside what the model makes of it. The figure's side is the
same in all three and lives here, in :class:`FigureRow`; each row type adds
its own columns and declares the column order of its CSV file (``COLUMNS``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["FigureRow"]


@dataclass(frozen=True, kw_only=True)
class FigureRow:
    """One published figure, as the observation model reads it, and its relative error.

    Attributes
    ----------
    host : str
        ISO 3166 alpha-3 code of the host.
    quantity : str
        What was counted (``cumulative_entries``...).
    date_start, date_end : datetime.date
        The window the figure covers, both days included.
    observed : float or None
        The published value (None for a figure given only as bounds).
    low, high : float or None
        The set the figure accepts, the figure's unit (``low = high =
        observed`` for a point; one end None for a one-sided figure).
    qualifier : str
        As published (``more than``, ``about``...; empty when plain).
    constraint : str
        What is asked of the model (``= 98,000``, ``>= 200,000``, ``in [a, b]``).
    kind : str
        ``point``, ``lower``, ``upper`` or ``range``.
    sigma : float
        Relative standard deviation of the figure's error (a fraction).
    weight : float
        Weight in the fit (0: not fitted).
    relative_error : float
        Distance of the model's value outside the accepted set, relative to
        the figure (signed; 0 inside a bound or range).
    line : int or None
        Line in the observations file (None when made in code).
    """

    #: Column order of the row's table and CSV file (subclasses declare their own).
    COLUMNS: ClassVar[tuple[str, ...]] = ()

    host: str
    quantity: str
    date_start: _dt.date
    date_end: _dt.date
    observed: float | None
    low: float | None
    high: float | None
    qualifier: str
    constraint: str
    kind: str
    sigma: float
    weight: float
    relative_error: float
    line: int | None = None

    @property
    def window(self) -> str:
        """The window as text: ``2022-10-04``, or ``2022-09-21..2022-09-27`` over several days."""
        if self.date_start == self.date_end:
            return self.date_end.isoformat()
        return f"{self.date_start.isoformat()}..{self.date_end.isoformat()}"
