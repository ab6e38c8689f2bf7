"""Reading scenario files: TOML scenario files and ``resolved.json`` from a run.

* A TOML file follows the schema of :mod:`flowsim.scenario.schema`
  (``docs/scenarios.md``); ``base = "kazakhstan-2022"`` (a built-in) or
  ``base = "other.toml"`` (relative to the file) makes it start from another
  scenario and override only what it changes.
* ``resolved.json``, written by ``flowsim run``, holds every input of a run;
  read back it gives a scenario that reproduces the run exactly.

Errors name the file, the line (for TOML) and the key.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._validation import did_you_mean
from ..exceptions import ScenarioError
from ..hosts import REFERENCE_HOSTS
from .keypaths import Origin, Reader, display_path
from .registry import SCENARIOS, builtin_toml
from .scenario import Scenario
from .schema import build_scenario
from .specs import PARAMETER_SPECS

__all__ = ["read_scenario", "scenario_from_toml", "scenario_from_resolved", "key_lines", "SCENARIO_SUFFIXES"]

#: File suffixes :func:`read_scenario` accepts.
SCENARIO_SUFFIXES = (".toml", ".json")

#: Keys of ``resolved.json`` besides the parameter symbols.
RESOLVED_KEYS = (
    "name", "description", "start", "horizon_days", "hosts", "arrival_schedules", "closures", "initial",
    "policies", "diversion", "arrivals", "ranges", "sources", "flowsim_version", "solver", "names", "origin",
)


def read_scenario(path) -> Scenario:
    """Read a scenario file.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` scenario file, or a ``resolved.json`` written by
        ``flowsim run`` (which reproduces that run exactly).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError, ParameterError, ScheduleError
        A missing or malformed file, an unknown key (with the closest valid
        name), a wrong type, an out-of-range value; the message names the
        file, the line (TOML) and the key.

    Examples
    --------
    >>> import flowsim, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "fast-jobs.toml"
    >>> _ = path.write_text('base = "kazakhstan-2022"\\n[parameters.KAZ]\\nf0 = 0.02\\n')
    >>> sc = flowsim.read_scenario(path)
    >>> sc.name, sc.params.get("f0", "KAZ")
    ('fast-jobs', 0.02)
    """
    return _read(Path(path), ())


def _read(path: Path, seen: tuple) -> Scenario:
    if path.suffix not in SCENARIO_SUFFIXES:
        raise ScenarioError(
            f"{path}: a scenario file must end in .toml (or be a resolved.json from a run); got {path.suffix!r}."
        )
    key = ("file", str(path.resolve()))
    if key in seen:
        raise ScenarioError(f"{path}: `base` files form a cycle ({' -> '.join(s[1] for s in seen)} -> {path}).")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file (or give a built-in name, see `flowsim list`).") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a folder, not a scenario file.") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8.") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror}).") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}."
            ) from None
        if isinstance(data, Mapping) and ("flowsim_version" in data or "arrival_schedules" in data):
            return scenario_from_resolved(data, origin=str(path), default_name=path.stem)
        return _build(data, Origin(str(path)), path.parent, path.stem, (*seen, key))
    return scenario_from_toml(text, origin=str(path), base_dir=path.parent, default_name=path.stem,
                              _seen=(*seen, key))


def scenario_from_toml(text: str, *, origin: str = "<string>", base_dir=None, default_name: str = "custom",
                       _seen: tuple = ()) -> Scenario:
    """Build a scenario from the text of a TOML scenario file.

    Parameters
    ----------
    text : str
        The file's content.
    origin : str
        File name used in error messages.
    base_dir : path, optional
        Folder that a relative ``base = "file.toml"`` is relative to.
    default_name : str
        Name when the file gives none.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        where = f", line {m.group(1)}, column {m.group(2)}" if m else ""
        msg = msg[: m.start()] if m else msg
        raise ScenarioError(
            f"{origin}{where}: not valid TOML: {msg}. Check quotes, brackets and `key = value` pairs "
            "(TOML syntax: https://toml.io)."
        ) from None
    lines = key_lines(text)
    return _build(data, Origin(origin, line_of=lambda path: _line(lines, path)), base_dir, default_name, _seen)


def _build(data, origin: Origin, base_dir, default_name, seen) -> Scenario:
    rd = Reader(origin)
    rd.table(data, (), "a table of scenario keys")
    base = None
    if "base" in data:
        base = _base(rd, rd.text(data["base"], ("base",)), base_dir, seen)
    return build_scenario(data, origin, base=base, default_name=default_name)


def _base(rd, value: str, base_dir, seen) -> Scenario:
    if value in SCENARIOS:
        key = ("builtin", value)
        if key in seen:
            rd.fail(("base",), f"built-in scenarios form a cycle through {value!r}.")
        text = builtin_toml(value)
        if text is None:
            return SCENARIOS[value][1]()
        return scenario_from_toml(text, origin=f"flowsim/data/scenarios/{value}.toml", default_name=value,
                                  _seen=(*seen, key))
    if value.endswith(SCENARIO_SUFFIXES):
        path = Path(value)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return _read(path, seen)
    fix = did_you_mean(value, SCENARIOS)
    rd.fail(("base",), f"unknown base scenario {value!r}; give a built-in ({', '.join(SCENARIOS)}) "
                       f"or a .toml file relative to this one.{fix}")


# --------------------------------------------------------------- resolved.json
def scenario_from_resolved(data: Mapping, *, origin: str = "resolved.json", default_name: str = "custom") -> Scenario:
    """Rebuild the scenario of a run from its resolved inputs (``resolved.json``).

    Parameters
    ----------
    data : mapping
        :meth:`Scenario.to_dict` output, as written to ``resolved.json``.
    origin : str
        Name used in error messages.

    Returns
    -------
    Scenario
        Runs to the same results, bit for bit, as the run that wrote ``data``
        (with the same solver options, which ``resolved.json`` records
        under ``solver``).

    Raises
    ------
    ScenarioError
        Missing or unknown keys, or daily ``arrivals`` that do not follow
        from ``arrival_schedules`` (they are derived: edit the schedules).
    """
    rd = Reader(Origin(origin))
    rd.table(data, (), "a table of resolved inputs")
    allowed = (*RESOLVED_KEYS, *PARAMETER_SPECS, "P")
    rd.keys(data, allowed, (), "key of a resolved.json")
    for key in ("start", "horizon_days", "hosts", *PARAMETER_SPECS, "P"):
        if key not in data:
            rd.fail((), f"missing key {key!r}: a resolved.json lists every input of a run.")
    _check_record(rd, data)
    hosts = tuple(rd.array(data["hosts"], ("hosts",)))
    ranges = rd.table(data.get("ranges", {}), ("ranges",))
    sources = rd.table(data.get("sources", {}), ("sources",))
    params: dict = {"P": data["P"]}
    for name, sp in PARAMETER_SPECS.items():
        if sp.scope == "global":
            params[name] = _detail(data[name], ranges.get(name), sources.get(name))
            continue
        per_host = rd.table(data[name], (name,), "a table {host: value}")
        if set(per_host) != set(hosts):
            missing = [h for h in hosts if h not in per_host]
            rd.fail((name,), f"needs one value for each host ({', '.join(hosts)}); missing: {', '.join(missing)}.")
        params[name] = {h: _detail(per_host[h], _get(ranges, name, h), _get(sources, name, h)) for h in hosts}
    spec = {k: data[k] for k in ("name", "description", "start", "horizon_days", "hosts", "closures", "initial",
                                 "policies", "diversion", "origin") if k in data}
    spec["parameters"] = params
    names = rd.table(data.get("names", {}), ("names",), "a table {host: name}")
    new = [h for h in hosts if h not in REFERENCE_HOSTS]
    if new:                                      # hosts outside the built-in library: every value is here
        spec["host"] = {h: {"name": names.get(h, h),
                            "parameters": {n: params[n][h] for n, sp in PARAMETER_SPECS.items() if sp.scope == "host"},
                            "onward": data["P"].get(h, {"W": 1.0}) if isinstance(data["P"], Mapping) else {"W": 1.0}}
                        for h in new}
    spec["arrivals"] = data.get("arrival_schedules", {})
    scenario = build_scenario(spec, Origin(origin, display=_resolved_display), default_name=default_name)
    if "arrivals" in data:
        _check_daily(rd, data["arrivals"], scenario)
    return scenario


#: Keys of the ``solver`` table of a resolved.json: the statistics of every registered solver.
SOLVER_KEYS = ("method", "rtol", "atol", "nfev", "segments", "dt", "steps", "seed", "expected", "drain",
               "plan_margin", "fallbacks", "drained_people")


def _version(text):
    """``"0.1.0"`` as ``(0, 1, 0)``; None when it is not dotted whole numbers."""
    parts = text.split(".") if isinstance(text, str) else []
    return tuple(int(p) for p in parts) if parts and all(p.isdigit() for p in parts) else None


def _check_record(rd, data) -> None:
    """The ``flowsim_version`` and ``solver`` of a resolved.json: a version this flowsim reads, known solver keys."""
    from .._version import __version__

    if "flowsim_version" in data:
        given = data["flowsim_version"]
        if _version(given) is None:
            rd.fail(("flowsim_version",), f"must be a version such as {__version__!r}; got {given!r}.")
        if _version(given) > _version(__version__):
            rd.fail(("flowsim_version",), f"written by flowsim {given}, newer than this flowsim {__version__}: its "
                                          "inputs may mean something this version does not know. Upgrade flowsim.")
    if "solver" in data:
        solver = rd.table(data["solver"], ("solver",), "a table of solver options, e.g. {\"method\": \"RK45\", "
                                                         "\"rtol\": 1e-08}")
        rd.keys(solver, SOLVER_KEYS, ("solver",), "key of `solver`")
        if "method" in solver and not isinstance(solver["method"], str):
            rd.fail(("solver", "method"), f"must be the name of a method (text); got {solver['method']!r}.")
        for key in ("rtol", "atol"):
            if key in solver:
                rd.number(solver[key], ("solver", key), "a tolerance (a number)")


def _get(table, name, host):
    value = table.get(name)
    return value.get(host) if isinstance(value, Mapping) else None


def _detail(value, rng, source) -> object:
    if rng is None and source is None:
        return value
    out = {"value": value}
    if isinstance(rng, list | tuple) and len(rng) == 2:
        out["low"], out["high"] = rng
    if source is not None:
        out["source"] = source
    return out


def _resolved_display(path: tuple) -> str:
    if path[:1] == ("arrivals",):
        return display_path(("arrival_schedules", *path[1:]))
    if path[:1] == ("parameters",) and len(path) > 1:
        rest = list(path[1:])
        last = rest[-1] if len(rest) > 1 else None
        if last in ("low", "high", "source"):
            section = "sources" if last == "source" else "ranges"
            return display_path((section, *rest[:-1]))
        return display_path(tuple(p for p in rest if p != "value"))
    return display_path(path)


def _check_daily(rd, daily, scenario: Scenario) -> None:
    derived = scenario.to_dict()["arrivals"]
    rd.table(daily, ("arrivals",), "a table {host: daily arrivals}")
    for host, values in daily.items():
        want = derived.get(host)
        try:
            same = want is not None and np.allclose(np.asarray(values, float), want, rtol=1e-9, atol=1e-9)
        except (TypeError, ValueError):
            same = False
        if not same:
            rd.fail(("arrivals", host), f"the daily arrivals of {host} do not follow from `arrival_schedules`; "
                                        "they are derived from them: edit `arrival_schedules` instead.")


# ------------------------------------------------------------- line numbers
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_KEYVAL = re.compile(rf"^\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")


def _split_key(text: str) -> tuple:
    return tuple(part.strip().strip("\"'") for part in re.findall(rf"{_KEY}", text))


def key_lines(text: str) -> dict[tuple, int]:
    """Line number of each table header and key of a TOML text, by key path.

    Paths are tuples such as ``("parameters", "KAZ", "f0")``; the n-th table
    of an array of tables ``[[arrivals.KAZ]]`` is ``("arrivals", "KAZ", n)``.
    A best-effort scan (enough to point at a line in error messages).
    """
    lines: dict[tuple, int] = {}
    table: tuple = ()
    counts: dict[tuple, int] = {}
    in_string = None
    for n, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        m = _HEADER.match(line)
        if m:
            parts = _split_key(m.group(2))
            if m.group(1) == "[[":
                counts[parts] = counts.get(parts, -1) + 1
                table = (*parts, counts[parts])
            else:
                table = parts
            for j in range(1, len(table) + 1):
                lines.setdefault(table[:j], n)
            continue
        m = _KEYVAL.match(line)
        if m:
            key = (*table, *_split_key(m.group(1)))
            for j in range(len(table) + 1, len(key) + 1):
                lines.setdefault(key[:j], n)
            rest = line[m.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_string = quote
    return lines


def _line(lines: dict, path: tuple) -> int | None:
    for j in range(len(path), 0, -1):
        if path[:j] in lines:
            return lines[path[:j]]
    return None
