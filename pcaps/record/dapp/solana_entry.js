// solana_entry.js - what the Solana page uses from @solana/web3.js and @solana/spl-token.
// record.sh bundles it for the browser with esbuild (neither package ships a browser build
// holding both): window.solanaLib = { Connection, ..., createTransferCheckedInstruction }.
// spl-token uses the Node global Buffer at call time: the `buffer` package (a dependency of
// web3.js) provides it, as dapp bundlers' polyfills do.
import { Buffer } from 'buffer';
export { Connection, Keypair, PublicKey, Transaction } from '@solana/web3.js';
export {
  getAssociatedTokenAddressSync,
  createAssociatedTokenAccountIdempotentInstruction,
  createTransferCheckedInstruction,
} from '@solana/spl-token';

globalThis.Buffer = globalThis.Buffer || Buffer;
