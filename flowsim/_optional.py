"""Optional dependencies, imported when a feature first needs them, with the extra that installs each."""

from __future__ import annotations

__all__ = ["import_pandas"]


def import_pandas():
    """The ``pandas`` module, or an ImportError naming the extra that installs it."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_dataframe() needs pandas; install it with `pip install pandas` (or `pip install '.[pandas]'` in "
            "the flowsim source folder)."
        ) from None
    return pd
