"""SIGINT, SIGTERM and SIGHUP end a command cleanly, and never in the middle of moving outputs into place.

:func:`handle_signals` (used by the ``flowsim`` command) turns each of the
three signals into an :class:`Interrupted` exception, a
:class:`KeyboardInterrupt`, so a ``kill`` or a closed terminal unwinds the
command like Ctrl-C: every ``with`` block cleans up (the stage folder is
removed, the output folder's lock released) and nothing half-written stays.
Inside :func:`deferred` a signal is only noted, and raised when the block
ends, so that moving a run's outputs into place is not cut in two.
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["Interrupted", "HANDLED", "handle_signals", "deferred", "signal_name", "mark_written"]

#: The signals :func:`handle_signals` turns into :class:`Interrupted` (SIGHUP where the platform has it).
HANDLED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

_state = threading.local()


def signal_name(signum: int) -> str:
    """``"SIGTERM"`` for 15, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(KeyboardInterrupt):
    """A command was stopped by a signal (SIGINT, SIGTERM or SIGHUP).

    Parameters
    ----------
    signum : int
        The signal; the command exits with status ``128 + signum``.
    note : str, optional
        What had been done when it arrived (e.g. outputs already moved into place); by default what
        :func:`mark_written` recorded; None: nothing written.
    """

    def __init__(self, signum: int, note: str | None = None):
        super().__init__(signal_name(signum))
        self.signum = signum
        self.note = note if note is not None else getattr(_state, "written", None)


def mark_written(note: str | None) -> None:
    """Record that outputs are in place (``note`` says where), so a later signal does not say "nothing written"."""
    _state.written = note


def _depth() -> int:
    return getattr(_state, "depth", 0)


def _handler(signum, frame):
    if _depth() > 0:
        if getattr(_state, "pending", None) is None:
            _state.pending = signum
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def handle_signals():
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Interrupted` inside the block (main thread only).

    A signal that is ignored when the block starts stays ignored (``nohup``
    ignores SIGHUP, a shell ignores SIGINT in background jobs). The previous
    handlers are put back afterwards. Outside the main thread (where Python
    cannot set handlers) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    _state.written = None
    try:
        for signum in HANDLED:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, _handler)
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def deferred(note: str | None = None):
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, then raise :class:`Interrupted` for the first.

    Parameters
    ----------
    note : str, optional
        Carried by the exception raised at the end of the block if a signal
        arrived (e.g. "the outputs were written to out/").

    Blocks nest; the signal is raised when the outermost one ends without an
    exception of its own.
    """
    _state.depth = _depth() + 1
    ok = False
    try:
        yield
        ok = True
    finally:
        _state.depth -= 1
        if _state.depth == 0:
            pending, _state.pending = getattr(_state, "pending", None), None
            if pending is not None and ok:
                raise Interrupted(pending, note)
