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
    /* ---- added: streamed bodies ---- */
    /* optional: after want_body said keep, stream this body instead of gathering it? Then its
     * decoded bytes go to body_chunk as soon as they arrive (a window of at most
     * WW_HTTP_STREAM_WINDOW bytes: what the last call left plus the new ones), so a response
     * that never completes (SSE, a long poll) is seen as it goes. The message callback then
     * gets what remains as msg->body,
     * with body_streamed set. Never consulted with cfg->hash_bodies (bodies hashed whole). */
    bool (*stream_body)(void *ud, const ww_http_msg *head);
    /* required with stream_body: p[0..n) the body's decoded bytes not consumed yet (what the
     * last call left, then new ones); head is the message's head (no body). Returns how many
     * leading bytes the parser drops; what is left must stay under half the window (it is
     * dropped whole otherwise). */
    size_t (*body_chunk)(void *ud, const ww_http_msg *head, const uint8_t *p, size_t n);
} ww_h1_cbs;

typedef struct ww_h1 ww_h1;
/* cfg may be NULL (defaults). */
ww_h1 *ww_h1_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_h1_cbs *cbs);
void ww_h1_data(ww_h1 *h, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
void ww_h1_gap(ww_h1 *h, int dir, uint64_t len, uint64_t ts_us);
/* The connection ended: completes a body delimited by close, reports what was cut short. */
void ww_h1_close(ww_h1 *h, uint64_t ts_us);
void ww_h1_free(ww_h1 *h);

/* ---- added by the http1 module ---- */

/* Per-connection counters (a caller sums them over connections). */
typedef struct ww_h1_stats {
    uint64_t requests, responses;   /* messages delivered through the message callback */
    uint64_t interim;               /* 1xx interim responses skipped (100, 102, 103...) */
    uint64_t bodies_kept, bodies_skipped;
    uint64_t body_bytes_kept;       /* body bytes as sent (dechunked) of kept bodies */
    uint64_t body_bytes_skipped;    /* ... of skipped bodies: counted, never copied */
    uint64_t resync_bytes;          /* bytes passed over looking for a message start */
    uint64_t gap_bytes;             /* bytes lost in capture gaps */
    uint64_t ignored_bytes;         /* bytes after an upgrade */
    uint64_t anomalies;
    uint64_t upgrades;
} ww_h1_stats;

/* Returns: the connection's counters (live; valid until ww_h1_free). */
const ww_h1_stats *ww_h1_stats_get(const ww_h1 *h);

/*
 * Valid only inside the upgrade callback: the bytes of the current ww_h1_data call that
 * follow the head of the 101 / CONNECT 2xx response (already data of the new protocol, in
 * the TOCLIENT direction), so the caller can hand them on.
 * Out: *out (empty when none).
 */
void ww_h1_upgrade_rest(const ww_h1 *h, ww_slice *out);

#endif
