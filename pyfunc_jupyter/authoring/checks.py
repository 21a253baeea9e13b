"""Early checks of a model before it is saved: what works in the notebook but breaks where it is loaded."""

from __future__ import annotations

import ast
import dis
import functools
import inspect
import io
import os
import re
import socket
import sys
import sysconfig
import textwrap
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

__all__ = ["CHECKS", "Check", "Finding", "Subject", "HEAVY_BYTES", "static_checks", "output_checks", "state_sizes",
           "library_file", "local_module_path", "module_fix", "shown_path", "requirement_checks",
           "LARGE_EXAMPLE_ROWS", "LARGE_EXAMPLE_BYTES", "EXAMPLE_SAMPLE_ROWS", "sample_large_example",
           "unpicklable_kind", "unpicklable_fix", "fresh_process_checks", "reload_failed_check", "mismatch_checks",
           "warning_checks"]

HEAVY_BYTES = 10 * 1024 * 1024
_FRAMEWORKS = ("torch", "tensorflow", "keras", "transformers", "jax", "flax", "xgboost", "lightgbm",
               "catboost", "onnxruntime", "sentence_transformers", "spacy")
_UNPICKLABLE_STATE = (io.IOBase, socket.socket, threading.Thread, types.GeneratorType)
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


@dataclass(frozen=True)
class Check:
    """One entry of the check catalogue: its id, its severity, and the fix when a finding has no more precise one.

    ``error_for`` names the cases in which a ``warning`` check is an ``error`` instead.
    """

    id: str
    severity: str
    fix: str
    error_for: str | None = None

    @property
    def severity_text(self) -> str:
        """The severity as README's checks table writes it: ``warning (error for ...)``."""
        return f"{self.severity} (error for {self.error_for})" if self.error_for else self.severity

    def allows(self, severity: str) -> bool:
        """Whether a finding of this check may have ``severity``."""
        return severity == self.severity or (severity == "error" and self.error_for is not None)


def _catalogue(*checks: Check) -> dict[str, Check]:
    return {check.id: check for check in checks}


# Every check the authoring pipeline runs, in the order of README's checks table (a test holds them equal).
# An error stops the save (nothing is written); a warning is shown on the card.
CHECKS = _catalogue(
    Check("local-module", "error", "ship it with --code PATH (code_paths=[...]), or install it where the model "
          "is loaded and add it with --pip"),
    Check("undefined-name", "error", "define the name before saving, or import it inside the method that uses it"),
    Check("large-example", "warning", "pass a small sample as the example, e.g. --example df.head(5)"),
    Check("notebook-global", "warning", "pass the value to __init__ or load it in load_context",
          error_for="a lock, thread, socket, connection, file or generator"),
    Check("unpicklable-state", "error", "create the resource in load_context instead of __init__"),
    Check("heavy-state", "warning", "write it to a file, pass it with --artifact NAME=PATH and load it in "
          "load_context"),
    Check("framework-state", "warning", "save it in the framework's own format, pass it with --artifact NAME=PATH and "
          "load it in load_context"),
    Check("absolute-path", "warning", "pass the file with --artifact NAME=PATH and read context.artifacts[NAME]"),
    Check("load-context-signature", "error", "define it as def load_context(self, context):"),
    Check("missing-artifact", "error", "add --artifact KEY=PATH for the key the code reads"),
    Check("unused-artifact", "warning", "read it in load_context, or drop the --artifact"),
    Check("artifact-not-found", "error", "fix the path in --artifact KEY=PATH"),
    Check("code-not-found", "error", "fix the path given with --code"),
    Check("params-dropped", "warning", "declare the params with defaults: --params '{\"name\": default}'"),
    Check("kwargs-params", "warning", "define predict(self, context, model_input, params=None)"),
    Check("params-unused", "warning", "add params=None to predict"),
    Check("function-params", "warning", "wrap the function in a PythonModel whose predict takes params=None"),
    Check("output-not-json", "warning", "return a DataFrame, Series, NumPy array, list or dict of plain values"),
    Check("missing-cloudpickle", "warning", "add cloudpickle to the requirements you give"),
    Check("integer-columns", "warning", "use floats in the example for columns that can have missing values"),
    Check("uint64-columns", "warning", "cast to float64 (or str for ids) in the example"),
    Check("nullable-dtypes", "warning", "convert to NumPy dtypes in the example"),
    Check("integer-labels", "warning", "name the columns with strings"),
    Check("code-collision", "warning", "rename the module to something unique"),
    Check("fresh-process", "error", "run the model in a plain Python process to see why"),
    Check("reload-mismatch", "warning", "make predict deterministic, or check what it reads besides its input and "
          "artifacts"),
    Check("reload-failed", "warning", "see the error; the fresh-process check passed"),
    Check("python-warning", "warning", "the message says what to change"),
)


@dataclass(frozen=True)
class Finding:
    """One result of a check: ``error`` (nothing is saved) or ``warning``, with a one-line fix.

    ``check`` must be an id of ``CHECKS`` and ``severity`` one that check allows; ``fix`` defaults to
    the catalogue's.
    """

    check: str
    severity: str
    message: str
    fix: str = ""

    def __post_init__(self) -> None:
        entry = CHECKS.get(self.check)
        if entry is None:
            raise ValueError(f"Unknown check id {self.check!r}: add it to authoring.checks.CHECKS and to the "
                             "checks table in README.md.")
        if not entry.allows(self.severity):
            raise ValueError(f"The check {self.check!r} is {entry.severity_text}, not {self.severity!r}: change "
                             "it in authoring.checks.CHECKS and in README.md.")
        if not self.fix:
            object.__setattr__(self, "fix", entry.fix)

    def to_dict(self) -> dict[str, str]:
        """The card's JSON form."""
        return {"check": self.check, "severity": self.severity, "message": self.message, "fix": self.fix}


@dataclass
class Subject:
    """What is about to be saved: the model object and what was given with it."""

    model: Any
    data: Any = None
    params: dict | None = None
    signature: Any = None
    artifacts: dict | None = None
    code_paths: list | None = None
    state: list[dict] = field(default_factory=list)

    @property
    def is_function(self) -> bool:
        """A plain function model (no ``predict`` method)."""
        return inspect.isroutine(self.model)

    @property
    def label(self) -> str:
        """The class or function name, for messages."""
        return getattr(self.model, "__name__", None) or type(self.model).__name__


# --- the model's own code ---------------------------------------------------------------------------------

def _is_ours(module: str) -> bool:
    return module.split(".")[0] in ("pyfunc_jupyter", "mlflow", "builtins", "abc")


def _methods(subject: Subject) -> Iterator[tuple[str, types.FunctionType]]:
    """(qualified name, function) of the user's code: the function, or every method the class defines."""
    if subject.is_function:
        func = inspect.unwrap(subject.model)
        if isinstance(func, types.FunctionType):
            yield func.__name__, func
        return
    for klass in type(subject.model).__mro__:
        if _is_ours(klass.__module__):
            continue
        for name, value in vars(klass).items():
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            elif isinstance(value, property):
                value = value.fget
            value = inspect.unwrap(value) if callable(value) else value
            if isinstance(value, types.FunctionType):
                yield f"{klass.__name__}.{name}", value


def _method(subject: Subject, name: str) -> types.FunctionType | None:
    for qualified, func in _methods(subject):
        if qualified.rpartition(".")[2] == name:
            return func
    return None


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _global_names(func: types.FunctionType) -> list[str]:
    names: dict[str, None] = {}
    for code in _codes(func.__code__):
        for ins in dis.get_instructions(code):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(ins.argval, str):
                names[ins.argval] = None
    return list(names)


def _tree(func: types.FunctionType) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None


# --- where modules come from ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots |= {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


def library_file(filename: str) -> bool:
    """Whether ``filename`` belongs to the standard library or an installed distribution's directory."""
    return os.path.realpath(filename).startswith(_library_roots())


def local_module_path(module: str) -> Path | None:
    """The file of ``module`` when it is the user's own (neither stdlib nor an installed distribution)."""
    top = module.split(".")[0]
    if top in sys.builtin_module_names or top in sys.stdlib_module_names or top == "__main__" or _is_ours(top):
        return None
    loaded = sys.modules.get(top)
    origin = getattr(loaded, "__file__", None)
    if origin is None:
        return None
    if library_file(origin):
        return None
    origin = os.path.realpath(origin)
    from ..environment.distributions import module_owners

    try:
        if module_owners(top, [module], []):
            return None  # an editable or otherwise installed distribution
    except Exception:  # noqa: BLE001 - a broken distribution is the requirement inference's to report
        return None
    path = Path(origin)
    return path.parent if path.name == "__init__.py" else path


def _shipped(module: str, code_paths: list | None) -> bool:
    top = module.split(".")[0]
    for entry in code_paths or []:
        path = Path(entry)
        if (path.stem if path.suffix == ".py" else path.name) == top:
            return True
    return False


def shown_path(path: Path | str) -> str:
    """``path`` relative to the working directory when it lies inside it, else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)
    return str(path) if relative == ".." or relative.startswith(".." + os.sep) else relative


def module_fix(module: str, path: Path | None) -> str:
    """How to make ``module`` importable where the model is loaded."""
    if path is not None:
        shown = shown_path(path)
        return f"ship it with the model: add --code {shown} (code_paths=[{shown!r}])"
    return f"install it where the model is loaded and add it to the requirements (--pip {module.split('.')[0]})"


# --- the checks -------------------------------------------------------------------------------------------

def _check_globals(subject: Subject) -> list[Finding]:
    """Notebook globals read by the model's code, undefined names, and local modules that will not travel."""
    import builtins

    findings: list[Finding] = []
    reported: set[str] = set()
    for qualified, func in _methods(subject):
        namespace = func.__globals__
        in_notebook = namespace.get("__name__") == "__main__"
        for name in _global_names(func):
            if name in reported or name.startswith("__"):
                continue
            if name in namespace:
                value = namespace[name]
            elif hasattr(builtins, name):
                continue
            else:
                if in_notebook:
                    reported.add(name)
                    findings.append(Finding(
                        "undefined-name", "error",
                        f"{qualified} refers to `{name}`, which is not defined: loading or predicting will "
                        f"raise NameError.",
                        f"define `{name}` before saving, or import it inside {qualified.rpartition('.')[2]}"))
                continue
            if isinstance(value, types.ModuleType):
                module = value.__name__
            elif isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
                module = getattr(value, "__module__", None) or ""
                if module == "__main__":
                    continue  # defined in the notebook: pickled by value with the model
            else:
                kind = unpicklable_kind(value) if in_notebook else None
                if kind is not None:
                    reported.add(name)
                    findings.append(Finding(
                        "notebook-global", "error",
                        f"{qualified} reads the notebook variable `{name}` ({_type_name(value)}), a {kind} that "
                        "cannot be saved with the model: the save would fail to pickle it.",
                        f"wrap the function in a PythonModel and {unpicklable_fix(kind, f'self.{name}', value)}"
                        if subject.is_function else unpicklable_fix(kind, f"self.{name}", value)
                        + f", and use self.{name} in {qualified.rpartition('.')[2]}"))
                elif in_notebook and not _is_constant(value):
                    reported.add(name)
                    findings.append(Finding(
                        "notebook-global", "warning",
                        f"{qualified} reads the notebook variable `{name}` ({type(value).__name__}). Its value "
                        "now is frozen into the model; later changes in the notebook will not be seen.",
                        f"pass it to __init__ (self.{name} = {name}) or load it in load_context"))
                continue
            findings += _check_module(module, name, qualified, subject, reported)
    cls = type(subject.model)
    if not subject.is_function:
        findings += _check_module(cls.__module__, cls.__name__, "The model class", subject, reported)
    return findings


def _is_constant(value: Any) -> bool:
    return isinstance(value, (bool, type(None))) or value is Ellipsis


def _check_module(module: str, name: str, where: str, subject: Subject, reported: set[str]) -> list[Finding]:
    top = module.split(".")[0]
    if not module or top in reported:
        return []
    path = local_module_path(module)
    if path is None or _shipped(module, subject.code_paths):
        return []
    reported.add(top)
    return [Finding("local-module", "error",
                    f"{where} uses `{name}` from the local module `{module}` ({shown_path(path)}), which is neither "
                    "installed nor shipped with the model: loading elsewhere fails with ModuleNotFoundError.",
                    module_fix(module, path))]


def state_sizes(model: Any) -> list[dict]:
    """The instance's attributes with their pickled size (estimated for arrays and frames), largest first."""
    if inspect.isroutine(model) or not hasattr(model, "__dict__"):
        return []
    import cloudpickle

    rows = []
    for name, value in vars(model).items():
        row: dict[str, Any] = {"attribute": name, "type": _type_name(value), "bytes": None}
        try:
            row["bytes"] = _estimated_size(value, cloudpickle)
        except Exception as exc:  # noqa: BLE001 - whatever the pickler raises is the finding
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
    rows.sort(key=lambda r: -(r["bytes"] or 0))
    return rows


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _estimated_size(value: Any, cloudpickle: Any) -> int:
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int) and type(value).__module__.startswith("numpy"):
        return nbytes
    if type(value).__module__.startswith("pandas") and hasattr(value, "memory_usage"):
        usage = value.memory_usage(deep=True)
        return int(usage.sum() if hasattr(usage, "sum") else usage)
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return len(cloudpickle.dumps(value, protocol=5))


def _check_state(subject: Subject) -> list[Finding]:
    """Unpicklable, heavy or framework objects on the instance, and absolute local paths in it."""
    findings: list[Finding] = []
    subject.state = state_sizes(subject.model)
    for row in subject.state:
        name, value = row["attribute"], vars(subject.model)[row["attribute"]]
        if isinstance(value, _UNPICKLABLE_STATE + _LOCK_TYPES) or row.get("error"):
            what = row.get("error") or f"a {row['type']}"
            findings.append(Finding(
                "unpicklable-state", "error",
                f"self.{name} ({row['type']}) cannot be saved with the model: {what}.",
                unpicklable_fix(unpicklable_kind(value, row.get("error")), f"self.{name}", value)
                + ", or save the cell as code: %%pyfunc_model --from-code"))
        elif type(value).__module__.split(".")[0] in _FRAMEWORKS:
            findings.append(Finding(
                "framework-state", "warning",
                f"self.{name} is a {row['type']}; pickling framework objects ties the model to this exact "
                "framework version and often fails to load elsewhere.",
                f"save it with the framework's own format, pass the file with --artifact {name}=PATH and "
                "load it in load_context, or save the cell as code: %%pyfunc_model --from-code"))
        elif (row["bytes"] or 0) > HEAVY_BYTES:
            findings.append(Finding(
                "heavy-state", "warning",
                f"self.{name} ({row['type']}) adds {_megabytes(row['bytes'])} to the pickle; every load "
                "unpickles it in full.",
                f"write it to a file, pass it with --artifact {name}=PATH and load it in load_context, or "
                "build it in the cell and save the cell as code: %%pyfunc_model --from-code"))
    findings += _check_paths(subject)
    return findings


_DB_MODULES = ("sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "mysql", "sqlalchemy", "pyodbc", "duckdb",
               "pymongo", "redis", "oracledb", "cx_Oracle", "snowflake", "clickhouse_connect", "asyncpg")


_LOCK_HOLDERS = ("Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier", "Queue", "SimpleQueue",
                 "LifoQueue", "PriorityQueue")
_DB_WORDS = ("Connection", "Engine", "Session", "Cursor", "Client", "Pool", "Redis", "Database")


def unpicklable_kind(value: Any, error: str | None = None) -> str | None:
    """What kind of live resource ``value`` is (lock, thread, socket, database, file, buffer, generator), if any.

    ``error`` is the pickler's message for a value that holds one somewhere inside (a dict with a lock).
    """
    kinds = ((_LOCK_TYPES, "lock"), (threading.Thread, "thread"), (socket.socket, "socket"),
             ((io.BytesIO, io.StringIO), "buffer"), (io.IOBase, "file"), (types.GeneratorType, "generator"))
    for types_, kind in kinds:
        if isinstance(value, types_):
            return kind
    name = type(value).__name__
    if type(value).__module__ in ("threading", "queue", "multiprocessing.synchronize") and name in _LOCK_HOLDERS:
        return "lock"
    if type(value).__module__.split(".")[0] in _DB_MODULES and (error or any(w in name for w in _DB_WORDS)):
        return "database"  # a connection, engine or client (a query object pickles fine)
    text = (error or "").lower()
    for needle, kind in (("_thread.", "lock"), ("socket", "socket"), ("connection", "database"),
                         ("cursor", "database"), ("textiowrapper", "file"), ("bufferedreader", "file"),
                         ("generator", "generator")):
        if needle in text:
            return kind
    return None


def unpicklable_fix(kind: str | None, where: str, value: Any) -> str:
    """The one-line fix for a live resource held at ``where`` (``self.lock``): made in load_context, not saved."""
    attribute = where.removeprefix("self.")
    target = f"self.{attribute}"
    if kind == "lock" and isinstance(value, _LOCK_TYPES):
        made = "threading.RLock()" if isinstance(value, type(threading.RLock())) else "threading.Lock()"
        return (f"create the lock in load_context, not __init__ ({target} = {made} there): load_context runs on "
                "every load, so each loaded model gets its own")
    return {
        "lock": f"create {target} in load_context, not __init__ (the lock it holds cannot be saved): load_context "
                "runs on every load, so each loaded model gets its own",
        "thread": f"start the thread in load_context ({target} = threading.Thread(...)), not __init__: a running "
                  "thread cannot be saved, each loaded model starts its own",
        "socket": f"keep the host and port as plain values (attributes or --config) and connect in load_context "
                  f"({target} = socket.create_connection(...))",
        "database": f"keep the connection string (attribute or --config), not the connection, and connect in "
                    f"load_context ({target} = connect(...)); ship a database file with --artifact {attribute}=PATH",
        "file": f"keep the file, not the open handle: pass it with --artifact {attribute}=PATH and open "
                f"context.artifacts[{attribute!r}] in load_context",
        "buffer": f"keep its contents, not the buffer ({target} = buffer.getvalue()), and wrap them again in predict",
        "generator": "keep the values (list(...)) or the function that makes the generator, and create the "
                     "generator where it is used (in predict): a generator cannot be saved",
    }.get(kind or "", f"create it in load_context instead of __init__; if it is built from a file, pass the file with "
                f"--artifact {attribute}=PATH")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _absolute_paths(value: Any, where: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    if isinstance(value, PurePath):
        value = str(value)
    if isinstance(value, str):
        if 1 < len(value) < 4096 and "\n" not in value and os.path.isabs(value) and os.path.exists(value):
            yield where, value
        return
    if depth >= 2:
        return
    if isinstance(value, dict):
        for key, item in list(value.items())[:1000]:
            yield from _absolute_paths(item, f"{where}[{key!r}]", depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value[:1000]):
            yield from _absolute_paths(item, f"{where}[{index}]", depth + 1)


def _check_paths(subject: Subject) -> list[Finding]:
    findings = []
    for name, value in vars(subject.model).items() if hasattr(subject.model, "__dict__") else ():
        for where, path in _absolute_paths(value, f"self.{name}"):
            shown = shown_path(path)
            held = f"the local path {path!r}" if shown == path else f"the absolute path of {shown!r}"
            findings.append(Finding(
                "absolute-path", "warning",
                f"{where} holds {held}; it will not exist where the model is loaded.",
                f"pass the file with --artifact {name}={shown} and read context.artifacts[{name!r}] in "
                "load_context"))
    return findings


def _check_load_context(subject: Subject) -> list[Finding]:
    """``load_context`` must be callable as ``load_context(context=...)``; artifact keys read vs given."""
    from ..format.save import load_context_problem

    findings: list[Finding] = []
    problem = None if subject.is_function else load_context_problem(subject.model)
    if problem:
        findings.append(Finding("load-context-signature", "error", problem,
                                "define it as def load_context(self, context):"))
    read, dynamic = _artifact_keys_read(subject)
    given = set(subject.artifacts or {})
    for key in sorted(read - given):
        findings.append(Finding(
            "missing-artifact", "error",
            f"The code reads context.artifacts[{key!r}], but no artifact {key!r} was given: "
            "loading raises KeyError.",
            f"add --artifact {key}=PATH (artifacts={{{key!r}: PATH}})"))
    if not dynamic:
        for key in sorted(given - read):
            findings.append(Finding(
                "unused-artifact", "warning",
                f"The artifact {key!r} is saved with the model but the code never reads "
                f"context.artifacts[{key!r}].",
                f"read it in load_context, or drop --artifact {key}"))
    return findings


def _check_files(subject: Subject) -> list[Finding]:
    """Artifact and code paths that do not exist."""
    findings: list[Finding] = []
    from ..format.load import local_path

    for key, path in (subject.artifacts or {}).items():
        local = local_path(path)  # None for a remote URI: the save refuses those with its own message
        if local is not None and not local.exists():
            findings.append(Finding("artifact-not-found", "error",
                                    f"The artifact {key!r} points to {str(local)!r}, which does not exist."
                                    + _unexpanded(str(local)), f"fix the path in --artifact {key}=PATH"))
    for path in subject.code_paths or []:
        local = local_path(path)
        if local is not None and not local.exists():
            findings.append(Finding("code-not-found", "error", f"The code path {str(path)!r} does not exist."
                                    + _unexpanded(str(path)), "fix the path given with --code"))
    return findings


def _unexpanded(path: str) -> str:
    """A hint when IPython left a ``$name`` or ``{name}`` in a magic line as it was."""
    if "$" not in path and "{" not in path:
        return ""
    return (" IPython expands $name and {name} on a magic line only when every {...} on the line is a valid "
            "expression: write a params dict as dict(k=v) rather than {'k': v}.")


def _artifact_keys_read(subject: Subject) -> tuple[set[str], bool]:
    """Constant keys the code reads from ``<x>.artifacts``; True if it also reads them dynamically."""
    keys: set[str] = set()
    dynamic = False
    for _, func in _methods(subject):
        tree = _tree(func)
        if tree is None:  # source not available: nothing can be said about unused keys
            dynamic = True
            continue
        for node in ast.walk(tree):
            target = None
            if isinstance(node, ast.Subscript) and _is_artifacts(node.value):
                target = node.slice
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                  and _is_artifacts(node.func.value) and node.args):
                target = node.args[0]
            else:
                continue
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                keys.add(target.value)
            else:
                dynamic = True
        dynamic = dynamic or _iterates_artifacts(tree)
    return keys, dynamic


def _is_artifacts(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "artifacts"


def _iterates_artifacts(tree: ast.AST) -> bool:
    """Whether ``artifacts`` is used other than by ``[key]`` or ``.get(key)`` (iterated, passed on)."""
    used: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_artifacts(node.value):
            used.add(id(node.value))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and _is_artifacts(node.func.value)):
            used.add(id(node.func.value))
    return any(_is_artifacts(node) and id(node) not in used for node in ast.walk(tree))


def _reads_name(func: types.FunctionType, name: str) -> bool:
    """Whether the function (or a function nested in it) reads its local ``name``: from the bytecode."""
    return any(ins.argval == name and ins.opname.startswith(("LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE"))
               for code in _codes(func.__code__) for ins in dis.get_instructions(code))


def _check_params(subject: Subject) -> list[Finding]:
    """``params`` the model reads but no schema declares (dropped), ``**kwargs``, params a function cannot get."""
    has_schema = bool(subject.params) or getattr(subject.signature, "params", None) is not None
    if subject.is_function:
        if subject.params:
            return [Finding("function-params", "warning",
                            "A function model receives only the input; the params given are never passed to it.",
                            "wrap the function in a PythonModel whose predict(self, context, model_input, "
                            "params=None) reads them")]
        return []
    predict = _method(subject, "predict")
    if predict is None:
        return []
    parameters = inspect.signature(predict).parameters
    if "params" in parameters:
        if not has_schema and _reads_name(predict, "params"):
            return [Finding("params-dropped", "warning",
                            "predict reads `params`, but no params schema is declared: params sent at inference "
                            "are dropped (with only a warning) and predict always gets None.",
                            "declare them with defaults: --params '{\"name\": default, ...}'")]
        return []
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return [Finding("kwargs-params", "warning",
                        "predict takes **kwargs but no `params` parameter: params are passed only to a parameter "
                        "named `params`, so they never reach **kwargs.",
                        "define predict(self, context, model_input, params=None)")]
    if has_schema:
        return [Finding("params-unused", "warning",
                        "Params are declared, but predict has no `params` parameter, so they are ignored.",
                        "add params=None to predict: def predict(self, context, model_input, params=None)")]
    return []


def _check_input(subject: Subject) -> list[Finding]:
    """Input columns that enforcement will trip on later: integers, uint64, nullable dtypes, integer labels."""
    import pandas as pd

    data = subject.data
    if not isinstance(data, pd.DataFrame):
        return []
    findings = []
    labels = [c for c in data.columns if not isinstance(c, str)]
    if labels:
        findings.append(Finding(
            "integer-labels", "warning",
            f"Column labels {labels[:5]} are not strings; MLflow treats label 0 as 'no name' in places and may "
            "drop or misalign such columns (mlflow#26069).",
            "name the columns: df.columns = [f'c{i}' for i in df.columns]"))
    ints, uints, nullable = [], [], []
    for name, dtype in data.dtypes.items():
        # MLflow 3.17 infers and enforces text (pandas 3's default "str" included) and nullable floats;
        # nullable integers and booleans with a missing value leave it no signature. Categoricals are
        # refused by enforcement on the example itself, which says so before any check.
        if isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype, pd.Float32Dtype, pd.Float64Dtype)):
            continue
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            nullable.append(f"{name} ({dtype})")
        elif dtype.kind == "u" and dtype.itemsize == 8:
            uints.append(str(name))
        elif dtype.kind in "iu":
            ints.append(str(name))
    if ints:
        findings.append(Finding(
            "integer-columns", "warning",
            f"Integer input column(s) {ints}: a later batch with a missing value arrives as float64 and is "
            "refused ('Can not safely convert float64 to int').",
            "if the column can have missing values, use floats in the example: "
            f"input_example = input_example.astype({{{ints[0]!r}: 'float64'}})"))
    if uints:
        findings.append(Finding(
            "uint64-columns", "warning",
            f"uint64 column(s) {uints} have no MLflow type: the signature falls back to no checking, and "
            "MLflow's enforcement refuses them.",
            f"cast to float64 (or str for ids): input_example = input_example.astype({{{uints[0]!r}: 'float64'}})"))
    if nullable:
        findings.append(Finding(
            "nullable-dtypes", "warning",
            f"Nullable/extension dtype column(s) {nullable}: with a missing value in them MLflow fails to "
            "infer a signature and saves the model with none, and enforcement converts them unpredictably.",
            "convert to NumPy dtypes in the example: input_example = input_example.astype(float)"))
    return findings


def _check_code_paths(subject: Subject) -> list[Finding]:
    """``--code`` modules whose names collide with installed or standard modules."""
    import importlib.util

    findings = []
    for entry in subject.code_paths or []:
        path = Path(str(entry)).expanduser()
        name = path.stem if path.suffix == ".py" else path.name
        if name in sys.stdlib_module_names or name in sys.builtin_module_names:
            findings.append(Finding(
                "code-collision", "warning",
                f"The code module `{name}` ({entry}) has the name of a standard-library module; wherever the "
                "standard one is imported first, yours is never used (or the reverse).",
                f"rename {path.name} to something unique, e.g. {name}_helpers"))
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = getattr(spec, "origin", None) or ""
        if spec is not None and origin and local_module_path(name) is None and not _same_file(origin, path):
            findings.append(Finding(
                "code-collision", "warning",
                f"The code module `{name}` ({entry}) has the name of the installed module at {origin}; where both "
                "exist, whichever is imported first wins.",
                f"rename {path.name} to something unique, e.g. {name}_helpers"))
    return findings


def _same_file(origin: str, path: Path) -> bool:
    try:
        return Path(origin).resolve() in (path.resolve(), (path / "__init__.py").resolve())
    except OSError:
        return False


def static_checks(subject: Subject, from_code: bool = False) -> list[Finding]:
    """Every check that needs no prediction; ``subject.state`` is filled with the size breakdown.

    ``from_code``: the model is saved as its code file, not pickled, so the instance's state is
    not checked and the names its code reads are checked on the file (``authoring.fromcode``).
    """
    if from_code:
        found = [f for f in _check_globals(subject) if f.check not in ("notebook-global", "undefined-name")]
    else:
        found = [*_check_globals(subject), *([] if subject.is_function else _check_state(subject))]
    return [*found, *_check_load_context(subject), *_check_files(subject), *_check_params(subject),
            *_check_input(subject), *_check_code_paths(subject)]


def requirement_checks(model_dir: Path) -> list[Finding]:
    """The written ``requirements.txt`` must let a new environment unpickle the model (a model from code has no pickle)."""
    if not (Path(model_dir) / "python_model.pkl").is_file():
        return []
    path = Path(model_dir) / "requirements.txt"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    names = {re.split(r"[^A-Za-z0-9._-]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
             for line in lines if line.strip() and not line.lstrip().startswith(("#", "-"))}
    if names & {"cloudpickle", "mlflow", "mlflow-skinny"}:
        return []
    return [Finding("missing-cloudpickle", "warning",
                    "requirements.txt lists neither cloudpickle nor MLflow: an environment built from it cannot "
                    "unpickle python_model.pkl.",
                    "add cloudpickle to the requirements you give (--pip, or the pip section of --conda)")]


def output_checks(output: Any) -> list[Finding]:
    """The prediction on the example must serialise as a scoring server would send it."""
    import json

    from ..format.example import prediction_to_json

    try:
        json.dumps(prediction_to_json(output), allow_nan=False)
    except (TypeError, ValueError) as exc:
        return [Finding("output-not-json", "warning",
                        f"predict returned {_type_name(output)}, which a scoring server cannot send as JSON ({exc}).",
                        "return a DataFrame, Series, NumPy array, list or dict of plain values")]
    return []


# --- checks of the built model: the fresh process, the reload, Python warnings ----------------------------

_FRESH_FIXES = {"load": "make what the model needs travel with it: local code with --code, packages with --pip, "
                        "files with --artifact",
                "example": "the saved input example cannot be read back; simplify the example",
                "predict": "predict depends on something only this kernel has (a notebook variable, the working "
                           "directory, a file): pass it to __init__ or as an --artifact"}


def fresh_process_checks(result: Any) -> list[Finding]:
    """The error a failed fresh-process run (an ``authoring.fresh.FreshResult``) makes: missing module, or stage."""
    if result.ok:
        return []
    if result.missing_module:
        module = result.missing_module
        path = local_module_path(module)
        where = f"the local module at {shown_path(path)}" if path else "a module that is not installed there"
        return [Finding("local-module", "error",
                        f"A fresh Python process cannot load the model: No module named {module!r} ({where}).",
                        module_fix(module, path))]
    return [Finding("fresh-process", "error",
                    f"A fresh Python process could not {result.stage} the model: {result.error_type}: {result.message}",
                    _FRESH_FIXES.get(result.stage, ""))]


def reload_failed_check(error: str) -> Finding:
    """The warning when the saved model cannot be reloaded (or predict on reload) in this kernel."""
    return Finding("reload-failed", "warning", f"Reloading in this kernel failed: {error}")


def mismatch_checks(preview: dict) -> list[Finding]:
    """A warning when a reloaded (or fresh-process) prediction differs from the in-memory one."""
    mismatched = [o["label"] for o in preview["outputs"] if o["status"] == "mismatch"]
    if not mismatched:
        return []
    verb = "prediction differs" if len(mismatched) == 1 else "predictions differ"
    return [Finding("reload-mismatch", "warning",
                    f"The {' and '.join(mismatched)} {verb} from the in-memory one (cells marked in the preview).")]


_PACKAGE = str(Path(__file__).resolve().parent)
_COVERED = {"params-unused": "no `params` parameter", "function-params": "no `params` parameter",
            "kwargs-params": "no `params` parameter", "uint64-columns": "uint64 values"}


def _about_the_model(record: Any) -> bool:
    """A warning our code or the user's code raised (not a library's deprecation notice, say)."""
    return str(record.filename).startswith(_PACKAGE) or not library_file(str(record.filename))


def warning_checks(caught: list, findings: list[Finding]) -> list[Finding]:
    """Caught warnings about the model as findings, once each, unless one of ``findings`` already says the same.

    Other warnings (a library's own, raised while it was first imported, say) are re-issued unchanged.
    """
    import warnings

    covered = {_COVERED[f.check] for f in findings if f.check in _COVERED}
    seen: set[str] = set()
    found = []
    for record in caught:
        if not _about_the_model(record):
            warnings.warn_explicit(
                record.message, record.category, record.filename, record.lineno, source=record.source
            )
            continue
        message = str(record.message)
        if message in seen or any(text in message for text in covered):
            continue
        seen.add(message)
        found.append(Finding("python-warning", "warning", f"{record.category.__name__}: {message}"))
    return found


# --- an input example too large to save whole -------------------------------------------------------------

LARGE_EXAMPLE_ROWS = 100_000
LARGE_EXAMPLE_BYTES = 10 * 1024 * 1024
EXAMPLE_SAMPLE_ROWS = 100
_SAMPLE_BYTES = 1024 * 1024


def _rows_and_bytes(data: Any) -> tuple[int | None, int | None]:
    """The example's row count and in-memory size (None where it cannot be told cheaply)."""
    if isinstance(data, (list, tuple)):
        return len(data), None
    if isinstance(data, dict):
        lengths = [len(v) for v in data.values() if isinstance(v, (list, tuple)) or hasattr(v, "shape")]
        return (max(lengths) if lengths else None), None
    module = type(data).__module__.split(".")[0]
    if module == "numpy" and getattr(data, "ndim", 0) >= 1:
        return int(data.shape[0]), int(data.nbytes)
    if module == "pandas" and hasattr(data, "memory_usage"):
        rows = len(data)
        if rows > LARGE_EXAMPLE_ROWS:
            return rows, None  # already too large: no need to size every object cell
        usage = data.memory_usage(deep=True, index=False)
        return rows, int(usage.sum() if hasattr(usage, "sum") else usage)
    return None, None


def _head(data: Any, rows: int) -> Any:
    if isinstance(data, (list, tuple)):
        return type(data)(data[:rows])
    if isinstance(data, dict):
        return {k: (v[:rows] if isinstance(v, (list, tuple)) or hasattr(v, "shape") else v) for k, v in data.items()}
    if type(data).__module__.split(".")[0] == "pandas":
        import pandas as pd

        head = data.head(rows)
        if isinstance(data, pd.DataFrame):  # keep a row with a missing value for each column that has one,
            missing = data.isna()           # so that the sample infers the same optional columns
            extra = [missing.index[int(missing[c].to_numpy().argmax())] for c in data.columns
                     if missing[c].any() and not missing[c].iloc[:rows].any()]
            if extra:
                head = pd.concat([head, data.loc[list(dict.fromkeys(extra))]])
        return head
    return data[:rows]


def sample_large_example(data: Any) -> tuple[Any, Finding | None]:
    """``(example to use, warning)``: an example over 100,000 rows or 10 MB is cut to its first rows.

    Saving it whole would write all of it to ``input_example.json`` and predict on it in memory, in
    the save's sample inference, in the fresh process and on reload (minutes and gigabytes for a
    large frame). The sample (at most 100 rows and about 1 MB, plus one row with a missing value for
    each column that has one) is what the model is checked, signed, previewed and saved with.
    """
    rows, size = _rows_and_bytes(data)
    if not ((rows or 0) > LARGE_EXAMPLE_ROWS or (size or 0) > LARGE_EXAMPLE_BYTES):
        return data, None
    keep = EXAMPLE_SAMPLE_ROWS
    if size and rows:
        keep = max(1, min(keep, rows * _SAMPLE_BYTES // size))
    keep = min(keep, rows or keep)
    sample = _head(data, keep)
    kept, _ = _rows_and_bytes(sample)
    extra = (kept or keep) - keep
    shown = ", ".join(part for part in (f"{rows:,} rows" if rows else "", _megabytes(size) if size else "") if part)
    plus = (f" plus {extra} row{'s' if extra > 1 else ''} with a missing value (so the signature still marks "
            "those columns optional)") if extra > 0 else ""
    finding = Finding(
        "large-example", "warning",
        f"The input example is large ({shown}); saving it whole would store all of it as input_example.json and "
        f"predict on it four times. Only its first {keep:,} rows{plus} were used: the model was checked, signed "
        "and saved with that sample as its input example.",
        "pass a small sample as the example, e.g. --example df.head(5) (input_example=df.head(5))")
    return sample, finding
