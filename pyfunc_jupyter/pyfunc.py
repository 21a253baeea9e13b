"""``mlflow.pyfunc``-shaped namespace, so MLflow's examples port by changing only the import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import __getattr__ as _lazy

if TYPE_CHECKING:  # for linters and type checkers; at runtime the names resolve lazily below
    from ._base import PythonModel, PythonModelContext
    from ._hints import pyfunc
    from .format.load import LoadedModel
    from .format.save import save_model
    from .store.loading import load_model
    from .store.runs import log_model

__all__ = ["PythonModel", "PythonModelContext", "save_model", "log_model", "load_model", "LoadedModel", "pyfunc"]


def __getattr__(name: str):
    if name == "pyfunc":  # the decorator (MLflow's mlflow.pyfunc.utils.pyfunc)
        from ._hints import pyfunc

        return pyfunc
    if name in __all__:
        return _lazy(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
