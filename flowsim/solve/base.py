"""Solver strategies and their registry.

A solver takes a :class:`~flowsim.model.batch.ModelBatch` and a horizon and
returns :class:`Trajectories` on the daily grid. Solvers are registered by
name in :data:`SOLVERS` (like scipy's ``METHODS`` in ``solve_ivp``), so new
strategies (stochastic, ensemble-chunked...) plug in without touching callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import did_you_mean
from ..exceptions import SolverError

__all__ = ["Trajectories", "Solver", "SOLVERS", "register_solver", "get_solver", "MIN_RTOL", "check_rtol"]

#: Smallest relative tolerance a solver accepts: 100 times the machine epsilon (about 2.2e-14), the floor
#: ``solve_ivp`` itself raises a smaller ``rtol`` to. Below it the tolerance asked for is not the one used.
MIN_RTOL = 100 * float(np.finfo(float).eps)


def check_rtol(rtol, high: float) -> float:
    """``rtol`` as a float in ``[MIN_RTOL, high]``, or a :class:`SolverError` saying why the floor exists."""
    from .._validation import check_finite_number

    x = check_finite_number(rtol, "solver option `rtol`", SolverError)
    if not MIN_RTOL <= x <= high:
        raise SolverError(
            f"solver option `rtol` must be in [100 x machine epsilon = {MIN_RTOL:.5g}, {high:g}]; got {x:g}. "
            "Double precision cannot meet a tighter tolerance: scipy's solve_ivp would quietly use "
            f"{MIN_RTOL:.5g} instead. Fix: --rtol 1e-13 or larger (default 1e-8)."
            if x < MIN_RTOL else f"solver option `rtol` must be in [{MIN_RTOL:.5g}, {high:g}]; got {x:g}."
        )
    return x


@dataclass(frozen=True, kw_only=True, eq=False)
class Trajectories:
    """States on the daily output grid.

    Attributes
    ----------
    t : ndarray, shape (D,)
        Days since the start, ``0, 1, ..., horizon``.
    y : ndarray, shape (M, H, C, D)
        People in each compartment (member, host, compartment, day).
    message : str
        Solver message. A solver that cannot finish raises
        :class:`~flowsim.exceptions.IntegrationError` instead of returning;
        whether each member's numbers keep docs/model.md's invariants is decided
        by the runner (``Result.status``).
    stats : dict
        Solver statistics (``nfev``, ``segments``, method, tolerances...).
    arrivals : ndarray, shape (M, D, H), optional
        Direct arrivals each member actually received since the start, people,
        when they differ from the scheduled integral (the stochastic mode draws
        them); None otherwise.
    """

    t: np.ndarray
    y: np.ndarray
    message: str = ""
    stats: dict = field(default_factory=dict)
    arrivals: np.ndarray | None = None


class Solver:
    """Base class of solver strategies; subclasses implement :meth:`solve`."""

    name: str = ""

    def solve(self, batch, horizon: int) -> Trajectories:  # pragma: no cover - abstract
        raise NotImplementedError


#: Registered solver classes by name.
SOLVERS: dict[str, type[Solver]] = {}


def register_solver(cls: type[Solver]) -> type[Solver]:
    """Class decorator adding a solver to :data:`SOLVERS` under ``cls.name``."""
    SOLVERS[cls.name] = cls
    return cls


def get_solver(name: str, **options) -> Solver:
    """Instantiate the solver registered as ``name`` with ``options``."""
    try:
        cls = SOLVERS[name]
    except KeyError:
        fix = did_you_mean(str(name), SOLVERS)
        raise SolverError(f"unknown solver {name!r}; available: {', '.join(SOLVERS)}.{fix}") from None
    try:
        return cls(**options)
    except TypeError as exc:
        raise SolverError(f"solver {name!r}: {exc}") from None
