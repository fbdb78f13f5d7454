#!/usr/bin/env bash
# record.sh [SCENARIO...] - regenerate the recorded browser sessions in pcaps/ (`make record`).
#
# Each scenario runs the local dapp (dapp/: a static checkout page using ethers v6, its API and a
# JSON-RPC node, all node servers on 127.0.0.1) in Debian's Chromium, headless, driven by
# playwright-core (drive.mjs), with SSLKEYLOGFILE set, while tcpdump captures the two ports on
# lo. The page pays an invoice: ETH via eth_sendRawTransaction (signed in the page), an ERC-20
# transfer and an approve via eth_sendTransaction. "hijack" scenarios add the in-page fixture
# dapp/hijack.js (September-2025-style response and wallet-call substitution).
#
# Scenarios (default: all), each -clean and -hijack:
#   dapp-http, dapp-https, dapp-h2  the payment flow (ETH raw tx, ERC-20 transfer + approve, then
#                     the order receipt echoing the BTC/Tron/Solana addresses the page was shown)
#                     over HTTP/1.1 cleartext, node https (ALPN http/1.1), node http2 (h2);
#   dapp-ws, dapp-wss the same flow, the wallet's JSON-RPC over a WebSocket (ws:// beside the
#                     HTTP page, wss:// beside the HTTPS one; permessage-deflate);
#   dapp-permit2      a Permit2 PermitSingle eth_signTypedData_v4 (over h2);
#   dapp-solana       an SPL token transfer (@solana/web3.js + spl-token, bundled by esbuild),
#                     sendTransaction base64 to the local node (over HTTPS);
# plus "tls" = tls_session.sh.
# Writes pcaps/NAME.pcapng (TLS: key log embedded as a DSB; also NAME.keys) and
# pcaps/NAME.expected.jsonl, derived by expect.mjs from what the page was served and sent.
# Needs root (tcpdump), node, chromium (apt-get install chromium), tcpdump, editcap, openssl.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need node nodejs; need tcpdump; need editcap wireshark-common; need openssl
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "chromium not found (apt-get install chromium)"
[ "$(id -u)" -eq 0 ] || die "tcpdump on lo needs root"
node_deps

SHOP_PORT=${SHOP_PORT:-18480}
RPC_PORT=${RPC_PORT:-18545}
WORK=$(mktemp -d)
trap cleanup_all EXIT
make_cert "$WORK"

# The Solana page's library: @solana/web3.js + @solana/spl-token bundled for the browser.
"$REC_DIR/node_modules/.bin/esbuild" "$REC_DIR/dapp/solana_entry.js" --bundle --format=iife --global-name=solanaLib \
    --minify --platform=browser --legal-comments=none --log-level=warning \
    --define:process.env.NODE_ENV='"production"' --define:global=globalThis \
    --outfile="$WORK/solana.min.js" || die "esbuild failed"

record_dapp() { # NAME PROTO MODE [PAGE [RPC-SCHEME [MIN-BYTES]]]
    local name=$1 proto=$2 mode=$3 page=${4:-} rscheme=${5:-} min=${6:-150000}
    local scheme=https tls=(--cert "$WORK/cert.pem" --key "$WORK/key.pem")
    local keys=$WORK/$name.keys out=$PCAP_DIR/$name.pcapng hij=()
    [ "$proto" = http ] && { scheme=http; tls=(); }
    [ "$mode" = hijack ] && hij=(--hijack)
    local shop="$scheme://127.0.0.1:$SHOP_PORT" rpc="${rscheme:-$scheme}://127.0.0.1:$RPC_PORT/"
    port_free "$SHOP_PORT" || die "port $SHOP_PORT busy"; port_free "$RPC_PORT" || die "port $RPC_PORT busy"
    rm -f "$keys"; : >"$keys"
    cap_start "$WORK/$name.pcap" "tcp port $SHOP_PORT or tcp port $RPC_PORT"
    srv_start "$WORK/shop.log" node "$REC_DIR/dapp/server.mjs" --role shop --port "$SHOP_PORT" \
        --proto "$proto" --rpc-url "$rpc" --sol-bundle "$WORK/solana.min.js" "${tls[@]}"
    srv_start "$WORK/rpc.log" node "$REC_DIR/dapp/server.mjs" --role rpc --port "$RPC_PORT" \
        --proto "$proto" "${tls[@]}"
    node "$REC_DIR/drive.mjs" --url "$shop/$page" --rpc-url "$rpc" --keylog "$keys" \
        --out "$WORK/$name.session.json" "${hij[@]}" || { srv_stop_all; cap_stop; die "$name: drive failed"; }
    srv_stop_all
    cap_stop || return 75 # packets lost: the caller records again
    # The page cannot have run without its ethers bundle (~150 KB gzip; the Solana bundle ~105 KB):
    # a capture smaller than that lost packets.
    [ "$(stat -c %s "$WORK/$name.pcap")" -gt "$min" ] || die "$name: capture too small (packets lost?)"
    if [ "$proto" = http ]; then
        editcap -F pcapng "$WORK/$name.pcap" "$out" || die "editcap failed"
        rm -f "$PCAP_DIR/$name.keys"
    else
        [ -s "$keys" ] || die "$name: Chromium wrote no key log"
        cp "$keys" "$PCAP_DIR/$name.keys" || die "cp failed"
        inject_keys "$WORK/$name.pcap" "$keys" "$out"
    fi
    [ -n "${KEEP_SESSION:-}" ] && cp "$WORK/$name.session.json" "$KEEP_SESSION/"
    node "$REC_DIR/expect.mjs" "$WORK/$name.session.json" >"$PCAP_DIR/$name.expected.jsonl" || die "$name: expect.mjs failed"
    echo "recorded $name: $(stat -c %s "$out") bytes, $(grep -c . "$PCAP_DIR/$name.expected.jsonl") expected alert(s), $(grep -c '"kind"' "$WORK/$name.session.json" || true) substitution(s)"
}

scen=("$@")
if [ ${#scen[@]} -eq 0 ]; then
    scen=(tls)
    for f in http https h2 ws wss permit2 solana; do scen+=("dapp-$f-clean" "dapp-$f-hijack"); done
fi
# record_dapp with up to 3 attempts when tcpdump lost packets (a busy machine).
record_retry() {
    local try rc
    for try in 1 2 3; do
        rc=0; record_dapp "$@" || rc=$?
        [ "$rc" -eq 75 ] || return "$rc"
        echo "record: $1: packets lost, recording again ($try/3)" >&2
    done
    die "$1: tcpdump keeps dropping packets"
}

for s in "${scen[@]}"; do
    case $s in
    tls) bash "$REC_DIR/tls_session.sh" ;;
    dapp-http-clean|dapp-http-hijack|dapp-https-clean|dapp-https-hijack|dapp-h2-clean|dapp-h2-hijack)
        IFS=- read -r _ proto mode <<<"$s"; record_retry "$s" "$proto" "$mode" ;;
    dapp-ws-clean|dapp-ws-hijack) record_retry "$s" http "${s##*-}" "" ws ;;
    dapp-wss-clean|dapp-wss-hijack) record_retry "$s" https "${s##*-}" "" wss ;;
    dapp-permit2-clean|dapp-permit2-hijack) record_retry "$s" h2 "${s##*-}" "?flow=permit2" ;;
    dapp-solana-clean|dapp-solana-hijack) record_retry "$s" https "${s##*-}" "sol.html" "" 100000 ;;
    *) die "unknown scenario $s" ;;
    esac
done
