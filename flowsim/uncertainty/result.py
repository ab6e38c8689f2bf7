"""Renamed :mod:`flowsim.uncertainty.ensemble_result`; this module re-exports it for old imports and will be removed.

``result.py`` sat beside ``flowsim/results.py`` and ``flowsim/calibration/result.py``;
each module now has a name of its own (docs/architecture.md, "Names").
Importing this module warns once (:class:`~flowsim.FlowsimDeprecationWarning`).
"""

import warnings

from ..exceptions import FlowsimDeprecationWarning
from .ensemble_result import *  # noqa: F403
from .ensemble_result import __all__  # noqa: F401

warnings.warn("flowsim.uncertainty.result moved to flowsim.uncertainty.ensemble_result; import it from there.",
              FlowsimDeprecationWarning, stacklevel=2)
