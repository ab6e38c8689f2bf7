"""What each docs/model.md parameter is: unit, hard bounds, scope and meaning.

Values, uncertainty ranges and sources live elsewhere (``defaults.py`` and the
shipped ``data/reference_parameters.csv``); this module only knows the
parameters themselves, so that every layer can validate and document them from
one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import did_you_mean, format_bounds
from ..exceptions import ParameterError

__all__ = ["ParameterSpec", "PARAMETER_SPECS", "FLOW_PARAMETERS", "ECONOMY_PARAMETERS", "OBSERVATION_PARAMETERS",
           "spec", "checked_number", "where_text"]

INF = math.inf

# Hard limits that say what the model means (values beyond them are refused, not clipped):
#: Shortest time constant, days (about 1.4 minutes): faster processes are not migration.
MIN_TIME_DAYS = 1e-3
#: Longest time constant, days (about 2,700 years).
MAX_TIME_DAYS = 1e6
#: Fastest rate, 1/day (the inverse of MIN_TIME_DAYS).
MAX_RATE = 1.0 / MIN_TIME_DAYS
#: More people than live on Earth: any count of people must stay below this.
MAX_PEOPLE = 1e10
#: Longest horizon, days (100 years).
MAX_HORIZON_DAYS = 36525
#: Largest amount per person and day, USD/day.
MAX_USD_PER_PERSON_DAY = 1e6
#: Largest multiplier or relative factor (m, pi, eps, phi_S).
MAX_FACTOR = 1e3


@dataclass(frozen=True, kw_only=True)
class ParameterSpec:
    """Static description of one parameter of the reference model.

    Attributes
    ----------
    name : str
        The docs/model.md symbol (``tau_T``, ``q_on``...).
    unit : str
        Physical unit (``days``, ``1/day``, ``USD/day``, ``1`` for shares...).
    description : str
        One-line meaning.
    lower, upper : float
        Hard bounds; values outside are refused, never clipped.
    lower_open, upper_open : bool
        Whether the bound itself is excluded.
    scope : {"host", "global"}
        Per-host value or one value for the whole scenario.
    layer : {"flow", "economy", "observation"}
        Population model, economic layer, or the observation model (a
        nuisance parameter of how published figures relate to the model,
        e.g. ``transfer_share``; it changes no series).
    integer : bool
        Whether the value must be a whole number (``k``).
    """

    name: str
    unit: str
    description: str
    lower: float = 0.0
    upper: float = INF
    lower_open: bool = False
    upper_open: bool = True
    scope: str = "host"
    layer: str = "flow"
    integer: bool = False

    @property
    def bounds_text(self) -> str:
        """The allowed interval as text, e.g. ``[0, 1]``."""
        return format_bounds(self.lower, self.upper, self.lower_open, self.upper_open)

    @property
    def unit_note(self) -> str:
        """`` (days)`` after a bound in a message; nothing for a dimensionless share or count."""
        return "" if self.unit in ("1", "") else f" ({self.unit})"

    def contains(self, value: float) -> bool:
        """Whether ``value`` satisfies the hard bounds (and integrality)."""
        if not math.isfinite(value):
            return False
        lo_ok = value > self.lower if self.lower_open else value >= self.lower
        hi_ok = value < self.upper if self.upper_open else value <= self.upper
        return lo_ok and hi_ok and (not self.integer or float(value).is_integer())


def _share(name, description, layer="flow"):
    return ParameterSpec(
        name=name, unit="1", description=description, upper=1.0, upper_open=False, layer=layer
    )


def _time(name, description):
    return ParameterSpec(name=name, unit="days", description=description, lower=MIN_TIME_DAYS,
                         upper=MAX_TIME_DAYS, upper_open=False)


def _rate(name, description):
    return ParameterSpec(name=name, unit="1/day", description=description, upper=MAX_RATE, upper_open=False)


def _money(name, unit, description, upper=None):
    if upper is None:
        upper = MAX_USD_PER_PERSON_DAY if unit == "USD/day" else MAX_FACTOR
    return ParameterSpec(name=name, unit=unit, description=description, layer="economy", upper=upper,
                         upper_open=False)


_SPECS = [
    _time("tau_T", "mean time in transit"),
    _share("q_on", "share of transit leavers who move on (to another host or W)"),
    _share("q_ret", "share of transit leavers who return to origin"),
    _share("rho", "share of settlers who keep foreign income (remote workers)"),
    ParameterSpec(
        name="k",
        unit="1",
        description="Erlang stages of the savings runway",
        lower=1.0,
        upper=100.0,
        upper_open=False,
        scope="global",
        integer=True,
    ),
    _time("tau_S", "mean savings runway of someone who neither finds work nor leaves"),
    _rate("f0", "job-finding rate at an empty labour market"),
    ParameterSpec(
        name="phi_S", unit="1", description="search intensity of savers relative to the unemployed",
        upper=MAX_FACTOR, upper_open=False,
    ),
    ParameterSpec(
        name="K",
        unit="people",
        description="jobs the local market can absorb for migrants",
        lower=1.0,
        upper=MAX_PEOPLE,
    ),
    _rate("lam_S", "leaving rate of savers"),
    _rate("lam_R", "leaving rate of remote workers"),
    _rate("lam_E", "leaving rate of the employed"),
    _rate("lam_U", "leaving rate of the unemployed"),
    _share("q_out", "share of settled leavers who move on to W rather than return to origin"),
    _rate("nu_R", "rate at which remote workers lose their foreign income and fall back on savings (R -> S1)"),
    _money("c_T", "USD/day", "spending per person per day in transit (foreign-funded)"),
    _money("c_S", "USD/day", "spending per saver per day (foreign-funded)"),
    _money("c_R", "USD/day", "spending per remote worker per day (foreign-funded)"),
    _money("m", "1", "host value added per USD of foreign-funded spending, incl. induced rounds"),
    _money("w", "USD/day", "local average wage"),
    _money("pi", "1", "productivity of an employed migrant relative to w"),
    _share("delta", "share of migrant jobs that displace a local worker", layer="economy"),
    _money("g_pub", "USD/day", "public-service cost per present migrant"),
    _money("b_U", "USD/day", "support cost per unemployed migrant"),
    _money("rd", "USD/day", "average rent of a rented main-city dwelling before the arrivals (v1's L/Hs)"),
    ParameterSpec(
        name="Hs",
        unit="dwellings",
        description="rental housing stock in the main cities",
        lower=1.0,
        upper=MAX_PEOPLE,
        layer="economy",
    ),
    _money("hR", "dwellings/person", "rented main-city dwellings taken per present migrant", upper=10.0),
    _money("eps", "1", "relative rent rise per unit rise in the migrant-taken share of dwellings"),
    _share("tau_c", "indirect taxes collected per USD migrants spend in the host (effective, not statutory)",
           layer="economy"),
    _share("tau_w", "taxes and social contributions per USD of a local wage (effective)", layer="economy"),
    _money("tax_R", "USD/day", "taxes a remote worker pays the host per day"),
    ParameterSpec(
        name="transfer_share",
        unit="1",
        description="share of the excess money transfers from the origin that the arrivals' spending explains "
                    "(observation model)",
        lower_open=True,
        upper=1.0,
        upper_open=False,
        layer="observation",
    ),
    ParameterSpec(
        name="gdp",
        unit="USD/year",
        description="annual GDP",
        lower=1e6,
        upper=1e15,
        upper_open=False,
        layer="economy",
    ),
    ParameterSpec(
        name="r",
        unit="1/year",
        description="annual discount rate for present values",
        lower=-1.0,
        lower_open=True,
        upper=1.0,
        upper_open=False,
        scope="global",
        layer="economy",
    ),
    ParameterSpec(
        name="D_x",
        unit="days",
        description="days a balance must stay negative for a sustained crossover",
        lower=1.0,
        upper=MAX_HORIZON_DAYS,
        upper_open=False,
        scope="global",
        layer="economy",
        integer=True,
    ),
]

#: All parameter specs keyed by docs/model.md symbol, in docs/model.md order.
PARAMETER_SPECS: dict[str, ParameterSpec] = {s.name: s for s in _SPECS}

#: Names of the per-host population-model parameters (excluding the onward matrix ``P``).
FLOW_PARAMETERS: tuple[str, ...] = tuple(
    s.name for s in _SPECS if s.layer == "flow" and s.scope == "host"
)

#: Names of the per-host observation-model parameters (they change no series).
OBSERVATION_PARAMETERS: tuple[str, ...] = tuple(s.name for s in _SPECS if s.layer == "observation")

#: Names of the per-host economy parameters.
ECONOMY_PARAMETERS: tuple[str, ...] = tuple(
    s.name for s in _SPECS if s.layer == "economy" and s.scope == "host"
)


def spec(name: str) -> ParameterSpec:
    """Return the spec of parameter ``name``, suggesting the closest name if unknown."""
    try:
        return PARAMETER_SPECS[name]
    except KeyError:
        fix = did_you_mean(str(name), list(PARAMETER_SPECS) + ["P"])
        raise ParameterError(
            f"unknown parameter {name!r}; known: {', '.join(PARAMETER_SPECS)}, P.{fix}"
        ) from None


def where_text(name: str, host: str | None) -> str:
    """How error messages name a parameter's value: "Parameter `name`", with " for host HOST" when per host."""
    return f"Parameter `{name}`" + (f" for host {host}" if host else "")


def checked_number(sp: ParameterSpec, value, host) -> float:
    """``value`` as a float if it is a number within ``sp``'s hard bounds; a ParameterError naming it otherwise."""
    where = where_text(sp.name, host)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{where} must be a number in {sp.unit}; got {value!r}.")
    x = float(value)
    if math.isnan(x):
        raise ParameterError(f"{where} must be a number in {sp.bounds_text}; got NaN.")
    if not sp.contains(x):
        if sp.integer and math.isfinite(x) and not x.is_integer() and x >= sp.lower:
            raise ParameterError(f"{where} must be a whole number >= {sp.lower:g}; got {x:g}.")
        raise ParameterError(f"{where} must be in {sp.bounds_text}{sp.unit_note}; got {x:g}.")
    return x
