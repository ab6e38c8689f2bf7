"""The reference model: compartment layout, arrivals, batch inputs and right-hand side."""

from .arrivals import CompiledArrivals
from .batch import ModelBatch
from .layout import Layout
from .rhs import FlowRHS

__all__ = ["CompiledArrivals", "ModelBatch", "Layout", "FlowRHS"]
