"""``save_model``: write a model directory in MLflow's pyfunc format, atomically."""

from __future__ import annotations

import copy
import datetime as _dt
import errno
import inspect
import os
import platform
import shutil
import stat
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelSaveError
from . import atomic as _atomic
from .mlmodel import CODE_MODEL_LOADER, PYFUNC_LOADER, write_mlmodel

__all__ = [
    "save_model",
    "ModelInfo",
    "build_model",
    "model_info",
    "planned_signature",
    "overrides",
    "load_context_problem",
    "read_model_config",
    "in_memory_model",
]

_PICKLE = "python_model.pkl"


@dataclass
class ModelInfo:
    """What a save or log produced (the fields MLflow's ``ModelInfo`` has, plus our own)."""

    model_uri: str
    path: str
    flavors: dict
    model_uuid: str
    utc_time_created: str
    signature: Any = None
    saved_input_example_info: dict | None = None
    metadata: dict | None = None
    run_id: str | None = None
    name: str | None = None
    version: int | None = None
    artifact_path: str | None = None
    model_size_bytes: int = 0
    requirements: list = field(default_factory=list)
    example_output: Any = field(default=None, repr=False)
    unchanged: bool = False  # log_model found the latest version identical and returned it (no new version)
    tracking_uri: str | None = None  # the MLflow tracking server it was registered in (None: a folder)

    @property
    def registered_model_version(self) -> int | None:
        """The store version, as MLflow's registered model version."""
        return self.version

    @property
    def model_id(self) -> str:
        """MLflow 3's id of a logged model; here the model UUID."""
        return self.model_uuid


def _kind_of(python_model: Any) -> tuple[Any, bool]:
    """Validate ``python_model``; return (object to pickle, streamable)."""
    from .._base import _FunctionPythonModel

    if isinstance(python_model, type):
        raise ModelSaveError(
            f"python_model is the class {python_model.__name__}, not an instance. "
            f"Pass {python_model.__name__}() (with its __init__ arguments)."
        )
    if callable(getattr(python_model, "predict", None)) and not inspect.isroutine(python_model):
        _check_load_context(python_model)
        return python_model, overrides(type(python_model), "predict_stream")
    if callable(python_model):
        try:
            parameters = inspect.signature(python_model).parameters
        except (TypeError, ValueError):
            parameters = None
        if parameters is not None and len(parameters) != 1:
            raise ModelSaveError(
                f"A function model must accept exactly one argument (the model input); "
                f"{getattr(python_model, '__name__', python_model)} takes {len(parameters)}. "
                "Wrap it in a PythonModel class to use more."
            )
        return _FunctionPythonModel(python_model), False
    raise ModelSaveError(
        f"python_model must be a PythonModel instance (with a predict method), a function "
        f"of one argument, or the path of a .py file that ends with set_model(...); got "
        f"{type(python_model).__name__}."
    )


def load_context_problem(python_model: Any) -> str | None:
    """Why ``python_model.load_context`` cannot be called as ``load_context(context=...)`` (MLflow's way), or None."""
    load_context = getattr(python_model, "load_context", None)
    if not callable(load_context):
        return None
    try:
        parameters = inspect.signature(load_context).parameters
    except (TypeError, ValueError):
        return None  # a builtin or C method: nothing to read, MLflow would try it as well
    if "context" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return None
    return (
        f"{type(python_model).__name__}.load_context{inspect.signature(load_context)} cannot be called as "
        "load_context(context=...), which is how MLflow calls it."
    )


def _check_load_context(python_model: Any) -> None:
    problem = load_context_problem(python_model)
    if problem:
        raise ModelSaveError(f"{problem} Define it as load_context(self, context).")


def overrides(cls: type, method: str) -> bool:
    """Whether ``cls`` defines ``method`` itself rather than inheriting it from ``PythonModel`` (ours or MLflow's)."""
    for klass in cls.__mro__:
        if method in vars(klass):
            return not (
                klass.__name__ == "PythonModel" and klass.__module__.split(".")[0] in ("pyfunc_jupyter", "mlflow")
            )
    return False


def _local_source(uri: str, what: str) -> Path:
    from .load import local_path

    if not isinstance(uri, (str, os.PathLike)):
        raise ModelSaveError(f"{what} {uri!r} must be a path (a string or a pathlib.Path).")
    _atomic.check_path_text(uri, what)
    if not os.fspath(uri).strip():
        raise ModelSaveError(
            f"{what} is an empty path. Name the file or folder to ship (an empty path "
            "would mean the whole working directory)."
        )
    path = local_path(uri)
    if path is None:
        raise ModelSaveError(
            f"{what} {uri!r} is a remote URI; only local files are supported. "
            "Download it first and pass the local path."
        )
    if not path.exists():
        raise ModelSaveError(
            f"{what} {uri!r} does not exist. Check the path (relative paths are relative to {os.getcwd()})."
        )
    return path


def _checked_source(uri: Any, what: str, into: Path) -> Path:
    """The absolute source path of an artifact or code path, refused if it cannot be shipped safely.

    ``into`` is the folder the model is being written into: a source holding it would copy itself.
    """
    path = Path(os.path.abspath(_local_source(uri, what)))  # '..' and '.' get their real folder name
    if path.parent == path:
        raise ModelSaveError(f"{what} {uri!r} is the root of the file system. Name the file or folder to ship.")
    real, inside = os.path.realpath(path), os.path.realpath(into)
    if os.path.commonpath([real, inside]) == real:
        raise ModelSaveError(
            f"{what} {uri!r} ({path}) holds the folder the model is saved into ({into}), so it "
            "would be copied into itself. Ship a folder beside the model instead."
        )
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ModelSaveError(
            f"{what} {uri!r} cannot be read ({exc.strerror}). Fix the path or its permissions."
        ) from exc
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ModelSaveError(
            f"{what} {uri!r} is a special file (a FIFO, socket or device), which cannot "
            "be copied into a model. Ship a regular file or folder."
        )
    if stat.S_ISDIR(mode):
        _check_tree(path, what, uri)
    return path


_SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc")


def _check_tree(root: Path, what: str, uri: Any) -> None:
    """Refuse special files, and symlinks that dangle, loop, are absolute or lead outside ``root``."""
    real_root = os.path.realpath(root)

    def fail(exc: OSError) -> None:
        raise ModelSaveError(
            f"{what} {uri!r}: cannot read {exc.filename} ({exc.strerror}). Fix its permissions or leave it out."
        ) from exc

    for folder, dirs, files in os.walk(root, onerror=fail):
        skipped = _SKIPPED(folder, dirs + files)
        dirs[:] = [d for d in dirs if d not in skipped]
        for name in dirs + [f for f in files if f not in skipped]:
            entry = os.path.join(folder, name)
            mode = os.lstat(entry).st_mode
            if stat.S_ISLNK(mode):
                link = os.readlink(entry)
                try:
                    resolved = os.path.realpath(entry, strict=True)
                except OSError as exc:
                    problem = "is part of a symlink loop" if exc.errno == errno.ELOOP else f"dangles (-> {link})"
                    raise ModelSaveError(
                        f"{what} {uri!r}: the symbolic link {entry} {problem}. Remove or fix the link."
                    ) from exc
                spelled = os.path.normpath(os.path.join(os.path.relpath(folder, root), link))  # as the copy reads it
                if (
                    os.path.isabs(link)
                    or spelled == ".."
                    or spelled.startswith("../")
                    or os.path.commonpath([real_root, resolved]) != real_root
                ):
                    raise ModelSaveError(
                        f"{what} {uri!r}: the symbolic link {entry} -> {link} is absolute or leads outside "
                        f"{root}, so it would not work (or would leak a file) in the saved model. Links are "
                        "copied as links, so they must be relative and stay inside the folder: copy the "
                        "file in instead."
                    )
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ModelSaveError(
                    f"{what} {uri!r}: {entry} is a special file (a FIFO, socket or device), "
                    "which cannot be copied into a model. Remove it or ship another folder."
                )


def _plan_artifacts(artifacts: dict | None, into: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (source, relative POSIX destination, uri as given); basename collisions get a folder."""
    plan: dict[str, tuple[Path, str, str]] = {}
    used: set[str] = set()
    for name, uri in (artifacts or {}).items():
        if not isinstance(name, str) or not name:
            raise ModelSaveError(f"Artifact names must be non-empty strings; got {name!r}.")
        source = _checked_source(uri, f"Artifact {name!r}:", into)
        relative = f"artifacts/{source.name}"
        counter = 1
        while relative in used:
            relative = f"artifacts/{counter}/{source.name}"
            counter += 1
        used.add(relative)
        plan[name] = (source, relative, os.fspath(uri))
    return plan


def _plan_code(code_paths: list | None, into: Path) -> list[Path]:
    sources = [_checked_source(p, "Code path", into) for p in (code_paths or [])]
    names = [s.name for s in sources]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ModelSaveError(
            f"Code paths {clashes} share a name and would overwrite each other under code/. "
            "Rename one of them or ship their common parent directory."
        )
    return sources


_NO_COPY_FILE_RANGE = {
    errno.EXDEV,
    errno.EINVAL,
    errno.ENOSYS,
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.EBADF,
    errno.EPERM,
}


def _copy_file(source: Path, destination: Path) -> None:
    """Copy one file in the kernel, as ``cp`` does (``copy_file_range``; may share extents)."""
    if not hasattr(os, "copy_file_range"):
        shutil.copyfile(source, destination)
        return
    with open(source, "rb") as src, open(destination, "wb") as dst:
        remaining = os.fstat(src.fileno()).st_size
        try:
            while remaining > 0:
                copied = os.copy_file_range(src.fileno(), dst.fileno(), min(remaining, 1 << 30))
                if copied == 0:
                    break
                remaining -= copied
        except OSError as exc:  # not supported between these filesystems: fall back to a plain copy
            if exc.errno not in _NO_COPY_FILE_RANGE:
                raise  # disk full, I/O error...: a plain copy would fail the same way
            src.seek(0)
            dst.seek(0)
            dst.truncate()
            shutil.copyfileobj(src, dst, 1 << 20)
            return
    if remaining > 0:
        shutil.copyfile(source, destination)


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(
            source,
            destination,
            symlinks=True,
            ignore=_SKIPPED,  # links were checked: relative, inside
            copy_function=lambda s, d: _copy_file(Path(s), Path(d)),
        )
    else:
        _copy_file(source, destination)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _code_source(python_model: Any, into: Path) -> Path:
    """The checked ``.py`` file of a model from code (``python_model="model.py"``)."""
    path = _checked_source(python_model, "python_model (a model code file)", into)
    if not path.is_file():
        raise ModelSaveError(
            f"python_model {os.fspath(python_model)!r} is a folder; a model from code is one Python "
            "file that ends with set_model(<the model>). Name that file."
        )
    if path.suffix != ".py":
        raise ModelSaveError(
            f"python_model {os.fspath(python_model)!r} is a path but not a .py file. Pass the "
            "model object, or a Python file that ends with set_model(<the model>)."
        )
    return path


def read_model_config(model_config: Any) -> dict | None:
    """``model_config`` as ``load_context`` gets it: a dict as given, or the mapping a YAML file path holds."""
    if model_config is None or isinstance(model_config, dict):
        return model_config
    path = _local_source(model_config, "model_config file")
    import yaml

    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ModelSaveError(f"model_config file {path} must hold a mapping of keys to values.")
    return loaded


@dataclass
class _Built:
    mlmodel: dict
    requirements: list
    example_output: Any
    signature: Any


def _sample_inference(
    staging: Path,
    flavor: dict,
    pickle_bytes: bytes | None,
    data: Any,
    params: Any,
    signature: Any,
    has_example: bool,
    capture: bool,
    from_hint: bool,
):
    """Unpickle a copy, ``load_context`` and predict on the example, as a fresh load would."""
    from .load import LoadedModel, load_python_model
    from .trial import TrialPredictError, trial_predict

    recorder = None
    if capture:
        from ..environment.requirements import ImportRecorder

        recorder = ImportRecorder()
    with recorder if recorder is not None else nullcontext():
        try:
            python_model, context, code = load_python_model(
                staging, flavor, str(staging / "MLmodel"), recorder=recorder, pickle_bytes=pickle_bytes
            )
        except Exception as exc:
            raise ModelSaveError(
                f"Loading a copy of the model failed ({type(exc).__name__}: {exc}); the saved "
                "model would not load either. Nothing was saved."
            ) from exc
        output = None
        if has_example:
            if recorder is not None:
                recorder.phase = "predict"
            loaded = LoadedModel.in_memory(python_model, context, signature, from_hint, staging, flavor, code)
            try:
                output = trial_predict(loaded, data, params)  # on copies: the caller's stay as they are
            except TrialPredictError as failed:
                cause = failed.original
                if failed.stage == "input":
                    raise ModelSaveError(
                        f"The input example does not fit the signature ({cause}). Make the "
                        "example match the signature, or leave signature= out to infer it "
                        "from the example; nothing was saved."
                    ) from cause
                raise ModelSaveError(
                    f"predict failed on the input example ({type(cause).__name__}: {cause}). "
                    "Fix predict or the example; nothing was saved."
                ) from cause
    return output, recorder


def _own_signature(signature: Any):
    """Our ``ModelSignature`` for ours or MLflow's (read through MLflow's MLmodel form)."""
    from .schema import ModelSignature

    if signature is None or isinstance(signature, ModelSignature):
        return signature
    if callable(getattr(signature, "to_dict", None)):
        try:
            return ModelSignature.from_dict(signature.to_dict())
        except (TypeError, ValueError) as exc:
            raise ModelSaveError(f"The signature cannot be read ({exc}).") from exc
    raise ModelSaveError(f"signature must be a ModelSignature (from infer_signature); got {type(signature).__name__}.")


def planned_signature(model: Any, signature: Any, data: Any, params: Any, has_example: bool) -> tuple[Any, bool]:
    """(the signature predict is checked against before outputs are known, whether predict's type hints give it)."""
    from .infer import hint_signature

    signature = _own_signature(signature)
    hints = getattr(model, "predict_type_hints", None)
    from_hints = hint_signature(model, getattr(hints, "input", None), getattr(hints, "output", None), params)
    if from_hints is not None:  # MLflow 3: the hints give the signature, over a given one or the example
        if signature is not None and signature != from_hints:
            import warnings

            warnings.warn(
                "The given signature differs from the one the type hints of predict give; the type "
                f"hints' signature is used ({from_hints.summary()}). Leave signature= out, or make "
                "it match the hints.",
                UserWarning,
                stacklevel=4,
            )
        return from_hints, True
    return _signature_for(signature, data, params, has_example), False


def in_memory_model(
    python_model: Any,
    data: Any,
    params: Any = None,
    *,
    signature: Any = None,
    artifacts: dict | None = None,
    model_config: Any = None,
) -> Any:
    """The model as loading its saved directory would give it, without saving it: a ``LoadedModel``.

    A function is wrapped as a save wraps it; ``load_context`` runs on a shallow copy (its state stays
    off the caller's object) with the given artifacts (as absolute local paths) and config; the
    signature is the one a save checks the example against (given, from predict's type hints, or
    inferred from ``data`` and ``params``). ``format.trial.trial_predict`` then predicts with it.
    A failing ``load_context`` raises ``TrialPredictError("load_context", ...)``.
    """
    from .._base import PythonModelContext
    from .load import LoadedModel, local_path
    from .trial import TrialPredictError

    model, _ = _kind_of(python_model)
    paths = {k: str((local_path(v) or Path(v)).absolute()) for k, v in (artifacts or {}).items()}
    context = PythonModelContext(artifacts=paths, model_config=read_model_config(model_config))
    if overrides(type(model), "load_context"):
        model = copy.copy(model)  # load_context's state stays off the user's object, as it does when saving
        try:
            model.load_context(context=context)
        except Exception as exc:
            raise TrialPredictError("load_context", exc) from exc
    signature, from_hint = planned_signature(model, signature, data, params, True)
    return LoadedModel.in_memory(model, context, signature, from_hint, Path.cwd())


def _signature_for(signature: Any, data: Any, params: Any, has_example: bool):
    """The input/params part of the signature: given, or inferred from the example."""
    from .schema import ModelSignature

    if signature is not None or not has_example:
        return signature
    from .infer import infer_param_schema, infer_schema

    return ModelSignature(inputs=infer_schema(data), params=infer_param_schema(params) if params else None)


def _with_outputs(signature: Any, output: Any, inferred: bool):
    if not inferred or signature is None:
        return signature
    import warnings

    from .infer import infer_schema, output_for_signature
    from .schema import ColSpec, ModelSignature, Schema
    from .types import AnyType

    try:
        outputs = infer_schema(output_for_signature(output, signature.inputs), "output")
    except Exception as exc:  # noqa: BLE001 - an odd output must not stop the save
        warnings.warn(
            f"Could not infer an output schema from the prediction ({exc}); the output is recorded as type 'any'.",
            UserWarning,
            stacklevel=4,
        )
        outputs = Schema([ColSpec(AnyType())])  # as MLflow does
    return ModelSignature(inputs=signature.inputs, outputs=outputs, params=signature.params)


def _write_payload(
    staging: Path,
    model: Any,
    artifact_plan: dict,
    code_sources: list[Path],
    input_example: Any,
    code_file: Path | None = None,
) -> tuple[bytes | None, dict | None]:
    """Write the pickle (or the model's code file), artifacts, code and example files.

    Returns the pickle (None for a model from code) and the example info.
    """
    from .pickling import dump_model

    if code_file is not None:
        pickle_bytes = None
        _copy_file(code_file, staging / code_file.name)
    else:
        pickle_bytes = dump_model(model)
        (staging / _PICKLE).write_bytes(pickle_bytes)
    for source, relative, _ in artifact_plan.values():
        _copy(source, staging / relative)
    for source in code_sources:
        _copy(source, staging / "code" / source.name)
    if input_example is None:
        return pickle_bytes, None
    from .example import save_input_example

    return pickle_bytes, save_input_example(input_example, staging)


def _flavor(
    streamable: bool, artifact_plan: dict, code_sources: list[Path], config: dict | None, code_file: Path | None = None
) -> dict:
    """The ``python_function`` flavor (``env`` is added once the env files are written).

    A model from code gets MLflow's code-model loader and ``model_code_path`` (the file name only:
    MLflow records the writer's absolute path but loads by file name) instead of a pickle.
    """
    import cloudpickle

    flavor: dict[str, Any] = {
        "cloudpickle_version": cloudpickle.__version__,
        "code": "code" if code_sources else None,
        "loader_module": PYFUNC_LOADER,
        "python_model": _PICKLE,
        "python_version": platform.python_version(),
        "streamable": streamable,
    }
    if code_file is not None:
        del flavor["python_model"]
        flavor["loader_module"] = CODE_MODEL_LOADER
        flavor["model_code_path"] = code_file.name
    if artifact_plan:
        flavor["artifacts"] = {name: {"path": rel, "uri": uri} for name, (_, rel, uri) in artifact_plan.items()}
    if config is not None:
        flavor["config"] = config
    return flavor


def _mlmodel(
    flavor: dict,
    size: int,
    signature: Any,
    from_hint: bool,
    example_info: dict | None,
    metadata: dict | None,
    sidecar: dict | None,
    extra: dict | None,
) -> dict[str, Any]:
    """The MLmodel content, keys as MLflow writes them; our extras under ``metadata``."""
    from .._version import __version__
    from ..environment.envfiles import installed_version

    mlmodel: dict[str, Any] = {
        "flavors": {"python_function": flavor},
        "model_id": None,
        "model_size_bytes": size,
        "model_uuid": uuid.uuid4().hex,
        "prompts": None,
        "utc_time_created": _dt.datetime.now(_dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    mlflow_version = installed_version("mlflow")
    if mlflow_version:
        mlmodel["mlflow_version"] = mlflow_version
    if signature is not None:
        mlmodel["signature"] = signature.to_dict()
        mlmodel["is_signature_from_type_hint"] = from_hint
        mlmodel["type_hint_from_example"] = False
    if example_info:
        mlmodel["saved_input_example_info"] = example_info
    ours = {"version": __version__, **{k: v for k, v in (sidecar or {}).items() if k in ("name", "source")}}
    mlmodel["metadata"] = {**(metadata or {}), "pyfunc_jupyter": ours}
    mlmodel.update(extra or {})
    return mlmodel


def build_model(
    staging: Path,
    python_model: Any,
    *,
    artifacts=None,
    input_example=None,
    signature=None,
    pip_requirements=None,
    extra_pip_requirements=None,
    conda_env=None,
    code_paths=None,
    model_config=None,
    metadata=None,
    extra_mlmodel: dict | None = None,
    sidecar: dict | None = None,
    verify: Callable[[Path], None] | None = None,
) -> _Built:
    """Write a complete model directory into the (empty) ``staging`` directory.

    ``verify``, when given, is called with the finished directory; an exception from it stops the
    save before anything is published.
    """
    from .._base import _FunctionPythonModel
    from ..environment.envfiles import process_requirements, write_env_files
    from .sidecar import write_sidecar

    # 1. check every argument before anything is written
    code_file = None
    if isinstance(python_model, (str, os.PathLike)):  # a model from code: run the file to get the object
        from .codemodel import load_code_model

        code_file = _code_source(python_model, staging.parent)
        python_model = load_code_model(code_file, read_model_config(model_config), error=ModelSaveError)
    model, streamable = _kind_of(python_model)
    has_example = input_example is not None
    is_function = isinstance(model, _FunctionPythonModel) and model is not python_model
    if is_function and not (has_example or pip_requirements or extra_pip_requirements):  # as MLflow, hints or not
        raise ModelSaveError(
            "A function model needs an input_example (or pip_requirements) so that its "
            "signature and requirements can be worked out. Pass input_example=<sample input>."
        )
    process_requirements(
        pip_requirements=pip_requirements, extra_pip_requirements=extra_pip_requirements, conda_env=conda_env
    )
    artifact_plan = _plan_artifacts(artifacts, staging.parent)
    code_sources = _plan_code(code_paths, staging.parent)
    config = read_model_config(model_config)
    data, params = None, None
    if has_example:
        from .example import split_example

        data, params = split_example(input_example)
    inferred_signature = signature is None and has_example
    signature, from_hint = planned_signature(model, signature, data, params, has_example)
    inferred_signature = inferred_signature and not from_hint  # the hints give the outputs too

    # 2. write the payload, then learn outputs and requirements from one sample inference on a copy
    pickle_bytes, example_info = _write_payload(staging, model, artifact_plan, code_sources, input_example, code_file)
    flavor = _flavor(streamable, artifact_plan, code_sources, config, code_file)
    capture = pip_requirements is None and conda_env is None
    output, recorder = None, None
    if capture or has_example:  # explicit requirements and no example: nothing to learn from a run
        output, recorder = _sample_inference(
            staging, flavor, pickle_bytes, data, params, signature, has_example, capture, from_hint
        )
    signature = _with_outputs(signature, output, inferred_signature)
    result = None
    if recorder is not None:
        from ..environment.requirements import resolve_requirements
        from .codemodel import real_mlflow_available

        uses = recorder.uses
        if code_file is not None and not real_mlflow_available():  # `import mlflow` got our stand-in
            uses = [use for use in uses if use.name != "mlflow"]
        result = resolve_requirements(uses, pickled=code_file is None)

    # 3. the environment files, MLmodel and our sidecar
    env_spec = process_requirements(
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
        inferred=result.pins() if result else None,
    )
    size = sum(_size(staging / p) for p in os.listdir(staging))
    flavor["env"] = write_env_files(staging, env_spec)
    mlmodel = _mlmodel(flavor, size, signature, from_hint, example_info, metadata, sidecar, extra_mlmodel)
    write_mlmodel(staging, mlmodel)
    requirements = result.requirements if result else []
    write_sidecar(
        staging,
        {
            "created": mlmodel["utc_time_created"],
            "signature_summary": signature.summary() if signature is not None else None,
            "requirements": [r.to_dict() for r in requirements],
            "local_modules": list(result.local_modules) if result else [],
            "notes": list(result.notes) if result else [],
            "size_bytes": size,
            **(sidecar or {}),
        },
    )
    if verify is not None:
        verify(staging)
    return _Built(mlmodel, requirements, output, signature)


def model_info(built: _Built, path: Path, model_uri: str, **extra: Any) -> ModelInfo:
    """The ``ModelInfo`` of a built and published model."""
    m = built.mlmodel
    return ModelInfo(
        model_uri=model_uri,
        path=str(path),
        flavors=m["flavors"],
        model_uuid=m["model_uuid"],
        utc_time_created=m["utc_time_created"],
        signature=built.signature,
        saved_input_example_info=m.get("saved_input_example_info"),
        metadata=m.get("metadata"),
        run_id=m.get("run_id"),
        model_size_bytes=m["model_size_bytes"],
        requirements=built.requirements,
        example_output=built.example_output,
        **extra,
    )


def save_model(
    path: str | os.PathLike,
    python_model: Any = None,
    *,
    artifacts: dict | None = None,
    input_example: Any = None,
    signature: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    conda_env: Any = None,
    code_paths: list | None = None,
    model_config: Any = None,
    metadata: dict | None = None,
    overwrite: bool = False,
    verify: Callable[[Path], None] | None = None,
) -> ModelInfo:
    """Save ``python_model`` to the directory ``path`` in MLflow's pyfunc format.

    ``python_model`` is the model object, or the path of a ``.py`` file that ends with
    ``set_model(<the model>)`` (a model from code: the file is saved instead of a pickle).

    The directory is built beside ``path`` and renamed into place, so a failed or killed save
    leaves nothing at ``path``; ``overwrite=True`` replaces an existing model atomically.
    ``verify(built_dir)`` (ours, not MLflow's) runs before that rename; if it raises, nothing is saved.
    """
    if python_model is None:
        raise ModelSaveError(
            "save_model needs python_model=<a PythonModel instance, a one-argument function, or "
            "the path of a .py file that ends with set_model(...)>."
        )
    _atomic.check_path_text(path, "The model path")
    target = Path(os.path.abspath(os.path.expanduser(path)))  # '.' and '..' become the folders they name
    _check_name_length(target)
    _atomic.check_target(target, overwrite)
    with _atomic.staging(target.parent) as staging:
        built = build_model(
            staging,
            python_model,
            artifacts=artifacts,
            input_example=input_example,
            signature=signature,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
            code_paths=code_paths,
            model_config=model_config,
            metadata=metadata,
            verify=verify,
        )
        _atomic.publish(staging, target, overwrite)
    return model_info(built, target, str(target))


def _check_name_length(target: Path) -> None:
    """Refuse a folder name longer than the file system allows, before anything is written."""
    probe = target.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        limit = os.pathconf(probe, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    size = len(os.fsencode(target.name))
    if size > limit:
        raise ModelSaveError(
            f"Cannot save the model to {target}: its name is {size} bytes long and this file "
            f"system allows at most {limit}. Choose a shorter name."
        )
