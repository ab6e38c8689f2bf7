"""Figures of calibrations and validations: every figure against its prediction, and the daily flows."""

from __future__ import annotations

import datetime as _dt

import numpy as np

from ._common import as_datetimes, date_axis, host_title, pyplot

__all__ = ["plot_fit", "plot_fit_series"]

#: Ratios beyond these are drawn at the edge with an arrow.
RATIO_LIMITS = (0.1, 10.0)

_FLOW_QUANTITIES = {
    "cumulative_entries": "entries", "monthly_entries": "entries", "daily_entries": "entries",
    "baseline_daily_entries": "entries", "peak_daily_entries": "entries",
    "cumulative_exits": "exits", "monthly_exits": "exits", "daily_exits": "exits",
}
_PER_DAY = {"daily_entries", "daily_exits", "baseline_daily_entries", "peak_daily_entries"}


def _short(d: _dt.date) -> str:
    return f"{d.day} {d.strftime('%b')}"


def _row_label(r) -> str:
    span = _short(r.date_end) if r.date_start == r.date_end else f"{_short(r.date_start)}-{_short(r.date_end)}"
    year = "" if r.date_end.year == 2022 else f" {r.date_end.year}"
    weight = "" if r.weight == 1 else f" (weight {r.weight:g})"
    return f"{r.host} {r.quantity.replace('_', ' ')}, {span}{year}{weight}"


def _reference(r) -> float:
    if r.kind == "point":
        return abs(r.observed)
    if r.observed is not None and r.observed > 0:
        return abs(r.observed)
    ends = [abs(x) for x in (r.low, r.high) if x is not None]
    return float(np.mean(ends))


def plot_fit(fit, ax=None, *, show_initial: bool = True):
    """Every observation with the range it accepts, and the model's value, relative to the figure.

    One row per observation (file order, top to bottom). The x axis is the
    model value divided by the published figure, on a log scale: 1 is an
    exact match; the grey band is the figure's relative sigma, green bars
    are what a bound or a range accepts (an arrow: open-ended). Values
    beyond 0.1 or 10 are drawn at the edge.

    Parameters
    ----------
    fit : CalibrationResult or ValidationResult
        A calibration (fitted and, with ``show_initial``, starting values)
        or a validation (in-sample and out-of-sample predictions).
    ax : matplotlib Axes, optional
        Where to draw; a new figure sized to the number of rows when omitted.
    show_initial : bool
        For a calibration: also mark the values before fitting.

    Returns
    -------
    dict
        ``{"accepted": [...], "predicted": [...], "initial": PathCollection or None}``.
    """
    is_validation = hasattr(fit, "calibration")
    rows = list(fit.rows if is_validation else fit.residuals)
    n = len(rows)
    if ax is None:
        _, ax = pyplot().subplots(figsize=(12, 1.6 + 0.3 * n), layout="constrained")
    lo_lim, hi_lim = RATIO_LIMITS
    y = np.arange(n)[::-1]
    accepted = []
    for yi, r in zip(y, rows):
        ref = _reference(r)
        if r.kind == "point":
            s = getattr(r, "sigma", 0.0)
            accepted.append(ax.fill_betweenx([yi - 0.3, yi + 0.3], 1 - s, 1 + s, color="0.85", lw=0))
            accepted.append(ax.plot([1, 1], [yi - 0.3, yi + 0.3], color="0.2", lw=1.5)[0])
            continue
        a = r.low / ref if r.low is not None else lo_lim
        b = r.high / ref if r.high is not None else hi_lim
        accepted.append(ax.plot([max(a, lo_lim), min(b, hi_lim)], [yi, yi], color="tab:green", lw=5, alpha=0.45,
                                solid_capstyle="butt")[0])
        if r.low is None:
            accepted.append(ax.plot([lo_lim], [yi], marker="<", color="tab:green", alpha=0.6)[0])
        if r.high is None:
            accepted.append(ax.plot([hi_lim], [yi], marker=">", color="tab:green", alpha=0.6)[0])
    ratio = np.array([r.predicted / _reference(r) for r in rows])
    clipped = np.clip(ratio, lo_lim, hi_lim)
    artists = {"accepted": accepted, "predicted": [], "initial": None}
    if is_validation:
        inside = np.array([r.in_sample for r in rows])
        artists["predicted"].append(ax.scatter(clipped[inside], y[inside], color="tab:blue", zorder=3,
                                               label=f"fitted (observations ending by {fit.until})"))
        artists["predicted"].append(ax.scatter(clipped[~inside], y[~inside], color="tab:red", marker="D", zorder=3,
                                               label="predicted (later observations)"))
    else:
        if show_initial:
            init = np.clip([r.initial / _reference(r) for r in rows], lo_lim, hi_lim)
            artists["initial"] = ax.scatter(init, y, facecolors="none", edgecolors="0.45", zorder=2,
                                            label="before fitting")
        fitted = np.array([r.in_fit for r in rows])
        artists["predicted"].append(ax.scatter(clipped[fitted], y[fitted], color="tab:blue", zorder=3,
                                               label="fitted model"))
        if (~fitted).any():
            artists["predicted"].append(ax.scatter(clipped[~fitted], y[~fitted], color="tab:blue", marker="x",
                                                   zorder=3, label="fitted model (observation not fitted)"))
    off = np.flatnonzero(ratio != clipped)
    for i in off:
        ax.annotate("", xy=(clipped[i] * (1.25 if ratio[i] > hi_lim else 0.8), y[i]), xytext=(clipped[i], y[i]),
                    arrowprops={"arrowstyle": "->", "color": "0.3"})
    ax.axvline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlim(lo_lim / 1.5, hi_lim * 1.5)
    ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(pyplot().NullFormatter())
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_yticks(y)
    ax.set_yticklabels([_row_label(r) for r in rows], fontsize="small")
    ax.grid(axis="x", alpha=0.3, which="both")
    ax.set_xlabel("model value / published figure (log scale; 1 = exact)")
    cal = fit.calibration if is_validation else fit
    if is_validation:
        title = (f"Out-of-sample validation of '{cal.initial_scenario.name}': fitted up to {fit.until}; "
                 f"MAPE {fit.mape_in:.0f}% in sample, {fit.mape_out:.0f}% out of sample")
    else:
        title = (f"Calibration of '{cal.initial_scenario.name}': MAPE {cal.mape:.0f}%, "
                 f"averaged relative difference {cal.ard:.2f}")
    ax.set_title(title, fontsize="medium")
    handles, labels = ax.get_legend_handles_labels()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles += [Patch(color="0.85"), Line2D([], [], color="tab:green", lw=5, alpha=0.45)]
    labels += ["published figure +- its relative sigma", "what a bound or range accepts"]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return artists


def plot_fit_series(cal, host: str, ax=None, *, days_before: int | None = None):
    """Daily gross entries and exits of a host, model against the published border counts.

    Lines: the fitted model's entries and exits plus background traffic
    (people per day; dashed: before fitting). Each published flow figure is
    drawn over its window as its mean per day (a cumulative count divided by
    its days): a point figure as a solid bar with ticks at both ends of the
    window, a lower (upper) bound as a bar with a triangle pointing up (down)
    in its middle, a range as a shaded box from its low to its high end. A
    window that starts before the axis is cut there and labelled with its
    first day.

    Parameters
    ----------
    cal : CalibrationResult
    host : str
    ax : matplotlib Axes, optional
    days_before : int, optional
        Days shown before the scenario start; default: enough for every
        window that starts up to 45 days earlier (September's month), at
        least 10. Windows reaching further back are cut and labelled.

    Returns
    -------
    dict
        ``{"model": [Line2D...], "observed": [...]}``.
    """
    if ax is None:
        _, ax = pyplot().subplots(figsize=(11, 4.5), layout="constrained")
    res = cal.fitted_result
    start = cal.initial_scenario.start
    flows = [r for r in cal.residuals if r.host == host and r.quantity in _FLOW_QUANTITIES]
    if days_before is None:
        back = [(start - r.date_start).days for r in flows if 0 < (start - r.date_start).days <= 45]
        days_before = max([10, *back])
    first = start - _dt.timedelta(days=days_before)
    last = start + _dt.timedelta(days=res.dates.size - 2)
    dates = [first + _dt.timedelta(days=i) for i in range((last - first).days + 1)]
    colors = {"entries": "tab:blue", "exits": "tab:red"}
    artists = {"model": [], "observed": []}
    for label, fitted, style in (("fitted", True, "-"), ("before fitting", False, "--")):
        view = cal.observation_view(host, fitted=fitted)
        for direction in ("entries", "exits"):
            y = view.daily(direction, first, last, gross=True) / 1000.0
            artists["model"].append(ax.step(as_datetimes(np.array(dates, dtype="datetime64[D]")), y, where="post",
                                            ls=style, color=colors[direction], lw=1.8 if style == "-" else 1.0,
                                            alpha=1.0 if style == "-" else 0.6,
                                            label=f"model {direction} + background ({label})")[0])
    for r in flows:
        direction = _FLOW_QUANTITIES[r.quantity]
        n = (r.date_end - r.date_start).days + 1
        per = 1.0 if r.quantity in _PER_DAY else 1.0 / n
        a = max(r.date_start, first)
        b = min(r.date_end + _dt.timedelta(days=1), last)
        x = as_datetimes(np.array([a, b], dtype="datetime64[D]"))
        mid = as_datetimes(np.array([a + (b - a) / 2], dtype="datetime64[D]"))[0]
        c = colors[direction]
        lo = None if r.low is None else r.low * per / 1000
        hi = None if r.high is None else r.high * per / 1000
        if r.kind == "point":
            level = r.observed * per / 1000
            artists["observed"].append(ax.plot(x, [level] * 2, color=c, lw=2.5, marker="|", ms=10, mew=2,
                                               solid_capstyle="butt", zorder=4)[0])
        elif lo is not None and hi is not None:
            level = lo
            artists["observed"].append(ax.fill_between(x, [lo] * 2, [hi] * 2, color=c, alpha=0.25, lw=1,
                                                       edgecolor=c, zorder=3))
        else:
            level = lo if lo is not None else hi
            artists["observed"].append(ax.plot(x, [level] * 2, color=c, lw=2.5, marker="|", ms=10, mew=2,
                                               solid_capstyle="butt", zorder=4)[0])
            artists["observed"].append(ax.plot([mid], [level], marker="^" if lo is not None else "v", color=c,
                                               ms=9, ls="", zorder=5)[0])
        if r.date_start < first:
            ax.annotate(f"from {_short(r.date_start)}", (x[0], level), xytext=(3, 4), textcoords="offset points",
                        fontsize="x-small", color=c)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="0.3", lw=2.5, marker="|", ms=10, mew=2),
                Line2D([], [], color="0.3", lw=2.5, marker="^", ms=8),
                Patch(facecolor="0.3", alpha=0.25, edgecolor="0.3")]
    labels += ["published count: mean per day over its window (|-|)", "lower bound (a triangle down: upper bound)",
               "published range, mean per day over its window"]
    ax.legend(handles, labels, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(f"{host_title(host)}: gross daily border crossings, model vs published counts")
    ax.set_ylabel("people per day (thousands)")
    ax.set_xlabel("date")
    ax.set_ylim(bottom=0)
    ax.set_xlim(as_datetimes(np.array([first, last], dtype="datetime64[D]")))
    ax.grid(alpha=0.3)
    date_axis(ax, (first, last))
    return artists
