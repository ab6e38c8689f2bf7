"""Uncertainty: ensembles, global sensitivity and distributed sweeps."""

from .chunks import DEFAULT_CHUNK, DEFAULT_KEEP, ensemble
from .ensemble_result import EVENT_COLUMNS, EnsembleResult
from .sensitivity import SENSITIVITY_COLUMNS, SensitivityResult, sensitivity

__all__ = ["ensemble", "EnsembleResult", "EVENT_COLUMNS", "DEFAULT_KEEP", "DEFAULT_CHUNK", "sensitivity",
           "SensitivityResult", "SENSITIVITY_COLUMNS"]
