"""Benchmark: flowsim.ensemble against per-member loops of solve_ivp, same model, same parameter sets.

Run from the repository root::

    python benchmarks/bench_ensemble.py                 # N = 1, 100, 1000 (the loops take minutes)
    python benchmarks/bench_ensemble.py --sizes 1 10    # a quick look

For each N the script draws N members of the seed scenario ``kazakhstan-2022``
(8 hosts, 5 years, every parameter over its shipped range, ``k`` included)
and times, in the same process:

* **ensemble**: ``flowsim.ensemble(scenario, N, seed=...)`` -- drawing the
  members, the step plan, the vectorised chunks, the series N and net and
  every summary figure of every member;
* **loop, plain RHS**: for each member, ``scipy.integrate.solve_ivp`` (RK45,
  ``rtol=1e-8``, ``atol=1e-6``, daily ``t_eval``: flowsim's default
  deterministic settings) of a one-member right-hand side written straight
  from MODEL.md's equations (numpy over the hosts, rates precomputed);
* **loop, matrix RHS**: the same loop with a leaner right-hand side: the
  linear flows as one precomputed matrix, plus the job-finding term and the
  arrival pulses evaluated as arrays (about half the time per call).

Only the loops' integration is timed (their N and net are computed
afterwards). The script prints members, seconds, seconds per member, the ratio
loop/ensemble, the peak memory (tracemalloc, measured in untimed passes so
that tracing does not slow the timed runs; the ensemble's runs first and also
touches the memory the timed run will use, as any earlier run would) and the
largest deviation of the ensemble's N and net from each loop's, relative to
each series' peak (max over members, hosts and days). Timings depend on the
machine and its load; the ratios compare runs made one after the other in the
same process.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy import special
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flowsim  # noqa: E402
from flowsim.model.economy import ECONOMY_PARAMETERS, economy_series  # noqa: E402
from flowsim.scenario.arrivals import CompiledArrivals  # noqa: E402
from flowsim.scenario.layout import Layout  # noqa: E402
from flowsim.scenario.sampling import member_values  # noqa: E402

SCENARIO = "kazakhstan-2022"
SEED = 20221021


class PlainRHS:
    """dy/dt of one member, shape (H * C,), from MODEL.md's "Flows" (numpy over the hosts)."""

    def __init__(self, values: dict, P: np.ndarray, arrivals):
        self.k = k = int(values["k"])
        self.H = H = P.shape[0]
        v = {n: np.asarray(values[n], float) for n in values}
        self.v = v
        self.s = 1.0 / v["tau_T"]
        self.g = k / v["tau_S"]
        settle = self.s * (1.0 - v["q_on"] - v["q_ret"])
        self.to_S, self.to_R = settle * (1.0 - v["rho"]), settle * v["rho"]
        self.onward, self.back = self.s * v["q_on"], self.s * v["q_ret"]
        self.P, self.arrivals = P, arrivals
        self.time = lambda t: t
        self.open(np.ones(H, bool))

    def open(self, is_open):
        H = self.H
        self.P_world = self.P[:, H] + (self.P[:, :H] * ~is_open).sum(axis=1)
        self.P_in = (self.P[:, :H] * is_open).T.copy()
        self.is_open = is_open

    def __call__(self, t, y):
        k, v, H = self.k, self.v, self.H
        Y = y.reshape(H, k + 7)
        T, S, R, E, U = Y[:, 0], Y[:, 1:k + 1], Y[:, k + 1], Y[:, k + 2], Y[:, k + 3]
        f = v["f0"] * np.maximum(0.0, 1.0 - E / v["K"])
        hazard = self.g + v["phi_S"] * f + v["lam_S"]
        out = self.onward * T
        sum_S = S.sum(axis=1)
        D = v["lam_S"] * sum_S + v["lam_R"] * R + v["lam_E"] * E + v["lam_U"] * U
        entries = self.arrivals.rate(self.time(t), self.is_open) + self.P_in @ out
        dY = np.empty((H, k + 7))
        dY[:, 0] = entries - self.s * T
        dY[:, 1] = self.to_S * T + v["nu_R"] * R - hazard * S[:, 0]
        dY[:, 2:k + 1] = self.g[:, None] * S[:, :-1] - hazard[:, None] * S[:, 1:]
        dY[:, k + 1] = self.to_R * T - (v["lam_R"] + v["nu_R"]) * R
        dY[:, k + 2] = f * (v["phi_S"] * sum_S + U) - v["lam_E"] * E
        dY[:, k + 3] = self.g * S[:, -1] - (f + v["lam_U"]) * U
        dY[:, k + 4] = self.back * T + (1.0 - v["q_out"]) * D
        dY[:, k + 5] = out * self.P_world + v["q_out"] * D
        dY[:, k + 6] = entries
        return dY.ravel()


class MatrixRHS(PlainRHS):
    """The same flows as ``A y + f(E) * (B y) + a(t)``: linear part and job finding as precomputed matrices."""

    def open(self, is_open):
        super().open(is_open)
        k, v, H = self.k, self.v, self.H
        C = k + 7
        n = H * C
        A, B = np.zeros((n, n)), np.zeros((n, n))

        def at(h, c):
            return h * C + c

        for h in range(H):
            T, R, E, U, ret, out = (at(h, c) for c in (0, k + 1, k + 2, k + 3, k + 4, k + 5))
            S = [at(h, 1 + i) for i in range(k)]
            q = v["q_out"][h]
            A[T, T] -= self.s[h]
            for j in range(H):
                A[at(j, 0), T] += self.onward[h] * self.P_in[j, h]
                A[at(j, k + 6), T] += self.onward[h] * self.P_in[j, h]
            A[S[0], T] += self.to_S[h]
            A[R, T] += self.to_R[h]
            A[ret, T] += self.back[h]
            A[out, T] += self.onward[h] * self.P_world[h]
            for i in range(k):
                A[S[i], S[i]] -= self.g[h] + v["lam_S"][h]
                A[S[i + 1] if i < k - 1 else U, S[i]] += self.g[h]
                A[ret, S[i]] += (1.0 - q) * v["lam_S"][h]
                A[out, S[i]] += q * v["lam_S"][h]
                B[S[i], S[i]] -= v["phi_S"][h]
                B[E, S[i]] += v["phi_S"][h]
            for c, lam in ((R, v["lam_R"][h]), (E, v["lam_E"][h]), (U, v["lam_U"][h])):
                A[c, c] -= lam
                A[ret, c] += (1.0 - q) * lam
                A[out, c] += q * lam
            A[R, R] -= v["nu_R"][h]                                   # remote workers back on savings (v2)
            A[S[0], R] += v["nu_R"][h]
            B[E, U] += 1.0
            B[U, U] -= 1.0
        self.A, self.B = A, B
        self.E_at = np.array([at(h, k + 2) for h in range(H)])
        self.T_at = np.array([at(h, 0) for h in range(H)])
        self.in_at = np.array([at(h, k + 6) for h in range(H)])
        self.host_of = np.repeat(np.arange(H), C)
        self.f0, self.per_job = v["f0"], 1.0 / v["K"]

    def __call__(self, t, y):
        f = self.f0 * np.maximum(0.0, 1.0 - y[self.E_at] * self.per_job)
        dy = self.A @ y + f[self.host_of] * (self.B @ y)
        a = self.arrivals.rate(self.time(t), self.is_open)
        dy[self.T_at] += a
        dy[self.in_at] += a
        return dy


class PulseRates:
    """Arrival rates of a scenario made of gamma pulses only, as array operations (for the matrix loop)."""

    def __init__(self, scenario):
        pulses = [(scenario.hosts.index(h), s.compile(scenario.start)) for h, ss in scenario.arrivals.items()
                  for s in ss]
        if not all(hasattr(p, "shape") and getattr(p, "t0", 1.0) <= 0.0 for _, p in pulses):
            raise TypeError("PulseRates handles Pulse schedules starting on day 0 only")
        self.total = np.array([p.total for _, p in pulses])
        self.shape = np.array([p.shape for _, p in pulses])
        self.scale = np.array([p.scale for _, p in pulses])
        self.t0 = np.array([p.t0 for _, p in pulses])
        self.log_norm = -special.gammaln(self.shape) - np.log(self.scale)
        self.to_host = np.zeros((len(scenario.hosts), len(pulses)))
        self.to_host[[h for h, _ in pulses], np.arange(len(pulses))] = 1.0

    def rate(self, t, is_open):
        x = np.maximum((t - self.t0) / self.scale, 1e-300)          # t >= t0: the pulses start on day 0
        return (self.to_host @ (self.total * np.exp((self.shape - 1.0) * np.log(x) - x + self.log_norm))) * is_open


def loop_member(scenario, values: dict, arrivals, edges, rhs_class=PlainRHS, rates=None, *,
                method: str = "RK45", rtol: float = 1e-8, atol: float = 1e-6) -> np.ndarray:
    """States (H, C, D) of one member: solve_ivp (default RK45, rtol 1e-8, atol 1e-6), segment by segment."""
    rhs = rhs_class(values, np.asarray(scenario.params.P), rates or arrivals)
    horizon = scenario.horizon_days
    grid = np.arange(horizon + 1.0)
    H, C = rhs.H, rhs.k + 7
    out = np.empty((H, C, grid.size))
    y = scenario.initial_state(rhs.k).ravel()
    out[:, :, 0] = y.reshape(H, C)
    for t0, t1 in zip(edges[:-1], edges[1:]):
        lo, hi = t0 + 1e-9 * (t1 - t0), t1 - 1e-9 * (t1 - t0)
        rhs.time = lambda t, lo=lo, hi=hi: min(max(t, lo), hi)
        rhs.open(arrivals.is_open(lo))
        days = grid[(grid > t0) & (grid <= t1)]
        t_eval = days if days.size and days[-1] == t1 else np.append(days, t1)
        sol = solve_ivp(rhs, (t0, t1), y, method=method, rtol=rtol, atol=atol, t_eval=t_eval)
        out[:, :, days.astype(int)] = sol.y[:, :days.size].reshape(H, C, days.size)
        y = sol.y[:, -1]
    return out


def member_arrays(ens) -> list[dict]:
    """Each member's parameter values (per-host arrays, global floats)."""
    arrays = member_values(ens.scenario.params, ens.dims, ens.values)
    return [{n: a[m] for n, a in arrays.items()} for m in range(ens.n_members)]


def loop_series(values: dict, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """N and net (H, D) of one member from its states (untimed post-processing)."""
    lay = Layout(int(values["k"]))
    econ = {n: np.asarray(values[n], float)[None, :, None] for n in ECONOMY_PARAMETERS}
    net = economy_series(states[None], lay, econ)[0, :, flowsim.ECONOMY_VARIABLES.index("net")]
    return states[:, lay.present].sum(axis=1), net


def deviation(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    """max |a - b| / peak |b| per series (last axis), over everything."""
    peak = np.maximum(np.abs(b).max(axis=-1, keepdims=True), floor)
    return float((np.abs(a - b) / peak).max())


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000], help="ensemble sizes N")
    ap.add_argument("--no-memory", action="store_true", help="skip the (untimed) tracemalloc passes")
    ap.add_argument("--loop-method", default="RK45", help="solve_ivp method of the loops (default RK45)")
    ap.add_argument("--loop-rtol", type=float, default=1e-8, help="rtol of the loops (default 1e-8)")
    ap.add_argument("--loop-atol", type=float, default=1e-6, help="atol of the loops, people (default 1e-6)")
    args = ap.parse_args(argv)

    scenario = flowsim.load_scenario(SCENARIO)
    assert not scenario.policies, "the plain loops have no policies"
    arrivals = CompiledArrivals.build(scenario.hosts, scenario.arrivals, scenario.closures, scenario.start,
                                      scenario.diversion)
    rates = PulseRates(scenario)
    edges = [0.0, *arrivals.breakpoints(scenario.horizon_days), float(scenario.horizon_days)]
    loops = (("loop, plain RHS", PlainRHS, None), ("loop, matrix RHS", MatrixRHS, rates))
    tol = {"method": args.loop_method, "rtol": args.loop_rtol, "atol": args.loop_atol}
    print(f"scenario {SCENARIO}: {len(scenario.hosts)} hosts, {scenario.horizon_days} days; every parameter over "
          f"its shipped range (k included); seed {SEED}")
    print(f"loops: solve_ivp {args.loop_method}, rtol {args.loop_rtol:g}, atol {args.loop_atol:g}, daily t_eval")
    print(f"{'N':>5s}  {'method':17s} {'seconds':>9s} {'s/member':>9s} {'ratio':>7s} {'peak MB':>8s} "
          f"{'max dev N':>10s} {'max dev net':>11s}")
    notes = []
    for n in args.sizes:
        mem = float("nan") if args.no_memory else peak_mb(
            lambda n=n: flowsim.ensemble(scenario, n, seed=SEED, progress=False))
        t0 = time.perf_counter()
        ens = flowsim.ensemble(scenario, n, seed=SEED, progress=False)
        t_ens = time.perf_counter() - t0
        print(f"{n:5d}  {'ensemble':17s} {t_ens:9.2f} {t_ens / n:9.4f} {1.0:7.1f} {mem:8.1f}")
        members = member_arrays(ens)
        for name, cls, r in loops:
            t0 = time.perf_counter()
            states = [loop_member(scenario, v, arrivals, edges, cls, r, **tol) for v in members]
            t_loop = time.perf_counter() - t0
            dev_N = dev_net = 0.0
            for m, (values, y) in enumerate(zip(members, states)):
                N, net = loop_series(values, y)
                dev_N = max(dev_N, deviation(ens.series["N"][m], N, 1.0))
                dev_net = max(dev_net, deviation(ens.series["net"][m], net, 1.0))
            mem_loop = float("nan") if args.no_memory else peak_mb(
                lambda v=members[0], c=cls, r=r: loop_member(scenario, v, arrivals, edges, c, r, **tol))
            print(f"{n:5d}  {name:17s} {t_loop:9.2f} {t_loop / n:9.4f} {t_loop / t_ens:7.1f} {mem_loop:8.1f} "
                  f"{dev_N:10.2e} {dev_net:11.2e}")
            sys.stdout.flush()
        notes.append(f"N={n}: step plan of {ens.stats['plan_steps']} steps ({ens.stats['plan_seconds']:.2f} s); "
                     f"{len(ens.stats['fallbacks'])} member(s) failed the per-member error test on it and were "
                     "re-solved alone")
    print("\nratio = loop seconds / ensemble seconds; deviation = max over members, hosts and days of "
          "|ensemble - loop| / peak of the loop's series")
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
