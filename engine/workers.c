/*
 * workers.c - --workers N: decoding sharded per flow over N threads, detection in packet order.
 *
 *   reader (the caller's thread): source -> filter -> pktdec -> packet number (seq) -> the
 *     flow's worker (a symmetric hash of the TCP 5-tuple; UDP: of the endpoint with the lower
 *     port, the server's, so a QUIC connection that migrates stays on its worker), its header
 *     and payload copied into the worker's input block (no allocation per packet).
 *   worker k: its own tcp table, QUIC, app layer (TLS, HTTP, decompression, JSON, address
 *     scanning) and key log copy. Its decode sink calls no detection: every fact (a served
 *     address, a wallet call, an anomaly, an HTTP message...) is serialised, deep, into its
 *     fact chunks, tagged with the key (seq, phase, order) of the moment that produced it.
 *   merge (the reader's thread, between reads): the facts of the N workers and the reader's
 *     own (pktdec anomalies) go to detection, the event writer and the subscribers in key
 *     order, which is the order the one-thread engine produces them in:
 *       seq    the packet number (the end of input: one past the last);
 *       phase  within that packet: the reader's facts, the packet's own, then the tick point's
 *              sweeps (tcp, QUIC key retries, QUIC idle), late keys; at the end tcp, QUIC,
 *              late keys closing;
 *       order  in a sweep or at the end: the flow's last-touch packet number (LRU order, which
 *              the one-thread tables close flows in); 0 in a packet's own phase.
 *     A fact is merged once every worker without a pending fact has said "all my facts up to
 *     packet X are out" (its watermark) with X >= its seq.
 * Ticks are broadcast to every worker at the same packet (engine.c: tick points), so flows time
 * out at the same packet whatever N is. Budgets (flows, out-of-order bytes, QUIC connections,
 * key-wait bytes) are split evenly over the workers.
 * Late keys (pcapng DSBs, a followed key log): each worker has its own copy of the key log. Key
 * text that comes during the run is broadcast into every worker's input at the point it came
 * (before the next packet), and after that packet every worker does what the one-thread engine
 * does after each packet (QUIC and TLS retries, parked connections); key text read at the end
 * goes with M_END, after the flows closed. The app layer ranks its late-key steps
 * (ww_app_set_rank_fn: open connections newest first, parked ones in the order they closed) so
 * they merge in one app's order; the key-wait peak is summed step by step (F_KW). Events are the
 * same for any N while the key-wait budget (split) is not reached.
 * -w evidence: the reader copies each packet's frame after its payload; the worker hands it
 * back as a fact (F_PKT, before the segment's own facts, as one thread's subscriber sees it;
 * a QUIC datagram after QUIC took it), and a flow's end (F_CLOSE), so the evidence rings see
 * packets, served flows, alerts and flow ends in one thread's order: the same file for any N.
 * With --evidence-secrets the reader's key log (what an alert embeds) takes key text that comes
 * during the run as a fact of its own (F_KEYTEXT, before the packet it came before), not when
 * it is read, which runs ahead of the merge.
 * Not sharded (one thread, said with -v): other packet subscribers.
 */
#include "engine/engine_int.h"
#include "decode/quic.h"

#include <pthread.h>
#include <time.h>

#define BLK_SIZE ((size_t)256 << 10) /* input block: packets for one worker */
#define IN_MAX 8                     /* full input blocks queued per worker */
#define FCH_SIZE ((size_t)256 << 10) /* fact chunk */
#define OUT_MAX 16                   /* fact chunks queued per worker */
#define SYNC_EVERY 512               /* packets between watermark pushes and merges */
#define LIVE_SYNC_NS 1000000         /* and at least this often while packets come */
#define MAC_CACHE 256
#define BATCH_MAX 512                /* served addresses in one F_SERVED record (59 KB) */

enum { M_SEG = 1, M_UDP, M_TICK, M_KEYS, M_STATS, M_END };
/* late keys (ww_app_keys_tick): open connections retried, parked ones retried, finished,
 * given up after their grace; PH_KEYS and PH_KFINAL are each followed by these steps */
#define KEY_STEPS 4
enum {
    PH_READER = 0, /* pktdec and source anomalies of this packet */
    PH_PKT,        /* the packet's own facts */
    PH_SWEEP,      /* tick point: tcp idle sweep */
    PH_QKEYS,      /* QUIC packets retried after the key log grew */
    PH_QIDLE,      /* tick point: QUIC idle connections */
    PH_KEYS,       /* late keys (+ a step) */
    /* --stats-interval: the workers' counters, then the event */
    PH_STATS = PH_KEYS + KEY_STEPS,
    PH_TFIN,   /* end: tcp flows closed */
    PH_QFIN,   /* end: QUIC connections closed */
    PH_KFINAL, /* end: late keys, last try (+ a step) */
};
enum {
    F_SERVED = 1, /* a run of served addresses with one context, provenance and key */
    F_WALLET,
    F_ANOM,
    F_HTTP,
    F_SCRIPT,
    F_SCRIPT_BODY,
    F_RPC,
    F_UNCHECKED,
    F_MAC,
    F_MIDSTREAM, /* a TCP flow picked up mid-stream: its client, the time */
    F_KW,     /* the bytes waiting for keys moved in a step: its peak, what waits after it */
    F_WSTATS, /* a worker's counters (--stats-interval) */
    F_STATS,  /* the reader's: the stats event, after every worker's counters */
    F_PKT,    /* -w: a packet for the evidence rings (its frame, its segment) */
    F_CLOSE,  /* -w: a flow ended */
    F_KEYTEXT, /* -w --evidence-secrets: key log text for the reader's key log (what the
                  evidence embeds), at the point one thread would have added it */
};

/* a worker's counters, as the run's stats sum them */
typedef struct wstats {
    ww_tcp_stats tcp;
    ww_app_stats app;
    ww_quic_stats quic;
    ww_keywait_stats kw;
} wstats;
static void wstats_add(wstats *a, const wstats *b);

typedef struct blk {
    struct blk *next;
    size_t len, cap;
    uint64_t upto; /* every message of packets <= upto is in this block or before it */
    uint8_t data[];
} blk;

typedef struct imsg {
    uint32_t kind;
    uint32_t size; /* the whole message, 8-aligned */
    uint64_t seq;
    uint64_t now;  /* the engine's clock (latest packet time) after this packet */
    bool tick;     /* M_SEG, M_UDP, M_TICK: a tick point follows the packet (M_TICK false:
                      only what follows every packet: late keys retried) */
    bool may_come; /* M_KEYS: keys may come later (records wait for them) */
    uint32_t klen; /* M_KEYS, M_END: key log text (after the message) */
    union {
        ww_seg seg;
        ww_udp_dgram dg;
    } u;
    ww_pkt pkt; /* -w: the frame (pkt.caplen bytes after the message; data NULL: none) */
    uint32_t poff; /* M_SEG, M_UDP: where the payload starts after the message (in the frame
                      when it lies there; else the payload, then the frame) */
    /* the payload (and the frame) follow */
} imsg;

typedef struct fchunk {
    struct fchunk *next;
    size_t len, cap, rd;
    uint8_t data[];
} fchunk;

typedef struct fhdr {
    uint64_t seq, order, order2;
    uint32_t phase, kind;
    uint32_t size; /* the whole record, 8-aligned */
    uint32_t pad;
} fhdr;

typedef struct fq {
    fchunk *head, *tail;
} fq;

/* growable serialisation scratch (kept between facts) */
typedef struct ser {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} ser;

typedef struct mac_ent {
    bool used;
    uint8_t mac[6];
    ww_ip ip;
} mac_ent;

struct ww_workers;

typedef struct worker {
    struct ww_workers *ws;
    ww_engine *e;
    unsigned idx;
    pthread_t th;
    bool started;
    ww_tcp *tcp;
    ww_quic *quic;
    ww_app *app;
    ww_keylog *kl;
    /* under ws->mx */
    blk *in_head, *in_tail;
    unsigned in_n;
    uint64_t blk_pushed, blk_done; /* blocks given to it, blocks it finished */
    fchunk *out_head, *out_tail;
    unsigned out_n;
    uint64_t out_w; /* watermark: every fact of packets <= out_w is out */
    /* counters as of the last block (the reader reads them under the lock) */
    ww_tcp_stats snap_tcp;
    ww_app_stats snap_app;
    ww_quic_stats snap_quic;
    ww_keywait_stats snap_kw;
    blk *blk_free;
    fchunk *fch_free;
    pthread_cond_t cv;
    /* the worker's own */
    fchunk *cur;
    fchunk *lfree; /* free chunks taken from fch_free */
    uint64_t seq, order, order2, now;
    uint32_t phase;
    uint32_t keys_base; /* PH_KEYS or PH_KFINAL while ww_app_keys_tick runs */
    uint64_t kw_seq, kw_order, kw_order2; /* the step the key-wait peak is measured over */
    uint32_t kw_phase;
    uint64_t kw_after; /* bytes waiting after the last F_KW */
    ser sc;
    /* the F_SERVED record being gathered (bat_n addresses; 0: none): its key, the length of
     * its context, where its count goes; cs: the next address's context, to compare */
    ser bat, cs;
    fhdr bat_h;
    size_t bat_ctx, bat_cnt;
    uint32_t bat_n;
    int32_t bat_prov;
    mac_ent macs[MAC_CACHE];
    uint64_t facts;
    /* the reader's (main thread) */
    blk *rb;          /* being filled */
    uint64_t rb_sent; /* upto of the last block pushed */
    fq mq;            /* fact chunks taken, being merged */
    unsigned mq_n;    /* how many (at most OUT_MAX taken at a time: memory stays bounded) */
    uint64_t mw;      /* their watermark */
    uint64_t kw_cur;  /* its bytes waiting for keys, as of the facts merged (F_KW) */
} worker;

struct ww_workers {
    unsigned n;
    pthread_mutex_t mx;
    pthread_cond_t cv_main;
    uint64_t events; /* under mx: bumped by every worker step the reader may wait for */
    worker *w;
    /* the reader's own facts (main thread only) */
    fq rq;
    fchunk *rcur;
    fchunk *rfree;
    ser rsc;
    uint64_t done_seq; /* every message of packets <= done_seq is dispatched */
    uint64_t since_sync;
    uint64_t next_sync_ns; /* live */
    bool ended;
    uint64_t merged;
    uint64_t kw_peak; /* the key-wait peak of the run, as one key log would have it */
    bool idle_open;   /* an idle tick was sent: its facts carry the last packet's number, which
                         the watermarks passed already; a worker counts as done with that
                         packet again only once it finished every block it was given */
    wstats st_acc;    /* F_WSTATS summed until their F_STATS */
    uint64_t st_got;  /* how many */
    unsigned stats_pending; /* F_STATS queued, not merged yet */
    bool keys_fresh; /* key text sent since the last packet: every worker retries after it */
    bool end_keys;   /* key text goes with M_END (end_text) */
    bool evidence;   /* -w: frames and flow ends come back as facts */
    const ww_pkt *cur_pkt; /* the packet being dispatched (its frame, for -w) */
    ww_buf end_text;
    /* the packet being dispatched: its message, completed after the decode */
    imsg *pending;
    worker *pending_w;
    ww_wallet_call wc; /* merging: one wallet call, kept off the stack */
};

/* ---- helpers ---- */

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void lock(struct ww_workers *ws)
{
    pthread_mutex_lock(&ws->mx);
}
static void unlock(struct ww_workers *ws)
{
    pthread_mutex_unlock(&ws->mx);
}

/* ---- serialisation ---- */

static void ser_need(ser *s, size_t n)
{
    if (s->oom || s->len + n <= s->cap)
        return;
    size_t nc = s->cap ? s->cap : 4096;
    while (nc < s->len + n)
        nc *= 2;
    uint8_t *np = realloc(s->p, nc);
    if (np == NULL) {
        s->oom = true;
        return;
    }
    s->p = np;
    s->cap = nc;
}

static void ser_put(ser *s, const void *p, size_t n)
{
    ser_need(s, n);
    if (s->oom)
        return;
    if (n > 0)
        memcpy(s->p + s->len, p, n);
    s->len += n;
}

#define SER_VAL(s, v) ser_put((s), &(v), sizeof(v))

static void ser_str(ser *s, const char *str)
{
    uint32_t n = str == NULL ? UINT32_MAX : (uint32_t)strlen(str);
    SER_VAL(s, n);
    if (str != NULL)
        ser_put(s, str, (size_t)n + 1);
}

static void ser_bytes(ser *s, const uint8_t *p, size_t n)
{
    uint64_t len = p == NULL ? UINT64_MAX : n;
    SER_VAL(s, len);
    if (p != NULL)
        ser_put(s, p, n);
}

enum { CTX_FLOW = 1, CTX_HTTP = 2, CTX_TLS = 4, CTX_QUIC = 8, CTX_NULL = 16 };

static void ser_ctx(ser *s, const ww_ctx *ctx)
{
    uint32_t fl = 0;
    if (ctx == NULL) {
        fl = CTX_NULL;
        SER_VAL(s, fl);
        return;
    }
    fl |= ctx->flow != NULL ? CTX_FLOW : 0;
    fl |= ctx->http != NULL ? CTX_HTTP : 0;
    fl |= ctx->tls != NULL ? CTX_TLS : 0;
    fl |= ctx->quic != NULL ? CTX_QUIC : 0;
    SER_VAL(s, fl);
    SER_VAL(s, ctx->ts_us);
    int32_t dir = ctx->dir;
    SER_VAL(s, dir);
    ser_str(s, ctx->app_proto);
    if (ctx->flow != NULL) {
        ww_flow f = *ctx->flow;
        f.app = NULL;
        SER_VAL(s, f);
    }
    if (ctx->http != NULL) {
        int32_t st = ctx->http->status;
        SER_VAL(s, st);
        ser_str(s, ctx->http->hostname);
        ser_str(s, ctx->http->url);
        ser_str(s, ctx->http->method);
        ser_str(s, ctx->http->content_type);
    }
    if (ctx->tls != NULL)
        SER_VAL(s, *ctx->tls);
    if (ctx->quic != NULL)
        SER_VAL(s, *ctx->quic);
}

/* the reading side: pointers into the record, which lives until the record is merged */
typedef struct des {
    const uint8_t *p;
    size_t n, off;
} des;

static void des_get(des *d, void *out, size_t n)
{
    WW_ASSERT(d->off + n <= d->n);
    memcpy(out, d->p + d->off, n);
    d->off += n;
}
#define DES_VAL(d, v) des_get((d), &(v), sizeof(v))

static const char *des_str(des *d)
{
    uint32_t n;
    DES_VAL(d, n);
    if (n == UINT32_MAX)
        return NULL;
    const char *s = (const char *)(d->p + d->off);
    d->off += (size_t)n + 1;
    WW_ASSERT(d->off <= d->n);
    return s;
}

static const uint8_t *des_bytes(des *d, size_t *n)
{
    uint64_t len;
    DES_VAL(d, len);
    if (len == UINT64_MAX) {
        *n = 0;
        return NULL;
    }
    const uint8_t *p = d->p + d->off;
    d->off += len;
    WW_ASSERT(d->off <= d->n);
    *n = len;
    return p;
}

typedef struct dctx {
    ww_ctx ctx;
    ww_flow flow;
    ww_http_info http;
    ww_tls_info tls;
    ww_quic_info quic;
} dctx;

/* NULL when the fact had no context */
static const ww_ctx *des_ctx(des *d, dctx *c)
{
    uint32_t fl;
    DES_VAL(d, fl);
    if (fl & CTX_NULL)
        return NULL;
    memset(&c->ctx, 0, sizeof c->ctx);
    DES_VAL(d, c->ctx.ts_us);
    int32_t dir;
    DES_VAL(d, dir);
    c->ctx.dir = dir;
    c->ctx.app_proto = des_str(d);
    if (fl & CTX_FLOW) {
        DES_VAL(d, c->flow);
        c->ctx.flow = &c->flow;
    }
    if (fl & CTX_HTTP) {
        int32_t st;
        DES_VAL(d, st);
        c->http.status = st;
        c->http.hostname = des_str(d);
        c->http.url = des_str(d);
        c->http.method = des_str(d);
        c->http.content_type = des_str(d);
        c->ctx.http = &c->http;
    }
    if (fl & CTX_TLS) {
        DES_VAL(d, c->tls);
        c->ctx.tls = &c->tls;
    }
    if (fl & CTX_QUIC) {
        DES_VAL(d, c->quic);
        c->ctx.quic = &c->quic;
    }
    return &c->ctx;
}

/* ---- fact chunks ---- */

static fchunk *fch_new(fchunk **freel, size_t need)
{
    fchunk *c = NULL;
    if (need <= FCH_SIZE && *freel != NULL) {
        c = *freel;
        *freel = c->next;
    } else {
        size_t cap = WW_MAX(need, FCH_SIZE);
        c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->cap = cap;
    }
    c->next = NULL;
    c->len = c->rd = 0;
    return c;
}

static void fq_push(fq *q, fchunk *c)
{
    c->next = NULL;
    if (q->tail != NULL)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
}

/* Appends the record in s (header + body) to *cur; full chunks go to publish(). */
static void fact_commit(fchunk **cur, fchunk **freel, const fhdr *h0, ser *s,
                        void (*publish)(void *ud, fchunk *c), void *ud)
{
    if (s->oom) {
        s->oom = false;
        s->len = 0;
        return; /* out of memory: the fact is lost (never happens with realistic sizes) */
    }
    fhdr h = *h0;
    size_t body = s->len;
    h.size = (uint32_t)align8(sizeof h + body);
    if (*cur != NULL && (*cur)->len + h.size > (*cur)->cap) {
        publish(ud, *cur);
        *cur = NULL;
    }
    if (*cur == NULL) {
        *cur = fch_new(freel, h.size);
        if (*cur == NULL) {
            s->len = 0;
            return;
        }
    }
    fchunk *c = *cur;
    memcpy(c->data + c->len, &h, sizeof h);
    memcpy(c->data + c->len + sizeof h, s->p, body);
    c->len += h.size;
    s->len = 0;
}

/* ---- the worker's side ---- */

static void w_publish_full(void *ud, fchunk *c)
{
    worker *w = ud;
    struct ww_workers *ws = w->ws;
    lock(ws);
    while (w->out_n >= OUT_MAX)
        pthread_cond_wait(&w->cv, &ws->mx);
    c->next = NULL;
    if (w->out_tail != NULL)
        w->out_tail->next = c;
    else
        w->out_head = c;
    w->out_tail = c;
    w->out_n++;
    ws->events++;
    pthread_cond_signal(&ws->cv_main);
    unlock(ws);
}

static void w_commit(worker *w, const fhdr *h, ser *s)
{
    if (w->lfree == NULL &&
        (w->cur == NULL || w->cur->len + align8(sizeof *h + s->len) > w->cur->cap)) {
        lock(w->ws); /* merged chunks come back here */
        w->lfree = w->fch_free;
        w->fch_free = NULL;
        unlock(w->ws);
    }
    fact_commit(&w->cur, &w->lfree, h, s, w_publish_full, w);
    w->facts++;
}

/* The served addresses gathered go out before any other fact (and at the end of a block). */
static void w_batch_flush(worker *w)
{
    if (w->bat_n == 0)
        return;
    if (!w->bat.oom)
        memcpy(w->bat.p + w->bat_cnt, &w->bat_n, sizeof w->bat_n);
    w->bat_n = 0;
    w_commit(w, &w->bat_h, &w->bat);
}

static void w_fact(worker *w, uint32_t kind)
{
    fhdr h = {.seq = w->seq, .order = w->order, .order2 = w->order2, .phase = w->phase,
              .kind = kind};
    w_batch_flush(w);
    w_commit(w, &h, &w->sc);
}

/* Served addresses (the facts there are most of: every address of every response body) go
 * as runs: one record holds the addresses that come one after the other with the same key,
 * context and provenance (prov -1: the plain served callback), merged one by one in the
 * order they came, as the single facts would have been; the context is written once. */
static void w_served(worker *w, const ww_ctx *ctx, const ww_addr *a, size_t n, int32_t prov)
{
    w->cs.len = 0;
    ser_ctx(&w->cs, ctx);
    bool same = w->bat_n > 0 && !w->cs.oom && w->bat_prov == prov && w->bat_h.seq == w->seq &&
                w->bat_h.phase == w->phase && w->bat_h.order == w->order &&
                w->bat_h.order2 == w->order2 && w->bat_ctx == w->cs.len &&
                memcmp(w->bat.p, w->cs.p, w->cs.len) == 0;
    for (size_t i = 0; i < n; i++) {
        if (!same || w->bat_n >= BATCH_MAX) { /* a new record: key, context, count */
            w_batch_flush(w);
            fhdr h = {.seq = w->seq, .order = w->order, .order2 = w->order2,
                      .phase = w->phase, .kind = F_SERVED};
            uint32_t zero = 0;
            w->bat_h = h;
            w->bat_prov = prov;
            w->bat.len = 0;
            ser_put(&w->bat, w->cs.p, w->cs.len);
            w->bat_ctx = w->cs.len;
            SER_VAL(&w->bat, prov);
            w->bat_cnt = w->bat.len;
            SER_VAL(&w->bat, zero);
            if (w->cs.oom) /* its context is not whole: the record is dropped (fact_commit) */
                w->bat.oom = true;
            same = true;
        }
        SER_VAL(&w->bat, a[i]);
        w->bat_n++;
    }
    w->cs.oom = false;
}

static void s_served(void *ud, const ww_ctx *ctx, const ww_addr *addr)
{
    w_served(ud, ctx, addr, 1, -1);
}
static void s_served_prov(void *ud, const ww_ctx *ctx, const ww_addr *addr, int prov)
{
    w_served(ud, ctx, addr, 1, prov);
}
static void s_served_run(void *ud, const ww_ctx *ctx, const ww_addr *addrs, size_t n)
{
    w_served(ud, ctx, addrs, n, -1);
}
static void s_wallet_call(void *ud, const ww_ctx *ctx, const ww_wallet_call *wc)
{
    worker *w = ud;
    ser_ctx(&w->sc, ctx);
    SER_VAL(&w->sc, *wc);
    w_fact(w, F_WALLET);
}
static void ser_anomaly(ser *s, const ww_ctx *ctx, const char *layer, const char *type,
                        const char *detail)
{
    ser_ctx(s, ctx);
    ser_str(s, layer);
    ser_str(s, type);
    ser_str(s, detail);
}
static void s_anomaly(void *ud, const ww_ctx *ctx, const char *layer, const char *type,
                      const char *detail)
{
    worker *w = ud;
    ser_anomaly(&w->sc, ctx, layer, type, detail);
    w_fact(w, F_ANOM);
}
static void s_http(void *ud, const ww_ctx *ctx, const ww_http_msg *m)
{
    worker *w = ud;
    ser *s = &w->sc;
    ser_ctx(s, ctx);
    ww_http_msg c = *m;
    SER_VAL(s, c); /* the scalars; the pointers are written after and replaced on reading */
    ser_str(s, m->method);
    ser_str(s, m->url);
    ser_str(s, m->host);
    ser_str(s, m->version);
    ser_str(s, m->content_type);
    ser_str(s, m->content_encoding);
    ser_str(s, m->transfer_encoding);
    ser_str(s, m->location);
    ser_str(s, m->content_location);
    ser_str(s, m->link);
    ser_bytes(s, m->body.ptr, m->body.len);
    w_fact(w, F_HTTP);
}
static void s_script(void *ud, const ww_ctx *ctx, const ww_addr *addrs, size_t n)
{
    worker *w = ud;
    uint64_t n64 = n;
    ser_ctx(&w->sc, ctx);
    SER_VAL(&w->sc, n64);
    ser_put(&w->sc, addrs, n * sizeof *addrs);
    w_fact(w, F_SCRIPT);
}
static void s_script_body(void *ud, const ww_ctx *ctx, const uint8_t *p, size_t n)
{
    worker *w = ud;
    ser_ctx(&w->sc, ctx);
    ser_bytes(&w->sc, p, n);
    w_fact(w, F_SCRIPT_BODY);
}
static void s_rpc_result(void *ud, const ww_ctx *ctx, const char *method,
                         const struct ww_jsonrpc_resp *resp)
{
    worker *w = ud;
    ser_ctx(&w->sc, ctx);
    ser_str(&w->sc, method);
    SER_VAL(&w->sc, *resp);
    w_fact(w, F_RPC);
}
static void s_unchecked_call(void *ud, const ww_ctx *ctx, const char *detail)
{
    worker *w = ud;
    ser_ctx(&w->sc, ctx);
    ser_str(&w->sc, detail);
    w_fact(w, F_UNCHECKED);
}

/* A host's MAC and address (detection joins a browser's IPv4 and IPv6): once per pair per
 * worker; detection takes a pair it knows as a no-op. */
static void w_mac(worker *w, const ww_seg *seg)
{
    size_t n = seg->src.family == 4 ? 4 : 16;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < 6; i++)
        h = (h ^ seg->src_mac[i]) * 16777619u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ seg->src.a[i]) * 16777619u;
    mac_ent *m = &w->macs[h % MAC_CACHE];
    if (m->used && memcmp(m->mac, seg->src_mac, 6) == 0 && ww_ip_eq(&m->ip, &seg->src))
        return;
    m->used = true;
    memcpy(m->mac, seg->src_mac, 6);
    m->ip = seg->src;
    ser_put(&w->sc, seg->src_mac, 6);
    SER_VAL(&w->sc, seg->src);
    SER_VAL(&w->sc, seg->ts_us);
    w_fact(w, F_MAC);
}

static void w_kw_check(worker *w);

/* tcp and QUIC callbacks: the worker's app layer; in a sweep or at the end, facts are ordered
 * by the flow's last touch */
static void w_order_tcp(worker *w, const ww_flow *f)
{
    if (w->phase != PH_PKT && f != NULL && w->order != ww_tcp_flow_touch(f)) {
        w_kw_check(w);
        w->order = ww_tcp_flow_touch(f);
        w_kw_check(w);
    }
}
static void w_order_quic(worker *w, const ww_flow *f)
{
    if (w->phase != PH_PKT && f != NULL && w->order != ww_quic_flow_touch(f)) {
        w_kw_check(w);
        w->order = ww_quic_flow_touch(f);
        w_kw_check(w);
    }
}
/* -w: the packet's frame for the evidence rings (the segment names its flow; its payload is
 * not needed there) */
static void w_frame(worker *w, const imsg *m, const ww_seg *seg)
{
    ww_pkt pk = m->pkt;
    ww_seg sg = *seg;
    pk.data = NULL;
    sg.payload = NULL;
    SER_VAL(&w->sc, pk);
    SER_VAL(&w->sc, sg);
    ser_bytes(&w->sc, m->pkt.data, m->pkt.caplen);
    w_fact(w, F_PKT);
}

/* -w: a flow ended (after the app layer's last facts of it, as one thread's subscribers) */
static void w_flow_end(worker *w, const ww_flow *f)
{
    if (!w->ws->evidence)
        return;
    ww_flow fl = *f;
    fl.app = NULL;
    SER_VAL(&w->sc, fl);
    w_fact(w, F_CLOSE);
}

static void w_st_open(void *ud, ww_flow *f, uint64_t ts_us)
{
    worker *w = ud;
    f->id = w->seq;
    w_order_tcp(w, f);
    if (f->midstream) { /* before the app layer's facts of it, as st_open */
        SER_VAL(&w->sc, f->cli_ip);
        SER_VAL(&w->sc, ts_us);
        w_fact(w, F_MIDSTREAM);
    }
    ww_app_on_open(w->app, f, ts_us);
}
static void w_st_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    worker *w = ud;
    w_order_tcp(w, f);
    ww_app_on_data(w->app, f, dir, p, n, ts_us);
}
static void w_st_gap(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts_us)
{
    worker *w = ud;
    w_order_tcp(w, f);
    ww_app_on_gap(w->app, f, dir, len, ts_us);
}
static void w_st_close(void *ud, ww_flow *f, int reason, uint64_t ts_us)
{
    worker *w = ud;
    w_order_tcp(w, f);
    ww_app_on_close(w->app, f, reason, ts_us);
    w_flow_end(w, f);
}
static void w_st_anomaly(void *ud, uint64_t ts_us, const ww_flow *f, const char *layer,
                         const char *type, const char *detail)
{
    worker *w = ud;
    w_order_tcp(w, f);
    ww_app_on_anomaly(w->app, ts_us, f, layer, type, detail);
}
static void w_q_open(void *ud, ww_flow *f, uint64_t ts_us)
{
    worker *w = ud;
    w_order_quic(w, f);
    ww_app_quic_open(w->app, f, ts_us);
}
static void w_q_stream(void *ud, ww_flow *f, int dir, uint64_t sid, const uint8_t *p, size_t n,
                       bool fin, uint64_t ts_us)
{
    worker *w = ud;
    w_order_quic(w, f);
    ww_app_quic_stream(w->app, f, dir, sid, p, n, fin, ts_us);
}
static void w_q_reset(void *ud, ww_flow *f, int dir, uint64_t sid, uint64_t error_code,
                      uint64_t ts_us)
{
    worker *w = ud;
    (void)error_code;
    w_order_quic(w, f);
    ww_app_quic_reset(w->app, f, dir, sid, ts_us);
}
static void w_q_close(void *ud, ww_flow *f, int reason, uint64_t ts_us)
{
    worker *w = ud;
    (void)reason;
    w_order_quic(w, f);
    ww_app_quic_close(w->app, f, ts_us);
    w_flow_end(w, f);
}
static void w_q_anomaly(void *ud, uint64_t ts_us, const ww_flow *f, const char *layer,
                        const char *type, const char *detail)
{
    worker *w = ud;
    w_order_quic(w, f);
    ww_app_on_anomaly(w->app, ts_us, f, layer, type, detail);
}
static uint64_t w_q_next_flow_id(void *ud)
{
    return ((worker *)ud)->seq;
}

/* Key-wait bytes: one thread has one peak over every session; here each worker's sessions
 * wait in its own key log. At the end of every step (a merge key: a packet's phase, a flow in a
 * sweep or a late-key step) whose waiting bytes moved, the worker says what they peaked at in
 * the step and what waits after it; the merge adds the others' to get the one-thread peak. */
static void w_kw_check(worker *w)
{
    const ww_keywait_stats *st = ww_keylog_wait_stats(w->kl);
    if (st->bytes_peak != w->kw_after || st->bytes_waiting != w->kw_after) {
        uint64_t pk = st->bytes_peak, after = st->bytes_waiting;
        uint64_t seq = w->seq, order = w->order, order2 = w->order2;
        uint32_t phase = w->phase;
        w->seq = w->kw_seq, w->order = w->kw_order, w->order2 = w->kw_order2;
        w->phase = w->kw_phase;
        SER_VAL(&w->sc, pk);
        SER_VAL(&w->sc, after);
        w_fact(w, F_KW);
        w->seq = seq, w->order = order, w->order2 = order2, w->phase = phase;
        w->kw_after = after;
        ww_keylog_wait_peak_reset(w->kl);
    }
    w->kw_seq = w->seq, w->kw_order = w->order, w->kw_order2 = w->order2;
    w->kw_phase = w->phase;
}

static void w_phase(worker *w, uint32_t ph)
{
    w_kw_check(w);
    w->phase = ph;
    w->order = 0;
    w->order2 = 0;
    w_kw_check(w);
}

/* The app's late-key ranks (ww_app_set_rank_fn): a connection's rank is the merge key of the
 * moment it turned TLS or was parked; a step of ww_app_keys_tick is ordered by it (open ones
 * newest first, parked ones oldest first), as one app's lists would be. */
static void w_rank(void *ud, int what, uint64_t rank[2])
{
    worker *w = ud;
    switch (what) {
    case WW_APP_RANK_TLS:
    case WW_APP_RANK_PARK:
        rank[0] = w->seq << 8 | w->phase;
        rank[1] = w->order;
        break;
    case WW_APP_STEP_OPEN:
        w_kw_check(w);
        w->phase = w->keys_base;
        w->order = ~rank[0];
        w->order2 = ~rank[1];
        w_kw_check(w);
        break;
    default:
        w_kw_check(w);
        w->phase = w->keys_base + (uint32_t)(what - WW_APP_STEP_OPEN);
        w->order = rank[0];
        w->order2 = rank[1];
        w_kw_check(w);
        break;
    }
}

static void w_keys_tick(worker *w, uint32_t base, uint64_t now, bool final)
{
    const ww_engine *e = w->e;
    w_phase(w, base);
    w->keys_base = base;
    ww_app_keys_tick(w->app, now, e->cfg.live ? ww_keylog_late_key_grace_us(w->kl) : UINT64_MAX,
                     final);
}

/* After a packet (or at a broadcast tick): what the one-thread engine does after each packet,
 * the sweeps only at tick points. */
static void w_after(worker *w, bool tick, uint64_t now)
{
    if (tick) {
        w_phase(w, PH_SWEEP);
        ww_tcp_sweep(w->tcp, now);
    }
    w_phase(w, PH_QKEYS);
    ww_quic_tick_keys(w->quic, now);
    if (tick) {
        w_phase(w, PH_QIDLE);
        ww_quic_tick_idle(w->quic, now);
    }
    w_keys_tick(w, PH_KEYS, now, false);
}

static bool w_message(worker *w, imsg *m)
{
    w_kw_check(w);
    w->seq = m->seq;
    w->now = m->now;
    ww_tcp_set_seq(w->tcp, m->seq);
    ww_quic_set_seq(w->quic, m->seq);
    switch (m->kind) {
    case M_SEG:
        w_phase(w, PH_PKT);
        m->u.seg.payload = (const uint8_t *)(m + 1) + m->poff;
        if (m->u.seg.has_src_mac)
            w_mac(w, &m->u.seg);
        if (m->pkt.data != NULL)
            w_frame(w, m, &m->u.seg);
        ww_tcp_segment(w->tcp, &m->u.seg);
        w_after(w, m->tick, m->now);
        break;
    case M_UDP: {
        w_phase(w, PH_PKT);
        const ww_udp_dgram *dg = &m->u.dg;
        m->u.dg.payload = (const uint8_t *)(m + 1) + m->poff;
        if (ww_quic_datagram(w->quic, dg) && m->pkt.data != NULL) {
            /* as one thread: kept (by its 4-tuple) after QUIC took it */
            ww_seg seg = {.ts_us = dg->ts_us, .src = dg->src, .dst = dg->dst,
                          .sport = dg->sport, .dport = dg->dport, .len = dg->len,
                          .wire_len = dg->wire_len};
            w_frame(w, m, &seg);
        }
        w_after(w, m->tick, m->now);
        break;
    }
    case M_TICK:
        w_after(w, m->tick, m->now);
        break;
    case M_STATS: {
        wstats st;
        w_phase(w, PH_STATS);
        st.tcp = *ww_tcp_stats_get(w->tcp);
        st.app = *ww_app_stats_get(w->app);
        st.quic = *ww_quic_stats_get(w->quic);
        st.kw = *ww_keylog_wait_stats(w->kl);
        SER_VAL(&w->sc, st);
        w_fact(w, F_WSTATS);
        break;
    }
    case M_KEYS:
        if (m->may_come)
            ww_keylog_set_keys_may_come(w->kl, true);
        if (m->klen > 0) {
            ww_keylog_add_text(w->kl, (const uint8_t *)(m + 1), m->klen);
            ww_wipe(m + 1, m->klen); /* key material */
        }
        break;
    case M_END:
        w_phase(w, PH_TFIN);
        ww_tcp_finish(w->tcp, m->now);
        w_phase(w, PH_QFIN);
        ww_quic_finish(w->quic, m->now);
        if (m->klen > 0) { /* keys read at the end: after the flows closed, as one thread */
            ww_keylog_add_text(w->kl, (const uint8_t *)(m + 1), m->klen);
            ww_wipe(m + 1, m->klen);
        }
        w_keys_tick(w, PH_KFINAL, m->now, true);
        return true;
    default:
        WW_ASSERT(0);
    }
    return false;
}

static void *w_main(void *arg)
{
    worker *w = arg;
    struct ww_workers *ws = w->ws;
    bool end = false;
    while (!end) {
        lock(ws);
        while (w->in_head == NULL)
            pthread_cond_wait(&w->cv, &ws->mx);
        blk *b = w->in_head;
        w->in_head = b->next;
        if (w->in_head == NULL)
            w->in_tail = NULL;
        w->in_n--;
        ws->events++;
        pthread_cond_signal(&ws->cv_main);
        unlock(ws);
        for (size_t off = 0; off < b->len && !end;) {
            imsg *m = (imsg *)(void *)(b->data + off);
            off += m->size;
            end = w_message(w, m);
        }
        w_batch_flush(w);
        w_kw_check(w); /* the last step's key-wait bytes go with its facts */
        /* publish: the facts so far, and the watermark */
        lock(ws);
        if (w->cur != NULL && w->cur->len > 0) {
            while (w->out_n >= OUT_MAX)
                pthread_cond_wait(&w->cv, &ws->mx);
            fchunk *c = w->cur;
            w->cur = NULL;
            c->next = NULL;
            if (w->out_tail != NULL)
                w->out_tail->next = c;
            else
                w->out_head = c;
            w->out_tail = c;
            w->out_n++;
        }
        w->out_w = end ? UINT64_MAX : b->upto;
        w->snap_tcp = *ww_tcp_stats_get(w->tcp);
        w->snap_app = *ww_app_stats_get(w->app);
        w->snap_quic = *ww_quic_stats_get(w->quic);
        w->snap_kw = *ww_keylog_wait_stats(w->kl);
        b->next = w->blk_free;
        w->blk_free = b;
        w->blk_done++;
        ws->events++;
        pthread_cond_signal(&ws->cv_main);
        unlock(ws);
    }
    return NULL;
}

/* ---- the reader's side ---- */

static void r_publish_full(void *ud, fchunk *c)
{
    struct ww_workers *ws = ud;
    fq_push(&ws->rq, c);
}

static void r_fact_at(struct ww_workers *ws, uint64_t seq, uint32_t phase, uint64_t order,
                      uint32_t kind)
{
    fhdr h = {.seq = seq, .order = order, .phase = phase, .kind = kind};
    fact_commit(&ws->rcur, &ws->rfree, &h, &ws->rsc, r_publish_full, ws);
}

static void r_fact(struct ww_workers *ws, uint64_t seq, uint32_t kind)
{
    r_fact_at(ws, seq, PH_READER, 0, kind);
}

void ww_workers_reader_anomaly(ww_engine *e, uint64_t ts_us, const char *layer,
                               const char *type, const char *detail)
{
    struct ww_workers *ws = e->wk;
    ww_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.ts_us = ts_us;
    ser_anomaly(&ws->rsc, &ctx, layer, type, detail);
    /* pktdec's: of the packet being decoded; the source's: before the next packet */
    r_fact(ws, ws->done_seq + 1, F_ANOM);
}

/* ---- merging ---- */

/* Takes every published chunk and watermark. Under the lock. */
static bool grab(struct ww_workers *ws)
{
    bool any = false;
    for (unsigned k = 0; k < ws->n; k++) {
        worker *w = &ws->w[k];
        if (w->mq_n >= OUT_MAX)
            continue; /* merge what was taken first; the watermark covers what is left */
        if (w->out_head != NULL) {
            w->mq_n += w->out_n;
            if (w->mq.tail != NULL)
                w->mq.tail->next = w->out_head;
            else
                w->mq.head = w->out_head;
            w->mq.tail = w->out_tail;
            w->out_head = w->out_tail = NULL;
            w->out_n = 0;
            pthread_cond_signal(&w->cv);
            any = true;
        }
        if (w->mw != w->out_w)
            any = true;
        w->mw = w->out_w;
    }
    return any;
}

static const fhdr *fq_peek(fq *q)
{
    while (q->head != NULL && q->head->rd >= q->head->len)
        return NULL; /* exhausted chunks are popped by fq_advance */
    return q->head != NULL ? (const fhdr *)(const void *)(q->head->data + q->head->rd) : NULL;
}

static int key_cmp(const fhdr *a, const fhdr *b)
{
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    if (a->phase != b->phase)
        return a->phase < b->phase ? -1 : 1;
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    if (a->order2 != b->order2)
        return a->order2 < b->order2 ? -1 : 1;
    return 0;
}

static void emit(ww_engine *e, const fhdr *h, unsigned from)
{
    const ww_decode_sink *s = &e->sink;
    des d = {(const uint8_t *)(h + 1), h->size - sizeof *h, 0};
    dctx c;
    const ww_ctx *ctx;
    switch (h->kind) {
    case F_MAC: {
        uint8_t mac[6];
        ww_ip ip;
        uint64_t ts;
        des_get(&d, mac, 6);
        DES_VAL(&d, ip);
        DES_VAL(&d, ts);
        ww_detect_learn_mac(e->det, mac, &ip, ts);
        break;
    }
    case F_MIDSTREAM: {
        ww_ip ip;
        uint64_t ts;
        DES_VAL(&d, ip);
        DES_VAL(&d, ts);
        ww_engine_midstream(e, &ip, ts);
        break;
    }
    case F_KW: {
        struct ww_workers *ws = e->wk;
        uint64_t pk, after, others = 0;
        DES_VAL(&d, pk);
        DES_VAL(&d, after);
        for (unsigned k = 0; k < ws->n; k++)
            if (k != from)
                others += ws->w[k].kw_cur;
        ws->kw_peak = WW_MAX(ws->kw_peak, others + pk);
        ws->w[from].kw_cur = after;
        break;
    }
    case F_WSTATS: {
        wstats one;
        DES_VAL(&d, one);
        wstats_add(&e->wk->st_acc, &one);
        e->wk->st_got++;
        break;
    }
    case F_STATS: {
        struct ww_workers *ws = e->wk;
        uint64_t asked, ts, drops;
        ww_pktdec_stats ps;
        ww_run_stats st;
        DES_VAL(&d, asked);
        DES_VAL(&d, ts);
        DES_VAL(&d, drops);
        DES_VAL(&d, ps);
        ws->st_acc.kw.bytes_peak = ws->kw_peak;
        ww_engine_fill_stats(e, 0, &ps, &ws->st_acc.tcp, &ws->st_acc.app, &ws->st_acc.quic,
                             &ws->st_acc.kw, &st);
        st.drops = drops;
        ww_out_stats_interval(e->out, ts, &st);
        memset(&ws->st_acc, 0, sizeof ws->st_acc);
        ws->st_got = 0;
        ws->stats_pending--;
        break;
    }
    case F_SERVED: {
        int32_t prov;
        uint32_t n;
        ctx = des_ctx(&d, &c);
        DES_VAL(&d, prov);
        DES_VAL(&d, n);
        WW_ASSERT(d.off + (size_t)n * sizeof(ww_addr) <= d.n);
        /* addresses are byte structs: read in place */
        const ww_addr *a = (const ww_addr *)(const void *)(d.p + d.off);
        for (uint32_t i = 0; i < n; i++) {
            ww_detect_prefetch_run(e->det, ctx, a, n, i);
            if (prov < 0)
                s->served(s->ud, ctx, &a[i]);
            else
                s->served_prov(s->ud, ctx, &a[i], prov);
        }
        break;
    }
    case F_WALLET: {
        ctx = des_ctx(&d, &c);
        DES_VAL(&d, e->wk->wc);
        s->wallet_call(s->ud, ctx, &e->wk->wc);
        break;
    }
    case F_ANOM: {
        ctx = des_ctx(&d, &c);
        const char *layer = des_str(&d), *type = des_str(&d), *detail = des_str(&d);
        s->anomaly(s->ud, ctx, layer, type, detail);
        break;
    }
    case F_HTTP: {
        ww_http_msg m;
        ctx = des_ctx(&d, &c);
        DES_VAL(&d, m);
        m.method = des_str(&d);
        m.url = des_str(&d);
        m.host = des_str(&d);
        m.version = des_str(&d);
        m.content_type = des_str(&d);
        m.content_encoding = des_str(&d);
        m.transfer_encoding = des_str(&d);
        m.location = des_str(&d);
        m.content_location = des_str(&d);
        m.link = des_str(&d);
        m.body.ptr = des_bytes(&d, &m.body.len);
        s->http(s->ud, ctx, &m);
        break;
    }
    case F_SCRIPT: {
        uint64_t n;
        ctx = des_ctx(&d, &c);
        DES_VAL(&d, n);
        /* addresses are 8-byte free structs (bytes): read them in place */
        const ww_addr *a = (const ww_addr *)(const void *)(d.p + d.off);
        s->script(s->ud, ctx, a, (size_t)n);
        break;
    }
    case F_SCRIPT_BODY: {
        size_t n;
        ctx = des_ctx(&d, &c);
        const uint8_t *p = des_bytes(&d, &n);
        s->script_body(s->ud, ctx, p, n);
        break;
    }
    case F_RPC: {
        struct ww_jsonrpc_resp r;
        ctx = des_ctx(&d, &c);
        const char *method = des_str(&d);
        DES_VAL(&d, r);
        s->rpc_result(s->ud, ctx, method, &r);
        break;
    }
    case F_UNCHECKED: {
        ctx = des_ctx(&d, &c);
        const char *detail = des_str(&d);
        s->unchecked_call(s->ud, ctx, detail);
        break;
    }
    case F_PKT: {
        ww_pkt pk;
        ww_seg sg;
        size_t n;
        DES_VAL(&d, pk);
        DES_VAL(&d, sg);
        pk.data = des_bytes(&d, &n);
        ww_engine_evidence_packet(e, &pk, &sg);
        break;
    }
    case F_CLOSE: {
        ww_flow fl;
        DES_VAL(&d, fl);
        ww_engine_evidence_close(e, &fl);
        break;
    }
    case F_KEYTEXT: {
        size_t n;
        uint8_t *p = (uint8_t *)(uintptr_t)des_bytes(&d, &n); /* the record is ours to wipe */
        ww_keylog_add_text(e->kl, p, n);
        ww_wipe(p, n);
        break;
    }
    default:
        WW_ASSERT(0);
    }
}

/* Drops the head record of q; an exhausted chunk goes back to *freel (true then). */
static bool fq_advance(fq *q, fchunk **freel)
{
    fchunk *c = q->head;
    const fhdr *h = (const fhdr *)(const void *)(c->data + c->rd);
    c->rd += h->size;
    if (c->rd >= c->len) {
        q->head = c->next;
        if (q->head == NULL)
            q->tail = NULL;
        if (c->cap == FCH_SIZE) {
            c->next = *freel;
            *freel = c;
        } else {
            free(c);
        }
        return true;
    }
    return false;
}

/* Merges every fact whose turn has come. Returns true when any was merged or taken. */
static bool merge(ww_engine *e)
{
    struct ww_workers *ws = e->wk;
    unsigned n = ws->n;
    if (ws->rcur != NULL && ws->rcur->len > 0) { /* the reader's facts so far */
        fq_push(&ws->rq, ws->rcur);
        ws->rcur = NULL;
    }
    bool behind[WW_ENGINE_MAX_WORKERS] = {0};
    lock(ws);
    bool progress = grab(ws);
    if (ws->idle_open) {
        bool all = true;
        for (unsigned k = 0; k < n; k++) {
            const worker *w = &ws->w[k];
            behind[k] = w->started && (w->blk_done != w->blk_pushed || w->rb != NULL ||
                                       w->out_head != NULL);
            all &= !behind[k];
        }
        ws->idle_open = !all;
    }
    unlock(ws);
    fchunk *back[WW_ENGINE_MAX_WORKERS] = {0};
    uint64_t rw = ws->ended ? UINT64_MAX : ws->done_seq;
    for (;;) {
        const fhdr *best = NULL;
        int bi = -1;
        for (unsigned k = 0; k <= n; k++) {
            fq *q = k < n ? &ws->w[k].mq : &ws->rq;
            const fhdr *h = fq_peek(q);
            if (h != NULL && (best == NULL || key_cmp(h, best) < 0)) {
                best = h;
                bi = (int)k;
            }
        }
        if (best == NULL)
            break;
        bool ok = true;
        for (unsigned k = 0; k <= n && ok; k++) {
            if ((int)k == bi)
                continue;
            fq *q = k < n ? &ws->w[k].mq : &ws->rq;
            uint64_t wm = k < n ? ws->w[k].mw : rw;
            if (k < n && behind[k]) /* an idle tick's facts may still come at done_seq */
                wm = WW_MIN(wm, ws->done_seq - 1);
            if (q->head == NULL && wm < best->seq)
                ok = false;
        }
        /* a stats event waits for the counters of every worker it asked (theirs have the
         * same key, but their watermarks may have passed it before they were asked) */
        if (ok && (unsigned)bi == n && best->kind == F_STATS) {
            uint64_t asked;
            memcpy(&asked, best + 1, sizeof asked);
            ok = ws->st_got >= asked;
        }
        if (!ok)
            break;
        emit(e, best, (unsigned)bi);
        ws->merged++;
        progress = true;
        if ((unsigned)bi < n) {
            if (fq_advance(&ws->w[bi].mq, &back[bi]) && --ws->w[bi].mq_n < OUT_MAX / 2) {
                lock(ws); /* room again: take more (and the watermark with them) */
                progress |= grab(ws);
                unlock(ws);
            }
        } else {
            (void)fq_advance(&ws->rq, &ws->rfree);
        }
    }
    bool any_back = false;
    for (unsigned k = 0; k < n; k++)
        any_back |= back[k] != NULL;
    if (any_back) {
        lock(ws);
        for (unsigned k = 0; k < n; k++) {
            while (back[k] != NULL) {
                fchunk *c = back[k];
                back[k] = c->next;
                c->next = ws->w[k].fch_free;
                ws->w[k].fch_free = c;
            }
        }
        unlock(ws);
    }
    return progress;
}

/* ---- dispatch ---- */

static blk *blk_get(struct ww_workers *ws, worker *w, size_t need)
{
    blk *b = NULL;
    if (need <= BLK_SIZE) {
        lock(ws);
        b = w->blk_free;
        if (b != NULL)
            w->blk_free = b->next;
        unlock(ws);
    }
    if (b == NULL) {
        size_t cap = WW_MAX(need, BLK_SIZE);
        b = malloc(sizeof *b + cap);
        if (b == NULL)
            return NULL;
        b->cap = cap;
    }
    b->next = NULL;
    b->len = 0;
    b->upto = 0;
    return b;
}

static void push(struct ww_workers *ws, worker *w, blk *b)
{
    lock(ws);
    b->next = NULL;
    if (w->in_tail != NULL)
        w->in_tail->next = b;
    else
        w->in_head = b;
    w->in_tail = b;
    w->in_n++;
    w->blk_pushed++;
    pthread_cond_signal(&w->cv);
    unlock(ws);
}

/* Every worker's block so far (their watermarks move on), whatever their queue holds; not
 * except's (its queue is full: it has work, and its watermark will move without it). */
static void sync_all(struct ww_workers *ws, const worker *except)
{
    for (unsigned k = 0; k < ws->n; k++) {
        worker *w = &ws->w[k];
        if (w == except)
            continue;
        if (w->rb == NULL) {
            if (w->rb_sent == ws->done_seq)
                continue;
            w->rb = blk_get(ws, w, 0);
            if (w->rb == NULL)
                continue;
        }
        w->rb->upto = ws->done_seq;
        w->rb_sent = ws->done_seq;
        push(ws, w, w->rb);
        w->rb = NULL;
    }
}

/* Sleeps until a worker signals again: ws->events has moved on from ev (read under the lock
 * before the work that found nothing to do). */
static void wait_events(struct ww_workers *ws, uint64_t ev)
{
    lock(ws);
    while (ws->events == ev)
        pthread_cond_wait(&ws->cv_main, &ws->mx);
    unlock(ws);
}

/* Waits until worker w can take a full block; merges meanwhile. */
static void wait_room(ww_engine *e, worker *w)
{
    struct ww_workers *ws = e->wk;
    for (;;) {
        lock(ws);
        bool room = w->in_n < IN_MAX;
        uint64_t ev = ws->events;
        unlock(ws);
        if (room)
            return;
        sync_all(ws, w); /* the others' watermarks: the merge may need them */
        if (merge(e))
            continue;
        wait_events(ws, ev);
    }
}

/* Room for size bytes in w's block (a full one goes first). NULL: out of memory. */
static imsg *msg_room(ww_engine *e, worker *w, size_t size)
{
    struct ww_workers *ws = e->wk;
    if (w->rb != NULL && w->rb->len + size > w->rb->cap) {
        wait_room(e, w);
        w->rb->upto = ws->done_seq;
        w->rb_sent = ws->done_seq;
        push(ws, w, w->rb);
        w->rb = NULL;
    }
    if (w->rb == NULL && (w->rb = blk_get(ws, w, size)) == NULL)
        return NULL;
    imsg *m = (imsg *)(void *)(w->rb->data + w->rb->len);
    w->rb->len += size;
    memset(m, 0, sizeof *m);
    m->size = (uint32_t)size;
    return m;
}

static unsigned shard(const struct ww_workers *ws, uint32_t h)
{
    return (unsigned)(((uint64_t)ww_hash_mix32(h) * ws->n) >> 32);
}

/* Room in worker k's block for a packet message of `kind` and its payload copied after it;
 * the message becomes the pending one. NULL when no room could be had. */
static imsg *queue_packet(ww_engine *e, unsigned k, int kind, const uint8_t *payload, size_t len)
{
    struct ww_workers *ws = e->wk;
    worker *w = &ws->w[k];
    const ww_pkt *pkt = ws->evidence ? ws->cur_pkt : NULL;
    size_t flen = pkt != NULL ? pkt->caplen : 0;
    /* -w: a payload inside the frame (not one pktdec reassembled from fragments) is not
     * copied twice: the worker finds it in the frame */
    uintptr_t at = (uintptr_t)payload, f0 = pkt != NULL ? (uintptr_t)pkt->data : 0;
    bool in_frame = pkt != NULL && len > 0 && len <= flen && at >= f0 && at - f0 <= flen - len;
    size_t plen = in_frame ? 0 : len;
    imsg *m = msg_room(e, w, align8(sizeof(imsg) + plen + flen));
    if (m == NULL)
        return NULL;
    m->kind = kind;
    m->poff = in_frame ? (uint32_t)(at - f0) : 0;
    if (plen > 0)
        memcpy(m + 1, payload, plen);
    memset(&m->pkt, 0, sizeof m->pkt);
    if (pkt != NULL) {
        m->pkt = *pkt;
        m->pkt.data = (const uint8_t *)(m + 1) + plen;
        if (flen > 0)
            memcpy((uint8_t *)(m + 1) + plen, pkt->data, flen);
    }
    ws->pending = m;
    ws->pending_w = w;
    return m;
}

static void dispatch_tcp(ww_engine *e, const ww_seg *seg)
{
    unsigned k = shard(e->wk, ww_endpoint_hash(&seg->src, seg->sport) +
                                  ww_endpoint_hash(&seg->dst, seg->dport));
    imsg *m = queue_packet(e, k, M_SEG, seg->payload, seg->len);
    if (m == NULL)
        return;
    m->u.seg = *seg;
    m->u.seg.payload = NULL;
}

void ww_workers_udp(ww_engine *e, const ww_udp_dgram *dg)
{
    /* the server's endpoint (the lower port; ties: the lower address): a QUIC connection
     * keeps its worker when its client's address or port changes */
    const ww_ip *ip = &dg->dst;
    uint16_t port = dg->dport;
    if (dg->sport < dg->dport ||
        (dg->sport == dg->dport &&
         memcmp(dg->src.a, dg->dst.a, dg->src.family == 4 ? 4 : 16) < 0)) {
        ip = &dg->src;
        port = dg->sport;
    }
    imsg *m = queue_packet(e, shard(e->wk, ww_endpoint_hash(ip, port)), M_UDP, dg->payload,
                           dg->len);
    if (m == NULL)
        return;
    m->u.dg = *dg;
    m->u.dg.payload = NULL;
}

/* A message to every worker but except (M_TICK: tick says whether it is a tick point; M_KEYS,
 * M_END: key log text p[0..n) copied after it). */
static unsigned broadcast(ww_engine *e, int kind, uint64_t seq, uint64_t now,
                          const worker *except, bool tick, const uint8_t *p, size_t n)
{
    struct ww_workers *ws = e->wk;
    unsigned sent = 0;
    for (unsigned k = 0; k < ws->n; k++) {
        worker *w = &ws->w[k];
        if (w == except)
            continue;
        imsg *m = msg_room(e, w, align8(sizeof(imsg) + n));
        if (m == NULL)
            continue;
        sent++;
        m->kind = (uint32_t)kind;
        m->seq = seq;
        m->now = now;
        m->tick = tick;
        m->may_come = e->keys_may_come;
        m->klen = (uint32_t)n;
        if (n > 0)
            memcpy(m + 1, p, n);
    }
    return sent;
}

/* The facts of the packets in hand go out within about LIVE_SYNC_NS while packets come (live,
 * a pipe that trickles). */
static bool live_due(struct ww_workers *ws)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t now = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
    if (now < ws->next_sync_ns)
        return false;
    ws->next_sync_ns = now + LIVE_SYNC_NS;
    return true;
}

void ww_workers_packet(ww_engine *e, const ww_pkt *pkt)
{
    struct ww_workers *ws = e->wk;
    ww_seg seg;
    ws->pending = NULL;
    ws->pending_w = NULL;
    ws->cur_pkt = pkt;
    int r = ww_pktdec_decode(e->pd, pkt, &seg); /* UDP: ww_workers_udp */
    if (r == 1)
        dispatch_tcp(e, &seg);
    ws->cur_pkt = NULL;
    bool tick = false;
    if (e->last_ts >= e->next_tick) {
        e->next_tick = (e->last_ts / WW_ENGINE_TICK_US + 1) * WW_ENGINE_TICK_US;
        tick = true;
    }
    if (ws->pending != NULL) {
        ws->pending->seq = e->seq;
        ws->pending->now = e->last_ts;
        ws->pending->tick = tick;
    }
    /* a tick point, or keys that came before this packet: the other workers do after it what
     * the one-thread engine does after every packet (sweeps; late keys retried) */
    if (tick || ws->keys_fresh)
        broadcast(e, M_TICK, e->seq, e->last_ts, ws->pending_w, tick, NULL, 0);
    ws->keys_fresh = false;
    ws->pending = NULL;
    ws->done_seq = e->seq;
    if (++ws->since_sync >= SYNC_EVERY || live_due(ws)) {
        ws->since_sync = 0;
        sync_all(ws, NULL);
        (void)merge(e);
    }
}

bool ww_workers_keys_merged(const ww_engine *e)
{
    return e->wk->evidence && e->evid.secrets;
}

void ww_workers_keys(ww_engine *e, const uint8_t *p, size_t n)
{
    struct ww_workers *ws = e->wk;
    if (ws->ended)
        return;
    if (n > 0 && ww_workers_keys_merged(e)) { /* the reader's key log takes it when merged */
        ser_bytes(&ws->rsc, p, n);
        r_fact(ws, ws->done_seq + 1, F_KEYTEXT);
        ww_wipe(ws->rsc.p, ws->rsc.cap);
    }
    if (ws->end_keys) { /* read at the end: applied with M_END */
        if (n > 0 && ww_buf_append(&ws->end_text, p, n) != WW_OK)
            ww_engine_say(e, "warning: key log text at the end over 64 MiB: not used");
        return;
    }
    /* large text (a big DSB) in pieces: each fits a message */
    do {
        size_t k = WW_MIN(n, (size_t)1 << 20);
        broadcast(e, M_KEYS, ws->done_seq + 1, e->last_ts, NULL, false, p, k);
        p = k > 0 ? p + k : p;
        n -= k;
    } while (n > 0);
    ws->keys_fresh = true;
}

void ww_workers_interval_stats(ww_engine *e, uint64_t ts_us, uint64_t drops)
{
    struct ww_workers *ws = e->wk;
    if (ws->ended)
        return;
    /* every worker's counters after the packet just dispatched, then the event (order 1: after
     * theirs), with the reader's own counters as of now */
    uint64_t asked = broadcast(e, M_STATS, ws->done_seq, e->last_ts, NULL, false, NULL, 0);
    uint64_t total = e->drops + drops;
    SER_VAL(&ws->rsc, asked);
    SER_VAL(&ws->rsc, ts_us);
    SER_VAL(&ws->rsc, total);
    SER_VAL(&ws->rsc, *ww_pktdec_stats_get(e->pd));
    r_fact_at(ws, ws->done_seq, PH_STATS, 1, F_STATS);
    ws->stats_pending++;
}

void ww_workers_end_keys(ww_engine *e)
{
    e->wk->end_keys = true;
}

void ww_workers_tick(ww_engine *e, uint64_t now_us, bool sweep)
{
    struct ww_workers *ws = e->wk;
    /* an idle tick belongs after the last packet: as the one-thread engine, at its number
     * (sweep false: late keys only, as after every packet) */
    broadcast(e, M_TICK, ws->done_seq, now_us, NULL, sweep, NULL, 0);
    ws->keys_fresh = false;
    ws->idle_open = true;
    sync_all(ws, NULL);
    (void)merge(e);
}

void ww_workers_drain(ww_engine *e)
{
    struct ww_workers *ws = e->wk;
    sync_all(ws, NULL);
    for (;;) {
        lock(ws);
        uint64_t ev = ws->events;
        unlock(ws);
        bool progress = merge(e);
        /* a stats event asked for, an idle tick's facts: out too */
        bool done = ws->stats_pending == 0 && !ws->idle_open;
        for (unsigned k = 0; k < ws->n; k++)
            if (ws->w[k].started && ws->w[k].mw < ws->done_seq)
                done = false;
        if (done) {
            (void)merge(e); /* what the last watermarks let through */
            return;
        }
        if (progress)
            continue;
        wait_events(ws, ev);
    }
}

/* ---- start and end ---- */

static void add_stats(ww_tcp_stats *a, const ww_tcp_stats *b)
{
    a->segments += b->segments;
    a->flows += b->flows;
    a->flows_midstream += b->flows_midstream;
    a->retransmissions += b->retransmissions;
    a->overlaps_conflicting += b->overlaps_conflicting;
    a->out_of_order += b->out_of_order;
    a->gaps += b->gaps;
    a->gap_bytes += b->gap_bytes;
    a->evicted += b->evicted;
    a->timeouts += b->timeouts;
    a->ooo_dropped_bytes += b->ooo_dropped_bytes;
}

static void addr_warm(void *ud, const ww_addr *a)
{
    (void)ud;
    (void)a;
}

static int worker_init(ww_engine *e, worker *w, const ww_buf *keys)
{
    const ww_mem *mem = e->cfg.mem;
    unsigned n = w->ws->n;
    w->kl = ww_keylog_new(mem);
    if (w->kl == NULL)
        return WW_E_NOMEM;
    if (keys->len > 0)
        ww_keylog_add_text(w->kl, keys->data, keys->len);
    ww_keylog_set_keys_may_come(w->kl, e->keys_may_come);
    size_t budget = e->cfg.key_wait_budget > 0 ? e->cfg.key_wait_budget : WW_KEYWAIT_BUDGET;
    ww_keylog_set_wait_budget(w->kl, WW_MAX(budget / n, (size_t)1 << 20));
    if (e->cfg.key_grace_us > 0)
        ww_keylog_set_late_key_grace_us(w->kl, e->cfg.key_grace_us);
    ww_decode_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.ud = w;
    sink.served = e->sink.served ? s_served : NULL;
    sink.served_run = e->sink.served ? s_served_run : NULL;
    sink.served_prov = e->sink.served_prov ? s_served_prov : NULL;
    sink.wallet_call = e->sink.wallet_call ? s_wallet_call : NULL;
    sink.anomaly = e->sink.anomaly ? s_anomaly : NULL;
    sink.http = e->sink.http ? s_http : NULL;
    sink.script = e->sink.script ? s_script : NULL;
    sink.script_body = e->sink.script_body ? s_script_body : NULL;
    sink.rpc_result = e->sink.rpc_result ? s_rpc_result : NULL;
    sink.unchecked_call = e->sink.unchecked_call ? s_unchecked_call : NULL;
    w->app = ww_app_new(mem, &e->cfg.app, &sink, w->kl);
    if (w->app == NULL)
        return WW_E_NOMEM;
    ww_app_set_rank_fn(w->app, w_rank, w);
    ww_tcp_cfg tc = {0};
    if (e->cfg.tcp != NULL)
        tc = *e->cfg.tcp;
    tc.max_flows = WW_MAX((tc.max_flows ? tc.max_flows : 65536) / n, 64);
    tc.max_ooo_bytes = WW_MAX((tc.max_ooo_bytes ? tc.max_ooo_bytes : (size_t)256 << 20) / n,
                              (size_t)4 << 20);
    ww_stream_cbs cbs = {w, w_st_open, w_st_data, w_st_gap, w_st_close, w_st_anomaly};
    w->tcp = ww_tcp_new(mem, &tc, &cbs);
    if (w->tcp == NULL)
        return WW_E_NOMEM;
    ww_quic_cfg qcfg;
    memset(&qcfg, 0, sizeof qcfg);
    qcfg.max_conns = WW_MAX((size_t)4096 / n, 64);
    ww_quic_cbs qc = {.ud = w, .open = w_q_open, .stream_data = w_q_stream,
                      .stream_reset = w_q_reset, .close = w_q_close, .anomaly = w_q_anomaly,
                      .next_flow_id = w_q_next_flow_id};
    w->quic = ww_quic_new(mem, &qcfg, &qc, w->kl);
    if (w->quic == NULL)
        return WW_E_NOMEM;
    if (pthread_cond_init(&w->cv, NULL) != 0)
        return WW_E_NOMEM;
    return WW_OK;
}

static void worker_free(ww_engine *e, worker *w)
{
    (void)e;
    if (w->tcp != NULL)
        ww_tcp_free(w->tcp);
    ww_quic_free(w->quic);
    ww_app_free(w->app);
    if (w->kl != NULL)
        ww_keylog_free(w->kl);
    for (blk *b = w->in_head, *nx; b != NULL; b = nx) {
        nx = b->next;
        free(b);
    }
    for (blk *b = w->blk_free, *nx; b != NULL; b = nx) {
        nx = b->next;
        free(b);
    }
    free(w->rb);
    fchunk *lists[5] = {w->out_head, w->fch_free, w->mq.head, w->cur, w->lfree};
    for (int i = 0; i < 5; i++)
        for (fchunk *c = lists[i], *nx; c != NULL; c = nx) {
            nx = c->next;
            free(c);
        }
    free(w->sc.p);
    free(w->bat.p);
    free(w->cs.p);
    pthread_cond_destroy(&w->cv);
}

bool ww_workers_start(ww_engine *e)
{
    unsigned n = e->cfg.workers;
    if (n <= 1)
        return false;
    if (n > WW_ENGINE_MAX_WORKERS)
        n = WW_ENGINE_MAX_WORKERS;
    const char *why = NULL;
    bool evidence = e->evid.ev != NULL;
    for (size_t i = 0; i < e->n_subs && why == NULL; i++)
        if ((e->subs[i].packet != NULL || e->subs[i].flow_close != NULL) &&
            !(evidence && i == e->evid.sub))
            why = "a subscriber wants packets";
    if (why != NULL) {
        if (e->cfg.verbose > 0)
            ww_engine_say(e, "--workers %u: one thread: %s", n, why);
        return false;
    }
    struct ww_workers *ws = calloc(1, sizeof *ws);
    if (ws == NULL)
        return false;
    ws->n = n;
    ws->evidence = evidence;
    ws->w = calloc(n, sizeof *ws->w);
    if (ws->w == NULL || pthread_mutex_init(&ws->mx, NULL) != 0) {
        free(ws->w);
        free(ws);
        return false;
    }
    pthread_cond_init(&ws->cv_main, NULL);
    ww_buf_init(&ws->end_text, NULL, (size_t)64 << 20);
    e->wk = ws;
    ws->done_seq = e->seq;
    /* lazily built tables, before any thread */
    (void)ww_addr_scan((const uint8_t *)"0x", 2, addr_warm, NULL);
    ww_buf keys;
    ww_buf_init(&keys, NULL, (size_t)64 << 20);
    int rc = ww_keylog_export(e->kl, &keys);
    if (rc == WW_OK) /* and a line still being written: the copies go on from where it is */
        rc = ww_keylog_export_pending(e->kl, &keys);
    for (unsigned k = 0; k < n && rc == WW_OK; k++) {
        worker *w = &ws->w[k];
        w->ws = ws;
        w->e = e;
        w->idx = k;
        w->mw = w->out_w = ws->done_seq;
        w->rb_sent = ws->done_seq;
        rc = worker_init(e, w, &keys);
    }
    if (keys.data != NULL)
        ww_wipe(keys.data, keys.len);
    ww_buf_free(&keys);
    for (unsigned k = 0; k < n && rc == WW_OK; k++) {
        if (pthread_create(&ws->w[k].th, NULL, w_main, &ws->w[k]) != 0)
            rc = WW_E_NOMEM;
        else
            ws->w[k].started = true;
    }
    if (rc != WW_OK) {
        ww_engine_say(e, "--workers %u: cannot start them; one thread", n);
        ww_workers_end(e);
        ww_workers_free(e);
        return false;
    }
    if (e->cfg.verbose > 0)
        ww_engine_say(e, "%u workers", n);
    return true;
}

void ww_workers_end(ww_engine *e)
{
    struct ww_workers *ws = e->wk;
    if (ws == NULL)
        return;
    if (!ws->ended) {
        bool any = false;
        for (unsigned k = 0; k < ws->n; k++)
            any |= ws->w[k].started;
        if (any) {
            broadcast(e, M_END, ws->done_seq + 1, e->last_ts, NULL, false, ws->end_text.data,
                      ws->end_text.len);
            if (ws->end_text.data != NULL)
                ww_wipe(ws->end_text.data, ws->end_text.len);
            for (unsigned k = 0; k < ws->n; k++) { /* the last blocks */
                worker *w = &ws->w[k];
                if (w->rb != NULL) {
                    w->rb->upto = UINT64_MAX;
                    push(ws, w, w->rb);
                    w->rb = NULL;
                }
            }
        }
        ws->ended = true;
        for (;;) {
            lock(ws);
            uint64_t ev = ws->events;
            unlock(ws);
            bool progress = merge(e);
            bool done = true;
            for (unsigned k = 0; k < ws->n; k++) {
                worker *w = &ws->w[k];
                if (w->started && (w->mw != UINT64_MAX || w->mq.head != NULL))
                    done = false;
            }
            if (ws->rq.head != NULL)
                done = false;
            if (done)
                break;
            if (progress)
                continue;
            wait_events(ws, ev);
        }
        for (unsigned k = 0; k < ws->n; k++)
            if (ws->w[k].started) {
                pthread_join(ws->w[k].th, NULL);
                ws->w[k].started = false;
            }
    }
}

/* b's counters added to a's (the ones the run's stats use, and the tcp ones) */
static void wstats_add(wstats *a, const wstats *b)
{
    add_stats(&a->tcp, &b->tcp);
    a->app.tls_sessions += b->app.tls_sessions;
    a->app.tls_decrypted += b->app.tls_decrypted;
    a->app.tls_undecryptable += b->app.tls_undecryptable;
    a->app.http_messages += b->app.http_messages;
    a->app.rpc_calls += b->app.rpc_calls;
    a->app.wallet_calls += b->app.wallet_calls;
    a->app.h2_flows += b->app.h2_flows;
    a->app.quic_decrypted += b->app.quic_decrypted;
    a->app.quic_undecryptable += b->app.quic_undecryptable;
    a->quic.conns += b->quic.conns;
    a->kw.evicted += b->kw.evicted; /* the peak: the merge's (kw_peak) */
    a->kw.bytes_evicted += b->kw.bytes_evicted;
}

void ww_workers_stats(const ww_engine *e, ww_tcp_stats *ts, ww_app_stats *as, ww_quic_stats *qs,
                      ww_keywait_stats *kw)
{
    struct ww_workers *ws = e->wk;
    wstats sum;
    memset(&sum, 0, sizeof sum);
    lock(ws);
    for (unsigned k = 0; k < ws->n; k++) {
        worker *w = &ws->w[k];
        wstats one = {w->snap_tcp, w->snap_app, w->snap_quic, w->snap_kw};
        wstats_add(&sum, &one);
    }
    unlock(ws);
    sum.kw.bytes_peak = ws->kw_peak; /* as of the facts merged (reader's own) */
    *ts = sum.tcp;
    *as = sum.app;
    *qs = sum.quic;
    *kw = sum.kw;
}

void ww_workers_free(ww_engine *e)
{
    struct ww_workers *ws = e->wk;
    if (ws == NULL)
        return;
    if (!ws->ended)
        ww_workers_end(e);
    for (unsigned k = 0; k < ws->n; k++)
        if (ws->w[k].ws != NULL)
            worker_free(e, &ws->w[k]);
    fchunk *lists[3] = {ws->rq.head, ws->rcur, ws->rfree};
    for (int i = 0; i < 3; i++)
        for (fchunk *c = lists[i], *nx; c != NULL; c = nx) {
            nx = c->next;
            free(c);
        }
    free(ws->rsc.p);
    if (ws->end_text.data != NULL)
        ww_wipe(ws->end_text.data, ws->end_text.len);
    ww_buf_free(&ws->end_text);
    pthread_mutex_destroy(&ws->mx);
    pthread_cond_destroy(&ws->cv_main);
    free(ws->w);
    free(ws);
    e->wk = NULL;
}
