"""Type hints on predict: signature without an example, checks on every call, warnings, @pyfunc."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import pytest

import pyfunc_jupyter
from pyfunc_jupyter.errors import PyfuncError, TypeHintError

from .models_for_tests import define

UPPER = """
from pyfunc_jupyter import PythonModel

class Upper(PythonModel):
    def predict(self, context, model_input: list[str]) -> list[str]:
        return [s.upper() for s in model_input]
"""


def test_hints_give_the_signature_without_an_example(tmp_path):
    info = pyfunc_jupyter.save_model(tmp_path / "m", define(UPPER, "Upper")())
    loaded = pyfunc_jupyter.load_model(info.model_uri)
    assert loaded.metadata.is_signature_from_type_hint is True
    assert loaded.signature.to_dict()["inputs"] == '[{"type": "string", "required": true}]'
    assert loaded.signature.to_dict()["outputs"] == '[{"type": "string", "required": true}]'
    assert loaded.predict(["a"]) == ["A"]


def test_a_direct_predict_that_does_not_fit_raises_a_pyfunc_error():
    model = define(UPPER, "Upper")()
    assert model.predict(None, ["x"]) == ["X"]
    with pytest.raises(TypeHintError, match=r"Expected type str, but got int") as caught:
        model.predict(None, ["x", 1])
    assert isinstance(caught.value, PyfuncError)
    with pytest.raises(TypeHintError):
        model.predict(None, model_input="not a list")


def test_an_unsupported_hint_warns_and_an_invalid_one_is_refused_at_class_definition():
    with pytest.warns(UserWarning, match="not supported for MLflow's schema validation"):
        define(
            "from pyfunc_jupyter import PythonModel\n"
            "class M(PythonModel):\n"
            "    def predict(self, context, model_input: list[object]):\n"
            "        return model_input\n",
            "M",
        )
    with pytest.raises(TypeHintError, match="dict\\[str, <type>\\]"):
        define(
            "from pyfunc_jupyter import PythonModel\n"
            "class M(PythonModel):\n"
            "    def predict(self, model_input: list[dict[int, str]]):\n"
            "        return model_input\n",
            "M",
        )


def test_a_predict_parameter_not_named_model_input_warns():
    with pytest.warns(FutureWarning, match="Only the following parameter names are allowed"):
        define(
            "from pyfunc_jupyter import PythonModel\n"
            "class M(PythonModel):\n"
            "    def predict(self, context, rows):\n"
            "        return rows\n",
            "M",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        define(UPPER, "Upper")  # the usual names: no warning


def test_pyfunc_decorator_checks_a_hinted_function_and_the_save_suggests_it(tmp_path):
    from pyfunc_jupyter.pyfunc import pyfunc

    def plain(model_input: list[int]) -> list[int]:
        return [x + 1 for x in model_input]

    checked = pyfunc(plain)
    assert checked([1]) == [2]
    with pytest.raises(TypeHintError):
        checked(["1"])
    with pytest.warns(UserWarning, match="Decorate your function with @pyfunc"):
        pyfunc_jupyter.save_model(tmp_path / "plain", plain, input_example=[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        pyfunc_jupyter.save_model(tmp_path / "checked", checked, input_example=[1])
    assert pyfunc_jupyter.load_model(tmp_path / "checked").predict([5]) == [6]


def test_pydantic_is_imported_only_by_models_that_use_it(tmp_path):
    code = textwrap.dedent(f"""
        import json, sys
        import pyfunc_jupyter
        ns = {{"__name__": "__main__"}}
        exec({UPPER!r}, ns)
        pyfunc_jupyter.save_model({str(tmp_path / "m")!r}, ns["Upper"]())
        print(json.dumps([pyfunc_jupyter.load_model({str(tmp_path / "m")!r}).predict(["a"]),
                          "pydantic" in sys.modules]))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == [["A"], False]
