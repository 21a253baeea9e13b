"""Nested data, tensors, Series and params give MLflow 3's signatures and checks (differential).

Each expression is evaluated in both interpreters; signatures are compared as MLmodel JSON,
param checks by the values (and Python types) they give, errors by category only.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from ..conftest import run_python

pytestmark = pytest.mark.interop

# infer_signature(*args) -> the signature JSON
SIGNATURES = [
    # nested data (issue 13, item 3): keys that differ between rows, None inside lists and dicts
    "[{'m': {'a': 1}}, {'m': {'b': 'x'}}]",
    "pd.DataFrame({'m': [{'a': 1}, {'b': 'x'}]})",
    "{'a': [None, 's']}",
    "{'a': [True, None]}",
    "[{'a': [1, None]}, {'a': [2]}]",
    "[{'m': {'a': 1}}, {'m': None}]",
    "[{'m': {'a': {'x': 1}}}, {'m': {'a': {'y': 'z'}}}]",
    "{'messages': [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'x', 'name': 'bot'}]}",
    "pd.DataFrame({'messages': [[{'role': 'user', 'content': 'hi'}], [{'role': 'assistant', 'content': None}]]})",
    "[{'messages': [{'role': 'user', 'content': 'a'}]}, {'messages': [{'role': 'user'}], 'temperature': 0.5}]",
    "['a', None]",
    "pd.DataFrame({'a': [[1, 2], []]})",
    # tensors and Series (item 4)
    "np.array([1]), np.array([1])",
    "np.array([[1.0]]), np.array([1.0, 2.0])",
    "pd.DataFrame([1]), np.array([1, 2])",
    "pd.Series([1, 2])",
    "pd.Series([1, 2], name='x')",
    "pd.Series([1, 2]), pd.Series(['a', 'b'])",
    "pd.DataFrame({'a': [True, None]})",
]

# (params example for infer_signature, params at predict) -> validated params or error
PARAM_CHECKS = [
    ("{'d': datetime.datetime(2024, 1, 1)}", "{'d': np.datetime64('2024-02-01T10:00:00')}"),
    ("{'d': datetime.datetime(2024, 1, 1)}", "{'d': np.datetime64('2024-02-01')}"),
    ("{'d': np.datetime64('2024-01-01T00:00:00')}", "{}"),
    ("{'d': datetime.datetime(2024, 1, 1)}", "{'d': '2024-03-04T05:06:07'}"),
    ("{'d': datetime.datetime(2024, 1, 1)}", "{'d': 5}"),
    ("{'f': np.float32(1.5)}", "{'f': 2}"),
    ("{'f': np.float32(1.5)}", "{'f': np.int64(2)}"),
    ("{'f': [np.float32(1.5)]}", "{'f': [1, 2]}"),
    ("{'f': [np.float32(1.5)]}", "{'f': np.array([1, 2])}"),
    ("{'x': 1.5}", "{'x': 3}"),
    ("{'x': 1.5}", "{'x': True}"),
    ("{'n': 1}", "{'n': 2**70}"),
    ("{'n': 1}", "{'n': 2.0}"),
    ("{'b': True}", "{'b': None}"),
    ("{'b': [True]}", "{'b': [True, None]}"),
    ("{'b': True}", "{'b': 1}"),
    ("{'n': 2**70}", "{}"),
    ("{'n': None}", "{}"),
    ("{'b': [True, None]}", "{}"),
]

# constructors -> to_dict() or error
CONSTRUCT = [
    "ParamSpec('a', DataType.integer, '1.0')",
    "ParamSpec('a', DataType.integer, 1.5)",
    "ParamSpec('a', DataType.long, '1')",
    "ParamSpec('a', DataType.double, 1)",
    "ParamSpec('a', DataType.float, 2)",
    "ParamSpec('a', DataType.boolean, None)",
    "ParamSpec('a', DataType.boolean, 1)",
    "ParamSpec('a', DataType.long, 2**70)",
    "ParamSpec('a', DataType.long, [1, 2], (-1,))",
    "ParamSpec('a', DataType.double, [1, 2.5], (-1,))",
    "ParamSpec('a', DataType.datetime, '2024-01-02')",
    "ParamSpec('a', DataType.long)",
    'ParamSchema.from_json(\'[{"name": "a", "type": "long"}]\')',
    'ParamSchema.from_json(\'[{"name": "a", "type": "long", "default": null, "shape": null}]\')',
    "ModelSignature()",
    "ModelSignature(None, None, None)",
]

# (example giving the input schema, input) -> the enforced frame or error; None in boolean columns
ENFORCE = [
    ("pd.DataFrame({'a': [True, False]})", "pd.DataFrame({'a': [True, None]})"),
    ("pd.DataFrame({'a': [True, False]})", "[{'a': True}, {'a': None}]"),
    ("pd.DataFrame({'a': [True, False]})", "pd.DataFrame({'a': ['x', None]})"),
    ("pd.DataFrame({'a': [True, False]})", "pd.DataFrame({'a': [1.0, None]})"),
    ("pd.DataFrame({'a': [True, False]})", "pd.DataFrame({'a': pd.array([True, None], dtype='boolean')})"),
    ("pd.DataFrame({'a': [True, None]})", "pd.DataFrame({'a': [None, False]})"),
    # None inside composite values: refused where the value is required (issue 11, item 11)
    ("[{'a': {'b': True}}]", "[{'a': {'b': None}}]"),
    ("[{'a': {'b': True}}, {'a': {}}]", "[{'a': {'b': None}}]"),
    ("[{'a': {'b': 1}}]", "[{'a': {'b': None}}]"),
    ("[{'a': [True]}]", "[{'a': None}]"),
    ("[{'a': [True]}, {'a': None}]", "[{'a': None}]"),
    ("[{'a': [1]}]", "[{'a': [1, None]}]"),
    ("[{'a': [True]}]", "[{'a': [1]}]"),
    ("[{'a': [1]}]", "[{'a': [True]}]"),
    ("[{'a': {'b': 'x'}}]", "[{'a': {'b': 'y'}}]"),
]

DRIVER = """
import datetime, json, sys, warnings
# MLflow imports pyspark when it is installed; under `python -c` (no __main__.__file__) pyspark
# takes itself to be running doctests and exits the process.
sys.modules["__main__"].__file__ = "signature_fidelity_driver.py"
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
if TOOL == "mlflow":
    from mlflow.models import infer_signature, ModelSignature
    from mlflow.types import DataType, ParamSchema, ParamSpec
    from mlflow.models.utils import _enforce_params_schema as check_params, _enforce_schema as enforce
else:
    from pyfunc_jupyter import infer_signature, ModelSignature, DataType, ParamSchema, ParamSpec
    from pyfunc_jupyter.format.enforce import validate_params as check_params, enforce_input as enforce

def parts(sig):
    return {k: (json.loads(v) if v else None) for k, v in sig.to_dict().items()}

def value(v):
    if isinstance(v, list):
        return [value(x) for x in v]
    if isinstance(v, (datetime.date, datetime.datetime)):
        return [type(v).__name__, v.isoformat()]
    return [type(v).__name__, v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)]

def specs(d):
    return [{k: list(v) if isinstance(v, tuple) else v for k, v in s.items()} for s in d] \\
        if isinstance(d, list) else d

def attempt(thunk):
    try:
        return thunk()
    except Exception:
        return "error"

out = {"signatures": [], "params": [], "construct": [], "enforce": []}
for expr in SIGNATURES:
    out["signatures"].append(attempt(lambda: parts(eval(f"infer_signature({expr})"))))
for example, given in PARAM_CHECKS:
    def check():
        schema = infer_signature(pd.DataFrame([1]), params=eval(example)).params
        return {k: value(v) for k, v in check_params(eval(given), schema).items()}
    out["params"].append(attempt(check))
for expr in CONSTRUCT:
    out["construct"].append(attempt(lambda: specs(eval(expr).to_dict())))
for example, data in ENFORCE:
    def run():
        frame = enforce(eval(data), infer_signature(eval(example)).inputs)
        return [[str(t) for t in frame.dtypes], frame.astype(object).where(frame.notna(), None).values.tolist()]
    out["enforce"].append(attempt(run))
print(json.dumps(out))
"""


def _run(python, tool):
    program = (
        f"TOOL = {tool!r}\nSIGNATURES = {SIGNATURES!r}\nPARAM_CHECKS = {PARAM_CHECKS!r}\n"
        f"CONSTRUCT = {CONSTRUCT!r}\nENFORCE = {ENFORCE!r}\n"
    ) + textwrap.dedent(DRIVER)
    return json.loads(run_python(python, program).stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def results(mlflow_python):
    return _run(mlflow_python, "mlflow"), _run(sys.executable, "ours")


@pytest.mark.parametrize("index", range(len(SIGNATURES)), ids=SIGNATURES)
def test_signature_matches_mlflow(results, index):
    theirs, ours = results
    assert ours["signatures"][index] == theirs["signatures"][index]


@pytest.mark.parametrize("index", range(len(PARAM_CHECKS)), ids=[f"{a} <- {b}" for a, b in PARAM_CHECKS])
def test_params_check_matches_mlflow(results, index):
    theirs, ours = results
    assert ours["params"][index] == theirs["params"][index]


@pytest.mark.parametrize("index", range(len(CONSTRUCT)), ids=CONSTRUCT)
def test_spec_construction_matches_mlflow(results, index):
    theirs, ours = results
    assert ours["construct"][index] == theirs["construct"][index]


@pytest.mark.parametrize("index", range(len(ENFORCE)), ids=[f"{a} <- {b}" for a, b in ENFORCE])
def test_boolean_enforcement_matches_mlflow(results, index):
    theirs, ours = results
    assert ours["enforce"][index] == theirs["enforce"][index]


def test_the_cases_show_what_they_claim(results):
    """MLflow itself gives these, so the comparison above is not vacuous."""
    theirs, _ = results
    assert theirs["signatures"][2]["inputs"] == [
        {"type": "array", "items": {"type": "string"}, "name": "a", "required": False}
    ]
    assert theirs["signatures"][12]["outputs"] == [{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]
    assert theirs["signatures"][15]["inputs"] == [{"type": "long", "required": True}]
    assert theirs["params"][0] == {"d": ["datetime", "2024-02-01T10:00:00"]}
    assert theirs["params"][5] == {"f": ["float", 2.0]}
    assert theirs["construct"][0] == "error" and theirs["construct"][11] == "error"
    assert theirs["construct"][12] == "error" and theirs["construct"][14] == "error"


def test_none_in_a_boolean_list_is_refused_where_mlflow_would_turn_it_into_false():
    """MLflow 3.17 enforces ``[True, None]`` against ``array<boolean>`` as ``[True, False]``; we refuse it."""
    import pandas as pd

    from pyfunc_jupyter import infer_signature
    from pyfunc_jupyter.errors import SchemaEnforcementError
    from pyfunc_jupyter.format.enforce import enforce_input

    schema = infer_signature([{"a": [True]}]).inputs
    with pytest.raises(SchemaEnforcementError, match="expected boolean, got None"):
        enforce_input([{"a": [True, None]}], schema)
    optional = infer_signature([{"a": [True]}, {"a": None}]).inputs
    assert enforce_input(pd.DataFrame({"a": [None]}), optional)["a"].tolist() == [None]
