"""The JupyterLab extension in a real JupyterLab and a real chromium.

One notebook, ``linear.ipynb``, is written into the server's root and run top to bottom through
JupyterLab: its ``%%pyfunc_model`` cells save three models into ``<root>/models`` (the kernel's
working directory is the notebook's). The tests then check the card drawn by our renderer (not
the HTML fallback), that it shows the same facts as the fallback, the saved notebook reopened
untrusted with no kernel, and the Models side panel (listing, broken versions, cards, load
cells). Screenshots go to ``tests/artifacts/lab-*.png``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from playwright.sync_api import expect

from pyfunc_jupyter.card.render import format_time

from .conftest import start_lab

MIME = "application/vnd.pyfunc-jupyter.model+json"
CARD = ".jp-PyfuncModelCard"
PANEL = "#pyfunc-jupyter-models"

CELLS = [
    "%load_ext pyfunc_jupyter",
    "import pandas as pd",
    "from pyfunc_jupyter import PythonModel",
    """%%pyfunc_model simple_linear --example "pd.DataFrame({'x': [1.0, 2.0, 3.0]})"
class SimpleLinearModel(PythonModel):
    def predict(self, context, model_input):
        return 2 * model_input["x"] + 3""",
    # A notebook global read by the model (a warning) and params (a params table).
    "scale = 2.5",
    """%%pyfunc_model scaled --example "pd.DataFrame({'x': [1.0, 2.0]})" --params "{'offset': 1, 'gain': 1.0, 'steps': [1.0, 2.5]}"
class ScaledModel(PythonModel):
    def predict(self, context, model_input, params=None):
        return params["gain"] * scale * model_input["x"] + params["offset"]""",  # noqa: E501 - a %%magic line cannot wrap
    # Different on every call: the preview marks the reloaded and fresh-process cells.
    """%%pyfunc_model noisy --example "pd.DataFrame({'x': [1.0, 2.0, 3.0]})"
import numpy as np
class NoisyModel(PythonModel):
    def predict(self, context, model_input):
        return model_input["x"] + np.random.default_rng().normal(size=len(model_input))""",
]
CARD_CELLS = {3: "simple_linear v1", 5: "scaled v1", 6: "noisy v1"}

# Every fact a card shows, in order, from its root element; the same function reads the
# renderer's card and the HTML fallback (`pyfunc_jupyter/_cardrender.py`).
FACTS_JS = """root => {
    const text = n => n.textContent.replace(/\\s+/g, ' ').trim();
    const facts = [];
    const walk = node => { for (const child of node.children) {
        if (child.tagName === 'STYLE') continue;
        if (child.tagName === 'DETAILS') {  // a foldable section: its state, then its content
            facts.push('section: ' + child.dataset.section + (child.open ? ' open' : ' folded'));
            walk(child);
            continue;
        }
        if (child.tagName === 'SUMMARY') {
            facts.push('heading: ' + text(child));
            continue;
        }
        if (child.tagName === 'TABLE') {
            for (const row of child.rows) {
                facts.push('row: ' + [...row.cells].map(
                    c => (/(^|[-])diff\\b/.test(c.className) ? '*' : '') + text(c)).join(' | '));
            }
        } else if (child.tagName === 'UL') {
            for (const item of child.children) facts.push('item: ' + text(item));
        } else {
            facts.push((child.tagName === 'H4' ? 'heading: ' : 'text: ') + text(child));
        }
    } };
    walk(root);
    return facts;
}"""

ROWS_JS = "t => [...t.rows].map(r => [...r.cells].map(c => c.textContent.trim()))"


pytestmark = pytest.mark.usefixtures("no_errors_in_pages")


@pytest.fixture(scope="module")
def linear(lab):
    """``linear.ipynb`` run top to bottom in JupyterLab and saved; its page stays open for the module."""
    lab.write_notebook("linear.ipynb", CELLS)
    page = lab.open("linear.ipynb")
    lab.run_all(page)
    lab.save(page)
    yield SimpleNamespace(page=page, path="linear.ipynb", store=lab.root_dir / "models")
    page.close()


def _cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def _table_after(card, heading: str, label: str | None = None):
    """The first table of a section (or the one after the `label` div in it)."""
    section = card.locator("details", has=card.page.locator("summary h4", has_text=heading))
    return section.locator(f"div:text-is('{label}') + table" if label else "table").first


def _style(locator, prop: str) -> str:
    return locator.evaluate(f"e => getComputedStyle(e).{prop}")


def _luminance(rgb: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def _saved_outputs(path: Path) -> list[dict]:
    """The card outputs of a saved notebook, in order."""
    nb = nbformat.read(str(path), as_version=4)
    return [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if MIME in output.get("data", {})
    ]


def _open_panel(page):
    """Click the Models tab in the left sidebar and wait for the listing."""
    panel = page.locator(PANEL)
    if not panel.is_visible():
        page.locator(f".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='{PANEL[1:]}']").click()
    expect(panel).to_be_visible()
    expect(panel).not_to_have_class(re.compile("jp-mod-loading"))
    return panel


def _close(page, widget_id: str) -> None:
    """Close a main-area widget by id."""
    page.evaluate(
        """id => {
        const widget = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.id === id);
        widget.close();
    }""",
        widget_id,
    )
    expect(page.locator(f"#{widget_id}")).to_have_count(0)


def _refresh_panel(page):
    panel = _open_panel(page)
    panel.locator(".jp-PyfuncModelsPanel-refresh").click()
    expect(panel).not_to_have_class(re.compile("jp-mod-loading"))
    return panel


def test_labextension_is_installed_enabled_and_ok():
    jupyter = Path(sys.executable).with_name("jupyter")
    result = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True, timeout=120)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # drop colour codes
    assert re.search(r"pyfunc-jupyter v\S+ enabled OK", listing), listing


def test_magic_cell_card_is_drawn_by_the_renderer(lab, linear):
    page = linear.page
    for index, title in CARD_CELLS.items():
        output = _cell(page, index).locator(".jp-OutputArea-output")
        expect(output.locator(CARD)).to_have_count(1)
        expect(output.locator(f"{CARD}-title")).to_have_text(title)
    assert page.locator(".pfj-card").count() == 0, "the HTML fallback is shown instead of the renderer"
    kinds = page.evaluate("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        return Object.keys(w.content.widgets[3].model.outputs.get(0).data).sort();
    }""")
    assert kinds == sorted([MIME, "text/html", "text/plain"])  # the fallback was there to lose

    card = _cell(page, 3).locator(CARD)
    card.scroll_into_view_if_needed()
    lab.screenshot(page, "lab-card-renderer")
    badge = card.locator(f"{CARD}-badge")
    expect(badge).to_have_text("saved")
    assert _style(badge, "color") != _style(card, "color")
    facts = card.locator(f"{CARD}-facts")
    expect(facts).to_contain_text("SimpleLinearModel (class) · models:/simple_linear/1 · ")
    expect(facts).to_contain_text(str(linear.store / "simple_linear" / "1"))
    expect(facts).to_have_text(
        re.compile(r" · model size \d+(\.\d)? KB · created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d( [\w+:-]+)?$")
    )
    expect(card.locator("h4", has_text="Checks")).to_have_text("Checks")
    expect(card.locator(f"{CARD}-ok", has_text="no problems found")).to_be_visible()

    preview = card.locator("h4", has_text="Preview")
    expect(preview.locator(f"{CARD}-ok")).to_have_text(["reloaded ✓ match", "fresh process ✓ match"])
    rows = _table_after(card, "Preview").evaluate(ROWS_JS)
    assert rows == [
        ["input: x", "in memory", "reloaded", "fresh process"],
        ["1.0", "5.0", "5.0", "5.0"],
        ["2.0", "7.0", "7.0", "7.0"],
        ["3.0", "9.0", "9.0", "9.0"],
    ]
    assert card.locator(f"td{CARD}-diff").count() == 0

    assert _table_after(card, "Signature", "inputs").evaluate(ROWS_JS) == [
        ["name", "type", "required"],
        ["x", "double", "true"],
    ]
    requirements = _table_after(card, "Requirements").evaluate(ROWS_JS)
    assert requirements[0] == ["requirement", "from"]
    assert any(re.fullmatch(r"cloudpickle==[\d.]+", r[0]) and r[1].startswith("inferred: ") for r in requirements[1:])
    files = dict(r for r in _table_after(card, "Files").evaluate(ROWS_JS)[1:])
    assert {"MLmodel", "python_model.pkl", "requirements.txt", "pyfunc_jupyter.json"} <= set(files)
    assert all(re.fullmatch(r"\d+ B|\d+\.\d KB", size) for size in files.values()), files


def test_card_shows_checks_params_and_marked_differences(lab, linear):
    page = linear.page
    scaled = _cell(page, 5).locator(CARD)
    heading = scaled.locator("h4", has_text="Checks")
    expect(heading).to_have_text("Checks: 0 error(s), 1 warning(s)")
    item = scaled.locator(f"li{CARD}-check", has_text="notebook-global")
    expect(item.locator(f"{CARD}-warning")).to_have_text("warning")
    expect(item).to_contain_text("scale")
    expect(item.locator(f"{CARD}-muted")).to_have_text(re.compile("^Fix: "))
    assert _style(item.locator(f"{CARD}-warning"), "color") != _style(scaled, "color")
    assert _table_after(scaled, "Signature", "params").evaluate(ROWS_JS) == [
        ["name", "type", "default"],
        ["offset", "long", "1"],
        ["gain", "double", "1.0"],
        ["steps", "double [-1]", "[1.0, 2.5]"],
    ]

    noisy = _cell(page, 6).locator(CARD)
    noisy.scroll_into_view_if_needed()
    lab.screenshot(page, "lab-card-mismatch")
    expect(noisy.locator("h4", has_text="Preview").locator(f"{CARD}-error")).to_have_text(
        ["reloaded ✗ mismatch", "fresh process ✗ mismatch"]
    )
    marked = noisy.locator(f"td{CARD}-diff")
    expect(marked).to_have_count(6)  # every reloaded and fresh-process cell; the reference is not marked
    plain = _table_after(noisy, "Preview").locator("tbody td").nth(1)
    assert _style(marked.first, "backgroundColor") != _style(plain, "backgroundColor")


def test_renderer_and_html_fallback_show_the_same_facts(lab, linear, chromium):
    outputs = _saved_outputs(lab.root_dir / linear.path)
    assert len(outputs) == 3
    drawn = linear.page.locator(CARD)
    fallback_page = chromium.new_page()
    try:
        for index, output in enumerate(outputs):
            fallback_page.set_content(f"<!doctype html><body>{output['data']['text/html']}</body>")
            fallback = fallback_page.locator(".pfj-card").evaluate(FACTS_JS)
            renderer = drawn.nth(index).evaluate(FACTS_JS)
            assert renderer == fallback
            assert len(renderer) > 15
    finally:
        fallback_page.close()


def test_card_follows_the_dark_theme(lab, linear):
    page = linear.page
    card = _cell(page, 3).locator(CARD)
    light = _style(card, "color"), _style(card, "backgroundColor")
    try:
        lab.command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        expect(page.locator("#jupyterlab-splash")).to_have_count(0)
        page.wait_for_function(f"() => getComputedStyle(document.querySelector('{CARD}')).color !== '{light[0]}'")
        card.scroll_into_view_if_needed()
        lab.screenshot(page, "lab-card-dark")
        assert _luminance(_style(card, "color")) > 0.6
        assert _luminance(_style(card, "backgroundColor")) < 0.4
        assert _luminance(light[0]) < 0.4 and _luminance(light[1]) > 0.6
    finally:
        lab.command(page, "apputils:change-theme", {"theme": "JupyterLab Light"})
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")


def test_saved_notebook_reopened_untrusted_without_kernel_shows_the_cards(lab, linear, tmp_path):
    lab.shutdown_kernels()
    # Another JupyterLab, with no kernel at all and its own trust database, opens the saved file.
    with start_lab(lab.browser, tmp_path / "reader", root=lab.root_dir, kernels=False) as reader:
        page = reader.new_page(linear.path)
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Select Kernel")
        chosen = dialog.locator("select").evaluate("s => s.options[s.selectedIndex].textContent")
        assert chosen == "No Kernel"
        dialog.get_by_role("button", name="Select").click()
        expect(dialog).to_have_count(0)
        reader.wait_notebook(page, linear.path)
        state = page.evaluate("""() => {
            const w = window.jupyterapp.shell.currentWidget;
            const session = w.sessionContext.session;
            return {kernel: session && session.kernel ? session.kernel.name : null,
                    trusted: w.content.widgets.map(c => c.model.trusted)};
        }""")
        assert state["kernel"] is None
        assert not any(state["trusted"]), state
        for index, title in CARD_CELLS.items():
            expect(_cell(page, index).locator(f"{CARD}-title")).to_have_text(title)
        assert page.locator(".pfj-card").count() == 0
        expect(page.locator(".jp-Notebook")).to_contain_text("✗ mismatch")
        expect(page.locator("#jp-main-statusbar")).to_contain_text("No Kernel")
        lab.screenshot(page, "lab-reopened-no-kernel")
        assert not reader.page_errors + reader.console_errors


@pytest.fixture
def odd_store(linear):
    """The store plus broken and MLflow-style entries; removed afterwards."""
    store = linear.store
    made = [store / "broken", store / "mlflow_style", store / "empty_name"]
    (store / "broken" / "1").mkdir(parents=True)
    (store / "broken" / "1" / "MLmodel").write_text("flavors: [python_function\nthis is: not: yaml\n")
    shutil.copytree(store / "simple_linear" / "1", store / "broken" / "2")
    (store / "broken" / "2" / "pyfunc_jupyter.json").write_text("{not json")
    shutil.copytree(store / "scaled" / "1", store / "mlflow_style" / "1")  # as MLflow writes it: no sidecar
    (store / "mlflow_style" / "1" / "pyfunc_jupyter.json").unlink()
    (store / "empty_name").mkdir()
    (store / ".pyfunc-staging-x").mkdir()  # a save in progress: never listed
    made.append(store / ".pyfunc-staging-x")
    # names and versions the store cannot hold: listed as broken, or not versions at all
    shutil.copytree(store / "simple_linear" / "1", store / "bad name" / "1")
    made.append(store / "bad name")
    for odd in ("01", "²", "３"):
        shutil.copytree(store / "simple_linear" / "1", store / "broken" / odd)
    # a YAML alias bomb: refused before it expands, in the kernel and in the panel alike
    (store / "broken" / "3").mkdir()
    (store / "broken" / "3" / "MLmodel").write_text(
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefghi", "bcdefghij", strict=True))
        + "flavors: *j\n"
    )
    yield store
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def test_models_panel_lists_the_store_and_shows_broken_versions(lab, linear, odd_store):
    import pyfunc_jupyter

    page = linear.page
    panel = _refresh_panel(page)
    # Other test modules share the server's root, so the expected listing is read from the disk.
    entries = pyfunc_jupyter.list_models(odd_store)
    folders = sorted(p.name for p in odd_store.iterdir() if p.is_dir() and not p.name.startswith("."))
    without_versions = [n for n in folders if not any(v.name.isdigit() for v in (odd_store / n).iterdir())]
    assert {"bad name", "broken", "empty_name", "mlflow_style", "noisy", "scaled", "simple_linear"} <= set(folders)
    broken = sum(1 for e in entries if e.error) + len(without_versions)
    assert broken == 5
    assert [e.version for e in entries if e.name == "broken"] == [1, 2, 3]  # '01', '²', '３' are not versions
    expect(panel.locator(".jp-PyfuncModelsPanel-status")).to_have_text(
        f"Showing models/ · {len(folders)} model(s), {len(entries)} version(s), {broken} broken"
    )
    names = panel.locator(".jp-PyfuncModelsPanel-model").evaluate_all("els => els.map(e => e.dataset.name)")
    assert names == folders

    # Every version as the Python listing sees it.
    for entry in entries:
        row = panel.locator(f".jp-PyfuncModelsPanel-version[data-uri='{entry.uri}']")
        expect(row).to_have_count(1)
        if entry.error:
            expect(row).to_have_class(re.compile("jp-mod-broken"))
            expect(row.locator(".jp-PyfuncModelsPanel-broken")).to_have_text("broken")
            continue
        expect(row.locator(".jp-PyfuncModelsPanel-signature")).to_have_text(entry.signature_summary)
        expect(row.locator(".jp-PyfuncModelsPanel-meta")).to_have_text(
            re.compile(  # local time, to the second
                re.escape(format_time(entry.created)[:19]) + r"( [\w+:-]+)? · \d+(\.\d)? KB$"
            )
        )
        expect(row.locator(".jp-PyfuncModelsPanel-insert")).to_have_text("Insert load cell")
    expect(panel.locator("[data-uri='models:/broken/1'] .jp-PyfuncModelsPanel-reason")).to_contain_text(
        "Malformed MLmodel file models/broken/1/MLmodel: not valid YAML"
    )
    expect(panel.locator("[data-uri='models:/broken/2'] .jp-PyfuncModelsPanel-reason")).to_contain_text(
        "unreadable pyfunc_jupyter.json"
    )
    expect(panel.locator("[data-name='empty_name'] .jp-PyfuncModelsPanel-reason")).to_contain_text("no version folders")
    expect(panel.locator("[data-uri='models:/broken/3'] .jp-PyfuncModelsPanel-reason")).to_contain_text("(a YAML bomb)")
    expect(panel.locator("[data-uri='models:/bad name/1'] .jp-PyfuncModelsPanel-reason")).to_contain_text(
        "'bad name' is not a valid model name"
    )
    assert panel.locator("[data-name='broken'] .jp-PyfuncModelsPanel-version").count() == 3
    assert panel.locator("[data-name^='.']").count() == 0
    lab.screenshot(page, "lab-panel-broken")

    # A broken version opens as a card saying why.
    panel.locator("[data-uri='models:/broken/1'] .jp-PyfuncModelsPanel-open").click()
    view = page.locator("#pyfunc-jupyter-card-models-broken-1")
    expect(view.locator(f"{CARD}-error")).to_contain_text("models:/broken/1 is broken: Malformed MLmodel file")
    _close(page, "pyfunc-jupyter-card-models-broken-1")

    # A folder whose name the store cannot hold never has its files read into a card.
    panel.locator("[data-uri='models:/bad name/1'] .jp-PyfuncModelsPanel-open").click()
    view = page.locator("#pyfunc-jupyter-card-models-bad_name-1")
    expect(view.locator(f"{CARD}-error")).to_contain_text(
        "models:/bad name/1 is broken: 'bad name' is not a valid model name"
    )
    _close(page, "pyfunc-jupyter-card-models-bad_name-1")

    # The filter keeps the matching models only.
    panel.locator(".jp-PyfuncModelsPanel-filter").fill("linear")
    expect(panel.locator(".jp-PyfuncModelsPanel-model:visible")).to_have_attribute("data-name", "simple_linear")
    panel.locator(".jp-PyfuncModelsPanel-filter").fill("offset")  # a param name: matches signatures
    expect(panel.locator(".jp-PyfuncModelsPanel-model:visible")).to_have_count(2)
    assert panel.locator(".jp-PyfuncModelsPanel-model:visible").evaluate_all("els => els.map(e => e.dataset.name)") == [
        "mlflow_style",
        "scaled",
    ]
    # the count says what the filter leaves
    expect(panel.locator(".jp-PyfuncModelsPanel-status")).to_have_text(
        re.compile(rf"^Showing models/ · 2 of {len(folders)} model\(s\), 2 of {len(entries)} version\(s\) match")
    )
    panel.locator(".jp-PyfuncModelsPanel-filter").fill("")
    expect(panel.locator(".jp-PyfuncModelsPanel-model:visible")).to_have_count(len(folders))


def test_models_panel_opens_a_card_with_the_kernel_cards_facts(lab, linear, monkeypatch):
    import pyfunc_jupyter

    page = linear.page
    panel = _refresh_panel(page)
    panel.locator("[data-uri='models:/scaled/1'] .jp-PyfuncModelsPanel-open").click()
    view = page.locator("#pyfunc-jupyter-card-models-scaled-1")
    expect(view).to_be_visible()
    card = view.locator(CARD)
    expect(card.locator(f"{CARD}-title")).to_have_text("scaled v1")
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    expect(tab).to_have_text("scaled v1")
    lab.screenshot(page, "lab-panel-card")

    # The card the kernel makes of the same directory (`model_card`), fact for fact; only the
    # path differs: the panel knows paths relative to the Jupyter root.
    monkeypatch.setenv("PYFUNC_JUPYTER_STORE", str(linear.store))
    pyfunc_jupyter.set_store(None)
    try:
        expected = pyfunc_jupyter.model_card("models:/scaled/1")
    finally:
        pyfunc_jupyter.set_store(None)
    fallback_page = lab.browser.new_page()
    try:
        fallback_page.set_content(f"<!doctype html><body>{expected.to_html()}</body>")
        kernel_facts = fallback_page.locator(".pfj-card").evaluate(FACTS_JS)
    finally:
        fallback_page.close()
    panel_facts = card.evaluate(FACTS_JS)
    absolute = str(linear.store / "scaled" / "1")
    assert kernel_facts[1].replace(absolute, "models/scaled/1") == panel_facts[1]
    assert panel_facts[:1] + panel_facts[2:] == [
        f.replace(absolute, "models/scaled/1") for f in kernel_facts[:1] + kernel_facts[2:]
    ]
    # the serve command and curl line, the path relative to the Jupyter root (where `mlflow` would run)
    serve = "mlflow models serve -m models/scaled/1 --env-manager local --host 127.0.0.1 --port 5000"
    assert f"text: {serve}" in panel_facts
    assert (
        "text: curl -s -X POST http://127.0.0.1:5000/invocations -H 'Content-Type: application/json' "
        "--data @models/scaled/1/serving_input_example.json"
    ) in panel_facts
    assert "heading: Checks: 0 error(s), 1 warning(s)" in panel_facts  # kept in the sidecar at save time
    assert any(f.startswith("heading: Preview: in memory") for f in panel_facts)
    _close(page, "pyfunc-jupyter-card-models-scaled-1")


def test_models_panel_hint_for_a_missing_store(lab, linear):
    page = linear.page
    hidden = linear.store.with_name("models-away")
    linear.store.rename(hidden)
    try:
        panel = _refresh_panel(page)
        hint = panel.locator(".jp-PyfuncModelsPanel-hint")
        expect(hint).to_contain_text("models/ does not exist under the Jupyter root")
        expect(hint.locator("pre")).to_have_text(
            [re.compile("^%load_ext pyfunc_jupyter"), re.compile("^%%pyfunc_model my_model")]
        )
        lab.screenshot(page, "lab-panel-empty")
    finally:
        hidden.rename(linear.store)
    panel = _refresh_panel(page)
    expect(panel.locator(".jp-PyfuncModelsPanel-hint")).to_have_count(0)


def test_insert_load_cell_adds_a_cell_that_loads_the_model(lab, linear):
    # A page of its own: the module's first page may have lost its kernel to an earlier test.
    page = lab.open(linear.path)
    lab.command(page, "notebook:enter-command-mode")
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0; }")
    lab.command(page, "notebook:run-cell")  # %load_ext pyfunc_jupyter, in this kernel
    lab.wait_cells_done(page)

    panel = _refresh_panel(page)
    panel.locator("[data-uri='models:/simple_linear/1'] .jp-PyfuncModelsPanel-insert").click()
    cell = _cell(page, 1)
    expect(cell.locator(".jp-InputArea-editor")).to_have_text(
        "%pyfunc_load models:/simple_linear/1 --as simple_linear_v1"
    )
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex") == 1
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets[1].model.type") == "code"

    lab.command(page, "notebook:run-cell")
    lab.wait_cells_done(page)
    card = cell.locator(f".jp-OutputArea-output {CARD}")
    expect(card.locator(f"{CARD}-title")).to_have_text("simple_linear v1")
    expect(card.locator(f"{CARD}-facts")).to_contain_text("models:/simple_linear/1")
    expect(card.locator(f"{CARD}-badge")).to_have_text("saved")
    card.scroll_into_view_if_needed()
    lab.screenshot(page, "lab-panel-load-cell")
    page.close()


def test_models_panel_shows_a_model_saved_while_it_is_open(lab, linear):
    page = lab.open(linear.path)
    try:
        panel = _open_panel(page)
        expect(panel.locator("[data-name='auto_listed']")).to_have_count(0)
        page.evaluate(
            """async ([setup, source]) => {
            const panel = window.jupyterapp.shell.currentWidget;
            await panel.sessionContext.session.kernel.requestExecute({code: setup}).done;
            const index = panel.content.widgets.length;
            panel.content.model.sharedModel.insertCell(index, {cell_type: 'code', source});
            panel.content.activeCellIndex = index;
        }""",
            ["\n".join(CELLS[:3]), CELLS[3].replace("simple_linear", "auto_listed", 1)],
        )
        lab.command(page, "notebook:run-cell")
        lab.wait_cells_done(page)
        expect(_cell(page, len(CELLS)).locator(f"{CARD}-title")).to_have_text("auto_listed v1")
        # No click on Refresh: the drawn card of a saved model refreshes the open panel.
        expect(panel.locator("[data-uri='models:/auto_listed/1']")).to_have_count(1)
    finally:
        page.close()
        shutil.rmtree(linear.store / "auto_listed", ignore_errors=True)
