"""Free parameters: the numbers an ensemble draws, a sweep varies and a fit adjusts.

One label grammar names them everywhere (``flowsim sweep --vary``, ``flowsim.ensemble(vary=...)``,
``flowsim.calibrate(params=...)``, the posterior's columns, CSV headers):

* ``NAME`` -- a model parameter (docs/model.md symbol), every host or a global one;
* ``NAME[HOST]`` -- a per-host model parameter of one host (``tau_T[KAZ]``);
* ``pulse.FIELD[HOST]``, ``pulse.FIELD[HOST:i]`` -- a field (``total``, ``shape``,
  ``scale_days``) of the host's Pulse arrival schedule (number ``i`` when it has several);
* ``background[HOST]``, ``background[HOST@YYYY-MM-DD]`` -- the host's first background
  level, or the level from that date; ``background_exits[...]`` the same for exits.

:func:`parse_label` is the only parser of that grammar. A :class:`FreeParameter` is
one labelled number with its value, bounds (natural units), unit, whether it varies,
the transform a fit moves it in (``identity``, ``log``, ``logit`` or ``log(x-1)``), an
optional prior and where its numbers come from. A :class:`FreeParameters` collection
holds them in order, by label, and owns the constraint that ties shares together:
``q_on + q_ret <= 1`` per host, checked jointly on ranges (:meth:`FreeParameters.check_ranges`,
for sampling) and built into the transform (:meth:`FreeParameters.to_natural`: a fitted
``q_ret`` is a share of ``1 - q_on``), in the spirit of lmfit's ``Parameters``.
Sampling (:mod:`flowsim.scenario.sampling`) and fitting
(:mod:`flowsim.calibration.parameters`) build their views from it.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .._validation import did_you_mean, to_date
from ..exceptions import FlowsimError, ParameterError
from .specs import PARAMETER_SPECS

__all__ = ["Label", "parse_label", "LABEL_FORMS", "PULSE_FIELDS", "BACKGROUND_NAMES", "TRANSFORMS",
           "SHARE_SUMS", "FreeParameter", "FreeParameters", "scale_unit", "logistic"]

#: Fields of a Pulse that can be free (``pulse.total[KAZ]``...).
PULSE_FIELDS = ("total", "shape", "scale_days")

#: Label stems of background levels: entries and exits.
BACKGROUND_NAMES = ("background", "background_exits")

#: The allowed forms of a label, as error messages list them.
LABEL_FORMS = ("NAME", "NAME[HOST]", "pulse.FIELD[HOST]", "pulse.FIELD[HOST:i]", "background[HOST]",
               "background[HOST@YYYY-MM-DD]")

#: Transforms a fit moves a parameter in: identity, log (positive), logit (a share within its bounds)
#: and log(x - 1) (a pulse shape, >= 1).
TRANSFORMS = ("identity", "log", "logit", "log(x-1)")

#: Shares whose sum per host must stay <= 1 (the rest of the transit leavers settle).
SHARE_SUMS = (("q_on", "q_ret"),)

#: Tolerance on a share sum (as ``parameter_set.SHARE_TOL``).
_SHARE_TOL = 1e-9

# The one label grammar: NAME, optionally [HOST], optionally :i or @date inside the brackets.
_LABEL = re.compile(r"^\s*(?P<name>[A-Za-z_][\w.]*)\s*"
                    r"(?:\[\s*(?P<host>[A-Za-z]+)\s*(?:(?P<sep>[@:])\s*(?P<extra>[^\]]*?)\s*)?\]\s*)?$")


def _known_names() -> list[str]:
    return [*PARAMETER_SPECS, "P", *(f"pulse.{f}" for f in PULSE_FIELDS), *BACKGROUND_NAMES]


@dataclass(frozen=True)
class Label:
    """The parsed name of a free parameter.

    Attributes
    ----------
    name : str
        Model symbol (``tau_T``), ``pulse.FIELD`` or ``background``/``background_exits``.
    host : str or None
        Host code; None for a global parameter or one taken for every host.
    index : int or None
        Pulse: the host's schedule number (None: its only Pulse).
    period : date or None
        Background: the first day of the level (None: the host's first level).
    """

    name: str
    host: str | None = None
    index: int | None = None
    period: _dt.date | None = None

    @property
    def kind(self) -> str:
        """``"model"``, ``"pulse"`` or ``"background"``."""
        if self.name.startswith("pulse."):
            return "pulse"
        return "background" if self.name in BACKGROUND_NAMES else "model"

    @property
    def field(self) -> str:
        """What is free within its kind: the model symbol, the Pulse field, or ``entries``/``exits``."""
        if self.kind == "pulse":
            return self.name.split(".", 1)[1]
        if self.kind == "background":
            return "entries" if self.name == "background" else "exits"
        return self.name

    def __str__(self) -> str:
        if self.host is None:
            return self.name
        extra = (f":{self.index}" if self.index is not None else
                 f"@{self.period.isoformat()}" if self.period is not None else "")
        return f"{self.name}[{self.host}{extra}]"


def _forms(first: str = "allowed") -> str:
    return f"{first} forms: " + ", ".join(LABEL_FORMS) + " (e.g. 'tau_T[KAZ]', 'background[KAZ@2022-10-01]')"


def parse_label(text, *, what: str = "label", error: type[FlowsimError] = ParameterError) -> Label:
    """Parse a free parameter's label (``name[HOST]``, ``pulse.total[HOST:i]``, ``background[HOST@DATE]``).

    The one parser of labels: sampling, the ``--vary`` option, fitting and the posterior call it.

    Parameters
    ----------
    text : str or Label
        The label (spaces around the parts are allowed: ``" tau_T [ KAZ ] "``).
    what : str
        What the label is, put in front of error messages (``"--vary"``, ``"fit parameter"``).
    error : type
        The :class:`~flowsim.FlowsimError` subclass raised.

    Returns
    -------
    Label
        ``str(label)`` is the canonical spelling.

    Raises
    ------
    FlowsimError (``error``)
        Not a label (the allowed forms are listed), an unknown name (with the closest known one),
        a pulse or background label without a host, a schedule number or date in the wrong
        place, or a date that is not ``YYYY-MM-DD``. Hosts are checked where the scenario is
        known (:func:`flowsim.hosts.host_index`).

    Examples
    --------
    >>> parse_label("tau_T[KAZ]")
    Label(name='tau_T', host='KAZ', index=None, period=None)
    >>> str(parse_label(" background [KAZ @ 2022-10-01] "))
    'background[KAZ@2022-10-01]'
    """
    if isinstance(text, Label):
        return text
    if not isinstance(text, str):
        raise error(f"{what} {text!r}: a label is a string; {_forms()}.")
    m = _LABEL.match(text)
    if not m:
        raise error(f"{what} {text!r} is not a label; {_forms()}.")
    name, host, sep, extra = m.group("name", "host", "sep", "extra")
    where = f"{what} {text!r}"
    if name.startswith("pulse."):
        field = name.split(".", 1)[1]
        if field not in PULSE_FIELDS:
            fix = did_you_mean(field, PULSE_FIELDS)
            raise error(f"{where}: a Pulse has the fields {', '.join(PULSE_FIELDS)}.{fix}")
        if host is None:
            raise error(f"{where}: name the host, e.g. 'pulse.{field}[KAZ]'.")
        if sep is None:
            return Label(name, host)
        if sep != ":" or not extra.isdigit():
            raise error(f"{where}: the schedule number goes after ':', e.g. 'pulse.{field}[{host}:1]'.")
        return Label(name, host, index=int(extra))
    if name in BACKGROUND_NAMES:
        if host is None:
            raise error(f"{where}: name the host, e.g. '{name}[KAZ]'.")
        if sep is None:
            return Label(name, host)
        if sep != "@" or not extra:
            raise error(f"{where}: the level's date goes after '@', e.g. '{name}[{host}@2022-10-01]'.")
        return Label(name, host, period=to_date(extra, f"{where}: level date", error))
    if name not in PARAMETER_SPECS and name != "P":
        raise error(f"{where}: unknown name {name!r}.{did_you_mean(name, _known_names())} {_forms('Allowed')}.")
    if sep is not None:
        raise error(f"{where}: a model parameter takes only a host, e.g. '{name}[KAZ]'.")
    return Label(name, host)


def scale_unit(u, low: float, high: float, integer: bool = False) -> np.ndarray:
    """Map unit-interval points ``u`` to ``[low, high]`` (whole numbers spread evenly when ``integer``)."""
    u = np.asarray(u, float)
    if integer:
        return np.minimum(np.floor(low + u * (high - low + 1.0)), high)
    return low + u * (high - low)


def logistic(z: float) -> float:
    """``1 / (1 + exp(-z))`` without overflow, for a scalar ``z``."""
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True, kw_only=True)
class FreeParameter:
    """One free number: its label, value, bounds, unit, transform and prior.

    Attributes
    ----------
    label : Label
        What it is (:func:`parse_label`); ``name`` is ``str(label)``.
    value : float
        Current or starting value, in ``unit``.
    bounds : (float, float)
        ``(low, high)`` in ``unit``: the range a sample draws from, or the search bounds of a fit.
    unit : str
        Physical unit (``days``, ``1/day``, ``1`` for shares...).
    vary : bool
        Whether it is free (False: held at ``value``).
    transform : {"identity", "log", "logit", "log(x-1)"}
        The space a fit moves it in: log for positive quantities, logit for shares (between
        ``low`` and the share's ceiling, see :meth:`FreeParameters.to_natural`), ``log(x-1)``
        for a pulse shape (>= 1).
    prior : (float, float) or None
        A 95% interval in ``unit`` (a normal distribution in the transformed space), or None.
    integer : bool
        Whole numbers only (``k``): sampled evenly over the whole numbers of the range.
    source : str
        Where the bounds come from (``"shipped range"``, ``"given"``, ``"fit default"``...).
    """

    label: Label
    value: float
    bounds: tuple[float, float]
    unit: str = ""
    vary: bool = True
    transform: str = "identity"
    prior: tuple[float, float] | None = None
    integer: bool = False
    source: str = ""

    def __post_init__(self):
        if self.transform not in TRANSFORMS:
            raise ParameterError(f"{self.label}: transform must be one of {', '.join(TRANSFORMS)}; got "
                                 f"{self.transform!r}.{did_you_mean(str(self.transform), TRANSFORMS)}")

    @property
    def name(self) -> str:
        """The canonical label as text (``tau_T[KAZ]``)."""
        return str(self.label)

    @property
    def low(self) -> float:
        return float(self.bounds[0])

    @property
    def high(self) -> float:
        return float(self.bounds[1])

    def scale(self, u) -> np.ndarray:
        """Unit-interval points to values in the bounds (see :func:`scale_unit`)."""
        return scale_unit(u, self.low, self.high, self.integer)

    def to_transformed(self, x: float, ceiling: float | None = None) -> float:
        """The transformed value of natural ``x`` (``ceiling``: a share's upper end, default ``high``)."""
        if self.transform == "logit":
            lo, hi = self.low, self.high if ceiling is None else ceiling
            u = (x - lo) / (hi - lo) if hi > lo else 0.5
            u = min(max(u, 1e-9), 1 - 1e-9)    # a share at its bound starts just inside
            return math.log(u / (1.0 - u))
        if self.transform == "log(x-1)":
            return math.log(max(x - 1.0, 1e-9))
        if self.transform == "log":
            return math.log(x) if x > 0 else -math.inf
        return float(x)

    def to_natural(self, z: float, ceiling: float | None = None) -> float:
        """The natural value of transformed ``z`` (inverse of :meth:`to_transformed` inside the bounds)."""
        if self.transform == "logit":
            lo, hi = self.low, self.high if ceiling is None else ceiling
            return lo + (hi - lo) * logistic(z)
        if self.transform == "log(x-1)":
            return 1.0 + math.exp(z)
        if self.transform == "log":
            return math.exp(z)
        return float(z)

    def z_bounds(self) -> tuple[float, float]:
        """Bounds in the transformed space (infinite for a logit share, which its transform keeps inside)."""
        lo, hi = self.low, self.high
        if self.transform == "log":
            return (math.log(lo) if lo > 0 else -np.inf), (math.log(hi) if math.isfinite(hi) else np.inf)
        if self.transform == "log(x-1)":
            return (math.log(lo - 1.0) if lo > 1 else -np.inf), (math.log(hi - 1.0) if math.isfinite(hi) else np.inf)
        if self.transform == "identity":
            return lo, hi
        return -np.inf, np.inf


class FreeParameters(Mapping):
    """An ordered collection of :class:`FreeParameter` by label, with the shares constraint.

    Parameters
    ----------
    items : iterable of FreeParameter
        In order; labels must be unique.
    fixed : callable, optional
        ``(name, host) -> value`` of a parameter that is not in the collection (the scenario's
        value; host None: the largest over hosts). The shares constraint needs the fixed partner
        of a free share.
    error : type
        The :class:`~flowsim.FlowsimError` subclass raised on bad input.

    Notes
    -----
    ``q_on + q_ret <= 1`` per host (:data:`SHARE_SUMS`). A sample checks it on the ranges
    (:meth:`check_ranges`: the high ends together); a fit builds it into the transform
    (:meth:`to_natural`): when both shares of a host are free, ``q_ret`` moves within
    ``1 - q_on``; a free share alone stays below one minus its fixed partner.
    """

    def __init__(self, items: Iterable[FreeParameter] = (), *, fixed: Callable | None = None,
                 error: type[FlowsimError] = ParameterError):
        self._items: dict[str, FreeParameter] = {}
        self._error = error
        for p in items:
            if p.name in self._items:
                raise error(f"{p.name} is listed twice.")
            self._items[p.name] = p
        self._fixed = fixed
        self._params = params = tuple(self._items.values())
        self._partner = {i: self._find_partner(params, i) for i in range(len(params))}

    # ---------------------------------------------------------------- mapping
    def __getitem__(self, label) -> FreeParameter:
        if isinstance(label, str) and label in self._items:            # a canonical label: no parsing
            return self._items[label]
        key = str(parse_label(label, error=self._error)) if not isinstance(label, int) else None
        if key is None:
            return self._params[label]
        try:
            return self._items[key]
        except KeyError:
            raise self._error(f"{key} is not a free parameter here (free: {', '.join(self._items) or 'none'})."
                              f"{did_you_mean(key, self._items)}") from None

    def __iter__(self):
        return iter(self._items)

    def values(self):
        """The parameters in order (as :attr:`params`; without parsing each label again)."""
        return self._items.values()

    def items(self):
        """``(label, FreeParameter)`` pairs in order."""
        return self._items.items()

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        rows = ", ".join(f"{p.name}={p.value:g} in [{p.low:g}, {p.high:g}]" for p in self._items.values())
        return f"FreeParameters({rows})"

    @property
    def params(self) -> tuple[FreeParameter, ...]:
        """The parameters in order."""
        return self._params

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._items)

    @property
    def value_array(self) -> np.ndarray:
        """Current values, natural units, shape (p,)."""
        return np.array([p.value for p in self._items.values()], float)

    @property
    def lower(self) -> np.ndarray:
        return np.array([p.low for p in self._items.values()], float)

    @property
    def upper(self) -> np.ndarray:
        return np.array([p.high for p in self._items.values()], float)

    def varying(self) -> FreeParameters:
        """The parameters with ``vary=True``, as a collection."""
        return FreeParameters((p for p in self._items.values() if p.vary), fixed=self._fixed, error=self._error)

    # ------------------------------------------------------------ shares
    @staticmethod
    def _find_partner(params, i: int) -> int | None:
        """For a free second share of a pair (``q_ret``): position of the first (``q_on``) of the same host."""
        lab = params[i].label
        for first, second in SHARE_SUMS:
            if lab.kind == "model" and lab.name == second:
                for j, o in enumerate(params):
                    if o.label.kind == "model" and o.label.name == first and o.label.host == lab.host:
                        return j
        return None

    def partner(self, i: int) -> int | None:
        """For the second share of a pair (``q_ret``): the position of the free first one (``q_on``) of its host."""
        return self._partner.get(i)

    def _fixed_value(self, name: str, host) -> float:
        if self._fixed is None:
            raise self._error(f"the shares constraint needs the value of {name}; give FreeParameters(fixed=...).")
        return float(self._fixed(name, host))

    def share_ceiling(self, i: int, x) -> float:
        """Upper end of share ``i``'s logit: its upper bound, or less so that the pair's sum stays <= 1."""
        params = self.params
        p = params[i]
        ceiling = p.high
        for first, second in SHARE_SUMS:
            if p.label.kind != "model" or p.label.name not in (first, second):
                continue
            if p.label.name == first:
                if any(o.label.kind == "model" and o.label.name == second and o.label.host == p.label.host
                       for o in params):
                    return ceiling                  # the second share moves within 1 - first
                used = self._fixed_value(second, p.label.host)
            else:
                j = self._partner.get(i)
                used = x[j] if j is not None else self._fixed_value(first, p.label.host)
            ceiling = min(ceiling, 1.0 - used)
        return ceiling

    def to_natural(self, z) -> np.ndarray:
        """Natural values from transformed ones (the first share of a pair before the second)."""
        z = np.asarray(z, dtype=float)
        params = self.params
        x = np.empty(len(params))
        for i in sorted(range(len(params)), key=lambda i: self._partner.get(i) is not None):
            p = params[i]
            x[i] = p.to_natural(z[i], self.share_ceiling(i, x) if p.transform == "logit" else None)
        return x

    def to_transformed(self, x) -> np.ndarray:
        """Transformed values from natural ones (inverse of :meth:`to_natural`)."""
        x = np.asarray(x, dtype=float)
        return np.array([p.to_transformed(x[i], self.share_ceiling(i, x) if p.transform == "logit" else None)
                         for i, p in enumerate(self.params)], float).reshape(len(self))

    def z_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Box bounds of the transformed space (for ``scipy.optimize.least_squares``)."""
        pairs = [p.z_bounds() for p in self.params]
        return np.array([a for a, _ in pairs], float), np.array([b for _, b in pairs], float)

    def _end(self, name: str, host, end: int, value_of) -> float:
        for p in self._items.values():
            if p.label.kind == "model" and p.label.name == name and p.label.host == host:
                return p.bounds[end]
        return value_of(name, host)

    def check_ranges(self, hosts, value_of, initial: Mapping | None = None) -> None:
        """Check that every value in the ranges is allowed together: shares, and ``E <= K`` at the start.

        Parameters
        ----------
        hosts : sequence of str
        value_of : callable
            ``(name, host) -> value`` of parameters not in the collection.
        initial : mapping, optional
            Initial stocks ``{host: {compartment: people}}``.

        Raises
        ------
        FlowsimError (the collection's ``error``)
            When the high ends of ``q_on`` and ``q_ret`` of a host sum above 1, or the low end
            of ``K`` is below the initial employed stock.
        """
        names = {p.label.name for p in self._items.values()}
        for first, second in SHARE_SUMS:
            if not names & {first, second}:
                continue
            for h in hosts:
                a, b = self._end(first, h, 1, value_of), self._end(second, h, 1, value_of)
                if a + b > 1.0 + _SHARE_TOL:
                    raise self._error(
                        f"ranges of `{first}` and `{second}` for host {h} allow {first} + {second} = {a:g} + {b:g} "
                        f"= {a + b:g} > 1 (the rest settle, so the sum must stay <= 1). Lower one of the high ends."
                    )
        if "K" in names:
            for h, stocks in (initial or {}).items():
                low_K = self._end("K", h, 0, value_of)
                if stocks.get("E", 0.0) > low_K:
                    raise self._error(
                        f"range of `K` for host {h} starts at {low_K:g}, below the initial stock E = "
                        f"{stocks['E']:g} (E <= K at the start). Raise the low end of K to at least {stocks['E']:g}."
                    )

    def check_values(self, x) -> None:
        """Check natural values ``x`` (shape (p,)) against the bounds and ``q_on + q_ret <= 1``."""
        x = np.asarray(x, float)
        if x.shape != (len(self),):
            raise self._error(f"values must have shape ({len(self)},) (one per free parameter); got {x.shape}.")
        for p, v in zip(self.params, x):
            if not p.low <= v <= p.high:
                raise self._error(f"{p.name} = {v:g} is outside its bounds [{p.low:g}, {p.high:g}]{_unit(p)}.")
        for first, second in SHARE_SUMS:
            hosts = {p.label.host for p in self.params if p.label.name in (first, second)}
            for h in hosts:
                vals = []
                for name in (first, second):
                    hit = [v for p, v in zip(self.params, x) if p.label.name == name and p.label.host == h]
                    vals.append(hit[0] if hit else self._fixed_value(name, h))
                if vals[0] + vals[1] > 1.0 + _SHARE_TOL:
                    where = "" if h is None else f" for host {h}"
                    raise self._error(f"{first} + {second}{where} = {vals[0]:g} + {vals[1]:g} > 1.")


def _unit(p: FreeParameter) -> str:
    return "" if p.unit in ("", "1") else f" ({p.unit})"
