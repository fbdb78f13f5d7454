#!/usr/bin/env bash
# workers.sh BUILD - --workers N changes no byte of output (issue 15.1). For every line of
# tests/pcaps.list (its key log and flags) and every capture in pcaps/ alone, runs
# BUILD/walletwatch with --workers 1, 2 and 4 and compares, byte for byte, standard output
# (--format jsonl; --format text with -o FILE), the -o file and the exit status. pcapng inputs
# run on one thread whatever N (their DSBs may bring keys late), so each one is also run
# converted to classic pcap (tests/tools/pcapng2pcap.py) to exercise the sharded path on it.
# Then the bench capture (BUILD/tools/mkbench, WW_WORKERS_MB MB, default 50, made in a
# scratch directory), N=1 against N=4. One check per capture; last line "N passed, N failed".
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BIN=$BUILD/walletwatch
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

run() { # dir N args...: stdout (jsonl), -o file + text stdout, exit statuses
    local d=$1 n=$2
    shift 2
    mkdir -p "$d"
    "$BIN" "$@" --workers "$n" --format jsonl >"$d/jsonl.$n" 2>/dev/null </dev/null
    echo "jsonl rc $?" >"$d/rc.$n"
    "$BIN" "$@" --workers "$n" -o "$d/o.$n" --format text >"$d/text.$n" 2>/dev/null </dev/null
    echo "text rc $?" >>"$d/rc.$n"
}

check() { # name args...: N=1 against 2 and 4
    local name=$1
    shift
    local d=$TMP/$name ok=1
    run "$d" 1 "$@"
    for n in ${WW_WORKERS_N:-2 4}; do
        run "$d" "$n" "$@"
        for f in jsonl text o rc; do
            if ! cmp -s "$d/$f.1" "$d/$f.$n"; then
                ok=0
                echo "FAIL $name: --workers $n: $f differs from --workers 1"
                diff "$d/$f.1" "$d/$f.$n" | head -n 6 | sed 's/^/    /'
            fi
        done
    done
    if [ "$ok" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    rm -rf "$d"
}

# a pcapng as classic pcap (the sharded path); empty when it cannot be converted
as_pcap() {
    local out
    out=$TMP/conv-$(basename "$1").pcap
    [ -f "$out" ] || python3 tests/tools/pcapng2pcap.py "$1" "$out" >/dev/null 2>&1 || return
    echo "$out"
}

if [ ! -x "$BIN" ]; then
    echo "workers: $BIN not built (make)"
    echo "0 passed, 1 failed"
    exit 1
fi
while read -r name pcap keylog _expected flags; do
    case $name in '' | '#'*) continue ;; esac
    args=()
    [ "$keylog" != "-" ] && args+=(-k "pcaps/$keylog")
    # shellcheck disable=SC2206  # flags are split on blanks on purpose
    [ -n "${flags:-}" ] && args+=($flags)
    check "list-$name" -r "pcaps/$pcap" "${args[@]}"
    case $pcap in
    *.pcapng)
        conv=$(as_pcap "pcaps/$pcap")
        [ -n "$conv" ] && check "list-$name-as-pcap" -r "$conv" "${args[@]}"
        ;;
    esac
done <tests/pcaps.list
for p in pcaps/*.pcap pcaps/*.pcapng; do
    [ -f "$p" ] || continue
    check "file-$(basename "$p")" -r "$p"
    case $p in
    *.pcapng)
        conv=$(as_pcap "$p")
        [ -n "$conv" ] && check "file-$(basename "$p")-as-pcap" -r "$conv"
        ;;
    esac
done
# several inputs, one timeline
check "multi-input" -r pcaps/http1-hijack.pcap -r pcaps/tls13-hijack.pcap \
    -k pcaps/tls13-hijack.keys -r pcaps/http1-lookalike.pcap

# the bench capture: many flows, every worker busy
MK=$BUILD/tools/mkbench
if [ -x "$MK" ]; then
    if "$MK" "$TMP/bench.pcap" "${WW_WORKERS_MB:-50}" >/dev/null 2>&1; then
        WW_WORKERS_N=4 check "bench-${WW_WORKERS_MB:-50}MB" -r "$TMP/bench.pcap"
        rm -f "$TMP/bench.pcap"
    else
        echo "FAIL bench: $MK could not make the capture"
        failed=$((failed + 1))
    fi
else
    echo "SKIP bench: $MK not built (make tests-build)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
