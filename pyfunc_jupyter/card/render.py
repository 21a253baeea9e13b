"""The model card as HTML (classic Notebook, VS Code, nbviewer, GitHub) and as plain text."""

from __future__ import annotations

import json
from html import escape
from typing import Any

__all__ = ["render_html", "render_preview_html", "render_text", "format_size"]

_STYLE = """
.pfj-card{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;
 color:var(--jp-ui-font-color1,inherit);border:1px solid var(--jp-border-color2,#ccc);border-radius:4px;
 padding:8px 12px;max-width:100%;overflow-x:auto}
.pfj-card h4{margin:10px 0 4px;font-size:13px}
.pfj-card table{border-collapse:collapse;margin:2px 0 6px}
.pfj-card th,.pfj-card td{border:1px solid var(--jp-border-color2,#ddd);padding:2px 6px;text-align:left;
 vertical-align:top;font-family:var(--jp-code-font-family,monospace);font-size:12px}
.pfj-card th{background:var(--jp-layout-color2,#f3f3f3);font-family:inherit}
.pfj-title{font-size:15px;font-weight:600}
.pfj-muted{color:var(--jp-ui-font-color2,#666)}
.pfj-badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:11px;margin-left:6px;
 border:1px solid currentColor}
.pfj-ok{color:var(--jp-success-color1,#2e7d32)}
.pfj-error{color:var(--jp-error-color1,#c62828)}
.pfj-warning{color:var(--jp-warn-color1,#b26a00)}
.pfj-card td.pfj-diff{background:var(--jp-error-color3,#fde0e0);color:var(--jp-error-color0,#8e0000);
 font-weight:600}
.pfj-card ul{margin:2px 0 6px;padding-left:18px}
.pfj-card pre.pfj-code{margin:2px 0 4px;padding:3px 6px;white-space:pre-wrap;word-break:break-all;
 font-family:var(--jp-code-font-family,monospace);font-size:12px;background:var(--jp-layout-color2,#f3f3f3)}
"""

# Inline, not in _STYLE: every card's HTML carries _STYLE, and only code-model cards need this.
_CODE_STYLE = (
    "margin:2px 0 6px;padding:4px 6px;background:var(--jp-layout-color2,#f7f7f7);"
    "font-family:var(--jp-code-font-family,monospace);font-size:12px;overflow-x:auto;white-space:pre"
)

_STATUS_CLASS = {
    "reference": "pfj-muted",
    "match": "pfj-ok",
    "mismatch": "pfj-error",
    "error": "pfj-error",
    "missing": "pfj-muted",
}
_STATUS_MARK = {"reference": "", "match": "✓ match", "mismatch": "✗ mismatch", "error": "✗ failed", "missing": "–"}


def format_size(size: int | None) -> str:
    """Bytes as B, KB, MB or GB."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop always returns


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.10g}"  # enough digits that a marked difference is visible
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _param_default(param: dict) -> str:
    """A param's default; a float param's whole-number default keeps its decimal point, which JSON loses."""
    value = param["default"]
    if (
        param["type"] in ("double", "float")
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and float(value).is_integer()
        and abs(value) < 1e16
    ):
        return f"{float(value):.1f}"
    return _text(value)


def _table(header: list[str], rows: list[list[Any]], classes: list[list[str]] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            css = classes[r][c] if classes else ""
            cells.append(
                f'<td class="{css}">{escape(_text(value))}</td>' if css else f"<td>{escape(_text(value))}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _head_html(data: dict, volatile: dict) -> str:
    status = data.get("status") or ""
    css = "pfj-error" if status == "not saved" else "pfj-ok"
    version = f" v{data['version']}" if data.get("version") is not None else ""
    parts = [
        f'<div><span class="pfj-title">{escape(str(data.get("name") or "model"))}{version}</span>'
        f'<span class="pfj-badge {css}">{escape(status)}</span></div>'
    ]
    facts = [data.get("model"), data.get("uri"), volatile.get("path")]
    if volatile.get("total_bytes") is not None:
        facts.append(format_size(volatile["total_bytes"]))
    if volatile.get("created"):
        facts.append(f"created {volatile['created']} UTC")
    parts.append('<div class="pfj-muted">' + " · ".join(escape(str(f)) for f in facts if f) + "</div>")
    return "".join(parts)


def _checks_html(data: dict) -> str:
    checks = data.get("checks") or []
    summary = data.get("summary") or {}
    if not checks:
        return '<h4>Checks</h4><div class="pfj-ok">✓ no problems found</div>'
    items = "".join(
        f'<li><span class="pfj-{escape(c["severity"])}">{escape(c["severity"])}</span> '
        f'<code>{escape(c["check"])}</code>: {escape(c["message"])}<br><span class="pfj-muted">Fix: '
        f"{escape(c['fix'])}</span></li>"
        for c in checks
    )
    return (
        f"<h4>Checks: {summary.get('errors', 0)} error(s), {summary.get('warnings', 0)} warning(s)</h4><ul>{items}</ul>"
    )


def _preview_html(preview: dict | None) -> str:
    if not preview:
        return ""
    table = preview["input"]
    header = [f"input: {c}" for c in table["columns"]]
    rows = [list(r) for r in table["rows"]]
    classes = [["" for _ in r] for r in rows]
    labels = []
    for output in preview["outputs"]:
        status = output["status"]
        labels.append(
            f'<span class="{_STATUS_CLASS[status]}">{escape(output["label"])} {escape(_STATUS_MARK[status])}</span>'
        )
        if status in ("error", "missing"):
            header.append(output["label"])
            for r, row in enumerate(rows):
                row.append(output.get("error", "") if r == 0 else "")
                classes[r].append("pfj-error" if status == "error" else "")
            continue
        out = output["table"]
        diff = {tuple(d) for d in output.get("diff") or []}
        header += [output["label"] + ("" if c == "value" else f": {c}") for c in out["columns"]]
        width = len(out["columns"])
        while len(rows) < len(out["rows"]):
            rows.append(["" for _ in range(len(header) - width)])
            classes.append(["" for _ in range(len(header) - width)])
        for r in range(len(rows)):
            values = out["rows"][r] if r < len(out["rows"]) else ["" for _ in range(width)]
            rows[r] += values
            classes[r] += ["pfj-diff" if (r, c) in diff else "" for c in range(width)]
    more = max(
        [table.get("total_rows", 0)] + [o["table"].get("total_rows", 0) for o in preview["outputs"] if o.get("table")]
    )
    note = f'<div class="pfj-muted">first {len(table["rows"])} of {more} rows</div>' if more > len(rows) else ""
    return "<h4>Preview: " + " · ".join(labels) + "</h4>" + _table(header, rows, classes) + note


def _serve_html(data: dict, volatile: dict) -> str:
    from .data import serve_lines

    lines = serve_lines(data.get("serve"), volatile.get("path"))
    if not lines:
        return ""
    parts = ["<h4>Serve with MLflow</h4>", f'<pre class="pfj-code">{escape(lines["serve"])}</pre>']
    if "curl" in lines:
        parts.append(f'<pre class="pfj-code">{escape(lines["curl"])}</pre>')
    else:
        parts.append(f'<div class="pfj-muted">{escape(NO_SERVING_EXAMPLE)}</div>')
    return "".join(parts)


NO_SERVING_EXAMPLE = "no serving_input_example.json: save the model with an input example to get a curl line"


def _column_name(name: Any) -> Any:
    """A signature column's name; MLflow's unnamed columns (a scalar or a list input) have none."""
    return "(unnamed)" if name is None else name


def _signature_html(signature: dict | None) -> str:
    if not signature:
        return '<h4>Signature</h4><div class="pfj-warning">none: inputs are not checked when the model is loaded</div>'
    parts = ["<h4>Signature</h4>"]
    for part in ("inputs", "outputs"):
        rows = signature.get(part)
        if rows is None:
            parts.append(f'<div class="pfj-muted">{part}: not declared</div>')
        else:
            parts.append(
                f"<div>{part}</div>"
                + _table(
                    ["name", "type", "required"], [[_column_name(r["name"]), r["type"], r["required"]] for r in rows]
                )
            )
    if signature.get("params") is not None:
        parts.append(
            "<div>params</div>"
            + _table(
                ["name", "type", "default"], [[p["name"], p["type"], _param_default(p)] for p in signature["params"]]
            )
        )
    return "".join(parts)


def _requirements_html(data: dict, volatile: dict) -> str:
    rows = data.get("requirements") or []
    if not rows:
        return ""
    pins = volatile.get("pins") or {}
    return "<h4>Requirements</h4>" + _table(
        ["requirement", "from"], [[pins.get(r["name"], r["name"]), r["source"]] for r in rows]
    )


def _files_html(data: dict, volatile: dict) -> str:
    sizes = volatile.get("sizes") or {}
    parts = []
    if data.get("artifacts"):
        parts.append(
            "<h4>Artifacts</h4>"
            + _table(
                ["key", "path", "size"],
                [[a["key"], a["path"], format_size(_tree_size(sizes, a["path"]))] for a in data["artifacts"]],
            )
        )
    if data.get("files"):
        parts.append(
            "<h4>Files</h4>"
            + _table(["file", "size"], [[f["path"], format_size(sizes.get(f["path"]))] for f in data["files"]])
        )
    code = data.get("code")
    if code:
        text = code["text"] if code.get("text") is not None else "(the file cannot be read)"
        parts.append(
            f'<h4>Code: {escape(code["path"])}</h4><pre class="pfj-code" style="{_CODE_STYLE}">{escape(text)}</pre>'
        )
    if data.get("state"):
        state_sizes = volatile.get("state_sizes") or {}
        parts.append(
            "<h4>Pickled state</h4>"
            + _table(
                ["attribute", "type", "size"],
                [
                    [f"self.{s['attribute']}", s["type"], format_size(state_sizes.get(s["attribute"]))]
                    for s in data["state"]
                ],
            )
        )
    return "".join(parts)


def _tree_size(sizes: dict[str, int], path: str | None) -> int | None:
    if not path:
        return None
    return sum(size for name, size in sizes.items() if name == path or name.startswith(path.rstrip("/") + "/"))


def render_html(data: dict[str, Any], volatile: dict[str, Any]) -> str:
    """The whole card as self-contained HTML."""
    body = (
        _head_html(data, volatile)
        + _checks_html(data)
        + _preview_html(data.get("preview"))
        + _serve_html(data, volatile)
        + _signature_html(data.get("signature"))
        + _requirements_html(data, volatile)
        + _files_html(data, volatile)
    )
    return f'<div class="pfj-card"><style>{_STYLE}</style>{body}</div>'


def render_preview_html(preview: dict[str, Any]) -> str:
    """Only the preview table (inputs beside outputs, differences marked), styled like the card."""
    return f'<div class="pfj-card"><style>{_STYLE}</style>{_preview_html(preview)}</div>'


def _text_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [header] + [[_text(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells if i < len(row)) for i in range(len(header))]
    return ["  " + " | ".join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip() for row in cells]


def render_text(data: dict[str, Any], volatile: dict[str, Any]) -> str:
    """The card as plain text, for consoles and frontends without HTML."""
    version = f" v{data['version']}" if data.get("version") is not None else ""
    lines = [f"Model {data.get('name')}{version}: {data.get('status')}"]
    for label, value in (("uri", data.get("uri")), ("path", volatile.get("path")), ("model", data.get("model"))):
        if value:
            lines.append(f"  {label}: {value}")
    summary = data.get("summary") or {}
    lines.append(f"Checks: {summary.get('errors', 0)} error(s), {summary.get('warnings', 0)} warning(s)")
    for check in data.get("checks") or []:
        lines.append(f"  {check['severity']} [{check['check']}] {check['message']}")
        lines.append(f"      fix: {check['fix']}")
    preview = data.get("preview")
    if preview:
        lines.append("Preview:")
        for output in preview["outputs"]:
            result = output.get("error") or _STATUS_MARK[output["status"]] or "reference"
            lines.append(f"  {output['label']}: {result}")
        first = next((o for o in preview["outputs"] if o.get("table")), None)
        if first is not None:
            table = preview["input"]
            header = [f"input: {c}" for c in table["columns"]] + [f"output: {c}" for c in first["table"]["columns"]]
            count = max(len(table["rows"]), len(first["table"]["rows"]))
            rows = [
                (table["rows"][r] if r < len(table["rows"]) else [""] * len(table["columns"]))
                + (
                    first["table"]["rows"][r]
                    if r < len(first["table"]["rows"])
                    else [""] * len(first["table"]["columns"])
                )
                for r in range(count)
            ]
            lines += _text_table(header, rows)
    from .data import serve_lines

    serve = serve_lines(data.get("serve"), volatile.get("path"))
    if serve:
        lines.append(f"Serve with MLflow: {serve['serve']}")
        lines.append(f"  then: {serve['curl']}" if "curl" in serve else f"  ({NO_SERVING_EXAMPLE})")
    signature = data.get("signature")
    if signature:
        for part in ("inputs", "outputs"):
            rows = signature.get(part)
            specs = ", ".join(f"{r['name']}: {r['type']}" if r["name"] is not None else r["type"] for r in rows or [])
            lines.append(
                f"{part.capitalize()}: [{specs}]" if rows is not None else f"{part.capitalize()}: not declared"
            )
        if signature.get("params") is not None:
            lines.append(
                "Params: " + ", ".join(f"{p['name']}: {p['type']} = {_param_default(p)}" for p in signature["params"])
            )
    else:
        lines.append("Signature: none")
    pins = volatile.get("pins") or {}
    if data.get("requirements"):
        lines.append("Requirements:")
        lines += [f"  {pins.get(r['name'], r['name'])}  ({r['source']})" for r in data["requirements"]]
    if data.get("artifacts"):
        lines.append("Artifacts: " + ", ".join(f"{a['key']} -> {a['path']}" for a in data["artifacts"]))
    if data.get("files"):
        lines.append("Files: " + ", ".join(f["path"] for f in data["files"]))
    code = data.get("code")
    if code:
        lines.append(f"Code ({code['path']}):")
        lines += ["  " + line for line in (code.get("text") or "(the file cannot be read)").splitlines()]
    return "\n".join(lines)
