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

/* Streamed scanning must report the whole scan's addresses, in order: recorded here. */
typedef struct rec {
    ww_addr a[256];
    size_t n;
    size_t seen;
    bool overflow;
} rec;

static void on_rec(void *ud, const ww_addr *a)
{
    rec *r = ud;
    if (r->n < 256)
        r->a[r->n++] = *a;
    else
        r->overflow = true;
}

static void on_cmp(void *ud, const ww_addr *a)
{
    rec *r = ud;
    if (r->seen < r->n && !ww_addr_eq(&r->a[r->seen], a))
        __builtin_trap(); /* chunked scan reports another address */
    r->seen++;
}

/* Feeds data in pieces whose sizes come from a seed, as the HTTP parsers do: appended to a
 * window, ww_addr_scan_chunk, the consumed prefix dropped. */
static void chunked(const uint8_t *data, size_t size, uint32_t seed, rec *want)
{
    static uint8_t win[1 << 16];
    size_t wn = 0, off = 0, nfound = 0;
    want->seen = 0;
    while (off < size) {
        seed = seed * 1103515245u + 12345u;
        size_t k = 1 + (seed >> 16) % (seed & 1 ? 7 : 300);
        if (k > size - off)
            k = size - off;
        if (wn + k > sizeof win)
            __builtin_trap(); /* the carry grew without bound */
        memcpy(win + wn, data + off, k);
        wn += k;
        off += k;
        size_t c = ww_addr_scan_chunk(win, wn, false, on_cmp, want, &nfound);
        if (c > wn || wn - c > WW_ADDR_RUN_MAX + 1)
            __builtin_trap(); /* more kept than the longest run and its left context */
        memmove(win, win + c, wn - c);
        wn -= c;
    }
    (void)ww_addr_scan_chunk(win, wn, true, on_cmp, want, &nfound);
    if (want->seen != want->n || nfound != want->n)
        __builtin_trap(); /* an address lost or reported twice */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t seen = 0;
    size_t k = ww_addr_scan(data, size, on_found, &seen);
    if (k != seen)
        __builtin_trap();
    static rec want;
    want.n = 0;
    want.overflow = false;
    (void)ww_addr_scan(data, size, on_rec, &want);
    if (!want.overflow && size <= (1 << 15)) {
        uint32_t seed = size > 0 ? data[0] * 2654435761u : 1;
        chunked(data, size, seed, &want);
        chunked(data, size, seed ^ 0x5bd1e995u, &want);
    }
    for (int c = WW_CHAIN_NONE; c < WW_CHAIN_COUNT; c++) {
        ww_addr a;
        if (ww_addr_parse(&a, c, (const char *)data, size) == WW_OK &&
            (a.len >= WW_ADDR_TEXT_MAX || strlen(a.text) != a.len))
            __builtin_trap();
    }
    return 0;
}
