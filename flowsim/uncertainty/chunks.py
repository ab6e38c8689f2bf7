"""Ensembles: draw parameter sets, solve them in chunks, keep statistics per chunk.

:func:`ensemble` draws members from the parameters' ranges and hands them to
:func:`evaluate`, which :mod:`flowsim.uncertainty.sensitivity` also uses with
its own points. Members are solved as vectorised batches of ``chunk_size``
(grouped by ``k``, which fixes the state's shape) by the ensemble solver
(:mod:`flowsim.solve.ensemble`) on one step plan made from reference members
of the ranges, so every member's numbers depend only on its own parameters:
the same whatever the chunking or the executor. Each chunk keeps only the
series asked for (``keep``) and the per-host summary figures; its full
trajectories never leave the worker.
"""

from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

from .._memory import check_memory, format_bytes
from .._validation import check_seed, check_whole_number, did_you_mean
from ..exceptions import FlowsimError
from ..model.batch import ModelBatch
from ..model.economy import BALANCES, ECONOMY_PARAMETERS, series_names, series_weights
from ..model.member_arrivals import compile_arrivals
from ..scenario.arrivals import CompiledArrivals
from ..scenario.layout import Layout
from ..scenario.sampling import member_values, parse_vary, regime_values, scale_sample, unit_sample
from ..scenario.specs import FLOW_PARAMETERS
from ..solve.ensemble import EnsembleSolver, Projected
from ..solve.stochastic import StochasticSolver
from ..summary import summary_arrays
from .ensemble_result import EnsembleResult
from .executors import run_tasks

__all__ = ["ensemble", "evaluate", "DEFAULT_KEEP", "DEFAULT_CHUNK", "SCALAR_STATS", "reference_values"]

#: Series an ensemble keeps by default (people present, net impact in USD/day).
DEFAULT_KEEP = ("N", "net")
#: Members solved together in one vectorised batch (and one task of an executor).
DEFAULT_CHUNK = 250
#: Series every chunk computes for the summary figures.
_SUMMARY_SERIES = ("N", *BALANCES)
#: Reductions over the days that make a scalar output of a series (``"peak:U"``).
SCALAR_STATS = {"peak": lambda x: x.max(axis=-1), "final": lambda x: x[..., -1], "mean": lambda x: x.mean(axis=-1)}
#: Step plans already made, per scenario (immutable, so a plan made for it stays valid) and per ranges and
#: solver options: repeated ensembles of one scenario (a notebook's sweeps, a sensitivity's batches) skip
#: making the plan. A plan is a function of these alone, so members' numbers do not change.
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PLANS_PER_SCENARIO = 8
#: Direction in which a parameter speeds up the dynamics (for the reference members of the step plan).
_FASTER = {"tau_T": -1, "tau_S": -1, "K": -1, "f0": 1, "phi_S": 1, "lam_S": 1, "lam_R": 1, "nu_R": 1, "lam_E": 1,
           "lam_U": 1, "q_on": 1, "k": 1}


@dataclass(frozen=True, eq=False)
class ChunkTask:
    """Everything a worker needs to solve some members (picklable)."""

    scenario: object
    dims: tuple
    values: np.ndarray                  # (m, d) drawn values
    members: np.ndarray                 # (m,) indices in the ensemble
    k: int                              # stages of the layout (members may have fewer: their own k)
    series: tuple                       # series computed (summary ones, kept ones, scalar ones)
    keep: tuple
    scalars: tuple                      # (stat, variable) pairs
    plan: object = None                 # StepPlan (deterministic) or None (stochastic)
    solver: dict = field(default_factory=dict)
    noise: tuple | None = None          # (entropy, dt, first block) of the stochastic mode
    arrivals: tuple | None = None       # (m,) per-member arrival mappings, or None: the scenario's for all


@dataclass(frozen=True, eq=False)
class ChunkResult:
    members: np.ndarray
    series: dict
    summary: dict
    scalars: dict
    stats: dict


def _batch(scenario, values: dict, k: int, compiled: CompiledArrivals):
    """A batch in the layout of ``k`` stages; members with fewer (``values["k"]``) use the last rows of the chain.

    ``compiled`` are the compiled arrivals (shared, or :class:`~flowsim.model.member_arrivals.MemberArrivals`).
    """
    regimes = regime_values(scenario, values)
    flows = [{n: v[n] for n in FLOW_PARAMETERS} for _, v in regimes]
    batch = ModelBatch.from_arrays(k=k, hosts=scenario.hosts, regime_starts=[d for d, _ in regimes],
                                   regime_flows=flows, P=scenario.params.P, arrivals=compiled,
                                   y0=scenario.initial_state(k), stages=values["k"].astype(int))
    return batch, regimes


def solve_chunk(task: ChunkTask, into: dict | None = None) -> ChunkResult:
    """Solve the members of one task and reduce them to kept series, summaries and scalars.

    ``into`` maps kept series to arrays ``(m, H, D)`` (views of the
    ensemble's own arrays, in this process) that the solver writes directly;
    the result then carries no series.
    """
    t_start = time.perf_counter()
    sc = task.scenario
    horizon = sc.horizon_days
    values = member_values(sc.params, task.dims, task.values)
    batch, regimes = _batch(sc, values, task.k, compile_arrivals(sc, task.arrivals))
    layout = batch.layout
    weights = [series_weights(layout, {n: v[n][..., None] for n in ECONOMY_PARAMETERS}, task.series)
               for _, v in regimes]
    starts = [d for d, _ in regimes]
    if task.noise is None:
        solver = EnsembleSolver(**task.solver)
        H, D = len(sc.hosts), horizon + 1
        targets = [(into or {}).get(name) for name in task.series]
        targets = [t if t is not None else np.empty((len(task.members), H, D)) for t in targets]

        def make_sink(idx):
            whole = len(idx) == len(task.members)
            return Projected(horizon, [w[..., idx] for w in weights], starts, out=targets if whole else None,
                             kernel=solver.kernel)

        sink, stats = solver.replay(batch, horizon, task.plan, make_sink)
        out = sink.out                                                      # V arrays (m, H, D)
        stats["fallbacks"] = task.members[stats["fallbacks"]]
    else:
        entropy, dt, first_block = task.noise
        traj = StochasticSolver(dt=dt, seed=entropy, block_key=(task.k,), first_block=first_block).solve(
            batch, horizon)
        out = _project_states(traj.y, weights, starts)
        stats = {"nfev": 0, "steps": traj.stats["steps"], "fallbacks": np.array([], int),
                 "drained_people": np.zeros(len(task.members))}
    series = dict(zip(task.series, out))                                     # each (m, H, D), member-major
    summary = summary_arrays(series["N"], {b: series[b] for b in BALANCES}, values["r"][:, None],
                             values["D_x"][:, None].astype(int), kernel=None if task.noise else solver.kernel)
    scalars = {f"{stat}:{var}": SCALAR_STATS[stat](series[var]) for stat, var in task.scalars}
    stats = {"nfev": int(stats["nfev"]), "steps": int(stats["steps"]), "fallbacks": np.asarray(stats["fallbacks"]),
             "drained_people": float(np.max(stats["drained_people"], initial=0.0)),
             "seconds": time.perf_counter() - t_start}
    kept = {} if into else {n: series[n] for n in task.keep}
    return ChunkResult(members=task.members, series=kept, summary=summary, scalars=scalars, stats=stats)


def _project_states(states: np.ndarray, weights, starts) -> np.ndarray:
    """Full daily states (m, H, C, D) to series (V, m, H, D), regime by regime."""
    days = np.arange(states.shape[-1])
    regime = np.searchsorted(np.asarray(starts, float), days, side="right") - 1
    out = np.empty((weights[0].shape[0], *states.shape[:2], days.size))
    for r, W in enumerate(weights):
        sel = regime == r
        if sel.any():
            out[..., sel] = np.einsum("vchm,mhcd->vmhd", W, states[..., sel])
    return out


def reference_values(params, dims, k_ref: int, n_lhs: int = 8) -> np.ndarray:
    """Reference members of the step plan, shape (R, d).

    The scenario's own values (when inside every range), the "fast" and
    "slow" corners (every range at the end that speeds the dynamics up or
    slows them down: short times, high rates, small ``K``...), and ``n_lhs``
    Latin-hypercube points drawn with a fixed seed, all with ``k = k_ref``.
    The plan depends on the ranges only, never on the drawn members.
    """
    rows = []
    base = np.array([params.get(d.name, d.host) for d in dims], float)
    if all(d.low <= b <= d.high for d, b in zip(dims, base)):
        rows.append(base)
    corners = []
    for sign in (1, -1):
        corners.append(np.array([
            (d.high if _FASTER.get(d.name, 0) * sign > 0 else d.low) if _FASTER.get(d.name, 0)
            else 0.5 * (d.low + d.high) for d in dims], float))
    rows.extend(corners)
    # the step is limited by the fastest transit (smallest tau_T) until the slowest transit has drained
    # (largest tau_T): the corners of both at once
    transit = [j for j, d in enumerate(dims) if d.name == "tau_T"]
    if len(transit) > 1:
        fastest = min(transit, key=lambda j: dims[j].low)
        for corner in corners:
            mixed = corner.copy()
            mixed[transit] = [dims[j].high for j in transit]
            mixed[fastest] = dims[fastest].low
            rows.append(mixed)
    if dims:
        rows.extend(scale_sample(dims, unit_sample(n_lhs, len(dims), "lhs", seed=0)))
    out = np.array(rows).reshape(len(rows), len(dims))
    for j, d in enumerate(dims):
        if d.name == "k":
            out[:, j] = k_ref
    return out


def _plan(scenario, dims, solver: EnsembleSolver, k_ref: int, member_arrivals=None):
    ref = reference_values(scenario.params, dims, k_ref)
    arrivals = None
    if member_arrivals is not None:
        # every reference member with the arrivals of every representative member (the extremes of each
        # pulse field): the plan then meets the needs of the sharpest and the latest pulses too
        picks = compile_arrivals(scenario, member_arrivals).representatives()
        arrivals = [member_arrivals[i] for i in picks for _ in range(len(ref))]
        ref = np.tile(ref, (len(picks), 1))
    values = member_values(scenario.params, dims, ref)
    batch, _ = _batch(scenario, values, k_ref, compile_arrivals(scenario, arrivals))
    return solver.plan(batch, scenario.horizon_days)


def _series_plan(keep, scalars, k_values) -> tuple[tuple, tuple, tuple]:
    known = series_names(Layout(int(min(k_values))))
    keep = tuple(dict.fromkeys(keep))
    parsed = []
    for spec_ in scalars:
        stat, _, var = str(spec_).partition(":")
        if stat not in SCALAR_STATS or not var:
            raise FlowsimError(f"scalar output {spec_!r} must be STAT:SERIES with STAT one of "
                               f"{', '.join(SCALAR_STATS)}, e.g. 'peak:U'.")
        parsed.append((stat, var))
    for name in (*keep, *(v for _, v in parsed)):
        if name not in known:
            fix = did_you_mean(str(name), known)
            raise FlowsimError(f"unknown series {name!r}; known: {', '.join(known)}.{fix}")
        if len(set(k_values)) > 1 and name[:1] == "S" and name[1:].isdigit():
            raise FlowsimError(f"series {name!r}: members have different k, so savings stage {name[1:]} is not "
                               "the same stage for all; keep 'S' (all stages) instead.")
    series = tuple(dict.fromkeys((*_SUMMARY_SERIES, *keep, *(v for _, v in parsed))))
    return series, keep, tuple(parsed)


def evaluate(scenario, dims, values: np.ndarray, *, keep=DEFAULT_KEEP, scalars=(), chunk_size: int = DEFAULT_CHUNK,
             executor=None, progress: bool | None = None, stochastic: bool = False, dt: float | None = None,
             noise_seed=None, solver_options: dict | None = None, plan_cache: dict | None = None,
             desc: str = "flowsim ensemble", arrivals=None):
    """Solve the members with the given parameter values.

    Parameters
    ----------
    scenario : Scenario
    dims : sequence of Dimension
    values : ndarray, shape (n, d)
        One row of drawn values per member.
    keep, scalars, chunk_size, executor, progress, stochastic, dt, solver_options
        As in :func:`ensemble`; ``scalars`` are ``"STAT:SERIES"`` outputs.
    noise_seed : SeedSequence, optional
        Seed of the stochastic mode.
    plan_cache : dict, optional
        Step plans already made for these ``scenario`` and ``dims`` (filled
        in here), so that repeated calls share one plan (not used with
        ``arrivals``).
    arrivals : sequence of mapping, optional
        Each member's own arrival schedules ``{host: (Schedule, ...)}``, shape
        (n,) (e.g. posterior draws of a pulse; see
        :class:`~flowsim.model.member_arrivals.MemberArrivals`); default the
        scenario's for every member. The step plan is then made from the
        reference members combined with the arrivals of a few members that
        span them (the extremes of each pulse field), so members' numbers do
        not depend on the chunking, but do on the set of arrivals.

    Returns
    -------
    series : dict of str to ndarray (n, H, D)
    summary : dict of str to ndarray (n, H)
    scalars : dict of str to ndarray (n, H)
    stats : dict
    """
    values = np.asarray(values, float)
    if values.ndim != 2 or values.shape[1] != len(dims) or values.shape[0] < 1:
        raise FlowsimError(f"values must have shape (members, {len(dims)}); got {values.shape}.")
    n = values.shape[0]
    if arrivals is not None:
        arrivals = tuple(arrivals)
        if len(arrivals) != n:
            raise FlowsimError(f"arrivals must hold one mapping per member ({n}); got {len(arrivals)}.")
    chunk_size = check_whole_number(chunk_size, "chunk_size", 1)
    dt = _check_mode(stochastic, dt, solver_options)
    params = scenario.params
    all_values = member_values(params, dims, values)
    regime_values(scenario, all_values)                 # every member valid under every policy: fail before work
    k_all = all_values["k"].astype(int)
    series, keep, parsed = _series_plan(keep, scalars, k_all)
    solver = EnsembleSolver(**(solver_options or {}))
    t0 = time.perf_counter()
    plan = None
    if stochastic:
        block = StochasticSolver.BLOCK
        chunk_size = max(block, chunk_size // block * block)          # whole blocks: draws independent of chunking
        entropy = int((noise_seed or np.random.SeedSequence()).entropy)
        StochasticSolver(dt=dt)                                         # check dt before any work
    k_ref = int(max(max(d.high for d in dims if d.name == "k") if any(d.name == "k" for d in dims)
                    else params.get("k"), k_all.max()))
    if not stochastic:
        key = (k_ref, tuple(sorted(solver.options().items())))
        if arrivals is not None:
            cache = {}
        elif plan_cache is not None:
            cache = plan_cache
        else:
            cache, key = _PLANS.setdefault(scenario, {}), (tuple(dims), *key)
            if key not in cache and len(cache) >= _PLANS_PER_SCENARIO:
                cache.pop(next(iter(cache)))
        if key not in cache:
            cache[key] = _plan(scenario, dims, solver, k_ref, arrivals)
        plan = cache[key]
    t_plan = time.perf_counter() - t0
    tasks = []
    # the ODE solves every member in the layout of the largest k (fewer stages stay empty), so chunks are plain
    # ranges of members; the stochastic chain draws per k group
    groups = [(int(k), np.flatnonzero(k_all == k)) for k in np.unique(k_all)] if stochastic else \
        [(k_ref, np.arange(n))]
    for k, idx in groups:
        for start in range(0, idx.size, chunk_size):
            sel = idx[start:start + chunk_size]
            tasks.append(ChunkTask(scenario=scenario, dims=tuple(dims), values=values[sel], members=sel, k=k,
                                   series=series, keep=keep, scalars=parsed, plan=plan, solver=solver.options(),
                                   noise=(entropy, float(dt), start // block) if stochastic else None,
                                   arrivals=None if arrivals is None else tuple(arrivals[i] for i in sel)))
    H, D = len(scenario.hosts), scenario.horizon_days + 1
    out_series = {name: np.empty((n, H, D)) for name in keep}
    out_summary: dict = {}
    out_scalars: dict = {}
    chunk_stats: list = []

    def consume(_, res: ChunkResult) -> None:
        m = res.members
        rows = slice(int(m[0]), int(m[-1]) + 1) if m[-1] - m[0] + 1 == m.size else m
        for name, arr in res.series.items():
            out_series[name][rows] = arr
        for target, source in ((out_summary, res.summary), (out_scalars, res.scalars)):
            for name, arr in source.items():
                if name not in target:
                    target[name] = np.empty((n, H), dtype=arr.dtype)
                target[name][rows] = arr
        chunk_stats.append(res.stats)

    fn = solve_chunk
    if executor is None and not stochastic:                 # in this process: solve straight into the arrays
        def fn(task):
            rows = slice(int(task.members[0]), int(task.members[-1]) + 1)
            return solve_chunk(task, {name: out_series[name][rows] for name in keep} or None)

    run_tasks(fn, tasks, [len(t.members) for t in tasks], consume, executor=executor, progress=progress, desc=desc)
    stats = {
        "solver": "stochastic" if stochastic else "ensemble",
        "options": {"dt": dt} if stochastic else solver.options(),
        "plan_steps": None if plan is None else plan.n_steps,
        "plan_seconds": t_plan,
        "chunks": len(tasks),
        "chunk_size": chunk_size,
        "nfev": sum(st["nfev"] for st in chunk_stats),
        "fallbacks": np.sort(np.concatenate([st["fallbacks"] for st in chunk_stats]).astype(int)),
        "drained_people": max((st["drained_people"] for st in chunk_stats), default=0.0),
        "chunk_seconds": sum(st["seconds"] for st in chunk_stats),
        "wall_seconds": time.perf_counter() - t0,
    }
    return out_series, out_summary, out_scalars, stats


#: Step of the stochastic chain when none is given, days.
DEFAULT_DT = 0.25


def _check_mode(stochastic: bool, dt, solver_options) -> float:
    """The chain's step (default :data:`DEFAULT_DT`); refuses options of the mode that does not run."""
    if not stochastic and dt is not None:
        raise FlowsimError(f"dt = {dt!r} is the step of the stochastic chain, but stochastic is off: the ODE solver "
                           "would run and ignore it. Fix: add --stochastic (stochastic=True), or leave --dt out.")
    if stochastic and solver_options:
        raise FlowsimError(f"solver_options ({', '.join(sorted(solver_options))}) are options of the ODE ensemble "
                           "solver, but stochastic is on: the chain would ignore them. Fix: give only dt, or "
                           "turn stochastic off.")
    return DEFAULT_DT if dt is None else dt


def ensemble(scenario, n: int, *, vary=None, sampler: str = "lhs", seed=None, chunk_size: int = DEFAULT_CHUNK,
             executor=None, progress: bool | None = None, keep=DEFAULT_KEEP, scalars=(), stochastic: bool = False,
             dt: float | None = None, solver_options: dict | None = None) -> EnsembleResult:
    """Run a scenario for many parameter sets drawn from their uncertainty ranges.

    Parameters
    ----------
    scenario : Scenario
        What to run; its values are the centre of nothing in particular: the
        ranges are what is sampled (policies apply to every member).
    n : int
        Members (>= 1).
    vary : None, sequence or mapping
        Which parameters vary over which ranges (see
        :func:`flowsim.scenario.sampling.parse_vary`): None for every
        parameter with a shipped range (per host, ``k`` included), a list of
        names (``["tau_S", "f0[KAZ]"]``), or ``{"f0": (0.005, 0.02),
        "tau_S": {"KAZ": (60, 240)}}``.
    sampler : {"lhs", "sobol", "random"}
        Latin hypercube, scrambled Sobol' (``n`` a power of 2, else a
        warning) or independent uniforms, all from :mod:`scipy.stats.qmc`.
    seed : int, optional
        Same seed, same members and same numbers. When None a fresh seed is
        drawn and recorded in :attr:`EnsembleResult.seed`.
    chunk_size : int
        Members per vectorised batch and per executor task (default 250).
        Memory per chunk is about ``0.35 MB`` per member for a 5-year,
        8-host scenario (see ``docs/uncertainty.md``). Results do not depend
        on it.
    executor : concurrent.futures.Executor, optional
        Runs the chunks (a ``ProcessPoolExecutor``, or dask's
        ``client.get_executor()``); in this process when None.
    progress : bool or None
        Progress bar (tqdm): False off, True on, None on when tqdm is
        installed and standard error is a terminal.
    keep : sequence of str
        Series kept for every member (default ``N`` and ``net``); any name
        :meth:`Result.series` knows. Each costs ``8 * H * (horizon + 1)``
        bytes per member.
    scalars : sequence of str
        Extra scalar outputs ``"STAT:SERIES"`` with STAT ``peak``, ``final``
        or ``mean`` (``"peak:U"``: the largest number of unemployed).
    stochastic : bool
        Solve each member with the stochastic chain
        (:class:`~flowsim.solve.stochastic.StochasticSolver`) instead of the ODE.
    dt : float, optional
        Time step of the stochastic chain, days (default 0.25); only with
        ``stochastic=True`` (refused otherwise: it would be ignored).
    solver_options : dict, optional
        Options of :class:`~flowsim.solve.ensemble.EnsembleSolver` (``rtol``, ``atol``...); only
        without ``stochastic`` (refused otherwise).

    Returns
    -------
    EnsembleResult

    Examples
    --------
    >>> import flowsim
    >>> sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=60)
    >>> ens = flowsim.ensemble(sc, 8, vary={"tau_S": (60, 240)}, seed=1, progress=False)
    >>> ens.quantiles("N", host="KAZ").shape
    (5, 61)
    """
    n = check_whole_number(n, "n", 1)
    seed = check_seed(seed, "ensemble: seed")
    dims = parse_vary(scenario.params, vary, initial=scenario.initial)
    _check_mode(stochastic, dt, solver_options)
    check_ensemble_memory(scenario, n, len(dims), keep, chunk_size)
    root = np.random.SeedSequence(seed)
    sample_seed, noise_seed = root.spawn(2)
    unit = unit_sample(n, len(dims), sampler, sample_seed)
    values = scale_sample(dims, unit)
    series, summary, scalars_out, stats = evaluate(
        scenario, dims, values, keep=keep, scalars=scalars, chunk_size=chunk_size, executor=executor,
        progress=progress, stochastic=stochastic, dt=dt, noise_seed=noise_seed, solver_options=solver_options)
    stats["bytes_per_member"] = _bytes_per_member(series, summary, scalars_out, dims)
    return EnsembleResult(scenario=scenario, dims=tuple(dims), unit=unit, values=values, sampler=sampler,
                          seed=root.entropy, series=series, summary_arrays=summary, scalars=scalars_out, stats=stats)


def check_ensemble_memory(scenario, n: int, n_dims: int, keep, chunk_size) -> None:
    """Refuse an ensemble whose arrays cannot fit in the memory available, with the figures."""
    H, D = len(scenario.hosts), scenario.horizon_days + 1
    C = int(scenario.params.get("k")) + 7
    chunk = min(n, chunk_size if isinstance(chunk_size, int) and chunk_size > 0 else DEFAULT_CHUNK)
    per_member = 8 * (2 * n_dims + len(tuple(keep)) * H * D + 16 * H)
    needed = n * per_member + 2 * chunk * 8 * H * C * D
    check_memory(needed, f"an ensemble of {n:,} members over {D - 1:,} days and {H} hosts",
                 f"fewer members (--n), a smaller --chunk-size, fewer kept series or a shorter horizon "
                 f"({format_bytes(per_member)} per member)")


def _bytes_per_member(series, summary, scalars, dims) -> int:
    arrays = [*series.values(), *summary.values(), *scalars.values()]
    n = max((a.shape[0] for a in arrays), default=1)
    return int(math.ceil(sum(a.nbytes for a in arrays) / n)) + 16 * len(dims)
