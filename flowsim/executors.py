"""Running the chunks of a sweep: here, or on any :class:`concurrent.futures.Executor`.

Chunks are independent tasks (a picklable function and a picklable task
object), so anything that implements ``Executor.submit`` runs them: a
:class:`~concurrent.futures.ProcessPoolExecutor` on one machine, or a dask
cluster through ``distributed.Client(...).get_executor()``. Results are put
back by member index, so they do not depend on which worker finished first.
"""

from __future__ import annotations

import sys
import warnings
from concurrent.futures import as_completed

from .exceptions import FlowsimError

__all__ = ["run_tasks", "progress_bar"]


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def progress_bar(total: int, enabled: bool | None, desc: str):
    """A tqdm bar over ``total`` members, or a silent stand-in.

    Parameters
    ----------
    total : int
        Members to solve.
    enabled : bool or None
        False: no bar. True: a bar (a warning if tqdm is missing). None: a bar
        when tqdm is installed and standard error is a terminal.
    desc : str
        Label of the bar.
    """
    if enabled is False:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if enabled:
            warnings.warn("progress=True needs tqdm; install it with `pip install tqdm` (or "
                          "`pip install '.[progress]'` in the flowsim source folder). "
                          "Running without a progress bar.", UserWarning, stacklevel=3)
        return _NoBar()
    if enabled is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return _NoBar()
    return tqdm(total=total, desc=desc, unit="member", leave=False)


def run_tasks(fn, tasks: list, sizes: list[int], consume, *, executor=None, progress: bool | None = None,
              desc: str = "flowsim") -> None:
    """Run ``fn(task)`` for every task and hand each result to ``consume(i, result)`` as it arrives.

    Results are consumed (e.g. copied into the ensemble's arrays) and
    dropped one by one, so memory holds one chunk's result at a time, not
    all of them.

    Parameters
    ----------
    fn : callable
        A module-level (picklable) function.
    tasks : list
        Picklable task objects.
    sizes : list of int
        Members in each task (for the progress bar).
    consume : callable
        ``consume(i, result)`` with ``i`` the task's index in ``tasks``.
    executor : concurrent.futures.Executor, optional
        Where to run; in this process, one task after the other, when None.
    progress : bool or None
        See :func:`progress_bar`.
    desc : str
        Label of the progress bar.

    Raises
    ------
    FlowsimError
        When ``executor`` has no ``submit`` method. Errors raised by a task
        are re-raised here (remaining tasks are cancelled).
    """
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise FlowsimError(
            f"executor must be a concurrent.futures.Executor (e.g. ProcessPoolExecutor(), or "
            f"distributed.Client(...).get_executor()); got {type(executor).__name__}."
        )
    with progress_bar(sum(sizes), progress, desc) as bar:
        if executor is None:
            for i, task in enumerate(tasks):
                consume(i, fn(task))
                bar.update(sizes[i])
            return
        futures = {executor.submit(fn, task): i for i, task in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                i = futures.pop(fut)
                consume(i, fut.result())
                bar.update(sizes[i])
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
