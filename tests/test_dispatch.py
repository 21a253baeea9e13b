"""Predict dispatch follows MLflow's rules: by parameter names, params only to `params`."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter import PythonModel

from .models_for_tests import define

SIGNATURES = """
from pyfunc_jupyter import PythonModel

class ContextInput(PythonModel):
    def predict(self, context, model_input):
        return ("context" if context is not None else None, "params-not-accepted")

class ContextInputParams(PythonModel):
    def predict(self, context, model_input, params=None):
        return ("context" if context is not None else None, params)

class PositionalCtx(PythonModel):
    def predict(self, ctx, data):
        return ("context" if ctx is not None else None, "params-not-accepted")

class InputOnly(PythonModel):
    def predict(self, model_input):
        return (None, "params-not-accepted")

class InputParams(PythonModel):
    def predict(self, model_input, params=None):
        return (None, params)

class Kwargs(PythonModel):
    def predict(self, context, model_input, **kwargs):
        return ("context" if context is not None else None, kwargs)
"""

CASES = {
    "ContextInput": ("context", "params-not-accepted", True),
    "ContextInputParams": ("context", {"p": 7}, False),
    "PositionalCtx": ("context", "params-not-accepted", True),
    "InputOnly": (None, "params-not-accepted", True),
    "InputParams": (None, {"p": 7}, False),
    "Kwargs": ("context", {}, True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dispatch_by_parameter_names(tmp_path, name):
    from pyfunc_jupyter import infer_signature

    model = define(SIGNATURES, name)()
    signature = infer_signature(pd.DataFrame({"x": [1]}), params={"p": 1})
    pyfunc_jupyter.save_model(tmp_path / name, model, signature=signature, pip_requirements=["pandas"])
    loaded = pyfunc_jupyter.load_model(tmp_path / name)
    expected_context, expected_params, warns = CASES[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context, params = loaded.predict(pd.DataFrame({"x": [1]}), params={"p": 7})
    assert context == expected_context
    assert params == expected_params
    assert any("ignored" in str(w.message) for w in caught) == warns


def test_params_defaults_filled_when_not_given(tmp_path):
    from pyfunc_jupyter import infer_signature

    model = define(SIGNATURES, "ContextInputParams")()
    signature = infer_signature(pd.DataFrame({"x": [1]}), params={"p": 1, "q": "a"})
    pyfunc_jupyter.save_model(tmp_path / "m", model, signature=signature, pip_requirements=["pandas"])
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert loaded.predict(pd.DataFrame({"x": [1]}))[1] == {"p": 1, "q": "a"}
    assert loaded.predict(pd.DataFrame({"x": [1]}), params={"q": "b"})[1] == {"p": 1, "q": "b"}


def test_load_context_called_once_per_load_by_keyword(tmp_path):
    source = """
from pyfunc_jupyter import PythonModel

class Counting(PythonModel):
    def load_context(self, context):
        self.loads = getattr(self, "loads", 0) + 1

    def predict(self, context, model_input):
        return self.loads
"""
    model = define(source, "Counting")()
    pyfunc_jupyter.save_model(tmp_path / "m", model, pip_requirements=["pandas"])
    assert not hasattr(model, "loads")
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert [loaded.predict([1]), loaded.predict([2])] == [1, 1]
    assert pyfunc_jupyter.load_model(tmp_path / "m").predict([1]) == 1


def test_predict_stream(tmp_path):
    source = """
from pyfunc_jupyter import PythonModel

class Streamer(PythonModel):
    def predict(self, context, model_input, params=None):
        return [s.upper() for s in model_input[0]]

    def predict_stream(self, context, model_input, params=None):
        for ch in model_input:
            yield ch.upper()
"""
    model = define(source, "Streamer")()
    info = pyfunc_jupyter.save_model(tmp_path / "m", model, input_example=["xy"])
    assert info.flavors["python_function"]["streamable"] is True
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert list(loaded.predict_stream("xy")) == ["X", "Y"]


def test_predict_stream_refused_when_not_streamable(tmp_path):
    class Plain(PythonModel):
        def predict(self, context, model_input):
            return model_input

    pyfunc_jupyter.save_model(tmp_path / "m", Plain(), pip_requirements=["pandas"])
    with pytest.raises(pyfunc_jupyter.errors.ModelLoadError, match="predict_stream"):
        pyfunc_jupyter.load_model(tmp_path / "m").predict_stream("x")


HINTED = """
from pyfunc_jupyter import PythonModel

class Shout(PythonModel):
    def predict(self, model_input: list[str], params=None) -> list[str]:
        return [s.upper() for s in model_input]
"""


def test_type_hinted_predict_gets_lists_and_is_validated(tmp_path):
    model = define(HINTED, "Shout")()
    info = pyfunc_jupyter.save_model(tmp_path / "m", model, input_example=["a", "b"])
    assert info.example_output == ["A", "B"]
    loaded = pyfunc_jupyter.load_model(tmp_path / "m")
    assert loaded.metadata.is_signature_from_type_hint is True
    assert loaded.predict(["x"]) == ["X"]
    assert loaded.predict(pd.DataFrame({"n": [1], "s": ["y"]})) == ["Y"]  # first string column, as MLflow
    with pytest.raises(pyfunc_jupyter.errors.SchemaEnforcementError, match=r"type hint `list\[str\]`"):
        loaded.predict([1, 2])
