"""The authoring pipeline through its API (no IPython): preview tables, names, verify-before-publish."""

from __future__ import annotations

import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter.authoring.pipeline import AuthorRequest, PredictError, author, default_name, open_model
from pyfunc_jupyter.authoring.preview import build_preview, compare, json_table
from pyfunc_jupyter.card.render import format_size
from pyfunc_jupyter.errors import ModelSaveError


class Linear(pyfunc_jupyter.PythonModel):
    def predict(self, context, model_input, params=None):
        return 2 * model_input["x"] + 3


Linear.__module__ = "__main__"  # as if defined in a notebook: pickled by value, not by reference to tests/


def linear_function(model_input):
    return model_input


@pytest.mark.parametrize(
    "model, name",
    [
        (Linear(), "linear"),
        (linear_function, "linear_function"),
        (type("HTTPModelV2", (Linear,), {})(), "http_model_v2"),
    ],
)
def test_default_name_is_snake_case(model, name):
    assert default_name(model) == name


@pytest.mark.parametrize(
    "value, table",
    [
        ([{"a": 1, "b": 2}, {"a": 3, "c": 4}], {"columns": ["a", "b", "c"], "rows": [[1, 2, None], [3, None, 4]]}),
        ({"a": [1, 2], "b": [3, 4]}, {"columns": ["a", "b"], "rows": [[1, 3], [2, 4]]}),
        ([[1, 2], [3, 4]], {"columns": ["0", "1"], "rows": [[1, 2], [3, 4]]}),
        ([1, [2, 3]], {"columns": ["value"], "rows": [[1], ["[2,3]"]]}),
        ("text", {"columns": ["value"], "rows": [["text"]]}),
    ],
)
def test_json_table_shapes(value, table):
    assert json_table(value) == table


def test_compare_marks_cells_with_a_float_tolerance():
    a = {"columns": ["v"], "rows": [[1.0], [2.0], [True]]}
    assert compare(a, {"columns": ["v"], "rows": [[1.0 + 1e-12], [2.5], [1]]}) == [[1, 0], [2, 0]]
    assert compare(a, {"columns": ["w"], "rows": [[1.0]]}) == [[0, 0]]  # another shape: all of it differs


def test_build_preview_statuses():
    table = {"columns": ["v"], "rows": [[1]]}
    preview = build_preview(
        table,
        [
            {"label": "a", "table": table},
            {"label": "b", "table": table},
            {"label": "c", "table": {"columns": ["v"], "rows": [[2]]}},
            {"label": "d", "error": "boom"},
        ],
    )
    assert [o["status"] for o in preview["outputs"]] == ["reference", "match", "mismatch", "error"]
    assert preview["outputs"][2]["diff"] == [[0, 0]] and preview["input"]["total_rows"] == 1


def test_format_size():
    assert [format_size(n) for n in (0, 1023, 1024, 5 * 1024**2, None)] == ["0 B", "1023 B", "1.0 KB", "5.0 MB", "?"]


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
    exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def test_author_predict_error_keeps_the_original(store):
    cell = notebook(
        "class Failing(PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        raise KeyError('missing column')\n"
    )
    with pytest.raises(PredictError) as caught:
        author(AuthorRequest(cell["Failing"](), pd.DataFrame({"x": [1.0]})))
    assert caught.value.stage == "predict" and isinstance(caught.value.original, KeyError)
    assert "nothing was saved" in str(caught.value) and pyfunc_jupyter.list_models() == []


def test_author_unsaved_result_cannot_predict(store):
    cell = notebook(
        "class Undefined(PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return nowhere(model_input)\n"
    )
    authored = author(AuthorRequest(cell["Undefined"](), pd.DataFrame({"x": [1.0]})))
    assert not authored.saved and [f.check for f in authored.errors] == ["undefined-name"]
    assert authored.card.data["signature"]["inputs"] == [{"name": "x", "type": "double", "required": True}]
    with pytest.raises(ModelSaveError, match="not saved"):
        authored.predict(pd.DataFrame({"x": [1.0]}))


def test_warnings_about_the_model_go_on_the_card_and_library_ones_are_reissued(store):
    cell = notebook(
        "import warnings, pandas\n"
        "class Noisy(PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        warnings.warn_explicit('library notice', FutureWarning, pandas.__file__, 1)\n"
        "        warnings.warn('model notice')\n"
        "        return model_input\n"
    )
    with pytest.warns(FutureWarning, match="library notice"):
        authored = author(AuthorRequest(cell["Noisy"](), pd.DataFrame({"x": [1.0]})))
    assert [f.message for f in authored.findings if f.check == "python-warning"] == ["UserWarning: model notice"]
    assert authored.card.data["summary"]["warnings"] == 1, (
        authored.findings
    )  # predict never reads params: no params finding


EDITING = """
import numpy as np, pandas as pd
def edit(value):
    if isinstance(value, pd.DataFrame):
        value[value.columns[0]] = -1.0
    elif isinstance(value, np.ndarray):
        value[...] = -1
    elif isinstance(value, list):
        for item in value:
            edit(item)
        value.append(-1)
    elif isinstance(value, dict):
        for item in value.values():
            edit(item)
        value["added"] = -1
class Editing(PythonModel):
    def predict(self, context, model_input, params=None):
        edit(model_input)
        if params:
            edit(params)
        return [1.0]
"""


def same(a, b) -> bool:
    """Equal values of the same types, through DataFrames, arrays, lists, tuples and dicts."""
    import numpy as np

    if type(a) is not type(b):
        return False
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def examples():
    import numpy as np

    return [
        pd.DataFrame({"x": [1.0, 2.0]}),
        np.array([[1.0, 2.0]]),
        [[1.0, 2.0], [3.0, 4.0]],
        {"x": [1.0, 2.0]},
        [{"a": {"b": [1.0]}}],
        (pd.DataFrame({"x": [1.0]}), {"k": [1, 2], "s": "a"}),
    ]


@pytest.mark.parametrize("index", range(len(examples())), ids=["frame", "array", "lists", "dict", "nested", "params"])
def test_sample_inferences_leave_the_callers_objects_alone(tmp_path, store, index):
    """A predict that edits its input (and params) in place changes neither the caller's example nor
    the saved one, in save_model's sample inference, the authoring pipeline and open_model's preview."""
    import copy

    model = notebook(EDITING)["Editing"]()
    example, pristine = examples()[index], examples()[index]
    info = pyfunc_jupyter.save_model(tmp_path / "m", model, input_example=example)
    assert same(example, pristine) and info.example_output == [1.0]
    data, params = example if isinstance(example, tuple) else (example, None)
    authored = author(AuthorRequest(model, data, params=params, name="editing"))
    assert same(example, pristine), "the pipeline edited the caller's example"
    assert [o["status"] for o in authored.card.data["preview"]["outputs"]] == ["reference", "match", "match"]
    saved = authored.model.input_example
    kept = copy.deepcopy(saved)
    assert same(pyfunc_jupyter.load_model(authored.info.path).input_example, kept)  # the file holds the original
    opened = open_model(authored.info.model_uri)
    assert same(opened.model.input_example, kept), "the preview's predict edited the loaded model's example"


def test_a_large_example_is_sampled_by_rows_or_by_size(store):
    import numpy as np

    wide = np.zeros((200, 10_000))  # 16 MB in 200 rows: a sample of about 1 MB
    authored = author(AuthorRequest(linear_function, wide, name="wide"))
    (finding,) = [f for f in authored.findings if f.check == "large-example"]
    assert finding.severity == "warning" and "15.3 MB" in finding.message and "first 13 rows" in finding.message
    assert authored.saved and authored.model.input_example.shape == (13, 10_000) and wide.shape == (200, 10_000)
    rows = [[float(i)] for i in range(100_001)]
    authored = author(AuthorRequest(linear_function, rows, name="rows"))
    assert [f.check for f in authored.findings] == ["large-example"] and len(rows) == 100_001
    assert len(authored.model.input_example) == 100
    from pyfunc_jupyter.authoring.checks import sample_large_example

    at_the_limit = [[float(i)] for i in range(100_000)]
    assert sample_large_example(at_the_limit) == (at_the_limit, None)


def test_sigterm_during_the_fresh_process_check_kills_the_child(tmp_path, store):
    """A SIGTERMed author run (a kernel being shut down) takes the fresh-process child with it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pidfile = tmp_path / "fresh.pid"
    script = tmp_path / "author.py"
    script.write_text(
        "import pandas as pd\n"
        "from pyfunc_jupyter.authoring.pipeline import AuthorRequest, author\n"
        "def slow(model_input):\n"
        "    import os, signal, sys, time\n"
        "    if sys.flags.safe_path:  # only in the fresh process (python -P)\n"
        "        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"        open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "        time.sleep(300)\n"
        "    return model_input\n"
        "author(AuthorRequest(slow, pd.DataFrame({'x': [1.0]}), name='slow'))\n",
        encoding="utf-8",
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not pidfile.exists() and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.05)
    time.sleep(0.2)
    parent.send_signal(signal.SIGTERM)
    _, stderr = parent.communicate(timeout=60)
    assert parent.returncode == -signal.SIGTERM, stderr
    child = int(pidfile.read_text())
    for _ in range(50):  # the child is not ours to reap: give init a moment
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the fresh-process child outlived its SIGTERMed parent")
    assert pyfunc_jupyter.list_models() == [] and not any(store.rglob("*")) if store.exists() else True
