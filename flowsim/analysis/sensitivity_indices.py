"""Global sensitivity of a scalar function of uncertain inputs: Sobol' indices and a tornado.

:func:`sobol_analysis` wraps :func:`scipy.stats.sobol_indices` (Saltelli 2010
estimators, bootstrap confidence intervals) for a function of points of a
box of ranges; :func:`tornado_points` and :func:`tornado_swings` make the
one-at-a-time design and read it. Both work for any function, the model's
outputs (:mod:`flowsim.uncertainty.sensitivity`) as well as a test function
with known indices.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..exceptions import FlowsimError

__all__ = ["SobolIndices", "sobol_analysis", "tornado_points", "tornado_swings"]


@dataclass(frozen=True, eq=False)
class SobolIndices:
    """First-order and total Sobol' indices of one output.

    Attributes
    ----------
    first_order, total_order : ndarray, shape (d,)
        Share of the output's variance due to each input alone, and with all
        its interactions.
    first_interval, total_interval : ndarray, shape (d, 2)
        Bootstrap confidence intervals (low, high); NaN without bootstrap.
    n : int
        Base sample size (the function ran ``n * (d + 2)`` times).
    variance : float
        Variance of the output over the box.
    """

    first_order: np.ndarray
    total_order: np.ndarray
    first_interval: np.ndarray
    total_interval: np.ndarray
    n: int
    variance: float


def _distribution(low: float, high: float, integer: bool):
    from scipy import stats

    if integer:
        return stats.randint(int(low), int(high) + 1)
    return stats.uniform(loc=low, scale=high - low)


def sobol_analysis(func, bounds, n: int, *, integer=None, seed=None, bootstrap: int = 200,
                   confidence: float = 0.95) -> SobolIndices:
    """Sobol' indices of ``func`` over a box of independent uniform inputs.

    Parameters
    ----------
    func : callable
        ``func(x)`` with ``x`` of shape (m, d) (one point per row) returns
        the output at each point, shape (m,); finite values only.
    bounds : sequence of (float, float)
        ``(low, high)`` of each input, ``low < high``.
    n : int
        Base sample size, a power of 2 (scipy's Sobol' design).
    integer : sequence of bool, optional
        Inputs that take whole values (uniform over ``low..high``).
    seed : int, optional
        Seed of the design.
    bootstrap : int
        Bootstrap resamples for the confidence intervals (0: none).
    confidence : float
        Level of the intervals.

    Returns
    -------
    SobolIndices

    Examples
    --------
    An additive function ``x0 + 2 x1`` on the unit square has indices
    ``1/5`` and ``4/5``:

    >>> res = sobol_analysis(lambda x: x[:, 0] + 2 * x[:, 1], [(0, 1), (0, 1)], 1024, seed=1, bootstrap=0)
    >>> res.first_order.round(2)
    array([0.2, 0.8])
    """
    bounds = [tuple(map(float, b)) for b in bounds]
    integer = [False] * len(bounds) if integer is None else list(integer)
    if not bounds:
        raise FlowsimError("a sensitivity analysis needs at least one varied input.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2 or n & (n - 1):
        raise FlowsimError(f"n must be a power of 2 >= 2 for the Sobol' design (e.g. 256, 512, 1024); got {n!r}.")
    for j, (lo, hi) in enumerate(bounds):
        if not lo < hi:
            raise FlowsimError(f"input {j} has an empty range ({lo:g}, {hi:g}); sensitivity needs low < high.")
    dists = [_distribution(lo, hi, i) for (lo, hi), i in zip(bounds, integer)]

    seen = []

    def wrapped(x):
        y = np.asarray(func(np.asarray(x).T), float).reshape(-1)
        seen.append(y)
        if not np.all(np.isfinite(y)):
            raise FlowsimError("the output is not finite for some inputs; a Sobol' analysis needs a number for "
                               "every point (e.g. map 'no crossover' to a day).")
        return y[None, :]

    from scipy import stats  # imported on first use: scipy.stats takes 0.4 s to import

    rng = np.random.default_rng(seed)
    res = stats.sobol_indices(func=wrapped, n=int(n), dists=dists, rng=rng)
    first, total = np.atleast_1d(res.first_order), np.atleast_1d(res.total_order)
    nan = np.full((len(bounds), 2), np.nan)
    first_ci, total_ci = nan, nan.copy()
    if bootstrap:
        # scipy's Sobol' bootstrap draws from numpy's legacy global generator: seed it from our stream for
        # reproducible intervals, and put its state back afterwards
        state = np.random.get_state()
        np.random.seed(int(rng.integers(2**32)))
        try:
            with warnings.catch_warnings():
                # an input with no effect at all gives a degenerate bootstrap; its interval is then NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("ignore", getattr(stats, "DegenerateDataWarning", RuntimeWarning))
                boot = res.bootstrap(confidence_level=confidence, n_resamples=int(bootstrap))
        finally:
            np.random.set_state(state)
        first_ci = np.column_stack([boot.first_order.confidence_interval.low,
                                    boot.first_order.confidence_interval.high]).reshape(len(bounds), 2)
        total_ci = np.column_stack([boot.total_order.confidence_interval.low,
                                    boot.total_order.confidence_interval.high]).reshape(len(bounds), 2)
    return SobolIndices(first_order=first, total_order=total, first_interval=first_ci, total_interval=total_ci,
                        n=int(n), variance=float(np.concatenate(seen[:2]).var()))


def tornado_points(base, bounds) -> np.ndarray:
    """One-at-a-time design: the base point, then each input at its low and at its high end.

    Parameters
    ----------
    base : array_like, shape (d,)
        The nominal point.
    bounds : sequence of (float, float)

    Returns
    -------
    ndarray, shape (1 + 2 d, d)
        Row 0 the base; rows ``1 + 2 j`` and ``2 + 2 j`` input ``j`` low and high.
    """
    base = np.asarray(base, float)
    rows = [base]
    for j, (lo, hi) in enumerate(bounds):
        for end in (lo, hi):
            row = base.copy()
            row[j] = end
            rows.append(row)
    return np.array(rows).reshape(1 + 2 * len(bounds), base.size)


def tornado_swings(outputs) -> tuple[float, np.ndarray, np.ndarray]:
    """Read the outputs of :func:`tornado_points`: ``(base, at_low (d,), at_high (d,))``."""
    outputs = np.asarray(outputs, float)
    return float(outputs[0]), outputs[1::2].copy(), outputs[2::2].copy()
