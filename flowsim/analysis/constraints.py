"""From published figures to residuals: bounds, relative uncertainties and weights.

Each observation becomes a :class:`Constraint` on its model prediction ``m``:

==============  ==========================================  =====================
kind            from                                        residual (before weight)
==============  ==========================================  =====================
``point``       a plain figure, ``about``/``approximately``  ``(m - v) / (sigma |v|)``
``lower``       ``more than``, ``at least``, ``over``        ``min(0, m - lo) / (sigma |lo|)``
``upper``       ``up to``, ``less than``, ``at most``        ``max(0, m - hi) / (sigma |hi|)``
``range``       ``low``/``high`` columns, ``almost``,        0 inside ``[lo, hi]``, else the
                ``a little more than``                       distance to the nearer end
==============  ==========================================  =====================

``sigma`` is a relative uncertainty: :data:`SIGMAS` by qualifier (10% for a
figure stated plainly or a bound, 25% for ``about``), or the observation's own
``sigma``. A quantity whose published figures count only part of the model
quantity (registrations, formal jobs; ``Quantity.lower_bound``) turns a point
into a lower bound, and a quantity may widen the sigma of its loose proxies
(``Quantity.sigma``: 50% for registrations of settlers). Each residual is multiplied by ``sqrt(weight)``; weights
come from the observation's ``weight`` column, from the caller, or from the
rules of :data:`WEIGHT_RULES` on the note (disputed base periods and
approximate dates count less). The product of matching rules is used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..datasets import QUALIFIERS, ObservationTable, as_observation_table
from ..datasets._records import SHARE_UNITS
from ..exceptions import ObservationError
from ..hosts import host_index
from .background import BackgroundTraffic
from .observations import ObservationView, Quantity, get_quantity

__all__ = ["Constraint", "SIGMAS", "WEIGHT_RULES", "constraint_for", "ObservationModel"]

#: Default relative uncertainty by kind of figure.
SIGMAS = {"point": 0.10, "rough point": 0.25, "bound": 0.10}

#: ``(phrases in the note, weight, reason)``: applied when an observation has no weight of its own.
#: A rule matches when any of its phrases is in the note (case-insensitive); the weights of the
#: matching rules multiply (each rule counts once).
WEIGHT_RULES: tuple[tuple[tuple[str, ...], float, str], ...] = (
    (("base period disputed", "base period as", "base period unclear"), 0.25, "base period disputed"),
    (("includes some who came before", "may include the spring", "both waves"), 0.25,
     "includes people who came before the start (spring 2022 wave)"),
    (("date approximate", "report date"), 0.5, "date approximate or a report date"),
    (("secondary source",), 0.5, "secondary source"),
)


@dataclass(frozen=True)
class Constraint:
    """What an observation asks of its prediction.

    Attributes
    ----------
    kind : {"point", "lower", "upper", "range"}
    value : float or None
        Target of a point.
    low, high : float or None
        Bounds of ``lower`` / ``upper`` / ``range``.
    sigma : float
        Relative uncertainty (residuals are relative errors divided by it).
    weight : float
        Multiplies the squared residual (0 leaves the observation out of a fit).
    reason : str
        Why the weight is not 1, or ``""``.
    """

    kind: str
    value: float | None
    low: float | None
    high: float | None
    sigma: float
    weight: float
    reason: str = ""

    @property
    def text(self) -> str:
        """``= 98,000``, ``>= 200,000``, ``<= 30,000`` or ``in [8,000, 9,000]``."""
        if self.kind == "point":
            return f"= {self.value:,.6g}"
        if self.kind == "lower":
            return f">= {self.low:,.6g}"
        if self.kind == "upper":
            return f"<= {self.high:,.6g}"
        return f"in [{self.low:,.6g}, {self.high:,.6g}]"

    def violation(self, m: np.ndarray) -> np.ndarray:
        """Signed distance of predictions ``m`` outside the accepted set (0 inside), people or units."""
        m = np.asarray(m, dtype=float)
        if self.kind == "point":
            return m - self.value
        below = np.minimum(m - self.low, 0.0) if self.low is not None else 0.0
        above = np.maximum(m - self.high, 0.0) if self.high is not None else 0.0
        return below + above

    def reference(self, m: np.ndarray) -> np.ndarray:
        """The figure a violation is relative to: the value, or the bound that is crossed."""
        m = np.asarray(m, dtype=float)
        if self.kind == "point":
            return np.full(m.shape, abs(self.value))
        lo = abs(self.low) if self.low is not None else 0.0
        hi = abs(self.high) if self.high is not None else 0.0
        if self.low is None:
            return np.full(m.shape, hi)
        if self.high is None:
            return np.full(m.shape, lo)
        return np.where(m > self.high, hi, lo)

    def relative_error(self, m) -> np.ndarray:
        """Violation relative to the figure (0 when a bound holds); absolute when the figure is 0."""
        ref = self.reference(m)
        return self.violation(m) / np.where(ref > 0, ref, 1.0)

    def residual(self, m) -> np.ndarray:
        """Weighted, scaled residual: ``sqrt(weight) * relative error / sigma``."""
        return math.sqrt(self.weight) * self.relative_error(m) / self.sigma


def _weight_from_rules(note: str) -> tuple[float, str]:
    low = note.lower()
    weight, reasons = 1.0, []
    for phrases, w, reason in WEIGHT_RULES:
        if any(p in low for p in phrases):
            weight *= w
            reasons.append(reason)
    return weight, "; ".join(reasons)


def constraint_for(obs, quantity: Quantity, *, weight: float | None = None, sigma: float | None = None) -> Constraint:
    """The :class:`Constraint` an observation puts on its prediction (rules in the module docstring).

    Parameters
    ----------
    obs : Observation
    quantity : Quantity
        Its registered quantity (for ``lower_bound``).
    weight, sigma : float, optional
        Override the observation's own and the default weight / relative sigma.
    """
    kind_of = QUALIFIERS.get(obs.qualifier)
    if kind_of is None:
        raise ObservationError(f"{obs.label}: unknown qualifier {obs.qualifier!r}; allowed: "
                               f"{', '.join(repr(q) for q in QUALIFIERS if q)} or empty.")
    v = obs.value
    if obs.low is not None or obs.high is not None:
        lo, hi = obs.low, obs.high
        kind = "range" if lo is not None and hi is not None else ("lower" if lo is not None else "upper")
        base_sigma, value = SIGMAS["bound"], None
    elif kind_of.startswith("range"):
        lo, hi = (v, v + v / 10) if obs.qualifier == "a little more than" else (v - v / 10, v)
        kind, base_sigma, value = "range", SIGMAS["bound"], None
    elif kind_of == "lower bound" or (quantity.lower_bound and kind_of.endswith("point")):
        kind, lo, hi, value = "lower", v, None, None
        base_sigma = SIGMAS["bound"] if kind_of == "lower bound" or kind_of == "point" else SIGMAS["rough point"]
    elif kind_of == "upper bound":
        kind, lo, hi, value, base_sigma = "upper", None, v, None, SIGMAS["bound"]
    else:
        kind, lo, hi, value = "point", None, None, v
        base_sigma = SIGMAS[kind_of]
    if weight is None and obs.weight is not None:
        weight, reason = obs.weight, "weight column"
    elif weight is None:
        weight, reason = _weight_from_rules(obs.note)
    else:
        reason = "given"
    if weight < 0 or not math.isfinite(weight):
        raise ObservationError(f"{obs.label}: weight must be a finite number >= 0; got {weight!r}.")
    if quantity.sigma is not None:
        base_sigma = max(base_sigma, quantity.sigma)
    s = sigma if sigma is not None else (obs.sigma if obs.sigma is not None else base_sigma)
    if not (s > 0 and math.isfinite(s)):
        raise ObservationError(f"{obs.label}: relative sigma must be > 0; got {s!r}.")
    return Constraint(kind=kind, value=value, low=lo, high=hi, sigma=float(s), weight=float(weight), reason=reason)


def _lookup(table, i: int, obs):
    if table is None:
        return None
    if callable(table):
        return table(obs)
    if isinstance(table, Mapping):
        for key in (i, obs.label):
            if key in table:
                return table[key]
        return None
    raise ObservationError(
        f"weights / sigmas must be a mapping (index or label -> number) or a function; got {table!r}."
    )


@dataclass(frozen=True, eq=False)
class ObservationModel:
    """Observations, their quantities and constraints, and the background traffic.

    Build it with :meth:`build`; :meth:`predict` maps a run to one number per
    observation, :meth:`residuals` and :meth:`relative_errors` compare them.

    Attributes
    ----------
    observations : ObservationTable
    quantities : tuple of Quantity
        One per observation.
    constraints : tuple of Constraint
        One per observation.
    background : BackgroundTraffic
    """

    observations: ObservationTable
    quantities: tuple
    constraints: tuple
    background: BackgroundTraffic

    @classmethod
    def build(cls, observations, background: BackgroundTraffic | None = None, *, weights=None,
              sigmas=None) -> ObservationModel:
        """Resolve quantities and constraints of ``observations``.

        Parameters
        ----------
        observations : ObservationTable or list of Observation
        background : BackgroundTraffic, optional
            Default: :meth:`BackgroundTraffic.from_observations` (levels from
            ``baseline_daily_entries`` figures, a second level from 1 October 2022).
        weights, sigmas : mapping or callable, optional
            Per observation (by index or :attr:`Observation.label`, or a
            function of the observation returning a number or None) a weight
            or a relative sigma that overrides the defaults.
        """
        table = as_observation_table(observations)
        if not len(table):
            raise ObservationError("no observations to compare with; give at least one.")
        if background is None:
            background = BackgroundTraffic.from_observations(table)
        elif not isinstance(background, BackgroundTraffic):
            raise ObservationError(f"background must be a BackgroundTraffic; got {type(background).__name__}.")
        quantities, constraints = [], []
        for i, obs in enumerate(table):
            where = f"{obs.label}" + (f" (line {obs.line})" if obs.line else "") + ": "
            q = get_quantity(obs.quantity, where)
            if q.unit in SHARE_UNITS:
                for name in ("value", "low", "high"):
                    x = getattr(obs, name)
                    if x is not None and x > 1:
                        raise ObservationError(f"{where}{q.name} is a share, so its {name} must be in [0, 1]; "
                                               f"got {x:g}. Fix: 0.75 for 75%.")
            quantities.append(q)
            constraints.append(constraint_for(obs, q, weight=_lookup(weights, i, obs), sigma=_lookup(sigmas, i, obs)))
        return cls(table, tuple(quantities), tuple(constraints), background)

    def replace_background(self, background: BackgroundTraffic) -> ObservationModel:
        """The same observations with another background traffic."""
        return ObservationModel(self.observations, self.quantities, self.constraints, background)

    def __len__(self) -> int:
        return len(self.observations)

    def check_scenario(self, scenario) -> None:
        """Refuse observations of hosts the scenario does not have."""
        for obs in self.observations:
            host_index(obs.host, scenario.hosts, what=f"scenario {scenario.name!r}", where=obs.label,
                       hint="Filter the observations, e.g. observations.filter(host=...).")

    def days_needed(self, start) -> int:
        """Horizon (days from ``start``) that covers every window."""
        return max(1, max((o.date_end - start).days + 1 for o in self.observations))

    def predict(self, result, member: int = 0, background: BackgroundTraffic | None = None) -> np.ndarray:
        """Model value of every observation, shape (n,), in the observation's unit."""
        bg = self.background if background is None else background
        out = np.empty(len(self.observations))
        views = {}
        for i, (obs, q) in enumerate(zip(self.observations, self.quantities)):
            where = f"{obs.label}: "
            if obs.host not in views:
                views[obs.host] = ObservationView(result, obs.host, bg, member)
            view = views[obs.host]
            view.where = where
            value = float(q.function(view, obs.date_start, obs.date_end))
            if not np.isfinite(value):
                raise ObservationError(f"{where}the quantity {q.name} gave {value}; check its function.")
            out[i] = value
        return out

    def residuals(self, predictions) -> np.ndarray:
        """Weighted, scaled residuals, shape (n,) (see :meth:`Constraint.residual`)."""
        return np.array([float(c.residual(m)) for c, m in zip(self.constraints, predictions)])

    def relative_errors(self, predictions) -> np.ndarray:
        """Relative errors, shape (n,): 0 when a bound holds."""
        return np.array([float(c.relative_error(m)) for c, m in zip(self.constraints, predictions)])

    def violations(self, predictions) -> np.ndarray:
        """Signed distance outside the accepted set, shape (n,), in the observation's unit."""
        return np.array([float(c.violation(m)) for c, m in zip(self.constraints, predictions)])

    @property
    def weights(self) -> np.ndarray:
        """Weight of every observation, shape (n,)."""
        return np.array([c.weight for c in self.constraints])
