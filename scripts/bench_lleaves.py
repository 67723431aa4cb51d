"""lleaves (an LLVM-compiled LightGBM model) on the very trees and rows of Borderline's scorer
(issue 17: "at least 0.9x lleaves").

Reads what `scoring_vs_lightgbm` writes with EXPORT_DIR=D: D/model.txt (the model's trees as a
LightGBM text model), D/features.f32 (the declarations' features, row-major), D/raw_scores.f64
(Borderline's lane-walk sums) and D/lane_walk_rate.txt (the lane walk's CPU rate in the same
round). Compiles the model once into D/lleaves.so (the compile is cached: it takes minutes and
gigabytes, and is reported once), then predicts raw scores on one thread RUNS times and prints
medians of wall and process-CPU rates, the ratio of Borderline's lane walk to lleaves, and how
many sums agree bit for bit with Borderline's.

    python3 scripts/bench_lleaves.py D [runs=3]
"""

import os
import resource
import statistics
import sys
import time

import lleaves
import numpy as np


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: bench_lleaves.py EXPORT_DIR [runs=3]", file=sys.stderr)
        return 2
    d = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(os.path.join(d, "features.txt")) as f:
        nf = int(f.read().strip())
    xs = np.fromfile(os.path.join(d, "features.f32"), dtype="<f4").astype(np.float64)
    if xs.size % nf:
        print(f"{d}/features.f32: {xs.size} values is not a whole number of rows of {nf}", file=sys.stderr)
        return 1
    xs = xs.reshape(-1, nf)
    ours = np.fromfile(os.path.join(d, "raw_scores.f64"), dtype="<f8")
    if len(ours) != len(xs):
        print(f"{d}: {len(ours)} raw scores for {len(xs)} feature rows", file=sys.stderr)
        return 1
    with open(os.path.join(d, "lane_walk_rate.txt")) as f:
        lane_walk = float(f.read().strip())

    # lleaves reads three things LightGBM's own model files carry and Borderline's export (which
    # LightGBM's C library loads without) leaves out: `tree_sizes=` in the header (lleaves
    # counts the trees by it) and the closing pandas categories line.
    text_path = os.path.join(d, "model_lleaves.txt")
    with open(os.path.join(d, "model.txt")) as src:
        text = src.read()
    if "tree_sizes=" not in text:
        head, _, trees = text.partition("\nTree=")
        blocks = [b.strip() for b in ("Tree=" + trees).split("\n\n")]
        sizes = " ".join(str(len(b) + 3) for b in blocks if b.startswith("Tree="))
        # lleaves reads the header as the first block of lines: the sizes must sit inside it.
        text = head.rstrip("\n") + f"\ntree_sizes={sizes}\n\nTree=" + trees
    # lleaves takes a feature whose info is not a "[min:max]" range for a categorical one; the
    # export writes "none" (LightGBM's word for an unused feature): every feature here is numeric.
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("feature_infos="):
            lines[i] = "feature_infos=" + " ".join("[-inf:inf]" for _ in range(nf))
    text = "\n".join(lines)
    if "pandas_categorical:" not in text:
        text += "\npandas_categorical:null\n"
    with open(text_path, "w") as dst:
        dst.write(text)
    model = lleaves.Model(model_file=text_path)
    so = os.path.join(d, "lleaves.so")
    cached = os.path.exists(so)
    t0, c0 = time.perf_counter(), time.process_time()
    model.compile(cache=so, raw_score=True)
    if not cached:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"lleaves compile: {time.perf_counter() - t0:.0f} s wall, "
            f"{time.process_time() - c0:.0f} s CPU, peak RSS {peak_mb:.0f} MB (cached in {so})"
        )

    walls, cpus, theirs = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        theirs = model.predict(xs, n_jobs=1)
        walls.append(len(xs) / (time.perf_counter() - t0))
        cpus.append(len(xs) / (time.process_time() - c0))
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    identical = int(np.sum(theirs.view(np.uint64) == ours.view(np.uint64)))
    largest = float(np.max(np.abs(theirs - ours)))
    print(f"| lleaves `predict` (raw score, n_jobs=1) | {wall:.0f}; {cpu:.0f} | |")
    print(f"Borderline lane walk, same round: {lane_walk:.0f}/s of CPU = **{lane_walk / cpu:.2f}x lleaves**")
    print(
        f"lleaves raw scores: {identical} of {len(xs)} bit-identical to Borderline's, "
        f"largest difference {largest:.1e}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
