"""Models written by real MLflow load in pyfunc_jupyter (no MLflow installed) and predict the same.

One subprocess of the MLflow interpreter writes every kind of ``_kinds`` twice — with
``mlflow.pyfunc.save_model`` and with ``mlflow.pyfunc.log_model`` inside ``mlflow.start_run()``
(cwd is a temporary directory, so ``mlruns/`` and ``mlflow.db`` land there) — loads each back with
``mlflow.pyfunc.load_model`` and reports its predictions as JSON. This process then loads the same
directories with ``pyfunc_jupyter.load_model`` and must reproduce every prediction exactly
(values, types, DataFrame columns and dtypes, and which inputs are refused).
"""

from __future__ import annotations

import importlib.util
import pickletools

import pytest

import pyfunc_jupyter

from ..conftest import run_python
from ._kinds import KINDS, MLFLOW_KINDS, assert_mlflow_without_us, compare, load_and_call, parse, program, rows

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def mlflow_written(mlflow_python, tmp_path_factory):
    """Every kind written by real MLflow (save and log), with MLflow's own predictions."""
    workdir = tmp_path_factory.mktemp("mlflow_written")
    result = run_python(mlflow_python, program(f"mlflow_write_all({str(workdir)!r}, {MLFLOW_KINDS!r})"), cwd=workdir)
    written = parse(result.stdout)
    written["workdir"] = workdir
    return written


def test_mlflow_is_not_importable_in_the_test_process():
    """As on a machine without MLflow (tests/interop/conftest.py blocks it here); MLflow runs in subprocesses."""
    assert importlib.util.find_spec("mlflow") is None


def test_the_mlflow_subprocess_cannot_import_pyfunc_jupyter(mlflow_written):
    assert_mlflow_without_us(mlflow_written["environment"])


def test_logged_models_live_under_the_working_directory(mlflow_written):
    workdir = mlflow_written["workdir"]
    assert (workdir / "mlflow.db").is_file()
    for name in MLFLOW_KINDS:
        entry = mlflow_written["models"][name]["log"]
        assert "write_error" not in entry, entry["write_error"]
        assert entry["uri"].startswith("models:/m-")
        assert entry["dir"].startswith(str(workdir / "mlruns")), entry["dir"]


def _entry(mlflow_written, name, how):
    entry = mlflow_written["models"][name][how]
    if "write_error" in entry:
        pytest.fail(f"MLflow could not write {name} ({how}):\n{entry['write_error']}")
    return entry


@pytest.mark.parametrize("name", MLFLOW_KINDS)
def test_mlflow_itself_gives_the_expected_predictions(mlflow_written, name):
    """The kinds do what they claim in MLflow, so the comparison below compares the right thing."""
    for how in ("save", "log"):
        results = _entry(mlflow_written, name, how)["results"]["default"]
        assert "load_error" not in results, results["load_error"]
        for label, expected in KINDS[name].get("expect", {}).items():
            assert rows(results[label]) == expected, (how, label, results[label])


@pytest.mark.parametrize("how", ["save", "log"])
@pytest.mark.parametrize("name", MLFLOW_KINDS)
def test_ours_predicts_exactly_like_mlflow(mlflow_written, name, how):
    entry = _entry(mlflow_written, name, how)
    ours = load_and_call(pyfunc_jupyter.load_model, entry["dir"], name, mlflow_written["workdir"])
    problems = compare(ours, entry["results"], f"{name} ({how}, {entry['dir']})")
    assert not problems, "\n".join(problems)


def test_type_hinted_pickle_refers_to_mlflow_data_validation(mlflow_written):
    """The premise of the type-hint case: MLflow's pickle names its data-validation helpers."""
    from pathlib import Path

    pickle_bytes = (Path(_entry(mlflow_written, "k_type_hints", "save")["dir"]) / "python_model.pkl").read_bytes()
    strings = {arg for op, arg, _ in pickletools.genops(pickle_bytes) if isinstance(arg, str)}
    assert "mlflow.pyfunc.utils.data_validation" in strings
    assert "mlflow.pyfunc.model" in strings


def test_type_hinted_model_is_flagged_and_converts_frames(mlflow_written):
    """Ours reads ``is_signature_from_type_hint`` and hands ``predict`` a list, as MLflow does."""
    import pandas as pd

    loaded = pyfunc_jupyter.load_model(_entry(mlflow_written, "k_type_hints", "save")["dir"])
    assert loaded.metadata.is_signature_from_type_hint is True
    assert loaded.predict(["a", "b"]) == ["A", "B"]
    assert loaded.predict(pd.DataFrame({"s": ["p", "q"]})) == ["P", "Q"]


@pytest.mark.parametrize("name", MLFLOW_KINDS)
def test_mlflow_written_models_get_a_card(mlflow_written, name):
    from pyfunc_jupyter.authoring.pipeline import open_model

    opened = open_model(_entry(mlflow_written, name, "save")["dir"])
    data = opened.card.data
    assert data["status"] == "saved" and "MLmodel" in {f["path"] for f in data["files"]}
    assert "mlflow" in {r["name"] for r in data["requirements"]}
    assert {r["source"] for r in data["requirements"]} == {"requirements.txt"}  # MLflow writes no provenance
    assert opened.card.to_html().startswith('<div class="pfj-card">') and "MLmodel" in opened.card.to_text()
    if data["preview"] is not None:
        assert [o["status"] for o in data["preview"]["outputs"]] in (["reference"], ["error"])
