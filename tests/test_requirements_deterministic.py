"""Requirement inference gives the same files whatever the process ran before (issue 14 item 1)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyfunc_jupyter import PythonModel, save_model
from pyfunc_jupyter.environment.requirements import ImportRecorder

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import sys
    import pandas as pd
    if sys.argv[2] == "warm":  # the notebook used pandas and numpy before saving
        import numpy as np
        frame = pd.DataFrame({"x": np.arange(50.0), "g": ["a", "b"] * 25})
        frame.groupby("g").x.mean(); frame.describe(); frame.to_json(); (np.log1p(frame.x) * 2).sum()
        frame.x.rolling(3).mean(); pd.to_datetime(["2024-01-01"]); frame.query("x > 3")
    from pyfunc_jupyter import PythonModel, save_model

    class Linear(PythonModel):
        def predict(self, context, model_input):
            return 10 * model_input["x"] + 20

    class Logs(PythonModel):
        def predict(self, context, model_input):
            import numpy as np
            return pd.DataFrame({"y": np.log1p(model_input["x"]).rolling(2, min_periods=1).mean()})

    example = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    for run in ("first", "again"):
        for model in (Linear(), Logs()):
            save_model(f"{sys.argv[1]}/{sys.argv[2]}-{run}-{type(model).__name__}", model, input_example=example)
""")

FILES = ("requirements.txt", "conda.yaml", "python_env.yaml")

# what a model whose predict runs pandas needs: pandas calls pyarrow (for its str dtype) where pyarrow
# is installed, as it is in the test venv for the Spark tests
PANDAS_MODEL = ["cloudpickle", "pandas", *(["pyarrow"] if importlib.util.find_spec("pyarrow") else [])]


def _environment(model_dir: Path) -> dict:
    side = json.loads((model_dir / "pyfunc_jupyter.json").read_text())
    return {
        **{name: (model_dir / name).read_text() for name in FILES},
        "requirements": side["requirements"],
        "notes": side["notes"],
    }


def test_fresh_and_warm_processes_write_equal_environment_files(tmp_path):
    for mode in ("fresh", "warm"):
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path), mode],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stderr
    for model in ("Linear", "Logs"):
        reference = _environment(tmp_path / f"fresh-first-{model}")
        for mode, run in (("fresh", "again"), ("warm", "first"), ("warm", "again")):
            assert _environment(tmp_path / f"{mode}-{run}-{model}") == reference, (model, mode, run)
    linear = (tmp_path / "fresh-first-Linear" / "requirements.txt").read_text().split()
    assert [line.split("==")[0] for line in linear] == PANDAS_MODEL  # predict runs pandas' code
    logs = (tmp_path / "fresh-first-Logs" / "requirements.txt").read_text().split()
    assert [line.split("==")[0] for line in logs] == ["cloudpickle", "numpy", *PANDAS_MODEL[1:]]  # imported by predict


def _lib(site: Path, name: str, body: str) -> None:
    (site / name).mkdir()
    (site / name / "__init__.py").write_text(body)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
    (info / "top_level.txt").write_text(f"{name}\n")
    (info / "RECORD").write_text(f"{name}/__init__.py,,\n")


@pytest.fixture
def libs(tmp_path, monkeypatch):
    """Two fake installed libraries: ``outerlib.work()`` calls ``innerlib.helper()``, imported at import time."""
    site = tmp_path / "site-packages"
    site.mkdir()
    _lib(site, "innerlib", "def helper(x):\n    return x + 1\n")
    _lib(
        site,
        "outerlib",
        "import innerlib\n\ndef work(x):\n    return innerlib.helper(x)\n\n"
        "def lazy(x):\n    from outerlib import _impl  # first call: runs _impl's body\n"
        "    return _impl.go(x)\n",
    )
    (site / "outerlib" / "_impl.py").write_text("import innerlib\n\ndef go(x):\n    return innerlib.helper(x) * 2\n")
    with (site / "outerlib-1.0.dist-info" / "RECORD").open("a") as record:
        record.write("outerlib/_impl.py,,\n")
    monkeypatch.syspath_prepend(str(site))
    yield
    for name in ("innerlib", "outerlib", "outerlib._impl"):
        sys.modules.pop(name, None)


def _record(code: str, **names) -> set[tuple[str, str, bool]]:
    namespace = {"__name__": "__main__", **names}
    with ImportRecorder() as recorder:
        recorder.phase = "predict"
        exec(code, namespace)
    return {(u.name, u.how, u.direct) for u in recorder.uses}


def test_calls_are_recorded_every_time_and_import_time_imports_never(libs):
    code = "import outerlib\nouterlib.work(1)"
    first = _record(code)  # outerlib imported here for the first time: its body imports innerlib
    again = _record(code)  # already imported: only what runs is seen
    assert (
        first
        == again
        == {
            ("outerlib", "imported by predict", True),
            ("outerlib", "called by predict", True),
            ("innerlib", "called by outerlib during predict", False),
        }
    )


def test_the_kernel_behind_print_and_the_standard_library_are_not_recorded(libs, capsys):
    import outerlib

    uses = _record("import functools\nprint('hi')\nfunctools.partial(outerlib.work, 1)()", outerlib=outerlib)
    assert ("outerlib", "called by predict", True) in uses  # through functools: attributed to its caller
    assert {name for name, _, _ in uses} == {"outerlib", "innerlib", "functools"}, uses


PANEL_CELL = textwrap.dedent("""
    import pandas as pd
    from pyfunc_jupyter import PythonModel

    class Linear(PythonModel):
        def predict(self, context, model_input):
            return 10 * model_input["x"] + 20

    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
""")

PANEL_SCRIPT = textwrap.dedent("""
    import json, sys
    import pyfunc_jupyter
    pyfunc_jupyter.set_store(sys.argv[1])
    ns = {"__name__": "__main__"}
    exec(sys.argv[2], ns)
    tab = pyfunc_jupyter.panel(ns).save_tab
    tab.model.value, tab.example.value = "Linear", "df"  # the box is prefilled with the inferred requirements
    shown = tab.requirements.value.split("\\n")
    tab.save_button.click()  # saved without editing the box
    print(json.dumps({"shown": shown, "status": tab.card.data["status"],
                      "path": pyfunc_jupyter.list_models()[0].path}))
""")


def test_the_panel_shows_what_it_writes(tmp_path):
    """In a fresh process the prefill is the first inference (it used to see first-time imports the save missed)."""
    run = subprocess.run(
        [sys.executable, "-c", PANEL_SCRIPT, str(tmp_path / "store"), PANEL_CELL],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["status"] == "saved"
    written = (Path(result["path"]) / "requirements.txt").read_text().split()
    assert result["shown"] == written and [line.split("==")[0] for line in written] == PANDAS_MODEL


class UsesLazyLib(PythonModel):
    def predict(self, context, model_input):
        import outerlib

        return [outerlib.lazy(x) for x in model_input]


def test_a_librarys_first_lazy_import_does_not_change_the_requirements(libs, tmp_path):
    """outerlib imports a submodule on first use, whose body imports innerlib: once per process only.

    Recording imports alone gave innerlib on the first save and not on the next. What runs is the same
    each time: outerlib calls into innerlib on every predict.
    """
    saved = []
    for run in ("first", "again"):
        save_model(tmp_path / run, UsesLazyLib(), input_example=[1, 2])
        saved.append(_environment(tmp_path / run))
    assert saved[0] == saved[1]
    assert {"innerlib==1.0", "outerlib==1.0"} <= set(saved[0]["requirements.txt"].split())
    reasons = {r["name"]: r["reasons"] for r in saved[0]["requirements"]}
    assert reasons["innerlib"] == ["innerlib: called by outerlib during predict"]
