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
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
    bool evidence_secrets;
    uint32_t snaplen;
    uint32_t buffer_kib;
    bool no_promisc;
    const char *user;
    uint64_t window_us;
    int fail_on;
    int verbose;
    bool quiet;
    bool log_http;
    const char *yara;
    double lookalike_bits;
} opts;

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t hup_requested;
static ww_source *volatile live_src; /* for pcap_breakloop from the signal handler */

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        hup_requested = 1;
        return;
    }
    stop_requested = 1;
    ww_source_interrupt(); /* a file source blocked on an idle pipe returns at once */
    if (live_src != NULL)
        ww_source_breakloop(live_src);
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
            "  -i IFACE              live capture ('any', 'lo', a mirror port)\n"
            "  -f EXPR               BPF filter, as tcpdump\n"
            "  -B KIB                live: kernel capture buffer in KiB, as tcpdump\n"
            "  -s SNAPLEN            live: bytes kept per packet (default 262144)\n"
            "  -p                    live: do not put the interface in promiscuous mode\n"
            "  -Z USER               live: drop privileges to USER once the interface is open\n"
            "  -k, --keylog FILE     NSS key log (SSLKEYLOGFILE) for TLS; repeatable\n"
            "  --db FILE             attacker address feed (list, CSV, JSON array); repeatable\n"
            "  --no-default-db       leave the bundled attacker DB out\n"
            "  --expect FILE         addresses this session may pay/approve (one per line)\n"
            "  -o FILE               write JSON-lines events ('-' = standard output); SIGHUP reopens it\n"
            "  -w FILE               write the packets of flagged flows as pcapng evidence\n"
            "  --evidence-secrets    embed the TLS key log in the -w file (it then holds secrets)\n"
            "  --format text|jsonl|junit   what goes to standard output (default text)\n"
            "  --log-http            also emit an 'http' event per HTTP message (-o/jsonl)\n"
            "  --window DURATION     how long a served address stays expected (default 30m)\n"
            "  --lookalike-bits N    similarity beyond chance that makes a lookalike (default 30)\n"
            "  --yara RULES          run these YARA rules over every script served to a browser\n"
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

/* ---- addrdb subcommand: addrdb/cli.c ---- */

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

typedef struct kl_follow {
    const char *path;
    dev_t dev;
    ino_t ino;
    off_t off;
    bool have;
} kl_follow;

typedef struct run {
    ww_pktdec *pd;
    ww_tcp *tcp;
    ww_app *app;
    uint64_t last_ts;
    uint64_t filtered;
    /* -w */
    ww_evidence *ev;
    ww_pcapngw *evw;
    bool ev_secrets;
    size_t ev_secrets_embedded; /* key log secrets count at the last embedded DSB */
    bool ev_failed;
    ww_keylog *kl;
    /* -o rotation */
    ww_out *out;
    const char *out_path;
    FILE *jsonl;
    bool out_reopen_failed;
    /* live */
    bool live;
    kl_follow follow[64];
    size_t n_follow;
    uint64_t lat_n, lat_sum_us, lat_max_us; /* alert latency: packet time -> written */
    int verbose;
    bool quiet;
    /* --html */
    ww_report *report;
    uint64_t first_ts;
} run;

static uint64_t now_us(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- the alert -> flow link (-w) and alert latency ---- */
static void on_alert(void *ud, const ww_ctx *ctx, const ww_alert *a)
{
    run *r = ud;
    if (r->report != NULL)
        ww_report_alert(r->report, ctx, a);
    if (r->live && ctx != NULL && ctx->ts_us > 0) {
        uint64_t now = now_us(CLOCK_REALTIME);
        uint64_t lat = now > ctx->ts_us ? now - ctx->ts_us : 0;
        r->lat_n++;
        r->lat_sum_us += lat;
        if (lat > r->lat_max_us)
            r->lat_max_us = lat;
    }
    if (r->ev == NULL || ctx == NULL || ctx->flow == NULL)
        return;
    /* the key log so far, before the flagged packets (choice: every secret of the run's key
     * log, not only this flow's: a DSB is written again only when new secrets came) */
    if (r->ev_secrets && r->kl != NULL && ww_keylog_count(r->kl) > r->ev_secrets_embedded) {
        ww_buf b;
        ww_buf_init(&b, NULL, 64u << 20);
        if (ww_keylog_export(r->kl, &b) != WW_OK ||
            ww_pcapngw_secrets(r->evw, 0x544c534bU, b.data, b.len) != WW_OK)
            r->ev_failed = true;
        else
            r->ev_secrets_embedded = ww_keylog_count(r->kl);
        if (b.data != NULL)
            ww_wipe(b.data, b.len);
        ww_buf_free(&b);
    }
    if (ww_evidence_flag(r->ev, ctx->flow) != WW_OK)
        r->ev_failed = true;
}

/* detect's sink, wrapped: a flow that served addresses is kept for the evidence */
/* detect's hook: a flow served addresses to a browser (its packets belong in the evidence) */
static void on_served_flow(void *ud, const ww_flow *f)
{
    run *r = ud;
    if (r->ev != NULL && f != NULL)
        ww_evidence_served(r->ev, f);
}

static void on_close(void *ud, ww_flow *f, int reason, uint64_t ts_us)
{
    run *r = ud;
    ww_app_on_close(r->app, f, reason, ts_us);
    if (r->ev != NULL)
        ww_evidence_close(r->ev, f);
}
static void on_open(void *ud, ww_flow *f, uint64_t ts_us)
{
    ww_app_on_open(((run *)ud)->app, f, ts_us);
}
static void on_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    ww_app_on_data(((run *)ud)->app, f, dir, p, n, ts_us);
}
static void on_gap(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts_us)
{
    ww_app_on_gap(((run *)ud)->app, f, dir, len, ts_us);
}
static void on_anomaly(void *ud, uint64_t ts_us, const ww_flow *f, const char *layer,
                       const char *type, const char *detail)
{
    ww_app_on_anomaly(((run *)ud)->app, ts_us, f, layer, type, detail);
}

/* ---- SIGHUP: reopen -o between events (log rotation) ---- */
static void maybe_reopen(run *r)
{
    if (!hup_requested)
        return;
    hup_requested = 0;
    if (r->jsonl == NULL || r->jsonl == stdout || r->out_path == NULL)
        return;
    FILE *nf = fopen(r->out_path, "a");
    if (nf == NULL) {
        fprintf(stderr, "walletwatch: SIGHUP: cannot reopen -o %s: %s\n", r->out_path,
                strerror(errno));
        r->out_reopen_failed = true;
        return;
    }
    ww_out_set_jsonl(r->out, nf);
    if (fclose(r->jsonl) != 0)
        r->out_reopen_failed = true;
    r->jsonl = nf;
    if (r->verbose > 0)
        fprintf(stderr, "walletwatch: SIGHUP: reopened %s\n", r->out_path);
}

/* ---- following a key log as the browser appends to it (live) ---- */
/* Reads what was appended since the last poll. A file that shrank or was replaced (rotation,
 * truncation) is read again from its start. Returns false when the file cannot be read. */
static bool follow_poll(kl_follow *f, ww_keylog *kl)
{
    struct stat st;
    if (stat(f->path, &st) != 0)
        return errno == ENOENT && f->have; /* moved away: wait for the new one */
    if (!f->have || st.st_dev != f->dev || st.st_ino != f->ino || st.st_size < f->off) {
        if (f->have)
            ww_keylog_add_text(kl, (const uint8_t *)"\n", 1); /* end a pending line */
        f->have = true;
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->off = 0;
    }
    if (st.st_size == f->off)
        return true;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    uint8_t buf[16384];
    bool ok = true;
    if (lseek(fd, f->off, SEEK_SET) != f->off) {
        ok = false;
    } else {
        for (int i = 0; i < 256; i++) { /* at most 4 MiB per poll */
            ssize_t k = read(fd, buf, sizeof buf);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                ok = k == 0;
                break;
            }
            ww_keylog_add_text(kl, buf, (size_t)k);
            f->off += k;
        }
    }
    ww_wipe(buf, sizeof buf);
    close(fd);
    return ok;
}

static void follow_all(run *r)
{
    for (size_t i = 0; i < r->n_follow; i++)
        if (!follow_poll(&r->follow[i], r->kl) && r->verbose > 0)
            fprintf(stderr, "walletwatch: key log %s: %s\n", r->follow[i].path, strerror(errno));
}

/* One packet through decode -> (evidence) -> reassembly. */
static inline void process(run *r, const ww_pkt *pkt)
{
    ww_seg seg;
    if (pkt->ts_us > r->last_ts)
        r->last_ts = pkt->ts_us;
    if (r->first_ts == 0 || pkt->ts_us < r->first_ts)
        r->first_ts = pkt->ts_us;
    if (ww_pktdec_decode(r->pd, pkt, &seg) == 1) {
        if (r->ev != NULL)
            ww_evidence_packet(r->ev, pkt, &seg);
        ww_tcp_segment(r->tcp, &seg);
    }
    ww_tcp_tick(r->tcp, r->last_ts);
}

static bool out_broken(const run *r)
{
    return ww_out_failed(r->out) || r->out_reopen_failed;
}

/* Live capture until a signal, a write error or a capture error. Returns 0, -1 (capture
 * error) or -3 (output cannot be written). */
static int capture_live(run *r, ww_source *src)
{
    ww_pkt pkt;
    char errbuf[WW_ERRBUF_SIZE];
    uint64_t next_poll = 0;
    int ret = 0;
    while (!stop_requested) {
        maybe_reopen(r);
        int rc = ww_source_next(src, &pkt, errbuf);
        if (r->n_follow > 0) { /* the key log before the packet that may need it */
            uint64_t now = now_us(CLOCK_MONOTONIC_COARSE);
            if (now >= next_poll || rc == WW_SRC_IDLE) {
                follow_all(r);
                next_poll = now + 100000;
            }
        }
        if (rc == 1) {
            process(r, &pkt);
        } else if (rc == WW_SRC_IDLE) {
            uint64_t wall = now_us(CLOCK_REALTIME);
            if (wall > r->last_ts) /* idle flows time out while nothing comes */
                ww_tcp_tick(r->tcp, wall);
        } else if (rc == 0) {
            break;
        } else {
            fprintf(stderr, "walletwatch: %s\n", errbuf);
            ret = -1;
            break;
        }
        if (out_broken(r)) {
            ret = -3;
            break;
        }
    }
    return ret;
}

static int replay(run *r, ww_source *src, const char *path, bpf_cache *bpf)
{
    ww_pkt pkt;
    char errbuf[WW_ERRBUF_SIZE];
    int rc;

    while (!stop_requested && (rc = ww_source_next(src, &pkt, errbuf)) == 1) {
        maybe_reopen(r);
        if (out_broken(r))
            return -3;
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
        process(r, &pkt);
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

/* -Z: as tcpdump, once the device is open. Returns 0, or -1 after saying why. */
static int drop_privileges(const char *user)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        fprintf(stderr, "walletwatch: -Z %s: no such user%s%s\n", user, errno ? ": " : "",
                errno ? strerror(errno) : "");
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "walletwatch: -Z %s: cannot drop privileges: %s\n", user,
                strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        fprintf(stderr, "walletwatch: -Z %s: root could be regained; refusing to go on\n", user);
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
        return ww_addrdb_cli(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "decode") == 0)
        return cmd_decode(argc - 1, argv + 1);

    memset(&o, 0, sizeof o);
    o.window_us = 30ULL * 60 * 1000000;
    o.fail_on = WW_SEV_HIGH;
    o.format = WW_FMT_TEXT;

    enum {
        OPT_DB = 256, OPT_NO_DEFAULT_DB, OPT_EXPECT, OPT_FORMAT, OPT_HTML, OPT_WINDOW,
        OPT_FAIL_ON, OPT_VERSION, OPT_HELP, OPT_LOG_HTTP, OPT_LOOKALIKE_BITS,
        OPT_EVIDENCE_SECRETS, OPT_YARA
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
        {"evidence-secrets", no_argument, NULL, OPT_EVIDENCE_SECRETS},
        {"yara", required_argument, NULL, OPT_YARA},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "r:i:f:k:o:w:B:s:Z:pqvh", longopts, NULL)) != -1) {
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
        case OPT_EVIDENCE_SECRETS:
            o.evidence_secrets = true;
            break;
        case 'B':
        case 's': {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || v > 1024UL * 1024 * 1024 ||
                (c == 'B' && v == 0)) {
                fprintf(stderr, "walletwatch: -%c: a number%s\n", c,
                        c == 'B' ? " of KiB (> 0)" : " of bytes (0 = 262144)");
                return EXIT_USAGE;
            }
            if (c == 'B')
                o.buffer_kib = (uint32_t)v;
            else
                o.snaplen = (uint32_t)v;
            break;
        }
        case 'p':
            o.no_promisc = true;
            break;
        case 'Z':
            o.user = optarg;
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
        case OPT_YARA:
            o.yara = optarg;
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
    if (o.iface != NULL && o.n_inputs > 0) {
        fprintf(stderr, "walletwatch: give -r FILE or -i IFACE, not both\n");
        return EXIT_USAGE;
    }
    if (o.n_inputs == 0 && o.iface == NULL) {
        fprintf(stderr, "walletwatch: nothing to read: give -r FILE (or -i IFACE)\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (o.iface == NULL && (o.user != NULL || o.buffer_kib != 0 || o.snaplen != 0 ||
                            o.no_promisc)) {
        fprintf(stderr, "walletwatch: -B, -s, -p and -Z apply to live capture (-i) only\n");
        return EXIT_USAGE;
    }
    if (o.evidence_secrets && o.evidence == NULL) {
        fprintf(stderr, "walletwatch: --evidence-secrets needs -w FILE\n");
        return EXIT_USAGE;
    }
    ww_source *lsrc = NULL;
    if (o.iface != NULL) {
        /* the device first (it may need root), then privileges go, then every file */
        if (ww_source_open_live(&lsrc, o.iface, o.filter, o.snaplen, o.buffer_kib,
                                !o.no_promisc, true, errbuf) != WW_OK) {
            fprintf(stderr, "walletwatch: %s\n", errbuf);
            return EXIT_USAGE;
        }
        if (o.user != NULL && drop_privileges(o.user) != 0) {
            ww_source_free(lsrc);
            return EXIT_USAGE;
        }
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
    ww_yara *yara = NULL;
    run r;
    memset(&r, 0, sizeof r);
    r.live = lsrc != NULL;

    bpf.expr = o.iface == NULL ? o.filter : NULL; /* live: compiled on the handle */
    if (bpf.expr != NULL) {
        struct bpf_program *prog;
        char err[512];
        if (bpf_get(&bpf, WW_LINK_ETHERNET, &prog, err, sizeof err) != 0) {
            fprintf(stderr, "walletwatch: %s\n", err);
            exit_code = EXIT_USAGE;
            goto done;
        }
    }
    if (o.yara != NULL && ww_yara_load(&yara, o.yara, errbuf) != WW_OK) {
        fprintf(stderr, "walletwatch: --yara %s\n", errbuf);
        exit_code = EXIT_USAGE;
        goto done;
    }
    { /* SIGINT/SIGTERM are served from here on, also while an input pipe is idle (opening
       * `-r -` waits for its first bytes): the run stops and its stats are written */
        struct sigaction early;
        memset(&early, 0, sizeof early);
        early.sa_handler = on_signal;
        sigemptyset(&early.sa_mask);
        sigaction(SIGINT, &early, NULL);
        sigaction(SIGTERM, &early, NULL);
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
        if (r.live) { /* followed: read now from the start, later as it grows */
            kl_follow *f = &r.follow[r.n_follow++];
            f->path = o.keylogs[i];
            if (!follow_poll(f, kl)) {
                fprintf(stderr, "walletwatch: key log: %s: %s\n", o.keylogs[i],
                        strerror(errno));
                exit_code = EXIT_USAGE;
            goto done;
            }
            continue;
        }
        if (ww_keylog_load_file(kl, o.keylogs[i], errbuf) != WW_OK) {
            fprintf(stderr, "walletwatch: key log: %s\n", errbuf);
            exit_code = EXIT_USAGE;
            goto done;
        }
    }
    if (kl != NULL) { /* TLS records wait for a key only while one can still come */
        bool may = r.live && o.n_keylogs > 0; /* a followed key log grows */
        for (size_t i = 0; i < o.n_inputs; i++)
            may = may || ww_source_may_carry_secrets(srcs[i]); /* pcapng: DSBs */
        ww_keylog_set_keys_may_come(kl, may);
    }
    if (kl != NULL && ww_keylog_bad_lines(kl) > 0 && !o.quiet)
        fprintf(stderr, "walletwatch: key log: %zu malformed lines skipped\n",
                ww_keylog_bad_lines(kl));
    db = ww_addrdb_new(NULL);
    if (db == NULL || ww_addrdb_load_all(db, o.dbs, o.n_dbs, o.no_default_db) != 0 ||
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
    r.jsonl = jsonl; /* closed at done (SIGHUP may replace it) */

    if (o.evidence != NULL) {
        const char *comment =
            o.evidence_secrets
                ? "walletwatch evidence: the packets of flagged flows and of the flows that "
                  "served addresses to their clients. Holds TLS secrets (Decryption Secrets "
                  "Blocks, --evidence-secrets): handle it as secret material."
                : "walletwatch evidence: the packets of flagged flows and of the flows that "
                  "served addresses to their clients. No key material: TLS stays encrypted "
                  "(run with --evidence-secrets to embed the key log).";
        if (ww_pcapngw_open(&r.evw, o.evidence, comment, errbuf) != WW_OK) {
            fprintf(stderr, "walletwatch: -w %s\n", errbuf);
            exit_code = EXIT_USAGE;
            goto done;
        }
        r.ev = ww_evidence_new(NULL, NULL, r.evw);
        if (r.ev == NULL) {
            fprintf(stderr, "walletwatch: out of memory\n");
            exit_code = EXIT_USAGE;
            goto done;
        }
        r.ev_secrets = o.evidence_secrets;
    }
    r.kl = kl;
    r.out_path = o.out_path;
    r.jsonl = jsonl;
    r.verbose = o.verbose;
    r.quiet = o.quiet;

    if (o.html != NULL && (r.report = ww_report_new()) == NULL) {
        exit_code = EXIT_USAGE;
        goto done;
    }
    ww_out_cfg oc = {0};
    oc.on_alert = on_alert;
    oc.on_alert_ud = &r;
    oc.jsonl = jsonl;
    oc.console = (jsonl == stdout && o.format == WW_FMT_JSONL) ? NULL : stdout;
    oc.format = o.format;
    oc.log_http = o.log_http;
    oc.verbose = o.verbose;
    oc.quiet = o.quiet;
    out = ww_out_new(NULL, &oc);
    r.out = out;

    ww_detect_cfg dc = {0};
    dc.window_us = o.window_us;
    dc.lookalike_min_bits = o.lookalike_bits;
    dc.db = db;
    dc.expect = expect;
    dc.n_expect = n_expect;
    dc.served_hook = on_served_flow;
    dc.hook_ud = &r;
    det = out ? ww_detect_new(NULL, &dc, out) : NULL;
    ww_decode_sink sink;
    memset(&sink, 0, sizeof sink);
    if (det != NULL)
        ww_detect_sink(det, &sink);

    ww_app_cfg ac = {0};
    ac.hash_bodies = o.log_http;
    ac.yara = yara;
    r.app = det ? ww_app_new(NULL, &ac, &sink, kl) : NULL;
    ww_stream_cbs cbs = {&r, on_open, on_data, on_gap, on_close, on_anomaly};
    r.pd = r.app ? ww_pktdec_new(NULL, NULL, ww_app_on_anomaly, r.app) : NULL;
    r.tcp = r.pd ? ww_tcp_new(NULL, NULL, &cbs) : NULL;
    if (r.tcp == NULL) {
        fprintf(stderr, "walletwatch: out of memory\n");
        exit_code = EXIT_USAGE;
        goto done;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns */
    sigemptyset(&sa.sa_mask);
    live_src = lsrc;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bool write_error = false;
    ww_detect_start(det);
    if (lsrc != NULL) {
        int rc = capture_live(&r, lsrc);
        if (rc == -3)
            write_error = true;
        else if (rc < 0)
            exit_code = EXIT_USAGE;
    }
    for (size_t i = 0; i < o.n_inputs && !write_error; i++) {
        if (kl != NULL)
            ww_source_set_secrets_fn(srcs[i], on_secrets, kl);
        ww_source_set_anomaly_fn(srcs[i], ww_app_on_anomaly, r.app); /* damaged blocks */
        int rc = replay(&r, srcs[i], o.inputs[i], &bpf);
        if (rc == -3) {
            write_error = true;
            break;
        }
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
    ww_live_stats ls;
    bool have_ls = lsrc != NULL && ww_source_live_stats(lsrc, &ls) == WW_OK;
    if (have_ls)
        st.drops = ls.dropped + ls.ifdropped;
    if (!write_error)
        ww_out_stats(out, r.last_ts, &st);
    if (r.report != NULL) {
        char title[512];
        size_t k = 0;
        title[0] = '\0';
        if (o.iface != NULL)
            k += (size_t)snprintf(title, sizeof title, "live capture on %s", o.iface);
        for (size_t i = 0; i < o.n_inputs && k < sizeof title; i++)
            k += (size_t)snprintf(title + k, sizeof title - k, "%s%s", i ? ", " : "",
                                  o.inputs[i]);
        ww_report_stats(r.report, &st, r.first_ts, r.last_ts);
        FILE *hf = fopen(o.html, "w");
        if (hf == NULL || ww_report_write(r.report, hf, title) != WW_OK || fclose(hf) != 0) {
            fprintf(stderr, "walletwatch: --html %s: %s\n", o.html, strerror(errno));
            exit_code = EXIT_USAGE;
        }
    }
    if (write_error || r.out_reopen_failed || ww_out_finish(out) != WW_OK || ww_out_failed(out)) {
        int saved_errno = ww_out_errno(out);
        fprintf(stderr, "walletwatch: writing output failed (%s): %s\n",
                o.out_path ? o.out_path : "standard output",
                saved_errno ? strerror(saved_errno) : "write error");
        exit_code = EXIT_USAGE;
    }
    if (have_ls && !o.quiet)
        fprintf(stderr,
                "walletwatch: %" PRIu64 " packets received by filter, %" PRIu64
                " packets dropped by kernel, %" PRIu64 " packets dropped by interface\n",
                ls.received, ls.dropped, ls.ifdropped);
    if (r.live && o.verbose > 0 && r.lat_n > 0)
        fprintf(stderr,
                "walletwatch: alert latency (packet time to alert written): %" PRIu64
                " alerts, mean %.3f ms, max %.3f ms\n",
                r.lat_n, (double)r.lat_sum_us / (double)r.lat_n / 1000.0,
                (double)r.lat_max_us / 1000.0);
    if (r.ev != NULL) {
        const ww_evidence_stats *es = ww_evidence_stats_get(r.ev);
        if (ww_pcapngw_close(r.evw) != WW_OK || r.ev_failed) {
            fprintf(stderr, "walletwatch: -w %s: write failed\n", o.evidence);
            exit_code = EXIT_USAGE;
        } else if (o.verbose > 0) {
            fprintf(stderr,
                    "walletwatch: evidence %s: %" PRIu64 " flows, %" PRIu64 " packets\n",
                    o.evidence, es->flows_flagged, es->packets_written);
        }
        ww_evidence_free(r.ev);
        r.ev = NULL;
        r.evw = NULL;
    }
    if (exit_code == EXIT_OK && o.fail_on != WW_SEV_NONE && ds->worst >= o.fail_on)
        exit_code = EXIT_ALERT;
    if (exit_code == EXIT_OK && o.n_inputs > 0 && (stop_requested || ww_source_interrupted()))
        exit_code = 3; /* SPEC: inconclusive — the replay was interrupted before its end */

done:
    for (size_t i = 0; i < n_open; i++)
        ww_source_free(srcs[i]);
    live_src = NULL;
    ww_source_free(lsrc);
    if (r.tcp != NULL)
        ww_tcp_free(r.tcp);
    if (r.pd != NULL)
        ww_pktdec_free(r.pd);
    ww_evidence_free(r.ev);
    if (r.evw != NULL)
        (void)!ww_pcapngw_close(r.evw);
    ww_app_free(r.app);
    ww_detect_free(det);
    ww_out_free(out);
    if (r.jsonl != NULL && r.jsonl != stdout)
        fclose(r.jsonl);
    ww_addrdb_free(db);
    if (kl != NULL)
        ww_keylog_free(kl);
    free(expect);
    ww_yara_free(yara);
    ww_report_free(r.report);
    bpf_free(&bpf);
    return exit_code;
}
