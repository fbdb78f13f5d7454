// rpc_server.mjs - a minimal shop API + JSON-RPC node for the TLS recordings.
//   node rpc_server.mjs --port N [--tls CERT KEY] [--tls-max 1.2|1.3]
// GET /api/invoice -> the invoice JSON (serves the legitimate payee).
// POST /rpc        -> JSON-RPC: eth_sendTransaction / eth_sendRawTransaction answer a fixed
//                     transaction hash, eth_chainId 0x1, anything else an error object.
// Binds 127.0.0.1 only. HTTP/1.1 only (node's https module has no ALPN h2).
// Prints "listening PORT" on stdout once ready; exits on SIGTERM.
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { INVOICE } from './fixtures.mjs';

const args = process.argv.slice(2);
let port = 0, cert = null, key = null, tlsMax = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--tls') { cert = args[++i]; key = args[++i]; }
  else if (args[i] === '--tls-max') tlsMax = args[++i];
  else { console.error(`rpc_server: unknown argument ${args[i]}`); process.exit(2); }
}

// Deterministic fake transaction hashes: 0x + 64 hex, counter-based.
let txn = 0;
const txHash = () => '0x' + (++txn).toString(16).padStart(64, 'c');

function rpc(req) {
  const base = { jsonrpc: '2.0', id: req && req.id !== undefined ? req.id : null };
  switch (req && req.method) {
    case 'eth_chainId': return { ...base, result: '0x1' };
    case 'eth_sendTransaction':
    case 'eth_sendRawTransaction': return { ...base, result: txHash() };
    default: return { ...base, error: { code: -32601, message: 'method not found' } };
  }
}

function handler(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body),
                              'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/api/invoice') {
      send(200, 'application/json', JSON.stringify(INVOICE));
    } else if (req.method === 'POST' && req.url === '/rpc') {
      let body;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); }
      catch { return send(400, 'application/json', '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}'); }
      const out = Array.isArray(body) ? body.map(rpc) : rpc(body);
      send(200, 'application/json', JSON.stringify(out));
    } else {
      send(404, 'text/plain', 'not found\n');
    }
  });
}

const server = cert
  ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key),
                         maxVersion: tlsMax ? `TLSv${tlsMax}` : 'TLSv1.3',
                         ALPNProtocols: ['http/1.1'] }, handler)
  : http.createServer(handler);
server.keepAliveTimeout = 2000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
