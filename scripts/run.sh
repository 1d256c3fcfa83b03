#!/usr/bin/env bash
# One command: install what is missing, build, and run the server in the current directory
# (settings.toml is written there on first run). Extra arguments go to the server,
# e.g. scripts/run.sh -address :8080 -debug
set -euo pipefail
here="$(pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" "$root/build"
cd "$here"
exec "$root/build/barertc" "$@"
