"""The model card's content, read from a model directory: stable facts in ``data``, volatile ones apart.

The shape is defined once, in ``card.schema.json``; tests validate what this module builds against
it, and golden fixtures (``tests/fixtures/cards``) hold it equal to the side panel's TypeScript builder.

``data`` holds what a notebook's saved output may compare (names, types, provenance, checks,
preview); ``volatile`` holds what changes from run to run or machine to machine (paths, times,
ids, versions, byte sizes), which the card's MIME bundle carries in its display metadata.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

__all__ = [
    "CARD_SCHEMA",
    "SERVE_PORT",
    "model_label",
    "requirement_name",
    "serve_data",
    "serve_lines",
    "signature_tables",
    "model_card_data",
    "unsaved_card_data",
]

# The card's one definition is card.schema.json (its TypeScript types are generated from it); the
# version a card carries is the one the schema fixes.
CARD_SCHEMA: int = json.loads((Path(__file__).with_name("card.schema.json")).read_text(encoding="utf-8"))["properties"][
    "schema"
]["const"]
SERVE_PORT = 5000  # MLflow's default scoring server port
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(line: str) -> str | None:
    """The distribution name a requirement line starts with (``pandas`` of ``pandas>=2 ; python_version>'3'``)."""
    match = _NAME.match(line)
    return match.group(1) if match and not line.lstrip().startswith("#") else None


def signature_tables(signature: Any) -> dict[str, Any] | None:
    """Inputs, outputs and params of a ``ModelSignature`` as rows of plain values."""
    if signature is None:
        return None
    from ..format.schema import ColSpec, type_repr

    def rows(schema: Any) -> list[dict[str, Any]] | None:
        if schema is None:
            return None
        out = []
        for spec in schema.inputs:
            if isinstance(spec, ColSpec):
                out.append({"name": spec.name, "type": type_repr(spec.type), "required": spec.required})
            else:
                out.append({"name": spec.name, "type": f"tensor {spec.type.name} {list(spec.shape)}", "required": True})
        return out

    params = None
    if signature.params is not None:
        from ..format.example import to_json_value

        params = [
            {
                "name": p.name,
                "type": type_repr(p.dtype) + (f" {list(p.shape)}" if p.shape else ""),
                "default": to_json_value(p.default),
            }
            for p in signature.params
        ]
    return {"inputs": rows(signature.inputs), "outputs": rows(signature.outputs), "params": params}


def _requirements(model_dir: Path, side: dict | None, given: dict[str, str]) -> tuple[list[dict], dict[str, str]]:
    """The ``requirements.txt`` lines with where each came from; pins go to the volatile part."""
    from ..environment.distributions import canonical_name

    saved = (side or {}).get("requirements")
    inferred = {
        canonical_name(r["name"]): r
        for r in (saved if isinstance(saved, list) else [])
        if isinstance(r, dict) and isinstance(r.get("name"), str)
    }
    rows, pins = [], {}
    lines: list[str] = []
    if (model_dir / "requirements.txt").is_file():
        from ..format.mlmodel import read_model_file

        raw = read_model_file(
            model_dir, "requirements.txt", mlmodel_path=str(model_dir / "MLmodel"), key="requirements.txt"
        )  # one linking outside the model is refused
        lines = raw.decode("utf-8", errors="replace").splitlines()
    for line in lines:
        line = line.strip()
        name = requirement_name(line)
        if name is None:
            continue
        key = canonical_name(name)
        if key in inferred:
            reasons = inferred[key].get("reasons")
            reasons = [r for r in reasons if isinstance(r, str)] if isinstance(reasons, list) else []
            source = "inferred: " + "; ".join(reasons) if reasons else "inferred"
        elif key in given:
            source = given[key]
        elif side is not None and key in ("mlflow", "mlflow-skinny"):
            source = "added: MLflow is installed where the model was saved"
        else:
            source = "given" if side is not None else "requirements.txt"
        rows.append({"name": name, "source": source})
        pins[name] = line
    return rows, pins


def _files(model_dir: Path) -> tuple[list[dict], dict[str, int]]:
    files, sizes = [], {}
    for root, dirs, names in os.walk(model_dir):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            relative = path.relative_to(model_dir).as_posix()
            files.append({"path": relative})
            try:
                sizes[relative] = path.lstat().st_size  # a link's own size: nothing outside is looked at
            except OSError:
                sizes[relative] = 0
    return files, sizes


_CODE_SHOWN = 20_000  # characters of a model's code file the card shows


def _code(model_dir: Path, flavor: dict) -> dict | None:
    """A model from code's file: ``{"path", "text"}`` (the text cut at ``_CODE_SHOWN`` characters), or None."""
    from ..format.codemodel import code_file_name

    recorded = flavor.get("model_code_path")
    if not isinstance(recorded, str):
        return None
    name = code_file_name(recorded)
    try:
        text = (model_dir / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {"path": name, "text": None}
    cut = len(text) > _CODE_SHOWN
    return {"path": name, "text": text[:_CODE_SHOWN] + ("\n# ... (cut; the file is longer)\n" if cut else "")}


_TABLE_STATUSES = ("reference", "match", "mismatch", "error", "missing")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rows_of(value: Any, fields: dict[str, Any]) -> bool:
    """Whether ``value`` is a list of mappings whose ``fields`` pass their checks."""
    return isinstance(value, list) and all(
        isinstance(row, dict) and all(ok(row.get(k)) for k, ok in fields.items()) for row in value
    )


def _is_table(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _rows_of([value], {"total_rows": _is_int})
        and isinstance(value.get("columns"), list)
        and all(isinstance(c, str) for c in value["columns"])
        and isinstance(value.get("rows"), list)
        and all(isinstance(r, list) for r in value["rows"])
    )


def _is_preview(value: Any) -> bool:
    def optional(check):
        return lambda v: v is None or check(v)

    def is_diff(v: Any) -> bool:
        return isinstance(v, list) and all(isinstance(d, list) and all(_is_int(i) for i in d) for d in v)

    return (
        isinstance(value, dict)
        and _is_table(value.get("input"))
        and _rows_of(
            value.get("outputs"),
            {
                "label": lambda v: isinstance(v, str),
                "status": lambda v: v in _TABLE_STATUSES,
                "table": optional(_is_table),
                "diff": optional(is_diff),
                "error": optional(lambda v: isinstance(v, str)),
            },
        )
    )


def _kept(side: dict | None) -> dict[str, Any]:
    """What the save kept in the sidecar for later cards; each part that is malformed is left out.

    ``cardbuilder.ts`` applies the same rules (the card fixtures' differential test holds them equal).
    """
    kept = (side or {}).get("card") or {}
    text = lambda v: isinstance(v, str)  # noqa: E731
    checks, state = kept.get("checks"), kept.get("state")
    return {
        "model": kept.get("model") if text(kept.get("model")) else None,
        "checks": checks
        if _rows_of(
            checks, {"check": text, "severity": lambda v: v in ("error", "warning"), "message": text, "fix": text}
        )
        else None,
        "state": state
        if _rows_of(state, {"attribute": text, "type": text, "bytes": lambda v: v is None or _is_int(v)})
        else None,
        "preview": kept.get("preview") if _is_preview(kept.get("preview")) else None,
    }


def serve_data(files: list[dict]) -> dict[str, Any]:
    """How to serve the model with MLflow's scoring server (stable: the model's location is volatile)."""
    from ..format.example import SERVING_FILE

    has_example = any(f["path"] == SERVING_FILE for f in files)
    return {
        "env_manager": "local",
        "host": "127.0.0.1",
        "port": SERVE_PORT,
        "input": SERVING_FILE if has_example else None,
    }


def _quote(text: str) -> str:
    """``shlex.quote`` (written out, as ``card.ts`` writes it too)."""
    if text and re.fullmatch(r"[\w@%+=:,./-]+", text, re.ASCII):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def serve_lines(
    serve: dict | None, location: str | None, uri: str | None = None, tracking_uri: str | None = None
) -> dict[str, str] | None:
    """The ``mlflow models serve`` command and the ``curl`` line that scores the saved serving example.

    ``location`` is the model directory (the card's volatile path); None when either is unknown. A
    version registered in a tracking server (``tracking_uri``, with its ``models:/`` ``uri``) is served
    from the registry, not from this machine's download cache; the example is read from the cache.
    """
    if not serve or not location:
        return None
    address = f"{serve['host']}:{serve['port']}"
    prefix, source = "", location
    if tracking_uri and uri and uri.startswith("models:/"):  # a registered version: from the registry
        prefix, source = f"MLFLOW_TRACKING_URI={_quote(tracking_uri)} ", uri
    lines = {
        "serve": f"{prefix}mlflow models serve -m {_quote(source)} --env-manager {serve['env_manager']} "
        f"--host {serve['host']} --port {serve['port']}"
    }
    if serve.get("input"):
        example = location.rstrip("/") + "/" + serve["input"]
        lines["curl"] = (
            f"curl -s -X POST http://{address}/invocations -H 'Content-Type: application/json' "
            f"--data {_quote('@' + example)}"
        )
    return lines


def model_label(model: Any) -> str | None:
    """``Foo (class)`` or ``f (function)``."""
    if model is None:
        return None
    import inspect

    if inspect.isroutine(model):
        return f"{getattr(model, '__name__', 'function')} (function)"
    return f"{type(model).__name__} (class)"


def _summary(checks: list[dict]) -> dict[str, int]:
    return {
        "errors": sum(c["severity"] == "error" for c in checks),
        "warnings": sum(c["severity"] == "warning" for c in checks),
    }


def model_card_data(
    model_dir: str | os.PathLike,
    *,
    status: str = "saved",
    name: str | None = None,
    version: int | None = None,
    uri: str | None = None,
    model: Any = None,
    checks: list[dict] | None = None,
    preview: dict | None = None,
    state: list[dict] | None = None,
    given_requirements: dict[str, str] | None = None,
    timings: dict[str, float] | None = None,
    tracking_uri: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(data, volatile)`` of the card of the model saved in ``model_dir`` (a download of a version
    registered in the tracking server ``tracking_uri``, when given)."""
    from ..errors import MLmodelError, ModelLoadError
    from ..format.mlmodel import pyfunc_flavor, read_mlmodel, read_signature, safe_model_path
    from ..format.sidecar import SIDECAR, read_sidecar

    model_dir = Path(model_dir)
    mlmodel = read_mlmodel(model_dir)
    mlmodel_path = str(model_dir / "MLmodel")
    flavor = pyfunc_flavor(mlmodel)
    safe_model_path(model_dir, SIDECAR, mlmodel_path=mlmodel_path, key=SIDECAR)  # a link out of it is refused
    try:
        side = read_sidecar(model_dir)
    except MLmodelError:
        raise
    except ModelLoadError:
        side = None  # a malformed summary file: the card shows what the MLmodel and the files say
    signature = read_signature(mlmodel, mlmodel_path)
    requirements, pins = _requirements(model_dir, side, given_requirements or {})
    files, sizes = _files(model_dir)
    kept = _kept(side)  # what the save knew, for cards made later from the files
    checks = list(checks if checks is not None else kept.get("checks") or [])
    preview = preview if preview is not None else kept.get("preview")
    state = state if state is not None else kept.get("state")
    label = model_label(model) if model is not None else kept.get("model")
    data = {
        "schema": CARD_SCHEMA,
        "status": status,
        "name": name or (side or {}).get("name") or model_dir.name,  # read_sidecar checked it is text
        "version": version,
        "uri": uri,
        "model": label,
        "signature": signature_tables(signature),
        "requirements": requirements,
        "artifacts": [
            {"key": key, "path": spec.get("path")} for key, spec in sorted((flavor.get("artifacts") or {}).items())
        ],
        "files": files,
        "state": [{"attribute": r["attribute"], "type": r["type"]} for r in state or []],
        "checks": checks,
        "summary": _summary(checks),
        "preview": preview,
        "serve": serve_data(files),
    }
    code = _code(model_dir, flavor)
    if code is not None:  # only for models from code, so that other cards stay as they were
        data["code"] = code
    volatile = {
        "path": str(model_dir.absolute()),
        "created": _text(mlmodel.get("utc_time_created")),
        "model_uuid": _text(mlmodel.get("model_uuid")),
        "run_id": _text(mlmodel.get("run_id")),
        "python_version": _text(flavor.get("python_version")),
        "cloudpickle_version": _text(flavor.get("cloudpickle_version")),
        "pins": pins,
        "sizes": sizes,
        "state_sizes": {r["attribute"]: r["bytes"] for r in state or [] if r.get("bytes") is not None},
        "total_bytes": sum(sizes.values()),
        # the size the store's lists show: MLmodel's model_size_bytes (the files written before MLmodel)
        "model_size_bytes": _size_or_none(mlmodel.get("model_size_bytes")),
        "timings": dict(timings or {}),
    }
    if tracking_uri:  # only for a tracking server's versions, so that other cards stay as they were
        volatile["tracking_uri"] = tracking_uri
    return data, volatile


def _text(value: Any) -> str | None:
    """A fact of the MLmodel as text (YAML may have read a date or a number), for JSON display metadata."""
    from ..store.folder import text_or_none

    return text_or_none(value)


def unsaved_card_data(
    name: str | None,
    model: Any,
    checks: list[dict],
    *,
    signature: Any = None,
    state: list[dict] | None = None,
    preview: dict | None = None,
) -> tuple[dict, dict]:
    """``(data, volatile)`` of the card of a model that was not saved (the checks found errors)."""
    data = {
        "schema": CARD_SCHEMA,
        "status": "not saved",
        "name": name,
        "version": None,
        "uri": None,
        "model": model_label(model),
        "signature": signature_tables(signature),
        "requirements": [],
        "artifacts": [],
        "files": [],
        "state": [{"attribute": r["attribute"], "type": r["type"]} for r in state or []],
        "checks": list(checks),
        "summary": _summary(checks),
        "preview": preview,
        "serve": None,
    }
    volatile = {"state_sizes": {r["attribute"]: r["bytes"] for r in state or [] if r.get("bytes") is not None}}
    return data, volatile


def _size_or_none(value: Any) -> int | None:
    """An MLmodel's ``model_size_bytes`` when it is an integer (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
