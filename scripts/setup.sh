#!/usr/bin/env bash
# Installs what building Borderline needs beyond Rust: CMake >= 3.28 and libclang, which the
# LightGBM bindings (lightgbm3-sys) use to build LightGBM from source. Idempotent and quiet
# when everything is already there.
set -euo pipefail

need_cmake=1
if command -v cmake >/dev/null 2>&1; then
  v=$(cmake --version | head -n1 | grep -Eo '[0-9]+\.[0-9]+' | head -n1)
  major=${v%%.*}; minor=${v#*.}
  if [ "$major" -gt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -ge 28 ]; }; then need_cmake=0; fi
fi
if [ "$need_cmake" -eq 1 ]; then
  echo "setup: installing CMake >= 3.28 (pip)" >&2
  python3 -m pip install --quiet --disable-pip-version-check 'cmake>=3.28'
  hash -r
fi

if ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 && ! ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; then
  echo "setup: installing libclang-dev (apt)" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libclang-dev >/dev/null
fi
