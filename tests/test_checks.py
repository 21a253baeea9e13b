"""The checks called directly on small subjects, and the check catalogue against README's table.

The magic's own tests (tests/test_magic.py) keep one cell per kind of check as the end-to-end proof:
a static error, a static warning, the output check, the requirement check, the fresh-process run and
the reload; here every check's findings are tested without saving anything.
"""

from __future__ import annotations

import itertools
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter.authoring.checks import (
    CHECKS,
    Finding,
    Subject,
    fresh_process_checks,
    mismatch_checks,
    output_checks,
    reload_failed_check,
    requirement_checks,
    static_checks,
    warning_checks,
)
from pyfunc_jupyter.authoring.fresh import FreshResult

ROOT = Path(__file__).resolve().parent.parent
_CELLS = itertools.count()


def notebook(source: str) -> dict:
    """Run ``source`` as a notebook cell would: in a namespace named ``__main__``, its source findable."""
    import linecache

    filename = f"<check-cell-{next(_CELLS)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)  # as IPython does
    namespace = {"__name__": "__main__", "PythonModel": pyfunc_jupyter.PythonModel, "pd": pd, "np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def model(source: str, name: str = "M", *args):
    """The object ``name(*args)`` (or the function ``name``) a cell defines."""
    value = notebook(source)[name]
    return value(*args) if isinstance(value, type) else value


def found(subject: Subject, check: str, severity: str = "warning") -> Finding:
    """The one finding of ``check`` the static checks make, checked for its severity and a fix."""
    findings = [f for f in static_checks(subject) if f.check == check]
    assert len(findings) == 1, static_checks(subject)
    assert findings[0].severity == severity and findings[0].fix
    return findings[0]


def checks(subject: Subject) -> set[str]:
    return {f.check for f in static_checks(subject)}


ECHO = """
class M(PythonModel):
    def predict(self, context, model_input):
        return model_input
"""


# --- the catalogue ------------------------------------------------------------------------------------------


def _readme_table() -> dict[str, str]:
    """check id -> severity as README's checks table gives them (a row may name several ids)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| check | severity | what it catches |") :].split("\n\n")[0].splitlines()[2:]
    severities = {}
    for row in table:
        first, severity, _ = [cell.strip() for cell in row.strip("|").split("|", 2)]
        ids = re.findall(r"`([a-z0-9-]+)`", first)
        parts = [p.strip() for p in severity.split(",")] if "(" not in severity else [severity]
        assert len(parts) in (1, len(ids)), row
        for index, check in enumerate(ids):
            assert check not in severities, f"{check} is twice in README's table"
            severities[check] = parts[index if len(parts) > 1 else 0]
    return severities


def test_readme_checks_table_matches_the_catalogue():
    readme = _readme_table()
    assert sorted(readme) == sorted(CHECKS), "README's checks table and authoring.checks.CHECKS name different ids"
    assert {c: readme[c] for c in CHECKS} == {c: entry.severity_text for c, entry in CHECKS.items()}


def test_every_check_in_the_catalogue_is_made_somewhere_and_nothing_else_is():
    made = set()
    for path in (ROOT / "pyfunc_jupyter").rglob("*.py"):
        made |= set(re.findall(r'Finding\(\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8")))
    assert made == set(CHECKS)


def test_a_finding_must_be_in_the_catalogue():
    with pytest.raises(ValueError, match=r"Unknown check id 'no-such-check': add it to authoring\.checks\.CHECKS"):
        Finding("no-such-check", "warning", "message", "fix")
    with pytest.raises(ValueError, match="'heavy-state' is warning, not 'error'"):
        Finding("heavy-state", "error", "message", "fix")
    assert Finding("notebook-global", "error", "m", "f").severity == "error"  # warning (error for a lock, ...)
    assert Finding("reload-failed", "warning", "m").fix == CHECKS["reload-failed"].fix  # the catalogue's fix


# --- static checks: the model's code ---------------------------------------------------------------------------


def test_local_module_and_local_function(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "local_tools_direct.py").write_text("def twice(v):\n    return 2 * v\n")
    subject = Subject(
        model(
            "import local_tools_direct\n"
            "def apply(model_input):\n"
            "    return [local_tools_direct.twice(v) for v in model_input[0]]\n",
            "apply",
        )
    )
    finding = found(subject, "local-module", "error")
    assert "local_tools_direct" in finding.message and "--code local_tools_direct.py" in finding.fix
    by_name = model(
        "from local_tools_direct import twice\n"
        "class M(PythonModel):\n"
        "    def predict(self, context, model_input):\n"
        "        return [twice(v) for v in model_input[0]]\n"
    )
    assert "--code local_tools_direct.py" in found(Subject(by_name), "local-module", "error").fix
    assert "local-module" not in checks(Subject(by_name, code_paths=["local_tools_direct.py"]))  # shipped


def test_notebook_global_is_a_warning_and_undefined_name_an_error():
    shifted = model(
        "offset = 5.0\ndef shifted(model_input):\n    return [v + offset for v in model_input[0]]\n", "shifted"
    )
    assert "`offset`" in found(Subject(shifted), "notebook-global").message
    undefined = model(
        "class M(PythonModel):\n"
        "    def predict(self, context, model_input):\n"
        "        return missing_helper(model_input)\n"
    )
    assert "missing_helper" in found(Subject(undefined), "undefined-name", "error").message


# --- static checks: the instance's state -----------------------------------------------------------------------


def test_heavy_state_and_the_size_breakdown_on_the_card():
    from pyfunc_jupyter.card.data import unsaved_card_data

    heavy = model(
        "class M(PythonModel):\n"
        "    def __init__(self):\n"
        "        self.weights = np.zeros(11 * 1024 * 1024 // 8)\n"
        "        self.bias = 1.0\n"
        "    def predict(self, context, model_input):\n"
        "        return model_input\n"
    )
    subject = Subject(heavy)
    assert "self.weights" in found(subject, "heavy-state").message
    data, volatile = unsaved_card_data("heavy", heavy, [], state=subject.state)
    assert [s["attribute"] for s in data["state"]] == ["weights", "bias"]
    assert volatile["state_sizes"]["weights"] == 11 * 1024 * 1024


def test_framework_object_in_state():
    framework = model(
        "class Module:  # stands in for a torch.nn.Module: only its module path matters\n"
        "    pass\n"
        "Module.__module__ = 'torch.nn.modules.module'\n"
        "class M(PythonModel):\n"
        "    def __init__(self):\n"
        "        self.net = Module()\n"
        "    def predict(self, context, model_input):\n"
        "        return model_input\n"
    )
    assert "--artifact net=PATH" in found(Subject(framework), "framework-state").fix


def test_absolute_path_in_state_is_shown_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vocab.txt").write_text("a\nb\n")
    holder = model(
        "class M(PythonModel):\n"
        "    def __init__(self, path):\n"
        "        self.vocab_path = path\n"
        "    def predict(self, context, model_input):\n"
        "        return model_input\n",
        "M",
        str(tmp_path / "vocab.txt"),
    )
    finding = found(Subject(holder), "absolute-path")
    assert "vocab.txt" in finding.message and "--artifact vocab_path=vocab.txt" in finding.fix
    assert str(tmp_path) not in finding.message  # inside the working directory: shown relative, stable


# --- static checks: artifacts, code paths, load_context -------------------------------------------------------


def test_artifacts_read_given_and_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "unused.bin").write_bytes(b"0")
    same = model("def same(model_input):\n    return model_input\n", "same")
    assert "'extra'" in found(Subject(same, artifacts={"extra": "unused.bin"}), "unused-artifact").message
    reads = model(
        "class M(PythonModel):\n"
        "    def load_context(self, context):\n"
        "        self.path = context.artifacts['weights']\n"
        "    def predict(self, context, model_input):\n"
        "        return model_input\n"
    )
    assert "--artifact weights=PATH" in found(Subject(reads), "missing-artifact", "error").fix
    finding = found(Subject(reads, artifacts={"weights": "nowhere.bin"}), "artifact-not-found", "error")
    assert "nowhere.bin" in finding.message and "IPython expands" not in finding.message
    unexpanded = found(Subject(reads, artifacts={"weights": "$weights_path"}), "artifact-not-found", "error")
    assert "'$weights_path'" in unexpanded.message and "dict(k=v)" in unexpanded.message
    assert "nowhere.py" in found(Subject(same, code_paths=["nowhere.py"]), "code-not-found", "error").message


def test_load_context_signature():
    odd = model(
        "class M(PythonModel):\n"
        "    def load_context(self, ctx):\n"
        "        pass\n"
        "    def predict(self, context, model_input):\n"
        "        return model_input\n"
    )
    assert "def load_context(self, context)" in found(Subject(odd), "load-context-signature", "error").fix


@pytest.mark.parametrize("module, said", [("yaml", "installed module"), ("json", "standard-library module")])
def test_code_module_collides_with_an_installed_or_standard_one(tmp_path, module, said):
    (tmp_path / f"{module}.py").write_text("VALUE = 1\n")
    same = model("def same(model_input):\n    return model_input\n", "same")
    message = found(Subject(same, code_paths=[str(tmp_path / f"{module}.py")]), "code-collision").message
    assert f"`{module}`" in message and said in message


# --- static checks: params and input columns -------------------------------------------------------------------


def test_params_that_would_be_dropped():
    reads = model(
        "class M(PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return [v * (params or {}).get('scale', 1) for v in model_input[0]]\n"
    )
    assert "--params" in found(Subject(reads), "params-dropped").fix
    assert "params-dropped" not in checks(Subject(reads, params={"scale": 2}))
    with pytest.warns(FutureWarning, match="other than context, model_input and params"):  # MLflow's own warning
        kwargs = model(
            "class M(PythonModel):\n"
            "    def predict(self, context, model_input, **kwargs):\n"
            "        return model_input\n"
        )
    assert "params=None" in found(Subject(kwargs, params={"k": 1}), "kwargs-params").fix
    assert "params=None" in found(Subject(model(ECHO), params={"k": 1}), "params-unused").fix
    assert "params-unused" not in checks(Subject(model(ECHO)))
    same = model("def same(model_input):\n    return model_input\n", "same")
    assert "PythonModel" in found(Subject(same, params={"k": 1}), "function-params").fix


def test_input_columns_enforcement_trips_on():
    frame = pd.DataFrame(
        {"u": pd.Series([1, 2], dtype="uint64"), "n": pd.Series([1, None], dtype="Int64"), 3: [0.5, 1.5], "i": [1, 2]}
    )
    subject = Subject(model(ECHO), frame)
    assert "'u'" in found(subject, "uint64-columns").message
    assert "n (Int64)" in found(subject, "nullable-dtypes").message
    assert "[3]" in found(subject, "integer-labels").message
    assert "['i']" in found(subject, "integer-columns").message


@pytest.mark.parametrize("values, dtype", [(["a", "b"], "str"), (["a", None], "string"), ([1.5, None], "Float64")])
def test_nullable_dtypes_spares_the_ones_mlflow_infers(values, dtype):
    # pandas 3 makes "str" the default for text; MLflow 3.17 infers and enforces all three.
    assert checks(Subject(model(ECHO), pd.DataFrame({"c": pd.Series(values, dtype=dtype)}))) == set()


# --- after predicting: output, requirements, fresh process, reload, Python warnings ------------------------------


def test_output_not_json():
    class Thing:
        pass

    (finding,) = output_checks(Thing())
    assert finding.check == "output-not-json" and finding.severity == "warning" and "Thing" in finding.message
    assert output_checks(pd.DataFrame({"x": [1.0]})) == [] and output_checks({"a": [1, "b"]}) == []


@pytest.mark.parametrize(
    "lines, warned",
    [
        ("pandas", True),
        ("cloudpickle>=3\npandas", False),
        ("mlflow", False),
        ("# cloudpickle\n-r other.txt\nnumpy", True),
        ("mlflow_skinny==3.1", False),
    ],
)
def test_requirements_that_cannot_unpickle_the_model(tmp_path, lines, warned):
    (tmp_path / "requirements.txt").write_text(lines + "\n")
    (tmp_path / "python_model.pkl").write_bytes(b"")
    findings = requirement_checks(tmp_path)
    assert [f.check for f in findings] == (["missing-cloudpickle"] if warned else [])
    (tmp_path / "python_model.pkl").unlink()  # a model from code: no pickle to unpickle
    assert requirement_checks(tmp_path) == []


def test_fresh_process_findings():
    missing = fresh_process_checks(
        FreshResult(
            ok=False,
            stage="load",
            error_type="ModuleNotFoundError",
            message="No module named 'nowhere_mod'",
            missing_module="nowhere_mod",
        )
    )
    assert [(f.check, f.severity) for f in missing] == [("local-module", "error")]
    assert "fresh Python process" in missing[0].message and "--pip nowhere_mod" in missing[0].fix
    (failed,) = fresh_process_checks(FreshResult(ok=False, stage="predict", error_type="KeyError", message="'y'"))
    assert failed.check == "fresh-process" and "could not predict the model: KeyError: 'y'" in failed.message
    assert "only this kernel has" in failed.fix
    (odd,) = fresh_process_checks(FreshResult(ok=False, stage="start", error_type="OSError", message="no python"))
    assert odd.fix == CHECKS["fresh-process"].fix
    assert fresh_process_checks(FreshResult(ok=True, output=[1])) == []


def test_reload_findings():
    outputs = [
        {"label": "in memory", "status": "reference"},
        {"label": "reloaded", "status": "mismatch"},
        {"label": "fresh process", "status": "match"},
    ]
    (finding,) = mismatch_checks({"outputs": outputs})
    assert finding.check == "reload-mismatch" and finding.message.startswith("The reloaded prediction differs")
    outputs[2]["status"] = "mismatch"
    assert "reloaded and fresh process predictions differ" in mismatch_checks({"outputs": outputs})[0].message
    assert mismatch_checks({"outputs": outputs[:1]}) == []
    failed = reload_failed_check("ValueError: boom")
    assert (failed.check, failed.severity, failed.message) == (
        "reload-failed",
        "warning",
        "Reloading in this kernel failed: ValueError: boom",
    )


def _caught(action) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return caught


def test_python_warnings_once_each_unless_a_check_says_the_same():
    from pyfunc_jupyter.format.infer import infer_schema
    from pyfunc_jupyter.format.load import LoadedModel

    def twice():
        warnings.warn("about the model", stacklevel=1)
        warnings.warn("about the model", stacklevel=1)

    assert [f.message for f in warning_checks(_caught(twice), [])] == ["UserWarning: about the model"]
    # the loader's own warnings for params predict cannot take, and the inference's for uint64 columns
    loaded = LoadedModel.in_memory(model(ECHO), None, None, False, Path.cwd())
    ignored = _caught(lambda: loaded.call("predict", [1.0], {"k": 1}))
    uint64 = _caught(lambda: infer_schema(pd.DataFrame({"u": pd.Series([1], dtype="uint64")})))
    assert ignored and uint64 and len(warning_checks(ignored + uint64, [])) == 2
    for check, caught in (
        ("params-unused", ignored),
        ("kwargs-params", ignored),
        ("function-params", ignored),
        ("uint64-columns", uint64),
    ):
        covered = [Finding(check, "warning", "m")]
        assert warning_checks(caught, covered) == [], check
        assert _caught(lambda caught=caught, covered=covered: warning_checks(caught, covered)) == []  # nor re-issued


def test_python_warnings_of_a_library_are_reissued_not_shown():
    library = pd.__file__
    caught = _caught(lambda: warnings.warn_explicit("library notice", FutureWarning, library, 1))
    with pytest.warns(FutureWarning, match="library notice"):
        assert warning_checks(caught, []) == []
