"""Numeric inputs of the right-hand side for a batch of members.

A :class:`ModelBatch` is what the solvers consume: every per-host flow
parameter as an array of shape ``(members, hosts)``, the onward matrix of shape
``(members, hosts, hosts + 1)``, the compiled arrivals (shared by all members)
and the initial state of shape ``(members, hosts, compartments)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..exceptions import ParameterError
from ..scenario.arrivals import CompiledArrivals
from ..scenario.layout import Layout
from ..scenario.specs import FLOW_PARAMETERS

__all__ = ["ModelBatch"]


@dataclass(frozen=True, eq=False)
class ModelBatch:
    """Arrays the right-hand side needs, with a leading member axis.

    Attributes
    ----------
    layout : Layout
        Compartment positions (``k`` is shared by all members).
    hosts : tuple of str
        Host order of the host axis.
    flow : dict of str to ndarray, each (M, H)
        Flow parameters (``tau_T``, ``q_on``, ... ``q_out``).
    P : ndarray, shape (M, H, H + 1)
        Onward shares, last column ``W``.
    arrivals : CompiledArrivals or MemberArrivals
        Direct arrivals ``a_h(t)`` and closures, the same for every member
        (:class:`CompiledArrivals`) or each member's own
        (:class:`~flowsim.model.member_arrivals.MemberArrivals`, rates (H, M)).
    y0 : ndarray, shape (M, H, C)
        Initial state, people.
    regime_starts : tuple of float
        Days from which each parameter regime applies (policies); ``(0.0,)``
        when parameters are constant.
    regime_flows : tuple of dict
        Flow parameters of each regime (the first is :attr:`flow`).
    stages : ndarray (M,) of int, optional
        Each member's own ``k`` when members with different ``k`` share the
        layout of the largest (``layout.k``): a member with ``k`` stages uses
        the last ``k`` savings rows (settlers enter the first of them, the
        last one empties into ``U``), the rows before stay empty. None: every
        member has ``layout.k`` stages.
    """

    layout: Layout
    hosts: tuple[str, ...]
    flow: dict
    P: np.ndarray
    arrivals: CompiledArrivals
    y0: np.ndarray
    regime_starts: tuple = (0.0,)
    regime_flows: tuple = ()
    stages: np.ndarray | None = None

    def regime_at(self, t: float) -> int:
        """Index of the regime in force at time ``t`` (days)."""
        return int(np.searchsorted(self.regime_starts, t, side="right") - 1)

    def flow_at(self, t: float) -> dict:
        """Flow parameters in force at time ``t``."""
        return self.regime_flows[self.regime_at(t)] if self.regime_flows else self.flow

    @property
    def n_members(self) -> int:
        return self.y0.shape[0]

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(members, hosts, compartments)``."""
        return self.y0.shape

    def select(self, members) -> ModelBatch:
        """The sub-batch of some members (indices into the member axis)."""
        idx = np.asarray(members, dtype=int)

        def sub(flow):
            return {n: np.asarray(v)[idx] for n, v in flow.items()}

        return replace(self, flow=sub(self.flow), P=np.asarray(self.P)[idx], y0=self.y0[idx],
                       arrivals=self.arrivals.select(idx),
                       regime_flows=tuple(sub(f) for f in self.regime_flows),
                       stages=None if self.stages is None else self.stages[idx])

    @classmethod
    def from_arrays(cls, *, k: int, hosts, regime_starts, regime_flows, P, arrivals: CompiledArrivals,
                    y0, stages=None) -> ModelBatch:
        """A batch from member-stacked arrays (built by :meth:`flowsim.simulate.MemberInputs.batch`).

        Parameters
        ----------
        k : int
            Erlang stages, shared by every member.
        hosts : tuple of str
            Host order.
        regime_starts : sequence of float
            First day of each parameter regime (``0.0`` first).
        regime_flows : sequence of dict
            Flow parameters of each regime, ``name -> ndarray (M, H)``.
        P : ndarray, shape (M, H, H + 1) or (H, H + 1)
            Onward shares (broadcast over members when 2-D).
        arrivals : CompiledArrivals
            Compiled direct arrivals.
        y0 : ndarray, shape (H, C) or (M, H, C)
            Initial stocks, people.
        stages : array_like (M,) of int, optional
            Each member's ``k`` (<= ``k``, which then sets the layout).
        """
        flows = tuple({n: np.asarray(f[n], float) for n in FLOW_PARAMETERS} for f in regime_flows)
        n_members = flows[0]["tau_T"].shape[0]
        layout = Layout(int(k))
        P = np.broadcast_to(np.asarray(P, float), (n_members, len(hosts), len(hosts) + 1))
        y0 = np.broadcast_to(np.asarray(y0, float), (n_members, len(hosts), layout.size)).copy()
        if stages is not None:
            stages = np.asarray(stages, dtype=int)
            if stages.shape != (n_members,) or stages.min() < 1 or stages.max() > layout.k:
                raise ParameterError(f"stages must be {n_members} whole numbers in [1, {layout.k}]; got {stages!r}.")
            if np.all(stages == layout.k):
                stages = None
            else:
                y0 = _shift_savings(y0, stages, layout)
        return cls(layout=layout, hosts=tuple(hosts), flow=flows[0], P=P, arrivals=arrivals, y0=y0,
                   regime_starts=tuple(float(t) for t in regime_starts), regime_flows=flows, stages=stages)


def _shift_savings(y0: np.ndarray, stages: np.ndarray, layout: Layout) -> np.ndarray:
    """Move each member's initial savings stocks ``S1..Sk`` to the last ``k`` savings rows of the layout."""
    K = layout.k
    S = y0[:, :, layout.S]                                            # (M, H, K) as given: stage i in row i
    for m in np.flatnonzero(stages < K):
        k = stages[m]
        if np.any(S[m, :, k:]):
            raise ParameterError(f"member {m}: initial savings stocks beyond stage {k} (its k); give them as `S`.")
        y0[m, :, layout.S] = np.concatenate([np.zeros((S.shape[1], K - k)), S[m, :, :k]], axis=1)
    return y0
