"""The checks every run passes before anything is reported or written.

A solver can return numbers that look like a result but are not one: a pulse
stepped over loses people, a huge stock overflows to ``inf``, a tiny GDP
makes shares infinite. :func:`check_run` tests docs/model.md's invariants on the
whole batch and raises a :class:`~flowsim.exceptions.IntegrationError` naming the
check, the host and the value when one fails, so such a run never counts as
a success and nothing is written from it. :func:`member_status` gives the
same verdict per member, for batches that flag failed members instead of
raising (``run_batch(..., failures="flag")``).

The checks
----------
* **finite** -- every compartment and economy value is a finite number;
* **non-negative** -- no compartment below ``-NEGATIVE_TOLERANCE`` times the
  member's largest total of people (solver noise is far below that);
* **conservation** -- the people of all hosts (``N + Ret + Out``) equal the
  initial stocks plus the arrivals so far within ``CONSERVATION_TOLERANCE``
  relative (docs/model.md's 1e-6).
"""

from __future__ import annotations

import numpy as np

from ..exceptions import IntegrationError

__all__ = ["CONSERVATION_TOLERANCE", "NEGATIVE_TOLERANCE", "STATUS_OK", "CHECKS", "check_run", "member_status",
           "conservation_errors"]

#: Largest relative conservation error a run may have (docs/model.md).
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


#: Status of a member that kept every invariant, and of one that broke each check (``Result.status``).
STATUS_OK = 0
#: ``{status: check}`` of each invariant, in the order they are tested.
CHECKS = {1: "finite values", 2: "non-negative stocks", 3: "conservation"}


def member_status(states: np.ndarray, layout, hosts, dates, arrived: np.ndarray,
                  economy: np.ndarray | None = None, variables=()) -> tuple[np.ndarray, tuple[str, ...]]:
    """Which members of a run keep docs/model.md's invariants, and why the others do not.

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

    Returns
    -------
    status : ndarray of int, shape (M,)
        :data:`STATUS_OK` (0) for a member that keeps every invariant, else
        the key in :data:`CHECKS` of the first check it fails.
    messages : tuple of str, length M
        ``""`` for a member that keeps them, else what failed: the check, the
        compartment or series, the host, the value, the date and the fix.
    """
    names = layout.names
    M = states.shape[0]
    status = np.zeros(M, dtype=np.int8)
    messages = [""] * M
    bad_states = ~np.isfinite(states)
    bad_econ = ~np.isfinite(economy) if economy is not None else None
    for m in np.flatnonzero(bad_states.any(axis=(1, 2, 3))):
        h, c, d = np.argwhere(bad_states[m])[0]
        status[m] = 1
        messages[m] = (f"run check `finite values` failed: compartment {names[c]} of host {hosts[h]} is "
                       f"{float(states[m, h, c, d])!r} on {dates[d]} (member {m}); allowed: finite numbers. "
                       f"Fix: {_ADVICE}.")
    if bad_econ is not None:
        for m in np.flatnonzero(bad_econ.any(axis=(1, 2, 3)) & (status == STATUS_OK)):
            h, v, d = np.argwhere(bad_econ[m])[0]
            status[m] = 1
            messages[m] = (f"run check `finite values` failed: economy series {variables[v]} of host {hosts[h]} is "
                           f"{float(economy[m, h, v, d])!r} on {dates[d]} (member {m}); allowed: finite numbers. "
                           "Fix: check that host's economy parameters (gdp, w, Hs...) for values that are not "
                           "plausible.")
    with np.errstate(invalid="ignore", over="ignore"):
        total = np.maximum(states[:, :, layout.people].sum(axis=(1, 2)).max(axis=1), 1.0)   # (M,)
        relative = states.min(axis=3) / total[:, None, None]                                # (M, H, C)
        lowest = relative.reshape(M, -1).min(axis=1)
    for m in np.flatnonzero((lowest < -NEGATIVE_TOLERANCE) & (status == STATUS_OK)):
        h, c = np.unravel_index(np.argmin(relative[m]), relative.shape[1:])
        d = int(np.argmin(states[m, h, c]))
        status[m] = 2
        messages[m] = (f"run check `non-negative stocks` failed: compartment {names[c]} of host {hosts[h]} is "
                       f"{states[m, h, c, d]:.6g} people on {dates[d]} (member {m}), {relative[m, h, c]:.2e} of the "
                       f"people; allowed: at least -{NEGATIVE_TOLERANCE:g} of them. Fix: {_ADVICE}.")
    errors = conservation_errors(states, layout, arrived)                                   # (M, D)
    worst = errors.max(axis=1)
    for m in np.flatnonzero(~(worst <= CONSERVATION_TOLERANCE) & (status == STATUS_OK)):
        d = int(np.argmax(errors[m]))
        status[m] = 3
        messages[m] = (f"run check `conservation` failed: the people of all hosts ({', '.join(hosts)}) differ from "
                       f"the initial stocks plus arrivals by {float(worst[m]):.2e} relative on {dates[d]} (member "
                       f"{m}); allowed: at most {CONSERVATION_TOLERANCE:g}. Fix: {_ADVICE}.")
    return status, tuple(messages)


def check_run(states: np.ndarray, layout, hosts, dates, arrived: np.ndarray,
              economy: np.ndarray | None = None, variables=()) -> None:
    """Raise :class:`IntegrationError` if a run breaks an invariant; return None if it keeps them all.

    The checks and parameters are those of :func:`member_status`; the error
    names the first member that fails.
    """
    status, messages = member_status(states, layout, hosts, dates, arrived, economy, variables)
    failed = np.flatnonzero(status != STATUS_OK)
    if failed.size:
        raise IntegrationError(messages[failed[0]])
