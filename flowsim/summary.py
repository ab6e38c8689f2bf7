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
import sys
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
    "discount_factors", "present_value", "breakeven_day", "window_mean", "fade_ratio", "balance_summary",
    "summary_arrays", "SUMMARY_KERNELS", "summary_kernel",
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


def discount_factors(r, days: int) -> np.ndarray:
    """``(1 + r) ** (-t / 365)`` for ``t = 0 .. days - 1``: shape ``r.shape + (days,)``; ``r`` per year."""
    t = np.arange(days)
    return (1.0 + np.asarray(r, float)[..., None]) ** (-t / 365.0)


def present_value(x: np.ndarray, r, *, disc: np.ndarray | None = None) -> np.ndarray:
    """``sum_t x(t) * (1 + r) ** (-t / 365)``; ``r`` per year, broadcast over leading axes.

    ``disc``, the :func:`discount_factors` of ``r``, saves computing them again for
    every balance of the same members (a power per member and day).
    """
    if disc is None:
        disc = discount_factors(r, x.shape[-1])
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


#: Summary kernels: ``"numpy"`` (always there) and ``"numba"`` (optional, ``pip install numba``); ``"auto"`` picks
#: numba when it is imported already (:func:`summary_kernel`). Both give the same bytes; the environment variable
#: ``FLOWSIM_KERNEL`` selects as for the ensemble solver.
SUMMARY_KERNELS = ("auto", "numpy", "numba")    # the names of solve.kernels.KERNELS (read by requested_kernel)
_compiled = None                 # the numba module once imported; False when numba does not import
_sums_checked: dict = {}         # days -> whether the compiled pairwise sums equal numpy's sums of that length


def _numba_module():
    global _compiled
    if _compiled is None:
        try:
            from . import _summary_kernels
        except ImportError:
            _compiled = False
        else:
            _compiled = _summary_kernels
    return _compiled or None


def summary_kernel(kernel: str | None = None) -> str:
    """The kernel that computes summary figures: ``"numpy"`` or ``"numba"``.

    Parameters
    ----------
    kernel : {"auto", "numpy", "numba"} or None
        None reads the environment variable ``FLOWSIM_KERNEL`` (default
        ``"auto"``). ``"auto"`` is numba when numba is imported already (the
        ensemble solver's numba kernel imports it) and the compiled summaries
        import, numpy otherwise: importing numba for the summaries alone
        (0.5-2 s) would cost a single run far more than it saves.
        The kernels give the same bytes.

    Raises
    ------
    FlowsimError
        An unknown name, or ``"numba"`` asked for when numba does not import.
    """
    from .solve.kernels import requested_kernel

    kernel, where = requested_kernel(kernel, "summary kernel", FlowsimError)
    if kernel == "numpy" or (kernel == "auto" and "numba" not in sys.modules):
        return "numpy"
    if _numba_module() is not None:
        return "numba"
    if kernel == "numba":
        raise FlowsimError(f"{where} asks for the numba kernel, but numba does not import. Fix: pip install numba "
                           "(>= 0.60), or use 'numpy'.")
    return "numpy"


def _sums_agree(days: int) -> bool:
    """Whether the compiled pairwise sums of rows of ``days`` values equal ``np.sum``'s, bit for bit (checked once)."""
    if days not in _sums_checked:
        rows = np.random.default_rng(days).standard_normal((8, days)) * np.logspace(-3, 9, days)
        mine = np.empty(8)
        _numba_module().row_sums(rows, mine)
        _sums_checked[days] = bool(np.array_equal(mine.view(np.int64), rows.sum(axis=-1).view(np.int64)))
    return _sums_checked[days]


def _first_per_row(run_row: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The first value of each row's group (runs sorted by row), -1 for rows without one."""
    out = np.full(n, -1)
    if run_row.size:
        first = np.empty(run_row.size, bool)
        first[0] = True
        np.not_equal(run_row[1:], run_row[:-1], out=first[1:])
        out[run_row[first]] = values[first]
    return out


def _crossings(x: np.ndarray, tol: np.ndarray, D_x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crossover day, sustained crossover day and censoring of rows ``x`` (m, D) with positive and negative days.

    The definitions of :func:`crossover_day`, :func:`sustained_crossover_day`
    and :func:`status_codes` from the negative runs ``[start, end)`` of each
    row, found as the changes of the negative-day mask: a run counts once a
    positive day came before it (``start > p0``, the first positive day, which
    cannot lie inside a run). The crossover is the first such run's start; the
    sustained crossover the start of the first such run of ``D_x`` days or more
    (a later day of a run has fewer days left, so only starts can be first);
    censored means the run reaching the horizon counts.
    """
    m, D = x.shape
    p0 = (x > tol[:, None]).argmax(axis=-1)                               # every row has a positive day
    neg = x < -tol[:, None]
    edges = np.empty((m, D + 1), bool)                                    # mask changes, False outside the days
    edges[:, 0], edges[:, D] = neg[:, 0], neg[:, D - 1]
    np.not_equal(neg[:, 1:], neg[:, :-1], out=edges[:, 1:D])
    row, col = np.divmod(np.flatnonzero(edges), D + 1)                    # row-major: start, end, start, end...
    run_row, start, end = row[0::2], col[0::2], col[1::2]
    counts = start > p0[run_row]
    cross = _first_per_row(run_row[counts], start[counts], m)
    long_enough = counts & (end - start >= D_x[run_row])
    sustained = _first_per_row(run_row[long_enough], start[long_enough], m)
    censored = np.zeros(m, bool)
    censored[run_row[counts & (end == D)]] = True
    return cross, sustained, censored


def _status(any_pos, any_neg, sustained, censored, cross) -> np.ndarray:
    code = np.full(any_pos.shape, STATUSES.index("turns_positive"), dtype=np.int8)
    for name, where in reversed((
        ("zero", ~any_pos & ~any_neg),
        ("never_negative", ~any_neg),
        ("never_positive", ~any_pos),
        ("sustained", sustained >= 0),
        ("censored", censored),
        ("dip", cross >= 0),
    )):
        code[where] = STATUSES.index(name)                                # the first matching rule wins
    return code


def _row_figures(rows: np.ndarray, d_x: np.ndarray, fade: bool) -> dict:
    """Every figure of :data:`BALANCE_FIELDS` but the present value, of rows (n, D), with numpy."""
    n, D = rows.shape
    hi, lo = rows.max(axis=-1), rows.min(axis=-1)
    tol = np.maximum(TOL_USD, TOL_RELATIVE * np.maximum(hi, -lo))           # signs()' tolerance: max|x| from both
    any_pos, any_neg = hi > tol, lo < -tol                                  # a day > tol <=> the peak > tol
    cross, sustained = np.full(n, -1), np.full(n, -1)
    censored = np.zeros(n, bool)
    mixed = np.flatnonzero(any_pos & any_neg)                              # only these can cross
    if mixed.size:
        cross[mixed], sustained[mixed], censored[mixed] = _crossings(rows[mixed], tol[mixed], d_x[mixed])
    status = _status(any_pos, any_neg, sustained, censored, cross)
    both = (lo < 0) & (hi > 0)                                              # only these can break even
    has_nan = np.isnan(hi)
    if has_nan.any():                                                       # as (x < 0).any() & (x > 0).any()
        both[has_nan] = (rows[has_nan] < 0).any(axis=-1) & (rows[has_nan] > 0).any(axis=-1)
    breakeven = np.full(n, -1)
    if both.any():
        breakeven[both] = breakeven_day(np.cumsum(rows[both], axis=-1))
    return {
        "status": status,
        "peak_usd_per_day": hi,
        "peak_day": np.where(status == STATUSES.index("zero"), -1, rows.argmax(axis=-1)),
        "crossover_day": cross,
        "sustained_crossover_day": sustained,
        "breakeven_day": breakeven,
        "cumulative_usd": rows.sum(axis=-1),
        "short_term_usd_per_day": window_mean(rows, 0, SHORT_TERM_DAYS),
        "long_term_usd_per_day": window_mean(rows, LONG_TERM_FROM, None),
        "fade_ratio": fade_ratio(rows) if fade else np.full(n, np.nan),
    }


_CODES = np.array([STATUSES.index(s) for s in ("zero", "never_negative", "never_positive", "sustained", "censored",
                                               "dip", "turns_positive")], np.int8)


def _row_figures_numba(rows: np.ndarray, d_x: np.ndarray, fade: bool) -> dict:
    """:func:`_row_figures` by the compiled pass of :mod:`flowsim._summary_kernels` (the same bytes)."""
    nb = _numba_module()
    n, D = rows.shape
    rows = np.ascontiguousarray(rows, dtype=float)
    sums = _sums_agree(D)
    out = {"status": np.empty(n, np.int8), "peak_usd_per_day": np.empty(n), "peak_day": np.empty(n, np.int64),
           "crossover_day": np.empty(n, np.int64), "sustained_crossover_day": np.empty(n, np.int64),
           "breakeven_day": np.empty(n, np.int64), "cumulative_usd": np.empty(n), "short_term_usd_per_day":
           np.empty(n), "long_term_usd_per_day": np.empty(n), "fade_ratio": np.full(n, np.nan)}
    has_nan = np.empty(n, bool)
    windows = np.array([SHORT_TERM_DAYS, LONG_TERM_FROM, FADE_WINDOWS[0][1], FADE_WINDOWS[1][1]], np.int64)
    nb.row_figures(rows, np.ascontiguousarray(d_x, dtype=np.int64), TOL_USD, TOL_RELATIVE, 1.0, _CODES, windows,
                   sums, out["status"], out["peak_usd_per_day"], out["peak_day"], out["crossover_day"],
                   out["sustained_crossover_day"], out["breakeven_day"], out["cumulative_usd"],
                   out["short_term_usd_per_day"], out["long_term_usd_per_day"],
                   out["fade_ratio"] if fade else np.empty(0), has_nan)
    if not sums:
        out["cumulative_usd"] = rows.sum(axis=-1)
        out["short_term_usd_per_day"] = window_mean(rows, 0, SHORT_TERM_DAYS)
        out["long_term_usd_per_day"] = window_mean(rows, LONG_TERM_FROM, None)
        if fade:
            out["fade_ratio"] = fade_ratio(rows)
    zero = np.flatnonzero(out["peak_usd_per_day"] == 0)                      # np.max's sign of zero
    if zero.size:
        out["peak_usd_per_day"][zero] = rows[zero].max(axis=-1)
    if has_nan.any():                                                          # NaN rows: numpy's rules
        for name, value in _row_figures(rows[has_nan], d_x[has_nan], fade).items():
            out[name][has_nan] = value
    return out


def balance_summary(x: np.ndarray, r, D_x, *, fade: bool = False, kernel: str | None = None,
                    disc: np.ndarray | None = None) -> dict:
    """Every per-balance figure of :data:`BALANCE_FIELDS` for arrays of shape (..., D).

    Parameters
    ----------
    x : ndarray (..., D)
        A balance, USD/day.
    r : float or ndarray
        Annual discount rate, broadcast over the leading axes.
    D_x : int or ndarray
        Days for a sustained crossover (>= 1), broadcast over the leading axes.
    fade : bool
        Compute the fade ratio (``inflow`` only); NaN otherwise.
    kernel : {"auto", "numpy", "numba"} or None
        What computes the figures (:func:`summary_kernel`; None: the
        environment variable ``FLOWSIM_KERNEL``, else ``"auto"``). The kernels
        give the same bytes.
    disc : ndarray, optional
        :func:`discount_factors` of ``r`` (computed when omitted).

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
    kernel = summary_kernel(kernel)
    figures = (_row_figures_numba if kernel == "numba" and rows.size else _row_figures)(rows, d_x, fade)
    out = {name: value.reshape(lead) for name, value in figures.items()}
    out["pv_usd"] = present_value(x, r, disc=disc)
    return {name: out[name] for name in BALANCE_FIELDS}


def summary_arrays(present: np.ndarray, balances: dict, r, D_x, *, kernel: str | None = None) -> dict:
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
    kernel : {"auto", "numpy", "numba"} or None
        What computes the balances' figures (:func:`summary_kernel`); the same bytes either way.

    Returns
    -------
    dict of str to ndarray (...)
        ``peak_present``, ``peak_present_day`` and ``"BALANCE.FIELD"`` for
        every balance and :data:`BALANCE_FIELDS` entry.
    """
    peak_n, peak_n_day = peak(present)
    out = {"peak_present": peak_n, "peak_present_day": np.where(peak_n > 0, peak_n_day, -1)}
    kernel = summary_kernel(kernel)
    disc = discount_factors(r, np.shape(present)[-1])                     # once for every balance
    for name, x in balances.items():
        for field, value in balance_summary(x, r, D_x, fade=name == "inflow", kernel=kernel, disc=disc).items():
            out[summary_key(field, name)] = value
    return out
