/*
 * fuzz_userop.c - ERC-4337 user operations and EIP-5792 wallet_sendCalls (decode/userop.c),
 * through the JSON-RPC entry point, and EIP-7702 self-calls (ww_evm_decode_selfcall).
 *
 * data[0] selects the mode:
 *   0  data[1..] is the params JSON of eth_sendUserOperation
 *   1  data[1..] is the params JSON of wallet_sendCalls
 *   2  data[1..] is a user operation's callData (bytes), put hex-encoded into a well-formed
 *      v0.7 user operation (so the fuzzer spends its time in the account ABI, not in JSON)
 *   3  as 2, and the same bytes as an EIP-7702 self-call's calldata (to == from)
 */
#include "decode/evm_int.h"
#include "decode/wallet_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENDER "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"

static void on_anomaly(void *ud, const char *layer, const char *type, const char *detail)
{
    (void)ud;
    (void)detail;
    if (layer == NULL || type == NULL)
        __builtin_trap();
}

static void check(const ww_wallet_call *wc, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (wc[k].n_parties > WW_WC_MAX_PARTIES)
            __builtin_trap();
        for (size_t i = 0; i < wc[k].n_parties; i++)
            if (wc[k].parties[i].role >= WW_ROLE_COUNT ||
                memchr(wc[k].parties[i].amount, '\0', WW_DEC_MAX) == NULL)
                __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char body[(1 << 17) * 2 + 1024];
    static ww_wallet_call wc[16];
    size_t num = 16;
    int len;
    if (size < 1 || size > (1 << 16))
        return 0;
    int mode = data[0] & 3;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (mode < 2) {
        len = snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":",
                       mode == 0 ? "eth_sendUserOperation" : "wallet_sendCalls");
        memcpy(body + len, p, n);
        len += (int)n;
        body[len++] = '}';
    } else {
        len = snprintf(body, sizeof body,
                       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendUserOperation\","
                       "\"params\":[{\"sender\":\"" SENDER "\",\"nonce\":\"0x1\",\"callData\":\"0x");
        ww_hex_encode(body + len, p, n);
        len += (int)(2 * n);
        len += snprintf(body + len, sizeof body - (size_t)len,
                        "\",\"callGasLimit\":\"0x1\",\"signature\":\"0x\"},"
                        "\"0x0000000071727de22e5e9d8baf0edac6f37da032\"]}");
    }
    int rc = ww_jsonrpc_decode_request(wc, &num, (const uint8_t *)body, (size_t)len, 64, on_anomaly,
                                       NULL);
    if (num > 16 || (rc < 0 && num != 0))
        __builtin_trap();
    check(wc, num);
    if (mode == 3) {
        ww_wallet_call s;
        const char *why;
        memset(&s, 0, sizeof s);
        if (ww_addr_parse(&s.to, WW_CHAIN_EVM, SENDER, 42) != WW_OK)
            __builtin_trap();
        s.from = s.to;
        s.has_to = s.has_from = true;
        (void)ww_evm_decode_calldata(&s, p, n, &why);
        (void)ww_evm_decode_selfcall(&s, p, n);
        check(&s, 1);
    }
    return 0;
}
