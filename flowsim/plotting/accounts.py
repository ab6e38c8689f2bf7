"""The accounts of docs/model.md v2 per host: money brought in, value added, public budget, residents."""

from __future__ import annotations

from ._common import date_axis, date_numbers, host_title, make_ticks, names_of, pyplot, take_prepared

__all__ = ["ACCOUNT_PANELS", "HOSTS_PER_PAGE", "plot_account", "plot_accounts_grid", "prepare_accounts_grid"]

#: Balances drawn by :func:`plot_accounts_grid`, with their column titles and colours.
ACCOUNT_PANELS = {
    "inflow": ("money brought in (inflow)", "tab:blue"),
    "value_added": ("value added (GDP)", "tab:green"),
    "fiscal": ("public budget (fiscal)", "tab:orange"),
    "residents": ("residents", "tab:purple"),
}


def plot_account(result, host: str, balance: str, *, member: int = 0, ax=None, days: int | None = None,
                 label_dates: bool = True):
    """One balance of one host (USD million per day) with its crossovers marked.

    The first crossover (a negative day after a positive one) is a hollow
    circle on the curve; the sustained crossover (negative for ``D_x`` days
    or more) a dotted vertical line.

    Parameters
    ----------
    result : Result
    host : str
    balance : str
        ``inflow``, ``value_added``, ``fiscal``, ``residents`` or ``net``.
    member : int
    ax : matplotlib Axes, optional
    days : int, optional
        Only the first ``days`` days.
    label_dates : bool
        Write the crossover dates into the panel.

    Returns
    -------
    dict
        ``{"line": Line2D, "crossover": Line2D or None, "sustained": Line2D or None}``
    """
    if ax is None:
        _, ax = pyplot().subplots(figsize=(6, 3.2), layout="constrained")
    title, color = ACCOUNT_PANELS.get(balance, (balance, "black"))
    window = slice(None if days is None else days + 1)
    x = date_numbers(result.dates[window])         # matplotlib's date numbers, converted once (not per artist)
    ax.xaxis_date()
    y = result.series(balance, host, member)[window] * 1e-6
    out = {"line": ax.plot(x, y, color=color, lw=1.3, label=title)[0], "crossover": None, "sustained": None}
    ax.axhline(0.0, color="grey", lw=0.6)
    row = result.summary(balance, member)[host]
    start = result.date_of(0)
    shown = []
    cross, sustained = row["crossover_date"], row["sustained_crossover_date"]
    if cross is not None and (days is None or (cross - start).days <= days):
        d = (cross - start).days
        out["crossover"] = ax.plot([x[d]],
                                   [result.series(balance, host, member)[d] * 1e-6], "o", mfc="white",
                                   mec="black", ms=5, label="crossover")[0]
        shown.append(f"crossover {cross.isoformat()}")
    if sustained is not None and (days is None or (sustained - start).days <= days):
        out["sustained"] = ax.axvline(sustained, color="black", lw=1.1, ls=":", label="sustained crossover")
        shown.append(f"sustained {sustained.isoformat()}")
    if label_dates:
        text = "\n".join(shown) if shown else row["status"].replace("_", " ")
        ax.text(0.98, 0.95, text, transform=ax.transAxes, ha="right", va="top", fontsize="x-small",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    if tuple(ax.get_xlim()) != (x[0], x[-1]):     # the panels of a grid share x: set once, not once per panel
        ax.set_xlim(x[0], x[-1])
    ax.grid(alpha=0.3)
    return out


#: Hosts per page of the accounts figure (``flowsim run`` writes accounts.png, accounts_2.png...).
HOSTS_PER_PAGE = 8


def plot_accounts_grid(result, *, member: int = 0, fig=None, days: int | None = None,
                       balances=tuple(ACCOUNT_PANELS), hosts=None):
    """Every host (rows) against each account (columns), USD million per day, crossovers marked.

    Each panel has its own vertical scale: the accounts differ by orders of
    magnitude and are views of the same flows, never to be added.

    Parameters
    ----------
    result : Result
    member : int
    fig : Figure, optional
        Where to draw; one made by :func:`prepare_accounts_grid` for these hosts and balances has its panels
        already (``flowsim run`` makes it while the run is solved).
    days : int, optional
        Only the first ``days`` days.
    balances : sequence of str
        Columns (default ``inflow, value_added, fiscal, residents``).
    hosts : sequence of str, optional
        Rows (default every host; with many hosts draw them in pages of
        :data:`HOSTS_PER_PAGE`).

    Returns
    -------
    (Figure, ndarray of Axes)
        Axes of shape (hosts, balances).
    """
    plt = pyplot()
    hosts = tuple(result.hosts if hosts is None else hosts)
    nrow, ncol = len(hosts), len(balances)
    axes = take_prepared(fig, ("accounts", nrow, ncol))
    if axes is None:
        if fig is None:
            fig = plt.figure(figsize=_figsize(nrow, ncol))     # laid out once below, by hand
        axes = fig.subplots(nrow, ncol, squeeze=False, sharex=True)
    for i, host in enumerate(hosts):
        for j, balance in enumerate(balances):
            ax = axes[i, j]
            plot_account(result, host, balance, member=member, ax=ax, days=days)
            if i == 0:
                ax.set_title(f"{ACCOUNT_PANELS.get(balance, (balance,))[0]}\nUSD million per day", fontsize="medium")
            if j == 0:
                ax.set_ylabel(host_title(host, names_of(result)), fontsize="medium")
            if result.series("N", host, member).max() == 0:
                ax.text(0.5, 0.5, "no arrivals", transform=ax.transAxes, ha="center", va="center",
                        color="dimgrey", bbox={"facecolor": "white", "edgecolor": "lightgrey"})
                ax.set_yticks([])                                   # an empty panel has no scale to read
    for ax in axes[-1]:
        ax.set_xlabel("date")
        window = result.dates if days is None else result.dates[: days + 1]
        date_axis(ax, (window[0], window[-1]))                     # fixed ticks: cheaper than automatic ones
    handles = [plt.Line2D([], [], marker="o", mfc="white", mec="black", ls="none", label="crossover (first day < 0)"),
               plt.Line2D([], [], color="black", ls=":", label=f"sustained crossover (< 0 for "
                                                                 f"{int(result.params[member].get('D_x'))} days)")]
    own_layout = fig.get_layout_engine() is None
    fig.legend(handles=handles, loc="lower center" if own_layout else "outside lower center", ncols=2,
               **({"bbox_to_anchor": (0.5, 0.05 / fig.get_size_inches()[1])} if own_layout else {}))
    span = "" if days is None else f", first {days} days"
    fig.suptitle(f"Accounts per host of the arrivals from {result.scenario.origin} (views of the same flows: "
                 f"never add them), scenario '{result.scenario.name}'{span}")
    if own_layout:
        _fixed_layout(fig)
    return fig, axes


def _figsize(nrow: int, ncol: int) -> tuple[float, float]:
    return 3.7 * ncol + 1.0, 1.9 * nrow + 1.6


def prepare_accounts_grid(n_hosts: int, n_balances: int = len(ACCOUNT_PANELS)):
    """A figure with the panels of :func:`plot_accounts_grid` and their ticks made, before the data exist.

    Pass it as ``fig=`` to :func:`plot_accounts_grid` with ``n_hosts`` hosts
    and ``n_balances`` balances: it draws the same as into a new figure (see
    :func:`~flowsim.plotting._common.prepare_grid`).
    """
    fig = pyplot().figure(figsize=_figsize(n_hosts, n_balances))
    axes = fig.subplots(n_hosts, n_balances, squeeze=False, sharex=True)
    make_ticks(axes)
    fig._flowsim_prepared = (("accounts", n_hosts, n_balances), axes)
    return fig


#: Margins of the accounts grid, inches: host names and tick labels on the left, the gap between columns for
#: tick labels, room above for the title and the two-line column titles, below for dates and the legend.
_LEFT, _RIGHT, _TOP, _BOTTOM, _COL_GAP, _ROW_GAP = 1.15, 0.2, 1.05, 0.95, 0.7, 0.18


def _fixed_layout(fig) -> None:
    """Place the panels once with fixed margins (no layout engine: several times faster to save)."""
    width, height = fig.get_size_inches()
    gs = fig.axes[0].get_subplotspec().get_gridspec()
    rows, cols = gs.get_geometry()
    axes_w = (width - _LEFT - _RIGHT - (cols - 1) * _COL_GAP) / cols
    axes_h = (height - _TOP - _BOTTOM - (rows - 1) * _ROW_GAP) / rows
    fig.subplots_adjust(left=_LEFT / width, right=1 - _RIGHT / width, bottom=_BOTTOM / height,
                        top=1 - _TOP / height, wspace=_COL_GAP / axes_w, hspace=_ROW_GAP / axes_h)
