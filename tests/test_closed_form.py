"""Special cases of the flows with closed-form solutions.

The solver runs at rtol=1e-8, atol=1e-6 people; we compare with an absolute
tolerance of 1e-5 of the initial stock (a few hundred times the per-step
tolerance, covering error accumulated over the horizon) unless stated.
"""

import math

import numpy as np
import pytest
from conftest import make_params

import flowsim

N0 = 10_000.0
TOL = 1e-5 * N0


def _single(horizon=400, initial=None, arrivals=None, **params):
    return flowsim.Scenario(
        params=make_params(("KAZ",), **params), horizon_days=horizon,
        initial={"KAZ": initial} if initial else {}, arrivals=arrivals or {},
    )


NO_JOBS_NO_LEAVING = dict(f0=0.0, lam_S=0.0, lam_R=0.0, lam_E=0.0, lam_U=0.0)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_savings_chain_is_erlang(k):
    """With no job finding and no leaving, stage i holds N0 e^{-gt} (gt)^{i-1}/(i-1)!."""
    tau_S = 120.0
    res = flowsim.run(_single(horizon=2500, initial={"S1": N0}, k=k, tau_S=tau_S, **NO_JOBS_NO_LEAVING))
    t = res.t.astype(float)
    g = k / tau_S
    for i in range(1, k + 1):
        exact = N0 * np.exp(-g * t) * (g * t) ** (i - 1) / math.factorial(i - 1)
        np.testing.assert_allclose(res.series(f"S{i}", "KAZ"), exact, rtol=0, atol=TOL)
    survival = N0 * sum(np.exp(-g * t) * (g * t) ** n / math.factorial(n) for n in range(k))
    np.testing.assert_allclose(res.series("S", "KAZ"), survival, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.series("U", "KAZ"), N0 - survival, rtol=0, atol=TOL)
    # mean runway is tau_S: the daily sum of the survival function is tau_S + 1/2 (left Riemann sum)
    assert res.series("S", "KAZ").sum() / N0 == pytest.approx(tau_S, rel=0.01)


@pytest.mark.parametrize("tau_T", [0.5, 3.0, 10.0])
def test_transit_decays_exponentially(tau_T):
    """T(t) = N0 e^{-t/tau_T}; leavers split q_on to W (single host), q_ret home, the rest settle."""
    q_on, q_ret = 0.5, 0.2
    res = flowsim.run(_single(horizon=60, initial={"T": N0}, tau_T=tau_T, q_on=q_on, q_ret=q_ret,
                              **NO_JOBS_NO_LEAVING))
    t = res.t.astype(float)
    left = N0 * (1.0 - np.exp(-t / tau_T))
    np.testing.assert_allclose(res.series("T", "KAZ"), N0 * np.exp(-t / tau_T), rtol=0, atol=TOL)
    np.testing.assert_allclose(res.series("Out", "KAZ"), q_on * left, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.series("Ret", "KAZ"), q_ret * left, rtol=0, atol=TOL)
    settled = res.series("N", "KAZ") - res.series("T", "KAZ")
    np.testing.assert_allclose(settled, (1 - q_on - q_ret) * left, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.series("R", "KAZ"), 0.3 * (1 - q_on - q_ret) * left, rtol=0, atol=TOL)


def test_constant_arrivals_fill_transit_to_a_tau_T():
    """a constant over [0, 30): T(t) = a tau (1 - e^{-t/tau}), then decays."""
    a, tau = 1000.0, 4.0
    res = flowsim.run(_single(horizon=60, tau_T=tau, arrivals={"KAZ": flowsim.DailyCounts(counts=[a] * 30)}))
    t = res.t.astype(float)
    exact = np.where(t <= 30, a * tau * (1 - np.exp(-t / tau)),
                     a * tau * (1 - np.exp(-30 / tau)) * np.exp(-(t - 30) / tau))
    np.testing.assert_allclose(res.series("T", "KAZ"), exact, rtol=0, atol=1e-5 * a * tau)


def test_job_finding_saturates_at_capacity():
    """U -> E at f0 (1 - E/K), nothing else: E(t) = (x N0 - K)/(x - 1), x = (K/N0) e^{(K-N0) f0 t / K}."""
    K, f0 = 4000.0, 0.05
    res = flowsim.run(_single(horizon=300, initial={"U": N0}, K=K, f0=f0, **{
        k: v for k, v in NO_JOBS_NO_LEAVING.items() if k != "f0"}))
    t = res.t.astype(float)
    x = (K / N0) * np.exp((K - N0) * f0 * t / K)
    exact = (x * N0 - K) / (x - 1.0)
    exact[0] = 0.0
    np.testing.assert_allclose(res.series("E", "KAZ"), exact, rtol=0, atol=TOL)
    assert res.series("E", "KAZ").max() <= K + 1e-4  # overshoot only at solver tolerance (atol 1e-6 people)


def test_settled_leavers_split_by_q_out():
    """Only savers' leaving, no stages passed (tau_S huge): Out/Ret = q_out/(1-q_out)."""
    lam, q_out = 0.01, 0.3
    res = flowsim.run(_single(horizon=200, initial={"S1": N0}, tau_S=1e6, f0=0.0, lam_S=lam, q_out=q_out))
    t = res.t.astype(float)
    gone = N0 * (1 - np.exp(-lam * t))
    np.testing.assert_allclose(res.series("Out", "KAZ"), q_out * gone, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.series("Ret", "KAZ"), (1 - q_out) * gone, rtol=0, atol=TOL)
