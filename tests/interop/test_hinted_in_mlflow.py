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
