"""The MLflow custom-pyfunc guide's examples, ported by changing only the imports, print its outputs."""

from __future__ import annotations

import textwrap

import pytest

# The guide's cells as written, with only `mlflow` imports replaced by pyfunc_jupyter ones.
PORT = {
    "import mlflow\n": "import pyfunc_jupyter as mlflow\n",
    "from mlflow.pyfunc import PythonModel": "from pyfunc_jupyter.pyfunc import PythonModel",
    "from mlflow.models import infer_signature": "from pyfunc_jupyter.models import infer_signature",
}

SQUARE = """
import mlflow

# Define a custom model
class MyModel(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        # Directly return the square of the input
        return model_input**2


# Save the model
with mlflow.start_run():
    model_info = mlflow.pyfunc.log_model(
        artifact_path="model",
        python_model=MyModel()
    )

# Load the model
loaded_model = mlflow.pyfunc.load_model(
    model_uri=model_info.model_uri
)

# Predict
print(loaded_model.predict(2))
"""

SIMPLE_LINEAR = """
import pandas as pd
import mlflow
from mlflow.pyfunc import PythonModel


# Custom PythonModel class
class SimpleLinearModel(PythonModel):
    def predict(self, context, model_input):
        return pd.DataFrame(2 * model_input + 3)


with mlflow.start_run():
    model_info = mlflow.pyfunc.log_model(
        artifact_path="linear_model",
        python_model=SimpleLinearModel(),
        input_example=pd.DataFrame([10, 20, 30]),
    )

loaded_model = mlflow.pyfunc.load_model(model_uri=model_info.model_uri)
model_input = pd.DataFrame([1, 2, 3])  # Example input data
print(loaded_model.predict(model_input))  # Outputs transformed data
"""

FUNCTION = """
import mlflow
import pandas as pd


def predict(model_input):
    return pd.DataFrame(2 * model_input + 3)


# Pass predict method as python_model argument to save/log model
with mlflow.start_run():
    model_info = mlflow.pyfunc.log_model(
        artifact_path="simple_function",
        python_model=predict,
        input_example=pd.DataFrame([10, 20, 30]),
    )

loaded_model = mlflow.pyfunc.load_model(model_uri=model_info.model_uri)
model_input = pd.DataFrame([1, 2, 3])  # Example input data
print(loaded_model.predict(model_input))  # Outputs transformed data
"""

PARAMETERIZED = """
import pandas as pd
import mlflow
from mlflow.pyfunc import PythonModel


# Custom PythonModel class
class ParameterizedLinearModel(PythonModel):
    def __init__(self, slope, intercept):
        self.slope = slope
        self.intercept = intercept

    def predict(self, context, model_input):
        return pd.DataFrame(self.slope * model_input + self.intercept)


linear_model = ParameterizedLinearModel(10, 20)

# Saving the model with mlflow
with mlflow.start_run():
    model_info = mlflow.pyfunc.log_model(
        artifact_path="parameter_model",
        python_model=linear_model,
        input_example=pd.DataFrame([10, 20, 30]),
    )

loaded_model = mlflow.pyfunc.load_model(model_uri=model_info.model_uri)
model_input = pd.DataFrame([1, 2, 3])  # Example input data
print(loaded_model.predict(model_input))  # Outputs transformed data
"""

INFERENCE_PARAMS = """
import pandas as pd
import mlflow
from mlflow.models import infer_signature
from mlflow.pyfunc import PythonModel


# Custom PythonModel class
class LinearFunctionInferenceParams(PythonModel):
    def predict(self, context, model_input, params):
        slope = params["slope"]
        # Assuming model_input is a pandas DataFrame with one column
        return pd.DataFrame(slope * model_input + params["intercept"])


# Set default params
params = {"slope": 2, "intercept": 3}

# Define model signature
signature = infer_signature(model_input=pd.DataFrame([10, 20, 30]), params=params)

# Save the model with mlflow
with mlflow.start_run():
    model_info = mlflow.pyfunc.log_model(
        artifact_path="model_with_params",
        python_model=LinearFunctionInferenceParams(),
        signature=signature,
    )

loaded_model = mlflow.pyfunc.load_model(model_uri=model_info.model_uri)

parameterized_predictions = loaded_model.predict(
    pd.DataFrame([10, 20, 30]), params={"slope": 2, "intercept": 10}
)
print(parameterized_predictions)
"""

GUIDE_OUTPUTS = {
    "square": (SQUARE, "4\n"),
    "simple_linear": (SIMPLE_LINEAR, "   0\n0  5\n1  7\n2  9\n"),
    "function": (FUNCTION, "   0\n0  5\n1  7\n2  9\n"),
    "parameterized": (PARAMETERIZED, "    0\n0  30\n1  40\n2  50\n"),
    "inference_params": (INFERENCE_PARAMS, "    0\n0  30\n1  50\n2  70\n"),
}


def port(cell: str) -> str:
    """Change only the imports of a guide cell."""
    for old, new in PORT.items():
        cell = cell.replace(old, new)
    return cell


def run_as_notebook_cell(source: str) -> dict:
    """Execute like a notebook cell: in a namespace named __main__, so classes pickle by value."""
    namespace = {"__name__": "__main__"}
    exec(compile(textwrap.dedent(source), "<guide cell>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("example", sorted(GUIDE_OUTPUTS))
def test_guide_example_prints_the_guides_output(example, store, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    source, expected = GUIDE_OUTPUTS[example]
    namespace = run_as_notebook_cell(port(source))
    assert capsys.readouterr().out == expected
    info = namespace["model_info"]
    assert info.model_uri.startswith("models:/")
    assert (store / info.name / str(info.version) / "MLmodel").is_file()


def test_guide_run_id_resolves_runs_uri(store, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    namespace = run_as_notebook_cell(port(SIMPLE_LINEAR) + "\nrun_id = model_info.run_id\n")
    import pandas as pd

    import pyfunc_jupyter

    loaded = pyfunc_jupyter.load_model(f"runs:/{namespace['run_id']}/linear_model")
    assert loaded.predict(pd.DataFrame([1, 2, 3]))[0].tolist() == [5, 7, 9]
    latest = pyfunc_jupyter.load_model("models:/linear_model/latest")
    assert latest.path == loaded.path
