"""The MLflow tracking server store: log, resolve, list and registry operations through MLflow's own client.

``log_model`` builds the model directory locally (exactly as the folder store would, with the run's and
the logged model's ids in its ``MLmodel``), uploads it as-is as an MLflow 3 logged model, and only then
registers a new version of the registered model, so a failed build or upload never leaves a version.
Models read from the server are downloaded once into a local cache (``$PYFUNC_JUPYTER_CACHE``, else
``$XDG_CACHE_HOME/pyfunc-jupyter`` or ``~/.cache/pyfunc-jupyter``), keyed by the logged model's id, which
never changes. MLflow's client (``mlflow-skinny`` or ``mlflow``) is imported only here, only when a
remote store is used.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError, PyfuncError, RemoteStoreError
from ..format import atomic as _atomic

__all__ = ["INSTALL_HINT", "CACHE_ENV", "MlflowServerStore", "cache_root"]

INSTALL_HINT = "pip install 'pyfunc-jupyter[server]'"
CACHE_ENV = "PYFUNC_JUPYTER_CACHE"
TAG_PREFIX = "pyfunc_jupyter."
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_PROBE_TIMEOUT = 10.0


def cache_root() -> Path:
    """Where models downloaded from (or uploaded to) tracking servers are kept."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().absolute() / "pyfunc-jupyter"


def _created(millis: int | None) -> str | None:
    if not millis:
        return None
    moment = _dt.datetime.fromtimestamp(millis / 1000, _dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class MlflowServerStore:
    """A store that is an MLflow tracking server with its model registry (``http(s)://host:port``)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri.rstrip("/")
        self.location = self.uri
        self._mlflow_client: Any = None
        self._runs: set[str] = set()  # server runs started with start_run(), ended by end_run()

    def __repr__(self) -> str:
        return f"MlflowServerStore({self.uri!r})"

    # ------------------------------------------------------------------ talking to the server

    def _client(self) -> Any:
        if self._mlflow_client is None:
            try:
                from mlflow.tracking import MlflowClient
            except ImportError as exc:
                raise RemoteStoreError(
                    f"The store {self.uri} is an MLflow tracking server, and talking to one needs MLflow's client, "
                    f"which is not installed here ({exc}). Install it: {INSTALL_HINT} (or set_store(None) to use "
                    "the local folder store)."
                ) from None
            self._mlflow_client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        return self._mlflow_client

    def _probe(self) -> None:
        """Fail fast when the server is not there or failing: MLflow's client retries a refused connection and
        5xx answers with a growing back-off ($MLFLOW_HTTP_REQUEST_MAX_RETRIES, 7 by default) for minutes."""
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=_PROBE_TIMEOUT) as answer:
                answer.read(64)
        except urllib.error.HTTPError as exc:
            if exc.code < 500:  # it answers: MLflow's client, with its credentials, gets the real verdict
                return
            raise RemoteStoreError(
                f"The MLflow tracking server at {self.uri} refused the request (HTTP {exc.code} {exc.reason} on "
                "/health). Check the server's log, the URI (set_store(...), $MLFLOW_TRACKING_URI), and try again; "
                "nothing was changed."
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RemoteStoreError(
                f"The MLflow tracking server at {self.uri} cannot be reached ({reason}). Start it (e.g. `mlflow "
                "server --host 127.0.0.1 --port 5000`) or point the store elsewhere (set_store(...), "
                "$MLFLOW_TRACKING_URI); nothing was changed."
            ) from None

    @contextlib.contextmanager
    def _talking(self, doing: str, missing: type[PyfuncError] | None = None) -> Iterator[Any]:
        """The client, with MLflow's and the network's errors turned into ``PyfuncError``s naming the server."""
        client = self._client()
        from mlflow.exceptions import MlflowException

        try:
            yield client
        except PyfuncError:
            raise
        except MlflowException as exc:
            code = getattr(exc, "error_code", "")
            if missing is not None and code == "RESOURCE_DOES_NOT_EXIST":
                raise missing(f"{_first_line(exc)} (the MLflow tracking server at {self.uri}, {doing}).") from None
            raise RemoteStoreError(
                f"The MLflow tracking server at {self.uri} refused {doing}: {code}: {_first_line(exc)}"
            ) from None
        except OSError as exc:  # requests' ConnectionError is an OSError
            raise RemoteStoreError(
                f"The MLflow tracking server at {self.uri} failed while {doing}: "
                f"{type(exc).__name__}: {_first_line(exc)}. Check that it is running and "
                "reachable, then try again."
            ) from None

    def _cache(self) -> Path:
        key = re.sub(r"[^A-Za-z0-9._-]+", "_", self.uri.split("://", 1)[-1])[:80]
        return cache_root() / "servers" / f"{key}-{hashlib.sha256(self.uri.encode()).hexdigest()[:8]}"

    # ------------------------------------------------------------------ runs

    def start_run(self, run_id: str | None = None, run_name: str | None = None) -> str:
        """A run on the server (``run_id`` resumes one); it ends when the ``start_run`` block does."""
        from . import runs

        self._probe()
        with self._talking("starting a run") as client:
            if run_id is not None:
                run_id = client.get_run(run_id).info.run_id
                client.update_run(run_id, status="RUNNING")
            else:
                run_id = client.create_run(
                    _experiment_id(client), run_name=run_name, tags={"mlflow.source.type": "NOTEBOOK"}
                ).info.run_id
        self._runs.add(run_id)
        if self._end_run not in runs.end_run_hooks:
            runs.end_run_hooks.append(self._end_run)
        return run_id

    def _end_run(self, run: Any, status: str) -> None:
        if run.info.run_id in self._runs:
            self._runs.discard(run.info.run_id)
            try:
                with (
                    self._talking(f"ending run {run.info.run_id}") as client,
                    contextlib.redirect_stdout(io.StringIO()),
                ):  # MLflow prints the run's UI links here
                    client.set_terminated(run.info.run_id, status)
            except PyfuncError as exc:  # the run ended here; the server keeps it RUNNING
                import warnings

                warnings.warn(f"{exc} The run stays RUNNING on the server.", stacklevel=3)

    # ------------------------------------------------------------------ logging

    def log_model(
        self,
        name: str | None = None,
        python_model: Any = None,
        *,
        artifact_path: str | None = None,
        registered_model_name: str | None = None,
        source: str | None = None,
        new_version: bool = False,
        **save_kwargs: Any,
    ):
        """Build the model locally, upload it as a logged model (in the ``start_run`` run, else a new one), then
        register a new version. When the latest version holds the same content (the content hash kept in
        its tags), that version is returned instead (``info.unchanged``; no run, no upload), unless
        ``new_version=True``, as in the folder store."""
        from ..format.save import build_model
        from .registry import content_hash
        from .runs import _default_source, active_run, logged_info

        artifact_name, store_name = _names(name, artifact_path, registered_model_name)
        if python_model is None:
            from ..errors import ModelSaveError

            raise ModelSaveError("log_model needs python_model=<a PythonModel instance or a one-argument function>.")
        source = source or _default_source()
        self._probe()
        local_run = active_run()
        cache = self._cache()
        sidecar = {"name": store_name, "artifact_name": artifact_name, "source": source}
        with _atomic.staging(cache) as staging:
            # built before the server hears of it: a model that fails to build leaves no run behind
            built = build_model(staging, python_model, sidecar=sidecar, **save_kwargs)
            digest = content_hash(staging, built.mlmodel)
            with self._talking(f"logging {store_name!r}") as client:
                same = None if new_version or digest is None else _latest_with_hash(client, store_name, digest)
                if same is not None:
                    shutil.rmtree(staging, ignore_errors=True)
                else:
                    model_id, version = self._upload(
                        client, staging, built, store_name, artifact_name, source, local_run, digest
                    )
            if same is None:  # outside the server's error handling: a disk error is not the server's
                _keep(staging, cache / model_id)
        if same is not None:
            version, path = same, self.resolve(f"models:/{store_name}/{same}")
        else:
            path = cache / model_id
        return logged_info(
            built,
            path,
            store_name,
            version,
            artifact_name,
            local_run,
            unchanged=same is not None,
            tracking_uri=self.uri,
        )

    def _upload(
        self,
        client: Any,
        staging: Path,
        built: Any,
        store_name: str,
        artifact_name: str,
        source: str,
        local_run: Any,
        digest: str | None,
    ) -> tuple[str, int]:
        """Make the run and logged model, stamp their ids into the built directory, upload it, register a version.

        Returns ``(model_id, version)``; on any failure the run and logged model are marked FAILED.
        """
        from ..format.mlmodel import write_mlmodel
        from ..format.schema import ModelSignature
        from ..format.sidecar import update_sidecar

        experiment_id = _experiment_id(client)
        own_run = local_run is None or local_run.info.run_id not in self._runs
        if own_run:  # a run of its own, as `mlflow.pyfunc.log_model` outside a run makes none to share
            run_id = client.create_run(
                experiment_id,
                run_name=(local_run.info.run_name if local_run else None) or f"{store_name}-{source}",
                tags={"mlflow.source.name": source, "mlflow.source.type": "NOTEBOOK"},
            ).info.run_id
        else:
            run_id = local_run.info.run_id
            experiment_id = client.get_run(run_id).info.experiment_id
        logged = None
        try:
            logged = client.create_logged_model(experiment_id, name=artifact_name, source_run_id=run_id)
            model_id = logged.model_id
            if not _ID.match(model_id):
                raise RemoteStoreError(f"The server gave an unusable model id {model_id!r}.")
            from mlflow.entities import LoggedModelOutput

            client.log_outputs(run_id, [LoggedModelOutput(model_id, step=0)])
            built.mlmodel = {
                **built.mlmodel,
                "artifact_path": logged.artifact_location,
                "run_id": run_id,
                "model_id": model_id,
                "model_uuid": model_id,
            }
            try:
                write_mlmodel(staging, built.mlmodel)
                update_sidecar(staging, run_id=run_id)
            except OSError as exc:  # the disk's error, not the server's
                raise _atomic.storage_error(exc, staging) from exc
            summary = {
                "artifact_name": artifact_name,
                "source": source,
                "size_bytes": str(built.mlmodel.get("model_size_bytes", "")),
                "signature": ModelSignature.from_dict(built.mlmodel["signature"]).summary()
                if built.mlmodel.get("signature")
                else "",
                "content_hash": digest or "",
            }
            client.log_model_artifacts(model_id, str(staging))
            client.finalize_logged_model(model_id, "READY")
            version = self._register(client, store_name, model_id, run_id, summary)
        except BaseException:
            with contextlib.suppress(Exception):
                if logged is not None:
                    client.finalize_logged_model(logged.model_id, "FAILED")
            if own_run:
                with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
                    client.set_terminated(run_id, "FAILED")
            raise
        if own_run:
            with contextlib.redirect_stdout(io.StringIO()):  # MLflow prints the run's UI links here
                client.set_terminated(run_id, "FINISHED")
        return model_id, version

    def _register(self, client: Any, name: str, model_id: str, run_id: str, summary: dict[str, str]) -> int:
        """A new version of ``name`` whose source is the uploaded logged model; the registered model made if new."""
        from mlflow.exceptions import MlflowException

        created = False
        try:
            client.create_registered_model(name)
            created = True
        except MlflowException as exc:
            if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                raise
        try:
            version = client.create_model_version(
                name,
                source=f"models:/{model_id}",
                run_id=run_id,
                model_id=model_id,
                await_creation_for=0,
                tags={f"{TAG_PREFIX}{k}": v for k, v in summary.items() if v},
            )
        except BaseException:
            if created:  # nothing of ours is left registered
                with contextlib.suppress(Exception):
                    if not client.search_model_versions(f"name='{name}'", max_results=1):
                        client.delete_registered_model(name)
            raise
        return int(version.version)

    # ------------------------------------------------------------------ reading

    def list_models(self) -> list:
        """Every registered model version on the server, by name then version (from the registry only)."""
        from .folder import StoreEntry

        self._probe()
        entries = []
        with self._talking("listing the model versions") as client:
            token = None
            while True:
                page = client.search_model_versions(max_results=1000, page_token=token)
                entries.extend(page)
                token = page.token
                if not token:
                    break
            aliases: dict[tuple[str, int], list[str]] = {}
            token = None
            while True:  # search_model_versions leaves aliases out; the registered models carry them
                page = client.search_registered_models(max_results=1000, page_token=token)
                for model in page:
                    for alias, version in (model.aliases or {}).items():
                        aliases.setdefault((model.name, int(version)), []).append(alias)
                token = page.token
                if not token:
                    break
        result = []
        for mv in entries:
            tags = dict(mv.tags or {})
            size = tags.get(f"{TAG_PREFIX}size_bytes", "")
            status = str(getattr(mv, "status", "READY") or "READY")
            result.append(
                StoreEntry(
                    name=mv.name,
                    version=int(mv.version),
                    path=mv.source or "",
                    created=_created(mv.creation_timestamp),
                    run_id=mv.run_id or None,
                    artifact_name=tags.get(f"{TAG_PREFIX}artifact_name"),
                    signature_summary=tags.get(f"{TAG_PREFIX}signature"),
                    size_bytes=int(size) if size.isdigit() else None,
                    source=tags.get(f"{TAG_PREFIX}source"),
                    error=None if status == "READY" else f"status {status}: {mv.status_message or ''}".strip(),
                    description=mv.description or None,
                    tags={k: v for k, v in tags.items() if not k.startswith(TAG_PREFIX)},
                    aliases=sorted(aliases.get((mv.name, int(mv.version)), [])),
                )
            )
        return sorted(result, key=lambda e: (e.name, e.version))

    def resolve(self, uri: str, dst_path: str | None = None) -> Path:
        """The local directory of ``models:/NAME/N``, ``models:/NAME@alias``, ``.../latest`` or ``runs:/RUN/NAME``.

        Downloaded once into the cache (or into ``dst_path`` when given, as MLflow's ``load_model`` does).
        """
        self._probe()
        with self._talking(f"resolving {uri}", missing=ModelLoadError) as client:
            key, source = self._source(client, uri)
            cache = Path(dst_path).expanduser().absolute() if dst_path else self._cache()
            target = cache / key
            if (target / "MLmodel").is_file():
                return target
            # MLflow's own models:/ and runs:/ repositories build a client on the default tracking URI
            # (a local sqlite file in MLflow 3), so the artifact location is resolved here, then downloaded.
            from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

            repository = get_artifact_repository(
                self._location(client, source), tracking_uri=self.uri, registry_uri=self.uri
            )
            with _atomic.staging(cache) as staging:
                repository.download_artifacts("", dst_path=str(staging))
                if not (staging / "MLmodel").is_file():
                    raise ModelLoadError(f"{uri} on {self.uri} holds no MLmodel file: it is not a model directory.")
                _keep(staging, target)
        return target

    def _location(self, client: Any, source: str) -> str:
        """The artifact location of a version's source: ``models:/<model_id>``, ``runs:/<run>/<name>`` or a URI."""
        if source.startswith("models:/"):
            return client.get_logged_model(source[len("models:/") :].strip("/")).artifact_location
        if source.startswith("runs:/"):
            run_id, _, name = source[len("runs:/") :].strip("/").partition("/")
            run = client.get_run(run_id)
            outputs = getattr(getattr(run, "outputs", None), "model_outputs", None) or []
            for output in outputs:  # MLflow 3: the run's logged model of that name
                logged = client.get_logged_model(output.model_id)
                if logged.name == name:
                    return logged.artifact_location
            return f"{run.info.artifact_uri.rstrip('/')}/{name}"  # MLflow 2: a folder of the run's artifacts
        return source

    def _source(self, client: Any, uri: str) -> tuple[str, str]:
        """(cache key, source to download) of a models:/ or runs:/ URI."""
        if uri.startswith("runs:/"):
            run_id, _, name = uri[len("runs:/") :].strip("/").partition("/")
            if not _ID.match(run_id) or not name:
                raise ModelLoadError(f"{uri!r} is not a runs:/<run_id>/<name> URI.")
            return f"run-{hashlib.sha256(uri.encode()).hexdigest()[:24]}", uri
        if not uri.startswith("models:/"):
            raise ModelLoadError(f"{uri!r} is not a models:/ or runs:/ URI.")
        rest = uri[len("models:/") :].strip("/")
        if "@" in rest and "/" not in rest:
            name, _, alias = rest.partition("@")
            _check_registered(name, uri)
            try:
                mv = client.get_model_version_by_alias(name, alias)
            except Exception as exc:
                if getattr(exc, "error_code", "") not in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                    raise
                aliases = sorted({a for e in self._versions(client, name) for a in (e.aliases or [])})
                raise ModelLoadError(
                    f"Model {name!r} has no alias {alias!r} on {self.uri}; its aliases: {aliases}. "
                    f"Set one with set_registered_model_alias({name!r}, {alias!r}, <version>)."
                ) from None
        else:
            name, _, version = rest.partition("/")
            if not version and name.startswith("m-") and _ID.match(name):
                return name, f"models:/{name}"  # a logged model's own id
            _check_registered(name, uri)
            versions = self._versions(client, name)
            numbers = sorted(int(v.version) for v in versions)
            if not numbers:
                known = sorted({m.name for m in client.search_registered_models(max_results=1000)})
                raise ModelLoadError(
                    f"No model named {name!r} on the MLflow tracking server {self.uri}. Known models: {known}."
                )
            if version in ("", "latest"):
                version = str(numbers[-1])
            if not version.isdigit() or int(version) not in numbers:
                raise ModelLoadError(
                    f"Model {name!r} has no version {version!r} on {self.uri}; versions: {numbers} (or 'latest')."
                )
            mv = next(v for v in versions if int(v.version) == int(version))
        model_id = mv.model_id or (mv.source[len("models:/") :] if (mv.source or "").startswith("models:/m-") else "")
        if model_id and _ID.match(model_id):
            return model_id, f"models:/{model_id}"
        return f"version-{hashlib.sha256(f'{mv.name}/{mv.version}'.encode()).hexdigest()[:24]}", mv.source

    @staticmethod
    def _versions(client: Any, name: str) -> list:
        return list(client.search_model_versions(f"name='{name}'", max_results=1000))

    # ------------------------------------------------------------------ registry (MLflow's client names)

    def _call(self, doing: str, method: str, *args: Any) -> Any:
        from ..errors import RegistryError as Missing

        self._probe()
        with self._talking(doing, missing=Missing) as client:
            return getattr(client, method)(*args)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        from .registry import _check_alias

        alias = _check_alias(alias)  # the folder store's rules ('latest', v<N> reserved), checked before asking
        self._call(f"setting alias {alias!r} of {name!r}", "set_registered_model_alias", name, alias, str(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._call(f"deleting alias {alias!r} of {name!r}", "delete_registered_model_alias", name, alias)

    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> Any:
        if description is not None:
            self._call(
                f"describing {name!r} version {version}", "update_model_version", name, str(version), description
            )
        return self.get_model_version(name, version)

    def update_registered_model(self, name: str, description: str | None = None) -> Any:
        if description is not None:
            self._call(f"describing {name!r}", "update_registered_model", name, description)
        model = self._call(f"reading {name!r}", "get_registered_model", name)
        return {
            "name": model.name,
            "description": model.description or None,
            "tags": dict(model.tags or {}),
            "aliases": dict(model.aliases or {}),
        }

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        self._call(f"tagging {name!r} version {version}", "set_model_version_tag", name, str(version), key, str(value))

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._call(f"untagging {name!r} version {version}", "delete_model_version_tag", name, str(version), key)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._call(f"tagging {name!r}", "set_registered_model_tag", name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call(f"untagging {name!r}", "delete_registered_model_tag", name, key)

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._call(f"deleting {name!r} version {version}", "delete_model_version", name, str(version))

    def get_model_version(self, name: str, version: int | str) -> Any:
        self._call(f"reading {name!r} version {version}", "get_model_version", name, str(version))
        return next(e for e in self.list_models() if e.name == name and e.version == int(version))

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        mv = self._call(f"reading alias {alias!r} of {name!r}", "get_model_version_by_alias", name, alias)
        return self.get_model_version(name, mv.version)


def _latest_with_hash(client: Any, name: str, digest: str) -> int | None:
    """The latest version of ``name`` if the content hash in its tags is ``digest``, else None."""
    from mlflow.exceptions import MlflowException

    try:
        latest = client.search_model_versions(f"name='{name}'", max_results=1, order_by=["version_number DESC"])
    except MlflowException:  # no such model yet, or a server without ordering: a new version
        return None
    if not latest or (latest[0].tags or {}).get(f"{TAG_PREFIX}content_hash") != digest:
        return None
    return int(latest[0].version)


def _keep(staging: Path, target: Path) -> None:
    """Move a finished staging folder into the cache as ``target`` (one already there wins: same content)."""
    try:
        os.rename(staging, target)
    except OSError:
        if not (target / "MLmodel").is_file():
            raise
        shutil.rmtree(staging, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_registered(name: str, uri: str) -> None:
    if not _NAME.match(name or ""):
        raise ModelLoadError(
            f"{uri!r} does not name a registered model: expected models:/<name>/<version>, "
            "models:/<name>@<alias> or models:/<name>/latest."
        )


def _names(name: str | None, artifact_path: str | None, registered_model_name: str | None) -> tuple[str, str]:
    from ..errors import ModelSaveError
    from .folder import check_name as _check_name

    if name is not None and artifact_path is not None:
        raise ModelSaveError("Pass the model name once: name= or artifact_path=, not both.")
    artifact_name = _check_name(name if name is not None else artifact_path)
    return artifact_name, _check_name(registered_model_name or artifact_name)


def _experiment_id(client: Any) -> str:
    """``$MLFLOW_EXPERIMENT_ID``, else ``$MLFLOW_EXPERIMENT_NAME``'s (made if new), else the default experiment."""
    if os.environ.get("MLFLOW_EXPERIMENT_ID"):
        return os.environ["MLFLOW_EXPERIMENT_ID"]
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if not name:
        return "0"
    experiment = client.get_experiment_by_name(name)
    return experiment.experiment_id if experiment is not None else client.create_experiment(name)
