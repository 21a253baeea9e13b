"""The panel's Load tab: browse the store, show a version's card, load it, and try inputs and params."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .forms import InputEditor, ParamsForm, display_data, message, table_html

if TYPE_CHECKING:
    from ..card.modelcard import ModelCard
    from ..format.load import LoadedModel

__all__ = ["LoadTab", "version_options"]

_STYLE = {"description_width": "120px"}


def _size(size: int | None) -> str:
    from ..card.render import format_size

    return format_size(size) if size is not None else "?"


def version_options(entries: list[Any], needle: str = "") -> list[tuple[str, str]]:
    """(label, uri) of store entries whose name or signature contains ``needle``, newest version first."""
    needle = needle.strip().lower()
    options = []
    for entry in sorted(entries, key=lambda e: (e.name, -e.version)):
        aliases = list(getattr(entry, "aliases", None) or [])
        if (
            needle
            and needle not in entry.name.lower()
            and needle not in (entry.signature_summary or "").lower()
            and not any(needle in alias.lower() for alias in aliases)
        ):
            continue
        facts = (
            f"broken: {entry.error}"
            if entry.error
            else (f"{entry.created or '?'} · {entry.signature_summary or 'no signature'} · {_size(entry.size_bytes)}")
        )
        named = "".join(f" @{alias}" for alias in aliases)
        options.append((f"{entry.name} v{entry.version}{named} · {facts}", entry.uri))
    return options


class LoadTab(widgets.VBox):
    """The store's versions (searchable); a chosen version's card, Load into a variable, and Predict."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace
        self._entries: list[Any] = []
        self.model: LoadedModel | None = None  # the one being tried
        self.card: ModelCard | None = None
        self.prediction = None
        self.search = widgets.Text(
            description="Search", placeholder="name or signature", style=_STYLE, continuous_update=True
        )
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh", tooltip="Read the store again")
        self.versions = widgets.Select(description="Versions", style=_STYLE, rows=8, layout=widgets.Layout(width="95%"))
        self.variable = widgets.Text(value="model", description="Load as", style=_STYLE)
        self.load_button = widgets.Button(
            description="Load",
            icon="download",
            disabled=True,
            tooltip="Bind the loaded model to this variable in the notebook",
        )
        self.card_output = widgets.Output()
        self.editor = widgets.VBox([])
        self.params = ParamsForm()
        self.params_box = widgets.VBox([self.params])
        self.predict_button = widgets.Button(
            description="Predict",
            button_style="primary",
            icon="play",
            disabled=True,
            tooltip="Run the model on this input with these params",
        )
        self.status = widgets.HTML()
        self.result = widgets.HTML()
        # the registry: aliases (models:/name@alias) and the version's description
        self.registry_info = widgets.HTML()
        self.alias = widgets.Text(description="Alias", placeholder="champion", style=_STYLE)
        self.alias_button = widgets.Button(
            description="Set alias",
            icon="tag",
            disabled=True,
            tooltip="Point this alias of the model at the chosen version",
        )
        self.remove_alias_button = widgets.Button(
            description="Remove alias", icon="times", disabled=True, tooltip="Remove this alias of the model"
        )
        self.description = widgets.Textarea(description="Description", style=_STYLE, layout=widgets.Layout(width="95%"))
        self.description_button = widgets.Button(
            description="Save description",
            icon="save",
            disabled=True,
            tooltip="Set the chosen version's description in the store",
        )
        self.alias_button.on_click(lambda _: self.set_alias())
        self.remove_alias_button.on_click(lambda _: self.remove_alias())
        self.description_button.on_click(lambda _: self.save_description())
        self.search.observe(lambda _: self._filter(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.versions.observe(self._chosen, names="value")
        self.load_button.on_click(lambda _: self.load())
        self.predict_button.on_click(lambda _: self.predict())
        registry = widgets.VBox(
            [
                self.registry_info,
                widgets.HBox([self.alias, self.alias_button, self.remove_alias_button]),
                self.description,
                self.description_button,
            ]
        )
        super().__init__(
            [
                widgets.HBox([self.search, self.refresh_button]),
                self.versions,
                self.card_output,
                widgets.HBox([self.variable, self.load_button]),
                registry,
                self.editor,
                self.params_box,
                self.predict_button,
                self.status,
                self.result,
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        """Read the store's listing (summary files only: fast, never unpickles)."""
        from ..errors import PyfuncError
        from ..store.active import list_models

        try:
            self._entries = list_models()
        except PyfuncError as exc:  # a tracking server that is down: say so, keep the panel usable
            self._entries = []
            self._filter()
            self.status.value = message(str(exc))
            return
        self._filter()
        if not self._entries:
            self.status.value = message(
                "The store is empty: save a model with the Save tab or a %%pyfunc_model cell.", "info"
            )

    def _filter(self) -> None:
        current = self.versions.value
        options = version_options(self._entries, self.search.value)
        self.versions.options = options
        self.versions.value = current if current in {uri for _, uri in options} else None

    def _chosen(self, change: dict) -> None:
        from ..card.modelcard import model_card
        from ..errors import PyfuncError
        from ..store.loading import saved_example

        self.model, self.prediction = None, None
        self.editor.children, self.params_box.children = [], []
        self.status.value = self.result.value = ""
        self.load_button.disabled = self.predict_button.disabled = change["new"] is None
        self._show_registry()
        self.card_output.outputs = ()
        if change["new"] is None:
            return
        try:
            self.card = model_card(change["new"])
        except (PyfuncError, OSError) as exc:
            self.status.value = message(f"{exc} Refresh the list.")
            self.load_button.disabled = self.predict_button.disabled = True
            return
        self.card_output.outputs = (display_data(self.card),)
        try:
            example, param_schema = saved_example(change["new"])
        except Exception as exc:  # noqa: BLE001 - an unreadable example must not hide the card
            example, param_schema = None, None
            self.status.value = message(f"The saved input example cannot be read ({exc}); type an input as JSON.")
        self.editor.children = [InputEditor(example)]
        self.params = ParamsForm(param_schema)
        self.params_box.children = [self.params]

    def _entry(self) -> Any:
        """The listing entry of the chosen version, or None."""
        return next((e for e in self._entries if e.uri == self.versions.value), None)

    def _show_registry(self) -> None:
        from html import escape

        entry = self._entry()
        for button in (self.alias_button, self.remove_alias_button, self.description_button):
            button.disabled = entry is None or bool(entry.error)
        if entry is None:
            self.registry_info.value, self.description.value = "", ""
            return
        aliases = ", ".join(f"<code>models:/{escape(entry.name)}@{escape(a)}</code>" for a in entry.aliases)
        tags = ", ".join(f"{escape(k)}={escape(v)}" for k, v in sorted(entry.tags.items()))
        self.registry_info.value = (
            f"<div>Aliases: {aliases or 'none'}" + (f" · Tags: {tags}" if tags else "") + "</div>"
        )
        self.description.value = entry.description or ""

    def _registry_change(self, change: Any, done: Any) -> None:
        """Run a registry change on the chosen version, then re-read the store (keeping the choice)."""
        from ..errors import PyfuncError

        entry = self._entry()
        if entry is None:
            self.status.value = message("Choose a version first.")
            return
        try:
            change(entry)
        except PyfuncError as exc:
            self.status.value = message(str(exc))
            return
        self.refresh()
        self._show_registry()
        self.status.value = message(done(entry), "ok")

    def set_alias(self) -> None:
        """Point the typed alias of the chosen version's model at that version."""
        from ..store.active import set_registered_model_alias

        alias = self.alias.value.strip()
        if not alias:
            self.status.value = message("Type an alias first, e.g. champion.")
            return
        self._registry_change(
            lambda e: set_registered_model_alias(e.name, alias, e.version),
            lambda e: f"models:/{e.name}@{alias} now points to {e.uri}.",
        )

    def remove_alias(self) -> None:
        """Remove the typed alias of the chosen version's model."""
        from ..store.active import delete_registered_model_alias

        alias = self.alias.value.strip()
        if not alias:
            self.status.value = message("Type the alias to remove.")
            return
        self._registry_change(
            lambda e: delete_registered_model_alias(e.name, alias), lambda e: f"Removed alias {alias!r} of {e.name}."
        )

    def save_description(self) -> None:
        """Set the chosen version's description to the text in the box."""
        from ..store.active import update_model_version

        text = self.description.value
        self._registry_change(
            lambda e: update_model_version(e.name, e.version, description=text),
            lambda e: f"Saved the description of {e.uri}.",
        )

    def _ensure_loaded(self) -> Any:
        from ..store.loading import load_model

        if self.model is None:
            self.model = load_model(self.versions.value)
        return self.model

    def load(self) -> None:
        """Load the chosen version and bind it to the variable name."""
        from ..errors import PyfuncError

        name = self.variable.value.strip()
        if not name.isidentifier():
            self.status.value = message(f"{name!r} is not a valid variable name.")
            return
        try:
            self._namespace[name] = self._ensure_loaded()
        except (PyfuncError, OSError) as exc:
            self.status.value = message(f"Cannot load {self.versions.value}: {exc} Refresh the list.")
            return
        self.status.value = message(f"Loaded {self.versions.value} as `{name}`.", "ok")

    def predict(self) -> None:
        """Predict on the edited input with the form's params; show the output or the enforcement error."""
        from ..authoring.preview import as_table
        from ..errors import PyfuncError

        self.result.value = ""
        try:
            model = self._ensure_loaded()
            data = self.editor.children[0].value()
            params = self.params.values()
        except (PyfuncError, OSError) as exc:
            self.status.value = message(f"Cannot load {self.versions.value}: {exc} Refresh the list.")
            return
        except ValueError as exc:
            self.status.value = message(str(exc))
            return
        try:
            self.prediction = model.predict(data, params)
        except Exception as exc:  # noqa: BLE001 - the model's or the enforcement's error, shown inline
            self.status.value = message(f"{type(exc).__name__}: {exc}")
            return
        self.status.value = message("Predicted.", "ok")
        self.result.value = table_html(as_table(self.prediction))
