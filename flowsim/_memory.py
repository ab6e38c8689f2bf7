"""Up-front memory estimates: refuse a run or an ensemble that cannot fit, with the figures.

A run that needs more memory than the machine has would otherwise fail only
after allocating (a ``MemoryError`` traceback) or swap for minutes. The
estimates here count the large arrays a run keeps (states, economy series,
kept ensemble series) and compare them with the memory available now.
"""

from __future__ import annotations

import os

from .exceptions import FlowsimError

__all__ = ["available_bytes", "check_memory", "format_bytes"]

GIB = 1024 ** 3


def available_bytes() -> int | None:
    """Memory available to this process now, bytes (``MemAvailable`` on Linux); None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(n: float) -> str:
    """``1.5 GiB``, ``300 MiB``."""
    if n >= GIB:
        return f"{n / GIB:,.1f} GiB"
    if n >= 1024 ** 2:
        return f"{n / 1024 ** 2:,.0f} MiB"
    return f"{n / 1024:,.0f} KiB"


def check_memory(needed: float, what: str, fix: str, available: int | None = None) -> None:
    """Raise :class:`FlowsimError` when ``needed`` bytes exceed the memory available.

    Parameters
    ----------
    needed : float
        Estimated bytes.
    what : str
        What needs them (``"an ensemble of 100,000,000 members"``).
    fix : str
        How to need less.
    available : int, optional
        Bytes available (default :func:`available_bytes`; nothing is checked when unknown).
    """
    available = available_bytes() if available is None else available
    if available is None or needed <= available:
        return
    raise FlowsimError(
        f"{what} needs about {format_bytes(needed)} of memory; this machine has {format_bytes(available)} "
        f"available. Fix: {fix}."
    )
