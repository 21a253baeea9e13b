"""``ModelList``: the local store's models as a table (name, versions, created, signature summary)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from html import escape
from typing import Any

from .render import format_time

__all__ = ["ModelList", "ModelRow"]


@dataclass
class ModelRow:
    """One model name in the store, summarised over its versions."""

    name: str
    versions: list[int]
    created: str | None
    signature_summary: str | None
    size_bytes: int | None
    errors: list[str]


class ModelList:
    """The store's models, one row per name (its latest version's created time and signature)."""

    def __init__(self, rows: list[ModelRow], store: str) -> None:
        self.rows = rows
        self.store = store

    @classmethod
    def from_store(cls, store: str | os.PathLike | None = None) -> ModelList:
        """Read the store (only the summary files; no model is unpickled)."""
        from ..store.active import get_store, list_models

        by_name: dict[str, list[Any]] = {}
        for entry in list_models(store):
            by_name.setdefault(entry.name, []).append(entry)
        rows = []
        for name, entries in by_name.items():
            latest = entries[-1]
            rows.append(
                ModelRow(
                    name,
                    [e.version for e in entries],
                    latest.created,
                    latest.signature_summary,
                    latest.size_bytes,
                    [f"v{e.version}: {e.error}" for e in entries if e.error],
                )
            )
        return cls(rows, str(store if store is not None else get_store()))

    def _repr_html_(self) -> str:
        if not self.rows:
            return (
                f"<div>No models in the store <code>{escape(self.store)}</code> yet. Save one with a "
                "<code>%%pyfunc_model</code> cell.</div>"
            )
        head = "".join(f"<th>{h}</th>" for h in ("name", "versions", "created", "signature", "problems"))
        body = "".join(
            f"<tr><td>{escape(r.name)}</td><td>{escape(', '.join(map(str, r.versions)))}</td>"
            f"<td>{escape(format_time(r.created) or '')}</td><td><code>{escape(r.signature_summary or '')}</code></td>"
            f"<td>{escape('; '.join(r.errors))}</td></tr>"
            for r in self.rows
        )
        return (
            f"<div>Store <code>{escape(self.store)}</code></div>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def __repr__(self) -> str:
        if not self.rows:
            return f"No models in the store {self.store} yet. Save one with a %%pyfunc_model cell."
        lines = [f"Store {self.store}"]
        for r in self.rows:
            lines.append(
                f"  {r.name}  versions {', '.join(map(str, r.versions))}  created {format_time(r.created) or '?'}  "
                f"{r.signature_summary or ''}" + (f"  problems: {'; '.join(r.errors)}" if r.errors else "")
            )
        return "\n".join(lines)
