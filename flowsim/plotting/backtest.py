"""Figure of a backtest: each held-out figure against the 50% and 90% bands of its forecast."""

from __future__ import annotations

import datetime as _dt

import numpy as np

from ._common import date_numbers, date_ticks, finish_grid, grid_axes, host_title, names_of

__all__ = ["plot_backtest"]

_HELD = "tab:blue"
_FITTED = "0.55"


def _thousands(value, _pos=None) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _num(d: _dt.date) -> float:
    return float(date_numbers(np.array([d], dtype="datetime64[D]"))[0])


def plot_backtest(backtest, fig=None, *, show_fitted: bool = True):
    """One panel per host and quantity with held-out figures: each figure against its forecast bands.

    At the last day of each figure's window: the central 90% band of the
    predictive ensemble (thin bar), the 50% band (thick bar) and the median
    (white tick); the published figure in black (a dot for a point, a
    triangle at the bound for "more than" / "up to", a bar for a range), red
    when it misses the 90% band. Fitted figures of the same host and
    quantity are drawn in grey (``show_fitted``); the dashed line is the
    cut-off.

    Parameters
    ----------
    backtest : BacktestResult
    fig : matplotlib.figure.Figure, optional
        Drawn into (one axes per panel); a new figure otherwise.
    show_fitted : bool
        Also draw the fitted figures of the panels' hosts and quantities.

    Returns
    -------
    dict
        ``{(host, quantity): Axes}``.
    """
    import matplotlib.ticker as mticker
    from matplotlib.lines import Line2D

    model = backtest.observation_model
    obs = list(model.observations)
    held = ~backtest.in_sample
    keys = list(dict.fromkeys((o.host, o.quantity) for o, h in zip(obs, held) if h))
    fig, axes = grid_axes(max(len(keys), 1), fig=fig, width=4.4, height=3.3)
    q05, q25, q50, q75, q95 = backtest.quantiles()
    scores = {(r.host, r.quantity, r.date_start, r.date_end, r.line): r for r in backtest.scores}
    names = names_of(backtest.scenario)
    cut = _num(backtest.until)
    out = {}
    for ax, key in zip(axes, keys):
        idx = [i for i, o in enumerate(obs) if (o.host, o.quantity) == key and (held[i] or show_fitted)]
        xs = []
        for i in idx:
            o, c = obs[i], model.constraints[i]
            x = _num(o.date_end)
            xs.append(x)
            color = _HELD if held[i] else _FITTED
            ax.plot([x, x], [q05[i], q95[i]], color=color, lw=3, alpha=0.45, solid_capstyle="butt", zorder=2)
            ax.plot([x, x], [q25[i], q75[i]], color=color, lw=8, alpha=0.8, solid_capstyle="butt", zorder=3)
            ax.plot([x], [q50[i]], marker="_", color="white", ms=9, mew=2, zorder=4)
            row = scores.get((o.host, o.quantity, o.date_start, o.date_end, o.line))
            miss = row is not None and not row.in_90
            mark = "tab:red" if miss else "black"
            if c.kind == "point":
                ax.plot([x], [c.value], "o", color=mark, ms=5, zorder=5)
            elif c.kind == "lower":
                ax.plot([x + 1.2], [c.low], "^", color=mark, ms=7, zorder=5)
            elif c.kind == "upper":
                ax.plot([x + 1.2], [c.high], "v", color=mark, ms=7, zorder=5)
            else:
                ax.plot([x + 1.2, x + 1.2], [c.low, c.high], color=mark, lw=1.5, marker="_", ms=8, zorder=5)
        lo, hi = min(xs) - 6, max(xs) + 6
        if hi - lo < 35:                                   # at least five weeks: weekly ticks, not daily
            mid = 0.5 * (lo + hi)
            lo, hi = mid - 17.5, mid + 17.5
        if lo <= cut <= hi:
            ax.axvline(cut, color="0.3", ls="--", lw=1, zorder=1)
        ax.set_xlim(lo, hi)
        span = (_dt.date.fromordinal(int(lo) + 719163), _dt.date.fromordinal(int(hi) + 719163))
        ticks, tick_labels = date_ticks(*span, max_ticks=4)
        ax.set_xticks(date_numbers(np.array([t.date() for t in ticks], dtype="datetime64[D]")), tick_labels)
        ax.set_xlim(lo, hi)
        unit = obs[idx[0]].unit or model.quantities[idx[0]].unit
        ax.set_ylabel(unit)
        ax.set_xlabel("end of the figure's window")
        ax.yaxis.set_major_formatter(mticker.FuncFormatter(_thousands))
        ax.set_title(f"{host_title(key[0], names)}: {key[1].replace('_', ' ')}", fontsize="medium")
        ax.grid(alpha=0.3)
        out[key] = ax
    handles = [Line2D([], [], color=_HELD, lw=8, alpha=0.8), Line2D([], [], color=_HELD, lw=3, alpha=0.45),
               Line2D([], [], marker="o", color="black", ls=""), Line2D([], [], marker="^", color="black", ls=""),
               Line2D([], [], color="black", marker="_", ms=8, lw=1.5), Line2D([], [], marker="o", color="tab:red",
                                                                                ls="")]
    labels = ["50% band", "90% band", "figure", "lower bound", "range", "outside the 90% band"]
    if show_fitted:
        handles.append(Line2D([], [], color=_FITTED, lw=8))
        labels.append("fitted figure's band")
    title = (f"Backtest of {backtest.scenario.name}: fitted up to {backtest.until:%d %b %Y}, "
             f"{backtest.n_held_out} later figures against {backtest.n_members} posterior members")
    finish_grid(fig, axes, title, handles, labels, ncols=min(len(labels), 4))
    return out
