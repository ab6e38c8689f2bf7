"""What a calibration may fit, how it is named, and the transformed space it is fitted in.

Names (strings, tuples or :class:`FitParameter` objects):

* ``"tau_T[KAZ]"`` or ``("tau_T", "KAZ")`` -- a per-host model parameter of one host;
  ``"tau_T"`` -- one value shared by every host;
* ``"pulse.total[KAZ]"``, ``"pulse.shape[KAZ]"``, ``"pulse.scale_days[KAZ]"`` -- a field of
  the host's :class:`~flowsim.Pulse` arrival schedule (``[KAZ:1]`` picks the
  host's schedule number 1 when it has several);
* ``"background[KAZ]"`` -- the first level of the host's background entries,
  ``"background[KAZ@2022-10-01]"`` the level from that date;
  ``"background_exits[...]"`` the same for exits when they have their own.

Economy parameters (``c_S[GEO]``, ``eps[GEO]``...) and the observation
model's ``transfer_share[GEO]`` are fitted like the population parameters,
against the economic figures (``docs/calibration.md``, "The economic fit").

Transforms: log for positive quantities (times, rates, totals, levels,
``K``, spending), ``log(shape - 1)`` for the pulse shape (>= 1), and logit for shares.

Priors: a parameter may carry a prior, given as its 95% interval in natural
units; it is a normal distribution in the transformed space whose mean and
+-1.96 standard deviations are the transformed interval's middle and ends.
The fit then minimises the data's chi-square plus the prior's; whether the
data alone determine a parameter is reported separately.
When both ``q_on`` and ``q_ret`` of a host are fitted, ``q_ret`` is fitted as
a share of ``1 - q_on`` (so ``q_on + q_ret <= 1`` always holds); a fitted
``q_on`` alone stays below ``1 - q_ret``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from dataclasses import dataclass

import numpy as np

from .._validation import did_you_mean
from ..analysis.background import BackgroundTraffic
from ..exceptions import CalibrationError, FlowsimError
from ..hosts import host_index
from ..scenario.free_parameters import PULSE_FIELDS, FreeParameter, FreeParameters, Label, parse_label
from ..scenario.schedules import Pulse
from ..scenario.specs import PARAMETER_SPECS

__all__ = ["FitParameter", "ParameterVector", "PULSE_FIELDS", "with_priors"]



@dataclass(frozen=True, kw_only=True)
class FitParameter:
    """One quantity to fit.

    Parameters
    ----------
    kind : {"model", "pulse", "background"}
    name : str
        Model symbol (``tau_T``...), Pulse field (``total``, ``shape``,
        ``scale_days``) or background direction (``entries``, ``exits``).
    host : str or None
        Host code; None for a model parameter fitted as one value for all hosts.
    index : int or None
        Pulse: position among the host's schedules (None: its only Pulse).
    period : date or None
        Background: first day of the level (None: the host's first level).
    bounds : (float, float), optional
        Search bounds in natural units; default from the parameter (see
        ``docs/calibration.md``).
    start_range : (float, float), optional
        Where the random starts are drawn (natural units, uniformly in the
        transformed space); default the parameter's plausible range.
    prior : (float, float), optional
        A 95% interval in natural units (see the module notes); None: no
        prior (flat within the bounds).
    """

    kind: str
    name: str
    host: str | None = None
    index: int | None = None
    period: _dt.date | None = None
    bounds: tuple[float, float] | None = None
    start_range: tuple[float, float] | None = None
    prior: tuple[float, float] | None = None

    @classmethod
    def parse(cls, spec, **options) -> FitParameter:
        """A :class:`FitParameter` from a label (``"tau_T[KAZ]"``), a :class:`Label` or a tuple ``("tau_T", "KAZ")``.

        Strings are read by :func:`flowsim.scenario.free_parameters.parse_label`, the one label parser.
        """
        if isinstance(spec, FitParameter):
            return dataclasses.replace(spec, **options) if options else spec
        if isinstance(spec, tuple):
            if not 1 <= len(spec) <= 3 or not all(isinstance(s, (str, int, _dt.date)) or s is None for s in spec):
                raise CalibrationError(f"fit parameter {spec!r}: a tuple must be (name, host) or (name, host, extra).")
            name, host, extra = (list(spec) + [None, None])[:3]
            text = str(name) if host is None else f"{name}[{host}" + (
                "" if extra is None else ("@" if str(name).startswith("background") else ":")
                + (extra.isoformat() if isinstance(extra, _dt.date) else str(extra))) + "]"
            label = parse_label(text, what=f"fit parameter {spec!r}: label", error=CalibrationError)
        elif isinstance(spec, (str, Label)):
            label = parse_label(spec, what="fit parameter", error=CalibrationError)
        else:
            raise CalibrationError(f"fit parameter must be a name, a tuple or a FitParameter; got {spec!r}.")
        return cls.from_label(label, **options)

    @classmethod
    def from_label(cls, label: Label, **options) -> FitParameter:
        """The fit parameter a parsed :class:`Label` names (hosts upper-cased)."""
        host = label.host.upper() if isinstance(label.host, str) else label.host
        if label.kind == "pulse":
            return cls(kind="pulse", name=label.field, host=host, index=label.index, **options)
        if label.kind == "background":
            return cls(kind="background", name=label.field, host=host, period=label.period, **options)
        if label.name == "P":
            raise CalibrationError(f"fit parameter {str(label)!r}: the onward matrix `P` cannot be fitted; fit "
                                   "`q_on` instead.")
        return cls(kind="model", name=label.name, host=host, **options)

    def to_label(self) -> Label:
        """The :class:`Label` of this parameter."""
        if self.kind == "model":
            return Label(self.name, self.host)
        if self.kind == "pulse":
            return Label(f"pulse.{self.name}", self.host, index=self.index)
        return Label("background" if self.name == "entries" else "background_exits", self.host, period=self.period)

    @property
    def label(self) -> str:
        """The canonical name (``tau_T[KAZ]``, ``pulse.total[KAZ]``, ``background[KAZ@2022-10-01]``)."""
        return str(self.to_label())

    @property
    def unit(self) -> str:
        if self.kind == "model":
            return PARAMETER_SPECS[self.name].unit
        if self.kind == "background":
            return "people/day"
        return {"total": "people", "shape": "1", "scale_days": "days"}[self.name]

    @property
    def is_share(self) -> bool:
        if self.kind != "model":
            return False
        sp = PARAMETER_SPECS[self.name]
        return sp.unit == "1" and sp.upper == 1.0 and not sp.upper_open

    @property
    def transform(self) -> str:
        """``"logit"``, ``"log"`` or ``"log(x-1)"``."""
        if self.is_share:
            return "logit"
        return "log(x-1)" if (self.kind, self.name) == ("pulse", "shape") else "log"


#: Without a prior, :meth:`ParameterVector.reference` measures what the data
#: say against a 95% interval spanning this factor in the fitted scale.
REFERENCE_SPAN = 100.0


class ParameterVector:
    """The fitted parameters of one calibration: values, transforms, bounds and how to apply them.

    Parameters
    ----------
    params : sequence of str, tuple or FitParameter
    scenario : Scenario
        Supplies the current values (starting point) and the hosts.
    background : BackgroundTraffic
        Supplies background levels.

    Raises
    ------
    CalibrationError
        Unknown or unfittable names (integer ``k`` and other globals, the
        onward matrix ``P``), hosts not in the scenario, missing pulses or
        levels, duplicates, zero starting values on a log scale.
    """

    def __init__(self, params, scenario, background: BackgroundTraffic):
        if isinstance(params, (str, FitParameter, tuple)):
            params = [params]
        items = [FitParameter.parse(p) for p in params]
        if not items:
            raise CalibrationError("params: name at least one parameter to fit, e.g. ['tau_T[KAZ]'].")
        labels = [p.label for p in items]
        for lab in labels:
            if labels.count(lab) > 1:
                raise CalibrationError(f"params: {lab} is listed twice.")
        for p in items:
            if p.kind == "model" and p.host is None and any(
                    o.kind == "model" and o.name == p.name and o.host is not None for o in items):
                raise CalibrationError(f"params: {p.name} is fitted both for all hosts and for one host; "
                                       "choose one.")
        self.params = tuple(items)
        self.scenario = scenario
        self.background = background
        self.x0 = np.array([self._check_and_read(p) for p in items])
        self.labels = tuple(labels)
        self.lower, self.upper = np.array([self._bounds(p, x)[0] for p, x in zip(items, self.x0)]), \
            np.array([self._bounds(p, x)[1] for p, x in zip(items, self.x0)])
        for p, x, lo, hi in zip(items, self.x0, self.lower, self.upper):
            if not lo < hi:
                raise CalibrationError(f"{p.label}: bounds must have lower < upper; got ({lo:g}, {hi:g}).")
            if not lo <= x <= hi:
                raise CalibrationError(
                    f"{p.label}: the starting value {x:g} {p.unit} is outside the bounds ({lo:g}, {hi:g}); "
                    "widen the bounds or change the scenario's value."
                )
        self.free = FreeParameters(
            (FreeParameter(label=p.to_label(), value=float(x), bounds=(float(lo), float(hi)), unit=p.unit,
                           transform=p.transform, prior=p.prior,
                           source="given" if p.bounds is not None else "fit default")
             for p, x, lo, hi in zip(items, self.x0, self.lower, self.upper)),
            fixed=self._current, error=CalibrationError)
        self.prior_center, self.prior_sd = self._priors()

    def __len__(self) -> int:
        return len(self.params)

    # ----------------------------------------------------------- resolution
    def _check_and_read(self, p: FitParameter) -> float:
        sc = self.scenario
        if p.host is not None:
            host_index(p.host, sc.hosts, what=f"scenario {sc.name!r}", where=p.label)
        if p.kind == "model":
            sp = PARAMETER_SPECS[p.name]
            if sp.integer:
                raise CalibrationError(f"{p.label}: `{p.name}` is a whole number; it cannot be fitted by least "
                                       "squares. Compare runs with different values instead.")
            if sp.scope == "global":
                raise CalibrationError(f"{p.label}: `{p.name}` is global; fitting it is not supported (compare "
                                       "runs with different values instead).")
            values = sc.params[p.name]
            x = float(values[sc.hosts.index(p.host)]) if p.host else float(np.mean(values))
        elif p.kind == "pulse":
            x = float(getattr(self._pulse(p)[1], p.name))
        else:
            try:
                x = self.background.level(p.name, p.host, p.period).rate
            except FlowsimError as exc:
                raise CalibrationError(f"{p.label}: {exc}") from None
        if p.transform == "log" and x <= 0:
            raise CalibrationError(f"{p.label}: the starting value is {x:g}; a positive quantity is fitted on a "
                                   "log scale, so start from a value > 0.")
        return x

    def _pulse(self, p: FitParameter) -> tuple[int, Pulse]:
        schedules = self.scenario.arrivals.get(p.host, ())
        if p.index is not None:
            if not 0 <= p.index < len(schedules) or not isinstance(schedules[p.index], Pulse):
                raise CalibrationError(f"{p.label}: host {p.host} has no Pulse at position {p.index} "
                                       f"(its schedules: {[type(s).__name__ for s in schedules]}).")
            return p.index, schedules[p.index]
        pulses = [i for i, s in enumerate(schedules) if isinstance(s, Pulse)]
        if len(pulses) != 1:
            raise CalibrationError(
                f"{p.label}: host {p.host} has {len(pulses)} Pulse schedules; "
                + ("give it one (scenario.replace(arrivals=...))." if not pulses else
                   f"pick one with 'pulse.{p.name}[{p.host}:i]', i in {pulses}.")
            )
        return pulses[0], schedules[pulses[0]]

    def _bounds(self, p: FitParameter, x: float) -> tuple[float, float]:
        if p.bounds is not None:
            try:
                lo, hi = (float(b) for b in p.bounds)
            except (TypeError, ValueError):
                raise CalibrationError(f"{p.label}: bounds must be two numbers (lower, upper); "
                                       f"got {p.bounds!r}.") from None
            if math.isnan(lo) or math.isnan(hi):
                raise CalibrationError(f"{p.label}: bounds must be numbers; got {p.bounds!r}.")
            return lo, hi
        if p.is_share:
            return 0.0, 1.0
        if p.kind == "model":
            lo, hi = self._plausible(p)
            sp = PARAMETER_SPECS[p.name]
            return max(lo / 10.0, sp.lower), min(hi * 10.0, sp.upper)
        if p.kind == "pulse":
            return {"total": (x / 100.0, x * 100.0), "shape": (1.0, 50.0), "scale_days": (0.1, 100.0)}[p.name]
        return x / 100.0, x * 100.0

    def _plausible(self, p: FitParameter) -> tuple[float, float]:
        rng = self.scenario.params.ranges[p.name]
        if p.host is not None:
            lo, hi = rng[self.scenario.hosts.index(p.host)]
        else:
            lo, hi = rng[:, 0].min(), rng[:, 1].max()
        return float(lo), float(hi)

    def _priors(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of each prior in the transformed space (NaN: no prior)."""
        center, sd = np.full(len(self.params), np.nan), np.full(len(self.params), np.nan)
        for i, p in enumerate(self.params):
            if p.prior is None:
                continue
            try:
                lo, hi = (float(b) for b in p.prior)
            except (TypeError, ValueError):
                raise CalibrationError(f"{p.label}: a prior is a 95% interval (low, high) in {p.unit}; "
                                       f"got {p.prior!r}.") from None
            if not (self.lower[i] <= lo < hi <= self.upper[i]):
                raise CalibrationError(f"{p.label}: the prior's 95% interval must lie within the search bounds "
                                       f"({self.lower[i]:g}, {self.upper[i]:g}) with low < high; got ({lo:g}, "
                                       f"{hi:g}).")
            if p.transform == "logit" and self.free.partner(i) is not None:
                raise CalibrationError(f"{p.label}: a prior on q_ret fitted with q_on is not supported.")
            x = self.x0.copy()
            ends = []
            for end in (lo, hi):
                x[i] = end
                ends.append(self.to_transformed(x)[i])
            if not all(np.isfinite(ends)):
                raise CalibrationError(f"{p.label}: the prior's interval ({lo:g}, {hi:g}) must be inside the "
                                       f"bounds, not on them.")
            center[i], sd[i] = 0.5 * (ends[0] + ends[1]), (ends[1] - ends[0]) / (2 * 1.959963984540054)
        return center, sd

    @property
    def has_priors(self) -> bool:
        return bool(np.isfinite(self.prior_sd).any())

    def reference(self) -> tuple[np.ndarray, list[str]]:
        """What the data's information is measured against, per parameter.

        The prior where there is one. Without a prior, an uninformative
        spread: a 95% interval that spans a factor of :data:`REFERENCE_SPAN`
        (100) in the fitted scale (the value of a log-scale parameter, the
        odds ``x / (1 - x)`` of a share, ``shape - 1`` of a pulse shape). A
        fit that leaves more than half of that variance says little more
        than "within two orders of magnitude". Returns the standard
        deviation in the transformed space and its description
        (``"prior 95% in [a, b]"`` or ``"a factor of 100"``).
        """
        sd = np.array(self.prior_sd, float)
        texts = []
        for i in range(len(self.params)):
            if np.isfinite(sd[i]):
                texts.append(f"prior {self.prior_text(i)}")
            else:
                sd[i] = math.log(REFERENCE_SPAN) / (2 * 1.959963984540054)
                texts.append(f"a factor of {REFERENCE_SPAN:g}")
        return sd, texts

    def prior_residuals(self, z) -> np.ndarray:
        """``(z - center) / sd`` of the parameters with a prior, shape (number of priors,)."""
        keep = np.isfinite(self.prior_sd)
        return (np.asarray(z, float)[keep] - self.prior_center[keep]) / self.prior_sd[keep]

    def prior_text(self, i: int) -> str:
        """The prior of parameter ``i`` as text (``""`` without one)."""
        p = self.params[i]
        return "" if p.prior is None else f"95% in [{p.prior[0]:g}, {p.prior[1]:g}]"

    def start_ranges(self) -> list[tuple[float, float]]:
        """Natural-unit ranges the random starts are drawn from."""
        out = []
        for p, x, lo, hi in zip(self.params, self.x0, self.lower, self.upper):
            if p.start_range is not None:
                a, b = map(float, p.start_range)
            elif p.kind == "model":
                a, b = self._plausible(p)
                if a == b:
                    a, b = 0.5 * x, min(2.0 * x, 0.5 * (x + 1.0)) if p.is_share else 2.0 * x
            elif (p.kind, p.name) == ("pulse", "shape"):
                a, b = 1.0 + 0.5 * (x - 1.0), 1.0 + 2.0 * (x - 1.0)
            else:
                a, b = 0.5 * x, 2.0 * x
            a, b = max(a, lo), min(b, hi)
            out.append((min(a, b), max(a, b)))
        return out

    def draw_start(self, rng) -> np.ndarray:
        """A random starting point (natural units), uniform in the transformed space over :meth:`start_ranges`.

        A share is drawn in the logit of its bounds (not of the ``q_on + q_ret`` ceiling).
        """
        x = np.empty(len(self.params))
        for i, (p, (a, b)) in enumerate(zip(self.free.params, self.start_ranges())):
            if p.transform == "log":
                z = rng.uniform(math.log(max(a, 1e-300)), math.log(max(b, 1e-300)))
            elif p.transform == "log(x-1)":
                z = rng.uniform(math.log(max(a - 1.0, 1e-6)), math.log(max(b - 1.0, 1e-6)))
            else:
                lo, hi = p.low, p.high
                ua, ub = (min(max((v - lo) / (hi - lo), 1e-6), 1 - 1e-6) for v in (a, b))
                z = rng.uniform(math.log(ua / (1 - ua)), math.log(ub / (1 - ub)))
            x[i] = p.to_natural(z)
        return x

    # ------------------------------------------------------------ transforms
    def _current(self, name, host) -> float:
        """The scenario's value of a parameter that is not fitted (host None: the largest over hosts)."""
        values = self.scenario.params[name]
        return float(values[self.scenario.hosts.index(host)] if host else values.max())

    def to_natural(self, z) -> np.ndarray:
        """Natural values from transformed ones (:meth:`FreeParameters.to_natural`: ``q_on`` before ``q_ret``)."""
        return self.free.to_natural(z)

    def to_transformed(self, x) -> np.ndarray:
        """Transformed values from natural ones (inverse of :meth:`to_natural`)."""
        return self.free.to_transformed(x)

    def z_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Box bounds of the transformed space given to ``least_squares`` (infinite for shares)."""
        return self.free.z_bounds()

    # ---------------------------------------------------------------- apply
    def model_mask(self) -> np.ndarray:
        """Which parameters change the model run (model and pulse), as opposed to background levels."""
        return np.array([p.kind != "background" for p in self.params])

    def pulse_arrivals(self, x, arrivals=None) -> dict:
        """``{host: (Schedule, ...)}``: ``arrivals`` (default the scenario's) with the fitted pulse fields set to ``x``.

        ``x`` holds natural values, one per fitted parameter (those that are not pulse fields are ignored).
        """
        out = {h: list(v) for h, v in (self.scenario.arrivals if arrivals is None else arrivals).items()}
        for p, v in zip(self.params, np.asarray(x, dtype=float)):
            if p.kind == "pulse":
                i = self._pulse(p)[0]
                out[p.host][i] = dataclasses.replace(out[p.host][i], **{p.name: float(v)})
        return {h: tuple(v) for h, v in out.items()}

    def apply(self, x) -> tuple:
        """``(scenario, background)`` with natural values ``x`` put in."""
        updates: dict[str, object] = {}
        background = self.background
        for p, v in zip(self.params, np.asarray(x, dtype=float)):
            v = float(v)
            if p.kind == "model":
                if p.host is None:
                    updates[p.name] = v
                else:
                    entry = updates.setdefault(p.name, {})
                    if isinstance(entry, dict):
                        entry[p.host] = v
            elif p.kind == "background":
                background = background.with_level(p.name, p.host, p.period, v)
        scenario = self.scenario
        if any(p.kind == "pulse" for p in self.params):
            scenario = scenario.replace(arrivals=self.pulse_arrivals(x))
        if updates:
            scenario = scenario.with_params(**updates)
        return scenario, background


def with_priors(params, priors, scenario) -> list:
    """``params`` as :class:`FitParameter` objects, with the priors of ``priors`` attached.

    Parameters
    ----------
    params : sequence of str, tuple or FitParameter
    priors : None, "ranges" or mapping
        None: none (a FitParameter's own ``prior`` stays). ``"ranges"``: every
        fitted model parameter gets its plausible range in ``scenario`` as a
        95% interval. A mapping ``{name: (low, high)}`` (or ``name: "range"``)
        gives some; names as in ``params``.
    scenario : Scenario
        Supplies the plausible ranges.
    """
    if isinstance(params, (str, FitParameter, tuple)):
        params = [params]
    items = [FitParameter.parse(p) for p in params]
    if priors is None:
        return items

    def shipped(p):
        if p.kind != "model" or p.host is None:
            raise CalibrationError(f"priors: {p.label} has no shipped range to use as a prior; give (low, high).")
        lo, hi = scenario.params.ranges[p.name][scenario.hosts.index(p.host)] if p.host in scenario.hosts \
            else (None, None)
        if lo is None or not lo < hi:
            raise CalibrationError(f"priors: {p.label} has no range (low = high); give (low, high).")
        return float(lo), float(hi)

    if isinstance(priors, str):
        if priors != "ranges":
            raise CalibrationError(f"priors must be None, 'ranges' or a mapping {{name: (low, high)}}; got {priors!r}.")
        return [dataclasses.replace(p, prior=shipped(p)) if p.kind == "model" else p for p in items]
    if not isinstance(priors, dict):
        raise CalibrationError(f"priors must be None, 'ranges' or a mapping {{name: (low, high)}}; got {priors!r}.")
    by_label = {p.label: i for i, p in enumerate(items)}
    for name, value in priors.items():
        label = FitParameter.parse(name).label
        if label not in by_label:
            fix = did_you_mean(label, by_label)
            raise CalibrationError(f"priors: {label} is not fitted (fitted: {', '.join(by_label)}).{fix}")
        i = by_label[label]
        items[i] = dataclasses.replace(items[i], prior=shipped(items[i]) if value == "range" else tuple(value))
    return items
