"""docs/model.md v2: the accounts, nu_R, rent per dwelling, taxes and the per-balance summaries."""

from pathlib import Path

import numpy as np
import pytest
from conftest import make_params

import flowsim
from flowsim import summary as S
from flowsim.model.economy import ECONOMY_VARIABLES

V1_REFERENCE = Path(__file__).with_name("data") / "v1_reference.npz"
#: v1's total rents L (USD/day) of the reference hosts; v1's rent per dwelling was L / Hs (Hs unchanged in v2).
V1_RENT_L = {"KAZ": 3.25e6, "UZB": 9e5, "KGZ": 6e5, "TJK": 1.6e5, "TKM": 2e5, "GEO": 8e5, "ARM": 4e5, "MNG": 4.8e5}
V1_ECONOMY = ("spending", "work", "public", "support", "displacement", "rent", "boost", "burden", "net",
              "net_share_gdp")


def _series(res, name):
    """(H, D) of member 0."""
    return np.stack([res.series(name, h) for h in res.hosts])


# --------------------------------------------------------------- identities
@pytest.mark.parametrize("name", ["kazakhstan-2022", "with-spring-wave"])
def test_account_identities(name):
    """Both identities of `residents` and fiscal = revenue - cost, to 1e-9 of the series' scale (docs/model.md v2)."""
    sc = flowsim.load_scenario(name).with_params(tau_c=0.08, tau_w=0.2, tax_R=1.5, delta=0.3, b_U=4.0)
    res = flowsim.run(sc)
    p = res.params[0]
    v = {n: _series(res, n) for n in ("inflow", "value_added", "fiscal", "fiscal_revenue", "fiscal_cost",
                                      "residents", "E", "R")}
    col = {n: np.asarray(p[n])[:, None] for n in ("m", "tau_c", "tau_w", "tax_R", "delta", "pi", "w")}
    scale = np.abs(v["inflow"]).max()
    one = (col["m"] - col["tau_c"]) * v["inflow"] + v["fiscal"] \
        - (1 - col["tau_c"]) * (1 - col["tau_w"]) * col["delta"] * col["w"] * v["E"]
    two = v["value_added"] - (1 - col["tau_c"]) * (1 - col["tau_w"]) * col["pi"] * col["w"] * v["E"] \
        + col["tax_R"] * v["R"] - v["fiscal_cost"]
    assert np.abs(v["residents"] - one).max() <= 1e-9 * scale
    assert np.abs(v["residents"] - two).max() <= 1e-9 * scale
    assert np.abs(v["fiscal"] - (v["fiscal_revenue"] - v["fiscal_cost"])).max() <= 1e-9 * scale
    # inflow is never negative, value_added >= 0 when delta <= pi (docs/model.md "How to read them")
    assert v["inflow"].min() >= -1e-9 * scale and v["value_added"].min() >= -1e-9 * scale


def test_accounts_by_hand():
    """One host, one day, initial stocks only: every v2 series computed by hand."""
    from flowsim.model.economy import economy_series
    from flowsim.scenario.layout import Layout

    lay = Layout(2)
    states = np.zeros((1, 1, lay.size, 1))
    for name, x in dict(T=10, S1=20, S2=30, R=5, E=40, U=7).items():
        states[0, 0, lay.index(name), 0] = x
    econ = dict(c_T=60.0, c_S=30.0, c_R=40.0, m=0.5, w=20.0, pi=0.9, delta=0.25, g_pub=3.0, b_U=5.0, rd=5.0,
                Hs=2e5, hR=0.4, eps=2.0, gdp=3.65e9, tau_c=0.1, tau_w=0.2, tax_R=2.0)
    out = dict(zip(ECONOMY_VARIABLES, economy_series(states, lay, {n: np.array([[[x]]]) for n, x in econ.items()})
                   [0, 0, :, 0]))
    # inflow = 60*10 + 30*50 + 40*5 = 2300; theta = 0.2 + 0.1*0.8 = 0.28; w*E = 800
    assert out["inflow"] == pytest.approx(2300.0)
    assert out["rent_rise"] == pytest.approx(2.0 * 0.4 * 112 / 2e5)
    assert out["value_added"] == pytest.approx(0.5 * 2300 + (0.9 - 0.25) * 800)                       # 1670
    assert out["fiscal_revenue"] == pytest.approx(0.1 * 2300 + 0.28 * 0.65 * 800 + 2.0 * 5)         # 385.6
    assert out["fiscal_cost"] == pytest.approx(3.0 * 112 + 5.0 * 7)                                  # 371
    assert out["fiscal"] == pytest.approx(385.6 - 371.0)
    assert out["residents"] == pytest.approx(1150 + 0.28 * 0.9 * 800 + 10 - 0.25 * 800 - 371)       # 790.6
    assert out["residents_share_gdp"] == pytest.approx(790.6 / 1e7)
    assert out["inflow_share_gdp"] == pytest.approx(2300 / 1e7)


# ------------------------------------------------------------ v1 unchanged
@pytest.mark.parametrize("name", ["kazakhstan-2022", "with-spring-wave", "remote-income-shock"])
def test_v1_series_unchanged(name):
    """With nu_R = 0, zero taxes and rd = v1's L/Hs, every v1 series equals the v1 release's.

    The reference (tests/data/v1_reference.npz) was saved by
    tests/data/make_v1_reference.py on commit 6de6bf1 (v1), before any v2
    change: states and the ten v1 economy series of every host on days 0..30
    and every 10th day, RK45 at rtol 1e-8. The states are bit-identical
    (nu_R = 0 adds exact zeros); the rent channel is computed as
    eps * (L / Hs) * hR * N instead of eps * L * hR * N / Hs, a difference of
    a few units in the last place: hence rtol 1e-12.
    """
    ref = np.load(V1_REFERENCE)
    key = name.replace("-", "_")
    sc = flowsim.load_scenario(name)
    hosts = sc.hosts
    assert tuple(ref[f"{key}__hosts"]) == hosts
    rd = {h: V1_RENT_L[h] / sc.params.get("Hs", h) for h in hosts}
    res = flowsim.run(sc.with_params(nu_R=0.0, tau_c=0.0, tau_w=0.0, tax_R=0.0, rd=rd))
    days = ref["days"]
    assert tuple(ref[f"{key}__compartments"]) == res.compartments
    np.testing.assert_array_equal(res.states[0][:, :, days], ref[f"{key}__states"])
    for j, var in enumerate(V1_ECONOMY):
        np.testing.assert_allclose(_series(res, var)[:, days], ref[f"{key}__economy"][:, j], rtol=1e-12,
                                   atol=1e-12, err_msg=var)


# -------------------------------------------------------------------- nu_R
def test_nu_R_closed_form():
    """One host, only R and a one-stage savings chain, no jobs: R and S against their closed forms."""
    a, n, b, tau = 0.002, 0.01, 0.003, 50.0                   # lam_R, nu_R, lam_S, tau_S (k = 1)
    params = make_params(("KAZ",), k=1, tau_S=tau, f0=0.0, lam_R=a, nu_R=n, lam_S=b)
    R0 = 10_000.0
    sc = flowsim.Scenario(params=params, horizon_days=200, initial={"KAZ": {"R": R0}})
    res = flowsim.run(sc)
    t = np.arange(201.0)
    g = 1.0 / tau
    R = R0 * np.exp(-(a + n) * t)
    S1 = n * R0 * (np.exp(-(a + n) * t) - np.exp(-(g + b) * t)) / ((g + b) - (a + n))
    np.testing.assert_allclose(res.series("R", "KAZ"), R, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(res.series("S", "KAZ"), S1, rtol=1e-6, atol=1e-5)
    # remote income lost: the remote workers' spending turns into savers' spending
    assert res.series("inflow", "KAZ")[100] == pytest.approx(40.0 * R[100] + 30.0 * S1[100], rel=1e-6)


@pytest.mark.parametrize("solver", ["ivp", "ensemble"])
def test_conservation_with_nu_R(solver):
    sc = flowsim.load_scenario("kazakhstan-2022").with_params(nu_R=0.005)
    res = flowsim.run(sc, solver=solver)
    assert res.conservation_error() < 1e-6
    assert res.min_relative_stock() > -1e-9


def test_stochastic_moves_remote_workers_to_savings():
    """The chain conserves people exactly with nu_R > 0, and its mean follows the ODE."""
    params = make_params(("KAZ",), k=1, f0=0.0, lam_R=0.0, nu_R=0.02, lam_S=0.0, tau_S=1e6)
    sc = flowsim.Scenario(params=params, horizon_days=50, initial={"KAZ": {"R": 5_000}})
    res = flowsim.run(sc, solver="stochastic", seed=3)
    assert res.conservation_error() == 0.0
    R = res.series("R", "KAZ")
    assert R[50] == pytest.approx(5_000 * np.exp(-0.02 * 50), rel=0.1)     # ~1,840; sd ~ 35 people
    assert res.series("S", "KAZ")[50] == pytest.approx(5_000 - R[50], abs=1.0)


# ------------------------------------------------------------ summaries
@pytest.mark.parametrize("series, D_x, status, cross, sustained", [
    ([5, -5, 5, -5, -5, -5, 5], 3, "sustained", 1, 3),         # a dip shorter than D_x, then a sustained one
    ([5, -5, -5, 5, 5], 3, "dip", 1, -1),                      # crosses back within D_x days
    ([5, 5, 5, -5, -5], 3, "censored", 3, -1),                 # negative to the horizon, fewer than D_x days
    ([5, 5, -5, -5, -5], 3, "sustained", 2, 2),                # exactly D_x days, ending on the horizon
    ([-5, -5, -5], 1, "never_positive", -1, -1),               # a cost from day one: not "no crossover"
    ([5, 3, 0, 1e-12, 2], 1, "never_negative", -1, -1),
    ([-5, -5, 5, 5], 1, "turns_positive", -1, -1),             # a cost that turns into a gain
    ([0, 0, 0], 1, "zero", -1, -1),
    ([1e-12, -1e-12, 1e-12], 1, "zero", -1, -1),               # solver residue is neither positive nor negative
    ([0.5, -0.5, 0.9], 1, "zero", -1, -1),                     # below 1 USD/day
    ([-5, 5, -5, 5], 1, "sustained", 2, 2),                    # D_x = 1: every negative day after a gain
    ([-5, 5, -5, 5], 2, "dip", 2, -1),
])
def test_status_and_crossovers_by_hand(series, D_x, status, cross, sustained):
    x = np.array(series, float)
    assert S.STATUSES[S.status_codes(x, D_x)] == status
    assert S.crossover_day(x) == cross
    assert S.sustained_crossover_day(x, D_x) == sustained


def test_tolerance_scales_with_the_series():
    """tol = max(1 USD/day, 1e-9 * max|x|): a -1e-3 residue of a 1e7 series is no crossover."""
    x = np.array([1e7, 5e6, -1e-3, 2e6])
    assert S.crossover_day(x) == -1 and S.STATUSES[S.status_codes(x, 1)] == "never_negative"
    assert S.crossover_day(np.array([1e7, 5e6, -0.1, 2e6])) == -1      # |x| < 1e7 * 1e-9 = 0.01? no: < 1 USD
    assert S.crossover_day(np.array([1e10, 5e6, -5.0, 2e6])) == -1     # 5 < 1e10 * 1e-9 = 10


def test_summary_vectorised_over_members_and_hosts():
    x = np.array([[[5, -5, -5, 5]], [[5, 5, -5, -5]]], float)      # (M=2, H=1, D=4)
    out = S.balance_summary(x, 0.05, np.array([[2], [2]]))
    assert [S.STATUSES[c] for c in out["status"].ravel()] == ["sustained", "sustained"]
    np.testing.assert_array_equal(out["sustained_crossover_day"].ravel(), [1, 2])


def test_fade_ratio():
    x = np.r_[np.full(365, 100.0), np.full(365, 25.0), np.zeros(10)]
    out = S.balance_summary(x, 0.0, 180, fade=True)
    assert out["fade_ratio"] == pytest.approx(0.25)
    assert np.isnan(S.balance_summary(x[:700], 0.0, 180, fade=True)["fade_ratio"])   # horizon before day 729
    assert np.isnan(S.balance_summary(np.zeros(800), 0.0, 180, fade=True)["fade_ratio"])  # first-year mean 0


def test_D_x_must_be_a_whole_number():
    with pytest.raises(flowsim.ParameterError, match=r"`D_x`.*whole number"):
        flowsim.reference_parameters().with_params(D_x=2.5)
    with pytest.raises(flowsim.ParameterError, match=r"`D_x`"):
        flowsim.reference_parameters().with_params(D_x=0)


def test_D_x_decides_the_sustained_crossover():
    sc = flowsim.load_scenario("kazakhstan-2022")
    long = flowsim.run(sc.with_params(D_x=180)).summary("fiscal")["MNG"]
    assert long["status"] == "sustained"                     # 192 negative days from 2022-12-20
    short = flowsim.run(sc.with_params(D_x=365)).summary("fiscal")["MNG"]
    assert short["status"] == "dip" and short["sustained_crossover_date"] is None
    assert short["crossover_date"] == long["crossover_date"]


def test_summary_csv_rows_per_host_and_balance(seed_result, tmp_path):
    from flowsim import io as fio

    text = fio.summary_csv_text(seed_result)
    lines = text.splitlines()
    assert lines[0] == ("host,balance,status,peak_present,peak_usd_per_day,peak_date,crossover_date,"
                        "sustained_crossover_date,breakeven_date,cumulative_usd,pv_usd,short_term_usd_per_day,"
                        "long_term_usd_per_day,fade_ratio")
    assert len(lines) == 1 + 8 * 5
    tkm = [line for line in lines if line.startswith("TKM,inflow")][0].split(",")
    assert tkm[2] == "zero" and tkm[5] == "" and tkm[6] == ""          # dates that do not occur: empty cells
    kaz_fiscal = [line for line in lines if line.startswith("KAZ,fiscal")][0].split(",")
    assert kaz_fiscal[-1] == ""                                            # fade ratio: inflow only


def test_summary_default_balance_is_residents(seed_result):
    assert seed_result.summary().balances == ("residents",)
    assert seed_result.summary()["KAZ"] == seed_result.summary("all")["KAZ", "residents"]
    with pytest.raises(flowsim.FlowsimError, match="unknown balance 'fiscl'.*fiscal"):
        seed_result.summary("fiscl")


# ------------------------------------------------------------------ L -> rd
def test_L_read_as_rd_with_a_warning(tmp_path):
    p = flowsim.reference_parameters(["KAZ", "GEO"])
    with pytest.warns(flowsim.FlowsimDeprecationWarning, match=r"`L`.*rd = L / Hs"):
        q = p.with_params(L={"KAZ": 2.5e6})
    assert q.get("rd", "KAZ") == pytest.approx(2.5e6 / p.get("Hs", "KAZ"))
    assert q.get("rd", "GEO") == p.get("rd", "GEO")
    with pytest.warns(flowsim.FlowsimDeprecationWarning):
        q = p.with_params(L=1e6, Hs=1e5)                    # Hs of the same call
    assert q.get("rd", "GEO") == pytest.approx(10.0)
    path = tmp_path / "legacy.toml"
    path.write_text('base = "kazakhstan-2022"\n[parameters]\nL = { KAZ = 3000000 }\n', encoding="utf-8")
    with pytest.warns(flowsim.FlowsimDeprecationWarning, match=r"legacy.toml, line 3"):
        sc = flowsim.load_scenario(path)
    assert sc.params.get("rd", "KAZ") == pytest.approx(3e6 / sc.params.get("Hs", "KAZ"))
    with pytest.raises(flowsim.ParameterError, match="either `rd`"):
        p.with_params(L=1e6, rd=3.0)


def test_tau_c_cannot_exceed_m():
    with pytest.raises(flowsim.ParameterError, match=r"`tau_c` for host KAZ must be <= `m`"):
        flowsim.reference_parameters(["KAZ"]).with_params(tau_c=0.8, m=0.5)


def test_resolved_json_round_trips_every_v2_symbol(tmp_path):
    from flowsim import io as fio

    sc = flowsim.load_scenario("kazakhstan-2022").with_params(nu_R={"KAZ": 0.003}, tax_R=0.25, D_x=90)
    res = flowsim.run(sc.replace(horizon_days=30))
    path = tmp_path / "resolved.json"
    path.write_text(fio.resolved_json_text(res), encoding="utf-8")
    back = flowsim.load_scenario(path)
    for name in ("nu_R", "rd", "tau_c", "tau_w", "tax_R", "D_x"):
        np.testing.assert_array_equal(back.params[name], res.params[0][name])
    assert back.params == res.params[0]


def test_vectorised_summary_agrees_with_the_definitions():
    """balance_summary's one-pass crossings and statuses equal the one-series definitions, on random series."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    levels = st.sampled_from([-50.0, -5.0, -1e-12, 0.0, 1e-12, 5.0, 50.0])

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(st.lists(st.lists(levels, min_size=12, max_size=12), min_size=1, max_size=5),
           st.integers(min_value=1, max_value=6))
    def check(rows, D_x):
        x = np.array(rows)
        out = S.balance_summary(x, 0.05, D_x)
        for i, row in enumerate(x):
            assert out["crossover_day"][i] == S.crossover_day(row)
            assert out["sustained_crossover_day"][i] == S.sustained_crossover_day(row, D_x)
            assert out["status"][i] == S.status_codes(row, D_x)
            assert out["breakeven_day"][i] == S.breakeven_day(np.cumsum(row))

    check()
