#!/usr/bin/env bash
# A soak run (issue 8, docs/security.md "Soak"): starts a fresh server in a temporary directory
# and runs `barertc_bench soak` against it: steady clients chatting in two channels, DMs, ~1 MB
# photos, client pings, and clients that keep joining and leaving, for the given time. The
# server's RSS is sampled every few seconds. Fails (exit 1) if a message was lost or
# duplicated, a client saw an error, or the server died or did not exit cleanly on SIGTERM.
#
# Usage: scripts/soak.sh [seconds=20] [build-dir=build]
# Environment:
#   SOAK_ARGS    extra generator options, e.g. "--clients 20 --rate 3 --sample-every 30"
#   SKIP_BUILD=1 use the binaries already in the build directory
#   NICE         niceness of the server and the generator (default 0)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-20}
BUILD_DIR=${2:-build}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$ROOT/$BUILD_DIR"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    if [ ! -f "$BUILD_DIR/build.ninja" ]; then
        cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    # barertc_bench is outside the default build (EXCLUDE_FROM_ALL): name it.
    ninja -C "$BUILD_DIR" barertc barertc_bench >/dev/null
fi
SERVER="$BUILD_DIR/barertc"
BENCH="$BUILD_DIR/bench/barertc_bench"
NICE=${NICE:-0}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/barertc-soak-XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

SECRET="soak-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
cat > "$WORK/settings.toml" <<TOML
Version = 17
Title = "BareRTC soak"
Branding = "BareRTC"
WebsiteURL = "https://www.example.com"
CORSHosts = ["https://www.example.com"]
AdminAPIKey = "soak-admin-key"
PermitNSFW = false
BlockableAdmins = false
UseXForwardedFor = false
WebSocketReadLimit = 41943040
WebSocketSendTimeout = 10
MaxImageWidth = 1280
PreviewImageWidth = 360

[JWT]
Enabled = true
Strict = false
SecretKey = "$SECRET"
LandingPageURL = ""

[[PublicChannels]]
ID = "lobby"
Name = "Lobby"
VIP = false
PermitPhotos = true
WelcomeMessages = ["Welcome to the chat server!"]
EchoMessagesOnJoin = 10

[[PublicChannels]]
ID = "offtopic"
Name = "Off Topic"
VIP = false
PermitPhotos = true
WelcomeMessages = ["Welcome to the Off Topic channel!"]
EchoMessagesOnJoin = 0

[DirectMessageHistory]
Enabled = false

[Logging]
Enabled = false
TOML
# Every [Limits] key keeps its default (the per-user rate limit included).

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(cd "$WORK" && exec nice -n "$NICE" "$SERVER" --address 127.0.0.1:0 >"$WORK/server.log" 2>&1) &
PID=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/^Listening on port \([0-9]*\)$/\1/p' "$WORK/server.log" 2>/dev/null | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "soak: the server did not start" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi

status=0
# shellcheck disable=SC2086
nice -n "$NICE" "$BENCH" soak --port "$PORT" --server-pid "$PID" --secret "$SECRET" \
    --duration "$DURATION" --progress ${SOAK_ARGS:-} || status=$?

if ! kill -0 "$PID" 2>/dev/null; then
    echo "soak: FAILED: the server died" >&2
    tail -20 "$WORK/server.log" >&2
    exit 1
fi
kill -TERM "$PID"
exit_code=0
wait "$PID" || exit_code=$?
PID=
if [ "$exit_code" != 0 ]; then
    echo "soak: FAILED: the server exited with status $exit_code after SIGTERM" >&2
    tail -20 "$WORK/server.log" >&2
    exit 1
fi
if [ "$status" != 0 ]; then
    echo "soak: FAILED (lost or duplicated messages, errors, or a dead server; see above)" >&2
    grep -E "\[(error|warning)\]" "$WORK/server.log" | tail -20 >&2 || true
    exit 1
fi
echo "soak: OK"
