"""Solvers: strategies registered by name (see :data:`SOLVERS`)."""

from .base import SOLVERS, Solver, Trajectories, get_solver, register_solver
from .ensemble import EnsembleSolver, StepPlan
from .ivp import IvpSolver
from .stochastic import StochasticSolver

__all__ = ["SOLVERS", "Solver", "Trajectories", "get_solver", "register_solver", "IvpSolver", "EnsembleSolver",
           "StepPlan", "StochasticSolver"]
