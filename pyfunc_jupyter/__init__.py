"""pyfunc-jupyter: author MLflow-compatible custom Python models in Jupyter.

The public API mirrors ``mlflow.pyfunc`` and ``mlflow.models``. Names are resolved lazily so that
``import pyfunc_jupyter`` stays light (no pandas, numpy, cloudpickle, yaml, Jupyter or IPython).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> private module that defines it
_EXPORTS = {
    "PythonModel": "_base",
    "PythonModelContext": "_base",
    "save_model": "_save",
    "ModelInfo": "_save",
    "load_model": "_load",
    "LoadedModel": "_load",
    "log_model": "_store",
    "end_run": "_store",
    "start_run": "_store",
    "active_run": "_store",
    "set_store": "_store",
    "get_store": "_store",
    "list_models": "_store",
    "resolve_uri": "_store",
    "delete_model_version": "_registry",
    "update_model_version": "_registry",
    "set_model_version_tag": "_registry",
    "delete_model_version_tag": "_registry",
    "get_model_version": "_registry",
    "set_registered_model_alias": "_registry",
    "delete_registered_model_alias": "_registry",
    "get_model_version_by_alias": "_registry",
    "update_registered_model": "_registry",
    "set_registered_model_tag": "_registry",
    "delete_registered_model_tag": "_registry",
    "infer_signature": "_infer",
    "ModelSignature": "_schema",
    "Schema": "_schema",
    "ColSpec": "_schema",
    "TensorSpec": "_schema",
    "ParamSchema": "_schema",
    "ParamSpec": "_schema",
    "DataType": "_types",
    "ModelCard": "card",
    "model_card": "card",
    "panel": "_panel",
    "Panel": "_panel",
}

_SUBMODULES = ("errors", "pyfunc", "models", "card", "listing")

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__", "load_ipython_extension"])


def load_ipython_extension(ipython):
    """``%load_ext pyfunc_jupyter``: register ``%%pyfunc_model``, ``%pyfunc_load`` and ``%pyfunc_models``."""
    from .magics import load_ipython_extension as load

    load(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds our prebuilt extension (``jupyter labextension develop`` uses it)."""
    return [{"src": "labextension", "dest": "pyfunc-jupyter"}]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        if name in _SUBMODULES:
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
