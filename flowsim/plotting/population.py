"""Population by compartment for each host."""

from __future__ import annotations

from ._common import date_numbers, finish_grid, grid_axes, mark_empty, names_of, pyplot, style_host_panel

__all__ = ["plot_population", "plot_population_grid"]

#: (label, variable) pairs drawn as stacked areas (present population).
_STACK = (("in transit (T)", "T"), ("on savings (S)", "S"), ("remote workers (R)", "R"),
          ("employed (E)", "E"), ("unemployed (U)", "U"))


def plot_population(result, host: str, *, member: int = 0, ax=None, legend: bool = True, days: int | None = None):
    """Stacked present population of one host by compartment.

    Parameters
    ----------
    result : Result
        A run.
    host : str
        Host code.
    member : int
        Ensemble member.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    legend : bool
        Whether to add a legend.
    days : int, optional
        Show only the first ``days`` days (e.g. 120 for the arrival phase);
        the whole horizon by default.

    Returns
    -------
    list
        The PolyCollections of the stack (in ``T, S, R, E, U`` order).
    """
    if ax is None:
        _, ax = pyplot().subplots(figsize=(7, 4), layout="constrained")
    window = slice(None if days is None else days + 1)
    x = date_numbers(result.dates[window])
    ys = [result.series(v, host, member)[window] / 1000.0 for _, v in _STACK]
    artists = ax.stackplot(x, *ys, labels=[label for label, _ in _STACK], alpha=0.85)
    style_host_panel(ax, x, host, "people present (thousands)", legend, names=names_of(result))
    ax.set_ylim(bottom=0)
    return artists


def plot_population_grid(result, *, member: int = 0, fig=None, days: int | None = None):
    """Small multiples: :func:`plot_population` for every host, one shared legend.

    ``days`` limits the figure to the first days (see :func:`plot_population`).

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    fig, axes = grid_axes(len(result.hosts), fig=fig)
    for ax, host in zip(axes, result.hosts):
        plot_population(result, host, member=member, ax=ax, legend=False, days=days)
        mark_empty(ax, result, host, member)
    handles, labels = axes[0].get_legend_handles_labels()
    span = "" if days is None else f", first {days} days"
    finish_grid(fig, axes, f"People from {result.scenario.origin} present, by compartment, scenario "
                           f"'{result.scenario.name}'{span}",
                handles, labels)
    return fig, axes
