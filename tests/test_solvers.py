"""Host-order invariance, batched runs versus single runs, and agreement between solvers."""

import numpy as np
import pytest

import flowsim
from flowsim.summary import BALANCE_FIELDS, HOST_FIELDS, summary_key


def _seed_with_hosts(hosts):
    seed = flowsim.load_scenario("kazakhstan-2022")
    return seed.replace(params=flowsim.reference_parameters(hosts))


def test_permuting_hosts_permutes_results(seed_result):
    hosts = ("MNG", "GEO", "TKM", "KAZ", "ARM", "KGZ", "UZB", "TJK")
    res = flowsim.run(_seed_with_hosts(hosts))
    perm = [seed_result.hosts.index(h) for h in hosts]
    assert res.hosts == hosts
    # the step-size controller sees the same components in another order: results agree to rounding
    np.testing.assert_allclose(res.states, seed_result.states[:, perm], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(res.economy, seed_result.economy[:, perm], rtol=1e-9, atol=1e-3)
    names = [*HOST_FIELDS, *(summary_key(f, b) for b in flowsim.BALANCES for f in BALANCE_FIELDS)]
    assert sorted(res.summary_arrays) == sorted(names)
    for name in names:
        np.testing.assert_allclose(res.summary_arrays[name], seed_result.summary_arrays[name][:, perm],
                                   rtol=1e-9, atol=1e-3)
    np.testing.assert_array_equal(res.cumulative_arrivals, seed_result.cumulative_arrivals[:, perm])


def test_batch_equals_loop_of_single_runs():
    seed = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=500)
    variants = [seed.params, seed.params.with_params(f0=0.02, tau_S=90.0),
                seed.params.with_params(q_on={"KAZ": 0.1}, rho=0.5)]
    batch = flowsim.run_batch(seed, variants)
    assert batch.states.shape[0] == 3
    for m, params in enumerate(variants):
        single = flowsim.run(seed.replace(params=params))
        scale = single.states.max(axis=-1, keepdims=True) + 1.0
        # the batch shares one step sequence: agreement at the solver tolerance (rtol 1e-8)
        assert np.max(np.abs(batch.states[m] - single.states[0]) / scale) < 1e-6
        for balance in flowsim.BALANCES:
            key = f"{balance}.pv_usd"
            np.testing.assert_allclose(batch.summary_arrays[key][m], single.summary_arrays[key][0], rtol=1e-6)


@pytest.mark.parametrize("method,opts", [("DOP853", {"max_step": 6.0}), ("Radau", {}), ("LSODA", {})])
def test_solvers_agree(seed_result, method, opts):
    res = flowsim.run(flowsim.load_scenario("kazakhstan-2022"), method=method, **opts)
    scale = seed_result.states.max(axis=-1, keepdims=True) + 1.0
    # each series relative to its own peak; both runs at rtol 1e-8
    assert np.max(np.abs(res.states - seed_result.states) / scale) < 1e-5
    assert res.conservation_error() < 1e-6


def test_running_does_not_mutate_the_scenario():
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30)
    before = sc.to_dict()
    flowsim.run(sc)
    assert sc.to_dict() == before
