"""``authoring.fromcode``: a cell as a model code file, and the names it would lack once the notebook is gone."""

from __future__ import annotations

import textwrap

from pyfunc_jupyter.authoring.fromcode import _free_globals, code_file


def cell(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def test_our_imports_become_mlflow_imports_and_set_model_is_appended():
    made = code_file(
        cell("""
        import pandas as pd
        from pyfunc_jupyter import PythonModel as Base, PythonModelContext
        from pyfunc_jupyter.models import ModelConfig

        class M(Base):
            def predict(self, context, model_input, params=None):
                return model_input

        M()
        """),
        "M()",
        True,
        {},
    )
    assert made.findings == [] and made.text is not None
    body = made.text.split("\n", 3)[3]  # after the three header comment lines
    assert body == (
        "\nimport pandas as pd\nfrom mlflow.pyfunc import PythonModel as Base, PythonModelContext\n"
        "from mlflow.models import ModelConfig\n\nclass M(Base):\n"
        "    def predict(self, context, model_input, params=None):\n        return model_input\n\n\n"
        "from mlflow.models import set_model\nset_model(M())\n"
    )
    compile(made.text, "model.py", "exec")


def test_a_multiline_import_is_replaced_whole():
    made = code_file(
        cell("""
        from pyfunc_jupyter import (
            PythonModel,
        )

        def f(model_input):
            return model_input
        """),
        "f",
        False,
        {},
    )
    assert made.text.split("\n", 3)[3].startswith("\nfrom mlflow.pyfunc import PythonModel\n\ndef f(model_input):")


def test_refusals_name_the_line_and_the_fix():
    made = code_file("import pyfunc_jupyter\n", "f", False, {})
    assert [f.check for f in made.findings] == ["from-code-import", "undefined-name"] and made.text is None
    made = code_file("!pip install x\n", "f", False, {})
    assert [f.check for f in made.findings] == ["from-code-syntax"] and "line 1" in made.findings[0].message
    made = code_file("from pyfunc_jupyter import save_model\n", "save_model", False, {"save_model": print})
    assert [f.check for f in made.findings] == ["from-code-import"]  # the name stays imported


def test_free_globals_are_found_in_every_scope():
    assert _free_globals(
        cell("""
        import numpy as np
        K = 3
        class A:
            scale = helper(K)
            def predict(self, c, x):
                def inner(y):
                    return y + K + outer_only
                return inner([v * factor for v in x]) + np.sum(x)
        def setup():
            global STATE
            STATE = 1
        def use():
            return STATE + len([]) + __name__
        """)
    ) == ["helper", "outer_only", "factor"]
