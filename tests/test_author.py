"""The authoring pipeline through its API (no IPython): preview tables, names, verify-before-publish."""

from __future__ import annotations

import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter.authoring.pipeline import AuthorRequest, PredictError, author, default_name
from pyfunc_jupyter.card.render import format_size
from pyfunc_jupyter.authoring.preview import build_preview, compare, json_table
from pyfunc_jupyter.errors import ModelSaveError


class Linear(pyfunc_jupyter.PythonModel):
    def predict(self, context, model_input, params=None):
        return 2 * model_input["x"] + 3


Linear.__module__ = "__main__"  # as if defined in a notebook: pickled by value, not by reference to tests/


def linear_function(model_input):
    return model_input


@pytest.mark.parametrize("model, name", [(Linear(), "linear"), (linear_function, "linear_function"),
                                         (type("HTTPModelV2", (Linear,), {})(), "http_model_v2")])
def test_default_name_is_snake_case(model, name):
    assert default_name(model) == name


@pytest.mark.parametrize("value, table", [
    ([{"a": 1, "b": 2}, {"a": 3, "c": 4}], {"columns": ["a", "b", "c"], "rows": [[1, 2, None], [3, None, 4]]}),
    ({"a": [1, 2], "b": [3, 4]}, {"columns": ["a", "b"], "rows": [[1, 3], [2, 4]]}),
    ([[1, 2], [3, 4]], {"columns": ["0", "1"], "rows": [[1, 2], [3, 4]]}),
    ([1, [2, 3]], {"columns": ["value"], "rows": [[1], ["[2,3]"]]}),
    ("text", {"columns": ["value"], "rows": [["text"]]}),
])
def test_json_table_shapes(value, table):
    assert json_table(value) == table


def test_compare_marks_cells_with_a_float_tolerance():
    a = {"columns": ["v"], "rows": [[1.0], [2.0], [True]]}
    assert compare(a, {"columns": ["v"], "rows": [[1.0 + 1e-12], [2.5], [1]]}) == [[1, 0], [2, 0]]
    assert compare(a, {"columns": ["w"], "rows": [[1.0]]}) == [[0, 0]]  # another shape: all of it differs


def test_build_preview_statuses():
    table = {"columns": ["v"], "rows": [[1]]}
    preview = build_preview(table, [{"label": "a", "table": table}, {"label": "b", "table": table},
                                    {"label": "c", "table": {"columns": ["v"], "rows": [[2]]}},
                                    {"label": "d", "error": "boom"}])
    assert [o["status"] for o in preview["outputs"]] == ["reference", "match", "mismatch", "error"]
    assert preview["outputs"][2]["diff"] == [[0, 0]] and preview["input"]["total_rows"] == 1


def test_format_size():
    assert [format_size(n) for n in (0, 1023, 1024, 5 * 1024 ** 2, None)] == ["0 B", "1023 B", "1.0 KB", "5.0 MB", "?"]


def test_verify_runs_before_publishing_and_can_stop_the_save(tmp_path, store):
    seen = []

    def refuse(built):
        seen.append(sorted(p.name for p in built.iterdir()))
        raise RuntimeError("not today")

    example = pd.DataFrame({"x": [1.0]})
    with pytest.raises(RuntimeError, match="not today"):
        pyfunc_jupyter.save_model(tmp_path / "m", Linear(), input_example=example, verify=refuse)
    assert "MLmodel" in seen[0] and "python_model.pkl" in seen[0]
    assert not (tmp_path / "m").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    with pytest.raises(RuntimeError):
        pyfunc_jupyter.log_model("m", Linear(), input_example=example, verify=refuse)
    assert pyfunc_jupyter.list_models() == []
    assert not (store / "m").exists()  # no version, no staging, not even the name's folder


def test_author_saves_reloads_and_previews(store):
    authored = author(AuthorRequest(Linear(), pd.DataFrame({"x": [1.0, 2.0]}), name="lin"))
    assert authored.saved and authored.info.model_uri == "models:/lin/1"
    assert [o["status"] for o in authored.card.data["preview"]["outputs"]] == ["reference", "match", "match"]
    assert authored.predict(pd.DataFrame({"x": [0.0]})).tolist() == [3.0]
    assert set(authored.timings) >= {"checks", "predict", "save", "fresh_process", "reload", "total"}


def test_author_without_example_refuses(store):
    with pytest.raises(ModelSaveError, match="input example is required"):
        author(AuthorRequest(Linear(), None))
    assert pyfunc_jupyter.list_models() == []


def notebook(source: str) -> dict:
    """Run ``source`` as a notebook cell would: in a namespace named ``__main__``."""
    namespace = {"__name__": "__main__", "PythonModel": pyfunc_jupyter.PythonModel}
    exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102
    return namespace


def test_author_predict_error_keeps_the_original(store):
    cell = notebook("class Failing(PythonModel):\n"
                    "    def predict(self, context, model_input, params=None):\n"
                    "        raise KeyError('missing column')\n")
    with pytest.raises(PredictError) as caught:
        author(AuthorRequest(cell["Failing"](), pd.DataFrame({"x": [1.0]})))
    assert caught.value.stage == "predict" and isinstance(caught.value.original, KeyError)
    assert "nothing was saved" in str(caught.value) and pyfunc_jupyter.list_models() == []


def test_author_unsaved_result_cannot_predict(store):
    cell = notebook("class Undefined(PythonModel):\n"
                    "    def predict(self, context, model_input, params=None):\n"
                    "        return nowhere(model_input)\n")
    authored = author(AuthorRequest(cell["Undefined"](), pd.DataFrame({"x": [1.0]})))
    assert not authored.saved and [f.check for f in authored.errors] == ["undefined-name"]
    assert authored.card.data["signature"]["inputs"] == [{"name": "x", "type": "double", "required": True}]
    with pytest.raises(ModelSaveError, match="not saved"):
        authored.predict(pd.DataFrame({"x": [1.0]}))


def test_warnings_about_the_model_go_on_the_card_and_library_ones_are_reissued(store):
    cell = notebook("import warnings, pandas\n"
                    "class Noisy(PythonModel):\n"
                    "    def predict(self, context, model_input, params=None):\n"
                    "        warnings.warn_explicit('library notice', FutureWarning, pandas.__file__, 1)\n"
                    "        warnings.warn('model notice')\n"
                    "        return model_input\n")
    with pytest.warns(FutureWarning, match="library notice"):
        authored = author(AuthorRequest(cell["Noisy"](), pd.DataFrame({"x": [1.0]})))
    assert [f.message for f in authored.findings if f.check == "python-warning"] == ["UserWarning: model notice"]
    assert authored.card.data["summary"]["warnings"] == 1, authored.findings  # predict never reads params: no params finding
