"""``load_model(uri)``: resolve a path or a ``models:/``/``runs:/`` URI (in the store in use), then load the directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..format.load import load_model_dir, local_model_dir

if TYPE_CHECKING:
    from ..format.load import LoadedModel

__all__ = ["load_model", "resolve_model_dir", "saved_example"]


def resolve_model_dir(model_uri: str | os.PathLike, dst_path: str | None = None) -> Path:
    """Turn a path, ``file://`` URI, ``models:/`` or ``runs:/`` URI into a local model directory.

    URIs resolve in the store in use; a tracking server's model is downloaded (into ``dst_path`` if given).
    """
    uri = os.fspath(model_uri)
    if isinstance(uri, str) and "\x00" not in uri and uri.startswith(("models:/", "runs:/")):
        from .active import open_store

        return open_store().resolve(uri, dst_path)
    return local_model_dir(uri)


def load_model(model_uri: str | os.PathLike, suppress_warnings: bool = False, dst_path: str | None = None,
               model_config: dict | None = None) -> LoadedModel:
    """Load a pyfunc model (ours or MLflow's) from a path or a ``models:/``/``runs:/`` URI.

    Loading runs the model's pickled code: load only models you trust. ``dst_path`` is accepted as
    MLflow's is: where a model from a tracking server is downloaded (a folder store needs no download).
    """
    return load_model_dir(resolve_model_dir(model_uri, dst_path), suppress_warnings=suppress_warnings,
                          model_config=model_config)


def saved_example(model_uri: str | os.PathLike) -> tuple[Any, Any]:
    """A model's saved input example (its data, params split off) and its params schema, without unpickling it.

    ``(None, None)`` parts for a model saved without an example or without params.
    """
    from ..format.example import split_example
    from ..format.load import read_input_example
    from ..format.mlmodel import read_mlmodel
    from ..format.schema import ModelSignature

    path = resolve_model_dir(model_uri)
    mlmodel = read_mlmodel(path)
    signature = ModelSignature.from_dict(mlmodel["signature"]) if mlmodel.get("signature") else None
    info = mlmodel.get("saved_input_example_info")
    example = read_input_example(path, info, signature.inputs if signature else None) if info else None
    return (split_example(example)[0] if example is not None else None), (signature.params if signature else None)
