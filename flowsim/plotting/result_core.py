"""Figures of the result core (:mod:`flowsim.result_core`): one named series per host panel, on any result."""

from __future__ import annotations

import numpy as np

from ..model.economy import ECONOMY_VARIABLES
from ._common import blank_panel, date_numbers, finish_grid, grid_axes, names_of, style_host_panel
from .uncertainty import FAN_LEVELS, scale_of

#: Width of a character of a figure title, inches (12 pt, an average glyph): a title wider than the figure
#: widens it, so that nothing is cut.
_TITLE_CHAR_INCHES = 12 * 0.6 / 72


def unit_label(variable: str) -> str:
    """The y-axis label of a series panel: its unit as drawn (thousand people, USD million per day, %)."""
    div, _, _ = scale_of(variable)
    if variable in ECONOMY_VARIABLES:
        return "% of daily GDP" if variable.endswith("_share_gdp") else "%" if div == 1e-2 else "USD million per day"
    return "thousand people"

__all__ = ["plot_series", "plot_series_grid", "unit_label"]


def plot_series(result, variable: str = "N", host: str | None = None, *, member=..., ax=None, legend: bool = True,
                color: str = "tab:blue"):
    """One series of one host over time: a line for one member, median and bands over several.

    Works the same on a :class:`~flowsim.Result` and an
    :class:`~flowsim.EnsembleResult` (any object with the series accessor of
    :class:`~flowsim.result_core.SeriesResult`).

    Parameters
    ----------
    result : Result or EnsembleResult
    variable : str
        A series name (``list(result.series)``).
    host : str, optional
        Host code; the first host by default.
    member : int or None, optional
        One member, or None for every member; omitted, the result's default
        (member 0 of a run, every member of an ensemble).
    ax : matplotlib Axes, optional
    legend : bool
    color : str

    Returns
    -------
    dict
        ``{"line": Line2D}`` for one member; ``{"band90", "band50", "median"}``
        for several (bands over the members: 5-95% and 25-75%).
    """
    from ._common import pyplot

    if ax is None:
        _, ax = pyplot().subplots(figsize=(7, 4), layout="constrained")
    host = result.hosts[0] if host is None else host
    div, _, name = scale_of(variable)
    values = np.asarray(result.series(variable, host, member=member), dtype=float)
    x = date_numbers(result.dates)
    if values.ndim == 2 and values.shape[0] == 1:
        values = values[0]
    if values.ndim == 1:
        which = "" if member is ... or member is None else f", member {member}"
        out = {"line": ax.plot(x, values / div, color=color, lw=1.6, label=f"{name}{which}")[0]}
    else:
        q = np.quantile(values, FAN_LEVELS, axis=0) / div
        out = {
            "band90": ax.fill_between(x, q[0], q[4], color=color, alpha=0.18, lw=0, label="90% of members (5-95%)"),
            "band50": ax.fill_between(x, q[1], q[3], color=color, alpha=0.40, lw=0, label="50% of members (25-75%)"),
            "median": ax.plot(x, q[2], color=color, lw=1.6, label=f"median of {values.shape[0]} members")[0],
        }
    if variable in ECONOMY_VARIABLES:
        ax.axhline(0.0, color="grey", lw=0.6)
    style_host_panel(ax, x, host, unit_label(variable), legend, names=names_of(result))
    if variable in result.series and not np.any(values):
        closed = host in getattr(getattr(result, "scenario", None), "closures", ())
        blank_panel(ax, "border closed: no arrivals" if closed else f"{variable} is 0 throughout")
    return out


def plot_series_grid(result, variable: str = "N", *, hosts=None, member=..., fig=None):
    """:func:`plot_series` for each host (every host by default), one shared legend and a title.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    hosts = list(result.hosts if hosts is None else hosts)
    for host in hosts:                                    # a bad host fails before any figure is made
        result.series(variable, host, member=member)
    _, _, name = scale_of(variable)
    n = np.asarray(result.series(variable, hosts[0], member=member)).reshape(-1, len(result.dates)).shape[0]
    over = f"median and bands over {n} members" if n > 1 else (
        "one run" if result.n_members == 1 else f"member {0 if member is ... else member}")
    scenario = getattr(getattr(result, "scenario", None), "name", None)
    title = f"{name[0].upper() + name[1:]}: {over}" + (f", scenario '{scenario}'" if scenario else "")
    if fig is None:
        cols = min(4 if len(hosts) <= 16 else 5 if len(hosts) <= 25 else 6, len(hosts))
        width = max(4.2, (len(title) * _TITLE_CHAR_INCHES + 0.6) / cols)
        fig, axes = grid_axes(len(hosts), width=width)
    else:
        fig, axes = grid_axes(len(hosts), fig=fig)
    for ax, host in zip(axes, hosts):
        plot_series(result, variable, host, member=member, ax=ax, legend=False)
    handles, labels = axes[0].get_legend_handles_labels()
    finish_grid(fig, axes, title, handles, labels)
    return fig, axes
