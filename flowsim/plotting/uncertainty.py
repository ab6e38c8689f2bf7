"""Figures of ensembles and sensitivity analyses: fan charts, crossover histograms, Sobol' bars, tornado."""

from __future__ import annotations

import numpy as np

from ..model.economy import ECONOMY_VARIABLES
from ..scenario.specs import PARAMETER_SPECS
from ._common import (
    as_datetimes,
    blank_panel,
    date_axis,
    date_numbers,
    finish_grid,
    grid_axes,
    host_title,
    names_of,
    pyplot,
    style_host_panel,
)

__all__ = ["plot_fan", "plot_fan_grid", "plot_crossover_histogram", "plot_sobol", "plot_tornado"]

#: Quantile levels of a fan: 90% band, 50% band, median.
FAN_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def scale_of(variable: str) -> tuple[float, str, str]:
    """Divisor, axis label and short name (with the axis' unit) of a series.

    People in thousands, money in USD million per day, shares in percent.
    """
    names = {"net": "net impact (v1)", "inflow": "money brought in", "value_added": "value added",
             "fiscal": "public budget balance", "residents": "residents' balance", "rent_rise": "rent rise"}
    if variable.endswith("_share_gdp"):
        name = names.get(variable[:-10], variable[:-10].replace("_", " "))
        return 1e-2, f"{name}, % of daily GDP", f"{name} (% of daily GDP)"
    if variable == "rent_rise":
        return 1e-2, "rent rise, %", "rent rise (%)"
    if variable in ECONOMY_VARIABLES:
        name = names.get(variable, variable.replace("_", " "))
        return 1e6, f"{name}, USD million per day", f"{name} (USD million per day)"
    name = {"N": "people present", "T": "in transit", "S": "on savings", "R": "remote workers",
            "E": "employed", "U": "unemployed"}.get(variable, f"{variable}, people")
    return 1e3, f"{name} (thousands)", f"{name} (thousands)"


def plot_fan(ens, variable: str = "N", host: str = "KAZ", *, ax=None, legend: bool = True, color: str = "tab:blue"):
    """Fan chart of a kept series of one host: median, 50% band (25-75%) and 90% band (5-95%).

    Parameters
    ----------
    ens : EnsembleResult
    variable : str
        A kept series (``N`` or ``net`` by default).
    host : str
    ax : matplotlib Axes, optional
    legend : bool
    color : str

    Returns
    -------
    dict
        ``{"band90": PolyCollection, "band50": PolyCollection, "median": Line2D}``
    """
    if ax is None:
        _, ax = pyplot().subplots(figsize=(7, 4), layout="constrained")
    div, ylabel, _ = scale_of(variable)
    q = ens.quantiles(variable, FAN_LEVELS, host=host) / div
    x = date_numbers(ens.dates)
    out = {
        "band90": ax.fill_between(x, q[0], q[4], color=color, alpha=0.18, lw=0, label="90% of members (5-95%)"),
        "band50": ax.fill_between(x, q[1], q[3], color=color, alpha=0.40, lw=0, label="50% of members (25-75%)"),
        "median": ax.plot(x, q[2], color=color, lw=1.6, label="median")[0],
    }
    if variable in ECONOMY_VARIABLES:
        ax.axhline(0.0, color="grey", lw=0.6)
    style_host_panel(ax, x, host, ylabel, legend, names=names_of(ens))
    return out


def plot_fan_grid(ens, variable: str = "N", *, fig=None):
    """:func:`plot_fan` for every host, one shared legend.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    fig, axes = grid_axes(len(ens.hosts), fig=fig)
    for ax, host in zip(axes, ens.hosts):
        plot_fan(ens, variable, host, ax=ax, legend=False)
        if not np.any(ens.series(variable, host)):
            blank_panel(ax, "border closed: no arrivals" if host in ens.scenario.closures else "no arrivals")
    handles, labels = axes[0].get_legend_handles_labels()
    _, _, name = scale_of(variable)
    finish_grid(fig, axes, f"{name[0].upper() + name[1:]}: median and bands over {ens.n_members} members, "
                f"scenario '{ens.scenario.name}'", handles, labels)
    return fig, axes


def plot_crossover_histogram(ens, *, hosts=None, fig=None, bins: int = 30, balance: str = "residents",
                             sustained: bool = True):
    """Histogram of (sustained) crossover dates of a balance per host, over the members.

    The horizon is cut into ``bins`` equal bins; a bar is the percentage of
    all members (crossing or not) whose crossover falls in its bin, so the
    bars of a host add up to the share of members with a crossover. The panel
    states that share and the median date among the members that cross; the
    y label gives the bins' width in days. A share of the sampled scenarios,
    not a probability of the world, unless the members are posterior draws.

    Parameters
    ----------
    ens : EnsembleResult
    hosts : sequence of str, optional
    fig : Figure, optional
    bins : int
    balance : str
        One of :data:`~flowsim.model.economy.BALANCES` (default ``residents``).
    sustained : bool
        Sustained crossovers (negative for ``D_x`` days or more; default) or
        every first crossover, dips included.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    import matplotlib.dates as mdates

    hosts = list(ens.hosts if hosts is None else hosts)
    fig, axes = grid_axes(len(hosts), fig=fig)
    lo, hi = mdates.date2num(as_datetimes(ens.dates[[0, -1]]))
    edges = np.linspace(lo, hi, bins + 1)
    for ax, host in zip(axes, hosts):
        dates = ens.crossover_dates(host, balance, sustained=sustained)
        hit = dates[~np.isnat(dates)]
        if hit.size:
            ax.hist(mdates.date2num(as_datetimes(hit)), bins=edges, color="tab:purple", alpha=0.8,
                    weights=np.full(hit.size, 100.0 / ens.n_members))
        p = ens.crossover_probability(host=host, balance=balance, sustained=sustained)
        median = ens.median_crossover_date(host, balance, sustained=sustained)
        text = f"{p:.0%} of members cross" + (f"\nmedian {median.isoformat()}" if median else "\nno member crosses")
        if "N" in ens.series and not np.any(ens.series("N", host)):
            text += "\n(border closed: no arrivals)" if host in ens.scenario.closures else "\n(no arrivals)"
        ax.text(0.97, 0.95, text, transform=ax.transAxes, ha="right", va="top", fontsize="small",
                bbox={"facecolor": "white", "edgecolor": "lightgrey", "alpha": 0.9})
        ax.set_xlim(lo, hi)
        ax.xaxis_date()
        date_axis(ax, ens.dates[[0, -1]])
        ax.set_title(host_title(host, names_of(ens)))
        ax.set_xlabel("sustained crossover date" if sustained else "crossover date")
        ax.set_ylabel(f"% of members per {(hi - lo) / bins:.0f}-day bin")
        ax.grid(alpha=0.3)
    what = {"net": "the net impact indicator (v1)", "residents": "the residents' balance",
            "fiscal": "the public budget", "value_added": "value added", "inflow": "the money brought in"}[balance]
    kind = "sustained crossovers" if sustained else "crossovers"
    finish_grid(fig, axes, f"When {what} turns from gain to loss: {kind} over {ens.n_members} members, "
                f"scenario '{ens.scenario.name}'")
    return fig, axes


def _top(result, top: int) -> np.ndarray:
    return result.ranking()[:top][::-1]                  # largest at the top of a horizontal bar chart


def plot_sobol(result, *, top: int = 12, ax=None):
    """First-order and total Sobol' indices of the ``top`` inputs (by total index), with 95% intervals.

    Returns
    -------
    dict
        ``{"first": BarContainer, "total": BarContainer}``
    """
    if ax is None:
        _, ax = pyplot().subplots(figsize=(8, 0.45 * min(top, len(result.dims)) + 1.8), layout="constrained")
    idx = _top(result, top)
    ix = result.indices
    y = np.arange(idx.size)

    def err(values, interval):
        lo, hi = interval[idx, 0], interval[idx, 1]
        if np.all(np.isnan(lo)):
            return None
        return np.vstack([np.clip(values[idx] - lo, 0, None), np.clip(hi - values[idx], 0, None)])

    out = {
        "total": ax.barh(y + 0.2, ix.total_order[idx], height=0.4, color="tab:orange", label="total",
                         xerr=err(ix.total_order, ix.total_interval), capsize=2),
        "first": ax.barh(y - 0.2, ix.first_order[idx], height=0.4, color="tab:blue", label="first order",
                         xerr=err(ix.first_order, ix.first_interval), capsize=2),
    }
    ax.set_yticks(y, [result.labels[j] for j in idx])
    ax.axvline(0.0, color="grey", lw=0.6)
    ax.set_xlabel("Sobol' index (share of the output's variance)")
    ax.set_title(f"Sobol' indices of {result.output} ({result.host}), n = {result.indices.n}; bars: 95% intervals")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3, axis="x")
    return out


def _with_range(dim) -> str:
    """``q_ret[KAZ]  0.2 - 0.7``, ``K[KAZ]  30,000 - 90,000 people``: an input and the ends of its range."""
    def num(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"

    unit = PARAMETER_SPECS[dim.name].unit
    return f"{dim.label}  {num(dim.low)} - {num(dim.high)}" + ("" if unit == "1" else f" {unit}")


def plot_tornado(result, *, top: int = 12, ax=None):
    """One-at-a-time swings: the output with one input at the low / high end of its range, the rest nominal.

    Each row is labelled with the input and its range (low - high, in the
    input's unit), largest swing at the top.

    Returns
    -------
    dict
        ``{"low": BarContainer, "high": BarContainer}``
    """
    swing = np.abs(result.at_high - result.at_low)
    order = np.argsort(-swing, kind="stable")[:top][::-1]
    if ax is None:
        _, ax = pyplot().subplots(figsize=(8, 0.45 * order.size + 1.8), layout="constrained")
    div, unit = (1e6, f"{result.unit} million") if result.unit.startswith("USD") else (1.0, result.unit)
    base = result.base / div
    y = np.arange(order.size)
    low, high = result.at_low[order] / div, result.at_high[order] / div
    out = {
        "low": ax.barh(y, low - base, left=base, color="tab:blue", label="input at low end"),
        "high": ax.barh(y, high - base, left=base, color="tab:red", alpha=0.8, label="input at high end"),
    }
    ax.axvline(base, color="black", lw=1.0)
    ax.set_yticks(y, [_with_range(result.dims[j]) for j in order])
    ax.set_xlabel(f"{result.output} of {result.host} ({unit}); line: every input at its nominal value")
    ax.set_title(f"Tornado: {result.output} ({result.host}), one input at a time")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3, axis="x")
    return out
