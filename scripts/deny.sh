#!/usr/bin/env bash
# Supply-chain check (licences, bans, sources, advisories) with cargo-deny, fully offline.
#   scripts/deny.sh [extra cargo-deny check arguments]
# Installs cargo-deny if missing (scripts/tools.sh). Advisories come from the RustSec snapshot in
# ../shared/rustsec-advisory-db (override with RUSTSEC_DB=DIR), copied into a throwaway git
# repository under target/ because cargo-deny opens the database as a git repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/tools.sh
borderline_tool cargo-deny
snapshot="${RUSTSEC_DB:-$root/../shared/rustsec-advisory-db}"
if [ ! -d "$snapshot" ]; then
    echo "deny.sh: RustSec snapshot not found at $snapshot (set RUSTSEC_DB)" >&2
    exit 2
fi
dbs="$root/target/advisory-dbs"
# cargo-deny looks for the database of db-urls[0] in a folder named after the URL.
db="$dbs/${BORDERLINE_ADVISORY_DIR:-advisory-db-3157b0e258782691}"
rm -rf "$dbs"
mkdir -p "$db"
cp -R "$snapshot"/. "$db"/
rm -rf "$db/.git"
git -C "$db" init -q
git -C "$db" add -A
git -C "$db" -c user.name=deny -c user.email=deny@localhost commit -qm "RustSec snapshot" --no-gpg-sign
export BORDERLINE_ADVISORY_DBS="$dbs"
# The crate graph for every target platform (cargo metadata needs their sources; from crates.io,
# the only network use; a no-op once they are in ~/.cargo).
cargo fetch --locked >/dev/null 2>&1 || cargo fetch --locked
# --offline: the advisory database is never fetched (nor anything else).
exec cargo deny --offline check "$@"
