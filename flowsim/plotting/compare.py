"""A balance (net impact by default) of several runs overlaid, one panel per host."""

from __future__ import annotations

from ._common import blank_panel, date_numbers, finish_grid, grid_axes, names_of, pyplot, style_host_panel

__all__ = ["plot_net_overlay", "plot_net_overlay_grid"]

_TITLES = {"net": "Net impact indicator (v1)", "residents": "Residents' balance", "fiscal": "Public budget balance",
           "value_added": "Value added", "inflow": "Money brought in"}


def plot_net_overlay(results, host: str, *, labels=None, member: int = 0, ax=None, legend: bool = True,
                     days: int | None = None, cumulative: bool = False, variable: str = "net"):
    """A balance of one host in several runs on one axis (USD million per day, or USD million).

    Parameters
    ----------
    results : sequence of Result
        The first is drawn in black as the reference.
    host : str
    labels : sequence of str, optional
        Legend labels (default the scenario names).
    member : int
    ax : matplotlib Axes, optional
    legend : bool
    days : int, optional
        Only the first ``days`` days of each run.
    cumulative : bool
        Draw the cumulative balance ``C(t)`` (USD million) instead of the daily one.
    variable : str
        A balance (``net``, ``residents``, ``fiscal``, ``value_added``,
        ``inflow``) or any economy series in USD/day.

    Returns
    -------
    list of Line2D
        One per run.
    """
    if ax is None:
        _, ax = pyplot().subplots(figsize=(7, 4), layout="constrained")
    labels = [r.scenario.name for r in results] if labels is None else list(labels)
    lines, ends = [], []
    for i, (res, label) in enumerate(zip(results, labels)):
        window = slice(None if days is None else days + 1)
        y = res.series(variable, host, member)
        y = (y.cumsum() if cumulative else y)[window] * 1e-6
        x = date_numbers(res.dates[window])
        style = {"color": "black", "lw": 1.6} if i == 0 else {"color": f"C{(i - 1) % 10}", "lw": 1.2, "ls": "--"}
        lines.append(ax.plot(x, y, label=label, **style)[0])
        ends += [x[0], x[-1]]
    ax.axhline(0.0, color="grey", lw=0.6)
    # no margin: the runs' first and last days are the axis ends
    name = variable.replace("_", " ")
    style_host_panel(ax, [min(ends), max(ends)] if ends else None, host,
                     f"cumulative {name}, USD million" if cumulative else f"{name}, USD million per day",
                     legend, legend_loc="best", names=names_of(results[0]) if results else None)
    return lines


def plot_net_overlay_grid(results, *, labels=None, member: int = 0, fig=None, days: int | None = None,
                          cumulative: bool = False, variable: str = "net"):
    """Small multiples of :func:`plot_net_overlay` for every host of the first run.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    hosts = results[0].hosts
    fig, axes = grid_axes(len(hosts), fig=fig)
    for ax, host in zip(axes, hosts):
        shown = [r for r in results if host in r.hosts]
        shown_labels = None if labels is None else [lab for lab, r in zip(labels, results) if host in r.hosts]
        plot_net_overlay(shown, host, labels=shown_labels, member=member, ax=ax, legend=False, days=days,
                         cumulative=cumulative, variable=variable)
        if all(r.series("N", host, member).max() == 0 for r in shown):
            blank_panel(ax, "no arrivals in any run")
    handles = axes[0].lines[: len(results)]
    what = _TITLES.get(variable, variable.replace("_", " "))
    what = f"Cumulative {what[0].lower() + what[1:]}" if cumulative else what
    span = "" if days is None else f", first {days} days"
    finish_grid(fig, axes, f"{what} per host: {', '.join(labels or [r.scenario.name for r in results])}{span}",
                handles, [h.get_label() for h in handles], ncols=min(len(results), 4))
    return fig, axes
