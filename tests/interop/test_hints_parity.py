"""Type-hinted models behave as in MLflow 3 (differential: the same cells run in both interpreters).

Each case defines a model the way a notebook cell would (only the base-class and ``@pyfunc``
imports differ), saves it with no example unless it says otherwise, and records: the advisory
warnings at definition and save, the signature written to MLmodel, the predictions of the loaded
model and of a direct ``predict`` call. Errors count by category only (raised or not).
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from ..conftest import run_python

pytestmark = pytest.mark.interop

HEADER = {
    "mlflow": "from mlflow.pyfunc import PythonModel, save_model, load_model\nfrom mlflow.pyfunc.utils import pyfunc\n",
    "ours": "from pyfunc_jupyter import PythonModel, save_model, load_model\n"
    "from pyfunc_jupyter.pyfunc import pyfunc\n",
}

# name -> (cell, object to save, input example or None, inputs for the loaded model, inputs for a direct call)
CASES = {
    "list_str": (
        """
class M(PythonModel):
    def predict(self, model_input: list[str], params=None) -> list[str]:
        return [s.upper() for s in model_input]
""",
        "M()",
        None,
        ["['a', 'b']", "pd.DataFrame({'n': [1], 's': ['y']})", "[1, 2]", "'a'"],
        ["['q']", "[1]"],
    ),
    "list_str_context_example": (
        """
class M(PythonModel):
    def predict(self, context, model_input: list[str]) -> list[str]:
        return [s + '!' for s in model_input]
""",
        "M()",
        "['a']",
        ["['x']", "[None]"],
        ["['q']", "[b'x']"],
    ),
    "map_of_str": (
        """
class M(PythonModel):
    def predict(self, model_input: list[dict[str, str]]) -> list[str]:
        return [','.join(sorted(d)) for d in model_input]
""",
        "M()",
        None,
        ["[{'a': 'x', 'b': 'y'}]", "[{'a': 1}]", "[{1: 'x'}]"],
        ["[{'k': 'v'}]", "[{'k': 2}]"],
    ),
    "pydantic": (
        """
from typing import Optional
import pydantic

class Item(pydantic.BaseModel):
    name: str
    qty: int = 1
    note: Optional[str] = None

class M(PythonModel):
    def predict(self, model_input: list[Item]) -> list[str]:
        return [f'{type(i).__name__}:{i.name}:{i.qty}:{i.note}' for i in model_input]
""",
        "M()",
        None,
        [
            "[{'name': 'a'}, {'name': 'b', 'qty': 3, 'note': 'n'}]",
            "[{'name': 'a', 'qty': '2'}]",
            "[{'qty': 2}]",
            "['a']",
        ],
        ["[{'name': 'z'}]", "[Item(name='y', qty=2)]", "[{'name': 5}]"],
    ),
    "no_output_hint": (
        """
class M(PythonModel):
    def predict(self, model_input: list[int]):
        return [x * 2 for x in model_input]
""",
        "M()",
        None,
        ["[1, 2]", "[True]", "['x']", "[1.5]"],
        ["[3]", "['3']"],
    ),
    "nested_lists": (
        """
class M(PythonModel):
    def predict(self, model_input: list[list[float]]) -> list[float]:
        return [sum(x) for x in model_input]
""",
        "M()",
        None,
        ["[[1.0, 2.5]]", "[[1, 2]]", "[1.0]"],
        ["[[0.5]]", "[['a']]"],
    ),
    "datetime_and_optional": (
        """
import datetime
from typing import Optional

class M(PythonModel):
    def predict(self, model_input: list[dict[str, Optional[datetime.datetime]]]) -> list[int]:
        return [len(d) for d in model_input]
""",
        "M()",
        None,
        ["[{'t': datetime.datetime(2024, 1, 2), 'u': None}]", "[{'t': '2024-01-02'}]"],
        [],
    ),
    "union_is_any": (
        """
from typing import Union

class M(PythonModel):
    def predict(self, model_input: list[Union[int, str]]) -> list[str]:
        return [str(x) for x in model_input]
""",
        "M()",
        None,
        ["[1, 'a', 2.5]"],
        ["[None]"],
    ),
    "unsupported_object": (
        """
class M(PythonModel):
    def predict(self, context, model_input: list[object]) -> list[str]:
        return [str(x) for x in model_input]
""",
        "M()",
        "['a', 'b']",
        ["['c']", "[1]"],
        ["[1]"],
    ),
    "other_parameter_name": (
        """
class M(PythonModel):
    def predict(self, context, data: list[str]) -> list[str]:
        return [s * 2 for s in data]
""",
        "M()",
        None,
        ["['ab']", "[1]"],
        ["['x']", "[2]"],
    ),
    "stream_parameter_name": (
        """
class M(PythonModel):
    def predict(self, context, model_input: list[str]) -> list[str]:
        return model_input

    def predict_stream(self, context, inputs, params=None):
        yield from inputs
""",
        "M()",
        None,
        ["['s']"],
        [],
    ),
    "function_without_example": (
        """
def f(model_input: list[str]) -> list[str]:
    return model_input
""",
        "f",
        None,
        [],
        [],
    ),
    "function_undecorated": (
        """
def f(model_input: list[str]) -> list[str]:
    return [str(x) + '?' for x in model_input]
""",
        "f",
        "['e']",
        ["['a']", "[1]"],
        [],
    ),
    "function_decorated": (
        """
@pyfunc
def f(model_input: list[str]) -> list[str]:
    return [str(x) + '?' for x in model_input]
""",
        "f",
        "['e']",
        ["['a']", "[1]"],
        ["['b']", "[2]"],
    ),
    "dataframe_hint": (
        """
import pandas as pd

class M(PythonModel):
    def predict(self, context, model_input: pd.DataFrame) -> pd.DataFrame:
        return model_input * 2
""",
        "M()",
        "pd.DataFrame({'a': [1, 2]})",
        ["pd.DataFrame({'a': [3]})", "pd.DataFrame({'a': ['x']})"],
        [],
    ),
    # the save-time rule (a 1-D array output is one column) applies to column inputs only (issue 13, item 4)
    "tensor_input_1d_output": (
        """
class M(PythonModel):
    def predict(self, context, model_input):
        return model_input[:, 0] * 2
""",
        "M()",
        "np.array([[1.0, 2.0], [3.0, 4.0]])",
        ["np.array([[5.0, 6.0]])"],
        [],
    ),
    "column_input_1d_output": (
        """
import numpy as np

class M(PythonModel):
    def predict(self, context, model_input):
        return np.asarray(model_input['a']) * 2
""",
        "M()",
        "pd.DataFrame({'a': [1.0, 2.0]})",
        ["pd.DataFrame({'a': [3.0]})"],
        [],
    ),
    "optional_elements_refused": (
        """
from typing import Optional

class M(PythonModel):
    def predict(self, model_input: list[Optional[str]]) -> list[str]:
        return model_input
""",
        "M()",
        None,
        [],
        [],
    ),
    "int_keys_refused": (
        """
class M(PythonModel):
    def predict(self, model_input: list[dict[int, str]]) -> list[str]:
        return model_input
""",
        "M()",
        None,
        [],
        [],
    ),
}

DRIVER = """
import datetime, inspect, json, sys, tempfile, warnings
# MLflow imports pyspark for array examples; under `python -c` (no __main__.__file__) pyspark takes
# itself to be running doctests and exits the process.
sys.modules["__main__"].__file__ = "hints_parity_driver.py"
from pathlib import Path
import numpy as np, pandas as pd, yaml

TAGS = {"param_names": "Only the following parameter names are allowed",
        "unsupported": "is not supported for MLflow's schema validation",
        "decorate": "Decorate your function with"}

def tags(caught):
    return sorted({tag for tag, text in TAGS.items() for w in caught if text in str(w.message)})

def plain(x):
    if hasattr(x, "model_dump"):
        return ["pydantic", type(x).__name__, x.model_dump()]
    if isinstance(x, pd.DataFrame):
        return ["frame", json.loads(x.to_json(orient="values"))]
    if isinstance(x, (pd.Series, np.ndarray)):
        return ["array", x.tolist()]
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    return x

def attempt(thunk):
    try:
        return plain(thunk())
    except Exception:
        return "error"

out = {}
root = Path(tempfile.mkdtemp())
for name, (cell, obj, example, calls, direct) in CASES.items():
    result = out[name] = {}
    namespace = {"__name__": "__main__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(HEADER + "import datetime\\nimport numpy as np\\nimport pandas as pd\\n" + cell, namespace)
        except Exception:
            result["define"] = "error"
            continue
    result["define"] = tags(caught)
    model = eval(obj, namespace)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            namespace["save_model"](str(root / name), python_model=model,
                                    pip_requirements=None if name in INFER_REQUIREMENTS else ["pandas"],
                                    input_example=eval(example, namespace) if example else None)
        except Exception:
            result["save"] = "error"
            continue
    result["save"] = tags(caught)
    mlmodel = yaml.safe_load((root / name / "MLmodel").read_text())
    signature = mlmodel.get("signature") or {}
    result["signature"] = {k: json.loads(v) if v else None for k, v in signature.items()}
    result["from_hint"] = bool(mlmodel.get("is_signature_from_type_hint"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = namespace["load_model"](str(root / name))
        result["calls"] = [attempt(lambda: loaded.predict(eval(e, namespace))) for e in calls]
        if callable(model):
            call = model
        elif "context" in inspect.signature(model.predict).parameters:
            call = lambda data: model.predict(None, data)
        else:
            call = model.predict
        result["direct"] = [attempt(lambda: call(eval(e, namespace))) for e in direct]
print(json.dumps(out))
"""


# Requirements are given, not inferred (MLflow infers them by loading each model in a subprocess:
# 40 s of CPU for the 24 cases, and test_requirements_parity compares inference), except where
# inference is what fails the save.
INFER_REQUIREMENTS = {"function_without_example"}


def _run(python, tool, tmp_path):
    program = f"CASES = {CASES!r}\nHEADER = {HEADER[tool]!r}\nINFER_REQUIREMENTS = {INFER_REQUIREMENTS!r}\n"
    program += textwrap.dedent(DRIVER)
    return json.loads(run_python(python, program, cwd=tmp_path).stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def results(mlflow_python, tmp_path_factory):
    where = tmp_path_factory.mktemp("hints")
    return _run(mlflow_python, "mlflow", where), _run(sys.executable, "ours", where)


@pytest.mark.parametrize("case", list(CASES))
def test_hinted_model_matches_mlflow(results, case):
    theirs, ours = results
    assert ours[case] == theirs[case]


def test_the_cases_show_what_they_claim(results):
    """Guard against a vacuous comparison: MLflow itself gives these (so ours must too)."""
    theirs, _ = results
    assert theirs["list_str"]["signature"]["inputs"] == [{"type": "string", "required": True}]
    assert theirs["list_str"]["calls"][:3] == [["A", "B"], ["Y"], "error"]
    assert theirs["map_of_str"]["signature"]["inputs"] == [
        {"type": "map", "values": {"type": "string"}, "required": True}
    ]
    assert theirs["pydantic"]["calls"][0] == ["Item:a:1:None", "Item:b:3:n"]
    assert theirs["no_output_hint"]["signature"]["outputs"] == [{"type": "any", "required": True}]
    assert theirs["unsupported_object"]["define"] == ["unsupported"]
    assert theirs["other_parameter_name"]["define"] == ["param_names"]
    assert theirs["function_undecorated"]["save"] == ["decorate"]
    assert theirs["function_undecorated"]["calls"] == [["a?"], "error"]  # the loader checks it all the same
    assert theirs["function_decorated"]["calls"] == [["a?"], "error"]
    assert theirs["optional_elements_refused"]["define"] == "error"
    assert theirs["function_without_example"]["save"] == "error"  # MLflow wants an example, hints or not
    assert theirs["tensor_input_1d_output"]["signature"]["outputs"] == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}
    ]
    assert theirs["column_input_1d_output"]["signature"]["outputs"] == [{"type": "double", "required": True}]
