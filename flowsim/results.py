"""Labelled results of a run: trajectories, economy series and summaries.

A :class:`Result` holds arrays with named axes

* ``states``  -- (member, host, compartment, date), people;
* ``economy`` -- (member, host, variable, date), USD/day (``net_share_gdp``: 1);

plus the coordinates (``hosts``, ``compartments``, ``variables``, ``dates``),
the per-host summary figures, solver status and the scenario that produced it.
Results are computed once by :func:`flowsim.run`; accessors only slice.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._validation import did_you_mean
from .exceptions import FlowsimDeprecationWarning, FlowsimError, UnknownKeyError
from .hosts import host_index
from .model.economy import BALANCES
from .result_core import SeriesResult, SeriesView
from .result_file import inputs_sha256 as _inputs_sha256
from .result_file import read_result, save_result
from .scenario.layout import Layout
from .summary import (
    BALANCE_FIELDS,
    DEFAULT_BALANCE,
    STATUSES,
    SUMMARY_COLUMNS,
    SUMMARY_FIELDS,
    V1_ALIASES,
    summary_csv_cell,
    summary_key,
)
from .table import Table, csv_cell

__all__ = ["Result", "SummaryTable", "SummaryRow", "SUMMARY_COLUMNS", "load_result"]

class SummaryRow(dict):
    """One row of a :class:`SummaryTable`: a dict whose unknown keys raise a message naming the closest.

    ``row["pv_net"]`` raises :class:`~flowsim.UnknownKeyError` (a ``KeyError``)
    saying ``Did you mean 'pv_usd'?``; v1's names (``pv_net_usd``...) say
    where their figure is now.
    """

    def __missing__(self, key):
        known = ", ".join(self)
        if key in V1_ALIASES:
            balance, name = V1_ALIASES[key].split(".")
            name = SUMMARY_FIELDS[name].column
            raise UnknownKeyError(f"{key!r} is v1's name of the net balance's {name!r}: read "
                                  f"result.summary({balance!r})[host][{name!r}] (this row is balance "
                                  f"{self.get('balance')!r}).")
        raise UnknownKeyError(f"summary row of {self.get('host')!r} ({self.get('balance')}) has no {key!r}; "
                              f"its keys: {known}.{did_you_mean(str(key), list(self))}")


@dataclass(frozen=True, eq=False, repr=False)
class SummaryTable(Table):
    """Summary figures of one member: one row per host and balance (a :class:`~flowsim.table.Table`).

    Attributes
    ----------
    records : tuple of SummaryRow
        Keys of :data:`~flowsim.summary.SUMMARY_COLUMNS`; dates are
        :class:`datetime.date` or None when the event does not occur; money in
        USD or USD/day; ``status`` one of
        :data:`~flowsim.summary.STATUSES`. ``rows`` is the same as a list.

    Examples
    --------
    ``table["KAZ"]`` is a host's row when the table holds one balance;
    ``table["KAZ", "fiscal"]`` always works; ``table[0]`` is the first row.
    ``table.to_csv()`` is the text of ``summary.csv`` (numbers rounded to
    their unit, :data:`~flowsim.summary.SUMMARY_DECIMALS`).
    """

    title: str = "flowsim summary per host and balance"

    @property
    def rows(self) -> list:
        """The rows, as a list of :class:`SummaryRow`."""
        return list(self.records)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(SUMMARY_COLUMNS)

    @property
    def balances(self) -> tuple[str, ...]:
        """The balances in this table, in order."""
        return tuple(dict.fromkeys(row["balance"] for row in self.records))

    def __getitem__(self, key):
        if isinstance(key, (int, slice)) and not isinstance(key, bool):
            return super().__getitem__(key)
        host, balance = key if isinstance(key, tuple) else (key, None)
        if balance is None and len(self.balances) > 1:
            raise FlowsimError(f"this summary holds several balances ({', '.join(self.balances)}): "
                               f"ask for one row as table[{host!r}, 'residents'].")
        for row in self.records:
            if row["host"] == host and (balance is None or row["balance"] == balance):
                return row
        host_index(host, dict.fromkeys(r["host"] for r in self.records), what="this summary")
        fix = did_you_mean(str(balance), self.balances)
        raise FlowsimError(f"balance {balance!r} is not in this summary ({', '.join(self.balances)}).{fix}")

    def csv_cell(self, column: str, value) -> str:
        """A cell of ``summary.csv``: numbers rounded to their unit (:data:`~flowsim.summary.SUMMARY_DECIMALS`)."""
        text = summary_csv_cell(value, SUMMARY_COLUMNS[column])
        return csv_cell(value) if text is None else text

    def to_dataframe(self, columns=None):
        """The table as a :class:`pandas.DataFrame` indexed by host (and balance when it holds several)."""
        index = ["host"] if len(self.balances) == 1 else ["host", "balance"]
        frame = super().to_dataframe()
        frame = frame.set_index(index)
        return frame if columns is None else frame[[c for c in columns if c not in index]]

    def __repr__(self) -> str:
        from ._formatting import summary_text

        return summary_text(self)

    def _repr_html_(self) -> str:
        from ._formatting import summary_html

        return summary_html(self)


@dataclass(frozen=True, eq=False)
class Result(SeriesResult):
    """Outcome of :func:`flowsim.run`: named series on (member, host, date) with the states they come from.

    The series accessors, ``to_dataframe``, ``save``, ``to_xarray``,
    ``to_netcdf`` and ``plot`` are those of every result
    (:class:`~flowsim.result_core.SeriesResult`, shared with
    :class:`~flowsim.EnsembleResult`); a run's accessors give member 0 unless
    asked for another (``member=i``) or every one (``member=None``).

    Attributes
    ----------
    scenario : Scenario
        The inputs (never modified by running).
    params : tuple of ParameterSet
        Parameters of each member (one for a single run).
    hosts : tuple of str
        Coordinates of the host axis.
    layout : Layout
        Compartment positions; ``compartments`` are its names
        ``T, S1..Sk, R, E, U, Ret, Out, In`` (``In``: cumulative entries).
    variables : tuple of str
        Economy variables (:data:`~flowsim.model.economy.ECONOMY_VARIABLES`).
    dates : ndarray of datetime64[D], shape (D,)
        Calendar date of each output day.
    states : ndarray, shape (M, H, C, D)
        People per compartment (``In``: cumulative entries, people).
    economy : ndarray, shape (M, H, V, D)
        Economy series (USD/day; ``net_share_gdp`` dimensionless).
    summary_arrays : dict of str to ndarray (M, H)
        Summary figures per member and host (days as grid indices, -1 none).
    cumulative_arrivals : ndarray, shape (D, H)
        Exact integral of direct arrivals since the start, people.
    realised_arrivals : ndarray, shape (M, D, H), optional
        Direct arrivals each member received since the start, people, when
        they are random draws around ``cumulative_arrivals`` (stochastic mode)
        or when members have their own arrival schedules (their exact
        integrals; ``cumulative_arrivals`` is then member 0's); None otherwise.
    status : ndarray of int, shape (M,)
        Per member: 0 when its numbers keep docs/model.md's invariants, else the
        check it failed (:data:`flowsim.solve.invariants.CHECKS`: 1 finite
        values, 2 non-negative stocks, 3 conservation). Only a batch run with
        ``failures="flag"`` can hold failed members; every other run raises
        :class:`~flowsim.exceptions.IntegrationError` instead.
    member_messages : tuple of str
        Per member, ``""`` or what failed (check, host, value, date, fix).
    message : str
        Solver message, or which members failed and why.
    stats : dict
        Solver statistics (method, tolerances, evaluations...).
    """

    scenario: object
    params: tuple
    hosts: tuple
    layout: Layout
    variables: tuple
    dates: np.ndarray
    states: np.ndarray
    economy: np.ndarray
    summary_arrays: dict
    cumulative_arrivals: np.ndarray
    message: str = ""
    stats: dict = field(default_factory=dict)
    realised_arrivals: np.ndarray | None = None
    status: np.ndarray | None = None
    member_messages: tuple = ()

    def __post_init__(self):
        if self.status is None:
            object.__setattr__(self, "status", np.zeros(self.states.shape[0], dtype=np.int8))

    # ---------------------------------------------------------------- status
    @property
    def success(self) -> bool:
        """Whether every member keeps docs/model.md's invariants (``status`` all 0)."""
        return bool(np.all(self.status == 0))

    @property
    def member_success(self) -> np.ndarray:
        """Per member, whether its numbers keep docs/model.md's invariants, shape (M,)."""
        return self.status == 0

    # ----------------------------------------------------------- coordinates
    @property
    def compartments(self) -> tuple[str, ...]:
        """Names along the compartment axis."""
        return self.layout.names

    @property
    def n_members(self) -> int:
        return self.states.shape[0]

    @property
    def t(self) -> np.ndarray:
        """Days since the start, shape (D,)."""
        return np.arange(self.dates.size)

    # --------------------------------------------------------------- series
    @property
    def present(self) -> np.ndarray:
        """Present population ``N`` (member, host, date), people."""
        return self.states[:, :, self.layout.present].sum(axis=2)

    @property
    def variable_names(self) -> tuple[str, ...]:
        """Every name :attr:`series` knows: the compartments, ``S``, ``N`` and the economy variables."""
        return (*self.compartments, "S", "N", *self.variables)

    @property
    def series(self) -> SeriesView:
        """The named series: ``result.series(variable, host=None, member=0)``, or a mapping of (M, H, D) arrays.

        Called, one variable over time (:class:`~flowsim.result_core.SeriesView`):

        Parameters
        ----------
        variable : str
            A compartment (``T``, ``S1``..., ``Ret``, ``Out``, ``In``), ``S``
            (all savings stages), ``N`` (present), or an economy variable
            (``spending``, ... ``net``, ``net_share_gdp``):
            :attr:`variable_names`.
        host : str, optional
            Host code; all hosts when omitted.
        member : int or None
            Member (0 by default: a single run has one); None for every
            member, with a leading member axis.

        Returns
        -------
        ndarray, shape (D,) or (H, D); (M, D) or (M, H, D) for ``member=None``
            People, or USD/day for economy variables (``*_share_gdp`` and
            ``rent_rise``: shares).

        Examples
        --------
        >>> import flowsim
        >>> res = flowsim.run(flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30))
        >>> res.series("N", "KAZ").shape, res.series["N"].shape == (1, len(res.hosts), 31)
        ((31,), True)
        """
        return SeriesView(self)

    def _series_names(self) -> tuple[str, ...]:
        return self.variable_names

    def _series_slice(self, variable: str, m, h) -> np.ndarray:
        if variable in self.compartments:
            return self.states[m, h, self.compartments.index(variable)]
        if variable == "S":
            return self.states[m, h, self.layout.S].sum(axis=-2)
        if variable == "N":
            return self.present[m, h]
        return self.economy[m, h, self.variables.index(variable)]

    def _unknown_series(self, variable):
        fix = did_you_mean(str(variable), self.variable_names)
        raise FlowsimError(f"unknown variable {variable!r}; known: {', '.join(self.variable_names)}.{fix}")

    def host_compartments(self, host: str, member: int = 0) -> dict[str, np.ndarray]:
        """Every compartment of ``host`` plus ``S`` and ``N``, people per day."""
        names = (*self.compartments, "S", "N")
        return {n: self.series(n, host, member) for n in names}

    def host_economy(self, host: str, member: int = 0) -> dict[str, np.ndarray]:
        """Every economy variable of ``host``, USD/day (``net_share_gdp``: share)."""
        return {v: self.series(v, host, member) for v in self.variables}

    # ------------------------------------------------------------ invariants
    def conservation_error(self) -> float:
        """Largest relative error of ``sum_h (N + Ret + Out)`` against arrivals plus initial stocks.

        The arrivals are ``realised_arrivals`` when the solver drew them
        (stochastic mode: conserved exactly, so the error is 0), otherwise the
        exact integral ``cumulative_arrivals``.

        Returns
        -------
        float
            ``max_t |people(t) - expected(t)| / max(expected(t), 1)`` over all
            members and output days.
        """
        people = self.states[:, :, self.layout.people].sum(axis=(1, 2))   # (M, D)
        initial = people[:, :1]                                            # (M, 1)
        arrived = (self.cumulative_arrivals[None] if self.realised_arrivals is None
                   else self.realised_arrivals)                            # (M or 1, D, H)
        expected = initial + arrived.sum(axis=2)
        return float((np.abs(people - expected) / np.maximum(expected, 1.0)).max())

    def min_relative_stock(self) -> float:
        """Most negative compartment value relative to the total people (0 if none)."""
        total = np.maximum(self.states[:, :, self.layout.people].sum(axis=(1, 2)).max(), 1.0)
        return float(min(self.states.min(), 0.0) / total)

    # -------------------------------------------------------------- summary
    def summary(self, balance: str = DEFAULT_BALANCE, member: int = 0) -> SummaryTable:
        """Summary figures of one member per host, for one balance or all.

        Parameters
        ----------
        balance : str
            One of :data:`~flowsim.model.economy.BALANCES` (default
            ``"residents"``: what the host's residents gain or lose, the
            account that answers "boost or burden, for the host"), or
            ``"all"`` for every balance (the rows of ``summary.csv``).
        member : int
            Member index.

        Returns
        -------
        SummaryTable
            One row per host (and balance), columns
            :data:`~flowsim.summary.SUMMARY_COLUMNS`.

        Examples
        --------
        >>> import flowsim
        >>> res = flowsim.run(flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30))
        >>> res.summary("fiscal")["KAZ"]["status"] in flowsim.STATUSES
        True
        """
        if isinstance(balance, int) and not isinstance(balance, bool):      # v1: summary(member)
            balance, member = DEFAULT_BALANCE, balance
        if balance == "all":
            balances = BALANCES
        elif balance in BALANCES:
            balances = (balance,)
        else:
            fix = did_you_mean(str(balance), (*BALANCES, "all"))
            raise FlowsimError(f"unknown balance {balance!r}; known: {', '.join(BALANCES)}, or 'all'.{fix}")
        m = self._member(member)
        rows = []
        for h, host in enumerate(self.hosts):
            for b in balances:
                row = {"host": host, "balance": b, "peak_present": float(self.summary_arrays["peak_present"][m, h])}
                for name in BALANCE_FIELDS:
                    value, field = self.summary_arrays[summary_key(name, b)][m, h], SUMMARY_FIELDS[name]
                    if field.kind == "status":
                        row[name] = STATUSES[int(value)]
                    elif field.kind == "day":
                        row[field.column] = self.date_of(value)
                    else:
                        row[name] = _none_if_nan(value)
                rows.append(SummaryRow((c, row[c]) for c in SUMMARY_COLUMNS))
        return SummaryTable(rows)

    def date_of(self, day) -> _dt.date | None:
        """Calendar date of grid day ``day`` (None for -1)."""
        day = int(day)
        if day < 0:
            return None
        return _dt.date.fromisoformat(str(self.dates[day]))

    # -------------------------------------------------------------- exports
    def to_dataframe(self, which: str = "series", *, member=0):
        """The series as one long table ``date, member, host, variable, value`` (needs pandas).

        The same table as on every result (:meth:`SeriesResult.to_dataframe
        <flowsim.result_core.SeriesResult.to_dataframe>`): one row per member,
        host, series (:attr:`variable_names`) and day; values in people, or
        USD/day for economy variables.

        Parameters
        ----------
        which : str
            ``"series"`` (the only table of a run; its summary figures are
            ``result.summary().to_dataframe()``).
        member : int or None
            One member (0 by default), or None for every member.

        Returns
        -------
        pandas.DataFrame
        """
        if which is None or (isinstance(which, (int, np.integer)) and not isinstance(which, bool)):
            warnings.warn(f"Result.to_dataframe({which!r}): the member is now a keyword, "
                          f"to_dataframe(member={which!r}); the first argument names the table (which='series').",
                          FlowsimDeprecationWarning, stacklevel=2)
            which, member = "series", which
        return super().to_dataframe(which, member=member)

    def save(self, path):
        """Save every array, label and input to one ``.npz`` file, atomically.

        Load it back with :func:`flowsim.load_result`; see
        :mod:`flowsim.result_file` for the layout.

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
            The folder does not exist or cannot be written, the path is a
            folder, or a member of the result failed.
        TypeError
            ``path`` is not a path.
        """
        return save_result(self, path)

    def inputs_sha256(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the resolved inputs (scenario and members)."""
        return _inputs_sha256(self)

    def to_xarray(self):
        """The result as an :class:`xarray.Dataset` (needs the ``xarray`` extra)."""
        from .result_xarray import to_xarray

        return to_xarray(self)

    def __repr__(self) -> str:
        from ._formatting import result_text

        return result_text(self)

    def _repr_html_(self) -> str:
        from ._formatting import result_html

        return result_html(self)


def _none_if_nan(x):
    x = float(x)
    return None if np.isnan(x) else x


def load_result(path) -> Result:
    """Load a :class:`Result` saved with :meth:`Result.save`.

    :func:`flowsim.load_result` (:func:`flowsim.io.load_result`) loads every
    kind of saved result, an :class:`~flowsim.EnsembleResult` too; this one
    (``flowsim.results.load_result``, its home before ensembles could be
    saved) loads runs only.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Result
        Every array and label exactly as saved; ``scenario`` and ``params``
        rebuilt from the stored inputs (running ``scenario`` again gives the
        same arrays).

    Raises
    ------
    ResultFileError
        Missing, truncated or corrupted file, a file that is not a flowsim
        result (or holds an ensemble), one from a newer format, or arrays,
        inputs or metadata that do not match their hashes (an edited file);
        the message names the file and the array (:mod:`flowsim.result_file`).
    TypeError
        ``path`` is not a path (e.g. ``None``).

    Examples
    --------
    >>> import flowsim, pathlib, tempfile
    >>> res = flowsim.run(flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30))
    >>> path = res.save(pathlib.Path(tempfile.mkdtemp()) / "run.npz")
    >>> back = load_result(path)
    >>> bool((back.states == res.states).all()), back.scenario.name
    (True, 'kazakhstan-2022')
    """
    return Result(**read_result(path))
