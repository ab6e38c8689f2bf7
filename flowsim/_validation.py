"""Shared validation helpers used at the boundary (scenario construction).

The inner loop (right-hand side, solver) trusts what passed through here.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math

import numpy as np

from .exceptions import FlowsimError

__all__ = ["check_finite_number", "check_in_bounds", "check_whole_number", "to_date", "format_bounds",
           "did_you_mean", "check_header"]


def format_bounds(lower: float, upper: float, lower_open: bool, upper_open: bool) -> str:
    """Render an interval such as ``(0, inf)`` or ``[0, 1]``."""
    lo = "(" if lower_open else "["
    hi = ")" if upper_open else "]"
    return f"{lo}{_fmt(lower)}, {_fmt(upper)}{hi}"


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def check_finite_number(value, what: str, error=FlowsimError) -> float:
    """Return ``value`` as a float, refusing non-numbers, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise error(f"{what} must be a number; got {value!r} of type {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise error(f"{what} must be a finite number; got {value}.")
    return value


def check_in_bounds(
    value: float,
    what: str,
    lower: float,
    upper: float,
    *,
    lower_open: bool = False,
    upper_open: bool = False,
    error=FlowsimError,
) -> float:
    """Check ``lower <= value <= upper`` (open ends excluded); return the value."""
    value = check_finite_number(value, what, error)
    too_low = value <= lower if lower_open else value < lower
    too_high = value >= upper if upper_open else value > upper
    if too_low or too_high:
        raise error(
            f"{what} must be in {format_bounds(lower, upper, lower_open, upper_open)}; got {value:g}."
        )
    return value


def check_whole_number(value, what: str, low: int, high: int | None = None, *, why: str = "",
                       error=FlowsimError) -> int:
    """Return ``value`` as an int, refusing non-integers (bools included) and values outside ``[low, high]``.

    ``why`` is added after the allowed range in the message (e.g. the reason for ``low``).
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or \
            (high is not None and value > high):
        allowed = f"a whole number >= {low}" if high is None else f"a whole number in [{low}, {high}]"
        raise error(f"{what} must be {allowed}{why}; got {value!r}.")
    return int(value)


def check_seed(seed, what: str = "seed", error=FlowsimError):
    """Return ``seed`` if it can seed numpy's generators: None, a whole number >= 0, or a SeedSequence/Generator.

    numpy refuses negative seeds from deep inside; this says so in the template.
    """
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise error(f"{what} must be a whole number >= 0 (or None for a fresh one); got {seed!r}. "
                    "Fix: use e.g. 1, or leave it out.")
    return int(seed)


def to_date(value, what: str, error=FlowsimError) -> _dt.date:
    """Convert an ISO string or a date/datetime to :class:`datetime.date`."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, np.datetime64):
        return _dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise error(f"{what} must be a date such as '2022-09-21'; got {value!r}.")


def check_header(header, where: str, error=FlowsimError) -> None:
    """Refuse a CSV header that names a column twice (the reader would silently keep the last one)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen:
            raise error(f"{where}, line 1: column {name!r} appears twice (columns {seen[name]} and {i}); a reader "
                        "would keep only the last one. Fix: rename or remove one of them.")
        seen[name] = i


def did_you_mean(name, choices) -> str:
    """`` Did you mean 'x'?`` for the closest of ``choices`` to ``name``, or ``""``.

    Case-insensitive, so ``kaz`` suggests ``KAZ`` and ``fo`` suggests ``f0``.
    A name one typo away (a wrong, missing or extra letter, or two letters
    swapped: ``KZA`` -> ``KAZ``) wins; otherwise the closest by
    :func:`difflib.get_close_matches`.
    """
    choices = [str(c) for c in choices]
    lowered = {c.lower(): c for c in choices}
    key = str(name).lower()
    near = sorted((_edit_distance(key, c), -difflib.SequenceMatcher(None, key, c).ratio(), c) for c in lowered)
    if near and near[0][0] <= max(1, len(key) // 4):
        return f" Did you mean {lowered[near[0][2]]!r}?"
    hit = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.5)
    return f" Did you mean {lowered[hit[0]]!r}?" if hit else ""


def _edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) turning ``a`` into ``b``."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]
