#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang, ASan+UBSan) and runs each one for a while on a
# temporary copy of its seed corpus (fuzz/corpus/<name>/, never modified), with its dictionary
# (fuzz/dict/<name>.dict). Prints the number of executions per target; exits non-zero if any
# target crashes, hangs, leaks or runs out of memory (the input is kept under
# <build-dir>/fuzz-artifacts/ and the log's tail is printed).
#
#   scripts/fuzz.sh [seconds-per-target (10)] [build-dir (build-fuzz)]
#
# Environment: FUZZ_SEED (libFuzzer's -seed; scripts/test.sh fixes it so that CI's short run
# mutates the same way every time, and a new finding comes from a code change, not from luck),
# JOBS (ninja parallelism, 2), FUZZ_TARGETS (space-separated names such as
# "room jwt" to run only those), FUZZ_KEEP_CORPUS=dir (copy the grown corpora there).
set -euo pipefail

seconds="${1:-10}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${2:-build-fuzz}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
jobs="${JOBS:-2}"

# The largest input each target is given: big enough for every interesting shape (a settings
# file, a few dozen room events, a small image), small enough to keep executions fast.
declare -A max_len=(
    [client_message]=4096 [room]=4096 [settings]=8192 [jwt]=2048
    [web_api]=4096 [image]=16384 [markdown]=4096
)
names="${FUZZ_TARGETS:-client_message room settings jwt web_api image markdown}"

have_libfuzzer() {
    command -v clang++ >/dev/null 2>&1 || return 1
    local probe
    probe="$(mktemp -d)"
    echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
        >"$probe/p.cpp"
    clang++ -fsanitize=fuzzer,address "$probe/p.cpp" -o "$probe/p" >/dev/null 2>&1
    local rc=$?
    rm -rf "$probe"
    return $rc
}
if ! have_libfuzzer; then
    echo "fuzz.sh: installing clang and libFuzzer" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get install -y clang libclang-rt-14-dev >&2 ||
        { $sudo apt-get update >&2 && $sudo apt-get install -y clang libclang-rt-14-dev >&2; }
    have_libfuzzer || { echo "fuzz.sh: clang cannot link -fsanitize=fuzzer" >&2; exit 2; }
fi

if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBARERTC_FUZZ=ON >/dev/null
fi
targets=()
for n in $names; do targets+=("fuzz_$n"); done
ninja -C "$build" -j "$jobs" "${targets[@]}" >"$build/fuzz-build.log" 2>&1 ||
    { tail -50 "$build/fuzz-build.log" >&2; exit 2; }

artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A smaller quarantine and shorter allocation stacks: faster, and RSS stays well under
# -rss_limit_mb in long runs (the default 256 MiB quarantine alone grows RSS past 1 GiB).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=32:malloc_context_size=8}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export VIPS_CONCURRENCY=1
export TZ=UTC

failed=0
printf '%-16s %12s %10s  %s\n' target executions exec/s result
for n in $names; do
    corpus="$work/$n"
    mkdir -p "$corpus"
    cp "$root/fuzz/corpus/$n/"* "$corpus/" 2>/dev/null || true
    dict=()
    [ -f "$root/fuzz/dict/$n.dict" ] && dict=("-dict=$root/fuzz/dict/$n.dict")
    log="$work/$n.log"
    rc=0
    seed=()
    [ -n "${FUZZ_SEED:-}" ] && seed=("-seed=$FUZZ_SEED")
    "$build/fuzz/fuzz_$n" "$corpus" "${dict[@]}" "${seed[@]}" -max_total_time="$seconds" \
        -max_len="${max_len[$n]:-4096}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -close_fd_mask=1 -artifact_prefix="$artifacts/$n-" >"$log" 2>&1 || rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    if [ "$rc" -ne 0 ]; then
        failed=1
        printf '%-16s %12s %10s  %s\n' "$n" "${execs:-?}" "${rate:-?}" "FAILED (exit $rc)"
        grep -E 'ERROR|SUMMARY|Test unit written|runtime error' "$log" | head -10 >&2 || true
        tail -40 "$log" >&2
        cp "$log" "$artifacts/$n.log"
    else
        printf '%-16s %12s %10s  %s\n' "$n" "${execs:-?}" "${rate:-?}" ok
    fi
    if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
        mkdir -p "$FUZZ_KEEP_CORPUS/$n" && cp "$corpus/"* "$FUZZ_KEEP_CORPUS/$n/" 2>/dev/null || true
    fi
done
exit "$failed"
