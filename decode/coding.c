/*
 * coding.c - HTTP content codings: gzip (RFC 1952), deflate (RFC 1950 zlib-wrapped, or raw
 * RFC 1951 as some servers send), br (RFC 7932), identity; stacked.
 *
 *   encoded bytes -> stage 0 (last coding applied) -> stage 1 -> ... -> out(ud, p, n)
 *
 * Each stage inflates into its own WW_CODING_CHUNK buffer with avail_out bounded by what the
 * caps still allow, so a bomb stops at the cap without producing (or allocating) more.
 * When the allowance reaches zero a 1-byte probe tells "exactly at the cap and finished"
 * from "more would come" (WW_E_TOOBIG).
 */
#include "decode/coding_int.h"

#include <brotli/decode.h>
#include <zlib.h>

typedef struct stage {
    uint8_t kind;
    bool inited;  /* z / br set up */
    bool done;    /* end of stream seen */
    uint8_t nsniff;
    uint8_t sniff[2]; /* deflate: first two bytes, to tell zlib from raw */
    z_stream z;
    BrotliDecoderState *br;
    size_t out_total;
    uint8_t buf[WW_CODING_CHUNK];
} stage;

struct ww_coding {
    const ww_mem *mem;
    size_t max_out, ratio;
    size_t total_in, total_out;
    int err; /* sticky */
    ww_coding_out_fn out;
    void *ud;
    size_t n;
    stage st[]; /* decode order: st[0] undoes the last coding applied */
};

const char *ww_coding_name(int kind)
{
    switch (kind) {
    case WW_CODING_IDENTITY:
        return "identity";
    case WW_CODING_GZIP:
        return "gzip";
    case WW_CODING_DEFLATE:
        return "deflate";
    case WW_CODING_BR:
        return "br";
    default:
        return "?";
    }
}

static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int ww_coding_parse_list(uint8_t *kinds, size_t *num, const char *s, size_t n, bool skip_chunked)
{
    size_t cap = *num, cnt = 0, i = 0;
    int rc = WW_OK;
    *num = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
            i++;
        if (i == n)
            break;
        size_t b = i;
        while (i < n && is_tchar((uint8_t)s[i]))
            i++;
        size_t e = i;
        /* transfer-coding parameters (";q=..") are skipped up to the next comma */
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i < n && s[i] == ';') {
            while (i < n && s[i] != ',')
                i++;
        } else if (i < n && s[i] != ',') {
            return WW_E_INVALID;
        }
        if (e == b)
            return WW_E_INVALID;
        int k;
        if (ww_ascii_ieq(s + b, e - b, "identity"))
            continue;
        if (skip_chunked && ww_ascii_ieq(s + b, e - b, "chunked"))
            continue;
        if (ww_ascii_ieq(s + b, e - b, "gzip") || ww_ascii_ieq(s + b, e - b, "x-gzip"))
            k = WW_CODING_GZIP;
        else if (ww_ascii_ieq(s + b, e - b, "deflate"))
            k = WW_CODING_DEFLATE;
        else if (ww_ascii_ieq(s + b, e - b, "br"))
            k = WW_CODING_BR;
        else {
            rc = WW_E_UNSUPPORTED;
            continue;
        }
        if (cnt == cap)
            return WW_E_TOOBIG;
        kinds[cnt++] = (uint8_t)k;
    }
    *num = cnt;
    return rc;
}

/* ---- allocator adapters ---- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    if (size != 0 && items > SIZE_MAX / size)
        return NULL;
    return ww_malloc((const ww_mem *)opaque, (size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    ww_free((const ww_mem *)opaque, p);
}

static void *br_alloc(void *opaque, size_t size)
{
    return ww_malloc((const ww_mem *)opaque, size);
}

static void br_free(void *opaque, void *p)
{
    ww_free((const ww_mem *)opaque, p);
}

ww_coding *ww_coding_new(const ww_mem *mem, const uint8_t *kinds, size_t n, size_t max_out,
                         size_t ratio)
{
    if (n > WW_CODING_MAX_STACK)
        return NULL;
    ww_coding *c = ww_calloc(mem, 1, sizeof(*c) + n * sizeof(stage));
    if (c == NULL)
        return NULL;
    c->mem = mem ? mem : ww_mem_default();
    c->max_out = max_out;
    c->ratio = ratio;
    c->n = n;
    for (size_t j = 0; j < n; j++) {
        stage *s = &c->st[j];
        s->kind = kinds[n - 1 - j];
        if (s->kind == WW_CODING_BR) {
            s->br = BrotliDecoderCreateInstance(br_alloc, br_free, (void *)c->mem);
            if (s->br == NULL) {
                ww_coding_free(c);
                return NULL;
            }
            s->inited = true;
        } else if (s->kind == WW_CODING_GZIP) {
            s->z.zalloc = z_alloc;
            s->z.zfree = z_free;
            s->z.opaque = (voidpf)c->mem;
            if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
                ww_coding_free(c);
                return NULL;
            }
            s->inited = true;
        } else if (s->kind != WW_CODING_DEFLATE) {
            s->done = true; /* identity: never used (parse_list drops it) */
        }
    }
    return c;
}

void ww_coding_free(ww_coding *c)
{
    if (c == NULL)
        return;
    for (size_t j = 0; j < c->n; j++) {
        stage *s = &c->st[j];
        if (!s->inited)
            continue;
        if (s->kind == WW_CODING_BR)
            BrotliDecoderDestroyInstance(s->br);
        else
            inflateEnd(&s->z);
    }
    ww_free(c->mem, c);
}

size_t ww_coding_total_in(const ww_coding *c)
{
    return c->total_in;
}

size_t ww_coding_total_out(const ww_coding *c)
{
    return c->total_out;
}

/* How many more bytes stage s may produce. */
static size_t allowance(const ww_coding *c, const stage *s)
{
    size_t lim = c->max_out;
    if (c->ratio > 0) {
        size_t r = SIZE_MAX;
        if (c->total_in <= (SIZE_MAX - WW_CODING_SLACK) / c->ratio)
            r = c->total_in * c->ratio + WW_CODING_SLACK;
        lim = WW_MIN(lim, r);
    }
    return s->out_total >= lim ? 0 : lim - s->out_total;
}

static int stage_feed(ww_coding *c, size_t i, const uint8_t *p, size_t n);

static int emit(ww_coding *c, size_t i, const uint8_t *p, size_t n)
{
    if (n == 0)
        return WW_OK;
    if (i + 1 < c->n)
        return stage_feed(c, i + 1, p, n);
    c->total_out += n;
    return c->out(c->ud, p, n);
}

static int zlib_run(ww_coding *c, size_t i, const uint8_t *p, size_t n)
{
    stage *s = &c->st[i];
    z_stream *z = &s->z;
    z->next_in = (Bytef *)(uintptr_t)p;
    z->avail_in = (uInt)n;
    for (;;) {
        if (s->done) {
            /* gzip: a further member follows; anything else after the end is ignored */
            if (z->avail_in > 0 && s->kind == WW_CODING_GZIP && z->next_in[0] == 0x1f) {
                if (inflateReset(z) != Z_OK)
                    return WW_E_INVALID;
                s->done = false;
                continue;
            }
            return WW_OK;
        }
        size_t cap = WW_MIN(allowance(c, s), (size_t)WW_CODING_CHUNK);
        uint8_t probe;
        bool probing = cap == 0;
        z->next_out = probing ? &probe : s->buf;
        z->avail_out = probing ? 1 : (uInt)cap;
        int ret = inflate(z, Z_NO_FLUSH);
        if (probing) {
            if (z->avail_out == 0)
                return WW_E_TOOBIG;
        } else {
            size_t produced = cap - z->avail_out;
            s->out_total += produced;
            int r = emit(c, i, s->buf, produced);
            if (r != WW_OK)
                return r;
        }
        if (ret == Z_STREAM_END) {
            s->done = true;
            continue;
        }
        if (ret == Z_BUF_ERROR)
            return WW_OK; /* needs more input */
        if (ret == Z_MEM_ERROR)
            return WW_E_NOMEM;
        if (ret != Z_OK)
            return WW_E_INVALID;
        if (z->avail_in == 0 && z->avail_out > 0)
            return WW_OK;
    }
}

static int br_run(ww_coding *c, size_t i, const uint8_t *p, size_t n)
{
    stage *s = &c->st[i];
    size_t avail_in = n;
    const uint8_t *next_in = p;
    for (;;) {
        if (s->done)
            return WW_OK; /* bytes after the end of the stream are ignored */
        size_t cap = WW_MIN(allowance(c, s), (size_t)WW_CODING_CHUNK);
        uint8_t probe;
        bool probing = cap == 0;
        uint8_t *next_out = probing ? &probe : s->buf;
        size_t avail_out = probing ? 1 : cap;
        BrotliDecoderResult r =
            BrotliDecoderDecompressStream(s->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        if (probing) {
            if (avail_out == 0)
                return WW_E_TOOBIG;
        } else {
            size_t produced = cap - avail_out;
            s->out_total += produced;
            int e = emit(c, i, s->buf, produced);
            if (e != WW_OK)
                return e;
        }
        switch (r) {
        case BROTLI_DECODER_RESULT_SUCCESS:
            s->done = true;
            break;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
            return WW_OK;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
            break;
        default: {
            BrotliDecoderErrorCode ec = BrotliDecoderGetErrorCode(s->br);
            return ec <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
                           ec >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES
                       ? WW_E_NOMEM
                       : WW_E_INVALID;
        }
        }
    }
}

/* RFC 1950: CM 8, CINFO <= 7, FCHECK makes the 16-bit header a multiple of 31. */
static bool looks_zlib(const uint8_t h[2])
{
    return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 && ((h[0] << 8) | h[1]) % 31 == 0;
}

static int stage_feed(ww_coding *c, size_t i, const uint8_t *p, size_t n)
{
    stage *s = &c->st[i];
    if (n == 0)
        return WW_OK;
    if (s->kind == WW_CODING_BR)
        return br_run(c, i, p, n);
    if (s->kind == WW_CODING_DEFLATE && !s->inited) {
        while (s->nsniff < 2 && n > 0) {
            s->sniff[s->nsniff++] = *p++;
            n--;
        }
        if (s->nsniff < 2)
            return WW_OK;
        s->z.zalloc = z_alloc;
        s->z.zfree = z_free;
        s->z.opaque = (voidpf)c->mem;
        int wbits = looks_zlib(s->sniff) ? MAX_WBITS : -MAX_WBITS;
        if (inflateInit2(&s->z, wbits) != Z_OK)
            return WW_E_NOMEM;
        s->inited = true;
        uint8_t hdr[2] = {s->sniff[0], s->sniff[1]};
        int r = zlib_run(c, i, hdr, 2);
        if (r != WW_OK)
            return r;
        if (n == 0)
            return WW_OK;
    }
    return zlib_run(c, i, p, n);
}

int ww_coding_feed(ww_coding *c, const uint8_t *p, size_t n, ww_coding_out_fn out, void *ud)
{
    if (c->err != WW_OK)
        return c->err;
    c->out = out;
    c->ud = ud;
    c->total_in = n > SIZE_MAX - c->total_in ? SIZE_MAX : c->total_in + n;
    int r;
    if (c->n == 0) {
        /* identity: the caps apply all the same */
        size_t allow = c->max_out > c->total_out ? c->max_out - c->total_out : 0;
        size_t take = WW_MIN(allow, n);
        r = WW_OK;
        while (take > 0 && r == WW_OK) {
            size_t k = WW_MIN(take, (size_t)WW_CODING_CHUNK);
            c->total_out += k;
            r = out(ud, p, k);
            p += k;
            take -= k;
        }
        if (r == WW_OK && allow < n)
            r = WW_E_TOOBIG;
    } else {
        r = stage_feed(c, 0, p, n);
    }
    c->err = r;
    return r;
}

int ww_coding_finish(ww_coding *c)
{
    if (c->err != WW_OK)
        return c->err;
    if (c->total_in == 0)
        return WW_OK; /* an empty body with a Content-Encoding */
    for (size_t j = 0; j < c->n; j++)
        if (!c->st[j].done)
            return WW_E_TRUNC;
    return WW_OK;
}

static int buf_sink(void *ud, const uint8_t *p, size_t n)
{
    return ww_buf_append((ww_buf *)ud, p, n);
}

int ww_coding_decode(const ww_mem *mem, const uint8_t *kinds, size_t nk, const uint8_t *in,
                     size_t n, size_t max_out, size_t ratio, ww_buf *out)
{
    ww_coding *c = ww_coding_new(mem, kinds, nk, max_out, ratio);
    if (c == NULL)
        return WW_E_NOMEM;
    int r = ww_coding_feed(c, in, n, buf_sink, out);
    if (r == WW_OK)
        r = ww_coding_finish(c);
    ww_coding_free(c);
    return r;
}
