"""Reading (validated) and writing the ``MLmodel`` file of a model directory."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any, Literal, overload

from ..errors import MLmodelError, ModelLoadError

__all__ = [
    "read_mlmodel",
    "parse_mlmodel",
    "write_mlmodel",
    "pyfunc_flavor",
    "safe_model_path",
    "read_model_file",
    "read_signature",
    "PYFUNC_LOADER",
    "CODE_MODEL_LOADER",
]

PYFUNC_LOADER = "mlflow.pyfunc.model"
CODE_MODEL_LOADER = "mlflow.pyfunc.loaders.code_model"  # models from code (format.codemodel)
_COMPRESSIONS = ("gzip", "bzip2", "lzma")
# YAML aliases may repeat a node; a file whose aliases expand past this many nodes (a "billion laughs"
# bomb) is refused before anything is built. MLflow's own MLmodel files have a few dozen nodes.
_MAX_NODES = 100_000


def _yaml_loader():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_mlmodel(model_dir: str | os.PathLike) -> dict[str, Any]:
    """Parse and validate ``<model_dir>/MLmodel``; raise ``MLmodelError`` naming file and key."""
    path = Path(model_dir) / "MLmodel"
    if not path.is_file():
        raise ModelLoadError(
            f"{model_dir} is not a model directory: it has no MLmodel file. "
            "Pass the directory that save_model wrote (the one holding MLmodel)."
        )
    raw = read_model_file(model_dir, "MLmodel", mlmodel_path=str(path), key=None)
    return parse_mlmodel(raw, str(path))


def parse_mlmodel(raw: bytes, path: str) -> dict[str, Any]:
    """Parse and validate the bytes of an ``MLmodel`` file; any problem is an ``MLmodelError``."""
    import yaml

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MLmodelError(
            path, None, f"not UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r}); save the file as UTF-8"
        ) from None
    try:
        data = _parse_yaml(text)
    except yaml.YAMLError as exc:
        raise MLmodelError(path, None, f"not valid YAML ({_short(str(exc), 300)})") from None
    except _TooLarge as exc:
        raise MLmodelError(path, None, str(exc)) from None
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError, MemoryError) as exc:
        # PyYAML's constructors raise these for values such as ``!!float 'a'``, ``!!timestamp '2020-99-99'``
        # (ValueError) or ``!!timestamp 'no date'`` (AttributeError: its pattern did not match)
        raise MLmodelError(
            path, None, f"a value cannot be read ({type(exc).__name__}: {_short(str(exc), 200)})"
        ) from None
    _validate(path, data)
    return data


class _TooLarge(Exception):
    pass


def _parse_yaml(text: str) -> Any:
    """``yaml.load`` with a safe loader that first bounds what YAML aliases would expand to."""
    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: Any) -> None:
    """Count the nodes the document expands to (aliases counted each time); refuse past ``_MAX_NODES``."""
    import yaml

    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
        if done:
            open_nodes.discard(id(node))
            sizes[id(node)] = total = 1 + sum(sizes[id(c)] for c in children)
            if total > _MAX_NODES:
                raise _TooLarge(
                    f"its YAML aliases expand to more than {_MAX_NODES:,} values (a YAML bomb); "
                    "write the values out instead of repeating them through &anchors and *aliases"
                )
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            raise _TooLarge(
                "a YAML alias refers to the value that contains it (a recursive structure); "
                "remove the &anchor/*alias loop"
            )
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) not in sizes:
                if id(child) in open_nodes:
                    raise _TooLarge(
                        "a YAML alias refers to the value that contains it (a recursive "
                        "structure); remove the &anchor/*alias loop"
                    )
                stack.append((child, False))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _brief(value: Any) -> str:
    """A bounded ``repr`` (never builds the repr of a huge value)."""
    import reprlib

    brief = reprlib.Repr()
    brief.maxstring = brief.maxother = 80
    brief.maxlevel = 3
    return _short(brief.repr(value), 100)


@overload
def read_model_file(
    model_dir: str | os.PathLike,
    relative: str,
    *,
    mlmodel_path: str,
    key: str | None,
    missing_ok: Literal[False] = False,
) -> bytes: ...
@overload
def read_model_file(
    model_dir: str | os.PathLike, relative: str, *, mlmodel_path: str, key: str | None, missing_ok: bool
) -> bytes | None: ...
def read_model_file(
    model_dir: str | os.PathLike, relative: str, *, mlmodel_path: str, key: str | None, missing_ok: bool = False
) -> bytes | None:
    """The bytes of a regular file of the model directory; one that links outside the directory is refused.

    With ``missing_ok``, a missing file gives None.
    """
    joined = os.path.join(os.fspath(model_dir), relative)
    fd = None
    if (
        relative
        and "/" not in relative
        and "\\" not in relative
        and "\x00" not in relative
        and relative not in (".", "..")
    ):
        try:  # fast path: a file right in the directory that is not a link is inside it
            fd = os.open(joined, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            if missing_ok:
                return None
            raise _unreadable(joined, "no such file") from None
        except OSError as exc:
            if exc.errno != errno.ELOOP:  # ELOOP: it is a link, checked below
                raise _unreadable(joined, exc.strerror or str(exc)) from None
    if fd is None:
        path = safe_model_path(model_dir, relative, mlmodel_path=mlmodel_path, key=key or relative)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            if missing_ok:
                return None
            raise _unreadable(joined, "no such file") from None
        except OSError as exc:
            raise _unreadable(joined, exc.strerror or str(exc)) from None
    with os.fdopen(fd, "rb") as file:
        try:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # a folder, a FIFO, a device
                raise _unreadable(joined, "not a regular file")
            return file.read()
        except OSError as exc:
            raise _unreadable(joined, exc.strerror or str(exc)) from None


def _unreadable(path: str, why: str) -> ModelLoadError:
    return ModelLoadError(f"Cannot read {path} ({why}); check that the model directory is complete and readable.")


def read_signature(mlmodel: dict[str, Any], mlmodel_path: str) -> Any:
    """The ``ModelSignature`` of a parsed MLmodel (None without one); a malformed one is an ``MLmodelError``."""
    if not mlmodel.get("signature"):
        return None
    from .schema import ModelSignature

    try:
        return ModelSignature.from_dict(mlmodel["signature"])
    except Exception as exc:  # noqa: BLE001 - JSON and schema errors alike
        raise MLmodelError(
            mlmodel_path, "signature", f"the signature cannot be read ({_short(str(exc), 300)})"
        ) from None


def _expect(path: str, key: str, value: Any, kinds: tuple[type, ...], what: str) -> None:
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise MLmodelError(path, key, f"expected {what}, found {type(value).__name__} {_brief(value)}")


def _validate(path: str, data: Any) -> None:
    """Check the keys our loader reads, with their types."""
    _expect(path, "(top level)", data, (dict,), "a mapping of keys")
    _expect(path, "flavors", data.get("flavors"), (dict,), "a mapping of flavors")
    flavor = data["flavors"].get("python_function")
    if flavor is None:
        raise MLmodelError(
            path, "flavors.python_function", "the model has no python_function flavor, so it is not a pyfunc model"
        )
    _expect(path, "flavors.python_function", flavor, (dict,), "a mapping")
    loader = flavor.get("loader_module")
    _expect(path, "flavors.python_function.loader_module", loader, (str,), "a module name")
    if flavor.get("model_code_path") is not None:
        _expect(
            path,
            "flavors.python_function.model_code_path",
            flavor["model_code_path"],
            (str,),
            "the path of the model's code file",
        )
    elif loader in (PYFUNC_LOADER, CODE_MODEL_LOADER):
        _expect(
            path,
            "flavors.python_function.python_model",
            flavor.get("python_model"),
            (str,),
            "the relative path of the pickled model",
        )
    for key, kinds, what in (
        ("code", (str, type(None)), "a relative path or null"),
        ("artifacts", (dict, type(None)), "a mapping of artifact names"),
        ("config", (dict, type(None)), "a mapping"),
        ("streamable", (bool, type(None)), "true or false"),
        ("env", (dict, str, type(None)), "a mapping or a path"),
        ("python_model_compression", (str, type(None)), f"one of {_COMPRESSIONS}"),
        ("data", (str, type(None)), "a relative path or null"),
    ):
        _expect(path, f"flavors.python_function.{key}", flavor.get(key), kinds, what)
    compression = flavor.get("python_model_compression")
    if compression is not None and compression not in _COMPRESSIONS:
        raise MLmodelError(
            path,
            "flavors.python_function.python_model_compression",
            f"unknown compression {compression!r}; expected one of {_COMPRESSIONS}",
        )
    for name, entry in (flavor.get("artifacts") or {}).items():
        key = f"flavors.python_function.artifacts.{name}"
        _expect(path, key, entry, (dict,), "a mapping with a 'path'")
        _expect(path, f"{key}.path", entry.get("path"), (str,), "a relative path")
    signature = data.get("signature")
    _expect(path, "signature", signature, (dict, type(None)), "a mapping of JSON strings")
    for part in ("inputs", "outputs", "params"):
        if signature:
            _expect(path, f"signature.{part}", signature.get(part), (str, type(None)), "a JSON string or null")
    info = data.get("saved_input_example_info")
    _expect(path, "saved_input_example_info", info, (dict, type(None)), "a mapping")
    if info:
        _expect(path, "saved_input_example_info.artifact_path", info.get("artifact_path"), (str,), "a relative path")
    _expect(path, "metadata", data.get("metadata"), (dict, type(None)), "a mapping")


def pyfunc_flavor(mlmodel: dict[str, Any]) -> dict[str, Any]:
    """The validated ``python_function`` flavor of a parsed MLmodel."""
    return mlmodel["flavors"]["python_function"]


def safe_model_path(model_dir: str | os.PathLike, relative: str, *, mlmodel_path: str, key: str) -> Path:
    """Join ``relative`` to ``model_dir``, refusing absolute paths, ``..`` and symlinks out of it."""
    if (
        not relative
        or "\x00" in relative
        or "\\" in relative
        or os.path.isabs(relative)
        or PurePosixPath(relative).is_absolute()
    ):
        raise MLmodelError(
            mlmodel_path, key, f"path {relative!r} must be a relative POSIX path inside the model directory"
        )
    parts = PurePosixPath(relative).parts
    if ".." in parts:
        raise MLmodelError(mlmodel_path, key, f"path {relative!r} escapes the model directory")
    if len(parts) == 1 and parts[0] != ".":  # a file right in the directory: inside unless it is a link
        try:
            if not stat.S_ISLNK(os.lstat(Path(model_dir) / relative).st_mode):
                return Path(model_dir) / relative
        except FileNotFoundError:
            return Path(model_dir) / relative
        except OSError:
            pass  # resolved below
    try:
        root = Path(model_dir).resolve()
        joined = (root / relative).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise MLmodelError(mlmodel_path, key, f"path {relative!r} cannot be resolved ({exc})") from None
    if joined != root and root not in joined.parents:
        raise MLmodelError(
            mlmodel_path, key, f"path {relative!r} leads outside the model directory (through a symlink)"
        )
    return Path(model_dir) / relative


def write_mlmodel(model_dir: str | os.PathLike, data: dict[str, Any]) -> None:
    """Write ``MLmodel`` as MLflow does: YAML block style, keys sorted at every level."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(data, Dumper=dumper, default_flow_style=False, sort_keys=True, allow_unicode=True)
    (Path(model_dir) / "MLmodel").write_text(text, encoding="utf-8")
