"""flowsim's one table type: rows in a declared column order, as CSV, DataFrame, text and HTML.

Every table flowsim returns is a :class:`Table` (or a subclass that adds a
few helpers): the observations and economy records of
:mod:`flowsim.datasets`, the estimates and residuals of a calibration, the
rows of a validation, the scores and coverage of a backtest, the posterior
estimates, the summary of a result. A table holds its rows (frozen
dataclasses; the summary's rows are dicts, so that ``row["pv_usd"]`` keeps
working) and knows their columns, so the same four outputs work on each:

* ``table.to_csv()``: CSV text (or a file with ``table.to_csv(path)``), the
  exact text flowsim's commands write (``residuals.csv``, ``scores.csv``...);
* ``table.to_dataframe()``: a :class:`pandas.DataFrame` (needs pandas);
* ``str(table)``: an aligned text table (``display`` columns, long cells cut);
* ``table._repr_html_()``: an escaped HTML table (notebooks).

Examples
--------
>>> import flowsim
>>> obs = flowsim.datasets.observations_2022().filter(host="KAZ", quantity="cumulative_entries")
>>> obs.to_csv(columns=("host", "date_end", "value")).splitlines()[:2]
['host,date_end,value', 'KAZ,2022-09-27,98000.0']
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ._formatting import _html_table, _text_table, format_value
from .exceptions import FlowsimError

__all__ = ["Table", "csv_cell", "csv_text"]


def csv_cell(value) -> str:
    """One CSV cell as flowsim writes it: empty for None and NaN, ISO dates, ``repr`` of floats (round trip)."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def csv_text(header, rows) -> str:
    """CSV text of a header and rows of cells (the ``csv`` module, ``\\n`` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _value(row, column):
    return row[column] if isinstance(row, Mapping) else getattr(row, column)


def _fields(row) -> tuple[str, ...]:
    if isinstance(row, Mapping):
        return tuple(row)
    return tuple(f.name for f in dataclasses.fields(row))


@dataclass(frozen=True, eq=False)
class Table:
    """Rows of one type, in order, with a declared column order.

    Iterate over it, index it (``table[0]``, ``table[2:5]``), filter it
    (``table.filter(host="KAZ")``), and write it with :meth:`to_csv`,
    :meth:`to_dataframe`, ``str(table)`` or ``_repr_html_()``.

    Attributes
    ----------
    records : tuple
        The rows: frozen dataclasses (or mappings) of one type.
    title : str
        What the table holds (the caption of the text and HTML renderings).
    display : tuple of str
        Columns shown by the text and HTML renderings; empty: every column.
    order : tuple of str
        The column order; empty: the row class's ``COLUMNS`` when it declares
        them, else its fields in order (the keys of the first row for mappings).
    """

    records: tuple
    title: str = ""
    display: tuple = ()
    order: tuple = ()

    def __post_init__(self):
        if not isinstance(self.records, tuple):
            object.__setattr__(self, "records", tuple(self.records))

    def __len__(self) -> int:
        return len(self.records)

    def __eq__(self, other):
        """Equal rows in the same order (another table with the same columns, or a list or tuple of rows)."""
        if isinstance(other, Table):
            return self.columns == other.columns and self.records == other.records
        if isinstance(other, (list, tuple)):
            return list(self.records) == list(other)
        return NotImplemented

    __hash__ = None

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return dataclasses.replace(self, records=self.records[index])
        return self.records[index]

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns, in order: :attr:`order`, the row class's ``COLUMNS``, or its fields."""
        if self.order:
            return tuple(self.order)
        if not self.records:
            return ()
        declared = getattr(type(self.records[0]), "COLUMNS", None)
        return tuple(declared) if declared else _fields(self.records[0])

    def _check_columns(self, columns, where: str) -> tuple[str, ...]:
        if columns is None:
            return self.columns
        columns = tuple(columns)
        if self.records:
            row = self.records[0]
            known = _fields(row) + self.columns
            unknown = [c for c in columns if c not in known and not (not isinstance(row, Mapping)
                                                                     and hasattr(row, c))]
            if unknown:
                raise FlowsimError(f"{where}: unknown column(s) {', '.join(map(repr, unknown))}; columns: "
                                   f"{', '.join(self.columns)}.")
        return columns

    def filter(self, predicate=None, **equal) -> Table:
        """Rows for which ``predicate(row)`` is true and every ``column == value``.

        A value may also be a tuple/list/set of accepted values:
        ``table.filter(host=("KAZ", "GEO"), quantity="daily_entries")``.

        Raises
        ------
        FlowsimError
            A column that the rows do not have (:class:`~flowsim.exceptions.ObservationError`
            for observation tables).
        """
        def keep(rec):
            for name, want in equal.items():
                got = _value(rec, name)
                if isinstance(want, (tuple, list, set, frozenset)):
                    if got not in want:
                        return False
                elif got != want:
                    return False
            return predicate is None or bool(predicate(rec))

        if self.records and equal:
            unknown = [n for n in equal if n not in self.columns and n not in _fields(self.records[0])]
            if unknown:
                raise self._error(f"filter: unknown field(s) {', '.join(unknown)}; fields: "
                                  f"{', '.join(self.columns)}.")
        return dataclasses.replace(self, records=tuple(r for r in self.records if keep(r)))

    def _error(self, message: str) -> FlowsimError:
        return FlowsimError(message)

    # ----------------------------------------------------------------- outputs
    def to_records(self) -> list[dict]:
        """Every row as a dict of its columns, in column order."""
        cols = self.columns
        if self.records and not isinstance(self.records[0], Mapping):
            cols = cols + tuple(c for c in _fields(self.records[0]) if c not in cols)
        return [{c: _value(r, c) for c in cols} for r in self.records]

    def to_dataframe(self, columns=None):
        """The rows as a :class:`pandas.DataFrame`, one column per field in column order (needs pandas).

        Parameters
        ----------
        columns : sequence of str, optional
            Only these columns, in this order.
        """
        from ._optional import import_pandas

        pd = import_pandas()
        records = self.to_records()
        if columns is not None:
            columns = list(self._check_columns(columns, "to_dataframe"))
        elif records:
            columns = list(records[0])
        else:
            columns = list(self.columns) or None
        return pd.DataFrame(records, columns=columns)

    def csv_cell(self, column: str, value) -> str:
        """The CSV text of one cell (:func:`csv_cell`; subclasses round some columns)."""
        return csv_cell(value)

    def to_csv(self, path=None, *, columns=None) -> str:
        """The table as CSV text: a header of the columns, one line per row.

        Parameters
        ----------
        path : str or os.PathLike, optional
            Also write the text to this file (UTF-8).
        columns : sequence of str, optional
            Only these columns, in this order (default :attr:`columns`).

        Returns
        -------
        str
            Empty cells for None and NaN, ISO dates, floats as ``repr`` (they
            read back exactly).
        """
        cols = self._check_columns(columns, "to_csv")
        text = csv_text(cols, ([self.csv_cell(c, _value(r, c)) for c in cols] for r in self.records))
        if path is not None:
            from pathlib import Path

            Path(path).write_text(text, encoding="utf-8")
        return text

    # --------------------------------------------------------------- renderings
    def _rows(self, width):
        cols = self.display or self.columns
        rows = []
        for rec in self.records:
            cells = []
            for c in cols:
                text = format_value(_value(rec, c))
                if width is not None and len(text) > width:
                    text = text[: width - 3] + "..."
                cells.append(text)
            rows.append(cells)
        return cols, rows

    def __repr__(self) -> str:
        cols, rows = self._rows(width=40)
        head = f"{self.title} ({len(self)} records)\n" if self.title else f"{len(self)} records\n"
        return head + _text_table(cols, rows) if rows else head.rstrip()

    def _repr_html_(self) -> str:
        cols, rows = self._rows(width=None)
        return _html_table(cols, rows, caption=f"{self.title} ({len(self)} records)")
