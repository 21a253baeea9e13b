"""The tutorial notebooks, as saved in the repository, opened in JupyterLab with no kernel at all.

A reader who opens a tutorial before running anything sees every model card drawn by the
extension's renderer from the saved MIME bundle, in the order the notebook saved them.
"""

from __future__ import annotations

import json
import shutil

import pytest
from playwright.sync_api import expect

from ..test_notebooks import NOTEBOOKS
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
    titles = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            card = output.get("data", {}).get(MIME)
            if card:
                version = f" v{card['version']}" if card.get("version") is not None else ""
                titles.append(f"{card.get('name') or 'model'}{version}")
    return titles


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_tutorial_shows_its_cards_without_a_kernel(reader, path):
    titles = _card_titles(path)
    page = reader.new_page(path.name, workspace=path.stem)
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Select Kernel")
    dialog.get_by_role("button", name="Select").click()
    reader.wait_notebook(page, path.name)
    panel = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    cards = page.locator(f"[id='{panel}'] {CARD}")
    expect(cards).to_have_count(len(titles))
    expect(cards.locator(f"{CARD}-title")).to_have_text(titles)
    assert page.locator(f"[id='{panel}'] .pfj-card").count() == 0, "the HTML fallback is shown instead of the renderer"
    if path == NOTEBOOKS[0]:
        cards.first.scroll_into_view_if_needed()
        reader.screenshot(page, "tutorial-01-no-kernel")
    assert not reader.page_errors + reader.console_errors
    page.close()
