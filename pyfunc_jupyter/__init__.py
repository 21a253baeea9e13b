"""pyfunc-jupyter: author MLflow-compatible custom Python models in Jupyter.

The public API mirrors ``mlflow.pyfunc`` and ``mlflow.models``. Names are resolved lazily so that
``import pyfunc_jupyter`` stays light (no pandas, numpy, cloudpickle, yaml, Jupyter or IPython).
"""

from __future__ import annotations

import importlib

from ._version import __version__ as __version__  # re-exported (in __all__)

# public name -> module that defines it (dotted, under this package)
_EXPORTS = {
    "PythonModel": "_base",
    "PythonModelContext": "_base",
    "save_model": "format.save",
    "ModelInfo": "format.save",
    "load_model": "store.loading",
    "LoadedModel": "format.load",
    "log_model": "store.active",
    "end_run": "store.runs",
    "start_run": "store.active",
    "active_run": "store.runs",
    "set_store": "store.active",
    "get_store": "store.active",
    "list_models": "store.active",
    "resolve_uri": "store.active",
    "set_registered_model_alias": "store.active",
    "delete_registered_model_alias": "store.active",
    "update_model_version": "store.active",
    "update_registered_model": "store.active",
    "set_model_version_tag": "store.active",
    "delete_model_version_tag": "store.active",
    "set_registered_model_tag": "store.active",
    "delete_registered_model_tag": "store.active",
    "delete_model_version": "store.active",
    "get_model_version": "store.active",
    "get_model_version_by_alias": "store.active",
    "infer_signature": "format.infer",
    "set_model": "format.codemodel",
    "ModelConfig": "format.codemodel",
    "ModelSignature": "format.schema",
    "Schema": "format.schema",
    "ColSpec": "format.schema",
    "TensorSpec": "format.schema",
    "ParamSchema": "format.schema",
    "ParamSpec": "format.schema",
    "DataType": "format.types",
    "ModelCard": "card.modelcard",
    "model_card": "card.modelcard",
    "spark_udf": "spark",
    "panel": "widgets.panel",
    "Panel": "widgets.panel",
}

_SUBMODULES = ("errors", "pyfunc", "models", "card")

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
