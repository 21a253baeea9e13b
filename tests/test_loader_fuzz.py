"""Fuzz the loader: any MLmodel, however mangled, loads or raises a PyfuncError, never a bare error."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyfunc_jupyter
from pyfunc_jupyter.errors import PyfuncError

from .models_for_tests import LINEAR, define

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
                    st.sampled_from(["python_model.pkl", "..", "../x", "/etc", "code", "artifacts/x",
                                     "mlflow.pyfunc.model", "gzip", '[{"type": "long"}]', "[1, 2]"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
KEYS = [
    (), ("flavors",), ("flavors", "python_function"), ("flavors", "python_function", "loader_module"),
    ("flavors", "python_function", "python_model"), ("flavors", "python_function", "code"),
    ("flavors", "python_function", "artifacts"), ("flavors", "python_function", "config"),
    ("flavors", "python_function", "streamable"), ("flavors", "python_function", "python_model_compression"),
    ("flavors", "python_function", "env"), ("signature",), ("signature", "inputs"), ("signature", "params"),
    ("saved_input_example_info",), ("saved_input_example_info", "artifact_path"), ("metadata",),
]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "model"
    pyfunc_jupyter.save_model(path, define(LINEAR, "SimpleLinearModel")(), input_example=pd.DataFrame([1, 2]))
    return path


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


def _exercise(path):
    model = pyfunc_jupyter.load_model(path)
    model.predict(pd.DataFrame([1, 2]))
    _ = model.input_example


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3))
def test_mutated_mlmodel_loads_or_raises_pyfunc_error(saved_model, tmp_path_factory, mutations):
    target = tmp_path_factory.mktemp("case") / "model"
    shutil.copytree(saved_model, target)
    data = yaml.safe_load((saved_model / "MLmodel").read_text())
    for keys, value in mutations:
        data = _set(data if isinstance(data, dict) else {}, keys, value)
    (target / "MLmodel").write_text(yaml.safe_dump(data))
    try:
        _exercise(target)
    except PyfuncError:
        pass


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_arbitrary_mlmodel_text_loads_or_raises_pyfunc_error(saved_model, tmp_path_factory, text):
    target = tmp_path_factory.mktemp("text") / "model"
    shutil.copytree(saved_model, target)
    (target / "MLmodel").write_text(text)
    try:
        _exercise(target)
    except PyfuncError:
        pass
