"""Where the local model store lives: ``set_store``'s folder, ``$PYFUNC_JUPYTER_STORE`` or ``./models``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["STORE_ENV", "set_store", "get_store"]

STORE_ENV = "PYFUNC_JUPYTER_STORE"
_store_override: Path | None = None


def set_store(path: str | os.PathLike | None) -> None:
    """Use ``path`` as the model store; ``None`` goes back to ``$PYFUNC_JUPYTER_STORE`` or ``./models``."""
    global _store_override
    _store_override = Path(path).expanduser().absolute() if path is not None else None


def get_store() -> Path:
    """The store folder in use: ``set_store``'s, else ``$PYFUNC_JUPYTER_STORE``, else ``./models``."""
    if _store_override is not None:
        return _store_override
    configured = os.environ.get(STORE_ENV)
    return Path(configured).expanduser().absolute() if configured else Path.cwd() / "models"
