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
