"""Reference parameter values shipped with flowsim, with ranges and sources.

The values live in package data (``flowsim/data/reference_parameters.csv`` and
``reference_onward.csv``) so that they can be read, cited and diffed as
tables; ``docs/parameters.md`` explains how each was chosen.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

import numpy as np

from ..exceptions import ParameterError
from ..hosts import REFERENCE_HOSTS, WORLD, check_host_codes
from .parameters import ParameterSet
from .specs import PARAMETER_SPECS

__all__ = ["reference_parameters", "read_data_csv"]

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


def reference_parameters(hosts=REFERENCE_HOSTS) -> ParameterSet:
    """Default parameters of the reference hosts, with ranges and sources.

    Parameters
    ----------
    hosts : sequence of str
        Any subset of :data:`~flowsim.hosts.REFERENCE_HOSTS`, in the order the
        arrays should follow. Onward shares towards hosts left out are moved
        to the rest of the world ``W``.

    Returns
    -------
    ParameterSet

    Examples
    --------
    >>> from flowsim import reference_parameters
    >>> p = reference_parameters(["KAZ", "GEO"])
    >>> p.P.shape
    (2, 3)
    """
    hosts = check_host_codes(hosts, known=REFERENCE_HOSTS, where="reference_parameters (the built-in library of "
                                                                  "reference hosts)")
    values_t, ranges_t, sources_t, onward_t = _reference_tables()
    values, ranges, sources = {}, {}, {}
    for name, sp in PARAMETER_SPECS.items():
        keys = [(name, "*")] if sp.scope == "global" else [(name, h) for h in hosts]
        for key in keys:
            if key not in values_t:
                raise ParameterError(f"flowsim/data/{_PARAMS_FILE}: no default for {key[0]} (host {key[1]}).")
        if sp.scope == "global":
            values[name] = values_t[keys[0]]
            ranges[name] = np.array(ranges_t[keys[0]])
        else:
            values[name] = np.array([values_t[k] for k in keys])
            ranges[name] = np.array([ranges_t[k] for k in keys])
        sources[name] = tuple(sources_t[k] for k in keys)
    P = np.zeros((len(hosts), len(hosts) + 1))
    for i, h in enumerate(hosts):
        for dest in (*REFERENCE_HOSTS, WORLD):
            share = onward_t.get((h, dest), (0.0, ""))[0]
            j = hosts.index(dest) if dest in hosts else len(hosts)
            if dest != h:
                P[i, j] += share
    return ParameterSet(hosts=hosts, values=values, P=P, ranges=ranges, sources=sources)


def onward_sources(host: str) -> dict[str, str]:
    """Source of each default onward share of ``host`` (``{destination: source}``)."""
    onward_t = _reference_tables()[3]
    return {d: src for (h, d), (_, src) in onward_t.items() if h == host}
