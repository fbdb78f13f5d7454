#!/usr/bin/env bash
# bench_browse.sh BUILD - walletwatch on a TLS 1.3 capture that looks like browsing, beside
# tshark doing the same job on the same file (issue 15). Run by `make bench` (tests/bench.sh),
# never by `make test`.
#
#  1. Generates BUILD/bench/browse-<MB>MB.pcap and its key log once (cached; delete to redo)
#     with BUILD/tools/mkbench_tls (tests/tools/mkbench_tls.c: ~900 concurrent TLS 1.3
#     connections, h2 and HTTP/1.1, gzip/br/zstd JSON of 10 KB-2 MB with many addresses, JS,
#     CSS, images, read-only JSON-RPC and batches, a few hundred wallet calls of which every
#     tenth pays a planted 4+4 lookalike). WW_BENCH_MB sets the size (default 1100).
#     The generator writes what it planted to <pcap>.info.
#  2. walletwatch -q -k KEYS -r F -o BUILD/bench/browse.jsonl with one worker (--workers 1
#     when the binary has the option), WW_BENCH_RUNS times (default 3): the least CPU time
#     (user + sys of that process, from GNU time / wait4) gives MB/s per CPU-second; peak RSS.
#     Its stats are checked against <pcap>.info: alerts == planted hijacks (all
#     lookalike-recipient), wallet calls and JSON-RPC calls == generated.
#  3. With --workers N (N = cores) when the option exists: wall MB/s and CPU.
#  4. tshark with the key log, the same job - print every JSON-RPC method:
#       tshark -o tls.keylog_file:KEYS -r F -Y 'json.member == "method"' -T fields -e json.value.string
#     (WW_BENCH_TSHARK_RUNS, default 1; 0 skips): CPU seconds, peak RSS, the methods it printed
#     (compared with the generator's count), and walletwatch's advantage in CPU and RSS.
#  5. WW_BENCH_FLAT_MB=10000: also generates that size and runs walletwatch once on it: peak
#     RSS beside the WW_BENCH_MB one (flat memory: within 10%).
#  6. Where one worker's CPU goes, when `perf` is installed and may sample (WW_BENCH_PERF=0
#     skips): `perf record -F 999` of one more 1-worker run, its samples per shared object;
#     the content-coding and crypto libraries' share (ISA-L, brotli, zstd, zlib, OpenSSL) gives
#     the most MB per CPU-second any code around those libraries could reach on this capture.
# Every command runs under nice -n WW_BENCH_NICE (default 10): CPU time is what is compared,
# the machine may be shared. Prints a table; writes it to BUILD/bench/results-browse.txt.
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
BIN=$BUILD/walletwatch
MK=$BUILD/tools/mkbench_tls
DIR=$BUILD/bench
MB=${WW_BENCH_MB:-1100}
NICE=${WW_BENCH_NICE:-10}
mkdir -p "$DIR"

gen() { # gen MB -> BUILD/bench/browse-MBMB.{pcap,keys,pcap.info}
    local mb=$1 p=$DIR/browse-$1MB
    if [ ! -s "$p.pcap" ] || [ ! -s "$p.keys" ] || [ ! -s "$p.pcap.info" ]; then
        [ -x "$MK" ] || { echo "bench_browse: $MK is not built" >&2; return 2; }
        echo "bench_browse: generating $p.pcap ($mb MB) ..."
        /usr/bin/time -f "bench_browse: generated in %e s (%U s user, %S s sys)" \
            nice -n 19 "$MK" "$p.pcap.tmp" "$p.keys" "$mb" >/dev/null || { rm -f "$p.pcap.tmp"*; return 1; }
        mv "$p.pcap.tmp.info" "$p.pcap.info" && mv "$p.pcap.tmp" "$p.pcap"
    fi
}
gen "$MB" || exit 1
if [ -n "${WW_BENCH_FLAT_MB:-}" ]; then
    gen "$WW_BENCH_FLAT_MB" || exit 1
fi

exec python3 - "$BIN" "$DIR" "$MB" "${WW_BENCH_FLAT_MB:-}" "$NICE" <<'PY'
import json, os, re, shutil, subprocess, sys, tempfile

binary, outdir, mb, flat_mb, nice = sys.argv[1:6]
runs = int(os.environ.get("WW_BENCH_RUNS", "3"))
ts_runs = int(os.environ.get("WW_BENCH_TSHARK_RUNS", "1"))
base = os.path.join(outdir, f"browse-{mb}MB")
pcap, keys = base + ".pcap", base + ".keys"
size = os.path.getsize(pcap)
info = {}
with open(pcap + ".info") as f:
    for line in f:
        k, v = line.split()
        info[k] = int(v)

GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
lines, failures = [], []


def out(s=""):
    print(s, flush=True)
    lines.append(s)


def run(cmd, stdout=subprocess.DEVNULL, ok=(0,)):
    """(wall s, cpu s (user+sys), peak RSS MiB, exit status) of one run, niced."""
    if "-o" in cmd and cmd[cmd.index("-o") + 1] != os.devnull:
        try:
            os.unlink(cmd[cmd.index("-o") + 1])  # -o appends: each run writes a fresh file
        except FileNotFoundError:
            pass
    tf = tempfile.NamedTemporaryFile(delete=False)
    tf.close()
    full = ["nice", "-n", nice] + cmd
    if GNU_TIME:
        full = [GNU_TIME, "-f", "%e %U %S %M", "-o", tf.name] + full
    p = subprocess.Popen(full, stdout=stdout, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    rc = os.waitstatus_to_exitcode(status)
    wall, cpu, rss = None, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024
    if GNU_TIME:
        try:
            with open(tf.name) as f:
                e, u, s, m = f.read().split()[-4:]
            wall, cpu, rss = float(e), float(u) + float(s), int(m) / 1024
        except (OSError, ValueError):
            pass
    os.unlink(tf.name)
    if rc not in ok:
        sys.stderr.write(f"bench_browse: {' '.join(cmd)} exited {rc}\n{err[-2000:]}\n")
        return None
    return wall, cpu, rss, rc


def check(what, got, want):
    good = got == want
    out(f"  {'ok  ' if good else 'FAIL'} {what}: {got} (expected {want})")
    if not good:
        failures.append(what)


try:
    h = subprocess.run([binary, "--help"], capture_output=True, text=True)
    helptext = h.stdout + h.stderr
except OSError:
    sys.exit(f"bench_browse: {binary} is not built")
has_workers = "--workers" in helptext
ncpu = os.cpu_count() or 1

out(f"browsing bench: {pcap}: {size / 1e6:.1f} MB, {info['packets']} packets, "
    f"{info['connections']} TLS 1.3 connections ({info['h2_connections']} h2; "
    f"{info['aes128gcm']} AES-128-GCM, {info['aes256gcm']} AES-256-GCM, {info['chacha20']} "
    f"ChaCha20), {info['requests']} HTTP requests, {info['rpc_methods']} JSON-RPC calls, "
    f"{info['wallet_calls']} wallet calls, {info['hijacks']} planted hijacks")
if "response_body_decoded_bytes" in info:
    out(f"response bodies: {info['response_body_bytes'] / 1e6:.0f} MB as sent, "
        f"{info['response_body_decoded_bytes'] / 1e6:.0f} MB decoded (gzip/br/zstd: "
        f"{info['coded_body_bytes'] / 1e6:.0f} MB -> {info['coded_body_decoded_bytes'] / 1e6:.0f} MB)")
out("CPU = user + sys seconds of the process (the machine is shared: wall time is noisy)")
out()

jsonl = os.path.join(outdir, "browse.jsonl")
ww = [binary, "-q", "-k", keys, "-r", pcap, "-o", jsonl]
w1 = ww[:1] + (["--workers", "1"] if has_workers else []) + ww[1:]
res = [r for r in (run(w1, ok=(0, 1)) for _ in range(max(runs, 1))) if r is not None]
if not res:
    sys.exit("bench_browse: walletwatch failed")
best = min(res, key=lambda r: r[1])
rss1 = max(r[2] for r in res)
stats, rules = {}, {}
with open(jsonl) as f:
    for line in f:
        if '"event_type":"alert"' in line:
            r = json.loads(line)["alert"]["rule"]
            rules[r] = rules.get(r, 0) + 1
        elif '"event_type":"stats"' in line:
            stats = json.loads(line).get("walletwatch", {})
rows = [("walletwatch, 1 worker", best[1], best[0], rss1, len(res))]
out("walletwatch's findings against what was planted:")
check("alerts", stats.get("alerts"), info["hijacks"])
check("lookalike-recipient alerts", rules.get("lookalike-recipient", 0), info["hijacks"])
check("wallet calls", stats.get("wallet_calls"), info["wallet_calls"])
check("JSON-RPC calls", stats.get("rpc_calls"), info["rpc_methods"])
check("TLS sessions left undecrypted", stats.get("tls_undecryptable"), 0)

if has_workers:
    r = run(ww[:1] + ["--workers", str(ncpu)] + ww[1:], ok=(0, 1))
    if r:
        rows.append((f"walletwatch, --workers {ncpu}", r[1], r[0], r[2], 1))

ts_cpu = ts_rss = None
if shutil.which("tshark") and ts_runs > 0:
    tsout = os.path.join(outdir, "browse-tshark.txt")
    cmd = ["tshark", "-o", "tls.keylog_file:" + keys, "-r", pcap, "-Y", 'json.member == "method"',
           "-T", "fields", "-e", "json.value.string"]
    tres = []
    for _ in range(ts_runs):
        with open(tsout, "wb") as o:
            r = run(cmd, stdout=o)
        if r:
            tres.append(r)
    if tres:
        t = min(tres, key=lambda r: r[1])
        ts_cpu, ts_rss = t[1], max(r[2] for r in tres)
        rows.append(("tshark -Y 'json.member == \"method\"'", t[1], t[0], ts_rss, len(tres)))
        meth = re.compile(r"^(eth_[A-Za-z]+|sendTransaction)$")
        n = 0
        with open(tsout, errors="replace") as f:
            for line in f:
                n += sum(1 for v in line.rstrip("\n").split(",") if meth.match(v))
        out("tshark on the same file and job:")
        check("JSON-RPC methods printed by tshark", n, info["rpc_methods"])

out()
out(f"{'what':40} {'CPU s':>8} {'MB/CPU-s':>9} {'wall s':>8} {'wall MB/s':>10} {'peak RSS MB':>12} runs")
out("-" * 98)
for name, cpu, wall, rss, n in rows:
    ws = f"{wall:8.2f} {size / 1e6 / wall:10.1f}" if wall else f"{'-':>8} {'-':>10}"
    out(f"{name:40} {cpu:8.2f} {size / 1e6 / cpu:9.1f} {ws} {rss:12.1f} {n:4}")
if ts_cpu:
    out(f"walletwatch (1 worker) vs tshark: {ts_cpu / best[1]:.1f}x less CPU, "
        f"{ts_rss / rss1:.1f}x less memory")

if flat_mb:
    fbase = os.path.join(outdir, f"browse-{flat_mb}MB")
    fsize = os.path.getsize(fbase + ".pcap")
    r = run(ww[:1] + (["--workers", "1"] if has_workers else []) +
            ["-q", "-k", fbase + ".keys", "-r", fbase + ".pcap", "-o", os.devnull], ok=(0, 1))
    if r:
        out(f"flat memory: {fsize / 1e6:.0f} MB capture: peak RSS {r[2]:.1f} MB, CPU {r[1]:.2f} s "
            f"({fsize / 1e6 / r[1]:.1f} MB/CPU-s); {size / 1e6:.0f} MB: {rss1:.1f} MB "
            f"(ratio {r[2] / rss1:.2f})")

perf = shutil.which("perf") if os.environ.get("WW_BENCH_PERF", "1") != "0" else None
if perf:
    pdata = os.path.join(outdir, "perf-browse.data")
    r = run([perf, "record", "-q", "-F", "999", "-o", pdata, "--"] + w1, ok=(0, 1))
    rep = subprocess.run([perf, "report", "-i", pdata, "--no-children", "--sort", "dso", "-F",
                          "sample,dso", "--stdio"], capture_output=True, text=True) if r else None
    per_dso = {}
    for line in (rep.stdout.splitlines() if rep and rep.returncode == 0 else []):
        f = line.split()
        if len(f) == 2 and f[0].isdigit():
            per_dso[f[1]] = per_dso.get(f[1], 0) + int(f[0])
    total = sum(per_dso.values())
    if total > 0:
        libs = ("libisal", "libbrotlidec", "libzstd", "libz.", "libcrypto")
        floor = sum(n for d, n in per_dso.items() if d.startswith(libs))
        out()
        out("where one worker's CPU goes (perf record -F 999, samples per object):")
        for d, n in sorted(per_dso.items(), key=lambda kv: -kv[1])[:8]:
            out(f"  {100 * n / total:5.1f}%  {d}")
        cpu_floor = best[1] * floor / total
        out(f"  content-coding + crypto libraries: {100 * floor / total:.1f}% = {cpu_floor:.2f} of "
            f"{best[1]:.2f} CPU-s: at most {size / 1e6 / cpu_floor:.0f} MB/CPU-s on this capture "
            f"even if everything else cost nothing")
    else:
        out("perf: no samples (perf_event_paranoid?); CPU breakdown skipped")

with open(os.path.join(outdir, "results-browse.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
if failures:
    sys.exit("bench_browse: FAILED: " + ", ".join(failures))
PY
