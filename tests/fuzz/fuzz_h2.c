/*
 * fuzz_h2.c - libFuzzer target for the HTTP/2 decoder (decode/h2.c), with WebSocket tunnels
 * (RFC 8441) decoded by decode/ws.c.
 *
 * Input: byte 0 = config (bit 0 keep bodies, bit 1 hash bodies, bit 2 small caps, bit 3 start
 * as an h2c upgrade, bit 4 stream kept bodies through body_chunk keeping a scanner-sized tail);
 * then records: one control byte c, then data.
 *   c & 0x80 == 0: (c & 0x40 ? TOCLIENT : TOSERVER) data of length c & 0x3f (clamped);
 *   c & 0xc0 == 0x80: gap of (c & 0x3f) bytes TOSERVER; 0xc0: TOCLIENT.
 * The connection is closed at the end. Every kept body is checked against body_len.
 */
#include "decode/h2_int.h"
#include "decode/ws_int.h"

#include <stdlib.h>

static uint64_t sink_sum;

static bool f_want(void *ud, const ww_http_msg *m)
{
    (void)m;
    return *(const bool *)ud;
}

static void f_msg(void *ud, const ww_http_msg *m, uint32_t sid, uint64_t ts)
{
    (void)ud;
    (void)ts;
    sink_sum += sid;
    if (m->method)
        sink_sum += strlen(m->method);
    if (m->url)
        sink_sum += strlen(m->url);
    if (m->host)
        sink_sum += strlen(m->host);
    if (m->content_type)
        sink_sum += strlen(m->content_type);
    if (m->body_kept) {
        if (m->body_streamed ? m->body_len < (int64_t)m->body.len
                             : m->body_len != (int64_t)m->body.len)
            abort();
        for (size_t i = 0; i < m->body.len; i++)
            sink_sum += m->body.ptr[i];
    }
}

static void f_anom(void *ud, const char *t, const char *d)
{
    (void)ud;
    sink_sum += strlen(t) + strlen(d);
}

static void w_msg(void *ud, int dir, int op, const uint8_t *p, size_t n, bool tr, uint64_t ts)
{
    (void)ud;
    (void)ts;
    sink_sum += (uint64_t)dir + (uint64_t)op + tr;
    for (size_t i = 0; i < n; i++)
        sink_sum += p[i];
}

static void *t_open(void *ud, uint32_t sid, const char *proto, const char *ext,
                    const ww_http_msg *req)
{
    ww_ws_pmd pmd;
    ww_ws_cbs cbs = {NULL, w_msg, f_anom};
    (void)ud;
    (void)sid;
    (void)req;
    sink_sum += strlen(proto);
    if (ext == NULL || ww_ws_parse_extensions(&pmd, ext, strlen(ext)) != WW_OK)
        memset(&pmd, 0, sizeof pmd);
    return ww_ws_new(NULL, &pmd, 4096, 10, &cbs);
}

static void t_data(void *ud, void *t, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    (void)ud;
    ww_ws_data(t, dir, p, n, ts);
}

static void t_close(void *ud, void *t)
{
    (void)ud;
    ww_ws_free(t);
}

static void f_field(void *ud, uint32_t sid, int dir, const uint8_t *n, size_t nl,
                    const uint8_t *v, size_t vl)
{
    (void)ud;
    (void)n;
    (void)v;
    sink_sum += sid + (uint64_t)dir + nl + vl;
}

static bool f_stream(void *ud, const ww_http_msg *m)
{
    (void)ud;
    (void)m;
    return true; /* consulted only for bodies want_body kept */
}

/* consumes all but a tail of up to 90 bytes, as the address scanner does */
static size_t f_chunk(void *ud, const ww_http_msg *m, const uint8_t *p, size_t n)
{
    (void)ud;
    (void)m;
    for (size_t i = 0; i < n; i++)
        sink_sum += p[i];
    return n >= 128 ? n - (n % 91) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfgb = data[0];
    bool keep = cfgb & 1;
    ww_app_cfg cfg = {.max_header_bytes = (cfgb & 4) ? 256 : 64 * 1024,
                      .max_body_bytes = (cfgb & 4) ? 64 : 1 << 20,
                      .max_decoded_ratio = 10,
                      .json_max_depth = 64,
                      .hash_bodies = (cfgb & 2) != 0};
    ww_h2_cbs cbs = {&keep, f_want, f_msg, f_anom, t_open, t_data, t_close, f_field, NULL, NULL};
    if (cfgb & 16) {
        cbs.stream_body = f_stream;
        cbs.body_chunk = f_chunk;
    }
    ww_h2 *h = ww_h2_new(NULL, &cfg, &cbs);
    if (h == NULL)
        return 0;
    if ((cfgb & 8) && ww_h2_upgraded(h, "GET", "/", "x") != WW_OK)
        abort();
    size_t i = 1;
    uint64_t ts = 0;
    while (i < size) {
        uint8_t c = data[i++];
        ts++;
        if ((c & 0x80) == 0) {
            size_t n = c & 0x3f;
            if (n > size - i)
                n = size - i;
            ww_h2_data(h, (c & 0x40) ? WW_DIR_TOCLIENT : WW_DIR_TOSERVER, data + i, n, ts);
            i += n;
        } else {
            ww_h2_gap(h, (c & 0x40) ? WW_DIR_TOCLIENT : WW_DIR_TOSERVER, c & 0x3f, ts);
        }
    }
    ww_h2_close(h, ts);
    ww_h2_free(h);
    return 0;
}
