"""Exception classes raised by pyfunc-jupyter; each message names the problem and the fix."""

from __future__ import annotations

__all__ = [
    "PyfuncError",
    "ModelSaveError",
    "UnpicklableModelError",
    "ModelStorageError",
    "RequirementInferenceError",
    "ModelLoadError",
    "MLmodelError",
    "SchemaEnforcementError",
    "RemoteStoreError",
    "RegistryError",
    "TypeHintError",
]


class PyfuncError(Exception):
    """Base class of every error pyfunc-jupyter raises on purpose."""


class ModelSaveError(PyfuncError, ValueError):
    """A model could not be saved; nothing was written at the target."""


class UnpicklableModelError(ModelSaveError):
    """Some state of the model cannot be pickled; ``attribute_path`` says where."""

    def __init__(self, message: str, attribute_path: str = "model") -> None:
        super().__init__(message)
        self.attribute_path = attribute_path


class ModelStorageError(ModelSaveError):
    """The file system refused a write (disk full, read-only, no permission...); ``errno`` says which."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class RequirementInferenceError(ModelSaveError):
    """Requirements could not be inferred from a sample inference."""


class ModelLoadError(PyfuncError):
    """A model directory or URI could not be loaded."""


class MLmodelError(ModelLoadError):
    """The ``MLmodel`` file is malformed; ``path`` and ``key`` say where."""

    def __init__(self, path: str, key: str | None, problem: str) -> None:
        where = f"{path}" + (f", key {key!r}" if key else "")
        super().__init__(f"Malformed MLmodel file {where}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


class RemoteStoreError(PyfuncError):
    """The store is an MLflow tracking server that cannot be used: MLflow's client is not installed, the
    server is down or refused the request; the message names the server. Nothing was registered."""


class RegistryError(PyfuncError, ValueError):
    """A registry operation (description, tag, alias, deleting a version) named no such model, version,
    tag or alias, or got an unusable value; nothing was changed."""


class SchemaEnforcementError(PyfuncError, ValueError):
    """The input or the params of a predict call do not fit the model's signature."""


class TypeHintError(SchemaEnforcementError):
    """The model input does not fit the type hint of ``predict``, or the hint itself is invalid."""
