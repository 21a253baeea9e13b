"""The store interface, the store in use (a folder or an MLflow tracking server), and the public functions that use it.

``log_model``, ``list_models``, ``resolve_uri`` and the registry functions (MLflow's client names:
``set_registered_model_alias`` ...) go to ``open_store(store)``: a ``FolderStore`` for a folder, an
``MlflowServerStore`` for an ``http(s)://`` URI. Which store is used when is decided in ``_storeroot``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .._storeroot import as_store, folder_store, get_store, remote_store, set_store

if TYPE_CHECKING:
    from ..format.save import ModelInfo
    from .folder import StoreEntry

__all__ = ["Store", "FolderStore", "open_store", "start_run", "log_model", "list_models", "resolve_uri", "get_store",
           "set_store", "set_registered_model_alias", "delete_registered_model_alias", "update_model_version",
           "update_registered_model", "set_model_version_tag", "delete_model_version_tag",
           "set_registered_model_tag", "delete_registered_model_tag", "delete_model_version", "get_model_version",
           "get_model_version_by_alias"]


class Store(Protocol):
    """What a store does: log a model, resolve a URI to a local directory, list versions, manage the registry."""

    location: str

    def log_model(self, name: str | None = None, python_model: Any = None, **kwargs: Any) -> ModelInfo: ...

    def resolve(self, uri: str, dst_path: str | None = None) -> Path: ...

    def list_models(self) -> list[StoreEntry]: ...

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None: ...

    def delete_registered_model_alias(self, name: str, alias: str) -> None: ...

    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> Any: ...

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None: ...

    def delete_model_version(self, name: str, version: int | str) -> None: ...


class FolderStore:
    """The local folder store (``store.folder``): versions are numbered folders ``<root>/<name>/<N>``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).expanduser().absolute()
        self.location = str(self.root)

    def __repr__(self) -> str:
        return f"FolderStore({self.location!r})"

    def log_model(self, name: str | None = None, python_model: Any = None, **kwargs: Any) -> ModelInfo:
        from .runs import log_model

        return log_model(name, python_model, store=self.root, **kwargs)

    def resolve(self, uri: str, dst_path: str | None = None) -> Path:
        from .folder import resolve_uri

        return resolve_uri(uri, self.root)

    def list_models(self) -> list[StoreEntry]:
        from .folder import list_models

        return list_models(self.root)

    def _registry(self) -> Any:
        """``store.registry`` (it works on the folder store in use)."""
        from ..errors import RegistryError
        from . import registry

        if self.root != folder_store():
            raise RegistryError(f"Registry changes apply to the store in use ({get_store()}); call "
                                f"set_store({self.location!r}) first.")
        return registry

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        self._registry().set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._registry().delete_registered_model_alias(name, alias)

    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> Any:
        return self._registry().update_model_version(name, version, description)

    def update_registered_model(self, name: str, description: str | None = None) -> Any:
        return self._registry().update_registered_model(name, description)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        self._registry().set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._registry().delete_model_version_tag(name, version, key)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._registry().set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._registry().delete_registered_model_tag(name, key)

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._registry().delete_model_version(name, version)

    def get_model_version(self, name: str, version: int | str) -> Any:
        return self._registry().get_model_version(name, version)

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        return self._registry().get_model_version_by_alias(name, alias)


_servers: dict[str, Any] = {}


def open_store(store: str | os.PathLike | None = None) -> Any:
    """The ``Store`` at ``store`` (a folder, or an ``http(s)://`` tracking server URI); default: the one in use."""
    store = remote_store() or folder_store() if store is None else as_store(store)
    if isinstance(store, str):
        from .mlflow_server import MlflowServerStore

        uri = store
        if uri not in _servers:  # one client per server (MLflow's client keeps an HTTP session)
            _servers[uri] = MlflowServerStore(uri)
        return _servers[uri]
    return FolderStore(store)


def start_run(run_id: str | None = None, run_name: str | None = None, nested: bool = False) -> Any:
    """Start a run (``with start_run():``); models logged inside it record its ``run_id``.

    With a tracking server as the store, the run is the server's (made, or resumed by ``run_id``) and
    ends there with the ``with`` block or ``end_run()``.
    """
    from . import runs

    remote = remote_store()
    if remote is None or (runs.active_run() is not None and not nested):
        return runs.start_run(run_id, run_name, nested)  # the folder store's run, or its "already active" error
    run_id = open_store(remote).start_run(run_id, run_name)
    return runs.start_run(run_id, run_name, nested)


def log_model(name: str | None = None, python_model: Any = None, *, store: str | os.PathLike | None = None,
              **kwargs: Any) -> ModelInfo:
    """Log ``python_model`` as a new version of ``name`` in the store (default: the one in use); returns ``ModelInfo``.

    Takes ``save_model``'s keyword arguments, and ``artifact_path=``, ``registered_model_name=`` as MLflow does.
    In a folder store the version is a new numbered folder; on an MLflow tracking server it is a run, a
    logged model holding the directory as built, and a new version of the registered model ``name``.
    """
    return open_store(store).log_model(name, python_model, **kwargs)


def list_models(store: str | os.PathLike | None = None) -> list[StoreEntry]:
    """Every model version in the store, by name then version; broken ones carry ``error``."""
    return open_store(store).list_models()


def resolve_uri(uri: str, store: str | os.PathLike | None = None) -> Path:
    """The local directory of ``models:/<name>/<version|latest>``, ``models:/<name>@<alias>`` or ``runs:/<run>/<name>``.

    On a tracking server the model is downloaded once into a local cache.
    """
    return open_store(store).resolve(uri)


def set_registered_model_alias(name: str, alias: str, version: int | str) -> None:
    """Point ``alias`` of ``name`` at ``version`` (moved if it pointed elsewhere): ``models:/name@alias``."""
    open_store().set_registered_model_alias(name, alias, version)


def delete_registered_model_alias(name: str, alias: str) -> None:
    """Remove ``alias`` of ``name``."""
    open_store().delete_registered_model_alias(name, alias)


def update_model_version(name: str, version: int | str, description: str | None = None) -> Any:
    """Set the description of a version (``None`` leaves it); returns its store entry."""
    return open_store().update_model_version(name, version, description)


def update_registered_model(name: str, description: str | None = None) -> Any:
    """Set the description of the model ``name``."""
    return open_store().update_registered_model(name, description)


def set_model_version_tag(name: str, version: int | str, key: str, value: Any) -> None:
    """Set tag ``key`` of a version to ``str(value)``."""
    open_store().set_model_version_tag(name, version, key, value)


def delete_model_version_tag(name: str, version: int | str, key: str) -> None:
    """Remove tag ``key`` of a version."""
    open_store().delete_model_version_tag(name, version, key)


def set_registered_model_tag(name: str, key: str, value: Any) -> None:
    """Set tag ``key`` of the model ``name``."""
    open_store().set_registered_model_tag(name, key, value)


def delete_registered_model_tag(name: str, key: str) -> None:
    """Remove tag ``key`` of the model ``name``."""
    open_store().delete_registered_model_tag(name, key)


def delete_model_version(name: str, version: int | str) -> None:
    """Delete a version (its number is never given to another model)."""
    open_store().delete_model_version(name, version)


def get_model_version(name: str, version: int | str) -> Any:
    """The store entry of ``name`` version ``version``, with description, tags and aliases."""
    return open_store().get_model_version(name, version)


def get_model_version_by_alias(name: str, alias: str) -> Any:
    """The store entry ``alias`` of ``name`` points to."""
    return open_store().get_model_version_by_alias(name, alias)
