#!/usr/bin/env bash
# One command: install what is missing, then
#   1. build with warnings as errors (Release) and run the unit and end-to-end tests;
#   2. run the chat page's browser tests (headless Chromium) against that build;
#   3. a short soak (mixed load; fails on any lost message);
#   4. build the server and the unit tests again under AddressSanitizer +
#      UndefinedBehaviorSanitizer and run every unit and end-to-end test against them;
#   5. the threaded tests under ThreadSanitizer (TSan server, threaded unit tests);
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

stage "ASan + UBSan build (server and unit tests)"
# -O1 -g1: instrumented Beast code compiles in less than half the time of -O2 -g, and the
# reports still carry function names and line numbers. The end-to-end tests are clients of the
# server: the ones built above drive the sanitized server (BARERTC_E2E_BINARY).
cmake -S . -B build-asan -G Ninja -DBARERTC_WERROR=ON -DBARERTC_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null
ninja -C build-asan barertc unit_tests
stage "Tests under ASan + UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build-asan/unit_tests --gtest_brief=1
BARERTC_E2E_BINARY="$root/build-asan/barertc" BARERTC_E2E_SANITIZED=1 \
  ctest --test-dir build-ci -R 'E2E\.' --output-on-failure -j "$jobs"
unset ASAN_OPTIONS UBSAN_OPTIONS

stage "ThreadSanitizer"
scripts/tsan.sh build-tsan

stage "Fuzz targets (10 s each)"
FUZZ_SEED=1 scripts/fuzz.sh 10 build-fuzz

stage "All passed"
