"""Compiled (numba) pass over each balance for :mod:`flowsim.summary`: every per-row figure but the present value.

Imported only by :func:`flowsim.summary.summary_kernel` when numba imports and
the numba kernel is selected (``pip install numba``); the default install never
imports this module.

One call of :func:`row_figures` walks each row (one member, host and balance,
``D`` days, USD/day) at most three times while it sits in the cache: the peak,
its first day and the smallest value (which give the sign tolerance, as
``max|x| = max(max x, -min x)``) with the sum and the window means; then, only
for a row with positive and negative days, the negative runs (crossover,
sustained crossover, censoring); then, only for a row with values of both
signs, the running sum for the break-even day. The numpy code of
:mod:`flowsim.summary` takes 15-25 passes over the same data.

Every figure is byte-identical to the numpy code's:

- days and statuses are integers, so any correct algorithm gives the same;
- the running sum is sequential (``c[t] = c[t-1] + x[t]``), as ``np.cumsum``;
- sums and means use numpy's pairwise summation (:func:`pairwise_sum`: blocks of
  at most 128 values summed by 8 accumulators, halves split at multiples of 8),
  which is what ``np.add.reduce`` does along a contiguous axis.
  :func:`flowsim.summary.summary_kernel` checks that once per process on random
  rows and, if a numpy version ever sums otherwise, leaves the sums to numpy;
- a peak of exactly zero is taken from ``np.max`` (whose sign of zero depends on
  its order), and rows with a NaN are left to the numpy code (flag ``nan``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["pairwise_sum", "row_sums", "row_figures"]


@njit(cache=True, nogil=True)
def _block_sum(a, lo, n):
    """numpy's pairwise sum of at most 128 values: 8 accumulators, then the rest in order.

    The block is read through a view starting at ``lo``, so every index counts up from 0 and the
    compiler drops the negative-index wrap-around it otherwise adds to each of the eight loads (1.4x
    faster, the same additions).
    """
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    b = a[lo:lo + n]
    r0, r1, r2, r3 = b[0], b[1], b[2], b[3]
    r4, r5, r6, r7 = b[4], b[5], b[6], b[7]
    blocks = n // 8
    for k in range(1, blocks):
        i = 8 * k
        r0 += b[i]
        r1 += b[i + 1]
        r2 += b[i + 2]
        r3 += b[i + 3]
        r4 += b[i + 4]
        r5 += b[i + 5]
        r6 += b[i + 6]
        r7 += b[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(8 * blocks, n):
        res += b[i]
    return res


@njit(cache=True, nogil=True)
def _half(n):
    n2 = n // 2
    return n2 - n2 % 8


@njit(cache=True, nogil=True)
def pairwise_sum(a, lo, n, stack):
    """``a[lo:lo + n]`` summed in numpy's pairwise order (``np.add.reduce`` of a contiguous float64 axis).

    numpy halves a range of more than 128 values (at a multiple of 8) and adds
    the two halves' sums; blocks of at most 128 go to :func:`_block_sum`. The
    halving is done here with an explicit stack (``stack``: float64 (64, 4),
    scratch; rows are frames ``lo, n, left half done, left half's sum``):
    numba's on-disk cache does not reload recursive functions safely.
    """
    if n <= 128:
        return _block_sum(a, lo, n)
    depth = 0
    stack[0, 0], stack[0, 1], stack[0, 2] = lo, n, 0.0
    while True:
        f_lo, f_n = int(stack[depth, 0]), int(stack[depth, 1])
        if f_n > 128:                                       # descend into the left half
            depth += 1
            stack[depth, 0], stack[depth, 1], stack[depth, 2] = f_lo, _half(f_n), 0.0
            continue
        v = _block_sum(a, f_lo, f_n)
        while True:                                         # hand v up to the frames it completes
            if depth == 0:
                return v
            depth -= 1
            if stack[depth, 2] == 0.0:                      # v is the left half: start the right one
                stack[depth, 2], stack[depth, 3] = 1.0, v
                h = _half(int(stack[depth, 1]))
                depth += 1
                stack[depth, 0], stack[depth, 1], stack[depth, 2] = stack[depth - 1, 0] + h, \
                    stack[depth - 1, 1] - h, 0.0
                break
            v = stack[depth, 3] + v                         # left + right


@njit(cache=True, nogil=True)
def row_sums(rows, out):
    """``out[i] = rows[i].sum()`` by :func:`pairwise_sum` (the self-check against numpy)."""
    stack = np.empty((64, 4))
    for i in range(rows.shape[0]):
        out[i] = 0.0 + pairwise_sum(rows[i], 0, rows.shape[1], stack)


@njit(cache=True, nogil=True)
def _window_mean(row, start, stop, stack):
    """Mean of ``row[start:stop]`` as ``np.mean`` takes it (NaN when the row does not cover the window)."""
    if row.shape[0] < stop:
        return np.nan
    return (0.0 + pairwise_sum(row, start, stop - start, stack)) / (stop - start)


@njit(cache=True, nogil=True)
def _extremes(row):
    """Largest and smallest value of a row without NaN, in eight interleaved lanes (which the compiler vectorises).

    The largest and smallest of a set do not depend on the order they are taken in (a row with a NaN
    never gets here; a zero peak's sign is numpy's, see :func:`flowsim.summary._row_figures_numba`).
    """
    n = row.shape[0]
    h0 = h1 = h2 = h3 = h4 = h5 = h6 = h7 = row[0]
    l0 = l1 = l2 = l3 = l4 = l5 = l6 = l7 = row[0]
    blocks = n // 8
    for b in range(blocks):
        i = 8 * b
        h0 = max(h0, row[i])
        h1 = max(h1, row[i + 1])
        h2 = max(h2, row[i + 2])
        h3 = max(h3, row[i + 3])
        h4 = max(h4, row[i + 4])
        h5 = max(h5, row[i + 5])
        h6 = max(h6, row[i + 6])
        h7 = max(h7, row[i + 7])
        l0 = min(l0, row[i])
        l1 = min(l1, row[i + 1])
        l2 = min(l2, row[i + 2])
        l3 = min(l3, row[i + 3])
        l4 = min(l4, row[i + 4])
        l5 = min(l5, row[i + 5])
        l6 = min(l6, row[i + 6])
        l7 = min(l7, row[i + 7])
    hi = max(max(max(h0, h1), max(h2, h3)), max(max(h4, h5), max(h6, h7)))
    lo = min(min(min(l0, l1), min(l2, l3)), min(min(l4, l5), min(l6, l7)))
    for i in range(8 * blocks, n):
        hi = max(hi, row[i])
        lo = min(lo, row[i])
    return hi, lo


@njit(cache=True, nogil=True)
def _runs(row, tol, dx):
    """Crossover day, sustained crossover day and censoring of a row with positive and negative days.

    Negative runs count from the first positive day ``p0`` on (a run cannot
    contain it); the first counting run's start is the crossover, the first
    of ``dx`` days or more the sustained crossover (a later day of a run has
    fewer days left), and the scan stops there. Censored: the run reaching
    the horizon counts (only read when there is no sustained crossover).
    """
    D = row.shape[0]
    t = 0
    while row[t] <= tol:                                    # p0 exists: the row has a positive day
        t += 1
    c = -1
    s = -1
    censored = False
    t += 1
    while t < D:
        if row[t] < -tol:
            start = t
            while t < D and row[t] < -tol:
                t += 1
            if c < 0:
                c = start
            if t - start >= dx:
                s = start
                break
            if t == D:
                censored = True
        else:
            t += 1
    return c, s, censored


@njit(cache=True, nogil=True)
def _breakeven(row, threshold):
    """First day after ``t0`` (first ``|C| > threshold``) where ``C = cumsum(row)`` has the opposite sign, or -1."""
    cum = row[0]
    t0 = -1
    sign0 = 0.0
    for t in range(row.shape[0]):
        if t > 0:
            cum = cum + row[t]                              # np.cumsum's order
        if t0 < 0:
            if abs(cum) > threshold:
                t0 = t
                sign0 = 1.0 if cum > 0 else -1.0
        elif cum * sign0 < 0:
            return t
    return -1


@njit(cache=True, nogil=True)
def row_figures(rows, d_x, tol_usd, tol_relative, threshold, codes, windows, sums,
                status, peak, peak_day, cross, sustained, breakeven, total, short, long, fade, nan):
    """Every figure of each row of ``rows`` (n, D) but the present value, written into the output arrays.

    Parameters
    ----------
    rows : ndarray (n, D), C-contiguous float64
        Balances, USD/day.
    d_x : ndarray (n,) int64
        Days of a sustained crossover (>= 1).
    tol_usd, tol_relative : float
        The sign tolerance ``max(tol_usd, tol_relative * max|x|)``, USD/day.
    threshold : float
        USD: the break-even's ``t0`` is the first day with ``|C| > threshold``.
    codes : ndarray (7,) int8
        Status codes: zero, never_negative, never_positive, sustained, censored, dip, turns_positive.
    windows : ndarray (4,) int64
        Short-term stop, long-term start, fade's first-year stop and second-year stop (days).
    sums : bool
        Write ``total``, ``short``, ``long`` and ``fade`` (False: numpy computes them).
    status, peak, peak_day, cross, sustained, breakeven, total, short, long, fade, nan : ndarray (n,)
        Outputs (int8, float, int64 x 4, float x 4, bool); ``fade`` only when it has length n.
        A row whose sum is NaN (a NaN in it, or infinities of both signs) gets
        ``nan[i] = True`` and nothing else: numpy's rules decide those.
    """
    n, D = rows.shape
    short_stop, long_from, fade_a, fade_b = windows[0], windows[1], windows[2], windows[3]
    want_fade = fade.shape[0] == n
    stack = np.empty((64, 4))
    for i in range(n):
        row = rows[i]
        row_sum = 0.0 + pairwise_sum(row, 0, D, stack)
        nan[i] = row_sum != row_sum
        if nan[i]:
            continue
        hi, lo = _extremes(row)
        arg = 0
        while row[arg] != hi:                               # np.argmax: the first day of the peak
            arg += 1
        peak[i] = hi
        tol = max(tol_usd, tol_relative * max(hi, -lo))
        any_pos = hi > tol
        any_neg = lo < -tol
        c, s = -1, -1
        if not any_pos and not any_neg:
            code = codes[0]
        elif not any_neg:
            code = codes[1]
        elif not any_pos:
            code = codes[2]
        else:
            c, s, censored = _runs(row, tol, d_x[i])
            if s >= 0:
                code = codes[3]
            elif censored:
                code = codes[4]
            elif c >= 0:
                code = codes[5]
            else:
                code = codes[6]
        status[i] = code
        peak_day[i] = -1 if code == codes[0] else arg
        cross[i] = c
        sustained[i] = s
        breakeven[i] = _breakeven(row, threshold) if lo < 0.0 and hi > 0.0 else -1
        if sums:
            total[i] = row_sum
            short[i] = _window_mean(row, 0, short_stop, stack)
            long[i] = (0.0 + pairwise_sum(row, long_from, D - long_from, stack)) / (D - long_from) \
                if D > long_from else np.nan
            if want_fade:
                first = _window_mean(row, 0, fade_a, stack)
                second = _window_mean(row, fade_a, fade_b, stack)
                fade[i] = second / first if first != 0 else np.nan
