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

Parameter block
---------------
``par`` has shape ``(NPAR, H, M)``: the rows named by the ``I_*`` constants
below, each an ``(H, M)`` rate of :class:`~flowsim.model.rhs.FlowRHS`
(1/day, or a fraction for ``stay_out`` and ``q_out``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

(I_ONWARD, I_S, I_SETTLE_S, I_SETTLE_R, I_NU_R, I_G, I_F0, I_F0_PER_JOB, I_G_LAM_S, I_PHI_S, I_LAM_NU_R,
 I_LAM_E, I_LAM_U, I_LAM_S, I_LAM_R, I_BACK, I_STAY_OUT, I_Q_OUT) = range(18)
NPAR = 18
PAR_NAMES = ("onward", "s", "settle_S", "settle_R", "nu_R", "g", "f0", "f0_per_job", "g_lam_S", "phi_S",
             "lam_nu_R", "lam_E", "lam_U", "lam_S", "lam_R", "back", "stay_out", "q_out")


@njit(cache=True, nogil=True)
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
    out_T : ndarray (H, M)
        Scratch (onward leavers, people/day).
    """
    H, M = Y.shape[1], Y.shape[2]
    counters = dY.shape[0] > k + 4
    per_P = P3.shape[2] > 1
    per_a = arr.shape[1] > 1
    has_entry = entry.shape[0] > 0
    iR, iE, iU = k + 1, k + 2, k + 3
    for h in range(H):
        for m in range(M):
            out_T[h, m] = par[I_ONWARD, h, m] * Y[0, h, m]
    for h in range(H):
        for m in range(M):
            mp = m if per_P else 0
            acc = 0.0
            for j in range(H):
                acc += P3[h, j, mp] * out_T[j, m]
            a = arr[h, m if per_a else 0] * mask[m]
            T = Y[0, h, m]
            R, E, U = Y[iR, h, m], Y[iE, h, m], Y[iU, h, m]
            entries = acc + a
            dY[0, h, m] = entries - par[I_S, h, m] * T
            f = par[I_F0, h, m] - par[I_F0_PER_JOB, h, m] * E
            if f < 0.0:
                f = 0.0
            g = par[I_G, h, m]
            hazard = par[I_G_LAM_S, h, m] + par[I_PHI_S, h, m] * f
            settling = par[I_SETTLE_S, h, m] * T + par[I_NU_R, h, m] * R
            sum_S = 0.0
            prev = 0.0
            for i in range(k):
                Si = Y[1 + i, h, m]
                sum_S += Si
                if has_entry:
                    d = entry[i, m] * settling - hazard * Si
                    if i > 0:
                        d += g * prev
                elif i == 0:
                    d = settling - hazard * Si
                else:
                    d = g * prev - hazard * Si
                dY[1 + i, h, m] = d
                prev = Si
            dY[iR, h, m] = par[I_SETTLE_R, h, m] * T - par[I_LAM_NU_R, h, m] * R
            dY[iE, h, m] = f * (par[I_PHI_S, h, m] * sum_S + U) - par[I_LAM_E, h, m] * E
            dY[iU, h, m] = g * prev - (f + par[I_LAM_U, h, m]) * U
            if counters:
                D = (par[I_LAM_S, h, m] * sum_S + par[I_LAM_R, h, m] * R + par[I_LAM_E, h, m] * E
                     + par[I_LAM_U, h, m] * U)
                dY[k + 4, h, m] = par[I_BACK, h, m] * T + par[I_STAY_OUT, h, m] * D
                dY[k + 5, h, m] = out_T[h, m] * Pw[h, m if per_P else 0] + par[I_Q_OUT, h, m] * D
                dY[k + 6, h, m] = entries
    return dY


@njit(cache=True, nogil=True)
def dopri_step(Y, K, stage, Y_new, ratio, h, arrs, mask, par, P3, Pw, entry, k, rtol, atol, A, B, E, out_T):
    """One Dormand-Prince 5(4) step of every member: ``Y_new``, ``K[1..6]`` and each member's error ratio.

    ``K[0]`` must hold ``f(t, Y)``. ``arrs[s - 1]`` are the direct arrivals
    at the time of stage ``s`` (``s = 1..6``, the last at ``t + h``).
    ``stage`` has the rows the right-hand side reads. ``ratio[m]`` is the
    RMS over member ``m``'s components of ``err / (atol + rtol max(|Y|,
    |Y_new|))``, as :meth:`flowsim.solve.stepper.Stepper.step`.
    """
    C, H, M = Y.shape[0], Y.shape[1], Y.shape[2]
    n_read = stage.shape[0]
    # the stage sums run with the members innermost (contiguous, vectorised): acc = sum_j a_j K_j, then + Y
    for s in range(1, 6):
        for c in range(n_read):
            for hh in range(H):
                row = stage[c, hh]
                for m in range(M):
                    row[m] = 0.0
                for j in range(s):
                    w = h * A[s, j]
                    Kj = K[j, c, hh]
                    for m in range(M):
                        row[m] += w * Kj[m]
                y = Y[c, hh]
                for m in range(M):
                    row[m] += y[m]
        derivative(stage, K[s], arrs[s - 1], mask, par, P3, Pw, entry, k, out_T)
    for c in range(C):
        for hh in range(H):
            row = Y_new[c, hh]
            for m in range(M):
                row[m] = 0.0
            for j in range(6):
                w = h * B[j]
                Kj = K[j, c, hh]
                for m in range(M):
                    row[m] += w * Kj[m]
            y = Y[c, hh]
            for m in range(M):
                row[m] += y[m]
    derivative(Y_new, K[6], arrs[5], mask, par, P3, Pw, entry, k, out_T)
    for m in range(M):
        ratio[m] = 0.0
    err = out_T[0]                                  # scratch row (M,): out_T is free until the next call
    for c in range(C):
        for hh in range(H):
            for m in range(M):
                err[m] = 0.0
            for j in range(7):
                w = h * E[j]
                Kj = K[j, c, hh]
                for m in range(M):
                    err[m] += w * Kj[m]
            y0, y1 = Y[c, hh], Y_new[c, hh]
            for m in range(M):
                a, b = abs(y0[m]), abs(y1[m])
                x = err[m] / (atol + rtol * (a if a > b else b))
                ratio[m] += x * x
    n = C * H
    for m in range(M):
        ratio[m] = np.sqrt(ratio[m] / n)
    return ratio


@njit(cache=True, nogil=True)
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
                for j in range(7):
                    w = h * P[j, q]
                    for hh in range(H):
                        for m in range(M):
                            coef[q + 1, g, hh, m] += w * K[j, c, hh, m]


@njit(cache=True, nogil=True)
def project_days(coef, W, t, h, first, last, out):
    """Write one series on the days ``first..last`` of a step from its group coefficients.

    ``coef`` (5, G, H, M) from :func:`group_coefficients`; ``W`` (G, H, M) the
    weights of this series; ``out`` (M, H, D) the series, written in place.
    """
    G, H, M = W.shape[0], W.shape[1], W.shape[2]
    c = np.zeros((5, H, M))                          # the series' polynomial, members innermost (vectorised)
    for q in range(5):
        for g in range(G):
            for hh in range(H):
                for m in range(M):
                    c[q, hh, m] += W[g, hh, m] * coef[q, g, hh, m]
    for m in range(M):
        for hh in range(H):
            for d in range(last - first + 1):
                theta = (first + d - t) / h
                x = c[4, hh, m] * theta
                x = (x + c[3, hh, m]) * theta
                x = (x + c[2, hh, m]) * theta
                x = (x + c[1, hh, m]) * theta
                out[m, hh, first + d] = x + c[0, hh, m]


@njit(cache=True, nogil=True)
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
