"""The model card as HTML (classic Notebook, VS Code, nbviewer, GitHub) and as plain text."""

from __future__ import annotations

import json
from datetime import UTC
from html import escape
from typing import Any

__all__ = [
    "render_html",
    "render_preview_html",
    "render_text",
    "format_size",
    "format_time",
    "format_number",
    "provenance",
]

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
.pfj-card details>summary{cursor:pointer;font-weight:600;margin:8px 0 4px}
.pfj-card details>summary>h4{display:inline;margin:0}
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


def format_time(created: str | None) -> str | None:
    """An MLmodel ``utc_time_created`` (UTC, microseconds) in local time to the second, with the zone."""
    if not created:
        return created
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(str(created).replace("Z", "")).replace(tzinfo=UTC)
    except ValueError:
        return str(created)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def format_number(value: float) -> str:
    """A float as text that keeps its decimal point (``1.0``, not ``1``), as JSON and the Predict table show it."""
    text = f"{value:.10g}"  # enough digits that a marked difference is visible
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


def provenance(source: str) -> str:
    """A requirement's source with each module named once: ``pandas: a; pandas: b`` -> ``pandas: a; b``."""
    head, sep, rest = source.partition(": ")
    if not sep or head not in ("inferred",):
        return source
    grouped: dict[str, list[str]] = {}
    for reason in rest.split("; "):
        module, colon, why = reason.partition(": ")
        key, why = (module, why) if colon else ("", reason)
        if why not in grouped.setdefault(key, []):
            grouped[key].append(why)
    return head + ": " + "; ".join((f"{key}: " if key else "") + ", ".join(whys) for key, whys in grouped.items())


def _section(title: str, body: str, *, open_: bool = True, name: str = "") -> str:
    """A collapsible card section (``<details>``): a reader can fold what does not interest them."""
    attrs = f' data-section="{escape(name)}"' if name else ""
    return (
        f'<details class="pfj-section"{attrs}{" open" if open_ else ""}><summary><h4>{title}</h4></summary>'
        f"{body}</details>"
    )


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return format_number(value)
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
    if volatile.get("model_size_bytes") is not None:
        facts.append(f"model size {format_size(volatile['model_size_bytes'])}")
    if volatile.get("created"):
        facts.append(f"created {format_time(volatile['created'])}")
    parts.append('<div class="pfj-muted">' + " · ".join(escape(str(f)) for f in facts if f) + "</div>")
    return "".join(parts)


def _checks_html(data: dict, open_: bool = True) -> str:
    checks = data.get("checks") or []
    summary = data.get("summary") or {}
    if not checks:
        return _section("Checks", '<div class="pfj-ok">✓ no problems found</div>', open_=open_, name="checks")
    items = "".join(
        f'<li><span class="pfj-{escape(c["severity"])}">{escape(c["severity"])}</span> '
        f'<code>{escape(c["check"])}</code>: {escape(c["message"])}<br><span class="pfj-muted">Fix: '
        f"{escape(c['fix'])}</span></li>"
        for c in checks
    )
    return _section(
        f"Checks: {summary.get('errors', 0)} error(s), {summary.get('warnings', 0)} warning(s)",
        f"<ul>{items}</ul>",
        open_=open_,
        name="checks",
    )


def _preview_html(preview: dict | None, open_: bool | None = None) -> str:
    """The preview table; a ``<details>`` section when ``open_`` is given, a plain heading otherwise."""
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
    title = "Preview: " + " · ".join(labels)
    if open_ is None:
        return f"<h4>{title}</h4>" + _table(header, rows, classes) + note
    return _section(title, _table(header, rows, classes) + note, open_=open_, name="preview")


def _serve_html(data: dict, volatile: dict, open_: bool = True) -> str:
    from .data import serve_lines

    lines = serve_lines(data.get("serve"), volatile.get("path"), data.get("uri"), volatile.get("tracking_uri"))
    if not lines:
        return ""
    parts = [f'<pre class="pfj-code">{escape(lines["serve"])}</pre>']
    if "curl" in lines:
        parts.append(f'<pre class="pfj-code">{escape(lines["curl"])}</pre>')
    else:
        parts.append(f'<div class="pfj-muted">{escape(NO_SERVING_EXAMPLE)}</div>')
    return _section("Serve with MLflow", "".join(parts), open_=open_, name="serve")


NO_SERVING_EXAMPLE = "no serving_input_example.json: save the model with an input example to get a curl line"


def _column_name(name: Any) -> Any:
    """A signature column's name; MLflow's unnamed columns (a scalar or a list input) have none."""
    return "(unnamed)" if name is None else name


def _signature_html(signature: dict | None, open_: bool = True) -> str:
    if not signature:
        return _section(
            "Signature",
            '<div class="pfj-warning">none: inputs are not checked when the model is loaded</div>',
            open_=open_,
            name="signature",
        )
    parts = []
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
    return _section("Signature", "".join(parts), open_=open_, name="signature")


def _requirements_html(data: dict, volatile: dict, open_: bool = True) -> str:
    rows = data.get("requirements") or []
    if not rows:
        return ""
    pins = volatile.get("pins") or {}
    return _section(
        "Requirements",
        _table(["requirement", "from"], [[pins.get(r["name"], r["name"]), provenance(r["source"])] for r in rows]),
        open_=open_,
        name="requirements",
    )


def _files_html(data: dict, volatile: dict, open_: bool = True) -> str:
    """Artifacts (open unless ``open_`` is false), then Files and Pickled state (always collapsed)."""
    sizes = volatile.get("sizes") or {}
    parts = []
    if data.get("artifacts"):
        parts.append(
            _section(
                "Artifacts",
                _table(
                    ["key", "path", "size"],
                    [[a["key"], a["path"], format_size(_tree_size(sizes, a["path"]))] for a in data["artifacts"]],
                ),
                open_=open_,
                name="artifacts",
            )
        )
    if data.get("files"):
        total = f" ({format_size(volatile['total_bytes'])} on disk)" if volatile.get("total_bytes") is not None else ""
        parts.append(
            _section(
                f"Files{total}",
                _table(["file", "size"], [[f["path"], format_size(sizes.get(f["path"]))] for f in data["files"]]),
                open_=False,
                name="files",
            )
        )
    code = data.get("code")
    if code:
        text = code["text"] if code.get("text") is not None else "(the file cannot be read)"
        parts.append(
            _section(
                f"Code: {escape(code['path'])}",
                f'<pre class="pfj-code" style="{_CODE_STYLE}">{escape(text)}</pre>',
                open_=open_,
                name="code",
            )
        )
    if data.get("state"):
        state_sizes = volatile.get("state_sizes") or {}
        parts.append(
            _section(
                "Pickled state",
                _table(
                    ["attribute", "type", "size"],
                    [
                        [f"self.{s['attribute']}", s["type"], format_size(state_sizes.get(s["attribute"]))]
                        for s in data["state"]
                    ],
                ),
                open_=False,
                name="state",
            )
        )
    return "".join(parts)


def _tree_size(sizes: dict[str, int], path: str | None) -> int | None:
    if not path:
        return None
    return sum(size for name, size in sizes.items() if name == path or name.startswith(path.rstrip("/") + "/"))


def render_html(data: dict[str, Any], volatile: dict[str, Any], *, collapsed: bool = False) -> str:
    """The whole card as self-contained HTML; its sections fold (``<details>``), all folded when ``collapsed``
    (inside the panel), Files and Pickled state always folded."""
    open_ = not collapsed
    body = (
        _head_html(data, volatile)
        + _checks_html(data, open_)
        + _preview_html(data.get("preview"), open_)
        + _serve_html(data, volatile, open_)
        + _signature_html(data.get("signature"), open_)
        + _requirements_html(data, volatile, open_)
        + _files_html(data, volatile, open_)
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

    serve = serve_lines(data.get("serve"), volatile.get("path"), data.get("uri"), volatile.get("tracking_uri"))
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
        lines += [f"  {pins.get(r['name'], r['name'])}  ({provenance(r['source'])})" for r in data["requirements"]]
    if data.get("artifacts"):
        lines.append("Artifacts: " + ", ".join(f"{a['key']} -> {a['path']}" for a in data["artifacts"]))
    if data.get("files"):
        lines.append("Files: " + ", ".join(f["path"] for f in data["files"]))
    code = data.get("code")
    if code:
        lines.append(f"Code ({code['path']}):")
        lines += ["  " + line for line in (code.get("text") or "(the file cannot be read)").splitlines()]
    return "\n".join(lines)
