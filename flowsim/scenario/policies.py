"""Policies: per-host parameters that change value from a given date on.

A :class:`Policy` sets one per-host parameter of one host, from ``start`` on,
either to an absolute ``value`` or to ``factor`` times the value the scenario
(or an ensemble member) starts with. Policies turn a scenario's parameters into
piecewise-constant *regimes*: the solver restarts at each change date, so the
trajectory before the first change is exactly the one without the policy.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass

from .._validation import check_finite_number, to_date
from ..exceptions import ParameterError
from .specs import spec

__all__ = ["Policy"]


@dataclass(frozen=True, kw_only=True)
class Policy:
    """A per-host parameter that takes a new value from ``start`` on.

    Parameters
    ----------
    parameter : str
        A per-host docs/model.md parameter (``f0``, ``rho``, ``K``, ``b_U``...);
        not ``k``, ``r`` or ``P``.
    host : str
        Host code.
    start : date or str
        First day of the new value (from 00:00). A start on or before the
        scenario's start applies from day 0.
    value : float, optional
        The new value, in the parameter's unit.
    factor : float, optional
        Alternatively, a multiple (>= 0) of the value at the scenario's start
        (each member's own value in an ensemble). Give exactly one of
        ``value`` and ``factor``.
    source : str, optional
        Why: a citation or ``assumption: reason`` (shown by ``flowsim show``).

    Examples
    --------
    >>> from flowsim import Policy
    >>> Policy(parameter="f0", host="KAZ", start="2023-01-01", factor=2.0)
    Policy(parameter='f0', host='KAZ', start=datetime.date(2023, 1, 1), value=None, factor=2.0, source='')
    """

    parameter: str
    host: str
    start: _dt.date
    value: float | None = None
    factor: float | None = None
    source: str = ""

    def __post_init__(self):
        sp = spec(self.parameter)
        if sp.scope != "host":
            raise ParameterError(
                f"policy on `{self.parameter}`: only per-host parameters can change over time "
                f"(`{self.parameter}` is global)."
            )
        object.__setattr__(self, "start", to_date(self.start, f"policy on `{self.parameter}`: start", ParameterError))
        if (self.value is None) == (self.factor is None):
            raise ParameterError(
                f"policy on `{self.parameter}` for host {self.host}: give exactly one of `value` and `factor`."
            )
        what = f"policy on `{self.parameter}` for host {self.host} from {self.start}"
        if self.value is not None:
            object.__setattr__(self, "value", check_finite_number(self.value, f"{what}: value", ParameterError))
        else:
            f = check_finite_number(self.factor, f"{what}: factor", ParameterError)
            if f < 0 or math.isinf(f):
                raise ParameterError(f"{what}: factor must be in [0, inf); got {f:g}.")
            object.__setattr__(self, "factor", f)
        if not isinstance(self.source, str):
            raise ParameterError(f"{what}: source must be text; got {self.source!r}.")

    def new_value(self, base: float) -> float:
        """The value from ``start`` on, given the value ``base`` at the scenario's start."""
        return self.value if self.value is not None else self.factor * base

    def to_dict(self) -> dict:
        out = {"parameter": self.parameter, "host": self.host, "start": self.start.isoformat()}
        if self.value is not None:
            out["value"] = self.value
        else:
            out["factor"] = self.factor
        if self.source:
            out["source"] = self.source
        return out

    def describe(self) -> str:
        """One line: ``f0 for KAZ from 2023-01-01: x 2`` (or ``= 0.02``)."""
        change = f"= {self.value:g}" if self.value is not None else f"x {self.factor:g}"
        return f"{self.parameter} for {self.host} from {self.start}: {change}"
