/*
 * h3.c - HTTP/3 (RFC 9114) passive decoder over the reassembled streams of one QUIC
 * connection; header blocks through nghttp3's QPACK decoder (RFC 9204). See decode/quic.h.
 *
 *   frame (RFC 9114 7.1):  | Type (i) | Length (i) | Frame Payload (Length bytes) |
 *   unidirectional stream: | Stream Type (i) | ... |  0x00 control (SETTINGS first),
 *                          0x01 push (Push ID, then frames), 0x02 QPACK encoder,
 *                          0x03 QPACK decoder; any other type (grease) is skipped
 *
 * Per stream and direction a small frame-header state machine (type and length varints
 * gathered across chunks); HEADERS payloads are gathered (capped at max_header_bytes) and
 * decoded with the QPACK decoder of the sending side (two decoders, one per direction; each
 * one's dynamic table is driven by that side's encoder stream). A header block that needs
 * encoder instructions not seen yet is blocked: it, and the stream's bytes after it (capped),
 * wait and are retried each time that encoder stream moves on. DATA goes to the body stage
 * of the HTTP message layer (ww_hm_body in decode/httpmsg.c, the one HTTP/2 uses: want_body /
 * stream_body policy, content codings, caps, the streaming window). Requests and
 * responses pair by stream id; a message is complete at FIN, truncated at a reset or at close.
 *
 * Errors: a header block QPACK cannot decode (a reference to an entry that does not exist...)
 * is an anomaly and only its stream is dropped; a broken encoder stream poisons that direction
 * (its later header blocks cannot be trusted); a frame not allowed where it is, an oversized
 * block, or a truncated frame is an anomaly on its stream.
 */
#include "decode/httpmsg_int.h"
#include "decode/quic.h"

#include <nghttp3/nghttp3.h>
#include <stdarg.h>

enum {
    H3_DATA = 0x00,
    H3_HEADERS = 0x01,
    H3_CANCEL_PUSH = 0x03,
    H3_SETTINGS = 0x04,
    H3_PUSH_PROMISE = 0x05,
    H3_GOAWAY = 0x07,
    H3_MAX_PUSH_ID = 0x0d
};
enum { U_CONTROL = 0x00, U_PUSH = 0x01, U_ENCODER = 0x02, U_DECODER = 0x03 };
enum hfield { F_METHOD, F_PATH, F_AUTH, F_CTYPE, F_CENC, F_COUNT };

#define H3_MAX_TABLE (256 * 1024) /* largest QPACK table capacity honoured */
#define H3_MAX_BLOCKED 64
#define H3_PENDING_MAX (256 * 1024) /* stream bytes held behind a blocked header block */
#define SETTINGS_MAX 4096

/* One direction of one request stream: a request (TOSERVER) or a response (TOCLIENT). */
typedef struct h3_half {
    bool headers_done, ended, delivered, dead;
    bool truncated; /* the stream ended inside a frame */
    int status;
    int64_t clen;
    int32_t off[F_COUNT];
    ww_buf meta;
    ww_hm_body b; /* the body stage (decode/httpmsg.c), shared with HTTP/2 */
    /* frame parser */
    uint8_t fh[16];
    uint8_t fh_len;
    bool in_frame;
    uint64_t ftype, fleft;
    ww_buf block; /* HEADERS (or SETTINGS) payload being gathered */
    /* QPACK: a blocked header block and the stream bytes after it */
    nghttp3_qpack_stream_context *sctx;
    bool blocked;
    bool block_is_trailer;
    ww_buf pending;
    bool pending_fin;
} h3_half;

typedef struct h3_stream {
    uint64_t id;
    uint64_t seq;
    bool uni;
    int64_t utype; /* uni: stream type, -1 until read */
    bool push_id_read;
    bool settings_seen;
    h3_half half[2];
} h3_stream;

struct ww_h3 {
    const ww_mem *mem;
    nghttp3_mem nmem;
    ww_app_cfg cfg;
    ww_h3_cbs cbs;
    nghttp3_qpack_decoder *dec[2]; /* decodes what direction d sends */
    bool dec_dead[2];
    size_t dec_cap[2]; /* the QPACK_MAX_TABLE_CAPACITY applied to dec[d] */
    h3_stream **streams;
    size_t nstreams;
    uint64_t seq;
    bool poisoned;
    ww_h3_stats st;
    size_t list_bytes;
    bool list_over;
};

static const ww_app_cfg h3_default_cfg = {
    .max_header_bytes = 64 * 1024,
    .max_body_bytes = 8 * 1024 * 1024,
    .max_decoded_ratio = 100,
    .json_max_depth = 64,
    .hash_bodies = false,
};

static const char *dname(int dir)
{
    return dir == WW_DIR_TOSERVER ? "client" : "server";
}

static void anom(ww_h3 *h, const char *type, const char *fmt, ...) WW_PRINTF(3, 4);
static void anom(ww_h3 *h, const char *type, const char *fmt, ...)
{
    char d[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    h->st.anomalies++;
    if (h->cbs.anomaly != NULL)
        h->cbs.anomaly(h->cbs.ud, type, d);
}

/* nghttp3's allocator over ww_mem (same signatures) */
static void *n_malloc(size_t n, void *ud)
{
    return ww_malloc(ud, n);
}
static void n_free(void *p, void *ud)
{
    ww_free(ud, p);
}
static void *n_calloc(size_t a, size_t b, void *ud)
{
    return ww_calloc(ud, a, b);
}
static void *n_realloc(void *p, size_t n, void *ud)
{
    return ww_realloc(ud, p, n);
}

/* RFC 9000 16: the length of a varint from its first byte */
static size_t vlen(uint8_t b)
{
    return (size_t)1 << (b >> 6);
}
static uint64_t vget(const uint8_t *p)
{
    uint64_t v = p[0] & 0x3f;
    for (size_t i = 1; i < vlen(p[0]); i++)
        v = (v << 8) | p[i];
    return v;
}

/* ---- streams ---- */

static void half_init(h3_half *x, const ww_h3 *h)
{
    memset(x, 0, sizeof *x);
    ww_buf_init(&x->meta, h->mem, h->cfg.max_header_bytes + 64);
    ww_buf_init(&x->b.body, h->mem, h->cfg.max_body_bytes);
    ww_buf_init(&x->block, h->mem, h->cfg.max_header_bytes);
    ww_buf_init(&x->pending, h->mem, H3_PENDING_MAX);
    for (int f = 0; f < F_COUNT; f++)
        x->off[f] = -1;
    x->clen = -1;
}

static void half_free(ww_h3 *h, h3_half *x, uint64_t id, int dir)
{
    if (x->blocked && h->dec[dir] != NULL && !h->dec_dead[dir])
        (void)nghttp3_qpack_decoder_cancel_stream(h->dec[dir], (int64_t)id);
    if (x->sctx != NULL)
        nghttp3_qpack_stream_context_del(x->sctx);
    x->sctx = NULL;
    ww_hm_body_release(&x->b);
    ww_buf_free(&x->meta);
    ww_buf_free(&x->block);
    ww_buf_free(&x->pending);
}

static const char *hstr(const h3_half *x, int f)
{
    return x->off[f] < 0 ? NULL : (const char *)x->meta.data + x->off[f];
}

static void meta_put(h3_half *x, int f, const uint8_t *p, size_t n)
{
    size_t o = x->meta.len;
    if (o > INT32_MAX || ww_buf_append(&x->meta, p, n) != WW_OK ||
        ww_buf_append(&x->meta, "", 1) != WW_OK) {
        x->meta.len = o;
        return;
    }
    x->off[f] = (int32_t)o;
}

static h3_stream *stream_find(ww_h3 *h, uint64_t id)
{
    for (size_t i = 0; i < h->nstreams; i++)
        if (h->streams[i]->id == id)
            return h->streams[i];
    return NULL;
}

static void stream_remove(ww_h3 *h, h3_stream *s)
{
    for (size_t i = 0; i < h->nstreams; i++) {
        if (h->streams[i] == s) {
            h->streams[i] = h->streams[--h->nstreams];
            break;
        }
    }
    half_free(h, &s->half[0], s->id, 0);
    half_free(h, &s->half[1], s->id, 1);
    ww_free(h->mem, s);
}

static void deliver(ww_h3 *h, h3_stream *s, int dir, uint64_t ts, bool truncated);

static h3_stream *stream_new(ww_h3 *h, uint64_t id, uint64_t ts)
{
    if (h->nstreams >= WW_H3_MAX_STREAMS) {
        /* the oldest stream that is not a control or QPACK stream (those live as long as
         * the connection and carry its state) */
        size_t oldest = SIZE_MAX;
        for (size_t i = 0; i < h->nstreams; i++) {
            const h3_stream *c = h->streams[i];
            bool critical =
                c->uni && (c->utype == U_CONTROL || c->utype == U_ENCODER || c->utype == U_DECODER);
            if (!critical && (oldest == SIZE_MAX || c->seq < h->streams[oldest]->seq))
                oldest = i;
        }
        if (oldest == SIZE_MAX)
            return NULL;
        h3_stream *o = h->streams[oldest];
        anom(h, "h3-too-many-streams", "over %d open streams: stream %llu dropped",
             WW_H3_MAX_STREAMS, (unsigned long long)o->id);
        if (!o->uni) {
            deliver(h, o, WW_DIR_TOSERVER, ts, true);
            deliver(h, o, WW_DIR_TOCLIENT, ts, true);
        }
        stream_remove(h, o);
    }
    h3_stream *s = ww_calloc(h->mem, 1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->id = id;
    s->seq = h->seq++;
    s->uni = (id & 2) != 0;
    s->utype = -1;
    half_init(&s->half[0], h);
    half_init(&s->half[1], h);
    h->streams[h->nstreams++] = s;
    h->st.streams++;
    return s;
}

/* ---- messages (as decode/h2.c) ---- */

static void build_msg(const h3_stream *s, int dir, ww_http_msg *m)
{
    const h3_half *rq = &s->half[WW_DIR_TOSERVER];
    const h3_half *x = &s->half[dir];
    memset(m, 0, sizeof *m);
    m->is_request = dir == WW_DIR_TOSERVER;
    m->method = hstr(rq, F_METHOD);
    m->url = hstr(rq, F_PATH);
    m->host = hstr(rq, F_AUTH);
    m->version = "HTTP/3";
    m->status = m->is_request ? 0 : x->status;
    m->content_type = hstr(x, F_CTYPE);
    m->content_encoding = hstr(x, F_CENC);
    m->content_length = x->clen;
    m->body_len = -1;
    m->stream_id = (uint32_t)s->id;
}

/* How the body stage (decode/httpmsg.c) reaches this connection for a message of s. */
static void body_io(ww_h3 *h, const h3_stream *s, int dir, ww_hm_body_io *io, char label[32])
{
    snprintf(label, 32, "stream %llu", (unsigned long long)s->id);
    *io = (ww_hm_body_io){h->mem,          &h->cfg,           h->cbs.ud,
                          h->cbs.want_body, h->cbs.stream_body, h->cbs.body_chunk,
                          h->cbs.anomaly,   &h->st.anomalies,  &h->st.bodies_undecodable,
                          label,            dname(dir)};
}

static void deliver(ww_h3 *h, h3_stream *s, int dir, uint64_t ts, bool truncated)
{
    h3_half *x = &s->half[dir];
    ww_http_msg m;
    ww_hm_body_io io;
    char label[32];
    if (!x->headers_done || x->delivered)
        return;
    x->delivered = true;
    body_io(h, s, dir, &io, label);
    build_msg(s, dir, &m);
    if (ww_hm_body_end(&x->b, &io, &m, truncated)) {
        if (x->b.keep) {
            h->st.bodies_kept++;
        } else {
            h->st.bodies_skipped++;
            h->st.body_bytes_skipped += x->b.raw_len;
        }
    }
    if (m.is_request)
        h->st.requests++;
    else
        h->st.responses++;
    if (h->cbs.message != NULL)
        h->cbs.message(h->cbs.ud, &m, s->id, ts);
    ww_hm_body_release(&x->b);
}

static void half_end(ww_h3 *h, h3_stream *s, int dir, uint64_t ts, bool truncated)
{
    h3_half *x = &s->half[dir];
    if (x->ended)
        return;
    x->ended = true;
    deliver(h, s, dir, ts, truncated);
    if (s->half[0].ended && s->half[1].ended)
        stream_remove(h, s);
}

static void body_data(ww_h3 *h, h3_stream *s, int dir, const uint8_t *p, size_t n)
{
    ww_hm_body_io io;
    ww_http_msg m;
    char label[32];
    body_io(h, s, dir, &io, label);
    build_msg(s, dir, &m);
    ww_hm_body_data(&s->half[dir].b, &io, &m, p, n);
}

static void setup_body(ww_h3 *h, h3_stream *s, int dir)
{
    ww_hm_body_io io;
    ww_http_msg m;
    char label[32];
    body_io(h, s, dir, &io, label);
    build_msg(s, dir, &m);
    ww_hm_body_setup(&s->half[dir].b, &io, &m);
}

/* ---- header fields ---- */

static bool nameq(const uint8_t *n, size_t nl, const char *lit)
{
    size_t k = strlen(lit);
    return nl == k && memcmp(n, lit, k) == 0;
}

static int64_t parse_clen(const uint8_t *p, size_t n)
{
    int64_t v = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static void take_field(ww_h3 *h, uint64_t sid, int dir, h3_half *x, const uint8_t *n, size_t nl,
                       const uint8_t *v, size_t vl)
{
    h->list_bytes += nl + vl + 32;
    if (h->list_bytes > h->cfg.max_header_bytes) {
        h->list_over = true;
        return;
    }
    if (h->cbs.field != NULL)
        h->cbs.field(h->cbs.ud, sid, dir, n, nl, v, vl);
    if (x == NULL)
        return;
    int f = -1;
    if (nl > 0 && n[0] == ':') {
        if (nameq(n, nl, ":method"))
            f = F_METHOD;
        else if (nameq(n, nl, ":path"))
            f = F_PATH;
        else if (nameq(n, nl, ":authority"))
            f = F_AUTH;
        else if (nameq(n, nl, ":status")) {
            int st = 0;
            for (size_t i = 0; i < vl && i < 3; i++)
                st = st * 10 + (v[i] >= '0' && v[i] <= '9' ? v[i] - '0' : 0);
            x->status = st;
            return;
        }
    } else if (nameq(n, nl, "content-type")) {
        f = F_CTYPE;
    } else if (nameq(n, nl, "content-encoding")) {
        f = F_CENC;
    } else if (nameq(n, nl, "host") && x->off[F_AUTH] < 0) {
        f = F_AUTH;
    } else if (nameq(n, nl, "content-length")) {
        x->clen = parse_clen(v, vl);
        return;
    }
    if (f >= 0 && x->off[f] < 0)
        meta_put(x, f, v, vl);
}

/*
 * nghttp3 keeps a decoder that failed a header block in an error state (QPACK errors are
 * connection errors, RFC 9204 2.2). Passively we go on: a fresh decoder replaces it when its
 * dynamic table was still empty (nothing is lost: static-only blocks decode as before);
 * otherwise the table is gone and the direction is poisoned (later blocks: anomaly).
 */
static void decoder_lost(ww_h3 *h, int dir)
{
    nghttp3_qpack_decoder *fresh = NULL;
    if (h->dec_dead[dir])
        return;
    if (nghttp3_qpack_decoder_get_icnt(h->dec[dir]) == 0 &&
        nghttp3_qpack_decoder_new(&fresh, H3_MAX_TABLE, H3_MAX_BLOCKED, &h->nmem) == 0) {
        nghttp3_qpack_decoder_set_max_dtable_capacity(fresh, h->dec_cap[dir]);
        /* streams blocked on the old decoder cannot come free on the new one */
        for (size_t i = 0; i < h->nstreams; i++) {
            h3_half *x = &h->streams[i]->half[dir];
            if (x->blocked) {
                x->blocked = false;
                x->dead = true;
                if (x->sctx != NULL)
                    nghttp3_qpack_stream_context_del(x->sctx);
                x->sctx = NULL;
            }
        }
        nghttp3_qpack_decoder_del(h->dec[dir]);
        h->dec[dir] = fresh;
        return;
    }
    anom(h, "qpack-table-lost",
         "%s QPACK dynamic table lost: later header blocks of that side "
         "are not decoded",
         dname(dir));
    h->dec_dead[dir] = true;
    h->poisoned = true;
}

/*
 * Decodes x->block (a whole HEADERS payload) with dir's QPACK decoder.
 * Returns 1 done, 0 blocked (x->block keeps what is left), -1 failed (anomaly reported).
 */
static int decode_block(ww_h3 *h, h3_stream *s, int dir, uint64_t ts)
{
    h3_half *x = &s->half[dir];
    (void)ts;
    if (h->dec_dead[dir]) {
        anom(h, "qpack-error", "stream %llu: %s header block not decoded (encoder stream broken)",
             (unsigned long long)s->id, dname(dir));
        return -1;
    }
    if (x->sctx == NULL &&
        nghttp3_qpack_stream_context_new(&x->sctx, (int64_t)s->id, &h->nmem) != 0) {
        anom(h, "out-of-memory", "stream %llu: no QPACK context", (unsigned long long)s->id);
        return -1;
    }
    if (!x->blocked) {
        h->list_bytes = 0;
        h->list_over = false;
    }
    h3_half *fx = x->block_is_trailer ? NULL : x;
    const uint8_t *in = x->block.data;
    size_t left = x->block.len;
    static const uint8_t empty[1];
    if (in == NULL)
        in = empty;
    for (;;) {
        nghttp3_qpack_nv nv;
        uint8_t flags = 0;
        nghttp3_ssize rv =
            nghttp3_qpack_decoder_read_request(h->dec[dir], x->sctx, &nv, &flags, in, left, 1);
        if (rv < 0) {
            anom(h, "qpack-error", "stream %llu %s header block: %s", (unsigned long long)s->id,
                 dname(dir), nghttp3_strerror((int)rv));
            x->blocked = false;
            nghttp3_qpack_stream_context_del(x->sctx);
            x->sctx = NULL;
            decoder_lost(h, dir);
            return -1;
        }
        in += rv;
        left -= (size_t)rv;
        if (flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT) {
            nghttp3_vec nm = nghttp3_rcbuf_get_buf(nv.name);
            nghttp3_vec vv = nghttp3_rcbuf_get_buf(nv.value);
            take_field(h, s->id, dir, fx, nm.base, nm.len, vv.base, vv.len);
            nghttp3_rcbuf_decref(nv.name);
            nghttp3_rcbuf_decref(nv.value);
        }
        if (flags & NGHTTP3_QPACK_DECODE_FLAG_FINAL) {
            x->blocked = false;
            nghttp3_qpack_stream_context_reset(x->sctx);
            ww_buf_reset(&x->block);
            if (h->list_over)
                anom(h, "header-list-too-big", "stream %llu: fields over %zu bytes dropped",
                     (unsigned long long)s->id, h->cfg.max_header_bytes);
            return 1;
        }
        if (flags & NGHTTP3_QPACK_DECODE_FLAG_BLOCKED) {
            if (!x->blocked)
                h->st.qpack_blocked++;
            x->blocked = true;
            ww_buf_consume(&x->block, x->block.len - left);
            return 0;
        }
        if (left == 0 && !(flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT)) {
            anom(h, "qpack-error", "stream %llu: header block ends inside a field",
                 (unsigned long long)s->id);
            nghttp3_qpack_stream_context_reset(x->sctx);
            return -1;
        }
    }
}

/* A HEADERS frame's block was decoded (or failed): what it means for the message. */
static void headers_done(ww_h3 *h, h3_stream *s, int dir, int rc, uint64_t ts)
{
    h3_half *x = &s->half[dir];
    if (rc < 0) {
        x->dead = true; /* this direction of the stream is not decoded further */
        return;
    }
    if (x->block_is_trailer)
        return;
    if (dir == WW_DIR_TOCLIENT && x->status >= 100 && x->status < 200) {
        ww_buf_reset(&x->meta); /* interim response: the real one follows */
        for (int f = 0; f < F_COUNT; f++)
            x->off[f] = -1;
        x->clen = -1;
        x->status = 0;
        return;
    }
    x->headers_done = true;
    setup_body(h, s, dir);
    (void)ts;
}

/* ---- control stream ---- */

static void settings(ww_h3 *h, int dir, const uint8_t *p, size_t n)
{
    ww_rd r = ww_rd_init(p, n);
    while (ww_rd_left(&r) > 0) {
        uint64_t id = 0, v = 0;
        size_t l = vlen(r.p[0]);
        if (ww_rd_left(&r) < l)
            goto bad;
        id = vget(r.p);
        r.p += l;
        if (ww_rd_left(&r) < 1 || ww_rd_left(&r) < vlen(r.p[0]))
            goto bad;
        v = vget(r.p);
        r.p += vlen(r.p[0]);
        if (id == 0x01) { /* QPACK_MAX_TABLE_CAPACITY: of dir's decoder, i.e. the peer's blocks */
            int peer = 1 - dir;
            if (v > H3_MAX_TABLE) {
                anom(h, "qpack-table-too-big", "%s allows a QPACK table of %llu bytes (cap %d)",
                     dname(dir), (unsigned long long)v, H3_MAX_TABLE);
                v = H3_MAX_TABLE;
            }
            h->dec_cap[peer] = (size_t)v;
            nghttp3_qpack_decoder_set_max_dtable_capacity(h->dec[peer], (size_t)v);
        }
    }
    return;
bad:
    anom(h, "h3-bad-settings", "%s SETTINGS frame malformed", dname(dir));
}

/* ---- frames ---- */

static bool frame_allowed_on_request(uint64_t type)
{
    return type != H3_SETTINGS && type != H3_GOAWAY && type != H3_MAX_PUSH_ID &&
           type != H3_CANCEL_PUSH && type != 0x02 && type != 0x06 && type != 0x08 && type != 0x09;
}

/* The frame sequence of a request stream or a control stream (ctl) of direction dir. */
static void frames(ww_h3 *h, h3_stream *s, int dir, const uint8_t *p, size_t n, bool fin,
                   uint64_t ts, bool ctl)
{
    h3_half *x = &s->half[dir];
    while (n > 0 && !x->dead) {
        if (x->blocked) {
            /* bytes after a blocked header block wait for it */
            if (ww_buf_append(&x->pending, p, n) != WW_OK) {
                anom(h, "qpack-blocked-too-long",
                     "stream %llu: over %d bytes behind a blocked "
                     "header block",
                     (unsigned long long)s->id, H3_PENDING_MAX);
                x->dead = true;
            }
            x->pending_fin = x->pending_fin || fin;
            return;
        }
        if (!x->in_frame) {
            /* gather the type and length varints */
            x->fh[x->fh_len++] = *p++;
            n--;
            size_t tl = vlen(x->fh[0]);
            if (x->fh_len < tl + 1)
                continue;
            size_t ll = vlen(x->fh[tl]);
            if (x->fh_len < tl + ll)
                continue;
            x->ftype = vget(x->fh);
            x->fleft = vget(x->fh + tl);
            x->fh_len = 0;
            x->in_frame = true;
            h->st.frames++;
            if (ctl) {
                if (!s->settings_seen && x->ftype != H3_SETTINGS) {
                    anom(h, "h3-missing-settings",
                         "%s control stream does not start with "
                         "SETTINGS",
                         dname(dir));
                }
                if (x->ftype == H3_DATA || x->ftype == H3_HEADERS || x->ftype == H3_PUSH_PROMISE) {
                    anom(h, "h3-frame-unexpected", "frame 0x%llx on the %s control stream",
                         (unsigned long long)x->ftype, dname(dir));
                    x->dead = true;
                    return;
                }
                if (x->ftype == H3_SETTINGS && x->fleft > SETTINGS_MAX) {
                    anom(h, "h3-bad-settings", "SETTINGS of %llu bytes",
                         (unsigned long long)x->fleft);
                    x->dead = true;
                    return;
                }
                if (x->ftype == H3_SETTINGS)
                    s->settings_seen = true;
            } else if (!frame_allowed_on_request(x->ftype) ||
                       (x->ftype == H3_PUSH_PROMISE && dir == WW_DIR_TOSERVER)) {
                anom(h, "h3-frame-unexpected", "frame 0x%llx on request stream %llu",
                     (unsigned long long)x->ftype, (unsigned long long)s->id);
                x->dead = true;
                return;
            } else if (x->ftype == H3_HEADERS) {
                if (x->fleft > h->cfg.max_header_bytes) {
                    anom(h, "header-block-too-big", "stream %llu %s HEADERS of %llu bytes",
                         (unsigned long long)s->id, dname(dir), (unsigned long long)x->fleft);
                    x->dead = true;
                    return;
                }
                x->block_is_trailer = x->headers_done;
                ww_buf_reset(&x->block);
            } else if (x->ftype == H3_DATA && !x->headers_done) {
                anom(h, "h3-frame-unexpected", "DATA before HEADERS on stream %llu",
                     (unsigned long long)s->id);
                x->dead = true;
                return;
            }
            if (x->fleft > 0)
                continue;
        }
        size_t take = (size_t)WW_MIN((uint64_t)n, x->fleft);
        bool gather = x->ftype == H3_HEADERS || (ctl && x->ftype == H3_SETTINGS);
        if (gather) {
            if (ww_buf_append(&x->block, p, take) != WW_OK) {
                anom(h, "out-of-memory", "stream %llu header block", (unsigned long long)s->id);
                x->dead = true;
                return;
            }
        } else if (x->ftype == H3_DATA && !ctl) {
            body_data(h, s, dir, p, take);
        }
        /* anything else (PUSH_PROMISE, GOAWAY, MAX_PUSH_ID, grease) is skipped */
        p += take;
        n -= take;
        x->fleft -= take;
        if (x->fleft > 0)
            continue;
        x->in_frame = false;
        if (ctl && x->ftype == H3_SETTINGS) {
            settings(h, dir, x->block.data, x->block.len);
            ww_buf_reset(&x->block);
        } else if (x->ftype == H3_HEADERS) {
            int rc = decode_block(h, s, dir, ts);
            if (rc != 0)
                headers_done(h, s, dir, rc, ts);
        }
    }
    if (fin && !x->blocked) {
        if (x->in_frame || x->fh_len > 0) {
            anom(h, "h3-frame-truncated", "stream %llu %s: FIN inside a frame",
                 (unsigned long long)s->id, dname(dir));
            x->truncated = true;
        }
        if (ctl)
            anom(h, "h3-control-closed", "%s control stream closed", dname(dir));
        else
            half_end(h, s, dir, ts, x->truncated || x->dead);
    } else if (fin) {
        x->pending_fin = true;
    }
}

/* Re-tries header blocks of dir's streams that waited for encoder instructions. */
static void unblock(ww_h3 *h, int dir, uint64_t ts)
{
    for (size_t i = 0; i < h->nstreams; i++) {
        h3_stream *s = h->streams[i];
        h3_half *x = &s->half[dir];
        if (!x->blocked)
            continue;
        int rc = decode_block(h, s, dir, ts);
        if (rc == 0)
            continue;
        headers_done(h, s, dir, rc, ts);
        /* the bytes that waited behind it; the stream may go away in here */
        ww_buf pend = x->pending;
        bool pfin = x->pending_fin;
        ww_buf_init(&x->pending, h->mem, H3_PENDING_MAX);
        x->pending_fin = false;
        size_t before = h->nstreams;
        if (pend.len > 0 || pfin)
            frames(h, s, dir, pend.data, pend.len, pfin, ts, false);
        ww_buf_free(&pend);
        if (h->nstreams != before)
            i = (size_t)-1; /* the list changed: start over (blocked flags are cleared) */
    }
}

static void uni_bytes(ww_h3 *h, h3_stream *s, int dir, const uint8_t *p, size_t n, bool fin,
                      uint64_t ts)
{
    h3_half *x = &s->half[dir];
    if (s->utype < 0) {
        while (n > 0 && s->utype < 0) {
            x->fh[x->fh_len++] = *p++;
            n--;
            if (x->fh_len == vlen(x->fh[0])) {
                s->utype = (int64_t)vget(x->fh);
                x->fh_len = 0;
                if (s->utype == U_CONTROL || s->utype == U_ENCODER || s->utype == U_DECODER) {
                    /* one of each per side (RFC 9114 6.2.1, RFC 9204 4.2) */
                    for (size_t i = 0; i < h->nstreams; i++) {
                        h3_stream *o = h->streams[i];
                        if (o != s && o->uni && o->utype == s->utype &&
                            ((o->id & 1) == (s->id & 1))) {
                            anom(h, "h3-duplicate-stream", "a second %s stream of type %lld",
                                 dname(dir), (long long)s->utype);
                            x->dead = true;
                        }
                    }
                }
            }
        }
        if (s->utype < 0)
            return;
    }
    if (x->dead)
        return;
    switch (s->utype) {
    case U_CONTROL:
        frames(h, s, dir, p, n, fin, ts, true);
        break;
    case U_ENCODER:
        if (n > 0 && !h->dec_dead[dir]) {
            nghttp3_ssize rv = nghttp3_qpack_decoder_read_encoder(h->dec[dir], p, n);
            if (rv < 0) {
                anom(h, "qpack-error", "%s encoder stream: %s", dname(dir),
                     nghttp3_strerror((int)rv));
                h->dec_dead[dir] = true;
                h->poisoned = true;
                /* header blocks waiting for it never come free */
                for (size_t i = 0; i < h->nstreams; i++)
                    if (h->streams[i]->half[dir].blocked) {
                        h->streams[i]->half[dir].blocked = false;
                        h->streams[i]->half[dir].dead = true;
                    }
            } else {
                unblock(h, dir, ts);
            }
        }
        break;
    case U_PUSH:
    case U_DECODER:
    default:
        break; /* push responses, decoder acks and grease are not decoded */
    }
}

/* ---- API ---- */

void ww_h3_stream_data(ww_h3 *h, int dir, uint64_t stream_id, const uint8_t *p, size_t n, bool fin,
                       uint64_t ts_us)
{
    WW_ASSERT(h != NULL && (dir == 0 || dir == 1));
    h3_stream *s = stream_find(h, stream_id);
    if (s == NULL) {
        s = stream_new(h, stream_id, ts_us);
        if (s == NULL) {
            anom(h, "out-of-memory", "stream %llu not decoded", (unsigned long long)stream_id);
            return;
        }
        if (!s->uni && (stream_id & 1)) {
            anom(h, "h3-bad-stream", "server-initiated bidirectional stream %llu",
                 (unsigned long long)stream_id);
            s->half[0].dead = s->half[1].dead = true;
        }
    }
    if (s->uni)
        uni_bytes(h, s, dir, p, n, fin, ts_us);
    else if (!s->half[dir].ended)
        frames(h, s, dir, p, n, fin, ts_us, false);
}

void ww_h3_stream_reset(ww_h3 *h, int dir, uint64_t stream_id, uint64_t ts_us)
{
    WW_ASSERT(h != NULL);
    h3_stream *s = stream_find(h, stream_id);
    if (s == NULL)
        return;
    if (s->uni) {
        if (s->utype == U_CONTROL || s->utype == U_ENCODER)
            anom(h, "h3-critical-stream-reset", "%s %s stream reset", dname(dir),
                 s->utype == U_CONTROL ? "control" : "QPACK encoder");
        if (s->utype == U_ENCODER)
            h->dec_dead[dir] = true;
        stream_remove(h, s);
        return;
    }
    half_end(h, s, dir, ts_us, true);
}

void ww_h3_close(ww_h3 *h, uint64_t ts_us)
{
    WW_ASSERT(h != NULL);
    while (h->nstreams > 0) {
        h3_stream *s = h->streams[0];
        if (!s->uni) {
            deliver(h, s, WW_DIR_TOSERVER, ts_us, !s->half[0].ended);
            deliver(h, s, WW_DIR_TOCLIENT, ts_us, !s->half[1].ended);
        }
        stream_remove(h, s);
    }
}

ww_h3 *ww_h3_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_h3_cbs *cbs)
{
    ww_h3 *h = ww_calloc(mem, 1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->mem = mem;
    h->nmem.user_data = (void *)(uintptr_t)mem;
    h->nmem.malloc = n_malloc;
    h->nmem.free = n_free;
    h->nmem.calloc = n_calloc;
    h->nmem.realloc = n_realloc;
    h->cfg = cfg != NULL ? *cfg : h3_default_cfg;
    if (h->cfg.max_header_bytes == 0)
        h->cfg.max_header_bytes = h3_default_cfg.max_header_bytes;
    if (h->cfg.max_body_bytes == 0)
        h->cfg.max_body_bytes = h3_default_cfg.max_body_bytes;
    if (h->cfg.max_scan_bytes == 0)
        h->cfg.max_scan_bytes = WW_HTTP_MAX_SCAN_BYTES;
    if (cbs != NULL)
        h->cbs = *cbs;
    h->streams = ww_calloc(mem, WW_H3_MAX_STREAMS, sizeof *h->streams);
    if (h->streams == NULL ||
        nghttp3_qpack_decoder_new(&h->dec[0], H3_MAX_TABLE, H3_MAX_BLOCKED, &h->nmem) != 0 ||
        nghttp3_qpack_decoder_new(&h->dec[1], H3_MAX_TABLE, H3_MAX_BLOCKED, &h->nmem) != 0) {
        ww_h3_free(h);
        return NULL;
    }
    return h;
}

void ww_h3_free(ww_h3 *h)
{
    if (h == NULL)
        return;
    while (h->nstreams > 0)
        stream_remove(h, h->streams[0]);
    ww_free(h->mem, h->streams);
    for (int i = 0; i < 2; i++)
        if (h->dec[i] != NULL)
            nghttp3_qpack_decoder_del(h->dec[i]);
    ww_free(h->mem, h);
}

bool ww_h3_poisoned(const ww_h3 *h)
{
    return h->poisoned;
}

const ww_h3_stats *ww_h3_stats_get(const ww_h3 *h)
{
    return &h->st;
}
