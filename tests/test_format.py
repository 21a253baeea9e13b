"""The directory save_model writes has MLflow's layout, keys and file contents."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pandas as pd
import pytest
import yaml

import pyfunc_jupyter
from pyfunc_jupyter.errors import ModelSaveError

from .models_for_tests import LINEAR, WEIGHTS, define


@pytest.fixture
def linear():
    return define(LINEAR, "SimpleLinearModel")()


def test_layout_and_mlmodel_keys(tmp_path, linear):
    info = pyfunc_jupyter.save_model(tmp_path / "m", linear, input_example=pd.DataFrame([10, 20, 30]))
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == [
        "MLmodel",
        "conda.yaml",
        "input_example.json",
        "pyfunc_jupyter.json",
        "python_env.yaml",
        "python_model.pkl",
        "requirements.txt",
        "serving_input_example.json",
    ]
    text = (tmp_path / "m" / "MLmodel").read_text()
    mlmodel = yaml.safe_load(text)
    flavor = mlmodel["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.model"
    assert flavor["python_model"] == "python_model.pkl"
    assert flavor["python_version"] == platform.python_version()
    assert flavor["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert flavor["code"] is None and flavor["streamable"] is False
    assert json.loads(mlmodel["signature"]["inputs"]) == [{"type": "long", "name": 0, "required": True}]
    assert json.loads(mlmodel["signature"]["outputs"]) == [{"type": "long", "name": 0, "required": True}]
    assert mlmodel["signature"]["params"] is None
    assert mlmodel["saved_input_example_info"]["artifact_path"] == "input_example.json"
    assert len(mlmodel["model_uuid"]) == 32 and mlmodel["model_size_bytes"] > 0
    assert list(mlmodel) == sorted(mlmodel)  # keys sorted like MLflow's safe_dump
    assert (tmp_path / "m" / "python_model.pkl").read_bytes()[:2] == b"\x80\x05"
    assert info.model_uri == str(tmp_path / "m")


def test_pickle_does_not_carry_the_folder_the_package_is_installed_in(tmp_path, linear):
    # Our base class is pickled by value; its module's __file__ would leak the saving user's paths.
    pyfunc_jupyter.save_model(tmp_path / "m", linear, input_example=pd.DataFrame([10, 20, 30]))
    pickled = (tmp_path / "m" / "python_model.pkl").read_bytes()
    assert b"PythonModel" in pickled
    assert str(Path(pyfunc_jupyter.__file__).parent).encode() not in pickled
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert loaded.predict(pd.DataFrame([1]))[0].tolist() == [5]


def test_requirements_inferred_with_provenance(tmp_path, linear):
    pyfunc_jupyter.save_model(tmp_path / "m", linear, input_example=pd.DataFrame([10, 20, 30]))
    lines = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    names = [line.split("==")[0].lower() for line in lines]
    assert "pandas" in names and "cloudpickle" in names
    assert all("==" in line for line in lines)
    side = json.loads((tmp_path / "m" / "pyfunc_jupyter.json").read_text())
    reasons = {r["name"].lower(): r["reasons"] for r in side["requirements"]}
    assert any("pandas" in reason for reason in reasons["pandas"])


def test_artifacts_copied_with_posix_relative_paths_and_collisions(tmp_path):
    model = define(WEIGHTS, "WeightsModel")()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "w.json").write_text('{"w": 2}')
    (tmp_path / "b" / "w.json").write_text('{"w": 3}')
    pyfunc_jupyter.save_model(
        tmp_path / "m",
        model,
        artifacts={"weights": str(tmp_path / "a" / "w.json"), "other": str(tmp_path / "b" / "w.json")},
        input_example=pd.DataFrame([1, 2]),
    )
    artifacts = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]["python_function"]["artifacts"]
    assert artifacts["weights"]["path"] == "artifacts/w.json"
    assert artifacts["other"]["path"] == "artifacts/1/w.json"
    assert (tmp_path / "m" / "artifacts" / "1" / "w.json").read_text() == '{"w": 3}'
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert loaded.predict(pd.DataFrame([1, 2])) == [2, 4]


def test_live_model_not_touched_by_sample_inference(tmp_path):
    model = define(WEIGHTS, "WeightsModel")()
    (tmp_path / "w.json").write_text('{"w": 2}')
    pyfunc_jupyter.save_model(
        tmp_path / "m", model, artifacts={"weights": str(tmp_path / "w.json")}, input_example=pd.DataFrame([1, 2])
    )
    assert not hasattr(model, "w"), "load_context ran on the user's object; its state would be pickled"


def test_function_model_needs_an_example(tmp_path):
    with pytest.raises(ModelSaveError, match="input_example"):
        pyfunc_jupyter.save_model(tmp_path / "m", lambda df: df)
    assert not (tmp_path / "m").exists()


def test_model_config_and_metadata(tmp_path, linear):
    pyfunc_jupyter.save_model(
        tmp_path / "m", linear, model_config={"k": 1}, metadata={"team": "x"}, pip_requirements=["pandas"]
    )
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert mlmodel["flavors"]["python_function"]["config"] == {"k": 1}
    assert mlmodel["metadata"] == {"team": "x", "pyfunc_jupyter": {"version": pyfunc_jupyter.__version__}}
    assert pyfunc_jupyter.load_model(tmp_path / "m").model_config == {"k": 1}


def test_loaded_model_exposes_metadata_signature_and_input_example(tmp_path, linear):
    example = pd.DataFrame([10, 20, 30])
    pyfunc_jupyter.save_model(tmp_path / "m", linear, input_example=example)
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.input_example, example)
    assert loaded.metadata.flavors["python_function"]["loader_module"] == "mlflow.pyfunc.model"
    assert loaded.metadata.get_input_schema() == loaded.signature.inputs
    assert type(loaded.unwrap_python_model()).__name__ == "SimpleLinearModel"


def test_load_warns_when_pinned_versions_differ(tmp_path, linear):
    import warnings

    pyfunc_jupyter.save_model(tmp_path / "m", linear, input_example=pd.DataFrame([1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pyfunc_jupyter.load_model(tmp_path / "m")  # same environment: no warning
    (tmp_path / "m" / "requirements.txt").write_text("pandas==0.0.1\nnot-a-real-package==1.0\ncloudpickle")
    with pytest.warns(UserWarning, match=r"pandas \(required: 0.0.1, installed: .*not-a-real-package.*pip install -r"):
        pyfunc_jupyter.load_model(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pyfunc_jupyter.load_model(tmp_path / "m", suppress_warnings=True)
