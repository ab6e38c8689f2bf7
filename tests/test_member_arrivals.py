"""Batches whose members have their own arrival schedules (posterior draws of a pulse).

A batch with a different pulse per member must give each member the numbers of a
run of that member alone (deterministic, ensemble and stochastic solvers), with
the exact integrals of its own arrivals for the conservation check.
"""

import dataclasses

import numpy as np
import pytest

import flowsim
from flowsim.model.member_arrivals import MemberArrivals
from flowsim.scenario.arrivals import CompiledArrivals

PULSES = [(40_000.0, 2.0, 3.0), (25_000.0, 6.0, 0.8), (60_000.0, 1.0, 5.0)]


def _member_scenarios():
    base = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=90)
    kaz = base.arrivals["KAZ"][0]
    return base, [base.replace(arrivals=dict(base.arrivals, KAZ=(dataclasses.replace(
        kaz, total=t, shape=k, scale_days=s),))) for t, k, s in PULSES]


def test_member_arrivals_rates_and_exact_integrals():
    base, scs = _member_scenarios()
    mem = MemberArrivals.build(base.hosts, [s.arrivals for s in scs], base.closures, base.start)
    single = [CompiledArrivals.build(s.hosts, s.arrivals, s.closures, s.start) for s in scs]
    t = np.linspace(0.0, 60.0, 41)
    cum = mem.cumulative(t)
    assert cum.shape == (41, len(base.hosts), 3)
    for m, arr in enumerate(single):
        np.testing.assert_allclose(cum[..., m], arr.cumulative(t), rtol=1e-13, atol=1e-9)
        for x in (0.0, 0.5, 3.7, 20.0):
            np.testing.assert_allclose(mem.rate(x)[:, m], arr.rate(x), rtol=1e-12)
    np.testing.assert_allclose(mem.select([2, 0]).cumulative(t)[..., 0], cum[..., 2])
    assert mem.people_arrived(60.0).shape == (3,)


@pytest.mark.parametrize("solver, options, rtol", [
    ("ivp", {"rtol": 1e-10}, 1e-7),          # one solve_ivp over the batch vs alone: tolerances far below rtol
    ("ensemble", {}, 2e-5),                  # plans made from different members: each within its 3e-6 error test
    ("stochastic", {"expected": True}, 1e-9),   # the chain's mean: deterministic, member by member
])
def test_member_arrivals_batch_equals_single_runs(solver, options, rtol):
    base, scs = _member_scenarios()
    batch = flowsim.run_batch(base, [base.params] * 3, arrivals=[s.arrivals for s in scs], solver=solver, **options)
    assert batch.conservation_error() < 1e-6
    for m, sc in enumerate(scs):
        alone = flowsim.run(sc, solver=solver, **options)
        peak = alone.series("N").max()
        np.testing.assert_allclose(batch.series("N", member=m), alone.series("N"), rtol=0, atol=rtol * peak)


def test_member_arrivals_stochastic_conserve_people_per_member():
    base, scs = _member_scenarios()
    res = flowsim.run_batch(base, [base.params] * 3, arrivals=[s.arrivals for s in scs], solver="stochastic",
                            seed=4)
    assert res.realised_arrivals.shape == (3, 91, len(base.hosts))
    assert res.conservation_error() == 0.0
    drawn = res.realised_arrivals[:, -1, 0]                              # KAZ arrivals of each member
    np.testing.assert_allclose(drawn, [p[0] * 0.999 for p in PULSES], rtol=0.03)
    with pytest.raises(flowsim.FlowsimError, match="one mapping per member"):
        flowsim.run_batch(base, [base.params] * 3, arrivals=[scs[0].arrivals])


def test_member_arrivals_with_a_closure_and_diversion():
    """Closed border: refused arrivals diverted in part to an open host, member by member."""
    base, scs = _member_scenarios()
    closures = {"KAZ": (flowsim.Closure(start="2022-09-24", end="2022-09-30"),)}
    diversion = {"KAZ": {"GEO": 0.5}}
    mem = MemberArrivals.build(base.hosts, [s.arrivals for s in scs], closures, base.start, diversion)
    t = np.linspace(0.0, 30.0, 61)
    for m, sc in enumerate(scs):
        one = CompiledArrivals.build(sc.hosts, sc.arrivals, closures, sc.start, diversion)
        np.testing.assert_allclose(mem.cumulative(t)[..., m], one.cumulative(t), rtol=1e-13, atol=1e-9)
        np.testing.assert_allclose(mem.cumulative_refused(t)[..., m], one.cumulative_refused(t), rtol=1e-13,
                                   atol=1e-9)
        for x in (1.0, 4.5, 8.9, 12.0):
            np.testing.assert_allclose(mem.rate(x)[:, m], one.rate(x), rtol=1e-12)
    assert mem.daily_counts(30).shape == (30, len(base.hosts), 3)
