"""Fixtures for real-browser tests: Debian's chromium and a JupyterLab server on loopback.

``chromium``
    The launched browser (Python Playwright driving ``/usr/bin/chromium``; Playwright's own
    browser download is never used). Missing chromium fails the test when ``CI`` is set (so
    ``.ci/run`` never skips these tests) and skips it elsewhere.

``lab``
    A ``LabServer``: JupyterLab started as a subprocess of this venv on ``127.0.0.1`` with a free
    port and a token, ``root_dir`` an empty temporary folder, isolated config/data/runtime/
    settings folders (news toast off, extension manager read-only), and one kernelspec,
    ``python3``, that runs this interpreter. Its helpers open notebooks and drive them through
    ``window.jupyterapp`` (the server runs with ``expose_app_in_browser``); autosave is off, so
    files change only when a test saves them; ``page_errors``/``console_errors`` collect what the
    pages reported. All test modules here share this one server and its root (and so the
    ``models/`` store at the root): give notebooks and models names of your own.

``start_lab(browser, base, root=..., kernels=False)``
    A second server, e.g. one with no kernel at all and its own trust database, to open a
    notebook the way someone who received it would (untrusted, no kernel).

Both fixtures are package-scoped: Playwright's sync API allows one running instance per thread,
and every browser test lives in this package and shares it.

Typical use::

    def test_something(lab):
        lab.write_notebook("demo.ipynb", ["1 + 1"])
        page = lab.open("demo.ipynb")          # a new page, the notebook open, its kernel idle
        lab.run_all(page)
        lab.screenshot(page, "demo")           # tests/artifacts/demo.png
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
VIEWPORT = {"width": 1400, "height": 900}
USER_SETTINGS = {
    # The "get notified about Jupyter news?" toast appears even with news_url=None.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Files change only when a test saves them.
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}
# Milliseconds: a cold kernel start plus a fresh-process model check can take a while on 2 cores.
TIMEOUT = 60_000


@pytest.fixture(scope="package")
def chromium():
    """Headless Debian chromium, launched once for the browser tests."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (./dev test does)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class LabServer:
    """A running JupyterLab server and helpers to drive it from a browser."""

    url: str
    token: str
    root_dir: Path
    log_path: Path
    browser: Any
    process: subprocess.Popen | None = None
    pages: list = field(default_factory=list)
    #: The browser context every page of this server opens in: its HTTP cache and compiled-script
    #: cache make each JupyterLab page after the first start without fetching and compiling again.
    context: Any = None
    opened: int = 0
    #: Uncaught exceptions and console errors of every page opened through this object.
    page_errors: list = field(default_factory=list)
    console_errors: list = field(default_factory=list)

    # -- the server -------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the server's REST API (``path`` like ``/api/sessions``); returns the parsed JSON or None."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def shutdown_kernels(self) -> None:
        """Shut down every session and kernel on the server."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log(self) -> str:
        """The server's output so far (for failure messages)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- files ------------------------------------------------------------------------------

    def write_notebook(self, relative: str, cells: list[str]) -> Path:
        """Write a notebook of code cells, not run, into the root (kernelspec ``python3``)."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        path = self.root_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        return path

    # -- pages ------------------------------------------------------------------------------

    def new_page(self, path: str = "", *, app_ready: bool = True, workspace: str | None = None):
        """A new page on ``/lab`` (or ``/lab/tree/<path>``), waiting until the app has started.

        With ``workspace``, the page uses that named workspace instead of the default one, so it
        does not reopen what earlier pages left open.
        """
        if self.context is None:
            self.context = self.browser.new_context(viewport=VIEWPORT)
        page = self.context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on(
            "console", lambda message: self.console_errors.append(message.text) if message.type == "error" else None
        )
        self.pages.append(page)
        lab = f"{self.url}/lab/workspaces/{workspace}" if workspace else f"{self.url}/lab"
        target = f"{lab}/tree/{path}" if path else lab
        page.goto(f"{target}?token={self.token}", wait_until="domcontentloaded")
        if app_ready:
            page.wait_for_function("() => !!window.jupyterapp")
            page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
        return page

    def open(self, path: str, *, kernel: bool = True):
        """A new page with notebook ``path`` open and shown; with ``kernel``, waits for it to be idle.

        The page has a workspace of its own (named for ``path`` and numbered): the default one would
        reopen the notebooks earlier tests left open, whose widgets' comms are gone, and log their
        errors here; and JupyterLab moves a page whose workspace another open page uses to a new one.
        """
        self.opened += 1
        page = self.new_page(path, workspace=re.sub(r"[^A-Za-z0-9_-]", "-", f"{path}-{self.opened}"))
        self.wait_notebook(page, path)
        if kernel:
            self.wait_kernel_idle(page)
        return page

    def wait_notebook(self, page, path: str) -> None:
        """Wait until ``path`` is the current widget, loaded and drawn."""
        page.wait_for_function(
            """path => {
                const w = window.jupyterapp.shell.currentWidget;
                return !!(w && w.context && w.context.path === path && w.context.isReady
                          && w.content && w.content.widgets.length > 0 && w.isVisible);
            }""",
            arg=path,
        )

    def wait_kernel_idle(self, page) -> None:
        """Wait until the current notebook's kernel is connected and idle."""
        page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const kernel = w && w.sessionContext && w.sessionContext.session
                    && w.sessionContext.session.kernel;
                return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
            }"""
        )

    def command(self, page, command: str, args: dict | None = None) -> Any:
        """Execute a JupyterLab command and wait for it to finish; returns its JSON-able result."""
        return page.evaluate(
            """async ([command, args]) => {
                const result = await window.jupyterapp.commands.execute(command, args || {});
                try { return JSON.parse(JSON.stringify(result ?? null)); } catch { return null; }
            }""",
            [command, args],
        )

    def run_all(self, page) -> None:
        """Run every cell of the current notebook and wait until each code cell has run."""
        self.command(page, "notebook:run-all-cells")
        self.wait_cells_done(page)

    def wait_cells_done(self, page) -> None:
        """Wait until every code cell of the current notebook has an execution count and the kernel is idle."""
        page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
                const cells = w.content.widgets.filter(c => c.model.type === 'code');
                return kernel && kernel.status === 'idle'
                    && cells.every(c => c.model.executionCount !== null
                                        && !(c.promptNode && c.promptNode.textContent.includes('*')));
            }"""
        )

    def save(self, page) -> None:
        """Save the current document and wait until it is clean."""
        self.command(page, "docmanager:save")
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget; return w.context.model.dirty === false; }"
        )

    def screenshot(self, page, name: str) -> Path:
        """Keep a screenshot of the page as ``tests/artifacts/<name>.png``."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    def close_pages(self, keep: tuple = ()) -> None:
        """Close every page opened through this object, except those in ``keep``."""
        for page in self.pages:
            if page not in keep and not page.is_closed():
                page.close()
        self.pages[:] = [page for page in self.pages if page in keep]


def _write_isolated_dirs(base: Path, python: str) -> dict[str, str]:
    """Config, data, runtime and IPython folders of our own; a ``python3`` kernelspec running ``python``."""
    dirs = {name: base / name for name in ("config", "data", "runtime", "ipython", "path")}
    for path in dirs.values():
        path.mkdir(parents=True)
    kernel_dir = dirs["path"] / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [python, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": KERNELSPEC["display_name"],
                "language": "python",
                "metadata": {"debugger": False},
            }
        )
    )
    return {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),  # no user config
        "JUPYTER_DATA_DIR": str(dirs["data"]),  # no user extensions; a fresh trust database
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "IPYTHONDIR": str(dirs["ipython"]),  # no user startup files in kernels
        "JUPYTER_PATH": str(dirs["path"]),  # searched first: our python3 kernelspec wins
    }


#: The servers started by ``start_lab`` that are still running.
RUNNING: list[LabServer] = []


@contextlib.contextmanager
def start_lab(browser, base: Path, *, root: Path | None = None, kernels: bool = True):
    """Start JupyterLab on a free loopback port; yields a ``LabServer``, stops it on exit.

    ``base`` is an empty folder for the server's own files; ``root`` (default ``base/root``) is the
    Jupyter root. With ``kernels=False`` the server offers no kernel at all, as on a machine where
    a notebook is only read. Each server has its own trust database, so a notebook saved through
    another server opens untrusted here.
    """
    root = root or base / "root"
    settings = base / "settings"
    root.mkdir(parents=True, exist_ok=True)
    for plugin, values in USER_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYFUNC_JUPYTER_STORE", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PREFER_ENV_PATH")
    }
    env.update(_write_isolated_dirs(base / "jupyter", sys.executable))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"

    port, token = free_port(), secrets.token_hex(16)
    log_path = base / "server.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.extension_manager=readonly",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    if not kernels:
        command += [
            "--KernelSpecManager.ensure_native_kernel=False",
            "--KernelSpecManager.allowed_kernelspecs=no-kernel-here",
        ]
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root_dir=root, log_path=log_path, browser=browser)
    with open(log_path, "w") as log:
        server.process = subprocess.Popen(command, cwd=str(root), env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.process.returncode}:\n{server.log()}")
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer on {server.url} within 90 s:\n{server.log()}")
                time.sleep(0.25)
        RUNNING.append(server)
        yield server
    finally:
        if server in RUNNING:
            RUNNING.remove(server)
        server.close_pages()
        if server.context is not None:
            server.context.close()
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / f"jupyterlab-{base.name}.log")  # kept beside the screenshots


@pytest.fixture(scope="package")
def lab(chromium, tmp_path_factory):
    """A JupyterLab server of this venv on 127.0.0.1, its root an empty temporary folder."""
    with start_lab(chromium, tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(autouse=True)
def close_the_tests_pages():
    """Close the pages a test opened when it ends: an open JupyterLab keeps polling its server.

    Pages opened before the test (by module fixtures) stay open for the tests that share them.
    """
    before = {id(server): tuple(server.pages) for server in RUNNING}
    yield
    for server in RUNNING:
        server.close_pages(keep=before.get(id(server), ()))


@pytest.fixture
def no_errors_in_pages(lab):
    """The test leaves no uncaught exception and no console error in its pages."""
    yield
    errors = lab.page_errors + lab.console_errors
    lab.page_errors.clear()
    lab.console_errors.clear()
    assert not errors, errors
