"""``flowsim backtest SCENARIO --until DATE --out DIR``: fit up to a date, forecast and score the later figures."""

from __future__ import annotations

from ..exceptions import CalibrationError
from ._observation_options import add_observation_options, observations_from, priors_from


def register(sub) -> None:
    p = sub.add_parser(
        "backtest", help="fit on observations up to a date, forecast the later ones with a posterior ensemble, "
                         "score them",
        description="Backtest: fit the chosen parameters of SCENARIO to the observations whose window ends on or "
                    "before --until, draw their posterior (an MCMC chain, needs flowsim[mcmc], or the Laplace "
                    "approximation of the fit), solve the draws as an ensemble, and score every later figure: "
                    "inside the 50% and 90% bands, CRPS, relative error of the median. Writes scores.csv (one "
                    "row per held-out figure), coverage.csv (per host and quantity: nominal against observed "
                    "coverage) and backtest.png into --out (atomically). Bounds (\"more than\") and ranges are "
                    "scored as what they are; see docs/calibration.md, \"Backtests\".",
    )
    p.add_argument("scenario", help="built-in name (see `flowsim list`), a .toml file or a resolved.json")
    p.add_argument("--until", required=True, metavar="DATE",
                   help="last day of the fitting period (YYYY-MM-DD): observations ending later are scored")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    add_observation_options(p)
    post = p.add_argument_group("posterior and ensemble")
    post.add_argument("--method", choices=("mcmc", "laplace"), default="mcmc",
                      help="mcmc (default): an emcee chain started at the optimum (needs flowsim[mcmc]); "
                           "laplace: a normal around the optimum from the fit's covariance (seconds, approximate)")
    post.add_argument("--walkers", type=int, default=None, metavar="W",
                      help="walkers of the chain (default max(4 p, 16) for p parameters; at least 2 p)")
    post.add_argument("--steps", type=int, default=1000, metavar="N", help="steps of the chain (default 1000)")
    post.add_argument("--burn", type=int, default=None, metavar="B", help="steps dropped (default a quarter)")
    post.add_argument("--thin", type=int, default=1, metavar="K", help="keep every K-th step (default 1)")
    post.add_argument("--members", type=int, default=400, metavar="M",
                      help="posterior draws solved as the ensemble (default 400)")
    post.add_argument("--vary-ranges", action="store_true",
                      help="also draw every parameter not fitted from its shipped range")
    post.add_argument("--no-noise", action="store_true",
                      help="score the model's band alone, without each figure's own error added to the members")
    post.add_argument("--temperature", default="1", metavar="T",
                      help="likelihood temperature (a number > 0, default 1), or reduced-chi2 (the fit's chi2/dof)")
    p.add_argument("--no-figures", action="store_true", help="skip backtest.png")
    p.set_defaults(func=_cmd_backtest)


def _temperature(text: str):
    if text == "reduced-chi2":
        return text
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value > 0 or value == float("inf"):
        raise CalibrationError(f"--temperature must be a number > 0 or reduced-chi2; got {text!r}.")
    return value


def _cmd_backtest(args) -> int:
    from .. import io as fio
    from .._validation import check_whole_number
    from ..analysis.background import BackgroundTraffic
    from ..calibration import backtest, default_fit_parameters
    from ..scenario.library import load_scenario

    temperature = _temperature(args.temperature)
    check_whole_number(args.members, "--members", 2, why=" (bands need at least two members)",
                       error=CalibrationError)
    check_whole_number(args.steps, "--steps", 1, error=CalibrationError)
    scenario = load_scenario(args.scenario)
    observations = observations_from(args, scenario)
    background = BackgroundTraffic.from_observations(observations)
    params = args.params
    inside = observations.until(args.until)
    if params is None and len(inside):
        params = default_fit_parameters(scenario, inside, background)
    bt = backtest(scenario, observations, args.until, params, background=background, starts=args.starts,
                  seed=args.seed, priors=priors_from(args, params or ()), method=args.method,
                  n_walkers=args.walkers, n_steps=args.steps, burn=args.burn, thin=args.thin, members=args.members,
                  vary="ranges" if args.vary_ranges else None, noise=not args.no_noise, temperature=temperature)
    written = ["scores.csv", "coverage.csv"]
    with fio.OutputStage(args.out) as stage:
        fio.atomic_write_text(stage.file("scores.csv"), fio.backtest_scores_csv_text(bt))
        fio.atomic_write_text(stage.file("coverage.csv"), fio.backtest_coverage_csv_text(bt))
        if not args.no_figures:
            _write_figure(bt, stage)
            written.append("backtest.png")
    print(bt)
    print(f"\nbacktest in {bt.stats['seconds']['total']:.1f} s; wrote {', '.join(written)} to {args.out}")
    return 0


def _write_figure(bt, stage) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = bt.plot()
    fig = next(iter(axes.values())).figure
    fig.savefig(stage.file("backtest.png"), dpi=110)
    plt.close(fig)
