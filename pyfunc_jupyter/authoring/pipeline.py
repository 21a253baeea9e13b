"""The authoring pipeline shared by the magic and the panel: check, predict, save, reload, card."""

from __future__ import annotations

import copy
import inspect
import os
import re
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from .checks import (Finding, Subject, local_module_path, module_fix, output_checks, requirement_checks,
                     sample_large_example, shown_path, static_checks)
from ..errors import ModelSaveError, PyfuncError

_PACKAGE = str(Path(__file__).resolve().parent)

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
    new_version: bool = False  # store: add a version even when the latest one holds the same content


class PredictError(PyfuncError):
    """The model failed in memory, before anything was written; ``original`` is the user's exception."""

    def __init__(self, stage: str, original: BaseException) -> None:
        what = {"load_context": "load_context failed with the given artifacts",
                "input": "the input example does not fit the signature",
                "predict": "predict failed on the input example"}[stage]
        super().__init__(f"{what} ({type(original).__name__}: {original}); nothing was saved.")
        self.stage = stage
        self.original = original


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


def _is_function(model: Any) -> bool:
    return not callable(getattr(model, "predict", None)) or inspect.isroutine(model)


def _predict_in_memory(request: AuthorRequest) -> Any:
    """Predict on the example as a loaded model would: ``load_context`` (on a copy), enforcement, dispatch."""
    from .._base import PythonModelContext, _FunctionPythonModel
    from ..format.load import LoadedModel, local_path
    from ..format.samplecopy import sample_copy
    from ..format.save import _load_config, overrides, planned_signature

    model = _FunctionPythonModel(request.model) if _is_function(request.model) else request.model
    artifacts = {k: str((local_path(v) or Path(v)).absolute()) for k, v in (request.artifacts or {}).items()}
    context = PythonModelContext(artifacts=artifacts, model_config=_load_config(request.model_config))
    if overrides(type(model), "load_context"):
        model = copy.copy(model)  # load_context's state stays off the user's object, as it does when saving
        try:
            model.load_context(context=context)
        except Exception as exc:
            raise PredictError("load_context", exc) from exc
    signature, from_hint = planned_signature(model, request.signature, request.input_example, request.params, True)
    loaded = LoadedModel.in_memory(model, context, signature, from_hint, Path.cwd())
    try:  # on copies, as every sample inference: a predict that edits its input must not edit the caller's
        data, params = loaded.prepare(sample_copy(request.input_example), sample_copy(request.params))
    except Exception as exc:
        raise PredictError("input", exc) from exc
    try:
        return loaded.call("predict", data, params), signature
    except Exception as exc:
        raise PredictError("predict", exc) from exc


class _FreshFailed(Exception):
    def __init__(self, result: Any) -> None:
        super().__init__(result.error)
        self.result = result


def _fresh_findings(result: Any) -> list[Finding]:
    if result.missing_module:
        module = result.missing_module
        path = local_module_path(module)
        where = f"the local module at {shown_path(path)}" if path else "a module that is not installed there"
        return [Finding("local-module", "error",
                        f"A fresh Python process cannot load the model: No module named {module!r} ({where}).",
                        module_fix(module, path))]
    fixes = {"load": "make what the model needs travel with it: local code with --code, packages with --pip, "
                     "files with --artifact",
             "example": "the saved input example cannot be read back; simplify the example",
             "predict": "predict depends on something only this kernel has (a notebook variable, the working "
                        "directory, a file): pass it to __init__ or as an --artifact"}
    return [Finding("fresh-process", "error",
                    f"A fresh Python process could not {result.stage} the model: {result.error_type}: {result.message}",
                    fixes.get(result.stage, "run the model in a plain Python process to see why"))]


def _given_sources(request: AuthorRequest) -> dict[str, str]:
    from ..card.data import requirement_name
    from ..environment.distributions import canonical_name

    sources = {}
    for option, label in (("conda_env", "given (conda_env)"), ("extra_pip_requirements", "given (extra_pip_requirements)"),
                          ("pip_requirements", "given (pip_requirements)")):
        value = getattr(request, option)
        if isinstance(value, (str, os.PathLike)):
            value = _read_env_file(value, as_yaml=option == "conda_env")
        if option == "conda_env" and isinstance(value, dict):
            value = [d for entry in value.get("dependencies", []) if isinstance(entry, dict) for d in entry.get("pip", [])]
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


def _unsaved(request: AuthorRequest, subject: Subject, findings: list[Finding], preview: dict | None,
             signature: Any, timings: dict) -> Authored:
    from ..card.data import unsaved_card_data
    from ..card.modelcard import ModelCard

    name = request.name or (Path(request.path).name if request.path else default_name(request.model))
    if signature is None:
        from ..format.save import planned_signature

        try:
            signature, _ = planned_signature(request.model, request.signature, request.input_example, request.params,
                                             True)
        except Exception:  # noqa: BLE001 - the card of an unsaved model shows what it can
            signature = None
    data, volatile = unsaved_card_data(name, request.model, [f.to_dict() for f in findings], signature=signature,
                                       state=subject.state, preview=preview)
    volatile["timings"] = timings
    return Authored(ModelCard(data, volatile), findings, timings=timings)


def _save(request: AuthorRequest, verify: Any) -> Any:
    kwargs = dict(input_example=(request.input_example, request.params) if request.params else request.input_example,
                  signature=request.signature, artifacts=request.artifacts, pip_requirements=request.pip_requirements,
                  extra_pip_requirements=request.extra_pip_requirements, conda_env=request.conda_env,
                  code_paths=request.code_paths, model_config=request.model_config, verify=verify)
    if request.path:
        from ..format.save import save_model

        return save_model(request.path, request.model, overwrite=request.overwrite, **kwargs)
    from ..store.folder import log_model

    return log_model(request.name or default_name(request.model), request.model, source=request.source,
                     new_version=request.new_version, **kwargs)


def author(request: AuthorRequest, progress: Callable[[str], None] | None = None) -> Authored:
    """Check, predict in memory, save (verified in a fresh process first), reload, and make the card.

    Raises ``PredictError`` when the model fails on its example; check errors come back as an
    unsaved ``Authored`` whose card lists them. Nothing is written unless every check passes.
    Python warnings raised on the way become warnings on the card instead of stderr noise.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        authored = _author(request, progress or (lambda stage: None))
    _add_warnings(authored, caught)
    return authored


_COVERED = {"params-unused": "no `params` parameter", "function-params": "no `params` parameter",
            "kwargs-params": "no `params` parameter", "uint64-columns": "uint64 values"}


def _about_the_model(record: warnings.WarningMessage) -> bool:
    """A warning our code or the user's code raised (not a library's deprecation notice, say)."""
    from .checks import library_file

    return str(record.filename).startswith(_PACKAGE) or not library_file(str(record.filename))


def _add_warnings(authored: Authored, caught: list) -> None:
    """Caught warnings about the model as card findings, once each, unless a check already says the same.

    Other warnings (a library's own, raised while it was first imported, say) are re-issued unchanged.
    """
    covered = {_COVERED[f.check] for f in authored.findings if f.check in _COVERED}
    seen: set[str] = set()
    for record in caught:
        if not _about_the_model(record):
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno, source=record.source)
            continue
        message = str(record.message)
        if message in seen or any(text in message for text in covered):
            continue
        seen.add(message)
        finding = Finding("python-warning", "warning", f"{record.category.__name__}: {message}",
                          "the message says what to change")
        authored.findings.append(finding)
        authored.card.data["checks"].append(finding.to_dict())
        authored.card.data["summary"]["warnings"] += 1


def _author(request: AuthorRequest, progress: Callable[[str], None]) -> Authored:
    from ..card.data import model_card_data
    from .fresh import FreshCheck
    from .preview import as_table, build_preview
    from ..card.modelcard import ModelCard

    if request.input_example is None:
        raise ModelSaveError("An input example is required: it is what the model is checked, previewed and "
                             "signed with. Give one (input_example=...).")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress("checking")
    sample, large = sample_large_example(request.input_example)
    if large is not None:  # a small sample stands in for a huge example everywhere below (the card says so)
        request = replace(request, input_example=sample)
    subject = Subject(request.model, request.input_example, request.params, request.signature, request.artifacts,
                      request.code_paths)
    findings = static_checks(subject) + ([large] if large is not None else [])
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
        findings += _fresh_findings(failure.result)
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
    findings += _mismatch(preview)
    timings["total"] = time.perf_counter() - started
    data, volatile = model_card_data(
        info.path, status=f"unchanged: same as v{info.version}" if info.unchanged else "saved",
        name=info.name or Path(info.path).name, version=info.version,
        uri=info.model_uri if info.version is not None else None, model=request.model,
        checks=[f.to_dict() for f in findings], preview=preview, state=subject.state,
        given_requirements=_given_sources(request), timings=timings)
    return Authored(ModelCard(data, volatile), findings, info, loaded, timings)


def _reload(path: str, outputs: list[dict], findings: list[Finding]) -> Any:
    """Load the saved model in this process and predict on its saved example (the preview's "reloaded")."""
    from ..format.example import split_example
    from ..store.loading import load_model
    from .preview import as_table
    from ..format.samplecopy import sample_copy

    try:
        loaded = load_model(path)
        data, params = split_example(sample_copy(loaded.input_example))  # loaded.input_example stays as saved
        outputs.append({"label": "reloaded", "table": as_table(loaded.predict(data, params))})
        return loaded
    except Exception as exc:  # noqa: BLE001 - shown on the card; the model is saved and still usable
        outputs.append({"label": "reloaded", "error": f"{type(exc).__name__}: {exc}"})
        findings.append(Finding("reload-failed", "warning", f"Reloading in this kernel failed: {type(exc).__name__}: "
                                f"{exc}", "see the error; the fresh-process check passed"))
        return None


def _mismatch(preview: dict) -> list[Finding]:
    """A warning when a reloaded prediction differs from the in-memory one."""
    mismatched = [o["label"] for o in preview["outputs"] if o["status"] == "mismatch"]
    if not mismatched:
        return []
    verb = "prediction differs" if len(mismatched) == 1 else "predictions differ"
    return [Finding("reload-mismatch", "warning",
                    f"The {' and '.join(mismatched)} {verb} from the in-memory one (cells marked in the preview).",
                    "make predict deterministic, or check what it reads besides its input and artifacts")]


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

    update_sidecar(built, card={"model": model_label(model), "state": state,
                                "checks": [f.to_dict() for f in findings], "preview": preview})


def _fresh_table(result: Any) -> dict:
    from .preview import json_table, unsendable_table

    return unsendable_table(result.unsendable) if result.unsendable else json_table(result.output)


def open_model(model_uri: Any) -> Authored:
    """Load a saved model and make its card, with a preview of its prediction on the saved example."""
    from ..format.example import split_example
    from ..format.samplecopy import sample_copy
    from ..store.loading import load_model
    from .preview import MAX_ROWS, as_table, build_preview
    from ..card.modelcard import model_card

    card = model_card(model_uri)
    model = load_model(model_uri)
    example = model.input_example
    if example is not None:
        data, params = split_example(example)
        try:  # on a copy: the preview's input table and model.input_example show the example as saved
            output = {"label": "loaded", "table": as_table(model.predict(*split_example(sample_copy(example))))}
        except Exception as exc:  # noqa: BLE001 - the card shows it; the model is still returned
            output = {"label": "loaded", "error": f"{type(exc).__name__}: {exc}"}
        saved = card.data.get("preview")  # what the model gave when it was saved, if the sidecar kept it
        if saved and saved["outputs"] and saved["outputs"][0].get("table"):
            earlier = [{"label": o["label"], **({"table": o["table"]} if o.get("table") else {"error": o.get("error")})}
                       for o in saved["outputs"] if o.get("table") or o.get("error")]
            if "table" in output:
                output["table"] = {**output["table"], "rows": output["table"]["rows"][:MAX_ROWS]}
            card.data["preview"] = build_preview(saved["input"], [*earlier, output])
        else:
            card.data["preview"] = build_preview(as_table(data, is_input=True), [output])
    return Authored(card, [], None, model)
