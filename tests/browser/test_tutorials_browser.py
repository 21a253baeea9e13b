"""The tutorial notebooks, as saved in the repository, opened in JupyterLab with no kernel at all.

A reader who opens a tutorial before running anything sees every model card drawn by the
extension's renderer from the saved MIME bundle, in the order the notebook saved them.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from ..test_notebooks import NOTEBOOKS, outputs, read_notebook
from .conftest import start_lab
from .test_lab_extension import CARD, MIME


@pytest.fixture(scope="module")
def reader(chromium, tmp_path_factory):
    """A JupyterLab with no kernels, its root a copy of notebooks/ (opening must not need to write)."""
    base = tmp_path_factory.mktemp("tutorials")
    (base / "root").mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, base / "root" / path.name)
    with start_lab(chromium, base, kernels=False) as server:
        yield server


def _card_titles(path) -> list[str]:
    """Each card the file holds, as the renderer titles it: "name vN", or the name of an unsaved model."""
    cards = [o["data"][MIME] for o in outputs(read_notebook(path)) if MIME in o.get("data", {})]
    return [
        f"{c.get('name') or 'model'}" + (f" v{c['version']}" if c.get("version") is not None else "") for c in cards
    ]


@pytest.fixture(scope="module")
def reader_page(reader):
    """One JupyterLab page of the reader's, nothing open: each test opens its tutorial there, then closes it."""
    page = reader.new_page(workspace="tutorials")
    yield page
    page.close()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_tutorial_shows_its_cards_without_a_kernel(reader, reader_page, path):
    titles = _card_titles(path)
    page = reader_page
    page.evaluate("path => { void window.jupyterapp.commands.execute('docmanager:open', {path}); }", path.name)
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Select Kernel")
    dialog.get_by_role("button", name="Select").click()
    reader.wait_notebook(page, path.name)
    panel = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    # the cards under cells (those inside a saved panel widget are the panel's own)
    cards = page.locator(f"[id='{panel}'] .jp-OutputArea-output > {CARD}")
    # tutorial 4 draws 35 cards, one after another: on a loaded 2-core machine that takes over 5 s
    expect(cards).to_have_count(len(titles), timeout=30_000)
    expect(cards.locator(f"{CARD}-title")).to_have_text(titles)
    assert page.locator(f"[id='{panel}'] .pfj-card").count() == 0, "the HTML fallback is shown instead of the renderer"
    if path.name.startswith("06"):  # the model saved with --from-code: its card shows the code file
        code = cards.locator(f"{CARD}-code:not({CARD}-command)")  # the code file, not the serve lines
        expect(code).to_have_count(1)
        expect(code).to_contain_text("set_model(TaxiFare())")
    if path == NOTEBOOKS[0]:
        cards.first.scroll_into_view_if_needed()
        reader.screenshot(page, "tutorial-01-no-kernel")
    assert not reader.page_errors + reader.console_errors
    page.evaluate("() => window.jupyterapp.shell.currentWidget.dispose()")  # closed: the next test opens its own


def test_saved_panel_is_drawn_from_the_widget_state(lab):
    """Tutorial 5 as saved (with its widget state), opened and trusted on a fresh kernel that has run
    nothing: the panel is drawn as it was, not as "(needs a running kernel)". (With no kernel at all,
    JupyterLab's widget manager loads no saved state: its restore stops at "Kernel not set"; in an
    untrusted notebook the widget renderer, not "safe", is not used.)"""
    path = next(p for p in NOTEBOOKS if p.name == "05-the-panel.ipynb")
    (lab.root_dir / "saved").mkdir(exist_ok=True)
    shutil.copy(path, lab.root_dir / "saved" / path.name)
    page = lab.open(f"saved/{path.name}")
    try:
        notebook = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
        assert page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
            .filter(c => c.model.type === 'code').every(c => c.model.executionCount !== null)""")  # as saved
        # widgets are not drawn in an untrusted notebook (their renderer is not "safe"): trust it, as a
        # reader who opens it on purpose does
        page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:trust'); }")
        page.locator(".jp-Dialog").get_by_role("button", name="Trust").click()
        panel = page.locator(f"[id='{notebook}'] .pfj-panel").first
        try:
            expect(panel).to_be_visible(timeout=30_000)
        except AssertionError:
            outputs = page.locator(f"[id='{notebook}'] .jp-OutputArea-output").all_inner_texts()
            raise AssertionError(f"no panel; the first outputs: {outputs[:3]}") from None
        expect(panel.locator(".lm-TabBar-tab")).to_have_text(["Save", "Load", "Compare"])
        # the Save tab's card, drawn by the renderer from the saved Output widget
        expect(panel.locator(f"{CARD}-title").first).to_have_text("price v2")
        panel.scroll_into_view_if_needed()
        lab.screenshot(page, "tutorial-05-saved-panel")
        assert not lab.page_errors
    finally:
        lab.shutdown_kernels()
        page.close()


@pytest.mark.parametrize("name", ["04-catch-early.ipynb", "05-the-panel.ipynb"])
def test_run_all_in_jupyterlab_runs_the_tutorial_to_the_end(lab, name):
    # Tutorial 4's failing cells carry the raises-exception tag, so Run All goes on past them; tutorial 5
    # clicks the panel's buttons from cells. Both must end with the cards the saved notebook shows.
    path = next(p for p in NOTEBOOKS if p.name == name)
    (lab.root_dir / "tutorials").mkdir(exist_ok=True)
    shutil.copy(path, lab.root_dir / "tutorials" / name)
    page = lab.open(f"tutorials/{name}")
    lab.command(page, "notebook:clear-all-cell-outputs")
    lab.run_all(page)
    counts = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .filter(c => c.model.type === 'code').map(c => c.model.executionCount)""")
    assert counts == list(range(1, len(counts) + 1))
    panel = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    titles = page.evaluate(
        """([panel, card]) => [...document.getElementById(panel).querySelectorAll(card)]
        .filter(c => !c.closest('.pfj-panel')).map(c => c.querySelector(card + '-title').textContent)""",
        [panel, CARD],
    )
    assert titles == _card_titles(path)
    if name.startswith("05"):
        # The cards of the panel's own Save and Load clicks are drawn inside the panel, not under a cell.
        expect(page.locator(f"[id='{panel}'] .pfj-panel {CARD}").first).to_be_attached()
        widget = page.locator(f"[id='{panel}'] .pfj-panel").first
        widget.scroll_into_view_if_needed()
        expect(widget).to_be_in_viewport()
        lab.screenshot(page, "tutorial-05-run-all")
    lab.shutdown_kernels()
    assert not lab.page_errors
    page.close()
