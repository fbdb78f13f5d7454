/*
 * h2_int.h - HTTP/2 (RFC 9113) passive decoder for one connection, both directions.
 *
 * Frames are reassembled per direction whatever the TLS record / TCP segment boundaries
 * (9-byte header buffered; HEADERS, CONTINUATION, PUSH_PROMISE, SETTINGS, RST_STREAM payloads
 * gathered in a capped buffer; DATA streamed, never copied for streams whose body is not kept).
 * Header blocks are decoded by nghttp2's HPACK inflater (RFC 7541), one per direction, for every
 * stream, so the dynamic tables stay in sync. Requests and responses are paired by stream id;
 * a message is complete at END_STREAM (trailers decoded and dropped). Bodies: the want_body
 * policy of HTTP/1, content codings through decode/coding.c, capped at max_body_bytes.
 *
 * Caps: the header block (encoded and decoded) at max_header_bytes, the HPACK table at
 * WW_H2_MAX_TABLE, WW_H2_MAX_STREAMS open streams (the oldest dropped with an anomaly).
 * An HPACK error, a broken frame sequence, a CONTINUATION flood or a capture gap poisons the
 * connection: one anomaly, then nothing more is decoded of it.
 *
 *   frame:  +-----------------------------------------------+
 *           |                 Length (24)                   |
 *           +---------------+---------------+---------------+
 *           |   Type (8)    |   Flags (8)   |
 *           +-+-------------+---------------+-------------------------------+
 *           |R|                 Stream Identifier (31)                      |
 *           +=+=============================================================+
 *           |                   Frame Payload (0...)                      ...
 */
#ifndef WW_H2_INT_H
#define WW_H2_INT_H

#include "decode/decode.h"

#define WW_H2_MAX_STREAMS 1024
#define WW_H2_MAX_TABLE (64 * 1024) /* largest SETTINGS_HEADER_TABLE_SIZE honoured */

typedef struct ww_h2_cbs {
    void *ud;
    /* After a message's header block: keep (and decode) its body? msg->body is empty here. */
    bool (*want_body)(void *ud, const ww_http_msg *msg);
    /* A complete message (END_STREAM, RST_STREAM or end of connection: then body_truncated).
     * A response carries its request's method, url (:path) and host (:authority). msg and its
     * strings live for the call only. */
    void (*message)(void *ud, const ww_http_msg *msg, uint32_t stream_id, uint64_t ts_us);
    void (*anomaly)(void *ud, const char *type, const char *detail);
    /* optional: an extended CONNECT (RFC 8441) was accepted (2xx): protocol is the request's
     * :protocol, ext the response's sec-websocket-extensions (NULL when absent), req the
     * CONNECT request. Returns a tunnel handle (NULL: the stream's DATA is just skipped). */
    void *(*tunnel_open)(void *ud, uint32_t stream_id, const char *protocol, const char *ext,
                         const ww_http_msg *req);
    /* the DATA payload of a tunnelled stream, in order per direction */
    void (*tunnel_data)(void *ud, void *tunnel, int dir, const uint8_t *p, size_t n,
                        uint64_t ts_us);
    /* the tunnel's stream ended (or the connection): the handle is not used again */
    void (*tunnel_close)(void *ud, void *tunnel);
    /* optional: every decoded header field (trailers too, fields over the list cap not),
     * in wire order; name/value live for the call (tests, logging) */
    void (*field)(void *ud, uint32_t stream_id, int dir, const uint8_t *name, size_t name_len,
                  const uint8_t *value, size_t value_len);
    /* ---- added: streamed bodies, as ww_h1_cbs (decode/http1_int.h): per stream, the decoded
     * bytes handed to body_chunk as soon as a DATA frame brings them (a window of at most
     * WW_HTTP_STREAM_WINDOW bytes); the message carries the rest with body_streamed. Never with cfg->hash_bodies. ---- */
    bool (*stream_body)(void *ud, const ww_http_msg *head);
    size_t (*body_chunk)(void *ud, const ww_http_msg *head, const uint8_t *p, size_t n);
} ww_h2_cbs;

typedef struct ww_h2_stats {
    uint64_t frames, requests, responses, streams, bodies_kept, bodies_skipped;
    uint64_t body_bytes_skipped; /* DATA bytes counted, never copied */
    uint64_t anomalies;
    /* wanted bodies whose Content-Encoding cannot be decoded (dcb, dcz, compress...): blind
     * spots, each also an "unsupported-coding" anomaly */
    uint64_t bodies_undecodable;
    /* streams the server reset before the request ended: kept open for the request's DATA */
    uint64_t requests_after_reset;
} ww_h2_stats;

typedef struct ww_h2 ww_h2;
/*
 * A decoder for one connection. cfg may be NULL (defaults). The client direction starts with
 * the connection preface (checked and skipped).
 * Returns: NULL on OOM.
 */
ww_h2 *ww_h2_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_h2_cbs *cbs);
/* In: dir WW_DIR_TOSERVER / WW_DIR_TOCLIENT; p[0..n) the next bytes of that direction. */
void ww_h2_data(ww_h2 *h, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
/* Bytes lost: HPACK state cannot be trusted any more, the connection is abandoned. */
void ww_h2_gap(ww_h2 *h, int dir, uint64_t len, uint64_t ts_us);
/* End of connection: messages whose header block was seen are delivered, truncated. */
void ww_h2_close(ww_h2 *h, uint64_t ts_us);
void ww_h2_free(ww_h2 *h);
/*
 * HTTP/1.1 Upgrade: h2c (RFC 7540 3.2): stream 1 is the upgraded request (already delivered
 * by HTTP/1.1, given here so its response can name it), half-closed from the client.
 * Call before any data. Returns WW_OK or WW_E_NOMEM.
 */
int ww_h2_upgraded(ww_h2 *h, const char *method, const char *url, const char *host) WW_WUR;
/* true once the connection was abandoned (HPACK error, flood, gap, protocol error) */
bool ww_h2_poisoned(const ww_h2 *h);
const ww_h2_stats *ww_h2_stats_get(const ww_h2 *h);

#endif
