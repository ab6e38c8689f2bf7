"""Scores of an ensemble against a figure: CRPS against closed forms, bounds and ranges on hand-made cases."""

import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import norm

import flowsim
from flowsim.analysis.scores import central_band, covers, crps_ensemble, crps_interval, crps_normal, noisy_ensemble
from flowsim.calibration.backtest import coverage_table, score_figure
from flowsim.exceptions import FlowsimError

D0, D1 = dt.date(2022, 9, 21), dt.date(2022, 10, 11)


def brute_crps(x, lo, hi, grid=400_001):
    """The threshold-weighted CRPS by quadrature of ``F(z)^2`` below ``lo`` and ``(1 - F(z))^2`` above ``hi``."""
    x = np.sort(np.asarray(x, float))
    a = min(x[0], lo if lo is not None else x[0], hi if hi is not None else x[0]) - 1.0
    b = max(x[-1], lo if lo is not None else x[-1], hi if hi is not None else x[-1]) + 1.0
    z = np.linspace(a, b, grid)
    F = np.searchsorted(x, z, side="right") / x.size
    w_below = z < lo if lo is not None else np.zeros(z.size, bool)
    w_above = z >= hi if hi is not None else np.zeros(z.size, bool)
    f = np.where(w_below, F**2, 0.0) + np.where(w_above, (1 - F) ** 2, 0.0)
    return float(np.sum(f) * (z[1] - z[0]))


# ---------------------------------------------------------------------------------- CRPS
@pytest.mark.parametrize("y", [-1.0, 2.0, 2.7, 6.5])
def test_crps_of_a_normal_ensemble_matches_the_closed_form(y):
    mu, sigma, n = 2.0, 1.5, 20_000
    x = norm.ppf((np.arange(n) + 0.5) / n, mu, sigma)     # the normal's quantiles: an ensemble without noise
    assert crps_ensemble(x, y) == pytest.approx(crps_normal(mu, sigma, y), abs=1e-3)
    assert crps_interval(x, y, y) == pytest.approx(crps_normal(mu, sigma, y), abs=1e-3)
    # and a random sample of the normal, within its Monte Carlo error
    rng = np.random.default_rng(3)
    assert crps_ensemble(rng.normal(mu, sigma, 200_000), y) == pytest.approx(crps_normal(mu, sigma, y), abs=1e-2)


def test_crps_of_a_point_equals_the_energy_form_and_the_integral():
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, 3.0, 57)
    for y in (-2.0, 0.5, 6.0, 30.0):
        energy = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
        assert crps_ensemble(x, y) == pytest.approx(energy, rel=1e-12)
        assert crps_interval(x, y, y) == pytest.approx(energy, rel=1e-12)
        assert crps_interval(x, y, y) == pytest.approx(brute_crps(x, y, y), abs=2e-3)


@pytest.mark.parametrize("lo, hi, expected", [
    (2.0, None, 0.25 * 1 + 1.0 * 1),          # "more than 2", members 0 and 1: F = 1/2 on [0, 1), 1 on [1, 2)
    (0.5, None, 0.25 * 0.5),                  # "more than 0.5": only the member at 0 is below, for half a unit
    (-3.0, None, 0.0),                        # every member above the bound
    (None, -1.0, 1.0 * 1 + 0.25 * 1),         # "up to -1": 1 - F = 1 on [-1, 0), 1/2 on [0, 1)
    (None, 4.0, 0.0),                         # every member below the bound
    (0.2, 0.6, 0.25 * 0.2 + 0.25 * 0.4),      # a range: the mass outside it, over its distance
    (-5.0, 5.0, 0.0),                         # a range holding the whole ensemble
])
def test_crps_of_bounds_and_ranges_on_two_members(lo, hi, expected):
    x = [0.0, 1.0]
    assert crps_interval(x, lo, hi) == pytest.approx(expected, abs=1e-12)
    assert crps_interval(x, lo, hi) == pytest.approx(brute_crps(x, lo, hi), abs=1e-4)


def test_crps_of_bounds_against_quadrature_and_its_properties():
    rng = np.random.default_rng(2)
    x = rng.normal(10.0, 2.0, 40)
    for lo, hi in [(8.0, None), (13.0, None), (None, 9.0), (7.0, 12.5), (11.0, 11.5)]:
        assert crps_interval(x, lo, hi) == pytest.approx(brute_crps(x, lo, hi), abs=1e-3)
    # a wider accepted set never scores worse; a bound scores no worse than any point it allows
    assert crps_interval(x, 8.0, None) <= crps_interval(x, 8.0, 14.0) <= crps_interval(x, 9.0, 12.0)
    for y in (8.0, 10.0, 15.0):
        assert crps_interval(x, 8.0, None) <= crps_ensemble(x, y)


def test_score_errors():
    with pytest.raises(FlowsimError, match="empty"):
        crps_ensemble([], 1.0)
    with pytest.raises(FlowsimError, match="not finite"):
        crps_ensemble([1.0, np.nan], 1.0)
    with pytest.raises(FlowsimError, match="low <= high"):
        crps_interval([1.0], 3.0, 2.0)
    with pytest.raises(FlowsimError, match="sigma must be > 0"):
        crps_normal(0.0, 0.0, 1.0)
    with pytest.raises(FlowsimError, match="level must be in"):
        central_band([1.0, 2.0], 1.5)


# ------------------------------------------------------------------------- scored figures
def scored(x, value=None, qualifier="", low=None, high=None, quantity="cumulative_entries", sigma=0.0):
    obs = flowsim.Observation(host="KAZ", quantity=quantity, date_start=D0, date_end=D1, value=value,
                              qualifier=qualifier, low=low, high=high)
    model = flowsim.ObservationModel.build([obs], flowsim.BackgroundTraffic(entries={"KAZ": 0.0}))
    return score_figure(obs, model.constraints[0], np.asarray(x, float), sigma)


X = np.linspace(0.0, 100.0, 101)  # quantiles: 50% band [25, 75], 90% band [5, 95], median 50


def test_bands_of_the_hand_made_ensemble():
    assert central_band(X, 0.5) == pytest.approx((25.0, 75.0))
    assert central_band(X, 0.9) == pytest.approx((5.0, 95.0))
    assert covers((5.0, 95.0), 90.0, None) and not covers((25.0, 75.0), 90.0, None)
    assert covers((5.0, 95.0), None, 5.0) and not covers((5.0, 95.0), None, 4.9)


def test_point_figures_are_scored_as_points():
    r = scored(X, value=60.0)
    assert (r.kind, r.in_50, r.in_90) == ("point", True, True)
    assert r.relative_error == pytest.approx((50.0 - 60.0) / 60.0)
    assert r.crps == pytest.approx(crps_ensemble(X, 60.0)) and r.crps_relative == pytest.approx(r.crps / 60.0)
    assert r.pit == pytest.approx(60 / 101 + 0.5 / 101) and math.isnan(r.p_accepted)
    r = scored(X, value=97.0)
    assert (r.in_50, r.in_90) == (False, False)


def test_lower_bounds_are_covered_when_the_band_reaches_above_them():
    r = scored(X, value=90.0, qualifier="more than")
    assert (r.kind, r.low, r.high, r.constraint) == ("lower", 90.0, None, ">= 90")
    assert (r.in_50, r.in_90) == (False, True)                  # 75 < 90 <= 95
    assert r.p_accepted == pytest.approx(11 / 101) and math.isnan(r.pit)
    assert r.relative_error == pytest.approx((50.0 - 90.0) / 90.0)
    assert r.crps == pytest.approx(crps_interval(X, 90.0, None)) and r.crps > 0
    r = scored(X, value=20.0, qualifier="at least")
    assert (r.in_50, r.in_90, r.relative_error) == (True, True, 0.0)
    assert scored(X, value=96.0, qualifier="over").in_90 is False
    r = scored(X + 200.0, value=20.0, qualifier="more than")   # the whole ensemble above the bound
    assert (r.crps, r.p_accepted, r.relative_error) == (0.0, 1.0, 0.0)


def test_upper_bounds_and_ranges_are_scored_as_what_they_are():
    r = scored(X, value=10.0, qualifier="up to")
    assert (r.kind, r.in_50, r.in_90) == ("upper", False, True)    # 25 > 10 >= 5
    assert r.relative_error == pytest.approx((50.0 - 10.0) / 10.0)
    r = scored(X, low=80.0, high=120.0)                              # low/high columns
    assert (r.kind, r.in_50, r.in_90) == ("range", False, True)
    assert r.p_accepted == pytest.approx(21 / 101)
    assert r.crps == pytest.approx(brute_crps(X, 80.0, 120.0), abs=1e-3)
    assert r.crps_relative == pytest.approx(r.crps / 80.0)          # relative to the bound the median misses
    r = scored(X, low=30.0, high=40.0)                               # a range inside the 50% band
    assert (r.in_50, r.in_90) == (True, True)
    assert r.relative_error == pytest.approx((50.0 - 40.0) / 40.0)  # the median is above it
    assert scored(X, low=45.0, high=55.0).relative_error == 0.0
    r = scored(X, low=96.0, high=140.0)                              # above the 90% band
    assert (r.in_50, r.in_90) == (False, False)
    r = scored(X, value=100.0, qualifier="almost")                   # [90, 100]
    assert (r.kind, r.low, r.high, r.in_50, r.in_90) == ("range", 90.0, 100.0, False, True)


def test_coverage_table_counts_kinds_apart_with_binomial_ranges():
    rows = [scored(X, value=v) for v in (10.0, 30.0, 50.0, 97.0)] + [scored(X, value=90.0, qualifier="more than")]
    table = {(r.host, r.quantity, r.kinds, r.nominal): r for r in coverage_table(rows)}
    pts = table[("all", "all", "point", 0.9)]
    assert (pts.figures, pts.covered, pts.observed) == (4, 3, 0.75)
    assert table[("all", "all", "point", 0.5)].covered == 2
    assert table[("all", "all", "bound/range", 0.5)].covered == 0
    every = table[("all", "all", "all", 0.9)]
    assert (every.figures, every.covered) == (5, 4)
    assert 0 <= every.expected_low <= 0.9 <= every.expected_high <= 1
    assert table[("KAZ", "cumulative_entries", "lower+point", 0.9)].figures == 5


def test_noisy_ensemble_is_relative():
    p = np.full((20_000, 2), 100.0)
    out = noisy_ensemble(p, [0.0, 0.1], np.random.default_rng(0))
    assert np.all(out[:, 0] == 100.0)
    assert out[:, 1].std() == pytest.approx(10.0, rel=0.03)


def test_noisy_figures_of_counts_are_never_negative():
    """A count with a large relative error is cut at 0; a signed quantity keeps its negative members."""
    p = np.column_stack([np.full(20_000, 100.0), np.linspace(-50.0, 50.0, 20_000)])
    out = noisy_ensemble(p, [0.5, 0.5], np.random.default_rng(1))
    assert out[:, 0].min() == 0.0 and (out[:, 0] == 0).mean() == pytest.approx(0.0228, abs=0.004)
    assert out[:, 1].min() < 0                                   # signed figures are left alone
    forced = noisy_ensemble(p, [0.5, 0.5], np.random.default_rng(1), nonnegative=[False, True])
    assert forced[:, 0].min() < 0 and forced[:, 1].min() == 0.0
