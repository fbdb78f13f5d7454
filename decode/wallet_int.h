/*
 * wallet_int.h - wallet requests beyond a single transaction (decode/eip712.c,
 * decode/userop.c): EIP-712 typed data, EIP-5792 wallet_sendCalls, ERC-4337 user operations.
 * Inputs are cJSON trees already depth-limited by jsonrpc.c.
 */
#ifndef WW_WALLET_INT_H
#define WW_WALLET_INT_H

#include <cjson/cJSON.h>

#include "decode/evm_int.h"

/*
 * eth_signTypedData / _v3 / _v4 params ([address, typedData] in either order; typedData a
 * JSON string or an object). Fills wc (chain EVM, from = signer, to = verifyingContract as a
 * non-payee TO party, chain_id from the domain, kind, token, amount, parties):
 *   "permit"            ERC-2612 Permit{owner,spender,value,...}: spender, unlimited at 2^256-1;
 *                       DAI Permit{holder,spender,nonce,expiry,allowed}: allowed=true unlimited
 *   "permit2-single"    PermitSingle{details{token,amount,...},spender}: amount 2^160-1 unlimited
 *   "permit2-batch"     PermitBatch{details[],spender}
 *   "permit2-transfer"  PermitTransferFrom / PermitWitnessTransferFrom / PermitBatchTransferFrom
 *                       {permitted{token,amount}|[...], spender}: the spender may pull the funds
 *   "seaport-order"     OrderComponents{offerer, consideration[{recipient,...}]}: every
 *                       consideration recipient other than the offerer is a payee
 *   "typed-data"        anything else (recorded, nothing guessed)
 * Returns WW_OK, or WW_E_INVALID (no typed data found; anomaly raised).
 */
int ww_eip712_decode_params(ww_wallet_call *wc, const cJSON *params,
                            ww_decode_anomaly_fn anomaly_fn, void *ud);

/*
 * wallet_sendCalls (EIP-5792) and eth_sendUserOperation (ERC-4337 v0.6 / v0.7): ONE wallet
 * call PER INNER CALL (so each keeps its own kind, amount, token and recipient in the SPEC's
 * one-recipient wallet_call event). base holds method/rpc_id. For a user operation, from =
 * the smart account (sender) and the callData is unwrapped through execute / executeBatch
 * (SimpleAccount, Coinbase Smart Wallet, Kernel v2/v3 (ERC-7579), Safe execTransaction /
 * executeUserOp / MultiSend) down to each inner call, which is decoded like a transaction
 * (ww_evm_decode_calldata). Unknown account selectors: one contract-call to the sender.
 * out/num: capacity in, count out. Returns WW_OK, WW_E_TOOBIG (calls over capacity dropped)
 * or WW_E_INVALID (params malformed; anomaly raised).
 */
int ww_wallet_decode_multi(ww_wallet_call *out, size_t *num, const ww_wallet_call *base,
                           const cJSON *params, ww_decode_anomaly_fn anomaly_fn, void *ud);

/* ---- bounds-checked Solidity ABI reading (decode/evm_calldata.c) ----
 * args = the bytes after the selector. Every offset and length is checked against n before
 * use; nothing past n is read. */
typedef struct ww_abi_call {
    const uint8_t *target;  /* 20 bytes, or NULL = the enclosing call's target */
    uint8_t value[32];      /* wei (zero when none) */
    const uint8_t *data;
    size_t n;
} ww_abi_call;
/* Word i as an address (12 zero bytes); false when out of range or not an address. */
bool ww_abi_addr(uint8_t out[20], const uint8_t *args, size_t n, size_t i);
/* Word i (32 bytes) or NULL when out of range. */
const uint8_t *ww_abi_word(const uint8_t *args, size_t n, size_t i);
/* A dynamic `bytes` whose offset is word i of the tuple at args[0..n). */
bool ww_abi_bytes(const uint8_t **p, size_t *len, const uint8_t *args, size_t n, size_t i);
/* A dynamic array whose offset is word i: *elems = start of its elements (after the count),
 * *count bounded by the bytes left / 32. */
bool ww_abi_array(const uint8_t **elems, size_t *elen, size_t *count, const uint8_t *args,
                  size_t n, size_t i);

/*
 * Splits a smart-account call (selector + args) into its inner calls. Returns how many
 * (<= cap) were stored, 0 when the selector is not a known account entry point, or -1 when
 * it is but the arguments are malformed.
 */
int ww_account_calls(ww_abi_call *out, size_t cap, const uint8_t *data, size_t n);

#endif
