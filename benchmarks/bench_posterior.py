"""Benchmark: the cost of one posterior walker, and the KAZ chain run long (issues 13 and 15).

Run from the repository root::

    python benchmarks/bench_posterior.py                       # this checkout
    python benchmarks/bench_posterior.py --root /path/to/other/checkout   # the same table for another version
    python benchmarks/bench_posterior.py --solver ensemble    # the walkers on the ensemble solver
    python benchmarks/bench_posterior.py --solver ensemble --chain 3000 --moves stretch de
                                                              # whole chains: mixing of emcee's moves

The problem is the Kazakhstan chain of docs/calibration.md, "Posterior
sample (MCMC)": the seed ``kazakhstan-2022`` fitted to the 24 Kazakhstan
figures (pulse total, shape and scale, ``tau_T``, ``q_ret``, two background
levels; one start), the log posterior evaluated for a half-ensemble of 14
walkers around the optimum (what emcee's vectorised stretch move asks for,
28 walkers), ``--repeats`` times. Rows:

* ``batch``: :meth:`LogPosterior.batch` of the 14 walkers (one batch run of
  the model with per-walker pulses), per walker;
* ``one by one``: the same 14 walkers, one run each (``vectorize=False``:
  the fit's own objective), per walker: the baseline of the ratio;
* the parts of ``batch``: building the walkers' inputs (value arrays, pulses
  and background levels; before issue 14 a scenario per walker), solving
  (with each walker's parameter set for the result), and predicting the
  figures, per walker.

With ``--chain STEPS`` the script instead fits as docs/calibration.md does
(six starts, seed 0), then runs the whole chain
``fit.sample_posterior(n_walkers=28, n_steps=STEPS, burn=150, seed=1,
solver=..., moves=...)`` once for each of ``--moves`` (one fit shared by
them) and prints, per moves: the wall time of ``sample_posterior``, walker
evaluations, ms per walker, the acceptance fraction, each parameter's
integrated autocorrelation time, the chain after burn-in in units of the
longest, whether it reaches emcee's 50, and the medians and 95% intervals.
Its header says the machine's load (``uptime``) before the fit.

Timings depend on the machine and its load (2 cores here, shared): compare
the ratios within one run, not seconds across runs. No test asserts any of them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ["pulse.total[KAZ]", "pulse.shape[KAZ]", "pulse.scale_days[KAZ]", "tau_T[KAZ]", "q_ret[KAZ]",
          "background[KAZ]", "background[KAZ@2022-10-01]"]
WALKERS = 14
CHAIN_WALKERS, CHAIN_BURN, CHAIN_SEED = 28, 150, 1


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose flowsim is measured")
    ap.add_argument("--repeats", type=int, default=10, help="best of this many evaluations (default 10)")
    ap.add_argument("--solver", default="ivp", choices=("ivp", "ensemble"),
                    help="the walkers' solver (default the posterior's: ivp; ensemble: a step plan per batch)")
    ap.add_argument("--kernel", default=None, choices=("numpy", "numba"),
                    help="the ensemble solver's kernel (default: FLOWSIM_KERNEL, else numba when it imports)")
    ap.add_argument("--chain", type=int, default=0, metavar="STEPS",
                    help="run whole chains of STEPS steps instead (28 walkers, burn 150, seed 1) and report mixing")
    ap.add_argument("--moves", nargs="+", default=["stretch"], choices=("stretch", "de"),
                    help="with --chain: emcee's moves, one chain each after one fit (default stretch)")
    args = ap.parse_args(argv)
    if args.chain and args.chain <= CHAIN_BURN:
        ap.error(f"--chain must be more than the burn-in of {CHAIN_BURN} steps; got {args.chain}")
    sys.path.insert(0, str(args.root))
    import flowsim
    from flowsim.calibration import posterior as posterior_module

    assert Path(flowsim.__file__).resolve().is_relative_to(args.root.resolve()), flowsim.__file__
    LogPosterior = posterior_module.LogPosterior
    problem = posterior_module.problem
    from flowsim.calibration.objective import SOLVER_DEFAULTS as defaults
    from flowsim.calibration.objective import walker_inputs

    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    if args.chain:
        return chains(flowsim, kaz, args)
    fit = flowsim.calibrate(flowsim.load_scenario("kazakhstan-2022"), kaz, PARAMS, starts=1)
    model = fit.observation_model.replace_background(fit.initial_background)
    vector, active, _ = problem(fit.initial_scenario, model, list(fit.parameters), fit.horizon_days,
                                what="bench: ", purpose="condition on")
    options = dict(defaults, solver=args.solver, **({"kernel": args.kernel} if args.kernel else {}))
    logpost = LogPosterior(vector, model, active, options, "log-uniform", 1.0)
    center = vector.to_transformed([fit.values[label] for label in vector.labels])
    Z = center + 0.01 * np.random.default_rng(1).standard_normal((WALKERS, center.size))
    logpost.batch(Z)                                               # warm caches and imports

    batch = _best(lambda: logpost.batch(Z), args.repeats)
    rng = np.random.default_rng(2)                                 # fresh walkers each time: the fit's
    single = _best(lambda: [logpost(z) for z in Z + 1e-4 * rng.standard_normal(Z.shape)],  # objective caches runs
                   max(1, args.repeats // 3))
    built = {}

    def build():
        built["X"] = np.array([vector.to_natural(z) for z in Z])
        built["inputs"] = walker_inputs(vector, built["X"])
        built["background"] = [logpost._background(x) for x in built["X"]]

    build_t = _best(build, args.repeats)
    results = []

    def solve():
        results[:] = list(logpost._solve(built["inputs"], np.arange(WALKERS)))

    solve_t = _best(solve, args.repeats)
    members, res = results[0]

    def predict():
        for m, i in enumerate(members):
            model.predict(res, member=m, background=built["background"][i])

    predict_t = _best(predict, args.repeats)
    rows = [("batch of 14 (LogPosterior.batch)", batch), ("one by one (vectorize=False)", single),
            ("  part: build the walkers' inputs", build_t), ("  part: solve the batch", solve_t),
            ("  part: predict the figures", predict_t)]
    print(f"flowsim {flowsim.__version__} at {args.root}: KAZ posterior, {len(PARAMS)} parameters, "
          f"{WALKERS} walkers, best of {args.repeats}; solver options {options}")
    print(f"{'what':40s} {'ms / walker':>12s} {'one by one / this':>18s}")
    for label, t in rows:
        per = 1e3 * t / WALKERS
        print(f"{label:40s} {per:12.2f} {single / t:18.2f}")
    print(f"(median of the walkers' log posterior: {statistics.median(logpost.batch(Z).tolist()):.4f}, "
          "the same in every version that computes the same numbers)")
    return 0


def _load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def chains(flowsim, kaz, args) -> int:
    """``--chain``: fit with six starts, then one whole chain per moves; print what they cost and how they mix."""
    print(f"flowsim {flowsim.__version__} at {args.root}; {os.cpu_count()} cores; {_load()}")
    t0 = time.perf_counter()
    fit = flowsim.calibrate(flowsim.load_scenario("kazakhstan-2022"), kaz, PARAMS, starts=6, seed=0)
    print(f"fit (6 starts): {time.perf_counter() - t0:.1f} s wall")
    print(f"chains: {CHAIN_WALKERS} walkers x {args.chain} steps, burn {CHAIN_BURN}, seed {CHAIN_SEED}, "
          f"solver {args.solver}" + (f", kernel {args.kernel}" if args.kernel else ""))
    options = {"kernel": args.kernel} if args.kernel else None
    fit.sample_posterior(n_walkers=CHAIN_WALKERS, n_steps=2, burn=0, seed=CHAIN_SEED, solver=args.solver,
                         solver_options=options)          # warm up: compile the kernel, if any, outside the timing
    posts = {}
    for moves in args.moves:
        t0 = time.perf_counter()
        posts[moves] = fit.sample_posterior(n_walkers=CHAIN_WALKERS, n_steps=args.chain, burn=CHAIN_BURN,
                                            seed=CHAIN_SEED, solver=args.solver, solver_options=options,
                                            moves=moves)
        print(f"  {moves}: {time.perf_counter() - t0:.1f} s wall; {_load()}", flush=True)
    rows = [("wall time of sample_posterior, s", lambda p: f"{p.stats['seconds']:.1f}"),
            ("walker evaluations", lambda p: f"{p.stats['evaluations']:,}"),
            ("ms per walker", lambda p: f"{1e3 * p.stats['seconds'] / p.stats['evaluations']:.2f}"),
            ("batch runs", lambda p: f"{p.stats['batch_runs']:,}"),
            ("acceptance fraction (walkers min..max)", lambda p: f"{p.acceptance_fraction.mean():.3f} "
             f"({p.acceptance_fraction.min():.2f}..{p.acceptance_fraction.max():.2f})")]
    rows += [(f"tau {label}, steps", lambda p, i=i: f"{p.autocorr_time[i]:.1f}") for i, label in enumerate(PARAMS)]
    rows += [("tau max, steps", lambda p: f"{np.nanmax(p.autocorr_time):.1f}"),
             ("(steps - burn) / tau max", lambda p: f"{(p.n_steps - p.burn) / np.nanmax(p.autocorr_time):.1f}"),
             ("50 tau reached", lambda p: "yes" if p.n_steps - p.burn >= 50 * np.nanmax(p.autocorr_time) else "no")]
    for i, label in enumerate(PARAMS):
        rows.append((f"{label}: median [95%]", lambda p, i=i: "{:.4g} [{:.4g}, {:.4g}]".format(
            *(getattr(p.estimate_table()[i], k) for k in ("median", "ci_low", "ci_high")))))
        rows.append((f"{label}: posterior sd", lambda p, i=i: f"{p.estimate_table()[i].sd:.4g}"))
    width = max(len(label) for label, _ in rows)
    print(f"{'':{width}s} " + " ".join(f"{m:>24s}" for m in posts))
    for label, cell in rows:
        print(f"{label:{width}s} " + " ".join(f"{cell(p):>24s}" for p in posts.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
