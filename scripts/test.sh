#!/usr/bin/env bash
# Runs the whole Borderline test suite on a fresh machine: installs build dependencies, checks
# the supply chain (cargo-deny, offline), runs every fuzz target briefly, then every crate's unit,
# integration and doc tests (with a throwaway PostgreSQL cluster and nats-server).
# FUZZ_SMOKE_SECONDS (default 5) is each fuzz target's budget here; the 60-second and
# 10-minute runs are `scripts/fuzz.sh 60` and `scripts/fuzz.sh 600` (docs/hardening.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# Supply chain: licences, bans, sources and RustSec advisories from ../shared/rustsec-advisory-db,
# offline; fails on any finding (exceptions are justified in deny.toml).
bash scripts/deny.sh
# Fuzzing smoke run: every target of fuzz/ from its seeds, built unoptimised with overflow checks
# (half the compile time); a crash fails the suite.
FUZZ_BUILD=dev bash scripts/fuzz.sh "${FUZZ_SMOKE_SECONDS:-5}"
if [ ! -d ../shared/data ]; then
  echo "note: ../shared/data is missing; tests that measure against it print a skip message" >&2
fi
# A throwaway PostgreSQL cluster for the PostgreSQL store's tests (stopped on exit, also on failure).
source scripts/postgres.sh
# Headless Chromium and chromedriver from Debian for the web application's browser test
# (exports BORDERLINE_TEST_CHROMEDRIVER).
source scripts/browser.sh
# A throwaway nats-server with JetStream for the stream workers' tests (same lifetime).
source scripts/nats.sh
cargo test --workspace --no-fail-fast
# The HTTP API fuzzed from its own OpenAPI document with an authenticated token (schemathesis
# from PyPI, installed when missing): no server error and no schema violation, at most 150 s.
cargo build -p borderline-cli
bash scripts/schemathesis.sh 15 150
