"""Fitting model parameters to published figures with ``scipy.optimize.least_squares``."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._validation import check_seed
from ..analysis.background import BackgroundTraffic
from ..analysis.constraints import ObservationModel
from ..analysis.goodness import mape_and_ard
from ..exceptions import CalibrationError
from ..scenario.scenario import quiet_notes
from ..table import Table
from .calibration_result import CalibrationResult, Estimate, StartOutcome, residual_rows
from .choice import default_fit_parameters, default_priors
from .objective import Objective, fit_solver, problem
from .parameters import ParameterVector, with_priors

__all__ = ["calibrate", "Z95"]

#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054

#: Relative step of the final central-difference Jacobian in the transformed space.
JAC_STEP = 1e-3

#: Tolerances of ``least_squares`` (relative changes of cost and parameters, scaled gradient).
LEAST_SQUARES_DEFAULTS = {"ftol": 1e-7, "xtol": 1e-7, "gtol": 1e-7}

#: Singular values of the Jacobian below ``RCOND`` times the largest count as zero: the
#: directions they span are not determined by the observations (finite differences of
#: solver output leave about 1e-9 relative in a truly flat direction).
RCOND = 1e-7


def _jacobian(objective: Objective, z: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Central differences (one-sided at a bound) of the active residuals, shape (m, p)."""
    cols = []
    for i in range(z.size):
        h = JAC_STEP * max(1.0, abs(z[i]))
        up, down = z.copy(), z.copy()
        up[i] = min(z[i] + h, hi[i])
        down[i] = max(z[i] - h, lo[i])
        if up[i] == down[i]:
            cols.append(np.zeros(int(objective.active.sum()) + int(np.isfinite(objective.vector.prior_sd).sum())))
            continue
        cols.append((objective(up) - objective(down)) / (up[i] - down[i]))
    return np.column_stack(cols)


def _covariance(J: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``scale * (J^T J)^-1`` by SVD, and which parameters it determines.

    A parameter is determined when it has no component along any flat
    direction of ``J``: the right singular vectors of singular values below
    ``RCOND`` times the largest, and, with fewer residuals than parameters,
    the directions ``J`` does not see at all (a figure that informs one
    parameter alone still determines it).
    """
    p = J.shape[1]
    if J.size == 0:
        return np.full((p, p), np.inf), np.zeros(p, bool)
    _, s, vt = np.linalg.svd(J, full_matrices=True)
    s = np.concatenate([s, np.zeros(p - s.size)])                  # vt is (p, p): the unseen directions too
    keep = s > RCOND * s[0] if s[0] > 0 else np.zeros(p, bool)
    inv = (vt[keep].T / s[keep] ** 2) @ vt[keep]
    identified = np.ones(p, bool)
    for k in np.flatnonzero(~keep):
        identified &= np.abs(vt[k]) < 1e-3
    cov = scale * inv
    cov[~identified, :] = np.inf
    cov[:, ~identified] = np.inf
    return cov, identified


def data_shares(J: np.ndarray, reference_sd: np.ndarray, determined: np.ndarray) -> np.ndarray:
    """How much of each parameter's uncertainty the data remove, 0..1: the one identification measure.

    ``1 - var_post / var_ref`` in the transformed space, with ``var_post``
    the diagonal of ``(J^T J)^-1`` (data rows and prior rows of the
    Jacobian together, before the covariance scale) and ``var_ref =
    sd^2`` the reference: the prior where there is one, otherwise a 95%
    interval spanning a factor of 100 in the fitted scale
    (:meth:`ParameterVector.reference`). Near 0: the data leave the
    parameter as uncertain as the reference (the estimate is the prior's,
    or values two orders of magnitude apart fit about as well: *weakly
    identified* below :data:`~flowsim.calibration.calibration_result.WEAKLY_IDENTIFIED`);
    near 1: the data alone pin it down. A parameter along a flat direction
    (``determined`` False) gets 0; one with no finite reference 1 when
    determined.

    Parameters
    ----------
    J : ndarray, shape (n_data + n_priors, p)
        Jacobian of the residuals (data, then one row per prior) in the
        transformed space.
    reference_sd : ndarray, shape (p,)
        Reference standard deviations in the transformed space (``inf``: none).
    determined : ndarray of bool, shape (p,)
        Parameters with no component along a flat direction of ``J``.
    """
    out = np.where(determined, 1.0, 0.0)
    finite = np.isfinite(reference_sd)
    idx = np.flatnonzero(determined)
    if idx.size and finite.any():
        var_post = np.diag(np.linalg.pinv(J[:, idx].T @ J[:, idx]))
        full = np.full(J.shape[1], np.nan)
        full[idx] = var_post
        with np.errstate(invalid="ignore"):
            share = 1.0 - full / np.where(finite, reference_sd, 1.0) ** 2
        out = np.where(finite & determined, np.clip(share, 0.0, 1.0), out)
    return out


@quiet_notes()   # the scenario spoke when it was built; its variants (the fit horizon) need not
def calibrate(scenario, observations, params=None, *, background: BackgroundTraffic | None = None, weights=None,
              sigmas=None, starts: int = 4, seed: int | None = 0, horizon_days: int | None = None,
              scale_covar: bool = True, max_nfev: int | None = None, diff_step: float = 1e-3,
              solver_options: dict | None = None, least_squares_options: dict | None = None,
              priors=None, solver: str | None = None) -> CalibrationResult:
    """Fit parameters of a scenario to observed figures.

    Minimises the sum of squared residuals of the observations (relative
    errors divided by their relative sigma, one-sided for bounds, times
    ``sqrt(weight)``; see :mod:`flowsim.analysis.constraints`) with
    :func:`scipy.optimize.least_squares` (``trf``, box bounds) in a
    transformed space: log for positive quantities, logit for shares. The
    search runs from the scenario's values and from ``starts - 1`` random
    points drawn (seeded) from each parameter's plausible range; the best end
    point wins.

    Parameters
    ----------
    scenario : Scenario
        Starting values, arrivals and everything that is not fitted.
    observations : ObservationTable or list of Observation
        The figures to fit (e.g. ``flowsim.datasets.observations_2022().filter(host="KAZ")``).
        Observations of weight 0 are predicted but not fitted.
    params : sequence of str, tuple or FitParameter, optional
        What to fit: ``"tau_T[KAZ]"``, ``"q_ret"`` (one value for every host),
        ``"pulse.total[KAZ]"``, ``"pulse.scale_days[KAZ]"``,
        ``"background[KAZ@2022-10-01]"``... (see
        :mod:`flowsim.calibration.parameters`). Default (None): what
        ``flowsim calibrate`` fits,
        :func:`~flowsim.calibration.default_fit_parameters` of the
        observations, with :func:`~flowsim.calibration.default_priors`
        unless ``priors`` is given.
    background : BackgroundTraffic, optional
        Ordinary traffic added to gross border counts; default
        :meth:`BackgroundTraffic.from_observations` (levels from the
        ``baseline_daily_entries`` figures, a second level from 1 October
        2022).
    weights, sigmas : mapping or callable, optional
        Per-observation weight or relative sigma (by index or label), over
        the defaults.
    starts : int
        Number of starting points (>= 1); the first is the scenario's values.
    seed : int or None
        Seed of the random starts.
    horizon_days : int, optional
        Horizon of the runs while fitting; default: up to the last window's
        end, which keeps each run short.
    scale_covar : bool
        Scale the covariance by the reduced chi-square (default True).
    max_nfev : int, optional
        Limit of residual evaluations per start (default ``100 * p``).
    diff_step : float
        Relative finite-difference step in the transformed space for the
        search's Jacobian.
    solver_options : dict, optional
        Options of the runs' solver, over the fit's default ``{"rtol": 1e-6}``
        (solver noise stays far below the finite-difference steps, and each
        run is faster than a plain run's ``1e-8``). ``validate`` re-runs the
        fitted scenario with the same solver and options.
    least_squares_options : dict, optional
        Passed to :func:`scipy.optimize.least_squares` over the defaults
        ``ftol = xtol = gtol = 1e-7``, e.g. ``{"loss": "soft_l1"}`` for a
        fit less pulled by conflicting figures.
    solver : str, optional
        Registered name of the runs' solver (default ``"ivp"``, as
        :func:`flowsim.run`; see :func:`flowsim.simulate.simulate`).
    priors : None, "ranges" or mapping, optional
        Normal priors in the transformed space, each given as a 95% interval
        in natural units: ``{"c_S[GEO]": (15, 60)}``, ``{"c_S[GEO]": "range"}``
        (its plausible range in the scenario), or ``"ranges"`` for every
        fitted model parameter. The fit then minimises the data's chi-square
        plus the priors' (a maximum a posteriori estimate); ``chi2`` counts
        the data only, and each estimate says whether the data alone
        determine it (``identified``) or only the prior does.

    Returns
    -------
    CalibrationResult
        Fitted scenario and background, estimates with 95% intervals,
        residuals per observation, chi-square, MAPE, the averaged relative
        difference, convergence of every start, and ``plot()``.

    Raises
    ------
    CalibrationError
        Unfittable parameters, no observation with a positive weight,
        observations of hosts not in the scenario, a model failure.

    Examples
    --------
    >>> import flowsim
    >>> sc = flowsim.load_scenario("kazakhstan-2022")
    >>> obs = flowsim.datasets.observations_2022().filter(host="KAZ")
    >>> fit = flowsim.calibrate(sc, obs, ["pulse.total[KAZ]", "tau_T[KAZ]"], starts=1)  # doctest: +SKIP
    >>> fit.estimate("tau_T[KAZ]").ci_low  # doctest: +SKIP
    """
    if isinstance(starts, bool) or not isinstance(starts, int) or starts < 1:
        raise CalibrationError(f"starts must be a whole number >= 1; got {starts!r}.")
    model = ObservationModel.build(observations, background, weights=weights, sigmas=sigmas)
    if params is None:
        params = default_fit_parameters(scenario, model.observations, model.background)
        if priors is None:
            priors = default_priors(params) or None
    elif isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise CalibrationError(f"calibrate: params must be a list of parameter names such as ['tau_T[KAZ]', "
                               f"'pulse.total[KAZ]'] (or None for the default choice); got {params!r}.")
    params = with_priors(params, priors, scenario)
    vector, active, horizon_days = problem(scenario, model, params, horizon_days, what="", purpose="fit")
    solver, options = fit_solver(solver, solver_options)
    objective = Objective(vector, model, active, dict(options, solver=solver))
    from scipy.optimize import least_squares  # imported on first use (0.2 s)

    ls_options = dict(LEAST_SQUARES_DEFAULTS, **(least_squares_options or {}))
    zlo, zhi = vector.z_bounds()
    z_init = np.clip(vector.to_transformed(vector.x0), zlo, zhi)
    rng = np.random.default_rng(check_seed(seed, "calibrate: seed", CalibrationError))
    z_starts = [z_init]
    for _ in range(starts - 1):
        z_starts.append(np.clip(vector.to_transformed(vector.draw_start(rng)), zlo, zhi))
    outcomes, best = [], None
    for z0 in z_starts:
        sol = least_squares(objective, z0, bounds=(zlo, zhi), method="trf", x_scale=1.0, diff_step=diff_step,
                            max_nfev=max_nfev or 100 * len(vector), **ls_options)
        outcomes.append(StartOutcome(
            start=dict(zip(vector.labels, vector.to_natural(z0).tolist())),
            end=dict(zip(vector.labels, vector.to_natural(sol.x).tolist())),
            cost=float(sol.cost), success=bool(sol.status > 0), status=int(sol.status), message=str(sol.message),
            nfev=int(sol.nfev),
        ))
        if best is None or sol.cost < best.cost:
            best = sol
    z = best.x
    x = vector.to_natural(z)
    J = _jacobian(objective, z, zlo, zhi)
    r = objective.data_residuals(z)
    chi2 = float(r @ r)
    dof = int(active.sum()) - len(vector)
    scale = chi2 / dof if scale_covar and dof > 0 else 1.0
    n_data = int(active.sum())
    cov_z, determined = _covariance(J, scale)            # by the data and the priors
    identified = _covariance(J[:n_data], scale)[1] if vector.has_priors else determined   # by the data alone
    estimates, cov_x = _estimates(vector, z, x, cov_z, determined, zlo, zhi)
    estimates = [dataclasses.replace(e, identified=bool(ok)) for e, ok in zip(estimates, identified)]
    reference_sd, reference = vector.reference()
    share = data_shares(J, reference_sd, determined)
    estimates = [dataclasses.replace(e, prior=vector.prior_text(i), data_share=float(share[i]),
                                     reference=reference[i]) for i, e in enumerate(estimates)]
    fitted_eval, fitted_bg = vector.apply(x)
    fitted_result = objective.result_for(x)[0]
    predictions = model.predict(fitted_result, background=fitted_bg)
    initial_result = objective.result_for(vector.x0)[0]
    initial = model.predict(initial_result, background=model.background)
    final_model = model.replace_background(fitted_bg)
    rows = residual_rows(final_model, predictions, initial, active)
    mape, ard = mape_and_ard(final_model, predictions, active)
    return CalibrationResult(
        scenario=fitted_eval.replace(horizon_days=scenario.horizon_days),
        background=fitted_bg,
        initial_scenario=scenario,
        initial_background=model.background,
        parameters=vector.params,
        estimates=tuple(estimates),
        covariance=cov_x,
        covariance_transformed=cov_z,
        residuals=Table(rows, title="observations against the fitted model",
                              display=("host", "quantity", "date_start", "date_end", "constraint", "weight",
                                       "initial", "predicted", "relative_error", "in_fit")),
        chi2=chi2, dof=dof, covariance_scale=scale,
        mape=mape, ard=ard,
        success=bool(best.status > 0), message=str(best.message),
        nfev=objective.evaluations, starts=tuple(outcomes), horizon_days=int(horizon_days),
        fitted_result=fitted_result, initial_result=initial_result, observation_model=final_model,
    )


def _estimates(vector: ParameterVector, z, x, cov_z, identified, zlo, zhi):
    """Estimates with delta-method standard errors and back-transformed 95% intervals."""
    p = len(vector)
    G = np.empty((p, p))       # dx/dz, numerically (no model runs)
    for j in range(p):
        h = 1e-6 * max(1.0, abs(z[j]))
        up, down = z.copy(), z.copy()
        up[j] += h
        down[j] -= h
        G[:, j] = (vector.to_natural(up) - vector.to_natural(down)) / (2 * h)
    finite = np.isfinite(cov_z).all()
    cov_x = G @ cov_z @ G.T if finite else _partial_cov(G, cov_z, identified)
    out = []
    for i, param in enumerate(vector.params):
        se_z = math.sqrt(cov_z[i, i]) if np.isfinite(cov_z[i, i]) and cov_z[i, i] >= 0 else math.inf
        ends = [float(vector.lower[i]), float(vector.upper[i])]   # undetermined: the search bounds
        if math.isfinite(se_z):
            ends = []
            for sign in (-1.0, 1.0):
                zz = z.copy()
                zz[i] = min(max(z[i] + sign * Z95 * se_z, -700.0), 700.0)
                ends.append(float(vector.to_natural(zz)[i]))
        var_x = cov_x[i, i]
        span = float(vector.upper[i] - vector.lower[i]) if math.isfinite(vector.upper[i]) else abs(x[i])
        at_bound = bool(abs(z[i] - zlo[i]) < 1e-6 or abs(z[i] - zhi[i]) < 1e-6
                        or abs(x[i] - vector.lower[i]) <= 1e-6 * span or abs(x[i] - vector.upper[i]) <= 1e-6 * span)
        out.append(Estimate(
            name=param.label, unit=param.unit, value=float(x[i]), initial=float(vector.x0[i]),
            se=math.sqrt(var_x) if np.isfinite(var_x) and var_x >= 0 else math.inf,
            ci_low=min(ends), ci_high=max(ends), lower=float(vector.lower[i]), upper=float(vector.upper[i]),
            transform=param.transform, at_bound=at_bound, identified=bool(identified[i]),
        ))
    return out, cov_x


def _partial_cov(G, cov_z, identified):
    """Delta method on the identified block; ``inf`` for the rest."""
    p = G.shape[0]
    out = np.full((p, p), np.inf)
    idx = np.flatnonzero(identified)
    if idx.size:
        sub = G[np.ix_(idx, idx)] @ cov_z[np.ix_(idx, idx)] @ G[np.ix_(idx, idx)].T
        out[np.ix_(idx, idx)] = sub
    return out
