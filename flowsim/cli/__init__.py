"""Command line interface of flowsim.

Each command lives in its own module ``flowsim/cli/_<name>.py`` that defines
``register(subparsers)``; adding a command means adding a module and one entry
in :data:`COMMANDS`. Errors in user input print one line
``flowsim: error: ...`` to standard error and exit with status 2; nothing is
written.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .._version import __version__
from ..exceptions import FlowsimError

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
    try:
        return args.func(args)
    except FlowsimError as exc:
        print(f"flowsim: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("flowsim: error: out of memory: this run needs more memory than the machine has. Fix: fewer "
              "members (--n), a smaller --chunk-size or a shorter horizon_days.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover - interactive
        print("flowsim: interrupted; nothing written.", file=sys.stderr)
        return 130
