/* fuzz_evm_tx.c - signed transaction decoder (all types), sender recovery, calldata. */
#include "decode/evm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_wallet_call wc;
    ww_evm_tx_info info;
    memset(&wc, 0, sizeof wc);
    int rc = ww_evm_decode_raw_tx(&wc, &info, data, size);
    if (rc == WW_OK && (wc.signature_valid != 1 || !wc.has_from))
        __builtin_trap();
    if (wc.n_parties > WW_WC_MAX_PARTIES || strlen(wc.kind) >= sizeof wc.kind)
        __builtin_trap();
    return 0;
}
