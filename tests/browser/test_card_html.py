"""The model card's HTML fallback in a real headless chromium (the package's ``chromium`` fixture).

Each test authors a real model with ``author(...)`` into an empty store, loads ``card.to_html()`` into a page,
checks what a user sees, and keeps a full-page screenshot in ``tests/artifacts/<test name>.png``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from playwright.sync_api import expect

from pyfunc_jupyter.authoring.pipeline import Authored, AuthorRequest, author

from ..models_for_tests import define
from .conftest import ARTIFACTS

TRANSPARENT = "rgba(0, 0, 0, 0)"
EXAMPLE = {"x": [1.0, 2.0, 3.0]}

LINEAR = """
from pyfunc_jupyter import PythonModel

class SimpleLinearModel(PythonModel):
    def predict(self, context, model_input):
        return 2 * model_input["x"] + 3
"""

NOISY = """
import numpy as np
from pyfunc_jupyter import PythonModel

class NoisyModel(PythonModel):
    def predict(self, context, model_input):
        return model_input["x"] + np.random.default_rng().normal(size=len(model_input))
"""

BROKEN = """
from pyfunc_jupyter import PythonModel

class BrokenModel(PythonModel):
    def predict(self, context, model_input):
        return model_input["x"] * undefined_scale
"""


@pytest.fixture
def show(chromium, request):
    """``show(authored)``: the card's HTML in a fresh page, screenshotted to tests/artifacts/<test>.png."""
    page = chromium.new_page(viewport={"width": 1000, "height": 700})

    def _show(authored: Authored):
        page.set_content(f"<!doctype html><html><body>{authored.card.to_html()}</body></html>")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        return page

    yield _show
    page.close()


def _author(source: str, name: str) -> Authored:
    return author(AuthorRequest(model=define(source, name)(), input_example=pd.DataFrame(EXAMPLE)))


def _rows(table) -> list[list[str]]:
    """A table's cells as text, header row first."""
    return table.evaluate("t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim()))")


def _style(locator, prop: str) -> str:
    return locator.evaluate(f"e => getComputedStyle(e).{prop}")


def _column(rows: list[list[str]], header: str) -> list[str]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def test_saved_linear_model_card(store, show):
    authored = _author(LINEAR, "SimpleLinearModel")
    assert authored.saved
    page = show(authored)

    card = page.locator(".pfj-card")
    box = card.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    expect(page.locator(".pfj-title")).to_be_visible()
    expect(page.locator(".pfj-title")).to_have_text(f"{authored.card.data['name']} v1")
    assert authored.card.data["name"] == "simple_linear_model"
    badge = page.locator(".pfj-badge")
    expect(badge).to_have_text("saved")
    assert _style(badge, "color") != _style(card, "color")  # the status colour, not the text colour

    preview = page.locator("h4:has-text('Preview')")
    expect(preview.locator("span.pfj-ok", has_text="reloaded")).to_have_text("reloaded ✓ match")
    expect(preview.locator("span.pfj-ok", has_text="fresh process")).to_have_text("fresh process ✓ match")
    rows = _rows(page.locator("summary:has(h4:has-text('Preview')) + table"))
    assert rows[0] == ["input: x", "in memory", "reloaded", "fresh process"]
    assert _column(rows, "input: x") == ["1.0", "2.0", "3.0"]  # doubles keep their decimal point
    for label in ("in memory", "reloaded", "fresh process"):
        assert _column(rows, label) == ["5.0", "7.0", "9.0"]
    assert page.locator("td.pfj-diff").count() == 0

    inputs = _rows(page.locator("summary:has(h4:has-text('Signature')) ~ div:has-text('inputs') + table"))
    assert inputs == [["name", "type", "required"], ["x", "double", "true"]]

    serve = page.locator("summary:has(h4:has-text('Serve with MLflow')) ~ pre.pfj-code")
    expect(serve).to_have_count(2)
    expect(serve.nth(0)).to_have_text(authored.card.serving["serve"])
    expect(serve.nth(1)).to_have_text(authored.card.serving["curl"])
    assert _style(serve.nth(0), "fontFamily") != _style(card, "fontFamily")  # monospace, not the card's font


def test_nondeterministic_model_marks_differing_cells(store, show):
    authored = _author(NOISY, "NoisyModel")
    assert authored.saved
    page = show(authored)

    rows = _rows(page.locator("summary:has(h4:has-text('Preview')) + table"))
    assert rows[0] == ["input: x", "in memory", "reloaded", "fresh process"]
    diff = page.locator("td.pfj-diff")
    assert diff.count() == 6  # every reloaded and fresh-process cell, none of the in-memory reference
    marked = page.locator("summary:has(h4:has-text('Preview')) + table").evaluate(
        "t => [...t.querySelectorAll('td.pfj-diff')].map(c => t.rows[0].cells[c.cellIndex].innerText.trim())"
    )
    assert sorted(set(marked)) == ["fresh process", "reloaded"]
    plain = page.locator("summary:has(h4:has-text('Preview')) + table tbody td:not(.pfj-diff)").nth(
        1
    )  # an in-memory cell
    for cell in diff.all():
        assert _style(cell, "backgroundColor") not in (TRANSPARENT, "transparent")
        assert _style(cell, "backgroundColor") != _style(plain, "backgroundColor")
        assert _style(cell, "color") != _style(plain, "color")

    card = page.locator(".pfj-card")
    expect(page.locator("h4:has-text('Preview') span.pfj-error")).to_have_text(
        ["reloaded ✗ mismatch", "fresh process ✗ mismatch"]
    )
    expect(card).to_contain_text("mismatch")
    expect(card.locator("li code")).to_have_text("reload-mismatch")
    expect(card.locator("li span.pfj-warning")).to_have_text("warning")


def test_failed_check_card_is_not_saved(store, show):
    authored = _author(BROKEN, "BrokenModel")
    assert not authored.saved
    [finding] = authored.errors
    assert finding.check == "undefined-name" and "undefined_scale" in finding.message
    page = show(authored)

    card = page.locator(".pfj-card")
    badge = page.locator(".pfj-badge")
    expect(badge).to_have_text("not saved")
    expect(page.locator(".pfj-title")).to_have_text("broken_model")
    expect(card.locator("h4", has_text="Checks")).to_have_text("Checks: 1 error(s), 0 warning(s)")
    item = card.locator("li", has_text="undefined-name")
    expect(item).to_be_visible()
    expect(item).to_contain_text(finding.message)
    expect(item.locator(".pfj-muted")).to_have_text(f"Fix: {finding.fix}")
    severity = item.locator("span.pfj-error")
    expect(severity).to_have_text("error")
    assert _style(severity, "color") != _style(card, "color")
    assert _style(badge, "color") == _style(severity, "color")
    assert page.locator(".pfj-badge.pfj-ok").count() == 0
