#!/usr/bin/env bash
# Scale benchmarks for targeting (issue 2). Prints numbers; BENCHMARKS.md records them.
#   bash scripts/bench.sh            # 1M and 10M rows
#   ROWS_BIG=0 bash scripts/bench.sh # skip the 10M-row runs
# Needs ~2.5 GB of disk under out/bench. Installs LightGBM's Python package for the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p borderline-cli
BL=target/release/borderline
OUT=out/bench; mkdir -p "$OUT"
ROWS_BIG=${ROWS_BIG:-10000000}
peak() { /usr/bin/time -f "%e s elapsed, peak RSS %M KB" "$@"; }

echo "== training on the bundled split: Borderline vs LightGBM (Python) baseline, same machine"
python3 -m pip install --quiet --disable-pip-version-check lightgbm pandas scikit-learn
peak $BL train --train data/declarations/kcs_train.csv.gz --valid data/declarations/kcs_valid.csv.gz --model "$OUT/model.json.gz"
peak python3 scripts/baseline_lightgbm.py
$BL evaluate --model "$OUT/model.json.gz" --test data/declarations/kcs_test.csv.gz

echo "== generator"
[ -f "$OUT/gen-1m.csv" ] || peak $BL generate --rows 1000000 --output "$OUT/gen-1m.csv"
echo "== ingest + validate (in process, one thread)"
$BL bench ingest "$OUT/gen-1m.csv" --runs 3
echo "== ingest command end to end (1M rows)"
peak $BL ingest "$OUT/gen-1m.csv" --quarantine-dir "$OUT/q"
echo "== scoring throughput per core (model trained above)"
$BL bench score --model "$OUT/model.json.gz" --input "$OUT/gen-1m.csv" --rows 200000 --runs 5
if [ "$ROWS_BIG" -gt 0 ]; then
  [ -f "$OUT/gen-10m.csv" ] || peak $BL generate --rows "$ROWS_BIG" --output "$OUT/gen-10m.csv"
  echo "== 10M declarations scored as a stream (fast reasons for red/yellow), peak memory"
  peak $BL score --stream --reasons fast --model "$OUT/model.json.gz" --input "$OUT/gen-10m.csv" --output /dev/null --format csv
fi
