#!/usr/bin/env bash
# workers.sh BUILD - --workers N changes no byte of output (issue 15.1). For every line of
# tests/pcaps.list (its key log and flags) and every capture in pcaps/ alone, runs
# BUILD/walletwatch with --workers 1, 2 and 4 and compares, byte for byte, standard output
# (--format jsonl; --format text with -o FILE and -w FILE --evidence-secrets), the -o file,
# the -w evidence (its packets and the key log it embeds) and the exit status. pcapng inputs
# (their DSBs may bring keys late: records wait, closed connections are parked) are sharded
# too; each one is also run converted to classic pcap (tests/tools/pcapng2pcap.py: no key can
# come late) and, when pcaps/NAME.keys exists, rewritten with its key log spread over DSBs
# before, during and after the connections (tests/tools/dsb_spread.py, two seeds, one key in
# five left out: late keys, parked connections retried, no-key at the end).
# Then the bench capture (BUILD/tools/mkbench, WW_WORKERS_MB MB, default 50, made in a
# scratch directory), N=1 against N=4, and against N=2 with --stats-interval. One check per
# capture; last line "N passed, N failed".
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
    "$BIN" "$@" --workers "$n" -o "$d/o.$n" -w "$d/w.$n" --evidence-secrets --format text >"$d/text.$n" 2>/dev/null </dev/null
    echo "text rc $?" >>"$d/rc.$n"
}

check() { # name args...: N=1 against 2 and 4
    local name=$1
    shift
    local d=$TMP/$name ok=1
    run "$d" 1 "$@"
    for n in ${WW_WORKERS_N:-2 4}; do
        run "$d" "$n" "$@"
        for f in jsonl text o w rc; do
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
        keys=${p%.pcapng}.keys
        if [ -f "$keys" ]; then
            for seed in 1 2; do
                sp=$TMP/spread-$seed-$(basename "$p")
                if python3 tests/tools/dsb_spread.py "$p" "$keys" "$sp" "$seed" --drop 5; then
                    check "file-$(basename "$p")-keys-spread-$seed" -r "$sp"
                else
                    echo "FAIL $p: dsb_spread.py"
                    failed=$((failed + 1))
                fi
                rm -f "$sp"
            done
        fi
        ;;
    esac
done
# several inputs, one timeline
check "multi-input" -r pcaps/http1-hijack.pcap -r pcaps/tls13-hijack.pcap \
    -k pcaps/tls13-hijack.keys -r pcaps/http1-lookalike.pcap
# --stats-interval: the stats events carry the counters as of the same packet whatever N;
# a classic pcap then pcapng inputs (keys may come late from the second input on), with
# late keys spread over DSBs
if python3 tests/tools/dsb_spread.py pcaps/dapp-sse-hijack.pcapng pcaps/dapp-sse-hijack.keys \
    "$TMP/si-sse.pcapng" 1 --drop 5 &&
    python3 tests/tools/dsb_spread.py pcaps/dapp-altsvc-hijack.pcapng \
        pcaps/dapp-altsvc-hijack.keys "$TMP/si-altsvc.pcapng" 3 --drop 5; then
    check "stats-interval-pcapng" -r pcaps/dapp-altsvc-hijack.pcapng --stats-interval 100ms
    check "stats-interval-multi-input" -r pcaps/http1-hijack.pcap -r "$TMP/si-sse.pcapng" \
        -r pcaps/tls13-hijack.pcap -k pcaps/tls13-hijack.keys -r "$TMP/si-altsvc.pcapng" \
        --stats-interval 1s
    # keys that come before packets the filter drops: retried after the next packet kept
    check "filter-spread-keys" -r "$TMP/si-altsvc.pcapng" -f 'udp or tcp[tcpflags] & tcp-push != 0'
else
    echo "FAIL stats-interval: dsb_spread.py"
    failed=$((failed + 1))
fi

# the bench capture: many flows, every worker busy
MK=$BUILD/tools/mkbench
if [ -x "$MK" ]; then
    if "$MK" "$TMP/bench.pcap" "${WW_WORKERS_MB:-50}" >/dev/null 2>&1; then
        WW_WORKERS_N=4 check "bench-${WW_WORKERS_MB:-50}MB" -r "$TMP/bench.pcap"
        WW_WORKERS_N=2 check "bench-${WW_WORKERS_MB:-50}MB-stats-interval" -r "$TMP/bench.pcap" \
            --stats-interval 200ms
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
