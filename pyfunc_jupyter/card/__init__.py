"""The model card: its data, its HTML/text rendering, and the store's model list."""

from .listing import ModelList
from .modelcard import MIME_TYPE, ModelCard, model_card

__all__ = ["MIME_TYPE", "ModelCard", "model_card", "ModelList"]
