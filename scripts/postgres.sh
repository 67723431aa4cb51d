# Sourced by scripts/test.sh (or by hand: `source scripts/postgres.sh; cargo test -p
# borderline-store-postgres`): starts a throwaway PostgreSQL 15 cluster for the tests and
# exports BORDERLINE_TEST_POSTGRES, a URL to an empty database on it.
#
# - Also exports BORDERLINE_TEST_POSTGRES_CTL, _DATA and _OWNER (pg_ctl, data directory, the
#   user running the server) so that the stream fault tests can stop and restart it.
# - The cluster lives in a fresh temporary directory (data, log and unix socket), listens on
#   127.0.0.1 only, on a free port, with trust authentication for the test user `borderline`
#   (nothing else can reach it) and durability switched off (it is thrown away).
# - It is stopped and its directory removed when the sourcing shell exits, also on failure or
#   Ctrl-C: an EXIT trap, chained with any EXIT trap already set.
# - initdb and the server refuse to run as root: as root they run as the `postgres` system user
#   when it exists (Debian's package creates it), else as a system user `borderline-pg` created
#   here.
# - Needs Debian's postgresql-15 (server binaries in /usr/lib/postgresql/15/bin); installed with
#   apt-get when missing. BORDERLINE_PG_BIN points elsewhere if needed.

borderline_pg_bin=${BORDERLINE_PG_BIN:-/usr/lib/postgresql/15/bin}

borderline_pg_fail() {
  echo "postgres.sh: $*" >&2
  return 1
}

borderline_pg_install() {
  [ -x "$borderline_pg_bin/initdb" ] && return 0
  if dpkg -s postgresql-15 >/dev/null 2>&1; then
    borderline_pg_fail "postgresql-15 is installed but $borderline_pg_bin/initdb is missing"
    return 1
  fi
  echo "postgres.sh: installing postgresql-15 (apt)" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq || return 1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql-15 >/dev/null || return 1
  [ -x "$borderline_pg_bin/initdb" ] || borderline_pg_fail "no $borderline_pg_bin/initdb after installing postgresql-15"
}

# Runs a server-side command (initdb, pg_ctl) as a user the server accepts.
borderline_pg_as_owner() {
  if [ -n "${borderline_pg_owner:-}" ]; then
    runuser -u "$borderline_pg_owner" -- "$@"
  else
    "$@"
  fi
}

borderline_pg_choose_owner() {
  borderline_pg_owner=""
  [ "$(id -u)" -eq 0 ] || return 0
  if getent passwd postgres >/dev/null; then
    borderline_pg_owner=postgres
  else
    getent passwd borderline-pg >/dev/null ||
      useradd --system --no-create-home --shell /usr/sbin/nologin borderline-pg || return 1
    borderline_pg_owner=borderline-pg
  fi
}

# True when nothing listens on 127.0.0.1:$1.
borderline_pg_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

borderline_pg_stop() {
  [ -n "${borderline_pg_dir:-}" ] || return 0
  if [ -f "$borderline_pg_dir/data/postmaster.pid" ]; then
    borderline_pg_as_owner "$borderline_pg_bin/pg_ctl" -D "$borderline_pg_dir/data" \
      -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$borderline_pg_dir"
  borderline_pg_dir=""
}

borderline_pg_start() {
  borderline_pg_install || return 1
  borderline_pg_choose_owner || borderline_pg_fail "cannot create a non-root user for the server" || return 1
  borderline_pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/borderline-pg.XXXXXX") || return 1
  # Chain our cleanup before any EXIT trap already set (trap -p prints it shell-quoted).
  local previous=()
  eval "previous=( $(trap -p EXIT) )"
  borderline_pg_previous_trap=${previous[2]:-}
  trap 'borderline_pg_stop; eval "$borderline_pg_previous_trap"' EXIT
  # A signal ends the shell through `exit`, so the EXIT trap runs.
  [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
  [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM

  if [ -n "$borderline_pg_owner" ]; then
    chown "$borderline_pg_owner" "$borderline_pg_dir" || return 1
  fi
  borderline_pg_as_owner "$borderline_pg_bin/initdb" -D "$borderline_pg_dir/data" \
    -U borderline --auth=trust --encoding=UTF8 --locale=C --no-sync \
    >"$borderline_pg_dir/initdb.log" 2>&1 ||
    { cat "$borderline_pg_dir/initdb.log" >&2; borderline_pg_fail "initdb failed"; return 1; }

  # The settings live in the cluster's configuration (the last line for a key wins), so that a
  # plain `pg_ctl start` (the fault tests restart the server) brings the same server back.
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$borderline_pg_dir'"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "max_connections = 200"
  } >>"$borderline_pg_dir/data/postgresql.conf"
  local attempt port started=""
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    borderline_pg_port_free "$port" || continue
    echo "port = $port" >>"$borderline_pg_dir/data/postgresql.conf"
    if borderline_pg_as_owner "$borderline_pg_bin/pg_ctl" -D "$borderline_pg_dir/data" \
      -l "$borderline_pg_dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      started=yes
      break
    fi
  done
  if [ -z "$started" ]; then
    cat "$borderline_pg_dir/server.log" >&2 2>/dev/null
    borderline_pg_fail "the PostgreSQL server did not start (attempt $attempt)"
    return 1
  fi
  "$borderline_pg_bin/createdb" -h 127.0.0.1 -p "$port" -U borderline borderline_test ||
    { borderline_pg_fail "createdb failed"; return 1; }
  export BORDERLINE_TEST_POSTGRES="postgresql://borderline@127.0.0.1:$port/borderline_test"
  # For the fault tests, which stop and start this server: its pg_ctl, data directory and
  # the system user that runs it (empty: the current user).
  export BORDERLINE_TEST_POSTGRES_CTL="$borderline_pg_bin/pg_ctl"
  export BORDERLINE_TEST_POSTGRES_DATA="$borderline_pg_dir/data"
  export BORDERLINE_TEST_POSTGRES_OWNER="$borderline_pg_owner"
  echo "postgres.sh: PostgreSQL 15 on 127.0.0.1:$port in $borderline_pg_dir (BORDERLINE_TEST_POSTGRES set)" >&2
}

borderline_pg_start || { borderline_pg_stop; return 1; }
