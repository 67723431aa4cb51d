#!/usr/bin/env bash
# The declaration stream end to end (issue 13): generated declarations published on NATS
# JetStream, then drained by 1 and by 2 `borderline worker` processes deciding into one
# PostgreSQL store; then the time from publication to committed decision at a steady rate;
# the red share against a 5% capacity; and the audit chain's cost under concurrent writers.
#   bash scripts/bench-stream.sh                 # 1M declarations (the issue's benchmark)
#   ROWS=100000 bash scripts/bench-stream.sh     # a smaller run
# Services: the throwaway PostgreSQL 15 cluster and nats-server of the test script
# (scripts/postgres.sh, scripts/nats.sh: loopback, temporary directories, PostgreSQL with
# fsync and synchronous_commit off, JetStream on file storage). Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
RATES=${RATES:-1000 400}    # steady publication rates of the latency runs, per second (the
                            # issue's 1,000, and one a single worker sustains here)
RATE_SECONDS=${RATE_SECONDS:-30}
BATCH=${BATCH:-256}
bash scripts/setup.sh
# BORDERLINE_BIN=<binary> measures another build (e.g. the one before a change) without building.
if [ -n "${BORDERLINE_BIN:-}" ]; then BL=$BORDERLINE_BIN; else
  cargo build --release -p borderline-cli
  BL=$PWD/target/release/borderline
fi
OUT=out/bench-stream; mkdir -p "$OUT"
source scripts/postgres.sh
source scripts/nats.sh
export BORDERLINE_NATS=$BORDERLINE_TEST_NATS
PG_BASE=${BORDERLINE_TEST_POSTGRES%/*}

echo "== model: trained on the bundled split (out-of-sample lane thresholds from the validation period)"
[ -f "$OUT/model.json.gz" ] ||
  $BL train --train data/declarations/kcs_train.csv.gz --valid data/declarations/kcs_valid.csv.gz \
    --model "$OUT/model.json.gz" >/dev/null
echo "== $ROWS generated declarations"
[ -f "$OUT/gen-$ROWS.csv" ] || $BL generate --rows "$ROWS" --output "$OUT/gen-$ROWS.csv"

# A fresh database with the model registered, approved (four eyes) and active.
fresh_db() {
  local name=$1
  psql -q "$BORDERLINE_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
  local db="$PG_BASE/$name" version
  version=$($BL models register "$OUT/model.json.gz" --db "$db" --user analyst.ana --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
  $BL models approve "$version" --reason "benchmark" --db "$db" --user supervisor.bob >/dev/null
  $BL models activate "$version" --db "$db" --user supervisor.bob >/dev/null
  echo "$db"
}

# CPU seconds (user + system, with reaped children: PostgreSQL's backends) of process $1 so far.
cpu_seconds() {
  python3 - "$1" <<'PY'
import os, sys
f = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print(sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK"))
PY
}
PG_PID=$(head -n1 "$BORDERLINE_TEST_POSTGRES_DATA/postmaster.pid")
NATS_PID=$borderline_nats_pid

# Drains PREFIX with N worker processes; prints declarations/s from the first message taken to
# the last batch acknowledged, each worker's peak RSS, and the CPU seconds per 1,000 decisions of
# the workers, PostgreSQL and nats-server over the drain (what bounds the rate on 2 cores).
drain() {
  local n=$1 prefix=$2 db=$3 i pids=() pg0 nats0
  pg0=$(cpu_seconds "$PG_PID"); nats0=$(cpu_seconds "$NATS_PID")
  for i in $(seq 1 "$n"); do
    /usr/bin/time -f "%U %S %M" -o "$OUT/rss-$prefix-$i" \
      $BL worker --id "worker.$i" --prefix "$prefix" --db "$db" --batch "$BATCH" --idle-exit 3 \
      >"$OUT/report-$prefix-$i.json" 2>"$OUT/log-$prefix-$i" &
    pids+=($!)
  done
  # Only the workers: the sourced service scripts' servers are children of this shell too.
  for p in "${pids[@]}"; do wait "$p" || { echo "a worker failed: $OUT/log-$prefix-*" >&2; exit 1; }; done
  sleep 1 # the workers' PostgreSQL backends exit and are reaped
  echo "$(cpu_seconds "$PG_PID") $pg0 $(cpu_seconds "$NATS_PID") $nats0" >"$OUT/cpu-$prefix"
  python3 - "$OUT" "$prefix" "$n" "$ROWS" <<'PY'
import json, sys
out, prefix, n, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
reports = [json.load(open(f"{out}/report-{prefix}-{i}.json")) for i in range(1, n + 1)]
times = [open(f"{out}/rss-{prefix}-{i}").read().split()[-3:] for i in range(1, n + 1)]
rss = [int(t[2]) for t in times]
worker_cpu = sum(float(t[0]) + float(t[1]) for t in times)
pg1, pg0, nats1, nats0 = (float(x) for x in open(f"{out}/cpu-{prefix}").read().split())
decided = sum(r["decided"] for r in reports)
dup = sum(r["duplicates"] for r in reports)
dead = sum(r["dead_lettered"] for r in reports)
secs = (max(r["last_ack_ms"] for r in reports) - min(r["first_message_ms"] for r in reports)) / 1000
rate = decided / secs
open(f"{out}/rate-{prefix}", "w").write(f"{rate}")
print(f"{n} worker(s): {decided} decided ({dup} duplicates, {dead} dead-lettered) in {secs:.1f} s = {rate:.0f} declarations/s; peak RSS per worker {', '.join(f'{k/1024:.0f} MB' for k in rss)}")
per = 1000 / max(decided, 1)
cpu = {"workers": worker_cpu, "PostgreSQL": pg1 - pg0, "nats-server": nats1 - nats0}
total = sum(cpu.values())
print(f"  CPU seconds per 1,000 decisions: " + ", ".join(f"{k} {v * per:.3f}" for k, v in cpu.items())
      + f"; total {total * per:.3f}, i.e. at most {2 * decided / max(total, 1e-9):.0f} declarations/s on 2 idle cores")
PY
}

# A/B mode: AB_BASELINE=/path/to/another/borderline drains the same declarations with one
# worker, alternately with that binary (its own fresh database: an older build may know an
# older schema) and with this build, AB_ROUNDS times each (default 2), and prints each rate and
# the ratio of the medians: the machine is shared, so only back-to-back runs compare.
if [ -n "${AB_BASELINE:-}" ]; then
  NEW_BL=$BL
  for round in $(seq 1 "${AB_ROUNDS:-2}"); do
    for arm in baseline new; do
      if [ "$arm" = baseline ]; then BL=$AB_BASELINE; else BL=$NEW_BL; fi
      echo "== round $round, $arm ($BL): published, then drained by 1 worker"
      db=$(fresh_db "bench_ab_${arm}_$round")
      $BL publish "$OUT/gen-$ROWS.csv" --prefix "ab$arm$round"
      drain 1 "ab$arm$round" "$db"
      cp "$OUT/rate-ab$arm$round" "$OUT/ab-$arm-$round"
    done
  done
  BL=$NEW_BL
  python3 - "$OUT" "${AB_ROUNDS:-2}" <<'PY'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rates = {arm: [float(open(f"{out}/ab-{arm}-{r}").read()) for r in range(1, rounds + 1)] for arm in ("baseline", "new")}
b, n = statistics.median(rates["baseline"]), statistics.median(rates["new"])
print(f"baseline {', '.join(f'{x:.0f}' for x in rates['baseline'])}/s; new {', '.join(f'{x:.0f}' for x in rates['new'])}/s; "
      f"ratio of medians new/baseline {n / b:.3f}")
PY
  exit 0
fi

for n in 1 2; do
  echo "== published, then drained by $n worker(s)"
  db=$(fresh_db "bench_stream_$n")
  $BL publish "$OUT/gen-$ROWS.csv" --prefix "drain$n"
  drain "$n" "drain$n" "$db"
  $BL capacity --db "$db" --red 5 --yellow 10 >"$OUT/capacity-$n.json"
  python3 - "$OUT/capacity-$n.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"shares over the run: red {r['red_percent']:.2f}% (capacity 5%), yellow {r['yellow_percent']:.2f}% (capacity 10%) "
      f"of {r['total']['decided']}; {r['alarms']} office-days in drift alarm of {len(r['offices'])}")
PY
done
python3 -c "import sys; a=float(open('$OUT/rate-drain1').read()); b=float(open('$OUT/rate-drain2').read()); print(f'2/1 worker ratio: {b/a:.2f}')"

for rate in $RATES; do
  echo "== steady $rate declarations/s for $RATE_SECONDS s, one worker running: publication to committed decision"
  db=$(fresh_db "bench_stream_latency_$rate")
  head -n $((rate * RATE_SECONDS + 1)) "$OUT/gen-$ROWS.csv" >"$OUT/steady.csv"
  $BL worker --id worker.1 --prefix "steady$rate" --db "$db" --batch "$BATCH" --idle-exit 5 >/dev/null 2>"$OUT/log-steady-$rate" &
  steady_worker=$!
  sleep 2
  $BL publish "$OUT/steady.csv" --prefix "steady$rate" --rate "$rate" --latency
  wait "$steady_worker"
done

echo "== audit chain under concurrent writers (PostgreSQL; one write lock orders the chain)"
for batch in 1 64; do
  db=$(fresh_db "bench_audit_$batch")
  $BL bench audit --db "$db" --writers 4 --records $((batch == 1 ? 500 : 4000)) --batch "$batch"
done
