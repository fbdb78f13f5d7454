/* fuzz_addr_scan.c - response-body address scanner (every format) and address parsing. */
#include "decode/evm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every address the scanner reports must parse again, as written, to itself. */
static void on_found(void *ud, const ww_addr *a)
{
    ww_addr b;
    if (a->chain <= WW_CHAIN_NONE || a->chain >= WW_CHAIN_COUNT || a->len == 0 ||
        a->len >= WW_ADDR_TEXT_MAX || a->text[a->len] != '\0' || strlen(a->text) != a->len)
        __builtin_trap();
    if (a->chain == WW_CHAIN_EVM && a->len != 42)
        __builtin_trap();
    if (ww_addr_parse(&b, a->chain, a->text, a->len) != WW_OK || !ww_addr_eq(a, &b))
        __builtin_trap();
    if (ww_addr_fixed_len(a) > a->len)
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
