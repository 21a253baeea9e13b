"""The panel's Compare tab: two versions side by side on one input; signature, params, requirements, files, artifacts
and pickled state diffed."""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets

from .forms import InputEditor, message

__all__ = ["CompareTab", "diff_rows", "state_facts"]

# the diff tables are bordered like the card's, so their columns never run together
_DIFF_CSS = (
    "<style>.pfj-diffs table{border-collapse:collapse;margin:2px 0 6px}.pfj-diffs th,.pfj-diffs td{"
    "border:1px solid var(--jp-border-color2,#ccc);padding:2px 6px;text-align:left;vertical-align:top;"
    "font-family:var(--jp-code-font-family,monospace);font-size:12px}.pfj-diffs th{"
    "background:var(--jp-layout-color2,#f3f3f3)}.pfj-diffs tr.pfj-changed td{"
    "background:var(--jp-warn-color3,#fff3cd)}</style>"
)
_VALUE_CHARS = 80

_STYLE = {"description_width": "60px"}


def diff_rows(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str, str, bool]]:
    """(key, value in A, value in B, differs) for the union of keys, sorted."""
    return [(k, a.get(k, "—"), b.get(k, "—"), a.get(k) != b.get(k)) for k in sorted(set(a) | set(b))]


def state_facts(model: Any, attributes: list[str]) -> dict[str, str]:
    """The pickled state of a loaded model, attribute by attribute: a short repr, and a digest of the pickle
    when the repr is cut or hides the value, so two different values never read the same."""
    import hashlib

    python_model = model.unwrap_python_model() if hasattr(model, "unwrap_python_model") else model
    values = getattr(python_model, "__dict__", {})
    facts = {}
    for attribute in attributes:
        if attribute not in values:
            facts[f"self.{attribute}"] = "(not set)"
            continue
        value = values[attribute]
        try:
            text = repr(value)
        except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not break Compare
            text = f"<{type(value).__name__}: repr failed: {exc}>"
        exact = isinstance(value, (int, float, str, bytes, bool, type(None))) and len(text) <= _VALUE_CHARS
        if not exact:
            try:
                import cloudpickle

                digest = hashlib.sha256(cloudpickle.dumps(value)).hexdigest()[:12]
            except Exception:  # noqa: BLE001 - unpicklable after load_context: the repr is all there is
                digest = "?"
            text = (text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…") + f" [pickle {digest}]"
        facts[f"self.{attribute}"] = f"{type(value).__name__} {text}"
    return facts


def _facts(card: Any) -> dict[str, dict[str, str]]:
    """What is compared between two cards, as key -> text per section."""
    data, volatile = card.data, card.volatile
    signature = data.get("signature") or {}
    pins = volatile.get("pins") or {}
    sizes = volatile.get("sizes") or {}

    def columns(part: str) -> dict[str, str]:
        rows = signature.get(part) or []
        return {str(r["name"]): r["type"] + ("" if r.get("required", True) else " (optional)") for r in rows}

    return {
        "inputs": columns("inputs"),
        "outputs": columns("outputs"),
        "params": {p["name"]: f"{p['type']} = {p['default']!r}" for p in signature.get("params") or []},
        "requirements": {r["name"]: pins.get(r["name"], r["name"]) for r in data.get("requirements") or []},
        "artifacts": {
            a["key"]: f"{a['path']} ({sizes.get(a['path'], '?')} B)" if a["path"] in sizes else a["path"]
            for a in data.get("artifacts") or []
        },
    }


_KEY = {
    "inputs": "column",
    "outputs": "column",
    "params": "param",
    "requirements": "requirement",
    "artifacts": "key",
    "state": "attribute",
}


def _diff_html(section: str, rows: list[tuple[str, str, str, bool]]) -> str:
    if not rows:
        return ""
    body = "".join(
        f'<tr class="{"pfj-changed" if changed else ""}"><td>{escape(k)}</td><td>{escape(a)}</td><td>{escape(b)}</td>'
        f"<td>{'changed' if changed else ''}</td></tr>"
        for k, a, b, changed in rows
    )
    return (
        f"<h4>{escape(section)}</h4><table><thead><tr><th>{escape(_KEY[section])}</th><th>A</th><th>B</th>"
        "<th></th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


class CompareTab(widgets.VBox):
    """Pick versions A and B; run the same input through both; show outputs and the diffs."""

    def __init__(self) -> None:
        self.a = widgets.Dropdown(description="A", style=_STYLE, layout=widgets.Layout(width="95%"))
        self.b = widgets.Dropdown(description="B", style=_STYLE, layout=widgets.Layout(width="95%"))
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh", tooltip="Read the store again")
        self.editor = widgets.VBox([])
        self.compare_button = widgets.Button(
            description="Compare",
            button_style="primary",
            icon="columns",
            disabled=True,
            tooltip="Run the input through A and B",
        )
        self.status = widgets.HTML()
        self.outputs = widgets.HTML()
        self.diffs = widgets.HTML()
        self.diffs.add_class("pfj-diffs")
        self.preview: dict[str, Any] | None = None
        self.differences: dict[str, list] = {}
        self.refresh_button.on_click(lambda _: self.refresh())
        self.a.observe(self._chosen, names="value")
        self.b.observe(self._chosen, names="value")
        self.compare_button.on_click(lambda _: self.compare())
        super().__init__(
            [
                widgets.HBox([self.a, self.refresh_button]),
                self.b,
                self.editor,
                self.compare_button,
                self.status,
                self.outputs,
                self.diffs,
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        """Read the store's versions into both dropdowns."""
        from ..errors import PyfuncError
        from ..store.active import list_models
        from .load_tab import version_options

        try:
            entries = [e for e in list_models() if not e.error]
        except PyfuncError as exc:  # a tracking server that is down
            entries = []
            self.status.value = message(str(exc))
        options = [("(choose)", None), *version_options(entries)]
        for dropdown in (self.a, self.b):
            current = dropdown.value
            dropdown.options = options
            dropdown.value = current if current in {v for _, v in options} else None

    def _chosen(self, change: dict) -> None:
        from ..store.loading import saved_example

        self.compare_button.disabled = self.a.value is None or self.b.value is None
        if change["owner"] is self.a and self.a.value is not None:
            try:
                example, _ = saved_example(self.a.value)
            except Exception as exc:  # noqa: BLE001 - typed JSON input still works
                example = None
                self.status.value = message(f"A's saved input example cannot be read ({exc}); type an input as JSON.")
            self.editor.children = [InputEditor(example)]

    def compare(self) -> None:
        """Predict with A and B on the input; mark differing cells; diff signature, params, requirements, artifacts."""
        from ..authoring.preview import as_table, build_preview
        from ..card.modelcard import model_card
        from ..card.render import render_preview_html
        from ..errors import PyfuncError
        from ..format.samplecopy import sample_copy
        from ..store.loading import load_model

        self.status.value = self.outputs.value = self.diffs.value = ""
        if self.a.value is None or self.b.value is None:
            self.status.value = message("Choose two versions first.")
            return
        try:
            data = self.editor.children[0].value() if self.editor.children else None
        except ValueError as exc:
            self.status.value = message(str(exc))
            return
        outputs = []
        cards, states = [], []
        for label, uri in (("A", self.a.value), ("B", self.b.value)):
            try:
                cards.append(model_card(uri))
                model = load_model(uri)
                states.append(state_facts(model, [s["attribute"] for s in cards[-1].data.get("state") or []]))
            except (PyfuncError, OSError) as exc:
                self.status.value = message(f"Cannot load {label} ({uri}): {exc} Refresh the list.")
                return
            try:
                # each version predicts on its own copy: one that edits its input must not change the other's
                outputs.append({"label": f"{label}: {uri}", "table": as_table(model.predict(sample_copy(data)))})
            except Exception as exc:  # noqa: BLE001 - shown in the comparison
                outputs.append({"label": f"{label}: {uri}", "error": f"{type(exc).__name__}: {exc}"})
        self.preview = preview = build_preview(as_table(data, is_input=True), outputs)
        self.outputs.value = render_preview_html(preview)
        a, b = _facts(cards[0]), _facts(cards[1])
        a["state"], b["state"] = states
        self.differences = {section: diff_rows(a[section], b[section]) for section in a}
        self.diffs.value = (
            _DIFF_CSS
            + '<div class="pfj-diffs">'
            + "".join(_diff_html(section, rows) for section, rows in self.differences.items())
            + "</div>"
        )
        changed = [section for section, rows in self.differences.items() if any(r[3] for r in rows)]
        status = preview["outputs"][1]["status"]
        self.status.value = message(f"Outputs: {status}. Changed: {', '.join(changed) or 'nothing'}.", "info")
