"""``flowsim show SCENARIO``: a scenario's story, inputs and parameter table."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "show", help="show a scenario's inputs and parameter table",
        description="Print a scenario: its description, dates, arrival schedules, closures, diversion, initial "
                    "stocks, policies, and every parameter with its value, unit, range, bounds and source.",
    )
    p.add_argument("scenario", help="built-in name (see `flowsim list`) or a .toml / resolved.json file")
    p.add_argument("--host", action="append", metavar="CODE",
                   help="show per-host parameters of this host only (repeatable)")
    p.add_argument("--full-sources", action="store_true", help="print sources whole instead of cut at 60 characters")
    p.set_defaults(func=_cmd_show)


def _cmd_show(args) -> int:
    from .._formatting import scenario_text
    from ..scenario.library import load_scenario

    scenario = load_scenario(args.scenario)
    for host in args.host or ():
        scenario.params.host_index(host)  # unknown host: error with a suggestion
    print(scenario_text(scenario, hosts=args.host, width=None if args.full_sources else 60))
    return 0
