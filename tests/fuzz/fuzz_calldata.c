/*
 * fuzz_calldata.c - ABI calldata decoding: ERC-20/721/1155, permits, Permit2, multicall /
 * aggregate nesting, Universal Router execute, and smart-account callData (user operations).
 *
 * data[0] selects the mode: bit 0 = the call has a `to`; bits 1-2:
 *   0  data[1..] is the whole calldata
 *   1  data[1] picks a known selector from SELS, data[2..] are its arguments (so the fuzzer
 *      spends its time inside the ABI of the shapes rather than finding selectors)
 *   2  data[1..] is a user operation's callData: ww_account_calls, then every inner call
 *   3  as 2 with the account selector picked by data[1] from SELS
 */
#include "decode/evm_int.h"
#include "decode/wallet_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t SELS[] = {
    0xac9650d8, 0x5ae401dc, 0x252dba42, 0x82ad56cb, /* multicall x2, aggregate, aggregate3 */
    0x3593564c, 0x24856bc3,                         /* Universal Router execute */
    0x87517c45, 0x36c78516, 0xd505accf, 0x8fcbaf0c, /* Permit2 approve/transferFrom, permits */
    0x2eb2c2d6, 0xf242432a, 0xb88d4fde, 0xa22cb465, /* 1155 batch/single, 721 data, approvalForAll */
    0xb61d27f6, 0x51945447, 0xe9ae5c53, 0x18dfb3c7, /* account execute: Simple/Coinbase, Kernel */
    0x47e1da2a, 0x34fcd5be, 0x6a761202, 0x7bb37428, /* executeBatch x3, Safe */
    0x8d80ff0a,                                     /* multiSend */
};

static void check(const ww_wallet_call *wc)
{
    if (wc->n_parties > WW_WC_MAX_PARTIES || wc->kind[0] == '\0')
        __builtin_trap();
    for (size_t i = 0; i < wc->n_parties; i++)
        if (wc->parties[i].addr.len != 42 || wc->parties[i].role >= WW_ROLE_COUNT)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[1 << 16];
    static const uint8_t token[20] = {0xda, 0xc1, 0x7f};
    ww_wallet_call wc;
    const char *why;
    if (size < 2 || size > sizeof buf)
        return 0;
    int mode = (data[0] >> 1) & 3;
    bool has_to = data[0] & 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (mode & 1) { /* a selector from the table, then the fuzzer's arguments */
        uint32_t s = SELS[data[1] % (sizeof SELS / sizeof SELS[0])];
        buf[0] = (uint8_t)(s >> 24);
        buf[1] = (uint8_t)(s >> 16);
        buf[2] = (uint8_t)(s >> 8);
        buf[3] = (uint8_t)s;
        memcpy(buf + 4, data + 2, size - 2);
        p = buf;
        n = size - 2 + 4;
    }
    if (mode < 2) {
        memset(&wc, 0, sizeof wc);
        if (has_to) {
            wc.has_to = true;
            ww_addr_from_evm(&wc.to, token);
        }
        (void)ww_evm_decode_calldata(&wc, p, n, &why);
        check(&wc);
        return 0;
    }
    ww_abi_call calls[16];
    int k = ww_account_calls(calls, 16, p, n);
    if (k < -1 || k > 16)
        __builtin_trap();
    for (int i = 0; i < k; i++) {
        const uint8_t *end = p + n;
        if (calls[i].n > 0 && (calls[i].data < p || calls[i].data + calls[i].n > end))
            __builtin_trap(); /* inner data must be a slice of the input */
        memset(&wc, 0, sizeof wc);
        wc.has_to = true;
        ww_addr_from_evm(&wc.to, calls[i].target != NULL ? calls[i].target : token);
        (void)ww_evm_decode_calldata(&wc, calls[i].data, calls[i].n, &why);
        check(&wc);
    }
    /* the same callData as an EIP-7702 self-call (to == from) */
    memset(&wc, 0, sizeof wc);
    ww_addr_from_evm(&wc.to, token);
    wc.from = wc.to;
    wc.has_to = wc.has_from = true;
    (void)ww_evm_decode_calldata(&wc, p, n, &why);
    int rc = ww_evm_decode_selfcall(&wc, p, n);
    if (rc != WW_OK && rc != WW_E_NOTFOUND && rc != WW_E_INVALID)
        __builtin_trap();
    check(&wc);
    return 0;
}
