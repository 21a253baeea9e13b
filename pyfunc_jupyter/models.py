"""``mlflow.models``-shaped namespace: signatures and their inference, ``set_model`` and ``ModelConfig`` for models from code."""

from __future__ import annotations

from . import __getattr__ as _lazy

__all__ = ["infer_signature", "ModelSignature", "set_model", "ModelConfig"]


def __getattr__(name: str):
    if name in __all__:
        return _lazy(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
