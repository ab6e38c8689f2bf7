"""Exception hierarchy of flowsim.

Every error a user can trigger with bad input is a :class:`FlowsimError`, which
is a :class:`ValueError`, so ``except ValueError`` keeps working. Messages follow
one template: what is wrong, where (parameter, host, file, line), what is
allowed, what was given, and how to fix it.
"""

from __future__ import annotations

__all__ = [
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
    "FlowsimWarning",
]


class FlowsimError(ValueError):
    """Base class of every error flowsim raises for bad input."""


class ParameterError(FlowsimError):
    """A model or economy parameter is unknown, malformed or out of bounds."""


class ScheduleError(FlowsimError):
    """An arrival schedule or a closure window is malformed."""


class ScenarioError(FlowsimError):
    """A scenario is inconsistent or not found (hosts, dates, initial stocks)."""


class SolverError(FlowsimError):
    """The ODE solver failed or was asked for with invalid options."""


class OutputError(FlowsimError):
    """An output cannot be written (folder not writable, file exists...)."""


class ResultFileError(FlowsimError):
    """A saved result file cannot be read: missing, truncated, corrupted or modified."""


class ObservationError(FlowsimError):
    """An observation (a published figure) or a file of them is malformed or cannot be modelled."""


class CalibrationError(FlowsimError):
    """A calibration cannot be set up (unknown or unfittable parameter, no observations...)."""


class FlowsimDeprecationWarning(FutureWarning):
    """A deprecated input was read and converted (shown to users by default, unlike DeprecationWarning)."""


class FlowsimWarning(UserWarning):
    """Valid input that does something a user may not expect; the message says what was done.

    For example a policy dated before the scenario's start (applied from day 0)
    or a closure outside the simulated period (no effect). ``flowsim`` commands
    print it as one line ``flowsim: warning: ...``; turn it into an error with
    ``warnings.simplefilter("error", flowsim.FlowsimWarning)``.
    """
