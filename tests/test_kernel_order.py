"""The compiled march adds in a fixed order (issue 13): bit for bit against numpy transcriptions of that order.

The numba kernels were rewritten for speed (one pass per row instead of one per
term, no row views, no negative-index wrap-around) on the condition that no
result changes by a bit. These tests pin the order of every sum they compute:
each compiled result must equal, exactly, the same sum written as numpy
operations on whole arrays (numpy's elementwise ``+`` and ``*`` are single IEEE
operations, so the order is all that can differ). They skip without numba.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsim.solve import kernels
from flowsim.solve.stepper import A, B, E, P

pytestmark = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed (flowsim[fast])")


def _nb():
    return kernels._kernels()


def _weighted_sum(K, w, start=None):
    """``start + sum_j w[j] K[j]`` added term by term, j in order (``start`` 0 when omitted)."""
    acc = np.zeros(K.shape[1:]) if start is None else start
    for j in range(len(w)):
        acc = acc + w[j] * K[j]
    return acc


@settings(max_examples=40, deadline=None)
@given(M=st.integers(1, 37), n=st.integers(1, 6), h=st.floats(1e-3, 40.0), seed=st.integers(0, 2**32 - 1))
def test_stage_sums_in_term_order(M, n, h, seed):
    """``combine_stages``: ``(0 + (h a_0) K_0 + ... + (h a_{n-1}) K_{n-1}) + Y``, any batch size (vector tails)."""
    rng = np.random.default_rng(seed)
    C, H = 5, 3
    K = rng.normal(size=(7, C, H, M)) * 10.0 ** rng.integers(-3, 6, size=(7, C, H, M))
    Y = rng.normal(size=(C, H, M)) * 1e4
    coef = B if n == 6 else A[n]
    out = np.full((C - 1, H, M), np.nan)                   # fewer rows than Y: only those are written
    _nb().combine_stages(out, K, coef, n, h, Y)
    want = _weighted_sum(K[:n], [h * coef[j] for j in range(n)]) + Y
    np.testing.assert_array_equal(out, want[:C - 1])


def _random_step_inputs(M, seed):
    rng = np.random.default_rng(seed)
    nb = _nb()
    H, k = 3, 2
    C = k + 4
    par = rng.uniform(0.001, 0.2, size=(nb.NPAR, H, M))
    par[nb.I_STAY_OUT] = rng.uniform(0, 1, size=(H, M))
    P3 = rng.uniform(0, 0.3, size=(H, H, 1))
    Pw = rng.uniform(0, 0.3, size=(H, 1))
    arrs = rng.uniform(0, 500, size=(6, H, 1))
    Y = rng.uniform(0, 1e4, size=(C, H, M))
    return Y, par, P3, Pw, arrs, k


@pytest.mark.parametrize("M", [1, 7, 40])
def test_dopri_step_sums_in_term_order(M):
    """``dopri_step``: each stage's state, ``Y_new`` and the error ratios from the stage derivatives, exactly."""
    nb = _nb()
    Y, par, P3, Pw, arrs, k = _random_step_inputs(M, seed=M)
    C, H = Y.shape[0], Y.shape[1]
    mask, entry, out_T = np.ones(M), np.zeros((0, 0)), np.empty((H + 5, M))
    K = np.empty((7, C, H, M))
    nb.derivative(Y, K[0], arrs[0], mask, par, P3, Pw, entry, k, out_T)
    stage, Y_new, ratio = np.empty((C, H, M)), np.empty((C, H, M)), np.empty(M)
    h, rtol, atol = 0.37, 1e-6, 1e-4
    nb.dopri_step(Y, K, stage, Y_new, ratio, h, arrs, mask, par, P3, Pw, entry, k, rtol, atol, A, B, E, out_T)
    for s in range(1, 6):                                  # K[s] is f of the stage built from K[:s] in order
        y_s = _weighted_sum(K[:s], [h * A[s, j] for j in range(s)]) + Y
        dY = np.empty((C, H, M))
        nb.derivative(y_s, dY, arrs[s - 1], mask, par, P3, Pw, entry, k, out_T)
        np.testing.assert_array_equal(K[s], dY)
    np.testing.assert_array_equal(Y_new, _weighted_sum(K[:6], [h * b for b in B]) + Y)
    err = _weighted_sum(K, [h * e for e in E])
    x = err / (atol + rtol * np.maximum(np.abs(Y), np.abs(Y_new)))
    total = np.zeros(M)
    for c in range(C):                                     # the squares added over (c, host) in order
        for hh in range(H):
            total = total + x[c, hh] * x[c, hh]
    np.testing.assert_array_equal(ratio, np.sqrt(total / (C * H)))
    assert np.all(ratio > 0)


@pytest.mark.parametrize("M", [1, 5, 33])
def test_dense_output_sums_in_term_order(M):
    """The kept series' days: group coefficients (rows, then terms, in order), the polynomial, Horner's rule."""
    nb = _nb()
    rng = np.random.default_rng(M)
    C, H, D = 6, 2, 30
    groups = np.array([[0, 1], [1, 4], [4, 6]], dtype=np.int64)
    Y = rng.uniform(0, 1e4, size=(C, H, M))
    K = rng.normal(size=(7, C, H, M)) * 100
    W = rng.normal(size=(len(groups), H, M))
    t, h, first, last = 3.25, 6.5, 4, 9
    coef = np.empty((5, len(groups), H, M))
    nb.group_coefficients(Y, K, groups, P, h, coef)
    want = np.zeros_like(coef)
    for g, (lo, hi) in enumerate(groups):
        for c in range(lo, hi):
            want[0, g] = want[0, g] + Y[c]
            for q in range(4):
                want[q + 1, g] = _weighted_sum(K[:, c], [h * P[j, q] for j in range(7)], start=want[q + 1, g])
    np.testing.assert_array_equal(coef, want)
    poly = np.empty((5, H, M))
    nb.series_polynomial(coef, W, poly)
    want_poly = np.zeros((5, H, M))
    for g in range(len(groups)):
        want_poly = want_poly + W[g] * coef[:, g]
    np.testing.assert_array_equal(poly, want_poly)
    out = np.full((M, H, D), -1.0)
    nb.project_days_into(coef, W, t, h, first, last, out, np.empty((5, H, M)))
    for d in range(first, last + 1):
        th = (d - t) / h
        c0, c1, c2, c3, c4 = want_poly
        np.testing.assert_array_equal(out[:, :, d], ((((c4 * th + c3) * th + c2) * th + c1) * th + c0).T)
    assert np.all(out[:, :, :first] == -1.0) and np.all(out[:, :, last + 1:] == -1.0)


def test_full_states_sum_in_term_order():
    """``full_accepted`` (FullStates): ``y + h sum_j w_j(theta) K_j`` on each day, the state itself on the last."""
    nb = _nb()
    rng = np.random.default_rng(11)
    C, H, M, D = 4, 3, 9, 12
    Y, Y_new = rng.uniform(0, 1e4, size=(C, H, M)), rng.uniform(0, 1e4, size=(C, H, M))
    K = rng.normal(size=(7, C, H, M)) * 100
    out = np.full((D, C, H, M), -1.0)
    t, h = 2.5, 5.5                                        # days 3..8; day 8 is the step's end
    nb.full_accepted(t, h, t + h, Y, K, Y_new, P, out)
    for d in range(3, 8):
        theta = (d - t) / h
        p1 = theta
        p2 = p1 * theta
        p3 = p2 * theta
        p4 = p3 * theta
        w = [P[j, 0] * p1 + P[j, 1] * p2 + P[j, 2] * p3 + P[j, 3] * p4 for j in range(7)]
        np.testing.assert_array_equal(out[d], Y + h * _weighted_sum(K, w))
    np.testing.assert_array_equal(out[8], Y_new)
    assert np.all(out[:3] == -1.0) and np.all(out[9:] == -1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e12, 1e12), st.sampled_from([0.0, -0.0, 1e300, -1e300])), min_size=1,
                max_size=40))
def test_row_extremes_are_numpys(values):
    """The summary kernel's lane-wise largest and smallest value of a row equal ``max`` and ``min``."""
    from flowsim import summary

    sk = summary._numba_module()
    row = np.array(values)
    hi, lo = sk._extremes(row)
    assert hi == row.max() and lo == row.min()
