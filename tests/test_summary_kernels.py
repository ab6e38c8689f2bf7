"""The fast summary figures (issue 13) against a plain per-member reference, and the two kernels against each other.

``flowsim.summary.balance_summary`` finds crossings from the negative runs of
all rows at once (numpy) or in one compiled pass per row (numba). Both must
give what the definitions of docs/model.md give when applied member by member,
day by day (``reference`` below, plain Python), and the same bytes as each
other: integer figures exactly, sums and means bit for bit.
"""

from __future__ import annotations

import itertools
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowsim
from flowsim import summary as S
from flowsim.exceptions import FlowsimError
from flowsim.scenario.sampling import member_values

KERNELS = ["numpy", pytest.param("numba", marks=pytest.mark.skipif(S._numba_module() is None,
                                                                     reason="numba is not installed"))]


def reference(row, D_x: int, r: float, fade: bool) -> dict:
    """Every balance figure of one member's series, straight from the definitions (plain Python, day by day)."""
    row = [float(v) for v in row]
    D = len(row)
    tol = max(S.TOL_USD, S.TOL_RELATIVE * max(abs(v) for v in row))
    pos = [v > tol for v in row]
    neg = [v < -tol for v in row]
    p0 = next((t for t in range(D) if pos[t]), None)
    after = [p0 is not None and t > p0 for t in range(D)]
    cross = next((t for t in range(D) if neg[t] and after[t]), -1)
    sustained = next((t for t in range(D) if after[t] and t + D_x <= D and all(neg[t:t + D_x])), -1)
    final = D
    while final > 0 and neg[final - 1]:
        final -= 1                                            # the final negative run is days final..D-1
    censored = final < D and after[final]
    if not any(pos) and not any(neg):
        status = "zero"
    elif not any(neg):
        status = "never_negative"
    elif not any(pos):
        status = "never_positive"
    elif sustained >= 0:
        status = "sustained"
    elif censored:
        status = "censored"
    elif cross >= 0:
        status = "dip"
    else:
        status = "turns_positive"
    peak = max(row)
    C = list(itertools.accumulate(row))                       # running sum, in order (as np.cumsum)
    t0 = next((t for t in range(D) if abs(C[t]) > 1.0), None)
    breakeven = -1 if t0 is None else next(
        (t for t in range(t0 + 1, D) if C[t] * math.copysign(1.0, C[t0]) < 0), -1)

    def mean(a, b):
        return math.fsum(row[a:b]) / (b - a) if D >= b else math.nan

    first, second = mean(0, 365), mean(365, 730)
    return {
        "status": S.STATUSES.index(status),
        "peak_usd_per_day": peak,
        "peak_day": -1 if status == "zero" else row.index(peak),
        "crossover_day": cross,
        "sustained_crossover_day": sustained,
        "breakeven_day": breakeven,
        "cumulative_usd": math.fsum(row),
        "pv_usd": math.fsum(v * (1.0 + r) ** (-t / 365.0) for t, v in enumerate(row)),
        "short_term_usd_per_day": mean(0, S.SHORT_TERM_DAYS),
        "long_term_usd_per_day": math.fsum(row[S.LONG_TERM_FROM:]) / (D - S.LONG_TERM_FROM)
        if D > S.LONG_TERM_FROM else math.nan,
        "fade_ratio": (second / first if first != 0 else math.nan) if fade else math.nan,
    }


def check_against_reference(x: np.ndarray, D_x: np.ndarray, r: float, fade: bool, kernel: str) -> dict:
    """balance_summary of rows ``x`` (n, D) equals :func:`reference` row by row; returns it."""
    out = S.balance_summary(x, r, D_x, fade=fade, kernel=kernel)
    for i, row in enumerate(x):
        ref = reference(row, int(D_x[i]), r, fade)
        for name, want in ref.items():
            got = out[name][i]
            if S.SUMMARY_FIELDS[name].kind in ("day", "status") or name == "peak_usd_per_day":
                assert got == want, (name, i, got, want, row.tolist(), int(D_x[i]))
            elif math.isnan(want):
                assert math.isnan(got), (name, i, got)
            else:                                              # sums in numpy's order against exact sums
                assert abs(got - want) <= 1e-12 * (np.abs(row).sum() + 1.0), (name, i, got, want)
    return out


def same_bytes(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        assert a[name].tobytes() == b[name].tobytes(), (name, a[name], b[name])


# rows made of runs of a few levels: at and around the tolerance (1 USD/day), solver residue, signed zeros, and
# runs long enough to reach the windows (90, 365, 366, 730 days) and numpy's pairwise blocks (128 values)
LEVELS = [-50.0, -5.0, -1.0, -0.5, -1e-12, -0.0, 0.0, 1e-12, 0.5, 1.0, 1.5, 5.0, 50.0]
segments = st.lists(st.tuples(st.sampled_from(LEVELS), st.integers(1, 6) | st.integers(60, 300)),
                    min_size=1, max_size=8)


def build(rows_segments, scale: float, noise_seed: int) -> np.ndarray:
    D = max(1, min(sum(n for _, n in segs) for segs in rows_segments))
    x = np.array([np.concatenate([np.full(n, v) for v, n in segs])[:D] for segs in rows_segments]) * scale
    wobble = np.random.default_rng(noise_seed).uniform(0.5, 1.5, x.shape)   # keeps the signs, varies the sums
    return x * np.where(np.abs(x) > 1e-9 * scale, wobble, 1.0)


@pytest.mark.parametrize("kernel", KERNELS)
def test_fast_summary_equals_the_per_member_reference(kernel):
    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(st.lists(segments, min_size=1, max_size=4), st.sampled_from([1.0, 1e10]), st.integers(0, 2 ** 16),
           st.lists(st.integers(1, 6) | st.integers(60, 120), min_size=4, max_size=4), st.booleans())
    def check(rows_segments, scale, noise_seed, d_x, fade):
        x = build(rows_segments, scale, noise_seed)
        D_x = np.array(d_x[:x.shape[0]])
        out = check_against_reference(x, D_x, 0.05, fade, kernel)
        same_bytes(out, S.balance_summary(x, 0.05, D_x, fade=fade, kernel="numpy"))

    check()


EDGES = [
    ([5, -5, 5, -5, -5, -5, 5], 3),        # a dip shorter than D_x, then a sustained one
    ([5, 5, -5, -5, -5], 3),               # exactly D_x days, ending on the horizon
    ([5, 5, 5, -5, -5], 3),                # censored: negative to the horizon, fewer than D_x days
    ([-5, -5, 5, 5], 1),                   # negative on day 0: no crossover (nothing positive before)
    ([-5, 5, -5, 5, -5, 5, -5], 1),        # sign flips back and forth
    ([-5, 5, -5, 5, -5, 5, -5], 2),
    ([5, -5], 1),                          # crossing on day 1, right after the first day
    ([5], 1), ([-5], 1), ([0.0], 1),       # one day
    ([0.0, -0.0, 0.0, -0.0], 1),           # zeros of both signs: status zero, peak from np.max
    ([-0.0, -0.0], 1),
    ([1e-12, -1e-12, 1e-12], 1),           # solver residue
    ([1.0, -1.0, 1.0], 1),                 # exactly the tolerance: neither positive nor negative
    ([1e10, 5e6, -5.0, 2e6], 1),           # under the relative tolerance
    ([0.4, 0.4, 0.4, -2.0, 0.5], 1),       # break-even: C passes 1 USD on day 2, turns on day 3
    ([-0.6, 0.5, 0.9, -5.0], 1),           # C of the first days under 1 USD in size, of both signs
]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("series, D_x", EDGES)
def test_edge_cases(series, D_x, kernel):
    x = np.array([series], float)
    out = check_against_reference(x, np.array([D_x]), 0.03, True, kernel)
    same_bytes(out, S.balance_summary(x, 0.03, D_x, fade=True, kernel="numpy"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("kernel", KERNELS)
def test_rows_with_nan_or_infinity_follow_numpy_rules(kernel):
    """A NaN (or +inf and -inf) in a row: the numba kernel leaves the row to the numpy code, which keeps the
    rules of the definitions (a NaN day is neither positive nor negative)."""
    x = np.array([[5.0, np.nan, -5.0, -5.0], [5.0, -5.0, -5.0, 5.0], [np.inf, -np.inf, 5.0, -5.0],
                  [np.inf, 5.0, -5.0, -5.0]])
    out = S.balance_summary(x, 0.05, 2, kernel=kernel)
    same_bytes(out, S.balance_summary(x, 0.05, 2, kernel="numpy"))
    for i, row in enumerate(x):
        assert out["crossover_day"][i] == S.crossover_day(row)
        assert out["status"][i] == S.status_codes(row, 2)
    assert [S.STATUSES[c] for c in out["status"]] == ["zero", "sustained", "zero", "zero"]


def test_kernels_agree_on_an_ensemble():
    """Every summary figure of an ensemble, from the kept balances: both kernels, the same bytes as the ensemble's."""
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=800)
    ens = flowsim.ensemble(sc, 24, seed=2, progress=False, keep=("N", *S.BALANCES), chunk_size=10)
    values = member_values(sc.params, ens.dims, ens.values)              # r and D_x vary too, as solve_chunk reads them
    args = ens.series["N"], {b: ens.series[b] for b in S.BALANCES}, values["r"][:, None], \
        values["D_x"][:, None].astype(int)
    out = S.summary_arrays(*args, kernel="numpy")
    same_bytes(out, dict(ens.summary_arrays))
    if S._numba_module() is not None:
        same_bytes(S.summary_arrays(*args, kernel="numba"), out)
    statuses = {S.STATUSES[c] for c in out["residents.status"].ravel()}
    assert len(statuses) >= 3                                       # the members cover several cases


@pytest.mark.skipif(S._numba_module() is None, reason="numba is not installed")
def test_numba_kernel_leaves_sums_to_numpy_when_they_would_differ(monkeypatch):
    """If a numpy version ever summed in another order, the compiled pass keeps its days and numpy sums."""
    x = build([[(5.0, 300), (-5.0, 200), (50.0, 300)], [(-5.0, 100), (5.0, 700)]], 1.0, 1)
    want = S.balance_summary(x, 0.05, 30, fade=True, kernel="numpy")
    assert S._sums_agree(x.shape[1])
    monkeypatch.setitem(S._sums_checked, x.shape[1], False)
    same_bytes(S.balance_summary(x, 0.05, 30, fade=True, kernel="numba"), want)


def test_kernel_names(monkeypatch):
    assert S.summary_kernel("numpy") == "numpy"
    if S._numba_module() is not None:
        assert S.summary_kernel("numba") == S.summary_kernel("auto") == "numba"
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    assert S.summary_kernel("auto") == "numpy"                  # never imports numba for the summaries alone
    with pytest.raises(FlowsimError, match=r"summary kernel must be one of auto, numpy, numba; got 'fast'"):
        S.summary_kernel("fast")
    monkeypatch.setenv("FLOWSIM_KERNEL", "numpy")
    assert S.summary_kernel() == "numpy"
    monkeypatch.setenv("FLOWSIM_KERNEL", "gpu")
    with pytest.raises(FlowsimError, match="environment variable FLOWSIM_KERNEL"):
        S.summary_kernel()


def test_member_quantiles_are_numpys_bit_for_bit():
    """Quantiles over members from one sort: np.quantile's bytes, with ties, signed zeros, NaN, one member."""
    from flowsim.analysis.ensemble_stats import member_quantiles

    rng = np.random.default_rng(1)
    for trial in range(120):
        n = int(rng.integers(1, 60))
        shape = (n, int(rng.integers(1, 4)), int(rng.integers(1, 30)))
        x = rng.standard_normal(shape)
        if trial % 4 == 1:
            x = np.round(x)                                                   # ties
        if trial % 4 == 2:
            x[rng.random(shape) < 0.3] = 0.0
            x[rng.random(shape) < 0.2] = -0.0
        if trial % 4 == 3:
            x[rng.random(shape) < 0.05] = np.nan
        q = np.sort(rng.random(int(rng.integers(1, 6))))
        q[0] = 0.0 if trial % 7 == 0 else q[0]
        q[-1] = 1.0 if trial % 5 == 0 else q[-1]
        for levels in (q, (0.05, 0.25, 0.5, 0.75, 0.95)):
            want = np.quantile(x, np.asarray(levels, float), axis=0)
            got = member_quantiles(x, levels)
            assert got.shape == want.shape and got.tobytes() == want.tobytes(), (trial, levels)
