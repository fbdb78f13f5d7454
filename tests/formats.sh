#!/usr/bin/env bash
# formats.sh BUILD - the output formats against their published schemas:
#  - the JSON events of every golden capture (tests/pcaps.list) and of a run with hostile
#    non-UTF-8 bytes (written by build/tests/test_output) validate against Suricata's EVE schema
#    once walletwatch's own objects (wallet, intent, rpc_result, walletwatch, and walletwatch's
#    members of alert) are set aside; every line is strict UTF-8;
#  - the JUnit of clean, hijacked, keyless (inconclusive) and hostile runs validates against the
#    Jenkins xUnit junit-10.xsd (xmllint --schema).
# Needs ../shared/corpus/schemas (skips with a message when absent), python3-jsonschema, xmllint.
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
WW=$BUILD/walletwatch
SCHEMAS=${WW_SHARED:-../shared}/corpus/schemas
OUT=$BUILD/test-output
mkdir -p "$OUT"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
if [ ! -f "$SCHEMAS/suricata-eve-schema.json" ]; then
    echo "SKIP formats: $SCHEMAS not found (../shared absent): EVE/JUnit schema checks skipped"
    echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
# the hostile-bytes outputs of the unit test
WW_BUILD=$BUILD "$BUILD/tests/test_output" >/dev/null 2>&1 || bad "test_output did not run"

# golden runs' JSON (golden.sh leaves them in BUILD/golden; make them when absent)
files=()
mkdir -p "$BUILD/golden"
while read -r name pcap keylog expected flags; do
    case $name in ''|'#'*) continue ;; esac
    f=$BUILD/golden/$name.jsonl
    if [ ! -s "$f" ] || [ "$WW" -nt "$f" ]; then
        args=(-r "pcaps/$pcap" -q -o "$f" --truncate)
        [ "$keylog" != "-" ] && args+=(-k "pcaps/$keylog")
        "$WW" "${args[@]}" >/dev/null 2>&1 </dev/null
    fi
    files+=("$f")
done <tests/pcaps.list
files+=("$OUT/hostile.jsonl")

python3 - "$SCHEMAS/suricata-eve-schema.json" "${files[@]}" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
V = jsonschema.Draft202012Validator if hasattr(jsonschema, "Draft202012Validator") else jsonschema.Draft7Validator
v = V(schema)
OWN = ("wallet", "intent", "rpc_result", "walletwatch")
OWN_ALERT = ("level", "chain", "method", "where", "role", "observed", "observed_as_written",
             "expected", "served_url", "served_at", "similarity", "db")
ok = bad = 0
for path in sys.argv[2:]:
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        print(f"FAIL: {path}: not strict UTF-8: {e}"); bad += 1; continue
    n = errs = 0
    for i, line in enumerate(text.splitlines(), 1):
        e = json.loads(line)
        for k in OWN:
            e.pop(k, None)
        if isinstance(e.get("alert"), dict):
            for k in OWN_ALERT:
                e["alert"].pop(k, None)
            assert e["alert"]["severity"] in (1, 2, 3)
        problems = list(v.iter_errors(e))
        n += 1
        if problems:
            errs += 1
            if errs <= 3:
                print(f"FAIL: {path}:{i}: {problems[0].message[:200]}")
    if errs or n == 0:
        bad += 1
    else:
        ok += 1
print(f"eve-schema: {ok} passed, {bad} failed")
sys.exit(1 if bad else 0)
PY
rc=$?
[ $rc -eq 0 ] && passed=$((passed + ${#files[@]})) || bad "EVE schema validation (above)"

# Every alert sentence of the golden runs reads as a sentence: no doubled or stray blanks, no
# "to is" / empty role ("eth_sendTransaction  is"), a wallet call's sentence names its address
# (as written), no "()" or "(%s)" left over; an alert with served_url has served_at and the
# URL is absolute.
python3 - "${files[@]}" <<'PY'
import json, re, sys
ok = bad = n = 0
sys.argv = [a for a in sys.argv if not a.endswith("/hostile.jsonl")]  # its sentences are the test's
BAD = [(re.compile(r"  "), "doubled space"), (re.compile(r" ,|,,|, *$|^ | $"), "stray comma or blank"),
       (re.compile(r"\b(to|from|recipient|spender|operator|delegate|authority) (is|was|looks|checked)\b"),
        "a bare role as subject ('to is')"),
       (re.compile(r"\(\)|%[sdu]|\(null\)"), "empty or unformatted field"),
       (re.compile(r"\b(a|an|the) (a|an|the)\b"), "doubled article")]
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        e = json.loads(line)
        a = e.get("alert")
        if not isinstance(a, dict):
            continue
        n += 1
        sig = a.get("signature", "")
        probs = [why for rx, why in BAD if rx.search(sig)]
        if a.get("where") == "wallet_call" and a.get("observed"):
            if a["observed"].lower() not in sig.lower():
                probs.append("does not name the address it is about")
            if a.get("observed_as_written") and a["observed_as_written"] not in sig:
                probs.append("does not show the address as written")
        if a.get("rule") == "bad-checksum" and a.get("observed_as_written", "") == a.get("observed"):
            probs.append("bad-checksum without the mixed-case form")
        if "served_url" in a and (not re.match(r"^(https?|wss?)://", a["served_url"]) or "served_at" not in a):
            probs.append("served_url not absolute or without served_at")
        if probs:
            bad += 1
            if bad <= 10:
                print(f"FAIL: {path}: {a.get('rule')}: {'; '.join(probs)}: {sig!r}")
        else:
            ok += 1
print(f"signatures: {ok} of {n} alert sentences read well")
sys.exit(1 if bad or n == 0 else 0)
PY
[ $? -eq 0 ] && ok || bad "alert sentences (above)"
# the expected address's serving URL and time reach every output: EVE (above), text, JUnit
"$WW" -r pcaps/http1-lookalike.pcap >"$OUT/lookalike.txt" 2>/dev/null
grep -q 'served to this browser by http://shop.example/api/invoice/INV-1042 at 2025-09-08T16:00:00' \
    "$OUT/lookalike.txt" && ok || bad "text: no served URL and time"
grep -q 'sent      0xE41EFE829Faf9c0E99EDCF0dbb5495e59C7a1cF6' "$OUT/lookalike.txt" \
    && ok || bad "text: bad-checksum does not show the mixed-case address as sent"
"$WW" -r pcaps/http1-lookalike.pcap --format junit >"$OUT/lookalike.junit.xml" 2>/dev/null
grep -q 'served: 0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6  (served to this browser by http://shop.example/api/invoice/INV-1042 at 2025-09-08T16:00:00' "$OUT/lookalike.junit.xml" \
    && ok || bad "JUnit failure body: no served URL and time"

# JUnit against the XSD
XSD=$SCHEMAS/jenkins-junit-10.xsd
if command -v xmllint >/dev/null; then
    "$WW" -r pcaps/http1-clean.pcap --format junit >"$OUT/clean.junit.xml" 2>/dev/null
    "$WW" -r pcaps/http1-hijack.pcap --format junit >"$OUT/hijack.junit.xml" 2>/dev/null
    "$WW" -r pcaps/dapp-h2-hijack.pcapng --format junit >"$OUT/h2.junit.xml" 2>/dev/null
    "$WW" -r pcaps/tls13-hijack.pcap --format junit >"$OUT/nokeys.junit.xml" 2>/dev/null
    for x in clean hijack h2 nokeys hostile lookalike; do
        if xmllint --noout --schema "$XSD" "$OUT/$x.junit.xml" >"$OUT/$x.xmllint" 2>&1; then ok
        else bad "JUnit $x does not validate: $(head -3 "$OUT/$x.xmllint")"; fi
    done
    grep -q 'type="inconclusive"' "$OUT/nokeys.junit.xml" && ok || bad "keyless JUnit is not marked inconclusive"
    grep -q 'name="visibility: no wallet hijacking detected"' "$OUT/clean.junit.xml" && ok || bad "clean JUnit passes"
    n=$(grep -c '<testcase ' "$OUT/hijack.junit.xml")
    u=$(grep -o ' name="[^"]*"' "$OUT/hijack.junit.xml" | sort | uniq -d | wc -l)
    [ "$n" -eq 6 ] && [ "$u" -eq 0 ] && ok || bad "hijack JUnit: $n testcases (want 5 calls + visibility), $u duplicate names"
else
    echo "SKIP JUnit XSD: xmllint not installed (libxml2-utils)"
fi
# The HTML report of the hijack capture, organised by wallet call: 5 call sections, 4 flagged;
# each finding inside its call (the unlimited approval under call 3, the erc20-approve); the
# served URL and time shown; the amount + token, the tx hash and the node's answer in the call's
# facts. On the file as written, and on what Chromium made of it (below).
check_grouping() {
    python3 - "$1" <<'PY'
import re, sys
d = open(sys.argv[1], encoding="utf-8").read()
secs = re.findall(r'<section class="call( flagged)?" id="call-(\d+)">(.*?)</section>', d, re.S)
probs = []
if len(secs) != 5: probs.append(f"{len(secs)} call sections, want 5")
if sum(1 for f, _, _ in secs if f) != 4: probs.append("want 4 flagged calls")
by = {int(i): body for _, i, body in secs}
c3 = by.get(3, "")
if "erc20-approve" not in c3 or 'data-rule="unlimited-approval"' not in c3:
    probs.append("the unlimited-approval finding is not inside call 3 (erc20-approve)")
if any('data-rule="unlimited-approval"' in by.get(i, "") for i in (1, 2, 4, 5)):
    probs.append("unlimited-approval shown under another call")
if 'served by</th><td class="served-url">http://shop.example/api/invoice/INV-1042' not in by.get(1, ""):
    probs.append("call 1 does not show the URL that served the expected address")
if not re.search(r'served-url">[^<]*<span class="small">at 2025-09-08 15:00:00', by.get(1, "")):
    probs.append("no time beside the served URL")
if "25000000 units of token 0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48" not in by.get(2, ""):
    probs.append("call 2 lacks amount + token")
c4 = by.get(4, "")
if "tx hash" not in c4 or "0x5472854b29df5840b37a9215871da7d6af3c0a540f207e6b87713383bc9f8ef2" not in c4:
    probs.append("call 4 lacks its tx hash")
if 'class="finding"' in by.get(5, "") or "no finding" not in by.get(5, ""):
    probs.append("call 5 (clean) is not shown as without finding")
if "node answered" not in by.get(2, ""): probs.append("call 2 lacks the node's answer")
if 'id="blind"' not in d: probs.append("no 'what this run could not see' section")
for p in probs: print(f"FAIL: {sys.argv[1]}: grouping:", p)
sys.exit(1 if probs else 0)
PY
}
"$WW" -q -r pcaps/http1-hijack.pcap --html "$OUT/hijack.html" >/dev/null 2>&1
check_grouping "$OUT/hijack.html" && ok || bad "HTML: the hijack report is not organised by wallet call (above)"
# The HTML report in a real browser (Debian's chromium, headless): what a person sees
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROME" ]; then
    "$WW" -q -r pcaps/http1-hijack.pcap --html "$OUT/hijack.html" >/dev/null 2>&1
    "$WW" -q -r pcaps/tls13-hijack.pcap --html "$OUT/nokeys.html" >/dev/null 2>&1
    "$WW" -q -r pcaps/http1-clean.pcap --html "$OUT/clean.html" >/dev/null 2>&1
    cr() { timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$OUT/chromium-profile" "$@" 2>/dev/null; }
    for h in hijack nokeys clean; do
        cr --dump-dom "file://$PWD/$OUT/$h.html" >"$OUT/$h.dom" || true
        cr --window-size=1280,900 --screenshot="$PWD/$OUT/$h.png" "file://$PWD/$OUT/$h.html" >/dev/null || true
    done
    grep -q '<h2>Wallet calls</h2>' "$OUT/hijack.dom" && grep -q '<mark>' "$OUT/hijack.dom" \
        && grep -q '0x<mark>fc4a4858bafef54d1b1</mark>d<mark>7697</mark>' "$OUT/hijack.dom" \
        && ok || bad "Chromium: the hijack report shows no wallet calls with marked addresses"
    check_grouping "$OUT/hijack.dom"
    [ $? -eq 0 ] && ok || bad "Chromium: the hijack report is not organised by wallet call (above)"
    grep -q 'id="verdict"><b>Inconclusive</b>: 2 TLS sessions without keys' "$OUT/nokeys.dom" \
        && ! grep -q 'No wallet hijacking detected' "$OUT/nokeys.dom" \
        && grep -q '<li>2 TLS sessions without keys</li>' "$OUT/nokeys.dom" \
        && ok || bad "Chromium: the keyless report does not say inconclusive and what it could not see"
    grep -q 'No wallet hijacking detected' "$OUT/clean.dom" && ok || bad "Chromium: the clean report"
    [ -s "$OUT/hijack.png" ] && ok || bad "Chromium: no screenshot"
    echo "screenshots: $OUT/hijack.png $OUT/nokeys.png $OUT/clean.png"
else
    echo "SKIP HTML in headless Chromium: chromium not installed (apt-get install chromium)"
fi

# make install with DESTDIR: stripped binary, man page, systemd unit pointing at it, docs
rm -rf "$OUT/inst"
if make -s --no-print-directory install BUILD="$BUILD" DESTDIR="$OUT/inst" PREFIX=/usr >"$OUT/install.log" 2>&1; then
    b=$OUT/inst/usr/bin/walletwatch
    [ -x "$b" ] && "$b" --version >/dev/null && ok || bad "installed binary does not run"
    if command -v file >/dev/null; then
        file "$b" | grep -q ', stripped' && ok || bad "installed binary is not stripped"
    else echo "SKIP stripped check: file(1) not installed"; fi
    [ -f "$OUT/inst/usr/share/man/man1/walletwatch.1" ] && ok || bad "no man page installed"
    grep -q '^ExecStart=/usr/bin/walletwatch ' "$OUT/inst/usr/lib/systemd/system/walletwatch.service" \
        && ok || bad "systemd unit missing or not pointing at PREFIX/bin"
    [ -f "$OUT/inst/usr/share/doc/walletwatch/LICENSE" ] && ok || bad "LICENSE not installed"
else
    bad "make install DESTDIR failed: $(tail -3 "$OUT/install.log")"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
