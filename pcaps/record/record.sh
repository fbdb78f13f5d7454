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
#   dapp-zstd         the payment flow over h2, the API's answers (invoice, order receipt) with
#                     Content-Encoding: zstd (Chromium advertises zstd on https);
#   dapp-sse          ?flow=sse over h2: the invoice (payee) arrives as a Server-Sent Event on a
#                     stream that stays open while the page pays it;
#   dapp-early        the flow over h2, the JSON-RPC node (node http2, --early, stream window 0)
#                     answers each call stream (END_STREAM) before reading its body, then opens
#                     the window: the wallet call's body follows the complete response;
#   dapp-h3           caddy (TLS, h1/h2/h3 on one port, reverse_proxy to the node servers, /rpc
#                     to the node) with Chromium forced onto QUIC (--origin-to-force-quic-on):
#                     page, API and JSON-RPC over HTTP/3 (capture: tcp and udp on caddy's port);
#   dapp-altsvc       the same caddy, QUIC enabled but not forced: a first page load over h2
#                     gets caddy's Alt-Svc: h3, then the dapp (Chromium switches when it can);
# plus "tls" = tls_session.sh.
# Writes pcaps/NAME.pcapng (TLS: key log embedded as a DSB; also NAME.keys) and
# pcaps/NAME.expected.jsonl, derived by expect.mjs from what the page was served and sent.
# Needs root (tcpdump), node, chromium (apt-get install chromium), tcpdump, editcap, openssl.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need node nodejs; need tcpdump; need zstd; need caddy; need editcap wireshark-common; need openssl
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "chromium not found (apt-get install chromium)"
[ "$(id -u)" -eq 0 ] || die "tcpdump on lo needs root"
node_deps

SHOP_PORT=${SHOP_PORT:-18480}
RPC_PORT=${RPC_PORT:-18545}
CADDY_PORT=${CADDY_PORT:-18443}
H3_HOST=shop.test   # mapped to 127.0.0.1 in Chromium (QUIC needs an SNI name for caddy's certificate)
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

# caddy_start: caddy on 127.0.0.1:$CADDY_PORT as $H3_HOST (TCP h1/h2 and UDP h3, the throwaway certificate),
# /rpc to the node on $RPC_PORT, everything else to the shop on $SHOP_PORT (both cleartext).
CADDY_PID=
caddy_start() {
    local i
    cat >"$WORK/Caddyfile" <<EOC
{
	admin off
	auto_https off
	storage file_system $WORK/caddy
	servers {
		protocols h1 h2 h3
	}
}
https://$H3_HOST:$CADDY_PORT {
	bind 127.0.0.1
	tls $WORK/cert.pem $WORK/key.pem
	handle /rpc {
		reverse_proxy 127.0.0.1:$RPC_PORT
	}
	handle {
		reverse_proxy 127.0.0.1:$SHOP_PORT
	}
}
EOC
    HOME=$WORK XDG_DATA_HOME=$WORK/caddy XDG_CONFIG_HOME=$WORK/caddy \
        caddy run --config "$WORK/Caddyfile" --adapter caddyfile >"$WORK/caddy.log" 2>&1 &
    CADDY_PID=$!
    for i in $(seq 1 100); do
        port_free "$CADDY_PORT" || return 0
        kill -0 "$CADDY_PID" 2>/dev/null || { cat "$WORK/caddy.log" >&2; die "caddy failed"; }
        sleep 0.05
    done
    die "caddy did not start"
}
caddy_stop() {
    [ -n "$CADDY_PID" ] || return 0
    kill -TERM "$CADDY_PID" 2>/dev/null || true; wait "$CADDY_PID" 2>/dev/null || true; CADDY_PID=
}

# record_new NAME KIND MODE: the scenarios of issue 12 (KIND zstd, sse, early, h3, altsvc).
record_new() {
    local name=$1 kind=$2 mode=$3 hij=() shopx=() rpcx=() drivex=() page="" proto=h2
    local keys=$WORK/$name.keys out=$PCAP_DIR/$name.pcapng origin="https://127.0.0.1:$SHOP_PORT"
    local rpc="https://127.0.0.1:$RPC_PORT/" tls=(--cert "$WORK/cert.pem" --key "$WORK/key.pem")
    local filter="tcp port $SHOP_PORT or tcp port $RPC_PORT"
    [ "$mode" = hijack ] && hij=(--hijack)
    case $kind in
    zstd) shopx=(--zstd) ;;
    sse) page="?flow=sse" ;;
    early) rpcx=(--early); drivex=(--wallet-delay 250) ;;   # the node closes the window between calls
    h3|altsvc)
        proto=http; tls=(); origin="https://$H3_HOST:$CADDY_PORT"; rpc="$origin/rpc"
        filter="port $CADDY_PORT"   # TCP and UDP between Chromium and caddy, not caddy's backends
        drivex=(--map "$H3_HOST" --spki "$(spki_hash "$WORK/cert.pem")")
        if [ "$kind" = h3 ]; then drivex+=(--quic "$H3_HOST:$CADDY_PORT")
        # Alt-Svc: QUIC on, not forced for this origin. Chromium accepts a certificate from an
        # unknown root over QUIC only for hosts named in --origin-to-force-quic-on, so the host
        # is named there with a port nothing uses (never contacted); the switch to
        # $H3_HOST:$CADDY_PORT comes from caddy's Alt-Svc alone.
        else drivex+=(--alt-svc --quic "$H3_HOST:9" --warm "$origin/api/config"); fi ;;
    esac
    port_free "$SHOP_PORT" || die "port $SHOP_PORT busy"; port_free "$RPC_PORT" || die "port $RPC_PORT busy"
    rm -f "$keys"; : >"$keys"
    cap_start "$WORK/$name.pcap" "$filter"
    srv_start "$WORK/shop.log" node "$REC_DIR/dapp/server.mjs" --role shop --port "$SHOP_PORT" \
        --proto "$proto" --rpc-url "$rpc" "${tls[@]}" "${shopx[@]}"
    srv_start "$WORK/rpc.log" node "$REC_DIR/dapp/server.mjs" --role rpc --port "$RPC_PORT" \
        --proto "$proto" "${tls[@]}" "${rpcx[@]}"
    [ "$proto" = http ] && caddy_start
    node "$REC_DIR/drive.mjs" --url "$origin/$page" --rpc-url "$rpc" --keylog "$keys" \
        --out "$WORK/$name.session.json" "${hij[@]}" "${drivex[@]}" || { caddy_stop; srv_stop_all; cap_stop; die "$name: drive failed"; }
    caddy_stop
    srv_stop_all
    cap_stop || return 75
    [ "$(stat -c %s "$WORK/$name.pcap")" -gt 150000 ] || die "$name: capture too small (packets lost?)"
    [ -s "$keys" ] || die "$name: Chromium wrote no key log"
    # The scenario must have happened as intended.
    local s=$WORK/$name.session.json
    case $kind in
    zstd) grep -q '^zstd /api/invoice' "$WORK/shop.log" || { cat "$WORK/shop.log" >&2; die "$name: the invoice was not sent zstd"; } ;;
    sse) grep -q '"sse_open": true' "$s" || die "$name: the SSE stream was not open during the wallet calls" ;;
    early) grep -q "^late body [1-9]" "$WORK/rpc.log" || { cat "$WORK/rpc.log" >&2; die "$name: no body after the early answer"; } ;;
    h3) grep -q '"h3 /rpc"' "$s" || { grep -A30 '"protocols"' "$s" >&2; die "$name: /rpc did not go over HTTP/3"; } ;;
    altsvc) grep -q '"h2 /api/config"' "$s" && grep -q '"h3 /rpc"' "$s" ||
            { grep -A30 '"protocols"' "$s" >&2; die "$name: Chromium did not switch from h2 to HTTP/3 by Alt-Svc"; } ;;
    esac
    cp "$keys" "$PCAP_DIR/$name.keys" || die "cp failed"
    inject_keys "$WORK/$name.pcap" "$keys" "$out"
    [ -n "${KEEP_SESSION:-}" ] && cp "$s" "$KEEP_SESSION/"
    node "$REC_DIR/expect.mjs" "$s" >"$PCAP_DIR/$name.expected.jsonl" || die "$name: expect.mjs failed"
    echo "recorded $name: $(stat -c %s "$out") bytes, $(grep -c . "$PCAP_DIR/$name.expected.jsonl") expected alert(s), $(grep -c '"kind"' "$s" || true) substitution(s); protocols: $(node -e 'const s=require(process.argv[1]);console.log([...new Set(s.protocols.map(p=>p.split(" ")[0]))].join(","))' "$s")"
}

scen=("$@")
if [ ${#scen[@]} -eq 0 ]; then
    scen=(tls)
    for f in http https h2 ws wss permit2 solana zstd sse early h3 altsvc; do scen+=("dapp-$f-clean" "dapp-$f-hijack"); done
fi
# record_dapp with up to 3 attempts when tcpdump lost packets (a busy machine).
record_retry() {
    local try rc
    for try in 1 2 3; do
        rc=0; "${RECORD_FN:-record_dapp}" "$@" || rc=$?
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
    dapp-zstd-*|dapp-sse-*|dapp-early-*|dapp-h3-*|dapp-altsvc-*)
        case ${s##*-} in clean|hijack) ;; *) die "unknown scenario $s" ;; esac
        k=${s#dapp-}; RECORD_FN=record_new record_retry "$s" "${k%-*}" "${s##*-}" ;;
    *) die "unknown scenario $s" ;;
    esac
done
