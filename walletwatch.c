/*
 * walletwatch.c - the command line (SPEC.md "Command line"): replay captures through
 * capture -> decode -> detect and write events; `addrdb` and `decode` subcommands.
 *
 * Exit codes: 0 finished without an alert at or above --fail-on; 1 such alerts were raised;
 * 2 usage error or input that cannot be read at all.
 */
#include "addrdb/addrdb.h"
#include "capture/capture.h"
#include "decode/decode.h"
#include "detect/detect.h"

#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>

#define EXIT_OK 0
#define EXIT_ALERT 1
#define EXIT_USAGE 2

#define MAX_INPUTS 256

typedef struct opts {
    const char *inputs[MAX_INPUTS];
    size_t n_inputs;
    const char *iface;
    const char *filter;
    const char *keylogs[64];
    size_t n_keylogs;
    const char *dbs[64];
    size_t n_dbs;
    bool no_default_db;
    const char *expect;
    const char *out_path;
    int format;
    const char *html;
    const char *evidence;
    uint64_t window_us;
    int fail_on;
    int verbose;
    bool quiet;
    bool log_http;
    double lookalike_bits;
} opts;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: walletwatch [OPTIONS] -r FILE       replay a pcap or pcapng file ('-' = stdin)\n"
            "       walletwatch [OPTIONS] -i IFACE      capture live\n"
            "       walletwatch addrdb build FEED... -o FILE | lookup [--db FILE] ADDR... | stats [--db FILE]\n"
            "       walletwatch decode [--chain evm|solana] DATA\n"
            "\n"
            "options:\n"
            "  -r FILE               read a capture; repeatable (one timeline, in the order given)\n"
            "  -i IFACE              live capture\n"
            "  -f EXPR               BPF filter, as tcpdump\n"
            "  -k, --keylog FILE     NSS key log (SSLKEYLOGFILE) for TLS; repeatable\n"
            "  --db FILE             attacker address feed (list, CSV, JSON array); repeatable\n"
            "  --no-default-db       leave the bundled attacker DB out\n"
            "  --expect FILE         addresses this session may pay/approve (one per line)\n"
            "  -o FILE               write JSON-lines events ('-' = standard output)\n"
            "  --format text|jsonl|junit   what goes to standard output (default text)\n"
            "  --log-http            also emit an 'http' event per HTTP message (-o/jsonl)\n"
            "  --window DURATION     how long a served address stays expected (default 30m)\n"
            "  --lookalike-bits N    similarity beyond chance that makes a lookalike (default 30)\n"
            "  --fail-on SEVERITY    exit 1 on alerts at or above it (default high; 'none' never)\n"
            "  -q, -v                quieter, more verbose (never prints key material)\n"
            "  --version, --help\n"
            "\n"
            "exit status: 0 no alert at or above --fail-on, 1 such alerts, 2 usage or unreadable input\n");
}

static bool parse_duration(const char *s, uint64_t *us)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0)
        return false;
    double mult = 1e6;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mult = 1e6;
    else if (strcmp(end, "ms") == 0)
        mult = 1e3;
    else if (strcmp(end, "m") == 0)
        mult = 60e6;
    else if (strcmp(end, "h") == 0)
        mult = 3600e6;
    else if (strcmp(end, "d") == 0)
        mult = 86400e6;
    else
        return false;
    double r = v * mult;
    if (r > 1e18)
        return false;
    *us = (uint64_t)r;
    return true;
}

/* ---- BPF on replayed packets ---- */
typedef struct bpf_cache {
    const char *expr;
    int linktype[8];
    struct bpf_program prog[8];
    size_t n;
} bpf_cache;

static int bpf_get(bpf_cache *bc, int linktype, struct bpf_program **out, char *err, size_t errn)
{
    for (size_t i = 0; i < bc->n; i++) {
        if (bc->linktype[i] == linktype) {
            *out = &bc->prog[i];
            return 0;
        }
    }
    if (bc->n == WW_ARRAY_LEN(bc->prog)) {
        snprintf(err, errn, "too many link types for the filter");
        return -1;
    }
    pcap_t *dead = pcap_open_dead(linktype, 262144);
    if (dead == NULL) {
        snprintf(err, errn, "cannot compile the filter for link type %d", linktype);
        return -1;
    }
    if (pcap_compile(dead, &bc->prog[bc->n], bc->expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errn, "bad filter '%s': %s", bc->expr, pcap_geterr(dead));
        pcap_close(dead);
        return -1;
    }
    pcap_close(dead);
    bc->linktype[bc->n] = linktype;
    *out = &bc->prog[bc->n++];
    return 0;
}

static void bpf_free(bpf_cache *bc)
{
    for (size_t i = 0; i < bc->n; i++)
        pcap_freecode(&bc->prog[i]);
}

/* ---- secrets from pcapng DSBs ---- */
static void on_secrets(void *ud, uint32_t type, const uint8_t *data, size_t len)
{
    ww_keylog *kl = ud;
    if (type == 0x544c534bU) /* TLSK */
        ww_keylog_add_text(kl, data, len);
}

/* ---- --expect ---- */
static int load_expect(const char *path, ww_addr **out, size_t *n)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t cap = 0, line_no = 0;
    if (f == NULL) {
        fprintf(stderr, "walletwatch: --expect %s: %s\n", path, strerror(errno));
        return -1;
    }
    *out = NULL;
    *n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        size_t l = strlen(line);
        line_no++;
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        /* "chain,address" or "address" */
        int chain = WW_CHAIN_NONE;
        char *comma = strchr(s, ',');
        if (comma != NULL) {
            chain = ww_chain_from_name(s, (size_t)(comma - s));
            s = comma + 1;
        }
        ww_addr a;
        if (ww_addr_parse(&a, chain, s, strlen(s)) != WW_OK) {
            fprintf(stderr, "walletwatch: --expect %s:%zu: not an address: %s\n", path, line_no,
                    s);
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            ww_addr *na = realloc(*out, cap * sizeof(ww_addr));
            if (na == NULL) {
                fclose(f);
                return -1;
            }
            *out = na;
        }
        (*out)[(*n)++] = a;
    }
    fclose(f);
    return 0;
}

/* ---- addrdb subcommand ---- */
static int load_dbs(ww_addrdb *db, const char **paths, size_t n, bool no_default)
{
    char errbuf[WW_ERRBUF_SIZE];
    if (!no_default && ww_addrdb_load_bundled(db) < 0) {
        fprintf(stderr, "walletwatch: cannot load the bundled attacker DB\n");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        ww_addrdb_report rep;
        if (ww_addrdb_load_file(db, paths[i], &rep, errbuf) != WW_OK) {
            fprintf(stderr, "walletwatch: --db %s\n", errbuf);
            return -1;
        }
        if (rep.bad > 0) {
            fprintf(stderr, "walletwatch: %s: %zu bad lines skipped (line", paths[i], rep.bad);
            for (size_t k = 0; k < WW_MIN(rep.bad, (size_t)WW_ADDRDB_BAD_LINES_KEPT); k++)
                fprintf(stderr, " %zu", rep.bad_line_no[k]);
            fprintf(stderr, "%s)\n", rep.bad > WW_ADDRDB_BAD_LINES_KEPT ? " ..." : "");
        }
    }
    return 0;
}

typedef struct csv_ctx {
    FILE *f;
    bool failed;
} csv_ctx;

static void write_entry(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    csv_ctx *c = ud;
    if (fprintf(c->f, "%s,%s,%s,%s\n", ww_chain_name(a->chain), a->text, e->label, e->source) < 0)
        c->failed = true;
}

static void print_source(void *ud, const char *source, int chain, size_t count)
{
    (void)ud;
    printf("  %-12s %8zu  %s\n", ww_chain_name(chain), count, source[0] ? source : "(none)");
}

static int cmd_addrdb(int argc, char **argv)
{
    const char *dbs[64];
    size_t n_dbs = 0;
    const char *out = NULL;
    bool no_default = false;
    const char *args[4096];
    size_t n_args = 0;
    int rc = EXIT_OK;

    if (argc < 2) {
        fprintf(stderr, "walletwatch addrdb: build, lookup or stats (see --help)\n");
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc && n_dbs < 64)
            dbs[n_dbs++] = argv[++i];
        else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--no-default-db") == 0)
            no_default = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "walletwatch addrdb: unknown option %s\n", argv[i]);
            return EXIT_USAGE;
        } else if (n_args < WW_ARRAY_LEN(args))
            args[n_args++] = argv[i];
    }
    ww_addrdb *db = ww_addrdb_new(NULL);
    if (db == NULL)
        return EXIT_USAGE;
    if (strcmp(sub, "build") == 0) {
        if (out == NULL || n_args == 0) {
            fprintf(stderr, "usage: walletwatch addrdb build FEED... -o FILE\n");
            ww_addrdb_free(db);
            return EXIT_USAGE;
        }
        if (load_dbs(db, args, n_args, true) != 0) {
            ww_addrdb_free(db);
            return EXIT_USAGE;
        }
        FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
        if (f == NULL) {
            fprintf(stderr, "walletwatch addrdb: %s: %s\n", out, strerror(errno));
            ww_addrdb_free(db);
            return EXIT_USAGE;
        }
        csv_ctx c = {f, false};
        fprintf(f, "# walletwatch address DB (normalized, deduplicated)\nchain,address,label,source\n");
        ww_addrdb_each(db, write_entry, &c);
        if (f != stdout && fclose(f) != 0)
            c.failed = true;
        if (c.failed) {
            fprintf(stderr, "walletwatch addrdb: %s: write failed\n", out);
            rc = EXIT_USAGE;
        } else {
            fprintf(stderr, "walletwatch addrdb: %zu entries written to %s\n",
                    ww_addrdb_count(db, WW_CHAIN_NONE), out);
        }
    } else if (strcmp(sub, "lookup") == 0) {
        if (n_args == 0) {
            fprintf(stderr, "usage: walletwatch addrdb lookup [--db FILE] ADDR...\n");
            ww_addrdb_free(db);
            return EXIT_USAGE;
        }
        if (load_dbs(db, dbs, n_dbs, no_default) != 0) {
            ww_addrdb_free(db);
            return EXIT_USAGE;
        }
        for (size_t i = 0; i < n_args; i++) {
            ww_addr a;
            if (ww_addrdb_addr(&a, WW_CHAIN_NONE, args[i], strlen(args[i])) != WW_OK &&
                ww_addrdb_addr(&a, WW_CHAIN_SOLANA, args[i], strlen(args[i])) != WW_OK) {
                printf("%s not an address\n", args[i]);
                rc = EXIT_ALERT;
                continue;
            }
            const ww_addrdb_entry *e = ww_addrdb_lookup(db, &a);
            if (e != NULL) {
                printf("%s listed %s (%s)\n", a.text, e->label[0] ? e->label : "-", e->source);
            } else {
                printf("%s not listed\n", a.text);
                rc = EXIT_ALERT;
            }
        }
    } else if (strcmp(sub, "stats") == 0) {
        if (load_dbs(db, dbs, n_dbs, no_default) != 0) {
            ww_addrdb_free(db);
            return EXIT_USAGE;
        }
        printf("entries: %zu\n", ww_addrdb_count(db, WW_CHAIN_NONE));
        for (int c = 1; c < WW_CHAIN_COUNT; c++)
            printf("  %-12s %8zu\n", ww_chain_name(c), ww_addrdb_count(db, c));
        printf("by source:\n");
        ww_addrdb_each_source(db, print_source, NULL);
    } else {
        fprintf(stderr, "walletwatch addrdb: unknown subcommand '%s'\n", sub);
        rc = EXIT_USAGE;
    }
    ww_addrdb_free(db);
    return rc;
}

/* ---- decode subcommand ---- */
static void decode_anomaly(void *ud, const char *layer, const char *type, const char *detail)
{
    (void)ud;
    fprintf(stderr, "walletwatch decode: %s/%s: %s\n", layer, type, detail ? detail : "");
}

static int cmd_decode(int argc, char **argv)
{
    const char *data = NULL;
    int chain = WW_CHAIN_EVM;
    ww_buf in;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chain") == 0 && i + 1 < argc) {
            chain = ww_chain_from_name(argv[i + 1], strlen(argv[i + 1]));
            i++;
        } else {
            data = argv[i];
        }
    }
    if (data == NULL || chain == WW_CHAIN_NONE) {
        fprintf(stderr, "usage: walletwatch decode [--chain evm|solana] DATA ('-' = stdin)\n");
        return EXIT_USAGE;
    }
    ww_buf_init(&in, NULL, 16u << 20);
    if (strcmp(data, "-") == 0) {
        char chunk[65536];
        size_t r;
        while ((r = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
            if (ww_buf_append(&in, chunk, r) != WW_OK) {
                fprintf(stderr, "walletwatch decode: input too large\n");
                ww_buf_free(&in);
                return EXIT_USAGE;
            }
        }
    } else if (ww_buf_append(&in, data, strlen(data)) != WW_OK) {
        ww_buf_free(&in);
        return EXIT_USAGE;
    }
    /* trim */
    size_t s = 0, e = in.len;
    while (s < e && (in.data[s] == ' ' || in.data[s] == '\n' || in.data[s] == '\r' || in.data[s] == '\t'))
        s++;
    while (e > s && (in.data[e - 1] == ' ' || in.data[e - 1] == '\n' || in.data[e - 1] == '\r' || in.data[e - 1] == '\t'))
        e--;
    const uint8_t *p = in.data ? in.data + s : (const uint8_t *)"";
    size_t n = e - s;
    ww_buf body;
    ww_buf_init(&body, NULL, 32u << 20);
    if (n > 0 && (p[0] == '{' || p[0] == '[')) {
        if (ww_buf_append(&body, p, n) != WW_OK) {
            ww_buf_free(&in);
            return EXIT_USAGE;
        }
    } else if (chain == WW_CHAIN_SOLANA) {
        /* a bare serialized Solana transaction (or message), base58 or base64: wrapped as a
         * wallet-standard {"transaction": ...} payload (tried as base58, then base64) */
        for (size_t k = 0; k < n; k++) {
            unsigned char ch = p[k];
            if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  ch == '+' || ch == '/' || ch == '=' || ch == '-' || ch == '_')) {
                fprintf(stderr, "walletwatch decode: --chain solana DATA must be base58 or base64\n");
                ww_buf_free(&in);
                ww_buf_free(&body);
                return EXIT_USAGE;
            }
        }
        if (ww_buf_append(&body, "{\"transaction\":\"", 16) != WW_OK ||
            ww_buf_append(&body, p, n) != WW_OK || ww_buf_append(&body, "\"}", 2) != WW_OK) {
            ww_buf_free(&in);
            ww_buf_free(&body);
            return EXIT_USAGE;
        }
    } else {
        /* a raw transaction: wrap it as eth_sendRawTransaction */
        char pre[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"eth_sendRawTransaction\",\"params\":[\"";
        char post[] = "\"]}";
        bool has0x = n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
        if (ww_buf_append(&body, pre, strlen(pre)) != WW_OK ||
            (!has0x && ww_buf_append(&body, "0x", 2) != WW_OK) ||
            ww_buf_append(&body, p, n) != WW_OK || ww_buf_append(&body, post, strlen(post)) != WW_OK) {
            ww_buf_free(&in);
            ww_buf_free(&body);
            return EXIT_USAGE;
        }
    }
    ww_buf_free(&in);

    ww_wallet_call calls[64];
    size_t num = WW_ARRAY_LEN(calls);
    int rc = ww_jsonrpc_decode_request(calls, &num, body.data, body.len, 64, decode_anomaly, NULL);
    ww_buf_free(&body);
    if (rc < 0) {
        fprintf(stderr, "walletwatch decode: %s\n", ww_strerror(rc));
        return EXIT_USAGE;
    }
    ww_out_cfg oc = {0};
    oc.jsonl = stdout;
    oc.format = WW_FMT_JSONL;
    ww_out *o = ww_out_new(NULL, &oc);
    if (o == NULL)
        return EXIT_USAGE;
    ww_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    for (size_t i = 0; i < num; i++)
        ww_out_wallet_call(o, &ctx, &calls[i]);
    int frc = ww_out_finish(o);
    ww_out_free(o);
    if (num == 0) {
        fprintf(stderr, "walletwatch decode: no wallet call could be decoded from the input\n");
        return EXIT_USAGE;
    }
    return frc == WW_OK ? EXIT_OK : EXIT_USAGE;
}

/* ---- the replay ---- */

typedef struct run {
    ww_pktdec *pd;
    ww_tcp *tcp;
    ww_app *app;
    uint64_t last_ts;
    uint64_t filtered;
} run;

static int replay(run *r, ww_source *src, const char *path, bpf_cache *bpf)
{
    ww_pkt pkt;
    ww_seg seg;
    char errbuf[WW_ERRBUF_SIZE];
    int rc;

    while (!stop_requested && (rc = ww_source_next(src, &pkt, errbuf)) == 1) {
        if (bpf != NULL && bpf->expr != NULL) {
            struct bpf_program *prog;
            char err[512];
            if (bpf_get(bpf, pkt.linktype, &prog, err, sizeof err) != 0) {
                fprintf(stderr, "walletwatch: %s\n", err);
                return -2;
            }
            struct pcap_pkthdr h;
            h.ts.tv_sec = (time_t)(pkt.ts_us / 1000000);
            h.ts.tv_usec = (suseconds_t)(pkt.ts_us % 1000000);
            h.caplen = pkt.caplen;
            h.len = pkt.len;
            if (pcap_offline_filter(prog, &h, pkt.data) == 0) {
                r->filtered++;
                continue;
            }
        }
        if (pkt.ts_us > r->last_ts)
            r->last_ts = pkt.ts_us;
        if (ww_pktdec_decode(r->pd, &pkt, &seg) == 1)
            ww_tcp_segment(r->tcp, &seg);
        ww_tcp_tick(r->tcp, r->last_ts);
    }
    if (stop_requested)
        return 0;
    if (rc == WW_E_TRUNC || rc == WW_E_INVALID) {
        fprintf(stderr, "walletwatch: warning: %s: %s\n", path, errbuf);
        ww_app_on_anomaly(r->app, r->last_ts, NULL, "pcap",
                          rc == WW_E_TRUNC ? "truncated-file" : "corrupt-file", errbuf);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "walletwatch: %s: %s\n", path, errbuf);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    char errbuf[WW_ERRBUF_SIZE];
    int exit_code = EXIT_OK;

    if (argc > 1 && strcmp(argv[1], "addrdb") == 0)
        return cmd_addrdb(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "decode") == 0)
        return cmd_decode(argc - 1, argv + 1);

    memset(&o, 0, sizeof o);
    o.window_us = 30ULL * 60 * 1000000;
    o.fail_on = WW_SEV_HIGH;
    o.format = WW_FMT_TEXT;

    enum {
        OPT_DB = 256, OPT_NO_DEFAULT_DB, OPT_EXPECT, OPT_FORMAT, OPT_HTML, OPT_WINDOW,
        OPT_FAIL_ON, OPT_VERSION, OPT_HELP, OPT_LOG_HTTP, OPT_LOOKALIKE_BITS
    };
    static const struct option longopts[] = {
        {"keylog", required_argument, NULL, 'k'},
        {"db", required_argument, NULL, OPT_DB},
        {"no-default-db", no_argument, NULL, OPT_NO_DEFAULT_DB},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"html", required_argument, NULL, OPT_HTML},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"log-http", no_argument, NULL, OPT_LOG_HTTP},
        {"lookalike-bits", required_argument, NULL, OPT_LOOKALIKE_BITS},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "r:i:f:k:o:w:qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (o.n_inputs == MAX_INPUTS) {
                fprintf(stderr, "walletwatch: too many -r files\n");
                return EXIT_USAGE;
            }
            o.inputs[o.n_inputs++] = optarg;
            break;
        case 'i':
            o.iface = optarg;
            break;
        case 'f':
            o.filter = optarg;
            break;
        case 'k':
            if (o.n_keylogs == WW_ARRAY_LEN(o.keylogs))
                return EXIT_USAGE;
            o.keylogs[o.n_keylogs++] = optarg;
            break;
        case OPT_DB:
            if (o.n_dbs == WW_ARRAY_LEN(o.dbs))
                return EXIT_USAGE;
            o.dbs[o.n_dbs++] = optarg;
            break;
        case OPT_NO_DEFAULT_DB:
            o.no_default_db = true;
            break;
        case OPT_EXPECT:
            o.expect = optarg;
            break;
        case 'o':
            o.out_path = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0)
                o.format = WW_FMT_TEXT;
            else if (strcmp(optarg, "jsonl") == 0)
                o.format = WW_FMT_JSONL;
            else if (strcmp(optarg, "junit") == 0)
                o.format = WW_FMT_JUNIT;
            else {
                fprintf(stderr, "walletwatch: --format: text, jsonl or junit\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_HTML:
            o.html = optarg;
            break;
        case 'w':
            o.evidence = optarg;
            break;
        case OPT_WINDOW:
            if (!parse_duration(optarg, &o.window_us) || o.window_us == 0) {
                fprintf(stderr, "walletwatch: --window: a duration such as 90s, 30m, 2h\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_FAIL_ON: {
            bool ok;
            o.fail_on = ww_severity_from_name(optarg, &ok);
            if (!ok) {
                fprintf(stderr,
                        "walletwatch: --fail-on: critical, high, medium, low, info or none\n");
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_LOG_HTTP:
            o.log_http = true;
            break;
        case OPT_LOOKALIKE_BITS: {
            char *end;
            o.lookalike_bits = strtod(optarg, &end);
            if (*end != '\0' || o.lookalike_bits <= 0 || o.lookalike_bits > 256) {
                fprintf(stderr, "walletwatch: --lookalike-bits: a number of bits, e.g. 30\n");
                return EXIT_USAGE;
            }
            break;
        }
        case 'q':
            o.quiet = true;
            break;
        case 'v':
            o.verbose++;
            break;
        case OPT_VERSION:
            printf("walletwatch %s\n", WW_VERSION);
            return EXIT_OK;
        case 'h':
        case OPT_HELP:
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "walletwatch: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (o.iface != NULL) {
        fprintf(stderr, "walletwatch: live capture (-i) is not available in this version yet; "
                        "record with tcpdump -w and replay with -r\n");
        return EXIT_USAGE;
    }
    if (o.n_inputs == 0) {
        fprintf(stderr, "walletwatch: nothing to read: give -r FILE (or -i IFACE)\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (o.html != NULL || o.evidence != NULL) {
        fprintf(stderr, "walletwatch: %s is not available in this version yet\n",
                o.html != NULL ? "--html" : "-w");
        return EXIT_USAGE;
    }

    /* Everything that can be checked before the first packet is checked here: exit 2.
     * Every error path goes through `done`, which frees whatever was made. */
    bpf_cache bpf = {0};
    ww_source *srcs[MAX_INPUTS];
    size_t n_open = 0;
    ww_keylog *kl = NULL;
    ww_addrdb *db = NULL;
    ww_addr *expect = NULL;
    size_t n_expect = 0;
    FILE *jsonl = NULL;
    ww_out *out = NULL;
    ww_detect *det = NULL;
    run r;
    memset(&r, 0, sizeof r);

    bpf.expr = o.filter;
    if (o.filter != NULL) {
        struct bpf_program *prog;
        char err[512];
        if (bpf_get(&bpf, WW_LINK_ETHERNET, &prog, err, sizeof err) != 0) {
            fprintf(stderr, "walletwatch: %s\n", err);
            exit_code = EXIT_USAGE;
            goto done;
        }
    }
    size_t stdin_uses = 0;
    for (size_t i = 0; i < o.n_inputs; i++) {
        if (strcmp(o.inputs[i], "-") == 0 && ++stdin_uses > 1) {
            fprintf(stderr, "walletwatch: standard input can be read only once\n");
            exit_code = EXIT_USAGE;
            goto done;
        }
        if (ww_source_open_file(&srcs[i], o.inputs[i], errbuf) != WW_OK) {
            fprintf(stderr, "walletwatch: %s\n", errbuf);
            exit_code = EXIT_USAGE;
            goto done;
        }
        n_open = i + 1;
    }
    kl = ww_keylog_new(NULL);
    for (size_t i = 0; kl != NULL && i < o.n_keylogs; i++) {
        if (ww_keylog_load_file(kl, o.keylogs[i], errbuf) != WW_OK) {
            fprintf(stderr, "walletwatch: key log: %s\n", errbuf);
            exit_code = EXIT_USAGE;
            goto done;
        }
    }
    if (kl != NULL && ww_keylog_bad_lines(kl) > 0 && !o.quiet)
        fprintf(stderr, "walletwatch: key log: %zu malformed lines skipped\n",
                ww_keylog_bad_lines(kl));
    db = ww_addrdb_new(NULL);
    if (db == NULL || load_dbs(db, o.dbs, o.n_dbs, o.no_default_db) != 0 ||
        (o.expect != NULL && load_expect(o.expect, &expect, &n_expect) != 0)) {
        exit_code = EXIT_USAGE;
        goto done;
    }
    if (o.out_path != NULL) {
        jsonl = strcmp(o.out_path, "-") == 0 ? stdout : fopen(o.out_path, "w");
        if (jsonl == NULL) {
            fprintf(stderr, "walletwatch: -o %s: %s\n", o.out_path, strerror(errno));
            exit_code = EXIT_USAGE;
            goto done;
        }
    }

    ww_out_cfg oc = {0};
    oc.jsonl = jsonl;
    oc.console = (jsonl == stdout && o.format == WW_FMT_JSONL) ? NULL : stdout;
    oc.format = o.format;
    oc.log_http = o.log_http;
    oc.verbose = o.verbose;
    oc.quiet = o.quiet;
    out = ww_out_new(NULL, &oc);

    ww_detect_cfg dc = {0};
    dc.window_us = o.window_us;
    dc.lookalike_min_bits = o.lookalike_bits;
    dc.db = db;
    dc.expect = expect;
    dc.n_expect = n_expect;
    det = out ? ww_detect_new(NULL, &dc, out) : NULL;
    ww_decode_sink sink;
    memset(&sink, 0, sizeof sink);
    if (det != NULL)
        ww_detect_sink(det, &sink);

    ww_app_cfg ac = {0};
    ac.hash_bodies = o.log_http;
    r.app = det ? ww_app_new(NULL, &ac, &sink, kl) : NULL;
    ww_stream_cbs cbs = {r.app, ww_app_on_open, ww_app_on_data, ww_app_on_gap, ww_app_on_close,
                         ww_app_on_anomaly};
    r.pd = r.app ? ww_pktdec_new(NULL, NULL, ww_app_on_anomaly, r.app) : NULL;
    r.tcp = r.pd ? ww_tcp_new(NULL, NULL, &cbs) : NULL;
    if (r.tcp == NULL) {
        fprintf(stderr, "walletwatch: out of memory\n");
        exit_code = EXIT_USAGE;
        goto done;
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    ww_detect_start(det);
    for (size_t i = 0; i < o.n_inputs; i++) {
        if (kl != NULL)
            ww_source_set_secrets_fn(srcs[i], on_secrets, kl);
        int rc = replay(&r, srcs[i], o.inputs[i], &bpf);
        if (rc == -2) {
            exit_code = EXIT_USAGE;
            break;
        }
        if (rc < 0)
            exit_code = EXIT_USAGE;
    }
    ww_tcp_finish(r.tcp, r.last_ts);

    ww_run_stats st;
    memset(&st, 0, sizeof st);
    const ww_pktdec_stats *ps = ww_pktdec_stats_get(r.pd);
    const ww_tcp_stats *ts = ww_tcp_stats_get(r.tcp);
    const ww_app_stats *as = ww_app_stats_get(r.app);
    const ww_detect_stats *ds = ww_detect_stats_get(det);
    st.packets = ps->packets;
    st.bytes = ps->bytes;
    st.flows = ts->flows;
    st.tls_sessions = as->tls_sessions;
    st.tls_decrypted = as->tls_decrypted;
    st.tls_undecryptable = as->tls_undecryptable;
    st.http_messages = as->http_messages;
    st.rpc_calls = as->rpc_calls;
    st.wallet_calls = ds->wallet_calls;
    st.intents = ds->intents;
    st.alerts = ds->alerts;
    st.anomalies = ds->anomalies;
    for (size_t i = 0; i < o.n_inputs; i++)
        st.drops += ww_source_drops(srcs[i]);
    ww_out_stats(out, r.last_ts, &st);
    if (ww_out_finish(out) != WW_OK || ww_out_failed(out)) {
        fprintf(stderr, "walletwatch: writing output failed (%s)\n",
                o.out_path ? o.out_path : "standard output");
        exit_code = EXIT_USAGE;
    }
    if (exit_code == EXIT_OK && o.fail_on != WW_SEV_NONE && ds->worst >= o.fail_on)
        exit_code = EXIT_ALERT;

done:
    for (size_t i = 0; i < n_open; i++)
        ww_source_free(srcs[i]);
    if (r.tcp != NULL)
        ww_tcp_free(r.tcp);
    if (r.pd != NULL)
        ww_pktdec_free(r.pd);
    ww_app_free(r.app);
    ww_detect_free(det);
    ww_out_free(out);
    if (jsonl != NULL && jsonl != stdout)
        fclose(jsonl);
    ww_addrdb_free(db);
    if (kl != NULL)
        ww_keylog_free(kl);
    free(expect);
    bpf_free(&bpf);
    return exit_code;
}
