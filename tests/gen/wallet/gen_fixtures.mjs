// gen_fixtures.mjs - differential fixtures for walletwatch's wallet-call decoding.
//
//   cd tests/gen/wallet && npm ci && node gen_fixtures.mjs | gzip -9n > fixtures.jsonl.gz
// (committed gzipped: 1.2 MB of JSON lines is 0.36 MB compressed; the test reads either form)
//
// Every line is one case: {"id", "body": <a JSON-RPC request (object) as walletwatch sees it>,
// "calls": [<expected wallet call>...]} built with the real libraries (ethers v6,
// @solana/web3.js, @solana/spl-token) from a seeded PRNG, so the output is deterministic.
// The truth is what the libraries say (sender/hash recovered by ethers from the signed bytes,
// signatures by web3.js) plus what the generator itself encoded (who the payee is).
// Expected-call fields (absent = not checked):
//   from, to, value, chain (-1 = no chain id), hash, sig (-1/0/1), kind, amount, token,
//   parties: [[role, address, unlimited(0/1)(, tokenAccount(0/1), mint)]] compared as a multiset
//   alt: Solana parties loaded through a lookup table (cannot be named: expect an
//        unresolved-account anomaly instead)
// Families: evm-tx0..4 (signed with ethers; legacy with and without EIP-155), evm-altered (r
// changed in transit: the sender is whatever ethers recovers from those bytes), evm-sendtx,
// typed, userop06/07, sol-legacy, sol-v0 (with and without lookup tables; some unsigned, some
// with a corrupted signature).
// tests/test_differential.c checks them without node.
import { ethers, Interface, AbiCoder, Wallet, Transaction, TypedDataEncoder, getAddress, MaxUint256, hexlify, concat, zeroPadValue, toBeHex, solidityPacked } from 'ethers';
import { Keypair, PublicKey, SystemProgram, Transaction as SolTx, TransactionMessage, VersionedTransaction, AddressLookupTableAccount } from '@solana/web3.js';
import { TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, createTransferInstruction, createTransferCheckedInstruction, createApproveInstruction, createApproveCheckedInstruction, createSetAuthorityInstruction, createCloseAccountInstruction, createAssociatedTokenAccountInstruction, createAssociatedTokenAccountIdempotentInstruction, getAssociatedTokenAddressSync, AuthorityType } from '@solana/spl-token';

// base58 (Bitcoin alphabet), as Solana writes keys and signatures
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const bs58 = { encode(b) {
  let x = 0n; for (const c of b) x = x * 256n + BigInt(c);
  let s = ''; while (x > 0n) { s = B58[Number(x % 58n)] + s; x /= 58n; }
  for (const c of b) { if (c !== 0) break; s = '1' + s; }
  return s;
} };

// ---- deterministic PRNG (mulberry32) ----
let seed = 0x5eed1234;
function rnd32() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0);
}
const rint = (n) => rnd32() % n;
const pick = (a) => a[rint(a.length)];
const chance = (p) => rnd32() / 4294967296 < p;
const rbytes = (n) => Uint8Array.from({ length: n }, () => rint(256));
const raddr = () => getAddress(hexlify(rbytes(20)));
const ruint = (bits) => BigInt(hexlify(rbytes(bits / 8)));
const ramount = () => pick([1n, 1000000n, 10n ** 18n, ruint(64), ruint(128), ruint(256)]);
const lc = (a) => a.toLowerCase();
const MAX160 = (1n << 160n) - 1n;
const coder = AbiCoder.defaultAbiCoder();

const out = [];
let nid = 0;
function emit(fam, body, calls, extra) {
  out.push(JSON.stringify({ id: `${fam}-${nid++}`, body, calls, ...(extra || {}) }));
}
// [role, address, unlimited, revocation] (a revocation: allowance set to 0 / withdrawn)
const P = (role, addr, unl, rev) => [role, lc(addr), unl ? 1 : 0, rev ? 1 : 0];

// ---- EVM calldata shapes: each returns {data, parties (beyond the TO of the target), kind, amount, token} ----
const I = {
  npm: new Interface(['function permit(address spender,uint256 tokenId,uint256 deadline,uint8 v,bytes32 r,bytes32 s)']),
  erc20: new Interface(['function transfer(address,uint256)', 'function approve(address,uint256)', 'function transferFrom(address,address,uint256)', 'function increaseAllowance(address,uint256)']),
  p2612: new Interface(['function permit(address owner,address spender,uint256 value,uint256 deadline,uint8 v,bytes32 r,bytes32 s)']),
  dai: new Interface(['function permit(address holder,address spender,uint256 nonce,uint256 expiry,bool allowed,uint8 v,bytes32 r,bytes32 s)']),
  nft: new Interface(['function safeTransferFrom(address,address,uint256)', 'function safeTransferFrom(address,address,uint256,bytes)', 'function setApprovalForAll(address,bool)']),
  e1155: new Interface(['function safeTransferFrom(address,address,uint256,uint256,bytes)', 'function safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)']),
  permit2: new Interface(['function approve(address token,address spender,uint160 amount,uint48 expiration)', 'function transferFrom(address from,address to,uint160 amount,address token)']),
  multi: new Interface(['function multicall(bytes[])', 'function multicall(uint256,bytes[])', 'function aggregate((address,bytes)[])', 'function aggregate3((address,bool,bytes)[])']),
  ur: new Interface(['function execute(bytes,bytes[],uint256)', 'function execute(bytes,bytes[])']),
  acct: new Interface(['function execute(address,uint256,bytes)', 'function executeBatch(address[],bytes[])', 'function executeBatch(address[],uint256[],bytes[])', 'function executeBatch((address,uint256,bytes)[])', 'function executeUserOp(address,uint256,bytes,uint8)', 'function execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)', 'function multiSend(bytes)']),
  kernel2: new Interface(['function execute(address,uint256,bytes,uint8)']),
  kernel3: new Interface(['function execute(bytes32,bytes)']),
};
const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';

function simpleShape(target) {
  const k = rint(15);
  const a = raddr(), b = raddr();
  let amt = ramount();
  switch (k) {
    case 0: return { data: I.erc20.encodeFunctionData('transfer', [a, amt]), parties: [P('recipient', a)], kind: 'erc20-transfer', amount: amt, token: target };
    case 1: if (chance(0.4)) amt = MaxUint256; else if (chance(0.25)) amt = 0n;
      return { data: I.erc20.encodeFunctionData('approve', [a, amt]), parties: [P('spender', a, amt === MaxUint256, amt === 0n)], kind: 'erc20-approve', amount: amt, token: target };
    case 2: return { data: I.erc20.encodeFunctionData('transferFrom', [b, a, amt]), parties: [P('recipient', a)], kind: 'erc20-transferFrom', amount: amt, token: target };
    case 3: if (chance(0.4)) amt = MaxUint256;
      return { data: I.erc20.encodeFunctionData('increaseAllowance', [a, amt]), parties: [P('spender', a, amt === MaxUint256)], kind: 'erc20-increaseAllowance', amount: amt, token: target };
    case 4: if (chance(0.4)) amt = MaxUint256; else if (chance(0.25)) amt = 0n;
      return { data: I.p2612.encodeFunctionData('permit', [b, a, amt, ruint(32), 27 + rint(2), hexlify(rbytes(32)), hexlify(rbytes(32))]), parties: [P('spender', a, amt === MaxUint256, amt === 0n)], kind: 'erc20-permit', amount: amt };
    case 5: { const al = chance(0.7);
      return { data: I.dai.encodeFunctionData('permit', [b, a, ruint(16), ruint(32), al, 27, hexlify(rbytes(32)), hexlify(rbytes(32))]), parties: [P('spender', a, al, !al)], kind: 'erc20-permit' }; }
    case 6: return { data: I.nft.encodeFunctionData('safeTransferFrom(address,address,uint256)', [b, a, ruint(64)]), parties: [P('recipient', a)], kind: 'erc721-transfer' };
    case 7: return { data: I.nft.encodeFunctionData('safeTransferFrom(address,address,uint256,bytes)', [b, a, ruint(64), hexlify(rbytes(rint(40)))]), parties: [P('recipient', a)], kind: 'erc721-transfer' };
    case 8: { const ok = chance(0.8);
      return { data: I.nft.encodeFunctionData('setApprovalForAll', [a, ok]), parties: [P('operator', a, ok, !ok)], kind: 'setApprovalForAll' }; }
    case 9: return { data: I.e1155.encodeFunctionData('safeTransferFrom', [b, a, ruint(32), amt, hexlify(rbytes(rint(8)))]), parties: [P('recipient', a)], kind: 'erc1155-transfer', amount: amt };
    case 10: return { data: I.e1155.encodeFunctionData('safeBatchTransferFrom', [b, a, [1n, 2n], [3n, 4n], '0x']), parties: [P('recipient', a)], kind: 'erc1155-transfer' };
    case 11: { let x = chance(0.5) ? MAX160 : chance(0.3) ? 0n : ruint(128); const tok = raddr();
      return { data: I.permit2.encodeFunctionData('approve', [tok, a, x, ruint(32) >> 1n]), parties: [P('spender', a, x === MAX160, x === 0n)], kind: 'permit2-approve', amount: x, token: tok }; }
    case 12: { const tok = raddr(), x = ruint(128);
      return { data: I.permit2.encodeFunctionData('transferFrom', [b, a, x, tok]), parties: [P('recipient', a)], kind: 'permit2-transferFrom', amount: x, token: tok }; }
    default: { const id = ruint(32); // ERC-721 transferFrom(from, to, tokenId): same selector as ERC-20's
      return { data: I.erc20.encodeFunctionData('transferFrom', [b, a, id]), parties: [P('recipient', a)], kind: 'erc20-transferFrom', amount: id, token: target }; }
  }
}

// Universal Router commands (Commands.sol); MSG_SENDER / ADDRESS_THIS are not parties.
const UR_MSG_SENDER = '0x0000000000000000000000000000000000000001';
const UR_ADDRESS_THIS = '0x0000000000000000000000000000000000000002';
function urRecipient() { return chance(0.3) ? pick([UR_MSG_SENDER, UR_ADDRESS_THIS]) : raddr(); }
function urShape() {
  const cmds = [], inputs = [], parties = [];
  const n = 1 + rint(3);
  const add = (r, a, u, rv) => { if (a !== UR_MSG_SENDER && a !== UR_ADDRESS_THIS) parties.push(P(r, a, u, rv)); };
  for (let i = 0; i < n; i++) {
    const c = pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
                    0x10, 0x11, 0x07, 0x15, 0x3f]);
    let inp;
    const r = urRecipient();
    switch (c) {
      case 0x00: case 0x01: {
        const path = solidityPacked(['address', 'uint24', 'address'], [raddr(), 3000, raddr()]);
        inp = coder.encode(['address', 'uint256', 'uint256', 'bytes', 'bool'], [r, ruint(64), ruint(64), path, chance(0.5)]); add('recipient', r); break; }
      case 0x08: case 0x09:
        inp = coder.encode(['address', 'uint256', 'uint256', 'address[]', 'bool'], [r, ruint(64), ruint(64), [raddr(), raddr()], chance(0.5)]); add('recipient', r); break;
      case 0x02: { const tok = raddr();
        inp = coder.encode(['address', 'address', 'uint160'], [tok, r, ruint(128)]); add('recipient', r); break; }
      case 0x04: case 0x05: case 0x06:
        inp = coder.encode(['address', 'address', 'uint256'], [raddr(), r, ruint(64)]); add('recipient', r); break;
      case 0x0a: { const sp = raddr(); const x = chance(0.5) ? MAX160 : chance(0.2) ? 0n : ruint(128);
        inp = coder.encode(['tuple(tuple(address,uint160,uint48,uint48),address,uint256)', 'bytes'], [[[raddr(), x, 1n << 40n, 0n], sp, ruint(32)], hexlify(rbytes(65))]);
        add('spender', sp, x === MAX160, x === 0n); break; }
      case 0x0b: case 0x0c:
        inp = coder.encode(['address', 'uint256'], [r, ruint(64)]); add('recipient', r); break;
      case 0x03: { /* PERMIT2_PERMIT_BATCH: a spender per token (universal-router-sdk PERMIT_BATCH_STRUCT) */
        const sp = raddr(); const det = [];
        for (let k = 0, m = 1 + rint(3); k < m; k++) {
          const x = chance(0.5) ? MAX160 : chance(0.2) ? 0n : ruint(128);
          det.push([raddr(), x, 1n << 40n, BigInt(k)]); add('spender', sp, x === MAX160, x === 0n);
        }
        inp = coder.encode(['tuple(tuple(address,uint160,uint48,uint48)[],address,uint256)', 'bytes'], [[det, sp, ruint(32)], hexlify(rbytes(65))]);
        break; }
      case 0x0d: { /* PERMIT2_TRANSFER_FROM_BATCH: (from, to, amount, token)[] */
        const det = [];
        for (let k = 0, m = 1 + rint(3); k < m; k++) { const to = urRecipient(); det.push([raddr(), to, ruint(128), raddr()]); add('recipient', to); }
        inp = coder.encode(['tuple(address,address,uint160,address)[]'], [det]); break; }
      case 0x0e: /* BALANCE_CHECK_ERC20: no payee */
        inp = coder.encode(['address', 'address', 'uint256'], [raddr(), raddr(), ruint(64)]); break;
      case 0x10: { /* V4_SWAP: (bytes actions, bytes[] params); v4-periphery Actions */
        const acts = [], params = [];
        acts.push(0x0c); params.push(coder.encode(['address', 'uint256'], [raddr(), ruint(64)])); /* SETTLE_ALL */
        const t1 = urRecipient(); acts.push(0x0e); params.push(coder.encode(['address', 'address', 'uint256'], [raddr(), t1, ruint(64)])); add('recipient', t1); /* TAKE */
        if (chance(0.5)) { const t2 = urRecipient(); acts.push(0x11); params.push(coder.encode(['address', 'address', 'address'], [raddr(), raddr(), t2])); add('recipient', t2); } /* TAKE_PAIR */
        if (chance(0.5)) { acts.push(0x0f); params.push(coder.encode(['address', 'uint256'], [raddr(), ruint(64)])); } /* TAKE_ALL: to the caller */
        inp = coder.encode(['bytes', 'bytes[]'], [hexlify(Uint8Array.from(acts)), params]); break; }
      case 0x11: { /* V3_POSITION_MANAGER_PERMIT: NonfungiblePositionManager.permit calldata */
        const sp = raddr();
        inp = I.npm.encodeFunctionData('permit', [sp, ruint(32), ruint(32), 27, hexlify(rbytes(32)), hexlify(rbytes(32))]);
        add('spender', sp); break; }
      default: /* a command type the router does not define: recorded (anomaly), never guessed */
        inp = hexlify(rbytes(32 * (1 + rint(3))));
    }
    cmds.push(c | (chance(0.15) ? 0x80 : 0));
    inputs.push(inp);
  }
  const commands = hexlify(Uint8Array.from(cmds));
  const data = chance(0.7) ? I.ur.encodeFunctionData('execute(bytes,bytes[],uint256)', [commands, inputs, ruint(32)])
    : I.ur.encodeFunctionData('execute(bytes,bytes[])', [commands, inputs]);
  return { data, parties, kind: 'universal-router' };
}

// A calldata shape for a call on target (parties exclude target's own TO party).
function calldataFor(target) {
  const k = rint(20);
  if (k < 15) return simpleShape(target);
  if (k < 17) return urShape();
  // batches: at most 3 inner calls so that every party fits (WW_WC_MAX_PARTIES)
  const n = 1 + rint(2);
  const m = rint(4);
  const inner = [], parties = [];
  for (let i = 0; i < n; i++) {
    const t = m >= 2 ? raddr() : target;
    const s = simpleShape(t);
    inner.push({ t, s });
    if (m >= 2) parties.push(P('to', t));
    parties.push(...s.parties);
  }
  let data;
  if (m === 0) data = I.multi.encodeFunctionData('multicall(bytes[])', [inner.map((x) => x.s.data)]);
  else if (m === 1) data = I.multi.encodeFunctionData('multicall(uint256,bytes[])', [ruint(32), inner.map((x) => x.s.data)]);
  else if (m === 2) data = I.multi.encodeFunctionData('aggregate', [inner.map((x) => [x.t, x.s.data])]);
  else data = I.multi.encodeFunctionData('aggregate3', [inner.map((x) => [x.t, chance(0.5), x.s.data])]);
  return { data, parties, kind: 'multicall' };
}

// ---- signed EVM transactions ----
const CHAINS = [1n, 10n, 56n, 137n, 8453n, 42161n, 11155111n];
const keys = Array.from({ length: 8 }, () => new Wallet(hexlify(rbytes(32))));

// An EIP-7702 self-call: to = the sender's own (delegated) account, executing inner calls
// through the account ABI (SimpleAccount/Coinbase execute, executeBatch forms, ERC-7579).
function selfCallShape() {
  let calls = [], parties = [];
  for (let k = 0, m = 1 + rint(3); k < m; k++) {
    const t = raddr();
    if (chance(0.3)) { calls.push({ t, v: ruint(56) + 1n, data: '0x' }); parties.push(P('recipient', t)); continue; }
    const sh = simpleShape(t);
    calls.push({ t, v: chance(0.2) ? ruint(40) + 1n : 0n, data: sh.data });
    parties.push(P('to', t), ...sh.parties);
  }
  if (parties.length > 11) { calls = calls.slice(0, 1); parties = calls[0].data === '0x' ? [P('recipient', calls[0].t)] : null; }
  if (parties === null) return selfCallShape();
  let data;
  const f = rint(4);
  if (f === 0 && calls.length === 1) data = I.acct.encodeFunctionData('execute(address,uint256,bytes)', [calls[0].t, calls[0].v, calls[0].data]);
  else if (f === 1) data = I.acct.encodeFunctionData('executeBatch(address[],uint256[],bytes[])', [calls.map((c) => c.t), calls.map((c) => c.v), calls.map((c) => c.data)]);
  else if (f === 2) { // ERC-7579 execute(mode, executionCalldata), batch mode 0x01
    const mode = '0x01' + '00'.repeat(31);
    data = I.kernel3.encodeFunctionData('execute', [mode, coder.encode(['tuple(address,uint256,bytes)[]'], [calls.map((c) => [c.t, c.v, c.data])])]);
  } else data = I.acct.encodeFunctionData('executeBatch((address,uint256,bytes)[])', [calls.map((c) => [c.t, c.v, c.data])]);
  return { data, parties, kind: 'self-call' };
}

function evmTx(i) {
  const w = pick(keys);
  const type = i % 6 === 5 ? 0 : i % 5; // 0..4, legacy twice as often (with and without EIP-155)
  let chainId = pick(CHAINS);
  if (type === 0 && chance(0.4)) chainId = 0n; // pre-EIP-155
  const self = type === 4 && chance(0.35);
  const native = !self && chance(0.25);
  const to = self ? w.address : raddr();
  const shape = native ? null : self ? selfCallShape() : calldataFor(to);
  const tx = { type, chainId, nonce: rint(1000), gasLimit: 21000n + ruint(16), to, value: native || chance(0.2) ? ruint(64) : 0n, data: shape ? shape.data : '0x' };
  if (type <= 1) tx.gasPrice = ruint(40);
  else { tx.maxPriorityFeePerGas = ruint(32); tx.maxFeePerGas = tx.maxPriorityFeePerGas + ruint(32); }
  if (type >= 1 && chance(0.08)) tx.accessList = [{ address: raddr(), storageKeys: [hexlify(rbytes(32))] }];
  if (type === 3) { tx.blobVersionedHashes = ['0x01' + hexlify(rbytes(31)).slice(2)]; tx.maxFeePerBlobGas = ruint(24); }
  const parties = native ? [P('to', to)] : [P('to', to), ...shape.parties];
  if (type === 4) {
    const nAuth = 1 + rint(2);
    tx.authorizationList = [];
    for (let k = 0; k < nAuth; k++) {
      const signer = chance(0.5) ? w : pick(keys);
      const delegate = raddr();
      const auth = signer.authorizeSync({ address: delegate, nonce: BigInt(rint(50)), chainId: chance(0.2) ? 0n : chainId });
      tx.authorizationList.push(auth);
      parties.push(P('delegate', delegate), P('authority', signer.address));
    }
  }
  const signed = Transaction.from({ ...tx });
  signed.signature = w.signingKey.sign(signed.unsignedHash);
  let raw = signed.serialized, altered = false;
  let back = Transaction.from(raw); // what ethers reads back from the bytes
  if (back.from !== w.address || back.hash !== signed.hash) throw new Error('ethers round trip');
  if (i % 16 === 3 && !self) { // (a self-call stays one: its sender is what makes it so)
    // a signature altered in transit (r's last byte): ethers recovers some other sender from
    // the same bytes; walletwatch must recover the same one (or both must reject them)
    const t = Transaction.from(raw);
    const sg = t.signature;
    const r = ethers.getBytes(sg.r);
    r[31] ^= 1 + rint(255);
    try {
      t.signature = ethers.Signature.from({ r: hexlify(r), s: sg.s, v: sg.v });
      const b2 = Transaction.from(t.serialized);
      if (b2.from !== w.address) { raw = t.serialized; back = b2; altered = true; }
    } catch (e) { /* r not a valid point: leave this case untampered */ }
  }
  const call = { from: lc(back.from), to: lc(back.to), value: back.value.toString(), chain: back.chainId === 0n && type === 0 ? -1 : Number(back.chainId), hash: back.hash, sig: 1, parties };
  if (native) call.kind = 'native-transfer';
  else {
    call.kind = shape.kind;
    if (shape.amount !== undefined) call.amount = shape.amount.toString();
    if (shape.token !== undefined) call.token = lc(shape.token);
  }
  emit(altered ? 'evm-altered' : `evm-tx${type}`, { jsonrpc: '2.0', id: i, method: 'eth_sendRawTransaction', params: [raw] }, [call]);
  // the same call as an eth_sendTransaction object now and then
  if (i % 10 === 0 && !altered) {
    const o = { from: w.address, to, value: toBeHex(tx.value), data: tx.data };
    if (chainId !== 0n) o.chainId = toBeHex(chainId);
    const c2 = { ...call, sig: -1 };
    delete c2.hash;
    if (chainId === 0n) c2.chain = -1;
    if (tx.value === 0n) delete c2.value;
    if (type === 4) c2.parties = parties.filter((p) => p[0] !== 'delegate' && p[0] !== 'authority');
    emit('evm-sendtx', { jsonrpc: '2.0', id: `s${i}`, method: 'eth_sendTransaction', params: [o] }, [c2]);
  }
}

// ---- EIP-712 typed data (eth_signTypedData_v4) ----
function typed(i) {
  const signer = pick(keys).address;
  const chainId = Number(pick(CHAINS));
  const k = i % 7;
  let domain, types, value, primaryType, parties, kind, extra = {};
  const sp = raddr();
  if (k === 0) { // ERC-2612
    const tok = raddr(); const v = chance(0.5) ? MaxUint256 : chance(0.2) ? 0n : ruint(96);
    domain = { name: 'Token', version: '1', chainId, verifyingContract: tok };
    types = { Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }] };
    value = { owner: signer, spender: sp, value: v, nonce: rint(9), deadline: ruint(32) };
    parties = [P('spender', sp, v === MaxUint256, v === 0n)]; kind = 'permit'; extra = { amount: v.toString(), token: lc(tok) };
  } else if (k === 1) { // DAI
    const tok = '0x6B175474E89094C44Da98b954EedeAC495271d0F'; const al = chance(0.7);
    domain = { name: 'Dai Stablecoin', version: '1', chainId, verifyingContract: tok };
    types = { Permit: [{ name: 'holder', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'expiry', type: 'uint256' }, { name: 'allowed', type: 'bool' }] };
    value = { holder: signer, spender: sp, nonce: rint(9), expiry: ruint(32), allowed: al };
    parties = [P('spender', sp, al, !al)]; kind = 'permit'; extra = { token: lc(tok) };
  } else if (k === 2 || k === 3) { // Permit2 allowance
    domain = { name: 'Permit2', chainId, verifyingContract: PERMIT2 };
    const Det = [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint160' }, { name: 'expiration', type: 'uint48' }, { name: 'nonce', type: 'uint48' }];
    const d = () => { const x = chance(0.5) ? MAX160 : chance(0.2) ? 0n : ruint(128); return { token: raddr(), amount: x, expiration: ruint(32), nonce: rint(9) }; };
    if (k === 2) {
      types = { PermitSingle: [{ name: 'details', type: 'PermitDetails' }, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint256' }], PermitDetails: Det };
      value = { details: d(), spender: sp, sigDeadline: ruint(32) };
      parties = [P('spender', sp, value.details.amount === MAX160, value.details.amount === 0n)]; kind = 'permit2-single';
      extra = { amount: value.details.amount.toString(), token: lc(value.details.token) };
    } else {
      const ds = [d(), d()].slice(0, 1 + rint(2));
      types = { PermitBatch: [{ name: 'details', type: 'PermitDetails[]' }, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint256' }], PermitDetails: Det };
      value = { details: ds, spender: sp, sigDeadline: ruint(32) };
      parties = ds.map((x) => P('spender', sp, x.amount === MAX160, x.amount === 0n)); kind = 'permit2-batch'; /* one grant per token */
      extra = { token: lc(ds[0].token), amount: ds[0].amount.toString() };
    }
  } else if (k === 4 || k === 5) { // Permit2 signature transfer
    let batchParties = null;
    domain = { name: 'Permit2', chainId, verifyingContract: PERMIT2 };
    const TP = [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }];
    const permitted = { token: raddr(), amount: ruint(96) };
    if (k === 4 && chance(0.3)) {
      const list = [permitted, { token: raddr(), amount: ruint(96) }];
      types = { PermitBatchTransferFrom: [{ name: 'permitted', type: 'TokenPermissions[]' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }], TokenPermissions: TP };
      value = { permitted: list, spender: sp, nonce: ruint(32), deadline: ruint(32) };
      batchParties = list.map(() => P('spender', sp));
    } else if (k === 4) {
      types = { PermitTransferFrom: [{ name: 'permitted', type: 'TokenPermissions' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }], TokenPermissions: TP };
      value = { permitted, spender: sp, nonce: ruint(32), deadline: ruint(32) };
    } else {
      types = { PermitWitnessTransferFrom: [{ name: 'permitted', type: 'TokenPermissions' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }, { name: 'witness', type: 'Order' }], TokenPermissions: TP, Order: [{ name: 'recipient', type: 'address' }, { name: 'minOut', type: 'uint256' }] };
      value = { permitted, spender: sp, nonce: ruint(32), deadline: ruint(32), witness: { recipient: raddr(), minOut: ruint(64) } };
    }
    parties = batchParties ?? [P('spender', sp)]; kind = 'permit2-transfer';
    extra = { token: lc(permitted.token), amount: permitted.amount.toString() };
  } else { // Seaport 1.5 OrderComponents
    const seaport = '0x00000000000000ADc04C56Bf30aC9d3c0aAF14dC';
    domain = { name: 'Seaport', version: '1.5', chainId, verifyingContract: seaport };
    types = {
      OrderComponents: [{ name: 'offerer', type: 'address' }, { name: 'zone', type: 'address' }, { name: 'offer', type: 'OfferItem[]' }, { name: 'consideration', type: 'ConsiderationItem[]' }, { name: 'orderType', type: 'uint8' }, { name: 'startTime', type: 'uint256' }, { name: 'endTime', type: 'uint256' }, { name: 'zoneHash', type: 'bytes32' }, { name: 'salt', type: 'uint256' }, { name: 'conduitKey', type: 'bytes32' }, { name: 'counter', type: 'uint256' }],
      OfferItem: [{ name: 'itemType', type: 'uint8' }, { name: 'token', type: 'address' }, { name: 'identifierOrCriteria', type: 'uint256' }, { name: 'startAmount', type: 'uint256' }, { name: 'endAmount', type: 'uint256' }],
      ConsiderationItem: [{ name: 'itemType', type: 'uint8' }, { name: 'token', type: 'address' }, { name: 'identifierOrCriteria', type: 'uint256' }, { name: 'startAmount', type: 'uint256' }, { name: 'endAmount', type: 'uint256' }, { name: 'recipient', type: 'address' }],
    };
    const recips = [signer, raddr(), raddr()].slice(0, 1 + rint(3));
    value = { offerer: signer, zone: ethers.ZeroAddress, offer: [{ itemType: 2, token: raddr(), identifierOrCriteria: ruint(32), startAmount: 1, endAmount: 1 }],
      consideration: recips.map((r) => ({ itemType: 0, token: ethers.ZeroAddress, identifierOrCriteria: 0, startAmount: ruint(64), endAmount: ruint(64), recipient: r })),
      orderType: 0, startTime: 0, endTime: ruint(32), zoneHash: ethers.ZeroHash, salt: ruint(64), conduitKey: ethers.ZeroHash, counter: 0 };
    parties = recips.filter((r) => r !== signer).map((r) => P('recipient', r)); kind = 'seaport-order';
  }
  primaryType = TypedDataEncoder.getPrimaryType(types);
  const payload = TypedDataEncoder.getPayload(domain, types, value); // what ethers sends to a wallet
  if (payload.primaryType !== primaryType) throw new Error('primary type');
  const call = { from: lc(signer), to: lc(domain.verifyingContract), chain: chainId, sig: -1, kind, parties: [P('to', domain.verifyingContract), ...parties], ...extra };
  const params = chance(0.8) ? [signer, JSON.stringify(payload)] : [signer, payload];
  emit('typed', { jsonrpc: '2.0', id: 1000 + i, method: 'eth_signTypedData_v4', params }, [call]);
}

// ---- ERC-4337 user operations ----
const EP06 = '0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789';
const EP07 = '0x0000000071727De22E5E9d8BAf0edAc6f37da032';
const MULTISEND = '0x38869bf66a61cF6bDB996A6aE40D5853Fd43B526';

function innerCall() {
  const t = raddr();
  if (chance(0.25)) { const v = ruint(56) + 1n; return { t, v, data: '0x', truth: { to: lc(t), value: v.toString(), kind: 'native-transfer', parties: [P('to', t)] } }; }
  const s = chance(0.15) ? urShape() : simpleShape(t);
  const v = chance(0.2) ? ruint(40) + 1n : 0n;
  const truth = { to: lc(t), kind: s.kind, parties: [P('to', t), ...s.parties] };
  if (v !== 0n) truth.value = v.toString();
  if (s.amount !== undefined) truth.amount = s.amount.toString();
  if (s.token !== undefined) truth.token = lc(s.token);
  return { t, v, data: s.data, truth };
}

function userop(i) {
  const sender = raddr();
  const v07 = i % 2 === 1;
  const acct = i % 9;
  let calls, callData;
  const many = () => Array.from({ length: 1 + rint(2) }, innerCall);
  switch (acct) {
    case 0: { calls = [innerCall()]; callData = I.acct.encodeFunctionData('execute', [calls[0].t, calls[0].v, calls[0].data]); break; } // SimpleAccount / Coinbase
    case 1: { calls = many().map((c) => { if (c.v !== 0n) { c.v = 0n; delete c.truth.value; } return c; });
      if (calls.some((c) => c.data === '0x')) calls = calls.filter((c) => c.data !== '0x');
      if (calls.length === 0) { calls = [innerCall()]; calls[0].v = 0n; delete calls[0].truth.value; if (calls[0].data === '0x') { calls[0].data = I.erc20.encodeFunctionData('transfer', [sender, 5n]); calls[0].truth = { to: lc(calls[0].t), kind: 'erc20-transfer', amount: '5', token: lc(calls[0].t), parties: [P('to', calls[0].t), P('recipient', sender)] }; } }
      callData = I.acct.encodeFunctionData('executeBatch(address[],bytes[])', [calls.map((c) => c.t), calls.map((c) => c.data)]); break; }
    case 2: { calls = many(); callData = I.acct.encodeFunctionData('executeBatch(address[],uint256[],bytes[])', [calls.map((c) => c.t), calls.map((c) => c.v), calls.map((c) => c.data)]); break; }
    case 3: { calls = many(); callData = I.acct.encodeFunctionData('executeBatch((address,uint256,bytes)[])', [calls.map((c) => [c.t, c.v, c.data])]); break; } // Coinbase Smart Wallet
    case 4: { calls = [innerCall()]; callData = I.kernel2.encodeFunctionData('execute', [calls[0].t, calls[0].v, calls[0].data, 0]); break; } // Kernel v2
    case 5: { calls = [innerCall()]; // Kernel v3 / ERC-7579 single
      const exec = solidityPacked(['address', 'uint256', 'bytes'], [calls[0].t, calls[0].v, calls[0].data]);
      callData = I.kernel3.encodeFunctionData('execute', [ethers.ZeroHash, exec]); break; }
    case 6: { calls = many(); // Kernel v3 batch
      const exec = coder.encode(['tuple(address,uint256,bytes)[]'], [calls.map((c) => [c.t, c.v, c.data])]);
      callData = I.kernel3.encodeFunctionData('execute', ['0x01' + '00'.repeat(31), exec]); break; }
    case 7: { calls = [innerCall()]; // Safe 4337 module
      callData = chance(0.5) ? I.acct.encodeFunctionData('executeUserOp', [calls[0].t, calls[0].v, calls[0].data, 0])
        : I.acct.encodeFunctionData('execTransaction', [calls[0].t, calls[0].v, calls[0].data, 0, 0n, 0n, 0n, ethers.ZeroAddress, ethers.ZeroAddress, hexlify(rbytes(65))]); break; }
    default: { calls = many(); // Safe + MultiSend (delegatecall)
      const packed = concat(calls.map((c) => solidityPacked(['uint8', 'address', 'uint256', 'uint256', 'bytes'], [0, c.t, c.v, ethers.dataLength(c.data), c.data])));
      callData = I.acct.encodeFunctionData('executeUserOp', [MULTISEND, 0n, I.acct.encodeFunctionData('multiSend', [packed]), 1]); }
  }
  const g = () => toBeHex(ruint(24) + 1n);
  let op;
  if (!v07) op = { sender, nonce: toBeHex(rint(100)), initCode: '0x', callData, callGasLimit: g(), verificationGasLimit: g(), preVerificationGas: g(), maxFeePerGas: g(), maxPriorityFeePerGas: g(), paymasterAndData: '0x', signature: hexlify(rbytes(65)) };
  else if (chance(0.5)) op = { sender, nonce: toBeHex(rint(100)), factory: null, factoryData: null, callData, callGasLimit: g(), verificationGasLimit: g(), preVerificationGas: g(), maxFeePerGas: g(), maxPriorityFeePerGas: g(), paymaster: null, paymasterVerificationGasLimit: null, paymasterPostOpGasLimit: null, paymasterData: null, signature: hexlify(rbytes(65)) };
  else op = { sender, nonce: toBeHex(rint(100)), initCode: '0x', callData, accountGasLimits: zeroPadValue(g(), 16) + zeroPadValue(g(), 16).slice(2), preVerificationGas: g(), gasFees: zeroPadValue(g(), 16) + zeroPadValue(g(), 16).slice(2), paymasterAndData: '0x', signature: hexlify(rbytes(65)) }; // PackedUserOperation
  const truth = calls.map((c) => ({ from: lc(sender), sig: -1, ...c.truth }));
  emit(v07 ? 'userop07' : 'userop06', { jsonrpc: '2.0', id: 2000 + i, method: 'eth_sendUserOperation', params: [op, v07 ? EP07 : EP06] }, truth);
}

// ---- Solana ----
const solKeys = Array.from({ length: 6 }, () => Keypair.fromSeed(rbytes(32)));
const rpk = () => new PublicKey(rbytes(32));
const b58 = (pk) => pk.toBase58();

function solana(i) {
  const payer = pick(solKeys);
  const owner2 = chance(0.2) ? pick(solKeys.filter((k) => k !== payer)) : null;
  const owner = owner2 || payer;
  let ownerUsed = false;
  const prog = chance(0.3) ? TOKEN_2022_PROGRAM_ID : TOKEN_PROGRAM_ID;
  const ixs = [], parties = [], altCandidates = [];
  let kind = '', value, amount, token;
  const setKind = (k) => { if (kind === '' || kind === 'program-call' || kind === 'ata-create') kind = k; };
  const created = new Map(); // ata -> {owner, mint}
  let fundsFrom = null; // whose funds the first moving/granting instruction spends (not a sponsoring fee payer)
  const spends = (pk) => { if (fundsFrom === null) fundsFrom = pk; };
  const n = chance(0.3) ? 2 : 1;
  for (let j = 0; j < n; j++) {
    const k = rint(11);
    if (k === 0) {
      const to = rpk(); const l = ruint(40);
      ixs.push(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: l })); spends(payer.publicKey);
      setKind('sol-transfer'); if (value === undefined) value = l.toString(); parties.push(['recipient', b58(to), 0]); altCandidates.push(to);
    } else if (k === 1) {
      const to = rpk(); const l = ruint(40);
      ixs.push(SystemProgram.transfer({ fromPubkey: rpk(), basePubkey: payer.publicKey, toPubkey: to, lamports: l, seed: 'ww' + rint(100), programId: SystemProgram.programId })); spends(payer.publicKey);
      setKind('sol-transferWithSeed'); if (value === undefined) value = l.toString(); parties.push(['recipient', b58(to), 0]);
    } else if (k === 2) {
      const prg = rpk();
      ixs.push(SystemProgram.assign({ accountPubkey: payer.publicKey, programId: prg }));
      setKind('sol-assign'); parties.push(['authority', b58(prg), 0]);
    } else if (k === 3 || k === 4) { // transfer / transferChecked to a plain token account
      const dest = rpk(), mint = rpk(), a = ruint(64);
      const src = getAssociatedTokenAddressSync(mint, owner.publicKey, false, prog);
      spends(owner.publicKey);
      if (k === 3) {
        ixs.push(createTransferInstruction(src, dest, (ownerUsed = true, owner.publicKey), a, [], prog));
        setKind('spl-transfer'); parties.push(['recipient', b58(dest), 0, 1, '']);
      } else {
        ixs.push(createTransferCheckedInstruction(src, mint, dest, (ownerUsed = true, owner.publicKey), a, 6, [], prog));
        setKind('spl-transferChecked'); parties.push(['recipient', b58(dest), 0, 1, b58(mint)]);
        if (token === undefined) token = b58(mint);
      }
      if (amount === undefined) amount = a.toString();
      altCandidates.push(dest);
    } else if (k === 5) { // ATA create + transfer to it: the recipient is the wallet
      const w = rpk(), mint = rpk(), a = ruint(64);
      const ata = getAssociatedTokenAddressSync(mint, w, true, prog);
      const src = getAssociatedTokenAddressSync(mint, owner.publicKey, false, prog);
      ixs.push(chance(0.5) ? createAssociatedTokenAccountInstruction(payer.publicKey, ata, w, mint, prog) : createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, ata, w, mint, prog));
      setKind('ata-create'); spends(owner.publicKey);
      if (chance(0.5)) { ixs.push(createTransferCheckedInstruction(src, mint, ata, (ownerUsed = true, owner.publicKey), a, 9, [], prog)); setKind('spl-transferChecked'); }
      else { ixs.push(createTransferInstruction(src, ata, (ownerUsed = true, owner.publicKey), a, [], prog)); setKind('spl-transfer'); }
      if (amount === undefined) amount = a.toString();
      if (token === undefined) token = b58(mint);
      parties.push(['recipient', b58(w), 0]);
      created.set(b58(ata), w);
    } else if (k === 6 || k === 7) { // approve / approveChecked
      const del = rpk(), mint = rpk(); const a = chance(0.4) ? (1n << 64n) - 1n : ruint(48);
      const acct = getAssociatedTokenAddressSync(mint, owner.publicKey, false, prog);
      spends(owner.publicKey);
      if (k === 6) { ixs.push(createApproveInstruction(acct, del, (ownerUsed = true, owner.publicKey), a, [], prog)); setKind('spl-approve'); }
      else { ixs.push(createApproveCheckedInstruction(acct, mint, del, (ownerUsed = true, owner.publicKey), a, 6, [], prog)); setKind('spl-approveChecked'); if (token === undefined) token = b58(mint); }
      if (amount === undefined) amount = a.toString();
      parties.push(['spender', b58(del), a === (1n << 64n) - 1n ? 1 : 0]); altCandidates.push(del);
    } else if (k === 8) { // setAuthority
      const acct = rpk(); const na = chance(0.85) ? rpk() : null;
      ixs.push(createSetAuthorityInstruction(acct, (ownerUsed = true, owner.publicKey), pick([AuthorityType.AccountOwner, AuthorityType.CloseAccount, AuthorityType.MintTokens]), na, [], prog));
      setKind('spl-setAuthority'); if (na) parties.push(['authority', b58(na), 0]);
    } else if (k === 9) { // closeAccount
      const acct = rpk(), dest = rpk();
      ixs.push(createCloseAccountInstruction(acct, dest, (ownerUsed = true, owner.publicKey), [], prog)); spends(owner.publicKey);
      setKind('spl-closeAccount'); parties.push(['recipient', b58(dest), 0]);
    } else { // a program walletwatch does not decode (memo): recorded, not a party
      const memo = new PublicKey('MemoSq4gqABAXib96qFbncnZPZD4P6tQyB6hAtvZb9r');
      ixs.push({ programId: memo, keys: [], data: Buffer.from('ww' + i) });
      setKind('program-call');
    }
  }
  if (kind === 'ata-create' || kind === '') kind = kind || 'program-call';
  const blockhash = b58(new PublicKey(rbytes(32)));
  const signers = owner2 && ownerUsed ? [payer, owner2] : [payer];
  const mode = rint(3); // 0 legacy, 1 v0, 2 v0 with a lookup table
  let bytes, alt = [];
  if (mode === 0) {
    const tx = new SolTx({ feePayer: payer.publicKey, recentBlockhash: blockhash });
    tx.add(...ixs);
    if (!chance(0.08)) tx.sign(...signers);
    bytes = tx.serialize({ requireAllSignatures: false, verifySignatures: false });
  } else {
    const msg = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: blockhash, instructions: ixs });
    let tables = [];
    if (mode === 2 && altCandidates.length > 0) {
      const inTable = altCandidates.filter(() => chance(0.7));
      tables = [new AddressLookupTableAccount({ key: rpk(), state: { deactivationSlot: 18446744073709551615n, lastExtendedSlot: 0, lastExtendedSlotStartIndex: 0, authority: undefined, addresses: [rpk(), ...inTable] } })];
      alt = inTable.map(b58);
    }
    const vt = new VersionedTransaction(msg.compileToV0Message(tables));
    const stat = vt.message.staticAccountKeys.map(b58);
    alt = alt.filter((a) => !stat.includes(a));
    if (!chance(0.08)) vt.sign(signers);
    bytes = vt.serialize();
  }
  bytes = Uint8Array.from(bytes);
  // signatures: count | 64 * n | message
  const nsig = bytes[0];
  let sig = 1;
  const allZero = (s) => s.every((x) => x === 0);
  const sigs = Array.from({ length: nsig }, (_, k) => bytes.slice(1 + 64 * k, 65 + 64 * k));
  if (sigs.some(allZero)) sig = -1;
  else if (chance(0.1)) { bytes[1 + rint(64)] ^= 1 + rint(255); sig = 0; }
  const call = { from: b58(fundsFrom ?? payer.publicKey), sig, kind, parties: parties.filter((p) => !alt.includes(p[1])) };
  if (sig !== -1) call.hash = bs58.encode(bytes.slice(1, 65));
  if (value !== undefined) call.value = value;
  if (amount !== undefined) call.amount = amount;
  if (token !== undefined) call.token = token;
  if (alt.length > 0) call.alt = alt;
  const m = rint(4);
  let body;
  if (m === 0) body = { jsonrpc: '2.0', id: 3000 + i, method: 'sendTransaction', params: [bs58.encode(bytes)] };
  else if (m === 1) body = { jsonrpc: '2.0', id: 3000 + i, method: 'sendTransaction', params: [Buffer.from(bytes).toString('base64'), { encoding: 'base64', skipPreflight: true }] };
  else if (m === 2) body = { jsonrpc: '2.0', id: 3000 + i, method: 'solana_signTransaction', params: { transaction: bs58.encode(bytes) } };
  else body = { jsonrpc: '2.0', id: 3000 + i, method: 'solana_signAndSendTransaction', params: [{ transaction: Buffer.from(bytes).toString('base64') }] };
  emit(`sol-${mode === 0 ? 'legacy' : 'v0'}`, body, [call]);
}

for (let i = 0; i < 420; i++) evmTx(i);
for (let i = 0; i < 84; i++) typed(i);
for (let i = 0; i < 100; i++) userop(i);
for (let i = 0; i < 400; i++) solana(i);
process.stdout.write(out.join('\n') + '\n');
