// Prints associated-token-account vectors computed by @solana/spl-token (getAssociatedTokenAddressSync).
import { Keypair, PublicKey } from '@solana/web3.js';
import { getAssociatedTokenAddressSync, TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID } from '@solana/spl-token';
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed & 255; };
const out = [];
for (let i = 0; i < 12; i++) {
  const w = Keypair.fromSeed(Uint8Array.from({ length: 32 }, rnd)).publicKey;
  const mint = new PublicKey(Uint8Array.from({ length: 32 }, rnd));
  const prog = i % 2 ? TOKEN_2022_PROGRAM_ID : TOKEN_PROGRAM_ID;
  out.push({ wallet: w.toBase58(), mint: mint.toBase58(), program: prog.toBase58(),
             ata: getAssociatedTokenAddressSync(mint, w, false, prog).toBase58() });
}
console.log(JSON.stringify(out));
