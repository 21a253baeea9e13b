"""Authoring a model: the save pipeline, its checks, the fresh-process check and the preview (no Jupyter)."""

__all__ = ["pipeline", "checks", "fresh", "preview", "candidates"]
