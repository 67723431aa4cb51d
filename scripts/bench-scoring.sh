#!/usr/bin/env bash
# Scoring and exact reasons beside LightGBM's own on the same trees and rows, one thread
# (issue 17): LightGBM `predict` and `pred_contrib` (the C library `borderline train` links,
# loading the model's trees exported as a LightGBM text model) against the lane walk, the block
# scorer before it and the block explanations; then traversal_bench for the pointer walk and the
# bitvector traversal. Repeated ROUNDS times: the machine is shared, read medians and ratios.
#   MODEL=out/s18/model.json.gz bash scripts/bench-scoring.sh
#   ROUNDS=3 CONTRIB_ROWS=100 ...
# Without MODEL, trains the default model into out/bench-scoring once (several minutes).
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
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r ($(uptime | sed 's/.*load/load/'))"
  OMP_NUM_THREADS=1 target/release/examples/scoring_vs_lightgbm "$MODEL" "$TEST" 3 "$CONTRIB_ROWS"
done
target/release/examples/traversal_bench "$MODEL" "$TEST" 3 0
