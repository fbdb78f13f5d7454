#!/usr/bin/env node
/*
 * gen_http1.mjs - synthesizes the plain-HTTP/1.1 regression captures in pcaps/.
 *
 *   cd tests/gen && npm ci && node gen_http1.mjs      (or: node tests/gen/gen_http1.mjs)
 *
 * Writes, next to each other in pcaps/:
 *   http1-clean.pcap        every wallet call pays exactly what the dapp served   -> no alert
 *   http1-hijack.pcap       the September 2025 npm ("qix") payload's behaviour
 *   http1-lookalike.pcap    address-poisoning payee + a call with a bad EIP-55 checksum
 *   http1-unrequested.pcap  a payee that nothing served and that is not in the DB
 * and for each one <name>.expected.jsonl: one JSON object per alert walletwatch must raise
 * (keys rule, chain, role, observed and, where the rule has one, expected).
 *
 * Output is deterministic: fixed timestamps, fixed nonces, a seeded PRNG for ports, jitter
 * and IP ids, and ethers' RFC 6979 signatures. Running it twice gives identical bytes (given
 * the same ethers and zlib versions; the committed pcaps are the reference).
 *
 * What a capture holds (all classic pcap, LINKTYPE_ETHERNET, microsecond timestamps):
 *   browser 10.1.0.10 (Chromium 128 on Linux, ephemeral ports)
 *     -> dapp server 10.1.0.2:80 ("shop.example", nginx): two keep-alive connections
 *          conn A: GET / (HTML, chunked, shows the donation address and the payee),
 *                  GET /api/invoice/INV-1042 (JSON: payee + token),
 *                  GET /api/checkout (JSON, Content-Encoding: gzip: escrow spender + token)
 *          conn B: GET /static/app.js (~40 KB), /static/app.css, /favicon.ico (in parallel)
 *     -> RPC node 10.1.0.3:8545 (a Hardhat-style test node, chainId 31337)
 *          conn C, from the page (Origin http://shop.example): CORS preflight, eth_chainId,
 *                  eth_blockNumber, eth_getTransactionCount, eth_gasPrice and the
 *                  eth_sendTransaction calls (unsigned params: the node holds unlocked keys)
 *          conn D, from the wallet extension (Origin chrome-extension://...): eth_chainId,
 *                  eth_getTransactionCount and the signed eth_sendRawTransaction calls
 * Ethernet/IPv4/TCP are built here: correct IPv4 and TCP checksums, SYN/SYN-ACK/ACK with
 * MSS/SACK/timestamps/window-scale options, 1448-byte segments (MSS 1460 minus the 12-byte
 * timestamp option), delayed ACKs every second segment, PSH on the last segment of a
 * message, FIN teardown. Timestamps: 1 ms LAN RTT, 100 Mbit/s serialization, server
 * think time, user think time between wallet calls.
 *
 * Addresses. The served ones (payee, escrow spender, donation) are derived from fixed seeds
 * and chosen (the first seed index that satisfies the checks below) so that every expected
 * alert is unambiguous:
 *   - for each unrequested observed address, one served address is the unique most similar
 *     one both by shared leading+trailing hex characters and by Levenshtein distance (that
 *     is the alert's `expected`), and it shares at most 3 such characters (far from lookalike);
 *   - the pool address the payload would pick for the payee (Levenshtein-closest of the 60
 *     EVM addresses in ../shared/corpus/iocs/qix_2025-09_attacker_addresses.csv, compared
 *     both case-sensitively like the payload and lowercased) is unique.
 * The IOC CSV is read at generation time only (WW_SHARED overrides ../shared).
 * Detection semantics the expectations follow (decided by the lead), for each address a
 * wallet call names: in the attacker DB -> known-attacker (role as named); a payee (recipient,
 * spender, or `to` of a plain value transfer) not served -> lookalike-recipient if it shares
 * >= 8 leading+trailing hex chars with a served address, else unrequested-recipient; approve
 * of 2^256-1 to a spender not served -> unlimited-approval; a mixed-case address failing
 * EIP-55 -> bad-checksum. A token contract called is never unrequested.
 */
import { ethers } from "ethers";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { Capture, Conn } from "./pcapw.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const OUT = path.join(ROOT, "pcaps");
const SHARED = process.env.WW_SHARED
    ? path.resolve(process.env.WW_SHARED)
    : path.resolve(ROOT, "..", "shared");
const IOC_CSV = path.join(SHARED, "corpus/iocs/qix_2025-09_attacker_addresses.csv");

/* ------------------------------------------------------------------ constants */
const HARDHAT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const CHAIN_ID = 31337n;
const ATTACKER = "0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976"; /* as the payload writes it */
const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";      /* token contract (mainnet fork) */
const MAX_U256 = (1n << 256n) - 1n;
const UA =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
    "Chrome/128.0.0.0 Safari/537.36";
const DAPP_HOST = "shop.example";
const RPC_HOST = "10.1.0.3:8545";
const EXT_ORIGIN = "chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn";
const CLIENT_IP = [10, 1, 0, 10];
const DAPP_IP = [10, 1, 0, 2];
const RPC_IP = [10, 1, 0, 3];
const MAC = {
    "10.1.0.10": [0x52, 0x54, 0x00, 0x5a, 0x01, 0x0a],
    "10.1.0.2": [0x52, 0x54, 0x00, 0x5a, 0x01, 0x02],
    "10.1.0.3": [0x52, 0x54, 0x00, 0x5a, 0x01, 0x03],
};

/* ------------------------------------------------------------------ PRNG */
function mulberry32(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/* ------------------------------------------------------------------ address helpers */
const low = (a) => a.toLowerCase().replace(/^0x/, "");
function simPS(a, b) {
    a = low(a);
    b = low(b);
    let p = 0;
    while (p < 40 && a[p] === b[p]) p++;
    let s = 0;
    while (s < 40 - p && a[39 - s] === b[39 - s]) s++;
    return p + s;
}
function lev(a, b) {
    const m = a.length, n = b.length;
    let prev = new Array(n + 1), cur = new Array(n + 1);
    for (let j = 0; j <= n; j++) prev[j] = j;
    for (let i = 1; i <= m; i++) {
        cur[0] = i;
        for (let j = 1; j <= n; j++)
            cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1,
                              prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        [prev, cur] = [cur, prev];
    }
    return prev[n];
}
/* The unique best element of list by score (higher better), or null on a tie. */
function uniqueBest(list, score) {
    let best = null, bs = -Infinity, tie = false;
    for (const x of list) {
        const s = score(x);
        if (s > bs) { best = x; bs = s; tie = false; }
        else if (s === bs) tie = true;
    }
    return tie ? null : best;
}
const seedAddr = (s) => ethers.getAddress("0x" + ethers.id(s).slice(-40));

function loadPool() {
    if (!fs.existsSync(IOC_CSV)) {
        console.error(`gen_http1: ${IOC_CSV} not found (set WW_SHARED to the shared corpus)`);
        process.exit(2);
    }
    return fs.readFileSync(IOC_CSV, "utf8").split("\n").slice(1)
        .map((l) => l.split(","))
        .filter((f) => f[0] === "evm")
        .map((f) => f[1]);
}

/* The most similar served address of obs if it is unambiguous under both metrics. */
function mostSimilar(obs, served) {
    const a = uniqueBest(served, (s) => simPS(obs, s));
    const b = uniqueBest(served, (s) => -lev(low(obs), low(s)));
    return a && a === b ? a : null;
}

function chooseAddresses(pool) {
    const spender = seedAddr("walletwatch/escrow");
    const donate = seedAddr("walletwatch/donate");
    for (let i = 0; i < 100000; i++) {
        const payee = seedAddr(`walletwatch/payee/${i}`);
        const stranger = seedAddr(`walletwatch/stranger/${i}`);
        const served = [payee, USDC, spender, donate];
        const inPool = (a) => pool.some((p) => low(p) === low(a));
        if ([payee, stranger, spender, donate].some(inPool)) continue;
        /* the payload's pick for the payee: Levenshtein-closest, case-sensitive and lowercased */
        const pickCS = uniqueBest(pool, (p) => -lev(payee, p));
        const pickLC = uniqueBest(pool, (p) => -lev(low(payee), low(p)));
        if (!pickCS || pickCS !== pickLC || low(pickCS) === low(ATTACKER)) continue;
        const exAtt = mostSimilar(ATTACKER, served);
        const exPick = mostSimilar(pickCS, served);
        const exStr = mostSimilar(stranger, served);
        if (exAtt !== payee || exPick !== payee || exStr !== payee) continue;
        const far = (o) => Math.max(...served.map((s) => simPS(o, s))) <= 3;
        if (![ATTACKER, pickCS, stranger].every(far)) continue;
        return { payee, spender, donate, stranger, pick: pickCS, exAtt, exStr, seed: i };
    }
    throw new Error("no address set satisfies the constraints");
}

/* A lookalike of addr: same first 6 and last 6 hex characters, the middle 28 different. */
function lookalike(addr, pool, served) {
    const h = low(addr);
    for (let i = 0; ; i++) {
        const mid = ethers.id(`walletwatch/poison/${i}`).slice(2, 30);
        let ok = mid[0] !== h[6] && mid[27] !== h[33];
        const cand = ethers.getAddress("0x" + h.slice(0, 6) + mid + h.slice(34));
        ok = ok && !pool.some((p) => low(p) === low(cand));
        ok = ok && simPS(cand, addr) === 12 && mostSimilar(cand, served) === addr;
        if (ok) return cand;
    }
}

/* addr in mixed case with one letter's case flipped: a wrong EIP-55 checksum. */
function badChecksum(addr) {
    const c = ethers.getAddress(addr);
    for (let i = 2; i < 42; i++) {
        if (/[a-f]/i.test(c[i])) {
            const ch = c[i] === c[i].toLowerCase() ? c[i].toUpperCase() : c[i].toLowerCase();
            const bad = c.slice(0, i) + ch + c.slice(i + 1);
            if (/[a-f]/.test(bad.slice(2)) && /[A-F]/.test(bad.slice(2))) return bad;
        }
    }
    throw new Error("address has no letter");
}

/* ------------------------------------------------------------------ packets: pcapw.mjs */
/* ------------------------------------------------------------------ HTTP */
const httpDate = (us) => new Date(us / 1000).toUTCString();

function request(method, target, host, headers, body = null) {
    const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, "Connection: keep-alive"];
    for (const [k, v] of headers) lines.push(`${k}: ${v}`);
    if (body) lines.push(`Content-Length: ${body.length}`);
    return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), body || Buffer.alloc(0)]);
}

function response(status, headers, body, { chunked = false } = {}) {
    const reason = { 200: "OK", 204: "No Content", 404: "Not Found" }[status];
    const lines = [`HTTP/1.1 ${status} ${reason}`];
    for (const [k, v] of headers) lines.push(`${k}: ${v}`);
    let out = body;
    if (chunked) {
        lines.push("Transfer-Encoding: chunked");
        const parts = [];
        for (let i = 0; i < body.length; i += 4096) {
            const c = body.subarray(i, i + 4096);
            parts.push(Buffer.from(c.length.toString(16) + "\r\n"), c, Buffer.from("\r\n"));
        }
        parts.push(Buffer.from("0\r\n\r\n"));
        out = Buffer.concat(parts);
    } else if (status !== 204) {
        lines.push(`Content-Length: ${body.length}`);
    }
    return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), out]);
}

const browserGet = (accept, referer) => [
    ["User-Agent", UA],
    ["Accept", accept],
    ...(referer ? [["Referer", referer]] : []),
    ["Accept-Encoding", "gzip, deflate"],
    ["Accept-Language", "en-US,en;q=0.9"],
];

function nginx(t, ctype, extra = []) {
    return [["Server", "nginx/1.24.0"], ["Date", httpDate(t)], ["Content-Type", ctype],
            ["Connection", "keep-alive"], ...extra];
}

/* Filler text that looks like page content and holds no hex strings. */
function lorem(rnd, words) {
    const w = ["order", "receipt", "checkout", "network", "wallet", "merchant", "shipping",
               "support", "account", "invoice", "total", "confirm", "payment", "secure",
               "delivery", "customer", "review", "product", "catalog", "summary"];
    const out = [];
    for (let i = 0; i < words; i++) out.push(w[Math.floor(rnd() * w.length)]);
    return out.join(" ");
}

function pageHtml(rnd, a) {
    const rows = [];
    for (let i = 0; i < 40; i++)
        rows.push(`      <li class="item">${lorem(rnd, 12)} <span class="qty">${i % 3 + 1}</span></li>`);
    return Buffer.from(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Shop Example - Checkout</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/static/app.css">
  <script defer src="/static/app.js"></script>
</head>
<body>
  <header><h1>Shop Example</h1><nav><a href="/">Home</a> <a href="/orders">Orders</a></nav></header>
  <main id="checkout" data-invoice="INV-1042">
    <h2>Your order</h2>
    <ul class="items">
${rows.join("\n")}
    </ul>
    <section class="pay">
      <p>Pay with USDC or ETH on the connected network. Merchant address:
        <code class="addr">${a.payee}</code></p>
      <button id="pay">Pay now</button>
    </section>
    <aside class="donate">
      <p>Support open source: donations in ETH to <code class="addr">${a.donate}</code></p>
    </aside>
  </main>
  <footer>${lorem(rnd, 30)}</footer>
</body>
</html>
`);
}

function appJs(rnd) {
    const fns = [];
    for (let i = 0; i < 260; i++) {
        fns.push(`function m${i}(e,t){var n=e&&e.${["state", "props", "ctx"][i % 3]};` +
                 `if(!n)return t;return Object.assign({},n,{k${i}:t,ts:Date.now()})}` +
                 `/* ${lorem(rnd, 6)} */`);
    }
    return Buffer.from(`"use strict";(()=>{${fns.join(";\n")};` +
        `document.getElementById("pay").addEventListener("click",async()=>{` +
        `const r=await fetch("/api/invoice/INV-1042");const inv=await r.json();` +
        `await window.ethereum.request({method:"eth_sendTransaction",params:[{from:inv.from,` +
        `to:inv.payee,value:inv.valueHex}]})})})();\n`);
}

function appCss(rnd) {
    const rules = [];
    for (let i = 0; i < 120; i++)
        rules.push(`.c${i}{margin:${i % 7}px ${i % 5}px;padding:${i % 4}px;` +
                   `font-size:${12 + (i % 6)}px;color:#333}`);
    return Buffer.from(rules.join("\n") + "\n");
}

function favicon(rnd) {
    const b = Buffer.alloc(1150);
    Buffer.from([0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0]).copy(b);
    for (let i = 22; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
    return b;
}

/* ------------------------------------------------------------------ JSON-RPC */
const rpcBody = (id, method, params) =>
    Buffer.from(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
const rpcResult = (id, result) => Buffer.from(JSON.stringify({ jsonrpc: "2.0", id, result }));
const hex = (n) => "0x" + BigInt(n).toString(16);

const ERC20 = new ethers.Interface([
    "function transfer(address to, uint256 amount) returns (bool)",
    "function approve(address spender, uint256 amount) returns (bool)",
]);

class Session {
    constructor(name, seed, t0, a) {
        this.name = name;
        this.a = a;
        this.cap = new Capture(MAC);
        this.rnd = mulberry32(seed);
        this.t0 = t0;
        this.wallet = new ethers.Wallet(HARDHAT_KEY);
        this.nonce = 7;
        this.pageId = 1;       /* ethers JsonRpcProvider-style ids from the page */
        this.extId = 2718260000 + Math.floor(this.rnd() * 100000); /* extension-style ids */
        this.port = 40000 + Math.floor(this.rnd() * 20000);
        this.alerts = [];
    }
    conn(srv, sport, t) {
        this.port += 1 + Math.floor(this.rnd() * 3);
        const c = new Conn(this.cap, this.rnd, CLIENT_IP, this.port, srv, sport, t);
        c.handshake();
        return c;
    }
    /* Loads the dapp; returns the time the page is ready. */
    loadDapp() {
        const r = this.rnd, a = this.a, t0 = this.t0;
        const A = this.conn(DAPP_IP, 80, t0);
        const base = `http://${DAPP_HOST}/`;
        A.exchange(request("GET", "/", DAPP_HOST, [
            ["Upgrade-Insecure-Requests", "1"],
            ...browserGet("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif," +
                          "image/webp,image/apng,*/*;q=0.8", null)]),
            response(200, nginx(A.t, "text/html; charset=utf-8"), pageHtml(r, a), { chunked: true }),
            3200);
        /* the parser saw <link>/<script>: a second connection fetches them in parallel */
        const B = this.conn(DAPP_IP, 80, A.t - 600);
        B.exchange(request("GET", "/static/app.js", DAPP_HOST, browserGet("*/*", base)),
            response(200, nginx(B.t, "application/javascript",
                                [["Cache-Control", "public, max-age=31536000"]]), appJs(r)), 900);
        A.exchange(request("GET", "/static/app.css", DAPP_HOST, browserGet("text/css,*/*;q=0.1", base)),
            response(200, nginx(A.t, "text/css", [["Cache-Control", "public, max-age=31536000"]]),
                     appCss(r)), 700);
        B.exchange(request("GET", "/favicon.ico", DAPP_HOST,
                           browserGet("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", base)),
            response(200, nginx(B.t, "image/x-icon"), favicon(r)), 500);
        /* app.js runs: fetches the invoice (plain JSON) and the checkout data (gzip) */
        A.t = Math.max(A.t, B.t) + 35000;
        const invoice = {
            invoice: "INV-1042", merchant: "Shop Example", currency: "USDC", decimals: 6,
            amount: "25000000", payee: a.payee, token: USDC, chainId: 31337,
            items: [{ sku: "TSHIRT-BLK-M", qty: 1, price: "19000000" },
                    { sku: "STICKER-PACK", qty: 2, price: "3000000" }],
            expires: "2025-09-08T15:00:00Z",
        };
        A.exchange(request("GET", "/api/invoice/INV-1042", DAPP_HOST, browserGet("*/*", base)),
            response(200, nginx(A.t, "application/json; charset=utf-8",
                                [["Cache-Control", "no-store"]]),
                     Buffer.from(JSON.stringify(invoice))), 11000);
        const checkout = {
            invoice: "INV-1042",
            escrow: { spender: a.spender, allowance: "100000000", token: USDC },
            network: { chainId: 31337, name: "hardhat", rpc: `http://${RPC_HOST}` },
            notes: Array.from({ length: 30 }, (_, i) => ({ id: i, text: lorem(r, 14) })),
        };
        const gz = zlib.gzipSync(Buffer.from(JSON.stringify(checkout)), { level: 6 });
        A.exchange(request("GET", "/api/checkout?invoice=INV-1042", DAPP_HOST, browserGet("*/*", base)),
            response(200, nginx(A.t, "application/json; charset=utf-8",
                                [["Content-Encoding", "gzip"], ["Vary", "Accept-Encoding"],
                                 ["Cache-Control", "no-store"]]), gz), 14000);
        this.dapp = [A, B];
        return A.t;
    }
    /* The page's own connection to the RPC node (CORS preflight first). */
    openPageRpc(t) {
        const C = this.conn(RPC_IP, 8545, t);
        C.exchange(request("OPTIONS", "/", RPC_HOST, [
            ["Accept", "*/*"], ["Access-Control-Request-Method", "POST"],
            ["Access-Control-Request-Headers", "content-type"], ["Origin", `http://${DAPP_HOST}`],
            ["User-Agent", UA], ["Sec-Fetch-Mode", "cors"], ["Referer", `http://${DAPP_HOST}/`],
            ["Accept-Encoding", "gzip, deflate"], ["Accept-Language", "en-US,en;q=0.9"]]),
            response(204, [["Access-Control-Allow-Origin", "*"],
                           ["Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE"],
                           ["Vary", "Access-Control-Request-Headers"],
                           ["Access-Control-Allow-Headers", "content-type"],
                           ["Content-Length", "0"], ["Date", httpDate(C.t)],
                           ["Connection", "keep-alive"], ["Keep-Alive", "timeout=5"]],
                     Buffer.alloc(0)), 300);
        this.pageRpc = C;
        this.rpc(C, "page", "eth_chainId", [], "0x7a69");
        this.rpc(C, "page", "eth_blockNumber", [], "0x14a9c21");
        this.rpc(C, "page", "eth_getTransactionCount", [this.wallet.address.toLowerCase(), "latest"],
                 hex(this.nonce));
        return C;
    }
    openWalletRpc(t) {
        const D = this.conn(RPC_IP, 8545, t);
        this.walletRpc = D;
        this.rpc(D, "ext", "eth_chainId", [], "0x7a69");
        this.rpc(D, "ext", "eth_getTransactionCount", [this.wallet.address, "pending"],
                 hex(this.nonce));
        return D;
    }
    rpc(C, who, method, params, result, think = 1500) {
        const id = who === "page" ? this.pageId++ : this.extId++;
        const origin = who === "page" ? `http://${DAPP_HOST}` : EXT_ORIGIN;
        const hdrs = [["Content-Type", "application/json"], ["Accept", "*/*"], ["Origin", origin],
                      ["User-Agent", UA]];
        if (who === "page") hdrs.push(["Sec-Fetch-Mode", "cors"], ["Referer", `http://${DAPP_HOST}/`]);
        hdrs.push(["Accept-Encoding", "gzip, deflate"], ["Accept-Language", "en-US,en;q=0.9"]);
        const body = rpcBody(id, method, params);
        if (typeof result === "function") result = result(body);
        C.exchange(request("POST", "/", RPC_HOST, hdrs, body),
            response(200, [["Access-Control-Allow-Origin", "*"],
                           ["Content-Type", "application/json; charset=utf-8"],
                           ["Date", httpDate(C.t)], ["Connection", "keep-alive"],
                           ["Keep-Alive", "timeout=5"]], rpcResult(id, result)), think);
    }
    /* The user reads, clicks, confirms in the wallet popup. */
    userPause(C, min = 2.5e6) {
        C.t += min + Math.floor(this.rnd() * 3e6);
    }
    /* eth_sendTransaction as a test node with unlocked accounts receives it. */
    sendTx(params) {
        const C = this.pageRpc;
        this.userPause(C);
        this.rpc(C, "page", "eth_gasPrice", [], "0x4a817c800");
        const p = { from: this.wallet.address.toLowerCase(), ...params,
                    gas: params.data ? "0xfde8" : "0x5208", gasPrice: "0x4a817c800" };
        this.rpc(C, "page", "eth_sendTransaction", [p], (body) => ethers.keccak256(body), 9000);
        this.nonce++;
    }
    async sendRaw(tx) {
        const D = this.walletRpc;
        this.userPause(D);
        const full = { chainId: CHAIN_ID, nonce: this.nonce++, ...tx };
        const raw = await this.wallet.signTransaction(full);
        const hash = ethers.keccak256(raw);
        this.rpc(D, "ext", "eth_sendRawTransaction", [raw], hash, 7000);
    }
    expect(rule, role, observed, expected) {
        const o = { rule, chain: "evm", role, observed: observed.toLowerCase() };
        if (expected) o.expected = expected.toLowerCase();
        this.alerts.push(o);
    }
    finish() {
        for (const c of [...this.dapp, this.pageRpc, this.walletRpc]) {
            c.t += 2e6;
            c.close();
        }
        const n = this.cap.write(path.join(OUT, `${this.name}.pcap`));
        fs.writeFileSync(path.join(OUT, `${this.name}.expected.jsonl`),
                         this.alerts.map((o) => JSON.stringify(o) + "\n").join(""));
        const size = fs.statSync(path.join(OUT, `${this.name}.pcap`)).size;
        console.log(`${this.name}.pcap: ${n} packets, ${size} bytes, ${this.alerts.length} expected alerts`);
    }
}

const eth = (s) => ethers.parseEther(s);
const fee = { maxFeePerGas: 30000000000n, maxPriorityFeePerGas: 1500000000n };

/* ------------------------------------------------------------------ sessions */
async function clean(a, t0) {
    const s = new Session("http1-clean", 101, t0, a);
    const t = s.loadDapp();
    s.openPageRpc(t + 20000);
    s.openWalletRpc(t + 60000);
    s.sendTx({ to: a.payee, value: hex(eth("0.05")) });
    s.sendTx({ to: USDC, data: ERC20.encodeFunctionData("transfer", [a.payee, 25000000n]) });
    s.sendTx({ to: USDC, data: ERC20.encodeFunctionData("approve", [a.spender, 100000000n]) });
    s.walletRpc.t = s.pageRpc.t + 1e6;
    await s.sendRaw({ type: 2, to: a.payee, value: eth("0.05"), gasLimit: 21000n, ...fee });
    await s.sendRaw({ type: 0, to: a.donate, value: eth("0.01"), gasLimit: 21000n,
                      gasPrice: 20000000000n });
    s.finish();
}

async function hijack(a, t0) {
    const s = new Session("http1-hijack", 202, t0, a);
    const t = s.loadDapp();
    s.openPageRpc(t + 20000);
    s.openWalletRpc(t + 60000);
    /* the payload's wrapper of window.ethereum.request rewrote these three */
    s.sendTx({ to: ATTACKER, value: hex(eth("0.05")) });
    s.expect("known-attacker", "to", ATTACKER);
    s.expect("unrequested-recipient", "to", ATTACKER, a.exAtt);
    s.sendTx({ to: USDC, data: ERC20.encodeFunctionData("transfer", [ATTACKER, 25000000n]) });
    s.expect("known-attacker", "recipient", ATTACKER);
    s.expect("unrequested-recipient", "recipient", ATTACKER, a.exAtt);
    s.sendTx({ to: USDC, data: ERC20.encodeFunctionData("approve", [ATTACKER, MAX_U256]) });
    s.expect("known-attacker", "spender", ATTACKER);
    s.expect("unrequested-recipient", "spender", ATTACKER, a.exAtt);
    s.expect("unlimited-approval", "spender", ATTACKER);
    /* the page showed the pool address the payload swapped in for the payee; the wallet signed it */
    s.walletRpc.t = s.pageRpc.t + 1e6;
    await s.sendRaw({ type: 2, to: a.pick, value: eth("0.05"), gasLimit: 21000n, ...fee });
    s.expect("known-attacker", "to", a.pick);
    s.expect("unrequested-recipient", "to", a.pick, a.payee);
    /* an untouched legacy payment to the served donation address */
    await s.sendRaw({ type: 0, to: a.donate, value: eth("0.01"), gasLimit: 21000n,
                      gasPrice: 20000000000n });
    s.finish();
}

async function lookalikeSession(a, t0, pool) {
    const s = new Session("http1-lookalike", 303, t0, a);
    const served = [a.payee, USDC, a.spender, a.donate];
    const look = lookalike(a.payee, pool, served);
    const t = s.loadDapp();
    s.openPageRpc(t + 20000);
    s.openWalletRpc(t + 60000);
    /* legitimate approval first */
    s.sendTx({ to: USDC, data: ERC20.encodeFunctionData("approve", [a.spender, 100000000n]) });
    /* the right payee, but one letter's case flipped: EIP-55 checksum fails */
    const bad = badChecksum(a.payee);
    s.sendTx({ to: bad, value: hex(eth("0.02")) });
    s.expect("bad-checksum", "to", a.payee);
    /* address poisoning: copied from history, same first/last 6 hex characters */
    s.walletRpc.t = s.pageRpc.t + 1e6;
    await s.sendRaw({ type: 0, to: look, value: eth("0.05"), gasLimit: 21000n,
                      gasPrice: 20000000000n });
    s.expect("lookalike-recipient", "to", look, a.payee);
    s.finish();
    return { look, bad };
}

async function unrequested(a, t0) {
    const s = new Session("http1-unrequested", 404, t0, a);
    const t = s.loadDapp();
    s.openPageRpc(t + 20000);
    s.openWalletRpc(t + 60000);
    s.sendTx({ to: USDC, data: ERC20.encodeFunctionData("transfer", [a.stranger, 25000000n]) });
    s.expect("unrequested-recipient", "recipient", a.stranger, a.exStr);
    s.walletRpc.t = s.pageRpc.t + 1e6;
    await s.sendRaw({ type: 2, to: a.stranger, value: eth("0.05"), gasLimit: 21000n, ...fee });
    s.expect("unrequested-recipient", "to", a.stranger, a.exStr);
    s.finish();
}

async function main() {
    const pool = loadPool();
    if (pool.length !== 60) throw new Error(`expected 60 EVM pool addresses, got ${pool.length}`);
    const a = chooseAddresses(pool);
    fs.mkdirSync(OUT, { recursive: true });
    const T0 = Date.UTC(2025, 8, 8, 14, 0, 0) * 1000; /* µs: 2025-09-08 14:00:00 UTC */
    await clean(a, T0);
    await hijack(a, T0 + 3600e6);
    const la = await lookalikeSession(a, T0 + 2 * 3600e6, pool);
    await unrequested(a, T0 + 3 * 3600e6);
    console.log(`served: payee ${a.payee} (seed ${a.seed}) token ${USDC} ` +
                `spender ${a.spender} donate ${a.donate}`);
    console.log(`payload pick for payee ${a.pick}; most similar served to ${ATTACKER}: ${a.exAtt}`);
    console.log(`stranger ${a.stranger} (most similar served ${a.exStr}); ` +
                `lookalike ${la.look}; bad checksum ${la.bad}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
