"""Reading (validated) and writing the ``MLmodel`` file of a model directory."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import MLmodelError, ModelLoadError

__all__ = ["read_mlmodel", "write_mlmodel", "pyfunc_flavor", "safe_model_path", "PYFUNC_LOADER", "CODE_MODEL_LOADER"]

PYFUNC_LOADER = "mlflow.pyfunc.model"
CODE_MODEL_LOADER = "mlflow.pyfunc.loaders.code_model"  # models from code (format.codemodel)
_COMPRESSIONS = ("gzip", "bzip2", "lzma")


def _yaml_loader():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_mlmodel(model_dir: str | os.PathLike) -> dict[str, Any]:
    """Parse and validate ``<model_dir>/MLmodel``; raise ``MLmodelError`` naming file and key."""
    import yaml

    path = Path(model_dir) / "MLmodel"
    if not path.is_file():
        raise ModelLoadError(
            f"{model_dir} is not a model directory: it has no MLmodel file. "
            "Pass the directory that save_model wrote (the one holding MLmodel)."
        )
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise MLmodelError(str(path), None, f"not valid YAML ({exc})") from None
    _validate(str(path), data)
    return data


def _expect(path: str, key: str, value: Any, kinds: tuple[type, ...], what: str) -> None:
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        raise MLmodelError(path, key, f"expected {what}, found {type(value).__name__} {value!r:.80}")


def _validate(path: str, data: Any) -> None:
    """Check the keys our loader reads, with their types."""
    _expect(path, "(top level)", data, (dict,), "a mapping of keys")
    _expect(path, "flavors", data.get("flavors"), (dict,), "a mapping of flavors")
    flavor = data["flavors"].get("python_function")
    if flavor is None:
        raise MLmodelError(path, "flavors.python_function",
                           "the model has no python_function flavor, so it is not a pyfunc model")
    _expect(path, "flavors.python_function", flavor, (dict,), "a mapping")
    loader = flavor.get("loader_module")
    _expect(path, "flavors.python_function.loader_module", loader, (str,), "a module name")
    if flavor.get("model_code_path") is not None:
        _expect(path, "flavors.python_function.model_code_path", flavor["model_code_path"], (str,),
                "the path of the model's code file")
    elif loader in (PYFUNC_LOADER, CODE_MODEL_LOADER):
        _expect(path, "flavors.python_function.python_model", flavor.get("python_model"), (str,),
                "the relative path of the pickled model")
    for key, kinds, what in (
        ("code", (str, type(None)), "a relative path or null"),
        ("artifacts", (dict, type(None)), "a mapping of artifact names"),
        ("config", (dict, type(None)), "a mapping"),
        ("streamable", (bool, type(None)), "true or false"),
        ("env", (dict, str, type(None)), "a mapping or a path"),
        ("python_model_compression", (str, type(None)), f"one of {_COMPRESSIONS}"),
        ("data", (str, type(None)), "a relative path or null"),
    ):
        _expect(path, f"flavors.python_function.{key}", flavor.get(key), kinds, what)
    compression = flavor.get("python_model_compression")
    if compression is not None and compression not in _COMPRESSIONS:
        raise MLmodelError(path, "flavors.python_function.python_model_compression",
                           f"unknown compression {compression!r}; expected one of {_COMPRESSIONS}")
    for name, entry in (flavor.get("artifacts") or {}).items():
        key = f"flavors.python_function.artifacts.{name}"
        _expect(path, key, entry, (dict,), "a mapping with a 'path'")
        _expect(path, f"{key}.path", entry.get("path"), (str,), "a relative path")
    signature = data.get("signature")
    _expect(path, "signature", signature, (dict, type(None)), "a mapping of JSON strings")
    for part in ("inputs", "outputs", "params"):
        if signature:
            _expect(path, f"signature.{part}", signature.get(part), (str, type(None)), "a JSON string or null")
    info = data.get("saved_input_example_info")
    _expect(path, "saved_input_example_info", info, (dict, type(None)), "a mapping")
    if info:
        _expect(path, "saved_input_example_info.artifact_path", info.get("artifact_path"), (str,),
                "a relative path")
    _expect(path, "metadata", data.get("metadata"), (dict, type(None)), "a mapping")


def pyfunc_flavor(mlmodel: dict[str, Any]) -> dict[str, Any]:
    """The validated ``python_function`` flavor of a parsed MLmodel."""
    return mlmodel["flavors"]["python_function"]


def safe_model_path(model_dir: str | os.PathLike, relative: str, *, mlmodel_path: str, key: str) -> Path:
    """Join ``relative`` to ``model_dir``, refusing absolute paths, ``..`` and symlinks out of it."""
    if not relative or "\\" in relative or os.path.isabs(relative) or PurePosixPath(relative).is_absolute():
        raise MLmodelError(mlmodel_path, key, f"path {relative!r} must be a relative POSIX path inside the model directory")
    if ".." in PurePosixPath(relative).parts:
        raise MLmodelError(mlmodel_path, key, f"path {relative!r} escapes the model directory")
    root = Path(model_dir).resolve()
    joined = (root / relative).resolve()
    if joined != root and root not in joined.parents:
        raise MLmodelError(mlmodel_path, key, f"path {relative!r} leads outside the model directory (through a symlink)")
    return Path(model_dir) / relative


def write_mlmodel(model_dir: str | os.PathLike, data: dict[str, Any]) -> None:
    """Write ``MLmodel`` as MLflow does: YAML block style, keys sorted at every level."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(data, Dumper=dumper, default_flow_style=False, sort_keys=True, allow_unicode=True)
    (Path(model_dir) / "MLmodel").write_text(text, encoding="utf-8")
