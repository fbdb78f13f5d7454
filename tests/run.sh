#!/usr/bin/env bash
# The whole suite: unit test binaries, fuzz-input replay, golden pcaps, CLI and corpus
# conformance scripts. Each part prints "N passed, N failed"; this sums them and ends with
# that line. Exit status is nonzero when anything failed.
set -u
BUILD=${1:-build}
export LC_ALL=C
export WW_BIN="$BUILD/walletwatch"
export WW_BUILD="$BUILD"
export WW_SHARED=${WW_SHARED:-../shared}
passed=0
failed=0
skipped=0
logdir="$BUILD/test-logs"
mkdir -p "$logdir"

tally() { # name, log file, exit status
    local name=$1 log=$2 rc=$3 line p f s
    line=$(grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "  $name: no result line (exit $rc)"; tail -n 20 "$log" | sed 's/^/    /'
        failed=$((failed + 1)); return
    fi
    p=$(sed -E 's/^([A-Za-z_-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
    f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
    s=0; [[ $line =~ ([0-9]+)\ skipped ]] && s=${BASH_REMATCH[1]}
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$f" -ne 0 ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
        [ "$f" -eq 0 ] && failed=$((failed + 1))
        echo "  $name: $line (exit $rc)"
        grep -E '^(FAIL|SKIP)|ERROR|Sanitizer|runtime error' "$log" | head -n 40 | sed 's/^/    /'
    else
        echo "  $name: $line"
        local ns
        ns=$(grep -c '^SKIP' "$log")
        if [ "$ns" -gt 8 ]; then
            grep -E '^SKIP' "$log" | head -n 3 | sed 's/^/    /'
            echo "    ... $((ns - 3)) more SKIP lines in $log"
        else
            grep -E '^SKIP' "$log" | sed 's/^/    /'
        fi
    fi
}

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    "$t" >"$logdir/$n.log" 2>&1; rc=$?
    tally "$n" "$logdir/$n.log" $rc
done

echo "== fuzz targets: replay of saved inputs (tests/corpus/)"
for f in "$BUILD"/fuzz-replay/fuzz_*; do
    [ -x "$f" ] || continue
    n=$(basename "$f")
    if [ ! -d "tests/corpus/$n" ]; then
        echo "  $n: no saved inputs in tests/corpus/$n"; failed=$((failed + 1)); continue
    fi
    if "$f" "tests/corpus/$n" >"$logdir/$n.log" 2>&1; then
        passed=$((passed + 1)); echo "  $n: $(tail -n 1 "$logdir/$n.log")"
    else
        failed=$((failed + 1)); echo "  $n: FAILED"; tail -n 20 "$logdir/$n.log" | sed 's/^/    /'
    fi
done

for s in tests/cli.sh tests/golden.sh tests/formats.sh tests/evidence.sh tests/live.sh tests/redis.sh \
    tests/workers.sh; do
    [ -f "$s" ] || continue
    n=$(basename "$s" .sh)
    echo "== $n"
    bash "$s" "$BUILD" >"$logdir/$n.log" 2>&1; rc=$?
    tally "$n" "$logdir/$n.log" $rc
done
for s in tests/conformance_*.py; do
    [ -f "$s" ] || continue
    n=$(basename "$s" .py)
    echo "== $n"
    python3 "$s" >"$logdir/$n.log" 2>&1; rc=$?
    tally "$n" "$logdir/$n.log" $rc
done

echo "(logs in $logdir)"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
