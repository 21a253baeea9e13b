"""The local folder store: ``log_model``, ``start_run``, ``set_store``, URIs and listing."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
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
           "resolve_uri", "StoreEntry", "Run", "RunInfo", "is_model_name", "is_version_name",
           "mlmodel_facts", "text_or_none"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # matched whole (fullmatch): no trailing newline
_VERSION = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits only: '²', '١' or '３' are not versions


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
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ModelSaveError(f"Model name {name!r} cannot name a store folder: use letters, digits, '.', '_' "
                             "and '-', starting with a letter or digit (e.g. 'linear_model').")
    return name


def _default_source() -> str:
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    return os.path.basename(main) if main else "interactive"


def log_model(name: str | None = None, python_model: Any = None, *, artifact_path: str | None = None,
              registered_model_name: str | None = None, source: str | None = None, new_version: bool = False,
              **save_kwargs: Any):
    """Save ``python_model`` into the store as a new version of ``name``; returns ``ModelInfo``.

    Accepts ``save_model``'s keyword arguments. ``artifact_path=`` is accepted for ``name=`` as older
    MLflow guides write it. The version is claimed atomically, so concurrent logs never collide.
    When the latest version holds exactly the same content (a content hash, see
    ``registry.content_hash``), it is returned instead (``info.unchanged``), unless ``new_version=True``.
    """
    from ..format.save import build_model, model_info

    if name is not None and artifact_path is not None:
        raise ModelSaveError("Pass the model name once: name= or artifact_path=, not both.")
    artifact_name = _check_name(name if name is not None else artifact_path)
    store_name = _check_name(registered_model_name or artifact_name)
    if python_model is None:
        raise ModelSaveError("log_model needs python_model=<a PythonModel instance or a one-argument function>.")
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
        same = _same_as_latest(staging, parent, built)
        if same is not None and not new_version:
            shutil.rmtree(staging, ignore_errors=True)
            return _unchanged_info(built, parent, same, store_name, artifact_name, run)
        version = _atomic.claim_version(staging, parent)
    info = model_info(built, parent / str(version), f"models:/{store_name}/{version}", name=store_name,
                      version=version, artifact_path=artifact_name)
    if run is not None:
        run.logged.append(info)
    return info


def _same_as_latest(staging: Path, parent: Path, built: Any) -> int | None:
    """Record the built model's content hash in its sidecar; the latest version's number if it has the same."""
    from .registry import content_hash
    from ..format.sidecar import read_sidecar, update_sidecar

    flavor = built.mlmodel["flavors"]["python_function"]
    try:
        digest = content_hash(staging, built.mlmodel, flavor.get("python_model"))
    except (OSError, TypeError, ValueError):  # no hash: simply a new version, as before
        return None
    update_sidecar(staging, content_hash=digest)
    versions = _versions(parent)
    if not versions:
        return None
    try:
        latest = read_sidecar(versions[-1])
    except ModelLoadError:  # unreadable or of another format: not the same
        return None
    return int(versions[-1].name) if latest is not None and latest.get("content_hash") == digest else None


def _unchanged_info(built: Any, parent: Path, version: int, store_name: str, artifact_name: str, run: Any):
    """The ``ModelInfo`` of an existing version found identical to what was just built."""
    from ..format.mlmodel import read_mlmodel
    from ..format.save import model_info

    path = parent / str(version)
    with contextlib.suppress(Exception):  # the existing version's own identity, where readable
        existing = read_mlmodel(path)
        built.mlmodel = {**built.mlmodel, **{k: existing[k] for k in ("utc_time_created", "model_uuid")
                                             if k in existing}}
    info = model_info(built, path, f"models:/{store_name}/{version}", name=store_name, version=version,
                      artifact_path=artifact_name, unchanged=True)
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
    description: str | None = None  # from <name>/registry.json (see _registry)
    tags: dict = field(default_factory=dict)
    aliases: list = field(default_factory=list)

    @property
    def uri(self) -> str:
        """``models:/<name>/<version>``."""
        return f"models:/{self.name}/{self.version}"


def is_model_name(name: str) -> bool:
    """Whether ``name`` may name a model folder of the store (``log_model``'s rule)."""
    return bool(_NAME.fullmatch(name))


def is_version_name(name: str) -> bool:
    """Whether ``name`` is a version folder's name: ASCII digits, no leading zero."""
    return bool(_VERSION.fullmatch(name))


def text_or_none(value: Any) -> str | None:
    """An MLmodel fact as text: YAML may read a date or a number; a list, mapping or flag is None."""
    import datetime

    if isinstance(value, (datetime.date, int, float)) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def _entry(name: str, version_dir: Path) -> StoreEntry:
    from ..format.mlmodel import safe_model_path
    from ..format.sidecar import read_sidecar
    from ..errors import PyfuncError

    entry = StoreEntry(name=name, version=int(version_dir.name), path=str(version_dir))
    if not is_model_name(name):
        entry.error = (f"{name!r} is not a valid model name (letters, digits, '.', '_', '-'); rename the folder")
        return entry
    folder = str(version_dir)
    if os.path.islink(os.path.dirname(folder)) or os.path.islink(folder):
        entry.error = "the folder is a symbolic link; the store holds only real folders (copy the model in)"
        return entry
    mlmodel = os.path.join(folder, "MLmodel")
    if not os.path.isfile(mlmodel):
        entry.error = "no MLmodel file: not a model directory"
        return entry
    try:
        if os.path.islink(mlmodel):
            safe_model_path(version_dir, "MLmodel", mlmodel_path=mlmodel, key="MLmodel")
        side = read_sidecar(version_dir)
    except PyfuncError as exc:
        entry.error = str(exc)
        return entry
    if side is None:
        return _entry_from_mlmodel(entry, version_dir)
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
    return mlmodel_facts(entry, mlmodel, str(version_dir / "MLmodel"))


def mlmodel_facts(entry: StoreEntry, mlmodel: dict, mlmodel_path: str) -> StoreEntry:
    """Fill a listing entry from a parsed MLmodel; a signature that cannot be read makes it broken."""
    from ..format.mlmodel import read_signature
    from ..errors import PyfuncError

    try:
        signature = read_signature(mlmodel, mlmodel_path)
        entry.signature_summary = signature.summary() if signature is not None else None
    except PyfuncError as exc:
        entry.error = str(exc)
        return entry
    entry.created, entry.run_id = text_or_none(mlmodel.get("utc_time_created")), text_or_none(mlmodel.get("run_id"))
    size = mlmodel.get("model_size_bytes")
    entry.size_bytes = size if isinstance(size, int) and not isinstance(size, bool) else None
    return entry


def _versions(model_dir: Path) -> list[Path]:
    """The version folders of a model folder, oldest first (names of ASCII digits only)."""
    try:
        children = list(model_dir.iterdir())
    except OSError:
        return []
    return sorted((p for p in children if is_version_name(p.name) and p.is_dir()), key=lambda p: int(p.name))


def list_models(store: str | os.PathLike | None = None) -> list[StoreEntry]:
    """Every model version in the store, by name then version; broken ones carry ``error``."""
    root = Path(store) if store is not None else get_store()
    if not root.is_dir():
        return []
    entries = []
    _atomic.remove_stale_staging(root)  # left by killed saves (their owner is gone); never a live one
    for model_dir in sorted(root.iterdir()):
        if model_dir.is_dir() and not model_dir.name.startswith("."):
            if not model_dir.is_symlink():  # never clean a folder outside the store
                _atomic.remove_stale_staging(model_dir)
            entries.extend(_with_registry(model_dir, [_entry(model_dir.name, v) for v in _versions(model_dir)]))
    return entries


def _model_folder(root: Path, name: str) -> Path:
    """The folder of a model name: the name must be valid, so ``..`` or ``a/b`` never leave the store."""
    if not is_model_name(name):
        raise ModelLoadError(f"{name!r} is not a model name of the store: names use letters, digits, '.', '_' "
                             "and '-' and start with a letter or digit (e.g. models:/linear_model/1).")
    model_dir = root / name
    if model_dir.is_symlink():
        raise ModelLoadError(f"The model folder {model_dir} is a symbolic link; the store loads only real "
                             "folders. Copy the model into the store, or load it by its path.")
    return model_dir


def _with_registry(model_dir: Path, entries: list[StoreEntry]) -> list[StoreEntry]:
    """Entries with their description, tags and aliases (an unreadable registry file never fails a listing)."""
    from .registry import REGISTRY_FILE, read_registry, with_metadata
    from ..errors import RegistryError

    if not entries or not (model_dir / REGISTRY_FILE).is_file():
        return entries
    try:
        return with_metadata(entries, read_registry(model_dir))
    except (RegistryError, ValueError, TypeError):
        return entries


def resolve_uri(uri: str) -> Path:
    """The directory of a ``models:/<name>/<version|latest>`` or ``runs:/<run_id>/<name>`` URI."""
    root = get_store()
    if uri.startswith("models:/") and "@" in uri and "/" not in uri[len("models:/"):].strip("/"):
        return _resolve_alias(root, uri)
    if uri.startswith("models:/"):
        name, _, version = uri[len("models:/"):].strip("/").partition("/")
        model_dir = _model_folder(root, name)
        versions = _versions(model_dir) if model_dir.is_dir() else []
        if not versions:
            known = sorted(p.name for p in root.iterdir() if is_model_name(p.name)) if root.is_dir() else []
            raise ModelLoadError(f"No model named {name!r} in the store {root}. Known models: {known}.")
        if version in ("", "latest"):
            chosen = versions[-1]
        elif not is_version_name(version) or not (model_dir / version).is_dir():
            raise ModelLoadError(f"Model {name!r} has no version {version!r} in {root}; versions: "
                                 f"{[int(v.name) for v in versions]} (or 'latest').")
        else:
            chosen = model_dir / version
        if chosen.is_symlink():
            raise ModelLoadError(f"The version folder {chosen} is a symbolic link; the store loads only real "
                                 "folders. Copy the model into the store, or load it by its path.")
        return chosen
    if uri.startswith("runs:/"):
        run_id, _, name = uri[len("runs:/"):].strip("/").partition("/")
        matches = [e for e in list_models(root) if e.run_id == run_id and (e.artifact_name == name or e.name == name)]
        if not matches:
            raise ModelLoadError(f"No model {name!r} logged in run {run_id!r} in the store {root}.")
        return Path(matches[-1].path)
    raise ModelLoadError(f"{uri!r} is not a models:/ or runs:/ URI.")


def _resolve_alias(root: Path, uri: str) -> Path:
    """The directory of ``models:/<name>@<alias>``."""
    from .registry import read_registry, version_for_alias
    from ..errors import RegistryError

    name, _, alias = uri[len("models:/"):].strip("/").partition("@")
    model_dir = _model_folder(root, name)
    if not model_dir.is_dir():
        known = sorted(p.name for p in root.iterdir() if is_model_name(p.name)) if root.is_dir() else []
        raise ModelLoadError(f"No model named {name!r} in the store {root}. Known models: {known}.")
    try:
        version = version_for_alias(model_dir, alias)
        aliases = sorted(read_registry(model_dir)["aliases"])
    except RegistryError as exc:
        raise ModelLoadError(str(exc)) from exc
    if version is not None and (model_dir / str(version)).is_symlink():
        raise ModelLoadError(f"The version folder {model_dir / str(version)} is a symbolic link; the store loads "
                             "only real folders. Copy the model into the store, or load it by its path.")
    if version is None or not (model_dir / str(version)).is_dir():
        raise ModelLoadError(f"Model {name!r} has no alias {alias!r} in {root}; its aliases: {aliases}. Set one "
                             f"with set_registered_model_alias({name!r}, {alias!r}, <version>).")
    return model_dir / str(version)
