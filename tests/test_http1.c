/*
 * test_http1.c - the HTTP/1.1 parser, table-driven: each case is a script of (direction,
 * bytes) segments, gaps and a close, and the expected transcript of callbacks. Every case
 * runs whole, byte by byte, and split at every point of every segment; every piece handed
 * to the parser sits right before a guard page (t_guard), so an over-read crashes.
 */
#include "decode/coding_int.h"
#include "decode/http1_int.h"
#include "tests/t.h"

#include <brotli/encode.h>
#include <zlib.h>

/* ---- transcript ---- */

static char tr[1 << 16];
static size_t tr_len;
static int keep_mode; /* 0 keep nothing, 1 keep all, 2 keep JSON only */

static void tr_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tr_add(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tr + tr_len, sizeof tr - tr_len, fmt, ap);
    va_end(ap);
    if (k > 0)
        tr_len = WW_MIN(tr_len + (size_t)k, sizeof tr - 1);
}

static const char *nz(const char *s)
{
    return s ? s : "-";
}

static bool cb_want(void *ud, const ww_http_msg *m)
{
    (void)ud;
    if (keep_mode == 2)
        return m->content_type != NULL && strstr(m->content_type, "json") != NULL;
    return keep_mode == 1;
}

static void cb_msg(void *ud, const ww_http_msg *m, uint64_t ts)
{
    (void)ud;
    (void)ts;
    if (m->is_request)
        tr_add("Q %s %s h=%s", nz(m->method), nz(m->url), nz(m->host));
    else
        tr_add("R %d %s %s h=%s", m->status, nz(m->method), nz(m->url), nz(m->host));
    tr_add(" cl=%lld b=%lld", (long long)m->content_length, (long long)m->body_len);
    if (m->content_encoding)
        tr_add(" ce=%s", m->content_encoding);
    if (m->body_truncated)
        tr_add(" T");
    if (m->body_kept) {
        tr_add(" K'");
        for (size_t i = 0; i < m->body.len && i < 40; i++) {
            uint8_t c = m->body.ptr[i];
            if (c >= 0x20 && c < 0x7f && c != '\'')
                tr_add("%c", c);
            else
                tr_add("\\x%02x", c);
        }
        tr_add("'");
    }
    if (m->has_sha256)
        tr_add(" sha=%02x%02x", m->body_sha256[0], m->body_sha256[1]);
    tr_add("\n");
}

static void cb_anom(void *ud, const char *type, const char *detail)
{
    (void)ud;
    (void)detail;
    tr_add("! %s\n", type);
}

static void cb_up(void *ud, int status, const char *up)
{
    (void)ud;
    tr_add("U %d %s\n", status, nz(up));
}

static const ww_h1_cbs cbs = {NULL, cb_want, cb_msg, cb_anom, cb_up, NULL, NULL};

/* ---- scripts ---- */

#define C2S WW_DIR_TOSERVER
#define S2C WW_DIR_TOCLIENT
#define GAP 2
#define MAX_SEGS 8

typedef struct seg {
    int dir;           /* C2S, S2C, or GAP (then gap_dir, gap) */
    const char *data;  /* NULL with GAP */
    size_t len;        /* 0: strlen(data) */
    int gap_dir;
    uint64_t gap;
} seg;

typedef struct tcase {
    const char *name;
    seg segs[MAX_SEGS];
    bool close;
    int keep;
    size_t max_header, max_body;
    const char *want;
} tcase;

static size_t seg_len(const seg *s)
{
    return s->len ? s->len : (s->data ? strlen(s->data) : 0);
}

/* mode: 0 whole, 1 byte by byte, 2 split every segment at `k`. */
static void run_script(const tcase *c, int mode, size_t k)
{
    ww_app_cfg cfg = {0};
    cfg.max_header_bytes = c->max_header;
    cfg.max_body_bytes = c->max_body;
    keep_mode = c->keep;
    tr_len = 0;
    tr[0] = 0;
    ww_h1 *h = ww_h1_new(NULL, &cfg, &cbs);
    for (size_t i = 0; i < MAX_SEGS; i++) {
        const seg *s = &c->segs[i];
        if (s->dir == GAP) {
            ww_h1_gap(h, s->gap_dir, s->gap, 1);
            continue;
        }
        if (s->data == NULL)
            break;
        const uint8_t *p = (const uint8_t *)s->data;
        size_t n = seg_len(s);
        if (mode == 0) {
            ww_h1_data(h, s->dir, t_guard(p, n), n, 1);
        } else if (mode == 1) {
            for (size_t j = 0; j < n; j++)
                ww_h1_data(h, s->dir, t_guard(p + j, 1), 1, 1);
        } else {
            size_t a = k < n ? k : n;
            ww_h1_data(h, s->dir, t_guard(p, a), a, 1);
            ww_h1_data(h, s->dir, t_guard(p + a, n - a), n - a, 1);
        }
    }
    if (c->close)
        ww_h1_close(h, 2);
    ww_h1_free(h);
}

static void run_case(const tcase *c)
{
    run_script(c, 0, 0);
    if (strcmp(tr, c->want) != 0) {
        t_fail_msg(__FILE__, __LINE__, "case %s (whole):\n--- got\n%s--- want\n%s", c->name, tr,
                   c->want);
        T_CHECK(false);
        return;
    }
    T_CHECK(true);
    run_script(c, 1, 0);
    if (strcmp(tr, c->want) != 0) {
        t_fail_msg(__FILE__, __LINE__, "case %s (bytewise):\n--- got\n%s--- want\n%s", c->name,
                   tr, c->want);
        T_CHECK(false);
        return;
    }
    size_t maxn = 0;
    for (size_t i = 0; i < MAX_SEGS; i++)
        maxn = WW_MAX(maxn, seg_len(&c->segs[i]));
    for (size_t k = 1; k < maxn; k++) {
        run_script(c, 2, k);
        if (strcmp(tr, c->want) != 0) {
            t_fail_msg(__FILE__, __LINE__, "case %s (split %zu):\n--- got\n%s--- want\n%s",
                       c->name, k, tr, c->want);
            T_CHECK(false);
            return;
        }
    }
    T_CHECK(true);
}

#define S(d, s) {d, s, 0, 0, 0}
#define SB(d, s) {d, s, sizeof(s) - 1, 0, 0} /* a literal with NUL bytes */
#define G(d, n) {GAP, NULL, 0, d, n}

static const tcase cases[] = {
    {"get_keepalive",
     {S(C2S, "GET /a HTTP/1.1\r\nHost: x.test\r\n\r\n"),
      S(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello"),
      S(C2S, "GET /b HTTP/1.1\r\nhOsT: x.test\r\n\r\n"),
      S(S2C, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")},
     false, 1, 0, 0,
     "Q GET /a h=x.test cl=-1 b=-1\n"
     "R 200 GET /a h=x.test cl=5 b=5 K'hello'\n"
     "Q GET /b h=x.test cl=-1 b=-1\n"
     "R 404 GET /b h=x.test cl=0 b=0 K''\n"},
    {"pipelined",
     {S(C2S, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
             "POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"),
      S(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1HTTP/1.1 200 OK\r\nContent-Length: "
             "1\r\n\r\n2HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n3")},
     false, 0, 0, 0,
     "Q GET /1 h=h cl=-1 b=-1\nQ GET /2 h=h cl=-1 b=-1\nQ POST /3 h=h cl=3 b=3\n"
     "R 200 GET /1 h=h cl=1 b=1\nR 200 GET /2 h=h cl=1 b=1\nR 201 POST /3 h=h cl=1 b=1\n"},
    {"post_content_length",
     {S(C2S, "POST /rpc HTTP/1.1\r\nHost: rpc\r\nContent-Type: application/json\r\n"
             "Content-Length: 13\r\n\r\n{\"id\":1,\"a\":2}"),
      S(S2C, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok")},
     false, 2, 0, 0,
     "Q POST /rpc h=rpc cl=13 b=13 K'{\"id\":1,\"a\":2'\n! bad-request-line\n"
     "R 200 POST /rpc h=rpc cl=2 b=2\n"},
    {"chunked_ext_trailers",
     {S(C2S, "GET / HTTP/1.1\r\n\r\n"),
      S(S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5;name=val;x=\"q\"\r\nhello\r\n6 \r\n world\r\nA\nabcdefghij\n0\r\n"
             "X-Trailer: 1\r\nOther: 2\r\n\r\n"),
      S(C2S, "GET /n HTTP/1.1\r\n\r\n"),
      S(S2C, "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, CHUNKED\r\n\r\n0\r\n\r\n")},
     false, 1, 0, 0,
     "Q GET / h=- cl=-1 b=-1\nR 200 GET / h=- cl=-1 b=21 K'hello worldabcdefghij'\n"
     "Q GET /n h=- cl=-1 b=-1\nR 200 GET /n h=- cl=-1 b=0 K''\n"},
    {"head_response_no_body",
     {S(C2S, "HEAD /f HTTP/1.1\r\nHost: h\r\n\r\nGET /g HTTP/1.1\r\nHost: h\r\n\r\n"),
      S(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")},
     false, 0, 0, 0,
     "Q HEAD /f h=h cl=-1 b=-1\nQ GET /g h=h cl=-1 b=-1\n"
     "R 200 HEAD /f h=h cl=1000 b=-1\nR 200 GET /g h=h cl=2 b=2\n"},
    {"continue_then_200",
     {S(C2S, "PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"),
      S(S2C, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"),
      S(C2S, "data"), S(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
     false, 1, 0, 0, "Q PUT /u h=- cl=4 b=4 K'data'\nR 200 PUT /u h=- cl=0 b=0 K''\n"},
    {"no_body_204_304",
     {S(C2S, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"),
      S(S2C, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: "
             "99\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz")},
     false, 1, 0, 0,
     "Q GET /a h=- cl=-1 b=-1\nQ GET /b h=- cl=-1 b=-1\nQ GET /c h=- cl=-1 b=-1\n"
     "R 204 GET /a h=- cl=-1 b=-1\nR 304 GET /b h=- cl=99 b=-1\nR 200 GET /c h=- cl=1 b=1 K'z'\n"},
    {"until_close",
     {S(C2S, "GET /old HTTP/1.0\r\n\r\n"),
      S(S2C, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nline1\nline2\n")},
     true, 1, 0, 0, "Q GET /old h=- cl=-1 b=-1\nR 200 GET /old h=- cl=-1 b=12 K'line1\\x0aline2\\x0a'\n"},
    {"bare_lf",
     {S(C2S, "GET /lf HTTP/1.1\nHost: lf\n\n"), S(S2C, "HTTP/1.1 200 OK\nContent-Length: 1\n\nx")},
     false, 0, 0, 0, "Q GET /lf h=lf cl=-1 b=-1\nR 200 GET /lf h=lf cl=1 b=1\n"},
    {"leading_crlf",
     {S(C2S, "POST /p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\nGET /q HTTP/1.1\r\n\r\n")},
     false, 0, 0, 0, "Q POST /p h=- cl=1 b=1\nQ GET /q h=- cl=-1 b=-1\n"},
    {"lying_cl_short",
     {S(C2S, "GET / HTTP/1.1\r\n\r\n"), S(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")},
     true, 1, 0, 0,
     "Q GET / h=- cl=-1 b=-1\n! content-length-mismatch\nR 200 GET / h=- cl=10 b=3 T K'abc'\n"},
    {"lying_cl_long",
     {S(C2S, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
      S(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA JUNK\r\nmore\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz")},
     false, 1, 0, 0,
     "Q GET /1 h=- cl=-1 b=-1\nQ GET /2 h=- cl=-1 b=-1\nR 200 GET /1 h=- cl=3 b=3 K'abc'\n"
     "! bad-status-line\nR 200 GET /2 h=- cl=1 b=1 K'z'\n"},
    {"broken_chunking",
     {S(C2S, "GET /1 HTTP/1.1\r\n\r\n"),
      S(S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
      S(C2S, "POST /2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
             "GET /3 HTTP/1.1\r\n\r\n")},
     false, 1, 0, 0,
     "Q GET /1 h=- cl=-1 b=-1\n! bad-chunk\nR 200 GET /1 h=- cl=-1 b=3 T K'abc'\n"
     "R 200 - - h=- cl=0 b=0 K''\n! bad-chunk-size\nQ POST /2 h=- cl=-1 b=0 T K''\n"
     "Q GET /3 h=- cl=-1 b=-1\n"},
    {"chunk_size_overflow",
     {S(C2S, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
             "fffffffffffffffffff\r\nGET /n HTTP/1.1\r\n\r\n")},
     false, 0, 0, 0,
     "! bad-chunk-size\nQ POST / h=- cl=-1 b=0 T\nQ GET /n h=- cl=-1 b=-1\n"},
    {"header_cap",
     {S(C2S, "GET /big HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
             "\r\nGET /ok HTTP/1.1\r\n\r\n")},
     false, 0, 100, 0, "! header-too-long\nQ GET /ok h=- cl=-1 b=-1\n"},
    {"gap_mid_body",
     {S(C2S, "POST /g HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"), G(C2S, 6),
      S(C2S, "yzGET /next HTTP/1.1\r\n\r\n")},
     false, 1, 0, 0, "! gap\nQ POST /g h=- cl=10 b=2 T K'ab'\nQ GET /next h=- cl=-1 b=-1\n"},
    {"gap_past_body_resync",
     {S(C2S, "POST /g HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"), G(C2S, 50),
      S(C2S, "tail of something\r\nGET /next HTTP/1.1\r\n\r\n")},
     false, 0, 0, 0, "! gap\nQ POST /g h=- cl=10 b=2 T\nQ GET /next h=- cl=-1 b=-1\n"},
    {"gap_in_header",
     {S(C2S, "GET /lost HTTP/1.1\r\nHo"), G(C2S, 10), S(C2S, "GET /next HTTP/1.1\r\n\r\n")},
     false, 0, 0, 0, "! gap\nQ GET /next h=- cl=-1 b=-1\n"},
    {"garbage_resync",
     {SB(C2S, "\x16\x03\x01\x02\x00garbage\x00\xff\nnot http\r\nGET /ok HTTP/1.1\r\nHost: "
             "a\r\n\r\n"),
      S(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
     false, 0, 0, 0, "! bad-request-line\nQ GET /ok h=a cl=-1 b=-1\nR 200 GET /ok h=a cl=0 b=0\n"},
    {"nul_in_header",
     {SB(C2S, "GET /n HTTP/1.1\r\nX-A: a\0b\r\n\r\nGET /ok HTTP/1.1\r\n\r\n")},
     false, 0, 0, 0, "! bad-header\nQ GET /ok h=- cl=-1 b=-1\n"},
    {"conflicting_cl",
     {S(C2S, "POST /c HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd\r\n"
             "GET /ok HTTP/1.1\r\n\r\n")},
     false, 0, 0, 0, "! bad-content-length\nQ GET /ok h=- cl=-1 b=-1\n"},
    {"same_cl_twice_ok",
     {S(C2S, "POST /c HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc")},
     false, 0, 0, 0, "Q POST /c h=- cl=3 b=3\n"},
    {"cl_and_te",
     {S(C2S, "POST /s HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
             "1\r\nx\r\n0\r\n\r\n")},
     false, 1, 0, 0, "! cl-and-te\nQ POST /s h=- cl=-1 b=1 K'x'\n"},
    {"obs_fold",
     {S(C2S, "GET /f HTTP/1.1\r\nX-A: a\r\n  b\r\n\r\nPOST /g HTTP/1.1\r\nContent-Length: 1\r\n"
             " 2\r\n\r\nGET /h HTTP/1.1\r\n\r\n")},
     false, 0, 0, 0, "! obs-fold\nQ GET /f h=- cl=-1 b=-1\n! obs-fold\nQ GET /h h=- cl=-1 b=-1\n"},
    {"upgrade_101",
     {S(C2S, "GET /ws HTTP/1.1\r\nHost: w\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
      S(S2C, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"),
      S(C2S, "\x81\x85garbage frames")},
     true, 0, 0, 0,
     "Q GET /ws h=w cl=-1 b=-1\nR 101 GET /ws h=w cl=-1 b=-1\nU 101 websocket\n"},
    {"connect_200",
     {S(C2S, "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n"),
      S(S2C, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03")},
     false, 0, 0, 0,
     "Q CONNECT a.test:443 h=a.test:443 cl=-1 b=-1\nR 200 CONNECT a.test:443 h=a.test:443 "
     "cl=-1 b=-1\nU 200 -\n"},
    {"response_without_request",
     {S(S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 Oops\r\n\r\nrest")},
     true, 1, 0, 0, "R 200 - - h=- cl=2 b=2 K'ok'\nR 500 - - h=- cl=-1 b=4 K'rest'\n"},
    {"body_over_cap",
     {S(C2S, "POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n0123456789ab"),
      S(C2S, "GET /n HTTP/1.1\r\n\r\n")},
     false, 1, 0, 8,
     "! body-too-big\nQ POST / h=- cl=12 b=8 T K'01234567'\nQ GET /n h=- cl=-1 b=-1\n"},
    {"bad_te_request",
     {S(C2S, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /n HTTP/1.1\r\n\r\n")},
     false, 0, 0, 0, "! bad-transfer-encoding\nQ GET /n h=- cl=-1 b=-1\n"},
    {"truncated_header_on_close",
     {S(C2S, "GET / HTTP/1.1\r\nHost: a\r\n")}, true, 0, 0, 0, "! truncated-header\n"},
    {"chunked_close_early",
     {S(S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")},
     true, 1, 0, 0, "! body-truncated\nR 200 - - h=- cl=-1 b=2 T K'ab'\n"},
};

T_CASE(h1_table)
{
    for (size_t i = 0; i < WW_ARRAY_LEN(cases); i++)
        run_case(&cases[i]);
}

/* ---- compressed bodies, built here ---- */

static size_t z_compress(uint8_t *out, size_t cap, const void *in, size_t n, int wbits)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

static char rsp_buf[8][4096];

/* A response with `enc` body (binary) and Content-Encoding ce. */
static const char *mk_rsp(int slot, const char *ce, const uint8_t *body, size_t n, size_t *len)
{
    int k = snprintf(rsp_buf[slot], sizeof rsp_buf[slot],
                     "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n", ce, n);
    memcpy(rsp_buf[slot] + k, body, n);
    *len = (size_t)k + n;
    return rsp_buf[slot];
}

T_CASE(h1_content_codings)
{
    static const char text[] = "{\"jsonrpc\":\"2.0\",\"result\":\"0x1234\"} padding padding";
    uint8_t enc[1024], enc2[1024];
    size_t n, n2, l[6];
    tcase c;
    memset(&c, 0, sizeof c);
    c.name = "codings";
    c.keep = 1;
    c.segs[0] = (seg)S(C2S, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"
                            "GET /4 HTTP/1.1\r\n\r\nGET /5 HTTP/1.1\r\n\r\n");
    n = z_compress(enc, sizeof enc, text, sizeof text - 1, 31);
    c.segs[1] = (seg){S2C, mk_rsp(0, "gzip", enc, n, &l[0]), l[0], 0, 0};
    n = z_compress(enc, sizeof enc, text, sizeof text - 1, 15);
    c.segs[2] = (seg){S2C, mk_rsp(1, "deflate", enc, n, &l[1]), l[1], 0, 0};
    n = z_compress(enc, sizeof enc, text, sizeof text - 1, -15);
    c.segs[3] = (seg){S2C, mk_rsp(2, "deflate", enc, n, &l[2]), l[2], 0, 0};
    n = sizeof enc;
    T_CHECK(BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, sizeof text - 1, (const uint8_t *)text,
                                  &n, enc));
    c.segs[4] = (seg){S2C, mk_rsp(3, "br", enc, n, &l[3]), l[3], 0, 0};
    n = z_compress(enc, sizeof enc, text, sizeof text - 1, 31);
    n2 = sizeof enc2;
    T_CHECK(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, n, enc, &n2, enc2));
    c.segs[5] = (seg){S2C, mk_rsp(4, "gzip, br", enc2, n2, &l[4]), l[4], 0, 0};
    const char *body = "K'{\"jsonrpc\":\"2.0\",\"result\":\"0x1234\"} padd'";
    static char want[2048];
    snprintf(want, sizeof want,
             "Q GET /1 h=- cl=-1 b=-1\nQ GET /2 h=- cl=-1 b=-1\nQ GET /3 h=- cl=-1 b=-1\n"
             "Q GET /4 h=- cl=-1 b=-1\nQ GET /5 h=- cl=-1 b=-1\n"
             "R 200 GET /1 h=- cl=%zu b=51 ce=gzip %s\n"
             "R 200 GET /2 h=- cl=%zu b=51 ce=deflate %s\n"
             "R 200 GET /3 h=- cl=%zu b=51 ce=deflate %s\n"
             "R 200 GET /4 h=- cl=%zu b=51 ce=br %s\n"
             "R 200 GET /5 h=- cl=%zu b=51 ce=gzip, br %s\n",
             l[0] - (size_t)(strstr(rsp_buf[0], "\r\n\r\n") + 4 - rsp_buf[0]), body,
             l[1] - (size_t)(strstr(rsp_buf[1], "\r\n\r\n") + 4 - rsp_buf[1]), body,
             l[2] - (size_t)(strstr(rsp_buf[2], "\r\n\r\n") + 4 - rsp_buf[2]), body,
             l[3] - (size_t)(strstr(rsp_buf[3], "\r\n\r\n") + 4 - rsp_buf[3]), body,
             l[4] - (size_t)(strstr(rsp_buf[4], "\r\n\r\n") + 4 - rsp_buf[4]), body);
    c.want = want;
    run_case(&c);

    /* skipped: counted as sent, never decoded */
    c.keep = 0;
    snprintf(want, sizeof want,
             "Q GET /1 h=- cl=-1 b=-1\nQ GET /2 h=- cl=-1 b=-1\nQ GET /3 h=- cl=-1 b=-1\n"
             "Q GET /4 h=- cl=-1 b=-1\nQ GET /5 h=- cl=-1 b=-1\n"
             "R 200 GET /1 h=- cl=%1$zu b=%1$zu ce=gzip\n"
             "R 200 GET /2 h=- cl=%2$zu b=%2$zu ce=deflate\n"
             "R 200 GET /3 h=- cl=%3$zu b=%3$zu ce=deflate\n"
             "R 200 GET /4 h=- cl=%4$zu b=%4$zu ce=br\n"
             "R 200 GET /5 h=- cl=%5$zu b=%5$zu ce=gzip, br\n",
             l[0] - (size_t)(strstr(rsp_buf[0], "\r\n\r\n") + 4 - rsp_buf[0]),
             l[1] - (size_t)(strstr(rsp_buf[1], "\r\n\r\n") + 4 - rsp_buf[1]),
             l[2] - (size_t)(strstr(rsp_buf[2], "\r\n\r\n") + 4 - rsp_buf[2]),
             l[3] - (size_t)(strstr(rsp_buf[3], "\r\n\r\n") + 4 - rsp_buf[3]),
             l[4] - (size_t)(strstr(rsp_buf[4], "\r\n\r\n") + 4 - rsp_buf[4]));
    run_case(&c);
}

/* A gzip bomb as a response body: capped, anomaly, and the connection parses on. */
static int bomb_msgs;
static bool bomb_trunc;
static size_t bomb_len;
static void bomb_msg(void *ud, const ww_http_msg *m, uint64_t ts)
{
    (void)ud;
    (void)ts;
    if (m->is_request)
        return;
    bomb_msgs++;
    if (bomb_msgs == 1) {
        bomb_trunc = m->body_truncated;
        bomb_len = m->body.len;
    }
}

T_CASE(h1_gzip_bomb)
{
    /* 256 MiB of zeros, gzip'd streaming here */
    static uint8_t zeros[1 << 16];
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY);
    size_t cap = 1 << 20, len = 0;
    uint8_t *enc = malloc(cap);
    for (int i = 0; i < 4096; i++) {
        z.next_in = zeros;
        z.avail_in = sizeof zeros;
        int fl = i == 4095 ? Z_FINISH : Z_NO_FLUSH;
        do {
            z.next_out = enc + len;
            z.avail_out = (uInt)(cap - len);
            deflate(&z, fl);
            len = cap - z.avail_out;
        } while (z.avail_in > 0);
    }
    deflateEnd(&z);
    T_CHECK(len < cap);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", len);
    ww_app_cfg cfg = {0};
    cfg.max_body_bytes = 1 << 20;
    ww_h1_cbs b = {NULL, cb_want, bomb_msg, cb_anom, NULL, NULL, NULL};
    keep_mode = 1;
    tr_len = 0;
    tr[0] = 0;
    bomb_msgs = 0;
    ww_h1 *h = ww_h1_new(NULL, &cfg, &b);
    ww_h1_data(h, C2S, (const uint8_t *)"GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n", 38, 1);
    ww_h1_data(h, S2C, (const uint8_t *)head, (size_t)hl, 1);
    for (size_t o = 0; o < len; o += 1400)
        ww_h1_data(h, S2C, enc + o, WW_MIN((size_t)1400, len - o), 1);
    ww_h1_data(h, S2C, (const uint8_t *)"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38, 1);
    T_EQ_STR(tr, "! decompression-cap\n");
    T_EQ_INT(bomb_msgs, 2);
    T_CHECK(bomb_trunc);
    T_CHECK(bomb_len <= (size_t)1 << 20);
    T_CHECK(bomb_len >= (size_t)1 << 19);
    T_EQ_INT(ww_h1_stats_get(h)->responses, 2);
    ww_h1_free(h);
    free(enc);
}

/* hash_bodies keeps and hashes every body, whatever want_body says. */
T_CASE(h1_hash_bodies)
{
    ww_app_cfg cfg = {0};
    cfg.hash_bodies = true;
    keep_mode = 0;
    tr_len = 0;
    tr[0] = 0;
    ww_h1 *h = ww_h1_new(NULL, &cfg, &cbs);
    const char *m = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    ww_h1_data(h, C2S, (const uint8_t *)m, strlen(m), 1);
    /* sha256("abc") = ba7816bf... */
    T_EQ_STR(tr, "Q POST / h=- cl=3 b=3 K'abc' sha=ba78\n");
    ww_h1_free(h);
}

/* Stats, and the bytes after an upgrade handed on. */
static ww_h1 *up_h;
static char up_rest[64];
static void up_cb(void *ud, int status, const char *u)
{
    (void)ud;
    (void)status;
    (void)u;
    ww_slice s;
    ww_h1_upgrade_rest(up_h, &s);
    snprintf(up_rest, sizeof up_rest, "%.*s", (int)s.len, (const char *)s.ptr);
}

T_CASE(h1_stats_and_upgrade_rest)
{
    ww_h1_cbs b = {NULL, cb_want, cb_msg, cb_anom, up_cb, NULL, NULL};
    keep_mode = 0;
    tr_len = 0;
    up_h = ww_h1_new(NULL, NULL, &b);
    const char *q = "GET / HTTP/1.1\r\n\r\nGET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
    const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 101 S\r\n"
                    "Upgrade: websocket\r\n\r\nFRAMES";
    ww_h1_data(up_h, C2S, (const uint8_t *)q, strlen(q), 1);
    ww_h1_data(up_h, S2C, (const uint8_t *)r, strlen(r), 1);
    ww_h1_data(up_h, S2C, (const uint8_t *)"more", 4, 1);
    T_EQ_STR(up_rest, "FRAMES");
    const ww_h1_stats *st = ww_h1_stats_get(up_h);
    T_EQ_INT(st->requests, 2);
    T_EQ_INT(st->responses, 2);
    T_EQ_INT(st->bodies_skipped, 1);
    T_EQ_INT(st->body_bytes_skipped, 5);
    T_EQ_INT(st->upgrades, 1);
    T_EQ_INT(st->ignored_bytes, 10); /* FRAMES, more */
    ww_h1_free(up_h);
}
