"""The observation model against hand-computed integrals, background traffic, bounds and weights."""

import datetime as dt
import math

import numpy as np
import pytest
from conftest import make_params

import flowsim
from flowsim import BackgroundTraffic, Observation, ObservationModel
from flowsim.analysis.constraints import SIGMAS, Constraint, constraint_for
from flowsim.analysis.observations import QUANTITIES, ObservationView, get_quantity

START = dt.date(2022, 9, 28)
TAU = 2.0
Q = 0.7          # q_on + q_ret: share of transit leavers who leave the host
A = 1000.0       # direct arrivals per day on days 0..4


def day(i):
    return START + dt.timedelta(days=i)


@pytest.fixture(scope="module")
def simple():
    """One host, 1,000 arrivals a day for 5 days, tau_T = 2 days, nobody leaves once settled, no jobs."""
    params = make_params(("KAZ",), tau_T=TAU, q_on=0.3, q_ret=0.4, lam_S=0.0, lam_R=0.0, lam_E=0.0, lam_U=0.0,
                         f0=0.0)
    sc = flowsim.Scenario(params=params, start=START, horizon_days=40,
                          arrivals={"KAZ": flowsim.DailyCounts(counts=[A] * 5)})
    return flowsim.run(sc)


def T(t):
    """Transit stock by hand: dT/dt = A - T/tau on [0, 5), then exponential decay."""
    if t <= 5:
        return A * TAU * (1 - math.exp(-t / TAU))
    return T(5) * math.exp(-(t - 5) / TAU)


BG = BackgroundTraffic(entries={"KAZ": {"2022-01-01": 500.0, "2022-10-01": 200.0}})


def predict(result, quantity, d0, d1, background=BG):
    obs = Observation(host="KAZ", quantity=quantity, date_start=d0, date_end=d1, value=1.0)
    return float(ObservationModel.build([obs], background).predict(result)[0])


def test_entries_and_exits_by_hand(simple):
    # entries over days 0..2: 3 days at 1,000, plus 3 days of background at 500
    assert predict(simple, "cumulative_entries", day(0), day(2)) == pytest.approx(3 * A + 3 * 500, rel=1e-9)
    # exits over days 0..2 = Q * (entries - T(3)); background exits mirror entries
    exits = Q * (3 * A - T(3))
    assert predict(simple, "cumulative_exits", day(0), day(2)) == pytest.approx(exits + 1500, rel=1e-6)
    assert predict(simple, "cumulative_exits", day(0), day(2), BackgroundTraffic()) == pytest.approx(exits, rel=1e-6)
    # daily exits on day 1 (one date): Q * (A - (T(2) - T(1)))
    assert predict(simple, "daily_exits", day(1), day(1), BackgroundTraffic()) == pytest.approx(
        Q * (A - (T(2) - T(1))), rel=1e-6)
    # a 24-hour figure across midnight (two dates): the mean of the two days
    two = predict(simple, "daily_exits", day(1), day(2), BackgroundTraffic())
    assert two == pytest.approx(0.5 * Q * (2 * A - (T(3) - T(1))), rel=1e-6)
    # after the arrivals stop, exits are what is left in transit leaving
    assert predict(simple, "cumulative_exits", day(5), day(39), BackgroundTraffic()) == pytest.approx(
        Q * (T(5) - T(40)), rel=1e-6)


def test_window_before_the_start_counts_background_only_there(simple):
    # 2022-09-26..2022-09-30: two days before the start (background only), then 3 days of arrivals
    got = predict(simple, "cumulative_entries", day(-2), day(2))
    assert got == pytest.approx(3 * A + 5 * 500, rel=1e-9)
    # a baseline window wholly before the start is the background rate
    assert predict(simple, "baseline_daily_entries", dt.date(2022, 9, 1), dt.date(2022, 9, 20)) == 500.0
    # September as a month: 3 days of arrivals (28-30 Sep) and 30 days of background
    assert predict(simple, "monthly_entries", dt.date(2022, 9, 1), dt.date(2022, 9, 30)) == pytest.approx(
        3 * A + 30 * 500, rel=1e-9)


def test_ratio_peak_shares_and_stocks(simple):
    oct_entries = 2 * A + 31 * 200          # 1-2 Oct arrivals, October background
    sep_entries = 3 * A + 30 * 500
    got = predict(simple, "entries_ratio_october_to_september", dt.date(2022, 10, 1), dt.date(2022, 10, 31))
    assert got == pytest.approx(oct_entries / sep_entries, rel=1e-9)
    # peak over 30 Sep..3 Oct: 1,000 + 500 on 30 Sep, 1,000 + 200 on 1-2 Oct, 200 on 3 Oct
    assert predict(simple, "peak_daily_entries", day(2), day(5)) == pytest.approx(1500.0, rel=1e-9)
    # shares are gross, like the border counts they are worked out from
    left = (Q * (3 * A - T(3)) + 1500) / (3 * A + 1500)
    assert predict(simple, "share_left_soon", day(0), day(2)) == pytest.approx(left, rel=1e-6)
    assert predict(simple, "share_stayed", day(0), day(2)) == pytest.approx(1 - left, rel=1e-6)
    outflow_only = Q * (3 * A - T(3)) / (3 * A)
    assert predict(simple, "share_left_soon", day(0), day(2), BackgroundTraffic()) == pytest.approx(
        outflow_only, rel=1e-6)
    assert predict(simple, "transit_exits", day(0), day(2)) == pytest.approx(Q * (3 * A - T(3)), rel=1e-6)
    settlers = (1 - Q) * (5 * A - T(10))
    for q in ("tax_ids_issued", "registered_arrivals", "stay_extensions", "bank_accounts_opened"):
        assert predict(simple, q, day(0), day(9)) == pytest.approx(settlers, rel=1e-6)
    # stock at the end of day 9 (grid point 10): the settlers plus who is still in transit
    assert predict(simple, "stock_present", day(0), day(9)) == pytest.approx(settlers + T(10), rel=1e-6)
    assert predict(simple, "employed_registered", day(0), day(9)) == 0.0   # f0 = 0: no jobs


def test_every_vocabulary_quantity_is_registered():
    vocabulary = {"cumulative_entries", "cumulative_exits", "daily_entries", "daily_exits", "monthly_entries",
                  "monthly_exits", "baseline_daily_entries", "peak_daily_entries",
                  "entries_ratio_october_to_september", "transit_exits", "share_left_soon", "share_stayed",
                  "tax_ids_issued", "employed_registered", "registered_arrivals", "stay_extensions",
                  "bank_accounts_opened", "stock_present"}
    assert vocabulary <= set(QUANTITIES)
    shipped = {o.quantity for o in flowsim.datasets.observations_2022()}
    assert shipped <= vocabulary


def test_user_quantity(simple):
    @flowsim.register_quantity("transit_stock_test", unit="persons", maps_to="T at the end of date_end",
                               replace=True)
    def transit(view, d0, d1):
        return view.stock("T", d1)

    try:
        assert predict(simple, "transit_stock_test", day(0), day(2)) == pytest.approx(T(3), rel=1e-6)
        with pytest.raises(flowsim.ObservationError, match="already registered"):
            flowsim.register_quantity("transit_stock_test", unit="persons", maps_to="")(transit)
    finally:
        QUANTITIES.pop("transit_stock_test")
    with pytest.raises(flowsim.ObservationError, match="unknown quantity 'stock_presnt'.*'stock_present'"):
        get_quantity("stock_presnt")


def test_window_after_the_horizon_and_unknown_host(simple):
    with pytest.raises(flowsim.ObservationError, match="ends after the simulated period.*at least 46 days"):
        predict(simple, "cumulative_entries", day(0), day(45))
    obs = Observation(host="GEO", quantity="stock_present", date_start=day(0), date_end=day(1), value=1.0)
    with pytest.raises(flowsim.ObservationError, match="host 'GEO' is not in scenario"):
        ObservationModel.build([obs]).check_scenario(simple.scenario)


def test_share_of_nothing_is_refused(simple):
    with pytest.raises(flowsim.ObservationError, match="undefined: the model has no"):
        predict(simple, "share_left_soon", day(20), day(25), BackgroundTraffic())


def test_view_daily_matches_counter_differences(simple):
    view = ObservationView(simple, "KAZ", BG)
    daily = view.daily("entries", day(-1), day(6), gross=True)
    np.testing.assert_allclose(daily, [500, 1500, 1500, 1500, 1200, 1200, 200, 200], rtol=1e-9)


# ------------------------------------------------------------------ background
def test_background_schedule():
    bg = BackgroundTraffic(entries={"KAZ": [("2022-10-01", 3000), ("2022-01-01", 8500)]}, exits={"KAZ": 100})
    # levels are sorted; the first level also applies before its date
    assert bg.total("entries", "KAZ", "2021-12-30", "2021-12-31") == 17000
    assert bg.total("entries", "KAZ", "2022-09-30", "2022-10-01") == 11500
    assert bg.total("exits", "KAZ", "2022-09-30", "2022-10-01") == 200
    assert bg.total("entries", "GEO", "2022-09-30", "2022-10-01") == 0
    assert [lv.name for lv in bg.levels()] == ["background[KAZ]", "background[KAZ@2022-10-01]",
                                               "background_exits[KAZ]"]
    moved = bg.with_level("entries", "KAZ", dt.date(2022, 10, 1), 2500)
    assert moved.total("entries", "KAZ", "2022-10-01", "2022-10-01") == 2500
    assert bg.total("entries", "KAZ", "2022-10-01", "2022-10-01") == 3000   # immutable
    with pytest.raises(flowsim.ObservationError, match="no background level background\\[KAZ@2022-11-01\\]"):
        bg.with_level("entries", "KAZ", dt.date(2022, 11, 1), 1)
    with pytest.raises(flowsim.ObservationError, match="must be in \\[0, inf\\)"):
        BackgroundTraffic(entries={"KAZ": -1})
    with pytest.raises(flowsim.ObservationError, match="two levels start on 2022-10-01"):
        BackgroundTraffic(entries={"KAZ": [("2022-10-01", 1), ("2022-10-01", 2)]})


def test_background_from_observations():
    bg = BackgroundTraffic.from_observations(flowsim.datasets.observations_2022())
    assert set(bg.hosts) == {"KAZ", "GEO"}
    assert bg.level("entries", "KAZ").rate == 8500 and bg.level("entries", "GEO").rate == 5500
    assert bg.level("entries", "KAZ", dt.date(2022, 10, 1)).rate == 8500
    assert bg.exits is None   # exits mirror entries


# ----------------------------------------------------------------- constraints
def obs_with(qualifier="", value=100.0, low=None, high=None, quantity="cumulative_entries", note="", weight=None):
    return Observation(host="KAZ", quantity=quantity, date_start=day(0), date_end=day(1), value=value, low=low,
                       high=high, qualifier=qualifier, note=note, weight=weight)


@pytest.mark.parametrize("qualifier, kind, low, high, sigma", [
    ("", "point", None, None, SIGMAS["point"]),
    ("about", "point", None, None, SIGMAS["rough point"]),
    ("approximately", "point", None, None, SIGMAS["rough point"]),
    ("more than", "lower", 100.0, None, SIGMAS["bound"]),
    ("at least", "lower", 100.0, None, SIGMAS["bound"]),
    ("over", "lower", 100.0, None, SIGMAS["bound"]),
    ("up to", "upper", None, 100.0, SIGMAS["bound"]),
    ("less than", "upper", None, 100.0, SIGMAS["bound"]),
    ("almost", "range", 90.0, 100.0, SIGMAS["bound"]),
    ("nearly", "range", 90.0, 100.0, SIGMAS["bound"]),
    ("a little more than", "range", 100.0, 110.0, SIGMAS["bound"]),
])
def test_qualifiers(qualifier, kind, low, high, sigma):
    c = constraint_for(obs_with(qualifier), get_quantity("cumulative_entries"))
    assert (c.kind, c.low, c.high, c.sigma, c.weight) == (kind, low, high, sigma, 1.0)


def test_stated_range_and_lower_bound_quantities():
    c = constraint_for(obs_with(value=8500, low=8000, high=9000), get_quantity("baseline_daily_entries"))
    assert (c.kind, c.low, c.high) == ("range", 8000, 9000)
    # registrations count part of the settlers: a plain figure is a loose lower bound
    c = constraint_for(obs_with(quantity="tax_ids_issued"), get_quantity("tax_ids_issued"))
    assert (c.kind, c.low, c.sigma) == ("lower", 100.0, 0.5)
    c = constraint_for(obs_with(quantity="employed_registered"), get_quantity("employed_registered"))
    assert (c.kind, c.low, c.sigma) == ("lower", 100.0, 0.1)


def test_one_sided_residuals():
    lower = Constraint("lower", None, 200.0, None, 0.1, 1.0)
    assert lower.residual(250.0) == 0.0 and lower.residual(200.0) == 0.0           # satisfied: no pull
    assert lower.residual(180.0) == pytest.approx(-0.1 / 0.1)                       # 10% short
    upper = Constraint("upper", None, None, 30.0, 0.1, 4.0)
    assert upper.residual(25.0) == 0.0
    assert upper.residual(33.0) == pytest.approx(2.0 * 0.1 / 0.1)                  # sqrt(weight) * 10% / 10%
    rng = Constraint("range", None, 8000.0, 9000.0, 0.1, 1.0)
    assert rng.residual(8500.0) == 0.0 and rng.relative_error(9900.0) == pytest.approx(0.1)
    assert rng.relative_error(7200.0) == pytest.approx(-0.1)
    point = Constraint("point", 50.0, None, None, 0.25, 1.0)
    assert point.residual(60.0) == pytest.approx(0.2 / 0.25)


def test_weight_rules_and_overrides():
    q = get_quantity("stock_present")
    c = constraint_for(obs_with(note="remaining; base period disputed"), q)
    assert c.weight == 0.25 and "disputed" in c.reason
    c = constraint_for(obs_with(note="report date approximate; base period unclear"), q)
    assert c.weight == 0.125
    assert constraint_for(obs_with(note="base period disputed", weight=2.0), q).weight == 2.0
    assert constraint_for(obs_with(note="base period disputed"), q, weight=0.0).weight == 0.0
    model = ObservationModel.build([obs_with(), obs_with("about")], BackgroundTraffic(),
                                   weights={1: 3.0}, sigmas={obs_with().label: 0.5})
    assert list(model.weights) == [1.0, 3.0]
    assert [c.sigma for c in model.constraints] == [0.5, 0.5]   # both share the label
    with pytest.raises(flowsim.ObservationError, match="weight must be a finite number >= 0"):
        constraint_for(obs_with(), q, weight=-1.0)


def test_shipped_weights():
    """The disputed 29 Nov Kazakhstan figures count a quarter; plain border counts count fully."""
    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    model = ObservationModel.build(kaz)
    by_label = {o.label: c for o, c in zip(kaz, model.constraints)}
    assert by_label["KAZ stock_present 2022-09-21..2022-11-29"].weight == 0.25
    assert by_label["KAZ cumulative_exits 2022-09-21..2022-11-29"].weight == 0.25
    assert by_label["KAZ daily_entries 2022-09-29"].weight == 1.0
    assert by_label["KAZ peak_daily_entries 2022-09-21..2022-09-30"].kind == "upper"
