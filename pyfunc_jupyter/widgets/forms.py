"""Panel building blocks: a params form built from a params schema, and an input editor (table or JSON)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

import ipywidgets as widgets
import traitlets

__all__ = ["ParamsForm", "InputEditor", "DoubleText", "display_data", "message", "table_html"]

MAX_TABLE_ROWS = 20
MAX_TABLE_COLUMNS = 12


def message(text: str, kind: str = "error") -> str:
    """An inline status line as HTML (``error``, ``ok`` or ``info``)."""
    color = {
        "error": "var(--jp-error-color1, #c62828)",
        "ok": "var(--jp-success-color1, #2e7d32)",
        "info": "var(--jp-ui-font-color2, #666)",
    }[kind]
    return f'<div class="pfj-message pfj-message-{kind}" style="color:{color}">{escape(text)}</div>' if text else ""


def display_data(obj: Any) -> dict[str, Any]:
    """``obj`` (a card) as an ``Output`` widget's output, set as widget state so it lands in the widget however
    the code runs (a click, a cell, nbclient, nbval), never under the cell that ran it."""
    data, metadata = obj._repr_mimebundle_()
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def table_html(table: dict[str, Any]) -> str:
    """A small HTML table of ``{"columns", "rows"}``."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in table["columns"])
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(json.dumps(v) if not isinstance(v, str) else v)}</td>" for v in row) + "</tr>"
        for row in table["rows"]
    )
    return f'<table class="pfj-output"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class DoubleText(widgets.Text):
    """A text box for a double param that keeps the decimal point (``1.0``; a number box would show ``1``).

    Numbers assigned to ``value`` are written as text; ``number`` reads it back (a ``ValueError`` naming
    the param for anything that is not a number).
    """

    value = traitlets.Any("").tag(sync=True)  # a number assigned is kept as its text (validated below)

    @traitlets.validate("value")
    def _as_text(self, proposal: dict) -> str:
        value = proposal["value"]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            from ..card.render import format_number

            return format_number(float(value))
        return str(value)

    @property
    def number(self) -> float:
        """The typed value as a float."""
        try:
            return float(self.value)
        except ValueError:
            raise ValueError(f"{self.description} must be a number, e.g. 1.5; got {self.value!r}.") from None


def _param_widget(spec: Any) -> widgets.Widget:
    """The input widget for one ``ParamSpec``: numbers, text, checkbox, or a JSON list for shaped params."""
    name, kind, default = spec.name, spec.dtype.name, spec.default
    style = {"description_width": "initial"}
    if spec.shape is not None:
        return widgets.Text(
            value=json.dumps(default), description=f"{name} (list of {kind})", placeholder="[1, 2, 3]", style=style
        )
    if kind in ("long", "integer"):
        return widgets.IntText(value=default if default is not None else 0, description=f"{name} ({kind})", style=style)
    if kind in ("double", "float"):
        return DoubleText(value=default if default is not None else 0.0, description=f"{name} ({kind})", style=style)
    if kind == "boolean":
        return widgets.Checkbox(value=bool(default), description=f"{name}", indent=False)
    text = default.isoformat() if hasattr(default, "isoformat") else ("" if default is None else str(default))
    return widgets.Text(value=text, description=f"{name} ({kind})", style=style)


class ParamsForm(widgets.VBox):
    """One labelled control per param of a params schema, prefilled with the defaults."""

    def __init__(self, param_schema: Any = None) -> None:
        self._specs = list(param_schema.params) if param_schema is not None else []
        self._controls = [_param_widget(spec) for spec in self._specs]
        header = widgets.HTML("<b>Params</b>" if self._specs else "")
        super().__init__([header, *self._controls])

    def values(self) -> dict[str, Any] | None:
        """The params as the model will get them (lists parsed from JSON); None when there are none."""
        if not self._specs:
            return None
        params = {}
        for spec, control in zip(self._specs, self._controls, strict=True):
            value = control.number if isinstance(control, DoubleText) else control.value
            if spec.shape is not None:
                try:
                    value = json.loads(str(control.value))
                except ValueError:
                    raise ValueError(f"Param {spec.name!r} must be a JSON list, e.g. [1, 2]; got {value!r}.") from None
            params[spec.name] = value
        return params


def _cell_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _cell_widget(value: Any, row: int, column: Any) -> widgets.Text:
    """One editable table cell; its tooltip is its label (column and row) for keyboard and screen-reader users."""
    return widgets.Text(
        value=_cell_text(value), layout=widgets.Layout(width="auto"), tooltip=f"{column}, row {row + 1}"
    )


def _cell_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


class InputEditor(widgets.VBox):
    """Edit a model input as a table (DataFrames) or as JSON; ``value()`` gives the input to predict on."""

    def __init__(self, example: Any = None) -> None:
        import pandas as pd

        from ..format.example import to_json_value

        self._frame = isinstance(example, pd.DataFrame)
        self.mode = widgets.ToggleButtons(
            options=["Table", "JSON"] if self._frame else ["JSON"],
            description="Input as",
            tooltips=["Edit cells", "Edit JSON"],
        )
        self.json = widgets.Textarea(
            description="Input",
            placeholder='{"columns": ["x"], "data": [[1.0]]}',
            layout=widgets.Layout(width="95%", height="120px"),
        )
        self._columns: list[Any] = []
        self._cells: list[list[widgets.Text]] = []
        self.grid = widgets.GridBox()
        if self._frame:
            frame = example.head(MAX_TABLE_ROWS).iloc[:, :MAX_TABLE_COLUMNS]
            self._columns = list(frame.columns)
            self._cells = [
                [_cell_widget(v, r, c) for c, v in zip(self._columns, to_json_value(list(row)), strict=True)]
                for r, row in enumerate(frame.itertuples(index=False, name=None))
            ]
            self._layout_grid()
            self.json.value = json.dumps(
                {"columns": to_json_value(self._columns), "data": to_json_value(frame.values.tolist())}
            )
        elif example is not None:
            self.json.value = json.dumps(to_json_value(example))
        self.mode.observe(self._switch, names="value")
        super().__init__([self.mode, self.grid if self._frame else self.json])

    def _layout_grid(self) -> None:
        headers = [widgets.HTML(f"<b>{escape(str(c))}</b>") for c in self._columns]
        width = max(len(self._columns), 1)
        self.grid.children = [*headers, *[cell for row in self._cells for cell in row]]
        self.grid.layout = widgets.Layout(grid_template_columns=f"repeat({width}, minmax(60px, 160px))")

    def _switch(self, change: dict) -> None:
        if change["new"] == "JSON":
            self.json.value = json.dumps({"columns": self._columns, "data": self._table_rows()})
            self.children = [self.mode, self.json]
        else:
            try:
                frame = self._from_json()
            except ValueError as exc:
                self.mode.value = "JSON"
                raise ValueError(f"The JSON does not make a table: {exc}") from None
            self._columns = list(frame.columns)
            self._cells = [
                [_cell_widget(v, r, c) for c, v in zip(self._columns, row, strict=True)]
                for r, row in enumerate(frame.values.tolist())
            ]
            self._layout_grid()
            self.children = [self.mode, self.grid]

    def _table_rows(self) -> list[list[Any]]:
        return [[_cell_value(cell.value) for cell in row] for row in self._cells]

    def cell(self, row: int, column: int) -> widgets.Text:
        """The text box of one table cell."""
        return self._cells[row][column]

    def _from_json(self) -> Any:
        import pandas as pd

        try:
            payload = json.loads(self.json.value)
        except ValueError as exc:
            raise ValueError(f"The input is not valid JSON ({exc.args[0]}).") from None
        if self._frame:
            if not isinstance(payload, dict) or "data" not in payload:
                raise ValueError('A table input needs {"columns": [...], "data": [[...], ...]}.')
            return pd.DataFrame(payload["data"], columns=payload.get("columns"))
        return payload

    def value(self) -> Any:
        """The input to predict on: a DataFrame from the table or JSON, or the JSON value."""
        import pandas as pd

        if self._frame and self.mode.value == "Table":
            return pd.DataFrame(self._table_rows(), columns=self._columns)
        return self._from_json()
