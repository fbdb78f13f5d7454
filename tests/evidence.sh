#!/usr/bin/env bash
# evidence.sh BUILD - -w evidence from replayed captures (no root needed): the evidence file
# replays (-r) on its own to the same alerts; TLS secrets are embedded only with
# --evidence-secrets. Prints "N passed, N failed".
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
WW=${WW_BIN:-$BUILD/walletwatch}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
check() { local d=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $d"; fi; }
. "$(dirname "$0")/events.sh"
packets_of() { python3 -c 'import json,sys
print([json.loads(l) for l in open(sys.argv[1])][-1]["walletwatch"]["packets"])' "$1"; }

for p in http1-hijack http1-lookalike http1-unrequested; do
    "$WW" -q -r "pcaps/$p.pcap" -o "$T/a.jsonl" --truncate -w "$T/ev.pcapng" >/dev/null 2>&1
    "$WW" -q -r "$T/ev.pcapng" -o "$T/b.jsonl" --truncate >/dev/null 2>&1; rc=$?
    check "$p: evidence replays to the same alerts" [ "$(alerts_of "$T/a.jsonl")" = "$(alerts_of "$T/b.jsonl")" ]
    check "$p: evidence replay has alerts (exit $rc)" [ "$(alerts_of "$T/b.jsonl" | wc -l)" -gt 0 -a "$rc" -eq 1 ]
    check "$p: evidence is smaller than the capture" [ "$(packets_of "$T/b.jsonl")" -lt "$(packets_of "$T/a.jsonl")" ]
done
"$WW" -q -r pcaps/http1-clean.pcap -w "$T/clean.pcapng" -o "$T/c.jsonl" --truncate >/dev/null 2>&1
"$WW" -q -r "$T/clean.pcapng" -o "$T/d.jsonl" --truncate >/dev/null 2>&1
check "clean capture: the evidence holds no packet" [ "$(packets_of "$T/d.jsonl")" -eq 0 ]

if [ -f pcaps/tls13-hijack.pcap ] && [ -f pcaps/tls13-hijack.keys ]; then
    "$WW" -q -r pcaps/tls13-hijack.pcap -k pcaps/tls13-hijack.keys -o "$T/t.jsonl" --truncate -w "$T/t.pcapng" >/dev/null 2>&1
    "$WW" -q -r "$T/t.pcapng" -o "$T/t2.jsonl" --truncate >/dev/null 2>&1
    check "TLS without --evidence-secrets: no key material in the file" bash -c "! grep -aq 'TRAFFIC_SECRET\|CLIENT_RANDOM' '$T/t.pcapng'"
    check "TLS without --evidence-secrets: the comment says so" grep -aq "No key material" "$T/t.pcapng"
    check "TLS without --evidence-secrets: the replay cannot decrypt (no alerts)" [ "$(alerts_of "$T/t2.jsonl" | wc -l)" -eq 0 ]
    "$WW" -q -r pcaps/tls13-hijack.pcap -k pcaps/tls13-hijack.keys -o "$T/t.jsonl" --truncate -w "$T/s.pcapng" --evidence-secrets >/dev/null 2>&1
    "$WW" -q -r "$T/s.pcapng" -o "$T/s2.jsonl" --truncate >/dev/null 2>&1
    check "TLS with --evidence-secrets: the evidence alone replays to the same alerts" \
        [ "$(alerts_of "$T/t.jsonl")" = "$(alerts_of "$T/s2.jsonl")" -a "$(alerts_of "$T/s2.jsonl" | wc -l)" -gt 0 ]
    check "TLS with --evidence-secrets: the comment says it holds secrets" grep -aq "Holds TLS secrets" "$T/s.pcapng"
else
    echo "SKIP: evidence TLS: pcaps/tls13-hijack.pcap is absent"
fi
"$WW" -r pcaps/http1-clean.pcap --evidence-secrets >/dev/null 2>&1; rc=$?
check "--evidence-secrets without -w: usage error" [ "$rc" -eq 2 ]
"$WW" -r pcaps/http1-clean.pcap -w /nonexistent-dir/e.pcapng >/dev/null 2>&1; rc=$?
check "-w into a missing directory: exit 2" [ "$rc" -eq 2 ]
"$WW" -q -r pcaps/http1-hijack.pcap -w /dev/full >/dev/null 2>&1; rc=$?
check "-w /dev/full: exit 2" [ "$rc" -eq 2 ]
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
