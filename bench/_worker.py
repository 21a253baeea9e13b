"""One benchmark figure, measured inside one tool's interpreter; prints a JSON result.

Usage: python _worker.py {ours|mlflow} FIGURE WORKDIR
The same model code runs under both tools: only the imports differ.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

TOOL, FIGURE, WORKDIR = sys.argv[1], sys.argv[2], Path(sys.argv[3])
os.chdir(WORKDIR)  # MLflow's tracking files land here, not in the repo

import warnings  # noqa: E402

warnings.simplefilter("ignore")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

if TOOL == "mlflow":
    import logging

    logging.disable(logging.WARNING)
    import mlflow.pyfunc as api
    from mlflow.models import infer_signature
    from mlflow.pyfunc import PythonModel
else:
    import pyfunc_jupyter as api
    from pyfunc_jupyter import PythonModel, infer_signature


class SimpleLinearModel(PythonModel):
    def predict(self, context, model_input):
        return pd.DataFrame(2 * model_input + 3)


class CountRows(PythonModel):
    def predict(self, context, model_input):
        return len(model_input)


class LinearFunctionInferenceParams(PythonModel):
    def predict(self, context, model_input, params):
        return pd.DataFrame(params["slope"] * model_input + params["intercept"])


class UsesArtifact(PythonModel):
    def load_context(self, context):
        self.path = context.artifacts["blob"]

    def predict(self, context, model_input):
        return len(model_input)


EXAMPLE = pd.DataFrame([10, 20, 30])


def fresh(name: str) -> Path:
    path = WORKDIR / name
    shutil.rmtree(path, ignore_errors=True)
    return path


def save(path, model, **kwargs):
    return api.save_model(path=str(path), python_model=model, **kwargs)


def median_time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def big_frame(rows: int):
    rng = np.random.default_rng(0)
    data = {f"d{i}": rng.random(rows) for i in range(10)}
    data["n"] = rng.integers(0, 100, rows)
    data["s"] = pd.array(np.array(["a", "b", "c"])[rng.integers(0, 3, rows)], dtype="str")
    return pd.DataFrame(data)


def fig_save():
    counter = iter(range(10_000))
    first_start = time.perf_counter()
    save(fresh(f"s{next(counter)}"), SimpleLinearModel(), input_example=EXAMPLE)
    first = time.perf_counter() - first_start
    inferred = median_time(lambda: save(fresh(f"s{next(counter)}"), SimpleLinearModel(), input_example=EXAMPLE), 5)
    explicit = median_time(
        lambda: save(fresh(f"s{next(counter)}"), SimpleLinearModel(), pip_requirements=["pandas"]), 15
    )
    return {"save_inferred_first": first, "save_inferred": inferred, "save_explicit": explicit}


def fig_prepare():
    save(fresh("fresh_model"), SimpleLinearModel(), input_example=EXAMPLE)
    return {"path": str(WORKDIR / "fresh_model")}


def overhead(loaded, data, params=None, repeats=200):
    """Median time of ``loaded.predict`` minus the user's ``predict`` called directly."""
    raw = loaded.unwrap_python_model()
    raw_kwargs = {"params": loaded_params(loaded, params)} if params is not None else {}
    kwargs = {"params": params} if params is not None else {}

    def call():
        loaded.predict(data, **kwargs)

    def call_raw():
        raw.predict(None, data, **raw_kwargs)

    call(), call_raw()
    samples = [median_time(call, repeats) - median_time(call_raw, repeats) for _ in range(5)]
    return statistics.median(samples)


def loaded_params(loaded, params):
    """What the model receives: the schema's defaults updated with ``params``."""
    defaults = {p.name: p.default for p in loaded.metadata.get_params_schema().params}
    return {**defaults, **params}


def fig_predict():
    small = api.load_model(str(save_and_path("p_small", SimpleLinearModel(), input_example=EXAMPLE)))
    frame3 = pd.DataFrame([1, 2, 3])
    signature = infer_signature(pd.DataFrame([10, 20, 30]), params={"slope": 2, "intercept": 3})
    with_params = api.load_model(str(save_and_path("p_params", LinearFunctionInferenceParams(), signature=signature)))
    big = big_frame(1_000_000)
    large = api.load_model(str(save_and_path("p_large", CountRows(), input_example=big.head(5))))
    result = {
        "overhead_3rows": overhead(small, frame3),
        "overhead_params": overhead(with_params, frame3, {"slope": 2, "intercept": 10}),
        "overhead_1m": overhead(large, big, repeats=5),
    }
    raw = large.unwrap_python_model()
    tracemalloc.start()
    raw.predict(None, big)
    raw_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    large.predict(big)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    result["predict_1m_extra_mb"] = peak / 1e6
    result["predict_1m_raw_peak_mb"] = raw_peak / 1e6
    result["frame_mb"] = big.memory_usage(deep=False).sum() / 1e6
    return result


def save_and_path(name, model, **kwargs):
    path = fresh(name)
    save(path, model, **kwargs)
    return path


def fig_artifact_load():
    blob = WORKDIR / "blob200.bin"
    with open(blob, "wb") as f:
        f.write(os.urandom(200 * 1024 * 1024))
    path = save_and_path("a_model", UsesArtifact(), artifacts={"blob": str(blob)}, pip_requirements=["pandas"])
    blob.unlink()
    tracemalloc.start()
    api.load_model(str(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    shutil.rmtree(path)
    return {"load_peak_mb_with_200mb_artifact": peak / 1e6}


def fig_big_artifact():
    blob = Path(sys.argv[4])
    save(fresh("warm_up"), UsesArtifact(), pip_requirements=["pandas"])  # first-call imports are timed elsewhere
    path = fresh("big_model")
    start = time.perf_counter()
    save(path, UsesArtifact(), artifacts={"blob": str(blob)}, pip_requirements=["pandas"])
    elapsed = time.perf_counter() - start
    shutil.rmtree(path)
    return {"save_1gib": elapsed}


FIGURES = {
    "save": fig_save,
    "prepare": fig_prepare,
    "predict": fig_predict,
    "artifact_load": fig_artifact_load,
    "big_artifact": fig_big_artifact,
}

MAGIC_CELL = """%%pyfunc_model simple_linear --example "pd.DataFrame({'x': [1.0, 2.0, 3.0]})"
class SimpleLinearModel(PythonModel):
    def predict(self, context, model_input, params=None):
        return 2 * model_input["x"] + 3
"""


def fig_magic():
    """Seconds per authoring run after a warm-up: ours the whole %%pyfunc_model cell, MLflow log + load + predict."""
    runs, workdir = int(sys.argv[4]), fresh("magic")
    workdir.mkdir()
    os.chdir(workdir)
    if TOOL == "mlflow":
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")  # artifacts go to ./mlruns
        namespace = {"PythonModel": PythonModel, "pd": pd}
        exec(MAGIC_CELL.split("\n", 1)[1], namespace)  # the same class as the cell, minus the magic line
        model_class, df = namespace["SimpleLinearModel"], pd.DataFrame({"x": [1.0, 2.0, 3.0]})

        def run():
            with mlflow.start_run():
                info = mlflow.pyfunc.log_model(name="m", python_model=model_class(), input_example=df)
            assert list(mlflow.pyfunc.load_model(info.model_uri).predict(df)) == [5.0, 7.0, 9.0]
    else:
        ip, run = _our_cell(workdir)

    run()  # warm-up: first-call imports, MLflow's database
    seconds, fresh_process, spare_wait = [], [], []
    for _ in range(runs):
        if TOOL == "ours":  # the user's pause before re-running the cell: the ready interpreter gets ready
            from pyfunc_jupyter.authoring import fresh as _fresh

            mark = time.perf_counter()
            assert _fresh.wait_for_spare(120), "no ready interpreter"
            spare_wait.append(time.perf_counter() - mark)
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
        if TOOL == "ours":
            fresh_process.append(ip.user_ns["_pyfunc"].timings["fresh_process"])
    return {"seconds": seconds, "fresh_process": fresh_process, "spare_wait": spare_wait}


FIGURES["magic"] = fig_magic


def _our_cell(workdir: Path):
    """An in-process IPython shell with the extension loaded, and a function running the magic cell once."""
    from IPython.testing.globalipapp import get_ipython
    from IPython.utils.capture import capture_output

    ip = get_ipython()
    ip.run_line_magic("load_ext", "pyfunc_jupyter")
    api.set_store(workdir / "store")
    ip.run_cell("import pandas as pd\nfrom pyfunc_jupyter import PythonModel")

    def run():
        ip.user_ns.pop("_pyfunc", None)
        with capture_output() as shown:  # the card is still rendered, just not printed
            assert ip.run_cell(MAGIC_CELL).success
        assert ip.user_ns["_pyfunc"].saved and any("text/html" in o.data for o in shown.outputs)

    return ip, run


def _machine_cpu_seconds() -> float:
    """CPU time used by every process on the machine so far (user + nice + system), from /proc/stat."""
    user, nice, system = (int(v) for v in Path("/proc/stat").read_text().split()[1:4])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def fig_run_all():
    """Our magic cell run back to back with no pause (a notebook's Run All): seconds per cell, machine CPU-s per cell.

    The fresh-process check of each cell cannot wait for a new interpreter to be made ready: it either
    forks the kept one (the default) or, with PYFUNC_JUPYTER_NO_FORK=1 in the environment, starts one.
    """
    runs, workdir = int(sys.argv[4]), fresh("run_all")
    workdir.mkdir()
    os.chdir(workdir)
    _, run = _our_cell(workdir)
    run()  # warm-up: first-call imports
    from pyfunc_jupyter.authoring import fresh as _fresh

    assert _fresh.wait_for_spare(120), "no ready interpreter"
    seconds, cpu = [], _machine_cpu_seconds()
    for _ in range(runs):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    assert _fresh.wait_for_spare(120), "no ready interpreter"  # its CPU counts: the next cell's is ready
    return {"seconds": seconds, "cpu_per_cell": [(_machine_cpu_seconds() - cpu) / runs]}


FIGURES["run_all"] = fig_run_all


def fig_log_remote():
    """Seconds per log to a tracking server, ending in a run, a logged model and a registered version.

    argv: URI, model name, timed repeats. The first call (first-use imports, the registered model made) is
    reported apart; then the median of the repeats. Afterwards the server is asked what the calls left.
    """
    uri, name, repeats = sys.argv[4], sys.argv[5], int(sys.argv[6])
    if TOOL == "mlflow":
        import mlflow

        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)

        def log():
            with mlflow.start_run():
                api.log_model(
                    name="model", python_model=SimpleLinearModel(), input_example=EXAMPLE, registered_model_name=name
                )
    else:
        os.environ["PYFUNC_JUPYTER_CACHE"] = str(fresh("cache"))
        api.set_store(uri)

        def log():
            api.log_model(
                name, SimpleLinearModel(), input_example=EXAMPLE, new_version=True
            )  # as MLflow: a new version each time

    start = time.perf_counter()
    log()
    first = time.perf_counter() - start
    seconds = median_time(log, repeats)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = client.search_model_versions(f"name='{name}'")
    runs = {client.get_run(v.run_id).info.status for v in versions}
    assert len(versions) == repeats + 1 and runs == {"FINISHED"}, (len(versions), runs)
    logged = [client.get_logged_model(v.source.removeprefix("models:/")) for v in versions]  # models:/<model id>
    assert all(model.status == "READY" for model in logged), [model.status for model in logged]
    return {"log_remote_first": first, "log_remote": seconds, "versions": len(versions)}


FIGURES["log_remote"] = fig_log_remote

if __name__ == "__main__":
    print(json.dumps(FIGURES[FIGURE]()))
