/* fuzz_calldata.c - ABI / ERC-20 calldata decoding (first byte: has to or not). */
#include "decode/evm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_wallet_call wc;
    const char *why;
    static const uint8_t token[20] = {0xda, 0xc1, 0x7f};
    memset(&wc, 0, sizeof wc);
    if (size > 0 && (data[0] & 1)) {
        wc.has_to = true;
        ww_addr_from_evm(&wc.to, token);
    }
    if (size > 0) {
        data++;
        size--;
    }
    (void)ww_evm_decode_calldata(&wc, data, size, &why);
    if (wc.n_parties > WW_WC_MAX_PARTIES || wc.kind[0] == '\0')
        __builtin_trap();
    return 0;
}
