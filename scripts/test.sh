#!/usr/bin/env bash
# One command: install what is missing, build with warnings as errors, run every test, then
# build again under AddressSanitizer + UndefinedBehaviorSanitizer and run every test again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
jobs="$(nproc)"

# Tests also need Prometheus' promtool (to check /metrics output).
if ! command -v promtool >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
fi

echo "== Release build (-Werror)"
scripts/setup.sh build-ci -DBARERTC_WERROR=ON
echo "== Tests"
ctest --test-dir build-ci --output-on-failure -j "$jobs"

echo "== ASan + UBSan build"
scripts/setup.sh build-asan -DBARERTC_WERROR=ON -DBARERTC_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== Tests under sanitizers"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"
