"""Figures of a posterior sample: walker traces and pairwise scatter plots."""

from __future__ import annotations

import numpy as np

from ._common import pyplot

__all__ = ["plot_trace", "plot_pairs"]


def _label(sample, j: int, sep: str = " ") -> str:
    unit = sample.units[j]
    name = sample.labels[j]
    if sep == "\n" and len(name) > 16 and "@" in name:       # a dated level: the date on a line of its own
        name = name.replace("@", "\n@", 1)
    return name if unit in ("1", "") else f"{name}{sep}({unit})"


def _axes(fig, n_rows: int, n_cols: int, width: float, height: float, **kwargs):
    plt = pyplot()
    if fig is None:
        fig = plt.figure(figsize=(width * n_cols, height * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False, **kwargs)
    return fig, axes


def _compact(value, _pos=None) -> str:
    """Tick label: 150000 -> 150k, 2.5 -> 2.5."""
    return f"{value / 1000:g}k" if abs(value) >= 10_000 else f"{value:g}"


def _compact_ticks(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(_compact))


def plot_trace(sample, *, fig=None, alpha: float = 0.3):
    """Every walker's value of every parameter against the step, the burn-in shaded.

    Parameters
    ----------
    sample : PosteriorSample
    fig : matplotlib Figure, optional
        Where to draw one panel per parameter (stacked); a new figure when omitted.
    alpha : float
        Opacity of the walkers' lines.

    Returns
    -------
    list of matplotlib Axes
        One per parameter, sharing the x axis (steps): the parameter's name
        as the panel's title, its unit on the y axis (natural units).
    """
    p = len(sample.labels)
    fig, axes = _axes(fig, p, 1, 8.0, 1.3, sharex=True)
    steps = np.arange(sample.n_steps)
    out = []
    for j, ax in enumerate(axes[:, 0]):
        ax.plot(steps, sample.chain[:, :, j], color="tab:blue", lw=0.5, alpha=alpha)
        if sample.burn:
            ax.axvspan(0, sample.burn, color="0.85", zorder=0, label="burn-in")
        ax.set_title(sample.labels[j], loc="left", fontsize=9)
        unit = sample.units[j]
        ax.set_ylabel("" if unit in ("1", "") else unit, fontsize=8)
        _compact_ticks(ax.yaxis)
        ax.tick_params(labelsize=8)
        ax.set_xlim(0, max(sample.n_steps - 1, 1))
        out.append(ax)
    out[-1].set_xlabel("step")
    fig.suptitle(f"Walker traces: {sample.n_walkers} walkers x {sample.n_steps} steps (burn-in {sample.burn} "
                 f"shaded); mean acceptance {sample.acceptance_fraction.mean():.2f}", fontsize=10)
    return out


def plot_pairs(sample, *, fig=None, max_points: int = 2000, seed: int = 0, bins: int = 30):
    """Pairwise scatter of the kept samples (lower triangle) and each parameter's histogram (diagonal).

    Parameters
    ----------
    sample : PosteriorSample
    fig : matplotlib Figure, optional
        Where to draw the ``p x p`` grid; a new figure when omitted.
    max_points : int
        Samples shown in the scatter panels (a seeded random subset).
    seed : int
        Seed of that subset.
    bins : int
        Histogram bins.

    Returns
    -------
    ndarray of matplotlib Axes, shape (p, p)
        Panels above the diagonal are switched off. The least-squares
        estimate, when there is one, is marked in red.
    """
    flat = sample.samples()
    p = flat.shape[1]
    rng = np.random.default_rng(seed)
    shown = flat[rng.choice(flat.shape[0], min(max_points, flat.shape[0]), replace=False)]
    fig, axes = _axes(fig, p, p, 1.9, 1.9)
    fitted = sample.calibration.values if sample.calibration is not None else {}
    for i in range(p):
        for j in range(p):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                ax.hist(flat[:, j], bins=bins, color="tab:blue", alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(shown[:, j], shown[:, i], s=2, alpha=0.3, color="tab:blue", rasterized=True)
            lab_j = sample.labels[j]
            if lab_j in fitted:
                ax.axvline(fitted[lab_j], color="tab:red", lw=0.8)
                if i != j and sample.labels[i] in fitted:
                    ax.axhline(fitted[sample.labels[i]], color="tab:red", lw=0.8)
            ax.tick_params(labelsize=7)
            _compact_ticks(ax.xaxis)
            _compact_ticks(ax.yaxis)
            if i == p - 1:
                ax.set_xlabel(_label(sample, j, "\n"), fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(_label(sample, i, "\n"), fontsize=8)
    fig.suptitle(f"Posterior of '{sample.scenario.name}': {flat.shape[0]} samples; diagonal: each parameter's "
                 "histogram, below it: pairs" + (" (red: least-squares fit)" if fitted else ""), fontsize=10)
    return axes
