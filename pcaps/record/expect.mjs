// expect.mjs - expected alerts of a recorded scenario, from what the page was served and what it
// sent (drive.mjs's log), by the project's detection semantics - independent of walletwatch.
//   node expect.mjs SESSION.json > NAME.expected.jsonl
// Wallet calls understood: eth_sendRawTransaction, eth_sendTransaction (ERC-20 transfer,
// transferFrom, approve), eth_signTypedData_v4 (Permit2 PermitSingle), Solana sendTransaction
// (base64; ATA create + transferChecked). For each address a wallet call names:
//  (a) in the attacker DB (addrdb/bundled.csv) -> known-attacker with its role;
//  (b) a payee (recipient, spender, or the `to` of a plain value transfer with no calldata; for
//      a Solana token transfer the wallet whose associated token account receives it) not
//      served: looking like a served address of its chain far beyond chance (EVM: >= 8
//      leading+trailing hex chars) -> lookalike-recipient, else unrequested-recipient; expected
//      = the most similar served address of that chain (a tie is refused: pick other fixture
//      addresses);
//  (c) approve of 2^256-1 / a Permit2 amount of 2^160-1 to an unserved spender ->
//      unlimited-approval;
//  (d) a mixed-case EVM address failing EIP-55 -> bad-checksum.
// And for each address a response served to the browser that is in the attacker DB ->
// known-attacker, where "response" (the order receipt echoing what the page was shown).
// Served = what the dapp's servers answer (fixtures): the invoice's payee and router (EVM), its
// alternative BTC/Tron/Solana addresses and, once posted, the order receipt's; the Solana
// invoice's owner and mint and the node's blockhash. No other response carries an address.
import fs from 'node:fs';
import path from 'node:path';
import { ethers } from 'ethers';
import { Transaction, PublicKey } from '@solana/web3.js';
import { ATTACKER, DAPP_INVOICE, MAX_UINT256, MAX_UINT160 } from './fixtures.mjs';
import { ALT_PAY, SOL_INVOICE, SOL_BLOCKHASH, TOKEN_PROGRAM } from './solfix.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);

function dbRows() {
  const csv = fs.readFileSync(path.join(here, '..', '..', 'addrdb', 'bundled.csv'), 'utf8');
  return csv.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(','));
}
export const evmPool = () => dbRows().filter((r) => r[0] === 'evm').map((r) => r[1]);
// Every attacker-DB address, normalized as walletwatch writes them (EVM and bech32 lower case,
// base58 as is), for the known-attacker rule.
export const dbAll = () => dbRows().map((r) => (/^(0x|bc1|ltc1|bitcoincash:|q|p)/i.test(r[1]) && r[0] !== 'solana' && r[0] !== 'tron' ? r[1].toLowerCase() : r[1]));
// The hijack fixture's pools, per address kind of its patterns: the payload's clipper pools
// (not its fixed replacements: the EVM 0xFc4a...6976 and the Solana 1911...1 literal).
export function pools() {
  const rows = dbRows().filter((r) => /pool/.test(r[2] || ''));
  const of = (chain, re) => rows.filter((r) => r[0] === chain && re.test(r[1])).map((r) => r[1]);
  return {
    evm: of('evm', /^0x/).filter((a) => a.toLowerCase() !== ATTACKER.toLowerCase()),
    btc: of('bitcoin', /^[13]/), bech32: of('bitcoin', /^bc1/), tron: of('tron', /^T/),
    sol: of('solana', /./),
  };
}


const lc = (a) => a.toLowerCase();
// Normalized as walletwatch writes addresses: EVM and bech32 lower case, base58 as is.
const norm = (chain, a) => (chain === 'evm' || /^bc1/i.test(a) ? lc(a) : a);
const chainOf = (a) => (/^0x/i.test(a) ? 'evm' : /^(bc1|[13])/.test(a) && a.length <= 62 && !/^[1-9A-HJ-NP-Za-km-z]{43,44}$/.test(a) ? 'bitcoin'
  : /^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(a) ? 'tron' : 'solana');

// Shared leading + trailing characters (EVM: hex digits after 0x, case-insensitive).
function similarity(chain, a, b) {
  const x = chain === 'evm' ? lc(a).slice(2) : a, y = chain === 'evm' ? lc(b).slice(2) : b;
  const n = Math.min(x.length, y.length);
  let p = 0, s = 0;
  while (p < n && x[p] === y[p]) p++;
  while (s < n - p && x[x.length - 1 - s] === y[y.length - 1 - s]) s++;
  return p + s;
}
// Lookalike: EVM >= 8 hex characters (32 bits); Solana >= 6 base58 characters (35 bits). In
// between chance and that, the verdict would depend on walletwatch's exact bit threshold:
// refused (pick other fixture addresses).
const LOOK = { evm: [8, 8], solana: [6, 3] };

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
const ATA_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';

// The parties of a Solana transaction (base64): the payee of each token transfer.
function solParties(b64) {
  const tx = Transaction.from(Buffer.from(b64, 'base64'));
  const out = [];
  for (const ix of tx.instructions) {
    const prog = ix.programId.toBase58();
    if (prog === TOKEN_PROGRAM && ix.data[0] === 12) { // TransferChecked [src, mint, dst, owner]
      const mint = ix.keys[1].pubkey, dst = ix.keys[2].pubkey;
      const create = tx.instructions.find((c) => c.programId.toBase58() === ATA_PROGRAM &&
        c.keys[1].pubkey.equals(dst));
      if (!create) throw new Error('expect: token transfer without its ATA create (not recorded here)');
      const owner = create.keys[2].pubkey;
      const [ata] = PublicKey.findProgramAddressSync(
        [owner.toBuffer(), new PublicKey(TOKEN_PROGRAM).toBuffer(), mint.toBuffer()], new PublicKey(ATA_PROGRAM));
      if (!ata.equals(dst)) throw new Error('expect: ATA create names a wallet whose ATA is not the destination');
      out.push({ chain: 'solana', role: 'recipient', addr: owner.toBase58(), payee: true });
    } else if (prog !== ATA_PROGRAM && prog !== TOKEN_PROGRAM) {
      throw new Error(`expect: unexpected Solana program ${prog}`);
    }
  }
  return out;
}

// The parties of one wallet request: [{ chain, role, addr, text, payee, unlimited }].
function parties(method, params) {
  let tx, textual = true;
  if (method === 'sendTransaction') return solParties(params[0]);
  if (method === 'eth_signTypedData_v4') {
    const td = JSON.parse(params[1]);
    if (td.primaryType !== 'PermitSingle') throw new Error(`expect: typed data ${td.primaryType}`);
    const out = [{ chain: 'evm', role: 'to', text: td.domain.verifyingContract, addr: lc(td.domain.verifyingContract), payee: false }];
    out.push({ chain: 'evm', role: 'spender', text: td.message.spender, addr: lc(td.message.spender), payee: true,
               unlimited: BigInt(td.message.details.amount) === MAX_UINT160 });
    return out;
  }
  if (method === 'eth_sendRawTransaction') { tx = ethers.Transaction.from(params[0]); textual = false; }
  else if (method === 'eth_sendTransaction') tx = params[0];
  else throw new Error(`expect: unknown wallet method ${method}`);
  const data = tx.data || tx.input || '0x';
  const out = [];
  const evm = (o) => out.push({ chain: 'evm', ...o });
  if (tx.to) evm({ role: 'to', text: textual ? tx.to : null, addr: lc(tx.to), payee: data === '0x' });
  if (data !== '0x') {
    const d = erc20.parseTransaction({ data });
    if (!d) throw new Error(`expect: unknown calldata ${data.slice(0, 10)}`);
    if (d.name === 'transfer') evm({ role: 'recipient', addr: lc(d.args[0]), payee: true });
    if (d.name === 'transferFrom') evm({ role: 'recipient', addr: lc(d.args[1]), payee: true });
    if (d.name === 'approve')
      evm({ role: 'spender', addr: lc(d.args[0]), payee: true, unlimited: d.args[1] === MAX_UINT256 });
  }
  if (textual && tx.from) evm({ role: 'from', text: tx.from, addr: lc(tx.from), payee: false });
  return out;
}

// session: drive.mjs's log; served: [address] served to the browser before the wallet calls;
// echoed: [address] served after them (the order receipt); db: [address].
export function expectedAlerts(session, served, echoed, db) {
  const alerts = [];
  const dbset = new Set(db);
  const all = [...served, ...echoed].map((a) => ({ chain: chainOf(a), addr: norm(chainOf(a), a) }));
  for (const s of all)
    if (dbset.has(s.addr)) alerts.push({ rule: 'known-attacker', chain: s.chain, where: 'response', observed: s.addr });
  const before = served.map((a) => ({ chain: chainOf(a), addr: norm(chainOf(a), a) }));
  for (const req of session.wallet) {
    for (const p of parties(req.method, req.params)) {
      const base = { chain: p.chain, role: p.role, observed: p.addr };
      if (p.role === 'from') {
        if (checksumBad(p.text)) alerts.push({ rule: 'bad-checksum', ...base });
        continue;
      }
      if (dbset.has(p.addr)) alerts.push({ rule: 'known-attacker', ...base });
      const same = before.filter((s) => s.chain === p.chain);
      if (!same.some((s) => s.addr === p.addr) && same.length > 0) {
        const scored = same.map((s) => [similarity(p.chain, p.addr, s.addr), s.addr]).sort((a, b) => b[0] - a[0]);
        const [best, expected] = scored[0];
        const [look, gray] = LOOK[p.chain];
        if (best < look && best >= gray && p.chain !== 'evm')
          throw new Error(`expect: ${p.addr} shares ${best} characters with ${expected}: too close to the lookalike threshold`);
        const tie = () => {
          if (scored.length > 1 && scored[0][0] === scored[1][0])
            throw new Error(`expect: ${p.addr} is equally similar to ${scored[0][1]} and ${scored[1][1]}`);
        };
        if (best >= look) { tie(); alerts.push({ rule: 'lookalike-recipient', ...base, expected }); }
        else if (p.payee) { tie(); alerts.push({ rule: 'unrequested-recipient', ...base, expected }); }
        if (p.unlimited) alerts.push({ rule: 'unlimited-approval', ...base });
      }
      if (checksumBad(p.text)) alerts.push({ rule: 'bad-checksum', ...base });
    }
  }
  return alerts;
}

// What the dapp's servers served in this session (see the header), from the fixtures and what
// the page posted back.
export function servedOf(session) {
  const u = new URL(session.url);
  if (u.pathname === '/sol.html') return { served: [SOL_INVOICE.owner, SOL_INVOICE.mint, SOL_BLOCKHASH], echoed: [] };
  const served = [DAPP_INVOICE.payee, DAPP_INVOICE.router, ...Object.values(ALT_PAY)];
  return { served, echoed: session.dapp.order ? Object.values(session.dapp.order) : [] };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const session = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const { served, echoed } = servedOf(session);
  // Sanity: what the page echoed is what the fixture made of the invoice (or the invoice).
  if (echoed.length) {
    const swapped = new Map((session.hijack || []).filter((h) => h.kind === 'response').map((h) => [h.original, h.replacement]));
    // ?flow=sse: the invoice came by EventSource, which the fixture does not wrap (only the
    // receipt, after the order, is swapped in the page).
    const sse = new URL(session.url).searchParams.get('flow') === 'sse';
    for (const [k, v] of Object.entries(ALT_PAY))
      if (session.dapp.order[k] !== (sse ? v : swapped.get(v) || v)) throw new Error(`expect: order ${k} ${session.dapp.order[k]} is not what the page was served`);
  }
  for (const a of expectedAlerts(session, served, echoed, dbAll())) process.stdout.write(JSON.stringify(a) + '\n');
}
