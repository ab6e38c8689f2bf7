"""An output folder that one command owns for as long as it runs: a lock, a stage, a manifest.

:class:`OutputStage` is what every ``flowsim`` command that writes a folder
(``run``, ``compare``, ``sweep``, ``sensitivity``, ``calibrate``,
``validate``) enters before it computes anything:

- **lock**: ``DIR/.flowsim-lock``, locked with ``fcntl.lockf`` and holding
  the owner's pid, command and start time. A second command into the same
  folder fails at once with an :class:`~flowsim.OutputError` naming the folder
  and that pid. The kernel drops the lock when its process dies, so a lock
  left by a killed run is simply taken over. (Where ``fcntl`` locks are not
  available the file is created exclusively instead, and one whose pid is
  not alive on this machine is taken over.)
- **stale stages**: ``DIR/.flowsim-stage-*`` folders left by a killed run
  (SIGKILL, a power cut) are removed; with the lock held no other run can be
  using them.
- **stage**: outputs are written into a fresh ``DIR/.flowsim-stage-*``
  folder; on success they are moved into ``DIR`` (one rename per file), on
  an error or a signal the stage is removed and ``DIR`` is as it was (a
  folder this command created is removed again).
- **manifest**: ``DIR/.flowsim-manifest.json`` lists the files flowsim wrote
  there. When a command finishes, files of the previous manifest that it did
  not write again (say the PNGs of an earlier run, rerun with
  ``--no-figures``) are deleted; files flowsim did not write are left alone.
  While files are moved, the manifest lists the old and the new files, so
  even a run killed at that moment leaves nothing the next run cannot clean.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from ._atomic import atomic_write_text
from ._signals import deferred, mark_written
from ._version import __version__
from .exceptions import OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["OutputStage", "LOCK_NAME", "MANIFEST_NAME", "STAGE_PREFIX", "read_manifest", "pid_alive"]

#: The lock file inside an output folder (present while a command writes there).
LOCK_NAME = ".flowsim-lock"
#: The list of files flowsim wrote into an output folder.
MANIFEST_NAME = ".flowsim-manifest.json"
#: Prefix of the temporary folders outputs are written into.
STAGE_PREFIX = ".flowsim-stage-"

_held: set[str] = set()          # folders locked by this process (POSIX locks do not exclude the same process)
_held_guard = threading.Lock()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (True when it cannot be told, e.g. on Windows)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:          # EPERM: it exists, owned by someone else
        return True
    return True


def _safe_name(name) -> bool:
    """A plain file name inside the folder (not a path, not flowsim's own bookkeeping)."""
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name
            and os.sep not in name and "\0" not in name and not name.startswith(".flowsim-"))


def read_manifest(folder) -> list[str]:
    """Names of the files flowsim wrote into ``folder`` (its manifest); [] when there is none or it is unreadable."""
    try:
        data = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    files = data.get("files") if isinstance(data, dict) else None
    return [name for name in files if _safe_name(name)] if isinstance(files, list) else []


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _is_stage(path: Path) -> bool:
    """A stage folder flowsim writes outputs into (not a symlink to one)."""
    return path.name.startswith(STAGE_PREFIX) and path.is_dir() and not path.is_symlink()


def _holder_alive(holder: dict) -> bool:
    """Whether the holder a lock file names may still be running: False only for a dead pid on this machine."""
    pid = holder.get("pid")
    return not (holder.get("host") == socket.gethostname() and isinstance(pid, int) and not pid_alive(pid))


def _lock_is_held(path: Path) -> bool:
    """Whether a live flowsim run holds the lock file ``path`` (False when there is none)."""
    if fcntl is None:                              # pragma: no cover - platforms without fcntl
        return path.exists() and _holder_alive(_FolderLock(path.parent, None)._holder())
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return True                                # cannot tell: leave its stages alone
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class _FolderLock:
    """The lock of one output folder (see the module notes)."""

    def __init__(self, folder: Path, command: str | None):
        self.folder = folder
        self.path = folder / LOCK_NAME
        self.command = command
        self.fd: int | None = None
        self.key = os.path.realpath(folder)

    def _info(self) -> bytes:
        return (json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                            "started": _now()}) + "\n").encode()

    def _holder(self) -> dict:
        """What the lock file says about its holder ({} if unreadable); read a few times while it is empty."""
        for _ in range(10):
            try:
                text = self.path.read_text(encoding="utf-8")
            except OSError:
                return {}
            if text.strip():
                try:
                    data = json.loads(text)
                except ValueError:
                    return {}
                return data if isinstance(data, dict) else {}
            time.sleep(0.05)                   # the holder has locked the file but not yet written its pid
        return {}

    def _busy(self, holder: dict, advice: str = "") -> OutputError:
        pid = holder.get("pid")
        parts = [f"pid {pid}" if isinstance(pid, int) else "pid unknown"]
        if holder.get("command"):
            parts.append(f"`flowsim {holder['command']}`")
        if holder.get("started"):
            parts.append(f"started {holder['started']}")
        return OutputError(f"output folder {self.folder}: in use by another flowsim run ({', '.join(parts)}); "
                           f"wait for it to end or choose another --out.{advice}")

    def acquire(self) -> None:
        with _held_guard:
            if self.key in _held:
                raise self._busy({"pid": os.getpid(), "command": self.command}, " (The same process.)")
            _held.add(self.key)
        try:
            self._acquire()
        except BaseException:
            with _held_guard:
                _held.discard(self.key)
            raise

    def _acquire(self) -> None:
        for _ in range(20):
            if fcntl is not None:
                try:
                    fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
                except FileNotFoundError:          # the folder was removed under us (a failed run tidying up)
                    self.folder.mkdir(parents=True, exist_ok=True)
                    continue
                except OSError as exc:
                    raise OutputError(f"output folder {self.folder}: cannot write there ({exc.strerror}).") \
                        from None
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    os.close(fd)
                    if exc.errno in (errno.EACCES, errno.EAGAIN):
                        raise self._busy(self._holder()) from None
                    if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                        raise OutputError(f"output folder {self.folder}: cannot lock {LOCK_NAME} "
                                          f"({exc.strerror}).") from None
                    if self._acquire_exclusive():  # a file system without locks
                        return
                    continue
                try:                               # its previous holder may have deleted it since we opened it
                    same = os.path.samestat(os.fstat(fd), os.stat(self.path))
                except OSError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
                os.ftruncate(fd, 0)
                os.write(fd, self._info())
                self.fd = fd
                return
            if self._acquire_exclusive():          # pragma: no cover - platforms without fcntl
                return
        raise OutputError(f"output folder {self.folder}: could not take its lock {LOCK_NAME}; try again.")

    def _acquire_exclusive(self) -> bool:
        """Create the lock file exclusively; take over one whose holder is not alive. False: try again."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            holder = self._holder()
            if not _holder_alive(holder):
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                return False
            raise self._busy(holder, f" If no flowsim run is writing there, delete {self.path}.") from None
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)
            return False
        except OSError as exc:
            raise OutputError(f"output folder {self.folder}: cannot write there ({exc.strerror}).") from None
        os.write(fd, self._info())
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()                 # while still locked: the next run creates a fresh file
            os.close(self.fd)                      # closing releases the lock
            self.fd = None
            with _held_guard:
                _held.discard(self.key)


class OutputStage:
    """Own an output folder while a command runs: lock it, stage the outputs, move them in, tidy up.

    Enter it before computing (so that a second command into the same folder
    fails at once); write files under :meth:`file`; on a clean exit they are
    moved into ``target`` and files an earlier flowsim command wrote there
    but this one did not are deleted (see the module notes); on an error or
    a signal the stage is removed and ``target`` is left as it was.

    Parameters
    ----------
    target : path
        Output folder (created if needed).
    command : str, optional
        The command's name, recorded in the lock and the manifest.

    Raises
    ------
    OutputError
        When ``target`` is empty, is a file, cannot be created or written, or
        another flowsim command is writing there (the message names its pid).
    """

    def __init__(self, target, command: str | None = None):
        if target is None or not str(target).strip():
            raise OutputError(f"output folder {str(target or '')!r}: empty; give a folder, e.g. --out out/run1.")
        self.target = Path(target)
        self.command = command
        self.path: Path | None = None
        self.written: list[str] = []
        self.removed: list[str] = []
        self._lock: _FolderLock | None = None
        self._created: list[Path] = []

    # ------------------------------------------------------------------ enter
    def __enter__(self) -> OutputStage:
        try:
            self._enter()
        except BaseException:
            with deferred():
                self._cleanup()
            raise
        return self

    def _enter(self) -> None:
        target = self.target
        if target.exists() and not target.is_dir():
            raise OutputError(f"output folder {target}: exists and is not a folder.")
        missing, p = [], target
        while not p.exists() and p != p.parent and not p.is_symlink():
            missing.append(p)
            p = p.parent
        self._created = missing                      # deepest first
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"output folder {target}: cannot write there ({exc.strerror}).") from None
        self._lock = _FolderLock(target, self.command)
        self._lock.acquire()
        self._remove_stale()
        try:
            self.path = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=target))
        except OSError as exc:
            raise OutputError(f"output folder {target}: cannot write there ({exc.strerror}).") from None

    def _remove_stale(self) -> None:
        """Stages and half-written manifests left by killed runs (the lock is ours, so nobody is using them)."""
        for item in self.target.iterdir():
            if _is_stage(item):
                shutil.rmtree(item, ignore_errors=True)
            elif item.name.startswith(f".{MANIFEST_NAME}.") and item.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    item.unlink()
        self._remove_old_layout_stages()

    def _remove_old_layout_stages(self) -> None:
        """Stages that earlier versions of flowsim left *beside* the output folder when killed.

        It staged in the parent of ``--out`` (as ``.flowsim-stage-XXXXXXXX``);
        flowsim now stages only inside an output folder it has locked. So a
        stage folder in the parent is a killed old run's, unless the parent
        is itself the output folder of a live run (its lock is held, by
        another process or by this one): then it is that run's, and stays.
        """
        parent = self.target.resolve().parent
        if parent == self.target.resolve():
            return
        with _held_guard:
            if os.path.realpath(parent) in _held:
                return
        try:
            stages = [p for p in parent.iterdir() if _is_stage(p)]
        except OSError:
            return
        if stages and not _lock_is_held(parent / LOCK_NAME):
            for item in stages:
                shutil.rmtree(item, ignore_errors=True)

    def file(self, name: str) -> Path:
        """Path of ``name`` inside the stage."""
        return self.path / name

    def removed_note(self) -> str:
        """After the commit: a line naming the earlier outputs it deleted ("" when none)."""
        if not self.removed:
            return ""
        shown = ", ".join(self.removed[:6]) + (f" and {len(self.removed) - 6} more" if len(self.removed) > 6 else "")
        return (f"\nremoved {len(self.removed)} earlier output{'s' * (len(self.removed) > 1)} this command did not "
                f"write again: {shown}")

    # ------------------------------------------------------------------ exit
    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                with deferred():
                    self._commit()
                    mark_written(f"the outputs were written to {self.target}")
                    self._cleanup(committed=True)
            except BaseException:
                with deferred():
                    self._cleanup()
                raise
        else:
            with deferred():
                self._cleanup()
        return False

    def _write_manifest(self, names) -> None:
        data = {"written_by": f"flowsim {__version__}", "command": self.command, "written": _now(),
                "note": "files flowsim wrote into this folder; the next flowsim command writing here deletes "
                        "those it does not write again, and leaves every other file alone",
                "files": sorted(names)}
        atomic_write_text(self.target / MANIFEST_NAME, json.dumps(data, indent=1) + "\n")

    def _commit(self) -> None:
        names = sorted(p.name for p in self.path.iterdir())
        bad = [n for n in names if not _safe_name(n)]
        if bad:
            raise OutputError(f"output folder {self.target}: refusing to write {bad[0]!r} (a reserved name).")
        old = read_manifest(self.target)
        stale = [n for n in old if n not in names]
        try:
            self._write_manifest(set(old) | set(names))   # covers both, should this process die while moving
            for name in names:
                os.replace(self.path / name, self.target / name)
            for name in stale:
                item = self.target / name
                if item.is_symlink() or item.is_file():
                    item.unlink()
                    self.removed.append(name)
            self._write_manifest(names)
        except OSError as exc:
            raise OutputError(f"output folder {self.target}: cannot move outputs in ({exc.strerror}).") from None
        self.written = names

    def _cleanup(self, committed: bool = False) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if not committed:
            for folder in self._created:             # folders this command made, empty again: remove them
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    continue
                except OSError:
                    break
        self._created = []
