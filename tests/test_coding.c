/* test_coding.c - content codings: round trips through zlib/libbrotlienc/libzstd fixtures made
 * here, every split point, stacked codings, corrupt and truncated streams, caps and bombs;
 * ISA-L's inflate against zlib's on many inputs. */
#include "decode/coding_int.h"
#include "tests/t.h"

#include <brotli/encode.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

/* ---- fixtures ---- */

/* wbits: 15 zlib, -15 raw deflate, 31 gzip. Caller frees. */
static uint8_t *z_compress(const uint8_t *in, size_t n, int wbits, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

static uint8_t *br_compress(const uint8_t *in, size_t n, size_t *out_len)
{
    size_t cap = BrotliEncoderMaxCompressedSize(n) + 64;
    uint8_t *out = malloc(cap);
    *out_len = cap;
    if (!BrotliEncoderCompress(9, 22, BROTLI_MODE_GENERIC, n, in, out_len, out)) {
        free(out);
        return NULL;
    }
    return out;
}

/* zstd with a content checksum; window_log 0 = the level's default. Caller frees. */
static uint8_t *zstd_compress(const uint8_t *in, size_t n, int window_log, size_t *out_len)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    if (window_log)
        ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, window_log);
    size_t cap = ZSTD_compressBound(n) + 64;
    uint8_t *out = malloc(cap);
    size_t r = ZSTD_compress2(cc, out, cap, in, n);
    ZSTD_freeCCtx(cc);
    if (ZSTD_isError(r)) {
        free(out);
        return NULL;
    }
    *out_len = r;
    return out;
}

/* zstd of `total` zero bytes, streamed (unknown content size, so the frame header keeps the
 * window_log given). */
static uint8_t *zstd_zeros(uint64_t total, int window_log, size_t *out_len)
{
    static uint8_t zeros[1 << 16];
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, window_log);
    size_t cap = (size_t)(total / 1000) + (1 << 20);
    uint8_t *out = malloc(cap);
    ZSTD_outBuffer ob = {out, cap, 0};
    uint64_t left = total;
    for (;;) {
        size_t k = left < sizeof zeros ? (size_t)left : sizeof zeros;
        left -= k;
        ZSTD_inBuffer ib = {zeros, k, 0};
        ZSTD_EndDirective e = left == 0 ? ZSTD_e_end : ZSTD_e_continue;
        size_t r;
        do
            r = ZSTD_compressStream2(cc, &ob, &ib, e);
        while (!ZSTD_isError(r) && (ib.pos < ib.size || (e == ZSTD_e_end && r != 0)));
        if (ZSTD_isError(r) || e == ZSTD_e_end)
            break;
    }
    ZSTD_freeCCtx(cc);
    *out_len = ob.pos;
    return out;
}

/* gzip of `total` zero bytes, compressed streaming (never holds the plain text). */
static uint8_t *gzip_zeros(uint64_t total, size_t *out_len)
{
    static uint8_t zeros[1 << 16];
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = (size_t)(total / 1000) + (1 << 16), len = 0;
    uint8_t *out = malloc(cap);
    uint64_t left = total;
    int flush;
    do {
        size_t k = left < sizeof zeros ? (size_t)left : sizeof zeros;
        left -= k;
        flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        z.next_in = zeros;
        z.avail_in = (uInt)k;
        do {
            if (cap - len < 4096) {
                cap *= 2;
                out = realloc(out, cap);
            }
            z.next_out = out + len;
            z.avail_out = (uInt)(cap - len);
            deflate(&z, flush);
            len = cap - z.avail_out;
        } while (z.avail_out == 0 || (flush == Z_FINISH && z.avail_in > 0));
    } while (flush != Z_FINISH);
    int r;
    while ((r = deflate(&z, Z_FINISH)) == Z_OK) {
        cap *= 2;
        out = realloc(out, cap);
        z.next_out = out + len;
        z.avail_out = (uInt)(cap - len);
        len = cap - z.avail_out;
    }
    deflateEnd(&z);
    *out_len = len;
    return out;
}

/* ---- a counting allocator: the peak of live bytes ---- */
static size_t live, peak;
typedef struct {
    size_t n;
    size_t pad;
} hdr_t;
static void *cm_malloc(size_t n, void *ud)
{
    (void)ud;
    hdr_t *h = malloc(sizeof(hdr_t) + n);
    if (h == NULL)
        return NULL;
    h->n = n;
    live += n;
    if (live > peak)
        peak = live;
    return h + 1;
}
static void cm_free(void *p, void *ud)
{
    (void)ud;
    if (p == NULL)
        return;
    hdr_t *h = (hdr_t *)p - 1;
    live -= h->n;
    free(h);
}
static void *cm_calloc(size_t a, size_t b, void *ud)
{
    void *p = cm_malloc(a * b, ud);
    if (p != NULL)
        memset(p, 0, a * b);
    return p;
}
static void *cm_realloc(void *p, size_t n, void *ud)
{
    if (p == NULL)
        return cm_malloc(n, ud);
    hdr_t *h = (hdr_t *)p - 1;
    void *q = cm_malloc(n, ud);
    if (q == NULL)
        return NULL;
    memcpy(q, p, h->n < n ? h->n : n);
    cm_free(p, ud);
    return q;
}
static const ww_mem counting_mem = {NULL, cm_malloc, cm_free, cm_calloc, cm_realloc};

/* ---- helpers ---- */

static uint8_t plain[6000];
static void make_plain(void)
{
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof plain; i++) {
        x = x * 1103515245u + 12345u;
        /* compressible but not trivial: JSON-ish text with noise */
        plain[i] = (i % 7 == 0) ? (uint8_t)('a' + (x >> 16) % 26) : (uint8_t)"{\"id\":1,"[i % 8];
    }
}

static int sink(void *ud, const uint8_t *p, size_t n)
{
    return ww_buf_append((ww_buf *)ud, p, n);
}

/* Decodes enc via kinds, fed split at `split` (0: whole; SIZE_MAX: byte by byte). */
static int decode_split_f(const uint8_t *kinds, size_t nk, const uint8_t *enc, size_t n,
                          size_t split, ww_buf *out, unsigned flags)
{
    ww_coding *c = ww_coding_new2(NULL, kinds, nk, 1 << 20, 100, flags);
    int r = WW_OK;
    if (c == NULL)
        return WW_E_NOMEM;
    if (split == SIZE_MAX) {
        for (size_t i = 0; i < n && r == WW_OK; i++)
            r = ww_coding_feed(c, t_guard(enc + i, 1), 1, sink, out);
    } else {
        size_t k = split > n ? n : split;
        r = ww_coding_feed(c, t_guard(enc, k), k, sink, out);
        if (r == WW_OK)
            r = ww_coding_feed(c, t_guard(enc + k, n - k), n - k, sink, out);
    }
    if (r == WW_OK)
        r = ww_coding_finish(c);
    ww_coding_free(c);
    return r;
}

static int decode_split(const uint8_t *kinds, size_t nk, const uint8_t *enc, size_t n,
                        size_t split, ww_buf *out)
{
    return decode_split_f(kinds, nk, enc, n, split, out, 0);
}

static void check_roundtrip(const uint8_t *kinds, size_t nk, const uint8_t *enc, size_t n,
                            const uint8_t *want, size_t want_n, size_t step)
{
    ww_buf out;
    ww_buf_init(&out, NULL, 1 << 20);
    int r = decode_split(kinds, nk, enc, n, SIZE_MAX, &out);
    T_EQ_INT(r, WW_OK);
    T_EQ_INT(out.len, want_n);
    T_CHECK(out.len == want_n && memcmp(out.data, want, want_n) == 0);
    bool all_ok = true;
    for (size_t k = 0; k <= n; k += step) {
        ww_buf_reset(&out);
        r = decode_split(kinds, nk, enc, n, k, &out);
        if (r != WW_OK || out.len != want_n || memcmp(out.data, want, want_n) != 0) {
            all_ok = false;
            t_fail_msg(__FILE__, __LINE__, "  split at %zu: r=%d len=%zu", k, r, out.len);
            break;
        }
    }
    T_CHECK(all_ok);
    ww_buf_free(&out);
}

/* ---- cases ---- */

T_CASE(coding_parse_list)
{
    uint8_t k[4];
    size_t n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "gzip", 4, false), WW_OK);
    T_EQ_INT(n, 1);
    T_EQ_INT(k[0], WW_CODING_GZIP);
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, " x-GZIP , identity,BR ", 22, false), WW_OK);
    T_EQ_INT(n, 2);
    T_EQ_INT(k[0], WW_CODING_GZIP);
    T_EQ_INT(k[1], WW_CODING_BR);
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "deflate, chunked", 16, true), WW_OK);
    T_EQ_INT(n, 1);
    T_EQ_INT(k[0], WW_CODING_DEFLATE);
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "zstd", 4, false), WW_OK);
    T_EQ_INT(n, 1);
    T_EQ_INT(k[0], WW_CODING_ZSTD);
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "gzip, ZSTD", 10, false), WW_OK);
    T_EQ_INT(n, 2);
    T_EQ_INT(k[0], WW_CODING_GZIP);
    T_EQ_INT(k[1], WW_CODING_ZSTD);
    /* Chromium's shared-dictionary codings: not decodable without the dictionary */
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "dcb", 3, false), WW_E_UNSUPPORTED);
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "dcz", 3, false), WW_E_UNSUPPORTED);
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "compress", 8, false), WW_E_UNSUPPORTED);
    T_EQ_STR(ww_coding_name(WW_CODING_ZSTD), "zstd");
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "", 0, false), WW_OK);
    T_EQ_INT(n, 0);
    n = 4;
    T_EQ_INT(ww_coding_parse_list(k, &n, "g zip", 5, false), WW_E_INVALID);
    n = 2;
    T_EQ_INT(ww_coding_parse_list(k, &n, "gzip,gzip,gzip", 14, false), WW_E_TOOBIG);
    T_EQ_STR(ww_coding_name(WW_CODING_BR), "br");
}

T_CASE(coding_roundtrips)
{
    make_plain();
    size_t n;
    static const uint8_t g[] = {WW_CODING_GZIP}, d[] = {WW_CODING_DEFLATE}, b[] = {WW_CODING_BR},
                         gb[] = {WW_CODING_GZIP, WW_CODING_BR};
    uint8_t *e = z_compress(plain, sizeof plain, 31, &n);
    T_CHECK(e != NULL);
    check_roundtrip(g, 1, e, n, plain, sizeof plain, 1);
    free(e);
    e = z_compress(plain, sizeof plain, 15, &n); /* zlib-wrapped deflate */
    check_roundtrip(d, 1, e, n, plain, sizeof plain, 1);
    free(e);
    e = z_compress(plain, sizeof plain, -15, &n); /* raw deflate */
    check_roundtrip(d, 1, e, n, plain, sizeof plain, 1);
    free(e);
    e = br_compress(plain, sizeof plain, &n);
    T_CHECK(e != NULL);
    check_roundtrip(b, 1, e, n, plain, sizeof plain, 1);
    free(e);
    /* "gzip, br": gzip applied first, then br */
    size_t n1, n2;
    uint8_t *e1 = z_compress(plain, sizeof plain, 31, &n1);
    uint8_t *e2 = br_compress(e1, n1, &n2);
    check_roundtrip(gb, 2, e2, n2, plain, sizeof plain, 1);
    free(e1);
    free(e2);
    /* identity (no stage) */
    check_roundtrip(NULL, 0, plain, 100, plain, 100, 1);
}

T_CASE(coding_gzip_multimember)
{
    size_t n1, n2;
    uint8_t *a = z_compress((const uint8_t *)"hello ", 6, 31, &n1);
    uint8_t *b = z_compress((const uint8_t *)"world", 5, 31, &n2);
    uint8_t *cat = malloc(n1 + n2);
    memcpy(cat, a, n1);
    memcpy(cat + n1, b, n2);
    static const uint8_t g[] = {WW_CODING_GZIP};
    check_roundtrip(g, 1, cat, n1 + n2, (const uint8_t *)"hello world", 11, 1);
    free(a);
    free(b);
    free(cat);
}

T_CASE(coding_corrupt_and_truncated)
{
    make_plain();
    size_t n;
    static const uint8_t g[] = {WW_CODING_GZIP}, b[] = {WW_CODING_BR}, d[] = {WW_CODING_DEFLATE};
    ww_buf out;
    ww_buf_init(&out, NULL, 1 << 20);
    uint8_t *e = z_compress(plain, sizeof plain, 31, &n);
    /* truncated at every length: TRUNC (or OK only for the whole), never a crash */
    bool ok = true;
    for (size_t k = 0; k < n; k++) {
        ww_buf_reset(&out);
        int r = ww_coding_decode(NULL, g, 1, t_guard(e, k), k, 1 << 20, 100, &out);
        if (r != (k == 0 ? WW_OK : WW_E_TRUNC))
            ok = false;
    }
    T_CHECK(ok);
    /* a flipped byte in the deflate data: INVALID (or a CRC error: also INVALID) */
    e[n / 2] ^= 0x55;
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, g, 1, e, n, 1 << 20, 100, &out), WW_E_INVALID);
    free(e);
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, b, 1, (const uint8_t *)"\xff\xff\xff\xff", 4, 1 << 20, 100,
                              &out),
             WW_E_INVALID);
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, g, 1, (const uint8_t *)"not gzip", 8, 1 << 20, 100, &out),
             WW_E_INVALID);
    ww_buf_reset(&out);
    /* one byte of deflate: cannot even tell zlib from raw */
    T_EQ_INT(ww_coding_decode(NULL, d, 1, (const uint8_t *)"\x78", 1, 1 << 20, 100, &out),
             WW_E_TRUNC);
    ww_buf_free(&out);
}

T_CASE(coding_cap_exact)
{
    static uint8_t data[5000];
    memset(data, 'x', sizeof data);
    static const uint8_t g[] = {WW_CODING_GZIP};
    size_t n;
    uint8_t *e = z_compress(data, sizeof data, 31, &n);
    ww_buf out;
    ww_buf_init(&out, NULL, 1 << 20);
    T_EQ_INT(ww_coding_decode(NULL, g, 1, e, n, 5000, 0, &out), WW_OK);
    T_EQ_INT(out.len, 5000);
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, g, 1, e, n, 4999, 0, &out), WW_E_TOOBIG);
    T_EQ_INT(out.len, 4999);
    free(e);
    /* identity obeys the cap too */
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, NULL, 0, data, 100, 60, 0, &out), WW_E_TOOBIG);
    T_EQ_INT(out.len, 60);
    ww_buf_free(&out);
}

/* 1 GiB of zeros, gzip: stopped at the cap, and the decoder never holds more than it. */
T_CASE(coding_gzip_bomb)
{
    size_t n = 0;
    uint8_t *e = gzip_zeros((uint64_t)1 << 30, &n);
    T_CHECK(e != NULL);
    T_CHECK(n < (2u << 20)); /* ~1 MB for 1 GiB */
    static const uint8_t g[] = {WW_CODING_GZIP};
    const size_t cap = 1 << 20;
    ww_buf out;
    live = peak = 0;
    ww_buf_init(&out, NULL, cap);
    int r = ww_coding_decode(&counting_mem, g, 1, e, n, cap, 0, &out);
    T_EQ_INT(r, WW_E_TOOBIG);
    T_EQ_INT(out.len, cap);
    T_CHECK(out.alloc <= cap); /* the output buffer never grew past the cap */
    /* the decoder itself: zlib state + window (~40 KiB) or ISA-L's state (~86 KiB), and one
     * 16 KiB chunk */
    size_t want_peak = ww_coding_have_isal() ? 128 * 1024 : 96 * 1024;
    T_CHECK(peak <= want_peak);
    if (peak > want_peak)
        t_fail_msg(__FILE__, __LINE__, "  peak %zu", peak);
    ww_buf_free(&out);
    T_EQ_INT(live, 0);

    /* the ratio cap, fed in 4 KiB pieces: decoded <= 100 * encoded-so-far + 1 MiB */
    ww_coding *c = ww_coding_new(NULL, g, 1, (size_t)1 << 30, 100);
    ww_buf_init(&out, NULL, (size_t)1 << 30);
    r = WW_OK;
    size_t fed = 0;
    while (fed < n && r == WW_OK) {
        size_t k = WW_MIN((size_t)4096, n - fed);
        r = ww_coding_feed(c, e + fed, k, sink, &out);
        fed += k;
        T_CHECK(out.len <= 100 * fed + WW_CODING_SLACK);
    }
    T_EQ_INT(r, WW_E_TOOBIG);
    T_CHECK(out.len < 200u << 20);
    T_EQ_INT(ww_coding_feed(c, e, 1, sink, &out), WW_E_TOOBIG); /* sticky */
    ww_coding_free(c);
    ww_buf_free(&out);
    free(e);
}

T_CASE(coding_br_bomb)
{
    size_t plain_n = 64u << 20, n = 0;
    uint8_t *z = calloc(1, plain_n);
    size_t cap = 1 << 20;
    uint8_t *e = malloc(cap);
    n = cap;
    T_CHECK(BrotliEncoderCompress(1, 22, BROTLI_MODE_GENERIC, plain_n, z, &n, e));
    free(z);
    static const uint8_t b[] = {WW_CODING_BR};
    ww_buf out;
    ww_buf_init(&out, NULL, 1 << 20);
    T_EQ_INT(ww_coding_decode(NULL, b, 1, e, n, 1 << 20, 0, &out), WW_E_TOOBIG);
    T_EQ_INT(out.len, 1 << 20);
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, b, 1, e, n, 1 << 30, 100, &out), WW_E_TOOBIG);
    T_CHECK(out.len <= 100 * n + WW_CODING_SLACK);
    ww_buf_free(&out);
    free(e);
}

/* ---- zstd ---- */

T_CASE(coding_zstd_roundtrips)
{
    make_plain();
    size_t n, n1, n2;
    static const uint8_t z[] = {WW_CODING_ZSTD}, gz[] = {WW_CODING_GZIP, WW_CODING_ZSTD},
                         zg[] = {WW_CODING_ZSTD, WW_CODING_GZIP};
    uint8_t *e = zstd_compress(plain, sizeof plain, 0, &n);
    T_CHECK(e != NULL);
    check_roundtrip(z, 1, e, n, plain, sizeof plain, 1);
    /* two frames and a skippable frame between them: one body */
    uint8_t *cat = malloc(2 * n + 12);
    memcpy(cat, e, n);
    static const uint8_t skip[12] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'p', 'a', 'd', '!'};
    memcpy(cat + n, skip, sizeof skip);
    memcpy(cat + n + sizeof skip, e, n);
    uint8_t *twice = malloc(2 * sizeof plain);
    memcpy(twice, plain, sizeof plain);
    memcpy(twice + sizeof plain, plain, sizeof plain);
    check_roundtrip(z, 1, cat, 2 * n + sizeof skip, twice, 2 * sizeof plain, 7);
    free(cat);
    free(twice);
    free(e);
    /* "gzip, zstd": gzip applied first, then zstd */
    uint8_t *e1 = z_compress(plain, sizeof plain, 31, &n1);
    uint8_t *e2 = zstd_compress(e1, n1, 0, &n2);
    check_roundtrip(gz, 2, e2, n2, plain, sizeof plain, 1);
    free(e1);
    free(e2);
    /* "zstd, gzip" */
    e1 = zstd_compress(plain, sizeof plain, 0, &n1);
    e2 = z_compress(e1, n1, 31, &n2);
    check_roundtrip(zg, 2, e2, n2, plain, sizeof plain, 1);
    free(e1);
    free(e2);
}

T_CASE(coding_zstd_corrupt_and_truncated)
{
    make_plain();
    size_t n;
    static const uint8_t z[] = {WW_CODING_ZSTD};
    ww_buf out;
    ww_buf_init(&out, NULL, 1 << 20);
    uint8_t *e = zstd_compress(plain, sizeof plain, 0, &n);
    bool ok = true;
    size_t bad = 0;
    for (size_t k = 0; k < n; k++) {
        ww_buf_reset(&out);
        int r = ww_coding_decode(NULL, z, 1, t_guard(e, k), k, 1 << 20, 100, &out);
        if (r != (k == 0 ? WW_OK : WW_E_TRUNC)) {
            ok = false;
            bad = k;
        }
    }
    T_CHECK(ok);
    if (!ok)
        t_fail_msg(__FILE__, __LINE__, "  truncated at %zu", bad);
    /* a flipped byte in the last block (the content checksum catches it) */
    e[n - 6] ^= 0x55;
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, z, 1, e, n, 1 << 20, 100, &out), WW_E_INVALID);
    /* not a zstd frame at all */
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, z, 1, (const uint8_t *)"not zstd", 8, 1 << 20, 100, &out),
             WW_E_INVALID);
    /* garbage after a good frame: INVALID, but the frame's bytes were delivered */
    e[n - 6] ^= 0x55;
    uint8_t *tail = malloc(n + 4);
    memcpy(tail, e, n);
    memcpy(tail + n, "junk", 4);
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, z, 1, tail, n + 4, 1 << 20, 100, &out), WW_E_INVALID);
    T_EQ_INT(out.len, sizeof plain);
    free(tail);
    free(e);
    ww_buf_free(&out);
}

/* 1 GiB of zeros, zstd: stopped at the caps, memory bounded by the frame's window. */
T_CASE(coding_zstd_bomb)
{
    size_t n = 0;
    uint8_t *e = zstd_zeros((uint64_t)1 << 30, 20, &n);
    T_CHECK(e != NULL && n > 0);
    T_CHECK(n < (1u << 20));
    static const uint8_t z[] = {WW_CODING_ZSTD};
    const size_t cap = 1 << 20;
    ww_buf out;
    live = peak = 0;
    ww_buf_init(&out, NULL, cap);
    T_EQ_INT(ww_coding_decode(&counting_mem, z, 1, e, n, cap, 0, &out), WW_E_TOOBIG);
    T_EQ_INT(out.len, cap);
    T_CHECK(out.alloc <= cap);
    /* window 1 MiB + zstd's context (~160 KiB) + one chunk */
    T_CHECK(peak <= (1u << 20) + 512 * 1024);
    if (peak > (1u << 20) + 512 * 1024)
        t_fail_msg(__FILE__, __LINE__, "  peak %zu", peak);
    ww_buf_free(&out);
    T_EQ_INT(live, 0);
    /* the ratio cap, fed in 1 KiB pieces */
    ww_coding *c = ww_coding_new(NULL, z, 1, (size_t)1 << 30, 100);
    ww_buf_init(&out, NULL, (size_t)1 << 30);
    int r = WW_OK;
    size_t fed = 0;
    bool within = true;
    while (fed < n && r == WW_OK) {
        size_t k = WW_MIN((size_t)1024, n - fed);
        r = ww_coding_feed(c, e + fed, k, sink, &out);
        fed += k;
        within = within && out.len <= 100 * fed + WW_CODING_SLACK;
    }
    T_CHECK(within);
    T_EQ_INT(r, WW_E_TOOBIG);
    T_EQ_INT(ww_coding_feed(c, e, 1, sink, &out), WW_E_TOOBIG); /* sticky */
    ww_coding_free(c);
    ww_buf_free(&out);
    free(e);
    /* stacked under gzip: the zstd bomb inside "zstd, gzip" stops at the same cap */
    size_t n2 = 0;
    uint8_t *g = z_compress(e = zstd_zeros((uint64_t)256 << 20, 20, &n), n, 31, &n2);
    static const uint8_t zg[] = {WW_CODING_ZSTD, WW_CODING_GZIP};
    ww_buf_init(&out, NULL, cap);
    T_EQ_INT(ww_coding_decode(NULL, zg, 2, g, n2, cap, 0, &out), WW_E_TOOBIG);
    T_EQ_INT(out.len, cap);
    ww_buf_free(&out);
    free(g);
    free(e);
}

/* RFC 9659: a frame asking for a window over 8 MiB is refused, not given 16 MiB. */
T_CASE(coding_zstd_window_too_big)
{
    size_t n = 0;
    uint8_t *e = zstd_zeros(32u << 20, 24, &n);
    T_CHECK(e != NULL);
    static const uint8_t z[] = {WW_CODING_ZSTD};
    ww_buf out;
    ww_buf_init(&out, NULL, 64u << 20);
    live = peak = 0;
    T_EQ_INT(ww_coding_decode(&counting_mem, z, 1, e, n, 64u << 20, 0, &out), WW_E_TOOBIG);
    T_EQ_INT(out.len, 0);
    T_CHECK(peak < (1u << 20));
    ww_buf_free(&out);
    free(e);
    /* 8 MiB exactly is accepted */
    e = zstd_zeros(16u << 20, 23, &n);
    ww_buf_init(&out, NULL, 64u << 20);
    T_EQ_INT(ww_coding_decode(NULL, z, 1, e, n, 64u << 20, 0, &out), WW_OK);
    T_EQ_INT(out.len, 16u << 20);
    ww_buf_free(&out);
    free(e);
}

/* ---- ISA-L against zlib ---- */

/* Decodes with ISA-L (flags 0) and zlib (WW_CODING_F_ZLIB); returns true when both give the same
 * result code and the same bytes. */
static bool same_as_zlib(const uint8_t *kinds, size_t nk, const uint8_t *e, size_t n, size_t split,
                         int *rc)
{
    ww_buf a, b;
    ww_buf_init(&a, NULL, 1 << 20);
    ww_buf_init(&b, NULL, 1 << 20);
    int ra = decode_split_f(kinds, nk, e, n, split, &a, 0);
    int rb = decode_split_f(kinds, nk, e, n, split, &b, WW_CODING_F_ZLIB);
    bool same = ra == rb && a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    *rc = ra;
    ww_buf_free(&a);
    ww_buf_free(&b);
    return same;
}

static uint32_t rnd_state = 1;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

T_CASE(coding_isal_equals_zlib)
{
    if (!ww_coding_have_isal())
        T_SKIP("built without libisal: gzip/deflate go through zlib only");
    static const uint8_t g[] = {WW_CODING_GZIP}, d[] = {WW_CODING_DEFLATE};
    static uint8_t in[200000];
    size_t cases = 0, mismatches = 0, not_ok = 0;
    for (int round = 0; round < 120; round++) {
        /* sizes from 0 to 200 KB, text of varying redundancy, levels 0..9, all three wrappers */
        size_t len = round < 40 ? (size_t)round * 3 : rnd() % sizeof in;
        unsigned alphabet = 2 + rnd() % 250;
        for (size_t i = 0; i < len; i++)
            in[i] = (i % 5 == 0 || rnd() % 4 == 0) ? (uint8_t)(rnd() % alphabet) : in[i / 2];
        int wbits = round % 3 == 0 ? 31 : round % 3 == 1 ? 15 : -15;
        z_stream z;
        memset(&z, 0, sizeof z);
        deflateInit2(&z, round % 10, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
        size_t cap = deflateBound(&z, (uLong)len) + 64, n;
        uint8_t *e = malloc(cap);
        z.next_in = in;
        z.avail_in = (uInt)len;
        z.next_out = e;
        z.avail_out = (uInt)cap;
        deflate(&z, Z_FINISH);
        n = cap - z.avail_out;
        deflateEnd(&z);
        const uint8_t *k = wbits == 31 ? g : d;
        int rc;
        /* every split point for the small ones, 50 for the rest; whole */
        size_t step = n <= 600 ? 1 : n / 50;
        for (size_t sp = 0; sp <= n; sp += step) {
            cases++;
            if (!same_as_zlib(k, 1, e, n, sp, &rc))
                mismatches++;
            else if (rc != WW_OK)
                not_ok++;
        }
        if (n <= 600) {
            cases++;
            if (!same_as_zlib(k, 1, e, n, SIZE_MAX, &rc)) /* byte by byte */
                mismatches++;
        }
        free(e);
    }
    T_EQ_INT(mismatches, 0);
    T_EQ_INT(not_ok, 0);
    T_CHECK(cases > 5000);
    /* the ISA-L path is the one taken by default */
    T_CHECK(ww_coding_have_isal());
}

T_CASE(coding_isal_checks_crc)
{
    if (!ww_coding_have_isal())
        T_SKIP("built without libisal");
    make_plain();
    size_t n;
    static const uint8_t g[] = {WW_CODING_GZIP}, d[] = {WW_CODING_DEFLATE};
    ww_buf out;
    ww_buf_init(&out, NULL, 1 << 20);
    uint8_t *e = z_compress(plain, sizeof plain, 31, &n);
    int rc;
    /* gzip trailer: CRC-32 at n-8, ISIZE at n-4: each flipped is caught, as zlib does */
    for (size_t at = n - 8; at < n; at++) {
        e[at] ^= 1;
        ww_buf_reset(&out);
        T_EQ_INT(ww_coding_decode(NULL, g, 1, e, n, 1 << 20, 100, &out), WW_E_INVALID);
        T_CHECK(same_as_zlib(g, 1, e, n, 0, &rc));
        e[at] ^= 1;
    }
    free(e);
    /* zlib wrapper: Adler-32 in the last 4 bytes */
    e = z_compress(plain, sizeof plain, 15, &n);
    e[n - 1] ^= 1;
    ww_buf_reset(&out);
    T_EQ_INT(ww_coding_decode(NULL, d, 1, e, n, 1 << 20, 100, &out), WW_E_INVALID);
    T_CHECK(same_as_zlib(d, 1, e, n, 0, &rc));
    free(e);
    /* multi-member gzip split at every byte: both engines agree */
    size_t n1, n2;
    uint8_t *a = z_compress(plain, 3000, 31, &n1);
    uint8_t *b = z_compress(plain + 3000, 3000, 31, &n2);
    uint8_t *cat = malloc(n1 + n2);
    memcpy(cat, a, n1);
    memcpy(cat + n1, b, n2);
    bool same = true;
    for (size_t sp = 0; sp <= n1 + n2; sp++)
        same = same && same_as_zlib(g, 1, cat, n1 + n2, sp, &rc) && rc == WW_OK;
    T_CHECK(same);
    free(a);
    free(b);
    free(cat);
    ww_buf_free(&out);
}
