"""Models-from-code cases shared by both interpreters (sent to the MLflow one after ``_kinds.py``'s source).

Each case is one Python file (written under ``<workdir>/code/`` with the same text on both sides),
the save/log keyword arguments and the calls run against the loaded model. The MLflow subprocess
writes every case with ``mlflow.pyfunc.save_model`` and ``log_model``; the test process writes it
with ``pyfunc_jupyter.save_model`` and ``log_model``; each side loads the other's directories.
Only the standard library is imported at module level.
"""

from __future__ import annotations

import contextlib
import os
import textwrap
import traceback

with contextlib.suppress(ImportError):  # the test process; in the subprocess _kinds.py's source precedes this
    from ._kinds import encode, environment, error_kind, isolated

_SCALER = """
    import mlflow
    import pandas as pd


    class Scaler(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            self.factor = (context.model_config or {}).get("factor", 1)

        def predict(self, context, model_input, params=None):
            return pd.DataFrame({"y": model_input["x"] * self.factor})


    mlflow.models.set_model(Scaler())
"""

_DOUBLE = """
    from mlflow.models import set_model


    def double(model_input):
        return model_input * 2


    set_model(double)
"""

_GREETER = """
    from mlflow.models import ModelConfig, set_model
    from mlflow.pyfunc import PythonModel

    config = ModelConfig(development_config={"greeting": "dev"})


    class Greeter(PythonModel):
        def predict(self, context, model_input, params=None):
            return [f"{config.get('greeting')} {name}" for name in model_input["name"]]


    set_model(Greeter())
"""

_HINTED = """
    import mlflow


    class Upper(mlflow.pyfunc.PythonModel):
        def predict(self, model_input: list[str], params=None) -> list[str]:
            return [text.upper() for text in model_input]


    mlflow.models.set_model(Upper())
"""

_PARAMS = """
    import pandas as pd
    from mlflow.models import set_model
    from mlflow.pyfunc import PythonModel


    class Shift(PythonModel):
        def predict(self, context, model_input, params=None):
            return pd.DataFrame({"y": model_input["x"] + params["shift"]})


    set_model(Shift())
"""

_FRAME = "pd.DataFrame({'x': [1, 2]})"

CASES: dict[str, dict] = {
    "scaler_config": {
        "file": ("scaler.py", _SCALER),
        "save": f"dict(input_example={_FRAME}, model_config={{'factor': 3}})",
        "calls": [
            ["df", f"{_FRAME}", None],
            ["list", "[{'x': 5}]", None],
            ["float_refused", "pd.DataFrame({'x': [1.5]})", None],
        ],
        "load_configs": {"override": {"factor": 10}},
    },
    "scaler_plain": {
        "file": ("scaler.py", _SCALER),
        "save": f"dict(input_example={_FRAME})",
        "calls": [["df", f"{_FRAME}", None], ["missing_column", "pd.DataFrame({'z': [1]})", None]],
    },
    "function": {
        "file": ("double.py", _DOUBLE),
        "save": f"dict(input_example={_FRAME})",
        "calls": [["df", "pd.DataFrame({'x': [4, 5]})", None]],
    },
    "model_config": {
        "file": ("greeter.py", _GREETER),
        "save": "dict(input_example=pd.DataFrame({'name': ['ann']}), model_config={'greeting': 'hello'})",
        "calls": [["df", "pd.DataFrame({'name': ['bo', 'cy']})", None]],
        "load_configs": {"override": {"greeting": "hi"}},
    },
    "hinted": {
        "file": ("upper.py", _HINTED),
        "save": "dict(input_example=['a', 'b'])",
        "calls": [
            ["list", "['x', 'yz']", None],
            ["frame", "pd.DataFrame({'t': ['q']})", None],
            ["ints_refused", "[1, 2]", None],
        ],
    },
    "params": {
        "file": ("shift.py", _PARAMS),
        "save": f"dict(input_example=({_FRAME}, {{'shift': 1}}))",
        "calls": [
            ["default", f"{_FRAME}", None],
            ["given", f"{_FRAME}", "{'shift': 10}"],
            ["wrong_type_refused", f"{_FRAME}", "{'shift': 'a'}"],
        ],
    },
}

# Saved without the model_config its ModelConfig needs: both sides must refuse to write it.
REFUSED = {
    "model_config_missing": {
        "file": ("greeter.py", _GREETER),
        "save": "dict(input_example=pd.DataFrame({'name': ['ann']}))",
    }
}


def write_code_file(workdir: str, case: dict) -> str:
    """Write the case's code file under ``<workdir>/code/`` and return its path."""
    name, text = case["file"]
    folder = os.path.join(workdir, "code")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text).lstrip())
    return path


def save_kwargs(case: dict) -> dict:
    import cloudpickle
    import pandas as pd

    kwargs = eval(case["save"], {"pd": pd})
    kwargs["pip_requirements"] = [f"pandas=={pd.__version__}", f"cloudpickle=={cloudpickle.__version__}"]
    return kwargs


def run_code_calls(model, case: dict) -> dict:
    import numpy as np
    import pandas as pd

    out = {}
    for label, data_expr, params_expr in case["calls"]:
        data = eval(data_expr, {"pd": pd, "np": np})
        params = eval(params_expr) if params_expr else None
        try:
            out[label] = encode(model.predict(data, params=params))
        except Exception as exc:  # noqa: BLE001 - the error is the result being compared
            out[label] = {"error": error_kind(exc), "type": type(exc).__name__, "message": str(exc)[:400]}
    return out


def load_and_call_code(load_model, directory: str, case: dict) -> dict:
    """variant ("default" and each load_configs name) -> call results, or a load error."""
    results = {}
    for variant, config in {"default": None, **case.get("load_configs", {})}.items():
        try:
            model = load_model(directory, model_config=config) if config else load_model(directory)
        except Exception:  # noqa: BLE001
            results[variant] = {"load_error": traceback.format_exc()[-3000:]}
            continue
        results[variant] = run_code_calls(model, case)
    return results


def mlmodel_of(directory: str) -> dict:
    import yaml

    with open(os.path.join(directory, "MLmodel"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def mlflow_write_code_models(workdir: str) -> dict:
    """Save and log every case with real MLflow; load each back with MLflow; try the refused cases."""
    import warnings

    import mlflow
    import mlflow.pyfunc

    warnings.simplefilter("ignore")
    out = {"environment": {**environment(), "mlflow_version": mlflow.__version__}, "models": {}, "refused": {}}
    for key, case in CASES.items():
        entries = out["models"][key] = {}
        for how in ("save", "log"):
            try:
                with isolated(workdir):
                    path = write_code_file(workdir, case)
                    if how == "save":
                        directory = uri = os.path.join(workdir, "mlflow_saved", key)
                        mlflow.pyfunc.save_model(directory, python_model=path, **save_kwargs(case))
                    else:
                        with mlflow.start_run():
                            info = mlflow.pyfunc.log_model(name=key, python_model=path, **save_kwargs(case))
                        location = mlflow.get_logged_model(info.model_id).artifact_location
                        directory, uri = location.removeprefix("file://"), info.model_uri
            except Exception:  # noqa: BLE001
                entries[how] = {"write_error": traceback.format_exc()[-3000:]}
                continue
            entries[how] = {
                "dir": directory,
                "mlmodel": mlmodel_of(directory),
                "results": load_and_call_code(mlflow.pyfunc.load_model, uri, case),
            }
    for key, case in REFUSED.items():
        try:
            mlflow.pyfunc.save_model(
                os.path.join(workdir, "mlflow_refused", key),
                python_model=write_code_file(workdir, case),
                **save_kwargs(case),
            )
            out["refused"][key] = "written"
        except Exception as exc:  # noqa: BLE001
            out["refused"][key] = error_kind(exc)
    return out


def mlflow_load_code_models(spec: dict) -> dict:
    """Load our directories with ``mlflow.pyfunc.load_model``: {key: [case, dir]} -> results."""
    import warnings

    import mlflow.pyfunc

    warnings.simplefilter("ignore")
    return {
        "environment": {**environment(), "mlflow_version": mlflow.__version__},
        "results": {
            key: load_and_call_code(mlflow.pyfunc.load_model, directory, CASES[case])
            for key, (case, directory) in spec.items()
        },
    }


def both_installed(workdir: str) -> dict:
    """MLflow interpreter *with* pyfunc_jupyter importable: every case saved by ``pyfunc_jupyter.save_model``
    (so the files import real MLflow), loaded back by both loaders; plus a file written with our names."""
    import warnings

    import mlflow.pyfunc

    import pyfunc_jupyter

    warnings.simplefilter("ignore")
    out = {"environment": {**environment(), "mlflow_version": mlflow.__version__}, "models": {}}
    cases = dict(
        CASES,
        ours_names={
            "file": ("ours_names.py", _OURS_NAMES),
            "save": "dict(input_example=pd.DataFrame({'name': ['ann']}), model_config={'greeting': 'hello'})",
            "calls": [["df", "pd.DataFrame({'name': ['bo']})", None]],
            "load_configs": {"override": {"greeting": "hi"}},
        },
    )
    for key, case in cases.items():
        directory = os.path.join(workdir, "both", key)
        try:
            with isolated(workdir):
                pyfunc_jupyter.save_model(directory, write_code_file(workdir, case), **save_kwargs(case))
        except Exception:  # noqa: BLE001
            out["models"][key] = {"write_error": traceback.format_exc()[-3000:]}
            continue
        out["models"][key] = {
            "mlflow": load_and_call_code(mlflow.pyfunc.load_model, directory, case),
            "ours": load_and_call_code(pyfunc_jupyter.load_model, directory, case),
        }
    return out


_OURS_NAMES = """
    from pyfunc_jupyter import PythonModel
    from pyfunc_jupyter.models import ModelConfig, set_model

    config = ModelConfig(development_config={"greeting": "dev"})


    class Greeter(PythonModel):
        def predict(self, context, model_input, params=None):
            return [f"{config.get('greeting')} {name}" for name in model_input["name"]]


    set_model(Greeter())
"""
