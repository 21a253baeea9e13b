"""The authoring pipeline shared by the magic and the panel: check, predict, save, reload, card."""

from __future__ import annotations

import inspect
import os
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ModelSaveError
from ..format.trial import TrialPredictError
from .checks import (
    Finding,
    Subject,
    fresh_process_checks,
    mismatch_checks,
    output_checks,
    reload_failed_check,
    requirement_checks,
    sample_large_example,
    static_checks,
    warning_checks,
)

__all__ = ["AuthorRequest", "Authored", "PredictError", "author", "default_name", "infer_requirements", "open_model"]


@dataclass
class AuthorRequest:
    """A model and everything to save it with (the arguments of ``save_model``/``log_model``)."""

    model: Any
    input_example: Any
    params: dict | None = None
    name: str | None = None
    path: str | None = None
    overwrite: bool = False
    signature: Any = None
    artifacts: dict | None = None
    pip_requirements: Any = None
    extra_pip_requirements: Any = None
    conda_env: Any = None
    code_paths: list | None = None
    model_config: Any = None
    source: str | None = None
    fresh_process: bool = True
    store: str | None = None  # a folder or an MLflow tracking server URI; default: the store in use
    new_version: bool = False  # store: add a version even when the latest one holds the same content
    code: Any = None  # a fromcode.CodeFile: save the model as this code file instead of pickling it


class PredictError(TrialPredictError):
    """The model failed in memory, before anything was written; ``original`` is the user's exception."""

    def __str__(self) -> str:
        return f"{super().__str__()}; nothing was saved."


@dataclass
class Authored:
    """One authoring run: the card and findings, and when saved, the ``ModelInfo`` and the reloaded model."""

    card: Any
    findings: list[Finding]
    info: Any = None
    model: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def saved(self) -> bool:
        """Whether a model directory was written."""
        return self.info is not None

    @property
    def errors(self) -> list[Finding]:
        """The findings that stopped the save."""
        return [f for f in self.findings if f.severity == "error"]

    def predict(self, data: Any, params: dict | None = None) -> Any:
        """Predict with the reloaded model."""
        if self.model is None:
            raise ModelSaveError("This model was not saved (see its checks), so there is no loaded model to call.")
        return self.model.predict(data, params)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None):
        return self.card._repr_mimebundle_(include, exclude)

    def __repr__(self) -> str:
        where = self.info.model_uri if self.info is not None else "not saved"
        return f"<Authored {self.card.data.get('name')!r}: {where}, {len(self.findings)} finding(s)>"


def default_name(model: Any) -> str:
    """The class or function name in snake_case: ``SimpleLinearModel`` -> ``simple_linear_model``."""
    name = getattr(model, "__name__", None) if inspect.isroutine(model) else type(model).__name__
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name or "model")
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().strip("_") or "model"


def _predict_in_memory(request: AuthorRequest) -> tuple[Any, Any]:
    """(output, signature): predict on the example as a loaded model would (``load_context`` on a copy)."""
    from ..format.save import in_memory_model
    from ..format.trial import trial_predict

    try:
        loaded = in_memory_model(
            request.model,
            request.input_example,
            request.params,
            signature=request.signature,
            artifacts=request.artifacts,
            model_config=request.model_config,
        )
        return trial_predict(loaded, request.input_example, request.params), loaded.signature
    except TrialPredictError as exc:
        raise PredictError(exc.stage, exc.original) from exc.original


class _FreshFailed(Exception):
    def __init__(self, result: Any) -> None:
        super().__init__(result.error)
        self.result = result


def _given_sources(request: AuthorRequest) -> dict[str, str]:
    from ..card.data import requirement_name
    from ..environment.distributions import canonical_name

    sources = {}
    for option, label in (
        ("conda_env", "given (conda_env)"),
        ("extra_pip_requirements", "given (extra_pip_requirements)"),
        ("pip_requirements", "given (pip_requirements)"),
    ):
        value = getattr(request, option)
        if isinstance(value, (str, os.PathLike)):
            value = _read_env_file(value, as_yaml=option == "conda_env")
        if option == "conda_env" and isinstance(value, dict):
            value = [
                d for entry in value.get("dependencies", []) if isinstance(entry, dict) for d in entry.get("pip", [])
            ]
        if isinstance(value, (list, tuple)):
            for line in value:
                name = requirement_name(str(line))
                if name is not None:
                    sources[canonical_name(name)] = label
    return sources


def _read_env_file(path: Any, as_yaml: bool) -> Any:
    """A conda YAML or requirements file given by path; None when unreadable (the save reports why)."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
        if as_yaml:
            import yaml

            return yaml.safe_load(text)
        return text.splitlines()
    except Exception:  # noqa: BLE001 - unreadable or invalid YAML: the save raises the clear error
        return None


def _unsaved(
    request: AuthorRequest,
    subject: Subject,
    findings: list[Finding],
    preview: dict | None,
    signature: Any,
    timings: dict,
) -> Authored:
    from ..card.data import unsaved_card_data
    from ..card.modelcard import ModelCard

    name = request.name or (Path(request.path).name if request.path else default_name(request.model))
    if signature is None:
        from ..format.save import planned_signature

        try:
            signature, _ = planned_signature(
                request.model, request.signature, request.input_example, request.params, True
            )
        except Exception:  # noqa: BLE001 - the card of an unsaved model shows what it can
            signature = None
    data, volatile = unsaved_card_data(
        name, request.model, [f.to_dict() for f in findings], signature=signature, state=subject.state, preview=preview
    )
    volatile["timings"] = timings
    return Authored(ModelCard(data, volatile), findings, timings=timings)


def _save(request: AuthorRequest, verify: Any) -> Any:
    if request.code is not None:
        import tempfile

        from .fromcode import CODE_FILE

        with tempfile.TemporaryDirectory(prefix="pyfunc-code-") as folder:
            path = Path(folder) / CODE_FILE
            path.write_text(request.code.text, encoding="utf-8")
            return _save_model(request, verify, path)
    return _save_model(request, verify, request.model)


def _save_model(request: AuthorRequest, verify: Any, python_model: Any) -> Any:
    kwargs = dict(
        input_example=(request.input_example, request.params) if request.params else request.input_example,
        signature=request.signature,
        artifacts=request.artifacts,
        pip_requirements=request.pip_requirements,
        extra_pip_requirements=request.extra_pip_requirements,
        conda_env=request.conda_env,
        code_paths=request.code_paths,
        model_config=request.model_config,
        verify=verify,
    )
    if request.path:
        from ..format.save import save_model

        return save_model(request.path, python_model, overwrite=request.overwrite, **kwargs)
    from ..store.active import log_model

    return log_model(
        request.name or default_name(request.model),
        python_model,
        source=request.source,
        store=request.store,
        new_version=request.new_version,
        **kwargs,
    )


def author(request: AuthorRequest, progress: Callable[[str], None] | None = None) -> Authored:
    """Check, predict in memory, save (verified in a fresh process first), reload, and make the card.

    Raises ``PredictError`` when the model fails on its example; check errors come back as an
    unsaved ``Authored`` whose card lists them. Nothing is written unless every check passes.
    Python warnings raised on the way become warnings on the card instead of stderr noise.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        authored = _author(request, progress or (lambda stage: None))
    for finding in warning_checks(caught, authored.findings):  # Python warnings about the model go on the card
        authored.findings.append(finding)
        authored.card.data["checks"].append(finding.to_dict())
        authored.card.data["summary"]["warnings"] += 1
    return authored


def _author(request: AuthorRequest, progress: Callable[[str], None]) -> Authored:
    from ..card.data import model_card_data
    from ..card.modelcard import ModelCard
    from .fresh import FreshCheck
    from .preview import as_table, build_preview

    if request.input_example is None:
        raise ModelSaveError(
            "An input example is required: it is what the model is checked, previewed and "
            "signed with. Give one (input_example=...)."
        )
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress("checking")
    sample, large = sample_large_example(request.input_example)
    if large is not None:  # a small sample stands in for a huge example everywhere below (the card says so)
        request = replace(request, input_example=sample)
    subject = Subject(
        request.model, request.input_example, request.params, request.signature, request.artifacts, request.code_paths
    )
    findings = static_checks(subject, from_code=request.code is not None) + ([large] if large is not None else [])
    if request.code is not None:
        findings += request.code.findings
    timings["checks"] = time.perf_counter() - started
    if any(f.severity == "error" for f in findings):
        return _unsaved(request, subject, findings, None, None, timings)

    progress("predicting on the example")
    mark = time.perf_counter()
    output, signature = _predict_in_memory(request)
    timings["predict"] = time.perf_counter() - mark
    findings += output_checks(output)
    example_table = as_table(request.input_example, is_input=True)
    outputs = [{"label": "in memory", "table": as_table(output)}]

    fresh: dict[str, Any] = {}

    def verify(built: Path) -> None:
        findings.extend(requirement_checks(built))
        fresh["result"] = result = FreshCheck(built).result()
        if not result.ok:
            raise _FreshFailed(result)
        shown = [*outputs, {"label": "fresh process", "table": _fresh_table(result)}]
        _note_in_sidecar(built, request.model, subject.state, findings, build_preview(example_table, shown))

    progress("saving, then loading in a fresh process")
    mark = time.perf_counter()
    try:
        info = _save(request, verify if request.fresh_process else None)
    except _FreshFailed as failure:
        findings += fresh_process_checks(failure.result)
        outputs.append({"label": "fresh process", "error": failure.result.error})
        return _unsaved(request, subject, findings, build_preview(example_table, outputs), signature, timings)
    timings["save"] = time.perf_counter() - mark
    if not request.fresh_process:
        findings += requirement_checks(Path(info.path))
    if "result" in fresh:
        timings["fresh_process"] = fresh["result"].seconds

    progress("reloading")
    mark = time.perf_counter()
    loaded = _reload(info.path, outputs, findings)
    timings["reload"] = time.perf_counter() - mark
    if "result" in fresh:
        outputs.append({"label": "fresh process", "table": _fresh_table(fresh["result"])})
    preview = build_preview(example_table, outputs)
    findings += mismatch_checks(preview)
    timings["total"] = time.perf_counter() - started
    data, volatile = model_card_data(
        info.path,
        status=f"unchanged: same as v{info.version}" if info.unchanged else "saved",
        name=info.name or Path(info.path).name,
        version=info.version,
        uri=info.model_uri if info.version is not None else None,
        model=request.model,
        checks=[f.to_dict() for f in findings],
        preview=preview,
        state=subject.state,
        given_requirements=_given_sources(request),
        timings=timings,
        tracking_uri=info.tracking_uri,
    )
    return Authored(ModelCard(data, volatile), findings, info, loaded, timings)


def _reload(path: str, outputs: list[dict], findings: list[Finding]) -> Any:
    """Load the saved model in this process and predict on its saved example (the preview's "reloaded")."""
    from ..format.example import split_example
    from ..format.trial import trial_predict
    from ..store.loading import load_model
    from .preview import as_table

    try:
        loaded = load_model(path)
        output = trial_predict(loaded, *split_example(loaded.input_example))  # loaded.input_example stays as saved
        outputs.append({"label": "reloaded", "table": as_table(output)})
        return loaded
    except Exception as exc:  # noqa: BLE001 - shown on the card; the model is saved and still usable
        outputs.append({"label": "reloaded", "error": _error_text(exc)})
        findings.append(reload_failed_check(_error_text(exc)))
        return None


def _error_text(exc: BaseException) -> str:
    """``Type: message`` of the model's own exception (a failed trial prediction's cause)."""
    exc = exc.original if isinstance(exc, TrialPredictError) else exc
    return f"{type(exc).__name__}: {exc}"


def infer_requirements(model: Any, input_example: Any, params: dict | None = None) -> list[str]:
    """The requirement lines a save would infer, found by building the model in a temporary directory."""
    import tempfile

    from ..format.save import build_model

    with tempfile.TemporaryDirectory(prefix="pyfunc-infer-") as tmp:
        built = build_model(Path(tmp), model, input_example=(input_example, params) if params else input_example)
    return [r.pin for r in built.requirements]


def _note_in_sidecar(built: Path, model: Any, state: list[dict], findings: list[Finding], preview: dict) -> None:
    """Keep what only the save knows (model kind, pickled state, checks, preview) in the model's sidecar,

    so that a card made later from the files (``model_card``, the side panel) shows it too.
    """
    from ..card.data import model_label
    from ..format.sidecar import update_sidecar

    update_sidecar(
        built,
        card={
            "model": model_label(model),
            "state": state,
            "checks": [f.to_dict() for f in findings],
            "preview": preview,
        },
    )


def _fresh_table(result: Any) -> dict:
    from .preview import json_table, unsendable_table

    return unsendable_table(result.unsendable) if result.unsendable else json_table(result.output)


def open_model(model_uri: Any) -> Authored:
    """Load a saved model and make its card, with a preview of its prediction on the saved example."""
    from ..card.modelcard import model_card
    from ..format.example import split_example
    from ..format.trial import trial_predict
    from ..store.loading import load_model
    from .preview import MAX_ROWS, as_table, build_preview

    card = model_card(model_uri)
    model = load_model(model_uri)
    example = model.input_example
    if example is not None:
        data, params = split_example(example)
        try:  # on a copy: the preview's input table and model.input_example show the example as saved
            output: dict[str, Any] = {"label": "loaded", "table": as_table(trial_predict(model, data, params))}
        except Exception as exc:  # noqa: BLE001 - the card shows it; the model is still returned
            output = {"label": "loaded", "error": _error_text(exc)}
        saved = card.data.get("preview")  # what the model gave when it was saved, if the sidecar kept it
        if saved and saved["outputs"] and saved["outputs"][0].get("table"):
            earlier = [
                {"label": o["label"], **({"table": o["table"]} if o.get("table") else {"error": o.get("error")})}
                for o in saved["outputs"]
                if o.get("table") or o.get("error")
            ]
            if "table" in output:
                output["table"] = {**output["table"], "rows": output["table"]["rows"][:MAX_ROWS]}
            card.data["preview"] = build_preview(saved["input"], [*earlier, output])
        else:
            card.data["preview"] = build_preview(as_table(data, is_input=True), [output])
    return Authored(card, [], None, model)
