"""Out-of-sample validation: fit on the figures published up to a date, predict the later ones."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._validation import to_date
from ..analysis.background import BackgroundTraffic
from ..analysis.constraints import ObservationModel
from ..analysis.goodness import mape_and_ard
from ..datasets import as_observation_table
from ..exceptions import CalibrationError, ObservationError
from ..runner import run
from ..scenario.scenario import quiet_notes
from ..table import Table
from .calibration_result import CalibrationResult
from .choice import SETTLED_FIT, SETTLED_FIXED, default_fit_parameters, default_priors
from .figure_rows import FigureRow
from .fit import calibrate
from .objective import fit_solver

__all__ = ["validate", "ValidationResult", "ValidationRow", "VALIDATION_COLUMNS", "default_fit_parameters",
           "default_priors", "SETTLED_FIT", "SETTLED_FIXED"]

#: Columns of ``validation.csv``, in order.
VALIDATION_COLUMNS = ("host", "quantity", "date_start", "date_end", "observed", "low", "high", "qualifier",
                      "constraint", "predicted", "error", "relative_error", "in_sample", "weight", "line")


@dataclass(frozen=True, kw_only=True)
class ValidationRow(FigureRow):
    """One observation, in the fit (``in_sample``) or predicted after it.

    The figure's fields are those of :class:`FigureRow`; a validation adds these.

    Attributes
    ----------
    predicted : float
        Model value with the fitted parameters, the figure's unit.
    error : float
        Distance of ``predicted`` outside the accepted set (0 inside;
        ``predicted - observed`` for a point); ``relative_error`` is that
        distance relative to the figure.
    in_sample : bool
        Whether the figure's window ends by the validation's ``until`` (it was fitted).
    """

    #: Every column in order (``validation.csv`` writes :data:`VALIDATION_COLUMNS`, without ``kind`` and ``sigma``).
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "host", "quantity", "date_start", "date_end", "observed", "low", "high", "qualifier", "constraint", "kind",
        "sigma", "predicted", "error", "relative_error", "in_sample", "weight", "line")

    predicted: float
    error: float
    in_sample: bool


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """Outcome of :func:`flowsim.validate`.

    Attributes
    ----------
    calibration : CalibrationResult
        The fit on the in-sample observations.
    until : datetime.date
        Observations whose window ends on or before it were fitted.
    rows : Table
        Of :class:`ValidationRow`, every observation in file order.
    mape_in, mape_out : float
        Mean absolute percentage error in and out of sample, percent.
    ard_in, ard_out : float
        Averaged relative difference (Flee) in and out of sample.
    """

    calibration: CalibrationResult
    until: _dt.date
    rows: Table
    mape_in: float
    mape_out: float
    ard_in: float
    ard_out: float

    @property
    def n_in(self) -> int:
        return sum(r.in_sample for r in self.rows)

    @property
    def n_out(self) -> int:
        return sum(not r.in_sample for r in self.rows)

    def plot(self, ax=None, **kwargs):
        """Predictions against every observation, in-sample and out-of-sample marked apart.

        See :func:`flowsim.plotting.plot_fit`.
        """
        from ..plotting.calibration import plot_fit

        return plot_fit(self, ax=ax, **kwargs)

    def to_dataframe(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        return self.rows.to_dataframe()

    def __repr__(self) -> str:
        from ._reprs import validation_text

        return validation_text(self)

    def _repr_html_(self) -> str:
        from ._reprs import validation_html

        return validation_html(self)


def _by_label(table, per_obs):
    """Weights or sigmas keyed by index in ``table`` re-keyed by label (valid in any subset)."""
    if per_obs is None or callable(per_obs):
        return per_obs
    out = {}
    for key, value in dict(per_obs).items():
        if isinstance(key, (int, np.integer)):
            if not 0 <= key < len(table):
                raise CalibrationError(f"weights/sigmas: index {key} is outside the {len(table)} observations.")
            key = table[int(key)].label
        out[key] = value
    return out


@quiet_notes()   # the scenario spoke when it was built; its variants (the fit horizon) need not
def validate(scenario, observations, until, params=None, *, background: BackgroundTraffic | None = None,
             weights=None, sigmas=None, **options) -> ValidationResult:
    """Fit on the observations ending by ``until``, predict the others, and compare.

    Parameters
    ----------
    scenario : Scenario
    observations : ObservationTable or list of Observation
    until : date or str
        Last day of the fitting period: observations with ``date_end <=
        until`` are fitted, the others are predicted.
    params : sequence, optional
        What to fit (see :func:`flowsim.calibrate`); default
        :func:`default_fit_parameters`.
    background : BackgroundTraffic, optional
        Default :meth:`BackgroundTraffic.from_observations` on *all*
        observations (so every level exists); levels without in-sample
        figures keep their starting value.
    weights, sigmas : mapping or callable, optional
        As in :func:`flowsim.calibrate` (indices refer to ``observations``).
    **options
        Passed to :func:`flowsim.calibrate` (``starts``, ``seed``...).

    Returns
    -------
    ValidationResult
        Per observation: observed, bounds, predicted, error, relative error
        and whether it was fitted; MAPE and ARD in and out of sample.

    Raises
    ------
    CalibrationError
        No observation ends by ``until``, or none after it (nothing to
        predict).
    ObservationError
        An observation ends after the scenario's simulated period (its
        prediction would be made of days the scenario does not simulate).
    """
    table = as_observation_table(observations)
    until = to_date(until, "until", CalibrationError)
    inside = table.until(until)
    if not len(inside):
        first = min(o.date_end for o in table) if len(table) else None
        raise CalibrationError(f"no observation ends on or before {until} (the first ends on {first}); "
                               "choose a later date for --until.")
    _check_predictable(table, until, scenario)
    bg = BackgroundTraffic.from_observations(table) if background is None else background
    w, s = _by_label(table, weights), _by_label(table, sigmas)
    if params is None:
        params = default_fit_parameters(scenario, inside, bg)
        options.setdefault("priors", default_priors(params) or None)
    cal = calibrate(scenario, inside, params, background=bg, weights=w, sigmas=s, **options)
    model = ObservationModel.build(table, cal.background, weights=w, sigmas=s)
    model.check_scenario(scenario)
    horizon = max(model.days_needed(scenario.start), 1)
    # the fitted scenario runs with the fit's own solver and options (rtol 1e-6 by default), not a plain run's
    solver, solver_options = fit_solver(options.get("solver"), options.get("solver_options"), "validate")
    result = run(cal.scenario.replace(horizon_days=horizon), solver=solver, **solver_options)
    predictions = model.predict(result)
    in_sample = np.array([o.date_end <= until for o in table])
    errors, rel = model.violations(predictions), model.relative_errors(predictions)
    rows = tuple(
        ValidationRow(host=o.host, quantity=o.quantity, date_start=o.date_start, date_end=o.date_end,
                      observed=o.value, low=c.low, high=c.high, qualifier=o.qualifier, constraint=c.text,
                      kind=c.kind, sigma=c.sigma, predicted=float(p), error=float(e), relative_error=float(r),
                      in_sample=bool(k), weight=c.weight, line=o.line)
        for o, c, p, e, r, k in zip(table, model.constraints, predictions, errors, rel, in_sample)
    )
    fitted = in_sample & (model.weights > 0)
    mape_in, ard_in = mape_and_ard(model, predictions, fitted)
    mape_out, ard_out = mape_and_ard(model, predictions, ~in_sample)
    return ValidationResult(
        calibration=cal, until=until,
        rows=Table(rows, title=f"validation: fitted up to {until}",
                         display=("host", "quantity", "date_start", "date_end", "constraint", "predicted",
                                  "relative_error", "in_sample")),
        mape_in=mape_in, mape_out=mape_out, ard_in=ard_in, ard_out=ard_out,
    )


def _check_predictable(table, until: _dt.date, scenario) -> None:
    """Refuse a validation with nothing to predict, or with figures past the scenario's simulated period."""
    late = [o for o in table if (o.date_end - scenario.start).days + 1 > scenario.horizon_days]   # counts to its end
    if late:
        o = late[0]
        where = f" ({table.title}, line {o.line})" if o.line else ""
        raise ObservationError(
            f"{o.label}{where}: ends on or after the end of the simulated period of scenario {scenario.name!r} "
            f"({scenario.start} .. {scenario.end}), so there is no prediction to compare it with "
            f"({len(late)} such figure(s)). Fix: "
            f"lengthen horizon_days to at least {max((x.date_end - scenario.start).days + 1 for x in late)}, or "
            "leave those figures out."
        )
    last = max(o.date_end for o in table)
    if until >= last:
        raise CalibrationError(
            f"nothing to predict: every observation ends on or before --until {until} (the last on {last}; the "
            f"simulated period ends on {scenario.end}). Fix: choose a date before {last}, so that the later "
            "figures are predicted."
        )
