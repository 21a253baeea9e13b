"""``mlflow.pyfunc``-shaped namespace, so MLflow's examples port by changing only the import."""

from __future__ import annotations

from . import __getattr__ as _lazy

__all__ = ["PythonModel", "PythonModelContext", "save_model", "log_model", "load_model", "LoadedModel", "pyfunc"]


def __getattr__(name: str):
    if name == "pyfunc":  # the decorator (MLflow's mlflow.pyfunc.utils.pyfunc)
        from ._hints import pyfunc

        return pyfunc
    if name in __all__:
        return _lazy(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
