"""Benchmark: the cost of one posterior walker (issues 13 and 15). Prints one table of ratios from one run.

Run from the repository root::

    python benchmarks/bench_posterior.py                       # this checkout
    python benchmarks/bench_posterior.py --root /path/to/other/checkout   # the same table for another version
    python benchmarks/bench_posterior.py --solver ensemble    # the walkers on the ensemble solver

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

Timings depend on the machine and its load (2 cores here, shared): compare
the ratios within one run, not seconds across runs. No test asserts any of them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ["pulse.total[KAZ]", "pulse.shape[KAZ]", "pulse.scale_days[KAZ]", "tau_T[KAZ]", "q_ret[KAZ]",
          "background[KAZ]", "background[KAZ@2022-10-01]"]
WALKERS = 14


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
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.root))
    import flowsim
    from flowsim.calibration import posterior as posterior_module

    assert Path(flowsim.__file__).resolve().is_relative_to(args.root.resolve()), flowsim.__file__
    LogPosterior = posterior_module.LogPosterior
    problem = posterior_module.problem
    from flowsim.calibration.objective import SOLVER_DEFAULTS as defaults
    from flowsim.calibration.objective import walker_inputs

    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
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


if __name__ == "__main__":
    sys.exit(main())
