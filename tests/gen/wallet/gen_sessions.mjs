// gen_sessions.mjs - plain HTTP/1.1 captures, one family of wallet call each, clean and hijacked.
//
//   cd tests/gen/wallet && npm ci && node gen_sessions.mjs      (writes pcaps/wallet-*.pcap)
//
// Each session: the browser (10.1.0.10) fetches GET /api/checkout from the dapp (10.1.0.2:80),
// a JSON body naming the addresses the page intends (what walletwatch records as served), then
// sends ONE family of wallet request to a node / bundler (10.1.0.3:8545) or a Solana RPC
// (10.1.0.4:8899). The clean capture pays what was served (no alert); the hijacked one has the
// payee swapped, and <name>.expected.jsonl lists the alerts the detection semantics require:
//   payee (recipient, spender, operator, delegate, `to` of a value transfer) not served ->
//     unrequested-recipient, expected = the served address of that chain sharing the most
//     leading+trailing characters (chosen here to be unique and far from a lookalike);
//   in the attacker DB (0xFc4a...6976, the Sept-2025 pool) -> known-attacker;
//   unlimited approval / permit to an unserved spender -> unlimited-approval;
//   EIP-7702 delegate / Solana authority not served -> authority-change.
// Families: raw EIP-1559 transaction (ERC-20 transfer), Permit2 PermitSingle typed data,
// ERC-4337 v0.7 user operation (SimpleAccount executeBatch), EIP-7702 delegation (type 4),
// Solana SPL transferChecked to an ATA created in the transaction for a substituted owner.
// Deterministic: fixed timestamps, seeded PRNG, ethers' RFC 6979 / ed25519 signatures.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ethers } from 'ethers';
import { Keypair, PublicKey, Transaction as SolTx } from '@solana/web3.js';
import { createAssociatedTokenAccountInstruction, createTransferCheckedInstruction, getAssociatedTokenAddressSync, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { Capture, Conn } from '../pcapw.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(HERE, '../../../pcaps');
const MAC = {
  '10.1.0.10': [0x52, 0x54, 0x00, 0x5a, 0x01, 0x0a],
  '10.1.0.2': [0x52, 0x54, 0x00, 0x5a, 0x01, 0x02],
  '10.1.0.3': [0x52, 0x54, 0x00, 0x5a, 0x01, 0x03],
  '10.1.0.4': [0x52, 0x54, 0x00, 0x5a, 0x01, 0x04],
};
const CLIENT = [10, 1, 0, 10], DAPP = [10, 1, 0, 2], NODE = [10, 1, 0, 3], SOLRPC = [10, 1, 0, 4];
const ATTACKER = '0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976';
const SOL_POOL = '5VVyuV5K6c2gMq1zVeQUFAmo8shPZH28MJCVzccrsZG6'; // addrdb/bundled.csv, Sept-2025 pool
const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
const ENTRYPOINT07 = '0x0000000071727De22E5E9d8BAf0edAc6f37da032';
const MAX160 = (1n << 160n) - 1n;
const CHAIN_ID = 1n;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36';

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
const seedAddr = (s) => ethers.getAddress('0x' + ethers.id(s).slice(-40));
const seedKp = (s) => Keypair.fromSeed(ethers.getBytes(ethers.id(s)));

// walletwatch's similarity: shared leading + trailing characters after any fixed prefix
// (EVM: after 0x, case-folded; base58: case-sensitive).
function shared(a, b, fold) {
  let x = fold ? a.slice(2).toLowerCase() : a, y = fold ? b.slice(2).toLowerCase() : b;
  const m = Math.min(x.length, y.length);
  let p = 0, s = 0;
  while (p < m && x[p] === y[p]) p++;
  while (s < m - p && x[x.length - 1 - s] === y[y.length - 1 - s]) s++;
  return p + s;
}
// The unique most similar served address, far from a lookalike; throws otherwise.
function mostSimilar(obs, served, fold) {
  const sc = served.map((a) => shared(obs, a, fold));
  const best = Math.max(...sc);
  if (sc.filter((x) => x === best).length !== 1 || best > 3) return null;
  return served[sc.indexOf(best)];
}
// First seed index whose address makes mostSimilar(obs, [addr, ...others]) == addr.
function servedFor(tag, obsList, others, fold, make) {
  for (let i = 0; i < 10000; i++) {
    const a = make(`${tag}-${i}`);
    if (obsList.every((o) => mostSimilar(o, [a, ...others], fold) === a)) return a;
  }
  throw new Error(`no served address for ${tag}`);
}

const httpDate = (us) => new Date(us / 1000).toUTCString();
function request(method, target, host, headers, body) {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: keep-alive'];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  if (body) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body || Buffer.alloc(0)]);
}
function response(headers, body) {
  const lines = ['HTTP/1.1 200 OK', ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${body.length}`];
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body]);
}

class Session {
  constructor(name, seed, t0) {
    Object.assign(this, { name, t: t0, rnd: mulberry32(seed), cap: new Capture(MAC), alerts: [], conns: [], id: 1 });
  }
  conn(ip, port, t) {
    const c = new Conn(this.cap, this.rnd, CLIENT, 49152 + Math.floor(this.rnd() * 16000), ip, port, t);
    c.handshake();
    this.conns.push(c);
    return c;
  }
  // The dapp page's intent: JSON naming the addresses it wants paid / approved.
  checkout(obj) {
    const A = this.conn(DAPP, 80, this.t);
    const body = Buffer.from(JSON.stringify(obj, null, 1));
    A.exchange(request('GET', '/api/checkout', 'shop.example', [['Accept', 'application/json'], ['User-Agent', UA], ['Referer', 'http://shop.example/']]),
      response([['Server', 'nginx'], ['Date', httpDate(A.t)], ['Content-Type', 'application/json'], ['Connection', 'keep-alive']], body), 8000);
    this.t = A.t + 2.5e6; // the user reads and clicks
  }
  rpc(ip, port, host, method, params, result) {
    if (!this.rpcConn) this.rpcConn = this.conn(ip, port, this.t);
    const C = this.rpcConn;
    C.t = Math.max(C.t, this.t);
    const id = this.id++;
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    C.exchange(request('POST', '/', host, [['Content-Type', 'application/json'], ['Accept', '*/*'], ['Origin', 'http://shop.example'], ['User-Agent', UA]], body),
      response([['Content-Type', 'application/json'], ['Date', httpDate(C.t)], ['Access-Control-Allow-Origin', '*']], Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, result }))), 6000);
    this.t = C.t + 1e6;
  }
  expect(rule, chain, role, observed, expected) {
    const o = { rule, chain, role, observed: chain === 'evm' ? observed.toLowerCase() : observed };
    if (expected) o.expected = chain === 'evm' ? expected.toLowerCase() : expected;
    this.alerts.push(o);
  }
  finish() {
    for (const c of this.conns) { c.t = Math.max(c.t, this.t) + 1e6; c.close(); }
    const n = this.cap.write(path.join(OUT, `${this.name}.pcap`));
    fs.writeFileSync(path.join(OUT, `${this.name}.expected.jsonl`), this.alerts.map((o) => JSON.stringify(o) + '\n').join(''));
    console.log(`${this.name}.pcap: ${n} packets, ${this.alerts.length} expected alerts`);
  }
}

const ERC20 = new ethers.Interface(['function transfer(address,uint256)']);
const ACCOUNT = new ethers.Interface(['function executeBatch(address[],uint256[],bytes[])']);
const wallet = new ethers.Wallet(ethers.id('walletwatch wallet sessions'));
const fee = { maxFeePerGas: 30000000000n, maxPriorityFeePerGas: 1500000000n, gasLimit: 90000n };
const STRANGER_SPENDER = seedAddr('permit2 stranger spender');
const STRANGER_DELEGATE = seedAddr('7702 stranger delegate');

async function rawSession(name, seed, t0, payee, to) {
  const s = new Session(name, seed, t0);
  s.checkout({ order: 'A-1042', chainId: 1, payTo: payee, token: USDC, amount: '25000000' });
  const raw = await wallet.signTransaction({ type: 2, chainId: CHAIN_ID, nonce: 7, to: USDC, value: 0n, data: ERC20.encodeFunctionData('transfer', [to, 25000000n]), ...fee });
  s.rpc(NODE, 8545, '10.1.0.3:8545', 'eth_sendRawTransaction', [raw], ethers.keccak256(raw));
  return s;
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const T0 = Date.UTC(2025, 8, 9, 10, 0, 0) * 1000;
  // served addresses chosen so that each hijacked payee's most similar served one is unique
  const payee = servedFor('ww payee', [ATTACKER], [USDC], true, seedAddr);
  const spender = servedFor('ww spender', [STRANGER_SPENDER], [USDC], true, seedAddr);
  const delegate = servedFor('ww delegate', [STRANGER_DELEGATE], [USDC, payee], true, seedAddr);

  // 1. raw EIP-1559 transaction: USDC.transfer
  (await rawSession('wallet-1559-clean', 11, T0, payee, payee)).finish();
  const h1 = await rawSession('wallet-1559-hijack', 12, T0 + 600e6, payee, ATTACKER);
  h1.expect('known-attacker', 'evm', 'recipient', ATTACKER);
  h1.expect('unrequested-recipient', 'evm', 'recipient', ATTACKER, payee);
  h1.finish();

  // 2. Permit2 PermitSingle (eth_signTypedData_v4), unlimited amount
  for (const [name, seed, sp] of [['wallet-permit2-clean', 21, spender], ['wallet-permit2-hijack', 22, STRANGER_SPENDER]]) {
    const s = new Session(name, seed, T0 + 1200e6 + seed * 1e6);
    s.checkout({ order: 'B-77', chainId: 1, spender, token: USDC });
    const types = { PermitSingle: [{ name: 'details', type: 'PermitDetails' }, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint256' }],
      PermitDetails: [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint160' }, { name: 'expiration', type: 'uint48' }, { name: 'nonce', type: 'uint48' }] };
    const domain = { name: 'Permit2', chainId: 1, verifyingContract: PERMIT2 };
    const value = { details: { token: USDC, amount: MAX160, expiration: 1760000000, nonce: 0 }, spender: sp, sigDeadline: 1757500000 };
    const sig = await wallet.signTypedData(domain, types, value);
    s.rpc(NODE, 8545, '10.1.0.3:8545', 'eth_signTypedData_v4', [wallet.address, JSON.stringify(ethers.TypedDataEncoder.getPayload(domain, types, value))], sig);
    if (sp !== spender) {
      s.expect('unrequested-recipient', 'evm', 'spender', sp, spender);
      s.expect('unlimited-approval', 'evm', 'spender', sp);
    }
    s.finish();
  }

  // 3. ERC-4337 v0.7 user operation: SimpleAccount executeBatch with USDC transfers
  for (const [name, seed, to] of [['wallet-userop-clean', 31, payee], ['wallet-userop-hijack', 32, ATTACKER]]) {
    const s = new Session(name, seed, T0 + 1800e6 + seed * 1e6);
    s.checkout({ order: 'C-9', chainId: 1, payTo: payee, token: USDC });
    const account = seedAddr('ww smart account');
    const callData = ACCOUNT.encodeFunctionData('executeBatch', [[USDC], [0n], [ERC20.encodeFunctionData('transfer', [to, 5000000n])]]);
    const op = { sender: account, nonce: '0x0', factory: null, factoryData: null, callData, callGasLimit: '0x13880', verificationGasLimit: '0x186a0', preVerificationGas: '0xc350',
      maxFeePerGas: '0x6fc23ac00', maxPriorityFeePerGas: '0x59682f00', paymaster: null, paymasterVerificationGasLimit: null, paymasterPostOpGasLimit: null, paymasterData: null,
      signature: ethers.hexlify(ethers.getBytes(ethers.id('ww op sig')).slice(0, 32)) + 'ff'.repeat(33) };
    s.rpc(NODE, 8545, '10.1.0.3:8545', 'eth_sendUserOperation', [op, ENTRYPOINT07], ethers.id(`userop ${name}`));
    if (to !== payee) {
      s.expect('known-attacker', 'evm', 'recipient', ATTACKER);
      s.expect('unrequested-recipient', 'evm', 'recipient', ATTACKER, payee);
    }
    s.finish();
  }

  // 4. EIP-7702: a type-4 transaction delegating the EOA, then paying the served payee
  for (const [name, seed, dl] of [['wallet-7702-clean', 41, delegate], ['wallet-7702-hijack', 42, STRANGER_DELEGATE]]) {
    const s = new Session(name, seed, T0 + 2400e6 + seed * 1e6);
    s.checkout({ order: 'D-3', chainId: 1, upgradeTo: delegate, payTo: payee, token: USDC });
    const auth = wallet.authorizeSync({ address: dl, nonce: 8n, chainId: CHAIN_ID });
    const raw = await wallet.signTransaction({ type: 4, chainId: CHAIN_ID, nonce: 7, to: USDC, value: 0n, data: ERC20.encodeFunctionData('transfer', [payee, 1000000n]), authorizationList: [auth], ...fee });
    s.rpc(NODE, 8545, '10.1.0.3:8545', 'eth_sendRawTransaction', [raw], ethers.keccak256(raw));
    if (dl !== delegate) {
      s.expect('unrequested-recipient', 'evm', 'delegate', dl, delegate);
      s.expect('authority-change', 'evm', 'delegate', dl, delegate);
    }
    s.finish();
  }

  // 5. Solana: SPL transferChecked. Clean: to the ATA of the served owner (not created here:
  // walletwatch matches ATA(served owner, mint)). Hijacked: an ATA created in the same
  // transaction for a pool address, so the transaction names the substituted owner.
  const payer = seedKp('ww sol payer');
  const mint = new PublicKey(ethers.getBytes(ethers.id('ww sol mint')));
  const solOwner = servedFor('ww sol owner', [SOL_POOL], [mint.toBase58()], false, (t) => seedKp(t).publicKey.toBase58());
  for (const [name, seed, owner] of [['wallet-sol-spl-clean', 51, solOwner], ['wallet-sol-spl-hijack', 52, SOL_POOL]]) {
    const s = new Session(name, seed, T0 + 3000e6 + seed * 1e6);
    s.checkout({ order: 'E-5', chain: 'solana', payTo: solOwner, mint: mint.toBase58() });
    const dest = getAssociatedTokenAddressSync(mint, new PublicKey(owner), true, TOKEN_PROGRAM_ID);
    const src = getAssociatedTokenAddressSync(mint, payer.publicKey, false, TOKEN_PROGRAM_ID);
    const tx = new SolTx({ feePayer: payer.publicKey, recentBlockhash: new PublicKey(ethers.getBytes(ethers.id(`bh ${name}`))).toBase58() });
    if (owner !== solOwner) tx.add(createAssociatedTokenAccountInstruction(payer.publicKey, dest, new PublicKey(owner), mint));
    tx.add(createTransferCheckedInstruction(src, mint, dest, payer.publicKey, 25000000n, 6));
    tx.sign(payer);
    const wire = tx.serialize();
    s.rpc(SOLRPC, 8899, '10.1.0.4:8899', 'sendTransaction', [wire.toString('base64'), { encoding: 'base64' }], ethers.encodeBase58(wire.subarray(1, 65)));
    if (owner !== solOwner) {
      s.expect('known-attacker', 'solana', 'recipient', SOL_POOL);
      s.expect('unrequested-recipient', 'solana', 'recipient', SOL_POOL, solOwner);
    }
    s.finish();
  }
  console.log(`served: payee ${payee} spender ${spender} delegate ${delegate} sol owner ${solOwner} mint ${mint.toBase58()}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
