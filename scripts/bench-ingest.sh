#!/usr/bin/env bash
# Ingest speed beside polars (issue 17, item 7): the same 1M-row generated CSV read on one
# thread, every column typed and declaration ids checked for duplicates, in alternating rounds
# (the machine is shared and noisy: compare the medians and the ratio, not one run).
#   bash scripts/bench-ingest.sh                    # 3 rounds of 5 runs each
#   ROUNDS=5 AB_BASELINE=/path/to/older/borderline bash scripts/bench-ingest.sh
#   BORDERLINE_BIN=/path/to/borderline ...          # that binary, without building
# Installs polars from PyPI when missing. Writes out/ingest/gen-1m.csv (100 MB) once.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
BL=${BORDERLINE_BIN:-target/release/borderline}
[ -n "${BORDERLINE_BIN:-}" ] || cargo build --release -p borderline-cli
OUT=out/ingest; mkdir -p "$OUT"
[ -f "$OUT/gen-1m.csv" ] || $BL generate --rows 1000000 --output "$OUT/gen-1m.csv"
python3 -c 'import polars' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check polars
export POLARS_MAX_THREADS=1
rate() { grep -o 'median [0-9]* rows/s' | grep -o '[0-9]*'; }
bl=(); pl=(); base=()
for r in $(seq 1 "$ROUNDS"); do
  b=$($BL bench ingest "$OUT/gen-1m.csv" --runs 5 | rate)
  p=$(python3 scripts/bench_ingest_polars.py "$OUT/gen-1m.csv" 5 | rate)
  line="round $r: borderline $b rows/s, polars $p rows/s"
  bl+=("$b"); pl+=("$p")
  if [ -n "${AB_BASELINE:-}" ]; then
    a=$("$AB_BASELINE" bench ingest "$OUT/gen-1m.csv" --runs 5 | rate)
    base+=("$a"); line="$line, baseline $a rows/s"
  fi
  echo "$line"
done
python3 - "${bl[*]}" "${pl[*]}" "${base[*]:-}" <<'PY'
import statistics, sys
bl, pl = [list(map(float, a.split())) for a in sys.argv[1:3]]
base = list(map(float, sys.argv[3].split())) if sys.argv[3].strip() else []
mb, mp = statistics.median(bl), statistics.median(pl)
print(f"median of rounds: borderline {mb:,.0f} rows/s, polars {mp:,.0f} rows/s; "
      f"borderline's time / polars' time = {mp / mb:.2f} (target <= 1.2)")
per_round = sorted(p / b for b, p in zip(bl, pl))
print(f"borderline's time / polars' time per round: {', '.join(f'{x:.2f}' for x in per_round)}; "
      f"median {statistics.median(per_round):.2f}")
if base:
    ratios = [b / a for b, a in zip(bl, base)]
    print(f"borderline / baseline per round: {', '.join(f'{x:.2f}' for x in ratios)}; "
          f"median {statistics.median(ratios):.2f}")
PY
