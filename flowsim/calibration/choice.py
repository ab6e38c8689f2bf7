"""What a fit fits by default: the parameters the observations can inform, and their priors.

:func:`default_fit_parameters` picks them from the observations (a host's
pulse and transit time, its settled stage where a figure of the settled
population exists, the economy parameters an economic figure informs, the
background levels), :func:`default_priors` gives the ones that need a prior
their sourced range. :func:`flowsim.calibrate` (``params=None``),
:func:`flowsim.calibration.validate`, :func:`flowsim.calibration.backtest` and
the command line use them.
"""

from __future__ import annotations

import datetime as _dt

from ..analysis.background import BackgroundTraffic
from ..analysis.constraints import ObservationModel
from ..datasets import ObservationTable, as_observation_table
from ..exceptions import CalibrationError
from ..hosts import REFERENCE_HOSTS
from ..scenario.defaults import reference_parameters
from ..scenario.free_parameters import Label
from ..scenario.schedules import Pulse
from ..scenario.specs import PARAMETER_SPECS
from .parameters import FitParameter

__all__ = ["default_fit_parameters", "default_priors", "ECONOMIC_FIT", "ECONOMIC_COUNTS", "SETTLED_FIT",
           "SETTLED_FIXED"]


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
    if fp.host in REFERENCE_HOSTS:
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
    table = as_observation_table(observations)
    model = ObservationModel.build(table, background)
    out = []
    for host in scenario.hosts:
        used = [o for o, c in zip(model.observations, model.constraints) if o.host == host and c.weight > 0]
        for o in used:
            labels = (str(Label(name, host)) for name in ECONOMIC_FIT.get(o.quantity, ()))
            out += [lab for lab in labels if lab not in out]
        n = sum(1 for o in used if o.quantity not in ECONOMIC_FIT and o.quantity not in ECONOMIC_COUNTS)
        if n < min_observations:
            continue
        pulses = [s for s in scenario.arrivals.get(host, ()) if isinstance(s, Pulse)]
        if len(pulses) == 1 and pulses[0].total > 0:
            out += [str(Label("pulse.total", host)), str(Label("pulse.scale_days", host))]
        out.append(str(Label("tau_T", host)))
        for o in used:
            labels = (str(Label(name, host)) for name in SETTLED_FIT.get(o.quantity, ()))
            out += [lab for lab in labels if lab not in out]
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
