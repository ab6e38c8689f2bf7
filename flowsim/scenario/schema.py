"""The scenario-file schema: build a :class:`Scenario` from a mapping.

A scenario file (TOML, see ``docs/scenarios.md``) is parsed into nested
mappings; :func:`build_scenario` checks every key and value against the schema
below and builds the scenario on top of an optional base scenario. Every error
names the file, the line where it is known, the key path, and, for a misspelt
key, the closest valid name (:mod:`flowsim.scenario.keypaths`). The
``[parameters]`` table is applied by :mod:`flowsim.scenario.schema_parameters`.

Top-level keys
--------------
``name``, ``summary``, ``description`` (text); ``base`` (a built-in name or a
file; resolved by :mod:`flowsim.scenario.files`); ``start`` (date);
``horizon_days`` (integer); ``hosts`` (array of codes); ``origin`` (text);
``host`` (new hosts, ``{CODE: {name, like, onward, parameters}}``); ``clear`` (inherited
sections to drop); ``parameters``; ``arrivals`` and ``extra_arrivals``
(``{host: schedule or [schedules]}``); ``closures`` (``{host: window or
[windows]}``); ``diversion`` (``{closed host: {host: share}}``); ``initial``
(``{host: {compartment: people}}``); ``policies`` (array of tables).
"""

from __future__ import annotations

from collections.abc import Mapping

from .._validation import did_you_mean
from ..exceptions import ParameterError
from ..hosts import REFERENCE_HOSTS, check_host_code, check_host_codes
from .defaults import reference_parameters
from .host import Host, add_hosts
from .keypaths import Origin, Reader
from .parameter_set import SHARE_TOL, ParameterSet, _checked_number
from .policies import Policy
from .scenario import STOCK_NAMES, Scenario
from .schedules import Closure, DailyCounts, PiecewiseLinear, Pulse
from .schema_parameters import DETAIL_KEYS, apply_parameters
from .specs import MAX_HORIZON_DAYS, PARAMETER_SPECS

__all__ = ["Origin", "build_scenario", "TOP_KEYS", "CLEARABLE", "SCHEDULE_KEYS", "DETAIL_KEYS"]

#: Top-level keys of a scenario file and what each holds.
TOP_KEYS = {
    "name": "short identifier (default: the file name without .toml)",
    "summary": "one line for `flowsim list`",
    "description": "what the scenario stands for and where its numbers come from",
    "base": "built-in scenario or file this one starts from",
    "start": "day 0 (date)",
    "horizon_days": "days simulated after the start",
    "hosts": "host codes (ISO 3166 alpha-3), in order",
    "origin": "the country people leave (default Russia)",
    "host": "new hosts: {CODE: {name, like, onward, parameters}}",
    "clear": "inherited sections to drop before applying this file",
    "parameters": "parameter values, ranges and sources",
    "arrivals": "direct arrival schedules per host (replace the base's for that host)",
    "extra_arrivals": "direct arrival schedules per host (added to the base's)",
    "closures": "closed windows per host (replace the base's for that host)",
    "diversion": "where arrivals refused at a closed border go instead",
    "initial": "people already present at the start",
    "policies": "per-host parameters that change from a date on",
}

#: Sections a file can drop from its base with ``clear = [...]``.
CLEARABLE = ("arrivals", "closures", "diversion", "initial", "policies")

#: Keys of each arrival schedule type (``type`` selects the schedule).
SCHEDULE_KEYS = {
    "pulse": (Pulse, ("total", "shape", "scale_days", "start")),
    "piecewise_linear": (PiecewiseLinear, ("points",)),
    "daily_counts": (DailyCounts, ("counts", "start")),
}


_POLICY_KEYS = ("parameter", "host", "hosts", "start", "value", "factor", "source")
_CLOSURE_KEYS = ("start", "end")


# ------------------------------------------------------------------ scenario
def build_scenario(spec: Mapping, origin: Origin, *, base: Scenario | None = None,
                   default_name: str = "custom") -> Scenario:
    """Build a scenario from a parsed scenario file.

    Parameters
    ----------
    spec : mapping
        The parsed file (see the module docstring and ``docs/scenarios.md``).
    origin : Origin
        For error messages.
    base : Scenario, optional
        The scenario the file starts from (its ``base``, already resolved);
        without one, parameters start from the reference defaults of the
        hosts and there are no arrivals, closures or policies.
    default_name : str
        Name when the file gives none.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError, ParameterError, ScheduleError
        With the file, line and key of the offending entry.
    """
    rd = Reader(origin)
    rd.table(spec, ())
    rd.keys(spec, tuple(TOP_KEYS), (), "top-level key")
    hosts, params = _hosts_and_params(rd, spec, base)
    params = apply_parameters(rd, params, spec.get("parameters", {}), f"{origin.name} (no source given)")
    inherited = _inherited(rd, spec, base, hosts)
    fields = {}
    for key in ("name", "description"):
        if key in spec:
            fields[key] = rd.text(spec[key], (key,))
    if "summary" in spec:
        rd.text(spec["summary"], ("summary",))
    if "origin" in spec:
        fields["origin"] = rd.text(spec["origin"], ("origin",))
    elif base is not None:
        fields["origin"] = base.origin
    if "start" in spec:
        fields["start"] = rd.date(spec["start"], ("start",))
    elif base is not None:
        fields["start"] = base.start
    horizon = spec.get("horizon_days", None if base is None else base.horizon_days)
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1
                                or horizon > MAX_HORIZON_DAYS):
        rd.wrong(("horizon_days",), f"a whole number of days in [1, {MAX_HORIZON_DAYS}] (at most 100 years)", horizon)
    arrivals = inherited["arrivals"]
    for key, replace in (("arrivals", True), ("extra_arrivals", False)):
        for host, value in rd.table(spec.get(key, {}), (key,)).items():
            rd.host(host, hosts, (key, host))
            new = _schedules(rd, value, (key, host))
            arrivals[host] = tuple(new) if replace else (*arrivals.get(host, ()), *new)
    closures = inherited["closures"]
    for host, value in rd.table(spec.get("closures", {}), ("closures",)).items():
        rd.host(host, hosts, ("closures", host))
        closures[host] = _closures(rd, value, ("closures", host))
    diversion = inherited["diversion"]
    for host, row in rd.table(spec.get("diversion", {}), ("diversion",)).items():
        rd.host(host, hosts, ("diversion", host))
        diversion[host] = _shares(rd, row, ("diversion", host), hosts)
    initial = inherited["initial"]
    for host, stocks in rd.table(spec.get("initial", {}), ("initial",)).items():
        rd.host(host, hosts, ("initial", host))
        initial[host] = _stocks(rd, stocks, ("initial", host), params, host)
    policies = inherited["policies"]
    for i, entry in enumerate(rd.array(spec.get("policies", []), ("policies",), "an array of tables")):
        policies.extend(_policies(rd, entry, ("policies", i), params))
    return rd.wrapped(
        (), Scenario, params=params, horizon_days=horizon,
        arrivals={h: v for h, v in arrivals.items() if v}, closures={h: v for h, v in closures.items() if v},
        diversion={h: v for h, v in diversion.items() if v}, initial=initial, policies=tuple(policies),
        name=fields.get("name", default_name),
        description=fields.get("description", f"Variant of {base.name}." if base is not None else ""),
        **({"start": fields["start"]} if "start" in fields else {}),
        **({"origin": fields["origin"]} if "origin" in fields else {}),
    )


_HOST_KEYS = ("name", "like", "onward", "parameters")


def _defined_hosts(rd, spec) -> dict:
    """The ``[host.CODE]`` tables as :class:`Host` objects, by code (in file order)."""
    out = {}
    for code, table in rd.table(spec.get("host", {}), ("host",), "a table {CODE: {name, like, ...}}").items():
        path = ("host", code)
        rd.wrapped(path, check_host_code, code, where="host")
        rd.table(table, path, "a table with name, like, onward, parameters")
        rd.keys(table, _HOST_KEYS, path, "key of a host table")
        name = rd.text(table["name"], (*path, "name")) if "name" in table else ""
        like = rd.text(table["like"], (*path, "like")) if "like" in table else None
        onward = None
        if "onward" in table:
            onward = {d: rd.number(v, (*path, "onward", d), "a share in [0, 1]")
                      for d, v in rd.table(table["onward"], (*path, "onward"), "a table {destination: share}").items()}
            total = sum(onward.values())
            if abs(total - 1.0) > SHARE_TOL:
                rd.fail((*path, "onward"), f"onward shares of host {code} must sum to 1 (give W, the rest of the "
                                           f"world, explicitly); got {total:.12g}.", ParameterError)
        values = dict(rd.table(table.get("parameters", {}), (*path, "parameters"), "a table {parameter: value}"))
        out[code] = (rd.wrapped(path, Host, code=code, name=name, like=like, values=values, onward=onward), path)
    return out


def _hosts_and_params(rd, spec, base):
    defined = _defined_hosts(rd, spec)
    if "hosts" in spec:
        codes = rd.array(spec["hosts"], ("hosts",), "an array of host codes such as [\"KAZ\", \"UZB\"]")
        for i, code in enumerate(codes):
            rd.text(code, ("hosts", i))
        hosts = rd.wrapped(("hosts",), check_host_codes, codes, where="hosts")
    elif base is not None:
        hosts = (*base.hosts, *[c for c in defined if c not in base.hosts])
    else:
        hosts = tuple(defined) if defined else REFERENCE_HOSTS
    known = set(base.hosts if base is not None else REFERENCE_HOSTS) | set(defined)
    for i, code in enumerate(hosts):
        if code not in known:
            listed = ", ".join(base.hosts) if base is not None else ", ".join(REFERENCE_HOSTS)
            where = f"the base scenario {base.name!r}" if base is not None else "the built-in library"
            fix = did_you_mean(code, sorted(known))
            rd.fail(("hosts", i) if "hosts" in spec else (), f"host {code!r} is neither in {where} ({listed}) nor "
                    f"defined in this file; define it with a [host.{code}] table (name, like, parameters).{fix}")
    for code, (_, path) in defined.items():
        if code not in hosts:
            rd.fail(path, f"host {code} is defined but not listed in `hosts` ({', '.join(hosts)}); add it there.")
        if base is not None and code in base.hosts:
            rd.fail(path, f"host {code} is already in the base scenario {base.name!r}; change its values under "
                          f"[parameters.{code}] instead of defining it again.")
    old = [c for c in hosts if c not in defined]
    if base is not None:
        params = base.params.select(old) if old else None
    else:
        params = reference_parameters(old) if old else None
    new = [h for h, _ in defined.values()]
    if new:
        seed = params if params is not None else reference_parameters(["KAZ"])   # a column dropped by select
        params = rd.wrapped(next(iter(defined.values()))[1], add_hosts, seed, new,
                            default_source=f"{rd.origin.name} (no source given)", listed=hosts)
    return hosts, params.select(hosts)


def _inherited(rd, spec, base, hosts) -> dict:
    """The base's arrivals, closures, diversion, initial stocks and policies for ``hosts``."""
    out = {"arrivals": {}, "closures": {}, "diversion": {}, "initial": {}, "policies": []}
    if base is None:
        if "clear" in spec:
            rd.fail(("clear",), "`clear` drops sections inherited from `base`, but this file has no `base`.")
        return out
    clear = rd.array(spec.get("clear", []), ("clear",), f"an array of section names ({', '.join(CLEARABLE)})")
    for i, name in enumerate(clear):
        if name not in CLEARABLE:
            fix = did_you_mean(str(name), CLEARABLE)
            rd.fail(("clear", i), f"cannot clear {name!r}; sections that can be cleared: {', '.join(CLEARABLE)}.{fix}")
    keep = set(hosts)
    out["arrivals"] = {h: v for h, v in base.arrivals.items() if h in keep}
    out["closures"] = {h: v for h, v in base.closures.items() if h in keep}
    out["diversion"] = {h: {j: s for j, s in row.items() if j in keep}
                        for h, row in base.diversion.items() if h in keep}
    out["initial"] = {h: dict(v) for h, v in base.initial.items() if h in keep}
    out["policies"] = [p for p in base.policies if p.host in keep]
    for name in clear:
        out[name] = [] if name == "policies" else {}
    return out


# ----------------------------------------------------------- other sections
def _items(rd, value, path, what):
    """A single table, or an array of tables, as ``[(path, table), ...]``."""
    if isinstance(value, Mapping):
        return [(path, value)]
    items = rd.array(value, path, f"a table or an array of tables ({what})")
    return [(( *path, i), rd.table(item, (*path, i), f"a table ({what})")) for i, item in enumerate(items)]


def _schedules(rd, value, path) -> list:
    out = []
    for p, table in _items(rd, value, path, "arrival schedules"):
        kind = table.get("type")
        if not isinstance(kind, str) or kind not in SCHEDULE_KEYS:
            fix = did_you_mean(kind, SCHEDULE_KEYS) if isinstance(kind, str) else ""
            rd.fail((*p, "type") if kind is not None else p,
                    f"an arrival schedule needs `type` = one of {', '.join(SCHEDULE_KEYS)}; got {kind!r}.{fix}")
        cls, keys = SCHEDULE_KEYS[kind]
        rd.keys(table, ("type", *keys), p, f"key of a {kind} schedule")
        body = {k: v for k, v in table.items() if k != "type" and v is not None}
        if "start" in body:
            body["start"] = rd.date(body["start"], (*p, "start"))
        out.append(rd.wrapped(p, cls, **body))
    return out


def _closures(rd, value, path) -> tuple:
    out = []
    for p, table in _items(rd, value, path, "closed windows {start, end}"):
        rd.keys(table, _CLOSURE_KEYS, p, "key of a closure")
        body = {k: rd.date(v, (*p, k)) for k, v in table.items() if v is not None}
        out.append(rd.wrapped(p, Closure, **body))
    return tuple(out)


def _shares(rd, row, path, hosts) -> dict:
    rd.table(row, path, "a table {host: share}")
    out = {}
    for dest, share in row.items():
        rd.host(dest, hosts, (*path, dest))
        out[dest] = rd.number(share, (*path, dest), "a share in [0, 1]")
        if not 0.0 <= out[dest] <= 1.0:
            rd.fail((*path, dest), f"diversion share {path[-1]} -> {dest} must be in [0, 1]; got {share!r}.")
    if sum(out.values()) > 1.0 + SHARE_TOL:
        rd.fail(path, f"diversion shares of {path[-1]} must sum to at most 1 (the rest stay at the origin); "
                      f"got {sum(out.values()):.12g}.")
    return out


def _stocks(rd, stocks, path, params: ParameterSet, host: str) -> dict:
    k = int(params.get("k"))
    allowed = ("T", "S", *[f"S{i}" for i in range(1, k + 1)], *STOCK_NAMES[2:])
    rd.table(stocks, path, "a table {compartment: people}")
    rd.keys(stocks, allowed, path, "compartment")
    out = {}
    for name, v in stocks.items():
        out[name] = rd.number(v, (*path, name), "a number of people")
        if not 0.0 <= out[name] < float("inf"):
            rd.fail((*path, name), f"initial stock {name} for host {host} must be in [0, inf) people; got {v!r}.")
    K = params.get("K", host)
    if out.get("E", 0.0) > K:
        rd.fail((*path, "E"), f"initial stock E for host {host} must be <= K = {K:g} (jobs for migrants); "
                              f"got {out['E']:g}. Raise K in [parameters.{host}] or lower E.")
    return out


def _policies(rd, entry, path, params: ParameterSet) -> list:
    hosts = params.hosts
    rd.table(entry, path, "a table {parameter, host, start, value or factor}")
    rd.keys(entry, _POLICY_KEYS, path, "key of a policy")
    if ("host" in entry) == ("hosts" in entry):
        rd.fail(path, "a policy needs `host` (one code) or `hosts` (an array of codes), not both.")
    if "host" in entry:
        targets = [(rd.text(entry["host"], (*path, "host")), (*path, "host"))]
    else:
        codes = rd.array(entry["hosts"], (*path, "hosts"), "an array of host codes")
        targets = [(rd.text(c, (*path, "hosts", i)), (*path, "hosts", i)) for i, c in enumerate(codes)]
    for key in ("parameter", "start"):
        if key not in entry:
            rd.fail(path, f"a policy needs `{key}`.")
    body = {k: entry[k] for k in ("parameter", "value", "factor", "source") if k in entry}
    body["parameter"] = rd.text(body["parameter"], (*path, "parameter"))
    for key in ("value", "factor"):
        if key in body:
            body[key] = rd.number(body[key], (*path, key))
    start = rd.date(entry["start"], (*path, "start"))
    out = []
    for host, hpath in targets:
        rd.host(host, hosts, hpath)
        pol = rd.wrapped(path, Policy, host=host, start=start, **body)
        new = pol.new_value(params.get(pol.parameter, host))
        rd.wrapped(path, _checked_number, PARAMETER_SPECS[pol.parameter], new, f"{host} from {start}")
        out.append(pol)
    return out
