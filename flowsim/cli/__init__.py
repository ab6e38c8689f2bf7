"""Command line interface of flowsim.

Each command lives in its own module ``flowsim/cli/_<name>.py`` that defines
``register(subparsers)``; adding a command means adding a module and one entry
in :data:`COMMANDS`. Errors in user input print one line
``flowsim: error: ...`` to standard error and exit with status 2; nothing is
written. Warnings of flowsim (:class:`~flowsim.FlowsimWarning`: valid input
that does something unexpected, and deprecations) print one line
``flowsim: warning: ...`` each. SIGINT, SIGTERM and SIGHUP stop a command cleanly (see
:mod:`flowsim._signals`): one line on standard error, exit status ``128 +
signal``, and nothing half-written (the stage folder is removed, the output
folder's lock released).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import warnings

from .._signals import handle_signals, signal_name
from .._version import __version__
from ..exceptions import FlowsimDeprecationWarning, FlowsimError, FlowsimWarning

__all__ = ["main", "build_parser", "COMMANDS"]

#: Command modules (inside this package), in the order ``--help`` lists them.
COMMANDS = ("_run", "_list", "_show", "_compare", "_init", "_sweep", "_sensitivity", "_calibrate", "_validate",
            "_backtest")


def build_parser() -> argparse.ArgumentParser:
    """The ``flowsim`` argument parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="flowsim",
        description="Simulate migration flows between countries and their effect on host economies.",
    )
    parser.add_argument("--version", action="version", version=f"flowsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``flowsim`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _call(args)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """flowsim's own warnings as one line ``flowsim: warning: ...``; others as Python shows them."""
    if issubclass(category, (FlowsimWarning, FlowsimDeprecationWarning)):
        print(f"flowsim: warning: {message}", file=sys.stderr if file is None else file)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line), end="",
              file=sys.stderr if file is None else file)


def _call(args) -> int:
    try:
        with handle_signals():
            status = args.func(args)
            sys.stdout.flush()               # a closed pipe shows here, not at exit
            return status
    except FlowsimError as exc:
        print(f"flowsim: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("flowsim: error: out of memory: this run needs more memory than the machine has. Fix: fewer "
              "members (--n), a smaller --chunk-size or a shorter horizon_days.", file=sys.stderr)
        return 2
    except BrokenPipeError:                  # `flowsim show ... | head`: the reader left; say nothing more
        _silence_stdout()
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt as exc:         # Ctrl-C, or SIGTERM / SIGHUP turned into flowsim._signals.Interrupted
        signum = getattr(exc, "signum", signal.SIGINT)
        note = getattr(exc, "note", None)
        _say(f"flowsim: interrupted by {signal_name(signum)}; " + (f"{note}." if note else "nothing written."))
        return 128 + signum


def _silence_stdout() -> None:
    """Point standard output at the null device, so that Python's final flush does not fail again.

    As the Python documentation advises for SIGPIPE: a pipe whose reader
    closed (``| head``) ends the command quietly, with status ``128 +
    SIGPIPE``, as a C program killed by the signal would.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _say(line: str) -> None:
    """Print ``line`` to standard error; a terminal that hung up (SIGHUP) cannot show it."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
