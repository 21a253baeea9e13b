"""Environment files of a model: ``requirements.txt``, ``conda.yaml``, ``python_env.yaml``."""

from __future__ import annotations

import functools
import os
import platform
import re
from dataclasses import dataclass, field
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

from ..errors import ModelSaveError

__all__ = ["EnvSpec", "process_requirements", "write_env_files", "installed_version"]

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([<>=!~][^;]*)?(;.*)?$")


@dataclass
class EnvSpec:
    """The requirements to write, with constraints and the conda environment they go in."""

    requirements: list[str]
    constraints: list[str] = field(default_factory=list)
    conda_env: dict | None = None


@functools.cache
def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` (cached for the process), or None."""
    try:
        return _metadata.version(distribution)
    except _metadata.PackageNotFoundError:
        return None


def _read_lines(path: Path, seen: set[Path]) -> tuple[list[str], list[str]]:
    """Requirement lines of a file, with ``-r`` expanded; returns (requirements, constraints)."""
    if path in seen:
        return [], []
    seen.add(path)
    if not path.is_file():
        raise ModelSaveError(f"Requirements file {path} does not exist. Check the path given in pip_requirements.")
    return _parse(path.read_text(encoding="utf-8").splitlines(), path.parent, seen)


def _parse(lines: list[str], base: Path, seen: set[Path]) -> tuple[list[str], list[str]]:
    requirements: list[str] = []
    constraints: list[str] = []
    for raw in lines:
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            more, more_constraints = _read_lines((base / line.split(None, 1)[1].strip()).resolve(), seen)
            requirements += more
            constraints += more_constraints
        elif line.startswith(("-c ", "--constraint ")):
            path = (base / line.split(None, 1)[1].strip()).resolve()
            if not path.is_file():
                raise ModelSaveError(f"Constraints file {path} does not exist. Check the -c line.")
            constraints += [c.strip() for c in path.read_text(encoding="utf-8").splitlines() if c.strip()]
        else:
            requirements.append(line)
    return requirements, constraints


def _as_lines(value: Any, option: str) -> tuple[list[str], list[str]]:
    if isinstance(value, (str, os.PathLike)):
        return _read_lines(Path(value).expanduser().resolve(), set())
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ModelSaveError(
            f"{option} must be a list of requirement strings or the path of a requirements "
            f"file; got {type(value).__name__}."
        )
    return _parse(list(value), Path.cwd(), set())


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _merge(requirements: list[str]) -> list[str]:
    """Merge lines naming the same package (specifiers combined); others kept in order."""
    merged: dict[str, list] = {}
    order: list[str] = []
    for line in requirements:
        match = _NAME.match(line)
        if not match or match.group(4) or "://" in line or line.startswith("-"):
            key = line
            merged.setdefault(key, [line, None, []])
            if key not in order:
                order.append(key)
            continue
        name, extras, spec = match.group(1), match.group(2) or "", (match.group(3) or "").strip()
        key = _canonical(name)
        if key not in merged:
            merged[key] = [name, extras, []]
            order.append(key)
        if spec and spec not in merged[key][2]:
            merged[key][2].append(spec)
    lines = []
    for key in order:
        name, extras, specs = merged[key]
        lines.append(name if extras is None else f"{name}{extras}{','.join(specs)}")
    return lines


def _with_mlflow_pin(requirements: list[str]) -> list[str]:
    """Pin MLflow first, like MLflow, but only if it is installed here (never a made-up pin)."""
    version = installed_version("mlflow")
    names = {_canonical(m.group(1)) for m in map(_NAME.match, requirements) if m}
    if version is None or names & {"mlflow", "mlflow-skinny", "mlflow-tracing"}:
        return requirements
    return [f"mlflow=={version}", *requirements]


def _load_conda(conda_env: Any) -> dict:
    if isinstance(conda_env, dict):
        return dict(conda_env)
    path = Path(conda_env).expanduser()
    if not path.is_file():
        raise ModelSaveError(f"conda_env file {path} does not exist.")
    import yaml

    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ModelSaveError(f"conda_env file {path} must hold a YAML mapping (name, channels, dependencies).")
    return loaded


def _conda_pip(env: dict) -> list[str]:
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
            return [str(x) for x in dep["pip"]]
    return []


def process_requirements(
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    conda_env: Any = None,
    inferred: list[str] | None = None,
) -> EnvSpec:
    """Work out the requirements to write from the save options (at most one of the three)."""
    given = [
        n
        for n, v in (
            ("conda_env", conda_env),
            ("pip_requirements", pip_requirements),
            ("extra_pip_requirements", extra_pip_requirements),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise ModelSaveError(
            f"Only one of `conda_env`, `pip_requirements`, and `extra_pip_requirements` can be "
            f"specified; got {' and '.join(given)}. Put everything in one of them."
        )
    constraints: list[str] = []
    conda = None
    if pip_requirements is not None:
        requirements, constraints = _as_lines(pip_requirements, "pip_requirements")
    elif conda_env is not None:
        conda = _load_conda(conda_env)
        requirements = _conda_pip(conda)
    else:
        requirements = list(inferred or [])
        if extra_pip_requirements is not None:
            extra, constraints = _as_lines(extra_pip_requirements, "extra_pip_requirements")
            requirements += extra
    requirements = _with_mlflow_pin(_merge(requirements))
    if constraints:
        requirements.append("-c constraints.txt")
    return EnvSpec(requirements, constraints, conda)


def _default_conda(requirements: list[str]) -> dict:
    pip = installed_version("pip")
    return {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={platform.python_version()}",
            f"pip<={pip}" if pip else "pip",
            {"pip": list(requirements)},
        ],
        "name": "mlflow-env",
    }


def _user_conda(env: dict, requirements: list[str]) -> dict:
    dependencies = [d for d in (env.get("dependencies") or []) if not (isinstance(d, dict) and "pip" in d)]
    return {**env, "dependencies": [*dependencies, {"pip": list(requirements)}]}


@functools.lru_cache(maxsize=64)
def _render(requirements: tuple[str, ...], conda_json: str | None) -> tuple[str, str]:
    """The text of ``conda.yaml`` and ``python_env.yaml`` (cached: saves often repeat them)."""
    import json

    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    conda = (
        _user_conda(json.loads(conda_json), list(requirements)) if conda_json else _default_conda(list(requirements))
    )
    build = [f"{name}=={v}" if (v := installed_version(name)) else name for name in ("pip", "setuptools", "wheel")]
    python_env = {
        "python": platform.python_version(),
        "build_dependencies": build,
        "dependencies": ["-r requirements.txt"],
    }
    return (
        yaml.dump(conda, Dumper=dumper, default_flow_style=False, sort_keys=True),
        yaml.dump(python_env, Dumper=dumper, default_flow_style=False, sort_keys=False),
    )


def write_env_files(directory: str | os.PathLike, spec: EnvSpec) -> dict[str, str]:
    """Write the environment files into ``directory``; return the flavor's ``env`` mapping."""
    import json

    directory = Path(directory)
    (directory / "requirements.txt").write_text("\n".join(spec.requirements), encoding="utf-8")
    if spec.constraints:
        (directory / "constraints.txt").write_text("\n".join(spec.constraints), encoding="utf-8")
    conda_json = json.dumps(spec.conda_env, sort_keys=True, default=str) if spec.conda_env else None
    conda_text, python_env_text = _render(tuple(spec.requirements), conda_json)
    (directory / "conda.yaml").write_text(conda_text, encoding="utf-8")
    (directory / "python_env.yaml").write_text(python_env_text, encoding="utf-8")
    return {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
