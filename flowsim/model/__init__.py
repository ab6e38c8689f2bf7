"""The reference model: batch inputs, right-hand side and the economy layer (docs/model.md).

The compartment layout and a scenario's compiled arrivals are inputs the
scenario layer defines (:mod:`flowsim.scenario.layout`,
:mod:`flowsim.scenario.arrivals`; re-exported here, where they used to live);
this package turns them into a batch of members and their right-hand side,
and states into economy series.
"""

from ..scenario.arrivals import CompiledArrivals
from ..scenario.layout import Layout
from .batch import ModelBatch
from .rhs import FlowRHS

__all__ = ["CompiledArrivals", "ModelBatch", "Layout", "FlowRHS"]
