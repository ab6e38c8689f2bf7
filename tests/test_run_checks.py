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
            return Trajectories(t=traj.t, y=y, message="ok", stats=traj.stats)

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


# --------------------------------------------------------- per-member status (issue 14, item 4)
def _break_member(member):
    def edit(y):
        y[member, 0, 0, 40:] = np.nan             # member `member`: T of the first host not finite
    return _broken(edit)


def test_run_batch_flags_the_failed_member_and_keeps_the_others(seed, monkeypatch, tmp_path):
    monkeypatch.setitem(SOLVERS, "broken-for-test", _break_member(1))
    params = [seed.params, seed.params.with_params(tau_S=90.0), seed.params.with_params(tau_S=120.0)]
    res = flowsim.run_batch(seed, params, solver="broken-for-test", failures="flag")
    good = flowsim.run_batch(seed, params)
    assert res.status.tolist() == [0, 1, 0] and res.member_success.tolist() == [True, False, True]
    assert not res.success and res.member_messages[0] == res.member_messages[2] == ""
    assert "`finite values`" in res.member_messages[1] and "(member 1)" in res.member_messages[1]
    assert "1 of 3 members" in res.message
    for name, values in res.summary_arrays.items():
        ok = good.summary_arrays[name]
        np.testing.assert_array_equal(values[[0, 2]], ok[[0, 2]], err_msg=name)
        assert (np.isnan(values[1]).all() if np.issubdtype(values.dtype, np.floating) else (values[1] == -1).all())
    assert good.success and good.status.tolist() == [0, 0, 0]
    with pytest.raises(flowsim.OutputError, match="members 1 of this result broke"):
        res.save(tmp_path / "failed.npz")
    assert not list(tmp_path.iterdir())
    # the default raises, naming the member; an integration failure is a RuntimeError (and a SolverError)
    with pytest.raises(flowsim.IntegrationError, match=r"\(member 1\)") as err:
        flowsim.run_batch(seed, params, solver="broken-for-test")
    assert isinstance(err.value, RuntimeError) and isinstance(err.value, flowsim.SolverError)
    with pytest.raises(flowsim.FlowsimError, match="`failures` must be 'raise' or 'flag'; got 'skip'"):
        flowsim.run_batch(seed, params, failures="skip")


def test_an_options_error_is_not_an_integration_failure(seed):
    with pytest.raises(flowsim.SolverError) as err:
        flowsim.run(seed, method="bogus")
    assert isinstance(err.value, ValueError) and not isinstance(err.value, RuntimeError)
    assert not isinstance(err.value, flowsim.IntegrationError)


def test_to_xarray_carries_the_status(seed):
    pytest.importorskip("xarray")
    ds = flowsim.run(seed.replace(horizon_days=30)).to_xarray()
    assert ds["run_status"].values.tolist() == [0]
    assert ds["run_status"].attrs["flag_meanings"].startswith("ok failed_finite_values")
