"""A notebook cell as a model's code file (``%%pyfunc_model --from-code``), and the checks that file needs."""

from __future__ import annotations

import ast
import builtins
import symtable
import types
from dataclasses import dataclass, field
from typing import Any

from .checks import Finding

__all__ = ["CODE_FILE", "CodeFile", "code_file"]

CODE_FILE = "model.py"
_OURS = ("pyfunc_jupyter", "pyfunc_jupyter.pyfunc", "pyfunc_jupyter.models")
# Our names a code file may import, and the MLflow module that has them (pyfunc-jupyter stands in
# for these when MLflow is absent, so the file loads in both).
_PORTED = {
    "PythonModel": "mlflow.pyfunc",
    "PythonModelContext": "mlflow.pyfunc",
    "set_model": "mlflow.models",
    "ModelConfig": "mlflow.models",
    "pyfunc": "mlflow.pyfunc.utils",
}
_HEADER = (
    "# The model's code, written by %%pyfunc_model --from-code from a notebook cell.\n"
    "# It runs when the model is loaded (mlflow.pyfunc.load_model or pyfunc_jupyter.load_model);\n"
    "# pyfunc-jupyter stands in for the mlflow imports below where MLflow is not installed.\n"
)


@dataclass
class CodeFile:
    """The code file made from a cell (``text``), or the findings that stop it (``findings`` with errors)."""

    text: str | None
    findings: list[Finding] = field(default_factory=list)


def _ported_imports(node: ast.ImportFrom) -> tuple[list[str], list[str]]:
    """(the MLflow import lines replacing ``node``, our names it imports that have no MLflow twin)."""
    by_module: dict[str, list[str]] = {}
    unported = []
    for alias in node.names:
        module = _PORTED.get(alias.name)
        if module is None:
            unported.append(alias.name)
            continue
        by_module.setdefault(module, []).append(alias.name + (f" as {alias.asname}" if alias.asname else ""))
    return [f"from {module} import {', '.join(names)}" for module, names in by_module.items()], unported


def _free_globals(text: str) -> list[str]:
    """Names the code reads at module level or from its functions and classes but never binds."""
    top = symtable.symtable(text, CODE_FILE, "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    used: list[str] = []

    def visit(table: Any) -> None:
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if table is not top and symbol.is_declared_global() and symbol.is_assigned():
                bound.add(name)
            if symbol.is_referenced() and (table is top or symbol.is_global()) and name not in used:
                used.append(name)
        for child in table.get_children():
            visit(child)

    visit(top)
    return [n for n in used if n not in bound and not hasattr(builtins, n) and not n.startswith("__")]


def code_file(cell: str, model_expression: str, last_statement: bool, namespace: dict) -> CodeFile:
    """The cell as a model code file ending in ``set_model(<model_expression>)``.

    ``last_statement``: the expression is the cell's last statement (the model instance), which the
    ``set_model`` call replaces. Our imports become MLflow's (the file must load where only MLflow
    is installed). Errors: a cell that is not plain Python, our names without an MLflow twin, and
    names the code reads that only the notebook defines (nothing is pickled, so they would be missing).
    """
    try:
        tree = ast.parse(cell)
    except SyntaxError as exc:
        return CodeFile(
            None,
            [
                Finding(
                    "from-code-syntax",
                    "error",
                    f"--from-code saves the cell as a Python file, but the cell is not plain Python "
                    f"(line {exc.lineno}: {exc.msg}); IPython syntax such as %magics and !commands cannot run there.",
                    "move the %magic or !command lines to another cell",
                )
            ],
        )
    lines = cell.splitlines()
    replaced: dict[int, tuple[int, list[str]]] = {}  # first line (0-based) -> (last line, replacement lines)
    findings: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "pyfunc_jupyter" for a in node.names):
            findings.append(
                Finding(
                    "from-code-import",
                    "error",
                    f"The cell imports pyfunc_jupyter itself (line {node.lineno}); the code file "
                    "must load where only MLflow is installed.",
                    "import the names instead: from pyfunc_jupyter import PythonModel",
                )
            )
        elif isinstance(node, ast.ImportFrom) and node.module in _OURS and node.level == 0:
            ported, unported = _ported_imports(node)
            if unported:
                findings.append(
                    Finding(
                        "from-code-import",
                        "error",
                        f"The cell imports {', '.join(unported)} from {node.module} (line "
                        f"{node.lineno}); the code file must load where only MLflow is installed, and these have no "
                        "MLflow stand-in.",
                        "import them in another cell; the model's cell may import PythonModel, "
                        "PythonModelContext, pyfunc, set_model and ModelConfig",
                    )
                )
                continue
            indent = " " * node.col_offset
            end = node.end_lineno or node.lineno
            replaced[node.lineno - 1] = (end - 1, [indent + line for line in ported])
    if last_statement and tree.body:
        node = tree.body[-1]
        replaced[node.lineno - 1] = ((node.end_lineno or node.lineno) - 1, [])
    out, index = [], 0
    while index < len(lines):
        if index in replaced:
            end, new = replaced[index]
            out.extend(new)
            index = end + 1
        else:
            out.append(lines[index])
            index += 1
    while out and not out[-1].strip():
        out.pop()
    body = "\n".join(out)
    set_model = "from mlflow.models import set_model" if "set_model" not in _imported(tree) else None
    tail = "\n".join(line for line in (set_model, f"set_model({model_expression})") if line)
    text = _HEADER + "\n" + body + "\n\n\n" + tail + "\n"
    findings += _global_findings(text, namespace)
    return CodeFile(None if findings else text, findings)


def _imported(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }


def _global_findings(text: str, namespace: dict) -> list[Finding]:
    findings = []
    for name in _free_globals(text):
        if name in namespace:
            value = namespace[name]
            code = isinstance(value, (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType))
            findings.append(
                Finding(
                    "from-code-global",
                    "error",
                    f"The code reads `{name}`, which this cell does not define: it is a notebook "
                    f"global ({type(value).__name__}). Nothing is pickled with --from-code, so it would be "
                    "undefined when the model loads.",
                    f"import or define `{name}` in this cell"
                    if code
                    else f"define `{name}` in this cell, or pass it with --config and read it from "
                    "context.model_config",
                )
            )
        else:
            findings.append(
                Finding(
                    "undefined-name",
                    "error",
                    f"The code refers to `{name}`, which is not defined: loading or predicting will raise NameError.",
                    f"define or import `{name}` in this cell",
                )
            )
    return findings
