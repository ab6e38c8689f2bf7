"""Policies over time and diversion of arrivals refused at a closed border."""

import numpy as np
import pytest
from conftest import make_params

import flowsim
from flowsim import ParameterError, Policy, ScenarioError

CHANGE = "2023-01-01"  # day 102 of a scenario starting 2022-09-21
DAY = 102


@pytest.fixture(scope="module")
def base():
    return flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=500)


@pytest.fixture(scope="module")
def base_result(base):
    return flowsim.run(base)


@pytest.mark.parametrize("policy", [
    Policy(parameter="f0", host="KAZ", start=CHANGE, factor=2.0),
    Policy(parameter="tau_S", host="KAZ", start=CHANGE, value=60.0),
    Policy(parameter="lam_U", host="KAZ", start=CHANGE, value=0.02),
])
def test_policy_changes_trajectory_from_its_date_only(base, base_result, policy):
    res = flowsim.run(base.replace(policies=(policy,)))
    # a no-op policy on the same date cuts the integration at the same day: identical steps before it
    noop = flowsim.run(base.replace(policies=(Policy(parameter=policy.parameter, host="KAZ", start=CHANGE,
                                                     factor=1.0),)))
    np.testing.assert_array_equal(res.states[..., : DAY + 1], noop.states[..., : DAY + 1])
    # and the no-op run is the unchanged scenario up to solver tolerance (1e-6 of each series' peak)
    scale = base_result.states.max(axis=-1, keepdims=True) + 1.0
    assert np.max(np.abs(noop.states - base_result.states) / scale) < 1e-6
    k = res.hosts.index("KAZ")
    after = np.abs(res.states[0, k, :, DAY + 30] - noop.states[0, k, :, DAY + 30]).max()
    assert after > 1.0
    assert res.conservation_error() < 1e-6


def test_factor_and_value_agree(base):
    f0 = base.params.get("f0", "KAZ")
    a = flowsim.run(base.replace(policies=(Policy(parameter="f0", host="KAZ", start=CHANGE, factor=2.0),)))
    b = flowsim.run(base.replace(policies=(Policy(parameter="f0", host="KAZ", start=CHANGE, value=2 * f0),)))
    np.testing.assert_array_equal(a.states, b.states)


def test_economy_policy_changes_channel_from_its_date(base):
    b_U = base.params.get("b_U", "KAZ")
    res = flowsim.run(base.replace(policies=(Policy(parameter="b_U", host="KAZ", start=CHANGE, value=3 * b_U),)))
    support, U = res.series("support", "KAZ"), res.series("U", "KAZ")
    np.testing.assert_allclose(support[:DAY], b_U * U[:DAY], rtol=1e-12)
    np.testing.assert_allclose(support[DAY:], 3 * b_U * U[DAY:], rtol=1e-12)
    other = res.series("support", "UZB")
    np.testing.assert_allclose(other, base.params.get("b_U", "UZB") * res.series("U", "UZB"), rtol=1e-12)


def test_regimes(base):
    sc = base.replace(policies=(Policy(parameter="K", host="UZB", start="2023-03-01", value=1e4),
                                Policy(parameter="f0", host="KAZ", start=CHANGE, value=0.03),
                                Policy(parameter="f0", host="KAZ", start="2020-01-01", value=0.02)))
    regimes = sc.regimes()
    assert [t for t, _ in regimes] == [0.0, 102.0, 161.0]
    assert regimes[0][1].get("f0", "KAZ") == 0.02      # a start before the scenario applies from day 0
    assert regimes[1][1].get("f0", "KAZ") == 0.03
    assert regimes[2][1].get("K", "UZB") == 1e4 and regimes[2][1].get("f0", "KAZ") == 0.03


def test_policy_errors(base):
    with pytest.raises(ParameterError, match=r"policy on `rho` for host KAZ from 2023-01-01: Parameter `rho` for "
                                             r"host KAZ must be in \[0, 1\]"):
        base.replace(policies=(Policy(parameter="rho", host="KAZ", start=CHANGE, factor=10.0),))
    with pytest.raises(ParameterError, match="only per-host parameters"):
        Policy(parameter="k", host="KAZ", start=CHANGE, value=2)
    with pytest.raises(ParameterError, match="exactly one of `value` and `factor`"):
        Policy(parameter="f0", host="KAZ", start=CHANGE)
    with pytest.raises(ParameterError, match=r"unknown parameter 'fo'.*Did you mean 'f0'"):
        Policy(parameter="fo", host="KAZ", start=CHANGE, value=1.0)
    with pytest.raises(ScenarioError, match=r"policy on `f0`: host 'XXX' is not in this scenario"):
        base.replace(policies=(Policy(parameter="f0", host="XXX", start=CHANGE, value=0.1),))


def _diverted(share_uzb=0.6, share_kgz=0.3, close_kgz=False):
    hosts = ("KAZ", "UZB", "KGZ")
    closures = {"KAZ": flowsim.Closure(start="2022-09-28")}
    if close_kgz:
        closures["KGZ"] = flowsim.Closure(start="2022-09-25", end="2022-10-05")
    return flowsim.Scenario(
        params=make_params(hosts), horizon_days=200,
        arrivals={"KAZ": flowsim.Pulse(total=1e5, shape=2.0, scale_days=5.0)},
        closures=closures,
        diversion={"KAZ": {"UZB": share_uzb, "KGZ": share_kgz}},
    )


@pytest.mark.parametrize("close_kgz", [False, True])
def test_diversion_conserves_people(close_kgz):
    res = flowsim.run(_diverted(close_kgz=close_kgz))
    assert res.conservation_error() < 1e-6
    assert res.min_relative_stock() >= -1e-9


def test_diversion_shares_by_hand():
    """After KAZ closes on day 7, 60% of what KAZ would have received goes to UZB, 30% to KGZ, 10% stay home."""
    from scipy.special import gammainc

    res = flowsim.run(_diverted())
    total = 1e5
    after_close = total * (1 - gammainc(2.0, 7 / 5.0))      # the pulse after day 7, up to the horizon (~0)
    cum = res.cumulative_arrivals[-1]
    assert cum[0] == pytest.approx(total - after_close, rel=1e-9)
    assert cum[1] == pytest.approx(0.6 * after_close, rel=1e-6)
    assert cum[2] == pytest.approx(0.3 * after_close, rel=1e-6)
    sc = _diverted()
    from flowsim.scenario.arrivals import CompiledArrivals

    arr = CompiledArrivals.build(sc.hosts, sc.arrivals, sc.closures, sc.start, sc.diversion)
    refused = arr.cumulative_refused(np.array([200.0]))[0]
    assert refused[0] == pytest.approx(0.1 * after_close, rel=1e-6)


def test_diversion_errors():
    with pytest.raises(ScenarioError, match=r"shares must sum to at most 1.*got 1.2"):
        _diverted(0.9, 0.3)
    with pytest.raises(ScenarioError, match=r"destination 'KAZ' is not allowed"):
        flowsim.Scenario(params=make_params(("KAZ", "UZB")), diversion={"KAZ": {"KAZ": 0.5}})
