"""Shared fixtures: a synthetic parameter factory, a one-host pulse scenario and the seed scenario's result."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

import flowsim

#: Round-number parameters used by the closed-form and invariance tests.
BASE = dict(
    tau_T=3.0, q_on=0.3, q_ret=0.4, rho=0.3, k=3, tau_S=120.0, f0=0.01, phi_S=0.5, K=20000.0,
    lam_S=0.002, lam_R=0.001, lam_E=0.0005, lam_U=0.003, q_out=0.3, c_T=60.0, c_S=30.0, c_R=40.0,
    m=0.6, w=25.0, pi=0.8, delta=0.2, g_pub=3.0, b_U=5.0, rd=10.0, Hs=5e5, hR=0.4, eps=1.0, gdp=2e11,
    r=0.05, nu_R=0.0, tau_c=0.0, tau_w=0.0, tax_R=0.0, D_x=180, transfer_share=1.0,
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


#: Header of the observation files the CLI tests write.
OBS_HEADER = "host,quantity,date_start,date_end,value,qualifier,note\n"


@pytest.fixture(scope="session")
def kaz_obs_file(tmp_path_factory):
    """Kazakhstan figures computed from the seed scenario itself, with its pulse total scaled by 0.8."""
    sc = flowsim.load_scenario("kazakhstan-2022")
    pulse = sc.arrivals["KAZ"][0]
    truth = sc.replace(horizon_days=20,
                       arrivals={**sc.arrivals, "KAZ": dataclasses.replace(pulse, total=0.8 * pulse.total)})
    d = [dt.date(2022, 9, 21) + dt.timedelta(days=i) for i in range(20)]
    obs = [flowsim.Observation(host="KAZ", quantity="cumulative_entries", date_start=d[0], date_end=d[i], value=1.0)
           for i in (3, 6, 9, 12)]
    obs.append(flowsim.Observation(host="KAZ", quantity="daily_exits", date_start=d[15], date_end=d[15], value=1.0))
    obs.append(flowsim.Observation(host="KAZ", quantity="baseline_daily_entries", date_start=dt.date(2022, 9, 1),
                                   date_end=dt.date(2022, 9, 20), value=1.0))
    bg = flowsim.BackgroundTraffic(entries={"KAZ": 8500.0})
    values = flowsim.ObservationModel.build(obs, bg).predict(flowsim.run(truth))
    path = tmp_path_factory.mktemp("obs") / "kaz.csv"
    path.write_text(OBS_HEADER + "".join(f"{o.host},{o.quantity},{o.date_start},{o.date_end},{v!r},,\n"
                                         for o, v in zip(obs, values.tolist())), encoding="utf-8")
    return path, 0.8 * pulse.total


@pytest.fixture(scope="session")
def seed_result():
    """The seed scenario, run once per test session."""
    return flowsim.run(flowsim.load_scenario("kazakhstan-2022"))
