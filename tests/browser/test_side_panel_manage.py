"""The Models side panel beyond listing: no notebook open, stores of open notebooks, managing
versions through cells that call the API, card tabs after a reload (issue 14: 3, 7, 9, 10)."""

from __future__ import annotations

import re
import shutil
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from .test_lab_extension import CARD, _open_panel, _refresh_panel

ITEM = ".jp-PyfuncModelsPanel"
CELLS = [
    "%load_ext pyfunc_jupyter",
    "import pandas as pd\nfrom pyfunc_jupyter import PythonModel",
    """%%pyfunc_model managed --example "pd.DataFrame({'x': [1.0, 2.0]})"
class Managed(PythonModel):
    def predict(self, context, model_input):
        return 2 * model_input["x"]""",
]


@pytest.fixture(scope="module")
def linear(lab):
    """``manage.ipynb`` run and saved: model ``managed`` v1 in the root's store (named ``linear``
    to read like the other modules' tests)."""
    lab.write_notebook("manage.ipynb", CELLS)
    page = lab.open("manage.ipynb")
    lab.run_all(page)
    lab.save(page)
    page.close()
    yield SimpleNamespace(path="manage.ipynb", store=lab.root_dir / "models")
    shutil.rmtree(lab.root_dir / "models" / "managed", ignore_errors=True)


pytestmark = pytest.mark.usefixtures("no_errors_in_pages")


def test_insert_load_cell_needs_an_open_notebook(lab, linear):
    page = lab.new_page(workspace="no-notebook")  # nothing open
    try:
        panel = _open_panel(page)
        row = panel.locator("[data-uri='models:/managed/1']")
        insert = row.locator(f"{ITEM}-insert")
        expect(insert).to_be_disabled()
        expect(insert).to_have_attribute("title", re.compile("open a notebook first"))
        expect(row.locator(f"{ITEM}-manage")).to_be_disabled()
        # the command itself says why, in the panel, instead of failing in the console
        page.evaluate("""() => window.jupyterapp.commands.execute('pyfunc-jupyter:insert-load-cell',
            {uri: 'models:/managed/1'}).catch(e => { window.__insertError = e.message; })""")
        assert page.evaluate("() => window.__insertError").startswith("Open a notebook first")
        # a notebook opened: the buttons work
        lab.write_notebook("other.ipynb", ["1 + 1"])
        lab.command(page, "docmanager:open", {"path": "other.ipynb"})
        lab.wait_notebook(page, "other.ipynb")
        expect(insert).to_be_enabled()
        insert.click()
        expect(page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-InputArea-editor")).to_have_text(
            "%pyfunc_load models:/managed/1 --as managed_v1"
        )
    finally:
        page.close()


def test_side_panel_follows_the_store_of_the_open_notebook(lab, linear):
    scratch = lab.root_dir / "scratch"
    shutil.copytree(linear.store / "managed" / "1", scratch / "models" / "scratch_model" / "1")
    lab.write_notebook("scratch/nb.ipynb", ["1 + 1"])
    page = lab.new_page("scratch/nb.ipynb", workspace="scratch")  # a workspace of its own: scratch/ goes
    lab.wait_notebook(page, "scratch/nb.ipynb")
    try:
        panel = _open_panel(page)
        status = panel.locator(f"{ITEM}-status")
        expect(status).to_have_text(re.compile(r"^Showing scratch/models/ · 1 model\(s\), 1 version\(s\)"))
        expect(panel.locator("[data-uri='models:/scratch_model/1']")).to_have_count(1)
        picker = panel.locator(f"{ITEM}-stores")
        expect(picker).to_be_visible()
        assert {"models", "scratch/models"} <= set(picker.locator("option").evaluate_all("os => os.map(o => o.value)"))
        picker.select_option("models")
        expect(status).to_have_text(re.compile(r"^Showing models/ · "))
        expect(panel.locator("[data-uri='models:/managed/1']")).to_have_count(1)
        expect(panel.locator("[data-uri='models:/scratch_model/1']")).to_have_count(0)
        lab.screenshot(page, "lab-panel-stores")
    finally:
        page.close()
        shutil.rmtree(scratch, ignore_errors=True)


def test_manage_cells_change_the_registry_and_the_panel_shows_it(lab, linear):
    from pyfunc_jupyter.store.registry import read_registry

    page = lab.new_page(linear.path, workspace="manage")
    lab.wait_notebook(page, linear.path)
    lab.wait_kernel_idle(page)
    try:
        panel = _refresh_panel(page)
        row = panel.locator("[data-uri='models:/managed/1']")
        row.locator(f"{ITEM}-manage").select_option("alias")
        notebook = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
        cell = page.locator(f"[id='{notebook}'] .jp-Cell.jp-mod-active")
        expect(cell.locator(".jp-InputArea-editor")).to_contain_text(
            'pyfunc_jupyter.set_registered_model_alias("managed", "champion", 1)'
        )
        expect(cell.locator(".jp-InputArea-editor")).to_contain_text(
            'os.path.samefile(pyfunc_jupyter.get_store(), "models")'
        )
        lab.command(page, "notebook:run-cell")
        lab.wait_cells_done(page)
        assert read_registry(linear.store / "managed")["aliases"] == {"champion": 1}

        row.locator(f"{ITEM}-manage").select_option("tag")
        lab.command(page, "notebook:run-cell")
        lab.wait_cells_done(page)
        assert read_registry(linear.store / "managed")["versions"]["1"]["tags"] == {"stage": "staging"}

        panel = _refresh_panel(page)
        expect(row.locator(f"{ITEM}-registry")).to_have_text("@champion · stage=staging")
        panel.locator(f"{ITEM}-filter").fill("champion")  # aliases are searched; the count follows
        expect(panel.locator(f"{ITEM}-version:visible")).to_have_count(1)
        expect(panel.locator(f"{ITEM}-status")).to_have_text(re.compile(r"1 of \d+ model\(s\), 1 of \d+ version"))
        panel.locator(f"{ITEM}-filter").fill("")

        # a card tab opened from the panel comes back after a reload
        row.locator(f"{ITEM}-open").click()
        view = page.locator("#pyfunc-jupyter-card-models-managed-1")
        expect(view.locator(f"{CARD}-title")).to_have_text("managed v1")
        page.wait_for_timeout(1500)  # the workspace is saved after a layout change (debounced)
        page.reload(wait_until="domcontentloaded")
        page.wait_for_function("() => !!window.jupyterapp")
        page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
        expect(page.locator("#pyfunc-jupyter-card-models-managed-1").locator(f"{CARD}-title")).to_have_text(
            "managed v1"
        )
        lab.screenshot(page, "lab-card-restored")
    finally:
        page.close()
        (linear.store / "managed" / "registry.json").unlink(missing_ok=True)
