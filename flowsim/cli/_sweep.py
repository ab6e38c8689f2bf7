"""``flowsim sweep SCENARIO --n N --out DIR``: an ensemble over uncertain parameters, written atomically."""

from __future__ import annotations

import time

from ._uncertainty_options import add_executor, add_vary, executor_from, parse_vary_options

#: Series written to quantiles.csv and drawn as fan charts by default.
SWEEP_SERIES = ("N", "residents", "fiscal", "net")
#: Balances whose sustained crossovers are drawn as histograms.
HISTOGRAM_BALANCES = ("residents", "fiscal")
#: The samplers of :data:`flowsim.scenario.sampling.SAMPLERS`, written out so that ``flowsim --help`` imports no
#: numerical code (a test checks they agree).
SAMPLERS = ("lhs", "sobol", "random")


def register(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run an ensemble over uncertain parameters",
        description="Draw N parameter sets from the parameters' uncertainty ranges (or --vary ranges), run them "
                    "as vectorised batches and write quantiles.csv (date, host, variable, q05..q95 of the --keep "
                    "series), events.csv (per host and balance: share of members with a crossover and with a "
                    "sustained one, median dates, share with a negative present value; shares of the sampled "
                    "scenarios, not probabilities of the world), draws.csv and PNGs (fan charts, sustained "
                    "crossover histograms of residents and fiscal) into --out (atomically).",
    )
    p.add_argument("scenario", help="built-in name (see `flowsim list`), a .toml file or a resolved.json")
    p.add_argument("--n", type=int, default=1000, help="members (default 1000)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed: same seed, same members and numbers (default: a fresh random seed, printed in the "
                        "last line; pass it back with --seed to repeat the sweep)")
    add_vary(p)
    p.add_argument("--sampler", choices=SAMPLERS, default="lhs", help="design of the draws (default lhs)")
    p.add_argument("--keep", nargs="+", metavar="SERIES", default=list(SWEEP_SERIES),
                   help="series for quantiles.csv and fan charts: compartments, N, any economy series or balance "
                        f"(default {' '.join(SWEEP_SERIES)})")
    p.add_argument("--stochastic", action="store_true",
                   help="solve each member with the stochastic chain (whole people, Poisson arrivals)")
    p.add_argument("--dt", type=float, default=None,
                   help="step of the stochastic chain, days (default 0.25; only with --stochastic)")
    add_executor(p)
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args) -> int:
    from .. import io as fio
    from ..scenario.library import load_scenario
    from ..uncertainty.chunks import DEFAULT_CHUNK, ensemble

    scenario = load_scenario(args.scenario)
    vary = parse_vary_options(args.vary)
    with fio.OutputStage(args.out, "sweep") as stage:       # the folder is ours (locked) before any work
        t0 = time.perf_counter()
        with executor_from(args) as executor:
            ens = ensemble(scenario, args.n, vary=vary, sampler=args.sampler, seed=args.seed,
                           chunk_size=DEFAULT_CHUNK if args.chunk_size is None else args.chunk_size,
                           executor=executor, progress=False if args.no_progress else None, keep=tuple(args.keep),
                           stochastic=args.stochastic, dt=args.dt)
        elapsed = time.perf_counter() - t0
        fio.atomic_write_text(stage.file("quantiles.csv"), fio.quantiles_csv_text(ens, tuple(args.keep)))
        fio.atomic_write_text(stage.file("events.csv"), fio.events_csv_text(ens))
        fio.atomic_write_text(stage.file("draws.csv"), fio.draws_csv_text(ens))
        figures = [] if args.no_figures else write_ensemble_figures(ens, stage, tuple(args.keep))
    print(ens)
    fallbacks = len(ens.stats["fallbacks"])
    print(f"\n{ens.n_members} members in {elapsed:.1f} s ({elapsed / ens.n_members * 1e3:.2f} ms per member"
          + (f", {fallbacks} re-solved alone" if fallbacks else "") + f"); seed {ens.seed}; wrote quantiles.csv, "
          f"events.csv, draws.csv" + (f", {', '.join(figures)}" if figures else "") + f" to {args.out}"
          + stage.removed_note())
    return 0


def write_ensemble_figures(ens, stage, series=SWEEP_SERIES) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_crossover_histogram, plot_fan_grid

    names = []
    for variable in series:
        fig, _ = plot_fan_grid(ens, variable)
        fig.savefig(stage.file(f"fan_{variable}.png"), dpi=110)
        plt.close(fig)
        names.append(f"fan_{variable}.png")
    for balance in HISTOGRAM_BALANCES:
        fig, _ = plot_crossover_histogram(ens, balance=balance)
        fig.savefig(stage.file(f"crossover_histogram_{balance}.png"), dpi=110)
        plt.close(fig)
        names.append(f"crossover_histogram_{balance}.png")
    return names
