// solfix.mjs - the Solana identities of the recorder (node side; the page derives the same keys
// with web3.js in the browser). Deterministic: every key is Keypair.fromSeed(sha256(tag)).
import { Keypair, PublicKey } from '@solana/web3.js';
import { solSeed, btcBech32, tronAddress } from './fixtures.mjs';

export const solKey = (tag) => Keypair.fromSeed(solSeed(tag));
export const solAddr = (tag) => solKey(tag).publicKey.toBase58();

// The user's Solana wallet (fee payer, token owner); it signs in the page like the ETH flow.
export const SOL_WALLET_TAG = 'sol wallet 0';
// The shop's payee (a wallet, the "owner"), served by /api/sol-invoice with the mint.
export const SOL_PAYEE = solAddr('sol payee 29');
// The SPL token (a USDC-like mint, 6 decimals), served by /api/sol-invoice.
export const SOL_MINT = solAddr('sol mint 1');
// The blockhash the local "Solana RPC" answers getLatestBlockhash with (it is base58 of 32
// bytes: walletwatch's scanner takes it for a served Solana address, as the spec says).
export const SOL_BLOCKHASH = solAddr('sol blockhash 1');
export const SOL_INVOICE = {
  invoice: 'INV-2025-0919-SOL',
  merchant: 'Example Coffee Roasters',
  owner: SOL_PAYEE,
  mint: SOL_MINT,
  decimals: 6,
  token_amount: '25000000',
};
// Alternative payment addresses of the EVM invoice (shown on the page, echoed in the order
// receipt): the payload rewrote these in responses too.
export const ALT_PAY = {
  btc: btcBech32('alt btc 1'),
  tron: tronAddress('alt tron 1'),
  sol: solAddr('alt sol 1'),
};
export const TOKEN_PROGRAM = new PublicKey('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA').toBase58();
