"""The economic layer and summary figures against values computed by hand."""

import datetime as dt

import numpy as np
import pytest
from conftest import make_params

import flowsim
from flowsim import summary as S
from flowsim.model.economy import ECONOMY_VARIABLES, economy_series
from flowsim.scenario.layout import Layout

ECON = dict(c_T=60.0, c_S=30.0, c_R=40.0, m=0.5, w=20.0, pi=0.9, delta=0.25, g_pub=3.0, b_U=5.0,
            rd=5.0, Hs=2e5, hR=0.4, eps=2.0, gdp=3.65e9, tau_c=0.0, tau_w=0.0, tax_R=0.0)


def test_channels_by_hand():
    # one member, one host, k = 2, one day: T=10, S1=20, S2=30, R=5, E=40, U=7 (N = 112)
    lay = Layout(2)
    states = np.zeros((1, 1, lay.size, 1))
    for name, v in dict(T=10, S1=20, S2=30, R=5, E=40, U=7, Ret=99, Out=99).items():
        states[0, 0, lay.index(name), 0] = v
    econ = {n: np.array([[[v]]]) for n, v in ECON.items()}  # (M, H, 1)
    out = dict(zip(ECONOMY_VARIABLES, economy_series(states, lay, econ)[0, 0, :, 0]))
    # spending = 0.5 * (60*10 + 30*50 + 40*5) = 0.5 * 2300 = 1150
    assert out["spending"] == pytest.approx(1150.0)
    # work = 0.9 * 20 * 40 = 720
    assert out["work"] == pytest.approx(720.0)
    # public = 3 * 112 = 336; support = 5 * 7 = 35; displacement = 0.25 * 20 * 40 = 200
    assert out["public"] == pytest.approx(336.0)
    assert out["support"] == pytest.approx(35.0)
    assert out["displacement"] == pytest.approx(200.0)
    # rent = 2 * 5 * 0.4 * 112 = 448 (v1: L = 1e6, Hs = 2e5)
    assert out["rent"] == pytest.approx(448.0)
    assert out["boost"] == pytest.approx(1870.0)
    assert out["burden"] == pytest.approx(1019.0)
    assert out["net"] == pytest.approx(851.0)
    # daily GDP = 3.65e9 / 365 = 1e7 -> share 8.51e-5
    assert out["net_share_gdp"] == pytest.approx(8.51e-5)


NET = np.array([5.0, 3.0, -1.0, -2.0, 4.0, -3.0, -9.0, 0.0])


def test_crossover_first_negative_after_positive():
    # positive and negative mean beyond max(1 USD/day, 1e-9 * max|x|) (docs/model.md v2): NET in tens of USD/day
    assert S.crossover_day(10 * NET) == 2
    assert S.crossover_day(NET) == 3                                   # -1 USD/day is within the tolerance
    assert S.crossover_day(np.array([-10.0, -20.0, 30.0, -10.0])) == 3  # negatives before any positive don't count
    assert S.crossover_day(np.array([-10.0, -20.0, 0.0])) == -1
    assert S.crossover_day(np.array([10.0, 0.0, 20.0])) == -1


def test_cumulative_and_breakeven():
    # C = 5, 8, 7, 5, 9, 6, -3, -3: t0 = 0 (|5| > 1), positive; first negative C on day 6
    cum = S.cumulative(NET)
    np.testing.assert_allclose(cum, [5, 8, 7, 5, 9, 6, -3, -3])
    assert S.breakeven_day(cum) == 6
    # |C| stays <= 1 USD until day 2, then negative, then positive on day 4
    assert S.breakeven_day(S.cumulative(np.array([0.5, 0.4, -3.0, 1.0, 5.0]))) == 4
    assert S.breakeven_day(S.cumulative(np.array([0.5, 0.2, 0.1]))) == -1


def test_present_value_by_hand():
    r = 0.1
    net = np.array([365.0, 365.0, 365.0])
    expected = 365.0 * (1 + 1.1 ** (-1 / 365) + 1.1 ** (-2 / 365))
    assert S.present_value(net, r) == pytest.approx(expected)
    # a full year later a dollar is worth 1/1.1
    long = np.zeros(366)
    long[365] = 1.0
    assert S.present_value(long, r) == pytest.approx(1 / 1.1)


def test_windows():
    net = np.arange(400.0)
    assert S.window_mean(net, 0, 90) == pytest.approx(44.5)       # mean of 0..89
    assert S.window_mean(net, 366, None) == pytest.approx(382.5)  # mean of 366..399
    assert np.isnan(S.window_mean(np.arange(100.0), 366, None))
    assert np.isnan(S.window_mean(np.arange(50.0), 0, 90))  # a partial window is not the docs/model.md figure


def test_short_horizon_leaves_windows_empty():
    sc = flowsim.Scenario(params=make_params(), horizon_days=60, arrivals={"KAZ": flowsim.Pulse(total=1e3)})
    row = flowsim.run(sc).summary("net")["KAZ"]
    assert row["short_term_usd_per_day"] is None and row["long_term_usd_per_day"] is None
    assert row["peak_date"] is not None and row["fade_ratio"] is None


def test_run_economy_matches_hand_computation():
    """Initial stocks only, one host, one day: the run's day-0 economy is the hand value."""
    params = make_params(("KAZ",), k=2, **ECON)
    sc = flowsim.Scenario(params=params, horizon_days=1,
                          initial={"KAZ": {"T": 10, "S1": 20, "S2": 30, "R": 5, "E": 40, "U": 7}})
    res = flowsim.run(sc)
    assert res.series("net", "KAZ")[0] == pytest.approx(851.0)
    assert res.summary("net")["KAZ"]["peak_date"] in (dt.date(2022, 9, 21), dt.date(2022, 9, 22))


@pytest.mark.parametrize("balance", flowsim.BALANCES)
def test_summary_table_consistent_with_series(seed_result, balance):
    table = seed_result.summary(balance)
    for h in seed_result.hosts:
        row = table[h]
        x = seed_result.series(balance, h)
        assert row["cumulative_usd"] == pytest.approx(x.sum())
        assert row["short_term_usd_per_day"] == pytest.approx(x[:90].mean())
        assert row["long_term_usd_per_day"] == pytest.approx(x[366:].mean())
        assert row["peak_usd_per_day"] == pytest.approx(x.max())
        assert row["peak_present"] == pytest.approx(seed_result.series("N", h).max())
        if balance == "inflow" and x[:365].mean() > 0:
            assert row["fade_ratio"] == pytest.approx(x[365:730].mean() / x[:365].mean())
        else:
            assert row["fade_ratio"] is None


def test_seed_summary_regression(seed_result):
    """Regression figures of the seed scenario (docs/model.md v2 defaults).

    Derivation: `flowsim run kazakhstan-2022` with the shipped defaults
    (flowsim/data/*.csv, v2: nu_R, rd, tau_c, tau_w, tax_R, D_x = 180) at RK45,
    rtol=1e-8. The KAZ week-one arrivals are exact: 230,000 * gammainc(4, 7/2.08)
    = 99,833.89. The tolerance on the solved figures (1e-6 relative) is far
    above solver noise (~1e-9, see the solver-agreement tests) and far below
    the effect of any parameter change; update these numbers, with a note, when
    the defaults change.
    """
    k = seed_result.hosts.index("KAZ")
    assert seed_result.cumulative_arrivals[7, k] == pytest.approx(99_833.89036, rel=1e-9)
    expected = {   # (balance, host): peak present, PV (USD), status, sustained crossover, long-term mean (USD/day)
        ("residents", "KAZ"): (72_168.568, 209_673_975.5, "sustained", dt.date(2025, 12, 1), 25_918.838),
        ("residents", "GEO"): (56_719.473, 219_000_000.8, "sustained", dt.date(2027, 3, 22), 41_391.086),
        ("residents", "MNG"): (4_080.0526, 6_596_179.406, "sustained", dt.date(2026, 4, 3), 704.88253),
        ("fiscal", "KAZ"): (72_168.568, 43_710_285.96, "never_negative", None, 25_236.365),
        ("fiscal", "MNG"): (4_080.0526, 552_393.9610, "sustained", dt.date(2022, 12, 20), 402.48643),
    }
    table = seed_result.summary("all")
    for (balance, host), (peak, pv, status, sustained, long_term) in expected.items():
        row = table[host, balance]
        assert row["peak_present"] == pytest.approx(peak, rel=1e-6)
        assert row["pv_usd"] == pytest.approx(pv, rel=1e-6)
        assert row["status"] == status and row["sustained_crossover_date"] == sustained
        assert row["long_term_usd_per_day"] == pytest.approx(long_term, rel=1e-6)
    for balance in flowsim.BALANCES:
        tkm = table["TKM", balance]
        assert tkm["peak_present"] == 0.0 and tkm["status"] == "zero" and tkm["peak_date"] is None
        assert tkm["crossover_date"] is None and tkm["sustained_crossover_date"] is None
