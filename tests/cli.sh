#!/usr/bin/env bash
# CLI contract tests (SPEC.md "Command line", exit codes, bad input). Prints "N passed, N failed".
set -u
BUILD=${1:-build}
WW=${WW_BIN:-$BUILD/walletwatch}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect_rc WANT DESC CMD...
expect_rc() {
    local want=$1 desc=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "$desc: exit $rc, want $want"; sed 's/^/    /' "$T/err" | head -5; fi
}
contains() { # FILE STRING DESC
    if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $(basename "$1")"; head -5 "$1" | sed 's/^/    /'; fi
}
count_alerts() { grep -c '"event_type":"alert"' "$1"; }

HIJACK=pcaps/http1-hijack.pcap
CLEAN=pcaps/http1-clean.pcap

expect_rc 0 "--version" "$WW" --version
contains "$T/out" "walletwatch " "--version prints the version"
expect_rc 0 "--help" "$WW" --help
contains "$T/out" "-r FILE" "--help lists -r"
expect_rc 2 "no arguments" "$WW"
expect_rc 2 "unknown option" "$WW" --bogus -r "$CLEAN"
expect_rc 2 "missing capture file" "$WW" -r "$T/nonexistent.pcap"
contains "$T/err" "nonexistent.pcap" "missing file named in the message"
expect_rc 2 "not a capture" "$WW" -r README.md
contains "$T/err" "not a pcap or pcapng" "not-a-capture message"
printf '' >"$T/empty.pcap"
expect_rc 2 "empty file" "$WW" -r "$T/empty.pcap"
expect_rc 2 "bad BPF filter" "$WW" -f "tcp and and" -r "$CLEAN"
contains "$T/err" "filter" "bad filter message"
expect_rc 2 "unreadable key log" "$WW" -k "$T/nokeys.log" -r "$CLEAN"
expect_rc 2 "bad --fail-on" "$WW" --fail-on severe -r "$CLEAN"
expect_rc 2 "bad --window" "$WW" --window 10x -r "$CLEAN"
expect_rc 2 "bad --format" "$WW" --format xml -r "$CLEAN"
expect_rc 2 "unreadable --db" "$WW" --db "$T/nodb.csv" -r "$CLEAN"

# clean and hijacked sessions
expect_rc 0 "clean session exits 0" "$WW" -r "$CLEAN" -o "$T/clean.jsonl"
[ "$(count_alerts "$T/clean.jsonl")" -eq 0 ] && ok || bad "clean session raised alerts"
expect_rc 1 "hijacked session exits 1" "$WW" -r "$HIJACK" -o "$T/hijack.jsonl"
n_hijack=$(count_alerts "$T/hijack.jsonl")
[ "$n_hijack" -gt 0 ] && ok || bad "hijacked session raised no alert"
contains "$T/out" "known-attacker" "text output names the rule"
contains "$T/out" "observed 0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976" "text output shows the observed address"
contains "$T/out" "^" "text output marks the differing characters"
python3 - "$T/hijack.jsonl" <<'PY' && ok || bad "every -o line is JSON and the last is stats"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]
assert evs and evs[-1]["event_type"] == "stats", "last event is not stats"
ts = [e["timestamp"] for e in evs]
assert all(len(t) == 27 and t.endswith("Z") for t in ts), ts[:3]
for e in evs:
    if e["event_type"] == "alert":
        a = e["alert"]
        assert a["severity"] in ("critical", "high", "medium", "low", "info")
        assert a["chain"] == "evm" and a["observed"].startswith("0x") and a["observed"] == a["observed"].lower()
        assert "flow_id" in e and e["proto"] == "TCP"
    for k, v in e.items():
        assert v != "", "empty string for " + k
PY

expect_rc 0 "--fail-on none" "$WW" --fail-on none -r "$HIJACK"
expect_rc 1 "--fail-on critical" "$WW" --fail-on critical -r "$HIJACK"
expect_rc 1 "stdin replay" bash -c "cat '$HIJACK' | '$WW' -r - -o '$T/stdin.jsonl'"
[ "$(count_alerts "$T/stdin.jsonl")" -eq "$n_hijack" ] && ok || bad "stdin replay gives other alerts"
expect_rc 1 "BPF filter keeping the RPC port" "$WW" -f "tcp" -r "$HIJACK" -o "$T/f1.jsonl"
[ "$(count_alerts "$T/f1.jsonl")" -eq "$n_hijack" ] && ok || bad "filter 'tcp' changed the alerts"
expect_rc 0 "BPF filter dropping everything" "$WW" -f "udp" -r "$HIJACK" -o "$T/f2.jsonl"
[ "$(count_alerts "$T/f2.jsonl")" -eq 0 ] && ok || bad "filter 'udp' still raised alerts"
expect_rc 1 "-o - with --format jsonl" "$WW" -o - --format jsonl -r "$HIJACK"
[ "$(count_alerts "$T/out")" -eq "$n_hijack" ] && ok || bad "jsonl on stdout printed each event once"
expect_rc 1 "--format junit" "$WW" --format junit -r "$HIJACK"
contains "$T/out" "<testsuite name=\"walletwatch\"" "junit report"
contains "$T/out" "<failure message=" "junit failure per alert"
expect_rc 2 "output to a full disk" "$WW" -r "$HIJACK" -o /dev/full
contains "$T/err" "writing output failed" "full disk message"

# a capture cut short: everything before the cut is still reported
size=$(stat -c %s "$HIJACK")
head -c $((size - 30)) "$HIJACK" >"$T/cut.pcap"
expect_rc 1 "truncated capture still reports its alerts" "$WW" -r "$T/cut.pcap" -o "$T/cut.jsonl"
contains "$T/err" "truncated" "truncated-file warning"
[ "$(count_alerts "$T/cut.jsonl")" -eq "$n_hijack" ] && ok || bad "truncated capture lost alerts"
contains "$T/cut.jsonl" '"type":"truncated-file"' "truncated-file anomaly event"

# two files as one timeline
expect_rc 1 "two -r files" "$WW" -r "$CLEAN" -r "$HIJACK" -o "$T/two.jsonl"

# --expect: the served payee is allowed, so the clean session stays clean
grep -o '"address":"0x[0-9a-f]*"' "$T/clean.jsonl" | head -1 | sed 's/.*"\(0x[0-9a-f]*\)"/\1/' >"$T/expect.txt"
expect_rc 0 "--expect with the served address" "$WW" --expect "$T/expect.txt" -r "$CLEAN"

# addrdb
expect_rc 0 "addrdb lookup of a listed address" "$WW" addrdb lookup 0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976
contains "$T/out" "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976 listed" "lookup prints normalized + listed"
expect_rc 1 "addrdb lookup of an unlisted address" "$WW" addrdb lookup 0x0000000000000000000000000000000000000001
contains "$T/out" "not listed" "lookup prints not listed"
expect_rc 0 "addrdb stats" "$WW" addrdb stats
contains "$T/out" "entries: 280" "bundled DB size"
printf 'evm,0x1111111111111111111111111111111111111111,test,mine\nevm,garbage\n' >"$T/feed.csv"
expect_rc 0 "addrdb lookup with --db" "$WW" addrdb lookup --db "$T/feed.csv" 0x1111111111111111111111111111111111111111
contains "$T/err" "1 bad lines skipped (line 2)" "bad feed lines reported with line numbers"
expect_rc 0 "addrdb build" "$WW" addrdb build "$T/feed.csv" -o "$T/built.csv"
expect_rc 0 "built DB loads" "$WW" addrdb lookup --no-default-db --db "$T/built.csv" 0x1111111111111111111111111111111111111111
expect_rc 2 "addrdb unknown subcommand" "$WW" addrdb frobnicate

# decode: one JSON-RPC request by hand
expect_rc 0 "decode a JSON-RPC request" "$WW" decode '{"jsonrpc":"2.0","id":7,"method":"eth_sendTransaction","params":[{"from":"0x1111111111111111111111111111111111111111","to":"0x2222222222222222222222222222222222222222","value":"0xde0b6b3a7640000"}]}'
contains "$T/out" '"value":"1000000000000000000"' "decode prints exact decimal value"
contains "$T/out" '"rpc_id":7' "decode keeps the rpc id"
expect_rc 2 "decode of garbage" "$WW" decode 'zz-not-hex'
# decode --chain solana: a bare wire transaction (web3.js, System transfer), base58 and base64
SOLTX58='5KJQhHSevYML1yguKdWtL4bLnPMHpmvGLebWteLcvoJAZaPi4DmbEnDacGaKUnUXQizLJ3rCuskVEvfSwNvpsz8J4dLVuYRCgi1UPQeURH3VseLhyLKNNcN2riDcA3MFwnKUYkhte5tuL7X3HPJDVxQeoi92eCXQtds1VMq6SKjhF7AjwiGhQUwYGL5AYaNboPB7fBqAUbmgMuxHSSKoePA14Tpn8wifr2g3Wjy5BeRcyvWAfHrDmAdutXos3KhZhgdBsVpw8fG1i8kvHrEyBw3ec8BwNZjkw9ccf'
SOLTX64='AY7tl3OOmvHDiekoSl1aGEfD0FHa5KosMCooICqxnQR/x7Lm/C/DZXOuCsXn4Ed8KJ1c9ySajjnlkokJdMiBLwgBAAEDctZUg6KP4yeTAM6h4tt+4IyF7ZX45eDRn2vm5M4P2x6gyGpHkiREyP9LGCquOwTzAJr9/BRqmktvDz8RdsuxdAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWgWXBFNpGqbLzTZlY39XNrmSd51irdVc8q66cmR2GjwBAgIAAQwCAAAAISs/sjYAAAA='
expect_rc 0 "decode --chain solana base58" "$WW" decode --chain solana "$SOLTX58"
contains "$T/out" '"kind":"sol-transfer"' "solana decode: kind"
contains "$T/out" '"from":"8jH2sKtbEHBPecMfeBnoFe8HVKMGXyaNuuzUvixrmmDf"' "solana decode: fee payer"
contains "$T/out" '"recipient":"BpdUq7jiLAFqVSjyncPvCPTfeRxGfLsKXquHrTWABxGK"' "solana decode: recipient"
contains "$T/out" '"value":"234918718241"' "solana decode: lamports"
contains "$T/out" '"tx_hash":"3rjwAqJRbCtGTy6HiqrBdkHFhhLbakwnmgMABxupn9nrtpPU9f2hMkFUfoqnF9HnbGR239WvHiYZqdgEF1gSJ5Sw"' "solana decode: signature"
contains "$T/out" '"signature_valid":true' "solana decode: signature verifies"
expect_rc 0 "decode --chain solana base64" "$WW" decode --chain solana "$SOLTX64"
contains "$T/out" '"recipient":"BpdUq7jiLAFqVSjyncPvCPTfeRxGfLsKXquHrTWABxGK"' "solana base64 decode: recipient"
echo "$SOLTX64" > "$T/soltx.txt"
expect_rc 0 "decode --chain solana from stdin" sh -c '"$0" decode --chain solana - < "$1"' "$WW" "$T/soltx.txt"
contains "$T/out" '"kind":"sol-transfer"' "solana stdin decode: kind"
expect_rc 2 "decode --chain solana of a quote" "$WW" decode --chain solana 'ab"c'
expect_rc 2 "decode --chain solana of garbage base58" "$WW" decode --chain solana '1111111111'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
