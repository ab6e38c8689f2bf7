"""The registry of built-in scenarios: their names, summaries and builders.

:mod:`flowsim.scenario.library` registers the built-ins here (the seed in
Python, the others from TOML files); :mod:`flowsim.scenario.files` looks up
a file's ``base`` here. Keeping the registry apart from both lets the files
module resolve built-in bases without importing the library that uses it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from importlib import resources

from .scenario import Scenario

__all__ = ["SCENARIOS", "register_scenario", "list_scenarios", "builtin_toml", "SEED_START"]

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


_SCENARIO_FOLDER = "scenarios"


def builtin_toml(name: str) -> str | None:
    """Text of the TOML file of built-in scenario ``name`` (None for one built in Python)."""
    entry = resources.files("flowsim.data").joinpath(_SCENARIO_FOLDER, f"{name}.toml")
    return entry.read_text(encoding="utf-8") if name in SCENARIOS and entry.is_file() else None
