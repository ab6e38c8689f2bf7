"""Issue 12, "wrong numbers with exit 0": every run checks its invariants before anything is written."""

import numpy as np
import pytest

import flowsim
from flowsim.cli import main
from flowsim.solve.base import SOLVERS, Solver, Trajectories
from flowsim.solve.invariants import check_run


@pytest.fixture(scope="module")
def seed():
    return flowsim.load_scenario("kazakhstan-2022")


def _with_pulse(sc, **pulse):
    arrivals = dict(sc.arrivals)
    arrivals["GEO"] = (*arrivals.get("GEO", ()), flowsim.Pulse(**pulse))
    return sc.replace(arrivals=arrivals)


@pytest.mark.parametrize("scale_days,shape", [(1e-3, 1.0), (1e-3, 2.0), (0.01, 3.0)])
def test_narrow_pulse_is_integrated_across(seed, scale_days, shape):
    # A pulse far shorter than a solver step used to be stepped over (39 people too many at
    # scale_days=1e-6); now the solver steps exactly across it.
    sc = _with_pulse(seed, total=1e6, shape=shape, scale_days=scale_days, start="2023-03-10")
    res, base = flowsim.run(sc), flowsim.run(seed)
    assert res.conservation_error() < 1e-7
    day = int((np.datetime64("2023-03-11") - np.datetime64(str(sc.start))).astype(int))
    extra = res.series("In", "GEO") - base.series("In", "GEO")
    assert extra[day - 1] == pytest.approx(0.0, abs=1e-3)
    assert extra[day] == pytest.approx(1e6, rel=1e-3)   # it entered on 2023-03-10 (a few move on and back)


def _broken(states_edit):
    class Broken(Solver):
        name = "broken-for-test"

        def solve(self, batch, horizon):
            traj = SOLVERS["ivp"]().solve(batch, horizon)
            y = traj.y.copy()
            states_edit(y)
            return Trajectories(t=traj.t, y=y, success=True, message="ok", stats=traj.stats)

    return Broken


@pytest.mark.parametrize("edit,words", [
    (lambda y: y.__setitem__((0, 5, 4, 30), np.inf), ["`finite values`", "compartment R of host GEO", "inf"]),
    (lambda y: y.__setitem__((0, 0, 0, 10), -50.0), ["`non-negative stocks`", "compartment T of host KAZ", "-50"]),
    (lambda y: y.__setitem__((0, 1, 5, slice(100, None)), y[0, 1, 5, 100:] + 40.0),
     ["`conservation`", "all hosts", "at most 1e-06"]),
])
def test_a_run_that_breaks_an_invariant_fails_and_writes_nothing(seed, tmp_path, monkeypatch, capsys, edit, words):
    monkeypatch.setitem(SOLVERS, "broken-for-test", _broken(edit))
    with pytest.raises(flowsim.SolverError) as err:
        flowsim.run(seed, solver="broken-for-test")
    for w in words:
        assert w in str(err.value)
    # the CLI path: one line, exit 2, nothing written
    import flowsim.runner as runner  # `flowsim run` imports runner.run when it runs

    real = runner.run
    monkeypatch.setattr(runner, "run", lambda sc, **kw: real(sc, solver="broken-for-test"))
    out = tmp_path / "out"
    assert main(["run", "kazakhstan-2022", "--out", str(out), "--no-figures"]) == 2
    assert "run check" in capsys.readouterr().err
    assert not out.exists()
    assert not list(tmp_path.iterdir())


def test_check_run_names_an_infinite_economy_value(seed):
    res = flowsim.run(seed)
    econ = res.economy.copy()
    econ[0, 2, -1, 7] = np.inf
    with pytest.raises(flowsim.SolverError, match=r"`finite values` failed: economy series .* of host KGZ"):
        check_run(res.states, res.layout, res.hosts, res.dates, res.cumulative_arrivals[None], econ,
                  res.variables)
