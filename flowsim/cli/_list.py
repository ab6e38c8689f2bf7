"""``flowsim list``: the built-in scenarios, one line each."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("list", help="list the built-in scenarios",
                       description="List the built-in scenarios, one line each.")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..scenario.library import list_scenarios

    for name, summary in list_scenarios().items():
        print(f"{name:28s} {summary}")
    return 0
