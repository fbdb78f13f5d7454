/*
 * h2.c - HTTP/2 (RFC 9113) passive decoder: frames, HPACK (RFC 7541, nghttp2's inflater),
 * streams, bodies. See h2_int.h for the contract and the frame layout.
 *
 * Per direction: [preface] then frames. A frame's 9-byte header is buffered; then its payload
 * is either gathered (HEADERS, CONTINUATION, PUSH_PROMISE, SETTINGS, RST_STREAM: capped),
 * streamed (DATA: padding stripped on the fly, bytes go to the stream's body or tunnel, or are
 * only counted), or skipped (PING, PRIORITY, WINDOW_UPDATE, GOAWAY, unknown types).
 */
#include "decode/anom_int.h"
#include "decode/httpmsg_int.h"
#include "decode/h2_int.h"
#include "decode/coding_int.h"

#include <nghttp2/nghttp2.h>
#include <stdarg.h>

enum { T_DATA = 0, T_HEADERS, T_PRIORITY, T_RST, T_SETTINGS, T_PUSH, T_PING, T_GOAWAY,
       T_WINDOW, T_CONT };
enum { FL_END_STREAM = 0x1, FL_ACK = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8,
       FL_PRIORITY = 0x20 };
enum { M_HDR = 0, M_GATHER, M_SKIP, M_DATA };
enum hfield {
    F_METHOD, F_PATH, F_AUTH, F_CTYPE, F_CENC, F_PROTOCOL, F_WSEXT,
    F_LOCATION, F_CLOCATION, F_LINK, /* response headers that may name addresses */
    F_COUNT
};

#define SETTINGS_GATHER_MAX 4096
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

/* One direction of one stream: a request (TOSERVER) or a response (TOCLIENT). */
typedef struct h2_half {
    bool headers_done; /* the message's header block was decoded */
    bool ended;        /* END_STREAM seen (or delivered) */
    bool delivered;
    int status;
    int64_t clen;
    int32_t off[F_COUNT]; /* offsets of NUL-terminated values in meta; -1 when absent */
    ww_buf meta;
    ww_hm_body b; /* the body stage (decode/httpmsg.c) */
} h2_half;

typedef struct h2_stream {
    uint32_t id;
    uint64_t seq;  /* age, for dropping the oldest */
    bool reset_by_server; /* the server reset it; the request half still takes DATA */
    void *tunnel;  /* extended CONNECT accepted */
    h2_half half[2];
} h2_stream;

typedef struct h2_dir {
    int dir;
    size_t preface_left; /* bytes of the client preface still to check */
    int mode;
    uint8_t hdr[9];
    size_t hlen;
    uint32_t flen, sid;
    uint8_t type, flags;
    size_t left;         /* payload bytes of the current frame still to come */
    /* DATA streaming */
    bool need_padlen;
    size_t pad_left;     /* trailing padding of the current DATA frame */
    h2_stream *dstream;  /* NULL: skipped */
    size_t dpart;        /* bytes of the current DATA frame given to dstream's body */
    ww_buf fbuf;         /* gathered frame payload */
    ww_buf hblock;       /* header block across HEADERS/PUSH_PROMISE + CONTINUATION */
    bool in_block;       /* expecting CONTINUATION */
    uint32_t block_sid;
    uint8_t block_flags; /* flags of the frame that opened the block */
    uint8_t block_type;
    uint32_t promised;   /* PUSH_PROMISE: promised stream id */
    nghttp2_hd_inflater *inf; /* decodes what this direction sends */
    bool pending_table;  /* this direction sent SETTINGS_HEADER_TABLE_SIZE, not yet acked */
    uint32_t pending_table_size;
} h2_dir;

struct ww_h2 {
    const ww_mem *mem;
    ww_app_cfg cfg;
    ww_h2_cbs cbs;
    h2_dir d[2];
    h2_stream **streams; /* WW_H2_MAX_STREAMS slots, NULL = free */
    size_t nstreams;
    uint64_t seq;
    uint32_t max_client_sid;
    bool poisoned;
    ww_h2_stats st;
    /* header list being decoded */
    size_t list_bytes;
    bool list_over;
    uint32_t list_sid;
};

/* an anomaly of this connection, counted (detail printf-formatted) */
#define anom(h, type, ...)                                                                         \
    ww_anomf((h)->cbs.anomaly, (h)->cbs.ud, &(h)->st.anomalies, 256, (type), __VA_ARGS__)

static void poison(ww_h2 *h, const char *type, const char *fmt, ...) WW_PRINTF(3, 4);
static void poison(ww_h2 *h, const char *type, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    if (h->poisoned)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    h->poisoned = true;
    anom(h, type, "%s; connection abandoned", detail);
}

static const char *dname(int dir)
{
    return dir == WW_DIR_TOSERVER ? "client" : "server";
}

/* ---- streams ---- */

static void half_init(h2_half *x, const ww_h2 *h)
{
    memset(x, 0, sizeof(*x));
    ww_buf_init(&x->meta, h->mem, h->cfg.max_header_bytes + 64);
    ww_buf_init(&x->b.body, h->mem, h->cfg.max_body_bytes);
    for (int f = 0; f < F_COUNT; f++)
        x->off[f] = -1;
    x->clen = -1;
}

static void half_free(h2_half *x)
{
    ww_hm_body_release(&x->b);
    ww_buf_free(&x->meta);
}

static const char *hstr(const h2_half *x, int f)
{
    return x->off[f] < 0 ? NULL : (const char *)x->meta.data + x->off[f];
}

static void meta_put(h2_half *x, int f, const uint8_t *p, size_t n)
{
    size_t o = x->meta.len;
    if (o > INT32_MAX || ww_buf_append(&x->meta, p, n) != WW_OK ||
        ww_buf_append(&x->meta, "", 1) != WW_OK) {
        x->meta.len = o;
        return;
    }
    x->off[f] = (int32_t)o;
}

static h2_stream *stream_find(ww_h2 *h, uint32_t id)
{
    for (size_t i = 0; i < h->nstreams; i++)
        if (h->streams[i]->id == id)
            return h->streams[i];
    return NULL;
}

static void stream_free(ww_h2 *h, h2_stream *s)
{
    if (s->tunnel != NULL && h->cbs.tunnel_close != NULL)
        h->cbs.tunnel_close(h->cbs.ud, s->tunnel);
    half_free(&s->half[0]);
    half_free(&s->half[1]);
    ww_free(h->mem, s);
}

static void stream_remove(ww_h2 *h, h2_stream *s)
{
    for (size_t i = 0; i < h->nstreams; i++) {
        if (h->streams[i] == s) {
            h->streams[i] = h->streams[--h->nstreams];
            break;
        }
    }
    for (int k = 0; k < 2; k++)
        if (h->d[k].dstream == s)
            h->d[k].dstream = NULL;
    stream_free(h, s);
}

static void deliver(ww_h2 *h, h2_stream *s, int dir, uint64_t ts, bool truncated);

static h2_stream *stream_new(ww_h2 *h, uint32_t id, uint64_t ts)
{
    if (h->nstreams >= WW_H2_MAX_STREAMS) {
        size_t oldest = 0;
        for (size_t i = 1; i < h->nstreams; i++)
            if (h->streams[i]->seq < h->streams[oldest]->seq)
                oldest = i;
        h2_stream *o = h->streams[oldest];
        anom(h, "h2-too-many-streams", "over %d open streams: stream %u dropped",
             WW_H2_MAX_STREAMS, o->id);
        deliver(h, o, WW_DIR_TOSERVER, ts, true);
        deliver(h, o, WW_DIR_TOCLIENT, ts, true);
        stream_remove(h, o);
    }
    h2_stream *s = ww_calloc(h->mem, 1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->id = id;
    s->seq = h->seq++;
    half_init(&s->half[0], h);
    half_init(&s->half[1], h);
    h->streams[h->nstreams++] = s;
    h->st.streams++;
    return s;
}

/* ---- messages ---- */

static void build_msg(const h2_stream *s, int dir, ww_http_msg *m)
{
    const h2_half *rq = &s->half[WW_DIR_TOSERVER];
    const h2_half *x = &s->half[dir];
    memset(m, 0, sizeof(*m));
    m->is_request = dir == WW_DIR_TOSERVER;
    m->method = hstr(rq, F_METHOD);
    m->url = hstr(rq, F_PATH);
    m->host = hstr(rq, F_AUTH);
    m->version = "HTTP/2";
    m->status = m->is_request ? 0 : x->status;
    m->content_type = hstr(x, F_CTYPE);
    m->location = hstr(x, F_LOCATION);
    m->content_location = hstr(x, F_CLOCATION);
    m->link = hstr(x, F_LINK);
    m->content_encoding = hstr(x, F_CENC);
    m->content_length = x->clen;
    m->body_len = -1;
    m->stream_id = s->id;
}

/* How the body stage (decode/httpmsg.c) reaches this connection for a message of s. */
static void body_io(ww_h2 *h, const h2_stream *s, int dir, ww_hm_body_io *io, char label[24])
{
    snprintf(label, 24, "stream %u", s->id);
    *io = (ww_hm_body_io){h->mem,          &h->cfg,           h->cbs.ud,
                          h->cbs.want_body, h->cbs.stream_body, h->cbs.body_chunk,
                          h->cbs.anomaly,   &h->st.anomalies,  &h->st.bodies_undecodable,
                          label,            dname(dir)};
}

static void deliver(ww_h2 *h, h2_stream *s, int dir, uint64_t ts, bool truncated)
{
    h2_half *x = &s->half[dir];
    ww_http_msg m;
    ww_hm_body_io io;
    char label[24];
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
    /* the body is not needed any more; the request's meta is (for the response) */
    ww_hm_body_release(&x->b);
}

/* A direction of a stream ended: deliver, and drop the stream when both are done. */
static void half_end(ww_h2 *h, h2_stream *s, int dir, uint64_t ts)
{
    s->half[dir].ended = true;
    if (s->tunnel == NULL)
        deliver(h, s, dir, ts, false);
    if (s->half[0].ended && s->half[1].ended)
        stream_remove(h, s);
}

static void body_data(ww_h2 *h, h2_stream *s, int dir, const uint8_t *p, size_t n,
                      uint64_t ts)
{
    ww_hm_body_io io;
    ww_http_msg m;
    char label[24];
    if (s->tunnel != NULL) {
        if (h->cbs.tunnel_data != NULL && n > 0)
            h->cbs.tunnel_data(h->cbs.ud, s->tunnel, dir, p, n, ts);
        return;
    }
    body_io(h, s, dir, &io, label);
    build_msg(s, dir, &m);
    ww_hm_body_data(&s->half[dir].b, &io, &m, p, n);
}

/* ---- header blocks ---- */

static bool nameq(const nghttp2_nv *nv, const char *lit)
{
    size_t n = strlen(lit);
    return nv->namelen == n && memcmp(nv->name, lit, n) == 0;
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

/* One decoded header field into x (NULL: decoded for HPACK sync only). */
static void take_field(ww_h2 *h, int dir, h2_half *x, const nghttp2_nv *nv)
{
    size_t add = nv->namelen + nv->valuelen + 32; /* RFC 7541 4.1 entry size */
    h->list_bytes += add;
    if (h->list_bytes > h->cfg.max_header_bytes) {
        h->list_over = true;
        return;
    }
    if (h->cbs.field != NULL)
        h->cbs.field(h->cbs.ud, h->list_sid, dir, nv->name, nv->namelen, nv->value, nv->valuelen);
    if (x == NULL)
        return;
    int f = -1;
    if (nv->namelen > 0 && nv->name[0] == ':') {
        if (nameq(nv, ":method"))
            f = F_METHOD;
        else if (nameq(nv, ":path"))
            f = F_PATH;
        else if (nameq(nv, ":authority"))
            f = F_AUTH;
        else if (nameq(nv, ":protocol"))
            f = F_PROTOCOL;
        else if (nameq(nv, ":status")) {
            int st = 0;
            for (size_t i = 0; i < nv->valuelen && i < 3; i++)
                st = st * 10 + (nv->value[i] >= '0' && nv->value[i] <= '9' ? nv->value[i] - '0' : 0);
            x->status = st;
            return;
        }
    } else if (nameq(nv, "content-type")) {
        f = F_CTYPE;
    } else if (nameq(nv, "content-encoding")) {
        f = F_CENC;
    } else if (nameq(nv, "sec-websocket-extensions")) {
        f = F_WSEXT;
    } else if (nameq(nv, "location")) {
        f = F_LOCATION;
    } else if (nameq(nv, "content-location")) {
        f = F_CLOCATION;
    } else if (nameq(nv, "link")) {
        f = F_LINK;
    } else if (nameq(nv, "host") && x->off[F_AUTH] < 0) {
        f = F_AUTH;
    } else if (nameq(nv, "content-length")) {
        x->clen = parse_clen(nv->value, nv->valuelen);
        return;
    }
    if (f >= 0 && x->off[f] < 0)
        meta_put(x, f, nv->value, nv->valuelen);
}

/*
 * Decodes a whole header block with dir's inflater; fields go to x (NULL: sync only).
 * Returns WW_OK, or WW_E_INVALID after poisoning the connection.
 */
static int inflate_block(ww_h2 *h, h2_dir *d, h2_half *x, const uint8_t *in, size_t n)
{
    h->list_bytes = 0;
    h->list_over = false;
    h->list_sid = d->block_type == T_PUSH ? d->promised : d->block_sid;
    for (;;) {
        nghttp2_nv nv;
        int fl = 0;
        ssize_t rv = nghttp2_hd_inflate_hd2(d->inf, &nv, &fl, in, n, 1);
        if (rv < 0) {
            poison(h, "hpack-error", "%s header block: %s", dname(d->dir),
                   nghttp2_strerror((int)rv));
            return WW_E_INVALID;
        }
        if (rv > 0) { /* in may be NULL for an empty block: NULL + 0 is undefined */
            in += rv;
            n -= (size_t)rv;
        }
        if (fl & NGHTTP2_HD_INFLATE_EMIT)
            take_field(h, d->dir, x, &nv);
        if (fl & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(d->inf);
            break;
        }
        if (n == 0 && !(fl & NGHTTP2_HD_INFLATE_EMIT)) {
            poison(h, "hpack-error", "%s header block ends inside a field", dname(d->dir));
            return WW_E_INVALID;
        }
    }
    if (h->list_over)
        anom(h, "header-list-too-big", "%s header list over %zu bytes (decoded): fields dropped",
             dname(d->dir), h->cfg.max_header_bytes);
    return WW_OK;
}

static void setup_body(ww_h2 *h, h2_stream *s, int dir)
{
    ww_hm_body_io io;
    ww_http_msg m;
    char label[24];
    body_io(h, s, dir, &io, label);
    build_msg(s, dir, &m);
    ww_hm_body_setup(&s->half[dir].b, &io, &m);
}

static void tunnel_check(ww_h2 *h, h2_stream *s)
{
    const h2_half *rq = &s->half[WW_DIR_TOSERVER], *rs = &s->half[WW_DIR_TOCLIENT];
    const char *meth = hstr(rq, F_METHOD), *proto = hstr(rq, F_PROTOCOL);
    if (meth == NULL || proto == NULL || strcmp(meth, "CONNECT") != 0 || rs->status < 200 ||
        rs->status > 299 || h->cbs.tunnel_open == NULL)
        return;
    ww_http_msg req;
    build_msg(s, WW_DIR_TOSERVER, &req);
    s->tunnel = h->cbs.tunnel_open(h->cbs.ud, s->id, proto, hstr(rs, F_WSEXT), &req);
}

/* A complete header block of dir for stream sid (flags of its first frame). */
static void block_done(ww_h2 *h, h2_dir *d, uint64_t ts)
{
    int dir = d->dir;
    uint32_t sid = d->block_sid;
    bool end_stream = (d->block_flags & FL_END_STREAM) != 0;
    const uint8_t *in = d->hblock.data;
    size_t n = d->hblock.len;

    if (d->block_type == T_PUSH) {
        /* a promised request: decoded into the promised stream, half-closed (no body) */
        h2_stream *ps = NULL;
        if (dir == WW_DIR_TOCLIENT && d->promised != 0 && stream_find(h, d->promised) == NULL)
            ps = stream_new(h, d->promised, ts);
        if (inflate_block(h, d, ps ? &ps->half[WW_DIR_TOSERVER] : NULL, in, n) != WW_OK)
            return;
        if (ps != NULL) {
            ps->half[WW_DIR_TOSERVER].headers_done = true;
            ps->half[WW_DIR_TOSERVER].ended = true;
            ps->half[WW_DIR_TOSERVER].delivered = true; /* promised, not sent by the client */
        }
        return;
    }

    h2_stream *s = stream_find(h, sid);
    h2_half *x = NULL;
    bool trailers = false;
    if (s == NULL) {
        if (dir == WW_DIR_TOSERVER && (sid & 1) && sid > h->max_client_sid) {
            h->max_client_sid = sid;
            s = stream_new(h, sid, ts);
            if (s == NULL)
                anom(h, "out-of-memory", "stream %u not decoded", sid);
        } else {
            anom(h, dir == WW_DIR_TOSERVER ? "h2-stream-reuse" : "h2-unknown-stream",
                 "%s HEADERS on %s stream %u: decoded for HPACK, ignored", dname(dir),
                 dir == WW_DIR_TOSERVER ? "a closed or invalid" : "an unknown", sid);
        }
    } else if (s->half[dir].ended) {
        anom(h, "h2-stream-reuse", "%s HEADERS on stream %u after its END_STREAM: ignored",
             dname(dir), sid);
        s = NULL;
    }
    if (s != NULL) {
        x = &s->half[dir];
        if (x->headers_done) {
            trailers = true;
            x = NULL; /* trailers: decoded and dropped */
        } else if (dir == WW_DIR_TOCLIENT) {
            x->status = 0;
        }
    }
    if (inflate_block(h, d, x, in, n) != WW_OK)
        return;
    if (s == NULL)
        return;
    if (!trailers) {
        if (dir == WW_DIR_TOCLIENT && x->status >= 100 && x->status < 200 && x->status != 101) {
            /* interim response: forget it, the real one follows */
            ww_buf_reset(&x->meta);
            for (int f = 0; f < F_COUNT; f++)
                x->off[f] = -1;
            x->clen = -1;
            x->status = 0;
            return;
        }
        x->headers_done = true;
        if (dir == WW_DIR_TOCLIENT)
            tunnel_check(h, s);
        if (s->tunnel != NULL) {
            /* a tunnel's messages are their header blocks */
            deliver(h, s, WW_DIR_TOSERVER, ts, false);
            deliver(h, s, WW_DIR_TOCLIENT, ts, false);
        } else {
            setup_body(h, s, dir);
        }
    }
    if (end_stream)
        half_end(h, s, dir, ts);
}

/* ---- SETTINGS, RST_STREAM ---- */

static void apply_table(ww_h2 *h, h2_dir *enc, uint32_t size)
{
    if (nghttp2_hd_inflate_change_table_size(enc->inf, size) != 0)
        poison(h, "hpack-error", "cannot apply header table size %u", size);
}

static void settings(ww_h2 *h, h2_dir *d, const uint8_t *p, size_t n)
{
    h2_dir *peer = &h->d[1 - d->dir];
    if (d->flags & FL_ACK) {
        /* d acknowledges the peer's settings: d's encoder now uses the peer's table size */
        if (peer->pending_table) {
            peer->pending_table = false;
            apply_table(h, d, peer->pending_table_size);
        }
        return;
    }
    if (n % 6 != 0) {
        poison(h, "h2-bad-frame", "%s SETTINGS of %zu bytes", dname(d->dir), n);
        return;
    }
    if (n == 0)
        return; /* an empty SETTINGS: p may be NULL (nothing was gathered) */
    ww_rd r = ww_rd_init(p, n);
    uint16_t id;
    uint32_t v;
    while (ww_rd_be16(&r, &id) && ww_rd_be32(&r, &v)) {
        if (id != 1) /* SETTINGS_HEADER_TABLE_SIZE */
            continue;
        if (v > WW_H2_MAX_TABLE) {
            anom(h, "hpack-table-too-big",
                 "%s SETTINGS_HEADER_TABLE_SIZE %u over %u: capped", dname(d->dir), v,
                 (unsigned)WW_H2_MAX_TABLE);
            v = WW_H2_MAX_TABLE;
        }
        d->pending_table = true;
        d->pending_table_size = v;
    }
}

static void rst_stream(ww_h2 *h, h2_dir *d, uint64_t ts)
{
    h2_stream *s = stream_find(h, d->sid);
    if (s == NULL)
        return;
    h2_half *rq = &s->half[WW_DIR_TOSERVER];
    if (d->dir == WW_DIR_TOCLIENT && rq->headers_done && !rq->ended && s->tunnel == NULL) {
        /* RFC 9113 8.1: a server may answer and reset the stream (NO_ERROR, or refuse it)
         * before it read the request body; the client's DATA already on its way still
         * arrives, and it is the wallet call. The response is delivered now; the request
         * stays open for that DATA and is delivered at its END_STREAM, the client's own
         * RST_STREAM, the end of the connection, or when evicted as the oldest stream (the
         * WW_H2_MAX_STREAMS bound). */
        deliver(h, s, WW_DIR_TOCLIENT, ts, !s->half[1].ended);
        s->half[1].ended = true;
        if (!s->reset_by_server)
            h->st.requests_after_reset++;
        s->reset_by_server = true;
        return;
    }
    deliver(h, s, WW_DIR_TOSERVER, ts, !s->half[0].ended);
    deliver(h, s, WW_DIR_TOCLIENT, ts, !s->half[1].ended);
    stream_remove(h, s);
}

/* ---- frames ---- */

/* A gathered HEADERS / PUSH_PROMISE / CONTINUATION payload: strip, append to the block. */
static void header_frame(ww_h2 *h, h2_dir *d, uint64_t ts)
{
    ww_rd r = ww_rd_init(d->fbuf.data, d->fbuf.len);
    uint8_t pad = 0;
    if (d->type != T_CONT) {
        if (d->flags & FL_PADDED) {
            if (!ww_rd_u8(&r, &pad)) {
                poison(h, "h2-bad-frame", "%s frame too short for its pad length", dname(d->dir));
                return;
            }
        }
        if (d->type == T_HEADERS && (d->flags & FL_PRIORITY) && !ww_rd_skip(&r, 5)) {
            poison(h, "h2-bad-frame", "%s HEADERS too short for its priority", dname(d->dir));
            return;
        }
        if (d->type == T_PUSH) {
            uint32_t ps;
            if (!ww_rd_be32(&r, &ps)) {
                poison(h, "h2-bad-frame", "%s PUSH_PROMISE too short", dname(d->dir));
                return;
            }
            d->promised = ps & 0x7fffffffu;
        }
        if (ww_rd_left(&r) < pad) {
            poison(h, "h2-bad-frame", "%s frame padding longer than its payload", dname(d->dir));
            return;
        }
        d->block_sid = d->sid;
        d->block_flags = d->flags;
        d->block_type = d->type;
        ww_buf_reset(&d->hblock);
    }
    size_t frag = ww_rd_left(&r) - pad;
    if (ww_buf_append(&d->hblock, r.p, frag) != WW_OK) {
        poison(h, "h2-header-too-big", "%s header block over %zu bytes (CONTINUATION flood?)",
               dname(d->dir), h->cfg.max_header_bytes);
        return;
    }
    if (d->flags & FL_END_HEADERS) {
        d->in_block = false;
        block_done(h, d, ts);
        ww_buf_reset(&d->hblock);
        if (d->hblock.alloc > 64 * 1024)
            ww_buf_free(&d->hblock);
    } else {
        d->in_block = true;
    }
}

static void frame_done(ww_h2 *h, h2_dir *d, uint64_t ts)
{
    switch (d->type) {
    case T_HEADERS:
    case T_PUSH:
    case T_CONT:
        header_frame(h, d, ts);
        break;
    case T_SETTINGS:
        if (d->mode == M_GATHER)
            settings(h, d, d->fbuf.data, d->fbuf.len);
        break;
    case T_RST:
        rst_stream(h, d, ts);
        break;
    case T_DATA:
        if ((d->flags & FL_END_STREAM) && d->dstream != NULL)
            half_end(h, d->dstream, d->dir, ts);
        break;
    default:
        break;
    }
    ww_buf_reset(&d->fbuf);
    d->hlen = 0;
    d->mode = M_HDR;
    d->dstream = NULL;
}

/* The 9-byte header is complete: decide how to take the payload. */
static void frame_start(ww_h2 *h, h2_dir *d)
{
    ww_rd r = ww_rd_init(d->hdr, 9);
    uint32_t sid = 0;
    (void)ww_rd_be24(&r, &d->flen);
    (void)ww_rd_u8(&r, &d->type);
    (void)ww_rd_u8(&r, &d->flags);
    (void)ww_rd_be32(&r, &sid);
    d->sid = sid & 0x7fffffffu;
    d->left = d->flen;
    h->st.frames++;
    if (d->in_block && (d->type != T_CONT || d->sid != d->block_sid)) {
        poison(h, "h2-bad-frame", "%s frame type %u inside a header block of stream %u",
               dname(d->dir), d->type, d->block_sid);
        return;
    }
    if (d->type == T_CONT && !d->in_block) {
        poison(h, "h2-bad-frame", "%s CONTINUATION without a header block", dname(d->dir));
        return;
    }
    switch (d->type) {
    case T_HEADERS:
    case T_PUSH:
    case T_CONT:
        /* the block cap plus room for padding and priority */
        if (d->flen > h->cfg.max_header_bytes + 261 ||
            d->hblock.len + d->flen > h->cfg.max_header_bytes + 261) {
            poison(h, "h2-header-too-big", "%s header block over %zu bytes (CONTINUATION flood?)",
                   dname(d->dir), h->cfg.max_header_bytes);
            return;
        }
        d->mode = M_GATHER;
        break;
    case T_SETTINGS:
        d->mode = d->flen <= SETTINGS_GATHER_MAX ? M_GATHER : M_SKIP;
        if (d->mode == M_SKIP)
            anom(h, "h2-bad-frame", "%s SETTINGS of %u bytes skipped", dname(d->dir), d->flen);
        break;
    case T_RST:
        d->mode = d->flen == 4 ? M_GATHER : M_SKIP;
        break;
    case T_DATA: {
        h2_stream *s = stream_find(h, d->sid);
        d->mode = M_DATA;
        d->need_padlen = (d->flags & FL_PADDED) != 0;
        d->pad_left = 0;
        d->dpart = 0;
        d->dstream = NULL;
        if (s == NULL || !s->half[d->dir].headers_done || s->half[d->dir].ended) {
            if (d->flen > 0 || (d->flags & FL_END_STREAM))
                anom(h, "h2-unknown-stream", "%s DATA (%u bytes) on %s stream %u: skipped",
                     dname(d->dir), d->flen, s == NULL ? "an unknown" : "a not-open", d->sid);
        } else {
            d->dstream = s;
        }
        break;
    }
    default:
        d->mode = M_SKIP;
        break;
    }
}

/* DATA payload bytes p[0..n) (n <= d->left): pad length, data, then padding. */
static void data_bytes(ww_h2 *h, h2_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
    if (n > 0 && d->need_padlen) {
        d->need_padlen = false;
        d->pad_left = p[0];
        p++;
        n--;
        d->left--;
        if (d->pad_left > d->left) {
            poison(h, "h2-bad-frame", "%s DATA padding longer than its payload", dname(d->dir));
            return;
        }
    }
    size_t body = d->left - d->pad_left; /* data bytes still to come in this frame */
    size_t take = WW_MIN(body, n);
    if (take > 0) {
        if (d->dstream != NULL) {
            body_data(h, d->dstream, d->dir, p, take, ts);
            d->dpart += take;
        }
        else
            h->st.body_bytes_skipped += take;
    }
    d->pad_left -= n - take; /* the rest of n is padding */
    d->left -= n;
}

void ww_h2_data(ww_h2 *h, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    WW_ASSERT(dir == 0 || dir == 1);
    h2_dir *d = &h->d[dir];
    while (n > 0 && !h->poisoned) {
        if (d->preface_left > 0) {
            size_t off = H2_PREFACE_LEN - d->preface_left;
            size_t k = WW_MIN(n, d->preface_left);
            if (memcmp(p, &H2_PREFACE[off], k) != 0) {
                poison(h, "h2-bad-preface", "client did not send the HTTP/2 connection preface");
                return;
            }
            d->preface_left -= k;
            p += k;
            n -= k;
            continue;
        }
        if (d->mode == M_HDR) {
            size_t k = WW_MIN(n, 9 - d->hlen);
            memcpy(d->hdr + d->hlen, p, k);
            d->hlen += k;
            p += k;
            n -= k;
            if (d->hlen < 9)
                return;
            frame_start(h, d);
            if (h->poisoned)
                return;
            if (d->left == 0)
                frame_done(h, d, ts_us);
            continue;
        }
        size_t k = WW_MIN(n, d->left);
        switch (d->mode) {
        case M_GATHER:
            if (ww_buf_append(&d->fbuf, p, k) != WW_OK) {
                poison(h, "out-of-memory", "%s frame cannot be buffered", dname(dir));
                return;
            }
            d->left -= k;
            break;
        case M_DATA:
            data_bytes(h, d, p, k, ts_us);
            break;
        default:
            d->left -= k;
            break;
        }
        p += k;
        n -= k;
        if (d->left == 0 && !h->poisoned)
            frame_done(h, d, ts_us);
    }
}

ww_h2 *ww_h2_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_h2_cbs *cbs)
{
    ww_h2 *h = ww_calloc(mem, 1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->mem = mem;
    if (cfg != NULL)
        h->cfg = *cfg;
    ww_app_cfg_defaults(&h->cfg);
    h->cbs = *cbs;
    h->streams = ww_calloc(mem, WW_H2_MAX_STREAMS, sizeof(h2_stream *));
    if (h->streams == NULL) {
        ww_free(mem, h);
        return NULL;
    }
    for (int k = 0; k < 2; k++) {
        h2_dir *d = &h->d[k];
        d->dir = k;
        ww_buf_init(&d->fbuf, mem, h->cfg.max_header_bytes + 512);
        ww_buf_init(&d->hblock, mem, h->cfg.max_header_bytes);
        if (nghttp2_hd_inflate_new(&d->inf) != 0) {
            ww_h2_free(h);
            return NULL;
        }
    }
    h->d[WW_DIR_TOSERVER].preface_left = H2_PREFACE_LEN;
    return h;
}

int ww_h2_upgraded(ww_h2 *h, const char *method, const char *url, const char *host)
{
    h2_stream *s = stream_new(h, 1, 0);
    if (s == NULL)
        return WW_E_NOMEM;
    h2_half *rq = &s->half[WW_DIR_TOSERVER];
    if (method)
        meta_put(rq, F_METHOD, (const uint8_t *)method, strlen(method));
    if (url)
        meta_put(rq, F_PATH, (const uint8_t *)url, strlen(url));
    if (host)
        meta_put(rq, F_AUTH, (const uint8_t *)host, strlen(host));
    rq->headers_done = rq->ended = rq->delivered = true;
    h->max_client_sid = 1;
    return WW_OK;
}

void ww_h2_gap(ww_h2 *h, int dir, uint64_t len, uint64_t ts_us)
{
    (void)ts_us;
    poison(h, "h2-gap", "%llu bytes missing in the %s direction",
           (unsigned long long)len, dname(dir));
}

/* A DATA frame cut short by the end of the connection is not part of the body (a frame is
 * the unit HTTP/2 delivers): its bytes are taken back where they were only appended. */
static void drop_partial_data(h2_dir *d)
{
    h2_stream *s = d->dstream;
    if (d->mode != M_DATA || s == NULL || d->dpart == 0 || s->tunnel != NULL)
        return;
    h2_half *x = &s->half[d->dir];
    x->b.truncated = true;
    if (x->b.raw_len >= d->dpart)
        x->b.raw_len -= d->dpart;
    if (x->b.keep && x->b.coding == NULL && !x->b.stopped && x->b.body.len >= d->dpart)
        x->b.body.len -= d->dpart;
}

void ww_h2_close(ww_h2 *h, uint64_t ts_us)
{
    if (h == NULL)
        return;
    drop_partial_data(&h->d[0]);
    drop_partial_data(&h->d[1]);
    while (h->nstreams > 0) {
        /* oldest first, so messages come out in the order their streams opened */
        size_t oldest = 0;
        for (size_t i = 1; i < h->nstreams; i++)
            if (h->streams[i]->seq < h->streams[oldest]->seq)
                oldest = i;
        h2_stream *s = h->streams[oldest];
        if (!h->poisoned && s->tunnel == NULL) {
            deliver(h, s, WW_DIR_TOSERVER, ts_us, !s->half[0].ended);
            deliver(h, s, WW_DIR_TOCLIENT, ts_us, !s->half[1].ended);
        }
        stream_remove(h, s);
    }
}

void ww_h2_free(ww_h2 *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->nstreams; i++)
        stream_free(h, h->streams[i]);
    h->nstreams = 0;
    for (int k = 0; k < 2; k++) {
        ww_buf_free(&h->d[k].fbuf);
        ww_buf_free(&h->d[k].hblock);
        if (h->d[k].inf != NULL)
            nghttp2_hd_inflate_del(h->d[k].inf);
    }
    ww_free(h->mem, h->streams);
    ww_free(h->mem, h);
}

bool ww_h2_poisoned(const ww_h2 *h)
{
    return h->poisoned;
}

const ww_h2_stats *ww_h2_stats_get(const ww_h2 *h)
{
    return &h->st;
}
