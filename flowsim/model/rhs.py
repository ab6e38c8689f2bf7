"""Right-hand side of the reference model, vectorised over members and hosts.

Implements the "Flows" section of MODEL.md exactly. No Python loop runs over
members or hosts: every operation works on arrays of shape ``(M, H)`` (or
``(M, H, k)`` for the savings chain).
"""

from __future__ import annotations

import numpy as np

from .batch import ModelBatch

__all__ = ["FlowRHS"]


class FlowRHS:
    """Callable ``f(t, y) -> dy/dt`` for a :class:`ModelBatch`.

    Rates that do not depend on the state are computed once per parameter
    regime (:meth:`use_flow`). Arrival rates and closures are evaluated at
    ``arrival_time(t)``, which the solver uses to keep them on the correct
    side of a breakpoint.

    Parameters
    ----------
    batch : ModelBatch
        The inputs.

    Notes
    -----
    ``y`` may be flat (as ``solve_ivp`` passes it) or shaped
    ``(M, H, C)``; the result has the same shape as ``y``.
    """

    def __init__(self, batch: ModelBatch):
        self.batch = batch
        self.layout = batch.layout
        self.shape = batch.shape
        self.n_hosts = batch.shape[1]
        self.P_hosts = batch.P[:, :, : self.n_hosts]                 # (M, H_from, H_to)
        self.P_world = batch.P[:, :, self.n_hosts]                   # (M, H)
        self.arrivals = batch.arrivals
        self.arrival_time = lambda t: t
        self.use_flow(batch.flow)

    def use_flow(self, p: dict) -> None:
        """Set the flow parameters (arrays (M, H)); called at each policy regime."""
        self.s = 1.0 / p["tau_T"]                                   # 1/day
        self.g = self.layout.k / p["tau_S"]                         # 1/day
        settle = self.s * (1.0 - p["q_on"] - p["q_ret"])
        self.settle_S = settle * (1.0 - p["rho"])
        self.settle_R = settle * p["rho"]
        self.onward = self.s * p["q_on"]
        self.back = self.s * p["q_ret"]
        self.f0, self.phi_S, self.K = p["f0"], p["phi_S"], p["K"]
        self.lam_S, self.lam_R, self.lam_E, self.lam_U = p["lam_S"], p["lam_R"], p["lam_E"], p["lam_U"]
        self.q_out = p["q_out"]

    def job_finding(self, E: np.ndarray) -> np.ndarray:
        """``f_h = f0_h * max(0, 1 - E_h / K_h)``, 1/day, shape of ``E``."""
        return self.f0 * np.maximum(0.0, 1.0 - E / self.K)

    def onward_matrices(self, is_open: np.ndarray):
        """Onward shares with closed hosts folded into ``W`` (MODEL.md, closures)."""
        if is_open.all():
            return self.P_hosts, self.P_world
        P_open = self.P_hosts * is_open
        P_world = self.P_world + (self.P_hosts * ~is_open).sum(axis=-1)
        return P_open, P_world

    def __call__(self, t: float, y: np.ndarray) -> np.ndarray:
        lay = self.layout
        Y = y.reshape(self.shape)
        T = Y[..., lay.T]
        S = Y[..., lay.S]
        R, E, U = Y[..., lay.R], Y[..., lay.E], Y[..., lay.U]

        ta = self.arrival_time(t)
        is_open = self.arrivals.is_open(ta)
        a = self.arrivals.rate(ta, is_open)
        P_hosts, P_world = self.onward_matrices(is_open)

        onward = self.onward * T                                     # (M, H) people/day
        f = self.job_finding(E)
        hazard = self.g + self.phi_S * f + self.lam_S
        sum_S = S.sum(axis=-1)
        D = self.lam_S * sum_S + self.lam_R * R + self.lam_E * E + self.lam_U * U

        dY = np.empty_like(Y)
        entries = a + np.matmul(onward[:, None, :], P_hosts)[:, 0, :]
        dY[..., lay.T] = entries - self.s * T
        dS = dY[..., lay.S]
        dS[..., 0] = self.settle_S * T - hazard * S[..., 0]
        dS[..., 1:] = self.g[..., None] * S[..., :-1] - hazard[..., None] * S[..., 1:]
        dY[..., lay.R] = self.settle_R * T - self.lam_R * R
        dY[..., lay.E] = self.phi_S * f * sum_S + f * U - self.lam_E * E
        dY[..., lay.U] = self.g * S[..., -1] - (f + self.lam_U) * U
        dY[..., lay.RET] = self.back * T + (1.0 - self.q_out) * D
        dY[..., lay.OUT] = onward * P_world + self.q_out * D
        dY[..., lay.IN] = entries                                    # counter of entries, feeds back into nothing
        return dY.reshape(y.shape)
