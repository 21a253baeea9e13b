"""Requirement inference: recorded imports become pinned requirements with their provenance."""

from __future__ import annotations

import importlib
import importlib.metadata as md
import sys
import threading

import pandas  # noqa: F401 - loaded before any recording, as in a notebook
import pytest

from pyfunc_jupyter._requirements import ImportRecorder, ModuleUse, resolve_requirements


def _names(result):
    return {r.name.lower(): r for r in result.requirements}


def test_direct_dependency_is_kept_even_if_another_requires_it():
    uses = [ModuleUse("pandas", "imported by predict", True), ModuleUse("numpy", "imported by predict", True)]
    names = _names(resolve_requirements(uses))
    assert names["numpy"].version == md.version("numpy")  # MLflow would prune it: pandas requires numpy
    assert names["pandas"].pin == f"pandas=={md.version('pandas')}"


def test_indirect_transitive_dependency_is_pruned():
    uses = [ModuleUse("pandas", "imported by predict", True),
            ModuleUse("numpy", "imported during predict by a library", False),
            ModuleUse("dateutil", "imported during predict by a library", False)]
    names = _names(resolve_requirements(uses))
    assert "numpy" not in names and "python-dateutil" not in names and "pandas" in names


def test_module_name_differs_from_distribution_name():
    names = _names(resolve_requirements([ModuleUse("yaml", "imported by predict", True)]))
    assert names["pyyaml"].name == "PyYAML" and names["pyyaml"].modules == ["yaml"]
    assert names["pyyaml"].reasons == ["yaml: imported by predict"]


def test_stdlib_dropped_cloudpickle_always_there_and_exclusions():
    result = resolve_requirements([ModuleUse("json", "x", True), ModuleUse("os", "x", True),
                                   ModuleUse("pandas", "x", True)], exclude=("pandas",))
    assert result.pins() == [f"cloudpickle=={md.version('cloudpickle')}"]
    assert "always included" in result.requirements[0].reasons[-1]


def test_local_module_reported(tmp_path, monkeypatch):
    (tmp_path / "my_local_helpers.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = resolve_requirements([ModuleUse("my_local_helpers", "imported by predict", True)])
    assert result.local_modules == ["my_local_helpers"]
    sys.modules.pop("my_local_helpers", None)


def test_recorder_sees_imports_of_loaded_modules_in_this_thread_only():
    import json  # noqa: F401 - already loaded before recording

    seen_in_thread = []

    def other_thread():
        import wave  # noqa: F401
        seen_in_thread.append(True)

    namespace = {"__name__": "__main__"}
    with ImportRecorder() as recorder:
        recorder.phase = "predict"
        exec("import json\nimport yaml\nimportlib_mod = __import__('importlib').import_module('pandas')", namespace)
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    names = {u.name for u in recorder.uses}
    direct = {(u.name, u.how) for u in recorder.uses if u.direct}
    assert {("json", "imported by predict"), ("yaml", "imported by predict"), ("pandas", "imported by predict")} <= direct
    assert "wave" not in names and seen_in_thread


def test_recorder_restores_import_after_an_exception():
    import builtins

    before = (builtins.__import__, importlib.import_module)
    with pytest.raises(RuntimeError):
        with ImportRecorder():
            raise RuntimeError("boom")
    assert (builtins.__import__, importlib.import_module) == before


def test_library_imports_are_indirect():
    with ImportRecorder() as recorder:
        import pandas.io.formats.format  # noqa: F401 - pandas' own files import others
        exec("import pandas", {"__name__": "__main__"})
    direct = {u.name for u in recorder.uses if u.direct}
    assert direct == {"pandas"}


def test_recorders_in_two_threads_do_not_leave_a_patch_behind():
    import builtins

    before = builtins.__import__
    started, results = threading.Event(), []

    def record_in_thread():
        with ImportRecorder() as recorder:
            started.set()
            exec("import json", {"__name__": "__main__"})
        results.append({u.name for u in recorder.uses})

    with ImportRecorder():
        thread = threading.Thread(target=record_in_thread)
        thread.start()
        assert not started.wait(0.2)  # the second recorder waits for the first
    thread.join()
    assert results == [{"json"}]
    assert builtins.__import__ is before
