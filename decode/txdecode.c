/*
 * txdecode.c - one-shot transaction decoding (decode.h): a serialized EVM or Solana
 * transaction into a wallet call, with its anomalies. JSON-RPC (jsonrpc.c) and the
 * `walletwatch decode` subcommand both come here.
 */
#include "decode/decode.h"
#include "decode/evm_int.h"
#include "decode/solana_int.h"

static void report(ww_decode_anomaly_fn fn, void *ud, const char *layer, const char *type,
                   const char *detail)
{
    if (fn != NULL)
        fn(ud, layer, type, detail);
}

bool ww_decode_evm_tx(ww_wallet_call *wc, const uint8_t *raw, size_t n, ww_decode_anomaly_fn fn,
                      void *ud)
{
    ww_evm_tx_info info;
    int rc = ww_evm_decode_raw_tx(wc, &info, raw, n);
    if (rc == WW_E_CRYPTO)
        report(fn, ud, "evm", "bad-signature", info.error);
    else if (rc != WW_OK)
        report(fn, ud, "evm", "bad-rlp", info.error ? info.error : ww_strerror(rc));
    if (info.calldata_bad)
        report(fn, ud, "evm", "bad-calldata", info.calldata_error);
    if (info.n_auth_bad > 0)
        report(fn, ud, "evm", "bad-signature", "EIP-7702 authorization does not recover");
    return rc == WW_OK || rc == WW_E_CRYPTO || wc->tx_hash[0] != '\0';
}

ssize_t ww_solana_tx_bytes(uint8_t *out, size_t cap, const char *s, size_t len, const char *enc)
{
    ssize_t n = -1;
    if (enc == NULL || strcmp(enc, "base58") == 0)
        n = len <= 2 * cap ? ww_b58_decode(out, cap, s, len) : -1;
    if (n < 0 && (enc == NULL || strcmp(enc, "base64") == 0))
        n = ww_b64_decode(out, cap, s, len);
    return n;
}

bool ww_decode_solana_tx(ww_wallet_call *wc, const uint8_t *p, size_t n, bool allow_message,
                         ww_decode_anomaly_fn fn, void *ud)
{
    ww_solana_tx_info info;
    int rc = ww_solana_decode_tx(wc, &info, p, n, allow_message);
    if (rc == WW_E_CRYPTO)
        report(fn, ud, "solana", "bad-signature", info.error);
    else if (rc != WW_OK) {
        report(fn, ud, "solana", "bad-transaction", info.error ? info.error : ww_strerror(rc));
        return false;
    }
    if (info.n_unresolved > 0)
        report(fn, ud, "solana", "unresolved-account", "instruction account behind a lookup table");
    if (info.n_parties_dropped > 0)
        report(fn, ud, "solana", "too-many-parties", "parties over capacity were dropped");
    return true;
}
