"""``flowsim compare A B [C ...] --out DIR``: summary differences and net-impact overlays."""

from __future__ import annotations

from ..exceptions import ScenarioError

#: The close-up overlay shows the arrival phase: the first this many days.
FIRST_DAYS = 120


def register(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare scenarios against the first one",
        description="Run two or more scenarios; print, per host, the difference of every summary figure of "
                    "every balance from the first scenario (value - reference; dates in days); write comparison.csv "
                    "and overlay figures per host (net impact, residents, fiscal) into --out (atomically).",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="built-in names (see `flowsim list`) or .toml files; the first is the reference")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.set_defaults(func=_cmd_compare)


def _labels(scenarios) -> list[str]:
    """Scenario names, numbered (``name #2``) when the same name appears again."""
    out = []
    for sc in scenarios:
        label, n = sc.name, 1
        while label in out:
            n += 1
            label = f"{sc.name} #{n}"
        out.append(label)
    return out


def _cmd_compare(args) -> int:
    from .. import io as fio
    from .._formatting import comparison_text
    from ..analysis.compare import compare_results
    from ..runner import run as run_scenario
    from ..scenario.library import load_scenario

    if len(args.scenarios) < 2:
        raise ScenarioError("compare needs at least two scenarios (the first is the reference); "
                            f"got {len(args.scenarios)}.")
    scenarios = [load_scenario(name) for name in args.scenarios]   # every input is checked before running
    labels = _labels(scenarios)
    with fio.OutputStage(args.out, "compare") as stage:      # the folder is ours (locked) before any work
        results = [run_scenario(sc) for sc in scenarios]
        differences = compare_results(results, labels)
        fio.atomic_write_text(stage.file("comparison.csv"), fio.comparison_csv_text(differences))
        figures = [] if args.no_figures else _write_figures(results, labels, stage)
    print(comparison_text(differences))
    print("\nwrote comparison.csv" + (f", {', '.join(figures)}" if figures else "") + f" to {args.out}"
          + stage.removed_note())
    return 0


def _write_figures(results, labels, stage) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_net_overlay_grid

    first = min(FIRST_DAYS, min(r.dates.size for r in results) - 1)
    names = []
    for stem, kwargs in (("net_impact", {}), (f"net_impact_first_{first}_days", {"days": first}),
                         ("cumulative_net", {"cumulative": True}), ("residents", {"variable": "residents"}),
                         ("fiscal", {"variable": "fiscal"})):
        fig, _ = plot_net_overlay_grid(results, labels=labels, **kwargs)
        fig.savefig(stage.file(f"{stem}.png"), dpi=110)
        plt.close(fig)
        names.append(f"{stem}.png")
    return names
