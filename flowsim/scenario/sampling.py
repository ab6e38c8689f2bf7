"""Uncertain parameters: which ones vary, over which ranges, and draws from them.

A :class:`Dimension` is one uncertain number: a global parameter, or a
per-host parameter of one host, with a ``[low, high]`` range. :func:`parse_vary`
turns the ``vary`` argument of :func:`flowsim.ensemble` into dimensions and
checks them once (labels through :func:`~flowsim.scenario.free_parameters.parse_label`,
hosts, order, hard bounds, and ``q_on + q_ret <= 1`` on the ranges as one
:class:`~flowsim.scenario.free_parameters.FreeParameters` collection);
:func:`unit_sample` draws points of the unit cube with :mod:`scipy.stats.qmc`;
:func:`member_values` maps them onto parameter arrays with a leading member
axis, and :func:`regime_values` applies the scenario's policies to every
member at once, without building a :class:`ParameterSet` per member.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._validation import check_seed, did_you_mean
from ..exceptions import ParameterError
from .free_parameters import FreeParameter, FreeParameters, Label, parse_label, scale_unit
from .parameter_set import SHARE_TOL, ParameterSet
from .specs import PARAMETER_SPECS, spec, where_text

__all__ = ["Dimension", "SAMPLERS", "parse_vary", "unit_sample", "scale_sample", "member_values",
           "regime_values", "member_parameter_set"]

#: Samplers of the unit cube by name.
SAMPLERS = ("lhs", "sobol", "random")


@dataclass(frozen=True)
class Dimension:
    """One sampled number: the sampling view of a :class:`~flowsim.scenario.free_parameters.FreeParameter`.

    :func:`parse_vary` checks the free parameters of a ``vary`` specification as one
    :class:`~flowsim.scenario.free_parameters.FreeParameters` collection and returns them
    as dimensions: a model parameter (of one host, for per-host ones) and its range.

    Attributes
    ----------
    name : str
        docs/model.md symbol.
    host : str or None
        Host code, None for a global parameter.
    low, high : float
        Range, in the parameter's unit (``low <= high``).
    """

    name: str
    host: str | None
    low: float
    high: float

    @classmethod
    def of(cls, param: FreeParameter) -> Dimension:
        """The dimension of a free model parameter (its bounds as the range)."""
        return cls(param.label.name, param.label.host, param.low, param.high)

    @property
    def label(self) -> str:
        """``name[HOST]`` or ``name``, as in tables, CSV headers and the CLI (:class:`Label` spelling)."""
        return str(Label(self.name, self.host))

    @property
    def integer(self) -> bool:
        return PARAMETER_SPECS[self.name].integer

    @property
    def unit(self) -> str:
        return PARAMETER_SPECS[self.name].unit

    def scale(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval points to the range (whole numbers spread evenly for ``k``)."""
        return scale_unit(u, self.low, self.high, self.integer)


def _checked_range(name, host, rng, how: str) -> tuple[float, float]:
    sp = spec(name)
    where = where_text(name, host)
    try:
        low, high = (float(x) for x in rng)
    except (TypeError, ValueError):
        raise ParameterError(f"range of {where} must be a pair (low, high) of numbers; got {rng!r}.") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ParameterError(f"range of {where} must be finite; got ({low:g}, {high:g}).")
    if low > high:
        raise ParameterError(
            f"range of {where} ({how}): low must be <= high; got low {low:g} > high {high:g}. "
            f"Give it as ({high:g}, {low:g})."
        )
    for end, x in (("low", low), ("high", high)):
        if not sp.contains(x):
            extra = " and a whole number" if sp.integer else ""
            raise ParameterError(
                f"range of {where} ({how}): {end} end must be in {sp.bounds_text}{extra}{sp.unit_note}; got {x:g}. "
                "Narrow the range to the allowed values."
            )
    return low, high


def _host_ranges(params: ParameterSet, name: str, given) -> list[tuple[str | None, tuple[float, float], str]]:
    """Expand one ``vary`` entry into ``(host, (low, high), how)`` items."""
    sp = spec(name)
    shipped = params.ranges[name]
    if sp.scope == "global":
        if isinstance(given, Mapping):
            raise ParameterError(f"{where_text(name, None)} is global: give one range (low, high), not a range "
                                 "per host.")
        return [(None, tuple(shipped) if given is None else given, "shipped range" if given is None else "given")]
    if given is None:
        return [(h, tuple(shipped[i]), "shipped range") for i, h in enumerate(params.hosts)]
    if isinstance(given, Mapping):
        out = []
        for host, rng in given.items():
            i = params.host_index(host)                       # unknown host: ParameterError with a suggestion
            out.append((params.hosts[i], tuple(shipped[i]) if rng is None else rng,
                        "shipped range" if rng is None else "given"))
        return out
    return [(h, given, "given") for h in params.hosts]


def _vary_label(item) -> tuple[str, dict | None]:
    """``"tau_S[KAZ]"`` -> ``("tau_S", {"KAZ": None})``; ``"f0"`` -> ``("f0", None)`` (via :func:`parse_label`)."""
    label = parse_label(item if isinstance(item, (str, Label)) else str(item), what="vary")
    if label.kind != "model":
        raise ParameterError(f"vary {str(label)!r}: an ensemble varies model parameters only; a "
                             f"{'Pulse field' if label.kind == 'pulse' else 'background level'} is fitted "
                             "(flowsim.calibrate) or changed in the scenario.")
    return label.name, None if label.host is None else {label.host: None}


#: Dimensions already made, per ParameterSet (by id, with a weak reference that removes the entry when the set
#: goes): {id: (ref, {(vary key, initial key): dims})}. A ParameterSet is immutable (its values and ranges are
#: read-only arrays) and dimensions are frozen, so a repeated ensemble of one scenario (a notebook's sweeps,
#: the bench's repeats) skips the 250 labels and range checks of ``vary=None``. Only successes are kept.
_DIMS: dict[int, tuple] = {}
_DIMS_PER_SET = 8


def _key(x):
    """A hashable copy of a ``vary`` or ``initial`` specification (nested mappings, sequences, numbers, str)."""
    if x is None or isinstance(x, (str, bool, int, float)):
        return type(x).__name__, x
    if isinstance(x, Mapping):
        return "map", tuple((_key(k), _key(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return "seq", tuple(_key(v) for v in x)
    if isinstance(x, Label):
        return "label", str(x)
    raise TypeError(type(x).__name__)


def _forget(ref) -> None:
    """Drop the dimensions of a ParameterSet that is gone (and only its own: ids are reused)."""
    for ident, (r, _) in list(_DIMS.items()):
        if r is ref:
            del _DIMS[ident]


def parse_vary(params: ParameterSet, vary=None, *, initial=None) -> tuple[Dimension, ...]:
    """Turn a ``vary`` specification into checked dimensions.

    Parameters
    ----------
    params : ParameterSet
        The scenario's parameters (values and shipped ranges).
    vary : None, sequence or mapping
        * None: every parameter whose range is not a single value, per host
          (the shipped uncertainty ranges; ``k`` included);
        * a sequence of names (``["tau_S", "f0", "tau_T[KAZ]"]``): those
          parameters over their shipped ranges, all hosts or one;
        * a mapping ``{name: range}`` where range is ``(low, high)`` (every
          host, each its own dimension), ``{host: (low, high) or None}``
          (some hosts; None means the shipped range), or None (shipped range).
    initial : mapping, optional
        The scenario's initial stocks ``{host: {compartment: people}}``, to
        check ``E <= K`` at the start for every possible ``K``.

    Returns
    -------
    tuple of Dimension
        In docs/model.md parameter order, hosts in scenario order; no duplicates.

    Raises
    ------
    ParameterError
        Unknown names or hosts (with the closest known ones), ``P``, a range
        with ``low > high`` or an end outside the hard bounds, or ranges that
        allow ``q_on + q_ret > 1`` or ``E > K`` at the start.

    Notes
    -----
    The dimensions of one ParameterSet (the same object) and one
    specification are made once per process and reused (see ``_DIMS``).
    """
    try:
        key = (_key(vary), _key(initial))
    except TypeError:                                             # numpy numbers, other types: not cached
        return _parse_vary(params, vary, initial)
    ident = id(params)
    ref, cache = _DIMS.get(ident, (None, None))
    if ref is None or ref() is not params:
        ref, cache = weakref.ref(params, _forget), {}
        _DIMS[ident] = (ref, cache)
    if key not in cache:
        dims = _parse_vary(params, vary, initial)
        if len(cache) >= _DIMS_PER_SET:
            cache.pop(next(iter(cache)))
        cache[key] = dims
    return cache[key]


def _parse_vary(params: ParameterSet, vary, initial) -> tuple[Dimension, ...]:
    entries: dict[str, object] = {}
    if vary is None:
        for name, sp in PARAMETER_SPECS.items():
            if sp.layer == "observation":                         # changes no series: nothing to sample
                continue
            rng = np.asarray(params.ranges[name])
            if np.any(rng[..., 0] < rng[..., 1]):
                if sp.scope == "global":
                    entries[name] = None
                else:
                    entries[name] = {h: None for i, h in enumerate(params.hosts) if rng[i, 0] < rng[i, 1]}
    elif isinstance(vary, Mapping):
        for name, given in vary.items():
            base, host = _vary_label(name)
            if host is not None:                                  # "tau_S[KAZ]": (60, 240)
                given = {next(iter(host)): given}
            if isinstance(given, Mapping) and isinstance(entries.get(base), dict):
                entries[base].update(given)
            else:
                entries[base] = dict(given) if isinstance(given, Mapping) else given
    elif isinstance(vary, str):
        raise ParameterError(f"vary must be a list of names or a mapping; got the string {vary!r}. "
                             f"Write vary=[{vary!r}].")
    else:
        for item in vary:
            base, host = _vary_label(item)
            if host is not None and isinstance(entries.get(base), dict):
                entries[base].update(host)
            else:
                entries[base] = host
    free = {}
    for name, given in entries.items():
        if name == "P":
            raise ParameterError("Parameter `P` (onward shares) cannot be varied: it is a matrix whose rows sum "
                                 "to 1; vary `q_on` instead, or run scenarios with other matrices.")
        spec(name)                                                # unknown name: error with a suggestion
        for host, rng, how in _host_ranges(params, name, given):
            low, high = _checked_range(name, host, rng, how)
            if how == "shipped range" and low == high and vary is not None:
                raise ParameterError(
                    f"{where_text(name, host)} has no uncertainty range (low = high = {low:g}); "
                    f"give one, e.g. vary={{'{name}': ({low * 0.5:g}, {low * 1.5:g})}}."
                )
            sp = PARAMETER_SPECS[name]
            free[(name, host)] = FreeParameter(label=Label(name, host), value=params.get(name, host),
                                               bounds=(low, high), unit=sp.unit, integer=sp.integer, source=how)
    order = {n: i for i, n in enumerate(PARAMETER_SPECS)}
    hosts = {h: i for i, h in enumerate(params.hosts)}
    collection = FreeParameters(sorted(free.values(), key=lambda p: (order[p.label.name], -1 if p.label.host is None
                                                                     else hosts[p.label.host])))
    collection.check_ranges(params.hosts, params.get, initial or {})
    return tuple(Dimension.of(p) for p in collection.values())


def unit_sample(n: int, d: int, sampler: str = "lhs", seed=None) -> np.ndarray:
    """``n`` points of the unit cube ``[0, 1)^d``.

    Parameters
    ----------
    n : int
        Points (members), >= 1.
    d : int
        Dimensions.
    sampler : {"lhs", "sobol", "random"}
        Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`), scrambled
        Sobol' (:class:`scipy.stats.qmc.Sobol`; ``n`` should be a power of 2,
        otherwise a warning), or independent uniforms.
    seed : int, SeedSequence or None
        Makes the draws reproducible.

    Returns
    -------
    ndarray, shape (n, d)
    """
    if sampler not in SAMPLERS:
        fix = did_you_mean(str(sampler), SAMPLERS)
        raise ParameterError(f"unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}.{fix}")
    rng = np.random.default_rng(check_seed(seed, "unit_sample: seed", ParameterError))
    if d == 0:
        return np.empty((n, 0))
    from scipy.stats import qmc  # imported on first use: scipy.stats takes 0.4 s to import

    if sampler == "lhs":
        return qmc.LatinHypercube(d=d, rng=rng).random(n)
    if sampler == "sobol":
        if n & (n - 1):
            warnings.warn(f"sampler 'sobol' with n={n}: Sobol' points keep their balance only for n a power "
                          f"of 2 (e.g. {1 << (n - 1).bit_length()}); use sampler='lhs' for other n.",
                          UserWarning, stacklevel=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # scipy's own balance warning, said above
            return qmc.Sobol(d=d, rng=rng).random(n)
    return rng.random((n, d))


def scale_sample(dims, unit: np.ndarray) -> np.ndarray:
    """Unit-cube points (n, d) to parameter values (n, d) in each dimension's unit."""
    unit = np.asarray(unit, float)
    if not dims:
        return unit.copy()
    # every column at once: the same operations as Dimension.scale column by column, so the same bytes
    low = np.array([d.low for d in dims], float)
    high = np.array([d.high for d in dims], float)
    out = low + unit * (high - low)
    whole = np.flatnonzero([d.integer for d in dims])
    if whole.size:
        out[:, whole] = np.minimum(np.floor(low[whole] + unit[:, whole] * (high[whole] - low[whole] + 1.0)),
                                   high[whole])
    return out


def member_values(params: ParameterSet, dims, values: np.ndarray) -> dict[str, np.ndarray]:
    """Parameter arrays with a leading member axis.

    Parameters
    ----------
    params : ParameterSet
        Values of everything not varied.
    dims : sequence of Dimension
    values : ndarray, shape (M, d)
        Drawn values (see :func:`scale_sample`).

    Returns
    -------
    dict of str to ndarray
        ``(M, H)`` for per-host parameters, ``(M,)`` for global ones.
    """
    n = values.shape[0]
    out = {}
    for name, sp in PARAMETER_SPECS.items():
        v = np.asarray(params.values[name], float)
        out[name] = np.repeat(v[None], n, axis=0) if sp.scope == "host" else np.full(n, float(v))
    for j, d in enumerate(dims):
        if d.host is None:
            out[d.name] = values[:, j].copy()
        else:
            out[d.name][:, params.hosts.index(d.host)] = values[:, j]
    return out


def regime_values(scenario, values: dict) -> list[tuple[float, dict]]:
    """The scenario's policies applied to every member at once (as :meth:`Scenario.regimes`).

    Parameters
    ----------
    scenario : Scenario
    values : dict
        Member arrays at the start (:func:`member_values`).

    Returns
    -------
    list of (float, dict)
        First day of each regime and the member arrays in force from then.

    Raises
    ------
    ParameterError
        When a policy takes a member's value outside the hard bounds or
        ``q_on + q_ret`` above 1 (policy, host and member named).
    """
    out = [(0.0, values)]
    current = values
    hosts = scenario.hosts
    for day, policies in scenario.policy_days():
        current = dict(current)
        for pol in policies:
            h = hosts.index(pol.host)
            new = current[pol.parameter].copy()
            new[:, h] = pol.new_value(values[pol.parameter][:, h])
            _check_policy(pol, new[:, h])
            current[pol.parameter] = new
        total = current["q_on"] + current["q_ret"]
        if np.any(total > 1.0 + SHARE_TOL):
            m, h = np.unravel_index(np.argmax(total), total.shape)
            raise ParameterError(
                f"policies from day {day:g}: member {m} has q_on + q_ret = {total[m, h]:g} > 1 for host {hosts[h]}. "
                "Narrow the ranges of q_on/q_ret or change the policy."
            )
        out = out[1:] if day == 0.0 else out
        out.append((day, current))
    return out


def _check_policy(pol, x: np.ndarray) -> None:
    sp = spec(pol.parameter)
    above = x > sp.lower if sp.lower_open else x >= sp.lower
    below = x < sp.upper if sp.upper_open else x <= sp.upper
    bad = np.flatnonzero(~(above & below & np.isfinite(x)))
    if bad.size:
        m = int(bad[0])
        raise ParameterError(
            f"policy on `{pol.parameter}` for host {pol.host} from {pol.start}: member {m} gets {x[m]:g}, "
            f"outside {sp.bounds_text} ({sp.unit}). Narrow the range of `{pol.parameter}` or change the policy."
        )


def member_parameter_set(params: ParameterSet, dims, row: np.ndarray) -> ParameterSet:
    """The validated :class:`ParameterSet` of one member (drawn values ``row``, shape (d,))."""
    updates: dict[str, object] = {}
    for d, v in zip(dims, row):
        if d.host is None:
            updates[d.name] = float(v)
        else:
            updates.setdefault(d.name, {})[d.host] = float(v)
    return params.with_params(**updates)
