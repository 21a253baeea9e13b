"""Models from code, both ways, against real MLflow 3.17 (differential).

The same code files and the same save arguments go through ``mlflow.pyfunc.save_model``/``log_model``
(in the MLflow interpreter, which cannot import us) and through ``pyfunc_jupyter.save_model``/``log_model``
(this process, which has no MLflow). Both write the same signature JSON; MLflow-written directories
load here (the files' ``import mlflow`` gets our stand-in) and ours load in MLflow; every call gives
the same prediction, or is refused by both.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

import pyfunc_jupyter

from ..conftest import run_python
from ._code_models import CASES, REFUSED, load_and_call_code, mlmodel_of, save_kwargs, write_code_file
from ._kinds import MARK, assert_mlflow_without_us, compare, parse

pytestmark = pytest.mark.interop

WAYS = ["save", "log"]


def _program(call: str) -> str:
    """_kinds.py and _code_models.py as one program, plus ``call`` printed as a marked JSON line."""
    from pathlib import Path

    here = Path(__file__).parent
    ours = (here / "_code_models.py").read_text(encoding="utf-8").replace("from __future__ import annotations", "")
    source = (here / "_kinds.py").read_text(encoding="utf-8") + "\n" + ours
    # A `python -c` program has no __file__; pyspark (if the MLflow venv has it, which MLflow's type-hint
    # code may import) takes that for a doctest run and exits. Name the program as a script would be.
    main_file = "sys.modules['__main__'].__file__ = '/interop_code_models.py'"
    return f"{source}\n\n{main_file}\nprint({MARK!r} + json.dumps({call}))\n"


@pytest.fixture(scope="module")
def mlflow_written(mlflow_python, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("code_mlflow")
    result = run_python(mlflow_python, _program(f"mlflow_write_code_models({str(workdir)!r})"), cwd=workdir)
    return parse(result.stdout)


@pytest.fixture(scope="module")
def ours_written(tmp_path_factory):
    """Every case written by us (save_model, and log_model into a store), while MLflow is absent."""
    workdir = tmp_path_factory.mktemp("code_ours")
    pyfunc_jupyter.set_store(workdir / "store")
    written = {}
    try:
        for key, case in CASES.items():
            path = write_code_file(str(workdir), case)
            saved = pyfunc_jupyter.save_model(workdir / "saved" / key, path, **save_kwargs(case))
            logged = pyfunc_jupyter.log_model(key, path, **save_kwargs(case))
            written[key] = {"save": saved, "log": logged}
    finally:
        pyfunc_jupyter.set_store(None)
    assert sys.modules.get("mlflow") is None  # the stand-in is gone once the files ran (the block is back)
    return workdir, written


@pytest.fixture(scope="module")
def mlflow_loaded_ours(mlflow_python, ours_written):
    workdir, written = ours_written
    spec = {f"{key}/{how}": [key, info.path] for key, infos in written.items() for how, info in infos.items()}
    result = run_python(
        mlflow_python, _program(f"mlflow_load_code_models(json.loads({json.dumps(spec)!r}))"), cwd=workdir
    )
    return parse(result.stdout)


def _entry(mlflow_written, key, how):
    entry = mlflow_written["models"][key][how]
    if "write_error" in entry:
        pytest.fail(f"MLflow could not write {key} ({how}):\n{entry['write_error']}")
    return entry


def test_no_mlflow_here_and_no_us_there(mlflow_written):
    assert importlib.util.find_spec("mlflow") is None
    assert_mlflow_without_us(mlflow_written["environment"])


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("key", CASES)
def test_mlflow_written_code_models_load_here_and_predict_the_same(mlflow_written, key, how):
    entry = _entry(mlflow_written, key, how)
    flavor = entry["mlmodel"]["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model" and "python_model" not in flavor
    for variant, results in entry["results"].items():
        assert "load_error" not in results, (variant, results["load_error"])
    ours = load_and_call_code(pyfunc_jupyter.load_model, entry["dir"], CASES[key])
    problems = compare(ours, entry["results"], f"{key} ({how}, {entry['dir']})")
    assert not problems, "\n".join(problems)
    assert sys.modules.get("mlflow") is None


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("key", CASES)
def test_our_code_models_load_in_mlflow_and_predict_the_same(ours_written, mlflow_loaded_ours, key, how):
    _, written = ours_written
    info = written[key][how]
    theirs = mlflow_loaded_ours["results"][f"{key}/{how}"]
    for variant, results in theirs.items():
        assert "load_error" not in results, (variant, results["load_error"])
    ours = load_and_call_code(pyfunc_jupyter.load_model, info.path, CASES[key])
    problems = compare(ours, theirs, f"{key} ({how}, {info.path})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", CASES)
def test_same_mlmodel_entries_as_mlflow(mlflow_written, ours_written, key):
    """Same signature JSON, type-hint flag, loader, config and example info; the file saved by name."""
    theirs = _entry(mlflow_written, key, "save")["mlmodel"]
    ours = mlmodel_of(ours_written[1][key]["save"].path)
    assert ours["signature"] == theirs["signature"]
    for field in ("is_signature_from_type_hint", "saved_input_example_info"):
        assert ours.get(field) == theirs.get(field), field
    mine, other = ours["flavors"]["python_function"], theirs["flavors"]["python_function"]
    for field in ("loader_module", "config", "streamable", "code"):
        assert mine.get(field) == other.get(field), field
    file_name = CASES[key]["file"][0]
    assert other["model_code_path"].endswith("/" + file_name)  # MLflow records the writer's absolute path
    assert mine["model_code_path"] == file_name  # ours: the file name, which is what both loaders read


def test_both_refuse_a_model_config_the_file_needs_but_was_not_given(mlflow_written, tmp_path):
    from pyfunc_jupyter.errors import ModelSaveError

    for key, case in REFUSED.items():
        assert mlflow_written["refused"][key] == "refused"
        with pytest.raises(ModelSaveError, match="Config file is not provided"):
            pyfunc_jupyter.save_model(tmp_path / key, write_code_file(str(tmp_path), case), **save_kwargs(case))
        assert not (tmp_path / key).exists()


def test_a_cell_saved_with_from_code_loads_in_mlflow(ipython_shell, store, mlflow_python, tmp_path, monkeypatch):
    """The file ``%%pyfunc_model --from-code`` writes (our imports ported to MLflow's) is a model MLflow loads."""
    import textwrap

    import pandas as pd

    monkeypatch.chdir(tmp_path)
    ipython_shell.run_line_magic("load_ext", "pyfunc_jupyter")
    result = ipython_shell.run_cell(
        textwrap.dedent("""
        %%pyfunc_model greeter --from-code --example "pd.DataFrame({'name': ['ann']})" --config "{'greeting': 'hello'}"
        import pandas as pd
        from pyfunc_jupyter import PythonModel

        class Greeter(PythonModel):
            def load_context(self, context):
                self.greeting = context.model_config["greeting"]

            def predict(self, context, model_input, params=None):
                return pd.DataFrame({"text": [f"{self.greeting} {n}" for n in model_input["name"]]})
        """).lstrip()
    )
    assert result.success
    path = ipython_shell.user_ns.pop("_pyfunc").info.path
    for name in ("pd", "PythonModel", "Greeter"):
        ipython_shell.user_ns.pop(name, None)
    program = (
        f"import mlflow.pyfunc, pandas as pd\n"
        f"model = mlflow.pyfunc.load_model({str(path)!r})\n"
        f"print({MARK!r} + model.predict(pd.DataFrame({{'name': ['bo']}})).to_json())\n"
    )
    theirs = parse(run_python(mlflow_python, program, cwd=tmp_path).stdout)
    ours = json.loads(pyfunc_jupyter.load_model(path).predict(pd.DataFrame({"name": ["bo"]})).to_json())
    assert theirs == ours == {"text": {"0": "hello bo"}}


def test_with_mlflow_installed_beside_us_both_loaders_agree(mlflow_python, tmp_path):
    """Where real MLflow is installed too, a code file's `import mlflow` is the real one (no stand-in):
    our save and load still get the model set_model recorded and the model_config, as MLflow's loader does."""
    from ..conftest import ROOT

    result = parse(
        run_python(
            mlflow_python, _program(f"both_installed({str(tmp_path)!r})"), cwd=tmp_path, env={"PYTHONPATH": str(ROOT)}
        ).stdout
    )
    assert result["environment"]["pyfunc_jupyter_importable"] and result["environment"]["mlflow_importable"]
    assert set(result["models"]) == {*CASES, "ours_names"}
    for key, entry in result["models"].items():
        assert "write_error" not in entry, (key, entry["write_error"])
        for variant, results in entry["mlflow"].items():
            assert "load_error" not in results, (key, variant, results["load_error"])
        problems = compare(entry["ours"], entry["mlflow"], key)
        assert not problems, "\n".join(problems)
    greeted = result["models"]["ours_names"]["ours"]
    assert greeted["default"]["df"]["items"][0]["value"] == "hello bo"
    assert greeted["override"]["df"]["items"][0]["value"] == "hi bo"
