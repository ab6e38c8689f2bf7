"""Where :func:`~flowsim.solve.dopri.march` puts its dense output: full states, or only the series needed.

A sink gets ``start(Y)`` with the initial state and ``step(t, h, t_new, Y,
K, Y_new)`` after every accepted step, and writes the output days
``t < d <= t_new`` from the step's quartic interpolant.
"""

from __future__ import annotations

import math

import numpy as np

from .stepper import P, combine, dense

__all__ = ["FullStates", "Projected"]


def _days(t: float, t_new: float) -> tuple[int, int]:
    """First and last output day in ``(t, t_new]``."""
    return math.floor(t) + 1, math.floor(t_new)


class FullStates:
    """Every compartment on the daily grid: ``out`` has shape (D, C, H, M)."""

    def __init__(self, horizon: int, shape):
        self.out = np.empty((horizon + 1, *shape))

    def start(self, Y) -> None:
        self.out[0] = Y

    def step(self, t, h, t_new, Y, K, Y_new) -> None:
        first, last = _days(t, t_new)
        if last < first:
            return
        if last == t_new:                                         # the step ends on a day: no interpolation
            self.out[last] = Y_new
            last -= 1
        if last >= first:
            self.out[first:last + 1] = dense((np.arange(first, last + 1) - t) / h, h, Y, K)

    def absorb(self, other: FullStates, m: int) -> None:
        """Take member ``m``'s states from a sink that solved it alone."""
        self.out[..., m] = other.out[..., 0]

    def states(self) -> np.ndarray:
        """``(M, H, C, D)``, the order of :class:`~flowsim.solve.base.Trajectories`."""
        return np.ascontiguousarray(self.out.transpose(3, 2, 1, 0))


class Projected:
    """Only linear combinations of the compartments, on the daily grid.

    Every series of a result (a compartment, ``N``, an economy channel,
    ``net``...) is a linear function of the compartments with weights that
    are constant within a parameter regime, so an ensemble keeps just the
    series it needs: ``V`` values per host, member and day instead of ``C``.
    Neighbouring compartments with equal weights in every series (the savings
    stages) are summed first; each step's interpolant is projected once (its
    coefficients) and evaluated on the days the step covers.

    Parameters
    ----------
    horizon : int
        Days.
    weights : sequence of ndarray, each (V, C, H, M)
        For each parameter regime, the weight of every compartment in every
        output series.
    regime_starts : sequence of float
        First day of each regime (a day belongs to the regime in force on it).
    out : list of ndarray (M, H, D), optional
        Where to write each series (e.g. views of an ensemble's arrays);
        allocated when omitted.
    kernel : {"numpy", "numba"}
        What evaluates the interpolants (:mod:`flowsim.solve.kernels`, resolved already).

    Attributes
    ----------
    out : list of ndarray, each (M, H, D)
        The series on the daily grid, member-major (the layout of
        :attr:`EnsembleResult.series` and of the summary functions).
    rows : int
        Compartments ``0 .. rows - 1`` carry weight: the state must have them.
    """

    def __init__(self, horizon: int, weights, regime_starts, out=None, kernel: str = "numpy"):
        used = np.flatnonzero(np.any([np.any(w != 0, axis=(0, 2, 3)) for w in weights], axis=0))
        self.rows = r = int(used.max()) + 1 if used.size else 1
        same = [all(np.array_equal(w[:, c], w[:, c + 1]) for w in weights) for c in range(r - 1)]
        starts = [0] + [c + 1 for c in range(r - 1) if not same[c]]
        self.groups = list(zip(starts, [*starts[1:], r]))
        self.weights = [np.ascontiguousarray(w[:, starts]) for w in weights]
        self.starts = np.asarray(regime_starts, float)
        n_series, _, n_hosts, n_members = self.weights[0].shape
        self.out = out if out is not None else [np.empty((n_members, n_hosts, horizon + 1)) for _ in range(n_series)]
        self.kernel = kernel
        if kernel == "numba":
            from . import kernels

            self._compiled = kernels
            self._bounds = np.array(self.groups, dtype=np.int64).reshape(-1, 2)
            self.weights = [np.ascontiguousarray(w, dtype=float) for w in self.weights]
            self._coef = np.empty((5, *self.weights[0].shape[1:]))            # (5, G, H, M)

    def _weights(self, day: float) -> np.ndarray:
        return self.weights[int(np.searchsorted(self.starts, day, side="right") - 1)]

    def _reduce(self, X: np.ndarray, axis: int = 0) -> np.ndarray:
        """Sum the rows of each group: ``(..., rows, H, M)`` -> ``(..., groups, H, M)`` (axis 0 or 1)."""
        pieces = [(X[:, a:b] if axis == 1 else X[a:b]) for a, b in self.groups]
        if len(pieces) == self.rows:
            return X[:, :self.rows] if axis == 1 else X[:self.rows]
        return np.concatenate([p if p.shape[axis] == 1 else p.sum(axis=axis, keepdims=True) for p in pieces],
                              axis=axis)

    @staticmethod
    def project(W: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``sum_g W[v, g, h, m] Y[g, h, m]`` -> ``(V, H, M)``."""
        return np.einsum("vghm,ghm->vhm", W, Y)

    def _put(self, day: int, values: np.ndarray) -> None:
        """Write the (V, H, M) values of one day."""
        for out, v in zip(self.out, values):
            out[..., day] = v.T

    def start(self, Y) -> None:
        if self.kernel == "numba":
            self._compiled.project_state(self._weights(0.0), self._bounds, 0, Y, self.out)
            return
        self._put(0, self.project(self._weights(0.0), self._reduce(Y)))

    def step(self, t, h, t_new, Y, K, Y_new) -> None:
        first, last = _days(t, t_new)
        if last < first:
            return
        if self.kernel == "numba":
            if last == t_new:
                self._compiled.project_state(self._weights(t_new), self._bounds, last, Y_new, self.out)
                last -= 1
            if last >= first:
                self._compiled.project_step(self._weights(first), self._bounds, h, t, first, last, Y, K, self.out,
                                            self._coef)
            return
        if last == t_new:                                         # the step ends on a day: no interpolation
            self._put(last, self.project(self._weights(t_new), self._reduce(Y_new)))
            last -= 1
        if last < first:
            return
        W = self._weights(first)                                  # days inside a step share a regime
        Yg, Kg = self._reduce(Y), self._reduce(K, axis=1)         # (G, H, M), (7, G, H, M)
        if last == first:
            self._put(first, self.project(W, dense(np.array([(first - t) / h]), h, Yg, Kg)[0]))
            return
        K_rows = Kg.reshape(7, -1)
        # y(t + theta h) = y + sum_j c_j theta^j by Horner's rule, on (days, V, H, M) blocks (long inner loops)
        coef = [self.project(W, combine(h * p, K_rows).reshape(Yg.shape)) for p in P.T]    # 4 x (V, H, M)
        theta = ((np.arange(first, last + 1) - t) / h)[:, None, None, None]
        block = coef[3] * theta
        for c in (coef[2], coef[1], coef[0]):
            block += c
            block *= theta
        block += self.project(W, Yg)
        for v, out in enumerate(self.out):
            out[..., first:last + 1] = block[:, v].transpose(2, 1, 0)

    def absorb(self, other: Projected, m: int) -> None:
        """Take member ``m``'s series from a sink that solved it alone."""
        for out, theirs in zip(self.out, other.out):
            out[m] = theirs[0]
