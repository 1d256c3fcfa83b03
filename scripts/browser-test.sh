#!/usr/bin/env bash
# Browser tests: headless Chromium (Debian's package, driven by playwright-core) uses the chat
# page of a built server: chat, DMs, pictures, WebRTC video, boot/block, reconnects.
# Usage: scripts/browser-test.sh [build-dir]   (default build-ci; the server is <build-dir>/barertc)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${1:-build-ci}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
if [ ! -x "$build_dir/barertc" ]; then
  echo "browser-test: $build_dir/barertc not found; build the server first" >&2
  exit 2
fi

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

npm_ci() { (cd "$1" && npm ci --no-audit --no-fund --loglevel=error); }
npm_ci "$root/web"
(cd "$root/web" && npm run --silent build)
npm_ci "$root/tests/browser"

cd "$root/tests/browser"
BARERTC_BINARY="$build_dir/barertc" timeout 300 node --test --test-concurrency=1 chat.test.mjs
