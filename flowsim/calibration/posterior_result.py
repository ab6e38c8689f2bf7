"""The outcome of :func:`flowsim.sample_posterior`: the chain, its summaries, and ensembles of its draws."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_seed, check_whole_number
from ..exceptions import CalibrationError
from ..table import Table

__all__ = ["PosteriorSample", "PosteriorEstimate"]


@dataclass(frozen=True)
class PosteriorEstimate:
    """Posterior summary of one parameter (natural units).

    ``ci_low``/``ci_high`` are the equal-tailed credible interval of the
    level asked for; ``least_squares`` is the fit's estimate (None without a
    fit); ``tau`` the integrated autocorrelation time in steps.
    """

    name: str
    unit: str
    median: float
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    least_squares: float | None
    tau: float


@dataclass(frozen=True, eq=False)
class PosteriorSample:
    """An MCMC sample of the posterior of fitted parameters.

    Attributes
    ----------
    scenario : Scenario
        The scenario sampled around (its own horizon; its values are the
        fit's starting values).
    calibration : CalibrationResult or None
        The fit the walkers started from.
    vector : ParameterVector
        The sampled parameters: transforms, bounds, how values go into a scenario.
    observation_model : ObservationModel
        Observations, constraints and the starting background.
    chain : ndarray, shape (steps, walkers, p)
        Every walker's position at every step, natural units (burn-in included).
    chain_transformed : ndarray, shape (steps, walkers, p)
        The same in the transformed space the walkers move in.
    log_prob : ndarray, shape (steps, walkers)
        Log posterior (up to a constant).
    acceptance_fraction : ndarray, shape (walkers,)
    autocorr_time : ndarray, shape (p,)
        Integrated autocorrelation time of each parameter after the burn-in,
        steps (emcee's ``get_autocorr_time(quiet=True)``; unreliable when the
        chain is shorter than about 50 times it).
    burn, thin : int
        Steps dropped at the start; every ``thin``-th step kept after them.
    seed : int
        Entropy that reproduces the chain.
    prior : str
    temperature : float
    stats : dict
        ``seconds``, ``evaluations``, ``batch_runs``, solver and options,
        ``moves`` (the name of emcee's moves: ``"stretch"``, ``"de"``, or
        the classes and weights of moves given as objects).
    """

    scenario: object
    calibration: object
    vector: object
    observation_model: object
    chain: np.ndarray
    chain_transformed: np.ndarray
    log_prob: np.ndarray
    acceptance_fraction: np.ndarray
    autocorr_time: np.ndarray
    burn: int
    thin: int
    seed: int
    prior: str
    temperature: float
    stats: dict = field(default_factory=dict)

    # ------------------------------------------------------------ shape
    @property
    def labels(self) -> tuple[str, ...]:
        """Canonical parameter names (``tau_T[KAZ]``, ``pulse.total[KAZ]``...)."""
        return tuple(self.vector.labels)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(p.unit for p in self.vector.params)

    @property
    def n_steps(self) -> int:
        return int(self.chain.shape[0])

    @property
    def n_walkers(self) -> int:
        return int(self.chain.shape[1])

    def samples(self, transformed: bool = False) -> np.ndarray:
        """Positions after the burn-in, every ``thin``-th step, flattened: shape (n, p)."""
        chain = self.chain_transformed if transformed else self.chain
        return chain[self.burn::self.thin].reshape(-1, chain.shape[-1])

    @property
    def n_samples(self) -> int:
        return int(self.samples().shape[0])

    def draws(self, n: int | None = None, seed=None) -> np.ndarray:
        """Draws from the posterior, natural units, shape (n, p).

        Parameters
        ----------
        n : int, optional
            How many; all :meth:`samples` (in chain order) when omitted. Up to
            their number they are drawn without replacement, beyond it with.
        seed : int, optional
            Seeds the choice.
        """
        flat = self.samples()
        if n is None:
            return flat.copy()
        n = check_whole_number(n, "draws: n", 1, error=CalibrationError)
        rng = np.random.default_rng(check_seed(seed, "draws: seed", CalibrationError))
        return flat[rng.choice(flat.shape[0], n, replace=n > flat.shape[0])]

    # ---------------------------------------------------------- summaries
    @property
    def median(self) -> dict[str, float]:
        """Posterior median of every parameter, natural units."""
        return dict(zip(self.labels, np.median(self.samples(), axis=0).tolist()))

    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Equal-tailed credible interval of every parameter at ``level`` (in (0, 1))."""
        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise CalibrationError(f"interval: level must be in (0, 1); got {level!r}.")
        lo, hi = np.quantile(self.samples(), [(1 - level) / 2, (1 + level) / 2], axis=0)
        return {lab: (float(a), float(b)) for lab, a, b in zip(self.labels, lo, hi)}

    def estimate_table(self, level: float = 0.95) -> Table:
        """Median, mean, sd, credible interval, least-squares value and autocorrelation time per parameter."""
        flat = self.samples()
        ci = self.interval(level)
        fitted = self.calibration.values if self.calibration is not None else {}
        rows = tuple(PosteriorEstimate(
            name=lab, unit=unit, median=float(np.median(flat[:, j])), mean=float(flat[:, j].mean()),
            sd=float(flat[:, j].std(ddof=1)) if flat.shape[0] > 1 else float("nan"),
            ci_low=ci[lab][0], ci_high=ci[lab][1], least_squares=fitted.get(lab),
            tau=float(self.autocorr_time[j])) for j, (lab, unit) in enumerate(zip(self.labels, self.units)))
        return Table(rows, title=f"posterior ({100 * level:g}% credible intervals)",
                           display=("name", "unit", "median", "ci_low", "ci_high", "least_squares", "tau"))

    def sample_columns(self) -> dict[str, np.ndarray]:
        """The kept samples by column: ``step``, ``walker``, ``log_prob``, then one per parameter (natural units).

        Rows are in the order of :meth:`samples` (step by step, walkers within a step).
        """
        steps = np.arange(self.burn, self.n_steps, self.thin)
        step, walker = np.meshgrid(steps, np.arange(self.n_walkers), indexing="ij")
        data = {"step": step.ravel(), "walker": walker.ravel(),
                "log_prob": self.log_prob[self.burn::self.thin].ravel()}
        data.update(zip(self.labels, self.samples().T))
        return data

    def to_dataframe(self):
        """The kept samples as a pandas DataFrame (the columns of :meth:`sample_columns`)."""
        from .._optional import import_pandas

        return import_pandas().DataFrame(self.sample_columns())

    # ------------------------------------------------------------ ensembles
    def member_inputs(self, draws: np.ndarray, scenario=None):
        """Ensemble dimensions, their values and per-member arrivals for posterior ``draws`` (n, p).

        Model parameters become :class:`~flowsim.scenario.sampling.Dimension`
        objects spanning the draws (a parameter fitted as one value for all
        hosts: one dimension per host, the same values); pulse fields become
        per-member arrival schedules; background levels belong to the
        observation model and do not enter the run.

        Returns
        -------
        dims : tuple of Dimension
        values : ndarray, shape (n, len(dims))
        arrivals : tuple of mapping or None
            ``{host: (Schedule, ...)}`` per member when a pulse field is sampled.
        """
        from .objective import member_inputs

        return member_inputs(self.vector, self.scenario if scenario is None else scenario, draws)

    def ensemble(self, n: int | None = None, *, seed=0, vary=None, sampler: str = "lhs",
                 horizon_days: int | None = None, draws=None, **options):
        """Solve posterior draws as the members of an ensemble: fan charts and events conditioned on the data.

        Parameters
        ----------
        n : int, optional
            Members: ``n`` draws (:meth:`draws`); every kept sample when omitted.
        seed : int or None
            Seeds the choice of draws and the draws of ``vary``.
        vary : "ranges", sequence or mapping, optional
            Other parameters drawn from their ranges at the same time
            ("posterior + ranges"): the fitted ones come from the posterior,
            these from ``sampler``. ``"ranges"``: every parameter with a
            shipped range (what :func:`flowsim.ensemble` varies by default)
            except the sampled ones; otherwise as :func:`flowsim.ensemble`'s
            ``vary``, without sampled parameters.
        sampler : {"lhs", "sobol", "random"}
            Sampler of ``vary``.
        horizon_days : int, optional
            Horizon of the members; default the scenario's.
        draws : array_like, shape (m, p), optional
            The posterior draws to solve (natural units, one column per
            sampled parameter in the order of :attr:`labels`), instead of
            drawing ``n`` of them; give either ``n`` or ``draws``. A caller that
            needs each member's draw (e.g. its background levels, which do
            not enter the run) draws them first with :meth:`draws`.
        **options
            ``keep``, ``scalars``, ``chunk_size``, ``executor``, ``progress``,
            ``stochastic``, ``dt``, ``solver_options``, ``solver`` as in :func:`flowsim.ensemble`.

        Returns
        -------
        EnsembleResult
            ``values`` holds the posterior model parameters (and the ``vary``
            ones); pulse draws are in ``arrivals`` (per member); ``sampler``
            is ``"posterior"`` or ``"posterior+lhs"``...

        Examples
        --------
        A short chain (for speed; a real one runs 50 autocorrelation times),
        then eight members: the transit time from the posterior, the settled
        time from its range.

        >>> import flowsim
        >>> sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=60)
        >>> obs = flowsim.datasets.observations_2022().filter(host="KAZ")
        >>> post = flowsim.sample_posterior(sc, obs, ["tau_T[KAZ]"], n_walkers=4, n_steps=20, burn=5,
        ...                                 seed=0)  # doctest: +ELLIPSIS
        >>> ens = post.ensemble(8, seed=1, vary=["tau_S"])
        >>> ens.n_members, ens.sampler, ens.dims[0].label, ens.dims[1].label
        (8, 'posterior+lhs', 'tau_T[KAZ]', 'tau_S[KAZ]')
        >>> bool(np.isin(ens.values[:, 0], post.samples()[:, 0]).all())   # every member is a posterior draw
        True
        >>> row = ens.events()[0]
        >>> row["host"], row["balance"], row["members"]
        ('KAZ', 'inflow', 8)
        """
        from ..scenario.sampling import parse_vary, scale_sample, unit_sample
        from ..simulate import DEFAULT_KEEP, MemberInputs, Outputs, simulate
        from ..uncertainty.chunks import ensemble_solver
        from ..uncertainty.ensemble_result import EnsembleResult

        sc = self.scenario if horizon_days is None else self.scenario.replace(horizon_days=int(horizon_days))
        root = np.random.SeedSequence(check_seed(seed, "ensemble: seed", CalibrationError))
        draw_seed, vary_seed, noise_seed = root.spawn(3)
        if draws is not None:
            if n is not None:
                raise CalibrationError("ensemble: give either n or draws, not both.")
            draws = np.atleast_2d(np.asarray(draws, float))
            if draws.ndim != 2 or draws.shape[1] != len(self.labels) or not draws.shape[0]:
                raise CalibrationError(f"ensemble: draws must have shape (members, {len(self.labels)}) (one column "
                                       f"per sampled parameter: {', '.join(self.labels)}); got {draws.shape}.")
        elif n is not None:
            draws = self.draws(n, seed=draw_seed)
        else:
            draws = self.draws()
        dims, values, arrivals = self.member_inputs(draws, sc)
        span = np.array([d.high - d.low for d in dims])
        unit = np.where(span > 0, (values - [d.low for d in dims]) / np.where(span > 0, span, 1.0), 0.5)
        label = "posterior"
        if vary is not None:
            taken = {(d.name, d.host) for d in dims}
            if isinstance(vary, str) and vary == "ranges":
                extra = tuple(d for d in parse_vary(sc.params, None, initial=sc.initial)
                              if (d.name, d.host) not in taken)
            else:
                extra = parse_vary(sc.params, vary, initial=sc.initial)
            clash = [d.label for d in extra if (d.name, d.host) in taken]
            if clash:
                raise CalibrationError(f"ensemble: vary must not hold sampled parameters (they come from the "
                                       f"posterior); got {', '.join(clash)}. Drop them from vary.")
            u = unit_sample(values.shape[0], len(extra), sampler, vary_seed)
            dims, values = dims + tuple(extra), np.column_stack([values, scale_sample(extra, u)])
            unit = np.column_stack([unit, u])
            label = f"posterior+{sampler}"
        keys = ("keep", "scalars", "chunk_size", "executor", "progress", "stochastic", "dt", "solver_options",
                "solver")
        unknown = set(options) - set(keys)
        if unknown:
            raise CalibrationError(f"ensemble: unknown options {', '.join(sorted(unknown))}; allowed: "
                                   f"{', '.join(keys)}.")
        solver, solver_options = ensemble_solver(options.pop("stochastic", False), options.pop("dt", None),
                                                 options.pop("solver_options", None), noise_seed,
                                                 solver=options.pop("solver", None))
        proj = simulate(MemberInputs.from_values(sc, dims, values, arrivals, where="PosteriorSample.ensemble"),
                        Outputs.series(options.pop("keep", DEFAULT_KEEP), options.pop("scalars", ())),
                        solver=solver, solver_options=solver_options, desc="flowsim ensemble", **options)
        stats = dict(proj.stats)
        stats["posterior"] = {"draws": int(values.shape[0]), "samples": self.n_samples, "seed": self.seed}
        return EnsembleResult(scenario=sc, dims=dims, unit=unit, values=values, sampler=label, seed=root.entropy,
                              series=proj.series, summary_arrays=proj.summary, scalars=proj.scalars, stats=stats,
                              arrivals=arrivals)

    # ---------------------------------------------------------------- plots
    def plot_trace(self, fig=None, **kwargs):
        """Every walker's path per parameter, the burn-in shaded. See :func:`flowsim.plotting.plot_trace`."""
        from ..plotting.posterior import plot_trace

        return plot_trace(self, fig=fig, **kwargs)

    def plot_pairs(self, fig=None, **kwargs):
        """Pairwise scatter of the kept samples. See :func:`flowsim.plotting.plot_pairs`."""
        from ..plotting.posterior import plot_pairs

        return plot_pairs(self, fig=fig, **kwargs)

    # ---------------------------------------------------------------- reprs
    def __repr__(self) -> str:
        from ._reprs import posterior_text

        return posterior_text(self)

    def _repr_html_(self) -> str:
        from ._reprs import posterior_html

        return posterior_html(self)
