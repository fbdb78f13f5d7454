#!/usr/bin/env bash
# Turns addrdb/bundled.csv into a C string literal (one line per feed line) for addrdb/bundled.c.
set -eu
echo "/* generated from $1 by tests/gen_bundled.sh: do not edit */"
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$1"
