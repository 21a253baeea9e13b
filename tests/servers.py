"""A real MLflow tracking server on a free loopback port, for the tests (as a fixture) and the benchmarks."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

__all__ = ["free_port", "on_a_free_port", "stop_group", "tracking_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def on_a_free_port(start: Callable[[int], T], tries: int = 3) -> T:
    """``start(port)`` on a free port; on another one while it raises ``ChildProcessError`` (``tries`` in all).

    Another program may take the port between ``free_port()`` and the server binding it: the server
    then exits before it answers, and ``start`` stops it and raises ``ChildProcessError``.
    """
    for _ in range(tries - 1):
        with contextlib.suppress(ChildProcessError):
            return start(free_port())
    return start(free_port())


def stop_group(process: subprocess.Popen) -> None:
    """End a server started with ``start_new_session=True``: its process group (the server and its workers), reaped."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _wait_healthy(process: subprocess.Popen, uri: str, log_path: Path, timeout: float) -> None:
    """Return when ``/health`` answers 200; ``ChildProcessError`` if the server exits first."""
    deadline = time.monotonic() + timeout  # a cold start on a busy 2-core machine takes about a minute
    while True:
        if process.poll() is not None:
            raise ChildProcessError(f"mlflow server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (OSError, http.client.HTTPException):  # not listening yet, or another program on the port
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"mlflow server at {uri} did not answer /health in {timeout:.0f} s:\n{log_path.read_text()[-3000:]}"
            )
        time.sleep(0.5)


@contextlib.contextmanager
def tracking_server(mlflow_cli: Path, root: Path, timeout: float = 300) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 (sqlite backend in ``root``, served artifacts); yields its URI.

    Ready when ``/health`` answers; stopped by its process id (its own process group: the server and its
    workers). A server that exits before it answers is started again on another port (``on_a_free_port``);
    one that still exits, or does not answer in ``timeout`` seconds, is a ``RuntimeError`` with its log.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTHON"))}
    # No background job runners: MLflow 3 starts several (GenAI evaluation, trace upkeep) that double
    # the start's CPU and keep a quarter of a core busy while idle; the registry does not use them.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    log_path = root / "server.log"

    def start(port: int) -> tuple[subprocess.Popen, str]:
        uri = f"http://127.0.0.1:{port}"
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
            _wait_healthy(process, uri, log_path, timeout)
        except BaseException:
            stop_group(process)
            raise
        return process, uri

    try:
        process, uri = on_a_free_port(start)
    except ChildProcessError as exited:
        raise RuntimeError(str(exited)) from None
    try:
        yield uri
    finally:
        stop_group(process)
