"""Issue 14, item 1: one solve path. The same members through every front door give the same numbers."""

import numpy as np
import pytest

import flowsim
from flowsim.analysis.background import BackgroundTraffic
from flowsim.calibration.objective import fit_solver, walker_inputs
from flowsim.calibration.parameters import ParameterVector
from flowsim.scenario.sampling import Dimension, parse_vary
from flowsim.simulate import FULL, MemberInputs, Outputs, Projection, simulate

HORIZON = 60


def _series(res, name):
    """A series of every member and host of a Result, (M, H, D)."""
    return np.stack([np.stack([res.series(name, h, m) for h in res.hosts]) for m in range(res.n_members)])


@pytest.fixture(scope="module")
def short():
    return flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=HORIZON)


@pytest.fixture(scope="module")
def members(short):
    """Three members as drawn values and as the parameter sets that hold the same values."""
    dims = (Dimension("tau_S", "KAZ", 60.0, 240.0), Dimension("f0", "KAZ", 0.005, 0.02))
    values = np.array([[90.0, 0.01], [150.0, 0.005], [220.0, 0.018]])
    params = [short.params.with_params(tau_S={"KAZ": a}, f0={"KAZ": b}) for a, b in values]
    return dims, values, params


def test_run_and_run_batch_and_value_arrays_give_the_same_states(short, members):
    dims, values, params = members
    batch = flowsim.run_batch(short, params)
    arrays = simulate(MemberInputs.from_values(short, dims, values), FULL, solver="ivp")
    assert np.array_equal(batch.states, arrays.states)
    assert np.array_equal(batch.economy, arrays.economy)
    for name, v in batch.summary_arrays.items():
        assert np.array_equal(v, arrays.summary_arrays[name], equal_nan=v.dtype.kind == "f"), name
    assert [p.get("tau_S", "KAZ") for p in arrays.params] == [90.0, 150.0, 220.0]
    one = flowsim.run(short.replace(params=params[1]))
    alone = flowsim.run_batch(short, [params[1]])
    assert np.array_equal(one.states, alone.states)


def test_ensemble_full_states_match_the_projected_series(short, members):
    dims, values, _ = members
    inputs = MemberInputs.from_values(short, dims, values)
    full = simulate(inputs, FULL, solver="ensemble")
    proj = simulate(inputs, Outputs.series(keep=("N", "net")), solver="ensemble")
    assert isinstance(proj, Projection) and proj.stats["bytes_per_member"] > 0
    # the same steps (one plan made from the ranges); only the projection's rounding differs
    np.testing.assert_allclose(proj.series["N"], _series(full, "N"), rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(proj.series["net"], _series(full, "net"), rtol=1e-10, atol=1e-3)
    np.testing.assert_allclose(proj.summary["net.pv_usd"], full.summary_arrays["net.pv_usd"], rtol=1e-9)


def test_an_ensemble_is_simulate_on_its_drawn_values(short):
    ens = flowsim.ensemble(short, 8, vary={"tau_S": (60, 240)}, seed=3, progress=False, chunk_size=3)
    proj = simulate(MemberInputs.from_values(short, ens.dims, ens.values), Outputs.series(), solver="ensemble")
    assert np.array_equal(ens.series["net"], proj.series["net"])
    assert np.array_equal(ens.summary_arrays["net.pv_usd"], proj.summary["net.pv_usd"])


@pytest.mark.parametrize("solver", ["ensemble", "stochastic"])
def test_numbers_do_not_depend_on_the_chunking(short, solver):
    dims = parse_vary(short.params, {"tau_S": (60, 240), "k": (1, 3)}, initial=short.initial)
    columns = {"tau_S": np.linspace(60, 240, 7), "k": [1, 2, 3, 1, 2, 3, 2]}
    values = np.column_stack([columns[d.name] for d in dims])
    inputs = MemberInputs.from_values(short, dims, values)
    options = {"seed": 5} if solver == "stochastic" else {}
    outputs = Outputs.series(keep=("N", "net"), scalars=("peak:U",))
    whole = simulate(inputs, outputs, solver=solver, solver_options=options, chunk_size=250)
    cut = simulate(inputs, outputs, solver=solver, solver_options=options, chunk_size=2)
    assert cut.stats["chunks"] > whole.stats["chunks"] or solver == "stochastic"
    for name in ("N", "net"):
        assert np.array_equal(whole.series[name], cut.series[name]), name
    assert np.array_equal(whole.scalars["peak:U"], cut.scalars["peak:U"])
    if solver == "ensemble":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            full = simulate(inputs, FULL, solver=solver, chunk_size=2, executor=pool)
        again = simulate(inputs, FULL, solver=solver)
        assert np.array_equal(full.states, again.states) and full.stats["chunks"] == 4
    else:
        with pytest.raises(flowsim.FlowsimError, match="different k"):
            simulate(inputs, FULL, solver=solver, solver_options=options)


def test_the_posterior_batch_solves_the_walkers_as_their_parameter_sets(short):
    obs = flowsim.datasets.observations_2022().filter(host="KAZ")
    sc = short.replace(horizon_days=200)
    vec = ParameterVector(["pulse.total[KAZ]", "tau_T[KAZ]"], sc, BackgroundTraffic.from_observations(obs))
    X = np.array([[vec.x0[0] * f, vec.x0[1] * g] for f, g in ((1.0, 1.0), (0.8, 1.2), (1.1, 0.7))])
    got = simulate(walker_inputs(vec, X), FULL, solver="ivp", solver_options={"rtol": 1e-6})
    applied = [vec.apply(x)[0] for x in X]
    expected = flowsim.run_batch(vec.scenario, [s.params for s in applied], arrivals=[s.arrivals for s in applied],
                                 rtol=1e-6)
    assert np.array_equal(got.states, expected.states)
    assert np.array_equal(got.realised_arrivals, expected.realised_arrivals)


def test_solvers_are_chosen_by_name(short, members):
    dims, values, params = members
    inputs = MemberInputs.from_values(short, dims, values)
    with pytest.raises(flowsim.SolverError, match="unknown solver 'ensembel'.*ensemble"):
        simulate(inputs, solver="ensembel")
    with pytest.raises(flowsim.SolverError, match="rtol"):
        simulate(inputs, Outputs.series(), solver="ensemble", solver_options={"rtol": -1})
    a = flowsim.ensemble(short, 4, vary={"tau_S": (60, 240)}, seed=2, progress=False, stochastic=True, dt=0.5)
    b = flowsim.ensemble(short, 4, vary={"tau_S": (60, 240)}, seed=2, progress=False, solver="stochastic",
                         solver_options={"dt": 0.5})
    assert np.array_equal(a.series["N"], b.series["N"]) and a.stats["solver"] == b.stats["solver"] == "stochastic"
    c = flowsim.ensemble(short, 4, vary={"tau_S[KAZ]": (60, 240)}, seed=2, progress=False, solver="ivp")
    res = flowsim.run_batch(short, [short.params.with_params(tau_S={"KAZ": v}) for v in c.values[:, 0]])
    np.testing.assert_allclose(c.series["N"], _series(res, "N"), rtol=1e-12, atol=1e-6)
    with pytest.raises(flowsim.FlowsimError, match="stochastic=True.*solver='ivp'"):
        flowsim.ensemble(short, 4, progress=False, stochastic=True, solver="ivp")


def test_one_default_per_purpose():
    assert fit_solver(None, None) == ("ivp", {"rtol": 1e-6})            # calibrate, validate, sample_posterior
    assert fit_solver(None, {"solver": "ensemble"}) == ("ensemble", {"rtol": 1e-6})
    assert fit_solver("stochastic", {"dt": 0.5}) == ("stochastic", {"dt": 0.5})
    with pytest.raises(flowsim.CalibrationError, match="differ"):
        fit_solver("ivp", {"solver": "ensemble"})


def test_validate_reruns_the_fit_with_the_fits_solver(monkeypatch):
    """The fitted scenario is re-run at the fit's rtol (1e-6), not a plain run's 1e-8 (the drift of issue 14)."""
    import flowsim.calibration.validation as validation

    seen = []

    class Stop(Exception):
        pass

    def fake_run(scenario, **options):
        seen.append(options)
        raise Stop

    monkeypatch.setattr(validation, "calibrate", lambda *a, **k: type("Cal", (), {
        "scenario": a[0], "background": k["background"]})())
    monkeypatch.setattr(validation, "run", fake_run)
    sc = flowsim.load_scenario("kazakhstan-2022")
    obs = flowsim.datasets.observations_2022().filter(host="KAZ")
    with pytest.raises(Stop):
        flowsim.validate(sc, obs, "2022-10-31", params=["tau_T[KAZ]"])
    assert seen == [{"solver": "ivp", "rtol": 1e-6}]


def test_a_plan_from_the_members_is_the_plan_of_their_parameter_sets(short, members):
    """plan_from="members": the walkers' own plan, whatever the chunking; "ranges" plans for the whole box."""
    dims, values, params = members
    inputs = MemberInputs.from_values(short, dims, values)
    as_sets = simulate(MemberInputs.from_parameter_sets(short, params), FULL, solver="ensemble")
    own = simulate(inputs, FULL, solver="ensemble", plan_from="members")
    chunked = simulate(inputs, FULL, solver="ensemble", plan_from="members", chunk_size=1)
    boxed = simulate(inputs, FULL, solver="ensemble")
    assert np.array_equal(own.states, as_sets.states)
    assert np.array_equal(chunked.states, own.states)
    assert own.stats["steps"] == as_sets.stats["steps"]
    assert not np.array_equal(boxed.states, own.states)            # another plan: equal to the tolerance only
    scale = np.max(np.abs(own.states), axis=(-2, -1), keepdims=True)
    assert np.max(np.abs(boxed.states - own.states) / np.maximum(scale, 1.0)) < 1e-4
    with pytest.raises(flowsim.FlowsimError, match="plan_from.*'ranges' or 'members'.*'walkers'"):
        simulate(inputs, FULL, solver="ensemble", plan_from="walkers")


def test_bad_inputs_are_named(short):
    with pytest.raises(flowsim.FlowsimError, match=r"values must have shape \(members, 1\)"):
        MemberInputs.from_values(short, (Dimension("tau_S", "KAZ", 60, 240),), np.ones((2, 2)))
    with pytest.raises(flowsim.ParameterError, match="unknown host 'KZA'.*KAZ"):
        MemberInputs.from_values(short, (Dimension("tau_S", "KZA", 60, 240),), np.ones((2, 1)))
    with pytest.raises(TypeError, match="MemberInputs"):
        simulate(short)
    with pytest.raises(TypeError, match="Outputs"):
        simulate(MemberInputs.from_parameter_sets(short, [short.params]), "states")
