"""Models MLflow wrote with a compressed pickle (MLFLOW_LOG_MODEL_COMPRESSION) load here too."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

import pyfunc_jupyter

from ..conftest import run_python

pytestmark = pytest.mark.interop

WRITE = """
import json, sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
import mlflow.pyfunc

class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return pd.DataFrame(2 * model_input)

out = {}
for method in ("gzip", "bzip2", "lzma"):
    import os
    os.environ["MLFLOW_LOG_MODEL_COMPRESSION"] = method
    path = sys.argv[1] + "/" + method
    mlflow.pyfunc.save_model(path, python_model=Doubler(), input_example=pd.DataFrame([1, 2]),
                             pip_requirements=["pandas"])  # no inference: the test is of the pickle
    out[method] = mlflow.pyfunc.load_model(path).predict(pd.DataFrame([5]))[0].tolist()
print(json.dumps(out))
"""


def test_compressed_pickles(tmp_path, mlflow_python):
    code = f"import sys; sys.argv = ['x', {str(tmp_path)!r}]\n" + WRITE
    expected = json.loads(run_python(mlflow_python, code, cwd=tmp_path).stdout.splitlines()[-1])
    for method, values in expected.items():
        flavor = yaml.safe_load((tmp_path / method / "MLmodel").read_text())["flavors"]["python_function"]
        assert flavor["python_model_compression"] == method
        assert pyfunc_jupyter.load_model(tmp_path / method).predict(pd.DataFrame([5]))[0].tolist() == values == [10]
