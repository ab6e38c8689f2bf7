"""The reference model: batch inputs, right-hand side and the economy layer (MODEL.md).

The compartment layout and a scenario's compiled arrivals are inputs the
scenario layer defines (:mod:`flowsim.scenario.layout`,
:mod:`flowsim.scenario.arrivals`); this package turns them into a batch of
members and their right-hand side, and states into economy series.
"""

from .batch import ModelBatch
from .rhs import FlowRHS

__all__ = ["ModelBatch", "FlowRHS"]
