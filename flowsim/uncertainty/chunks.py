"""Ensembles: draw parameter sets from their ranges and solve them as projected members.

:func:`ensemble` draws members from the parameters' ranges and hands them,
as :class:`~flowsim.simulate.MemberInputs` of value arrays, to
:func:`flowsim.simulate.simulate` with the ensemble solver (or the
stochastic chain): members are solved as vectorised batches of
``chunk_size`` on one step plan made from reference members of the ranges,
so every member's numbers depend only on its own parameters: the same
whatever the chunking or the executor. Each chunk keeps only the series
asked for (``keep``) and the per-host summary figures; its full
trajectories never leave the worker.
"""

from __future__ import annotations

import numpy as np

from .._memory import check_memory, format_bytes
from .._validation import check_seed, check_whole_number
from ..exceptions import FlowsimError
from ..scenario.sampling import parse_vary, scale_sample, unit_sample
from ..simulate import DEFAULT_CHUNK, DEFAULT_KEEP, SCALAR_STATS, MemberInputs, Outputs, simulate
from .ensemble_result import EnsembleResult

__all__ = ["ensemble", "DEFAULT_KEEP", "DEFAULT_CHUNK", "SCALAR_STATS", "ensemble_solver"]


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
             dt: float | None = None, solver_options: dict | None = None,
             solver: str | None = None) -> EnsembleResult:
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
        Options of the solver: of :class:`~flowsim.solve.ensemble.EnsembleSolver`
        (``rtol``, ``atol``...) by default, refused with ``stochastic=True``.
    solver : str, optional
        Registered name of the solver (see :func:`flowsim.simulate.simulate`):
        ``"ensemble"`` (default: one step plan, numbers independent of the
        chunking), ``"stochastic"`` (as ``stochastic=True``) or another,
        whose full states are projected per chunk.

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
    solver, options = ensemble_solver(stochastic, dt, solver_options, solver=solver)
    check_ensemble_memory(scenario, n, len(dims), keep, chunk_size)
    root = np.random.SeedSequence(seed)
    sample_seed, noise_seed = root.spawn(2)
    unit = unit_sample(n, len(dims), sampler, sample_seed)
    values = scale_sample(dims, unit)
    if solver == "stochastic" and options.get("seed") is None:
        options["seed"] = noise_seed
    proj = simulate(MemberInputs.from_values(scenario, dims, values, where="ensemble"),
                    Outputs.series(keep, scalars), solver=solver, solver_options=options, executor=executor,
                    chunk_size=chunk_size, progress=progress, desc="flowsim ensemble")
    return EnsembleResult(scenario=scenario, dims=tuple(dims), unit=unit, values=values, sampler=sampler,
                          seed=root.entropy, series=proj.series, summary_arrays=proj.summary, scalars=proj.scalars,
                          stats=proj.stats)


def ensemble_solver(stochastic: bool, dt, solver_options, noise_seed=None, solver: str | None = None
                    ) -> tuple[str, dict]:
    """The registry name and options of an ensemble's solver.

    ``solver`` names it (``"ensemble"`` by default; ``"stochastic"``, or any
    registered solver, whose full states are then projected per chunk) with
    ``solver_options``; ``stochastic=True`` is short for
    ``solver="stochastic"`` and ``dt`` for its ``solver_options={"dt": dt}``.
    The stochastic chain gets ``noise_seed``. Refuses options of a mode that
    does not run (``dt`` without the chain, ODE options with
    ``stochastic=True``).
    """
    if solver is None:
        dt = _check_mode(stochastic, dt, solver_options)
        if stochastic:
            return "stochastic", {"dt": dt, "seed": noise_seed}
        return "ensemble", dict(solver_options or {})
    if stochastic and solver != "stochastic":
        raise FlowsimError(f"stochastic=True runs the stochastic chain, but solver={solver!r}; give one of them.")
    options = dict(solver_options or {})
    if solver != "stochastic":
        _check_mode(False, dt, None)
        return solver, options
    if dt is not None:
        options["dt"] = dt
    options.setdefault("dt", DEFAULT_DT)
    options.setdefault("seed", noise_seed)
    return "stochastic", options


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
