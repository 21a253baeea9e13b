"""The sidecar ``pyfunc_jupyter.json``: the one place that writes, updates and reads it, checking its format.

A model directory we save holds, beside ``MLmodel``, a JSON summary that MLflow ignores: when it
was created, its signature in one line, its size, requirement provenance, where it came from and
(for models saved by the magic or the panel) what the card showed at save time. The store lists
versions from it without parsing YAML or unpickling. Models written by MLflow have none.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError

__all__ = ["SIDECAR", "FORMAT", "write_sidecar", "update_sidecar", "read_sidecar", "parse_sidecar"]

SIDECAR = "pyfunc_jupyter.json"
FORMAT = 1  # the format written; a reader accepts this one only (a newer writer may mean other things)

# Keys that readers use, with the JSON type each must have when present (null is allowed).
_TYPES: dict[str, tuple[type, ...]] = {
    "created": (str,), "run_id": (str,), "artifact_name": (str,), "source": (str,), "name": (str,),
    "signature_summary": (str,), "size_bytes": (int,), "requirements": (list,), "card": (dict,),
    "content_hash": (str,),
}


def write_sidecar(model_dir: str | os.PathLike, fields: dict[str, Any]) -> None:
    """Write the sidecar of a model directory being built: ``fields`` under the current format."""
    side = {"format": FORMAT, **{k: v for k, v in fields.items() if k != "format"}}
    (Path(model_dir) / SIDECAR).write_text(json.dumps(side, indent=2, default=str), encoding="utf-8")


def update_sidecar(model_dir: str | os.PathLike, **fields: Any) -> None:
    """Add or replace top-level keys of an existing sidecar (read and checked first)."""
    side = read_sidecar(model_dir)
    if side is None:
        raise ModelLoadError(f"{model_dir} has no {SIDECAR} to update; it is written by save_model.")
    side.update(fields)
    write_sidecar(model_dir, side)


def read_sidecar(model_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The sidecar of a model directory, checked; ``None`` when it has none (MLflow wrote it).

    Raises ``ModelLoadError`` (message starting ``unreadable pyfunc_jupyter.json:``) when the file
    is not a JSON object of our format with its keys of the right types, and ``MLmodelError`` when
    it is a link that leads outside the model directory.
    """
    from .mlmodel import read_model_file

    raw = read_model_file(model_dir, SIDECAR, mlmodel_path=os.path.join(model_dir, "MLmodel"), key=SIDECAR,
                          missing_ok=True)  # a sidecar that links outside the model directory is refused
    return parse_sidecar(raw) if raw is not None else None


def parse_sidecar(raw: bytes | str) -> dict[str, Any]:
    """The text of a sidecar as a checked mapping; else ``ModelLoadError`` saying what is wrong."""
    try:
        side = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ModelLoadError(f"unreadable {SIDECAR}: not valid JSON") from None
    if not isinstance(side, dict):
        raise ModelLoadError(f"unreadable {SIDECAR}: expected a JSON object, found {_json_type(side)}")
    fmt = side.get("format")
    if fmt != FORMAT or isinstance(fmt, bool):
        raise ModelLoadError(f"unreadable {SIDECAR}: format {json.dumps(fmt)} is not the format {FORMAT} this "
                             "pyfunc-jupyter reads; install the pyfunc-jupyter version that saved the model")
    for key, kinds in _TYPES.items():
        value = side.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise ModelLoadError(f"unreadable {SIDECAR}: {key!r} should be {_json_type(kinds[0]())}, "
                                 f"found {_json_type(value)}")
    return side


def _json_type(value: Any) -> str:
    """A value's JSON type name (``object``, ``array``, ``string``, ``integer``, ``number``, ``boolean``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__
