"""Signature inference and input enforcement give MLflow's results on the same data (differential)."""

from __future__ import annotations

import json
import textwrap

import pytest

from ..conftest import run_python

pytestmark = pytest.mark.interop

INPUTS = [
    "pd.DataFrame([10, 20, 30])",
    "pd.DataFrame({'a': [1, 2], 'b': [1.5, 2.5], 'c': ['x', 'y']})",
    "pd.DataFrame({'a': np.array([1, 2], dtype='int32'), 'b': np.array([1, 2], dtype='float32')})",
    "pd.DataFrame({'a': np.array([1, 2], dtype='int16'), 'b': np.array([1, 2], dtype='uint32')})",
    "pd.DataFrame({'a': [1.0, None]})",
    "pd.DataFrame({'a': [True, False]})",
    "pd.DataFrame({'a': pd.to_datetime(['2024-01-01', '2024-01-02'])})",
    "pd.DataFrame({'a': [[1, 2], [3]]})",
    "pd.DataFrame({'a': [{'k': 1}, {'k': 2}]})",
    "pd.DataFrame({'a': [b'x', b'y']})",
    "pd.DataFrame({'a': pd.array([1, None], dtype='Int64')})",
    "pd.DataFrame({'a': pd.Categorical(['x', 'y'])})",
    "pd.DataFrame({'a': pd.array([1.5, None], dtype='Float64')})",
    "pd.DataFrame({'a': pd.array(['x', None], dtype='string')})",
    "pd.DataFrame({'a': pd.array([True, None], dtype='boolean')})",
    "np.array([[1, 2], [3, 4]])",
    "np.array([1.0, 2.0], dtype='float32')",
    "{'a': np.array([1, 2]), 'b': np.array([[1.0], [2.0]])}",
    "{'a': 1, 'b': 'x'}",
    "[{'a': 1}, {'a': 2, 'b': 'x'}]",
    "['a', 'b']",
    "[1, 2, 3]",
    "[1.5, 2.5]",
    "'hello'",
    "3",
    "3.5",
    "True",
]

PARAMS = [
    "{'slope': 2, 'intercept': 3.5, 'name': 'x', 'flag': True, 'xs': [1, 2]}",
    "{'when': datetime.datetime(2024, 1, 2, 3, 4, 5)}",
    "{'f32': np.float32(1.5), 'i32': np.int32(2)}",
]

# (example that defines the schema, input to enforce)
ENFORCE = [
    ("pd.DataFrame({'a': [1, 2]})", "pd.DataFrame({'a': np.array([1, 2], dtype='int32')})"),
    ("pd.DataFrame({'a': [1, 2]})", "pd.DataFrame({'a': [1.0, 2.0]})"),
    ("pd.DataFrame({'a': [1, 2]})", "pd.DataFrame({'a': [1.0, None]})"),
    ("pd.DataFrame({'a': [1.5, 2.5]})", "pd.DataFrame({'a': [1, 2]})"),
    ("pd.DataFrame({'a': [1.5, 2.5]})", "pd.DataFrame({'a': pd.array([1.5, None], dtype='Float64')})"),
    ("pd.DataFrame({'a': [1.5, 2.5]})", "pd.DataFrame({'a': pd.array([1.5, None], dtype='Float32')})"),
    ("pd.DataFrame({'a': [1.5, 2.5]})", "pd.DataFrame({'a': pd.array([1, None], dtype='Int64')})"),
    ("pd.DataFrame({'a': [1, 2]})", "pd.DataFrame({'a': pd.array([1, None], dtype='Int64')})"),
    ("pd.DataFrame({'a': [1.5, 2.5]})", "pd.DataFrame({'a': [0, 1]})"),
    ("pd.DataFrame({'a': [1.5, 2.5]})", "pd.DataFrame({'a': np.array([1, 2], dtype='int32')})"),
    ("pd.DataFrame({'a': np.array([1.5], dtype='float32')})", "pd.DataFrame({'a': [1.5]})"),
    ("pd.DataFrame({'a': ['x', 'y']})", "pd.DataFrame({'a': [1, 2]})"),
    ("pd.DataFrame({'a': ['x', 'y']})", "pd.DataFrame({'a': pd.Series([1, 2], dtype=object)})"),
    ("pd.DataFrame({'a': [True]})", "pd.DataFrame({'a': pd.Series([1, 'x'], dtype=object)})"),
    ("pd.DataFrame({'a': [True]})", "pd.DataFrame({'a': [1, 0]})"),
    ("pd.DataFrame({'a': [1], 'b': ['x']})", "pd.DataFrame({'b': ['y'], 'a': [2], 'c': [0]})"),
    ("pd.DataFrame({'a': [1], 'b': ['x']})", "pd.DataFrame({'a': [2]})"),
    ("pd.DataFrame({'a': [1], 'b': ['x']})", "{'a': 3, 'b': 'z'}"),
    ("pd.DataFrame({'a': [1], 'b': ['x']})", "[{'a': 3, 'b': 'z'}, {'a': 4, 'b': 'w'}]"),
    ("pd.DataFrame([[1, 2]])", "pd.DataFrame([[1]])"),
    ("pd.DataFrame([[1, 2]])", "pd.DataFrame([[1, 2, 3]])"),
    ("pd.DataFrame([10, 20])", "[1, 2, 3]"),
    ("pd.DataFrame([10, 20])", "5"),
    (
        "pd.DataFrame({'t': pd.to_datetime(['2024-01-01'])})",
        "pd.DataFrame({'t': pd.to_datetime(['2024-01-02']).astype('datetime64[s]')})",
    ),
    ("np.array([[1.0, 2.0]])", "np.array([[3.0, 4.0]])"),
    ("np.array([[1.0, 2.0]])", "np.array([[3.0, 4.0]], dtype='float32')"),
    ("np.array([[1.0, 2.0]])", "np.array([[3.0, 4.0, 5.0]])"),
]

DRIVER = """
import datetime, json, sys, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
TOOL = sys.argv[1] if len(sys.argv) > 1 else "{tool}"
if TOOL == "mlflow":
    from mlflow.models import infer_signature
    from mlflow.models.utils import _enforce_schema as enforce
else:
    from pyfunc_jupyter import infer_signature
    from pyfunc_jupyter.format.enforce import enforce_input as enforce

def parts(sig):
    return {{k: (json.loads(v) if v else None) for k, v in sig.to_dict().items()}}

def outcome(result):
    if isinstance(result, pd.DataFrame):
        return ["frame", [repr(c) for c in result.columns], [str(t) for t in result.dtypes],
                json.loads(result.to_json(orient="values", date_format="iso"))]
    if isinstance(result, np.ndarray):
        return ["array", str(result.dtype), list(result.shape)]
    return ["other", type(result).__name__]

out = {{"inputs": [], "params": [], "enforce": []}}
for expr in {inputs!r}:
    try:
        out["inputs"].append(parts(infer_signature(eval(expr))))
    except Exception as exc:
        out["inputs"].append(["error", type(exc).__name__])
for expr in {params!r}:
    try:
        out["params"].append(parts(infer_signature(pd.DataFrame([1]), params=eval(expr)))["params"])
    except Exception as exc:
        out["params"].append(["error", type(exc).__name__])
for example, data in {enforce!r}:
    schema = infer_signature(eval(example)).inputs
    try:
        out["enforce"].append(outcome(enforce(eval(data), schema)))
    except Exception as exc:
        out["enforce"].append(["error"])
print(json.dumps(out))
"""


def _run(python, tool):
    code = DRIVER.format(tool=tool, inputs=INPUTS, params=PARAMS, enforce=ENFORCE)
    env = {} if tool == "mlflow" else {"PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[2])}
    return json.loads(run_python(python, textwrap.dedent(code), env=env).stdout)


@pytest.fixture(scope="module")
def results(mlflow_python):
    import sys

    return _run(mlflow_python, "mlflow"), _run(sys.executable, "ours")


@pytest.mark.parametrize("index", range(len(INPUTS)), ids=INPUTS)
def test_infer_signature_matches_mlflow(results, index):
    theirs, ours = results
    assert ours["inputs"][index] == theirs["inputs"][index]


@pytest.mark.parametrize("index", range(len(PARAMS)), ids=PARAMS)
def test_param_schema_matches_mlflow(results, index):
    theirs, ours = results
    assert ours["params"][index] == theirs["params"][index]


@pytest.mark.parametrize("index", range(len(ENFORCE)), ids=[f"{a} <- {b}" for a, b in ENFORCE])
def test_enforcement_matches_mlflow(results, index):
    theirs, ours = results
    assert ours["enforce"][index] == theirs["enforce"][index]
