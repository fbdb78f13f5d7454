/*
 * app.c - protocol routing per flow: decides what a TCP connection carries (TLS, HTTP/1.1,
 * HTTP/2 preface, something else) and hands its bytes to the transport that frames them:
 *
 *   TCP bytes --(TLS? decrypt with the key log)--> HTTP/1.1 (decode/http1.c)
 *   HTTP/2 (ALPN h2, prior-knowledge preface, Upgrade: h2c)        --> decode/h2.c
 *   WebSocket (HTTP/1.1 Upgrade, RFC 8441 extended CONNECT over h2) --> decode/ws.c
 *
 * Every framed message, body piece and WebSocket text message goes on to the one HTTP
 * message layer (decode/httpmsg.c: body policy, JSON-RPC, served addresses, scripts) with
 * the connection's context. HTTP/3 over QUIC (decode/quic.c, fed by the engine) comes in by
 * ww_app_quic_*: one ww_h3 per QUIC connection, into the same message layer.
 * It decides nothing about alerts. State per flow lives in f->app.
 */
#include "decode/decode.h"
#include "decode/h2_int.h"
#include "decode/http1_int.h"
#include "decode/httpmsg_int.h"
#include "decode/quic.h"
#include "decode/tls_int.h"
#include "decode/ws_int.h"

#include <strings.h>

enum proto { P_UNKNOWN = 0, P_HTTP1, P_TLS, P_H2, P_OTHER, P_H3 };
enum upgrade_kind { UP_NONE = 0, UP_OTHER, UP_WS, UP_H2C };

/* A WebSocket session: over the whole connection (HTTP/1.1 Upgrade) or one h2 stream. */
typedef struct ws_sess {
    struct app_flow *af;
    ww_ws *ws;
    char *host, *url; /* of the upgrade request (NULL when absent) */
} ws_sess;

#define PROBE_MAX 16

typedef struct app_flow {
    ww_app *app;
    ww_flow *flow;
    int proto;
    int inner;              /* for TLS: what the plaintext carries (P_UNKNOWN until seen) */
    ww_tls *tls;
    ww_h1 *h1;
    ww_tls_info tls_info;
    bool tls_known;         /* tls_info filled by the handshake */
    bool upgraded;
    int up_kind;            /* enum upgrade_kind, once upgraded */
    ww_h2 *h2;              /* HTTP/2 (TLS h2, h2c prior knowledge, h2c upgrade) */
    ww_h3 *h3;              /* HTTP/3 on a QUIC connection (proto P_H3) */
    ws_sess *ws;            /* WebSocket after an HTTP/1.1 upgrade */
    char *up_method, *up_url, *up_host; /* the request that the 101 answered */
    const uint8_t *cur_p;   /* the chunk being fed to the HTTP/1.1 parser */
    size_t cur_n;
    uint64_t ts_us;         /* time of the data being processed */
    int dir;
    uint8_t probe[2][PROBE_MAX]; /* first bytes per direction, until the protocol is known */
    size_t nprobe[2];
    ww_hm_conn hc;          /* the HTTP message layer's state for this connection */
    /* closed while its TLS records wait for a key (late keys): on the app's parked list */
    ww_flow closed;         /* the flow as it was at close (af->flow points here then) */
    uint64_t parked_us;
    struct app_flow *next;
    struct app_flow *tprev, *tnext; /* open TLS connections, retried when the key log grows */
    uint64_t tls_rank[2], park_rank[2]; /* ww_app_set_rank_fn's */
} app_flow;

struct ww_app {
    const ww_mem *mem;
    ww_app_cfg cfg;
    ww_decode_sink sink;
    ww_keylog *kl;
    ww_app_stats st;
    ww_hm hm; /* the HTTP message layer (decode/httpmsg.c) */
    /* closed connections whose TLS records wait for a late key, oldest first */
    app_flow *parked, *parked_tail;
    size_t n_parked;
    uint64_t parked_gen; /* key log generation they were last retried with */
    app_flow *tls_open;  /* open TLS connections (tprev/tnext) */
    ww_app_rank_fn rank_fn;
    void *rank_ud;
};

void ww_app_set_rank_fn(ww_app *app, ww_app_rank_fn fn, void *ud)
{
    app->rank_fn = fn;
    app->rank_ud = ud;
}

static inline void app_rank(const ww_app *app, int what, uint64_t r[2])
{
    if (app->rank_fn != NULL)
        app->rank_fn(app->rank_ud, what, r);
}

static void flow_finish(app_flow *af, uint64_t ts_us);

ww_app *ww_app_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_decode_sink *sink,
                   ww_keylog *kl)
{
    ww_app *a = ww_calloc(mem, 1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->mem = mem;
    if (cfg != NULL)
        a->cfg = *cfg;
    ww_app_cfg_defaults(&a->cfg);
    a->sink = *sink;
    a->kl = kl;
    if (ww_hm_init(&a->hm, mem, &a->cfg, &a->sink, &a->st) != WW_OK) {
        ww_free(mem, a);
        return NULL;
    }
    return a;
}

void ww_app_free(ww_app *a)
{
    if (a == NULL)
        return;
    while (a->parked != NULL) { /* no events now: just released */
        app_flow *af = a->parked;
        a->parked = af->next;
        af->app->sink.anomaly = NULL;
        ww_tls_free(af->tls);
        af->tls = NULL;
        ww_h1_free(af->h1);
        ww_h2_free(af->h2);
        af->h1 = NULL;
        af->h2 = NULL;
        flow_finish(af, af->parked_us);
    }
    ww_hm_cleanup(&a->hm);
    ww_free(a->mem, a);
}

const ww_app_stats *ww_app_stats_get(const ww_app *a)
{
    return &a->st;
}

static const char *app_proto_name(const app_flow *af)
{
    int p = af->proto == P_TLS ? af->inner : af->proto;
    if (af->upgraded)
        return af->up_kind == UP_WS ? "websocket" : af->up_kind == UP_H2C ? "http2" : NULL;
    switch (p) {
    case P_HTTP1:
        return "http";
    case P_H2:
        return "http2";
    case P_H3:
        return "http3";
    default:
        return NULL;
    }
}

static void ctx_init(ww_ctx *ctx, const app_flow *af, int dir)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->ts_us = af->ts_us;
    ctx->flow = af->flow;
    ctx->dir = dir;
    ctx->app_proto = app_proto_name(af);
    ctx->tls = af->proto == P_TLS ? &af->tls_info : NULL;
    ctx->quic = af->proto == P_H3 ? ww_quic_conn_info(af->flow) : NULL;
}

static void anomaly(app_flow *af, int dir, const ww_http_info *http, const char *layer,
                    const char *type, const char *detail)
{
    ww_ctx ctx;
    if (af->app->sink.anomaly == NULL)
        return;
    ctx_init(&ctx, af, dir);
    ctx.http = http;
    af->app->sink.anomaly(af->app->sink.ud, &ctx, layer, type, detail);
}

/* ---- messages: into the HTTP message layer (decode/httpmsg.c) ---- */

static bool app_want_body(void *ud, const ww_http_msg *m)
{
    const app_flow *af = ud;
    return ww_hm_want_body(&af->app->hm, m);
}

/* HTTP/2 (and HTTP/3): several response bodies at once per connection */
static bool app_stream_body(void *ud, const ww_http_msg *head)
{
    const app_flow *af = ud;
    return ww_hm_stream_body(&af->app->hm, &af->hc, head, false);
}

/* HTTP/1.1: one response body at a time per connection */
static bool h1_stream_body(void *ud, const ww_http_msg *head)
{
    const app_flow *af = ud;
    return ww_hm_stream_body(&af->app->hm, &af->hc, head, true);
}

static size_t app_body_chunk(void *ud, const ww_http_msg *head, const uint8_t *p, size_t n)
{
    app_flow *af = ud;
    ww_ctx ctx;
    ctx_init(&ctx, af, WW_DIR_TOCLIENT);
    return ww_hm_body_chunk(&af->app->hm, &af->hc, &ctx, head, p, n);
}

static void msg_out(app_flow *af, const ww_http_msg *m, uint64_t ts_us)
{
    ww_ctx ctx;
    af->ts_us = ts_us;
    ctx_init(&ctx, af, m->is_request ? WW_DIR_TOSERVER : WW_DIR_TOCLIENT);
    ww_hm_message(&af->app->hm, &af->hc, &ctx, m);
}

static char *dup_str(const ww_mem *mem, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *d = ww_malloc(mem, n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

static void h1_message(void *ud, const ww_http_msg *m, uint64_t ts_us)
{
    app_flow *af = ud;
    if (!m->is_request && (m->status == 101 || (m->method != NULL &&
                                                strcmp(m->method, "CONNECT") == 0 &&
                                                m->status >= 200 && m->status < 300))) {
        /* an upgrade follows: remember the request it answers */
        const ww_mem *mem = af->app->mem;
        ww_free(mem, af->up_method);
        ww_free(mem, af->up_url);
        ww_free(mem, af->up_host);
        af->up_method = dup_str(mem, m->method);
        af->up_url = dup_str(mem, m->url);
        af->up_host = dup_str(mem, m->host);
    }
    msg_out(af, m, ts_us);
}

static void h1_anomaly(void *ud, const char *type, const char *detail)
{
    app_flow *af = ud;
    anomaly(af, af->dir, NULL, "http", type, detail);
}

/* ---- WebSocket ---- */

static void ws_message(void *ud, int dir, int opcode, const uint8_t *p, size_t n, bool truncated,
                       uint64_t ts_us)
{
    ws_sess *ws = ud;
    app_flow *af = ws->af;
    ww_ctx ctx;
    if (opcode != WW_WS_TEXT || n == 0)
        return;
    af->ts_us = ts_us;
    ctx_init(&ctx, af, dir);
    ww_hm_ws_text(&af->app->hm, &af->hc, &ctx, ws->host, ws->url, p, n, truncated);
}

static void ws_anomaly(void *ud, const char *type, const char *detail)
{
    ws_sess *ws = ud;
    ww_http_info http;
    ww_ctx ctx;
    app_flow *af = ws->af;
    if (af->app->sink.anomaly == NULL)
        return;
    memset(&http, 0, sizeof http);
    http.hostname = ws->host;
    http.url = ws->url;
    ctx_init(&ctx, af, af->dir);
    ctx.app_proto = "websocket";
    ctx.http = &http;
    af->app->sink.anomaly(af->app->sink.ud, &ctx, "websocket", type, detail);
}

static void ws_sess_free(const ww_mem *mem, ws_sess *ws)
{
    if (ws == NULL)
        return;
    ww_ws_free(ws->ws);
    ww_free(mem, ws->host);
    ww_free(mem, ws->url);
    ww_free(mem, ws);
}

/* ext: the server's Sec-WebSocket-Extensions (NULL: none). Returns NULL on OOM. */
static ws_sess *ws_sess_new(app_flow *af, const char *ext, size_t ext_len, const char *host,
                            const char *url)
{
    const ww_mem *mem = af->app->mem;
    ww_ws_pmd pmd;
    memset(&pmd, 0, sizeof pmd);
    if (ext != NULL && ww_ws_parse_extensions(&pmd, ext, ext_len) != WW_OK) {
        anomaly(af, WW_DIR_TOCLIENT, NULL, "websocket", "ws-bad-extensions",
                "malformed permessage-deflate parameters: compressed messages are inflated with "
                "the defaults");
        memset(&pmd, 0, sizeof pmd);
    }
    ws_sess *ws = ww_calloc(mem, 1, sizeof(*ws));
    if (ws == NULL)
        return NULL;
    ws->af = af;
    ws->host = dup_str(mem, host);
    ws->url = dup_str(mem, url);
    ww_ws_cbs cbs = {ws, ws_message, ws_anomaly};
    size_t cap = WW_MIN(af->app->cfg.max_body_bytes, (size_t)16 << 20);
    ws->ws = ww_ws_new(mem, &pmd, cap, af->app->cfg.max_decoded_ratio, &cbs);
    if (ws->ws == NULL) {
        ws_sess_free(mem, ws);
        return NULL;
    }
    return ws;
}

/* Finds "Sec-WebSocket-Extensions:" in a response head p[0..n); *len its value's length. */
static const char *find_ws_ext(const uint8_t *p, size_t n, size_t *len)
{
    static const char name[] = "\nsec-websocket-extensions:";
    size_t nl = sizeof(name) - 1;
    for (size_t i = 0; i + nl <= n; i++) {
        if (strncasecmp((const char *)p + i, name, nl) != 0)
            continue;
        size_t a = i + nl, e = a;
        while (e < n && p[e] != '\r' && p[e] != '\n')
            e++;
        *len = e - a;
        return (const char *)p + a;
    }
    return NULL;
}

/* ---- HTTP/2 ---- */

static void h2_message(void *ud, const ww_http_msg *m, uint32_t stream_id, uint64_t ts_us)
{
    (void)stream_id;
    msg_out(ud, m, ts_us);
}

static void h2_anomaly(void *ud, const char *type, const char *detail)
{
    app_flow *af = ud;
    anomaly(af, af->dir, NULL, "http2", type, detail);
}

static void *h2_tunnel_open(void *ud, uint32_t stream_id, const char *protocol, const char *ext,
                            const ww_http_msg *req)
{
    app_flow *af = ud;
    (void)stream_id;
    if (strcasecmp(protocol, "websocket") != 0)
        return NULL;
    ws_sess *ws = ws_sess_new(af, ext, ext ? strlen(ext) : 0, req->host, req->url);
    if (ws == NULL)
        anomaly(af, af->dir, NULL, "app", "out-of-memory", "cannot allocate WebSocket state");
    return ws;
}

static void h2_tunnel_data(void *ud, void *tunnel, int dir, const uint8_t *p, size_t n,
                           uint64_t ts_us)
{
    (void)ud;
    ww_ws_data(((ws_sess *)tunnel)->ws, dir, p, n, ts_us);
}

static void h2_tunnel_close(void *ud, void *tunnel)
{
    app_flow *af = ud;
    ws_sess_free(af->app->mem, tunnel);
}

static ww_h2 *make_h2(app_flow *af)
{
    ww_h2_cbs cbs = {af, NULL, h2_message, h2_anomaly, h2_tunnel_open, h2_tunnel_data,
                     h2_tunnel_close, NULL, app_stream_body, app_body_chunk};
    cbs.want_body = app_want_body;
    return ww_h2_new(af->app->mem, &af->app->cfg, &cbs);
}

static void h1_upgrade(void *ud, int status, const char *upgrade)
{
    app_flow *af = ud;
    ww_slice rest = {NULL, 0};
    af->upgraded = true;
    af->up_kind = UP_OTHER;
    ww_h1_upgrade_rest(af->h1, &rest);
    if (status != 101 || upgrade == NULL)
        return; /* CONNECT tunnels and the like: not decoded */
    if (strcasecmp(upgrade, "websocket") == 0) {
        const char *ext = NULL;
        size_t ext_len = 0;
        if (af->cur_p != NULL) {
            size_t head = af->cur_n;
            if (rest.len > 0 && rest.ptr >= af->cur_p && rest.ptr <= af->cur_p + af->cur_n)
                head = (size_t)(rest.ptr - af->cur_p);
            ext = find_ws_ext(af->cur_p, head, &ext_len);
        }
        af->ws = ws_sess_new(af, ext, ext_len, af->up_host, af->up_url);
        if (af->ws == NULL) {
            anomaly(af, WW_DIR_TOCLIENT, NULL, "app", "out-of-memory", "cannot allocate WebSocket state");
            return;
        }
        af->up_kind = UP_WS;
        if (rest.len > 0)
            ww_ws_data(af->ws->ws, WW_DIR_TOCLIENT, rest.ptr, rest.len, af->ts_us);
    } else if (strcasecmp(upgrade, "h2c") == 0) {
        af->h2 = make_h2(af);
        if (af->h2 == NULL || ww_h2_upgraded(af->h2, af->up_method, af->up_url, af->up_host) != WW_OK) {
            anomaly(af, WW_DIR_TOCLIENT, NULL, "app", "out-of-memory", "cannot allocate HTTP/2 state");
            return;
        }
        af->up_kind = UP_H2C;
        af->app->st.h2_flows++;
        if (rest.len > 0)
            ww_h2_data(af->h2, WW_DIR_TOCLIENT, rest.ptr, rest.len, af->ts_us);
    }
}

static ww_h1 *make_h1(app_flow *af)
{
    ww_h1_cbs cbs = {af, app_want_body, h1_message, h1_anomaly, h1_upgrade, h1_stream_body,
                     app_body_chunk};
    return ww_h1_new(af->app->mem, &af->app->cfg, &cbs);
}

/* ---- plaintext routing (after TLS, or straight from TCP) ---- */

static bool looks_http1(const uint8_t *p, size_t n)
{
    static const char *starts[] = {"GET ",    "POST ",  "PUT ",     "HEAD ",  "DELETE ",
                                   "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ", "HTTP/1."};
    for (size_t i = 0; i < WW_ARRAY_LEN(starts); i++) {
        size_t l = strlen(starts[i]);
        if (memcmp(p, starts[i], WW_MIN(n, l)) == 0)
            return true;
    }
    return false;
}

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* An HTTP/2 server's first frame: SETTINGS (type 4) on stream 0, not an ACK, length a multiple
 * of 6 (a prior-knowledge server may speak before the client's preface is captured). */
static bool looks_h2_server(const uint8_t *p, size_t n)
{
    if (n < 9)
        return false;
    uint32_t len = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
    return p[3] == 4 && p[4] == 0 && (p[5] & 0x7f) == 0 && p[6] == 0 && p[7] == 0 && p[8] == 0 &&
           len % 6 == 0 && len <= 6 * 16;
}

/* Decides what plaintext carries from its first bytes; P_UNKNOWN while too few are seen. */
static int sniff_plain(int dir, const uint8_t *p, size_t n)
{
    if (n == 0)
        return P_UNKNOWN;
    if (dir == WW_DIR_TOCLIENT && looks_h2_server(p, n))
        return P_H2;
    if (memcmp(p, h2_preface, WW_MIN(n, sizeof(h2_preface) - 1)) == 0)
        return n >= 4 ? P_H2 : P_UNKNOWN; /* "PRI ": no HTTP/1.1 method; h2.c checks the rest */
    if (looks_http1(p, n))
        return n >= 8 ? P_HTTP1 : P_UNKNOWN;
    return P_OTHER;
}

static void plain_data(app_flow *af, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    int *which = af->proto == P_TLS ? &af->inner : &af->proto;
    if (*which == P_UNKNOWN) {
        int k = sniff_plain(dir, p, n);
        if (k == P_UNKNOWN)
            k = P_HTTP1; /* short first chunk: let the parser decide */
        *which = k;
        if (k == P_H2)
            af->app->st.h2_flows++;
    }
    if (*which == P_HTTP1 && af->upgraded) {
        af->dir = dir;
        if (af->up_kind == UP_WS && af->ws != NULL)
            ww_ws_data(af->ws->ws, dir, p, n, ts);
        else if (af->up_kind == UP_H2C && af->h2 != NULL)
            ww_h2_data(af->h2, dir, p, n, ts);
        return;
    }
    if (*which == P_HTTP1) {
        if (af->h1 == NULL && (af->h1 = make_h1(af)) == NULL) {
            anomaly(af, dir, NULL, "app", "out-of-memory", "cannot allocate the HTTP parser");
            *which = P_OTHER;
            return;
        }
        af->dir = dir;
        af->cur_p = p;
        af->cur_n = n;
        ww_h1_data(af->h1, dir, p, n, ts);
        af->cur_p = NULL;
        af->cur_n = 0;
        return;
    }
    if (*which == P_H2) {
        if (af->h2 == NULL && (af->h2 = make_h2(af)) == NULL) {
            anomaly(af, dir, NULL, "app", "out-of-memory", "cannot allocate HTTP/2 state");
            *which = P_OTHER;
            return;
        }
        af->dir = dir;
        ww_h2_data(af->h2, dir, p, n, ts);
    }
}

static void tls_plaintext(void *ud, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    app_flow *af = ud;
    af->ts_us = ts_us;
    plain_data(af, dir, p, n, ts_us);
}

static void tls_handshake(void *ud, const ww_tls_info *info)
{
    app_flow *af = ud;
    af->tls_info = *info;
    af->tls_known = true;
    if (strcmp(info->alpn, "h2") == 0 && af->inner == P_UNKNOWN) {
        af->inner = P_H2;
        af->app->st.h2_flows++;
    }
}

static void tls_anomaly(void *ud, const char *type, const char *detail)
{
    app_flow *af = ud;
    anomaly(af, af->dir, NULL, "tls", type, detail);
}

/* ---- the stream callbacks ---- */

/* ---- HTTP/3 over QUIC (the engine's ww_quic calls these) ---- */

static void h3_message(void *ud, const ww_http_msg *m, uint64_t stream_id, uint64_t ts_us)
{
    (void)stream_id;
    msg_out(ud, m, ts_us);
}

static void h3_anomaly(void *ud, const char *type, const char *detail)
{
    app_flow *af = ud;
    anomaly(af, af->dir, NULL, "http3", type, detail);
}

void ww_app_quic_open(void *ud, ww_flow *f, uint64_t ts_us)
{
    ww_app_on_open(ud, f, ts_us);
    app_flow *af = f->app;
    if (af == NULL)
        return;
    af->ts_us = ts_us;
    af->proto = P_H3;
    ww_h3_cbs cbs = {af, app_want_body, h3_message, h3_anomaly, NULL, app_stream_body,
                     app_body_chunk};
    af->h3 = ww_h3_new(af->app->mem, &af->app->cfg, &cbs);
    if (af->h3 == NULL) {
        anomaly(af, WW_DIR_TOSERVER, NULL, "app", "out-of-memory", "cannot allocate HTTP/3 state");
        af->proto = P_OTHER;
    }
}

void ww_app_quic_stream(void *ud, ww_flow *f, int dir, uint64_t stream_id, const uint8_t *p,
                        size_t n, bool fin, uint64_t ts_us)
{
    app_flow *af = f->app;
    (void)ud;
    if (af == NULL || af->h3 == NULL)
        return;
    af->ts_us = ts_us;
    af->dir = dir;
    ww_h3_stream_data(af->h3, dir, stream_id, p, n, fin, ts_us);
}

void ww_app_quic_reset(void *ud, ww_flow *f, int dir, uint64_t stream_id, uint64_t ts_us)
{
    app_flow *af = f->app;
    (void)ud;
    if (af == NULL || af->h3 == NULL)
        return;
    af->ts_us = ts_us;
    af->dir = dir;
    ww_h3_stream_reset(af->h3, dir, stream_id, ts_us);
}

void ww_app_quic_close(void *ud, ww_flow *f, uint64_t ts_us)
{
    ww_app *app = ud;
    if (ww_quic_conn_decrypted(f))
        app->st.quic_decrypted++;
    else if (ww_quic_conn_undecryptable(f))
        app->st.quic_undecryptable++;
    ww_app_on_close(ud, f, WW_CLOSE_END, ts_us);
}

void ww_app_on_open(void *ud, ww_flow *f, uint64_t ts_us)
{
    ww_app *app = ud;
    app_flow *af = ww_calloc(app->mem, 1, sizeof(*af));
    (void)ts_us;
    f->app = af;
    if (af == NULL)
        return; /* this flow is simply not decoded */
    af->app = app;
    af->flow = f;
}

static void decide(app_flow *af, int dir, const uint8_t *p, size_t n)
{
    if (ww_tls_probe(p, n)) {
        af->proto = P_TLS;
        af->app->st.tls_sessions++;
        ww_tls_cbs cbs = {af, tls_plaintext, tls_handshake, tls_anomaly};
        af->tls = ww_tls_new(af->app->mem, af->app->kl, &cbs);
        if (af->tls == NULL) {
            anomaly(af, dir, NULL, "app", "out-of-memory", "cannot allocate TLS state");
            af->proto = P_OTHER;
            return;
        }
        af->tnext = af->app->tls_open;
        if (af->tnext != NULL)
            af->tnext->tprev = af;
        af->app->tls_open = af;
        app_rank(af->app, WW_APP_RANK_TLS, af->tls_rank);
        return;
    }
    /* TLS records picked up mid-stream: application data (0x17 0x03 0x0X) */
    if (n >= 3 && (p[0] == 0x17 || p[0] == 0x15) && p[1] == 0x03 && p[2] <= 0x04) {
        af->proto = P_OTHER;
        af->app->st.tls_sessions++;
        af->app->st.tls_undecryptable++;
        anomaly(af, dir, NULL, "tls", "midstream",
                "TLS connection picked up without its handshake: not decryptable");
        return;
    }
    af->proto = P_UNKNOWN; /* plain: plain_data sniffs */
}

static void route(app_flow *af, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    switch (af->proto) {
    case P_TLS:
        ww_tls_data(af->tls, dir, p, n, ts_us);
        break;
    case P_UNKNOWN:
    case P_HTTP1:
    case P_H2:
        plain_data(af, dir, p, n, ts_us);
        break;
    default:
        break; /* other protocols: skipped */
    }
}

#define PROBE_MIN 6

void ww_app_on_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    app_flow *af = f->app;
    (void)ud;
    if (af == NULL || n == 0)
        return;
    af->ts_us = ts_us;
    af->dir = dir;
    if (af->proto == P_UNKNOWN && af->tls == NULL && af->h1 == NULL) {
        if (af->nprobe[dir] > 0 || n < PROBE_MIN) {
            /* too few bytes to tell: gather a few in the probe */
            size_t k = WW_MIN(n, PROBE_MAX - af->nprobe[dir]);
            memcpy(af->probe[dir] + af->nprobe[dir], p, k);
            af->nprobe[dir] += k;
            if (af->nprobe[dir] < PROBE_MIN)
                return;
            decide(af, dir, af->probe[dir], af->nprobe[dir]);
            route(af, dir, af->probe[dir], af->nprobe[dir], ts_us);
            af->nprobe[dir] = 0;
            p += k;
            n -= k;
            if (n == 0)
                return;
        } else {
            decide(af, dir, p, n);
        }
    }
    route(af, dir, p, n, ts_us);
}

void ww_app_on_gap(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts_us)
{
    app_flow *af = f->app;
    char detail[96];
    (void)ud;
    if (af == NULL)
        return;
    af->ts_us = ts_us;
    snprintf(detail, sizeof detail, "%llu bytes missing in the %s direction",
             (unsigned long long)len, dir == WW_DIR_TOSERVER ? "client-to-server" : "server-to-client");
    anomaly(af, dir, NULL, "tcp", "gap", detail);
    if (af->tls != NULL)
        ww_tls_gap(af->tls, dir, len, ts_us);
    else if (af->h1 != NULL && !af->upgraded)
        ww_h1_gap(af->h1, dir, len, ts_us);
    /* frame boundaries and HPACK state are lost with the bytes */
    if (af->h2 != NULL)
        ww_h2_gap(af->h2, dir, len, ts_us);
    if (af->ws != NULL)
        ww_ws_gap(af->ws->ws, dir, len);
}

/* The end of a connection's decoding: parsers closed, counted, everything released. */
static void flow_finish(app_flow *af, uint64_t ts_us)
{
    ww_app *app = af->app;
    af->ts_us = ts_us;
    if (af->h1 != NULL)
        ww_h1_close(af->h1, ts_us);
    if (af->h2 != NULL)
        ww_h2_close(af->h2, ts_us);
    if (af->h3 != NULL)
        ww_h3_close(af->h3, ts_us);
    if (af->tls != NULL) {
        if (ww_tls_decrypted(af->tls))
            app->st.tls_decrypted++;
        else if (ww_tls_undecryptable(af->tls) || ww_tls_waiting(af->tls))
            app->st.tls_undecryptable++;
        ww_tls_free(af->tls);
    }
    ww_h1_free(af->h1);
    ww_h2_free(af->h2);
    ww_h3_free(af->h3);
    ws_sess_free(app->mem, af->ws);
    ww_free(app->mem, af->up_method);
    ww_free(app->mem, af->up_url);
    ww_free(app->mem, af->up_host);
    ww_hm_conn_cleanup(&app->hm, &af->hc);
    ww_free(app->mem, af);
}

/* A parked connection stops waiting: decrypted, given up (budget), or out of time. */
static void unpark_head(ww_app *app, uint64_t ts_us, const char *why)
{
    app_flow *af = app->parked;
    app->parked = af->next;
    if (app->parked == NULL)
        app->parked_tail = NULL;
    app->n_parked--;
    if (why != NULL && ww_tls_waiting(af->tls) && !ww_tls_decrypted(af->tls))
        anomaly(af, WW_DIR_TOSERVER, NULL, "tls", "no-key", why);
    flow_finish(af, ts_us);
}

void ww_app_on_close(void *ud, ww_flow *f, int reason, uint64_t ts_us)
{
    app_flow *af = f->app;
    ww_app *app = ud;
    (void)reason;
    if (af == NULL)
        return;
    f->app = NULL;
    af->ts_us = ts_us;
    if (af->tls != NULL) { /* off the open list */
        if (af->tprev != NULL)
            af->tprev->tnext = af->tnext;
        else
            app->tls_open = af->tnext;
        if (af->tnext != NULL)
            af->tnext->tprev = af->tprev;
        af->tprev = af->tnext = NULL;
    }
    /* keys that arrived since this flow's last packet (a DSB late in the file, a key log line
     * written late): records waiting in the TLS backlog get one last try */
    if (af->tls != NULL)
        ww_tls_retry(af->tls, ts_us);
    if (af->tls == NULL || !ww_tls_may_still_decrypt(af->tls)) {
        flow_finish(af, ts_us);
        return;
    }
    /* late keys: the session outlives its connection while its key can still come (its bytes
     * stay in the key-wait budget); the events it may still raise see the flow as it closed */
    af->closed = *f;
    af->closed.app = NULL;
    af->flow = &af->closed;
    af->parked_us = ts_us;
    af->next = NULL;
    if (app->parked_tail != NULL)
        app->parked_tail->next = af;
    else
        app->parked = af;
    app->parked_tail = af;
    app->n_parked++;
    app_rank(app, WW_APP_RANK_PARK, af->park_rank);
    if (app->n_parked > WW_APP_MAX_PARKED)
        unpark_head(app, ts_us, "closed connections waiting for keys over their bound: given up");
}

void ww_app_keys_tick(ww_app *app, uint64_t now_us, uint64_t grace_us, bool final)
{
    uint64_t gen = ww_keylog_generation(app->kl);
    if (gen != app->parked_gen) {
        /* open connections too: one idle after its last record (or lingering after its FIN)
         * gets its plaintext now, not at its next packet or close */
        for (app_flow *af = app->tls_open; af != NULL; af = af->tnext)
            if (ww_tls_waiting(af->tls)) {
                app_rank(app, WW_APP_STEP_OPEN, af->tls_rank);
                ww_tls_retry(af->tls, WW_MAX(now_us, af->ts_us));
            }
    }
    if (app->parked == NULL) {
        app->parked_gen = gen;
        return;
    }
    if (gen != app->parked_gen || final) {
        app->parked_gen = gen;
        for (app_flow *af = app->parked; af != NULL; af = af->next) {
            app_rank(app, WW_APP_STEP_RETRY, af->park_rank);
            ww_tls_retry(af->tls, WW_MAX(now_us, af->parked_us));
        }
    }
    /* drop what no longer waits (decrypted, or given up under the budget) */
    for (app_flow **pp = &app->parked; *pp != NULL;) {
        app_flow *af = *pp;
        if (!final && ww_tls_may_still_decrypt(af->tls)) {
            pp = &af->next;
            continue;
        }
        *pp = af->next;
        app->n_parked--;
        app_rank(app, WW_APP_STEP_DROP, af->park_rank);
        if (final && ww_tls_waiting(af->tls) && !ww_tls_decrypted(af->tls))
            anomaly(af, WW_DIR_TOSERVER, NULL, "tls", "no-key",
                    "no key for this session by the end of the input");
        flow_finish(af, WW_MAX(now_us, af->parked_us));
    }
    app->parked_tail = NULL;
    for (app_flow *af = app->parked; af != NULL; af = af->next)
        app->parked_tail = af;
    /* live: the grace period, oldest first */
    while (app->parked != NULL && now_us > app->parked->parked_us &&
           now_us - app->parked->parked_us >= grace_us) {
        app_rank(app, WW_APP_STEP_GRACE, app->parked->park_rank);
        unpark_head(app, now_us,
                    "no key within the late-key grace period after the connection closed");
    }
}

size_t ww_app_parked(const ww_app *app)
{
    return app->n_parked;
}

void ww_app_on_anomaly(void *ud, uint64_t ts_us, const ww_flow *f, const char *layer,
                       const char *type, const char *detail)
{
    ww_app *app = ud;
    ww_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.ts_us = ts_us;
    ctx.flow = f;
    if (f != NULL && f->app != NULL) {
        const app_flow *af = f->app;
        ctx.app_proto = app_proto_name(af);
        ctx.tls = af->proto == P_TLS ? &af->tls_info : NULL;
        ctx.quic = af->proto == P_H3 ? ww_quic_conn_info(f) : NULL;
    }
    if (app->sink.anomaly != NULL)
        app->sink.anomaly(app->sink.ud, &ctx, layer, type, detail);
}
