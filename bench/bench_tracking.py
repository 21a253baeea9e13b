"""Tracking-server benchmark: our ``log_model`` vs ``mlflow.pyfunc.log_model`` to the same MLflow server.

One real ``mlflow server`` (from ``.venv-mlflow``, on a free port of 127.0.0.1, sqlite backend, served
artifacts; started by ``tests/servers.py`` as the test fixture does) takes both. Each log ends in the same
state: a finished run, a logged model holding the model's files, and a new version of a registered model:

- ours (``.venv``, ``mlflow-skinny`` as its client): ``pyfunc_jupyter.log_model(NAME, model, input_example=...)``
  with the server as the store;
- MLflow (``.venv-mlflow``): ``mlflow.pyfunc.log_model(name=..., python_model=model, input_example=...,
  registered_model_name=NAME)`` in ``mlflow.start_run()`` (MLflow's log, then its ``register_model``).

The same ``SimpleLinearModel`` and example (``bench/_worker.py``). Both are measured the same way: inside each
tool's own interpreter, after its imports (interpreter start and imports not counted), by ``_worker.py``'s
timing (the first call apart, then the median of ``RUNS``); workers alternate between the two tools,
``ROUNDS`` times. Each worker then checks on the server what its calls left. Target: ours at most 1/2 of
MLflow's median. Results go to ``bench/results_tracking.json``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_core import HERE, MLFLOW, OURS, ROOT, _fmt, worker

sys.path.insert(0, str(ROOT))
from tests.servers import tracking_server

ROUNDS = 3  # worker pairs, alternating ours / MLflow
RUNS = 5  # timed logs per worker, after its first
TARGET = 0.5


def main() -> int:
    mlflow_cli = MLFLOW.parent / "mlflow"
    if not mlflow_cli.exists():
        print(f"bench_tracking: no MLflow at {mlflow_cli}; run ./dev setup", file=sys.stderr)
        return 1
    start = time.perf_counter()
    tools = (("ours", OURS), ("mlflow", MLFLOW))
    samples: dict[str, dict[str, list[float]]] = {t: {"log_remote": [], "log_remote_first": []} for t, _ in tools}
    with tempfile.TemporaryDirectory(prefix="pyfunc-bench-tracking-") as tmp:
        workdir = Path(tmp)
        (workdir / "server").mkdir()
        with tracking_server(mlflow_cli, workdir / "server") as uri:
            for round_ in range(ROUNDS):
                for tool, python in tools:
                    (workdir / tool).mkdir(exist_ok=True)
                    name = f"bench-{tool}-{round_}"
                    result = worker(python, tool, "log_remote", workdir / tool, uri, name, str(RUNS))
                    samples[tool]["log_remote"].append(result["log_remote"])
                    samples[tool]["log_remote_first"].append(result["log_remote_first"])
    medians = {tool: statistics.median(s["log_remote"]) for tool, s in samples.items()}
    firsts = {tool: statistics.median(s["log_remote_first"]) for tool, s in samples.items()}
    ratio = medians["ours"] / medians["mlflow"]
    first_ratio = firsts["ours"] / firsts["mlflow"]
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    rows = [
        ("figure", "ours", "MLflow", "ours/MLflow", "target", "result"),
        ("log to a tracking server (median)", _fmt(medians["ours"], "s"), _fmt(medians["mlflow"], "s"),
         f"{ratio:.3f}", f"<= {TARGET} of MLflow", verdict),
        ("  first log in a process (median)", _fmt(firsts["ours"], "s"), _fmt(firsts["mlflow"], "s"),
         f"{first_ratio:.3f}", "(for information)", ""),
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(
        "  (a run, a logged model and a registered version each; timed inside each tool's interpreter after "
        "its imports, interpreter start and imports excluded)"
    )
    figures = {
        "rounds": ROUNDS,
        "runs_per_round": RUNS,
        "timed": "inside each interpreter, after imports; first call apart, then the median of the runs",
        "samples": samples,
        "median": medians,
        "first_median": firsts,
        "ratio": ratio,
        "target": TARGET,
        "met": ratio <= TARGET,
    }
    (HERE / "results_tracking.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\ntotal {time.perf_counter() - start:.0f} s; results in {HERE / 'results_tracking.json'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
