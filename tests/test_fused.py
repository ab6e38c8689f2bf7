"""The compiled march (issue 13): packed schedules, and one compiled call against the per-step path.

With numba, ``march`` runs a whole integration in one compiled call
(:mod:`flowsim.solve.fused`); ``fused=False`` steps in Python with the same
compiled step (the previous path), and the numpy kernel is the reference.
Skipped without numba (the default install); kept small (short horizons, a
few members) so the tests cost seconds once numba's cache is warm.
"""

import dataclasses

import numpy as np
import pytest
from conftest import make_params

import flowsim
from flowsim.exceptions import IntegrationError, SolverError
from flowsim.model.member_arrivals import MemberArrivals, compile_arrivals
from flowsim.scenario.arrivals import CompiledArrivals
from flowsim.simulate import MemberInputs
from flowsim.solve import dopri, fused, kernels
from flowsim.solve.ensemble import EnsembleSolver
from flowsim.solve.ivp import segment_edges
from flowsim.solve.sinks import FullStates

pytestmark = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed (flowsim[fast])")


def _mixed(horizon=120):
    """Pulses (one from its start day, shape 1), daily counts, a piecewise-linear rate, closures and a diversion."""
    hosts = ("KAZ", "UZB", "GEO", "TKM")
    return flowsim.Scenario(
        params=make_params(hosts),
        start="2022-09-21",
        horizon_days=horizon,
        arrivals={
            "KAZ": [flowsim.Pulse(total=1e5, shape=3.0, scale_days=2.0),
                    flowsim.Pulse(total=2e4, shape=1.0, scale_days=5.0, start="2022-11-01")],
            "UZB": flowsim.DailyCounts(counts=[500, 3000, 0, 1200.5, 800] * 4, start="2022-09-25"),
            "GEO": [flowsim.PiecewiseLinear(points=[("2022-09-21", 0), ("2022-09-24", 9000),
                                                    ("2022-10-10", 1000), ("2022-11-01", 500)]),
                    flowsim.Pulse(total=3e3, shape=2.5, scale_days=4.0, start="2022-09-30")],
            "TKM": flowsim.Pulse(total=5e3),
        },
        closures={"TKM": flowsim.Closure(start="2022-09-23"),
                  "GEO": flowsim.Closure(start="2022-10-01", end="2022-10-15")},
        diversion={"GEO": {"KAZ": 0.5, "UZB": 0.25}, "TKM": {"UZB": 0.3}},
        initial={"KAZ": {"S": 5000.0, "E": 2000.0, "R": 1000.0}, "GEO": {"T": 300.0, "U": 100.0}},
    )


def _per_member(base, pulses):
    """Each member's arrivals: KAZ's first pulse replaced (a pulse stack), UZB's counts scaled (a per-member list)."""
    kaz, uzb = base.arrivals["KAZ"], base.arrivals["UZB"][0]
    return [dict(base.arrivals,
                 KAZ=(dataclasses.replace(kaz[0], total=t, shape=k, scale_days=s), *kaz[1:]),
                 UZB=(dataclasses.replace(uzb, counts=tuple(c * (1 + 0.1 * i) for c in uzb.counts)),))
            for i, (t, k, s) in enumerate(pulses)]


PULSES = [(40_000.0, 2.0, 3.0), (25_000.0, 6.0, 0.8), (60_000.0, 1.0, 5.0)]


def _times(arrivals, horizon):
    """Sample times: a grid, every breakpoint and its neighbours at 1e-9 days."""
    cuts = np.array(arrivals.breakpoints(horizon))
    return np.unique(np.concatenate([np.linspace(0.0, horizon, 397), cuts, cuts - 1e-9, cuts + 1e-9, [0.0, 1e-12]]))


def _close(a, b):
    scale = np.maximum(np.abs(b), 1e-300)
    return float(np.max(np.abs(a - b) / scale))


@pytest.mark.parametrize("members", [False, True])
def test_packed_rates_and_integrals_match_the_schedules(members):
    sc = _mixed()
    arrivals = (compile_arrivals(sc, _per_member(sc, PULSES)) if members else compile_arrivals(sc))
    assert isinstance(arrivals, MemberArrivals if members else CompiledArrivals)
    packed = fused.pack_arrivals(arrivals)
    assert packed is not None and packed.width == (3 if members else 1)
    assert packed.diverts
    worst = 0.0
    for t in _times(arrivals, sc.horizon_days):
        is_open = arrivals.is_open(t)
        ref = np.asarray(arrivals.rate(t, is_open), float).reshape(len(sc.hosts), -1)
        got = packed.rate(t, is_open)
        assert np.all((ref == 0) == (got == 0)), t
        worst = max(worst, _close(got, ref))
    assert worst <= 1e-13
    # integrals over a segment (closures fixed inside it) against the exact cumulative arrivals
    edges = [0.0, *arrivals.breakpoints(sc.horizon_days), float(sc.horizon_days)]
    for t0, t1 in zip(edges[:-1], edges[1:]):
        is_open = arrivals.is_open(t0 + 1e-9 * (t1 - t0))
        for t in (t0, 0.5 * (t0 + t1), t1 - 1e-3 * (t1 - t0)):
            ref = np.atleast_1d(arrivals.people_arrived(t1) - arrivals.people_arrived(t))
            got = packed.remaining(t, t1, is_open)
            total = np.atleast_1d(arrivals.people_arrived(sc.horizon_days))
            assert np.all(np.abs(got - ref) <= 1e-12 * total), (t0, t1, t, got, ref)


def test_incomplete_gamma_matches_scipy():
    from scipy.special import gammainc

    nb = kernels._kernels()
    for a in (1.0, 1.5, 2.0, 3.7, 10.0, 55.0, 300.0):
        x = np.concatenate([[0.0, 1e-8, 0.3, 1.0], a * np.linspace(0.05, 4.0, 60)])
        got = np.array([nb.gammainc(a, v) for v in x])
        np.testing.assert_allclose(got, gammainc(a, x), rtol=2e-13 * max(1.0, a / 10), atol=1e-300)


def test_unpackable_schedules_fall_back():
    sc = _mixed()
    arrivals = compile_arrivals(sc)

    class Mine(type(arrivals.schedules[0][0])):       # a subclass may compute its rate otherwise
        pass

    first = arrivals.schedules[0][0]
    mine = Mine(first.total, first.shape, first.scale, first.t0)
    other = CompiledArrivals([[mine], *arrivals.schedules[1:]], arrivals.windows, arrivals.diversion)
    assert fused.pack_arrivals(other) is None
    assert fused.pack_arrivals(arrivals) is not None


def _deviation(a, b) -> float:
    peak = np.maximum(np.abs(b).max(axis=-1, keepdims=True), 1.0)
    return float((np.abs(a - b) / peak).max())


def _ensembles(scenario, n, monkeypatch, **kw):
    """The same ensemble with the numpy kernel, the per-step numba path and the fused numba march."""
    out = {}
    real = dopri.march
    for label, kernel, whole in (("numpy", "numpy", True), ("steps", "numba", False), ("fused", "numba", True)):
        monkeypatch.setattr("flowsim.solve.ensemble.march", lambda *a, _w=whole, **k: real(*a, fused=_w, **k))
        out[label] = flowsim.ensemble(scenario.replace(), n, progress=False, solver_options={"kernel": kernel}, **kw)
    return out


@pytest.mark.parametrize("name", ["kazakhstan-2022", "ukraine-2022", "mixed"])
def test_fused_ensembles_agree(name, monkeypatch):
    """k varied (members with fewer stages); closures, diversion, daily counts and piecewise rates in 'mixed'."""
    if name == "mixed":
        sc, vary = _mixed(), {"k": (1, 3), "tau_T": (1.0, 3.0), "q_on": (0.05, 0.3)}
    else:
        sc, vary = flowsim.load_scenario(name).replace(horizon_days=100), None
    runs = _ensembles(sc, 5, monkeypatch, seed=2, vary=vary, keep=("N", "T", "E", "net", "residents"))
    ref, steps, whole = runs["numpy"], runs["steps"], runs["fused"]
    assert whole.stats["plan_steps"] == steps.stats["plan_steps"]
    assert len(set(whole.series["N"][:, 0, 1:].round(6).ravel())) > 10          # members differ
    for series in ref.series:
        assert _deviation(whole.series[series], steps.series[series]) <= 1e-12, series
        assert _deviation(whole.series[series], ref.series[series]) <= 1e-9, series
    assert ref.series["N"].max() > 1000


def test_fused_per_member_arrivals_and_full_states(monkeypatch):
    """run_batch with each member's pulses and counts (solver='ensemble': FullStates, counters included)."""
    sc = _mixed(horizon=90)
    arrivals = _per_member(sc, PULSES)
    real = dopri.march
    states = {}
    for label, kernel, whole in (("numpy", "numpy", True), ("steps", "numba", False), ("fused", "numba", True)):
        monkeypatch.setattr("flowsim.solve.ensemble.march", lambda *a, _w=whole, **k: real(*a, fused=_w, **k))
        res = flowsim.run_batch(sc, [sc.params] * 3, arrivals=arrivals, solver="ensemble", kernel=kernel)
        states[label] = res.states
        assert res.conservation_error() < 1e-6
    assert _deviation(states["fused"], states["steps"]) <= 1e-12
    assert _deviation(states["fused"], states["numpy"]) <= 1e-9


def _march_both(batch, horizon, **kw):
    return [dopri.march(batch, horizon, kernel="numba", fused=whole, **kw) for whole in (False, True)]


@pytest.mark.parametrize("tau_T, horizon, what", [(1.3, 120, "drained"), (0.01, 80, "rejected")])
def test_adaptive_march_matches_the_per_step_loop(tau_T, horizon, what):
    """The plan's march: the same steps, counts and worst ratios (a stiff member makes the controller reject).

    The two paths share every operation but the schedules' ``exp`` and ``log``: the per-step path takes
    numpy's (its own SIMD code on AVX-512 machines, a few ULP from the C library's), the compiled march the
    C library's. Where they differ, the controller carries those ULPs into the step lengths: about 1e-10
    relative over the 181 steps of the first case and 1e-6 over the 2,784 steps and 221 rejections of the
    second (measured on an AVX-512 machine; identical where numpy uses the C library). So the counts must
    agree exactly and the steps to 1e-5 (a changed controller or error test moves them by far more).
    """
    sc = _mixed(horizon=horizon)
    batch = MemberInputs.from_parameter_sets(sc, [sc.params, sc.params.with_params(tau_T=tau_T)]).batch()
    (steps_a, worst_a, stats_a), (steps_b, worst_b, stats_b) = _march_both(
        batch, sc.horizon_days, rtol=1.5e-6, atol=1.5e-4, drain=1e-8, counters=False)
    assert len(steps_a) == len(steps_b) > 20
    np.testing.assert_allclose(np.array(steps_b), np.array(steps_a), rtol=1e-5)
    counts = ("nfev", "steps", "rejected")
    assert {k: stats_b[k] for k in counts} == {k: stats_a[k] for k in counts}
    np.testing.assert_allclose(worst_b, worst_a, rtol=1e-9)
    assert np.all(worst_b <= 1.0)
    np.testing.assert_allclose(stats_b["drained_people"], stats_a["drained_people"], rtol=1e-9, atol=1e-9)
    if what == "rejected":
        assert stats_a["rejected"] > 100                  # the controller's rejection branch ran
    else:
        assert np.any(stats_b["drained_people"] > 0)      # the drain ran


def test_replay_on_a_coarse_plan_reports_the_same_failures():
    """Steps far too long: ratios above 1, inf or NaN for some members, the same in both paths."""
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=200)
    batch = MemberInputs.from_parameter_sets(sc, [sc.params, sc.params.with_params(tau_T=0.05)]).batch()
    edges = segment_edges(batch, sc.horizon_days)
    t = np.array([0.0, 5.0, 40.0, 120.0])
    plan = (t, np.diff(np.append(t, 200.0)), tuple(edges))
    (_, worst_a, stats_a), (_, worst_b, stats_b) = _march_both(batch, sc.horizon_days, rtol=3e-6, atol=3e-4,
                                                               drain=1e-8, steps=plan)
    assert not np.all(worst_a <= 1.0)
    np.testing.assert_array_equal(np.isnan(worst_b), np.isnan(worst_a))
    finite = np.isfinite(worst_a)
    np.testing.assert_allclose(worst_b[finite], worst_a[finite], rtol=1e-9)
    assert stats_a["nfev"] == stats_b["nfev"]


def test_fused_errors(monkeypatch):
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=60)
    batch = MemberInputs.from_parameter_sets(sc, [sc.params]).batch()
    monkeypatch.setattr(dopri, "MAX_STEPS", 20)
    with pytest.raises(IntegrationError, match=r"ensemble solver needed more than 20 steps \(stopped at day"):
        dopri.march(batch, 60, rtol=3e-6, atol=3e-4, drain=1e-8, kernel="numba")
    monkeypatch.undo()
    plan = EnsembleSolver(kernel="numba").plan(batch, 60)
    bad = (plan.t + 1e-3, plan.h, plan.edges)
    with pytest.raises(SolverError, match="the step plan does not match this integration"):
        dopri.march(batch, 60, rtol=3e-6, atol=3e-4, drain=1e-8, steps=bad, kernel="numba")
    long = (np.append(plan.t, 60.0), np.append(plan.h, 1.0), plan.edges)
    with pytest.raises(SolverError, match="the step plan is longer than this integration"):
        dopri.march(batch, 60, rtol=3e-6, atol=3e-4, drain=1e-8, steps=long, kernel="numba")


def test_other_sinks_take_the_per_step_path(monkeypatch):
    """A sink the compiled march does not know gets every step from Python, as before."""
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30)
    batch = MemberInputs.from_parameter_sets(sc, [sc.params]).batch()

    class Counting(FullStates):
        calls = 0

        def step(self, *args):
            Counting.calls += 1
            super().step(*args)

    shape = (batch.layout.size, len(sc.hosts), 1)
    mine, known = Counting(30, shape), FullStates(30, shape)
    for sink in (mine, known):
        dopri.march(batch, 30, rtol=3e-6, atol=3e-4, drain=1e-8, sink=sink, kernel="numba")
    assert Counting.calls > 5
    assert _deviation(mine.out, known.out) <= 1e-12


def test_compiled_controller_is_solve_ivps():
    nb = kernels._kernels()
    for err in (0.0, 1e-9, 0.3, 1.0, 1.0000001, 7.0, 1e300, np.inf, np.nan):
        for before in (False, True):
            assert nb.next_step(0.7, err, before) == dopri._next_step(0.7, err, before), (err, before)
