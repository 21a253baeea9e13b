"""Input example files: MLflow's layout, strict JSON, and reading back (ours and MLflow's)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from pyfunc_jupyter.errors import ModelSaveError
from pyfunc_jupyter.format.example import load_input_example, prediction_to_json, save_input_example
from pyfunc_jupyter.format.infer import infer_schema


def _files(directory):
    return (
        json.loads((directory / "input_example.json").read_text()),
        json.loads((directory / "serving_input_example.json").read_text()),
    )


@pytest.mark.parametrize(
    "example, kind, file, serving, extra",
    [
        (
            pd.DataFrame([10, 20, 30]),
            "dataframe",
            {"data": [[10], [20], [30]]},
            {"dataframe_split": {"data": [[10], [20], [30]]}},
            {"pandas_orient": "values"},
        ),
        (
            pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
            "dataframe",
            {"columns": ["a", "b"], "data": [[1, "x"], [2, "y"]]},
            {"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [2, "y"]]}},
            {"pandas_orient": "split"},
        ),
        (np.array([[1, 2], [3, 4]]), "ndarray", [[1, 2], [3, 4]], {"inputs": [[1, 2], [3, 4]]}, {}),
        (
            {"a": np.array([1, 2]), "b": np.array([[1.0], [2.0]])},
            "ndarray",
            {"a": [1, 2], "b": [[1.0], [2.0]]},
            {"inputs": {"a": [1, 2], "b": [[1.0], [2.0]]}},
            {},
        ),
        ({"q": "hi", "n": 2}, "json_object", {"q": "hi", "n": 2}, {"inputs": {"q": "hi", "n": 2}}, {}),
        (
            {"messages": [{"role": "user", "content": "hi"}]},
            "json_object",
            {"messages": [{"role": "user", "content": "hi"}]},
            {"messages": [{"role": "user", "content": "hi"}]},
            {},
        ),
        (["a", "b"], "json_object", ["a", "b"], {"inputs": ["a", "b"]}, {}),
        ("hello", "json_object", "hello", {"inputs": "hello"}, {}),
        (3, "json_object", 3, {"inputs": 3}, {}),
        (b"ab", "json_object", "YWI=\n", {"inputs": "YWI=\n"}, {}),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "json_object", "2024-01-02T03:04:05", {"inputs": "2024-01-02T03:04:05"}, {}),
    ],
)
def test_example_files_match_mlflows_layout(tmp_path, example, kind, file, serving, extra):
    info = save_input_example(example, tmp_path)
    assert info == {
        "artifact_path": "input_example.json",
        "serving_input_path": "serving_input_example.json",
        "type": kind,
        **extra,
    }
    assert _files(tmp_path) == (file, serving)
    assert "\n" not in (tmp_path / "input_example.json").read_text()
    assert (tmp_path / "serving_input_example.json").read_text().startswith("{\n  ")


def test_example_with_params(tmp_path):
    info = save_input_example((pd.DataFrame({"a": [1]}), {"temperature": 0.5}), tmp_path)
    assert info["params"] == "true"
    assert _files(tmp_path) == (
        {"inputs": {"columns": ["a"], "data": [[1]]}, "params": {"temperature": 0.5}},
        {"dataframe_split": {"columns": ["a"], "data": [[1]]}, "params": {"temperature": 0.5}},
    )
    data, params = load_input_example(tmp_path, info, infer_schema(pd.DataFrame({"a": [1]})))
    assert params == {"temperature": 0.5}
    pd.testing.assert_frame_equal(data, pd.DataFrame({"a": [1]}))


def test_missing_values_are_strict_json_null(tmp_path):
    frame = pd.DataFrame({"a": [1.0, None], "b": ["x", None], "t": pd.to_datetime(["2024-01-01", None])})
    save_input_example(frame, tmp_path)
    text = (tmp_path / "input_example.json").read_text()
    assert "NaN" not in text
    assert json.loads(text)["data"] == [[1.0, "x", "2024-01-01T00:00:00"], [None, None, None]]


def test_reads_back_typed_by_the_schema(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": [1.5, 2.5], "t": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    info = save_input_example(frame, tmp_path)
    back = load_input_example(tmp_path, info, infer_schema(frame))
    assert [str(t) for t in back.dtypes][:2] == ["int64", "float64"]
    assert pd.api.types.is_datetime64_any_dtype(back["t"])
    arr = np.array([[1.0, 2.0]], dtype="float32")
    info = save_input_example(arr, tmp_path)
    assert load_input_example(tmp_path, info, infer_schema(arr)).dtype == np.float32


def test_reads_mlflows_bare_nan_tokens(tmp_path):
    (tmp_path / "input_example.json").write_text('{"columns": ["a"], "data": [[NaN], [1.0]]}')
    info = {"artifact_path": "input_example.json", "type": "dataframe", "pandas_orient": "split"}
    back = load_input_example(tmp_path, info)
    assert back["a"].isna().tolist() == [True, False]


def test_series_is_refused_with_the_fix(tmp_path):
    with pytest.raises(ModelSaveError, match="to_frame"):
        save_input_example(pd.Series([1, 2]), tmp_path)


def test_prediction_to_json_like_a_scoring_server():
    assert prediction_to_json(pd.DataFrame({"a": [1]})) == {"predictions": [{"a": 1}]}
    assert prediction_to_json(np.array([1.5, np.nan])) == {"predictions": [1.5, None]}
    assert prediction_to_json(np.int64(3)) == {"predictions": 3}
    assert prediction_to_json({"k": [1, 2]}) == {"predictions": {"k": [1, 2]}}
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        prediction_to_json(object())
