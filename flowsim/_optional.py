"""Optional dependencies, imported when a feature first needs them, with the extra that installs each."""

from __future__ import annotations

import importlib

__all__ = ["require", "import_pandas"]


def require(module: str, needed_by: str, *, extra: str, package: str | None = None, version: str = ""):
    """Import the optional ``module``, or raise an ImportError saying what needs it and how to install it.

    Parameters
    ----------
    module : str
        The module to import (``"xarray"``, ``"emcee"``...).
    needed_by : str
        Subject and verb of the message: ``"to_dataframe() needs"``.
    extra : str
        The flowsim extra that installs it (``pip install '.[extra]'``).
    package : str, optional
        Its name on the package registry (default: the top-level module).
    version : str
        A version requirement for the message, e.g. ``">= 3.1"``.
    """
    package = package or module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError:  # pragma: no cover - depends on the environment
        wanted = f"{package} ({version})" if version else package
        raise ImportError(
            f"{needed_by} {wanted}; install it with `pip install {package}` (or `pip install '.[{extra}]'` in "
            "the flowsim source folder)."
        ) from None


def import_pandas():
    """The ``pandas`` module, or an ImportError naming the extra that installs it."""
    return require("pandas", "to_dataframe() needs", extra="pandas")
