/*
 * fuzz_keylog.c - libFuzzer target for the NSS key log parser (decode/keylog.c).
 * Input: byte 0 = piece size - 1 (text is added in pieces of that size, as a followed file's
 * appended lines or a DSB arrive); the rest is key log text. Then a few lookups.
 */
#include "decode/decode.h"
#include "decode/tls_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ww_keylog *kl = ww_keylog_new(NULL);
    if (kl == NULL)
        return 0;
    size_t piece = (size_t)data[0] + 1;
    for (size_t i = 1; i < size; i += piece)
        ww_keylog_add_text(kl, data + i, WW_MIN(piece, size - i));
    uint8_t cr[32] = {0}, out[WW_KEYLOG_SECRET_MAX];
    if (size > 33)
        memcpy(cr, data + 1, 32);
    for (int l = 0; l < WW_KL_COUNT; l++)
        (void)ww_keylog_lookup(kl, cr, l, out);
    (void)ww_keylog_count(kl);
    (void)ww_keylog_bad_lines(kl);
    (void)ww_keylog_generation(kl);
    ww_keylog_free(kl);
    return 0;
}
