"""Global sensitivity: the Sobol' wrapper against analytic indices, and the model's indices and tornado."""

import numpy as np
import pytest

import flowsim
from flowsim.analysis.sensitivity_indices import sobol_analysis, tornado_points, tornado_swings


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_indices():
    """Ishigami & Homma (1990) on [-pi, pi]^3, a = 7, b = 0.1: analytic first-order and total indices.

    V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2; V1 = (1 + b pi^4/5)^2 / 2; V2 = a^2/8;
    V13 = b^2 pi^8 (1/18 - 1/50). With n = 4096 the Saltelli estimators were within 0.013 of these
    for five seeds; the test allows 0.03. The bootstrap's BCa interval costs a jackknife of n runs of n
    (quadratic in n), so the same-seed-same-intervals check, which holds at any n, runs at n = 1024.
    """
    a, b = 7.0, 0.1
    V = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    V1, V2, V13 = 0.5 * (1 + b * np.pi**4 / 5) ** 2, a**2 / 8, b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    first, total = np.array([V1, V2, 0.0]) / V, np.array([V1 + V13, V2, V13]) / V
    res = sobol_analysis(ishigami, [(-np.pi, np.pi)] * 3, 4096, seed=0, bootstrap=100)
    small = sobol_analysis(ishigami, [(-np.pi, np.pi)] * 3, 1024, seed=0, bootstrap=100)
    state = np.random.get_state()
    try:
        np.random.seed(12345)                   # whatever state numpy's global generator is in
        again = sobol_analysis(ishigami, [(-np.pi, np.pi)] * 3, 1024, seed=0, bootstrap=100)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(small.first_interval, again.first_interval)    # same seed, same intervals
    assert np.isfinite(small.first_interval).all() and np.isfinite(small.total_interval).all()
    np.testing.assert_allclose(res.first_order, first, atol=0.03)
    np.testing.assert_allclose(res.total_order, total, atol=0.03)
    assert np.all(res.first_interval[:, 0] <= res.first_interval[:, 1])
    assert res.variance == pytest.approx(V, rel=0.05)


def test_additive_function_indices():
    # f = x0 + 2 x1 + 3 x2 on the unit cube: S_i = a_i^2 / sum a^2 = 1/14, 4/14, 9/14, and total = first
    res = sobol_analysis(lambda x: x @ [1.0, 2.0, 3.0], [(0, 1)] * 3, 2048, seed=1, bootstrap=0)
    np.testing.assert_allclose(res.first_order, [1 / 14, 4 / 14, 9 / 14], atol=0.02)
    np.testing.assert_allclose(res.total_order, [1 / 14, 4 / 14, 9 / 14], atol=0.02)
    assert np.all(np.isnan(res.first_interval))
    # a whole-number input, uniform over 1..6 (variance 35/12), against a continuous one (variance 1/12)
    res = sobol_analysis(lambda x: x[:, 0] + x[:, 1], [(1, 6), (0, 1)], 2048, integer=[True, False], seed=2,
                         bootstrap=0)
    np.testing.assert_allclose(res.first_order, [35 / 36, 1 / 36], atol=0.02)


def test_bad_designs_are_refused():
    with pytest.raises(flowsim.FlowsimError, match="power of 2"):
        sobol_analysis(ishigami, [(0, 1)] * 3, 100)
    with pytest.raises(flowsim.FlowsimError, match="empty range"):
        sobol_analysis(ishigami, [(0, 1), (2, 2), (0, 1)], 64)
    with pytest.raises(flowsim.FlowsimError, match="not finite"):
        sobol_analysis(lambda x: np.full(len(x), np.nan), [(0, 1)], 64)


def test_tornado_design():
    pts = tornado_points([1.0, 10.0], [(0.0, 2.0), (5.0, 20.0)])
    np.testing.assert_array_equal(pts, [[1, 10], [0, 10], [2, 10], [1, 5], [1, 20]])
    base, lo, hi = tornado_swings(pts.sum(axis=1))
    assert base == 11 and lo.tolist() == [10, 6] and hi.tolist() == [12, 21]


@pytest.mark.parametrize("output, balance", [("net.pv_usd", "net"), ("residents.pv_usd", "residents")])
def test_model_indices_of_a_linear_output(output, balance):
    """The present value of net impact (v1) and of the residents' balance (v2) is linear in the spending
    per person (c_T, c_S) with no interaction.

    So the exact first-order indices are a_i^2 var_i / sum_j a_j^2 var_j, with slopes a_i read off the
    tornado (exact for a linear function) and var_i = (high - low)^2 / 12, and total = first order.
    """
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=120)
    vary = {"c_T": {"KAZ": (20.0, 100.0)}, "c_S": {"KAZ": (10.0, 60.0)}}
    res = flowsim.sensitivity(sc, output, "KAZ", n=256, vary=vary, seed=3, bootstrap=0, progress=False)
    assert res.labels == ("c_T[KAZ]", "c_S[KAZ]") and res.output == output and res.unit == "USD"
    widths = np.array([80.0, 50.0])
    slopes = (res.at_high - res.at_low) / widths
    parts = slopes**2 * widths**2 / 12
    np.testing.assert_allclose(res.indices.first_order, parts / parts.sum(), atol=0.02)
    np.testing.assert_allclose(res.indices.total_order, parts / parts.sum(), atol=0.02)
    base = flowsim.run(sc).summary(balance)["KAZ"]["pv_usd"]
    assert res.base == pytest.approx(base, rel=1e-4)
    assert res.stats["evaluations"] == 256 * 4 + 5
    table = res.table()
    assert table[0]["total_order"] >= table[1]["total_order"]


def test_model_sensitivity_outputs_and_errors():
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=60)
    res = flowsim.sensitivity(sc, "peak:U", "GEO", n=8, vary={"f0": {"GEO": (0.005, 0.02)},
                                                              "tau_S": {"GEO": (55, 220)}}, seed=1,
                              bootstrap=0, progress=False)
    assert res.unit == "people" and res.indices.first_order.shape == (2,)
    with pytest.raises(flowsim.FlowsimError, match="Did you mean 'pv_net_usd'"):     # v1 names still accepted
        flowsim.sensitivity(sc, "pv_net_use", "KAZ", n=8, vary={"f0": (0.005, 0.02)}, progress=False)
    with pytest.raises(flowsim.FlowsimError, match="Did you mean 'fiscal.pv_usd'"):
        flowsim.sensitivity(sc, "fiscl.pv_usd", "KAZ", n=8, vary={"f0": (0.005, 0.02)}, progress=False)
    with pytest.raises(flowsim.ParameterError, match="Did you mean 'KAZ'"):
        flowsim.sensitivity(sc, "residents.pv_usd", "KAX", n=8, progress=False)
