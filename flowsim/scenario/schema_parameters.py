"""The ``[parameters]`` table of a scenario file, applied to a :class:`ParameterSet`.

Forms (``docs/scenarios.md``): ``name = number`` (a global, or every host),
``name = {HOST = number}``, ``[parameters.HOST]`` with ``name = number``, a
``{value, low, high, source}`` table instead of a number, a ``source`` next to
host values, and ``P = {DEST = share}`` rows. All-host settings apply first,
then host-specific ones.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._validation import did_you_mean
from ..exceptions import ParameterError
from ..hosts import WORLD
from .parameter_set import LEGACY_RENT, SHARE_TOL, ParameterSet, _checked_number, range_problem, warn_legacy_rent
from .specs import PARAMETER_SPECS, ParameterSpec

__all__ = ["apply_parameters", "DETAIL_KEYS"]

#: Keys of a parameter given with its provenance: ``{value, low, high, source}``.
DETAIL_KEYS = ("value", "low", "high", "source")


def apply_parameters(rd, params: ParameterSet, table, default_source: str) -> ParameterSet:
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
        elif key == LEGACY_RENT:
            per_host = isinstance(value, Mapping) and set(value) - set(DETAIL_KEYS)
            for host in (value if per_host else hosts):
                if host == "source":
                    continue
                if per_host:
                    rd.host(host, hosts, (*path, host))
                specific.append((key, host, value[host] if per_host else value, (*path, host) if per_host else path))
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
        elif key in hosts or (isinstance(key, str) and len(key) == 3 and key.isupper()):
            rd.host(key, hosts, path)
            names = (*[n for n, s in PARAMETER_SPECS.items() if s.scope == "host"], "P", LEGACY_RENT)
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
    legacy = [entry for entry in specific if entry[0] == LEGACY_RENT]
    specific = [entry for entry in specific if entry[0] != LEGACY_RENT]
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
    for _, host, value, path in legacy:       # after Hs is final: rd = L / Hs
        if ("rd", host) in seen:
            rd.fail(path, f"give either `rd` or the deprecated `L` for host {host}, not both.", ParameterError)
        state.set(rd, "rd", host, state.legacy_rent(rd, host, value, path), path)
    if legacy:
        line = rd.origin.line_of(legacy[0][3])
        warn_legacy_rent(f" ({rd.origin.name}{f', line {line}' if line else ''})")
    state.check_ranges(rd)
    return rd.wrapped(path0, state.build)


class _ParamState:
    """Mutable copies of a ParameterSet's arrays while a file is applied."""

    def __init__(self, params: ParameterSet, default_source: str):
        self.hosts = params.hosts
        self.values = {n: np.array(v, dtype=float) for n, v in params.values.items()}
        self.ranges = {n: np.array(r, dtype=float) for n, r in params.ranges.items()}
        self.sources = {n: list(s) for n, s in params.sources.items()}
        self.P = np.array(params.P)
        self.names = dict(params.names)
        self.default_source = default_source
        self.touched = {}        # (name, host) -> key path of the entry that set its value or range last

    def check_ranges(self, rd) -> None:
        """Every value the file set (or whose range it set) inside its own range, once the whole table applied."""
        for (name, host), path in self.touched.items():
            i = (...,) if host is None else (self.hosts.index(host),)
            lo, hi = self.ranges[name][i]
            problem = range_problem(name, host, float(self.values[name][i]), float(lo), float(hi))
            if problem:
                rd.fail(path, problem, ParameterError)

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
        self.ranges[name][i] = rng
        self.touched[name, host] = path
        if "source" in detail:
            self.sources[name][i[0] if host else 0] = rd.text(detail["source"], (*path, "source"))

    def legacy_rent(self, rd, host, value, path):
        """A v1 ``L`` entry (number or detail table) as the ``rd = L / Hs`` entry of ``host``."""
        Hs = self.values["Hs"][self.hosts.index(host)]
        sp = ParameterSpec(name="L", unit="USD/day", description="total rent (v1)")
        if not isinstance(value, Mapping):
            return rd.wrapped(path, _checked_number, sp, value, host) / Hs
        rd.keys(value, DETAIL_KEYS, path, "key in the table of `L` (a number, or a table with")
        return {k: (rd.wrapped((*path, k), _checked_number, sp, v, host) / Hs if k != "source" else v)
                for k, v in value.items()}

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
            ranges=self.ranges, sources={n: tuple(s) for n, s in self.sources.items()}, names=self.names,
        )
