"""Models from code: save_model/log_model take a .py file that ends with set_model(...), and load it back.

MLflow is blocked here (the `mlflow_absent` fixture): a file's ``import mlflow`` gets pyfunc-jupyter's stand-in while it
runs (and only then). tests/interop/test_code_models.py compares with real MLflow.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pandas as pd
import pytest
import yaml

import pyfunc_jupyter
from pyfunc_jupyter.errors import MLmodelError, ModelLoadError, ModelSaveError

pytestmark = pytest.mark.usefixtures("mlflow_absent")  # our loader where MLflow is absent (it is in this venv)

MLFLOW_STYLE = """
    import mlflow
    import pandas as pd
    from mlflow.models import ModelConfig

    config = ModelConfig(development_config={"factor": 0})


    class Scaler(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return pd.DataFrame({"y": model_input["x"] * config.get("factor")})


    mlflow.models.set_model(Scaler())
"""

OURS_STYLE = """
    from pyfunc_jupyter import PythonModel
    from pyfunc_jupyter.models import set_model


    class Upper(PythonModel):
        def predict(self, context, model_input, params=None):
            return [s.upper() for s in model_input["s"]]


    set_model(Upper())
"""

FUNCTION = """
    from mlflow.models import set_model

    def plus_one(model_input):
        return model_input + 1

    set_model(plus_one)
"""

FRAME = pd.DataFrame({"x": [1, 2]})


def write(tmp_path, text, name="model.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_mlflow_style_file_saves_loads_and_reads_its_config(tmp_path):
    info = pyfunc_jupyter.save_model(
        tmp_path / "m", write(tmp_path, MLFLOW_STYLE), input_example=FRAME, model_config={"factor": 3}
    )
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert "python_model.pkl" not in files and "model.py" in files
    assert (tmp_path / "m" / "model.py").read_text() == (tmp_path / "model.py").read_text()
    flavor = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert flavor["model_code_path"] == "model.py" and "python_model" not in flavor
    assert flavor["config"] == {"factor": 3}
    # no pickle: cloudpickle is not required; `import mlflow` was our stand-in, not a requirement
    names = [r.name for r in info.requirements]  # pandas may call pyarrow (installed here) during predict
    assert names[0] == "pandas" and set(names) <= {"pandas", "pyarrow"} and "cloudpickle" not in names
    assert info.requirements[0].reasons[0] == "pandas: imported by the model's code file"
    assert info.signature.outputs.to_dict() == [{"type": "long", "name": "y", "required": True}]
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert loaded.predict(pd.DataFrame({"x": [5]}))["y"].tolist() == [15]
    override = pyfunc_jupyter.load_model(tmp_path / "m", model_config={"factor": 10})
    assert override.predict(pd.DataFrame({"x": [5]}))["y"].tolist() == [50]
    loaded = [n for n, m in sys.modules.items() if m is not None and (n == "mlflow" or n.startswith("mlflow."))]
    assert not loaded  # the stand-in is gone (the block, a None entry, stays)
    assert importlib.util.find_spec("mlflow") is None


def test_our_names_in_a_code_file(tmp_path):
    pyfunc_jupyter.save_model(
        tmp_path / "m", write(tmp_path, OURS_STYLE, "upper.py"), input_example=pd.DataFrame({"s": ["a"]})
    )
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert loaded.predict(pd.DataFrame({"s": ["b", "c"]})) == ["B", "C"]
    assert type(loaded.unwrap_python_model()).__module__.startswith("code_model_")


def test_function_set_as_the_model(tmp_path):
    pyfunc_jupyter.save_model(tmp_path / "m", write(tmp_path, FUNCTION), input_example=FRAME)
    assert pyfunc_jupyter.load_model(tmp_path / "m").predict(FRAME)["x"].tolist() == [2, 3]


def test_log_model_takes_a_code_file(tmp_path, store):
    info = pyfunc_jupyter.log_model(
        "scaler", write(tmp_path, MLFLOW_STYLE), input_example=FRAME, model_config={"factor": 2}
    )
    loaded = pyfunc_jupyter.load_model("models:/scaler/latest")
    assert loaded.predict(FRAME)["y"].tolist() == [2, 4]
    assert (pyfunc_jupyter.resolve_uri(info.model_uri) / "model.py").is_file()


def test_each_load_runs_the_file_afresh(tmp_path):
    pyfunc_jupyter.save_model(tmp_path / "m", write(tmp_path, OURS_STYLE), input_example=pd.DataFrame({"s": ["a"]}))
    first = pyfunc_jupyter.load_model(tmp_path / "m").unwrap_python_model()
    second = pyfunc_jupyter.load_model(tmp_path / "m").unwrap_python_model()
    assert type(first) is not type(second)


@pytest.mark.parametrize(
    "text, match",
    [
        ("x = 1\n", "never called set_model"),
        ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
        ("import mlflow.tracking\n", "install mlflow"),
        ("import mlflow\nmlflow.log_metric('a', 1)\n", "install mlflow"),
        ("from mlflow.models import set_model\nset_model('model.py')\n", "takes the model object"),
        (
            "from mlflow.models import ModelConfig\nModelConfig(development_config={'a': 1})\n",
            "Config file is not provided",
        ),
    ],
)
def test_bad_code_files_are_refused_and_nothing_is_written(tmp_path, text, match):
    with pytest.raises(ModelSaveError, match=match):
        pyfunc_jupyter.save_model(tmp_path / "m", write(tmp_path, text), input_example=FRAME)
    assert not (tmp_path / "m").exists()
    assert sys.modules.get("mlflow") is None  # the stand-in is gone again


def test_bad_code_paths_are_refused(tmp_path):
    (tmp_path / "model.txt").write_text("x = 1\n")
    (tmp_path / "folder.py").mkdir()
    with pytest.raises(ModelSaveError, match=r"not a \.py file"):
        pyfunc_jupyter.save_model(tmp_path / "m", tmp_path / "model.txt", input_example=FRAME)
    with pytest.raises(ModelSaveError, match="is a folder"):
        pyfunc_jupyter.save_model(tmp_path / "m", tmp_path / "folder.py", input_example=FRAME)
    with pytest.raises(ModelSaveError, match="does not exist"):
        pyfunc_jupyter.save_model(tmp_path / "m", "missing.py", input_example=FRAME)
    assert not (tmp_path / "m").exists()


def test_damaged_code_model_directories_fail_clearly(tmp_path):
    pyfunc_jupyter.save_model(tmp_path / "m", write(tmp_path, FUNCTION), input_example=FRAME)
    mlmodel = tmp_path / "m" / "MLmodel"
    data = yaml.safe_load(mlmodel.read_text())
    data["flavors"]["python_function"]["model_code_path"] = 7
    mlmodel.write_text(yaml.safe_dump(data))
    with pytest.raises(MLmodelError, match="model_code_path"):
        pyfunc_jupyter.load_model(tmp_path / "m")
    data["flavors"]["python_function"]["model_code_path"] = "/elsewhere/model.py"  # as MLflow records it
    mlmodel.write_text(yaml.safe_dump(data))
    assert pyfunc_jupyter.load_model(tmp_path / "m").predict(FRAME)["x"].tolist() == [2, 3]
    (tmp_path / "m" / "model.py").unlink()
    with pytest.raises(ModelLoadError, match=r"code file .* is missing"):
        pyfunc_jupyter.load_model(tmp_path / "m")


def test_model_config_outside_a_load_uses_the_development_config(tmp_path):
    config = pyfunc_jupyter.models.ModelConfig(development_config={"a": 1})
    assert config.get("a") == 1 and config.to_dict() == {"a": 1}
    (tmp_path / "c.yaml").write_text("b: 2\n")
    assert pyfunc_jupyter.models.ModelConfig(development_config=str(tmp_path / "c.yaml")).get("b") == 2
    with pytest.raises(KeyError):
        config.get("missing")


HINTED_FUNCTION = """
    from mlflow.models import set_model
    from mlflow.pyfunc.utils import pyfunc


    @pyfunc
    def shout(model_input: list[str]) -> list[str]:
        return [s.upper() for s in model_input]


    set_model(shout)
"""


def test_a_hinted_function_with_the_pyfunc_decorator(tmp_path):
    from pyfunc_jupyter.errors import SchemaEnforcementError

    info = pyfunc_jupyter.save_model(tmp_path / "m", write(tmp_path, HINTED_FUNCTION), input_example=["a"])
    assert info.signature.inputs.to_dict() == [{"type": "string", "required": True}]
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert loaded.predict(["x", "y"]) == ["X", "Y"]
    with pytest.raises(SchemaEnforcementError):
        loaded.predict([1, 2])


def test_warnings_the_code_file_gives_still_reach_the_user(tmp_path):
    code = write(tmp_path, "import warnings\nwarnings.warn('check the units')\n" + textwrap.dedent(FUNCTION))
    saved = tmp_path / "saved"
    with pytest.warns(UserWarning, match="check the units"):
        pyfunc_jupyter.save_model(str(saved), str(code), input_example=FRAME)
    with pytest.warns(UserWarning, match="check the units"):
        pyfunc_jupyter.load_model(str(saved))
