"""Issue 12, "hangs": every solver has a work guard that ends a run with a SolverError and advice."""

import time

import pytest

import flowsim
from flowsim.solve import dopri


@pytest.fixture(scope="module")
def seed():
    return flowsim.load_scenario("kazakhstan-2022")


def test_ivp_step_budget_stops_a_stiff_run_with_advice(seed):
    stiff = seed.with_params(tau_T=0.01)          # 400,000 evaluations with RK45: half a minute
    t0 = time.perf_counter()
    with pytest.raises(flowsim.SolverError, match=r"more than 20,000 evaluations .* Fix: method='LSODA'"):
        flowsim.run(stiff, max_nfev=20_000)
    assert time.perf_counter() - t0 < 10
    # the advice works
    res = flowsim.run(stiff, method="LSODA")
    assert res.conservation_error() < 1e-6


def test_ivp_max_nfev_is_validated(seed):
    with pytest.raises(flowsim.SolverError, match=r"`max_nfev` must be a whole number >= 1; got 0"):
        flowsim.run(seed, max_nfev=0)


def test_stochastic_step_budget_refuses_up_front(seed):
    t0 = time.perf_counter()
    with pytest.raises(flowsim.SolverError, match=r"would take 1,826,000 steps of dt = 0.001 days .* at most 40,000"):
        flowsim.run(seed, solver="stochastic", dt=0.001, seed=1)
    assert time.perf_counter() - t0 < 5


def test_ensemble_march_step_budget(seed, monkeypatch):
    monkeypatch.setattr(dopri, "MAX_STEPS", 50)
    with pytest.raises(flowsim.SolverError, match=r"ensemble solver needed more than 50 steps"):
        flowsim.run(seed, solver="ensemble")
