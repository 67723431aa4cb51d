"""The ingest benchmark's baseline: polars reading the same CSV on one thread.

Like Borderline's ingest it types every column (dates parsed, numbers as floats, codes as text)
and checks declaration ids for duplicates. Prints the median rows/s of RUNS runs.
Usage: POLARS_MAX_THREADS=1 python3 scripts/bench_ingest_polars.py FILE [RUNS]
"""
import os
import statistics
import sys
import time

os.environ.setdefault("POLARS_MAX_THREADS", "1")
import polars as pl  # noqa: E402  (after the thread count is set)

path = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
header = open(path, encoding="utf-8").readline().rstrip("\n").split(",")
numeric = {"Tax Rate", "Net Mass", "Item Price", "Fraud", "Critical Fraud"}
schema = {c: (pl.Float64 if c in numeric else pl.Utf8) for c in header}
rates = []
for _ in range(runs):
    t = time.perf_counter()
    df = pl.read_csv(path, schema=schema)
    df = df.with_columns(pl.col("Date").str.to_date("%Y-%m-%d"))
    duplicates = df["Declaration ID"].is_duplicated().sum()
    rates.append(df.height / (time.perf_counter() - t))
print(
    f"polars {pl.__version__} ({pl.thread_pool_size()} thread): {df.height} rows, "
    f"{duplicates} duplicated ids, median {statistics.median(rates):.0f} rows/s over {runs} runs"
)
