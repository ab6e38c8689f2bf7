"""Hosts as data: any country, defined from scratch or from another host's values.

:class:`Host` describes one host a scenario adds: its code, its display name,
and its per-host parameter values, either all of them or only those that
differ from another host's (``like="KAZ"``). :func:`add_hosts` turns hosts
into columns of a :class:`~flowsim.scenario.parameter_set.ParameterSet`; the
eight reference hosts stay a built-in library (``flowsim/data``), not a limit.

Copied values keep their ranges, and their source reads ``"copied from KAZ:
<source>"``, so nothing pretends to a source it lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._validation import did_you_mean
from ..exceptions import ParameterError
from ..hosts import REFERENCE_HOSTS, WORLD, check_host_code, host_index
from .reference_data import reference_host_values
from .specs import PARAMETER_SPECS, ParameterSpec, spec
from .specs import checked_number as _checked_number

__all__ = ["Host", "add_hosts", "HOST_PARAMETERS", "DETAIL"]

#: Every per-host parameter a new host needs (docs/model.md order).
HOST_PARAMETERS: tuple[str, ...] = tuple(n for n, s in PARAMETER_SPECS.items() if s.scope == "host")

#: Keys of a value given with its provenance.
DETAIL = ("value", "low", "high", "source")

_SHARE = ParameterSpec(name="P", unit="1", description="onward share", upper=1.0, upper_open=False)


@dataclass(frozen=True)
class Host:
    """A host country a scenario adds to its hosts.

    Parameters
    ----------
    code : str
        Three capital letters (ISO 3166 alpha-3 where one exists).
    name : str, optional
        Display name (figures, tables); default the code.
    like : str, optional
        A host whose values this one starts from: a host of the scenario it
        is added to, or a reference host of the built-in library. Without
        ``like``, ``values`` must give every per-host parameter
        (:data:`HOST_PARAMETERS`).
    values : mapping, optional
        ``{parameter: number}`` or ``{parameter: {"value": v, "low": a,
        "high": b, "source": "..."}}`` (units of ``flowsim.PARAMETER_SPECS``).
        A number without a range widens the copied range to include it.
    onward : mapping, optional
        Where this host's onward movers go: ``{destination: share}`` over the
        scenario's hosts and ``"W"``, summing to 1; default all to ``W``.

    Examples
    --------
    A country in three lines:

    >>> import flowsim
    >>> pol = flowsim.Host("POL", "Poland", like="KAZ", values={"gdp": 6.9e11, "w": 45.0})
    >>> sc = flowsim.load_scenario("kazakhstan-2022").with_hosts(pol, arrivals={"POL": flowsim.Pulse(total=5e4)})
    >>> sc.hosts[-1], sc.params.names["POL"], sc.params.sources["tau_T"][-1][:17]
    ('POL', 'Poland', 'copied from KAZ: ')
    """

    code: str
    name: str = ""
    like: str | None = None
    values: Mapping[str, object] = field(default_factory=dict)
    onward: Mapping[str, float] | None = None

    def __post_init__(self):
        check_host_code(self.code, where="Host code")
        if self.code == WORLD:
            raise ParameterError(f"Host code {WORLD!r} is the rest of the world; choose another code.")
        if not isinstance(self.name, str):
            raise ParameterError(f"Host {self.code}: name must be text; got {self.name!r}.")
        if self.like is not None:
            check_host_code(self.like, where=f"Host {self.code}: like")
        if not isinstance(self.values, Mapping):
            raise ParameterError(f"Host {self.code}: values must be a mapping {{parameter: value}}; "
                                 f"got {self.values!r}.")
        for name in self.values:
            sp = spec(name)                                   # unknown names: with a suggestion
            if sp.scope != "host":
                raise ParameterError(f"Host {self.code}: `{name}` is global (one value for every host); set it "
                                     "on the scenario, not on a host.")
        if self.onward is not None and not isinstance(self.onward, Mapping):
            raise ParameterError(f"Host {self.code}: onward must be a mapping {{destination: share}}; "
                                 f"got {self.onward!r}.")


def _detail(host: str, name: str, given) -> dict:
    sp = PARAMETER_SPECS[name]
    if isinstance(given, Mapping):
        unknown = set(given) - set(DETAIL)
        if unknown:
            fix = did_you_mean(sorted(unknown)[0], DETAIL)
            raise ParameterError(f"Host {host}: `{name}` has unknown keys {sorted(unknown)}; allowed: "
                                 f"{', '.join(DETAIL)}.{fix}")
        out = dict(given)
    else:
        out = {"value": given}
    for key in ("value", "low", "high"):
        if key in out:
            out[key] = _checked_number(sp, out[key], host)
    if "source" in out and not isinstance(out["source"], str):
        raise ParameterError(f"Host {host}: the source of `{name}` must be text; got {out['source']!r}.")
    return out


def add_hosts(params, hosts, *, default_source: str = "user", listed=None):
    """``params`` with ``hosts`` appended as new columns (validated as a whole).

    Parameters
    ----------
    params : ParameterSet
        The scenario's parameters.
    hosts : sequence of Host
        New hosts; codes must not be in ``params`` already.
    default_source : str
        Source of a value given without one.
    listed : sequence of str, optional
        The hosts to name in error messages as "this scenario's hosts"
        (default ``params.hosts`` and the new ones).

    Raises
    ------
    ParameterError
        A code already present, ``like`` naming no known host (the message
        lists this scenario's hosts and the built-in library), missing
        parameters of a host defined from scratch (all listed at once), bad
        values or onward shares.
    """
    hosts = list(hosts)
    for h in hosts:
        if not isinstance(h, Host):
            raise ParameterError(f"with_hosts takes flowsim.Host objects; got {h!r}.")
    codes = [h.code for h in hosts]
    for code in codes:
        if code in params.hosts or codes.count(code) > 1:
            raise ParameterError(f"Host {code} is already in this scenario ({', '.join(params.hosts)}); give each "
                                 "host once, and change an existing host with with_params.")
    all_hosts = (*params.hosts, *codes)
    listed = tuple(all_hosts if listed is None else listed)
    values = {n: list(np.atleast_1d(params.values[n])) if PARAMETER_SPECS[n].scope == "host" else params.values[n]
              for n in PARAMETER_SPECS}
    ranges = {n: [tuple(r) for r in params.ranges[n]] if PARAMETER_SPECS[n].scope == "host" else params.ranges[n]
              for n in PARAMETER_SPECS}
    sources = {n: list(params.sources[n]) for n in PARAMETER_SPECS}
    names = dict(params.names)
    for h in hosts:
        start = _start_values(h, params, listed)
        for name in HOST_PARAMETERS:
            value, (low, high), source = start.get(name, (None, (None, None), None))
            if name in h.values:
                d = _detail(h.code, name, h.values[name])
                value = d.get("value", value)
                if value is None:
                    raise ParameterError(f"Host {h.code}: `{name}` needs a value; got only {sorted(d)}.")
                low, high = d.get("low", low), d.get("high", high)
                if "low" not in d and "high" not in d:
                    low = value if low is None else min(low, value)
                    high = value if high is None else max(high, value)
                low = value if low is None else low
                high = value if high is None else high
                source = d.get("source", default_source if "value" in d else source)
            if low > high:
                raise ParameterError(f"Host {h.code}: the range of `{name}` must have low <= high; "
                                     f"got {low:g} > {high:g}.")
            values[name].append(value)
            ranges[name].append((low, high))
            sources[name].append(source)
        if h.name:
            names[h.code] = h.name
    P = np.zeros((len(all_hosts), len(all_hosts) + 1))
    n_old = len(params.hosts)
    P[:n_old, :n_old] = params.P[:, :-1]
    P[:n_old, -1] = params.P[:, -1]
    for i, h in enumerate(hosts, start=n_old):
        row = {WORLD: 1.0} if h.onward is None else dict(h.onward)
        for dest, share in row.items():
            allowed = [d for d in (*all_hosts, WORLD) if d != h.code]
            host_index(dest, allowed, what="the onward destinations", where=f"Host {h.code}: onward",
                       hint="W is the rest of the world.")
            j = len(all_hosts) if dest == WORLD else all_hosts.index(dest)
            P[i, j] = _checked_number(_SHARE, share, h.code)
    return type(params)(                                         # a ParameterSet (not imported: it imports this)
        hosts=all_hosts, P=P, names=names,                       # hosts without a name: built-in names, or codes
        values={n: (np.array(v, float) if PARAMETER_SPECS[n].scope == "host" else v) for n, v in values.items()},
        ranges={n: np.array(r, float) for n, r in ranges.items()},
        sources={n: tuple(s) for n, s in sources.items()},
    )


def _start_values(h: Host, params, listed) -> dict:
    """``{name: (value, (low, high), source)}`` a new host starts from: its ``like`` host's, or nothing."""
    if h.like is None:
        missing = [n for n in HOST_PARAMETERS if n not in h.values
                   or (isinstance(h.values[n], Mapping) and "value" not in h.values[n])]
        if missing:
            raise ParameterError(
                f"Host {h.code} is defined from scratch (no `like`), so it needs every per-host parameter; "
                f"missing {len(missing)}: {', '.join(missing)}. Give them in values, or start from another "
                f"host's values with like='KAZ' (this scenario's hosts: {', '.join(listed)}; built-in "
                f"library: {', '.join(REFERENCE_HOSTS)})."
            )
        return {}
    if h.like in params.hosts and h.like in listed:
        i = params.hosts.index(h.like)
        start = {n: (params.values[n][i], params.ranges[n][i], params.sources[n][i]) for n in HOST_PARAMETERS}
    elif h.like in REFERENCE_HOSTS:
        start = reference_host_values(h.like)
    else:
        fix = did_you_mean(h.like, (*listed, *REFERENCE_HOSTS))
        raise ParameterError(f"Host {h.code}: like={h.like!r} names no known host; this scenario's hosts: "
                             f"{', '.join(listed)}; built-in library: {', '.join(REFERENCE_HOSTS)}.{fix}")
    return {n: (float(value), tuple(float(x) for x in rng), f"copied from {h.like}: {source}")
            for n, (value, rng, source) in start.items()}
