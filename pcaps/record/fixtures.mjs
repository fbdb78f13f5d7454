// Fixed test identities of the recorder. Everything is derived from public strings so that
// recordings are reproducible; none of these keys ever held or will hold funds.
import { ethers } from 'ethers';

const key = (tag) => ethers.id(`walletwatch recorder ${tag}`);

export const CHAIN_ID = 1;
// The shop's legitimate payee, served by /api/invoice (EIP-55 checksummed on the wire).
export const PAYEE = new ethers.Wallet(key('payee 12')).address;   // 0x2027CE87...8997a656
// The ERC-20 token contract the dapp calls (served in the invoice too).
export const TOKEN = new ethers.Wallet(key('token 1')).address;    // 0xC4425144...853569ce
// The user's wallet account (the `from` of every call; the signer of the raw transaction).
export const WALLET_KEY = key('wallet 0');
export const WALLET = new ethers.Wallet(WALLET_KEY).address;       // 0x6759B2Ff...27C6D897
// The September 2025 payload's fixed EVM replacement (in the bundled attacker DB).
export const ATTACKER = '0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976';
export const MAX_UINT256 = (1n << 256n) - 1n;

export const INVOICE = {
  invoice: 'INV-2025-0917',
  merchant: 'Example Coffee Roasters',
  payee: PAYEE,
  token: TOKEN,
  currency: 'ETH',
  amount_wei: '12500000000000000',
  token_amount: '25000000',
  chain_id: CHAIN_ID,
};

const erc20 = new ethers.Interface([
  'function transfer(address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
]);
export const transferData = (to, amount) => erc20.encodeFunctionData('transfer', [to, amount]);
export const approveData = (spender, amount) =>
  erc20.encodeFunctionData('approve', [spender, amount]);

// The dapp's payment router: the spender of the ERC-20 approval, served by the dapp's invoice.
export const ROUTER = new ethers.Wallet(key('router 3')).address;
// What the dapp's API serves (dapp/server.mjs /api/invoice). The token contract is part of the
// dapp's own code (app.js), as with real dapps, so the API serves the payee and the spender.
export const DAPP_INVOICE = {
  invoice: 'INV-2025-0918',
  merchant: 'Example Coffee Roasters',
  payee: PAYEE,
  router: ROUTER,
  amount_wei: '12500000000000000',
  token_amount: '25000000',
  approve_amount: '100000000',
  chain_id: CHAIN_ID,
};

// ---- non-EVM addresses (the invoice's alternative payment methods, the Solana flow) ----
// Encoders for deterministic, valid test addresses (checksums computed, so walletwatch's scanner
// takes them for addresses): Bitcoin bech32 P2WPKH, Tron base58check (version 0x41).
const B32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
function bech32Polymod(values) {
  const G = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const b = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((b >>> i) & 1) chk ^= G[i];
  }
  return chk >>> 0;
}
function bech32Encode(hrp, data) {
  const exp = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));
  const pm = bech32Polymod(exp.concat(data, [0, 0, 0, 0, 0, 0])) ^ 1;
  const chk = Array.from({ length: 6 }, (_, i) => (pm >>> (5 * (5 - i))) & 31);
  return hrp + '1' + data.concat(chk).map((v) => B32[v]).join('');
}
function to5bit(bytes) {
  const out = []; let acc = 0, bits = 0;
  for (const b of bytes) { acc = (acc << 8) | b; bits += 8; while (bits >= 5) { bits -= 5; out.push((acc >> bits) & 31); } }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}
const hash20 = (tag) => ethers.getBytes(ethers.id(`walletwatch recorder ${tag}`)).slice(0, 20);
export const btcBech32 = (tag) => bech32Encode('bc', [0].concat(to5bit(hash20(tag))));
export function tronAddress(tag) {
  const payload = ethers.concat(['0x41', hash20(tag)]);
  const chk = ethers.getBytes(ethers.sha256(ethers.sha256(payload))).slice(0, 4);
  return ethers.encodeBase58(ethers.concat([payload, chk]));
}
// A Solana key: ed25519 public key of the seed sha256(tag) (web3.js Keypair.fromSeed in the page
// and in expect.mjs); here only the seed.
export const solSeed = (tag) => ethers.getBytes(ethers.sha256(ethers.toUtf8Bytes(`walletwatch recorder ${tag}`)));

// ---- Permit2 (Uniswap) ----
export const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
export const MAX_UINT160 = (1n << 160n) - 1n;
