// expect.mjs - expected alerts of a recorded scenario, from what the page was served and what it
// sent (drive.mjs's log), by the project's detection semantics - independent of walletwatch.
//   node expect.mjs SESSION.json > NAME.expected.jsonl
// For each address a wallet call names:
//  (a) in the attacker DB (addrdb/bundled.csv) -> known-attacker with its role;
//  (b) a payee (recipient, spender, or the `to` of a plain value transfer with no calldata) not
//      served: sharing >= 8 leading+trailing hex chars with a served address ->
//      lookalike-recipient, else unrequested-recipient; expected = the most similar served
//      address (a tie is refused: pick other fixture addresses);
//  (c) approve of 2^256-1 to an unserved spender -> unlimited-approval;
//  (d) a mixed-case EVM address failing EIP-55 -> bad-checksum.
// Served = DAPP_INVOICE's addresses (no other response of the dapp carries one).
import fs from 'node:fs';
import path from 'node:path';
import { ethers } from 'ethers';
import { DAPP_INVOICE, MAX_UINT256 } from './fixtures.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);

export function evmPool() {
  const csv = fs.readFileSync(path.join(here, '..', '..', 'addrdb', 'bundled.csv'), 'utf8');
  return csv.split('\n').filter((l) => l.startsWith('evm,')).map((l) => l.split(',')[1]);
}

const lc = (a) => a.toLowerCase();
function similarity(a, b) {
  const x = lc(a).slice(2), y = lc(b).slice(2);
  let p = 0, s = 0;
  while (p < 40 && x[p] === y[p]) p++;
  while (s < 40 - p && x[39 - s] === y[39 - s]) s++;
  return p + s;
}

function checksumBad(s) {
  if (typeof s !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(s)) return false;
  const h = s.slice(2);
  if (h === h.toLowerCase() || h === h.toUpperCase()) return false;
  return ethers.getAddress(lc(s)) !== s;
}

const erc20 = new ethers.Interface([
  'function transfer(address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
  'function transferFrom(address from, address to, uint256 amount)',
]);

// The parties of one wallet request: [{ role, addr, text, payee, unlimited }].
function parties(method, params) {
  let tx, textual = true;
  if (method === 'eth_sendRawTransaction') { tx = ethers.Transaction.from(params[0]); textual = false; }
  else if (method === 'eth_sendTransaction') tx = params[0];
  else return [];
  const data = tx.data || tx.input || '0x';
  const out = [];
  if (tx.to) out.push({ role: 'to', text: textual ? tx.to : null, addr: lc(tx.to), payee: data === '0x' });
  if (data !== '0x') {
    const d = erc20.parseTransaction({ data });
    if (!d) throw new Error(`expect: unknown calldata ${data.slice(0, 10)}`);
    if (d.name === 'transfer') out.push({ role: 'recipient', addr: lc(d.args[0]), payee: true });
    if (d.name === 'transferFrom') out.push({ role: 'recipient', addr: lc(d.args[1]), payee: true });
    if (d.name === 'approve')
      out.push({ role: 'spender', addr: lc(d.args[0]), payee: true, unlimited: d.args[1] === MAX_UINT256 });
  }
  if (textual && tx.from) out.push({ role: 'from', text: tx.from, addr: lc(tx.from), payee: false });
  return out;
}

export function expectedAlerts(session, served, db) {
  const alerts = [];
  const dbset = new Set(db.map(lc));
  const servedSet = new Set(served.map(lc));
  for (const req of session.wallet) {
    for (const p of parties(req.method, req.params)) {
      const base = { chain: 'evm', role: p.role, observed: p.addr };
      if (p.role === 'from') {
        if (checksumBad(p.text)) alerts.push({ rule: 'bad-checksum', ...base });
        continue;
      }
      if (dbset.has(p.addr)) alerts.push({ rule: 'known-attacker', ...base });
      if (!servedSet.has(p.addr) && servedSet.size > 0) {
        const scored = served.map((s) => [similarity(p.addr, s), lc(s)]).sort((a, b) => b[0] - a[0]);
        const [best, expected] = scored[0];
        const tie = () => {
          if (scored.length > 1 && scored[0][0] === scored[1][0])
            throw new Error(`expect: ${p.addr} is equally similar to ${scored[0][1]} and ${scored[1][1]}`);
        };
        if (best >= 8) { tie(); alerts.push({ rule: 'lookalike-recipient', ...base, expected }); }
        else if (p.payee) { tie(); alerts.push({ rule: 'unrequested-recipient', ...base, expected }); }
        if (p.unlimited) alerts.push({ rule: 'unlimited-approval', ...base });
      }
      if (checksumBad(p.text)) alerts.push({ rule: 'bad-checksum', ...base });
    }
  }
  return alerts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const session = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const served = [DAPP_INVOICE.payee, DAPP_INVOICE.router];
  for (const a of expectedAlerts(session, served, evmPool())) process.stdout.write(JSON.stringify(a) + '\n');
}
