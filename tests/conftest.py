"""Shared fixtures: a real-MLflow interpreter for interop tests and an isolated model store."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .servers import free_port as free_port  # re-exported: tests import it from here
from .servers import tracking_server

ROOT = Path(__file__).resolve().parent.parent


def _mlflow_python() -> Path | None:
    configured = os.environ.get("PYFUNC_JUPYTER_MLFLOW_PYTHON")
    candidate = Path(configured) if configured else ROOT / ".venv-mlflow" / "bin" / "python"
    return candidate if candidate.exists() else None


@pytest.fixture(scope="session")
def mlflow_python() -> Path:
    """An interpreter with real MLflow installed and pyfunc_jupyter not importable.

    Made by ``./dev setup`` (``.venv-mlflow``). In CI its absence is a failure, never a skip.
    """
    python = _mlflow_python()
    if python is None:
        message = (
            "No MLflow interpreter: run `./dev setup` (creates .venv-mlflow) or set "
            "PYFUNC_JUPYTER_MLFLOW_PYTHON to a python with mlflow==3.17.* installed."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


def run_python(
    python: Path | str, code: str, *, cwd: Path | str | None = None, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that cannot import pyfunc_jupyter unless env says so."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    full_env.update(env or {})
    # pyspark (installed beside MLflow for spark_udf) takes a `python -c` program, whose __main__
    # has no __file__, for its own doctest run and exits 0 when MLflow imports pyspark.sql.connect.
    code = f"__file__ = '/run_python.py'\nexec(compile({code!r}, '<run_python>', 'exec'))\n"
    result = subprocess.run(
        [str(python), "-c", code],
        cwd=str(cwd) if cwd else None,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"subprocess failed ({result.returncode}):\nSTDOUT:\n{result.stdout}\nSTDERR:\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def mlflow_server(mlflow_python, tmp_path_factory):
    """A real MLflow tracking server on 127.0.0.1 (sqlite backend, served artifacts); yields its URI.

    Started from the MLflow interpreter's ``mlflow server`` once per test session (``tests/servers.py``, which
    the benchmarks share), ready when ``/health`` answers, and stopped by its process id.
    """
    mlflow_cli = Path(mlflow_python).parent / "mlflow"
    if not mlflow_cli.exists():
        pytest.fail(f"{mlflow_cli} is missing: run `./dev setup` (it installs MLflow into .venv-mlflow).")
    with contextlib.ExitStack() as stack:
        try:
            uri = stack.enter_context(tracking_server(mlflow_cli, tmp_path_factory.mktemp("mlflow-server")))
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield uri


@pytest.fixture
def remote(mlflow_server, tmp_path, monkeypatch):
    """The tracking server as the store in use, with an empty download cache for this test."""
    import pyfunc_jupyter

    monkeypatch.setenv("PYFUNC_JUPYTER_CACHE", str(tmp_path / "cache"))
    pyfunc_jupyter.set_store(mlflow_server)
    yield mlflow_server
    pyfunc_jupyter.set_store(None)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh, empty local model store for one test."""
    path = tmp_path / "store"
    monkeypatch.setenv("PYFUNC_JUPYTER_STORE", str(path))
    import pyfunc_jupyter

    pyfunc_jupyter.set_store(None)  # back to the environment's default
    yield path
    pyfunc_jupyter.set_store(None)


PYTHON = sys.executable


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown under -p no:xdist
def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadfile`` (``./dev test``) a worker takes a whole file at a time (its module fixtures, a
    notebook's cells in order), and one worker takes all of tests/browser: its files then share one chromium
    and one JupyterLab (on two cores each start costs about 15 CPU-s)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return "tests/browser" if scope.startswith("tests/browser/") else scope

    return BrowserTogether(config, log)


@pytest.fixture(scope="session")
def ipython_shell():
    """The process's one in-process IPython shell (``globalipapp`` starts it only on its first call)."""
    from IPython import get_ipython as running
    from IPython.testing.globalipapp import get_ipython

    return get_ipython() or running()


_CARD_PROBLEMS: list[str] = []


@pytest.fixture(autouse=True, scope="session")
def _check_displayed_cards():
    """Every card any test displays (magic, panel, API) is checked against ``card/card.schema.json``.

    The schema is the card's one definition (the front end's types are generated from it), so a
    card that leaves it is a bug wherever it shows up, not only in tests/test_card_fixtures.py.
    IPython swallows a formatter's exception, so problems are collected and failed per test below.
    """
    import json

    import jsonschema

    from pyfunc_jupyter.card.modelcard import MIME_TYPE, ModelCard

    schema = json.loads((ROOT / "pyfunc_jupyter" / "card" / "card.schema.json").read_text())
    data_check = jsonschema.Draft202012Validator(schema)
    volatile_check = jsonschema.Draft202012Validator({"$ref": "#/$defs/IVolatile", "$defs": schema["$defs"]})
    original = ModelCard._repr_mimebundle_

    def checked(self, include=None, exclude=None):
        bundle, metadata = original(self, include, exclude)
        for check, value in ((data_check, bundle[MIME_TYPE]), (volatile_check, metadata[MIME_TYPE]["volatile"])):
            _CARD_PROBLEMS.extend(
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(value)
            )
        return bundle, metadata

    ModelCard._repr_mimebundle_ = checked
    yield
    ModelCard._repr_mimebundle_ = original


@pytest.fixture(autouse=True)
def cards_fit_their_schema(_check_displayed_cards):
    """Fail a test that displayed a card outside the schema."""
    _CARD_PROBLEMS.clear()
    yield
    problems, _CARD_PROBLEMS[:] = list(_CARD_PROBLEMS), []
    if problems:
        pytest.fail("A displayed card does not fit pyfunc_jupyter/card/card.schema.json:\n" + "\n".join(problems[:10]))


@pytest.fixture(scope="module")
def mlflow_absent():
    """``import mlflow`` (and ``find_spec("mlflow")``) fail as if MLflow were not installed; restored afterwards.

    The test interpreter has MLflow's client (``mlflow-skinny``) for the tracking-server store tests; tests of
    "works without MLflow" use this (interop modules all do, through ``tests/interop/conftest.py``).
    """
    saved = {name: module for name, module in sys.modules.items() if name == "mlflow" or name.startswith("mlflow.")}
    for name in saved:
        del sys.modules[name]
    sys.modules["mlflow"] = None
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n == "mlflow" or n.startswith("mlflow.")]:
            del sys.modules[name]
        sys.modules.update(saved)
