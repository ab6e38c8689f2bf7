"""Out-of-sample validation: fit on the figures published up to a date, predict the later ones."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from .._validation import to_date
from ..analysis.background import BackgroundTraffic
from ..analysis.constraints import ObservationModel
from ..analysis.goodness import averaged_relative_difference, mean_absolute_percentage_error
from ..datasets import ObservationTable, RecordTable, as_observation_table
from ..exceptions import CalibrationError, ObservationError
from ..runner import run
from ..scenario.scenario import quiet_notes
from .fit import calibrate
from .result import CalibrationResult

__all__ = ["validate", "ValidationResult", "ValidationRow", "VALIDATION_COLUMNS", "default_fit_parameters",
           "default_priors", "SETTLED_FIT", "SETTLED_FIXED"]

#: Columns of ``validation.csv``, in order.
VALIDATION_COLUMNS = ("host", "quantity", "date_start", "date_end", "observed", "low", "high", "qualifier",
                      "constraint", "predicted", "error", "relative_error", "in_sample", "weight", "line")


@dataclass(frozen=True)
class ValidationRow:
    """One observation: in the fit (``in_sample``) or predicted after it.

    ``observed`` is the published value; ``low``/``high`` the bounds it
    accepts; ``error`` the distance of ``predicted`` outside them (0 inside;
    ``predicted - observed`` for a point); ``relative_error`` that distance
    relative to the figure.
    """

    host: str
    quantity: str
    date_start: _dt.date
    date_end: _dt.date
    observed: float | None
    low: float | None
    high: float | None
    qualifier: str
    constraint: str
    kind: str
    sigma: float
    predicted: float
    error: float
    relative_error: float
    in_sample: bool
    weight: float
    line: int | None


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """Outcome of :func:`flowsim.validate`.

    Attributes
    ----------
    calibration : CalibrationResult
        The fit on the in-sample observations.
    until : datetime.date
        Observations whose window ends on or before it were fitted.
    rows : RecordTable
        Of :class:`ValidationRow`, every observation in file order.
    mape_in, mape_out : float
        Mean absolute percentage error in and out of sample, percent.
    ard_in, ard_out : float
        Averaged relative difference (Flee) in and out of sample.
    """

    calibration: CalibrationResult
    until: _dt.date
    rows: RecordTable
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


def _stats(model: ObservationModel, predictions, mask):
    if not mask.any():
        return float("nan"), float("nan")
    rel = model.relative_errors(predictions)[mask]
    viol = model.violations(predictions)[mask]
    refs = np.array([float(c.reference(m)) for c, m in zip(model.constraints, predictions)])[mask]
    groups = [(o.quantity, o.date_start, o.date_end) for o, k in zip(model.observations, mask) if k]
    return mean_absolute_percentage_error(rel), averaged_relative_difference(groups, viol, refs)


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
    result = run(cal.scenario.replace(horizon_days=horizon), **dict(options.get("solver_options") or {}))
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
    mape_in, ard_in = _stats(model, predictions, fitted)
    mape_out, ard_out = _stats(model, predictions, ~in_sample)
    return ValidationResult(
        calibration=cal, until=until,
        rows=RecordTable(rows, title=f"validation: fitted up to {until}",
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


#: Economic quantities and the parameters their figures inform (docs/model.md v2, "Observing the economy").
ECONOMIC_FIT = {
    "transfers_excess": ("c_S", "c_R", "transfer_share"),
    "rent_log_change": ("eps",),
}
#: Economic figures that are counts of people (registrations): they inform no economy parameter.
ECONOMIC_COUNTS = ("sole_traders_registered", "work_permits")

#: Figures of the settled population and the settled-stage parameters (docs/model.md v2) fitted, with a
#: prior, for a host that has one (of positive weight). The registered employed ``E`` grow at
#: ``phi_S * f0 * (1 - E/K)`` times the savers, and the savers are ``1 - rho`` of the settlers: the
#: figures determine ``f0`` (``phi_S`` fixed, so ``f0`` carries the product) and, through the same
#: product, only weakly ``rho``, which is fitted with its survey prior so that its uncertainty passes
#: into ``f0``'s interval. See :data:`SETTLED_FIXED` for the others and ``docs/calibration.md``
#: ("The settled stage") for the identifiability of each on the 2022 figures.
SETTLED_FIT = {
    "employed_registered": ("f0", "rho"),
}

#: Settled-stage parameters that the default fit keeps at the scenario's values, and why (the
#: Jacobian of the 2022 Kazakhstan figures: the share of each one's prior variance the data remove
#: when it is fitted with the others; docs/calibration.md, "The settled stage").
SETTLED_FIXED = {
    "phi_S": "only phi_S * f0 reaches the figures (the savers' hiring rate); kept at the shipped 0.5 so that f0 "
             "carries the product (fitted together, the data remove 31% of phi_S's prior variance and 38% of "
             "f0's, along one ridge)",
    "K": "the employed stay far below the capacity by 29 Nov 2022 (about 22,000 of 60,000), so the figures "
         "barely see it (the data remove 4% of its prior variance)",
    "tau_S": "a savings runway of 60-240 days moves the employed of 29 Nov by under 1% per 10% (the data "
             "remove 0.3% of its prior variance)",
    "lam_S": "only the stock of 29 Nov 2022 sees it (weight 0.25: its base period is disputed; sigma 25%): the "
             "data remove 0.5% of its prior variance",
    "lam_E": "the employed of 29 Nov change by 0.3% per 10% of lam_E: the data remove 0.1% of its prior variance",
    "lam_R": "no figure counts remote workers in Kazakhstan (the data remove 0% of its prior variance)",
    "lam_U": "almost nobody has run out of savings by 29 Nov 2022 (0% of its prior variance removed)",
    "nu_R": "no figure counts remote workers; the survey rate (OutRush 17% to 13%, Sep 2022 to summer 2023) "
            "already sets its value",
    "q_out": "no figure tells settled leavers who go home from those who move on",
}


def _settled_prior(fp):
    """Prior of a settled-stage parameter: the reference host's shipped range, else the scenario's."""
    from ..hosts import REFERENCE_HOSTS

    if fp.host in REFERENCE_HOSTS:
        from ..scenario.defaults import reference_parameters

        lo, hi = reference_parameters([fp.host]).ranges[fp.name][0]
        return (float(lo), float(hi))
    return "range"


def default_priors(params) -> dict:
    """Priors for the default fit: ``{label: "range" or (low, high)}`` (95% intervals).

    * Economy and observation-model parameters: their plausible range in
      the scenario (``"range"``). One figure of money transfers determines
      only ``integral(inflow) / transfer_share``, a combination of ``c_S``,
      ``c_R`` and the share: their ranges serve as priors, and the fit
      reports which ones the data alone determine.
    * Settled-stage parameters of :data:`SETTLED_FIT` (``f0``, ``rho``):
      the shipped range of a reference host (KAZ, GEO, ARM...; not the range
      of a calibrated scenario, which is already a fit's interval), else the
      scenario's range. Sources: ``rho`` 0.15-0.5 for Kazakhstan from the
      emigrant surveys of ``economy_context_2022.csv`` (OutRush: 17% worked
      for Russian organisations in September 2022; Skeptik: 50% of the first
      wave kept their job remotely or relocated with it); ``f0`` 0.005-0.025
      per day is an assumption (about 3 months to a job at an empty market):
      no survey in the record gives a job-finding rate.

    Parameters
    ----------
    params : sequence of str, tuple or FitParameter
        What is fitted (e.g. :func:`default_fit_parameters`' names).

    Returns
    -------
    dict
        For :func:`flowsim.calibrate`'s ``priors``; a parameter not named
        keeps a flat prior within its search bounds.
    """
    from ..scenario.specs import PARAMETER_SPECS
    from .parameters import FitParameter

    settled = {name for names in SETTLED_FIT.values() for name in names}
    out = {}
    for p in params:
        fp = FitParameter.parse(p)
        if fp.kind != "model" or fp.host is None or fp.prior is not None:
            continue
        if fp.name in settled:
            out[fp.label] = _settled_prior(fp)
        elif PARAMETER_SPECS[fp.name].layer != "flow":
            out[fp.label] = "range"
    return out


def default_fit_parameters(scenario, observations: ObservationTable, background: BackgroundTraffic | None = None,
                           *, min_observations: int = 3) -> list[str]:
    """A default choice of what to fit, from what the observations can inform.

    For every host of the scenario with at least ``min_observations``
    figures of people flows of positive weight: the total and time scale of
    its Pulse (when it has exactly one) and its mean transit time ``tau_T``;
    with a figure of its settled population (:data:`SETTLED_FIT`: the
    registered employed), the job-finding rate ``f0`` and the share of
    remote workers ``rho``; every background level whose period overlaps the
    window of one of its observations; and, for each economic figure
    (:data:`ECONOMIC_FIT`), the parameters it informs: ``c_S``, ``c_R`` and
    ``transfer_share`` for money transfers, ``eps`` for rents. The economy
    and settled-stage parameters need priors: fit them with
    :func:`default_priors`. The other settled-stage parameters stay at the
    scenario's values (:data:`SETTLED_FIXED` says why).

    Returns
    -------
    list of str
        Names for :func:`flowsim.calibrate`.
    """
    from ..scenario.schedules import Pulse

    table = as_observation_table(observations)
    model = ObservationModel.build(table, background)
    out = []
    for host in scenario.hosts:
        used = [o for o, c in zip(model.observations, model.constraints) if o.host == host and c.weight > 0]
        for o in used:
            out += [f"{name}[{host}]" for name in ECONOMIC_FIT.get(o.quantity, ()) if f"{name}[{host}]" not in out]
        n = sum(1 for o in used if o.quantity not in ECONOMIC_FIT and o.quantity not in ECONOMIC_COUNTS)
        if n < min_observations:
            continue
        pulses = [s for s in scenario.arrivals.get(host, ()) if isinstance(s, Pulse)]
        if len(pulses) == 1 and pulses[0].total > 0:
            out += [f"pulse.total[{host}]", f"pulse.scale_days[{host}]"]
        out.append(f"tau_T[{host}]")
        for o in used:
            out += [f"{name}[{host}]" for name in SETTLED_FIT.get(o.quantity, ()) if f"{name}[{host}]" not in out]
    levels = model.background.levels()
    for i, lv in enumerate(levels):
        if lv.host not in scenario.hosts:
            continue
        later = [o.start for o in levels[i + 1:] if o.host == lv.host and o.direction == lv.direction]
        end = min(later) if later else _dt.date.max
        if any(o.host == lv.host and q.gross and o.date_start < end and o.date_end >= lv.start
               for o, q in zip(model.observations, model.quantities)):
            out.append(lv.name)
    if not out:
        raise CalibrationError(
            f"no parameter to fit by default: no host of scenario {scenario.name!r} has {min_observations} "
            "observations; name the parameters (--params)."
        )
    return out
