"""Every kind of invalid input is refused with an error naming parameter, host and bound."""

import math

import numpy as np
import pytest
from conftest import make_params

import flowsim
from flowsim import ParameterError, ScenarioError, ScheduleError, SolverError


@pytest.fixture(scope="module")
def ref():
    return flowsim.reference_parameters()


@pytest.mark.parametrize("name,value,pattern", [
    ("q_on", 1.3, r"Parameter `q_on` for host KAZ must be in \[0, 1\]; got 1.3"),
    ("rho", -0.1, r"Parameter `rho` for host KAZ must be in \[0, 1\]; got -0.1"),
    ("delta", 2.0, r"Parameter `delta` for host KAZ must be in \[0, 1\]"),
    ("tau_T", 0.0, r"Parameter `tau_T` for host KAZ must be in \[0.001, 1e\+06\] \(days\); got 0"),
    ("tau_S", -5.0, r"Parameter `tau_S` for host KAZ must be in \[0.001, 1e\+06\] \(days\); got -5"),
    ("K", 0.0, r"Parameter `K` for host KAZ must be in \[1, 1e\+10\) \(people\)"),
    ("lam_E", -1e-3, r"Parameter `lam_E` for host KAZ must be in \[0, 1000\] \(1/day\)"),
    ("gdp", 0.0, r"Parameter `gdp` for host KAZ must be in \[1e\+06, 1e\+15\]"),
    ("f0", math.nan, r"Parameter `f0` for host KAZ must be a number in \[0, 1000\]; got NaN"),
    # hard bounds that say what the model means (issue 12: these ran for minutes or gave inf)
    ("tau_T", 1e-6, r"Parameter `tau_T` for host KAZ must be in \[0.001, 1e\+06\] \(days\); got 1e-06"),
    ("tau_S", 1e-6, r"Parameter `tau_S` for host KAZ must be in \[0.001, 1e\+06\] \(days\); got 1e-06"),
    ("f0", 1e6, r"Parameter `f0` for host KAZ must be in \[0, 1000\] \(1/day\); got 1e\+06"),
    ("lam_U", 1e9, r"Parameter `lam_U` for host KAZ must be in \[0, 1000\] \(1/day\); got 1e\+09"),
    ("gdp", 1e-300, r"Parameter `gdp` for host KAZ must be in \[1e\+06, 1e\+15\]"),
    ("K", 1e12, r"Parameter `K` for host KAZ must be in \[1, 1e\+10\) \(people\)"),
    ("Hs", 1e-300, r"Parameter `Hs` for host KAZ must be in \[1, 1e\+10\) \(dwellings\)"),
    ("w", 1e300, r"Parameter `w` for host KAZ must be in \[0, 1e\+06\] \(USD/day\)"),
    ("w", "25", r"Parameter `w` for host KAZ must be a number in USD/day; got '25'"),
])
def test_per_host_bounds(ref, name, value, pattern):
    with pytest.raises(ParameterError, match=pattern):
        ref.with_params(**{name: {"KAZ": value}})


def test_error_names_the_right_host(ref):
    with pytest.raises(ParameterError, match="for host GEO"):
        ref.with_params(q_ret={"GEO": 1.5})


def test_q_on_plus_q_ret_at_most_one(ref):
    with pytest.raises(ParameterError, match=r"`q_on` \+ `q_ret` for host UZB must be <= 1 .*got 0.7 \+ 0.5 = 1.2"):
        ref.with_params(q_on={"UZB": 0.7}, q_ret={"UZB": 0.5})


@pytest.mark.parametrize("k,pattern", [
    (0, r"Parameter `k` must be in \[1, 100\]"),
    (10**6, r"Parameter `k` must be in \[1, 100\]"),
    (2.5, r"Parameter `k` must be a whole number >= 1; got 2.5"),
    (math.nan, r"Parameter `k` must be a number .*got NaN"),
])
def test_k(ref, k, pattern):
    with pytest.raises(ParameterError, match=pattern):
        ref.with_params(k=k)


def test_onward_rows_must_sum_to_one(ref):
    with pytest.raises(ParameterError, match=r"`P` for host KAZ: onward shares .* must sum to 1; got 0.9"):
        ref.with_params(P={"KAZ": {"UZB": 0.4, "W": 0.5}})


def test_onward_to_self_refused():
    P = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ParameterError, match=r"`P` for host KAZ, destination KAZ must be 0"):
        make_params(("KAZ", "UZB"), P=P)


def test_onward_unknown_destination(ref):
    with pytest.raises(ParameterError, match=r"unknown destination 'UZN'.*Did you mean 'UZB'"):
        ref.with_params(P={"KAZ": {"UZN": 1.0}})


def test_onward_share_out_of_range():
    P = np.array([[0.0, 1.5, -0.5], [0.0, 0.0, 1.0]])
    with pytest.raises(ParameterError, match=r"`P` for host KAZ, destination UZB must be in \[0, 1\]; got 1.5"):
        make_params(("KAZ", "UZB"), P=P)


def test_unknown_parameter_suggests(ref):
    with pytest.raises(ParameterError, match=r"unknown parameter 'tau_t'.*Did you mean 'tau_T'"):
        ref.with_params(tau_t=3.0)


def test_missing_parameter():
    values = {k: v for k, v in make_params().values.items() if k != "eps"}
    with pytest.raises(ParameterError, match="`eps` is missing"):
        flowsim.ParameterSet(hosts=("KAZ",), values=values, P=np.array([[0.0, 1.0]]))


@pytest.mark.parametrize("hosts,pattern", [
    (("KAZ", "XYZ"), r"unknown host code 'XYZ'"),
    (("KAZ", "GOE"), r"unknown host code 'GOE'.*Did you mean 'GEO'"),
    (("KAZ", "KAZ"), r"host 'KAZ' is listed twice"),
    ((), r"at least one host"),
])
def test_unknown_host_codes(hosts, pattern):
    with pytest.raises(ScenarioError, match=pattern):
        flowsim.reference_parameters(hosts)


def test_unknown_host_in_update(ref):
    with pytest.raises(ParameterError, match=r"host 'KAZZ' is not in this scenario.*Did you mean 'KAZ'"):
        ref.with_params(f0={"KAZZ": 0.1})


def test_scenario_level_errors():
    p = make_params(("KAZ", "UZB"))
    with pytest.raises(ScenarioError, match=r"arrivals: host 'GEO' is not in this scenario"):
        flowsim.Scenario(params=p, arrivals={"GEO": flowsim.Pulse(total=1.0)})
    with pytest.raises(ScenarioError, match=r"initial stock E for host KAZ must be <= K = 20000"):
        flowsim.Scenario(params=p, initial={"KAZ": {"E": 25000.0}})
    with pytest.raises(ScenarioError, match=r"initial stock T for host UZB \(people\) must be in \[0, 1e\+10\)"):
        flowsim.Scenario(params=p, initial={"UZB": {"T": -1.0}})
    with pytest.raises(ScenarioError, match=r"unknown compartment 'Employed'"):
        flowsim.Scenario(params=p, initial={"UZB": {"Employed": 1.0}})
    with pytest.raises(ScenarioError, match=r"horizon_days must be a whole number of days in \[1, 36525\]"):
        flowsim.Scenario(params=p, horizon_days=0)
    with pytest.raises(ScenarioError, match=r"horizon_days .* \(at most 100 years\); got 999999999"):
        flowsim.Scenario(params=p, horizon_days=999999999)
    with pytest.raises(ScenarioError, match=r"initial stock R for host UZB .* got 1e\+12"):
        flowsim.Scenario(params=p, initial={"UZB": {"R": 1e12}})
    with pytest.raises(ScenarioError, match=r"Scenario.start must be a date"):
        flowsim.Scenario(params=p, start="21/09/2022")


def test_schedule_errors():
    with pytest.raises(ScheduleError, match=r"Pulse.total \(people\) must be in \[0, 1e\+10\); got -5"):
        flowsim.Pulse(total=-5)
    with pytest.raises(ScheduleError, match=r"Pulse.total \(people\) must be in \[0, 1e\+10\); got 1e\+308"):
        flowsim.Pulse(total=1e308)
    with pytest.raises(ScheduleError, match=r"Pulse.scale_days \(days\) must be in \[0.001, 1e\+06\]; got 1e-300"):
        flowsim.Pulse(total=5, scale_days=1e-300)
    with pytest.raises(ScheduleError, match=r"Pulse.shape must be in \[1, 10000\]; got 0.5"):
        flowsim.Pulse(total=5, shape=0.5)
    with pytest.raises(ScheduleError, match=r"Pulse.total \(people\) must be a finite number; got nan"):
        flowsim.Pulse(total=math.nan)
    with pytest.raises(ScheduleError, match=r"points\[1\] date 2022-09-20 must come after 2022-09-21"):
        flowsim.PiecewiseLinear(points=[("2022-09-21", 1.0), ("2022-09-20", 2.0)])
    with pytest.raises(ScheduleError, match=r"DailyCounts.counts\[2\] \(people\) must be in \[0, 1e\+10\); got -1"):
        flowsim.DailyCounts(counts=[1, 2, -1])
    with pytest.raises(ScheduleError, match=r"Closure.end \(2022-09-01\) must come after"):
        flowsim.Closure(start="2022-10-01", end="2022-09-01")


def test_arrivals_before_the_start_are_refused():
    p = make_params(("KAZ",))
    with pytest.raises(ScheduleError, match=r"arrivals for host KAZ: a Pulse starts 20 days before the scenario start"):
        flowsim.Scenario(params=p, arrivals={"KAZ": flowsim.Pulse(total=1e3, start="2022-09-01")})
    with pytest.raises(ScheduleError, match=r"a DailyCounts starts 1 days before"):
        flowsim.Scenario(params=p, arrivals={"KAZ": flowsim.DailyCounts(counts=[1.0], start="2022-09-20")})


def test_solver_option_errors():
    sc = flowsim.Scenario(params=make_params(), horizon_days=5)
    with pytest.raises(SolverError, match=r"`rtol` must be in \[2.2204e-14, 1e-06\]; got 0.001"):
        flowsim.run(sc, rtol=1e-3)
    with pytest.raises(SolverError, match=r"`method` must be one of"):
        flowsim.run(sc, method="Euler")
    with pytest.raises(SolverError, match=r"unknown solver 'ipv'.*Did you mean 'ivp'"):
        flowsim.run(sc, solver="ipv")


def test_unknown_scenario():
    with pytest.raises(ScenarioError, match=r"unknown scenario 'kazakstan-2022'.*Did you mean 'kazakhstan-2022'"):
        flowsim.load_scenario("kazakstan-2022")


def test_errors_are_value_errors():
    assert issubclass(flowsim.FlowsimError, ValueError)
