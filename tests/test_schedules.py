"""Arrival schedules: exact integrals, breakpoints and closures."""

import datetime as dt

import numpy as np
import pytest
from scipy import integrate, stats

import flowsim
from flowsim.scenario.arrivals import CompiledArrivals

START = dt.date(2022, 9, 21)


def _quad(compiled, t):
    pts = [b for b in compiled.breakpoints if 0 < b < t]
    return integrate.quad(compiled.rate, 0.0, t, points=pts or None, limit=200, epsabs=1e-9)[0]


@pytest.mark.parametrize("schedule", [
    flowsim.Pulse(total=1e5, shape=2.0, scale_days=2.0),
    flowsim.Pulse(total=5e3, shape=1.0, scale_days=4.0, start="2022-09-25"),
    flowsim.PiecewiseLinear(points=[("2022-09-22", 0), ("2022-09-25", 900), ("2022-10-05", 100)]),
    flowsim.DailyCounts(counts=[10, 0, 30.5, 7], start="2022-09-23"),
])
def test_cumulative_is_integral_of_rate(schedule):
    c = schedule.compile(START)
    for t in (0.5, 3.0, 7.25, 20.0, 60.0):
        assert c.cumulative(t) - c.cumulative(0.0) == pytest.approx(_quad(c, t), rel=1e-7, abs=1e-6)


def test_pulse_is_gamma_shaped():
    c = flowsim.Pulse(total=1000.0, shape=3.0, scale_days=1.5).compile(START)
    for t in (0.3, 2.0, 9.0):
        assert c.rate(t) == pytest.approx(1000.0 * stats.gamma.pdf(t, 3.0, scale=1.5))
        assert c.cumulative(t) == pytest.approx(1000.0 * stats.gamma.cdf(t, 3.0, scale=1.5))


def test_daily_counts_are_constant_within_a_day():
    c = flowsim.DailyCounts(counts=[10.0, 20.0, 30.0]).compile(START)
    assert c.rate(0.0) == 10.0 and c.rate(0.99) == 10.0 and c.rate(1.0) == 20.0 and c.rate(3.0) == 0.0
    np.testing.assert_allclose(c.cumulative(np.array([0.5, 1.0, 2.5, 10.0])), [5.0, 10.0, 45.0, 60.0])
    assert c.breakpoints == (0.0, 1.0, 2.0, 3.0)


def test_arrivals_with_closure_integrate_exactly():
    arr = CompiledArrivals.build(
        ("KAZ", "UZB"),
        {"KAZ": (flowsim.DailyCounts(counts=[100.0] * 20),), "UZB": (flowsim.Pulse(total=50.0),)},
        {"KAZ": (flowsim.Closure(start="2022-09-26", end="2022-09-28"),
                 flowsim.Closure(start="2022-09-27", end="2022-09-30"))},  # overlapping windows merge
        START,
    )
    cum = arr.cumulative(np.array([5.0, 7.0, 9.0, 20.0]))
    np.testing.assert_allclose(cum[:, 0], [500.0, 500.0, 500.0, 1600.0])  # closed on days 5..8: 2000 - 400
    assert list(arr.is_open(6.0)) == [False, True]
    assert 5.0 in arr.breakpoints(100) and 9.0 in arr.breakpoints(100)
    np.testing.assert_allclose(arr.daily_counts(20)[:, 0], [100] * 5 + [0] * 4 + [100] * 11)


def test_seed_kazakhstan_first_week():
    sc = flowsim.load_scenario("kazakhstan-2022")
    arr = CompiledArrivals.build(sc.hosts, sc.arrivals, sc.closures, sc.start)
    kaz_week = arr.cumulative(7.0)[0, sc.hosts.index("KAZ")]
    assert abs(kaz_week - 100_000) <= 0.05 * 100_000
    assert arr.cumulative(float(sc.horizon_days))[0, sc.hosts.index("TKM")] == 0.0


def test_schedule_round_trip_through_dict():
    from flowsim.scenario.schedules import schedule_from_dict

    for s in (flowsim.Pulse(total=3.0, start="2022-10-01"),
              flowsim.PiecewiseLinear(points=[("2022-09-21", 1.0), ("2022-09-22", 0.0)]),
              flowsim.DailyCounts(counts=[1, 2, 3])):
        assert schedule_from_dict(s.to_dict()) == s
