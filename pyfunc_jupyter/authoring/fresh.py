"""Load a model directory and predict on its saved example in a fresh Python process.

Each check runs in a process that has none of the caller's globals, modules or working directory,
as on a serving machine: its working directory is a new empty temporary one and its result is
JSON written to a file there (the model may print to stdout).

Starting an interpreter and importing pandas is most of a check's time (about 0.7 CPU-s), so one
interpreter is kept ready, the *server*: ``python -P -m pyfunc_jupyter.authoring.fresh --serve``,
started in its own empty directory with the caller's environment, imports what the loader imports
before it touches any model (our loader, cloudpickle, numpy, pandas, yaml: what MLflow's own
serving process has imported too) and never runs a model itself. For each check it forks a child
(on Linux), which takes the check's directory, runs the model and exits; the server reports the
child's pid and exit code on its stdout. Each child takes the caller's environment variables as
they are at the check. A check uses the server only while it is equivalent to a new one (same
interpreter, the same variables read at start-up, see ``_STARTUP_VARIABLES``, and no package
installed or removed since: the mtimes of the ``sys.path`` directories are unchanged); otherwise it
is replaced. Where forking is not safe (not Linux, or ``PYFUNC_JUPYTER_NO_FORK=1``) the server runs
one check itself and exits, and a new one is started for the next. The server exits when its stdin
closes (the kernel exited or died) or on SIGTERM/SIGHUP, removing its directory, ignores the
kernel's interrupts, and is killed at interpreter exit (``shutdown_spare``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FreshResult", "FreshCheck", "prestart_spare", "shutdown_spare", "wait_for_spare"]

_TIMEOUT = 300.0
_NO_FORK = "PYFUNC_JUPYTER_NO_FORK"


@dataclass
class FreshResult:
    """What the fresh process saw: the prediction (as JSON values) or the error and where it happened."""

    ok: bool
    output: Any = None
    stage: str | None = None
    error_type: str | None = None
    message: str | None = None
    missing_module: str | None = None
    unsendable: str | None = None
    traceback: str | None = None
    seconds: float = 0.0

    @property
    def error(self) -> str:
        """One line: the stage and the exception."""
        return f"{self.stage}: {self.error_type}: {self.message}"


def _child_env() -> dict[str, str]:
    """The environment of a child: ours, minus interactive start-up, with this package importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONINSPECT")}
    env["PYTHONPATH"] = (
        _package_parent() + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else _package_parent()
    )
    return env


# Variables read when an interpreter starts or when the server's modules are imported (Python's, the
# dynamic loader's, locale and time zone, the numeric libraries' thread and memory settings, and
# whether to fork): a change to one of them needs a new server. Every other variable is read at
# check time, so each check's child takes the caller's environment as it is then.
_STARTUP_VARIABLES = (
    "PYTHON",
    "LD_",
    "DYLD_",
    "LC_",
    "LANG",
    "TZ",
    "OMP_",
    "OPENBLAS_",
    "GOTO",
    "MKL_",
    "BLIS_",
    "VECLIB_",
    "KMP_",
    "NUMEXPR_",
    "NPY_",
    "NUMPY_",
    "PANDAS_",
    "MALLOC_",
    _NO_FORK,
)


def _startup_env(env: dict[str, str]) -> dict[str, str]:
    """The variables of ``env`` that a running server has already read (see ``_STARTUP_VARIABLES``)."""
    return {k: v for k, v in env.items() if k.startswith(_STARTUP_VARIABLES)}


def _installed_stamp() -> tuple:
    """What a package install or removal changes: the mtimes of the child's package directories.

    Those are the site-packages directories and ``$PYTHONPATH``; not the caller's working directory
    (``-P``: the child does not see it), which changes whenever the notebook is saved.
    """
    stamp: list[tuple[str, int | None]] = []
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    for entry in [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))] + extra:
        try:
            stamp.append((entry, os.stat(entry).st_mtime_ns))
        except OSError:
            stamp.append((entry, None))
    return tuple(stamp)


class _ServerGone(Exception):
    """The server's stdout closed: it exited or was killed."""


class _Server:
    """The kept-ready interpreter, seen from the caller: start, line protocol, equivalence, stop."""

    def __init__(self) -> None:
        self.workdir = tempfile.TemporaryDirectory(prefix="pyfunc-fresh-")
        self.log = Path(self.workdir.name) / "stderr.log"  # the server's and its children's stderr
        self.env = _child_env()
        self.executable = sys.executable
        self.stamp = _installed_stamp()
        with open(self.log, "ab") as log:  # append mode: truncating it between checks is safe
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-m", "pyfunc_jupyter.authoring.fresh", "--serve"],
                cwd=self.workdir.name,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                bufsize=0,
            )
        self.ready = False
        self._pending = b""

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the server has done its imports (it says "ready"); False on timeout or exit."""
        if not self.ready:
            with contextlib.suppress(_ServerGone):
                self.read(timeout)  # its first message
        return self.ready

    def still_equivalent(self) -> bool:
        """Whether a new server started now would be the same: alive, same interpreter, start-up env, installs."""
        return (
            self.process.poll() is None
            and self.executable == sys.executable
            and _startup_env(self.env) == _startup_env(_child_env())
            and self.stamp == _installed_stamp()
        )

    def send(self, request: dict[str, Any]) -> None:
        """Ask for a check (raises OSError if the server is gone)."""
        assert self.process.stdin is not None  # started with stdin=PIPE
        with contextlib.suppress(OSError):
            os.truncate(self.log, 0)  # only this check's stderr is shown if it fails
        data = memoryview((json.dumps(request) + "\n").encode())
        while data:  # a write to a pipe can be cut short by a signal
            data = data[self.process.stdin.write(data) or 0 :]

    def read(self, timeout: float) -> dict[str, Any] | None:
        """The server's next message, or None after ``timeout`` seconds; ``_ServerGone`` if it exited."""
        assert self.process.stdout is not None  # started with stdout=PIPE
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            readable, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                return None
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                raise _ServerGone
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        message = json.loads(line)
        self.ready = self.ready or message.get("ready", False)
        return message

    def stderr_tail(self, lines: int = 5) -> str:
        """The last lines the server and its last child wrote to stderr."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def exited(self, grace: float) -> int | None:
        """The server's exit code once it has exited by itself (waiting up to ``grace`` s), else None."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.process.wait(timeout=grace)
        return None

    def stop(self) -> None:
        """Kill the server (if running), reap it and remove its directory."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
            self.process.communicate(timeout=10)
        self.workdir.cleanup()


_spare: _Server | None = None
_spare_lock = threading.Lock()


def prestart_spare() -> None:
    """Start the server in the background if none is running (the magic calls it when loaded)."""
    global _spare
    if os.environ.get("PYFUNC_JUPYTER_NO_SPARE"):
        return
    with _spare_lock:
        if _spare is not None and _spare.process.poll() is None:
            return
        old, _spare = _spare, _Server()
    if old is not None:
        old.stop()


def _take_spare() -> _Server | None:
    """The server if it is still equivalent to a new one (a stale one is stopped)."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    if spare.still_equivalent():
        return spare
    spare.stop()
    return None


def _give_back(server: _Server) -> None:
    """Keep a server that can take another check as the spare (unless one was started meanwhile)."""
    global _spare
    keep = not os.environ.get("PYFUNC_JUPYTER_NO_SPARE") and server.still_equivalent()
    with _spare_lock:
        if keep and _spare is None:
            _spare = server
            return
    server.stop()


def wait_for_spare(timeout: float = 60.0) -> bool:
    """Wait until the server (if any) is ready; for benchmarks and tests, a user's pause between cells."""
    with _spare_lock:
        spare = _spare
    return spare is not None and spare.wait_ready(timeout)


def shutdown_spare() -> None:
    """Stop the server, if any (registered with ``atexit``)."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None:
        spare.stop()


atexit.register(shutdown_spare)


class FreshCheck:
    """A fresh process started on a model directory; ``result()`` waits for it."""

    def __init__(self, model_dir: str | os.PathLike, timeout: float = _TIMEOUT) -> None:
        self._timeout = timeout
        self._started = time.perf_counter()
        self._workdir = tempfile.TemporaryDirectory(prefix="pyfunc-fresh-")
        self._result_file = Path(self._workdir.name) / "result.json"
        self._pid: int | None = None
        self._exit: int | None = None
        self._more = False  # whether the server takes another check after this one
        request = {"model": str(Path(model_dir).absolute()), "dir": self._workdir.name, "env": _child_env()}
        server = _take_spare()
        self.used_spare = server is not None
        if server is not None:
            try:
                server.send(request)
            except OSError:  # it died just now: start a new one
                server.stop()
                server, self.used_spare = None, False
        if server is None:
            server = _Server()
            server.send(request)
        self._server = server

    def result(self) -> FreshResult:
        """Wait for the process (up to the timeout) and read what it found; then ready the next server."""
        try:
            return self._result()
        finally:
            self._workdir.cleanup()
            if self._exit is not None and self._more:
                _give_back(self._server)
            else:
                if self._exit is not None:  # a one-check server: it is exiting by itself
                    self._server.exited(10)
                self._server.stop()
            prestart_spare()

    def _result(self) -> FreshResult:
        try:
            if not self._await_exit(self._timeout):
                self.stop()
                return self._done(
                    FreshResult(
                        False, stage="run", error_type="TimeoutError", message=f"no result after {self._timeout:.0f} s"
                    )
                )
        except _ServerGone:
            return self._done(self._start_failed(self._server.exited(10)))
        except BaseException:  # Ctrl-C (KeyboardInterrupt) or SIGTERM while waiting: the child goes too
            self.stop()
            raise
        try:
            data = json.loads(self._result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self._done(self._start_failed(self._exit))
        return self._done(FreshResult(**data))

    def _await_exit(self, timeout: float) -> bool:
        """Read the server's messages until the child's exit code (True) or ``timeout`` seconds (False)."""
        deadline = time.monotonic() + timeout
        while self._exit is None:
            message = self._server.read(deadline - time.monotonic())
            if message is None:
                return False
            self._pid = message.get("pid", self._pid)
            self._exit = message.get("exit", self._exit)
            self._more = message.get("more", self._more)
        return True

    def _start_failed(self, code: int | None) -> FreshResult:
        tail = self._server.stderr_tail()
        return FreshResult(
            False, stage="start", error_type="ProcessError", message=f"exit code {code}: {tail or 'no output'}"
        )

    def stop(self) -> None:
        """Kill the child if it is still running and wait until the server has reaped it (else stop the server)."""
        if self._pid is not None and self._exit is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(_ServerGone):
                self._await_exit(10.0)
        if self._exit is None:  # no child yet, or the server does not answer: it goes too
            self._server.stop()

    def _done(self, result: FreshResult) -> FreshResult:
        result.seconds = time.perf_counter() - self._started
        return result


def _package_parent() -> str:
    """The directory holding ``pyfunc_jupyter``: the child imports this very copy of the package."""
    return str(Path(__file__).resolve().parents[2])


def _run(model_dir: str) -> dict[str, Any]:
    stage = "load"
    try:
        from pyfunc_jupyter.format.example import prediction_to_json, split_example
        from pyfunc_jupyter.format.load import load_model_dir as load_model

        model = load_model(model_dir, suppress_warnings=True)
        stage = "example"
        example = model.input_example
        if example is None:
            return {"ok": True, "output": None}
        data, params = split_example(example)
        stage = "predict"
        output = model.predict(data, params)
        try:
            return {"ok": True, "output": prediction_to_json(output)["predictions"]}
        except TypeError:  # reported by the caller's own output check; only the type is compared
            from pyfunc_jupyter.authoring.preview import type_name

            return {"ok": True, "unsendable": type_name(output)}
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        import traceback

        return {
            "ok": False,
            "stage": stage,
            "error_type": type(exc).__name__,
            "message": str(exc),
            "missing_module": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
            "traceback": "".join(traceback.format_exception(exc)[-6:]),
        }


class _Stopped(Exception):
    """The server got SIGTERM or SIGHUP (its kernel's process group was signalled)."""


def _stopped(signum: int, frame: Any) -> None:
    raise _Stopped(signum)


def _say(fd: int, **message: Any) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def _serve() -> None:
    """Server mode: import what the loader imports, then run each requested check in a child of its own.

    Returns when the caller is gone or stopped it: its stdin closed, its stdout broken, or the
    kernel's shutdown signal reached the kernel's whole process group; the server's empty directory
    (its working directory) is removed then. An interrupt (Stop in JupyterLab, sent to that group
    too) is the kernel's and the running check's, not the server's.
    """
    protocol = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)  # what a model prints goes nowhere; the messages have their own descriptor
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stopped)
    fork = sys.platform.startswith("linux") and not os.environ.get(_NO_FORK)
    try:
        _import_the_loader()
        _say(protocol, ready=True)
        while line := sys.stdin.readline():
            request = json.loads(line)
            if not fork:  # this process is the check: one only
                _say(protocol, pid=os.getpid())
                _say(protocol, exit=_check(request, null, forked=False), more=False)
                return
            pid = _fork()
            if pid == 0:
                os.close(protocol)  # the caller sees the server's end, never a child's
                os._exit(_check(request, null, forked=True))
            _say(protocol, pid=pid)
            _, status = os.waitpid(pid, 0)
            _say(protocol, exit=os.waitstatus_to_exitcode(status), more=True)
    except (_Stopped, BrokenPipeError):
        pass
    shutil.rmtree(os.getcwd(), ignore_errors=True)  # the caller is gone: nobody else removes it


def _import_the_loader() -> None:
    import importlib

    # every model is a cloudpickle pickle; the loader reads examples as frames (MLflow's server has
    # these imported too); a missing one is imported (and reported) by the check itself
    for module in (
        "ctypes",
        "cloudpickle",
        "numpy",
        "pandas",
        "yaml",
        "pyfunc_jupyter.format.example",
        "pyfunc_jupyter.format.load",
        "pyfunc_jupyter.format.mlmodel",
    ):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def _fork() -> int:
    import warnings

    with warnings.catch_warnings():  # numpy's BLAS threads wait idle; the child runs on one thread
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def _check(request: dict[str, Any], null: int, *, forked: bool) -> int:
    """Run one check here (a forked child, or the one-check server): write its result file; the exit code."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a check stops as a new process's would
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    try:
        if forked:
            _die_with_the_server()
        os.dup2(null, 0)
        os.environ.clear()  # the caller's variables as they are now (those read at start-up are the same)
        os.environ.update(request["env"])
        os.chdir(request["dir"])
        numpy = sys.modules.get("numpy")
        if numpy is not None:  # its global generator was seeded in the server: a new process seeds its own
            numpy.random.seed()
        result = _run(request["model"])
        Path(request["dir"], "result.json").write_text(json.dumps(result, default=repr), encoding="utf-8")
        return 0
    except BaseException:  # noqa: BLE001 - the caller reports the exit code and stderr's tail
        import traceback

        traceback.print_exc()
        return 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()


def _die_with_the_server() -> None:
    """A forked child is killed if the server is (a caller that gives up on a server kills only it)."""
    import ctypes

    server = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != server:  # it died before that took effect
        os._exit(1)


def main(argv: list[str]) -> int:
    """Entry point of the server process."""
    if argv != ["--serve"]:
        print("usage: python -P -m pyfunc_jupyter.authoring.fresh --serve", file=sys.stderr)
        return 2
    _serve()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)  # skip tearing down pandas & co. (~0.1 s the caller would wait)
