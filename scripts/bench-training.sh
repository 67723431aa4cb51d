#!/usr/bin/env bash
# Training wall time of the default model against the LightGBM baseline script on the bundled
# split (issue 17), alternated ROUNDS times, then once more without OMP_WAIT_POLICY=passive.
# Prints times; BENCHMARKS.md ("Training time against LightGBM in the same script") records them.
#   bash scripts/bench-training.sh          ROUNDS=3 bash scripts/bench-training.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
cargo build --release -p borderline-cli
python3 -m pip install --quiet --disable-pip-version-check lightgbm pandas scikit-learn
OUT=out/bench-training; mkdir -p "$OUT"
TRAIN=(target/release/borderline train --train data/declarations/kcs_train.csv.gz
  --valid data/declarations/kcs_valid.csv.gz --model "$OUT/model.json.gz")
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r ($(uptime | sed 's/.*load/load/'))"
  OMP_WAIT_POLICY=passive /usr/bin/time -f "borderline (passive): %e s wall, %U s user, %M KB" "${TRAIN[@]}" 2>&1 \
    | grep -E "^borderline|^model"
  /usr/bin/time -f "baseline: %e s wall, %U s user, %M KB" python3 scripts/baseline_lightgbm.py 2>&1 | tail -2
done
echo "== default wait policy ($(uptime | sed 's/.*load/load/'))"
/usr/bin/time -f "borderline (default wait policy): %e s wall, %U s user, %M KB" "${TRAIN[@]}" 2>&1 \
  | grep -E "^borderline|^model"
