"""Enforcing a signature at predict time: input coercion, column types, tensors and params."""

from __future__ import annotations

import datetime as _dt
import warnings
from typing import Any

from .schema import ColSpec, ParamSchema, ParamSpec, Schema
from .types import AnyType, Array, DataType, Map, Object
from ..errors import SchemaEnforcementError

__all__ = ["enforce_input", "validate_params", "check_param_value"]

_FIX_NUMERIC = ("Cast the column before calling predict, or save the model with an example whose column "
                "has the type you will send (e.g. float64 where values may be missing).")


def _fail(message: str) -> SchemaEnforcementError:
    return SchemaEnforcementError(message)


# ---------------------------------------------------------------- input coercion (to a DataFrame)

def _is_scalar(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (str, bytes, bytearray, int, float, bool, _dt.date, np.generic))


def _to_frame(data: Any, schema: Schema):
    """Turn a Series, dict, list, array or scalar into the DataFrame ``predict`` will see."""
    try:
        return _build_frame(data, schema)
    except SchemaEnforcementError:
        raise
    except (TypeError, ValueError) as exc:
        raise _fail(f"Cannot turn the {type(data).__name__} input into the model's columns {schema!r} "
                    f"({exc}). Pass a DataFrame, or rows of equal length.") from None


def _build_frame(data: Any, schema: Schema):
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if data is None:
        raise _fail("Expected input to be DataFrame. Found: NoneType. Pass the model input, e.g. a "
                    "DataFrame with the signature's columns.")
    if isinstance(data, pd.Series):
        return data.to_frame() if data.name is not None else pd.DataFrame({0: data})
    composite = any(isinstance(c.type, (Array, Object, Map)) for c in schema.inputs)
    if isinstance(data, dict):
        one_row = composite or all(_is_scalar(v) or v is None or (isinstance(v, list) and all(
            isinstance(x, str) for x in v)) for v in data.values())
        return pd.DataFrame([data]) if one_row else pd.DataFrame(data)
    if isinstance(data, (list, tuple)):
        if data and all(isinstance(v, dict) for v in data) and schema.has_input_names():
            return pd.DataFrame(list(data))
        if len(schema.inputs) == 1 and composite:
            return pd.DataFrame({schema.input_names()[0]: list(data)})
        return pd.DataFrame(list(data))
    if isinstance(data, np.ndarray):
        return pd.DataFrame(data)
    if _is_scalar(data):
        return pd.DataFrame([data])
    raise _fail(f"Cannot turn a {type(data).__name__} into the model's columns {schema!r}. Pass a DataFrame, "
                "a dict, a list or a numpy array.")


# ---------------------------------------------------------------- column matching

def _match_named(frame: Any, schema: Schema):
    columns = list(frame.columns)
    names = [c.name for c in schema.inputs]
    missing = [c.name for c in schema.inputs if c.required and c.name not in columns]
    extra = [c for c in columns if c not in names]
    if missing:
        note = f" Note that there were extra inputs: {extra}." if extra else ""
        raise _fail(f"Model is missing inputs {missing}.{note} The model takes {names}; pass every required "
                    "column (names match exactly, so 0 and '0' differ).")
    if extra:
        warnings.warn(f"Found extra inputs in the model input that are not defined in the model signature: "
                      f"`{extra}`. These inputs will be ignored.", UserWarning, stacklevel=4)
    present = [n for n in names if n in columns]
    return frame if present == columns else frame[present]


def _match_positional(frame: Any, schema: Schema):
    if frame.shape[1] < len(schema.inputs):
        raise _fail(f"Model inference is missing inputs. The model signature declares {len(schema.inputs)} "
                    f"inputs but the provided value only has {frame.shape[1]} inputs. Pass one column per input.")
    return frame if frame.shape[1] == len(schema.inputs) else frame.iloc[:, :len(schema.inputs)]


# ---------------------------------------------------------------- column conversion

def _incompatible(name: Any, actual: Any, expected: str, hint: str = "") -> SchemaEnforcementError:
    return _fail(f"Incompatible input types for column {name}. Can not safely convert {actual} to {expected}."
                 f"{hint} {_FIX_NUMERIC}")


def _all_none(series: Any) -> bool:
    return series.dtype == object and bool(series.isna().all())


def _convert_scalar(series: Any, target: DataType, name: Any):
    """Convert one column to ``target`` by MLflow's conversion matrix; unchanged columns are returned as is."""
    import numpy as np
    import pandas as pd

    if target in (DataType.string, DataType.binary):
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            return series
        raise _incompatible(name, series.dtype, target.to_numpy() if target != DataType.string else "<U0")
    if series.dtype == object:
        if _all_none(series) and len(series):
            if target in (DataType.double,):
                return series.astype("float64")
            if target == DataType.datetime:
                return pd.to_datetime(series).astype("datetime64[ns]")
            if target == DataType.boolean:
                return series
            raise _incompatible(name, "object (all None)", target.to_numpy())
        inferred = series.infer_objects()
        if inferred.dtype == object:
            if target == DataType.boolean:
                return series
            if target == DataType.datetime and all(isinstance(v, _dt.date) or v is None for v in series):
                return pd.to_datetime(series).astype("datetime64[ns]")
            raise _incompatible(name, "object", target.to_numpy())
        series = inferred
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        raise _incompatible(name, "str", target.to_numpy())
    if target == DataType.datetime:
        if pd.api.types.is_datetime64_any_dtype(dtype):
            if dtype == np.dtype("datetime64[ns]"):
                return series
            try:
                return series.astype("datetime64[ns]")
            except (OverflowError, ValueError) as exc:  # pandas' OutOfBoundsDatetime is a ValueError
                raise _incompatible(name, dtype, "datetime64[ns]",
                                    f" A value lies outside the nanosecond range 1677-09-21..2262-04-11 ({exc}).") from None
        raise _incompatible(name, dtype, "datetime64[ns]")
    if target == DataType.boolean:
        if dtype == np.bool_:
            return series
        raise _incompatible(name, dtype, "bool")
    numpy_dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype)) if not isinstance(dtype, np.dtype) else dtype
    want = target.to_numpy()
    if not isinstance(dtype, np.dtype):  # a nullable extension dtype such as Int64
        if series.isna().any():
            if numpy_dtype.kind != "f" or want.kind != "f":
                raise _incompatible(name, dtype, want, " The nullable column has missing values, which "
                                    f"{want} cannot hold.")
            # As MLflow: a nullable float column's missing values become NaN.
            series = pd.Series(series.to_numpy(numpy_dtype, na_value=np.nan), index=series.index, name=series.name)
        else:
            series = series.astype(numpy_dtype)
    if numpy_dtype == want:
        return series
    kind, size = numpy_dtype.kind, numpy_dtype.itemsize
    ok = False
    if kind in "iu" and want.kind == "i":
        ok = (kind == "i" and size <= want.itemsize) or (kind == "u" and size < want.itemsize)
    elif kind in "iu" and want.kind == "f":
        ok = size <= 6 and want == np.float64 or (size <= 2 and want == np.float32)
        if not ok and _zero_one(series):
            ok = True
    elif kind == "f" and want.kind == "f":
        ok = size <= want.itemsize
    if not ok:
        hint = ""
        if kind == "f" and want.kind == "i" and _integral(series):
            hint = (" The column holds whole numbers stored as floats, probably because of missing values: "
                    "integer columns cannot hold missing values.")
        raise _incompatible(name, numpy_dtype, want, hint)
    return series.astype(want)


def _zero_one(series: Any) -> bool:
    values = series.to_numpy()
    return bool(((values == 0) | (values == 1)).all())


def _integral(series: Any) -> bool:
    import numpy as np

    values = series.to_numpy()
    finite = values[~np.isnan(values)]
    return bool(len(finite) and (finite == np.round(finite)).all())


def _check_value(value: Any, dtype: Any, where: str, required: bool = True) -> Any:
    """Check one composite value (array, object or map element) against ``dtype``.

    As MLflow: a missing value (None) passes only where the column or property is optional, or the
    type is ``any``; inside a list, None is refused for boolean and integer items (MLflow turns it
    into False or fails) and kept for the others.
    """
    import numpy as np

    if isinstance(dtype, AnyType):
        return value
    if value is None:
        if not required:
            return None
        raise _fail(f"{where}: expected {_type_name(dtype)}, got None, but the value is required. Fill in the "
                    "value, or save the model with an example where it is missing (so it is optional).")
    if isinstance(dtype, Array):
        if not isinstance(value, (list, tuple, np.ndarray)):
            raise _fail(f"{where}: expected a list, got {type(value).__name__} {value!r:.60}.")
        nullable = not (isinstance(dtype.dtype, DataType) and dtype.dtype in _NO_NONE_ITEMS)
        return [_check_value(v, dtype.dtype, where, required=not nullable) for v in value]
    if isinstance(dtype, Object):
        if not isinstance(value, dict):
            raise _fail(f"{where}: expected a dict, got {type(value).__name__} {value!r:.60}.")
        props = {p.name: p for p in dtype.properties}
        missing = {n for n, p in props.items() if p.required and n not in value}
        if missing:
            raise _fail(f"{where}: Missing required properties: {missing}.")
        unknown = {k for k in value if k not in props}
        if unknown:
            raise _fail(f"{where}: Invalid properties not defined in the schema found: {unknown}.")
        return {k: _check_value(v, props[k].dtype, f"{where}, key {k!r}", props[k].required)
                for k, v in value.items()}
    if isinstance(dtype, Map):
        if not isinstance(value, dict):
            raise _fail(f"{where}: expected a dict, got {type(value).__name__} {value!r:.60}.")
        return {k: _check_value(v, dtype.value_type, where, required) for k, v in value.items()}
    numbers = (int, float, np.integer, np.floating)
    accepted = {"integer": (int, np.integer), "long": (int, np.integer), "float": numbers, "double": numbers,
                "boolean": (bool, np.bool_)}.get(dtype.name, (dtype.to_python(),))
    if not isinstance(value, accepted) or (isinstance(value, (bool, np.bool_)) and dtype != DataType.boolean):
        raise _fail(f"{where}: expected {dtype.name}, got {type(value).__name__} {value!r:.60}.")
    return value


_NO_NONE_ITEMS = (DataType.boolean, DataType.integer, DataType.long)


def _type_name(dtype: Any) -> str:
    return dtype.name if isinstance(dtype, DataType) else type(dtype).__name__.lower()


def _convert_column(series: Any, spec: ColSpec, name: Any):
    if isinstance(spec.type, AnyType):
        return series
    if isinstance(spec.type, DataType):
        return _convert_scalar(series, spec.type, name)
    for value in series:
        _check_value(value, spec.type, f"Column {name!r}", spec.required)
    return series


def _column_dtypes(frame: Any) -> list:
    """The dtype of each column, in order. ``frame.dtypes`` builds a Series (~20 us on a 3-row
    frame, most of a predict call's overhead), so read pandas' block manager when it offers this."""
    get_dtypes = getattr(getattr(frame, "_mgr", None), "get_dtypes", None)
    return list(get_dtypes()) if get_dtypes is not None else frame.dtypes.tolist()


def _fits(dtype: Any, spec: ColSpec) -> bool:
    """Whether a column of ``dtype`` already is what ``spec`` converts to (so nothing to do)."""
    import pandas as pd

    target = spec.type
    if isinstance(target, AnyType):
        return True
    if not isinstance(target, DataType):
        return False
    if target in (DataType.string, DataType.binary):
        return dtype == object or isinstance(dtype, pd.StringDtype)
    return dtype == target.to_numpy() and target.to_numpy() != object


def _positions(frame: Any, schema: Schema) -> list[tuple[int, ColSpec]]:
    """(column position, spec) pairs: by name for named schemas (optional columns may be absent)."""
    if not schema.has_input_names():
        return list(enumerate(schema.inputs))
    where = {label: i for i, label in enumerate(frame.columns)}
    return [(where[spec.name], spec) for spec in schema.inputs if spec.name in where]


def _convert_frame(frame: Any, schema: Schema):
    """Convert the columns that need it; the frame is copied (shallowly) only if some column changed."""
    dtypes = _column_dtypes(frame)
    todo = [(i, spec) for i, spec in _positions(frame, schema) if not _fits(dtypes[i], spec)]
    result = frame
    for position, spec in todo:
        series = frame.iloc[:, position]
        name = spec.name if spec.name is not None else frame.columns[position]
        converted = _convert_column(series, spec, name)
        if converted is not series and converted.dtype != series.dtype:
            if result is frame:
                result = frame.copy(deep=False)
            result.isetitem(position, converted)
    return result


# ---------------------------------------------------------------- tensors

def _check_tensor(array: Any, spec: Any, label: str):
    import numpy as np

    if not isinstance(array, np.ndarray):
        raise _fail(f"{label}: expected a numpy array, got {type(array).__name__}. Pass np.asarray(...) "
                    f"with dtype {spec.type.name}.")
    if array.dtype != spec.type:
        raise _fail(f"{label}: dtype of input {array.dtype} does not match expected dtype {spec.type}. "
                    f"Cast it with .astype('{spec.type}').")
    fits = len(array.shape) == len(spec.shape) and all(
        w in (-1, a) for w, a in zip(spec.shape, array.shape, strict=True))
    if not fits:
        raise _fail(f"{label}: shape of input {array.shape} does not match expected shape {spec.shape} "
                    "(-1 is any size).")
    return array


def _enforce_tensors(data: Any, schema: Schema):
    import pandas as pd

    if schema.has_input_names():
        if isinstance(data, pd.DataFrame):
            data = {c: data[c].to_numpy() for c in data.columns}
        if not isinstance(data, dict):
            raise _fail(f"The model takes named tensors {schema.input_names()}; pass a dict of numpy arrays.")
        missing = [s.name for s in schema.inputs if s.name not in data]
        if missing:
            raise _fail(f"Model is missing inputs {missing}. Pass a dict with every named tensor.")
        return {s.name: _check_tensor(data[s.name], s, f"Tensor {s.name!r}") for s in schema.inputs}
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    return _check_tensor(data, schema.inputs[0], "Input")


def enforce_input(data: Any, schema: Schema) -> Any:
    """Make ``data`` fit ``schema`` as MLflow's ``predict`` does, or raise ``SchemaEnforcementError``.

    A DataFrame whose columns already have the schema's types and order is returned as is (no copy).
    """
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    frame = _to_frame(data, schema)
    frame = _match_named(frame, schema) if schema.has_input_names() else _match_positional(frame, schema)
    return _convert_frame(frame, schema)


# ---------------------------------------------------------------- params

def _param_error(spec: ParamSpec, value: Any, why: str) -> str:
    return (f"Failed to validate type and shape for {spec.name!r}: {spec!r}, error: {why} "
            f"for value `{value!r:.60}`")


def _check_param_value(spec: ParamSpec, value: Any) -> Any:
    """One param value as a Python builtin of the spec's type, or a ValueError saying why not."""
    dtype = spec.dtype
    if isinstance(dtype, Object):
        return _check_value(value, dtype, f"Param {spec.name!r}")
    return check_param_value(dtype, value)


def check_param_value(dtype: DataType, value: Any) -> Any:
    """A scalar param value converted as MLflow does (ints to float/double, numpy datetimes to datetime)."""
    import numpy as np

    if value is None:
        return None
    if dtype == DataType.datetime:
        if isinstance(value, _dt.date):
            return value
        if isinstance(value, (str, np.datetime64)):
            try:
                converted = np.datetime64(value).item()
            except ValueError:
                raise ValueError(f"Failed to convert value `{value}` from type `{type(value)}` to "
                                 "`DataType.datetime`: not an ISO date or datetime") from None
            if isinstance(converted, _dt.date):
                return converted
        raise ValueError(f"Can not safely convert `{type(value)}` to `DataType.datetime`")
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    number = integer or isinstance(value, (float, np.floating))
    checks = {
        DataType.long: integer,
        DataType.integer: integer,
        DataType.double: number,
        DataType.float: number,
        DataType.string: isinstance(value, str),
        DataType.boolean: isinstance(value, (bool, np.bool_)),
    }
    if not checks[dtype]:
        raise ValueError(f"Can not safely convert `{type(value)}` to `DataType.{dtype.name}`")
    cast = {DataType.double: float, DataType.float: float, DataType.long: int, DataType.integer: int,
            DataType.boolean: bool}.get(dtype)
    return cast(value) if cast else value


def _check_param(spec: ParamSpec, value: Any) -> Any:
    import numpy as np

    if spec.shape is None:
        return _check_param_value(spec, value)
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or any(isinstance(v, (list, tuple)) for v in value):
        raise ValueError("expected a 1-D list")
    return [_check_param_value(spec, v) for v in value]


def validate_params(params: dict | None, param_schema: ParamSchema | None) -> dict | None:
    """Validate params against the schema and fill in defaults, as MLflow does.

    Without a schema, non-empty params are dropped with a warning (``predict`` gets ``{}``).
    """
    if param_schema is None:
        if params in (None, {}):
            return params
        what = f"Ignoring provided params: {list(params)}" if isinstance(params, dict) else \
            "Ignoring invalid params (not a dictionary)."
        warnings.warn("`params` can only be specified at inference time if the model signature defines a params "
                      f"schema. This model does not define a params schema. {what} Save the model with a "
                      "signature that has params (infer_signature(..., params={...})) to use them.",
                      UserWarning, stacklevel=3)
        return {}
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise _fail(f"Parameters must be a dictionary. Got type '{type(params).__name__}'.")
    if any(not isinstance(k, str) for k in params):
        warnings.warn("Keys in parameters should be of type `str`; converting all keys to str.", UserWarning,
                      stacklevel=3)
        params = {str(k): v for k, v in params.items()}
    known = {p.name: p for p in param_schema.params}
    unknown = [k for k in params if k not in known]
    if unknown:
        warnings.warn(f"Unrecognized params {unknown} are ignored for inference. Supported params are: "
                      f"{set(known)}.", UserWarning, stacklevel=3)
    result, errors = {}, set()
    for name, spec in known.items():
        if name not in params:
            result[name] = spec.default
            continue
        try:
            result[name] = _check_param(spec, params[name])
        except (ValueError, SchemaEnforcementError) as exc:
            errors.add((name, _param_error(spec, params[name], str(exc))))
    if errors:
        raise _fail(f"Invalid parameters found: {errors}. Pass values of the declared types "
                    "(see the model's params schema).")
    return result
