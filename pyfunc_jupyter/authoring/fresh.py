"""Load a model directory and predict on its saved example in a fresh Python process.

The child runs ``python -P -m pyfunc_jupyter.authoring.fresh MODEL_DIR RESULT_FILE`` in an empty temporary
working directory: none of the caller's globals, modules or working directory reach it, as on a
serving machine. The result is JSON written to RESULT_FILE (the model may print to stdout).

Starting an interpreter and importing pandas is most of a check's time, so one child is kept ready:
a *spare* started the same way (``--wait``) that imports what the loader imports before it touches
any model (our loader, cloudpickle, numpy, pandas: what MLflow's own serving process has imported
too) and then waits for a model directory on its stdin. A check takes the spare if it is still
equivalent to a new child (same interpreter, environment variables, and no package installed or
removed since: the mtimes of the ``sys.path`` directories are unchanged), else starts a new child as
before; after each check a new spare is started in the background. The spare exits when its stdin
closes (the kernel exited or died), removing its working directory, and is killed at interpreter exit
(``shutdown_spare``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
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


class _Child:
    """One child process in its own empty working directory."""

    def __init__(self, argv_tail: list[str], wait: bool) -> None:
        self.workdir = tempfile.TemporaryDirectory(prefix="pyfunc-fresh-")
        self.result_file = Path(self.workdir.name) / "result.json"
        self.env = _child_env()
        self.executable = sys.executable
        self.stamp = _installed_stamp()
        args = ["--wait", str(self.result_file)] if wait else [*argv_tail, str(self.result_file)]
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "pyfunc_jupyter.authoring.fresh", *args],
            cwd=self.workdir.name,
            env=self.env,
            stdin=subprocess.PIPE if wait else subprocess.DEVNULL,
            stdout=subprocess.PIPE if wait else subprocess.DEVNULL,  # a spare says "ready" there
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ready = not wait

    def wait_ready(self, timeout: float) -> bool:
        """Wait until a spare has done its imports (it prints a line then); False on timeout or exit."""
        if not self.ready and self.process.stdout is not None:
            import select

            readable, _, _ = select.select([self.process.stdout], [], [], timeout)
            self.ready = bool(readable) and self.process.stdout.readline() == "ready\n"
        return self.ready

    def still_equivalent(self) -> bool:
        """Whether a new child started now would be the same: alive, same interpreter, env and installs."""
        return (
            self.process.poll() is None
            and self.executable == sys.executable
            and self.env == _child_env()
            and self.stamp == _installed_stamp()
        )

    def stop(self) -> None:
        """Kill the child (if running), reap it and remove its directory."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
            self.process.communicate(timeout=10)
        self.workdir.cleanup()


_spare: _Child | None = None
_spare_lock = threading.Lock()


def prestart_spare() -> None:
    """Start a spare child in the background if none is ready (the magic calls it when loaded)."""
    global _spare
    if os.environ.get("PYFUNC_JUPYTER_NO_SPARE"):
        return
    with _spare_lock:
        if _spare is not None and _spare.process.poll() is None:
            return
        old, _spare = _spare, _Child([], wait=True)
    if old is not None:
        old.stop()


def _take_spare() -> _Child | None:
    """The ready spare if it is still equivalent to a new child (a stale one is stopped)."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    if spare.still_equivalent():
        return spare
    spare.stop()
    return None


def wait_for_spare(timeout: float = 60.0) -> bool:
    """Wait until the spare (if any) is ready; for benchmarks and tests, a user's pause between cells."""
    with _spare_lock:
        spare = _spare
    return spare is not None and spare.wait_ready(timeout)


def shutdown_spare() -> None:
    """Stop the spare child, if any (registered with ``atexit``)."""
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
        model = str(Path(model_dir).absolute())
        child = _take_spare()
        self.used_spare = child is not None
        if child is not None:
            try:
                stdin = child.process.stdin
                assert stdin is not None  # spares start with stdin=PIPE
                stdin.write(model + "\n")
                stdin.close()
                child.process.stdin = None  # closed: communicate() must not flush it
            except OSError:  # it died just now: start a new one as before
                child.stop()
                child, self.used_spare = None, False
        self._child = child or _Child([model], wait=False)
        self._workdir, self._result_file, self._process = (
            self._child.workdir,
            self._child.result_file,
            self._child.process,
        )

    def result(self) -> FreshResult:
        """Wait for the process (up to the timeout) and read what it found; then ready the next spare."""
        try:
            return self._result()
        finally:
            prestart_spare()

    def _result(self) -> FreshResult:
        try:
            _, stderr = self._process.communicate(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return self._done(
                FreshResult(
                    False, stage="run", error_type="TimeoutError", message=f"no result after {self._timeout:.0f} s"
                )
            )
        except BaseException:  # Ctrl-C (KeyboardInterrupt) or SIGTERM while waiting: the child goes too
            self.stop()
            self._workdir.cleanup()
            raise
        try:
            data = json.loads(self._result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = "\n".join((stderr or "").strip().splitlines()[-5:])
            return self._done(
                FreshResult(
                    False,
                    stage="start",
                    error_type="ProcessError",
                    message=f"exit code {self._process.returncode}: {tail or 'no output'}",
                )
            )
        return self._done(FreshResult(**data))

    def stop(self) -> None:
        """Kill the child if it is still running and reap it (no zombie, no orphan left behind)."""
        if self._process.poll() is None:
            self._process.kill()
        # a child that ignores SIGKILL
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):  # pragma: no cover
            self._process.communicate(timeout=10)

    def _done(self, result: FreshResult) -> FreshResult:
        result.seconds = time.perf_counter() - self._started
        self._workdir.cleanup()
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
    """A waiting spare got SIGTERM or SIGHUP (its kernel's process group was signalled)."""


def _stopped(signum: int, frame: Any) -> None:
    raise _Stopped(signum)


def _wait_for_model() -> str | None:
    """Spare mode: import what the loader imports before any model, then read the model directory.

    None when the parent is gone or stopped it: its stdin closed, its stdout broken, or the kernel's
    shutdown signal reached the kernel's whole process group. An interrupt (Stop in JupyterLab, sent
    to that group too) is the kernel's, not the spare's: it stays ready for the next check.
    """
    import signal

    handlers = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGTERM, signal.SIGHUP)}
    handlers[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return _imports_then_read()
    except _Stopped:
        return None
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)  # a model run is stopped as a new child's would be


def _imports_then_read() -> str | None:
    import importlib

    # every model is a cloudpickle pickle; the loader reads examples as frames (MLflow's server has
    # these imported too); a missing one is imported (and reported) by the check itself, as before
    for module in (
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

    try:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
    except OSError:  # a broken pipe: the parent is gone already
        return None
    line = sys.stdin.readline()  # EOF: the parent is gone or stopped us
    return line.rstrip("\n") or None


def main(argv: list[str]) -> int:
    """Entry point of the child process."""
    if argv[0] == "--wait":
        result_file = argv[1]
        model_dir = _wait_for_model()
        if model_dir is None:  # the parent is gone: nobody else removes the empty working directory
            shutil.rmtree(Path(result_file).parent, ignore_errors=True)
            return 0
    else:
        model_dir, result_file = argv
    result = _run(model_dir)
    Path(result_file).write_text(json.dumps(result, default=repr), encoding="utf-8")
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)  # the result is written: skip tearing down pandas & co. (~0.1 s the caller would wait)
