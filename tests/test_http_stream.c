/*
 * test_http_stream.c - streamed bodies in the HTTP/1.1 parser (stream_body / body_chunk):
 * the body handed on in windows plus the final remainder is exactly the decoded body, whatever
 * the feeding (byte by byte), the framing (Content-Length, chunked) and the coding (gzip, br);
 * body_len is the whole; a gap truncates; the scan over the pieces equals a whole scan.
 */
#include <brotli/encode.h>
#include <zlib.h>

#include "decode/evm_int.h"
#include "decode/http1_int.h"
#include "decode/httpmsg_int.h"
#include "tests/t.h"

typedef struct rx {
    uint8_t *got; /* everything body_chunk consumed, then the final body */
    size_t n, cap;
    size_t chunks, max_window;
    bool streamed, truncated;
    int64_t body_len;
    int msgs;
    size_t scan_found;
    size_t found_at_msg; /* scan_found when the message completed */
} rx;

static void rx_put(rx *r, const uint8_t *p, size_t n)
{
    if (n == 0)
        return; /* body_chunk may consume nothing yet (a run still open at the end) */
    if (r->n + n > r->cap) {
        r->cap = (r->n + n) * 2;
        r->got = realloc(r->got, r->cap);
    }
    memcpy(r->got + r->n, p, n);
    r->n += n;
}

static bool want(void *ud, const ww_http_msg *m)
{
    (void)ud;
    return !m->is_request;
}
static bool stream(void *ud, const ww_http_msg *m)
{
    (void)ud;
    return !m->is_request;
}
static size_t chunk(void *ud, const ww_http_msg *head, const uint8_t *p, size_t n)
{
    rx *r = ud;
    T_CHECK(!head->is_request && head->status == 200);
    r->chunks++;
    if (n > r->max_window)
        r->max_window = n;
    size_t c = ww_addr_scan_chunk(p, n, false, NULL, NULL, &r->scan_found);
    rx_put(r, p, c);
    return c;
}
static void msg(void *ud, const ww_http_msg *m, uint64_t ts)
{
    rx *r = ud;
    (void)ts;
    if (m->is_request)
        return;
    r->msgs++;
    r->found_at_msg = r->scan_found;
    r->streamed = m->body_streamed;
    r->truncated = m->body_truncated;
    r->body_len = m->body_len;
    (void)ww_addr_scan_chunk(m->body.ptr, m->body.len, true, NULL, NULL, &r->scan_found);
    rx_put(r, m->body.ptr, m->body.len);
}
static void anom(void *ud, const char *t, const char *d)
{
    (void)ud;
    (void)t;
    (void)d;
}

/* a JSON-ish body of n bytes with EVM addresses every so often */
static uint8_t *mk_body(size_t n)
{
    uint8_t *b = malloc(n);
    static const char A[] = "\"0x52908400098527886E0F7030069857D2E4169EE7\",";
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)("abcdefghij0123456789+/ ,"[(i * 7919) % 24]);
    for (size_t i = 100; i + sizeof A < n; i += 5000 + i % 333)
        memcpy(b + i, A, sizeof A - 1);
    return b;
}

static size_t run(const uint8_t *wire, size_t wn, size_t step, rx *r, size_t gap_at)
{
    ww_h1_cbs cbs = {r, want, msg, anom, NULL, stream, chunk};
    ww_h1 *h = ww_h1_new(NULL, NULL, &cbs);
    ww_h1_data(h, WW_DIR_TOSERVER, (const uint8_t *)"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, 1);
    size_t off = 0;
    while (off < wn) {
        size_t k = WW_MIN(step, wn - off);
        if (gap_at != 0 && off <= gap_at && gap_at < off + k) {
            ww_h1_data(h, WW_DIR_TOCLIENT, wire + off, gap_at - off, 2);
            ww_h1_gap(h, WW_DIR_TOCLIENT, 1000, 2);
            off = gap_at + 1000;
            continue;
        }
        ww_h1_data(h, WW_DIR_TOCLIENT, wire + off, k, 2);
        off += k;
    }
    ww_h1_close(h, 3);
    ww_h1_free(h);
    return off;
}

static uint8_t *wire_of(const char *hdr, const uint8_t *b, size_t n, bool chunked, size_t *wn)
{
    uint8_t *w = malloc(n * 2 + 4096);
    size_t k = (size_t)sprintf((char *)w, "%s", hdr);
    if (!chunked) {
        memcpy(w + k, b, n);
        k += n;
    } else {
        for (size_t o = 0; o < n;) {
            size_t c = WW_MIN(n - o, 3001);
            k += (size_t)sprintf((char *)w + k, "%zx\r\n", c);
            memcpy(w + k, b + o, c);
            k += c;
            o += c;
            memcpy(w + k, "\r\n", 2);
            k += 2;
        }
        memcpy(w + k, "0\r\n\r\n", 5);
        k += 5;
    }
    *wn = k;
    return w;
}

T_CASE(h1_stream_identity_chunked_gzip_br)
{
    size_t n = 300000; /* several windows */
    uint8_t *body = mk_body(n);
    size_t whole = ww_addr_scan(body, n, NULL, NULL);
    T_CHECK(whole > 40);
    /* encodings */
    uLongf gl = compressBound(n) + 64;
    uint8_t *gz = malloc(gl);
    z_stream z;
    memset(&z, 0, sizeof z);
    T_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = body;
    z.avail_in = (uInt)n;
    z.next_out = gz;
    z.avail_out = (uInt)gl;
    T_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t gzn = z.total_out;
    deflateEnd(&z);
    size_t brn = BrotliEncoderMaxCompressedSize(n);
    uint8_t *br = malloc(brn);
    T_CHECK(BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, n, body, &brn, br) == BROTLI_TRUE);

    struct {
        const char *name, *hdr;
        const uint8_t *p;
        size_t n;
        bool chunked;
    } cases[] = {
        {"identity", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 300000\r\n\r\n", body, n, false},
        {"chunked", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", body, n, true},
        {"gzip+chunked", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", gz, gzn, true},
        {"br", "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nConnection: close\r\n\r\n", br, brn, false},
    };
    static const size_t STEPS[] = {1, 7, 1448, 65536 * 3};
    for (size_t c = 0; c < WW_ARRAY_LEN(cases); c++) {
        size_t wn;
        uint8_t *w = wire_of(cases[c].hdr, cases[c].p, cases[c].n, cases[c].chunked, &wn);
        for (size_t s = 0; s < WW_ARRAY_LEN(STEPS); s++) {
            if (STEPS[s] == 1 && c != 2)
                continue; /* byte by byte: once is enough (gzip + chunked) */
            rx r = {0};
            run(w, wn, STEPS[s], &r, 0);
            T_EQ_INT(r.msgs, 1);
            T_CHECK(r.streamed);
            T_CHECK(!r.truncated);
            T_EQ_INT(r.body_len, (int64_t)n);
            T_EQ_INT(r.n, n);
            T_CHECK(r.n == n && memcmp(r.got, body, n) == 0);
            T_CHECK(r.chunks >= n / WW_HTTP_STREAM_WINDOW);
            T_CHECK(r.max_window <= WW_HTTP_STREAM_WINDOW);
            T_EQ_INT(r.scan_found, whole);
            if (r.scan_found != whole)
                fprintf(stderr, "  %s step %zu\n", cases[c].name, STEPS[s]);
            free(r.got);
        }
        free(w);
    }
    free(gz);
    free(br);
    free(body);
}

T_CASE(h1_stream_gap_mid_body)
{
    size_t n = 200000, wn;
    uint8_t *body = mk_body(n);
    uint8_t *w = wire_of("HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n", body, n, false, &wn);
    rx r = {0};
    size_t hl = wn - n;
    run(w, wn, 1448, &r, hl + 100000);
    T_EQ_INT(r.msgs, 1);
    T_CHECK(r.streamed && r.truncated);
    T_EQ_INT(r.n, 100000); /* the prefix before the hole */
    T_CHECK(r.n == 100000 && memcmp(r.got, body, 100000) == 0);
    T_EQ_INT(r.body_len, 100000);
    free(r.got);
    free(w);
    free(body);
}

T_CASE(h1_stream_small_body_handed_on_as_it_arrives)
{
    /* under the window: the bytes go to body_chunk as they arrive (issue 12: a stream that
     * never ends is scanned as it goes), the address is found before the message ends */
    size_t wn;
    const char *b = "{\"a\":\"0x52908400098527886E0F7030069857D2E4169EE7\"}";
    uint8_t *w = wire_of("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", (const uint8_t *)b,
                         strlen(b), false, &wn);
    rx r = {0};
    run(w, wn, 3, &r, 0);
    T_EQ_INT(r.msgs, 1);
    T_CHECK(r.chunks >= 10);     /* one per piece of 3 bytes */
    T_CHECK(r.max_window <= 91 + 3); /* never more than a scanner tail and the new bytes */
    T_EQ_INT(r.n, 50);
    T_CHECK(r.n == 50 && memcmp(r.got, b, 50) == 0);
    T_EQ_INT(r.scan_found, 1);
    T_EQ_INT(r.found_at_msg, 1); /* before the message completed */
    T_CHECK(r.streamed);
    free(r.got);
    free(w);
}

static void no_result(void *ud, const ww_ctx *ctx, const char *method, const ww_jsonrpc_resp *r)
{
    (void)ud, (void)ctx, (void)method, (void)r;
}

/* The message layer alone, for ww_hm_stream_body: no config, an empty sink, one connection. */
typedef struct policy_fx {
    ww_app_cfg cfg;
    ww_decode_sink sink;
    ww_hm hm;
    ww_hm_conn c;
    ww_http_msg head;
} policy_fx;

static void policy_fx_init(policy_fx *f, const char *content_type)
{
    memset(f, 0, sizeof *f);
    f->hm.cfg = &f->cfg;
    f->hm.sink = &f->sink;
    f->head.content_type = content_type;
}

T_CASE(stream_policy_while_a_wallet_call_waits)
{
    /* a served-candidate response streams unless it may answer a pending wallet call: on
     * HTTP/1.1 any response of the connection, on HTTP/2 / HTTP/3 only the call's stream */
    policy_fx f;
    policy_fx_init(&f, "application/json");
    f.sink.rpc_result = no_result;
    f.head.stream_id = 3;
    T_CHECK(ww_hm_stream_body(&f.hm, &f.c, &f.head, false)); /* nothing pending */
    T_CHECK(ww_hm_stream_body(&f.hm, &f.c, &f.head, true));
    snprintf(f.c.pending[0].rpc_id, sizeof f.c.pending[0].rpc_id, "7");
    snprintf(f.c.pending[0].method, sizeof f.c.pending[0].method, "eth_sendTransaction");
    f.c.pending[0].stream_id = 1;
    f.c.n_pending = 1;
    T_CHECK(ww_hm_stream_body(&f.hm, &f.c, &f.head, false)); /* h2 stream 3: not the call's */
    T_CHECK(!ww_hm_stream_body(&f.hm, &f.c, &f.head, true)); /* HTTP/1.1: any may answer */
    f.head.stream_id = 1;
    T_CHECK(!ww_hm_stream_body(&f.hm, &f.c, &f.head, false)); /* the call's stream: whole */
    f.sink.rpc_result = NULL; /* nobody wants the answer */
    T_CHECK(ww_hm_stream_body(&f.hm, &f.c, &f.head, false));
}

/* ---- HTTP/2 and HTTP/3: a script whose addresses only are wanted streams through the body
 * stage (ww_hm_body), which scans it itself: the same addresses, in the same order, as the
 * scan of the script kept whole, within the window, under the kept body's cap ---- */

typedef struct stage_rx {
    size_t chunk_calls;
    size_t anomalies;
    char last_anom[256];
} stage_rx;

static size_t stage_chunk(void *ud, const ww_http_msg *head, const uint8_t *p, size_t n)
{
    (void)head, (void)p;
    ((stage_rx *)ud)->chunk_calls++;
    return n;
}
static void stage_anom(void *ud, const char *t, const char *d)
{
    stage_rx *r = ud;
    (void)t;
    r->anomalies++;
    snprintf(r->last_anom, sizeof r->last_anom, "%s", d);
}

typedef struct addr_list {
    ww_addr a[1024];
    size_t n;
} addr_list;

static void addr_put(void *ud, const ww_addr *a)
{
    addr_list *l = ud;
    if (l->n < 1024)
        l->a[l->n++] = *a;
}

/* body[0..n) as a script response through the stage fed step bytes at a time */
static void stage_run(const uint8_t *body, size_t n, size_t step, const ww_app_cfg *cfg,
                      stage_rx *r, ww_hm_body *b, ww_http_msg *m, size_t *max_alloc)
{
    uint64_t anomalies = 0, undecodable = 0;
    ww_hm_body_io io = {NULL, cfg, r, want, stream, stage_chunk, stage_anom, &anomalies,
                        &undecodable, "stream 1", "server"};
    memset(m, 0, sizeof *m);
    m->status = 200;
    m->content_type = "application/javascript";
    m->content_length = (int64_t)n;
    m->body_len = -1;
    m->stream_id = 1;
    memset(b, 0, sizeof *b);
    ww_buf_init(&b->body, NULL, cfg->max_body_bytes);
    ww_hm_body_setup(b, &io, m);
    *max_alloc = 0;
    for (size_t off = 0; off < n; off += step) {
        ww_hm_body_data(b, &io, m, body + off, WW_MIN(step, n - off));
        if (b->body.alloc > *max_alloc)
            *max_alloc = b->body.alloc;
    }
    T_CHECK(ww_hm_body_end(b, &io, m, false));
}

T_CASE(h2_script_streams_through_the_body_stage)
{
    ww_app_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    ww_app_cfg_defaults(&cfg);
    size_t n = 1000000;
    uint8_t *body = mk_body(n);
    addr_list *whole = calloc(1, sizeof *whole), *got = calloc(1, sizeof *got);
    (void)ww_addr_scan(body, n, addr_put, whole);
    T_CHECK(whole->n > 150);
    static const size_t STEPS[] = {1, 1448, 16384, 100000};
    for (size_t s = 0; s < sizeof STEPS / sizeof STEPS[0]; s++) {
        stage_rx r = {0};
        ww_hm_body b;
        ww_http_msg m;
        size_t max_alloc;
        stage_run(body, n, STEPS[s], &cfg, &r, &b, &m, &max_alloc);
        T_CHECK(b.script && b.stream && m.body_streamed && m.script_scanned);
        T_EQ_INT(r.chunk_calls, 0);                  /* never the connection's body_chunk */
        T_CHECK(max_alloc <= WW_HTTP_STREAM_WINDOW); /* never gathered */
        T_EQ_INT(m.body_len, (int64_t)n);
        T_EQ_INT(m.script_naddrs, whole->n);
        T_CHECK(m.script_naddrs == whole->n &&
                memcmp(m.script_addrs, whole->a, whole->n * sizeof(ww_addr)) == 0);
        ww_hm_body_release(&b);
        T_CHECK(b.sc_addrs == NULL);
    }
    /* over max_body_bytes: the kept body's cap and anomaly, the addresses of the prefix */
    cfg.max_body_bytes = 300000;
    stage_rx r = {0};
    ww_hm_body b;
    ww_http_msg m;
    size_t max_alloc;
    stage_run(body, n, 1448, &cfg, &r, &b, &m, &max_alloc);
    T_CHECK(m.body_truncated && m.script_scanned);
    T_EQ_INT(m.body_len, 300000);
    T_EQ_INT(r.anomalies, 1);
    T_CHECK(strstr(r.last_anom, "over max_body_bytes (300000)") != NULL);
    got->n = 0;
    (void)ww_addr_scan(body, 300000, addr_put, got);
    T_EQ_INT(m.script_naddrs, got->n);
    T_CHECK(m.script_naddrs == got->n &&
            memcmp(m.script_addrs, got->a, got->n * sizeof(ww_addr)) == 0);
    ww_hm_body_release(&b);
    free(whole);
    free(got);
    free(body);
}

static void no_script(void *ud, const ww_ctx *ctx, const ww_addr *a, size_t n)
{
    (void)ud, (void)ctx, (void)a, (void)n;
}
static void no_script_body(void *ud, const ww_ctx *ctx, const uint8_t *p, size_t n)
{
    (void)ud, (void)ctx, (void)p, (void)n;
}

T_CASE(script_stream_policy)
{
    /* scripts stream on every transport when only their addresses are wanted; --yara (the
     * whole script) keeps them whole */
    policy_fx f;
    policy_fx_init(&f, "text/javascript");
    f.sink.script = no_script;
    T_CHECK(ww_hm_stream_body(&f.hm, &f.c, &f.head, false));
    T_CHECK(ww_hm_stream_body(&f.hm, &f.c, &f.head, true));
    f.sink.script_body = no_script_body;
    T_CHECK(!ww_hm_stream_body(&f.hm, &f.c, &f.head, false));
    T_CHECK(!ww_hm_stream_body(&f.hm, &f.c, &f.head, true));
}
