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

import importlib
from typing import TYPE_CHECKING

from ._version import __version__
from .exceptions import (
    CalibrationError,
    FlowsimDeprecationWarning,
    FlowsimError,
    FlowsimWarning,
    IntegrationError,
    ObservationError,
    OutputError,
    ParameterError,
    ResultFileError,
    ScenarioError,
    ScheduleError,
    SolverError,
    UnknownHostError,
    UnknownKeyError,
)

if TYPE_CHECKING:  # the same names, for type checkers and the API docs (griffe reads this statically)
    from . import datasets
    from .analysis.background import BackgroundTraffic
    from .analysis.constraints import ObservationModel
    from .analysis.observations import QUANTITIES, register_quantity
    from .calibration import (
        BacktestResult,
        CalibrationResult,
        FitParameter,
        PosteriorSample,
        ValidationResult,
        backtest,
        calibrate,
        sample_posterior,
        validate,
    )
    from .datasets import Observation, load_observations
    from .hosts import HOST_NAMES, REFERENCE_HOSTS
    from .io import load_result
    from .model.economy import ACCOUNTS, BALANCES, CHANNELS, ECONOMY_VARIABLES
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
    from .summary import STATUSES, SUMMARY_FIELDS
    from .uncertainty import EnsembleResult, SensitivityResult, ensemble, sensitivity

# Everything else is imported on first use (PEP 562): ``import flowsim`` stays cheap (no scipy, no
# calibration, no plotting), and ``flowsim.run`` etc. resolve to the same objects as before.
_LAZY = {
    "datasets": ("datasets", None),
    "BackgroundTraffic": ("analysis.background", "BackgroundTraffic"),
    "ObservationModel": ("analysis.constraints", "ObservationModel"),
    "CHANNELS": ("model.economy", "CHANNELS"),
    "ECONOMY_VARIABLES": ("model.economy", "ECONOMY_VARIABLES"),
    "ACCOUNTS": ("model.economy", "ACCOUNTS"),
    "BALANCES": ("model.economy", "BALANCES"),
    "STATUSES": ("summary", "STATUSES"),
    "SUMMARY_FIELDS": ("summary", "SUMMARY_FIELDS"),
    "QUANTITIES": ("analysis.observations", "QUANTITIES"),
    "register_quantity": ("analysis.observations", "register_quantity"),
    "CalibrationResult": ("calibration", "CalibrationResult"),
    "FitParameter": ("calibration", "FitParameter"),
    "PosteriorSample": ("calibration", "PosteriorSample"),
    "ValidationResult": ("calibration", "ValidationResult"),
    "calibrate": ("calibration", "calibrate"),
    "sample_posterior": ("calibration", "sample_posterior"),
    "validate": ("calibration", "validate"),
    "backtest": ("calibration", "backtest"),
    "BacktestResult": ("calibration", "BacktestResult"),
    "Observation": ("datasets", "Observation"),
    "load_observations": ("datasets", "load_observations"),
    "HOST_NAMES": ("hosts", "HOST_NAMES"),
    "REFERENCE_HOSTS": ("hosts", "REFERENCE_HOSTS"),
    "load_result": ("io", "load_result"),
    "Result": ("results", "Result"),
    "SummaryTable": ("results", "SummaryTable"),
    "run": ("runner", "run"),
    "run_batch": ("runner", "run_batch"),
    "PARAMETER_SPECS": ("scenario", "PARAMETER_SPECS"),
    "Closure": ("scenario", "Closure"),
    "DailyCounts": ("scenario", "DailyCounts"),
    "Host": ("scenario", "Host"),
    "hosts_from_csv": ("scenario", "hosts_from_csv"),
    "daily_arrivals_from_csv": ("scenario", "daily_arrivals_from_csv"),
    "Parameter": ("scenario", "Parameter"),
    "ParameterSet": ("scenario", "ParameterSet"),
    "PiecewiseLinear": ("scenario", "PiecewiseLinear"),
    "Policy": ("scenario", "Policy"),
    "Pulse": ("scenario", "Pulse"),
    "Scenario": ("scenario", "Scenario"),
    "list_scenarios": ("scenario", "list_scenarios"),
    "load_scenario": ("scenario", "load_scenario"),
    "read_scenario": ("scenario", "read_scenario"),
    "reference_parameters": ("scenario", "reference_parameters"),
    "SOLVERS": ("solve", "SOLVERS"),
    "EnsembleResult": ("uncertainty", "EnsembleResult"),
    "SensitivityResult": ("uncertainty", "SensitivityResult"),
    "ensemble": ("uncertainty", "ensemble"),
    "sensitivity": ("uncertainty", "sensitivity"),
}


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'flowsim' has no attribute {name!r}") from None
    value = importlib.import_module(f"{__name__}.{module}")
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value                       # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


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
    "backtest",
    "BacktestResult",
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
    "IntegrationError",
    "OutputError",
    "ResultFileError",
    "ObservationError",
    "CalibrationError",
    "UnknownKeyError",
    "UnknownHostError",
    "FlowsimDeprecationWarning",
    "FlowsimWarning",
]
