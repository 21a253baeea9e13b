"""Type hints of ``predict`` as MLflow 3 reads them: validation, conversion, warnings, ``@pyfunc``.

Pickled by value into models whose ``predict`` is hinted or decorated (see ``_pickling``), so it
imports nothing of ours at module level and keeps its import path; pydantic is used only through
the hinted classes themselves.
"""

from __future__ import annotations

import functools
import inspect
import typing
import warnings

__all__ = [
    "TypeHintError",
    "apply_hint",
    "convert_for_hint",
    "hint_type",
    "input_schema_type",
    "predict_hints",
    "pyfunc",
    "wrap_hinted_predict",
]


_SCALARS = {str: "string", int: "long", float: "double", bool: "boolean", bytes: "binary"}
_ALLOWED_NAMES = {"context", "model_input", "params"}


class _BadHint(Exception):
    """``invalid``: MLflow refuses the hint at class definition; otherwise it is only unsupported."""

    def __init__(self, message, invalid=False):
        super().__init__(message)
        self.invalid = invalid


def _is_pydantic(hint) -> bool:
    """A pydantic ``BaseModel`` subclass, found without importing pydantic."""
    return isinstance(hint, type) and any(
        c.__name__ == "BaseModel" and c.__module__.startswith("pydantic") for c in hint.__mro__
    )


def _union_args(hint):
    origin = typing.get_origin(hint)
    if origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        return typing.get_args(hint)
    import types

    return typing.get_args(hint) if isinstance(hint, getattr(types, "UnionType", ())) else None


def hint_type(hint):
    """(JSON type, required) of one element hint, as MLflow's schema maps it; ``_BadHint`` if none."""
    import datetime

    if hint is typing.Any:
        return {"type": "any"}, True
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}, True
    if hint is datetime.datetime:
        return {"type": "datetime"}, True
    if _is_pydantic(hint):
        properties = {}
        for name, field in hint.model_fields.items():
            dtype, required = hint_type(field.annotation)
            if not required and field.is_required():
                raise _BadHint(
                    f"Optional field `{name}` in Pydantic model `{hint.__name__}` doesn't have a "
                    "default value. Set its default to None.",
                    invalid=True,
                )
            properties[name] = {**dtype, "required": required}
        return {"type": "object", "properties": properties}, True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        if len(args) != 1:
            raise _BadHint(f"Type hint `{hint}` must have exactly one element type, e.g. list[str].", invalid=True)
        return {"type": "array", "items": hint_type(args[0])[0]}, True
    if origin is dict:
        if len(args) != 2 or args[0] is not str:
            raise _BadHint(f"Dictionary type hint `{hint}` must be dict[str, <type>].", invalid=True)
        return {"type": "map", "values": hint_type(args[1])[0]}, True
    union = _union_args(hint)
    if union is not None:
        if type(None) in union and len(union) == 2:
            return hint_type(next(a for a in union if a is not type(None)))[0], False
        return {"type": "any"}, type(None) not in union
    if hint in (list, dict, typing.Optional, typing.Union):
        raise _BadHint(f"Invalid type hint `{hint}`: it must include an element type.", invalid=True)
    raise _BadHint(f"Unsupported type hint `{getattr(hint, '__name__', hint)}`. {_SUPPORTED}")


_SUPPORTED = (
    "Type hints must be a list[...] whose element type is one of str, int, float, bool, bytes, "
    "datetime, a pydantic BaseModel subclass, a list or dict[str, ...] of these, or typing.Any."
)


def input_schema_type(hint):
    """The JSON type of the one column a ``list[...]`` input hint describes; ``_BadHint`` if none."""
    if typing.get_origin(hint) is not list and hint is not list:
        raise _BadHint(
            f"Type hints must be wrapped in list[...] because the model takes many inputs: use "
            f"`list[{getattr(hint, '__name__', hint)}]`."
        )
    args = typing.get_args(hint)
    if type(None) in args:
        raise _BadHint("The input type hint cannot be Optional.")
    if len(args) != 1:
        raise _BadHint(f"Type hint `{hint}` must have exactly one element type, e.g. list[str].", invalid=True)
    dtype, required = hint_type(args[0])
    if not required:
        raise _BadHint(
            "The input type hint's elements cannot be Optional: use a pydantic model with optional fields instead.",
            invalid=True,
        )
    return dtype


def _input_position(func):
    """(index among the non-self parameters, name) of the model input, by MLflow's rule."""
    names = [p for p in inspect.signature(func).parameters if p != "self"]
    with_context = "context" in names or len([n for n in names if n != "params"]) == 2
    index = 1 if with_context else 0
    return index, (names[index] if len(names) > index else None)


def _no_inference(hint) -> bool:
    """DataFrame, Series and ndarray hints: fine, but they give no signature and no validation."""
    return getattr(hint, "__name__", None) in ("DataFrame", "Series", "ndarray") and getattr(
        hint, "__module__", ""
    ).split(".")[0] in ("pandas", "numpy")


def predict_hints(func):
    """(input hint, output hint) of a ``predict`` (or function) whose model input hint MLflow supports."""
    try:
        _index, name = _input_position(func)
        hints = typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 - unresolvable annotations mean no hints
        return None, None
    hint = hints.get(name) if name else None
    if hint is None or _no_inference(hint):
        return None, None
    try:
        input_schema_type(hint)
    except _BadHint:
        return None, None
    return hint, hints.get("return")


class TypeHintError(ValueError):
    """The model input does not fit the type hint (where pyfunc-jupyter is not installed)."""


def _error(message):
    """Our ``pyfunc_jupyter.errors.TypeHintError`` (a ``PyfuncError``), or the stand-in above without us."""
    error_class: type[Exception]
    try:
        from pyfunc_jupyter.errors import TypeHintError as error_class
    except ImportError:  # unpickled by value where pyfunc-jupyter is not installed
        error_class = TypeHintError
    return error_class(message)


def _first_string_column(frame):
    for column in frame.columns:
        values = frame[column]
        if len(values) and all(isinstance(v, str) for v in values):
            return column
    return None


def convert_for_hint(data, hint):
    """Turn a DataFrame into the list a ``list[...]`` hint expects, as MLflow's loader does."""
    if type(data).__name__ != "DataFrame" or typing.get_origin(hint) is not list:
        return data
    if typing.get_args(hint)[0] is str:
        column = _first_string_column(data)
        if column is None:
            raise _error(
                "Expected model input to contain at least one string column. Pass a list of "
                "strings or a DataFrame with a string column."
            )
        return data[column].tolist()
    element = typing.get_args(hint)[0]
    if element is dict or typing.get_origin(element) is dict or _is_pydantic(element):
        return data.iloc[:, 0].tolist() if list(data.columns) == [0] else data.to_dict(orient="records")
    return [_plain_cell(v) for v in data.iloc[:, 0].tolist()]  # MLflow: the first column


def _plain_cell(value):
    """A frame cell as MLflow's wrapper passes it on: arrays as lists, NaN as None."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, float) and value != value:
        return None
    return value


def _name(hint):
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


class _Invalid(Exception):
    pass


def _validate(value, hint):
    """``value`` checked against ``hint`` (dicts become pydantic models); ``_Invalid`` saying why not."""
    import datetime

    if _is_pydantic(hint):
        if isinstance(value, hint):
            fields = value.model_dump()
        elif isinstance(value, dict):
            fields = value
        else:
            raise _Invalid(f"Expecting a dictionary or {hint.__name__} instance, got {type(value).__name__}")
        try:
            hint.model_validate(fields, strict=True)
        except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError, without importing pydantic
            raise _Invalid(f"Data doesn't match {hint.__name__}: {exc}") from None
        return hint(**fields) if isinstance(value, dict) else value
    if hint is typing.Any:
        return value
    if hint in _SCALARS or hint is datetime.datetime:
        if isinstance(value, hint):
            return value
        raise _Invalid(f"Expected type {hint.__name__}, but got {type(value).__name__}")
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        if not isinstance(value, list):
            raise _Invalid(f"Expected list, but got {type(value).__name__}")
        result: list[typing.Any] = []
        bad: list[tuple[str, str]] = []
        for item in value:
            try:
                result.append(_validate(item, args[0]))
            except _Invalid as why:
                bad.append((str(item), str(why)))
        if bad:
            raise _Invalid(
                f"Failed to validate data against type hint `list[{_name(args[0])}]`, "
                f"invalid elements: {bad[:5]}" + (" ... (truncated)" if len(bad) > 5 else "")
            )
        return result
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid(f"Expected dict, but got {type(value).__name__}")
        mapping: dict[str, typing.Any] = {}
        invalid: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                invalid[str(key)] = f"Key must be a string, got {type(key).__name__}"
                continue
            try:
                mapping[key] = _validate(item, args[1])
            except _Invalid as why:
                invalid[key] = str(why)
        if invalid:
            raise _Invalid(
                f"Failed to validate data against type hint `dict[str, {_name(args[1])}]`, invalid elements: {invalid}"
            )
        return mapping
    union = _union_args(hint)
    if union is not None:
        if value is None and type(None) in union:
            return value
        if type(None) in union and len(union) == 2:
            return _validate(value, next(a for a in union if a is not type(None)))
        return value
    raise _Invalid(f"Unsupported type hint `{_name(hint)}`")


def apply_hint(data, hint):
    """``data`` converted for ``hint`` and checked against it; ``TypeHintError`` if it does not fit."""
    data = convert_for_hint(data, hint)
    try:
        return _validate(data, hint)
    except _Invalid as why:
        raise _error(
            f"{why}. Pass values of the hinted types (the model's predict is hinted `{_name(hint)}`)."
        ) from None


def _validating(predict, hint):
    """Wrap a hinted ``predict`` (or function) so every caller (ours, MLflow's, direct) checks its input."""
    parameters = inspect.signature(predict).parameters
    index, name = _input_position(predict)
    position = index + (1 if "self" in parameters else 0)

    @functools.wraps(predict)
    def checked(*args, **kwargs):
        if name in kwargs:
            kwargs[name] = apply_hint(kwargs[name], hint)
        elif len(args) > position:
            args = (*args[:position], apply_hint(args[position], hint), *args[position + 1 :])
        return predict(*args, **kwargs)

    # markers read back by the loader (a function's attributes live in its __dict__)
    checked.__dict__.update(_pyfunc_hint=hint, _pyfunc_output_hint=_output_hint(predict), _is_pyfunc=True)
    return checked


def _output_hint(func):
    try:
        return typing.get_type_hints(func).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable return hint is no hint
        return None


def _warn_parameter_names(func, method="predict"):
    names = [p for p in inspect.signature(func).parameters if p != "self"]
    invalid = sorted(set(names) - _ALLOWED_NAMES)
    if invalid:
        warnings.warn(
            f"The model's `{method}` method has parameters {invalid} other than context, model_input "
            "and params. Only the following parameter names are allowed: context, model_input, and "
            "params; MLflow warns that other names will not be permitted in future versions. Rename "
            "them.",
            FutureWarning,
            stacklevel=4,
        )


def _checked_input_hint(func):
    """The supported input hint of ``func``, or None; warns if unsupported, raises if invalid (as MLflow)."""
    try:
        _, name = _input_position(func)
        hint = typing.get_type_hints(func).get(name) if name else None
    except Exception:  # noqa: BLE001 - unresolvable annotations mean no hints
        return None
    if hint is None or _no_inference(hint):
        return None
    try:
        input_schema_type(hint)
    except _BadHint as why:
        if why.invalid:
            raise _error(
                f"{why} To disable data validation, remove the type hint from the predict "
                "function. Otherwise, fix the type hint."
            ) from None
        warnings.warn(
            f"Type hint used in the model's predict function is not supported for MLflow's schema "
            f"validation. {why} Remove the type hint to disable this warning. To enable validation "
            "for the input data, specify input example or model signature when logging the model.",
            UserWarning,
            stacklevel=4,
        )
        return None
    return hint


def wrap_hinted_predict(cls) -> None:
    """At class definition, wrap a hinted ``predict`` so its input is checked; warn as MLflow does."""
    stream = cls.__dict__.get("predict_stream")
    if callable(stream):
        _warn_parameter_names(stream, "predict_stream")
    predict = cls.__dict__.get("predict")
    if not callable(predict) or getattr(predict, "_is_pyfunc", False):
        return
    _warn_parameter_names(predict)
    hint = _checked_input_hint(predict)
    if hint is not None:
        cls.predict = _validating(predict, hint)


def pyfunc(func):
    """Decorator: check the input of a hinted model function (or ``predict``) against its type hint.

    The counterpart of ``mlflow.pyfunc.utils.pyfunc``; without a supported hint it changes nothing.
    """
    hint = _checked_input_hint(func)
    if hint is not None:
        return _validating(func, hint)

    @functools.wraps(func)
    def unchanged(*args, **kwargs):
        return func(*args, **kwargs)

    unchanged.__dict__["_is_pyfunc"] = True
    return unchanged
