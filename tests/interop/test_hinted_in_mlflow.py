"""A type-hinted model written on our base class loads and validates in real MLflow."""

from __future__ import annotations

import json

import pytest

import pyfunc_jupyter

from ..conftest import run_python
from ..models_for_tests import define
from ..test_dispatch import HINTED

pytestmark = pytest.mark.interop


def test_hinted_model_in_mlflow(tmp_path, mlflow_python):
    pyfunc_jupyter.save_model(tmp_path / "m", define(HINTED, "Shout")(), input_example=["a", "b"])
    code = f"""
import json, warnings
warnings.simplefilter("ignore")
import mlflow.pyfunc, pandas as pd
m = mlflow.pyfunc.load_model({str(tmp_path / "m")!r})
out = {{"list": m.predict(["x"]), "frame": m.predict(pd.DataFrame({{"n": [1], "s": ["y"]}}))}}
try:
    m.predict([1, 2])
    out["bad"] = "accepted"
except Exception as exc:
    out["bad"] = type(exc).__name__
print(json.dumps(out))
"""
    result = json.loads(run_python(mlflow_python, code, cwd=tmp_path).stdout.splitlines()[-1])
    assert result == {"list": ["X"], "frame": ["Y"], "bad": "TypeHintError"}  # refused before predict runs


PYDANTIC_FUNCTION = """
import pydantic
from pyfunc_jupyter.pyfunc import pyfunc

class Order(pydantic.BaseModel):
    item: str
    qty: int = 1

@pyfunc
def totals(model_input: list[Order]) -> list[str]:
    return [f"{type(o).__name__}:{o.item}x{o.qty}" for o in model_input]
"""


def test_pydantic_hinted_function_saved_without_mlflow_runs_in_mlflow(tmp_path, mlflow_python):
    """A @pyfunc function hinted with a pydantic model: signature from hints, dicts become models there too."""
    totals = define(PYDANTIC_FUNCTION, "totals")
    pyfunc_jupyter.save_model(tmp_path / "m", totals, input_example=[{"item": "a"}])
    local = pyfunc_jupyter.load_model(tmp_path / "m")
    assert local.predict([{"item": "b", "qty": 2}]) == ["Order:bx2"]
    with pytest.raises(pyfunc_jupyter.errors.TypeHintError):
        totals([{"item": 3}])  # a direct call is checked too
    code = f"""
import json, warnings
warnings.simplefilter("ignore")
import mlflow.pyfunc
m = mlflow.pyfunc.load_model({str(tmp_path / "m")!r})
out = {{"ok": m.predict([{{"item": "c", "qty": 3}}]), "inputs": m.metadata.get_input_schema().to_dict()}}
try:
    m.predict([{{"qty": 1}}])
    out["bad"] = "accepted"
except Exception as exc:
    out["bad"] = "refused"
print(json.dumps(out))
"""
    result = json.loads(run_python(mlflow_python, code, cwd=tmp_path).stdout.splitlines()[-1])
    assert result["ok"] == ["Order:cx3"]
    assert result["bad"] == "refused"
    assert result["inputs"] == [
        {
            "type": "object",
            "properties": {"item": {"type": "string", "required": True}, "qty": {"type": "long", "required": True}},
            "required": True,
        }
    ]
