"""Key paths and errors of scenario files: where a value came from, and how to say so.

An :class:`Origin` knows a file's name, how to find the line of a key path
(TOML files) and how to print the path; :class:`Reader` checks types and keys
and raises errors that start with ``file, line N, key a.b[0].c:``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .._validation import did_you_mean
from ..exceptions import FlowsimError, ScenarioError
from ..hosts import unknown_host_message

__all__ = ["Origin", "Reader", "display_path"]


def display_path(path: tuple) -> str:
    """A key path as text: ``("arrivals", "KAZ", 0, "total")`` -> ``arrivals.KAZ[0].total``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class Origin:
    """Where a mapping came from, to say so in errors.

    Parameters
    ----------
    name : str
        File name shown in messages.
    line_of : callable, optional
        ``path -> line number or None`` (TOML files know their lines).
    display : callable, optional
        ``path -> text`` of a key path (default ``parameters.KAZ.f0``,
        ``arrivals.KAZ[0].total``).
    """

    name: str
    line_of: Callable[[tuple], int | None] = field(default=lambda path: None)
    display: Callable[[tuple], str] = field(default=display_path)

    def error(self, path: tuple, message: str, cls=ScenarioError) -> FlowsimError:
        """An error of class ``cls`` prefixed with the file, line and key."""
        where = self.name
        line = self.line_of(path) if path else None
        if line:
            where += f", line {line}"
        if path:
            where += f", key {self.display(path)}"
        return cls(f"{where}: {message}")


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, _dt.date):
        return "a date"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


class Reader:
    """Type and key checks with the origin's error format."""

    def __init__(self, origin: Origin):
        self.origin = origin

    def fail(self, path, message, cls=ScenarioError):
        raise self.origin.error(path, message, cls)

    def wrong(self, path, want, value):
        self.fail(path, f"must be {want}; got {value!r} ({_kind(value)}).")

    def table(self, value, path, want="a table") -> Mapping:
        if not isinstance(value, Mapping):
            self.wrong(path, want, value)
        return value

    def keys(self, table, allowed, path, what):
        for key in table:
            if key not in allowed:
                fix = did_you_mean(str(key), allowed)
                self.fail((*path, key), f"unknown {what} {key!r}; allowed: {', '.join(allowed)}.{fix}")

    def text(self, value, path) -> str:
        if not isinstance(value, str):
            self.wrong(path, "text", value)
        return value

    def date(self, value, path) -> _dt.date:
        if isinstance(value, _dt.datetime):
            self.wrong(path, "a date such as 2022-09-21 (no time of day)", value)
        if isinstance(value, _dt.date):
            return value
        if isinstance(value, str):
            try:
                return _dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.wrong(path, "a date such as 2022-09-21", value)

    def number(self, value, path, what="a number") -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong(path, what, value)
        return float(value)

    def array(self, value, path, want="an array") -> list:
        if not isinstance(value, list | tuple):
            self.wrong(path, want, value)
        return list(value)

    def host(self, code, hosts, path):
        if code not in hosts:
            self.fail(path, unknown_host_message(code, hosts, what="this scenario", hint="A new host is defined in "
                                                 "a [host.CODE] table and listed in `hosts`."))
        return code

    def wrapped(self, path, build, *args, **kwargs):
        """Call ``build``; re-raise a flowsim error with the file and key in front."""
        try:
            return build(*args, **kwargs)
        except FlowsimError as exc:
            raise self.origin.error(path, str(exc), type(exc)) from None
