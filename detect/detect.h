/*
 * detect.h - what each browser was served, the alert rules, and the output writers.
 *
 * Detection reads the facts decode/ hands over (ww_decode_sink): addresses served to a
 * client, wallet calls, anomalies. It never parses bytes. Rules (SPEC.md "Alert rules"):
 * known-attacker, lookalike-recipient, unrequested-recipient, unlimited-approval,
 * bad-checksum (drainer-script and authority-change come with their decoders).
 */
#ifndef WW_DETECT_H
#define WW_DETECT_H

#include "addrdb/addrdb.h"
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
} ww_alert;

typedef struct ww_run_stats {
    uint64_t packets, bytes, flows, tls_sessions, tls_decrypted, tls_undecryptable,
        http_messages, rpc_calls, wallet_calls, intents, alerts, anomalies, drops;
} ww_run_stats;

/* ---- output ---- */
enum ww_out_format { WW_FMT_TEXT = 0, WW_FMT_JSONL, WW_FMT_JUNIT };

typedef struct ww_out_cfg {
    FILE *jsonl;      /* -o: every event as JSON lines; NULL = none */
    FILE *console;    /* standard output; NULL = none */
    int format;       /* what goes to console */
    bool log_http;    /* emit "http" events (one per HTTP message) */
    int verbose;      /* text: -v also prints wallet calls and anomalies */
    bool quiet;       /* text: alerts only, no summary */
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
/* Last event of a run; also the text summary. */
void ww_out_stats(ww_out *o, uint64_t ts_us, const ww_run_stats *st);
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
void ww_report_alert(ww_report *r, const ww_ctx *ctx, const ww_alert *a);
/* The run's counters and its first and last packet times (microseconds). */
void ww_report_stats(ww_report *r, const ww_run_stats *st, uint64_t first_ts, uint64_t last_ts);
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

/* ---- detection ---- */
typedef struct ww_detect_cfg {
    uint64_t window_us;        /* how long a served address stays expected (default 30 min) */
    double lookalike_min_bits; /* similarity beyond chance that makes a lookalike (default 30) */
    const ww_addrdb *db;       /* may be NULL */
    const ww_addr *expect;     /* --expect: addresses allowed for every client */
    size_t n_expect;
    size_t max_clients;        /* clients tracked (default 4096) */
    size_t max_served;         /* addresses remembered per client (default 65536) */
    /* optional: told of each alert after the writer wrote it (ctx->flow: the flow it was
     * raised on, NULL for none). The engine sets it and fans alerts out to its subscribers. */
    void (*alert_raised)(void *ud, const ww_ctx *ctx, const ww_alert *a);
    void *alert_ud;
    ww_yara *yara;             /* --yara: rules run over every script served; NULL = none */
} ww_detect_cfg;

typedef struct ww_detect_stats {
    uint64_t intents, alerts, wallet_calls, anomalies;
    int worst;                 /* highest severity raised */
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
