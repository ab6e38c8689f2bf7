"""The checks every run passes before anything is reported or written.

A solver can return numbers that look like a result but are not one: a pulse
stepped over loses people, a huge stock overflows to ``inf``, a tiny GDP
makes shares infinite. :func:`check_run` tests MODEL.md's invariants on the
whole batch and raises a :class:`~flowsim.exceptions.SolverError` naming the
check, the host and the value when one fails, so such a run never counts as
a success and nothing is written from it.

The checks
----------
* **finite** -- every compartment and economy value is a finite number;
* **non-negative** -- no compartment below ``-NEGATIVE_TOLERANCE`` times the
  member's largest total of people (solver noise is far below that);
* **conservation** -- the people of all hosts (``N + Ret + Out``) equal the
  initial stocks plus the arrivals so far within ``CONSERVATION_TOLERANCE``
  relative (MODEL.md's 1e-6).
"""

from __future__ import annotations

import numpy as np

from ..exceptions import SolverError

__all__ = ["CONSERVATION_TOLERANCE", "NEGATIVE_TOLERANCE", "check_run", "conservation_errors"]

#: Largest relative conservation error a run may have (MODEL.md).
CONSERVATION_TOLERANCE = 1e-6

#: Most negative compartment allowed, as a share of the member's total people (solver noise).
NEGATIVE_TOLERANCE = 1e-9

_ADVICE = ("check the inputs for extreme values (stocks, totals, GDP, rates); a tighter --rtol or "
           "method='LSODA' may help if the inputs are right")


def conservation_errors(states: np.ndarray, layout, arrived: np.ndarray) -> np.ndarray:
    """Relative conservation error per member and day, shape (M, D).

    ``states`` is (M, H, C, D); ``arrived`` (M or 1, D, H) the direct arrivals
    since the start. The error is ``|people - expected| / max(expected, 1)``.
    """
    people = states[:, :, layout.people].sum(axis=(1, 2))       # (M, D)
    expected = people[:, :1] + arrived.sum(axis=2)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.abs(people - expected) / np.maximum(expected, 1.0)


def check_run(states: np.ndarray, layout, hosts, dates, arrived: np.ndarray,
              economy: np.ndarray | None = None, variables=()) -> None:
    """Raise :class:`SolverError` if a run breaks an invariant; return None if it keeps them all.

    Parameters
    ----------
    states : ndarray, shape (M, H, C, D)
        People per member, host, compartment and day.
    layout : Layout
        Compartment positions.
    hosts : sequence of str
        Host codes, for messages.
    dates : sequence of date
        Output dates (length D), for messages.
    arrived : ndarray, shape (M or 1, D, H)
        Direct arrivals since the start, people.
    economy : ndarray, shape (M, H, V, D), optional
        Economy series, checked for finite values.
    variables : sequence of str
        Names of the economy variables (length V).
    """
    names = layout.names
    bad = ~np.isfinite(states)
    if bad.any():
        m, h, c, d = np.argwhere(bad)[0]
        raise SolverError(
            f"run check `finite values` failed: compartment {names[c]} of host {hosts[h]} is "
            f"{float(states[m, h, c, d])!r} on {dates[d]} (member {m}); allowed: finite numbers. "
            f"Fix: {_ADVICE}."
        )
    if economy is not None:
        bad = ~np.isfinite(economy)
        if bad.any():
            m, h, v, d = np.argwhere(bad)[0]
            raise SolverError(
                f"run check `finite values` failed: economy series {variables[v]} of host {hosts[h]} is "
                f"{float(economy[m, h, v, d])!r} on {dates[d]} (member {m}); allowed: finite numbers. "
                f"Fix: check that host's economy parameters (gdp, w, Hs...) for values that are not plausible."
            )
    total = np.maximum(states[:, :, layout.people].sum(axis=(1, 2)).max(axis=1), 1.0)   # (M,)
    relative = states.min(axis=3) / total[:, None, None]                                # (M, H, C)
    if relative.min() < -NEGATIVE_TOLERANCE:
        m, h, c = np.unravel_index(np.argmin(relative), relative.shape)
        d = int(np.argmin(states[m, h, c]))
        raise SolverError(
            f"run check `non-negative stocks` failed: compartment {names[c]} of host {hosts[h]} is "
            f"{states[m, h, c, d]:.6g} people on {dates[d]} (member {m}), {relative[m, h, c]:.2e} of the "
            f"people; allowed: at least -{NEGATIVE_TOLERANCE:g} of them. Fix: {_ADVICE}."
        )
    errors = conservation_errors(states, layout, arrived)
    worst = float(errors.max())
    if not worst <= CONSERVATION_TOLERANCE:
        m, d = np.unravel_index(np.argmax(errors), errors.shape)
        raise SolverError(
            f"run check `conservation` failed: the people of all hosts ({', '.join(hosts)}) differ from "
            f"the initial stocks plus arrivals by {worst:.2e} relative on {dates[d]} (member {m}); allowed: "
            f"at most {CONSERVATION_TOLERANCE:g}. Fix: {_ADVICE}."
        )
