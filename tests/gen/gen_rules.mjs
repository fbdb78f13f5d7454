#!/usr/bin/env node
/*
 * gen_rules.mjs - small plain-HTTP/1.1 captures, one per detection rule scenario of issue 13
 * (clean flows that must pass, attacks that must get the most specific rule):
 *
 *   rules-poisoned-feed   the page's activity API lists a transfer to P and the poisoner's
 *                         0-value transfer from a 6+6 lookalike L; the user pays L
 *                         -> lookalike-recipient (observed L, expected P)
 *   rules-fake-token      an ERC-20 transfer to the served payee, sent to a 4+4 copy of the
 *                         served USDC contract -> lookalike-recipient (role to)
 *   rules-33-fake-payee   a 3+4 vanity copy of the served payee -> lookalike-recipient
 *   rules-permit2-clean   approve(Permit2, max) and a Universal Router call, Permit2 and the
 *                         router named only in the page's JS bundle (and in the registry),
 *                         the spender of a second approval only in the bundle -> no alert
 *   rules-script-payee    a payee of value named only in a script -> unrequested-recipient
 *   rules-unverified      a payment while nothing was served (the API came from the cache)
 *                         -> unverified-recipient (medium; exit 0 at --fail-on high)
 *   rules-ens-payee       the payee resolved from ENS: eth_call to the resolver's addr(bytes32)
 *                         answers a 32-byte ABI word (provenance rpc-word) -> no alert
 *   rules-location-payee  the payee only in a 302's Location header (header) -> no alert
 *   rules-api-calldata    a trading API returns {to, data} = approve(aggregator, max); the
 *                         spender only inside that hex calldata (calldata) -> no alert
 *
 *   cd tests/gen && npm ci && node gen_rules.mjs
 *
 * Writes pcaps/NAME.pcap and pcaps/NAME.expected.jsonl. Deterministic (seeded PRNG, fixed
 * times); calldata is encoded by ethers. Browser 10.2.0.10, dapp 10.2.0.2:80, RPC node
 * 10.2.0.3:8545 (eth_sendTransaction, unsigned params: the node holds the keys).
 */
import { ethers } from "ethers";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Capture, Conn } from "./pcapw.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(HERE, "../../pcaps");
const CLIENT = [10, 2, 0, 10], DAPP = [10, 2, 0, 2], RPC = [10, 2, 0, 3];
const MAC = {
    "10.2.0.10": [0x52, 0x54, 0x00, 0x5b, 0x02, 0x0a],
    "10.2.0.2": [0x52, 0x54, 0x00, 0x5b, 0x02, 0x02],
    "10.2.0.3": [0x52, 0x54, 0x00, 0x5b, 0x02, 0x03],
};
const USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
const PERMIT2 = "0x000000000022d473030f116ddee9f6b43ac78ba3";
const ROUTER = "0x66a9893cc07d91d95644aedd05d03f95e1dba8af"; /* Universal Router 2.0, mainnet */
const FROM = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const MAX = (1n << 256n) - 1n;
const ERC20 = new ethers.Interface([
    "function transfer(address to, uint256 amount) returns (bool)",
    "function approve(address spender, uint256 amount) returns (bool)",
]);
const UR = new ethers.Interface(["function execute(bytes commands, bytes[] inputs, uint256 deadline)"]);

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
const addrOf = (s) => "0x" + ethers.id(s).slice(-40);
/* base with exactly p leading and s trailing hex characters kept, the middle from seed */
function lookalike(base, p, s, seed) {
    const h = ethers.id("lookalike/" + seed).slice(2);
    const b = base.slice(2).split("");
    for (let i = p; i < 40 - s; i++) b[i] = h[i];
    const flip = (i) => { if (b[i] === base[2 + i]) b[i] = base[2 + i] === "a" ? "b" : "a"; };
    flip(p);
    flip(39 - s);
    return "0x" + b.join("");
}

function request(method, target, host, body, ctype) {
    const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, "Connection: keep-alive",
                   "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/128.0.0.0", "Accept: */*"];
    if (body) lines.push(`Content-Type: ${ctype}`, `Content-Length: ${body.length}`);
    return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), body || Buffer.alloc(0)]);
}
function redirect(location) {
    return Buffer.from(`HTTP/1.1 302 Found\r\nServer: nginx\r\nLocation: ${location}\r\n` +
                       `Content-Length: 0\r\n\r\n`);
}
function response(ctype, body) {
    return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: ${ctype}\r\n` +
                                      `Content-Length: ${body.length}\r\n\r\n`), body]);
}

class Scenario {
    constructor(name, seed) {
        this.name = name;
        this.cap = new Capture(MAC);
        this.rnd = mulberry32(seed);
        this.t = 1757340000000000 + seed * 1000000;
        this.port = 41000 + seed * 10;
        this.id = 1;
        this.expected = [];
    }
    conn(srv, sport) {
        const c = new Conn(this.cap, this.rnd, CLIENT, this.port++, srv, sport, this.t);
        c.handshake();
        return c;
    }
    serve(pathname, ctype, body) {
        const c = this.conn(DAPP, 80);
        c.exchange(request("GET", pathname, "dapp.example"), response(ctype, Buffer.from(body)), 4000);
        c.close();
        this.t = c.t + 20000;
    }
    send(tx) {
        const c = this.conn(RPC, 8545);
        const body = JSON.stringify({ jsonrpc: "2.0", id: this.id++, method: "eth_sendTransaction",
                                      params: [{ from: FROM, ...tx }] });
        const res = JSON.stringify({ jsonrpc: "2.0", id: this.id - 1, result: ethers.id(body) });
        c.exchange(request("POST", "/", "10.2.0.3:8545", Buffer.from(body), "application/json"),
                   response("application/json", Buffer.from(res)), 3000);
        c.close();
        this.t = c.t + 500000;
    }
    /* a read-only JSON-RPC call (eth_call ...) and the node's result */
    call(method, params, result) {
        const c = this.conn(RPC, 8545);
        const body = JSON.stringify({ jsonrpc: "2.0", id: this.id++, method, params });
        const res = JSON.stringify({ jsonrpc: "2.0", id: this.id - 1, result });
        c.exchange(request("POST", "/", "10.2.0.3:8545", Buffer.from(body), "application/json"),
                   response("application/json", Buffer.from(res)), 3000);
        c.close();
        this.t = c.t + 20000;
    }
    raw(req, res) {
        const c = this.conn(DAPP, 80);
        c.exchange(req, res, 4000);
        c.close();
        this.t = c.t + 20000;
    }
    expect(e) {
        this.expected.push({ chain: "evm", ...e });
    }
    write() {
        this.cap.write(path.join(OUT, `${this.name}.pcap`));
        fs.writeFileSync(path.join(OUT, `${this.name}.expected.jsonl`),
                         this.expected.map((e) => JSON.stringify(e) + "\n").join(""));
    }
}

const tokenList = (n, tag) =>
    Array.from({ length: n }, (_, i) => ({ symbol: `T${i}`, address: addrOf(`${tag}/token/${i}`) }));
const value = "0x" + (15n * 10n ** 17n).toString(16);

/* poisoned feed */
{
    const s = new Scenario("rules-poisoned-feed", 1);
    const P = addrOf("rules/friend"), L = lookalike(P, 6, 6, 1);
    s.serve("/api/tokens", "application/json", JSON.stringify({ tokens: tokenList(200, "pf") }));
    s.serve("/api/activity?account=" + FROM, "application/json", JSON.stringify({
        items: [{ type: "send", to: P, value: "1.5", hash: ethers.id("tx1") },
                { type: "receive", from: L, value: "0", hash: ethers.id("tx2") }] }));
    s.send({ to: L, value });
    s.expect({ rule: "lookalike-recipient", role: "to", observed: L, expected: P });
    s.write();
}
/* fake token contract */
{
    const s = new Scenario("rules-fake-token", 2);
    const payee = addrOf("rules/merchant"), fake = lookalike(USDC, 4, 4, 2);
    s.serve("/api/invoice/7", "application/json",
            JSON.stringify({ payee, token: USDC, amount: "25000000", tokens: tokenList(200, "ft") }));
    s.send({ to: fake, data: ERC20.encodeFunctionData("transfer", [payee, 25000000n]) });
    s.expect({ rule: "lookalike-recipient", role: "to", observed: fake, expected: USDC });
    s.write();
}
/* 3+4 vanity payee */
{
    const s = new Scenario("rules-34-fake-payee", 3);
    const payee = addrOf("rules/merchant34"), fake = lookalike(payee, 3, 4, 3);
    s.serve("/api/invoice/8", "application/json",
            JSON.stringify({ payee, token: USDC, amount: "5000000" }));
    s.send({ to: USDC, data: ERC20.encodeFunctionData("transfer", [fake, 5000000n]) });
    s.expect({ rule: "lookalike-recipient", role: "recipient", observed: fake, expected: payee });
    s.write();
}
/* Permit2 / router / spender only in the bundle: clean */
{
    const s = new Scenario("rules-permit2-clean", 4);
    const spender = addrOf("rules/vault");
    s.serve("/api/tokens", "application/json", JSON.stringify({ tokens: tokenList(50, "p2") }));
    s.serve("/assets/index-8f2c.js", "application/javascript",
            `const C={permit2:"${ethers.getAddress(PERMIT2)}",router:"${ethers.getAddress(ROUTER)}",` +
            `vault:"${ethers.getAddress(spender)}",usdc:"${ethers.getAddress(USDC)}"};export default C;`);
    s.send({ to: USDC, data: ERC20.encodeFunctionData("approve", [PERMIT2, MAX]) });
    s.send({ to: USDC, data: ERC20.encodeFunctionData("approve", [spender, MAX]) });
    s.send({ to: ROUTER, data: UR.encodeFunctionData("execute", ["0x0b", [ethers.AbiCoder.defaultAbiCoder().encode(
        ["address", "uint256"], ["0x0000000000000000000000000000000000000002", 10n ** 16n])], 1757350000n]),
              value: "0x2386f26fc10000" });
    s.write();
}
/* a payee of value named only in a script */
{
    const s = new Scenario("rules-script-payee", 5);
    const pool = addrOf("rules/clipper");
    s.serve("/api/tokens", "application/json", JSON.stringify({ tokens: tokenList(20, "sp") }));
    s.serve("/assets/vendor.js", "application/javascript", `var w=["${pool}"];`);
    s.send({ to: pool, value });
    s.expect({ rule: "unrequested-recipient", role: "to", observed: pool });
    s.write();
}
/* nothing served: the API came from the browser cache */
{
    const s = new Scenario("rules-unverified", 6);
    const payee = addrOf("rules/cached-payee");
    s.send({ to: payee, value });
    s.expect({ rule: "unverified-recipient", severity: "medium", role: "to", observed: payee });
    s.write();
}
/* ENS: the payee comes back from eth_call as an ABI word */
{
    const s = new Scenario("rules-ens-payee", 7);
    const payee = addrOf("rules/ens-payee"), resolver = "0x231b0ee14048e9dccd1d247744d114a4eb5e8e63";
    const RES = new ethers.Interface(["function addr(bytes32 node) view returns (address)"]);
    s.serve("/api/tokens", "application/json", JSON.stringify({ tokens: tokenList(20, "ens") }));
    s.call("eth_call", [{ to: resolver, data: RES.encodeFunctionData("addr", [ethers.namehash("merchant.eth")]) },
                        "latest"], RES.encodeFunctionResult("addr", [payee]));
    s.send({ to: payee, value });
    s.write();
}
/* the payee only in a redirect's Location header */
{
    const s = new Scenario("rules-location-payee", 8);
    const payee = addrOf("rules/redirect-payee");
    s.serve("/api/tokens", "application/json", JSON.stringify({ tokens: tokenList(20, "loc") }));
    s.raw(request("GET", "/invoice/91", "dapp.example"),
          redirect(`https://pay.dapp.example/checkout/${ethers.getAddress(payee)}?amount=1.5`));
    s.send({ to: payee, value });
    s.write();
}
/* a trading API's {to, data}: the spender only inside the hex calldata */
{
    const s = new Scenario("rules-api-calldata", 9);
    const spender = addrOf("rules/aggregator");
    const data = ERC20.encodeFunctionData("approve", [spender, MAX]);
    s.serve("/api/tokens", "application/json", JSON.stringify({ tokens: tokenList(20, "agg") }));
    s.serve("/swap/v1/quote?sellToken=USDC&buyToken=WETH", "application/json",
            JSON.stringify({ sellToken: USDC, buyAmount: "412000000000000000",
                             approval: { to: USDC, data, value: "0" } }));
    s.send({ to: USDC, data });
    s.write();
}
console.log("gen_rules: wrote rules-*.pcap and their expected files in " + OUT);
