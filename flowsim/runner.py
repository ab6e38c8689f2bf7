"""Run a scenario: compile inputs, solve, compute the economy and summaries."""

from __future__ import annotations

import numpy as np

from ._memory import check_memory
from .exceptions import FlowsimError, IntegrationError
from .model.batch import ModelBatch
from .model.economy import BALANCES, ECONOMY_VARIABLES, economy_arrays, economy_series
from .model.member_arrivals import compile_arrivals
from .results import Result
from .scenario.parameter_set import ParameterSet
from .scenario.scenario import Scenario
from .solve import get_solver
from .solve.invariants import STATUS_OK, member_status
from .summary import summary_arrays

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
    _check_scenario(scenario, "run")
    return run_batch(scenario, [scenario.params], solver=solver, **options)


def _check_scenario(scenario, where: str) -> None:
    if not isinstance(scenario, Scenario):
        hint = (f" Load it first: flowsim.{where}(flowsim.load_scenario({scenario!r}))."
                if isinstance(scenario, str) else "")
        raise TypeError(f"{where}: `scenario` must be a flowsim.Scenario; got {type(scenario).__name__}.{hint}")


def check_run_memory(scenario, members: int) -> None:
    """Refuse a run whose states and series cannot fit in the memory available, with the figures."""
    H, D = len(scenario.hosts), scenario.horizon_days + 1
    C = int(scenario.params.get("k")) + 7
    needed = 8 * members * H * D * (3 * C + 2 * len(ECONOMY_VARIABLES))
    check_memory(needed, f"a run of {members:,} members over {D - 1:,} days and {H} hosts",
                 "fewer members, or a shorter horizon")


def run_batch(scenario: Scenario, params: list, *, solver: str = "ivp", arrivals=None, failures: str = "raise",
              **options) -> Result:
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
    failures : {"raise", "flag"}
        What a member that breaks docs/model.md's invariants (finite values,
        non-negative stocks, conservation) does: ``"raise"`` (default) raises
        :class:`~flowsim.exceptions.IntegrationError` naming it;
        ``"flag"`` returns the result with ``status`` and ``member_messages``
        saying which members failed and why (their summary figures are NaN,
        or -1 for days; their series are left as the solver gave them, to
        look at, and such a result cannot be saved). A solver that cannot
        finish at all raises in both cases.

    Returns
    -------
    Result
        With ``len(params)`` members.
    """
    _check_scenario(scenario, "run_batch")
    if failures not in ("raise", "flag"):
        raise FlowsimError(f"run_batch: `failures` must be 'raise' or 'flag'; got {failures!r}.")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"run_batch: `params` must be a list of ParameterSet; got {type(params).__name__}.") from None
    if not params:
        raise FlowsimError("run_batch: `params` is empty; give at least one ParameterSet "
                           "(e.g. [scenario.params]).")
    for i, p in enumerate(params):
        if not isinstance(p, ParameterSet):
            raise TypeError(f"run_batch: params[{i}] must be a ParameterSet (e.g. scenario.params); "
                            f"got {type(p).__name__}.")
    if arrivals is not None:
        arrivals = list(arrivals)
        if len(arrivals) != len(params):
            raise FlowsimError(f"run_batch: arrivals must hold one mapping per member ({len(params)}); "
                               f"got {len(arrivals)}.")
    check_run_memory(scenario, len(params))
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
    status, messages = member_status(traj.y, batch.layout, scenario.hosts, scenario.dates, arrived, econ, names)
    failed = np.flatnonzero(status != STATUS_OK)
    message = traj.message
    if failed.size:
        if failures == "raise":
            raise IntegrationError(messages[failed[0]])
        listed = ", ".join(map(str, failed[:10])) + ("..." if failed.size > 10 else "")
        message = (f"{failed.size} of {len(params)} members broke docs/model.md's invariants (members {listed}); "
                   f"first: {messages[failed[0]]}")
    r = np.array([[p.get("r")] * len(scenario.hosts) for p in params])
    D_x = np.array([[int(p.get("D_x"))] * len(scenario.hosts) for p in params])
    balances = {b: econ[:, :, names.index(b)] for b in BALANCES}
    if failed.size:                       # summaries of the others only; the failed ones' figures are NaN or -1
        present = present.copy()
        present[failed] = 0.0
        balances = {b: v.copy() for b, v in balances.items()}
        for v in balances.values():
            v[failed] = 0.0
    summ = summary_arrays(present, balances, r, D_x)
    for values in summ.values():
        if failed.size:
            values[failed] = np.nan if np.issubdtype(values.dtype, np.floating) else -1
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
        message=message,
        stats=traj.stats,
        status=status,
        member_messages=messages,
    )
