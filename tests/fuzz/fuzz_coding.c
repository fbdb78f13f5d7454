/*
 * fuzz_coding.c - libFuzzer target for the content codings.
 *
 * Input: byte 0 = the stack (two bits per coding: 0 gzip, 1 deflate, 2 br, 3 none; up to 3,
 * the first none ends the list); byte 1 = split size (feed in pieces of b1+1 bytes);
 * byte 2 = caps (low nibble: max_out = 1 << (8 + n), high: ratio 0..15). Rest: the stream.
 * Checks: the output never exceeds max_out nor the ratio cap.
 */
#include "decode/coding_int.h"

#include <stdlib.h>

typedef struct {
    size_t total;
} fsink;

static int f_out(void *ud, const uint8_t *p, size_t n)
{
    fsink *s = ud;
    if (n > WW_CODING_CHUNK)
        abort();
    volatile uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    (void)x;
    s->total += n;
    return WW_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t kinds[3];
    size_t nk = 0;
    for (int j = 0; j < 3; j++) {
        int k = (data[0] >> (2 * j)) & 3;
        if (k == 3)
            break;
        kinds[nk++] = (uint8_t)(k == 0 ? WW_CODING_GZIP : k == 1 ? WW_CODING_DEFLATE : WW_CODING_BR);
    }
    size_t piece = (size_t)data[1] + 1;
    size_t max_out = (size_t)1 << (8 + (data[2] & 15));
    size_t ratio = data[2] >> 4;
    ww_coding *c = ww_coding_new(NULL, kinds, nk, max_out, ratio);
    if (c == NULL)
        return 0;
    fsink s = {0};
    size_t i = 3, in = 0;
    int r = WW_OK;
    while (i < size && r == WW_OK) {
        size_t n = WW_MIN(piece, size - i);
        uint8_t *cp = malloc(n);
        if (cp == NULL)
            break;
        memcpy(cp, data + i, n);
        r = ww_coding_feed(c, cp, n, f_out, &s);
        free(cp);
        i += n;
        in += n;
        if (s.total > max_out)
            abort();
        if (ratio > 0 && s.total > ratio * in + WW_CODING_SLACK)
            abort();
    }
    if (r == WW_OK) {
        r = ww_coding_finish(c);
        if (r != WW_OK && r != WW_E_TRUNC)
            abort(); /* finish adds no error of its own */
    }
    if (ww_coding_total_out(c) != s.total)
        abort();
    ww_coding_free(c);
    return 0;
}
