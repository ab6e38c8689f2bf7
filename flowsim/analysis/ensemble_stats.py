"""Ensemble statistics: quantiles over members and probabilities of events.

Pure functions on arrays with a leading member axis; :class:`EnsembleResult`
uses them with its labels.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import FlowsimError

__all__ = ["QUANTILES", "check_quantiles", "member_quantiles", "probability", "median_day"]

#: Default quantile levels: the 90% band (5-95), the 50% band (25-75) and the median.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def check_quantiles(q) -> np.ndarray:
    """Quantile levels as a 1-D array, each in [0, 1]."""
    arr = np.atleast_1d(np.asarray(q, dtype=float))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise FlowsimError(f"quantile levels must be numbers in [0, 1], e.g. (0.05, 0.5, 0.95); got {q!r}.")
    return arr


def member_quantiles(values: np.ndarray, q=QUANTILES) -> np.ndarray:
    """Quantiles over the member axis.

    Parameters
    ----------
    values : ndarray, shape (n, ...)
        One row per member.
    q : sequence of float
        Levels in [0, 1].

    Returns
    -------
    ndarray, shape (len(q), ...)
        Linear interpolation between order statistics (numpy's default), so
        levels in increasing order give non-decreasing values.

    Examples
    --------
    >>> member_quantiles(np.arange(11.0)[:, None], q=(0.1, 0.5))[:, 0]
    array([1., 5.])
    """
    return np.quantile(values, check_quantiles(q), axis=0)


def probability(mask: np.ndarray) -> np.ndarray:
    """Share of members for which ``mask`` holds: ``mask.mean(axis=0)``."""
    return np.asarray(mask, bool).mean(axis=0)


def median_day(days: np.ndarray) -> np.ndarray:
    """Median over the members where the event occurs (``day >= 0``), per column; -1 where none.

    Parameters
    ----------
    days : ndarray, shape (n, H)
        Grid days of an event, -1 where it does not occur.

    Returns
    -------
    ndarray of int, shape (H,)
        The lower median (an actual member's day), -1 when no member has the event.
    """
    days = np.asarray(days)
    out = np.full(days.shape[1:], -1, dtype=int)
    for idx in np.ndindex(*days.shape[1:]):
        col = days[(slice(None), *idx)]
        col = col[col >= 0]
        if col.size:
            out[idx] = int(np.quantile(col, 0.5, method="lower"))
    return out
