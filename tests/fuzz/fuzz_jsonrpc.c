/* fuzz_jsonrpc.c - JSON-RPC request and response decoding. */
#include "decode/evm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_anomaly(void *ud, const char *layer, const char *type, const char *detail)
{
    (void)layer;
    (void)detail;
    if (type == NULL)
        __builtin_trap();
    ++*(int *)ud;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ww_wallet_call wc[4];
    ww_jsonrpc_resp r[4];
    size_t num = 4;
    int n_anom = 0;
    int rc = ww_jsonrpc_decode_request(wc, &num, data, size, 32, on_anomaly, &n_anom);
    if (num > 4 || (rc < 0 && num != 0))
        __builtin_trap();
    num = 4;
    (void)ww_jsonrpc_decode_response(r, &num, data, size, 32);
    if (num > 4)
        __builtin_trap();
    /* the same bytes as a body cut at a cap: the first (size - last byte) bytes as a prefix */
    ww_jsonrpc_req_info info;
    size_t cut = size > 0 ? size - data[size - 1] % (size < 256 ? size : 256) : 0;
    num = 4;
    rc = ww_jsonrpc_decode_request_prefix(wc, &num, data, cut, true, 32, &info, on_anomaly,
                                          &n_anom);
    if (num > 4 || (rc < 0 && num != 0) || (rc > 0 && info.requests != rc))
        __builtin_trap();
    return 0;
}
