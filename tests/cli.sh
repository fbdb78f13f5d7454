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

printf 'rule broken { condition: $nope }\n' >"$T/bad.yar"
expect_rc 2 "--yara rules that do not compile" "$WW" --yara "$T/bad.yar" -r "$CLEAN"
contains "$T/err" "bad.yar" "--yara error names the file"
expect_rc 2 "--yara file missing" "$WW" --yara "$T/none.yar" -r "$CLEAN"
printf 'rule never { strings: $a = "zz-never-in-a-script-zz" condition: $a }\n' >"$T/ok.yar"
expect_rc 0 "--yara rules that compile" "$WW" --yara "$T/ok.yar" -r "$CLEAN"

# clean and hijacked sessions
expect_rc 0 "clean session exits 0" "$WW" -r "$CLEAN" -o "$T/clean.jsonl"
[ "$(count_alerts "$T/clean.jsonl")" -eq 0 ] && ok || bad "clean session raised alerts"
expect_rc 1 "hijacked session exits 1" "$WW" -r "$HIJACK" -o "$T/hijack.jsonl"
n_hijack=$(count_alerts "$T/hijack.jsonl")
[ "$n_hijack" -gt 0 ] && ok || bad "hijacked session raised no alert"
contains "$T/out" "known-attacker" "text output names the rule"
contains "$T/out" "sent      0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976" "text output shows the observed address"
contains "$T/out" "^" "text output marks the differing characters"
python3 - "$T/hijack.jsonl" <<'PY' && ok || bad "every -o line is JSON and the last is stats"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]
assert evs and evs[-1]["event_type"] == "stats", "last event is not stats"
ts = [e["timestamp"] for e in evs]
assert all(len(t) == 31 and t.endswith("+0000") for t in ts), ts[:3]
for e in evs:
    if e["event_type"] == "alert":
        a = e["alert"]
        assert a["level"] in ("critical", "high", "medium", "low", "info")
        assert a["severity"] == {"critical": 1, "high": 1, "medium": 2}.get(a["level"], 3)
        assert a["action"] == "allowed" and a["gid"] == 1 and a["signature_id"] > 0
        assert e["community_id"].startswith("1:") and len(e["community_id"]) == 30
        assert a["chain"] == "evm" and a["observed"].startswith("0x") and a["observed"] == a["observed"].lower()
        assert "flow_id" in e and e["proto"] == "TCP"
    for k, v in e.items():
        assert v != "", "empty string for " + k
PY

expect_rc 0 "--fail-on none" "$WW" --fail-on none -r "$HIJACK"
# visibility (issue 12 item 6): a TLS session without keys never passes; --blind-ok excuses it
expect_rc 3 "TLS without keys is inconclusive" "$WW" -r pcaps/tls13-hijack.pcap --format junit
"$WW" -r pcaps/tls13-hijack.pcap >"$T/blind.txt" 2>&1
contains "$T/blind.txt" "inconclusive: 2 TLS sessions without keys" "text summary says inconclusive and why"
expect_rc 0 "--blind-ok all runs green" "$WW" --blind-ok all -r pcaps/tls13-hijack.pcap
expect_rc 3 "--blind-ok other hosts does not excuse keyless sessions" "$WW" --blind-ok other.example -r pcaps/tls13-hijack.pcap
# the same for HTTP/3: the real-Chromium h3 recording with its Decryption Secrets Block removed
python3 - pcaps/dapp-h3-hijack.pcapng "$T/h3-nokeys.pcapng" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, i = bytearray(), 0
while i + 12 <= len(d):
    t, l = struct.unpack_from("<II", d, i)
    if l < 12:
        break
    if t != 0x0000000A:
        out += d[i:i + l]
    i += l
open(sys.argv[2], "wb").write(out)
PY
expect_rc 3 "HTTP/3 without keys: inconclusive, never clean" "$WW" -r "$T/h3-nokeys.pcapng" -o "$T/h3-nokeys.jsonl"
contains "$T/h3-nokeys.jsonl" '"quic_no_key":1' "HTTP/3 without keys: counted as a QUIC blind spot"
expect_rc 0 "--blind-ok with the QUIC SNI excuses it" "$WW" --blind-ok shop.test -r "$T/h3-nokeys.pcapng"
expect_rc 3 "--blind-ok other hosts does not excuse keyless QUIC" "$WW" --blind-ok other.example -r "$T/h3-nokeys.pcapng"
expect_rc 1 "an alert at --fail-on decides before visibility" "$WW" -r pcaps/tls13-hijack.pcap -k pcaps/tls13-hijack.keys
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
contains "$T/out" "<failure type=\"wallet-hijacking\" message=" "junit failure per wallet call"
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

# scripts served to the browser: drainer-script (attacker-DB addresses embedded) and --yara
JS="var pool=['0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976','1H13VnQJKtT4HjD5ZFKaaiZEetMbG7nDHx'];function checkethereumw(){}"
python3 tests/tools/mkflow.py "$T/script.pcap" "c:GET /debug.js HTTP/1.1\r\nHost: cdn.test\r\n\r\n" \
    "s:HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: ${#JS}\r\n\r\n$JS"
expect_rc 1 "drainer script" "$WW" -r "$T/script.pcap" -o "$T/script.jsonl"
contains "$T/script.jsonl" '"rule":"drainer-script"' "drainer-script alert from the binary"
contains "$T/script.jsonl" 'embeds 2 attacker-DB addresses' "drainer-script counts the DB addresses"
printf 'rule qix { meta: severity = "medium" strings: $a = "checkethereumw" condition: $a }\n' >"$T/qix.yar"
expect_rc 1 "--yara over a served script" "$WW" --yara "$T/qix.yar" -r "$T/script.pcap" -o "$T/yara.jsonl"
contains "$T/yara.jsonl" '"rule":"yara-match","level":"medium"' "yara-match alert with the rule's severity"
# issue 14.2: 9 MiB of whitespace before a hijacked call in one POST (over the 8 MiB body cap):
# the call cannot be decoded, so the binary says it could not check it, and fails (exit 1)
python3 - "$T/pad.pcap" <<'PY'
import runpy, sys
raw = ('{"jsonrpc":"2.0","id":2,"method":"eth_sendRawTransaction","params":['
       '"0xdf800182520894fc4a4858bafef54d1b1d7697bfb5c52f4c1669760180258001"]}')
body = " " * (9 << 20) + raw
sys.argv = ["mkflow.py", sys.argv[1],
            "c:POST / HTTP/1.1\\r\\nHost: rpc.test\\r\\nContent-Type: application/json\\r\\n"
            "Content-Length: %d\\r\\n\\r\\n%s" % (len(body), body)]
runpy.run_path("tests/tools/mkflow.py")
PY
expect_rc 1 "a wallet call past the body cap" "$WW" -r "$T/pad.pcap" -o "$T/pad.jsonl"
contains "$T/pad.jsonl" '"rule":"unchecked-wallet-call","level":"high"' "unchecked-wallet-call alert from the binary"
contains "$T/pad.jsonl" '"type":"unchecked-body"' "unchecked-body anomaly beside it"
rm -f "$T/pad.pcap"

# the node's answers to wallet calls, matched by id
"$WW" -r "$HIJACK" -o "$T/rpc.jsonl" >/dev/null 2>&1
[ "$(grep -c '"event_type":"rpc_result"' "$T/rpc.jsonl")" -eq 5 ] && ok || bad "rpc_result events for the 5 wallet calls"
contains "$T/rpc.jsonl" '"rpc_result":{"method":"eth_sendTransaction","rpc_id":5,"result":"0xb51e25bd' "rpc_result carries the tx hash"

# --html: one self-contained page
expect_rc 1 "--html report of a hijacked session" "$WW" -q -r "$HIJACK" --html "$T/r.html"
contains "$T/r.html" "<h2>Wallet calls</h2>" "html report lists the wallet calls"
contains "$T/r.html" "<mark>" "html report marks the differing characters"
[ "$(grep -c '<div class="finding"' "$T/r.html")" -eq "$n_hijack" ] && ok || bad "html report shows each alert once"
grep -qE '<(script|link)|src=' "$T/r.html" && bad "html report loads something" || ok
expect_rc 0 "--html report of a clean session" "$WW" -q -r "$CLEAN" --html "$T/c.html"
contains "$T/c.html" "No wallet hijacking detected." "clean html report"
expect_rc 2 "--html to an unwritable path" "$WW" -q -r "$CLEAN" --html /nonexistent/dir/r.html

# a key that arrives after its records: the key log in a DSB at the end of the file, the
# connections still open then (no FIN captured): the backlog is decrypted when they close
python3 tests/tools/dsb_last.py pcaps/tls13-hijack.pcap pcaps/tls13-hijack.keys "$T/late.pcapng"
expect_rc 1 "key log in a DSB after the records" "$WW" -q -r "$T/late.pcapng" -o "$T/late.jsonl"
[ "$(count_alerts "$T/late.jsonl")" -eq 4 ] && ok || bad "late DSB: the 4 alerts of tls13-hijack"
contains "$T/late.jsonl" '"tls_decrypted":2' "late DSB: both sessions decrypted"

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
# compiled index: built, detected by magic in lookup/stats and in -r runs, damaged copies refused
expect_rc 0 "addrdb build --csv" "$WW" addrdb build "$T/feed.csv" -o "$T/built2.csv" --csv
contains "$T/built2.csv" "evm,0x1111111111111111111111111111111111111111,test,mine" "CSV build output"
head -c 8 "$T/built.csv" | grep -q WWADDRDB && ok || bad "addrdb build writes a compiled index (magic)"
expect_rc 0 "compiled index with the bundled set" "$WW" addrdb build "$T/feed.csv" addrdb/bundled.csv -o "$T/all.idx"
expect_rc 0 "stats over a compiled index" "$WW" addrdb stats --no-default-db --db "$T/all.idx"
contains "$T/out" "entries: 281" "compiled index holds every entry"
expect_rc 0 "lookup in a compiled index (label)" "$WW" addrdb lookup --no-default-db --db "$T/all.idx" 0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976
contains "$T/out" "listed npm-qix-2025-09 eth_sendTransaction replacement (sohankanna" "label and source from the compiled index"
expect_rc 1 "compiled index: unlisted" "$WW" addrdb lookup --no-default-db --db "$T/all.idx" 0x0000000000000000000000000000000000000001
expect_rc 1 "a run with a compiled --db" "$WW" --no-default-db --db "$T/all.idx" -r "$HIJACK"
sz=$(stat -c %s "$T/all.idx")
head -c $((sz / 2)) "$T/all.idx" >"$T/trunc.idx"
expect_rc 2 "truncated compiled DB" "$WW" addrdb stats --db "$T/trunc.idx"
contains "$T/err" "truncated" "truncated compiled DB message"
expect_rc 2 "truncated compiled DB in a run" "$WW" --db "$T/trunc.idx" -r "$CLEAN"
head -c 50 "$T/all.idx" >"$T/short.idx"
expect_rc 2 "compiled DB shorter than its header" "$WW" addrdb stats --db "$T/short.idx"
contains "$T/err" "truncated" "short compiled DB message"
cp "$T/all.idx" "$T/ver.idx"; printf '\x07' | dd of="$T/ver.idx" bs=1 seek=8 conv=notrunc 2>/dev/null
expect_rc 2 "compiled DB from another version" "$WW" addrdb lookup --db "$T/ver.idx" 0x0000000000000000000000000000000000000001
contains "$T/err" "format version 7" "version message"
cp "$T/all.idx" "$T/bad.idx"; printf 'Z' | dd of="$T/bad.idx" bs=1 seek=$((sz - 20)) conv=notrunc 2>/dev/null
expect_rc 2 "corrupted compiled DB" "$WW" addrdb stats --db "$T/bad.idx"
contains "$T/err" "checksum" "corruption message"
printf '# nothing\n' >"$T/empty.csv"
expect_rc 0 "empty feed compiles" "$WW" addrdb build "$T/empty.csv" -o "$T/empty.idx"
expect_rc 0 "empty compiled DB loads" "$WW" addrdb stats --no-default-db --db "$T/empty.idx"
contains "$T/out" "entries: 0" "empty compiled DB has no entry"
expect_rc 1 "empty compiled DB: nothing listed" "$WW" addrdb lookup --no-default-db --db "$T/empty.idx" 0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976

# decode: one JSON-RPC request by hand
expect_rc 0 "decode a JSON-RPC request" "$WW" decode '{"jsonrpc":"2.0","id":7,"method":"eth_sendTransaction","params":[{"from":"0x1111111111111111111111111111111111111111","to":"0x2222222222222222222222222222222222222222","value":"0xde0b6b3a7640000"}]}'
contains "$T/out" '"value":"1000000000000000000"' "decode prints exact decimal value"
contains "$T/out" '"rpc_id":7' "decode keeps the rpc id"
expect_rc 2 "decode of garbage" "$WW" decode 'zz-not-hex'
# decode of a bare raw EVM transaction (hex, "0x" optional): the transaction decoder directly
RAWTX=$(grep -oE '0x[0-9a-f]{100,}' tests/corpus/fuzz_jsonrpc/raw_type0.json | head -1)
expect_rc 0 "decode a raw EVM transaction" "$WW" decode "${RAWTX#0x}"
contains "$T/out" '"kind":"erc20-transfer"' "raw transaction decode: kind"
contains "$T/out" '"method":"eth_sendRawTransaction"' "raw transaction decode: method"
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

# HTTP/3: Chrome's QUIC session with cloudflare-quic.com (its secrets in a DSB): the GET / over h3
# and its 200, on a UDP flow, with the quic object and quic_sessions.
QPC=${WW_SHARED:-../shared}/corpus/quic/chrome-cloudflare-quic-with-secrets.pcapng
if [ -f "$QPC" ]; then
    expect_rc 0 "QUIC capture" "$WW" -r "$QPC" --log-http -o "$T/quic.jsonl"
    grep '"app_proto":"http3"' "$T/quic.jsonl" >"$T/h3.jsonl"
    contains "$T/h3.jsonl" '"kind":"request","hostname":"cloudflare-quic.com","url":"/","http_method":"GET"' "HTTP/3 GET / to cloudflare-quic.com"
    contains "$T/h3.jsonl" '"kind":"response","hostname":"cloudflare-quic.com","url":"/","http_method":"GET","status":200' "HTTP/3 response 200"
    contains "$T/h3.jsonl" '"version":"HTTP/3"' "HTTP/3 version"
    contains "$T/h3.jsonl" '"proto":"UDP"' "QUIC flow proto UDP"
    contains "$T/h3.jsonl" '"quic":{"version":"1","sni":"cloudflare-quic.com"},"walletwatch":{"quic_cipher":"TLS_AES_128_GCM_SHA256","quic_alpn":"h3"}' "quic object, cipher and ALPN"
    contains "$T/quic.jsonl" '"quic_sessions":1,"quic_decrypted":1,"quic_undecryptable":0' "stats: QUIC session decrypted"
    contains "$T/out" "QUIC 1 sessions, 1 decrypted, 0 undecryptable" "text summary: QUIC"
else
    echo "SKIP: HTTP/3 CLI test: $QPC absent (set WW_SHARED to the shared directory)"
fi
# issue 13: --baseline (accepted findings), --registry / --no-registry, --detect-memory
printf '# accepted\n* 0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976 our test payee\n* 0xe291a6a58259f660e8965c2f0938097030bf1767 expires=2999-12-31 ok\n' >"$T/bl.txt"
expect_rc 0 "--baseline accepting every finding" "$WW" --baseline "$T/bl.txt" -r "$HIJACK" -o "$T/bl.jsonl"
[ "$(count_alerts "$T/bl.jsonl")" -eq 0 ] && ok || bad "--baseline: accepted alerts still written"
python3 - "$T/bl.jsonl" "$n_hijack" <<'PY' && ok || bad "--baseline: stats.suppressed counts every accepted alert"
import json, sys
st = json.loads(open(sys.argv[1]).read().splitlines()[-1])["walletwatch"]
assert st["suppressed"] == int(sys.argv[2]), st
for k in ("clients_evicted", "served_dropped", "served_pairs", "mac_aliases"):
    assert st[k] == 0, (k, st)
PY
contains "$T/out" "accepted by the baseline" "text summary counts accepted findings"
printf 'unrequested-recipient 0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976 fine\nnot-a-rule\n' >"$T/badbl.txt"
expect_rc 2 "--baseline with a bad line" "$WW" --baseline "$T/badbl.txt" -r "$CLEAN"
contains "$T/err" "badbl.txt:2" "--baseline error names the file and line"
expect_rc 2 "--baseline file missing" "$WW" --baseline "$T/nobl.txt" -r "$CLEAN"
contains "$T/err" "nobl.txt" "--baseline missing file named"
printf 'evm,0x1111222233334444555566667777888899990000,Test Router,1,test\n' >"$T/reg.csv"
expect_rc 0 "--registry extra rows" "$WW" --registry "$T/reg.csv" -r "$CLEAN"
expect_rc 1 "--registry keeps the hijack" "$WW" --registry "$T/reg.csv" -r "$HIJACK"
printf 'evm,0x1111222233334444555566667777888899990000,Ok,1,test\nevm,0xnot-an-address,Bad,1,test\n' >"$T/badreg.csv"
expect_rc 2 "--registry with a bad line" "$WW" --registry "$T/badreg.csv" -r "$CLEAN"
contains "$T/err" "badreg.csv:2" "--registry error names the file and line"
expect_rc 2 "--registry file missing" "$WW" --registry "$T/noreg.csv" -r "$CLEAN"
expect_rc 0 "--no-registry" "$WW" --no-registry -r "$CLEAN"
expect_rc 1 "--detect-memory 64M" "$WW" --detect-memory 64M -r "$HIJACK"
expect_rc 2 "--detect-memory too small" "$WW" --detect-memory 1k -r "$CLEAN"
expect_rc 2 "--detect-memory not a size" "$WW" --detect-memory lots -r "$CLEAN"

# SIGTERM / SIGINT while the input pipe is idle (before any byte, and after a capture's first
# packets): served within 1 s, stats written, exit 3 (an interrupted replay is inconclusive).
# CMD_IN: what feeds the pipe (it then stays open, idle, for 30 s).
sig_idle() { # SIGNAL DESC FEED-FILE-OR-EMPTY
    local sig=$1 desc=$2 feed=$3
    rm -f "$T/sig.jsonl" "$T/sig.rc"
    mkfifo "$T/sig.fifo"
    ( "$WW" -q -r - -o "$T/sig.jsonl" <"$T/sig.fifo" >/dev/null 2>"$T/sig.err"; echo $? >"$T/sig.rc" ) &
    local sub=$!
    exec 9>"$T/sig.fifo" # the writer end stays open and idle until the end of the test
    [ -n "$feed" ] && cat "$feed" >&9
    sleep 0.5
    local pid
    pid=$(ps -o pid= --ppid "$sub" | tr -d ' ' | head -n 1)
    if [ -z "$pid" ]; then bad "$desc: walletwatch not running"; exec 9>&-; rm -f "$T/sig.fifo"; return; fi
    local t0 t1
    t0=$(date +%s%N)
    kill -"$sig" "$pid"
    for _ in $(seq 1 40); do [ -s "$T/sig.rc" ] && break; sleep 0.05; done
    t1=$(date +%s%N)
    exec 9>&-
    wait "$sub" 2>/dev/null
    rm -f "$T/sig.fifo"
    local ms=$(((t1 - t0) / 1000000))
    if [ -s "$T/sig.rc" ] && [ "$ms" -le 1000 ]; then ok; else bad "$desc: not served within 1 s (${ms} ms)"; fi
    if [ "$(cat "$T/sig.rc" 2>/dev/null)" = 3 ]; then ok; else bad "$desc: exit $(cat "$T/sig.rc" 2>/dev/null), want 3"; fi
    contains "$T/sig.jsonl" '"event_type":"stats"' "$desc: stats written"
}
sig_idle TERM "SIGTERM on an idle pipe before any byte" ""
head -c 24 "$CLEAN" >"$T/hdr.pcap"
sig_idle INT "SIGINT on an idle pipe after the pcap header" "$T/hdr.pcap"
sig_idle TERM "SIGTERM on an idle pipe after a whole capture" "$CLEAN"
contains "$T/sig.jsonl" '"packets":' "interrupted replay: stats count what was read"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
