"""The save/load panel in a real JupyterLab: open it, save a model, load it and predict, read the page."""

from __future__ import annotations

import re

CELLS = [
    "%load_ext pyfunc_jupyter",
    "import pandas as pd\n"
    "from pyfunc_jupyter import PythonModel\n\n"
    "class SimpleLinearModel(PythonModel):\n"
    "    def predict(self, context, model_input, params=None):\n"
    "        return 2 * model_input['x'] + 3\n\n"
    "df = pd.DataFrame({'x': [1.0, 2.0, 3.0]})",
    "%pyfunc_panel",
]


def _control(panel, kind: str, label: str):
    """The input element of the ipywidget of ``kind`` (``dropdown``, ``text``, ``select``) labelled ``label``."""
    tag = {"dropdown": "select", "select": "select", "text": "input"}[kind]
    return panel.locator(f".widget-{kind}").filter(has_text=label).locator(tag).first


def _open_panel(lab, notebook: str):
    """A page with a new notebook that defines the model and shows the panel; (page, panel locator)."""
    lab.write_notebook(notebook, CELLS)
    page = lab.open(notebook)
    lab.run_all(page)
    panel = page.locator(".pfj-panel")
    panel.wait_for()
    return page, panel


def _wait_requirements(page, panel) -> None:
    """Wait until the Save tab shows the requirements of the chosen model."""
    requirements = panel.locator(".widget-textarea").filter(has_text="Requirements").locator("textarea")
    page.wait_for_function("el => el.value.startsWith('cloudpickle==')", arg=requirements.element_handle())


def _save_linear(page, panel, name: str) -> None:
    """Save tab: the notebook's SimpleLinearModel with example ``df`` saved as ``name`` (v1)."""
    _control(panel, "dropdown", "Model").select_option(label="SimpleLinearModel (class)")
    _control(panel, "dropdown", "Input example").select_option(label="df (DataFrame 3×1)")
    _wait_requirements(page, panel)
    _control(panel, "text", "Name").fill(name)
    panel.get_by_role("button", name="Save").click()
    panel.get_by_text(f"Saved models:/{name}/1").wait_for(timeout=60_000)


def test_panel_saves_loads_and_predicts(lab):
    page, panel = _open_panel(lab, "panel.ipynb")

    # Save: choose the model and the example from the notebook, name it, save
    _save_linear(page, panel, "browser_linear")
    assert panel.get_by_text("fresh process").count() >= 1
    lab.screenshot(page, "panel-saved")

    # Load: the new version is listed; choose it, edit the input, predict
    page.locator(".pfj-panel .lm-TabBar-tab").filter(has_text="Load").click()
    versions = _control(panel, "select", "Versions")
    option = versions.locator("option").filter(has_text="browser_linear v1")
    versions.select_option(value=option.get_attribute("value"))
    first_cell = panel.locator(".widget-gridbox input").first
    first_cell.wait_for()
    assert first_cell.input_value() == "1.0"
    first_cell.fill("10")
    panel.get_by_role("button", name="Predict").click()
    output = panel.locator("table.pfj-output")
    output.wait_for()
    assert output.locator("td").all_inner_texts() == ["23.0", "7.0", "9.0"]
    assert panel.get_by_text("Predicted.").count() == 1
    lab.screenshot(page, "panel-predicted")


def _type_to(page, select, label: str) -> None:
    """Choose ``label`` in a focused <select> by typing its first letters, as a keyboard user does."""
    page.keyboard.type(label.split(" ")[0])  # a space would open the list instead; "d" is a notebook shortcut
    chosen = "el => el.selectedIndex >= 0 ? el.options[el.selectedIndex].text.replace(/\u00a0/g, ' ') : ''"
    assert select.evaluate(chosen) == label


def _tab_to(page, target, most: int = 12) -> None:
    """Press Tab until ``target`` has the focus: it is reachable from the keyboard."""
    for _ in range(most):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    assert target.evaluate("el => el === document.activeElement"), "not reachable with Tab"


def test_panel_works_from_the_keyboard(lab):
    page, panel = _open_panel(lab, "panel_keys.ipynb")

    model = _control(panel, "dropdown", "Model")
    model.focus()
    _type_to(page, model, "SimpleLinearModel (class)")
    example = _control(panel, "dropdown", "Input example")
    _tab_to(page, example)
    _type_to(page, example, "df (DataFrame 3×1)")
    _tab_to(page, _control(panel, "text", "Name"))
    page.keyboard.type("keyboard_linear")
    assert _control(panel, "text", "Name").input_value() == "keyboard_linear"
    _wait_requirements(page, panel)  # the kernel has answered the choice (slow on a loaded machine)
    save = panel.get_by_role("button", name="Save")
    page.wait_for_function("el => !el.disabled", arg=save.element_handle())
    _tab_to(page, save)
    page.keyboard.press("Enter")
    panel.get_by_text("Saved models:/keyboard_linear/1").wait_for(timeout=60_000)
    # the keys went to the panel, not to the notebook's command-mode shortcuts (d d deletes a cell)
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length") == len(CELLS)
    lab.screenshot(page, "panel-keyboard")


def test_load_tab_keeps_the_controls_above_a_folded_card(lab):
    page, panel = _open_panel(lab, "panel_layout.ipynb")
    _save_linear(page, panel, "layout_linear")

    page.locator(".pfj-panel .lm-TabBar-tab").filter(has_text="Load").click()
    versions = _control(panel, "select", "Versions")
    option = versions.locator("option").filter(has_text="layout_linear v1")
    # a compact row: name, local time to the second, model size, signature (no microseconds)
    assert re.search(
        r"layout_linear v1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+ +\d+(\.\d)? KB +\[x: double\]",
        option.inner_text().replace("\u00a0", " "),
    )
    versions.select_option(value=option.get_attribute("value"))
    card = panel.locator(".jp-PyfuncModelCard:visible")  # the Load tab's (the Save tab's is hidden)
    card.wait_for()
    predict = panel.get_by_role("button", name="Predict")
    # the card comes after Predict, and every section of it is folded
    assert predict.bounding_box()["y"] < card.bounding_box()["y"]
    sections = card.locator("details")
    assert sections.count() >= 4
    assert sections.evaluate_all("ds => ds.filter(d => d.open).length") == 0
    assert card.bounding_box()["height"] < 300
    sections.first.locator("summary").click()  # a reader unfolds what they want
    assert sections.first.evaluate("d => d.open")
    lab.screenshot(page, "panel-load-layout")
