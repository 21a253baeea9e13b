"""Requirement inference: recorded imports become pinned requirements with their provenance."""

from __future__ import annotations

import builtins
import importlib
import importlib.metadata as md
import importlib.util
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pandas  # noqa: F401 - loaded before any recording, as in a notebook
import pytest
import yaml  # noqa: F401 - loaded before any recording

from pyfunc_jupyter.environment.distributions import dependencies, dist_metadata, module_owners
from pyfunc_jupyter.environment.markers import marker_applies
from pyfunc_jupyter.environment.requirements import (
    ImportRecorder,
    ModuleUse,
    Requirement,
    RequirementsResult,
    resolve_requirements,
)
from pyfunc_jupyter.errors import RequirementInferenceError

ROOT = Path(__file__).resolve().parent.parent


def _by_name(result: RequirementsResult) -> dict[str, Requirement]:
    return {r.name.lower(): r for r in result.requirements}


def _requires(dist: str) -> list[str]:
    return [
        r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
        for r in md.requires(dist) or []
        if "extra ==" not in r
    ]


def _fake_dist(
    site: Path,
    name: str,
    version: str,
    modules: list[str],
    requires: list[str] = (),
    top_level: bool = True,
    metadata: bool = True,
) -> Path:
    """Write an installed distribution (packages + .dist-info with METADATA and RECORD) into ``site``."""
    record = []
    for module in modules:
        package = site.joinpath(*module.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        record.append(f"{module.replace('.', '/')}/__init__.py,,")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    if metadata:
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        (info / "METADATA").write_text("\n".join(lines + [f"Requires-Dist: {r}" for r in requires]) + "\n\nBody\n")
    if top_level:
        (info / "top_level.txt").write_text("\n".join(sorted({m.partition(".")[0] for m in modules})) + "\n")
    (info / "RECORD").write_text("\n".join([*record, f"{info.name}/RECORD,,"]) + "\n")
    return info


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A throw-away site-packages directory on sys.path; its modules are forgotten afterwards."""
    directory = tmp_path / "lib" / "site-packages"
    directory.mkdir(parents=True)
    monkeypatch.syspath_prepend(str(directory))
    before = set(sys.modules)
    yield directory
    for name in set(sys.modules) - before:
        del sys.modules[name]


# ---------------------------------------------------------------- mapping and pruning (real packages)


def test_direct_import_is_kept_although_another_requirement_depends_on_it():
    assert "pyyaml" in _requires("jupyter-events")  # the real dependency this test is built on
    uses = [ModuleUse("jupyter_events", "imported by predict", True), ModuleUse("yaml", "imported by predict", True)]
    names = _by_name(resolve_requirements(uses))
    assert names["pyyaml"].pin == f"PyYAML=={md.version('pyyaml')}"  # MLflow prunes it silently
    assert names["pyyaml"].direct and names["pyyaml"].modules == ["yaml"]
    assert names["jupyter-events"].version == md.version("jupyter-events")


def test_indirect_dependency_is_pruned_with_a_note():
    uses = [
        ModuleUse("jupyter_events", "imported by predict", True),
        ModuleUse("yaml", "imported by jupyter_events during predict", False),
    ]
    result = resolve_requirements(uses)
    assert "pyyaml" not in _by_name(result)
    assert any(n.startswith("PyYAML left out") and "jupyter-events requires it" in n for n in result.notes)


def test_indirect_transitive_dependency_is_pruned():
    assert "python-dateutil" in _requires("jupyter-client") and "tzdata" in _requires("python-dateutil")
    uses = [
        ModuleUse("jupyter_client", "imported by predict", True),
        ModuleUse("tzdata", "imported by dateutil during predict", False),
        ModuleUse("dateutil", "imported by jupyter_client during predict", False),
    ]
    names = _by_name(resolve_requirements(uses))
    assert set(names) == {"jupyter_client", "cloudpickle"}


def test_extras_only_and_false_marker_dependencies_do_not_prune():
    assert all("extra ==" in r for r in md.requires("hypothesis") if r.lower().startswith("numpy"))
    uses = [
        ModuleUse("hypothesis", "imported by predict", True),
        ModuleUse("numpy", "imported by hypothesis during predict", False),
    ]
    assert "numpy" in _by_name(resolve_requirements(uses))  # numpy is only hypothesis[numpy]
    # pandas declares tzdata only for sys_platform == "win32"/"emscripten"
    pandas_info = module_owners("pandas", (), [])[0]
    assert dependencies(pandas_info, []) == {"numpy", "python-dateutil"}


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ('extra == "test"', False),
        ('python_version >= "3.9"', True),
        ("python_version < '3.9'", False),
        ('sys_platform == "win32"', sys.platform == "win32"),
        ('(sys_platform == "win32" and extra == "all") or python_version >= "3.0"', True),
        ('python_full_version >= "3.11.0rc1"', True),
        ('python_version ~= "3.0"', True),
        ('platform_system != "Windows" and implementation_name == "cpython"', sys.platform != "win32"),
        ('"linux" in sys_platform', "linux" in sys.platform),
        ('python_version == "3.*"', True),
    ],
)
def test_markers(marker, expected):
    assert marker_applies(marker, []) is expected


def test_unknown_marker_is_a_note_not_a_crash():
    notes = []
    assert marker_applies('frobnicate == "1"', notes) is False
    assert "frobnicate" in notes[0]


def test_stdlib_dropped_and_names_as_installed():
    result = resolve_requirements(
        [ModuleUse(m, "imported by predict", True) for m in ("json", "os", "collections", "sys", "yaml", "dateutil")]
    )
    assert [r.name for r in result.requirements] == ["cloudpickle", "python-dateutil", "PyYAML"]
    assert result.local_modules == [] and result.notes == []


def test_mapping_agrees_with_packages_distributions():
    """Every importable top-level module maps to a distribution that packages_distributions() names."""
    theirs = md.packages_distributions()
    checked = 0
    for module, distributions in sorted(theirs.items()):
        if module.startswith("_") or module in sys.stdlib_module_names or not module.isidentifier():
            continue
        try:
            if importlib.util.find_spec(module) is None:
                continue
        except (ImportError, ValueError):
            continue
        ours = {dist_metadata(info).name for info in module_owners(module, (), [])}
        assert ours and ours <= set(distributions), (module, ours, distributions)
        checked += 1
    assert checked > 80


# ---------------------------------------------------------------- exclusions, cloudpickle, provenance


def test_cloudpickle_always_present_and_pinned():
    cloudpickle = resolve_requirements([]).requirements
    assert [r.pin for r in cloudpickle] == [f"cloudpickle=={md.version('cloudpickle')}"]
    assert cloudpickle[0].reasons == ["always included: the model is a cloudpickle pickle"]
    captured = _by_name(resolve_requirements([ModuleUse("cloudpickle", "referenced by the pickle", True)]))
    assert captured["cloudpickle"].reasons == [
        "cloudpickle: referenced by the pickle",
        "always included: the model is a cloudpickle pickle",
    ]


def test_our_package_tooling_and_excluded_names_are_left_out():
    assert md.distribution("pyfunc-jupyter")  # installed (editable): maps, and is never required
    assert [dist_metadata(i).name for i in module_owners("pyfunc_jupyter", (), [])] == ["pyfunc-jupyter"]
    uses = [
        ModuleUse(m, "imported by predict", True)
        for m in ("pyfunc_jupyter", "pip", "setuptools", "pkg_resources", "pandas", "yaml")
    ]
    result = resolve_requirements(uses, exclude=["pyyaml"])
    assert [r.name for r in result.requirements] == ["cloudpickle", "pandas"]
    assert result.local_modules == []


def test_mlflow_is_left_out_and_what_it_requires_is_not_pinned(site):
    _fake_dist(site, "mlflow", "3.17.2", ["mlflow"], requires=["PyYAML>=5"])
    _fake_dist(site, "mlflow-skinny", "3.17.2", ["mlflow_skinny_only"])
    uses = [
        ModuleUse("mlflow", "imported by predict", True),
        ModuleUse("mlflow_skinny_only", "x", True),
        ModuleUse("yaml", "imported by mlflow during predict", False),
    ]
    assert [r.name for r in resolve_requirements(uses).requirements] == ["cloudpickle"]


def test_provenance_of_a_recorded_inference(site):
    _fake_dist(site, "fakelib", "0.1", ["fakelib"])
    (site / "fakelib" / "__init__.py").write_text(
        "def work():\n    import json, yaml\n    return yaml.safe_dump([1])\n"
    )
    namespace = {"__name__": "__main__"}
    exec("import fakelib", namespace)
    with ImportRecorder() as recorder:
        recorder.phase = "unpickle"
        recorder.record("pandas.core.frame", "referenced by the pickle")
        recorder.phase = "predict"
        exec("import pandas as pd\nimport fakelib\nfakelib.work()", namespace)
    uses = {(u.name, u.how, u.direct) for u in recorder.uses}
    assert {
        ("pandas", "referenced by the pickle", True),
        ("pandas", "imported by predict", True),
        ("fakelib", "imported by predict", True),
        ("yaml", "imported by fakelib during predict", False),
        ("json", "imported by fakelib during predict", False),
    } <= uses
    names = _by_name(resolve_requirements(recorder.uses))
    assert names["pandas"].reasons == ["pandas: referenced by the pickle", "pandas: imported by predict"]
    assert (
        names["pyyaml"].reasons
        == ["yaml: imported by fakelib during predict", "yaml: called by fakelib during predict"]
        and not names["pyyaml"].direct
    )
    assert names["fakelib"].reasons == ["fakelib: imported by predict", "fakelib: called by predict"]
    assert names["fakelib"].pin == "fakelib==0.1"


def test_requirement_round_trips_through_json():
    requirement = Requirement("PyYAML", "6.0.4", ["yaml"], ["yaml: imported by predict"], True)
    data = requirement.to_dict()
    assert data["pin"] == "PyYAML==6.0.4"
    assert Requirement.from_dict(data) == requirement


# ---------------------------------------------------------------- local modules, namespaces, fake installs


def test_local_module_reported(tmp_path, monkeypatch):
    (tmp_path / "my_local_helpers.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    uses = [
        ModuleUse("my_local_helpers", "imported by predict", True),
        ModuleUse("gone_code_path_module", "referenced by the pickle", True),
        ModuleUse("other_local", "imported by somelib during predict", False),
    ]
    result = resolve_requirements(uses)
    assert result.local_modules == ["gone_code_path_module", "my_local_helpers"]
    assert result.pins() == [f"cloudpickle=={md.version('cloudpickle')}"]
    assert any("other_local" in note for note in result.notes)


def test_namespace_package_maps_by_submodule(site):
    _fake_dist(site, "nsfake-one", "1.0", ["nsfake.one"], top_level=True)
    _fake_dist(site, "nsfake-two", "2.0", ["nsfake.two"], top_level=True)
    with ImportRecorder() as recorder:
        exec("from nsfake import one", {"__name__": "__main__"})
    assert recorder.uses[0].submodules == ("nsfake.one",), recorder.uses
    assert resolve_requirements(recorder.uses).pins()[1:] == ["nsfake-one==1.0"]
    everything = resolve_requirements([ModuleUse("nsfake", "imported by predict", True)])
    assert everything.pins()[1:] == ["nsfake-one==1.0", "nsfake-two==2.0"]
    assert "namespace package" in everything.notes[0]


def test_module_found_through_record_alone(site):
    _fake_dist(site, "Odd-Name", "1.2", ["oddmodule"], top_level=False)
    assert resolve_requirements([ModuleUse("oddmodule", "imported by predict", True)]).pins()[1:] == ["Odd-Name==1.2"]


def test_local_version_label_is_stripped_with_a_note(site):
    _fake_dist(site, "gpulib", "2.1.0+cu121", ["gpulib"])
    result = resolve_requirements([ModuleUse("gpulib", "imported by predict", True)])
    assert result.pins()[1:] == ["gpulib==2.1.0"]
    assert "+cu121" in result.notes[0]


def test_dependency_cycle_keeps_one_member(site):
    _fake_dist(site, "cyca", "1.0", ["cyca"], requires=["cycb"])
    _fake_dist(site, "cycb", "1.0", ["cycb"], requires=["cyca>=1"])
    uses = [
        ModuleUse("cyca", "imported by lib during predict", False),
        ModuleUse("cycb", "imported by lib during predict", False),
    ]
    assert resolve_requirements(uses).pins()[1:] == ["cyca==1.0"]


def test_upgrade_in_the_running_process_is_seen(site):
    info = _fake_dist(site, "upgr", "1.0", ["upgr"])
    uses = [ModuleUse("upgr", "imported by predict", True)]
    assert resolve_requirements(uses).pins()[1:] == ["upgr==1.0"]
    new = info.rename(site / "upgr-2.0.dist-info")
    (new / "METADATA").write_text("Metadata-Version: 2.1\nName: upgr\nVersion: 2.0\n")
    assert resolve_requirements(uses).pins()[1:] == ["upgr==2.0"]


def test_broken_metadata_is_an_error_that_names_the_fix(site):
    _fake_dist(site, "brokenpkg", "1.0", ["brokenpkg"], metadata=False)
    with pytest.raises(RequirementInferenceError, match=r"brokenpkg.*METADATA is missing.*pip_requirements=\[\.\.\.\]"):
        resolve_requirements([ModuleUse("brokenpkg", "imported by predict", True)])
    _fake_dist(site, "noversion", "1.0", ["noversion"])
    (site / "noversion-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: noversion\n")
    with pytest.raises(RequirementInferenceError, match="has no Version"):
        resolve_requirements([ModuleUse("noversion", "imported by predict", True)])


# ---------------------------------------------------------------- the recorder


def test_recorder_sees_imports_of_loaded_modules_direct_and_by_import_module():
    import json  # noqa: F401 - already loaded before recording

    with ImportRecorder() as recorder:
        recorder.phase = "load_context"
        exec(
            "import json\nimport yaml.constructor\nimport importlib\nimportlib.import_module('pandas')",
            {"__name__": "__main__"},
        )
    direct = {(u.name, u.how) for u in recorder.uses if u.direct}
    assert {
        ("json", "imported by load_context"),
        ("yaml", "imported by load_context"),
        ("pandas", "imported by load_context"),
    } <= direct
    assert next(u for u in recorder.uses if u.name == "yaml").submodules == ("yaml.constructor",)


def test_by_value_code_without_a_file_is_direct_and_library_code_indirect():
    with ImportRecorder() as recorder:
        exec("import pandas", {"__name__": "some_user_module"})  # a by-value function's globals: no __file__
        import pandas.io.formats.format

        exec("import numpy", {"__name__": "pandas.core.frame", "__file__": pandas.core.frame.__file__})
    uses = {(u.name, u.direct) for u in recorder.uses}
    assert ("pandas", True) in uses and ("numpy", False) in uses and ("numpy", True) not in uses


def test_imports_of_our_loader_and_the_kernel_are_not_the_models():
    with ImportRecorder() as recorder:
        exec("import yaml", {"__name__": "pyfunc_jupyter.format.enforce", "__file__": "x.py"})
        exec("import json", {"__name__": "ipykernel.iostream", "__file__": "/x/site-packages/ipykernel/iostream.py"})
        exec("import inspect", {"__name__": "pyfunc_jupyter._hints", "__file__": "x.py"})  # pickled by value
    assert [(u.name, u.direct) for u in recorder.uses] == [("inspect", False)]


def test_relative_and_failed_imports(tmp_path, monkeypatch):
    package = tmp_path / "relpkg"
    package.mkdir()
    (package / "__init__.py").write_text("def go():\n    from . import sub\n    return sub.X\n")
    (package / "sub.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    relpkg = importlib.import_module("relpkg")
    try:
        with ImportRecorder() as recorder:
            relpkg.go()
            exec("try:\n    import not_installed_anywhere_xyz\nexcept ImportError:\n    pass", {"__name__": "__main__"})
    finally:
        sys.modules.pop("relpkg", None)
        sys.modules.pop("relpkg.sub", None)
    assert {(u.name, u.direct) for u in recorder.uses} == {("relpkg", True)}  # imported, and called


def test_imports_from_another_thread_are_not_recorded():
    seen_in_thread = []

    def other_thread():
        import wave  # noqa: F401

        seen_in_thread.append(True)

    with ImportRecorder() as recorder:
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        exec("import json", {"__name__": "__main__"})
    assert seen_in_thread and {u.name for u in recorder.uses} == {"json"}


def test_recorders_in_two_threads_run_at_once_and_restore_the_originals():
    before = (builtins.__import__, importlib.import_module)
    inside, release, results = threading.Event(), threading.Event(), {}

    def record_in_thread():
        with ImportRecorder() as recorder:
            inside.set()
            exec("import json", {"__name__": "__main__"})
            release.wait(5)
        results["thread"] = {u.name for u in recorder.uses}

    with ImportRecorder() as mine:
        thread = threading.Thread(target=record_in_thread)
        thread.start()
        assert inside.wait(5)  # the other recorder did not wait for this one
        exec("import csv", {"__name__": "__main__"})
    assert (builtins.__import__, importlib.import_module) != before  # still patched for the other thread
    release.set()
    thread.join()
    assert results["thread"] == {"json"} and {u.name for u in mine.uses} == {"csv"}
    assert (builtins.__import__, importlib.import_module) == before


def test_patching_restored_after_an_exception_and_nesting():
    before = (builtins.__import__, importlib.import_module)
    with pytest.raises(RuntimeError), ImportRecorder() as outer:
        with ImportRecorder() as inner, inner:  # nested, and the same recorder re-entered
            exec("import json", {"__name__": "__main__"})
        raise RuntimeError("boom")
    assert (builtins.__import__, importlib.import_module) == before
    assert [u.name for u in inner.uses] == [u.name for u in outer.uses] == ["json"]


# ---------------------------------------------------------------- speed (printed, not asserted)

BENCH = textwrap.dedent("""
    import time
    import pandas, numpy, yaml  # the model's libraries, loaded as in a notebook
    t0 = time.perf_counter()
    from pyfunc_jupyter.environment.requirements import ImportRecorder, ModuleUse, resolve_requirements
    t1 = time.perf_counter()
    with ImportRecorder() as recorder:
        recorder.phase = "predict"
        exec("import pandas as pd, numpy as np, yaml\\n"
             "frame = pd.DataFrame({'a': np.arange(3)}); yaml.safe_dump(frame.to_dict())", {"__name__": "__main__"})
    uses = recorder.uses + [ModuleUse("pandas", "referenced by the pickle", True)]
    t2 = time.perf_counter()
    pins = resolve_requirements(uses).pins()
    t3 = time.perf_counter()
    resolve_requirements(uses)
    t4 = time.perf_counter()
    import importlib.metadata
    importlib.metadata.packages_distributions()
    t5 = time.perf_counter()
    ms = lambda a, b: f"{(b - a) * 1000:.2f} ms"
    print(f"import _requirements {ms(t0, t1)}, recorded inference {ms(t1, t2)}, resolve cold {ms(t2, t3)}, "
          f"warm {ms(t3, t4)}; packages_distributions() {ms(t4, t5)}; {pins}")
""")


def test_resolution_timing_is_printed(capsys):
    run = subprocess.run(
        [sys.executable, "-c", BENCH], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    with capsys.disabled():
        print(f"\n[requirement inference, fresh process] {run.stdout.strip()}")
