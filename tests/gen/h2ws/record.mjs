#!/usr/bin/env node
/*
 * record.mjs - records the HTTP/2 and WebSocket regression captures in pcaps/ from real client
 * libraries on loopback (127.0.0.1 only):
 *
 *   cd tests/gen/h2ws && npm ci && sudo node record.mjs
 *
 *   h2-tls-hijack.pcapng   node's http2 client <-> node's http2 secure server (TLS 1.3, ALPN h2,
 *                          self-signed P-256 certificate made at record time). The page's API
 *                          serves the payee A (GET /api/invoice, JSON) while a static script and
 *                          a style sheet load on concurrent streams; then the wallet's
 *                          eth_sendTransaction (POST /rpc) pays the September 2025 attacker
 *                          address instead. Key log from the client's 'keylog' event, embedded
 *                          with editcap --inject-secrets tls,KEYS (the pcapng carries a DSB).
 *   ws-deflate-unrequested.pcap
 *                          the `ws` package's client <-> server, permessage-deflate negotiated
 *                          (threshold 0: every message compressed, context takeover on both
 *                          sides). The server pushes an eth_subscription notification naming the
 *                          payee B; the client sends eth_chainId, then an eth_sendTransaction
 *                          whose `to` is a substituted address C that nothing served and that is
 *                          not in the attacker DB.
 *   ws-deflate-nocontext.pcap
 *                          the same with server_no_context_takeover and client_no_context_takeover
 *                          and client_max_window_bits=10, the payee substituted by the attacker
 *                          address.
 * and for each one NAME.expected.jsonl: the alerts walletwatch must raise (tests/pcaps.list).
 * Timestamps, ports and TLS secrets differ from run to run; the committed files are the reference.
 */
import http2 from "node:http2";
import tls from "node:tls";
import { WebSocketServer, WebSocket } from "ws";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(HERE, "../../../pcaps");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "ww-h2ws-"));
const HOST = "127.0.0.1";

const PAYEE_A = "0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c";
const PAYEE_B = "0x3e8734ec146c981e3ed1f6b582d447dde701d90c";
const ATTACKER = "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976";
const SUBST_C = "0x9d2c1fe3a4b5c6d7e8f90123456789abcdef0123";
const FROM = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function capture(name, port, keys, fn) {
  const raw = path.join(TMP, name + ".raw.pcap");
  const td = spawn("tcpdump", ["-i", "lo", "-U", "-Z", "root", "-s", "0", "-w", raw, `host ${HOST} and tcp port ${port}`],
                   { stdio: ["ignore", "ignore", "pipe"] });
  await new Promise((res, rej) => {
    td.stderr.on("data", (d) => { if (String(d).includes("listening on")) res(); });
    td.on("exit", (c) => rej(new Error("tcpdump exited " + c)));
  });
  await sleep(1500); /* "listening" is printed before the capture really runs */
  await fn();
  await sleep(1000);
  const done = new Promise((r) => td.on("exit", r));
  td.kill("SIGINT");
  await done;
  const out = path.join(OUT, name);
  if (keys)
    execFileSync("editcap", ["--inject-secrets", "tls," + keys, raw, out]);
  else
    fs.copyFileSync(raw, out);
  console.log("wrote", out);
}

function expected(name, lines) {
  fs.writeFileSync(path.join(OUT, name + ".expected.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
}

function rpcTx(id, to) {
  return JSON.stringify({ jsonrpc: "2.0", id, method: "eth_sendTransaction",
                          params: [{ from: FROM, to, value: "0x2386f26fc10000", gas: "0x5208" }] });
}

/* ---- HTTP/2 over TLS ---- */
async function recordH2() {
  const key = path.join(TMP, "key.pem"), crt = path.join(TMP, "crt.pem"), keys = path.join(TMP, "h2.keys");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                           "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=dapp.test"],
               { stdio: "ignore" });
  const port = 18443;
  const server = http2.createSecureServer({ key: fs.readFileSync(key), cert: fs.readFileSync(crt) });
  server.on("stream", (stream, headers) => {
    const p = headers[":path"];
    if (p === "/api/invoice") {
      stream.respond({ ":status": 200, "content-type": "application/json" });
      stream.end(JSON.stringify({ invoice: "INV-2207", payee: PAYEE_A, amount: "0.01", chainId: 1 }));
    } else if (p === "/static/app.js") {
      stream.respond({ ":status": 200, "content-type": "application/javascript" });
      stream.end("/* app */\n" + "console.log('dapp');\n".repeat(3000));
    } else if (p === "/static/app.css") {
      stream.respond({ ":status": 200, "content-type": "text/css" });
      stream.end("body{margin:0}\n".repeat(200));
    } else if (p === "/rpc") {
      let body = "";
      stream.on("data", (d) => (body += d));
      stream.on("end", () => {
        const req = JSON.parse(body);
        stream.respond({ ":status": 200, "content-type": "application/json" });
        stream.end(JSON.stringify({ jsonrpc: "2.0", id: req.id, result: "0x" + "ab".repeat(32) }));
      });
    } else {
      stream.respond({ ":status": 404 });
      stream.end();
    }
  });
  await new Promise((r) => server.listen(port, HOST, r));
  await capture("h2-tls-hijack.pcapng", port, keys, async () => {
    /* the TLS socket's 'keylog' event is the client's SSLKEYLOGFILE */
    const client = http2.connect(`https://${HOST}:${port}`, {
      createConnection: () => {
        const s = tls.connect({ host: HOST, port, servername: "dapp.test", ALPNProtocols: ["h2"],
                                rejectUnauthorized: false });
        s.on("keylog", (line) => fs.appendFileSync(keys, line));
        return s;
      },
    });
    const get = (p) => new Promise((res, rej) => {
      const r = client.request({ ":path": p, ":authority": "dapp.test", accept: "*/*" });
      let n = 0;
      r.on("data", (d) => (n += d.length));
      r.on("end", () => res(n));
      r.on("error", rej);
      r.end();
    });
    await Promise.all([get("/static/app.js"), get("/static/app.css"), get("/api/invoice")]);
    await sleep(100);
    await new Promise((res, rej) => {
      const r = client.request({ ":method": "POST", ":path": "/rpc", ":authority": "dapp.test",
                                 "content-type": "application/json" });
      r.on("data", () => {});
      r.on("end", res);
      r.on("error", rej);
      r.end(rpcTx(42, ATTACKER));
    });
    await new Promise((r) => client.close(r));
  });
  server.close();
  expected("h2-tls-hijack", [
    { rule: "known-attacker", chain: "evm", role: "to", observed: ATTACKER },
    { rule: "unrequested-recipient", chain: "evm", role: "to", observed: ATTACKER, expected: PAYEE_A },
  ]);
}

/* ---- WebSocket with permessage-deflate ---- */
async function recordWs(name, port, pmd, observed, alerts) {
  const wss = new WebSocketServer({ host: HOST, port, perMessageDeflate: pmd });
  wss.on("connection", (ws) => {
    ws.send(JSON.stringify({ jsonrpc: "2.0", method: "eth_subscription",
                             params: { subscription: "0x1", result: { payee: PAYEE_B, memo: "order 77" } } }));
    ws.on("message", (data) => {
      const req = JSON.parse(String(data));
      const result = req.method === "eth_chainId" ? "0x1" : "0x" + "cd".repeat(32);
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: req.id, result }));
    });
  });
  await new Promise((r) => wss.on("listening", r));
  await capture(name + ".pcap", port, null, async () => {
    const ws = new WebSocket(`ws://${HOST}:${port}/rpc`, { perMessageDeflate: pmd });
    const inbox = [];
    let wake = null;
    ws.on("message", (d) => { inbox.push(String(d)); if (wake) wake(); });
    await new Promise((r) => ws.on("open", r));
    const recv = async () => { while (inbox.length === 0) await new Promise((r) => (wake = r)); return inbox.shift(); };
    await recv(); /* the notification */
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }));
    await recv();
    ws.send(rpcTx(2, observed));
    await recv();
    ws.close(1000);
    await new Promise((r) => ws.on("close", r));
  });
  wss.close();
  expected(name, alerts);
}

await recordH2();
await recordWs("ws-deflate-unrequested", 18080, { threshold: 0 }, SUBST_C, [
  { rule: "unrequested-recipient", chain: "evm", role: "to", observed: SUBST_C, expected: PAYEE_B },
]);
await recordWs("ws-deflate-nocontext", 18081,
               { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true, clientMaxWindowBits: 10 },
               ATTACKER, [
  { rule: "known-attacker", chain: "evm", role: "to", observed: ATTACKER },
  { rule: "unrequested-recipient", chain: "evm", role: "to", observed: ATTACKER, expected: PAYEE_B },
]);
fs.rmSync(TMP, { recursive: true, force: true });
