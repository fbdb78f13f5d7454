// dapp/server.mjs - the local dapp's two servers, bound to 127.0.0.1.
//   node server.mjs --role shop|rpc --port N --proto http|https|h2 [--cert C --key K]
//                   [--rpc-url URL] [--sol-bundle FILE]
// shop: the static pages (index.html + app.js with ethers v6's UMD bundle from node_modules;
//       sol.html + sol.js with the esbuild bundle of @solana/web3.js + spl-token given by
//       --sol-bundle), all gzip; GET /api/config (chain id + RPC URL, no addresses),
//       GET /api/invoice (the payee and the spender the page is asked to use, and the
//       alternative BTC/Tron/Solana payment addresses), GET /api/sol-invoice (the Solana payee
//       wallet and the mint), POST /api/order (an HTML receipt echoing the payment addresses the
//       customer was shown).
// rpc:  a JSON-RPC node (POST any path, CORS for the page's origin; and WebSocket on the same
//       port, `ws` with permessage-deflate): eth_sendTransaction and eth_sendRawTransaction
//       answer a deterministic hash, eth_signTypedData_v4 a real signature by the wallet's
//       (unlocked) test key, Solana getLatestBlockhash a fixed blockhash and sendTransaction
//       the transaction's own first signature. No response carries an account address.
// shop --zstd: the API's JSON and HTML answers (config, invoice, order receipt) are sent with
//       Content-Encoding: zstd (precompressed by Debian's `zstd` CLI) to a request whose
//       Accept-Encoding lists zstd (each such answer is logged as "zstd PATH").
// shop GET /api/stream: Server-Sent Events (text/event-stream): an "invoice" event (the same
//       invoice as /api/invoice), then a comment every second; the stream never ends by itself.
// rpc --early (h2 only): the node advertises SETTINGS_INITIAL_WINDOW_SIZE 0 and answers every
//       stream on the 'stream' event, before its request body is read (a deterministic
//       transaction hash), with END_STREAM; 50 ms later it opens the window (SETTINGS 65535),
//       so the browser's body (the wallet call) follows the complete response on the wire;
//       then the window is closed again for the next request.
// proto: http = HTTP/1.1 cleartext; https = node's https module (HTTP/1.1 only, ALPN
//        http/1.1); h2 = node's http2 secure server with allowHTTP1 (ALPN h2 first).
// Prints "listening PORT" once ready; SIGTERM closes it.
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ethers } from 'ethers';
import { WebSocketServer } from 'ws';
import { DAPP_INVOICE, WALLET_KEY } from '../fixtures.mjs';
import { ALT_PAY, SOL_INVOICE, SOL_BLOCKHASH } from '../solfix.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = { role: 'shop', port: 0, proto: 'http', cert: null, key: null, rpcUrl: '', solBundle: null,
              zstd: false, early: false };
const FLAGS = new Set(['zstd', 'early']);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!(k in opt)) { console.error(`server: unknown argument ${argv[i]}`); process.exit(2); }
  opt[k] = FLAGS.has(k) ? true : k === 'port' ? Number(argv[++i]) : argv[++i];
}

// Static files, gzip-compressed once (level 9, deterministic): the ethers bundle is ~515 KB raw.
const gz = (buf) => zlib.gzipSync(buf, { level: 9 });
const files = {
  '/': ['text/html; charset=utf-8', fs.readFileSync(path.join(here, 'index.html'))],
  '/app.js': ['text/javascript; charset=utf-8', fs.readFileSync(path.join(here, 'app.js'))],
  '/vendor/ethers.umd.min.js': ['text/javascript; charset=utf-8', fs.readFileSync(
    path.join(here, '..', 'node_modules', 'ethers', 'dist', 'ethers.umd.min.js'))],
  '/sol.html': ['text/html; charset=utf-8', fs.readFileSync(path.join(here, 'sol.html'))],
  '/sol.js': ['text/javascript; charset=utf-8', fs.readFileSync(path.join(here, 'sol.js'))],
};
if (opt.solBundle)
  files['/vendor/solana.min.js'] = ['text/javascript; charset=utf-8', fs.readFileSync(opt.solBundle)];
for (const f of Object.values(files)) f.push(gz(f[1]));

let txn = 0;
const txHash = () => '0x' + (++txn).toString(16).padStart(64, 'a');
const signer = new ethers.Wallet(WALLET_KEY);

// eth_signTypedData_v4 [address, JSON]: the unlocked test account signs what it was given.
function signTyped(params) {
  const td = typeof params[1] === 'string' ? JSON.parse(params[1]) : params[1];
  const types = { ...td.types };
  delete types.EIP712Domain;
  return signer.signingKey.sign(ethers.TypedDataEncoder.hash(td.domain, types, td.message)).serialized;
}

// sendTransaction [encoded, {encoding}]: a real node answers the transaction's first signature.
function solSignature(params) {
  const enc = params[1] && params[1].encoding === 'base64' ? 'base64' : 'base58';
  const raw = enc === 'base64' ? Buffer.from(params[0], 'base64') : ethers.getBytes(ethers.decodeBase58(params[0]));
  return ethers.encodeBase58(raw.subarray(1, 65));
}

function rpc(req) {
  try { return rpcCall(req); } catch (e) {
    return { jsonrpc: '2.0', id: req && req.id !== undefined ? req.id : null,
             error: { code: -32602, message: `invalid params: ${e.message}` } };
  }
}

function rpcCall(req) {
  const base = { jsonrpc: '2.0', id: req && req.id !== undefined ? req.id : null };
  switch (req && req.method) {
    case 'eth_chainId': return { ...base, result: '0x1' };
    case 'net_version': return { ...base, result: '1' };
    case 'eth_blockNumber': return { ...base, result: '0x1312d00' };
    case 'eth_getTransactionCount': return { ...base, result: '0x0' };
    case 'eth_gasPrice': return { ...base, result: '0x6fc23ac00' };
    case 'eth_maxPriorityFeePerGas': return { ...base, result: '0x3b9aca00' };
    case 'eth_estimateGas': return { ...base, result: '0xfde8' };
    case 'eth_getTransactionByHash': return { ...base, result: null };
    case 'eth_sendTransaction':
    case 'eth_sendRawTransaction': return { ...base, result: txHash() };
    case 'eth_signTypedData_v4': return { ...base, result: signTyped(req.params) };
    case 'getLatestBlockhash':
      return { ...base, result: { context: { apiVersion: '2.2.0', slot: 350000000 },
                                  value: { blockhash: SOL_BLOCKHASH, lastValidBlockHeight: 328000150 } } };
    case 'sendTransaction': return { ...base, result: solSignature(req.params) };
    default: return { ...base, error: { code: -32601, message: 'method not found' } };
  }
}

// zstd level 19 by the CLI (node 20's zlib has no zstd); deterministic output.
const zst = (buf) => execFileSync('zstd', ['-19', '-q', '-c', '--no-progress'], { input: buf });

function send(res, status, type, body, extra = {}, gzBody = null, acceptGzip = false, zstdOk = false) {
  const h = { 'content-type': type, 'cache-control': 'no-store', ...extra };
  let b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  if (gzBody && acceptGzip) { b = gzBody; h['content-encoding'] = 'gzip'; }
  else if (zstdOk && b.length) { b = zst(b); h['content-encoding'] = 'zstd'; console.log(`zstd ${res.req ? res.req.url : ''} ${b.length}`); }
  h['content-length'] = b.length;
  res.writeHead(status, h);
  res.end(b);
}

function shop(req, res, body) {
  const url = req.url.split('?')[0];
  const acceptGzip = /\bgzip\b/.test(req.headers['accept-encoding'] || '');
  const z = opt.zstd && /\bzstd\b/.test(req.headers['accept-encoding'] || '');
  if (opt.zstd && url.startsWith('/api/')) console.log(`accept-encoding ${url}: ${req.headers['accept-encoding'] || ''}`);
  if (req.method === 'GET' && files[url]) {
    const [type, raw, z] = files[url];
    return send(res, 200, type, raw, {}, z, acceptGzip);
  }
  if (req.method === 'GET' && url === '/api/config')
    return send(res, 200, 'application/json', JSON.stringify({ chain_id: 1, rpc_url: opt.rpcUrl }), {}, null, false, z);
  if (req.method === 'GET' && url === '/api/invoice')
    return send(res, 200, 'application/json', JSON.stringify({ ...DAPP_INVOICE, pay_alt: ALT_PAY }), {}, null, false, z);
  if (req.method === 'GET' && url === '/api/stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': invoice stream\n\n');
    const t1 = setTimeout(() => res.write(`event: invoice\ndata: ${JSON.stringify({ ...DAPP_INVOICE, pay_alt: ALT_PAY })}\n\n`), 300);
    const t2 = setInterval(() => res.write(': keep-alive\n\n'), 1000);
    const stop = () => { clearTimeout(t1); clearInterval(t2); };
    res.on('close', stop);
    streams.add(res);
    return;
  }
  if (req.method === 'GET' && url === '/api/sol-invoice')
    return send(res, 200, 'application/json', JSON.stringify(SOL_INVOICE));
  if (req.method === 'POST' && url === '/api/order') {
    let o = {};
    try { o = JSON.parse(body.toString('utf8')); } catch { return send(res, 400, 'text/plain', 'bad order\n'); }
    const esc = (x) => String(x).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const rows = Object.entries(o.pay_alt || {}).map(([k, v]) => `<li>${esc(k)}: <code>${esc(v)}</code></li>`);
    return send(res, 200, 'text/html; charset=utf-8',
      `<!doctype html><title>Order ${esc(o.invoice)}</title><h2>Order ${esc(o.invoice)} received</h2>` +
      `<p>Other ways to pay this order:</p><ul>${rows.join('')}</ul>\n`, {}, null, false, z);
  }
  if (url === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
  return send(res, 404, 'text/plain', 'not found\n');
}

function node(req, res, body) {
  const cors = { 'access-control-allow-origin': req.headers.origin || '*',
                 'access-control-allow-methods': 'POST, OPTIONS',
                 'access-control-allow-headers': req.headers['access-control-request-headers'] || 'content-type', 'access-control-max-age': '600' };
  if (req.method === 'OPTIONS') return send(res, 204, 'text/plain', '', cors);
  if (req.method !== 'POST') return send(res, 405, 'text/plain', 'POST only\n', cors);
  let msg;
  try { msg = JSON.parse(body.toString('utf8')); }
  catch { return send(res, 200, 'application/json',
    '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}', cors); }
  return send(res, 200, 'application/json',
              JSON.stringify(Array.isArray(msg) ? msg.map(rpc) : rpc(msg)), cors);
}

function handler(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => (opt.role === 'rpc' ? node : shop)(req, res, Buffer.concat(chunks)));
}

const streams = new Set();
const tls = () => ({ cert: fs.readFileSync(opt.cert), key: fs.readFileSync(opt.key) });
let server;
if (opt.proto === 'http') server = http.createServer(handler);
else if (opt.proto === 'https')
  server = https.createServer({ ...tls(), ALPNProtocols: ['http/1.1'] }, handler);
else if (opt.proto === 'h2' && opt.early) {
  // SETTINGS_INITIAL_WINDOW_SIZE 0: the browser may send a request's HEADERS but no body byte
  // until the window opens, so the whole response (END_STREAM) is on the wire first.
  server = http2.createSecureServer({ ...tls(), settings: { initialWindowSize: 0 } });
  server.on('stream', (stream, headers) => {
    const cors = { 'access-control-allow-origin': headers.origin || '*',
                   'access-control-allow-methods': 'POST, OPTIONS',
                   'access-control-allow-headers': headers['access-control-request-headers'] || 'content-type',
                   'access-control-max-age': '600' };
    if (headers[':method'] === 'OPTIONS') { stream.respond({ ':status': 204, ...cors }, { endStream: true }); return; }
    // Answered before a byte of the body is read (the wallet's calls all want a tx hash).
    const body = JSON.stringify({ jsonrpc: '2.0', id: ++txn, result: '0x' + txn.toString(16).padStart(64, 'b') });
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'cache-control': 'no-store', ...cors });
    stream.end(body);
    console.log(`early ${headers[':path']}`);
    const sess = stream.session;
    let got = 0;
    stream.on('data', (c) => { got += c.length; });
    stream.on('end', () => {
      console.log(`late body ${got}`);
      sess.settings({ initialWindowSize: 0 });   // the next request waits again
    });
    // Then the window opens (a SETTINGS change applies to open streams): the body follows.
    setTimeout(() => { if (!sess.destroyed) sess.settings({ initialWindowSize: 65535 }); }, 50);
  });
} else if (opt.proto === 'h2') server = http2.createSecureServer({ ...tls(), allowHTTP1: true }, handler);
else { console.error(`server: unknown proto ${opt.proto}`); process.exit(2); }
if (server.keepAliveTimeout !== undefined) server.keepAliveTimeout = 5000;
// JSON-RPC over WebSocket on the node's port (ethers WebSocketProvider / wallets do the same);
// permessage-deflate with threshold 0, so every message is compressed both ways.
if (opt.role === 'rpc' && opt.proto !== 'h2') {
  const wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0 } });
  wss.on('connection', (ws) => ws.on('message', (data) => {
    let msg;
    try { msg = JSON.parse(data.toString('utf8')); }
    catch { return ws.send('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}'); }
    ws.send(JSON.stringify(Array.isArray(msg) ? msg.map(rpc) : rpc(msg)));
  }));
  process.on('SIGTERM', () => { for (const c of wss.clients) c.terminate(); });
}
const sessions = new Set();
server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
server.listen(opt.port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => {
  for (const r of streams) r.end();
  for (const s of sessions) s.close();
  if (server.closeAllConnections) server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
