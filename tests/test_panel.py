"""The save/load panel, driven through the widget API: set values, click buttons, read what is shown."""

from __future__ import annotations

import shutil
from html import unescape

import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter import Panel
from pyfunc_jupyter.card import MIME_TYPE

CELL = """
import pandas as pd
from pyfunc_jupyter import PythonModel

class Linear(PythonModel):
    def __init__(self, slope=2.0):
        self.slope = slope
    def predict(self, context, model_input, params=None):
        shift = (params or {}).get("shift", 0)
        return self.slope * model_input["x"] + 3 + shift

class NeedsArgs(PythonModel):
    def __init__(self, a):
        self.a = a
    def predict(self, context, model_input):
        return model_input

class Failing(PythonModel):
    def predict(self, context, model_input):
        return model_input["nope"]

class WithArtifact(PythonModel):
    def load_context(self, context):
        self.text = open(context.artifacts["notes"]).read()
    def predict(self, context, model_input):
        return [self.text] * len(model_input)

def double(model_input):
    return model_input * 2

def two_args(a, b):
    return a

steep = Linear(10.0)
df = pd.DataFrame({"x": [1.0, 2.0]})
rows = [1.0, 2.0]
settings = {"a": 1}
count = 3
"""


@pytest.fixture
def namespace(store, tmp_path, monkeypatch):
    """A notebook-like namespace (``__main__``), in a temp working directory with an empty store."""
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "__main__"}
    exec(compile(CELL, "<cell>", "exec"), ns)
    ns["array"] = np.array([[1.0, 2.0]])
    return ns


@pytest.fixture
def panel(namespace):
    return pyfunc_jupyter.panel(namespace)


def save(panel: Panel, model: str, example: str, **fields) -> None:
    tab = panel.save_tab
    tab.refresh()
    tab.model.value, tab.example.value = model, example
    for name, value in fields.items():
        getattr(tab, name).value = value
    tab.save_button.click()


def stored(store) -> list[str]:
    return sorted(p.relative_to(store).as_posix() for p in store.glob("*/*") if p.is_dir()) if store.exists() else []


# --- Save ----------------------------------------------------------------------------------------------------


def test_save_tab_lists_models_and_examples(panel):
    tab = panel.save_tab
    models = [label for label, _ in tab.model.options]
    assert models == [
        "(choose)",
        "Failing (class)",
        "Linear (class)",
        "NeedsArgs (class)",
        "WithArtifact (class)",
        "double (function)",
        "steep (Linear instance)",
    ]  # two_args takes 2 arguments: not a model
    examples = [label for label, _ in tab.example.options]
    assert examples == [
        "(choose)",
        "array (ndarray 1×2 float64)",
        "count (int 3)",
        "df (DataFrame 2×1)",
        "rows (list of 2)",
        "settings (dict of 1)",
    ]


def test_refresh_picks_up_new_objects_and_keeps_choices(panel, namespace):
    tab = panel.save_tab
    tab.model.value = "double"
    namespace["triple"] = eval("lambda model_input: model_input * 3")
    exec("def half(model_input):\n    return model_input / 2\n", namespace)
    tab.refresh_button.click()
    assert "half" in [v for _, v in tab.model.options] and "triple" not in [v for _, v in tab.model.options]
    assert tab.model.value == "double"


def test_save_is_disabled_until_a_model_and_an_example_are_chosen(panel):
    tab = panel.save_tab
    assert tab.save_button.disabled
    tab.model.value = "Linear"
    assert tab.save_button.disabled
    tab.example.value = "df"
    assert not tab.save_button.disabled
    assert tab.requirements.value.startswith("cloudpickle==")  # prefilled with the inferred requirements


def test_save_runs_the_magics_pipeline_and_shows_the_card(panel, store):
    save(panel, "steep", "df", name="steep_line", params='{"shift": 1}')
    tab = panel.save_tab
    assert tab.error.value == "" and "Saved models:/steep_line/1" in tab.progress.value
    card = tab.card.data
    assert card["status"] == "saved" and card["signature"]["params"] == [
        {"name": "shift", "type": "long", "default": 1}
    ]
    assert [o["status"] for o in card["preview"]["outputs"]] == ["reference", "match", "match"]
    assert tab.result.predict(pd.DataFrame({"x": [0.0]})).tolist() == [4.0]
    assert {r["source"] for r in card["requirements"]} != {"given (pip_requirements)"}  # unedited: inferred
    assert stored(store) == ["steep_line/1"]
    assert next(label for label, _ in panel.load_tab.versions.options).startswith("steep_line v1")  # store refreshed
    # The card is the Output widget's state, not a display through the kernel: it lands in the panel even
    # when the click is made from a cell (nbclient, nbval), never under that cell.
    (shown,) = tab.output.outputs
    assert shown["output_type"] == "display_data" and shown["data"][MIME_TYPE] == card


def test_edited_requirements_are_used(panel, store):
    tab = panel.save_tab
    tab.model.value, tab.example.value = "double", "df"
    tab.requirements.value = "pandas\ncloudpickle"
    tab.save_button.click()
    assert {r["name"]: r["source"] for r in tab.card.data["requirements"]} == {
        "pandas": "given (pip_requirements)",
        "cloudpickle": "given (pip_requirements)",
    }


def test_artifacts_rows(panel, store, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    tab = panel.save_tab
    tab.add_artifact.click()
    row = tab.artifacts.children[0]
    row.key.value, row.path.value = "notes", "notes.txt"
    tab.add_artifact.click()
    tab.artifacts.children[1].remove.click()
    assert len(tab.artifacts.children) == 1
    save(panel, "WithArtifact", "df")
    assert tab.card.data["status"] == "saved" and tab.card.data["artifacts"] == [
        {"key": "notes", "path": "artifacts/notes.txt"}
    ]


@pytest.mark.parametrize(
    "model, example, fields, expected",
    [
        ("Failing", "df", {}, "predict failed on the input example (KeyError: 'nope')"),
        ("Linear", "df", {"params": "{shift: 1"}, "Params are not valid JSON"),
        ("Linear", "df", {"params": "[1]"}, "Params must be a JSON object"),
        ("NeedsArgs", "df", {}, "NeedsArgs.__init__ needs a: make an instance in the notebook"),
        ("Linear", "df", {"name": "bad/name"}, "Not saved"),
    ],
)
def test_save_errors_are_inline_and_write_nothing(panel, store, model, example, fields, expected):
    save(panel, model, example, **fields)
    assert expected in unescape(panel.save_tab.error.value)
    assert stored(store) == [] and panel.save_tab.card is None


def test_save_without_an_example(panel, store):
    tab = panel.save_tab
    tab.model.value = "double"
    tab.save()  # what a click would do if the button were enabled
    assert "Choose a model and an input example first" in tab.error.value and stored(store) == []


def test_missing_artifact_is_a_check_error_on_the_card(panel, store):
    tab = panel.save_tab
    tab.add_artifact_row("notes", "nowhere.txt")
    save(panel, "WithArtifact", "df")
    assert "1 check(s) failed" in tab.error.value
    assert {c["check"] for c in tab.card.data["checks"]} == {"artifact-not-found"}
    assert stored(store) == []


def test_incomplete_artifact_row(panel, store):
    panel.save_tab.add_artifact_row("notes", "")
    save(panel, "double", "df")
    assert "needs both a key and a path" in panel.save_tab.error.value and stored(store) == []


# --- Load ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_store(tmp_path_factory):
    """Three versions saved through a panel once for the module (each save runs the fresh-process check)."""
    root = tmp_path_factory.mktemp("panel")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("PYFUNC_JUPYTER_STORE", str(root / "store"))
        pyfunc_jupyter.set_store(None)
        ns = {"__name__": "__main__"}
        exec(compile(CELL, "<cell>", "exec"), ns)
        made = pyfunc_jupyter.panel(ns)
        save(made, "Linear", "df", name="line", params='{"shift": 0}')
        save(made, "steep", "df", name="line", params='{"shift": 0}')
        save(made, "double", "rows", name="doubler", params="")
        assert stored(root / "store") == ["doubler/1", "line/1", "line/2"], made.save_tab.error.value
    pyfunc_jupyter.set_store(None)
    return root / "store"


@pytest.fixture
def two_versions(panel, store, saved_store):
    """The panel over a copy of the saved store (a test may delete or break versions in its copy)."""
    shutil.copytree(saved_store, store, symlinks=True)
    panel.refresh_store()
    return panel


def test_load_lists_and_searches(two_versions):
    tab = two_versions.load_tab
    labels = [label for label, _ in tab.versions.options]
    assert [" ".join(label.split()[:2]) for label in labels] == ["doubler v1", "line v2", "line v1"]
    assert all(" KB" in label or " B" in label for label in labels)
    tab.search.value = "lin"
    assert [uri for _, uri in tab.versions.options] == ["models:/line/2", "models:/line/1"]
    tab.search.value = "shift"  # signature summaries are searched too
    assert len(tab.versions.options) == 2


def test_version_list_is_a_compact_table(two_versions):
    tab = two_versions.load_tab
    labels = [label for label, _ in tab.versions.options]
    # columns line up: name, then the created time (local, to the second), the size, the signature
    starts = {label.index(label.split()[2]) for label in labels}
    assert len(starts) == 1, labels
    for label in labels:
        created = " ".join(label.split()[2:4])
        assert len(created) == 19 and "." not in created  # no microseconds
    assert "pfj-versions" in tab.versions._dom_classes


def test_chosen_card_is_folded_and_below_the_controls(two_versions):
    tab = two_versions.load_tab
    tab.versions.value = "models:/line/2"
    children = list(tab.children)
    assert children.index(tab.card_output) > children.index(tab.predict_button)
    (shown,) = tab.card_output.outputs
    assert shown["metadata"][MIME_TYPE]["collapsed"] is True
    html = shown["data"]["text/html"]
    assert "<details" in html and " open>" not in html  # every section folded in the panel
    # outside the panel only Files and Pickled state are folded
    card = pyfunc_jupyter.model_card("models:/line/2")
    html = card.to_html()
    assert '<details class="pfj-section" data-section="signature" open>' in html
    assert '<details class="pfj-section" data-section="files">' in html
    assert '<details class="pfj-section" data-section="state">' in html


def test_one_size_per_version(two_versions):
    tab = two_versions.load_tab
    entry = next(e for e in tab._entries if e.uri == "models:/line/2")
    card = pyfunc_jupyter.model_card("models:/line/2")
    from pyfunc_jupyter.card.render import format_size

    assert card.volatile["model_size_bytes"] == entry.size_bytes
    shown = format_size(entry.size_bytes)
    assert f"model size {shown}" in card.to_html()
    assert any(shown in label for label, uri in tab.versions.options if uri == "models:/line/2")


def test_doubles_keep_their_decimal_point():
    from pyfunc_jupyter.card.render import format_number, provenance
    from pyfunc_jupyter.widgets.forms import DoubleText

    assert [format_number(v) for v in (1.0, -2.0, 0.5, 1e20, 1.5e-7)] == ["1.0", "-2.0", "0.5", "1e+20", "1.5e-07"]
    control = DoubleText(description="k (double)")
    control.value = 1
    assert control.value == "1.0" and control.number == 1.0
    control.value = "x"
    with pytest.raises(ValueError, match="k \\(double\\) must be a number"):
        _ = control.number
    assert (
        provenance("inferred: pandas: referenced by the pickle; pandas: imported by cloudpickle")
        == "inferred: pandas: referenced by the pickle, imported by cloudpickle"
    )
    assert provenance("given") == "given"


def test_manage_a_version_description_tags_alias_delete(two_versions, store):
    from pyfunc_jupyter.store.registry import read_registry

    tab = two_versions.load_tab
    tab.versions.value = "models:/line/1"
    assert tab.manage.layout.display != "none"
    tab.description.value = "the first line"
    tab.description_button.click()
    tab.tag_key.value, tab.tag_value.value = "stage", "test"
    tab.tag_button.click()
    tab.alias.value = "champion"
    tab.alias_button.click()
    registry = read_registry(store / "line")
    assert registry["versions"]["1"] == {"description": "the first line", "tags": {"stage": "test"}}
    assert registry["aliases"] == {"champion": 1}
    assert tab.versions.value == "models:/line/1" and "models:/line@champion" in tab.registry_info.value
    assert any("@champion" in label for label, uri in tab.versions.options if uri == "models:/line/1")
    tab.search.value = "champion"  # aliases and tags are searched
    assert [uri for _, uri in tab.versions.options] == ["models:/line/1"]
    tab.search.value = ""
    tab.tag_value.value = ""
    tab.tag_button.click()  # no value: the tag goes
    assert read_registry(store / "line")["versions"]["1"].get("tags") == {}
    tab.alias.value = "nope"
    tab.remove_alias_button.click()  # the registry's error, inline
    assert "no alias 'nope'" in unescape(tab.status.value)
    tab.delete_button.click()  # asks first
    assert (store / "line" / "1").is_dir() and "Click again" in tab.status.value
    tab.delete_button.click()
    assert not (store / "line" / "1" / "MLmodel").exists()
    assert [uri for _, uri in tab.versions.options] == ["models:/doubler/1", "models:/line/2"]
    assert tab.versions.value is None and "Deleted models:/line/1" in tab.status.value
    assert read_registry(store / "line")["aliases"] == {}


def test_choose_shows_card_input_editor_and_params_form(two_versions):
    tab = two_versions.load_tab
    tab.versions.value = "models:/line/2"
    assert tab.card.data["name"] == "line" and tab.card.data["version"] == 2
    (shown,) = tab.card_output.outputs
    assert shown["data"][MIME_TYPE]["version"] == 2
    editor = tab.editor.children[0]
    assert editor.mode.options == ("Table", "JSON") and editor.cell(1, 0).value == "2.0"
    (control,) = tab.params._controls
    assert isinstance(control, widgets.IntText) and control.value == 0 and "shift" in control.description


def test_predict_with_edited_table_and_params(two_versions):
    tab = two_versions.load_tab
    tab.versions.value = "models:/line/2"
    tab.editor.children[0].cell(0, 0).value = "0.5"
    tab.params._controls[0].value = 100
    tab.predict_button.click()
    assert tab.prediction.tolist() == [108.0, 123.0]  # slope 10: 10 * x + 3 + 100
    assert "108.0" in tab.result.value


def test_predict_with_json_input(two_versions):
    tab = two_versions.load_tab
    tab.versions.value = "models:/line/1"
    editor = tab.editor.children[0]
    editor.mode.value = "JSON"
    editor.json.value = '{"columns": ["x"], "data": [[4.0]]}'
    tab.predict_button.click()
    assert tab.prediction.tolist() == [11.0]
    editor.json.value = "{not json"
    tab.predict_button.click()
    assert "not valid JSON" in tab.status.value


def test_predict_shows_the_enforcement_error(two_versions):
    tab = two_versions.load_tab
    tab.versions.value = "models:/line/1"
    tab.editor.children[0].cell(0, 0).value = '"text"'
    tab.predict_button.click()
    assert "column x" in tab.status.value and "to float64" in tab.status.value and tab.prediction is None


def test_load_binds_a_variable(two_versions, namespace):
    tab = two_versions.load_tab
    tab.versions.value = "models:/doubler/1"
    tab.variable.value = "loaded_doubler"
    tab.load_button.click()
    assert "Loaded models:/doubler/1 as `loaded_doubler`" in tab.status.value
    assert namespace["loaded_doubler"].path.name == "1"
    tab.variable.value = "not a name"
    tab.load_button.click()
    assert "not a valid variable name" in tab.status.value


def test_a_model_removed_on_disk_while_the_panel_is_open(two_versions, store):
    tab = two_versions.load_tab
    shutil.rmtree(store / "doubler" / "1")
    tab.versions.value = "models:/doubler/1"
    assert "Refresh the list" in tab.status.value and tab.predict_button.disabled
    tab.refresh_button.click()
    assert "models:/doubler/1" not in [uri for _, uri in tab.versions.options]


def test_a_model_removed_after_it_was_chosen(two_versions, store):
    tab = two_versions.load_tab
    tab.versions.value = "models:/line/1"
    shutil.rmtree(store / "line" / "1")
    tab.predict_button.click()
    assert "Cannot load models:/line/1" in tab.status.value and "Refresh the list" in tab.status.value


def test_broken_versions_are_listed_as_broken(two_versions, store):
    (store / "broken" / "1").mkdir(parents=True)
    (store / "broken" / "1" / "MLmodel").write_text("flavors: [not, a, mapping")
    tab = two_versions.load_tab
    tab.refresh()
    label = next(label for label, uri in tab.versions.options if uri == "models:/broken/1")
    assert "broken:" in label
    tab.versions.value = "models:/broken/1"
    assert "Refresh the list" in tab.status.value or "MLmodel" in tab.status.value


def test_empty_store_hint(panel):
    assert "The store is empty" in panel.load_tab.status.value


# --- Compare -------------------------------------------------------------------------------------------------


def test_compare_two_versions(two_versions):
    tab = two_versions.compare_tab
    tab.refresh_button.click()
    tab.a.value, tab.b.value = "models:/line/1", "models:/line/2"
    assert not tab.compare_button.disabled and tab.editor.children
    tab.compare_button.click()
    outputs = tab.preview["outputs"]
    assert [o["status"] for o in outputs] == ["reference", "mismatch"] and outputs[1]["diff"] == [[0, 0], [1, 0]]
    assert outputs[0]["table"]["rows"] == [[5.0], [7.0]] and outputs[1]["table"]["rows"] == [[13.0], [23.0]]
    assert tab.outputs.value.count('class="pfj-diff"') == 2
    assert [r for r in tab.differences["params"]] == [("shift", "long = 0", "long = 0", False)]
    assert "Outputs: mismatch" in tab.status.value
    # the two versions differ only in pickled state (slope 2.0 vs 10.0): Compare says so, attribute by attribute
    assert tab.differences["state"] == [("self.slope", "float 2.0", "float 10.0", True)]
    assert "Changed: state." in unescape(tab.status.value)
    assert "border:1px solid" in tab.diffs.value and "<th>attribute</th>" in tab.diffs.value


def test_compare_shows_unprintable_state_by_its_pickle(panel, namespace, store):
    exec(
        compile(
            "class Table(PythonModel):\n"
            "    def __init__(self, n):\n"
            "        self.weights = {'w': list(range(n))}\n"
            "    def predict(self, context, model_input):\n"
            "        return model_input['x'] * len(self.weights['w'])\n"
            "small = Table(30)\nlarge = Table(40)\n",
            "<cell>",
            "exec",
        ),
        namespace,
    )
    save(panel, "small", "df", name="table")
    save(panel, "large", "df", name="table")
    tab = panel.compare_tab
    tab.refresh()
    tab.a.value, tab.b.value = "models:/table/1", "models:/table/2"
    tab.compare_button.click()
    ((key, a, b, changed),) = tab.differences["state"]
    assert key == "self.weights" and changed and a.startswith("dict {'w': [0, 1,") and "…" in a
    assert a.split("[pickle ")[1] != b.split("[pickle ")[1]  # the digests tell the two apart


def test_compare_two_models_diffs_signature_and_requirements(two_versions):
    tab = two_versions.compare_tab
    tab.refresh()
    tab.a.value, tab.b.value = "models:/line/1", "models:/doubler/1"
    tab.editor.children[0].json.value = '{"columns": ["x"], "data": [[1.0]]}'
    tab.compare_button.click()
    assert any(changed for *_, changed in tab.differences["inputs"])
    assert "changed" in tab.diffs.value and "<h4>params</h4>" in tab.diffs.value


def test_compare_needs_two_versions(two_versions):
    tab = two_versions.compare_tab
    tab.compare()
    assert "Choose two versions first" in tab.status.value


def test_panel_magic(ipython_shell, store):
    ipython_shell.run_line_magic("load_ext", "pyfunc_jupyter")
    shown = ipython_shell.run_line_magic("pyfunc_panel", "")
    assert isinstance(shown, Panel) and [shown.tabs.get_title(i) for i in range(3)] == ["Save", "Load", "Compare"]
    # What a saved notebook shows where the widget cannot be drawn (no kernel): a sentence, not a widget repr.
    assert (
        shown._repr_mimebundle_()["text/plain"]
        == repr(shown)
        == ("<pyfunc-jupyter panel: Save, Load, Compare (needs a running kernel)>")
    )


def test_input_editor_switches_between_table_and_json(two_versions):
    tab = two_versions.load_tab
    tab.versions.value = "models:/line/1"
    editor = tab.editor.children[0]
    editor.cell(1, 0).value = "5.0"
    editor.mode.value = "JSON"
    assert editor.json.value == '{"columns": ["x"], "data": [[1.0], [5.0]]}'
    editor.json.value = '{"columns": ["x"], "data": [[7.0]]}'
    editor.mode.value = "Table"
    assert editor.cell(0, 0).value == "7.0" and editor.cell(0, 0).tooltip == "x, row 1"
    assert editor.value()["x"].tolist() == [7.0]


def test_every_control_is_labelled(panel):
    def controls(widget):
        if isinstance(widget, widgets.Box):
            for child in widget.children:
                yield from controls(child)
        elif isinstance(
            widget,
            (
                widgets.Text,
                widgets.Textarea,
                widgets.Dropdown,
                widgets.Select,
                widgets.Button,
                widgets.ToggleButtons,
                widgets.IntText,
                widgets.FloatText,
                widgets.Checkbox,
            ),
        ):
            yield widget

    panel.save_tab.add_artifact.click()
    for control in controls(panel):
        assert control.description or control.tooltip, control


def test_params_form_has_the_right_control_per_type():
    from pyfunc_jupyter import infer_signature
    from pyfunc_jupyter.widgets.forms import ParamsForm

    schema = infer_signature(
        pd.DataFrame({"x": [1.0]}),
        params={"k": 3, "temperature": 0.5, "greedy": True, "prefix": "Q:", "stops": ["\n", "."]},
    ).params
    form = ParamsForm(schema)
    kinds = {spec.name: type(control).__name__ for spec, control in zip(form._specs, form._controls, strict=True)}
    assert kinds == {
        "k": "IntText",
        "temperature": "DoubleText",
        "greedy": "Checkbox",
        "prefix": "Text",
        "stops": "Text",
    }
    assert form.values() == {"k": 3, "temperature": 0.5, "greedy": True, "prefix": "Q:", "stops": ["\n", "."]}
    form._controls[4].value = '["END"]'
    form._controls[2].value = False
    assert form.values()["stops"] == ["END"] and form.values()["greedy"] is False
    form._controls[4].value = "END"
    with pytest.raises(ValueError, match="must be a JSON list"):
        form.values()
    assert ParamsForm(None).values() is None


def test_a_predict_that_edits_its_input_changes_nothing_outside_it(panel, namespace, store):
    """Save leaves the notebook's example alone; in Compare each version predicts on its own copy."""
    exec(
        compile(
            "class Doubling(PythonModel):\n"
            "    def predict(self, context, model_input):\n"
            "        model_input['x'] *= 2\n"
            "        return model_input\n",
            "<cell>",
            "exec",
        ),
        namespace,
    )
    save(panel, "Doubling", "df", name="doubling")
    save(panel, "Doubling", "df", name="doubling_again")  # the same content under one name would be reused
    assert stored(store) == ["doubling/1", "doubling_again/1"] and namespace["df"]["x"].tolist() == [1.0, 2.0]
    tab = panel.compare_tab
    tab.refresh()
    tab.a.value, tab.b.value = "models:/doubling/1", "models:/doubling_again/1"
    tab.compare_button.click()
    outputs = tab.preview["outputs"]
    assert [o["status"] for o in outputs] == ["reference", "match"], outputs  # B did not get A's doubled input
    assert outputs[1]["table"]["rows"] == [[2.0], [4.0]] and tab.preview["input"]["rows"] == [[1.0], [2.0]]


def test_aliases_and_descriptions_from_the_load_tab(two_versions, store):
    from pyfunc_jupyter.errors import ModelLoadError

    tab = two_versions.load_tab
    tab.versions.value = "models:/line/1"
    assert "Aliases: none" in tab.registry_info.value and not tab.alias_button.disabled
    tab.alias.value = "champion"
    tab.alias_button.click()
    assert "models:/line@champion now points to models:/line/1" in tab.status.value
    assert pyfunc_jupyter.load_model("models:/line@champion").path == store / "line" / "1"
    assert any("@champion" in label for label, uri in tab.versions.options if uri == "models:/line/1")
    assert "models:/line@champion" in tab.registry_info.value
    tab.search.value = "champ"  # aliases are searched too
    assert [uri for _, uri in tab.versions.options] == ["models:/line/1"]
    tab.description.value = "the first fit"
    tab.description_button.click()
    assert pyfunc_jupyter.get_model_version("line", 1).description == "the first fit"
    tab.remove_alias_button.click()
    with pytest.raises(ModelLoadError, match="no alias 'champion'"):
        pyfunc_jupyter.load_model("models:/line@champion")
    assert tab.versions.value is None  # the search no longer matches: nothing is chosen
    tab.alias_button.click()
    assert "Choose a version first" in tab.status.value
    tab.search.value = ""
    tab.versions.value = "models:/line/2"
    tab.alias.value = "v2"  # reserved: refused inline, nothing changes
    tab.alias_button.click()
    assert "reserved" in tab.status.value and "@" not in "".join(label for label, _ in tab.versions.options)
