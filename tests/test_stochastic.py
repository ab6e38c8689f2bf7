"""The stochastic chain: whole people, exact conservation, reproducible, its mean converging to the ODE."""

import numpy as np
import pytest
from conftest import make_params

import flowsim


def _one_host(total: float, horizon: int = 120, **changes) -> flowsim.Scenario:
    """One host (KAZ), a pulse of ``total`` arrivals, round-number parameters (conftest.BASE)."""
    return flowsim.Scenario(params=make_params(("KAZ",), **changes), horizon_days=horizon,
                            arrivals={"KAZ": flowsim.Pulse(total=total, shape=2.0, scale_days=3.0)})


def _dev(a, b) -> float:
    """Largest deviation of the present population N of result ``a`` from ``b``'s, relative to ``b``'s peak."""
    return float(np.max(np.abs(a.present - b.present)) / b.present.max())


def test_same_seed_same_people_and_whole_numbers():
    sc = _one_host(5000)
    a = flowsim.run(sc, solver="stochastic", seed=3)
    b = flowsim.run(sc, solver="stochastic", seed=3)
    np.testing.assert_array_equal(a.states, b.states)
    assert not np.array_equal(a.states, flowsim.run(sc, solver="stochastic", seed=4).states)
    np.testing.assert_array_equal(a.states, np.round(a.states))
    assert a.states.min() >= 0 and a.stats["seed"] == 3


def test_people_are_conserved_exactly():
    # no arrivals, 1000 people in transit in each of two hosts: every draw only moves people
    params = make_params(("KAZ", "UZB"))
    sc = flowsim.Scenario(params=params, horizon_days=200, initial={"KAZ": {"T": 1000}, "UZB": {"T": 1000}})
    res = flowsim.run(sc, solver="stochastic", seed=1, dt=0.5)
    people = res.states[0][:, res.layout.people].sum(axis=(0, 1))
    np.testing.assert_array_equal(people, 2000.0)
    assert res.states[0][:, res.layout.index("Out")].max() > 0      # onward movers and leavers were drawn


def test_mean_of_the_chain_converges_to_the_ode():
    """Fluctuations shrink like 1/sqrt(people); the discrete scheme's bias is first order in dt.

    The chain's mean is the deterministic discrete scheme (``expected=True``) up to the E/K feedback
    (an O(1/people) effect). Present population N peaks near 0.6 million with 1e6 arrivals: its
    relative standard deviation is about 1/sqrt(6e5) = 0.13%, so a whole 120-day run stays within
    0.5% of the mean (a few standard deviations at the worst day); 100 times fewer people give about
    10 times the deviation (between 4 and 25 allowed, for the randomness). The scheme itself
    approaches the ODE at first order: halving dt about halves the gap (ratio 1.6 to 2.5), which is
    below 1% of the peak at dt = 0.25 day.
    """
    devs = {}
    for total in (1e4, 1e6):
        sc = _one_host(total)
        mean = flowsim.run(sc, solver="stochastic", expected=True)
        devs[total] = _dev(flowsim.run(sc, solver="stochastic", seed=7), mean)
    assert devs[1e6] < 0.005
    assert 4 < devs[1e4] / devs[1e6] < 25

    sc = _one_host(1e6)
    ode = flowsim.run(sc)
    gaps = [_dev(flowsim.run(sc, solver="stochastic", expected=True, dt=dt), ode) for dt in (0.5, 0.25)]
    assert gaps[1] < 0.01
    assert 1.6 < gaps[0] / gaps[1] < 2.5


def test_mean_over_members_approaches_the_expected_scheme():
    # 100 replicates of 2,000 arrivals: the mean's deviation is ~ 1/sqrt(100 x people), 10x below one run's
    sc = _one_host(2000)
    ens = flowsim.ensemble(sc, 100, vary={}, stochastic=True, seed=5, keep=("N",), progress=False)
    mean = flowsim.run(sc, solver="stochastic", expected=True).present[0, 0]
    single = np.abs(ens.series["N"][0, 0] - mean).max() / mean.max()
    averaged = np.abs(ens.series["N"][:, 0].mean(axis=0) - mean).max() / mean.max()
    assert averaged < single / 3
    assert averaged < 0.01


def test_stochastic_ensemble_draws_do_not_depend_on_chunking():
    sc = _one_host(500, horizon=60)
    a = flowsim.ensemble(sc, 120, vary={"tau_S": (60, 240)}, stochastic=True, seed=2, chunk_size=50, progress=False)
    b = flowsim.ensemble(sc, 120, vary={"tau_S": (60, 240)}, stochastic=True, seed=2, chunk_size=120,
                         progress=False)
    np.testing.assert_array_equal(a.series["N"], b.series["N"])
    assert b.stats["chunk_size"] == 100                           # whole blocks of 50 members


def test_bad_stochastic_options():
    sc = _one_host(100, horizon=10)
    with pytest.raises(flowsim.SolverError, match="must divide a day"):
        flowsim.run(sc, solver="stochastic", dt=0.3)
    half = sc.replace(initial={"KAZ": {"T": 10.5}})
    with pytest.raises(flowsim.SolverError, match="whole numbers"):
        flowsim.run(half, solver="stochastic")


def test_drawn_arrivals_are_recorded_and_conserved_exactly(tmp_path):
    """Poisson arrivals differ from the schedule's integral; the result keeps what was drawn.

    Conservation is then exact (error 0: whole people, every draw only moves them), and the draws
    stay within a few Poisson standard deviations of the scheduled total: for 100,000 expected
    people the standard deviation is about 316, so 5 sigma is 1,581 (about 1.6%).
    """
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=60)
    res = flowsim.run(sc, solver="stochastic", seed=5)
    assert res.realised_arrivals.shape == (1, 61, len(sc.hosts))
    assert res.conservation_error() == 0.0
    drawn, scheduled = res.realised_arrivals[0, -1], res.cumulative_arrivals[-1]
    assert np.all(np.abs(drawn - scheduled) <= 5 * np.sqrt(scheduled) + 1)
    assert not np.array_equal(drawn, scheduled)
    back = flowsim.load_result(res.save(tmp_path / "stochastic.npz"))
    np.testing.assert_array_equal(back.realised_arrivals, res.realised_arrivals)
    assert back.conservation_error() == 0.0
    assert flowsim.run(sc).realised_arrivals is None
