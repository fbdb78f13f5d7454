/*
 * fuzz_decode_cli.c - the `walletwatch decode` input detection (cli/decode_cli.c,
 * ww_decode_text): JSON-RPC request/batch vs. bare hex (EVM) vs. base58/base64 (Solana).
 * The first byte picks the chain (bit 0: solana) and how many call slots there are (bits 1-6).
 * Checks: the count stays within the slots, decoded calls are NUL-terminated and bounded,
 * a text with surrounding white space is detected and decoded the same.
 */
#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void chk(const ww_wallet_call *wc)
{
    if (wc->n_parties > WW_WC_MAX_PARTIES ||
        strnlen(wc->method, sizeof wc->method) == sizeof wc->method ||
        strnlen(wc->rpc_id, sizeof wc->rpc_id) == sizeof wc->rpc_id ||
        strnlen(wc->kind, sizeof wc->kind) == sizeof wc->kind ||
        strnlen(wc->tx_hash, sizeof wc->tx_hash) == sizeof wc->tx_hash ||
        strnlen(wc->value, sizeof wc->value) == sizeof wc->value ||
        strnlen(wc->selector, sizeof wc->selector) == sizeof wc->selector)
        __builtin_trap();
    if (wc->has_to && (wc->to.len == 0 || strlen(wc->to.text) != wc->to.len))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ww_wallet_call a[64], b[64];
    if (size < 1 || size > (1 << 16))
        return 0;
    int chain = data[0] & 1 ? WW_CHAIN_SOLANA : WW_CHAIN_EVM;
    size_t slots = (data[0] >> 1) & 63;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    size_t na = slots;
    int ra = ww_decode_text(a, &na, chain, p, n);
    if (na > slots)
        __builtin_trap();
    if (ra >= 0)
        for (size_t i = 0; i < na; i++)
            chk(&a[i]);
    /* the same text padded with white space */
    static uint8_t q[(1 << 16) + 4]; /* (no allocation per input) */
    q[0] = ' ';
    q[1] = '\n';
    memcpy(q + 2, p, n);
    q[n + 2] = '\t';
    q[n + 3] = '\r';
    size_t nb = slots;
    int rb = ww_decode_text(b, &nb, chain, q, n + 4);
    /* trailing/leading white space of the input itself is trimmed either way */
    if ((ra < 0) != (rb < 0) || na != nb)
        __builtin_trap();
    /* an unknown chain is refused */
    size_t nz = slots;
    if (ww_decode_text(b, &nz, WW_CHAIN_BITCOIN, p, n) >= 0 || nz != 0)
        __builtin_trap();
    return 0;
}
