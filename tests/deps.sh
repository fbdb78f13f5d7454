#!/usr/bin/env bash
# Installs what walletwatch needs to build and test on Debian 12, when it is missing.
# As root: apt-get install. Otherwise: prints the exact command and stops (exit 1).
set -u
PKGS="libpcap libnghttp2 libnghttp3 openssl libsecp256k1 libcjson zlib libbrotlidec libbrotlienc libsodium yara"
DEBS="build-essential pkg-config libpcap-dev libnghttp2-dev libnghttp3-dev libssl-dev libsecp256k1-dev libcjson-dev zlib1g-dev libbrotli-dev libsodium-dev libyara-dev python3"
missing=0
command -v pkg-config >/dev/null 2>&1 || missing=1
command -v cc >/dev/null 2>&1 || missing=1
command -v python3 >/dev/null 2>&1 || missing=1
if [ $missing -eq 0 ]; then
    for p in $PKGS; do
        pkg-config --exists "$p" 2>/dev/null || { missing=1; break; }
    done
fi
[ $missing -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends $DEBS"
if [ "$(id -u)" -ne 0 ]; then
    echo "walletwatch: build dependencies are missing. Install them with:" >&2
    echo "  sudo apt-get update && sudo $cmd" >&2
    exit 1
fi
echo "walletwatch: installing build dependencies: $DEBS"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && $cmd >/tmp/walletwatch-apt.log 2>&1 || {
    echo "walletwatch: apt-get failed; see /tmp/walletwatch-apt.log" >&2
    exit 1
}
