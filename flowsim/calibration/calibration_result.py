"""What a calibration returns: fitted scenario, estimates with intervals, residuals, fit statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._validation import did_you_mean
from ..exceptions import CalibrationError
from ..table import Table
from .figure_rows import FigureRow

__all__ = ["Estimate", "ESTIMATE_COLUMNS", "ResidualRow", "StartOutcome", "CalibrationResult", "residual_rows",
           "WEAKLY_IDENTIFIED"]

#: An estimate with a prior whose data remove less than this share of the prior's variance is
#: reported as weakly identified: its value and interval are mostly the prior's.
WEAKLY_IDENTIFIED = 0.5


@dataclass(frozen=True)
class Estimate:
    """A fitted value with its uncertainty.

    Attributes
    ----------
    name : str
        Canonical name (``tau_T[KAZ]``, ``pulse.total[KAZ]``...).
    unit : str
    value : float
        Best fit, natural units.
    initial : float
        Value in the scenario before fitting.
    se : float
        Standard error in natural units (delta method from the transformed
        space); ``inf`` when the observations do not determine it.
    ci_low, ci_high : float
        95% interval: ``z +- 1.96 se_z`` in the transformed space, mapped back
        (so it respects positivity and share bounds and is asymmetric).
    lower, upper : float
        Search bounds.
    transform : str
        ``log``, ``logit`` or ``log(x-1)``.
    at_bound : bool
        The best fit sits on a search bound (the interval is then not reliable).
    identified : bool
        False when the observations leave it undetermined (a flat direction
        of the data's Jacobian); with a prior, the interval then comes from
        the prior, not from the data.
    prior : str
        The prior (``"95% in [a, b]"``), or ``""`` when flat within the bounds.
    data_share : float
        The fraction of the reference's variance (transformed space) that
        the data remove, ``1 - var_post / var_ref``, 0..1
        (:func:`flowsim.calibration.fit.data_shares`): flowsim's one measure
        of how well the figures pin a parameter down. Below
        :data:`WEAKLY_IDENTIFIED` the report calls the estimate weakly
        identified: it is mostly the prior's, or, without a prior, values
        two orders of magnitude apart fit about as well.
    reference : str
        What ``data_share`` is measured against: ``"prior 95% in [a, b]"``
        or, without a prior, ``"a factor of 100"``: a 95% interval spanning
        that factor in the fitted scale (:meth:`ParameterVector.reference`).
    """

    name: str
    unit: str
    value: float
    initial: float
    se: float
    ci_low: float
    ci_high: float
    lower: float
    upper: float
    transform: str
    at_bound: bool
    identified: bool
    prior: str = ""
    data_share: float = 1.0
    reference: str = ""

    @property
    def weakly_identified(self) -> bool:
        """Identified, but the data remove less than :data:`WEAKLY_IDENTIFIED` of the reference's variance."""
        return bool(self.identified and self.data_share < WEAKLY_IDENTIFIED)

    @property
    def identification(self) -> str:
        """``"identified"``, ``"weak"`` (:attr:`weakly_identified`) or ``"none"`` (not :attr:`identified`)."""
        return "none" if not self.identified else "weak" if self.weakly_identified else "identified"


#: Columns of ``estimates.csv``, in order (``identification`` is the property of :class:`Estimate`).
ESTIMATE_COLUMNS = ("name", "unit", "initial", "value", "se", "ci_low", "ci_high", "lower", "upper", "transform",
                    "at_bound", "identified", "identification", "data_share", "reference")


@dataclass(frozen=True, kw_only=True)
class ResidualRow(FigureRow):
    """One observation against its prediction: the figure's fields (:class:`FigureRow`) and these.

    Attributes
    ----------
    weight_reason : str
        Why the figure has its weight.
    predicted : float
        Model value with the fitted parameters.
    initial : float
        Model value before fitting.
    error : float
        Distance of ``predicted`` outside the accepted set (0 inside).
    residual : float
        ``sqrt(weight) * relative_error / sigma``: what was minimised.
    in_fit : bool
        Whether the observation took part in the fit.

    ``sigma`` is the relative uncertainty the residual is scaled by;
    ``relative_error`` is ``error`` relative to the figure.
    """

    #: Columns of ``residuals.csv``, in order.
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "host", "quantity", "date_start", "date_end", "observed", "low", "high", "qualifier", "constraint", "kind",
        "sigma", "weight", "weight_reason", "predicted", "initial", "error", "relative_error", "residual", "in_fit",
        "line")

    weight_reason: str
    predicted: float
    initial: float
    error: float
    residual: float
    in_fit: bool


@dataclass(frozen=True)
class StartOutcome:
    """One start of the multi-start search: where it began, where it ended, and how."""

    start: dict
    end: dict
    cost: float
    success: bool
    status: int
    message: str
    nfev: int


def residual_rows(model, predictions, initial, in_fit) -> tuple[ResidualRow, ...]:
    """Rows of a residual table for an :class:`~flowsim.analysis.constraints.ObservationModel`."""
    errors = model.violations(predictions)
    rel = model.relative_errors(predictions)
    res = model.residuals(predictions)
    rows = []
    for i, (obs, c) in enumerate(zip(model.observations, model.constraints)):
        rows.append(ResidualRow(
            host=obs.host, quantity=obs.quantity, date_start=obs.date_start, date_end=obs.date_end,
            observed=obs.value, low=c.low, high=c.high, qualifier=obs.qualifier, constraint=c.text, kind=c.kind,
            sigma=c.sigma, weight=c.weight, weight_reason=c.reason, predicted=float(predictions[i]),
            initial=float(initial[i]), error=float(errors[i]), relative_error=float(rel[i]),
            residual=float(res[i]), in_fit=bool(in_fit[i]), line=obs.line,
        ))
    return tuple(rows)


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Outcome of :func:`flowsim.calibrate`.

    Attributes
    ----------
    scenario : Scenario
        The input scenario with the fitted values put in (its own horizon).
    background : BackgroundTraffic
        Background traffic with fitted levels.
    initial_scenario, initial_background
        The inputs.
    estimates : tuple of Estimate
        One per fitted parameter, in the order given.
    covariance : ndarray, shape (p, p)
        Covariance of the estimates in natural units (delta method).
    covariance_transformed : ndarray, shape (p, p)
        Covariance in the transformed space: ``s2 * (J^T J)^-1``.
    residuals : Table
        Of :class:`ResidualRow`, one per observation.
    chi2 : float
        Sum of squared residuals of the fitted observations.
    dof : int
        Fitted observations minus parameters.
    covariance_scale : float
        ``s2``: the reduced chi-square ``chi2 / dof`` when ``scale_covar``
        (the default; the relative sigmas are then taken as relative weights
        only, as ``curve_fit`` does with ``absolute_sigma=False``), else 1.
    mape : float
        Mean absolute percentage error over the fitted observations, percent.
    ard : float
        Averaged relative difference (Flee's validation error), a fraction.
    success : bool
        Whether the best start converged (``least_squares`` status > 0).
    message : str
    nfev : int
        Model evaluations over all starts.
    starts : tuple of StartOutcome
    horizon_days : int
        Horizon of the runs used while fitting.
    fitted_result, initial_result : Result
        The fitted and the initial scenario run over that horizon.
    observation_model : ObservationModel
        Observations, quantities and constraints (with the fitted background).
    """

    scenario: object
    background: object
    initial_scenario: object
    initial_background: object
    parameters: tuple
    estimates: tuple
    covariance: np.ndarray
    covariance_transformed: np.ndarray
    residuals: Table
    chi2: float
    dof: int
    covariance_scale: float
    mape: float
    ard: float
    success: bool
    message: str
    nfev: int
    starts: tuple
    horizon_days: int
    fitted_result: object
    initial_result: object
    observation_model: object

    @property
    def values(self) -> dict[str, float]:
        """Fitted values by name."""
        return {e.name: e.value for e in self.estimates}

    @property
    def not_identified(self) -> tuple[str, ...]:
        """Names of the estimates the figures do not pin down (identification ``"none"`` or ``"weak"``).

        Do not quote these values: fix the parameter at a sourced value, give
        it a prior, or add figures that depend on it (docs/calibration.md,
        "Identified or not").
        """
        return tuple(e.name for e in self.estimates if e.identification != "identified")

    def estimate(self, name: str) -> Estimate:
        """The :class:`Estimate` of ``name`` (as written in ``params`` or canonical)."""
        from .parameters import FitParameter

        try:
            label = FitParameter.parse(name).label
        except CalibrationError:
            label = name
        for e in self.estimates:
            if e.name == label:
                return e
        fix = did_you_mean(name, [e.name for e in self.estimates])
        raise CalibrationError(f"no fitted parameter {name!r}; fitted: {', '.join(e.name for e in self.estimates)}."
                               f"{fix}")

    @property
    def estimate_table(self) -> Table:
        """The estimates as a table (``estimates.csv`` is ``estimate_table.to_csv(columns=ESTIMATE_COLUMNS)``)."""
        return Table(self.estimates, title="fitted parameters (95% intervals)",
                           display=("name", "unit", "initial", "value", "se", "ci_low", "ci_high", "at_bound"))

    @property
    def n_fitted(self) -> int:
        """Observations that took part in the fit."""
        return sum(r.in_fit for r in self.residuals)

    def to_dataframe(self, which: str = "residuals"):
        """``"residuals"`` or ``"estimates"`` as a pandas DataFrame (needs pandas)."""
        if which == "residuals":
            return self.residuals.to_dataframe()
        if which == "estimates":
            return self.estimate_table.to_dataframe()
        raise CalibrationError(f"to_dataframe: which must be 'residuals' or 'estimates'; got {which!r}.")

    def sample_posterior(self, **options):
        """An MCMC posterior sample started in a small ball around this optimum.

        The same observations, parameters, background, weights and sigmas as
        the fit unless given; see :func:`flowsim.sample_posterior` for the
        options (``n_walkers``, ``n_steps``, ``burn``, ``seed``, ``prior``...).

        Returns
        -------
        PosteriorSample
        """
        from .posterior import sample_posterior

        return sample_posterior(self, **options)

    def observation_view(self, host: str, *, fitted: bool = True):
        """The model's outputs of ``host`` by calendar window, as the observations see them.

        An :class:`~flowsim.analysis.observations.ObservationView` of the
        fitted run with the fitted background (``fitted=True``) or of the
        initial run with the initial background; :meth:`plot_series` draws
        its daily gross entries and exits.
        """
        from ..analysis.observations import ObservationView

        if fitted:
            return ObservationView(self.fitted_result, host, self.background)
        return ObservationView(self.initial_result, host, self.initial_background)

    def plot(self, ax=None, **kwargs):
        """Fitted and initial predictions against every observation and its bounds.

        See :func:`flowsim.plotting.plot_fit`; returns its artists.
        """
        from ..plotting.calibration import plot_fit

        return plot_fit(self, ax=ax, **kwargs)

    def plot_series(self, host: str, ax=None, **kwargs):
        """Daily gross entries and exits of ``host`` against the border counts.

        See :func:`flowsim.plotting.plot_fit_series`.
        """
        from ..plotting.calibration import plot_fit_series

        return plot_fit_series(self, host, ax=ax, **kwargs)

    def __repr__(self) -> str:
        from ._reprs import calibration_text

        return calibration_text(self)

    def _repr_html_(self) -> str:
        from ._reprs import calibration_html

        return calibration_html(self)
