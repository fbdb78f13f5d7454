/* fuzz_typeddata.c - EIP-712 / wallet_sendCalls / user operation requests: the input is the
 * params JSON of eth_signTypedData_v4 (first byte selects the method). */
#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const M[] = {"eth_signTypedData_v4", "wallet_sendCalls",
                                    "eth_sendUserOperation", "personal_sign"};
    static char body[70000];
    static ww_wallet_call wc[16];
    if (size < 1 || size > 65536)
        return 0;
    int k = snprintf(body, sizeof body, "{\"id\":1,\"method\":\"%s\",\"params\":", M[data[0] & 3]);
    memcpy(body + k, data + 1, size - 1);
    memcpy(body + k + size - 1, "}", 1);
    size_t num = 16;
    (void)ww_jsonrpc_decode_request(wc, &num, (const uint8_t *)body, (size_t)k + size, 64, NULL,
                                    NULL);
    return 0;
}
