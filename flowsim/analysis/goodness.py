"""Goodness of fit of predictions against observations (pure functions).

Both measures use the *error* of each observation: the distance of the
prediction outside what the observation accepts (0 when a bound or range
holds; ``model - value`` for a point), relative to the figure (the value, or
the bound that is crossed). See :class:`~flowsim.analysis.constraints.Constraint`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mean_absolute_percentage_error", "averaged_relative_difference", "mape_and_ard"]


def mean_absolute_percentage_error(relative_errors) -> float:
    """``100 * mean(|e_i|)`` over the observations, percent.

    Parameters
    ----------
    relative_errors : array_like, shape (n,)
        Errors relative to the figures (0.1 = 10%).

    Examples
    --------
    >>> mean_absolute_percentage_error([0.1, -0.3, 0.0])
    13.333333333333334
    """
    e = np.asarray(relative_errors, dtype=float)
    return float(100.0 * np.abs(e).mean()) if e.size else float("nan")


def averaged_relative_difference(groups, errors, references) -> float:
    """The validation error of the Flee refugee model, adapted to published figures.

    Flee (Suleimenova, Bell and Groen 2017, *Sci. Rep.* 7, 13377) compares
    simulated and observed refugee counts in every camp ``x`` on every day
    ``t``: ``E(t) = sum_x |n_sim(x, t) - n_data(x, t)| / sum_x n_data(x, t)``,
    and reports the *averaged relative difference*, the mean of ``E(t)`` over
    the days. Here hosts play the camps and a group of observations of the
    same quantity over the same window plays a day: ``E_g = sum_{i in g}
    |error_i| / sum_{i in g} reference_i``, averaged over the groups. With one
    host every group has one observation, and the measure is the mean of
    ``|error_i| / reference_i`` (the MAPE as a fraction).

    Parameters
    ----------
    groups : sequence of hashable, length n
        Group key of each observation (e.g. ``(quantity, date_start, date_end)``).
    errors : array_like, shape (n,)
        Distance of each prediction outside what its observation accepts.
    references : array_like, shape (n,)
        The figure each error is relative to (> 0).

    Returns
    -------
    float
        A fraction (0.25 = predictions off by a quarter on average).

    Examples
    --------
    >>> averaged_relative_difference([("a",), ("a",), ("b",)], [10, -30, 5], [100, 100, 50])
    0.15000000000000002
    """
    errors = np.abs(np.asarray(errors, dtype=float))
    references = np.abs(np.asarray(references, dtype=float))
    per_group: dict = {}
    for key, e, r in zip(groups, errors, references):
        acc = per_group.setdefault(key, [0.0, 0.0])
        acc[0] += e
        acc[1] += r
    values = [e / r for e, r in per_group.values() if r > 0]
    return float(np.mean(values)) if values else float("nan")


def mape_and_ard(model, predictions, mask) -> tuple[float, float]:
    """Both measures over the observations of ``model`` selected by ``mask``; NaN, NaN when none is.

    Parameters
    ----------
    model : ObservationModel
        The observations and their constraints
        (:class:`~flowsim.analysis.constraints.ObservationModel`).
    predictions : array_like, shape (n,)
        Model value of each observation, the figure's unit.
    mask : array_like of bool, shape (n,)
        Which observations count (the fitted ones, the held-out ones...).

    Returns
    -------
    mape : float
        :func:`mean_absolute_percentage_error`, percent.
    ard : float
        :func:`averaged_relative_difference` with the observations grouped by
        quantity and window, a fraction.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return float("nan"), float("nan")
    rel = model.relative_errors(predictions)[mask]
    viol = model.violations(predictions)[mask]
    refs = np.array([float(c.reference(m)) for c, m in zip(model.constraints, predictions)])[mask]
    groups = [(o.quantity, o.date_start, o.date_end) for o, k in zip(model.observations, mask) if k]
    return mean_absolute_percentage_error(rel), averaged_relative_difference(groups, viol, refs)
