/*
 * quic.h - passive QUIC (RFC 9000, RFC 9001; version 2, RFC 9369) and HTTP/3 (RFC 9114, QPACK
 * RFC 9204 through nghttp3) for walletwatch. Self-contained modules the engine plugs in:
 *
 *   capture/pktdec (ww_pktdec_set_udp_fn) -> ww_udp_dgram
 *     -> ww_quic (connection table by connection IDs and 5-tuple, packet protection, frames,
 *        STREAM reassembly per stream)  -> stream_data callbacks, per connection (ww_flow)
 *        -> ww_h3 (one per connection: control/QPACK streams, HEADERS/DATA, requests paired
 *           with responses)  -> ww_http_msg + streamed body chunks, as decode/h2_int.h
 *
 * Nothing here prints key material. All crypto is OpenSSL EVP (decode/tls_crypto.c helpers).
 */
#ifndef WW_QUIC_H
#define WW_QUIC_H

#include "decode/decode.h"

#define WW_QUIC_V1 0x00000001u
#define WW_QUIC_V2 0x6b3343cfu

/* The `quic` object of events (SPEC): beside `tls`. */
typedef struct ww_quic_info {
    uint32_t version; /* WW_QUIC_V1, WW_QUIC_V2 */
    char sni[256];    /* ClientHello server_name; "" when absent */
    char alpn[32];    /* negotiated (EncryptedExtensions); before that the first offered; "" */
    uint16_t cipher;  /* TLS 1.3 suite from the ServerHello (0x1301...); 0 before */
} ww_quic_info;
/* "1", "2" or "0x%08x" into a static table for the two known ones, NULL otherwise. */
const char *ww_quic_version_name(uint32_t v);

/* ---------------------------------------------------------------------------------------
 * QUIC
 * --------------------------------------------------------------------------------------- */
typedef struct ww_quic_cfg {
    size_t max_conns;         /* connections tracked at once (default 4096; LRU evicted) */
    size_t max_streams;       /* open streams per connection (default 256; more: anomaly) */
    size_t max_stream_ooo;    /* out-of-order bytes held per stream direction (default 1 MiB) */
    size_t max_conn_ooo;      /* ... per connection, all streams (default 4 MiB) */
    size_t max_backlog;       /* bytes of packets waiting for a key, per connection (256 KiB) */
    uint64_t idle_timeout_us; /* default 60 s */
    size_t max_ooo_bytes;     /* out-of-order bytes held, all connections (default 256 MiB) */
    size_t max_backlog_total; /* bytes waiting for keys, all connections (default 64 MiB) */
} ww_quic_cfg;

typedef struct ww_quic_stats {
    uint64_t datagrams, not_quic, packets, decrypted, decrypt_failed, no_key, conns, migrations,
        key_updates, stream_bytes, ooo_dropped_bytes, anomalies, evicted, stateless_resets;
} ww_quic_stats;

/*
 * Callbacks. f is the connection's flow record (id, client/server address as first seen or
 * migrated to, timestamps, bytes, the app slot); it lives from open to close. dir is
 * WW_DIR_TOSERVER (sent by the client) or WW_DIR_TOCLIENT. p lives for the call.
 */
typedef struct ww_quic_cbs {
    void *ud;
    /* a new connection (its first client Initial decrypted) */
    void (*open)(void *ud, ww_flow *f, uint64_t ts_us);
    /* once per connection: when EncryptedExtensions gave the ALPN, or else at the first
     * 1-RTT packet opened, or else at close; info lives as long as f (and may still gain the
     * negotiated ALPN after this call: read it again with ww_quic_conn_info) */
    void (*handshake)(void *ud, ww_flow *f, const ww_quic_info *info);
    /* in-order bytes of one direction of one stream; fin: this is its end (n may be 0) */
    void (*stream_data)(void *ud, ww_flow *f, int dir, uint64_t stream_id, const uint8_t *p,
                        size_t n, bool fin, uint64_t ts_us);
    /* the sender abandoned its direction of the stream (RESET_STREAM); nothing more comes.
     * Also used, with error_code UINT64_MAX, when bytes were lost (over a cap): the stream's
     * direction cannot be read any further. */
    void (*stream_reset)(void *ud, ww_flow *f, int dir, uint64_t stream_id, uint64_t error_code,
                         uint64_t ts_us);
    /* after this, f is gone; f->app must be released by the callee. reason: WW_CLOSE_FIN
     * (CONNECTION_CLOSE), WW_CLOSE_RST (a stateless reset whose token a NEW_CONNECTION_ID
     * gave), WW_CLOSE_TIMEOUT, WW_CLOSE_EVICT, WW_CLOSE_END */
    void (*close)(void *ud, ww_flow *f, int reason, uint64_t ts_us);
    /* layer "quic"; flow may be NULL */
    ww_anomaly_fn anomaly;
    /* optional (tests): every STREAM frame as decrypted, before reassembly */
    void (*stream_frame)(void *ud, ww_flow *f, int dir, uint64_t pn, uint64_t stream_id,
                         uint64_t offset, size_t len, bool has_len, bool fin);
    /* optional: a flow id for a new connection (shared numbering with TCP); NULL: 1, 2, ... */
    uint64_t (*next_flow_id)(void *ud);
} ww_quic_cbs;

typedef struct ww_quic ww_quic;
/* cfg may be NULL (defaults); kl may be NULL (Initial packets only). Returns NULL on OOM. */
ww_quic *ww_quic_new(const ww_mem *mem, const ww_quic_cfg *cfg, const ww_quic_cbs *cbs,
                     ww_keylog *kl);
/*
 * One UDP datagram (any port). Returns true when it was QUIC of a tracked connection (or
 * started one), false when it is not recognised as QUIC (then nothing was reported).
 * Malformed packets of a tracked connection are anomalies; the datagram is never read past
 * dg->len.
 */
bool ww_quic_datagram(ww_quic *q, const ww_udp_dgram *dg);
/* Time moved to now (packet time): closes every idle connection (oldest touched first);
 * retries packets waiting for a key when the key log has grown. Walks every connection: the
 * engine calls it at its tick points (a second of packet time, a key log that grew). */
void ww_quic_tick(ww_quic *q, uint64_t now_us);
/* Its two halves, in this order: retries for a grown key log; idle connections closed. */
void ww_quic_tick_keys(ww_quic *q, uint64_t now_us);
void ww_quic_tick_idle(ww_quic *q, uint64_t now_us);
/* The number of the packet being handed in; ww_quic_flow_touch: the last that touched the
 * connection of f (a flow of this ww_quic). LRU order is ascending touch order. */
void ww_quic_set_seq(ww_quic *q, uint64_t seq);
uint64_t ww_quic_flow_touch(const ww_flow *f);
/* End of input: last try for packets waiting for keys (anomaly "quic-no-key" for the rest),
 * then every connection is closed (WW_CLOSE_END). */
void ww_quic_finish(ww_quic *q, uint64_t now_us);
/* The info of a connection (f from a callback of this ww_quic). */
const ww_quic_info *ww_quic_conn_info(const ww_flow *f);
/* true once a 1-RTT or 0-RTT packet of the connection was opened (application data seen) */
bool ww_quic_conn_decrypted(const ww_flow *f);
/* true when 1-RTT packets of the connection were seen that could not be decrypted (tag
 * failures, or packets still without a key at finish / over the backlog) */
bool ww_quic_conn_undecryptable(const ww_flow *f);
const ww_quic_stats *ww_quic_stats_get(const ww_quic *q);
void ww_quic_free(ww_quic *q); /* closes nothing: call ww_quic_finish first */

/* ---- exposed for tests (RFC 9001 A / RFC 9369 A vectors) ---- */
typedef struct ww_quic_keys {
    uint8_t key[32], iv[12], hp[32];
    size_t key_len;
} ww_quic_keys;
/*
 * Initial keys of one side (server: false = client) for version (v1/v2) and the client's
 * original Destination Connection ID. Returns WW_OK, WW_E_UNSUPPORTED (version), WW_E_CRYPTO.
 * The caller wipes out.
 */
int ww_quic_initial_keys(ww_quic_keys *out, uint32_t version, bool server, const uint8_t *dcid,
                         size_t dcid_len) WW_WUR;
/* Packet keys from a traffic secret (suite 0x1301/0x1302/0x1303). */
int ww_quic_keys_from_secret(ww_quic_keys *out, uint32_t version, uint16_t suite,
                             const uint8_t *secret, size_t secret_len) WW_WUR;
/* Header-protection mask (5 bytes) for a 16-byte sample. */
int ww_quic_hp_mask(uint8_t mask[5], uint16_t suite, const uint8_t *hp_key,
                    const uint8_t sample[16]) WW_WUR;

/* ---------------------------------------------------------------------------------------
 * HTTP/3 over one QUIC connection
 * --------------------------------------------------------------------------------------- */
#define WW_H3_MAX_STREAMS 256

/* As ww_h2_cbs (decode/h2_int.h): the same message, body and streaming contract. */
typedef struct ww_h3_cbs {
    void *ud;
    /* After a message's header block: keep (and decode) its body? msg->body is empty here. */
    bool (*want_body)(void *ud, const ww_http_msg *msg);
    /* A complete message (FIN, reset, or end of connection: then body_truncated). A response
     * carries its request's method, url (:path) and host (:authority). msg->stream_id holds
     * the low 32 bits of the QUIC stream id (given whole in stream_id). msg and its strings
     * live for the call only. */
    void (*message)(void *ud, const ww_http_msg *msg, uint64_t stream_id, uint64_t ts_us);
    void (*anomaly)(void *ud, const char *type, const char *detail);
    /* optional: every decoded header field in wire order (name/value live for the call) */
    void (*field)(void *ud, uint64_t stream_id, int dir, const uint8_t *name, size_t name_len,
                  const uint8_t *value, size_t value_len);
    /* optional: streamed bodies as ww_h2_cbs: a window of WW_HTTP_STREAM_WINDOW decoded bytes
     * handed to body_chunk each time it fills; the message carries the rest with
     * body_streamed. body_chunk returns how many bytes it consumed (the rest is kept). */
    bool (*stream_body)(void *ud, const ww_http_msg *head);
    size_t (*body_chunk)(void *ud, const ww_http_msg *head, const uint8_t *p, size_t n);
} ww_h3_cbs;

typedef struct ww_h3_stats {
    uint64_t frames, requests, responses, streams, bodies_kept, bodies_skipped, body_bytes_skipped,
        anomalies, qpack_blocked;
    uint64_t bodies_undecodable; /* wanted bodies whose Content-Encoding cannot be decoded */
} ww_h3_stats;

typedef struct ww_h3 ww_h3;
/* cfg may be NULL (defaults: caps as HTTP/2). Returns NULL on OOM. */
ww_h3 *ww_h3_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_h3_cbs *cbs);
/* The ww_quic stream_data / stream_reset of this connection, passed on as they come. */
void ww_h3_stream_data(ww_h3 *h, int dir, uint64_t stream_id, const uint8_t *p, size_t n, bool fin,
                       uint64_t ts_us);
void ww_h3_stream_reset(ww_h3 *h, int dir, uint64_t stream_id, uint64_t ts_us);
/* End of connection: messages whose header block was seen are delivered, truncated. */
void ww_h3_close(ww_h3 *h, uint64_t ts_us);
void ww_h3_free(ww_h3 *h);
/* true once the connection was abandoned (QPACK error on a shared stream, bad control stream) */
bool ww_h3_poisoned(const ww_h3 *h);
const ww_h3_stats *ww_h3_stats_get(const ww_h3 *h);

#endif
