"""Stand-ins for the MLflow names that MLflow-written pickles refer to, so they load without MLflow."""

from __future__ import annotations

from collections import namedtuple

from .. import _base

__all__ = ["resolve_mlflow_name", "apply_type_hint"]

FuncInfo = namedtuple("FuncInfo", ["input_type_hint", "input_param_name"])


class MlflowException(Exception):
    """Stand-in for ``mlflow.exceptions.MlflowException`` raised by MLflow-written model code."""

    def __init__(self, message="", error_code=None, **kwargs):
        super().__init__(message)
        self.message = str(message)
        self.error_code = error_code

    @classmethod
    def invalid_parameter_value(cls, message, **kwargs):
        """Mirror of MLflow's constructor of the same name."""
        return cls(message, error_code="INVALID_PARAMETER_VALUE")


def apply_type_hint(data, hint):
    """Convert a frame for a ``list[...]`` hint and check the values fit it, as MLflow does."""
    from .. import _hints

    return _hints.apply_hint(data, hint)


def _validate_model_input(args, kwargs, model_input_index, type_hint, model_input_param_name):
    """Stand-in for MLflow's type-hint input check: converts frames and validates list hints."""
    if model_input_param_name in kwargs:
        kwargs[model_input_param_name] = apply_type_hint(kwargs[model_input_param_name], type_hint)
    elif len(args) > model_input_index:
        converted = apply_type_hint(args[model_input_index], type_hint)
        args = (*args[:model_input_index], converted, *args[model_input_index + 1 :])
    return args, kwargs


_KNOWN = {
    ("mlflow.pyfunc.model", "PythonModel"): _base.PythonModel,
    ("mlflow.pyfunc", "PythonModel"): _base.PythonModel,
    ("mlflow.pyfunc.model", "PythonModelContext"): _base.PythonModelContext,
    ("mlflow.pyfunc", "PythonModelContext"): _base.PythonModelContext,
    ("mlflow.pyfunc.model", "_FunctionPythonModel"): _base._FunctionPythonModel,
    ("mlflow.models.signature", "_TypeHints"): _base._TypeHints,
    ("mlflow.pyfunc.utils.data_validation", "FuncInfo"): FuncInfo,
    ("mlflow.pyfunc.utils.data_validation", "_validate_model_input"): _validate_model_input,
    ("mlflow.exceptions", "MlflowException"): MlflowException,
}

_GENERIC: dict[tuple[str, str], type] = {}


def _generic_stand_in(module: str, name: str) -> type:
    """A class that accepts any construction and state, for MLflow objects a model only carries."""

    def __init__(self, *args, **kwargs):
        self._args, self._kwargs = args, kwargs

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slots state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"This model calls MLflow's {module}.{name}, which pyfunc-jupyter does not provide. "
            "Install mlflow in this environment to use this model."
        )

    def __repr__(self):
        return f"<stand-in for {module}.{name}>"

    namespace = {
        "__init__": __init__,
        "__setstate__": __setstate__,
        "__call__": __call__,
        "__repr__": __repr__,
        "__module__": module,
    }
    return type(name, (), namespace)


def resolve_mlflow_name(module: str, name: str):
    """Return the stand-in for ``module.name`` of MLflow (known names exactly, others generically)."""
    known = _KNOWN.get((module, name))
    if known is not None:
        return known
    key = (module, name)
    if key not in _GENERIC:
        _GENERIC[key] = _generic_stand_in(module, name)
    return _GENERIC[key]
