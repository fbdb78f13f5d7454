/*
 * redis.c - the --redis output (redis.h): a URL parser, a bounded byte ring that the capture
 * thread appends EVE lines to, and one sender thread that drains it over hiredis (pipelined,
 * in order, each line removed once Redis acknowledged it), reconnecting with backoff.
 *
 * The capture thread only takes a mutex for a memcpy into the ring (no allocation, no I/O);
 * the sender never holds the mutex while it talks to Redis.
 */
#include "detect/redis.h"

#include <errno.h>
#include <hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BATCH_LINES 256           /* lines per pipelined batch */
#define BATCH_BYTES (1u << 20)    /* ... and bytes (a longer line goes alone) */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define LINE_MAX_BYTES (64u << 20) /* a line longer than this is dropped */

/* ---- the URL ---- */

static int hexv(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : c >= 'A' && c <= 'F'   ? c - 'A' + 10
                                                                 : -1;
}

/* s[0..n) with %XX decoded into out (NUL-terminated). false when it does not fit, a %
 * escape is bad, or it decodes to a NUL. */
static bool pct_decode(char *out, size_t outn, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || hexv(s[i + 1]) < 0 || hexv(s[i + 2]) < 0)
                return false;
            c = hexv(s[i + 1]) * 16 + hexv(s[i + 2]);
            i += 2;
            if (c == 0)
                return false;
        }
        if (k + 1 >= outn)
            return false;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return true;
}

/* A decimal number in s[0..n) no larger than max. */
static bool num(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (max - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

/* A size: a number with an optional K, M or G (KiB, MiB, GiB). */
static bool size_val(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    unsigned shift = 0;
    if (n > 0) {
        char c = s[n - 1];
        shift = c == 'k' || c == 'K' ? 10 : c == 'm' || c == 'M' ? 20 : c == 'g' || c == 'G' ? 30 : 0;
        if (shift)
            n--;
    }
    uint64_t x;
    if (!num(s, n, max >> shift, &x))
        return false;
    *v = x << shift;
    return true;
}

static int fail(char *err, size_t errn, const char *why)
{
    if (errn > 0)
        snprintf(err, errn, "%s", why);
    return WW_E_INVALID;
}

static int param(ww_redis_cfg *cfg, const char *k, size_t kn, const char *v, size_t vn, char *err,
                 size_t errn)
{
    char val[WW_REDIS_STR_MAX];
    uint64_t x;
    if (!pct_decode(val, sizeof val, v, vn))
        return fail(err, errn, "a parameter value is too long or badly %-escaped");
    size_t vl = strlen(val);
#define IS(name) (kn == sizeof(name) - 1 && memcmp(k, name, kn) == 0)
    if (IS("mode")) {
        if (strcmp(val, "list") == 0 || strcmp(val, "lpush") == 0)
            cfg->mode = WW_REDIS_LPUSH;
        else if (strcmp(val, "rpush") == 0)
            cfg->mode = WW_REDIS_RPUSH;
        else if (strcmp(val, "channel") == 0 || strcmp(val, "publish") == 0)
            cfg->mode = WW_REDIS_PUBLISH;
        else if (strcmp(val, "stream") == 0 || strcmp(val, "xadd") == 0)
            cfg->mode = WW_REDIS_XADD;
        else
            return fail(err, errn, "mode: list, lpush, rpush, channel, publish, stream or xadd");
    } else if (IS("key")) {
        if (vl == 0)
            return fail(err, errn, "key: a name");
        memcpy(cfg->key, val, vl + 1);
    } else if (IS("field")) {
        if (vl == 0 || vl >= sizeof cfg->field)
            return fail(err, errn, "field: a name of at most 63 bytes");
        memcpy(cfg->field, val, vl + 1);
    } else if (IS("maxlen")) {
        if (!num(val, vl, 1ULL << 40, &x))
            return fail(err, errn, "maxlen: a number of stream entries (0: no trimming)");
        cfg->maxlen = x;
    } else if (IS("buffer")) {
        if (!size_val(val, vl, 1ULL << 40, &x) || x < 1024)
            return fail(err, errn, "buffer: a size from 1K, e.g. 16M");
        cfg->buffer_bytes = (size_t)x;
    } else if (IS("events")) {
        if (!num(val, vl, 1ULL << 32, &x) || x == 0)
            return fail(err, errn, "events: a number of lines (> 0)");
        cfg->buffer_events = (size_t)x;
    } else if (IS("flush")) {
        if (!num(val, vl, 3600000, &x))
            return fail(err, errn, "flush: milliseconds (at most 3600000)");
        cfg->flush_ms = (unsigned)x;
    } else if (IS("timeout")) {
        if (!num(val, vl, 600000, &x) || x == 0)
            return fail(err, errn, "timeout: milliseconds (1 to 600000)");
        cfg->timeout_ms = (unsigned)x;
    } else
        return fail(err, errn, "unknown parameter (mode, key, field, maxlen, buffer, events, "
                               "flush, timeout)");
#undef IS
    return WW_OK;
}

int ww_redis_parse_url(const char *url, ww_redis_cfg *cfg, char *err, size_t errn)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->port = 6379;
    cfg->mode = WW_REDIS_LPUSH;
    memcpy(cfg->key, "walletwatch", sizeof "walletwatch");
    memcpy(cfg->field, "event", sizeof "event");
    cfg->maxlen = 100000;
    cfg->buffer_bytes = 16u << 20;
    cfg->buffer_events = 100000;
    cfg->flush_ms = 5000;
    cfg->timeout_ms = 1000;
    if (err != NULL && errn > 0)
        err[0] = '\0';
    if (url == NULL || strncmp(url, "redis://", 8) != 0)
        return fail(err, errn, "not a redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?...] URL");
    const char *p = url + 8, *end = p + strlen(p);
    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *auth_end = q ? q : end;
    /* authority = [userinfo@]host[:port], then [/db] */
    const char *slash = memchr(p, '/', (size_t)(auth_end - p));
    const char *hp_end = slash ? slash : auth_end;
    const char *at = NULL;
    for (const char *c = p; c < hp_end; c++)
        if (*c == '@')
            at = c; /* the last '@': a password may hold one unescaped */
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL)
            return fail(err, errn, "userinfo: give :PASSWORD@ or USER:PASSWORD@");
        if (!pct_decode(cfg->user, sizeof cfg->user, p, (size_t)(colon - p)) ||
            !pct_decode(cfg->password, sizeof cfg->password, colon + 1, (size_t)(at - colon - 1)))
            return fail(err, errn, "user or password too long or badly %-escaped");
        p = at + 1;
    }
    const char *host = p, *host_end, *port = NULL;
    if (p < hp_end && *p == '[') { /* [IPv6] */
        const char *rb = memchr(p, ']', (size_t)(hp_end - p));
        if (rb == NULL)
            return fail(err, errn, "host: an IPv6 address in brackets lacks its ']'");
        host = p + 1;
        host_end = rb;
        if (rb + 1 < hp_end) {
            if (rb[1] != ':')
                return fail(err, errn, "host: ':PORT' expected after ']'");
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(hp_end - p));
        host_end = colon ? colon : hp_end;
        if (colon != NULL)
            port = colon + 1;
    }
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof cfg->host)
        return fail(err, errn, "host: missing or too long");
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!(c == '.' || c == '-' || c == '_' || c == ':' || (c >= '0' && c <= '9') ||
              ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
            return fail(err, errn, "host: letters, digits, '.', '-', '_' (or [IPv6])");
    }
    memcpy(cfg->host, host, hl);
    cfg->host[hl] = '\0';
    uint64_t x;
    if (port != NULL) {
        if (!num(port, (size_t)(hp_end - port), 65535, &x) || x == 0)
            return fail(err, errn, "port: 1 to 65535");
        cfg->port = (int)x;
    }
    if (slash != NULL && slash + 1 < auth_end) {
        if (!num(slash + 1, (size_t)(auth_end - slash - 1), 1u << 30, &x))
            return fail(err, errn, "db: a database number after '/'");
        cfg->db = (int)x;
    }
    for (const char *s = q ? q + 1 : end; s < end;) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *e = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (e > s) {
            if (eq == NULL)
                return fail(err, errn, "a parameter without '=VALUE'");
            int rc = param(cfg, s, (size_t)(eq - s), eq + 1, (size_t)(e - eq - 1), err, errn);
            if (rc != WW_OK)
                return rc;
        }
        s = amp ? amp + 1 : end;
    }
    return WW_OK;
}

/* ---- the buffer and the sender ---- */

struct ww_redis {
    ww_redis_cfg cfg;
    FILE *log;
    pthread_t th;
    bool th_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* lines came, or stop */
    uint8_t *ring;          /* [u32 length][bytes] records, wrapping */
    size_t cap, head, tail, used, lines;
    bool stopping;
    uint64_t deadline_ms;   /* stopping: give up sending after this (monotonic) */
    uint64_t dropped, rejected, sent, reconnects;
    bool warned_full;
    /* sender-thread only */
    redisContext *c;
    char *batch;            /* lines copied out of the ring */
    size_t batch_cap;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void ring_put(ww_redis *r, const void *p, size_t n)
{
    size_t first = WW_MIN(n, r->cap - r->head);
    memcpy(r->ring + r->head, p, first);
    memcpy(r->ring, (const uint8_t *)p + first, n - first);
    r->head = (r->head + n) % r->cap;
}

static void ring_get(const ww_redis *r, size_t at, void *p, size_t n)
{
    size_t first = WW_MIN(n, r->cap - at);
    memcpy(p, r->ring + at, first);
    memcpy((uint8_t *)p + first, r->ring, n - first);
}

void ww_redis_line(void *ud, const char *line, size_t n)
{
    ww_redis *r = ud;
    if (n > 0 && line[n - 1] == '\n')
        n--;
    pthread_mutex_lock(&r->mu);
    if (n > LINE_MAX_BYTES || r->used + 4 + n > r->cap || r->lines >= r->cfg.buffer_events) {
        r->dropped++;
        bool warn = !r->warned_full;
        r->warned_full = true;
        pthread_mutex_unlock(&r->mu);
        if (warn && r->log != NULL)
            fprintf(r->log,
                    "walletwatch: redis: buffer full (%zu bytes, %zu events) while %s:%d is "
                    "unreachable or slow: events dropped (counted in stats redis_dropped)\n",
                    r->cfg.buffer_bytes, r->cfg.buffer_events, r->cfg.host, r->cfg.port);
        return;
    }
    uint32_t len = (uint32_t)n;
    ring_put(r, &len, 4);
    ring_put(r, line, n);
    r->used += 4 + n;
    r->lines++;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

uint64_t ww_redis_dropped(void *ud)
{
    ww_redis *r = ud;
    pthread_mutex_lock(&r->mu);
    uint64_t d = r->dropped;
    pthread_mutex_unlock(&r->mu);
    return d;
}

static struct timeval tv_of(unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* A command whose reply must not be an error (AUTH, SELECT). */
static bool simple(redisContext *c, int argc, const char **argv, char *why, size_t whyn)
{
    size_t lens[3];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    redisReply *rep = redisCommandArgv(c, argc, argv, lens);
    if (rep == NULL) {
        snprintf(why, whyn, "%s", c->errstr);
        return false;
    }
    bool ok = rep->type != REDIS_REPLY_ERROR;
    if (!ok)
        snprintf(why, whyn, "%s: %.200s", argv[0], rep->str ? rep->str : "error");
    freeReplyObject(rep);
    return ok;
}

/* Connects (AUTH, SELECT). true when connected. */
static bool connect_redis(ww_redis *r, char *why, size_t whyn)
{
    redisContext *c = redisConnectWithTimeout(r->cfg.host, r->cfg.port, tv_of(r->cfg.timeout_ms));
    if (c == NULL) {
        snprintf(why, whyn, "out of memory");
        return false;
    }
    if (c->err) {
        snprintf(why, whyn, "%s", c->errstr);
        redisFree(c);
        return false;
    }
    redisSetTimeout(c, tv_of(r->cfg.timeout_ms));
    if (r->cfg.password[0] != '\0') {
        const char *a[3] = {"AUTH", r->cfg.user, r->cfg.password};
        bool ok = r->cfg.user[0] ? simple(c, 3, a, why, whyn)
                                 : simple(c, 2, (const char *[]){"AUTH", r->cfg.password}, why,
                                          whyn);
        if (!ok) {
            redisFree(c);
            return false;
        }
    }
    if (r->cfg.db != 0 && r->cfg.mode != WW_REDIS_PUBLISH) {
        char db[16];
        snprintf(db, sizeof db, "%d", r->cfg.db);
        const char *a[2] = {"SELECT", db};
        if (!simple(c, 2, a, why, whyn)) {
            redisFree(c);
            return false;
        }
    }
    r->c = c;
    return true;
}

/* Copies up to BATCH_LINES lines from the ring's tail into r->batch (records as in the
 * ring). Returns the number of lines; *bytes: the ring bytes they take. Called locked. */
static size_t take_batch(ww_redis *r, size_t *bytes)
{
    size_t at = r->tail, k = 0, b = 0, off = 0;
    while (k < BATCH_LINES && k < r->lines) {
        uint32_t len;
        ring_get(r, at, &len, 4);
        if (k > 0 && off + 4 + len > BATCH_BYTES)
            break;
        if (off + 4 + len > r->batch_cap) {
            size_t nc = WW_MAX(r->batch_cap * 2, off + 4 + (size_t)len);
            char *nb = realloc(r->batch, nc);
            if (nb == NULL)
                break;
            r->batch = nb;
            r->batch_cap = nc;
        }
        ring_get(r, at, r->batch + off, 4 + (size_t)len);
        off += 4 + len;
        at = (at + 4 + len) % r->cap;
        b += 4 + len;
        k++;
    }
    *bytes = b;
    return k;
}

/* Takes the first n lines (b bytes) off the ring. Called locked. */
static void consume(ww_redis *r, size_t n, size_t b)
{
    r->tail = (r->tail + b) % r->cap;
    r->used -= b;
    r->lines -= n;
}

/* Sends n lines of r->batch pipelined. Returns how many Redis acknowledged (in order);
 * *rejected: of those, answered with an error. Less than n: the connection failed. */
static size_t send_batch(ww_redis *r, size_t n, size_t *acked_bytes, size_t *rejected)
{
    char maxlen[24];
    snprintf(maxlen, sizeof maxlen, "%" PRIu64, r->cfg.maxlen);
    size_t off = 0;
    *rejected = 0;
    *acked_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t len;
        memcpy(&len, r->batch + off, 4);
        const char *line = r->batch + off + 4;
        const char *argv[8];
        size_t lens[8];
        int argc = 0;
#define ARG(s, l) (argv[argc] = (s), lens[argc++] = (l))
        switch (r->cfg.mode) {
        case WW_REDIS_XADD:
            ARG("XADD", 4);
            ARG(r->cfg.key, strlen(r->cfg.key));
            if (r->cfg.maxlen > 0) {
                ARG("MAXLEN", 6);
                ARG("~", 1);
                ARG(maxlen, strlen(maxlen));
            }
            ARG("*", 1);
            ARG(r->cfg.field, strlen(r->cfg.field));
            break;
        case WW_REDIS_PUBLISH:
            ARG("PUBLISH", 7);
            ARG(r->cfg.key, strlen(r->cfg.key));
            break;
        case WW_REDIS_RPUSH:
            ARG("RPUSH", 5);
            ARG(r->cfg.key, strlen(r->cfg.key));
            break;
        default:
            ARG("LPUSH", 5);
            ARG(r->cfg.key, strlen(r->cfg.key));
        }
        ARG(line, len);
#undef ARG
        if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK)
            return 0;
        off += 4 + len;
    }
    size_t got = 0;
    off = 0;
    for (; got < n; got++) {
        void *rep = NULL;
        if (redisGetReply(r->c, &rep) != REDIS_OK || rep == NULL)
            break;
        redisReply *rr = rep;
        if (rr->type == REDIS_REPLY_ERROR) {
            if (*rejected == 0 && r->log != NULL)
                fprintf(r->log, "walletwatch: redis: %s:%d rejected an event: %.200s\n",
                        r->cfg.host, r->cfg.port, rr->str ? rr->str : "error");
            (*rejected)++;
        }
        freeReplyObject(rr);
        uint32_t len;
        memcpy(&len, r->batch + off, 4);
        off += 4 + len;
    }
    *acked_bytes = off;
    return got;
}

static void *sender(void *ud)
{
    ww_redis *r = ud;
    unsigned backoff = BACKOFF_MIN_MS;
    uint64_t next_try = 0;
    bool down_reported = false;
    char why[256];
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (r->lines == 0 && !r->stopping)
            pthread_cond_wait(&r->cv, &r->mu);
        bool stop = r->stopping;
        uint64_t deadline = r->deadline_ms;
        size_t pending = r->lines;
        pthread_mutex_unlock(&r->mu);
        if (pending == 0 || (stop && now_ms() >= deadline))
            break;
        if (r->c == NULL) {
            uint64_t now = now_ms();
            if (now < next_try) { /* wait for the retry time, or stop */
                uint64_t until = stop ? WW_MIN(next_try, deadline) : next_try;
                uint64_t wait = until > now ? until - now : 0;
                struct timespec d = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000};
                nanosleep(&d, NULL);
                continue;
            }
            if (!connect_redis(r, why, sizeof why)) {
                if (!down_reported && r->log != NULL)
                    fprintf(r->log,
                            "walletwatch: redis: %s:%d: %s; buffering events and retrying\n",
                            r->cfg.host, r->cfg.port, why);
                down_reported = true;
                next_try = now_ms() + backoff;
                backoff = WW_MIN(backoff * 2, (unsigned)BACKOFF_MAX_MS);
                continue;
            }
            if (down_reported && r->log != NULL)
                fprintf(r->log, "walletwatch: redis: %s:%d: connected; sending %zu buffered "
                                "events\n",
                        r->cfg.host, r->cfg.port, pending);
            pthread_mutex_lock(&r->mu);
            r->reconnects += down_reported;
            pthread_mutex_unlock(&r->mu);
            down_reported = false;
            backoff = BACKOFF_MIN_MS;
        }
        size_t bytes, rejected, acked_bytes;
        pthread_mutex_lock(&r->mu);
        size_t n = take_batch(r, &bytes);
        pthread_mutex_unlock(&r->mu);
        if (n == 0)
            continue;
        size_t got = send_batch(r, n, &acked_bytes, &rejected);
        pthread_mutex_lock(&r->mu);
        consume(r, got, acked_bytes);
        r->sent += got - rejected;
        r->rejected += rejected;
        r->dropped += rejected;
        pthread_mutex_unlock(&r->mu);
        if (got < n) { /* the connection failed: what was not acknowledged is sent again */
            if (r->log != NULL)
                fprintf(r->log, "walletwatch: redis: %s:%d: %s; buffering events and "
                                "reconnecting\n",
                        r->cfg.host, r->cfg.port, r->c->errstr[0] ? r->c->errstr : "lost");
            down_reported = true;
            redisFree(r->c);
            r->c = NULL;
            next_try = now_ms() + backoff;
        }
    }
    return NULL;
}

int ww_redis_new(ww_redis **out, const ww_redis_cfg *cfg, FILE *log)
{
    *out = NULL;
    ww_redis *r = calloc(1, sizeof *r);
    if (r == NULL)
        return WW_E_NOMEM;
    r->cfg = *cfg;
    r->log = log;
    r->cap = cfg->buffer_bytes;
    r->ring = malloc(r->cap);
    if (r->ring == NULL) {
        free(r);
        return WW_E_NOMEM;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    /* signals (SIGINT, SIGHUP, SIGUSR1...) stay with the capture thread, whose handlers and
     * blocking reads expect them */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&r->th, NULL, sender, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r->ring);
        free(r);
        return WW_E_NOMEM;
    }
    r->th_started = true;
    *out = r;
    return WW_OK;
}

int ww_redis_close(ww_redis *r, ww_redis_stats *st)
{
    if (r == NULL)
        return WW_OK;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    r->deadline_ms = now_ms() + r->cfg.flush_ms;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->th_started)
        pthread_join(r->th, NULL);
    if (r->c != NULL)
        redisFree(r->c);
    uint64_t unsent = r->lines;
    r->dropped += unsent;
    if (r->log != NULL && r->dropped > 0)
        fprintf(r->log,
                "walletwatch: redis: %" PRIu64 " events sent to %s:%d, %" PRIu64
                " not delivered (%" PRIu64 " over the buffer or rejected, %" PRIu64
                " unsent when the %u ms flush ended)\n",
                r->sent, r->cfg.host, r->cfg.port, r->dropped, r->dropped - unsent, unsent,
                r->cfg.flush_ms);
    if (st != NULL) {
        st->sent = r->sent;
        st->dropped = r->dropped;
        st->rejected = r->rejected;
        st->reconnects = r->reconnects;
    }
    int rc = r->dropped > 0 ? WW_E_IO : WW_OK;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    ww_wipe(r->cfg.password, sizeof r->cfg.password);
    free(r->ring);
    free(r->batch);
    free(r);
    return rc;
}
