#!/usr/bin/env bash
# tls_session.sh [1.3|1.2 ...] - record a hijacked wallet session over HTTPS (HTTP/1.1) on lo.
#
# A local HTTPS shop API + JSON-RPC node (rpc_server.mjs: node's https module, a self-signed
# certificate made now with openssl, bound to 127.0.0.1) and a real client, curl, with
# SSLKEYLOGFILE set. The client GETs /api/invoice (the legitimate payee), then POSTs two
# eth_sendTransaction calls in one kept-alive connection whose payee was substituted with the
# September 2025 attacker address (build_calls.mjs): a value transfer (`to`) and an ERC-20
# transfer (recipient). tcpdump captures the loopback port.
#
# Writes, for each TLS version V (13, 12), into pcaps/:
#   tlsV-hijack.pcap      the capture (tcpdump, pcap)
#   tlsV-hijack.keys      the client's NSS key log (throwaway keys of this local session)
#   tlsV-hijack.pcapng    the same capture with the key log embedded as a pcapng DSB
# The expected-alert files (tls-hijack.expected.jsonl, tls-nokeys.expected.jsonl) are written
# by hand from the scenario and are not touched here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need node nodejs; need curl; need openssl; need tcpdump; need editcap wireshark-common
node_deps
[ "$(id -u)" -eq 0 ] || die "tcpdump on lo needs root"

PORT=${TLS_PORT:-18443}
WORK=$(mktemp -d)
trap cleanup_all EXIT
make_cert "$WORK"

record_one() { # VERSION (1.3 | 1.2)
    local v=$1 tag=tls${1/./}-hijack
    local pcap=$PCAP_DIR/$tag.pcap keys=$PCAP_DIR/$tag.keys dsb=$PCAP_DIR/$tag.pcapng
    local c=(-sS --fail --http1.1 --cacert "$WORK/cert.pem" --tlsv"$v" --tls-max "$v")
    port_free "$PORT" || die "port $PORT busy on 127.0.0.1"
    rm -f "$keys" "$WORK"/*.json
    cap_start "$WORK/$tag.pcap" "tcp port $PORT"
    srv_start "$WORK/server.log" node "$REC_DIR/rpc_server.mjs" --port "$PORT" \
        --tls "$WORK/cert.pem" "$WORK/key.pem" --tls-max "$v"
    # The client: GET the invoice, build the (hijacked) wallet calls from it, POST them.
    SSLKEYLOGFILE=$keys curl "${c[@]}" -o "$WORK/invoice.json" "https://127.0.0.1:$PORT/api/invoice"
    node "$REC_DIR/build_calls.mjs" "$WORK/invoice.json" "$WORK"
    SSLKEYLOGFILE=$keys curl "${c[@]}" -o /dev/null -H 'content-type: application/json' \
        --data-binary @"$WORK/send_eth.json" "https://127.0.0.1:$PORT/rpc" \
        --next "${c[@]}" -o /dev/null -H 'content-type: application/json' \
        --data-binary @"$WORK/send_token.json" "https://127.0.0.1:$PORT/rpc"
    srv_stop_all
    cap_stop || die "tcpdump dropped packets (run again)"
    [ -s "$keys" ] || die "no key log written by curl"
    mv "$WORK/$tag.pcap" "$pcap"
    inject_keys "$pcap" "$keys" "$dsb"
    echo "recorded $tag: $(stat -c %s "$pcap") bytes, $(grep -c . "$keys") key-log lines"
}

vers=("$@")
[ ${#vers[@]} -gt 0 ] || vers=(1.3 1.2)
for v in "${vers[@]}"; do
    case $v in 1.3|1.2) record_one "$v" ;; *) die "unknown TLS version $v" ;; esac
done
