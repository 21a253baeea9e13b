"""The embedded loader: ``load_model_dir`` and the ``LoadedModel`` it returns (no MLflow needed)."""

from __future__ import annotations

import inspect
import os
import platform
import re
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError
from .mlmodel import CODE_MODEL_LOADER, PYFUNC_LOADER, pyfunc_flavor, read_mlmodel, safe_model_path

__all__ = [
    "load_model_dir",
    "LoadedModel",
    "ModelMetadata",
    "load_python_model",
    "local_model_dir",
    "local_path",
    "read_input_example",
]

_UNSET = object()
_DECOMPRESS = {"gzip": "gzip", "bzip2": "bz2", "lzma": "lzma"}


class ModelMetadata:
    """The parsed ``MLmodel`` of a model, with attribute access like MLflow's ``Model``."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self._data = data
        self.path = path
        self._signature: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._data.get(name)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def to_dict(self) -> dict[str, Any]:
        """The MLmodel content as a plain dict."""
        return dict(self._data)

    @property
    def signature(self):
        """The model's ``ModelSignature``, or None if it was saved without one."""
        if self._signature is None and self._data.get("signature"):
            from .schema import ModelSignature

            self._signature = ModelSignature.from_dict(self._data["signature"])
        return self._signature

    def get_input_schema(self):
        """The input ``Schema`` or None."""
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self):
        """The output ``Schema`` or None."""
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self):
        """The ``ParamSchema`` or None."""
        return self.signature.params if self.signature is not None else None

    def __repr__(self) -> str:
        return f"ModelMetadata(path={str(self.path)!r}, flavors={list(self._data.get('flavors', {}))})"


def local_path(uri: str | os.PathLike) -> Path | None:
    """The local path a plain path or ``file://`` URI names; None for any other URI scheme."""
    text = os.fspath(uri)
    if text.startswith("file://"):
        text = text[len("file://") :]
    elif "://" in text:
        return None
    return Path(text).expanduser()


def local_model_dir(model_uri: str | os.PathLike) -> Path:
    """The model directory a path or ``file://`` URI names (``models:/`` and ``runs:/`` are the store's)."""
    uri = os.fspath(model_uri)
    if not isinstance(uri, str) or "\x00" in uri:
        raise ModelLoadError(f"Cannot load {uri!r}: a model path or URI is text without NUL characters.")
    local = local_path(uri)
    if local is None:
        raise ModelLoadError(
            f"Cannot load {uri!r}: only local paths, file://, models:/ and runs:/ URIs "
            "are supported. Download the model directory first and pass its path."
        )
    path = local
    if not path.exists():
        raise ModelLoadError(f"No model at {path}: the path does not exist.")
    return path


def _read_pickle(model_dir: Path, flavor: dict[str, Any], mlmodel_path: str) -> bytes:
    path = safe_model_path(
        model_dir, flavor["python_model"], mlmodel_path=mlmodel_path, key="flavors.python_function.python_model"
    )
    if not path.is_file():
        raise ModelLoadError(f"The model's pickle {path} is missing; the model directory is incomplete.")
    data = path.read_bytes()
    compression = flavor.get("python_model_compression")
    if compression:
        try:
            data = __import__(_DECOMPRESS[compression]).decompress(data)
        except Exception as exc:
            raise ModelLoadError(
                f"The model's pickle {path} is not {compression}-compressed as its MLmodel says ({exc})."
            ) from exc
    return data


def _model_config(saved: dict | None, overrides: dict | None) -> dict:
    """The saved ``config``; overrides may only replace keys it already has, as in MLflow."""
    config = dict(saved or {})
    unknown = [key for key in (overrides or {}) if key not in config]
    if unknown:
        warnings.warn(
            f"model_config keys {unknown} are not in the saved config and are ignored; "
            f"the model accepts {sorted(config)}.",
            UserWarning,
            stacklevel=3,
        )
    config.update({k: v for k, v in (overrides or {}).items() if k in config})
    return config


_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;,]+)\s*$")


def _requirement_warnings(path: Path) -> None:
    """Warn when installed packages differ from the model's pinned requirements (as MLflow does)."""
    from ..environment.envfiles import installed_version
    from ..errors import PyfuncError
    from .mlmodel import read_model_file

    if not (path / "requirements.txt").is_file():
        return
    try:  # a requirements.txt linking outside the model is not read
        raw = read_model_file(path, "requirements.txt", mlmodel_path=str(path / "MLmodel"), key="requirements.txt")
    except PyfuncError:
        return
    lines = raw.decode("utf-8", errors="replace").splitlines()
    problems = []
    for match in filter(None, map(_PIN.match, lines)):
        name, pinned = match.groups()
        if name.lower().startswith("mlflow"):
            continue  # loading without MLflow is the point
        installed = installed_version(name)
        if installed != pinned:
            problems.append(f"{name} (required: {pinned}, installed: {installed or 'none'})")
    if problems:
        warnings.warn(
            f"The model at {path} was saved with other package versions than installed here: "
            f"{', '.join(problems)}. If it misbehaves, run: pip install -r {path / 'requirements.txt'}",
            UserWarning,
            stacklevel=3,
        )


def _version_warnings(flavor: dict[str, Any], path: Path) -> None:
    saved = str(flavor.get("python_version") or "")
    running = platform.python_version()
    if saved and saved.split(".")[:2] != running.split(".")[:2]:
        warnings.warn(
            f"The model at {path} was saved with Python {saved}; this is {running}. "
            "Loading may fail or behave differently.",
            UserWarning,
            stacklevel=3,
        )
    saved_cp = flavor.get("cloudpickle_version")
    if saved_cp and flavor.get("model_code_path") is None:  # a model from code is not pickled
        from importlib.metadata import version

        if str(saved_cp) != version("cloudpickle"):
            warnings.warn(
                f"The model at {path} was pickled with cloudpickle {saved_cp}; installed is "
                f"{version('cloudpickle')}. Install cloudpickle=={saved_cp} if loading fails.",
                UserWarning,
                stacklevel=3,
            )


def _code_file(model_dir: Path, flavor: dict[str, Any], mlmodel_path: str) -> Path | None:
    """The model's code file (models from code: ``model_code_path``, read by its file name as MLflow does)."""
    from .codemodel import code_file_name

    recorded = flavor.get("model_code_path")
    if recorded is None:
        return None
    path = safe_model_path(
        model_dir, code_file_name(recorded), mlmodel_path=mlmodel_path, key="flavors.python_function.model_code_path"
    )
    if not path.is_file():
        raise ModelLoadError(f"The model's code file {path} is missing; the model directory is incomplete.")
    return path


def _run_code_file(path: Path, config: dict) -> Any:
    """Run a models-from-code file; a function it sets becomes a function model, as in MLflow."""
    from .._base import _FunctionPythonModel
    from .codemodel import load_code_model

    model = load_code_model(path, config)
    return _FunctionPythonModel(model) if callable(model) else model


def load_python_model(
    model_dir: Path,
    flavor: dict[str, Any],
    mlmodel_path: str,
    model_config: dict | None = None,
    recorder=None,
    pickle_bytes: bytes | None = None,
):
    """Unpickle and ``load_context`` a pyfunc model directory; returns (model, context, code).

    ``recorder`` (an ``ImportRecorder``) is told each phase and every module the pickle names.
    """
    from .._base import PythonModelContext
    from .codepaths import CodeModules
    from .pickling import load_model_pickle

    code = None
    if flavor.get("code"):
        code_dir = safe_model_path(
            model_dir, flavor["code"], mlmodel_path=mlmodel_path, key="flavors.python_function.code"
        )
        code = CodeModules(code_dir.resolve()) if code_dir.is_dir() else None
    artifacts = {}
    for name, entry in (flavor.get("artifacts") or {}).items():
        key = f"flavors.python_function.artifacts.{name}.path"
        artifacts[name] = os.path.abspath(safe_model_path(model_dir, entry["path"], mlmodel_path=mlmodel_path, key=key))
    config = _model_config(flavor.get("config"), model_config)
    code_file = _code_file(model_dir, flavor, mlmodel_path)
    data = None
    if code_file is None:
        data = pickle_bytes if pickle_bytes is not None else _read_pickle(model_dir, flavor, mlmodel_path)
    context = PythonModelContext(artifacts, config)
    on_reference = None
    if recorder is not None:
        recorder.phase = "code" if code_file is not None else "unpickle"

        def on_reference(module: str) -> None:
            recorder.record(module, "referenced by the pickle", direct=True)

    with code.active() if code else nullcontext():
        if code_file is not None:
            python_model = _run_code_file(code_file, config)
        else:
            try:
                assert data is not None  # read above for every pickled model
                python_model = load_model_pickle(data, on_reference)
            except Exception as exc:
                raise ModelLoadError(
                    f"Could not unpickle the model in {model_dir} ({type(exc).__name__}: {exc}). "
                    "A module it refers to may be missing here: install it, or ship it with "
                    "code_paths when saving."
                ) from exc
        load_context = getattr(python_model, "load_context", None)
        if load_context is not None:
            if recorder is not None:
                recorder.phase = "load_context"
            try:
                load_context(context=context)
            except Exception as exc:
                raise ModelLoadError(
                    f"{type(python_model).__name__}.load_context failed ({type(exc).__name__}: {exc})."
                ) from exc
    return python_model, context, code


def load_model_dir(
    model_dir: str | os.PathLike, suppress_warnings: bool = False, model_config: dict | None = None
) -> LoadedModel:
    """Load the pyfunc model (ours or MLflow's) in the local directory ``model_dir`` (or a ``file://`` URI).

    Loading runs the model's pickled code: load only models you trust. ``load_model`` (the public
    one, in the store layer) also takes ``models:/`` and ``runs:/`` URIs.
    """
    model_dir = local_model_dir(model_dir)
    mlmodel = read_mlmodel(model_dir)
    mlmodel_path = str(model_dir / "MLmodel")
    flavor = pyfunc_flavor(mlmodel)
    if flavor["loader_module"] not in (PYFUNC_LOADER, CODE_MODEL_LOADER):
        raise ModelLoadError(
            f"The model at {model_dir} uses loader_module {flavor['loader_module']!r}; pyfunc-jupyter loads "
            f"custom Python models ({PYFUNC_LOADER}, {CODE_MODEL_LOADER}) only. Load it with "
            "mlflow.pyfunc.load_model."
        )
    if not suppress_warnings:
        _version_warnings(flavor, model_dir)
        _requirement_warnings(model_dir)
    metadata = ModelMetadata(mlmodel, model_dir)
    _check_signature(metadata, mlmodel_path)
    python_model, context, code = load_python_model(model_dir, flavor, mlmodel_path, model_config)
    return LoadedModel(python_model, context, metadata, code)


def _check_signature(metadata: ModelMetadata, mlmodel_path: str) -> None:
    """Parse the signature now, so a malformed one is an MLmodel error at load, not at predict."""
    from .mlmodel import read_signature

    metadata._signature = read_signature(metadata._data, mlmodel_path)  # the card and listing say the same


def read_input_example(model_dir: Path, info: dict, schema: Any = None) -> Any:
    """The input example a model directory saved (``info`` is MLmodel's ``saved_input_example_info``)."""
    from .example import load_input_example

    safe_model_path(
        model_dir,
        info["artifact_path"],
        mlmodel_path=str(model_dir / "MLmodel"),
        key="saved_input_example_info.artifact_path",
    )
    try:
        return load_input_example(model_dir, info, schema)
    except Exception as exc:
        raise ModelLoadError(
            f"The saved input example of {model_dir} cannot be read ({type(exc).__name__}: {exc})."
        ) from exc


def _accepts(func, name: str) -> tuple[bool, bool]:
    """Whether ``func`` gets ``params`` and whether it gets the context, by MLflow's rules."""
    parameters = inspect.signature(func).parameters
    takes_params = "params" in parameters
    takes_context = "context" in parameters or len([p for p in parameters if p not in ("self", "params")]) == 2
    return takes_params, takes_context


class LoadedModel:
    """A loaded pyfunc model: ``predict`` enforces the signature, then calls the model."""

    def __init__(self, python_model: Any, context: Any, metadata: ModelMetadata, code=None) -> None:
        self._python_model = python_model
        self._context = context
        self._metadata = metadata
        self._code = code
        self._calls: dict[str, tuple[bool, bool]] = {}
        self._input_example: Any = None
        self._input_example_loaded = False
        self._input_hint: Any = _UNSET
        if not callable(getattr(python_model, "predict", None)):
            raise ModelLoadError(f"The model at {metadata.path} has no predict method.")

    @classmethod
    def in_memory(
        cls,
        python_model: Any,
        context: Any,
        signature: Any,
        from_hint: bool,
        path: Path,
        flavor: dict | None = None,
        code=None,
    ) -> LoadedModel:
        """A model object not read from an MLmodel file, run with the loader's enforcement and dispatch."""
        mlmodel = {
            "flavors": {"python_function": flavor or {}},
            "signature": signature.to_dict() if signature else None,
            "is_signature_from_type_hint": from_hint,
        }
        return cls(python_model, context, ModelMetadata(mlmodel, path), code)

    @property
    def metadata(self) -> ModelMetadata:
        """The parsed MLmodel."""
        return self._metadata

    @property
    def signature(self):
        """The ``ModelSignature`` or None."""
        return self._metadata.signature

    @property
    def model_config(self) -> dict:
        """The model configuration passed to ``load_context``."""
        return self._context.model_config

    @property
    def path(self) -> Path:
        """The model directory."""
        return self._metadata.path

    @property
    def input_example(self):
        """The saved input example (read on first access), or None."""
        if not self._input_example_loaded:
            info = self._metadata.saved_input_example_info
            if info:
                self._input_example = read_input_example(self.path, info, self._metadata.get_input_schema())
            self._input_example_loaded = True
        return self._input_example

    def unwrap_python_model(self) -> Any:
        """The user's model object."""
        return self._python_model

    def prepare(self, data: Any, params: dict | None) -> tuple[Any, dict | None]:
        """What ``predict`` would pass to the model: the input enforced, params validated."""
        from .enforce import enforce_input, validate_params

        signature = self.signature
        if signature is not None and signature.inputs is not None and not self._metadata.is_signature_from_type_hint:
            data = enforce_input(data, signature.inputs)
        param_schema = signature.params if signature is not None else None
        if param_schema is not None or params:
            params = validate_params(params, param_schema)
        if self._input_hint is _UNSET:
            self._input_hint = getattr(getattr(self._python_model, "predict_type_hints", None), "input", None)
        if self._input_hint is not None:  # as MLflow's loader: frames become lists, values are checked
            from .._hints import apply_hint

            data = apply_hint(data, self._input_hint)
        return data, params

    def call(self, method: str, data: Any, params: dict | None):
        """Call the model's ``method`` with prepared input, by MLflow's dispatch rules."""
        func = getattr(self._python_model, method)
        if method not in self._calls:
            self._calls[method] = _accepts(func, method)
        takes_params, takes_context = self._calls[method]
        kwargs = {"params": params} if takes_params else {}
        if params and not takes_params:
            warnings.warn(
                f"{method}() of this model has no `params` parameter, so params {params} are "
                f"ignored. Add `params=None` to {method}'s signature to receive them.",
                UserWarning,
                stacklevel=3,
            )
        with self._code.active() if self._code else nullcontext():
            if takes_context:
                return func(self._context, data, **kwargs)
            return func(data, **kwargs)

    def predict(self, data: Any, params: dict | None = None) -> Any:
        """Enforce the input schema and params, then call the model's ``predict``."""
        data, params = self.prepare(data, params)
        return self.call("predict", data, params)

    def predict_stream(self, data: Any, params: dict | None = None) -> Iterator[Any]:
        """Like ``predict`` for models with ``predict_stream``; yields the model's chunks."""
        if not self._metadata.flavors["python_function"].get("streamable") or not callable(
            getattr(self._python_model, "predict_stream", None)
        ):
            raise ModelLoadError(
                "This model does not support predict_stream: define "
                "predict_stream(self, context, model_input, params=None) in its class."
            )
        data, params = self.prepare(data, params)
        data = _single_stream_input(data)
        return self.call("predict_stream", data, params)

    def __repr__(self) -> str:
        kind = type(self._python_model).__name__
        return f"<LoadedModel {kind} from {str(self.path)!r}>"


def _single_stream_input(data: Any) -> Any:
    """Undo the DataFrame that enforcement made of a single streaming input, as MLflow does."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        return data
    if isinstance(data, pd.DataFrame):
        data = data.to_dict("list")[0] if list(data.columns) == [0] else data.to_dict(orient="records")
    if isinstance(data, list):
        if len(data) != 1:
            raise ModelLoadError(f"predict_stream takes a single input, but got {len(data)}: {data!r:.200}")
        data = data[0]
    return data
