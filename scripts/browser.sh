# Sourced by scripts/test.sh (or by hand: `source scripts/browser.sh; cargo test -p
# borderline-server --test browser`): makes Debian's headless Chromium and its WebDriver
# available and exports BORDERLINE_TEST_CHROMEDRIVER (the chromedriver binary) and
# BORDERLINE_TEST_CHROMIUM (the browser binary) for the browser test; installs axe-core from the
# npm registry under target/axe-core/ and exports BORDERLINE_TEST_AXE (its axe.min.js), which the
# test puts into each page it checks (no page of the application references it).
#
# - Installs the Debian packages `chromium` and `chromium-driver` with apt-get when
#   `dpkg -s chromium` says they are missing (never a browser downloaded by a test tool).
# - Starts nothing itself: the test starts chromedriver on a free loopback port and the
#   browser headless with a fresh profile directory, and stops both.

borderline_browser_fail() {
  echo "browser.sh: $*" >&2
  return 1
}

borderline_browser_install() {
  if dpkg -s chromium >/dev/null 2>&1 && dpkg -s chromium-driver >/dev/null 2>&1; then
    return 0
  fi
  echo "browser.sh: installing chromium and chromium-driver (apt)" >&2
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { borderline_browser_fail "not root and no sudo: install chromium chromium-driver"; return 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq >/dev/null || { borderline_browser_fail "apt-get update failed"; return 1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >/dev/null || { borderline_browser_fail "apt-get install chromium chromium-driver failed"; return 1; }
}

borderline_axe_install() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/axe-core"
  BORDERLINE_TEST_AXE="$dir/node_modules/axe-core/axe.min.js"
  [ -f "$BORDERLINE_TEST_AXE" ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "browser.sh: installing npm (apt)" >&2
    local sudo=""
    [ "$(id -u)" != 0 ] && sudo="sudo"
    $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null \
      || { borderline_browser_fail "apt-get install npm failed"; return 1; }
  fi
  echo "browser.sh: installing axe-core from the npm registry into $dir" >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error axe-core@4 >/dev/null \
    || { borderline_browser_fail "npm install axe-core failed"; return 1; }
  [ -f "$BORDERLINE_TEST_AXE" ] || { borderline_browser_fail "no $BORDERLINE_TEST_AXE after npm install"; return 1; }
}

borderline_browser_install || return 1 2>/dev/null || exit 1
borderline_axe_install || return 1 2>/dev/null || exit 1
export BORDERLINE_TEST_AXE
BORDERLINE_TEST_CHROMEDRIVER=$(command -v chromedriver || echo /usr/bin/chromedriver)
BORDERLINE_TEST_CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)
[ -x "$BORDERLINE_TEST_CHROMEDRIVER" ] || { borderline_browser_fail "no chromedriver after install"; return 1 2>/dev/null || exit 1; }
export BORDERLINE_TEST_CHROMEDRIVER BORDERLINE_TEST_CHROMIUM
echo "browser.sh: chromedriver $BORDERLINE_TEST_CHROMEDRIVER, browser $BORDERLINE_TEST_CHROMIUM, axe-core $BORDERLINE_TEST_AXE" >&2
