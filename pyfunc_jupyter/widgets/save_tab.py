"""The panel's Save tab: pick a model and an example from the notebook, then run the magic's pipeline."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..authoring.candidates import example_candidates, model_candidates, required_init_args
from .forms import display_data, message

if TYPE_CHECKING:
    from ..authoring.pipeline import Authored

__all__ = ["SaveTab"]

_WIDE = widgets.Layout(width="95%")
_STYLE = {"description_width": "120px"}


class _ArtifactRow(widgets.HBox):
    """One artifact: a key, a path, and a remove button."""

    def __init__(self, on_remove: Any) -> None:
        self.key = widgets.Text(description="Artifact key", placeholder="weights", style=_STYLE)
        self.path = widgets.Text(description="Path", placeholder="model.bin", style={"description_width": "40px"})
        self.remove = widgets.Button(description="Remove", tooltip="Remove this artifact", icon="trash")
        self.remove.on_click(lambda _: on_remove(self))
        super().__init__([self.key, self.path, self.remove])


class SaveTab(widgets.VBox):
    """Choose a model and an example from the namespace, name it, give params, artifacts and requirements, save."""

    def __init__(self, namespace: dict[str, Any], on_saved: Any = None) -> None:
        self._namespace = namespace
        self._on_saved = on_saved
        self._inferred: list[str] | None = None
        self.card = None  # the last card shown
        self.result: Authored | None = None  # the last one saved
        self.model = widgets.Dropdown(description="Model", style=_STYLE, layout=_WIDE)
        self.example = widgets.Dropdown(description="Input example", style=_STYLE, layout=_WIDE)
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="Look again for models and examples in the notebook"
        )
        self.name = widgets.Text(description="Name", style=_STYLE, placeholder="(from the class or function name)")
        self.params = widgets.Textarea(
            description="Params (JSON)", style=_STYLE, layout=_WIDE, placeholder='{"slope": 2, "intercept": 3}'
        )
        self.artifacts = widgets.VBox([])
        self.add_artifact = widgets.Button(
            description="Add artifact",
            icon="plus",
            tooltip="Ship a file or directory; load_context reads context.artifacts[key]",
        )
        self.requirements = widgets.Textarea(
            description="Requirements",
            style=_STYLE,
            layout=_WIDE,
            placeholder="inferred when a model and an example are chosen",
        )
        self.save_button = widgets.Button(
            description="Save",
            button_style="primary",
            icon="save",
            disabled=True,
            tooltip="Check, save, reload in a fresh process, and show the card",
        )
        self.progress = widgets.HTML()
        self.error = widgets.HTML()
        self.output = widgets.Output()
        self.refresh_button.on_click(lambda _: self.refresh())
        self.add_artifact.on_click(lambda _: self._add_artifact_row())
        self.save_button.on_click(lambda _: self.save())
        self.model.observe(self._chosen, names="value")
        self.example.observe(self._chosen, names="value")
        super().__init__(
            [
                widgets.HBox([self.model, self.refresh_button]),
                self.example,
                self.name,
                self.params,
                self.artifacts,
                self.add_artifact,
                self.requirements,
                widgets.HBox([self.save_button, self.progress]),
                self.error,
                self.output,
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        """Read the notebook's models and examples again (keeping the current choices when still there)."""
        for dropdown, options in (
            (self.model, model_candidates(self._namespace)),
            (self.example, example_candidates(self._namespace)),
        ):
            current = dropdown.value
            dropdown.options = [("(choose)", None), *options]
            dropdown.value = current if current in {v for _, v in options} else None

    def _add_artifact_row(self) -> _ArtifactRow:
        row = _ArtifactRow(self._remove_artifact_row)
        self.artifacts.children = [*self.artifacts.children, row]
        return row

    def _remove_artifact_row(self, row: _ArtifactRow) -> None:
        self.artifacts.children = [r for r in self.artifacts.children if r is not row]

    def add_artifact_row(self, key: str, path: str) -> None:
        """Add an artifact row filled in (what clicking "Add artifact" and typing does)."""
        row = self._add_artifact_row()
        row.key.value, row.path.value = key, path

    def _chosen(self, _change: Any = None) -> None:
        ready = self.model.value is not None and self.example.value is not None
        self.save_button.disabled = not ready
        self.error.value = ""
        if ready:
            self._prefill_requirements()

    def _prefill_requirements(self) -> None:
        from ..authoring.pipeline import infer_requirements

        self.progress.value = message("inferring requirements…", "info")
        try:
            model = self._model_object()
            self._inferred = infer_requirements(model, self._namespace[self.example.value], self._params())
            self.requirements.value = "\n".join(self._inferred)
            self.progress.value = ""
        except Exception as exc:  # noqa: BLE001 - shown inline; saving will say the same with its fix
            self._inferred = None
            self.requirements.value = ""
            self.progress.value = message(f"Requirements not inferred yet: {exc}", "info")

    def _model_object(self) -> Any:
        value = self._namespace[self.model.value]
        if not isinstance(value, type):
            return value
        needed = required_init_args(value)
        if needed:
            raise ValueError(
                f"{value.__name__}.__init__ needs {', '.join(needed)}: make an instance in the notebook "
                f"(model = {value.__name__}(...)), then Refresh and choose it."
            )
        return value()

    def _params(self) -> dict | None:
        text = self.params.value.strip()
        if not text:
            return None
        try:
            params = json.loads(text)
        except ValueError as exc:
            raise ValueError(
                f'Params are not valid JSON ({exc.args[0]}). Write a JSON object, e.g. {{"slope": 2}}.'
            ) from None
        if not isinstance(params, dict):
            raise ValueError('Params must be a JSON object of names to defaults, e.g. {"slope": 2}.')
        return params

    def _artifact_dict(self) -> dict[str, str] | None:
        artifacts = {}
        for row in self.artifacts.children:
            key, path = row.key.value.strip(), row.path.value.strip()
            if not key and not path:
                continue
            if not key or not path:
                raise ValueError("Each artifact needs both a key and a path (or remove the row).")
            artifacts[key] = path
        return artifacts or None

    def _requirements(self) -> list[str] | None:
        lines = [line.strip() for line in self.requirements.value.splitlines() if line.strip()]
        return None if not lines or lines == self._inferred else lines  # unchanged: infer, with provenance

    def save(self) -> None:
        """Run the magic's pipeline on the chosen model and example, and show the card (or the error)."""
        from ..authoring.pipeline import AuthorRequest, PredictError, author
        from ..errors import PyfuncError

        self.error.value = ""
        if self.model.value is None or self.example.value is None:
            self.error.value = message("Choose a model and an input example first.")
            return
        self.save_button.disabled = True
        try:
            request = AuthorRequest(
                model=self._model_object(),
                input_example=self._namespace[self.example.value],
                params=self._params(),
                name=self.name.value.strip() or None,
                artifacts=self._artifact_dict(),
                pip_requirements=self._requirements(),
                source="panel",
            )
            result = author(
                request, progress=lambda stage: setattr(self.progress, "value", message(stage + "…", "info"))
            )
        except PredictError as exc:
            self.error.value = message(f"{exc} Fix the model or the example and save again.")
            return
        except (PyfuncError, ValueError, KeyError) as exc:
            self.error.value = message(f"Not saved: {exc}")
            return
        finally:
            self.save_button.disabled = self.model.value is None or self.example.value is None
            self.progress.value = ""
        self.result, self.card = result, result.card
        self.output.outputs = (display_data(result.card),)
        if result.saved:
            self.progress.value = message(f"Saved {result.info.model_uri}", "ok")
            if self._on_saved:
                self._on_saved()
        else:
            self.error.value = message(f"Not saved: {len(result.errors)} check(s) failed (see the card).")
