/*
 * test_h3.c - HTTP/3 (RFC 9114) frames and streams, QPACK (RFC 9204) through nghttp3: static
 * and dynamic tables, blocked header blocks, references to entries that do not exist, every
 * truncation point, frames where they are not allowed.
 */
#define _GNU_SOURCE
#include "decode/quic.h"
#include "tests/t.h"

#include <nghttp3/nghttp3.h>

const nghttp3_mem *nghttp3_mem_default(void); /* exported by libnghttp3, not in its header */

/* ---------- collector ---------- */

typedef struct msg_rec {
    bool is_request;
    char method[16], url[128], host[128], ctype[64], cenc[32];
    int status;
    int64_t body_len;
    bool truncated;
    uint8_t body[4096];
    size_t blen;
    uint64_t sid;
} msg_rec;

typedef struct h3c {
    msg_rec m[32];
    int nm;
    int anomalies;
    char types[4096];
    int fields;
} h3c;

static void cp(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s != NULL ? s : "");
}

static bool want_body(void *ud, const ww_http_msg *m)
{
    (void)ud, (void)m;
    return true;
}

static void on_msg(void *ud, const ww_http_msg *m, uint64_t sid, uint64_t ts)
{
    h3c *c = ud;
    (void)ts;
    msg_rec *r = &c->m[c->nm++ % 32]; /* the last 32 kept */
    memset(r, 0, sizeof *r);
    r->is_request = m->is_request;
    cp(r->method, sizeof r->method, m->method);
    cp(r->url, sizeof r->url, m->url);
    cp(r->host, sizeof r->host, m->host);
    cp(r->ctype, sizeof r->ctype, m->content_type);
    cp(r->cenc, sizeof r->cenc, m->content_encoding);
    r->status = m->status;
    r->body_len = m->body_len;
    r->truncated = m->body_truncated;
    r->sid = sid;
    T_EQ_STR(m->version, "HTTP/3");
    if (m->body_kept) {
        r->blen = WW_MIN(m->body.len, sizeof r->body);
        if (r->blen > 0)
            memcpy(r->body, m->body.ptr, r->blen);
    }
}

static void on_anom(void *ud, const char *type, const char *detail)
{
    h3c *c = ud;
    (void)detail;
    c->anomalies++;
    size_t l = strlen(c->types);
    snprintf(c->types + l, sizeof c->types - l, "%s ", type);
}

static void on_field(void *ud, uint64_t sid, int dir, const uint8_t *n, size_t nl, const uint8_t *v,
                     size_t vl)
{
    h3c *c = ud;
    (void)sid, (void)dir, (void)n, (void)nl, (void)v, (void)vl;
    c->fields++;
}

static ww_h3 *mk(h3c *c)
{
    memset(c, 0, sizeof *c);
    ww_h3_cbs cb = {c, want_body, on_msg, on_anom, on_field, NULL, NULL};
    return ww_h3_new(NULL, NULL, &cb);
}

/* ---------- builders ---------- */

static size_t vput(uint8_t *p, uint64_t v)
{
    if (v < 64) {
        p[0] = (uint8_t)v;
        return 1;
    }
    if (v < 16384) {
        p[0] = (uint8_t)(0x40 | (v >> 8));
        p[1] = (uint8_t)v;
        return 2;
    }
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
    p[0] |= 0x80;
    return 4;
}

static size_t frame(uint8_t *out, uint64_t type, const uint8_t *p, size_t n)
{
    size_t o = vput(out, type);
    o += vput(out + o, n);
    if (n > 0)
        memcpy(out + o, p, n);
    return o + n;
}

typedef struct qenc {
    nghttp3_qpack_encoder *e;
    uint8_t ebuf[4096];
    size_t elen; /* encoder stream bytes produced and not yet handed out */
} qenc;

static void qenc_init(qenc *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    T_EQ_INT(nghttp3_qpack_encoder_new(&q->e, cap, nghttp3_mem_default()), 0);
    if (cap > 0) {
        nghttp3_qpack_encoder_set_max_dtable_capacity(q->e, cap);
        nghttp3_qpack_encoder_set_max_blocked_streams(q->e, 16);
    }
}

/* Encodes fields "n1","v1",... into a header block at out; encoder stream bytes are kept. */
static size_t qenc_block(qenc *q, int64_t sid, uint8_t *out, const char *const *kv, size_t n)
{
    nghttp3_nv nv[16];
    for (size_t i = 0; i < n; i++) {
        nv[i].name = (uint8_t *)(uintptr_t)kv[2 * i];
        nv[i].namelen = strlen(kv[2 * i]);
        nv[i].value = (uint8_t *)(uintptr_t)kv[2 * i + 1];
        nv[i].valuelen = strlen(kv[2 * i + 1]);
        nv[i].flags = 0;
    }
    nghttp3_buf pb, rb, eb;
    nghttp3_buf_init(&pb);
    nghttp3_buf_init(&rb);
    nghttp3_buf_init(&eb);
    T_EQ_INT(nghttp3_qpack_encoder_encode(q->e, &pb, &rb, &eb, sid, nv, n), 0);
    size_t o = 0;
    memcpy(out + o, pb.pos, nghttp3_buf_len(&pb));
    o += nghttp3_buf_len(&pb);
    memcpy(out + o, rb.pos, nghttp3_buf_len(&rb));
    o += nghttp3_buf_len(&rb);
    size_t el = nghttp3_buf_len(&eb);
    if (el > 0 && q->elen + el <= sizeof q->ebuf) {
        memcpy(q->ebuf + q->elen, eb.pos, el);
        q->elen += el;
    }
    nghttp3_buf_free(&pb, nghttp3_mem_default());
    nghttp3_buf_free(&rb, nghttp3_mem_default());
    nghttp3_buf_free(&eb, nghttp3_mem_default());
    return o;
}

static void qenc_free(qenc *q)
{
    nghttp3_qpack_encoder_del(q->e);
}

/* a HEADERS frame around a block */
static size_t headers(uint8_t *out, qenc *q, int64_t sid, const char *const *kv, size_t n)
{
    uint8_t blk[1024];
    size_t bl = qenc_block(q, sid, blk, kv, n);
    return frame(out, 0x01, blk, bl);
}

static const char *const req_kv[] = {
    ":method",      "POST",  ":scheme", "https",        ":authority",
    "dapp.example", ":path", "/rpc",    "content-type", "application/json"};
static const char *const resp_kv[] = {":status", "200", "content-type", "application/json"};

T_CASE(request_response_static)
{
    h3c c;
    ww_h3 *h = mk(&c);
    qenc qc, qs;
    qenc_init(&qc, 0);
    qenc_init(&qs, 0);
    uint8_t buf[2048];
    size_t n = headers(buf, &qc, 0, req_kv, 5);
    n += frame(buf + n, 0x00, (const uint8_t *)"{\"id\":1}", 8);
    /* grease frame type 0x21 is skipped */
    n += frame(buf + n, 0x21, (const uint8_t *)"zz", 2);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 0, buf, n, true, 1);
    T_EQ_INT(c.nm, 1);
    T_CHECK(c.m[0].is_request);
    T_EQ_STR(c.m[0].method, "POST");
    T_EQ_STR(c.m[0].url, "/rpc");
    T_EQ_STR(c.m[0].host, "dapp.example");
    T_EQ_INT(c.m[0].body_len, 8);
    T_CHECK(c.m[0].blen == 8 && memcmp(c.m[0].body, "{\"id\":1}", 8) == 0);
    /* the response, in two DATA frames, split byte by byte */
    n = headers(buf, &qs, 0, resp_kv, 2);
    n += frame(buf + n, 0x00, (const uint8_t *)"{\"res", 5);
    n += frame(buf + n, 0x00, (const uint8_t *)"ult\":2}", 7);
    for (size_t i = 0; i < n; i++)
        ww_h3_stream_data(h, WW_DIR_TOCLIENT, 0, buf + i, 1, i + 1 == n, 2);
    T_EQ_INT(c.nm, 2);
    T_CHECK(!c.m[1].is_request);
    T_EQ_INT(c.m[1].status, 200);
    T_EQ_STR(c.m[1].method, "POST"); /* the request's, paired by stream id */
    T_EQ_STR(c.m[1].url, "/rpc");
    T_EQ_STR(c.m[1].ctype, "application/json");
    T_CHECK(c.m[1].blen == 12 && memcmp(c.m[1].body, "{\"result\":2}", 12) == 0);
    T_CHECK(!c.m[1].truncated);
    T_EQ_INT(c.anomalies, 0);
    T_EQ_INT(ww_h3_stats_get(h)->requests, 1);
    T_EQ_INT(ww_h3_stats_get(h)->responses, 1);
    ww_h3_close(h, 3);
    ww_h3_free(h);
    qenc_free(&qc);
    qenc_free(&qs);
}

T_CASE(dynamic_table_blocked_stream)
{
    h3c c;
    ww_h3 *h = mk(&c);
    qenc qc;
    qenc_init(&qc, 4096);
    uint8_t buf[2048], ctl[64];
    /* the server's control stream: SETTINGS QPACK_MAX_TABLE_CAPACITY 4096, BLOCKED 16 */
    uint8_t set[16];
    size_t sl = 0;
    sl += vput(set + sl, 0x01);
    sl += vput(set + sl, 4096);
    sl += vput(set + sl, 0x07);
    sl += vput(set + sl, 16);
    size_t cl = vput(ctl, 0x00);
    cl += frame(ctl + cl, 0x04, set, sl);
    ww_h3_stream_data(h, WW_DIR_TOCLIENT, 3, ctl, cl, false, 1);
    /* the client's request block uses the dynamic table; its encoder stream comes later */
    size_t n = headers(buf, &qc, 0, req_kv, 5);
    T_CHECK(qc.elen > 0);
    n += frame(buf + n, 0x00, (const uint8_t *)"{}", 2);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 0, buf, n, true, 2);
    T_EQ_INT(c.nm, 0); /* blocked */
    T_EQ_INT(ww_h3_stats_get(h)->qpack_blocked, 1);
    uint8_t enc[4200];
    size_t el = vput(enc, 0x02);
    memcpy(enc + el, qc.ebuf, qc.elen);
    el += qc.elen;
    /* the encoder stream in two pieces: still blocked after the first */
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 2, enc, 2, false, 3);
    T_EQ_INT(c.nm, 0);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 2, enc + 2, el - 2, false, 4);
    T_EQ_INT(c.nm, 1);
    T_EQ_STR(c.m[0].method, "POST");
    T_EQ_STR(c.m[0].host, "dapp.example");
    T_CHECK(c.m[0].blen == 2 && memcmp(c.m[0].body, "{}", 2) == 0);
    /* a second request reuses the table entries (no new encoder bytes needed) */
    qc.elen = 0;
    n = headers(buf, &qc, 4, req_kv, 5);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 4, buf, n, true, 5);
    T_EQ_INT(c.nm, 2);
    T_EQ_STR(c.m[1].url, "/rpc");
    T_EQ_INT(c.anomalies, 0);
    ww_h3_close(h, 6);
    ww_h3_free(h);
    qenc_free(&qc);
}

T_CASE(qpack_missing_entries)
{
    h3c c;
    ww_h3 *h = mk(&c);
    qenc qc;
    qenc_init(&qc, 0);
    uint8_t buf[512];
    /* a field line naming static entry 200 (the table has 99): anomaly, only its stream */
    static const uint8_t bad[] = {0x00, 0x00, 0xff, 0x89, 0x01};
    size_t n = frame(buf, 0x01, bad, sizeof bad);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 0, buf, n, true, 1);
    T_CHECK(strstr(c.types, "qpack-error") != NULL);
    T_EQ_INT(c.nm, 0);
    /* a block with a Required Insert Count the table never reaches (capacity 0): anomaly */
    static const uint8_t ric[] = {0x05, 0x00, 0x80};
    n = frame(buf, 0x01, ric, sizeof ric);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 8, buf, n, true, 1);
    /* the good request after them still decodes */
    n = headers(buf, &qc, 4, req_kv, 5);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 4, buf, n, true, 2);
    T_EQ_INT(c.nm, 1);
    T_EQ_STR(c.m[0].url, "/rpc");
    T_CHECK(!ww_h3_poisoned(h));
    /* the server's encoder stream inserting with a reference to dynamic entry 5 of an empty
     * table: that direction is poisoned, with an anomaly */
    int an = c.anomalies;
    static const uint8_t ins[] = {0x85, 0x01, 'x'}; /* Insert With Name Reference, dynamic 5 */
    h3c c2;
    ww_h3 *h2 = mk(&c2);
    uint8_t set[16], ctl[32];
    size_t sl = vput(set, 0x01);
    sl += vput(set + sl, 4096);
    size_t cl = vput(ctl, 0x00);
    cl += frame(ctl + cl, 0x04, set, sl);
    ww_h3_stream_data(h2, WW_DIR_TOSERVER, 2, ctl, cl, false, 1);
    uint8_t e2[16];
    size_t e2l = vput(e2, 0x02);
    memcpy(e2 + e2l, ins, sizeof ins);
    e2l += sizeof ins;
    ww_h3_stream_data(h2, WW_DIR_TOCLIENT, 7, e2, e2l, false, 2);
    T_CHECK(strstr(c2.types, "qpack-error") != NULL);
    T_CHECK(ww_h3_poisoned(h2));
    (void)an;
    ww_h3_free(h2);
    ww_h3_close(h, 4);
    ww_h3_free(h);
    qenc_free(&qc);
}

T_CASE(every_truncation_point)
{
    qenc qc;
    qenc_init(&qc, 0);
    uint8_t buf[1024];
    size_t n = headers(buf, &qc, 0, req_kv, 5);
    size_t hdr_end = n;
    n += frame(buf + n, 0x00, (const uint8_t *)"{\"a\":1}", 7);
    for (size_t k = 0; k <= n; k++) {
        h3c c;
        ww_h3 *h = mk(&c);
        const uint8_t *g = t_guard(buf, k);
        ww_h3_stream_data(h, WW_DIR_TOSERVER, 0, g, k, true, 1);
        if (k < hdr_end) {
            /* no header block: no message, and an anomaly when bytes were cut mid-frame */
            T_EQ_INT(c.nm, 0);
            if (k > 0)
                T_CHECK(c.anomalies > 0);
        } else {
            T_EQ_INT(c.nm, 1);
            T_EQ_STR(c.m[0].url, "/rpc");
            if (k == hdr_end) /* a request without a body: whole */
                T_CHECK(!c.m[0].truncated && c.anomalies == 0 && c.m[0].body_len == -1);
            else if (k < n)
                T_CHECK(c.m[0].truncated && c.anomalies > 0);

            else
                T_CHECK(!c.m[0].truncated && c.anomalies == 0 && c.m[0].blen == 7);
        }
        ww_h3_close(h, 2);
        ww_h3_free(h);
    }
    qenc_free(&qc);
}

T_CASE(frames_out_of_place_and_streams)
{
    h3c c;
    ww_h3 *h = mk(&c);
    uint8_t buf[256];
    /* DATA before HEADERS */
    size_t n = frame(buf, 0x00, (const uint8_t *)"x", 1);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 0, buf, n, true, 1);
    T_CHECK(strstr(c.types, "h3-frame-unexpected") != NULL);
    /* SETTINGS on a request stream */
    c.types[0] = 0;
    n = frame(buf, 0x04, NULL, 0);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 4, buf, n, true, 1);
    T_CHECK(strstr(c.types, "h3-frame-unexpected") != NULL);
    /* a control stream with DATA */
    c.types[0] = 0;
    size_t cl = vput(buf, 0x00);
    cl += frame(buf + cl, 0x04, NULL, 0);
    cl += frame(buf + cl, 0x00, (const uint8_t *)"x", 1);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 2, buf, cl, false, 1);
    T_CHECK(strstr(c.types, "h3-frame-unexpected") != NULL);
    /* grease and push streams are skipped without an anomaly */
    c.types[0] = 0;
    int an = c.anomalies;
    n = vput(buf, 0x1f * 3 + 0x21);
    memcpy(buf + n, "garbage", 7);
    ww_h3_stream_data(h, WW_DIR_TOCLIENT, 15, buf, n + 7, true, 2);
    n = vput(buf, 0x01);
    buf[n++] = 0; /* push id */
    ww_h3_stream_data(h, WW_DIR_TOCLIENT, 11, buf, n, false, 2);
    T_EQ_INT(c.anomalies, an);
    /* a header block over the cap */
    n = vput(buf, 0x01);
    n += vput(buf + n, 1 << 20);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 8, buf, n, false, 3);
    T_CHECK(strstr(c.types, "header-block-too-big") != NULL);
    ww_h3_close(h, 4);
    ww_h3_free(h);
}

T_CASE(interim_reset_flood)
{
    h3c c;
    ww_h3 *h = mk(&c);
    qenc qc, qs;
    qenc_init(&qc, 0);
    qenc_init(&qs, 0);
    uint8_t buf[1024];
    size_t n = headers(buf, &qc, 0, req_kv, 5);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 0, buf, n, true, 1);
    static const char *const early[] = {":status", "103", "link", "</a.js>; rel=preload"};
    n = headers(buf, &qs, 0, early, 2);
    n += headers(buf + n, &qs, 0, resp_kv, 2);
    n += frame(buf + n, 0x00, (const uint8_t *)"{}", 2);
    ww_h3_stream_data(h, WW_DIR_TOCLIENT, 0, buf, n, false, 2);
    ww_h3_stream_reset(h, WW_DIR_TOCLIENT, 0, 3);
    T_EQ_INT(c.nm, 2);
    T_EQ_INT(c.m[1].status, 200);
    T_CHECK(c.m[1].truncated);
    /* a flood of requests that never end: bounded, the oldest dropped with an anomaly */
    for (int i = 0; i < WW_H3_MAX_STREAMS + 20; i++) {
        n = headers(buf, &qc, 4 + 4 * i, req_kv, 5);
        ww_h3_stream_data(h, WW_DIR_TOSERVER, 4 + 4 * (uint64_t)i, buf, n, false, 4);
    }
    T_CHECK(strstr(c.types, "h3-too-many-streams") != NULL);
    ww_h3_close(h, 5);
    T_EQ_INT(ww_h3_stats_get(h)->requests, 1 + WW_H3_MAX_STREAMS + 20);
    ww_h3_free(h);
    qenc_free(&qc);
    qenc_free(&qs);
}

T_CASE(flood_keeps_qpack_streams)
{
    h3c c;
    ww_h3 *h = mk(&c);
    qenc qc, qstatic;
    qenc_init(&qc, 4096);
    qenc_init(&qstatic, 0);
    uint8_t buf[2048], ctl[64], enc[4200];
    uint8_t set[8];
    size_t sl = vput(set, 0x01);
    sl += vput(set + sl, 4096);
    size_t cl = vput(ctl, 0x00);
    cl += frame(ctl + cl, 0x04, set, sl);
    ww_h3_stream_data(h, WW_DIR_TOCLIENT, 3, ctl, cl, false, 1);
    size_t n = headers(buf, &qc, 0, req_kv, 5);
    size_t el = vput(enc, 0x02);
    memcpy(enc + el, qc.ebuf, qc.elen);
    el += qc.elen;
    qc.elen = 0;
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 2, enc, el, false, 2);
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 0, buf, n, true, 3);
    T_EQ_INT(c.nm, 1);
    /* requests that never end push out the oldest request streams, never the QPACK ones */
    for (int i = 1; i < WW_H3_MAX_STREAMS + 40; i++) {
        n = headers(buf, &qstatic, 4 * i, req_kv, 5);
        ww_h3_stream_data(h, WW_DIR_TOSERVER, 4 * (uint64_t)i, buf, n, false, 4);
    }
    T_CHECK(strstr(c.types, "h3-too-many-streams") != NULL);
    /* the dynamic table is still in step: a new block using it decodes */
    int before = c.nm;
    n = headers(buf, &qc, 4000, req_kv, 5);
    T_EQ_INT(qc.elen, 0); /* only references to entries already sent */
    ww_h3_stream_data(h, WW_DIR_TOSERVER, 4000, buf, n, true, 5);
    T_CHECK(c.nm >= before + 1); /* its own, and the stream it pushed out */
    T_EQ_INT(c.m[(c.nm - 1) % 32].sid, 4000);
    T_CHECK(!c.m[(c.nm - 1) % 32].truncated);
    T_EQ_STR(c.m[(c.nm - 1) % 32].host, "dapp.example");
    T_CHECK(!ww_h3_poisoned(h));
    ww_h3_close(h, 6);
    ww_h3_free(h);
    qenc_free(&qc);
    qenc_free(&qstatic);
}
