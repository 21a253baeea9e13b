"""Fuzz load, card and listing: any mangled MLmodel or summary file loads or raises ``ModelLoadError``.

``MLmodelError`` is a ``ModelLoadError``; a broken version in a listing is an entry with ``error``, never
an exception. The bulk of the cases mutate bytes in memory and call the parsing functions the public
paths call (``read_mlmodel``, ``read_signature``, ``read_sidecar``, the listing's entry); fewer go
through ``load_model``, ``model_card`` and ``list_models`` whole. ``PYFUNC_FUZZ_SCALE=N`` multiplies
every count (``./dev fuzz`` runs a nightly-sized fuzz).
"""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyfunc_jupyter
from pyfunc_jupyter.card.data import model_card_data
from pyfunc_jupyter.format.mlmodel import parse_mlmodel, read_signature
from pyfunc_jupyter.format.sidecar import parse_sidecar
from pyfunc_jupyter.store.folder import StoreEntry, _entry, mlmodel_facts
from pyfunc_jupyter.errors import ModelLoadError, PyfuncError
from pyfunc_jupyter.card.listing import ModelList

from .models_for_tests import LINEAR, define

SCALE = max(1, int(os.environ.get("PYFUNC_FUZZ_SCALE", "1")))


def _examples(count: int):
    return settings(max_examples=count * SCALE, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
                    st.sampled_from(["python_model.pkl", "..", "../x", "/etc", "code", "artifacts/x",
                                     "mlflow.pyfunc.model", "gzip", '[{"type": "long"}]', "[1, 2]",
                                     '[{"type": "long", "name": 3}]', '{"x": 1}', "a\x00b"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
KEYS = [
    (), ("flavors",), ("flavors", "python_function"), ("flavors", "python_function", "loader_module"),
    ("flavors", "python_function", "python_model"), ("flavors", "python_function", "code"),
    ("flavors", "python_function", "artifacts"), ("flavors", "python_function", "config"),
    ("flavors", "python_function", "streamable"), ("flavors", "python_function", "python_model_compression"),
    ("flavors", "python_function", "env"), ("flavors", "python_function", "python_version"),
    ("signature",), ("signature", "inputs"), ("signature", "outputs"), ("signature", "params"),
    ("saved_input_example_info",), ("saved_input_example_info", "artifact_path"), ("metadata",),
    ("utc_time_created",), ("run_id",), ("model_uuid",), ("model_size_bytes",),
]
SIDE_KEYS = [(), ("created",), ("run_id",), ("name",), ("signature_summary",), ("size_bytes",), ("requirements",),
             ("card",), ("card", "checks"), ("card", "preview"), ("card", "state"), ("card", "model")]
# Fragments a hostile or damaged file may hold: YAML tags and aliases, bad bytes, JSON debris.
TOKENS = [b"!!float 'a'", b"!!int 'x'", b"!!timestamp '2020-99-99'", b"!!binary '*'", b"!!python/object:os.system",
          b"!!set {a}", b"!!omap [1]", b"&a", b"*a", b"*zz", b"<<: *a", b"? ", b": ", b"- ", b"{", b"}", b"[",
          b"]", b"'", b'"', b"\\x", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\t", b"\n  ", b"%YAML 1.1\n",
          b"---\n", b"...\n", b"~", b"null", b"[]", b'"x"', b"1e999", b"-1", b"2024-01-01 00:00:00", b"NaN",
          b'{"type": "long"}', b'[{"type": "tensor"}]', b"../../x", b"/etc/passwd"]
BYTE_OPS = st.lists(st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(TOKENS)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 40)),
    st.tuples(st.just("repeat"), st.integers(0, 10**6), st.integers(1, 40)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
), min_size=1, max_size=4)


def _mutate(raw: bytes, ops) -> bytes:
    data = bytearray(raw)
    for op, at, arg in ops:
        at = at % (len(data) + 1)
        if op == "flip" and data:
            data[at % len(data)] ^= arg
        elif op == "insert":
            data[at:at] = arg
        elif op == "delete":
            del data[at:at + arg]
        elif op == "repeat":
            data[at:at] = data[at:at + arg]
        elif op == "truncate":
            del data[at:]
    return bytes(data)


def _set(data, keys, value):
    if not keys:
        return value
    node = data
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value
    return data


def _dumped(data) -> bytes:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, allow_unicode=True).encode("utf-8", errors="surrogatepass")


_ORIGINALS: dict = {}


def _raw(model_dir, name: str) -> bytes:
    key = (str(model_dir), name, "raw")
    if key not in _ORIGINALS:
        _ORIGINALS[key] = (model_dir / name).read_bytes()
    return _ORIGINALS[key]


def _original(model_dir, name: str):
    """A fresh copy of the saved model's parsed MLmodel or sidecar (parsed once)."""
    key = (str(model_dir), name)
    if key not in _ORIGINALS:
        text = (model_dir / name).read_text()
        _ORIGINALS[key] = json.dumps(yaml.safe_load(text) if name == "MLmodel" else json.loads(text))
    return json.loads(_ORIGINALS[key])


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    store = tmp_path_factory.mktemp("fuzzstore")
    pyfunc_jupyter.set_store(store)
    try:
        info = pyfunc_jupyter.log_model("m", define(LINEAR, "SimpleLinearModel")(),
                                        input_example=pd.DataFrame([1, 2]))
    finally:
        pyfunc_jupyter.set_store(None)
    # an MLflow-written directory has no summary file: the listing then reads the MLmodel
    mlflow_like = store / "m" / "2"
    shutil.copytree(info.path, mlflow_like)
    (mlflow_like / "pyfunc_jupyter.json").unlink()
    return store / "m" / "1"


@pytest.fixture(scope="module")
def scratch(saved_model, tmp_path_factory):
    """One copy of the model whose MLmodel and sidecar the in-memory cases overwrite."""
    target = tmp_path_factory.mktemp("scratch") / "m" / "1"
    shutil.copytree(saved_model, target)
    return target


def _check_entry(entry) -> None:
    assert entry.error is None or isinstance(entry.error, str)
    for value in (entry.created, entry.run_id, entry.signature_summary, entry.source, entry.artifact_name):
        assert value is None or isinstance(value, str), entry
    assert entry.size_bytes is None or type(entry.size_bytes) is int, entry


def _parse_mlmodel(raw: bytes) -> None:
    """What load, card and listing do with an MLmodel's bytes: parse, read the signature, list."""
    try:
        mlmodel = parse_mlmodel(raw, "m/1/MLmodel")
    except ModelLoadError:
        return
    try:
        read_signature(mlmodel, "m/1/MLmodel")
    except ModelLoadError:
        pass
    _check_entry(mlmodel_facts(StoreEntry("m", 1, "m/1"), mlmodel, "m/1/MLmodel"))  # never raises


def _parse_sidecar(raw: bytes) -> None:
    try:
        side = parse_sidecar(raw)
    except ModelLoadError:
        return
    assert isinstance(side, dict)


# -- the bulk: bytes mutated in memory, the parsing functions called directly (5,000 cases in CI) --

@_examples(2500)
@given(ops=BYTE_OPS)
def test_mutated_mlmodel_bytes_parse_or_raise_model_load_error(saved_model, ops):
    _parse_mlmodel(_mutate(_raw(saved_model, "MLmodel"), ops))


@_examples(1000)
@given(mutations=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3))
def test_mutated_mlmodel_keys_parse_or_raise_model_load_error(saved_model, mutations):
    data = _original(saved_model, "MLmodel")
    for keys, value in mutations:
        data = _set(data if isinstance(data, dict) else {}, keys, value)
    _parse_mlmodel(_dumped(data))


@_examples(1000)
@given(ops=BYTE_OPS)
def test_mutated_sidecar_bytes_parse_or_raise_model_load_error(saved_model, ops):
    _parse_sidecar(_mutate(_raw(saved_model, "pyfunc_jupyter.json"), ops))


@_examples(500)
@given(mutations=st.lists(st.tuples(st.sampled_from(SIDE_KEYS), VALUES), min_size=1, max_size=3))
def test_mutated_sidecar_keys_card_and_listing_hold(saved_model, scratch, mutations):
    side = _original(saved_model, "pyfunc_jupyter.json")
    for keys, value in mutations:
        side = _set(side if isinstance(side, dict) else {}, keys, value)
    (scratch / "pyfunc_jupyter.json").write_text(json.dumps(side))
    _check_entry(_entry("m", scratch))
    data, volatile = model_card_data(scratch)  # a bad summary file never stops the card
    card = pyfunc_jupyter.ModelCard(data, volatile)
    card.to_html(), card.to_text(), json.dumps(card._repr_mimebundle_())


# -- fewer cases through the public entry points: load_model, model_card, list_models --

def _public(store, uri) -> None:
    pyfunc_jupyter.set_store(store)
    try:
        for entry in pyfunc_jupyter.list_models():
            assert entry.error is None or isinstance(entry.error, str)
        ModelList.from_store()._repr_html_()
        try:
            card = pyfunc_jupyter.model_card(uri)
            card.to_html(), card.to_text(), json.dumps(card._repr_mimebundle_())
        except ModelLoadError:
            pass
        try:
            model = pyfunc_jupyter.load_model(uri, suppress_warnings=True)
            _ = model.input_example
        except ModelLoadError:
            return
        try:
            model.predict(pd.DataFrame([1, 2]))
        except PyfuncError:
            pass  # a mangled signature may refuse the input: that is the enforcement's clear error
    finally:
        pyfunc_jupyter.set_store(None)


@_examples(120)
@given(ops=BYTE_OPS, sidecar=st.booleans())
def test_public_paths_on_mutated_mlmodel_bytes(saved_model, tmp_path_factory, ops, sidecar):
    store = tmp_path_factory.mktemp("pub")
    target = store / "m" / "1"
    shutil.copytree(saved_model, target)
    if not sidecar:
        (target / "pyfunc_jupyter.json").unlink()
    (target / "MLmodel").write_bytes(_mutate((saved_model / "MLmodel").read_bytes(), ops))
    _public(store, "models:/m/1")


@_examples(120)
@given(mutations=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3))
def test_public_paths_on_mutated_mlmodel_keys(saved_model, tmp_path_factory, mutations):
    store = tmp_path_factory.mktemp("pub")
    target = store / "m" / "1"
    shutil.copytree(saved_model, target)
    data = _original(saved_model, "MLmodel")
    for keys, value in mutations:
        data = _set(data if isinstance(data, dict) else {}, keys, value)
    (target / "MLmodel").write_bytes(_dumped(data))
    _public(store, "models:/m/latest")


@_examples(60)
@given(ops=BYTE_OPS)
def test_public_paths_on_mutated_sidecar_bytes(saved_model, tmp_path_factory, ops):
    store = tmp_path_factory.mktemp("pub")
    target = store / "m" / "1"
    shutil.copytree(saved_model, target)
    (target / "pyfunc_jupyter.json").write_bytes(_mutate((saved_model / "pyfunc_jupyter.json").read_bytes(), ops))
    _public(store, "models:/m/1")
