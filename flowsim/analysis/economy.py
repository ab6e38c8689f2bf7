"""Moved to :mod:`flowsim.model.economy`; this module re-exports it for old imports and will be removed.

``flowsim.analysis.economy`` sat above the runner and the results that use it;
the economy series now live in :mod:`flowsim.model.economy`, below them (docs/architecture.md).
Importing this module warns once (:class:`~flowsim.FlowsimDeprecationWarning`).
"""

import warnings

from ..exceptions import FlowsimDeprecationWarning
from ..model.economy import *  # noqa: F403
from ..model.economy import __all__  # noqa: F401

warnings.warn("flowsim.analysis.economy moved to flowsim.model.economy; import it from there.",
              FlowsimDeprecationWarning, stacklevel=2)
