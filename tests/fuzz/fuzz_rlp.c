/* fuzz_rlp.c - RLP item parser and recursive validator. */
#include "decode/evm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_rlp_item it;
    ssize_t k = ww_rlp_item_parse(&it, data, size);
    if (k > 0) {
        if ((size_t)k > size || it.ptr + it.len > data + size)
            __builtin_trap();
        if (it.is_list) {
            ww_rd r = ww_rd_init(it.ptr, it.len);
            ww_rlp_item e;
            while (ww_rlp_next(&r, &e) == WW_OK)
                ;
        }
    }
    if (ww_rlp_validate(data, size, WW_RLP_MAX_DEPTH) == WW_OK && k != (ssize_t)size)
        __builtin_trap(); /* valid means exactly one item */
    return 0;
}
