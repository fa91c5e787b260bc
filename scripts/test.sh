#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the default build
# (unit, fuzz-corpus replay, lint and integration tests), then the whole
# suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/test.sh            everything
#   WARDEN_SKIP_ASAN=1 scripts/test.sh   default build only
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

run_preset() {
  local preset=$1
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$(nproc)"
  echo "== $preset: test"
  ctest --preset "$preset"
}

run_preset default
if [[ "${WARDEN_SKIP_ASAN:-0}" != "1" ]]; then
  run_preset asan
fi
