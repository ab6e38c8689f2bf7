"""Compiled (numba) kernels of the ensemble solver: one Dormand-Prince step of every member, and its dense output.

Imported only by :mod:`flowsim.solve.kernels` when the numba kernel is selected
(``pip install numba``); the default install never imports this module.
The arithmetic is that of :meth:`flowsim.model.rhs.FlowRHS.derivative`,
:meth:`flowsim.solve.stepper.Stepper.step` and
:meth:`flowsim.solve.sinks.Projected.step`, written as loops over hosts and
members (members innermost, so the loops run over contiguous memory); sums are
taken in another order than numpy's (the onward matrix product, the stage
combinations), so results differ from the numpy kernel by rounding only
(``tests/test_kernels.py`` checks 1e-9 of each series' peak).

Every loop is elementwise per member: a member's numbers do not depend on the
batch's size or on the other members, as in the numpy kernel.

The order of every sum here is fixed: ``tests/test_kernel_order.py`` compares
them bit for bit with numpy transcriptions, and a faster version must add the
same terms in the same order (no fast-math, no FMA contraction). For speed the
loops index arrays directly (a row view costs a reference count per view) and
use indices the compiler can prove non-negative, or ``np.uint64``, so that
numba adds no negative-index wrap-around inside a member or day loop (see
docs/performance.md, "Compiled kernels: the same bits, faster").

Parameter block
---------------
``par`` has shape ``(NPAR, H, M)``: the rows named by the ``I_*`` constants
below, each an ``(H, M)`` rate of :class:`~flowsim.model.rhs.FlowRHS`
(1/day, or a fraction for ``stay_out`` and ``q_out``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Compiled with numba's numpy error model (no ZeroDivisionError checks, so loops vectorise) and no
#: fast-math at all: no FMA contraction (its choices depend on inlining and on the vectorised or scalar
#: remainder loop, so a member's numbers would depend on its position in the batch), and NaN and inf
#: keep their meaning for the error test.
_jit = njit(cache=True, nogil=True, error_model="numpy")

(I_ONWARD, I_S, I_SETTLE_S, I_SETTLE_R, I_NU_R, I_G, I_F0, I_F0_PER_JOB, I_G_LAM_S, I_PHI_S, I_LAM_NU_R,
 I_LAM_E, I_LAM_U, I_LAM_S, I_LAM_R, I_BACK, I_STAY_OUT, I_Q_OUT) = range(18)
NPAR = 18
PAR_NAMES = ("onward", "s", "settle_S", "settle_R", "nu_R", "g", "f0", "f0_per_job", "g_lam_S", "phi_S",
             "lam_nu_R", "lam_E", "lam_U", "lam_S", "lam_R", "back", "stay_out", "q_out")


@_jit
def derivative(Y, dY, arr, mask, par, P3, Pw, entry, k, out_T):
    """Write ``dY/dt`` of ``Y`` (rows ``T, S1..Sk, R, E, U`` read) into ``dY`` (``k + 4`` or ``k + 7`` rows).

    Parameters
    ----------
    Y : ndarray (>= k + 4, H, M)
        People.
    dY : ndarray (k + 4 or k + 7, H, M)
        People/day; the counters ``Ret, Out, In`` are written when it has their rows.
    arr : ndarray (H, 1) or (H, M)
        Direct arrivals at this time, people/day (before ``mask``).
    mask : ndarray (M,)
        Factor on each member's direct arrivals (0 for a drained member).
    par : ndarray (NPAR, H, M)
        Rates (see the module notes).
    P3 : ndarray (H_to, H_from, 1) or (H_to, H_from, M)
        Onward shares between hosts, closures folded in.
    Pw : ndarray (H, 1) or (H, M)
        Onward share that leaves for the rest of the world.
    entry : ndarray (k, M)
        1 at each member's first savings stage (members with fewer stages), or shape (0, 0) when every
        member has all ``k``.
    k : int
        Savings stages of the layout.
    out_T : ndarray (H + 5, M)
        Scratch: rows ``0..H-1`` the onward leavers (people/day), the last five the per-host sums.

    Notes
    -----
    Every loop runs over the members, innermost and contiguous, with the arrays indexed directly (no
    row views: each view costs a reference count, which at a few members per batch was most of a call).
    """
    H, M = Y.shape[1], Y.shape[2]
    counters = dY.shape[0] > k + 4
    per_P = P3.shape[2] > 1
    per_a = arr.shape[1] > 1
    has_entry = entry.shape[0] > 0
    iR, iE, iU = k + 1, k + 2, k + 3
    ENT, FR, HZ, ST, SS = H, H + 1, H + 2, H + 3, H + 4       # the scratch rows of out_T
    w = out_T
    for h in range(H):
        for m in range(M):
            w[h, m] = par[I_ONWARD, h, m] * Y[0, h, m]
    for h in range(H):
        for m in range(M):
            w[ENT, m] = 0.0
        for j in range(H):                                   # entries = sum_j P[h, j] out_T[j] + arrivals
            if per_P:
                for m in range(M):
                    w[ENT, m] += P3[h, j, m] * w[j, m]
            else:
                p = P3[h, j, 0]
                for m in range(M):
                    w[ENT, m] += p * w[j, m]
        if per_a:
            for m in range(M):
                w[ENT, m] += arr[h, m] * mask[m]
        else:
            a0 = arr[h, 0]
            for m in range(M):
                w[ENT, m] += a0 * mask[m]
        for m in range(M):
            T, R, E = Y[0, h, m], Y[iR, h, m], Y[iE, h, m]
            dY[0, h, m] = w[ENT, m] - par[I_S, h, m] * T
            f = par[I_F0, h, m] - par[I_F0_PER_JOB, h, m] * E
            if f < 0.0:
                f = 0.0
            w[FR, m] = f
            w[HZ, m] = par[I_G_LAM_S, h, m] + par[I_PHI_S, h, m] * f
            w[ST, m] = par[I_SETTLE_S, h, m] * T + par[I_NU_R, h, m] * R
            w[SS, m] = 0.0
        for i in range(k):
            if has_entry:
                if i > 0:
                    for m in range(M):
                        dY[1 + i, h, m] = (entry[i, m] * w[ST, m] - w[HZ, m] * Y[1 + i, h, m]
                                           + par[I_G, h, m] * Y[i, h, m])
                        w[SS, m] += Y[1 + i, h, m]
                else:
                    for m in range(M):
                        dY[1 + i, h, m] = entry[i, m] * w[ST, m] - w[HZ, m] * Y[1 + i, h, m]
                        w[SS, m] += Y[1 + i, h, m]
            elif i == 0:
                for m in range(M):
                    dY[1 + i, h, m] = w[ST, m] - w[HZ, m] * Y[1 + i, h, m]
                    w[SS, m] += Y[1 + i, h, m]
            else:
                for m in range(M):
                    dY[1 + i, h, m] = par[I_G, h, m] * Y[i, h, m] - w[HZ, m] * Y[1 + i, h, m]
                    w[SS, m] += Y[1 + i, h, m]
        for m in range(M):
            T, R, E, U = Y[0, h, m], Y[iR, h, m], Y[iE, h, m], Y[iU, h, m]
            f = w[FR, m]
            dY[iR, h, m] = par[I_SETTLE_R, h, m] * T - par[I_LAM_NU_R, h, m] * R
            dY[iE, h, m] = f * (par[I_PHI_S, h, m] * w[SS, m] + U) - par[I_LAM_E, h, m] * E
            dY[iU, h, m] = par[I_G, h, m] * Y[k, h, m] - (f + par[I_LAM_U, h, m]) * U
        if counters:
            for m in range(M):
                T, R, E, U = Y[0, h, m], Y[iR, h, m], Y[iE, h, m], Y[iU, h, m]
                D = (par[I_LAM_S, h, m] * w[SS, m] + par[I_LAM_R, h, m] * R + par[I_LAM_E, h, m] * E
                     + par[I_LAM_U, h, m] * U)
                dY[k + 4, h, m] = par[I_BACK, h, m] * T + par[I_STAY_OUT, h, m] * D
                dY[k + 5, h, m] = w[h, m] * Pw[h, m if per_P else 0] + par[I_Q_OUT, h, m] * D
                dY[k + 6, h, m] = w[ENT, m]
    return dY


@_jit
def combine_stages(out, K, coef, n, h, Y):
    """``out[c, hh] = (0 + (h coef[0]) K[0, c, hh] + ... + (h coef[n-1]) K[n-1, c, hh]) + Y[c, hh]`` for every row.

    ``out`` (C', H, M) with ``C' <= C`` rows, ``K`` (7, C, H, M), ``Y`` (C, H, M), ``n`` 1 to 6. The same
    operations in the same order as adding ``(h coef[j]) K[j]`` to a zeroed row in ``n`` passes and then
    ``Y`` (so the same bits), with the partial sum in a register: one store per number instead of
    ``n + 2``. Each ``n`` has its own member loop (a loop over ``j`` inside it would not vectorise).
    """
    C, H, M = out.shape[0], out.shape[1], out.shape[2]
    w0, w1, w2 = h * coef[0], h * coef[1 if n > 1 else 0], h * coef[2 if n > 2 else 0]
    w3, w4, w5 = h * coef[3 if n > 3 else 0], h * coef[4 if n > 4 else 0], h * coef[5 if n > 5 else 0]
    for c in range(C):
        for hh in range(H):
            if n == 1:
                for m in range(M):
                    out[c, hh, m] = (0.0 + w0 * K[0, c, hh, m]) + Y[c, hh, m]
            elif n == 2:
                for m in range(M):
                    out[c, hh, m] = ((0.0 + w0 * K[0, c, hh, m]) + w1 * K[1, c, hh, m]) + Y[c, hh, m]
            elif n == 3:
                for m in range(M):
                    out[c, hh, m] = (((0.0 + w0 * K[0, c, hh, m]) + w1 * K[1, c, hh, m]) + w2 * K[2, c, hh, m]) \
                        + Y[c, hh, m]
            elif n == 4:
                for m in range(M):
                    out[c, hh, m] = ((((0.0 + w0 * K[0, c, hh, m]) + w1 * K[1, c, hh, m]) + w2 * K[2, c, hh, m])
                                     + w3 * K[3, c, hh, m]) + Y[c, hh, m]
            elif n == 5:
                for m in range(M):
                    out[c, hh, m] = (((((0.0 + w0 * K[0, c, hh, m]) + w1 * K[1, c, hh, m]) + w2 * K[2, c, hh, m])
                                      + w3 * K[3, c, hh, m]) + w4 * K[4, c, hh, m]) + Y[c, hh, m]
            else:
                for m in range(M):
                    out[c, hh, m] = ((((((0.0 + w0 * K[0, c, hh, m]) + w1 * K[1, c, hh, m]) + w2 * K[2, c, hh, m])
                                       + w3 * K[3, c, hh, m]) + w4 * K[4, c, hh, m]) + w5 * K[5, c, hh, m]) \
                        + Y[c, hh, m]


@_jit
def dopri_step(Y, K, stage, Y_new, ratio, h, arrs, mask, par, P3, Pw, entry, k, rtol, atol, A, B, E, out_T):
    """One Dormand-Prince 5(4) step of every member: ``Y_new``, ``K[1..6]`` and each member's error ratio.

    ``K[0]`` must hold ``f(t, Y)``. ``arrs[s - 1]`` are the direct arrivals
    at the time of stage ``s`` (``s = 1..6``, the last at ``t + h``).
    ``stage`` has the rows the right-hand side reads. ``ratio[m]`` is the
    RMS over member ``m``'s components of ``err / (atol + rtol max(|Y|,
    |Y_new|))``, as :meth:`flowsim.solve.stepper.Stepper.step`.
    """
    C, H, M = Y.shape[0], Y.shape[1], Y.shape[2]
    # the stage sums run with the members innermost (contiguous, vectorised): acc = sum_j a_j K_j, then + Y
    for s in range(1, 6):
        combine_stages(stage, K, A[s], s, h, Y)
        derivative(stage, K[s], arrs[s - 1], mask, par, P3, Pw, entry, k, out_T)
    combine_stages(Y_new, K, B, 6, h, Y)
    derivative(Y_new, K[6], arrs[5], mask, par, P3, Pw, entry, k, out_T)
    for m in range(M):
        ratio[m] = 0.0
    w0, w1, w2, w3 = h * E[0], h * E[1], h * E[2], h * E[3]
    w4, w5, w6 = h * E[4], h * E[5], h * E[6]
    for c in range(C):                              # err = sum_j (h E_j) K_j (from 0, j in order), one pass
        for hh in range(H):
            k0, k1, k2, k3 = K[0, c, hh], K[1, c, hh], K[2, c, hh], K[3, c, hh]
            k4, k5, k6 = K[4, c, hh], K[5, c, hh], K[6, c, hh]
            y0, y1 = Y[c, hh], Y_new[c, hh]
            for m in range(M):
                err = ((((((0.0 + w0 * k0[m]) + w1 * k1[m]) + w2 * k2[m]) + w3 * k3[m]) + w4 * k4[m])
                       + w5 * k5[m]) + w6 * k6[m]
                a, b = abs(y0[m]), abs(y1[m])
                x = err / (atol + rtol * (a if a > b else b))
                ratio[m] += x * x
    n = C * H
    for m in range(M):
        ratio[m] = np.sqrt(ratio[m] / n)
    return ratio


@_jit
def group_coefficients(Y, K, groups, P, h, coef):
    """The quartic interpolant of one step, summed over each group of compartments.

    Parameters
    ----------
    Y : ndarray (C, H, M)
        State at the step's start, people.
    K : ndarray (7, C, H, M)
        The step's stage derivatives, people/day.
    groups : ndarray (G, 2) of int
        First and end row of each group of compartments with equal weights.
    P : ndarray (7, 4)
        RK45's dense-output matrix.
    h : float
        Step length, days.
    coef : ndarray (5, G, H, M)
        Written: ``y(t + theta h) = coef[0] + sum_q coef[q] theta^q`` for each group, people.

    Notes
    -----
    Each coefficient is ``0 + sum over the group's rows c of sum over j of (h P[j, q]) K[j, c]``, added
    in that order (c, then j). The seven terms of a row are added to the running sum in one pass over
    the members (one load and one store of the sum instead of seven), the same operations in the same
    order as adding them in seven passes.
    """
    G, H, M = groups.shape[0], Y.shape[1], Y.shape[2]
    for g in range(G):
        for q in range(5):
            for hh in range(H):
                for m in range(M):
                    coef[q, g, hh, m] = 0.0
        for c in range(groups[g, 0], groups[g, 1]):
            for hh in range(H):
                for m in range(M):
                    coef[0, g, hh, m] += Y[c, hh, m]
            for q in range(4):
                w0, w1, w2, w3 = h * P[0, q], h * P[1, q], h * P[2, q], h * P[3, q]
                w4, w5, w6 = h * P[4, q], h * P[5, q], h * P[6, q]
                for hh in range(H):
                    for m in range(M):
                        coef[q + 1, g, hh, m] = ((((((coef[q + 1, g, hh, m] + w0 * K[0, c, hh, m])
                                                     + w1 * K[1, c, hh, m]) + w2 * K[2, c, hh, m])
                                                   + w3 * K[3, c, hh, m]) + w4 * K[4, c, hh, m])
                                                 + w5 * K[5, c, hh, m]) + w6 * K[6, c, hh, m]


@_jit
def series_polynomial(coef, W, poly):
    """``poly[q] = 0 + sum_g W[g] coef[q, g]`` (g in order): one series' quartic in ``theta`` on a step.

    ``coef`` (5, G, H, M) from :func:`group_coefficients`, ``W`` (G, H, M) the series' weights, ``poly``
    (5, H, M) written (the series' units). The sum of a (power, host) row stays in the cache while the
    groups are added (one output and two inputs per member loop: few alias checks, so short loops stay
    cheap).
    """
    G, H, M = W.shape[0], W.shape[1], W.shape[2]
    for q in range(5):
        for hh in range(H):
            for m in range(M):
                poly[q, hh, m] = 0.0
            for g in range(G):
                for m in range(M):
                    poly[q, hh, m] += W[g, hh, m] * coef[q, g, hh, m]


@_jit
def project_days(coef, W, t, h, first, last, out):
    """Write one series on the days ``first..last`` of a step from its group coefficients.

    ``coef`` (5, G, H, M) from :func:`group_coefficients`; ``W`` (G, H, M) the
    weights of this series; ``out`` (M, H, D) the series, written in place.
    """
    project_days_into(coef, W, t, h, first, last, out, np.empty((5, W.shape[1], W.shape[2])))


@_jit
def project_days_into(coef, W, t, h, first, last, out, c):
    """:func:`project_days` with a (5, H, M) scratch buffer ``c`` for the series' polynomial.

    Each member's and host's days are written in one run (``out`` is member-major); the arrays are
    indexed directly (a row view per member and host cost a reference count each).
    """
    H, M = W.shape[1], W.shape[2]
    series_polynomial(coef, W, c)
    n = last - first + 1
    theta = np.empty(n)
    for d in range(n):
        theta[d] = (first + d - t) / h
    for m in range(M):
        for hh in range(H):
            c0, c1, c2, c3, c4 = c[0, hh, m], c[1, hh, m], c[2, hh, m], c[3, hh, m], c[4, hh, m]
            for d in range(n):
                th = theta[d]
                out[m, hh, np.uint64(first + d)] = (((c4 * th + c3) * th + c2) * th + c1) * th + c0


@_jit
def project_state(Y, W, groups, day, outs):
    """Write the series of one day from a state ``Y`` (C, H, M) with weights ``W`` (V, G, H, M)."""
    V, G, H, M = W.shape[0], W.shape[1], W.shape[2], W.shape[3]
    for hh in range(H):
        for m in range(M):
            for v in range(V):
                x = 0.0
                for g in range(G):
                    y = 0.0
                    for c in range(groups[g, 0], groups[g, 1]):
                        y += Y[c, hh, m]
                    x += W[v, g, hh, m] * y
                outs[v, m, hh, day] = x


# ------------------------------------------------------------------------------------------------ arrivals
# Arrival schedules packed into flat arrays by flowsim.solve.fused.pack_arrivals: one row of ``term_i`` per
# schedule term ``(kind, host, member or -1 for every member, offset into term_f, length)``, in the order in
# which flowsim.scenario.arrivals.CompiledArrivals.rate adds them up.
PULSE, LINEAR, DAILY = 0, 1, 2


@_jit
def schedule_rate(kind, f, off, n, t):
    """Rate of one packed schedule at ``t`` (days), people/day: the arithmetic of the schedules' ``rate``.

    ``PULSE``: ``f[off:off + 5]`` = total, shape, scale (days), start t0 (days), log normaliser
    ``-lgamma(shape) - log(scale)`` (as computed by the schedule: the same float).
    ``LINEAR``: ``n`` knots ``f[off:off + n]`` (days), their rates ``f[off + n:off + 2n]`` (numpy.interp
    inside) and the integrals up to each knot ``f[off + 2n:off + 3n]`` (people).
    ``DAILY``: ``f[off]`` = t0 (days), then ``n`` daily counts (people/day over ``[t0 + d, t0 + d + 1)``),
    then the ``n + 1`` integrals up to each day (people).
    """
    if kind == PULSE:
        total, shape, scale, t0, log_norm = f[off], f[off + 1], f[off + 2], f[off + 3], f[off + 4]
        x = (t - t0) / scale
        if x <= 0.0:
            return total / scale if (x == 0.0 and shape == 1.0) else 0.0
        return total * math.exp((shape - 1.0) * math.log(x) - x + log_norm)
    if kind == LINEAR:
        last = off + n - 1
        if t < f[off] or t > f[last]:
            return 0.0
        if t == f[last]:
            return f[last + n]
        lo, hi = off, last                       # f[lo] <= t < f[hi]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if f[mid] <= t:
                lo = mid
            else:
                hi = mid
        if f[lo] == t:
            return f[lo + n]
        slope = (f[lo + 1 + n] - f[lo + n]) / (f[lo + 1] - f[lo])       # numpy.interp's arithmetic
        return slope * (t - f[lo]) + f[lo + n]
    d = math.floor(t - f[off])
    if 0 <= d < n:
        return f[off + 1 + d]
    return 0.0


@_jit
def arrival_rates(t, lo, hi, term_i, term_f, open_, D, diverts, raw, out):
    """Direct arrivals at ``t`` clamped to ``[lo, hi]``, closures and diversion applied, into ``out`` (H, W).

    ``W`` is 1 (every member shares the schedules) or M. ``open_`` (H,) is 1.0 for an open host, 0.0 for a
    closed one; ``D`` (H, H) the diversion shares (used when ``diverts``); ``raw`` (H, W) is scratch. As
    :meth:`flowsim.scenario.arrivals.CompiledArrivals.rate` with the segment's ``is_open``.
    """
    tt = min(max(t, lo), hi)
    H, W = out.shape[0], out.shape[1]
    for h in range(H):
        for m in range(W):
            raw[h, m] = 0.0
    for n in range(term_i.shape[0]):
        v = schedule_rate(term_i[n, 0], term_f, term_i[n, 3], term_i[n, 4], tt)
        h, m = term_i[n, 1], term_i[n, 2]
        if m < 0:
            for j in range(W):
                raw[h, j] += v
        else:
            raw[h, m] += v
    for j in range(H):
        for m in range(W):
            x = raw[j, m] * open_[j]
            if diverts:
                acc = 0.0
                for h in range(H):
                    acc += raw[h, m] * (1.0 - open_[h]) * D[h, j]
                x += acc * open_[j]
            out[j, m] = x


_MACHEP = 1.11022302462515654042e-16
_BIG, _BIGINV = 4.503599627370496e15, 2.22044604925031308085e-16


@_jit
def gammainc(a, x):
    """Regularised lower incomplete gamma function ``P(a, x)`` for ``a >= 1``, ``x >= 0`` (Cephes' igam).

    The series for ``x <= max(1, a)``, else one minus the continued fraction of ``Q(a, x)``; agrees
    with ``scipy.special.gammainc`` to about 1e-15 for a pulse's shapes (tests compare them).
    """
    if x <= 0.0:
        return 0.0
    ax = a * math.log(x) - x - math.lgamma(a)
    if ax < -709.78:
        return 0.0 if x < a else 1.0
    ax = math.exp(ax)
    if x <= 1.0 or x <= a:
        r, c, ans = a, 1.0, 1.0
        while True:
            r += 1.0
            c *= x / r
            ans += c
            if c <= ans * _MACHEP:
                break
        return ans * ax / a
    y = 1.0 - a
    z = x + y + 1.0
    c = 0.0
    pkm2, qkm2, pkm1, qkm1 = 1.0, x, x + 1.0, z * x
    ans = pkm1 / qkm1
    while True:
        c += 1.0
        y += 1.0
        z += 2.0
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        if qk != 0.0:
            r = pk / qk
            err = abs((ans - r) / r)
            ans = r
        else:
            err = 1.0
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        if abs(pk) > _BIG:
            pkm2 *= _BIGINV
            pkm1 *= _BIGINV
            qkm2 *= _BIGINV
            qkm1 *= _BIGINV
        if err <= _MACHEP:
            break
    return 1.0 - ans * ax


@_jit
def schedule_integral(kind, f, off, n, t):
    """Integral of one packed schedule's rate over ``[0, t]``, people (the schedules' ``cumulative``)."""
    if kind == PULSE:
        x = (t - f[off + 3]) / f[off + 2]
        return f[off] * gammainc(f[off + 1], x if x > 0.0 else 0.0)
    if kind == LINEAR:
        tt = min(max(t, f[off]), f[off + n - 1])
        i = off                                   # searchsorted(knots, tt, "right") - 1, within [0, n - 2]
        while i + 1 < off + n - 1 and f[i + 1] <= tt:
            i += 1
        dt = tt - f[i]
        slope = (f[i + 1 + n] - f[i + n]) / (f[i + 1] - f[i])
        return f[i + 2 * n] + f[i + n] * dt + 0.5 * slope * dt * dt
    x = min(max(t - f[off], 0.0), float(n))
    d = min(int(math.floor(x)), n - 1)
    return f[off + 1 + n + d] + f[off + 1 + d] * (x - d)


@_jit
def remaining_arrivals(t, t1, term_i, term_f, open_, D, out):
    """Direct arrivals of all hosts over ``[t, t1]`` (one segment: closures fixed), people, into ``out`` (W,).

    A host's own arrivals count while it is open; a closed host's count with the diversion shares
    towards open hosts (as :meth:`flowsim.scenario.arrivals.CompiledArrivals.cumulative`).
    """
    H = open_.size
    for m in range(out.size):
        out[m] = 0.0
    for n in range(term_i.shape[0]):
        h, m = term_i[n, 1], term_i[n, 2]
        w = open_[h]
        if open_[h] < 1.0:
            acc = 0.0
            for j in range(H):
                acc += D[h, j] * open_[j]
            w += (1.0 - open_[h]) * acc
        if w == 0.0:
            continue
        kind, off, length = term_i[n, 0], term_i[n, 3], term_i[n, 4]
        v = w * (schedule_integral(kind, term_f, off, length, t1) - schedule_integral(kind, term_f, off, length, t))
        if m < 0:
            for j in range(out.size):
                out[j] += v
        else:
            out[m] += v


# ----------------------------------------------------------------------------------------------- the march
# Return codes of march() (errors for the caller to raise), and the slots of its state arrays.
DONE, TOO_MANY_STEPS, STEP_TOO_SMALL, PLAN_MISMATCH, PLAN_TOO_LONG = range(5)
S_NFEV, S_REJECTED, S_ACCEPTED = range(3)
F_T, F_H_NEXT = range(2)
SINK_NONE, SINK_PROJECTED, SINK_FULL = range(3)
SAFETY, MIN_FACTOR, MAX_FACTOR, EXPONENT = 0.9, 0.2, 10.0, -1.0 / 5.0


@_jit
def next_step(h, err, rejected_before):
    """``solve_ivp``'s controller (:func:`flowsim.solve.dopri._next_step`): ``(accepted, next step)``."""
    if not err <= 1.0:
        if math.isfinite(err):
            return False, h * max(MIN_FACTOR, SAFETY * err ** EXPONENT)
        return False, h * MIN_FACTOR
    factor = MAX_FACTOR if err == 0 else min(MAX_FACTOR, SAFETY * err ** EXPONENT)
    return True, h * (min(1.0, factor) if rejected_before else factor)


@_jit
def _nanmax(a, b):
    """``numpy.maximum``: NaN when either is NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return a if a > b else b


@_jit
def _nanmin(a, b):
    """``numpy.minimum``: NaN when either is NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return a if a < b else b


@_jit
def _rms_scaled(X, Y, rtol, atol, out):
    """``out[m] = sqrt(mean over (C, H) of (X / (atol + rtol |Y|))^2)``."""
    C, H, M = X.shape[0], X.shape[1], X.shape[2]
    for m in range(M):
        out[m] = 0.0
    for c in range(C):
        for hh in range(H):
            for m in range(M):
                x = X[c, hh, m] / (atol + abs(Y[c, hh, m]) * rtol)
                out[m] += x * x
    n = C * H
    for m in range(M):
        out[m] = math.sqrt(out[m] / n)


@_jit
def _regime(starts, day):
    """Index of the regime in force on ``day``: ``searchsorted(starts, day, side="right") - 1``."""
    r = 0
    while r + 1 < starts.size and starts[r + 1] <= day:
        r += 1
    return r


@_jit
def _project_state_list(Y, W, groups, day, outs):
    """:func:`project_state` of one day into the series ``outs[v]`` (M, H, D), ``v < V``; ``W`` (V, G, H, M)."""
    V, G, H, M = W.shape[0], W.shape[1], W.shape[2], W.shape[3]
    for v in range(V):
        out = outs[v]
        for hh in range(H):
            for m in range(M):
                x = 0.0
                for g in range(G):
                    y = 0.0
                    for c in range(groups[g, 0], groups[g, 1]):
                        y += Y[c, hh, m]
                    x += W[v, g, hh, m] * y
                out[m, hh, day] = x


@_jit
def project_accepted(t, h, t_new, Y, K, Y_new, W, starts, groups, outs, P, coef, poly):
    """:meth:`flowsim.solve.sinks.Projected.step` with the numba kernel, in compiled code.

    ``W`` (R, V, G, H, M): each regime's weights; ``starts`` (R,) their first days; ``outs`` a tuple whose
    first V arrays are the series (M, H, D); ``coef`` (5, G, H, M) and ``poly`` (5, H, M) scratch.
    """
    first, last = math.floor(t) + 1, math.floor(t_new)
    if last < first:
        return
    if last == t_new:                                         # the step ends on a day: no interpolation
        _project_state_list(Y_new, W[_regime(starts, t_new)], groups, last, outs)
        last -= 1
    if last >= first:
        Wr = W[_regime(starts, first)]                        # days inside a step share a regime
        group_coefficients(Y, K, groups, P, h, coef)
        for v in range(Wr.shape[0]):
            project_days_into(coef, Wr[v], t, h, first, last, outs[v], poly)


@_jit
def full_accepted(t, h, t_new, Y, K, Y_new, P, out):
    """:meth:`flowsim.solve.sinks.FullStates.step` in compiled code: ``out`` (D, C, H, M) on the step's days."""
    first, last = math.floor(t) + 1, math.floor(t_new)
    if last < first:
        return
    if last == t_new:
        out[last] = Y_new
        last -= 1
    C, H, M = Y.shape[0], Y.shape[1], Y.shape[2]
    for d in range(first, last + 1):
        theta = (d - t) / h
        p1 = theta
        p2 = p1 * theta
        p3 = p2 * theta
        p4 = p3 * theta
        w0 = P[0, 0] * p1 + P[0, 1] * p2 + P[0, 2] * p3 + P[0, 3] * p4
        w1 = P[1, 0] * p1 + P[1, 1] * p2 + P[1, 2] * p3 + P[1, 3] * p4
        w2 = P[2, 0] * p1 + P[2, 1] * p2 + P[2, 2] * p3 + P[2, 3] * p4
        w3 = P[3, 0] * p1 + P[3, 1] * p2 + P[3, 2] * p3 + P[3, 3] * p4
        w4 = P[4, 0] * p1 + P[4, 1] * p2 + P[4, 2] * p3 + P[4, 3] * p4
        w5 = P[5, 0] * p1 + P[5, 1] * p2 + P[5, 2] * p3 + P[5, 3] * p4
        w6 = P[6, 0] * p1 + P[6, 1] * p2 + P[6, 2] * p3 + P[6, 3] * p4
        dd = np.uint64(d)                                     # no negative-index wrap-around in the loop
        for c in range(C):                                    # y + h sum_j w_j K_j, as flowsim.solve.stepper.dense
            for hh in range(H):
                for m in range(M):                            # the sum from 0, j in order, in one pass
                    acc = ((((((0.0 + w0 * K[0, c, hh, m]) + w1 * K[1, c, hh, m]) + w2 * K[2, c, hh, m])
                             + w3 * K[3, c, hh, m]) + w4 * K[4, c, hh, m]) + w5 * K[5, c, hh, m]) \
                        + w6 * K[6, c, hh, m]
                    out[dd, c, hh, m] = Y[c, hh, m] + h * acc


@_jit
def march(ist, fst, Y, Y_new, K, stage, ratio, worst, dropped, threshold, edges, seg_regime, seg_open,
          pars, P3s, Pws, opens, D, diverts, entry, k, term_i, term_f, arrs, raw, remaining, adaptive,
          plan_t, plan_h, acc_t, acc_h, max_steps, rtol, atol, A, B, Cn, E, P, out_T, sink, W, starts, groups,
          outs, coef, poly, full, d_buf):
    """A whole Dormand-Prince march of a batch (:func:`flowsim.solve.dopri.march`) in one compiled call.

    Runs segment after segment (``edges``; each with its parameter block ``pars[seg_regime[s]]`` and its
    onward shares ``P3s, Pws, opens[seg_open[s]]``) adaptively (``adaptive``: ``solve_ivp``'s controller,
    a step accepted when every member passes) or on the plan ``plan_t, plan_h``; tests each member's
    error, takes the drained-transit test (``threshold`` (M,) people; members drained set aside into
    ``dropped``), and writes the dense output of every accepted step into the sink (``SINK_PROJECTED``:
    the series ``outs`` with weights ``W``; ``SINK_FULL``: every compartment into ``full``). Accepted steps
    go to ``acc_t, acc_h``; ``ist`` receives ``nfev``, rejected and accepted counts, ``fst`` the time
    reached (and the step that fell too small). Returns ``DONE``, or an error code for the caller to
    raise: ``TOO_MANY_STEPS`` (more than ``max_steps``), ``STEP_TOO_SMALL``, ``PLAN_MISMATCH``,
    ``PLAN_TOO_LONG``.

    ``Y`` (C, H, M) is the initial state (overwritten) and ``Y_new`` a buffer of its shape; ``arrs``
    (6, H, W) and ``raw`` (H, W) arrival scratch (``W`` 1 or M), ``remaining`` (W,) and ``d_buf`` (3, M)
    scratch.
    """
    n_seg, n_plan = edges.size - 1, plan_t.size
    C, H, M = Y.shape[0], Y.shape[1], Y.shape[2]
    per_member = remaining.size > 1
    nfev, rejected, n_acc, i = 0, 0, 0, 0
    mask = np.ones(M)
    drained = np.zeros(M, dtype=np.bool_)
    newly = np.zeros(M, dtype=np.bool_)
    t = edges[0]
    for s in range(n_seg):
        t0, t1 = edges[s], edges[s + 1]
        eps = 1e-9 * (t1 - t0)
        lo, hi = t0 + eps, t1 - eps
        par, P3, Pw, op = pars[seg_regime[s]], P3s[seg_open[s]], Pws[seg_open[s]], opens[seg_open[s]]
        for m in range(M):
            mask[m] = 1.0
            drained[m] = False
        t = t0
        arrival_rates(t, lo, hi, term_i, term_f, op, D, diverts, raw, arrs[0])
        derivative(Y, K[0], arrs[0], mask, par, P3, Pw, entry, k, out_T)
        nfev += 1
        h_next = 0.0
        rejected_before = False
        if adaptive:                                          # solve_ivp's initial step (Stepper.initial_step)
            F, Y1, F1 = K[0], Y_new, K[1]
            d0, d1, d2 = d_buf[0], d_buf[1], d_buf[2]
            _rms_scaled(Y, Y, rtol, atol, d0)
            _rms_scaled(F, Y, rtol, atol, d1)
            h0 = math.inf                                     # min over members, NaN if any is NaN
            for m in range(M):
                x = 1e-6 if (d0[m] < 1e-5 or d1[m] < 1e-5) else 0.01 * d0[m] / _nanmax(d1[m], 1e-300)
                h0 = _nanmin(h0, x)
            if t1 - t0 < h0:                                  # Python's min(h0, t1 - t0): NaN stays
                h0 = t1 - t0
            for c in range(C):
                for hh in range(H):
                    for m in range(M):
                        Y1[c, hh, m] = Y[c, hh, m] + h0 * F[c, hh, m]
            arrival_rates(t0 + h0, lo, hi, term_i, term_f, op, D, diverts, raw, arrs[0])
            derivative(Y1, F1, arrs[0], mask, par, P3, Pw, entry, k, out_T)
            for c in range(C):
                for hh in range(H):
                    for m in range(M):
                        F1[c, hh, m] -= F[c, hh, m]
            _rms_scaled(F1, Y, rtol, atol, d2)
            h1 = math.inf
            for m in range(M):
                d = _nanmax(d1[m], d2[m] / h0)
                x = max(1e-6, h0 * 1e-3) if d <= 1e-15 else (0.01 / _nanmax(d, 1e-300)) ** (-EXPONENT)
                h1 = _nanmin(h1, x)
            h_next = 100 * h0                                 # Python's min(100 h0, h1, t1 - t0)
            if h1 < h_next:
                h_next = h1
            if t1 - t0 < h_next:
                h_next = t1 - t0
            nfev += 1
        while t < t1:
            if adaptive:
                h = t1 - t if t + h_next >= t1 - 1e-12 * max(1.0, t1) else h_next
            else:
                if i >= n_plan or plan_t[i] != t:
                    fst[F_T] = t
                    return PLAN_MISMATCH
                h = plan_h[i]
                i += 1
            t_new = t1 if t + h >= t1 else t + h
            for j in range(1, 6):
                arrival_rates(t + Cn[j] * h if Cn[j] < 1.0 else t_new, lo, hi, term_i, term_f, op, D, diverts,
                              raw, arrs[j - 1])
            arrival_rates(t_new, lo, hi, term_i, term_f, op, D, diverts, raw, arrs[5])
            dopri_step(Y, K, stage, Y_new, ratio, h, arrs, mask, par, P3, Pw, entry, k, rtol, atol, A, B, E, out_T)
            nfev += 6
            if adaptive:
                if n_acc + rejected >= max_steps:
                    fst[F_T] = t
                    return TOO_MANY_STEPS
                err = ratio[0]                                # the largest ratio; NaN if any is NaN
                for m in range(1, M):
                    if math.isnan(err):
                        break
                    if math.isnan(ratio[m]) or ratio[m] > err:
                        err = ratio[m]
                ok, h_next = next_step(h, err, rejected_before)
                rejected_before = not ok
                if not ok:
                    rejected += 1
                    if h_next < 1e-12 * max(1.0, abs(t)):
                        fst[F_T], fst[F_H_NEXT] = t, h_next
                        return STEP_TOO_SMALL
                    continue
            for m in range(M):                                # np.fmax, then NaN where the ratio is NaN
                r = ratio[m]
                if math.isnan(r) or math.isnan(worst[m]) or r > worst[m]:
                    worst[m] = r
            acc_t[n_acc] = t
            acc_h[n_acc] = h
            n_acc += 1
            ist[S_NFEV], ist[S_REJECTED], ist[S_ACCEPTED] = nfev, rejected, n_acc
            if sink == SINK_PROJECTED:
                project_accepted(t, h, t_new, Y, K, Y_new, W, starts, groups, outs, P, coef, poly)
            elif sink == SINK_FULL:
                full_accepted(t, h, t_new, Y, K, Y_new, P, full)
            K[0] = K[6]                                       # first same as last
            Y, Y_new = Y_new, Y
            t = t_new
            any_ = False
            for m in range(M):
                newly[m] = False
                if not drained[m]:
                    x = 0.0
                    for hh in range(H):
                        x += abs(Y[0, hh, m])
                    newly[m] = x <= threshold[m]
                    any_ = any_ or newly[m]
            if any_:                                          # ... and no more than that still to arrive
                remaining_arrivals(t, t1, term_i, term_f, op, D, remaining)
                any_ = False
                for m in range(M):
                    if newly[m] and not remaining[m if per_member else 0] <= threshold[m]:
                        newly[m] = False
                    any_ = any_ or newly[m]
            if any_:                                          # transit drained: exactly zero from now on
                for m in range(M):
                    if newly[m]:
                        x = 0.0
                        for hh in range(H):
                            x += Y[0, hh, m]
                            Y[0, hh, m] = 0.0
                        dropped[m] += x
                        drained[m] = True
                        mask[m] = 0.0
                arrival_rates(t, lo, hi, term_i, term_f, op, D, diverts, raw, arrs[0])
                derivative(Y, K[0], arrs[0], mask, par, P3, Pw, entry, k, out_T)
                nfev += 1
    fst[F_T] = t
    ist[S_NFEV], ist[S_REJECTED], ist[S_ACCEPTED] = nfev, rejected, n_acc
    if not adaptive and i != n_plan:
        return PLAN_TOO_LONG
    return DONE
