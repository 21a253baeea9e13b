"""The on-disk format: reading and writing a model directory (MLmodel, pickle, signature, example)."""

__all__ = [
    "types",
    "schema",
    "infer",
    "enforce",
    "example",
    "mlmodel",
    "pickling",
    "mlflow_compat",
    "codepaths",
    "atomic",
    "save",
    "load",
]
