#!/usr/bin/env bash
# demo.sh BUILD - what `make demo` shows: walletwatch replaying a real browser session with the
# September 2025 npm ("qix") wallet-hijack payload at work (pcaps/dapp-https-hijack.pcapng,
# recorded by pcaps/record/record.sh: Debian's Chromium on a local dapp built with ethers v6,
# over HTTPS, the TLS key log embedded in the pcapng): the shop's API served its payee, and the
# page's wallet calls and its signed transaction went to the attacker instead.
#
# Prints walletwatch's text output (the alerts), then one summary line counted from the
# JSON-lines events (BUILD/demo/hijack.jsonl). walletwatch exits 1 when it raises high or
# critical alerts: that is the expected outcome here, so this script exits 0 on 0 or 1 and
# fails only when walletwatch could not run (exit 2, a crash, or a missing binary).
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
BIN=$BUILD/walletwatch
PCAP=pcaps/dapp-https-hijack.pcapng
OUT=$BUILD/demo/hijack.jsonl
if [ ! -x "$BIN" ]; then
    echo "demo: $BIN is not built (run make)" >&2
    exit 2
fi
mkdir -p "$BUILD/demo"
echo "== walletwatch -r $PCAP"
echo "   (Chromium on a local dapp over HTTPS, key log embedded in the capture: the API served"
echo "    the payee; the hijacked page's wallet calls and signed transaction went elsewhere)"
echo
"$BIN" -r "$PCAP" -o "$OUT" --truncate
rc=$?
echo
case $rc in
0 | 1) ;;
*)
    echo "demo: walletwatch failed (exit $rc)" >&2
    exit "$rc"
    ;;
esac
python3 - "$OUT" "$rc" <<'PY'
import collections, json, sys
path, rc = sys.argv[1], int(sys.argv[2])
sev, rules, calls, flows = collections.Counter(), collections.Counter(), 0, set()
try:
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event_type") == "alert":
                a = e.get("alert", {})
                sev[a.get("level", "?")] += 1
                rules[a.get("rule", "?")] += 1
            elif e.get("event_type") == "wallet_call":
                calls += 1
            if "flow_id" in e:
                flows.add(e["flow_id"])
except OSError:
    pass
order = ["critical", "high", "medium", "low", "info"]
by_sev = ", ".join(f"{sev[s]} {s}" for s in order if sev[s]) or "none"
by_rule = ", ".join(f"{r} x{n}" for r, n in sorted(rules.items()))
print(f"summary: {sum(sev.values())} alerts ({by_sev}) on {calls} wallet calls in {len(flows)} flows"
      f"{' - ' + by_rule if by_rule else ''}; exit {rc}"
      f"{' (alerts at or above high: expected for this recording)' if rc == 1 else ''}")
PY
echo
echo "== the same check on the project's plain-HTTP/1.1 sessions (tests/gen/gen_http1.mjs, ethers v6):"
for name in http1-clean http1-hijack; do
    "$BIN" -q --format jsonl -r "pcaps/$name.pcap" -o "$BUILD/demo/$name.jsonl" --truncate >/dev/null 2>&1
    rc=$?
    [ "$rc" -le 1 ] || { echo "demo: walletwatch failed on $name (exit $rc)" >&2; exit "$rc"; }
    printf '   %-14s %2d alerts, exit %d\n' "$name" "$(grep -c '"event_type":"alert"' "$BUILD/demo/$name.jsonl")" "$rc"
done
exit 0
