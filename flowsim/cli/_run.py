"""``flowsim run SCENARIO --out DIR``: run, print the summary, write the outputs atomically.

``SCENARIO`` is a built-in name, a TOML scenario file or a ``resolved.json``
from an earlier run (which reproduces that run).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

#: The close-up figures show the arrival phase: the first this many days.
FIRST_DAYS = 120


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run a scenario and write its outputs",
        description="Run a scenario; print each host's accounts; write summary.csv (per host and balance), "
                    "timeseries.csv, resolved.json and PNG figures (accounts, population, boost-burden) into --out "
                    "(atomically). SCENARIO is a built-in name, a "
                    "TOML scenario file (see `flowsim init` and docs/scenarios.md) or a resolved.json from an "
                    "earlier run.",
    )
    p.add_argument("scenario", help="built-in name (see `flowsim list`), a .toml file or a resolved.json")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument("--method", default=None, help="solve_ivp method (default RK45)")
    p.add_argument("--rtol", type=float, default=None,
                   help="relative tolerance, in [2.2e-14, 1e-6] (default 1e-8)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--save-result", action="store_true",
                   help="also write result.npz (every array and input; load with flowsim.load_result)")
    p.set_defaults(func=_cmd_run)


def _cmd_run(args) -> int:
    from .. import io as fio  # numpy: imported once, before the fork
    from ._figures import FigureWorker

    # The figure worker starts first: it imports matplotlib and makes the empty figures while this process
    # imports scipy, loads the scenario and solves it (issue 13).
    with FigureWorker(enabled=not args.no_figures) as worker:
        from ..runner import run as run_scenario
        from ..scenario.library import load_scenario

        scenario = load_scenario(args.scenario)
        options = recorded_solver_options(args.scenario)
        options.update({k: v for k, v in (("method", args.method), ("rtol", args.rtol)) if v is not None})
        # worker.bound(): an error stops the worker before the stage is removed, so no figure lands after it
        with fio.OutputStage(args.out, "run") as stage, worker.bound():
            if not args.no_figures:
                worker.prepare({path: make for path, _, _, _, make in figure_plan(scenario.hosts,
                                                                                  scenario.horizon_days + 1, stage)})
            t0 = time.perf_counter()
            result = run_scenario(scenario, **options)
            elapsed = time.perf_counter() - t0
            plan = [] if args.no_figures else figure_plan(result.hosts, result.dates.size, stage)
            jobs = [(path, draw, kwargs) for path, draw, kwargs, _, _ in plan]
            worker.submit(result, jobs, [cost for _, _, _, cost, _ in plan])   # drawn while the tables are written
            fio.atomic_write_text(stage.file("summary.csv"), fio.summary_csv_text(result))
            fio.atomic_write_text(stage.file("timeseries.csv"), fio.timeseries_csv_text(result))
            fio.atomic_write_text(stage.file("resolved.json"), fio.resolved_json_text(result))
            written = ["summary.csv", "timeseries.csv", "resolved.json"]
            if args.save_result:
                result.save(stage.file("result.npz"))
                written.append("result.npz")
            worker.wait()
            written += [path.name for path, _, _ in jobs]
    print(result)
    print(f"\nsolved in {elapsed:.2f} s; wrote {', '.join(written)} to {args.out}" + stage.removed_note())
    return 0


def recorded_solver_options(name) -> dict:
    """``method`` and ``rtol`` recorded in a resolved.json (so a re-run reproduces it); {} otherwise."""
    if not str(name).endswith(".json"):
        return {}
    try:
        solver = json.loads(Path(name).read_text(encoding="utf-8")).get("solver", {})
    except (OSError, ValueError, AttributeError):
        return {}   # load_scenario has already reported anything wrong with the file
    options = {k: solver[k] for k in ("method", "rtol") if isinstance(solver, dict) and k in solver}
    from ..exceptions import SolverError
    from ..solve.ivp import IvpSolver

    try:
        IvpSolver(**options)
    except SolverError as exc:
        raise SolverError(f"{name}, key solver: {exc}") from None
    return options


def figure_jobs(result, stage) -> list:
    """The figures of a run, ``(path, draw, kwargs)`` each: the accounts (in pages of
    :data:`~flowsim.plotting.accounts.HOSTS_PER_PAGE` hosts), population and boost-burden grids, whole and
    close-up."""
    return [(path, draw, kwargs) for path, draw, kwargs, _, _ in figure_plan(result.hosts, result.dates.size, stage)]


#: Relative drawing cost of one panel (CPU seconds measured for kazakhstan-2022, figures made ahead: 0.85 s for
#: the 32 panels of accounts.png, 0.33-0.47 s for the 8 panels of each other grid).
PANEL_COST = {"accounts": 1.0, "grid": 2.0}


def figure_plan(hosts, n_dates: int, stage) -> list:
    """The figures of a run of ``hosts`` over ``n_dates`` days (known before the solve):
    ``(path, draw, kwargs, cost, (make, make_kwargs))`` each, ``make`` giving the empty figure that ``draw`` fills
    (``fig=``) and ``cost`` the figure's relative drawing time (:data:`PANEL_COST` per panel)."""
    from ..plotting import plot_accounts_grid, plot_boost_burden_grid, plot_population_grid
    from ..plotting._common import prepare_grid
    from ..plotting.accounts import ACCOUNT_PANELS, HOSTS_PER_PAGE, prepare_accounts_grid

    hosts = tuple(hosts)
    pages = [hosts[lo:lo + HOSTS_PER_PAGE] for lo in range(0, len(hosts), HOSTS_PER_PAGE)]
    plan = [(stage.file("accounts.png" if i == 0 else f"accounts_{i + 1}.png"), plot_accounts_grid, {"hosts": page},
             PANEL_COST["accounts"] * len(page) * len(ACCOUNT_PANELS),
             (prepare_accounts_grid, {"n_hosts": len(page)})) for i, page in enumerate(pages)]
    first = min(FIRST_DAYS, n_dates - 1)
    return plan + [(stage.file(f"{stem}{suffix}.png"), draw, {"days": days}, PANEL_COST["grid"] * len(hosts),
                    (prepare_grid, {"n": len(hosts)}))
                   for stem, draw in (("population", plot_population_grid), ("boost_burden", plot_boost_burden_grid))
                   for suffix, days in (("", None), (f"_first_{first}_days", first))]
