"""``mlflow.models``-shaped namespace: signatures, their inference, ``set_model``/``ModelConfig`` (code models)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import __getattr__ as _lazy

if TYPE_CHECKING:  # for linters and type checkers; at runtime the names resolve lazily below
    from .format.codemodel import ModelConfig, set_model
    from .format.infer import infer_signature
    from .format.schema import ModelSignature

__all__ = ["infer_signature", "ModelSignature", "set_model", "ModelConfig"]


def __getattr__(name: str):
    if name in __all__:
        return _lazy(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
