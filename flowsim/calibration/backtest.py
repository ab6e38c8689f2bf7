"""Backtests that score themselves: fit up to a date, sample the posterior, forecast and score the later figures.

:func:`backtest` fits a scenario on the figures whose window ends by a date,
draws the posterior of the fitted parameters (MCMC with emcee, or the
Laplace approximation of the fit), solves the draws as an ensemble, and
scores every later figure against the ensemble's predictive distribution:
whether it falls inside the central 50% and 90% bands, its CRPS, and the
relative error of the median. How bounds and ranges are scored is in
:mod:`flowsim.analysis.scores`; ``docs/calibration.md`` ("Backtests") shows
the Kazakhstan backtests.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._validation import check_seed, check_whole_number, to_date
from ..analysis.background import BackgroundTraffic
from ..analysis.constraints import ObservationModel
from ..analysis.scores import BAND_LEVELS, central_band, covers, crps_interval, noisy_ensemble
from ..datasets import as_observation_table
from ..exceptions import CalibrationError, FlowsimError
from ..runner import run
from ..table import Table
from .choice import default_fit_parameters, default_priors
from .figure_rows import FigureRow
from .fit import calibrate, problem
from .objective import SOLVER_DEFAULTS
from .posterior_result import PosteriorSample
from .validation import _by_label

__all__ = ["backtest", "BacktestResult", "ScoreRow", "CoverageRow", "SCORE_COLUMNS", "COVERAGE_COLUMNS",
           "METHODS", "laplace_sample",
           "member_predictions", "score_figure", "coverage_table", "needed_series"]

#: How the posterior is drawn: ``mcmc`` (emcee) or ``laplace`` (a normal around the fit in its transformed space).
METHODS = ("mcmc", "laplace")

#: Quantiles of the predictive ensemble kept for every figure.
_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True, kw_only=True)
class ScoreRow(FigureRow):
    """One held-out figure against the predictive ensemble: the figure's fields (:class:`FigureRow`) and these.

    ``low``/``high`` are the set the figure accepts; ``sigma`` the relative
    standard deviation of the figure's error added to every member (0
    without noise); ``relative_error`` the median's distance outside the
    accepted set relative to the figure (signed; 0 inside a bound or range).

    Attributes
    ----------
    q05, q25, median, q75, q95 : float
        Quantiles of the predictive ensemble, the figure's unit.
    in_50, in_90 : bool
        The central 50% / 90% band overlaps the accepted set (for a point:
        the figure is inside the band).
    crps : float
        Threshold-weighted CRPS, the figure's unit (the CRPS for a point).
    crps_relative : float
        ``crps`` divided by the figure (its value, or the bound nearest the median).
    pit : float
        A point: share of members below the figure (NaN otherwise).
    p_accepted : float
        A bound or range: share of members inside the accepted set (NaN for a point).
    """

    #: Columns of ``scores.csv``, in order.
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "host", "quantity", "date_start", "date_end", "observed", "low", "high", "qualifier", "constraint", "kind",
        "sigma", "weight", "q05", "q25", "median", "q75", "q95", "in_50", "in_90", "crps", "crps_relative",
        "relative_error", "pit", "p_accepted", "line")

    q05: float
    q25: float
    median: float
    q75: float
    q95: float
    in_50: bool
    in_90: bool
    crps: float
    crps_relative: float
    pit: float
    p_accepted: float


#: Columns of ``scores.csv``, in order.
SCORE_COLUMNS = ScoreRow.COLUMNS


@dataclass(frozen=True)
class CoverageRow:
    """Observed against nominal coverage of a group of held-out figures.

    ``host`` and ``quantity`` are ``"all"`` in the totals; ``kinds`` says
    which kinds of figures the row counts (``point``, ``bound/range`` or
    ``all``). ``expected_low`` .. ``expected_high`` is the central 95% range
    of the observed coverage of ``figures`` independent figures under a
    calibrated forecast (binomial); for bounds and ranges a calibrated
    forecast covers at least the nominal share (see
    :mod:`flowsim.analysis.scores`), so only a coverage below the range is
    a sign of a miss there.
    """

    host: str
    quantity: str
    kinds: str
    nominal: float
    figures: int
    covered: int
    observed: float
    expected_low: float
    expected_high: float
    mean_crps_relative: float


#: Columns of ``coverage.csv``, in order.
COVERAGE_COLUMNS = tuple(CoverageRow.__dataclass_fields__)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Outcome of :func:`flowsim.backtest`.

    Attributes
    ----------
    scenario : Scenario
        The scenario backtested (before fitting).
    until : datetime.date
        Figures whose window ends on or before it were fitted; the later ones are scored.
    calibration : CalibrationResult
        The fit on the figures up to ``until``.
    posterior : PosteriorSample
        The posterior sample the members were drawn from (an MCMC chain, or
        Laplace draws: ``method``).
    ensemble : EnsembleResult
        The members solved, up to the last figure (or ``horizon_days``).
    observation_model : ObservationModel
        Every figure (fitted and held out) with its constraint.
    in_sample : ndarray of bool, shape (m,)
        Which figures were fitted (window ending by ``until``).
    draws : ndarray, shape (n, p)
        Each member's posterior draw, natural units (columns: ``posterior.labels``).
    predictions : ndarray, shape (n, m)
        Each member's model value of every figure.
    predictive : ndarray, shape (n, m)
        The same with each figure's error added (``predictions`` when ``noise`` is False).
    scores : Table
        Of :class:`ScoreRow`, one per held-out figure, in file order.
    coverage : Table
        Of :class:`CoverageRow`: per host and quantity, per host, and in total.
    method : str
        ``mcmc`` or ``laplace``.
    noise : bool
        Whether the figures' errors were added to the members.
    temperature : float
        The likelihood's temperature (its sigmas times ``sqrt(temperature)``).
    stats : dict
        Seconds per stage (``fit``, ``posterior``, ``ensemble``, ``scores``,
        ``total``), members, walkers, steps, the chain's longest
        autocorrelation time.
    """

    scenario: object
    until: _dt.date
    calibration: object
    posterior: object
    ensemble: object
    observation_model: object
    in_sample: np.ndarray
    draws: np.ndarray
    predictions: np.ndarray
    predictive: np.ndarray
    scores: Table
    coverage: Table
    method: str
    noise: bool
    temperature: float
    stats: dict = field(default_factory=dict)

    @property
    def n_held_out(self) -> int:
        return len(self.scores)

    @property
    def n_members(self) -> int:
        return int(self.predictions.shape[0])

    def coverage_of(self, level: float, kinds: str = "all") -> float:
        """Observed coverage of the central ``level`` band over all held-out figures (of ``kinds``)."""
        for r in self.coverage:
            if r.host == "all" and r.quantity == "all" and r.kinds == kinds and math.isclose(r.nominal, level):
                return r.observed
        raise CalibrationError(f"coverage_of: no total row for level {level!r} and kinds {kinds!r}; levels "
                               f"{', '.join(f'{x:g}' for x in BAND_LEVELS)}, kinds all, point, bound/range.")

    @property
    def mean_crps_relative(self) -> float:
        """Mean relative CRPS over the held-out figures."""
        return float(np.mean([r.crps_relative for r in self.scores])) if len(self.scores) else float("nan")

    def quantiles(self, q=_QUANTILES) -> np.ndarray:
        """Quantiles of the predictive ensemble of every figure (fitted ones too), shape (len(q), m)."""
        return np.quantile(self.predictive, q, axis=0)

    def plot(self, fig=None, **kwargs):
        """Each held-out figure against its 50% and 90% bands. See :func:`flowsim.plotting.plot_backtest`."""
        from ..plotting.backtest import plot_backtest

        return plot_backtest(self, fig=fig, **kwargs)

    def to_dataframe(self, which: str = "scores"):
        """``"scores"`` or ``"coverage"`` as a pandas DataFrame (needs pandas)."""
        if which == "scores":
            return self.scores.to_dataframe()
        if which == "coverage":
            return self.coverage.to_dataframe()
        raise CalibrationError(f"to_dataframe: which must be 'scores' or 'coverage'; got {which!r}.")

    def __repr__(self) -> str:
        from ._reprs import backtest_text

        return backtest_text(self)

    def _repr_html_(self) -> str:
        from ._reprs import backtest_html

        return backtest_html(self)


# ------------------------------------------------------------------------------------ the posterior
def laplace_sample(fit, n: int, *, seed=0, temperature: float = 1.0, proposals: int | None = None,
                   inflate: float = 2.0, rounds: int = 8) -> PosteriorSample:
    """``n`` posterior draws from the fit's Laplace approximation, reweighted by the posterior itself.

    Sampling-importance-resampling (Rubin 1988) with the Laplace
    approximation as the proposal:

    1. ``proposals`` points from a normal in the fit's transformed space
       (log, logit...) centred on the optimum with covariance
       ``inflate * temperature * (J^T J)^-1`` (the fit's covariance without
       the reduced chi-square scaling, widened so its tails cover the
       posterior's), but no wider than a quarter of each parameter's
       plausible range. Parameters the figures and priors leave undetermined are
       proposed uniformly, in the transformed space, over their plausible
       range (the random starts' range).
    2. The log posterior of every proposal (the likelihood of
       :func:`flowsim.sample_posterior` at the same temperature, its
       log-uniform prior), all runs solved as one batch. Proposals outside
       the bounds get weight 0.
    3. While the weights' effective sample size is below ``n / 4``, the
       next proposal is a normal with the weighted mean and (``inflate``
       times) the weighted covariance of the last one (adaptive importance
       sampling; the covariance shrinks by 10 instead while too few
       proposals carry the weight), up to ``rounds`` rounds or until two
       rounds in turn do no better than the best.
    4. ``n`` draws resampled, from the round with the largest effective
       sample size, with probability proportional to ``posterior / proposal``.

    The normal alone misses what the figures' bounds and ranges say where
    they hold (their residual is flat inside the set they accept, so they do
    not enter ``J``); the reweighting puts it back. The sample is only as good
    as the proposal covers the posterior: ``stats["ess"]``, the effective
    sample size of the weights (Kish), says how many independent draws the
    ``n`` are worth; with an ESS of a few tens use ``method="mcmc"``.

    Parameters
    ----------
    fit : CalibrationResult
    n : int
        Draws returned (>= 1).
    seed : int or None
    temperature : float
        Likelihood temperature (> 0).
    proposals : int, optional
        Proposals drawn and weighed (default ``4 n``, at least 200).
    inflate : float
        Variance of the proposal relative to the Laplace approximation (>= 1).
    rounds : int
        Most rounds of proposals (>= 1; each solves ``proposals`` runs).

    Returns
    -------
    PosteriorSample
        One walker holding the ``n`` draws; ``stats`` has ``ess``,
        ``ess_by_round``, ``proposals`` and ``undetermined``. Acceptance fractions and
        autocorrelation times are NaN.
    """
    from .posterior import LogPosterior

    n = check_whole_number(n, "laplace_sample: n", 1, error=CalibrationError)
    proposals = max(4 * n, 200) if proposals is None else check_whole_number(
        proposals, "laplace_sample: proposals", 1, error=CalibrationError)
    rounds = check_whole_number(rounds, "laplace_sample: rounds", 1, error=CalibrationError)
    if not (isinstance(inflate, (int, float)) and math.isfinite(inflate) and inflate >= 1):
        raise CalibrationError(f"laplace_sample: inflate must be a number >= 1; got {inflate!r}.")
    t0 = time.perf_counter()
    model = fit.observation_model.replace_background(fit.initial_background)
    vector, active, horizon = problem(fit.initial_scenario, model, list(fit.parameters), fit.horizon_days,
                                      what="laplace_sample: ", purpose="condition on")
    root = np.random.SeedSequence(check_seed(seed, "laplace_sample: seed", CalibrationError))
    rng = np.random.default_rng(root)
    p = len(vector)
    center = vector.to_transformed([fit.values[lab] for lab in vector.labels])
    cov = np.asarray(fit.covariance_transformed, float) * float(temperature) / fit.covariance_scale
    known = np.array([np.isfinite(cov[i, i]) and cov[i, i] > 0 for i in range(p)])
    starts = vector.start_ranges()
    width = np.empty(p)                                    # of the plausible range, transformed space
    spans = []
    for i in range(p):
        x0 = np.array(vector.x0, float)
        ends = []
        for end in starts[i]:
            x0[i] = end
            ends.append(vector.to_transformed(x0)[i])
        width[i] = max(ends) - min(ends)
        if not known[i]:
            spans.append((i, min(ends), max(ends)))
    logpost = LogPosterior(vector, model, active, dict(SOLVER_DEFAULTS), "log-uniform", float(temperature))
    idx = np.flatnonzero(known)
    mean = center[idx]
    block = float(inflate) * cov[np.ix_(idx, idx)]
    if idx.size:                                           # no wider than a quarter of the plausible range
        sd = np.sqrt(np.diag(block))
        cap = np.where(width[idx] > 0, width[idx] / 4.0, sd)
        f = np.minimum(1.0, cap / np.where(sd > 0, sd, 1.0))
        block = block * np.outer(f, f)
    history, best = [], None
    for round_ in range(rounds):
        z, log_q = _propose(rng, center, idx, mean, block, spans, proposals)
        log_p = logpost.batch(z)
        log_w = log_p - log_q
        ok = np.isfinite(log_w)
        if not ok.any():
            raise CalibrationError("laplace_sample: every proposal lies outside the bounds or the model failed "
                                   "on it; use method='mcmc'.")
        weights = np.where(ok, np.exp(log_w - np.max(log_w[ok])), 0.0)
        weights /= weights.sum()
        ess = float(1.0 / np.sum(weights**2))
        history.append(ess)
        if best is None or ess > best[0]:
            best, best_round = (ess, z, weights, log_p), round_
        if ess >= min(n, proposals) / 4 or round_ - best_round >= 2 or not idx.size:
            break
        # adapt: the next proposal from the weighted sample (shrunk around its mean while it is too small)
        zk = z[:, idx]
        mean = weights @ zk
        if ess >= 5 * (idx.size + 1):
            d = zk - mean
            block = float(inflate) * (d.T * weights) @ d
        else:
            block = block / 10.0
    ess, z, weights, log_p = best                        # the round whose weights are the most even
    pick = rng.choice(proposals, size=n, replace=True, p=weights)
    z = z[pick]
    x = np.apply_along_axis(vector.to_natural, 1, z)
    return PosteriorSample(
        scenario=fit.initial_scenario, calibration=fit, vector=vector, observation_model=model,
        chain=x[:, None, :], chain_transformed=z[:, None, :], log_prob=log_p[pick][:, None],
        acceptance_fraction=np.full(1, np.nan), autocorr_time=np.full(p, np.nan), burn=0, thin=1,
        seed=root.entropy, prior="log-uniform", temperature=float(temperature),
        stats={"seconds": time.perf_counter() - t0, "method": "laplace", "horizon_days": int(horizon),
               "proposals": int(proposals), "ess": ess, "ess_by_round": history, "inflate": float(inflate),
               "undetermined": [vector.labels[i] for i in np.flatnonzero(~known)]},
    )


def _propose(rng, center, idx, mean, block, spans, size):
    """Proposals in the transformed space and their log density (up to a constant).

    A normal ``N(mean, block)`` over the parameters ``idx``, the rest of
    ``center`` fixed except the ``spans`` ``(i, low, high)`` drawn uniformly.
    """
    z = np.tile(center, (size, 1))
    log_q = np.zeros(size)
    if idx.size:
        block = 0.5 * (block + block.T)
        w, v = np.linalg.eigh(block)
        w = np.clip(w, 1e-300, None)
        e = rng.standard_normal((size, idx.size))
        z[:, idx] = mean + (e * np.sqrt(w)) @ v.T
        log_q = -0.5 * np.sum(e**2, axis=1) - 0.5 * float(np.sum(np.log(w)))
    for i, low, high in spans:
        z[:, i] = rng.uniform(low, high, size)
    return z, log_q


# ------------------------------------------------------------------------------------ predictions
class _Probe:
    """A run that records which series the observation quantities read."""

    def __init__(self, result):
        self._result = result
        self.names: set = set()

    def series(self, variable, host=None, member=0):
        self.names.add(variable)
        return self._result.series(variable, host, member)

    def __getattr__(self, name):
        return getattr(self._result, name)


class _LazyParams:
    """``params[member]`` of an ensemble, each member's ParameterSet built when a quantity first asks for it."""

    def __init__(self, ens):
        self._ens = ens
        self._cache: dict = {}

    def __getitem__(self, member):
        if member not in self._cache:
            self._cache[member] = self._ens.member_parameters(member)
        return self._cache[member]


class _MemberRuns:
    """What :class:`~flowsim.analysis.observations.ObservationView` reads of a run, served by an ensemble."""

    def __init__(self, ens):
        self._ens = ens
        self.scenario = ens.scenario
        self.params = _LazyParams(ens)

    def series(self, variable, host=None, member=0):
        return self._ens.series(variable, host, member=member)

    def __getattr__(self, name):
        raise FlowsimError(f"an observation quantity read `{name}` of a run; backtests serve quantities from the "
                           "members' kept series, parameters and scenario only.")


def member_predictions(model: ObservationModel, ens, backgrounds=None) -> np.ndarray:
    """Every member's model value of every figure of ``model``.

    Parameters
    ----------
    model : ObservationModel
    ens : EnsembleResult
        Members that kept every series the figures' quantities read.
    backgrounds : sequence of BackgroundTraffic, optional
        One per member (its draw of fitted background levels); default the
        model's own.

    Returns
    -------
    ndarray, shape (n_members, n_figures)
        In each figure's unit.
    """
    runs = _MemberRuns(ens)
    out = np.empty((ens.n_members, len(model.observations)))
    for j in range(ens.n_members):
        out[j] = model.predict(runs, member=j, background=None if backgrounds is None else backgrounds[j])
    return out


def needed_series(model: ObservationModel, scenario) -> tuple[str, ...]:
    """The series the figures' quantities read (found by predicting them once from ``scenario``)."""
    probe = _Probe(run(scenario))
    model.predict(probe)
    return tuple(sorted(probe.names))


# ------------------------------------------------------------------------------------ scoring
def _accepted(c) -> tuple[float | None, float | None]:
    """The set a constraint accepts, ``(low, high)`` (None: open on that side)."""
    if c.kind == "point":
        return c.value, c.value
    return c.low, c.high


def score_figure(obs, constraint, x: np.ndarray, sigma: float) -> ScoreRow:
    """Score one figure against its predictive ensemble ``x`` (shape (n,))."""
    lo, hi = _accepted(constraint)
    q05, q25, med, q75, q95 = (float(v) for v in np.quantile(x, _QUANTILES))
    crps = crps_interval(x, lo, hi)
    ref = float(constraint.reference(med))
    inside = np.ones(x.size, bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    if constraint.kind == "point":
        pit = float(np.mean(x < lo) + 0.5 * np.mean(x == lo))
        p_acc = float("nan")
    else:
        pit, p_acc = float("nan"), float(np.mean(inside))
    return ScoreRow(
        host=obs.host, quantity=obs.quantity, date_start=obs.date_start, date_end=obs.date_end,
        observed=obs.value, low=lo, high=hi, qualifier=obs.qualifier, constraint=constraint.text,
        kind=constraint.kind, sigma=float(sigma), weight=constraint.weight,
        q05=q05, q25=q25, median=med, q75=q75, q95=q95,
        in_50=covers(central_band(x, 0.5), lo, hi), in_90=covers(central_band(x, 0.9), lo, hi),
        crps=crps, crps_relative=crps / ref if ref > 0 else float("nan"),
        relative_error=float(constraint.relative_error(med)), pit=pit, p_accepted=p_acc, line=obs.line,
    )


def _binomial_range(n: int, p: float) -> tuple[float, float]:
    from scipy.stats import binom

    if n == 0:
        return float("nan"), float("nan")
    return float(binom.ppf(0.025, n, p)) / n, float(binom.ppf(0.975, n, p)) / n


def coverage_table(rows, levels=BAND_LEVELS) -> Table:
    """Observed against nominal coverage per host and quantity, per host, and in total.

    Parameters
    ----------
    rows : sequence of ScoreRow
    levels : sequence of float
        Nominal levels (of the ``in_50`` / ``in_90`` columns).

    Returns
    -------
    Table
        Of :class:`CoverageRow`.
    """
    rows = list(rows)
    flags = {0.5: "in_50", 0.9: "in_90"}
    for level in levels:
        if level not in flags:
            raise CalibrationError(f"coverage_table: levels must be among {', '.join(map(str, flags))}; got {level}.")

    def kinds_of(group):
        return "+".join(sorted({r.kind for r in group}))

    groups: list[tuple[str, str, str, list]] = []
    for key in dict.fromkeys((r.host, r.quantity) for r in rows):
        group = [r for r in rows if (r.host, r.quantity) == key]
        groups.append((*key, kinds_of(group), group))
    for host in dict.fromkeys(r.host for r in rows):
        groups.append((host, "all", "all", [r for r in rows if r.host == host]))
    groups.append(("all", "all", "point", [r for r in rows if r.kind == "point"]))
    groups.append(("all", "all", "bound/range", [r for r in rows if r.kind != "point"]))
    groups.append(("all", "all", "all", rows))
    out = []
    for host, quantity, kinds, group in groups:
        crps = [r.crps_relative for r in group if r.crps_relative == r.crps_relative]
        for level in levels:
            covered = sum(bool(getattr(r, flags[level])) for r in group)
            lo, hi = _binomial_range(len(group), level)
            out.append(CoverageRow(host=host, quantity=quantity, kinds=kinds, nominal=float(level),
                                   figures=len(group), covered=covered,
                                   observed=covered / len(group) if group else float("nan"),
                                   expected_low=lo, expected_high=hi,
                                   mean_crps_relative=float(np.mean(crps)) if crps else float("nan")))
    return Table(tuple(out), title="coverage of the held-out figures",
                       display=("host", "quantity", "kinds", "nominal", "figures", "covered", "observed",
                                "expected_low", "expected_high", "mean_crps_relative"))


# ------------------------------------------------------------------------------------ the backtest
def _check_temperature(value) -> None:
    """Refuse a temperature that is neither a number > 0 nor ``"reduced-chi2"`` (before the fit runs)."""
    if isinstance(value, str):
        ok = value == "reduced-chi2"
    else:
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and value > 0
    if not ok:
        raise CalibrationError(f"backtest: temperature must be a number > 0 or 'reduced-chi2'; got {value!r}.")


def _temperature(value, fit) -> float:
    _check_temperature(value)
    return float(fit.covariance_scale) if isinstance(value, str) else float(value)


def backtest(scenario, observations, until, params=None, *, background: BackgroundTraffic | None = None,
             weights=None, sigmas=None, priors="auto", starts: int = 4, method: str = "mcmc",
             n_walkers: int | None = None, n_steps: int = 1000, burn: int | None = None, thin: int = 1,
             members: int = 400, vary=None, noise: bool = True, temperature=1.0, seed: int | None = 0,
             horizon_days: int | None = None, progress: bool = False, **ensemble_options) -> BacktestResult:
    """Fit on the figures up to ``until``, draw the posterior, solve it as an ensemble, score the later figures.

    1. Fit (:func:`flowsim.calibrate`) on the figures whose window ends on
       or before ``until``.
    2. Draw the posterior of the fitted parameters: an emcee chain started
       at the optimum (``method="mcmc"``, :func:`flowsim.sample_posterior`)
       or the fit's Laplace approximation (``method="laplace"``,
       :func:`laplace_sample`: fast, for tests and quick looks); ``vary``
       adds the ranges of parameters not fitted.
    3. Solve ``members`` draws as an ensemble (:meth:`PosteriorSample.ensemble`).
    4. Predict every figure in every member (with that member's background
       levels), add each figure's error (``noise``), and score every figure
       after ``until``: inside the 50% and 90% bands, CRPS, relative error
       of the median (:mod:`flowsim.analysis.scores` says how bounds and
       ranges are scored).

    Parameters
    ----------
    scenario : Scenario
    observations : ObservationTable or list of Observation
        Every figure, fitted and held out (e.g. ``flowsim.datasets.observations_2022().filter(host="KAZ")``).
    until : date or str
        Last day of the fitting period.
    params : sequence, optional
        What to fit (names as in :func:`flowsim.calibrate`); default
        :func:`~flowsim.calibration.default_fit_parameters` of the fitted figures.
    background : BackgroundTraffic, optional
        Default :meth:`BackgroundTraffic.from_observations` of every figure.
    weights, sigmas : mapping or callable, optional
        As in :func:`flowsim.calibrate` (indices refer to ``observations``).
    priors : "auto", None, "ranges" or mapping
        ``"auto"`` (default): :func:`~flowsim.calibration.default_priors` of
        the fitted parameters (what ``flowsim calibrate`` uses); otherwise as
        in :func:`flowsim.calibrate`.
    starts : int
        Starting points of the fit.
    method : {"mcmc", "laplace"}
        How the posterior is drawn (``mcmc`` needs emcee: ``pip install emcee``).
    n_walkers, n_steps, burn, thin
        The chain (``mcmc``), as in :func:`flowsim.sample_posterior`
        (default walkers ``max(4 p, 16)``, burn a quarter).
    members : int
        Posterior draws solved as the ensemble (>= 2).
    vary : "ranges", sequence or mapping, optional
        Parameters not fitted drawn from their ranges as well (see
        :meth:`PosteriorSample.ensemble`).
    noise : bool
        Add to every member each figure's own error: a relative error of
        standard deviation ``sigma * sqrt(temperature / weight)``, the
        fit's likelihood (its ``sigma`` when the weight is 0). Default True:
        a figure is a noisy measurement, and bands of the model alone would
        under-cover exact forecasts. False scores the model's band alone.
    temperature : float or "reduced-chi2"
        The posterior's likelihood is ``exp(-chi2 / (2 T))``; ``"reduced-chi2"``
        uses the fit's ``chi2 / dof`` (the widening of the least-squares
        intervals).
    seed : int or None
        Seeds the fit's random starts (as :func:`flowsim.calibrate`'s
        ``seed``), and through it the chain, the choice of draws, ``vary``
        and the noise.
    horizon_days : int, optional
        Horizon of the members; default up to the last figure.
    progress : bool
        emcee's progress bar.
    **ensemble_options
        ``chunk_size``, ``executor``, ``solver_options`` for the ensemble.

    Returns
    -------
    BacktestResult
        Fit, posterior, ensemble, every member's predictions, the scores of
        the held-out figures and their coverage table.

    Raises
    ------
    CalibrationError
        No figure up to ``until`` or none after it, bad counts or options.
    ImportError
        ``method="mcmc"`` without emcee.

    Examples
    --------
    >>> import flowsim
    >>> sc = flowsim.load_scenario("kazakhstan-2022")
    >>> kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    >>> bt = flowsim.backtest(sc, kaz, "2022-10-04", n_walkers=28, n_steps=600, members=400)  # doctest: +SKIP
    >>> bt.coverage_of(0.9), bt.mean_crps_relative  # doctest: +SKIP
    """
    t_all = time.perf_counter()
    if method not in METHODS:
        raise CalibrationError(f"backtest: method must be one of {', '.join(METHODS)}; got {method!r}.")
    members = check_whole_number(members, "backtest: members", 2, why=" (bands need at least two members)",
                                 error=CalibrationError)
    _check_temperature(temperature)
    table = as_observation_table(observations)
    until = to_date(until, "until", CalibrationError)
    in_sample = np.array([o.date_end <= until for o in table], bool)
    if not in_sample.any():
        first = min(o.date_end for o in table) if len(table) else None
        raise CalibrationError(f"backtest: no figure ends on or before {until} (the first ends on {first}); "
                               "choose a later date for --until.")
    if in_sample.all():
        last = max(o.date_end for o in table)
        raise CalibrationError(f"backtest: no figure ends after {until} (the last ends on {last}), so there is "
                               "nothing to score; choose an earlier date for --until.")
    inside = table.until(until)
    bg = BackgroundTraffic.from_observations(table) if background is None else background
    w, s = _by_label(table, weights), _by_label(table, sigmas)
    if params is None:
        params = default_fit_parameters(scenario, inside, bg)
    if isinstance(priors, str) and priors == "auto":
        priors = default_priors(params) or None
    root = np.random.SeedSequence(check_seed(seed, "backtest: seed", CalibrationError))
    chain_seed, draw_seed, ens_seed, noise_seed = (int(c.generate_state(1)[0]) for c in root.spawn(4))

    stats: dict = {"seconds": {}}
    t0 = time.perf_counter()
    fit = calibrate(scenario, inside, params, background=bg, weights=w, sigmas=s, priors=priors, starts=starts,
                    seed=seed)
    stats["seconds"]["fit"] = time.perf_counter() - t0
    T = _temperature(temperature, fit)

    t0 = time.perf_counter()
    if method == "mcmc":
        post = fit.sample_posterior(n_walkers=n_walkers, n_steps=n_steps, burn=burn, thin=thin, seed=chain_seed,
                                    temperature=T, progress=progress)
        draws = post.draws(members, seed=draw_seed)
        stats.update(walkers=post.n_walkers, steps=post.n_steps, burn=post.burn,
                     autocorr_max=float(np.nanmax(post.autocorr_time)) if np.isfinite(post.autocorr_time).any()
                     else float("nan"),
                     acceptance=float(np.mean(post.acceptance_fraction)))
    else:
        post = laplace_sample(fit, members, seed=chain_seed, temperature=T)
        draws = post.samples()
    stats["seconds"]["posterior"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    model = ObservationModel.build(table, bg, weights=w, sigmas=s)
    model.check_scenario(scenario)
    needed = model.days_needed(scenario.start)
    horizon = needed if horizon_days is None else check_whole_number(
        horizon_days, "backtest: horizon_days", needed, why=f" (the last figure ends {needed} days from the start)",
        error=CalibrationError)
    keep = needed_series(model, fit.scenario.replace(horizon_days=horizon))
    ens = post.ensemble(draws=draws, seed=ens_seed, vary=vary, horizon_days=horizon, keep=keep,
                        **ensemble_options)
    stats["seconds"]["ensemble"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    predictions = member_predictions(model, ens, [post.vector.apply(d)[1] for d in draws])
    weight = np.array([c.weight for c in model.constraints])
    sigma = np.array([c.sigma for c in model.constraints]) * np.sqrt(T / np.where(weight > 0, weight, 1.0))
    if not noise:
        sigma = np.zeros_like(sigma)
    predictive = noisy_ensemble(predictions, sigma, np.random.default_rng(noise_seed)) if noise else predictions
    rows = tuple(score_figure(o, c, predictive[:, i], sigma[i])
                 for i, (o, c) in enumerate(zip(model.observations, model.constraints)) if not in_sample[i])
    scores = Table(rows, title=f"held-out figures after {until}",
                         display=("host", "quantity", "date_end", "constraint", "q05", "median", "q95", "in_50",
                                  "in_90", "crps_relative", "relative_error"))
    coverage = coverage_table(rows)
    stats["seconds"]["scores"] = time.perf_counter() - t0
    stats["seconds"]["total"] = time.perf_counter() - t_all
    stats.update(members=members, series=keep, horizon_days=int(horizon))
    return BacktestResult(scenario=scenario, until=until, calibration=fit, posterior=post, ensemble=ens,
                          observation_model=model, in_sample=in_sample, draws=draws, predictions=predictions,
                          predictive=predictive, scores=scores, coverage=coverage, method=method, noise=bool(noise),
                          temperature=T, stats=stats)
