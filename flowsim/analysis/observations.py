"""The observation model: what each published figure is in terms of model outputs.

Every observation names a ``quantity`` (``cumulative_entries``,
``stock_present``...), a host and a window of calendar days
``date_start..date_end`` (both included). The registry :data:`QUANTITIES` maps
each quantity to a function of a run over that window; users add their own
with :func:`register_quantity`.

Conventions (``docs/calibration.md`` has the table):

* The run's states are at 00:00 of each date, so the flows over the days
  ``d0..d1`` are counter differences between grid points ``d0`` and ``d1 + 1``.
  Entries use the counter ``In`` (direct arrivals plus onward movers from
  other hosts); exits are ``In - (N(t) - N(0))``: everyone who left the
  host's present population, onward or home.
* Before the scenario start the model has no flows: a window that starts
  earlier (``monthly_entries`` for September when the run starts on
  21 September) counts the model's flows from the start only, plus the
  background traffic of the whole window.
* Gross border counts (``gross=True`` quantities) add the background traffic
  (:class:`~flowsim.analysis.background.BackgroundTraffic`) of every day of the
  window; the others are about the outflow itself.
* Stocks (``stock_present``, ``employed_registered``) are read at the end of
  ``date_end`` (grid point ``date_end + 1``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._validation import did_you_mean
from ..exceptions import ObservationError
from .background import BackgroundTraffic

__all__ = [
    "Quantity",
    "QUANTITIES",
    "register_quantity",
    "get_quantity",
    "ObservationView",
]


@dataclass(frozen=True, kw_only=True)
class Quantity:
    """How one kind of published figure is computed from a run.

    Attributes
    ----------
    name : str
        The ``quantity`` column value.
    function : callable
        ``function(view, date_start, date_end) -> float``, with ``view`` an
        :class:`ObservationView` of one host of one run.
    unit : str
        Unit of the result (``persons``, ``persons/day``, ``share``, ``ratio``).
    maps_to : str
        The model output, in words (for tables and docs).
    gross : bool
        Whether the figure is a gross border count that includes background
        traffic (informational; the function adds it).
    lower_bound : bool
        Whether a published figure of this kind counts only part of what the
        model quantity counts (registrations of settlers, formal jobs), so
        that a plain figure is a lower bound on the model: the residual is
        one-sided.
    sigma : float or None
        Relative uncertainty of figures of this kind when it is larger than
        the qualifier's (loose proxies such as registrations); None: the
        qualifier decides.
    """

    name: str
    function: Callable
    unit: str
    maps_to: str
    gross: bool = False
    lower_bound: bool = False
    sigma: float | None = None


#: Registered quantities by name.
QUANTITIES: dict[str, Quantity] = {}


def register_quantity(name: str, *, unit: str, maps_to: str, gross: bool = False, lower_bound: bool = False,
                      sigma: float | None = None, replace: bool = False):
    """Decorator registering ``function(view, date_start, date_end) -> float`` as a quantity.

    Parameters
    ----------
    name : str
        Value of the ``quantity`` column it handles.
    unit, maps_to, gross, lower_bound, sigma
        See :class:`Quantity`.
    replace : bool
        Allow replacing an existing quantity of that name.

    Examples
    --------
    >>> from flowsim.analysis.observations import register_quantity
    >>> @register_quantity("remote_workers", unit="persons", maps_to="R at the end of date_end", replace=True)
    ... def remote_workers(view, d0, d1):
    ...     return view.stock("R", d1)
    """
    if name in QUANTITIES and not replace:
        raise ObservationError(f"quantity {name!r} is already registered; pass replace=True to redefine it.")

    def deco(function):
        QUANTITIES[name] = Quantity(name=name, function=function, unit=unit, maps_to=maps_to, gross=gross,
                                    lower_bound=lower_bound, sigma=sigma)
        return function

    return deco


def get_quantity(name: str, where: str = "") -> Quantity:
    """The registered quantity ``name``; an unknown name raises with the closest ones."""
    try:
        return QUANTITIES[name]
    except KeyError:
        fix = did_you_mean(name, QUANTITIES)
        raise ObservationError(
            f"{where}unknown quantity {name!r}; known: {', '.join(QUANTITIES)}.{fix} "
            "Register your own with flowsim.register_quantity."
        ) from None


class ObservationView:
    """Model outputs of one host of one run, by calendar window.

    Parameters
    ----------
    result : Result
        A run whose horizon covers the windows asked for.
    host : str
        Host code.
    background : BackgroundTraffic, optional
        Ordinary traffic added to gross counts (none when omitted).
    member : int
        Ensemble member.
    where : str
        Prefix of error messages (the observation).
    """

    def __init__(self, result, host: str, background: BackgroundTraffic | None = None, member: int = 0,
                 where: str = ""):
        self.result = result
        self.host = host
        self.background = background or BackgroundTraffic()
        self.member = member
        self.where = where
        self.start = result.scenario.start
        self._In = result.series("In", host, member)
        self._N = result.series("N", host, member)

    # ------------------------------------------------------------------ grid
    def _grid(self, date: _dt.date) -> int:
        """Grid index of 00:00 on ``date``, clipped at the start; refuses dates after the horizon."""
        i = (date - self.start).days
        last = self._In.size - 1
        if i > last:
            end = self.start + _dt.timedelta(days=last)
            raise ObservationError(
                f"{self.where}the window ends after the simulated period ({self.start} .. {end}); "
                f"run with a horizon of at least {i} days."
            )
        return max(i, 0)

    def _counter(self, values, d0, d1) -> float:
        return float(values[self._grid(d1 + _dt.timedelta(days=1))] - values[self._grid(d0)])

    # ----------------------------------------------------------------- flows
    def entries(self, d0: _dt.date, d1: _dt.date, *, gross: bool = False) -> float:
        """People entering over the days ``d0..d1`` (model from the start, plus background if ``gross``)."""
        model = self._counter(self._In, d0, d1)
        return model + (self.background.total("entries", self.host, d0, d1) if gross else 0.0)

    def exits(self, d0: _dt.date, d1: _dt.date, *, gross: bool = False) -> float:
        """People leaving over the days ``d0..d1`` (entries minus the change of ``N``)."""
        model = self._counter(self._In, d0, d1) - self._counter(self._N, d0, d1)
        return model + (self.background.total("exits", self.host, d0, d1) if gross else 0.0)

    def flow(self, direction: str, d0, d1, *, gross: bool = False) -> float:
        """:meth:`entries` or :meth:`exits` by name."""
        if direction == "entries":
            return self.entries(d0, d1, gross=gross)
        if direction == "exits":
            return self.exits(d0, d1, gross=gross)
        raise ObservationError(f"direction must be 'entries' or 'exits'; got {direction!r}.")

    def daily(self, direction: str, d0, d1, *, gross: bool = False) -> np.ndarray:
        """People per calendar day ``d0..d1``, shape (days,)."""
        n = (d1 - d0).days + 1
        return np.array([self.flow(direction, d0 + _dt.timedelta(days=i), d0 + _dt.timedelta(days=i),
                                   gross=gross) for i in range(n)])

    def _shares(self, d0) -> tuple[float, float]:
        """``q_on, q_ret`` of the host in force at the start of day ``d0``."""
        regimes = self.result.scenario.regimes(self.result.params[self.member])
        day = max((d0 - self.start).days, 0)
        params = [p for first, p in regimes if first <= day][-1]
        return params.get("q_on", self.host), params.get("q_ret", self.host)

    def transit_outflow(self, d0, d1) -> float:
        """People who left transit ``T`` over ``d0..d1`` (settled, moved on or went home).

        Entries minus the change of ``T``.
        """
        T = self.result.series("T", self.host, self.member)
        return self.entries(d0, d1) - self._counter(T, d0, d1)

    def transit_leavers(self, d0, d1) -> float:
        """People who left the host straight from transit (onward or home) over ``d0..d1``.

        ``(q_on + q_ret)`` times the transit outflow, with the shares in force
        at the start of the window.
        """
        q_on, q_ret = self._shares(d0)
        return (q_on + q_ret) * self.transit_outflow(d0, d1)

    def settlers(self, d0, d1) -> float:
        """People who settled (into S or R) over ``d0..d1``: ``(1 - q_on - q_ret)`` times the transit outflow."""
        q_on, q_ret = self._shares(d0)
        return (1.0 - q_on - q_ret) * self.transit_outflow(d0, d1)

    def parameter(self, name: str, d0=None) -> float:
        """A parameter of the host in force at the start of day ``d0`` (the first regime when None)."""
        regimes = self.result.scenario.regimes(self.result.params[self.member])
        day = 0 if d0 is None else max((d0 - self.start).days, 0)
        params = [p for first, p in regimes if first <= day][-1]
        return params.get(name, self.host)

    def integral(self, name: str, d0, d1) -> float:
        """Integral of a series (per day) over the days ``d0..d1``, trapezoid between grid points.

        Days before the scenario start count at the start's level: the stocks
        there (initial stocks, e.g. an earlier wave) are held at their level
        on the start date, the only assumption that lets a window begin
        before the start (documented in ``docs/calibration.md``).
        """
        x = self.result.series(name, self.host, self.member)
        before = max(0, min((self.start - d0).days, (d1 - d0).days + 1))
        a = self._grid(max(d0, self.start))
        b = self._grid(d1 + _dt.timedelta(days=1))
        inside = float(0.5 * (x[a:b].sum() + x[a + 1:b + 1].sum())) if b > a else 0.0
        return inside + before * float(x[0])

    def level(self, name: str, d1) -> float:
        """A series at the end of day ``d1`` (its value on the start date for a day before the start)."""
        x = self.result.series(name, self.host, self.member)
        return float(x[self._grid(d1 + _dt.timedelta(days=1))])

    def stock(self, name: str, d1) -> float:
        """Compartment (or ``N``, ``S``) at the end of day ``d1``, people."""
        return float(self.result.series(name, self.host, self.member)[self._grid(d1 + _dt.timedelta(days=1))])

    def ratio(self, numerator: float, denominator: float, what: str) -> float:
        """``numerator / denominator``, refusing an empty denominator."""
        if denominator <= 0:
            raise ObservationError(f"{self.where}{what} is undefined: the model has no {what.split('/')[-1].strip()} "
                                   "in the window (check the arrivals of this host).")
        return numerator / denominator


# ------------------------------------------------------------------ the vocabulary
#: Relative sigma of loose proxies of settlers (IINs, registrations, bank accounts): many who
#: got one left again, and some had come before the start.
LOOSE_SIGMA = 0.5

def _days(d0, d1) -> int:
    return (d1 - d0).days + 1


def _previous_month(d: _dt.date) -> tuple[_dt.date, _dt.date]:
    last = d.replace(day=1) - _dt.timedelta(days=1)
    return last.replace(day=1), last


def _gross_total(direction):
    return lambda v, d0, d1: v.flow(direction, d0, d1, gross=True)


def _gross_mean(direction):
    return lambda v, d0, d1: v.flow(direction, d0, d1, gross=True) / _days(d0, d1)


for _dir in ("entries", "exits"):
    register_quantity(f"cumulative_{_dir}", unit="persons", gross=True,
                      maps_to=f"model {_dir} over the window + background {_dir}")(_gross_total(_dir))
    register_quantity(f"monthly_{_dir}", unit="persons", gross=True,
                      maps_to=f"model {_dir} over the month (from the start) + background {_dir} of every day")(
        _gross_total(_dir))
    register_quantity(f"daily_{_dir}", unit="persons/day", gross=True,
                      maps_to=f"mean per day of model {_dir} + background over the window's days "
                              "(one date: that day; two dates: the 24 h across midnight)")(_gross_mean(_dir))

register_quantity("baseline_daily_entries", unit="persons/day", gross=True,
                  maps_to="mean per day of background entries (+ model entries, zero before the start)")(
    _gross_mean("entries"))


@register_quantity("peak_daily_entries", unit="persons/day", gross=True,
                   maps_to="largest daily model entries + background over the window's days")
def _peak_daily_entries(view, d0, d1):
    return float(view.daily("entries", d0, d1, gross=True).max())


@register_quantity("entries_ratio_october_to_september", unit="ratio", gross=True,
                   maps_to="gross entries over the window / gross entries over the calendar month before it")
def _entries_ratio(view, d0, d1):
    p0, p1 = _previous_month(d0)
    return view.ratio(view.entries(d0, d1, gross=True), view.entries(p0, p1, gross=True),
                      "entries ratio window / previous month")


@register_quantity("transit_exits", unit="persons",
                   maps_to="(q_on + q_ret) x (entries - change of T): left straight from transit, onward or home")
def _transit_exits(view, d0, d1):
    return view.transit_leavers(d0, d1)


# Published shares of arrivals who left or stayed are worked out by officials from the gross border
# counts ("200,000 entered, three quarters left"), so they are gross too; without background traffic
# they are the outflow's own shares.
@register_quantity("share_left_soon", unit="share", gross=True,
                   maps_to="(model + background) exits / (model + background) entries over the window")
def _share_left_soon(view, d0, d1):
    return view.ratio(view.exits(d0, d1, gross=True), view.entries(d0, d1, gross=True), "share exits / entries")


@register_quantity("share_stayed", unit="share", gross=True,
                   maps_to="1 - (model + background) exits / (model + background) entries over the window")
def _share_stayed(view, d0, d1):
    return 1.0 - view.ratio(view.exits(d0, d1, gross=True), view.entries(d0, d1, gross=True),
                            "share exits / entries")


for _name, _what in (("tax_ids_issued", "IINs issued"), ("registered_arrivals", "registrations"),
                     ("stay_extensions", "stay extensions"), ("bank_accounts_opened", "bank accounts")):
    register_quantity(_name, unit="persons", lower_bound=True, sigma=LOOSE_SIGMA,
                      maps_to=f"settlers over the window, (1 - q_on - q_ret) x transit outflow ({_what}: "
                              "a loose lower bound)")(lambda v, d0, d1: v.settlers(d0, d1))


@register_quantity("employed_registered", unit="persons", lower_bound=True,
                   maps_to="E at the end of date_end (formal jobs only: a lower bound)")
def _employed(view, d0, d1):
    return view.stock("E", d1)


@register_quantity("stock_present", unit="persons", maps_to="N = T + S + R + E + U at the end of date_end")
def _stock_present(view, d0, d1):
    return view.stock("N", d1)


# --------------------------------------------------------------- the economy (docs/model.md v2)
@register_quantity("transfers_excess", unit="USD",
                   maps_to="integral of inflow over the window / transfer_share (before the start: the initial "
                           "stocks' spending held at its level)")
def _transfers_excess(view, d0, d1):
    """Money transfers from the origin minus the same period's pre-arrival baseline (and deposit changes)."""
    return view.integral("inflow", d0, d1) / view.parameter("transfer_share", d0)


@register_quantity("rent_log_change", unit="1",
                   maps_to="log(1 + rent_rise) at the end of date_end (date_start: a pre-arrival date)")
def _rent_log_change(view, d0, d1):
    """Log change of a rent index, deflated by the general price level, from a pre-arrival date to ``date_end``."""
    return float(np.log1p(view.level("rent_rise", d1)))


@register_quantity("sole_traders_registered", unit="persons", lower_bound=True,
                   maps_to="R at the end of date_end (remote workers who registered: a lower bound)")
def _sole_traders(view, d0, d1):
    return view.stock("R", d1)


@register_quantity("work_permits", unit="persons", lower_bound=True,
                   maps_to="E at the end of date_end (permits where the origin's citizens need one: a lower bound)")
def _work_permits(view, d0, d1):
    return view.stock("E", d1)


@register_quantity("fiscal_cost", unit="USD",
                   maps_to="integral of fiscal_cost (public services g_pub N and support b_U U) over the window")
def _fiscal_cost(view, d0, d1):
    """Public spending on the arrivals over the window (docs/model.md v2, ``fiscal_cost``)."""
    return view.integral("fiscal_cost", d0, d1)


@register_quantity("fiscal_revenue", unit="USD",
                   maps_to="integral of fiscal_revenue (indirect, wage and remote workers' taxes) over the window")
def _fiscal_revenue(view, d0, d1):
    """Taxes the arrivals pay over the window (docs/model.md v2, ``fiscal_revenue``)."""
    return view.integral("fiscal_revenue", d0, d1)
