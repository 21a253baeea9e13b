"""``ModelCard``: a model's card as a MIME bundle for JupyterLab, with HTML and text fallbacks."""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = ["MIME_TYPE", "ModelCard", "model_card"]

MIME_TYPE = "application/vnd.pyfunc-jupyter.model+json"


class ModelCard:
    """Signature, requirements, files, checks and preview of one model, displayable in any frontend.

    ``data`` is the card's stable content; ``volatile`` (paths, times, ids, versions, sizes) travels
    in the display metadata so that saved notebooks compare equal from run to run.
    """

    def __init__(self, data: dict[str, Any], volatile: dict[str, Any] | None = None) -> None:
        self.data = data
        self.volatile = volatile or {}
        self.collapsed = False  # all sections folded (the panel sets it: the card must not push its controls away)

    @property
    def findings(self) -> list[dict[str, str]]:
        """The checks shown on the card."""
        return list(self.data.get("checks") or [])

    @property
    def serving(self) -> dict[str, str] | None:
        """``{"serve": "mlflow models serve -m ...", "curl": "curl ... /invocations ..."}`` for this model
        (no ``curl`` without a saved serving example); None for a model that was not saved."""
        from .data import serve_lines

        return serve_lines(
            self.data.get("serve"), self.volatile.get("path"), self.data.get("uri"), self.volatile.get("tracking_uri")
        )

    def to_html(self) -> str:
        """The card as self-contained HTML."""
        from .render import render_html

        return render_html(self.data, self.volatile, collapsed=self.collapsed)

    def to_text(self) -> str:
        """The card as plain text."""
        from .render import render_text

        return render_text(self.data, self.volatile)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        bundle = {MIME_TYPE: self.data, "text/html": self.to_html(), "text/plain": self.to_text()}
        metadata: dict[str, Any] = {"volatile": self.volatile}
        if self.collapsed:
            metadata["collapsed"] = True
        return bundle, {MIME_TYPE: metadata}

    def __repr__(self) -> str:
        return self.to_text()


def model_card(model_uri: str | os.PathLike) -> ModelCard:
    """The card of a saved model (a directory, ``models:/`` or ``runs:/`` URI), without loading it."""
    from .._storeroot import folder_store, remote_store
    from ..store.folder import is_model_name, is_version_name
    from ..store.loading import resolve_model_dir
    from .data import model_card_data

    path = resolve_model_dir(model_uri)
    name, version, uri, tracking_uri = None, None, None, None
    given = os.fspath(model_uri)
    remote = remote_store()
    registered = re.fullmatch(r"models:/([A-Za-z0-9][A-Za-z0-9._-]*)(?:/(\d+|latest)|@([A-Za-z0-9_-]+))", given)
    if remote is not None and registered:  # a tracking server's version, downloaded; served by this URI
        name, number = registered.group(1), registered.group(2)
        version = int(number) if number and number.isdigit() else None
        uri, tracking_uri = given, remote
    elif (
        is_version_name(path.name)
        and is_model_name(path.parent.name)
        and path.parent.parent.resolve() == folder_store().resolve()
    ):
        name, version = path.parent.name, int(path.name)
        uri = f"models:/{name}/{version}"
    data, volatile = model_card_data(
        path, status="saved", name=name, version=version, uri=uri, tracking_uri=tracking_uri
    )
    return ModelCard(data, volatile)
