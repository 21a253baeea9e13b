"""Which store is in use: ``set_store``'s, ``$PYFUNC_JUPYTER_STORE``, an http(s) tracking URI, or ``./models``.

A store is a local folder or, given an ``http://`` or ``https://`` URI, an MLflow tracking server.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "STORE_ENV",
    "TRACKING_ENV",
    "set_store",
    "get_store",
    "remote_store",
    "folder_store",
    "is_remote_uri",
    "as_store",
]

STORE_ENV = "PYFUNC_JUPYTER_STORE"
TRACKING_ENV = "MLFLOW_TRACKING_URI"
_store_override: Path | str | None = None


def is_remote_uri(value: object) -> bool:
    """Whether ``value`` names an MLflow tracking server (an ``http://`` or ``https://`` URI)."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def _normalise_uri(uri: str | os.PathLike | None) -> str:
    return os.fspath(uri or "").strip().rstrip("/")


def as_store(location: str | os.PathLike) -> Path | str:
    """A store location as a folder ``Path`` or a server URI; another URI scheme is an error naming the choices."""
    if is_remote_uri(location):
        return _normalise_uri(location)
    text = os.fspath(location)
    if isinstance(text, str) and text.startswith("file://"):
        text = text[len("file://") :]
    elif isinstance(text, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        from .errors import PyfuncError

        raise PyfuncError(
            f"{text!r} is not a store this package can use: give a folder path, or an MLflow tracking "
            "server's http:// or https:// URI (e.g. http://127.0.0.1:5000)."
        )
    return Path(text).expanduser().absolute()


def set_store(path: str | os.PathLike | None) -> None:
    """Use ``path`` as the model store: a folder, or an MLflow tracking server's ``http(s)://host:port``.

    ``None`` goes back to the default: ``$PYFUNC_JUPYTER_STORE``, else an http(s) ``$MLFLOW_TRACKING_URI``,
    else ``./models``.
    """
    global _store_override
    _store_override = None if path is None else as_store(path)


def remote_store() -> str | None:
    """The tracking server's URI when the store in use is one, else None."""
    if _store_override is not None:
        return _store_override if isinstance(_store_override, str) else None
    configured = os.environ.get(STORE_ENV)
    if configured:
        return _normalise_uri(configured) if is_remote_uri(configured) else None
    tracking = os.environ.get(TRACKING_ENV)
    return _normalise_uri(tracking) if is_remote_uri(tracking) else None


def folder_store() -> Path:
    """The store folder that is (or, with a remote store in use, would otherwise be) used."""
    if isinstance(_store_override, Path):
        return _store_override
    configured = os.environ.get(STORE_ENV)
    if configured and not is_remote_uri(configured):
        return Path(configured).expanduser().absolute()
    return Path.cwd() / "models"


def get_store() -> Path | str:
    """The store in use: a tracking server's URI (a string), else the store folder (a ``Path``)."""
    return remote_store() or folder_store()
