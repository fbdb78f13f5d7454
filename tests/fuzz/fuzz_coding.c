/*
 * fuzz_coding.c - libFuzzer target for the content codings.
 *
 * Input: byte 0 = the stack (two bits per coding: 0 gzip, 1 deflate, 2 br (zstd when bit 6
 * is set), 3 none; up to 3, the first none ends the list; bit 7: gzip/deflate through zlib
 * instead of ISA-L); byte 1 = split size (feed in pieces of b1+1 bytes); byte 2 = caps (low
 * nibble: max_out = 1 << (8 + n), high: ratio 0..15). Rest: the stream.
 * Checks: the output never exceeds max_out nor the ratio cap. When gzip/deflate go through
 * ISA-L and the stream decodes completely, zlib must decode it to the same bytes.
 */
#include "decode/coding_int.h"

#include <stdlib.h>

typedef struct {
    size_t total;
    uint64_t hash; /* FNV-1a of the output, to compare ISA-L with zlib */
} fsink;

static int f_out(void *ud, const uint8_t *p, size_t n)
{
    fsink *s = ud;
    if (n > WW_CODING_CHUNK)
        abort();
    for (size_t i = 0; i < n; i++)
        s->hash = (s->hash ^ p[i]) * 0x100000001b3ull;
    s->total += n;
    return WW_OK;
}

/* Decodes data[3..size) as the header bytes say. Returns the final code; *out the output. */
static int run(const uint8_t *data, size_t size, const uint8_t *kinds, size_t nk, unsigned flags,
               fsink *out);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t kinds[3] = {0, 0, 0};
    size_t nk = 0;
    bool inflate = false;
    for (int j = 0; j < 3; j++) {
        int k = (data[0] >> (2 * j)) & 3;
        if (k == 3)
            break;
        kinds[nk++] = (uint8_t)(k == 0   ? WW_CODING_GZIP
                                : k == 1 ? WW_CODING_DEFLATE
                                : (data[0] & 0x40) ? WW_CODING_ZSTD
                                                   : WW_CODING_BR);
        inflate = inflate || k < 2;
    }
    unsigned flags = (data[0] & 0x80) ? WW_CODING_F_ZLIB : 0;
    fsink a = {0, 0xcbf29ce484222325ull};
    int r = run(data, size, kinds, nk, flags, &a);
    if (r == WW_OK && inflate && flags == 0 && ww_coding_have_isal()) {
        fsink b = {0, 0xcbf29ce484222325ull};
        if (run(data, size, kinds, nk, WW_CODING_F_ZLIB, &b) != WW_OK || a.total != b.total ||
            a.hash != b.hash)
            abort(); /* ISA-L decoded a stream zlib does not decode the same way */
    }
    return 0;
}

static int run(const uint8_t *data, size_t size, const uint8_t *kinds, size_t nk, unsigned flags,
               fsink *out)
{
    size_t piece = (size_t)data[1] + 1;
    size_t max_out = (size_t)1 << (8 + (data[2] & 15));
    size_t ratio = data[2] >> 4;
    ww_coding *c = ww_coding_new2(NULL, kinds, nk, max_out, ratio, flags);
    if (c == NULL)
        return WW_E_NOMEM;
    fsink s = *out;
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
    *out = s;
    return r;
}
