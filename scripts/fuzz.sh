#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 60) and stops at the first crash.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Installs cargo-fuzz if missing (scripts/tools.sh). RUSTC_BOOTSTRAP=1 is set for the fuzz build
# only (cargo fuzz passes -Z flags); the product is always built on plain stable.
# Sanitizer: none by default (the code under test is safe Rust; libFuzzer still catches panics,
# stack overflows, timeouts and out-of-memory). FUZZ_SANITIZER=address for ASan.
# FUZZ_BUILD=dev builds the targets unoptimised, with overflow checks and debug assertions: half
# the compile time of the optimised build (3.2 against 7.4 CPU minutes from cold, docs/hardening.md)
# and fewer executions per second, which suits the test suite's few-second smoke run.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
sanitizer="${FUZZ_SANITIZER:-none}"
build=()
if [ "${FUZZ_BUILD:-release}" = dev ]; then build=(--dev); fi
source ../scripts/tools.sh
borderline_tool cargo-fuzz
export RUSTC_BOOTSTRAP=1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
cargo fuzz build "${build[@]}" -s "$sanitizer"
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    # Seeds: the bundled samples the parser normally reads (a copy; the corpus is not committed).
    if [ -d "seeds/$t" ]; then cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true; fi
    echo "== $t (${seconds}s)"
    if ! cargo fuzz run "${build[@]}" -s "$sanitizer" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -print_final_stats=1 2>"corpus/$t.log"; then
        echo "!! $t: crash, see fuzz/artifacts/$t and fuzz/corpus/$t.log"
        tail -40 "corpus/$t.log"
        status=1
    fi
    grep -E "^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb" "corpus/$t.log" | tr '\n' ' '
    echo
done
exit $status
