"""Right-hand side of the reference model, vectorised over members and hosts.

Implements the "Flows" section of docs/model.md exactly. No Python loop runs over
members or hosts.

State layout
------------
The right-hand side works on *compartment-major* arrays of shape
``(C, H, M)`` (compartment, host, member): every compartment is one
contiguous ``(H, M)`` block, so each arithmetic operation streams through
memory once, and the onward moves of all members are one matrix product
``(H, H) @ (H, M)`` when the members share the onward matrix ``P`` (the usual
case in an ensemble, where ``P`` is not varied). Solvers flatten or reshape
this layout as they need; :meth:`FlowRHS.to_member_major` converts a result
to the ``(M, H, C)`` order of :class:`~flowsim.model.batch.ModelBatch`.
"""

from __future__ import annotations

import numpy as np

from .batch import ModelBatch

__all__ = ["FlowRHS"]


class FlowRHS:
    """Callable ``f(t, y) -> dy/dt`` for a :class:`ModelBatch`.

    Rates that do not depend on the state are computed once per parameter
    regime (:meth:`use_flow`), the onward matrices once per closure state
    (:meth:`use_open`). Arrival rates are evaluated at ``arrival_time(t)``,
    which the solver uses to keep them on the correct side of a breakpoint.

    Parameters
    ----------
    batch : ModelBatch
        The inputs.

    Attributes
    ----------
    shape : tuple
        ``(C, H, M)``, the compartment-major state shape.
    arrival_mask : ndarray (M,) or None
        Optional factor (0 or 1) on each member's direct arrivals; solvers
        use it to switch off the arrivals of members whose transit
        compartments have drained (see :mod:`flowsim.solve.ensemble`).

    Notes
    -----
    ``__call__`` takes the flat state (as ``solve_ivp`` passes it) in the
    compartment-major order; :meth:`derivative` works on ``(C, H, M)``
    arrays in place.
    """

    def __init__(self, batch: ModelBatch):
        self.batch = batch
        self.layout = batch.layout
        n_members, n_hosts, n_comp = batch.shape
        self.n_members, self.n_hosts = n_members, n_hosts
        self.shape = (n_comp, n_hosts, n_members)
        P = np.asarray(batch.P, float)
        self._shared_P = bool(np.all(P == P[:1]))
        self._P = P[0] if self._shared_P else np.ascontiguousarray(np.moveaxis(P, 0, -1))  # (H, H+1[, M])
        self.arrivals = batch.arrivals
        self.arrival_time = lambda t: t
        self.arrival_mask = None
        self._tmp = [np.empty((n_hosts, n_members)) for _ in range(5)]
        k = self.layout.k
        stages = getattr(batch, "stages", None)
        self.stages = np.full(n_members, float(k)) if stages is None else np.asarray(stages, float)
        # a member with fewer stages uses the last ones of the layout: settlers enter at its first stage,
        # the rows before it stay empty (they receive nothing), and its last stage is the layout's last
        self.entry = None if stages is None else (np.arange(k)[:, None, None] == k - self.stages).astype(float)
        self.use_flow(batch.flow)
        self.use_open(np.ones(n_hosts, dtype=bool))

    # ----------------------------------------------------------- set-up
    def use_flow(self, p: dict) -> None:
        """Set the flow parameters (arrays (M, H)); called at each policy regime."""

        def hm(x):
            return np.ascontiguousarray(np.asarray(x, float).T)    # (H, M)

        tau_T, q_on, q_ret, rho = hm(p["tau_T"]), hm(p["q_on"]), hm(p["q_ret"]), hm(p["rho"])
        self.s = 1.0 / tau_T                                          # 1/day
        self.g = self.stages / hm(p["tau_S"])                         # k / tau_S, 1/day
        settle = self.s * (1.0 - q_on - q_ret)
        self.settle_S = settle * (1.0 - rho)
        self.settle_R = settle * rho
        self.onward = self.s * q_on
        self.back = self.s * q_ret
        f0, K = hm(p["f0"]), hm(p["K"])
        self.f0 = f0
        self.f0_per_job = f0 / K                                      # f = max(0, f0 - f0/K * E) = f0 max(0, 1 - E/K)
        self.phi_S = hm(p["phi_S"])
        self.lam_S, self.lam_R, self.lam_E, self.lam_U = (hm(p[n]) for n in ("lam_S", "lam_R", "lam_E", "lam_U"))
        self.nu_R = hm(p["nu_R"])                                     # R -> S1, 1/day (docs/model.md v2)
        self.lam_nu_R = self.lam_R + self.nu_R
        self.g_lam_S = self.g + self.lam_S
        self.q_out = hm(p["q_out"])
        self.stay_out = 1.0 - self.q_out

    def use_open(self, is_open: np.ndarray) -> None:
        """Fold onward moves towards closed hosts into ``W`` (docs/model.md, closures)."""
        is_open = np.asarray(is_open, dtype=bool)
        self.is_open = is_open
        H = self.n_hosts
        P_hosts, P_world = self._P[:, :H], self._P[:, H]
        if not is_open.all():
            shut = ~is_open if self._shared_P else ~is_open[:, None]
            P_world = P_world + (P_hosts * shut).sum(axis=1)
            P_hosts = P_hosts * (is_open if self._shared_P else is_open[:, None])
        if self._shared_P:
            self.P_in = np.ascontiguousarray(P_hosts.T)               # (H_to, H_from)
            self.P_world = np.ascontiguousarray(P_world[:, None])     # (H, 1)
        else:
            self.P_in = np.ascontiguousarray(P_hosts)                 # (H_from, H_to, M)
            self.P_world = np.ascontiguousarray(P_world)              # (H, M)

    def job_finding(self, E: np.ndarray) -> np.ndarray:
        """``f_h = f0_h * max(0, 1 - E_h / K_h)``, 1/day, shape (H, M)."""
        return np.maximum(self.f0 - self.f0_per_job * E, 0.0)

    def direct_arrivals(self, t: float) -> np.ndarray:
        """Direct arrivals at ``arrival_time(t)``, people/day: (H, 1), or (H, M) with a mask or member arrivals."""
        a = self.arrivals.rate(self.arrival_time(t), self.is_open)
        if not self.arrivals.per_member:
            a = a[:, None]
        return a if self.arrival_mask is None else a * self.arrival_mask

    # -------------------------------------------------------- evaluation
    def derivative(self, t: float, Y: np.ndarray, dY: np.ndarray) -> np.ndarray:
        """Write ``dY/dt`` of the state ``Y`` into ``dY``; return ``dY``.

        ``Y`` needs the rows ``T, S1..Sk, R, E, U`` (the counters feed back
        into nothing); ``dY`` has either all ``C`` rows, or only those
        ``k + 4`` when a solver does not track the counters ``Ret, Out, In``.
        """
        k = self.layout.k
        T, S = Y[0], Y[1:k + 1]
        R, E, U = Y[k + 1], Y[k + 2], Y[k + 3]
        out_T, sum_S, D, spare, settling = self._tmp
        counters = dY.shape[0] > k + 4
        mul = np.multiply

        mul(self.onward, T, out=out_T)                                # onward leavers, people/day
        entries = dY[k + 6] if counters else spare                    # entries (In counter)
        if self._shared_P and self.n_members > 1:
            np.matmul(self.P_in, out_T, out=entries)
        elif self._shared_P:
            # BLAS takes another path for a single column; two identical columns keep every member's
            # arithmetic the same whatever the batch size (ensembles are identical however chunked)
            entries[:] = np.matmul(self.P_in, np.repeat(out_T, 2, axis=1))[:, :1]
        else:
            np.einsum("jm,jhm->hm", out_T, self.P_in, out=entries)
        entries += self.direct_arrivals(t)
        np.subtract(entries, mul(self.s, T, out=dY[0]), out=dY[0])

        f = self.job_finding(E)
        hazard = self.g_lam_S + self.phi_S * f
        S.sum(axis=0, out=sum_S)
        if self.entry is None:
            mul(self.settle_S, T, out=dY[1])
            dY[1] += self.nu_R * R
            dY[1] -= hazard * S[0]
            if k > 1:
                np.subtract(self.g * S[:-1], hazard * S[1:], out=dY[2:k + 1])
        else:
            dS = dY[1:k + 1]
            mul(self.settle_S, T, out=settling)
            settling += self.nu_R * R
            mul(self.entry, settling, out=dS)
            dS -= hazard * S
            dS[1:] += self.g * S[:-1]
        np.subtract(mul(self.settle_R, T, out=dY[k + 1]), self.lam_nu_R * R, out=dY[k + 1])
        np.subtract(f * (self.phi_S * sum_S + U), self.lam_E * E, out=dY[k + 2])
        np.subtract(mul(self.g, S[-1], out=dY[k + 3]), (f + self.lam_U) * U, out=dY[k + 3])

        if not counters:
            return dY
        mul(self.lam_S, sum_S, out=D)                                 # settled leavers, people/day
        D += self.lam_R * R
        D += self.lam_E * E
        D += self.lam_U * U
        np.add(mul(self.back, T, out=dY[k + 4]), self.stay_out * D, out=dY[k + 4])
        np.add(mul(out_T, self.P_world, out=dY[k + 5]), self.q_out * D, out=dY[k + 5])
        return dY

    def __call__(self, t: float, y: np.ndarray) -> np.ndarray:
        dY = np.empty(self.shape)
        self.derivative(t, y.reshape(self.shape), dY)
        return dY.reshape(y.shape)

    # ----------------------------------------------------------- layout
    def to_compartment_major(self, y: np.ndarray) -> np.ndarray:
        """``(M, H, C[, ...])`` to ``(C, H, M[, ...])`` (a copy)."""
        return np.ascontiguousarray(np.swapaxes(y, 0, 2))

    @staticmethod
    def to_member_major(Y: np.ndarray) -> np.ndarray:
        """``(C, H, M[, ...])`` to ``(M, H, C[, ...])`` (a view)."""
        return np.swapaxes(Y, 0, 2)
