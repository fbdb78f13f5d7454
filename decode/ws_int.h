/*
 * ws_int.h - WebSocket (RFC 6455) passive decoder for one connection, both directions, with
 * permessage-deflate (RFC 7692).
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *   | |1|2|3|       |K|             |                               |
 *   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *   |  Extended payload length continued, if payload len == 127     |
 *   + - - - - - - - - - - - - - - - +-------------------------------+
 *   |                               |Masking-key, if MASK set to 1  |
 *   +-------------------------------+-------------------------------+
 *   | Masking-key (continued)       |          Payload Data         |
 *   +-------------------------------- - - - - - - - - - - - - - - - +
 *
 * Frames are parsed across any segmentation; payloads are unmasked on the fly. Data messages
 * (text, binary, continuation frames) are reassembled up to max_message bytes (decoded); a
 * compressed message (RSV1) is inflated (raw deflate, 00 00 ff ff appended at its end, context
 * kept across messages unless no_context_takeover) with its output capped at max_message and
 * at ratio * input + 1 MiB. Control frames (ping, pong, close) are skipped. A 64-bit length with
 * its top bit set, or a length over WW_WS_MAX_FRAME, abandons the connection (never an
 * allocation). Any other malformed frame abandons its direction.
 */
#ifndef WW_WS_INT_H
#define WW_WS_INT_H

#include "decode/decode.h"

#define WW_WS_MAX_FRAME ((uint64_t)1 << 40) /* a frame length we still follow (skipping) */

enum { WW_WS_CONT = 0, WW_WS_TEXT = 1, WW_WS_BINARY = 2, WW_WS_CLOSE = 8, WW_WS_PING = 9,
       WW_WS_PONG = 10 };

/* Negotiated permessage-deflate parameters (RFC 7692 7.1). */
typedef struct ww_ws_pmd {
    bool enabled;
    bool no_context_takeover[2]; /* [WW_DIR_TOSERVER] = client_no_context_takeover ... */
    int max_window_bits[2];      /* 8..15; [WW_DIR_TOSERVER] = client_max_window_bits */
} ww_ws_pmd;

/*
 * Parses a Sec-WebSocket-Extensions response value (the server's accepted offer), e.g.
 * "permessage-deflate; client_max_window_bits=10; server_no_context_takeover".
 * Out: *out (enabled false when permessage-deflate is not among the extensions).
 * Returns: WW_OK, or WW_E_INVALID for a malformed permessage-deflate parameter (out disabled).
 */
int ww_ws_parse_extensions(ww_ws_pmd *out, const char *s, size_t n) WW_WUR;

typedef struct ww_ws_cbs {
    void *ud;
    /* A complete data message (opcode WW_WS_TEXT / WW_WS_BINARY), decompressed. truncated:
     * over max_message or not decodable (then p holds a prefix, possibly empty). */
    void (*message)(void *ud, int dir, int opcode, const uint8_t *p, size_t n, bool truncated,
                    uint64_t ts_us);
    void (*anomaly)(void *ud, const char *type, const char *detail);
} ww_ws_cbs;

typedef struct ww_ws_stats {
    uint64_t frames, messages, control, compressed, bytes_skipped, anomalies;
} ww_ws_stats;

typedef struct ww_ws ww_ws;
/*
 * pmd may be NULL (no extension). max_message: cap on one decoded message (0: 1 MiB).
 * ratio: decompression guard (0: 100). Returns NULL on OOM.
 */
ww_ws *ww_ws_new(const ww_mem *mem, const ww_ws_pmd *pmd, size_t max_message, size_t ratio,
                 const ww_ws_cbs *cbs);
void ww_ws_data(ww_ws *w, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
/* Bytes lost in dir: that direction is abandoned (frame boundaries are lost). */
void ww_ws_gap(ww_ws *w, int dir, uint64_t len);
bool ww_ws_dead(const ww_ws *w, int dir);
const ww_ws_stats *ww_ws_stats_get(const ww_ws *w);
void ww_ws_free(ww_ws *w);

#endif
