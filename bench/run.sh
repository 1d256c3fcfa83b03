#!/usr/bin/env bash
# Runs the load scenarios of docs/performance.md. Every run gets a fresh server in a temporary
# directory; the generator prints one RESULT line (JSON) and one line for people per run, and at
# the end the medians per scenario are printed (MEDIAN lines).
#
# Usage: bench/run.sh [--repeat N] [scenario...]
#   scenarios: fanout fanout-big storm idle idle-19k images soak
#   default:   fanout fanout-big storm idle images   (idle-19k needs 'ulimit -Hn' >= 19500)
# Environment:
#   BUILD_DIR      build directory (default: build), built with scripts/setup.sh unless
#                  SKIP_BUILD=1
#   RESULTS        file that collects the RESULT lines (default: $BUILD_DIR/bench-results.jsonl,
#                  truncated at start)
#   SERVER_THREADS the server's --threads (default 1)
#   BENCH_THREADS  generator threads (default 1)
#   SERVER_WRAPPER command put in front of the server, e.g. "perf record -g -o /tmp/server.data"
#   BENCH_WRAPPER  the same for the generator
#   PIN            1 (default): server on CPU 0, generator on CPU 1 (taskset); 0: unpinned.
#                  The images scenario always runs unpinned: the server decodes images on a
#                  second thread, which must not be squeezed onto the chat thread's core.
#   QUIET_WAIT     seconds to wait before each run for the rest of the machine to be idle
#                  (default 60; 0 = do not wait). Results carry others_cpu_s either way.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

REPEAT=3
SCENARIOS=()
while (($#)); do
    case "$1" in
        --repeat) REPEAT=$2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) SCENARIOS+=("$1"); shift ;;
    esac
done
((${#SCENARIOS[@]})) || SCENARIOS=(fanout fanout-big storm idle images)

BUILD_DIR=${BUILD_DIR:-build}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$ROOT/$BUILD_DIR"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    # The whole project as scripts/setup.sh builds it; if something unrelated (a test being
    # edited) does not compile, the two binaries needed here are enough.
    # barertc_bench is outside the default build (EXCLUDE_FROM_ALL), so name it.
    if ! scripts/setup.sh "$BUILD_DIR" >/dev/null; then
        echo "!! the full build failed; building only barertc and barertc_bench" >&2
    fi
    ninja -C "$BUILD_DIR" barertc barertc_bench >/dev/null
fi
SERVER="$BUILD_DIR/barertc"
BENCH="$BUILD_DIR/bench/barertc_bench"
RESULTS=${RESULTS:-$BUILD_DIR/bench-results.jsonl}
SERVER_THREADS=${SERVER_THREADS:-1}
BENCH_THREADS=${BENCH_THREADS:-1}
: > "$RESULTS"

# Both the server (started from here) and the generator need a descriptor per connection.
ulimit -n "$(ulimit -Hn)"
SECRET="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

# The generator arguments of each scenario.
scenario_args() {
    case "$1" in
        # 200 clients, 20 of them send 10 messages/s for 10 s: 40,000 deliveries/s.
        fanout) echo "fanout --clients 200 --senders 20 --rate 10 --duration 10" ;;
        # 500 clients, 20 senders x 8/s: 80,000 deliveries/s.
        fanout-big) echo "fanout --clients 500 --senders 20 --rate 8 --duration 10" ;;
        # Starts 16.5 s after the server, when who lists are on (reboot grace, protocol.md §19).
        storm) echo "storm --clients 2000 --dials 64" ;;
        idle) echo "idle --clients 2000 --hold 10" ;;
        # Open but not logged in (a full who list for 19,000 users would be 1.5 MB per user),
        # held past the 30 s ping interval.
        idle-19k) echo "idle --clients 19000 --hold 35 --no-login" ;;
        # 200 clients chatting as in fanout; in the second 10 s a 1-3 MB photo every 2 s.
        images) echo "images --clients 200 --senders 20 --rate 10 --duration 10" \
            "--image-senders 4 --image-interval 2" ;;
        # Mixed load (chat in two channels, DMs, ~1 MB photos, pings, joins and leaves) for
        # SOAK_SECONDS (default 60), counting lost messages; scripts/soak.sh runs it alone.
        soak) echo "soak --duration ${SOAK_SECONDS:-60} --clients 12 --churners 4" ;;
        *) echo "unknown scenario: $1" >&2; return 1 ;;
    esac
}

write_settings() {
    cat > "$1/settings.toml" <<EOF
Version = 17
Title = "BareRTC bench"
Branding = "BareRTC"
WebsiteURL = "https://www.example.com"
CORSHosts = ["https://www.example.com"]
AdminAPIKey = "bench-admin-key"
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
WelcomeMessages = [
    "Welcome to the chat server!",
    "Please follow the basic rules:\n\n1. Have fun\n2. Be kind",
]
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

[Limits]
# The per-user chat rate limit would cap the senders; everything else is the default.
MessagesPerSecond = 0
WhoListDebounceMs = 50
EOF
}

pin_for() {
    SERVER_PIN=
    BENCH_PIN=
    if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && [ "$1" != images ] && [ "$1" != soak ]; then
        SERVER_PIN="taskset -c 0"
        BENCH_PIN="taskset -c 1"
    fi
}

# Busy and total jiffies of the whole machine.
cpu_jiffies() {
    local _ u n s i w irq sirq st
    read -r _ u n s i w irq sirq st _ < /proc/stat
    echo "$((u + n + s + irq + sirq)) $((u + n + s + i + w + irq + sirq + st))"
}

# Other processes' CPU slows both the server and the generator: wait until the machine is idle.
wait_quiet() {
    local limit=${QUIET_WAIT:-60} waited=0 b0 t0 b1 t1 pct
    ((limit > 0)) || return 0
    while :; do
        read -r b0 t0 < <(cpu_jiffies)
        sleep 1
        read -r b1 t1 < <(cpu_jiffies)
        pct=$((100 * (b1 - b0) / (t1 - t0 > 0 ? t1 - t0 : 1)))
        ((pct <= ${QUIET_MAX_BUSY:-10})) && return 0
        ((waited == 0)) && echo "waiting for the machine to be idle (${pct}% busy) ..." >&2
        waited=$((waited + 1))
        if ((waited >= limit)); then
            echo "!! the machine is still ${pct}% busy after ${limit} s; measuring anyway" >&2
            return 0
        fi
    done
}

SERVER_PID=
SERVER_DIR=
start_server() {
    SERVER_DIR=$(mktemp -d /tmp/barertc-bench-XXXXXX)
    write_settings "$SERVER_DIR"
    # shellcheck disable=SC2086
    (cd "$SERVER_DIR" && exec $SERVER_PIN ${SERVER_WRAPPER:-} "$SERVER" --address 127.0.0.1:0 \
        --settings settings.toml --threads "$SERVER_THREADS") >"$SERVER_DIR/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 150); do
        PORT=$(sed -n 's/^Listening on port \([0-9]*\)$/\1/p' "$SERVER_DIR/server.log")
        [ -n "$PORT" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "${PORT:-}" ]; then
        echo "server did not start:" >&2
        cat "$SERVER_DIR/server.log" >&2
        exit 1
    fi
    # With a wrapper (perf, valgrind) the measured process is the server, not the wrapper.
    MEASURED_PID=$(pgrep -P "$SERVER_PID" -x barertc || echo "$SERVER_PID")
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    if [ "${KEEP_SERVER_DIR:-0}" = 1 ]; then
        echo "server directory kept: $SERVER_DIR" >&2
    else
        rm -rf "$SERVER_DIR"
    fi
    SERVER_PID=
}
trap stop_server EXIT

status=0
for scenario in "${SCENARIOS[@]}"; do
    args=$(scenario_args "$scenario")
    for run in $(seq "$REPEAT"); do
        PORT=
        pin_for "$scenario"
        wait_quiet
        start_server
        echo "== $scenario run $run/$REPEAT: barertc_bench $args" >&2
        out=$(mktemp)
        # shellcheck disable=SC2086
        if ! $BENCH_PIN ${BENCH_WRAPPER:-} "$BENCH" $args --label "$scenario" --port "$PORT" \
            --server-pid "$MEASURED_PID" --secret "$SECRET" --threads "$BENCH_THREADS" \
            | tee "$out"; then
            echo "!! $scenario run $run did not reach its end condition" >&2
            status=1
        fi
        grep '^RESULT ' "$out" | sed 's/^RESULT //' >> "$RESULTS" || true
        rm -f "$out"
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "!! the server died during $scenario run $run:" >&2
            tail -20 "$SERVER_DIR/server.log" >&2
            status=1
        fi
        stop_server
    done
done

echo "== medians of $REPEAT runs ($RESULTS)"
"$BENCH" summarize "$RESULTS"
exit $status
