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
    levels = check_quantiles(q)
    values = np.asarray(values)
    if values.dtype != np.float64 or values.ndim < 2 or values.shape[0] < 1:
        return np.quantile(values, levels, axis=0)
    out = _quantiles_of_sorted(np.sort(values, axis=0), levels)
    # a zero or NaN order statistic: its sign or payload may depend on the order np.quantile's partition leaves
    # equal values in; those columns are taken by np.quantile itself
    redo = _unsure_columns(out, values)
    if redo.any():
        out[:, redo] = np.quantile(values[:, redo], levels, axis=0)
    return out


def _quantiles_of_sorted(arr: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(arr, q, axis=0)`` (method ``"linear"``) of an array already sorted along axis 0.

    numpy's own arithmetic (``numpy.lib._function_base_impl._quantile`` and
    ``_lerp``): the virtual index ``(n - 1) q``, its floor and the next order
    statistic, ``a + (b - a) g`` below ``g = 0.5`` and ``b - (b - a)(1 - g)``
    from it; only the partition is replaced by the sort, which numpy does
    faster along the member axis than a partition at ten ranks. NaN sorts
    last, as numpy's partition puts it; columns with a NaN get NaN.
    """
    n = arr.shape[0]
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    previous[virtual >= n - 1] = -1
    following[virtual >= n - 1] = -1
    previous, following = previous.astype(np.intp), following.astype(np.intp)
    a, b = arr[previous], arr[following]
    gamma = np.asanyarray(virtual - previous, dtype=virtual.dtype).reshape(q.shape + (1,) * (arr.ndim - 1))
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    nan = np.isnan(arr[-1])
    if nan.any():
        np.copyto(out, arr[-1], where=nan)
    return out


def _unsure_columns(out: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Columns (the trailing axes) whose quantiles ``np.quantile`` must compute itself.

    A NaN quantile (NaN payloads), or a zero quantile of a column holding both
    ``0.0`` and ``-0.0``: equal values with different bits, whose order after
    a partition is not that of a sort. A column of zeros of one sign gives the
    same bytes either way (the same arithmetic on the same values).
    """
    unsure = np.isnan(out).any(axis=0)
    zero = (out == 0).any(axis=0)
    if zero.any():
        col = values[:, zero]
        is_zero, negative = col == 0, np.signbit(col)
        unsure[zero] |= (is_zero & negative).any(axis=0) & (is_zero & ~negative).any(axis=0)
    return unsure


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
