/*
 * output.c - event writers: EVE-compatible JSON lines (-o, --format jsonl, --redis), readable
 * text, JUnit XML; and the run's verdict on what it could not see (exit code 3).
 *
 * JSON keys are written in a fixed order (SPEC.md "JSON-lines events"), timestamps come from
 * packet time, absent facts are omitted. Each event is built in one buffer and written with one
 * fwrite and flushed, so `tail -f` and log shippers see whole lines at once. Every string goes
 * through one strict UTF-8 escaper (invalid bytes become U+FFFD), in JSON, XML and text alike.
 */
#include "detect/detect.h"
#include "decode/quic.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <time.h>

/* ---- strict UTF-8 ---- */

/* Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), 0 when s[0] does not start one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t k;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return k;
}

size_t ww_utf8_clean(char *dst, size_t n, const char *src, size_t len)
{
    static const char repl[] = "\xEF\xBF\xBD";
    size_t o = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        const unsigned char *p = (const unsigned char *)src + i;
        size_t k = utf8_seq(p, len - i);
        const char *put = (const char *)p;
        size_t m = k;
        char q = '?';
        if (k == 0) {
            put = repl;
            m = 3;
            k = 1;
        } else if (k == 1 && ((p[0] < 0x20 && p[0] != '\t') || p[0] == 0x7f)) {
            put = &q;
            m = 1;
        }
        if (o + m >= n)
            break;
        memcpy(dst + o, put, m);
        o += m;
        i += k;
    }
    dst[o] = '\0';
    return o;
}

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
/* JSON text made elsewhere (a JSON-RPC id as cJSON printed it): as is, except that bytes
 * that are not strict UTF-8 (cJSON keeps them raw inside strings) become U+FFFD and DEL is
 * escaped, as jw_escaped does. */
static void jw_json_text(jw *w, const char *s)
{
    size_t n = strlen(s), start = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] == 0x7f) { /* escaped as in every other string */
            jw_raw(w, s + start, i - start);
            start = i + 1;
            jw_raw(w, "\\u007f", 6);
            continue;
        }
        if ((unsigned char)s[i] < 0x80)
            continue;
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k > 0) {
            i += k - 1;
            continue;
        }
        jw_raw(w, s + start, i - start);
        start = i + 1;
        jw_raw(w, "\\ufffd", 6);
    }
    jw_raw(w, s + start, n - start);
}
static void jw_escaped(jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jw_raw(w, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) { /* strict UTF-8: a well-formed sequence as is, else U+FFFD */
            size_t k = utf8_seq((const unsigned char *)s + i, n - i);
            if (k > 0) {
                i += k - 1;
                continue;
            }
            jw_raw(w, s + start, i - start);
            start = i + 1;
            jw_raw(w, "\\ufffd", 6);
            continue;
        }
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

/* ---- EVE identity of a flow ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t ww_out_flow_id(const ww_flow *f, bool udp, uint64_t seed)
{
    uint64_t h = mix64(seed ^ 0x9e3779b97f4a7c15ULL);
    size_t alen = f->cli_ip.family == 6 ? 16 : 4;
    for (size_t i = 0; i < alen; i++)
        h = mix64(h ^ ((uint64_t)f->cli_ip.a[i] << 8 | f->srv_ip.a[i]));
    h = mix64(h ^ ((uint64_t)f->cli_port << 32 | (uint64_t)f->srv_port << 16 | (udp ? 17 : 6)));
    h = mix64(h ^ f->first_ts_us);
    h &= 0x7fffffffffffffffULL; /* a positive int64, as Suricata's */
    return h ? h : 1;
}

#define CID_INPUT_MAX (2 + 16 + 16 + 4 + 4)

/* The bytes Community ID v1 hashes (seed, the smaller endpoint first, proto, ports); their
 * length. */
static size_t community_input(uint8_t buf[CID_INPUT_MAX], const ww_flow *f, bool udp,
                              uint16_t seed)
{
    size_t alen = f->cli_ip.family == 6 ? 16 : 4, k = 0;
    const uint8_t *a1 = f->cli_ip.a, *a2 = f->srv_ip.a;
    uint16_t p1 = f->cli_port, p2 = f->srv_port;
    int c = memcmp(a1, a2, alen);
    if (c > 0 || (c == 0 && p1 > p2)) { /* the smaller endpoint first */
        const uint8_t *t = a1;
        a1 = a2;
        a2 = t;
        uint16_t tp = p1;
        p1 = p2;
        p2 = tp;
    }
    buf[k++] = (uint8_t)(seed >> 8);
    buf[k++] = (uint8_t)seed;
    memcpy(buf + k, a1, alen);
    k += alen;
    memcpy(buf + k, a2, alen);
    k += alen;
    buf[k++] = udp ? 17 : 6;
    buf[k++] = 0;
    buf[k++] = (uint8_t)(p1 >> 8);
    buf[k++] = (uint8_t)p1;
    buf[k++] = (uint8_t)(p2 >> 8);
    buf[k++] = (uint8_t)p2;
    return k;
}

static const char *community_id_of(const uint8_t *buf, size_t k, char *out, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE], b64[64];
    unsigned mdlen = 0;
    if (n < 34 || EVP_Digest(buf, k, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20) {
        if (n > 0)
            out[0] = '\0';
        return out;
    }
    EVP_EncodeBlock(b64, md, 20); /* 28 characters */
    snprintf(out, n, "1:%.28s", (const char *)b64); /* 20 bytes: 28 base64 characters */
    return out;
}

const char *ww_community_id(const ww_flow *f, bool udp, uint16_t seed, char *out, size_t n)
{
    uint8_t buf[CID_INPUT_MAX];
    size_t k = community_input(buf, f, udp, seed);
    return community_id_of(buf, k, out, n);
}

/* ---- alert identity: EVE signature_id, category, severity ---- */

static const struct {
    const char *rule, *category;
    int sid;
} RULES[] = {
    {"known-attacker", "Known attacker address", 9100001},
    {"lookalike-recipient", "Address poisoning", 9100002},
    {"unrequested-recipient", "Wallet hijacking", 9100003},
    {"unlimited-approval", "Wallet hijacking", 9100004},
    {"drainer-script", "Wallet drainer", 9100005},
    {"bad-checksum", "Malformed address", 9100006},
    {"authority-change", "Wallet hijacking", 9100007},
    {"unverified-recipient", "Unverifiable wallet call", 9100008},
    {"yara-match", "YARA match", 9100009},
};
#define RULE_REV 1

static void rule_identity(const char *rule, int *sid, const char **category)
{
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        if (rule != NULL && strcmp(rule, RULES[i].rule) == 0) {
            *sid = RULES[i].sid;
            *category = RULES[i].category;
            return;
        }
    /* a rule this table does not know yet: still stable (FNV-1a of its name) */
    uint32_t h = 2166136261u;
    for (const char *c = rule ? rule : ""; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    *sid = 9100100 + (int)(h % 900);
    *category = "Wallet hijacking";
}

/* EVE severity: 1 critical and high, 2 medium, 3 low and info */
static int eve_severity(int sev)
{
    return sev >= WW_SEV_HIGH ? 1 : sev == WW_SEV_MEDIUM ? 2 : 3;
}

/* ---- blind spots ---- */

static const char *const BLIND_KEY[WW_BLIND_COUNT] = {
    "tls_no_key",  "tls_decrypt_failed", "quic_no_key",    "unsupported_coding",
    "body_over_cap", "http_gaps",        "snaplen_cut",    "damaged_input",
    "evicted",     "capture_drops",      "interrupted",    "history_unseen",
};
static const char *const BLIND_WORDS[WW_BLIND_COUNT] = {
    "TLS sessions without keys",
    "TLS records that failed to decrypt (wrong keys?)",
    "QUIC connections without keys",
    "bodies in a content coding walletwatch cannot decode",
    "bodies over a size cap",
    "gaps (lost bytes) inside HTTP/TLS flows",
    "packets cut by the snaplen",
    "damaged or unreadable capture blocks",
    "flows whose state was evicted or could not be kept",
    "packets dropped by the kernel or interface",
    "replay interrupted before the end of its input",
    "wallet calls paying an address not served in what was seen of a browser whose "
    "connections were open before the capture began",
};

const char *ww_blind_key(int k)
{
    return k >= 0 && k < WW_BLIND_COUNT ? BLIND_KEY[k] : "?";
}
const char *ww_blind_words(int k)
{
    return k >= 0 && k < WW_BLIND_COUNT ? BLIND_WORDS[k] : "?";
}

int ww_blind_classify(const char *layer, const char *type)
{
    if (layer == NULL || type == NULL)
        return -1;
    bool quic = strcmp(layer, "quic") == 0 || strcmp(layer, "http3") == 0;
    if (strcmp(type, "no-key") == 0 || strcmp(type, "quic-no-key") == 0 ||
        strcmp(type, "midstream") == 0)
        return quic ? WW_BLIND_QUIC_NO_KEY : strcmp(layer, "tls") == 0 ? WW_BLIND_TLS_NO_KEY : -1;
    if (strcmp(type, "decrypt-failed") == 0 || strcmp(type, "unsupported-cipher") == 0)
        return quic ? WW_BLIND_QUIC_NO_KEY : WW_BLIND_TLS_DECRYPT_FAILED;
    if (strcmp(type, "unsupported-coding") == 0 || strcmp(type, "bad-coding") == 0)
        return WW_BLIND_UNSUPPORTED_CODING;
    if (strcmp(type, "body-too-big") == 0 || strcmp(type, "body-truncated") == 0 ||
        strcmp(type, "decompression-cap") == 0)
        return WW_BLIND_BODY_OVER_CAP;
    if (strcmp(type, "gap") == 0 || strcmp(type, "h2-gap") == 0)
        return WW_BLIND_HTTP_GAPS;
    if (strcmp(type, "snaplen-truncated") == 0)
        return WW_BLIND_SNAPLEN_CUT;
    if (strcmp(type, "history-unseen") == 0)
        return WW_BLIND_HISTORY_UNSEEN;
    if (strcmp(layer, "pcap") == 0 || strcmp(layer, "pcapng") == 0)
        return WW_BLIND_DAMAGED_INPUT;
    if (strcmp(type, "out-of-memory") == 0)
        return WW_BLIND_EVICTED;
    return -1;
}

/* ---- the writer ---- */

/* One JUnit testcase: a wallet call (and its findings), or a finding outside any call. */
typedef struct junit_case {
    char *name;
    char *message; /* first finding, one line; NULL when the call passed */
    char *body;    /* every finding, a paragraph each */
    size_t body_len;
    size_t findings;
    uint64_t flow_id;
    uint64_t ts_us;
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
    size_t ncalls;        /* wallet calls seen (the JUnit case numbers) */
    ssize_t last_call;    /* the case of the last wallet call; -1 none */
    uint64_t n_alerts_text;
    /* text: the call that is printed as the heading of the alerts under it */
    size_t text_call_printed; /* ncalls when its heading was printed; 0 none */
    char text_call[2048];     /* heading of the last wallet call, not yet printed */
    /* blind spots seen in anomalies */
    uint64_t blind[WW_BLIND_COUNT];
    uint64_t blind_ok;      /* TLS sessions --blind-ok excused */
    uint64_t blind_ok_quic; /* QUIC connections --blind-ok excused */
    uint64_t last_blind_flow[WW_BLIND_COUNT]; /* one count per flow for session kinds */
    char *inconclusive;
    /* the last Community ID written and what it was hashed from (every event of a response
     * names the same flow: one SHA-1 per flow and run of events, not per event) */
    uint8_t cid_in[CID_INPUT_MAX];
    size_t cid_in_len; /* 0: none */
    char cid[48];
};

#define JUNIT_MAX_CASES 10000

ww_out *ww_out_new(const ww_mem *mem, const ww_out_cfg *cfg)
{
    ww_out *o = ww_calloc(mem, 1, sizeof(*o));
    if (o == NULL)
        return NULL;
    o->mem = mem;
    o->cfg = *cfg;
    o->last_call = -1;
    return o;
}

void ww_out_free(ww_out *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->ncases; i++) {
        free(o->cases[i].name);
        free(o->cases[i].message);
        free(o->cases[i].body);
    }
    free(o->cases);
    free(o->w.buf);
    free(o->inconclusive);
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

const char *ww_out_inconclusive(const ww_out *o)
{
    return o->inconclusive;
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

/* Text to a person: strict UTF-8, control characters out. */
static void put_text(ww_out *o, const char *s, size_t n)
{
    char clean[4096 * 3 + 1];
    size_t k = ww_utf8_clean(clean, sizeof clean, s, WW_MIN(n, (size_t)4096));
    /* ww_utf8_clean turns newlines into '?': put them back (ours, not the data's) */
    for (size_t i = 0; i < k && i < n; i++)
        if (s[i] == '\n' && clean[i] == '?')
            clean[i] = '\n';
    put(o, o->cfg.console, clean, k);
}

static void put_s(ww_out *o, FILE *f, const char *s)
{
    put(o, f, s, strlen(s));
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
    snprintf(out + k, n - k, ".%06u+0000", (unsigned)(ts_us % 1000000));
}

static bool ctx_udp(const ww_ctx *ctx)
{
    return ctx != NULL && ctx->app_proto != NULL && strcmp(ctx->app_proto, "http3") == 0;
}

static uint64_t ctx_flow_id(const ww_out *o, const ww_ctx *ctx)
{
    if (ctx == NULL || ctx->flow == NULL)
        return 0;
    return ww_out_flow_id(ctx->flow, ctx_udp(ctx), o->cfg.flow_seed);
}

static void common(ww_out *o, const ww_ctx *ctx, uint64_t ts_us, const char *type)
{
    char ts[40], ip[64];
    jw *w = &o->w;
    jw_reset(w);
    jw_open(w, NULL);
    fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : ts_us);
    jw_str(w, "timestamp", ts);
    if (ctx != NULL && ctx->flow != NULL)
        jw_u64(w, "flow_id", ctx_flow_id(o, ctx));
    jw_str(w, "in_iface", o->cfg.in_iface);
    jw_str(w, "event_type", type);
    if (ctx == NULL || ctx->flow == NULL)
        return;
    const ww_flow *f = ctx->flow;
    bool to_server = ctx->dir == WW_DIR_TOSERVER, udp = ctx_udp(ctx);
    jw_str(w, "src_ip", ww_ip_str(to_server ? &f->cli_ip : &f->srv_ip, ip, sizeof ip));
    jw_int(w, "src_port", to_server ? f->cli_port : f->srv_port);
    jw_str(w, "dest_ip", ww_ip_str(to_server ? &f->srv_ip : &f->cli_ip, ip, sizeof ip));
    jw_int(w, "dest_port", to_server ? f->srv_port : f->cli_port);
    jw_str(w, "proto", udp ? "UDP" : "TCP");
    uint8_t in[CID_INPUT_MAX];
    size_t k = community_input(in, f, udp, 0);
    if (k != o->cid_in_len || memcmp(in, o->cid_in, k) != 0) {
        (void)community_id_of(in, k, o->cid, sizeof o->cid);
        memcpy(o->cid_in, in, k);
        o->cid_in_len = k;
    }
    jw_str(w, "community_id", o->cid);
    jw_str(w, "app_proto", ctx->app_proto);
}

/* http, tls/quic, and walletwatch's own facts EVE has no member for (the TLS cipher, an
 * anomaly's detail) in one top-level "walletwatch" object. */
static void http_tls_detail(ww_out *o, const ww_ctx *ctx, const char *detail)
{
    jw *w = &o->w;
    const char *cipher = NULL, *alpn = NULL;
    if (ctx == NULL)
        goto own;
    if (ctx->http != NULL) {
        jw_open(w, "http");
        jw_str(w, "hostname", ctx->http->hostname);
        jw_str(w, "url", ctx->http->url);
        jw_str(w, "http_method", ctx->http->method);
        if (ctx->http->status > 0)
            jw_int(w, "status", ctx->http->status);
        jw_str(w, "http_content_type", ctx->http->content_type);
        jw_close(w);
    }
    if (ctx->tls != NULL) {
        jw_open(w, ctx_udp(ctx) ? "quic" : "tls");
        jw_str(w, "sni", ctx->tls->sni);
        if (ctx->tls->version != 0)
            jw_str(w, "version", ww_tls_version_name(ctx->tls->version));
        if (ctx->tls->cipher != 0)
            cipher = ww_tls_cipher_name(ctx->tls->cipher);
        jw_close(w);
    }
    if (ctx->quic != NULL) { /* QUIC: EVE's quic {version, sni}; cipher, ALPN in walletwatch */
        jw_open(w, "quic");
        jw_str(w, "version", ww_quic_version_name(ctx->quic->version));
        jw_str(w, "sni", ctx->quic->sni);
        jw_close(w);
        if (ctx->quic->cipher != 0)
            cipher = ww_tls_cipher_name(ctx->quic->cipher);
        alpn = ctx->quic->alpn;
    }
own:
    if ((cipher != NULL && cipher[0] != '\0') || (detail != NULL && detail[0] != '\0') ||
        (alpn != NULL && alpn[0] != '\0')) {
        jw_open(w, "walletwatch");
        jw_str(w, ctx_udp(ctx) ? "quic_cipher" : "tls_cipher", cipher);
        jw_str(w, "quic_alpn", alpn);
        jw_str(w, "detail", detail);
        jw_close(w);
    }
}

static void http_tls(ww_out *o, const ww_ctx *ctx)
{
    http_tls_detail(o, ctx, NULL);
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
    if (o->cfg.on_line != NULL)
        o->cfg.on_line(o->cfg.on_line_ud, w->buf, w->len);
}

static void addr_obj_fields(jw *w, const char *k, const ww_addr *a)
{
    if (a != NULL)
        jw_str(w, k, a->text);
}

/* Text to a terminal: data from the wire, cleaned (no escapes, strict UTF-8). */
static const char *tc(char *buf, size_t n, const char *s)
{
    ww_utf8_clean(buf, n, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
    return buf;
}

/* After a snprintf that may have cut s (cleaned text: strict UTF-8): drops the sequence left
 * incomplete at its end. */
static void utf8_cut_tail(char *s)
{
    size_t len = strlen(s), j = len;
    while (j > 0 && len - j < 3 && ((unsigned char)s[j - 1] & 0xC0) == 0x80)
        j--;
    if (j > 0 && (unsigned char)s[j - 1] >= 0xC0 &&
        utf8_seq((const unsigned char *)s + j - 1, len - j + 1) == 0)
        s[j - 1] = '\0';
}

/* How much of line to write after n = snprintf(line, cap, ...) > 0: all of it, or when it was
 * cut, up to the last whole character. */
static size_t cut_len(char *line, int n, size_t cap)
{
    if ((size_t)n < cap)
        return (size_t)n;
    utf8_cut_tail(line);
    return strlen(line);
}

/* Text: the URL as a user would type it (cut at n bytes, never inside a character). */
static void text_where(const ww_out *o, char *out, size_t n, const ww_ctx *ctx)
{
    char a[64], b[64];
    out[0] = '\0';
    if (ctx == NULL || ctx->flow == NULL)
        return;
    const ww_flow *f = ctx->flow;
    int k;
    char m[64], h[300], u[700];
    if (ctx->http != NULL)
        k = snprintf(out, n, "%s %s%s%s  (", tc(m, sizeof m, ctx->http->method),
                     ctx->tls || ctx->quic ? "https://" : "http://", tc(h, sizeof h, ctx->http->hostname),
                     tc(u, sizeof u, ctx->http->url));
    else
        k = snprintf(out, n, "(");
    if (k < 0 || (size_t)k >= n) {
        utf8_cut_tail(out);
        return;
    }
    snprintf(out + k, n - (size_t)k, "%s:%u -> %s:%u, flow %" PRIu64 ")",
             ww_ip_str(&f->cli_ip, a, sizeof a), f->cli_port, ww_ip_str(&f->srv_ip, b, sizeof b),
             f->srv_port, ctx_flow_id(o, ctx));
}

/* ANSI colour on a TTY */
static const char *col(const ww_out *o, const char *code)
{
    return o->cfg.color ? code : "";
}
#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_YEL "\033[33m"
#define C_GRN "\033[32m"
#define C_DIM "\033[2m"

static const char *sev_col(const ww_out *o, int sev)
{
    return col(o, sev >= WW_SEV_HIGH ? C_RED : sev == WW_SEV_MEDIUM ? C_YEL : C_DIM);
}

/* observed with the characters that differ from expected marked: colour, or a ^ line */
static void text_marked(const ww_out *o, char *out, size_t n, const ww_addr *obs,
                        const ww_addr *exp, char *marks, size_t mn)
{
    size_t k = 0, lo = obs->len, le = exp ? exp->len : 0, m = 0;
    bool open = false;
    const char *ot = ww_addr_written(obs); /* as it was on the wire (bad-checksum: mixed case) */
    out[0] = '\0';
    for (size_t i = 0; i < lo && k + 16 < n; i++) {
        char x = ot[i], y = i < le ? exp->text[i] : 0;
        if (x >= 'A' && x <= 'F')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'F')
            y = (char)(y + 32);
        bool diff = exp != NULL && x != y;
        if (o->cfg.color && diff != open) {
            const char *c = diff ? C_RED : C_RESET;
            memcpy(out + k, c, strlen(c));
            k += strlen(c);
            open = diff;
        }
        out[k++] = ot[i];
        if (m + 1 < mn)
            marks[m++] = diff ? '^' : ' ';
    }
    if (open)
        k += (size_t)snprintf(out + k, n - k, "%s", C_RESET);
    out[k] = '\0';
    while (m > 0 && marks[m - 1] == ' ')
        m--;
    marks[m] = '\0';
}

static void text_call_heading(ww_out *o)
{
    if (o->text_call[0] == '\0' || o->text_call_printed == o->ncalls)
        return;
    o->text_call_printed = o->ncalls;
    put(o, o->cfg.console, o->text_call, strlen(o->text_call)); /* its data cleaned */
}

static const char *role_words(int role)
{
    return role >= 0 ? ww_role_name(role) : "address";
}


/* "served to this browser by URL at TIME" (or what is known of it); st: TIME's buffer */
static void served_whence(char *out, size_t n, const ww_alert *a, const char *url, char *st,
                          size_t stn)
{
    if (a->served_url != NULL && a->served_ts_us > 0) {
        fmt_ts(st, stn, a->served_ts_us);
        snprintf(out, n, "served to this browser by %s at %s", url, st);
    } else if (a->served_url != NULL)
        snprintf(out, n, "served to this browser by %s", url);
    else if (a->where != NULL && strcmp(a->where, "wallet_call") == 0)
        snprintf(out, n, "served to this browser");
    else
        snprintf(out, n, "the attacker-DB address it resembles");
}

static void text_alert(ww_out *o, const ww_ctx *ctx, const ww_alert *a)
{
    char ts[40], where[600], line[2048], obs[WW_ADDR_TEXT_MAX * 8 + 64],
        marks[WW_ADDR_TEXT_MAX + 1];
    int n;

    if (a->where != NULL && strcmp(a->where, "wallet_call") == 0)
        text_call_heading(o);
    else
        o->text_call_printed = o->ncalls; /* a finding outside the call: no heading */
    fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : 0);
    text_where(o, where, sizeof where, ctx);
    char sig[600], lab[300], src[300], rule[64];
    n = snprintf(line, sizeof line, "%s  %sALERT %s%s %s%s%s: %s\n    %s%s%s\n", ts,
                 sev_col(o, a->severity), ww_severity_name(a->severity), col(o, C_RESET),
                 col(o, C_BOLD), tc(rule, sizeof rule, a->rule), col(o, C_RESET),
                 tc(sig, sizeof sig, a->signature), col(o, C_DIM), where, col(o, C_RESET));
    if (n > 0)
        put(o, o->cfg.console, line, cut_len(line, n, sizeof line));
    bool call = a->where != NULL && strcmp(a->where, "wallet_call") == 0;
    const char *said = call ? "sent" : "found"; /* in a wallet call; in a response or script */
    if (a->observed != NULL) {
        text_marked(o, obs, sizeof obs, a->observed, a->expected, marks, sizeof marks);
        if (a->db != NULL)
            n = snprintf(line, sizeof line, "    %-9s %s  (attacker DB: %s; %s)\n", said,
                         obs, tc(lab, sizeof lab, a->db->label), tc(src, sizeof src, a->db->source));
        else
            n = snprintf(line, sizeof line, "    %-9s %s  (%s%s in the %s)\n", said, obs,
                         a->role >= 0 ? "role " : "", role_words(a->role),
                         call ? "wallet call" : a->where ? a->where : "message");
        if (n > 0)
            put(o, o->cfg.console, line, cut_len(line, n, sizeof line));
    }
    if (a->expected != NULL) {
        char whence[700], u[600], st[40];
        served_whence(whence, sizeof whence, a, tc(u, sizeof u, a->served_url), st, sizeof st);
        if (a->has_similarity)
            n = snprintf(line, sizeof line,
                         "    %-9s %s  (%s)\n    %-9s %s\n"
                         "    alike:    %u leading + %u trailing characters, %.1f bits beyond "
                         "chance\n",
                         call ? "served" : "like", a->expected->text, whence, "", marks,
                         a->prefix, a->suffix, a->bits);
        else
            n = snprintf(line, sizeof line, "    %-9s %s  (%s)\n    %-9s %s\n",
                         call ? "served" : "like", a->expected->text, whence, "", marks);
        if (n > 0)
            put(o, o->cfg.console, line, cut_len(line, n, sizeof line));
    }
}

/* ---- JUnit: one testcase per wallet call ---- */

static junit_case *junit_new_case(ww_out *o)
{
    if (o->ncases >= JUNIT_MAX_CASES) {
        o->junit_dropped++;
        return NULL;
    }
    if (o->ncases == o->acases) {
        size_t na = o->acases ? o->acases * 2 : 16;
        junit_case *nc = realloc(o->cases, na * sizeof(*nc));
        if (nc == NULL) {
            o->junit_dropped++;
            return NULL;
        }
        o->cases = nc;
        o->acases = na;
    }
    junit_case *c = &o->cases[o->ncases++];
    memset(c, 0, sizeof(*c));
    return c;
}

static void junit_body_add(junit_case *c, const char *s)
{
    size_t n = strlen(s);
    if (c->body_len + n > 64 * 1024)
        return;
    char *nb = realloc(c->body, c->body_len + n + 1);
    if (nb == NULL)
        return;
    memcpy(nb + c->body_len, s, n + 1);
    c->body = nb;
    c->body_len += n;
}

static void junit_call(ww_out *o, const ww_ctx *ctx, const ww_wallet_call *wc,
                       const ww_addr *payee)
{
    char name[512];
    o->last_call = -1;
    junit_case *c = junit_new_case(o);
    if (c == NULL)
        return;
    snprintf(name, sizeof name, "wallet call #%zu: %s %s%s%s (%s)", o->ncalls, wc->method,
             wc->kind[0] ? wc->kind : "call", payee ? " to " : "", payee ? payee->text : "",
             ww_chain_name(wc->chain));
    c->name = strdup(name);
    c->flow_id = ctx_flow_id(o, ctx);
    c->ts_us = ctx ? ctx->ts_us : 0;
    o->last_call = (ssize_t)(o->ncases - 1);
}

static void junit_alert(ww_out *o, const ww_ctx *ctx, const ww_alert *a)
{
    char where[600], msg[1024], body[2048];
    junit_case *c = NULL;
    bool in_call = a->where != NULL && strcmp(a->where, "wallet_call") == 0 &&
                   o->last_call >= 0 && o->cases[o->last_call].flow_id == ctx_flow_id(o, ctx);
    if (in_call)
        c = &o->cases[o->last_call];
    else {
        char name[512];
        c = junit_new_case(o);
        if (c == NULL)
            return;
        snprintf(name, sizeof name, "finding #%zu: %s in a %s (%s)", o->ncases, a->rule,
                 a->where ? a->where : "message", a->observed ? a->observed->text : "-");
        c->name = strdup(name);
    }
    text_where(o, where, sizeof where, ctx);
    snprintf(msg, sizeof msg, "%s %s: %s", ww_severity_name(a->severity), a->rule, a->signature);
    if (c->message == NULL)
        c->message = strdup(msg);
    int k = snprintf(body, sizeof body, "%s%s\n  sent:   %s%s%s%s\n", c->findings ? "\n" : "",
                     msg, a->observed ? ww_addr_written(a->observed) : "-",
                     a->role >= 0 ? "  (" : "", a->role >= 0 ? ww_role_name(a->role) : "",
                     a->role >= 0 ? ")" : "");
    if (k > 0 && (size_t)k < sizeof body && a->expected != NULL) {
        char whence[700], st[40];
        served_whence(whence, sizeof whence, a, a->served_url, st, sizeof st);
        k += snprintf(body + k, sizeof body - (size_t)k, "  served: %s  (%s)\n",
                      a->expected->text, whence);
    }
    if (k > 0 && (size_t)k < sizeof body && a->db != NULL)
        k += snprintf(body + k, sizeof body - (size_t)k, "  attacker DB: %s (%s)\n", a->db->label,
                      a->db->source);
    if (k > 0 && (size_t)k < sizeof body)
        snprintf(body + k, sizeof body - (size_t)k, "  where:  %s\n", where);
    junit_body_add(c, body);
    c->findings++;
}

void ww_out_alert(ww_out *o, const ww_ctx *ctx, const ww_alert *a)
{
    jw *w = &o->w;
    int sid;
    const char *category;
    rule_identity(a->rule, &sid, &category);
    common(o, ctx, 0, "alert");
    jw_open(w, "alert");
    jw_str(w, "action", "allowed");
    jw_int(w, "gid", 1);
    jw_int(w, "signature_id", sid);
    jw_int(w, "rev", RULE_REV);
    jw_str(w, "signature", a->signature);
    jw_str(w, "category", category);
    jw_int(w, "severity", eve_severity(a->severity));
    jw_str(w, "rule", a->rule);
    jw_str(w, "level", ww_severity_name(a->severity));
    if (a->chain != WW_CHAIN_NONE)
        jw_str(w, "chain", ww_chain_name(a->chain));
    jw_str(w, "method", a->method);
    jw_str(w, "where", a->where);
    if (a->role >= 0)
        jw_str(w, "role", ww_role_name(a->role));
    addr_obj_fields(w, "observed", a->observed);
    if (a->observed != NULL && ww_addr_written(a->observed) != a->observed->text)
        jw_str(w, "observed_as_written", ww_addr_written(a->observed));
    addr_obj_fields(w, "expected", a->expected);
    if (a->served_url != NULL) { /* where expected was last served to this browser */
        jw_str(w, "served_url", a->served_url);
        if (a->served_ts_us > 0) {
            char st[40];
            fmt_ts(st, sizeof st, a->served_ts_us);
            jw_str(w, "served_at", st);
        }
    }
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
    junit_alert(o, ctx, a);
    if (o->cfg.report != NULL)
        ww_report_alert(o->cfg.report, ctx, a);
}

/* The `parties` array: every party of the call with its role. */
static void write_parties(jw *w, const ww_wallet_call *wc)
{
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

/* A call's amount and token: "25000000 units of token 0x...", "5 wei"; "" when none. */
static void call_amount(char *out, size_t n, const ww_wallet_call *wc, const char *amount)
{
    out[0] = '\0';
    if (amount[0] != '\0')
        snprintf(out, n, "%s%s%s", amount, wc->has_token ? " units of token " : "",
                 wc->has_token ? wc->token.text : "");
    else if (wc->value[0] != '\0' && strcmp(wc->value, "0") != 0)
        snprintf(out, n, "%s %s", wc->value, wc->chain == WW_CHAIN_SOLANA ? "lamports" : "wei");
}

/* Text format: the heading printed above the call's alerts (always with -v). */
static void text_call_line(ww_out *o, const ww_ctx *ctx, const ww_wallet_call *wc,
                           const char *amount, const ww_addr *payee)
{
    char ts[40], where[600], amt[200], am[190], mth[160], knd[100], txh[300];
    fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : 0);
    text_where(o, where, sizeof where, ctx);
    amt[0] = '\0';
    call_amount(am, sizeof am, wc, amount);
    if (am[0] != '\0')
        snprintf(amt, sizeof amt, " of %s", am);
    char cid[40] = "";
    if (wc->has_chain_id)
        snprintf(cid, sizeof cid, ", chain id %" PRIu64, wc->chain_id);
    snprintf(o->text_call, sizeof o->text_call,
             "%s  %swallet call%s %s (%s%s): %s%s%s%s%s%s\n    %s\n", ts, col(o, C_BOLD),
             col(o, C_RESET), tc(mth, sizeof mth, wc->method), ww_chain_name(wc->chain), cid,
             wc->kind[0] ? tc(knd, sizeof knd, wc->kind) : "call", amt, payee ? " to " : "",
             payee ? payee->text : "", wc->tx_hash[0] ? ", tx " : "",
             tc(txh, sizeof txh, wc->tx_hash), where);
    utf8_cut_tail(o->text_call);
    if (o->cfg.verbose > 0)
        text_call_heading(o);
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
        jw_json_text(w, wc->rpc_id);
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
    /* Solana: the destination token account beside its owner (the first recipient) */
    for (size_t i = 0; i < wc->n_parties; i++)
        if (wc->parties[i].role == WW_ROLE_RECIPIENT) {
            if (wc->parties[i].sol_has_account)
                addr_obj_fields(w, "token_account", &wc->parties[i].sol_account);
            break;
        }
    addr_obj_fields(w, "spender", spender);
    addr_obj_fields(w, "operator", first[WW_ROLE_OPERATOR]);
    addr_obj_fields(w, "delegate", first[WW_ROLE_DELEGATE]);
    addr_obj_fields(w, "authority", first[WW_ROLE_AUTHORITY]);
    if (wc->chain == WW_CHAIN_SOLANA && wc->has_token)
        addr_obj_fields(w, "mint", &wc->token); /* a Solana token operation's mint */
    if (several)
        write_parties(w, wc);
    jw_str(w, "amount", amount);
    jw_str(w, "selector", wc->selector);
    jw_str(w, "tx_hash", wc->tx_hash);
    if (wc->signature_valid >= 0)
        jw_bool(w, "signature_valid", wc->signature_valid == 1);
    jw_close(w);
    http_tls(o, ctx);
    emit(o, true);
    o->ncalls++;
    const ww_addr *payee = recipient ? recipient : spender ? spender : wc->has_to ? &wc->to : NULL;
    junit_call(o, ctx, wc, payee);
    if (o->cfg.report != NULL) {
        char am[200];
        call_amount(am, sizeof am, wc, amount);
        ww_report_call(o->cfg.report, ctx, wc, am, payee);
    }
    if (o->cfg.format == WW_FMT_TEXT)
        text_call_line(o, ctx, wc, amount, payee);
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

/* Does host (an SNI) fall under the --blind-ok list ("all", or "a.com,b.org": each name and its
 * subdomains)? */
static bool blind_ok_host(const char *list, const char *host)
{
    if (list == NULL)
        return false;
    if (strcmp(list, "all") == 0)
        return true;
    if (host == NULL || host[0] == '\0')
        return false;
    size_t hl = strlen(host);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 2 && p[0] == '*' && p[1] == '.') { /* "*.a.com" as "a.com" */
            p += 2;
            n -= 2;
        }
        if (n > 0 && hl >= n && strncasecmp(host + hl - n, p, n) == 0 &&
            (hl == n || host[hl - n - 1] == '.'))
            return true;
        p += n + (e != NULL);
    }
    return false;
}

static void blind_count(ww_out *o, const ww_ctx *ctx, const char *layer, const char *type)
{
    int k = ww_blind_classify(layer, type);
    if (k < 0)
        return;
    uint64_t fid = ctx_flow_id(o, ctx);
    bool per_session = k == WW_BLIND_TLS_NO_KEY || k == WW_BLIND_TLS_DECRYPT_FAILED ||
                       k == WW_BLIND_QUIC_NO_KEY;
    if (k == WW_BLIND_HTTP_GAPS && (ctx == NULL || (ctx->app_proto == NULL && ctx->tls == NULL)))
        return; /* a gap in a flow that never carried HTTP or TLS: not wallet traffic */
    if (per_session) {
        if (fid != 0 && o->last_blind_flow[k] == fid)
            return; /* one count per session */
        o->last_blind_flow[k] = fid;
        const char *sni = ctx == NULL ? NULL
                          : ctx->tls != NULL ? ctx->tls->sni
                          : ctx->quic != NULL ? ctx->quic->sni
                                              : NULL;
        if (blind_ok_host(o->cfg.blind_ok, sni)) {
            if (k == WW_BLIND_QUIC_NO_KEY)
                o->blind_ok_quic++;
            else
                o->blind_ok++;
            return;
        }
    }
    o->blind[k]++;
}

void ww_out_anomaly(ww_out *o, const ww_ctx *ctx, const char *layer, const char *type,
                    const char *detail)
{
    jw *w = &o->w;
    blind_count(o, ctx, layer, type);
    common(o, ctx, 0, "anomaly");
    jw_open(w, "anomaly");
    jw_str(w, "layer", layer);
    jw_str(w, "type", type);
    jw_close(w);
    http_tls_detail(o, ctx, detail); /* EVE's anomaly has no room for the detail */
    emit(o, true);
    if (o->cfg.format == WW_FMT_TEXT && o->cfg.verbose > 0) {
        char ts[40], where[600], line[1024];
        fmt_ts(ts, sizeof ts, ctx ? ctx->ts_us : 0);
        text_where(o, where, sizeof where, ctx);
        int n = snprintf(line, sizeof line, "%s  anomaly %s/%s: %s  %s\n", ts, layer, type,
                         detail ? detail : "", where);
        if (n > 0)
            put_text(o, line, cut_len(line, n, sizeof line));
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
    if (ctx != NULL && (ctx->tls != NULL || ctx->quic != NULL)) {
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
        jw_json_text(w, r->rpc_id);
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
    if (o->cfg.report != NULL)
        ww_report_answer(o->cfg.report, ctx, method, r);
    /* the node's answer: under the call's findings (and always with -v) */
    if (o->cfg.format == WW_FMT_TEXT &&
        (o->cfg.verbose > 0 || (o->text_call_printed == o->ncalls && o->ncalls > 0))) {
        char line[512];
        int n = r->is_error
                    ? snprintf(line, sizeof line, "    node answered %s (id %s): error %lld %s\n",
                               method, r->rpc_id, (long long)r->error_code, r->error_msg)
                    : snprintf(line, sizeof line, "    node answered %s (id %s): %s%s\n", method,
                               r->rpc_id, r->result,
                               r->result_truncated ? "(a long result)" : "");
        if (n > 0)
            put_text(o, line, cut_len(line, n, sizeof line));
    }
    if (o->last_call >= 0 && o->cases[o->last_call].findings > 0) {
        char b[300];
        snprintf(b, sizeof b, "\nnode answered %s (id %s): %s\n", method, r->rpc_id,
                 r->is_error ? r->error_msg : r->result);
        junit_body_add(&o->cases[o->last_call], b);
    }
}

/* Merges the blind spots the caller knows (counters of other layers) with those seen in
 * anomalies, and decides the verdict. */
static void verdict(ww_out *o, ww_run_stats *st)
{
    memcpy(st->blind, o->blind, sizeof st->blind);
    st->blind_ok = o->blind_ok + o->blind_ok_quic;
    /* sessions that ended undecrypted without an anomaly (no key log at all): counted by the
     * TLS and QUIC layers; those --blind-ok excused are taken off */
    bool all_ok = o->cfg.blind_ok != NULL && strcmp(o->cfg.blind_ok, "all") == 0;
    uint64_t tls = st->tls_undecryptable > o->blind_ok ? st->tls_undecryptable - o->blind_ok : 0;
    uint64_t quic = st->quic_undecryptable > o->blind_ok_quic
                        ? st->quic_undecryptable - o->blind_ok_quic
                        : 0;
    if (all_ok)
        tls = quic = 0;
    if (tls > st->blind[WW_BLIND_TLS_NO_KEY])
        st->blind[WW_BLIND_TLS_NO_KEY] = tls;
    if (quic > st->blind[WW_BLIND_QUIC_NO_KEY])
        st->blind[WW_BLIND_QUIC_NO_KEY] = quic;
    if (st->evicted > 0)
        st->blind[WW_BLIND_EVICTED] += st->evicted;
    st->blind[WW_BLIND_CAPTURE_DROPS] = st->drops;
    st->blind[WW_BLIND_INTERRUPTED] = st->interrupted ? 1 : 0;
    free(o->inconclusive);
    o->inconclusive = NULL;
    char buf[2048];
    size_t k = (size_t)snprintf(buf, sizeof buf, "inconclusive: ");
    size_t start = k;
    for (int i = 0; i < WW_BLIND_COUNT; i++) {
        if (st->blind[i] == 0)
            continue;
        int n = i == WW_BLIND_INTERRUPTED
                    ? snprintf(buf + k, sizeof buf - k, "%s%s", k > start ? "; " : "",
                               BLIND_WORDS[i])
                    : snprintf(buf + k, sizeof buf - k, "%s%" PRIu64 " %s", k > start ? "; " : "",
                               st->blind[i], BLIND_WORDS[i]);
        if (n < 0 || (size_t)n >= sizeof buf - k)
            break;
        k += (size_t)n;
    }
    if (k > start)
        o->inconclusive = strdup(buf);
}

/* The stats event; with the text summary when summary (the last one of a run). */
static void stats_event(ww_out *o, uint64_t ts_us, ww_run_stats *st, bool summary)
{
    jw *w = &o->w;
    verdict(o, st);
    common(o, NULL, ts_us, "stats");
    /* EVE's own stats members where they mean the same thing */
    jw_open(w, "stats");
    jw_open(w, "decoder");
    jw_u64(w, "pkts", st->packets);
    jw_u64(w, "bytes", st->bytes);
    jw_close(w);
    jw_open(w, "capture");
    jw_u64(w, "kernel_packets", st->packets);
    jw_u64(w, "kernel_drops", st->drops);
    jw_close(w);
    jw_close(w);
    /* walletwatch's own counters, namespaced */
    jw_open(w, "walletwatch");
    jw_u64(w, "packets", st->packets);
    jw_u64(w, "bytes", st->bytes);
    jw_u64(w, "flows", st->flows);
    jw_u64(w, "tls_sessions", st->tls_sessions);
    jw_u64(w, "tls_decrypted", st->tls_decrypted);
    jw_u64(w, "tls_undecryptable", st->tls_undecryptable);
    jw_u64(w, "quic_sessions", st->quic_sessions);
    jw_u64(w, "quic_decrypted", st->quic_decrypted);
    jw_u64(w, "quic_undecryptable", st->quic_undecryptable);
    jw_u64(w, "http_messages", st->http_messages);
    jw_u64(w, "rpc_calls", st->rpc_calls);
    jw_u64(w, "wallet_calls", st->wallet_calls);
    jw_u64(w, "intents", st->intents);
    jw_u64(w, "alerts", st->alerts);
    jw_u64(w, "anomalies", st->anomalies);
    jw_u64(w, "drops", st->drops);
    jw_u64(w, "keywait_bytes_peak", st->keywait_bytes_peak);
    jw_u64(w, "keywait_evicted", st->keywait_evicted);
    jw_open(w, "blind");
    for (int i = 0; i < WW_BLIND_COUNT; i++)
        jw_u64(w, BLIND_KEY[i], st->blind[i]);
    jw_u64(w, "excused", st->blind_ok);
    jw_close(w);
    jw_str(w, "verdict", o->inconclusive ? "inconclusive" : st->alerts ? "alerts" : "clean");
    if (o->inconclusive != NULL)
        jw_str(w, "inconclusive", o->inconclusive + strlen("inconclusive: "));
    jw_u64(w, "suppressed", st->suppressed);
    jw_u64(w, "clients_evicted", st->clients_evicted);
    jw_u64(w, "served_dropped", st->served_dropped);
    jw_u64(w, "served_pairs", st->served_pairs);
    jw_u64(w, "mac_aliases", st->mac_aliases);
    jw_u64(w, "clients_history_unseen", st->clients_unseen);
    if (o->cfg.on_line_dropped != NULL)
        jw_u64(w, "redis_dropped", o->cfg.on_line_dropped(o->cfg.on_line_ud));
    jw_close(w);
    emit(o, true);
    if (summary && o->cfg.format == WW_FMT_TEXT && !o->cfg.quiet) {
        char line[3072];
        int n = snprintf(line, sizeof line,
                         "walletwatch: %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64
                         " HTTP messages, %" PRIu64 " JSON-RPC calls, %" PRIu64
                         " wallet calls, %" PRIu64 " served addresses, %" PRIu64
                         " alerts, %" PRIu64 " anomalies; TLS %" PRIu64 " sessions, %" PRIu64
                         " decrypted, %" PRIu64 " undecryptable\n",
                         st->packets, st->flows, st->http_messages, st->rpc_calls,
                         st->wallet_calls, st->intents, st->alerts, st->anomalies,
                         st->tls_sessions, st->tls_decrypted, st->tls_undecryptable);
        if (n > 0 && st->quic_sessions > 0 && (size_t)n < sizeof line - 1) /* QUIC, when seen */
            n += snprintf(line + n - 1, sizeof line - (size_t)n + 1,
                          "; QUIC %" PRIu64 " sessions, %" PRIu64 " decrypted, %" PRIu64
                          " undecryptable\n",
                          st->quic_sessions, st->quic_decrypted, st->quic_undecryptable) - 1;
        if (n > 0)
            put_text(o, line, cut_len(line, n, sizeof line));
        if (st->alerts > 0)
            n = snprintf(line, sizeof line, "walletwatch: %s%" PRIu64 " alert%s%s%s%s\n",
                         col(o, C_RED), st->alerts, st->alerts == 1 ? "" : "s", col(o, C_RESET),
                         o->inconclusive ? "; also " : "",
                         o->inconclusive ? o->inconclusive : "");
        else if (o->inconclusive != NULL)
            n = snprintf(line, sizeof line, "walletwatch: %s%s%s\n", col(o, C_YEL),
                         o->inconclusive, col(o, C_RESET));
        else
            n = snprintf(line, sizeof line, "walletwatch: %sno wallet hijacking detected%s\n",
                         col(o, C_GRN), col(o, C_RESET));
        if (n > 0)
            put(o, o->cfg.console, line, cut_len(line, n, sizeof line));
        n = snprintf(line, sizeof line,
                     "walletwatch: %" PRIu64 " accepted by the baseline, %" PRIu64
                     " browsers evicted, %" PRIu64 " served addresses dropped, %" PRIu64
                     " poisoned pairs, %" PRIu64 " addresses joined by MAC, %" PRIu64
                     " browsers with connections open before the capture began\n",
                     st->suppressed, st->clients_evicted, st->served_dropped, st->served_pairs,
                     st->mac_aliases, st->clients_unseen);
        if (n > 0)
            put(o, o->cfg.console, line, cut_len(line, n, sizeof line));
    }
}

void ww_out_stats(ww_out *o, uint64_t ts_us, ww_run_stats *st)
{
    stats_event(o, ts_us, st, true);
}

void ww_out_stats_interval(ww_out *o, uint64_t ts_us, ww_run_stats *st)
{
    stats_event(o, ts_us, st, false);
}

/* XML character data / attribute value: strict UTF-8, the five specials escaped, control
 * characters (not allowed in XML 1.0) dropped; newlines kept in bodies. */
static void xml_escaped(ww_out *o, FILE *f, const char *s, bool attr)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            put_s(o, f, "\xEF\xBF\xBD");
            i++;
            continue;
        }
        if (k > 1) {
            put(o, f, s + i, k);
            i += k;
            continue;
        }
        i++;
        switch (c) {
        case '<':
            put_s(o, f, "&lt;");
            break;
        case '>':
            put_s(o, f, "&gt;");
            break;
        case '&':
            put_s(o, f, "&amp;");
            break;
        case '"':
            put_s(o, f, "&quot;");
            break;
        case '\n':
            if (attr)
                put_s(o, f, "&#10;");
            else
                put_s(o, f, "\n");
            break;
        default:
            if (c >= 0x20 && c != 0x7f)
                put(o, f, (const char *)&c, 1);
        }
    }
}

static void junit_write(ww_out *o, FILE *f)
{
    char line[512];
    size_t fails = 0;
    for (size_t i = 0; i < o->ncases; i++)
        fails += o->cases[i].findings > 0;
    fails += o->junit_dropped;
    size_t tests = o->ncases + o->junit_dropped + 1; /* + the visibility case */
    int n = snprintf(line, sizeof line,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
                     "<testsuite name=\"walletwatch\" tests=\"%zu\" failures=\"%zu\" "
                     "errors=\"%d\">\n",
                     tests, fails, o->inconclusive != NULL);
    put(o, f, line, (size_t)n);
    for (size_t i = 0; i < o->ncases; i++) {
        const junit_case *c = &o->cases[i];
        char ts[40];
        fmt_ts(ts, sizeof ts, c->ts_us);
        put_s(o, f, "<testcase classname=\"walletwatch\" name=\"");
        xml_escaped(o, f, c->name ? c->name : "?", true);
        if (c->ts_us > 0) {
            n = snprintf(line, sizeof line, "\" timestamp=\"%s", ts);
            put(o, f, line, (size_t)n);
        }
        if (c->findings == 0) {
            put_s(o, f, "\"/>\n");
            continue;
        }
        put_s(o, f, "\">\n<failure type=\"wallet-hijacking\" message=\"");
        xml_escaped(o, f, c->message ? c->message : "", true);
        put_s(o, f, "\">");
        xml_escaped(o, f, c->body ? c->body : "", false);
        put_s(o, f, "</failure>\n</testcase>\n");
    }
    if (o->junit_dropped > 0) {
        n = snprintf(line, sizeof line,
                     "<testcase classname=\"walletwatch\" name=\"%zu more findings\">"
                     "<failure message=\"%zu more findings are in the JSON events\"/>"
                     "</testcase>\n",
                     o->junit_dropped, o->junit_dropped);
        put(o, f, line, (size_t)n);
    }
    /* the run's visibility: passed, or an error that says what could not be seen */
    if (o->inconclusive != NULL) {
        put_s(o, f, "<testcase classname=\"walletwatch\" name=\"visibility\">\n<error "
                  "type=\"inconclusive\" message=\"");
        xml_escaped(o, f, o->inconclusive, true);
        put_s(o, f, "\">");
        xml_escaped(o, f, o->inconclusive, false);
        put_s(o, f, "\nThe wallet-relevant traffic could not all be read, so a hijacking could "
                  "have gone unseen.</error>\n</testcase>\n");
    } else {
        const char *ok = fails ? "<testcase classname=\"walletwatch\" name=\"visibility\"/>\n"
                               : "<testcase classname=\"walletwatch\" name=\"visibility: no "
                                 "wallet hijacking detected\"/>\n";
        put(o, f, ok, strlen(ok));
    }
    put_s(o, f, "</testsuite>\n</testsuites>\n");
}

int ww_out_finish(ww_out *o)
{
    if (o->cfg.format == WW_FMT_JUNIT && o->cfg.console != NULL)
        junit_write(o, o->cfg.console);
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
