/*
 * walletwatch.c - the command line (SPEC.md "Command line"): options, signals, privileges,
 * the exit code. The pipeline is engine/ (one ww_engine per run); `addrdb` and `decode`
 * subcommands.
 *
 * Exit codes: 0 finished without an alert at or above --fail-on; 1 such alerts were raised;
 * 2 usage error or input that cannot be read at all.
 */
#include "cli/cli.h"
#include "engine/engine.h"
#include "detect/redis.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_OK 0
#define EXIT_ALERT 1
#define EXIT_USAGE 2
#define EXIT_INCONCLUSIVE 3

#define MAX_INPUTS 256
#define WW_LIVE_SNAPLEN 262144 /* capture/live.c's default snapshot length (-s 0) */

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
    uint64_t key_grace_us;  /* --key-grace (0: the default) */
    size_t key_wait_budget; /* --key-wait-budget (0: the default) */
    /* issue 13: accepted findings, protocol registry, detection memory */
    const char *baseline, *registry;
    bool no_registry;
    size_t detect_memory;
    const char *blind_ok; /* --blind-ok */
    ww_redis_cfg *redis;  /* --redis URL, parsed */
    /* issue 16: tcpdump habits, sensor operations */
    bool list_ifaces;            /* -D */
    uint64_t max_packets;        /* -c */
    bool line_buffered;          /* -l, -U */
    bool truncate;               /* --truncate: -o starts empty */
    bool format_given;           /* --format was on the command line */
    uint64_t stats_interval_us;  /* --stats-interval */
    FILE *console;               /* where --format's output goes: stdout, or stderr when
                                    -w - or --html - takes standard output */
    unsigned workers;     /* --workers (0: the number of cores) */
} opts;

static char filter_args[8192]; /* the filter given after the options, as tcpdump */

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t hup_requested;
static volatile sig_atomic_t usr1_requested;
static ww_source *volatile live_src; /* for pcap_breakloop from the signal handler */

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        hup_requested = 1;
        return;
    }
    if (sig == SIGUSR1) {
        usr1_requested = 1; /* the counts are printed between packets */
        ww_source_wake();   /* or at once by a replay waiting on an idle pipe */
        return;
    }
    stop_requested = 1;
    ww_source_interrupt(); /* a file source blocked on an idle pipe returns at once */
    if (live_src != NULL)
        ww_source_breakloop(live_src);
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: walletwatch [OPTIONS] -r FILE [EXPR]   replay a pcap or pcapng file ('-' = stdin)\n"
           "       walletwatch [OPTIONS] -i IFACE [EXPR]  capture live\n"
           "       walletwatch -D                         list the interfaces -i can capture on\n"
           "       walletwatch addrdb build FEED... -o FILE | lookup [--db FILE] ADDR... | stats "
           "[--db FILE]\n"
           "       walletwatch decode [--chain evm|solana] DATA\n"
           "\n"
           "options:\n"
           "  -r FILE               read a capture; repeatable (one timeline, in the order given)\n"
           "  -i IFACE              live capture ('any', 'lo', a mirror port)\n"
           "  -f EXPR, EXPR         BPF filter, as tcpdump: with -f or as the arguments after the\n"
           "                        options (joined with spaces; not both)\n"
           "  -c COUNT              stop after COUNT packets (those the filter keeps, as tcpdump)\n"
           "  -D, --list-interfaces list the interfaces, numbered as tcpdump -D, and exit\n"
           "  -n                    accepted (walletwatch never resolves names)\n"
           "  -l, -U                flush standard output and -o after every line/event, -w after\n"
           "                        every packet\n"
           "  -B KIB                live: kernel capture buffer in KiB, as tcpdump\n"
           "  -s SNAPLEN            live: bytes kept per packet (default 262144)\n"
           "  -p                    live: do not put the interface in promiscuous mode\n"
           "  -Z USER               live: drop privileges to USER once the interface is open\n"
           "  -k, --keylog FILE     NSS key log (SSLKEYLOGFILE) for TLS; repeatable\n"
           "  --key-grace DURATION  live: how long a closed TLS connection waits for a late key "
           "(default 3s)\n"
           "  --key-wait-budget SIZE   bytes of TLS records waiting for keys, all sessions "
           "(default 64M)\n"
           "  --db FILE             attacker address feed (list, CSV, JSON array); repeatable\n"
           "  --no-default-db       leave the bundled attacker DB out\n"
           "  --expect FILE         addresses this session may pay/approve (one per line)\n"
           "  -o FILE               append JSON-lines events to FILE ('-' = standard output);\n"
           "                        SIGHUP reopens it (log rotation)\n"
           "  --truncate            -o FILE starts empty instead of being appended to\n"
           "  --stats-interval DURATION   a stats event every DURATION (e.g. 60s): packet time\n"
           "                        on a replay, wall-clock time on live capture\n"
           "  -w FILE               write the packets of flagged flows as pcapng evidence\n"
           "                        ('-' = standard output)\n"
           "  --evidence-secrets    embed the TLS key log in the -w file (it then holds secrets)\n"
           "  --format text|jsonl|junit   what goes to standard output (default text; jsonl with\n"
           "                        -o -; standard error when -w - or --html - takes it)\n"
           "  --log-http            also emit an 'http' event per HTTP message (-o/jsonl)\n"
           "  --window DURATION     how long a served address stays expected (default 30m)\n"
           "  --lookalike-bits N    similarity beyond chance that makes a lookalike (default 30)\n"
           "  --yara RULES          run these YARA rules over every script served to a browser\n"
           "  --baseline FILE       accepted findings: RULE ADDRESS [host=H] [expires=DATE] REASON\n"
           "  --registry FILE       more canonical protocol contracts (chain,address,name,ids,source)\n"
           "  --no-registry         leave the bundled protocol registry out\n"
           "  --detect-memory SIZE  all detection state (default 256M; K, M, G)\n"
           "  --fail-on SEVERITY    exit 1 on alerts at or above it (default high; 'none' never)\n"
           "  --blind-ok HOSTS|all  TLS/QUIC sessions without keys to these hosts (and their\n"
           "                        subdomains; comma list) do not make the run inconclusive\n"
           "  --html FILE           a self-contained HTML report ('-' = standard output)\n"
           "  --workers N           decoding threads (default: the number of cores, at most 64;\n"
           "                        the events are the same for any N)\n"
           "  --redis URL           every event also to Redis: redis://[:PASS@]HOST[:PORT][/DB]\n"
           "                        [?mode=list|rpush|channel|stream&key=K&maxlen=N&buffer=16M]\n"
           "  -q, -v                quieter, more verbose (never prints key material)\n"
           "  --version, --help\n"
           "\n"
           "signals: SIGINT/SIGTERM end the run (stats written), SIGHUP reopens -o, SIGUSR1\n"
           "  prints the counts so far on standard error and the run goes on\n"
           "standard error: 'listening on' when live capture starts; a progress line during a\n"
           "  replay of a few seconds or more when it is a terminal (neither with -q)\n"
           "\n"
           "exit status: 0 no alert at or above --fail-on and everything wallet-relevant was read,\n"
           "  1 such alerts, 2 usage or unreadable input, 3 inconclusive (traffic that could carry\n"
           "  wallet calls could not be read: TLS/QUIC without keys, undecodable bodies, gaps...)\n");
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
        fprintf(stderr, "walletwatch: -Z %s: cannot drop privileges: %s\n", user, strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        fprintf(stderr, "walletwatch: -Z %s: root could be regained; refusing to go on\n", user);
        return -1;
    }
    return 0;
}

enum {
    OPT_DB = 256,
    OPT_NO_DEFAULT_DB,
    OPT_EXPECT,
    OPT_FORMAT,
    OPT_HTML,
    OPT_WINDOW,
    OPT_FAIL_ON,
    OPT_VERSION,
    OPT_HELP,
    OPT_LOG_HTTP,
    OPT_LOOKALIKE_BITS,
    OPT_EVIDENCE_SECRETS,
    OPT_YARA,
    OPT_KEY_GRACE,
    OPT_KEY_WAIT_BUDGET,
    OPT_BLIND_OK,
    OPT_BASELINE, /* issue 13 (parse_detect_option) */
    OPT_REGISTRY,
    OPT_NO_REGISTRY,
    OPT_DETECT_MEMORY,
    OPT_REDIS,
    OPT_TRUNCATE, /* issue 16 */
    OPT_STATS_INTERVAL,
    OPT_WORKERS
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
    {"key-grace", required_argument, NULL, OPT_KEY_GRACE},
    {"key-wait-budget", required_argument, NULL, OPT_KEY_WAIT_BUDGET},
    {"blind-ok", required_argument, NULL, OPT_BLIND_OK},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"registry", required_argument, NULL, OPT_REGISTRY},
    {"no-registry", no_argument, NULL, OPT_NO_REGISTRY},
    {"detect-memory", required_argument, NULL, OPT_DETECT_MEMORY},
    {"redis", required_argument, NULL, OPT_REDIS},
    {"truncate", no_argument, NULL, OPT_TRUNCATE},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"list-interfaces", no_argument, NULL, 'D'},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};
#define SHORTOPTS "r:i:f:k:o:w:B:s:Z:c:pqvhDnlU"
#define GO_ON (-1) /* an option parsed: go on */
#define SEE_HELP "see walletwatch --help\n" /* after a usage error's one line */

/* -B KIB and -s SNAPLEN. */
static int parse_size(opts *o, int c, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno != 0 || *end != '\0' || end == arg || v > 1024UL * 1024 * 1024 ||
        (c == 'B' && v == 0)) {
        fprintf(stderr, "walletwatch: -%c: a number%s\n", c,
                c == 'B' ? " of KiB (> 0)" : " of bytes (0 = 262144)");
        return EXIT_USAGE;
    }
    if (c == 'B')
        o->buffer_kib = (uint32_t)v;
    else
        o->snaplen = (uint32_t)v;
    return GO_ON;
}

/* The options whose value is checked: --format, --window, --fail-on, --lookalike-bits. */
static int parse_checked(opts *o, int c, const char *arg)
{
    bool ok = true;
    char *end;
    switch (c) {
    case OPT_FORMAT:
        o->format_given = true;
        if (strcmp(arg, "text") == 0)
            o->format = WW_FMT_TEXT;
        else if (strcmp(arg, "jsonl") == 0)
            o->format = WW_FMT_JSONL;
        else if (strcmp(arg, "junit") == 0)
            o->format = WW_FMT_JUNIT;
        else
            return fprintf(stderr, "walletwatch: --format: text, jsonl or junit\n"), EXIT_USAGE;
        return GO_ON;
    case OPT_WINDOW:
        if (!parse_duration(arg, &o->window_us) || o->window_us == 0)
            return fprintf(stderr, "walletwatch: --window: a duration such as 90s, 30m, 2h\n"),
                   EXIT_USAGE;
        return GO_ON;
    case OPT_STATS_INTERVAL:
        if (!parse_duration(arg, &o->stats_interval_us) || o->stats_interval_us < 1000)
            return fprintf(stderr, "walletwatch: --stats-interval: a duration such as 60s, 5m\n"),
                   EXIT_USAGE;
        return GO_ON;
    case 'c':
        o->max_packets = strtoull(arg, &end, 10);
        if (*end != '\0' || end == arg || arg[0] == '-' || o->max_packets == 0)
            return fprintf(stderr, "walletwatch: -c: a number of packets (> 0)\n"), EXIT_USAGE;
        return GO_ON;
    case OPT_KEY_GRACE:
        if (!parse_duration(arg, &o->key_grace_us) || o->key_grace_us == 0)
            return fprintf(stderr, "walletwatch: --key-grace: a duration such as 3s, 500ms\n"),
                   EXIT_USAGE;
        return GO_ON;
    case OPT_KEY_WAIT_BUDGET: {
        errno = 0;
        unsigned long long v = strtoull(arg, &end, 10);
        unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
        if (shift > 0)
            end++;
        if (errno != 0 || end == arg || *end != '\0' || v == 0 || v > (1ULL << 40) >> shift)
            return fprintf(stderr, "walletwatch: --key-wait-budget: a size such as 64M, 512K\n"),
                   EXIT_USAGE;
        o->key_wait_budget = (size_t)(v << shift);
        return GO_ON;
    }
    case OPT_FAIL_ON:
        o->fail_on = ww_severity_from_name(arg, &ok);
        if (!ok)
            return fprintf(stderr,
                           "walletwatch: --fail-on: critical, high, medium, low, info or none\n"),
                   EXIT_USAGE;
        return GO_ON;
    default: /* OPT_LOOKALIKE_BITS */
        o->lookalike_bits = strtod(arg, &end);
        if (*end != '\0' || o->lookalike_bits <= 0 || o->lookalike_bits > 256)
            return fprintf(stderr, "walletwatch: --lookalike-bits: a number of bits, e.g. 30\n"),
                   EXIT_USAGE;
        return GO_ON;
    }
}

/* --baseline, --registry, --no-registry, --detect-memory SIZE (bytes, or K/M/G: KiB...). */
static int parse_detect_option(opts *o, int c, const char *arg)
{
    char *end;
    switch (c) {
    case OPT_BASELINE:
        o->baseline = arg;
        return GO_ON;
    case OPT_REGISTRY:
        o->registry = arg;
        return GO_ON;
    case OPT_NO_REGISTRY:
        o->no_registry = true;
        return GO_ON;
    default: { /* OPT_DETECT_MEMORY */
        errno = 0;
        unsigned long long v = strtoull(arg, &end, 10);
        unsigned shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20
                         : *end == 'G' || *end == 'g'                      ? 30
                                                                           : 0;
        if (shift != 0)
            end++;
        if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v > (1ULL << 40) ||
            (v << shift) < (1ULL << 20) || (v << shift) > ((size_t)1 << 40))
            return fprintf(stderr, "walletwatch: --detect-memory: a size from 1M to 1T, e.g. "
                                   "256M\n"),
                   EXIT_USAGE;
        o->detect_memory = (size_t)(v << shift);
        return GO_ON;
    }
    }
}

/* Repeatable options (-r, -k, --db): slot into a bounded list. */
static int add_to(const char **list, size_t *n, size_t cap, const char *arg, const char *what)
{
    if (*n == cap) {
        if (what != NULL)
            fprintf(stderr, "walletwatch: too many %s\n", what);
        return EXIT_USAGE;
    }
    list[(*n)++] = arg;
    return GO_ON;
}

/* One option. Returns GO_ON or the exit code. */
static int parse_option(opts *o, int c, const char *arg)
{
    switch (c) {
    case 'r':
        return add_to(o->inputs, &o->n_inputs, MAX_INPUTS, arg, "-r files");
    case 'k':
        return add_to(o->keylogs, &o->n_keylogs, WW_ARRAY_LEN(o->keylogs), arg, NULL);
    case OPT_DB:
        return add_to(o->dbs, &o->n_dbs, WW_ARRAY_LEN(o->dbs), arg, NULL);
    case 'i':
        o->iface = arg;
        break;
    case 'f':
        o->filter = arg;
        break;
    case OPT_NO_DEFAULT_DB:
        o->no_default_db = true;
        break;
    case OPT_EXPECT:
        o->expect = arg;
        break;
    case 'o':
        o->out_path = arg;
        break;
    case OPT_HTML:
        o->html = arg;
        break;
    case 'w':
        o->evidence = arg;
        break;
    case OPT_EVIDENCE_SECRETS:
        o->evidence_secrets = true;
        break;
    case OPT_WORKERS: {
        char *end;
        unsigned long v = strtoul(arg, &end, 10);
        if (*end != '\0' || end == arg || v == 0 || v > WW_ENGINE_MAX_WORKERS)
            return fprintf(stderr, "walletwatch: --workers: a number from 1 to %d\n",
                           WW_ENGINE_MAX_WORKERS),
                   EXIT_USAGE;
        o->workers = (unsigned)v;
        break;
    }
    case 'p':
        o->no_promisc = true;
        break;
    case 'Z':
        o->user = arg;
        break;
    case OPT_LOG_HTTP:
        o->log_http = true;
        break;
    case OPT_YARA:
        o->yara = arg;
        break;
    case OPT_BLIND_OK:
        o->blind_ok = arg;
        break;
    case OPT_REDIS: { /* checked now: a bad URL is a usage error */
        static ww_redis_cfg rc;
        char err[200];
        if (ww_redis_parse_url(arg, &rc, err, sizeof err) != WW_OK)
            return fprintf(stderr, "walletwatch: --redis: %s\n", err), EXIT_USAGE;
        o->redis = &rc;
        break;
    }
    case 'q':
        o->quiet = true;
        break;
    case 'D':
        o->list_ifaces = true;
        break;
    case 'n': /* as tcpdump: no name resolution (walletwatch never resolves names) */
        break;
    case 'l':
    case 'U':
        o->line_buffered = true;
        break;
    case OPT_TRUNCATE:
        o->truncate = true;
        break;
    case 'v':
        o->verbose++;
        break;
    case 'B':
    case 's':
        return parse_size(o, c, arg);
    case OPT_FORMAT:
    case OPT_WINDOW:
    case OPT_FAIL_ON:
    case OPT_LOOKALIKE_BITS:
    case OPT_KEY_GRACE:
    case OPT_KEY_WAIT_BUDGET:
    case OPT_STATS_INTERVAL:
    case 'c':
        return parse_checked(o, c, arg);
    case OPT_BASELINE:
    case OPT_REGISTRY:
    case OPT_NO_REGISTRY:
    case OPT_DETECT_MEMORY:
        return parse_detect_option(o, c, arg);
    case OPT_VERSION:
        printf("walletwatch %s\n", WW_VERSION);
        return EXIT_OK;
    case 'h':
    case OPT_HELP:
        usage(stdout);
        return EXIT_OK;
    default: /* getopt said what was wrong */
        fputs(SEE_HELP, stderr);
        return EXIT_USAGE;
    }
    return GO_ON;
}

/* What the options say together. Returns GO_ON or EXIT_USAGE after saying why. */
static int check_options(const opts *o)
{
    const char *why = NULL;
    if (o->iface != NULL && o->n_inputs > 0)
        why = "give -r FILE or -i IFACE, not both";
    else if (o->n_inputs == 0 && o->iface == NULL)
        why = "nothing to read: give -r FILE (or -i IFACE)";
    else if (o->iface == NULL &&
               (o->user != NULL || o->buffer_kib != 0 || o->snaplen != 0 || o->no_promisc))
        why = "-B, -s, -p and -Z apply to live capture (-i) only";
    else if (o->evidence_secrets && o->evidence == NULL)
        why = "--evidence-secrets needs -w FILE";
    if (why == NULL)
        return GO_ON;
    fprintf(stderr, "walletwatch: %s\n" SEE_HELP, why);
    return EXIT_USAGE;
}

/* Standard output has one user: -o -, -w -, --html - or --format's output. Without --format,
 * -o - makes it JSON lines (the events once) and -w - / --html - send --format's text to
 * standard error; two of them together are a usage error naming both. */
static int check_stdout(opts *o)
{
    const char *users[3];
    size_t n = 0;
    bool jsonl_out = o->out_path != NULL && strcmp(o->out_path, "-") == 0;
    if (jsonl_out)
        users[n++] = "-o -";
    if (o->evidence != NULL && strcmp(o->evidence, "-") == 0)
        users[n++] = "-w -";
    if (o->html != NULL && strcmp(o->html, "-") == 0)
        users[n++] = "--html -";
    o->console = stdout;
    if (n > 1) {
        fprintf(stderr, "walletwatch: %s and %s both write to standard output\n" SEE_HELP,
                users[0], users[1]);
        return EXIT_USAGE;
    }
    if (n == 0)
        return GO_ON;
    if (!o->format_given) {
        if (jsonl_out)
            o->format = WW_FMT_JSONL;
        else
            o->console = stderr;
        return GO_ON;
    }
    if (jsonl_out && o->format == WW_FMT_JSONL)
        return GO_ON;
    static const char *const names[] = {[WW_FMT_TEXT] = "text", [WW_FMT_JSONL] = "jsonl",
                                        [WW_FMT_JUNIT] = "junit"};
    fprintf(stderr,
            "walletwatch: %s and --format %s both write to standard output; drop --format or "
            "write one of them to a file\n" SEE_HELP,
            users[0], names[o->format]);
    return EXIT_USAGE;
}

/* The arguments after the options: one filter expression, joined with spaces (tcpdump). */
static int filter_from_args(opts *o, int argc, char **argv)
{
    size_t k = 0;
    for (int i = optind; i < argc; i++) {
        int n = snprintf(filter_args + k, sizeof filter_args - k, "%s%s", k ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof filter_args - k) {
            fprintf(stderr, "walletwatch: the filter expression is too long\n");
            return EXIT_USAGE;
        }
        k += (size_t)n;
    }
    if (o->filter != NULL) {
        fprintf(stderr,
                "walletwatch: a filter both with -f ('%s') and after the options ('%s'): give "
                "one\n" SEE_HELP,
                o->filter, filter_args);
        return EXIT_USAGE;
    }
    o->filter = filter_args;
    return GO_ON;
}

/* Parses the command line into o. Returns GO_ON, or the exit code. */
static int parse_args(int argc, char **argv, opts *o)
{
    int c, rc;
    memset(o, 0, sizeof *o);
    o->window_us = 30ULL * 60 * 1000000;
    o->fail_on = WW_SEV_HIGH;
    o->format = WW_FMT_TEXT;
    while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1)
        if ((rc = parse_option(o, c, optarg)) != GO_ON)
            return rc;
    if (o->list_ifaces)
        return ww_cli_list_interfaces(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
    if (optind < argc && (rc = filter_from_args(o, argc, argv)) != GO_ON)
        return rc;
    if ((rc = check_options(o)) != GO_ON)
        return rc;
    return check_stdout(o);
}

/* The engine's configuration from the options. */
static void engine_cfg_of(ww_engine_cfg *ec, const opts *o, ww_addrdb *db, const ww_addr *expect,
                          size_t n_expect, ww_yara *yara, bool live)
{
    memset(ec, 0, sizeof *ec);
    ec->log = stderr;
    ec->verbose = o->verbose;
    ec->quiet = o->quiet;
    ec->app.hash_bodies = o->log_http;
    ec->detect.yara = yara;
    ec->detect.window_us = o->window_us;
    ec->detect.lookalike_min_bits = o->lookalike_bits;
    ec->detect.db = db;
    ec->detect.expect = expect;
    ec->detect.n_expect = n_expect;
    ec->out.console = o->console;
    ec->out.format = o->format;
    ec->out.log_http = o->log_http;
    ec->out.verbose = o->verbose;
    ec->out.quiet = o->quiet;
    ec->out.in_iface = o->iface;
    ec->out.blind_ok = o->blind_ok;
    ec->out.color = o->format == WW_FMT_TEXT && isatty(fileno(o->console)) &&
                    getenv("NO_COLOR") == NULL;
    ec->out_path = o->out_path;
    ec->out_truncate = o->truncate;
    ec->out_flush = o->line_buffered;
    ec->bpf = live ? NULL : o->filter; /* live: compiled on the handle */
    ec->report = o->html != NULL;
    ec->live = live;
    ec->evidence_path = o->evidence;
    ec->evidence_secrets = o->evidence_secrets;
    ec->key_grace_us = o->key_grace_us;
    ec->key_wait_budget = o->key_wait_budget;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ec->workers = o->workers > 0 ? o->workers
                                 : (unsigned)WW_MIN(WW_MAX(cores, 1L), WW_ENGINE_MAX_WORKERS);
}

/* -k: loaded now (replay) or followed as it grows (live). Returns 0 or -1 after saying why. */
static int load_keylogs(ww_engine *e, const opts *o, bool live)
{
    char errbuf[WW_ERRBUF_SIZE];
    for (size_t i = 0; i < o->n_keylogs; i++) {
        if (live && ww_engine_follow_keylog(e, o->keylogs[i]) != WW_OK) {
            fprintf(stderr, "walletwatch: key log: %s: %s\n", o->keylogs[i], strerror(errno));
            return -1;
        }
        if (!live && ww_engine_load_keylog(e, o->keylogs[i], errbuf) != WW_OK) {
            fprintf(stderr, "walletwatch: key log: %s\n", errbuf);
            return -1;
        }
    }
    if (ww_engine_keylog_bad_lines(e) > 0 && !o->quiet)
        fprintf(stderr, "walletwatch: key log: %zu malformed lines skipped\n",
                ww_engine_keylog_bad_lines(e));
    return 0;
}

static void install_signals(ww_source *lsrc)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns */
    sigemptyset(&sa.sa_mask);
    live_src = lsrc;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Between packets: SIGUSR1's counts, the progress line. */
static void on_poll(void *ud, ww_engine *e, ww_source *src)
{
    ww_progress *pr = ud;
    if (usr1_requested) {
        usr1_requested = 0;
        ww_live_stats ls;
        bool live = ww_source_live_stats(src, &ls) == WW_OK;
        ww_run_stats st;
        ww_engine_counts(e, live ? ls.dropped + ls.ifdropped : ww_source_drops(src), &st);
        ww_progress_end(pr); /* the counts on a line of their own */
        ww_cli_print_counts(stderr, &st, live ? &ls : NULL);
    }
    ww_progress_update(pr, src);
}

/* A replay waiting on an idle pipe: SIGUSR1's counts at once, not with the next packet. */
typedef struct {
    ww_progress *pr;
    ww_engine *e;
    ww_source *src;
} wake_ctx;

static void on_wake(void *ud)
{
    wake_ctx *w = ud;
    on_poll(w->pr, w->e, w->src);
}

/* The progress line waits this long (WW_TEST_PROGRESS_AFTER_MS: tests/cli.sh's shortcut). */
static uint64_t progress_after_us(void)
{
    const char *t = getenv("WW_TEST_PROGRESS_AFTER_MS");
    return t != NULL ? strtoull(t, NULL, 10) * 1000u : 3000000u;
}

/* Every input through the engine. Returns the exit code so far; *write_error when the
 * output can no longer be written. */
static int run_inputs(ww_engine *e, const opts *o, ww_source *lsrc, ww_source **srcs,
                      bool *write_error)
{
    ww_progress pr;
    ww_engine_ctl ctl = {&stop_requested, &hup_requested, o->max_packets, o->stats_interval_us,
                         on_poll, &pr};
    FILE *tty = !o->quiet && isatty(STDERR_FILENO) ? stderr : NULL;
    int exit_code = EXIT_OK;
    if (lsrc != NULL) {
        ww_progress_start(&pr, NULL, o->iface, 0, 1, 0); /* no progress live */
        if (!o->quiet)
            ww_cli_listening(stderr, o->iface, ww_source_live_linktype(lsrc),
                             o->snaplen ? o->snaplen : WW_LIVE_SNAPLEN);
        int rc = ww_engine_live(e, lsrc, &ctl);
        if (rc == -3)
            *write_error = true;
        else if (rc < 0)
            exit_code = EXIT_USAGE;
    }
    for (size_t i = 0; i < o->n_inputs && !*write_error; i++) {
        ww_progress_start(&pr, tty, o->inputs[i], i, o->n_inputs, progress_after_us());
        wake_ctx wc = {&pr, e, srcs[i]};
        ww_source_on_wake(srcs[i], on_wake, &wc);
        int rc = ww_engine_replay(e, srcs[i], o->inputs[i], &ctl);
        ww_source_on_wake(srcs[i], NULL, NULL);
        ww_progress_end(&pr);
        if (rc == -3) {
            *write_error = true;
            break;
        }
        if (rc < 0)
            exit_code = EXIT_USAGE;
        if (rc == -2 || rc == 1) /* a filter that fails; -c reached */
            break;
    }
    return exit_code;
}

/* The HTML report, titled with what was read, to html (opened before the first packet).
 * Returns 0 or -1 after saying why. */
static int write_report(ww_engine *e, const opts *o, FILE *html)
{
    char title[512];
    size_t k = 0;
    title[0] = '\0';
    if (o->iface != NULL)
        k += (size_t)snprintf(title, sizeof title, "live capture on %s", o->iface);
    for (size_t i = 0; i < o->n_inputs && k < sizeof title; i++)
        k += (size_t)snprintf(title + k, sizeof title - k, "%s%s", i ? ", " : "", o->inputs[i]);
    int rc = ww_engine_write_report_to(e, html, title);
    if (html != stdout && fclose(html) != 0)
        rc = WW_E_IO;
    if (rc != WW_OK) {
        fprintf(stderr, "walletwatch: --html %s: %s\n",
                strcmp(o->html, "-") == 0 ? "standard output" : o->html, strerror(errno));
        return -1;
    }
    return 0;
}

/* After the input: stats, report, output, evidence, the exit code. */
static int finish_run(ww_engine *e, const opts *o, ww_source *lsrc, FILE **html, bool write_error,
                      int exit_code)
{
    ww_live_stats ls;
    bool have_ls = lsrc != NULL && ww_source_live_stats(lsrc, &ls) == WW_OK;
    ww_engine_end(e, have_ls ? ls.dropped + ls.ifdropped : 0);
    if (!write_error)
        ww_engine_write_stats(e);
    if (*html != NULL && write_report(e, o, *html) != 0)
        exit_code = EXIT_USAGE;
    *html = NULL; /* closed */
    if (write_error || ww_engine_finish_output(e) != WW_OK) {
        int saved_errno = ww_engine_output_errno(e);
        fprintf(stderr, "walletwatch: writing output failed (%s): %s\n",
                o->out_path ? o->out_path : "standard output",
                saved_errno ? strerror(saved_errno) : "write error");
        exit_code = EXIT_USAGE;
    }
    if (have_ls && !o->quiet)
        fprintf(stderr,
                "walletwatch: %" PRIu64 " packets received by filter, %" PRIu64
                " packets dropped by kernel, %" PRIu64 " packets dropped by interface\n",
                ls.received, ls.dropped, ls.ifdropped);
    uint64_t lat_n, lat_sum, lat_max;
    ww_engine_latency(e, &lat_n, &lat_sum, &lat_max);
    if (lsrc != NULL && o->verbose > 0 && lat_n > 0)
        fprintf(stderr,
                "walletwatch: alert latency (packet time to alert written): %" PRIu64
                " alerts, mean %.3f ms, max %.3f ms\n",
                lat_n, (double)lat_sum / (double)lat_n / 1000.0, (double)lat_max / 1000.0);
    if (o->evidence != NULL) {
        const ww_evidence_stats *es = ww_engine_evidence_stats(e);
        if (ww_engine_close_evidence(e) != WW_OK) {
            fprintf(stderr, "walletwatch: -w %s: write failed\n", o->evidence);
            exit_code = EXIT_USAGE;
        } else if (o->verbose > 0) {
            fprintf(stderr, "walletwatch: evidence %s: %" PRIu64 " flows, %" PRIu64 " packets\n",
                    o->evidence, es->flows_flagged, es->packets_written);
        }
    }
    int worst = ww_engine_worst(e);
    if (exit_code == EXIT_OK && o->fail_on != WW_SEV_NONE && worst >= o->fail_on)
        exit_code = EXIT_ALERT;
    else if (exit_code == EXIT_OK && ww_engine_inconclusive(e) != NULL)
        exit_code = EXIT_INCONCLUSIVE; /* no alert decided it, and the run could not see all */
    if (exit_code == EXIT_OK && o->n_inputs > 0 && (stop_requested || ww_source_interrupted()))
        exit_code = EXIT_INCONCLUSIVE; /* SPEC: inconclusive — the replay was interrupted before its end */
    return exit_code;
}

/* --baseline and --registry, checked before the first packet: a file that cannot be read or
 * has a bad line is a usage error (exit 2) naming the file and line. Returns 0 or -1. */
static int load_detect_files(const opts *o, ww_baseline **bl, ww_registry **reg)
{
    char errbuf[WW_ERRBUF_SIZE];
    if (o->baseline != NULL) {
        ww_baseline_report rep;
        if (ww_baseline_load_file(bl, NULL, o->baseline, (int64_t)time(NULL), &rep, errbuf) !=
            WW_OK) {
            fprintf(stderr, "walletwatch: --baseline %s\n", errbuf);
            return -1;
        }
        if (rep.bad > 0) {
            fprintf(stderr,
                    "walletwatch: --baseline %s:%zu: not RULE ADDRESS [host=H] "
                    "[expires=YYYY-MM-DD] [REASON] (%zu bad lines)\n",
                    o->baseline, rep.bad_line_no[0], rep.bad);
            return -1;
        }
        if (rep.expired > 0 && !o->quiet)
            fprintf(stderr, "walletwatch: --baseline %s: %zu expired entries not applied\n",
                    o->baseline, rep.expired);
    }
    if (o->registry != NULL) {
        ww_registry_report rep = {0};
        *reg = ww_registry_new(NULL);
        if (*reg == NULL || (!o->no_registry && ww_registry_load_bundled(*reg) < 0))
            return fprintf(stderr, "walletwatch: out of memory\n"), -1;
        int rc = ww_registry_load_file(*reg, o->registry, &rep, errbuf);
        if (rc == WW_E_IO) {
            fprintf(stderr, "walletwatch: --registry %s\n", errbuf);
            return -1;
        }
        if (rc != WW_OK || rep.bad > 0) {
            fprintf(stderr,
                    "walletwatch: --registry %s:%zu: not chain,address,name,chain_ids,source "
                    "(%zu bad lines)\n",
                    o->registry, rep.first_bad_line, rep.bad);
            return -1;
        }
    }
    return 0;
}

/* A filter after the options that does not compile: was a word of it meant as -r FILE? */
static void hint_file_in_filter(const char *filter)
{
    char word[256];
    const char *p = filter;
    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        struct stat sb;
        if (n > 0 && n < sizeof word) {
            memcpy(word, p, n);
            word[n] = '\0';
            if (stat(word, &sb) == 0 && S_ISREG(sb.st_mode)) {
                fprintf(stderr, "walletwatch: the arguments after the options are a filter "
                                "expression; to read '%s' give -r %s\n", word, word);
                return;
            }
        }
        p += n + (p[n] == ' ');
    }
}

/* An input that cannot be read, named: "walletwatch: x.pcap: not a pcap or pcapng file". */
static void say_file(const char *path, const char *err)
{
    const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
    size_t n = strlen(path);
    if (strncmp(err, path, n) == 0 && err[n] == ':')
        fprintf(stderr, "walletwatch: %s%s\n", name, err + n); /* already named */
    else
        fprintf(stderr, "walletwatch: %s: %s\n", name, err);
}

/* Opens what the options name (files, DB, rules, the engine), runs, reports. */
static int run(const opts *o, ww_source *lsrc)
{
    char errbuf[WW_ERRBUF_SIZE];
    int exit_code = EXIT_USAGE;
    ww_source *srcs[MAX_INPUTS];
    size_t n_open = 0, stdin_uses = 0;
    ww_addrdb *db = NULL;
    ww_addr *expect = NULL;
    size_t n_expect = 0;
    ww_yara *yara = NULL;
    ww_engine *e = NULL;
    ww_baseline *baseline = NULL;
    ww_registry *registry = NULL;
    ww_redis *redis = NULL;
    FILE *html = NULL;

    if (o->line_buffered) /* -l, -U */
        (void)setvbuf(stdout, NULL, _IOLBF, 0);
    /* SIGINT/SIGTERM are served from here on, also while `-r -` waits for its first bytes */
    install_signals(lsrc);
    /* Everything that can be checked before the first packet is checked here: exit 2. */
    if (o->yara != NULL && ww_yara_load(&yara, o->yara, errbuf) != WW_OK) {
        fprintf(stderr, "walletwatch: --yara %s\n", errbuf);
        goto done;
    }
    for (size_t i = 0; i < o->n_inputs; i++) {
        if (strcmp(o->inputs[i], "-") == 0 && ++stdin_uses > 1) {
            fprintf(stderr, "walletwatch: standard input can be read only once\n");
            goto done;
        }
        if (ww_source_open_file(&srcs[i], o->inputs[i], errbuf) != WW_OK) {
            say_file(o->inputs[i], errbuf);
            goto done;
        }
        n_open = i + 1;
    }
    db = ww_addrdb_new(NULL);
    if (db == NULL || ww_addrdb_load_all(db, o->dbs, o->n_dbs, o->no_default_db) != 0 ||
        (o->expect != NULL && ww_expect_load(o->expect, &expect, &n_expect) != 0) ||
        load_detect_files(o, &baseline, &registry) != 0)
        goto done;
    /* the outputs: --html here (written at the end), -o and -w by the engine */
    if (o->html != NULL && (html = strcmp(o->html, "-") == 0 ? stdout : fopen(o->html, "w")) == NULL) {
        fprintf(stderr, "walletwatch: --html %s: %s\n", o->html, strerror(errno));
        goto done;
    }
    ww_engine_cfg ec;
    engine_cfg_of(&ec, o, db, expect, n_expect, yara, lsrc != NULL);
    ec.detect.baseline = baseline;
    ec.detect.registry = registry; /* NULL: detect loads the bundled one unless no_registry */
    ec.detect.no_registry = o->no_registry;
    ec.detect.max_bytes = o->detect_memory;
    if (o->redis != NULL) { /* --redis: every EVE line also to Redis, never blocking */
        if (ww_redis_new(&redis, o->redis, stderr) != WW_OK) {
            fprintf(stderr, "walletwatch: --redis: out of memory\n");
            goto done;
        }
        ec.out.on_line = ww_redis_line;
        ec.out.on_line_ud = redis;
        ec.out.on_line_dropped = ww_redis_dropped;
    }
    int erc = ww_engine_new(&e, &ec, errbuf);
    if (erc != WW_OK) {
        fprintf(stderr, "walletwatch: %s\n", errbuf);
        if (erc == WW_E_INVALID && o->filter == filter_args)
            hint_file_in_filter(o->filter);
        goto done;
    }
    if (load_keylogs(e, o, lsrc != NULL) != 0)
        goto done;
    for (size_t i = 0; i < o->n_inputs; i++)
        ww_engine_attach(e, srcs[i]); /* all inputs up front: a pcapng's DSBs may key them all */

    bool write_error = false;
    exit_code = run_inputs(e, o, lsrc, srcs, &write_error);
    exit_code = finish_run(e, o, lsrc, &html, write_error, exit_code);
done:
    if (html != NULL && html != stdout)
        fclose(html);
    live_src = NULL;
    (void)ww_redis_close(redis, NULL); /* the rest flushed, bounded; says what was not sent */
    for (size_t i = 0; i < n_open; i++)
        ww_source_free(srcs[i]);
    ww_engine_free(e);
    ww_addrdb_free(db);
    free(expect);
    ww_yara_free(yara);
    ww_baseline_free(baseline);
    ww_registry_free(registry);
    return exit_code;
}

int main(int argc, char **argv)
{
    opts o;
    char errbuf[WW_ERRBUF_SIZE];

    if (argc > 1 && strcmp(argv[1], "addrdb") == 0)
        return ww_addrdb_cli(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "decode") == 0)
        return ww_decode_cli(argc - 1, argv + 1);
    ww_heap_hugepages(argv); /* issue 15: huge pages for the heap (util/ww.c) */
    ww_heap_bounded();       /* and large blocks returned when freed */
    int rc = parse_args(argc, argv, &o);
    if (rc != GO_ON)
        return rc;
    ww_source *lsrc = NULL;
    if (o.iface != NULL) {
        /* the device first (it may need root), then privileges go, then every file */
        if (ww_source_open_live(&lsrc, o.iface, o.filter, o.snaplen, o.buffer_kib, !o.no_promisc,
                                false, errbuf) != WW_OK) {
            fprintf(stderr, "walletwatch: %s\n", errbuf);
            return EXIT_USAGE;
        }
        if (o.user != NULL && drop_privileges(o.user) != 0) {
            ww_source_free(lsrc);
            return EXIT_USAGE;
        }
    }
    rc = run(&o, lsrc);
    ww_source_free(lsrc);
    return rc;
}
