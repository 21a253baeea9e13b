"""Load a model directory and predict on its saved example in a fresh Python process.

The child runs ``python -P -m pyfunc_jupyter.authoring.fresh MODEL_DIR RESULT_FILE`` in an empty temporary
working directory: none of the caller's globals, modules or working directory reach it, as on a
serving machine. The result is JSON written to RESULT_FILE (the model may print to stdout).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FreshResult", "FreshCheck"]

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


class FreshCheck:
    """A fresh process started on a model directory; ``result()`` waits for it."""

    def __init__(self, model_dir: str | os.PathLike, timeout: float = _TIMEOUT) -> None:
        self._workdir = tempfile.TemporaryDirectory(prefix="pyfunc-fresh-")
        self._result_file = Path(self._workdir.name) / "result.json"
        self._timeout = timeout
        self._started = time.perf_counter()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONINSPECT")}
        env["PYTHONPATH"] = _package_parent() + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") \
            else _package_parent()
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-m", "pyfunc_jupyter.authoring.fresh", str(Path(model_dir).absolute()),
             str(self._result_file)],
            cwd=self._workdir.name, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)

    def result(self) -> FreshResult:
        """Wait for the process (up to the timeout) and read what it found."""
        try:
            _, stderr = self._process.communicate(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return self._done(FreshResult(False, stage="run", error_type="TimeoutError",
                                          message=f"no result after {self._timeout:.0f} s"))
        except BaseException:  # Ctrl-C (KeyboardInterrupt) or SIGTERM while waiting: the child goes too
            self.stop()
            self._workdir.cleanup()
            raise
        try:
            data = json.loads(self._result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = "\n".join((stderr or "").strip().splitlines()[-5:])
            return self._done(FreshResult(False, stage="start", error_type="ProcessError",
                                          message=f"exit code {self._process.returncode}: {tail or 'no output'}"))
        return self._done(FreshResult(**data))

    def stop(self) -> None:
        """Kill the child if it is still running and reap it (no zombie, no orphan left behind)."""
        if self._process.poll() is None:
            self._process.kill()
        try:
            self._process.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError, OSError):  # pragma: no cover - a child that ignores SIGKILL
            pass

    def _done(self, result: FreshResult) -> FreshResult:
        result.seconds = time.perf_counter() - self._started
        self._workdir.cleanup()
        return result


def _package_parent() -> str:
    """The directory holding ``pyfunc_jupyter``: the child imports this very copy of the package."""
    return str(Path(__file__).resolve().parent.parent)


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

        return {"ok": False, "stage": stage, "error_type": type(exc).__name__, "message": str(exc),
                "missing_module": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
                "traceback": "".join(traceback.format_exception(exc)[-6:])}


def main(argv: list[str]) -> int:
    """Entry point of the child process."""
    model_dir, result_file = argv
    result = _run(model_dir)
    Path(result_file).write_text(json.dumps(result, default=repr), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
