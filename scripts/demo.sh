#!/usr/bin/env bash
# The main job on the bundled data: train, evaluate and score, printing the inspection list.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo run --release -p borderline-cli -- demo "$@"
