"""Models saved by the previous release (0.1.0, flat module layout) still load and predict.

The fixtures under tests/fixtures/v0.1.0/ were written once by 0.1.0 (make_models.py there says how);
their pickles name ``pyfunc_jupyter._base`` and ``pyfunc_jupyter._hints``, so those paths must stay.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pyfunc_jupyter

FIXTURES = Path(__file__).parent / "fixtures" / "v0.1.0"


def test_fixtures_were_written_by_the_previous_release():
    for name in ("class_model", "function_model", "hinted_model"):
        mlmodel = (FIXTURES / name / "MLmodel").read_text(encoding="utf-8")
        assert "pyfunc_jupyter:\n    version: 0.1.0" in mlmodel
        assert b"pyfunc_jupyter._base" in (FIXTURES / name / "python_model.pkl").read_bytes()


def test_class_model_loads_and_predicts_with_params():
    model = pyfunc_jupyter.load_model(FIXTURES / "class_model")
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    assert model.predict(frame)["y"].tolist() == [5.0, 7.0]
    assert model.predict(frame, params={"shift": 1.0})["y"].tolist() == [6.0, 8.0]
    assert str(model.metadata.get_input_schema()) == str(pyfunc_jupyter.infer_signature(frame).inputs)


def test_function_model_loads_and_predicts():
    model = pyfunc_jupyter.load_model(f"file://{FIXTURES / 'function_model'}")
    assert model.predict(pd.DataFrame({"text": ["ab", "c"]})) == ["AB", "C"]


def test_hinted_model_loads_and_enforces_its_hints():
    model = pyfunc_jupyter.load_model(FIXTURES / "hinted_model")
    assert model.predict(["abc", "de"]) == ["cba", "ed"]
    with pytest.raises(pyfunc_jupyter.errors.SchemaEnforcementError, match="list\\[str\\]"):
        model.predict([1, 2])


def test_the_saved_input_example_replays():
    model = pyfunc_jupyter.load_model(FIXTURES / "class_model")
    frame, params = model.input_example
    assert params == {"shift": 0.0}
    assert model.predict(frame, params=params)["y"].tolist() == [5.0, 7.0]
