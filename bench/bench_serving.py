"""Serving benchmark: first prediction through MLflow's scoring server, our directory vs MLflow's own.

The same model class is saved twice: by pyfunc_jupyter (in ``.venv``) and by ``mlflow.pyfunc.save_model``
(in ``.venv-mlflow``). Each directory is served by ``mlflow models serve --env-manager local`` from
``.venv-mlflow`` on a free port of 127.0.0.1, alternating, ``ROUNDS`` times; the figure is the time from
starting the server to the first 200 answer to its saved ``serving_input_example.json`` (median).
Target: ours takes no longer than MLflow's own (ratio ours/MLflow ≤ ``TARGET``). Results go to
``bench/results_serving.json``.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: its tests/servers.py
from tests.servers import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MLFLOW_BIN = ROOT / ".venv-mlflow" / "bin"
ROUNDS = 3
TARGET = 1.1  # the server's start dominates both; ours may not cost more than 10 % over it

PREDICT = """
    def predict(self, context, model_input):
        return pd.DataFrame({"y": model_input["x"] * 2.0 + 1.0})
"""

OURS = "import pandas as pd\nfrom pyfunc_jupyter import PythonModel\n\nclass Linear(PythonModel):" + PREDICT

MLFLOW_SAVE = (
    "import sys\nimport pandas as pd\nimport mlflow.pyfunc\n\nclass Linear(mlflow.pyfunc.PythonModel):"
    + PREDICT
    + "\nmlflow.pyfunc.save_model(sys.argv[1], python_model=Linear(), "
    "input_example=pd.DataFrame({'x': [1.0, 2.0, 3.0]}))\n"
)


def first_prediction(model: Path, workdir: Path) -> float:
    """Seconds from starting ``mlflow models serve`` to its first 200 answer on the saved example."""
    port = free_port()
    body = (model / "serving_input_example.json").read_bytes()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONWARNINGS"] = "ignore"
    env["PATH"] = f"{MLFLOW_BIN}{os.pathsep}{env.get('PATH', '')}"  # the server runs `uvicorn` from PATH
    start = time.perf_counter()
    process = subprocess.Popen(
        [
            str(MLFLOW_BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            str(model),
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server for {model} exited ({process.returncode})")
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    if response.status == 200:
                        json.loads(response.read())
                        return time.perf_counter() - start
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    import pandas as pd

    import pyfunc_jupyter

    if not (MLFLOW_BIN / "mlflow").exists():
        print(f"bench_serving: no MLflow at {MLFLOW_BIN}; run ./dev setup", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pyfunc-bench-serving-") as tmp:
        workdir = Path(tmp)
        namespace = {"__name__": "__main__"}
        exec(OURS, namespace)  # defined as in a notebook, so it pickles by value
        models = {"ours": workdir / "ours", "mlflow": workdir / "mlflow"}
        example = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
        pyfunc_jupyter.save_model(models["ours"], namespace["Linear"](), input_example=example)
        script = workdir / "save_mlflow.py"  # a file: pyspark beside MLflow hijacks `-c` programs (no __file__)
        script.write_text(MLFLOW_SAVE)
        subprocess.run(
            [str(MLFLOW_BIN / "python"), str(script), str(models["mlflow"])],
            cwd=workdir,
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        samples: dict[str, list[float]] = {"ours": [], "mlflow": []}
        for _ in range(ROUNDS):
            for tool, model in models.items():
                samples[tool].append(first_prediction(model, workdir))
    medians = {tool: statistics.median(values) for tool, values in samples.items()}
    ratio = medians["ours"] / medians["mlflow"]
    result = {
        "rounds": ROUNDS,
        "seconds": samples,
        "median": medians,
        "ratio": ratio,
        "target": TARGET,
        "met": ratio <= TARGET,
    }
    (HERE / "results_serving.json").write_text(json.dumps(result, indent=2) + "\n")
    mark = "ok" if ratio <= TARGET else "MISSED"
    print(
        f"scoring server, start to first prediction (median of {ROUNDS}): our directory {medians['ours']:.2f} s, "
        f"MLflow's {medians['mlflow']:.2f} s, ratio {ratio:.2f}x (target <= {TARGET:.1f}x) {mark}"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
