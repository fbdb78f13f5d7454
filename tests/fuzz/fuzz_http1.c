/*
 * fuzz_http1.c - libFuzzer target for the HTTP/1.1 parser.
 *
 * Input: byte 0 = config (bit 0 keep bodies, bit 1 hash bodies, bits 2-3 small caps, bit 4
 * stream kept bodies through body_chunk, which keeps an unconsumed tail as the scanner does);
 * then records: one control byte c, then data.
 *   c & 0x80 == 0: (c & 0x40 ? TOCLIENT : TOSERVER) data of length c & 0x3f (clamped to what
 *                 is left);
 *   c & 0xc0 == 0x80: gap of (c & 0x3f) * 7 bytes in direction TOSERVER;
 *   c & 0xc0 == 0xc0: gap ... TOCLIENT.
 * The connection is closed at the end. Every kept body is checked against body_len.
 */
#include "decode/http1_int.h"

#include <stdlib.h>

static uint64_t sink_sum;

static bool f_want(void *ud, const ww_http_msg *m)
{
    (void)m;
    return *(const bool *)ud;
}

static void f_msg(void *ud, const ww_http_msg *m, uint64_t ts)
{
    (void)ud;
    (void)ts;
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

static void f_up(void *ud, int status, const char *u)
{
    (void)ud;
    sink_sum += (uint64_t)status + (u ? strlen(u) : 0);
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
    uint8_t conf = data[0];
    bool keep = conf & 1;
    ww_app_cfg cfg = {0};
    cfg.hash_bodies = (conf & 2) != 0;
    if (conf & 4) {
        cfg.max_header_bytes = 200;
        cfg.max_body_bytes = 300;
    }
    if (conf & 8)
        cfg.max_decoded_ratio = 2;
    ww_h1_cbs cbs = {&keep, f_want, f_msg, f_anom, f_up, NULL, NULL};
    if (conf & 16) {
        cbs.stream_body = f_stream;
        cbs.body_chunk = f_chunk;
    }
    ww_h1 *h = ww_h1_new(NULL, &cfg, &cbs);
    if (h == NULL)
        return 0;
    size_t i = 1;
    while (i < size) {
        uint8_t c = data[i++];
        if ((c & 0x80) == 0) {
            size_t n = c & 0x3f;
            if (n > size - i)
                n = size - i;
            /* a private copy: reads past n are caught by ASan */
            uint8_t *cp = malloc(n ? n : 1);
            if (cp == NULL)
                break;
            memcpy(cp, data + i, n);
            ww_h1_data(h, (c & 0x40) ? WW_DIR_TOCLIENT : WW_DIR_TOSERVER, cp, n, i);
            free(cp);
            i += n;
        } else {
            ww_h1_gap(h, (c & 0x40) ? WW_DIR_TOCLIENT : WW_DIR_TOSERVER, (uint64_t)(c & 0x3f) * 7,
                      i);
        }
    }
    ww_h1_close(h, size);
    ww_h1_free(h);
    return 0;
}
