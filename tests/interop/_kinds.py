"""Model kinds shared by the interop tests, kept as source text so either interpreter can run them.

This file is imported by the tests (our interpreter, no MLflow) *and* sent verbatim as the program
of a subprocess of the MLflow interpreter (``program(...)`` appends one call). It therefore imports
only the standard library at module level; pandas, numpy, MLflow and pyfunc_jupyter are imported
inside the functions that need them.

Each model kind is executed, like a notebook cell, in a fresh namespace whose ``__name__`` is
``__main__`` so that cloudpickle pickles its classes and functions *by value*. The only line that
differs between the two sides is the base-class import (``BASE_IMPORT``).

A kind is a dict with:

* ``model``: the cell that defines the model (``PythonModel`` is already imported);
* ``python_model``: an expression, evaluated in the cell's namespace, giving the object to save;
* ``setup``: code run first with ``workdir`` (a ``pathlib.Path``) bound, to write artifact or
  helper files;
* ``save``: an expression giving the save/log keyword arguments (names available: ``pd``, ``np``,
  ``workdir``, ``infer_signature`` of the side that saves);
* ``calls``: ``[label, method, input expression, params expression]`` run against the loaded model;
* ``load_configs``: extra loads with ``load_model(dir, model_config=...)``, by variant name;
* ``expect``: the rows of a few results, as a check that the kind really does what it says;
* ``sides``: which base classes the kind is written with (``ours``/``mlflow``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import textwrap
import traceback

MARK = "@@INTEROP-RESULT@@"

BASE_IMPORT = {
    "ours": "from pyfunc_jupyter import PythonModel\n",
    "mlflow": "from mlflow.pyfunc import PythonModel\n",
}

_EXAMPLE = "pd.DataFrame([10, 20, 30])"
_ONE_COLUMN_CALLS = [
    ["df", "predict", "pd.DataFrame([1, 2, 3])", None],
    ["list", "predict", "[1, 2, 3]", None],
    ["series", "predict", "pd.Series([1, 2])", None],
    ["scalar", "predict", "4", None],
    ["int32_frame", "predict", "pd.DataFrame([1, 2, 3], dtype='int32')", None],
    ["float_frame_refused", "predict", "pd.DataFrame([1.5, 2.5])", None],
    ["params_without_schema", "predict", "pd.DataFrame([1])", "{'k': 1}"],
]

KINDS: dict[str, dict] = {
    # (a) the guide's SimpleLinearModel
    "a_class": {
        "model": """
            import pandas as pd

            class SimpleLinearModel(PythonModel):
                def predict(self, context, model_input):
                    return pd.DataFrame(2 * model_input + 3)
        """,
        "python_model": "SimpleLinearModel()",
        "save": f"dict(input_example={_EXAMPLE})",
        "calls": _ONE_COLUMN_CALLS,
        "expect": {"df": [[5], [7], [9]], "list": [[5], [7], [9]]},
        "infer_requirements": True,  # one MLflow-written model keeps MLflow's default requirements
    },
    # (b) a function model
    "b_function": {
        "model": """
            import pandas as pd

            def predict(model_input):
                return pd.DataFrame(2 * model_input + 3)
        """,
        "python_model": "predict",
        "save": f"dict(input_example={_EXAMPLE})",
        "calls": _ONE_COLUMN_CALLS,
        "expect": {"df": [[5], [7], [9]], "list": [[5], [7], [9]]},
    },
    # (c) __init__ parameters
    "c_init_params": {
        "model": """
            import pandas as pd

            class ParameterizedLinearModel(PythonModel):
                def __init__(self, slope, intercept):
                    self.slope = slope
                    self.intercept = intercept

                def predict(self, context, model_input):
                    return pd.DataFrame(self.slope * model_input + self.intercept)
        """,
        "python_model": "ParameterizedLinearModel(10, 20)",
        "save": f"dict(input_example={_EXAMPLE})",
        "calls": _ONE_COLUMN_CALLS[:3],
        "expect": {"df": [[30], [40], [50]]},
    },
    # (d) inference params with a params schema
    "d_inference_params": {
        "model": """
            import pandas as pd

            class LinearFunctionInferenceParams(PythonModel):
                def predict(self, context, model_input, params):
                    slope = params["slope"]
                    return pd.DataFrame(slope * model_input + params["intercept"])
        """,
        "python_model": "LinearFunctionInferenceParams()",
        "save": f"dict(signature=infer_signature({_EXAMPLE}, params={{'slope': 2, 'intercept': 3}}))",
        "calls": [
            ["custom", "predict", _EXAMPLE, "{'slope': 2, 'intercept': 10}"],
            ["defaults", "predict", _EXAMPLE, None],
            ["empty_dict", "predict", _EXAMPLE, "{}"],
            ["partial", "predict", _EXAMPLE, "{'intercept': 0}"],
            ["unknown_key_ignored", "predict", _EXAMPLE, "{'slope': 1, 'bogus': 5}"],
            ["numpy_int", "predict", _EXAMPLE, "{'slope': np.int64(4)}"],
            ["str_refused", "predict", _EXAMPLE, "{'slope': 'abc'}"],
            ["float_for_long_refused", "predict", _EXAMPLE, "{'slope': 2.0}"],
            ["bool_for_long_refused", "predict", _EXAMPLE, "{'slope': True}"],
            ["none_value", "predict", _EXAMPLE, "{'intercept': None, 'slope': 1}"],
            ["not_a_dict", "predict", _EXAMPLE, "[('slope', 1)]"],
        ],
        "expect": {"custom": [[30], [50], [70]], "defaults": [[23], [43], [63]]},
    },
    # (e) artifacts read in load_context
    "e_artifacts": {
        "setup": """
            (workdir / "inputs").mkdir(exist_ok=True)
            (workdir / "inputs" / "weights.json").write_text('{"slope": 3, "intercept": 1}')
        """,
        "model": """
            import json
            import os

            import pandas as pd

            class ArtifactModel(PythonModel):
                def load_context(self, context):
                    path = context.artifacts["weights"]
                    with open(path) as f:
                        weights = json.load(f)
                    self.slope, self.intercept = weights["slope"], weights["intercept"]
                    self.loaded_from = os.path.join(os.path.basename(os.path.dirname(path)),
                                                    os.path.basename(path))
                    self.absolute = os.path.isabs(path)
                    self.artifact_names = sorted(context.artifacts)

                def predict(self, context, model_input, params=None):
                    out = pd.DataFrame({"y": self.slope * model_input[0] + self.intercept})
                    out["loaded_from"] = self.loaded_from
                    out["absolute"] = self.absolute
                    out["names"] = ",".join(self.artifact_names)
                    out["same_context"] = context.artifacts["weights"].endswith(self.loaded_from)
                    return out
        """,
        "python_model": "ArtifactModel()",
        "save": f"dict(artifacts={{'weights': str(workdir / 'inputs' / 'weights.json')}}, input_example={_EXAMPLE})",
        "calls": [["df", "predict", "pd.DataFrame([1, 2, 3])", None]],
        "expect": {
            "df": [
                [4, "artifacts/weights.json", True, "weights", True],
                [7, "artifacts/weights.json", True, "weights", True],
                [10, "artifacts/weights.json", True, "weights", True],
            ]
        },
    },
    # (f) a helper module shipped with code_paths and imported at module level of the cell
    "f_code_paths": {
        "setup": """
            helpers = workdir / "helpers"
            helpers.mkdir(exist_ok=True)
            (helpers / "helpers_mod.py").write_text(
                "SCALE = 10\\n\\n"
                "def transform(frame):\\n"
                "    return frame * SCALE + 1\\n"
            )
            sys.path.insert(0, str(helpers))
        """,
        "model": """
            import os

            import pandas as pd

            import helpers_mod

            class CodePathModel(PythonModel):
                def predict(self, context, model_input, params=None):
                    out = pd.DataFrame(helpers_mod.transform(model_input))
                    out["helper_dir"] = os.path.basename(os.path.dirname(helpers_mod.__file__))
                    return out
        """,
        "python_model": "CodePathModel()",
        "save": f"dict(code_paths=[str(workdir / 'helpers' / 'helpers_mod.py')], input_example={_EXAMPLE})",
        "calls": [["df", "predict", "pd.DataFrame([1, 2, 3])", None]],
        "expect": {"df": [[11, "code"], [21, "code"], [31, "code"]]},
    },
    # (g) model_config read in load_context (and through the predict context)
    "g_model_config": {
        "model": """
            import pandas as pd

            class ConfigModel(PythonModel):
                def load_context(self, context):
                    self.multiplier = context.model_config["multiplier"]
                    self.keys = ",".join(sorted(context.model_config))

                def predict(self, context, model_input, params=None):
                    return pd.DataFrame({"y": self.multiplier * model_input[0],
                                         "from_context": context.model_config["multiplier"],
                                         "keys": self.keys})
        """,
        "python_model": "ConfigModel()",
        "save": f"dict(model_config={{'multiplier': 2, 'name': 'cfg'}}, input_example={_EXAMPLE})",
        "calls": [["df", "predict", "pd.DataFrame([1, 2, 3])", None]],
        "load_configs": {"override": {"multiplier": 5}, "unknown_key": {"nope": 1}},
        "expect": {"df": [[2, 2, "multiplier,name"], [4, 2, "multiplier,name"], [6, 2, "multiplier,name"]]},
    },
    # (h) predict_stream with a string input signature
    "h_predict_stream": {
        "model": """
            import pandas as pd

            class StreamModel(PythonModel):
                def predict(self, context, model_input, params=None):
                    text = model_input[0].iloc[0] if isinstance(model_input, pd.DataFrame) else model_input
                    return [ch.upper() for ch in text]

                def predict_stream(self, context, model_input, params=None):
                    for ch in model_input:
                        yield ch.upper()
        """,
        "python_model": "StreamModel()",
        "save": "dict(input_example='xy')",
        "calls": [
            ["predict_str", "predict", "'xy'", None],
            ["predict_list", "predict", "['xy']", None],
            ["stream_str", "predict_stream", "'xy'", None],
            ["stream_list", "predict_stream", "['xyz']", None],
            ["stream_frame", "predict_stream", "pd.DataFrame(['ab'])", None],
            ["stream_two_inputs_refused", "predict_stream", "['ab', 'cd']", None],
            ["stream_int_refused", "predict_stream", "5", None],
        ],
        "expect": {"stream_str": ["X", "Y"]},
    },
    # (i) a module imported inside predict
    "i_import_in_predict": {
        "model": """
            class ImportInsidePredict(PythonModel):
                def predict(self, context, model_input, params=None):
                    import json
                    import math

                    return [json.dumps({"x": int(v), "root": math.sqrt(v)}) for v in model_input[0]]
        """,
        "python_model": "ImportInsidePredict()",
        "save": "dict(input_example=pd.DataFrame([1, 4, 9]))",
        "calls": [
            ["df", "predict", "pd.DataFrame([1, 4, 9])", None],
            ["list", "predict", "[16]", None],
        ],
        "expect": {"list": ['{"x": 16, "root": 4.0}']},
    },
    # (j) named columns of several dtypes: enforcement
    "j_columns": {
        "model": """
            import pandas as pd

            class ColumnsModel(PythonModel):
                def predict(self, context, model_input, params=None):
                    out = model_input.copy()
                    out["dtypes"] = ",".join(str(t) for t in model_input.dtypes)
                    out["columns"] = ",".join(str(c) for c in model_input.columns)
                    return out
        """,
        "python_model": "ColumnsModel()",
        "save": (
            "dict(signature=infer_signature(pd.DataFrame({'a': [1, 2], 'b': [0.5, 1.5], 'c': ['x', 'y']})), "
            "input_example=pd.DataFrame({'a': [1, 2], 'b': [0.5, 1.5], 'c': ['x', 'y']}))"
        ),
        "calls": [
            ["exact", "predict", "pd.DataFrame({'a': [1, 2], 'b': [0.5, 1.5], 'c': ['x', 'y']})", None],
            [
                "extra_column_dropped",
                "predict",
                "pd.DataFrame({'a': [1, 2], 'b': [0.5, 1.5], 'c': ['x', 'y'], 'z': [True, False]})",
                None,
            ],
            [
                "a_int32_upcast",
                "predict",
                "pd.DataFrame({'a': np.array([1, 2], dtype='int32'), 'b': [0.5, 1.5], 'c': ['x', 'y']})",
                None,
            ],
            ["reordered", "predict", "pd.DataFrame({'c': ['x', 'y'], 'b': [0.5, 1.5], 'a': [1, 2]})", None],
            [
                "c_object",
                "predict",
                "pd.DataFrame({'a': [1, 2], 'b': [0.5, 1.5], 'c': pd.Series(['x', 'y'], dtype=object)})",
                None,
            ],
            [
                "a_object_ints",
                "predict",
                "pd.DataFrame({'a': pd.Series([1, 2], dtype=object), 'b': [0.5, 1.5], 'c': ['x', 'y']})",
                None,
            ],
            [
                "b_int32_to_double",
                "predict",
                "pd.DataFrame({'a': [1, 2], 'b': np.array([1, 2], dtype='int32'), 'c': ['x', 'y']})",
                None,
            ],
            [
                "b_float32_to_double",
                "predict",
                "pd.DataFrame({'a': [1, 2], 'b': np.array([0.5, 1.5], dtype='float32'), 'c': ['x', 'y']})",
                None,
            ],
            ["b_int64_refused", "predict", "pd.DataFrame({'a': [1, 2], 'b': [3, 4], 'c': ['x', 'y']})", None],
            ["b_int64_zero_one", "predict", "pd.DataFrame({'a': [1, 2], 'b': [0, 1], 'c': ['x', 'y']})", None],
            ["a_float_refused", "predict", "pd.DataFrame({'a': [1.0, 2.0], 'b': [0.5, 1.5], 'c': ['x', 'y']})", None],
            [
                "a_nullable_int",
                "predict",
                "pd.DataFrame({'a': pd.array([1, 2], dtype='Int64'), 'b': [0.5, 1.5], 'c': ['x', 'y']})",
                None,
            ],
            [
                "a_nullable_int_with_na_refused",
                "predict",
                "pd.DataFrame({'a': pd.array([1, None], dtype='Int64'), 'b': [0.5, 1.5], 'c': ['x', 'y']})",
                None,
            ],
            ["c_with_none", "predict", "pd.DataFrame({'a': [1, 2], 'b': [0.5, 1.5], 'c': ['x', None]})", None],
            ["c_int_refused", "predict", "pd.DataFrame({'a': [1, 2], 'b': [0.5, 1.5], 'c': [1, 2]})", None],
            ["missing_b_refused", "predict", "pd.DataFrame({'a': [1, 2], 'c': ['x', 'y']})", None],
            ["dict_row", "predict", "{'a': 1, 'b': 2.5, 'c': 'q'}", None],
            ["records", "predict", "[{'a': 1, 'b': 2.5, 'c': 'q'}, {'a': 2, 'b': 3.5, 'c': 'r'}]", None],
            ["dict_of_lists", "predict", "{'a': [1, 2], 'b': [2.5, 3.5], 'c': ['q', 'r']}", None],
        ],
        "expect": {"exact": [[1, 0.5, "x", "int64,float64,str", "a,b,c"], [2, 1.5, "y", "int64,float64,str", "a,b,c"]]},
    },
    # predict without a context parameter, with a params schema (MLflow's dispatch by names)
    "l_no_context": {
        "model": """
            import pandas as pd

            class NoContext(PythonModel):
                def predict(self, model_input, params=None):
                    return pd.DataFrame({"x": model_input["x"] * params["p"], "kind": type(model_input).__name__})
        """,
        "python_model": "NoContext()",
        "save": "dict(signature=infer_signature(pd.DataFrame({'x': [1.0, 2.0]}), params={'p': 1}))",
        "calls": [
            ["params", "predict", "pd.DataFrame({'x': [1.0, 2.0]})", "{'p': 7}"],
            ["defaults", "predict", "pd.DataFrame({'x': [1.0, 2.0]})", None],
            ["int32_x_to_double", "predict", "pd.DataFrame({'x': np.array([1, 2], dtype='int32')})", None],
            ["records", "predict", "[{'x': 3.0}]", "{'p': 2}"],
        ],
        "expect": {"params": [[7.0, "DataFrame"], [14.0, "DataFrame"]]},
    },
    # predict(self, ctx, data, **kwargs): the context is passed positionally, params never arrive
    "m_positional_context": {
        "model": """
            class PositionalContext(PythonModel):
                def predict(self, ctx, data, **kwargs):
                    return {"has_context": hasattr(ctx, "artifacts"), "kwargs": sorted(kwargs),
                            "rows": len(data), "type": type(data).__name__}
        """,
        "python_model": "PositionalContext()",
        "save": "dict(signature=infer_signature(pd.DataFrame({'x': [1, 2]}), params={'p': 1}))",
        "calls": [
            ["params", "predict", "pd.DataFrame({'x': [1, 2]})", "{'p': 7}"],
            ["no_params", "predict", "[{'x': 1}]", None],
        ],
        "expect": {},
    },
    # no input example and no signature: the input reaches predict unchanged
    "n_no_signature": {
        "model": """
            class MyModel(PythonModel):
                def predict(self, context, model_input):
                    return model_input ** 2
        """,
        "python_model": "MyModel()",
        "save": "dict()",
        "calls": [
            ["scalar", "predict", "2", None],
            ["float", "predict", "1.5", None],
            ["ndarray", "predict", "np.array([[1, 2], [3, 4]], dtype='int32')", None],
            ["frame", "predict", "pd.DataFrame({'a': [1, 2]})", None],
            ["list_refused", "predict", "[1, 2]", None],
        ],
        "expect": {"scalar": 4},
    },
    # MLflow >= 2.20 type-hinted predict (MLflow side only: the pickle names
    # mlflow.pyfunc.utils.data_validation objects; the signature comes from the hints)
    "k_type_hints": {
        "model": """
            class TypeHinted(PythonModel):
                def predict(self, model_input: list[str], params=None) -> list[str]:
                    return [s.upper() for s in model_input]
        """,
        "python_model": "TypeHinted()",
        "save": "dict(input_example=['a', 'b'])",
        "calls": [
            ["list", "predict", "['a', 'b']", None],
            ["frame_one_str_column", "predict", "pd.DataFrame({'s': ['p', 'q']})", None],
            ["frame_int_then_str", "predict", "pd.DataFrame({'n': [1, 2], 's': ['p', 'q']})", None],
            ["ints_refused", "predict", "[1, 2]", None],
            ["frame_without_str_refused", "predict", "pd.DataFrame({'n': [1, 2]})", None],
        ],
        "expect": {"list": ["A", "B"], "frame_one_str_column": ["P", "Q"]},
        "sides": ["mlflow"],
    },
    # the other hint MLflow converts DataFrames for: list[dict[str, str]] (frame -> records)
    "k2_type_hints_records": {
        "model": """
            class RecordsHinted(PythonModel):
                def predict(self, model_input: list[dict[str, str]], params=None) -> list[str]:
                    return [record["q"] + "!" for record in model_input]
        """,
        "python_model": "RecordsHinted()",
        "save": "dict(input_example=[{'q': 'a'}])",
        "calls": [
            ["records", "predict", "[{'q': 'a'}, {'q': 'b'}]", None],
            ["frame", "predict", "pd.DataFrame({'q': ['x', 'y']})", None],
            ["int_value_refused", "predict", "[{'q': 1}]", None],
        ],
        "expect": {"records": ["a!", "b!"], "frame": ["x!", "y!"]},
        "sides": ["mlflow"],
    },
}

OURS_KINDS = [name for name, kind in KINDS.items() if "ours" in kind.get("sides", ["ours", "mlflow"])]
MLFLOW_KINDS = [name for name, kind in KINDS.items() if "mlflow" in kind.get("sides", ["ours", "mlflow"])]


# --------------------------------------------------------------------------------------------
# Runtime helpers (used in both interpreters)
# --------------------------------------------------------------------------------------------


def _infer_signature(side: str):
    if side == "mlflow":
        from mlflow.models import infer_signature
    else:
        from pyfunc_jupyter import infer_signature
    return infer_signature


# A module's file resolves the same every time: without the cache, resolving the ~1,100 module files
# of an MLflow process on each exit from ``isolated`` was half of the MLflow side's time.
_realpath = functools.lru_cache(maxsize=None)(os.path.realpath)


@contextlib.contextmanager
def isolated(workdir):
    """Restore ``sys.path`` and drop modules imported from ``workdir`` (e.g. helpers_mod) on exit."""
    saved_path = list(sys.path)
    root = os.path.realpath(str(workdir))
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and _realpath(file).startswith(root + os.sep):
                del sys.modules[name]


def define(name: str, side: str, workdir, infer_signature=None):
    """Run kind ``name``'s setup and cell (as ``__main__``); return (python_model, save kwargs).

    Call inside ``isolated(workdir)``: the setup may put a helper directory on ``sys.path``.
    """
    import pathlib

    import numpy as np
    import pandas as pd

    kind = KINDS[name]
    workdir = pathlib.Path(workdir)
    if kind.get("setup"):
        exec(
            compile(textwrap.dedent(kind["setup"]), f"<setup {name}>", "exec"),
            {"workdir": workdir, "sys": sys, "os": os},
        )
    namespace = {"__name__": "__main__"}
    cell = BASE_IMPORT[side] + textwrap.dedent(kind["model"])
    exec(compile(cell, f"<cell {name}>", "exec"), namespace)
    python_model = eval(kind["python_model"], namespace)
    if infer_signature is None:
        infer_signature = _infer_signature(side)
    save_kwargs = eval(kind["save"], {"pd": pd, "np": np, "workdir": workdir, "infer_signature": infer_signature})
    return python_model, save_kwargs


def _plain(value):
    """A JSON-comparable form of one scalar (type-faithful: 1, 1.0 and True stay distinct)."""
    import math

    if hasattr(value, "item") and not isinstance(value, (list, dict, str, bytes)) and getattr(value, "ndim", 0) == 0:
        with contextlib.suppress(ValueError, TypeError):
            value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"float": "NaN" if math.isnan(value) else repr(value)}
    if hasattr(value, "isoformat"):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    return {"repr": repr(value)}


def encode(value):
    """A JSON-able description of a prediction, exact enough to compare type and dtype."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return {
            "type": "DataFrame",
            "columns": [repr(c) for c in value.columns],
            "dtypes": [str(t) for t in value.dtypes],
            "index": [_plain(i) for i in value.index],
            "rows": [[_plain(v) for v in row] for row in value.itertuples(index=False, name=None)],
        }
    if isinstance(value, pd.Series):
        return {
            "type": "Series",
            "name": repr(value.name),
            "dtype": str(value.dtype),
            "index": [_plain(i) for i in value.index],
            "values": [_plain(v) for v in value],
        }
    if isinstance(value, np.ndarray):
        return {
            "type": "ndarray",
            "dtype": str(value.dtype),
            "shape": list(value.shape),
            "values": [encode(v) for v in value.tolist()] if value.ndim else _plain(value),
        }
    if isinstance(value, (list, tuple)):
        return {"type": type(value).__name__, "items": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"type": "dict", "items": [[repr(k), encode(v)] for k, v in value.items()]}
    return {"type": type(value).__name__, "value": _plain(value)}


def rows(encoded):
    """The plain rows (or items) of an encoded result, for the ``expect`` checks."""

    def unplain(v):
        if isinstance(v, dict) and "float" in v:
            return float(v["float"])
        if isinstance(v, dict) and "value" in v:
            return unplain(v["value"])
        return v

    if encoded.get("type") == "DataFrame":
        return [[unplain(v) for v in row] for row in encoded["rows"]]
    if "items" in encoded:
        return [unplain(item) for item in encoded["items"]]
    return unplain(encoded)


def run_calls(model, name: str) -> dict:
    """Run every call of kind ``name`` on a loaded model: label -> encoded result or error."""
    import numpy as np
    import pandas as pd

    out = {}
    for label, method, data_expr, params_expr in KINDS[name]["calls"]:
        data = eval(data_expr, {"pd": pd, "np": np})
        params = eval(params_expr, {"pd": pd, "np": np}) if params_expr else None
        try:
            if method == "predict_stream":
                result = list(model.predict_stream(data, params=params))
            else:
                result = model.predict(data, params=params)
            out[label] = encode(result)
        except Exception as exc:  # noqa: BLE001 - the error is the result being compared
            out[label] = {"error": error_kind(exc), "type": type(exc).__name__, "message": str(exc)[:400]}
    return out


def error_kind(exc: BaseException) -> str:
    """``refused`` when the loader rejected the input or params before the model ran (MLflow's
    ``MlflowException``, our ``PyfuncError`` family); else the exception the model's code raised."""
    names = {klass.__name__ for klass in type(exc).__mro__}
    if names & {"MlflowException", "PyfuncError"}:
        return "refused"
    return f"raised {type(exc).__name__}"


def load_and_call(load_model, directory, name: str, workdir=None) -> dict:
    """Load ``directory`` (plus each ``load_configs`` variant) and run the calls: variant -> results."""
    results = {}
    variants = {"default": None, **KINDS[name].get("load_configs", {})}
    for variant, config in variants.items():
        with isolated(workdir) if workdir else contextlib.nullcontext():
            try:
                model = load_model(str(directory), model_config=config) if config else load_model(str(directory))
            except Exception:  # noqa: BLE001
                results[variant] = {"load_error": traceback.format_exc()[-3000:]}
                continue
            results[variant] = run_calls(model, name)
    return results


def environment() -> dict:
    import importlib.util

    return {
        "pyfunc_jupyter_importable": importlib.util.find_spec("pyfunc_jupyter") is not None,
        "mlflow_importable": importlib.util.find_spec("mlflow") is not None,
        "python": sys.executable,
    }


# --------------------------------------------------------------------------------------------
# Entry points of the MLflow subprocess
# --------------------------------------------------------------------------------------------


def mlflow_load_all(spec: dict) -> dict:
    """Load our directories with ``mlflow.pyfunc.load_model``: {"key": [kind, dir]} -> results."""
    import mlflow.pyfunc

    env = environment()
    env["mlflow_version"] = mlflow.__version__
    return {
        "environment": env,
        "results": {
            key: load_and_call(mlflow.pyfunc.load_model, directory, kind, spec.get("_workdir"))
            for key, (kind, directory) in spec["models"].items()
        },
    }


def _pins() -> list[str]:
    import cloudpickle
    import pandas as pd

    return [f"pandas=={pd.__version__}", f"cloudpickle=={cloudpickle.__version__}"]


def _logged_dir(info) -> str:
    import mlflow

    location = mlflow.get_logged_model(info.model_id).artifact_location
    if location.startswith("file://"):
        location = location[len("file://") :]
    if not os.path.isdir(location):
        location = mlflow.artifacts.download_artifacts(info.model_uri)
    return location


def mlflow_write_all(workdir: str, names: list[str]) -> dict:
    """Save (``save_model``) and log (``log_model`` in a run) every kind with real MLflow; load
    each back with MLflow and run its calls. Returns {kind: {"save"|"log": {dir, results}}}."""
    import warnings

    import mlflow
    import mlflow.pyfunc

    warnings.simplefilter("ignore")
    env = environment()
    env["mlflow_version"] = mlflow.__version__
    out = {}
    for name in names:
        entries = out[name] = {}
        for how in ("save", "log"):
            try:
                with isolated(workdir):
                    python_model, kwargs = define(name, "mlflow", workdir)
                    if not (KINDS[name].get("infer_requirements") and how == "save"):
                        kwargs["pip_requirements"] = _pins()
                    if how == "save":
                        directory = os.path.join(workdir, "saved", name)
                        mlflow.pyfunc.save_model(directory, python_model=python_model, **kwargs)
                        uri = directory
                    else:
                        with mlflow.start_run():
                            info = mlflow.pyfunc.log_model(name=name, python_model=python_model, **kwargs)
                        directory, uri = _logged_dir(info), info.model_uri
            except Exception:  # noqa: BLE001
                entries[how] = {"write_error": traceback.format_exc()[-3000:]}
                continue
            entries[how] = {
                "dir": directory,
                "uri": uri,
                "results": load_and_call(mlflow.pyfunc.load_model, uri, name, workdir),
            }
    return {"environment": env, "models": out}


def ours_with_mlflow_base(workdir: str, names: list[str]) -> dict:
    """MLflow interpreter *with* pyfunc_jupyter importable: classes deriving from MLflow's
    ``PythonModel`` saved by ``pyfunc_jupyter.save_model``, loaded back by both loaders."""
    import warnings

    import mlflow.pyfunc

    import pyfunc_jupyter

    warnings.simplefilter("ignore")
    env = environment()
    env["mlflow_version"] = mlflow.__version__
    out = {}
    for name in names:
        directory = os.path.join(workdir, "ours_mlflow_base", name)
        try:
            with isolated(workdir):
                python_model, kwargs = define(name, "mlflow", workdir, pyfunc_jupyter.infer_signature)
                pyfunc_jupyter.save_model(directory, python_model, **kwargs)
        except Exception:  # noqa: BLE001
            out[name] = {"write_error": traceback.format_exc()[-3000:]}
            continue
        out[name] = {
            "dir": directory,
            "mlflow": load_and_call(mlflow.pyfunc.load_model, directory, name, workdir),
            "ours": load_and_call(pyfunc_jupyter.load_model, directory, name, workdir),
        }
    return {"environment": env, "models": out}


GUIDE_INPUTS = {
    "square": ("2", None),
    "inference_params": ("pd.DataFrame([10, 20, 30])", {"slope": 2, "intercept": 10}),
}


def run_guide_cells(workdir: str, cells: dict) -> dict:
    """MLflow interpreter with pyfunc_jupyter importable: run each guide cell (already ported) as
    a notebook cell, then load what it logged with ``mlflow.pyfunc.load_model`` and print the
    same prediction. ``cells``: {key: [example name, source]}."""
    import io
    import warnings

    import mlflow.pyfunc
    import pandas as pd

    import pyfunc_jupyter

    warnings.simplefilter("ignore")
    out = {}
    for key, (example, source) in cells.items():
        entry = out[key] = {}
        printed = io.StringIO()
        namespace = {"__name__": "__main__"}
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(textwrap.dedent(source), f"<guide {key}>", "exec"), namespace)
            info = namespace["model_info"]
            entry["printed"] = printed.getvalue()
            entry["dir"] = str(info.path)
            data_expr, params = GUIDE_INPUTS.get(example, ("pd.DataFrame([1, 2, 3])", None))
            data = eval(data_expr, {"pd": pd})
            loaded = mlflow.pyfunc.load_model(str(info.path))
            entry["mlflow_printed"] = f"{loaded.predict(data, params=params)}\n"
            entry["mro"] = [f"{c.__module__}.{c.__qualname__}" for c in type(loaded.unwrap_python_model()).__mro__]
            if example == "simple_linear":
                # The guide's class, saved with save_model, loaded by both loaders.
                target = os.path.join(workdir, "guide_saved", key)
                pyfunc_jupyter.save_model(
                    target, namespace["SimpleLinearModel"](), input_example=pd.DataFrame([10, 20, 30])
                )
                entry["saved_dir"] = target
                entry["saved_mlflow_printed"] = f"{mlflow.pyfunc.load_model(target).predict(data)}\n"
                entry["saved_ours_printed"] = f"{pyfunc_jupyter.load_model(target).predict(data)}\n"
        except Exception:  # noqa: BLE001
            entry["error"] = traceback.format_exc()[-3000:]
            entry["printed"] = printed.getvalue()
    return {"environment": environment(), "cells": out}


def assert_mlflow_without_us(env: dict) -> None:
    """The MLflow subprocess had real MLflow 3.17 and could not import pyfunc_jupyter."""
    assert env["pyfunc_jupyter_importable"] is False
    assert env["mlflow_version"].startswith("3.17.")


def program(call: str) -> str:
    """This file's source plus ``call``, whose value is printed as one marked JSON line."""
    with open(__file__, encoding="utf-8") as f:
        source = f.read()
    return f"{source}\n\nprint({MARK!r} + json.dumps({call}))\n"


def parse(stdout: str):
    """The JSON value a ``program`` printed."""
    for line in stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise AssertionError(f"no result line in the subprocess output:\n{stdout[-5000:]}")


def compare(ours: dict, theirs: dict, where: str) -> list[str]:
    """Differences between two ``load_and_call`` results (errors compare by ``error_kind`` only)."""
    problems = []
    for variant in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(variant), theirs.get(variant)
        if mine is None or other is None or "load_error" in mine or "load_error" in other:
            if mine != other:
                problems.append(f"{where} [{variant}] load: ours={_short(mine)} mlflow={_short(other)}")
            continue
        for label in sorted(set(mine) | set(other)):
            a, b = mine.get(label), other.get(label)
            if isinstance(a, dict) and isinstance(b, dict) and "error" in a and "error" in b:
                if a["error"] != b["error"]:  # messages differ by design; who raised must not
                    problems.append(
                        f"{where} [{variant}] {label}: ours {a['error']} ({a['message']!r}), "
                        f"mlflow {b['error']} ({b['message']!r})"
                    )
                continue
            if a != b:
                problems.append(f"{where} [{variant}] {label}:\n    ours:   {_short(a)}\n    mlflow: {_short(b)}")
    return problems


def _short(value, limit: int = 1500) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
