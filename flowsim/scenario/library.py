"""Built-in scenarios, registered by name.

Each entry builds a :class:`Scenario` from the shipped reference parameters
and data files; ``docs/model.md`` and ``docs/parameters.md`` document their
numbers and sources.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from .._validation import did_you_mean
from ..exceptions import ScenarioError
from ..hosts import REFERENCE_HOSTS
from .defaults import read_data_csv, reference_parameters
from .scenario import Scenario
from .schedules import Closure, Pulse

__all__ = ["SCENARIOS", "register_scenario", "load_scenario", "list_scenarios"]

#: Builders of the built-in scenarios by name: ``name -> (summary, builder)``.
SCENARIOS: dict[str, tuple[str, Callable[[], Scenario]]] = {}

SEED_START = _dt.date(2022, 9, 21)


def register_scenario(name: str, summary: str):
    """Decorator registering a zero-argument scenario builder under ``name``."""

    def deco(builder):
        SCENARIOS[name] = (summary, builder)
        return builder

    return deco


def list_scenarios() -> dict[str, str]:
    """Built-in scenario names with a one-line summary each."""
    return {name: summary for name, (summary, _) in SCENARIOS.items()}


def load_scenario(name: str) -> Scenario:
    """Build the built-in scenario ``name``.

    Raises
    ------
    ScenarioError
        For an unknown name, with the closest known names.
    """
    try:
        _, builder = SCENARIOS[name]
    except (KeyError, TypeError):
        fix = did_you_mean(str(name), SCENARIOS)
        raise ScenarioError(f"unknown scenario {name!r}; built-in: {', '.join(SCENARIOS)}.{fix}") from None
    return builder()


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
    """The seed scenario of MODEL.md.

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
            "(docs/parameters.md), 5-year horizon."
        ),
        params=reference_parameters(REFERENCE_HOSTS),
        start=SEED_START,
        arrivals=seed_arrivals(),
        closures={"TKM": Closure()},
    )
