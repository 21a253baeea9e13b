"""Bad input and faults end in a clear error and lose nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pandas as pd
import pytest
import yaml

import pyfunc_jupyter
from pyfunc_jupyter.errors import MLmodelError, ModelLoadError, ModelSaveError, UnpicklableModelError

from .models_for_tests import LINEAR, WEIGHTS, define

EXAMPLE = pd.DataFrame([10, 20, 30])


@pytest.fixture
def linear():
    return define(LINEAR, "SimpleLinearModel")()


def test_non_empty_target_without_overwrite_touches_nothing(tmp_path, linear):
    target = tmp_path / "m"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(ModelSaveError, match="overwrite=True"):
        pyfunc_jupyter.save_model(target, linear, input_example=EXAMPLE)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging left behind


def test_overwrite_replaces_and_failed_overwrite_keeps_the_old_model(tmp_path, linear):
    target = tmp_path / "m"
    pyfunc_jupyter.save_model(target, linear, input_example=EXAMPLE)
    first_uuid = yaml.safe_load((target / "MLmodel").read_text())["model_uuid"]

    class Broken(pyfunc_jupyter.PythonModel):
        def predict(self, context, model_input):
            raise RuntimeError("boom")

    with pytest.raises(ModelSaveError, match="predict failed on the input example"):
        pyfunc_jupyter.save_model(target, Broken(), input_example=EXAMPLE, overwrite=True)
    assert yaml.safe_load((target / "MLmodel").read_text())["model_uuid"] == first_uuid
    pyfunc_jupyter.save_model(target, linear, input_example=EXAMPLE, overwrite=True)
    assert yaml.safe_load((target / "MLmodel").read_text())["model_uuid"] != first_uuid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_missing_artifact_or_code_path_is_an_error_before_writing(tmp_path, linear):
    with pytest.raises(ModelSaveError, match="does not exist"):
        pyfunc_jupyter.save_model(
            tmp_path / "m", linear, artifacts={"w": str(tmp_path / "nope.bin")}, input_example=EXAMPLE
        )
    with pytest.raises(ModelSaveError, match="does not exist"):
        pyfunc_jupyter.save_model(tmp_path / "m", linear, code_paths=[str(tmp_path / "nope.py")], input_example=EXAMPLE)
    assert list(tmp_path.iterdir()) == []


def test_unpicklable_state_names_the_attribute_path(tmp_path):
    class Llm:
        def __init__(self):
            self._lock = threading.Lock()

    class Holder(pyfunc_jupyter.PythonModel):
        def __init__(self):
            self.llm = Llm()

        def predict(self, context, model_input):
            return model_input

    with pytest.raises(UnpicklableModelError, match=r"model\.llm\._lock") as caught:
        pyfunc_jupyter.save_model(tmp_path / "m", Holder(), input_example=EXAMPLE)
    assert caught.value.attribute_path == "model.llm._lock"
    assert "load_context" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_mutually_exclusive_requirement_options(tmp_path, linear):
    with pytest.raises(ModelSaveError):
        pyfunc_jupyter.save_model(
            tmp_path / "m", linear, pip_requirements=["pandas"], conda_env={"dependencies": ["python=3.11"]}
        )
    assert list(tmp_path.iterdir()) == []


def test_load_context_with_wrong_parameter_name_is_refused(tmp_path):
    class Wrong(pyfunc_jupyter.PythonModel):
        def load_context(self, ctx):
            pass

        def predict(self, context, model_input):
            return model_input

    with pytest.raises(ModelSaveError, match=r"load_context\(self, context\)"):
        pyfunc_jupyter.save_model(tmp_path / "m", Wrong(), input_example=EXAMPLE)


def _saved(tmp_path, linear):
    pyfunc_jupyter.save_model(tmp_path / "m", linear, input_example=EXAMPLE)
    return tmp_path / "m"


def _edit_mlmodel(path, edit):
    data = yaml.safe_load((path / "MLmodel").read_text())
    edit(data)
    (path / "MLmodel").write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("bad", ["../outside.json", "/etc/passwd", "artifacts/../../x"])
def test_loader_refuses_artifact_paths_escaping_the_model(tmp_path, linear, bad):
    path = _saved(tmp_path, linear)
    _edit_mlmodel(path, lambda d: d["flavors"]["python_function"].update(artifacts={"w": {"path": bad}}))
    with pytest.raises(MLmodelError, match=r"artifacts\.w\.path") as caught:
        pyfunc_jupyter.load_model(path)
    assert caught.value.key == "flavors.python_function.artifacts.w.path"


def test_loader_refuses_symlinks_out_and_code_outside(tmp_path, linear):
    path = _saved(tmp_path, linear)
    (tmp_path / "secret").mkdir()
    os.symlink(tmp_path / "secret", path / "code")
    _edit_mlmodel(path, lambda d: d["flavors"]["python_function"].update(code="code"))
    with pytest.raises(MLmodelError, match="outside the model directory"):
        pyfunc_jupyter.load_model(path)


@pytest.mark.parametrize(
    "text, key",
    [
        ("flavors: [unclosed", None),
        ("just a string", "(top level)"),
        ("flavors: {}", "flavors.python_function"),
        ("flavors: {python_function: {loader_module: 3}}", "flavors.python_function.loader_module"),
        ("flavors: {python_function: {loader_module: mlflow.pyfunc.model}}", "flavors.python_function.python_model"),
        (
            "flavors: {python_function: {loader_module: mlflow.pyfunc.model, python_model: p.pkl, artifacts: [1]}}",
            "flavors.python_function.artifacts",
        ),
        (
            "flavors: {python_function: {loader_module: mlflow.pyfunc.model, python_model: p.pkl}}\nsignature: 5",
            "signature",
        ),
    ],
)
def test_malformed_mlmodel_raises_one_exception_class_naming_file_and_key(tmp_path, text, key):
    (tmp_path / "MLmodel").write_text(text)
    with pytest.raises(MLmodelError) as caught:
        pyfunc_jupyter.load_model(tmp_path)
    assert caught.value.key == key
    assert str(tmp_path / "MLmodel") in str(caught.value)


def test_loading_a_missing_path_or_directory_without_mlmodel(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        pyfunc_jupyter.load_model(tmp_path / "nope")
    with pytest.raises(ModelLoadError, match="no MLmodel"):
        pyfunc_jupyter.load_model(tmp_path)


HELPER_MODEL = """
import shared_helper
from pyfunc_jupyter import PythonModel

class UsesHelper(PythonModel):
    def predict(self, context, model_input):
        import shared_helper as again
        return [shared_helper.VALUE, again.VALUE]
"""


def test_two_models_shipping_the_same_module_name_each_get_their_own(tmp_path, monkeypatch):
    models = []
    for value in ("A", "B"):
        src = tmp_path / f"src_{value}"
        src.mkdir()
        (src / "shared_helper.py").write_text(f"VALUE = {value!r}\n")
        monkeypatch.syspath_prepend(str(src))
        sys.modules.pop("shared_helper", None)
        model = define(HELPER_MODEL, "UsesHelper")()
        pyfunc_jupyter.save_model(
            tmp_path / value, model, code_paths=[str(src / "shared_helper.py")], pip_requirements=["cloudpickle"]
        )
        sys.path.remove(str(src))
        sys.modules.pop("shared_helper", None)
        models.append(tmp_path / value)
    a = pyfunc_jupyter.load_model(models[0])
    b = pyfunc_jupyter.load_model(models[1])
    assert a.predict([1]) == ["A", "A"]
    assert b.predict([1]) == ["B", "B"]
    assert a.predict([1]) == ["A", "A"]
    assert "shared_helper" not in sys.modules


KILLED_SAVE = """
import os, sys, time, pandas as pd
import pyfunc_jupyter
from pyfunc_jupyter import PythonModel

class Slow(PythonModel):
    def load_context(self, context):
        print("building", flush=True)
        time.sleep(60)

    def predict(self, context, model_input):
        return model_input

if sys.argv[1] == "store":
    pyfunc_jupyter.log_model("slow", Slow(), input_example=[1], pip_requirements=["pandas"])
else:
    pyfunc_jupyter.save_model(sys.argv[1], Slow(), input_example=[1], pip_requirements=["pandas"])
"""


@pytest.mark.parametrize("where", ["path", "store"])
def test_a_save_killed_midway_leaves_no_model_and_no_store_entry(tmp_path, where):
    script = tmp_path / "killed_save.py"
    script.write_text(textwrap.dedent(KILLED_SAVE))
    target = tmp_path / "target"
    env = {**os.environ, "PYFUNC_JUPYTER_STORE": str(tmp_path / "store")}
    proc = subprocess.Popen(
        [sys.executable, str(script), "store" if where == "store" else str(target)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout.readline().strip() == "building"  # mid-save: pickle written, staging present
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not target.exists()
    store = tmp_path / "store"
    if where == "store":
        leftovers = [p.name for p in (store / "slow").iterdir()]
        assert all(name.startswith(".pyfunc-staging-") for name in leftovers)
        assert pyfunc_jupyter.list_models(store) == []
    else:
        assert all(
            p.name.startswith(".pyfunc-staging-")
            for p in tmp_path.iterdir()
            if p.name not in ("killed_save.py", "store")
        )


CONCURRENT_LOG = """
import sys, pandas as pd
import pyfunc_jupyter
from pyfunc_jupyter import PythonModel

class M(PythonModel):
    def predict(self, context, model_input):
        return model_input

for _ in range(3):
    print(pyfunc_jupyter.log_model("shared", M(), pip_requirements=["pandas"], new_version=True).version, flush=True)
"""


def test_two_processes_logging_the_same_name_get_distinct_versions(tmp_path):
    script = tmp_path / "log.py"
    script.write_text(textwrap.dedent(CONCURRENT_LOG))
    env = {**os.environ, "PYFUNC_JUPYTER_STORE": str(tmp_path / "store")}
    procs = [
        subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    versions = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        versions += [int(v) for v in out.split()]
    assert sorted(versions) == [1, 2, 3, 4, 5, 6]
    entries = pyfunc_jupyter.list_models(tmp_path / "store")
    assert [e.version for e in entries] == [1, 2, 3, 4, 5, 6]
    assert all(e.error is None for e in entries)
    for entry in entries:
        assert pyfunc_jupyter.load_model(entry.path).predict([7]) == [7]


def test_remote_uris_are_refused_with_the_fix(tmp_path, linear):
    with pytest.raises(ModelSaveError, match=r"remote URI.*Download it first"):
        pyfunc_jupyter.save_model(tmp_path / "m", linear, artifacts={"w": "s3://bucket/w.bin"}, input_example=EXAMPLE)
    with pytest.raises(ModelLoadError, match="Download the model directory first"):
        pyfunc_jupyter.load_model("s3://bucket/model")
    (tmp_path / "w.json").write_text('{"w": 2}')
    model = define(WEIGHTS, "WeightsModel")()
    pyfunc_jupyter.save_model(
        tmp_path / "m", model, artifacts={"weights": f"file://{tmp_path / 'w.json'}"}, input_example=pd.DataFrame([1])
    )
    assert pyfunc_jupyter.load_model(f"file://{tmp_path / 'm'}").predict(pd.DataFrame([3])) == [6]


PACKAGE_MODEL = """
from pyfunc_jupyter import PythonModel

class UsesPackage(PythonModel):
    def predict(self, context, model_input):
        from featurepkg.scale import factor
        return [x * factor() for x in model_input[0]]
"""


def test_code_path_directory_ships_a_package(tmp_path, monkeypatch):
    package = tmp_path / "src" / "featurepkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "scale.py").write_text("def factor():\n    return 3\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "junk.pyc").write_bytes(b"x")
    model = define(PACKAGE_MODEL, "UsesPackage")()
    info = pyfunc_jupyter.save_model(tmp_path / "m", model, code_paths=[str(package)], input_example=[1, 2])
    assert info.flavors["python_function"]["code"] == "code"
    assert sorted(p.name for p in (tmp_path / "m" / "code" / "featurepkg").iterdir()) == ["__init__.py", "scale.py"]
    assert pyfunc_jupyter.load_model(tmp_path / "m").predict([1, 2]) == [3, 6]
    assert "featurepkg" not in sys.modules
