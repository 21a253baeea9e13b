"""Interop tests run our side as on a machine without MLflow: ``import mlflow`` fails in this process.

The test interpreter has MLflow's client (``mlflow-skinny``, for the tracking-server store tests), so
each interop test blocks it here (``sys.modules["mlflow"] = None``, what Python does for a module
that cannot be imported) and puts back whatever was imported before. MLflow itself runs only in the
``.venv-mlflow`` subprocesses.
"""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def mlflow_absent():
    """``import mlflow`` (and ``importlib.util.find_spec("mlflow")``) behave as if MLflow were not installed."""
    saved = {name: module for name, module in sys.modules.items() if name == "mlflow" or name.startswith("mlflow.")}
    for name in saved:
        del sys.modules[name]
    sys.modules["mlflow"] = None
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n == "mlflow" or n.startswith("mlflow.")]:
            del sys.modules[name]
        sys.modules.update(saved)
