/*
 * httpmsg.c - the HTTP message layer (httpmsg_int.h): body policy, JSON-RPC pairing,
 * served-address scanning and script handling, once for every HTTP transport.
 */
#include "decode/httpmsg_int.h"

#include <openssl/evp.h>
#include <strings.h>

#define WC_BATCH_MAX 64       /* wallet calls decoded from one request */
#define SCRIPT_ADDRS_MAX 1024 /* addresses kept per script (the Sept-2025 payload carried 280) */

/* ---- configuration: the one set of defaults every HTTP transport uses ---- */

void ww_app_cfg_defaults(ww_app_cfg *cfg)
{
    if (cfg->max_header_bytes == 0)
        cfg->max_header_bytes = 64 * 1024;
    if (cfg->max_body_bytes == 0)
        cfg->max_body_bytes = 8 * 1024 * 1024;
    if (cfg->max_decoded_ratio == 0)
        cfg->max_decoded_ratio = 100;
    if (cfg->json_max_depth == 0)
        cfg->json_max_depth = 64;
    if (cfg->max_scan_bytes == 0)
        cfg->max_scan_bytes = WW_HTTP_MAX_SCAN_BYTES;
}

void ww_http_msg_set_body(ww_http_msg *m, bool keep, bool stream, const uint8_t *p, size_t n,
                          bool hash)
{
    unsigned int mdlen = 0;
    m->body_kept = keep;
    m->body_streamed = stream;
    if (!keep)
        return;
    m->body.ptr = p;
    m->body.len = n;
    if (!stream && hash && n > 0 &&
        EVP_Digest(p, n, m->body_sha256, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32)
        m->has_sha256 = true;
}

int ww_hm_init(ww_hm *hm, const ww_mem *mem, const ww_app_cfg *cfg, const ww_decode_sink *sink,
               ww_app_stats *st)
{
    memset(hm, 0, sizeof *hm);
    hm->mem = mem;
    hm->cfg = cfg;
    hm->sink = sink;
    hm->st = st;
    hm->calls = ww_calloc(mem, WC_BATCH_MAX, sizeof(ww_wallet_call));
    hm->script_addrs = ww_calloc(mem, SCRIPT_ADDRS_MAX, sizeof(ww_addr));
    if (hm->calls == NULL || hm->script_addrs == NULL) {
        ww_hm_cleanup(hm);
        return WW_E_NOMEM;
    }
    return WW_OK;
}

void ww_hm_cleanup(ww_hm *hm)
{
    ww_free(hm->mem, hm->calls);
    ww_free(hm->mem, hm->script_addrs);
    hm->calls = NULL;
    hm->script_addrs = NULL;
}

void ww_hm_conn_cleanup(const ww_hm *hm, ww_hm_conn *c)
{
    ww_free(hm->mem, c->sc_addrs);
    c->sc_addrs = NULL;
    c->sc_n = c->sc_alloc = 0;
}

static void anomaly(const ww_hm *hm, const ww_ctx *ctx, const char *layer, const char *type,
                    const char *detail)
{
    if (hm->sink->anomaly != NULL)
        hm->sink->anomaly(hm->sink->ud, ctx, layer, type, detail);
}

/* ---- what the message carries ---- */

/* what (lower case) anywhere in the content type, in any case. Asked per streamed body chunk
 * (is_script): only positions whose first letter matches are compared. */
static bool ct_has(const char *ct, const char *what)
{
    if (ct == NULL)
        return false;
    size_t n = strlen(what);
    for (const char *p = ct; *p; p++)
        if ((*p | 0x20) == what[0] && strncasecmp(p, what, n) == 0)
            return true;
    return false;
}

static bool is_script(const char *ct)
{
    return ct_has(ct, "javascript") || ct_has(ct, "ecmascript") || ct_has(ct, "wasm");
}

/* Response bodies that may carry what the page is served: JSON, HTML, text, XML, or an
 * untyped body. Never scripts (those are drainer candidates, issue 5), images, fonts... */
static bool served_candidate(const char *ct)
{
    if (ct == NULL)
        return true;
    if (is_script(ct))
        return false;
    return ct_has(ct, "json") || ct_has(ct, "text/") || ct_has(ct, "html") || ct_has(ct, "xml") ||
           ct_has(ct, "x-www-form-urlencoded");
}

/* Requests that may be JSON-RPC: a body sent as JSON, text or untyped. */
static bool rpc_candidate(const ww_http_msg *m)
{
    if (m->method == NULL)
        return false;
    if (strcmp(m->method, "POST") != 0 && strcmp(m->method, "PUT") != 0)
        return false;
    return m->content_type == NULL || ct_has(m->content_type, "json") ||
           ct_has(m->content_type, "text/plain");
}

/* Scripts are kept only when something looks at them: the drainer-script rule (addresses)
 * or --yara (the whole body, sink->script_body). */
static bool yara_on(const ww_hm *hm)
{
    return hm->sink->script_body != NULL;
}

static bool script_wanted(const ww_hm *hm, const char *ct)
{
    return is_script(ct) && (hm->sink->script != NULL || yara_on(hm));
}

bool ww_hm_want_body(const ww_hm *hm, const ww_http_msg *head)
{
    if (hm->cfg->hash_bodies)
        return true;
    if (head->is_request)
        return rpc_candidate(head);
    return served_candidate(head->content_type) || script_wanted(hm, head->content_type);
}

/*
 * Stream this kept body (scan it piece by piece, never gather it)? Responses that are only
 * scanned for served addresses: not requests (JSON-RPC, decoded whole), not scripts
 * (drainer-script and --yara want the whole script), not --log-http (bodies hashed whole), and
 * not a JSON-RPC response awaited (rpc_result decodes it whole): on HTTP/1.1 any response while
 * a wallet call waits on the connection, on HTTP/2 and HTTP/3 the wallet call's stream only.
 * Scripts stream too when only their addresses are wanted (drainer-script): gathered per
 * connection on HTTP/1.1 (one body at a time), per message by the body stage of HTTP/2 and
 * HTTP/3 (ww_hm_body); --yara needs the whole script.
 */
bool ww_hm_stream_body(const ww_hm *hm, const ww_hm_conn *c, const ww_http_msg *head,
                       bool one_body_at_a_time)
{
    if (hm->cfg->hash_bodies || head->is_request)
        return false;
    if (script_wanted(hm, head->content_type) && !yara_on(hm))
        return true;
    if (is_script(head->content_type) || !served_candidate(head->content_type))
        return false;
    if (c->n_pending == 0 || hm->sink->rpc_result == NULL)
        return true;
    if (one_body_at_a_time)
        return false; /* HTTP/1.x: any response may answer a pending wallet call */
    /* HTTP/2, HTTP/3: only the stream of a pending wallet call is held whole (its answer) */
    for (size_t k = 0; k < WW_HM_PENDING_RPC_MAX; k++)
        if (c->pending[k].rpc_id[0] != '\0' && c->pending[k].stream_id == head->stream_id)
            return false;
    return true;
}

/* ---- served addresses ---- */

#define SERVED_RUN_MAX 32 /* addresses a body scan hands over at a time (3.7 KB) */

typedef struct scan_ctx {
    const ww_hm *hm;
    const ww_ctx *ctx;
    size_t n_run; /* found_addr: addresses not handed over yet */
    ww_addr run[SERVED_RUN_MAX];
} scan_ctx;

static void scan_init(scan_ctx *sc, const ww_hm *hm, const ww_ctx *ctx)
{
    sc->hm = hm;
    sc->ctx = ctx;
    sc->n_run = 0; /* run[] is not cleared: 3.7 KB */
}

/* What found_addr gathered goes out (after every scan that uses it, before anything else). */
static void run_flush(scan_ctx *sc)
{
    const ww_decode_sink *s = sc->hm->sink;
    size_t n = sc->n_run;
    sc->n_run = 0;
    if (n == 0 || s->served == NULL)
        return;
    if (s->served_run != NULL) {
        s->served_run(s->ud, sc->ctx, sc->run, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        s->served(s->ud, sc->ctx, &sc->run[i]);
}

static void found_addr(void *ud, const ww_addr *a)
{
    scan_ctx *sc = ud;
    if (sc->hm->sink->served == NULL)
        return;
    sc->run[sc->n_run++] = *a;
    if (sc->n_run == SERVED_RUN_MAX)
        run_flush(sc);
}

/* An address whose provenance the message layer knows (a header, an ABI word). */
static void found_prov(void *ud, const ww_addr *a, int prov)
{
    const scan_ctx *sc = ud;
    if (sc->hm->sink->served_prov != NULL)
        sc->hm->sink->served_prov(sc->hm->sink->ud, sc->ctx, a, prov);
    else if (sc->hm->sink->served != NULL)
        sc->hm->sink->served(sc->hm->sink->ud, sc->ctx, a);
}

static void found_header_addr(void *ud, const ww_addr *a)
{
    found_prov(ud, a, WW_PROV_HEADER);
}

/* Address words in the whole hex strings of p[0..n) (JSON-RPC results, calldata). */
static void abi_words(const scan_ctx *sc, const uint8_t *p, size_t n)
{
    (void)ww_abi_words_scan(p, n, WW_ABI_WORDS_MAX, found_prov, (void *)sc, NULL);
}

/* Response headers that may name addresses: a redirect's Location (a payment page that
 * sends the browser to .../pay/0x...), Content-Location, Link. */
static void response_headers(const ww_hm *hm, const ww_ctx *ctx, const ww_http_msg *m)
{
    const char *h[3] = {m->location, m->content_location, m->link};
    scan_ctx sc;
    scan_init(&sc, hm, ctx);
    for (size_t i = 0; i < 3; i++)
        if (h[i] != NULL)
            (void)ww_addr_scan((const uint8_t *)h[i], strlen(h[i]), found_header_addr, &sc);
}

/* Bytes a streamed body keeps so that a hex string cut by a piece's end is read whole (the
 * transports force a drop beyond WW_HTTP_STREAM_WINDOW / 2): 256 words. */
#define ABI_KEEP_MAX (WW_HTTP_STREAM_WINDOW / 4)

/* ---- scripts ---- */

typedef struct script_scan {
    ww_addr *addrs;
    size_t n;
} script_scan;

static void found_script_addr(void *ud, const ww_addr *a)
{
    script_scan *ss = ud;
    if (ss->n < SCRIPT_ADDRS_MAX)
        ss->addrs[ss->n++] = *a;
}

typedef struct streamed_script {
    const ww_hm *hm;
    ww_hm_conn *c;
} streamed_script;

/* A streamed script's addresses v[0..*n), in order, up to SCRIPT_ADDRS_MAX (room grown by
 * doubling; one that does not fit, or finds no memory, is left out). */
static void script_addr_add(const ww_mem *mem, ww_addr **v, size_t *n, size_t *alloc,
                            const ww_addr *a)
{
    if (*n == *alloc) {
        if (*alloc == SCRIPT_ADDRS_MAX)
            return;
        size_t na = *alloc == 0 ? 16 : WW_MIN(2 * *alloc, (size_t)SCRIPT_ADDRS_MAX);
        ww_addr *nv = ww_realloc(mem, *v, na * sizeof *nv);
        if (nv == NULL)
            return;
        *v = nv;
        *alloc = na;
    }
    (*v)[(*n)++] = *a;
}

static void found_streamed_script_addr(void *ud, const ww_addr *a)
{
    streamed_script *ss = ud;
    ww_hm_conn *c = ss->c;
    script_addr_add(ss->hm->mem, &c->sc_addrs, &c->sc_n, &c->sc_alloc, a);
}

/* A whole script served to the client: the addresses it embeds (drainer-script), then the
 * body itself (--yara, in detect/). */
static void script_out(const ww_hm *hm, const ww_ctx *ctx, const uint8_t *p, size_t n)
{
    if (hm->sink->script != NULL) {
        script_scan ss = {hm->script_addrs, 0};
        (void)ww_addr_scan(p, n, found_script_addr, &ss);
        hm->sink->script(hm->sink->ud, ctx, ss.addrs, ss.n);
    }
    if (yara_on(hm))
        hm->sink->script_body(hm->sink->ud, ctx, p, n);
}

/* The end of a script whose body streamed: its last bytes, then every address it embeds. */
static void streamed_script_end(ww_hm *hm, ww_hm_conn *c, const ww_ctx *ctx, const uint8_t *p,
                                size_t n)
{
    streamed_script ss = {hm, c};
    (void)ww_addr_scan_chunk(p, n, true, found_streamed_script_addr, &ss, NULL);
    if (hm->sink->script != NULL)
        hm->sink->script(hm->sink->ud, ctx, c->sc_addrs, c->sc_n);
    ww_hm_conn_cleanup(hm, c);
}

/* ---- JSON-RPC: requests, and responses paired by id ---- */

typedef struct rpc_anom {
    const ww_hm *hm;
    const ww_ctx *ctx;
} rpc_anom;

static void rpc_anomaly(void *ud, const char *layer, const char *type, const char *detail)
{
    const rpc_anom *ra = ud;
    anomaly(ra->hm, ra->ctx, layer, type, detail);
}

/* Remembers a wallet call's request id until its response (the oldest makes room). A batch
 * with several calls from one request (wallet_sendCalls) is remembered once. */
static void pending_push(ww_hm_conn *c, const ww_wallet_call *wc, uint32_t stream_id)
{
    if (wc->rpc_id[0] == '\0' || strcmp(wc->rpc_id, "null") == 0)
        return;
    for (size_t k = 0; k < WW_HM_PENDING_RPC_MAX; k++)
        if (strcmp(c->pending[k].rpc_id, wc->rpc_id) == 0)
            return;
    struct ww_hm_pending *q = &c->pending[c->next_pending];
    if (q->rpc_id[0] == '\0')
        c->n_pending++;
    snprintf(q->rpc_id, sizeof q->rpc_id, "%s", wc->rpc_id);
    snprintf(q->method, sizeof q->method, "%s", wc->method);
    q->stream_id = stream_id;
    c->next_pending = (c->next_pending + 1) % WW_HM_PENDING_RPC_MAX;
}

/* A JSON-RPC request body (HTTP or a WebSocket text message) -> wallet calls. Anomalies go
 * with anom_ctx (the connection's context, with the message's HTTP facts). prefix: p[0..n)
 * is only the first bytes of the body (it went on past the body or message cap): the calls
 * whole before the cut are decoded, and a possible wallet call past it is reported to
 * sink->unchecked_call (detect/ decides what that means). */
static void rpc_request(ww_hm *hm, ww_hm_conn *c, const ww_ctx *ctx, const ww_ctx *anom_ctx,
                        const uint8_t *p, size_t n, bool prefix, uint32_t stream_id)
{
    size_t num = WC_BATCH_MAX;
    rpc_anom ra = {hm, anom_ctx};
    ww_jsonrpc_req_info info;
    int k = ww_jsonrpc_decode_request_prefix(hm->calls, &num, p, n, prefix,
                                             hm->cfg->json_max_depth, &info, rpc_anomaly, &ra);
    if (k > 0)
        hm->st->rpc_calls += (uint64_t)k;
    if (info.unchecked && hm->sink->unchecked_call != NULL)
        hm->sink->unchecked_call(hm->sink->ud, ctx,
                                 "a JSON-RPC request body goes on past the body cap (" 
                                 "a wallet call there could not be checked)");
    for (size_t i = 0; i < num; i++) {
        hm->st->wallet_calls++;
        if (hm->sink->wallet_call != NULL)
            hm->sink->wallet_call(hm->sink->ud, ctx, &hm->calls[i]);
        pending_push(c, &hm->calls[i], stream_id);
    }
}

/* A JSON-RPC response body (HTTP or WebSocket) for a connection with wallet calls pending:
 * each response whose id matches one goes to sink->rpc_result. */
static void rpc_response(const ww_hm *hm, ww_hm_conn *c, const ww_ctx *ctx, const uint8_t *p,
                         size_t n)
{
    ww_jsonrpc_resp resp[WW_HM_PENDING_RPC_MAX];
    size_t num = WW_HM_PENDING_RPC_MAX;
    if (c->n_pending == 0 || hm->sink->rpc_result == NULL)
        return;
    if (ww_jsonrpc_decode_response(resp, &num, p, n, hm->cfg->json_max_depth) <= 0)
        return;
    for (size_t i = 0; i < num; i++) {
        for (size_t k = 0; k < WW_HM_PENDING_RPC_MAX; k++) {
            struct ww_hm_pending *q = &c->pending[k];
            if (q->rpc_id[0] == '\0' || strcmp(q->rpc_id, resp[i].rpc_id) != 0)
                continue;
            hm->sink->rpc_result(hm->sink->ud, ctx, q->method, &resp[i]);
            q->rpc_id[0] = '\0';
            c->n_pending--;
            break;
        }
    }
}

/* ---- messages ---- */

static void http_info_of(ww_http_info *http, const ww_http_msg *m)
{
    memset(http, 0, sizeof *http);
    http->hostname = m->host;
    http->url = m->url;
    http->method = m->method;
    http->status = m->is_request ? 0 : m->status;
    http->content_type = m->content_type;
}

/* A streamed response body's next piece: what is decided is scanned now (ww_addr_scan_chunk:
 * exactly the whole-body scan, piece by piece). */
size_t ww_hm_body_chunk(ww_hm *hm, ww_hm_conn *c, const ww_ctx *conn_ctx, const ww_http_msg *head,
                        const uint8_t *p, size_t n)
{
    ww_http_info http;
    ww_ctx ctx = *conn_ctx;
    http_info_of(&http, head);
    ctx.http = &http;
    if (is_script(head->content_type)) {
        streamed_script ss = {hm, c};
        return ww_addr_scan_chunk(p, n, false, found_streamed_script_addr, &ss, NULL);
    }
    scan_ctx sc;
    scan_init(&sc, hm, &ctx);
    size_t r = ww_addr_scan_chunk(p, n, false, found_addr, &sc, NULL), open_at;
    run_flush(&sc);
    /* ABI words of the hex strings wholly before r; one cut by r is presented again from its
     * member name (what lies between holds no address run the scan above reported) */
    (void)ww_abi_words_scan(p, r, WW_ABI_WORDS_MAX, found_prov, &sc, &open_at);
    if (open_at < r && n - open_at <= ABI_KEEP_MAX)
        r = open_at;
    return r;
}

/* A response body (the rest of it when streamed): scripts, or served candidates. */
static void response_body(ww_hm *hm, ww_hm_conn *c, const ww_ctx *ctx, const ww_http_msg *m)
{
    if (is_script(m->content_type)) {
        if (m->script_scanned) {
            /* scanned whole by the body stage; an empty one is as an empty kept body */
            if (m->body_len > 0 && hm->sink->script != NULL)
                hm->sink->script(hm->sink->ud, ctx, m->script_addrs, m->script_naddrs);
        } else if (m->body_streamed)
            streamed_script_end(hm, c, ctx, m->body.ptr, m->body.len);
        else if (script_wanted(hm, m->content_type))
            script_out(hm, ctx, m->body.ptr, m->body.len);
    } else if (served_candidate(m->content_type)) {
        if (!m->body_streamed)
            rpc_response(hm, c, ctx, m->body.ptr, m->body.len);
        scan_ctx sc;
        scan_init(&sc, hm, ctx);
        (void)ww_addr_scan_chunk(m->body.ptr, m->body.len, true, found_addr, &sc, NULL);
        run_flush(&sc);
        abi_words(&sc, m->body.ptr, m->body.len);
    }
}

/*
 * One complete HTTP message, whatever the transport: the http event, then JSON-RPC requests
 * -> wallet calls, served-candidate responses -> addresses, scripts. A streamed body
 * (m->body_streamed) was scanned up to m->body, which is the rest of it.
 */
void ww_hm_message(ww_hm *hm, ww_hm_conn *c, const ww_ctx *conn_ctx, const ww_http_msg *m)
{
    ww_http_info http;
    ww_ctx ctx = *conn_ctx;
    hm->st->http_messages++;
    http_info_of(&http, m);
    ctx.http = &http;
    if (hm->sink->http != NULL)
        hm->sink->http(hm->sink->ud, &ctx, m);
    if (!m->is_request)
        response_headers(hm, &ctx, m);
    if (!m->body_kept || (m->body.len == 0 && !m->body_streamed))
        return;
    if (!m->is_request)
        response_body(hm, c, &ctx, m);
    else if (rpc_candidate(m))
        rpc_request(hm, c, &ctx, &ctx, m->body.ptr, m->body.len, m->body_truncated,
                    m->stream_id);
}

void ww_hm_ws_text(ww_hm *hm, ww_hm_conn *c, const ww_ctx *conn_ctx, const char *host,
                   const char *url, const uint8_t *p, size_t n, bool truncated)
{
    ww_http_info http;
    memset(&http, 0, sizeof http);
    http.hostname = host;
    http.url = url;
    ww_ctx ctx = *conn_ctx;
    ctx.app_proto = "websocket";
    ctx.http = &http;
    if (conn_ctx->dir == WW_DIR_TOSERVER) {
        /* JSON-RPC requests and batches, exactly as an HTTP body; a message over the cap is
         * its first bytes (whitespace padding past the cap is as suspect as a cut call) */
        ww_ctx anom_ctx = *conn_ctx;
        anom_ctx.http = &http;
        size_t i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
            i++;
        if ((i < n && (p[i] == '{' || p[i] == '[')) || (i == n && truncated))
            rpc_request(hm, c, &ctx, &anom_ctx, p, n, truncated, 0);
    } else if (!truncated) {
        rpc_response(hm, c, &ctx, p, n);
        scan_ctx sc;
        scan_init(&sc, hm, &ctx);
        (void)ww_addr_scan(p, n, found_addr, &sc);
        run_flush(&sc);
        abi_words(&sc, p, n);
    }
}

/* ---- the body stage of HTTP/2 and HTTP/3 messages ---- */

#define body_anom(io, type, ...) ww_anomf((io)->anomaly, (io)->ud, (io)->anomalies, 256, (type), __VA_ARGS__)

/* The cap on a body's decoded bytes: a streamed one is scanned up to max_scan_bytes; one kept
 * whole, or a script scanned by the stage (as if kept: the same events), max_body_bytes. */
static size_t body_cap(const ww_hm_body *b, const ww_app_cfg *cfg)
{
    return b->stream && !b->script ? cfg->max_scan_bytes : cfg->max_body_bytes;
}

/* A script streamed through the stage: its addresses, as for HTTP/1.1 per connection. */
static void found_body_script_addr(void *ud, const ww_addr *a)
{
    ww_hm_body *b = ud;
    script_addr_add(b->body.mem, &b->sc_addrs, &b->sc_n, &b->sc_alloc, a);
}

void ww_hm_body_setup(ww_hm_body *b, const ww_hm_body_io *io, const ww_http_msg *head)
{
    const ww_app_cfg *cfg = io->cfg;
    b->keep = io->want_body != NULL && io->want_body(io->ud, head);
    b->stream = b->keep && !cfg->hash_bodies && io->stream_body != NULL &&
                io->body_chunk != NULL && io->stream_body(io->ud, head);
    b->script = b->stream && is_script(head->content_type);
    b->body.cap = b->stream ? WW_HTTP_STREAM_WINDOW : cfg->max_body_bytes;
    const char *ce = head->content_encoding;
    if (!b->keep || ce == NULL)
        return;
    uint8_t kinds[WW_CODING_MAX_STACK];
    size_t nk = WW_CODING_MAX_STACK;
    if (ww_coding_parse_list(kinds, &nk, ce, strlen(ce), false) != WW_OK) {
        /* a blind spot (Chromium's shared-dictionary dcb / dcz, compress, a malformed list):
         * counted, so a run that could not read a wanted body can say so */
        (*io->undecodable)++;
        body_anom(io, "unsupported-coding",
                  "%s %s content-encoding \"%.64s\": body not decoded (blind spot)", io->label,
                  io->dir, ce);
        b->keep = false;
        return;
    }
    if (nk == 0)
        return;
    b->coding = ww_coding_new(io->mem, kinds, nk, body_cap(b, cfg), cfg->max_decoded_ratio);
    if (b->coding == NULL) {
        body_anom(io, "out-of-memory", "%s: no decoder for the body", io->label);
        b->keep = false;
    }
}

/* Streamed body: hand the window on and drop what the callback consumed. */
static void body_flush(ww_hm_body *b, const ww_hm_body_io *io, const ww_http_msg *head)
{
    size_t c = b->script ? ww_addr_scan_chunk(b->body.data, b->body.len, false,
                                              found_body_script_addr, b, NULL)
                         : io->body_chunk(io->ud, head, b->body.data, b->body.len);
    if (c > b->body.len || b->body.len - c > WW_HTTP_STREAM_WINDOW / 2)
        c = b->body.len; /* a callback that keeps too much: the window must not stall */
    ww_buf_consume(&b->body, c);
    b->streamed += c;
}

/* Decoded bytes of a streamed body into the window, handed on as soon as they arrive (a
 * stream that never ends, SSE or a long poll, is scanned as it goes; issue 12). */
static int body_stream_append(ww_hm_body *b, const ww_hm_body_io *io, const ww_http_msg *head,
                              const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t take = WW_MIN(n, WW_HTTP_STREAM_WINDOW - b->body.len);
        int r = ww_buf_append(&b->body, p, take);
        if (r != WW_OK)
            return r;
        p += take;
        n -= take;
        body_flush(b, io, head);
    }
    return WW_OK;
}

typedef struct body_sink_ctx {
    ww_hm_body *b;
    const ww_hm_body_io *io;
    const ww_http_msg *head;
} body_sink_ctx;

static int body_keep_sink(void *ud, const uint8_t *p, size_t n)
{
    return ww_buf_append(&((body_sink_ctx *)ud)->b->body, p, n);
}

static int body_stream_sink(void *ud, const uint8_t *p, size_t n)
{
    body_sink_ctx *sc = ud;
    return body_stream_append(sc->b, sc->io, sc->head, p, n);
}

void ww_hm_body_data(ww_hm_body *b, const ww_hm_body_io *io, const ww_http_msg *head,
                     const uint8_t *p, size_t n)
{
    const ww_app_cfg *cfg = io->cfg;
    b->has_body = true;
    b->raw_len += n;
    if (!b->keep || b->stopped || n == 0)
        return;
    if (b->coding != NULL) {
        body_sink_ctx sc = {b, io, head};
        int r = ww_coding_feed(b->coding, p, n, b->stream ? body_stream_sink : body_keep_sink, &sc);
        if (r == WW_OK)
            return;
        b->stopped = b->truncated = true;
        if (r == WW_E_TOOBIG)
            body_anom(io, "decompression-cap",
                      "%s %s body: decoded %zu bytes from %zu, over the cap", io->label, io->dir,
                      ww_coding_total_out(b->coding), ww_coding_total_in(b->coding));
        else
            body_anom(io, "bad-coding", "%s %s body: %s", io->label, io->dir, ww_strerror(r));
        return;
    }
    size_t cap = body_cap(b, cfg);
    uint64_t have = b->streamed + b->body.len;
    size_t room = have < cap ? (size_t)(cap - have) : 0;
    size_t take = WW_MIN(room, n);
    int r = b->stream ? body_stream_append(b, io, head, p, take) : ww_buf_append(&b->body, p, take);
    if (r != WW_OK || take < n) {
        b->stopped = b->truncated = true;
        if (b->stream && !b->script)
            body_anom(io, "body-too-big", "%s %s body over max_scan_bytes (%zu), scanned in part",
                      io->label, io->dir, cfg->max_scan_bytes);
        else
            body_anom(io, "body-too-big", "%s %s body over max_body_bytes (%zu)", io->label,
                      io->dir, cfg->max_body_bytes);
    }
}

bool ww_hm_body_end(ww_hm_body *b, const ww_hm_body_io *io, ww_http_msg *m, bool truncated)
{
    if (b->coding != NULL && !b->stopped && b->keep && ww_coding_finish(b->coding) != WW_OK) {
        body_anom(io, "bad-coding", "%s %s body: compressed stream incomplete", io->label,
                  io->dir);
        b->truncated = true;
    }
    if (!b->has_body) {
        if (truncated)
            m->body_truncated = true;
        return false;
    }
    m->body_len = b->keep ? (int64_t)(b->streamed + b->body.len) : (int64_t)b->raw_len;
    m->body_truncated = b->truncated || truncated;
    ww_http_msg_set_body(m, b->keep, b->stream, b->body.data, b->body.len, io->cfg->hash_bodies);
    if (b->keep && b->script) {
        (void)ww_addr_scan_chunk(b->body.data, b->body.len, true, found_body_script_addr, b,
                                 NULL);
        m->script_scanned = true;
        m->script_addrs = b->sc_addrs;
        m->script_naddrs = b->sc_n;
    }
    return true;
}

void ww_hm_body_release(ww_hm_body *b)
{
    ww_coding_free(b->coding);
    b->coding = NULL;
    ww_buf_free(&b->body);
    ww_free(b->body.mem, b->sc_addrs);
    b->sc_addrs = NULL;
    b->sc_n = b->sc_alloc = 0;
}
