"""The ipywidgets save/load panel (Save, Load and Compare tabs)."""

from .panel import Panel, panel

__all__ = ["Panel", "panel"]
