"""Calibration: fit parameters to published figures, report the fit, validate out of sample.

* :func:`calibrate` -- ``scipy.optimize.least_squares`` in a transformed space
  (log for positive quantities, logit for shares), from several seeded
  starts; returns a :class:`CalibrationResult` with the fitted scenario,
  estimates with 95% intervals, residuals per observation, MAPE and the
  averaged relative difference, and ``plot()``.
* :func:`sample_posterior` -- an MCMC sample of the posterior (``emcee``, the
  ``mcmc`` extra) with the fit's residuals as likelihood; its
  :class:`PosteriorSample` solves draws as ensemble members, so fan charts and
  event probabilities are conditioned on the data.
* :func:`validate` -- fit on the figures published up to a date, predict the
  later ones (:class:`ValidationResult`; ``flowsim validate`` on the command line).
* :func:`backtest` -- fit up to a date, draw the posterior, solve it as an
  ensemble and score the later figures: 50% and 90% band coverage, CRPS,
  error of the median (:class:`BacktestResult`; ``flowsim backtest``).

The observation model (what each figure is in model terms, background
traffic, bounds and weights) is in :mod:`flowsim.analysis.observations` and
:mod:`flowsim.analysis.constraints`; ``docs/calibration.md`` explains it.
"""

from .backtest import BacktestResult, CoverageRow, ScoreRow, backtest
from .calibration_result import WEAKLY_IDENTIFIED, CalibrationResult, Estimate, ResidualRow, StartOutcome
from .choice import ECONOMIC_FIT, SETTLED_FIT, SETTLED_FIXED, default_fit_parameters, default_priors
from .fit import calibrate
from .parameters import FitParameter, ParameterVector
from .posterior import sample_posterior
from .posterior_result import PosteriorEstimate, PosteriorSample
from .validation import VALIDATION_COLUMNS, ValidationResult, ValidationRow, validate

__all__ = [
    "calibrate",
    "sample_posterior",
    "PosteriorSample",
    "PosteriorEstimate",
    "validate",
    "backtest",
    "BacktestResult",
    "ScoreRow",
    "CoverageRow",
    "default_fit_parameters",
    "default_priors",
    "ECONOMIC_FIT",
    "SETTLED_FIT",
    "SETTLED_FIXED",
    "FitParameter",
    "ParameterVector",
    "CalibrationResult",
    "Estimate",
    "ResidualRow",
    "StartOutcome",
    "WEAKLY_IDENTIFIED",
    "ValidationResult",
    "ValidationRow",
    "VALIDATION_COLUMNS",
]


def __getattr__(name: str):
    """``SnookerMove`` (the corrected emcee snooker move of ``moves="de"``), imported with emcee on first use."""
    if name == "SnookerMove":
        from ._snooker import SnookerMove

        return SnookerMove
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
