"""Pickling models with cloudpickle, and unpickling them without MLflow installed."""

from __future__ import annotations

import io
import pickle
import threading
from typing import Any, Callable

from ..errors import UnpicklableModelError

__all__ = ["dump_model", "load_model_pickle", "find_unpicklable"]

_MAX_DEPTH = 12
_BY_VALUE_LOCK = threading.Lock()  # by-value registration is process-wide: one dump at a time


def dump_model(model: Any) -> bytes:
    """Cloudpickle ``model`` (protocol 5) with our base classes by value, so MLflow needs no us."""
    import cloudpickle

    from .. import _base, _hints

    with _BY_VALUE_LOCK:
        for module in (_base, _hints):
            _restore_module_names(module)
            cloudpickle.register_pickle_by_value(module)
        try:
            buffer = io.BytesIO()
            pickler = cloudpickle.Pickler(buffer, protocol=5)
            for module in (_base, _hints):
                # The globals our by-value functions get back, without __file__: the folder this
                # package is installed in (a user's home, say) would otherwise be in every model.
                # cloudpickle fills an entry only when it finds it empty (Pickler.globals_ref).
                pickler.globals_ref[id(module.__dict__)] = {"__package__": module.__package__,
                                                            "__name__": module.__name__}
            pickler.dump(model)
            return buffer.getvalue()
        except Exception as exc:  # noqa: BLE001 - any pickling failure is reported with its path
            error = exc
        finally:
            for module in (_base, _hints):
                cloudpickle.unregister_pickle_by_value(module)
    raise _unpicklable_error(model, error) from error


def _restore_module_names(module: Any) -> None:
    """Give the module's classes back the one ``__module__`` string object their module has.

    Unpickling a by-value class in the process that defined it updates that class in place
    (cloudpickle's class tracker), with a new, equal ``__module__`` string. cloudpickle leaves out of a
    class's pickled dict only the entries *identical* to its base's, so the next pickle would carry
    one more entry and two saves of the same model would differ byte for byte.
    """
    for value in list(vars(module).values()):
        if isinstance(value, type) and value.__dict__.get("__module__") == module.__name__:
            type.__setattr__(value, "__module__", module.__name__)


def _unpicklable_error(model: Any, exc: Exception) -> UnpicklableModelError:
    path, leaf, leaf_exc = find_unpicklable(model)
    leaf_exc = leaf_exc or exc
    return UnpicklableModelError(
        f"Cannot pickle the model: {path} is {_describe(leaf)} "
        f"({type(leaf_exc).__name__}: {leaf_exc}). "
        "Create it in load_context() instead of __init__ (ship its files with artifacts=...), "
        "or leave it out of the pickled state with __getstate__.",
        attribute_path=path,
    )


def _describe(obj: Any) -> str:
    kind = type(obj)
    return f"a {kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else f"a {kind.__qualname__}"


def _pickles(obj: Any) -> Exception | None:
    import cloudpickle

    try:
        cloudpickle.dumps(obj, protocol=5)
    except Exception as exc:  # noqa: BLE001
        return exc
    return None


def _children(obj: Any) -> list[tuple[str, Any]]:
    """The named parts of ``obj`` that pickling would descend into."""
    if isinstance(obj, dict):
        return [(f"[{key!r}]", value) for key, value in obj.items()]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [(f"[{i}]", value) for i, value in enumerate(obj)]
    state = getattr(obj, "__dict__", None)
    parts = [(f".{name}", value) for name, value in state.items()] if isinstance(state, dict) else []
    for slot in getattr(type(obj), "__slots__", ()) or ():
        if isinstance(slot, str) and hasattr(obj, slot) and slot != "__dict__":
            parts.append((f".{slot}", getattr(obj, slot)))
    return parts


def find_unpicklable(obj: Any, root: str = "model") -> tuple[str, Any, Exception | None]:
    """Return ``(attribute path, object, error)`` of the deepest part of ``obj`` that fails to pickle."""
    path, current, error = root, obj, _pickles(obj)
    seen = {id(obj)}
    for _ in range(_MAX_DEPTH):
        for suffix, child in _children(current):
            if id(child) in seen:
                continue
            child_error = _pickles(child)
            if child_error is not None:
                seen.add(id(child))
                path, current, error = path + suffix, child, child_error
                break
        else:
            break
    return path, current, error


class _ModelUnpickler(pickle.Unpickler):
    """Unpickler that maps MLflow's names to stand-ins and reports every module it refers to."""

    def __init__(self, file, on_reference: Callable[[str], None] | None):
        super().__init__(file)
        self._on_reference = on_reference

    def find_class(self, module: str, name: str):
        top = module.partition(".")[0]
        if top == "mlflow":
            from .mlflow_compat import resolve_mlflow_name

            return resolve_mlflow_name(module, name)
        if self._on_reference is not None:
            self._on_reference(top)
            if top == "cloudpickle" and name == "subimport":
                return self._recording_subimport(super().find_class(module, name))
        return super().find_class(module, name)

    def _recording_subimport(self, subimport):
        on_reference = self._on_reference

        def recording_subimport(name):
            on_reference(name.partition(".")[0])
            return subimport(name)

        return recording_subimport


def load_model_pickle(data: bytes, on_reference: Callable[[str], None] | None = None) -> Any:
    """Unpickle a model pickle (ours or MLflow's); ``on_reference`` gets each module it names."""
    import cloudpickle  # noqa: F401 - its reconstructors must be importable

    return _ModelUnpickler(io.BytesIO(data), on_reference).load()
