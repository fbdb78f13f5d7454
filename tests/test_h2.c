/*
 * test_h2.c - HTTP/2 decoder (decode/h2.c): RFC 7541 Appendix C through our HPACK integration
 * (whole and byte by byte), framing (padding, priority, CONTINUATION, split frames), pairing,
 * bodies, and abuse: CONTINUATION flood, HPACK table-size abuse, HPACK garbage, stream-id
 * reuse, DATA on unknown streams, too many streams. Plus h2c / WebSocket-over-h2 through ww_app.
 */
#include "decode/h2_int.h"
#include "tests/t.h"

#include <zlib.h>
#include <zstd.h>

/* ---- a recorder for what the decoder reports ---- */
typedef struct rec {
    char fields[4096]; /* "sid dir name: value\n"... */
    size_t flen;
    int nmsg;
    ww_http_msg last[16];
    char last_url[16][128], last_host[16][128], last_method[16][16], last_loc[16][64];
    uint8_t last_body[16][256];
    uint32_t sid[16];
    int nanom;
    char anoms[1024];
    bool keep;
} rec;

static bool r_want(void *ud, const ww_http_msg *m)
{
    (void)m;
    return ((rec *)ud)->keep;
}

static void r_msg(void *ud, const ww_http_msg *m, uint32_t sid, uint64_t ts)
{
    rec *r = ud;
    (void)ts;
    if (r->nmsg >= 16)
        return;
    int i = r->nmsg++;
    r->last[i] = *m;
    r->sid[i] = sid;
    snprintf(r->last_url[i], 128, "%s", m->url ? m->url : "");
    snprintf(r->last_host[i], 128, "%s", m->host ? m->host : "");
    snprintf(r->last_method[i], 16, "%s", m->method ? m->method : "");
    snprintf(r->last_loc[i], 64, "%s", m->location ? m->location : "");
    if (m->body_kept)
        memcpy(r->last_body[i], m->body.ptr, WW_MIN(m->body.len, 256));
    r->last[i].body.ptr = r->last_body[i];
}

static void r_anom(void *ud, const char *type, const char *detail)
{
    rec *r = ud;
    (void)detail;
    r->nanom++;
    size_t l = strlen(r->anoms);
    snprintf(r->anoms + l, sizeof r->anoms - l, "%s;", type);
}

static void r_field(void *ud, uint32_t sid, int dir, const uint8_t *n, size_t nl, const uint8_t *v,
                    size_t vl)
{
    rec *r = ud;
    (void)sid;
    (void)dir;
    int k = snprintf(r->fields + r->flen, sizeof r->fields - r->flen, "%.*s: %.*s\n", (int)nl,
                     (const char *)n, (int)vl, (const char *)v);
    if (k > 0 && r->flen + (size_t)k < sizeof r->fields)
        r->flen += (size_t)k;
}

static ww_h2 *mk(rec *r)
{
    memset(r, 0, sizeof(*r));
    r->keep = true;
    ww_h2_cbs cbs = {r, r_want, r_msg, r_anom, NULL, NULL, NULL, r_field, NULL, NULL};
    ww_app_cfg cfg = {.max_header_bytes = 64 * 1024, .max_body_bytes = 1 << 20,
                      .max_decoded_ratio = 100, .json_max_depth = 64, .hash_bodies = false};
    return ww_h2_new(NULL, &cfg, &cbs);
}

/* ---- frame building ---- */
typedef struct fb {
    uint8_t b[1 << 17];
    size_t n;
} fb;

static void put(fb *f, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void frame(fb *f, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
                    (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
    put(f, h, 9);
    put(f, p, n);
}

static size_t unhex(uint8_t *out, const char *hex)
{
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1];) {
        if (*p == ' ') {
            p++;
            continue;
        }
        out[n++] = (uint8_t)(ww_hex_val(p[0]) << 4 | ww_hex_val(p[1]));
        p += 2;
    }
    return n;
}

static void preface(fb *f)
{
    put(f, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    frame(f, 4, 0, 0, NULL, 0);
}

/* Feeds f whole (bytewise false) or one byte at a time. */
static void feed(ww_h2 *h, int dir, const fb *f, bool bytewise)
{
    if (!bytewise) {
        ww_h2_data(h, dir, f->b, f->n, 1);
        return;
    }
    for (size_t i = 0; i < f->n; i++)
        ww_h2_data(h, dir, f->b + i, 1, 1);
}

static fb F1, F2; /* static: big */

/* ---- RFC 7541 Appendix C ---- */

T_CASE(h2_rfc7541_c2)
{
    /* C.2.1 - C.2.4, each on a fresh decoder, as the header block of a request */
    static const struct {
        const char *hex, *want;
    } v[] = {
        {"400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
         "custom-key: custom-header\n"},
        {"040c 2f73 616d 706c 652f 7061 7468", ":path: /sample/path\n"},
        {"1008 7061 7373 776f 7264 0673 6563 7265 74", "password: secret\n"},
        {"82", ":method: GET\n"},
    };
    for (size_t i = 0; i < WW_ARRAY_LEN(v); i++) {
        rec r;
        ww_h2 *h = mk(&r);
        uint8_t blk[256];
        size_t n = unhex(blk, v[i].hex);
        F1.n = 0;
        preface(&F1);
        frame(&F1, 1, 0x5, 1, blk, n);
        feed(h, WW_DIR_TOSERVER, &F1, false);
        T_EQ_STR(r.fields, v[i].want);
        T_EQ_INT(r.nmsg, 1);
        T_EQ_INT(r.nanom, 0);
        ww_h2_free(h);
    }
}

static const char *c3_req[2][3] = {
    {"8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865",
     "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"},
    {"8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf",
     "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"},
};
static const char *c3_want[3] = {
    ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n",
    ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\ncache-control: no-cache\n",
    ":method: GET\n:scheme: https\n:path: /index.html\n:authority: www.example.com\n"
    "custom-key: custom-value\n",
};

T_CASE(h2_rfc7541_c3_c4_requests)
{
    for (int huff = 0; huff < 2; huff++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            rec r;
            ww_h2 *h = mk(&r);
            F1.n = 0;
            preface(&F1);
            feed(h, WW_DIR_TOSERVER, &F1, bytewise);
            for (int i = 0; i < 3; i++) {
                uint8_t blk[256];
                size_t n = unhex(blk, c3_req[huff][i]);
                F1.n = 0;
                frame(&F1, 1, 0x5, (uint32_t)(1 + 2 * i), blk, n);
                r.flen = 0;
                r.fields[0] = 0;
                feed(h, WW_DIR_TOSERVER, &F1, bytewise);
                T_EQ_STR(r.fields, c3_want[i]);
            }
            T_EQ_INT(r.nmsg, 3);
            T_EQ_STR(r.last_url[2], "/index.html");
            T_EQ_STR(r.last_host[2], "www.example.com");
            T_EQ_INT(r.sid[2], 5);
            T_EQ_INT(r.nanom, 0);
            ww_h2_free(h);
        }
    }
}

static const char *c5_resp[2][3] = {
    {"4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a "
     "3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
     "4803 3330 37c1 c0bf",
     "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 "
     "677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 "
     "553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"},
    {"4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e "
     "919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
     "4883 640e ffc1 c0bf",
     "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 "
     "821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed "
     "4ee5 b106 3d50 07"},
};
static const char *c5_want[3] = {
    ":status: 302\ncache-control: private\ndate: Mon, 21 Oct 2013 20:13:21 GMT\n"
    "location: https://www.example.com\n",
    ":status: 307\ncache-control: private\ndate: Mon, 21 Oct 2013 20:13:21 GMT\n"
    "location: https://www.example.com\n",
    ":status: 200\ncache-control: private\ndate: Mon, 21 Oct 2013 20:13:22 GMT\n"
    "location: https://www.example.com\ncontent-encoding: gzip\n"
    "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1\n",
};

T_CASE(h2_rfc7541_c5_c6_responses_table_256)
{
    for (int huff = 0; huff < 2; huff++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            rec r;
            ww_h2 *h = mk(&r);
            r.keep = false;
            /* client: preface, SETTINGS_HEADER_TABLE_SIZE = 256, three GET / */
            static const uint8_t hts[6] = {0, 1, 0, 0, 1, 0};
            static const uint8_t get[2] = {0x82, 0x84};
            F1.n = 0;
            put(&F1, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
            frame(&F1, 4, 0, 0, hts, 6);
            for (int i = 0; i < 3; i++)
                frame(&F1, 1, 0x5, (uint32_t)(1 + 2 * i), get, 2);
            feed(h, WW_DIR_TOSERVER, &F1, bytewise);
            T_EQ_INT(r.nmsg, 3);
            /* server: its SETTINGS, the ACK (the 256 applies now), the three responses; the first
             * block starts with the size update a conformant encoder sends (3f e1 01 = 256) */
            F2.n = 0;
            frame(&F2, 4, 0, 0, NULL, 0);
            frame(&F2, 4, 1, 0, NULL, 0);
            feed(h, WW_DIR_TOCLIENT, &F2, bytewise);
            for (int i = 0; i < 3; i++) {
                uint8_t blk[512];
                size_t n = 0;
                if (i == 0)
                    n = unhex(blk, "3fe101");
                n += unhex(blk + n, c5_resp[huff][i]);
                F2.n = 0;
                frame(&F2, 1, 0x5, (uint32_t)(1 + 2 * i), blk, n);
                r.flen = 0;
                r.fields[0] = 0;
                feed(h, WW_DIR_TOCLIENT, &F2, bytewise);
                T_EQ_STR(r.fields, c5_want[i]);
            }
            T_EQ_INT(r.nmsg, 6);
            T_EQ_INT(r.last[3].status, 302);
            T_EQ_INT(r.last[4].status, 307);
            T_EQ_INT(r.last[5].status, 200);
            T_EQ_STR(r.last[5].content_encoding ? "x" : NULL, "x");
            /* Location reaches the message (served as a header provenance, issue 13.1) */
            T_EQ_STR(r.last_loc[3], "https://www.example.com");
            T_EQ_STR(r.last_loc[5], "https://www.example.com");
            T_EQ_STR(r.last_loc[0], "");
            T_EQ_INT(r.nanom, 0);
            T_CHECK(!ww_h2_poisoned(h));
            ww_h2_free(h);
        }
    }
}

/* Without the SETTINGS the 256-byte table is not in force: C.5.3 then differs (no eviction),
 * so the check above can fail. */
T_CASE(h2_rfc7541_table_size_matters)
{
    rec r;
    ww_h2 *h = mk(&r);
    static const uint8_t get[2] = {0x82, 0x84};
    F1.n = 0;
    preface(&F1);
    for (int i = 0; i < 3; i++)
        frame(&F1, 1, 0x5, (uint32_t)(1 + 2 * i), get, 2);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    F2.n = 0;
    for (int i = 0; i < 3; i++) {
        uint8_t blk[512];
        size_t n = unhex(blk, c5_resp[0][i]);
        frame(&F2, 1, 0x5, (uint32_t)(1 + 2 * i), blk, n);
    }
    r.flen = 0;
    feed(h, WW_DIR_TOCLIENT, &F2, false);
    T_CHECK(strstr(r.fields, "set-cookie") != NULL);
    /* with a 4096-byte table nothing was evicted: index 63 (c0) still names the 302's location */
    T_EQ_INT(r.nmsg, 6);
    ww_h2_free(h);
}

/* ---- framing ---- */

static size_t req_block(uint8_t *b, const char *method, const char *path, const char *ctype,
                        const char *cenc)
{
    /* literal without indexing, new names (0x00): simple and position independent */
    size_t n = 0;
    const char *nv[8] = {":method", method, ":path", path, "content-type", ctype,
                         "content-encoding", cenc};
    for (int i = 0; i < 8; i += 2) {
        if (nv[i + 1] == NULL)
            continue;
        size_t a = strlen(nv[i]), v = strlen(nv[i + 1]);
        b[n++] = 0x00;
        b[n++] = (uint8_t)a;
        memcpy(b + n, nv[i], a);
        n += a;
        b[n++] = (uint8_t)v;
        memcpy(b + n, nv[i + 1], v);
        n += v;
    }
    return n;
}

T_CASE(h2_padding_priority_continuation_split)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        rec r;
        ww_h2 *h = mk(&r);
        uint8_t blk[256], pay[512];
        size_t n = req_block(blk, "POST", "/rpc", "application/json", NULL);
        F1.n = 0;
        preface(&F1);
        /* HEADERS: PADDED | PRIORITY, first half of the block; CONTINUATION with the rest */
        size_t k = 0, half = n / 2;
        pay[k++] = 3; /* pad length */
        memcpy(pay + k, "\x80\x00\x00\x00\x10", 5);
        k += 5;
        memcpy(pay + k, blk, half);
        k += half;
        memset(pay + k, 0, 3);
        k += 3;
        frame(&F1, 1, 0x8 | 0x20, 1, pay, k);
        frame(&F1, 9, 0x4, 1, blk + half, n - half);
        frame(&F1, 2, 0, 1, "\x00\x00\x00\x00\x10", 5); /* PRIORITY */
        frame(&F1, 8, 0, 0, "\x00\x00\x10\x00", 4);     /* WINDOW_UPDATE */
        frame(&F1, 6, 0, 0, "12345678", 8);             /* PING */
        /* DATA padded, then DATA with END_STREAM */
        k = 0;
        pay[k++] = 7;
        memcpy(pay + k, "{\"a\":", 5);
        k += 5;
        memset(pay + k, 0, 7);
        k += 7;
        frame(&F1, 0, 0x8, 1, pay, k);
        frame(&F1, 0, 0x1, 1, "1}", 2);
        feed(h, WW_DIR_TOSERVER, &F1, bytewise);
        T_EQ_INT(r.nmsg, 1);
        T_EQ_STR(r.last_method[0], "POST");
        T_EQ_STR(r.last_url[0], "/rpc");
        T_EQ_INT(r.last[0].body_len, 7);
        T_EQ_MEM(r.last_body[0], "{\"a\":1}", 7);
        T_EQ_INT(r.nanom, 0);
        /* the response on the same stream pairs with it, gzip body decoded */
        uint8_t gz[128];
        z_stream z;
        memset(&z, 0, sizeof z);
        T_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
        z.next_in = (Bytef *)"hello h2 world";
        z.avail_in = 14;
        z.next_out = gz;
        z.avail_out = sizeof gz;
        T_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
        size_t gzn = sizeof gz - z.avail_out;
        deflateEnd(&z);
        uint8_t rb[64] = {0x88}; /* :status 200 */
        size_t rn = 1;
        rb[rn++] = 0x00;
        rb[rn++] = 16;
        memcpy(rb + rn, "content-encoding", 16);
        rn += 16;
        rb[rn++] = 4;
        memcpy(rb + rn, "gzip", 4);
        rn += 4;
        F2.n = 0;
        frame(&F2, 4, 0, 0, NULL, 0);
        frame(&F2, 1, 0x4, 1, rb, rn);
        frame(&F2, 0, 0, 1, gz, 5);
        frame(&F2, 0, 0x1, 1, gz + 5, gzn - 5);
        feed(h, WW_DIR_TOCLIENT, &F2, bytewise);
        T_EQ_INT(r.nmsg, 2);
        T_EQ_INT(r.last[1].status, 200);
        T_EQ_STR(r.last_url[1], "/rpc");
        T_EQ_INT(r.last[1].body_len, 14);
        T_EQ_MEM(r.last_body[1], "hello h2 world", 14);
        T_EQ_INT(r.nanom, 0);
        ww_h2_free(h);
    }
}

T_CASE(h2_trailers_and_interim)
{
    rec r;
    ww_h2 *h = mk(&r);
    uint8_t blk[256];
    size_t n = req_block(blk, "POST", "/svc", "application/grpc", NULL);
    F1.n = 0;
    preface(&F1);
    frame(&F1, 1, 0x4, 3, blk, n);
    frame(&F1, 0, 0x1, 3, "abc", 3);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    F2.n = 0;
    frame(&F2, 1, 0x4, 3, "\x08\x03" "100", 5); /* :status 100 (literal, indexed name 8) */
    frame(&F2, 1, 0x4, 3, "\x88", 1);
    frame(&F2, 0, 0, 3, "xyz", 3);
    frame(&F2, 1, 0x5, 3, "\x00\x0bgrpc-status\x01" "0", 15); /* trailers */
    feed(h, WW_DIR_TOCLIENT, &F2, false);
    T_EQ_INT(r.nmsg, 2);
    T_EQ_INT(r.last[1].status, 200);
    T_EQ_INT(r.last[1].body_len, 3);
    T_CHECK(strstr(r.fields, "grpc-status: 0") != NULL);
    T_EQ_INT(r.nanom, 0);
    ww_h2_free(h);
}

/* ---- abuse ---- */

T_CASE(h2_continuation_flood)
{
    rec r;
    ww_h2 *h = mk(&r);
    static uint8_t junk[1024];
    memset(junk, 0x00, sizeof junk);
    F1.n = 0;
    preface(&F1);
    frame(&F1, 1, 0, 1, junk, 100); /* no END_HEADERS */
    feed(h, WW_DIR_TOSERVER, &F1, false);
    for (int i = 0; i < 200 && !ww_h2_poisoned(h); i++) {
        F1.n = 0;
        frame(&F1, 9, 0, 1, junk, sizeof junk);
        feed(h, WW_DIR_TOSERVER, &F1, false);
    }
    T_CHECK(ww_h2_poisoned(h));
    T_CHECK(strstr(r.anoms, "h2-header-too-big") != NULL);
    T_EQ_INT(r.nanom, 1);
    T_EQ_INT(r.nmsg, 0);
    /* abandoned: later valid traffic is not decoded, and costs nothing */
    uint8_t blk[64];
    size_t n = req_block(blk, "GET", "/", NULL, NULL);
    F1.n = 0;
    frame(&F1, 1, 0x5, 3, blk, n);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    T_EQ_INT(r.nmsg, 0);
    ww_h2_free(h);
}

T_CASE(h2_hpack_table_size_abuse)
{
    rec r;
    ww_h2 *h = mk(&r);
    /* the client asks for a 1 GiB table: capped at 64 KiB with an anomaly */
    static const uint8_t big[6] = {0, 1, 0x40, 0, 0, 0};
    F1.n = 0;
    put(&F1, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    frame(&F1, 4, 0, 0, big, 6);
    static const uint8_t get[2] = {0x82, 0x84};
    frame(&F1, 1, 0x5, 1, get, 2);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    T_CHECK(strstr(r.anoms, "hpack-table-too-big") != NULL);
    /* the server acks, then its encoder announces a 1 MiB table: over what we allow */
    F2.n = 0;
    frame(&F2, 4, 1, 0, NULL, 0);
    uint8_t blk[8];
    size_t n = unhex(blk, "3fe1ff3f 88"); /* size update 31 + 0x3fff + ... */
    blk[0] = 0x3f;                        /* 5-bit prefix all ones */
    blk[1] = 0xe1;                        /* 1048576 - 31 = 1048545 = 0x0fffe1 */
    blk[2] = 0xff;
    blk[3] = 0x3f;
    blk[4] = 0x88;
    n = 5;
    frame(&F2, 1, 0x5, 1, blk, n);
    feed(h, WW_DIR_TOCLIENT, &F2, false);
    T_CHECK(ww_h2_poisoned(h));
    T_CHECK(strstr(r.anoms, "hpack-error") != NULL);
    T_EQ_INT(r.nmsg, 1); /* the request only */
    ww_h2_free(h);

    /* an update within the 64 KiB cap is fine */
    h = mk(&r);
    F1.n = 0;
    put(&F1, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    static const uint8_t ok64[6] = {0, 1, 0, 1, 0, 0};
    frame(&F1, 4, 0, 0, ok64, 6);
    frame(&F1, 1, 0x5, 1, get, 2);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    F2.n = 0;
    frame(&F2, 4, 1, 0, NULL, 0);
    blk[0] = 0x3f; /* 65536 - 31 = 65505 = 0xffe1 -> e1 ff 03 */
    blk[1] = 0xe1;
    blk[2] = 0xff;
    blk[3] = 0x03;
    blk[4] = 0x88;
    frame(&F2, 1, 0x5, 1, blk, 5);
    feed(h, WW_DIR_TOCLIENT, &F2, false);
    T_CHECK(!ww_h2_poisoned(h));
    T_EQ_INT(r.nmsg, 2);
    T_EQ_INT(r.nanom, 0);
    ww_h2_free(h);
}

T_CASE(h2_hpack_garbage_poisons_one_connection)
{
    rec r1, r2;
    ww_h2 *a = mk(&r1), *b = mk(&r2);
    F1.n = 0;
    preface(&F1);
    frame(&F1, 1, 0x5, 1, "\xbf\xff\xff", 3); /* index far past both tables */
    feed(a, WW_DIR_TOSERVER, &F1, false);
    T_CHECK(ww_h2_poisoned(a));
    T_CHECK(strstr(r1.anoms, "hpack-error") != NULL);
    F1.n = 0;
    preface(&F1);
    frame(&F1, 1, 0x5, 1, "\x82\x84", 2);
    feed(b, WW_DIR_TOSERVER, &F1, false);
    T_EQ_INT(r2.nmsg, 1);
    T_CHECK(!ww_h2_poisoned(b));
    ww_h2_free(a);
    ww_h2_free(b);
}

T_CASE(h2_stream_reuse_and_unknown_data)
{
    rec r;
    ww_h2 *h = mk(&r);
    uint8_t blk[128];
    F1.n = 0;
    preface(&F1);
    /* stream 1 with a literal WITH indexing (enters the dynamic table as index 62) */
    size_t n = 0;
    blk[n++] = 0x82;
    blk[n++] = 0x44; /* :path, incremental indexing, name index 4 */
    blk[n++] = 5;
    memcpy(blk + n, "/once", 5);
    n += 5;
    frame(&F1, 1, 0x5, 1, blk, n);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    F2.n = 0;
    frame(&F2, 1, 0x5, 1, "\x88", 1);
    frame(&F2, 0, 0x1, 7, "stray", 5); /* DATA on a stream nobody opened */
    feed(h, WW_DIR_TOCLIENT, &F2, false);
    T_EQ_INT(r.nmsg, 2);
    T_CHECK(strstr(r.anoms, "h2-unknown-stream") != NULL);
    /* stream 1 again (closed): ignored, but its block still feeds the table (adds /twice) */
    F1.n = 0;
    n = 0;
    blk[n++] = 0x82;
    blk[n++] = 0x44;
    blk[n++] = 6;
    memcpy(blk + n, "/twice", 6);
    n += 6;
    frame(&F1, 1, 0x5, 1, blk, n);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    T_EQ_INT(r.nmsg, 2);
    T_CHECK(strstr(r.anoms, "h2-stream-reuse") != NULL);
    /* stream 3 uses dynamic entries 62 (/twice) and 63 (/once): HPACK stayed in sync */
    F1.n = 0;
    frame(&F1, 1, 0x5, 3, "\x82\xbe", 2);
    frame(&F1, 1, 0x5, 5, "\x82\xbf", 2);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    T_EQ_INT(r.nmsg, 4);
    T_EQ_STR(r.last_url[2], "/twice");
    T_EQ_STR(r.last_url[3], "/once");
    T_CHECK(!ww_h2_poisoned(h));
    ww_h2_free(h);
}

T_CASE(h2_too_many_streams)
{
    rec r;
    ww_h2 *h = mk(&r);
    r.keep = false;
    F1.n = 0;
    preface(&F1);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    /* 1100 requests that never end */
    for (uint32_t i = 0; i < 1100; i++) {
        F1.n = 0;
        frame(&F1, 1, 0x4, 1 + 2 * i, "\x83\x84", 2); /* POST / */
        feed(h, WW_DIR_TOSERVER, &F1, false);
    }
    T_CHECK(strstr(r.anoms, "h2-too-many-streams") != NULL);
    T_EQ_INT(r.nanom, 1100 - WW_H2_MAX_STREAMS);
    T_EQ_INT(r.nmsg, 16); /* the recorder keeps 16: the dropped ones were delivered, truncated */
    T_CHECK(r.last[0].body_truncated);
    ww_h2_close(h, 2);
    ww_h2_free(h);
}

T_CASE(h2_bad_preface_and_gap)
{
    rec r;
    ww_h2 *h = mk(&r);
    ww_h2_data(h, WW_DIR_TOSERVER, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, 1);
    T_CHECK(ww_h2_poisoned(h));
    T_CHECK(strstr(r.anoms, "h2-bad-preface") != NULL);
    ww_h2_free(h);
    h = mk(&r);
    F1.n = 0;
    preface(&F1);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    ww_h2_gap(h, WW_DIR_TOCLIENT, 100, 1);
    T_CHECK(ww_h2_poisoned(h));
    ww_h2_free(h);
}

/* A frame header claiming 16 MiB - 1 of HEADERS: refused before anything is buffered. */
T_CASE(h2_huge_header_frame)
{
    rec r;
    ww_h2 *h = mk(&r);
    F1.n = 0;
    preface(&F1);
    put(&F1, "\xff\xff\xff\x01\x04\x00\x00\x00\x01", 9);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    T_CHECK(ww_h2_poisoned(h));
    T_CHECK(strstr(r.anoms, "h2-header-too-big") != NULL);
    ww_h2_free(h);
}

/* ---- through ww_app: h2c prior knowledge with a JSON-RPC call, and WebSocket over h2 ---- */

typedef struct app_rec {
    int calls, served, http, anoms;
    char proto[32], url[64], to[64];
} app_rec;

static void a_wc(void *ud, const ww_ctx *ctx, const ww_wallet_call *wc)
{
    app_rec *a = ud;
    a->calls++;
    snprintf(a->proto, sizeof a->proto, "%s", ctx->app_proto ? ctx->app_proto : "");
    snprintf(a->url, sizeof a->url, "%s", ctx->http && ctx->http->url ? ctx->http->url : "");
    for (size_t i = 0; i < wc->n_parties; i++)
        if (wc->parties[i].role == WW_ROLE_TO)
            snprintf(a->to, sizeof a->to, "%s", wc->parties[i].addr.text);
}

static void a_served(void *ud, const ww_ctx *ctx, const ww_addr *ad)
{
    (void)ctx;
    (void)ad;
    ((app_rec *)ud)->served++;
}

static void a_anom(void *ud, const ww_ctx *ctx, const char *l, const char *t, const char *d)
{
    (void)ctx;
    (void)l;
    (void)t;
    (void)d;
    ((app_rec *)ud)->anoms++;
}

static void a_http(void *ud, const ww_ctx *ctx, const ww_http_msg *m)
{
    (void)ctx;
    (void)m;
    ((app_rec *)ud)->http++;
}

/* An app layer whose sink records into ar, with flow f opened. */
static ww_app *app_start(app_rec *ar, ww_flow *f)
{
    ww_decode_sink sink;
    memset(ar, 0, sizeof *ar);
    memset(&sink, 0, sizeof sink);
    sink.ud = ar;
    sink.served = a_served;
    sink.wallet_call = a_wc;
    sink.anomaly = a_anom;
    sink.http = a_http;
    ww_app *app = ww_app_new(NULL, NULL, &sink, NULL);
    memset(f, 0, sizeof *f);
    ww_app_on_open(app, f, 1);
    return app;
}

static const char RPC[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_sendTransaction\",\"params\":"
                          "[{\"from\":\"0x1111111111111111111111111111111111111111\",\"to\":"
                          "\"0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976\",\"value\":\"0x1\"}]}";

T_CASE(h2_app_h2c_jsonrpc)
{
    app_rec ar;
    ww_flow f;
    ww_app *app = app_start(&ar, &f);
    uint8_t blk[256];
    size_t n = req_block(blk, "POST", "/rpc", "application/json", NULL);
    F1.n = 0;
    preface(&F1);
    frame(&F1, 1, 0x4, 1, blk, n);
    frame(&F1, 0, 0x1, 1, RPC, strlen(RPC));
    for (size_t i = 0; i < F1.n; i++) /* byte by byte, as TCP segments may cut it */
        ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b + i, 1, 2);
    const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6\"}";
    uint8_t rb[64];
    size_t rn = 0;
    rb[rn++] = 0x88;
    rb[rn++] = 0x5f; /* content-type, literal with indexing, name index 31 */
    rb[rn++] = 16;
    memcpy(rb + rn, "application/json", 16);
    rn += 16;
    F2.n = 0;
    frame(&F2, 4, 0, 0, NULL, 0);
    frame(&F2, 1, 0x4, 1, rb, rn);
    frame(&F2, 0, 0x1, 1, body, strlen(body));
    ww_app_on_data(app, &f, WW_DIR_TOCLIENT, F2.b, F2.n, 3);
    T_EQ_INT(ar.calls, 1);
    T_EQ_STR(ar.proto, "http2");
    T_EQ_STR(ar.url, "/rpc");
    T_EQ_STR(ar.to, "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976");
    T_EQ_INT(ar.served, 1);
    T_EQ_INT(ar.http, 2);
    T_EQ_INT(ar.anoms, 0);
    T_EQ_INT(ww_app_stats_get(app)->h2_flows, 1);
    ww_app_on_close(app, &f, 0, 4);
    ww_app_free(app);
}

/* issue 12: an SSE response whose stream stays open serves its address as soon as the DATA
 * frame arrives, not at END_STREAM */
T_CASE(h2_app_sse_served_before_end_stream)
{
    app_rec ar;
    ww_flow f;
    ww_app *app = app_start(&ar, &f);
    uint8_t blk[256];
    size_t n = req_block(blk, "GET", "/events", NULL, NULL);
    F1.n = 0;
    preface(&F1);
    frame(&F1, 1, 0x4 | 0x1, 1, blk, n); /* END_HEADERS | END_STREAM */
    ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b, F1.n, 2);
    uint8_t rb[64];
    size_t rn = 0;
    rb[rn++] = 0x88;
    rb[rn++] = 0x5f; /* content-type, literal with indexing, name index 31 */
    rb[rn++] = 17;
    memcpy(rb + rn, "text/event-stream", 17);
    rn += 17;
    const char ev[] = "data: {\"payTo\":\"0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6\"}\n\n";
    F2.n = 0;
    frame(&F2, 4, 0, 0, NULL, 0);
    frame(&F2, 1, 0x4, 1, rb, rn);                /* END_HEADERS, the stream stays open */
    frame(&F2, 0, 0x0, 1, ev, strlen(ev));        /* DATA, no END_STREAM */
    ww_app_on_data(app, &f, WW_DIR_TOCLIENT, F2.b, F2.n, 3);
    T_EQ_INT(ar.served, 1); /* counted now */
    T_EQ_INT(ar.http, 1);   /* the request; the response is not complete */
    T_EQ_INT(ar.anoms, 0);
    ww_app_on_close(app, &f, 0, 4);
    T_EQ_INT(ar.served, 1); /* not again at the end */
    ww_app_free(app);
}

static size_t ws_frame(uint8_t *o, int op, const char *s, size_t n, bool mask)
{
    size_t k = 0;
    o[k++] = (uint8_t)(0x80 | op);
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        o[k++] = (uint8_t)(m | n);
    } else {
        o[k++] = m | 126;
        o[k++] = (uint8_t)(n >> 8);
        o[k++] = (uint8_t)n;
    }
    static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    if (mask) {
        memcpy(o + k, key, 4);
        k += 4;
    }
    for (size_t i = 0; i < n; i++)
        o[k + i] = (uint8_t)s[i] ^ (mask ? key[i & 3] : 0);
    return k + n;
}

T_CASE(h2_app_websocket_over_h2_rfc8441)
{
    app_rec ar;
    ww_flow f;
    ww_app *app = app_start(&ar, &f);
    uint8_t blk[256];
    size_t n = req_block(blk, "CONNECT", "/ws", NULL, NULL);
    blk[n++] = 0x00;
    blk[n++] = 9;
    memcpy(blk + n, ":protocol", 9);
    n += 9;
    blk[n++] = 9;
    memcpy(blk + n, "websocket", 9);
    n += 9;
    F1.n = 0;
    preface(&F1);
    frame(&F1, 1, 0x4, 1, blk, n);
    ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b, F1.n, 2);
    F2.n = 0;
    frame(&F2, 4, 0, 0, NULL, 0);
    frame(&F2, 1, 0x4, 1, "\x88", 1);
    ww_app_on_data(app, &f, WW_DIR_TOCLIENT, F2.b, F2.n, 3);
    static uint8_t wsb[1024];
    size_t wn = ws_frame(wsb, 1, RPC, strlen(RPC), true);
    F1.n = 0;
    frame(&F1, 0, 0, 1, wsb, wn);
    ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b, F1.n, 4);
    T_EQ_INT(ar.calls, 1);
    T_EQ_STR(ar.proto, "websocket");
    T_EQ_STR(ar.url, "/ws");
    T_EQ_STR(ar.to, "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976");
    const char note[] = "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{\"result\":"
                        "\"0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6\"}}";
    wn = ws_frame(wsb, 1, note, strlen(note), false);
    F2.n = 0;
    frame(&F2, 0, 0, 1, wsb, wn);
    ww_app_on_data(app, &f, WW_DIR_TOCLIENT, F2.b, F2.n, 5);
    T_EQ_INT(ar.served, 1);
    T_EQ_INT(ar.anoms, 0);
    ww_app_on_close(app, &f, 0, 6);
    ww_app_free(app);
}

T_CASE(h2_app_h2c_upgrade_and_ws_upgrade)
{
    /* HTTP/1.1 Upgrade: h2c, the 101 then the server's h2 frames in the same segment */
    app_rec ar;
    ww_flow f;
    ww_app *app = app_start(&ar, &f);
    const char req[] = "GET /page HTTP/1.1\r\nHost: dapp.example\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                       "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
    ww_app_on_data(app, &f, WW_DIR_TOSERVER, (const uint8_t *)req, strlen(req), 2);
    const char body[] = "pay 0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6";
    F2.n = 0;
    put(&F2, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", 71);
    frame(&F2, 4, 0, 0, NULL, 0);
    frame(&F2, 1, 0x4, 1, "\x88", 1);
    frame(&F2, 0, 0x1, 1, body, strlen(body));
    ww_app_on_data(app, &f, WW_DIR_TOCLIENT, F2.b, F2.n, 3);
    F1.n = 0;
    preface(&F1);
    ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b, F1.n, 4);
    T_EQ_INT(ar.served, 1);
    T_EQ_INT(ar.http, 3); /* request, 101, the h2 response on stream 1 */
    T_EQ_INT(ar.anoms, 0);
    ww_app_on_close(app, &f, 0, 5);

    /* HTTP/1.1 Upgrade: websocket with permessage-deflate negotiated */
    memset(&ar, 0, sizeof ar);
    memset(&f, 0, sizeof f);
    ww_app_on_open(app, &f, 1);
    const char wreq[] = "GET /rpc-ws HTTP/1.1\r\nHost: node.example\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n";
    ww_app_on_data(app, &f, WW_DIR_TOSERVER, (const uint8_t *)wreq, strlen(wreq), 2);
    const char wresp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                         "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n";
    ww_app_on_data(app, &f, WW_DIR_TOCLIENT, (const uint8_t *)wresp, strlen(wresp), 3);
    /* the client's message compressed (raw deflate, sync flush, 00 00 ff ff stripped) */
    static uint8_t cz[1024], fr[1100];
    z_stream z;
    memset(&z, 0, sizeof z);
    T_CHECK(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = (Bytef *)(uintptr_t)RPC;
    z.avail_in = (uInt)strlen(RPC);
    z.next_out = cz;
    z.avail_out = sizeof cz;
    T_CHECK(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
    size_t czn = sizeof cz - z.avail_out - 4;
    deflateEnd(&z);
    size_t k = ws_frame(fr, 1, (const char *)cz, czn, true);
    fr[0] |= 0x40; /* RSV1: compressed */
    for (size_t i = 0; i < k; i++)
        ww_app_on_data(app, &f, WW_DIR_TOSERVER, fr + i, 1, 4);
    T_EQ_INT(ar.calls, 1);
    T_EQ_STR(ar.proto, "websocket");
    T_EQ_STR(ar.url, "/rpc-ws");
    T_EQ_INT(ar.anoms, 0);
    ww_app_on_close(app, &f, 0, 5);
    ww_app_free(app);
}

/* Content-Encoding zstd and "gzip, zstd" decoded; Chromium's shared-dictionary dcb is a counted
 * blind spot (an anomaly and bodies_undecodable), never silently skipped. */
T_CASE(h2_zstd_and_blind_codings)
{
    static const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}";
    /* zstd -c of body, then gzip -c | zstd -c of it: made here with the libraries */
    uint8_t z[256], g[256], gz[512];
    size_t zn = ZSTD_compress(z, sizeof z, body, sizeof body - 1, 3);
    T_CHECK(!ZSTD_isError(zn));
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)(uintptr_t)body;
    zs.avail_in = sizeof body - 1;
    zs.next_out = g;
    zs.avail_out = sizeof g;
    T_EQ_INT(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t gn = sizeof g - zs.avail_out;
    deflateEnd(&zs);
    size_t gzn = ZSTD_compress(gz, sizeof gz, g, gn, 3);
    T_CHECK(!ZSTD_isError(gzn));

    rec r;
    ww_h2 *h = mk(&r);
    uint8_t blk[256];
    F1.n = 0;
    preface(&F1);
    size_t n = req_block(blk, "POST", "/rpc", "application/json", "zstd");
    frame(&F1, 1, 0x4, 1, blk, n);
    frame(&F1, 0, 0x1, 1, z, zn);
    n = req_block(blk, "POST", "/rpc", "application/json", "gzip, zstd");
    frame(&F1, 1, 0x4, 3, blk, n);
    frame(&F1, 0, 0x1, 3, gz, gzn);
    n = req_block(blk, "POST", "/rpc", "application/json", "dcb");
    frame(&F1, 1, 0x4, 5, blk, n);
    frame(&F1, 0, 0x1, 5, "\xff\xd8\xff\xe0 dictionary-compressed", 26);
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        if (bytewise) {
            ww_h2_free(h);
            h = mk(&r);
        }
        feed(h, WW_DIR_TOSERVER, &F1, bytewise);
        ww_h2_close(h, 2);
        T_EQ_INT(r.nmsg, 3);
        T_CHECK(r.last[0].body_kept && r.last[0].body.len == sizeof body - 1 &&
                memcmp(r.last_body[0], body, sizeof body - 1) == 0);
        T_CHECK(r.last[1].body_kept && r.last[1].body.len == sizeof body - 1 &&
                memcmp(r.last_body[1], body, sizeof body - 1) == 0);
        T_CHECK(!r.last[2].body_kept);
        T_CHECK(strstr(r.anoms, "unsupported-coding") != NULL);
        T_EQ_INT(ww_h2_stats_get(h)->bodies_undecodable, 1);
    }
    ww_h2_free(h);
}

/* The server answers /rpc and resets the stream (RFC 9113 8.1, NO_ERROR) before it read the
 * request body; the client's body still arrives and is the wallet call. Also the server ending
 * its side (END_STREAM) without a reset. Whole and byte by byte, through ww_app. */
T_CASE(h2_request_body_after_response_and_reset)
{
    for (int variant = 0; variant < 4; variant++) {
        bool with_rst = variant & 1, bytewise = variant & 2;
        app_rec ar;
        memset(&ar, 0, sizeof ar);
        ww_decode_sink sink;
        memset(&sink, 0, sizeof sink);
        sink.ud = &ar;
        sink.served = a_served;
        sink.wallet_call = a_wc;
        sink.anomaly = a_anom;
        sink.http = a_http;
        ww_app *app = ww_app_new(NULL, NULL, &sink, NULL);
        ww_flow f;
        memset(&f, 0, sizeof f);
        ww_app_on_open(app, &f, 1);
        uint8_t blk[256];
        size_t n = req_block(blk, "POST", "/rpc", "application/json", NULL);
        F1.n = 0;
        preface(&F1);
        frame(&F1, 1, 0x4, 1, blk, n); /* HEADERS, END_HEADERS, no END_STREAM */
        ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b, F1.n, 2);
        /* the server: SETTINGS, a 200 with END_STREAM, then RST_STREAM(NO_ERROR) */
        F2.n = 0;
        frame(&F2, 4, 0, 0, NULL, 0);
        frame(&F2, 1, 0x5, 1, "\x88", 1);
        if (with_rst)
            frame(&F2, 3, 0, 1, "\0\0\0\0", 4);
        ww_app_on_data(app, &f, WW_DIR_TOCLIENT, F2.b, F2.n, 3);
        T_EQ_INT(ar.http, 1); /* the response */
        T_EQ_INT(ar.calls, 0);
        /* the request body, in two DATA frames, after the reset */
        F1.n = 0;
        size_t half = strlen(RPC) / 2;
        frame(&F1, 0, 0x0, 1, RPC, half);
        frame(&F1, 0, 0x1, 1, RPC + half, strlen(RPC) - half);
        if (bytewise)
            for (size_t i = 0; i < F1.n; i++)
                ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b + i, 1, 4);
        else
            ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b, F1.n, 4);
        T_EQ_INT(ar.calls, 1);
        T_EQ_STR(ar.to, "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976");
        T_EQ_INT(ar.http, 2);
        T_EQ_INT(ar.anoms, 0); /* no h2-unknown-stream */
        /* the stream is gone now: more DATA on it is an unknown stream again */
        F1.n = 0;
        frame(&F1, 0, 0x1, 1, "x", 1);
        ww_app_on_data(app, &f, WW_DIR_TOSERVER, F1.b, F1.n, 5);
        T_EQ_INT(ar.anoms, 1);
        ww_app_on_close(app, &f, 0, 6);
        ww_app_free(app);
    }
    /* the client gives up after the reset (never sends END_STREAM): the request is delivered,
     * truncated, with what arrived, when the connection ends */
    rec r;
    ww_h2 *h = mk(&r);
    uint8_t blk[256];
    size_t n = req_block(blk, "POST", "/rpc", "application/json", NULL);
    F1.n = 0;
    preface(&F1);
    frame(&F1, 1, 0x4, 1, blk, n);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    F2.n = 0;
    frame(&F2, 1, 0x5, 1, "\x88", 1);
    frame(&F2, 3, 0, 1, "\0\0\0\x07", 4); /* REFUSED_STREAM */
    feed(h, WW_DIR_TOCLIENT, &F2, false);
    F1.n = 0;
    frame(&F1, 0, 0x0, 1, "{\"id\":1", 7);
    feed(h, WW_DIR_TOSERVER, &F1, false);
    T_EQ_INT(r.nmsg, 1);
    T_EQ_INT(ww_h2_stats_get(h)->requests_after_reset, 1);
    ww_h2_close(h, 9);
    T_EQ_INT(r.nmsg, 2);
    T_CHECK(r.last[1].is_request && r.last[1].body_truncated && r.last[1].body_len == 7);
    T_CHECK(strstr(r.anoms, "h2-unknown-stream") == NULL);
    ww_h2_free(h);
}
