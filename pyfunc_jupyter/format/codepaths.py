"""Per-model isolation of the modules a model ships under ``code/``."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType

__all__ = ["CodeModules", "code_module_names"]

_LOCK = threading.RLock()


def code_module_names(code_dir: Path) -> set[str]:
    """Top-level import names a ``code/`` directory provides (modules and packages)."""
    names = set()
    for entry in code_dir.iterdir():
        if entry.name.startswith((".", "__pycache__")):
            continue
        if entry.is_dir() and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.suffix in (".py", ".pyc", ".so") and entry.stem.split(".")[0].isidentifier():
            names.add(entry.stem.split(".")[0])
    return names


def _owned(name: str, tops: set[str]) -> bool:
    return name.partition(".")[0] in tops


class CodeModules:
    """The modules of one model's ``code/`` directory, swapped into ``sys.modules`` while it runs.

    MLflow prepends ``code/`` to ``sys.path`` for good and reuses any module of the same name that
    is already imported, so two models shipping ``helpers.py`` share the first one. Here each model
    imports its own copy, and its copy is in place only while that model loads or predicts.
    """

    def __init__(self, code_dir: Path) -> None:
        self.code_dir = code_dir
        self.names = code_module_names(code_dir)
        self._modules: dict[str, ModuleType] = {}

    @contextmanager
    def active(self) -> Iterator[None]:
        """Make this model's code modules importable (and only them) for the duration."""
        if not self.names:
            yield
            return
        with _LOCK:
            entry = str(self.code_dir)
            others = {k: sys.modules.pop(k) for k in [k for k in sys.modules if _owned(k, self.names)]}
            sys.modules.update(self._modules)
            sys.path.insert(0, entry)
            try:
                yield
            finally:
                self._modules = {k: sys.modules.pop(k) for k in [k for k in sys.modules if _owned(k, self.names)]}
                sys.modules.update(others)
                with suppress(ValueError):
                    sys.path.remove(entry)
