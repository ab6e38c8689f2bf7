"""One solve path: the inputs of some members in, a Result or their projected series out.

Every front door that solves members ends here: :func:`flowsim.run` and
:func:`flowsim.run_batch` (full states for a :class:`~flowsim.results.Result`),
:func:`flowsim.ensemble` and :func:`flowsim.sensitivity` (series projected in
the solver, reduced to summary figures per chunk), the least-squares fit and
the posterior sampler (full states of the walkers, read by the observation
model), and :meth:`PosteriorSample.ensemble`.

* :class:`MemberInputs` holds what the model needs of every member: the
  parameter values at the start (from a list of
  :class:`~flowsim.scenario.parameter_set.ParameterSet` or from value arrays
  and their :class:`~flowsim.scenario.sampling.Dimension` objects), the
  regimes the scenario's policies make of them, the onward shares, the
  arrival schedules and ``k``. The regimes, the batch of the solver and the
  economy parameters are built here and nowhere else.
* :class:`Outputs` says what to keep, in the spirit of diffrax's ``SaveAt``:
  every state on the daily grid (a ``Result``), or some series and the
  summary figures (a :class:`Projection`, what an ensemble keeps).
* :func:`simulate` solves the members in chunks (here or on an executor)
  with a solver chosen by its registry name.
"""

from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass

import numpy as np

from ._memory import check_memory
from ._validation import check_whole_number, did_you_mean
from .exceptions import FlowsimError, IntegrationError, ParameterError
from .executors import run_tasks
from .model.batch import ModelBatch
from .model.economy import (
    BALANCES,
    ECONOMY_VARIABLES,
    economy_arrays,
    economy_series,
    regime_economy,
    series_names,
    series_weights,
)
from .model.member_arrivals import compile_arrivals
from .results import Result
from .scenario.layout import Layout
from .scenario.parameter_set import ParameterSet
from .scenario.sampling import member_parameter_set, member_values, regime_values, scale_sample, unit_sample
from .scenario.scenario import Scenario
from .scenario.specs import FLOW_PARAMETERS, PARAMETER_SPECS
from .solve import SOLVERS, get_solver
from .solve.ensemble import EnsembleSolver
from .solve.invariants import STATUS_OK, member_status
from .solve.scratch import SCRATCH, FirstTouch
from .solve.sinks import FullStates, Projected
from .solve.stochastic import StochasticSolver
from .summary import summary_arrays

__all__ = ["simulate", "MemberInputs", "Outputs", "Projection", "FULL", "DEFAULT_KEEP", "DEFAULT_CHUNK",
           "SCALAR_STATS", "reference_values", "check_run_memory"]

#: Series an ensemble keeps by default (people present, net impact in USD/day).
DEFAULT_KEEP = ("N", "net")
#: Members solved together in one vectorised batch (and one task of an executor) when series are projected.
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


# ----------------------------------------------------------------------------------------------- inputs
class MemberInputs:
    """The inputs of some members of one scenario: values at the start, regimes, onward shares, arrivals, ``k``.

    Build it with :meth:`from_parameter_sets` (one
    :class:`~flowsim.scenario.parameter_set.ParameterSet` per member, as
    :func:`flowsim.run_batch` takes them) or :meth:`from_values` (value
    arrays, one column per :class:`~flowsim.scenario.sampling.Dimension`, as
    an ensemble draws them or MCMC walkers hold them); both give the same
    numbers for the same values. Derived arrays (the member arrays at the
    start, the regimes) are computed once, on first use, and are not pickled:
    a worker process recomputes those of its own chunk.

    Attributes
    ----------
    scenario : Scenario
        Everything the members share: hosts, dates, policies, closures,
        initial stocks, the values of the parameters not varied.
    params : tuple of ParameterSet or None
        The members' parameter sets (:meth:`from_parameter_sets`).
    dims : tuple of Dimension
        What varies (:meth:`from_values`); their ranges make the ensemble
        solver's step plan.
    values : ndarray, shape (M, len(dims)) or None
        The varied values of every member, in each dimension's unit.
    arrivals : tuple of mapping or None
        Each member's own arrival schedules ``{host: (Schedule, ...)}``; None:
        the scenario's, shared by all.
    """

    def __init__(self, scenario, *, params=None, dims=(), values=None, arrivals=None, _start=None, _regimes=None):
        self.scenario = scenario
        self.params = params
        self.dims = tuple(dims)
        self.values = values
        self.arrivals = arrivals
        self._start = _start
        self._regimes = _regimes

    # ------------------------------------------------------------ building
    @classmethod
    def from_parameter_sets(cls, scenario, params, arrivals=None, *, where: str = "run_batch") -> MemberInputs:
        """Inputs of one member per parameter set.

        Parameters
        ----------
        scenario : Scenario
            Arrivals, closures, policies, initial stocks, dates.
        params : sequence of ParameterSet
            One per member (values at the start), with the scenario's hosts
            and one ``k`` for all (it sets the state's shape).
        arrivals : sequence of mapping, optional
            Each member's own schedules ``{host: (Schedule, ...)}``, one per member.
        where : str
            The front door, named in error messages.
        """
        _check_scenario(scenario, where)
        try:
            params = tuple(params)
        except TypeError:
            raise TypeError(f"{where}: `params` must be a list of ParameterSet; got {type(params).__name__}.") from None
        if not params:
            raise FlowsimError(f"{where}: `params` is empty; give at least one ParameterSet (e.g. [scenario.params]).")
        for i, p in enumerate(params):
            if not isinstance(p, ParameterSet):
                raise TypeError(f"{where}: params[{i}] must be a ParameterSet (e.g. scenario.params); "
                                f"got {type(p).__name__}.")
        k = int(params[0].get("k"))
        for i, p in enumerate(params):
            if p.hosts != scenario.hosts:
                raise ParameterError(f"{where}: member {i}: hosts {p.hosts} differ from the scenario's "
                                     f"{scenario.hosts}.")
            if int(p.get("k")) != k:
                raise ParameterError(
                    f"{where}: member {i}: Parameter `k` must be the same for every member of a batch "
                    f"(it sets the state's shape); got {p.get('k'):g} and {k}."
                )
        return cls(scenario, params=params, arrivals=_member_arrivals(arrivals, len(params), where))

    @classmethod
    def from_values(cls, scenario, dims, values, arrivals=None, *, where: str = "simulate") -> MemberInputs:
        """Inputs of one member per row of ``values``; what no dimension names keeps the scenario's value.

        Parameters
        ----------
        scenario : Scenario
        dims : sequence of Dimension
            What varies, per host for per-host parameters (see
            :func:`flowsim.scenario.sampling.parse_vary`).
        values : array_like, shape (M, len(dims))
            One row per member, in each dimension's unit.
        arrivals : sequence of mapping, optional
            Each member's own schedules, one per member.
        where : str
            The front door, named in error messages.
        """
        _check_scenario(scenario, where)
        dims = tuple(dims)
        values = np.asarray(values, float)
        if values.ndim != 2 or values.shape[1] != len(dims) or values.shape[0] < 1:
            raise FlowsimError(f"{where}: values must have shape (members, {len(dims)}) (one column per "
                               f"dimension); got {values.shape}.")
        for d in dims:
            if d.host is not None and d.host not in scenario.hosts:
                fix = did_you_mean(str(d.host), scenario.hosts)
                raise ParameterError(f"{where}: dimension {d.label}: unknown host {d.host!r}; the scenario's "
                                     f"hosts are {', '.join(scenario.hosts)}.{fix}")
        return cls(scenario, dims=dims, values=values, arrivals=_member_arrivals(arrivals, values.shape[0], where))

    # ------------------------------------------------------------ derived
    @property
    def n_members(self) -> int:
        return len(self.params) if self.params is not None else self.values.shape[0]

    @property
    def start(self) -> dict:
        """Member arrays at the start: ``(M, H)`` per-host parameters, ``(M,)`` global ones."""
        if self._start is None:
            if self.params is not None:
                self._start = {name: np.stack([np.asarray(p.values[name], float) for p in self.params])
                               for name in PARAMETER_SPECS}
            else:
                self._start = member_values(self.scenario.params, self.dims, self.values)
        return self._start

    @property
    def regimes(self) -> list:
        """The scenario's policies applied to every member: ``[(first day, member arrays), ...]``.

        Raises :class:`~flowsim.exceptions.ParameterError` naming the policy,
        host and member when a policy takes a value outside its bounds.
        """
        if self._regimes is None:
            self._regimes = regime_values(self.scenario, self.start)
        return self._regimes

    @property
    def P(self) -> np.ndarray:
        """Onward shares, (M, H, H + 1), or (H, H + 1) shared by every member."""
        return np.stack([p.P for p in self.params]) if self.params is not None else self.scenario.params.P

    @property
    def k_values(self) -> np.ndarray:
        """Each member's ``k`` (M,)."""
        return self.start["k"].astype(int)

    @property
    def k_layout(self) -> int:
        """``k`` of the layout every member is solved in: the largest a member has (or its dimension allows)."""
        k_all = self.k_values
        if self.params is not None:
            return int(k_all.max())
        k_dims = [d.high for d in self.dims if d.name == "k"]
        return int(max(max(k_dims) if k_dims else self.scenario.params.get("k"), k_all.max()))

    def compiled_arrivals(self):
        """The members' compiled arrivals (shared, or each member's own)."""
        return compile_arrivals(self.scenario, self.arrivals)

    def batch(self, compiled=None, k: int | None = None) -> ModelBatch:
        """The members as the solvers' :class:`~flowsim.model.batch.ModelBatch`, in the layout of ``k`` stages.

        Members with fewer stages (their own ``k``) use the last rows of the
        chain. ``compiled`` defaults to :meth:`compiled_arrivals`.
        """
        k = self.k_layout if k is None else int(k)
        regimes = self.regimes
        return ModelBatch.from_arrays(
            k=k, hosts=self.scenario.hosts, regime_starts=[d for d, _ in regimes],
            regime_flows=[{n: v[n] for n in FLOW_PARAMETERS} for _, v in regimes], P=self.P,
            arrivals=self.compiled_arrivals() if compiled is None else compiled,
            y0=self.scenario.initial_state(k), stages=self.k_values)

    def economy(self, t) -> dict:
        """Economy parameters of every member, host and output day ``t`` (see ``economy_arrays``)."""
        return economy_arrays(self.regimes, t)

    def parameter_sets(self) -> tuple:
        """The members' :class:`ParameterSet` (built and validated from the values when they came as arrays)."""
        if self.params is None:
            self.params = tuple(member_parameter_set(self.scenario.params, self.dims, row) for row in self.values)
        return self.params

    def select(self, members) -> MemberInputs:
        """The inputs of some members (indices); derived arrays already made are sliced, not made again."""
        idx = np.asarray(members, dtype=int)

        def take(arrays):
            return {n: v[idx] for n, v in arrays.items()}

        return MemberInputs(
            self.scenario, params=None if self.params is None or self.values is not None else
            tuple(self.params[i] for i in idx), dims=self.dims,
            values=None if self.values is None else self.values[idx],
            arrivals=None if self.arrivals is None else tuple(self.arrivals[i] for i in idx),
            _start=None if self._start is None else take(self._start),
            _regimes=None if self._regimes is None else [(d, take(v)) for d, v in self._regimes])

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_start"] = state["_regimes"] = None          # made again where they are used
        if state["values"] is not None:
            state["params"] = None
        return state

    def __repr__(self) -> str:
        how = f"{len(self.dims)} dimensions" if self.params is None else "parameter sets"
        return (f"MemberInputs({self.scenario.name!r}, {self.n_members} members from {how}"
                f"{', own arrivals' if self.arrivals is not None else ''})")


def _check_scenario(scenario, where: str) -> None:
    if not isinstance(scenario, Scenario):
        hint = (f" Load it first: flowsim.{where}(flowsim.load_scenario({scenario!r}))."
                if isinstance(scenario, str) else "")
        raise TypeError(f"{where}: `scenario` must be a flowsim.Scenario; got {type(scenario).__name__}.{hint}")


def _member_arrivals(arrivals, n: int, where: str):
    if arrivals is None:
        return None
    arrivals = tuple(arrivals)
    if len(arrivals) != n:
        raise FlowsimError(f"{where}: arrivals must hold one mapping per member ({n}); got {len(arrivals)}.")
    return arrivals


# ----------------------------------------------------------------------------------------------- outputs
@dataclass(frozen=True)
class Outputs:
    """What :func:`simulate` keeps (in the spirit of diffrax's ``SaveAt``).

    Attributes
    ----------
    states : bool
        Every compartment of every member on the daily grid, with every
        economy series: :func:`simulate` returns a :class:`~flowsim.results.Result`
        (memory ``8 * M * H * D * (3 C + 42)`` bytes). False: the solver
        projects the states straight to the series in ``keep`` and the
        summary figures, per chunk, and :func:`simulate` returns a
        :class:`Projection` (what an ensemble keeps).
    keep : tuple of str
        Series kept per member when ``states`` is False (any name
        :meth:`Result.series` knows).
    scalars : tuple of str
        Scalar outputs ``"STAT:SERIES"`` (STAT ``peak``, ``final`` or
        ``mean``) when ``states`` is False.
    """

    states: bool = True
    keep: tuple = ()
    scalars: tuple = ()

    @classmethod
    def full(cls) -> Outputs:
        """Every state: a :class:`~flowsim.results.Result`."""
        return cls(states=True)

    @classmethod
    def series(cls, keep=DEFAULT_KEEP, scalars=()) -> Outputs:
        """Projected series ``keep``, the summary figures and ``scalars``: a :class:`Projection`."""
        return cls(states=False, keep=tuple(keep), scalars=tuple(scalars))


#: Every state on the daily grid (a Result).
FULL = Outputs()


@dataclass(frozen=True, eq=False)
class Projection:
    """The members' kept series and summary figures (what :func:`simulate` returns for ``Outputs.series``).

    Attributes
    ----------
    series : dict of str to ndarray (M, H, D)
        Kept series, their units as in :data:`~flowsim.model.economy.ECONOMY_UNITS` (people for states).
    summary : dict of str to ndarray (M, H)
        Summary figures per host and balance (``"net.pv_usd"``...).
    scalars : dict of str to ndarray (M, H)
        ``"STAT:SERIES"`` outputs.
    stats : dict
        Solver, options, step plan, chunks, evaluations, times, ``bytes_per_member``.
    """

    series: dict
    summary: dict
    scalars: dict
    stats: dict


# ----------------------------------------------------------------------------------------------- chunks
@dataclass(frozen=True, eq=False)
class ChunkTask:
    """Everything a worker needs to solve some members (picklable)."""

    inputs: MemberInputs                # this chunk's members
    members: np.ndarray                 # (m,) indices among all members
    k: int                              # stages of the layout (members may have fewer: their own k)
    solver: str                         # registry name
    options: dict                       # solver options
    series: tuple | None                # series computed (summary ones, kept ones, scalar ones); None: full states
    keep: tuple = ()
    scalars: tuple = ()                 # (stat, variable) pairs
    plan: object = None                 # StepPlan of the ensemble solver
    block: tuple | None = None          # (block_key, first block) of the stochastic chain's streams


@dataclass(frozen=True, eq=False)
class ChunkResult:
    members: np.ndarray
    series: dict
    summary: dict
    scalars: dict
    stats: dict
    states: np.ndarray | None = None
    arrivals: np.ndarray | None = None
    message: str = ""


def _solve_states(task: ChunkTask, batch, horizon: int):
    """Full states of a chunk with any solver: ``Trajectories``."""
    if task.solver == "stochastic" and task.block is not None:
        key, first = task.block
        return StochasticSolver(**task.options, block_key=key, first_block=first).solve(batch, horizon)
    return get_solver(task.solver, **task.options).solve(batch, horizon)


def solve_chunk(task: ChunkTask, into: dict | None = None) -> ChunkResult:
    """Solve the members of one task: their full states, or their projected series, summaries and scalars.

    ``into`` maps kept series to arrays ``(m, H, D)`` (views of the caller's
    own arrays, in this process) that the ensemble solver writes directly;
    the result then carries no series.
    """
    t_start = time.perf_counter()
    inputs = task.inputs
    horizon = inputs.scenario.horizon_days
    batch = inputs.batch(k=task.k)
    m = len(task.members)
    if task.series is None:                                                 # every state
        if task.solver == "ensemble":
            solver = EnsembleSolver(**task.options)
            plan = task.plan if task.plan is not None else solver.plan(batch, horizon)
            shape = (batch.layout.size, batch.shape[1])
            sink, st = solver.replay(batch, horizon, plan, lambda idx: FullStates(horizon, (*shape, len(idx))))
            stats = {"method": "RK45 on a step plan (per-member error test)", "kernel": solver.kernel,
                     "rtol": solver.rtol, "atol": solver.atol, "drain": solver.drain,
                     "plan_margin": solver.plan_margin, "steps": plan.n_steps, "nfev": st["nfev"],
                     "fallbacks": int(len(st["fallbacks"])),
                     "drained_people": float(np.max(st["drained_people"], initial=0.0))}
            return ChunkResult(members=task.members, series={}, summary={}, scalars={}, stats=stats,
                               states=sink.states(), message="integration successful")
        traj = _solve_states(task, batch, horizon)
        return ChunkResult(members=task.members, series={}, summary={}, scalars={}, stats=dict(traj.stats),
                           states=traj.y, arrivals=traj.arrivals, message=traj.message)
    regimes = inputs.regimes
    weights = [series_weights(batch.layout, regime_economy(v), task.series) for _, v in regimes]
    starts = [d for d, _ in regimes]
    if task.solver != "ensemble":
        traj = _solve_states(task, batch, horizon)
        out = _project_states(traj.y, weights, starts)
        stats = {"nfev": traj.stats.get("nfev", 0), "steps": traj.stats.get("steps", 0),
                 "fallbacks": np.array([], int), "drained_people": np.zeros(m)}
        return _chunk_figures(task, dict(zip(task.series, out)), stats, None, t_start, into)
    solver = EnsembleSolver(**task.options)
    H, D = len(inputs.scenario.hosts), horizon + 1
    given = into or {}
    # series computed for the summary figures or the scalars only: scratch memory of this process, reused
    # chunk after chunk (fresh memory costs a first touch per chunk); kept series: the caller's, or fresh
    scratch_names = [name for name in task.series if given.get(name) is None and name not in task.keep]
    with SCRATCH.arrays(m, (H, D), len(scratch_names)) as scratch:
        own = dict(zip(scratch_names, scratch))
        targets = [given[name] if given.get(name) is not None else own.get(name) for name in task.series]
        targets = [t if t is not None else np.empty((m, H, D)) for t in targets]

        def make_sink(idx):
            whole = len(idx) == m
            return Projected(horizon, [w[..., idx] for w in weights], starts, out=targets if whole else None,
                             kernel=solver.kernel)

        plan = task.plan if task.plan is not None else solver.plan(batch, horizon)
        sink, stats = solver.replay(batch, horizon, plan, make_sink)
        stats["fallbacks"] = task.members[stats["fallbacks"]]
        # sink.out: V arrays (m, H, D); the figures are made before the scratch arrays go back to the pool
        return _chunk_figures(task, dict(zip(task.series, sink.out)), stats, solver.kernel, t_start, into)


def _chunk_figures(task: ChunkTask, series: dict, stats: dict, kernel, t_start: float, into) -> ChunkResult:
    """A chunk's summary figures, scalars and kept series from its computed series (each (m, H, D)).

    Nothing returned is a view of ``series`` except the kept series: the others may be scratch memory.
    """
    values = task.inputs.start
    summary = summary_arrays(series["N"], {b: series[b] for b in BALANCES}, values["r"][:, None],
                             values["D_x"][:, None].astype(int), kernel=kernel)
    scalars = {f"{stat}:{var}": np.array(SCALAR_STATS[stat](series[var])) for stat, var in task.scalars}
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


# ----------------------------------------------------------------------------------------------- step plan
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


def _make_plan(inputs: MemberInputs, solver: EnsembleSolver, k_ref: int):
    """The step plan from reference members of the ranges of members given as values and dims."""
    sc = inputs.scenario
    ref = reference_values(sc.params, inputs.dims, k_ref)
    arrivals = None
    if inputs.arrivals is not None:
        # every reference member with the arrivals of every representative member (the extremes of each
        # pulse field): the plan then meets the needs of the sharpest and the latest pulses too
        picks = inputs.compiled_arrivals().representatives()
        arrivals = [inputs.arrivals[i] for i in picks for _ in range(len(ref))]
        ref = np.tile(ref, (len(picks), 1))
    reference = MemberInputs(sc, dims=inputs.dims, values=ref, arrivals=arrivals)
    return solver.plan(reference.batch(k=k_ref), sc.horizon_days)


def _plan(inputs: MemberInputs, solver: EnsembleSolver, k_ref: int, plan_cache):
    key = (k_ref, tuple(sorted(solver.options().items())))
    if inputs.arrivals is not None:
        cache = {}
    elif plan_cache is not None:
        cache = plan_cache
    else:
        cache, key = _PLANS.setdefault(inputs.scenario, {}), (inputs.dims, *key)
        if key not in cache and len(cache) >= _PLANS_PER_SCENARIO:
            cache.pop(next(iter(cache)))
    if key not in cache:
        cache[key] = _make_plan(inputs, solver, k_ref)
    return cache[key]


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


def check_run_memory(scenario, members: int) -> None:
    """Refuse a run whose states and series cannot fit in the memory available, with the figures."""
    H, D = len(scenario.hosts), scenario.horizon_days + 1
    C = int(scenario.params.get("k")) + 7
    needed = 8 * members * H * D * (3 * C + 2 * len(ECONOMY_VARIABLES))
    check_memory(needed, f"a run of {members:,} members over {D - 1:,} days and {H} hosts",
                 "fewer members, or a shorter horizon")


def _bytes_per_member(series, summary, scalars, dims) -> int:
    arrays = [*series.values(), *summary.values(), *scalars.values()]
    n = max((a.shape[0] for a in arrays), default=1)
    return int(math.ceil(sum(a.nbytes for a in arrays) / n)) + 16 * len(dims)


# ----------------------------------------------------------------------------------------------- simulate
def simulate(inputs: MemberInputs, outputs: Outputs = FULL, *, solver: str = "ivp", solver_options=None,
             executor=None, chunk_size: int | None = None, failures: str = "raise", progress: bool | None = False,
             desc: str = "flowsim", plan_cache: dict | None = None, plan_from: str = "ranges"):
    """Solve some members and keep what ``outputs`` asks for: the one solve path of flowsim.

    Parameters
    ----------
    inputs : MemberInputs
        The members (:meth:`MemberInputs.from_parameter_sets` or :meth:`MemberInputs.from_values`).
    outputs : Outputs
        :data:`FULL` (default): every state, a :class:`~flowsim.results.Result`;
        ``Outputs.series(keep, scalars)``: projected series and summary
        figures, a :class:`Projection`.
    solver : str
        Name of a registered solver (:data:`flowsim.solve.SOLVERS`):
        ``"ivp"`` (``solve_ivp`` between breakpoints; RK45, ``rtol=1e-8``,
        ``atol=1e-6`` people), ``"ensemble"`` (Dormand-Prince on one step
        plan with a per-member error test; ``rtol=3e-6``, ``atol=3e-4``),
        ``"stochastic"`` (the binomial chain; ``dt=0.25`` days) or one you
        registered.
    solver_options : dict, optional
        Options of that solver (``rtol``, ``method``, ``dt``, ``seed``...).
        The stochastic chain's ``seed`` may be a ``SeedSequence``; when None
        one is drawn once for all chunks and recorded in the stats.
    executor : concurrent.futures.Executor, optional
        Runs the chunks (a ``ProcessPoolExecutor``, or dask's
        ``client.get_executor()``); in this process when None.
    chunk_size : int, optional
        Members per batch and per executor task; default all of them for
        full states, 250 for projected series. With ``"ensemble"`` (one
        step plan for all chunks) and ``"stochastic"`` (streams per block
        of 50 members; the size is rounded to whole blocks) the numbers do
        not depend on it; ``"ivp"`` solves each batch's members with shared
        steps, so theirs agree across chunkings to the tolerance only.
    failures : {"raise", "flag"}
        Full states only: what a member that breaks docs/model.md's
        invariants does (see :func:`flowsim.run_batch`).
    progress : bool or None
        Progress bar over the chunks (tqdm): None shows one when tqdm is
        installed and standard error is a terminal.
    desc : str
        Label of the progress bar.
    plan_cache : dict, optional
        Step plans already made for these inputs' scenario and dimensions
        (filled in here), so that repeated calls share one plan.
    plan_from : {"ranges", "members"}
        What the ``"ensemble"`` solver's step plan is made from when the
        members are given as values (:meth:`MemberInputs.from_values`):
        ``"ranges"`` (default) reference members of their dimensions' ranges
        (corners and a Latin hypercube, times the extremes of per-member
        pulses), so that any member of those ranges passes on the plan's
        steps; ``"members"`` the members themselves, all of them (one plan
        for every chunk, so the numbers still do not depend on the
        chunking). ``"members"`` is cheaper when there are fewer members
        than references (a posterior's half-ensemble of walkers: 14 members
        against 30-90 references). Parameter sets always use the members.

    Returns
    -------
    Result or Projection
        A :class:`~flowsim.results.Result` for full states, else a :class:`Projection`.

    Raises
    ------
    SolverError
        Unknown solver (with the closest name) or options it does not take.
    ParameterError
        A policy takes a member's value outside its bounds (every member is
        checked before any work).
    IntegrationError
        A member breaks the invariants (full states, ``failures="raise"``).

    Examples
    --------
    >>> import flowsim
    >>> from flowsim.simulate import MemberInputs, Outputs, simulate
    >>> sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=30)
    >>> inputs = MemberInputs.from_parameter_sets(sc, [sc.params, sc.params.with_params(tau_S=90)])
    >>> res = simulate(inputs, solver="ivp")
    >>> res.n_members
    2
    >>> proj = simulate(inputs, Outputs.series(keep=["N"]), solver="ensemble")
    >>> proj.series["N"].shape
    (2, 8, 31)
    """
    if not isinstance(inputs, MemberInputs):
        raise TypeError(f"simulate: `inputs` must be a MemberInputs (MemberInputs.from_parameter_sets or "
                        f".from_values); got {type(inputs).__name__}.")
    if not isinstance(outputs, Outputs):
        raise TypeError(f"simulate: `outputs` must be an Outputs (FULL, or Outputs.series(keep)); "
                        f"got {type(outputs).__name__}.")
    if failures not in ("raise", "flag"):
        raise FlowsimError(f"simulate: `failures` must be 'raise' or 'flag'; got {failures!r}.")
    if plan_from not in ("ranges", "members"):
        raise FlowsimError(f"simulate: `plan_from` must be 'ranges' or 'members'; got {plan_from!r}.")
    if solver not in SOLVERS:
        get_solver(solver)                                  # unknown: SolverError with the closest name
    options = dict(solver_options or {})
    t0 = time.perf_counter()
    sc = inputs.scenario
    n = inputs.n_members
    _ = inputs.regimes                                      # every member valid under every policy: fail before work
    k_all = inputs.k_values
    if outputs.states:
        series, keep, parsed = None, (), ()
        check_run_memory(sc, n)
    else:
        series, keep, parsed = _series_plan(outputs.keep, outputs.scalars, k_all)
    chunk_size = (n if outputs.states else DEFAULT_CHUNK) if chunk_size is None else \
        check_whole_number(chunk_size, "chunk_size", 1)
    plan = None
    block = None
    stats_options = options
    if solver == "ensemble":
        ens = EnsembleSolver(**options)                     # bad options: SolverError before any work
        options = stats_options = ens.options()
    elif solver == "stochastic":
        seed = options.pop("seed", None)
        seed = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        StochasticSolver(**options)                         # check dt before any work
        stats_options = dict(options) if options else {"dt": StochasticSolver().dt}
        options = dict(options, seed=int(seed.entropy))
        per_block = StochasticSolver.BLOCK
        chunk_size = max(per_block, chunk_size // per_block * per_block)   # whole blocks: draws independent
    else:
        get_solver(solver, **options)                       # bad options: SolverError before any work
    k_ref = inputs.k_layout
    from_members = inputs.values is None or plan_from == "members"
    if solver == "ensemble" and n > chunk_size and from_members:
        plan = ens.plan(inputs.batch(k=k_ref), sc.horizon_days)     # all the members: one plan for every chunk
    elif solver == "ensemble" and not from_members:
        plan = _plan(inputs, ens, k_ref, plan_cache)        # from the ranges' references: one plan for every chunk
    # otherwise (one chunk, the plan from its members) the chunk makes it
    t_plan = time.perf_counter() - t0
    # every member is solved in the layout of the largest k (fewer stages stay empty), so chunks are plain
    # ranges of members; the stochastic chain draws per k group, its streams keyed by the group for drawn values
    if solver == "stochastic":
        groups = [(int(k), np.flatnonzero(k_all == k)) for k in np.unique(k_all)]
        if outputs.states and len(groups) > 1:
            ks = ", ".join(str(k) for k, _ in groups)
            raise FlowsimError(f"simulate: the stochastic chain solves members with different k ({ks}) in layouts "
                               "of their own, so their full states have no common shape; ask for "
                               "Outputs.series(...), or fix k.")
    else:
        groups = [(k_ref, np.arange(n))]
    tasks = []
    for k, idx in groups:
        for start in range(0, idx.size, chunk_size):
            sel = idx[start:start + chunk_size]
            if solver == "stochastic":
                block = ((k,) if inputs.values is not None else (), start // StochasticSolver.BLOCK)
            tasks.append(ChunkTask(inputs=inputs.select(sel) if sel.size < n else inputs, members=sel, k=k,
                                   solver=solver, options=options, series=series, keep=keep, scalars=parsed,
                                   plan=plan, block=block))
    if outputs.states:
        return _gather_states(inputs, tasks, solver, failures, executor, progress, desc)
    H, D = len(sc.hosts), sc.horizon_days + 1
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
    touch = None
    if executor is None and solver == "ensemble":           # in this process: solve straight into the arrays
        # one group of members (not the stochastic chain): every task is a range of rows, solved in order;
        # the rows of the chunks to come are paged in by a thread, each claimed from it before it is written
        bounds = [(int(t.members[0]), int(t.members[-1]) + 1) for t in tasks]
        order = {id(t): i for i, t in enumerate(tasks)}
        if keep and FirstTouch.useful(len(tasks)):
            touch = FirstTouch(list(out_series.values()), bounds)

        def fn(task):
            i = order[id(task)]
            if touch is not None:
                touch.claim(i)
            return solve_chunk(task, {name: out_series[name][slice(*bounds[i])] for name in keep} or None)

    try:
        run_tasks(fn, tasks, [len(t.members) for t in tasks], consume, executor=executor, progress=progress,
                  desc=desc)
    finally:
        if touch is not None:
            touch.close()
    stats = {
        "solver": solver,
        "options": stats_options,
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
    stats["bytes_per_member"] = _bytes_per_member(out_series, out_summary, out_scalars, inputs.dims)
    return Projection(series=out_series, summary=out_summary, scalars=out_scalars, stats=stats)


def _gather_states(inputs: MemberInputs, tasks, solver: str, failures: str, executor, progress, desc) -> Result:
    """Solve the chunks for their full states and make the members' Result (economy, invariants, summaries)."""
    sc = inputs.scenario
    n = inputs.n_members
    parts: dict = {}

    def consume(i, res: ChunkResult) -> None:
        parts[i] = res

    if len(tasks) == 1 and executor is None:
        parts[0] = solve_chunk(tasks[0])
    else:
        run_tasks(solve_chunk, tasks, [len(t.members) for t in tasks], consume, executor=executor,
                  progress=progress, desc=desc)
    ordered = [parts[i] for i in range(len(tasks))]
    if len(ordered) == 1 and np.array_equal(ordered[0].members, np.arange(n)):
        y, realised = ordered[0].states, ordered[0].arrivals
        stats, message = ordered[0].stats, ordered[0].message
    else:
        first = ordered[0].states
        y = np.empty((n, *first.shape[1:]))
        realised = None if ordered[0].arrivals is None else np.empty((n, *ordered[0].arrivals.shape[1:]))
        for part in ordered:
            y[part.members] = part.states
            if realised is not None:
                realised[part.members] = part.arrivals
        stats = dict(ordered[0].stats)
        for key in ("nfev", "steps", "fallbacks"):
            if isinstance(stats.get(key), (int, np.integer)):
                stats[key] = int(sum(part.stats.get(key, 0) for part in ordered))
        stats["chunks"] = len(ordered)
        message = ordered[0].message
    t = np.arange(sc.horizon_days + 1, dtype=float)
    layout = Layout(inputs.k_layout if solver != "stochastic" else tasks[0].k)
    compiled = inputs.compiled_arrivals()
    econ = economy_series(y, layout, inputs.economy(t))
    names = list(ECONOMY_VARIABLES)
    present = y[:, :, layout.present].sum(axis=2)
    cumulative = compiled.cumulative(t)                                # (D, H), or (D, H, M) per member
    if realised is None and compiled.per_member:
        realised = np.ascontiguousarray(np.moveaxis(cumulative, -1, 0))
    arrived = realised if realised is not None else cumulative[None]
    status, messages = member_status(y, layout, sc.hosts, sc.dates, arrived, econ, names)
    failed = np.flatnonzero(status != STATUS_OK)
    if failed.size:
        if failures == "raise":
            raise IntegrationError(messages[failed[0]])
        listed = ", ".join(map(str, failed[:10])) + ("..." if failed.size > 10 else "")
        message = (f"{failed.size} of {n} members broke docs/model.md's invariants (members {listed}); "
                   f"first: {messages[failed[0]]}")
    H = len(sc.hosts)
    values = inputs.start
    r = np.repeat(values["r"][:, None], H, axis=1)
    D_x = np.repeat(values["D_x"].astype(int)[:, None], H, axis=1)
    balances = {b: econ[:, :, names.index(b)] for b in BALANCES}
    if failed.size:                       # summaries of the others only; the failed ones' figures are NaN or -1
        present = present.copy()
        present[failed] = 0.0
        balances = {b: v.copy() for b, v in balances.items()}
        for v in balances.values():
            v[failed] = 0.0
    summ = summary_arrays(present, balances, r, D_x)
    for values_ in summ.values():
        if failed.size:
            values_[failed] = np.nan if np.issubdtype(values_.dtype, np.floating) else -1
    return Result(
        scenario=sc,
        params=inputs.parameter_sets(),
        hosts=sc.hosts,
        layout=layout,
        variables=ECONOMY_VARIABLES,
        dates=sc.dates,
        states=y,
        economy=econ,
        summary_arrays=summ,
        cumulative_arrivals=cumulative[..., 0] if compiled.per_member else cumulative,
        realised_arrivals=realised,
        message=message,
        stats=stats,
        status=status,
        member_messages=messages,
    )
