"""Boost against burden per host, with the crossover marked."""

from __future__ import annotations

import numpy as np

from ._common import date_numbers, finish_grid, grid_axes, mark_empty, names_of, pyplot, style_host_panel

__all__ = ["plot_boost_burden", "plot_boost_burden_grid"]


def plot_boost_burden(result, host: str, *, member: int = 0, ax=None, legend: bool = True,
                      days: int | None = None):
    """Boost, burden and net impact indicator (v1) of one host (USD million per day).

    The crossover date (net turns from positive to negative) is marked with a
    vertical line when it occurs.

    Parameters
    ----------
    result : Result
    host : str
    member : int
    ax : matplotlib Axes, optional
    legend : bool
    days : int, optional
        Show only the first ``days`` days; the whole horizon by default.

    Returns
    -------
    dict
        ``{"boost": Line2D, "burden": Line2D, "net": Line2D, "crossover": Line2D or None}``
    """
    if ax is None:
        _, ax = pyplot().subplots(figsize=(7, 4), layout="constrained")
    window = slice(None if days is None else days + 1)
    x = date_numbers(result.dates[window])

    def usd_million(name):
        return result.series(name, host, member)[window] * 1e-6

    out = {
        "boost": ax.plot(x, usd_million("boost"), color="tab:green", label="boost")[0],
        "burden": ax.plot(x, usd_million("burden"), color="tab:red", label="burden")[0],
        "net": ax.plot(x, usd_million("net"), color="black", lw=1.0, ls="--", label="net = boost - burden")[0],
        "crossover": None,
    }
    ax.axhline(0.0, color="grey", lw=0.6)
    cross = result.summary("net", member)[host]["crossover_date"]
    if cross is not None and (days is None or (cross - result.date_of(0)).days <= days):
        at = date_numbers(np.array([cross], dtype="datetime64[D]"))[0]
        out["crossover"] = ax.axvline(at, color="tab:purple", lw=1.2, ls=":", label=f"crossover {cross.isoformat()}")
    style_host_panel(ax, x, host, "USD million per day", legend, names=names_of(result))
    return out


def plot_boost_burden_grid(result, *, member: int = 0, fig=None, days: int | None = None):
    """Small multiples of :func:`plot_boost_burden` for every host (``days`` as there).

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    fig, axes = grid_axes(len(result.hosts), fig=fig)
    crossovers = []
    for ax, host in zip(axes, result.hosts):
        drawn = plot_boost_burden(result, host, member=member, ax=ax, legend=False, days=days)
        if drawn["crossover"] is not None:
            crossovers.append(drawn["crossover"])
        if mark_empty(ax, result, host, member):
            continue
        crossed = result.summary("net", member)[host]["crossover_date"]
        ax.text(0.98, 0.96, f"crossover: {crossed.isoformat() if crossed else 'none'}",
                transform=ax.transAxes, ha="right", va="top", fontsize="small", color="tab:purple",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    handles = [axes[0].lines[i] for i in range(3)]
    labels = [h.get_label() for h in handles]
    if crossovers:                                  # the dotted line is explained only where one is drawn
        handles.append(crossovers[0])
        labels.append("crossover of net (first day < 0)")
    span = "" if days is None else f", first {days} days"
    finish_grid(fig, axes, f"Boost vs burden per host, scenario '{result.scenario.name}'{span}", handles, labels)
    return fig, axes
