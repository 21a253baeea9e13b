"""The local folder store: ``log_model``, runs, ``models:/`` and ``runs:/`` URIs, listing."""

__all__ = ["folder", "loading"]
