"""Issue 12, property-based: every generated input runs cleanly or is refused with a FlowsimError.

Two surfaces are generated with ``hypothesis``:

* scenario files: TOML text with parameter tables, initial stocks, pulses, daily counts, piecewise-linear
  schedules, closures, diversion, policies, hosts and horizons, mixing valid values with NaN, inf, negative,
  huge and tiny numbers and values of the wrong type;
* parameter dictionaries given to :meth:`Scenario.with_params` and then to :func:`flowsim.run`.

The property: an input either runs, and the run keeps MODEL.md's invariants (conservation within 1e-6,
finite values, no negative compartment beyond solver noise, finite summaries), or it is refused with a
:class:`flowsim.FlowsimError`. Any other exception fails the test, and so does an example that runs longer
than ``TIME_LIMIT`` seconds (a SIGALRM ends it: a hang is a failure, not a stuck CI job). The examples are
few, short (a few hosts, at most 30 days) and derandomized, so the file takes seconds and every CI run sees
the same inputs.
"""

from __future__ import annotations

import datetime as dt
import math
import signal
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowsim
from flowsim.scenario.files import scenario_from_toml
from flowsim.scenario.specs import PARAMETER_SPECS

#: Hard limit of one example, seconds (a hang guard; the slowest valid example takes a few seconds).
TIME_LIMIT = 60

SETTINGS = settings(max_examples=25, deadline=dt.timedelta(seconds=20), derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                    print_blob=False)

HOSTS = ("KAZ", "UZB", "GEO", "ARM", "TKM")
START = dt.date(2022, 9, 21)
COMPARTMENTS = ("T", "S", "S1", "S2", "S3", "R", "E", "U", "Ret", "Out", "Q", "In")
HOST_PARAMS = sorted(n for n, s in PARAMETER_SPECS.items() if s.scope == "host")
GLOBAL_PARAMS = sorted(n for n, s in PARAMETER_SPECS.items() if s.scope == "global")


class Hang(Exception):
    """An example ran longer than TIME_LIMIT seconds."""


@contextmanager
def time_limit(seconds: int = TIME_LIMIT):
    def _raise(signum, frame):
        raise Hang(f"example ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ------------------------------------------------------------------------------------------------ values

EDGE_NUMBERS = [math.nan, math.inf, -math.inf, -1.0, -1e-9, 1e-300, 1e308, 1e12, 1e10, "1e400"]


def numbers_in(name: str, bad: bool = False):
    """A value inside the hard bounds of parameter ``name`` (log-spread, extremes included); with ``bad``,
    sometimes an edge number (NaN, inf, negative, huge, tiny) that may lie outside them."""
    spec = PARAMETER_SPECS[name]
    lo = spec.lower if not spec.lower_open else spec.lower + 1e-9
    hi = min(spec.upper, 1e12) if not (spec.upper_open and spec.upper < 1e12) else spec.upper * (1 - 1e-9)
    if spec.integer:
        inside = st.integers(int(max(lo, 1)), int(min(hi, 60)))
    elif lo > 0:
        inside = st.one_of(st.floats(math.log10(lo), math.log10(hi), allow_nan=False).map(lambda e: 10.0 ** e),
                           st.sampled_from([lo, hi]))
    else:
        inside = st.one_of(st.floats(lo, min(hi, 1e3), allow_nan=False), st.sampled_from([lo, hi]))
    return st.one_of(inside, st.sampled_from(EDGE_NUMBERS)) if bad else inside


#: Values of the wrong type, in TOML syntax.
WRONG_TYPES = st.sampled_from(['"text"', 'true', '[1, 2]', '{ value = "x" }', '2023-01-01', '""', '[]',
                               '{ value = 1, low = 2, high = 0 }', '{ KZA = 1 }', '{}'])


def toml_number(x) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))


def value_of(name: str, bad: bool):
    """TOML text of a value for parameter ``name``; with ``bad``, sometimes out of bounds or the wrong type."""
    numbers = numbers_in(name, bad).map(toml_number)
    return st.one_of(numbers, numbers, WRONG_TYPES) if bad else numbers


def dates(bad: bool):
    """A TOML date near the start (with ``bad``, sometimes before it or malformed)."""
    good = st.integers(-20 if bad else 0, 120).map(lambda d: (START + dt.timedelta(days=d)).isoformat())
    wrong = st.sampled_from(['"2022-13-01"', '"yesterday"', '1e3', '2022-09-21T10:00:00', '"2022-02-30"'])
    return st.one_of(good, good, wrong) if bad else good


def people(bad: bool):
    """A count of people: up to 2e5, or extremes within the bounds (1e-300, 9e9); with ``bad``, anything."""
    good = st.one_of(st.floats(0, 2e5, allow_nan=False), st.sampled_from([0.0, 1e-300, 1e-6, 9.0e9]))
    good = good.map(toml_number)
    if not bad:
        return good
    return st.one_of(good, st.sampled_from(EDGE_NUMBERS).map(toml_number), WRONG_TYPES)


# ------------------------------------------------------------------------------------------------ files

@st.composite
def scenario_files(draw) -> str:
    bad = draw(st.booleans())
    hosts = draw(st.lists(st.sampled_from(HOSTS), min_size=1, max_size=3, unique=True))
    host = st.sampled_from(hosts)
    lines = ['base = "kazakhstan-2022"', f"hosts = {list(hosts)!r}".replace("'", '"')]
    horizon = st.integers(1, 30).map(str)
    if bad:
        horizon = st.one_of(horizon, st.sampled_from(["0", "-5", "1e9", "999999999", "36526", "3.5", '"30"', "nan",
                                                      "inf", "true"]))
    lines.append(f"horizon_days = {draw(horizon)}")
    sections = draw(st.lists(st.sampled_from(["parameters", "host_parameters", "initial", "pulse", "daily",
                                              "linear", "closure", "diversion", "policy"]),
                             min_size=1, max_size=4))
    for kind in sections:
        if kind == "parameters":
            names = draw(st.lists(st.sampled_from(HOST_PARAMS + GLOBAL_PARAMS), min_size=1, max_size=3,
                                  unique=True))
            lines.append("[parameters]")
            for n in names:
                lines.append(f"{n} = {draw(value_of(n, bad))}")
        elif kind == "host_parameters":
            h = draw(host)
            names = draw(st.lists(st.sampled_from(HOST_PARAMS), min_size=1, max_size=3, unique=True))
            lines.append(f"[parameters.{h}]")
            for n in names:
                lines.append(f"{n} = {draw(value_of(n, bad))}")
        elif kind == "initial":
            lines.append(f"[initial.{draw(host)}]")
            for c in draw(st.lists(st.sampled_from(COMPARTMENTS), min_size=1, max_size=3, unique=True)):
                lines.append(f"{c} = {draw(people(bad))}")
        elif kind == "pulse":
            lines += [f"[[extra_arrivals.{draw(host)}]]", 'type = "pulse"', f"total = {draw(people(bad))}",
                      f"shape = {draw(value_of('k', bad))}",
                      f"scale_days = {draw(value_of('tau_T', bad))}",
                      f"start = {draw(dates(bad))}"]
        elif kind == "daily":
            counts = draw(st.lists(people(bad), min_size=0, max_size=5))
            lines += [f"[[extra_arrivals.{draw(host)}]]", 'type = "daily_counts"', f"start = {draw(dates(bad))}",
                      f"counts = [{', '.join(counts)}]"]
        elif kind == "linear":
            pts = draw(st.lists(st.tuples(dates(bad), people(bad)), min_size=0, max_size=3))
            lines += [f"[[extra_arrivals.{draw(host)}]]", 'type = "piecewise_linear"',
                      "points = [" + ", ".join(f"[{d}, {v}]" for d, v in pts) + "]"]
        elif kind == "closure":
            lines.append(f"[[closures.{draw(host)}]]")
            if draw(st.booleans()):
                lines.append(f"start = {draw(dates(bad))}")
            if draw(st.booleans()):
                lines.append(f"end = {draw(dates(bad))}")
        elif kind == "diversion":
            lines.append(f"[diversion.{draw(host)}]")
            for h in draw(st.lists(st.sampled_from(HOSTS), min_size=1, max_size=2, unique=True)):
                lines.append(f"{h} = {draw(value_of('q_on', bad))}")
        elif kind == "policy":
            n = draw(st.sampled_from(HOST_PARAMS + (["k", "P", "bogus"] if bad else [])))
            lines += ["[[policies]]", f'parameter = "{n}"', f'host = "{draw(host)}"',
                      f"start = {draw(dates(bad))}"]
            if draw(st.booleans()):
                lines.append(f"factor = {draw(numbers_in('m', bad).map(toml_number))}")
            else:
                lines.append(f"value = {draw(value_of(n, bad) if n in PARAMETER_SPECS else WRONG_TYPES)}")
    return "\n".join(lines) + "\n"


def check_result(res) -> None:
    """MODEL.md's invariants on a run that reported success."""
    assert res.success
    err = res.conservation_error()
    assert err <= 1e-6, f"conservation error {err:.3g}"
    states = np.asarray(res.states)
    assert np.isfinite(states).all(), "non-finite compartment"
    total = np.abs(states).sum(axis=(1, 2)).max()
    assert states.min() >= -1e-9 * max(total, 1.0) - 1e-9, f"negative compartment {states.min():.3g}"
    assert np.isfinite(np.asarray(res.economy)).all(), "non-finite economy value"
    for key, values in res.summary_arrays.items():
        values = np.asarray(values)
        if values.dtype.kind == "f":
            assert not np.isinf(values).any(), f"infinite summary figure {key}"
    assert (np.asarray(res.cumulative_arrivals) >= 0).all()


def runs_or_refuses(make) -> str:
    """Build and run; 'ran' if the invariants hold, 'refused' for a FlowsimError; anything else fails."""
    with time_limit():
        try:
            scenario = make()
            res = flowsim.run(scenario)
        except flowsim.FlowsimError as exc:
            assert str(exc).strip(), "an empty error message"
            return "refused"
    check_result(res)
    return "ran"


@SETTINGS
@given(text=scenario_files())
def test_scenario_files_run_or_are_refused(text):
    runs_or_refuses(lambda: scenario_from_toml(text, origin="fuzz.toml"))


# ------------------------------------------------------------------------------------------------ dicts

@pytest.fixture(scope="module")
def short_scenario():
    return scenario_from_toml('base = "kazakhstan-2022"\nhosts = ["KAZ", "GEO"]\nhorizon_days = 30\n')


def python_values(name: str, bad: bool):
    """A Python value for parameter ``name``: a number, ``{host: number}``; with ``bad``, also edge numbers
    and values of the wrong type (text, None, lists, arrays, complex, unknown hosts)."""
    numbers = numbers_in(name, bad).filter(lambda x: not isinstance(x, str))
    per_host = st.fixed_dictionaries({}, optional={"KAZ": numbers, "GEO": numbers})
    good = st.one_of(numbers, numbers, per_host, numbers.map(np.float32))
    if not bad:
        return good
    wrong = st.sampled_from(["text", None, [1, 2], {"KZA": 1.0}, {}, True, complex(1, 1), np.array([1.0, 2.0])])
    return st.one_of(good, wrong)


@st.composite
def parameter_dicts(draw) -> dict:
    bad = draw(st.booleans())
    names = draw(st.lists(st.sampled_from(HOST_PARAMS + GLOBAL_PARAMS + (["bogus", "tau_t"] if bad else [])),
                          min_size=1, max_size=4, unique=True))
    return {n: draw(python_values(n, bad) if n in PARAMETER_SPECS else st.just(1.0)) for n in names}


@SETTINGS
@given(updates=parameter_dicts())
def test_parameter_dicts_run_or_are_refused(short_scenario, updates):
    runs_or_refuses(lambda: short_scenario.with_params(**updates))


def test_time_limit_ends_a_hang():
    """The hang guard itself works (so a hang fails the property tests instead of stalling CI)."""
    import time

    with pytest.raises(Hang), time_limit(1):
        time.sleep(5)


@pytest.mark.parametrize("value", [1e308, 36526, math.inf])
def test_huge_D_x_is_refused_not_an_overflow(short_scenario, value):
    """Found by the generator: ``D_x = 1e308`` passed validation (no upper bound) and ended the run with an
    OverflowError. Now it is bounded by the longest horizon."""
    with pytest.raises(flowsim.ParameterError, match=r"D_x.*\[1, 36525\]"):
        flowsim.run(short_scenario.with_params(D_x=value))


def test_load_result_of_none_is_a_sentence():
    """Found by tools/fuzz.py: ``load_result(None)`` raised pathlib's TypeError from deep inside."""
    with pytest.raises(TypeError, match="load_result: `path` must be a file path"):
        flowsim.load_result(None)
