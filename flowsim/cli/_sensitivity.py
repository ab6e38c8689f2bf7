"""``flowsim sensitivity SCENARIO --output NAME --host H --out DIR``: Sobol' indices and a tornado."""

from __future__ import annotations

import time

from ._uncertainty_options import add_executor, add_vary, executor_from, parse_vary_options


def register(sub) -> None:
    p = sub.add_parser(
        "sensitivity", help="Sobol' indices and a tornado of one host's output",
        description="Global sensitivity of one host's scalar output (a summary figure of any balance, "
                    "BALANCE.FIELD such as residents.pv_usd or fiscal.sustained_crossover_day, peak_present, or "
                    "STAT:SERIES such as peak:U): first-order and total Sobol' "
                    "indices (scipy.stats.sobol_indices) with bootstrap intervals, and a one-at-a-time tornado. "
                    "Writes sobol.csv, sobol.png and tornado.png into --out (atomically).",
    )
    p.add_argument("scenario", help="built-in name (see `flowsim list`), a .toml file or a resolved.json")
    p.add_argument("--output", default="residents.pv_usd", metavar="NAME",
                   help="BALANCE.FIELD (balances: inflow, value_added, fiscal, residents, net; fields as in "
                        "summary.csv, e.g. pv_usd, sustained_crossover_day), peak_present, or STAT:SERIES "
                        "(default residents.pv_usd)")
    p.add_argument("--host", default="KAZ", help="host whose output is analysed (default KAZ)")
    p.add_argument("--n", type=int, default=256, help="base sample size, a power of 2 (default 256); the model "
                                                      "runs n * (inputs + 2) times")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the Sobol' design and the bootstrap (default: a fresh random seed, printed in the "
                        "last line; pass it back with --seed to repeat the analysis)")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for the intervals (0: none)")
    add_vary(p)
    add_executor(p)
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    p.set_defaults(func=_cmd_sensitivity)


def _cmd_sensitivity(args) -> int:
    from .. import io as fio
    from ..scenario.library import load_scenario
    from ..uncertainty.chunks import DEFAULT_CHUNK
    from ..uncertainty.sensitivity import sensitivity

    scenario = load_scenario(args.scenario)
    with fio.OutputStage(args.out, "sensitivity") as stage:   # the folder is ours (locked) before any work
        t0 = time.perf_counter()
        with executor_from(args) as executor:
            res = sensitivity(scenario, args.output, args.host, args.n, vary=parse_vary_options(args.vary),
                              seed=args.seed, bootstrap=args.bootstrap,
                              chunk_size=DEFAULT_CHUNK if args.chunk_size is None else args.chunk_size,
                              executor=executor, progress=False if args.no_progress else None)
        elapsed = time.perf_counter() - t0
        fio.atomic_write_text(stage.file("sobol.csv"), fio.sensitivity_csv_text(res))
        figures = [] if args.no_figures else _write_figures(res, stage)
    print(res)
    print(f"\n{res.stats['evaluations']} runs in {elapsed:.1f} s; seed {res.seed}; wrote sobol.csv"
          + (f", {', '.join(figures)}" if figures else "") + f" to {args.out}" + stage.removed_note())
    return 0


def _write_figures(res, stage) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_sobol, plot_tornado

    names = []
    for name, draw in (("sobol.png", plot_sobol), ("tornado.png", plot_tornado)):
        draw(res)
        plt.gcf().savefig(stage.file(name), dpi=110)
        plt.close("all")
        names.append(name)
    return names
