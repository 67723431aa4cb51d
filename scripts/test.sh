#!/usr/bin/env bash
# Runs the whole Borderline test suite on a fresh machine: installs build dependencies, then
# every crate's unit, integration and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
if [ ! -d ../shared/data ]; then
  echo "note: ../shared/data is missing; tests that measure against it print a skip message" >&2
fi
cargo test --workspace --no-fail-fast
