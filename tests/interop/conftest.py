"""Interop tests run our side as on a machine without MLflow: ``import mlflow`` fails in this process.

The test interpreter has MLflow's client (``mlflow-skinny``, for the tracking-server store tests), so
each interop test blocks it here (``sys.modules["mlflow"] = None``, what Python does for a module
that cannot be imported) and puts back whatever was imported before. MLflow itself runs only in the
``.venv-mlflow`` subprocesses.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _interop_without_mlflow(mlflow_absent):
    """Every interop module, its module-scoped fixtures included, runs with ``import mlflow`` failing."""
    yield
