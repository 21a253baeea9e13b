"""Spark benchmark: ``pyfunc_jupyter.spark_udf`` vs ``mlflow.pyfunc.spark_udf`` on one model, 1M rows.

Both score the same model directory (saved by pyfunc_jupyter) on the same 1,000,000-row DataFrame
(cached first) in a local[2] session of their own interpreter (``.venv`` for us, ``.venv-mlflow``
for MLflow with ``env_manager="local"``), one after the other in this run. Each warms up on 1,000
rows, then scores all rows ``RUNS`` times into Spark's ``noop`` sink; the best run counts.
Target: our rows/s ≥ MLflow's (ratio ≥ 1.0). Results go to ``bench/results_spark.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MLFLOW = ROOT / ".venv-mlflow" / "bin" / "python"
ROWS = 1_000_000
RUNS = 3
TARGET = 1.0

MODEL = '''
import pandas as pd
from pyfunc_jupyter import PythonModel

class Linear(PythonModel):
    def predict(self, context, model_input):
        return pd.DataFrame({"y": model_input["x"] * 2.0 + model_input["n"]})
'''

# Runs in either interpreter: argv = tool, model dir, rows, runs.
SCORE = r'''
import json, os, sys, time
os.environ["PYSPARK_PYTHON"] = sys.executable
tool, model, rows, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
from pyspark.sql import SparkSession
from pyspark.sql.functions import struct
if tool == "ours":
    from pyfunc_jupyter import spark_udf
    make = lambda spark: spark_udf(spark, model, "double")
else:
    import mlflow.pyfunc
    make = lambda spark: mlflow.pyfunc.spark_udf(spark, model, "double", env_manager="local")
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.range(rows, numPartitions=2).selectExpr("cast(id as double) * 0.5 as x", "id as n").cache()
df.count()
udf = make(spark)
check = df.limit(1000).select(udf(struct("x", "n")).alias("y")).agg({"y": "sum"}).collect()[0][0]
seconds = []
for _ in range(runs):
    start = time.perf_counter()
    df.select(udf(struct("x", "n")).alias("y")).write.format("noop").mode("overwrite").save()
    seconds.append(time.perf_counter() - start)
spark.stop()
print(json.dumps({"seconds": seconds, "check": check}))
'''


def score(python: Path, tool: str, model: Path, workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PYTHONWARNINGS="ignore", MLFLOW_TRACKING_URI=(workdir / "mlruns").as_uri())
    script = workdir / "score.py"  # a file, not `-c`: pyspark beside MLflow hijacks `-c` programs (no __file__)
    script.write_text(SCORE)
    out = subprocess.run([str(python), str(script), tool, str(model), str(ROWS), str(RUNS)], cwd=workdir,
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{tool} spark_udf failed:\n{out.stderr[-3000:]}")
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
        exec(MODEL, namespace)  # noqa: S102 - defined as in a notebook, so it pickles by value
        model = workdir / "linear"
        pyfunc_jupyter.save_model(model, namespace["Linear"](),
                                  input_example=pd.DataFrame({"x": [0.5, 1.0], "n": [1, 2]}))
        ours = score(Path(sys.executable), "ours", model, workdir)
        theirs = score(MLFLOW, "mlflow", model, workdir)
    if ours["check"] != theirs["check"]:
        print(f"bench_spark: the two UDFs disagree ({ours['check']} vs {theirs['check']})", file=sys.stderr)
        return 1
    rates = {"ours": ROWS / min(ours["seconds"]), "mlflow": ROWS / min(theirs["seconds"])}
    ratio = rates["ours"] / rates["mlflow"]
    result = {"rows": ROWS, "runs": RUNS, "seconds": {"ours": ours["seconds"], "mlflow": theirs["seconds"]},
              "rows_per_second": rates, "ratio": ratio, "target": TARGET, "met": ratio >= TARGET}
    (HERE / "results_spark.json").write_text(json.dumps(result, indent=2) + "\n")
    mark = "ok" if ratio >= TARGET else "MISSED"
    print(f"spark_udf, {ROWS:,} rows (local[2], best of {RUNS}): ours {rates['ours']:,.0f} rows/s, "
          f"MLflow {rates['mlflow']:,.0f} rows/s, ratio {ratio:.2f}x (target >= {TARGET:.1f}x) {mark}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
