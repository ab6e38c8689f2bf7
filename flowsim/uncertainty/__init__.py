"""Uncertainty: ensembles, global sensitivity and distributed sweeps."""

from .result import EVENT_COLUMNS, EnsembleResult
from .runner import DEFAULT_CHUNK, DEFAULT_KEEP, ensemble

__all__ = ["ensemble", "EnsembleResult", "EVENT_COLUMNS", "DEFAULT_KEEP", "DEFAULT_CHUNK"]
