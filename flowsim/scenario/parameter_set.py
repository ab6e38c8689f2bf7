"""Parameter values of a scenario, with their ranges and sources.

:class:`ParameterSet` holds one value per (parameter, host) for every per-host
docs/model.md parameter, one value for each global parameter, and the onward matrix
``P``. It validates once at construction and is immutable: variants come from
:meth:`ParameterSet.with_params`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._validation import did_you_mean
from ..exceptions import FlowsimDeprecationWarning, ParameterError
from ..hosts import COUNTRY_NAMES, HOST_NAMES, WORLD, check_host_codes, host_index
from ..table import Table
from .host import add_hosts
from .specs import PARAMETER_SPECS, ParameterSpec, spec
from .specs import checked_number as _checked_number
from .specs import where_text as _where

__all__ = ["Parameter", "ParameterSet"]

#: Tolerance on onward rows summing to 1 and on ``q_on + q_ret <= 1``.
SHARE_TOL = 1e-9

#: v1 parameter still read: ``L`` (total rent paid by local renters, USD/day) is read as ``rd = L / Hs``.
LEGACY_RENT = "L"


def warn_legacy_rent(where: str = "") -> None:
    """The one-line deprecation note of docs/model.md v2 for a given ``L``."""
    warnings.warn(f"parameter `L`{where} is deprecated (model v2, docs/model.md): read as `rd = L / Hs`, the rent "
                  f"of one dwelling in USD/day; give `rd` instead.", FlowsimDeprecationWarning, stacklevel=3)


def rent_from_legacy(L, Hs):
    """``rd = L / Hs`` (USD/day per dwelling) from v1's total rent ``L`` (USD/day) and the stock ``Hs``."""
    return np.asarray(L, float) / np.asarray(Hs, float)


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """One row of a parameter table: a value with everything known about it, for display.

    A row, not a parameter: :meth:`ParameterSet.table` and ``flowsim show`` list these.
    What a parameter is lives in :class:`~flowsim.scenario.specs.ParameterSpec`; the
    numbers a sample draws or a fit adjusts are
    :class:`~flowsim.scenario.free_parameters.FreeParameter` objects.

    Attributes
    ----------
    name : str
        docs/model.md symbol.
    host : str or None
        Host code, or None for a global parameter.
    value : float
        The value, in ``unit``.
    unit : str
        Physical unit.
    bounds : str
        Hard bounds as text (values outside are refused).
    low, high : float
        Plausible range used for uncertainty analysis.
    source : str
        Citation or ``assumption: reason``.
    description : str
        One-line meaning.
    """

    name: str
    host: str | None
    value: float
    unit: str
    bounds: str
    low: float
    high: float
    source: str
    description: str


@dataclass(frozen=True, kw_only=True)
class ParameterSet:
    """Values, ranges and sources of all parameters for a set of hosts.

    Parameters
    ----------
    hosts : tuple of str
        Host codes, fixing the order of every per-host array.
    values : mapping
        ``name -> array of shape (H,)`` for per-host parameters and
        ``name -> float`` for global ones (``k``, ``r``).
    P : ndarray, shape (H, H + 1)
        Onward shares; column ``j < H`` is host ``hosts[j]``, the last column is
        the rest of the world ``W``. Rows sum to 1 and ``P[h, h] = 0``.
    ranges : mapping, optional
        ``name -> array (H, 2)`` (per host) or ``(2,)`` (global): plausible
        ``(low, high)``; defaults to the value itself.
    sources : mapping, optional
        ``name -> tuple of str`` (one per host, or one for a global).
    names : mapping, optional
        ``host -> display name`` (``"Poland"``); default the built-in name of
        a reference host, else the code itself.

    Raises
    ------
    ParameterError
        Missing, unknown, NaN or out-of-bounds values, ``q_on + q_ret > 1``,
        onward rows not summing to 1, ``P[h, h] != 0``, a range with ``low >
        high`` or a value outside its own range.
    """

    hosts: tuple[str, ...]
    values: Mapping[str, object]
    P: np.ndarray
    ranges: Mapping[str, np.ndarray] = field(default_factory=dict)
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        hosts = check_host_codes(self.hosts, where="ParameterSet hosts")
        object.__setattr__(self, "hosts", hosts)
        nh = len(hosts)
        given = dict(self.names or {})
        for code, text in given.items():
            if code not in hosts:
                host_index(code, hosts, what="the hosts of this parameter set", where="names")
            if not isinstance(text, str) or not text.strip():
                raise ParameterError(f"names: the name of host {code} must be non-empty text; got {text!r}.")
        object.__setattr__(self, "names", {h: given.get(h) or HOST_NAMES.get(h) or COUNTRY_NAMES.get(h, h)
                                           for h in hosts})
        if LEGACY_RENT in self.values:
            object.__setattr__(self, "values", self._legacy_values(self.values, hosts))
        unknown = set(self.values) - set(PARAMETER_SPECS)
        for name in sorted(unknown):
            spec(name)  # raises with a suggestion
        clean: dict[str, object] = {}
        for name, sp in PARAMETER_SPECS.items():
            if name not in self.values:
                raise ParameterError(f"{_where(name, None)} is missing; every model parameter (docs/model.md) "
                                     "needs a value.")
            clean[name] = self._check_value(sp, self.values[name], hosts)
        object.__setattr__(self, "values", clean)
        self._check_shares(clean, hosts)
        object.__setattr__(self, "P", self._check_onward(self.P, hosts))
        ranges = {}
        for name, sp in PARAMETER_SPECS.items():
            v = clean[name]
            given = self.ranges.get(name) if self.ranges else None
            if given is None:
                rng = np.stack([v, v], axis=-1) if sp.scope == "host" else np.array([v, v], float)
            else:
                rng = np.array(given, dtype=float)
                want = (nh, 2) if sp.scope == "host" else (2,)
                if rng.shape != want:
                    raise ParameterError(f"range of {_where(name, None)} must have shape {want}; got {rng.shape}.")
                _check_range(sp, v, rng, hosts)
            ranges[name] = _frozen(rng)
        object.__setattr__(self, "ranges", ranges)
        sources = {}
        for name, sp in PARAMETER_SPECS.items():
            n = nh if sp.scope == "host" else 1
            src = tuple(self.sources.get(name, ())) if self.sources else ()
            sources[name] = src if len(src) == n else ("unspecified",) * n
        object.__setattr__(self, "sources", sources)

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _legacy_values(values, hosts):
        """``values`` with v1's ``L`` replaced by ``rd = L / Hs`` (a warning says so)."""
        values = dict(values)
        L = values.pop(LEGACY_RENT)
        if "rd" in values:
            raise ParameterError("give either `rd` (rent per dwelling, USD/day) or the deprecated `L` "
                                 "(total rent, read as rd = L / Hs), not both.")
        if "Hs" not in values:
            raise ParameterError("the deprecated parameter `L` is read as `rd = L / Hs` and needs `Hs`; "
                                 "give `rd` (rent per dwelling, USD/day) instead.")
        sp_L = ParameterSpec(name="L", unit="USD/day", description="")
        sp_Hs = PARAMETER_SPECS["Hs"]
        L = ParameterSet._check_value(sp_L, L, hosts)
        Hs = ParameterSet._check_value(sp_Hs, values["Hs"], hosts)
        warn_legacy_rent()
        values["rd"] = rent_from_legacy(L, Hs)
        return values

    @staticmethod
    def _check_value(sp: ParameterSpec, value, hosts):
        if sp.scope == "global":
            arr = np.asarray(value, dtype=object)
            if arr.ndim != 0:
                raise ParameterError(f"{_where(sp.name, None)} is global: give one number; got {value!r}.")
            return _checked_number(sp, arr.item(), None)
        arr = np.asarray(value, dtype=object)
        if arr.ndim == 0:
            arr = np.full(len(hosts), arr.item(), dtype=object)
        if arr.shape != (len(hosts),):
            raise ParameterError(
                f"{_where(sp.name, None)} needs one value per host ({len(hosts)}: "
                f"{', '.join(hosts)}); got shape {arr.shape}."
            )
        return _frozen([_checked_number(sp, v, h) for v, h in zip(arr, hosts)])

    @staticmethod
    def _check_shares(values, hosts):
        total = values["q_on"] + values["q_ret"]
        for h, q_on, q_ret, s in zip(hosts, values["q_on"], values["q_ret"], total):
            if s > 1.0 + SHARE_TOL:
                raise ParameterError(
                    f"Parameters `q_on` + `q_ret` for host {h} must be <= 1 (the rest settle); "
                    f"got {q_on:g} + {q_ret:g} = {s:g}."
                )
        for h, tau_c, m in zip(hosts, values["tau_c"], values["m"]):
            if tau_c > m + SHARE_TOL:
                raise ParameterError(
                    f"Parameter `tau_c` for host {h} must be <= `m` ({m:g}): m is value added at market prices, "
                    f"so it includes the indirect taxes; got tau_c = {tau_c:g}."
                )

    @staticmethod
    def _check_onward(P, hosts):
        nh = len(hosts)
        try:
            arr = np.array(P, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"Parameter `P` must be a numeric matrix; got {P!r}.") from None
        if arr.shape != (nh, nh + 1):
            raise ParameterError(
                f"Parameter `P` must have shape (hosts, hosts + 1) = ({nh}, {nh + 1}) "
                f"with a last column for {WORLD}; got {arr.shape}."
            )
        dest = list(hosts) + [WORLD]
        for i, h in enumerate(hosts):
            for j, d in enumerate(dest):
                x = arr[i, j]
                if not math.isfinite(x) or x < 0 or x > 1:
                    raise ParameterError(
                        f"Parameter `P` for host {h}, destination {d} must be in [0, 1]; got {x:g}."
                    )
            if arr[i, i] != 0.0:
                raise ParameterError(
                    f"Parameter `P` for host {h}, destination {h} must be 0 (no onward move "
                    f"to the same host); got {arr[i, i]:g}."
                )
            s = arr[i].sum()
            if abs(s - 1.0) > SHARE_TOL:
                raise ParameterError(
                    f"Parameter `P` for host {h}: onward shares over {', '.join(d for d in dest if d != h)} "
                    f"must sum to 1; got {s:.12g}."
                )
        arr.setflags(write=False)
        return arr

    # ----------------------------------------------------------------- access
    def __getitem__(self, name: str):
        """Value of ``name``: array (H,) per host, float for a global, (H, H+1) for ``P``."""
        if name == "P":
            return self.P
        spec(name)
        return self.values[name]

    def host_index(self, host: str) -> int:
        """Position of ``host`` in :attr:`hosts`."""
        return host_index(host, self.hosts)

    def get(self, name: str, host: str | None = None) -> float:
        """One value: ``get("tau_T", "KAZ")`` or ``get("k")``."""
        sp = spec(name)
        if sp.scope == "global":
            return float(self.values[name])
        if host is None:
            raise ParameterError(f"{_where(name, None)} is per host: name the host.")
        return float(self.values[name][self.host_index(host)])

    def onward(self, host: str) -> dict[str, float]:
        """Onward shares of ``host`` as ``{destination: share}`` (hosts and ``W``)."""
        row = self.P[self.host_index(host)]
        return {d: float(x) for d, x in zip(list(self.hosts) + [WORLD], row) if d != host}

    # ---------------------------------------------------------------- updates
    def with_params(self, **updates) -> ParameterSet:
        """Return a copy with some values replaced.

        Parameters
        ----------
        **updates
            ``name=value`` sets a global value or every host's value;
            ``name={"KAZ": v, ...}`` sets some hosts only;
            ``P={"KAZ": {"UZB": 0.2, "W": 0.8}}`` replaces whole onward rows.
            The source of a changed value becomes ``"user"``.

        Returns
        -------
        ParameterSet
            A new, validated set; ``self`` is unchanged.

        Examples
        --------
        >>> from flowsim import reference_parameters
        >>> p = reference_parameters().with_params(f0={"KAZ": 0.02}, k=2)
        >>> p.get("f0", "KAZ"), p.get("k")
        (0.02, 2.0)
        """
        values = dict(self.values)
        sources = dict(self.sources)
        ranges = dict(self.ranges)
        P = self.P
        if LEGACY_RENT in updates:
            updates = self._legacy_update(updates)
        for name, new in updates.items():
            if name == "P":
                P = self._check_onward(self._updated_onward(np.array(P), new), self.hosts)
                continue
            sp = spec(name)
            if sp.scope == "global":
                v = _checked_number(sp, new, None)
                values[name] = v
                sources[name] = ("user",)
                lo, hi = ranges[name]
                ranges[name] = _frozen(np.array([min(lo, v), max(hi, v)]))
                continue
            arr = np.array(values[name], dtype=float)
            src = list(sources[name])
            if isinstance(new, Mapping):
                for host, v in new.items():
                    i = self.host_index(host)
                    arr[i] = _checked_number(sp, v, host)
                    src[i] = "user"
            else:
                for i, h in enumerate(self.hosts):
                    arr[i] = _checked_number(sp, new, h)
                src = ["user"] * len(self.hosts)
            values[name] = _frozen(arr)
            sources[name] = tuple(src)
            rng = ranges[name]
            ranges[name] = _frozen(np.stack([np.minimum(rng[:, 0], arr), np.maximum(rng[:, 1], arr)], axis=-1))
        # Every value was checked (those not updated when ``self`` was built), and each updated value lies in
        # its widened range; what is left are the checks across parameters. Building the set field by field
        # instead of through __post_init__ is what makes a posterior's thousands of walkers cheap; the result
        # equals ParameterSet(...) of the same fields (tests/test_sampling.py checks it).
        self._check_shares(values, self.hosts)
        out = object.__new__(type(self))
        for f, v in (("hosts", self.hosts), ("values", values), ("P", P), ("ranges", ranges),
                     ("sources", sources), ("names", self.names)):
            object.__setattr__(out, f, v)
        return out

    def with_hosts(self, *hosts) -> ParameterSet:
        """A copy with new hosts appended (:class:`~flowsim.scenario.host.Host`; see :func:`add_hosts`).

        Examples
        --------
        >>> from flowsim import Host, reference_parameters
        >>> p = reference_parameters(["KAZ"]).with_hosts(Host("POL", "Poland", like="KAZ"))
        >>> p.hosts, p.onward("POL")
        (('KAZ', 'POL'), {'KAZ': 0.0, 'W': 1.0})
        """
        return add_hosts(self, hosts)

    def _legacy_update(self, updates: dict) -> dict:
        """``updates`` with ``L`` replaced by ``rd = L / Hs`` (``Hs`` from the same call, else this set's)."""
        updates = dict(updates)
        L = updates.pop(LEGACY_RENT)
        if "rd" in updates:
            raise ParameterError("give either `rd` (rent per dwelling, USD/day) or the deprecated `L` "
                                 "(total rent, read as rd = L / Hs), not both.")
        Hs = self.with_params(Hs=updates["Hs"]).values["Hs"] if "Hs" in updates else self.values["Hs"]
        sp_L = ParameterSpec(name="L", unit="USD/day", description="")
        if isinstance(L, Mapping):
            rd = {h: _checked_number(sp_L, v, h) / Hs[self.host_index(h)] for h, v in L.items()}
        else:
            rd = {h: _checked_number(sp_L, L, h) / Hs[i] for i, h in enumerate(self.hosts)}
        warn_legacy_rent()
        updates["rd"] = rd
        return updates

    def _updated_onward(self, P, new):
        if not isinstance(new, Mapping):
            return new  # a full matrix; validated by the constructor
        dest = list(self.hosts) + [WORLD]
        for host, row in new.items():
            i = self.host_index(host)
            if not isinstance(row, Mapping):
                raise ParameterError(
                    f"Parameter `P` for host {host} must be a mapping {{destination: share}}; got {row!r}."
                )
            P[i] = 0.0
            for d, share in row.items():
                if d not in dest:
                    fix = did_you_mean(str(d), dest)
                    raise ParameterError(
                        f"Parameter `P` for host {host}: unknown destination {d!r}; "
                        f"allowed: {', '.join(dest)}.{fix}"
                    )
                P[i, dest.index(d)] = _checked_number(
                    ParameterSpec(name="P", unit="1", description="", upper=1.0, upper_open=False),
                    share, host,
                )
        return P

    # ------------------------------------------------------------ provenance
    def table(self) -> Table:
        """Every value as a :class:`Parameter` record (global ones first), in a :class:`~flowsim.table.Table`."""
        rows = []
        for name, sp in PARAMETER_SPECS.items():
            if sp.scope == "global":
                lo, hi = self.ranges[name]
                rows.append(Parameter(
                    name=name, host=None, value=float(self.values[name]), unit=sp.unit,
                    bounds=sp.bounds_text, low=float(lo), high=float(hi),
                    source=self.sources[name][0], description=sp.description,
                ))
        for name, sp in PARAMETER_SPECS.items():
            if sp.scope == "host":
                for i, h in enumerate(self.hosts):
                    lo, hi = self.ranges[name][i]
                    rows.append(Parameter(
                        name=name, host=h, value=float(self.values[name][i]), unit=sp.unit,
                        bounds=sp.bounds_text, low=float(lo), high=float(hi),
                        source=self.sources[name][i], description=sp.description,
                    ))
        return Table(tuple(rows), title=f"parameters of {len(self.hosts)} hosts ({', '.join(self.hosts)})",
                     display=("name", "host", "value", "unit", "low", "high", "bounds", "source"))

    def to_dict(self, *, provenance: bool = False) -> dict:
        """Resolved values keyed by docs/model.md symbol (per-host ones keyed by host).

        Parameters
        ----------
        provenance : bool
            Also return ``"ranges"`` (``{name: [low, high]}`` for a global,
            ``{name: {host: [low, high]}}`` per host) and ``"sources"`` (same
            layout, strings), so that :meth:`from_dict` restores them.

        Examples
        --------
        >>> from flowsim import ParameterSet, reference_parameters
        >>> p = reference_parameters(["KAZ", "GEO"])
        >>> ParameterSet.from_dict(p.to_dict(provenance=True)).table() == p.table()
        True
        """
        out: dict[str, object] = {}
        for name, sp in PARAMETER_SPECS.items():
            v = self.values[name]
            if sp.scope == "global":
                out[name] = int(v) if sp.integer else float(v)
            else:
                out[name] = {h: float(x) for h, x in zip(self.hosts, v)}
        out["P"] = {h: self.onward(h) for h in self.hosts}
        out["names"] = dict(self.names)
        if provenance:
            ranges, sources = {}, {}
            for name, sp in PARAMETER_SPECS.items():
                if sp.scope == "global":
                    ranges[name] = [float(x) for x in self.ranges[name]]
                    sources[name] = self.sources[name][0]
                else:
                    ranges[name] = {h: [float(lo), float(hi)] for h, (lo, hi) in zip(self.hosts, self.ranges[name])}
                    sources[name] = dict(zip(self.hosts, self.sources[name]))
            out["ranges"], out["sources"] = ranges, sources
        return out

    @classmethod
    def from_dict(cls, data: Mapping, hosts=None) -> ParameterSet:
        """Rebuild a set from :meth:`to_dict` output (exactly: every float is kept).

        Parameters
        ----------
        data : mapping
            ``{name: value or {host: value}, "P": {host: {destination: share}}}``,
            optionally with ``"ranges"`` and ``"sources"``.
        hosts : sequence of str, optional
            Host order; default the order of the onward rows ``data["P"]``.

        Raises
        ------
        ParameterError
            Missing or malformed entries (the parameter and host are named).
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("P"), Mapping):
            raise ParameterError("a parameter record needs a mapping with an onward matrix `P` {host: {dest: share}}.")
        hosts = tuple(data["P"]) if hosts is None else tuple(hosts)
        dest = [*hosts, WORLD]
        unknown = set(data) - set(PARAMETER_SPECS) - {"P", "ranges", "sources", "names"}
        for name in sorted(unknown):
            spec(name)
        values, ranges, sources = {}, {}, {}
        given_ranges, given_sources = data.get("ranges") or {}, data.get("sources") or {}
        for name, sp in PARAMETER_SPECS.items():
            if name not in data:
                raise ParameterError(f"{_where(name, None)} is missing; every model parameter (docs/model.md) "
                                     "needs a value.")
            if sp.scope == "global":
                values[name] = data[name]
                if name in given_ranges:
                    ranges[name] = given_ranges[name]
                if name in given_sources:
                    sources[name] = (given_sources[name],)
                continue
            values[name] = [_per_host(data[name], name, h) for h in hosts]
            if name in given_ranges:
                ranges[name] = [_per_host(given_ranges[name], name, h) for h in hosts]
            if name in given_sources:
                sources[name] = tuple(_per_host(given_sources[name], name, h) for h in hosts)
        P = np.zeros((len(hosts), len(hosts) + 1))
        for i, h in enumerate(hosts):
            row = _per_host(data["P"], "P", h)
            if not isinstance(row, Mapping):
                raise ParameterError(
                    f"Parameter `P` for host {h} must be a mapping {{destination: share}}; got {row!r}."
                )
            for d, share in row.items():
                if d not in dest or d == h:
                    fix = did_you_mean(str(d), [x for x in dest if x != h])
                    raise ParameterError(f"Parameter `P` for host {h}: unknown destination {d!r}.{fix}")
                P[i, dest.index(d)] = share
        names = data.get("names") or {}
        if not isinstance(names, Mapping):
            raise ParameterError(f"a parameter record's `names` must be a mapping {{host: name}}; got {names!r}.")
        return cls(hosts=hosts, values=values, P=P, ranges=ranges, sources=sources,
                   names={h: n for h, n in names.items() if h in hosts})

    def select(self, hosts) -> ParameterSet:
        """The same values for a subset of the hosts (or another order).

        Onward shares towards hosts left out go to the rest of the world ``W``.

        Parameters
        ----------
        hosts : sequence of str
            Hosts of this set.
        """
        hosts = tuple(hosts)
        idx = [self.host_index(h) for h in hosts]
        values, ranges, sources = {}, {}, {}
        for name, sp in PARAMETER_SPECS.items():
            if sp.scope == "global":
                values[name], ranges[name], sources[name] = self.values[name], self.ranges[name], self.sources[name]
            else:
                values[name] = self.values[name][idx]
                ranges[name] = self.ranges[name][idx]
                sources[name] = tuple(self.sources[name][i] for i in idx)
        dropped = [i for i in range(len(self.hosts)) if i not in idx]
        P = np.zeros((len(hosts), len(hosts) + 1))
        for a, i in enumerate(idx):
            P[a, :-1] = self.P[i, idx]
            P[a, -1] = self.P[i, -1] + self.P[i, dropped].sum()
        return ParameterSet(hosts=hosts, values=values, P=P, ranges=ranges, sources=sources,
                            names={h: self.names[h] for h in hosts})

    def __repr__(self) -> str:
        from .._formatting import parameter_table_text

        return parameter_table_text(self)

    def _repr_html_(self) -> str:
        from .._formatting import parameter_table_html

        return parameter_table_html(self)

    def __eq__(self, other) -> bool:
        if not isinstance(other, ParameterSet):
            return NotImplemented
        return (
            self.hosts == other.hosts
            and all(np.array_equal(self.values[n], other.values[n]) for n in PARAMETER_SPECS)
            and np.array_equal(self.P, other.P)
            and dict(self.names) == dict(other.names)
        )

    __hash__ = None  # mutable-looking arrays inside: not hashable


#: Relative slack of "value inside its own range" (rounding of derived values such as ``rd = L / Hs``).
RANGE_TOL = 1e-12


def range_problem(name, host, value, low, high) -> str | None:
    """Why ``(low, high)`` is not a range of ``value`` (``low > high``, or the value outside it); None if it is."""
    where = _where(name, host)
    if not low <= high:
        return (f"the range of `{name}`{f' for host {host}' if host else ''} must have low <= high; "
                f"got low = {low:g}, high = {high:g}.")
    slack = RANGE_TOL * max(abs(low), abs(high))
    if not low - slack <= value <= high + slack:
        return (f"{where}: value {value:g} is outside its own range [{low:g}, {high:g}] (the range is where the "
                f"value may plausibly lie; ensembles sample it). Fix: widen the range to include {value:g}, or "
                f"change the value.")
    return None



def _frozen(arr: np.ndarray) -> np.ndarray:
    """``arr`` as a read-only float array (as the values and ranges of a ParameterSet are)."""
    arr = np.asarray(arr, dtype=float)
    arr.setflags(write=False)
    return arr

def _check_range(sp: ParameterSpec, value, rng, hosts) -> None:
    pairs = [(None, value, rng)] if sp.scope == "global" else zip(hosts, value, rng)
    for host, v, (lo, hi) in pairs:
        problem = range_problem(sp.name, host, float(v), float(lo), float(hi))
        if problem:
            raise ParameterError(problem[0].upper() + problem[1:])


def _per_host(table, name, host):
    if not isinstance(table, Mapping):
        raise ParameterError(f"{_where(name, None)} is per host: give {{host: value}}; got {table!r}.")
    if host not in table:
        raise ParameterError(f"{_where(name, host)} is missing.")
    return table[host]


