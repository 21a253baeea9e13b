"""The store as a real MLflow tracking server: log, load, list, aliases, descriptions, tags, and the failures.

The server is started once per session by the ``mlflow_server`` fixture (tests/conftest.py) from the MLflow
interpreter; our side talks to it with MLflow's client (``mlflow-skinny``, the ``server`` extra) in this
process. Model names are unique per test, since the server is shared.
"""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from pathlib import Path

import pandas as pd
import pytest

import pyfunc_jupyter
from pyfunc_jupyter.card import MIME_TYPE
from pyfunc_jupyter.errors import ModelLoadError, ModelSaveError, PyfuncError, RegistryError, RemoteStoreError

from .conftest import free_port, run_python
from .models_for_tests import LINEAR, define

pytestmark = pytest.mark.interop


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def linear():
    return define(LINEAR, "SimpleLinearModel")()


@pytest.fixture
def client(mlflow_server):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)


EXAMPLE = pd.DataFrame([10, 20, 30])


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- log, load, list ----------------------------------------------------------------------------------------


def test_log_registers_a_version_of_our_directory_as_is(remote, linear, client, tmp_path):
    name = unique("linear")
    first = pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE)
    second = pyfunc_jupyter.log_model(name=name, python_model=linear, input_example=EXAMPLE, new_version=True)
    assert (first.version, second.version) == (1, 2)
    assert second.model_uri == f"models:/{name}/2" and second.registered_model_version == 2
    # on the server: a finished run, a READY logged model, a READY version whose source is that logged model
    version = client.get_model_version(name, "2")
    assert version.status == "READY" and version.run_id == second.run_id
    model_id = version.source.removeprefix("models:/")
    logged = client.get_logged_model(model_id)
    assert str(logged.status).endswith("READY") and logged.source_run_id == second.run_id
    assert client.get_run(second.run_id).info.status == "FINISHED"
    # the uploaded directory is the one we built, byte for byte (its MLmodel names the run and the model id)
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    downloaded = tmp_path / "downloaded"
    downloaded.mkdir()
    get_artifact_repository(logged.artifact_location, tracking_uri=remote).download_artifacts("", str(downloaded))
    assert files(downloaded) == files(Path(second.path))
    mlmodel = (downloaded / "MLmodel").read_text()
    assert f"model_id: {model_id}" in mlmodel and f"run_id: {second.run_id}" in mlmodel
    # loading by URI downloads once into the cache and predicts
    assert pyfunc_jupyter.load_model(f"models:/{name}/1").predict(pd.DataFrame([1]))[0].tolist() == [5]
    latest = pyfunc_jupyter.load_model(f"models:/{name}/latest")
    assert files(Path(latest.path)) == files(Path(second.path))
    assert pyfunc_jupyter.load_model(f"runs:/{first.run_id}/{name}").predict(pd.DataFrame([2]))[0].tolist() == [7]
    # a given dst_path is where the download goes, as in MLflow
    elsewhere = pyfunc_jupyter.load_model(f"models:/{name}/1", dst_path=str(tmp_path / "dst"))
    assert Path(elsewhere.path).parent == tmp_path / "dst"


def test_an_unchanged_model_reuses_the_latest_version(remote, linear, client):
    """As in the folder store: the same content again is the latest version, with no new run or upload."""
    name = unique("same")
    first = pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE)
    runs_before = client.search_runs([client.get_run(first.run_id).info.experiment_id], max_results=1000)
    again = pyfunc_jupyter.log_model(name, define(LINEAR, "SimpleLinearModel")(), input_example=EXAMPLE)
    assert again.unchanged and (again.version, again.model_uri) == (1, f"models:/{name}/1")
    assert (again.run_id, again.model_uuid, again.tracking_uri) == (first.run_id, first.model_uuid, remote)
    assert files(Path(again.path)) == files(Path(first.path))
    runs_after = client.search_runs([client.get_run(first.run_id).info.experiment_id], max_results=1000)
    assert len(runs_after) == len(runs_before)  # nothing was sent
    assert [v.version for v in client.search_model_versions(f"name='{name}'")] == ["1"]
    # another example is other content: a new version; new_version=True forces one
    changed = pyfunc_jupyter.log_model(name, linear, input_example=pd.DataFrame([1, 2]))
    forced = pyfunc_jupyter.log_model(name, linear, input_example=pd.DataFrame([1, 2]), new_version=True)
    assert (changed.unchanged, changed.version, forced.unchanged, forced.version) == (False, 2, False, 3)
    # the magic's card says so
    from pyfunc_jupyter.authoring.pipeline import AuthorRequest, author

    authored = author(AuthorRequest(model=linear, input_example=pd.DataFrame([1, 2]), name=name))
    assert authored.card.data["status"] == "unchanged: same as v3" and authored.info.version == 3


def test_listing_reads_the_registry(remote, linear):
    name = unique("listed")
    info = pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE)
    entries = [e for e in pyfunc_jupyter.list_models() if e.name == name]
    assert [(e.name, e.version, e.uri) for e in entries] == [(name, 1, f"models:/{name}/1")]
    (entry,) = entries
    assert entry.signature_summary and "long" in entry.signature_summary
    assert entry.size_bytes == info.model_size_bytes and entry.created and entry.error is None
    assert entry.run_id == info.run_id and entry.source and entry.tags == {} and entry.aliases == []
    assert pyfunc_jupyter.get_store() == remote and pyfunc_jupyter.list_models(remote) == pyfunc_jupyter.list_models()


def test_registered_model_name_and_runs(remote, linear, client):
    name = unique("registered")
    with pyfunc_jupyter.start_run(run_name="training") as run:
        info = pyfunc_jupyter.log_model(
            artifact_path="model", python_model=linear, registered_model_name=name, input_example=EXAMPLE
        )
    assert info.name == name and info.artifact_path == "model" and run.logged == [info]
    assert info.run_id == run.info.run_id  # the server's run, ended with the block
    server_run = client.get_run(run.info.run_id)
    assert server_run.info.status == "FINISHED" and server_run.info.run_name == "training"
    assert pyfunc_jupyter.load_model(f"runs:/{info.run_id}/model").predict(pd.DataFrame([0]))[0].tolist() == [3]
    with pytest.raises(ModelLoadError, match="no version '7'"):
        pyfunc_jupyter.load_model(f"models:/{name}/7")
    with pytest.raises(ModelLoadError, match="No model named"):
        pyfunc_jupyter.load_model(f"models:/{unique('nothing')}/1")
    with pytest.raises(ModelSaveError):
        pyfunc_jupyter.log_model("bad name!", linear, input_example=EXAMPLE)


# --- aliases, descriptions, tags, deleting --------------------------------------------------------------------


def test_aliases_descriptions_tags_and_deleting(remote, linear, client):
    name = unique("aliased")
    for _ in range(2):
        pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE, new_version=True)
    pyfunc_jupyter.set_registered_model_alias(name, "champion", 1)
    assert Path(pyfunc_jupyter.load_model(f"models:/{name}@champion").path).name == client.get_model_version(
        name, "1"
    ).source.removeprefix("models:/")
    pyfunc_jupyter.set_registered_model_alias(name, "champion", "2")  # moved
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    by_version = {e.version: e for e in pyfunc_jupyter.list_models() if e.name == name}
    assert by_version[2].aliases == ["champion"] and by_version[1].aliases == []
    assert pyfunc_jupyter.get_model_version_by_alias(name, "champion").version == 2

    entry = pyfunc_jupyter.update_model_version(name, 1, description="the first fit")
    assert entry.description == "the first fit" == client.get_model_version(name, "1").description
    pyfunc_jupyter.set_model_version_tag(name, 1, "stage", "candidate")
    assert pyfunc_jupyter.get_model_version(name, 1).tags == {"stage": "candidate"}
    pyfunc_jupyter.delete_model_version_tag(name, 1, "stage")
    assert pyfunc_jupyter.get_model_version(name, 1).tags == {}
    assert pyfunc_jupyter.update_registered_model(name, description="a line")["description"] == "a line"
    pyfunc_jupyter.set_registered_model_tag(name, "team", "pricing")
    assert client.get_registered_model(name).tags == {"team": "pricing"}

    pyfunc_jupyter.delete_registered_model_alias(name, "champion")
    with pytest.raises(ModelLoadError, match=r"no alias 'champion'.*set_registered_model_alias"):
        pyfunc_jupyter.load_model(f"models:/{name}@champion")
    pyfunc_jupyter.delete_model_version(name, 1)
    assert [e.version for e in pyfunc_jupyter.list_models() if e.name == name] == [2]
    with pytest.raises(ModelLoadError, match="no version '1'"):
        pyfunc_jupyter.load_model(f"models:/{name}/1")
    with pytest.raises(RegistryError, match=remote):  # no such version on the server
        pyfunc_jupyter.set_registered_model_alias(name, "champion", 9)
    with pytest.raises(RegistryError, match="reserved"):
        pyfunc_jupyter.set_registered_model_alias(name, "v2", 2)


def test_plain_mlflow_loads_what_we_registered(remote, linear, mlflow_python):
    name = unique("for-mlflow")
    pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE)
    pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE, new_version=True)
    pyfunc_jupyter.set_registered_model_alias(name, "champion", 2)
    result = run_python(
        mlflow_python,
        f"""
import json, mlflow, pandas as pd
mlflow.set_tracking_uri({remote!r})
by_version = mlflow.pyfunc.load_model("models:/{name}/1")
by_alias = mlflow.pyfunc.load_model("models:/{name}@champion")
print(json.dumps([by_version.predict(pd.DataFrame([1]))[0].tolist(), by_alias.predict(pd.DataFrame([2]))[0].tolist(),
                  [v.version for v in mlflow.MlflowClient().search_model_versions("name='{name}'")]]))
""",
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[5], [7], ["2", "1"]]


# --- which store is used when -------------------------------------------------------------------------------


def test_mlflow_tracking_uri_is_used_only_when_no_store_is_set(mlflow_server, linear, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYFUNC_JUPYTER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PYFUNC_JUPYTER_STORE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pyfunc_jupyter.set_store(None)
    assert pyfunc_jupyter.get_store() == tmp_path / "models"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")  # not a server: the folder store stays
    assert pyfunc_jupyter.get_store() == tmp_path / "models"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server + "/")
    assert pyfunc_jupyter.get_store() == mlflow_server
    name = unique("by-env")
    assert pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE).model_uri == f"models:/{name}/1"
    assert not (tmp_path / "models").exists()
    monkeypatch.setenv("PYFUNC_JUPYTER_STORE", str(tmp_path / "folder"))  # an explicit store wins
    assert pyfunc_jupyter.get_store() == tmp_path / "folder"
    pyfunc_jupyter.set_store(mlflow_server)
    try:
        assert pyfunc_jupyter.get_store() == mlflow_server
        pyfunc_jupyter.set_store(tmp_path / "mine")
        assert pyfunc_jupyter.get_store() == tmp_path / "mine"
        # an explicit store= on one call, the other way round
        info = pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE, store=mlflow_server, new_version=True)
        assert info.version == 2 and not (tmp_path / "mine").exists()
    finally:
        pyfunc_jupyter.set_store(None)


def test_other_uri_schemes_are_refused_and_file_uris_are_folders(tmp_path, ipython_shell):
    with pytest.raises(PyfuncError, match=r"'s3://bucket/models' is not a store.*http:// or https://"):
        pyfunc_jupyter.set_store("s3://bucket/models")
    try:
        pyfunc_jupyter.set_store(f"file://{tmp_path}/models")
        assert pyfunc_jupyter.get_store() == tmp_path / "models"
    finally:
        pyfunc_jupyter.set_store(None)
    ipython_shell.run_line_magic("load_ext", "pyfunc_jupyter")
    for line, message in (
        ("m --store s3://bucket", "--store: 's3://bucket' is not a store"),
        ("m --store http://127.0.0.1:1 --path out", "not both"),
    ):
        result = ipython_shell.run_cell(f"%%pyfunc_model {line}\nraise SystemExit('the cell must not run')\n")
        assert not result.success and message in str(result.error_in_exec)


# --- failures: nothing half-registered ----------------------------------------------------------------------


def test_a_server_that_is_down(linear, monkeypatch, tmp_path):
    monkeypatch.setenv("PYFUNC_JUPYTER_CACHE", str(tmp_path / "cache"))
    uri = f"http://127.0.0.1:{free_port()}"
    pyfunc_jupyter.set_store(uri)
    try:
        for action in (
            lambda: pyfunc_jupyter.log_model("m", linear, input_example=EXAMPLE),
            lambda: pyfunc_jupyter.list_models(),
            lambda: pyfunc_jupyter.load_model("models:/m/1"),
            lambda: pyfunc_jupyter.set_registered_model_alias("m", "champion", 1),
        ):
            with pytest.raises(RemoteStoreError, match=f"{uri} cannot be reached.*Start it"):
                action()
    finally:
        pyfunc_jupyter.set_store(None)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("MLmodel"))


class _Refusing(http.server.BaseHTTPRequestHandler):
    health = 200

    def do_GET(self):
        self._answer(self.health if self.path == "/health" else 403)

    def do_POST(self):
        self._answer(403)

    def _answer(self, status: int) -> None:
        body = b"OK" if status == 200 else b'{"error_code": "PERMISSION_DENIED", "message": "not for you"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("health", [200, 403, 503])
def test_a_server_that_refuses(linear, monkeypatch, tmp_path, health):
    monkeypatch.setenv("PYFUNC_JUPYTER_CACHE", str(tmp_path / "cache"))
    handler = type("Handler", (_Refusing,), {"health": health})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    pyfunc_jupyter.set_store(uri)
    try:
        with pytest.raises(RemoteStoreError, match=f"{uri} refused.*(HTTP 503|PERMISSION_DENIED)"):
            pyfunc_jupyter.log_model("m", linear, input_example=EXAMPLE)
        with pytest.raises(RemoteStoreError, match=uri):
            pyfunc_jupyter.list_models()
    finally:
        pyfunc_jupyter.set_store(None)
        server.shutdown()
        server.server_close()


def test_an_upload_failing_midway_registers_nothing(remote, linear, client, monkeypatch, tmp_path):
    from mlflow.tracking import MlflowClient

    name = unique("half")
    uploaded = []
    real = MlflowClient.log_model_artifacts

    def one_file_then_fail(self, model_id, local_dir, artifact_path=None):
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        location = self.get_logged_model(model_id).artifact_location
        get_artifact_repository(location, tracking_uri=remote).log_artifact(str(Path(local_dir) / "MLmodel"))
        uploaded.append(model_id)
        raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(MlflowClient, "log_model_artifacts", one_file_then_fail)
    with pytest.raises(RemoteStoreError, match=f"{remote} failed while logging.*connection reset"):
        pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE)
    monkeypatch.setattr(MlflowClient, "log_model_artifacts", real)
    (model_id,) = uploaded
    assert client.search_model_versions(f"name='{name}'") == []
    assert [m.name for m in client.search_registered_models(f"name='{name}'")] == []
    logged = client.get_logged_model(model_id)
    assert str(logged.status).endswith("FAILED")
    assert client.get_run(logged.source_run_id).info.status == "FAILED"
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.name == "MLmodel"]  # no staging left behind
    # the next log works and is version 1
    assert pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE).version == 1


def test_a_failed_check_before_upload_registers_nothing(remote, linear, client):
    name = unique("unverified")

    def verify(built):
        raise RuntimeError("the fresh-process check failed")

    with pytest.raises(RuntimeError, match="fresh-process"):
        pyfunc_jupyter.log_model(name, linear, input_example=EXAMPLE, verify=verify)
    assert client.search_model_versions(f"name='{name}'") == []
    assert [m.name for m in client.search_registered_models(f"name='{name}'")] == []


def test_without_mlflow_s_client_a_remote_store_names_the_install(mlflow_server, tmp_path):
    """In an interpreter where MLflow cannot be imported: light import, a clear error, the folder store still works."""
    code = f"""
import importlib.abc, sys
class NoMlflow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "mlflow" or name.startswith("mlflow."):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, NoMlflow())
import pandas as pd
import pyfunc_jupyter
from pyfunc_jupyter.errors import RemoteStoreError
pyfunc_jupyter.set_store({mlflow_server!r})
assert pyfunc_jupyter.get_store() == {mlflow_server!r}
class M(pyfunc_jupyter.PythonModel):
    def predict(self, context, model_input):
        return model_input
try:
    pyfunc_jupyter.log_model("m", M(), input_example=pd.DataFrame([1]))
except RemoteStoreError as exc:
    print("ERROR", exc)
pyfunc_jupyter.set_store("store")
print("FOLDER", pyfunc_jupyter.log_model("m", M(), input_example=pd.DataFrame([1])).model_uri)
print("LOADED", [m for m in sys.modules if m.split(".")[0] == "mlflow"])
"""
    out = run_python(sys_executable(), code, cwd=tmp_path).stdout
    assert "ERROR The store " + mlflow_server in out and "pip install 'pyfunc-jupyter[server]'" in out
    assert "FOLDER models:/m/1" in out and "LOADED []" in out


def test_import_stays_light_with_a_remote_store_set(mlflow_server, tmp_path):
    out = run_python(
        sys_executable(),
        f"""
import sys, pyfunc_jupyter
pyfunc_jupyter.set_store({mlflow_server!r}); pyfunc_jupyter.get_store()
print(sorted(m for m in sys.modules if m.split(".")[0] in ("mlflow", "pandas", "requests", "IPython")))
""",
        cwd=tmp_path,
    ).stdout
    assert out.strip() == "[]"


def sys_executable() -> str:
    import sys

    return sys.executable


# --- the magic and the panel --------------------------------------------------------------------------------


def test_magic_store_option_and_load_and_list(ipython_shell, mlflow_server, monkeypatch, tmp_path, client):
    shell = ipython_shell
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYFUNC_JUPYTER_STORE", str(tmp_path / "folder"))
    monkeypatch.setenv("PYFUNC_JUPYTER_CACHE", str(tmp_path / "cache"))
    pyfunc_jupyter.set_store(None)
    shell.run_line_magic("load_ext", "pyfunc_jupyter")
    before = set(shell.user_ns)
    try:
        _magic_store_option_and_load_and_list(shell, mlflow_server, client, tmp_path)
    finally:  # the shell is shared by the whole session: leave nothing behind
        pyfunc_jupyter.set_store(None)
        for added in set(shell.user_ns) - before:
            del shell.user_ns[added]


def _magic_store_option_and_load_and_list(shell, mlflow_server, client, tmp_path):
    from IPython.utils.capture import capture_output

    name = unique("magic")
    cell = (
        "import pandas as pd\nfrom pyfunc_jupyter import PythonModel\n"
        "class Doubler(PythonModel):\n    def predict(self, context, model_input):\n        return model_input * 2\n"
        "input_example = pd.DataFrame({'x': [1, 2]})\n"
    )
    with capture_output() as captured:
        result = shell.run_cell(f"%%pyfunc_model {name} --store {mlflow_server}\n{cell}")
    assert result.success, captured.stdout + captured.stderr
    (card,) = [o.data[MIME_TYPE] for o in captured.outputs if MIME_TYPE in o.data]
    assert card["status"] == "saved" and card["version"] == 1 and card["uri"] == f"models:/{name}/1"
    assert not (tmp_path / "folder").exists()  # went to the server, not the store in use
    assert client.get_model_version(name, "1").status == "READY"
    assert "View run" not in captured.stdout

    pyfunc_jupyter.set_store(mlflow_server)
    try:
        with capture_output() as captured:
            result = shell.run_cell(f"%pyfunc_load models:/{name}/1 --as remote_doubler")
        assert result.success, captured.stdout + captured.stderr
        assert shell.user_ns["remote_doubler"].predict(pd.DataFrame({"x": [5]}))["x"].tolist() == [10]
        (card,) = [o.data[MIME_TYPE] for o in captured.outputs if MIME_TYPE in o.data]
        assert card["name"] == name and card["version"] == 1
        listing = shell.run_line_magic("pyfunc_models", "")
        assert name in [row.name for row in listing.rows] and listing.store == mlflow_server
        assert name in listing._repr_html_() and mlflow_server in repr(listing)
    finally:
        pyfunc_jupyter.set_store(None)


def test_panel_load_and_compare_list_the_server(remote, client, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    exec(compile(LINEAR, "<cell>", "exec"), namespace)
    name = unique("panel")
    model = namespace["SimpleLinearModel"]()
    pyfunc_jupyter.log_model(name, model, input_example=EXAMPLE)
    pyfunc_jupyter.log_model(name, model, input_example=EXAMPLE, new_version=True)
    pyfunc_jupyter.set_registered_model_alias(name, "champion", 2)
    panel = pyfunc_jupyter.panel(namespace)
    load = panel.load_tab
    load.search.value = name
    assert [uri for _, uri in load.versions.options] == [f"models:/{name}/2", f"models:/{name}/1"]
    load.versions.value = f"models:/{name}/2"
    assert load.card.data["name"] == name and load.card.data["version"] == 2
    load.variable.value = "from_server"
    load.load_button.click()
    assert f"Loaded models:/{name}/2 as `from_server`" in load.status.value
    assert namespace["from_server"].predict(pd.DataFrame([1]))[0].tolist() == [5]
    load.predict_button.click()
    assert load.prediction is not None and "Predicted" in load.status.value
    # the registry from the panel: aliases and the description, written to the server
    assert f"models:/{name}@champion" in load.registry_info.value
    load.versions.value = f"models:/{name}/1"
    load.alias.value = "challenger"
    load.alias_button.click()
    assert f"models:/{name}@challenger now points to models:/{name}/1" in load.status.value
    assert client.get_model_version_by_alias(name, "challenger").version == "1"
    assert any("@challenger" in label for label, uri in load.versions.options if uri == f"models:/{name}/1")
    load.description.value = "baseline fit"
    load.description_button.click()
    assert client.get_model_version(name, "1").description == "baseline fit"
    load.alias.value = "champion"
    load.remove_alias_button.click()
    assert "champion" not in client.get_registered_model(name).aliases
    load.alias.value = "latest"  # reserved: refused, nothing changes
    load.alias_button.click()
    assert "reserved" in load.status.value and client.get_model_version_by_alias(name, "challenger").version == "1"

    compare = panel.compare_tab
    uris = [uri for _, uri in compare.a.options]
    assert f"models:/{name}/1" in uris and f"models:/{name}/2" in uris
    compare.a.value, compare.b.value = f"models:/{name}/1", f"models:/{name}/2"
    compare.compare_button.click()
    assert "Outputs:" in compare.status.value and "Changed: nothing" in compare.status.value
    assert [o["label"] for o in compare.preview["outputs"]] == [f"A: models:/{name}/1", f"B: models:/{name}/2"]


def test_panel_with_a_server_that_is_down(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    uri = f"http://127.0.0.1:{free_port()}"
    pyfunc_jupyter.set_store(uri)
    try:
        panel = pyfunc_jupyter.panel({"__name__": "__main__"})
    finally:
        pyfunc_jupyter.set_store(None)
    assert uri in panel.load_tab.status.value and "cannot be reached" in panel.load_tab.status.value
    assert uri in panel.compare_tab.status.value
