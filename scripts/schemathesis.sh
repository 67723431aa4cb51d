#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis (PyPI): starts
# `borderline serve` on a temporary database and a loopback port, and runs every check (no
# server error, responses conforming to the schema, documented status codes, ...) with a token
# of one account holding every customs role (officer, analyst, supervisor, auditor), so that no
# operation is only ever answered 403, and a trader's token for the trader's self-check (see
# scripts/schemathesis.toml). Run by scripts/test.sh.
#
#   bash scripts/schemathesis.sh [MAX_EXAMPLES] [MAX_SECONDS]   (default 25 per operation, 240 s)
# Needs a built `borderline` (cargo build -p borderline-cli); installs schemathesis from PyPI
# when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BORDERLINE_BIN:-target/debug/borderline}
EXAMPLES=${1:-25}
MAX_TIME=${2:-240}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
command -v schemathesis >/dev/null || python3 -m pip install -q 'schemathesis>=4,<5'
command -v schemathesis >/dev/null || { echo "schemathesis: not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
# A declaration stream, so that publication is served rather than 503 "not available" (the
# test script's nats-server when it runs one, else a throwaway one; its trap chains with ours).
[ -n "${BORDERLINE_TEST_NATS:-}" ] || source scripts/nats.sh
db="$tmp/gov.db"
admin=$(printf '%s\n' 'schemathesis admin passphrase' | "$BIN" accounts bootstrap root --db "$db" 2>/dev/null)
BORDERLINE_TOKEN=$admin "$BIN" accounts create fuzz.staff \
  --role officer,analyst,supervisor,auditor --db "$db" >/dev/null
BORDERLINE_TOKEN=$admin "$BIN" accounts create fuzz.trader --role trader --importer IMP-1 \
  --db "$db" >/dev/null
# Read by scripts/schemathesis.toml.
export BORDERLINE_FUZZ_STAFF BORDERLINE_FUZZ_TRADER
BORDERLINE_FUZZ_STAFF=$(BORDERLINE_TOKEN=$admin "$BIN" tokens create fuzz.staff --label schemathesis --db "$db" 2>/dev/null)
BORDERLINE_FUZZ_TRADER=$(BORDERLINE_TOKEN=$admin "$BIN" tokens create fuzz.trader --label schemathesis --db "$db" 2>/dev/null)
# An active model (small, quick to train) and benchmarks, so that valid requests reach the
# scoring and valuation paths instead of 503 "not available".
"$BIN" train --train data/declarations/kcs_train.csv.gz --valid data/declarations/kcs_valid.csv.gz \
  --max-trees 10 --threads 1 --model "$tmp/model.json.gz" >/dev/null 2>&1
export BORDERLINE_FUZZ_MODEL
BORDERLINE_FUZZ_MODEL=$("$BIN" models register "$tmp/model.json.gz" --db "$db" --user fuzz.analyst --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
"$BIN" models approve "$BORDERLINE_FUZZ_MODEL" --reason "fuzzing" --db "$db" --user fuzz.supervisor >/dev/null
"$BIN" models activate "$BORDERLINE_FUZZ_MODEL" --db "$db" --user fuzz.supervisor >/dev/null
"$BIN" valuation build --history data/declarations/kcs_train.csv.gz --out "$tmp/bench.json.gz" >/dev/null 2>&1
# A party directory, so that network exposure is served rather than 503 "not available".
printf 'party_id,name,address,country\nIMP-1,MAHAN AIR,Tehran,IR\n' >"$tmp/parties.csv"
# A high rate limit: the fuzzer is one token sending many requests.
BORDERLINE_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" --db "$db" --rate 100000 \
  --benchmarks "$tmp/bench.json.gz" --parties "$tmp/parties.csv" \
  --nats "$BORDERLINE_TEST_NATS" --stream-prefix "fuzz$PORT" >"$tmp/server.log" 2>&1 &
pid=$!
# A debug build loads the watchlists slowly on a busy machine (30 s seen): wait up to 3 minutes,
# and stop at once with the server's log when it exits.
for _ in $(seq 1 900); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the server exited before serving:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.2
done
status=0
# Withdrawing the active model (retire, roll back) leaves scoring without a model: 503 for
# every later scoring request. So those two operations run last, on their own.
WITHDRAW='^/v1/models/(rollback|\{version\}/retire)$'
schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" \
  --exclude-path-regex "$WITHDRAW" \
  --checks all \
  --max-examples "$EXAMPLES" \
  --max-time "$MAX_TIME" \
  --request-timeout 30 || status=$?
schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" \
  --include-path-regex "$WITHDRAW" \
  --checks all \
  --max-examples "$EXAMPLES" \
  --max-time 30 \
  --request-timeout 30 || status=$?
if grep -q "panicked" "$tmp/server.log"; then
  echo "the server panicked:" >&2
  grep -A3 panicked "$tmp/server.log" >&2
  status=1
fi
exit $status
