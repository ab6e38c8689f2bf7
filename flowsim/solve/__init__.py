"""Solvers: strategies registered by name (see :data:`SOLVERS`)."""

from .base import SOLVERS, Solver, Trajectories, get_solver, register_solver
from .ivp import IvpSolver

__all__ = ["SOLVERS", "Solver", "Trajectories", "get_solver", "register_solver", "IvpSolver"]
