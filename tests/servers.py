"""A real MLflow tracking server on a free loopback port, for the tests (as a fixture) and the benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "tracking_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def tracking_server(mlflow_cli: Path, root: Path, timeout: float = 300) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 (sqlite backend in ``root``, served artifacts); yields its URI.

    Ready when ``/health`` answers; stopped by its process id (its own process group: the server and its
    workers). A server that exits or does not answer in ``timeout`` seconds is a ``RuntimeError`` with its log.
    """
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTHON"))}
    # No background job runners: MLflow 3 starts several (GenAI evaluation, trace upkeep) that double
    # the start's CPU and keep a quarter of a core busy while idle; the registry does not use them.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    log_path = root / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(mlflow_cli),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{root / 'mlflow.db'}",
                "--artifacts-destination",
                str(root / "artifacts"),
            ],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout  # a cold start on a busy 2-core machine takes about a minute
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"mlflow server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}"
                    )
                try:
                    with urllib.request.urlopen(f"{uri}/health", timeout=5) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mlflow server at {uri} did not answer /health in {timeout:.0f} s:\n"
                        f"{log_path.read_text()[-3000:]}"
                    )
                time.sleep(0.5)
            yield uri
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
