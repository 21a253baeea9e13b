"""IPython magics: ``%%pyfunc_model`` to author a model in a cell, ``%pyfunc_load`` and ``%pyfunc_models``."""

from __future__ import annotations

import ast
import inspect
import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from .authoring.candidates import arity, required_init_args

if TYPE_CHECKING:
    from types import FrameType

    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["PyfuncMagics", "load_ipython_extension"]

_LAST = "_pyfunc_jupyter_last_value_"
_PACKAGE = str(Path(__file__).resolve().parent) + os.sep


def _is_users(tb: Any) -> bool:
    """A frame of the user's code: neither pyfunc_jupyter's nor a library's (the standard library, pandas...)."""
    from .authoring.checks import library_file

    filename = tb.tb_frame.f_code.co_filename
    return not filename.startswith(_PACKAGE) and (filename.startswith("<") or not library_file(filename))


def _user_traceback(tb: Any) -> Any:
    """The traceback of the user's frames only (the library frames the error went through are dropped).

    When no frame is the user's (the error came from a library called by ours), the last frame is kept.
    """
    frames, last = [], None
    while tb is not None:
        if _is_users(tb):
            frames.append(tb)
        last = tb
        tb = tb.tb_next
    if not frames:
        return last
    for first, second in itertools.pairwise(frames):
        first.tb_next = second
    frames[-1].tb_next = None
    return frames[0]


def _has_user_frames(tb: Any) -> bool:
    while tb is not None:
        if _is_users(tb):
            return True
        tb = tb.tb_next
    return False


def _show_only_user_frames(shell: Any, error: BaseException) -> None:
    """Make IPython show ``error`` with the user's frames only.

    Re-raised from the magic, the error would also show the cell's ``get_ipython().run_cell_magic(...)``
    frame and IPython's; IPython draws an exception through its ``_render_traceback_`` when it has one.
    Exceptions it was chained to are shown only when the user's code raised them (pandas raises its
    ``KeyError`` from an internal one, say).
    """
    trimmed = _user_traceback(error.__traceback__)
    chained = error.__cause__ if error.__cause__ is not None else error.__context__

    def render() -> list[str]:
        hide = chained is not None and not _has_user_frames(chained.__traceback__)
        saved = error.__cause__, error.__context__, error.__suppress_context__
        if hide:
            error.__cause__ = error.__context__ = None
        try:
            return shell.InteractiveTB.structured_traceback(type(error), error, trimmed, tb_offset=0)
        finally:
            error.__cause__, error.__context__, error.__suppress_context__ = saved

    error._render_traceback_ = render  # type: ignore[attr-defined]


def _capture_last_expression(code: str) -> tuple[str, ast.Module | None]:
    """The cell with its last expression assigned to a hidden name (so it is not displayed), and its tree."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, None  # run as is: IPython shows the syntax error
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        node = tree.body[-1]
        lines = code.splitlines(keepends=True)
        line = lines[node.lineno - 1]
        column = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "ignore"))
        lines[node.lineno - 1] = f"{line[:column]}{_LAST} = {line[column:]}"
        code = "".join(lines)
    return code, tree


def _defined(tree: ast.Module | None) -> tuple[list[str], list[str], set[str]]:
    """(classes, functions, assigned names) defined at the top level of the cell, in order."""
    classes, functions, assigned = [], [], set()
    for node in tree.body if tree is not None else []:
        if isinstance(node, ast.ClassDef):
            classes.append(node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                assigned |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return classes, functions, assigned


def _is_model_like(value: Any) -> bool:
    if isinstance(value, type):
        return False
    if callable(getattr(value, "predict", None)) and not inspect.isroutine(value):
        return True
    return inspect.isfunction(value) and arity(value) == 1


def _instantiate(cls: type) -> Any:
    needed = required_init_args(cls)
    if needed:
        example = ", ".join(f"{n}=..." for n in needed)
        raise UsageError(
            f"{cls.__name__}.__init__ needs {', '.join(needed)}, so the model cannot be made "
            f"without arguments. End the cell with the instance to save, e.g. {cls.__name__}({example})."
        )
    try:
        return cls()
    except Exception as exc:  # noqa: BLE001 - the user's __init__ may raise anything
        raise UsageError(
            f"{cls.__name__}() failed ({type(exc).__name__}: {exc}). End the cell with the instance "
            "to save, e.g. MyModel(...), or fix __init__."
        ) from None


def choose_model(namespace: dict, classes: list[str], functions: list[str], last_value: Any) -> Any:
    """The model a cell defined: its last expression, else its one model class, else its one function."""
    if last_value is not None and _is_model_like(last_value):
        return last_value
    candidates = [
        namespace[n]
        for n in classes
        if isinstance(namespace.get(n), type) and callable(getattr(namespace[n], "predict", None))
    ]
    candidates = [c for c in candidates if not any(o is not c and issubclass(o, c) for o in candidates)]
    if len(candidates) > 1:
        names = ", ".join(c.__name__ for c in candidates)
        raise UsageError(
            f"The cell defines several model classes ({names}). End the cell with the one to save, "
            f"e.g. {candidates[-1].__name__}()."
        )
    if candidates:
        return _instantiate(candidates[0])
    routines = [namespace[n] for n in functions if inspect.isfunction(namespace.get(n))]
    if len(routines) > 1:
        names = ", ".join(f.__name__ for f in routines)
        raise UsageError(
            f"The cell defines several functions ({names}) and no model class. End the cell with the "
            f"function to save, e.g. {routines[-1].__name__}."
        )
    if routines:
        if arity(routines[0]) != 1:
            raise UsageError(
                f"{routines[0].__name__} takes {arity(routines[0])} arguments; a function model takes "
                "exactly one (the input). Wrap it in a PythonModel class to use more."
            )
        return routines[0]
    raise UsageError(
        "The cell defines no model. Define a class with a predict method (a PythonModel), or a "
        "function of one argument, or end the cell with a model instance."
    )


def _code_file(cell: str, tree: ast.Module | None, model: Any, last: Any, namespace: dict) -> Any:
    """The cell as the model's code file, ending with ``set_model`` of the model the cell chose."""
    from .authoring.fromcode import code_file

    if last is not None and last is model and tree is not None and tree.body:
        expression = ast.get_source_segment(cell, tree.body[-1]) or ast.unparse(tree.body[-1])
        return code_file(cell, expression, True, namespace)
    expression = model.__name__ if inspect.isroutine(model) else f"{type(model).__name__}()"
    return code_file(cell, expression, False, namespace)


def _unquote(value: Any) -> Any:
    """Strip one pair of shell-style quotes, which IPython's argument parser keeps."""
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


_EXPR_OPTIONS = ("--example", "--params", "--signature", "--config")


def _parse(magic: Any, line: str) -> Any:
    try:
        args = parse_argstring(magic, line)
    except UsageError as exc:
        raise UsageError(f"{exc}. {_quoting_hint(line, magic.__name__)}") from None
    for key, value in vars(args).items():
        setattr(args, key, _unquote(value))
    return args


def _quoting_hint(line: str, magic: str = "pyfunc_model") -> str:
    """How to quote the option whose value the line split into several words (the usual cause)."""
    from IPython.utils.process import arg_split

    try:
        words = arg_split(line, strict=False)
    except ValueError:
        words = line.split()
    for index, word in enumerate(words):
        value = []
        for follower in words[index + 1 :]:
            if follower.startswith("--"):
                break
            value.append(follower)
        if word in _EXPR_OPTIONS and len(value) > 1:
            text = " ".join(value)
            if '"' not in text:
                return f'Quote an expression that has spaces: {word} "{text}" (or assign it first: {word} name).'
            if "'" not in text:
                return f"Quote an expression that has spaces: {word} '{text}' (or assign it first: {word} name)."
            return (
                f"The value of {word} has spaces and both kinds of quotes: assign it to a variable in an "
                f"earlier cell and give its name ({word} name)."
            )
    if magic == "pyfunc_model":
        return (
            "An option's value with spaces must be quoted, e.g. --example \"pd.DataFrame({'x': [1.0, 2.0]})\"; "
            "%%pyfunc_model? lists the options."
        )
    return f'A value with spaces must be quoted, e.g. "my models/m1"; %{magic}? lists the options.'


def _target(shell: Any, name: str) -> str:
    """The variable name given with ``--as``: an identifier that shadows no keyword, builtin or IPython name."""
    import builtins
    import keyword

    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"--as {name!r} is not a Python variable name. Give one such as --as model.")
    if hasattr(builtins, name) or (name.startswith("__") and name.endswith("__")) or name in shell.user_ns_hidden:
        raise UsageError(
            f"--as {name!r} would replace a name Python or IPython relies on (a builtin, a dunder "
            "name or IPython's history variables). Choose another name, such as --as model."
        )
    return name


def _artifacts(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    artifacts = {}
    for pair in pairs:
        key, sep, path = pair.partition("=")
        if not sep or not key or not path:
            raise UsageError(f"--artifact {pair!r}: expected KEY=PATH, e.g. --artifact weights=model.bin")
        artifacts[key] = path
    return artifacts


@magics_class
class PyfuncMagics(Magics):
    """Author, save, load and list MLflow pyfunc models from notebook cells."""

    shell: InteractiveShell  # never None here: the magics are only made by load_ipython_extension(shell)
    _line = ""  # the magic line being run, for hints

    def _eval(self, option: str, expression: str | None) -> Any:
        if expression is None:
            return None
        try:
            return self.shell.ev(expression)
        except Exception as exc:  # noqa: BLE001 - the user's expression may raise anything
            hint = f". {_quoting_hint(self._line)}" if isinstance(exc, SyntaxError) else ""
            raise UsageError(f"{option} {expression!r} failed: {type(exc).__name__}: {exc}{hint}") from None

    def _run_cell(self, cell: str) -> tuple[ast.Module | None, Any]:
        code, tree = _capture_last_expression(self.shell.transform_cell(cell))
        # run under the number of the cell the magic is in, so a traceback says "Cell In[2]" in cell [2]
        # (IPython counts a cell before running it, so the shell's own count is already the next one)
        count = self.shell.execution_count
        self.shell.execution_count = self._cell_number(count)
        try:
            result = self.shell.run_cell(code, store_history=False)
        finally:
            self.shell.execution_count = count
        last = self.shell.user_ns.pop(_LAST, None)
        if not result.success:
            raise UsageError("The cell raised an error (shown above); nothing was saved.")
        return tree, last

    def _cell_number(self, default: int) -> int:
        """The execution number of the cell running this magic: the one its code was compiled under."""
        import sys

        names = getattr(self.shell.compile, "_filename_map", {})
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            number = names.get(frame.f_code.co_filename)
            if isinstance(number, int):
                return number
            frame = frame.f_back
        return default

    def _example(self, args: Any, assigned: set[str]) -> tuple[Any, dict | None]:
        from .format.example import split_example

        if args.example is not None:
            example = self._eval("--example", args.example)
        elif "input_example" in assigned:
            example = self.shell.user_ns.get("input_example")
        else:
            example = None
        if example is None:
            raise UsageError(
                "No input example, so nothing was saved. Add one: `--example EXPR` on the magic line "
                "(e.g. --example df.head(3)), or `input_example = ...` in the cell."
            )
        data, params = split_example(example)
        given = self._eval("--params", args.params)
        if given is not None and not isinstance(given, dict):
            raise UsageError(f"--params must give a dict of param names to defaults; got {type(given).__name__}.")
        return data, given if given is not None else params

    @magic_arguments()
    @argument(
        "name",
        nargs="?",
        default=None,
        help="Store name (default: the class or function name in snake_case). Each run adds a version.",
    )
    @argument(
        "--example",
        metavar="EXPR",
        help="Input example, evaluated in the notebook after the cell runs. "
        "Required unless the cell assigns `input_example`.",
    )
    @argument(
        "--params",
        metavar="EXPR",
        help="Dict of inference params; their types and values become the params schema and its defaults.",
    )
    @argument("--signature", metavar="EXPR", help="A ModelSignature to use instead of the inferred one.")
    @argument(
        "--artifact",
        action="append",
        metavar="KEY=PATH",
        help="A file or directory to ship; load_context reads it as context.artifacts[KEY]. Repeatable.",
    )
    @argument(
        "--pip", action="append", metavar="REQ", help="A pip requirement; replaces the inferred ones. Repeatable."
    )
    @argument(
        "--extra-pip", action="append", metavar="REQ", help="A pip requirement added to the inferred ones. Repeatable."
    )
    @argument("--conda", metavar="FILE", help="A conda environment YAML file to save with the model.")
    @argument(
        "--code",
        action="append",
        metavar="PATH",
        help="A local module or package to ship in the model's code/ directory. Repeatable.",
    )
    @argument("--config", metavar="EXPR", help="The model_config dict (or YAML path) given to load_context.")
    @argument(
        "--from-code",
        action="store_true",
        help="Save the cell itself as the model's code file (MLflow's "
        "models from code) instead of pickling the model: no pickle, a diffable model.",
    )
    @argument("--path", metavar="DIR", help="Save to this directory instead of the local store.")
    @argument("--overwrite", action="store_true", help="With --path: replace a model already there (atomically).")
    @argument(
        "--store",
        metavar="URI",
        help="Log to this store instead of the one in use: a folder, or an MLflow "
        "tracking server (http://host:port), where it becomes a new version of the registered model.",
    )
    @argument(
        "--new-version",
        action="store_true",
        help="Add a store version even if the latest one holds exactly "
        "this model (by default it is reused: 'unchanged').",
    )
    @argument(
        "--as",
        dest="as_var",
        metavar="VAR",
        default="_pyfunc",
        help="Variable to bind the result to (default: _pyfunc): .info, .model, .card, .findings.",
    )
    @cell_magic
    def pyfunc_model(self, line: str, cell: str) -> None:
        """Run the cell, then check, save, reload and preview the model it defines, and show its card.

        The model is the cell's last expression when that is a model (``MyModel(10, 20)``), else the
        one class the cell defines that has ``predict`` (made without arguments), else the one
        function it defines. Nothing is written if the cell, ``predict`` on the example, or a check
        fails; the card lists every finding with its fix.
        """
        __tracebackhide__ = True
        from .authoring.pipeline import AuthorRequest, PredictError, author
        from .errors import PyfuncError

        self._line = line
        args = _parse(self.pyfunc_model, line)
        _target(self.shell, args.as_var)  # before the cell runs: a bad name costs nothing
        if args.overwrite and not args.path:
            raise UsageError("--overwrite applies only with --path DIR; the store adds a new version instead.")
        if args.store and args.path:
            raise UsageError("Give --path DIR (a directory) or --store URI (a store), not both.")
        if args.store:
            from ._storeroot import as_store

            try:
                as_store(args.store)
            except PyfuncError as exc:
                raise UsageError(f"--store: {exc}") from None
        if args.new_version and args.path:
            raise UsageError("--new-version applies only to the store; with --path DIR use --overwrite.")
        tree, last = self._run_cell(cell)
        classes, functions, assigned = _defined(tree)
        model = choose_model(self.shell.user_ns, classes, functions, last)
        if last is not None and last is not model:
            display(last)  # the cell's last expression, shown as any cell would show it
        data, params = self._example(args, assigned)
        code = _code_file(cell, tree, model, last, self.shell.user_ns) if args.from_code else None
        request = AuthorRequest(
            model=model,
            input_example=data,
            params=params,
            name=args.name,
            path=args.path,
            overwrite=args.overwrite,
            signature=self._eval("--signature", args.signature),
            artifacts=_artifacts(args.artifact),
            pip_requirements=args.pip,
            extra_pip_requirements=args.extra_pip,
            conda_env=args.conda,
            code_paths=args.code,
            model_config=self._eval("--config", args.config),
            source="notebook",
            store=args.store,
            new_version=args.new_version,
            code=code,
        )
        try:
            authored = author(request)
        except PredictError as exc:
            original = exc.original
            original.add_note(f"pyfunc_model: {exc}")
            _show_only_user_frames(self.shell, original)
            raise original from None
        except PyfuncError as exc:
            raise UsageError(str(exc)) from None
        self.shell.user_ns[args.as_var] = authored
        display(authored.card)
        if not authored.saved:
            count = len(authored.errors)
            raise UsageError(
                f"{count} check(s) failed, so nothing was saved. Fix them (see the card above) and run the cell again."
            )

    @magic_arguments()
    @argument(
        "uri",
        help="A model directory, models:/<name>/<version|latest>, models:/<name>@<alias> or runs:/<run_id>/<name>.",
    )
    @argument(
        "--as",
        dest="as_var",
        metavar="VAR",
        default="model",
        help="Variable to bind the loaded model to (default: model).",
    )
    @line_magic
    def pyfunc_load(self, line: str) -> None:
        """Load a saved model with the embedded loader, bind it to a variable and show its card."""
        from .authoring.pipeline import open_model
        from .errors import PyfuncError

        args = _parse(self.pyfunc_load, line)
        _target(self.shell, args.as_var)
        try:
            opened = open_model(args.uri)
        except PyfuncError as exc:
            raise UsageError(str(exc)) from None
        self.shell.user_ns[args.as_var] = opened.model
        print(f"Loaded {args.uri} as `{args.as_var}`: call {args.as_var}.predict(data).")
        display(opened.card)

    @line_magic
    def pyfunc_panel(self, line: str) -> Any:
        """The save/load panel: Save (a model and an example from this notebook), Load and try, Compare."""
        from .widgets.panel import panel

        if line.strip():
            raise UsageError("%pyfunc_panel takes no arguments.")
        return panel(self.shell.user_ns)

    @line_magic
    def pyfunc_models(self, line: str) -> Any:
        """The models in the store in use (a folder or a tracking server): name, versions, created, signature."""
        from .card.listing import ModelList

        if line.strip():
            raise UsageError(
                "%pyfunc_models takes no arguments; use pyfunc_jupyter.set_store(path_or_server_uri) to change store."
            )
        return ModelList.from_store()


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics: ``%load_ext pyfunc_jupyter``.

    Parameters
    ----------
    ipython : IPython.core.interactiveshell.InteractiveShell
        The running shell.
    """
    from .authoring.fresh import prestart_spare

    ipython.register_magics(PyfuncMagics)
    prestart_spare()  # the first cell's fresh-process check need not wait for an interpreter to start
