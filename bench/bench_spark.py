"""Spark benchmark: ``pyfunc_jupyter.spark_udf`` vs ``mlflow.pyfunc.spark_udf`` on one model, 1M rows.

Both score the same model directory (saved by pyfunc_jupyter) on the same cached 1,000,000-row
DataFrame in one local[2] session of the MLflow interpreter (``.venv-mlflow``, with this checkout's
pyfunc_jupyter put on its path for this run only), so they share the JVM, the cached data and the
machine's mood. MLflow's runs with ``env_manager="local"``. Each UDF warms up on 1,000 rows, then
the two score all rows into Spark's ``noop`` sink, alternating, ``RUNS`` times each; the median
counts (the best is reported too). Target: our rows/s ≥ MLflow's (ratio ≥ 1.0). Results go to
``bench/results_spark.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MLFLOW = ROOT / ".venv-mlflow" / "bin" / "python"
ROWS = 1_000_000
RUNS = 5
TARGET = 1.0

MODEL = """
import pandas as pd
from pyfunc_jupyter import PythonModel

class Linear(PythonModel):
    def predict(self, context, model_input):
        return pd.DataFrame({"y": model_input["x"] * 2.0 + model_input["n"]})
"""

# Runs in the MLflow interpreter: argv = model dir, rows, runs.
SCORE = r"""
import json, os, sys, time
os.environ["PYSPARK_PYTHON"] = sys.executable
model, rows, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
import mlflow.pyfunc
import pyfunc_jupyter
from pyspark.sql import SparkSession
from pyspark.sql.functions import struct
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.range(rows, numPartitions=2).selectExpr("cast(id as double) * 0.5 as x", "id as n").cache()
df.count()
udfs = {"ours": pyfunc_jupyter.spark_udf(spark, model, "double"),
        "mlflow": mlflow.pyfunc.spark_udf(spark, model, "double", env_manager="local")}
checks = {tool: df.limit(1000).select(udf(struct("x", "n")).alias("y")).agg({"y": "sum"}).collect()[0][0]
          for tool, udf in udfs.items()}
seconds = {tool: [] for tool in udfs}
for _ in range(runs):
    for tool, udf in udfs.items():
        start = time.perf_counter()
        df.select(udf(struct("x", "n")).alias("y")).write.format("noop").mode("overwrite").save()
        seconds[tool].append(time.perf_counter() - start)
spark.stop()
print(json.dumps({"seconds": seconds, "checks": checks}))
"""


def score(model: Path, workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME",)}
    env.update(
        PYTHONWARNINGS="ignore", MLFLOW_TRACKING_URI=(workdir / "mlruns").as_uri(), PYTHONPATH=str(ROOT)
    )  # our package, beside MLflow, for this run (its workers inherit it)
    script = workdir / "score.py"  # a file, not `-c`: pyspark beside MLflow hijacks `-c` programs (no __file__)
    script.write_text(SCORE)
    out = subprocess.run(
        [str(MLFLOW), str(script), str(model), str(ROWS), str(RUNS)],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"spark_udf bench failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    import pandas as pd

    import pyfunc_jupyter

    if not MLFLOW.exists():
        print(f"bench_spark: no MLflow interpreter at {MLFLOW}; run ./dev setup", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pyfunc-bench-spark-") as tmp:
        workdir = Path(tmp)
        namespace = {"__name__": "__main__"}
        exec(MODEL, namespace)  # defined as in a notebook, so it pickles by value
        model = workdir / "linear"
        pyfunc_jupyter.save_model(
            model, namespace["Linear"](), input_example=pd.DataFrame({"x": [0.5, 1.0], "n": [1, 2]})
        )
        result = score(model, workdir)
    seconds, checks = result["seconds"], result["checks"]
    if checks["ours"] != checks["mlflow"]:
        print(f"bench_spark: the two UDFs disagree ({checks})", file=sys.stderr)
        return 1
    rates = {tool: ROWS / statistics.median(values) for tool, values in seconds.items()}
    best = {tool: ROWS / min(values) for tool, values in seconds.items()}
    ratio = rates["ours"] / rates["mlflow"]
    result = {
        "rows": ROWS,
        "runs": RUNS,
        "seconds": seconds,
        "rows_per_second": rates,
        "best_rows_per_second": best,
        "ratio": ratio,
        "target": TARGET,
        "met": ratio >= TARGET,
    }
    (HERE / "results_spark.json").write_text(json.dumps(result, indent=2) + "\n")
    mark = "ok" if ratio >= TARGET else "MISSED"
    print(
        f"spark_udf, {ROWS:,} rows (local[2], median of {RUNS} alternating runs): ours {rates['ours']:,.0f} rows/s, "
        f"MLflow {rates['mlflow']:,.0f} rows/s (best {best['ours']:,.0f} vs {best['mlflow']:,.0f}), "
        f"ratio {ratio:.2f}x (target >= {TARGET:.1f}x) {mark}"
    )
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
