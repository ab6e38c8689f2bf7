"""Moved to :mod:`flowsim.summary`; this module re-exports it for old imports and will be removed.

``flowsim.analysis.summary`` sat above the runner and the results that use it;
the summaries now live in :mod:`flowsim.summary`, below them (docs/architecture.md).
Importing this module warns once (:class:`~flowsim.FlowsimDeprecationWarning`).
"""

import warnings

from ..exceptions import FlowsimDeprecationWarning
from ..summary import *  # noqa: F403
from ..summary import __all__  # noqa: F401

warnings.warn("flowsim.analysis.summary moved to flowsim.summary; import it from there.",
              FlowsimDeprecationWarning, stacklevel=2)
