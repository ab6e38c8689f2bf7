"""Scratch arrays of the ensemble's chunks, reused instead of allocated afresh for every chunk.

An ensemble chunk computes more series than it keeps: the summary figures
need ``N`` and every balance of every member (``(m, H, D)`` each), and only
the kept series (``N`` and ``net`` by default) leave the chunk. Allocating
those scratch series for every chunk means touching fresh memory for every
chunk, and the first touch of freshly allocated memory is expensive (page
faults and zeroing by the kernel; tens of milliseconds per 100 MB on a
virtual machine that hands freed memory back to its host). A
:class:`ScratchPool` hands out arrays of a shape it already holds and takes
them back when the chunk is done, so the chunks of one call, and later calls
of the same process, touch the same pages again.

Scratch arrays hold numbers only while a chunk is being solved; nothing a
caller keeps (the kept series, the summary figures, the scalars) is ever a
view of one. Every value is written before it is read, so reused memory
gives the same bytes as fresh memory.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np

from .._memory import available_bytes

__all__ = ["ScratchPool", "SCRATCH", "DEFAULT_KEEP_BYTES", "FirstTouch"]

#: Bytes of idle scratch a process keeps between calls (arrays beyond it are freed when a chunk is done).
DEFAULT_KEEP_BYTES = 256 * 1024 ** 2
#: Idle bytes always kept within the budget, without asking how much memory is available.
_SMALL = 32 * 1024 ** 2


class ScratchPool:
    """Float arrays ``(rows, *trailing)`` reused across calls, up to a budget of idle bytes.

    Arrays are pooled by their trailing shape (hosts, days); a request for
    ``m`` rows is served by a pooled array of at least ``m`` rows (its first
    ``m`` rows: a C-contiguous view) or by a new array. Thread-safe: arrays
    in use by one chunk are never handed to another.

    Parameters
    ----------
    keep_bytes : int
        Idle bytes kept after a chunk gives its arrays back (least recently
        used first out). Beyond 32 MiB, never more than an eighth of the
        memory available at that moment: under memory pressure the pool
        frees what it holds.

    Examples
    --------
    >>> pool = ScratchPool(keep_bytes=10 ** 6)
    >>> with pool.arrays(3, (2, 5), 2) as (a, b):
    ...     a.shape, b.shape, a.flags.c_contiguous
    ((3, 2, 5), (3, 2, 5), True)
    >>> pool.idle_bytes
    480
    """

    def __init__(self, keep_bytes: int = DEFAULT_KEEP_BYTES):
        if not isinstance(keep_bytes, (int, np.integer)) or isinstance(keep_bytes, bool) or keep_bytes < 0:
            raise ValueError(f"ScratchPool: `keep_bytes` must be a whole number of bytes >= 0; got {keep_bytes!r}.")
        self.keep_bytes = int(keep_bytes)
        self._idle: OrderedDict[int, np.ndarray] = OrderedDict()      # id -> array, least recently used first
        self._lock = threading.Lock()

    @property
    def idle_bytes(self) -> int:
        """Bytes held by arrays not in use."""
        with self._lock:
            return sum(a.nbytes for a in self._idle.values())

    def _take(self, rows: int, trailing: tuple) -> np.ndarray:
        with self._lock:
            fits = [(a.shape[0], key) for key, a in self._idle.items() if a.shape[1:] == trailing and
                    a.shape[0] >= rows]
            if fits:
                return self._idle.pop(min(fits)[1])                  # the smallest that fits
        return np.empty((rows, *trailing))

    def _give(self, arrays) -> None:
        with self._lock:
            for a in arrays:
                self._idle[id(a)] = a
            budget = self.keep_bytes
            held = sum(a.nbytes for a in self._idle.values())
            if held > _SMALL:                                     # worth a look at /proc/meminfo
                available = available_bytes()
                if available is not None:
                    budget = min(budget, available // 8)
            while self._idle and held > budget:
                _, a = self._idle.popitem(last=False)
                held -= a.nbytes

    @contextmanager
    def arrays(self, rows: int, trailing, count: int):
        """``count`` arrays of shape ``(rows, *trailing)`` (uninitialised), given back on leaving the block.

        Parameters
        ----------
        rows : int
            Leading (member) axis, >= 0.
        trailing : tuple of int
            The other axes (hosts, days).
        count : int
            How many arrays.

        Yields
        ------
        list of ndarray
            C-contiguous float arrays, each with its own memory; their
            contents are whatever was left in them.
        """
        trailing = tuple(int(x) for x in trailing)
        bases = [self._take(int(rows), trailing) for _ in range(int(count))]
        try:
            yield [b[:rows] for b in bases]
        finally:
            self._give(bases)

    def clear(self) -> None:
        """Free every idle array."""
        with self._lock:
            self._idle.clear()

    def _after_fork(self) -> None:
        """In a forked child: a new lock (another thread may have held the parent's) and no inherited arrays
        (the parent's pages, shared copy-on-write: writing them would copy them page by page)."""
        self._lock = threading.Lock()
        self._idle = OrderedDict()


#: The process's pool: the ensemble chunks solved here (or in this worker process) share it.
SCRATCH = ScratchPool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=SCRATCH._after_fork)


class FirstTouch:
    """Touch the rows of the chunks to come in a thread while the chunks before them are solved.

    The kept series of an ensemble are the caller's result, so they must be
    fresh memory, and the first touch of fresh memory costs page faults in
    the kernel (about half the wall time of an N=1,000 ensemble on a virtual
    machine that hands freed memory back to its host). The compiled march
    releases the GIL, so on a second core a thread can write zeros into the
    rows of chunk ``i + 1`` while chunk ``i`` is solved. A chunk is touched
    only before it is claimed (:meth:`claim`, called before the chunk is
    solved): once claimed, the thread never writes it, and a chunk being
    touched when it is claimed is waited for. Every value is written again
    by the solver, so the numbers do not change.

    Parameters
    ----------
    arrays : sequence of ndarray
        The kept series, ``(members, ...)`` each.
    bounds : sequence of (int, int)
        Each chunk's rows ``[start, stop)``, in the order they are solved.
        The first is left to the solver, which starts on it at once (and
        faults its pages while the thread touches the second chunk's: a
        thread that touched the first chunk too would keep the solver
        waiting; measured slower).
    """

    def __init__(self, arrays, bounds):
        self.arrays = list(arrays)
        self.bounds = [(int(a), int(b)) for a, b in bounds]
        self.state = ["claimed"] + ["pending"] * (len(self.bounds) - 1)
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="flowsim-first-touch", daemon=True)
        self._thread.start()

    @staticmethod
    def useful(n_chunks: int) -> bool:
        """Whether a thread can help: more than one chunk and more than one core for this process."""
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return n_chunks > 1 and cores > 1

    def _run(self) -> None:
        for i, (a, b) in enumerate(self.bounds):
            with self._cond:
                if self.state[i] != "pending":
                    continue
                self.state[i] = "touching"
            try:
                for arr in self.arrays:
                    arr[a:b] = 0.0                             # numpy releases the GIL for the copy
            finally:
                with self._cond:
                    self.state[i] = "done"
                    self._cond.notify_all()

    def claim(self, i: int) -> None:
        """Chunk ``i`` is about to be solved: the thread must not touch it (wait if it is touching it)."""
        with self._cond:
            if self.state[i] == "pending":
                self.state[i] = "claimed"
            while self.state[i] == "touching":
                self._cond.wait()

    def close(self) -> None:
        """Stop: no chunk is touched after this returns."""
        with self._cond:
            self.state = ["claimed" if s == "pending" else s for s in self.state]
        self._thread.join()
