#!/usr/bin/env bash
# One command: install what is missing, then
#   1. build with warnings as errors (Release) and run the unit and end-to-end tests;
#   2. run the chat page's browser tests (headless Chromium) against that build;
#   3. a short soak (mixed load; fails on any lost message);
#   4. build again under AddressSanitizer + UndefinedBehaviorSanitizer and run every test again;
#   5. the threaded tests under ThreadSanitizer;
#   6. a short run of every libFuzzer target.
# Each stage prints how long it took.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
jobs="$(nproc)"
started=$SECONDS
stage_started=$SECONDS
stage() {
  echo "== $1   (previous stage $((SECONDS - stage_started)) s, total $((SECONDS - started)) s)"
  stage_started=$SECONDS
}

# Tests also need Prometheus' promtool (to check /metrics output).
if ! command -v promtool >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
fi

stage "Release build (-Werror)"
scripts/setup.sh build-ci -DBARERTC_WERROR=ON
stage "Tests"
ctest --test-dir build-ci --output-on-failure -j "$jobs"

stage "Browser tests (headless Chromium)"
scripts/browser-test.sh build-ci

stage "Soak (short)"
scripts/soak.sh 20 build-ci

stage "ASan + UBSan build"
# -O1 -g1: instrumented Beast code compiles in less than half the time of -O2 -g, and the
# reports still carry function names and line numbers.
scripts/setup.sh build-asan -DBARERTC_WERROR=ON -DBARERTC_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
stage "Tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

stage "ThreadSanitizer"
scripts/tsan.sh build-tsan

stage "Fuzz targets (10 s each)"
scripts/fuzz.sh 10 build-fuzz

stage "All passed"
