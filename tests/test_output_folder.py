"""A command owns its output folder: signals, killed runs, reruns, concurrent runs, an empty --out (issue 12).

The signal tests run real ``python -m flowsim`` processes and signal them
while they work; the concurrency tests hold the lock from another process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flowsim._outdir import LOCK_NAME, MANIFEST_NAME, STAGE_PREFIX, read_manifest
from flowsim._signals import Interrupted, deferred, handle_signals
from flowsim.cli import main

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and locks")

SHORT = """\
name = "short"
base = "kazakhstan-2022"
horizon_days = 60
"""


def _flowsim(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flowsim", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _stages(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(STAGE_PREFIX)] if folder.is_dir() else []


def _wait_for(predicate, proc, timeout=120.0, what="") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended ({proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _staged_file(folder: Path, name: str) -> bool:
    return any((s / name).exists() for s in _stages(folder))


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _earlier_outputs(folder: Path) -> dict:
    """A folder as an earlier run left it: its files, its manifest, and a file of the user's."""
    folder.mkdir()
    for name in ("summary.csv", "timeseries.csv", "accounts.png"):
        (folder / name).write_text(f"earlier {name}\n")
    (folder / MANIFEST_NAME).write_text(json.dumps({"files": ["summary.csv", "timeseries.csv", "accounts.png"]}))
    (folder / "notes.txt").write_text("mine\n")
    return _snapshot(folder)


def _processes_mentioning(text: str) -> list[int]:
    """Pids of the processes whose command line contains ``text`` (a forked worker keeps its parent's)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


# ------------------------------------------------------------------ a run owns its folder
def test_rerun_without_figures_removes_the_earlier_figures_and_keeps_other_files(tmp_path, capsys):
    scenario = tmp_path / "short.toml"
    scenario.write_text(SHORT)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == 5
    assert sorted(read_manifest(out)) == sorted([*pngs, "resolved.json", "summary.csv", "timeseries.csv"])
    (out / "notes.txt").write_text("mine\n")
    (out / "plot.png").write_text("a figure of the user's\n")
    capsys.readouterr()
    assert main(["run", str(scenario), "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "notes.txt", "plot.png", "resolved.json",
                                                     "summary.csv", "timeseries.csv"]
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "plot.png").read_text().startswith("a figure")
    assert read_manifest(out) == ["resolved.json", "summary.csv", "timeseries.csv"]
    assert f"removed 5 earlier outputs this command did not write again: {', '.join(pngs)}" in printed


def test_another_command_into_the_folder_replaces_the_earlier_outputs(tmp_path):
    out = tmp_path / "out"
    _earlier_outputs(out)
    assert main(["sweep", "kazakhstan-2022", "--n", "4", "--seed", "1", "--vary", "tau_S[KAZ]=60:240",
                 "--no-progress", "--no-figures", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "draws.csv", "events.csv", "notes.txt",
                                                     "quantiles.csv"]
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["command"] == "sweep" and manifest["files"] == ["draws.csv", "events.csv", "quantiles.csv"]


def test_a_manifest_never_deletes_outside_the_folder_or_a_folder(tmp_path, capsys):
    scenario = tmp_path / "short.toml"
    scenario.write_text(SHORT)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    (out / "sub").mkdir()
    (out / "sub" / "x.csv").write_text("keep\n")
    names = ["../victim.txt", str(victim), "sub", "sub/x.csv", ".flowsim-lock", "", ".", "..", 7, None]
    (out / MANIFEST_NAME).write_text(json.dumps({"files": names}))
    assert main(["run", str(scenario), "--out", str(out), "--no-figures"]) == 0
    assert victim.read_text() == "keep\n" and (out / "sub" / "x.csv").read_text() == "keep\n"
    (out / MANIFEST_NAME).write_text("{not json")                    # an unreadable manifest: nothing deleted
    (out / "summary.csv").write_text("edited\n")
    assert main(["run", str(scenario), "--out", str(out), "--no-figures"]) == 0
    assert (out / "summary.csv").read_text().startswith("host,") and (out / "sub").is_dir()


# ------------------------------------------------------------------ signals
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_mid_run_leaves_the_folder_as_it_was(tmp_path, signum):
    out = tmp_path / "out"
    before = _earlier_outputs(out)
    proc = _flowsim("run", "kazakhstan-2022", "--out", out, "--no-figures")
    _wait_for(lambda: _stages(out), proc, what="the stage folder")
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, stderr
    assert stderr.strip().splitlines() == [f"flowsim: interrupted by {signum.name}; nothing written."]
    assert _snapshot(out) == before                         # no stage, no lock, the earlier outputs unchanged


def test_sigterm_while_figures_are_drawn_removes_the_stage_and_the_new_folder(tmp_path):
    out = tmp_path / "new" / "out"
    proc = _flowsim("run", "kazakhstan-2022", "--out", out)
    _wait_for(lambda: _staged_file(out, "resolved.json"), proc, what="resolved.json in the stage")
    proc.send_signal(signal.SIGTERM)                        # the figure workers are drawing into the stage
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines() == ["flowsim: interrupted by SIGTERM; nothing written."]
    assert list(tmp_path.iterdir()) == []                   # the folders it created are gone again
    _wait_for(lambda: not _processes_mentioning(str(out)), None, timeout=20, what="the drawing processes to end")


def test_sigkill_leaves_a_stage_that_the_next_run_removes(tmp_path):
    out = tmp_path / "out"
    proc = _flowsim("run", "kazakhstan-2022", "--out", out)
    _wait_for(lambda: _staged_file(out, "resolved.json"), proc, what="resolved.json in the stage")
    proc.kill()
    proc.communicate(timeout=60)
    stale = _stages(out)
    assert len(stale) == 1 and (stale[0] / "summary.csv").exists() and (out / LOCK_NAME).exists()
    # the figure workers die with the command instead of drawing on into the abandoned stage
    _wait_for(lambda: not _processes_mentioning(str(out)), None, timeout=20, what="the drawing processes to end")
    assert main(["run", "kazakhstan-2022", "--out", str(out), "--no-figures"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "resolved.json", "summary.csv",
                                                     "timeseries.csv"]


def test_a_signal_while_outputs_are_moved_in_waits_for_the_move(tmp_path, monkeypatch, capsys):
    import flowsim._outdir as outdir

    scenario = tmp_path / "short.toml"
    scenario.write_text(SHORT)
    out = tmp_path / "out"
    real = os.replace
    calls = []

    def replace_and_signal(a, b):
        if Path(a).parent.name.startswith(STAGE_PREFIX) and Path(b).parent == out:     # moving into place
            calls.append(Path(a).name)
            if len(calls) == 1:
                os.kill(os.getpid(), signal.SIGTERM)       # arrives between the first and second file
        return real(a, b)

    monkeypatch.setattr(outdir.os, "replace", replace_and_signal)
    assert main(["run", str(scenario), "--out", str(out), "--no-figures"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err.strip().splitlines() == [
        f"flowsim: interrupted by SIGTERM; the outputs were written to {out}."]
    assert len(calls) == 3
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "resolved.json", "summary.csv",
                                                     "timeseries.csv"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL      # main() put the handlers back


def test_deferred_signals_nest_and_an_ignored_signal_stays_ignored():
    with handle_signals():
        with pytest.raises(Interrupted) as info:
            with deferred("outer"):
                with deferred("inner"):
                    os.kill(os.getpid(), signal.SIGHUP)
                    os.kill(os.getpid(), signal.SIGTERM)
                done = True
        assert done and info.value.signum == signal.SIGHUP and info.value.note == "outer"
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)          # nohup
    try:
        with handle_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
    finally:
        signal.signal(signal.SIGHUP, previous)


# ------------------------------------------------------------------ a lock
HOLDER = textwrap.dedent("""\
    import sys, time
    from flowsim._outdir import OutputStage
    OutputStage(sys.argv[1], "sweep").__enter__()
    print("locked", flush=True)
    time.sleep(120)
""")


def test_a_second_run_into_a_locked_folder_fails_at_once(tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for argv in (["run", "kazakhstan-2022"], ["sweep", "kazakhstan-2022", "--n", "100000"],
                     ["compare", "kazakhstan-2022", "kazakhstan-2022"]):
            t0 = time.perf_counter()
            assert main([*argv, "--out", str(out), "--no-figures"]) == 2
            assert time.perf_counter() - t0 < 5                    # refused before any work
            captured = capsys.readouterr()
            assert captured.out == ""
            err = captured.err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith(
                f"flowsim: error: output folder {out}: in use by another flowsim run (pid {holder.pid}, "
                "`flowsim sweep`, started "), err
            assert err[0].endswith("wait for it to end or choose another --out.")
    finally:
        holder.kill()
        holder.wait()
    # the holder died by SIGKILL: its lock file and its stage are still there, and are taken over and removed
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == holder.pid and len(_stages(out)) == 1
    assert main(["run", "kazakhstan-2022", "--out", str(out), "--no-figures"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "resolved.json", "summary.csv",
                                                     "timeseries.csv"]


def test_two_real_runs_into_one_folder(tmp_path, capsys):
    out = tmp_path / "out"
    first = _flowsim("run", "kazakhstan-2022", "--out", out, "--no-figures")
    _wait_for(lambda: (out / LOCK_NAME).exists() and (out / LOCK_NAME).read_text().strip(), first,
              what="the first run's lock")
    assert main(["run", "kazakhstan-2022", "--out", str(out), "--no-figures"]) == 2
    assert f"in use by another flowsim run (pid {first.pid}, `flowsim run`" in capsys.readouterr().err
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "resolved.json", "summary.csv",
                                                     "timeseries.csv"]


def test_a_lock_file_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "command": "run"}))
    assert main(["run", "kazakhstan-2022", "--out", str(out), "--no-figures"]) == 0
    assert not (out / LOCK_NAME).exists()


# ------------------------------------------------------------------ --out ''
@pytest.mark.parametrize("argv", [
    ["run", "kazakhstan-2022"],
    ["sweep", "kazakhstan-2022", "--n", "4"],
    ["sensitivity", "kazakhstan-2022", "--n", "4"],
    ["compare", "kazakhstan-2022", "kazakhstan-2022"],
    ["validate", "kazakhstan-2022", "--until", "2022-10-31"],
    ["calibrate", "kazakhstan-2022"],
], ids=lambda a: a[0])
@pytest.mark.parametrize("out", ["", "  "], ids=["empty", "blank"])
def test_an_empty_out_is_refused(tmp_path, monkeypatch, capsys, argv, out):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--out", out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"flowsim: error: output folder {out!r}: empty; give a folder, e.g. --out out/run1."]
    assert list(tmp_path.iterdir()) == []


def test_init_removes_a_temporary_file_left_by_a_killed_init(tmp_path):
    stale = tmp_path / ".mine.toml.k2j3h4.tmp"
    stale.write_text("half")
    assert main(["init", str(tmp_path / "mine.toml")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]


def test_a_signal_after_the_outputs_are_in_place_says_so(tmp_path, monkeypatch, capsys):
    import flowsim._outdir as outdir

    scenario = tmp_path / "short.toml"
    scenario.write_text(SHORT)
    out = tmp_path / "out"

    def note_and_signal(self):
        os.kill(os.getpid(), signal.SIGHUP)                   # while the command prints what it wrote
        return ""

    monkeypatch.setattr(outdir.OutputStage, "removed_note", note_and_signal)
    assert main(["run", str(scenario), "--out", str(out), "--no-figures"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err.strip().splitlines() == [
        f"flowsim: interrupted by SIGHUP; the outputs were written to {out}."]
    assert read_manifest(out) == ["resolved.json", "summary.csv", "timeseries.csv"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_drawing_process_dies_with_its_command():
    script = textwrap.dedent("""\
        import os, signal, time
        from flowsim.cli._figures import _die_with_parent
        pid = os.fork()
        if pid == 0:
            _die_with_parent(signal.SIGKILL)
            time.sleep(120)
            os._exit(0)
        print(pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(0.5)                                           # let the child set its death signal
    parent.kill()
    parent.wait()
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            state = Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return
        if state == "Z":                                      # dead, waiting for init to reap it
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("the forked child outlived its parent")


def test_a_stage_of_the_old_layout_beside_the_folder_is_removed_unless_its_folder_is_in_use(tmp_path):
    """Earlier flowsim staged in the parent of --out; those leftovers go, a live run's stage there stays."""
    parent = tmp_path / "parent"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(parent)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        live = _stages(parent)
        assert len(live) == 1
        assert main(["run", "kazakhstan-2022", "--out", str(parent / "sub"), "--no-figures"]) == 0
        assert _stages(parent) == live                            # the running command's stage stays
    finally:
        holder.kill()
        holder.wait()
    old = tmp_path / f"{STAGE_PREFIX}abc123"                      # an old version's, beside --out
    old.mkdir()
    (old / "timeseries.csv").write_text("partial")
    assert main(["run", "kazakhstan-2022", "--out", str(tmp_path / "out"), "--no-figures"]) == 0
    assert not old.exists()
    # a killed run's lock in the parent (nobody holds it) does not protect its stages either
    assert main(["run", "kazakhstan-2022", "--out", str(parent / "sub"), "--no-figures"]) == 0
    assert _stages(parent) == []
