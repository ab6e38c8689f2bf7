"""The scenario-file schema: build a :class:`Scenario` from a mapping.

A scenario file (TOML, see ``docs/scenarios.md``) is parsed into nested
mappings; :func:`build_scenario` checks every key and value against the schema
below and builds the scenario on top of an optional base scenario. Every error
names the file, the line where it is known, the key path, and, for a misspelt
key, the closest valid name.

Top-level keys
--------------
``name``, ``summary``, ``description`` (text); ``base`` (a built-in name or a
file; resolved by :mod:`flowsim.scenario.files`); ``start`` (date);
``horizon_days`` (integer); ``hosts`` (array of codes); ``clear`` (inherited
sections to drop); ``parameters``; ``arrivals`` and ``extra_arrivals``
(``{host: schedule or [schedules]}``); ``closures`` (``{host: window or
[windows]}``); ``diversion`` (``{closed host: {host: share}}``); ``initial``
(``{host: {compartment: people}}``); ``policies`` (array of tables).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._validation import did_you_mean
from ..exceptions import FlowsimError, ParameterError, ScenarioError
from ..hosts import REFERENCE_HOSTS, WORLD, check_host_codes
from .defaults import reference_parameters
from .parameters import SHARE_TOL, ParameterSet, _checked_number
from .policies import Policy
from .scenario import STOCK_NAMES, Scenario
from .schedules import Closure, DailyCounts, PiecewiseLinear, Pulse
from .specs import PARAMETER_SPECS

__all__ = ["Origin", "build_scenario", "TOP_KEYS", "CLEARABLE", "SCHEDULE_KEYS", "DETAIL_KEYS"]

#: Top-level keys of a scenario file and what each holds.
TOP_KEYS = {
    "name": "short identifier (default: the file name without .toml)",
    "summary": "one line for `flowsim list`",
    "description": "what the scenario stands for and where its numbers come from",
    "base": "built-in scenario or file this one starts from",
    "start": "day 0 (date)",
    "horizon_days": "days simulated after the start",
    "hosts": "host codes (ISO 3166 alpha-3)",
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

#: Keys of a parameter given with its provenance: ``{value, low, high, source}``.
DETAIL_KEYS = ("value", "low", "high", "source")

_POLICY_KEYS = ("parameter", "host", "hosts", "start", "value", "factor", "source")
_CLOSURE_KEYS = ("start", "end")


def _display(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class Origin:
    """Where a mapping came from, to say so in errors.

    Parameters
    ----------
    name : str
        File name shown in messages.
    line_of : callable, optional
        ``path -> line number or None`` (TOML files know their lines).
    display : callable, optional
        ``path -> text`` of a key path (default ``parameters.KAZ.f0``,
        ``arrivals.KAZ[0].total``).
    """

    name: str
    line_of: Callable[[tuple], int | None] = field(default=lambda path: None)
    display: Callable[[tuple], str] = field(default=_display)

    def error(self, path: tuple, message: str, cls=ScenarioError) -> FlowsimError:
        """An error of class ``cls`` prefixed with the file, line and key."""
        where = self.name
        line = self.line_of(path) if path else None
        if line:
            where += f", line {line}"
        if path:
            where += f", key {self.display(path)}"
        return cls(f"{where}: {message}")


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, _dt.date):
        return "a date"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


class _Reader:
    """Type and key checks with the origin's error format."""

    def __init__(self, origin: Origin):
        self.origin = origin

    def fail(self, path, message, cls=ScenarioError):
        raise self.origin.error(path, message, cls)

    def wrong(self, path, want, value):
        self.fail(path, f"must be {want}; got {value!r} ({_kind(value)}).")

    def table(self, value, path, want="a table") -> Mapping:
        if not isinstance(value, Mapping):
            self.wrong(path, want, value)
        return value

    def keys(self, table, allowed, path, what):
        for key in table:
            if key not in allowed:
                fix = did_you_mean(str(key), allowed)
                self.fail((*path, key), f"unknown {what} {key!r}; allowed: {', '.join(allowed)}.{fix}")

    def text(self, value, path) -> str:
        if not isinstance(value, str):
            self.wrong(path, "text", value)
        return value

    def date(self, value, path) -> _dt.date:
        if isinstance(value, _dt.datetime):
            self.wrong(path, "a date such as 2022-09-21 (no time of day)", value)
        if isinstance(value, _dt.date):
            return value
        if isinstance(value, str):
            try:
                return _dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.wrong(path, "a date such as 2022-09-21", value)

    def number(self, value, path, what="a number") -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong(path, what, value)
        return float(value)

    def array(self, value, path, want="an array") -> list:
        if not isinstance(value, list | tuple):
            self.wrong(path, want, value)
        return list(value)

    def host(self, code, hosts, path):
        if code not in hosts:
            fix = did_you_mean(str(code), hosts)
            what = "unknown host code" if code not in REFERENCE_HOSTS else "host not in this scenario:"
            self.fail(path, f"{what} {code!r}; this scenario's hosts: {', '.join(hosts)}.{fix}")
        return code

    def wrapped(self, path, build, *args, **kwargs):
        """Call ``build``; re-raise a flowsim error with the file and key in front."""
        try:
            return build(*args, **kwargs)
        except FlowsimError as exc:
            raise self.origin.error(path, str(exc), type(exc)) from None


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
    rd = _Reader(origin)
    rd.table(spec, ())
    rd.keys(spec, tuple(TOP_KEYS), (), "top-level key")
    hosts, params = _hosts_and_params(rd, spec, base)
    params = _apply_parameters(rd, params, spec.get("parameters", {}), f"{origin.name} (no source given)")
    inherited = _inherited(rd, spec, base, hosts)
    fields = {}
    for key in ("name", "description"):
        if key in spec:
            fields[key] = rd.text(spec[key], (key,))
    if "summary" in spec:
        rd.text(spec["summary"], ("summary",))
    if "start" in spec:
        fields["start"] = rd.date(spec["start"], ("start",))
    elif base is not None:
        fields["start"] = base.start
    horizon = spec.get("horizon_days", None if base is None else base.horizon_days)
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1):
        rd.wrong(("horizon_days",), "a whole number of days >= 1", horizon)
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
    )


def _hosts_and_params(rd, spec, base):
    if "hosts" not in spec:
        if base is not None:
            return base.hosts, base.params
        return REFERENCE_HOSTS, reference_parameters(REFERENCE_HOSTS)
    codes = rd.array(spec["hosts"], ("hosts",), "an array of host codes such as [\"KAZ\", \"UZB\"]")
    for i, code in enumerate(codes):
        if rd.text(code, ("hosts", i)) not in REFERENCE_HOSTS:
            fix = did_you_mean(code, REFERENCE_HOSTS)
            rd.fail(("hosts", i), f"unknown host code {code!r}; allowed: {', '.join(REFERENCE_HOSTS)}.{fix}")
    hosts = rd.wrapped(("hosts",), check_host_codes, codes, where="hosts")
    if base is None:
        return hosts, reference_parameters(hosts)
    for i, code in enumerate(hosts):
        if code not in base.hosts:
            rd.fail(("hosts", i), f"host {code!r} is not in the base scenario {base.name!r} "
                                  f"({', '.join(base.hosts)}); a file can keep a subset of its base's hosts. "
                                  "Drop `base` to start from the reference defaults of any hosts.")
    return hosts, base.params.select(hosts)


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


# ---------------------------------------------------------------- parameters
def _apply_parameters(rd, params: ParameterSet, table, default_source: str) -> ParameterSet:
    """``params`` with the ``[parameters]`` table of a file applied."""
    path0 = ("parameters",)
    rd.table(table, path0)
    hosts = params.hosts
    state = _ParamState(params, default_source)
    specific = []  # host-specific entries, applied after the all-host ones
    for key, value in table.items():
        path = (*path0, key)
        if key == "P":
            for host, row in rd.table(value, path, "a table {host: {destination: share}}").items():
                rd.host(host, hosts, (*path, host))
                specific.append(("P", host, row, (*path, host)))
        elif key in PARAMETER_SPECS:
            sp = PARAMETER_SPECS[key]
            if sp.scope == "global":
                state.set(rd, key, None, value, path)
            elif isinstance(value, Mapping) and set(value) - set(DETAIL_KEYS):
                shared = value.get("source")   # one source for every host of the table
                for host, v in value.items():
                    if host == "source":
                        continue
                    if host in DETAIL_KEYS:
                        rd.fail((*path, host), f"`{host}` cannot be mixed with host codes in the table of `{key}`; "
                                               f"give `HOST = {{ value = ..., low = ..., high = ... }}` per host.",
                                ParameterError)
                    rd.host(host, hosts, (*path, host))
                    if shared is not None:
                        v = {**v, "source": v.get("source", shared)} if isinstance(v, Mapping) else \
                            {"value": v, "source": shared}
                    specific.append((key, host, v, (*path, host)))
            else:
                for host in hosts:
                    state.set(rd, key, host, value, path)
        elif key in hosts or key in REFERENCE_HOSTS:
            rd.host(key, hosts, path)
            names = (*[n for n, s in PARAMETER_SPECS.items() if s.scope == "host"], "P")
            for name, v in rd.table(value, path, "a table {parameter: value}").items():
                if name in PARAMETER_SPECS and PARAMETER_SPECS[name].scope == "global":
                    rd.fail((*path, name), f"`{name}` is global (one value for all hosts): set it directly "
                                           f"under [parameters], not under [parameters.{key}].", ParameterError)
                if name not in names:
                    fix = did_you_mean(str(name), names)
                    rd.fail((*path, name), f"unknown parameter {name!r} for host {key}; "
                                           f"per-host parameters: {', '.join(names)}.{fix}", ParameterError)
                specific.append((name, key, v, (*path, name)))
        else:
            choices = (*PARAMETER_SPECS, "P", *hosts)
            fix = did_you_mean(str(key), choices)
            rd.fail(path, f"unknown parameter or host {key!r}; parameters: {', '.join((*PARAMETER_SPECS, 'P'))}; "
                          f"hosts: {', '.join(hosts)}.{fix}", ParameterError)
    seen = {}
    for name, host, value, path in specific:
        if (name, host) in seen:
            rd.fail(path, f"`{name}` for host {host} is given twice (also at {rd.origin.display(seen[name, host])}).",
                    ParameterError)
        seen[name, host] = path
        if name == "P":
            state.onward(rd, host, value, path)
        else:
            state.set(rd, name, host, value, path)
    return rd.wrapped(path0, state.build)


class _ParamState:
    """Mutable copies of a ParameterSet's arrays while a file is applied."""

    def __init__(self, params: ParameterSet, default_source: str):
        self.hosts = params.hosts
        self.values = {n: np.array(v, dtype=float) for n, v in params.values.items()}
        self.ranges = {n: np.array(r, dtype=float) for n, r in params.ranges.items()}
        self.sources = {n: list(s) for n, s in params.sources.items()}
        self.P = np.array(params.P)
        self.default_source = default_source

    def set(self, rd, name, host, value, path):
        sp = PARAMETER_SPECS[name]
        detail = {"value": value}
        if isinstance(value, Mapping):
            rd.keys(value, DETAIL_KEYS, path, f"key in the table of `{name}` (a number, or a table with")
            detail = dict(value)
        i = (...,) if host is None else (self.hosts.index(host),)
        rng = self.ranges[name][i].copy()
        if "value" in detail:
            x = rd.wrapped((*path, "value") if isinstance(value, Mapping) else path,
                           _checked_number, sp, detail["value"], host)
            self.values[name][i] = x
            rng = np.array([min(rng[0], x), max(rng[1], x)])   # widened unless a range is given
            self.sources[name][i[0] if host else 0] = self.default_source
        for j, key in enumerate(("low", "high")):
            if key in detail:
                rng[j] = rd.wrapped((*path, key), _checked_number, sp, detail[key], host)
        if rng[0] > rng[1]:
            rd.fail(path, f"range of `{name}`{f' for host {host}' if host else ''} must have low <= high; "
                          f"got low = {rng[0]:g}, high = {rng[1]:g}.", ParameterError)
        self.ranges[name][i] = rng
        if "source" in detail:
            self.sources[name][i[0] if host else 0] = rd.text(detail["source"], (*path, "source"))

    def onward(self, rd, host, row, path):
        dest = [*self.hosts, WORLD]
        rd.table(row, path, "a table {destination: share}, e.g. {UZB = 0.2, W = 0.8}")
        i = self.hosts.index(host)
        self.P[i] = 0.0
        for d, share in row.items():
            if d not in dest or d == host:
                allowed = [x for x in dest if x != host]
                fix = did_you_mean(str(d), allowed)
                rd.fail((*path, d), f"unknown onward destination {d!r} for host {host}; "
                                    f"allowed: {', '.join(allowed)} (W: rest of the world).{fix}", ParameterError)
            x = rd.number(share, (*path, d), "a share in [0, 1]")
            if not 0.0 <= x <= 1.0:
                rd.fail((*path, d), f"onward share {host} -> {d} must be in [0, 1]; got {x:g}.", ParameterError)
            self.P[i, dest.index(d)] = x
        total = self.P[i].sum()
        if abs(total - 1.0) > SHARE_TOL:
            rd.fail(path, f"onward shares of host {host} must sum to 1 (give W, the rest of the world, "
                          f"explicitly); got {total:.12g}.", ParameterError)

    def build(self) -> ParameterSet:
        return ParameterSet(
            hosts=self.hosts, P=self.P,
            values={n: (float(v) if v.ndim == 0 else v) for n, v in self.values.items()},
            ranges=self.ranges, sources={n: tuple(s) for n, s in self.sources.items()},
        )


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
        if kind not in SCHEDULE_KEYS:
            fix = did_you_mean(str(kind), SCHEDULE_KEYS) if kind is not None else ""
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
