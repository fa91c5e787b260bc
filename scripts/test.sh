#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the default build
# (unit, fuzz-corpus replay, lint and integration tests), then the whole
# suite again under AddressSanitizer and UndefinedBehaviorSanitizer, then
# the libFuzzer targets (clang), each run briefly from its corpus.
#
#   scripts/test.sh                        everything
#   WARDEN_SKIP_ASAN=1 scripts/test.sh     without the sanitizer build
#   WARDEN_SKIP_FUZZ=1 scripts/test.sh     without the fuzz build
#   WARDEN_FUZZ_SECONDS=60 scripts/test.sh longer fuzz runs (default 10 s)
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

# Every fuzz target runs for a few seconds from the checked-in corpus; new
# inputs and any crash reproducer go to a scratch directory, never into
# the repository.
run_fuzz() {
  local seconds=${WARDEN_FUZZ_SECONDS:-10}
  echo "== fuzz: configure and build"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j"$(nproc)"
  local scratch
  scratch=$(mktemp -d /tmp/warden-fuzz-XXXXXX)
  local failed=0 count=0
  while IFS= read -r bin; do
    local name=${bin##*/fuzz_}
    mkdir -p "$scratch/$name"
    count=$((count + 1))
    if "$bin" "$scratch/$name" "fuzz/corpus/$name" \
        -max_total_time="$seconds" -artifact_prefix="$scratch/$name-" \
        >"$scratch/$name.log" 2>&1; then
      echo "fuzz $name: ok ($(grep -c '' "$scratch/$name.log") log lines)"
    else
      echo "fuzz $name: FAILED; reproducer and log in $scratch"
      tail -40 "$scratch/$name.log"
      failed=1
    fi
  done < <(find build/fuzz/src -type f -name 'fuzz_*' -perm -u+x | sort)
  if ((count == 0)); then
    echo "fuzz: no targets were built"
    return 1
  fi
  if ((failed)); then return 1; fi
  rm -rf "$scratch"
  echo "fuzz: $count targets, ${seconds} s each"
}

run_preset default
if [[ "${WARDEN_SKIP_ASAN:-0}" != "1" ]]; then
  run_preset asan
fi
if [[ "${WARDEN_SKIP_FUZZ:-0}" != "1" ]]; then
  run_fuzz
fi
