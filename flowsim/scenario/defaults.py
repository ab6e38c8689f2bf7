"""Reference parameter values shipped with flowsim, with ranges and sources.

The values live in package data (``flowsim/data/reference_parameters.csv`` and
``reference_onward.csv``) so that they can be read, cited and diffed as
tables; ``docs/parameters.md`` explains how each was chosen.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import ParameterError
from ..hosts import REFERENCE_HOSTS, WORLD, check_host_codes
from .parameter_set import ParameterSet
from .reference_data import _PARAMS_FILE, _reference_tables, onward_sources, read_data_csv
from .specs import PARAMETER_SPECS

__all__ = ["reference_parameters", "read_data_csv", "onward_sources"]


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
