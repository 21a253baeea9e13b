"""The store's read side under hostile input: no escape from the store, one bad file breaks one version only,
every malformed MLmodel is an ``MLmodelError``, and a YAML alias bomb is refused before it expands."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter.card.listing import ModelList
from pyfunc_jupyter.errors import MLmodelError, ModelLoadError, ModelSaveError

from .models_for_tests import LINEAR, define


@pytest.fixture
def linear():
    return define(LINEAR, "SimpleLinearModel")()


@pytest.fixture
def good(store, linear):
    """A store with one good model, ``good`` v1."""
    pyfunc_jupyter.log_model("good", linear, input_example=pd.DataFrame([1.0, 2.0]))
    return store / "good" / "1"


def _refused(uri, match):
    for call in (pyfunc_jupyter.load_model, pyfunc_jupyter.model_card):
        with pytest.raises(ModelLoadError, match=match):
            call(uri)


def _listed(store):
    """``{(name, version): error}`` of the listing; the magic's and the panel's views must work too."""
    entries = pyfunc_jupyter.list_models()
    table = ModelList.from_store()
    assert table._repr_html_() and repr(table)
    panel = pyfunc_jupyter.panel({"__name__": "__main__"})
    labels = [label for label, _ in panel.load_tab.versions.options]
    assert len(labels) == len(entries)
    return {(e.name, e.version): e.error for e in entries}


# --- 2. escapes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "models:/../latest",
        "models:/../7",
        "models:/..",
        "models:/../7/",
        "models:/./1",
        "models:/a/../good/1",
        "models:/good\n/1",
        "models:/-x/1",
        "models:/%2e%2e/1",
    ],
)
def test_uris_naming_no_store_model_are_refused(good, store, uri):
    # a model sits next to the store folder, where '..' would lead
    shutil.copytree(good, store.parent / "7")
    shutil.copytree(good, store.parent / "latest")
    _refused(uri, "not a model name of the store|No model named")


@pytest.mark.parametrize("version", ["²", "١", "３", "01", "+1", " 1", "1\n", "0x1", "1.0"])
def test_versions_are_ascii_digits_only(good, version):
    shutil.copytree(good, good.parent / version)
    _refused(f"models:/good/{version}", "has no version")
    assert _listed(None) == {("good", 1): None}  # not a second v1, and the listing does not break
    assert pyfunc_jupyter.log_model("good", lambda df: df, input_example=[1.0]).version == 2


@pytest.mark.parametrize(
    "uri", ["models:/good\x00/1", "models:/good/1\x00", "runs:/x\x00/good", "a\x00b", b"models:/good/1"]
)
def test_nul_characters_and_bytes_are_refused(good, uri):
    _refused(uri, "NUL|not a model name|has no version|No model|is text")


def test_names_are_matched_whole(store, linear):
    for name in ("model\n", "model\r", "../model", "a/b", ".hidden", "", "-x"):
        with pytest.raises(ModelSaveError, match="cannot name a store folder"):
            pyfunc_jupyter.log_model(name, linear, input_example=pd.DataFrame([1.0]))
    assert not store.exists() or not any(store.iterdir())


def test_invalid_name_folders_are_listed_as_broken(good, store):
    shutil.copytree(good, store / "bad name" / "1")
    listed = _listed(store)
    assert listed[("good", 1)] is None and "not a valid model name" in listed[("bad name", 1)]


def test_symlinked_name_and_version_folders_are_refused(good, store, tmp_path):
    outside = tmp_path / "outside"
    shutil.copytree(good.parent, outside / "other")
    os.symlink(outside / "other", store / "linked")
    os.symlink(outside / "other" / "1", good.parent / "2")
    listed = _listed(store)
    assert listed[("good", 1)] is None
    assert "symbolic link" in listed[("good", 2)] and "symbolic link" in listed[("linked", 1)]
    _refused("models:/linked/1", "symbolic link")
    _refused("models:/good/2", "symbolic link")
    _refused("models:/good/latest", "symbolic link")


@pytest.mark.parametrize("file", ["MLmodel", "pyfunc_jupyter.json", "requirements.txt"])
def test_files_linking_outside_the_model_are_refused(good, store, tmp_path, file):
    copy = good.parent / "2"
    shutil.copytree(good, copy)
    outside = tmp_path / file
    shutil.copyfile(copy / file, outside)
    (copy / file).unlink()
    os.symlink(outside, copy / file)
    with pytest.raises(MLmodelError, match="leads outside the model directory"):
        pyfunc_jupyter.model_card("models:/good/2")
    listed = _listed(store)
    assert listed[("good", 1)] is None
    if file != "requirements.txt":  # the listing reads only MLmodel and the summary file
        assert "leads outside the model directory" in listed[("good", 2)]
    if file == "MLmodel":
        with pytest.raises(MLmodelError, match="leads outside the model directory"):
            pyfunc_jupyter.load_model("models:/good/2")


def test_a_link_inside_the_model_is_fine(good):
    (good / "requirements.txt").rename(good / "reqs.txt")
    os.symlink("reqs.txt", good / "requirements.txt")
    assert pyfunc_jupyter.model_card("models:/good/1").data["requirements"]


# --- 3. one bad file breaks one version ---------------------------------------------------------------------

MLMODEL_DAMAGE = {
    "non-UTF-8 byte": lambda text: b"\xff" + text.encode(),
    "YAML tag": lambda text: (text + "x: !!float 'a'\n").encode(),
    "bad timestamp": lambda text: (text + "x: !!timestamp '2020-99-99'\n").encode(),
    "timestamp that is no date": lambda text: (text + "x: !!timestamp 'no date'\n").encode(),  # found by the fuzz
    "NUL byte": lambda text: text.replace("python_model.pkl", "python_\x00model.pkl").encode(),
}


@pytest.mark.parametrize(
    "sidecar", ["[]", '"x"', "null", "1", '{"created": 5}', '{"size_bytes": "big"}', "{not json", '{"name": ["x"]}']
)
def test_a_bad_sidecar_breaks_only_its_version(good, store, sidecar):
    copy = good.parent / "2"
    shutil.copytree(good, copy)
    (copy / "pyfunc_jupyter.json").write_text(sidecar)
    listed = _listed(store)
    assert listed[("good", 1)] is None and "pyfunc_jupyter.json" in listed[("good", 2)]
    card = pyfunc_jupyter.model_card("models:/good/2")  # the card falls back on the MLmodel and the files
    assert card.data["name"] == "good" and card.to_html()
    assert pyfunc_jupyter.load_model("models:/good/2").predict(pd.DataFrame([1.0])) is not None


@pytest.mark.parametrize("damage", sorted(MLMODEL_DAMAGE))
def test_a_bad_mlmodel_breaks_only_its_version(good, store, damage):
    copy = good.parent / "2"
    shutil.copytree(good, copy)
    (copy / "pyfunc_jupyter.json").unlink()  # as an MLflow-written version: the listing reads the MLmodel
    (copy / "MLmodel").write_bytes(MLMODEL_DAMAGE[damage]((good / "MLmodel").read_text()))
    listed = _listed(store)
    assert listed[("good", 1)] is None
    if damage != "NUL byte":  # a NUL in a path is found when the path is used: at load
        assert "Malformed MLmodel" in listed[("good", 2)]
    with pytest.raises(MLmodelError):
        pyfunc_jupyter.load_model("models:/good/2")
    if damage != "NUL byte":
        with pytest.raises(MLmodelError):
            pyfunc_jupyter.model_card("models:/good/2")


@pytest.mark.parametrize(
    ("written", "shown"),
    [("2024-01-02 03:04:05", "2024-01-02 03:04:05"), ("[1, 2]", None), ("{a: 1}", None), ("7", "7"), ("true", None)],
)
def test_a_non_string_utc_time_created_does_not_break_the_listing(good, store, written, shown):
    copy = good.parent / "2"
    shutil.copytree(good, copy)
    (copy / "pyfunc_jupyter.json").unlink()
    text = (good / "MLmodel").read_text()
    (copy / "MLmodel").write_text(
        "\n".join(
            f"utc_time_created: {written}" if line.startswith("utc_time_created") else line
            for line in text.splitlines()
        )
    )
    listed = _listed(store)
    assert listed == {("good", 1): None, ("good", 2): None}
    assert {e.version: e for e in pyfunc_jupyter.list_models()}[2].created == shown
    card = pyfunc_jupyter.model_card("models:/good/2")
    assert card.volatile["created"] == shown and card.to_text()


# --- 4. one error class -------------------------------------------------------------------------------------


def test_a_bad_signature_is_the_same_mlmodel_error_for_load_card_and_listing(good, store):
    copy = good.parent / "2"
    shutil.copytree(good, copy)
    (copy / "pyfunc_jupyter.json").unlink()
    lines = [
        ('  inputs: \'[{"type": "long", bad\'' if line.startswith("  inputs:") else line)
        for line in (good / "MLmodel").read_text().splitlines()
    ]
    (copy / "MLmodel").write_text("\n".join(lines) + "\n")
    messages = []
    for call in (pyfunc_jupyter.load_model, pyfunc_jupyter.model_card):
        with pytest.raises(MLmodelError, match="key 'signature'") as caught:
            call("models:/good/2")
        messages.append(str(caught.value))
    assert messages[0] == messages[1] == _listed(store)[("good", 2)]


# --- 5. billion laughs --------------------------------------------------------------------------------------


def _bomb(levels: int, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["'lol'"] * width) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nflavors: *l{levels - 1}\n"


@pytest.mark.parametrize("levels", [5, 9, 12])  # 12 levels expand to 10**12 values: only a refusal can finish
def test_yaml_alias_bombs_are_refused_before_expanding(tmp_path, levels):
    (tmp_path / "MLmodel").write_text(_bomb(levels))
    assert len(_bomb(levels)) < 2000
    with pytest.raises(MLmodelError, match="YAML bomb"):
        pyfunc_jupyter.load_model(tmp_path)
    with pytest.raises(MLmodelError, match="YAML bomb"):
        pyfunc_jupyter.model_card(tmp_path)


def test_recursive_aliases_and_deep_nesting_are_mlmodel_errors(tmp_path):
    for text in ("a: &a [*a]\n", "a: &a {b: *a}\n", "[" * 50_000 + "]" * 50_000, "- " * 5000 + "x\n"):
        (tmp_path / "MLmodel").write_text(text)
        with pytest.raises(MLmodelError):
            pyfunc_jupyter.load_model(tmp_path)


def test_a_few_plain_aliases_still_load(good):
    # yaml.dump writes anchors for a value shared twice; such a file is not a bomb
    text = (good / "MLmodel").read_text()
    (good / "MLmodel").write_text(text + "metadata: &m {a: 1}\nextra: *m\n")
    assert pyfunc_jupyter.load_model(good).metadata.metadata == {"a": 1}


def test_special_files_in_a_version_never_hang_the_listing_or_the_card(good, store):
    copy = good.parent / "2"
    shutil.copytree(good, copy)
    (copy / "pyfunc_jupyter.json").unlink()
    os.mkfifo(copy / "pyfunc_jupyter.json")  # reading a FIFO would block forever
    listed = _listed(store)
    assert listed[("good", 1)] is None and "not a regular file" in listed[("good", 2)]
    assert pyfunc_jupyter.model_card("models:/good/2").data["name"] == "good"
    (copy / "MLmodel").unlink()
    os.mkfifo(copy / "MLmodel")
    assert "no MLmodel file" in _listed(store)[("good", 2)]
    with pytest.raises(ModelLoadError):
        pyfunc_jupyter.load_model("models:/good/2")
