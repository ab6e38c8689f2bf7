"""Draw a command's figures in worker processes while the command computes and writes its tables.

Drawing PNGs is pure Python and single-threaded, like the solve and the CSV
writing. So ``flowsim run`` forks a worker at the start: it imports
matplotlib while the parent solves; then it forks once more (the copy has
matplotlib already loaded, so the import is paid once) and the two draw half
of the figures each while the parent writes the tables. Where ``fork`` is not
available (Windows, or a parent with threads of its own), everything is drawn
in this process, in the same order, with the same result.

Usage::

    with FigureWorker(enabled=not args.no_figures) as worker:
        result = run(...)
        worker.submit(result, jobs)          # drawn by the workers
        ...write tables...
        worker.wait()                        # raises OutputError if a figure failed
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import traceback

from .._signals import HANDLED
from ..exceptions import OutputError

__all__ = ["FigureJob", "FigureWorker", "draw_figures"]

_command_pid = 0                  # the process that started the worker (the worker ends when it dies)

#: One figure: ``(path, draw, kwargs)``; ``draw(result, **kwargs)`` returns ``(Figure, axes)``.
FigureJob = tuple


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_figures(result, jobs, dpi: int = 110) -> None:
    """Draw and save each ``(path, draw, kwargs)`` job in this process."""
    plt = _pyplot()
    for path, draw, kwargs in jobs:
        fig, _ = draw(result, **kwargs)
        fig.savefig(path, dpi=dpi, pil_kwargs={"compress_level": 3})    # zlib level 3: half the time of 6, +1% size
        plt.close(fig)


def _die_with_parent(signum: int) -> None:
    """Linux: have the kernel send ``signum`` to this process when its parent dies (even by SIGKILL), so a
    drawing process never outlives the command and writes into a stage folder nobody owns any more."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signum, 0, 0, 0)       # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):                                     # pragma: no cover - no prctl
        return


def _draw_split(result, jobs) -> str:
    """Draw ``jobs`` in this process and a fork of it, half each; ``"ok"`` or the first traceback."""
    if len(jobs) < 2:
        draw_figures(result, jobs)
        return "ok"
    mine, theirs = jobs[: len(jobs) // 2], jobs[len(jobs) // 2:]
    read, write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:                                            # pragma: no cover - the second drawing process
        _die_with_parent(signal.SIGKILL)
        if os.getppid() != parent:                          # the worker died before that took effect
            os._exit(1)
        os.close(read)
        status, message = 0, b"ok"
        try:
            draw_figures(result, theirs)
        except BaseException:
            status, message = 1, traceback.format_exc().encode()
        os.write(write, message[-60000:])
        os.close(write)
        os._exit(status)
    os.close(write)
    reply, reaped = "ok", False
    try:
        try:
            draw_figures(result, mine)
        except Exception:
            reply = traceback.format_exc()
        with os.fdopen(read, "rb") as pipe:
            theirs_reply = pipe.read().decode(errors="replace") or "the second drawing process ended without a reply"
        os.waitpid(pid, 0)
        reaped = True
    finally:
        if not reaped:                     # stopped (a signal): no figure may be written after this returns
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    return reply if reply != "ok" else theirs_reply


def _stop(signum, frame):                                   # pragma: no cover - runs in the forked worker
    raise _Stopped(signum)


class _Stopped(BaseException):
    """The worker was told to stop (SIGTERM from the parent, or a signal to the whole process group)."""


def _serve(conn) -> None:                                   # pragma: no cover - runs in the forked worker
    status = 0
    for signum in HANDLED:                                  # stop cleanly, taking the second drawer along
        signal.signal(signum, _stop)
    _die_with_parent(signal.SIGTERM)
    if os.getppid() != _command_pid:                       # the command died before that took effect
        os._exit(1)
    try:
        _pyplot()
        import flowsim.plotting  # noqa: F401  (the drawing code, imported while the parent solves)

        job = conn.recv()
        if job is not None:
            result, jobs = job
            reply = _draw_split(result, jobs)
            status = int(reply != "ok")
            conn.send(reply)
    except EOFError:                                        # the parent went away: nothing to draw
        status = 1
    except BaseException:
        status = 1
        try:
            conn.send(traceback.format_exc())
        except OSError:
            pass
    finally:
        conn.close()
        sys.stdout.flush()
        os._exit(status)


class FigureWorker:
    """A forked process that draws figures (see the module notes); a no-op when disabled or without fork.

    Parameters
    ----------
    enabled : bool
        False (e.g. ``--no-figures``): no process is started.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._proc = self._conn = None
        self._local: list = []
        self._result = None

    def __enter__(self) -> FigureWorker:
        forkable = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
        if self.enabled and forkable:
            sys.stdout.flush()
            sys.stderr.flush()
            global _command_pid
            _command_pid = os.getpid()
            parent, child = multiprocessing.get_context("fork").Pipe()
            self._proc = multiprocessing.get_context("fork").Process(target=_serve, args=(child,), daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        return self

    def submit(self, result, jobs) -> None:
        """Hand ``jobs`` to the worker (drawn here, by :meth:`wait`, when there is none)."""
        if self._conn is None:
            self._result, self._local = result, list(jobs)
            return
        self._conn.send((result, list(jobs)))

    def wait(self) -> None:
        """Wait for the worker's figures; raise :class:`OutputError` if it failed."""
        if self._conn is None:
            if self._local:
                draw_figures(self._result, self._local)
                self._local = []
            return
        try:
            reply = self._conn.recv()
        except EOFError:
            reply = "the figure worker process ended without a reply"
        self._proc.join()
        self._conn.close()
        self._conn = None
        if reply != "ok":
            raise OutputError(f"drawing the figures failed: {reply.strip().splitlines()[-1]}; rerun with "
                              "--no-figures to skip them.")

    def __exit__(self, exc_type, exc, tb):
        if self._conn is not None:                         # an error or a signal before wait(): stop the worker
            if exc_type is None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
                self._proc.join(timeout=5)
            if self._proc.is_alive():                      # it stops its second drawer before it ends, so no
                self._proc.terminate()                     # figure is written into the stage after this
                self._proc.join()
            self._conn.close()
            self._conn = None
        return False
