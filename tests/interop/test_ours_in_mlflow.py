"""Models written by pyfunc_jupyter load in real MLflow (without pyfunc_jupyter) and predict the same.

This process saves every kind of ``_kinds`` with ``pyfunc_jupyter.save_model`` (the classes are
defined in a namespace named ``__main__``, as in a notebook, so they are pickled by value). One
subprocess of the MLflow interpreter, with pyfunc_jupyter *not* importable, loads them all with
``mlflow.pyfunc.load_model`` and reports predictions as JSON; ``pyfunc_jupyter.load_model`` in this
process must give exactly the same. A second subprocess (pyfunc_jupyter importable beside MLflow)
runs the guide's cells with only the ``import mlflow`` line changed, so the model classes derive
from MLflow's own ``PythonModel``, and checks both loaders on what they save.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path

import pytest

import pyfunc_jupyter

from ..conftest import ROOT, run_python
from ..test_guide import GUIDE_OUTPUTS, port
from ._kinds import (
    KINDS,
    MLFLOW_KINDS,
    OURS_KINDS,
    assert_mlflow_without_us,
    compare,
    define,
    isolated,
    load_and_call,
    parse,
    program,
    rows,
)

pytestmark = pytest.mark.interop

STORE_KINDS = ["a_class", "d_inference_params", "e_artifacts"]


def _load_in_mlflow(mlflow_python, workdir: Path, models: dict) -> dict:
    """``mlflow.pyfunc.load_model`` + the kinds' calls in a fresh MLflow interpreter without us."""
    spec = {"_workdir": str(workdir), "models": models}
    run_dir = workdir / "mlflow-cwd"  # an empty cwd: nothing of ours (or helpers_mod) on sys.path
    run_dir.mkdir(exist_ok=True)
    result = run_python(mlflow_python, program(f"mlflow_load_all(json.loads({json.dumps(spec)!r}))"), cwd=run_dir)
    return parse(result.stdout)


@pytest.fixture(scope="module")
def ours_saved(tmp_path_factory):
    """Every kind saved by pyfunc_jupyter.save_model in this process: name -> {dir} or {save_error}."""
    workdir = tmp_path_factory.mktemp("ours_saved")
    saved = {}
    for name in OURS_KINDS:
        try:
            with isolated(workdir):
                python_model, kwargs = define(name, "ours", workdir)
                info = pyfunc_jupyter.save_model(workdir / "saved" / name, python_model, **kwargs)
            saved[name] = {"dir": str(info.path)}
        except Exception:  # noqa: BLE001 - reported by the test of that kind
            saved[name] = {"save_error": traceback.format_exc()}
    return workdir, saved


@pytest.fixture(scope="module")
def mlflow_loaded(ours_saved, mlflow_python):
    workdir, saved = ours_saved
    models = {name: [name, entry["dir"]] for name, entry in saved.items() if "dir" in entry}
    return _load_in_mlflow(mlflow_python, workdir, models)


def test_the_mlflow_subprocess_cannot_import_pyfunc_jupyter(mlflow_loaded):
    assert_mlflow_without_us(mlflow_loaded["environment"])


@pytest.mark.parametrize("name", OURS_KINDS)
def test_mlflow_loads_ours_and_predicts_like_our_loader(ours_saved, mlflow_loaded, name):
    workdir, saved = ours_saved
    if "save_error" in saved[name]:
        pytest.fail(f"pyfunc_jupyter.save_model failed for {name}:\n{saved[name]['save_error']}")
    theirs = mlflow_loaded["results"][name]
    for variant, results in theirs.items():
        assert "load_error" not in results, f"MLflow could not load {name} [{variant}]:\n{results['load_error']}"
    for label, expected in KINDS[name].get("expect", {}).items():
        assert rows(theirs["default"][label]) == expected, (label, theirs["default"][label])
    ours = load_and_call(pyfunc_jupyter.load_model, saved[name]["dir"], name, workdir)
    problems = compare(ours, theirs, f"{name} ({saved[name]['dir']})")
    assert not problems, "\n".join(problems)


def test_models_logged_to_the_store_load_in_mlflow(store, mlflow_python, tmp_path):
    infos = {}
    with pyfunc_jupyter.start_run() as run:
        for name in STORE_KINDS:
            with isolated(tmp_path):
                python_model, kwargs = define(name, "ours", tmp_path)
                infos[name] = pyfunc_jupyter.log_model(name=name, python_model=python_model, **kwargs)
    for info in infos.values():
        assert Path(info.path).parent.parent == store
        assert info.run_id == run.info.run_id
    theirs = _load_in_mlflow(mlflow_python, tmp_path, {name: [name, info.path] for name, info in infos.items()})
    assert theirs["environment"]["pyfunc_jupyter_importable"] is False
    for name, info in infos.items():
        assert "load_error" not in theirs["results"][name]["default"], theirs["results"][name]["default"]
        ours = load_and_call(pyfunc_jupyter.load_model, info.model_uri, name, tmp_path)
        problems = compare(ours, theirs["results"][name], f"{name} ({info.model_uri})")
        assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Classes deriving from MLflow's own PythonModel, saved by pyfunc_jupyter (both installed)
# ---------------------------------------------------------------------------------------------


def _only_import_mlflow_changed(cell: str) -> str:
    """The guide's cell with only ``import mlflow`` swapped: ``from mlflow... import`` stay MLflow's."""
    return cell.replace("import mlflow\n", "import pyfunc_jupyter as mlflow\n")


GUIDE_VARIANTS = {"mlflow_base": _only_import_mlflow_changed, "ported": port}


@pytest.fixture(scope="module")
def beside_mlflow(mlflow_python, tmp_path_factory):
    """One MLflow subprocess with pyfunc_jupyter importable: the guide's cells and every kind."""
    workdir = tmp_path_factory.mktemp("beside_mlflow")
    cells = {
        f"{example}-{variant}": [example, change(source)]
        for example, (source, _) in GUIDE_OUTPUTS.items()
        for variant, change in GUIDE_VARIANTS.items()
    }
    run_dir = workdir / "cwd"
    run_dir.mkdir()
    call = (
        f"dict(guide=run_guide_cells({str(workdir)!r}, json.loads({json.dumps(cells)!r})), "
        f"kinds=ours_with_mlflow_base({str(workdir)!r}, {MLFLOW_KINDS!r}))"
    )
    result = run_python(
        mlflow_python,
        program(call),
        cwd=run_dir,
        env={"PYTHONPATH": str(ROOT), "PYFUNC_JUPYTER_STORE": str(workdir / "store")},
    )
    return workdir, parse(result.stdout)


def _guide_entry(beside_mlflow, key):
    entry = beside_mlflow[1]["guide"]["cells"][key]
    if "error" in entry:
        pytest.fail(f"guide cell {key} failed beside MLflow:\nprinted: {entry['printed']!r}\n{entry['error']}")
    return entry


@pytest.mark.parametrize("variant", sorted(GUIDE_VARIANTS))
@pytest.mark.parametrize("example", sorted(GUIDE_OUTPUTS))
def test_guide_cell_beside_mlflow(beside_mlflow, example, variant):
    """The guide's cell prints the guide's output, and MLflow loads what it logged alike."""
    assert beside_mlflow[1]["guide"]["environment"]["pyfunc_jupyter_importable"] is True
    entry = _guide_entry(beside_mlflow, f"{example}-{variant}")
    expected = GUIDE_OUTPUTS[example][1]
    assert entry["printed"] == expected
    assert entry["mlflow_printed"] == expected
    if variant == "mlflow_base" and "from mlflow.pyfunc import PythonModel" in GUIDE_OUTPUTS[example][0]:
        assert "mlflow.pyfunc.model.PythonModel" in entry["mro"], entry["mro"]


def test_guide_class_deriving_from_mlflow_saved_by_us_loads_in_both(beside_mlflow):
    """``from mlflow.pyfunc import PythonModel`` + pyfunc_jupyter.save_model: both loaders, and ours
    again here, where MLflow is not installed (its names in the pickle map to stand-ins)."""
    import pandas as pd

    entry = _guide_entry(beside_mlflow, "simple_linear-mlflow_base")
    expected = GUIDE_OUTPUTS["simple_linear"][1]
    assert entry["saved_mlflow_printed"] == expected
    assert entry["saved_ours_printed"] == expected
    for directory in (entry["saved_dir"], entry["dir"]):
        assert f"{pyfunc_jupyter.load_model(directory).predict(pd.DataFrame([1, 2, 3]))}\n" == expected


@pytest.mark.parametrize("name", MLFLOW_KINDS)
def test_kind_deriving_from_mlflow_saved_by_us(beside_mlflow, name):
    """Every kind, written on MLflow's base class and saved by us: MLflow's loader, our loader
    beside MLflow, and our loader here without MLflow all predict the same."""
    workdir, result = beside_mlflow
    entry = result["kinds"]["models"][name]
    if "write_error" in entry:
        pytest.fail(
            f"pyfunc_jupyter.save_model failed on {name} deriving from MLflow's PythonModel:\n{entry['write_error']}"
        )
    theirs = entry["mlflow"]
    for variant, results in theirs.items():
        assert "load_error" not in results, f"MLflow could not load {name} [{variant}]:\n{results['load_error']}"
    problems = compare(entry["ours"], theirs, f"{name} beside MLflow")
    ours_here = load_and_call(pyfunc_jupyter.load_model, entry["dir"], name, workdir)
    problems += compare(ours_here, theirs, f"{name} here, without MLflow")
    assert not problems, "\n".join(problems)
