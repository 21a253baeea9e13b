"""Our model directories in MLflow's own scoring server, started as the card says.

The card's ``mlflow models serve`` command runs from the MLflow interpreter (pyfunc_jupyter not
installed there) on a free port of 127.0.0.1; the card's ``curl`` line posts the model's saved
``serving_input_example.json``; the answer is the card's preview. MLflow missing is a failure in CI.
"""

from __future__ import annotations

import http.client
import json
import os
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter.authoring.pipeline import AuthorRequest, author
from pyfunc_jupyter.authoring.preview import json_table

from .models_for_tests import define
from .servers import on_a_free_port, stop_group

pytestmark = pytest.mark.interop

# Two output columns of two types, and a param whose default the served example relies on.
BANDS = """
import pandas as pd
from pyfunc_jupyter import PythonModel

class Bands(PythonModel):
    def predict(self, context, model_input, params=None):
        width = (params or {}).get("width", 10.0)
        return pd.DataFrame({"band": (model_input["x"] // width).astype("int64"),
                             "name": [f"{n}:{x:g}" for n, x in zip(model_input["name"], model_input["x"])]})
"""

EXAMPLE = pd.DataFrame({"x": [3.0, 14.5, 27.0, 99.0], "name": ["a", "b", "c", "d"]})


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, http.client.HTTPException):
        return None  # not listening yet, or another program on the port


class ServerExited(ChildProcessError):
    """The server process ended before it answered (``on_a_free_port`` then tries another port)."""


class Server:
    """``mlflow models serve`` started from an argv, stopped by its process id (and its group)."""

    def __init__(
        self, argv: list[str], port: int, cwd: Path, log: Path, bin_dir: Path, extra_env: dict | None = None
    ) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update(extra_env or {})
        # as in a shell where MLflow's environment is active: `mlflow` (and the uvicorn it runs) on PATH
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        self.port, self.log = port, log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerExited(f"the server exited ({self.process.returncode}):\n{self.log.read_text()}")
            if _get(f"http://127.0.0.1:{self.port}/ping") == 200:
                return
            time.sleep(0.25)
        raise AssertionError(f"the server did not answer /ping within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        stop_group(self.process)  # its group is its own (start_new_session)
        self._out.close()


def start_serving(words: list[str], cwd: Path, log: Path, bin_dir: Path, extra_env: dict | None = None) -> Server:
    """``Server`` of ``words`` (a serve command) on a free port, ready to score (``on_a_free_port``)."""

    def start(port: int) -> Server:
        server = Server(_with_port(words, port), port, cwd, log, bin_dir, extra_env)
        try:
            server.wait_ready()
        except BaseException:
            server.stop()
            raise
        return server

    return on_a_free_port(start)


def _with_port(words: list[str], port: int) -> list[str]:
    """The card's words with MLflow's default port 5000 replaced by ``port`` (5000 may be taken here)."""
    return [w.replace("127.0.0.1:5000", f"127.0.0.1:{port}") if w != "5000" else str(port) for w in words]


@pytest.fixture(scope="module")
def served(tmp_path_factory, mlflow_python):
    """The Bands model authored into a store, served by the command its card shows."""
    root = tmp_path_factory.mktemp("serving")
    previous = os.environ.get("PYFUNC_JUPYTER_STORE")
    os.environ["PYFUNC_JUPYTER_STORE"] = str(root / "store")
    pyfunc_jupyter.set_store(None)
    try:
        model = define(BANDS, "Bands")()
        authored = author(AuthorRequest(model=model, input_example=EXAMPLE, params={"width": 10.0}, name="bands"))
    finally:
        if previous is None:
            os.environ.pop("PYFUNC_JUPYTER_STORE", None)
        else:
            os.environ["PYFUNC_JUPYTER_STORE"] = previous
        pyfunc_jupyter.set_store(None)
    assert authored.saved, authored.card.to_text()
    card = authored.card
    words = shlex.split(card.serving["serve"])
    assert words[0] == "mlflow"
    server = start_serving(words, root, root / "server.log", Path(mlflow_python).parent)
    try:
        yield card, server.port, server
    finally:
        server.stop()


def test_card_shows_a_serve_command_and_curl_line_for_the_model(served):
    card, _, _ = served
    path = card.volatile["path"]
    assert card.serving == {
        "serve": f"mlflow models serve -m {path} --env-manager local --host 127.0.0.1 --port 5000",
        "curl": "curl -s -X POST http://127.0.0.1:5000/invocations -H 'Content-Type: application/json' "
        f"--data @{path}/serving_input_example.json",
    }
    assert card.data["serve"] == {
        "env_manager": "local",
        "host": "127.0.0.1",
        "port": 5000,
        "input": "serving_input_example.json",
    }
    assert path not in json.dumps(card.data)  # the card's JSON stays the same from run to run
    html, text = card.to_html(), card.to_text()
    assert "<h4>Serve with MLflow</h4>" in html and f"--data @{path}/serving_input_example.json" in html
    assert f"Serve with MLflow: {card.serving['serve']}" in text and f"  then: {card.serving['curl']}" in text


def test_the_cards_curl_line_gets_the_cards_preview(served):
    card, port, _ = served
    words = _with_port(shlex.split(card.serving["curl"]), port)
    assert words[0] == "curl"
    result = subprocess.run(words, capture_output=True, text=True, timeout=120, check=True)
    answer = json.loads(result.stdout)
    preview = card.data["preview"]
    assert [o["label"] for o in preview["outputs"]] == ["in memory", "reloaded", "fresh process"]
    served_table = json_table(answer["predictions"])
    for output in preview["outputs"]:
        assert output["status"] in ("reference", "match")
        assert served_table == {"columns": output["table"]["columns"], "rows": output["table"]["rows"]}
    assert served_table["columns"] == ["band", "name"]
    assert served_table["rows"] == [[0, "a:3"], [1, "b:14.5"], [2, "c:27"], [9, "d:99"]]


def test_the_server_applies_params_and_enforces_the_signature(served):
    _, port, _ = served
    example = json.loads(Path(served[0].volatile["path"], "serving_input_example.json").read_text())
    assert example["params"] == {"width": 10.0}  # the example saved with its params

    def post(body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, answer = post({**example, "params": {"width": 50.0}})
    assert status == 200 and [r["band"] for r in answer["predictions"]] == [0, 0, 0, 1]
    status, answer = post({"dataframe_records": [{"x": "not a number", "name": "e"}]})
    assert status == 400 and "x" in answer["message"]


def test_an_unsaved_card_and_a_model_without_example_show_what_they_can(store, tmp_path):
    from pyfunc_jupyter.card.data import serve_lines

    model = define(BANDS, "Bands")()
    info = pyfunc_jupyter.save_model(tmp_path / "plain dir", model)  # no input example: no serving example
    card = pyfunc_jupyter.model_card(info.path)
    assert card.serving == {
        "serve": f"mlflow models serve -m '{info.path}' --env-manager local --host 127.0.0.1 --port 5000"
    }
    assert "save the model with an input example to get a curl line" in card.to_html()
    assert serve_lines(None, str(info.path)) is None and serve_lines(card.data["serve"], None) is None
    quoted = serve_lines(card.data["serve"] | {"input": "serving_input_example.json"}, "/m/it's")
    assert shlex.split(quoted["curl"])[-1] == "@/m/it's/serving_input_example.json"


def test_a_version_registered_in_a_tracking_server_is_served_from_the_registry(remote, mlflow_python, tmp_path):
    """The card of a tracking server's version serves ``models:/NAME/N`` from that server (not this
    machine's download cache); the command runs as shown and answers the card's preview."""
    model = define(BANDS, "Bands")()
    name = f"bands-{os.getpid()}"
    authored = author(AuthorRequest(model=model, input_example=EXAMPLE, params={"width": 10.0}, name=name))
    assert authored.saved, authored.card.to_text()
    card, cache = authored.card, authored.card.volatile["path"]
    assert card.volatile["tracking_uri"] == remote
    assert card.serving["serve"] == (
        f"MLFLOW_TRACKING_URI={remote} mlflow models serve -m models:/{name}/1 --env-manager local "
        "--host 127.0.0.1 --port 5000"
    )
    assert card.serving["curl"].endswith(f"--data @{cache}/serving_input_example.json")  # the downloaded example
    assert pyfunc_jupyter.model_card(f"models:/{name}/1").serving == card.serving  # the card read back later
    assert f"MLFLOW_TRACKING_URI={remote} mlflow models serve" in card.to_html()

    setting, *words = shlex.split(card.serving["serve"])  # `VAR=value command ...`, as a shell runs it
    variable, _, value = setting.partition("=")
    server = start_serving(words, tmp_path, tmp_path / "server.log", Path(mlflow_python).parent, {variable: value})
    try:
        result = subprocess.run(
            _with_port(shlex.split(card.serving["curl"]), server.port),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        server.stop()
    reference = card.data["preview"]["outputs"][0]["table"]
    assert json_table(json.loads(result.stdout)["predictions"]) == {
        "columns": reference["columns"],
        "rows": reference["rows"],
    }


def test_serve_lines_give_the_shared_cases():
    """card/data.py's serve_lines gives the cases that card.ts's serveLines is held to (node test)."""
    from pyfunc_jupyter.card.data import serve_lines

    shared = json.loads((Path(__file__).parent / "fixtures" / "cards" / "serve_lines.json").read_text())
    for case in shared["cases"]:
        got = serve_lines(case["serve"], case["location"], case["uri"], case["tracking_uri"])
        assert got == case["expected"], case["case"]
