"""The shipped reference tables as read from package data: values, ranges and sources per host.

``flowsim/data/reference_parameters.csv`` and ``reference_onward.csv`` are
read once and kept as plain tables keyed by ``(parameter, host)``. Both
:func:`flowsim.scenario.defaults.reference_parameters` (a whole
:class:`~flowsim.scenario.parameter_set.ParameterSet`) and
:func:`flowsim.scenario.host.add_hosts` (a new host ``like`` a reference
host) read them here; ``docs/parameters.md`` explains how each value was
chosen.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

from ..exceptions import ParameterError
from .specs import PARAMETER_SPECS

__all__ = ["read_data_csv", "reference_host_values", "onward_sources"]

_PARAMS_FILE = "reference_parameters.csv"
_ONWARD_FILE = "reference_onward.csv"


def read_data_csv(name: str, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """Rows of a CSV shipped in ``flowsim/data`` as ``(line number, row)`` pairs.

    Raises
    ------
    ParameterError
        When a required column is missing (file and columns named).
    """
    text = resources.files("flowsim.data").joinpath(name).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or ())]
    if missing:
        raise ParameterError(f"flowsim/data/{name}: missing columns {', '.join(missing)}.")
    return [(i + 2, row) for i, row in enumerate(reader)]


def _number(text: str, name: str, line: int) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ParameterError(f"flowsim/data/{name}, line {line}: expected a number; got {text!r}.") from None


@lru_cache(maxsize=1)
def _reference_tables():
    values, ranges, sources = {}, {}, {}
    for line, row in read_data_csv(_PARAMS_FILE, ("name", "host", "value", "low", "high", "source")):
        key = (row["name"], row["host"])
        if key in values:
            raise ParameterError(f"flowsim/data/{_PARAMS_FILE}, line {line}: {key} appears twice.")
        values[key] = _number(row["value"], _PARAMS_FILE, line)
        ranges[key] = (_number(row["low"], _PARAMS_FILE, line), _number(row["high"], _PARAMS_FILE, line))
        sources[key] = row["source"].strip()
    onward = {}
    for line, row in read_data_csv(_ONWARD_FILE, ("host", "destination", "share", "source")):
        onward[(row["host"], row["destination"])] = (_number(row["share"], _ONWARD_FILE, line),
                                                     row["source"].strip())
    return values, ranges, sources, onward


def onward_sources(host: str) -> dict[str, str]:
    """Source of each default onward share of ``host`` (``{destination: source}``)."""
    onward_t = _reference_tables()[3]
    return {d: src for (h, d), (_, src) in onward_t.items() if h == host}


def reference_host_values(host: str) -> dict:
    """``{name: (value, (low, high), source)}`` of every per-host parameter of reference host ``host``.

    Raises
    ------
    ParameterError
        When the shipped table has no value of a per-host parameter for ``host``.
    """
    values_t, ranges_t, sources_t, _ = _reference_tables()
    out = {}
    for name, sp in PARAMETER_SPECS.items():
        if sp.scope != "host":
            continue
        key = (name, host)
        if key not in values_t:
            raise ParameterError(f"flowsim/data/{_PARAMS_FILE}: no default for {name} (host {host}).")
        out[name] = (values_t[key], ranges_t[key], sources_t[key])
    return out
