"""Boost against burden per host, with the crossover marked."""

from __future__ import annotations

from ._common import as_datetimes, date_axis, grid_axes, host_title, pyplot

__all__ = ["plot_boost_burden", "plot_boost_burden_grid"]


def plot_boost_burden(result, host: str, *, member: int = 0, ax=None, legend: bool = True):
    """Boost, burden and net impact of one host (USD million per day).

    The crossover date (net turns from positive to negative) is marked with a
    vertical line when it occurs.

    Parameters
    ----------
    result : Result
    host : str
    member : int
    ax : matplotlib Axes, optional
    legend : bool

    Returns
    -------
    dict
        ``{"boost": Line2D, "burden": Line2D, "net": Line2D, "crossover": Line2D or None}``
    """
    if ax is None:
        _, ax = pyplot().subplots(figsize=(7, 4), layout="constrained")
    x = as_datetimes(result.dates)
    scale = 1e-6
    out = {
        "boost": ax.plot(x, result.series("boost", host, member) * scale, color="tab:green", label="boost")[0],
        "burden": ax.plot(x, result.series("burden", host, member) * scale, color="tab:red", label="burden")[0],
        "net": ax.plot(x, result.series("net", host, member) * scale, color="black", lw=1.0, ls="--",
                       label="net = boost - burden")[0],
        "crossover": None,
    }
    ax.axhline(0.0, color="grey", lw=0.6)
    cross = result.summary(member)[host]["crossover_date"]
    if cross is not None:
        out["crossover"] = ax.axvline(cross, color="tab:purple", lw=1.2, ls=":",
                                      label=f"crossover {cross.isoformat()}")
    ax.set_title(host_title(host))
    ax.set_ylabel("USD million per day")
    ax.set_xlabel("date")
    ax.set_xlim(x[0], x[-1])
    ax.grid(alpha=0.3)
    date_axis(ax)
    if legend:
        ax.legend(loc="upper right", fontsize="small")
    return out


def plot_boost_burden_grid(result, *, member: int = 0, fig=None):
    """Small multiples of :func:`plot_boost_burden` for every host.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    fig, axes = grid_axes(len(result.hosts), fig=fig)
    for ax, host in zip(axes, result.hosts):
        plot_boost_burden(result, host, member=member, ax=ax, legend=False)
        crossed = result.summary(member)[host]["crossover_date"]
        ax.text(0.98, 0.04, f"crossover: {crossed.isoformat() if crossed else 'none'}",
                transform=ax.transAxes, ha="right", va="bottom", fontsize="small", color="tab:purple")
    handles = [axes[0].lines[i] for i in range(3)]
    fig.legend(handles, [h.get_label() for h in handles] + [], loc="outside lower center", ncols=3)
    fig.suptitle(f"Boost vs burden per host (crossover dotted), scenario '{result.scenario.name}'")
    return fig, axes
