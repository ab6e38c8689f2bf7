"""Summaries per host and balance (docs/model.md v2, "Summaries").

Every summary is the same function applied to each balance (``inflow``,
``value_added``, ``fiscal``, ``residents``, ``net``). All functions work on the
daily grid ``t = 0..horizon`` and on arrays with any leading axes (members,
hosts); days that do not occur are reported as ``-1``, statuses as codes into
:data:`STATUSES`.

One registry, :data:`SUMMARY_FIELDS`, names every summary figure with its unit
and kind; tables, CSV files, comparisons, ensembles and the sensitivity
analysis read it instead of listing columns of their own. A figure of a
balance is addressed as ``"BALANCE.FIELD"`` (``"fiscal.pv_usd"``); host
figures (``peak_present``) by their name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import did_you_mean
from .exceptions import FlowsimError
from .model.economy import BALANCES

__all__ = [
    "SHORT_TERM_DAYS", "LONG_TERM_FROM", "FADE_WINDOWS", "TOL_USD", "TOL_RELATIVE", "STATUSES", "DEFAULT_BALANCE",
    "SummaryField", "SUMMARY_FIELDS", "HOST_FIELDS", "BALANCE_FIELDS", "SUMMARY_COLUMNS", "V1_ALIASES",
    "summary_key", "resolve_summary_name", "summary_field",
    "first_day", "peak", "signs", "crossover_day", "sustained_crossover_day", "status_codes", "cumulative",
    "present_value", "breakeven_day", "window_mean", "fade_ratio", "balance_summary", "summary_arrays",
]

#: Short-term window: days 0..89.
SHORT_TERM_DAYS = 90
#: Long-term window starts on day 366 and runs to the horizon.
LONG_TERM_FROM = 366
#: Fade ratio of ``inflow``: mean over days 365..729 / mean over days 0..364.
FADE_WINDOWS = ((0, 365), (365, 730))
#: A day is positive if ``x > tol`` and negative if ``x < -tol``, ``tol = max(TOL_USD, TOL_RELATIVE * max|x|)``.
TOL_USD = 1.0
TOL_RELATIVE = 1e-9
#: Status of a balance, docs/model.md's words; arrays hold the index into this tuple.
STATUSES = ("never_negative", "never_positive", "sustained", "censored", "dip", "turns_positive", "zero")
#: The balance :meth:`Result.summary` shows by default: what the host's residents gain or lose (docs/model.md v2).
DEFAULT_BALANCE = "residents"


@dataclass(frozen=True)
class SummaryField:
    """One summary figure.

    Attributes
    ----------
    name : str
        Column name in ``summary.csv`` (``pv_usd``); days are stored as
        ``*_day`` grid indices and shown as ``*_date`` columns.
    unit : str
        ``people``, ``USD``, ``USD/day``, ``day``, ``1`` or ``""`` (status).
    kind : {"value", "day", "status"}
        A number, a day of the grid (-1: does not occur), or a status code.
    scope : {"host", "balance"}
        One per host, or one per host and balance.
    description : str
        One-line meaning.
    """

    name: str
    unit: str
    kind: str
    scope: str
    description: str

    @property
    def column(self) -> str:
        """The table column: ``*_day`` fields appear as ``*_date``."""
        return self.name[:-4] + "_date" if self.kind == "day" else self.name


_FIELDS = (
    SummaryField("peak_present", "people", "value", "host", "largest present population N"),
    SummaryField("peak_present_day", "day", "day", "host", "first day N reaches its peak"),
    SummaryField("status", "", "status", "balance", "what the balance does: one of " + ", ".join(STATUSES)),
    SummaryField("peak_usd_per_day", "USD/day", "value", "balance", "largest value of the balance"),
    SummaryField("peak_day", "day", "day", "balance", "first day the peak is reached (none if the balance is zero)"),
    SummaryField("crossover_day", "day", "day", "balance", "first negative day after a positive day"),
    SummaryField("sustained_crossover_day", "day", "day", "balance",
                 "first day after a positive day from which the balance stays negative for D_x days"),
    SummaryField("breakeven_day", "day", "day", "balance",
                 "first day the cumulative balance has the opposite sign of its first |C| > 1 USD"),
    SummaryField("cumulative_usd", "USD", "value", "balance", "sum of the balance over the horizon"),
    SummaryField("pv_usd", "USD", "value", "balance", "present value at the annual discount rate r"),
    SummaryField("short_term_usd_per_day", "USD/day", "value", "balance", "mean over days 0..89"),
    SummaryField("long_term_usd_per_day", "USD/day", "value", "balance", "mean over days 366..horizon"),
    SummaryField("fade_ratio", "1", "value", "balance",
                 "inflow only: mean over days 365..729 / mean over days 0..364"),
)

#: Every summary field by name, in the column order of ``summary.csv``.
SUMMARY_FIELDS: dict[str, SummaryField] = {f.name: f for f in _FIELDS}
#: Names of the fields with one value per host.
HOST_FIELDS = tuple(f.name for f in _FIELDS if f.scope == "host")
#: Names of the fields with one value per host and balance.
BALANCE_FIELDS = tuple(f.name for f in _FIELDS if f.scope == "balance")

#: Columns of a summary table (``summary.csv``): one row per host and balance, with units.
SUMMARY_COLUMNS = {
    "host": "", "balance": "", "status": "", "peak_present": "people",
    **{SUMMARY_FIELDS[f].column: ("date" if SUMMARY_FIELDS[f].kind == "day" else SUMMARY_FIELDS[f].unit)
       for f in BALANCE_FIELDS if f != "status"},
}

#: Decimals of the numbers in ``summary.csv`` by unit (``None``: 6 significant digits). People to 0.01 of
#: a person, money to the whole USD (a balance below 1 USD/day counts as zero: docs/model.md).
SUMMARY_DECIMALS = {"people": 2, "USD": 0, "USD/day": 0, "1": None}


def summary_csv_cell(value, unit: str) -> str | None:
    """A number of ``summary.csv`` rounded to its unit (:data:`SUMMARY_DECIMALS`); None: not a rounded number."""
    if not isinstance(value, float) or unit not in SUMMARY_DECIMALS:
        return None
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return repr(value)
    decimals = SUMMARY_DECIMALS[unit]
    if decimals is None:
        return f"{value:.6g}"
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text       # no "-0"


#: v1 names of the net summary figures, still accepted where a summary figure is named.
V1_ALIASES = {
    "pv_net_usd": "net.pv_usd",
    "cum_net_usd": "net.cumulative_usd",
    "crossover_day": "net.crossover_day",
    "breakeven_day": "net.breakeven_day",
    "short_term_net_usd_per_day": "net.short_term_usd_per_day",
    "long_term_net_usd_per_day": "net.long_term_usd_per_day",
}


def summary_key(field: str, balance: str | None = None) -> str:
    """The key of a summary figure: ``"BALANCE.FIELD"``, or the field's name for a host figure."""
    return field if balance is None else f"{balance}.{field}"


def _known_names() -> list[str]:
    return [*HOST_FIELDS, *(summary_key(f, b) for b in BALANCES for f in BALANCE_FIELDS), *V1_ALIASES]


def resolve_summary_name(name: str) -> str:
    """The key of a named summary figure (v1 aliases resolved), or a :class:`FlowsimError` with suggestions.

    Examples
    --------
    >>> resolve_summary_name("fiscal.pv_usd"), resolve_summary_name("pv_net_usd")
    ('fiscal.pv_usd', 'net.pv_usd')
    """
    name = V1_ALIASES.get(name, name)
    if name in HOST_FIELDS:
        return name
    balance, _, field = str(name).partition(".")
    if balance in BALANCES and field in BALANCE_FIELDS:
        return name
    fix = did_you_mean(str(name), _known_names())
    raise FlowsimError(f"unknown summary figure {name!r}; name one as BALANCE.FIELD with BALANCE in "
                       f"{', '.join(BALANCES)} and FIELD in {', '.join(BALANCE_FIELDS)} (e.g. 'residents.pv_usd'), "
                       f"or {', '.join(HOST_FIELDS)}.{fix}")


def summary_field(key: str) -> SummaryField:
    """The :class:`SummaryField` of a key (``"fiscal.pv_usd"`` -> ``pv_usd``)."""
    key = resolve_summary_name(key)
    return SUMMARY_FIELDS[key.partition(".")[2] or key]


def first_day(mask: np.ndarray) -> np.ndarray:
    """Index of the first True along the last axis, or -1 where none."""
    mask = np.asarray(mask, bool)
    idx = mask.argmax(axis=-1)
    hit = np.take_along_axis(mask, idx[..., None], axis=-1)[..., 0]      # argmax is 0 when nothing is True
    return np.where(hit, idx, -1)


def peak(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest value along the last axis and the first day it is reached."""
    return series.max(axis=-1), series.argmax(axis=-1)


def signs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative days: ``x > tol`` and ``x < -tol``, ``tol = max(1 USD/day, 1e-9 max|x|)``.

    Solver residue (``|x| <= tol``) is neither.
    """
    x = np.asarray(x, float)
    tol = np.maximum(TOL_USD, TOL_RELATIVE * np.abs(x).max(axis=-1, keepdims=True))
    return x > tol, x < -tol


def _after_positive(pos: np.ndarray) -> np.ndarray:
    """Whether some earlier day (strictly before) is positive."""
    was = np.maximum.accumulate(pos, axis=-1)
    return np.concatenate([np.zeros_like(was[..., :1]), was[..., :-1]], axis=-1)


def crossover_day(x: np.ndarray) -> np.ndarray:
    """First negative day after a positive day (-1 if none), with :func:`signs`' tolerance."""
    pos, neg = signs(x)
    return first_day(neg & _after_positive(pos))


def _negative_runs(neg: np.ndarray) -> np.ndarray:
    """Length of the run of negative days starting at each day (0 on a day that is not negative)."""
    D = neg.shape[-1]
    days = np.arange(D)
    stop = np.where(neg, D, days)                                       # a non-negative day stops a run
    next_stop = np.minimum.accumulate(stop[..., ::-1], axis=-1)[..., ::-1]
    return next_stop - days


def sustained_crossover_day(x: np.ndarray, D_x) -> np.ndarray:
    """First day ``t`` after a positive day with days ``t..t+D_x-1`` all negative, inside the horizon (-1 if none).

    Parameters
    ----------
    x : ndarray (..., D)
        A balance, USD/day.
    D_x : int or ndarray
        Days, broadcast over the leading axes.
    """
    pos, neg = signs(x)
    runs = _negative_runs(neg)
    return first_day(neg & _after_positive(pos) & (runs >= np.asarray(D_x)[..., None]))


def status_codes(x: np.ndarray, D_x) -> np.ndarray:
    """docs/model.md's status of each balance, as indices into :data:`STATUSES` (int8).

    Examples
    --------
    >>> import numpy as np
    >>> [STATUSES[c] for c in status_codes(np.array([[5., -5, -5, 5], [5., 5, -5, -5]]), 2)]
    ['sustained', 'sustained']
    >>> [STATUSES[c] for c in status_codes(np.array([[5., -5, 5, 5], [5., 5, 5, -5]]), 2)]
    ['dip', 'censored']
    """
    x = np.asarray(x, float)
    pos, neg = signs(x)
    after = _after_positive(pos)
    runs = _negative_runs(neg)
    cross = (neg & after).any(axis=-1)
    sustained = (neg & after & (runs >= np.asarray(D_x)[..., None])).any(axis=-1)
    D = x.shape[-1]
    final_start = first_day(runs + np.arange(D) == D)                   # start of a negative run to the horizon
    censored = (final_start >= 0) & np.take_along_axis(after, np.maximum(final_start, 0)[..., None], -1)[..., 0]
    any_pos, any_neg = pos.any(axis=-1), neg.any(axis=-1)
    code = np.full(x.shape[:-1], STATUSES.index("turns_positive"), dtype=np.int8)
    for name, where in reversed((
        ("zero", ~any_pos & ~any_neg),
        ("never_negative", ~any_neg),
        ("never_positive", ~any_pos),
        ("sustained", sustained),
        ("censored", censored),
        ("dip", cross),
    )):
        code[where] = STATUSES.index(name)                                # the first matching rule wins
    return code


def cumulative(x: np.ndarray) -> np.ndarray:
    """``C(t) = sum_{u<=t} x(u)`` along the last axis (USD when x is USD/day)."""
    return np.cumsum(x, axis=-1)


def present_value(x: np.ndarray, r) -> np.ndarray:
    """``sum_t x(t) * (1 + r) ** (-t / 365)``; ``r`` per year, broadcast over leading axes."""
    t = np.arange(x.shape[-1])
    disc = (1.0 + np.asarray(r, float)[..., None]) ** (-t / 365.0)
    return np.einsum("...d,...d->...", x, np.broadcast_to(disc, x.shape))


def breakeven_day(cum: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """First day after ``t0`` (first ``|C| > threshold``) where ``C`` has the opposite sign.

    Parameters
    ----------
    cum : ndarray
        Cumulative balance along the last axis, USD.
    threshold : float
        USD; ``t0`` is the first day with ``|C(t0)| > threshold`` (docs/model.md: 1 USD).
    """
    t0 = first_day(np.abs(cum) > threshold)
    sign0 = np.sign(np.take_along_axis(cum, np.maximum(t0, 0)[..., None], axis=-1))
    sign0[t0 < 0] = 0.0                                  # no t0: nothing can turn
    turned = cum * sign0 < 0                             # opposite sign of C(t0)
    turned &= np.arange(cum.shape[-1]) > t0[..., None]   # after t0
    return first_day(turned)


def window_mean(series: np.ndarray, start: int, stop: int | None) -> np.ndarray:
    """Mean over days ``start..stop-1`` (to the end when ``stop`` is None).

    NaN when the series does not cover the whole window (a horizon shorter
    than ``stop - 1`` days, or than ``start`` days for an open window): a
    partial window would not be the figure docs/model.md defines.
    """
    n = series.shape[-1]
    if (stop is not None and n < stop) or n <= start:
        return np.full(series.shape[:-1], np.nan)
    return series[..., start:stop].mean(axis=-1)


def fade_ratio(x: np.ndarray) -> np.ndarray:
    """Mean over days 365..729 / mean over days 0..364 (NaN before day 729 or with a first-year mean of 0)."""
    (a0, a1), (b0, b1) = FADE_WINDOWS
    first, second = window_mean(x, a0, a1), window_mean(x, b0, b1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(first != 0, second / np.where(first != 0, first, 1.0), np.nan)


def _crossings(x: np.ndarray, D_x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crossover day, sustained crossover day and status code of rows ``x`` (n, D) in one pass.

    The same definitions as :func:`crossover_day`, :func:`sustained_crossover_day`
    and :func:`status_codes`, sharing the signs and the runs: only rows with a
    negative day need the day-by-day work, which keeps an ensemble's summaries
    cheap (``inflow`` never has one).
    """
    n, D = x.shape
    pos, neg = signs(x)
    any_pos, any_neg = pos.any(axis=-1), neg.any(axis=-1)
    cross = np.full(n, -1)
    sustained = np.full(n, -1)
    censored = np.zeros(n, bool)
    rows = np.flatnonzero(any_neg & any_pos)
    if rows.size:
        p, q, d_x = pos[rows], neg[rows], np.broadcast_to(D_x, (n,))[rows]
        after = _after_positive(p)
        cross[rows] = first_day(q & after)
        # days t..t+D_x-1 all negative <=> no non-negative day among them: a difference of running counts
        count = np.concatenate([np.zeros((rows.size, 1), np.int32), np.cumsum(~q, axis=-1, dtype=np.int32)], axis=-1)
        ends = np.arange(D)[None, :] + d_x[:, None]                       # t + D_x (exclusive), may pass D
        inside = ends <= D
        stretch = np.take_along_axis(count, np.minimum(ends, D), axis=-1) - count[:, :D]
        sustained[rows] = first_day(q & after & inside & (stretch == 0))
        # censored: the final negative run (to the horizon) starts after a positive day
        last_nonneg = D - 1 - np.argmax(~q[:, ::-1], axis=-1)             # D - 1 - D = -1 when all negative
        last_nonneg = np.where((~q).any(axis=-1), last_nonneg, -1)
        start = last_nonneg + 1
        has_final = start < D
        censored[rows] = has_final & np.take_along_axis(after, np.minimum(start, D - 1)[:, None], -1)[:, 0]
    code = np.full(n, STATUSES.index("turns_positive"), dtype=np.int8)
    for name, where in reversed((
        ("zero", ~any_pos & ~any_neg),
        ("never_negative", ~any_neg),
        ("never_positive", ~any_pos),
        ("sustained", sustained >= 0),
        ("censored", censored),
        ("dip", cross >= 0),
    )):
        code[where] = STATUSES.index(name)                                # the first matching rule wins
    return cross, sustained, code


def _breakeven_rows(x: np.ndarray) -> np.ndarray:
    """:func:`breakeven_day` of rows (n, D); only rows with values of both signs can turn."""
    out = np.full(x.shape[0], -1)
    rows = np.flatnonzero((x < 0).any(axis=-1) & (x > 0).any(axis=-1))
    if rows.size:
        out[rows] = breakeven_day(np.cumsum(x[rows], axis=-1))
    return out


def balance_summary(x: np.ndarray, r, D_x, *, fade: bool = False) -> dict:
    """Every per-balance figure of :data:`BALANCE_FIELDS` for arrays of shape (..., D).

    Parameters
    ----------
    x : ndarray (..., D)
        A balance, USD/day.
    r : float or ndarray
        Annual discount rate, broadcast over the leading axes.
    D_x : int or ndarray
        Days for a sustained crossover, broadcast over the leading axes.
    fade : bool
        Compute the fade ratio (``inflow`` only); NaN otherwise.

    Returns
    -------
    dict of str to ndarray (...)
        Days are grid indices, -1 where the event does not occur; the
        windows' means are NaN when the horizon ends before them.
    """
    x = np.asarray(x, float)
    lead, D = x.shape[:-1], x.shape[-1]
    rows = x.reshape(-1, D)
    d_x = np.broadcast_to(np.asarray(D_x), lead).reshape(-1).astype(np.int64)
    cross, sustained, status = (a.reshape(lead) for a in _crossings(rows, d_x))
    peak_x, peak_d = peak(x)
    return {
        "status": status,
        "peak_usd_per_day": peak_x,
        "peak_day": np.where(status == STATUSES.index("zero"), -1, peak_d),
        "crossover_day": cross,
        "sustained_crossover_day": sustained,
        "breakeven_day": _breakeven_rows(rows).reshape(lead),
        "cumulative_usd": x.sum(axis=-1),
        "pv_usd": present_value(x, r),
        "short_term_usd_per_day": window_mean(x, 0, SHORT_TERM_DAYS),
        "long_term_usd_per_day": window_mean(x, LONG_TERM_FROM, None),
        "fade_ratio": fade_ratio(x) if fade else np.full(lead, np.nan),
    }


def summary_arrays(present: np.ndarray, balances: dict, r, D_x) -> dict:
    """Every summary figure of docs/model.md v2, keyed as :func:`summary_key` does.

    Parameters
    ----------
    present : ndarray (..., D)
        Present population ``N``, people.
    balances : dict of str to ndarray (..., D)
        Each balance of :data:`~flowsim.model.economy.BALANCES` that is
        summarised, USD/day.
    r : float or ndarray
        Annual discount rate, broadcast over the leading axes.
    D_x : int or ndarray
        Days for a sustained crossover, broadcast over the leading axes.

    Returns
    -------
    dict of str to ndarray (...)
        ``peak_present``, ``peak_present_day`` and ``"BALANCE.FIELD"`` for
        every balance and :data:`BALANCE_FIELDS` entry.
    """
    peak_n, peak_n_day = peak(present)
    out = {"peak_present": peak_n, "peak_present_day": np.where(peak_n > 0, peak_n_day, -1)}
    for name, x in balances.items():
        for field, value in balance_summary(x, r, D_x, fade=name == "inflow").items():
            out[summary_key(field, name)] = value
    return out
