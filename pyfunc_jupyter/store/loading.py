"""``load_model(uri)``: resolve a path or a ``models:/``/``runs:/`` URI, then load the model directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..format.load import load_model_dir, local_model_dir

if TYPE_CHECKING:
    from ..format.load import LoadedModel

__all__ = ["load_model", "resolve_model_dir"]


def resolve_model_dir(model_uri: str | os.PathLike) -> Path:
    """Turn a path, ``file://`` URI, ``models:/`` or ``runs:/`` URI into a local model directory."""
    uri = os.fspath(model_uri)
    if isinstance(uri, str) and "\x00" not in uri and uri.startswith(("models:/", "runs:/")):
        from .folder import resolve_uri

        return resolve_uri(uri)
    return local_model_dir(uri)


def load_model(model_uri: str | os.PathLike, suppress_warnings: bool = False, dst_path: str | None = None,
               model_config: dict | None = None) -> LoadedModel:
    """Load a pyfunc model (ours or MLflow's) from a path or a ``models:/``/``runs:/`` URI.

    Loading runs the model's pickled code: load only models you trust. ``dst_path`` is accepted as
    MLflow's is; a local store needs no download, so it is not used.
    """
    return load_model_dir(resolve_model_dir(model_uri), suppress_warnings=suppress_warnings,
                          model_config=model_config)
