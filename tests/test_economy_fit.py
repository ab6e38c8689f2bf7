"""Economic figures (docs/model.md v2, "Observing the economy"): the observation model and the fit."""

import datetime as dt
import math

import numpy as np
import pytest
from conftest import START, day, make_params

import flowsim
from flowsim.analysis.constraints import ObservationModel


def _obs(quantity, d0, d1, value=None, low=None, high=None, host="GEO", qualifier=""):
    return flowsim.Observation(host=host, quantity=quantity, date_start=d0, date_end=d1, value=value, low=low,
                               high=high, qualifier=qualifier)


def steady_scenario(share=0.5):
    """GEO alone with initial stocks that stay put (no leaving, no jobs, no arrivals; savings that last 1e6 days,
    the longest time constant allowed, so savers spend down by less than 2e-5 in 15 days)."""
    params = make_params(("GEO",), f0=0.0, lam_S=0.0, lam_R=0.0, lam_E=0.0, lam_U=0.0, nu_R=0.0, tau_S=1e6, k=1,
                         c_S=30.0, c_R=50.0, eps=2.0, hR=0.4, Hs=1e5, transfer_share=share)
    return flowsim.Scenario(params=params, horizon_days=60, initial={"GEO": {"S1": 1000.0, "R": 500.0, "E": 200.0}})


def test_economic_quantities_by_hand():
    """inflow = 30 * 1000 + 50 * 500 = 55,000 USD/day, constant; N = 1,700; rent_rise = 2 * 0.4 * 1700 / 1e5."""
    res = flowsim.run(steady_scenario(share=0.5))
    obs = [
        _obs("transfers_excess", day(0), day(9), value=1.0),                          # 10 days
        _obs("transfers_excess", START - dt.timedelta(days=5), day(9), value=1.0),    # 5 days held before the start
        _obs("rent_log_change", dt.date(2021, 12, 31), day(20), value=1.0),
        _obs("rent_log_change", dt.date(2021, 12, 31), START - dt.timedelta(days=30), value=1.0),  # before: held
        _obs("sole_traders_registered", day(0), day(30), value=1.0),
        _obs("work_permits", day(0), day(30), value=1.0),
    ]
    pred = ObservationModel.build(obs).predict(res)
    inflow = 30.0 * 1000 + 50.0 * 500
    np.testing.assert_allclose(pred[:2], [10 * inflow / 0.5, 15 * inflow / 0.5], rtol=2e-5)   # savers: -1.5e-5
    rise = 2.0 * 0.4 * 1700 / 1e5
    np.testing.assert_allclose(pred[2:4], [math.log1p(rise)] * 2, rtol=1e-9)
    np.testing.assert_allclose(pred[4:], [500.0, 200.0], rtol=1e-9)


def test_transfers_integral_follows_a_changing_inflow():
    """Savers leaving at rate 0.01/day: the integral of c_S * S0 * exp(-0.01 t) over days 0..29 (trapezoid, daily)."""
    params = make_params(("GEO",), f0=0.0, lam_S=0.01, nu_R=0.0, tau_S=1e6, k=1, c_S=30.0, transfer_share=1.0)
    sc = flowsim.Scenario(params=params, horizon_days=40, initial={"GEO": {"S1": 1000.0}})
    pred = ObservationModel.build([_obs("transfers_excess", day(0), day(29), value=1.0)]).predict(flowsim.run(sc))
    exact = 30.0 * 1000 * (1 - math.exp(-0.3)) / 0.01
    assert pred[0] == pytest.approx(exact, rel=1e-4)             # trapezoid on a daily grid: ~ (0.01)^2 / 12


def test_range_and_lower_bound_residuals():
    """A range figure costs nothing inside and is relative to the nearer end outside; registrations are lower bounds."""
    res = flowsim.run(steady_scenario(share=0.5))
    inflow10 = 10 * 55_000 / 0.5
    model = ObservationModel.build([
        _obs("transfers_excess", day(0), day(9), low=0.9 * inflow10, high=1.2 * inflow10),
        _obs("transfers_excess", day(0), day(9), low=1.1 * inflow10, high=1.2 * inflow10),
        _obs("sole_traders_registered", day(0), day(30), value=400.0),
        _obs("sole_traders_registered", day(0), day(30), value=1000.0),
    ])
    rel = model.relative_errors(model.predict(res))
    assert rel[0] == 0.0 and rel[1] == pytest.approx(-0.1 / 1.1, rel=1e-4)     # savers spend down by 1e-5
    assert rel[2] == 0.0 and rel[3] == pytest.approx(-0.5)       # 500 remote workers against >= 1,000


def test_shipped_economy_observations_are_derived_by_the_script():
    """flowsim/data/economy_observations_2022.csv is what tools/make_economy_observations.py derives."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / "make_economy_observations.py"
    spec = importlib.util.spec_from_file_location("make_economy_observations", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--check"]) == 0
    table = flowsim.datasets.economy_observations_2022()
    geo = table.filter(host="GEO", quantity="transfers_excess")[0]
    # 2068 - 750 - 411.3/2 - (969.4 - 671.51) = 814.46 USD million (low); the monthly sum gives the high end
    assert geo.low == pytest.approx(814.46e6, rel=1e-5) and geo.high == pytest.approx(870.94e6, rel=1e-5)
    assert set(table.hosts) == {"KAZ", "GEO", "ARM"}             # not the labour-migrant corridors


def test_economic_parameters_recovered_from_synthetic_figures():
    """Figures made by the model with known c_S, c_R, eps are fitted back to them (share known).

    GEO with the spring-wave stocks, two years: transfers over six two-quarter windows (savers spend down
    and leave while remote workers stay, so the windows separate c_S from c_R) and three rent figures.
    """
    base = flowsim.load_scenario("with-spring-wave")
    geo = base.replace(params=base.params.select(["GEO"]), arrivals={"GEO": base.arrivals["GEO"]},
                       initial={"GEO": base.initial["GEO"]}, closures={}, horizon_days=800)
    truth = {"c_S": 41.0, "c_R": 73.0, "eps": 2.4}
    true_sc = geo.with_params(**{k: {"GEO": v} for k, v in truth.items()}, transfer_share={"GEO": 0.55})
    windows = [(dt.date(2022, m, 1), dt.date(2022 + (m + 5 > 12), (m + 5 - 1) % 12 + 1, 28)) for m in (10, 12)]
    windows += [(dt.date(2023, m, 1), dt.date(2023 + (m + 5 > 12), (m + 5 - 1) % 12 + 1, 28)) for m in (2, 5, 8, 11)]
    obs = [_obs("transfers_excess", a, b, value=1.0) for a, b in windows]
    obs += [_obs("rent_log_change", dt.date(2021, 12, 31), d, value=1.0)
            for d in (dt.date(2022, 12, 31), dt.date(2023, 6, 30), dt.date(2023, 12, 31))]
    values = ObservationModel.build(obs).predict(flowsim.run(true_sc))
    synthetic = [o.replace(value=float(v)) for o, v in zip(obs, values)]
    start = geo.with_params(transfer_share={"GEO": 0.55})               # c's and eps at the defaults
    fit = flowsim.calibrate(start, synthetic, ["c_S[GEO]", "c_R[GEO]", "eps[GEO]"], starts=1)
    for name, value in truth.items():
        e = fit.estimate(f"{name}[GEO]")
        assert e.identified, name
        assert e.value == pytest.approx(value, rel=1e-3), name
        assert e.ci_low <= value <= e.ci_high
    assert fit.chi2 < 1e-6
