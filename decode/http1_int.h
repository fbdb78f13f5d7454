/*
 * http1_int.h - HTTP/1.1 (RFC 9112) passive parser for one connection, both directions.
 *
 * Requests and responses are paired per connection (keep-alive, pipelining: a FIFO of
 * pending requests; a response to HEAD, 1xx, 204 and 304 has no body). Bodies: Content-Length,
 * chunked (trailers skipped), until close; Content-Encoding gzip, deflate (zlib or raw), br,
 * through decode/coding.c with a decompression cap. Header block and kept bodies are capped
 * (ww_app_cfg). A gap, a lying Content-Length or broken chunking is an anomaly; parsing
 * resumes at the next message boundary (a line that starts a request or a status line).
 */
#ifndef WW_HTTP1_INT_H
#define WW_HTTP1_INT_H

#include "decode/decode.h"

typedef struct ww_h1_cbs {
    void *ud;
    /* After the header block: keep (and decode) this message's body? When false the body is
     * only skipped and counted, never copied or decompressed. msg->body is empty here. */
    bool (*want_body)(void *ud, const ww_http_msg *msg);
    /* A complete message (body decoded when kept). A response carries its request's method,
     * url and host. msg and its strings live for the call only. */
    void (*message)(void *ud, const ww_http_msg *msg, uint64_t ts_us);
    void (*anomaly)(void *ud, const char *type, const char *detail);
    /* optional: the connection switched protocols (101 or CONNECT 2xx): status and the
     * Upgrade header value (NULL when absent). The parser hands on no more data of it. */
    void (*upgrade)(void *ud, int status, const char *upgrade);
} ww_h1_cbs;

typedef struct ww_h1 ww_h1;
/* cfg may be NULL (defaults). */
ww_h1 *ww_h1_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_h1_cbs *cbs);
void ww_h1_data(ww_h1 *h, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
void ww_h1_gap(ww_h1 *h, int dir, uint64_t len, uint64_t ts_us);
/* The connection ended: completes a body delimited by close, reports what was cut short. */
void ww_h1_close(ww_h1 *h, uint64_t ts_us);
void ww_h1_free(ww_h1 *h);

#endif
