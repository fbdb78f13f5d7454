/*
 * report.c - the self-contained HTML report (--html FILE), organised by wallet call as the
 * text report is: per call what the page asked the wallet to do (method, chain, amount and
 * token, payee, tx hash, the node's answer, where it went), then its findings (what was sent
 * against what was served, the differing characters marked, the URL and time that served the
 * expected address, the attacker-DB entry), then findings outside any call (responses,
 * scripts), then what the run could not see. One file, no external resources (inline CSS, no
 * scripts). The event writer feeds it (ww_out_cfg.report); calls and findings are kept in
 * memory up to a cap each.
 */
#include "detect/detect.h"

#include <inttypes.h>
#include <time.h>

#define REPORT_MAX_ALERTS 10000
#define REPORT_MAX_CALLS 10000
#define REPORT_ANSWER_SCAN 64 /* calls looked back through for a node's answer */

typedef struct rrow {
    uint64_t ts_us, served_ts_us;
    int severity;
    size_t call; /* index + 1 into calls; 0: outside any call */
    char *rule, *signature, *where, *method, *role, *chain, *observed, *expected, *flow, *url,
        *db, *served_url;
    unsigned prefix, suffix;
    double bits;
    bool has_similarity;
} rrow;

typedef struct rcall {
    uint64_t ts_us, flow_id;
    char *method, *chain, *kind, *amount, *payee, *tx_hash, *rpc_id, *answer, *flow, *url;
    size_t findings;
    int worst;
} rcall;

struct ww_report {
    rrow *rows;
    size_t n, alloc, dropped;
    rcall *calls;
    size_t ncalls, acalls, calls_dropped;
    ww_run_stats st;
    bool have_stats;
    uint64_t first_ts, last_ts;
    size_t by_sev[WW_SEV_CRITICAL + 1];
    char *inconclusive; /* "inconclusive: ..." or NULL */
};

ww_report *ww_report_new(void)
{
    return calloc(1, sizeof(ww_report));
}

void ww_report_inconclusive(ww_report *r, const char *reasons)
{
    free(r->inconclusive);
    r->inconclusive = reasons != NULL ? strdup(reasons) : NULL;
}

static char *dupz(const char *s)
{
    return strdup(s != NULL ? s : "");
}

static uint64_t ctx_flow(const ww_ctx *ctx)
{
    return ctx != NULL && ctx->flow != NULL ? ctx->flow->id : 0;
}

/* "flow N: a:p &rarr; b:q" (holds an HTML entity: written raw) and "METHOD scheme://host/url" */
static void ctx_where(const ww_ctx *ctx, char *flow, size_t fn, char *url, size_t un)
{
    char ip1[64], ip2[64];
    flow[0] = url[0] = '\0';
    if (ctx != NULL && ctx->flow != NULL)
        snprintf(flow, fn, "flow %" PRIu64 ": %s:%u &rarr; %s:%u", ctx->flow->id,
                 ww_ip_str(&ctx->flow->cli_ip, ip1, sizeof ip1), ctx->flow->cli_port,
                 ww_ip_str(&ctx->flow->srv_ip, ip2, sizeof ip2), ctx->flow->srv_port);
    if (ctx != NULL && ctx->http != NULL)
        snprintf(url, un, "%s %s%s%s", ctx->http->method ? ctx->http->method : "",
                 ctx->tls || ctx->quic ? "https://" : "http://",
                 ctx->http->hostname ? ctx->http->hostname : "",
                 ctx->http->url ? ctx->http->url : "");
}

void ww_report_call(ww_report *r, const ww_ctx *ctx, const ww_wallet_call *wc,
                    const char *amount, const ww_addr *payee)
{
    char flow[160], url[600], chain[64];
    if (r->ncalls >= REPORT_MAX_CALLS) {
        r->calls_dropped++;
        return;
    }
    if (r->ncalls == r->acalls) {
        size_t na = r->acalls ? r->acalls * 2 : 16;
        rcall *nc = realloc(r->calls, na * sizeof(*nc));
        if (nc == NULL) {
            r->calls_dropped++;
            return;
        }
        r->calls = nc;
        r->acalls = na;
    }
    ctx_where(ctx, flow, sizeof flow, url, sizeof url);
    if (wc->has_chain_id)
        snprintf(chain, sizeof chain, "%s, chain id %" PRIu64, ww_chain_name(wc->chain),
                 wc->chain_id);
    else
        snprintf(chain, sizeof chain, "%s", ww_chain_name(wc->chain));
    rcall *c = &r->calls[r->ncalls++];
    memset(c, 0, sizeof(*c));
    c->ts_us = ctx != NULL ? ctx->ts_us : 0;
    c->flow_id = ctx_flow(ctx);
    c->method = dupz(wc->method);
    c->chain = dupz(chain);
    c->kind = dupz(wc->kind[0] ? wc->kind : "call");
    c->amount = dupz(amount);
    c->payee = dupz(payee != NULL ? ww_addr_written(payee) : "");
    c->tx_hash = dupz(wc->tx_hash);
    c->rpc_id = dupz(wc->rpc_id);
    c->answer = NULL;
    c->flow = dupz(flow);
    c->url = dupz(url);
}

void ww_report_answer(ww_report *r, const ww_ctx *ctx, const char *method,
                      const ww_jsonrpc_resp *resp)
{
    uint64_t fid = ctx_flow(ctx);
    char ans[600];
    /* the latest call on this flow with this id (and method) that has no answer yet */
    for (size_t k = 0; k < r->ncalls && k < REPORT_ANSWER_SCAN; k++) {
        rcall *c = &r->calls[r->ncalls - 1 - k];
        if (c->flow_id != fid || c->answer != NULL || strcmp(c->rpc_id, resp->rpc_id) != 0 ||
            (method != NULL && strcmp(c->method, method) != 0))
            continue;
        if (resp->is_error)
            snprintf(ans, sizeof ans, "error %lld: %s", (long long)resp->error_code,
                     resp->error_msg);
        else
            snprintf(ans, sizeof ans, "%s", resp->result_truncated ? "(a long result)"
                                                                   : resp->result);
        c->answer = strdup(ans);
        return;
    }
}

void ww_report_alert(ww_report *r, const ww_ctx *ctx, const ww_alert *a)
{
    char flow[160], url[600], db[300];
    if (a->severity >= 0 && a->severity <= WW_SEV_CRITICAL)
        r->by_sev[a->severity]++;
    /* a finding of the wallet call just reported on this flow belongs to it */
    size_t call = 0;
    if (a->where != NULL && strcmp(a->where, "wallet_call") == 0 && r->ncalls > 0 &&
        r->calls[r->ncalls - 1].flow_id == ctx_flow(ctx) && r->calls_dropped == 0) {
        call = r->ncalls;
        rcall *c = &r->calls[call - 1];
        c->findings++;
        if (a->severity > c->worst)
            c->worst = a->severity;
    }
    if (r->n >= REPORT_MAX_ALERTS) {
        r->dropped++;
        return;
    }
    if (r->n == r->alloc) {
        size_t na = r->alloc ? r->alloc * 2 : 32;
        rrow *nr = realloc(r->rows, na * sizeof(*nr));
        if (nr == NULL) {
            r->dropped++;
            return;
        }
        r->rows = nr;
        r->alloc = na;
    }
    ctx_where(ctx, flow, sizeof flow, url, sizeof url);
    db[0] = '\0';
    if (a->db != NULL)
        snprintf(db, sizeof db, "%s (%s)", a->db->label, a->db->source);
    rrow *w = &r->rows[r->n++];
    memset(w, 0, sizeof(*w));
    w->ts_us = ctx != NULL ? ctx->ts_us : 0;
    w->call = call;
    w->severity = a->severity;
    w->rule = dupz(a->rule);
    w->signature = dupz(a->signature);
    w->where = dupz(a->where);
    w->method = dupz(a->method);
    w->role = dupz(a->role >= 0 ? ww_role_name(a->role) : "");
    w->chain = dupz(a->chain != WW_CHAIN_NONE ? ww_chain_name(a->chain) : "");
    w->observed = dupz(a->observed ? ww_addr_written(a->observed) : "");
    w->expected = dupz(a->expected ? a->expected->text : "");
    w->flow = dupz(flow);
    w->url = dupz(url);
    w->db = dupz(db);
    w->served_url = dupz(a->served_url);
    w->served_ts_us = a->served_ts_us;
    w->has_similarity = a->has_similarity;
    w->prefix = a->prefix;
    w->suffix = a->suffix;
    w->bits = a->bits;
}

void ww_report_stats(ww_report *r, const ww_run_stats *st, uint64_t first_ts, uint64_t last_ts)
{
    r->st = *st;
    r->have_stats = true;
    r->first_ts = first_ts;
    r->last_ts = last_ts;
}

static void esc(FILE *f, const char *raw)
{
    char clean[8192];
    ww_utf8_clean(clean, sizeof clean, raw, strlen(raw)); /* strict UTF-8 */
    for (const char *s = clean; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            if ((unsigned char)*s >= 0x20)
                fputc(*s, f);
        }
    }
}

/* observed with the characters that differ from expected marked */
static void marked(FILE *f, const char *obs, const char *exp)
{
    size_t lo = strlen(obs), le = strlen(exp);
    bool open = false;
    for (size_t i = 0; i < lo; i++) {
        char x = obs[i], y = i < le ? exp[i] : 0;
        if (x >= 'A' && x <= 'F')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'F')
            y = (char)(y + 32);
        bool diff = le > 0 && x != y;
        if (diff && !open) {
            fputs("<mark>", f);
            open = true;
        } else if (!diff && open) {
            fputs("</mark>", f);
            open = false;
        }
        char c[2] = {obs[i], 0};
        esc(f, c);
    }
    if (open)
        fputs("</mark>", f);
}

static void fmt_ts(char *out, size_t n, uint64_t ts_us)
{
    time_t secs = (time_t)(ts_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t k = strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%06u UTC", (unsigned)(ts_us % 1000000));
}

static const char *const SEV_COLOR[] = {"#888", "#888", "#4a8", "#c90", "#e60", "#c00"};

static int sev_ok(int sev)
{
    return sev >= 0 && sev <= WW_SEV_CRITICAL ? sev : 0;
}

/* The document head, style sheet and title line. */
static void write_head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>walletwatch "
          "report</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\n"
          "h1{font-size:1.5em}table{border-collapse:collapse}\n"
          "td,th{border:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left}\n"
          "th{background:#f4f4f4;font-weight:normal;color:#555}\n"
          ".addr{font-family:ui-monospace,monospace;word-break:break-all}\n"
          "mark{background:#fbb;color:#900}.sev{color:#fff;border-radius:3px;padding:0 .4em}\n"
          ".ok{color:#080;font-weight:bold}.small{color:#666;font-size:.9em}\n"
          ".inconclusive{background:#fff4d6;border:1px solid #e0b000;padding:.5em}\n"
          "section.call{border:1px solid #ccc;border-left:6px solid #4a8;border-radius:4px;"
          "margin:1em 0;padding:.2em 1em .8em}\n"
          "section.call.flagged{border-left-color:#c00}\n"
          "section.call h3{margin:.5em 0}\n"
          ".finding{border-top:1px dashed #ccc;margin-top:.6em;padding-top:.4em}\n"
          ".finding table{margin-top:.3em}\n"
          "</style></head><body>\n<h1>walletwatch report</h1>\n",
          f);
    fputs("<p class=\"small\">", f);
    esc(f, title != NULL ? title : "");
    fprintf(f, " &middot; walletwatch %s</p>\n", WW_VERSION);
}

/* The traffic / TLS / decoded / findings summary table. */
static void write_stats(const ww_report *r, FILE *f)
{
    char t1[64], t2[64];
    fmt_ts(t1, sizeof t1, r->first_ts);
    fmt_ts(t2, sizeof t2, r->last_ts);
    fprintf(f,
            "<table id=\"summary\"><tr><th>traffic</th><td>%" PRIu64
            " packets, %" PRIu64 " bytes, %" PRIu64 " flows, %s &ndash; %s</td></tr>\n"
            "<tr><th>TLS</th><td>%" PRIu64 " sessions, %" PRIu64 " decrypted, %" PRIu64
            " undecryptable</td></tr>\n<tr><th>decoded</th><td>%" PRIu64
            " HTTP messages, %" PRIu64 " JSON-RPC calls, %" PRIu64
            " wallet calls, %" PRIu64 " served addresses</td></tr>\n<tr><th>findings</th><td>%" PRIu64
            " alerts (critical %zu, high %zu, medium %zu, low %zu, info %zu), %" PRIu64
            " anomalies, %" PRIu64 " drops</td></tr></table>\n",
            r->st.packets, r->st.bytes, r->st.flows, t1, t2, r->st.tls_sessions,
            r->st.tls_decrypted, r->st.tls_undecryptable, r->st.http_messages,
            r->st.rpc_calls, r->st.wallet_calls, r->st.intents, r->st.alerts,
            r->by_sev[WW_SEV_CRITICAL], r->by_sev[WW_SEV_HIGH], r->by_sev[WW_SEV_MEDIUM],
            r->by_sev[WW_SEV_LOW], r->by_sev[WW_SEV_INFO], r->st.anomalies, r->st.drops);
}

static void kv(FILE *f, const char *k, const char *v, bool addr)
{
    if (v == NULL || v[0] == '\0')
        return;
    fprintf(f, "<tr><th>%s</th><td%s>", k, addr ? " class=\"addr\"" : "");
    esc(f, v);
    fputs("</td></tr>\n", f);
}

/* One finding: severity, rule, sentence; sent vs served (marked), where served, DB entry. */
static void write_finding(FILE *f, const rrow *w, bool with_where)
{
    char t1[64];
    int sv = sev_ok(w->severity);
    fprintf(f, "<div class=\"finding\" data-rule=\"");
    esc(f, w->rule);
    fprintf(f, "\"><span class=\"sev\" style=\"background:%s\">%s</span> <b>", SEV_COLOR[sv],
            ww_severity_name(sv));
    esc(f, w->rule);
    fputs("</b>: ", f);
    esc(f, w->signature);
    fputs("\n<table>", f);
    bool call = strcmp(w->where, "wallet_call") == 0;
    if (w->observed[0]) {
        fprintf(f, "<tr><th>%s</th><td class=\"addr observed\">",
                call                                 ? "sent"
                : strcmp(w->where, "script") == 0 ? "in the script"
                                                     : "in the response");
        marked(f, w->observed, w->expected);
        if (w->role[0]) {
            fputs(" <span class=\"small\">(", f);
            esc(f, w->role);
            fputs(")</span>", f);
        }
        fputs("</td></tr>\n", f);
    }
    if (w->expected[0]) {
        fprintf(f, "<tr><th>%s</th><td class=\"addr expected\">", call ? "served" : "looks like");
        esc(f, w->expected);
        if (w->has_similarity)
            fprintf(f, "<br><span class=\"small\">%u leading + %u trailing characters alike, "
                       "%.1f bits beyond chance</span>",
                    w->prefix, w->suffix, w->bits);
        fputs("</td></tr>\n", f);
        if (w->served_url[0]) {
            fputs("<tr><th>served by</th><td class=\"served-url\">", f);
            esc(f, w->served_url);
            if (w->served_ts_us > 0) {
                fmt_ts(t1, sizeof t1, w->served_ts_us);
                fprintf(f, " <span class=\"small\">at %s</span>", t1);
            }
            fputs("</td></tr>\n", f);
        }
    }
    if (w->db[0]) {
        fputs("<tr><th>attacker DB</th><td>", f);
        esc(f, w->db);
        fputs("</td></tr>\n", f);
    }
    if (with_where) {
        fmt_ts(t1, sizeof t1, w->ts_us);
        fprintf(f, "<tr><th>where</th><td class=\"small\">%s &middot; %s", t1, w->flow);
        if (w->url[0]) {
            fputs("<br>", f);
            esc(f, w->url);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

static void write_call(const ww_report *r, FILE *f, size_t i)
{
    const rcall *c = &r->calls[i];
    char t1[64];
    fmt_ts(t1, sizeof t1, c->ts_us);
    fprintf(f, "<section class=\"call%s\" id=\"call-%zu\">\n<h3>#%zu ", c->findings ? " flagged"
                                                                                    : "",
            i + 1, i + 1);
    esc(f, c->method);
    fputs(" &middot; ", f);
    esc(f, c->kind);
    if (c->findings)
        fprintf(f, " <span class=\"sev\" style=\"background:%s\">%zu finding%s</span>",
                SEV_COLOR[sev_ok(c->worst)], c->findings, c->findings == 1 ? "" : "s");
    else
        fputs(" <span class=\"ok\">no finding</span>", f);
    fputs("</h3>\n<table class=\"call-facts\">\n", f);
    kv(f, "time", t1, false);
    kv(f, "method", c->method, false);
    kv(f, "chain", c->chain, false);
    kv(f, "amount", c->amount, true);
    kv(f, "payee", c->payee, true);
    kv(f, "tx hash", c->tx_hash, true);
    kv(f, "node answered", c->answer, true);
    fprintf(f, "<tr><th>where</th><td class=\"small\">%s", c->flow);
    if (c->url[0]) {
        fputs("<br>", f);
        esc(f, c->url);
    }
    fputs("</td></tr>\n</table>\n", f);
    for (size_t k = 0; k < r->n; k++)
        if (r->rows[k].call == i + 1)
            write_finding(f, &r->rows[k], false);
    fputs("</section>\n", f);
}

/* What the run could not see: each blind-spot counter that is not zero. */
static void write_blind(const ww_report *r, FILE *f)
{
    fputs("<h2>What this run could not see</h2>\n<ul id=\"blind\">\n", f);
    bool any = false;
    for (int k = 0; k < WW_BLIND_COUNT; k++) {
        if (r->st.blind[k] == 0)
            continue;
        any = true;
        if (k == WW_BLIND_INTERRUPTED)
            fprintf(f, "<li>%s</li>\n", ww_blind_words(k));
        else
            fprintf(f, "<li>%" PRIu64 " %s</li>\n", r->st.blind[k], ww_blind_words(k));
    }
    if (r->st.blind_ok > 0)
        fprintf(f, "<li class=\"small\">%" PRIu64 " encrypted sessions excused by --blind-ok"
                   "</li>\n",
                r->st.blind_ok);
    if (!any)
        fputs("<li>nothing: every wallet-relevant flow was read</li>\n", f);
    fputs("</ul>\n", f);
}

static size_t flagged_calls(const ww_report *r)
{
    size_t fl = 0;
    for (size_t i = 0; i < r->ncalls; i++)
        fl += r->calls[i].findings > 0;
    return fl;
}

int ww_report_write(const ww_report *r, FILE *f, const char *title)
{
    write_head(f, title);
    if (r->have_stats)
        write_stats(r, f);
    if (r->inconclusive != NULL) {
        fputs("<p class=\"inconclusive\" id=\"verdict\"><b>Inconclusive</b>: ", f);
        esc(f, r->inconclusive + (strncmp(r->inconclusive, "inconclusive: ", 14) == 0 ? 14 : 0));
        fputs(". Wallet-relevant traffic could not all be read, so a hijacking could have gone "
              "unseen.</p>\n", f);
    }
    size_t total = r->n + r->dropped;
    if (total == 0 && r->inconclusive == NULL)
        fputs("<p class=\"ok\" id=\"verdict\">No wallet hijacking detected.</p>\n", f);
    else if (total > 0)
        fprintf(f, "<p id=\"verdict\"><b style=\"color:#c00\">%zu finding%s</b> in %zu of %zu "
                   "wallet calls.</p>\n",
                total, total == 1 ? "" : "s",
                flagged_calls(r), r->ncalls + r->calls_dropped);
    if (r->ncalls > 0) {
        fputs("<h2>Wallet calls</h2>\n", f);
        for (size_t i = 0; i < r->ncalls; i++)
            write_call(r, f, i);
        if (r->calls_dropped > 0)
            fprintf(f, "<p class=\"small\">%zu more wallet calls are in the JSON events only."
                       "</p>\n",
                    r->calls_dropped);
    }
    size_t outside = 0;
    for (size_t k = 0; k < r->n; k++)
        outside += r->rows[k].call == 0;
    if (outside > 0) {
        fputs("<h2>Findings outside wallet calls</h2>\n<div id=\"other-findings\">\n", f);
        for (size_t k = 0; k < r->n; k++)
            if (r->rows[k].call == 0)
                write_finding(f, &r->rows[k], true);
        fputs("</div>\n", f);
    }
    if (r->dropped > 0)
        fprintf(f, "<p class=\"small\">%zu more findings are in the JSON events only.</p>\n",
                r->dropped);
    if (r->have_stats)
        write_blind(r, f);
    fputs("</body></html>\n", f);
    return fflush(f) == 0 && !ferror(f) ? WW_OK : WW_E_IO;
}

void ww_report_free(ww_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        rrow *w = &r->rows[i];
        free(w->rule);
        free(w->signature);
        free(w->where);
        free(w->method);
        free(w->role);
        free(w->chain);
        free(w->observed);
        free(w->expected);
        free(w->flow);
        free(w->url);
        free(w->db);
        free(w->served_url);
    }
    for (size_t i = 0; i < r->ncalls; i++) {
        rcall *c = &r->calls[i];
        free(c->method);
        free(c->chain);
        free(c->kind);
        free(c->amount);
        free(c->payee);
        free(c->tx_hash);
        free(c->rpc_id);
        free(c->answer);
        free(c->flow);
        free(c->url);
    }
    free(r->calls);
    free(r->rows);
    free(r->inconclusive);
    free(r);
}
