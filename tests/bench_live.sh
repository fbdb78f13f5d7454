#!/usr/bin/env bash
# bench_live.sh BUILD - live capture figures (run by `make bench` through tests/bench.sh).
#
#  1. Alert latency: pcaps/http1-hijack.pcap (rewritten to 127.0.0.x) is replayed with
#     tcpreplay onto lo while `walletwatch -i lo -v` runs; walletwatch measures, for each
#     alert, the time from the wallet-call packet's capture timestamp to the moment the alert
#     line was written and flushed (mean and max).
#  2. The cleartext twin of the browsing bench (tests/bench_browse.sh): the same sessions, HTTP
#     requests, bodies and wallet calls as BUILD/bench/browse-<MB>MB.pcap, without TLS (server
#     port 80), generated once by mkbench_tls --twin into BUILD/bench/browse-<MB>MB-twin.pcap
#     (WW_BENCH_MB, default 1100, as the browsing bench), or the file WW_LIVE_PCAP. It is replayed from the
#     file first (the reference: wallet calls, alerts), then onto lo with walletwatch -i lo at
#     default settings: once at --mbps=WW_BENCH_LIVE_MBPS (default 200), WW_BENCH_LIVE_RUNS
#     (default 3) times at --topspeed, then, when top speed had drops, a binary search over
#     --mbps (WW_BENCH_LIVE_STEPS steps, default 5) for the highest rate without; also once at
#     the issue's reference rate, WW_BENCH_LIVE_REF (default 1240 Mbit/s: the rate tcpreplay
#     --topspeed reached where it was set). Runs at a given rate use tcpreplay --timer=nano: its
#     default timer busy-waits, taking the core walletwatch would otherwise have (a mirror port
#     has no sender on the machine). For each run:
#     the rate tcpreplay achieved, pcap_stats (received, dropped by kernel, by interface),
#     walletwatch's `drops`, packets decoded, wallet calls and alerts against the replay of the
#     file, anomalies, alert latency (mean/max) and walletwatch's CPU time (user+sys: the
#     machine may be shared, so wall figures say little; the load average is printed).
#     Prints "highest zero-drop rate: ..." at the end.
# Everything runs in a network namespace of its own (unshare -n): only its lo sees the traffic.
# Needs root, tcpreplay, tcprewrite; otherwise says why and exits 0.
set -u
export LC_ALL=C
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
WW=$(realpath "${WW_BIN:-$BUILD/walletwatch}")
DIR=$BUILD/bench
mkdir -p "$DIR"
DIR=$(realpath "$DIR")
say() { echo "bench-live: $*"; }
if [ -z "${WW_LIVE_IN_NETNS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { say "skipped: not root"; exit 0; }
    for t in tcpreplay tcprewrite unshare ip; do
        command -v "$t" >/dev/null || { say "skipped: $t not installed (apt-get install tcpreplay)"; exit 0; }
    done
    unshare -n true 2>/dev/null || { say "skipped: cannot create a network namespace"; exit 0; }
    PC=${WW_LIVE_PCAP:-}
    if [ -z "$PC" ]; then
        MB=${WW_BENCH_MB:-1100}
        PC=$DIR/browse-${MB}MB-twin.pcap
        if [ ! -s "$PC" ]; then
            say "generating $PC (the cleartext twin of the ${MB} MB browsing bench; delete it to regenerate)"
            nice -n 19 "$BUILD/tools/mkbench_tls" /dev/null /dev/null "$MB" --twin "$PC.tmp" >/dev/null \
                && mv "$PC.tmp" "$PC" || { rm -f "$PC.tmp"; say "mkbench_tls failed"; exit 1; }
        fi
    fi
    [ -s "$PC" ] || { say "no capture $PC"; exit 1; }
    WW_LIVE_IN_NETNS=1 WW_LIVE_PCAP=$(realpath "$PC") exec unshare -n bash "$0" "$@"
fi
ip link set lo up
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
OUT=$DIR/results-live.txt
: >"$OUT"
log() { echo "$*" | tee -a "$OUT"; }
TCK=$(getconf CLK_TCK)

# run_ww ARGS...: walletwatch -i lo ARGS while tcpreplay $REPLAY_ARGS $REPLAY_FILE runs; sets
# CPU (walletwatch's user+sys seconds)
run_ww() {
    "$WW" -i lo "$@" >"$T/ww.stdout" 2>"$T/ww.stderr" &
    local pid=$! i
    # capturing once it says "listening on" (printed after pcap_activate: the ring is mapped);
    # without that line (-q), once its packet socket is listed. The socket is listed before its
    # ring exists: a replay started then lost its first packets to no counter at all (the
    # connections they opened were then picked up mid-stream)
    for i in $(seq 100); do
        if grep -q "listening on" "$T/ww.stderr" 2>/dev/null; then break; fi
        case " $* " in *" -q "*) [ "$(wc -l </proc/net/packet)" -gt 1 ] && { sleep 0.5; break; } ;; esac
        sleep 0.1
    done
    sleep 0.1
    # shellcheck disable=SC2086
    tcpreplay --intf1=lo $REPLAY_ARGS "$REPLAY_FILE" >"$T/replay.log" 2>&1
    # until walletwatch has caught up: its CPU time stops growing
    local prev=-1 cur
    for i in $(seq 40); do
        sleep 0.25
        cur=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo x)
        [ "$cur" = "$prev" ] && break
        prev=$cur
    done
    CPU=$(awk -v t="$TCK" '{printf "%.2f", ($14 + $15) / t}' "/proc/$pid/stat" 2>/dev/null)
    kill -INT $pid
    wait $pid
}
. "$(dirname "$0")/events.sh"
latency() { # -> "mean/max" in ms from walletwatch -v's line, or "-"
    sed -nE 's/.*alert latency.* mean ([0-9.]+) ms, max ([0-9.]+) ms/\1\/\2/p' "$T/ww.stderr" | grep . || echo -
}

# 1. latency
tcprewrite --infile=pcaps/http1-hijack.pcap --outfile="$T/hij.pcap" \
    --pnat=10.1.0.0/24:127.0.0.0/24 --portmap=80:18080,8545:18545 --fixcsum
REPLAY_FILE=$T/hij.pcap
log "== alert latency (wallet-call packet timestamp -> alert line written and flushed)"
for mode in "--mbps=10" "--topspeed"; do
    REPLAY_ARGS=$mode
    run_ww -f 'tcp port 18080 or tcp port 18545' -q -v -o "$T/lat.jsonl" --truncate
    log "  tcpreplay $mode: $(grep 'alert latency' "$T/ww.stderr" | sed 's/^walletwatch: //')"
done

# 2. a browsing capture at increasing rates
REPLAY_FILE=$WW_LIVE_PCAP
"$WW" -q -r "$REPLAY_FILE" -o "$T/ref.jsonl" >/dev/null 2>&1
REF_ALERTS=$(alerts_of "$T/ref.jsonl")
REF_CALLS=$(stat_of "$T/ref.jsonl" wallet_calls)
REF_PKTS=$(stat_of "$T/ref.jsonl" packets)
log "== live capture on lo at default settings: $(basename "$REPLAY_FILE"), $(du -m "$REPLAY_FILE" | cut -f1) MB," \
    "$REF_PKTS packets; the replay of the file: $REF_CALLS wallet calls, $(grep -c . <<<"$REF_ALERTS") alerts"
log "  ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs)"
log "  (received: pcap_stats ps_recv; kdrop/ifdrop: ps_drop/ps_ifdrop; drops: walletwatch's stats;"
log "   calls: wallet calls seen live; alerts: = when the same as the file's; latency mean/max ms; cpu: walletwatch user+sys s)"
log "$(printf '  %-14s %8s %7s %9s %6s %6s %6s %9s %6s %6s %5s %13s %6s' \
    rate Mbps kpps received kdrop ifdrop drops packets calls alerts anom latency cpu)"
DROPS=0
one_run() { # LABEL REPLAY_ARGS...; sets DROPS, MBPS
    local label=$1; shift
    REPLAY_ARGS="$*"
    run_ww -v -o "$T/rate.jsonl" --truncate
    local rated pps recv kd ifd same
    rated=$(grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps, [0-9.]* pps' "$T/replay.log" | head -1)
    MBPS=$(sed -E 's/.* ([0-9.]+) Mbps.*/\1/' <<<"$rated")
    pps=$(sed -E 's/.* ([0-9.]+) pps.*/\1/' <<<"$rated")
    PPS=${pps%.*}
    read -r recv kd ifd < <(sed -nE 's/^walletwatch: ([0-9]+) packets received by filter, ([0-9]+) packets dropped by kernel, ([0-9]+) packets dropped by interface/\1 \2 \3/p' "$T/ww.stderr")
    DROPS=$(stat_of "$T/rate.jsonl" drops)
    same="!="
    [ "$(alerts_of "$T/rate.jsonl")" = "$REF_ALERTS" ] && same="="
    log "$(printf '  %-14s %8s %7.1f %9s %6s %6s %6s %9s %6s %6s %5s %13s %6s' "$label" "$MBPS" \
        "$(awk -v p="${pps:-0}" 'BEGIN {print p / 1000}')" "${recv:--}" "${kd:--}" "${ifd:--}" "$DROPS" \
        "$(stat_of "$T/rate.jsonl" packets)" "$(stat_of "$T/rate.jsonl" wallet_calls)/$REF_CALLS" \
        "$same" "$(stat_of "$T/rate.jsonl" anomalies)" "$(latency)" "${CPU:--}")"
    [ -n "$rated" ] || { log "  tcpreplay failed: $(tail -n 3 "$T/replay.log")"; DROPS=-1; }
    if [ -n "$recv" ] && [ "$recv" -lt "$REF_PKTS" ]; then
        log "  ($((REF_PKTS - recv)) packets were sent before the capture was ready: counted nowhere)"
        DROPS=-1
    fi
}
one_run "--mbps=${WW_BENCH_LIVE_MBPS:-200}" --mbps="${WW_BENCH_LIVE_MBPS:-200}" --timer=nano
one_run "--mbps=${WW_BENCH_LIVE_REF:-1240}" --mbps="${WW_BENCH_LIVE_REF:-1240}" --timer=nano
REF_DROPS=$DROPS
BEST=""
TOP=0
LOW=""
for i in $(seq "${WW_BENCH_LIVE_RUNS:-3}"); do
    one_run "topspeed#$i" --topspeed
    if [ "$DROPS" = 0 ]; then
        # the lowest of the top-speed rates without drops (all of them had none)
        if [ -z "$LOW" ] || awk -v a="$LOW" -v b="${MBPS:-0}" 'BEGIN {exit !(b < a)}'; then
            LOW=$MBPS
            LOWPPS=$PPS
        fi
        BEST="top speed, ${LOW} Mbit/s (${LOWPPS} packets/s) or more: no drops in any of ${i} runs (tcpreplay went no faster)"
    else
        BEST_FAIL=1
    fi
    TOP=$(awk -v a="$TOP" -v b="${MBPS:-0}" 'BEGIN {print (b > a) ? b : a}')
done
if [ -n "${BEST_FAIL:-}" ]; then
    # the highest --mbps without drops, between 0 and what top speed reached
    BEST=""
    lo=0
    hi=${TOP%.*}
    for i in $(seq "${WW_BENCH_LIVE_STEPS:-5}"); do
        mid=$(((lo + hi) / 2))
        [ "$mid" -gt 0 ] || break
        one_run "--mbps=$mid" --mbps="$mid" --timer=nano
        if [ "$DROPS" = 0 ]; then lo=$mid; BEST="$MBPS Mbit/s, $PPS packets/s (--mbps=$mid)"; else hi=$mid; fi
    done
    [ -n "$BEST" ] || BEST="none found above $lo Mbit/s"
fi
log "highest zero-drop rate: $BEST"
log "at the reference rate (${WW_BENCH_LIVE_REF:-1240} Mbit/s): $([ "$REF_DROPS" = 0 ] && echo "no drops" || echo "drops or missed packets")"
log "(written to $OUT)"
