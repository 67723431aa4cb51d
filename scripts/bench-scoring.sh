#!/usr/bin/env bash
# Scoring and exact reasons beside LightGBM's own on the same trees and rows, one thread
# (issue 17): LightGBM `predict` and `pred_contrib` (the C library `borderline train` links,
# loading the model's trees exported as a LightGBM text model) against the lane walk, the block
# scorer before it and the block explanations; then traversal_bench for the pointer walk and the
# bitvector traversal. Repeated ROUNDS times: the machine is shared, read medians and ratios.
#   MODEL=out/s18/model.json.gz bash scripts/bench-scoring.sh
#   ROUNDS=3 CONTRIB_ROWS=100 ...
# Without MODEL, trains the default model into out/bench-scoring once (several minutes).
# LLEAVES=1 also runs lleaves (the model compiled by LLVM) on the same trees and rows each round,
# in its own virtual environment (lleaves 1.3 needs llvmlite < 0.45); its first compile is
# cached beside the export (out/bench-scoring/lleaves-<model file, mtime>/lleaves.so): 22 minutes
# and 10.9 GB for a model of 117,800 splits; the 127-leaf default (228,816) ran out of 23 GB.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
CONTRIB_ROWS=${CONTRIB_ROWS:-100}
TEST=data/declarations/kcs_test.csv.gz
cargo build --release -p borderline-cli -p borderline-training --example scoring_vs_lightgbm
cargo build --release -p borderline-targeting --example traversal_bench
if [ -z "${MODEL:-}" ]; then
  MODEL=out/bench-scoring/model.json.gz
  [ -f "$MODEL" ] || OMP_WAIT_POLICY=passive target/release/borderline train \
    --train data/declarations/kcs_train.csv.gz --valid data/declarations/kcs_valid.csv.gz --model "$MODEL"
fi
if [ "${LLEAVES:-0}" = 1 ]; then
  VENV=out/venv-lleaves
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "lleaves==1.3.0" "llvmlite<0.45" numpy
  EXPORT="out/bench-scoring/lleaves-$(basename "$MODEL" .json.gz)-$(stat -c %Y "$MODEL")"
fi
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r ($(uptime | sed 's/.*load/load/'))"
  if [ -n "${EXPORT:-}" ]; then
    EXPORT_DIR="$EXPORT" OMP_NUM_THREADS=1 target/release/examples/scoring_vs_lightgbm "$MODEL" "$TEST" 3 "$CONTRIB_ROWS"
    "$VENV/bin/python" scripts/bench_lleaves.py "$EXPORT" 3
  else
    OMP_NUM_THREADS=1 target/release/examples/scoring_vs_lightgbm "$MODEL" "$TEST" 3 "$CONTRIB_ROWS"
  fi
done
target/release/examples/traversal_bench "$MODEL" "$TEST" 3 0
