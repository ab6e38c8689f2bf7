"""Per-host summary figures of MODEL.md ("Reported per host").

All functions work on the daily grid ``t = 0..horizon`` and on arrays with any
leading axes (members, hosts); days that do not occur are reported as ``-1``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SHORT_TERM_DAYS",
    "LONG_TERM_FROM",
    "first_day",
    "peak",
    "crossover_day",
    "cumulative",
    "present_value",
    "breakeven_day",
    "window_mean",
    "summary_arrays",
    "SUMMARY_FIELDS",
]

#: Short-term window: days 0..89.
SHORT_TERM_DAYS = 90
#: Long-term window starts on day 366 and runs to the horizon.
LONG_TERM_FROM = 366


def first_day(mask: np.ndarray) -> np.ndarray:
    """Index of the first True along the last axis, or -1 where none."""
    mask = np.asarray(mask, bool)
    idx = mask.argmax(axis=-1)
    hit = np.take_along_axis(mask, idx[..., None], axis=-1)[..., 0]      # argmax is 0 when nothing is True
    return np.where(hit, idx, -1)


def peak(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest value along the last axis and the first day it is reached."""
    return series.max(axis=-1), series.argmax(axis=-1)


def crossover_day(net: np.ndarray) -> np.ndarray:
    """First day with ``net < 0`` after a day with ``net > 0`` (-1 if none)."""
    was_positive = np.maximum.accumulate(net > 0, axis=-1)
    before = np.concatenate([np.zeros_like(was_positive[..., :1]), was_positive[..., :-1]], axis=-1)
    return first_day((net < 0) & before)


def cumulative(net: np.ndarray) -> np.ndarray:
    """``C(t) = sum_{u<=t} net(u)`` along the last axis (USD when net is USD/day)."""
    return np.cumsum(net, axis=-1)


def present_value(net: np.ndarray, r) -> np.ndarray:
    """``sum_t net(t) * (1 + r) ** (-t / 365)``; ``r`` per year, broadcast over leading axes."""
    t = np.arange(net.shape[-1])
    disc = (1.0 + np.asarray(r, float)[..., None]) ** (-t / 365.0)
    return np.einsum("...d,...d->...", net, np.broadcast_to(disc, net.shape))


def breakeven_day(cum: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """First day after ``t0`` (first ``|C| > threshold``) where ``C`` has the opposite sign.

    Parameters
    ----------
    cum : ndarray
        Cumulative net along the last axis, USD.
    threshold : float
        USD; ``t0`` is the first day with ``|C(t0)| > threshold`` (MODEL.md: 1 USD).
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
    partial window would not be the figure MODEL.md defines.
    """
    n = series.shape[-1]
    if (stop is not None and n < stop) or n <= start:
        return np.full(series.shape[:-1], np.nan)
    return series[..., start:stop].mean(axis=-1)


#: Names and units of the arrays :func:`summary_arrays` returns.
SUMMARY_FIELDS = {
    "peak_present": "people",
    "peak_present_day": "day",
    "peak_boost_usd_per_day": "USD/day",
    "peak_boost_day": "day",
    "crossover_day": "day",
    "breakeven_day": "day",
    "cum_net_usd": "USD",
    "pv_net_usd": "USD",
    "short_term_net_usd_per_day": "USD/day",
    "long_term_net_usd_per_day": "USD/day",
}


def summary_arrays(present: np.ndarray, boost: np.ndarray, net: np.ndarray, r) -> dict:
    """Every summary figure of MODEL.md for arrays of shape (..., D).

    Parameters
    ----------
    present : ndarray (..., D)
        Present population ``N``, people.
    boost, net : ndarray (..., D)
        USD/day.
    r : float or ndarray
        Annual discount rate, broadcast over the leading axes.

    Returns
    -------
    dict of str to ndarray
        Keys of :data:`SUMMARY_FIELDS`; days are indices into the grid, -1
        where the event does not occur (peak days too, when the peak is 0);
        the short-term mean is NaN when the horizon ends before day 89 and
        the long-term mean when it ends before day 366.
    """
    peak_n, peak_n_day = peak(present)
    peak_b, peak_b_day = peak(boost)
    # a host nobody reached (e.g. closed throughout) has no peak date
    peak_n_day = np.where(peak_n > 0, peak_n_day, -1)
    peak_b_day = np.where(peak_b > 0, peak_b_day, -1)
    cum = cumulative(net)
    return {
        "peak_present": peak_n,
        "peak_present_day": peak_n_day,
        "peak_boost_usd_per_day": peak_b,
        "peak_boost_day": peak_b_day,
        "crossover_day": crossover_day(net),
        "breakeven_day": breakeven_day(cum),
        "cum_net_usd": cum[..., -1],
        "pv_net_usd": present_value(net, r),
        "short_term_net_usd_per_day": window_mean(net, 0, SHORT_TERM_DAYS),
        "long_term_net_usd_per_day": window_mean(net, LONG_TERM_FROM, None),
    }
