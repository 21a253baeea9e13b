"""The panel's Load tab: browse the store, show a version's card, load it, and try inputs and params."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .forms import InputEditor, ParamsForm, display_data, message, table_html

if TYPE_CHECKING:
    from ..card.modelcard import ModelCard
    from ..format.load import LoadedModel

__all__ = ["LoadTab", "version_options", "VERSIONS_CSS"]

# The version list reads as a table: fixed-width columns in the code font.
VERSIONS_CSS = (
    "<style>.pfj-versions select{font-family:var(--jp-code-font-family,monospace);"
    "font-size:12px;white-space:pre}</style>"
)

_STYLE = {"description_width": "120px"}


def _size(size: int | None) -> str:
    from ..card.render import format_size

    return format_size(size) if size is not None else "?"


def version_options(entries: list[Any], needle: str = "") -> list[tuple[str, str]]:
    """(label, uri) of store entries whose name, signature, alias or tag contains ``needle``, newest version first.

    A label is one row of a compact table: ``name vN @aliases  created (local time, to the second)  model size
    signature``, the columns padded to a common width.
    """
    from ..card.render import format_time

    needle = needle.strip().lower()
    chosen = []
    for entry in sorted(entries, key=lambda e: (e.name, -e.version)):
        searched = " ".join(
            [
                entry.name,
                entry.signature_summary or "",
                *(f"@{a}" for a in entry.aliases or []),
                *(f"{k}={v}" for k, v in (entry.tags or {}).items()),
                entry.description or "",
            ]
        )
        if needle and needle not in searched.lower():
            continue
        label = f"{entry.name} v{entry.version}" + "".join(f" @{a}" for a in entry.aliases or [])
        chosen.append((entry, label))
    width = max((len(label) for _, label in chosen), default=0)
    options = []
    for entry, label in chosen:
        facts = (
            f"broken: {entry.error}"
            if entry.error
            else (
                f"{format_time(entry.created) or '?':<23}  {_size(entry.size_bytes):>8}  "
                f"{entry.signature_summary or 'no signature'}"
            )
        )
        options.append((f"{label:<{width}}  {facts}", entry.uri))
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
        self.versions.add_class("pfj-versions")
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
        self.tag_key = widgets.Text(description="Tag", placeholder="key", style=_STYLE)
        self.tag_value = widgets.Text(
            placeholder="value (empty: remove the tag)",
            layout=widgets.Layout(width="30%"),
            tooltip="The tag's value; leave it empty to remove the tag",
        )
        self.tag_button = widgets.Button(
            description="Set tag", icon="tag", disabled=True, tooltip="Set (or, with no value, remove) the tag"
        )
        self.delete_button = widgets.Button(
            description="Delete version",
            icon="trash",
            button_style="danger",
            disabled=True,
            tooltip="Delete this version (click twice: the second click confirms)",
        )
        self._delete_armed: str | None = None
        self.manage = widgets.VBox(
            [
                self.registry_info,
                widgets.HBox([self.description, self.description_button]),
                widgets.HBox([self.tag_key, self.tag_value, self.tag_button]),
                widgets.HBox([self.alias, self.alias_button, self.remove_alias_button]),
                self.delete_button,
            ]
        )
        self.manage.layout.display = "none"
        self.alias_button.on_click(lambda _: self.set_alias())
        self.remove_alias_button.on_click(lambda _: self.remove_alias())
        self.description_button.on_click(lambda _: self.save_description())
        self.search.observe(lambda _: self._filter(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.versions.observe(self._chosen, names="value")
        self.load_button.on_click(lambda _: self.load())
        self.predict_button.on_click(lambda _: self.predict())
        self.tag_button.on_click(lambda _: self.set_tag())
        self.delete_button.on_click(lambda _: self.delete())
        self.manage_section = widgets.Accordion(
            children=[self.manage], titles=["Manage: description, tags, aliases, delete"], selected_index=None
        )
        # the card comes last, folded: choosing a version must not push Load and Predict out of sight
        super().__init__(
            [
                widgets.HTML(VERSIONS_CSS),
                widgets.HBox([self.search, self.refresh_button]),
                self.versions,
                widgets.HBox([self.variable, self.load_button]),
                self.editor,
                self.params_box,
                self.predict_button,
                self.status,
                self.result,
                self.manage_section,
                self.card_output,
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
        self._delete_armed = None
        self.delete_button.description = "Delete version"
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
        self.card.collapsed = True
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
        for button in (
            self.alias_button,
            self.remove_alias_button,
            self.description_button,
            self.tag_button,
            self.delete_button,
        ):
            button.disabled = entry is None or bool(entry.error)
        self.manage.layout.display = "none" if entry is None else ""
        if entry is None:
            self.registry_info.value, self.description.value = "", ""
            return
        aliases = ", ".join(f"<code>models:/{escape(entry.name)}@{escape(a)}</code>" for a in entry.aliases)
        tags = ", ".join(f"{escape(k)}={escape(v)}" for k, v in sorted((entry.tags or {}).items()))
        self.registry_info.value = (
            f"<div><b>{escape(entry.uri)}</b> · Aliases: {aliases or 'none'}"
            + (f" · Tags: {tags}" if tags else "")
            + "</div>"
        )
        self.description.value = entry.description or ""

    def _registry_change(self, change: Any, done: Any) -> bool:
        """Run a registry change on the chosen version, then re-read the store (keeping the choice)."""
        from ..errors import PyfuncError

        entry = self._entry()
        if entry is None:
            self.status.value = message("Choose a version first.")
            return False
        try:
            change(entry)
        except (PyfuncError, OSError) as exc:
            self.status.value = message(str(exc))
            return False
        self.refresh()
        if entry.uri in {u for _, u in self.versions.options}:
            self.versions.value = entry.uri
        self._show_registry()
        self.status.value = message(done(entry), "ok")
        return True

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

    def set_tag(self) -> None:
        """Set the tag ``key=value`` on the chosen version; an empty value removes the tag."""
        from ..store.active import delete_model_version_tag, set_model_version_tag

        key, value = self.tag_key.value.strip(), self.tag_value.value
        if not key:
            self.status.value = message("Type a tag key (and a value; no value removes the tag).")
            return
        if value:
            self._registry_change(
                lambda e: set_model_version_tag(e.name, e.version, key, value),
                lambda e: f"Tag {key}={value} set on {e.uri}.",
            )
        else:
            self._registry_change(
                lambda e: delete_model_version_tag(e.name, e.version, key), lambda e: f"Tag {key} removed from {e.uri}."
            )

    def delete(self) -> None:
        """Delete the chosen version: the first click asks, the second (on the same version) deletes."""
        from ..store.active import delete_model_version

        uri = self.versions.value
        if uri is None:
            self.status.value = message("Choose a version first.")
            return
        if self._delete_armed != uri:
            self._delete_armed = uri
            self.delete_button.description = "Confirm delete"
            self.status.value = message(
                f"Click again to delete {uri} (its files are removed; the number is not reused).", "info"
            )
            return
        self._delete_armed = None
        self.delete_button.description = "Delete version"
        if self._registry_change(lambda e: delete_model_version(e.name, e.version), lambda e: f"Deleted {e.uri}."):
            self.model = self.card = None
            self.card_output.outputs = ()

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
