"""One host lookup (issue 14, item 2): every object that looks a host up raises the same error, worded the same.

:func:`flowsim.hosts.host_index` is the only lookup; each case below asks a
different object for ``KZA`` (a typo of ``KAZ``) and gets an
:class:`~flowsim.UnknownHostError` with the same message: the host, the
object, its hosts and the suggestion. The error is also a ``KeyError`` and each
type these lookups raised before, so old ``except`` clauses still catch it.
"""

from __future__ import annotations

import datetime as dt

import pytest

import flowsim
from flowsim.analysis.constraints import ObservationModel
from flowsim.cli import main
from flowsim.datasets import Observation

SCENARIO = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30)
HOSTS = ", ".join(SCENARIO.hosts)


@pytest.fixture(scope="module")
def result():
    return flowsim.run(SCENARIO)


@pytest.fixture(scope="module")
def ensemble():
    return flowsim.ensemble(SCENARIO, 4, seed=1, progress=False)


def _observation(host="KZA"):
    start = SCENARIO.start + dt.timedelta(days=5)
    return Observation(host=host, quantity="stock_present", date_start=start, date_end=start, value=1.0)


CASES = {
    "Result.series": (lambda r, e: r.series("N", "KZA"), "this result"),
    "Result.summary": (lambda r, e: r.summary()["KZA", "residents"], "this summary"),
    "EnsembleResult.series": (lambda r, e: e.series("N", "KZA"), "this ensemble"),
    "ParameterSet.get": (lambda r, e: SCENARIO.params.get("tau_T", "KZA"), "this scenario"),
    "Scenario arrivals": (lambda r, e: SCENARIO.replace(arrivals={"KZA": flowsim.Pulse(total=1.0)}),
                          "this scenario"),
    "calibration label": (lambda r, e: flowsim.calibrate(SCENARIO, [_observation("KAZ")], ["tau_T[KZA]"]),
                          "scenario 'kazakhstan-2022'"),
    "observation model": (lambda r, e: ObservationModel.build([_observation()]).check_scenario(SCENARIO),
                          "scenario 'kazakhstan-2022'"),
}


@pytest.mark.parametrize("case", [*CASES, "CLI --hosts"])
def test_every_host_lookup_raises_one_error_with_one_message(case, result, ensemble, capsys, tmp_path):
    if case == "CLI --hosts":
        out = tmp_path / "nothing"
        code = main(["calibrate", "kazakhstan-2022", "--hosts", "KAZ", "KZA", "--starts", "1", "--out", str(out)])
        assert code == 2 and not out.exists()
        message, what = capsys.readouterr().err, "scenario 'kazakhstan-2022'"
    else:
        call, what = CASES[case]
        with pytest.raises(flowsim.UnknownHostError) as info:
            call(result, ensemble)
        err = info.value
        message = str(err)
        assert isinstance(err, KeyError) and isinstance(err, flowsim.FlowsimError)
        for old in (flowsim.ParameterError, flowsim.ScenarioError, flowsim.CalibrationError, flowsim.ObservationError):
            assert isinstance(err, old)
    assert f"host 'KZA' is not in {what} ({HOSTS}). Did you mean 'KAZ'?" in message, message


def test_known_hosts_are_found(result, ensemble):
    i = SCENARIO.hosts.index("GEO")
    assert flowsim.hosts.host_index("GEO", SCENARIO.hosts) == i == SCENARIO.params.host_index("GEO")
    assert (result.series("N", "GEO") == result.series("N")[i]).all()
    assert (ensemble.series("N", "GEO") == ensemble.series["N"][:, i]).all()


def test_message_parts():
    msg = flowsim.hosts.unknown_host_message("XYZ", ("KAZ", "UZB"), what="this result", where="tau_T[XYZ]",
                                             hint="Add it.")
    assert msg == "tau_T[XYZ]: host 'XYZ' is not in this result (KAZ, UZB). Add it."
    with pytest.raises(flowsim.UnknownHostError, match=r"host 5 is not in this scenario \(KAZ\)\.$"):
        flowsim.hosts.host_index(5, ["KAZ"])
