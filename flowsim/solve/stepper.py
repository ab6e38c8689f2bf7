"""One Dormand-Prince 5(4) step of a whole batch: the tableau, the step, the dense output.

The tableau, error estimator, dense output and initial step are those of
:class:`scipy.integrate.RK45` (``solve_ivp``'s default), with a member axis on
every array and an error ratio per member. :class:`Stepper` is the numpy
kernel; :mod:`flowsim.solve.kernels` adds the numba one and picks between
them; :func:`flowsim.solve.dopri.march` drives either over a whole horizon.

Arithmetic is elementwise over the members (numpy's own loops: no BLAS call
whose result for one member could depend on the batch's size), so a member's
numbers depend only on its parameters and the steps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["A", "B", "C", "E", "P", "Stepper", "combine", "dense", "powers", "rms_per_member"]

# The RK45 (Dormand-Prince 5(4)) tableau and controller constants of scipy's solve_ivp, written out as in
# scipy/integrate/_ivp/rk.py (the same expressions, so the same floats; a test checks they equal
# scipy.integrate.RK45's): importing scipy.integrate costs a quarter of a second that `import flowsim` skips.
C = np.array([0, 1/5, 3/10, 4/5, 8/9, 1])
A = np.array([
    [0, 0, 0, 0, 0],
    [1/5, 0, 0, 0, 0],
    [3/40, 9/40, 0, 0, 0],
    [44/45, -56/15, 32/9, 0, 0],
    [19372/6561, -25360/2187, 64448/6561, -212/729, 0],
    [9017/3168, -355/33, 46732/5247, 49/176, -5103/18656],
])
B = np.array([35/384, 0, 500/1113, 125/192, -2187/6784, 11/84])
E = np.array([-71/57600, 0, 71/16695, -71/1920, 17253/339200, -22/525, 1/40])
P = np.array([
    [1, -8048581381/2820520608, 8663915743/2820520608, -12715105075/11282082432],
    [0, 0, 0, 0],
    [0, 131558114200/32700410799, -68118460800/10900136933, 87487479700/32700410799],
    [0, -1754552775/470086768, 14199869525/1410260304, -10690763975/1880347072],
    [0, 127303824393/49829197408, -318862633887/49829197408, 701980252875 / 199316789632],
    [0, -282668133/205662961, 2019193451/616988883, -1453857185/822651844],
    [0, 40617522/29380423, -110615467/29380423, 69997945/29380423],
])
ERROR_ESTIMATOR_ORDER = 4
EXPONENT = -1.0 / (ERROR_ESTIMATOR_ORDER + 1)
SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0


def combine(a: np.ndarray, K: np.ndarray, out=None) -> np.ndarray:
    """``sum_s a[s] K[s]`` over the rows of a 2-D ``K``.

    numpy's own loops, not BLAS: a multithreaded BLAS ``gemv`` on these long
    rows is up to 20 times slower on a busy machine, and its result for one
    element could depend on the array's length (SIMD tails); this is
    elementwise, so a member's numbers do not depend on its chunk.
    """
    return np.einsum("s,sn->n", a, K, out=out)


def powers(theta: np.ndarray) -> np.ndarray:
    """``theta, theta^2, theta^3, theta^4`` for each theta, shape (days, 4)."""
    return np.cumprod(np.tile(np.asarray(theta, float)[:, None], (1, P.shape[1])), axis=1)


def dense(theta: np.ndarray, h: float, Y: np.ndarray, K: np.ndarray) -> np.ndarray:
    """RK45's quartic interpolant at ``t + theta h``: shape ``(len(theta), *Y.shape)``.

    ``K`` holds the 7 stage derivatives of the step; its first ``len(Y)`` rows are used.
    """
    weights = P @ powers(theta).T                                                  # (7, days)
    K_rows = K[:, :Y.shape[0]].reshape(7, -1)
    return np.stack([Y + h * combine(w, K_rows).reshape(Y.shape) for w in weights.T])


def rms_per_member(x: np.ndarray) -> np.ndarray:
    """``sqrt(mean(x**2))`` over the (C, H) axes of a (C, H, M) array."""
    n = x.shape[0] * x.shape[1]
    return np.sqrt(np.square(x).sum(axis=(0, 1)) / n)


class Stepper:
    """One Dormand-Prince step of every member, with the buffers it reuses.

    Parameters
    ----------
    rhs : FlowRHS
    shape : tuple
        ``(C, H, M)`` of the integrated state (``C`` may exclude the counters).
    n_read : int
        Rows the right-hand side reads (``T, S1..Sk, R, E, U``): the stage
        states need no more.
    rtol, atol : float
        Error test.
    """

    def __init__(self, rhs, shape, n_read: int, rtol: float, atol: float):
        self.rhs, self.shape, self.n_read = rhs, shape, n_read
        self.rtol, self.atol = rtol, atol
        self.K = np.empty((7, *shape))
        self.K_flat = self.K.reshape(7, -1)
        self.K_read = self.K[:, :n_read].reshape(7, -1)
        self.stage = np.empty((n_read, *shape[1:]))
        self.spare = np.empty(shape)                  # the next state, swapped with the current one on acceptance
        self.err = np.empty(shape)
        self.scale = np.empty(shape)

    def step(self, t: float, h: float, t_new: float, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(Y_new, ratio)``: the state at ``t_new = t + h`` (in a reused buffer) and each member's error ratio.

        ``K[0]`` must hold ``f(t, Y)``; ``K`` holds every stage afterwards,
        ``K[6] = f(t_new, Y_new)``.
        """
        rhs, K, n = self.rhs, self.K, self.n_read
        stage = self.stage.reshape(-1)
        for s in range(1, 6):                                    # stages need only what the RHS reads
            combine(h * A[s, :s], self.K_read[:s], out=stage)
            self.stage += Y[:n]
            rhs.derivative(t + C[s] * h if C[s] < 1.0 else t_new, self.stage, K[s])
        Y_new = self.spare
        combine(h * B, self.K_flat[:6], out=Y_new.reshape(-1))
        Y_new += Y
        rhs.derivative(t_new, Y_new, K[6])
        combine(h * E, self.K_flat, out=self.err.reshape(-1))
        np.abs(Y, out=self.scale)
        np.maximum(self.scale, np.abs(Y_new), out=self.scale)
        self.scale *= self.rtol
        self.scale += self.atol
        self.err /= self.scale
        return Y_new, rms_per_member(self.err)

    def derivative(self, t: float, Y: np.ndarray, dY: np.ndarray) -> np.ndarray:
        """``f(t, Y)`` written into ``dY`` (the right-hand side of this stepper's kernel)."""
        return self.rhs.derivative(t, Y, dY)

    def accept(self, Y: np.ndarray) -> None:
        """The old state's buffer becomes the spare one; ``K[0]`` takes ``K[6]`` (first same as last)."""
        self.spare = Y
        self.K[0] = self.K[6]

    def initial_step(self, t0: float, Y: np.ndarray, t1: float) -> float:
        """``solve_ivp``'s initial step (Hairer-Norsett-Wanner II.4), the smallest over the members."""
        F, rtol, atol = self.K[0], self.rtol, self.atol
        scale = atol + np.abs(Y) * rtol
        d0, d1 = rms_per_member(Y / scale), rms_per_member(F / scale)
        h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.maximum(d1, 1e-300))
        h0 = float(min(h0.min(), t1 - t0))
        F1 = self.derivative(t0 + h0, Y + h0 * F, np.empty_like(Y))
        d2 = rms_per_member((F1 - F) / scale) / h0
        d = np.maximum(d1, d2)
        h1 = np.where(d <= 1e-15, max(1e-6, h0 * 1e-3), (0.01 / np.maximum(d, 1e-300)) ** (-EXPONENT))
        return float(min(100 * h0, h1.min(), t1 - t0))
