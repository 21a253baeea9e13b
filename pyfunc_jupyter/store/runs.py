"""The folder store's write side: runs, and ``log_model`` claiming a new version (or reusing one)."""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._storeroot import folder_store
from ..errors import ModelLoadError, ModelSaveError
from ..format import atomic as _atomic
from .folder import check_name as _check_name
from .folder import version_dirs

__all__ = ["log_model", "start_run", "end_run", "active_run", "Run", "RunInfo"]


@dataclass
class RunInfo:
    """The identity of a run."""

    run_id: str
    run_name: str | None
    start_time: int
    end_time: int | None = None
    status: str = "RUNNING"


@dataclass
class Run:
    """A run: the models logged inside it carry its ``run_id``; usable as a context manager."""

    info: RunInfo
    logged: list = field(default_factory=list)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        end_run("FAILED" if exc_type else "FINISHED")


_runs: list[Run] = []


def start_run(run_id: str | None = None, run_name: str | None = None, nested: bool = False) -> Run:
    """Start a run (``with start_run():``); models logged inside it record its ``run_id``."""
    if _runs and not nested:
        raise ValueError(f"Run {_runs[-1].info.run_id} is already active. End it with end_run(), or pass nested=True.")
    run = Run(RunInfo(run_id or uuid.uuid4().hex, run_name, int(time.time() * 1000)))
    _runs.append(run)
    return run


# called with (run, status) when a run ends: a tracking-server store ends its server run there
end_run_hooks: list = []


def end_run(status: str = "FINISHED") -> None:
    """End the active run, if any."""
    if _runs:
        run = _runs.pop()
        run.info.status, run.info.end_time = status, int(time.time() * 1000)
        for hook in end_run_hooks:
            hook(run, status)


def active_run() -> Run | None:
    """The innermost active run, or None."""
    return _runs[-1] if _runs else None


def _default_source() -> str:
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    return os.path.basename(main) if main else "interactive"


def log_model(
    name: str | None = None,
    python_model: Any = None,
    *,
    artifact_path: str | None = None,
    registered_model_name: str | None = None,
    source: str | None = None,
    new_version: bool = False,
    store: str | os.PathLike | None = None,
    **save_kwargs: Any,
):
    """Save ``python_model`` into the store as a new version of ``name``; returns ``ModelInfo``.

    Accepts ``save_model``'s keyword arguments. ``artifact_path=`` is accepted for ``name=`` as older
    MLflow guides write it. The version is claimed atomically, so concurrent logs never collide.
    When the latest version holds exactly the same content (a content hash, see
    ``registry.content_hash``), it is returned instead (``info.unchanged``), unless ``new_version=True``.
    ``store`` is the store folder (default: the folder store in use).
    """
    from ..format.save import build_model

    if name is not None and artifact_path is not None:
        raise ModelSaveError("Pass the model name once: name= or artifact_path=, not both.")
    artifact_name = _check_name(name if name is not None else artifact_path)
    store_name = _check_name(registered_model_name or artifact_name)
    if python_model is None:
        raise ModelSaveError(
            "log_model needs python_model=<a PythonModel instance, a one-argument function, or "
            "the path of a .py file that ends with set_model(...)>."
        )
    run = active_run()
    run_id = run.info.run_id if run else None
    store = Path(store).expanduser().absolute() if store is not None else folder_store()
    _atomic.check_path_text(store, "The store path")
    parent = store / store_name
    extra = {"artifact_path": artifact_name}
    if run_id:
        extra["run_id"] = run_id
    sidecar = {
        "name": store_name,
        "artifact_name": artifact_name,
        "run_id": run_id,
        "source": source or _default_source(),
    }
    # a failed save removes its staging folder and the folders it made (a name's first save leaves no trace)
    with _atomic.staging(parent) as staging:
        built = build_model(staging, python_model, extra_mlmodel=extra, sidecar=sidecar, **save_kwargs)
        same = _same_as_latest(staging, parent, built)
        if same is not None and not new_version:
            shutil.rmtree(staging, ignore_errors=True)
            return logged_info(built, parent / str(same), store_name, same, artifact_name, run, unchanged=True)
        version = _atomic.claim_version(staging, parent)
    return logged_info(built, parent / str(version), store_name, version, artifact_name, run)


def logged_info(
    built: Any,
    path: Path,
    store_name: str,
    version: int,
    artifact_name: str,
    run: Any,
    *,
    unchanged: bool = False,
    **extra: Any,
):
    """The ``ModelInfo`` of version ``version`` of ``store_name`` (at ``path``), added to ``run``'s logged models.

    Both stores' ``log_model`` end here. An ``unchanged`` version (the same content as what was just
    built) keeps its own identity: its ids, creation time, run and artifact path, not the new build's.
    """
    from ..format.save import model_info
    from .registry import saved_identity

    if unchanged:
        built.mlmodel = {**built.mlmodel, **saved_identity(path)}
    info = model_info(
        built,
        path,
        f"models:/{store_name}/{version}",
        name=store_name,
        version=version,
        artifact_path=artifact_name,
        unchanged=unchanged,
        **extra,
    )
    if run is not None:
        run.logged.append(info)
    return info


def _same_as_latest(staging: Path, parent: Path, built: Any) -> int | None:
    """Record the built model's content hash in its sidecar; the latest version's number if it has the same."""
    from ..format.sidecar import read_sidecar, update_sidecar
    from .registry import content_hash

    digest = content_hash(staging, built.mlmodel)
    if digest is None:  # no hash: simply a new version
        return None
    update_sidecar(staging, content_hash=digest)
    versions = version_dirs(parent)
    if not versions:
        return None
    try:
        latest = read_sidecar(versions[-1])
    except ModelLoadError:  # unreadable or of another format: not the same
        return None
    return int(versions[-1].name) if latest is not None and latest.get("content_hash") == digest else None
