"""Compartment layout of the reference model (docs/model.md, "Compartments of host h")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

__all__ = ["Layout"]


@dataclass(frozen=True)
class Layout:
    """Positions of the compartments along the state's last axis.

    The order is ``T, S1..Sk, R, E, U, Ret, Out, In``. ``N`` (present
    population) is ``T + sum(S) + R + E + U``; the people of docs/model.md's
    conservation law are ``N + Ret + Out``. ``In`` is an extra counter, not
    people: the cumulative entries into the host (direct arrivals plus onward
    movers from other hosts), the flow that border counts observe. It feeds
    back into nothing, so the docs/model.md equations are unchanged.

    Parameters
    ----------
    k : int
        Number of Erlang stages of the savings runway (>= 1).

    Examples
    --------
    >>> Layout(3).names
    ('T', 'S1', 'S2', 'S3', 'R', 'E', 'U', 'Ret', 'Out', 'In')
    """

    k: int

    @property
    def T(self) -> int:
        return 0

    @property
    def S(self) -> slice:
        return slice(1, self.k + 1)

    @property
    def R(self) -> int:
        return self.k + 1

    @property
    def E(self) -> int:
        return self.k + 2

    @property
    def U(self) -> int:
        return self.k + 3

    @property
    def RET(self) -> int:
        return self.k + 4

    @property
    def OUT(self) -> int:
        return self.k + 5

    @property
    def IN(self) -> int:
        return self.k + 6

    @property
    def size(self) -> int:
        """Number of state entries per host (``k + 7``)."""
        return self.k + 7

    @cached_property
    def names(self) -> tuple[str, ...]:
        return ("T", *[f"S{i}" for i in range(1, self.k + 1)], "R", "E", "U", "Ret", "Out", "In")

    @property
    def people(self) -> slice:
        """Slice of the entries that are people (everything but the ``In`` counter)."""
        return slice(0, self.k + 6)

    @property
    def present(self) -> slice:
        """Slice of the compartments counted in ``N`` (T, S1..Sk, R, E, U)."""
        return slice(0, self.k + 4)

    def index(self, name: str) -> int:
        """Position of compartment ``name`` (``"S"`` means stage 1)."""
        if name == "S":
            return 1
        return self.names.index(name)
