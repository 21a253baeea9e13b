"""Fuzz enforcement: any input against any schema is converted or refused with a SchemaEnforcementError."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pyfunc_jupyter import ColSpec, ParamSchema, ParamSpec, Schema
from pyfunc_jupyter.format.enforce import enforce_input, validate_params
from pyfunc_jupyter.errors import SchemaEnforcementError

TYPES = ["boolean", "integer", "long", "float", "double", "string", "binary", "datetime"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=False),
                   st.text(max_size=3), st.binary(max_size=3), st.lists(st.integers(0, 3), max_size=2))
DTYPES = st.sampled_from([None, "int64", "int32", "uint8", "float64", "float32", "bool", "str", "object",
                          "datetime64[s]", "Int64"])


@st.composite
def frames(draw):
    rows = draw(st.integers(0, 3))
    names = draw(st.lists(st.sampled_from(["a", "b", "c", 0, 1]), min_size=1, max_size=3, unique=True))
    columns = {}
    for name in names:
        values = draw(st.lists(VALUES, min_size=rows, max_size=rows))
        dtype = draw(DTYPES)
        try:
            columns[name] = pd.Series(values, dtype=dtype) if dtype else pd.Series(values, dtype=object)
        except (TypeError, ValueError, OverflowError):
            columns[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(columns) if columns else pd.DataFrame()


@st.composite
def schemas(draw):
    named = draw(st.booleans())
    names = draw(st.lists(st.sampled_from(["a", "b", "c", 0, 1]), min_size=1, max_size=3, unique=True))
    return Schema([ColSpec(draw(st.sampled_from(TYPES)), name if named else None,
                           draw(st.booleans()) if named else True) for name in names])


INPUTS = st.one_of(frames(), VALUES, st.lists(VALUES, max_size=3),
                   st.dictionaries(st.sampled_from(["a", "b", 0]), VALUES, max_size=3))


@settings(max_examples=400, deadline=None)
@given(data=INPUTS, schema=schemas())
def test_enforcement_converts_or_refuses_cleanly(data, schema):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = enforce_input(data, schema)
        except SchemaEnforcementError:
            return
    assert isinstance(result, pd.DataFrame)
    assert result.shape[1] == len([c for c in schema.inputs if not (c.name is not None and c.name not in result.columns)])


@settings(max_examples=300, deadline=None)
@given(params=st.one_of(st.none(), VALUES, st.dictionaries(st.sampled_from(["p", "q", 1]), VALUES, max_size=3)),
       kind=st.sampled_from(["boolean", "integer", "long", "float", "double", "string", "datetime"]),
       listy=st.booleans())
def test_params_validation_accepts_or_refuses_cleanly(params, kind, listy):
    schema = ParamSchema([ParamSpec("p", kind, None, (-1,) if listy else None)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = validate_params(params, schema)
        except SchemaEnforcementError:
            return
    assert set(result) == {"p"}


def test_numpy_scalars_and_arrays_as_inputs():
    schema = Schema([ColSpec("double")])
    assert enforce_input(np.array([1.5, 2.5]), schema).iloc[:, 0].tolist() == [1.5, 2.5]
    assert enforce_input(np.float64(1.5), schema).iloc[0, 0] == 1.5


def test_none_input_message_is_kept():
    import pytest

    with pytest.raises(SchemaEnforcementError, match="Found: NoneType"):
        enforce_input(None, Schema([ColSpec("double")]))


def test_optional_named_column_may_be_absent():
    schema = Schema([ColSpec("long", "a"), ColSpec("string", "b", required=False), ColSpec("double", "c")])
    result = enforce_input(pd.DataFrame({"c": [1.5], "a": np.array([1], dtype="int32")}), schema)
    assert list(result.columns) == ["a", "c"] and str(result["a"].dtype) == "int64"


def test_a_datetime_beyond_the_nanosecond_range_is_refused_cleanly():
    """Found by the fuzz: a seconds-resolution timestamp past 2262-04-11 cannot become datetime64[ns]."""
    late = pd.DataFrame({"a": pd.Series([pd.Timestamp("2262-04-11 23:47:17")], dtype="datetime64[s]")})
    try:
        enforce_input(late, Schema([ColSpec("datetime", "a")]))
    except SchemaEnforcementError as exc:
        assert "nanosecond range" in str(exc)
    else:
        raise AssertionError("an out-of-range timestamp was accepted")
