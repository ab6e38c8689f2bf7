"""Shared figure helpers: lazy matplotlib import, date axes, grids.

Grids of host panels (population, boost and burden, fan charts, overlays...)
all go through :func:`grid_axes` and :func:`finish_grid`: the panels' places
are computed once, from the figure's size and the longest tick labels, instead
of by constrained layout on every draw (which measures every text of 8 to 16
axes several times per save); dates get fixed ticks (:func:`date_ticks`)
instead of an automatic locator that re-runs on every axis at every draw.
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

from ..hosts import HOST_NAMES

__all__ = ["pyplot", "date_axis", "date_ticks", "host_title", "names_of", "grid_axes", "finish_grid",
           "as_datetimes", "date_numbers", "mark_empty", "blank_panel", "style_host_panel", "prepare_grid",
           "make_ticks", "take_prepared"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Fixed margins of a grid, inches: figure edges and the gaps between panels (room for the tick labels,
#: axis labels and titles at matplotlib's default font sizes). The left margin and the column gap grow with
#: the longest y tick label (see :func:`finish_grid`).
_TOP, _RIGHT, _ROW_GAP, _BOTTOM_AXIS, _LEGEND_ROW = 0.62, 0.2, 0.88, 0.55, 0.38


def pyplot():
    """Import :mod:`matplotlib.pyplot` on first use."""
    import matplotlib.pyplot as plt

    return plt


def as_datetimes(dates):
    """datetime64[D] array to Python datetimes for matplotlib."""
    return dates.astype("datetime64[D]").astype(object)


def date_numbers(dates):
    """datetime64[D] array to matplotlib's date numbers (float days), converted once.

    Plotting these on an axis made a date axis by :func:`date_axis` draws the
    same as plotting Python dates, without matplotlib converting an object
    array of dates for every artist.
    """
    import matplotlib.dates as mdates

    return mdates.date2num(np.asarray(dates, dtype="datetime64[D]"))


def _as_date(d) -> _dt.date:
    if isinstance(d, (float, np.floating, int, np.integer)):           # a matplotlib date number
        import matplotlib.dates as mdates

        return mdates.num2date(float(d)).date()
    if isinstance(d, _dt.datetime):
        return d.date()
    return d if isinstance(d, _dt.date) else _dt.date.fromisoformat(str(d)[:10])


def date_ticks(first, last, max_ticks: int = 7) -> tuple[list, list[str]]:
    """Tick dates and labels for a date axis from ``first`` to ``last`` (dates), fixed once.

    Years (``2023``) for spans over three years; half-years, quarters or
    months below that (January labelled with its year, other months with
    their name; the first tick carries the year when no January is shown);
    weeks under two months (``21 Sep``).

    Returns
    -------
    (list of datetime.datetime, list of str)
    """
    first, last = (_as_date(d) for d in (first, last))
    span = (last - first).days
    if span > 3 * 366:
        years = range(first.year + (first > _dt.date(first.year, 1, 1)), last.year + 1)
        step = max(1, math.ceil(len(years) / max_ticks))
        ticks = [_dt.date(y, 1, 1) for y in years][::step]
        return [_dt.datetime(t.year, 1, 1) for t in ticks], [str(t.year) for t in ticks]
    if span > 60:
        months = next(m for m in (1, 3, 6, 12) if span / 30.4 / m <= max_ticks)
        ticks = []
        y, m = first.year, first.month
        while True:
            d = _dt.date(y, m, 1)
            if d > last:
                break
            if d >= first and (m - 1) % months == 0:
                ticks.append(d)
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        labels = [str(t.year) if t.month == 1 else _MONTHS[t.month - 1] for t in ticks]
        if ticks and not any(t.month == 1 for t in ticks):
            labels[0] = f"{labels[0]} {ticks[0].year}"
        return [_dt.datetime(t.year, t.month, 1) for t in ticks], labels
    step = max(1, math.ceil((span + 1) / 7 / max_ticks)) * 7 if span > 14 else max(1, math.ceil((span + 1) / max_ticks))
    ticks = [first + _dt.timedelta(days=d) for d in range(0, span + 1, step)]
    return ([_dt.datetime(t.year, t.month, t.day) for t in ticks],
            [f"{t.day} {_MONTHS[t.month - 1]}" + (f" {t.year}" if i == 0 else "") for i, t in enumerate(ticks)])


def date_axis(ax, span=None):
    """Date ticks on the x axis.

    With ``span = (first, last)`` (dates) the ticks are fixed once
    (:func:`date_ticks`); without, matplotlib's concise automatic ticks.
    """
    import matplotlib.dates as mdates

    if span is not None:
        ticks, labels = date_ticks(*span)
        ax.xaxis_date()
        ax.set_xticks(mdates.date2num(ticks), labels)
        return

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
    """A figure with ``n`` panels in up to 4 columns (5 beyond 16 panels, 6 beyond 25); unused panels hidden.

    A new figure has no layout engine: :func:`finish_grid` places the panels
    once. A figure passed in keeps its own layout; one made by
    :func:`prepare_grid` for ``n`` panels gives back its panels (once).
    """
    prepared = take_prepared(fig, ("grid", n))
    if prepared is not None:
        return fig, prepared
    plt = pyplot()
    cols = min(4 if n <= 16 else 5 if n <= 25 else 6, n)
    rows = math.ceil(n / cols)
    if fig is None:
        fig = plt.figure(figsize=(width * cols, height * rows + 0.8))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


#: Tick objects made ahead on each axis of a prepared figure: a panel rarely shows more.
PREPARED_TICKS = 8


def make_ticks(axes, count: int = PREPARED_TICKS) -> None:
    """Make the tick objects of each axis of ``axes`` ahead of drawing.

    matplotlib makes an axis' ticks when it first draws it, about a millisecond
    each; made ahead (e.g. while a run is solved), drawing has only to place
    them. Each new tick copies the axis' first tick, as at drawing, and later
    changes (``grid``, tick parameters, shared-axis label hiding) reach every
    tick, so the figure draws the same; ticks not needed are not drawn.
    """
    for ax in np.ravel(axes):
        ax.xaxis.get_major_ticks(count)
        ax.yaxis.get_major_ticks(count)


def prepare_grid(n: int, *, width: float = 4.2, height: float = 3.0):
    """A figure with the panels of :func:`grid_axes` and their ticks made, before the data exist.

    Pass it as ``fig=`` to a grid function of ``n`` hosts (e.g.
    :func:`~flowsim.plotting.plot_population_grid`): it draws into these panels
    exactly what it would draw into a new figure. ``flowsim run`` makes its
    figures this way while the run is solved.
    """
    fig, axes = grid_axes(n, width=width, height=height)
    make_ticks(axes)
    fig._flowsim_prepared = (("grid", n), axes)
    return fig


def take_prepared(fig, key):
    """The panels of a prepared ``fig`` made for ``key`` (and forget them: they are used once); else None."""
    prepared = getattr(fig, "_flowsim_prepared", None)
    if prepared is None or prepared[0] != key:
        return None
    del fig._flowsim_prepared
    return prepared[1]


def _tick_label_inches(ax) -> float:
    """Width of the longest y tick label of ``ax``, inches, estimated from its characters (no drawing)."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    axis = ax.yaxis
    locs = [v for v in axis.get_major_locator()() if ax.get_ylim()[0] <= v <= ax.get_ylim()[1]] or [0.0]
    formatter = axis.get_major_formatter()
    formatter.set_locs(locs)
    longest = max(len(formatter(v, i)) for i, v in enumerate(locs))
    size = FontProperties(size=rcParams["ytick.labelsize"]).get_size_in_points()
    return longest * 0.62 * size / 72.0


def _layout(fig, axes, legend_rows: int) -> None:
    """Place the panels of a grid once: fixed margins plus the room the y tick labels need."""
    from matplotlib import rcParams

    visible = [ax for ax in np.ravel(fig.axes) if ax.get_visible()]
    gs = axes[0].get_subplotspec().get_gridspec()
    rows, cols = gs.get_geometry()
    width, height = fig.get_size_inches()
    label = rcParams["axes.labelsize"]
    from matplotlib.font_manager import FontProperties

    label_in = 1.25 * FontProperties(size=label).get_size_in_points() / 72.0
    y_room = max((_tick_label_inches(ax) for ax in visible), default=0.3) + label_in + 0.2
    left, col_gap = y_room + 0.08, y_room + 0.15
    bottom = _BOTTOM_AXIS + legend_rows * _LEGEND_ROW + 0.08
    axes_w = (width - left - _RIGHT - (cols - 1) * col_gap) / cols
    axes_h = (height - _TOP - bottom - (rows - 1) * _ROW_GAP) / rows
    fig.subplots_adjust(left=left / width, right=1 - _RIGHT / width, bottom=bottom / height, top=1 - _TOP / height,
                        wspace=col_gap / axes_w, hspace=_ROW_GAP / axes_h)


def finish_grid(fig, axes, title: str, handles=(), labels=(), *, ncols: int | None = None) -> None:
    """Shared legend below the panels, title above, and (for a grid made here) the panels' places.

    Every grid figure ends with this, so that they all look alike and are
    laid out the same cheap way.
    """
    handles, labels = list(handles), list(labels)
    engine = fig.get_layout_engine()
    if engine is not None:                                 # a figure the caller made with a layout of its own
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncols=ncols or len(labels))
        fig.suptitle(title)
        return
    width, height = fig.get_size_inches()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncols=ncols or len(labels),
                   bbox_to_anchor=(0.5, 0.06 / height), frameon=True)
    fig.suptitle(title, y=1 - 0.12 / height, va="top")
    _layout(fig, axes, 1 if handles else 0)


def blank_panel(ax, text: str) -> None:
    """Say why a panel is empty, and drop its y scale (an empty panel has no scale to read)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="dimgrey",
            bbox={"facecolor": "white", "edgecolor": "lightgrey"})
    ax.set_yticks([])


def mark_empty(ax, result, host: str, member: int = 0) -> bool:
    """Say so in the panel when nobody was ever present in ``host`` (e.g. a closed border); True if so."""
    if result.series("N", host, member).max() > 0:
        return False
    closed = host in result.scenario.closures
    blank_panel(ax, "border closed: no arrivals" if closed else "no arrivals")
    return True


def style_host_panel(ax, x, host: str, ylabel: str, legend: bool, *, legend_loc: str = "upper right",
                     names=None) -> None:
    """Title, axis labels, date ticks, grid and (optionally) legend of one host's time panel.

    The x axis spans ``x[0]`` to ``x[-1]`` exactly (no margins), with fixed
    date ticks; ``x`` None keeps it as drawn (automatic ticks). ``names``:
    display names of the hosts (:func:`names_of`).
    """
    ax.set_title(host_title(host, names))
    ax.set_ylabel(ylabel)
    ax.set_xlabel("date")
    if x is not None and len(x):
        ax.set_xlim(x[0], x[-1])
        date_axis(ax, (x[0], x[-1]))
    else:
        date_axis(ax)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(loc=legend_loc, fontsize="small")
