#!/usr/bin/env bash
# identity.sh BUILD record|compare DIR - every output of the CLI on every capture, byte for
# byte: for each line of tests/pcaps.list (its key log and flags) and every capture in pcaps/
# (alone, no key log), runs BUILD/walletwatch with --format text, jsonl and junit, -o JSONL,
# --log-http, --html and -w evidence, and keeps stdout, the files and the exit status.
#   record DIR    writes them under DIR (the reference, made with the code before a change)
#   compare DIR   runs again into a scratch directory and compares with DIR, one check per run
# Used to show that a restructuring changes no byte of output. Deterministic: LC_ALL=C, TZ=UTC.
set -u
export LC_ALL=C TZ=UTC
BUILD=${1:-build}
MODE=${2:-compare}
REF=${3:-/tmp/engine-ref}
cd "$(dirname "$0")/.." || exit 2
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BIN=$BUILD/walletwatch
if [ "$MODE" = record ]; then OUT=$REF; else OUT=$(mktemp -d); fi
mkdir -p "$OUT"
passed=0
failed=0
printf 'rule any_fn { meta: severity = "low" strings: $a = "function" condition: $a }\n' >"$OUT/any.yar"

one() { # name, args...: every output variant of one capture
    local name=$1; shift
    local d=$OUT/$name
    mkdir -p "$d"
    "$BIN" "$@" -o "$d/events.jsonl" --truncate --format text >"$d/text.out" 2>"$d/text.err" </dev/null
    echo $? >"$d/text.rc"
    "$BIN" "$@" --format jsonl >"$d/jsonl.out" 2>/dev/null </dev/null
    echo $? >"$d/jsonl.rc"
    "$BIN" "$@" --format junit -v >"$d/junit.out" 2>/dev/null </dev/null
    echo $? >"$d/junit.rc"
    "$BIN" "$@" --log-http -o "$d/http.jsonl" --truncate --html "$d/report.html" -q >"$d/quiet.out" \
        2>/dev/null </dev/null
    echo $? >"$d/http.rc"
    "$BIN" "$@" -w "$d/evidence.pcapng" --evidence-secrets -v -o /dev/null >/dev/null \
        2>"$d/evidence.err" </dev/null
    echo $? >"$d/evidence.rc"
    sed -i "s|$d/|OUT/|g" "$d/evidence.err"
    "$BIN" "$@" --yara "$OUT/any.yar" -f "tcp" -o "$d/yara.jsonl" --truncate >/dev/null 2>&1 </dev/null
    echo $? >"$d/yara.rc"
    if [ "$MODE" != record ]; then
        if diff -r "$REF/$name" "$d" >"$OUT/$name.diff" 2>&1; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            echo "FAIL $name: output differs from $REF/$name"
            head -n 20 "$OUT/$name.diff" | sed 's/^/    /'
        fi
    fi
}

while read -r name pcap keylog _expected flags; do
    case $name in ''|'#'*) continue ;; esac
    args=(-r "pcaps/$pcap")
    [ "$keylog" != "-" ] && args+=(-k "pcaps/$keylog")
    # shellcheck disable=SC2206
    [ -n "${flags:-}" ] && args+=($flags)
    one "list-$name" "${args[@]}"
done <tests/pcaps.list
for p in pcaps/*.pcap pcaps/*.pcapng; do
    [ -f "$p" ] || continue
    one "file-$(basename "$p")" -r "$p"
done
if [ "$MODE" = record ]; then
    echo "recorded $(find "$OUT" -mindepth 1 -maxdepth 1 -type d | wc -l) runs in $OUT"
else
    echo "$passed passed, $failed failed"
    rm -rf "$OUT"
    [ "$failed" -eq 0 ]
fi
