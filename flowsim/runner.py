"""Run a scenario: compile inputs, solve, compute the economy and summaries."""

from __future__ import annotations

import numpy as np

from .analysis.economy import ECONOMY_VARIABLES, economy_arrays, economy_series
from .analysis.summary import summary_arrays
from .exceptions import FlowsimError
from .model.batch import ModelBatch
from .model.member_arrivals import compile_arrivals
from .results import Result
from .scenario.scenario import Scenario
from .solve import get_solver
from .solve.invariants import check_run

__all__ = ["run", "run_batch"]


def run(scenario: Scenario, *, solver: str = "ivp", **options) -> Result:
    """Simulate a scenario and its economic effect.

    Parameters
    ----------
    scenario : Scenario
        What to run (unchanged by running).
    solver : str
        Name of a registered solver (default ``"ivp"``: ``solve_ivp`` with
        ``RK45``, ``rtol=1e-8``, ``atol=1e-6`` people).
    **options
        Solver options, e.g. ``method="RK45"``, ``rtol=1e-7``.

    Returns
    -------
    Result
        Trajectories (people), economy series (USD/day) and summaries on the
        daily grid, with dates.

    Examples
    --------
    >>> import flowsim
    >>> res = flowsim.run(flowsim.load_scenario("kazakhstan-2022"))
    >>> res.conservation_error() < 1e-6
    True
    """
    return run_batch(scenario, [scenario.params], solver=solver, **options)


def run_batch(scenario: Scenario, params: list, *, solver: str = "ivp", arrivals=None, **options) -> Result:
    """Run one scenario with several parameter sets as one vectorised batch.

    Parameters
    ----------
    scenario : Scenario
        Arrivals, closures, initial stocks, dates.
    params : list of ParameterSet
        One per member (values at the start); same hosts and ``k`` as the
        scenario. The scenario's policies apply to each member from their
        dates (``factor`` policies scale each member's own value).
    arrivals : sequence of mapping, optional
        Each member's own arrival schedules ``{host: (Schedule, ...)}`` (one
        per member, lined up as in
        :meth:`~flowsim.model.member_arrivals.MemberArrivals.build`), e.g.
        posterior draws of a pulse; default the scenario's, shared by all.
        The result's ``realised_arrivals`` then holds each member's exact
        integral and ``cumulative_arrivals`` member 0's.

    Returns
    -------
    Result
        With ``len(params)`` members.
    """
    params = list(params)
    if arrivals is not None:
        arrivals = list(arrivals)
        if len(arrivals) != len(params):
            raise FlowsimError(f"run_batch: arrivals must hold one mapping per member ({len(params)}); "
                               f"got {len(arrivals)}.")
    compiled = compile_arrivals(scenario, arrivals)
    regimes = [scenario.regimes(p) for p in params]
    batch = ModelBatch.from_regimes(regimes, compiled, scenario.initial_state())
    traj = get_solver(solver, **options).solve(batch, scenario.horizon_days)
    econ = economy_series(traj.y, batch.layout, economy_arrays(regimes, traj.t))
    names = list(ECONOMY_VARIABLES)
    present = traj.y[:, :, batch.layout.present].sum(axis=2)
    cumulative = compiled.cumulative(traj.t)                          # (D, H), or (D, H, M) per member
    realised = traj.arrivals
    if realised is None and compiled.per_member:
        realised = np.ascontiguousarray(np.moveaxis(cumulative, -1, 0))
    arrived = realised if realised is not None else cumulative[None]
    check_run(traj.y, batch.layout, scenario.hosts, scenario.dates, arrived, econ, names)
    r = np.array([[p.get("r")] * len(scenario.hosts) for p in params])
    summ = summary_arrays(present, econ[:, :, names.index("boost")], econ[:, :, names.index("net")], r)
    return Result(
        scenario=scenario,
        params=tuple(params),
        hosts=scenario.hosts,
        layout=batch.layout,
        variables=ECONOMY_VARIABLES,
        dates=scenario.dates,
        states=traj.y,
        economy=econ,
        summary_arrays=summ,
        cumulative_arrivals=cumulative[..., 0] if compiled.per_member else cumulative,
        realised_arrivals=realised,
        success=traj.success,
        message=traj.message,
        stats=traj.stats,
    )
