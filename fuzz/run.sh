#!/usr/bin/env bash
# Fuzz every htrac target for SECONDS each (default 60), seeded from
# fuzz/seeds/<target>/, and print libFuzzer's final counts.
#
#   fuzz/run.sh [SECONDS] [TARGET...]        (make fuzz == fuzz/run.sh $FUZZ_SECONDS)
#
# Environment:
#   FUZZ_SANITIZER     none (default) or address (ASan; slower)
#   FUZZ_JOBS          parallel libFuzzer workers per target (default 1)
#   FUZZ_RUNS          stop each target after this many executions (libFuzzer
#                      -runs), or at SECONDS, whichever comes first
#   FUZZ_MAX_LEN       cap on input size (libFuzzer -max_len)
#   FUZZ_NO_TRACE_CMP  1: build without -sanitizer-coverage-trace-compares
#                      (about twice the exec/s for the structured targets,
#                      whose inputs are drawn through `arbitrary`; coverage
#                      is then edges only). Built in fuzz/target/notc/.
#
# Works on stable Rust: cargo-fuzz's instrumentation flags are stable with
# --sanitizer none, and RUSTC_BOOTSTRAP=1 unlocks -Zsanitizer for ASan. It is
# set for every build so switching between the two does not rebuild the world.
#
# Exit status: 0 when no target found anything, 1 otherwise (the failing
# inputs are in fuzz/artifacts/<target>/, full logs in fuzz/target/logs/).
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
case $secs in
    '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
sanitizer=${FUZZ_SANITIZER:-none}
jobs=${FUZZ_JOBS:-1}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || exit 1
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

build=(--sanitizer "$sanitizer")
if [ "${FUZZ_NO_TRACE_CMP:-0}" = 1 ]; then
    build+=(--no-trace-compares --target-dir "$PWD/fuzz/target/notc")
fi

echo "== building ${targets[*]} (${build[*]})"
cargo fuzz build "${build[@]}" || exit 1

mkdir -p fuzz/target/logs
failed=()
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    corpora=("fuzz/corpus/$t")
    [ -d "fuzz/seeds/$t" ] && corpora+=("fuzz/seeds/$t")
    args=(-max_total_time="$secs" -timeout=10 -print_final_stats=1)
    [ -f "fuzz/dicts/$t.dict" ] && args+=(-dict="fuzz/dicts/$t.dict")
    [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
    [ -n "${FUZZ_MAX_LEN:-}" ] && args+=(-max_len="$FUZZ_MAX_LEN")
    if [ "$jobs" -gt 1 ]; then
        args+=(-fork="$jobs")
    fi
    log="fuzz/target/logs/$t.log"
    echo
    echo "== $t: ${secs}s, corpus ${corpora[*]}"
    cargo fuzz run "${build[@]}" "$t" "${corpora[@]}" -- "${args[@]}" >"$log" 2>&1
    rc=$?
    # libFuzzer's own summary lines: start, end, and the final stats.
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|^Done [0-9]+ runs' "$log"
    # -fork mode has no DONE line: show its last progress line instead.
    [ "$jobs" -gt 1 ] && grep -E '^#[0-9]+: cov:' "$log" | tail -1
    if [ $rc -ne 0 ]; then
        failed+=("$t")
        echo "!! $t FAILED (exit $rc); full log: $log"
        # Last progress line before the crash, the panic, and the artifact.
        grep -E '^#[0-9]+' "$log" | tail -1
        grep -m1 -A6 -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer' "$log" | cut -c1-300
        grep -E 'Test unit written to|Reproduce with|cargo fuzz (run|tmin) ' "$log" | sed 's/^[[:space:]]*/   /'
    fi
done

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "== findings in: ${failed[*]} (see fuzz/artifacts/ and fuzz/README.md)"
    exit 1
fi
echo "== no findings"
