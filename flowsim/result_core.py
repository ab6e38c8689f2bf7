"""The core every result of series extends: named series on shared coordinates (member, host, date).

A :class:`~flowsim.Result` (one run or a batch) and an
:class:`~flowsim.EnsembleResult` hold the same kind of data: for each named
series (``N``, ``net``, ``T``...) an array of shape (member, host, date), plus
per-member summary figures. :class:`SeriesResult` gives both the same
accessors, in the spirit of an :class:`xarray.Dataset` but with NumPy only:

* ``result.series`` -- a read-only mapping ``name -> ndarray (M, H, D)`` that is
  also called for one slice: ``result.series("N", "KAZ", member=3)``
  (:class:`SeriesView`);
* ``result.to_dataframe()`` -- the series as one long table
  ``date, member, host, variable, value`` on every result;
* ``result.save(path)`` / :func:`flowsim.load_result`, ``result.to_xarray()``,
  ``result.to_netcdf(path)``;
* ``result.plot`` -- the same figures on every result
  (:class:`ResultPlots`: ``result.plot.series("N")``...).

The only difference is the default member: a :class:`Result` is a run, so
its accessors give member 0 unless asked; an ensemble's give every member.
``member=None`` asks for every member and ``member=i`` for one, on both.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np

from ._optional import import_pandas
from .exceptions import FlowsimError
from .hosts import host_index
from .model.economy import ECONOMY_UNITS
from .result_file import target_path

__all__ = ["SeriesResult", "SeriesView", "ResultPlots", "DATAFRAME_COLUMNS", "series_unit"]

#: Columns of ``to_dataframe()`` (``which="series"``) on every result, in order: one row per member,
#: host, series and day (long format).
DATAFRAME_COLUMNS = ("date", "member", "host", "variable", "value")


def series_unit(variable: str) -> str:
    """The unit of a named series: ``people`` for stocks (compartments, ``S``, ``N``), else the economy unit."""
    return ECONOMY_UNITS.get(variable, "people")


class SeriesView(Mapping):
    """The named series of a result: a mapping ``name -> ndarray (member, host, date)``, called for a slice.

    ``view["N"]`` is every member's ``N`` (shape (M, H, D); people, or USD/day
    for economy series); ``"net" in view``, ``list(view)`` and ``view.items()``
    work as on a dict. Calling it slices one series::

        result.series("N")                  # (H, D): member 0 of a run; (M, H, D) for an ensemble
        result.series("N", "KAZ")           # (D,) for a run; (M, D) for an ensemble
        result.series("N", "KAZ", member=3) # (D,) on both
        result.series("N", member=None)     # (M, H, D) on both

    A call takes ``variable`` (a series name, ``list(view)``), ``host`` (a
    host code; every host when omitted) and ``member``: one member
    (``0 <= member < M``, or negative from the end) or ``None`` for every member
    (a leading member axis); omitted, 0 for a :class:`~flowsim.Result` and
    every member for an :class:`~flowsim.EnsembleResult`.

    Raises
    ------
    UnknownHostError
        ``host`` is not a host of the result (the message names the closest).
    FlowsimError
        An unknown series (the message lists the known ones) or a member out
        of range.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner: SeriesResult):
        self._owner = owner

    def __call__(self, variable: str, host: str | None = None, member=...) -> np.ndarray:
        return self._owner._series_call(variable, host, member)

    def __getitem__(self, variable: str) -> np.ndarray:
        if variable not in self._owner._series_names():
            self._owner._unknown_series(variable)
        return self._owner._series_array(variable)

    def __iter__(self):
        return iter(self._owner._series_names())

    def __len__(self) -> int:
        return len(self._owner._series_names())

    def __contains__(self, variable) -> bool:
        return variable in self._owner._series_names()

    def __repr__(self) -> str:
        return (f"<series of {self._owner._what}: {', '.join(self)}; (member, host, date) = "
                f"({self._owner.n_members}, {len(self._owner.hosts)}, {len(self._owner.dates)})>")


class SeriesResult:
    """Named series on (member, host, date): what :class:`~flowsim.Result` and :class:`~flowsim.EnsembleResult` share.

    A subclass provides ``hosts`` (tuple of str), ``dates`` (datetime64[D],
    shape (D,)), ``n_members``, ``series`` (a :class:`SeriesView` of itself),
    and three hooks: ``_series_names()`` (the names, in order),
    ``_series_slice(variable, member, host)`` (``member`` and ``host`` an
    index or ``slice(None)``; the name already checked) and
    ``_unknown_series(variable)`` (raises); plus ``save``, ``to_xarray`` and
    the ``which`` tables of its own in ``_table``.
    """

    #: The object named in error messages ("host 'KZA' is not in this result").
    _what: ClassVar[str] = "this result"
    #: The member the accessors give when none is asked for: 0 (a run), or None (every member).
    _default_member: ClassVar[int | None] = 0
    #: The tables ``to_dataframe(which=...)`` knows besides ``"series"``.
    _tables: ClassVar[tuple[str, ...]] = ()

    # ----------------------------------------------------------- coordinates
    def _host(self, host: str) -> int:
        return host_index(host, self.hosts, what=self._what)

    def _member(self, member, *, every: str = "") -> int:
        n = self.n_members
        if isinstance(member, bool) or not isinstance(member, (int, np.integer)) or not -n <= member < n:
            raise FlowsimError(f"member must be an integer in [0, {n - 1}]{every}; got {member!r}.")
        return int(member)

    def _members(self, member) -> int | slice:
        """A member index, or every member (``slice(None)``) for None; omitted (``...``): the default."""
        member = self._default_member if member is ... else member
        return slice(None) if member is None else self._member(member, every=" (or None for every member)")

    # --------------------------------------------------------------- series
    def _series_call(self, variable: str, host: str | None, member) -> np.ndarray:
        m = self._members(member)
        h = slice(None) if host is None else self._host(host)
        if variable not in self._series_names():
            self._unknown_series(variable)
        return self._series_slice(variable, m, h)

    def _series_array(self, variable: str) -> np.ndarray:
        """Every member's and host's ``variable``, (M, H, D) (the name already checked)."""
        return self._series_slice(variable, slice(None), slice(None))

    def series_unit(self, variable: str) -> str:
        """The unit of a series (``people``, ``USD/day``, or a share); see :func:`series_unit`."""
        if variable not in self._series_names():
            self._unknown_series(variable)
        return series_unit(variable)

    # --------------------------------------------------------------- tables
    def to_dataframe(self, which: str | None = None, *, member=...):
        """A table of the result as a :class:`pandas.DataFrame` (needs pandas).

        Parameters
        ----------
        which : str, optional
            ``"series"`` (the default): every series in long format, columns
            :data:`DATAFRAME_COLUMNS` (``date, member, host, variable, value``),
            one row per member, host, series and day, in that order; values
            in the series' unit (people, USD/day or a share). The same on
            every result. An :class:`~flowsim.EnsembleResult` also knows
            ``"parameters"`` (the drawn values, one row per member).
        member : int or None, optional
            For ``"series"``: one member, or None for every member. Omitted:
            member 0 of a :class:`~flowsim.Result`, every member of an
            ensemble.

        Returns
        -------
        pandas.DataFrame
        """
        which = "series" if which is None else which
        if which != "series":
            if which not in self._tables:
                allowed = ", ".join(repr(w) for w in ("series", *self._tables))
                raise FlowsimError(f"to_dataframe: which must be one of {allowed}; got {which!r}.")
            return self._table(which)
        pd = import_pandas()
        m = self._members(member)
        members = np.arange(self.n_members)[m].reshape(-1)
        names = self._series_names()
        hosts = np.asarray(self.hosts, dtype=object)
        d = len(self.dates)
        # (M, H, V, D): member, host, series, day -- the row order of the table
        values = np.stack([np.asarray(self._series_slice(n, m, slice(None))).reshape(members.size, hosts.size, d)
                           for n in names], axis=2)
        reps = members.size * hosts.size * len(names)
        return pd.DataFrame({
            "date": np.tile(np.asarray(self.dates, dtype="datetime64[D]"), reps),
            "member": np.repeat(members, hosts.size * len(names) * d),
            "host": np.repeat(np.tile(hosts, members.size), len(names) * d),
            "variable": np.tile(np.repeat(np.asarray(names, dtype=object), d), members.size * hosts.size),
            "value": values.reshape(-1),
        })

    def _table(self, which: str):
        raise NotImplementedError(which)

    # -------------------------------------------------------------- exports
    def to_netcdf(self, path) -> Path:
        """Write :meth:`to_xarray` to a NetCDF-3 file, atomically (SciPy's writer; needs the ``xarray`` extra).

        Parameters
        ----------
        path : str or Path
            Target file (``.nc``); its folder must exist. An existing file is replaced.

        Returns
        -------
        Path

        Raises
        ------
        OutputError
            The folder does not exist or cannot be written.
        """
        from .result_xarray import write_netcdf

        return write_netcdf(self.to_xarray(), target_path(path, "to_netcdf"))

    # ---------------------------------------------------------------- plots
    @property
    def plot(self) -> ResultPlots:
        """The figures of this result: ``result.plot.series("N")``, ``.accounts()``... (:class:`ResultPlots`)."""
        return ResultPlots(self)


class ResultPlots:
    """The figures of a result, the same on every result: ``result.plot.<figure>(...)``.

    Every method draws a new figure (or into ``fig`` when given) and returns
    the :class:`matplotlib.figure.Figure`; the figures are titled, their axes
    labelled with units and dates, with a legend. They dispatch to
    :mod:`flowsim.plotting` (matplotlib is imported on first use).

    ``series`` works on every result. ``accounts``, ``population`` and
    ``boost_burden`` need the full states and economy of a run (a
    :class:`~flowsim.Result`); ``crossovers`` needs members' crossover dates
    (an :class:`~flowsim.EnsembleResult`). Asked of a result that lacks
    them, they say how to get it.
    """

    __slots__ = ("_result",)

    def __init__(self, result: SeriesResult):
        self._result = result

    def __repr__(self) -> str:
        return f"<plots of {self._result._what}: series, accounts, population, boost_burden, crossovers>"

    def series(self, variable: str = "N", *, hosts=None, member=..., fig=None):
        """One series per host panel: a line for one member, median and bands (50%, 90%) over several.

        Parameters
        ----------
        variable : str
            A series name (``list(result.series)``): ``N`` (people present),
            ``net``, an account (USD/day), a compartment...
        hosts : sequence of str, optional
            The host panels, in order; every host by default.
        member : int or None, optional
            One member (a line), or None for every member (a fan when there
            are several). Omitted: member 0 of a :class:`~flowsim.Result`,
            every member of an ensemble.
        fig : matplotlib Figure, optional

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plotting.result_core import plot_series_grid

        return plot_series_grid(self._result, variable, hosts=hosts, member=member, fig=fig)[0]

    def _run(self, figure: str):
        if not hasattr(self._result, "states"):
            raise FlowsimError(
                f"plot.{figure}() draws a run's full states and economy; {self._result._what} keeps only the "
                f"series {', '.join(self._result.series)}. Plot a kept series with plot.series(...), or re-run "
                "one member and plot that: flowsim.run(ens.member_scenario(i)).plot." + figure + "().")
        return self._result

    def accounts(self, *, member: int = 0, hosts=None, balances=None, days: int | None = None, fig=None):
        """Each host's accounts (money brought in, value added, public budget, residents) by channel.

        See :func:`flowsim.plotting.plot_accounts_grid`; ``balances`` its
        panels (default every account). Returns the Figure.
        """
        from .plotting.accounts import plot_accounts_grid

        kwargs = {} if balances is None else {"balances": tuple(balances)}
        return plot_accounts_grid(self._run("accounts"), member=member, hosts=hosts, days=days, fig=fig,
                                  **kwargs)[0]

    def population(self, *, member: int = 0, days: int | None = None, fig=None):
        """People per compartment and host, thousands (:func:`flowsim.plotting.plot_population_grid`)."""
        from .plotting.population import plot_population_grid

        return plot_population_grid(self._run("population"), member=member, days=days, fig=fig)[0]

    def boost_burden(self, *, member: int = 0, days: int | None = None, fig=None):
        """Boost, burden and net per host, USD/day (:func:`flowsim.plotting.plot_boost_burden_grid`)."""
        from .plotting.economy import plot_boost_burden_grid

        return plot_boost_burden_grid(self._run("boost_burden"), member=member, days=days, fig=fig)[0]

    def crossovers(self, *, hosts=None, balance: str = "residents", sustained: bool = True, bins: int = 30,
                   fig=None):
        """When each host's balance turns from gain to loss, over the members (an ensemble's histogram).

        See :func:`flowsim.plotting.plot_crossover_histogram`. Returns the Figure.
        """
        if not hasattr(self._result, "crossover_dates"):
            raise FlowsimError("plot.crossovers() draws the members' crossover dates of an ensemble "
                               "(flowsim.ensemble); a run's crossover dates are in result.summary().")
        from .plotting.uncertainty import plot_crossover_histogram

        return plot_crossover_histogram(self._result, hosts=hosts, balance=balance, sustained=sustained,
                                        bins=bins, fig=fig)[0]
