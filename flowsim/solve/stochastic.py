"""Stochastic mode: the reference model as a discrete-time chain of whole people.

Every step of ``dt`` days (a divisor of a day: 1, 0.5, 0.25...):

* direct arrivals into host ``h`` are Poisson with mean ``integral of a_h`` over
  the step (the exact integral, closures and diversion applied); arriving
  uniformly over the step, each may already leave transit before its end
  (probability ``1 - (1 - exp(-s dt)) / (s dt)``);
* each person in a compartment leaves it during the step with probability
  ``1 - exp(-lambda dt)``, ``lambda`` the compartment's total leaving rate at the
  start of the step, and goes to each destination with probability
  proportional to that flow's rate (docs/model.md, "Flows"). One multinomial draw
  per compartment, host and member gives every destination at once: transit
  leavers to onward hosts, ``W``, the origin, savings or remote work; savers
  to the next stage (``U`` after the last), a job or away; remote workers back
  to savings (``nu_R``) or away; the unemployed to a job or away; settled leavers to the origin or ``W`` (``q_out``);
* the job-finding rate ``f = f0 max(0, 1 - E/K)`` is taken at the start of
  the step (so hires within one step can take ``E`` a little above ``K``
  when the market is nearly full; the next step then hires no one).

People are conserved exactly (every draw only moves people). The *mean* of
the chain is the deterministic discrete scheme ``expected=True`` (every draw
replaced by its expectation), which converges to the ODE as ``dt -> 0``
(first order: a person cannot make two moves in one step); fluctuations
around it shrink like ``1/sqrt(people)``.

Random streams: members are simulated in blocks of :attr:`StochasticSolver.BLOCK`,
each block with its own :class:`numpy.random.Generator` seeded by
``SeedSequence(seed, spawn_key=(*block_key, block))``: the same seed gives
the same people, and an ensemble gives the same draws whatever its chunking
(chunks hold whole blocks).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_in_bounds
from ..exceptions import SolverError
from ..model.rhs import FlowRHS
from .base import Solver, Trajectories, register_solver

__all__ = ["StochasticSolver"]


@register_solver
class StochasticSolver(Solver):
    """Binomial/multinomial chain with Poisson arrivals (see the module notes).

    Parameters
    ----------
    dt : float
        Step, days; ``1/dt`` must be a whole number (default 0.25: four steps a day).
    seed : int or None
        Entropy of the random streams; None draws fresh entropy (reported in
        ``stats["seed"]``, so a run can be repeated).
    block_key : tuple of int
        Extra spawn key of the streams (an ensemble passes its ``k`` group).
    first_block : int
        Number of the first block of the batch within its group.
    expected : bool
        Replace every draw by its expectation: the deterministic discrete
        scheme whose solution is the chain's mean (up to the ``E/K`` feedback).
    """

    name = "stochastic"
    #: Members simulated together on one random stream.
    BLOCK = 50

    def __init__(self, dt: float = 0.25, seed: int | None = None, block_key: tuple = (), first_block: int = 0,
                 expected: bool = False):
        dt = check_in_bounds(dt, "solver option `dt` (days)", 0.0, 1.0, lower_open=True, error=SolverError)
        per_day = round(1.0 / dt)
        if abs(per_day * dt - 1.0) > 1e-9:
            raise SolverError(f"solver option `dt` (days) must divide a day (1, 0.5, 0.25, 0.2, 0.1...); got {dt:g}.")
        self.dt, self.per_day = 1.0 / per_day, per_day
        self.seed = np.random.SeedSequence(seed).entropy if seed is None else int(seed)
        self.block_key = tuple(int(x) for x in block_key)
        self.first_block = int(first_block)
        self.expected = bool(expected)

    #: Work guard: steps of ``dt`` allowed in one run (``dt = 0.05`` over five years is 36,520,
    #: about 30 s for eight hosts).
    MAX_STEPS = 40_000

    def solve(self, batch, horizon: int) -> Trajectories:
        if horizon * self.per_day > self.MAX_STEPS:
            raise SolverError(
                f"the stochastic mode would take {horizon * self.per_day:,} steps of dt = {self.dt:g} days over "
                f"{horizon} days; allowed: at most {self.MAX_STEPS:,}. Fix: "
                + (f"dt = {1.0 / (self.MAX_STEPS // horizon):g} days or larger." if self.MAX_STEPS >= horizon
                   else "dt = 1 day and a shorter horizon.")
            )
        y0 = batch.y0
        if not self.expected and not np.array_equal(y0, np.round(y0)):
            raise SolverError("the stochastic mode moves whole people: initial stocks must be whole numbers; "
                              "round them in the scenario's `initial`.")
        M = batch.n_members
        out = np.empty((horizon + 1, batch.layout.size, batch.shape[1], M))
        drawn = np.zeros((horizon + 1, batch.shape[1], M))         # cumulative direct arrivals drawn
        steps = 0
        for j, lo in enumerate(range(0, M, self.BLOCK)):
            hi = min(M, lo + self.BLOCK)
            key = (*self.block_key, self.first_block + j)
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))
            steps = self._run(batch.select(np.arange(lo, hi)), horizon, rng, out[..., lo:hi], drawn[..., lo:hi])
        stats = {"method": "binomial chain", "dt": self.dt, "steps": steps, "seed": self.seed,
                 "expected": self.expected, "nfev": 0}
        return Trajectories(t=np.arange(horizon + 1, dtype=float), y=np.ascontiguousarray(out.transpose(3, 2, 1, 0)),
                            message="simulation finished", stats=stats,
                            arrivals=np.ascontiguousarray(drawn.transpose(2, 0, 1)))

    # ------------------------------------------------------------------ chain
    def _draw(self, rng, n, pvals):
        """Multinomial split of counts ``n`` (...) over categories ``pvals`` (..., K); first one = stay."""
        if self.expected:
            return n[..., None] * pvals
        return rng.multinomial(n.astype(np.int64), pvals).astype(float)

    def _run(self, batch, horizon: int, rng, out, drawn) -> int:
        rhs = FlowRHS(batch)                                       # rates and onward matrices per regime/closure
        dt = self.dt
        X = rhs.to_compartment_major(batch.y0)                     # (C, H, M) people
        n_steps = horizon * self.per_day
        times = np.arange(n_steps + 1) * dt
        arrivals = np.diff(batch.arrivals.cumulative(times), axis=0)   # (steps, H[, M]) expected entries per step
        if not batch.arrivals.per_member:
            arrivals = arrivals[:, :, None]                            # (steps, H, 1): the same for every member
        out[0] = X
        total = np.zeros(drawn.shape[1:])                          # (H, M) direct arrivals so far
        regime, opened = None, None
        for i in range(n_steps):
            t = times[i]
            r = batch.regime_at(t)
            if r != regime:
                rhs.use_flow(batch.regime_flows[r] if batch.regime_flows else batch.flow)
                regime, opened = r, None
            is_open = batch.arrivals.is_open(t + 0.5 * dt)
            if opened is None or not np.array_equal(is_open, opened):
                rhs.use_open(is_open)
                opened = is_open
                T_split = self._transit_split(rhs)
            X, direct = self._step(rhs, X, arrivals[i], T_split, rng)
            total += direct
            if (i + 1) % self.per_day == 0:
                out[(i + 1) // self.per_day] = X
                drawn[(i + 1) // self.per_day] = total
        return n_steps

    def _transit_split(self, rhs) -> np.ndarray:
        """Shares of transit leavers: return, savings, remote, onward to each host, onward to W; (H, M, 4 + H)."""
        s = rhs.s
        shares = [rhs.back / s, rhs.settle_S / s, rhs.settle_R / s]
        q_on = rhs.onward / s
        if rhs.P_in.ndim == 2:                                     # shared P: P_in is (to, from)
            onward = q_on[:, :, None] * rhs.P_in.T[:, None, :]     # (from, M, to)
        else:                                                      # per member: P_in is (from, to, M)
            onward = q_on[:, :, None] * np.moveaxis(rhs.P_in, 2, 1)
        world = q_on * np.broadcast_to(rhs.P_world, q_on.shape)
        return np.concatenate([np.stack(shares, axis=-1), onward, world[..., None]], axis=-1)

    def _step(self, rhs, X, expected_arrivals, T_split, rng) -> np.ndarray:
        lay, dt = rhs.layout, self.dt
        k, H = lay.k, rhs.n_hosts
        T, S = X[0], X[1:k + 1]
        R, E, U = X[k + 1], X[k + 2], X[k + 3]
        f = rhs.job_finding(E)
        new = X.copy()

        # transit: stay, return, savings, remote, onward to hosts..., W. Direct arrivals of the step come in
        # uniformly over it: each is still in transit at its end with probability (1 - exp(-s dt)) / (s dt)
        x = rhs.s * dt
        leave = -np.expm1(-x)
        p = np.concatenate([(1.0 - leave)[..., None], leave[..., None] * T_split], axis=-1)
        direct = (expected_arrivals * np.ones_like(T) if self.expected
                  else rng.poisson(np.broadcast_to(expected_arrivals, T.shape)).astype(float))
        stay_new = leave / x
        p_new = np.concatenate([stay_new[..., None], (1.0 - stay_new)[..., None] * T_split], axis=-1)
        moves = self._draw(rng, T, p) + self._draw(rng, direct, p_new)          # (H, M, 5 + H)
        ret_T, to_S, to_R = moves[..., 1], moves[..., 2], moves[..., 3]
        world = moves[..., 4 + H]
        inflow = moves[..., 4:4 + H].sum(axis=0).T                  # onward movers arriving, (to, M)
        new[0] = T + direct - moves[..., 1:].sum(axis=-1) + inflow

        # savings stages: stay, next stage (U after the last), job, return, W
        hazard = rhs.g + rhs.phi_S * f + rhs.lam_S
        rates = np.stack([rhs.g, rhs.phi_S * f, rhs.lam_S * rhs.stay_out, rhs.lam_S * rhs.q_out], axis=-1)
        moves_S = self._draw(rng, S, _probabilities(hazard, rates, dt)[None])        # (k, H, M, 5)
        left_S = moves_S[..., 1:].sum(axis=-1)
        new[1:k + 1] = S - left_S
        new[1] += to_S
        new[2:k + 1] += moves_S[:-1, ..., 1]

        # remote workers: stay, back on savings (nu_R), return, W; employed: stay, return, W
        rates_R = np.stack([rhs.nu_R, rhs.lam_R * rhs.stay_out, rhs.lam_R * rhs.q_out], axis=-1)
        moves_R = self._draw(rng, R, _probabilities(rhs.lam_nu_R, rates_R, dt))
        moves_E = self._draw(rng, E, _leaving(rhs.lam_E, rhs.q_out, dt))
        # unemployed: stay, job, return, W
        rates_U = np.stack([f, rhs.lam_U * rhs.stay_out, rhs.lam_U * rhs.q_out], axis=-1)
        moves_U = self._draw(rng, U, _probabilities(f + rhs.lam_U, rates_U, dt))

        new[k + 1] = R - moves_R[..., 1:].sum(axis=-1) + to_R
        new[1] += moves_R[..., 1]
        new[k + 2] = E - moves_E[..., 1:].sum(axis=-1) + moves_S[..., 2].sum(axis=0) + moves_U[..., 1]
        new[k + 3] = U - moves_U[..., 1:].sum(axis=-1) + moves_S[-1, ..., 1]
        new[k + 4] += ret_T + moves_S[..., 3].sum(axis=0) + moves_R[..., 2] + moves_E[..., 1] + moves_U[..., 2]
        new[k + 5] += world + moves_S[..., 4].sum(axis=0) + moves_R[..., 3] + moves_E[..., 2] + moves_U[..., 3]
        new[k + 6] += inflow + direct
        return new, direct


def _probabilities(hazard: np.ndarray, rates: np.ndarray, dt: float) -> np.ndarray:
    """Stay with ``exp(-hazard dt)``, else go to each destination in proportion to its rate; (..., 1 + R)."""
    leave = -np.expm1(-hazard * dt)
    with np.errstate(invalid="ignore", divide="ignore"):
        split = np.where(hazard[..., None] > 0, rates / hazard[..., None], 0.0)
    return np.concatenate([(1.0 - leave)[..., None], leave[..., None] * split], axis=-1)


def _leaving(lam: np.ndarray, q_out: np.ndarray, dt: float) -> np.ndarray:
    """Stay, return to origin, move on to W; (..., 3)."""
    return _probabilities(lam, np.stack([lam * (1.0 - q_out), lam * q_out], axis=-1), dt)

