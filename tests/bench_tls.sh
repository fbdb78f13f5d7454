#!/usr/bin/env bash
# bench_tls.sh BUILD - walletwatch decrypting TLS 1.3 (TLS_AES_128_GCM_SHA256) beside tshark.
# Run by `make bench` when WW_BENCH_CURL=1 (superseded by tests/bench_browse.sh; not part of `make test`).
#
# Records BUILD/bench/tls13.pcap once (delete it to record again): `openssl s_server -WWW`
# bound to 127.0.0.1 serves JSON files over TLS 1.3 and HTTP/1.0 to curl (SSLKEYLOGFILE set);
# tcpdump captures loopback. Needs openssl, curl and tcpdump (apt-get install curl tcpdump) and
# root for the capture; skips with a message otherwise. WW_BENCH_TLS_MB sets the size (200).
# Then times walletwatch -k keys -r tls13.pcap (best of WW_BENCH_RUNS, default 3) and tshark
# with the same key log doing TLS decryption + HTTP (WW_BENCH_TSHARK_RUNS, default 1).
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
BIN=$BUILD/walletwatch
DIR=$BUILD/bench
PCAP=$DIR/tls13.pcap
KEYS=$DIR/tls13.keys
MB=${WW_BENCH_TLS_MB:-200}
mkdir -p "$DIR"

record() {
    for t in openssl curl tcpdump; do
        command -v $t >/dev/null 2>&1 || { echo "bench_tls: $t is not installed: skipped"; return 1; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "bench_tls: capturing loopback needs root: skipped"; return 1; }
    local w
    w=$(mktemp -d)
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=127.0.0.1 -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1 || return 1
    # 4 MB JSON files as a dapp backend serves them: order history, a payee every 20 rows
    python3 - "$w" <<'PY'
import json, random, sys
random.seed(7)
words = "invoice order paid shipped refund token swap pending confirmed wallet fee".split()
rows, size = [], 0
while size < 4 * 1024 * 1024:
    r = {"id": len(rows), "status": random.choice(words), "amount": str(random.getrandbits(64)),
         "memo": " ".join(random.choice(words) for _ in range(30))}
    if len(rows) % 20 == 0:
        r["payTo"] = "0x%040x" % random.getrandbits(160)
    rows.append(json.dumps(r))
    size += len(rows[-1])
open(sys.argv[1] + "/invoice.json", "w").write("[" + ",\n".join(rows) + "]\n")
PY
    local port=18843 n=$((MB / 4))
    (cd "$w" && exec openssl s_server -quiet -accept 127.0.0.1:$port -cert cert.pem -key key.pem \
        -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 -WWW) >/dev/null 2>&1 &
    local srv=$!
    tcpdump -i lo -s 0 -B 262144 --immediate-mode -w "$PCAP.tmp" "tcp port $port" >/dev/null 2>"$w/tcpdump.err" &
    local cap=$!
    sleep 2
    rm -f "$KEYS"
    for i in $(seq 1 "$n"); do
        SSLKEYLOGFILE="$KEYS" curl -s --tlsv1.3 --http1.1 --cacert "$w/cert.pem" --limit-rate 300M \
            -o /dev/null "https://127.0.0.1:$port/invoice.json" || echo "bench_tls: curl run $i failed"
    done
    sleep 1
    kill -INT $cap; wait $cap 2>/dev/null
    kill $srv; wait $srv 2>/dev/null
    if grep -q "dropped by kernel" "$w/tcpdump.err" && ! grep -q " 0 packets dropped by kernel" "$w/tcpdump.err"; then
        echo "bench_tls: tcpdump dropped packets; try a smaller WW_BENCH_TLS_MB"; cat "$w/tcpdump.err"
    fi
    rm -rf "$w"
    mv "$PCAP.tmp" "$PCAP"
}

if [ ! -s "$PCAP" ] || [ ! -s "$KEYS" ]; then
    echo "bench_tls: recording $PCAP (${MB} MB of TLS 1.3) ..."
    record || exit 0
fi
exec python3 - "$PCAP" "$KEYS" "$BIN" <<'PY'
import os, shutil, subprocess, sys, time
pcap, keys, binary = sys.argv[1:4]
runs = int(os.environ.get("WW_BENCH_RUNS", "3"))
ts_runs = int(os.environ.get("WW_BENCH_TSHARK_RUNS", "1"))
size = os.path.getsize(pcap)

def best(cmd, n):
    bt, out = None, ""
    for _ in range(n):
        t = time.perf_counter()
        o = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        dt = time.perf_counter() - t
        if bt is None or dt < bt:
            bt, out = dt, o
    return bt, out

def rss_of(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_maxrss / 1024

ww = [binary, "-q", "--fail-on", "none", "-k", keys, "-r", pcap, "-o", "-", "--format", "jsonl"]
t, out = best(ww, runs)
stats = [l for l in out.splitlines() if '"event_type":"stats"' in l]
print("TLS 1.3 capture: %.1f MB, %s" % (size / 1e6, stats[-1] if stats else "no stats line"))
print("%-40s %8s %9s %9s" % ("", "seconds", "MB/s", "peak MB"))
print("%-40s %8.2f %9.1f %9.1f" % ("walletwatch -k (TLS 1.3 decrypt + HTTP)", t, size / 1e6 / t, rss_of(ww)))
if shutil.which("tshark") and ts_runs > 0:
    ts = ["tshark", "-o", "tls.keylog_file:" + keys, "-r", pcap, "-q", "-z", "http,tree"]
    t2, _ = best(ts, ts_runs)
    print("%-40s %8.2f %9.1f %9.1f" % ("tshark -o tls.keylog_file -z http,tree", t2, size / 1e6 / t2, rss_of(ts)))
PY
