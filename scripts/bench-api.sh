#!/usr/bin/env bash
# Load benchmark of the HTTP API on loopback (issue 11): one declaration scored with exact
# reasons at a fixed request rate, and yente-shaped screening `/match` at full speed. Prints
# the load generator's latency percentiles, status codes and the server's peak RSS. Results go
# in BENCHMARKS.md.
#
#   bash scripts/bench-api.sh [RATE] [SECONDS]     (default 1000 requests/s for 60 s)
# Needs a release build (cargo build --release -p borderline-cli). The load generator is `hey`
# from Debian's packages (installed here when missing): 32 connections, each held to RATE/32
# requests per second, so the offered rate is fixed unless the server falls behind.
# MODEL=path reuses a trained artefact (default: trains the demo's model, a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BORDERLINE_BIN:-target/release/borderline}
RATE=${1:-1000}
SECS=${2:-60}
PORT=${PORT:-18181}
if ! dpkg -s hey >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get install -y -q hey >/dev/null || { echo "bench-api: cannot install hey (apt-get install hey)" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "bench-api: $BIN missing (cargo build --release -p borderline-cli)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
db="$tmp/gov.db"
data=data/declarations
model=${MODEL:-}
if [ -z "$model" ]; then
  model="$tmp/model.json.gz"
  "$BIN" train --train $data/kcs_train.csv.gz --valid $data/kcs_valid.csv.gz --model "$model" >/dev/null 2>&1
fi
admin=$(printf '%s\n' 'benchmark admin passphrase' | "$BIN" accounts bootstrap root --db "$db" 2>/dev/null)
BORDERLINE_TOKEN=$admin "$BIN" accounts create bench.officer --role officer --db "$db" >/dev/null
officer=$(BORDERLINE_TOKEN=$admin "$BIN" tokens create bench.officer --label bench --db "$db" 2>/dev/null)
version=$("$BIN" models register "$model" --db "$db" --user bench.analyst --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
"$BIN" models approve "$version" --reason "benchmark" --db "$db" --user bench.supervisor >/dev/null
"$BIN" models activate "$version" --db "$db" --user bench.supervisor >/dev/null

# The riskiest declaration of the test period: red, so every request computes exact reasons.
"$BIN" score --model "$model" --input $data/kcs_test.csv.gz --reasons none --output "$tmp/list.csv" >/dev/null 2>&1
top=$(python3 -c 'import csv,sys; r=csv.DictReader(open(sys.argv[1])); print(next(r)["declaration_id"])' "$tmp/list.csv")
"$BIN" ingest $data/kcs_test.csv.gz --output "$tmp/test.jsonl" --quarantine-dir "$tmp/q" >/dev/null
python3 - "$tmp/test.jsonl" "$top" "$tmp/score.json" "$tmp/match.json" <<'PY'
import json, sys
src, top, score_out, match_out = sys.argv[1:]
for line in open(src):
    d = json.loads(line)
    if str(d["declaration_id"]) == top:
        d.pop("outcome", None)
        d = {k: v for k, v in d.items() if v is not None}
        json.dump({"declaration": d, "reasons": "exact", "top_reasons": 5}, open(score_out, "w"))
        break
else:
    sys.exit(f"declaration {top} not found")
json.dump({"queries": {
    "q1": {"schema": "Company", "properties": {"name": ["Mahan Air"], "country": ["ir"]}},
    "q2": {"schema": "Person", "properties": {"name": ["Vladimir Putin"]}},
    "q3": {"schema": "Company", "properties": {"name": ["Acme Trading GmbH"]}},
}}, open(match_out, "w"))
PY

BORDERLINE_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" --db "$db" --rate 1000000 >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.2
done
curl -sf -H "Authorization: Bearer $officer" -H 'Content-Type: application/json' \
  --data @"$tmp/score.json" "http://127.0.0.1:$PORT/v1/declarations/score" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print("one request:", d["lane"], "risk", round(d["risk_score"],3), len(d["reasons"]), "reasons")'

rss_peak() { awk '/VmHWM/ {print $2/1024 " MB"}' "/proc/$pid/status"; }
CONN=32
per_conn=$(python3 -c "print($RATE / $CONN)")
report() { grep -E "Requests/sec|Slowest|Fastest|Average|(50|90|99)% in|\[[0-9]{3}\]|Error|dial|timeout" || true; }
# Baseline in the same run: the server's floor (no authentication, no work) at the same rate.
echo "== baseline: GET /healthz at $RATE requests/s for 10 s"
hey -z 10s -c "$CONN" -q "$per_conn" "http://127.0.0.1:$PORT/healthz" | report
echo "== score one declaration with exact reasons: $RATE requests/s for $SECS s (model $version)"
hey -z "${SECS}s" -c "$CONN" -q "$per_conn" -m POST -T application/json \
  -H "Authorization: Bearer $officer" -D "$tmp/score.json" \
  "http://127.0.0.1:$PORT/v1/declarations/score" | report
echo "server peak RSS: $(rss_peak)"
echo "== screening /v1/match/default (3 queries per request), 8 connections, 20 s, full speed"
hey -z 20s -c 8 -m POST -T application/json \
  -H "Authorization: Bearer $officer" -D "$tmp/match.json" \
  "http://127.0.0.1:$PORT/v1/match/default" | report
echo "server peak RSS: $(rss_peak)"
if grep -q panicked "$tmp/server.log"; then grep -A3 panicked "$tmp/server.log" >&2; exit 1; fi
