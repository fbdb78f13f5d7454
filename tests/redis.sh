#!/usr/bin/env bash
# redis.sh BUILD - the --redis output against a real redis-server (Debian's), started here on a
# free loopback port, without persistence (and with an AOF where a restart must keep what came):
#  - a hijacked golden capture replayed with --redis in stream, rpush, list (lpush) and channel
#    modes: every EVE line arrives, complete and in order (the same as -o writes);
#  - a consumer group (XGROUP CREATE + XREADGROUP) reads the stream;
#  - Redis down when the run starts, started mid-run (a second capture fed later through a
#    FIFO): nothing lost, in order;
#  - Redis restarted mid-run: nothing lost, in order;
#  - Redis down for good with a 1 KiB buffer: stats redis_dropped > 0, a warning, and the run
#    still ends within its flush wait;
#  - a bad URL is a usage error (exit 2) before any packet.
# Skips with a message when redis-server or redis-cli is absent.
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
WW=$BUILD/walletwatch
case $BUILD in /*) T=$BUILD/test-output/redis ;; *) T=$PWD/$BUILD/test-output/redis ;; esac
rm -rf "$T"
mkdir -p "$T"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "SKIP redis: redis-server / redis-cli not installed (apt-get install redis-server)"
    echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
PCAP=pcaps/http1-hijack.pcap
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PIDS=()
start_redis() { # port dir [extra args]: starts one server in the background, waits until it answers
    local port=$1 dir=$2; shift 2
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@" >/dev/null 3>&-
    for _ in $(seq 100); do
        redis-cli -p "$port" PING 2>/dev/null | grep -q PONG && { PIDS+=("$(cat "$dir/redis.pid")"); return 0; }
        sleep 0.05
    done
    echo "could not start redis-server on port $port: $(tail -3 "$dir/redis.log")"; return 1
}
stop_redis() { # dir: SHUTDOWN (an AOF, when on, is kept), waits until it is gone
    local pid; pid=$(cat "$1/redis.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
}
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
cli() { redis-cli -p "$P" "$@"; }

P=$(free_port)
start_redis "$P" "$T/r1" || { bad "redis-server does not start"; echo "$passed passed, $failed failed"; exit 1; }

# ---- four modes: the same lines as -o, in order ----
run() { # mode key: replays PCAP with -o and --redis
    "$WW" -r "$PCAP" -o "$T/$1.jsonl" --redis "redis://127.0.0.1:$P/0?mode=$1&key=$2" \
        >/dev/null 2>"$T/$1.err" </dev/null
}
run stream ww-stream
cli --raw XRANGE ww-stream - + | awk 'NR % 3 == 0' >"$T/stream.got"
n=$(wc -l <"$T/stream.jsonl")
[ "$n" -gt 10 ] && cmp -s "$T/stream.got" "$T/stream.jsonl" && ok \
    || bad "stream: XRANGE differs from -o ($n lines; see $T/stream.got)"
cli --raw XRANGE ww-stream - + COUNT 1 | sed -n 2p | grep -qx event && ok || bad "stream: field name is not 'event'"
# a consumer group reads every event once, in order
cli XGROUP CREATE ww-stream sensors 0 >/dev/null
cli --raw XREADGROUP GROUP sensors reader1 COUNT 100000 STREAMS ww-stream '>' \
    | grep '^{' >"$T/group.got"
cmp -s "$T/group.got" "$T/stream.jsonl" && ok || bad "consumer group: XREADGROUP did not read every event in order"
[ "$(cli XPENDING ww-stream sensors | head -1)" = "$n" ] && ok || bad "consumer group: pending count is not $n"

run rpush ww-rpush
cli --raw LRANGE ww-rpush 0 -1 >"$T/rpush.got"
cmp -s "$T/rpush.got" "$T/rpush.jsonl" && ok || bad "rpush: LRANGE differs from -o"
run list ww-list # Suricata's "list": LPUSH (newest at the head)
cli --raw LRANGE ww-list 0 -1 | tac >"$T/list.got"
cmp -s "$T/list.got" "$T/list.jsonl" && ok || bad "list (lpush): LRANGE reversed differs from -o"

# channel: a subscriber first
redis-cli -p "$P" --raw SUBSCRIBE ww-chan >"$T/chan.sub" 2>&1 &
SUB=$!
for _ in $(seq 100); do [ "$(cli PUBSUB NUMSUB ww-chan | sed -n 2p)" = 1 ] && break; sleep 0.05; done
run channel ww-chan
for _ in $(seq 100); do [ "$(grep -c '^{' "$T/chan.sub")" -ge "$n" ] && break; sleep 0.05; done
kill "$SUB" 2>/dev/null; wait "$SUB" 2>/dev/null
grep '^{' "$T/chan.sub" >"$T/chan.got"
cmp -s "$T/chan.got" "$T/channel.jsonl" && ok || bad "channel: the subscriber did not get every event in order"
for m in stream rpush list channel; do
    [ -s "$T/$m.err" ] && bad "$m: warnings with Redis up: $(head -2 "$T/$m.err")"
done
ok

# ---- Redis down at the start, started mid-run ----
# A slow input: -r PCAP, then -r FIFO whose capture is written only later (its 24-byte file
# header first: the source reads it when it opens). Redis is started between the two.
PCAP2=pcaps/http1-lookalike.pcap
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
P2=$(free_port)
mkfifo "$T/late.fifo"
exec 3<>"$T/late.fifo"
head -c 24 "$PCAP2" >&3
timeout 60 "$WW" -r "$PCAP" -r "$T/late.fifo" -o "$T/late.jsonl" \
    --redis "redis://127.0.0.1:$P2?mode=rpush&key=late&flush=10000" >/dev/null 2>"$T/late.err" 3>&- &
WWPID=$!
for _ in $(seq 200); do [ "$(lines "$T/late.jsonl")" -ge 20 ] && break; sleep 0.05; done
first=$(lines "$T/late.jsonl")
start_redis "$P2" "$T/r2"
tail -c +25 "$PCAP2" >&3
exec 3>&-
wait "$WWPID"
redis-cli -p "$P2" --raw LRANGE late 0 -1 >"$T/late.got"
buffered=$(sed -n 's/.*sending \([0-9]*\) buffered events.*/\1/p' "$T/late.err" | head -1)
grep -q 'Connection refused; buffering events' "$T/late.err" && [ "${buffered:-0}" -ge 20 ] && ok \
    || bad "down at start: want a 'buffering' warning and >= 20 buffered events ($first written before Redis came; sent ${buffered:-0} buffered)"
[ -s "$T/late.jsonl" ] && cmp -s "$T/late.got" "$T/late.jsonl" && ok \
    || bad "down at start: Redis got $(wc -l <"$T/late.got") of $(wc -l <"$T/late.jsonl") lines, or not in order"
! grep -q 'not delivered' "$T/late.err" && ok || bad "down at start: events not delivered: $(grep 'not delivered' "$T/late.err")"
echo "down at start: $first events buffered while Redis was down, $(wc -l <"$T/late.got") of $(wc -l <"$T/late.jsonl") arrived in order"

# ---- Redis restarted mid-run (its AOF keeps what came before) ----
P3=$(free_port)
start_redis "$P3" "$T/r3" --appendonly yes --appendfsync always
mkfifo "$T/restart.fifo"
exec 3<>"$T/restart.fifo"
head -c 24 "$PCAP2" >&3
timeout 60 "$WW" -r "$PCAP" -r "$T/restart.fifo" -o "$T/restart.jsonl" \
    --redis "redis://127.0.0.1:$P3?mode=rpush&key=rs&flush=10000" >/dev/null 2>"$T/restart.err" 3>&- &
WWPID=$!
for _ in $(seq 200); do [ "$(redis-cli -p "$P3" LLEN rs)" -ge 20 ] 2>/dev/null && break; sleep 0.05; done
before=$(redis-cli -p "$P3" LLEN rs)
stop_redis "$T/r3"
tail -c +25 "$PCAP2" >&3 # the rest of the input arrives while Redis is down
exec 3>&-
sleep 0.5
start_redis "$P3" "$T/r3" --appendonly yes --appendfsync always
wait "$WWPID"
redis-cli -p "$P3" --raw LRANGE rs 0 -1 >"$T/restart.got"
grep -q 'buffering events and reconnecting' "$T/restart.err" && [ "$before" -ge 20 ] \
    && [ "$(wc -l <"$T/restart.got")" -gt "$before" ] && ok \
    || bad "restart: events before ($before) and after the restart expected, and a reconnect"
cmp -s "$T/restart.got" "$T/restart.jsonl" && ok \
    || bad "restart: Redis got $(wc -l <"$T/restart.got") of $(wc -l <"$T/restart.jsonl") lines, or not in order"
echo "restart: $before events before the restart, $(wc -l <"$T/restart.got") of $(wc -l <"$T/restart.jsonl") in Redis after, in order"

# ---- down for good, a 1 KiB buffer: dropped, counted, said, and on time ----
P4=$(free_port)
start=$(date +%s%N)
timeout 30 "$WW" -r "$PCAP" -o "$T/down.jsonl" --redis "redis://127.0.0.1:$P4?buffer=1K&flush=500" \
    >/dev/null 2>"$T/down.err" </dev/null
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -eq 1 ] && ok || bad "down for good: exit $rc (want 1, the capture's alerts decide it)"
python3 - "$T/down.jsonl" <<'PY' && ok || bad "down for good: stats redis_dropped is not > 0"
import json, sys
st = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"stats"' in l][-1]
sys.exit(0 if st["walletwatch"]["redis_dropped"] > 0 else 1)
PY
grep -q 'buffer full' "$T/down.err" && grep -q 'not delivered' "$T/down.err" && ok \
    || bad "down for good: no warning about dropped events: $(cat "$T/down.err")"
[ "$ms" -lt 5000 ] && ok || bad "down for good: the run took $ms ms (flush wait 500 ms)"
echo "down for good: run ended in $ms ms wall; $(grep 'not delivered' "$T/down.err")"

# ---- a bad URL: exit 2 before any packet ----
"$WW" -r "$PCAP" --redis "redis://127.0.0.1:99999" >/dev/null 2>"$T/badurl.err"
[ $? -eq 2 ] && grep -q -- '--redis: port' "$T/badurl.err" && ok || bad "bad URL is not a usage error: $(cat "$T/badurl.err")"
"$WW" -r "$PCAP" --redis "redis://h?mode=queue" >/dev/null 2>"$T/badurl.err"
[ $? -eq 2 ] && ok || bad "bad mode is not a usage error"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
