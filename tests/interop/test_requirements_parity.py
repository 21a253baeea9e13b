"""In-process requirement capture finds what MLflow's fresh-interpreter capture finds (and more)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ..conftest import run_python

pytestmark = pytest.mark.interop

MODEL = """
import numpy as np
import pandas as pd

class UsesModules(PythonModel):
    def predict(self, context, model_input):
        import jinja2
        import yaml
        return pd.DataFrame(np.asarray(model_input) * 2)
"""

DRIVER = """
import json, sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
if sys.argv[1] == "mlflow":
    import mlflow.pyfunc as api
    from mlflow.pyfunc import PythonModel
else:
    import pyfunc_jupyter as api
    from pyfunc_jupyter import PythonModel
namespace = {"__name__": "__main__", "PythonModel": PythonModel}
exec(MODEL, namespace)
api.save_model(sys.argv[2], python_model=namespace["UsesModules"](), input_example=pd.DataFrame([1, 2]))
print(json.dumps(open(sys.argv[2] + "/requirements.txt").read().splitlines()))
"""


def _requirements(python, tool, target, env=None):
    code = f"MODEL = {MODEL!r}\n" + DRIVER
    script = target.parent / f"{tool}_driver.py"
    script.write_text(code)
    out = run_python(
        python,
        f"import sys; sys.argv = ['x', {tool!r}, {str(target)!r}]; exec(open({str(script)!r}).read())",
        env=env,
        cwd=target.parent,
    )
    names = {line.split("==")[0].lower() for line in json.loads(out.stdout.splitlines()[-1])}
    return names - {"mlflow"}


def test_capture_finds_mlflows_set_plus_what_mlflow_prunes(tmp_path, mlflow_python):
    theirs = _requirements(mlflow_python, "mlflow", tmp_path / "theirs")
    ours = _requirements(sys.executable, "ours", tmp_path / "ours", env={"PYTHONPATH": str(Path(__file__).parents[2])})
    assert theirs <= ours, f"MLflow found {theirs - ours} that we missed"
    # MLflow prunes pyyaml (a dependency of mlflow-skinny) although predict imports it; we keep it.
    assert "pyyaml" in ours and "pyyaml" not in theirs
    assert {"numpy", "pandas", "jinja2", "cloudpickle"} <= ours
