"""Feed flowsim hundreds of bad inputs and classify what happens (issue 12, "Nothing misleads").

Run from the repository root::

    python tools/fuzz.py                       # every case (a few minutes; CLI cases start Python each)
    python tools/fuzz.py --quick               # a small subset, seconds (the test suite runs this)
    python tools/fuzz.py --surface "CLI flags" --jobs 2 --markdown fuzz.md
    python tools/fuzz.py --list                # the cases, without running them

The surfaces are scenario files, CLI flags, the Python API, saved results (an edited ``result.npz`` or
``resolved.json``), data files (observation, daily-arrival and host CSVs) and signals and concurrency
(SIGTERM, SIGHUP, SIGKILL, SIGINT during a run or a sweep; two runs into one ``--out``; reruns into a used
folder). Each case runs in its own forked process (a CLI case in its own ``flowsim`` subprocess) under a
time limit, and gets one class:

``refused``    a clean refusal: a :class:`flowsim.FlowsimError` (or a ``TypeError``/``ValueError`` raised by
               flowsim's own code, written for a person); on the CLI exit status 2 with a one-line
               ``flowsim: error:`` (or argparse's usage and error), no traceback, nothing written;
``warned``     an input the issue lists as one to refuse or warn about, accepted with a
               :class:`flowsim.FlowsimWarning` that says what was done (``flowsim: warning:`` on the CLI);
``ran``        ran, and the result keeps docs/model.md's invariants (conservation within 1e-6, finite values,
               no negative compartment, finite summaries);
``silent``     ran, but the input is one the issue lists as one that must be refused or warned about (a
               silent acceptance);
``traceback``  any other exception, a traceback on stderr, or an unexpected exit status;
``hang``       still running after the time limit (default 60 s);
``wrong``      ran and reported success, but the numbers break an invariant (a wrong number with exit 0);
``partial``    partial or stale output: a stage folder or half-written files left behind, files of an
               earlier run left next to new ones, a result silently lost to a concurrent run.

The script prints a markdown table of counts per surface and class, then every case that is not
``refused``, ``warned`` or ``ran`` with its detail. The exit status is 0 when there is none, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import flowsim  # noqa: E402
from flowsim.scenario.files import scenario_from_toml  # noqa: E402
from flowsim.scenario.specs import PARAMETER_SPECS  # noqa: E402

CLASSES = ("refused", "warned", "ran", "silent", "traceback", "hang", "wrong", "partial")
SURFACES = ("scenario files", "CLI flags", "Python API", "saved results", "data files", "signals/concurrency")
FLOWSIM_DIR = str(Path(flowsim.__file__).resolve().parent)
#: Time limit of one case, seconds (a hang).
TIMEOUT = 60.0

#: A short two-host scenario that every file case starts from (runs in well under a second).
SHORT = 'base = "kazakhstan-2022"\nhosts = ["KAZ", "GEO"]\nhorizon_days = 30\n'
#: Compartments of the seed layout (k = 3), for checking CSV outputs.
PEOPLE_VARIABLES = {"T", "S1", "S2", "S3", "R", "E", "U", "Ret", "Out", "In", "S", "N"}


@dataclass
class Case:
    """One bad input.

    ``action(tmp)`` runs it in a fresh folder and returns ``(class, detail)``; ``expect`` is ``"refuse"`` for
    an input the issue says must be refused (a run is then ``silent``), else ``"either"``; ``note`` says
    which branch is fixing a known class.
    """

    surface: str
    name: str
    action: object
    expect: str = "either"
    note: str = ""
    quick: bool = False
    timeout: float = TIMEOUT


@dataclass
class Report:
    cases: list = field(default_factory=list)     # (case, class, detail, seconds)


# ============================================================================================ checks

def result_problems(res) -> list[str]:
    """What is wrong with a Result that reported success (empty if it keeps docs/model.md's invariants)."""
    problems = []
    if not res.success:
        problems.append(f"success=False ({res.message})")
    err = res.conservation_error()
    if not err <= 1e-6:
        problems.append(f"conservation error {err:.3g} > 1e-6")
    states = np.asarray(res.states)
    if not np.isfinite(states).all():
        problems.append(f"{int((~np.isfinite(states)).sum())} non-finite compartment values")
    else:
        total = max(float(np.abs(states).sum(axis=(1, 2)).max()), 1.0)
        if states.min() < -1e-9 * total - 1e-9:
            problems.append(f"negative compartment {states.min():.3g}")
    econ = np.asarray(res.economy)
    if not np.isfinite(econ).all():
        problems.append(f"{int((~np.isfinite(econ)).sum())} non-finite economy values")
    for key, values in res.summary_arrays.items():
        values = np.asarray(values)
        if values.dtype.kind == "f" and np.isinf(values).any():
            problems.append(f"infinite summary {key}")
    return problems


def value_problems(value) -> list[str]:
    """Invariants of whatever an API call returned (a Result, an ensemble, a table...)."""
    if isinstance(value, flowsim.Result):
        return result_problems(value)
    if isinstance(value, flowsim.EnsembleResult):
        bad = []
        for name in getattr(value, "series_names", ()) or ():
            arr = np.asarray(value.series(name)) if hasattr(value, "series") else None
            if arr is not None and arr.dtype.kind == "f" and np.isinf(arr).any():
                bad.append(f"infinite ensemble series {name}")
        return bad
    return []


def from_flowsim(exc: BaseException) -> bool:
    """Whether an exception was raised by flowsim's own code (its innermost frame is in the package)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(FLOWSIM_DIR)


def call(fn, expect: str = "either"):
    """Run ``fn()`` and classify it (in the forked child)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", flowsim.FlowsimWarning)
            value = fn()
    except flowsim.FlowsimError as exc:
        msg = str(exc).strip()
        if not msg:
            return "traceback", f"{type(exc).__name__} with an empty message"
        return "refused", f"{type(exc).__name__}: {msg}"
    except (TypeError, ValueError) as exc:
        if from_flowsim(exc) and len(str(exc)) > 20:
            return "refused", f"{type(exc).__name__}: {exc}"
        return "traceback", f"{type(exc).__name__}: {exc}  [{traceback.extract_tb(exc.__traceback__)[-1].filename}]"
    except BaseException as exc:  # noqa: BLE001 - every other exception is what we look for
        return "traceback", f"{type(exc).__name__}: {exc}"
    problems = value_problems(value)
    said = [w for w in caught if issubclass(w.category, flowsim.FlowsimWarning)]
    if expect == "refuse" and said and not problems:    # accepted, with a warning that says what was done
        return "warned", f"{said[0].category.__name__}: {str(said[0].message)[:200]}"
    if expect == "refuse":          # an input that must be refused was accepted (whatever its numbers)
        return "silent", f"accepted: {'; '.join(problems) or short_repr(value)}"
    if problems:
        return "wrong", "; ".join(problems)
    return "ran", short_repr(value)


def short_repr(value) -> str:
    if isinstance(value, flowsim.Result):
        return f"Result, conservation error {value.conservation_error():.2g}"
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


# ---------------------------------------------------------------------------------------------- CLI

def flowsim_cli(argv, cwd: Path, timeout: float = TIMEOUT, wait_then=None):
    """Run ``python -m flowsim ARGV``; return (returncode or None on a hang, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    proc = subprocess.Popen([sys.executable, "-m", "flowsim", *map(str, argv)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if wait_then is not None:
        wait_then(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err
    return proc.returncode, out, err


def stage_dirs(root: Path) -> list[Path]:
    return [p for p in root.rglob(".flowsim-stage-*")]


def csv_problems(out: Path) -> list[str]:
    """Non-finite or negative-people values in the CSV outputs of a run folder."""
    problems = []
    ts = out / "timeseries.csv"
    if ts.exists():
        bad_nf = bad_neg = 0
        with ts.open() as fh:
            for row in csv.DictReader(fh):
                try:
                    v = float(row["value"])
                except (KeyError, TypeError, ValueError):
                    continue
                if not math.isfinite(v):
                    bad_nf += 1
                elif row.get("variable") in PEOPLE_VARIABLES and v < -1e-3:
                    bad_neg += 1
        if bad_nf:
            problems.append(f"{bad_nf} non-finite values in timeseries.csv")
        if bad_neg:
            problems.append(f"{bad_neg} negative people in timeseries.csv")
    sm = out / "summary.csv"
    if sm.exists():
        text = sm.read_text()
        if "inf" in text.lower().replace("inflow", ""):
            problems.append("inf in summary.csv")
    return problems


def cli_case(argv, *, expect="either", setup=None, out_name="out", check_out=True, timeout=TIMEOUT):
    """A CLI case: ``setup(tmp)`` writes input files; ``{out}`` and ``{tmp}`` in argv are substituted."""

    def action(tmp: Path):
        if setup is not None:
            setup(tmp)
        out = tmp / out_name
        existed = out.exists()
        before = sorted(p.name for p in out.iterdir()) if existed else None
        args = [str(a).replace("{out}", str(out)).replace("{tmp}", str(tmp)) for a in argv]
        rc, stdout, stderr = flowsim_cli(args, tmp, timeout)
        return classify_cli(rc, stdout, stderr, tmp, out if check_out else None, existed, before, expect)

    return action


def classify_cli(rc, stdout, stderr, tmp, out, existed, before, expect):
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if rc is None:
        return "hang", f"still running after the time limit; stderr: {last[:200]}"
    if "Traceback (most recent call last)" in stderr:
        return "traceback", last[:300]
    stages = stage_dirs(tmp)
    if rc == 2:
        lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        argparse_error = len(lines) >= 2 and lines[0].startswith("usage:") and ": error: " in lines[-1]
        one_line = len(lines) == 1 and lines[0].startswith("flowsim: error:")
        if not (one_line or argparse_error):
            return "traceback", f"exit 2 but {len(lines)} lines on stderr: {last[:200]}"
        if stages:
            return "partial", f"refused, but left {stages[0].relative_to(tmp)}"
        if out is not None:
            if not existed and out.exists() and any(out.iterdir()):
                return "partial", f"refused, but wrote {sorted(p.name for p in out.iterdir())[:5]}"
            if existed and sorted(p.name for p in out.iterdir()) != before:
                return "partial", "refused, but changed the existing --out folder"
        return "refused", last
    if rc == 0:
        problems = csv_problems(out) if out is not None and out.exists() else []
        if problems:
            return "wrong", "; ".join(problems)
        if stages:
            return "partial", f"exit 0 but left {stages[0].relative_to(tmp)}"
        if expect == "refuse" and "flowsim: warning:" in stderr:
            return "warned", [ln for ln in stderr.splitlines() if "flowsim: warning:" in ln][0][:200]
        if expect == "refuse":
            return "silent", "exit 0: " + (stdout.strip().splitlines() or [""])[-1][:150]
        return "ran", (stdout.strip().splitlines() or [""])[-1][:150]
    return "traceback", f"exit status {rc}: {last[:250]}"


# ============================================================================================ cases

def file_case(text: str, expect="either"):
    """A scenario file read and run in-process."""
    return lambda tmp: call(lambda: flowsim.run(scenario_from_toml(text, origin="fuzz.toml")), expect)


def scenario_file_cases() -> list[Case]:
    cases = []
    S = "scenario files"

    def add(name, body, expect="either", note="", quick=False, base=SHORT):
        cases.append(Case(S, name, file_case(base + body, expect), expect, note, quick))

    # every parameter: below, above, NaN, text, and both hard bounds (which must run)
    for n, spec in PARAMETER_SPECS.items():
        lo, hi = spec.lower, spec.upper
        below = lo - 1.0 if lo > -1e300 else -math.inf
        add(f"{n} below its bound ({below:g})", f"[parameters]\n{n} = {below!r}\n")
        above = "inf" if math.isinf(hi) else repr(hi * 10 if hi > 0 else hi + 1)
        add(f"{n} above its bound ({above})", f"[parameters]\n{n} = {above}\n")
        add(f"{n} = nan", f"[parameters]\n{n} = nan\n", quick=n == "tau_T")
        add(f"{n} = text", f'[parameters]\n{n} = "12"\n')
        for edge in (lo if not spec.lower_open else lo + 1e-9,
                     (hi if not spec.upper_open else hi * (1 - 1e-9)) if math.isfinite(hi) else None):
            if edge is None:
                continue
            edge = int(edge) if spec.integer else edge
            table = "[parameters.KAZ]" if spec.scope == "host" else "[parameters]"
            host_line = f"{table}\n{n} = {edge!r}\n"
            add(f"{n} at its bound {edge:g}", host_line)
    # the issue's own values
    add("pulse scale_days 1e-6 (issue)", "[[extra_arrivals.KAZ]]\ntype='pulse'\ntotal=20000\nscale_days=1e-6\n")
    add("pulse scale_days 1e-300 (issue)", "[[extra_arrivals.KAZ]]\ntype='pulse'\ntotal=20000\nscale_days=1e-300\n")
    add("pulse scale_days 1e-3 (shortest allowed)",
        "[[extra_arrivals.KAZ]]\ntype='pulse'\ntotal=20000\nscale_days=1e-3\nstart=2022-10-01\n", quick=True)
    add("pulse total 1e308 (issue)", "[[extra_arrivals.KAZ]]\ntype='pulse'\ntotal=1e308\n")
    add("pulse total 9.9e9 (largest allowed)", "[[extra_arrivals.KAZ]]\ntype='pulse'\ntotal=9.9e9\n")
    add("initial R 1e308 (issue)", "[initial.GEO]\nR = 1e308\n")
    add("initial R 1e12 (issue)", "[initial.GEO]\nR = 1e12\n")
    add("initial R 9.9e9 (largest allowed)", "[initial.GEO]\nR = 9.9e9\n")
    add("gdp 1e-300 (issue)", "[parameters]\ngdp = 1e-300\n")
    add("tau_T 1e-6 (issue)", "[parameters]\ntau_T = 1e-6\n")
    add("f0 1e6 (issue)", "[parameters]\nf0 = 1e6\n")
    add("lam_U 1e9 (issue)", "[parameters]\nlam_U = 1e9\n")
    add("stiff at the bounds: tau_T, tau_S 1e-3, f0 1000", "[parameters]\ntau_T = 1e-3\ntau_S = 1e-3\nf0 = 1000\n")
    add("horizon 999999999 (issue)", "", base=SHORT.replace("horizon_days = 30", "horizon_days = 999999999"))
    for h in ("0", "-1", "36526", "3.5", '"30"', "nan", "true", "1e9"):
        add(f"horizon_days = {h}", "", base=SHORT.replace("horizon_days = 30", f"horizon_days = {h}"))
    # pulses and other schedules
    for key, vals in {"total": ["-1", "nan", "inf", '"many"', "1e12"],
                      "shape": ["0", "0.5", "nan", "1e6", "-2"],
                      "scale_days": ["0", "-1", "nan", "1e7", "[1]"],
                      "start": ["2022-09-01", '"soon"', "2022-09-21T10:00:00", "1999-01-01", "2999-01-01"]}.items():
        for v in vals:
            add(f"pulse {key} = {v}", f"[[extra_arrivals.KAZ]]\ntype='pulse'\ntotal=1000\n{key} = {v}\n"
                .replace("total=1000\ntotal", "total"))
    add("schedule type = { a = 1 } (issue)", "[[extra_arrivals.KAZ]]\ntype = { a = 1 }\n")
    add("schedule type unknown", "[[extra_arrivals.KAZ]]\ntype = 'pulsee'\ntotal = 1\n")
    add("schedule with an unknown key", "[[extra_arrivals.KAZ]]\ntype = 'pulse'\ntotal = 1\ntotl = 2\n")
    add("arrivals for an unknown host", "[[extra_arrivals.KZA]]\ntype = 'pulse'\ntotal = 1\n")
    add("arrivals for a host not in the scenario", "[[extra_arrivals.UZB]]\ntype = 'pulse'\ntotal = 1\n")
    for counts in ("[-1, 2]", "[nan]", "[1e12]", "[]", '["a"]', "[[1, 2], [3, 4]]", "[inf]", "5"):
        add(f"daily counts {counts}",
            f"[[extra_arrivals.KAZ]]\ntype='daily_counts'\nstart=2022-09-25\ncounts={counts}\n")
    add("daily counts before the start", "[[extra_arrivals.KAZ]]\ntype='daily_counts'\nstart=2022-09-01\ncounts=[5]\n")
    for pts in ("[[2022-10-05, 10], [2022-10-01, 0]]", "[[2022-10-01, -5], [2022-10-05, 0]]",
                "[[2022-10-01, nan]]", "[[2022-10-01, 1], [2022-10-01, 2]]", "[]", "[[2022-10-01]]",
                "[[2022-10-01, 1e12], [2022-10-02, 0]]", "[[1, 2]]"):
        add(f"piecewise points {pts}", f"[[extra_arrivals.KAZ]]\ntype='piecewise_linear'\npoints={pts}\n")
    # closures, diversion
    for body, name in (("start = 2022-10-10\nend = 2022-10-01\n", "end before start"),
                       ("start = '2022-99-01'\n", "malformed date"),
                       ("start = 2022-09-21T00:00:00\n", "a time of day"),
                       ("start = 2022-09-25\nend = 2022-10-05\nfoo = 1\n", "unknown key"),
                       ("start = 2022-09-25\nend = 2022-09-25\n", "empty window")):
        add(f"closure: {name}", f"[[closures.KAZ]]\n{body}")
    add("closure that never meets the horizon (issue)", "[[closures.KAZ]]\nstart = 2030-01-01\n", "refuse",
        "issue12-silent")
    add("closure entirely before the start (issue)", "[[closures.KAZ]]\nstart = 2020-01-01\nend = 2020-02-01\n",
        "refuse", "issue12-silent")
    for body, name in (("GEO = 0.7\nKAZ = 0.5\n", "to itself"), ("GEO = 1.5\n", "share 1.5"),
                       ("GEO = -0.1\n", "negative share"), ("GEO = nan\n", "NaN share"),
                       ("KZA = 0.1\n", "unknown host"), ("GEO = 'half'\n", "text share")):
        add(f"diversion {name}", f"[[closures.KAZ]]\nstart = 2022-09-28\n[diversion.KAZ]\n{body}")
    add("diversion for a host never closed (issue)", "[diversion.GEO]\nKAZ = 0.3\n", "refuse", "issue12-silent")
    # initial stocks
    for comp, v in (("R", "-1"), ("R", "nan"), ("R", "inf"), ("X", "5"), ("E", "1e6"), ("S9", "5"),
                    ("R", '"1000"'), ("Ret", "1e5"), ("In", "5")):
        add(f"initial {comp} = {v}", f"[initial.GEO]\n{comp} = {v}\n")
    # policies
    for body, name in (("parameter = 'bogus'\nhost = 'KAZ'\nstart = 2022-10-01\nvalue = 1\n", "unknown parameter"),
                       ("parameter = 'k'\nhost = 'KAZ'\nstart = 2022-10-01\nvalue = 4\n", "global k"),
                       ("parameter = 'f0'\nhost = 'KAZ'\nstart = 2022-10-01\nvalue = -1\n", "value out of bounds"),
                       ("parameter = 'f0'\nhost = 'KAZ'\nstart = 2022-10-01\nfactor = nan\n", "factor NaN"),
                       ("parameter = 'f0'\nhost = 'KAZ'\nstart = 2022-10-01\nfactor = 1e308\n", "factor 1e308"),
                       ("parameter = 'f0'\nhost = 'KAZ'\nstart = 2022-10-01\nfactor = 2\nvalue = 1\n",
                        "both value and factor"),
                       ("parameter = 'f0'\nhost = 'KAZ'\nstart = 2022-10-01\n", "neither value nor factor"),
                       ("parameter = 'f0'\nhost = 'KZA'\nstart = 2022-10-01\nvalue = 0.1\n", "unknown host"),
                       ("parameter = 'tau_T'\nhost = 'KAZ'\nstart = 2022-10-01\nfactor = 1e-9\n",
                        "factor below the time bound")):
        add(f"policy: {name}", f"[[policies]]\n{body}")
    add("policy dated before the start (issue)",
        "[[policies]]\nparameter = 'f0'\nhost = 'KAZ'\nstart = 2022-01-01\nvalue = 0.02\n", "refuse", "issue12-silent")
    add("policy dated after the horizon (issue)",
        "[[policies]]\nparameter = 'f0'\nhost = 'KAZ'\nstart = 2030-01-01\nvalue = 0.02\n", "refuse", "issue12-silent")
    # structure of the file
    add("value outside its own range (issue)", "[parameters]\nrho = { value = 0.9, low = 0.1, high = 0.2 }\n",
        "refuse", "issue12-silent")
    add("range low > high", "[parameters]\nrho = { value = 0.3, low = 0.5, high = 0.2 }\n")
    add("range with NaN", "[parameters]\nrho = { value = 0.3, low = nan, high = 0.5 }\n")
    add("q_on + q_ret > 1", "[parameters.KAZ]\nq_on = 0.8\nq_ret = 0.8\n")
    add("onward row not summing to 1", "[parameters.KAZ]\nP = { GEO = 0.5, W = 0.6 }\n")
    add("onward row to itself", "[parameters.KAZ]\nP = { KAZ = 0.5, W = 0.5 }\n")
    add("onward row negative", "[parameters.KAZ]\nP = { GEO = -0.5, W = 1.5 }\n")
    add("same parameter twice", "[parameters]\nf0 = { KAZ = 0.01 }\n[parameters.KAZ]\nf0 = 0.02\n")
    add("unknown parameter", "[parameters]\nfo = 0.1\n")
    add("unknown top-level key", "horizn = 3\n")
    add("not TOML", "this is = = not toml\n")
    add("binary garbage", "\x00\x01\x02\xff\n")
    add("empty hosts", "", base='base = "kazakhstan-2022"\nhosts = []\nhorizon_days = 30\n')
    add("unknown host in hosts", "", base='base = "kazakhstan-2022"\nhosts = ["KZA"]\nhorizon_days = 30\n')
    add("duplicated host", "", base='base = "kazakhstan-2022"\nhosts = ["KAZ", "KAZ"]\nhorizon_days = 30\n')
    add("hosts as text", "", base='base = "kazakhstan-2022"\nhosts = "KAZ"\nhorizon_days = 30\n')
    add("unknown base", "", base='base = "kazakstan-2022"\nhorizon_days = 30\n')
    add("base file missing", "", base='base = "missing.toml"\nhorizon_days = 30\n')
    add("start with a time", "", base=SHORT + "start = 2022-09-21T10:00:00\n")
    add("start 1900", "", base=SHORT + "start = 1900-01-01\n")
    add("clear an unknown section", "clear = ['arrivalz']\n")
    add("new host with nothing given", "", base='base = "kazakhstan-2022"\nhosts = ["KAZ", "POL"]\n'
        'horizon_days = 30\n[host.POL]\nname = "Poland"\n')
    add("new host like an unknown host", "", base='base = "kazakhstan-2022"\nhosts = ["KAZ", "POL"]\n'
        'horizon_days = 30\n[host.POL]\nlike = "XXX"\n')
    return cases


def python_api_cases() -> list[Case]:
    S = "Python API"
    cases = []

    def add(name, fn, expect="either", note="", quick=False):
        cases.append(Case(S, name, lambda tmp, fn=fn: call(fn, expect), expect, note, quick))

    def sc():
        return scenario_from_toml(SHORT)

    add("Scenario.replace(bogus=1) (issue)", lambda: sc().replace(bogus=1), quick=True)
    add("run('kazakhstan-2022') (issue)", lambda: flowsim.run("kazakhstan-2022"))
    add("run(None) (issue)", lambda: flowsim.run(None))
    add("run_batch(sc, []) (issue)", lambda: flowsim.run_batch(sc(), []))
    add("run_batch(sc, [None])", lambda: flowsim.run_batch(sc(), [None]))
    add("run_batch(sc, 5)", lambda: flowsim.run_batch(sc(), 5))
    add("ensemble(seed=-1) (issue)", lambda: flowsim.ensemble(sc(), 4, seed=-1, progress=False))
    for n in (0, -1, 2.5, "4", None, 10**12):
        add(f"ensemble(n={n!r})", lambda n=n: flowsim.ensemble(sc(), n, progress=False))
    add("ensemble(sampler='bogus')", lambda: flowsim.ensemble(sc(), 4, sampler="bogus", progress=False))
    add("ensemble(vary={'bogus': (0, 1)})", lambda: flowsim.ensemble(sc(), 4, vary={"bogus": (0, 1)}, progress=False))
    add("ensemble(vary tau_T (5, 1))", lambda: flowsim.ensemble(sc(), 4, vary={"tau_T": (5, 1)}, progress=False))
    add("ensemble(vary tau_T (nan, 1))", lambda: flowsim.ensemble(sc(), 4, vary={"tau_T": (math.nan, 1)},
                                                                    progress=False))
    add("ensemble(keep=['bogus'])", lambda: flowsim.ensemble(sc(), 4, keep=["bogus"], progress=False))
    add("ensemble(chunk_size=0)", lambda: flowsim.ensemble(sc(), 4, chunk_size=0, progress=False))
    add("ensemble(stochastic, dt=0)", lambda: flowsim.ensemble(sc(), 4, stochastic=True, dt=0, progress=False))
    add("ensemble(stochastic, dt=nan)", lambda: flowsim.ensemble(sc(), 4, stochastic=True, dt=math.nan,
                                                                  progress=False))
    add("sensitivity(output='bogus')", lambda: flowsim.sensitivity(sc(), "bogus", n=8, progress=False))
    add("sensitivity(host='KZA')", lambda: flowsim.sensitivity(sc(), host="KZA", n=8, progress=False))
    add("sensitivity(n=7)", lambda: flowsim.sensitivity(sc(), n=7, progress=False))
    add("sensitivity(bootstrap=-1)", lambda: flowsim.sensitivity(sc(), n=8, bootstrap=-1, progress=False))
    for opts in ({"rtol": 0}, {"rtol": -1}, {"rtol": math.nan}, {"rtol": "x"}, {"method": "bogus"},
                 {"atol": -1}, {"bogus": 1}, {"max_nfev": 0}, {"max_nfev": -5}):
        add(f"run(**{opts})", lambda opts=opts: flowsim.run(sc(), **opts), quick=opts == {"rtol": 0})
    add("run(rtol=1e-30) (issue: record what was used)", lambda: flowsim.run(sc(), rtol=1e-30))
    add("run(solver='bogus')", lambda: flowsim.run(sc(), solver="bogus"))
    for name, fn in (("load_scenario('nope')", lambda: flowsim.load_scenario("nope")),
                     ("load_scenario(None)", lambda: flowsim.load_scenario(None)),
                     ("load_scenario(5)", lambda: flowsim.load_scenario(5)),
                     ("load_scenario('/nonexistent.toml')", lambda: flowsim.load_scenario("/nonexistent.toml")),
                     ("read_scenario(directory)", lambda: flowsim.read_scenario("/tmp"))):
        add(name, fn)
    for upd in ({"tau_T": math.nan}, {"tau_T": -1}, {"tau_T": "2"}, {"tau_T": None}, {"tau_T": [1, 2]},
                {"tau_T": {"KZA": 1}}, {"tau_T": {"KAZ": math.inf}}, {"fo": 0.1}, {"k": 2.5}, {"k": 0},
                {"k": 1000}, {"r": -1}, {"D_x": 1e308}, {"K": 0}, {"K": 1e10}, {"gdp": 1e-300},
                {"q_on": 0.9, "q_ret": 0.9}, {"P": "x"}, {"tau_T": complex(1, 1)}, {"tau_T": np.array([1.0, 2.0])},
                {"tau_T": True}, {"f0": 1000, "tau_T": 1e-3, "tau_S": 1e-3}):
        add(f"with_params({upd!r})", lambda upd=upd: flowsim.run(sc().with_params(**upd)))
    import datetime as dt
    d = dt.date(2022, 10, 1)
    for name, fn in (("Pulse(total=nan)", lambda: flowsim.Pulse(total=math.nan)),
                     ("Pulse(total=-1)", lambda: flowsim.Pulse(total=-1)),
                     ("Pulse(total='5')", lambda: flowsim.Pulse(total="5")),
                     ("Pulse(scale_days=0)", lambda: flowsim.Pulse(total=1, scale_days=0)),
                     ("Pulse(start='2022-10-01')", lambda: flowsim.Pulse(total=1, start="2022-10-01")),
                     ("DailyCounts(2-D) (issue)", lambda: flowsim.DailyCounts(counts=np.ones((2, 3)), start=d)),
                     ("DailyCounts(counts=[-1])", lambda: flowsim.DailyCounts(counts=(-1.0,), start=d)),
                     ("DailyCounts(counts='abc')", lambda: flowsim.DailyCounts(counts="abc", start=d)),
                     ("PiecewiseLinear(points=[])", lambda: flowsim.PiecewiseLinear(points=())),
                     ("PiecewiseLinear(decreasing)", lambda: flowsim.PiecewiseLinear(
                         points=((d, 1.0), (d - dt.timedelta(1), 0.0)))),
                     ("Closure(end < start)", lambda: flowsim.Closure(start=d, end=d - dt.timedelta(5))),
                     ("Closure(start='x')", lambda: flowsim.Closure(start="x")),
                     ("Policy(factor=nan)", lambda: flowsim.Policy(parameter="f0", host="KAZ", start=d,
                                                                   factor=math.nan)),
                     ("Policy(parameter='k')", lambda: flowsim.Policy(parameter="k", host="KAZ", start=d, value=3)),
                     ("Host('kaz')", lambda: flowsim.Host("kaz")),
                     ("Host('POL', like='XXX')", lambda: flowsim.Host("POL", like="XXX")),
                     ("replace(horizon_days=-1)", lambda: sc().replace(horizon_days=-1)),
                     ("replace(horizon_days=1e9)", lambda: sc().replace(horizon_days=10**9)),
                     ("replace(start='2022-09-21')", lambda: flowsim.run(sc().replace(start="2022-09-21"))),
                     ("replace(initial={'GEO': {'R': nan}})", lambda: sc().replace(initial={"GEO": {"R": math.nan}})),
                     ("replace(arrivals={'KAZ': 5})", lambda: sc().replace(arrivals={"KAZ": 5})),
                     ("with_hosts('XXX')", lambda: sc().with_hosts("XXX")),
                     ("result.series('bogus')", lambda: flowsim.run(sc()).series("bogus", "KAZ")),
                     ("result.series('N', 'KZA')", lambda: flowsim.run(sc()).series("N", "KZA")),
                     ("result.series('N', member=5)", lambda: flowsim.run(sc()).series("N", "KAZ", member=5)),
                     ("result.summary()['KAZ']['pv_net'] (issue)",
                      lambda: flowsim.run(sc()).summary()["KAZ"]["pv_net"]),
                     ("result.summary('bogus')", lambda: flowsim.run(sc()).summary("bogus")),
                     ("result.save('/nonexistent/dir/r.npz')", lambda: flowsim.run(sc()).save("/nonexistent/d/r.npz")),
                     ("calibrate(params=['bogus'])", lambda: flowsim.calibrate(
                         sc(), flowsim.datasets.observations_2022(), ["bogus"])),
                     ("calibrate(observations=[])", lambda: flowsim.calibrate(sc(), [], ["tau_T[KAZ]"])),
                     ("calibrate(starts=0)", lambda: flowsim.calibrate(
                         sc(), flowsim.datasets.observations_2022(), ["tau_T[KAZ]"], starts=0)),
                     ("validate(until='soon')", lambda: flowsim.validate(
                         sc(), flowsim.datasets.observations_2022(), "soon", ["tau_T[KAZ]"]))):
        add(name, fn, note="issue12-firsthour" if "pv_net" in name else "")
    for c in cases:
        if "(issue)" in c.name and c.name.startswith("DailyCounts"):
            c.expect, c.note = "refuse", "issue12-silent"
    return cases


def cli_flag_cases() -> list[Case]:
    S = "CLI flags"
    cases = []

    def write_short(tmp):
        (tmp / "s.toml").write_text(SHORT)

    def add(name, argv, expect="either", note="", quick=False, setup=write_short, check_out=True):
        cases.append(Case(S, name, cli_case(argv, expect=expect, setup=setup, check_out=check_out), expect, note,
                          quick))

    run = ["run", "s.toml", "--no-figures"]
    add("run without --out", run[:2])
    add("run --out '' (issue)", [*run, "--out", ""], "refuse", "issue12-silent", check_out=False)
    for rtol in ("0", "-1", "nan", "abc", "1", "1e-3", "inf"):
        add(f"run --rtol {rtol}", [*run, "--rtol", rtol, "--out", "{out}"], quick=rtol == "abc")
    add("run --rtol 1e-30 (issue)", [*run, "--rtol", "1e-30", "--out", "{out}"])
    add("run --method bogus", [*run, "--method", "bogus", "--out", "{out}"])
    add("run --method LSODA", [*run, "--method", "LSODA", "--out", "{out}"])
    add("run a missing scenario", ["run", "nope", "--out", "{out}"])
    add("run a misspelt built-in", ["run", "kazakstan-2022", "--out", "{out}"])
    add("run a folder", ["run", "{tmp}", "--out", "{out}"])
    add("run --out an existing file", [*run, "--out", "{tmp}/s.toml"], check_out=False)
    add("run --out under a file", [*run, "--out", "{tmp}/s.toml/sub"], check_out=False)
    add("run --out /proc/x (unwritable)", [*run, "--out", "/proc/flowsim-fuzz"], check_out=False)
    add("run with an unknown flag", [*run, "--bogus", "--out", "{out}"])
    add("unknown command", ["rnu", "s.toml"])
    add("no command", [])
    add("--version", ["--version"], check_out=False)

    sweep = ["sweep", "s.toml", "--no-figures", "--no-progress"]
    for flags in (["--n", "0"], ["--n", "-1"], ["--n", "abc"], ["--n", "100000000"], ["--n", "2.5"],
                  ["--n", "4", "--seed", "-1"], ["--n", "4", "--seed", "abc"], ["--n", "4", "--vary", "bogus=0:1"],
                  ["--n", "4", "--vary", "tau_T=5:1"], ["--n", "4", "--vary", "tau_T=nan:1"],
                  ["--n", "4", "--vary", "tau_T[KZA]=1:2"], ["--n", "4", "--vary", "tau_T"],
                  ["--n", "4", "--vary", "tau_T=-1:2"], ["--n", "4", "--sampler", "bogus"],
                  ["--n", "4", "--keep", "bogus"], ["--n", "4", "--dt", "0", "--stochastic"],
                  ["--n", "4", "--dt", "-1", "--stochastic"], ["--n", "4", "--workers", "0"],
                  ["--n", "4", "--workers", "-2"], ["--n", "4", "--chunk-size", "-1"],
                  ["--n", "4", "--dask", "tcp://127.0.0.1:1"], ["--n", "4", "--dask", "not an address"],
                  ["--n", "4", "--vary", "k=1:200"]):
        add("sweep " + " ".join(flags), [*sweep, *flags, "--out", "{out}"], quick=flags == ["--n", "0"])
    add("sweep --chunk-size 0 (issue)", [*sweep, "--n", "4", "--chunk-size", "0", "--out", "{out}"])
    add("sweep --dt without --stochastic (issue)", [*sweep, "--n", "4", "--dt", "0.5", "--out", "{out}"], "refuse",
        "issue12-silent")
    sens = ["sensitivity", "s.toml", "--no-figures", "--no-progress"]
    for flags in (["--n", "7"], ["--n", "0"], ["--n", "8", "--bootstrap", "-1"], ["--n", "8", "--seed", "-3"],
                  ["--n", "8", "--output", "bogus"], ["--n", "8", "--output", "residents.bogus"],
                  ["--n", "8", "--host", "KZA"], ["--n", "8", "--host", "UZB"], ["--n", "8", "--vary", "x=1:2"]):
        add("sensitivity " + " ".join(flags), [*sens, *flags, "--out", "{out}"])
    val = ["validate", "s.toml", "--no-figures"]
    for flags in (["--until", "soon"], ["--until", "2022-13-01"], ["--until", "2022-09-01", "--params", "tau_T[KAZ]"],
                  ["--until", "2022-10-15", "--params", "bogus"], ["--until", "2022-10-15", "--params", "tau_T[KZA]"],
                  ["--until", "2022-10-15", "--params", "tau_T[KAZ]", "--seed", "-1"],
                  ["--until", "2022-10-15", "--params", "tau_T[KAZ]", "--starts", "0"],
                  ["--until", "2022-10-15", "--params", "tau_T[KAZ]", "--priors", "bogus"],
                  ["--until", "2022-10-15", "--params", "tau_T[KAZ]", "--observations", "missing.csv"],
                  ["--until", "2022-10-15", "--params", "tau_T[KAZ]", "--hosts", "KZA"]):
        add("validate " + " ".join(flags), [*val, *flags, "--out", "{out}"])
    add("validate --until after the horizon (issue)",
        [*val, "--until", "2030-01-01", "--params", "tau_T[KAZ]", "--out", "{out}"], "refuse", "issue12-silent")
    cal = ["calibrate", "s.toml", "--no-figures"]
    for flags in (["--params", "bogus"], ["--params", "k"], ["--params", "tau_T[KAZ]", "--seed", "-1"],
                  ["--params", "tau_T[KAZ]", "--mcmc-steps", "-1"], ["--params", "tau_T[KAZ]", "--mcmc-steps", "4",
                                                                     "--walkers", "1"],
                  ["--params", "tau_T[KAZ]", "--mcmc-steps", "4", "--thin", "0"],
                  ["--params", "tau_T[KAZ]", "--mcmc-steps", "4", "--burn", "10"],
                  ["--params", "tau_T[KAZ]", "--mcmc-steps", "4", "--mcmc-seed", "-1"],
                  ["--params", "tau_T[KAZ]", "--members", "-1"], ["--params", "tau_T[KAZ]", "--starts", "-1"],
                  ["--params", "tau_T[KAZ]", "--observations", "{tmp}/s.toml"]):
        add("calibrate " + " ".join(flags), [*cal, *flags, "--out", "{out}"])
    add("compare one scenario", ["compare", "s.toml", "--no-figures", "--out", "{out}"])
    add("compare with a missing one", ["compare", "s.toml", "nope", "--no-figures", "--out", "{out}"])
    add("show --host KZA", ["show", "s.toml", "--host", "KZA"], check_out=False)
    add("show a missing scenario", ["show", "nope"], check_out=False)
    add("init over an existing file", ["init", "s.toml"], check_out=False)
    add("init --hosts bad", ["init", "{tmp}/n.toml", "--hosts", "POL,,x"], check_out=False)
    add("init --start bad", ["init", "{tmp}/n.toml", "--start", "2022-02-30"], check_out=False)
    add("init --base missing", ["init", "{tmp}/n.toml", "--base", "nope"], check_out=False)
    add("init into a missing folder", ["init", "{tmp}/no/such/n.toml"], check_out=False)
    return cases


# -------------------------------------------------------------------------------- saved results

def _saved(tmp: Path) -> Path:
    res = flowsim.run(scenario_from_toml(SHORT))
    path = tmp / "r.npz"
    res.save(path)
    return path


def _edit_npz(path: Path, edit) -> None:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    edit(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def saved_result_cases() -> list[Case]:
    S = "saved results"
    cases = []

    def add(name, prepare, expect="either", note="", quick=False):
        def action(tmp, prepare=prepare):
            path = _saved(tmp)
            prepare(path)
            return call(lambda: flowsim.load_result(path), expect)

        cases.append(Case(S, name, action, expect, note, quick))

    def set_(key, fn):
        return lambda p: _edit_npz(p, lambda a: a.__setitem__(key, fn(a[key])))

    add("npz: states NaN (issue)", set_("states", lambda x: np.where(np.arange(x.size).reshape(x.shape) == 5,
                                                                       np.nan, x)), "refuse", "issue12-silent")
    add("npz: states negated (issue)", set_("states", lambda x: -x), "refuse", "issue12-silent")
    add("npz: economy x 2", set_("economy", lambda x: x * 2), "refuse", "issue12-silent")
    add("npz: states one shorter", set_("states", lambda x: x[..., :-1]))
    add("npz: dates shuffled", set_("dates", lambda x: x[::-1]))
    add("npz: states as text", set_("states", lambda x: np.array(["a"])))
    add("npz: metadata not JSON", set_("metadata", lambda x: np.array("{not json")))
    add("npz: metadata empty", set_("metadata", lambda x: np.array("{}")))
    add("npz: inputs edited", set_("inputs", lambda x: np.array(str(x).replace('"horizon_days": 30',
                                                                                  '"horizon_days": 31'))))

    def drop(key):
        return lambda p: _edit_npz(p, lambda a: a.pop(key))

    add("npz: no states", drop("states"), quick=True)
    add("npz: no metadata", drop("metadata"))
    add("npz: no inputs", drop("inputs"))
    add("npz: truncated", lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]))
    add("npz: empty file", lambda p: p.write_bytes(b""))
    add("npz: random bytes", lambda p: p.write_bytes(os.urandom(4096)))
    add("npz: a text file", lambda p: p.write_text("hello"))
    add("npz: one flipped byte", lambda p: p.write_bytes(_flip(p.read_bytes())))

    def zip_with_pickle(p):
        with zipfile.ZipFile(p, "w") as z:
            buf = io.BytesIO()
            np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
            z.writestr("states.npy", buf.getvalue())

    add("npz: a pickled array", zip_with_pickle)
    cases.append(Case(S, "load_result(missing path)", lambda tmp: call(lambda: flowsim.load_result(tmp / "no.npz"))))
    cases.append(Case(S, "load_result(folder)", lambda tmp: call(lambda: flowsim.load_result(tmp))))
    cases.append(Case(S, "load_result(None)", lambda tmp: call(lambda: flowsim.load_result(None))))

    # resolved.json
    def resolved_case(name, edit, expect="either", note="", raw=None):
        def action(tmp):
            sc = scenario_from_toml(SHORT)
            data = json.loads(json.dumps(sc.to_dict(), default=str))
            data["flowsim_version"] = flowsim.__version__
            data["solver"] = {"method": "RK45", "rtol": 1e-8, "atol": 1e-6}
            path = tmp / "resolved.json"
            if raw is not None:
                path.write_text(raw(json.dumps(data)))
            else:
                edit(data)
                path.write_text(json.dumps(data))
            return call(lambda: flowsim.run(flowsim.load_scenario(str(path))), expect)

        cases.append(Case(S, "resolved.json: " + name, action, expect, note))

    resolved_case("unchanged", lambda d: None)
    resolved_case("unknown key in solver (issue)", lambda d: d["solver"].__setitem__("fast", True), "refuse",
                  "issue12-silent")
    resolved_case("solver = 'fast' (issue)", lambda d: d.__setitem__("solver", "fast"), "refuse", "issue12-silent")
    resolved_case("future flowsim_version (issue)", lambda d: d.__setitem__("flowsim_version", "99.0"), "refuse",
                  "issue12-silent")
    resolved_case("daily arrivals edited", lambda d: d["arrivals"].__setitem__(
        "KAZ", [x * 2 for x in d["arrivals"]["KAZ"]]) if isinstance(d.get("arrivals"), dict) else None)
    resolved_case("tau_T negative", lambda d: d["tau_T"].__setitem__("KAZ", -1) if isinstance(d["tau_T"], dict)
                  else d.__setitem__("tau_T", -1))
    resolved_case("tau_T NaN", lambda d: d.__setitem__("tau_T", float("nan")))
    resolved_case("hosts empty", lambda d: d.__setitem__("hosts", []))
    resolved_case("horizon 1e9", lambda d: d.__setitem__("horizon_days", 10**9))
    resolved_case("no P", lambda d: d.pop("P"))
    resolved_case("P as text", lambda d: d.__setitem__("P", "x"))
    resolved_case("unknown top-level key", lambda d: d.__setitem__("bogus", 1))
    resolved_case("initial R 1e308", lambda d: d.__setitem__("initial", {"GEO": {"R": 1e308}}))
    resolved_case("truncated JSON", None, raw=lambda s: s[: len(s) // 2])
    resolved_case("not an object", None, raw=lambda s: "[1, 2, 3]")
    resolved_case("empty file", None, raw=lambda s: "")
    return cases


def _flip(data: bytes) -> bytes:
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


# ------------------------------------------------------------------------------------------ data files

OBS_HEADER = "host,quantity,date_start,date_end,value,low,high,unit,qualifier,note,source_title,source_url,quote"
OBS_ROW = "KAZ,cumulative_entries,2022-09-21,2022-09-27,98000,,,persons,approximately,n,t,https://x,q"


def data_file_cases() -> list[Case]:
    S = "data files"
    cases = []

    def obs(name, text, expect="either", note="", quick=False):
        def action(tmp):
            p = tmp / "obs.csv"
            p.write_text(text)
            return call(lambda: flowsim.load_observations(p), expect)

        cases.append(Case(S, "observations: " + name, action, expect, note, quick))

    obs("unchanged", f"{OBS_HEADER}\n{OBS_ROW}\n", quick=True)
    obs("share of 7 (issue)", f"{OBS_HEADER}\nKAZ,share_stayed,2022-09-21,2022-11-01,7,,,share,,n,t,u,q\n",
        "refuse", "issue12-silent")
    obs("duplicated header (issue)", f"{OBS_HEADER}\n{OBS_HEADER}\n{OBS_ROW}\n", "refuse", "issue12-silent")
    obs("unknown qualifier (issue)", f"{OBS_HEADER}\n{OBS_ROW.replace('approximately', 'vaguely')}\n", "refuse",
        "issue12-silent")
    for name, row in (("negative value", OBS_ROW.replace("98000", "-5")),
                      ("NaN value", OBS_ROW.replace("98000", "nan")),
                      ("inf value", OBS_ROW.replace("98000", "inf")),
                      ("text value", OBS_ROW.replace("98000", "many")),
                      ("bad date", OBS_ROW.replace("2022-09-27", "2022-09-31")),
                      ("end before start", OBS_ROW.replace("2022-09-27", "2022-09-01")),
                      ("unknown host", OBS_ROW.replace("KAZ", "KZA")),
                      ("unknown quantity", OBS_ROW.replace("cumulative_entries", "entries_total")),
                      ("low > high", OBS_ROW.replace("98000,,", "98000,99000,90000")),
                      ("value outside low..high", OBS_ROW.replace("98000,,", "98000,1,2")),
                      ("too few columns", "KAZ,cumulative_entries,2022-09-21"),
                      ("too many columns", OBS_ROW + ",extra,extra"),
                      ("huge value", OBS_ROW.replace("98000", "1e308")),
                      ("wrong unit", OBS_ROW.replace("persons", "USD"))):
        obs(name, f"{OBS_HEADER}\n{row}\n")
    obs("missing column", f"{OBS_HEADER.replace('value,', '')}\n{OBS_ROW}\n")
    obs("empty file", "")
    obs("header only", OBS_HEADER + "\n")
    obs("BOM and CRLF", "\ufeff" + f"{OBS_HEADER}\r\n{OBS_ROW}\r\n")
    obs("binary", "\x00\x01\x02")

    def obs_bytes(tmp):
        p = tmp / "obs.csv"
        row = OBS_ROW.replace(",n,", ",caf\xe9,")
        p.write_bytes(f"{OBS_HEADER}\n{row}\n".encode("latin-1"))
        return call(lambda: flowsim.load_observations(p))

    cases.append(Case(S, "observations: latin-1 bytes", obs_bytes))
    cases.append(Case(S, "observations: missing file", lambda tmp: call(lambda: flowsim.load_observations(
        tmp / "no.csv"))))

    # observation files used by validate/calibrate through the CLI
    def cli_obs(name, text, flags, expect="either", note=""):
        def setup(tmp):
            (tmp / "s.toml").write_text(SHORT)
            (tmp / "obs.csv").write_text(text)

        cases.append(Case(S, "validate --observations: " + name,
                          cli_case(["validate", "s.toml", "--no-figures", "--observations", "obs.csv", *flags,
                                    "--out", "{out}"], expect=expect, setup=setup), expect, note))

    cli_obs("a NaN value", f"{OBS_HEADER}\n{OBS_ROW.replace('98000', 'nan')}\n",
            ["--until", "2022-09-30", "--params", "tau_T[KAZ]"])
    cli_obs("figures past the horizon (issue)",
            f"{OBS_HEADER}\n{OBS_ROW}\n{OBS_ROW.replace('2022-09-27', '2023-09-27')}\n",
            ["--until", "2022-09-30", "--params", "tau_T[KAZ]"], "refuse", "issue12-silent")

    # daily arrivals CSV
    ARR_HEADER = "host,date,entries"

    def arr(name, text, expect="either", note=""):
        def action(tmp):
            p = tmp / "arr.csv"
            p.write_text(text)

            def go():
                daily = flowsim.daily_arrivals_from_csv(p)
                sc = scenario_from_toml(SHORT)
                return flowsim.run(sc.replace(arrivals={h: (s,) for h, s in daily.items()}))
            return call(go, expect)

        cases.append(Case(S, "daily arrivals: " + name, action, expect, note))

    arr("unchanged", f"{ARR_HEADER}\nKAZ,2022-09-21,100\nKAZ,2022-09-22,200\n")
    for name, rows in (("negative", "KAZ,2022-09-21,-100"), ("NaN", "KAZ,2022-09-21,nan"),
                       ("inf", "KAZ,2022-09-21,inf"), ("1e12", "KAZ,2022-09-21,1e12"),
                       ("bad date", "KAZ,2022-02-30,5"), ("text", "KAZ,2022-09-21,lots"),
                       ("duplicate date", "KAZ,2022-09-21,5\nKAZ,2022-09-21,6"),
                       ("gap in dates", "KAZ,2022-09-21,5\nKAZ,2022-09-25,6"),
                       ("dates out of order", "KAZ,2022-09-22,5\nKAZ,2022-09-21,6"),
                       ("before the start", "KAZ,2022-09-01,5"), ("unknown host", "KZA,2022-09-21,5"),
                       ("empty value", "KAZ,2022-09-21,")):
        arr(name, f"{ARR_HEADER}\n{rows}\n")
    arr("missing column", "host,date\nKAZ,2022-09-21\n")
    arr("empty file", "")

    # hosts CSV
    H_HEADER = "name,host,value,low,high,source"

    def hosts(name, text):
        def action(tmp):
            p = tmp / "hosts.csv"
            p.write_text(text)
            return call(lambda: flowsim.hosts_from_csv(p, like="KAZ"))

        cases.append(Case(S, "hosts: " + name, action))

    hosts("unchanged", f"{H_HEADER}\ntau_T,POL,35,14,60,s\n")
    for name, row in (("NaN value", "tau_T,POL,nan,14,60,s"), ("negative", "tau_T,POL,-1,14,60,s"),
                      ("unknown parameter", "tau_X,POL,3,1,5,s"), ("bad host code", "tau_T,pol,3,1,5,s"),
                      ("text", "tau_T,POL,abc,1,5,s"), ("low > high", "tau_T,POL,3,5,1,s"),
                      ("duplicate", "tau_T,POL,3,1,5,s\ntau_T,POL,4,1,5,s")):
        hosts(name, f"{H_HEADER}\n{row}\n")
    return [c for c in cases if c is not None]


# ------------------------------------------------------------------------------ signals, concurrency

SLOW = 'base = "kazakhstan-2022"\n'       # the seed, five years, with figures: several seconds


def _outcome_of_folder(tmp: Path, out: Path, complete_names=("timeseries.csv", "summary.csv", "resolved.json")):
    stages = stage_dirs(tmp)
    if stages:
        return "partial", f"left {stages[0].relative_to(tmp)} ({_size(stages[0]) / 1e6:.1f} MB)"
    if out.exists():
        names = {p.name for p in out.iterdir()}
        if names and not all(n in names for n in complete_names):
            return "partial", f"--out holds only {sorted(names)[:6]}"
    return None


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def signal_case(sig, command="run", delay=None):
    def action(tmp):
        (tmp / "s.toml").write_text(SLOW)
        out = tmp / "out"
        argv = ["run", "s.toml", "--out", str(out)] if command == "run" else \
            ["sweep", "s.toml", "--n", "64", "--no-progress", "--out", str(out)]

        def wait_then(proc):
            t0 = time.time()
            # wait until the run is writing (a stage folder exists) or for `delay` seconds
            while time.time() - t0 < (delay or 40):
                if stage_dirs(tmp) or proc.poll() is not None:
                    break
                time.sleep(0.05)
            time.sleep(0.2)
            if proc.poll() is None:
                os.killpg(proc.pid, sig) if sig == signal.SIGKILL else proc.send_signal(sig)

        rc, stdout, stderr = flowsim_cli(argv, tmp, TIMEOUT, wait_then=wait_then)
        if rc is None:
            return "hang", f"did not end after {signal.Signals(sig).name}"
        if "Traceback (most recent call last)" in stderr:
            return "traceback", stderr.strip().splitlines()[-1][:200]
        bad = _outcome_of_folder(tmp, out)
        if bad and sig != signal.SIGKILL:       # nothing can clean up after SIGKILL: the next run must
            return bad
        if sig == signal.SIGKILL:
            # the next run into the same place must clean what the killed one left
            rc2, _, err2 = flowsim_cli(["run", "s.toml", "--no-figures", "--out", str(out)], tmp, TIMEOUT)
            stages = stage_dirs(tmp)
            if stages:
                return "partial", f"next run left the killed run's {stages[0].relative_to(tmp)}"
            if rc2 != 0:
                return "traceback", f"next run failed: {err2.strip()[-200:]}"
        if rc == 0:
            return "ran", f"finished before {signal.Signals(sig).name} arrived"
        return "refused", f"{signal.Signals(sig).name}: exit {rc}, nothing half-written"

    return action


def killed_leftovers_case(tmp):
    """SIGKILL leaves a stage folder (nothing can stop that); the next run must remove it."""
    (tmp / "s.toml").write_text(SLOW)
    out = tmp / "out"
    (out / ".flowsim-stage-deadbeef").mkdir(parents=True)
    (out / ".flowsim-stage-deadbeef" / "timeseries.csv").write_text("partial")
    (tmp / ".flowsim-stage-out-deadbeef").mkdir()
    rc, _, err = flowsim_cli(["run", "s.toml", "--no-figures", "--out", str(out)], tmp)
    stages = stage_dirs(tmp)
    if stages:
        return "partial", f"a run left the earlier killed run's {stages[0].relative_to(tmp)} in place"
    return ("ran", "stale stage folders removed") if rc == 0 else ("traceback", err.strip()[-200:])


def two_runs_case(tmp):
    (tmp / "s.toml").write_text(SLOW)
    (tmp / "t.toml").write_text(SLOW + 'name = "second"\n[parameters]\ntau_S = 150\n')
    out = tmp / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg")
    procs = [subprocess.Popen([sys.executable, "-m", "flowsim", "run", f, "--out", str(out)], cwd=tmp, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
             for f in ("s.toml", "t.toml")]
    results = []
    for p in procs:
        try:
            o, e = p.communicate(timeout=TIMEOUT * 2)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            return "hang", "a concurrent run did not end"
        results.append((p.returncode, e))
    if any("Traceback" in e for _, e in results):
        return "traceback", [e for _, e in results if "Traceback" in e][0].strip().splitlines()[-1]
    codes = [rc for rc, _ in results]
    if codes == [0, 0]:
        return "partial", "both runs into one --out reported success: one result silently lost"
    if sorted(codes) == [0, 2]:
        return "refused", [e for rc, e in results if rc == 2][0].strip()[:150]
    return "traceback", f"exit statuses {codes}"


def stale_figures_case(tmp):
    (tmp / "s.toml").write_text(SHORT)
    (tmp / "t.toml").write_text(SHORT + 'name = "other"\n')
    out = tmp / "out"
    rc1, _, e1 = flowsim_cli(["run", "s.toml", "--out", str(out)], tmp)
    rc2, _, e2 = flowsim_cli(["run", "t.toml", "--no-figures", "--out", str(out)], tmp)
    if rc1 or rc2:
        return "traceback", (e1 + e2).strip()[-200:]
    pngs = sorted(p.name for p in out.glob("*.png"))
    if pngs:
        return "partial", f"rerun with --no-figures left the previous scenario's {len(pngs)} PNGs ({pngs[0]}...)"
    return "ran", "no stale figures"


def foreign_file_case(tmp):
    (tmp / "s.toml").write_text(SHORT)
    out = tmp / "out"
    out.mkdir()
    (out / "my-notes.txt").write_text("mine")
    rc, _, err = flowsim_cli(["run", "s.toml", "--no-figures", "--out", str(out)], tmp)
    if rc not in (0, 2):
        return "traceback", err.strip()[-200:]
    if not (out / "my-notes.txt").exists():
        return "partial", "a file flowsim did not write was removed from --out"
    return ("ran" if rc == 0 else "refused"), "a file flowsim did not write is left alone"


def refused_rerun_keeps_old_case(tmp):
    (tmp / "s.toml").write_text(SHORT)
    out = tmp / "out"
    rc, _, err = flowsim_cli(["run", "s.toml", "--no-figures", "--out", str(out)], tmp)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (tmp / "s.toml").write_text(SHORT + "[parameters]\ntau_T = -1\n")
    rc2, _, err2 = flowsim_cli(["run", "s.toml", "--no-figures", "--out", str(out)], tmp)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    if rc2 != 2:
        return "traceback", f"bad rerun exit {rc2}: {err2.strip()[-150:]}"
    if before != after:
        return "partial", "a refused rerun changed the earlier outputs"
    return "refused", "earlier outputs intact after a refused rerun"


def signal_cases() -> list[Case]:
    S = "signals/concurrency"
    cases = []
    note = "issue12-outputs"
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
        cases.append(Case(S, f"{sig.name} during run", signal_case(sig), note=note, timeout=TIMEOUT * 3))
        cases.append(Case(S, f"{sig.name} during sweep", signal_case(sig, "sweep"), note=note, timeout=TIMEOUT * 3))
    cases.append(Case(S, "SIGTERM 1 s into run", signal_case(signal.SIGTERM, delay=1.0), note=note,
                      timeout=TIMEOUT * 3))
    cases.append(Case(S, "stage folders of a killed run", killed_leftovers_case, note=note, timeout=TIMEOUT * 2))
    cases.append(Case(S, "two runs into one --out", two_runs_case, note=note, timeout=TIMEOUT * 3))
    cases.append(Case(S, "rerun --no-figures into a used folder", stale_figures_case, note=note,
                      timeout=TIMEOUT * 3))
    cases.append(Case(S, "a user's file in --out", foreign_file_case, note=note, timeout=TIMEOUT * 2))
    cases.append(Case(S, "refused rerun into a used folder", refused_rerun_keeps_old_case, timeout=TIMEOUT * 3,
                      quick=True))
    return cases


def all_cases() -> list[Case]:
    return [*scenario_file_cases(), *cli_flag_cases(), *python_api_cases(), *saved_result_cases(),
            *data_file_cases(), *signal_cases()]


# ============================================================================================ runner

def _child(case: Case, conn, tmp: str) -> None:
    os.setsid()                              # so that a hang can be killed with its subprocesses
    import warnings
    warnings.simplefilter("ignore")
    try:
        cls, detail = case.action(Path(tmp))
    except BaseException as exc:  # noqa: BLE001 - a bug of a case is reported as such
        cls, detail = "traceback", f"(in the fuzz case) {type(exc).__name__}: {exc}"
    conn.send((cls, str(detail)))
    conn.close()


def run_cases(cases: list[Case], jobs: int = 1, verbose: bool = False) -> Report:
    ctx = mp.get_context("fork")
    report = Report()
    pending = list(cases)
    active = []          # (case, process, conn, tmp, t0)
    root = Path(tempfile.mkdtemp(prefix="flowsim-fuzz-"))
    try:
        while pending or active:
            while pending and len(active) < jobs:
                case = pending.pop(0)
                tmp = root / f"case{len(report.cases) + len(active)}-{time.monotonic_ns()}"
                tmp.mkdir()
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(case, child, str(tmp)), daemon=False)
                proc.start()
                child.close()
                active.append((case, proc, parent, tmp, time.monotonic()))
            time.sleep(0.02)
            for item in list(active):
                case, proc, conn, tmp, t0 = item
                elapsed = time.monotonic() - t0
                result = None
                if conn.poll():
                    try:
                        result = conn.recv()
                    except EOFError:
                        result = ("traceback", f"the case process died (exit {proc.exitcode})")
                elif not proc.is_alive():
                    result = ("traceback", f"the case process died (exit {proc.exitcode})")
                elif elapsed > case.timeout:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    result = ("hang", f"still running after {case.timeout:.0f} s")
                if result is None:
                    continue
                proc.join(5)
                active.remove(item)
                shutil.rmtree(tmp, ignore_errors=True)
                report.cases.append((case, result[0], result[1], elapsed))
                if verbose:
                    print(f"[{len(report.cases):4d}] {result[0]:9s} {elapsed:5.1f}s  {case.surface}: {case.name}"
                          f"  -- {result[1][:140]}", file=sys.stderr, flush=True)
    finally:
        for _case, proc, *_ in active:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(root, ignore_errors=True)
    return report


def markdown(report: Report) -> str:
    counts = Counter((c.surface, cls) for c, cls, _, _ in report.cases)
    surfaces = [s for s in SURFACES if any(c.surface == s for c, *_ in report.cases)]
    lines = ["| surface | cases | " + " | ".join(CLASSES) + " |",
             "|---|---:|" + "---:|" * len(CLASSES)]
    for s in surfaces:
        n = sum(counts[(s, k)] for k in CLASSES)
        lines.append(f"| {s} | {n} | " + " | ".join(str(counts[(s, k)]) for k in CLASSES) + " |")
    tot = Counter(cls for _, cls, _, _ in report.cases)
    lines.append(f"| **all** | **{len(report.cases)}** | " + " | ".join(f"**{tot[k]}**" for k in CLASSES) + " |")
    bad = [(c, cls, d) for c, cls, d, _ in report.cases if cls not in ("refused", "warned", "ran")]
    if bad:
        lines += ["", f"Cases that are not a clean refusal or a clean run ({len(bad)}):", ""]
        for c, cls, d in sorted(bad, key=lambda x: (CLASSES.index(x[1]), x[0].surface)):
            note = f" [{c.note}]" if c.note else ""
            lines.append(f"- **{cls}**{note} {c.surface}: {c.name} -- {d[:220]}")
    return "\n".join(lines)


def _warm_up() -> None:
    """Import and cache what every case needs once, before the cases fork (each starts warm)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flowsim.run(scenario_from_toml(SHORT).replace(horizon_days=2))
        flowsim.datasets.observations_2022()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small subset (seconds)")
    ap.add_argument("--surface", action="append", choices=SURFACES, help="only these surfaces")
    ap.add_argument("--match", help="only cases whose name contains this text")
    ap.add_argument("--jobs", type=int, default=2, help="cases at once (default 2)")
    ap.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds before a case is a hang (default 60)")
    ap.add_argument("--list", action="store_true", help="list the cases and stop")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each case as it ends")
    args = ap.parse_args(argv)
    cases = all_cases()
    if args.quick:
        cases = [c for c in cases if c.quick]
    if args.surface:
        cases = [c for c in cases if c.surface in args.surface]
    if args.match:
        cases = [c for c in cases if args.match.lower() in c.name.lower()]
    for c in cases:
        if c.timeout == TIMEOUT:
            c.timeout = args.timeout
    if args.list:
        for c in cases:
            print(f"{c.surface}: {c.name}" + (f" (expect {c.expect})" if c.expect != "either" else ""))
        print(f"{len(cases)} cases")
        return 0
    t0 = time.monotonic()
    _warm_up()
    report = run_cases(cases, jobs=max(1, args.jobs), verbose=args.verbose)
    text = markdown(report)
    print(text)
    print(f"\n{len(report.cases)} cases in {time.monotonic() - t0:.0f} s.")
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0 if all(cls in ("refused", "ran") for _, cls, _, _ in report.cases) else 1


if __name__ == "__main__":
    sys.exit(main())
