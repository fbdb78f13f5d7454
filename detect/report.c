/*
 * report.c - the self-contained HTML report (--html FILE): what was flagged, where, and what
 * the page was served instead, readable by someone who never saw a JSON event. One file, no
 * external resources (inline CSS, no scripts). Alerts are kept in memory up to a cap.
 */
#include "detect/detect.h"

#include <inttypes.h>
#include <time.h>

#define REPORT_MAX_ALERTS 10000

typedef struct rrow {
    uint64_t ts_us;
    int severity;
    char *rule, *signature, *where, *method, *role, *chain, *observed, *expected, *flow, *url,
        *db;
    unsigned prefix, suffix;
    double bits;
    bool has_similarity;
} rrow;

struct ww_report {
    rrow *rows;
    size_t n, alloc, dropped;
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

void ww_report_alert(ww_report *r, const ww_ctx *ctx, const ww_alert *a)
{
    char flow[160], url[600], db[300], ip1[64], ip2[64];
    if (a->severity >= 0 && a->severity <= WW_SEV_CRITICAL)
        r->by_sev[a->severity]++;
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
    flow[0] = url[0] = db[0] = '\0';
    if (ctx != NULL && ctx->flow != NULL)
        snprintf(flow, sizeof flow, "flow %" PRIu64 ": %s:%u &rarr; %s:%u", ctx->flow->id,
                 ww_ip_str(&ctx->flow->cli_ip, ip1, sizeof ip1), ctx->flow->cli_port,
                 ww_ip_str(&ctx->flow->srv_ip, ip2, sizeof ip2), ctx->flow->srv_port);
    if (ctx != NULL && ctx->http != NULL)
        snprintf(url, sizeof url, "%s %s%s%s", ctx->http->method ? ctx->http->method : "",
                 ctx->tls || ctx->quic ? "https://" : "http://",
                 ctx->http->hostname ? ctx->http->hostname : "",
                 ctx->http->url ? ctx->http->url : "");
    if (a->db != NULL)
        snprintf(db, sizeof db, "%s (%s)", a->db->label, a->db->source);
    rrow *w = &r->rows[r->n++];
    memset(w, 0, sizeof(*w));
    w->ts_us = ctx != NULL ? ctx->ts_us : 0;
    w->severity = a->severity;
    w->rule = dupz(a->rule);
    w->signature = dupz(a->signature);
    w->where = dupz(a->where);
    w->method = dupz(a->method);
    w->role = dupz(a->role >= 0 ? ww_role_name(a->role) : "");
    w->chain = dupz(a->chain != WW_CHAIN_NONE ? ww_chain_name(a->chain) : "");
    w->observed = dupz(a->observed ? a->observed->text : "");
    w->expected = dupz(a->expected ? a->expected->text : "");
    w->flow = dupz(flow); /* holds an HTML entity: written raw */
    w->url = dupz(url);
    w->db = dupz(db);
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

int ww_report_write(const ww_report *r, FILE *f, const char *title)
{
    static const char *sev_color[] = {"#888", "#888", "#4a8", "#c90", "#e60", "#c00"};
    char t1[64], t2[64];
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>walletwatch "
          "report</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\n"
          "h1{font-size:1.5em}table{border-collapse:collapse;width:100%}\n"
          "td,th{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left}\n"
          "th{background:#f4f4f4}.addr{font-family:ui-monospace,monospace;white-space:nowrap}\n"
          "mark{background:#fbb;color:#900}.sev{color:#fff;border-radius:3px;padding:0 .4em}\n"
          ".ok{color:#080;font-weight:bold}.small{color:#666;font-size:.9em}\n"
          ".inconclusive{background:#fff4d6;border:1px solid #e0b000;padding:.5em}\n"
          "</style></head><body>\n<h1>walletwatch report</h1>\n",
          f);
    fputs("<p class=\"small\">", f);
    esc(f, title != NULL ? title : "");
    fprintf(f, " &middot; walletwatch %s</p>\n", WW_VERSION);
    if (r->have_stats) {
        fmt_ts(t1, sizeof t1, r->first_ts);
        fmt_ts(t2, sizeof t2, r->last_ts);
        fprintf(f,
                "<table style=\"width:auto\"><tr><th>traffic</th><td>%" PRIu64
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
    if (r->inconclusive != NULL) {
        fputs("<p class=\"inconclusive\" id=\"verdict\"><b>Inconclusive</b>: ", f);
        esc(f, r->inconclusive + (strncmp(r->inconclusive, "inconclusive: ", 14) == 0 ? 14 : 0));
        fputs(". Wallet-relevant traffic could not all be read, so a hijacking could have gone "
              "unseen.</p>\n", f);
    }
    if (r->n == 0) {
        if (r->inconclusive == NULL)
            fputs("<p class=\"ok\" id=\"verdict\">No wallet hijacking detected.</p>\n", f);
    } else {
        fputs("<h2>Alerts</h2>\n<table><tr><th>time</th><th>severity</th><th>rule</th><th>what"
              "</th><th>observed / served</th><th>where</th></tr>\n",
              f);
        for (size_t i = 0; i < r->n; i++) {
            const rrow *w = &r->rows[i];
            int sv = w->severity >= 0 && w->severity <= WW_SEV_CRITICAL ? w->severity : 0;
            fmt_ts(t1, sizeof t1, w->ts_us);
            fprintf(f, "<tr><td class=\"small\">%s</td><td><span class=\"sev\" "
                       "style=\"background:%s\">%s</span></td><td>",
                    t1, sev_color[sv], ww_severity_name(sv));
            esc(f, w->rule);
            fputs("</td><td>", f);
            esc(f, w->signature);
            if (w->chain[0] || w->role[0]) {
                fputs("<br><span class=\"small\">", f);
                esc(f, w->chain);
                if (w->role[0]) {
                    fputs(" &middot; role ", f);
                    esc(f, w->role);
                }
                fputs("</span>", f);
            }
            if (w->db[0]) {
                fputs("<br><span class=\"small\">attacker DB: ", f);
                esc(f, w->db);
                fputs("</span>", f);
            }
            fputs("</td><td class=\"addr\">", f);
            if (w->observed[0]) {
                marked(f, w->observed, w->expected);
                if (w->expected[0]) {
                    fputs("<br>", f);
                    esc(f, w->expected);
                    fputs(" <span class=\"small\">(served)</span>", f);
                }
                if (w->has_similarity)
                    fprintf(f, "<br><span class=\"small\">%u+%u characters alike, %.1f bits</span>",
                            w->prefix, w->suffix, w->bits);
            }
            fputs("</td><td class=\"small\">", f);
            fputs(w->flow, f);
            if (w->url[0]) {
                fputs("<br>", f);
                esc(f, w->url);
            }
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
        if (r->dropped > 0)
            fprintf(f, "<p class=\"small\">%zu more alerts are in the JSON events only.</p>\n",
                    r->dropped);
    }
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
    }
    free(r->rows);
    free(r->inconclusive);
    free(r);
}
