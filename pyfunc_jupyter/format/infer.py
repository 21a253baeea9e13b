"""Inferring signatures from data: ``infer_signature``, ``infer_schema``, ``infer_param_schema``."""

from __future__ import annotations

import datetime as _dt
import warnings
from typing import Any

from .schema import ColSpec, ModelSignature, ParamSchema, ParamSpec, Schema, TensorSpec
from .types import AnyType, Array, DataType, Object, Property

__all__ = ["infer_signature", "infer_schema", "infer_param_schema", "output_for_signature", "hint_signature"]


class _Fallback(Exception):
    """The data has a type no schema can describe; the caller falls back to ``any``."""


def _scalar_type(value: Any) -> Any:
    """The type of one Python or numpy value."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return DataType.boolean
    if isinstance(value, np.integer):
        return _numpy_type(value.dtype)
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, np.floating):
        return _numpy_type(value.dtype)
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, (bytes, bytearray)):
        return DataType.binary
    if isinstance(value, (_dt.date, np.datetime64)):
        return DataType.datetime
    if isinstance(value, (list, tuple, np.ndarray)):
        return Array(_merge_items(value))
    if isinstance(value, dict):
        return Object(
            [
                Property(str(k), t, required=not isinstance(t, AnyType))
                for k, t in ((k, _nested_type(v)) for k, v in value.items())
            ]
        )
    raise _Fallback(f"values of type {type(value).__name__}")


def _is_missing(value: Any) -> bool:
    """None, NaN, ``pd.NA`` or ``pd.NaT``: a value that says nothing about its type."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    kind = type(value).__name__
    return kind in ("NAType", "NaTType")


def _nested_type(value: Any) -> Any:
    """The type of a value inside a list or dict: missing values and empty containers are ``any``."""
    if _is_missing(value) or (isinstance(value, (list, dict)) and not value):
        return AnyType()
    return _scalar_type(value)


_INTEGERS = (DataType.long, DataType.integer)
_NUMBERS = (DataType.long, DataType.double, DataType.integer, DataType.float)


def _merge(a: Any, b: Any) -> Any:
    """One type for two values' types (rows of a column, items of a list), as MLflow merges them."""
    if a == b:
        return a
    if isinstance(a, AnyType):  # a missing value says nothing about the type
        return b
    if isinstance(b, AnyType):  # ... but makes every property of an object optional, as in MLflow
        return Object([Property(p.name, p.dtype, False) for p in a.properties]) if isinstance(a, Object) else a
    if a in _INTEGERS and b in _INTEGERS:
        return DataType.long
    if a in _NUMBERS and b in _NUMBERS:
        return DataType.double
    if isinstance(a, Object) and isinstance(b, Object):
        names = {p.name: p for p in a.properties}
        other = {p.name: p for p in b.properties}
        return Object(
            [
                Property(
                    n,
                    _merge(names[n].dtype, other[n].dtype)
                    if n in names and n in other
                    else (names.get(n) or other[n]).dtype,
                    required=n in names and n in other and names[n].required and other[n].required,
                )
                for n in sorted(set(names) | set(other))
            ]
        )
    if isinstance(a, Array) and isinstance(b, Array):
        return Array(_merge(a.dtype, b.dtype))
    raise _Fallback(f"mixed types {a!r} and {b!r}")


def _merge_items(values: Any) -> Any:
    """One type for the values of a list or column (missing values included); ``any`` if none tell."""
    return _merge_all([_nested_type(v) for v in values]) if len(values) else AnyType()


def _merge_all(types: list) -> Any:
    result = types[0]
    for t in types[1:]:
        result = _merge(result, t)
    return result


def _numpy_type(dtype: Any) -> Any:
    """The DataType of a numpy or pandas dtype, or None for object columns."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype)):
        return DataType.string
    if pd.api.types.is_bool_dtype(dtype):
        return DataType.boolean
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DataType.datetime
    numpy_dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype)) if not isinstance(dtype, np.dtype) else dtype
    if numpy_dtype.kind in "iu":
        if numpy_dtype == np.uint64:
            raise _Fallback("uint64 values")
        if numpy_dtype.itemsize < 4 or (numpy_dtype.kind == "i" and numpy_dtype.itemsize == 4):
            return DataType.integer
        return DataType.long
    if numpy_dtype.kind == "f":
        return DataType.double if numpy_dtype.itemsize == 8 else DataType.float
    if numpy_dtype.kind == "U":
        return DataType.string
    if numpy_dtype.kind == "S":
        return DataType.binary
    return None


def _column_type(series: Any) -> Any:
    known = _numpy_type(series.dtype)
    if known is not None:
        return known
    return _merge_items(list(series))


def _frame_schema(frame: Any) -> Schema:
    specs = []
    for position, label in enumerate(frame.columns):
        column = frame.iloc[:, position]
        name = label if isinstance(label, str) else int(label) if _is_int(label) else str(label)
        required = not bool(column.isna().any()) if len(column) else True
        specs.append(ColSpec(_column_type(column), name, required))
    return Schema(specs)


def _has_missing(value: Any) -> bool:
    """Whether a dict input's value is missing or a list holding a missing value (an optional column)."""
    if isinstance(value, list):
        return any(_is_missing(v) for v in value)
    return _is_missing(value)


def _is_int(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _records_schema(records: list[dict]) -> Schema:
    names: list = []
    for record in records:
        names.extend(k for k in record if k not in names)
    specs = []
    for name in names:
        present = [r[name] for r in records if name in r]
        required = all(r.get(name) is not None for r in records)
        specs.append(ColSpec(_merge_items(present), name, required=required))
    return Schema(specs)


def _schema_of(data: Any) -> Schema:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return _frame_schema(data)
    if isinstance(data, pd.Series):
        if data.name is not None:
            return _frame_schema(data.to_frame())
        (spec,) = _frame_schema(pd.DataFrame({0: data})).inputs  # unnamed stays unnamed, as in MLflow
        return Schema([ColSpec(spec.type, None, spec.required)])
    if isinstance(data, np.ndarray):
        return Schema([TensorSpec(data.dtype, (-1, *data.shape[1:]))])
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema([TensorSpec(v.dtype, (-1, *v.shape[1:]), name) for name, v in data.items()])
        return Schema([ColSpec(_nested_type(v), name, not _has_missing(v)) for name, v in data.items()])
    if isinstance(data, list):
        if not data:
            return Schema([ColSpec(DataType.string)])
        if all(isinstance(v, dict) for v in data):
            return _records_schema(data)
        return Schema([ColSpec(_merge_items(data))])
    return Schema([ColSpec(_scalar_type(data))])


def infer_schema(data: Any, what: str = "input") -> Schema:
    """The schema of ``data`` (MLflow's mapping); undescribable data gives ``any`` with a warning about ``what``."""
    try:
        return _schema_of(data)
    except _Fallback as why:
        warnings.warn(
            f"The {what} has {why}, which a signature cannot describe; it is recorded as type 'any' "
            "and not checked at predict time. Convert it (e.g. uint64 to float64, one type per "
            "column) to get a checked signature.",
            UserWarning,
            stacklevel=2,
        )
        return Schema([ColSpec(AnyType())])


def _param_spec(name: str, value: Any) -> ParamSpec:
    import numpy as np

    if value is None:
        raise ValueError(f"Param {name!r} is None; give it a default value of the type it takes.")
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in items):
            raise ValueError(f"Param {name!r} is a nested list; params may be scalars or 1-D lists only.")
        dtype = _merge_all([_param_type(v) for v in items]) if items else DataType.datetime
        return ParamSpec(name, dtype, [_plain(v) for v in items], (-1,))
    try:
        return ParamSpec(name, _param_type(value), _plain(value))
    except ValueError as exc:
        raise ValueError(f"Param {name!r}: {exc}") from None


def _param_type(value: Any) -> Any:
    if isinstance(value, _dt.date):
        return DataType.datetime
    if isinstance(value, (bytes, bytearray)):
        raise ValueError("binary params are not supported")
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise ValueError(f"the integer {value} does not fit a long (64 bits); use a float or a string")
    return _scalar_type(value)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python builtin; dates as datetimes."""
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        value = value.item()
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    return value


def infer_param_schema(params: dict) -> ParamSchema:
    """The params schema of an example params dict; its values become the defaults."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict of name to default value; got {type(params).__name__}.")
    return ParamSchema([_param_spec(str(name), value) for name, value in params.items()])


def output_for_signature(output: Any, inputs: Any = None) -> Any:
    """At save time, a 1-D array output of a column-based model is a Series (one column), as in MLflow."""
    import numpy as np
    import pandas as pd

    if inputs is not None and inputs.is_tensor_spec():
        return output
    if isinstance(output, np.ndarray) and output.ndim == 1:
        return pd.Series(output)
    return output


def infer_signature(model_input: Any = None, model_output: Any = None, params: dict | None = None) -> ModelSignature:
    """A ``ModelSignature`` from example input, output and params (any may be None)."""
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = infer_schema(model_output, "output") if model_output is not None else None
    return ModelSignature(inputs, outputs, infer_param_schema(params) if params else None)


def hint_signature(model: Any, input_hint: Any, output_hint: Any, params: dict | None) -> ModelSignature | None:
    """The signature the type hints of ``predict`` give (MLflow 3), or None without a usable input hint.

    The input is one column of the hinted element type; the output likewise for a ``list[...]`` hint,
    the hinted type otherwise, ``any`` without a hint or with one no schema can describe.
    """
    if input_hint is None:
        return None
    from .._hints import _BadHint, hint_type, input_schema_type
    from .types import type_from_json

    try:
        inputs = Schema([ColSpec(type_from_json(input_schema_type(input_hint)))])
    except _BadHint:  # e.g. the raw hints of an MLflow class: MLflow falls back to the example too
        return None
    outputs = Schema([ColSpec(AnyType())])
    if output_hint is not None:
        try:
            import typing

            if typing.get_origin(output_hint) is list or output_hint is list:
                dtype = input_schema_type(output_hint)
            else:
                dtype, required = hint_type(output_hint)
                if not required:
                    raise _BadHint("optional output")
            outputs = Schema([ColSpec(type_from_json(dtype))])
        except _BadHint:
            pass
    from .._base import _FunctionPythonModel

    if isinstance(model, _FunctionPythonModel) and not getattr(model.func, "_is_pyfunc", False):
        warnings.warn(
            "Decorate your function with @pyfunc (from pyfunc_jupyter.pyfunc import pyfunc) to enable "
            "data validation against the model input type hints, as MLflow's "
            "@mlflow.pyfunc.utils.pyfunc does.",
            UserWarning,
            stacklevel=4,
        )
    return ModelSignature(inputs, outputs, infer_param_schema(params) if params else None)
