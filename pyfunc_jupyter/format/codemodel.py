"""Models from code: a Python file that calls ``set_model(obj)``, run at load instead of unpickling."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import threading
import types
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError, ModelSaveError
from .mlmodel import CODE_MODEL_LOADER

__all__ = [
    "CODE_MODEL_LOADER",
    "set_model",
    "ModelConfig",
    "load_code_model",
    "code_file_name",
    "real_mlflow_available",
]

_UNSET = object()
_LOCK = threading.RLock()  # one code file runs at a time: set_model and the config are process-wide
_recorded: Any = _UNSET
_config: Any = None  # None: not loading (ModelConfig uses development_config); "" : loading without a config


def set_model(model: Any) -> None:
    """Set the model a models-from-code file defines (``mlflow.models.set_model``).

    Call it once at the end of the file: ``set_model(MyModel())`` for a ``PythonModel`` instance, or
    ``set_model(predict)`` for a function of one argument.
    """
    global _recorded
    if isinstance(model, (str, os.PathLike)) or not (callable(getattr(model, "predict", None)) or callable(model)):
        raise ModelSaveError(
            f"set_model() takes the model object (a PythonModel instance or a function); got "
            f"{type(model).__name__} {model!r:.60}. Pass the object, e.g. set_model(MyModel())."
        )
    _recorded = model
    real = sys.modules.get("mlflow.models.model")
    if real is not None and not getattr(real, "_pyfunc_jupyter_stand_in", False):
        real.__mlflow_model__ = model  # type: ignore[attr-defined]  # real MLflow is loading this file: its loader reads this


class ModelConfig:
    """The ``model_config`` a models-from-code file reads while it is loaded (``mlflow.models.ModelConfig``).

    When the model was saved with ``model_config``, that configuration is used (a load-time override
    wins); with none, reading it is an error, as in MLflow. Outside a load (running the file
    yourself), ``development_config`` (a dict or a YAML file path) is used.
    """

    def __init__(self, *, development_config: str | dict | None = None) -> None:
        config = _config
        real = sys.modules.get("mlflow.models.model_config")
        if config is None and real is not None and not getattr(real, "_pyfunc_jupyter_stand_in", False):
            config = getattr(real, "__mlflow_model_config__", None)  # real MLflow is loading this file
        self.config = config if config is not None else development_config
        if not self.config:
            raise FileNotFoundError(
                "Config file is not provided which is needed to load the model. Save the model "
                "with model_config=... (a dict or a YAML file path)."
            )
        if not isinstance(self.config, dict) and not os.path.isfile(self.config):
            raise FileNotFoundError(f"Config file '{self.config}' not found.")

    def to_dict(self) -> dict:
        """The configuration as a dict."""
        if isinstance(self.config, dict):
            return self.config
        import yaml

        with open(str(self.config), encoding="utf-8") as f:
            return yaml.safe_load(f)

    def get(self, key: str) -> Any:
        """A top-level value of the configuration; ``KeyError`` if it has none."""
        data = self.to_dict()
        if data and key in data:
            return data[key]
        raise KeyError(f"Key '{key}' not found in configuration: {data}.")


_MLFLOW_HINT_NAG = re.compile(r"(\x1b\[\d+m)?Add type hints to the `predict` method")


@contextmanager
def _without_mlflow_hint_nag() -> Iterator[None]:
    """Drop real MLflow's "add type hints" warning while a code file runs; pass every other warning on.

    MLflow gives it each time a file defines a PythonModel without hints, under a filter of its own
    (so a plain ignore filter cannot reach it); at load time it is noise, and its path is machine's.
    """
    with warnings.catch_warnings(record=True) as caught:
        yield
    for w in caught:
        if not (issubclass(w.category, UserWarning) and _MLFLOW_HINT_NAG.match(str(w.message))):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def real_mlflow_available() -> bool:
    """Whether real MLflow can be imported here (our stand-in does not count)."""
    module = sys.modules.get("mlflow")
    if module is not None:
        return not getattr(module, "_pyfunc_jupyter_stand_in", False)
    try:
        return importlib.util.find_spec("mlflow") is not None
    except (ImportError, ValueError):
        return False


def code_file_name(recorded: str) -> str:
    """The file name a ``model_code_path`` entry names (MLflow records the writer's absolute path)."""
    return recorded.replace("\\", "/").rstrip("/").rpartition("/")[2]


# --- the stand-in for the mlflow modules a code file imports ---------------------------------------------


def _missing(module: str):
    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"{module}.{name} is not available: MLflow is not installed, and pyfunc-jupyter stands "
            f"in only for mlflow.pyfunc.PythonModel/PythonModelContext, mlflow.pyfunc.utils.pyfunc, "
            f"mlflow.models.set_model/ModelConfig and mlflow.exceptions.MlflowException. "
            "Install mlflow to load this model."
        )

    return __getattr__


def _stand_in_modules() -> dict[str, types.ModuleType]:
    from importlib.machinery import ModuleSpec

    from .. import _base, _hints
    from .mlflow_compat import MlflowException

    def module(name: str, **names: Any) -> types.ModuleType:
        made = types.ModuleType(name, f"pyfunc-jupyter's stand-in for {name} (MLflow is not installed).")
        made.__spec__ = ModuleSpec(name, None, is_package=True)
        made.__path__ = []
        vars(made)["_pyfunc_jupyter_stand_in"] = True
        vars(made)["__getattr__"] = _missing(name)  # module-level __getattr__ (PEP 562)
        vars(made).update(names)
        return made

    pyfunc_model = module(
        "mlflow.pyfunc.model", PythonModel=_base.PythonModel, PythonModelContext=_base.PythonModelContext
    )
    utils = module("mlflow.pyfunc.utils", pyfunc=_hints.pyfunc)
    pyfunc = module(
        "mlflow.pyfunc",
        PythonModel=_base.PythonModel,
        PythonModelContext=_base.PythonModelContext,
        model=pyfunc_model,
        utils=utils,
    )
    model = module("mlflow.models.model", set_model=set_model)
    model_config = module("mlflow.models.model_config", ModelConfig=ModelConfig)
    models = module(
        "mlflow.models", set_model=set_model, ModelConfig=ModelConfig, model=model, model_config=model_config
    )
    exceptions = module("mlflow.exceptions", MlflowException=MlflowException)
    root = module("mlflow", pyfunc=pyfunc, models=models, exceptions=exceptions, MlflowException=MlflowException)
    return {m.__name__: m for m in (root, pyfunc, pyfunc_model, utils, models, model, model_config, exceptions)}


@contextmanager
def _mlflow_stand_in() -> Iterator[None]:
    """Put the stand-in ``mlflow`` modules in ``sys.modules`` while a code file runs; remove them after."""
    # A None entry (an import blocked on purpose) is replaced while the file runs and put back after.
    blocked = {name for name in _stand_in_modules() if name in sys.modules and sys.modules[name] is None}
    installed = {name: module for name, module in _stand_in_modules().items() if sys.modules.get(name) is None}
    sys.modules.update(installed)
    try:
        yield
    finally:
        for name, module in installed.items():
            if sys.modules.get(name) is module:
                if name in blocked:
                    sys.modules[name] = None  # type: ignore[assignment]
                else:
                    del sys.modules[name]


@contextmanager
def _real_mlflow_config(config: Any) -> Iterator[Any]:
    """Real MLflow's set_model/ModelConfig globals, reset and set for this load; yields mlflow.models.model."""
    import mlflow.models.model as real_model
    from mlflow.models import model_config as real_config

    real_model.__mlflow_model__ = None
    real_config._set_model_config(config)
    try:
        yield real_model
    finally:
        real_config._set_model_config(None)


@contextmanager
def _our_config(config: Any) -> Iterator[None]:
    global _config
    saved, _config = _config, config
    try:
        yield
    finally:
        _config = saved


def load_code_model(path: str | os.PathLike, model_config: dict | None = None, *, error: type = ModelLoadError) -> Any:
    """Run the code file ``path`` as a fresh module and return the object it passed to ``set_model``.

    ``model_config`` is what ``ModelConfig`` reads while it runs (None or empty: reading it is an
    error, as in MLflow). Without real MLflow, ``import mlflow`` in the file gets a stand-in that
    provides ``PythonModel``, ``set_model`` and ``ModelConfig``. Failures raise ``error``.
    """
    global _recorded
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"Cannot read the model's code file {path} ({exc}).") from exc
    config = model_config if model_config else ""
    uses_real = "mlflow" in source and real_mlflow_available()
    with _LOCK:
        _recorded = _UNSET
        stand_in = nullcontext() if real_mlflow_available() else _mlflow_stand_in()
        real = _real_mlflow_config(config) if uses_real else nullcontext(None)
        with stand_in, _our_config(config), real as real_model:
            name = f"code_model_{uuid.uuid4().hex}"
            module = types.ModuleType(name)
            module.__file__ = str(path)
            sys.modules[name] = module  # as MLflow does: classes defined in the file can be found by module
            try:
                with _without_mlflow_hint_nag():
                    exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - runs the model's code
            except Exception as exc:
                del sys.modules[name]
                hint = ""
                if isinstance(exc, (ImportError, AttributeError)) and "mlflow" in str(exc):
                    hint = " The file uses a part of MLflow that pyfunc-jupyter does not provide: install mlflow."
                raise error(
                    f"Running the model's code file {path} failed ({type(exc).__name__}: {exc}).{hint} "
                    "Fix the file; it must run on its own, as `python " + path.name + "` would."
                ) from exc
            model = _recorded
            if real_model is not None and getattr(real_model, "__mlflow_model__", None) is not None:
                model = real_model.__mlflow_model__
            _recorded = _UNSET
    if model is _UNSET or model is None:
        raise error(
            f"The model's code file {path} ran but never called set_model(...), so it defines no model. "
            "End it with `from mlflow.models import set_model` and `set_model(MyModel())`."
        )
    return model
