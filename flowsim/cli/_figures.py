"""Draw a command's figures in worker processes while the command computes and writes its tables.

Drawing PNGs is pure Python and single-threaded, like the solve and the CSV
writing. So ``flowsim run`` forks a worker at the start: it imports
matplotlib while the parent solves, and makes the empty figures (their panels
and ticks, the costliest part of a figure that needs no data) if told which;
then it forks once more (the copy has matplotlib and those figures already, so
they are paid once) and the two draw the figures, split by their cost, while
the parent writes the tables. Where ``fork`` is not
available (Windows, or a parent with threads of its own), everything is drawn
in this process, in the same order, with the same result.

Usage::

    with FigureWorker(enabled=not args.no_figures) as worker:
        worker.prepare(makers)               # optional: empty figures made while run() solves
        result = run(...)
        worker.submit(result, jobs, costs)   # drawn by the workers
        ...write tables...
        worker.wait()                        # raises OutputError if a figure failed
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import sys
import threading
import traceback

from .._signals import HANDLED
from ..exceptions import OutputError

__all__ = ["FigureJob", "FigureWorker", "draw_figures", "make_prepared", "split_by_cost"]

_command_pid = 0                  # the process that started the worker (the worker ends when it dies)

#: One figure: ``(path, draw, kwargs)``; ``draw(result, **kwargs)`` returns ``(Figure, axes)``.
FigureJob = tuple


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_figures(result, jobs, dpi: int = 110, prepared: dict | None = None) -> None:
    """Draw and save each ``(path, draw, kwargs)`` job in this process.

    ``prepared`` maps a job's path to a figure made ahead for it (see
    :meth:`FigureWorker.prepare`), passed to ``draw`` as ``fig=``.
    """
    plt = _pyplot()
    for path, draw, kwargs in jobs:
        if prepared and path in prepared:
            kwargs = {**kwargs, "fig": prepared.pop(path)}
        fig, _ = draw(result, **kwargs)
        fig.savefig(path, dpi=dpi, pil_kwargs={"compress_level": 3})    # zlib level 3: half the time of 6, +1% size
        plt.close(fig)


def make_prepared(makers: dict, arrived) -> dict:
    """Make the figures ``{path: (make, kwargs)}`` in order until ``arrived()`` says the result is here.

    Figures are made ahead in time spent waiting only: those not made by then
    are made as they are drawn, so preparing never delays the drawing by more
    than one figure.
    """
    prepared = {}
    for path, (make, kwargs) in makers.items():
        if arrived():
            break
        prepared[path] = make(**kwargs)
    return prepared


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


def split_by_cost(jobs, costs) -> tuple[list, list]:
    """Two lists of jobs of about equal total cost (the costliest first, each to the lighter list), in job order."""
    if costs is None:
        costs = [1.0] * len(jobs)
    loads, sides = [0.0, 0.0], [[], []]
    for i in sorted(range(len(jobs)), key=lambda i: -costs[i]):
        side = 0 if loads[0] <= loads[1] else 1
        loads[side] += costs[i]
        sides[side].append(i)
    return [jobs[i] for i in sorted(sides[0])], [jobs[i] for i in sorted(sides[1])]


def _draw_split(result, jobs, costs=None, prepared=None) -> str:
    """Draw ``jobs`` in this process and a fork of it, split by cost; ``"ok"`` or the first traceback."""
    if len(jobs) < 2:
        draw_figures(result, jobs, prepared=prepared)
        return "ok"
    mine, theirs = split_by_cost(jobs, costs)
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
            draw_figures(result, theirs, prepared=prepared)
        except BaseException:
            status, message = 1, traceback.format_exc().encode()
        os.write(write, message[-60000:])
        os.close(write)
        os._exit(status)
    os.close(write)
    reply, reaped = "ok", False
    try:
        try:
            draw_figures(result, mine, prepared=prepared)
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


def _hold_signals():
    """Block the handled signals (they stay pending); returns what to unblock, or None where not possible."""
    if not hasattr(signal, "pthread_sigmask"):                # pragma: no cover - no POSIX signal masks
        return None
    before = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    return [s for s in HANDLED if s not in before]


def _release_signals(held) -> None:
    """Unblock ``held``; a pending one is handled (its handler runs) before this returns."""
    if held and hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


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
        _release_signals(HANDLED)                           # held by the command while it forked this process
        _pyplot()
        import flowsim.plotting  # noqa: F401  (the drawing code, imported while the parent solves)

        # This process and its fork live for one command and end with os._exit: no cyclic garbage collection
        # (matplotlib's many small objects set it off every few milliseconds; 5-10% of the drawing time), and
        # what is imported is frozen, so that the fork shares it instead of copying pages that a collection
        # would touch. Memory grows by the figures drawn (about 2 MB each).
        gc.freeze()
        gc.disable()

        job = conn.recv()
        prepared = {}
        while job is not None and job[0] == "prepare":
            prepared.update(make_prepared(job[1], conn.poll))
            job = conn.recv()
        if job is not None:
            result, jobs, costs = job
            reply = _draw_split(result, jobs, costs, prepared)
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
            # The signals are held while forking: a signal to the new process before it has its own handlers
            # would otherwise run the command's handler there and send the copy of the command on its way.
            held = _hold_signals()
            try:
                self._proc.start()
                child.close()
                self._conn = parent
            finally:
                try:
                    _release_signals(held)               # a signal held meanwhile is raised here
                except BaseException as exc:
                    self.__exit__(type(exc), exc, exc.__traceback__)
                    raise
        return self

    def prepare(self, makers: dict) -> None:
        """Have the worker make figures before their data exist: ``{path: (make, kwargs)}``.

        ``make(**kwargs)`` returns an empty figure (e.g.
        :func:`flowsim.plotting._common.prepare_grid`); the job of the same
        path later draws into it (``fig=``). The worker does this while the
        command solves, in time it would otherwise spend waiting. Without a
        worker this does nothing: the figures are made when drawn.
        """
        if self._conn is not None and makers:
            self._conn.send(("prepare", dict(makers)))

    def submit(self, result, jobs, costs=None) -> None:
        """Hand ``jobs`` to the worker (drawn here, by :meth:`wait`, when there is none).

        ``costs`` (one number per job, e.g. its panels) splits the jobs between
        the two drawing processes so that both finish about together.
        """
        if self._conn is None:
            self._result, self._local = result, list(jobs)
            return
        self._conn.send((result, list(jobs), None if costs is None else list(costs)))

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

    def bound(self):
        """A context in which an error stops the worker (as leaving the ``with FigureWorker`` block does).

        For a worker started before the output stage exists: ``with OutputStage(...) as stage,
        worker.bound():`` stops the worker before the stage is removed, so no figure is written after.
        """
        return _Bound(self)

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


class _Bound:
    """See :meth:`FigureWorker.bound`."""

    def __init__(self, worker: FigureWorker):
        self.worker = worker

    def __enter__(self) -> FigureWorker:
        return self.worker

    def __exit__(self, exc_type, exc, tb):
        return self.worker.__exit__(exc_type, exc, tb)
