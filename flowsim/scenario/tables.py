"""Hosts and arrivals from CSV tables: an event's data as files, not code.

* :func:`hosts_from_csv` -- per-host parameter values in the columns of the
  shipped ``reference_parameters.csv`` (``name, host, value, low, high,
  source``), optionally with an onward table (``host, destination, share,
  source``), as :class:`~flowsim.Host` objects for ``Scenario.with_hosts``;
* :func:`daily_arrivals_from_csv` -- daily direct arrivals (``host, date,
  entries``), as one :class:`~flowsim.DailyCounts` schedule per host.

Every problem names the file and the line.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from pathlib import Path

from .._validation import check_header, did_you_mean
from ..exceptions import ParameterError, ScheduleError
from ..hosts import WORLD
from .host import HOST_PARAMETERS, Host
from .schedules import DailyCounts
from .specs import PARAMETER_SPECS

__all__ = ["hosts_from_csv", "daily_arrivals_from_csv", "HOST_COLUMNS", "ONWARD_COLUMNS", "ARRIVAL_COLUMNS"]

#: Columns of a host table (as ``flowsim/data/reference_parameters.csv``).
HOST_COLUMNS = ("name", "host", "value", "low", "high", "source")
#: Columns of an onward table (as ``flowsim/data/reference_onward.csv``).
ONWARD_COLUMNS = ("host", "destination", "share", "source")
#: Columns of a daily-arrivals table (others are ignored).
ARRIVAL_COLUMNS = ("host", "date", "entries")


def _rows(source, required, error):
    """``(where, [(line, row), ...])`` of a CSV file (path) or text (``str`` with a newline)."""
    if isinstance(source, str) and "\n" in source:
        where, text = "<table>", source
    else:
        where = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise error(f"{where}: not found.") from None
        except OSError as exc:
            raise error(f"{where}: cannot be read ({exc.strerror}).") from None
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    check_header([h.strip() for h in reader.fieldnames or ()], where, error)
    missing = [c for c in required if c not in (reader.fieldnames or ())]
    if missing:
        raise error(f"{where}, line 1: missing column(s) {', '.join(missing)}; the header must name "
                    f"{', '.join(required)}.")
    return where, [(i + 2, row) for i, row in enumerate(reader)]


def _number(text, column, where, line, error) -> float:
    try:
        x = float(text)
    except (TypeError, ValueError):
        raise error(f"{where}, line {line}: column {column} must be a number; got {text!r}.") from None
    if not math.isfinite(x):
        raise error(f"{where}, line {line}: column {column} must be a finite number; got {text!r}.")
    return x


def hosts_from_csv(path, *, onward=None, names=None, like=None) -> list[Host]:
    """New hosts from a table of parameter values (and optionally of onward shares).

    Parameters
    ----------
    path : str or path-like
        CSV with the columns ``name, host, value, low, high, source`` (one
        row per host and per-host parameter, docs/model.md symbols and units as in
        ``flowsim.PARAMETER_SPECS``); global parameters (``host = *``) are not
        host values and are refused.
    onward : str or path-like, optional
        CSV with ``host, destination, share, source``: each host's onward row
        (destinations: hosts and ``W``; a host's shares sum to 1).
    names : mapping, optional
        ``{host: display name}``.
    like : str, optional
        A host whose values fill what the table leaves out; without it every
        host needs every per-host parameter (all missing names are listed).

    Returns
    -------
    list of Host
        In the order the hosts first appear; pass them to
        :meth:`Scenario.with_hosts` or :meth:`ParameterSet.with_hosts`.
    """
    where, rows = _rows(path, HOST_COLUMNS, ParameterError)
    values: dict[str, dict] = {}
    for line, row in rows:
        name, host = row["name"].strip(), row["host"].strip()
        if name not in PARAMETER_SPECS:
            fix = did_you_mean(name, PARAMETER_SPECS)
            raise ParameterError(f"{where}, line {line}: unknown parameter {name!r}.{fix}")
        if PARAMETER_SPECS[name].scope != "host":
            raise ParameterError(f"{where}, line {line}: `{name}` is global; set it on the scenario, not in a "
                                 "host table.")
        entry = values.setdefault(host, {})
        if name in entry:
            raise ParameterError(f"{where}, line {line}: `{name}` for host {host} is given twice.")
        detail = {"value": _number(row["value"], "value", where, line, ParameterError),
                  "low": _number(row["low"], "low", where, line, ParameterError),
                  "high": _number(row["high"], "high", where, line, ParameterError),
                  "source": row["source"].strip() or f"{where} (no source given)"}
        if not detail["low"] <= detail["value"] <= detail["high"]:
            raise ParameterError(f"{where}, line {line}: `{name}` for host {host}: value {detail['value']:g} is "
                                 f"outside its own range [{detail['low']:g}, {detail['high']:g}].")
        entry[name] = detail
    rows_onward: dict[str, dict] = {}
    if onward is not None:
        where_o, orows = _rows(onward, ONWARD_COLUMNS, ParameterError)
        for line, row in orows:
            host, dest = row["host"].strip(), row["destination"].strip()
            share = _number(row["share"], "share", where_o, line, ParameterError)
            rows_onward.setdefault(host, {})[dest] = share
        for host, row in rows_onward.items():
            total = sum(row.values())
            if abs(total - 1.0) > 1e-9:
                raise ParameterError(f"{where_o}: onward shares of host {host} must sum to 1 (give {WORLD} "
                                     f"explicitly); got {total:.12g}.")
    out = []
    for host, entry in values.items():
        if like is None:
            missing = [n for n in HOST_PARAMETERS if n not in entry]
            if missing:
                raise ParameterError(f"{where}: host {host} lacks {len(missing)} per-host parameter(s): "
                                     f"{', '.join(missing)}; add rows for them, or pass like='KAZ' to take "
                                     "them from another host.")
        out.append(Host(host, (names or {}).get(host, ""), like=like, values=entry,
                        onward=rows_onward.get(host)))
    return out


def daily_arrivals_from_csv(path, *, column: str = "entries") -> dict[str, DailyCounts]:
    """Daily direct arrivals per host from a table (``host, date, entries``).

    Parameters
    ----------
    path : str or path-like
        CSV with at least ``host``, ``date`` (YYYY-MM-DD) and ``column``;
        each host's dates consecutive, one row per day. Day ``d`` counts as
        a constant rate over ``[d, d + 1)`` (docs/model.md, daily data).
    column : str
        The column of people entering (default ``entries``).

    Returns
    -------
    dict of str to DailyCounts
        Starting on each host's first date.
    """
    where, rows = _rows(path, ("host", "date", column), ScheduleError)
    series: dict[str, list] = {}
    for line, row in rows:
        try:
            day = _dt.date.fromisoformat(row["date"].strip())
        except ValueError:
            raise ScheduleError(f"{where}, line {line}: column date must be a date YYYY-MM-DD; "
                                f"got {row['date']!r}.") from None
        x = _number(row[column], column, where, line, ScheduleError)
        if x < 0:
            raise ScheduleError(f"{where}, line {line}: column {column} must be >= 0 people; got {x:g}.")
        days = series.setdefault(row["host"].strip(), [])
        if days and day != days[-1][0] + _dt.timedelta(days=1):
            raise ScheduleError(f"{where}, line {line}: dates of host {row['host']} must follow each other day "
                                f"by day; {day} comes after {days[-1][0]}.")
        days.append((day, x))
    return {h: DailyCounts(counts=tuple(x for _, x in d), start=d[0][0]) for h, d in series.items()}
