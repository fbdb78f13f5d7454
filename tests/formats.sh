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
while read -r name pcap keylog expected flags; do
    case $name in ''|'#'*) continue ;; esac
    f=$BUILD/golden/$name.jsonl
    if [ ! -s "$f" ]; then
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
OWN_ALERT = ("level", "chain", "method", "where", "role", "observed", "expected", "similarity", "db")
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

# JUnit against the XSD
XSD=$SCHEMAS/jenkins-junit-10.xsd
if command -v xmllint >/dev/null; then
    "$WW" -r pcaps/http1-clean.pcap --format junit >"$OUT/clean.junit.xml" 2>/dev/null
    "$WW" -r pcaps/http1-hijack.pcap --format junit >"$OUT/hijack.junit.xml" 2>/dev/null
    "$WW" -r pcaps/dapp-h2-hijack.pcapng --format junit >"$OUT/h2.junit.xml" 2>/dev/null
    "$WW" -r pcaps/tls13-hijack.pcap --format junit >"$OUT/nokeys.junit.xml" 2>/dev/null
    for x in clean hijack h2 nokeys hostile; do
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
    grep -q '<h2>Alerts</h2>' "$OUT/hijack.dom" && grep -q '<mark>' "$OUT/hijack.dom" \
        && grep -q '0x<mark>fc4a4858bafef54d1b1</mark>d<mark>7697</mark>' "$OUT/hijack.dom" \
        && ok || bad "Chromium: the hijack report shows no alerts table with marked addresses"
    grep -q 'id="verdict"><b>Inconclusive</b>: 2 TLS sessions without keys' "$OUT/nokeys.dom" \
        && ! grep -q 'No wallet hijacking detected' "$OUT/nokeys.dom" \
        && ok || bad "Chromium: the keyless report does not say inconclusive"
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
