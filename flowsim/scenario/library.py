"""Built-in scenarios, registered by name.

The seed scenario ``kazakhstan-2022`` is built here in Python from the shipped
reference parameters and data files (``docs/model.md``, ``docs/parameters.md``).
Every other built-in is a TOML scenario file in ``flowsim/data/scenarios/``
(``docs/scenarios.md`` tells their stories), registered under its file name.
"""

from __future__ import annotations

import datetime as _dt
import os
import tomllib
from functools import partial
from importlib import resources
from pathlib import Path

from .._validation import did_you_mean
from ..exceptions import ScenarioError
from ..hosts import REFERENCE_HOSTS
from .defaults import read_data_csv, reference_parameters
from .files import read_scenario, scenario_from_toml
from .registry import _SCENARIO_FOLDER, SCENARIOS, SEED_START, builtin_toml, list_scenarios, register_scenario
from .scenario import Scenario
from .schedules import Closure, Pulse

__all__ = ["SCENARIOS", "register_scenario", "load_scenario", "list_scenarios", "builtin_toml"]

def load_scenario(name) -> Scenario:
    """A built-in scenario by name, or a scenario file by path.

    Parameters
    ----------
    name : str or Path
        A built-in name (``flowsim list``), a ``.toml`` scenario file or a
        ``resolved.json`` from a run (see :func:`flowsim.read_scenario`).

    Raises
    ------
    ScenarioError
        For an unknown name, with the closest known names.

    Examples
    --------
    >>> import flowsim
    >>> flowsim.load_scenario("border-closure").closures["KAZ"][0].start
    datetime.date(2022, 9, 28)
    """
    if isinstance(name, str) and name in SCENARIOS:
        return SCENARIOS[name][1]()
    if isinstance(name, os.PathLike) or (isinstance(name, str) and _looks_like_path(name)):
        return read_scenario(name)
    fix = did_you_mean(str(name), SCENARIOS)
    raise ScenarioError(
        f"unknown scenario {name!r}; built-in: {', '.join(SCENARIOS)}; or give a path to a .toml "
        f"scenario file.{fix}"
    )


def _looks_like_path(name: str) -> bool:
    return name.endswith((".toml", ".json")) or os.sep in name or "/" in name or Path(name).exists()


def _load_builtin_file(name: str) -> Scenario:
    return scenario_from_toml(builtin_toml(name), origin=f"flowsim/data/scenarios/{name}.toml", default_name=name)


def _register_files() -> None:
    folder = resources.files("flowsim.data").joinpath(_SCENARIO_FOLDER)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            name = entry.name[: -len(".toml")]
            summary = tomllib.loads(entry.read_text(encoding="utf-8")).get("summary", "")
            SCENARIOS[name] = (summary, partial(_load_builtin_file, name))


def seed_arrivals() -> dict[str, Pulse]:
    """Direct-arrival pulses of the seed scenario (``data/kazakhstan_2022_arrivals.csv``)."""
    out = {}
    for line, row in read_data_csv("kazakhstan_2022_arrivals.csv",
                                   ("host", "total", "shape", "scale_days", "start_date", "source")):
        try:
            total = float(row["total"])
            if total > 0:
                out[row["host"]] = Pulse(total=total, shape=float(row["shape"]),
                                         scale_days=float(row["scale_days"]), start=row["start_date"])
        except (ValueError, ScenarioError) as exc:
            raise ScenarioError(f"flowsim/data/kazakhstan_2022_arrivals.csv, line {line}: {exc}") from None
    return out


@register_scenario(
    "kazakhstan-2022",
    "Seed: the autumn-2022 outflow after Russia's mobilization into 8 hosts, 5 years from 2022-09-21.",
)
def kazakhstan_2022() -> Scenario:
    """The seed scenario of docs/model.md.

    About 100,000 direct arrivals into Kazakhstan in the first week (gross
    border counts, so ordinary travellers are included and behave like
    transit with a high ``q_ret``), pulses into the other hosts from the
    published figures, Turkmenistan closed throughout, reference parameters
    everywhere, start 2022-09-21, horizon 5 years.
    """
    return Scenario(
        name="kazakhstan-2022",
        description=(
            "Autumn 2022 outflow after Russia's 'partial mobilization' (21 Sep 2022): ~100,000 "
            "entries into Kazakhstan in the first week, pulses into UZB, KGZ, TJK, GEO, ARM, MNG "
            "from published border figures, Turkmenistan closed. Reference parameters "
            "(docs/parameters.md), 5-year horizon. This is the baseline of the scenario library: "
            "every other built-in starts from it (`base = \"kazakhstan-2022\"`) and changes only "
            "what its own description names. Nobody is present before the start, nobody is "
            "diverted, and no parameter changes over time."
        ),
        params=reference_parameters(REFERENCE_HOSTS),
        start=SEED_START,
        arrivals=seed_arrivals(),
        closures={"TKM": Closure()},
    )


#: Hosts of the built-in event ``ukraine-2022``, in order.
UKRAINE_HOSTS = ("POL", "MDA", "ROU", "SVK", "HUN", "CZE", "DEU")


def _data_path(name: str):
    return resources.files("flowsim.data").joinpath(name)


@register_scenario(
    "ukraine-2022",
    "Refugees from Ukraine from 24 Feb 2022 into POL, MDA, ROU, SVK, HUN, CZE, DEU: daily arrivals from data.",
)
def ukraine_2022() -> Scenario:
    """The second built-in event: refugees from Ukraine after 24 February 2022, five years.

    Hosts, values and onward shares from ``flowsim/data/ukraine_2022_hosts.csv``
    and ``ukraine_2022_onward.csv``; direct arrivals as daily data from
    ``ukraine_2022_arrivals.csv`` (gross crossings from Ukraine corrected for
    repeat crossings; ``docs/ukraine-2022.md``).
    """
    from .host import add_hosts
    from .tables import daily_arrivals_from_csv, hosts_from_csv

    with resources.as_file(_data_path("ukraine_2022_hosts.csv")) as hosts_csv, \
            resources.as_file(_data_path("ukraine_2022_onward.csv")) as onward_csv, \
            resources.as_file(_data_path("ukraine_2022_arrivals.csv")) as arrivals_csv:
        hosts = hosts_from_csv(hosts_csv, onward=onward_csv)
        arrivals = daily_arrivals_from_csv(arrivals_csv)
    seed = reference_parameters(("KAZ",))                         # a column the new hosts are added to, then dropped
    params = add_hosts(seed, hosts, listed=UKRAINE_HOSTS).select(UKRAINE_HOSTS)
    return Scenario(
        name="ukraine-2022",
        origin="Ukraine",
        description=(
            "Refugees from Ukraine after Russia's invasion of 24 Feb 2022, into Poland, Moldova, Romania, "
            "Slovakia, Hungary, Czechia and Germany (and the rest of the world W), five years. Direct "
            "arrivals are the published daily and cumulative border entries from Ukraine (ukraine_2022.csv) "
            "as daily data, corrected for repeat and circular crossings; Moldova, Romania, Hungary and "
            "Slovakia are mostly transit countries (high q_on), Czechia and Germany receive onward movers "
            "only. Compartments read for refugees: S = supported, not yet working (tau_S: until support thins "
            "out; g_pub and b_U: services and benefits), R = with an income from Ukraine or abroad, E = "
            "employed, U = no longer supported and not employed. Every value's source is in "
            "flowsim/data/ukraine_2022_hosts.csv; docs/ukraine-2022.md tells the story."
        ),
        params=params,
        start=_dt.date(2022, 2, 24),
        arrivals={h: (v,) for h, v in arrivals.items() if any(v.counts)},
    )


_register_files()
