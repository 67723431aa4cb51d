#!/usr/bin/env bash
# Installs what building Borderline needs beyond Rust, on a machine that has only the Rust
# toolchain, gcc, Python 3 with pip and git:
#   - CMake >= 3.28 (PyPI): builds LightGBM from source for the training crate (lightgbm3-sys).
#     Debian's CMake is 3.25, too old for LightGBM 4.7.
#   - libclang-dev (Debian): bindgen loads the C library libclang.so to generate LightGBM's
#     bindings. A fresh machine has libclang-cpp (the C++ library), which bindgen cannot use, so
#     we check the package status and the exact file bindgen loads, never a glob.
#   - libgomp (OpenMP, with gcc on Debian): LightGBM trains on several threads.
# Idempotent and quiet when everything is already there. Sourcing-safe: exports PATH so that a
# pip-installed cmake is found by the cargo build that follows.
set -euo pipefail

cmake_ok() {
  command -v cmake >/dev/null 2>&1 || return 1
  local v major minor
  v=$(cmake --version | head -n1 | grep -Eo '[0-9]+\.[0-9]+' | head -n1)
  major=${v%%.*}; minor=${v#*.}
  [ "$major" -gt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -ge 28 ]; }
}

if ! cmake_ok; then
  echo "setup: installing CMake >= 3.28 (pip)" >&2
  python3 -m pip install --quiet --disable-pip-version-check 'cmake>=3.28'
  hash -r
  if ! cmake_ok; then
    # pip may install scripts outside PATH (user site, pyenv without shims).
    bindir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
    userbin=$(python3 -c 'import site, os; print(os.path.join(site.getuserbase(), "bin"))')
    export PATH="$bindir:$userbin:$PATH"
    hash -r
    cmake_ok || { echo "setup: CMake >= 3.28 not found after pip install" >&2; exit 1; }
  fi
fi

libclang_ok() {
  dpkg -s libclang-dev >/dev/null 2>&1 && return 0
  if [ -n "${LIBCLANG_PATH:-}" ] && [ -e "$LIBCLANG_PATH/libclang.so" ]; then return 0; fi
  return 1
}

if ! libclang_ok; then
  echo "setup: installing libclang-dev (apt)" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libclang-dev >/dev/null
  dpkg -s libclang-dev >/dev/null 2>&1 || { echo "setup: libclang-dev did not install" >&2; exit 1; }
fi

# OpenMP for LightGBM's threads (lightgbm3's `openmp` feature: compiled with -fopenmp, linked
# with -lgomp). gcc finds omp.h and the link-time libgomp.so in its own directory; on Debian both
# come from libgcc-N-dev, which gcc-N depends on (so any machine with gcc has them), and the
# runtime libgomp.so.1 from libgomp1, which libgcc-N-dev depends on. Checked by the exact file
# the linker loads.
gomp_ok() { [ "$(gcc -print-file-name=libgomp.so)" != "libgomp.so" ]; }
if ! gomp_ok; then
  pkg="libgcc-$(gcc -dumpversion | cut -d. -f1)-dev"
  echo "setup: installing $pkg for OpenMP (apt)" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$pkg" >/dev/null
  gomp_ok || { echo "setup: libgomp.so not found after installing $pkg" >&2; exit 1; }
fi
