/* fuzz_addr_scan.c - response-body address scanner and address parsing for every chain. */
#include "decode/evm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_found(void *ud, const ww_addr *a)
{
    if (a->len != 42 || a->chain != WW_CHAIN_EVM || a->text[42] != '\0')
        __builtin_trap();
    ++*(size_t *)ud;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t seen = 0;
    size_t k = ww_addr_scan(data, size, on_found, &seen);
    if (k != seen)
        __builtin_trap();
    for (int c = WW_CHAIN_NONE; c < WW_CHAIN_COUNT; c++) {
        ww_addr a;
        if (ww_addr_parse(&a, c, (const char *)data, size) == WW_OK &&
            (a.len >= WW_ADDR_TEXT_MAX || strlen(a.text) != a.len))
            __builtin_trap();
    }
    return 0;
}
