"""Reading observation and economy files: the shipped copies and a user's own.

Every problem is reported with the file and the line (as a spreadsheet or an
editor numbers it, header = line 1), what was expected and what was found.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .._validation import check_header, did_you_mean
from ..exceptions import ObservationError
from ..hosts import REFERENCE_HOSTS, host_index
from ._records import QUALIFIERS, SHARE_UNITS, EconomyRecord, Observation, ObservationTable, RecordTable

__all__ = [
    "OBSERVATION_COLUMNS",
    "REQUIRED_OBSERVATION_COLUMNS",
    "QUALIFIERS",
    "load_observations",
    "observations_2022",
    "economy_context_2022",
]

#: Columns of an observations file, in the order of the shipped file; ``weight``
#: and ``sigma`` are optional extras a user may add.
OBSERVATION_COLUMNS = ("host", "quantity", "date_start", "date_end", "value", "low", "high", "unit",
                       "qualifier", "note", "source_title", "source_url", "quote", "weight", "sigma")

#: Columns a user's file must have (the others may be left out).
REQUIRED_OBSERVATION_COLUMNS = ("host", "quantity", "date_start", "date_end", "value")

_ECONOMY_COLUMNS = ("country", "indicator", "period_or_date", "value", "unit", "source_title", "source_url", "quote")


def _read_rows(text: str, where: str, required, known):
    """Yield ``(line, row)`` of a CSV text after checking its header."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames
    if not header:
        raise ObservationError(f"{where}: the file is empty; expected a header line with {', '.join(required)}.")
    header = [h.strip() for h in header]
    check_header(header, where, ObservationError)
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise ObservationError(
            f"{where}, line 1: missing column(s) {', '.join(missing)}; the header must name at least "
            f"{', '.join(required)} (found {', '.join(header)})."
        )
    for col in header:
        if col not in known:
            fix = did_you_mean(col, known)
            if fix:
                raise ObservationError(f"{where}, line 1: unknown column {col!r}.{fix}")
    last = 1
    for row in reader:
        line = last + 1
        last = reader.line_num
        if None in row:
            raise ObservationError(
                f"{where}, line {line}: {len(header) + len(row[None])} cells for {len(header)} columns; "
                "quote cells that contain commas."
            )
        if not any((v or "").strip() for v in row.values()):
            continue
        yield line, {k: (v or "").strip() for k, v in row.items()}


def _date(text: str, column: str, where: str, line: int) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise ObservationError(
            f"{where}, line {line}: column {column} must be a date YYYY-MM-DD; got {text!r}."
        ) from None


def _number(text: str, column: str, where: str, line: int, *, positive: bool = False) -> float | None:
    if text == "":
        return None
    try:
        x = float(text.replace("_", ""))
    except ValueError:
        raise ObservationError(
            f"{where}, line {line}: column {column} must be a number (no thousands separators, "
            f"e.g. 98000); got {text!r}."
        ) from None
    if not math.isfinite(x):
        raise ObservationError(f"{where}, line {line}: column {column} must be a finite number; got {text!r}.")
    if x < 0 or (positive and x == 0):
        bound = "> 0" if positive else ">= 0"
        raise ObservationError(f"{where}, line {line}: column {column} must be {bound}; got {text!r}.")
    return x


def _observation(row: dict, where: str, line: int, hosts) -> Observation:
    host = row["host"]
    if hosts is None:
        if len(host) != 3 or not host.isascii() or not host.isalpha() or not host.isupper():
            fix = did_you_mean(host.upper(), REFERENCE_HOSTS)
            raise ObservationError(f"{where}, line {line}: host {host!r} is not a host code (three capital "
                                   f"letters, ISO 3166 alpha-3, e.g. KAZ or POL).{fix}")
    elif host not in hosts:
        host_index(host, hosts, what="the hosts allowed here", where=f"{where}, line {line}")
    quantity = row["quantity"]
    if not quantity:
        raise ObservationError(f"{where}, line {line}: column quantity is empty.")
    start = _date(row["date_start"], "date_start", where, line)
    end = _date(row["date_end"], "date_end", where, line)
    if end < start:
        raise ObservationError(
            f"{where}, line {line}: date_end {end} is before date_start {start}; swap them."
        )
    qualifier = row.get("qualifier", "").lower()
    if qualifier not in QUALIFIERS:
        fix = did_you_mean(qualifier, [q for q in QUALIFIERS if q])
        raise ObservationError(
            f"{where}, line {line}: unknown qualifier {row['qualifier']!r}; allowed: "
            f"{', '.join(repr(q) for q in QUALIFIERS if q)} or empty.{fix}"
        )
    value = _number(row["value"], "value", where, line)
    low = _number(row.get("low", ""), "low", where, line)
    high = _number(row.get("high", ""), "high", where, line)
    if value is None and low is None and high is None:
        raise ObservationError(f"{where}, line {line}: no value; fill value, or low and/or high.")
    if low is not None and high is not None and low > high:
        raise ObservationError(f"{where}, line {line}: low ({low:g}) is above high ({high:g}); swap them.")
    unit = row.get("unit", "")
    if unit.lower() in SHARE_UNITS:
        for column, x in (("value", value), ("low", low), ("high", high)):
            if x is not None and x > 1:
                raise ObservationError(f"{where}, line {line}: column {column} is a share (unit {unit!r}), so it "
                                       f"must be in [0, 1]; got {x:g}. Fix: 0.75 for 75%.")
    return Observation(
        host=host, quantity=quantity, date_start=start, date_end=end, value=value, low=low, high=high,
        unit=row.get("unit", ""), qualifier=qualifier, note=row.get("note", ""),
        source_title=row.get("source_title", ""), source_url=row.get("source_url", ""),
        quote=row.get("quote", ""),
        weight=_number(row.get("weight", ""), "weight", where, line),
        sigma=_number(row.get("sigma", ""), "sigma", where, line, positive=True),
        line=line,
    )


def parse_observations(text: str, where: str, hosts=None) -> ObservationTable:
    """Observations from CSV text; ``where`` names the file in error messages.

    ``hosts``: the allowed host codes, or None for any code (the scenario a
    fit uses then refuses figures of hosts it does not have).
    """
    rows = _read_rows(text.lstrip("\ufeff"), where, REQUIRED_OBSERVATION_COLUMNS, OBSERVATION_COLUMNS)
    hosts = None if hosts is None else tuple(hosts)
    records = tuple(_observation(row, where, line, hosts) for line, row in rows)
    return ObservationTable(records, title=f"observations from {where}")


def load_observations(path, *, hosts=None) -> ObservationTable:
    """Read a file of observations in the columns of ``observations_2022.csv``.

    Parameters
    ----------
    path : str or path-like
        A CSV file (UTF-8) with at least the columns ``host, quantity,
        date_start, date_end, value``; the others of
        :data:`OBSERVATION_COLUMNS` are optional (``low``, ``high``,
        ``qualifier``, ``note``, sources, and a ``weight`` or relative
        ``sigma`` per row). Numbers without thousands separators; dates as
        ``YYYY-MM-DD``; a figure for one day has ``date_start = date_end``.
    hosts : sequence of str, optional
        Host codes accepted; default any code of three capital letters (a
        fit refuses figures of hosts its scenario does not have).

    Returns
    -------
    ObservationTable

    Raises
    ------
    ObservationError
        A missing file or column, a bad date, an unknown host or qualifier, a
        number that is not one, ``date_end`` before ``date_start``, ``low >
        high``: the message names the file and the line.

    Examples
    --------
    >>> import flowsim
    >>> obs = flowsim.datasets.observations_2022()
    >>> kaz = obs.filter(host="KAZ", quantity="cumulative_entries")
    >>> kaz[0].value, kaz[0].date_end.isoformat()
    (98000.0, '2022-09-27')
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ObservationError(f"observations file {p}: not found.") from None
    except UnicodeDecodeError as exc:
        raise ObservationError(f"observations file {p}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    except OSError as exc:
        raise ObservationError(f"observations file {p}: cannot be read ({exc.strerror}).") from None
    return parse_observations(text, str(p), hosts)


def _shipped(name: str) -> str:
    return resources.files("flowsim.data").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def observations_2022() -> ObservationTable:
    """The observed figures of autumn 2022, shipped with flowsim (no network).

    A copy of ``shared/data/observations_2022.csv``: border counts,
    registrations, shares and stocks for the hosts, each with its window,
    qualifier and source (title, address, quote). Gross border counts include
    ordinary traffic; some base periods are disputed; many figures are
    bounds. See ``docs/calibration.md``.

    Returns
    -------
    ObservationTable
        48 records, in file order.
    """
    table = parse_observations(_shipped("observations_2022.csv"), "flowsim/data/observations_2022.csv")
    return ObservationTable(table.records, title="observations_2022 (flowsim/data/observations_2022.csv)")


# ------------------------------------------------------------------------ economy
_PERIOD = r"(\d{4})(?:-(Q[1-4]|H[12]|\d{2})(?:-(\d{2}))?)?"
_PERIOD_RE = re.compile(rf"^~?{_PERIOD}(?:(?:\s+to\s+|/)~?{_PERIOD})?(?:\s*\(.*\))?$")
_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
_RANGE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)$")


def _period_bounds(year, part, day) -> tuple[_dt.date, _dt.date]:
    y = int(year)
    if part is None:
        return _dt.date(y, 1, 1), _dt.date(y, 12, 31)
    if part.startswith("Q"):
        q = int(part[1])
        first = _dt.date(y, 3 * q - 2, 1)
        last_month = 3 * q
    elif part.startswith("H"):
        h = int(part[1])
        first = _dt.date(y, 6 * h - 5, 1)
        last_month = 6 * h
    else:
        m = int(part)
        if day is not None:
            d = _dt.date(y, m, int(day))
            return d, d
        first, last_month = _dt.date(y, m, 1), m
    nxt = _dt.date(y + 1, 1, 1) if last_month == 12 else _dt.date(y, last_month + 1, 1)
    return first, nxt - _dt.timedelta(days=1)


def parse_period(text: str) -> tuple[_dt.date | None, _dt.date | None]:
    """First and last day of a period written as ``2022``, ``2022-09``, ``2022-Q2``,
    ``2022-H1``, ``2022-09-27``, ``A to B`` or ``A/B`` (a trailing ``(...)`` comment is allowed);
    ``(None, None)`` for anything else.

    Examples
    --------
    >>> parse_period("2022-01 to 2022-05")
    (datetime.date(2022, 1, 1), datetime.date(2022, 5, 31))
    >>> parse_period("2022-01/2022-10")
    (datetime.date(2022, 1, 1), datetime.date(2022, 10, 31))
    >>> parse_period("late Sep 2022")
    (None, None)
    """
    m = _PERIOD_RE.match(text.strip())
    if not m:
        return None, None
    try:
        first, last = _period_bounds(*m.group(1, 2, 3))
        if m.group(4):
            last = _period_bounds(*m.group(4, 5, 6))[1]
    except ValueError:  # a month 13 or a day 31 of a short month
        return None, None
    return first, last


def _economy_value(text: str) -> tuple[float | None, float | None, float | None]:
    if _NUMBER_RE.match(text):
        return float(text), None, None
    m = _RANGE_RE.match(text)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        if lo <= hi:
            return None, lo, hi
    return None, None, None


def _economy_table(name: str, title: str) -> RecordTable:
    where = f"flowsim/data/{name}"
    records = []
    for line, row in _read_rows(_shipped(name), where, _ECONOMY_COLUMNS, _ECONOMY_COLUMNS):
        start, end = parse_period(row["period_or_date"])
        value, low, high = _economy_value(row["value"])
        records.append(EconomyRecord(
            country=row["country"], indicator=row["indicator"], period=row["period_or_date"],
            period_start=start, period_end=end, value=value, low=low, high=high, value_text=row["value"],
            unit=row["unit"], source_title=row["source_title"], source_url=row["source_url"],
            quote=row["quote"], line=line,
        ))
    return RecordTable(tuple(records), title=f"{title} ({where})",
                       display=("country", "indicator", "period", "value_text", "unit", "source_title"))


@lru_cache(maxsize=1)
def economy_context_2022() -> RecordTable:
    """Economic indicators around the 2022 outflow, shipped with flowsim (no network).

    A copy of ``shared/data/economy_context_2022.csv``: GDP growth, money
    transfers from Russia, rents and house prices, inflation, company
    registrations, statements of central banks and international
    organisations, survey shares of remote workers, each with its source. The
    values stay as the sources state them (``value_text``); plain numbers and
    ranges are also parsed (``value``, ``low``, ``high``), and periods written
    as dates, months, quarters or years become ``period_start`` and
    ``period_end``.

    Returns
    -------
    RecordTable
        Of :class:`EconomyRecord`, in file order.
    """
    return _economy_table("economy_context_2022.csv", "economy_context_2022")


@lru_cache(maxsize=1)
def money_2022() -> RecordTable:
    """The money channel of 2022, shipped with flowsim (no network).

    A copy of ``shared/data/money_2022.csv`` (same columns as
    :func:`economy_context_2022`; ``country`` is an ISO code, ``REG`` a
    figure covering several hosts): money transfers from Russia and in total,
    monthly where published, deposits of Russian citizens, exchange rates,
    rents, company registrations, to the end of 2022 (2021 rows are the
    pre-arrival baseline). Values are in the currency the source used.
    :func:`economy_observations_2022` derives the figures a fit uses from it.

    Returns
    -------
    RecordTable
        Of :class:`EconomyRecord`, in file order.

    Examples
    --------
    >>> import flowsim
    >>> rows = flowsim.datasets.money_2022().filter(country="GEO", indicator="transfers_from_russia_usd",
    ...                                            period="2021")
    >>> rows[0].value
    411.3
    """
    return _economy_table("money_2022.csv", "money_2022")


@lru_cache(maxsize=1)
def economy_observations_2022() -> ObservationTable:
    """Economic figures of 2022 for calibration: money transfers, rents, registrations (no network).

    Derived from :func:`money_2022` by ``tools/make_economy_observations.py``
    (each figure's ``note`` gives its arithmetic and the rows it uses;
    ``docs/calibration.md`` "The economic fit" explains the choices), in the
    columns of :func:`observations_2022`: ``transfers_excess`` (USD, the
    excess of transfers from Russia over the 2021 baseline, minus deposit
    changes where published), ``rent_log_change`` (log change of a rent index
    deflated by consumer prices), ``sole_traders_registered`` and
    ``stock_present``, for KAZ, GEO and ARM.

    Returns
    -------
    ObservationTable
    """
    name = "economy_observations_2022.csv"
    table = parse_observations(_shipped(name), f"flowsim/data/{name}")
    return ObservationTable(table.records, title=f"economy_observations_2022 (flowsim/data/{name})")


@lru_cache(maxsize=1)
def ukraine_2022() -> tuple:
    """The 2022 record of the refugees from Ukraine, shipped with flowsim (no network).

    A copy of ``shared/data/ukraine_2022.csv`` (314 rows; hosts POL, MDA,
    ROU, SVK, HUN, CZE, DEU and ``ALL`` for region-wide figures), as one
    dict per row with its columns unchanged: the sources' own quantities
    (gross crossings, registrations, costs in local currencies).
    :func:`ukraine_observations_2022` holds the figures a fit uses.

    Returns
    -------
    tuple of dict
    """
    text = _shipped("ukraine_2022.csv")
    reader = csv.DictReader(io.StringIO(text))
    return tuple(dict(row) for row in reader)


@lru_cache(maxsize=1)
def ukraine_observations_2022() -> ObservationTable:
    """Figures of the 2022 refugee outflow from Ukraine for calibration (no network).

    Derived from :func:`ukraine_2022` (``docs/ukraine-2022.md`` says how):
    stocks present (``stock_present``), registrations (``registered_arrivals``,
    loose lower bounds: they lag arrivals and are not cancelled when people
    leave), people employed or insured (``employed_registered``, lower
    bounds), public costs and revenues in USD at 2022 rates (``fiscal_cost``,
    ``fiscal_revenue``; partial costs are lower bounds) and deflated rent log
    changes (``rent_log_change``). Gross border crossings are left out:
    crossings are not people. Conflicting or weak figures carry weight 0.5.
    """
    name = "ukraine_observations_2022.csv"
    table = parse_observations(_shipped(name), f"flowsim/data/{name}")
    return ObservationTable(table.records, title=f"ukraine_observations_2022 (flowsim/data/{name})")
