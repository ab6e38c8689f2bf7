"""Benchmark: where users wait (issue 13). Every section prints a table of ratios measured in one run.

Run from the repository root::

    python benchmarks/bench_speed.py                           # every section (10-20 minutes on 2 cores)
    python benchmarks/bench_speed.py --only startup            # import, --help, list, run (about a minute)
    python benchmarks/bench_speed.py --only ensemble --sizes 1 14 100 1000
    python benchmarks/bench_speed.py --only ensemble --sizes 1 14 100 1000 --loop-max 20 --batch-max 100
    python benchmarks/bench_speed.py --only scaling profile
    python benchmarks/bench_speed.py --root /path/to/other/checkout   # the same tables for another version
    python benchmarks/bench_speed.py --only summaries --before /path/to/older/checkout

Sections
--------
startup
    Wall time of fresh processes, each the best of ``--repeats`` runs taken in
    turn: ``python -c "import numpy, scipy.integrate, matplotlib.pyplot"`` (the
    baseline every other row is divided by), ``import flowsim``, ``flowsim
    --help``, ``flowsim list``, ``flowsim run kazakhstan-2022 --out DIR`` with
    and without figures.
ensemble
    For each N, the same N members of ``kazakhstan-2022`` (8 hosts, 5 years,
    every parameter over its shipped range, ``k`` included) solved by:
    ``flowsim.ensemble`` (step plan made in the call; and again with the plan
    cached), with its default kernel (numba when it imports) and, in the same
    run, with the numpy kernel (``solver_options={"kernel": "numpy"}``), each
    the best of ``--repeats`` runs (default 3; "plan made in the call" on a
    fresh copy of the scenario every time, and the previous result kept
    meanwhile, as a user keeps results); a
    per-member ``solve_ivp`` RK45 loop at the ensemble's
    tolerances (rtol 3e-6, atol 3e-4 people); one ``solve_ivp`` RK45 over the
    whole batch (same tolerances); a fixed-step numpy RK4 over the batch
    (``--rk4-step`` days, default 0.5). Deviation: the largest ``|x - ref|``
    of the series N and net over members, hosts and days, relative to each
    series' peak, against a tight reference (per-member RK45 at rtol 1e-10,
    atol 1e-8) of the first ``--ref-members`` members.
scaling
    Ensemble ms per member at N=100 for horizons of 1, 2, 5 and 10 years,
    and for 1, 2, 4 and 8 hosts (the first hosts of the seed scenario).
profile
    Where the time of one ensemble (N=1000) and of one ``flowsim run`` goes.
summaries
    The cost of an ensemble outside its solver, per member: the summary
    figures (``summary_arrays``: statuses, crossings, break-even, sums, present
    values, timed inside each chunk) and the quantiles of the kept series
    (``N`` and ``net``, as ``flowsim sweep`` writes them), beside the whole
    ``flowsim.ensemble`` call, at N = ``--summary-sizes`` (default 14, 100,
    1000), with the numba and the numpy kernel (``FLOWSIM_KERNEL``), best of
    ``--repeats`` runs in a fresh process per version. With ``--before
    CHECKOUT`` the older version runs in turn with this one and the table
    gives the ratios before / after.

Timings depend on the machine and its load (2 cores here, shared): compare the
ratios within one run, not seconds across runs. No test asserts any of them.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "kazakhstan-2022"
SEED = 20221021
TOL = {"rtol": 3e-6, "atol": 3e-4}            # the ensemble solver's defaults
TIGHT = {"rtol": 1e-10, "atol": 1e-8}


def _setup(root: Path):
    sys.path.insert(0, str(root))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    global flowsim, bench
    # flowsim first, from root: bench_ensemble puts the checkout of this script first on sys.path
    flowsim = importlib.import_module("flowsim")
    import bench_ensemble as bench  # noqa: E402  (the per-member loops and their right-hand side)

    assert Path(flowsim.__file__).resolve().is_relative_to(root.resolve()), flowsim.__file__


def _table(title: str, header: list[str], rows: list[list]) -> None:
    cells = [[str(c) for c in header]] + [[c if isinstance(c, str) else f"{c:.3g}" if isinstance(c, float)
                                           else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    sys.stdout.flush()


# ---------------------------------------------------------------- startup
def startup(root: Path, repeats: int) -> None:
    out = tempfile.mkdtemp(prefix="flowsim-bench-")
    py = sys.executable
    commands = {
        "python -c 'import numpy, scipy.integrate, matplotlib.pyplot' (baseline)":
            [py, "-c", "import numpy, scipy.integrate, matplotlib.pyplot"],
        "python -c 'import flowsim'": [py, "-c", "import flowsim"],
        "flowsim --help": [py, "-m", "flowsim", "--help"],
        "flowsim list": [py, "-m", "flowsim", "list"],
        f"flowsim run {SCENARIO} --out DIR": [py, "-m", "flowsim", "run", SCENARIO, "--out", out],
        f"flowsim run {SCENARIO} --out DIR --no-figures": [py, "-m", "flowsim", "run", SCENARIO, "--out", out,
                                                           "--no-figures"],
    }
    env = dict(os.environ, PYTHONPATH=str(root))
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(repeats):
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, cwd=tempfile.gettempdir(), check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t0)
    base = min(next(iter(times.values())))
    rows = [[name, min(v), statistics.median(v), min(v) / base] for name, v in times.items()]
    _table(f"startup: wall seconds of a fresh process, best and median of {repeats} (root {root})",
           ["command", "best s", "median s", "best / baseline"], rows)


# ---------------------------------------------------------------- ensemble
def _members(scenario, n: int):
    """The ensemble's own members: values, and a batch of them in the layout of the largest k."""
    from flowsim.scenario.sampling import parse_vary, scale_sample, unit_sample
    from flowsim.simulate import MemberInputs

    dims = parse_vary(scenario.params, None, initial=scenario.initial)
    root_seed = np.random.SeedSequence(SEED)
    sample_seed, _ = root_seed.spawn(2)
    values = scale_sample(dims, unit_sample(n, len(dims), "lhs", sample_seed))
    inputs = MemberInputs.from_values(scenario, dims, values)
    arrays = inputs.start
    batch = inputs.batch(k=int(max(d.high for d in dims if d.name == "k")))
    return [{name: a[m] for name, a in arrays.items()} for m in range(n)], batch


def _series(states, k: int, values: dict):
    """N and net (H, D) of one member from its states (H, C, D) in a layout of ``k`` stages."""
    from flowsim.model.economy import ECONOMY_PARAMETERS, economy_series
    from flowsim.scenario.layout import Layout

    lay = Layout(k)
    econ = {n: np.asarray(values[n], float)[None, :, None] for n in ECONOMY_PARAMETERS}
    net = economy_series(states[None], lay, econ)[0, :, flowsim.ECONOMY_VARIABLES.index("net")]
    return states[:, lay.present].sum(axis=1), net


def _deviation(pairs) -> float:
    """max |x - ref| / peak |ref| over members, hosts and days (peak per host and member, at least 1)."""
    dev = 0.0
    for x, ref in pairs:
        peak = np.maximum(np.abs(ref).max(axis=-1, keepdims=True), 1.0)
        dev = max(dev, float((np.abs(x - ref) / peak).max()))
    return dev


def rk4(batch, horizon: int, step: float) -> np.ndarray:
    """Classical RK4 with a fixed step over the whole batch (numpy, FlowRHS); states (M, H, C, D)."""
    from flowsim.model.rhs import FlowRHS
    from flowsim.solve.ivp import enter_segment, segment_edges

    rhs = FlowRHS(batch)
    edges = segment_edges(batch, horizon)
    n_sub = max(1, round(1.0 / step))
    Y = rhs.to_compartment_major(batch.y0)
    out = np.empty((horizon + 1, *Y.shape))
    out[0] = Y
    k1, k2, k3, k4 = (np.empty_like(Y) for _ in range(4))
    for t0, t1 in zip(edges[:-1], edges[1:]):
        assert t0 == int(t0) and t1 == int(t1), "the RK4 benchmark needs breakpoints on whole days"
        enter_segment(rhs, batch, t0, t1)
        h = 1.0 / n_sub
        for day in range(int(t0), int(t1)):
            for j in range(n_sub):
                t = day + j * h
                rhs.derivative(t, Y, k1)
                rhs.derivative(t + h / 2, Y + h / 2 * k1, k2)
                rhs.derivative(t + h / 2, Y + h / 2 * k2, k3)
                rhs.derivative(t + h, Y + h * k3, k4)
                Y = Y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            out[day + 1] = Y
    return np.ascontiguousarray(out.transpose(3, 2, 1, 0))


def batch_ivp(batch, horizon: int) -> np.ndarray:
    """One solve_ivp RK45 over the flattened batch at the ensemble's tolerances; states (M, H, C, D)."""
    from flowsim.solve.ivp import IvpSolver

    solver = IvpSolver()
    solver.rtol, solver.atol = TOL["rtol"], TOL["atol"]       # past its 1e-6 bound: the same tolerance as the rest
    return solver.solve(batch, horizon).y


def _best_ensemble(scenario, n: int, repeats: int, *, fresh: bool, kernel: str | None = None):
    """``flowsim.ensemble`` of ``n`` members ``repeats`` times: (last result, best seconds, scenario used last).

    ``fresh``: every run on a new copy of ``scenario`` (``scenario.replace()``: no step plan cached, so the
    plan is made in the call); else on ``scenario`` itself (its plan cached by an earlier call). The last
    result is kept while the next run is solved, as a user keeps results: its memory is not reused.
    """
    best, ens, sc = math.inf, None, scenario
    for _ in range(repeats):
        sc = scenario.replace() if fresh else scenario
        t0 = time.perf_counter()
        ens = flowsim.ensemble(sc, n, seed=SEED, progress=False, solver_options={"kernel": kernel} if kernel else None)
        best = min(best, time.perf_counter() - t0)
    return ens, best, sc


def ensemble_table(sizes, ref_members: int, rk4_step: float, loop_max: int, batch_max: int, repeats: int) -> None:
    from flowsim.scenario.arrivals import CompiledArrivals

    scenario = flowsim.load_scenario(SCENARIO)
    horizon = scenario.horizon_days
    arrivals = CompiledArrivals.build(scenario.hosts, scenario.arrivals, scenario.closures, scenario.start,
                                      scenario.diversion)
    edges = [0.0, *arrivals.breakpoints(horizon), float(horizon)]
    for kernel in ("numpy", None):                    # warm up the imports (and load numba's compiled kernels)
        flowsim.ensemble(scenario.replace(horizon_days=30), 2, seed=1, progress=False,
                         solver_options={"kernel": kernel} if kernel else None)
    rows = []
    for n in sizes:
        ens, t_ens, sc = _best_ensemble(scenario, n, repeats, fresh=True)
        _, t_warm, _ = _best_ensemble(sc, n, repeats, fresh=False)
        members, batch = _members(sc, n)
        k_ref = batch.layout.k
        n_ref = min(n, ref_members)
        ref = [_series(bench.loop_member(sc, v, arrivals, edges, **TIGHT), int(v["k"]), v) for v in members[:n_ref]]

        def dev_states(states, k, n_ref=n_ref, members=members, ref=ref):
            return _deviation((a, r) for m in range(n_ref) for a, r in zip(_series(states[m], k, members[m]), ref[m]))

        dev_ens = _deviation((a, r) for m in range(n_ref)
                             for a, r in zip((ens.series["N"][m], ens.series["net"][m]), ref[m]))
        kernel = ens.stats["options"].get("kernel", "numpy")
        rows.append([n, f"flowsim.ensemble, {kernel} kernel (plan made in the call)", t_ens, t_ens / n * 1e3, 1.0,
                     dev_ens])
        rows.append([n, f"flowsim.ensemble, {kernel} kernel (plan cached)", t_warm, t_warm / n * 1e3,
                     t_warm / t_ens, dev_ens])
        if kernel != "numpy":                                   # the default install's kernel, in the same run
            sc_np = scenario
            for label, fresh in (("plan made in the call", True), ("plan cached", False)):
                ens_np, t_np, sc_np = _best_ensemble(sc_np, n, repeats, fresh=fresh, kernel="numpy")
                dev_np = _deviation((a, r) for m in range(n_ref)
                                    for a, r in zip((ens_np.series["N"][m], ens_np.series["net"][m]), ref[m]))
                rows.append([n, f"flowsim.ensemble, numpy kernel ({label})", t_np, t_np / n * 1e3, t_np / t_ens,
                             dev_np])
        n_loop = min(n, loop_max)
        t0 = time.perf_counter()
        loop = [bench.loop_member(sc, v, arrivals, edges, **TOL) for v in members[:n_loop]]
        t_loop = (time.perf_counter() - t0) * n / n_loop
        dev_loop = _deviation((a, r) for m in range(n_ref)
                              for a, r in zip(_series(loop[m], int(members[m]["k"]), members[m]), ref[m]))
        label = "per-member solve_ivp RK45 loop" + ("" if n_loop == n else f" ({n_loop} members, scaled)")
        rows.append([n, label, t_loop, t_loop / n * 1e3, t_loop / t_ens, dev_loop])
        if n > batch_max:
            print(f"  N={n}: plan {ens.stats['plan_steps']} steps, {len(ens.stats['fallbacks'])} fallback(s); "
                  f"batch solve_ivp and RK4 skipped (--batch-max {batch_max})", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        states = batch_ivp(batch, horizon)
        t_batch = time.perf_counter() - t0
        rows.append([n, "one solve_ivp RK45 over the batch", t_batch, t_batch / n * 1e3, t_batch / t_ens,
                     dev_states(states, k_ref)])
        t0 = time.perf_counter()
        states = rk4(batch, horizon, rk4_step)
        t_rk4 = time.perf_counter() - t0
        rows.append([n, f"fixed-step numpy RK4 (h = {rk4_step:g} day)", t_rk4, t_rk4 / n * 1e3, t_rk4 / t_ens,
                     dev_states(states, k_ref)])
        print(f"  N={n}: plan {ens.stats['plan_steps']} steps, {len(ens.stats['fallbacks'])} fallback(s)",
              file=sys.stderr)
    _table(f"ensemble: {SCENARIO}, every parameter over its range, seed {SEED}; tolerances rtol {TOL['rtol']:g}, "
           f"atol {TOL['atol']:g} people; flowsim.ensemble rows: best of {repeats} runs (a fresh scenario copy "
           f"each for 'plan made in the call', the last result kept meanwhile), the other rows one run; "
           f"ratio = seconds / ensemble seconds (plan made in the call); deviation "
           f"= max |x - ref| / peak of N and net against per-member RK45 at rtol 1e-10 ({ref_members} members)",
           ["N", "method", "seconds", "ms/member", "ratio", "max deviation"], rows)


# ---------------------------------------------------------------- scaling
def scaling(n: int = 100) -> None:
    scenario = flowsim.load_scenario(SCENARIO)
    rows = []
    for years in (1, 2, 5, 10):
        sc = scenario.replace(horizon_days=365 * years + (years + 2) // 4)
        t0 = time.perf_counter()
        ens = flowsim.ensemble(sc, n, seed=SEED, progress=False)
        dt = time.perf_counter() - t0
        rows.append([f"horizon {years} year(s), 8 hosts", ens.stats["plan_steps"], dt / n * 1e3])
    for n_hosts in (1, 2, 4, 8):
        hosts = scenario.hosts[:n_hosts]
        sc = scenario.replace(params=scenario.params.select(hosts),
                              arrivals={h: s for h, s in scenario.arrivals.items() if h in hosts},
                              closures={h: c for h, c in scenario.closures.items() if h in hosts},
                              diversion={})
        t0 = time.perf_counter()
        ens = flowsim.ensemble(sc, n, seed=SEED, progress=False)
        dt = time.perf_counter() - t0
        rows.append([f"{n_hosts} host(s) ({', '.join(hosts)}), 5 years", ens.stats["plan_steps"], dt / n * 1e3])
    _table(f"scaling: flowsim.ensemble at N={n} (plan made in the call)", ["case", "plan steps", "ms/member"], rows)


# ---------------------------------------------------------------- profile
class _Clock:
    """Wall time spent inside some functions (wrapped in place), by label."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def wrap(self, owner, name: str, label: str) -> None:
        fn = getattr(owner, name)
        clock = self

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                clock.seconds[label] = clock.seconds.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, timed)


def profile(n: int = 1000) -> None:
    from flowsim.model import rhs
    from flowsim.solve import dopri, sinks
    from flowsim.uncertainty import chunks

    clock = _Clock()
    labels = ["step plan (reference members, adaptive)",
              "Dormand-Prince steps, plan and replay (with their RHS calls)",
              "  of which: right-hand side (FlowRHS.derivative)",
              "dense output to the kept series (Projected sink)",
              "summary figures (peaks, crossover, breakeven, PV...)"]
    clock.wrap(chunks, "_plan", labels[0])
    clock.wrap(dopri.Stepper, "step", labels[1])
    clock.wrap(rhs.FlowRHS, "derivative", labels[2])
    clock.wrap(sinks.Projected, "step", labels[3])
    clock.wrap(chunks, "summary_arrays", labels[4])
    scenario = flowsim.load_scenario(SCENARIO)
    flowsim.ensemble(scenario.replace(horizon_days=30), 2, seed=1, progress=False)
    clock.seconds.clear()
    t0 = time.perf_counter()
    flowsim.ensemble(scenario, n, seed=SEED, progress=False)
    total = time.perf_counter() - t0
    rows = [[label, clock.seconds[label], clock.seconds[label] / total, clock.seconds[label] / n * 1e3]
            for label in labels if label in clock.seconds]
    rows.append(["total", total, 1.0, total / n * 1e3])
    _table(f"profile: one flowsim.ensemble of {n} members", ["part", "seconds", "share", "ms/member"], rows)


# ---------------------------------------------------------------- summaries
_SUMMARY_WORKER = r"""
import json, sys, time
import flowsim
from flowsim.uncertainty import chunks
n, repeats = int(sys.argv[1]), int(sys.argv[2])
spent = [0.0]
inner = chunks.summary_arrays
def timed(*args, **kwargs):
    t0 = time.perf_counter()
    try:
        return inner(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - t0
chunks.summary_arrays = timed
sc = flowsim.load_scenario(sys.argv[3])
flowsim.ensemble(sc.replace(horizon_days=30), 2, seed=1, progress=False)      # load compiled kernels
best = {}
for _ in range(repeats):
    spent[0] = 0.0
    t0 = time.perf_counter()
    ens = flowsim.ensemble(sc, n, seed=int(sys.argv[4]), progress=False)
    whole = time.perf_counter() - t0
    t0 = time.perf_counter()
    for v in ("N", "net"):
        ens.quantiles(v)
    got = {"ensemble": whole, "summary": spent[0], "quantiles": time.perf_counter() - t0}
    best = {k: min(v, best.get(k, v)) for k, v in got.items()}
print(json.dumps({**best, "flowsim": flowsim.__file__}))
"""


def summaries(root: Path, sizes, before: Path | None, repeats: int) -> None:
    """ms per member of the summary figures and the quantiles beside the whole ensemble, before and after."""
    import json

    versions = [("after", root)] + ([("before", before)] if before else [])
    rows, measured = [], {}
    for n in sizes:
        for kernel in ("numba", "numpy"):
            for name, checkout in versions:
                env = dict(os.environ, PYTHONPATH=str(checkout), FLOWSIM_KERNEL=kernel)
                out = subprocess.run([sys.executable, "-c", _SUMMARY_WORKER, str(n), str(repeats), SCENARIO,
                                      str(SEED)], env=env, capture_output=True, text=True, check=True,
                                     cwd=checkout)                    # not this checkout first on sys.path
                measured[n, kernel, name] = got = json.loads(out.stdout.strip().splitlines()[-1])
                assert Path(got.pop("flowsim")).resolve().is_relative_to(Path(checkout).resolve()), got
                ms = {k: v / n * 1e3 for k, v in got.items()}
                rows.append([n, kernel, name, ms["ensemble"], ms["summary"], got["summary"] / got["ensemble"],
                             ms["quantiles"]])
    _table(f"summaries: ms per member outside the solver, best of {repeats} ({SCENARIO}, seed {SEED})",
           ["N", "kernel", "version", "ensemble", "summary figures", "summary share", "quantiles N, net"], rows)
    if before:
        ratios = [[n, kernel, *(measured[n, kernel, "before"][k] / measured[n, kernel, "after"][k]
                                for k in ("ensemble", "summary", "quantiles"))]
                  for n in sizes for kernel in ("numba", "numpy")]
        _table("summaries: before / after (seconds, same run)",
               ["N", "kernel", "ensemble", "summary figures", "quantiles N, net"], ratios)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", choices=("startup", "ensemble", "scaling", "profile", "summaries"),
                    default=("startup", "ensemble", "scaling", "profile", "summaries"))
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout of flowsim to measure (default this one)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="runs of each startup command and summaries worker (default 5), and of each "
                         "flowsim.ensemble row of the ensemble section (best taken; default 3)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 14, 100, 1000], help="ensemble sizes N")
    ap.add_argument("--ref-members", type=int, default=10, help="members checked against the tight reference")
    ap.add_argument("--loop-max", type=int, default=1000,
                    help="members the per-member loop solves (its time is scaled to N beyond; default 1000)")
    ap.add_argument("--batch-max", type=int, default=10**9,
                    help="largest N for the one-batch solve_ivp and the RK4 rows (minutes each at N=1000)")
    ap.add_argument("--rk4-step", type=float, default=0.5, help="step of the fixed-step RK4, days (default 0.5)")
    ap.add_argument("--summary-sizes", type=int, nargs="+", default=[14, 100, 1000],
                    help="ensemble sizes N of the summaries section")
    ap.add_argument("--before", type=Path, help="older checkout timed in turn with this one (summaries section)")
    args = ap.parse_args(argv)
    _setup(args.root)
    print(f"flowsim {flowsim.__version__} from {Path(flowsim.__file__).parent}; python {sys.version.split()[0]}; "
          f"numpy {np.__version__}; {os.cpu_count()} cores")
    if args.repeats is not None and args.repeats < 1:
        ap.error(f"--repeats must be >= 1; got {args.repeats}")
    if "startup" in args.only:
        startup(args.root, args.repeats or 5)
    if "ensemble" in args.only:
        ensemble_table(args.sizes, args.ref_members, args.rk4_step, args.loop_max, args.batch_max, args.repeats or 3)
    if "scaling" in args.only:
        scaling()
    if "profile" in args.only:
        profile()
    if "summaries" in args.only:
        summaries(args.root, args.summary_sizes, args.before, args.repeats or 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
