"""Scores of a forecast ensemble against published figures: bands, coverage, CRPS, error of the median.

A forecast of one figure is an ensemble ``x_1 .. x_n`` (the figure's value
in each member). A published figure is a *set* of values it accepts:

==============  ====================  ==========================
kind            accepted set          examples
==============  ====================  ==========================
``point``       ``{v}``               "98,000", "about 100,000"
``lower``       ``[lo, +inf)``        "more than 22,500"
``upper``       ``(-inf, hi]``        "up to 30,000"
``range``       ``[lo, hi]``          ``low``/``high`` columns, "almost"
==============  ====================  ==========================

(the kinds of :class:`~flowsim.analysis.constraints.Constraint`). Every score
below is defined once for a set ``[lo, hi]`` (``lo = hi = v`` for a point,
an infinite end for a one-sided figure) and reduces to the usual score for a
point:

* **Bands.** The central ``100 p %`` band is ``[q((1 - p) / 2), q((1 + p) / 2)]``
  of the ensemble (``numpy.quantile``, linear interpolation). A figure is
  *covered* when the band and its accepted set overlap: ``q_high >= lo`` and
  ``q_low <= hi``. For a point that is ``v`` inside the band. For a bound or
  a range it asks whether the band holds any value the figure allows: the
  true value lies in the accepted set, so if the forecast is calibrated
  (the truth falls in the band with probability ``p``) the band overlaps
  the set with probability at least ``p``. Observed coverage of bounds and
  ranges is therefore expected at or above nominal; a miss of a bound or
  a range is strong evidence against the forecast, a hit weak evidence for
  it. Coverage tables count the kinds apart for that reason.
* **CRPS.** ``CRPS(F, y) = integral over z of (F(z) - 1{y <= z})^2 dz``
  (Gneiting and Raftery 2007; for an ensemble ``F`` is its empirical
  distribution, which gives the energy form ``mean|x - y| - mean|x - x'| / 2``
  that ``properscoring.crps_ensemble`` computes). For a figure that only
  says ``y`` is in ``[lo, hi]`` the indicator ``1{y <= z}`` is known for
  ``z < lo`` (0) and ``z >= hi`` (1) and unknown in between, so the score
  integrates over those thresholds only::

      CRPS_[lo,hi](F) = integral_{-inf}^{lo} F(z)^2 dz + integral_{hi}^{inf} (1 - F(z))^2 dz

  This is the threshold-weighted CRPS (Gneiting and Ranjan 2011) with the
  weight ``1`` outside ``[lo, hi)`` and ``0`` inside: proper for any fixed
  weight, zero when the whole ensemble lies in the accepted set, and
  growing with the mass outside it and with its distance. It equals the
  CRPS for a point (``lo = hi = y``), is in the figure's unit, and needs no
  made-up distribution inside a range (the CRPS against a uniform on
  ``[lo, hi]`` would punish a sharp forecast in the middle of a range the
  source only gives as an interval). ``crps_relative`` divides by the
  figure (the value, or the bound the ensemble's median is nearer), so
  figures of different size can be averaged.
* **Probability of the accepted set.** ``p_accepted`` is the share of
  members inside ``[lo, hi]`` (for a lower bound: the probability of
  exceedance ``P(X >= lo)``); for a point ``pit`` is the share of members
  below ``v`` (its probability integral transform: uniform on [0, 1] for a
  calibrated forecast).
* **Relative error of the median.** The median's distance outside the
  accepted set relative to the figure
  (:meth:`~flowsim.analysis.constraints.Constraint.relative_error`): signed,
  0 inside a bound or range, ``(median - v) / |v|`` for a point.

References
----------
Gneiting, T. and Raftery, A. E. (2007). Strictly proper scoring rules,
prediction, and estimation. JASA 102, 359-378.
Gneiting, T. and Ranjan, R. (2011). Comparing density forecasts using
threshold- and quantile-weighted scoring rules. JBES 29, 411-422.
"""

from __future__ import annotations

import math

import numpy as np

from ..exceptions import FlowsimError

__all__ = ["crps_ensemble", "crps_interval", "crps_normal", "central_band", "covers", "BAND_LEVELS",
           "noisy_ensemble"]

#: Nominal levels of the central bands a backtest scores.
BAND_LEVELS = (0.5, 0.9)


def _sample(x, what: str = "ensemble") -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    if x.size == 0:
        raise FlowsimError(f"{what} is empty; give at least one member.")
    if not np.all(np.isfinite(x)):
        raise FlowsimError(f"{what} holds {int((~np.isfinite(x)).sum())} values that are not finite numbers.")
    return x


def crps_ensemble(x, y: float) -> float:
    """CRPS of the ensemble ``x`` (its empirical distribution) at the value ``y``.

    ``mean|x_i - y| - sum_ij |x_i - x_j| / (2 n^2)``, with the double sum from
    the sorted members in O(n log n):
    ``sum_ij |x_i - x_j| = 2 sum_i (2 i - n - 1) x_(i)``.

    Parameters
    ----------
    x : array_like, shape (n,)
        Members (any unit).
    y : float
        The observed value, same unit.

    Returns
    -------
    float
        In the unit of ``x``; 0 only when every member equals ``y``.
    """
    x = np.sort(_sample(x))
    y = float(y)
    if not math.isfinite(y):
        raise FlowsimError(f"crps_ensemble: the observed value must be a finite number; got {y!r}.")
    n = x.size
    i = np.arange(1, n + 1)
    spread = 2.0 * float(np.sum((2 * i - n - 1) * x)) / n**2
    return float(np.mean(np.abs(x - y))) - 0.5 * spread


def crps_interval(x, low: float | None, high: float | None) -> float:
    """Threshold-weighted CRPS of the ensemble ``x`` for a figure that accepts ``[low, high]``.

    ``integral_{-inf}^{low} F(z)^2 dz + integral_{high}^{inf} (1 - F(z))^2 dz``
    with ``F`` the empirical distribution of ``x`` (exact: ``F`` is a step
    function). ``low = high = y`` gives the CRPS at ``y``
    (:func:`crps_ensemble`); ``high=None`` a lower bound ("more than
    ``low``"), ``low=None`` an upper bound.

    Parameters
    ----------
    x : array_like, shape (n,)
        Members.
    low, high : float or None
        Ends of the accepted set (None: unbounded on that side); ``low <= high``.

    Returns
    -------
    float
        In the unit of ``x``; 0 when every member lies in ``[low, high]``.
    """
    x = np.sort(_sample(x))
    lo = -math.inf if low is None else float(low)
    hi = math.inf if high is None else float(high)
    if math.isnan(lo) or math.isnan(hi) or lo > hi or lo == math.inf or hi == -math.inf:
        raise FlowsimError(f"crps_interval: the accepted set [{low}, {high}] must have low <= high, both finite "
                           "or None.")
    n = x.size
    F = np.arange(1, n + 1) / n                    # F on [x_(k), x_(k+1)), k = 1..n
    right = np.append(x[1:], math.inf)
    below = 0.0
    if lo > -math.inf:
        length = np.clip(np.minimum(right, lo) - x, 0.0, None)
        below = float(np.sum(F**2 * length))
    above = 0.0
    if hi < math.inf:
        G = 1.0 - np.arange(0, n) / n              # 1 - F on [x_(k), x_(k+1)), k = 0..n-1 (x_(0) = -inf)
        left = np.insert(x[:-1], 0, -math.inf)
        length = np.clip(x - np.maximum(left, hi), 0.0, None)
        above = float(np.sum(G**2 * length))
    return below + above


def crps_normal(mu: float, sigma: float, y: float) -> float:
    """Closed-form CRPS of a normal ``N(mu, sigma^2)`` at ``y``.

    ``sigma * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with
    ``z = (y - mu) / sigma`` (Gneiting and Raftery 2007, eq. 21).
    """
    if not sigma > 0:
        raise FlowsimError(f"crps_normal: sigma must be > 0; got {sigma!r}.")
    z = (float(y) - mu) / sigma
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    return float(sigma * (z * (2.0 * cdf - 1.0) + 2.0 * pdf - 1.0 / math.sqrt(math.pi)))


def central_band(x, level: float) -> tuple[float, float]:
    """The central ``level`` band of the ensemble: its ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles."""
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise FlowsimError(f"central_band: level must be in (0, 1); got {level!r}.")
    a, b = np.quantile(_sample(x), [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(a), float(b)


def covers(band: tuple[float, float], low: float | None, high: float | None) -> bool:
    """Whether the band overlaps the accepted set ``[low, high]`` (None: unbounded on that side)."""
    a, b = band
    return (low is None or b >= low) and (high is None or a <= high)


def noisy_ensemble(predictions, sigma, rng, nonnegative=None) -> np.ndarray:
    """Members of the published figure: model predictions times ``1 + sigma * N(0, 1)``.

    The fit's likelihood takes a published figure as the model's value with a
    relative error of standard deviation ``sigma``; the predictive ensemble of
    the figure adds that error to every member. A figure of a quantity that
    cannot be negative (people, an amount) is not published negative: where
    ``nonnegative`` is True the noisy members are cut at 0 (with ``sigma =
    0.5``, the error of a figure of weight 0.25, about 2% of them would
    otherwise be negative).

    Parameters
    ----------
    predictions : ndarray, shape (n, m)
        Model value of ``m`` figures in ``n`` members.
    sigma : array_like, shape (m,)
        Relative standard deviation of each figure (0: none).
    rng : numpy.random.Generator
    nonnegative : array_like of bool, shape (m,), optional
        Figures that cannot be negative. Default: those whose model value is
        non-negative in every member.

    Returns
    -------
    ndarray, shape (n, m)
    """
    p = np.asarray(predictions, float)
    s = np.asarray(sigma, float)
    out = p * (1.0 + s * rng.standard_normal(p.shape))
    keep = (p >= 0).all(axis=0) if nonnegative is None else np.broadcast_to(np.asarray(nonnegative, bool),
                                                                            p.shape[-1:])
    return np.where(keep, np.maximum(out, 0.0), out)
