#!/usr/bin/env bash
# Builds the server and the tests with ThreadSanitizer (gcc, BARERTC_TSAN) and runs the tests
# that exercise threads: the unit tests of the outbox (shared between the room's strand and a
# connection's writer), the DM-history writer thread, the webhook client's I/O thread and the
# who-list pacer, then a handful of end-to-end tests against the TSan-built server running
# with --threads 2 (so connections really are served by two I/O threads besides the image,
# blocking-work and frame-parsing pools). Any data race fails the run (halt_on_error=1); the
# server's reports are written to <build-dir>/tsan-logs/ and printed.
#
#   scripts/tsan.sh [build-dir (build-tsan)]
#
# Environment: JOBS (ninja parallelism, 2), TSAN_UNIT_FILTER / TSAN_E2E_FILTER (gtest filters
# replacing the defaults below).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-build-tsan}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
jobs="${JOBS:-2}"

unit_filter="${TSAN_UNIT_FILTER:-Outbox*:DmHistoryTest.*:WebhookClient*:WhoListPacer*}"
e2e_filter="${TSAN_E2E_FILTER:-$(
    tr -d ' \n' <<'LIST'
ChatE2E.PublicMessageReachesEveryoneWithConsecutiveIds:
ChatE2E.DirectMessagesGoToRecipientAndEchoToSender:
ProtocolE2E.SharedImageArrivesAsTheExactImgTag:
ProtocolE2E.OperatorKicksAndBans:
HistoryE2E.StoredPagedListedAndDurableAcrossGracefulRestart:
HistoryE2E.TakebackRemovesStoredDm:
WebhookE2E.ReportIsPostedAndTheReporterToldTheOutcome:
WebhookE2E.SlowReportDoesNotDelayChat:
AdminApiE2E.DisconnectNow:
SettingsE2E.ReconfigureAndSighupReloadTheFile:
PollE2E.ChatsBothWaysWithAWebSocketUser:
HostileE2E.FlooderGetsNoticesAndOnlyItsAllowanceIsDelivered:
HostileE2E.ClientThatNeverReadsIsDroppedWhileOthersGetEverything:
AdminApiE2E.ShutdownExitsWithStatusOne:
AdminApiE2E.BlockNow:
ApiE2E.StatisticsCountsLoggedInUsersAndCameras:
RobustnessE2E.SigtermNotifiesUsersAndExitsCleanly
LIST
)}"

start=$(date +%s)
if [ ! -f "$build/build.ninja" ]; then
    launcher=()
    command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # -O1 -g1: quick to compile, line numbers in the reports, fast enough to run.
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DBARERTC_TSAN=ON "${launcher[@]}" >/dev/null
fi
# Only the server and the threaded unit tests are built with TSan. The e2e tests are clients of
# the server under test: an e2e_tests program from another build of this tree
# (TSAN_E2E_TESTS, default build-ci/e2e_tests when scripts/test.sh has built it) drives the TSan
# server just as well, and saves compiling every e2e test again.
e2e_tests="${TSAN_E2E_TESTS:-$root/build-ci/e2e_tests}"
targets=(threaded_unit_tests barertc)
if [ ! -x "$e2e_tests" ]; then
    e2e_tests="$build/e2e_tests"
    targets+=(e2e_tests)
fi
ninja -C "$build" -j "$jobs" "${targets[@]}" >"$build/tsan-build.log" 2>&1 ||
    { tail -50 "$build/tsan-build.log" >&2; exit 2; }
built=$(date +%s)
echo "tsan.sh: built in $((built - start)) s"

logs="$build/tsan-logs"
rm -rf "$logs"
mkdir -p "$logs"
suppressions="$root/scripts/tsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$suppressions"
export TZ=UTC

# The e2e harness starts whatever BARERTC_E2E_BINARY names: a wrapper that runs the TSan
# server with two I/O threads and its reports going to files.
wrapper="$build/tsan-server.sh"
cat >"$wrapper" <<WRAP
#!/bin/sh
TSAN_OPTIONS="$TSAN_OPTIONS:log_path=$logs/server" exec "$build/barertc" "\$@" --threads 2
WRAP
chmod +x "$wrapper"

failed=0
echo "tsan.sh: unit tests ($unit_filter)"
"$build/threaded_unit_tests" --gtest_filter="$unit_filter" --gtest_brief=1 >"$logs/unit.log" 2>&1 ||
    { failed=1; tail -80 "$logs/unit.log" >&2; }
grep -E '^\[  (PASSED|FAILED)' "$logs/unit.log" || true

echo "tsan.sh: end-to-end tests against the TSan server with --threads 2"
BARERTC_E2E_BINARY="$wrapper" "$e2e_tests" --gtest_filter="$e2e_filter" --gtest_brief=1 \
    >"$logs/e2e.log" 2>&1 || { failed=1; tail -80 "$logs/e2e.log" >&2; }
grep -E '^\[  (PASSED|FAILED)' "$logs/e2e.log" || true

if ls "$logs"/server.* >/dev/null 2>&1; then
    failed=1
    echo "tsan.sh: ThreadSanitizer reports from the server:" >&2
    cat "$logs"/server.* >&2
fi
echo "tsan.sh: ran in $(($(date +%s) - built)) s; $([ $failed = 0 ] && echo 'no data races' || echo FAILED)"
exit "$failed"
