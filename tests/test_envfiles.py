"""Environment files: MLflow's contents for each way of giving requirements."""

from __future__ import annotations

import platform

import pytest
import yaml

from pyfunc_jupyter.environment.envfiles import process_requirements, write_env_files
from pyfunc_jupyter.errors import ModelSaveError


def _write(tmp_path, spec):
    env = write_env_files(tmp_path, spec)
    assert env == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    return (tmp_path / "requirements.txt").read_text(), yaml.safe_load((tmp_path / "conda.yaml").read_text())


def test_inferred_requirements(tmp_path):
    text, conda = _write(tmp_path, process_requirements(inferred=["cloudpickle==3.1.3", "pandas==3.1.1"]))
    assert text == "cloudpickle==3.1.3\npandas==3.1.1"  # no trailing newline, no made-up mlflow pin
    assert conda["channels"] == ["conda-forge"] and conda["name"] == "mlflow-env"
    assert conda["dependencies"][0] == f"python={platform.python_version()}"
    assert conda["dependencies"][-1] == {"pip": ["cloudpickle==3.1.3", "pandas==3.1.1"]}
    python_env = (tmp_path / "python_env.yaml").read_text().splitlines()
    assert python_env[0] == f"python: {platform.python_version()}"
    assert python_env[-2:] == ["dependencies:", "- -r requirements.txt"]


def test_pip_requirements_with_r_and_c_files(tmp_path):
    (tmp_path / "base.txt").write_text("numpy\n# comment\n")
    (tmp_path / "pins.txt").write_text("numpy<3\n")
    (tmp_path / "reqs.txt").write_text("pandas>=2.0\n-r base.txt\n-c pins.txt\n")
    out = tmp_path / "out"
    out.mkdir()
    text, _ = _write(out, process_requirements(pip_requirements=str(tmp_path / "reqs.txt")))
    assert text == "pandas>=2.0\nnumpy\n-c constraints.txt"
    assert (out / "constraints.txt").read_text() == "numpy<3"


def test_extra_requirements_are_appended_and_merged(tmp_path):
    spec = process_requirements(
        extra_pip_requirements=["pyyaml>=6.0", "pandas>=2"], inferred=["cloudpickle==3.1.3", "pandas==3.1.1"]
    )
    assert spec.requirements == ["cloudpickle==3.1.3", "pandas==3.1.1,>=2", "pyyaml>=6.0"]


def test_conda_env_keeps_the_users_environment(tmp_path):
    env = {"name": "mine", "channels": ["defaults"], "dependencies": ["python=3.11", {"pip": ["pandas"]}]}
    text, conda = _write(tmp_path, process_requirements(conda_env=env))
    assert text == "pandas"
    assert conda == {"name": "mine", "channels": ["defaults"], "dependencies": ["python=3.11", {"pip": ["pandas"]}]}


def test_options_are_mutually_exclusive():
    with pytest.raises(ModelSaveError, match="Only one of"):
        process_requirements(pip_requirements=["a"], extra_pip_requirements=["b"])


def test_missing_requirements_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelSaveError, match="does not exist"):
        process_requirements(pip_requirements=str(tmp_path / "nope.txt"))
