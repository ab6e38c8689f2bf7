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


class FlowsimError(ValueError):
    """Base class of every error flowsim raises for bad input."""


class ParameterError(FlowsimError):
    """A model or economy parameter is unknown, malformed or out of bounds."""


class ScheduleError(FlowsimError):
    """An arrival schedule or a closure window is malformed."""


class ScenarioError(FlowsimError):
    """A scenario is inconsistent or not found (hosts, dates, initial stocks)."""


class SolverError(FlowsimError):
    """A solver was asked for with invalid options (unknown name, method, tolerance, step...).

    Also the base class of :class:`IntegrationError`, so code written for
    earlier versions that catches ``SolverError`` for both keeps working.
    """


class IntegrationError(SolverError, RuntimeError):
    """An integration failed: the solver gave up, or a run broke an invariant (docs/model.md).

    Raised for valid options whose numbers cannot be trusted: a step budget
    spent, a step size that fell below its floor, non-finite values, negative
    stocks or people not conserved. It is a :class:`RuntimeError` (catch
    that to separate it from an options error, a :class:`ValueError`) and,
    for compatibility, a :class:`SolverError`. In a batch,
    ``run_batch(..., failures="flag")`` reports failed members in
    ``Result.status`` instead of raising.
    """


class OutputError(FlowsimError):
    """An output cannot be written (folder not writable, file exists...)."""


class ResultFileError(FlowsimError):
    """A saved result file cannot be read: missing, truncated, corrupted or modified."""


class ObservationError(FlowsimError):
    """An observation (a published figure) or a file of them is malformed or cannot be modelled."""


class CalibrationError(FlowsimError):
    """A calibration cannot be set up (unknown or unfittable parameter, no observations...)."""


class UnknownKeyError(FlowsimError, KeyError):
    """A key that a flowsim mapping (a summary row...) does not hold; the message names the closest one.

    Also a :class:`KeyError`, so ``except KeyError`` and ``dict.get`` style code keep working.
    """

    def __str__(self) -> str:            # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


class UnknownHostError(UnknownKeyError, ParameterError, ScenarioError, CalibrationError, ObservationError):
    """A host code that is not among the hosts of a scenario, result, ensemble or table.

    Raised by the one host lookup, :func:`flowsim.hosts.host_index`, everywhere a host
    is looked up: ``Result.series``, ``EnsembleResult.series``, ``ParameterSet``,
    ``Scenario``, calibration labels such as ``tau_T[XYZ]``, observation models and the
    CLI's ``--hosts``. The message lists the hosts there are and suggests the closest.
    It is a :class:`KeyError` and every error type these lookups raised before
    (:class:`ParameterError`, :class:`ScenarioError`, :class:`CalibrationError`,
    :class:`ObservationError`), so existing ``except`` clauses keep working.
    """


class FlowsimDeprecationWarning(FutureWarning):
    """A deprecated input was read and converted (shown to users by default, unlike DeprecationWarning)."""


class FlowsimWarning(UserWarning):
    """Valid input that does something a user may not expect; the message says what was done.

    For example a policy dated before the scenario's start (applied from day 0)
    or a closure outside the simulated period (no effect). ``flowsim`` commands
    print it as one line ``flowsim: warning: ...``; turn it into an error with
    ``warnings.simplefilter("error", flowsim.FlowsimWarning)``.
    """
