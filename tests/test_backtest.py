"""Backtests: coverage exact on figures drawn from the model itself, recovery of known settled parameters,
results, reprs, figure and errors.

One host, 100 days, figures computed from the model (so each backtest takes a
few seconds with the Laplace posterior, or a short chain).
"""

import dataclasses
import importlib
import math

import numpy as np
import pytest
from conftest import day
from conftest import pulse_scenario as scenario
from scipy.stats import binom, kstest

import flowsim
from flowsim import BackgroundTraffic, Observation, ObservationModel
from flowsim.analysis.scores import noisy_ensemble
from flowsim.calibration.backtest import SCORE_COLUMNS, member_predictions, needed_series, score_figure
from flowsim.exceptions import CalibrationError

BG = BackgroundTraffic(entries={"KAZ": 1_500.0})
TRUE = {"f0[KAZ]": 0.01, "lam_S[KAZ]": 0.002}
TRUE_VALUES = {"f0": 0.01, "lam_S": 0.002}
UNTIL = day(60)
SIGMAS = lambda o: 0.03  # noqa: E731  (every figure to 3%: the stocks identify lam_S)


def figures():
    """Stocks (points), the employed (ranges of +-3%, then a "more than" bound) and exits up to day 100."""
    obs = [Observation(host="KAZ", quantity="stock_present", date_start=day(0), date_end=day(i), value=1.0)
           for i in (20, 40, 60, 80, 100)]
    obs += [Observation(host="KAZ", quantity="employed_registered", date_start=day(0), date_end=day(i), value=None,
                        low=1.0, high=1.0) for i in (20, 40, 60, 90)]
    obs += [Observation(host="KAZ", quantity="employed_registered", date_start=day(0), date_end=day(100), value=1.0,
                        qualifier="more than")]
    obs += [Observation(host="KAZ", quantity="cumulative_exits", date_start=day(0), date_end=day(i), value=1.0)
            for i in (30, 95)]
    return obs


def truth_scenario():
    sc = scenario(horizon=110)
    return sc.replace(params=sc.params.with_params(**TRUE_VALUES))


def synthetic():
    """The figures computed from the truth: points exact, ranges +-3% around it, the bound 10% below it."""
    obs = figures()
    values = ObservationModel.build(obs, BG).predict(flowsim.run(truth_scenario()))
    out = []
    for o, v in zip(obs, values):
        v = float(v)
        if o.low is not None:
            out.append(o.replace(low=0.97 * v, high=1.03 * v))
        elif o.qualifier == "more than":
            out.append(o.replace(value=0.9 * v))
        else:
            out.append(o.replace(value=v))
    return out


def wrong_start():
    """The truth's scenario with f0 and lam_S doubled: where the fit starts."""
    sc = truth_scenario()
    return sc.replace(params=sc.params.with_params(f0=0.02, lam_S=0.004))


@pytest.fixture(scope="module")
def bt():
    return flowsim.backtest(wrong_start(), synthetic(), UNTIL, list(TRUE), background=BG, priors=None, starts=1,
                            method="laplace", members=150, seed=4, sigmas=SIGMAS)


# ------------------------------------------------------------------- coverage is exact on the model's own figures
def test_bands_cover_the_nominal_share_of_figures_drawn_from_the_model():
    """Truths drawn from the same distribution as the ensemble: the 50% and 90% bands cover 50% and 90% of them.

    1,200 members with f0, lam_S, tau_T and the pulse total drawn independently
    from ranges; each figure gets a relative error of 10%. The first 600
    members are the truths (one figure each, the figures taken in turn), the
    other 600 the forecast ensemble. Every truth and every member come from
    the same distribution, so a figure falls in the central ``p`` band with
    probability ``p`` (up to the ensemble's finite size), independently.
    """
    sc = scenario(horizon=110)
    obs = [o.replace(value=1.0) for o in figures() if o.low is None and o.qualifier == ""]   # the points
    model = ObservationModel.build(obs, BG)
    vary = {"f0": (0.005, 0.03), "lam_S": (0.001, 0.006), "tau_T": (2.0, 6.0)}
    ens = flowsim.ensemble(sc, 1200, vary=vary, sampler="random", seed=11, progress=False,
                           keep=needed_series(model, sc))
    pred = member_predictions(model, ens)
    assert pred.shape == (1200, len(obs)) and np.all(pred > 0)
    assert np.ptp(pred, axis=0).min() > 0.05 * pred.mean(axis=0).min()          # the members differ
    sigma = np.full(len(obs), 0.1)
    x = noisy_ensemble(pred, sigma, np.random.default_rng(5))
    truths, forecast = x[:600], x[600:]
    rows = []
    for j in range(600):
        i = j % len(obs)
        y = float(truths[j, i])
        rows.append(score_figure(obs[i].replace(value=y), dataclasses.replace(model.constraints[i], value=y),
                                 forecast[:, i], 0.1))
    n = len(rows)
    for level, flag in ((0.5, "in_50"), (0.9, "in_90")):
        covered = sum(getattr(r, flag) for r in rows)
        lo, hi = binom.ppf(0.005, n, level), binom.ppf(0.995, n, level)  # 99% binomial range
        assert lo <= covered <= hi, (level, covered, lo, hi)
    # the probability integral transform of a calibrated forecast is uniform
    assert kstest([r.pit for r in rows], "uniform").pvalue > 0.01


# -------------------------------------------------------------------------- recovery and scores
def test_backtest_recovers_known_settled_parameters(bt):
    est = {e.name: e for e in bt.calibration.estimates}
    for name, value in TRUE.items():
        e = est[name]
        assert e.ci_low <= value <= e.ci_high, (name, e.ci_low, value, e.ci_high)
        assert e.value == pytest.approx(value, rel=0.05)
    # the posterior draws around the truth, in the Laplace approximation
    for k, name in enumerate(bt.posterior.labels):
        lo, hi = np.quantile(bt.draws[:, k], [0.025, 0.975])
        assert lo <= TRUE[name] <= hi
    assert bt.posterior.stats["ess"] >= 30          # the importance weights of the Laplace proposals
    assert bt.in_sample.tolist() == [o.date_end <= UNTIL for o in synthetic()]
    assert bt.n_held_out == 5 and bt.n_members == 150
    assert bt.predictions.shape == bt.predictive.shape == (150, len(synthetic()))


def test_held_out_figures_of_the_truth_are_covered_and_scored(bt):
    by_end = {(r.quantity, (r.date_end - day(0)).days): r for r in bt.scores}
    assert sorted(by_end) == [("cumulative_exits", 95), ("employed_registered", 90), ("employed_registered", 100),
                              ("stock_present", 80), ("stock_present", 100)]
    for r in bt.scores:
        assert r.in_50 and r.in_90, r
        assert r.q05 <= r.median <= r.q95
        assert r.crps_relative < 0.05
    point = by_end[("stock_present", 100)]
    assert point.kind == "point" and abs(point.relative_error) < 0.03 and 0.1 < point.pit < 0.9
    bound = by_end[("employed_registered", 100)]
    assert bound.kind == "lower" and bound.relative_error == 0.0 and bound.p_accepted > 0.5
    rng = by_end[("employed_registered", 90)]
    assert rng.kind == "range" and rng.low < rng.high
    assert bt.coverage_of(0.9) == 1.0 and bt.coverage_of(0.5) == 1.0
    assert bt.coverage_of(0.9, "point") == 1.0
    assert 0 < bt.mean_crps_relative < 0.05


def test_a_wrong_forecast_scores_badly(bt):
    """Hold the parameters at the wrong start (nothing fitted but a background level): the bands miss."""
    bad = flowsim.backtest(wrong_start(), synthetic(), UNTIL, ["background[KAZ]"], background=BG, priors=None,
                           starts=1, method="laplace", members=100, seed=4)
    assert bad.coverage_of(0.9) < 1.0
    assert bad.mean_crps_relative > 2 * bt.mean_crps_relative


def test_noise_widens_the_bands(bt):
    width = lambda x: np.quantile(x, 0.95, axis=0) - np.quantile(x, 0.05, axis=0)  # noqa: E731
    assert np.all(width(bt.predictive) > width(bt.predictions))
    assert all(r.sigma == pytest.approx(0.03) for r in bt.scores)
    exact = flowsim.backtest(wrong_start(), synthetic(), UNTIL, ["background[KAZ]"], background=BG, priors=None,
                             starts=1, method="laplace", members=20, seed=4, noise=False)
    assert np.array_equal(exact.predictive, exact.predictions) and not exact.noise
    assert all(r.sigma == 0 for r in exact.scores)


def test_short_chain_backtest():
    pytest.importorskip("emcee")
    b = flowsim.backtest(wrong_start(), synthetic(), UNTIL, list(TRUE), background=BG, priors=None, starts=1,
                         n_walkers=6, n_steps=60, burn=20, members=60, seed=2, sigmas=SIGMAS)
    assert b.method == "mcmc" and b.posterior.chain.shape == (60, 6, 2)
    assert b.stats["walkers"] == 6 and b.stats["steps"] == 60
    assert b.coverage_of(0.9) >= 0.8
    for k, name in enumerate(b.posterior.labels):
        assert np.quantile(b.draws[:, k], 0.01) <= TRUE[name] <= np.quantile(b.draws[:, k], 0.99)


# ---------------------------------------------------------------------------------- outputs
def test_tables_reprs_and_dataframes(bt):
    text = repr(bt)
    assert "fitted on the 7 figures ending by" in text and "scored the 5 after" in text
    assert "Laplace approximation" in text and "effective sample size" in text
    assert "stock_present" in text and ">= " in text
    html = bt._repr_html_()
    assert html.startswith("<div class='flowsim-backtest'>") and "&gt;=" in html
    assert tuple(bt.scores.columns) == SCORE_COLUMNS
    keys = {(r.host, r.quantity, r.kinds, r.nominal) for r in bt.coverage}
    assert ("KAZ", "employed_registered", "lower+range", 0.9) in keys and ("all", "all", "all", 0.5) in keys
    pd = pytest.importorskip("pandas")
    df = bt.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == 5 and "crps" in df.columns
    assert len(bt.to_dataframe("coverage")) == len(bt.coverage)
    with pytest.raises(CalibrationError, match="scores' or 'coverage'"):
        bt.to_dataframe("nope")
    with pytest.raises(CalibrationError, match="no total row"):
        bt.coverage_of(0.8)


def test_plot(bt):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = bt.plot()
    assert set(axes) == {("KAZ", "stock_present"), ("KAZ", "employed_registered"), ("KAZ", "cumulative_exits")}
    ax = axes[("KAZ", "stock_present")]
    assert ax.get_ylabel() == "persons" and "stock present" in ax.get_title()
    fig = ax.figure
    assert "Backtest of" in fig._suptitle.get_text() and fig.legends
    plt.close(fig)


@pytest.mark.parametrize("kwargs, message", [
    (dict(until=day(1)), "no figure ends on or before"),
    (dict(until=day(120)), "no figure ends after"),
    (dict(method="nuts"), "method must be one of mcmc, laplace"),
    (dict(members=1), "members"),
    (dict(temperature=-1.0), "temperature must be a number > 0"),
    (dict(until="60 days"), "until"),
])
def test_input_errors(kwargs, message, monkeypatch):
    """Each is refused before the fit runs."""
    backtest_module = importlib.import_module("flowsim.calibration.backtest")    # the module, not the function

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran before the input was checked")

    monkeypatch.setattr(backtest_module, "calibrate", no_fit)
    args = dict(until=UNTIL, method="laplace", members=10)
    args.update(kwargs)
    until = args.pop("until")
    with pytest.raises(CalibrationError, match=message):
        flowsim.backtest(scenario(horizon=110), synthetic(), until, ["f0[KAZ]"], background=BG, starts=1, **args)


def test_ensemble_of_given_draws_checks_their_shape(bt):
    with pytest.raises(CalibrationError, match="either n or draws"):
        bt.posterior.ensemble(3, draws=bt.draws[:3])
    with pytest.raises(CalibrationError, match="draws must have shape"):
        bt.posterior.ensemble(draws=np.ones((3, 5)))
    ens = bt.posterior.ensemble(draws=bt.draws[:2], keep=("N",))
    assert ens.n_members == 2
    for k, label in enumerate(bt.posterior.labels):
        name = label.split("[")[0]
        assert math.isclose(ens.member_parameters(1).get(name, "KAZ"), bt.draws[1, k], rel_tol=1e-12)
