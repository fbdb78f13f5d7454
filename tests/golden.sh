#!/usr/bin/env bash
# golden.sh BUILD - golden-capture regression check (tcpdump TESTLIST style).
#
# For each line of tests/pcaps.list (name pcap keylog|- expected.jsonl [flags...], paths
# relative to pcaps/) runs
#     BUILD/walletwatch -r pcaps/PCAP [-k pcaps/KEYLOG] -o BUILD/golden/NAME.jsonl FLAGS
# (text output to BUILD/golden/NAME.log) and hands the JSON-lines output, the expected file
# and the exit status to tests/golden.py, which compares the alert events with the expected
# ones as a multiset and checks the exit status (1 when a critical/high alert is expected,
# 0 otherwise). One check per capture; the last line is "N passed, N failed".
# Deterministic: LC_ALL=C, TZ=UTC; no network, no state outside BUILD/golden.
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BIN=$BUILD/walletwatch
OUT=$BUILD/golden
mkdir -p "$OUT"
passed=0
failed=0
if [ ! -x "$BIN" ]; then
    echo "golden: $BIN not built (make)" >&2
fi
while read -r name pcap keylog expected flags; do
    case $name in ''|'#'*) continue ;; esac
    out=$OUT/$name.jsonl
    log=$OUT/$name.log
    rm -f "$out"
    args=(-r "pcaps/$pcap")
    [ "$keylog" != "-" ] && args+=(-k "pcaps/$keylog")
    args+=(-o "$out" --truncate)
    # shellcheck disable=SC2206  # flags are split on blanks on purpose
    [ -n "${flags:-}" ] && args+=($flags)
    if [ -x "$BIN" ]; then
        "$BIN" "${args[@]}" >"$log" 2>&1 </dev/null
        rc=$?
    else
        echo "walletwatch binary missing: $BIN" >"$log"
        rc=127
    fi
    if python3 tests/golden.py --name "$name" --rc "$rc" --log "$log" \
        --cmd "walletwatch ${args[*]}" "$out" "pcaps/$expected"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done <tests/pcaps.list
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
