/*
 * output.c - event writers: JSON lines (-o, --format jsonl), readable text, JUnit XML.
 *
 * JSON keys are written in a fixed order (SPEC.md "JSON-lines events"), timestamps come from
 * packet time, absent facts are omitted. Each event is built in one buffer and written with one
 * fwrite and flushed, so `tail -f` and log shippers see whole lines at once.
 */
#include "detect/detect.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <time.h>

/* ---- a tiny JSON builder ---- */
typedef struct jw {
    char *buf;
    size_t len, alloc;
    bool need_comma;
    bool oom;
} jw;

static void jw_raw(jw *w, const char *s, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n + 1 > w->alloc) {
        size_t na = w->alloc ? w->alloc : 1024;
        while (na < w->len + n + 1)
            na *= 2;
        char *nb = realloc(w->buf, na);
        if (nb == NULL) {
            w->oom = true;
            return;
        }
        w->buf = nb;
        w->alloc = na;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}
static void jw_cstr(jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}
static void jw_escaped(jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jw_raw(w, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        jw_raw(w, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"':
            jw_raw(w, "\\\"", 2);
            break;
        case '\\':
            jw_raw(w, "\\\\", 2);
            break;
        case '\n':
            jw_raw(w, "\\n", 2);
            break;
        case '\r':
            jw_raw(w, "\\r", 2);
            break;
        case '\t':
            jw_raw(w, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            jw_raw(w, u, 6);
        }
        }
    }
    jw_raw(w, s + start, n - start);
    jw_raw(w, "\"", 1);
}
static void jw_key(jw *w, const char *k)
{
    if (w->need_comma)
        jw_raw(w, ",", 1);
    jw_escaped(w, k, strlen(k));
    jw_raw(w, ":", 1);
    w->need_comma = true;
}
static void jw_open(jw *w, const char *k)
{
    if (k != NULL)
        jw_key(w, k);
    else if (w->need_comma)
        jw_raw(w, ",", 1);
    jw_raw(w, "{", 1);
    w->need_comma = false;
}
static void jw_close(jw *w)
{
    jw_raw(w, "}", 1);
    w->need_comma = true;
}
static void jw_str(jw *w, const char *k, const char *v)
{
    if (v == NULL || v[0] == '\0')
        return; /* absent facts are omitted */
    jw_key(w, k);
    jw_escaped(w, v, strlen(v));
}
static void jw_u64(jw *w, const char *k, uint64_t v)
{
    char b[32];
    jw_key(w, k);
    snprintf(b, sizeof b, "%" PRIu64, v);
    jw_cstr(w, b);
}
static void jw_int(jw *w, const char *k, long long v)
{
    char b[32];
    jw_key(w, k);
    snprintf(b, sizeof b, "%lld", v);
    jw_cstr(w, b);
}
static void jw_bool(jw *w, const char *k, bool v)
{
    jw_key(w, k);
    jw_cstr(w, v ? "true" : "false");
}
static void jw_double(jw *w, const char *k, double v)
{
    char b[32];
    jw_key(w, k);
    snprintf(b, sizeof b, "%.1f", v);
    jw_cstr(w, b);
}
static void jw_reset(jw *w)
{
    w->len = 0;
    w->need_comma = false;
    if (w->buf)
        w->buf[0] = '\0';
}

/* ---- the writer ---- */

typedef struct junit_case {
    char *name;
    char *message;
} junit_case;

struct ww_out {
    const ww_mem *mem;
    ww_out_cfg cfg;
    jw w;
    bool failed;
    int fail_errno; /* errno of the first failed write */
    junit_case *cases;
    size_t ncases, acases;
    size_t junit_dropped;
    uint64_t n_alerts_text;
};

#define JUNIT_MAX_CASES 10000

ww_out *ww_out_new(const ww_mem *mem, const ww_out_cfg *cfg)
{
    ww_out *o = ww_calloc(mem, 1, sizeof(*o));
    if (o == NULL)
        return NULL;
    o->mem = mem;
    o->cfg = *cfg;
    return o;
}

void ww_out_free(ww_out *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->ncases; i++) {
        free(o->cases[i].name);
        free(o->cases[i].message);
    }
    free(o->cases);
    free(o->w.buf);
    ww_free(o->mem, o);
}

void ww_out_set_jsonl(ww_out *o, FILE *jsonl)
{
    if (o->cfg.jsonl != NULL && fflush(o->cfg.jsonl) != 0 && !o->failed) {
        o->failed = true;
        o->fail_errno = errno;
    }
    o->cfg.jsonl = jsonl;
}

bool ww_out_failed(const ww_out *o)
{
    return o->failed;
}

static void put(ww_out *o, FILE *f, const char *s, size_t n)
{
    if (f == NULL || o->failed)
        return;
    if (fwrite(s, 1, n, f) != n || fflush(f) != 0) {
        o->failed = true;
        o->fail_errno = errno;
    }
}

int ww_out_errno(const ww_out *o)
{
    return o->fail_errno;
}

static void fmt_ts(char *out, size_t n, uint64_t ts_us)
{
    time_t secs = (time_t)(ts_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%06uZ", (unsigned)(ts_us % 1000000));
}

static void common(ww_out *o, const ww_ctx *ctx, uint64_t ts_us, const char *type)
{
    char ts[40], ip[64];
    jw *w = &o->w;
    jw_reset(w);
    jw_open(w, NULL);
    fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : ts_us);
    jw_str(w, "timestamp", ts);
    jw_str(w, "event_type", type);
    if (ctx == NULL || ctx->flow == NULL)
        return;
    const ww_flow *f = ctx->flow;
    bool to_server = ctx->dir == WW_DIR_TOSERVER;
    jw_u64(w, "flow_id", f->id);
    jw_str(w, "src_ip", ww_ip_str(to_server ? &f->cli_ip : &f->srv_ip, ip, sizeof ip));
    jw_int(w, "src_port", to_server ? f->cli_port : f->srv_port);
    jw_str(w, "dest_ip", ww_ip_str(to_server ? &f->srv_ip : &f->cli_ip, ip, sizeof ip));
    jw_int(w, "dest_port", to_server ? f->srv_port : f->cli_port);
    jw_str(w, "proto", "TCP");
    jw_str(w, "app_proto", ctx->app_proto);
}

static void http_tls(ww_out *o, const ww_ctx *ctx)
{
    jw *w = &o->w;
    if (ctx == NULL)
        return;
    if (ctx->http != NULL) {
        jw_open(w, "http");
        jw_str(w, "hostname", ctx->http->hostname);
        jw_str(w, "url", ctx->http->url);
        jw_str(w, "http_method", ctx->http->method);
        if (ctx->http->status > 0)
            jw_int(w, "status", ctx->http->status);
        jw_str(w, "content_type", ctx->http->content_type);
        jw_close(w);
    }
    if (ctx->tls != NULL) {
        jw_open(w, "tls");
        jw_str(w, "sni", ctx->tls->sni);
        if (ctx->tls->version != 0)
            jw_str(w, "version", ww_tls_version_name(ctx->tls->version));
        if (ctx->tls->cipher != 0)
            jw_str(w, "cipher", ww_tls_cipher_name(ctx->tls->cipher));
        jw_str(w, "alpn", ctx->tls->alpn);
        jw_close(w);
    }
}

static void emit(ww_out *o, bool console_too)
{
    jw *w = &o->w;
    jw_close(w);
    jw_raw(w, "\n", 1);
    if (w->oom) {
        o->failed = true;
        return;
    }
    put(o, o->cfg.jsonl, w->buf, w->len);
    if (console_too && o->cfg.format == WW_FMT_JSONL)
        put(o, o->cfg.console, w->buf, w->len);
}

static void addr_obj_fields(jw *w, const char *k, const ww_addr *a)
{
    if (a != NULL)
        jw_str(w, k, a->text);
}

/* Text: the URL as a user would type it. */
static void text_where(char *out, size_t n, const ww_ctx *ctx)
{
    char a[64], b[64];
    out[0] = '\0';
    if (ctx == NULL || ctx->flow == NULL)
        return;
    const ww_flow *f = ctx->flow;
    int k = snprintf(out, n, "flow %" PRIu64 "  %s:%u -> %s:%u", f->id,
                     ww_ip_str(&f->cli_ip, a, sizeof a), f->cli_port,
                     ww_ip_str(&f->srv_ip, b, sizeof b), f->srv_port);
    if (k < 0 || (size_t)k >= n)
        return;
    if (ctx->http != NULL) {
        snprintf(out + k, n - (size_t)k, "  %s %s%s%s", ctx->http->method ? ctx->http->method : "",
                 ctx->tls ? "https://" : "http://",
                 ctx->http->hostname ? ctx->http->hostname : "",
                 ctx->http->url ? ctx->http->url : "");
    }
}

static void text_alert(ww_out *o, const ww_ctx *ctx, const ww_alert *a)
{
    char ts[40], where[512], line[2048];
    FILE *f = o->cfg.console;
    int n;

    fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : 0);
    text_where(where, sizeof where, ctx);
    n = snprintf(line, sizeof line, "%s  ALERT %-8s %s: %s\n    %s\n", ts,
                 ww_severity_name(a->severity), a->rule, a->signature, where);
    if (n > 0)
        put(o, f, line, WW_MIN((size_t)n, sizeof line - 1));
    if (a->observed != NULL) {
        if (a->db != NULL)
            n = snprintf(line, sizeof line, "    observed %s  (attacker DB: %s; %s)\n",
                         a->observed->text, a->db->label, a->db->source);
        else
            n = snprintf(line, sizeof line, "    observed %s\n", a->observed->text);
        if (n > 0)
            put(o, f, line, WW_MIN((size_t)n, sizeof line - 1));
    }
    if (a->expected != NULL) {
        char marks[WW_ADDR_TEXT_MAX + 1];
        size_t lo = a->observed ? a->observed->len : 0, le = a->expected->len;
        size_t m = WW_MAX(lo, le);
        for (size_t i = 0; i < m && i < WW_ADDR_TEXT_MAX; i++) {
            char x = i < lo ? a->observed->text[i] : 0, y = i < le ? a->expected->text[i] : 0;
            if (x >= 'A' && x <= 'F')
                x = (char)(x + 32);
            if (y >= 'A' && y <= 'F')
                y = (char)(y + 32);
            marks[i] = x == y ? ' ' : '^';
        }
        marks[WW_MIN(m, (size_t)WW_ADDR_TEXT_MAX)] = '\0';
        while (m > 0 && marks[m - 1] == ' ')
            marks[--m] = '\0';
        if (a->has_similarity)
            n = snprintf(line, sizeof line,
                         "    expected %s  (served to this client)\n             %s\n"
                         "    similarity: %u leading + %u trailing characters, %.1f bits\n",
                         a->expected->text, marks, a->prefix, a->suffix, a->bits);
        else
            n = snprintf(line, sizeof line,
                         "    expected %s  (served to this client)\n             %s\n",
                         a->expected->text, marks);
        if (n > 0)
            put(o, f, line, WW_MIN((size_t)n, sizeof line - 1));
    }
}

static void junit_add(ww_out *o, const ww_ctx *ctx, const ww_alert *a)
{
    char name[512], msg[1024], where[512];
    if (o->ncases >= JUNIT_MAX_CASES) {
        o->junit_dropped++;
        return;
    }
    if (o->ncases == o->acases) {
        size_t na = o->acases ? o->acases * 2 : 16;
        junit_case *nc = realloc(o->cases, na * sizeof(*nc));
        if (nc == NULL) {
            o->junit_dropped++;
            return;
        }
        o->cases = nc;
        o->acases = na;
    }
    text_where(where, sizeof where, ctx);
    snprintf(name, sizeof name, "%s %s %s", a->rule, a->method ? a->method : a->where,
             a->observed ? a->observed->text : "");
    snprintf(msg, sizeof msg, "%s [%s] %s; observed %s; expected %s", a->signature,
             ww_severity_name(a->severity), where, a->observed ? a->observed->text : "-",
             a->expected ? a->expected->text : "-");
    o->cases[o->ncases].name = strdup(name);
    o->cases[o->ncases].message = strdup(msg);
    o->ncases++;
}

void ww_out_alert(ww_out *o, const ww_ctx *ctx, const ww_alert *a)
{
    jw *w = &o->w;
    common(o, ctx, 0, "alert");
    jw_open(w, "alert");
    jw_str(w, "rule", a->rule);
    jw_str(w, "severity", ww_severity_name(a->severity));
    jw_str(w, "signature", a->signature);
    if (a->chain != WW_CHAIN_NONE)
        jw_str(w, "chain", ww_chain_name(a->chain));
    jw_str(w, "method", a->method);
    jw_str(w, "where", a->where);
    if (a->role >= 0)
        jw_str(w, "role", ww_role_name(a->role));
    addr_obj_fields(w, "observed", a->observed);
    addr_obj_fields(w, "expected", a->expected);
    if (a->has_similarity) {
        jw_open(w, "similarity");
        jw_int(w, "prefix", a->prefix);
        jw_int(w, "suffix", a->suffix);
        jw_double(w, "bits", a->bits);
        jw_close(w);
    }
    if (a->db != NULL) {
        jw_open(w, "db");
        jw_str(w, "label", a->db->label);
        jw_str(w, "source", a->db->source);
        jw_close(w);
    }
    jw_close(w);
    http_tls(o, ctx);
    emit(o, true);
    if (o->cfg.format == WW_FMT_TEXT)
        text_alert(o, ctx, a);
    else if (o->cfg.format == WW_FMT_JUNIT)
        junit_add(o, ctx, a);
}

void ww_out_wallet_call(ww_out *o, const ww_ctx *ctx, const ww_wallet_call *wc)
{
    jw *w = &o->w;
    const ww_addr *first[WW_ROLE_COUNT] = {NULL};
    size_t count[WW_ROLE_COUNT] = {0};
    bool several = false;
    const char *amount = wc->amount;

    /* SPEC fields name the first party of each role; when a role has several parties, the
     * `parties` array lists every party (role, address, unlimited when set). */
    for (size_t i = 0; i < wc->n_parties; i++) {
        int r = wc->parties[i].role;
        if (r < 0 || r >= WW_ROLE_COUNT)
            continue;
        if (first[r] == NULL)
            first[r] = &wc->parties[i].addr;
        if (++count[r] > 1 && r != WW_ROLE_TO)
            several = true;
    }
    const ww_addr *recipient = first[WW_ROLE_RECIPIENT], *spender = first[WW_ROLE_SPENDER];
    if (recipient == NULL && strcmp(wc->kind, "native-transfer") == 0)
        recipient = first[WW_ROLE_TO]; /* the payee of a plain value transfer (issue 13.4) */
    common(o, ctx, 0, "wallet_call");
    jw_open(w, "wallet");
    jw_str(w, "chain", ww_chain_name(wc->chain));
    if (wc->has_chain_id)
        jw_u64(w, "chain_id", wc->chain_id);
    jw_str(w, "method", wc->method);
    if (wc->rpc_id[0] != '\0') {
        jw_key(w, "rpc_id");
        jw_cstr(w, wc->rpc_id); /* already JSON text */
    }
    jw_str(w, "kind", wc->kind);
    if (wc->has_from)
        addr_obj_fields(w, "from", &wc->from);
    if (wc->has_to)
        addr_obj_fields(w, "to", &wc->to);
    jw_str(w, "value", wc->value);
    if (wc->has_token)
        addr_obj_fields(w, "token", &wc->token);
    addr_obj_fields(w, "recipient", recipient);
    addr_obj_fields(w, "spender", spender);
    addr_obj_fields(w, "operator", first[WW_ROLE_OPERATOR]);
    addr_obj_fields(w, "delegate", first[WW_ROLE_DELEGATE]);
    addr_obj_fields(w, "authority", first[WW_ROLE_AUTHORITY]);
    if (wc->chain == WW_CHAIN_SOLANA && wc->has_token)
        addr_obj_fields(w, "mint", &wc->token); /* a Solana token operation's mint */
    if (several) {
        jw_key(w, "parties");
        jw_raw(w, "[", 1);
        w->need_comma = false;
        for (size_t i = 0; i < wc->n_parties; i++) {
            const ww_party *p = &wc->parties[i];
            jw_open(w, NULL);
            jw_str(w, "role", ww_role_name(p->role));
            jw_str(w, "address", p->addr.text);
            if (p->unlimited)
                jw_bool(w, "unlimited", true);
            if (p->revocation)
                jw_bool(w, "revocation", true);
            if (p->has_token)
                jw_str(w, "token", p->token.text);
            if (p->amount[0] != '\0')
                jw_str(w, "amount", p->amount);
            if (p->sol_has_account)
                jw_str(w, "token_account", p->sol_account.text);
            jw_close(w);
        }
        jw_raw(w, "]", 1);
        w->need_comma = true;
    }
    jw_str(w, "amount", amount);
    jw_str(w, "selector", wc->selector);
    jw_str(w, "tx_hash", wc->tx_hash);
    if (wc->signature_valid >= 0)
        jw_bool(w, "signature_valid", wc->signature_valid == 1);
    jw_close(w);
    http_tls(o, ctx);
    emit(o, true);
    if (o->cfg.format == WW_FMT_TEXT && o->cfg.verbose > 0) {
        char ts[40], where[512], line[1024];
        fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : 0);
        text_where(where, sizeof where, ctx);
        int n = snprintf(line, sizeof line, "%s  wallet call %s %s to %s%s%s%s%s\n    %s\n", ts,
                         wc->method, wc->kind, wc->has_to ? wc->to.text : "(none)",
                         recipient ? " recipient " : "", recipient ? recipient->text : "",
                         spender ? " spender " : "", spender ? spender->text : "", where);
        if (n > 0)
            put(o, o->cfg.console, line, WW_MIN((size_t)n, sizeof line - 1));
    }
}

void ww_out_intent(ww_out *o, const ww_ctx *ctx, const ww_addr *a, const char *source)
{
    jw *w = &o->w;
    common(o, ctx, 0, "intent");
    jw_open(w, "intent");
    jw_str(w, "chain", ww_chain_name(a->chain));
    jw_str(w, "address", a->text);
    jw_str(w, "source", source);
    if (ctx != NULL && ctx->http != NULL)
        jw_str(w, "url", ctx->http->url);
    jw_close(w);
    http_tls(o, ctx);
    emit(o, true);
}

void ww_out_anomaly(ww_out *o, const ww_ctx *ctx, const char *layer, const char *type,
                    const char *detail)
{
    jw *w = &o->w;
    common(o, ctx, 0, "anomaly");
    jw_open(w, "anomaly");
    jw_str(w, "layer", layer);
    jw_str(w, "type", type);
    jw_str(w, "detail", detail);
    jw_close(w);
    http_tls(o, ctx);
    emit(o, true);
    if (o->cfg.format == WW_FMT_TEXT && o->cfg.verbose > 0) {
        char ts[40], where[512], line[1024];
        fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : 0);
        text_where(where, sizeof where, ctx);
        int n = snprintf(line, sizeof line, "%s  anomaly %s/%s: %s  %s\n", ts, layer, type,
                         detail ? detail : "", where);
        if (n > 0)
            put(o, o->cfg.console, line, WW_MIN((size_t)n, sizeof line - 1));
    }
}

void ww_out_http(ww_out *o, const ww_ctx *ctx, const ww_http_msg *m)
{
    jw *w = &o->w;
    if (!o->cfg.log_http)
        return;
    common(o, ctx, 0, "http");
    jw_open(w, "http");
    jw_str(w, "kind", m->is_request ? "request" : "response");
    jw_str(w, "hostname", m->host);
    jw_str(w, "url", m->url);
    jw_str(w, "http_method", m->method);
    if (m->status > 0)
        jw_int(w, "status", m->status);
    if (m->stream_id > 0)
        jw_int(w, "stream_id", m->stream_id);
    jw_str(w, "version", m->version);
    jw_str(w, "content_type", m->content_type);
    jw_str(w, "content_encoding", m->content_encoding);
    jw_str(w, "transfer_encoding", m->transfer_encoding);
    if (m->content_length >= 0)
        jw_int(w, "content_length", m->content_length);
    if (m->body_len >= 0)
        jw_int(w, "body_len", m->body_len);
    if (m->body_truncated)
        jw_bool(w, "body_truncated", true);
    if (m->has_sha256) {
        char hex[65];
        ww_hex_encode(hex, m->body_sha256, 32);
        jw_str(w, "body_sha256", hex);
    }
    jw_close(w);
    if (ctx != NULL && ctx->tls != NULL) {
        ww_ctx c2 = *ctx;
        c2.http = NULL;
        http_tls(o, &c2);
    }
    emit(o, true);
}

void ww_out_rpc_result(ww_out *o, const ww_ctx *ctx, const char *method,
                       const ww_jsonrpc_resp *r)
{
    jw *w = &o->w;
    common(o, ctx, 0, "rpc_result");
    jw_open(w, "rpc_result");
    jw_str(w, "method", method);
    if (r->rpc_id[0] != '\0') {
        jw_key(w, "rpc_id");
        jw_cstr(w, r->rpc_id); /* already JSON text */
    }
    if (r->is_error) {
        jw_open(w, "error");
        jw_int(w, "code", r->error_code);
        jw_str(w, "message", r->error_msg);
        jw_close(w);
    } else {
        jw_str(w, "result", r->result);
        if (r->result_truncated)
            jw_bool(w, "result_truncated", true);
    }
    jw_close(w);
    http_tls(o, ctx);
    emit(o, true);
    if (o->cfg.format == WW_FMT_TEXT && o->cfg.verbose > 0) {
        char ts[40], line[512];
        fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : 0);
        int n = r->is_error ? snprintf(line, sizeof line, "%s  rpc result %s id %s: error %lld %s\n",
                                       ts, method, r->rpc_id, (long long)r->error_code,
                                       r->error_msg)
                            : snprintf(line, sizeof line, "%s  rpc result %s id %s: %s\n", ts,
                                       method, r->rpc_id, r->result);
        if (n > 0)
            put(o, o->cfg.console, line, WW_MIN((size_t)n, sizeof line - 1));
    }
}

void ww_out_stats(ww_out *o, uint64_t ts_us, const ww_run_stats *st)
{
    jw *w = &o->w;
    common(o, NULL, ts_us, "stats");
    jw_open(w, "stats");
    jw_u64(w, "packets", st->packets);
    jw_u64(w, "bytes", st->bytes);
    jw_u64(w, "flows", st->flows);
    jw_u64(w, "tls_sessions", st->tls_sessions);
    jw_u64(w, "tls_decrypted", st->tls_decrypted);
    jw_u64(w, "tls_undecryptable", st->tls_undecryptable);
    jw_u64(w, "http_messages", st->http_messages);
    jw_u64(w, "rpc_calls", st->rpc_calls);
    jw_u64(w, "wallet_calls", st->wallet_calls);
    jw_u64(w, "intents", st->intents);
    jw_u64(w, "alerts", st->alerts);
    jw_u64(w, "anomalies", st->anomalies);
    jw_u64(w, "drops", st->drops);
    jw_u64(w, "keywait_bytes_peak", st->keywait_bytes_peak);
    jw_u64(w, "keywait_evicted", st->keywait_evicted);
    jw_close(w);
    emit(o, true);
    if (o->cfg.format == WW_FMT_TEXT && !o->cfg.quiet) {
        char line[512];
        int n = snprintf(line, sizeof line,
                         "walletwatch: %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64
                         " HTTP messages, %" PRIu64 " JSON-RPC calls, %" PRIu64
                         " wallet calls, %" PRIu64 " served addresses, %" PRIu64
                         " alerts, %" PRIu64 " anomalies; TLS %" PRIu64 " sessions, %" PRIu64
                         " decrypted, %" PRIu64 " undecryptable\n",
                         st->packets, st->flows, st->http_messages, st->rpc_calls,
                         st->wallet_calls, st->intents, st->alerts, st->anomalies,
                         st->tls_sessions, st->tls_decrypted, st->tls_undecryptable);
        if (n > 0)
            put(o, o->cfg.console, line, WW_MIN((size_t)n, sizeof line - 1));
    }
}

static void xml_escaped(ww_out *o, FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            put(o, f, "&lt;", 4);
            break;
        case '>':
            put(o, f, "&gt;", 4);
            break;
        case '&':
            put(o, f, "&amp;", 5);
            break;
        case '"':
            put(o, f, "&quot;", 6);
            break;
        default:
            if ((unsigned char)*s >= 0x20)
                put(o, f, s, 1);
        }
    }
}

int ww_out_finish(ww_out *o)
{
    if (o->cfg.format == WW_FMT_JUNIT && o->cfg.console != NULL) {
        FILE *f = o->cfg.console;
        char line[256];
        size_t fails = o->ncases + o->junit_dropped;
        int n = snprintf(line, sizeof line,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
                         "<testsuite name=\"walletwatch\" tests=\"%zu\" failures=\"%zu\">\n",
                         fails ? fails : 1, fails);
        put(o, f, line, (size_t)n);
        if (o->ncases == 0) {
            const char *ok = "<testcase classname=\"walletwatch\" name=\"no wallet hijacking "
                             "detected\"/>\n";
            put(o, f, ok, strlen(ok));
        }
        for (size_t i = 0; i < o->ncases; i++) {
            put(o, f, "<testcase classname=\"walletwatch\" name=\"", 41);
            xml_escaped(o, f, o->cases[i].name ? o->cases[i].name : "");
            put(o, f, "\"><failure message=\"", 20);
            xml_escaped(o, f, o->cases[i].message ? o->cases[i].message : "");
            put(o, f, "\"/></testcase>\n", 15);
        }
        put(o, f, "</testsuite>\n</testsuites>\n", 27);
    }
    if (o->cfg.jsonl != NULL && fflush(o->cfg.jsonl) != 0 && !o->failed) {
        o->failed = true;
        o->fail_errno = errno;
    }
    if (o->cfg.console != NULL && fflush(o->cfg.console) != 0 && !o->failed) {
        o->failed = true;
        o->fail_errno = errno;
    }
    return o->failed ? WW_E_IO : WW_OK;
}
