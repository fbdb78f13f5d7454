// sol.js - the Solana checkout: an SPL token payment built with @solana/web3.js and
// @solana/spl-token (bundled as window.solanaLib), as wallets and dapps build it:
//   createAssociatedTokenAccountIdempotent(payer, ATA(owner, mint), owner, mint)
//   transferChecked(ATA(payer, mint) -> ATA(owner, mint), amount, decimals)
// The owner (the shop's wallet) and the mint come from GET /api/sol-invoice; the blockhash from
// the node (getLatestBlockhash). The payer is a fixed test key (seed = SHA-256 of a public
// string, never funded) that signs in the page; the signed transaction goes to the node as
// sendTransaction with base64 encoding (Connection.sendRawTransaction).
// When done, window.__dapp = { ok, results | error }; window.__walletLog = the requests sent.
'use strict';
(function () {
  const L = window.solanaLib;
  const log = (s) => { document.getElementById('log').textContent += s + '\n'; };
  window.__walletLog = [];

  async function seed(tag) {
    const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`walletwatch recorder ${tag}`));
    return new Uint8Array(d);
  }
  const b64 = (u8) => btoa(String.fromCharCode(...u8));

  async function main() {
    const cfg = await (await fetch('/api/config', { cache: 'no-store' })).json();
    const inv = await (await fetch('/api/sol-invoice', { cache: 'no-store' })).json();
    log(`invoice ${inv.invoice}: pay ${inv.token_amount} of ${inv.mint} to ${inv.owner}`);
    const payer = L.Keypair.fromSeed(await seed('sol wallet 0'));
    const owner = new L.PublicKey(inv.owner), mint = new L.PublicKey(inv.mint);
    const conn = new L.Connection(cfg.rpc_url, 'confirmed');
    const { blockhash } = await conn.getLatestBlockhash('confirmed');
    const src = L.getAssociatedTokenAddressSync(mint, payer.publicKey);
    const dst = L.getAssociatedTokenAddressSync(mint, owner);
    const tx = new L.Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash });
    tx.add(L.createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, dst, owner, mint));
    tx.add(L.createTransferCheckedInstruction(src, mint, dst, payer.publicKey,
                                              BigInt(inv.token_amount), inv.decimals));
    tx.sign(payer);
    const raw = tx.serialize();
    window.__walletLog.push({ method: 'sendTransaction', params: [b64(raw), { encoding: 'base64' }] });
    const sig = await conn.sendRawTransaction(raw, { skipPreflight: true });
    log(`sent: ${sig}`);
    return [sig];
  }

  main().then(
    (results) => { document.getElementById('status').textContent = 'paid'; window.__dapp = { ok: true, results }; },
    (e) => { document.getElementById('status').textContent = 'failed'; window.__dapp = { ok: false, error: String(e && e.stack || e) }; });
})();
