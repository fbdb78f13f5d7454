/*
 * httpmsg_int.h - the HTTP message layer: what happens to an HTTP message once a transport
 * has framed it, written once for every transport (HTTP/1.1, HTTP/2, WebSocket text messages,
 * HTTP/3 next):
 *
 *   body policy      which bodies are kept (want_body), which are streamed (stream_body)
 *   requests         JSON-RPC -> wallet calls -> sink->wallet_call; ids remembered per
 *                    connection until their responses (JSON-RPC pairing -> sink->rpc_result)
 *   responses        served-candidate bodies -> address scan -> sink->served, piece by
 *                    piece for streamed bodies (body_chunk) and whole otherwise
 *   scripts          addresses embedded -> sink->script (drainer-script); --yara rules
 *
 * Transports own framing (http1.c, h2.c, h3.c, ws.c: they call ww_app_cfg_defaults).
 * The body stage of the transports that carry several messages at once (HTTP/2, HTTP/3) is
 * here too, once: ww_hm_body (content codings, caps, the streaming window); the app layer (app.c) owns routing and builds the context of each
 * call: conn_ctx is the connection's context (time, flow, app_proto, tls) with dir set to
 * the message's direction. Nothing here knows which transport carried the message.
 */
#ifndef WW_HTTPMSG_INT_H
#define WW_HTTPMSG_INT_H

#include "decode/anom_int.h"
#include "decode/coding_int.h"
#include "decode/decode.h"

#define WW_HM_PENDING_RPC_MAX 16 /* wallet-call requests per connection awaiting a response */

/* Per connection: JSON-RPC requests awaiting their responses, a streamed script's addresses. */
typedef struct ww_hm_conn {
    struct ww_hm_pending {
        char rpc_id[72];
        char method[48];
        uint32_t stream_id; /* the request's HTTP/2 or HTTP/3 stream (its response's) */
    } pending[WW_HM_PENDING_RPC_MAX];
    size_t n_pending, next_pending;
    ww_addr *sc_addrs; /* the streamed script's addresses so far (grown as they come) */
    size_t sc_n, sc_alloc;
} ww_hm_conn;

/* One per ww_app: where facts go, the policy's configuration, scratch space, counters. */
typedef struct ww_hm {
    const ww_mem *mem;
    const ww_app_cfg *cfg;
    const ww_decode_sink *sink;
    ww_app_stats *st;      /* http_messages, rpc_calls, wallet_calls */
    ww_wallet_call *calls; /* scratch for one request's wallet calls */
    ww_addr *script_addrs; /* scratch for one gathered script's addresses */
} ww_hm;

/* For transports, as they complete a message: the body fields of m. keep: the body was kept
 * (p[0..n) its decoded bytes, the rest of it when stream); hash: SHA-256 of a whole kept body
 * (--log-http). */
void ww_http_msg_set_body(ww_http_msg *m, bool keep, bool stream, const uint8_t *p, size_t n,
                          bool hash);

int ww_hm_init(ww_hm *hm, const ww_mem *mem, const ww_app_cfg *cfg, const ww_decode_sink *sink,
               ww_app_stats *st) WW_WUR;
void ww_hm_cleanup(ww_hm *hm);
void ww_hm_conn_cleanup(const ww_hm *hm, ww_hm_conn *c);

/* After a message's head: keep (and decode) its body? */
bool ww_hm_want_body(const ww_hm *hm, const ww_http_msg *head);
/* ... and stream it (scanned piece by piece, never gathered)? one_body_at_a_time: the
 * transport delivers one response body at a time per connection (HTTP/1.1), so a script's
 * addresses can be gathered per connection while it streams; on HTTP/2 and HTTP/3 the body
 * stage (ww_hm_body) gathers them per message. */
bool ww_hm_stream_body(const ww_hm *hm, const ww_hm_conn *c, const ww_http_msg *head,
                       bool one_body_at_a_time);
/* A streamed response body's next piece (conn_ctx->dir TOCLIENT). Returns the bytes the
 * transport drops (ww_h1_cbs.body_chunk). */
size_t ww_hm_body_chunk(ww_hm *hm, ww_hm_conn *c, const ww_ctx *conn_ctx, const ww_http_msg *head,
                        const uint8_t *p, size_t n);
/* A complete message: the http event, then its body (the rest of it when streamed). */
void ww_hm_message(ww_hm *hm, ww_hm_conn *c, const ww_ctx *conn_ctx, const ww_http_msg *m);
/* A WebSocket text message on a session opened by host/url: JSON-RPC requests from the
 * client, responses and served addresses from the server. truncated: p[0..n) is the first
 * bytes of a message over the cap (requests: decoded as a prefix; responses: ignored). */
void ww_hm_ws_text(ww_hm *hm, ww_hm_conn *c, const ww_ctx *conn_ctx, const char *host,
                   const char *url, const uint8_t *p, size_t n, bool truncated);

/* ---- the body stage of one message of a multiplexing transport (HTTP/2, HTTP/3) ----
 * Per message: ww_hm_body_setup after its header block (asks want_body / stream_body, sets up
 * the content codings), ww_hm_body_data for each piece of the body as framed (decoded, capped,
 * kept or streamed through body_chunk as it arrives), ww_hm_body_end when the message
 * completes (fills the message's body fields), ww_hm_body_free. */
typedef struct ww_hm_body {
    bool keep, stream, stopped, truncated, has_body;
    /* stream of a script whose addresses only are wanted: the stage scans it itself (into
     * sc_addrs, grown up to the per-script cap) instead of calling body_chunk, under the caps
     * and anomalies of a body kept whole (max_body_bytes) */
    bool script;
    ww_addr *sc_addrs;
    size_t sc_n, sc_alloc;
    ww_buf body;       /* kept decoded bytes; when stream, the window not yet handed on */
    ww_coding *coding; /* NULL: identity */
    uint64_t raw_len;  /* framed (still encoded) body bytes */
    uint64_t streamed; /* decoded bytes already handed on and dropped */
} ww_hm_body;

/* What the stage reaches of its transport, for one message. */
typedef struct ww_hm_body_io {
    const ww_mem *mem;
    const ww_app_cfg *cfg;
    void *ud; /* for the callbacks */
    bool (*want_body)(void *ud, const ww_http_msg *head);
    bool (*stream_body)(void *ud, const ww_http_msg *head);
    size_t (*body_chunk)(void *ud, const ww_http_msg *head, const uint8_t *p, size_t n);
    ww_anom_fn anomaly; /* the transport's anomalies, counted in *anomalies */
    uint64_t *anomalies;
    uint64_t *undecodable; /* wanted bodies whose coding cannot be decoded (blind spots) */
    const char *label; /* "stream 5": starts each anomaly's detail */
    const char *dir;   /* "client" / "server": whose body */
} ww_hm_body_io;

void ww_hm_body_setup(ww_hm_body *b, const ww_hm_body_io *io, const ww_http_msg *head);
void ww_hm_body_data(ww_hm_body *b, const ww_hm_body_io *io, const ww_http_msg *head,
                     const uint8_t *p, size_t n);
/* The message completes: m (built by the transport) gets body_len, body_truncated (also when
 * truncated) and the body. Returns true when a body was seen (kept or skipped: b->keep). */
bool ww_hm_body_end(ww_hm_body *b, const ww_hm_body_io *io, ww_http_msg *m, bool truncated);
/* The decoder and the bytes (after the message callback). */
void ww_hm_body_release(ww_hm_body *b);

#endif /* WW_HTTPMSG_INT_H */
