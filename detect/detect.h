/*
 * detect.h - what each browser was served, the alert rules, and the output writers.
 *
 * Detection reads the facts decode/ hands over (ww_decode_sink): addresses served to a
 * client (with their provenance), wallet calls, anomalies. It never parses bytes. Rules
 * (SPEC.md "Alert rules"): known-attacker, lookalike-recipient, unrequested-recipient,
 * unverified-recipient, unlimited-approval, authority-change, drainer-script, bad-checksum,
 * yara-match. Accepted findings (a CI baseline) are counted, not written.
 */
#ifndef WW_DETECT_H
#define WW_DETECT_H

#include "addrdb/addrdb.h"
#include "addrdb/registry.h"
#include "decode/decode.h"

enum ww_severity {
    WW_SEV_NONE = 0,
    WW_SEV_INFO,
    WW_SEV_LOW,
    WW_SEV_MEDIUM,
    WW_SEV_HIGH,
    WW_SEV_CRITICAL,
};
const char *ww_severity_name(int sev);
/* WW_SEV_NONE when unknown; "none" is accepted as "never fail" and returns WW_SEV_NONE too,
 * so callers tell the two apart with ok. */
int ww_severity_from_name(const char *s, bool *ok);

typedef struct ww_alert {
    const char *rule;      /* "known-attacker", ... */
    int severity;
    const char *signature; /* one human sentence */
    int chain;
    const char *method;    /* JSON-RPC method; NULL for a response */
    const char *where;     /* "wallet_call" | "response" | "script" */
    int role;              /* WW_ROLE_*; -1 when none */
    const ww_addr *observed;
    const ww_addr *expected;  /* NULL when nothing was served to compare with */
    bool has_similarity;
    unsigned prefix, suffix;  /* matched leading / trailing characters */
    double bits;              /* similarity in bits beyond chance */
    const ww_addrdb_entry *db; /* NULL when not in the DB */
    /* where expected was last served to this browser: the URL of that response
     * ("https://host/path") and its packet time; NULL / 0 when unknown or when expected was
     * not served (--expect, the registry, the DB). Filled by detection when it raises. */
    const char *served_url;
    uint64_t served_ts_us;
} ww_alert;

/* ---- what a run could not see (SPEC exit code 3 "inconclusive") ---- */
enum ww_blind_kind {
    WW_BLIND_TLS_NO_KEY = 0,     /* TLS sessions without keys (none given, or not for them) */
    WW_BLIND_TLS_DECRYPT_FAILED, /* records that failed to decrypt (wrong keys) */
    WW_BLIND_QUIC_NO_KEY,        /* QUIC connections without keys */
    WW_BLIND_UNSUPPORTED_CODING, /* bodies in a content coding we cannot decode */
    WW_BLIND_BODY_OVER_CAP,      /* bodies over a size or decompression cap */
    WW_BLIND_HTTP_GAPS,          /* bytes lost inside flows carrying HTTP or TLS */
    WW_BLIND_SNAPLEN_CUT,        /* packets cut by the capture's snaplen */
    WW_BLIND_DAMAGED_INPUT,      /* unreadable or damaged capture blocks */
    WW_BLIND_EVICTED,            /* flow state evicted or not allocated (memory caps) */
    WW_BLIND_CAPTURE_DROPS,      /* packets the kernel or interface dropped */
    WW_BLIND_INTERRUPTED,        /* a replay stopped before the end of its input */
    WW_BLIND_HISTORY_UNSEEN,     /* payees unchecked: the browser's earlier traffic unseen */
    WW_BLIND_COUNT
};
/* JSON key of a blind-spot counter ("tls_no_key", ...) and its sentence ("TLS sessions
 * without keys"). */
const char *ww_blind_key(int kind);
const char *ww_blind_words(int kind);
/* Which blind-spot counter an anomaly (layer, type) feeds; -1 when none. */
int ww_blind_classify(const char *layer, const char *type);

typedef struct ww_run_stats {
    uint64_t packets, bytes, flows, tls_sessions, tls_decrypted, tls_undecryptable,
        http_messages, rpc_calls, wallet_calls, intents, alerts, anomalies, drops;
    uint64_t keywait_bytes_peak, keywait_evicted; /* TLS bytes waiting for keys: peak; sessions
                                                     given up over the key-wait budget */
    /* detection state (ww_detect_stats): alerts a baseline accepted, browsers evicted,
     * served addresses dropped, poisoned pairs, IP addresses joined by MAC */
    uint64_t suppressed, clients_evicted, served_dropped, served_pairs, mac_aliases;
    uint64_t clients_unseen; /* browsers whose traffic before the capture began is unseen */
    uint64_t quic_sessions, quic_decrypted, quic_undecryptable; /* QUIC connections */
    uint64_t evicted;        /* TCP flows evicted under the flow cap */
    bool interrupted;        /* a replay was stopped (SIGINT) before its end */
    /* Filled by ww_out_stats (anomalies seen + the counters above); callers leave it 0. */
    uint64_t blind[WW_BLIND_COUNT];
    uint64_t blind_ok;       /* encrypted sessions --blind-ok excused */
} ww_run_stats;

/* ---- output ---- */
typedef struct ww_report ww_report;
enum ww_out_format { WW_FMT_TEXT = 0, WW_FMT_JSONL, WW_FMT_JUNIT };

typedef struct ww_out_cfg {
    FILE *jsonl;      /* -o: every event as JSON lines; NULL = none */
    FILE *console;    /* standard output; NULL = none */
    int format;       /* what goes to console */
    bool log_http;    /* emit "http" events (one per HTTP message) */
    int verbose;      /* text: -v also prints wallet calls and anomalies */
    bool quiet;       /* text: alerts only, no summary */
    /* Optional: every EVE line (with its newline) is also handed here (--redis). */
    void (*on_line)(void *ud, const char *line, size_t n);
    void *on_line_ud;
    /* Optional: lines on_line could not pass on so far (--redis: buffer overflow), written
     * as the stats event's walletwatch.redis_dropped. */
    uint64_t (*on_line_dropped)(void *ud);
    const char *in_iface;  /* live capture: the EVE in_iface member; NULL for replays */
    uint64_t flow_seed;    /* mixed into flow_id (0: the same capture gives the same ids) */
    /* --blind-ok: "all", or a comma list of host names; an undecryptable TLS/QUIC session to
     * one of them (or a subdomain) does not make the run inconclusive. NULL: every one does. */
    const char *blind_ok;
    bool color;            /* text: ANSI colour (a TTY without NO_COLOR) */
    /* Optional: the HTML report (--html), fed every wallet call, finding and node answer. */
    ww_report *report;
} ww_out_cfg;

typedef struct ww_out ww_out;
ww_out *ww_out_new(const ww_mem *mem, const ww_out_cfg *cfg);
void ww_out_alert(ww_out *o, const ww_ctx *ctx, const ww_alert *a);
void ww_out_wallet_call(ww_out *o, const ww_ctx *ctx, const ww_wallet_call *wc);
/* ctx NULL for --expect intents */
void ww_out_intent(ww_out *o, const ww_ctx *ctx, const ww_addr *a, const char *source);
void ww_out_anomaly(ww_out *o, const ww_ctx *ctx, const char *layer, const char *type,
                    const char *detail);
void ww_out_http(ww_out *o, const ww_ctx *ctx, const ww_http_msg *m);
/* The node's answer to a wallet call's JSON-RPC request (matched by id). */
void ww_out_rpc_result(ww_out *o, const ww_ctx *ctx, const char *method,
                       const ww_jsonrpc_resp *r);
/* Last event of a run; also the text summary. Fills st->blind and decides whether the run is
 * inconclusive (ww_out_inconclusive). */
void ww_out_stats(ww_out *o, uint64_t ts_us, ww_run_stats *st);
/* A stats event of the same shape in the middle of a run (--stats-interval): JSON lines only,
 * the verdict so far. */
void ww_out_stats_interval(ww_out *o, uint64_t ts_us, ww_run_stats *st);
/* NULL when the run saw what it needed; else "inconclusive: <reasons>" (valid until free). */
const char *ww_out_inconclusive(const ww_out *o);
/* EVE helpers: the 63-bit flow_id of a flow (a hash of its 5-tuple and start time with a
 * seed), and its Community ID v1 ("1:" + base64 SHA-1) into out (at least 34 bytes). */
uint64_t ww_out_flow_id(const ww_flow *f, bool udp, uint64_t seed);
const char *ww_community_id(const ww_flow *f, bool udp, uint16_t seed, char *out, size_t n);
/* Strict UTF-8 copy of src[0..len) into dst (NUL-terminated, at most n-1 bytes, never a cut
 * character): invalid bytes become U+FFFD, control characters '?' (tab kept). Returns the
 * length written. */
size_t ww_utf8_clean(char *dst, size_t n, const char *src, size_t len);
/* Flushes (and writes the JUnit report). Returns WW_OK or WW_E_IO when a write failed. */
int ww_out_finish(ww_out *o) WW_WUR;
/* Replaces the -o stream (SIGHUP log rotation) between events; the caller closes the old one
 * after this returns. */
void ww_out_set_jsonl(ww_out *o, FILE *jsonl);
/* Has any write failed so far (full disk, closed pipe)? */
bool ww_out_failed(const ww_out *o);
/* errno of the first failed write (ENOSPC, EPIPE...); 0 when none failed or unknown. */
int ww_out_errno(const ww_out *o);
void ww_out_free(ww_out *o);

/* ---- the HTML report (--html) ---- */
typedef struct ww_report ww_report;
ww_report *ww_report_new(void);
/* A wallet call (amount: "N wei", "N units of token 0x..." or ""; payee may be NULL). */
void ww_report_call(ww_report *r, const ww_ctx *ctx, const ww_wallet_call *wc,
                    const char *amount, const ww_addr *payee);
/* A finding; one about the wallet call last reported on its flow is shown under that call. */
void ww_report_alert(ww_report *r, const ww_ctx *ctx, const ww_alert *a);
/* The node's answer to a wallet call (matched by flow and JSON-RPC id). */
void ww_report_answer(ww_report *r, const ww_ctx *ctx, const char *method,
                      const ww_jsonrpc_resp *resp);
/* The run's counters and its first and last packet times (microseconds). */
void ww_report_stats(ww_report *r, const ww_run_stats *st, uint64_t first_ts, uint64_t last_ts);
/* The run's verdict when it could not see everything (ww_out_inconclusive); NULL: conclusive. */
void ww_report_inconclusive(ww_report *r, const char *reasons);
/* Writes one self-contained HTML page (title: what was read). WW_OK or WW_E_IO. */
int ww_report_write(const ww_report *r, FILE *f, const char *title) WW_WUR;
void ww_report_free(ww_report *r);

/* ---- --yara: users' own rules over served scripts (libyara) ---- */
typedef struct ww_yara ww_yara;
/*
 * Compiles the rules in path. Returns WW_OK; WW_E_IO when the file cannot be read, or
 * WW_E_INVALID when it does not compile (errbuf gives the first error with its line).
 */
int ww_yara_load(ww_yara **out, const char *path, char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
void ww_yara_free(ww_yara *y);

/* ---- CI baselines: accepted findings (detect/baseline.c) ---- */
/*
 * A baseline file lists findings a team accepted, one a line:
 *     RULE ADDRESS [host=HOSTNAME] [expires=YYYY-MM-DD] [REASON...]
 * RULE is an alert rule name or '*'; ADDRESS is any chain's address (normalized like the
 * DB) or '*' (with a host: every address of that rule from that host); host matches the
 * request's HTTP host or TLS SNI, case-insensitive; an entry whose expiry date has passed
 * (UTC, end of that day) is reported and not applied. '#' starts a comment line. A matching
 * alert is not written: it is counted (ww_detect_stats.suppressed).
 */
typedef struct ww_baseline ww_baseline;
#define WW_BASELINE_BAD_LINES_KEPT 8
typedef struct ww_baseline_report {
    size_t lines, entries, expired, bad;
    size_t bad_line_no[WW_BASELINE_BAD_LINES_KEPT];
} ww_baseline_report;
/* Parses text (now_unix: the time expiry is judged at). rep may be NULL. Returns WW_OK,
 * WW_E_NOMEM; bad lines are counted and skipped. *out is freed with ww_baseline_free. */
int ww_baseline_parse(ww_baseline **out, const ww_mem *mem, const char *text, size_t n,
                      int64_t now_unix, ww_baseline_report *rep) WW_WUR;
/* The same from a file; WW_E_IO (errbuf) when it cannot be read. */
int ww_baseline_load_file(ww_baseline **out, const ww_mem *mem, const char *path,
                          int64_t now_unix, ww_baseline_report *rep,
                          char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/* Does an alert of rule about a (NULL: none) raised on a request to host (NULL: unknown)
 * match an entry? *reason (may be NULL) gets the entry's reason ("" when none). */
bool ww_baseline_match(const ww_baseline *b, const char *rule, const ww_addr *a,
                       const char *host, const char **reason);
size_t ww_baseline_count(const ww_baseline *b);
void ww_baseline_free(ww_baseline *b);

/* ---- detection ---- */
typedef struct ww_detect_cfg {
    uint64_t window_us;        /* how long a served address stays expected (default 30 min) */
    double lookalike_min_bits; /* similarity beyond chance that makes a lookalike (default 30) */
    const ww_addrdb *db;       /* may be NULL */
    const ww_addr *expect;     /* --expect: addresses allowed for every client */
    size_t n_expect;
    size_t max_clients;        /* clients tracked (default 1,048,576); LRU beyond */
    size_t max_served;         /* addresses remembered per client (default 131072; rounded
                                  down to a power of two) */
    /* All detection state (clients, served addresses, indexes, pairs) together; the least
     * recently active browsers are evicted beyond it, each counted and reported as an
     * anomaly (default 256 MiB). A browser's state starts at a few hundred bytes and grows. */
    size_t max_bytes;
    /* lookalike-recipient against the nearest served address: at least min_end characters
     * matched at each end and min_total in all (defaults 2 and 7: Ambire's rule, which
     * catches 4+4 and 3+4 copies), or lookalike_min_bits of similarity against that one
     * address (a long match at one end). */
    unsigned lookalike_min_end, lookalike_min_total;
    /* two lookalikes served to one browser are recorded as a poisoned pair when their
     * similarity beyond chance, counting every address of that chain the browser was served,
     * reaches this (default 20 bits); at most max_pairs per browser (default 32). */
    double pair_min_bits;
    size_t max_pairs;
    /* canonical protocol contracts; NULL = the bundled registry (addrdb/registry.csv),
     * loaded by ww_detect_new, unless no_registry */
    const ww_registry *registry;
    bool no_registry;
    const ww_baseline *baseline; /* accepted findings; may be NULL */
    /* optional: told of each alert after the writer wrote it (ctx->flow: the flow it was
     * raised on, NULL for none). The engine sets it and fans alerts out to its subscribers. */
    void (*alert_raised)(void *ud, const ww_ctx *ctx, const ww_alert *a);
    void *alert_ud;
    ww_yara *yara;             /* --yara: rules run over every script served; NULL = none */
} ww_detect_cfg;

typedef struct ww_detect_stats {
    uint64_t intents, alerts, wallet_calls, anomalies;
    int worst;                 /* highest severity raised */
    uint64_t suppressed;       /* alerts matched by the baseline (not written) */
    uint64_t clients;          /* browsers tracked now */
    uint64_t clients_evicted;  /* browsers whose state was dropped (budget / max_clients) */
    uint64_t served_dropped;   /* served addresses overwritten (a browser over max_served) */
    uint64_t served_pairs;     /* poisoned pairs recorded (lookalikes served to one browser) */
    uint64_t index_capped;     /* nearest-address searches cut at the candidate cap */
    uint64_t mac_aliases;      /* IP addresses joined to another of the same host (MAC) */
    uint64_t clients_unseen;   /* browsers with connections open before the capture began */
    size_t state_bytes, state_peak_bytes; /* detection state now / at most */
} ww_detect_stats;

typedef struct ww_detect ww_detect;
ww_detect *ww_detect_new(const ww_mem *mem, const ww_detect_cfg *cfg, ww_out *out);
/* The sink to hand to ww_app_new. */
void ww_detect_sink(ww_detect *d, ww_decode_sink *sink);
/* Emits the --expect intents (once, before the first packet). */
void ww_detect_start(ww_detect *d);
const ww_detect_stats *ww_detect_stats_get(const ww_detect *d);
void ww_detect_free(ww_detect *d);
/*
 * Client identity: the capture shows ip sent from Ethernet address mac (a client-to-server
 * packet). A host's IPv4 and IPv6 addresses seen with one MAC are one browser from then on
 * (what one was served counts for the other). A MAC seen with more than one IPv4 address is
 * a router's, and joins nothing.
 */
void ww_detect_learn_mac(ww_detect *d, const uint8_t mac[6], const ww_ip *ip, uint64_t ts_us);
/* Is this browser's served set known to have holes (its state was evicted, it was served
 * more than max_served addresses, bytes on their way to it were lost in a flow that carried
 * HTTP or TLS: a tcp "gap" anomaly, or its earlier traffic is unseen) that still matter at
 * the latest packet time seen (what was lost would still be within the window)? A payee
 * judged against it is not a high finding. */
bool ww_detect_client_incomplete(const ww_detect *d, const ww_ip *ip);
/* A connection of browser ip was picked up mid-stream at ts_us: it had traffic before the
 * capture saw it. At the capture's start (capture_start), or for a browser detection has no
 * state of, that traffic is unseen: what the browser was served then is unknown until
 * ts_us + window (its served set is incomplete, as after an eviction: a payee judged against
 * it is at most medium, and that call is counted unchecked: a `detect` `history-unseen`
 * anomaly, blind.history_unseen). Later, for a browser it knows (a flow that timed out and
 * came back), nothing. */
void ww_detect_history_unseen(ww_detect *d, const ww_ip *ip, uint64_t ts_us, bool capture_start);
/* Feeds an address served with a provenance (what the sink's served_prov does). */
void ww_detect_served(ww_detect *d, const ww_ctx *ctx, const ww_addr *a, int prov);
/* A hint, no effect on what detection does, for a run a[0..n) of addresses served with ctx
 * that is being fed one by one: call it before feeding a[i]. It prefetches, for ctx's browser,
 * the index slot of a[i + 15] and the entry the slot of a[i + 7] names (at i == 0 those of
 * the first 16 and 8), so that a run waits on memory about once, not once per address. */
void ww_detect_prefetch_run(ww_detect *d, const ww_ctx *ctx, const ww_addr *a, size_t n,
                            size_t i);

/*
 * Similarity of two normalized addresses of one chain: matched leading and trailing
 * characters after each one's fixed part (ww_addr_fixed_len: "0x", "bc1q", "bitcoincash:q",
 * a base58 version character; case-insensitive for hex) and the bits of that match beyond
 * chance when n_compared addresses were compared (ww_similarity_bits). Two addresses whose
 * fixed parts differ (a P2PKH and a bech32 address) match nothing.
 */
void ww_similarity(const ww_addr *a, const ww_addr *b, size_t n_compared, unsigned *prefix,
                   unsigned *suffix, double *bits);
/* -log2 of the chance that one of n_compared random addresses matches m = prefix + suffix
 * characters of an alphabet of 2^bits_per_char: m bits_per_char - log2(1 + m (1 - 2^-bpc))
 * - log2(n_compared). EVM 4+4 against one address: 28.9 bits. */
double ww_similarity_bits(unsigned m, double bits_per_char, size_t n_compared);

#endif /* WW_DETECT_H */
