"""The folder store's read side: names and versions, ``models:/`` and ``runs:/`` URIs, listing."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._storeroot import folder_store, get_store, set_store
from ..errors import ModelLoadError, ModelSaveError
from ..format import atomic as _atomic

__all__ = [
    "set_store",
    "get_store",
    "list_models",
    "resolve_uri",
    "StoreEntry",
    "is_model_name",
    "is_version_name",
    "mlmodel_facts",
    "text_or_none",
    "check_name",
    "version_dirs",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # matched whole (fullmatch): no trailing newline
_VERSION = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits only: '²', '١' or '３' are not versions


def check_name(name: Any) -> str:
    """``name`` if it can name a store folder, else a ``ModelSaveError`` that says how to name it."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ModelSaveError(
            f"Model name {name!r} cannot name a store folder: use letters, digits, '.', '_' "
            "and '-', starting with a letter or digit (e.g. 'linear_model')."
        )
    return name


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
    description: str | None = None  # registry metadata (a tracking server's, or <name>/registry.json here)
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
    from ..errors import PyfuncError
    from ..format.mlmodel import safe_model_path
    from ..format.sidecar import read_sidecar

    entry = StoreEntry(name=name, version=int(version_dir.name), path=str(version_dir))
    if not is_model_name(name):
        entry.error = f"{name!r} is not a valid model name (letters, digits, '.', '_', '-'); rename the folder"
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
    from ..errors import PyfuncError
    from ..format.mlmodel import read_mlmodel

    try:
        mlmodel = read_mlmodel(version_dir)
    except PyfuncError as exc:
        entry.error = str(exc)
        return entry
    return mlmodel_facts(entry, mlmodel, str(version_dir / "MLmodel"))


def mlmodel_facts(entry: StoreEntry, mlmodel: dict, mlmodel_path: str) -> StoreEntry:
    """Fill a listing entry from a parsed MLmodel; a signature that cannot be read makes it broken."""
    from ..errors import PyfuncError
    from ..format.mlmodel import read_signature

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


def version_dirs(model_dir: Path) -> list[Path]:
    """The version folders of a model folder, oldest first (names of ASCII digits only)."""
    try:
        children = list(model_dir.iterdir())
    except OSError:
        return []
    return sorted((p for p in children if is_version_name(p.name) and p.is_dir()), key=lambda p: int(p.name))


def list_models(store: str | os.PathLike | None = None) -> list[StoreEntry]:
    """Every model version in the store, by name then version; broken ones carry ``error``."""
    root = Path(store) if store is not None else folder_store()
    if not root.is_dir():
        return []
    entries = []
    _atomic.remove_stale_staging(root)  # left by killed saves (their owner is gone); never a live one
    for model_dir in sorted(root.iterdir()):
        if model_dir.is_dir() and not model_dir.name.startswith("."):
            if not model_dir.is_symlink():  # never clean a folder outside the store
                _atomic.remove_stale_staging(model_dir)
            entries.extend(_with_registry(model_dir, [_entry(model_dir.name, v) for v in version_dirs(model_dir)]))
    return entries


def _model_folder(root: Path, name: str) -> Path:
    """The folder of a model name: the name must be valid, so ``..`` or ``a/b`` never leave the store."""
    if not is_model_name(name):
        raise ModelLoadError(
            f"{name!r} is not a model name of the store: names use letters, digits, '.', '_' "
            "and '-' and start with a letter or digit (e.g. models:/linear_model/1)."
        )
    model_dir = root / name
    if model_dir.is_symlink():
        raise ModelLoadError(
            f"The model folder {model_dir} is a symbolic link; the store loads only real "
            "folders. Copy the model into the store, or load it by its path."
        )
    return model_dir


def _with_registry(model_dir: Path, entries: list[StoreEntry]) -> list[StoreEntry]:
    """Entries with their description, tags and aliases (an unreadable registry file never fails a listing)."""
    from ..errors import RegistryError
    from .registry import REGISTRY_FILE, read_registry, with_metadata

    if not entries or not (model_dir / REGISTRY_FILE).is_file():
        return entries
    try:
        return with_metadata(entries, read_registry(model_dir))
    except (RegistryError, ValueError, TypeError):
        return entries


def resolve_uri(uri: str, store: str | os.PathLike | None = None) -> Path:
    """The directory of a ``models:/<name>/<version|latest|@alias>`` or ``runs:/<run_id>/<name>`` URI in a folder."""
    root = Path(store) if store is not None else folder_store()
    if uri.startswith("models:/") and "@" in uri and "/" not in uri[len("models:/") :].strip("/"):
        return _resolve_alias(root, uri)
    if uri.startswith("models:/"):
        name, _, version = uri[len("models:/") :].strip("/").partition("/")
        model_dir = _model_folder(root, name)
        versions = version_dirs(model_dir) if model_dir.is_dir() else []
        if not versions:
            known = sorted(p.name for p in root.iterdir() if is_model_name(p.name)) if root.is_dir() else []
            raise ModelLoadError(f"No model named {name!r} in the store {root}. Known models: {known}.")
        if version in ("", "latest"):
            chosen = versions[-1]
        elif not is_version_name(version) or not (model_dir / version).is_dir():
            raise ModelLoadError(
                f"Model {name!r} has no version {version!r} in {root}; versions: "
                f"{[int(v.name) for v in versions]} (or 'latest')."
            )
        else:
            chosen = model_dir / version
        if chosen.is_symlink():
            raise ModelLoadError(
                f"The version folder {chosen} is a symbolic link; the store loads only real "
                "folders. Copy the model into the store, or load it by its path."
            )
        return chosen
    if uri.startswith("runs:/"):
        run_id, _, name = uri[len("runs:/") :].strip("/").partition("/")
        matches = [e for e in list_models(root) if e.run_id == run_id and (e.artifact_name == name or e.name == name)]
        if not matches:
            raise ModelLoadError(f"No model {name!r} logged in run {run_id!r} in the store {root}.")
        return Path(matches[-1].path)
    raise ModelLoadError(f"{uri!r} is not a models:/ or runs:/ URI.")


def _resolve_alias(root: Path, uri: str) -> Path:
    """The directory of ``models:/<name>@<alias>``."""
    from ..errors import RegistryError
    from .registry import read_registry, version_for_alias

    name, _, alias = uri[len("models:/") :].strip("/").partition("@")
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
        raise ModelLoadError(
            f"The version folder {model_dir / str(version)} is a symbolic link; the store loads "
            "only real folders. Copy the model into the store, or load it by its path."
        )
    if version is None or not (model_dir / str(version)).is_dir():
        raise ModelLoadError(
            f"Model {name!r} has no alias {alias!r} in {root}; its aliases: {aliases}. Set one "
            f"with set_registered_model_alias({name!r}, {alias!r}, <version>)."
        )
    return model_dir / str(version)
