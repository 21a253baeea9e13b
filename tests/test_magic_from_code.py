"""``%%pyfunc_model --from-code``: the cell itself becomes the model's code file (no pickle)."""

# ruff: noqa: F811 - the tests take the shared `ip` fixture imported from test_magic

from __future__ import annotations

from pathlib import Path

from .test_magic import ip, run, saved  # noqa: F401 - the shared shell fixture and helpers


def _code(ran) -> str:
    return ran.card["code"]["text"]


def test_the_cell_is_saved_as_the_code_file(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --from-code --example "pd.DataFrame({'s': ['a', 'b']})"
        import pandas as pd
        from pyfunc_jupyter import PythonModel

        class Upper(PythonModel):
            def predict(self, context, model_input, params=None):
                return [s.upper() for s in model_input["s"]]

        Upper()
        """,
        )
    )
    assert ran.card["code"]["path"] == "model.py" and ran.card["state"] == []
    text = _code(ran)
    assert "from mlflow.pyfunc import PythonModel\n" in text and "pyfunc_jupyter import" not in text
    assert text.endswith("from mlflow.models import set_model\nset_model(Upper())\n")
    assert "\nUpper()\n" not in text  # the cell's last expression became the set_model call
    path = Path(ip.user_ns["_pyfunc"].info.path)
    assert (path / "model.py").read_text() == text and not (path / "python_model.pkl").exists()
    assert ran.column("fresh process") == ["A", "B"]
    assert "Code: model.py" in ran.bundle["text/html"] and "set_model(Upper())" in ran.bundle["text/plain"]
    assert ip.user_ns["_pyfunc"].predict([{"s": "c"}]) == ["C"]


def test_the_chosen_model_is_what_set_model_gets(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --from-code --example "pd.DataFrame({'x': [1.0]})"
        import pandas as pd
        from pyfunc_jupyter import PythonModel

        class Scaler(PythonModel):
            def __init__(self, factor):
                self.factor = factor

            def predict(self, context, model_input, params=None):
                return model_input * self.factor

        Scaler(
            factor=3,
        )
        """,
        )
    )
    assert _code(ran).endswith("set_model(Scaler(\n    factor=3,\n))\n")
    assert ran.column("fresh process") == [3.0]
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model plus --from-code --example "pd.DataFrame({'x': [1.0]})"
        def plus_one(model_input):
            return model_input + 1
        """,
        )
    )
    assert _code(ran).endswith("set_model(plus_one)\n")
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --from-code --example "pd.DataFrame({'x': [1.0]})"
        from pyfunc_jupyter import PythonModel
        from pyfunc_jupyter.models import set_model as chosen

        class Twice(PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input * 2
        """,
        )
    )
    assert "from mlflow.models import set_model as chosen\n" in _code(ran)
    assert _code(ran).endswith("set_model(Twice())\n")


def test_a_notebook_global_the_code_reads_is_an_error(ip, store):
    ip.run_cell("threshold = 0.5")
    ran = run(
        ip,
        """
        %%pyfunc_model --from-code --example "pd.DataFrame({'x': [1.0]})"
        class Above(PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input > threshold
        """,
    )
    assert ran.card["status"] == "not saved" and ran.error is not None
    errors = {
        (c["check"], c["message"].split("`")[1]): c["fix"] for c in ran.card["checks"] if c["severity"] == "error"
    }
    assert set(errors) == {("from-code-global", "PythonModel"), ("from-code-global", "threshold")}
    assert errors[("from-code-global", "PythonModel")] == "import or define `PythonModel` in this cell"
    assert "--config" in errors[("from-code-global", "threshold")]
    assert not store.exists() or not any(store.iterdir())


def test_ipython_syntax_and_our_other_names_are_refused(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --from-code --example 1
        %time x = 1
        def f(model_input):
            return model_input
        """,
    )
    assert [c["check"] for c in ran.card["checks"] if c["severity"] == "error"] == ["from-code-syntax"]
    ran = run(
        ip,
        """
        %%pyfunc_model --from-code --example 1
        from pyfunc_jupyter import infer_signature, PythonModel
        def f(model_input):
            return model_input
        """,
    )
    errors = [c for c in ran.card["checks"] if c["severity"] == "error"]
    assert [c["check"] for c in errors] == ["from-code-import"] and "infer_signature" in errors[0]["message"]
    assert not store.exists() or not any(store.iterdir())


def test_unpicklable_state_suggests_from_code_which_saves_it(ip, store):
    cell = """
        %%pyfunc_model {flag} --example "pd.DataFrame({{'x': [1.0]}})"
        import threading
        from pyfunc_jupyter import PythonModel

        class Guarded(PythonModel):
            def __init__(self):
                self.lock = threading.Lock()

            def predict(self, context, model_input, params=None):
                with self.lock:
                    return model_input
        """
    ran = run(ip, cell.format(flag=""))
    finding = next(c for c in ran.card["checks"] if c["check"] == "unpicklable-state")
    assert finding["fix"].endswith("or save the cell as code: %%pyfunc_model --from-code")
    ran = saved(run(ip, cell.format(flag="--from-code")))
    assert ran.column("fresh process") == [1.0]


def test_real_mlflow_does_not_nag_about_type_hints_on_reload(ip, store):
    import warnings

    import mlflow  # noqa: F401 - the server extra installs it here; the nag comes only from real MLflow

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ran = saved(
            run(
                ip,
                """
            %%pyfunc_model --from-code --example "pd.DataFrame({'x': [1.0]})"
            import pandas as pd
            from pyfunc_jupyter import PythonModel

            class Plain(PythonModel):
                def predict(self, context, model_input, params=None):
                    return model_input

            Plain()
            """,
            )
        )
    assert ran.column("fresh process") == [1.0]
    said = [str(w.message) for w in caught] + [ran.stderr]
    assert not [text for text in said if "type hints" in text], said
