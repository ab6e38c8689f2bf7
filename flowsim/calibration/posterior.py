"""A posterior sample of the fitted parameters by MCMC (``emcee``'s affine-invariant ensemble sampler).

The log-likelihood is ``-chi2 / (2 * temperature)`` with ``chi2`` the sum of
squared residuals of :class:`~flowsim.calibration.objective.Objective`: the same
relative errors, sigmas, weights and one-sided bounds as the least-squares
fit, so a bound that holds costs nothing and a violated one costs what it
costs the fit. The walkers move in the fit's transformed space (log, logit,
``log(shape - 1)``); the prior is proper and flat within each parameter's
search bounds (see :func:`sample_posterior`). All walkers of a half-ensemble
are solved as one batch (:func:`flowsim.simulate.simulate` on the walkers' value
arrays, with member arrivals when pulse fields are fitted), which is several
times faster than one run per walker.
"""

from __future__ import annotations

import functools
import logging
import math
import time

import numpy as np

from .._optional import require
from .._validation import check_seed, check_whole_number
from ..analysis.background import BackgroundTraffic
from ..analysis.constraints import ObservationModel
from ..exceptions import CalibrationError, FlowsimError
from ..scenario.scenario import Scenario, quiet_notes
from ..simulate import FULL, simulate
from ._moves import MOVES, resolve_moves, warn_biased_snooker
from .objective import FIT_SOLVER, Objective, fit_solver, problem, walker_inputs
from .parameters import ParameterVector
from .posterior_result import PosteriorSample

__all__ = ["sample_posterior", "LogPosterior", "PRIORS", "MOVES"]

#: Priors :func:`sample_posterior` knows.
PRIORS = ("log-uniform", "uniform")


def _import_emcee():
    return require("emcee", "sample_posterior needs", extra="mcmc", version=">= 3.1")


def _log_logistic(z: float) -> float:
    """``log(1 / (1 + exp(-z)))``, stable for any ``z``."""
    return -float(np.logaddexp(0.0, -z))


class LogPosterior:
    """Log-prior, log-likelihood and log-posterior in the transformed space.

    Parameters
    ----------
    vector : ParameterVector
    model : ObservationModel
    active : ndarray of bool, shape (n,)
        Observations in the likelihood (positive weight).
    solver_options : dict
        Options of the runs (``solver`` picks the solver, default ``"ivp"``).
    prior : {"log-uniform", "uniform"}
    temperature : float
        Divides ``chi2``.
    """

    def __init__(self, vector: ParameterVector, model: ObservationModel, active: np.ndarray, solver_options: dict,
                 prior: str, temperature: float):
        self.vector, self.model, self.active = vector, model, active
        options = dict(solver_options)
        self.solver = options.pop("solver", FIT_SOLVER)
        self.options = options
        self.objective = Objective(vector, model, active, dict(options, solver=self.solver))
        self.prior, self.temperature = prior, float(temperature)
        self.zlo, self.zhi = vector.z_bounds()
        self.batches = 0
        self.evaluations = 0

    # ---------------------------------------------------------------- prior
    def log_prior(self, z) -> float:
        """Log prior density of transformed values ``z`` (up to a constant); ``-inf`` outside the bounds."""
        z = np.asarray(z, float)
        if not np.all(np.isfinite(z)):
            return -math.inf
        vec = self.vector
        x = vec.to_natural(z)
        out = 0.0
        for i, p in enumerate(vec.params):
            if np.isfinite(vec.prior_sd[i]):               # a normal prior in the transformed space
                if not (self.zlo[i] <= z[i] <= self.zhi[i]):
                    return -math.inf
                out += -0.5 * ((z[i] - vec.prior_center[i]) / vec.prior_sd[i]) ** 2
                continue
            if p.transform == "logit":                     # flat on [lower, ceiling]: the logistic's Jacobian
                lo, hi = float(vec.lower[i]), vec.free.share_ceiling(i, x)
                if not hi > lo:
                    return -math.inf
                out += math.log(hi - lo) + _log_logistic(z[i]) + _log_logistic(-z[i])
                continue
            if not (self.zlo[i] <= z[i] <= self.zhi[i]) or not (vec.lower[i] <= x[i] <= vec.upper[i]):
                return -math.inf
            if p.transform == "log(x-1)" or self.prior == "uniform":
                out += float(z[i])                         # flat in x: dx/dz = exp(z) for log and log(x - 1)
        return out

    # ----------------------------------------------------------- likelihood
    def _chi2(self, residuals: np.ndarray) -> float:
        return float(residuals @ residuals)

    def log_likelihood(self, z) -> float:
        """``-chi2 / (2 T)`` at ``z`` with one run (the fit's :class:`Objective`); ``-inf`` if the model fails."""
        try:
            r = self.objective(np.asarray(z, float))
        except FlowsimError:
            return -math.inf
        return -0.5 * self._chi2(r) / self.temperature

    def __call__(self, z) -> float:
        """Log posterior of one point (``vectorize=False``)."""
        self.evaluations += 1
        lp = self.log_prior(z)
        return lp if lp == -math.inf else lp + self.log_likelihood(z)

    def batch(self, Z) -> np.ndarray:
        """Log posterior of every row of ``Z`` (walkers, p), their runs solved as one batch."""
        Z = np.atleast_2d(np.asarray(Z, float))
        self.evaluations += Z.shape[0]
        out = np.full(Z.shape[0], -math.inf)
        prior = np.array([self.log_prior(z) for z in Z])
        live = np.flatnonzero(np.isfinite(prior))
        if not live.size:
            return out
        X = np.array([self.vector.to_natural(Z[i]) for i in live])
        inputs = walker_inputs(self.vector, X)
        for members, res in self._solve(inputs, np.arange(live.size)):
            for m, j in enumerate(members):
                if res is None or not res.member_success[m]:
                    continue                               # the run failed: -inf, as outside the prior
                try:
                    pred = self.model.predict(res, member=m, background=self._background(X[j]))
                except FlowsimError:
                    continue
                r = self.model.residuals(pred)[self.active]
                out[live[j]] = prior[live[j]] - 0.5 * self._chi2(r) / self.temperature
        return out

    def _background(self, x):
        """The background traffic at natural values ``x`` (its fitted levels put in)."""
        background = self.vector.background
        for p, v in zip(self.vector.params, x):
            if p.kind == "background":
                background = background.with_level(p.name, p.host, p.period, float(v))
        return background

    def _solve(self, inputs, members):
        """Solve the walkers ``members`` (indices into ``inputs``) as one batch; yield ``(members, Result or None)``.

        The walkers' values go into the batch as arrays
        (:class:`~flowsim.simulate.MemberInputs`), not as a scenario each. A
        member that breaks docs/model.md's invariants is flagged in its result
        (``failures="flag"``) and the others keep their numbers. When the
        solver cannot finish the batch at all (a step budget spent by one
        stiff walker), the batch is split in halves and each is tried again,
        so one bad walker costs about ``2 log2(M)`` extra batches instead of
        ``M`` single runs; a single walker that still fails yields None.
        With the ``"ensemble"`` solver the step plan is made from the walkers
        themselves (``plan_from="members"``), not from reference members of
        the box they span (30-90 of them against 14 walkers).
        """
        try:
            res = simulate(inputs.select(members), FULL, solver=self.solver, solver_options=self.options,
                           failures="flag", plan_from="members")
        except FlowsimError:
            if len(members) == 1:
                yield members, None
                return
            half = len(members) // 2
            yield from self._solve(inputs, members[:half])
            yield from self._solve(inputs, members[half:])
            return
        self.batches += 1
        yield members, res


def _whole(value, what: str, low: int, high: int | None = None, why: str = "") -> int:
    return check_whole_number(value, f"sample_posterior: {what}", low, high, why=why, error=CalibrationError)


def _check_prior(vector: ParameterVector, prior: str) -> None:
    if prior not in PRIORS:
        raise CalibrationError(f"sample_posterior: prior must be one of {', '.join(PRIORS)}; got {prior!r}.")
    zlo, zhi = vector.z_bounds()
    for i, p in enumerate(vector.params):
        if p.transform == "logit":
            continue
        if not math.isfinite(vector.upper[i]):
            raise CalibrationError(f"sample_posterior: {p.label} has an infinite upper bound, so its prior would "
                                   "not be proper; give finite bounds, e.g. FitParameter.parse("
                                   f"'{p.label}', bounds=(low, high)).")
        if p.transform == "log" and prior == "log-uniform" and not math.isfinite(zlo[i]):
            raise CalibrationError(f"sample_posterior: prior 'log-uniform' needs a lower bound > 0 for {p.label}; "
                                   f"got {vector.lower[i]:g}. Give bounds with a positive lower end, or "
                                   "prior='uniform'.")


def _start_ball(logpost: LogPosterior, center_z: np.ndarray, sd: np.ndarray, n_walkers: int, rng) -> np.ndarray:
    """Walkers in a Gaussian ball around ``center_z``, each with a finite log prior."""
    p = center_z.size
    margin = 1e-6 * np.maximum(1.0, np.abs(center_z))
    center = np.clip(center_z, logpost.zlo + margin, logpost.zhi - margin)
    out = np.empty((n_walkers, p))
    for w in range(n_walkers):
        for _ in range(1000):
            z = center + sd * rng.standard_normal(p)
            if np.isfinite(logpost.log_prior(z)):
                out[w] = z
                break
        else:
            raise CalibrationError("sample_posterior: could not place the walkers inside the bounds around the "
                                   "starting point; lower start_scale.")
    return out


def _moves_warned(fn):
    """Warn about known-bad emcee moves before ``fn``'s scope that silences notes (see :func:`warn_biased_snooker`)."""
    @functools.wraps(fn)
    def wrapper(*args, moves="stretch", **kwargs):
        warn_biased_snooker(moves)
        return fn(*args, moves=moves, **kwargs)

    return wrapper


@_moves_warned
@quiet_notes()   # the scenario spoke when it was built; its variants (the fit horizon) need not
def sample_posterior(scenario_or_fit, observations=None, params=None, *, background: BackgroundTraffic | None = None,
                     weights=None, sigmas=None, n_walkers: int | None = None, n_steps: int = 500,
                     burn: int | None = None, thin: int = 1, seed: int | None = 0, progress: bool = False,
                     prior: str = "log-uniform", temperature: float = 1.0, start_scale: float = 0.1,
                     horizon_days: int | None = None, vectorize: bool = True,
                     solver_options: dict | None = None, solver: str | None = None,
                     moves="stretch") -> PosteriorSample:
    """Sample the posterior of fitted parameters with ``emcee`` (``pip install emcee``, or ``'.[mcmc]'``).

    Parameters
    ----------
    scenario_or_fit : Scenario or CalibrationResult
        A scenario (walkers start around its values), or a fit (walkers
        start in a small ball around its optimum, and ``observations``,
        ``params``, the background, weights and sigmas default to the fit's).
    observations : ObservationTable or list of Observation, optional
        As in :func:`flowsim.calibrate`; required with a scenario.
    params : sequence of str, tuple or FitParameter, optional
        What to sample (names as in :func:`flowsim.calibrate`); required with a scenario.
    background : BackgroundTraffic, optional
        As in :func:`flowsim.calibrate`.
    weights, sigmas : mapping or callable, optional
        As in :func:`flowsim.calibrate`.
    n_walkers : int, optional
        Walkers, at least what the moves need: ``2 * p`` for ``p``
        parameters with emcee's ensemble moves (stretch, differential
        evolution), and at least 4 with ``moves="de"``; default
        ``max(4 * p, 16)``.
    n_steps : int
        Steps of every walker (>= 1).
    burn : int, optional
        Steps dropped at the start, in ``[0, n_steps - 1]``; default ``n_steps // 4``.
    thin : int
        Keep every ``thin``-th step after the burn-in (>= 1).
    seed : int or None
        Seeds the starting ball and emcee's moves: the same seed gives the same chain.
    progress : bool
        emcee's progress bar (needs tqdm).
    prior : {"log-uniform", "uniform"}
        Flat within each parameter's search bounds (``FitParameter.bounds``;
        see ``docs/calibration.md`` for the defaults), in what the prior is
        flat:

        * ``"log-uniform"`` (default): flat in ``log x`` for positive
          quantities (times, rates, totals, background levels), which is
          flat in the fit's transformed space; flat in ``x`` for shares and
          the pulse shape (flat in their logit or ``log(shape - 1)`` would
          be improper: unbounded);
        * ``"uniform"``: flat in ``x`` for every parameter.

        The walkers move in the transformed space ``z``; a prior flat in
        ``x`` enters as the log-Jacobian ``log |dx/dz|``. Shares fitted
        together (``q_on`` and ``q_ret`` of one host) are flat on the
        triangle ``q_on + q_ret <= 1``.
    temperature : float
        The likelihood is ``exp(-chi2 / (2 T))``. 1 (default) takes the
        relative sigmas at face value; ``T = fit.covariance_scale`` widens
        the posterior as the least-squares intervals are widened (sigmas
        times the square root of the reduced chi-square).
    start_scale : float
        Spread of the starting ball in the transformed space: times the
        fit's standard errors there (a fit), or absolute (a scenario).
    horizon_days : int, optional
        Horizon of the runs; default up to the last observation.
    vectorize : bool
        Solve each half-ensemble of walkers as one batch (default); False
        runs one model per walker, as the fit does. The two agree to the
        solver's tolerance (log posteriors within about 1e-3), not to the
        last digit, so their chains can part after many steps; each is
        reproducible with its seed.
    solver_options : dict, optional
        Options of the runs' solver (default ``{"rtol": 1e-6}``, as in the fit).
    solver : str, optional
        Registered name of the runs' solver (default ``"ivp"``, as in the
        fit; a ``"solver"`` key in ``solver_options`` still works).
    moves : {"stretch", "de"}, emcee.moves.Move or list of (Move, weight)
        How the walkers propose their next positions:

        * ``"stretch"`` (default): emcee's affine-invariant stretch move;
        * ``"de"``: differential evolution (``emcee.moves.DEMove``) 80% of
          the steps and its snooker variant 20%, the mix emcee's
          documentation suggests for posteriors with strongly correlated
          parameters (on the Kazakhstan problem of ``docs/calibration.md``,
          whose pulse shape and scale lie on a ridge, its autocorrelation
          times are 1.6-2 times shorter than the stretch move's). The snooker move is
          :class:`flowsim.calibration.SnookerMove`: emcee 3.1.6's
          ``DESnookerMove`` samples too narrow a posterior (its projection
          is not a unit vector; fixed in emcee's main branch, unreleased),
          and passing it warns;
        * an emcee ``Move``, or a list of ``(Move, weight)`` pairs (weights
          > 0, normalised), as ``emcee.EnsembleSampler(moves=)`` takes them.

        The snooker move proposes for a quarter of the walkers at a time,
        so with ``vectorize`` its batches are half as large. The name goes
        into ``stats["moves"]``; ``seed`` reproduces the chain with any moves.

    Returns
    -------
    PosteriorSample
        The chain in natural units, log posterior, acceptance fractions,
        autocorrelation times, summaries, draws, and
        :meth:`~PosteriorSample.ensemble` to solve the draws as ensemble members.

    Raises
    ------
    CalibrationError
        Bad counts (``n_walkers``, ``n_steps``, ``burn``, ``thin``), unknown
        parameters, an unknown prior or moves, bounds that make the prior improper.
    ImportError
        When emcee is not installed.

    Examples
    --------
    >>> import flowsim
    >>> sc = flowsim.load_scenario("kazakhstan-2022")
    >>> obs = flowsim.datasets.observations_2022().filter(host="KAZ")
    >>> post = flowsim.sample_posterior(sc, obs, ["pulse.total[KAZ]", "tau_T[KAZ]"],
    ...                                 n_walkers=8, n_steps=50, seed=1)  # doctest: +SKIP
    >>> post.estimate_table()  # doctest: +SKIP
    """
    emcee = _import_emcee()
    if not isinstance(scenario_or_fit, Scenario) and not hasattr(scenario_or_fit, "observation_model"):
        raise TypeError("sample_posterior: the first argument must be a flowsim.Scenario or the "
                        f"CalibrationResult of a fit; got {type(scenario_or_fit).__name__}.")
    fit = None if isinstance(scenario_or_fit, Scenario) else scenario_or_fit     # a CalibrationResult
    if fit is not None:
        scenario = fit.initial_scenario
        params = list(fit.parameters) if params is None else params
        horizon_days = fit.horizon_days if horizon_days is None else horizon_days
        if observations is None and background is None and weights is None and sigmas is None:
            model = fit.observation_model.replace_background(fit.initial_background)
        else:
            obs = [o for o in fit.observation_model.observations] if observations is None else observations
            model = ObservationModel.build(obs, fit.initial_background if background is None else background,
                                           weights=weights, sigmas=sigmas)
    else:
        scenario = scenario_or_fit
        if observations is None or params is None:
            raise CalibrationError("sample_posterior: give the observations and the params to sample (or a "
                                   "CalibrationResult, whose they are).")
        model = ObservationModel.build(observations, background, weights=weights, sigmas=sigmas)
    vector, active, horizon_days = problem(scenario, model, params, horizon_days, what="sample_posterior: ",
                                           purpose="condition on")
    p = len(vector)
    n_walkers = max(4 * p, 16) if n_walkers is None else n_walkers
    chosen = resolve_moves(moves, p, emcee)
    n_walkers = _whole(n_walkers, "n_walkers", chosen.min_walkers, why=f" ({chosen.why})")
    n_steps = _whole(n_steps, "n_steps", 1)
    burn = n_steps // 4 if burn is None else _whole(burn, "burn", 0, n_steps - 1, why=" (steps dropped: fewer "
                                                                                      "than n_steps)")
    thin = _whole(thin, "thin", 1)
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise CalibrationError(f"sample_posterior: temperature must be a number > 0; got {temperature!r}.")
    if not (isinstance(start_scale, (int, float)) and math.isfinite(start_scale) and start_scale > 0):
        raise CalibrationError(f"sample_posterior: start_scale must be a number > 0; got {start_scale!r}.")
    _check_prior(vector, prior)
    solver, options = fit_solver(solver, solver_options, "sample_posterior")
    logpost = LogPosterior(vector, model, active, dict(options, solver=solver), prior, temperature)

    root = np.random.SeedSequence(check_seed(seed, "sample_posterior: seed", CalibrationError))
    ball_seed, move_seed = root.spawn(2)
    rng = np.random.default_rng(ball_seed)
    if fit is not None:
        center = vector.to_transformed([fit.values[lab] for lab in vector.labels])
        sd_fit = np.sqrt(np.clip(np.diag(fit.covariance_transformed), 0.0, None))
        sd = start_scale * np.where(np.isfinite(sd_fit) & (sd_fit > 0), sd_fit, 1.0)
    else:
        center = vector.to_transformed(vector.x0)
        sd = np.full(p, float(start_scale))
    t0 = time.perf_counter()
    z0 = _start_ball(logpost, center, sd, n_walkers, rng)
    lp0 = logpost.batch(z0) if vectorize else np.array([logpost(z) for z in z0])
    for _ in range(20):                                    # walkers where the model fails: draw them again
        bad = np.flatnonzero(~np.isfinite(lp0))
        if not bad.size:
            break
        z0[bad] = _start_ball(logpost, center, sd, bad.size, rng)
        lp0[bad] = logpost.batch(z0[bad]) if vectorize else np.array([logpost(z) for z in z0[bad]])
    else:
        raise CalibrationError("sample_posterior: the model fails or the likelihood is zero around the starting "
                               "point; start from a fit (fit.sample_posterior()) or lower start_scale.")
    sampler = emcee.EnsembleSampler(n_walkers, p, logpost.batch if vectorize else logpost, vectorize=vectorize,
                                    moves=chosen.emcee_moves)
    sampler.random_state = np.random.RandomState(int(move_seed.generate_state(1)[0])).get_state()
    sampler.run_mcmc(emcee.State(z0, log_prob=lp0), n_steps, progress=progress)
    seconds = time.perf_counter() - t0
    chain_z = sampler.get_chain()                          # (steps, walkers, p)
    chain_x = np.apply_along_axis(vector.to_natural, -1, chain_z)
    emcee_log = logging.getLogger("emcee.autocorr")
    level = emcee_log.level
    emcee_log.setLevel(logging.ERROR)                      # the report says how long the chain is against tau
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            tau = np.asarray(sampler.get_autocorr_time(discard=burn, quiet=True), float)
    except Exception:                                      # noqa: BLE001 - too short a chain: emcee's own errors
        tau = np.full(p, np.nan)
    finally:
        emcee_log.setLevel(level)
    return PosteriorSample(
        scenario=scenario, calibration=fit, vector=vector, observation_model=model,
        chain=chain_x, chain_transformed=chain_z, log_prob=sampler.get_log_prob(),
        acceptance_fraction=np.asarray(sampler.acceptance_fraction, float), autocorr_time=tau,
        burn=burn, thin=thin, seed=root.entropy, prior=prior, temperature=float(temperature),
        stats={"seconds": seconds, "evaluations": logpost.evaluations, "batch_runs": logpost.batches,
               "single_runs": logpost.objective.runs,
               "vectorize": bool(vectorize), "solver": logpost.solver, "solver_options": logpost.options,
               "moves": chosen.name,
               "horizon_days": int(horizon_days)},
    )
