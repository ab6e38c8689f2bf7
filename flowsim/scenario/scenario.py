"""The :class:`Scenario`: everything a run needs, frozen and validated once."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as _dt
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_in_bounds, did_you_mean, to_date
from ..exceptions import FlowsimWarning, ParameterError, ScenarioError, ScheduleError
from ..hosts import DEFAULT_ORIGIN, WORLD, check_host_codes, host_index
from .arrivals import CompiledArrivals
from .layout import Layout
from .parameter_set import ParameterSet
from .policies import Policy
from .schedules import Closure, Schedule
from .specs import MAX_HORIZON_DAYS, MAX_PEOPLE

__all__ = ["Scenario", "default_horizon", "STOCK_NAMES", "quiet_notes"]

#: Compartments that can hold initial stocks (``S`` means savings stage 1).
STOCK_NAMES = ("T", "S", "R", "E", "U", "Ret", "Out")


def default_horizon(start: _dt.date, years: int = 5) -> int:
    """Days from ``start`` to the same calendar day ``years`` later (1826 from 2022-09-21)."""
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return (end - start).days


#: Notes of the scenario a variant is made from (replace, with_params...): said when it was built, not again.
_SAID: contextvars.ContextVar[frozenset] = contextvars.ContextVar("flowsim_scenario_notes_said", default=frozenset())


@contextlib.contextmanager
def _variant_of(scenario):
    token = _SAID.set(frozenset(scenario.notes()))
    try:
        yield
    finally:
        _SAID.reset(token)


@contextlib.contextmanager
def quiet_notes():
    """Silence the :class:`FlowsimWarning` notes of scenarios built inside (for internal variants, e.g. a fit's
    horizon, whose notes would speak of a period the user never chose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowsimWarning)
        yield


def _as_tuple(value, kind, host, what):
    if isinstance(value, kind):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise ScheduleError(
            f"{what} for host {host} must be a {kind.__name__} or a list of them; got {value!r}."
        ) from None
    for item in items:
        if not isinstance(item, kind):
            raise ScheduleError(f"{what} for host {host} must be {kind.__name__} objects; got {item!r}.")
    return items


@dataclass(frozen=True, kw_only=True, eq=False)
class Scenario:
    """A complete, validated description of one run.

    Parameters
    ----------
    params : ParameterSet
        Parameter values; its ``hosts`` fix the host order.
    start : date or str
        Day 0 (default 2022-09-21).
    horizon_days : int, optional
        Days simulated after the start (default 5 years).
    arrivals : mapping of str to Schedule or list of Schedule
        Direct arrivals from the origin per host (people/day); schedules of
        the same host add up. Hosts not listed receive no direct arrivals.
    closures : mapping of str to Closure or list of Closure
        Windows during which a host is closed.
    initial : mapping of str to mapping of str to float
        People already present at the start, ``{host: {compartment: people}}``;
        compartments ``T, S (stage 1), S1..Sk, R, E, U, Ret, Out``.
    policies : sequence of Policy
        Per-host parameters that change from a date on (piecewise constant).
    diversion : mapping of str to mapping of str to float
        ``{closed host: {other host: share}}``: the share of the direct
        arrivals refused while a host is closed that go to another host
        instead (if that host is open then). Rows sum to at most 1; the rest
        stay at the origin and never arrive. Default: nobody is diverted.
    name : str
        Short identifier.
    description : str
        What the scenario stands for and where its numbers come from.
    origin : str
        The country people leave (default ``"Russia"``), shown in figures and
        tables; returns go back to it.

    Raises
    ------
    ScenarioError, ScheduleError
        Unknown hosts, negative stocks, ``E > K`` at the start, bad horizon.

    Warns
    -----
    FlowsimWarning
        Inputs that are valid but do less than they seem to (see
        :meth:`notes`): a policy dated before the start (applied from day 0)
        or on or after the end of the simulated period (no effect), a closure
        outside the simulated period (no effect), a diversion for a host that
        is never closed within it (no effect).
    """

    params: ParameterSet
    start: _dt.date = _dt.date(2022, 9, 21)
    horizon_days: int | None = None
    arrivals: Mapping[str, tuple[Schedule, ...]] = field(default_factory=dict)
    closures: Mapping[str, tuple[Closure, ...]] = field(default_factory=dict)
    initial: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    policies: tuple[Policy, ...] = ()
    diversion: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    name: str = "custom"
    description: str = ""
    origin: str = DEFAULT_ORIGIN

    def __post_init__(self):
        if not isinstance(self.params, ParameterSet):
            raise ScenarioError(f"Scenario.params must be a ParameterSet; got {type(self.params).__name__}.")
        start = to_date(self.start, "Scenario.start", ScenarioError)
        object.__setattr__(self, "start", start)
        horizon = default_horizon(start) if self.horizon_days is None else self.horizon_days
        if (isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1
                or horizon > MAX_HORIZON_DAYS):
            raise ScenarioError(f"Scenario.horizon_days must be a whole number of days in [1, {MAX_HORIZON_DAYS}] "
                                f"(at most 100 years); got {horizon!r}.")
        object.__setattr__(self, "horizon_days", int(horizon))
        if not isinstance(self.origin, str) or not self.origin.strip():
            raise ScenarioError(f"Scenario.origin must be the name of a country (text); got {self.origin!r}.")
        hosts = self.params.hosts
        check_host_codes(hosts, where="Scenario hosts")
        arrivals = {}
        for host, value in dict(self.arrivals).items():
            self._check_listed(host, "arrivals")
            arrivals[host] = _as_tuple(value, Schedule, host, "arrivals")
            for schedule in arrivals[host]:
                first = min(schedule.compile(start).breakpoints, default=0.0)
                if first < 0:
                    raise ScheduleError(
                        f"arrivals for host {host}: a {type(schedule).__name__} starts "
                        f"{-first:g} days before the scenario start {start}; arrivals before day 0 "
                        "would be lost. Move the schedule, or give people already there as `initial` stocks."
                    )
        closures = {}
        for host, value in dict(self.closures).items():
            self._check_listed(host, "closures")
            closures[host] = _as_tuple(value, Closure, host, "closures")
        object.__setattr__(self, "arrivals", arrivals)
        object.__setattr__(self, "closures", closures)
        object.__setattr__(self, "initial", self._checked_initial())
        object.__setattr__(self, "diversion", self._checked_diversion())
        policies = tuple(self.policies)
        for pol in policies:
            if not isinstance(pol, Policy):
                raise ScenarioError(f"Scenario.policies must hold Policy objects; got {pol!r}.")
            self._check_listed(pol.host, f"policy on `{pol.parameter}`")
        object.__setattr__(self, "policies", policies)
        self.regimes()  # every regime's parameters must be valid
        said = _SAID.get()
        for note in self.notes():
            if note not in said:
                warnings.warn(note, FlowsimWarning, stacklevel=3)

    def notes(self) -> list[str]:
        """What inputs do less than they seem to, one sentence each (each also a :class:`FlowsimWarning`).

        Returns
        -------
        list of str
            Policies dated before the start (applied from day 0) or on or
            after the end of the simulated period (no effect); closures
            outside the simulated period (no effect); diversions of a host
            that is never closed within it (no effect). Empty when every
            input acts as given.
        """
        period = f"the simulated period {self.start} .. {self.end} (horizon_days = {self.horizon_days})"
        out = []
        for pol in self.policies:
            day = (pol.start - self.start).days
            what = f"policy on `{pol.parameter}` for host {pol.host} from {pol.start}"
            if day < 0:
                out.append(f"{what} starts before the scenario start {self.start}: applied from day 0 "
                           f"({self.start}). Fix: date it {self.start} to say so.")
            elif day >= self.horizon_days:
                out.append(f"{what} starts on or after the end of {period}: it has no effect. Fix: remove it, "
                           f"or lengthen horizon_days to more than {day}.")
        open_hosts = []
        for host in self.hosts:
            windows = [c.window(self.start) for c in self.closures.get(host, ())]
            for closure, (t_a, t_b) in zip(self.closures.get(host, ()), windows):
                if t_a >= self.horizon_days or t_b <= 0:
                    when = f"from {closure.start or self.start} to {closure.end or 'the end'}"
                    out.append(f"closure of host {host} {when} lies outside {period}: it has no effect.")
            if not any(t_a < self.horizon_days and t_b > 0 for t_a, t_b in windows):
                open_hosts.append(host)
        for host in self.diversion:
            if host in open_hosts and any(share > 0 for share in self.diversion[host].values()):
                out.append(f"diversion for host {host} has no effect: {host} is never closed within {period} "
                           f"(closures of {host}: {len(self.closures.get(host, ()))}, none inside). "
                           f"Fix: add a closure of {host}, or remove the diversion.")
        return out

    def _check_listed(self, host, what):
        host_index(host, self.params.hosts, where=what)

    def _checked_initial(self) -> dict:
        k = int(self.params.get("k"))
        allowed = ("T", "S", *[f"S{i}" for i in range(1, k + 1)], "R", "E", "U", "Ret", "Out")
        out = {}
        for host, stocks in dict(self.initial).items():
            self._check_listed(host, "initial")
            if not isinstance(stocks, Mapping):
                raise ScenarioError(
                    f"initial stocks for host {host} must be a mapping {{compartment: people}}; got {stocks!r}."
                )
            clean = {}
            for name, value in stocks.items():
                if name not in allowed:
                    fix = did_you_mean(str(name), allowed)
                    raise ScenarioError(
                        f"initial stocks for host {host}: unknown compartment {name!r}; "
                        f"allowed: {', '.join(allowed)}.{fix}"
                    )
                clean[name] = check_in_bounds(
                    value, f"initial stock {name} for host {host} (people)", 0.0, MAX_PEOPLE,
                    upper_open=True, error=ScenarioError,
                )
            K = self.params.get("K", host)
            if clean.get("E", 0.0) > K:
                raise ScenarioError(
                    f"initial stock E for host {host} must be <= K = {K:g} (jobs for migrants); "
                    f"got {clean['E']:g}."
                )
            out[host] = clean
        return out

    def _checked_diversion(self) -> dict:
        out = {}
        for host, row in dict(self.diversion).items():
            self._check_listed(host, "diversion")
            if not isinstance(row, Mapping):
                raise ScenarioError(f"diversion for host {host} must be a mapping {{host: share}}; got {row!r}.")
            clean = {}
            for dest, share in row.items():
                if dest == host or dest == WORLD:
                    raise ScenarioError(
                        f"diversion for host {host}: destination {dest!r} is not allowed "
                        "(refused arrivals go to another host of the scenario or stay at the origin)."
                    )
                self._check_listed(dest, f"diversion for host {host}")
                clean[dest] = check_in_bounds(share, f"diversion share {host} -> {dest}", 0.0, 1.0,
                                              error=ScenarioError)
            total = sum(clean.values())
            if total > 1.0 + 1e-9:
                raise ScenarioError(
                    f"diversion for host {host}: shares must sum to at most 1 (the rest stay at the origin); "
                    f"got {total:.12g}."
                )
            out[host] = clean
        return out

    # -------------------------------------------------------------- derived
    def regimes(self, params: ParameterSet | None = None) -> list[tuple[float, ParameterSet]]:
        """Piecewise-constant parameters: ``[(first day, ParameterSet), ...]``.

        Parameters
        ----------
        params : ParameterSet, optional
            Values at the start (default :attr:`params`; an ensemble passes
            each member's own set, and ``factor`` policies scale those).

        Returns
        -------
        list of (float, ParameterSet)
            The first entry starts on day 0; one more entry for each distinct
            policy date inside the horizon, in date order.

        Raises
        ------
        ParameterError
            When a policy makes a value invalid (the policy is named).
        """
        base = self.params if params is None else params
        days = self.policy_days()
        out = [] if days and days[0][0] == 0.0 else [(0.0, base)]
        current = base
        for day, policies in days:
            for pol in policies:
                new = pol.new_value(base.get(pol.parameter, pol.host))
                try:
                    current = current.with_params(**{pol.parameter: {pol.host: new}})
                except ParameterError as exc:
                    raise ParameterError(
                        f"policy on `{pol.parameter}` for host {pol.host} from {pol.start}: {exc}"
                    ) from None
            out.append((day, current))
        return out

    def policy_days(self) -> list[tuple[float, list[Policy]]]:
        """Policies grouped by the day they take effect, in day order.

        Returns
        -------
        list of (float, list of Policy)
            Days since the start (a start on or before the scenario's start
            counts as day 0); policies taking effect at or after the horizon
            are left out.
        """
        by_day: dict[float, list[Policy]] = {}
        for pol in self.policies:
            day = max(0.0, float((pol.start - self.start).days))
            if day < self.horizon_days:
                by_day.setdefault(day, []).append(pol)
        return sorted(by_day.items())

    @property
    def parameters(self) -> ParameterSet:
        """The parameter values at the start, with units, ranges and sources.

        Renders as a table (text, or HTML in a notebook); policies change
        some of them from their dates on (see :attr:`policies`).
        """
        return self.params

    @property
    def hosts(self) -> tuple[str, ...]:
        """Host codes in array order."""
        return self.params.hosts

    @property
    def end(self) -> _dt.date:
        """Date of the last output day."""
        return self.start + _dt.timedelta(days=self.horizon_days)

    @property
    def dates(self) -> np.ndarray:
        """Calendar dates of the daily output grid, ``datetime64[D]`` of length horizon + 1."""
        return np.datetime64(self.start, "D") + np.arange(self.horizon_days + 1)

    def initial_state(self, k: int | None = None) -> np.ndarray:
        """Initial stocks as an array of shape (H, C), people.

        Parameters
        ----------
        k : int, optional
            Erlang stages of the layout (default the scenario's ``k``; an
            ensemble that varies ``k`` asks for each value).
        """
        lay = Layout(int(self.params.get("k")) if k is None else int(k))
        y0 = np.zeros((len(self.hosts), lay.size))
        for host, stocks in self.initial.items():
            h = self.hosts.index(host)
            for name, value in stocks.items():
                if name not in lay.names and name != "S":
                    raise ScenarioError(
                        f"initial stock {name} for host {host} needs k >= {name[1:]} savings stages; got k = {lay.k}. "
                        "Give the stock as `S` (stage 1) or keep k fixed."
                    )
                y0[h, lay.index(name)] += value
        return y0

    # -------------------------------------------------------------- variants
    def with_hosts(self, *hosts, arrivals=None, initial=None) -> Scenario:
        """A copy with new hosts (:class:`~flowsim.Host`), optionally their arrivals and initial stocks.

        Parameters
        ----------
        *hosts : Host
            Appended in order; a host starts from another's values with
            ``like`` (copied sources read ``"copied from KAZ: ..."``).
        arrivals : mapping, optional
            ``{host: Schedule or [Schedule]}`` for the new hosts (or any host:
            replaces its schedules).
        initial : mapping, optional
            ``{host: {compartment: people}}`` for the new hosts.

        Examples
        --------
        >>> import flowsim
        >>> cze = flowsim.Host("CZE", "Czechia", like="GEO", onward={"W": 1.0})
        >>> sc = flowsim.load_scenario("kazakhstan-2022").with_hosts(cze, initial={"CZE": {"R": 1000}})
        >>> float(flowsim.run(sc.replace(horizon_days=10)).series("N", "CZE")[0])
        1000.0
        """
        params = self.params.with_hosts(*hosts)
        with _variant_of(self):
            return dataclasses.replace(self, params=params, arrivals={**self.arrivals, **dict(arrivals or {})},
                                       initial={**self.initial, **dict(initial or {})})

    def with_params(self, name: str | None = None, **updates) -> Scenario:
        """A copy with parameters changed (see :meth:`ParameterSet.with_params`).

        Parameters
        ----------
        name : str, optional
            Name of the copy; default a derived one, ``"kazakhstan-2022 (tau_S, f0)"``, so that
            legends and comparisons tell the two apart.
        **updates
            ``NAME=value`` or ``NAME={HOST: value}``.
        """
        params = self.params.with_params(**updates)
        if name is None:
            name = f"{self.name} ({', '.join(updates)})" if updates else self.name
        with _variant_of(self):
            return dataclasses.replace(self, params=params, name=name)

    def replace(self, **changes) -> Scenario:
        """A copy with fields replaced (``start``, ``horizon_days``, ``arrivals``...; ``name`` to rename it)."""
        fields = [f.name for f in dataclasses.fields(self)]
        for key in changes:
            if key not in fields:
                fix = did_you_mean(str(key), fields)
                raise ScenarioError(f"Scenario.replace: unknown field {key!r}; allowed: {', '.join(fields)}.{fix}")
        with _variant_of(self):
            return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Fully resolved inputs, keyed by docs/model.md symbols (see ``resolved.json``)."""
        compiled = CompiledArrivals.build(self.hosts, self.arrivals, self.closures, self.start, self.diversion)
        daily = compiled.daily_counts(self.horizon_days)
        out = {
            "name": self.name,
            "description": self.description,
            "start": self.start.isoformat(),
            "horizon_days": self.horizon_days,
            "origin": self.origin,
            "hosts": list(self.hosts),
        }
        out.update(self.params.to_dict(provenance=True))
        out["arrival_schedules"] = {h: [s.to_dict() for s in v] for h, v in self.arrivals.items()}
        out["closures"] = {h: [c.to_dict() for c in v] for h, v in self.closures.items()}
        out["initial"] = {h: dict(v) for h, v in self.initial.items()}
        out["policies"] = [p.to_dict() for p in self.policies]
        out["diversion"] = {h: dict(v) for h, v in self.diversion.items()}
        out["arrivals"] = {h: daily[:, i].tolist() for i, h in enumerate(self.hosts)}
        return out

    def describe(self, hosts=None) -> str:
        """Everything the scenario holds as text: story, dates, arrivals, closures,
        diversion, initial stocks, policies and the parameter table with units,
        ranges and sources (what ``flowsim show`` prints)."""
        from .._formatting import scenario_text

        return scenario_text(self, hosts=hosts, width=None)

    def _repr_html_(self) -> str:
        from .._formatting import scenario_html

        return scenario_html(self)

    def __repr__(self) -> str:
        n_sched = sum(len(v) for v in self.arrivals.values())
        closed = ", ".join(self.closures) or "none"
        return (
            f"<Scenario {self.name!r}: {len(self.hosts)} hosts ({', '.join(self.hosts)}), "
            f"{self.start} + {self.horizon_days} days, {n_sched} arrival schedules, closed: {closed}, "
            f"{len(self.policies)} policies>"
        )
