"""Shared fixtures: a synthetic parameter factory, a one-host pulse scenario and the seed scenario's result."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import flowsim

#: Round-number parameters used by the closed-form and invariance tests.
BASE = dict(
    tau_T=3.0, q_on=0.3, q_ret=0.4, rho=0.3, k=3, tau_S=120.0, f0=0.01, phi_S=0.5, K=20000.0,
    lam_S=0.002, lam_R=0.001, lam_E=0.0005, lam_U=0.003, q_out=0.3, c_T=60.0, c_S=30.0, c_R=40.0,
    m=0.6, w=25.0, pi=0.8, delta=0.2, g_pub=3.0, b_U=5.0, L=5e6, Hs=5e5, hR=0.4, eps=1.0, gdp=2e11,
    r=0.05,
)


def make_params(hosts=("KAZ",), P=None, **overrides) -> flowsim.ParameterSet:
    """A ParameterSet with :data:`BASE` values; onward movers split evenly (half to W)."""
    values = dict(BASE, **overrides)
    n = len(hosts)
    if P is None:
        P = np.zeros((n, n + 1))
        for i in range(n):
            for j in range(n):
                if i != j:
                    P[i, j] = 0.5 / (n - 1)
            P[i, n] = 1.0 - P[i, :n].sum()
    return flowsim.ParameterSet(hosts=tuple(hosts), values=values, P=P)


#: Start of the one-host synthetic scenarios of the calibration and posterior tests.
START = dt.date(2022, 9, 21)


def day(i: int) -> dt.date:
    """The date ``i`` days after :data:`START`."""
    return START + dt.timedelta(days=i)


def pulse_scenario(total=40_000.0, scale=3.0, tau_T=3.0, horizon=45) -> flowsim.Scenario:
    """Kazakhstan alone with :data:`BASE` values and one gamma pulse (shape 2) of arrivals from :data:`START`."""
    params = make_params(("KAZ",), tau_T=tau_T)
    return flowsim.Scenario(params=params, horizon_days=horizon,
                            arrivals={"KAZ": flowsim.Pulse(total=total, shape=2.0, scale_days=scale)})


@pytest.fixture(scope="session")
def seed_result():
    """The seed scenario, run once per test session."""
    return flowsim.run(flowsim.load_scenario("kazakhstan-2022"))
