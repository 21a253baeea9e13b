"""``format/sidecar.py``: the one writer, updater and reader of ``pyfunc_jupyter.json``, and its format check."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter.errors import ModelLoadError
from pyfunc_jupyter.format.sidecar import FORMAT, SIDECAR, parse_sidecar, read_sidecar, update_sidecar, write_sidecar


def test_write_then_read_stamps_the_format(tmp_path):
    write_sidecar(tmp_path, {"created": "2024-01-01", "size_bytes": 10, "format": 99})
    assert json.loads((tmp_path / SIDECAR).read_text())["format"] == FORMAT == 1  # a caller cannot pick another
    assert read_sidecar(tmp_path) == {"format": 1, "created": "2024-01-01", "size_bytes": 10}


def test_a_directory_without_one_reads_as_none(tmp_path):
    assert read_sidecar(tmp_path) is None


def test_update_keeps_other_keys_and_checks_first(tmp_path):
    write_sidecar(tmp_path, {"name": "m", "requirements": []})
    update_sidecar(tmp_path, card={"model": "M (class)"})
    assert read_sidecar(tmp_path) == {"format": 1, "name": "m", "requirements": [], "card": {"model": "M (class)"}}
    with pytest.raises(ModelLoadError, match="has no pyfunc_jupyter.json to update"):
        update_sidecar(tmp_path / "elsewhere", card={})
    (tmp_path / SIDECAR).write_text('{"format": 2}')
    with pytest.raises(ModelLoadError, match="format 2"):
        update_sidecar(tmp_path, card={})
    assert (tmp_path / SIDECAR).read_text() == '{"format": 2}'  # a newer writer's file is left as it was


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    ("[1]", "expected a JSON object, found array"),
    ('"x"', "expected a JSON object, found string"),
    ("{}", "format null is not the format 1 this pyfunc-jupyter reads; install the pyfunc-jupyter version"),
    ('{"format": 2}', "format 2 is not the format 1"),
    ('{"format": "1"}', 'format "1" is not the format 1'),
    ('{"format": true}', "format true is not the format 1"),
    ('{"format": 1, "size_bytes": "12"}', "'size_bytes' should be integer, found string"),
    ('{"format": 1, "size_bytes": true}', "'size_bytes' should be integer, found boolean"),
    ('{"format": 1, "created": 5}', "'created' should be string, found integer"),
    ('{"format": 1, "requirements": {}}', "'requirements' should be array, found object"),
    ('{"format": 1, "card": []}', "'card' should be object, found array"),
    ('{"format": 1, "content_hash": 3}', "'content_hash' should be string, found integer"),
])
def test_bad_sidecars_are_refused_with_what_is_wrong(text, problem):
    with pytest.raises(ModelLoadError) as caught:
        parse_sidecar(text)
    assert str(caught.value).startswith("unreadable pyfunc_jupyter.json: ")
    assert problem in str(caught.value)


def test_saves_write_it_and_the_listing_reads_it(tmp_path):
    pyfunc_jupyter.set_store(tmp_path / "store")
    try:
        info = pyfunc_jupyter.log_model(name="m", python_model=lambda df: df, input_example=pd.DataFrame({"x": [1]}))
        side = read_sidecar(info.path)
        assert side["format"] == 1 and side["name"] == "m" and side["signature_summary"]
        [entry] = pyfunc_jupyter.list_models()
        assert entry.error is None and entry.signature_summary == side["signature_summary"]
        (tmp_path / "store" / "m" / "1" / SIDECAR).write_text(json.dumps({**side, "format": 2}))
        [entry] = pyfunc_jupyter.list_models()
        assert entry.error.startswith("unreadable pyfunc_jupyter.json: format 2 is not the format 1")
        card = pyfunc_jupyter.model_card("models:/m/1")  # the card still shows what MLmodel and the files say
        assert card.data["requirements"] and all(r["source"] == "requirements.txt" for r in card.data["requirements"])
    finally:
        pyfunc_jupyter.set_store(None)
