"""The local folder store: where it is, versions, URIs, runs and listing."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter.errors import ModelLoadError, ModelSaveError

from .models_for_tests import LINEAR, define


@pytest.fixture
def linear():
    return define(LINEAR, "SimpleLinearModel")()


def test_default_store_is_models_under_cwd(monkeypatch, tmp_path):
    monkeypatch.delenv("PYFUNC_JUPYTER_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    pyfunc_jupyter.set_store(None)
    assert pyfunc_jupyter.get_store() == tmp_path / "models"
    monkeypatch.setenv("PYFUNC_JUPYTER_STORE", str(tmp_path / "env"))
    assert pyfunc_jupyter.get_store() == tmp_path / "env"
    pyfunc_jupyter.set_store(tmp_path / "explicit")
    try:
        assert pyfunc_jupyter.get_store() == tmp_path / "explicit"
    finally:
        pyfunc_jupyter.set_store(None)


def test_versions_latest_and_listing(store, linear):
    example = pd.DataFrame([10, 20, 30])
    first = pyfunc_jupyter.log_model("linear", linear, input_example=example)
    second = pyfunc_jupyter.log_model(name="linear", python_model=linear, input_example=example, new_version=True)
    assert (first.version, second.version) == (1, 2)
    assert second.model_uri == "models:/linear/2"
    assert pyfunc_jupyter.load_model("models:/linear/latest").path == store / "linear" / "2"
    assert pyfunc_jupyter.load_model("models:/linear/1").predict(pd.DataFrame([1]))[0].tolist() == [5]
    entries = pyfunc_jupyter.list_models()
    assert [(e.name, e.version) for e in entries] == [("linear", 1), ("linear", 2)]
    assert entries[0].signature_summary and "long" in entries[0].signature_summary
    assert entries[0].created and entries[0].size_bytes > 0 and entries[0].error is None
    metadata = pyfunc_jupyter.load_model("models:/linear/1").metadata.metadata
    assert metadata["pyfunc_jupyter"]["name"] == "linear" and metadata["pyfunc_jupyter"]["source"]


def test_runs_carry_their_id(store, linear):
    with pyfunc_jupyter.start_run() as run:
        info = pyfunc_jupyter.log_model(artifact_path="model", python_model=linear, pip_requirements=["pandas"])
    assert info.run_id == run.info.run_id
    entry = pyfunc_jupyter.list_models()[0]
    assert entry.run_id == run.info.run_id
    assert pyfunc_jupyter.load_model(f"runs:/{run.info.run_id}/model").path == store / "model" / "1"
    assert pyfunc_jupyter.active_run() is None


def test_bad_names_and_unknown_uris_are_clear_errors(store, linear):
    with pytest.raises(ModelSaveError, match="cannot name a store folder"):
        pyfunc_jupyter.log_model("../escape", linear, pip_requirements=["pandas"])
    with pytest.raises(ModelSaveError, match="not both"):
        pyfunc_jupyter.log_model("a", linear, artifact_path="b")
    with pytest.raises(ModelLoadError, match="No model named 'nope'"):
        pyfunc_jupyter.load_model("models:/nope/1")
    pyfunc_jupyter.log_model("there", linear, pip_requirements=["pandas"])
    with pytest.raises(ModelLoadError, match=r"versions: \[1\]"):
        pyfunc_jupyter.load_model("models:/there/7")
    with pytest.raises(ModelLoadError, match="No model 'x' logged in run"):
        pyfunc_jupyter.load_model("runs:/abc/x")


def test_listing_shows_broken_versions_without_failing(store, linear):
    pyfunc_jupyter.log_model("ok", linear, pip_requirements=["pandas"])
    (store / "broken" / "1").mkdir(parents=True)
    (store / "garbled" / "1").mkdir(parents=True)
    (store / "garbled" / "1" / "MLmodel").write_text("flavors: [")
    entries = {e.name: e for e in pyfunc_jupyter.list_models()}
    assert entries["ok"].error is None
    assert "no MLmodel" in entries["broken"].error
    assert "Malformed MLmodel" in entries["garbled"].error


def test_import_stays_light():
    code = (
        "import sys, pyfunc_jupyter; "
        "heavy = [m for m in ('pandas', 'numpy', 'cloudpickle', 'yaml', 'IPython', 'ipykernel', "
        "'jupyter_server', 'ipywidgets') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    ).stdout
    assert out.strip() == "[]"


def test_failed_log_leaves_no_version_and_no_staging(store, linear):
    class Broken(pyfunc_jupyter.PythonModel):
        def predict(self, context, model_input):
            raise ValueError("bad")

    pyfunc_jupyter.log_model("m", linear, pip_requirements=["pandas"])
    with pytest.raises(ModelSaveError, match="predict failed on the input example"):
        pyfunc_jupyter.log_model("m", Broken(), input_example=pd.DataFrame([1]))
    assert sorted(p.name for p in (store / "m").iterdir()) == ["1"]
    assert pyfunc_jupyter.log_model("m", linear, pip_requirements=["pandas"], new_version=True).version == 2


def test_failed_first_log_of_a_name_leaves_no_empty_name_folder(store, linear):
    with pytest.raises(ModelSaveError, match="Only one of"):
        pyfunc_jupyter.log_model("new_name", linear, pip_requirements=["pandas"], extra_pip_requirements=["numpy"])
    assert not (store / "new_name").exists()
    assert [e.name for e in pyfunc_jupyter.list_models()] == []


def test_save_into_an_existing_empty_directory(tmp_path, linear):
    (tmp_path / "empty").mkdir()
    pyfunc_jupyter.save_model(tmp_path / "empty", linear, pip_requirements=["pandas"])
    assert (tmp_path / "empty" / "MLmodel").is_file()
