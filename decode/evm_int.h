/*
 * evm_int.h - EVM decoding inside decode/: Keccak-256, RLP, signed transactions (EIP-2718
 * types 0-2 for now: legacy with and without EIP-155, EIP-2930, EIP-1559), sender recovery
 * with libsecp256k1, ERC-20 calldata.
 */
#ifndef WW_EVM_INT_H
#define WW_EVM_INT_H

#include "decode/decode.h"

/* Keccak-256 (Ethereum's, 0x01 padding). */
void ww_keccak256(uint8_t out[32], const uint8_t *p, size_t n);

/* Incremental Keccak-256 (same result as ww_keccak256 over the concatenation). */
typedef struct ww_keccak_ctx {
    uint64_t s[25];
    uint8_t buf[136];
    size_t n;
} ww_keccak_ctx;
void ww_keccak_init(ww_keccak_ctx *c);
void ww_keccak_update(ww_keccak_ctx *c, const uint8_t *p, size_t n);
void ww_keccak_final(ww_keccak_ctx *c, uint8_t out[32]);

/* ---- RLP (Ethereum Yellow Paper, appendix B) ----
 *
 *   0x00..0x7f            the byte itself
 *   0x80+len (len<56)     short string     0xb7+lenlen, len (BE)  long string (len >= 56)
 *   0xc0+len (len<56)     short list       0xf7+lenlen, len (BE)  long list   (len >= 56)
 *
 * Canonical form only: a single byte < 0x80 must be itself, lengths have no leading zero,
 * the long form is only for payloads of 56 bytes or more.
 */
#define WW_RLP_MAX_DEPTH 16

typedef struct ww_rlp_item {
    bool is_list;
    const uint8_t *ptr; /* payload (into the input; lives as long as it) */
    size_t len;         /* payload length */
    const uint8_t *raw; /* header + payload */
    size_t raw_len;
} ww_rlp_item;

/*
 * Parses the header of the one item at the start of p[0..n) and checks that its payload
 * fits. Does not look inside lists.
 * Returns: bytes consumed (header + payload) > 0, WW_E_TRUNC (the input ends inside the
 *   item), WW_E_INVALID (non-canonical header), WW_E_OVERFLOW (length does not fit).
 * Out: *out (slices into p).
 */
ssize_t ww_rlp_item_parse(ww_rlp_item *out, const uint8_t *p, size_t n) WW_WUR;

/*
 * Next item of a list payload: r is a reader over the payload (start with
 * ww_rd_init(list.ptr, list.len)). Returns WW_OK (r advanced), WW_E_NOTFOUND at the end of
 * the payload, or the negative code of ww_rlp_item_parse.
 */
int ww_rlp_next(ww_rd *r, ww_rlp_item *out) WW_WUR;

/*
 * Checks that p[0..n) is exactly one well-formed item, recursively (every nested item
 * canonical and in bounds), nesting at most max_depth lists.
 * Returns WW_OK, WW_E_TRUNC, WW_E_INVALID (also: trailing bytes), WW_E_OVERFLOW, WW_E_DEPTH.
 */
int ww_rlp_validate(const uint8_t *p, size_t n, int max_depth) WW_WUR;

/* ---- signed transactions (EIP-2718 envelope; types 0-4) ---- */
typedef struct ww_evm_tx_info {
    int type;               /* 0 legacy, 1..4 typed; -1 before it is known */
    const char *error;      /* static text saying what was wrong; NULL when WW_OK */
    bool calldata_bad;      /* calldata of a known selector was malformed (recorded as
                               contract-call; see ww_evm_decode_calldata) */
    const char *calldata_error;
    size_t n_auth;          /* EIP-7702 authorization tuples seen */
    size_t n_auth_bad;      /* ... whose authority does not recover */
    size_t n_parties_dropped; /* parties that did not fit in the wallet call */
} ww_evm_tx_info;

/*
 * Decodes one signed transaction as given to eth_sendRawTransaction (bytes, no 0x):
 * legacy (v 27/28, or v >= 35 per EIP-155), 0x01 EIP-2930, 0x02 EIP-1559, 0x03 EIP-4844 (the
 * canonical body, or the network wrapper [body, blobs, commitments, proofs]), 0x04 EIP-7702.
 * Fills wc (chain EVM, chain_id, from (recovered), to, value, tx_hash, signature_valid,
 * then ww_evm_decode_calldata). Fields decoded before an error stay filled.
 * Returns: WW_OK (signature_valid 1); WW_E_CRYPTO: well-formed but the signature is bad
 *   (zero, >= n, high s (EIP-2), bad v, or does not recover: signature_valid 0, the other
 *   fields filled); WW_E_TRUNC / WW_E_INVALID / WW_E_OVERFLOW / WW_E_UNSUPPORTED (unknown
 *   type): not a valid transaction (signature_valid 0).
 * Out: *info (may be NULL).
 */
int ww_evm_decode_raw_tx(ww_wallet_call *wc, ww_evm_tx_info *info, const uint8_t *p, size_t n);

/*
 * Fills the calldata part of a wallet call whose has_to/to are already set: kind,
 * selector, parties (TO first), amount, token. No calldata: native-transfer (TO is the
 * payee); no to: contract-creation. ERC-20 transfer / transferFrom / approve are decoded
 * when their ABI words are well formed (address words with 12 zero bytes, at least the
 * expected length; trailing bytes are accepted as Solidity does, but reported).
 * Returns WW_OK; WW_E_INVALID when a known selector's arguments are malformed (kind stays
 *   "contract-call", nothing guessed) or bytes trail (then the call is decoded anyway);
 *   *why (may be NULL) says which.
 */
int ww_evm_decode_calldata(ww_wallet_call *wc, const uint8_t *data, size_t n, const char **why);

/*
 * EIP-7702 self-calls: a transaction whose `to` is its own sender (an account delegated to
 * smart-account code) calling execute / executeBatch of the common delegated accounts
 * (SimpleAccount / Coinbase execute(Batch), Kernel, ERC-7579 execute(mode, calldata), Safe,
 * MetaMask delegator via ERC-7579; see ww_account_calls). Call after from is known: each
 * inner call's target becomes a TO party (a payee when it receives value or its calldata is
 * not decoded), its calldata decoded like a transaction's (recipients, spenders), a plain
 * value transfer a RECIPIENT with its amount; kind "self-call". Returns WW_OK, WW_E_NOTFOUND
 * (not a self-call of a known account entry point: wc untouched) or WW_E_INVALID.
 */
int ww_evm_decode_selfcall(ww_wallet_call *wc, const uint8_t *data, size_t n);

/* Adds a party (dropped, returning false, when the call already holds WW_WC_MAX_PARTIES). */
bool ww_wc_add_party(ww_wallet_call *wc, int role, bool payee, bool unlimited,
                     const ww_addr *a);

#endif
