"""``spark_udf``: score a Spark DataFrame with a saved model, loaded by our loader on the executors.

The model directory is packed into one archive and shipped with ``SparkContext.addFile``; each
executor's Python worker unpacks it once and loads it once with ``format.load.load_model_dir``
(MLflow is not needed there). pyspark is imported only inside these functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import PyfuncError

__all__ = ["spark_udf", "SparkUdfError", "SUPPORTED_RESULT_TYPES"]

SUPPORTED_RESULT_TYPES = (
    "int",
    "long",
    "float",
    "double",
    "string",
    "boolean",
    "array<...> of those (nested too)",
    "struct<field: any of those, ...>",
)

# archive name -> loaded model, per executor Python worker (workers are reused between tasks)
_LOADED: dict[str, Any] = {}


class SparkUdfError(PyfuncError, ValueError):
    """``spark_udf`` was given something it cannot score with (no pyspark, a bad result type, columns)."""


def _pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkUdfError(
            "spark_udf needs pyspark, which is not installed here. Install it with "
            "`pip install 'pyfunc-jupyter[spark]'` (or `pip install pyspark`)."
        ) from exc


def _spark_type(data_type: Any) -> Any:
    """The Spark type of a signature type (a ``DataType`` or an ``Array``), or None if Spark has none."""
    from pyspark.sql import types as T

    from .format.types import Array, DataType

    scalar = {
        DataType.boolean: T.BooleanType,
        DataType.integer: T.IntegerType,
        DataType.long: T.LongType,
        DataType.float: T.FloatType,
        DataType.double: T.DoubleType,
        DataType.string: T.StringType,
        DataType.binary: T.BinaryType,
        DataType.datetime: T.TimestampType,
    }
    if isinstance(data_type, DataType):
        return scalar[data_type]()
    if isinstance(data_type, Array):
        element = _spark_type(data_type.dtype)
        return None if element is None else T.ArrayType(element)
    return None


def infer_result_type(output_schema: Any) -> Any:
    """The result type MLflow would pick from an output schema: the one column's type, a struct of
    named columns, or ``double`` when the schema says nothing usable."""
    from pyspark.sql import types as T

    from .format.schema import ColSpec

    if output_schema is None or output_schema.is_tensor_spec():
        return T.DoubleType()
    specs = [s for s in output_schema.inputs if isinstance(s, ColSpec)]
    types = [_spark_type(s.type) for s in specs]
    if any(t is None for t in types) or not specs:
        return T.DoubleType()
    if len(specs) == 1:
        return types[0]
    if all(s.name is not None for s in specs):
        return T.StructType([T.StructField(str(s.name), t) for s, t in zip(specs, types, strict=True)])
    return T.DoubleType()


def _check_result_type(result_type: Any) -> bool:
    from pyspark.sql import types as T

    primitive = (T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.StringType, T.BooleanType)
    if type(result_type) in primitive:
        return True
    if isinstance(result_type, T.ArrayType):
        return _check_result_type(result_type.elementType)
    if isinstance(result_type, T.StructType):
        return bool(result_type.fields) and all(
            _check_result_type(f.dataType) and not isinstance(f.dataType, T.StructType) for f in result_type.fields
        )
    return False


def parse_result_type(result_type: Any, output_schema: Any) -> Any:
    """A Spark ``DataType`` from a type, a DDL string (``"double"``, ``"array<long>"``, ``"a long, b string"``)
    or None (inferred from the output schema)."""
    from pyspark.sql import types as T

    if result_type is None:
        return infer_result_type(output_schema)
    if isinstance(result_type, str):
        text = result_type.strip()
        text = {"bool": "boolean", "integer": "int"}.get(text.lower(), text)
        try:
            parsed = T._parse_datatype_string(text)
        except Exception as exc:  # pyspark raises parse errors of several kinds
            raise SparkUdfError(
                f"result_type {result_type!r} is not a Spark type ({str(exc).splitlines()[0]}). "
                f"Use one of: {', '.join(SUPPORTED_RESULT_TYPES)}, e.g. 'double' or "
                "'array<double>' or 'label string, score double'."
            ) from exc
        result_type = parsed
    if not isinstance(result_type, T.DataType):
        raise SparkUdfError(
            f"result_type must be a pyspark.sql.types.DataType or a DDL string, not "
            f"{type(result_type).__name__}. Pass e.g. 'double' or DoubleType()."
        )
    if not _check_result_type(result_type):
        raise SparkUdfError(
            f"result_type {result_type.simpleString()} cannot hold a prediction. Use one of: "
            f"{', '.join(SUPPORTED_RESULT_TYPES)}."
        )
    return result_type


def _pack(model_dir: Path) -> Path:
    """The model directory as one zip in a fresh temporary folder (what ``addFile`` ships)."""
    import atexit
    import hashlib
    import shutil
    import tempfile
    import zipfile

    digest = hashlib.sha256()
    files = []
    for root, dirs, names in os.walk(model_dir):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            relative = path.relative_to(model_dir).as_posix()
            files.append((path, relative))
            stat = path.stat()
            digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    # A new name per model content and call: addFile refuses a name twice with different contents.
    folder = Path(tempfile.mkdtemp(prefix="pyfunc-spark-"))
    # the driver serves the file to executors for the session's life; gone when this interpreter exits
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    archive = folder / f"pyfunc-model-{digest.hexdigest()[:16]}-{os.urandom(4).hex()}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path, relative in files:
            out.write(path, relative)
    return archive


def _unpacked(archive_name: str) -> Path:
    """The shipped model directory on this executor: unpacked once (atomically) beside the shipped file."""
    import tempfile
    import zipfile

    from pyspark import SparkFiles

    shipped = Path(SparkFiles.get(archive_name))
    target = shipped.parent / (archive_name[: -len(".zip")] + ".d")
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=shipped.parent))
    with zipfile.ZipFile(shipped) as archive:
        archive.extractall(staging)
    try:
        os.rename(staging, target)
    except OSError:  # another worker on this host unpacked it first
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise
    return target


def _model(archive_name: str, model_config: dict | None) -> Any:
    model = _LOADED.get(archive_name)
    if model is None:
        from .format.load import load_model_dir

        model = _LOADED[archive_name] = load_model_dir(
            _unpacked(archive_name), suppress_warnings=True, model_config=model_config
        )
    return model


def _input_frame(args: tuple, names: list[str] | None):
    import pandas as pd

    if len(args) == 1 and isinstance(args[0], pd.DataFrame):
        return args[0]  # udf(struct(...)): the struct's fields are the columns
    if names is None:
        names = [str(i) for i in range(len(args))]
    columns = {}
    for name, arg in zip(names, args, strict=False):  # fewer columns than names: the leading ones
        # a struct column among several arrives as a DataFrame: one dict per row, as MLflow does
        columns[name] = arg if isinstance(arg, pd.Series) else pd.Series(arg.to_dict("records"), index=arg.index)
    return pd.DataFrame(columns, columns=list(columns))


def _frame(prediction: Any):
    import numpy as np
    import pandas as pd

    if isinstance(prediction, pd.DataFrame):
        return prediction
    if isinstance(prediction, pd.Series):
        return prediction.to_frame()
    if isinstance(prediction, dict):
        return pd.DataFrame({k: list(v) for k, v in prediction.items()})
    if np.isscalar(prediction):
        return pd.DataFrame([prediction])
    return pd.DataFrame(prediction)


def _nested(value: Any) -> Any:
    """A cell of a nested-array result as plain lists."""
    import numpy as np

    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_nested(v) for v in value]
    return value


def _fits(dtype: Any, element: Any) -> bool:
    """Whether a column of ``dtype`` can give a value of Spark type ``element`` (MLflow's rules)."""
    import numpy as np
    from pyspark.sql import types as T

    kind = type(element)
    if kind is T.IntegerType:
        return dtype in (np.byte, np.ubyte, np.short, np.ushort, np.int32)
    if kind is T.LongType:
        return dtype in (np.byte, np.ubyte, np.short, np.ushort, np.int32, np.int64)
    if kind in (T.FloatType, T.DoubleType):
        return getattr(dtype, "kind", "O") in ("i", "u", "f", "c")  # numbers, not booleans
    if kind is T.BooleanType:
        return dtype == np.bool_
    return True  # StringType: every column, as text


def _cast(column: Any, element: Any):
    import numpy as np
    from pyspark.sql import types as T

    kind = type(element)
    if kind is T.StringType:
        return column.map(str)
    target = {
        T.IntegerType: np.int32,
        T.LongType: np.int64,
        T.FloatType: np.float32,
        T.DoubleType: np.float64,
        T.BooleanType: bool,
    }[kind]
    return column if column.dtype == target else column.astype(target)


def _select(frame: Any, element: Any, first_only: bool = False) -> list:
    """The columns of ``frame`` a value of Spark type ``element`` can hold, cast to it (MLflow's rules);
    only the leftmost one when ``first_only``."""
    out = []
    for index in range(frame.shape[1]):
        column = frame.iloc[:, index]
        if _fits(column.dtype, element):
            out.append(_cast(column, element))
            if first_only:
                break
    return out


def _result(prediction: Any, result_type: Any, rows: int):
    """The prediction as the Series (or, for a struct, the DataFrame) Spark expects of ``result_type``."""
    import pandas as pd
    from pyspark.sql import types as T

    if isinstance(result_type, T.StructType):
        frame = _frame(prediction)
        missing = [f.name for f in result_type.fields if f.name not in frame.columns]
        if missing:
            raise SparkUdfError(
                f"The prediction has no column {missing[0]!r} for the result struct "
                f"{result_type.simpleString()} (it has {[str(c) for c in frame.columns]}). "
                "Name the struct's fields after the prediction's columns."
            )
        out = {}
        for field in result_type.fields:
            column = frame[[field.name]]
            if isinstance(field.dataType, T.ArrayType):
                out[field.name] = column[field.name].map(_nested)
            else:
                selected = _select(column, field.dataType)
                if not selected:
                    raise SparkUdfError(
                        f"The prediction's column {field.name!r} ({column[field.name].dtype}) "
                        f"cannot be {field.dataType.simpleString()}; ask for a string field instead."
                    )
                out[field.name] = selected[0]
        return pd.DataFrame(out).reset_index(drop=True)
    if isinstance(result_type, T.ArrayType) and isinstance(result_type.elementType, T.ArrayType):
        values = prediction.tolist() if hasattr(prediction, "tolist") else list(prediction)
        return pd.Series([_nested(v) for v in values])
    element = result_type.elementType if isinstance(result_type, T.ArrayType) else result_type
    array = isinstance(result_type, T.ArrayType)
    selected = _select(_frame(prediction), element, first_only=not array)
    if not selected:
        raise SparkUdfError(
            f"The model's prediction has no values of the requested type "
            f"{element.simpleString()}; ask for 'string' or 'array<string>' instead."
        )
    if array:
        return pd.Series(pd.concat(selected, axis=1).to_numpy().tolist())
    series = selected[0].reset_index(drop=True)
    if len(series) == 1 and rows != 1:
        series = pd.Series([series.iloc[0]] * rows)  # a scalar prediction for the whole batch
    return series


def _predict_batches(
    batches,
    archive_name: str,
    names: list[str] | None,
    result_type: Any,
    params: dict | None,
    model_config: dict | None,
):
    """The body of the pandas UDF: load once, then predict each Arrow batch."""
    model = _model(archive_name, model_config)
    for batch in batches:
        args = batch if isinstance(batch, tuple) else (batch,)
        frame = _input_frame(args, names)
        yield _result(model.predict(frame, params), result_type, len(frame))


def spark_udf(
    spark: Any,
    model_uri: str | os.PathLike,
    result_type: Any = None,
    *,
    params: dict | None = None,
    model_config: dict | None = None,
):
    """A Spark UDF that scores with the model at ``model_uri`` (a path, ``models:/`` or ``runs:/`` URI).

    Like ``mlflow.pyfunc.spark_udf``: ``result_type`` is a Spark type or DDL string (``"double"``,
    ``"array<double>"``, ``"label string, score double"``), inferred from the output schema when
    None; call the UDF with the input columns in the signature's order (``udf("a", "b")``), with
    one struct (``udf(struct("a", "b"))``, the fields named as the model expects), or with no
    arguments to use the signature's input names. Executors need pyfunc-jupyter, pandas and pyarrow,
    not MLflow: the model directory itself is shipped to them.
    """
    _pyspark()
    from pyspark.sql import types as T
    from pyspark.sql.functions import col, pandas_udf

    from .format.enforce import validate_params
    from .format.load import ModelMetadata
    from .format.mlmodel import read_mlmodel
    from .store.loading import resolve_model_dir

    model_dir = resolve_model_dir(model_uri)
    metadata = ModelMetadata(read_mlmodel(model_dir), model_dir)
    signature = metadata.signature
    input_schema = signature.inputs if signature is not None else None
    output_schema = signature.outputs if signature is not None else None
    result_type = parse_result_type(result_type, output_schema)
    if params is not None or (signature is not None and signature.params is not None):
        params = validate_params(params, signature.params if signature is not None else None)
    names = None
    required: list[str] = []
    if input_schema is not None and input_schema.has_input_names():
        names = [str(n) for n in input_schema.input_names()]
        required = [str(n) for n in input_schema.required_input_names()]
    try:
        context = spark.sparkContext
    except Exception as exc:  # Spark Connect sessions have no SparkContext
        raise SparkUdfError(
            "spark_udf needs a classic SparkSession (with a SparkContext) to ship the model "
            "to the executors; Spark Connect sessions are not supported yet."
        ) from exc
    archive = _pack(model_dir)
    context.addFile(str(archive))
    archive_name = archive.name
    struct = isinstance(result_type, T.StructType)
    from typing import Iterator, Tuple, Union  # noqa: UP035 - pandas_udf reads these annotations at run time

    import pandas as pd

    def predict(iterator):
        yield from _predict_batches(iterator, archive_name, names, result_type, params, model_config)

    # pandas_udf reads the kind of UDF from real annotations (this module's are strings)
    predict.__annotations__ = {
        "iterator": Iterator[Tuple[Union[pd.Series, pd.DataFrame], ...]],  # noqa: UP006, UP007
        "return": Iterator[pd.DataFrame] if struct else Iterator[pd.Series],
    }

    udf = pandas_udf(predict, result_type)  # type: ignore[call-overload]

    def call(*columns: Any):
        if not columns:
            if names is None:
                raise SparkUdfError(
                    "The model's signature names no input columns, so the UDF cannot pick them: "
                    "pass the columns, e.g. udf('x', 'y') or udf(struct('x', 'y'))."
                )
            columns = tuple(col(n) for n in names)
        elif names is not None and len(columns) > 1:
            if len(columns) > len(names):
                raise SparkUdfError(
                    f"The UDF got {len(columns)} columns but the model takes {len(names)} "
                    f"({', '.join(names)}): pass them in that order, or one struct."
                )
            if len(columns) < len(required):
                raise SparkUdfError(
                    f"The UDF got {len(columns)} columns but the model requires {len(required)} "
                    f"({', '.join(required)}): pass them in that order, or one struct."
                )
        return udf(*columns)

    call.__name__ = call.__qualname__ = "pyfunc_jupyter_spark_udf"
    call.__doc__ = f"Score with the model at {model_dir} (result type {result_type.simpleString()})."
    call.model_dir = model_dir  # type: ignore[attr-defined]
    call.result_type = result_type  # type: ignore[attr-defined]
    call.archive = archive  # type: ignore[attr-defined]
    return call
