"""The ready ("spare") fresh interpreter: used when equivalent to a new one, replaced after each use, never leaked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from pyfunc_jupyter import PythonModel, save_model
from pyfunc_jupyter.authoring import fresh as _fresh


class Doubler(PythonModel):
    def predict(self, context, model_input):
        return 2 * model_input["x"]


class Probe(PythonModel):
    """Reports what the process it runs in looks like."""

    def predict(self, context, model_input):
        import os
        import sys

        return pd.DataFrame(
            {
                "cwd_files": [",".join(sorted(os.listdir(".")))],
                "notebook_module": ["spare_test_marker" in sys.modules],
                "env": [os.environ.get("SPARE_TEST_FLAG", "")],
            }
        )


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "doubler"
    save_model(path, Doubler(), input_example=pd.DataFrame({"x": [1.0, 2.0]}))
    return path


@pytest.fixture(autouse=True)
def no_spare_left():
    _fresh.shutdown_spare()
    yield
    _fresh.shutdown_spare()


def _spare_pids() -> list[int]:
    """Our children that are spares, from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
            if ppid == os.getpid() and b"--wait" in cmdline and b"pyfunc_jupyter.authoring.fresh" in cmdline:
                pids.append(int(entry.name))
    return pids


def _spares_settled(count: int, seconds: float = 30) -> list[int]:
    """The spare pids once there are ``count`` of them (a new spare is started in the background)."""
    deadline = time.monotonic() + seconds
    pids = _spare_pids()
    while len(pids) != count and time.monotonic() < deadline:
        time.sleep(0.05)
        pids = _spare_pids()
    return pids


def _wait_ready() -> None:
    """Let the spare finish its imports (it waits on stdin afterwards)."""
    assert _fresh.wait_for_spare(120)


def test_a_check_uses_the_spare_and_leaves_exactly_one_new_one(model):
    cold = _fresh.FreshCheck(model)
    assert not cold.used_spare
    first = cold.result()
    assert _spares_settled(1) == [_fresh._spare.process.pid]  # started after the use
    _wait_ready()
    warm = _fresh.FreshCheck(model)
    assert warm.used_spare
    second = warm.result()
    assert first.ok and second.ok and first.output == second.output == [2.0, 4.0]
    assert len(_spares_settled(1)) == 1


def test_the_spare_is_as_clean_as_a_new_process(tmp_path, monkeypatch):
    import types

    monkeypatch.setitem(sys.modules, "spare_test_marker", types.ModuleType("spare_test_marker"))  # the notebook's
    path = tmp_path / "probe"
    save_model(path, Probe(), input_example=pd.DataFrame({"x": [1.0]}))
    _fresh.prestart_spare()
    _wait_ready()
    check = _fresh.FreshCheck(path)
    result = check.result()
    _fresh.shutdown_spare()
    cold = _fresh.FreshCheck(path)
    assert check.used_spare and not cold.used_spare
    assert result.ok and result.output == cold.result().output
    assert result.output == [{"cwd_files": "", "notebook_module": False, "env": ""}]


def test_a_stale_spare_is_replaced(model, tmp_path, monkeypatch):
    _fresh.prestart_spare()
    _wait_ready()
    monkeypatch.setenv("SPARE_TEST_FLAG", "set after the spare started")
    check = _fresh.FreshCheck(model)
    assert not check.used_spare and check.result().ok
    _wait_ready()
    site = tmp_path / "lib" / "site-packages"
    site.mkdir(parents=True)
    monkeypatch.syspath_prepend(str(site))
    _fresh.shutdown_spare()
    _fresh.prestart_spare()
    _wait_ready()
    (site / "newly_installed.py").write_text("")  # a package installed meanwhile
    check = _fresh.FreshCheck(model)
    assert not check.used_spare and check.result().ok
    assert len(_spares_settled(1)) == 1


def test_a_dead_spare_is_not_used(model):
    _fresh.prestart_spare()
    _fresh._spare.process.kill()
    _fresh._spare.process.wait()
    check = _fresh.FreshCheck(model)
    assert not check.used_spare and check.result().ok


def test_shutdown_kills_and_reaps_the_spare():
    _fresh.prestart_spare()
    process = _fresh._spare.process
    workdir = Path(_fresh._spare.workdir.name)
    _fresh.shutdown_spare()
    assert process.poll() is not None and not workdir.exists() and _spare_pids() == []


def _gone(pid: int) -> bool:
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:"))
    except (OSError, StopIteration):
        return True
    return "Z" in state.split()[1]


@pytest.mark.parametrize("ending", ["sys.exit(0)", "os._exit(0)"])  # a clean exit (atexit) and a killed kernel
@pytest.mark.parametrize("moment", ["importing", "ready"])  # the spare still importing, or waiting for a model
def test_the_spare_ends_with_its_parent(ending, moment):
    wait = "_fresh.wait_for_spare(120)" if moment == "ready" else "pass"
    code = textwrap.dedent(f"""
        import os, sys
        from pyfunc_jupyter.authoring import fresh as _fresh
        _fresh.prestart_spare()
        print(_fresh._spare.process.pid, _fresh._spare.workdir.name, flush=True)
        {wait}
        {ending}
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    pid, workdir = run.stdout.split()
    deadline = time.monotonic() + 30
    while not (_gone(int(pid)) and not Path(workdir).exists()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(int(pid))
    assert not Path(workdir).exists(), "a killed kernel's spare left its working directory behind"


def test_a_waiting_spare_outlives_an_interrupt_and_cleans_up_on_sigterm(model):
    """The kernel's process group gets Stop's SIGINT and the shutdown's SIGTERM: the spare stays ready
    through the first and, on the second, exits and removes its working directory."""
    import signal

    _fresh.prestart_spare()
    _wait_ready()
    spare = _fresh._spare
    workdir = Path(spare.workdir.name)
    os.kill(spare.process.pid, signal.SIGINT)
    time.sleep(0.5)
    check = _fresh.FreshCheck(model)
    assert check.used_spare and check.result().ok
    _wait_ready()
    spare, workdir = _fresh._spare, Path(_fresh._spare.workdir.name)
    os.kill(spare.process.pid, signal.SIGTERM)
    assert spare.process.wait(timeout=30) == 0
    assert not workdir.exists()


def test_files_written_in_the_working_directory_do_not_make_the_spare_stale(model, tmp_path, monkeypatch):
    """The child never sees the caller's directory (-P, its own cwd): saving a notebook there changes nothing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend("")
    _fresh.prestart_spare()
    _wait_ready()
    (tmp_path / "notebook.ipynb").write_text("{}")
    spare = _fresh._spare
    assert spare is not None
    # why a spare would not be used (shown if it is not: this failed once, in a loaded full run)
    env = _fresh._child_env()
    state = {
        "exit code": spare.process.poll(),
        "changed environment": sorted(k for k in spare.env.keys() | env.keys() if spare.env.get(k) != env.get(k)),
        "same installs": spare.stamp == _fresh._installed_stamp(),
    }
    check = _fresh.FreshCheck(model)
    assert check.used_spare, state
    assert check.result().ok


def test_the_spare_can_be_turned_off(model, monkeypatch):
    monkeypatch.setenv("PYFUNC_JUPYTER_NO_SPARE", "1")
    check = _fresh.FreshCheck(model)
    assert check.result().ok and not check.used_spare and _fresh._spare is None and _spare_pids() == []
