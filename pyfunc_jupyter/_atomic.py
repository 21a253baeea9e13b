"""Build a directory beside its target and rename it into place, so readers never see half of it."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import time
import uuid
from pathlib import Path

from .errors import ModelSaveError

__all__ = ["staging_dir", "check_target", "publish", "claim_version", "remove_stale_staging", "STAGING_PREFIX"]

STAGING_PREFIX = ".pyfunc-staging-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def staging_dir(target: Path) -> Path:
    """Create an empty hidden directory beside ``target`` (same filesystem, so rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f"{STAGING_PREFIX}{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def _exchange(a: Path, b: Path) -> bool:
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
    return path.is_dir() and not any(path.iterdir())


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse a target that exists and is not an empty directory, unless ``overwrite``."""
    if not os.path.lexists(target) or _is_empty_dir(target):
        return
    if not target.is_dir() or target.is_symlink():
        raise ModelSaveError(f"Cannot save the model to {target}: it exists and is not a directory. "
                             "Choose another path.")
    if not overwrite:
        raise ModelSaveError(f"Cannot save the model to {target}: the directory already exists and is not "
                             "empty. Pass overwrite=True to replace it, or choose another path.")


def publish(staging: Path, target: Path, overwrite: bool) -> None:
    """Move the finished ``staging`` directory to ``target``; with ``overwrite``, swap atomically."""
    check_target(target, overwrite)
    if not os.path.lexists(target) or _is_empty_dir(target):
        os.rename(staging, target)  # atomic; replaces an empty directory
        return
    if _exchange(staging, target):
        shutil.rmtree(staging)  # now holds the old model
        return
    old = target.parent / f"{STAGING_PREFIX}old-{target.name}-{uuid.uuid4().hex[:8]}"
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


def remove_stale_staging(parent: Path, older_than_seconds: float = 3600.0) -> None:
    """Delete staging directories left by killed saves (older than an hour)."""
    if not parent.is_dir():
        return
    cutoff = time.time() - older_than_seconds
    for entry in parent.iterdir():
        if entry.name.startswith(STAGING_PREFIX):
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
            except FileNotFoundError:
                continue
