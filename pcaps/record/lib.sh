# lib.sh - helpers shared by the recorder scripts (sourced, not run).
# Everything binds 127.0.0.1 and captures on the loopback interface only.

REC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PCAP_DIR=${PCAP_DIR:-$(cd "$REC_DIR/.." && pwd)}

die() { echo "record: $*" >&2; exit 1; }

need() { # need CMD [debian-package]
    command -v "$1" >/dev/null 2>&1 && return 0
    die "$1 not found (apt-get install ${2:-$1})"
}

# Make sure the recorder's node packages are there (npm ci from the lock file; no browsers
# are downloaded: playwright-core has no install script; esbuild's binary comes as its
# @esbuild/linux-x64 optional dependency).
node_deps() {
    local m
    for m in ethers playwright-core ws esbuild @solana/web3.js @solana/spl-token; do
        [ -d "$REC_DIR/node_modules/$m" ] || break
        [ "$m" = @solana/spl-token ] && return 0
    done
    (cd "$REC_DIR" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed in $REC_DIR"
}

# A throwaway self-signed certificate for 127.0.0.1 / localhost / shop.test in directory $1.
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,DNS:shop.test,IP:127.0.0.1" \
        -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null || die "openssl req failed"
}

# cap_start OUT.pcap FILTER: tcpdump on lo in the background; returns once it listens.
CAP_PID=
cap_start() {
    local out=$1 filter=$2 err=$1.tcpdump.err i
    rm -f "$out" "$err"; CAP_ERR=$err
    tcpdump -i lo -n -U --immediate-mode -B 16384 -Z root -s 0 -w "$out" "$filter" 2>"$err" &
    CAP_PID=$!
    for i in $(seq 1 100); do
        grep -q 'listening on' "$err" 2>/dev/null && return 0
        kill -0 "$CAP_PID" 2>/dev/null || { cat "$err" >&2; die "tcpdump failed"; }
        sleep 0.05
    done
    die "tcpdump did not start"
}

# cap_stop: let the last packets reach the file, then stop tcpdump cleanly (SIGINT).
cap_stop() {
    [ -n "$CAP_PID" ] || return 0
    sleep 0.3
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    CAP_PID=
    if grep -Eq '^[1-9][0-9]* packets dropped by kernel' "$CAP_ERR"; then
        echo "record: tcpdump: $(grep 'dropped by kernel' "$CAP_ERR")" >&2
        return 1
    fi
}

# srv_start LOGFILE CMD...: a node server in the background; waits for its "listening" line.
SRV_PIDS=()
srv_start() {
    local log=$1 i; shift
    "$@" >"$log" 2>&1 &
    SRV_PIDS+=($!)
    for i in $(seq 1 100); do
        grep -q '^listening' "$log" 2>/dev/null && return 0
        kill -0 "${SRV_PIDS[-1]}" 2>/dev/null || { cat "$log" >&2; die "server failed: $*"; }
        sleep 0.05
    done
    die "server did not start: $*"
}

srv_stop_all() {
    local p
    for p in "${SRV_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    SRV_PIDS=()
}

# Port must be free on 127.0.0.1 (fixed ports keep recordings reproducible).
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# inject_keys IN.pcap KEYS OUT.pcapng: embed the key log as a pcapng Decryption Secrets Block.
inject_keys() {
    editcap --inject-secrets "tls,$2" -F pcapng "$1" "$3" || die "editcap --inject-secrets failed"
}

cleanup_all() {
    [ -n "${KEEP_WORK:-}" ] && cp -r "$WORK" "$KEEP_WORK"
    declare -F caddy_stop >/dev/null && caddy_stop
    srv_stop_all
    [ -n "$CAP_PID" ] && { kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; }
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
    return 0
}

# spki_hash CERT: base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's
# --ignore-certificate-errors-spki-list, which QUIC honours).
spki_hash() {
    openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64
}
