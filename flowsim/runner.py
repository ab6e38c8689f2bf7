"""Run a scenario: scenario in, Result out (both front doors solve through :func:`flowsim.simulate.simulate`)."""

from __future__ import annotations

from .exceptions import FlowsimError
from .results import Result
from .scenario.scenario import Scenario
from .simulate import FULL, MemberInputs, _check_scenario, check_run_memory, simulate

__all__ = ["run", "run_batch", "check_run_memory"]


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
    inputs = MemberInputs.from_parameter_sets(scenario, params, arrivals, where="run_batch")
    return simulate(inputs, FULL, solver=solver, solver_options=options, failures=failures)
