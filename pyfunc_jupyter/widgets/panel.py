"""``panel()``: one ipywidgets panel to save, load, try and compare models (Save, Load and Compare tabs)."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from .compare_tab import CompareTab
from .load_tab import LoadTab
from .save_tab import SaveTab

__all__ = ["Panel", "panel"]


class Panel(widgets.VBox):
    """The save/load panel. Saving runs the same pipeline as ``%%pyfunc_model`` (checks, save, reload, card)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.load_tab = LoadTab(namespace)
        self.compare_tab = CompareTab()
        self.save_tab = SaveTab(namespace, on_saved=self.refresh_store)
        self.tabs = widgets.Tab(
            children=[self.save_tab, self.load_tab, self.compare_tab], titles=["Save", "Load", "Compare"]
        )
        super().__init__([self.tabs])
        self.add_class("pfj-panel")

    def __repr__(self) -> str:
        # ipywidgets uses this as the text/plain output: what a saved notebook shows without the widget.
        return "<pyfunc-jupyter panel: Save, Load, Compare (needs a running kernel)>"

    def refresh_store(self) -> None:
        """Re-read the store in the Load and Compare tabs (after a save)."""
        self.load_tab.refresh()
        self.compare_tab.refresh()

    def refresh(self) -> None:
        """Re-read the notebook's models and examples, and the store."""
        self.save_tab.refresh()
        self.refresh_store()


def panel(namespace: dict[str, Any] | None = None) -> Panel:
    """The save/load panel over ``namespace`` (default: the notebook's user namespace)."""
    if namespace is None:
        from IPython import get_ipython

        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else {}
    return Panel(namespace)
