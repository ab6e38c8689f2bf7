"""The outcome of an ensemble: drawn parameters, kept series, summaries, statistics."""

from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._validation import did_you_mean, to_date
from ..analysis.ensemble_stats import QUANTILES, median_day, member_quantiles, probability
from ..exceptions import FlowsimDeprecationWarning, FlowsimError, FlowsimWarning
from ..model.economy import BALANCES
from ..result_core import SeriesResult, SeriesView
from ..result_file import save_ensemble
from ..scenario.sampling import member_parameter_set
from ..summary import DEFAULT_BALANCE, resolve_summary_name, summary_key
from ..table import Table

__all__ = ["EnsembleResult", "EVENT_COLUMNS"]

#: Columns of :meth:`EnsembleResult.events` (and ``events.csv``): one row per host and balance.
EVENT_COLUMNS = ("host", "balance", "members", "p_crossover", "p_sustained_crossover", "median_crossover_date",
                 "median_sustained_crossover_date", "p_negative_pv")


@dataclass(frozen=True, eq=False)
class EnsembleResult(SeriesResult):
    """Members of an ensemble, their drawn parameters and what was kept of their runs.

    The series accessors, ``to_dataframe``, ``save``, ``to_xarray``,
    ``to_netcdf`` and ``plot`` are those of every result
    (:class:`~flowsim.result_core.SeriesResult`, shared with
    :class:`~flowsim.Result`); an ensemble's accessors give every member
    unless asked for one (``member=i``).

    Attributes
    ----------
    scenario : Scenario
        The scenario every member ran (with its own parameter values).
    dims : tuple of Dimension
        The varied parameters (one per parameter and host) and their ranges.
    unit : ndarray, shape (n, d)
        Drawn points of the unit cube.
    values : ndarray, shape (n, d)
        Drawn parameter values, in each dimension's unit (member axis first).
    sampler : str
        ``lhs``, ``sobol`` or ``random``.
    seed : int
        Entropy that reproduces the ensemble: ``ensemble(..., seed=result.seed)``.
    series : SeriesView
        The kept series: a mapping ``name -> ndarray (n, H, D)`` (people, or
        USD/day; built from the dict given), also called for a slice:
        ``ens.series("N", "KAZ")`` is (n, D), ``ens.series("N", "KAZ", member=3)``
        is (D,), as on a :class:`~flowsim.Result`.
    summary_arrays : dict of str to ndarray (n, H)
        The per-host summary figures of every member (days as grid indices,
        -1 where the event does not occur), as :attr:`Result.summary_arrays`.
    scalars : dict of str to ndarray (n, H)
        Extra scalar outputs (``"peak:U"``...).
    stats : dict
        Solver and timing details: ``plan_steps``, ``nfev``, ``fallbacks``
        (members re-solved alone), ``drained_people``, ``bytes_per_member``,
        ``wall_seconds``...
    arrivals : tuple of mapping, optional
        Each member's own arrival schedules ``{host: (Schedule, ...)}`` when
        they differ between members (a posterior sample of pulses, see
        :meth:`PosteriorSample.ensemble <flowsim.PosteriorSample.ensemble>`);
        None when every member has the scenario's.
    """

    scenario: object
    dims: tuple
    unit: np.ndarray
    values: np.ndarray
    sampler: str
    seed: int
    series: dict
    summary_arrays: dict
    scalars: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    arrivals: tuple | None = None

    _what = "this ensemble"
    _default_member = None
    _tables = ("parameters",)

    def __post_init__(self):
        kept = dict(self.series)                    # a dict, or the view of another ensemble (dataclasses.replace)
        object.__setattr__(self, "_kept", kept)
        object.__setattr__(self, "series", SeriesView(self))

    # ----------------------------------------------------------- coordinates
    @property
    def hosts(self) -> tuple[str, ...]:
        return self.scenario.hosts

    @property
    def dates(self) -> np.ndarray:
        """Calendar date of each output day, ``datetime64[D]``, shape (D,)."""
        return self.scenario.dates

    @property
    def n_members(self) -> int:
        return int(self.values.shape[0])

    @property
    def labels(self) -> tuple[str, ...]:
        """Names of the varied dimensions, ``name[HOST]`` or ``name`` for globals."""
        return tuple(d.label for d in self.dims)

    def _pick(self, arr: np.ndarray, host: str | None) -> np.ndarray:
        return arr if host is None else arr[:, self._host(host)]

    # ------------------------------------------------------------ parameters
    def parameters(self) -> list[dict]:
        """The drawn values: one row ``{"member": i, label: value, ...}`` per member."""
        return [{"member": i, **dict(zip(self.labels, map(float, row)))} for i, row in enumerate(self.values)]

    def to_dataframe(self, which: str | None = None, *, member=None):
        """A table of the ensemble as a :class:`pandas.DataFrame` (needs pandas).

        Parameters
        ----------
        which : str
            ``"series"``: the kept series in long format, columns
            ``date, member, host, variable, value`` (one row per member, host,
            series and day), the same table as :meth:`Result.to_dataframe
            <flowsim.Result.to_dataframe>`. ``"parameters"``: the drawn values,
            one row per member (index ``member``), one column per varied
            dimension (``tau_T[KAZ]``...), in each parameter's unit.
            Omitted, ``"series"`` with a :class:`~flowsim.FlowsimWarning`:
            ``to_dataframe()`` used to give the drawn values, now
            ``to_dataframe("parameters")``; name the table to silence it.
        member : int or None
            For ``"series"``: one member, or None (the default) for every member.

        Returns
        -------
        pandas.DataFrame
        """
        if which is None:
            warnings.warn("EnsembleResult.to_dataframe() now gives the kept series as a long table (date, member, "
                          "host, variable, value), the same as Result.to_dataframe(); the drawn parameter values "
                          "it gave before are to_dataframe('parameters'). Name the table (which='series' or "
                          "'parameters') to silence this warning.", FlowsimWarning, stacklevel=2)
            which = "series"
        return super().to_dataframe(which, member=member)

    def _table(self, which: str):
        from .._optional import import_pandas

        return import_pandas().DataFrame(self.values, columns=list(self.labels)).rename_axis("member")

    def member_parameters(self, member: int):
        """The validated :class:`ParameterSet` of one member."""
        if not isinstance(member, (int, np.integer)) or not 0 <= member < self.n_members:
            raise FlowsimError(f"member must be an integer in [0, {self.n_members - 1}]; got {member!r}.")
        return member_parameter_set(self.scenario.params, self.dims, self.values[member])

    def member_scenario(self, member: int):
        """The scenario with one member's parameters (and arrivals), to re-run it alone (``flowsim.run``)."""
        sc = self.scenario.replace(params=self.member_parameters(member))
        return sc if self.arrivals is None else sc.replace(arrivals=dict(self.arrivals[member]))

    # ---------------------------------------------------------------- series
    def _series_names(self) -> tuple[str, ...]:
        return tuple(self._kept)

    def _series_slice(self, variable: str, m, h) -> np.ndarray:
        return self._kept[variable][m, h]

    def _series_array(self, variable: str) -> np.ndarray:
        return self._kept[variable]                 # the array kept, as the dict of series held it

    def _unknown_series(self, variable):
        kept = tuple(self._kept)
        raise FlowsimError(f"series {variable!r} was not kept by this ensemble (kept: {', '.join(kept) or 'none'}); "
                           f"run it with keep=({', '.join(repr(v) for v in (*kept, variable))}).")

    def series_of(self, variable: str, host: str | None = None) -> np.ndarray:
        """Deprecated: ``ens.series(variable, host)`` (the accessor of every result). (n, H, D), or (n, D)."""
        warnings.warn("EnsembleResult.series_of(variable, host) is deprecated: call ens.series(variable, host), "
                      "the same accessor as Result.series (member=None: every member, the default of an ensemble).",
                      FlowsimDeprecationWarning, stacklevel=2)
        return self.series(variable, host)

    def quantiles(self, variable: str, q=QUANTILES, host: str | None = None) -> np.ndarray:
        """Quantiles over the members of a kept series, day by day.

        Parameters
        ----------
        variable : str
            A kept series (``N`` and ``net`` by default).
        q : sequence of float
            Levels in [0, 1] (default 0.05, 0.25, 0.5, 0.75, 0.95).
        host : str, optional
            One host; every host when omitted.

        Returns
        -------
        ndarray, shape (len(q), H, D) or (len(q), D)
            People, or USD/day.
        """
        return member_quantiles(self.series(variable, host, member=None), q)

    def summary_values(self, name: str, host: str | None = None) -> np.ndarray:
        """A summary figure (``"fiscal.pv_usd"``, ``"peak_present"``, v1's ``"pv_net_usd"``) or scalar output
        (``"peak:U"``) of every member: (n, H), or (n,) for one host. Days are grid indices, -1 where none."""
        if name in self.scalars:
            return self._pick(self.scalars[name], host)
        key = resolve_summary_name(name)
        return self._pick(self.summary_arrays[key], host)

    # ---------------------------------------------------------------- events
    def _day(self, date) -> int:
        day = (to_date(date, "date") - self.scenario.start).days
        return int(day)

    @staticmethod
    def _balance(balance: str) -> str:
        if balance not in BALANCES:
            fix = did_you_mean(str(balance), BALANCES)
            raise FlowsimError(f"unknown balance {balance!r}; known: {', '.join(BALANCES)}.{fix}")
        return balance

    def crossover_probability(self, before=None, host: str | None = None, balance: str = DEFAULT_BALANCE, *,
                              sustained: bool = False):
        """Share of the members whose balance crosses (turns from gain to loss) on or before ``before``.

        A share of the sampled scenarios, not a probability of the world,
        unless the members are posterior draws.

        Parameters
        ----------
        before : date or str, optional
            Last date counted; the horizon's end by default.
        host : str, optional
            One host (a float); every host otherwise (an array (H,)).
        balance : str
            One of :data:`~flowsim.model.economy.BALANCES` (default ``"residents"``).
        sustained : bool
            Count sustained crossovers only (negative for ``D_x`` days or more).
        """
        field = "sustained_crossover_day" if sustained else "crossover_day"
        days = self.summary_values(summary_key(field, self._balance(balance)), host)
        last = self.scenario.horizon_days if before is None else self._day(before)
        return probability((days >= 0) & (days <= last))

    def negative_pv_probability(self, host: str | None = None, balance: str = DEFAULT_BALANCE):
        """Share of the members whose balance has a negative present value."""
        return probability(self.summary_values(summary_key("pv_usd", self._balance(balance)), host) < 0)

    def median_crossover_date(self, host: str, balance: str = DEFAULT_BALANCE, *,
                              sustained: bool = False) -> _dt.date | None:
        """Median (sustained) crossover date over the members that have one (None when no member has one)."""
        field = "sustained_crossover_day" if sustained else "crossover_day"
        day = int(median_day(self.summary_values(summary_key(field, self._balance(balance)), host)[:, None])[0])
        return None if day < 0 else self.scenario.start + _dt.timedelta(days=day)

    def crossover_dates(self, host: str, balance: str = DEFAULT_BALANCE, *, sustained: bool = False) -> np.ndarray:
        """(Sustained) crossover date of every member, ``datetime64[D]`` (``NaT`` where none)."""
        field = "sustained_crossover_day" if sustained else "crossover_day"
        days = self.summary_values(summary_key(field, self._balance(balance)), host)
        out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
        out[days >= 0] = np.datetime64(self.scenario.start, "D") + days[days >= 0]
        return out

    def events(self) -> Table:
        """Per host and balance (:data:`EVENT_COLUMNS`): the share of members with a crossover and with a
        sustained crossover within the horizon, the median dates over the members that have one, and the
        share with a negative present value.

        Returns
        -------
        Table
            Rows are dicts (``ens.events()[0]["p_crossover"]``); ``.to_csv()`` is ``events.csv``.
        """
        rows = []
        for h in self.hosts:
            for b in BALANCES:
                rows.append({
                    "host": h, "balance": b, "members": self.n_members,
                    "p_crossover": float(self.crossover_probability(host=h, balance=b)),
                    "p_sustained_crossover": float(self.crossover_probability(host=h, balance=b, sustained=True)),
                    "median_crossover_date": self.median_crossover_date(h, b),
                    "median_sustained_crossover_date": self.median_crossover_date(h, b, sustained=True),
                    "p_negative_pv": float(self.negative_pv_probability(h, b)),
                })
        return Table(tuple(rows), title=f"events over {self.n_members} members", order=EVENT_COLUMNS)

    # -------------------------------------------------------------- exports
    def save(self, path):
        """Save every drawn value, kept array and input to one ``.npz`` file, atomically.

        Load it back with :func:`flowsim.load_result` (every array bit for
        bit); see :mod:`flowsim.result_file` for the layout.

        Parameters
        ----------
        path : str or Path
            Target file; its folder must exist. An existing file is replaced.

        Returns
        -------
        Path

        Raises
        ------
        OutputError
            The folder does not exist or cannot be written, or the path is a folder.
        TypeError
            ``path`` is not a path.
        """
        return save_ensemble(self, path)

    def to_xarray(self):
        """The ensemble as an :class:`xarray.Dataset` (needs the ``xarray`` extra); see
        :func:`flowsim.result_xarray.ensemble_to_xarray`."""
        from ..result_xarray import ensemble_to_xarray

        return ensemble_to_xarray(self)

    def __repr__(self) -> str:
        from .._formatting import ensemble_text

        return ensemble_text(self)

    def _repr_html_(self) -> str:
        from .._formatting import ensemble_html

        return ensemble_html(self)
