"""Input examples: writing ``input_example.json`` / ``serving_input_example.json`` and reading them back.

Deviation from MLflow: missing values are written as JSON ``null``, never as bare ``NaN`` tokens,
so both files are strict JSON.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
from pathlib import Path
from typing import Any

from ..errors import ModelSaveError

__all__ = [
    "SERVING_FILE",
    "split_example",
    "save_input_example",
    "load_input_example",
    "to_json_value",
    "prediction_to_json",
]

EXAMPLE_FILE = "input_example.json"
SERVING_FILE = "serving_input_example.json"


def split_example(example: Any) -> tuple[Any, dict | None]:
    """``(data, params)`` of an example given as ``data`` or as ``(data, params_dict)``."""
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
        return example[0], example[1]
    return example, None


def to_json_value(value: Any) -> Any:
    """A JSON-native copy of ``value``: numpy scalars unwrapped, NaN as None, datetimes as ISO text."""
    import numpy as np

    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, int):
        return value
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return None if np.isnat(value) else str(np.datetime_as_string(value))
        return to_json_value(value.item())
    if isinstance(value, (bytes, bytearray)):
        return base64.encodebytes(bytes(value)).decode("ascii")
    if isinstance(value, (_dt.datetime, _dt.date)):
        try:
            import pandas as pd

            if value is pd.NaT:
                return None
        except ImportError:  # pragma: no cover - pandas is a dependency
            pass
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return (
            [to_json_value(v) for v in value.tolist()] if value.dtype.kind in "OMm" else to_json_value(value.tolist())
        )
    if _is_missing(value):
        return None
    raise TypeError(f"{type(value).__module__}.{type(value).__qualname__} is not JSON serialisable")


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, dict)) else False
    except (TypeError, ValueError):
        return False


def _frame_payload(frame: Any) -> tuple[dict, str]:
    import pandas as pd

    default = isinstance(frame.columns, pd.RangeIndex) and frame.columns.start == 0 and frame.columns.step == 1
    data = [to_json_value(list(row)) for row in frame.itertuples(index=False, name=None)]
    if default:
        return {"data": data}, "values"
    return {"columns": [to_json_value(c) for c in frame.columns], "data": data}, "split"


def _describe(data: Any) -> tuple[str, Any, dict, dict]:
    """(type, file payload, serving payload, extra info) of the example's data part."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.Series):
        raise ModelSaveError(
            "A pandas Series cannot be an input example (MLflow refuses it too). Use series.to_frame() or a list."
        )
    if isinstance(data, pd.DataFrame):
        payload, orient = _frame_payload(data)
        return "dataframe", payload, {"dataframe_split": payload}, {"pandas_orient": orient}
    if isinstance(data, np.ndarray):
        payload = to_json_value(data)
        return "ndarray", payload, {"inputs": payload}, {}
    if isinstance(data, dict) and data and all(isinstance(v, np.ndarray) for v in data.values()):
        payload = to_json_value(data)
        return "ndarray", payload, {"inputs": payload}, {}
    try:
        payload = to_json_value(data)
    except TypeError as exc:
        raise ModelSaveError(
            f"The input example cannot be written as JSON: {exc}. Use a DataFrame, array, dict, list or scalar."
        ) from None
    serving = payload if isinstance(data, dict) and "messages" in data else {"inputs": payload}
    return "json_object", payload, serving, {}


def save_input_example(example: Any, directory: str | os.PathLike) -> dict[str, Any]:
    """Write the example files into ``directory``; return ``saved_input_example_info`` for MLmodel."""
    data, params = split_example(example)
    kind, payload, serving, extra = _describe(data)
    info: dict[str, Any] = {"artifact_path": EXAMPLE_FILE, "serving_input_path": SERVING_FILE, "type": kind, **extra}
    if params is not None:
        params_json = to_json_value(params)
        payload = {"inputs": payload, "params": params_json}
        serving = {**serving, "params": params_json}
        info["params"] = "true"
    directory = Path(directory)
    (directory / EXAMPLE_FILE).write_text(json.dumps(payload, allow_nan=False), encoding="utf-8")
    (directory / SERVING_FILE).write_text(json.dumps(serving, indent=2, allow_nan=False), encoding="utf-8")
    return info


def _typed_frame(payload: dict, orient: str | None, schema: Any):
    import pandas as pd

    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise ValueError("a dataframe example needs a 'data' list")
    columns = payload.get("columns") if orient == "split" else None
    frame = pd.DataFrame(payload["data"], columns=columns)
    if schema is None or schema.is_tensor_spec() or len(schema.inputs) != frame.shape[1]:
        return frame
    from .types import DataType

    for position, spec in enumerate(schema.inputs):
        if not isinstance(spec.type, DataType):
            continue
        column = frame.iloc[:, position]
        try:
            if spec.type == DataType.datetime:
                frame.isetitem(position, pd.to_datetime(column).array)
            elif (spec.type in (DataType.long, DataType.integer) and not column.isna().any()) or spec.type in (
                DataType.double,
                DataType.float,
            ):
                frame.isetitem(position, column.astype(spec.type.to_numpy()).to_numpy())
        except (TypeError, ValueError):
            continue
    return frame


def _typed_array(payload: Any, schema: Any):
    import numpy as np

    if isinstance(payload, dict):
        specs = {s.name: s for s in schema.inputs} if schema is not None and schema.is_tensor_spec() else {}
        return {k: np.asarray(v, dtype=specs[k].type if k in specs else None) for k, v in payload.items()}
    dtype = schema.inputs[0].type if schema is not None and schema.is_tensor_spec() else None
    return np.asarray(payload, dtype=dtype)


def load_input_example(directory: str | os.PathLike, info: dict, schema: Any = None) -> Any:
    """Read the saved example (ours or MLflow's); ``(data, params)`` when it was saved with params."""
    text = (Path(directory) / info["artifact_path"]).read_text(encoding="utf-8")
    payload = json.loads(text)  # also accepts MLflow's bare NaN tokens
    params = None
    if info.get("params") in ("true", True):
        params, payload = payload.get("params"), payload.get("inputs")
    kind = info.get("type")
    if kind == "dataframe":
        data = _typed_frame(payload, info.get("pandas_orient"), schema)
    elif kind == "ndarray":
        data = _typed_array(payload, schema)
    else:
        data = payload
    return (data, params) if params is not None else data


def prediction_to_json(output: Any) -> Any:
    """The body a scoring server would send for ``output``; ``TypeError`` names what cannot be sent."""
    import numpy as np
    import pandas as pd

    if isinstance(output, pd.DataFrame):
        return {"predictions": to_json_value(output.to_dict(orient="records"))}
    if isinstance(output, pd.Series):
        return {"predictions": to_json_value(output.tolist())}
    if isinstance(output, np.ndarray):
        return {"predictions": to_json_value(output)}
    return {"predictions": to_json_value(output)}
