"""``flowsim calibrate SCENARIO --out DIR``: fit parameters to the observations; optionally sample a posterior.

Writes the fit (estimates, residuals, the fitted scenario as a runnable
``calibrated.json``, figures) and, with ``--mcmc-steps``, an MCMC posterior
sample (its samples, summary, traces and pairs) and, with ``--members``, an
ensemble of posterior draws (quantiles, event probabilities, fan charts).
"""

from __future__ import annotations

import time

from ..exceptions import CalibrationError
from ._observation_options import add_observation_options, observations_from, priors_from
from ._sweep import SWEEP_SERIES, write_ensemble_figures

#: Moves ``--mcmc-moves`` offers: :data:`flowsim.calibration.posterior.MOVES` (not imported here, so that the
#: parser builds without the calibration stack; a test checks they are the same).
MOVES = ("stretch", "de")
#: Solvers ``--mcmc-solver`` offers: the deterministic ones (the likelihood must not be noisy).
POSTERIOR_SOLVERS = ("ivp", "ensemble")


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="fit parameters to observed figures (optionally an MCMC posterior) and write the fit",
        description="Fit the chosen parameters of SCENARIO to the observations with least squares from several "
                    "starts, and write estimates.csv (values with 95% intervals), residuals.csv (every "
                    "observation against the fitted and initial model), calibrated.json (the fitted scenario: "
                    "`flowsim run calibrated.json` runs it) and fit.png plus crossings_HOST.png into --out "
                    "(atomically). With --mcmc-steps N, also an MCMC posterior sample around the optimum "
                    "(needs emcee: `pip install emcee`): posterior.csv, posterior_summary.csv, trace.png, "
                    "pairs.png; with "
                    "--members M, M posterior draws solved as an ensemble: quantiles.csv, events.csv and fan "
                    "charts. See docs/calibration.md.",
    )
    p.add_argument("scenario", help="built-in name (see `flowsim list`), a .toml file or a resolved.json")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    add_observation_options(p)
    mc = p.add_argument_group("posterior sample (MCMC, needs emcee: pip install emcee)")
    mc.add_argument("--mcmc-steps", type=int, default=0, metavar="N",
                    help="steps of an emcee chain started around the optimum (default 0: no posterior)")
    mc.add_argument("--walkers", type=int, default=None, metavar="W",
                    help="walkers of the chain (default max(4 p, 16) for p parameters; at least 2 p)")
    mc.add_argument("--burn", type=int, default=None, metavar="B", help="steps dropped (default a quarter)")
    mc.add_argument("--thin", type=int, default=1, metavar="K", help="keep every K-th step (default 1)")
    mc.add_argument("--mcmc-seed", type=int, default=1, metavar="S", help="seed of the chain (default 1)")
    mc.add_argument("--mcmc-moves", choices=MOVES, default="stretch",
                    help="emcee's moves: stretch (default, the affine-invariant stretch move) or de (differential "
                         "evolution 80%%, its snooker variant 20%%: for strongly correlated parameters)")
    mc.add_argument("--mcmc-solver", choices=POSTERIOR_SOLVERS, default="ivp",
                    help="solver of the walkers' runs: ivp (default, as in the fit) or ensemble (one step plan "
                         "per batch of walkers; faster, agrees to the solver's tolerance)")
    mc.add_argument("--members", type=int, default=0, metavar="M",
                    help="solve M posterior draws as an ensemble over the scenario's horizon (default 0: none)")
    mc.add_argument("--vary-ranges", action="store_true",
                    help="with --members: also draw every other parameter from its shipped range")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.set_defaults(func=_cmd_calibrate)


def _check(args) -> None:
    from .._validation import check_whole_number

    check_whole_number(args.mcmc_steps, "--mcmc-steps", 0, error=CalibrationError)
    check_whole_number(args.members, "--members", 0, error=CalibrationError)
    # the seeds too, before the fit: a refused seed should not cost a fit first
    check_whole_number(args.seed, "--seed", 0, error=CalibrationError)
    check_whole_number(args.mcmc_seed, "--mcmc-seed", 0, error=CalibrationError)
    if args.members and not args.mcmc_steps:
        raise CalibrationError("--members solves posterior draws: give --mcmc-steps too (e.g. --mcmc-steps 600).")
    if args.vary_ranges and not args.members:
        raise CalibrationError("--vary-ranges applies to the posterior ensemble: give --members too.")


def _cmd_calibrate(args) -> int:
    from .. import io as fio
    from ..analysis.background import BackgroundTraffic
    from ..calibration import calibrate, default_fit_parameters
    from ..scenario.library import load_scenario

    _check(args)
    scenario = load_scenario(args.scenario)
    observations = observations_from(args, scenario)
    background = BackgroundTraffic.from_observations(observations)
    params = args.params or default_fit_parameters(scenario, observations, background)
    with fio.OutputStage(args.out, "calibrate") as stage:    # the folder is ours (locked) before any work
        t0 = time.perf_counter()
        fit = calibrate(scenario, observations, params, background=background, starts=args.starts,
                        seed=args.seed, priors=priors_from(args, params))
        elapsed = {"fit": time.perf_counter() - t0}
        post = ens = None
        if args.mcmc_steps:
            t0 = time.perf_counter()
            post = fit.sample_posterior(n_walkers=args.walkers, n_steps=args.mcmc_steps, burn=args.burn,
                                        thin=args.thin, seed=args.mcmc_seed, moves=args.mcmc_moves,
                                        solver=args.mcmc_solver)
            elapsed["posterior"] = time.perf_counter() - t0
        if args.members:
            t0 = time.perf_counter()
            ens = post.ensemble(args.members, seed=args.mcmc_seed, vary="ranges" if args.vary_ranges else None,
                                keep=SWEEP_SERIES, progress=False)
            elapsed["ensemble"] = time.perf_counter() - t0
        written = _write_fit(fit, stage, figures=not args.no_figures)
        if post is not None:
            written += _write_posterior(post, stage, figures=not args.no_figures)
        if ens is not None:
            fio.atomic_write_text(stage.file("quantiles.csv"), fio.quantiles_csv_text(ens, SWEEP_SERIES))
            fio.atomic_write_text(stage.file("events.csv"), fio.events_csv_text(ens))
            written += ["quantiles.csv", "events.csv"]
            if not args.no_figures:
                written += write_ensemble_figures(ens, stage)
    print(fit)
    if post is not None:
        print()
        print(post)
    if ens is not None:
        print()
        print(ens)
    times = ", ".join(f"{k} {v:.1f} s" for k, v in elapsed.items())
    print(f"\n{times}; wrote {', '.join(written)} to {args.out}" + stage.removed_note())
    return 0


def _savefig(fig, path) -> None:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write_fit(fit, stage, *, figures: bool) -> list[str]:
    from .. import io as fio

    fio.atomic_write_text(stage.file("estimates.csv"), fio.estimates_csv_text(fit))
    fio.atomic_write_text(stage.file("residuals.csv"), fio.residuals_csv_text(fit))
    fio.atomic_write_text(stage.file("calibrated.json"), fio.scenario_json_text(fit.scenario))
    written = ["estimates.csv", "residuals.csv", "calibrated.json"]
    if not figures:
        return written
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 9), layout="constrained")
    fit.plot(ax=fig.subplots())
    _savefig(fig, stage.file("fit.png"))
    written.append("fit.png")
    for host in dict.fromkeys(r.host for r in fit.residuals):
        fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
        fit.plot_series(host, ax=ax)
        _savefig(fig, stage.file(f"crossings_{host}.png"))
        written.append(f"crossings_{host}.png")
    return written


def _write_posterior(post, stage, *, figures: bool) -> list[str]:
    from .. import io as fio

    fio.atomic_write_text(stage.file("posterior.csv"), fio.posterior_csv_text(post))
    fio.atomic_write_text(stage.file("posterior_summary.csv"), fio.posterior_summary_csv_text(post))
    written = ["posterior.csv", "posterior_summary.csv"]
    if not figures:
        return written
    import matplotlib

    matplotlib.use("Agg")

    _savefig(post.plot_trace()[0].figure, stage.file("trace.png"))
    _savefig(post.plot_pairs(max_points=1500).flat[0].figure, stage.file("pairs.png"))
    return written + ["trace.png", "pairs.png"]
