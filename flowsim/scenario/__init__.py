"""Scenario layer: parameters, schedules and complete scenarios (inputs only)."""

from .defaults import reference_parameters
from .files import read_scenario, scenario_from_resolved, scenario_from_toml
from .host import Host
from .library import SCENARIOS, list_scenarios, load_scenario
from .parameter_set import Parameter, ParameterSet
from .policies import Policy
from .scenario import Scenario
from .schedules import Closure, DailyCounts, PiecewiseLinear, Pulse
from .specs import PARAMETER_SPECS, ParameterSpec
from .tables import daily_arrivals_from_csv, hosts_from_csv

__all__ = [
    "reference_parameters", "Host", "hosts_from_csv", "daily_arrivals_from_csv",
    "SCENARIOS", "list_scenarios", "load_scenario", "Parameter",
    "ParameterSet", "Policy", "Scenario", "Closure", "DailyCounts", "PiecewiseLinear", "Pulse",
    "PARAMETER_SPECS", "ParameterSpec", "read_scenario", "scenario_from_toml", "scenario_from_resolved",
]
