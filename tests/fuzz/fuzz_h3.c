/*
 * fuzz_h3.c - libFuzzer target for the HTTP/3 decoder (decode/h3.c) and nghttp3's QPACK
 * decoder behind it.
 *
 * Input: byte 0 = config (bit 0 keep bodies, bit 1 small caps, bit 2 stream kept bodies
 * through body_chunk). Then records: a control byte c, a length byte l, l bytes:
 *   c & 1: direction (1 = from the server); c & 2: FIN after these bytes; c & 4: reset
 *   instead of data; (c >> 3) & 15 picks the stream: 0..5 request streams 0, 4, 8, 12, 16, 20;
 *   6..8 client uni 2, 6, 10; 9..11 server uni 3, 7, 11; 12..15 request streams 24..36.
 * The connection is closed at the end. Every kept body is checked against body_len.
 */
#include "decode/quic.h"

#include <stdlib.h>

static uint64_t sink_sum;

static bool f_want(void *ud, const ww_http_msg *m)
{
    (void)m;
    return *(const bool *)ud;
}

static void f_msg(void *ud, const ww_http_msg *m, uint64_t sid, uint64_t ts)
{
    (void)ud, (void)ts;
    sink_sum += sid + (uint64_t)m->status;
    if (m->method)
        sink_sum += strlen(m->method);
    if (m->url)
        sink_sum += strlen(m->url);
    if (m->host)
        sink_sum += strlen(m->host);
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

static void f_field(void *ud, uint64_t sid, int dir, const uint8_t *n, size_t nl, const uint8_t *v,
                    size_t vl)
{
    (void)ud, (void)n, (void)v;
    sink_sum += sid + (uint64_t)dir + nl + vl;
}

static bool f_stream(void *ud, const ww_http_msg *m)
{
    (void)ud, (void)m;
    return true;
}

static size_t f_chunk(void *ud, const ww_http_msg *m, const uint8_t *p, size_t n)
{
    (void)ud, (void)m;
    for (size_t i = 0; i < n; i++)
        sink_sum += p[i];
    return n >= 128 ? n - (n % 91) : 0;
}

static uint64_t pick(unsigned k)
{
    static const uint64_t ids[16] = {0, 4, 8, 12, 16, 20, 2, 6, 10, 3, 7, 11, 24, 28, 32, 36};
    return ids[k & 15];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfgb = data[0];
    bool keep = cfgb & 1;
    ww_app_cfg cfg = {.max_header_bytes = (cfgb & 2) ? 256 : 64 * 1024,
                      .max_body_bytes = (cfgb & 2) ? 64 : 1 << 20,
                      .max_decoded_ratio = 10,
                      .json_max_depth = 64,
                      .hash_bodies = false};
    ww_h3_cbs cbs = {&keep, f_want, f_msg, f_anom, f_field, NULL, NULL};
    if (cfgb & 4) {
        cbs.stream_body = f_stream;
        cbs.body_chunk = f_chunk;
    }
    ww_h3 *h = ww_h3_new(NULL, &cfg, &cbs);
    if (h == NULL)
        abort();
    size_t i = 1;
    uint64_t ts = 0;
    while (i + 2 <= size) {
        uint8_t c = data[i];
        size_t n = data[i + 1];
        i += 2;
        if (n > size - i)
            n = size - i;
        uint64_t sid = pick((unsigned)(c >> 3));
        int dir = c & 1;
        ts++;
        if (c & 4)
            ww_h3_stream_reset(h, dir, sid, ts);
        else
            ww_h3_stream_data(h, dir, sid, data + i, n, (c & 2) != 0, ts);
        i += n;
    }
    ww_h3_close(h, ts + 1);
    ww_h3_free(h);
    return 0;
}
