/* fuzz_abiwords.c - ABI address words in response hex strings (decode/abiwords.c). */
#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_word(void *ud, const ww_addr *a, int prov)
{
    ww_addr b;
    if (a->chain != WW_CHAIN_EVM || a->len != 42 || strlen(a->text) != 42)
        __builtin_trap();
    if (ww_addr_parse(&b, WW_CHAIN_EVM, a->text, a->len) != WW_OK || !ww_addr_eq(a, &b))
        __builtin_trap();
    if (prov != WW_PROV_RPC_WORD && prov != WW_PROV_CALLDATA)
        __builtin_trap();
    ++*(size_t *)ud;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t seen = 0, open_at = 0;
    size_t k = ww_abi_words_scan(data, size, WW_ABI_WORDS_MAX, on_word, &seen, &open_at);
    if (k != seen || k > WW_ABI_WORDS_MAX || open_at > size)
        __builtin_trap();
    /* what lies before open_at (and the quote there: it may also close the value before the
     * open member's name, as in "0x..."result":) is scanned the same on its own */
    size_t seen2 = 0, open2 = 0, cut = open_at < size ? open_at + 1 : size;
    if (ww_abi_words_scan(data, cut, WW_ABI_WORDS_MAX, on_word, &seen2, &open2) != k)
        __builtin_trap();
    return 0;
}
