"""Model-like and example-like objects in a namespace, for the panel's dropdowns."""

from __future__ import annotations

import inspect
import types
from typing import Any

__all__ = ["model_candidates", "example_candidates", "describe", "arity", "required_init_args"]

_SCALARS = (int, float, str, bool)


def _public(namespace: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted((n, v) for n, v in namespace.items() if not n.startswith("_") and n not in ("In", "Out"))


def _is_model_class(value: Any) -> bool:
    return isinstance(value, type) and callable(getattr(value, "predict", None)) and value.__module__ == "__main__"


def arity(func: Any) -> int | None:
    """How many parameters ``func`` declares (None when that cannot be read)."""
    try:
        return len(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return None


def required_init_args(cls: type) -> list[str]:
    """The ``__init__`` arguments of ``cls`` that have no default (so ``cls()`` cannot make a model)."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in parameters
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _is_one_arg_function(value: Any) -> bool:
    return isinstance(value, types.FunctionType) and value.__module__ == "__main__" and arity(value) == 1


def model_candidates(namespace: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, name) of PythonModel-like instances, model classes and one-argument functions."""
    found = []
    for name, value in _public(namespace):
        if _is_model_class(value):
            found.append((f"{name} (class)", name))
        elif _is_one_arg_function(value):
            found.append((f"{name} (function)", name))
        elif (
            not isinstance(value, type)
            and not inspect.isroutine(value)
            and not isinstance(value, types.ModuleType)
            and callable(getattr(value, "predict", None))
            and not _is_loaded_model(value)
        ):
            found.append((f"{name} ({type(value).__name__} instance)", name))
    return found


def _is_loaded_model(value: Any) -> bool:
    return type(value).__name__ == "LoadedModel" and type(value).__module__.startswith("pyfunc_jupyter")


def describe(value: Any) -> str | None:
    """A short description of an example-like value (``DataFrame 3×2``), or None if it is not one."""
    kind = type(value)
    if kind.__module__.startswith("pandas") and kind.__name__ == "DataFrame":
        return f"DataFrame {value.shape[0]}×{value.shape[1]}"
    if kind.__module__ == "numpy" and kind.__name__ == "ndarray":
        return f"ndarray {'×'.join(map(str, value.shape))} {value.dtype}"
    if isinstance(value, list):
        return f"list of {len(value)}"
    if isinstance(value, dict):
        return f"dict of {len(value)}"
    if isinstance(value, _SCALARS):
        return f"{kind.__name__} {value!r:.30}"
    return None


def example_candidates(namespace: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, name) of DataFrames, arrays, lists, dicts and scalars."""
    found = []
    for name, value in _public(namespace):
        if isinstance(value, (type, types.ModuleType)) or inspect.isroutine(value):
            continue
        description = describe(value)
        if description is not None:
            found.append((f"{name} ({description})", name))
    return found
