"""The import layers of ARCHITECTURE.md hold: ``lint-imports`` checks the contracts in pyproject.toml.

magics > widgets > authoring > card > store > format > environment > (_base, _hints, errors, _version):
each imports only from layers below it, and the core (format, environment, store and the base) imports
no IPython, ipywidgets or other Jupyter package, directly or through another module of ours.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=project, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project)})


def test_the_package_keeps_its_import_contracts():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "pyfunc_jupyter", tmp_path / "pyfunc_jupyter",
                    ignore=shutil.ignore_patterns("labextension", "__pycache__"))
    return tmp_path


def _add_import(module: Path, line: str) -> None:
    module.write_text(module.read_text(encoding="utf-8") + f"\n\ndef _upward():\n    {line}\n", encoding="utf-8")


def test_an_upward_import_breaks_the_layers(tmp_path):
    project = _copy(tmp_path)
    _add_import(project / "pyfunc_jupyter" / "format" / "load.py", "from ..store.folder import resolve_uri")
    result = _lint(project)
    assert result.returncode != 0
    assert "pyfunc_jupyter.format is not allowed to import pyfunc_jupyter.store" in result.stdout


def test_a_jupyter_import_in_the_core_breaks_the_contract(tmp_path):
    project = _copy(tmp_path)
    _add_import(project / "pyfunc_jupyter" / "environment" / "markers.py", "import ipywidgets")
    result = _lint(project)
    assert result.returncode != 0
    assert "pyfunc_jupyter.environment is not allowed to import ipywidgets" in result.stdout


def test_importing_every_core_module_loads_no_jupyter():
    # lint-imports reads import statements; this also catches an importlib call or a plugin hook.
    core = sorted(f"pyfunc_jupyter.{p.parent.name}.{p.stem}" for sub in ("format", "environment", "store")
                  for p in (ROOT / "pyfunc_jupyter" / sub).glob("*.py") if p.stem != "__init__")
    assert "pyfunc_jupyter.format.load" in core and "pyfunc_jupyter.store.loading" in core
    code = ("import importlib, sys\n"
            f"for name in {core!r}: importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('IPython', 'ipykernel', 'ipywidgets', 'jupyter_client', 'jupyter_server', 'comm', 'notebook')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# Names of the by-value pickled modules that other layers use although they are not public: pickles
# written by earlier versions refer to them by name, so they keep their names.
_FROZEN_NAMES = {("pyfunc_jupyter._base", "_FunctionPythonModel"), ("pyfunc_jupyter._hints", "_BadHint")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _public_names(module: str) -> set[str] | None:
    """The names a module of ours lists in ``__all__`` (read from its source), None if it is not a module file."""
    import ast

    base = ROOT.joinpath(*module.split("."))
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    if not path.is_file():
        return None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def _cross_layer_imports():
    """(importing file, line, module, name) of every ``from X import name`` where X is in another subpackage."""
    import ast

    for path in sorted((ROOT / "pyfunc_jupyter").rglob("*.py")):
        if "labextension" in path.parts:
            continue
        here = _module_name(path)
        package = here if path.name == "__init__.py" else here.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").split(".")[0] == "pyfunc_jupyter":
                target = node.module
            else:
                continue
            if target.split(".")[:2] == here.split(".")[:2] or target == "pyfunc_jupyter":
                continue  # the same subpackage (or top-level module), or the package root's lazy names
            for alias in node.names:
                if _public_names(f"{target}.{alias.name}") is None:  # a name, not a submodule
                    yield path.relative_to(ROOT), node.lineno, target, alias.name


def test_layers_use_only_each_others_public_names():
    # Issue 12: each layer reaches the ones below only through names they list in __all__ (what
    # ARCHITECTURE.md calls their public functions), never through underscored helpers.
    found = list(_cross_layer_imports())
    assert any(t == "pyfunc_jupyter.format.trial" for _, _, t, _ in found)  # the walk sees relative imports
    private = [f"{path}:{line}: {target}.{name}" for path, line, target, name in found
               if (target, name) not in _FROZEN_NAMES and name not in (_public_names(target) or set())]
    assert private == []
