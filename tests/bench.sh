#!/usr/bin/env bash
# bench.sh BUILD - throughput and memory of walletwatch on a >= 1 GB capture, beside tshark.
# Run by `make bench` (not part of `make test`).
#
#  0. Address intelligence: tests/tools/addrdb_bench (1M-entry DB) and tests/tools/detq.
#  1. Generates BUILD/bench/bench.pcap once with BUILD/tools/mkbench (deterministic, ~1.1 GB of
#     concurrent keep-alive HTTP/1.1 browsing with a small fraction of JSON-RPC wallet calls;
#     see tests/tools/mkbench.c). Delete the file to regenerate it. WW_BENCH_MB sets its size.
#  2. Raw read speed: `cat F > /dev/null` (best of the runs) - the physical reference; the
#     file is normally in the page cache right after it was read once, so this is memory speed.
#  3. walletwatch -q -r F -o BUILD/bench/walletwatch.jsonl (stdout to /dev/null): WW_BENCH_RUNS
#     runs (default 3), best wall time; its exit status 0 or 1 (alerts) both count as success.
#  4. tshark, when installed, doing comparable work (TCP reassembly + HTTP parsing):
#       tshark -r F -q -z http,tree          (statistics over every HTTP message)
#       tshark -r F -Y http -T fields -e http.request.method -e http.response.code
#     run once each by default (they are slow; WW_BENCH_TSHARK_RUNS to change, 0 to skip).
# For each: best wall seconds, MB/s, packets/s and peak RSS (os.wait4's ru_maxrss of that one
# child, or GNU time's %M when installed). Prints a table; writes it to BUILD/bench/results.txt as well.
#  5. Live capture (tests/bench_live.sh, root only): alert latency and the highest tcpreplay
#     rate onto lo that walletwatch -i lo takes without drops; BUILD/bench/results-live.txt.
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
BIN=$BUILD/walletwatch
MK=$BUILD/tools/mkbench
DIR=$BUILD/bench
PCAP=$DIR/bench.pcap
mkdir -p "$DIR"
# Address intelligence (runs first, in seconds): the attacker DB at 1,000,000 entries (compile,
# mmap load, lookup, lookalike search; tests/tools/addrdb_bench.c) and detection quality
# (tests/tools/detq.c). WW_BENCH_ADDRDB_N sets the DB size; WW_BENCH_ADDR_ONLY=1 stops here.
if [ -x "$BUILD/tools/addrdb_bench" ]; then
    "$BUILD/tools/addrdb_bench" "${WW_BENCH_ADDRDB_N:-1000000}" "$DIR" | tee "$DIR/addrdb.txt"
fi
if [ -x "$BUILD/tools/detq" ]; then
    "$BUILD/tools/detq" | tee "$DIR/detq.txt"
fi
# Content codings: gzip/deflate through ISA-L and through zlib, zstd, br on a JSON body with
# addresses (tests/tools/bench_inflate.c).
if [ -x "$BUILD/tools/bench_inflate" ]; then
    "$BUILD/tools/bench_inflate" 32 4 | tee "$DIR/inflate.txt"
fi
# Detection scenarios (issue 13): each generated capture at --fail-on high, its exit status and
# the rules it raised (clean flows exit 0; attacks get the most specific rule).
if [ -x "$BIN" ]; then
    echo
    echo "detection scenarios (--fail-on high): capture, exit status, rules raised"
    for f in pcaps/rules-*.pcap pcaps/http1-clean.pcap pcaps/http1-hijack.pcap \
             pcaps/http1-lookalike.pcap pcaps/http1-unrequested.pcap; do
        [ -f "$f" ] || continue
        "$BIN" -r "$f" -o "$DIR/scenario.jsonl" --truncate --fail-on high >/dev/null 2>&1
        rc=$?
        rules=$(python3 -c 'import json,sys
r=[json.loads(l)["alert"] for l in open(sys.argv[1]) if "\"alert\"" in l]
print(", ".join("%s(%s)" % (a["rule"], a["severity"]) for a in r) or "-")' "$DIR/scenario.jsonl")
        printf '  %-24s exit %d  %s\n' "$(basename "$f" .pcap)" "$rc" "$rules"
    done | tee "$DIR/scenarios.txt"
fi
[ "${WW_BENCH_ADDR_ONLY:-0}" = 1 ] && exit 0
if [ ! -s "$PCAP" ]; then
    if [ ! -x "$MK" ]; then
        echo "bench: $MK is not built (make $MK)" >&2
        exit 2
    fi
    echo "bench: generating $PCAP (${WW_BENCH_MB:-1100} MB) ..."
    "$MK" "$PCAP.tmp" "${WW_BENCH_MB:-1100}" || { rm -f "$PCAP.tmp"; exit 1; }
    mv "$PCAP.tmp" "$PCAP"
fi
python3 - "$PCAP" "$BIN" "$DIR" <<'PY'
import json, os, shutil, struct, subprocess, sys, time

pcap, binary, outdir = sys.argv[1:4]
runs = int(os.environ.get("WW_BENCH_RUNS", "3"))
ts_runs = int(os.environ.get("WW_BENCH_TSHARK_RUNS", "1"))
size = os.path.getsize(pcap)


def count_packets(path):
    cache = path + ".count"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        with open(cache) as f:
            return int(f.read())
    n = 0
    with open(path, "rb") as f:
        hdr = f.read(24)
        order = "<" if hdr[:4] == b"\xd4\xc3\xb2\xa1" else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            incl = struct.unpack(order + "I", rec[8:12])[0]
            f.seek(incl, 1)
            n += 1
    with open(cache, "w") as f:
        f.write(str(n))
    return n


def gnu_time():
    t = shutil.which("time") or "/usr/bin/time"
    try:
        v = subprocess.run([t, "--version"], capture_output=True, text=True, timeout=10)
        return t if "GNU" in (v.stdout + v.stderr) else None
    except (OSError, subprocess.SubprocessError):
        return None


GNU_TIME = gnu_time()
RSS_FILE = os.path.join(outdir, ".rss")


def run(cmd, ok=(0,), stdout=subprocess.DEVNULL):
    """One run: (wall seconds, peak RSS in KiB, exit status). Peak RSS comes from GNU time's
    %M when it is installed; else from os.wait4's ru_maxrss, which also counts the Python
    process image the child was forked from (a floor of ~10-20 MB)."""
    full = [GNU_TIME, "-f", "%M", "-o", RSS_FILE] + cmd if GNU_TIME else cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(full, stdout=stdout, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    rc = os.waitstatus_to_exitcode(status)
    if rc not in ok:
        sys.stderr.write(f"bench: {' '.join(cmd)} exited {rc}\n{err[-2000:]}\n")
        return None
    rss = ru.ru_maxrss
    if GNU_TIME:
        try:
            with open(RSS_FILE) as f:
                rss = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    return wall, rss, rc


def best(cmd, n, ok=(0,), shell_out=None):
    res = []
    for _ in range(n):
        if shell_out:
            with open(shell_out, "wb") as out:
                r = run(cmd, ok, stdout=out)
        else:
            r = run(cmd, ok)
        if r is None:
            return None
        res.append(r)
    return min(r[0] for r in res), max(r[1] for r in res), res[-1][2], len(res)


packets = count_packets(pcap)
rows = []


def add(name, r, note=""):
    if r is None:
        rows.append((name, None, note or "failed"))
        return
    wall, rss, rc, n = r
    rows.append((name, (wall, size / 1e6 / wall, packets / wall, rss / 1024, n), note))


print(f"bench: {pcap}: {size / 1e6:.1f} MB, {packets} packets")
add("cat > /dev/null", best(["cat", pcap], max(runs, 1)), "raw read (page cache)")

if os.access(binary, os.X_OK):
    out = os.path.join(outdir, "walletwatch.jsonl")
    r = best([binary, "-q", "-r", pcap, "-o", out, "--truncate"], runs, ok=(0, 1))
    note = ""
    if r is not None:
        try:
            with open(out, "rb") as f:
                f.seek(max(0, os.path.getsize(out) - 65536))
                last = [l for l in f.read().splitlines() if l.strip()]
            stats = json.loads(last[-1]) if last else {}
            st = stats.get("stats", stats)
            keys = ("packets", "flows", "http_messages", "wallet_calls", "intents", "alerts",
                    "anomalies")
            note = ", ".join(f"{k} {st[k]}" for k in keys if k in st)
        except (OSError, ValueError):
            note = "no stats line"
    add("walletwatch -r F -o out.jsonl", r, note)
else:
    rows.append(("walletwatch", None, f"{binary} not built"))

if shutil.which("tshark") and ts_runs > 0:
    add("tshark -q -z http,tree", best(["tshark", "-r", pcap, "-q", "-z", "http,tree"], ts_runs))
    add("tshark -Y http -T fields", best(["tshark", "-r", pcap, "-Y", "http", "-T", "fields",
                                          "-e", "http.request.method",
                                          "-e", "http.response.code"], ts_runs))
elif ts_runs > 0:
    rows.append(("tshark", None, "not installed"))

lines = [f"{'what':32} {'best s':>8} {'MB/s':>9} {'packets/s':>11} {'peak RSS MB':>12} runs  note",
         "-" * 100]
for name, v, note in rows:
    if v is None:
        lines.append(f"{name:32} {'-':>8} {'-':>9} {'-':>11} {'-':>12} {'-':>4}  {note}")
    else:
        wall, mbs, pps, rss, n = v
        lines.append(f"{name:32} {wall:8.2f} {mbs:9.1f} {pps:11.0f} {rss:12.1f} {n:4}  {note}")
text = "\n".join(lines)
print(text)
with open(os.path.join(outdir, "results.txt"), "w") as f:
    f.write(f"{pcap}: {size} bytes, {packets} packets\n{text}\n")
PY
rc=$?
# 5. live capture: alert latency and the highest loopback rate without drops (tests/bench_live.sh)
bash tests/bench_live.sh "$BUILD"
exit $rc
