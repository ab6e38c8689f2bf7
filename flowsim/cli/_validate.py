"""``flowsim validate SCENARIO --until DATE --out DIR``: fit on early figures, predict the later ones."""

from __future__ import annotations

import time

from ._observation_options import add_observation_options, observations_from, priors_from


def register(sub) -> None:
    p = sub.add_parser(
        "validate", help="fit on observations up to a date, predict the later ones, write the errors",
        description="Out-of-sample validation: fit the chosen parameters of SCENARIO to the observations "
                    "whose window ends on or before --until, predict the others, and write validation.csv "
                    "(observed, bounds, predicted, error per observation), estimates.csv (fitted values with "
                    "95% intervals) and validation.png into --out (atomically). See docs/calibration.md.",
    )
    p.add_argument("scenario", help="built-in name (see `flowsim list`), a .toml file or a resolved.json")
    p.add_argument("--until", required=True, metavar="DATE",
                   help="last day of the fitting period (YYYY-MM-DD): observations ending later are predicted")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    add_observation_options(p)
    p.add_argument("--no-figures", action="store_true", help="skip validation.png")
    p.set_defaults(func=_cmd_validate)


def _cmd_validate(args) -> int:
    from .. import io as fio
    from ..calibration import validate
    from ..scenario.library import load_scenario

    scenario = load_scenario(args.scenario)
    observations = observations_from(args, scenario)
    with fio.OutputStage(args.out, "validate") as stage:     # the folder is ours (locked) before any work
        t0 = time.perf_counter()
        params = args.params
        inside = observations.until(args.until)
        if params is None and len(inside):
            from ..calibration import default_fit_parameters

            params = default_fit_parameters(scenario, inside)
        val = validate(scenario, observations, args.until, params, starts=args.starts, seed=args.seed,
                       priors=priors_from(args, params or ()))
        elapsed = time.perf_counter() - t0
        fio.atomic_write_text(stage.file("validation.csv"), fio.validation_csv_text(val))
        fio.atomic_write_text(stage.file("estimates.csv"), fio.estimates_csv_text(val.calibration))
        if not args.no_figures:
            _write_figure(val, stage)
    print(val)
    names = "validation.csv, estimates.csv" + ("" if args.no_figures else ", validation.png")
    print(f"\nfitted in {elapsed:.1f} s; wrote {names} to {args.out}" + stage.removed_note())
    return 0


def _write_figure(val, stage) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    artists = val.plot()
    fig = artists["predicted"][0].figure
    fig.savefig(stage.file("validation.png"), dpi=110)
    plt.close(fig)
