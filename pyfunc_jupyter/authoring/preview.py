"""The side-by-side preview: the example's rows beside each prediction, with differing cells marked."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_ROWS", "as_table", "json_table", "compare", "build_preview", "unsendable_table", "type_name"]

MAX_ROWS = 20


def _cell(value: Any) -> Any:
    """A JSON cell: scalars as they are, anything nested as compact JSON text."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return json.dumps(value, separators=(",", ":"), default=str)


def json_table(value: Any) -> dict[str, Any]:
    """``{"columns", "rows"}`` of a JSON value as a scoring server would send it (records, lists, scalars)."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        columns: list[str] = []
        for record in value:
            columns += [k for k in record if k not in columns]
        return {"columns": columns, "rows": [[_cell(r.get(c)) for c in columns] for r in value]}
    if (
        isinstance(value, dict)
        and value
        and all(isinstance(v, list) for v in value.values())
        and len({len(v) for v in value.values()}) == 1
    ):
        columns = list(value)
        return {"columns": columns, "rows": [list(map(_cell, row)) for row in zip(*value.values(), strict=True)]}
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value) and len({len(v) for v in value}) == 1:
            return {"columns": [str(i) for i in range(len(value[0]))], "rows": [list(map(_cell, v)) for v in value]}
        return {"columns": ["value"], "rows": [[_cell(v)] for v in value]}
    return {"columns": ["value"], "rows": [[_cell(value)]]}


def unsendable_table(type_name: str) -> dict[str, Any]:
    """The one-cell table of a prediction that cannot be sent as JSON (compared by its type only)."""
    return {"columns": ["value"], "rows": [[f"<not JSON: {type_name}>"]]}


def type_name(value: Any) -> str:
    """``module.QualName`` of the value's type."""
    return f"{type(value).__module__}.{type(value).__qualname__}"


def as_table(value: Any, *, is_input: bool = False) -> dict[str, Any]:
    """A table of an example or a prediction (predictions go through the scoring server's JSON rules)."""
    import pandas as pd

    from ..format.example import prediction_to_json, to_json_value

    if is_input:
        if isinstance(value, pd.DataFrame):
            return {
                "columns": [str(c) for c in value.columns],
                "rows": [list(map(_cell, to_json_value(list(r)))) for r in value.itertuples(index=False, name=None)],
            }
        try:
            return json_table(to_json_value(value))
        except TypeError:
            return {"columns": ["value"], "rows": [[repr(value)]]}
    try:
        return json_table(prediction_to_json(value)["predictions"])
    except TypeError:
        return unsendable_table(type_name(value))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[list[int]]:
    """The ``[row, column]`` cells of ``actual`` that differ from ``expected`` (shape changes: every cell)."""
    if expected["columns"] != actual["columns"] or len(expected["rows"]) != len(actual["rows"]):
        return [[r, c] for r, row in enumerate(actual["rows"]) for c in range(len(row))] or [[0, 0]]
    return [
        [r, c]
        for r, (row_a, row_b) in enumerate(zip(expected["rows"], actual["rows"], strict=True))
        for c, (a, b) in enumerate(zip(row_a, row_b, strict=False))
        if not _same(a, b)
    ]


def _cut(table: dict[str, Any]) -> dict[str, Any]:
    return {"columns": table["columns"], "rows": table["rows"][:MAX_ROWS], "total_rows": len(table["rows"])}


def build_preview(example: dict[str, Any], outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """The card's preview: the input table and each output (``label``, ``table`` or ``error``) vs the first."""
    reference = outputs[0].get("table")
    shown = []
    for index, output in enumerate(outputs):
        entry = {"label": output["label"]}
        if output.get("error"):
            entry.update(status="error", error=output["error"])
        elif reference is None or output.get("table") is None:
            entry.update(status="missing")
        else:
            diff = [] if index == 0 else [d for d in compare(reference, output["table"]) if d[0] < MAX_ROWS]
            mismatch = index > 0 and bool(compare(reference, output["table"]))
            entry.update(
                status="mismatch" if mismatch else ("reference" if index == 0 else "match"),
                table=_cut(output["table"]),
                diff=diff,
            )
        shown.append(entry)
    return {"input": _cut(example), "outputs": shown}
