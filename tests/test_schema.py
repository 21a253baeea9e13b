"""Signature classes: MLflow's JSON form, round trips, validation, and enforcement without copies."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyfunc_jupyter import (
    ColSpec,
    DataType,
    ModelSignature,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
    infer_signature,
)
from pyfunc_jupyter.errors import SchemaEnforcementError
from pyfunc_jupyter.format.enforce import enforce_input, validate_params
from pyfunc_jupyter.format.types import Array, Object, Property

SCALAR_TYPES = st.sampled_from(list(DataType))
TYPES = st.recursive(
    SCALAR_TYPES,
    lambda inner: st.one_of(
        st.builds(Array, inner),
        st.builds(
            lambda names, t: Object([Property(n, t) for n in names]),
            st.sets(st.text("abcxyz", min_size=1, max_size=4), min_size=1, max_size=3),
            inner,
        ),
    ),
    max_leaves=4,
)
NAMES = st.one_of(st.text(min_size=1, max_size=6), st.integers(0, 5))


@given(st.lists(st.tuples(NAMES, TYPES, st.booleans()), min_size=1, max_size=5, unique_by=lambda t: t[0]))
def test_column_schema_json_round_trip(columns):
    schema = Schema([ColSpec(t, name, required) for name, t, required in columns])
    assert Schema.from_json(schema.to_json()) == schema


@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=6), st.sampled_from(["long", "double", "string", "boolean"]), st.booleans()
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda t: t[0],
    )
)
def test_signature_dict_round_trip(params):
    defaults = {"long": 1, "double": 1.5, "string": "s", "boolean": True}
    signature = ModelSignature(
        Schema([ColSpec("long", "a")]),
        Schema([TensorSpec(np.dtype("float32"), (-1, 3))]),
        ParamSchema(
            [
                ParamSpec(n, t, [defaults[t]] if listy else defaults[t], (-1,) if listy else None)
                for n, t, listy in params
            ]
        ),
    )
    assert ModelSignature.from_dict(signature.to_dict()) == signature


def test_json_is_mlflows_exact_text():
    signature = infer_signature(pd.DataFrame({"a": [1]}), params={"slope": 2})
    assert signature.to_dict() == {
        "inputs": '[{"type": "long", "name": "a", "required": true}]',
        "outputs": None,
        "params": '[{"name": "slope", "default": 2, "shape": null, "type": "long"}]',
    }
    assert repr(signature.inputs) == "['a': long (required)]"


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Schema([]), "at least one"),
        (lambda: Schema([ColSpec("long", "a"), ColSpec("long")]), "all columns"),
        (lambda: Schema([ColSpec("long"), TensorSpec(np.dtype("int64"), (-1,))]), "not a mix"),
        (lambda: ColSpec("long", None, required=False), "unnamed column cannot be optional"),
        (lambda: ColSpec("nope"), "Unknown type"),
        (lambda: ParamSpec("p", "binary", b"x"), "binary params"),
        (lambda: ParamSchema([ParamSpec("p", "long", 1), ParamSpec("p", "long", 2)]), "Duplicate"),
    ],
)
def test_invalid_schemas_say_why(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_enforcement_does_not_copy_a_frame_that_fits():
    frame = pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5), "c": ["x"] * 5})
    schema = infer_signature(frame).inputs
    assert enforce_input(frame, schema) is frame


def test_enforcement_converts_only_what_needs_it():
    frame = pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5, dtype="int32")})
    schema = Schema([ColSpec("double", "a"), ColSpec("long", "b")])
    result = enforce_input(frame, schema)
    assert str(result["b"].dtype) == "int64"
    assert np.shares_memory(result["a"].to_numpy(), frame["a"].to_numpy())


def test_enforcement_errors_name_the_column_and_the_fix():
    schema = Schema([ColSpec("long", "count")])
    with pytest.raises(SchemaEnforcementError, match=r"column count.*float64 to int64.*missing values"):
        enforce_input(pd.DataFrame({"count": [1.0, None]}), schema)
    with pytest.raises(SchemaEnforcementError, match=r"missing inputs \['count'\]"):
        enforce_input(pd.DataFrame({"other": [1]}), schema)


def test_integer_column_labels_are_names():
    schema = Schema([ColSpec("long", 2), ColSpec("long", 0), ColSpec("long", 1)])
    frame = pd.DataFrame({0: [10], 1: [11], 2: [12]})
    result = enforce_input(frame, schema)
    assert list(result.columns) == [2, 0, 1] and result.iloc[0].tolist() == [12, 10, 11]
    with pytest.raises(SchemaEnforcementError, match="missing inputs"):
        enforce_input(pd.DataFrame({"0": [1], "1": [1], "2": [1]}), schema)


def test_params_validation():
    schema = ParamSchema(
        [
            ParamSpec("slope", "long", 2),
            ParamSpec("scale", "double", 1.0),
            ParamSpec("tags", "string", ["a"], (-1,)),
            ParamSpec("on", "boolean", False),
        ]
    )
    assert validate_params(None, schema) == {"slope": 2, "scale": 1.0, "tags": ["a"], "on": False}
    assert validate_params({"slope": np.int64(5), "scale": 3}, schema)["scale"] == 3.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert "bogus" not in validate_params({"bogus": 1}, schema)
    assert "Unrecognized params ['bogus']" in str(caught[0].message)
    for bad in ({"slope": 5.0}, {"slope": "abc"}, {"on": 1}, {"on": "true"}, {"tags": "a"}):
        with pytest.raises(SchemaEnforcementError, match="Invalid parameters found"):
            validate_params(bad, schema)
    with pytest.raises(SchemaEnforcementError, match="must be a dictionary"):
        validate_params([1], schema)


def test_params_without_schema_are_dropped_with_a_warning():
    with pytest.warns(UserWarning, match="does not define a params schema"):
        assert validate_params({"k": 1}, None) == {}
    assert validate_params(None, None) is None


def test_uint64_falls_back_to_any_with_advice():
    with pytest.warns(UserWarning, match="uint64"):
        schema = infer_signature(pd.DataFrame({"a": np.array([1], dtype="uint64")})).inputs
    assert json.loads(schema.to_json()) == [{"type": "any", "required": True}]


def test_an_undescribable_output_is_called_the_output():
    with pytest.warns(UserWarning, match="^The output has uint64"):
        signature = infer_signature(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": np.array([1], dtype="uint64")}))
    assert json.loads(signature.outputs.to_json()) == [{"type": "any", "required": True}]
