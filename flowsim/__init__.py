"""flowsim: migration flows between countries and what they do to host economies.

A compartment model of arrivals, transit, onward moves, savings, jobs and
returns per host country (``docs/model.md``), coupled to an economic layer
that sets the short-term boost against the long-term absorption burden.

Examples
--------
>>> import flowsim
>>> scenario = flowsim.load_scenario("kazakhstan-2022")
>>> result = flowsim.run(scenario)
>>> result.summary()["KAZ"]["crossover_date"]  # doctest: +SKIP
"""

from . import datasets
from ._version import __version__
from .analysis.background import BackgroundTraffic
from .analysis.constraints import ObservationModel
from .analysis.economy import ACCOUNTS, BALANCES, CHANNELS, ECONOMY_VARIABLES
from .analysis.observations import QUANTITIES, register_quantity
from .analysis.summary import STATUSES, SUMMARY_FIELDS
from .calibration import (
    CalibrationResult,
    FitParameter,
    PosteriorSample,
    ValidationResult,
    calibrate,
    sample_posterior,
    validate,
)
from .datasets import Observation, load_observations
from .exceptions import (
    CalibrationError,
    FlowsimDeprecationWarning,
    FlowsimError,
    ObservationError,
    OutputError,
    ParameterError,
    ResultFileError,
    ScenarioError,
    ScheduleError,
    SolverError,
)
from .hosts import HOST_NAMES, REFERENCE_HOSTS
from .result_file import load_result
from .results import Result, SummaryTable
from .runner import run, run_batch
from .scenario import (
    PARAMETER_SPECS,
    Closure,
    DailyCounts,
    Host,
    Parameter,
    ParameterSet,
    PiecewiseLinear,
    Policy,
    Pulse,
    Scenario,
    daily_arrivals_from_csv,
    hosts_from_csv,
    list_scenarios,
    load_scenario,
    read_scenario,
    reference_parameters,
)
from .solve import SOLVERS
from .uncertainty import EnsembleResult, SensitivityResult, ensemble, sensitivity

__all__ = [
    "__version__",
    "run",
    "run_batch",
    "ensemble",
    "EnsembleResult",
    "sensitivity",
    "SensitivityResult",
    "Result",
    "SummaryTable",
    "Scenario",
    "ParameterSet",
    "Parameter",
    "PARAMETER_SPECS",
    "Pulse",
    "PiecewiseLinear",
    "DailyCounts",
    "Host",
    "hosts_from_csv",
    "daily_arrivals_from_csv",
    "Closure",
    "Policy",
    "load_scenario",
    "read_scenario",
    "list_scenarios",
    "load_result",
    "reference_parameters",
    "REFERENCE_HOSTS",
    "HOST_NAMES",
    "CHANNELS",
    "ECONOMY_VARIABLES",
    "BALANCES",
    "ACCOUNTS",
    "STATUSES",
    "SUMMARY_FIELDS",
    "SOLVERS",
    "datasets",
    "Observation",
    "load_observations",
    "BackgroundTraffic",
    "ObservationModel",
    "QUANTITIES",
    "register_quantity",
    "calibrate",
    "validate",
    "sample_posterior",
    "PosteriorSample",
    "FitParameter",
    "CalibrationResult",
    "ValidationResult",
    "FlowsimError",
    "ParameterError",
    "ScheduleError",
    "ScenarioError",
    "SolverError",
    "OutputError",
    "ResultFileError",
    "ObservationError",
    "CalibrationError",
    "FlowsimDeprecationWarning",
]
