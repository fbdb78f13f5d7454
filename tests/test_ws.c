/*
 * test_ws.c - WebSocket decoder (decode/ws.c): masking, fragmentation with interleaved control
 * frames, byte-by-byte feeding, permessage-deflate with and without context takeover, the
 * extension header, and abuse: a 2^63-byte length, a deflate bomb, a bad continuation.
 */
#include "decode/ws_int.h"
#include "tests/t.h"

#include <stdlib.h>
#include <zlib.h>

typedef struct wrec {
    int n;
    char msg[8][512];
    size_t len[8];
    bool trunc[8];
    int dir[8];
    char anoms[512];
    int nanom;
} wrec;

static void w_msg(void *ud, int dir, int op, const uint8_t *p, size_t n, bool truncated,
                  uint64_t ts)
{
    wrec *r = ud;
    (void)op;
    (void)ts;
    if (r->n >= 8)
        return;
    if (n > 0)
        memcpy(r->msg[r->n], p, WW_MIN(n, 511));
    r->msg[r->n][WW_MIN(n, 511)] = 0;
    r->len[r->n] = n;
    r->trunc[r->n] = truncated;
    r->dir[r->n] = dir;
    r->n++;
}

static void w_anom(void *ud, const char *type, const char *detail)
{
    wrec *r = ud;
    (void)detail;
    size_t l = strlen(r->anoms);
    snprintf(r->anoms + l, sizeof r->anoms - l, "%s;", type);
    r->nanom++;
}

static ww_ws *mk(wrec *r, const ww_ws_pmd *pmd, size_t cap)
{
    memset(r, 0, sizeof(*r));
    ww_ws_cbs cbs = {r, w_msg, w_anom};
    return ww_ws_new(NULL, pmd, cap, 100, &cbs);
}

/* One frame: fin, rsv1, opcode, payload (masked when mask). Returns its length. */
static size_t wsf(uint8_t *o, bool fin, bool rsv1, int op, const uint8_t *s, size_t n, bool mask)
{
    size_t k = 0;
    o[k++] = (uint8_t)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op);
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        o[k++] = (uint8_t)(m | n);
    } else if (n < 65536) {
        o[k++] = m | 126;
        o[k++] = (uint8_t)(n >> 8);
        o[k++] = (uint8_t)n;
    } else {
        o[k++] = m | 127;
        for (int i = 7; i >= 0; i--)
            o[k++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    static const uint8_t key[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    if (mask) {
        memcpy(o + k, key, 4);
        k += 4;
    }
    for (size_t i = 0; i < n; i++)
        o[k + i] = s[i] ^ (mask ? key[i & 3] : 0);
    return k + n;
}

static uint8_t B[1 << 21];

static void feed(ww_ws *w, int dir, const uint8_t *p, size_t n, bool bytewise)
{
    if (!bytewise) {
        ww_ws_data(w, dir, p, n, 1);
        return;
    }
    for (size_t i = 0; i < n; i++)
        ww_ws_data(w, dir, p + i, 1, 1);
}

T_CASE(ws_masked_fragmented_control_interleaved)
{
    for (int bw = 0; bw < 2; bw++) {
        wrec r;
        ww_ws *w = mk(&r, NULL, 0);
        size_t k = 0;
        k += wsf(B + k, false, false, WW_WS_TEXT, (const uint8_t *)"{\"jsonrpc\":", 11, true);
        k += wsf(B + k, true, false, WW_WS_PING, (const uint8_t *)"hi", 2, true);
        k += wsf(B + k, false, false, WW_WS_CONT, (const uint8_t *)"\"2.0\",", 6, true);
        k += wsf(B + k, true, false, WW_WS_CONT, (const uint8_t *)"\"id\":1}", 7, true);
        static uint8_t big[300];
        memset(big, 'x', sizeof big);
        k += wsf(B + k, true, false, WW_WS_BINARY, big, sizeof big, true); /* 16-bit length */
        k += wsf(B + k, true, false, WW_WS_CLOSE, (const uint8_t *)"\x03\xe8", 2, true);
        feed(w, WW_DIR_TOSERVER, B, k, bw);
        T_EQ_INT(r.n, 2);
        T_EQ_STR(r.msg[0], "{\"jsonrpc\":\"2.0\",\"id\":1}");
        T_EQ_INT(r.len[1], 300);
        T_EQ_INT(r.nanom, 0);
        ww_ws_free(w);
    }
}

T_CASE(ws_length_2_63)
{
    wrec r;
    ww_ws *w = mk(&r, NULL, 0);
    static const uint8_t f[] = {0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0, 'a', 'b'};
    ww_ws_data(w, WW_DIR_TOCLIENT, f, sizeof f, 1);
    T_CHECK(strstr(r.anoms, "ws-bad-length") != NULL);
    T_CHECK(ww_ws_dead(w, WW_DIR_TOCLIENT));
    T_CHECK(ww_ws_dead(w, WW_DIR_TOSERVER)); /* the whole connection is abandoned */
    uint8_t ok[16];
    size_t k = wsf(ok, true, false, WW_WS_TEXT, (const uint8_t *)"x", 1, true);
    ww_ws_data(w, WW_DIR_TOSERVER, ok, k, 2);
    T_EQ_INT(r.n, 0);
    ww_ws_free(w);
    /* 2^63 - 1 is not negative, but over WW_WS_MAX_FRAME: same */
    w = mk(&r, NULL, 0);
    static const uint8_t g[] = {0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ww_ws_data(w, WW_DIR_TOCLIENT, g, sizeof g, 1);
    T_CHECK(strstr(r.anoms, "ws-bad-length") != NULL);
    ww_ws_free(w);
}

/* Compresses each message with one deflater (sync flush, tail stripped). reset: no context
 * takeover. Returns the frames' length in out. */
static size_t deflate_msgs(uint8_t *out, const char **msgs, size_t nm, bool reset, bool mask)
{
    z_stream z;
    static uint8_t cz[1 << 16];
    size_t k = 0;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    for (size_t i = 0; i < nm; i++) {
        z.next_in = (Bytef *)(uintptr_t)msgs[i];
        z.avail_in = (uInt)strlen(msgs[i]);
        z.next_out = cz;
        z.avail_out = sizeof cz;
        if (deflate(&z, Z_SYNC_FLUSH) != Z_OK)
            return 0;
        size_t n = sizeof cz - z.avail_out - 4;
        k += wsf(out + k, true, true, WW_WS_TEXT, cz, n, mask);
        if (reset)
            deflateReset(&z);
    }
    deflateEnd(&z);
    return k;
}

T_CASE(ws_permessage_deflate_context_takeover)
{
    const char *msgs[3] = {
        "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{\"result\":\"0xabc\"}}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{\"result\":\"0xdef\"}}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{\"result\":\"0x123\"}}"};
    for (int reset = 0; reset < 2; reset++) {
        for (int bw = 0; bw < 2; bw++) {
            ww_ws_pmd pmd;
            const char *ext = reset ? "permessage-deflate; server_no_context_takeover; "
                                      "client_max_window_bits=15"
                                    : "permessage-deflate";
            T_EQ_INT(ww_ws_parse_extensions(&pmd, ext, strlen(ext)), WW_OK);
            T_CHECK(pmd.enabled);
            T_EQ_INT(pmd.no_context_takeover[WW_DIR_TOCLIENT], reset);
            wrec r;
            ww_ws *w = mk(&r, &pmd, 0);
            size_t k = deflate_msgs(B, msgs, 3, reset, false);
            T_CHECK(k > 0);
            feed(w, WW_DIR_TOCLIENT, B, k, bw);
            T_EQ_INT(r.n, 3);
            for (int i = 0; i < 3; i++) {
                T_EQ_STR(r.msg[i], msgs[i]);
                T_CHECK(!r.trunc[i]);
            }
            T_EQ_INT(r.nanom, 0);
            ww_ws_free(w);
        }
    }
}

/* The permessage-deflate inflater (zlib's state and 32 KiB window) allocates through the
 * session's ww_mem, and gives all of it back with the session. */
static long ws_live, ws_allocs;
static void *cm_malloc(size_t n, void *ud)
{
    (void)ud;
    ws_live++;
    ws_allocs++;
    return malloc(n);
}
static void cm_free(void *p, void *ud)
{
    (void)ud;
    if (p != NULL)
        ws_live--;
    free(p);
}
static void *cm_calloc(size_t a, size_t b, void *ud)
{
    (void)ud;
    ws_live++;
    ws_allocs++;
    return calloc(a, b);
}
static void *cm_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (p == NULL) {
        ws_live++;
        ws_allocs++;
    }
    return realloc(p, n);
}

T_CASE(ws_deflate_allocates_through_mem)
{
    static const ww_mem cm = {NULL, cm_malloc, cm_free, cm_calloc, cm_realloc};
    const char *msgs[2] = {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0xabc\"}",
                           "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":\"0xabc\"}"};
    ww_ws_pmd pmd;
    T_EQ_INT(ww_ws_parse_extensions(&pmd, "permessage-deflate", 18), WW_OK);
    wrec r;
    memset(&r, 0, sizeof r);
    ww_ws_cbs cbs = {&r, w_msg, w_anom};
    ws_live = ws_allocs = 0;
    ww_ws *w = ww_ws_new(&cm, &pmd, 0, 100, &cbs);
    T_CHECK(w != NULL);
    long before = ws_allocs;
    size_t k = deflate_msgs(B, msgs, 2, false, false);
    feed(w, WW_DIR_TOCLIENT, B, k, false);
    T_EQ_INT(r.n, 2);
    T_EQ_STR(r.msg[1], msgs[1]);
    T_CHECK(ws_allocs >= before + 2); /* zlib's state and window */
    ww_ws_free(w);
    T_EQ_INT(ws_live, 0);
}

T_CASE(ws_extension_header)
{
    ww_ws_pmd p;
    const char *s = "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=10; "
                    "server_max_window_bits=\"12\"; client_no_context_takeover";
    T_EQ_INT(ww_ws_parse_extensions(&p, s, strlen(s)), WW_OK);
    T_CHECK(p.enabled);
    T_EQ_INT(p.max_window_bits[WW_DIR_TOSERVER], 10);
    T_EQ_INT(p.max_window_bits[WW_DIR_TOCLIENT], 12);
    T_CHECK(p.no_context_takeover[WW_DIR_TOSERVER]);
    T_CHECK(!p.no_context_takeover[WW_DIR_TOCLIENT]);
    s = "permessage-deflate; server_max_window_bits=99";
    T_EQ_INT(ww_ws_parse_extensions(&p, s, strlen(s)), WW_E_INVALID);
    s = "permessage-deflate; bogus";
    T_EQ_INT(ww_ws_parse_extensions(&p, s, strlen(s)), WW_E_INVALID);
    s = "foo";
    T_EQ_INT(ww_ws_parse_extensions(&p, s, strlen(s)), WW_OK);
    T_CHECK(!p.enabled);
}

T_CASE(ws_deflate_bomb)
{
    /* 64 MiB of zeros compress to ~64 KiB: inflating stops at the 1 MiB cap */
    z_stream z;
    memset(&z, 0, sizeof z);
    T_CHECK(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    static uint8_t zero[1 << 16];
    static uint8_t cz[1 << 20];
    z.next_out = cz;
    z.avail_out = sizeof cz;
    for (int i = 0; i < 1024; i++) {
        z.next_in = zero;
        z.avail_in = sizeof zero;
        T_CHECK(deflate(&z, i == 1023 ? Z_SYNC_FLUSH : Z_NO_FLUSH) == Z_OK);
    }
    size_t n = sizeof cz - z.avail_out - 4;
    deflateEnd(&z);
    ww_ws_pmd pmd = {.enabled = true, .max_window_bits = {15, 15}};
    wrec r;
    ww_ws *w = mk(&r, &pmd, 1 << 20);
    size_t k = wsf(B, true, true, WW_WS_TEXT, cz, n, false);
    ww_ws_data(w, WW_DIR_TOCLIENT, B, k, 1);
    T_EQ_INT(r.n, 1);
    T_CHECK(r.trunc[0]);
    T_CHECK(r.len[0] <= (1 << 20));
    T_CHECK(strstr(r.anoms, "ws-decompression-cap") != NULL);
    /* the context is lost: the next compressed message is reported, not decoded wrongly */
    const char *m1[1] = {"{}"};
    k = deflate_msgs(B, m1, 1, false, false);
    ww_ws_data(w, WW_DIR_TOCLIENT, B, k, 2);
    T_CHECK(strstr(r.anoms, "ws-deflate-desync") != NULL);
    ww_ws_free(w);
}

T_CASE(ws_bad_frames)
{
    wrec r;
    ww_ws *w = mk(&r, NULL, 0);
    uint8_t f[32];
    size_t k = wsf(f, true, false, WW_WS_CONT, (const uint8_t *)"x", 1, true);
    ww_ws_data(w, WW_DIR_TOSERVER, f, k, 1);
    T_CHECK(ww_ws_dead(w, WW_DIR_TOSERVER));
    T_CHECK(!ww_ws_dead(w, WW_DIR_TOCLIENT)); /* the other direction goes on */
    k = wsf(f, true, false, WW_WS_TEXT, (const uint8_t *)"ok", 2, false);
    ww_ws_data(w, WW_DIR_TOCLIENT, f, k, 2);
    T_EQ_INT(r.n, 1);
    /* a ping of 126 bytes is not a control frame */
    static uint8_t big[200];
    k = wsf(B, true, false, WW_WS_PING, big, 126, false);
    ww_ws_data(w, WW_DIR_TOCLIENT, B, k, 3);
    T_CHECK(ww_ws_dead(w, WW_DIR_TOCLIENT));
    ww_ws_free(w);
    /* over the message cap: truncated, never over the cap */
    w = mk(&r, NULL, 100);
    k = wsf(B, true, false, WW_WS_TEXT, big, 200, true);
    ww_ws_data(w, WW_DIR_TOSERVER, B, k, 1);
    T_EQ_INT(r.n, 1);
    T_CHECK(r.trunc[0]);
    T_EQ_INT(r.len[0], 100);
    ww_ws_free(w);
}
