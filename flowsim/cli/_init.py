"""``flowsim init FILE``: write a commented scenario template that runs as it is."""

from __future__ import annotations

import contextlib
import glob
from importlib import resources
from pathlib import Path

from ..exceptions import OutputError, ScenarioError

# The scenario layer (and numpy under it) is imported inside the functions below, not here: `flowsim --help`
# imports every command module to register it, and must stay light (issue 13; tests/test_lazy_imports.py).

TEMPLATE = "scenario_template.toml"


def register(sub) -> None:
    p = sub.add_parser(
        "init", help="write a commented scenario template (TOML)",
        description="Write a commented TOML scenario file that starts from a built-in scenario and runs as it "
                    "is; every section it can change is shown, commented out. Refuses to overwrite a file "
                    "unless --force. See docs/scenarios.md.",
    )
    p.add_argument("file", help="the file to write, e.g. my.toml")
    p.add_argument("--base", default="kazakhstan-2022", metavar="SCENARIO",
                   help="built-in scenario to start from (default kazakhstan-2022; see `flowsim list`)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    new = p.add_argument_group("a new event (no base: your own origin, start and hosts)")
    new.add_argument("--origin", default=None, metavar="COUNTRY",
                     help="the country people leave, e.g. Ukraine (starts a new event instead of --base)")
    new.add_argument("--start", default=None, metavar="DATE", help="day 0 of the new event, YYYY-MM-DD")
    new.add_argument("--hosts", default=None, metavar="CODES",
                     help="host codes of the new event, comma-separated, e.g. POL,CZE (three capital letters; "
                          "reference hosts such as KAZ take their built-in values)")
    p.set_defaults(func=_cmd_init)


def template_text(path: Path, base: str) -> str:
    """The template for ``path`` starting from built-in ``base``."""
    text = resources.files("flowsim.data").joinpath(TEMPLATE).read_text(encoding="utf-8")
    return text.format(name=path.stem, filename=path.name, base=base)


def _cmd_init(args) -> int:
    from .._atomic import atomic_write_text
    from ..hosts import DEFAULT_ORIGIN
    from ..scenario.files import scenario_from_toml
    from ..scenario.library import load_scenario

    path = Path(args.file)
    new_event = any(v is not None for v in (args.origin, args.start, args.hosts))
    if path.suffix != ".toml":
        raise OutputError(f"{path}: a scenario file must end in .toml.")
    if path.exists() and not args.force:
        raise OutputError(f"{path}: exists; pass --force to overwrite it.")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it first.")
    if new_event:
        text = new_event_text(path, args.origin, args.start, args.hosts)
    else:
        load_scenario(args.base)  # an unknown base fails here, before anything is written
        text = template_text(path, args.base)
    scenario_from_toml(text, origin=str(path), base_dir=path.parent, default_name=path.stem)  # it must run
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):     # left by a killed `flowsim init`
        with contextlib.suppress(OSError):
            stale.unlink()
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror}).") from None
    what = f"a new event from {args.origin or DEFAULT_ORIGIN}" if new_event else f"base {args.base}"
    print(f"wrote {path} ({what}); run it with: python -m flowsim run {path} --out out/{path.stem}")
    return 0


#: Where a value of each per-host parameter could come from (the new-event template's comments).
WHERE_FROM = {
    "tau_T": "border exits vs entries in the first days; transit or registration statistics",
    "q_on": "onward crossings into other hosts / all who leave transit",
    "q_ret": "crossings back to the origin in the first weeks / entries",
    "rho": "surveys: share keeping a job or income from the origin (remote work)",
    "tau_S": "savings or support runway: surveys, benefit rules (months x 30.4)",
    "f0": "job-finding: employed registered over time / those looking",
    "phi_S": "how hard those on savings look for work, relative to the unemployed (assumption)",
    "K": "jobs open to newcomers: vacancies, permit quotas",
    "lam_S": "leaving rate of savers: 1 / mean stay (stocks over time)",
    "lam_R": "leaving rate of remote workers: 1 / mean stay",
    "lam_E": "leaving rate of the employed: 1 / mean stay",
    "lam_U": "leaving rate of the unemployed: 1 / mean stay",
    "q_out": "share of settled leavers going elsewhere rather than home",
    "nu_R": "rate at which remote incomes are lost: surveys of remote work over time",
    "c_T": "daily spending in transit: hotels, travel (card data, surveys)",
    "c_S": "daily spending out of savings or support (money brought in / people)",
    "c_R": "daily spending out of a foreign income",
    "m": "value added per USD spent: import leakage (input-output tables)",
    "w": "average daily wage: statistics office (monthly / 30.4), in USD",
    "pi": "newcomers' productivity relative to the average wage (wage surveys)",
    "delta": "share of newcomers' jobs displacing a local (labour-market studies)",
    "g_pub": "public services per person per day: budget per capita",
    "b_U": "support per unemployed newcomer per day: benefit rules",
    "rd": "rent of a rented main-city dwelling per day before the arrivals (listings / 30.4)",
    "Hs": "rented dwellings in the main cities (census, housing statistics)",
    "hR": "rented main-city dwellings per newcomer: share in the main cities / people per dwelling",
    "eps": "relative rent rise per rise in the newcomers' share of rented dwellings (rent indices)",
    "tau_c": "effective indirect taxes per USD spent: VAT rate x C-efficiency",
    "tau_w": "taxes and contributions per USD of wage: tax wedge x compliance",
    "tax_R": "taxes a remote worker pays per day: special regimes x registration",
    "gdp": "annual GDP, USD (World Bank WDI)",
    "transfer_share": "share of the excess money transfers the newcomers' spending explains (assumption; fit it)",
}


def new_event_text(path: Path, origin, start, hosts) -> str:
    """A scenario file for a new event: no base; its origin, start and hosts; every parameter a new host needs."""
    from .._validation import to_date
    from ..hosts import COUNTRY_NAMES, DEFAULT_ORIGIN, REFERENCE_HOSTS, check_host_codes
    from ..scenario.specs import PARAMETER_SPECS

    origin = origin or DEFAULT_ORIGIN
    if not origin.strip() or '"' in origin:
        raise ScenarioError(f"--origin must be a country's name; got {origin!r}.")
    day0 = to_date(start or "2022-09-21", "--start", ScenarioError)
    codes = [c.strip() for c in (hosts or "").split(",") if c.strip()]
    if not codes:
        raise ScenarioError("--hosts: give the host codes, comma-separated, e.g. --hosts POL,CZE.")
    codes = check_host_codes(codes, where="--hosts")
    new = [c for c in codes if c not in REFERENCE_HOSTS]
    lines = [
        "# A flowsim scenario file (TOML) for a new event. Run it with",
        f"#     python -m flowsim run {path.name} --out out/{path.stem}",
        "# Schema and worked examples: docs/scenarios.md; a whole event from data: docs/your-own-event.md.",
        "# It runs as it is: each new host starts from a reference host's values (`like`), so replace them",
        "# with values for your hosts, each with a source or 'assumption: reason'.",
        "",
        f'name = "{path.stem}"',
        f'summary = "People leaving {origin} from {day0.isoformat()} into {", ".join(codes)}."',
        'description = """',
        "What this scenario asks and where its numbers come from.",
        '"""',
        f'origin = "{origin}"',
        f"start = {day0.isoformat()}",
        "# horizon_days = 1826         # days after the start (default 5 years)",
        f"hosts = [{', '.join(repr(c).replace(chr(39), chr(34)) for c in codes)}]",
        "",
    ]
    for code in new:
        lines += [
            f"[host.{code}]",
            f'name = "{COUNTRY_NAMES.get(code, code)}"        # display name in figures and tables',
            'like = "KAZ"                # start from these values; remove it to give every parameter below',
            '# onward = { W = 1.0 }      # where onward movers go: hosts of this file and W, summing to 1',
            "",
            f"[parameters.{code}]",
            "# Every per-host parameter (needed when `like` is removed). value  # unit, hard bounds: where from",
        ]
        for name, sp in PARAMETER_SPECS.items():
            if sp.scope != "host":
                continue
            lines.append(f"# {name} = {{ value = ..., low = ..., high = ..., source = \"...\" }}"
                         f"   # {sp.unit}, {sp.bounds_text}: {WHERE_FROM.get(name, sp.description)}")
        lines.append("")
    lines += [
        "# ------------------------------------------------------------------ arrivals",
        "# Direct arrivals from the origin (people/day), e.g. daily counts from border data:",
    ]
    for code in codes:
        lines += [
            f"# [[arrivals.{code}]]",
            '# type = "daily_counts"      # people entering on each day from `start`',
            f"# start = {day0.isoformat()}",
            "# counts = [1200, 3400, 5100]",
            "",
        ]
    lines += [
        "# Or a pulse: type = \"pulse\", total = 50000, shape = 2, scale_days = 5.",
        "# Global parameters (k, r, D_x) and closures, diversion, initial stocks and policies: as in",
        "# `python -m flowsim init other.toml` (a template from a built-in scenario) and docs/scenarios.md.",
        "",
    ]
    return "\n".join(lines)
