"""Model base classes; pickled by value into every model, so this module imports nothing of ours."""

from __future__ import annotations

import functools
import inspect
import typing

__all__ = ["PythonModel", "PythonModelContext"]


class _TypeHints:
    """The ``predict`` type hints MLflow's loader reads from a model (``input``/``output``)."""

    def __init__(self, input=None, output=None):  # noqa: A002 - MLflow's attribute names
        self.input = input
        self.output = output

    def __repr__(self):
        return f"_TypeHints(input={self.input!r}, output={self.output!r})"


def _supported_hint(hint) -> bool:
    """Whether MLflow-style validation understands ``hint``: list[...] of plain types."""
    if hint in (str, int, float, bool, bytes, typing.Any):
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        return len(args) == 1 and _supported_hint(args[0])
    if origin is dict:
        return len(args) == 2 and args[0] is str and _supported_hint(args[1])
    if origin is typing.Union:
        return all(a is type(None) or _supported_hint(a) for a in args)
    return False


def _predict_hints(func):
    """(input hint, output hint) of a ``predict`` whose model input is hinted ``list[...]``."""
    try:
        hints = typing.get_type_hints(func)
        parameters = [p for p in inspect.signature(func).parameters if p not in ("self", "params")]
    except Exception:  # noqa: BLE001 - unresolvable annotations mean no hints
        return None, None
    if not parameters:
        return None, None
    name = parameters[1] if len(parameters) >= 2 else parameters[0]
    hint = hints.get(name)
    if hint is None or typing.get_origin(hint) is not list or not _supported_hint(hint):
        return None, None
    return hint, hints.get("return")


class TypeHintError(ValueError):
    """The model input does not fit the ``list[...]`` type hint of ``predict``."""


def _first_string_column(frame):
    for column in frame.columns:
        values = frame[column]
        if len(values) and all(isinstance(v, str) for v in values):
            return column
    return None


def _convert_for_hint(data, hint):
    """Turn a DataFrame into the list a ``list[...]`` hint expects, as MLflow does."""
    if type(data).__name__ != "DataFrame" or typing.get_origin(hint) is not list:
        return data
    if typing.get_args(hint)[0] is str:
        column = _first_string_column(data)
        if column is None:
            raise TypeHintError("Expected model input to contain at least one string column")
        return data[column].tolist()
    return data.to_dict(orient="records")


def _hint_problems(value, hint, path, problems):
    """Collect (path, why) for each part of ``value`` that does not fit ``hint``."""
    if hint is typing.Any:
        return
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        if value is None and type(None) in args:
            return
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list or origin is dict:
        if not isinstance(value, origin):
            problems.append((path, f"Expected {origin.__name__}, but got {type(value).__name__}"))
            return
        items = enumerate(value) if origin is list else value.items()
        for key, item in items:
            _hint_problems(item, args[-1], f"{path}[{key!r}]", problems)
    elif not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        problems.append((path, f"Expected type {hint.__name__}, but got {type(value).__name__}"))


def _apply_hint(data, hint):
    """``data`` converted for ``hint`` and checked against it; ``TypeHintError`` if it does not fit."""
    data = _convert_for_hint(data, hint)
    problems = []
    if isinstance(data, list):
        for item in data:
            _hint_problems(item, typing.get_args(hint)[0], repr(item), problems)
    else:
        _hint_problems(data, hint, "input", problems)
    if problems:
        raise TypeHintError(f"Failed to validate data against type hint `{str(hint).replace('typing.', '')}`, "
                            f"invalid elements: {problems[:10]}. Pass values of the hinted types.")
    return data


def _validating(predict, hint):
    """Wrap a hinted ``predict`` so every loader (ours or MLflow's) checks its input first."""
    names = [p for p in inspect.signature(predict).parameters if p != "params"]
    position = len(names) - 1 if len(names) <= 3 else 2

    @functools.wraps(predict)
    def checked(*args, **kwargs):
        name = names[position]
        if name in kwargs:
            kwargs[name] = _apply_hint(kwargs[name], hint)
        elif len(args) > position:
            args = args[:position] + (_apply_hint(args[position], hint),) + args[position + 1:]
        return predict(*args, **kwargs)

    checked._pyfunc_checked = True
    return checked


class PythonModelContext:
    """What ``load_context`` receives: artifact paths and the model configuration."""

    def __init__(self, artifacts=None, model_config=None):
        self._artifacts = dict(artifacts or {})
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self):
        """Artifact name to absolute local path, as given to ``artifacts=`` when saving."""
        return self._artifacts

    @property
    def model_config(self):
        """The ``model_config`` saved with the model."""
        return self._model_config

    def __repr__(self):
        return f"PythonModelContext(artifacts={self._artifacts!r}, model_config={self._model_config!r})"


class PythonModel:
    """Base class of custom pyfunc models: override ``predict`` and, if needed, ``load_context``."""

    def load_context(self, context):
        """Load artifacts from ``context.artifacts``; called once each time the model is loaded."""

    def predict(self, context, model_input, params=None):
        """Return the model's prediction for ``model_input``; override this."""
        raise NotImplementedError(
            f"{type(self).__name__}.predict is not implemented: define "
            "predict(self, context, model_input, params=None) in your model class."
        )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        predict = cls.__dict__.get("predict")
        if callable(predict) and not getattr(predict, "_pyfunc_checked", False):
            hint, _ = _predict_hints(predict)
            if hint is not None:
                cls.predict = _validating(predict, hint)

    @property
    def predict_type_hints(self):
        """The ``list[...]`` type hints of ``predict`` that MLflow's loader validates inputs against."""
        cached = self.__dict__.get("_predict_type_hints")
        return cached if cached is not None else _TypeHints(*_predict_hints(self.predict))


class _FunctionPythonModel(PythonModel):
    """Wraps a one-argument function as a model (MLflow's attribute names: func, signature)."""

    def __init__(self, func, signature=None):
        self.func = func
        self.signature = signature

    def predict(self, context, model_input, params=None):
        """Call the wrapped function on the input; params are not passed."""
        return self.func(model_input)

    @property
    def predict_type_hints(self):
        """The wrapped function's ``list[...]`` hints."""
        cached = self.__dict__.get("_predict_type_hints")
        return cached if cached is not None else _TypeHints(*_predict_hints(self.func))
