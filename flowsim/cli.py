"""Command line interface: ``flowsim run SCENARIO --out DIR`` and ``flowsim list``.

Errors in user input print one line ``flowsim: error: ...`` to standard error
and exit with status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import io as fio
from ._version import __version__
from .exceptions import FlowsimError
from .runner import run
from .scenario.library import list_scenarios, load_scenario

__all__ = ["main", "build_parser"]

#: The close-up figures show the arrival phase: the first this many days.
FIRST_DAYS = 120


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowsim",
        description="Simulate migration flows between countries and their effect on host economies.",
    )
    parser.add_argument("--version", action="version", version=f"flowsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_run = sub.add_parser(
        "run", help="run a scenario and write its outputs",
        description="Run a scenario; print the per-host summary; write summary.csv, timeseries.csv, "
                    "resolved.json and PNG figures into --out (atomically).",
    )
    p_run.add_argument("scenario", help="built-in scenario name (see `flowsim list`)")
    p_run.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    p_run.add_argument("--method", default=None, help="solve_ivp method (default RK45)")
    p_run.add_argument("--rtol", type=float, default=None, help="relative tolerance (default 1e-8, at most 1e-6)")
    p_run.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p_run.set_defaults(func=_cmd_run)

    p_list = sub.add_parser("list", help="list the built-in scenarios",
                            description="List the built-in scenarios, one line each.")
    p_list.set_defaults(func=_cmd_list)
    return parser


def _cmd_list(args) -> int:
    for name, summary in list_scenarios().items():
        print(f"{name:28s} {summary}")
    return 0


def _cmd_run(args) -> int:
    scenario = load_scenario(args.scenario)
    options = {k: v for k, v in (("method", args.method), ("rtol", args.rtol)) if v is not None}
    with fio.OutputStage(args.out) as stage:
        t0 = time.perf_counter()
        result = run(scenario, **options)
        elapsed = time.perf_counter() - t0
        fio.atomic_write_text(stage.file("summary.csv"), fio.summary_csv_text(result))
        fio.atomic_write_text(stage.file("timeseries.csv"), fio.timeseries_csv_text(result))
        fio.atomic_write_text(stage.file("resolved.json"), fio.resolved_json_text(result))
        figures = [] if args.no_figures else _write_figures(result, stage)
    print(result)
    print(f"\nsolved in {elapsed:.2f} s; wrote summary.csv, timeseries.csv, resolved.json"
          + (f", {', '.join(figures)}" if figures else "") + f" to {args.out}")
    return 0


def _write_figures(result, stage) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_boost_burden_grid, plot_population_grid

    names = []
    first = min(FIRST_DAYS, result.dates.size - 1)
    for stem, draw in (("population", plot_population_grid), ("boost_burden", plot_boost_burden_grid)):
        for suffix, days in (("", None), (f"_first_{first}_days", first)):
            fig, _ = draw(result, days=days)
            fig.savefig(stage.file(f"{stem}{suffix}.png"), dpi=110)
            plt.close(fig)
            names.append(f"{stem}{suffix}.png")
    return names


def main(argv=None) -> int:
    """Entry point of the ``flowsim`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FlowsimError as exc:
        print(f"flowsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover - interactive
        print("flowsim: interrupted; nothing written.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
