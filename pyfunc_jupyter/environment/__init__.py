"""The model's environment: import recording, installed distributions, requirements and env files."""

__all__ = ["imports", "distributions", "markers", "requirements", "envfiles"]
