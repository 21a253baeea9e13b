"""Build a directory beside its target and rename it into place, so readers never see half of it."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..errors import ModelSaveError, ModelStorageError
from .sidecar import SIDECAR

__all__ = ["staging", "check_target", "publish", "claim_version", "remove_stale_staging", "storage_error",
           "check_path_text", "exchange", "STAGING_PREFIX", "MODEL_FILES"]

STAGING_PREFIX = ".pyfunc-staging-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_STALE_UNKNOWN_OWNER = 3600.0  # a staging dir whose owner cannot be told apart from a live one waits an hour

# Top-level entries MLflow or we write in a pyfunc model directory; overwrite replaces a directory
# holding only these and the entries its MLmodel's flavors name (a flavor's own data file or folder).
MODEL_FILES = frozenset({
    "MLmodel", "python_model.pkl", "artifacts", "code", "metadata", "registered_model_meta",
    "conda.yaml", "python_env.yaml", "requirements.txt", "constraints.txt", "original_requirements.txt",
    "environment_variables.txt", "input_example.json", "serving_input_example.json", SIDECAR,
})


# --- errors -------------------------------------------------------------------------------------

def check_path_text(path: object, what: str) -> None:
    """Refuse a path holding a NUL byte (no file system accepts one) before any OS call sees it."""
    text = os.fspath(path) if isinstance(path, (str, bytes, os.PathLike)) else None
    if (isinstance(text, str) and "\x00" in text) or (isinstance(text, bytes) and b"\x00" in text):
        raise ModelSaveError(f"{what} {text!r} holds a NUL byte ('\\x00'), which no file name may contain. "
                             "Remove it from the path.")


def storage_error(exc: OSError, where: Path) -> ModelStorageError:
    """A ``ModelStorageError`` for an OS error met while saving into ``where``, naming the fix."""
    place = exc.filename or where
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        fix = (f"No space left on the device holding {place} (or your disk quota is used up). Free some "
               "space, or save to another disk, and save again.")
    elif code == errno.EFBIG:
        fix = (f"A file in the model is larger than the file system or your file-size limit allows ({place}). "
               "Save to another file system or raise the limit (ulimit -f).")
    elif code == errno.EROFS:
        fix = (f"{place} is on a read-only file system. Save to a writable folder (for the store: "
               "set_store(path) or $PYFUNC_JUPYTER_STORE).")
    elif code in (errno.EACCES, errno.EPERM):
        fix = f"No permission to write {place}. Choose a folder you can write to, or fix its permissions."
    elif code in (errno.ENOTDIR, errno.EEXIST):
        fix = (f"A part of the path {place} is a file, not a folder. Move that file away or choose another "
               "path (for the store: set_store(path) or $PYFUNC_JUPYTER_STORE).")
    elif code == errno.ENAMETOOLONG:
        fix = f"A name in {place} is too long for the file system. Choose a shorter name."
    elif code == errno.ELOOP:
        fix = f"The path {place} goes round a loop of symbolic links. Fix the links or choose another path."
    else:
        fix = f"{exc.strerror or exc}: {place}. Fix the problem and save again."
    return ModelStorageError(f"Saving the model failed: {fix} Nothing was saved.", code)


# --- staging -------------------------------------------------------------------------------------

def _make_parents(folder: Path) -> list[Path]:
    """``mkdir -p folder``; return the folders made, innermost first (a failed save removes them)."""
    missing = []
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    made = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue  # made at the same moment by another save: not ours to remove
        made.append(path)
    return made[::-1]


def _remove_made(made: list[Path]) -> None:
    for path in made:
        try:
            path.rmdir()  # only if empty: another save may be using it by now
        except OSError:
            return


def _lock(path: Path) -> int | None:
    """Open ``path`` and hold an exclusive ``flock`` on it; the kernel drops it when this process dies."""
    try:
        import fcntl
    except ImportError:  # not POSIX: staging dirs are then cleaned by owner pid and age
        return None
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class _Terminated(BaseException):
    """SIGTERM arrived during a save (raised so the save cleans up as on Ctrl-C)."""


@contextlib.contextmanager
def _sigterm_cleans_up() -> Iterator[None]:
    """Turn SIGTERM into an exception while saving; after cleanup, die of SIGTERM as the sender meant."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield  # someone else handles SIGTERM (or we cannot install handlers here)
        return

    def terminated(signum, frame):
        raise _Terminated()

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def staging(parent: Path) -> Iterator[Path]:
    """An empty hidden directory in ``parent`` (same file system, so rename is atomic), locked while in use.

    The name is short (``.pyfunc-staging-<pid>-<hex>``) whatever the target's name. On any failure,
    a kill by SIGINT or SIGTERM included, the directory and the parent folders made for it are
    removed, and OS errors become ``ModelStorageError``s naming the fix. A SIGKILLed save leaves the
    directory behind; the next save into ``parent`` and the store listing remove it (its lock is free).
    """
    with _sigterm_cleans_up():
        made: list[Path] = []
        path, fd = None, None
        try:
            for attempt in range(3):
                made += _make_parents(parent)
                remove_stale_staging(parent)
                path = parent / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
                try:
                    path.mkdir()
                    break
                except FileNotFoundError:  # a failing save removed the parent it made just now
                    if attempt == 2:
                        raise
            assert path is not None  # the loop made it or raised
            fd = _lock(path)
            yield path
        except BaseException as exc:
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
            _remove_made(made)
            if isinstance(exc, OSError):
                raise storage_error(exc, parent) from exc
            raise
        finally:
            if fd is not None:
                os.close(fd)


def _owner_gone(entry: Path) -> bool:
    """Whether the save that made staging dir ``entry`` is over: its lock is free and its owner dead (or it is old)."""
    try:
        import fcntl

        fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except ImportError:
        fd = None
    except OSError:
        return False
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live save holds it
        finally:
            os.close(fd)
    fields = entry.name[len(STAGING_PREFIX):].split("-")
    pid = int(fields[-2]) if len(fields) >= 2 and fields[-2].isascii() and fields[-2].isdigit() else None
    if pid is not None and pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except (PermissionError, OverflowError):
            pass
    try:
        st = entry.lstat()
    except OSError:
        return False
    return max(st.st_mtime, st.st_ctime) < time.time() - _STALE_UNKNOWN_OWNER  # a rename refreshes ctime


def remove_stale_staging(parent: Path) -> None:
    """Delete staging directories in ``parent`` left by saves that were killed (never one in progress)."""
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith(STAGING_PREFIX)]
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False) and _owner_gone(path):
            shutil.rmtree(path, ignore_errors=True)


# --- publishing -----------------------------------------------------------------------------------

def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux ``renameat2(RENAME_EXCHANGE)``; False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _contains(outer: Path, inner: Path) -> bool:
    return outer == inner or outer in inner.parents


def _protected(target: Path) -> str | None:
    """Why the existing directory ``target`` must never be replaced, or None."""
    real = Path(os.path.realpath(target))
    if real.parent == real:
        return "it is the root of the file system"
    with contextlib.suppress(OSError):
        if _contains(real, Path(os.path.realpath(os.getcwd()))):
            return "it is the working directory" if real.samefile(os.getcwd()) else "it holds the working directory"
    with contextlib.suppress(RuntimeError, KeyError, OSError):
        home = Path(os.path.realpath(Path.home()))
        if _contains(real, home):
            return "it is your home directory" if real == home else "it holds your home directory"
    from .._storeroot import folder_store

    with contextlib.suppress(OSError, ValueError):
        store = Path(os.path.realpath(folder_store()))
        if _contains(real, store):
            return "it is the model store" if real == store else "it holds the model store"
    return None


def _flavor_entries(target: Path) -> set[str]:
    """Top-level names the MLmodel's flavors refer to (e.g. sklearn's ``model.pkl``); empty if unreadable."""
    from ..errors import PyfuncError
    from .mlmodel import read_mlmodel

    try:
        flavors = read_mlmodel(target).get("flavors")
    except (PyfuncError, OSError, ValueError):
        return set()
    names: set[str] = set()
    seen: set[int] = set()

    def walk(value: object) -> None:
        if isinstance(value, (dict, list)):
            if id(value) in seen:  # YAML aliases share objects: visit each once
                return
            seen.add(id(value))
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value:
            names.add(value.strip("/").split("/")[0])

    walk(flavors if isinstance(flavors, dict) else {})
    return names


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse a target that is not free to (re)place: see README "Reliability" for the rules."""
    if not os.path.lexists(target):
        return
    if target.is_symlink():
        raise ModelSaveError(f"Cannot save the model to {target}: it is a symbolic link (to "
                             f"{os.readlink(target)}). Save to the real folder's path, or choose another path.")
    if not target.is_dir():
        raise ModelSaveError(f"Cannot save the model to {target}: it exists and is not a directory. "
                             "Choose another path.")
    reason = _protected(target)
    if reason:
        raise ModelSaveError(f"Cannot save the model to {target}: {reason}, which a save never replaces. "
                             "Save into a new sub-folder, e.g. save_model('my_model', ...).")
    if _is_empty_dir(target):
        return
    if not overwrite:
        raise ModelSaveError(f"Cannot save the model to {target}: the directory already exists and is not "
                             "empty. Pass overwrite=True to replace it, or choose another path.")
    mlmodel = target / "MLmodel"
    if not (mlmodel.is_file() and not mlmodel.is_symlink()):
        raise ModelSaveError(f"Cannot overwrite {target}: it holds no MLmodel file, so it is not a model "
                             "directory, and overwrite replaces only model directories (or empty ones). "
                             "Choose another path, or move the folder away yourself.")
    allowed = MODEL_FILES | _flavor_entries(target)
    foreign = sorted(name for name in os.listdir(target) if name not in allowed)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ModelSaveError(f"Cannot overwrite {target}: besides a model it holds {shown}, which a model "
                             "directory does not, and overwrite would delete them. Move them out of the "
                             "folder (or choose another path) and save again.")


def publish(staging: Path, target: Path, overwrite: bool) -> None:
    """Move the finished ``staging`` directory to ``target``; with ``overwrite``, swap atomically."""
    check_target(target, overwrite)
    if not os.path.lexists(target) or _is_empty_dir(target):
        os.rename(staging, target)  # atomic; replaces an empty directory
        return
    if exchange(staging, target):
        shutil.rmtree(staging)  # now holds the old model
        return
    old = staging.with_name(staging.name + "old")  # keeps the owner pid readable in the name
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old)


def claim_version(staging: Path, parent: Path) -> int:
    """Rename ``staging`` to ``parent/<N>`` for the next free integer N; safe across processes."""
    version = 1 + max((int(p.name) for p in parent.iterdir() if p.name.isascii() and p.name.isdigit()), default=0)
    while True:
        try:
            os.rename(staging, parent / str(version))
            return version
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
            version += 1
