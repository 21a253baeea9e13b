"""The local folder store: ``log_model``, ``start_run``, ``set_store``, URIs and listing."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..format import atomic as _atomic
from .._storeroot import STORE_ENV, get_store, set_store
from ..errors import ModelLoadError, ModelSaveError

__all__ = ["log_model", "start_run", "end_run", "active_run", "set_store", "get_store", "list_models",
           "resolve_uri", "StoreEntry", "Run", "RunInfo"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


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

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        end_run("FAILED" if exc_type else "FINISHED")


_runs: list[Run] = []


def start_run(run_id: str | None = None, run_name: str | None = None, nested: bool = False) -> Run:
    """Start a run (``with start_run():``); models logged inside it record its ``run_id``."""
    if _runs and not nested:
        raise ValueError(f"Run {_runs[-1].info.run_id} is already active. End it with end_run(), "
                         "or pass nested=True.")
    run = Run(RunInfo(run_id or uuid.uuid4().hex, run_name, int(time.time() * 1000)))
    _runs.append(run)
    return run


def end_run(status: str = "FINISHED") -> None:
    """End the active run, if any."""
    if _runs:
        run = _runs.pop()
        run.info.status, run.info.end_time = status, int(time.time() * 1000)


def active_run() -> Run | None:
    """The innermost active run, or None."""
    return _runs[-1] if _runs else None


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ModelSaveError(f"Model name {name!r} cannot name a store folder: use letters, digits, '.', '_' "
                             "and '-', starting with a letter or digit (e.g. 'linear_model').")
    return name


def _default_source() -> str:
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    return os.path.basename(main) if main else "interactive"


def log_model(name: str | None = None, python_model: Any = None, *, artifact_path: str | None = None,
              registered_model_name: str | None = None, source: str | None = None, **save_kwargs: Any):
    """Save ``python_model`` into the store as a new version of ``name``; returns ``ModelInfo``.

    Accepts ``save_model``'s keyword arguments. ``artifact_path=`` is accepted for ``name=`` as older
    MLflow guides write it. The version is claimed atomically, so concurrent logs never collide.
    """
    from ..format.save import build_model, model_info

    if name is not None and artifact_path is not None:
        raise ModelSaveError("Pass the model name once: name= or artifact_path=, not both.")
    artifact_name = _check_name(name if name is not None else artifact_path)
    store_name = _check_name(registered_model_name or artifact_name)
    if python_model is None:
        raise ModelSaveError("log_model needs python_model=<a PythonModel instance, a one-argument function, or "
                             "the path of a .py file that ends with set_model(...)>.")
    run = active_run()
    run_id = run.info.run_id if run else None
    store = get_store()
    _atomic.check_path_text(store, "The store path")
    parent = store / store_name
    extra = {"artifact_path": artifact_name}
    if run_id:
        extra["run_id"] = run_id
    sidecar = {"name": store_name, "artifact_name": artifact_name, "run_id": run_id,
               "source": source or _default_source()}
    # a failed save removes its staging folder and the folders it made (a name's first save leaves no trace)
    with _atomic.staging(parent) as staging:
        built = build_model(staging, python_model, extra_mlmodel=extra, sidecar=sidecar, **save_kwargs)
        version = _atomic.claim_version(staging, parent)
    info = model_info(built, parent / str(version), f"models:/{store_name}/{version}", name=store_name,
                      version=version, artifact_path=artifact_name)
    if run is not None:
        run.logged.append(info)
    return info


@dataclass
class StoreEntry:
    """One model version in the store, as listed (read from its summary file, never unpickled)."""

    name: str
    version: int
    path: str
    created: str | None = None
    run_id: str | None = None
    artifact_name: str | None = None
    signature_summary: str | None = None
    size_bytes: int | None = None
    source: str | None = None
    error: str | None = None

    @property
    def uri(self) -> str:
        """``models:/<name>/<version>``."""
        return f"models:/{self.name}/{self.version}"


def _entry(name: str, version_dir: Path) -> StoreEntry:
    from ..format.save import SIDECAR

    entry = StoreEntry(name=name, version=int(version_dir.name), path=str(version_dir))
    if not (version_dir / "MLmodel").is_file():
        entry.error = "no MLmodel file: not a model directory"
        return entry
    try:
        side = json.loads((version_dir / SIDECAR).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _entry_from_mlmodel(entry, version_dir)
    except (OSError, ValueError) as exc:
        entry.error = f"unreadable {SIDECAR}: {exc}"
        return entry
    entry.created, entry.run_id = side.get("created"), side.get("run_id")
    entry.artifact_name, entry.source = side.get("artifact_name"), side.get("source")
    entry.signature_summary, entry.size_bytes = side.get("signature_summary"), side.get("size_bytes")
    return entry


def _entry_from_mlmodel(entry: StoreEntry, version_dir: Path) -> StoreEntry:
    """A directory written by MLflow (no summary file): read what the MLmodel says."""
    from ..format.mlmodel import read_mlmodel
    from ..errors import PyfuncError

    try:
        mlmodel = read_mlmodel(version_dir)
    except PyfuncError as exc:
        entry.error = str(exc)
        return entry
    entry.created, entry.run_id = mlmodel.get("utc_time_created"), mlmodel.get("run_id")
    entry.size_bytes = mlmodel.get("model_size_bytes")
    if mlmodel.get("signature"):
        from ..format.schema import ModelSignature

        try:
            entry.signature_summary = ModelSignature.from_dict(mlmodel["signature"]).summary()
        except Exception as exc:  # noqa: BLE001 - listing never fails on one bad model
            entry.error = f"unreadable signature: {exc}"
    return entry


def _versions(model_dir: Path) -> list[Path]:
    return sorted((p for p in model_dir.iterdir() if p.name.isdigit() and p.is_dir()), key=lambda p: int(p.name))


def list_models(store: str | os.PathLike | None = None) -> list[StoreEntry]:
    """Every model version in the store, by name then version; broken ones carry ``error``."""
    root = Path(store) if store is not None else get_store()
    if not root.is_dir():
        return []
    entries = []
    _atomic.remove_stale_staging(root)  # left by killed saves (their owner is gone); never a live one
    for model_dir in sorted(root.iterdir()):
        if model_dir.is_dir() and not model_dir.name.startswith("."):
            _atomic.remove_stale_staging(model_dir)
            entries.extend(_entry(model_dir.name, v) for v in _versions(model_dir))
    return entries


def resolve_uri(uri: str) -> Path:
    """The directory of a ``models:/<name>/<version|latest>`` or ``runs:/<run_id>/<name>`` URI."""
    root = get_store()
    if uri.startswith("models:/"):
        name, _, version = uri[len("models:/"):].strip("/").partition("/")
        model_dir = root / name
        versions = _versions(model_dir) if name and model_dir.is_dir() else []
        if not versions:
            raise ModelLoadError(f"No model named {name!r} in the store {root}. "
                                 f"Known models: {sorted(p.name for p in root.iterdir()) if root.is_dir() else []}.")
        if version in ("", "latest"):
            return versions[-1]
        if not version.isdigit() or not (model_dir / version).is_dir():
            raise ModelLoadError(f"Model {name!r} has no version {version!r} in {root}; versions: "
                                 f"{[int(v.name) for v in versions]} (or 'latest').")
        return model_dir / version
    if uri.startswith("runs:/"):
        run_id, _, name = uri[len("runs:/"):].strip("/").partition("/")
        matches = [e for e in list_models(root) if e.run_id == run_id and (e.artifact_name == name or e.name == name)]
        if not matches:
            raise ModelLoadError(f"No model {name!r} logged in run {run_id!r} in the store {root}.")
        return Path(matches[-1].path)
    raise ModelLoadError(f"{uri!r} is not a models:/ or runs:/ URI.")
