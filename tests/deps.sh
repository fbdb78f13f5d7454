#!/usr/bin/env bash
# Installs what walletwatch needs to build and test on Debian 12, when it is missing.
# The packages are listed once, in tests/debian-packages.txt (also read by .ci/run).
# As root: apt-get install. Otherwise: prints the exact command and stops (exit 1).
#   tests/deps.sh          check the list's pc:/cmd: items, install the list if one is missing
#   tests/deps.sh --list   print the package names
set -u
LIST="$(dirname "$0")/debian-packages.txt"
[ -r "$LIST" ] || { echo "walletwatch: $LIST is missing" >&2; exit 1; }
DEBS=$(sed -e 's/#.*//' "$LIST" | awk 'NF { print $1 }' | tr '\n' ' ')
if [ "${1:-}" = "--list" ]; then
    echo "$DEBS"
    exit 0
fi
missing=""
while read -r item; do
    case $item in
    pc:*) pkg-config --exists "${item#pc:}" 2>/dev/null || missing="$missing ${item#pc:}" ;;
    cmd:*) command -v "${item#cmd:}" >/dev/null 2>&1 || missing="$missing ${item#cmd:}" ;;
    esac
done < <(sed -e 's/#.*//' "$LIST" | awk '{ for (i = 2; i <= NF; i++) print $i }')
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends $DEBS"
if [ "$(id -u)" -ne 0 ]; then
    echo "walletwatch: build dependencies are missing:$missing. Install them with:" >&2
    echo "  sudo apt-get update && sudo $cmd" >&2
    exit 1
fi
echo "walletwatch: installing build dependencies (missing:$missing): $DEBS"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && $cmd >/tmp/walletwatch-apt.log 2>&1 || {
    echo "walletwatch: apt-get failed; see /tmp/walletwatch-apt.log" >&2
    exit 1
}
