"""Registry operations on the folder store: descriptions, tags, aliases, deleting versions, content hashes.

The names and arguments are MLflow's client's (``MlflowClient.set_registered_model_alias`` ...), so a
remote store can map the same functions onto MLflow. Metadata lives in one JSON file per model name,
``<store>/<name>/registry.json`` (the Jupyter contents API can read it; version directories stay as
they were published)::

    {"format": 1, "name": "m", "description": null, "tags": {}, "aliases": {"champion": 3},
     "versions": {"3": {"description": "...", "tags": {"stage": "prod"}}}}

Every change is a read-modify-write under an exclusive ``flock`` on ``<name>/.registry.lock``, written
to a temporary file and renamed over ``registry.json``, so readers never see half a file and two
kernels never lose each other's change. A deleted version leaves a small file named by its number, so
the number is never given to another model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import RegistryError

__all__ = [
    "REGISTRY_FILE",
    "delete_model_version",
    "update_model_version",
    "set_model_version_tag",
    "delete_model_version_tag",
    "set_registered_model_alias",
    "delete_registered_model_alias",
    "get_model_version",
    "get_model_version_by_alias",
    "update_registered_model",
    "set_registered_model_tag",
    "delete_registered_model_tag",
    "read_registry",
    "content_hash",
    "saved_identity",
    "version_for_alias",
]

REGISTRY_FILE = "registry.json"
_LOCK_FILE = ".registry.lock"
_ALIAS = re.compile(r"^[\w\-]{1,255}$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
_MAX_TAG_KEY, _MAX_TAG_VALUE = 250, 100_000
# MLmodel keys that differ between two saves of the same content
_VOLATILE_MLMODEL = ("utc_time_created", "model_uuid", "model_id", "model_size_bytes")  # the size follows the pickle
_IDENTITY = ("utc_time_created", "model_uuid", "model_id", "run_id", "artifact_path")  # of a saved version


# ------------------------------------------------------------------------------------------ reading


def read_registry(model_dir: str | os.PathLike) -> dict[str, Any]:
    """The metadata of the model at ``model_dir`` (``<store>/<name>``); empty fields when none was set."""
    path = Path(model_dir) / REGISTRY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, ValueError) as exc:
        raise RegistryError(
            f"The registry file {path} is unreadable ({exc}). Fix or delete it (it holds only "
            "descriptions, tags and aliases; the model versions are untouched)."
        ) from exc
    if not isinstance(data, dict):
        raise RegistryError(f"The registry file {path} does not hold a JSON object. Fix or delete it.")
    data.setdefault("description", None)
    for key in ("tags", "aliases", "versions"):
        if not isinstance(data.get(key), dict):
            data[key] = {}
    return data


def version_for_alias(model_dir: Path, alias: str) -> int | None:
    """The version an alias points to, or None."""
    version = read_registry(model_dir)["aliases"].get(alias)
    return int(version) if isinstance(version, int) or (isinstance(version, str) and version.isdigit()) else None


# ------------------------------------------------------------------------------------------ writing


@contextlib.contextmanager
def _locked(model_dir: Path) -> Iterator[dict[str, Any]]:
    """The registry of ``model_dir`` for changing, under an exclusive lock; written back atomically."""
    fcntl: ModuleType | None
    try:
        import fcntl
    except ImportError:  # not POSIX: the rename below still keeps readers safe
        fcntl = None
    with open(model_dir / _LOCK_FILE, "a+") as lock:
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            data = read_registry(model_dir)
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                data["format"], data["name"] = 1, model_dir.name
                temporary = model_dir / f".{REGISTRY_FILE}.{uuid.uuid4().hex[:8]}.tmp"
                try:
                    temporary.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
                    os.replace(temporary, model_dir / REGISTRY_FILE)
                finally:
                    temporary.unlink(missing_ok=True)
        finally:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _model_dir(name: Any) -> Path:
    """The existing store folder of model ``name``."""
    from .._storeroot import folder_store

    root = folder_store()
    if (
        not isinstance(name, str)
        or not name
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or not (root / name).is_dir()
    ):
        known = (
            sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []
        )
        raise RegistryError(f"No model named {name!r} in the store {root}. Known models: {known}.")
    return root / name


def _version_dir(name: Any, version: Any) -> tuple[Path, str]:
    """The existing directory of ``name`` version ``version`` (an int or a string of digits)."""
    model_dir = _model_dir(name)
    text = str(version).strip() if isinstance(version, (int, str)) and not isinstance(version, bool) else ""
    if not text.isdigit() or not (model_dir / str(int(text))).is_dir():
        versions = sorted(int(p.name) for p in model_dir.iterdir() if p.name.isdigit() and p.is_dir())
        raise RegistryError(f"Model {name!r} has no version {version!r}; its versions: {versions}.")
    return model_dir, str(int(text))


def _entry(name: str, version: str):
    """The listing entry of one version, with its metadata."""
    from .folder import _entry as store_entry

    model_dir = _model_dir(name)
    entry = store_entry(name, model_dir / version)
    return with_metadata([entry], read_registry(model_dir))[0]


def with_metadata(entries: list, registry: dict[str, Any]) -> list:
    """Fill description, tags and aliases of store entries of one name from its registry."""
    aliases: dict[int, list[str]] = {}
    for alias, version in sorted(registry["aliases"].items()):
        aliases.setdefault(int(version), []).append(alias)
    for entry in entries:
        meta = registry["versions"].get(str(entry.version)) or {}
        entry.description = meta.get("description")
        entry.tags = dict(meta.get("tags") or {})
        entry.aliases = aliases.get(entry.version, [])
    return entries


def _check_tag(key: Any, value: Any) -> tuple[str, str]:
    if not isinstance(key, str) or not key.strip() or len(key) > _MAX_TAG_KEY:
        raise RegistryError(
            f"Tag key {key!r} is not usable: give a non-empty string of at most {_MAX_TAG_KEY} characters."
        )
    value = str(value)  # as MLflow does
    if len(value) > _MAX_TAG_VALUE:
        raise RegistryError(
            f"The value of tag {key!r} has {len(value)} characters; at most {_MAX_TAG_VALUE} "
            "are allowed. Store long text in the description or as an artifact."
        )
    return key, value


def _check_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise RegistryError(
            f"Alias {alias!r} is not usable: use 1 to 255 letters, digits, '_' or '-' (e.g. 'champion')."
        )
    if alias.lower() == "latest" or _VERSION_ALIAS.match(alias):
        raise RegistryError(
            f"Alias {alias!r} is reserved ('latest' and v<number> name versions already); "
            "choose another name, e.g. 'champion'."
        )
    return alias


# ------------------------------------------------------------------------------------------ the API


def get_model_version(name: str, version: int | str):
    """The store entry of ``name`` version ``version`` (with description, tags and aliases)."""
    _, version = _version_dir(name, version)
    return _entry(name, version)


def update_model_version(name: str, version: int | str, description: str | None = None):
    """Set the description of a version (``None`` leaves it; ``""`` clears it); returns its entry."""
    model_dir, version = _version_dir(name, version)
    if description is not None:
        if not isinstance(description, str):
            raise RegistryError(f"description must be a string, not {type(description).__name__}.")
        with _locked(model_dir) as data:
            meta = data["versions"].setdefault(version, {})
            meta["description"] = description or None
    return _entry(name, version)


def set_model_version_tag(name: str, version: int | str, key: str, value: Any) -> None:
    """Set tag ``key`` of a version to ``str(value)``."""
    model_dir, version = _version_dir(name, version)
    key, value = _check_tag(key, value)
    with _locked(model_dir) as data:
        data["versions"].setdefault(version, {}).setdefault("tags", {})[key] = value


def delete_model_version_tag(name: str, version: int | str, key: str) -> None:
    """Remove tag ``key`` of a version; an error if it has no such tag."""
    model_dir, version = _version_dir(name, version)
    with _locked(model_dir) as data:
        tags = (data["versions"].get(version) or {}).get("tags") or {}
        if key not in tags:
            raise RegistryError(f"Model {name!r} version {version} has no tag {key!r}; its tags: {sorted(tags)}.")
        del tags[key]


def update_registered_model(name: str, description: str | None = None):
    """Set the description of the model ``name`` (all its versions); returns it as a dict."""
    model_dir = _model_dir(name)
    if description is not None:
        if not isinstance(description, str):
            raise RegistryError(f"description must be a string, not {type(description).__name__}.")
        with _locked(model_dir) as data:
            data["description"] = description or None
    return read_registry(model_dir)


def set_registered_model_tag(name: str, key: str, value: Any) -> None:
    """Set tag ``key`` of the model ``name``."""
    model_dir = _model_dir(name)
    key, value = _check_tag(key, value)
    with _locked(model_dir) as data:
        data["tags"][key] = value


def delete_registered_model_tag(name: str, key: str) -> None:
    """Remove tag ``key`` of the model ``name``; an error if it has no such tag."""
    model_dir = _model_dir(name)
    with _locked(model_dir) as data:
        if key not in data["tags"]:
            raise RegistryError(f"Model {name!r} has no tag {key!r}; its tags: {sorted(data['tags'])}.")
        del data["tags"][key]


def set_registered_model_alias(name: str, alias: str, version: int | str) -> None:
    """Point ``alias`` of ``name`` at ``version`` (moving it if it pointed elsewhere): ``models:/name@alias``."""
    alias = _check_alias(alias)
    model_dir, version = _version_dir(name, version)
    with _locked(model_dir) as data:
        if not (model_dir / version).is_dir():  # deleted while we waited for the lock
            raise RegistryError(f"Model {name!r} version {version} was just deleted; the alias was not set.")
        data["aliases"][alias] = int(version)


def delete_registered_model_alias(name: str, alias: str) -> None:
    """Remove ``alias`` of ``name``; an error if there is no such alias."""
    model_dir = _model_dir(name)
    with _locked(model_dir) as data:
        if alias not in data["aliases"]:
            raise RegistryError(f"Model {name!r} has no alias {alias!r}; its aliases: {sorted(data['aliases'])}.")
        del data["aliases"][alias]


def get_model_version_by_alias(name: str, alias: str):
    """The store entry the alias points to."""
    model_dir = _model_dir(name)
    version = version_for_alias(model_dir, alias)
    if version is None:
        raise RegistryError(
            f"Model {name!r} has no alias {alias!r}; its aliases: {sorted(read_registry(model_dir)['aliases'])}."
        )
    return get_model_version(name, version)


def delete_model_version(name: str, version: int | str) -> None:
    """Delete a version: its directory, its description and tags, and the aliases pointing to it.

    The number is not reused: a small file named by it stays (listing ignores it), so
    ``models:/name/N`` never names another model later.
    """
    from ..format.atomic import exchange

    model_dir, version = _version_dir(name, version)
    with _locked(model_dir) as data:
        target = model_dir / version
        tombstone = model_dir / f".pyfunc-deleted-{version}-{uuid.uuid4().hex[:8]}"
        tombstone.write_text(json.dumps({"deleted_version": int(version)}), encoding="utf-8")
        if exchange(tombstone, target):  # one step: the number is never free
            shutil.rmtree(tombstone)
        else:
            moved = model_dir / f".pyfunc-deleted-{version}-{uuid.uuid4().hex[:8]}.dir"
            os.rename(target, moved)
            os.rename(tombstone, target)
            shutil.rmtree(moved)
        data["versions"].pop(version, None)
        for alias in [a for a, v in data["aliases"].items() if str(v) == version]:
            del data["aliases"][alias]


# ------------------------------------------------------------------------------------------ content hash

_IPYTHON_INPUT = re.compile(r"<ipython-input-\d+-")
_IPYKERNEL_DIR = re.compile(r"ipykernel_\d+")


def _literal_normaliser():
    """A function blanking, in one pickled string, what differs between two runs of one cell.

    That is cloudpickle's per-class tracker ids (new uuids each time a class is defined) and the
    cell's file name in code objects (IPython's holds the execution count, ipykernel's the pid).
    """
    try:
        from cloudpickle import cloudpickle as _cp
    except ImportError:
        trackers: set[str] = set()
    else:
        trackers = {t for t in getattr(_cp, "_DYNAMIC_CLASS_TRACKER_BY_CLASS", {}).values() if isinstance(t, str)}

    def normalise(value: Any) -> Any:
        if isinstance(value, bytes):
            return normalise(value.decode("latin-1")).encode("latin-1")
        if not isinstance(value, str):
            return value
        if value in trackers:
            return "<class-tracker-id>"
        return _IPYKERNEL_DIR.sub("ipykernel_", _IPYTHON_INPUT.sub("<ipython-input-", value))

    return normalise


_MEMO_PUT = {"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}
_MEMO_GET = {"GET", "BINGET", "LONG_BINGET"}
_LITERALS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "SHORT_BINBYTES",
    "BINBYTES",
    "BINBYTES8",
    "BININT",
    "BININT1",
    "BININT2",
    "LONG1",
    "LONG4",
    "BINFLOAT",
    "STRING",
    "SHORT_BINSTRING",
    "BINSTRING",
}


def _pickle_digest(data: bytes) -> bytes:
    """A digest of a pickle's opcodes with memo references to literals resolved and literals normalised.

    Two pickles of the same objects can differ only in whether an equal string is one object
    (a memo reference) or two (a repeated literal), e.g. a class's ``__module__`` after a reload;
    resolving literal references and renumbering the rest makes such pickles hash the same.
    """
    import pickletools

    normalise = _literal_normaliser()
    digest = hashlib.sha256()
    memo: dict[Any, Any] = {}
    last: Any = None
    refs = 0
    try:
        for opcode, arg, _ in pickletools.genops(data):
            name = opcode.name
            if name in _MEMO_PUT:
                key = len(memo) if name == "MEMOIZE" else arg
                if last is not None:
                    memo[key] = last
                else:
                    memo[key] = ("ref", refs)
                    refs += 1
                continue
            if name in _MEMO_GET:
                value = memo.get(arg, ("missing", arg))
                digest.update(repr(value).encode() + b"\0")
                last = None
                continue
            if name == "FRAME":
                continue
            if name in _LITERALS:
                last = ("lit", normalise(arg))
                digest.update(repr(last).encode() + b"\0")
            else:
                last = None
                digest.update(name.encode() + b" " + repr(arg).encode() + b"\0")
    except Exception:  # noqa: BLE001 - not a pickle we can walk: its bytes count as they are
        return hashlib.sha256(data).digest()
    return digest.digest()


def content_hash(model_dir: str | os.PathLike, mlmodel: dict[str, Any]) -> str | None:
    """A SHA-256 of what a model directory holds, leaving out what differs between two identical saves;
    None when the directory cannot be read (then a log simply adds a new version).

    Left out: our sidecar (times, provenance), the MLmodel's time and ids, and cloudpickle's class
    tracker ids inside the pickle (the flavor's ``python_model``). Everything else (pickle, artifacts,
    code, example, environment files, signature, run id) counts byte for byte. Call it in the process
    that pickled the model (the tracker ids are known there).
    """
    try:
        return _content_hash(Path(model_dir), mlmodel, mlmodel["flavors"]["python_function"].get("python_model"))
    except (OSError, TypeError, ValueError, KeyError):
        return None


def saved_identity(model_dir: str | os.PathLike) -> dict[str, Any]:
    """The MLmodel's ids and creation time of a saved version (empty where it cannot be read): what a log
    that found the version unchanged reports as its own."""
    from ..format.mlmodel import read_mlmodel

    with contextlib.suppress(Exception):
        existing = read_mlmodel(model_dir)
        return {k: existing[k] for k in _IDENTITY if k in existing}
    return {}


def _content_hash(root: Path, mlmodel: dict[str, Any], pickle_name: str | None) -> str:
    from ..format.sidecar import SIDECAR

    digest = hashlib.sha256()
    stable = {k: v for k, v in mlmodel.items() if k not in _VOLATILE_MLMODEL}
    digest.update(b"MLmodel\0" + json.dumps(stable, sort_keys=True, default=str).encode() + b"\0")
    files = sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())
    for path in files:
        relative = path.relative_to(root).as_posix()
        if relative in (SIDECAR, "MLmodel"):
            continue
        digest.update(relative.encode() + b"\0")
        if relative == pickle_name:
            digest.update(_pickle_digest(path.read_bytes()))
        else:
            with open(path, "rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()
