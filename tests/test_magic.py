"""``%%pyfunc_model``, ``%pyfunc_load`` and ``%pyfunc_models`` in an in-process IPython shell."""

from __future__ import annotations

import json
import re
import textwrap

import pytest
from IPython.utils.capture import capture_output

from pyfunc_jupyter.card import MIME_TYPE

from .models_for_tests import PARAMETERIZED

GUIDE_SETUP = """
import pandas as pd
from pyfunc_jupyter import PythonModel
"""


@pytest.fixture
def ip(ipython_shell, store, tmp_path, monkeypatch):
    """The shared in-process shell with the extension loaded, in a temp dir; names a test adds are removed."""
    shell = ipython_shell
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # as in a kernel started in the notebook's directory
    shell.run_line_magic("load_ext", "pyfunc_jupyter")
    before = set(shell.user_ns)
    shell.run_cell(GUIDE_SETUP)
    yield shell
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]


class Ran:
    """What one cell did: its result, displayed outputs, and the card (if one was shown)."""

    def __init__(self, result, captured):
        self.result = result
        self.outputs = captured.outputs
        self.stdout = captured.stdout
        self.stderr = captured.stderr
        cards = [o for o in self.outputs if MIME_TYPE in o.data]
        self.card = cards[-1].data[MIME_TYPE] if cards else None
        self.volatile = cards[-1].metadata[MIME_TYPE]["volatile"] if cards else None
        self.bundle = cards[-1].data if cards else None

    @property
    def error(self):
        return self.result.error_in_exec or self.result.error_before_exec

    def checks(self) -> set[str]:
        return {c["check"] for c in self.card["checks"]}

    def output(self, label: str) -> dict:
        return next(o for o in self.card["preview"]["outputs"] if o["label"] == label)

    def column(self, label: str, index: int = 0) -> list:
        return [row[index] for row in self.output(label)["table"]["rows"]]


def run(ip, cell: str) -> Ran:
    with capture_output() as captured:
        result = ip.run_cell(textwrap.dedent(cell).lstrip("\n"))
    return Ran(result, captured)


def saved(ran: Ran) -> Ran:
    assert ran.error is None, ran.stderr + ran.stdout
    assert ran.card["status"] == "saved", ran.card["checks"]
    statuses = [o["status"] for o in ran.card["preview"]["outputs"]]
    assert statuses == ["reference", "match", "match"], ran.card["preview"]
    return ran


def models_in(store) -> list[str]:
    return sorted(p.relative_to(store).as_posix() for p in store.glob("*/*") if p.is_dir()) if store.exists() else []


# --- the guide's examples, each as one cell --------------------------------------------------------------


def test_square_class(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example 2
        class MyModel(PythonModel):
            def predict(self, context, model_input):
                return model_input**2
        """,
        )
    )
    assert ran.card["name"] == "my_model" and ran.card["uri"] == "models:/my_model/1"
    assert ran.column("in memory") == [4] and ran.column("fresh process") == [4]
    assert models_in(store) == ["my_model/1"]
    assert ip.user_ns["_pyfunc"].predict(3)[0].tolist() == [9]  # a signature makes the input a DataFrame, as in MLflow


CELL_PROFILED = """
%%pyfunc_model profiled --example "pd.DataFrame({'x': [1.0, 2.0]})"
class MyModel(PythonModel):
    def predict(self, context, model_input):
        return model_input.assign(y=model_input["x"] ** 2)
"""


@pytest.mark.parametrize("profiler", ["cProfile", "python function"])
def test_a_running_profiler_is_left_in_place(ip, profiler):
    """The magic under %prun or cProfile: requirement recording did put back a C profiler with
    sys.setprofile, which made every later call raise "'Profile' object is not callable"."""
    import cProfile
    import sys

    calls = []
    profile = cProfile.Profile()
    installed = None
    try:
        if profiler == "cProfile":
            profile.enable()
        else:
            sys.setprofile(lambda frame, event, arg: calls.append(event))
        installed = sys.getprofile()
        ran = run(ip, CELL_PROFILED)
        after = sys.getprofile()
    finally:
        profile.disable()
        sys.setprofile(None)
    saved(ran)
    assert installed is not None and after is installed
    unprofiled = saved(run(ip, CELL_PROFILED.replace("profiled", "unprofiled")))
    assert ran.card["requirements"] == unprofiled.card["requirements"]
    if profiler == "python function":
        assert calls  # it went on receiving events


def test_simple_linear_model(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model
        class SimpleLinearModel(PythonModel):
            def predict(self, context, model_input):
                return pd.DataFrame(2 * model_input + 3)
        input_example = pd.DataFrame([1, 2, 3])
        """,
        )
    )
    assert ran.column("in memory") == [5, 7, 9] == ran.column("reloaded") == ran.column("fresh process")
    assert ran.card["signature"]["inputs"] == [
        {"name": 0, "type": "long", "required": True}
    ]  # int labels stay ints (our deviation)
    assert {"integer-columns", "integer-labels"} <= ran.checks()
    assert ran.card["model"] == "SimpleLinearModel (class)"


def test_function_model(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model linear_function --example "pd.DataFrame({'x': [1.0, 2.0, 3.0]})"
        def predict(model_input):
            return pd.DataFrame(2 * model_input + 3)
        """,
        )
    )
    assert ran.card["model"] == "predict (function)"
    assert ran.column("fresh process") == [5.0, 7.0, 9.0]
    assert models_in(store) == ["linear_function/1"]


def test_parameterized_model_from_the_last_expression(ip, store):
    ran = saved(
        run(
            ip,
            "%%pyfunc_model --example \"pd.DataFrame({'x': [1.0, 2.0, 3.0]})\"\n"
            f"{PARAMETERIZED}\nParameterizedLinearModel(10, 20)\n",
        )
    )
    assert ran.column("in memory") == [30.0, 40.0, 50.0] == ran.column("fresh process")
    assert "_pyfunc_jupyter_last_value_" not in ip.user_ns
    assert [o for o in ran.outputs if "text/plain" in o.data and MIME_TYPE not in o.data] == []  # no Out[] repr
    assert {s["attribute"] for s in ran.card["state"]} == {"slope", "intercept"}


def test_parameterized_model_needs_arguments(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "pd.DataFrame({'x': [1.0]})"
        class ParameterizedLinearModel(PythonModel):
            def __init__(self, slope, intercept):
                self.slope, self.intercept = slope, intercept
            def predict(self, context, model_input):
                return self.slope * model_input + self.intercept
        """,
    )
    assert type(ran.error).__name__ == "UsageError"
    assert "needs slope, intercept" in str(ran.error) and "ParameterizedLinearModel(slope=..., intercept=...)" in str(
        ran.error
    )
    assert "ParameterizedLinearModel" in ip.user_ns  # the cell's definitions stay defined
    assert models_in(store) == []


def test_inference_params(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example "pd.DataFrame({'x': [10.0, 20.0, 30.0]})" --params "{'slope': 2, 'intercept': 10}"
        class LinearFunctionInferenceParams(PythonModel):
            def predict(self, context, model_input, params):
                return pd.DataFrame(params["slope"] * model_input + params["intercept"])
        """,
        )
    )
    assert ran.card["signature"]["params"] == [
        {"name": "slope", "type": "long", "default": 2},
        {"name": "intercept", "type": "long", "default": 10},
    ]
    assert ran.column("fresh process") == [30.0, 50.0, 70.0]
    model = ip.user_ns["_pyfunc"].model
    assert model.predict(pd_frame(ip, [10.0]), params={"slope": 3})["x"].tolist() == [40.0]


def pd_frame(ip, values):
    return ip.user_ns["pd"].DataFrame({"x": values})


def test_load_context_with_an_artifact_and_a_helper_method(ip, store, tmp_path):
    (tmp_path / "prompt.json").write_text(json.dumps({"template": "Q: {q} A:"}))
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model prompter --artifact template=prompt.json
        import json

        class Prompter(PythonModel):
            def load_context(self, context):
                with open(context.artifacts["template"]) as f:
                    self.template = json.load(f)["template"]

            def format_prompt(self, question):
                return self.template.format(q=question)

            def predict(self, context, model_input, params=None):
                return [self.format_prompt(q) for q in model_input["q"]]

        input_example = pd.DataFrame({"q": ["why?", "how?"]})
        """,
        )
    )
    assert ran.column("fresh process") == ["Q: why? A:", "Q: how? A:"]
    assert ran.card["artifacts"] == [{"key": "template", "path": "artifacts/prompt.json"}]
    assert "artifacts/prompt.json" in {f["path"] for f in ran.card["files"]}
    assert not hasattr(ip.user_ns["Prompter"], "template")


def test_pip_requirements_and_code_paths(ip, store, tmp_path):
    (tmp_path / "shout_helpers.py").write_text("def shout(text):\n    return text.upper() + '!'\n")
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model shouter --pip pandas --pip cloudpickle --code shout_helpers.py
        import shout_helpers

        class Shouter(PythonModel):
            def predict(self, context, model_input, params=None):
                return [shout_helpers.shout(t) for t in model_input["text"]]

        input_example = pd.DataFrame({"text": ["hi", "yo"]})
        """,
        )
    )
    assert ran.column("fresh process") == ["HI!", "YO!"]
    assert [r["name"] for r in ran.card["requirements"]] == ["pandas", "cloudpickle"]
    assert {r["source"] for r in ran.card["requirements"]} == {"given (pip_requirements)"}
    assert "code/shout_helpers.py" in {f["path"] for f in ran.card["files"]}


def test_card_keeps_the_decimal_point_of_a_float_params_default(ip, store):
    cell = """
        %%pyfunc_model --example "pd.DataFrame({'x': [1.0]})" --params "dict(surge=1.0, n=2, ratio=0.5, steps=[1.0, 2.5])"
        class M(PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input * params["surge"]
        """  # noqa: E501 - a %%magic line cannot wrap
    ran = saved(run(ip, cell))
    assert (
        "Params: surge: double = 1.0, n: long = 2, ratio: double = 0.5, steps: double [-1] = [1.0, 2.5]"
        in (ran.bundle["text/plain"])
    )
    assert "<td>surge</td><td>double</td><td>1.0</td>" in ran.bundle["text/html"]


def test_check_requirements_that_cannot_unpickle_the_model(ip, store):
    cell = """
        %%pyfunc_model --pip {pip} --example "pd.DataFrame({{'x': [1.0]}})"
        def double(model_input):
            return model_input * 2
        """
    ran = saved(run(ip, cell.format(pip="pandas")))
    assert "cloudpickle" in warned(ran, "missing-cloudpickle")["message"]
    # the requirement lines that do let a new environment unpickle it: tests/test_checks.py


def test_extra_pip_requirements_keep_the_inferred_ones(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --extra-pip "tabulate>=0.9" --example "pd.DataFrame({'x': [1.0]})"
        def double(model_input):
            return model_input * 2
        """,
        )
    )
    sources = {r["name"]: r["source"] for r in ran.card["requirements"]}
    assert sources["cloudpickle"].startswith("inferred")
    assert sources["tabulate"] == "given (extra_pip_requirements)"
    assert ran.volatile["pins"]["tabulate"] == "tabulate>=0.9"


def test_path_and_overwrite(ip, store, tmp_path):
    cell = """
        %%pyfunc_model --path out/model {flags} --example "pd.DataFrame({{'x': [1.0]}})"
        def plus_{n}(model_input):
            return model_input + {n}
        """
    saved(run(ip, cell.format(flags="", n=1)))
    again = run(ip, cell.format(flags="", n=2))
    assert type(again.error).__name__ == "UsageError" and "overwrite" in str(again.error)
    assert (
        run(
            ip,
            "import pyfunc_jupyter\npyfunc_jupyter.load_model('out/model').predict(pd.DataFrame({'x': [1.0]}))['x'][0]",
        ).result.result
        == 2.0
    )
    replaced = saved(run(ip, cell.format(flags="--overwrite", n=2)))
    assert replaced.column("fresh process") == [3.0]
    assert replaced.card["uri"] is None and replaced.volatile["path"].endswith("out/model")
    assert models_in(store) == []


def test_as_binds_the_result_and_reruns_add_versions_when_asked(ip, store):
    cell = """
        %%pyfunc_model twice --as result --example "[1.0, 2.0]" {flag}
        def twice(model_input):
            return [2 * v for v in model_input[0]]
        """
    saved(run(ip, cell.format(flag="")))
    assert run(ip, cell.format(flag="")).card["status"] == "unchanged: same as v1"
    second = saved(run(ip, cell.format(flag="--new-version")))
    assert second.card["version"] == 2 and models_in(store) == ["twice/1", "twice/2"]
    result = ip.user_ns["result"]
    assert result.saved and result.info.version == 2 and result.model.path.name == "2"
    assert "_pyfunc" not in ip.user_ns


def test_card_bundle_has_html_and_text_and_keeps_volatile_facts_in_metadata(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example "pd.DataFrame({'x': [1.0, 2.0]})"
        def inc(model_input):
            return model_input + 1
        """,
        )
    )
    assert set(ran.bundle) == {MIME_TYPE, "text/html", "text/plain"}
    data_text = json.dumps(ran.card)
    for volatile in (ran.volatile["path"], ran.volatile["created"], ran.volatile["model_uuid"]):
        assert volatile not in data_text
    assert str(store) not in data_text
    assert ran.volatile["sizes"]["MLmodel"] > 0
    assert "inc v1" in ran.bundle["text/html"] and "fresh process" in ran.bundle["text/html"]
    assert "Model inc v1: saved" in ran.bundle["text/plain"]


# --- bad input: clear errors, nothing written, notebook state kept ----------------------------------------


def test_no_example_is_an_error_that_says_how(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model
        def inc(model_input):
            return model_input + 1
        """,
    )
    assert type(ran.error).__name__ == "UsageError"
    assert "--example EXPR" in str(ran.error) and "input_example = ..." in str(ran.error)
    assert models_in(store) == [] and "inc" in ip.user_ns


def test_failing_cell_shows_its_traceback_and_saves_nothing(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example 1
        def inc(model_input):
            return model_input + 1
        raise RuntimeError("cell broke")
        """,
    )
    assert "cell broke" in ran.stdout + ran.stderr
    assert type(ran.error).__name__ == "UsageError" and "nothing was saved" in str(ran.error)
    assert models_in(store) == []


def test_failing_predict_shows_only_user_frames(ip, store):
    with capture_output() as captured:
        result = ip.run_cell(
            textwrap.dedent("""
            %%pyfunc_model --example "pd.DataFrame({'x': [1.0]})"
            class Divider(PythonModel):
                def predict(self, context, model_input, params=None):
                    return self.divide(model_input)

                def divide(self, model_input):
                    return 1 / 0
            """).lstrip()
        )
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    shown = captured.stdout + captured.stderr
    assert ("ZeroDivisionError" in shown and "def divide" not in shown) or "1 / 0" in shown
    assert "pyfunc_jupyter/_" not in shown
    assert "predict failed on the input example" in shown and "nothing was saved" in shown
    assert models_in(store) == []


@pytest.mark.parametrize(
    "cell, message",
    [
        (
            """
     %%pyfunc_model --example 1
     class A(PythonModel):
         def predict(self, context, model_input):
             return 1
     class B(PythonModel):
         def predict(self, context, model_input):
             return 2
     """,
            "several model classes (A, B)",
        ),
        (
            """
     %%pyfunc_model --example 1
     def f(x):
         return x
     def g(x):
         return x
     """,
            "several functions (f, g)",
        ),
        (
            """
     %%pyfunc_model --example 1
     x = 1
     """,
            "defines no model",
        ),
        (
            """
     %%pyfunc_model --example 1
     def two(a, b):
         return a
     """,
            "takes 2 arguments",
        ),
        (
            """
     %%pyfunc_model --example undefined_name
     def f(x):
         return x
     """,
            "--example 'undefined_name' failed: NameError",
        ),
        (
            """
     %%pyfunc_model --example 1 --params "[1, 2]"
     def f(x):
         return x
     """,
            "--params must give a dict",
        ),
        (
            """
     %%pyfunc_model --example 1 --artifact nokey
     def f(x):
         return x
     """,
            "expected KEY=PATH",
        ),
        (
            """
     %%pyfunc_model --example 1 --overwrite
     def f(x):
         return x
     """,
            "--overwrite applies only with --path",
        ),
    ],
)
def test_usage_errors(ip, store, cell, message):
    ran = run(ip, cell)
    assert type(ran.error).__name__ == "UsageError"
    assert message in str(ran.error)
    assert models_in(store) == []


def test_a_subclass_wins_over_its_base(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example "[1.0]"
        class Base(PythonModel):
            def predict(self, context, model_input):
                return self.scale(model_input)
            def scale(self, values):
                return values
        class Doubler(Base):
            def scale(self, values):
                return [2 * v for v in values[0]]
        """,
        )
    )
    assert ran.card["model"] == "Doubler (class)" and ran.column("fresh process") == [2.0]


# --- the checks from a cell: the static errors, and one of each other kind (static warning, output,
# requirements, fresh process, reload); every check is tested directly in tests/test_checks.py ------------


def not_saved(ran: Ran, check: str) -> dict:
    assert type(ran.error).__name__ == "UsageError" and "nothing was saved" in str(ran.error)
    assert ran.card["status"] == "not saved"
    finding = next(c for c in ran.card["checks"] if c["check"] == check)
    assert finding["severity"] == "error" and finding["fix"]
    return finding


def warned(ran: Ran, check: str) -> dict:
    finding = next((c for c in ran.card["checks"] if c["check"] == check), None)
    assert finding is not None, ran.card["checks"]
    assert finding["severity"] == "warning" and finding["fix"]
    return finding


def test_check_local_module_not_shipped(ip, store, tmp_path):
    (tmp_path / "local_tools.py").write_text("def twice(v):\n    return 2 * v\n")
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        import local_tools

        def apply(model_input):
            return [local_tools.twice(v) for v in model_input[0]]
        """,
    )
    finding = not_saved(ran, "local-module")
    assert "local_tools" in finding["message"] and "--code local_tools.py" in finding["fix"]
    assert models_in(store) == []


def test_check_local_function_imported_by_name(ip, store, tmp_path):
    (tmp_path / "local_fn.py").write_text("def twice(v):\n    return 2 * v\n")
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        from local_fn import twice

        class M(PythonModel):
            def predict(self, context, model_input):
                return [twice(v) for v in model_input[0]]
        """,
    )
    assert "--code local_fn.py" in not_saved(ran, "local-module")["fix"]


def test_check_local_module_found_only_in_the_fresh_process(ip, store, tmp_path):
    (tmp_path / "lazy_mod.py").write_text("VALUE = 3\n")
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        class Lazy(PythonModel):
            def predict(self, context, model_input):
                import lazy_mod
                return [v + lazy_mod.VALUE for v in model_input[0]]
        """,
    )
    finding = not_saved(ran, "local-module")
    assert "fresh Python process" in finding["message"] and "--code" in finding["fix"]
    assert ran.output("fresh process")["status"] == "error"
    assert not list(store.rglob("MLmodel"))


def test_check_notebook_global(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example "[1.0]"
        offset = 5.0
        def shifted(model_input):
            return [v + offset for v in model_input[0]]
        """,
        )
    )
    assert "`offset`" in warned(ran, "notebook-global")["message"]


def test_check_undefined_name(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        class M(PythonModel):
            def predict(self, context, model_input):
                return missing_helper(model_input)
        """,
    )
    assert "missing_helper" in not_saved(ran, "undefined-name")["message"]


def test_check_unpicklable_state(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        import threading
        class M(PythonModel):
            def __init__(self):
                self.lock = threading.Lock()
            def predict(self, context, model_input):
                return model_input
        """,
    )
    assert "load_context" in not_saved(ran, "unpicklable-state")["fix"]


def test_check_open_file_in_state(ip, store, tmp_path):
    (tmp_path / "data.txt").write_text("x")
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        class M(PythonModel):
            def __init__(self):
                self.handle = open("data.txt")
            def predict(self, context, model_input):
                return model_input
        """,
    )
    finding = not_saved(ran, "unpicklable-state")
    assert "self.handle" in finding["message"] and "--artifact handle=PATH" in finding["fix"]


def test_check_load_context_signature(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        class M(PythonModel):
            def load_context(self, ctx):
                pass
            def predict(self, context, model_input):
                return model_input
        """,
    )
    assert "def load_context(self, context)" in not_saved(ran, "load-context-signature")["fix"]


def test_check_artifact_read_but_not_given(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        class M(PythonModel):
            def load_context(self, context):
                self.path = context.artifacts["weights"]
            def predict(self, context, model_input):
                return model_input
        """,
    )
    assert "--artifact weights=PATH" in not_saved(ran, "missing-artifact")["fix"]


def test_check_artifact_path_missing(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]" --artifact weights=nowhere.bin
        class M(PythonModel):
            def load_context(self, context):
                self.path = context.artifacts["weights"]
            def predict(self, context, model_input):
                return model_input
        """,
    )
    assert "nowhere.bin" in not_saved(ran, "artifact-not-found")["message"]


def test_check_artifact_path_left_unexpanded_by_ipython(ip, store, tmp_path):
    (tmp_path / "w.bin").write_bytes(b"1")
    ip.user_ns["weights_path"] = str(tmp_path / "w.bin")
    cell = """
        %%pyfunc_model --example "[1.0]" --artifact w=$weights_path --params {params}
        class M(PythonModel):
            def load_context(self, context):
                self.path = context.artifacts["w"]
            def predict(self, context, model_input, params=None):
                return model_input
        """
    # A {...} that is not an expression makes IPython leave the whole line as it is, $weights_path included.
    message = not_saved(run(ip, cell.format(params="\"{'k': 1}\"")), "artifact-not-found")["message"]
    assert "'$weights_path'" in message and "dict(k=v)" in message
    # With an expression IPython can evaluate, $weights_path is expanded: the artifact is found (the cell
    # stops at another check, so nothing is saved and no fresh process runs).
    expanded = run(ip, cell.format(params='"dict(k=1)"').replace("return model_input", "return undefined_here"))
    not_saved(expanded, "undefined-name")
    assert "artifact-not-found" not in expanded.checks()


def test_check_code_path_missing(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]" --code nowhere.py
        def same(model_input):
            return model_input
        """,
    )
    assert "nowhere.py" in not_saved(ran, "code-not-found")["message"]


def test_check_output_not_json(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example "[1.0]"
        class Thing:
            pass
        class M(PythonModel):
            def predict(self, context, model_input):
                return Thing()
        """,
        )
    )
    assert "Thing" in warned(ran, "output-not-json")["message"]


def test_check_reload_mismatch_marks_cells(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "pd.DataFrame({'x': [1.0, 2.0]})"
        import numpy as np
        def noisy(model_input):
            return (model_input["x"] + np.random.default_rng().normal(size=len(model_input))).tolist()
        """,
    )
    assert ran.card["status"] == "saved"
    warned(ran, "reload-mismatch")
    assert ran.output("reloaded")["status"] == "mismatch" and ran.output("reloaded")["diff"] == [[0, 0], [1, 0]]


# --- %pyfunc_load and %pyfunc_models ------------------------------------------------------------------------


def test_load_binds_the_model_and_shows_its_card(ip, store):
    saved(
        run(
            ip,
            """
        %%pyfunc_model linear --example "pd.DataFrame({'x': [1.0, 2.0]})"
        def linear(model_input):
            return 2 * model_input + 3
        """,
        )
    )
    ran = run(ip, "%pyfunc_load models:/linear/latest --as loaded")
    assert ran.error is None and ran.card["name"] == "linear" and ran.card["version"] == 1
    assert "Loaded models:/linear/latest as `loaded`: call loaded.predict(data)." in ran.stdout
    assert ran.column("loaded") == [5.0, 7.0]
    # the card keeps what the model gave when saved (from its sidecar) and compares the load with it
    assert [(o["label"], o["status"]) for o in ran.card["preview"]["outputs"]] == [
        ("in memory", "reference"),
        ("fresh process", "match"),
        ("loaded", "match"),
    ]
    assert "integer-columns" not in ran.checks() and ran.card["summary"] == {"errors": 0, "warnings": 0}
    assert run(ip, "loaded.predict(pd.DataFrame({'x': [0.0]}))['x'].tolist()").result.result == [3.0]


def test_load_by_alias(ip, store):
    import pyfunc_jupyter

    for factor in (2, 3):
        saved(
            run(
                ip,
                f"""
            %%pyfunc_model scaled --example "pd.DataFrame({{'x': [1.0, 2.0]}})"
            def scaled(model_input):
                return {factor} * model_input
            """,
            )
        )
    pyfunc_jupyter.set_registered_model_alias("scaled", "champion", 1)
    ran = run(ip, "%pyfunc_load models:/scaled@champion --as champ")
    assert ran.error is None and ran.card["version"] == 1 and ran.column("loaded") == [2.0, 4.0]
    missing = run(ip, "%pyfunc_load models:/scaled@nobody")
    assert type(missing.error).__name__ == "UsageError" and "has no alias 'nobody'" in str(missing.error)


def test_model_card_of_a_saved_model_keeps_its_checks(ip, store):
    saved(
        run(
            ip,
            """
        %%pyfunc_model counted --example "pd.DataFrame({'n': [1, 2]})"
        def counted(model_input):
            return model_input["n"] * 2
        """,
        )
    )
    from pyfunc_jupyter import model_card

    card = model_card("models:/counted/1")
    assert {c["check"] for c in card.findings} == {"integer-columns"}
    assert card.data["name"] == "counted" and card.data["version"] == 1 and card.data["status"] == "saved"


def test_load_errors_are_usage_errors(ip, store):
    ran = run(ip, "%pyfunc_load models:/nothing/1")
    assert type(ran.error).__name__ == "UsageError" and "No model named 'nothing'" in str(ran.error)


def test_models_lists_the_store(ip, store):
    empty = run(ip, "%pyfunc_models")
    assert "No models in the store" in repr(empty.result.result)
    for flag in ("", "--new-version"):
        saved(
            run(
                ip,
                f"""
            %%pyfunc_model listed --example "[1.0]" {flag}
            def listed(model_input):
                return model_input
            """,
            )
        )
    listing = run(ip, "%pyfunc_models").result.result
    assert [(r.name, r.versions) for r in listing.rows] == [("listed", [1, 2])]
    assert "listed" in listing._repr_html_() and "versions 1, 2" in repr(listing)


def test_help_documents_every_option(ip):
    from pyfunc_jupyter.magics import PyfuncMagics

    doc = PyfuncMagics.pyfunc_model.__doc__
    for option in (
        "--example",
        "--params",
        "--signature",
        "--artifact",
        "--pip",
        "--extra-pip",
        "--conda",
        "--code",
        "--config",
        "--path",
        "--overwrite",
        "--as",
    ):
        assert option in doc


def test_signature_config_and_conda_options(ip, store, tmp_path):
    (tmp_path / "env.yaml").write_text("name: m\ndependencies:\n  - python=3.11\n  - pip:\n    - pandas\n")
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model configured --signature sig --config "{'factor': 3}" --conda env.yaml
        from pyfunc_jupyter import infer_signature

        class Configured(PythonModel):
            def load_context(self, context):
                self.factor = context.model_config["factor"]
            def predict(self, context, model_input, params=None):
                return [v * self.factor for v in model_input["x"]]

        input_example = pd.DataFrame({"x": [1.0, 2.0]})
        sig = infer_signature(input_example, [3.0, 6.0])
        """,
        )
    )
    assert ran.column("fresh process") == [3.0, 6.0]
    assert ran.card["signature"]["outputs"] == [{"name": None, "type": "double", "required": True}]
    assert {r["name"]: r["source"] for r in ran.card["requirements"]} == {"pandas": "given (conda_env)"}


def test_a_last_expression_that_is_not_the_model_is_displayed(ip, store):
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example "[1.0]"
        def same(model_input):
            return model_input
        "a note"
        """,
        )
    )
    assert [o.data["text/plain"] for o in ran.outputs if MIME_TYPE not in o.data] == ["'a note'"]


def test_model_card_from_files_keeps_model_kind_and_state(ip, store):
    saved(
        run(
            ip,
            """
        %%pyfunc_model weighted --example "pd.DataFrame({'x': [1.0]})"
        class Weighted(PythonModel):
            def __init__(self):
                self.weight = 2.0
            def predict(self, context, model_input):
                return self.weight * model_input["x"]
        """,
        )
    )
    from pyfunc_jupyter import model_card

    card = model_card("models:/weighted/1")
    assert card.data["model"] == "Weighted (class)"
    assert (
        card.data["state"] == [{"attribute": "weight", "type": "float"}] and card.volatile["state_sizes"]["weight"] > 0
    )


# --- the caller's objects, bad magic input, interrupts, large examples, tracebacks ---------------------------


def test_a_predict_that_edits_its_input_leaves_the_notebook_example_alone(ip, store):
    run(ip, "df = pd.DataFrame({'x': [1.0, 2.0]})")
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example df
        class Doubler(PythonModel):
            def predict(self, context, model_input):
                model_input["x"] *= 2
                return model_input
        """,
        )
    )
    assert ip.user_ns["df"]["x"].tolist() == [1.0, 2.0]  # not [4.0, 8.0]: every inference ran on a copy
    assert ran.column("in memory") == ran.column("fresh process") == ran.column("reloaded") == [2.0, 4.0]
    assert ip.user_ns["_pyfunc"].model.input_example["x"].tolist() == [1.0, 2.0]  # saved as given


@pytest.mark.parametrize(
    "name",
    ["__builtins__", "__name__", "print", "list", "class", "None", "1x", "a-b", "In", "Out", "_", "get_ipython", "_ih"],
)
def test_as_must_be_a_free_variable_name(ip, store, name):
    ran = run(
        ip,
        f"""
        %%pyfunc_model --as {name} --example "[1.0]"
        cell_ran = True
        def same(model_input):
            return model_input
        """,
    )
    assert type(ran.error).__name__ == "UsageError" and f"--as {name!r}" in str(ran.error), ran.error
    assert "cell_ran" not in ip.user_ns and models_in(store) == []  # refused before the cell ran
    assert run(ip, "1 + 1").result.result == 2  # the shell still works
    load = run(ip, f"%pyfunc_load models:/x/1 --as {name}")
    assert type(load.error).__name__ == "UsageError" and f"--as {name!r}" in str(load.error)


def test_load_parse_errors_get_a_hint_of_their_own(ip, store):
    ran = run(ip, "%pyfunc_load my models/m1")
    assert type(ran.error).__name__ == "UsageError" and "unrecognized arguments: models/m1" in str(ran.error)
    assert "%pyfunc_load? lists the options" in str(ran.error) and "--example" not in str(ran.error)


@pytest.mark.parametrize(
    "line, hint",
    [
        ("--example pd.DataFrame({'x': [1.0, 2.0]})", "--example \"pd.DataFrame({'x': [1.0, 2.0]})\""),
        ('--example pd.DataFrame({"x": [1.0, 2.0]}) --as m', """--example 'pd.DataFrame({"x": [1.0, 2.0]})'"""),
        # the store name (an optional positional) takes the second word: --params gets "dict(k=1,"
        ("--example '[1.0]' --params dict(k=1, s='a')", "--params \"dict(k=1, s='a')\""),
        ("one two --example x_df", "must be quoted"),
    ],
)
def test_an_unquoted_expression_gets_a_quoting_hint(ip, store, line, hint):
    ran = run(ip, f"%%pyfunc_model {line}\ndef f(x):\n    return x\n")
    assert type(ran.error).__name__ == "UsageError"
    assert "unrecognized arguments" in str(ran.error) or "SyntaxError" in str(ran.error)
    assert hint in str(ran.error), ran.error
    assert models_in(store) == []


@pytest.fixture
def ctrl_c_interrupts():
    """SIGINT raises KeyboardInterrupt, as in a kernel, whatever this process inherited (a test run
    started in the background has SIGINT ignored: the interrupted check would sleep out its 300 s)."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_the_fresh_process_check_stops_the_child(ip, store, tmp_path, ctrl_c_interrupts):
    """A SIGINT to this process while the fresh process runs (here one that ignores SIGINT) kills that
    child: the cell stops with KeyboardInterrupt, the child's pid is gone and nothing is left in the store."""
    import os
    import signal
    import threading
    import time

    pidfile = tmp_path / "fresh.pid"
    main = threading.main_thread().ident

    def interrupt_once_the_child_runs():
        deadline = time.monotonic() + 120
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=interrupt_once_the_child_runs, daemon=True).start()
    ran = run(
        ip,
        f"""
        %%pyfunc_model --example "[1.0]"
        def slow(model_input):
            import os, signal, sys, time
            if sys.flags.safe_path:  # only in the fresh process (python -P)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                open({str(pidfile)!r}, "w").write(str(os.getpid()))
                time.sleep(300)
            return model_input
        """,
    )
    assert isinstance(ran.error, KeyboardInterrupt), (ran.error, ran.card and ran.card["preview"])
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped, not left running for 300 s
    assert models_in(store) == [] and not any(store.rglob("*")) if store.exists() else True


def test_a_large_example_is_cut_to_a_sample_with_a_warning(ip, store):
    run(
        ip,
        "import numpy as np\nbig = pd.DataFrame({'x': np.arange(150_000, dtype=float), 'y': 1.0})\n"
        "big.loc[120_000, 'y'] = float('nan')",
    )
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example big
        def plus(model_input):
            return model_input["x"] + model_input["y"]
        """,
        )
    )
    finding = warned(ran, "large-example")
    assert "150,000 rows" in finding["message"] and "first 100 rows" in finding["message"]
    assert "--example df.head(5)" in finding["fix"]
    example = ip.user_ns["_pyfunc"].model.input_example
    assert len(example) == 101 and example["y"].isna().sum() == 1  # 100 rows + the one with a missing y
    assert len(ip.user_ns["big"]) == 150_000
    y = next(c for c in ran.card["signature"]["inputs"] if c["name"] == "y")
    assert y["required"] is False  # the sample keeps the signature the whole frame gives


def test_a_small_example_is_saved_whole(ip, store):
    run(ip, "import numpy as np\nmid = pd.DataFrame({'x': np.arange(5_000, dtype=float)})")
    ran = saved(
        run(
            ip,
            """
        %%pyfunc_model --example mid
        def same(model_input):
            return model_input
        """,
        )
    )
    assert "large-example" not in ran.checks() and len(ip.user_ns["_pyfunc"].model.input_example) == 5_000


def test_a_predict_error_shows_the_users_frames_with_the_cells_number(ip, store):
    with capture_output() as captured:
        result = ip.run_cell(
            textwrap.dedent("""
            %%pyfunc_model --example "pd.DataFrame({'x': [1.0]})"
            class Picky(PythonModel):
                def predict(self, context, model_input):
                    return self.pick(model_input)

                def pick(self, frame):
                    return frame["y"]
            """).lstrip(),
            store_history=True,
        )
    assert isinstance(result.error_in_exec, KeyError)
    shown = captured.stdout + captured.stderr
    labels = set(re.findall(r"Cell In\[(\d+)\]", shown))
    assert labels == {str(result.execution_count)}, shown  # not the next cell's number
    assert "run_cell_magic" not in shown and "pandas" not in shown and "pyfunc_jupyter" not in shown, shown
    assert 'return frame["y"]' in shown and "KeyError: 'y'" in shown
    assert "predict failed on the input example" in shown


def test_a_failing_cell_shows_the_cells_number(ip, store):
    with capture_output() as captured:
        result = ip.run_cell("%%pyfunc_model --example 1\nraise RuntimeError('cell broke')\n", store_history=True)
    assert set(re.findall(r"Cell In\[(\d+)\]", captured.stdout)) == {str(result.execution_count)}


@pytest.mark.parametrize(
    "make, said, not_said",
    [
        ("threading.Lock()", "self.state = threading.Lock()", "--artifact"),
        (
            "{'a': threading.RLock()}",
            "create self.state in load_context, not __init__ (the lock it holds",
            "--artifact",
        ),
        ("threading.Thread(target=print)", "start the thread in load_context", "--artifact"),
        ("socket.socket()", "keep the host and port", "--artifact"),
        ("sqlite3.connect(':memory:')", "keep the connection string", "open context"),
        ("open('data.txt')", "pass it with --artifact state=PATH and open context.artifacts['state']", "create"),
        ("(i for i in range(3))", "keep the values (list(...))", "--artifact"),
        ("io.StringIO('text')", "keep its contents", "--artifact"),
    ],
)
def test_unpicklable_state_gets_the_fix_for_its_kind(ip, store, tmp_path, make, said, not_said):
    (tmp_path / "data.txt").write_text("x")
    ran = run(
        ip,
        f"""
        %%pyfunc_model --example "[1.0]"
        import io, socket, sqlite3, threading
        class M(PythonModel):
            def __init__(self):
                self.state = {make}
            def predict(self, context, model_input):
                return model_input
        """,
    )
    finding = not_saved(ran, "unpicklable-state")
    assert said in finding["fix"] and not_said not in finding["fix"], finding


def test_a_notebook_global_lock_is_an_error_with_a_fix_that_fits(ip, store):
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        import threading
        guard = threading.Lock()
        class Guarded(PythonModel):
            def predict(self, context, model_input):
                with guard:
                    return model_input
        """,
    )
    finding = not_saved(ran, "notebook-global")
    assert "`guard`" in finding["message"] and "cannot be saved" in finding["message"]
    assert "self.guard = threading.Lock()" in finding["fix"] and "use self.guard in predict" in finding["fix"]
    ran = run(
        ip,
        """
        %%pyfunc_model --example "[1.0]"
        def guarded(model_input):
            with guard:
                return model_input
        """,
    )
    assert not_saved(ran, "notebook-global")["fix"].startswith("wrap the function in a PythonModel and create the lock")


def test_unpicklable_kinds_of_live_state():
    import io
    import queue
    import socket
    import sqlite3
    import threading

    from pyfunc_jupyter.authoring.checks import unpicklable_kind

    connection = sqlite3.connect(":memory:")
    with socket.socket() as sock:
        kinds = [
            unpicklable_kind(v)
            for v in (
                threading.Lock(),
                threading.Condition(),
                queue.Queue(),
                threading.Thread(),
                sock,
                connection,
                io.BytesIO(),
                (i for i in ()),
                [1],
                {"a": 1},
                sqlite3.Row,
            )
        ]
    connection.close()
    assert kinds == ["lock", "lock", "lock", "thread", "socket", "database", "buffer", "generator", None, None, None]
    assert unpicklable_kind({"c": 1}, "TypeError: cannot pickle 'sqlite3.Connection' object") == "database"
    assert unpicklable_kind({"c": 1}, "TypeError: cannot pickle '_thread.RLock' object") == "lock"


# --- an unchanged cell reuses its version (issue 14 item 9) ------------------------------------------------

UNCHANGED_CELL = """
%%pyfunc_model same_again --example "pd.DataFrame({{'x': [1.0, 2.0]}})" {flag}
class SameAgain(PythonModel):
    def predict(self, context, model_input):
        return 3 * model_input["x"]
"""


def test_rerunning_an_unchanged_cell_reuses_the_version(ip, store):
    first = saved(run(ip, UNCHANGED_CELL.format(flag="")))
    again = run(ip, UNCHANGED_CELL.format(flag=""))
    assert again.error is None and again.card["status"] == "unchanged: same as v1"
    assert again.card["version"] == 1 and first.card["version"] == 1
    assert (
        "unchanged: same as v1" in again.bundle["text/html"] and "unchanged: same as v1" in again.bundle["text/plain"]
    )
    assert ip.user_ns["_pyfunc"].info.unchanged and models_in(store) == ["same_again/1"]
    forced = run(ip, UNCHANGED_CELL.format(flag="--new-version"))
    assert forced.card["status"] == "saved" and forced.card["version"] == 2
    changed = run(ip, UNCHANGED_CELL.format(flag="").replace("3 *", "4 *"))
    assert changed.card["status"] == "saved" and models_in(store) == ["same_again/1", "same_again/2", "same_again/3"]


def test_new_version_with_path_is_a_usage_error(ip, tmp_path):
    ran = run(ip, UNCHANGED_CELL.format(flag=f"--new-version --path {tmp_path / 'there'}"))
    assert "--new-version applies only to the store" in str(ran.error)
    assert not (tmp_path / "there").exists()
