"""End to end through a real kernel: ``%%pyfunc_model``, ``%pyfunc_load`` and ``%pyfunc_models`` run by nbclient.

Each notebook is built in memory with nbformat and executed by ``nbclient.NotebookClient`` in a temporary
directory, against a kernel that runs *this* interpreter (a temporary kernelspec, found by a kernelspec
manager that sees nothing else) and a temporary model store (``PYFUNC_JUPYTER_STORE``, inherited by the
kernel). To keep the runtime low, the guide's examples share one notebook and the error paths another;
each notebook runs once per module and the tests read its outputs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import default

from pyfunc_jupyter.card import MIME_TYPE

from .models_for_tests import PARAMETERIZED

KERNEL_NAME = "pyfunc-jupyter-test-this-python"
TIMEOUT = 120
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --- running notebooks -------------------------------------------------------------------------------------


def _kernel_manager_class(kernel_dir: Path) -> type:
    """An AsyncKernelManager whose kernelspec manager finds only the kernelspecs in ``kernel_dir``."""

    class ThisInterpreterKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self) -> KernelSpecManager:
            return KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)

    return ThisInterpreterKernelManager


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernelspec directory with one kernel: this test process's interpreter."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "pyfunc-jupyter tests (this interpreter)",
                "language": "python",
                "env": {"PYFUNC_JUPYTER_TEST_KERNELSPEC": KERNEL_NAME},  # shows that this spec started the kernel
            }
        ),
        encoding="utf-8",
    )
    return root


class Executed:
    """An executed notebook, its working directory, its model store and each cell's execute_reply content."""

    def __init__(self, nb: Any, workdir: Path, store: Path, replies: dict[str, dict]) -> None:
        self.nb = nb
        self.workdir = workdir
        self.store = store
        self.replies = replies

    def cell(self, tag: str) -> Any:
        """The code cell whose metadata carries ``tag``."""
        matches = [c for c in self.nb.cells if c.metadata.get("test_tag") == tag]
        assert len(matches) == 1, f"no single cell tagged {tag!r}"
        return matches[0]


@pytest.fixture(scope="module")
def run_notebook(kernel_dir, tmp_path_factory):
    """``run(cells, allow_errors=False) -> Executed``: a fresh kernel, working directory and store per call.

    ``cells`` is a list of ``(tag, source)``; the tag goes into the cell's metadata to find it later.
    ``interrupt_when`` names a file in the working directory: once a cell has written it, the kernel is
    interrupted as JupyterLab's Stop button does it (SIGINT to the kernel's process group).
    """
    manager_class = _kernel_manager_class(kernel_dir)

    def run(cells: list[tuple[str, str]], *, allow_errors: bool = False, interrupt_when: str | None = None) -> Executed:
        workdir = tmp_path_factory.mktemp("notebook")
        store = tmp_path_factory.mktemp("store") / "models"
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(source, metadata={"test_tag": tag}) for tag, source in cells]
        replies: dict[str, dict] = {}

        def record(cell: Any, cell_index: int, execute_reply: dict) -> None:
            replies[cell.metadata["test_tag"]] = execute_reply["content"]

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PYFUNC_JUPYTER_STORE", str(store))  # the kernel inherits the environment
            client = NotebookClient(
                nb,
                timeout=TIMEOUT,
                startup_timeout=TIMEOUT,
                kernel_name=KERNEL_NAME,
                kernel_manager_class=manager_class,
                allow_errors=allow_errors,
                on_cell_executed=record,
                resources={"metadata": {"path": str(workdir)}},
            )
            if interrupt_when:
                threading.Thread(
                    target=_interrupt_once_written, args=(client, workdir / interrupt_when), daemon=True
                ).start()
            client.execute()
        nbformat.validate(nb)
        assert set(replies) == {tag for tag, _ in cells}, "a cell was not executed"
        return Executed(nb, workdir, store, replies)

    return run


def _interrupt_once_written(client: NotebookClient, path: Path) -> None:
    """Interrupt the client's kernel (SIGINT to its process group, as Stop does) once ``path`` has content."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        provisioner = getattr(client.km, "provisioner", None)
        if path.exists() and path.stat().st_size and getattr(provisioner, "pgid", None):
            os.killpg(provisioner.pgid, signal.SIGINT)
            return
        time.sleep(0.05)


# --- reading outputs ---------------------------------------------------------------------------------------


def _cards(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if o.output_type == "display_data" and MIME_TYPE in o.get("data", {})]


def _card(cell: Any) -> tuple[dict, dict, Any]:
    """``(card JSON, volatile, output)`` of the cell's one card."""
    cards = _cards(cell)
    assert len(cards) == 1, f"expected one card, got {len(cards)}: {cell.outputs}"
    output = cards[0]
    return output.data[MIME_TYPE], output.metadata[MIME_TYPE]["volatile"], output


def _stdout(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _errors(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if o.output_type == "error"]


def _preview(card: dict, label: str) -> dict:
    matches = [o for o in card["preview"]["outputs"] if o["label"] == label]
    assert len(matches) == 1, f"no single {label!r} output in {card['preview']}"
    return matches[0]


def _numbers(table: dict) -> list[float]:
    return [float(value) for row in table["rows"] for value in row]


def _traceback(error: Any) -> str:
    return ANSI.sub("", "\n".join(error.traceback))


# --- the guide's examples, one notebook --------------------------------------------------------------------

SETUP = """\
import os
import sys

import pandas as pd

from pyfunc_jupyter.pyfunc import PythonModel

%load_ext pyfunc_jupyter
x_df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
print(sys.executable)
print(os.environ["PYFUNC_JUPYTER_STORE"])
print(os.environ.get("PYFUNC_JUPYTER_TEST_KERNELSPEC"))
print(os.getcwd())
"""

GUIDE = [
    ("setup", SETUP),
    (
        "square",
        """\
%%pyfunc_model square --example "pd.DataFrame({'x': [1.0, 2.0, 3.0]})"
def square(model_input):
    return model_input ** 2
""",
    ),
    (
        "simple_linear",
        """\
%%pyfunc_model simple_linear --example x_df --as linear_authored
class SimpleLinearModel(PythonModel):
    def predict(self, context, model_input):
        return pd.DataFrame(2 * model_input + 3)
""",
    ),
    (
        "parameterized_linear",
        f"%%pyfunc_model parameterized_linear --example x_df\n{PARAMETERIZED}\n\nParameterizedLinearModel(10, 20)\n",
    ),
    (
        "with_params",
        """\
%%pyfunc_model with_params --example x_df --params "{'multiplier': 2}"
class MultiplierModel(PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * params["multiplier"]
""",
    ),
    (
        "write_weights",
        """\
import json

with open("weights.json", "w") as f:
    json.dump({"slope": 3.0, "intercept": 1.0}, f)
""",
    ),
    (
        "with_artifact",
        """\
%%pyfunc_model with_artifact --example x_df --artifact weights=weights.json
class ArtifactModel(PythonModel):
    def load_context(self, context):
        import json

        with open(context.artifacts["weights"]) as f:
            self.weights = json.load(f)

    def predict(self, context, model_input):
        return self.weights["slope"] * model_input + self.weights["intercept"]
""",
    ),
    (
        "with_method",
        """\
%%pyfunc_model with_method --example x_df
class ModelWithHelperMethod(PythonModel):
    def scale(self, values):
        return values * 10

    def predict(self, context, model_input):
        return self.scale(model_input) + 1
""",
    ),
    (
        "write_helpers",
        """\
%%writefile helpers_mod.py
def double_plus_one(values):
    return 2 * values + 1
""",
    ),
    (
        "with_code",
        """\
%%pyfunc_model with_code --example x_df --pip pandas --pip numpy --code helpers_mod.py
class CodeModel(PythonModel):
    def predict(self, context, model_input):
        import helpers_mod

        return helpers_mod.double_plus_one(model_input)
""",
    ),
    ("authored", "print(type(linear_authored).__name__, linear_authored.saved, linear_authored.info.model_uri)"),
    ("load", "%pyfunc_load models:/simple_linear/1 --as loaded_linear"),
    (
        "predict_loaded",
        """\
print(loaded_linear.predict(pd.DataFrame({"x": [10.0, 20.0]})).to_numpy().ravel().tolist())
""",
    ),
    ("list", "%pyfunc_models"),
]

# tag -> (store name, expected "in memory" numbers on x = [1.0, 2.0, 3.0])
EXPECTED = {
    "square": ("square", [1.0, 4.0, 9.0]),
    "simple_linear": ("simple_linear", [5.0, 7.0, 9.0]),
    "parameterized_linear": ("parameterized_linear", [30.0, 40.0, 50.0]),
    "with_params": ("with_params", [2.0, 4.0, 6.0]),
    "with_artifact": ("with_artifact", [4.0, 7.0, 10.0]),
    "with_method": ("with_method", [11.0, 21.0, 31.0]),
    "with_code": ("with_code", [3.0, 5.0, 7.0]),
}


@pytest.fixture(scope="module")
def guide(run_notebook) -> Executed:
    return run_notebook(GUIDE)


def test_kernel_runs_this_interpreter_and_store(guide, kernel_dir):
    assert KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False).find_kernel_specs() == {
        KERNEL_NAME: str(kernel_dir / KERNEL_NAME)
    }
    executable, store, spec, cwd = _stdout(guide.cell("setup")).splitlines()
    assert executable == sys.executable
    assert spec == KERNEL_NAME
    assert store == str(guide.store)
    assert Path(cwd).resolve() == guide.workdir.resolve()


@pytest.mark.parametrize("tag", list(EXPECTED))
def test_guide_model_saved(guide, tag):
    name, numbers = EXPECTED[tag]
    cell = guide.cell(tag)
    assert not _errors(cell), _errors(cell)
    card, volatile, output = _card(cell)

    assert card["status"] == "saved", card["checks"]
    assert card["name"] == name
    assert card["version"] == 1
    assert card["uri"] == f"models:/{name}/1"
    assert not [c for c in card["checks"] if c["severity"] == "error"]
    labels = [o["label"] for o in card["preview"]["outputs"]]
    assert labels == ["in memory", "reloaded", "fresh process"]
    for shown in card["preview"]["outputs"]:
        assert shown["status"] in ("reference", "match"), shown
    assert _numbers(_preview(card, "in memory")["table"]) == numbers
    assert _numbers(_preview(card, "fresh process")["table"]) == numbers
    assert _numbers(card["preview"]["input"]) == [1.0, 2.0, 3.0]
    assert card["signature"]["inputs"] == [{"name": "x", "type": "double", "required": True}]

    path = Path(volatile["path"])
    assert path.is_dir() and (path / "MLmodel").is_file()
    assert path.resolve() == (guide.store / name / "1").resolve()
    assert "text/html" in output.data and "text/plain" in output.data
    assert name in output.data["text/plain"]
    assert name in output.data["text/html"]


def test_params_become_the_params_schema(guide):
    card, _, _ = _card(guide.cell("with_params"))
    assert card["signature"]["params"] == [{"name": "multiplier", "type": "long", "default": 2}]


def test_artifact_travels_with_the_model(guide):
    card, volatile, _ = _card(guide.cell("with_artifact"))
    assert [a["key"] for a in card["artifacts"]] == ["weights"]
    shipped = [f["path"] for f in card["files"] if f["path"].endswith("weights.json")]
    assert len(shipped) == 1
    assert json.loads((Path(volatile["path"]) / shipped[0]).read_text()) == {"slope": 3.0, "intercept": 1.0}


def test_code_and_pip_requirements(guide):
    card, volatile, _ = _card(guide.cell("with_code"))
    requirements = {r["name"]: r["source"] for r in card["requirements"]}
    assert requirements.get("pandas") == "given (pip_requirements)"
    assert requirements.get("numpy") == "given (pip_requirements)"
    assert any(f["path"].endswith("helpers_mod.py") and f["path"].startswith("code/") for f in card["files"])
    assert (Path(volatile["path"]) / "code" / "helpers_mod.py").is_file()
    assert _stdout(guide.cell("write_helpers")).strip() == "Writing helpers_mod.py"


def test_as_binds_the_authored_result(guide):
    assert _stdout(guide.cell("authored")).split() == ["Authored", "True", "models:/simple_linear/1"]


def test_pyfunc_load_then_predict(guide):
    cell = guide.cell("load")
    card, volatile, output = _card(cell)
    assert card["status"] == "saved"
    assert card["name"] == "simple_linear" and card["version"] == 1 and card["uri"] == "models:/simple_linear/1"
    assert Path(volatile["path"]).resolve() == (guide.store / "simple_linear" / "1").resolve()
    assert _numbers(_preview(card, "loaded")["table"]) == [5.0, 7.0, 9.0]
    assert "text/html" in output.data and "text/plain" in output.data
    assert _stdout(guide.cell("predict_loaded")).strip() == "[23.0, 43.0]"


def test_pyfunc_models_lists_the_store(guide):
    results = [o for o in guide.cell("list").outputs if o.output_type == "execute_result"]
    assert len(results) == 1
    text = results[0].data["text/plain"]
    assert str(guide.store) in text
    for name, _ in EXPECTED.values():
        assert re.search(rf"^\s+{name}\s+versions 1\s", text, re.MULTILINE), text
    assert "text/html" in results[0].data


# --- error paths, one notebook -----------------------------------------------------------------------------

COUNT = "from pyfunc_jupyter import list_models\nprint(len(list_models()))"

ERRORS = [
    (
        "setup",
        """\
import pandas as pd

from pyfunc_jupyter.pyfunc import PythonModel

%load_ext pyfunc_jupyter
x_df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
""",
    ),
    (
        "baseline",
        """\
%%pyfunc_model baseline --example x_df
def identity(model_input):
    return model_input
""",
    ),
    ("count_baseline", COUNT),
    (
        "no_example",
        """\
%%pyfunc_model no_example
def plus_one(model_input):
    return model_input + 1
""",
    ),
    ("count_no_example", COUNT),
    (
        "zero_division",
        """\
%%pyfunc_model zero_division --example x_df
class DivideModel(PythonModel):
    denominator = 0

    def predict(self, context, model_input):
        return model_input * (1 / self.denominator)
""",
    ),
    ("count_zero_division", COUNT),
    (
        "write_local",
        """\
%%writefile localmod.py
def triple(values):
    return 3 * values
""",
    ),
    (
        "local_module",
        """\
%%pyfunc_model uses_local --example x_df
import localmod


class LocalModuleModel(PythonModel):
    def predict(self, context, model_input):
        return localmod.triple(model_input)
""",
    ),
    ("count_local_module", COUNT),
    (
        "missing_column",
        """\
%%pyfunc_model missing_column --example x_df
class PickyModel(PythonModel):
    def predict(self, context, model_input):
        return self.pick(model_input)

    def pick(self, frame):
        return frame["nope"]
""",
    ),
]


@pytest.fixture(scope="module")
def errors(run_notebook) -> Executed:
    return run_notebook(ERRORS, allow_errors=True)


def _stored(executed: Executed) -> list[str]:
    return sorted(p.name for p in executed.store.iterdir() if p.is_dir()) if executed.store.is_dir() else []


def _failed(executed: Executed, tag: str) -> tuple[str, str, str]:
    """``(ename, evalue, what the cell shows)`` of a failed cell.

    The kernel's execute_reply carries the exception's name. IPython shows a UsageError as a one-line
    ``UsageError: ...`` on stderr instead of an ``error`` output, so the shown text is both combined.
    """
    reply = executed.replies[tag]
    assert reply["status"] == "error", reply
    cell = executed.cell(tag)
    shown = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
    shown += "".join(f"{o.ename}: {o.evalue}\n{_traceback(o)}" for o in _errors(cell))
    return reply["ename"], reply["evalue"], shown


def test_error_notebook_other_cells_ran(errors):
    failing = {"no_example", "zero_division", "local_module", "missing_column"}
    assert {tag for tag, reply in errors.replies.items() if reply["status"] != "ok"} == failing


def test_error_notebook_baseline_saved(errors):
    card, _, _ = _card(errors.cell("baseline"))
    assert card["status"] == "saved"
    assert _stdout(errors.cell("count_baseline")).strip() == "1"


def test_missing_example_is_a_usage_error(errors):
    ename, evalue, shown = _failed(errors, "no_example")
    assert ename == "UsageError"
    assert "--example" in evalue
    assert "UsageError" in shown and "--example" in shown
    assert not _cards(errors.cell("no_example"))
    assert _stdout(errors.cell("count_no_example")).strip() == "1"


def test_predict_error_shows_only_user_frames(errors):
    ename, _evalue, _ = _failed(errors, "zero_division")
    assert ename == "ZeroDivisionError"
    cell = errors.cell("zero_division")
    (error,) = _errors(cell)
    assert error.ename == "ZeroDivisionError"
    traceback = _traceback(error)
    assert "pyfunc_jupyter/_" not in traceback, traceback
    assert "1 / self.denominator" in traceback, traceback
    assert "predict failed on the input example" in traceback, traceback  # the note added by the magic
    assert set(re.findall(r"Cell In\[(\d+)\]", traceback)) == {str(cell.execution_count)}, traceback
    assert "run_cell_magic" not in traceback, traceback
    assert not _cards(cell)
    assert _stdout(errors.cell("count_zero_division")).strip() == "1"


def test_local_module_not_shipped_is_not_saved(errors):
    cell = errors.cell("local_module")
    card, volatile, output = _card(cell)
    assert card["status"] == "not saved"
    assert card["version"] is None and card["uri"] is None
    assert "path" not in volatile
    local = [c for c in card["checks"] if c["check"] == "local-module"]
    assert len(local) == 1 and local[0]["severity"] == "error", card["checks"]
    assert "localmod" in local[0]["message"]
    assert "--code localmod.py" in local[0]["fix"]
    assert "text/html" in output.data and "text/plain" in output.data
    ename, evalue, shown = _failed(errors, "local_module")
    assert ename == "UsageError"
    assert "nothing was saved" in evalue and "UsageError" in shown
    assert _stdout(errors.cell("count_local_module")).strip() == "1"


def test_error_notebook_store_holds_only_the_baseline(errors):
    assert _stored(errors) == ["baseline"]
    assert [p.name for p in (errors.store / "baseline").iterdir() if p.is_dir()] == ["1"]


def test_predict_error_hides_library_frames(errors):
    ename, _, _ = _failed(errors, "missing_column")
    cell = errors.cell("missing_column")
    (error,) = _errors(cell)
    traceback = _traceback(error)
    assert ename == "KeyError" and 'return frame["nope"]' in traceback, traceback
    assert "site-packages" not in traceback and "pandas" not in traceback, traceback  # nor the chained KeyError
    assert set(re.findall(r"Cell In\[(\d+)\]", traceback)) == {str(cell.execution_count)}, traceback


# --- interrupting the fresh-process check ------------------------------------------------------------------

INTERRUPT = [
    (
        "setup",
        """\
import os
%load_ext pyfunc_jupyter
PIDFILE = os.path.abspath("fresh.pid")
""",
    ),
    (
        "slow",
        """\
%%pyfunc_model slow --example "[1.0]"
def slow(model_input):
    import os, signal, sys, time
    if sys.flags.safe_path:  # only in the fresh process (python -P)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a child that would outlive a plain SIGINT
        with open(PIDFILE, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(300)
    return model_input
""",
    ),
    (
        "check",
        """\
import time
pid = int(open(PIDFILE).read())
for _ in range(50):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        print("child gone")
        break
    time.sleep(0.1)
else:
    print("child still running")
from pyfunc_jupyter import list_models
print(len(list_models()))
""",
    ),
]


def test_interrupting_the_fresh_process_check_stops_the_child(run_notebook):
    """The kernel's interrupt (JupyterLab's Stop) while the fresh process runs ends that process too."""
    executed = run_notebook(INTERRUPT, allow_errors=True, interrupt_when="fresh.pid")  # the child has started
    assert executed.replies["slow"]["status"] == "error" and executed.replies["slow"]["ename"] == "KeyboardInterrupt"
    assert _stdout(executed.cell("check")).split() == ["child", "gone", "0"]
    assert not executed.store.exists() or not any(executed.store.rglob("*"))
