/*
 * coding.c - HTTP content codings: gzip (RFC 1952), deflate (RFC 1950 zlib-wrapped, or raw
 * RFC 1951 as some servers send), br (RFC 7932), zstd (RFC 8878, RFC 9659), identity; stacked.
 *
 *   encoded bytes -> stage 0 (last coding applied) -> stage 1 -> ... -> out(ud, p, n)
 *
 * gzip and deflate go through ISA-L's igzip (isal_inflate, streaming; it checks the gzip CRC-32
 * and ISIZE, the zlib Adler-32) when the build found libisal (WW_HAVE_ISAL), zlib otherwise or
 * when the caller asks for it (WW_CODING_F_ZLIB). zstd goes through libzstd's streaming
 * decoder with the window capped at 8 MiB (RFC 9659: larger windows are refused).
 *
 * Output: each stage inflates into a WW_CODING_CHUNK buffer on the stack (at most
 * WW_CODING_MAX_STACK of them nested) with avail_out bounded by what the caps still allow, so a
 * bomb stops at the cap without producing (or allocating) more. What a stage wrote is handed
 * on (emit) before its next call, and every library keeps its own history window, so nothing
 * of it needs to outlive the call: a decoder waiting for its next packet holds only the
 * library's state, not a buffer of its own.
 * When the allowance reaches zero a 1-byte probe tells "exactly at the cap and finished"
 * from "more would come" (WW_E_TOOBIG).
 *
 * Memory of a decoder between two packets: this object (a few hundred bytes) and the
 * library's state, all through the caller's ww_mem: ISA-L's inflate_state (85 KiB, its window
 * inside), or zlib's state and 32 KiB window, brotli's state, tables and ring buffer (up to
 * the stream's window), zstd's context and window (at most 8 MiB, see below).
 */
#include "decode/coding_int.h"

#include <brotli/decode.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: the decoder allocates through ww_mem */
#include <zstd.h>
#include <zstd_errors.h>
#ifdef WW_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

/* RFC 9659 2: a zstd content coding uses a window of at most 8 MB; a larger frame is refused
 * rather than given that much memory. */
#define ZSTD_WINDOW_LOG_MAX 23

typedef struct stage {
    uint8_t kind;
    bool inited;  /* z / isal / br / zs set up */
    bool done;    /* end of stream seen */
    bool use_isal; /* gzip / deflate through ISA-L */
    uint8_t nsniff;
    uint8_t sniff[2]; /* deflate: first two bytes, to tell zlib from raw */
    int isal_wrapper;  /* ISAL_GZIP, ISAL_ZLIB or ISAL_DEFLATE */
    z_stream z;
#ifdef WW_HAVE_ISAL
    struct inflate_state *isal; /* ~90 KiB: allocated only for gzip / deflate stages */
#endif
    BrotliDecoderState *br;
    ZSTD_DStream *zs;
    size_t out_total;
} stage;

struct ww_coding {
    const ww_mem *mem;
    unsigned flags;
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
    case WW_CODING_ZSTD:
        return "zstd";
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
        else if (ww_ascii_ieq(s + b, e - b, "zstd"))
            k = WW_CODING_ZSTD;
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

voidpf ww_zalloc(voidpf opaque, uInt items, uInt size)
{
    if (size != 0 && items > SIZE_MAX / size)
        return NULL;
    return ww_malloc((const ww_mem *)opaque, (size_t)items * size);
}

void ww_zfree(voidpf opaque, voidpf p)
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

bool ww_coding_have_isal(void)
{
#ifdef WW_HAVE_ISAL
    return true;
#else
    return false;
#endif
}

/* Sets up a gzip / deflate stage's inflater (zlib window bits, or the ISA-L wrapper). */
static int inflater_init(ww_coding *c, stage *s, int wbits, int isal_wrapper)
{
#ifdef WW_HAVE_ISAL
    if (s->use_isal) {
        s->isal = ww_malloc(c->mem, sizeof(*s->isal));
        if (s->isal == NULL)
            return WW_E_NOMEM;
        isal_inflate_init(s->isal);
        s->isal->crc_flag = (uint32_t)isal_wrapper;
        s->isal_wrapper = isal_wrapper;
        s->inited = true;
        return WW_OK;
    }
#else
    (void)isal_wrapper;
#endif
    s->z.zalloc = ww_zalloc;
    s->z.zfree = ww_zfree;
    s->z.opaque = (voidpf)c->mem;
    if (inflateInit2(&s->z, wbits) != Z_OK)
        return WW_E_NOMEM;
    s->inited = true;
    return WW_OK;
}

ww_coding *ww_coding_new(const ww_mem *mem, const uint8_t *kinds, size_t n, size_t max_out,
                         size_t ratio)
{
    return ww_coding_new2(mem, kinds, n, max_out, ratio, 0);
}

ww_coding *ww_coding_new2(const ww_mem *mem, const uint8_t *kinds, size_t n, size_t max_out,
                          size_t ratio, unsigned flags)
{
    if (n > WW_CODING_MAX_STACK)
        return NULL;
    ww_coding *c = ww_calloc(mem, 1, sizeof(*c) + n * sizeof(stage));
    if (c == NULL)
        return NULL;
    c->mem = mem ? mem : ww_mem_default();
    c->flags = flags;
    c->max_out = max_out;
    c->ratio = ratio;
    c->n = n;
    for (size_t j = 0; j < n; j++) {
        stage *s = &c->st[j];
        s->kind = kinds[n - 1 - j];
        s->use_isal = ww_coding_have_isal() && !(flags & WW_CODING_F_ZLIB);
        if (s->kind == WW_CODING_ZSTD) {
            ZSTD_customMem cm = {br_alloc, br_free, (void *)c->mem};
            s->zs = ZSTD_createDStream_advanced(cm);
            if (s->zs == NULL ||
                ZSTD_isError(ZSTD_DCtx_setParameter(s->zs, ZSTD_d_windowLogMax,
                                                    ZSTD_WINDOW_LOG_MAX))) {
                ww_coding_free(c);
                return NULL;
            }
            s->inited = true;
            s->done = false;
        } else if (s->kind == WW_CODING_BR) {
            s->br = BrotliDecoderCreateInstance(br_alloc, br_free, (void *)c->mem);
            if (s->br == NULL) {
                ww_coding_free(c);
                return NULL;
            }
            s->inited = true;
        } else if (s->kind == WW_CODING_GZIP) {
#ifdef WW_HAVE_ISAL
            int wrapper = ISAL_GZIP;
#else
            int wrapper = 0;
#endif
            if (inflater_init(c, s, 16 + MAX_WBITS, wrapper) != WW_OK) {
                ww_coding_free(c);
                return NULL;
            }
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
        else if (s->kind == WW_CODING_ZSTD)
            ZSTD_freeDStream(s->zs);
#ifdef WW_HAVE_ISAL
        else if (s->use_isal)
            ww_free(c->mem, s->isal);
#endif
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
    uint8_t buf[WW_CODING_CHUNK]; /* see "Output" above */
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
        z->next_out = probing ? &probe : buf;
        z->avail_out = probing ? 1 : (uInt)cap;
        int ret = inflate(z, Z_NO_FLUSH);
        if (probing) {
            if (z->avail_out == 0)
                return WW_E_TOOBIG;
        } else {
            size_t produced = cap - z->avail_out;
            s->out_total += produced;
            int r = emit(c, i, buf, produced);
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

#ifdef WW_HAVE_ISAL
/*
 * The ISA-L twin of zlib_run. isal_inflate stops when the input is used up, the output is
 * full, or the stream ends (block_state ISAL_BLOCK_FINISH, after the gzip CRC-32 + ISIZE or
 * zlib Adler-32 trailer was checked); at the end it gives back the input bytes it had read
 * ahead, so a further gzip member starts at next_in.
 */
static int isal_run(ww_coding *c, size_t i, const uint8_t *p, size_t n)
{
    uint8_t buf[WW_CODING_CHUNK]; /* see "Output" above */
    stage *s = &c->st[i];
    struct inflate_state *z = s->isal;
    z->next_in = (uint8_t *)(uintptr_t)p;
    z->avail_in = (uint32_t)n;
    int stalls = 0;
    for (;;) {
        if (s->done) {
            if (z->avail_in > 0 && s->kind == WW_CODING_GZIP && z->next_in[0] == 0x1f) {
                uint8_t *next = z->next_in;
                uint32_t left = z->avail_in;
                isal_inflate_reset(z);
                z->crc_flag = (uint32_t)s->isal_wrapper;
                z->next_in = next;
                z->avail_in = left;
                s->done = false;
                continue;
            }
            return WW_OK;
        }
        size_t cap = WW_MIN(allowance(c, s), (size_t)WW_CODING_CHUNK);
        uint8_t probe;
        bool probing = cap == 0;
        uint32_t in_before = z->avail_in;
        z->next_out = probing ? &probe : buf;
        z->avail_out = probing ? 1 : (uint32_t)cap;
        int ret = isal_inflate(z);
        size_t produced = (probing ? 1 : cap) - z->avail_out;
        if (probing) {
            if (produced > 0)
                return WW_E_TOOBIG;
        } else {
            s->out_total += produced;
            int r = emit(c, i, buf, produced);
            if (r != WW_OK)
                return r;
        }
        if (ret != ISAL_DECOMP_OK)
            return WW_E_INVALID; /* a bad block, symbol, distance, wrapper or checksum */
        if (z->block_state == ISAL_BLOCK_FINISH) {
            s->done = true;
            continue;
        }
        if (z->avail_in == 0 && z->avail_out > 0)
            return WW_OK; /* needs more input */
        /* isal_inflate always moves when it has room and input; guard against a stall */
        if (produced == 0 && z->avail_in == in_before && ++stalls > 2)
            return WW_E_INTERNAL;
    }
}
#endif

/*
 * zstd: ZSTD_decompressStream returns 0 once a frame is decoded and flushed; a further frame
 * (or a skippable frame) after it is decoded as part of the same body.
 */
static int zstd_run(ww_coding *c, size_t i, const uint8_t *p, size_t n)
{
    uint8_t buf[WW_CODING_CHUNK]; /* see "Output" above */
    stage *s = &c->st[i];
    ZSTD_inBuffer in = {p, n, 0};
    for (;;) {
        size_t cap = WW_MIN(allowance(c, s), (size_t)WW_CODING_CHUNK);
        uint8_t probe;
        bool probing = cap == 0;
        ZSTD_outBuffer out = {probing ? &probe : buf, probing ? 1 : cap, 0};
        size_t in_before = in.pos;
        size_t ret = ZSTD_decompressStream(s->zs, &out, &in);
        if (probing) {
            if (out.pos > 0)
                return WW_E_TOOBIG;
        } else if (out.pos > 0) {
            s->out_total += out.pos;
            int r = emit(c, i, buf, out.pos);
            if (r != WW_OK)
                return r;
        }
        if (ZSTD_isError(ret)) {
            switch (ZSTD_getErrorCode(ret)) {
            case ZSTD_error_memory_allocation:
                return WW_E_NOMEM;
            case ZSTD_error_frameParameter_windowTooLarge:
                return WW_E_TOOBIG;
            default:
                return WW_E_INVALID;
            }
        }
        if (in.pos > in_before || out.pos > 0)
            s->done = ret == 0;
        if (in.pos == in.size && out.pos < out.size)
            return WW_OK; /* all input taken, all output flushed */
        if (in.pos == in_before && out.pos == 0)
            return WW_E_INTERNAL; /* no progress with room and input: never expected */
    }
}

static int br_run(ww_coding *c, size_t i, const uint8_t *p, size_t n)
{
    uint8_t buf[WW_CODING_CHUNK]; /* see "Output" above */
    stage *s = &c->st[i];
    size_t avail_in = n;
    const uint8_t *next_in = p;
    for (;;) {
        if (s->done)
            return WW_OK; /* bytes after the end of the stream are ignored */
        size_t cap = WW_MIN(allowance(c, s), (size_t)WW_CODING_CHUNK);
        uint8_t probe;
        bool probing = cap == 0;
        uint8_t *next_out = probing ? &probe : buf;
        size_t avail_out = probing ? 1 : cap;
        BrotliDecoderResult r =
            BrotliDecoderDecompressStream(s->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        if (probing) {
            if (avail_out == 0)
                return WW_E_TOOBIG;
        } else {
            size_t produced = cap - avail_out;
            s->out_total += produced;
            int e = emit(c, i, buf, produced);
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
    if (s->kind == WW_CODING_ZSTD)
        return zstd_run(c, i, p, n);
    if (s->kind == WW_CODING_DEFLATE && !s->inited) {
        while (s->nsniff < 2 && n > 0) {
            s->sniff[s->nsniff++] = *p++;
            n--;
        }
        if (s->nsniff < 2)
            return WW_OK;
        bool zl = looks_zlib(s->sniff);
#ifdef WW_HAVE_ISAL
        int wrapper = zl ? ISAL_ZLIB : ISAL_DEFLATE;
#else
        int wrapper = 0;
#endif
        int r = inflater_init(c, s, zl ? MAX_WBITS : -MAX_WBITS, wrapper);
        if (r != WW_OK)
            return r;
        uint8_t hdr[2] = {s->sniff[0], s->sniff[1]};
        r = stage_feed(c, i, hdr, 2);
        if (r != WW_OK)
            return r;
        if (n == 0)
            return WW_OK;
    }
#ifdef WW_HAVE_ISAL
    if (s->use_isal) {
        /* zlib rejects a wrong gzip magic at once; ISA-L waits for the whole 10-byte header */
        for (size_t j = 0; s->kind == WW_CODING_GZIP && s->nsniff < 2 && j < n; j++)
            if (p[j] != (s->nsniff++ == 0 ? 0x1f : 0x8b))
                return WW_E_INVALID;
        return isal_run(c, i, p, n);
    }
#endif
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
