"""Validation of ``list[...]`` type hints on ``predict``; pickled by value with hinted models."""

from __future__ import annotations

import functools
import inspect
import typing

__all__ = ["TypeHintError", "apply_hint", "predict_hints", "wrap_hinted_predict"]


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


def predict_hints(func):
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


def apply_hint(data, hint):
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
            kwargs[name] = apply_hint(kwargs[name], hint)
        elif len(args) > position:
            args = args[:position] + (apply_hint(args[position], hint),) + args[position + 1:]
        return predict(*args, **kwargs)

    checked._pyfunc_hint = hint
    return checked


def wrap_hinted_predict(cls) -> None:
    """At class definition, wrap a ``predict`` hinted ``list[...]`` so its input is checked."""
    predict = cls.__dict__.get("predict")
    if callable(predict) and getattr(predict, "_pyfunc_hint", None) is None:
        hint, _ = predict_hints(predict)
        if hint is not None:
            cls.predict = _validating(predict, hint)


