"""Shared figure helpers: lazy matplotlib import, date axes, grids."""

from __future__ import annotations

import math

from ..hosts import HOST_NAMES

__all__ = ["pyplot", "date_axis", "host_title", "names_of", "grid_axes", "as_datetimes", "mark_empty",
           "style_host_panel"]


def pyplot():
    """Import :mod:`matplotlib.pyplot` on first use."""
    import matplotlib.pyplot as plt

    return plt


def as_datetimes(dates):
    """datetime64[D] array to Python datetimes for matplotlib."""
    return dates.astype("datetime64[D]").astype(object)


def date_axis(ax):
    """Concise date ticks on the x axis."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def host_title(host: str, names=None) -> str:
    """``"Poland (POL)"``: the scenario's name of the host (``names``), else the built-in one, else the code."""
    name = (names or {}).get(host) or HOST_NAMES.get(host)
    return f"{name} ({host})" if name and name != host else host


def names_of(obj) -> dict:
    """Display names of the hosts of a result, an ensemble or a scenario (``{}`` when unknown)."""
    sc = getattr(obj, "scenario", obj)
    params = getattr(sc, "params", None)
    return dict(getattr(params, "names", {}) or {})


def grid_axes(n: int, *, fig=None, width: float = 4.2, height: float = 3.0):
    """A figure with ``n`` panels in up to 4 columns (5 beyond 16 panels, 6 beyond 25); unused panels hidden."""
    plt = pyplot()
    cols = min(4 if n <= 16 else 5 if n <= 25 else 6, n)
    rows = math.ceil(n / cols)
    if fig is None:
        fig = plt.figure(figsize=(width * cols, height * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def mark_empty(ax, result, host: str, member: int = 0) -> None:
    """Say so in the panel when nobody was ever present in ``host`` (e.g. a closed border)."""
    if result.series("N", host, member).max() > 0:
        return
    closed = host in result.scenario.closures
    ax.text(0.5, 0.7, "border closed: no arrivals" if closed else "no arrivals",
            transform=ax.transAxes, ha="center", va="center", color="dimgrey",
            bbox={"facecolor": "white", "edgecolor": "lightgrey"})


def style_host_panel(ax, x, host: str, ylabel: str, legend: bool, *, legend_loc: str = "upper right",
                     names=None) -> None:
    """Title, axis labels, date ticks, grid and (optionally) legend of one host's time panel.

    The x axis spans ``x[0]`` to ``x[-1]`` exactly (no margins); ``x`` None keeps it as drawn.
    """
    ax.set_title(host_title(host, names))
    ax.set_ylabel(ylabel)
    ax.set_xlabel("date")
    if x is not None and len(x):
        ax.set_xlim(x[0], x[-1])
    ax.grid(alpha=0.3)
    date_axis(ax)
    if legend:
        ax.legend(loc=legend_loc, fontsize="small")
