/*
 * tcp.c - the TCP flow table and per-direction stream reassembly (RFC 9293 sequence space,
 * serial arithmetic as RFC 1982 so sequence numbers may wrap).
 *
 * Per direction the state is `next`, the first byte not yet delivered, plus a sorted list of
 * held out-of-order pieces that never overlap each other. A segment at or before `next` is
 * delivered straight from the packet (zero copy); held pieces are spliced in where they start,
 * and where a held piece and the new segment cover the same bytes the held one (the first
 * copy) wins and differing bytes are an "overlap-conflict" anomaly. Segments entirely before
 * `next` are retransmissions and dropped.
 *
 * A hole that will not be filled becomes a gap (callback with its length), after which
 * delivery resumes: when held bytes would pass the per-direction or global cap, when the peer
 * acknowledges past the hole, and at FIN/RST/timeout/eviction/end.
 *
 * Flows: a symmetric hash of the 5-tuple into chained buckets; an LRU list (most recent at
 * the head) for eviction at max_flows and for idle timeouts, checked a few flows per tick.
 * Flows closed by FIN or RST linger (10 s) so late retransmissions do not start new flows.
 */
#include "capture/capture.h"

#include <stdarg.h>

#define LINGER_US 10000000u
#define TICK_CHECKS 8

typedef struct ooo_seg {
    struct ooo_seg *next;
    uint32_t seq;
    uint32_t len;
    uint8_t data[];
} ooo_seg;

typedef struct dir_st {
    bool init;    /* next is known */
    bool fin;     /* FIN seen; fin_seq is the sequence number of the FIN */
    bool done;    /* everything up to the FIN delivered */
    uint32_t next;
    uint32_t fin_seq;
    ooo_seg *head;
    size_t held;
} dir_st;

typedef struct flow {
    ww_flow pub; /* first: the callbacks see this */
    struct flow *hnext;
    struct flow *lprev, *lnext;
    uint32_t hash;
    bool closed; /* close callback done: lingering until LINGER_US idle */
    uint64_t touch; /* the packet number (ww_tcp_set_seq) that last touched it: LRU order */
    dir_st d[2];
} flow;

struct ww_tcp {
    const ww_mem *mem;
    ww_tcp_cfg cfg;
    ww_stream_cbs cbs;
    ww_tcp_stats st;
    flow **tab;
    size_t nb; /* buckets, a power of 2 */
    size_t n_flows;
    flow *lru_head, *lru_tail;
    size_t held;
    uint64_t next_id;
    uint64_t cur_seq; /* ww_tcp_set_seq */
};

static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}
static inline bool seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

static void tcp_anomaly(ww_tcp *t, uint64_t ts, const flow *f, const char *type, const char *fmt,
                        ...) WW_PRINTF(5, 6);
static void tcp_anomaly(ww_tcp *t, uint64_t ts, const flow *f, const char *type, const char *fmt,
                        ...)
{
    if (t->cbs.anomaly == NULL)
        return;
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    t->cbs.anomaly(t->cbs.ud, ts, f ? &f->pub : NULL, "tcp", type, detail);
}

ww_tcp *ww_tcp_new(const ww_mem *mem, const ww_tcp_cfg *cfg, const ww_stream_cbs *cbs)
{
    WW_ASSERT(cbs != NULL);
    if (mem == NULL)
        mem = ww_mem_default();
    ww_tcp *t = ww_calloc(mem, 1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->mem = mem;
    t->cbs = *cbs;
    t->cfg.max_flows = 65536;
    t->cfg.max_flow_ooo_bytes = 1u << 20;
    t->cfg.max_ooo_bytes = 256u << 20;
    t->cfg.idle_timeout_us = 300000000u;
    if (cfg != NULL) {
        if (cfg->max_flows)
            t->cfg.max_flows = cfg->max_flows;
        if (cfg->max_flow_ooo_bytes)
            t->cfg.max_flow_ooo_bytes = cfg->max_flow_ooo_bytes;
        if (cfg->max_ooo_bytes)
            t->cfg.max_ooo_bytes = cfg->max_ooo_bytes;
        if (cfg->idle_timeout_us)
            t->cfg.idle_timeout_us = cfg->idle_timeout_us;
    }
    size_t nb = 64;
    while (nb < t->cfg.max_flows && nb < (1u << 20))
        nb *= 2;
    t->tab = ww_calloc(mem, nb, sizeof(*t->tab));
    if (t->tab == NULL) {
        ww_free(mem, t);
        return NULL;
    }
    t->nb = nb;
    return t;
}

/* ---- hashing and lookup ---- */

uint32_t ww_endpoint_hash(const ww_ip *ip, uint16_t port)
{
    size_t n = ip->family == 4 ? 4 : 16;
    uint32_t h = 2166136261u ^ port;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ip->a[i]) * 16777619u;
    return h;
}

static uint32_t flow_hash(const ww_seg *s)
{
    return ww_hash_mix32(ww_endpoint_hash(&s->src, s->sport) +
                         ww_endpoint_hash(&s->dst, s->dport));
}

static inline bool ip_eq(const ww_ip *a, const ww_ip *b)
{
    return a->family == b->family && memcmp(a->a, b->a, a->family == 4 ? 4 : 16) == 0;
}

static flow *flow_find(ww_tcp *t, const ww_seg *s, uint32_t h, int *dir)
{
    for (flow *f = t->tab[h & (t->nb - 1)]; f != NULL; f = f->hnext) {
        if (f->hash != h)
            continue;
        if (f->pub.cli_port == s->sport && f->pub.srv_port == s->dport &&
            ip_eq(&f->pub.cli_ip, &s->src) && ip_eq(&f->pub.srv_ip, &s->dst)) {
            *dir = WW_DIR_TOSERVER;
            return f;
        }
        if (f->pub.cli_port == s->dport && f->pub.srv_port == s->sport &&
            ip_eq(&f->pub.cli_ip, &s->dst) && ip_eq(&f->pub.srv_ip, &s->src)) {
            *dir = WW_DIR_TOCLIENT;
            return f;
        }
    }
    return NULL;
}

static void lru_unlink(ww_tcp *t, flow *f)
{
    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        t->lru_head = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else
        t->lru_tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void lru_push(ww_tcp *t, flow *f)
{
    f->touch = t->cur_seq;
    f->lprev = NULL;
    f->lnext = t->lru_head;
    if (t->lru_head)
        t->lru_head->lprev = f;
    else
        t->lru_tail = f;
    t->lru_head = f;
}

static void free_held(ww_tcp *t, dir_st *d)
{
    ooo_seg *x = d->head;
    while (x != NULL) {
        ooo_seg *n = x->next;
        ww_free(t->mem, x);
        x = n;
    }
    d->head = NULL;
    t->held -= d->held;
    d->held = 0;
}

static void flow_free(ww_tcp *t, flow *f)
{
    for (flow **pp = &t->tab[f->hash & (t->nb - 1)]; *pp != NULL; pp = &(*pp)->hnext) {
        if (*pp == f) {
            *pp = f->hnext;
            break;
        }
    }
    lru_unlink(t, f);
    free_held(t, &f->d[0]);
    free_held(t, &f->d[1]);
    t->n_flows--;
    ww_free(t->mem, f);
}

/* ---- delivery ---- */

static void deliver(ww_tcp *t, flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    f->pub.bytes[dir] += n;
    if (t->cbs.data != NULL)
        t->cbs.data(t->cbs.ud, &f->pub, dir, p, n, ts);
}

static void report_gap(ww_tcp *t, flow *f, int dir, uint64_t len, uint64_t ts)
{
    if (len == 0)
        return;
    t->st.gaps++;
    t->st.gap_bytes += len;
    if (t->cbs.gap != NULL)
        t->cbs.gap(t->cbs.ud, &f->pub, dir, len, ts);
}

static void pop_head(ww_tcp *t, dir_st *d)
{
    ooo_seg *x = d->head;
    d->head = x->next;
    d->held -= x->len;
    t->held -= x->len;
    ww_free(t->mem, x);
}

/*
 * Delivers from `next` on: the new segment [s, s+n) captured of [s, s+w) on the wire, which
 * must start at or before next (n = w = 0 only flushes), spliced with held pieces.
 */
static void advance(ww_tcp *t, flow *f, int dir, uint32_t s, const uint8_t *p, uint32_t n,
                    uint32_t w, uint64_t ts)
{
    dir_st *d = &f->d[dir];
    uint32_t re = s + n, we = s + w;
    for (;;) {
        uint32_t cur = d->next;
        ooo_seg *h = d->head;
        if (h != NULL && seq_le(h->seq, cur)) {
            uint32_t hend = h->seq + h->len;
            if (seq_lt(cur, hend)) {
                uint32_t off = cur - h->seq, len = hend - cur;
                if (seq_le(s, cur) && seq_lt(cur, re)) {
                    uint32_t ol = (seq_lt(re, hend) ? re : hend) - cur;
                    if (memcmp(h->data + off, p + (cur - s), ol) != 0) {
                        t->st.overlaps_conflicting++;
                        tcp_anomaly(t, ts, f, "overlap-conflict",
                                    "dir %d: %u overlapping bytes differ; first copy kept", dir,
                                    ol);
                    }
                }
                d->next = hend;
                deliver(t, f, dir, h->data + off, len, ts);
            }
            pop_head(t, d);
            continue;
        }
        if (seq_lt(cur, re) && seq_le(s, cur)) {
            uint32_t lim = re;
            if (h != NULL && seq_lt(h->seq, lim))
                lim = h->seq;
            d->next = lim;
            deliver(t, f, dir, p + (cur - s), lim - cur, ts);
            continue;
        }
        if (seq_lt(cur, we) && seq_le(s, cur)) {
            uint32_t lim = we;
            if (h != NULL && seq_lt(h->seq, lim))
                lim = h->seq;
            d->next = lim;
            report_gap(t, f, dir, lim - cur, ts); /* snaplen cut these bytes */
            continue;
        }
        break;
    }
}

/* Gives up the hole before the first held piece: reports it as a gap, then delivers on. */
static void skip_hole(ww_tcp *t, flow *f, int dir, uint64_t ts)
{
    dir_st *d = &f->d[dir];
    if (d->head == NULL)
        return;
    if (seq_lt(d->next, d->head->seq)) {
        uint32_t len = d->head->seq - d->next;
        d->next = d->head->seq;
        report_gap(t, f, dir, len, ts);
    }
    advance(t, f, dir, d->next, NULL, 0, 0, ts);
}

static bool hold_piece(ww_tcp *t, flow *f, dir_st *d, ooo_seg **pp, uint32_t seq,
                       const uint8_t *p, uint32_t len)
{
    ooo_seg *x = ww_malloc(t->mem, sizeof(*x) + len);
    if (x == NULL) {
        t->st.ooo_dropped_bytes += len;
        (void)f;
        return false;
    }
    x->seq = seq;
    x->len = len;
    memcpy(x->data, p, len);
    x->next = *pp;
    *pp = x;
    d->held += len;
    t->held += len;
    return true;
}

/* Holds [s, s+n) (after next), keeping bytes already held (first copy wins). */
static void hold(ww_tcp *t, flow *f, int dir, uint32_t s, const uint8_t *p, uint32_t n,
                 uint64_t ts)
{
    dir_st *d = &f->d[dir];
    uint32_t cur = s, end = s + n;
    ooo_seg **pp = &d->head;
    while (seq_lt(cur, end)) {
        ooo_seg *x = *pp;
        if (x == NULL || seq_le(end, x->seq)) {
            (void)hold_piece(t, f, d, pp, cur, p + (cur - s), end - cur);
            return;
        }
        uint32_t xend = x->seq + x->len;
        if (seq_le(xend, cur)) {
            pp = &x->next;
            continue;
        }
        if (seq_lt(cur, x->seq)) {
            if (!hold_piece(t, f, d, pp, cur, p + (cur - s), x->seq - cur))
                return;
            pp = &(*pp)->next;
            cur = x->seq;
        }
        uint32_t oe = seq_lt(end, xend) ? end : xend;
        if (memcmp(x->data + (cur - x->seq), p + (cur - s), oe - cur) != 0) {
            t->st.overlaps_conflicting++;
            tcp_anomaly(t, ts, f, "overlap-conflict",
                        "dir %d: %u overlapping held bytes differ; first copy kept", dir,
                        oe - cur);
        }
        cur = oe;
        pp = &x->next;
    }
}

static void on_data(ww_tcp *t, flow *f, int dir, uint32_t s, const uint8_t *p, uint32_t n,
                    uint32_t w, uint64_t ts)
{
    dir_st *d = &f->d[dir];
    if (seq_le(s, d->next)) {
        if (seq_le(s + w, d->next)) {
            t->st.retransmissions++;
            return;
        }
        advance(t, f, dir, s, p, n, w, ts);
        return;
    }
    t->st.out_of_order++;
    if (n == 0)
        return; /* nothing captured: the hole is reported when it is given up */
    for (;;) {
        bool flow_over = d->held + n > t->cfg.max_flow_ooo_bytes;
        bool all_over = t->held + n > t->cfg.max_ooo_bytes;
        if (!flow_over && !all_over)
            break;
        if (d->head != NULL) {
            skip_hole(t, f, dir, ts);
        } else if (flow_over) {
            /* this segment alone is over the cap: give up the hole before it */
            uint32_t len = s - d->next;
            d->next = s;
            report_gap(t, f, dir, len, ts);
        } else {
            t->st.ooo_dropped_bytes += n;
            tcp_anomaly(t, ts, f, "ooo-memcap", "dir %d: %u out-of-order bytes over the global "
                                                "cap; dropped", dir, n);
            return;
        }
        if (seq_le(s, d->next)) {
            on_data(t, f, dir, s, p, n, w, ts);
            return;
        }
    }
    hold(t, f, dir, s, p, n, ts);
}

/* Gives up every hole of one direction (close, timeout, end). */
static void drain(ww_tcp *t, flow *f, int dir, uint64_t ts)
{
    dir_st *d = &f->d[dir];
    while (d->head != NULL)
        skip_hole(t, f, dir, ts);
    if (d->fin && seq_lt(d->next, d->fin_seq)) {
        uint32_t len = d->fin_seq - d->next;
        d->next = d->fin_seq;
        report_gap(t, f, dir, len, ts);
    }
}

static void flow_close(ww_tcp *t, flow *f, int reason, uint64_t ts)
{
    drain(t, f, WW_DIR_TOSERVER, ts);
    drain(t, f, WW_DIR_TOCLIENT, ts);
    f->closed = true;
    if (t->cbs.close != NULL)
        t->cbs.close(t->cbs.ud, &f->pub, reason, ts);
    f->pub.app = NULL;
    free_held(t, &f->d[0]);
    free_held(t, &f->d[1]);
}

static flow *flow_new(ww_tcp *t, const ww_seg *s, uint32_t h, int *dir)
{
    while (t->n_flows >= t->cfg.max_flows && t->lru_tail != NULL) {
        flow *o = t->lru_tail;
        if (!o->closed) {
            t->st.evicted++;
            flow_close(t, o, WW_CLOSE_EVICT, s->ts_us);
        }
        flow_free(t, o);
    }
    flow *f = ww_calloc(t->mem, 1, sizeof(*f));
    if (f == NULL)
        return NULL;
    bool syn = (s->flags & WW_TCP_SYN) != 0, ack = (s->flags & WW_TCP_ACK) != 0;
    bool sender_is_client;
    if (syn)
        sender_is_client = !ack;
    else
        sender_is_client = s->sport >= s->dport;
    if (sender_is_client) {
        f->pub.cli_ip = s->src, f->pub.cli_port = s->sport;
        f->pub.srv_ip = s->dst, f->pub.srv_port = s->dport;
        *dir = WW_DIR_TOSERVER;
    } else {
        f->pub.cli_ip = s->dst, f->pub.cli_port = s->dport;
        f->pub.srv_ip = s->src, f->pub.srv_port = s->sport;
        *dir = WW_DIR_TOCLIENT;
    }
    f->pub.id = ++t->next_id;
    f->pub.first_ts_us = f->pub.last_ts_us = s->ts_us;
    f->pub.midstream = !syn;
    f->hash = h;
    f->hnext = t->tab[h & (t->nb - 1)];
    t->tab[h & (t->nb - 1)] = f;
    lru_push(t, f);
    t->n_flows++;
    t->st.flows++;
    if (!syn)
        t->st.flows_midstream++;
    if (t->cbs.open != NULL)
        t->cbs.open(t->cbs.ud, &f->pub, s->ts_us);
    return f;
}

void ww_tcp_segment(ww_tcp *t, const ww_seg *s)
{
    WW_ASSERT(t != NULL && s != NULL);
    t->st.segments++;
    uint32_t h = flow_hash(s);
    int dir = 0;
    flow *f = flow_find(t, s, h, &dir);
    bool syn = (s->flags & WW_TCP_SYN) != 0;
    if (f != NULL && f->closed) {
        if (syn && !(s->flags & WW_TCP_ACK)) {
            flow_free(t, f); /* port reuse: a new connection */
            f = NULL;
        } else {
            f->pub.last_ts_us = s->ts_us;
            lru_unlink(t, f);
            lru_push(t, f);
            return;
        }
    }
    if (f == NULL) {
        if (s->flags & WW_TCP_RST)
            return;
        f = flow_new(t, s, h, &dir);
        if (f == NULL)
            return;
    } else {
        if (s->ts_us > f->pub.last_ts_us)
            f->pub.last_ts_us = s->ts_us;
        f->touch = t->cur_seq;
        if (t->lru_head != f) {
            lru_unlink(t, f);
            lru_push(t, f);
        }
    }
    dir_st *d = &f->d[dir], *o = &f->d[!dir];
    uint32_t dseq = s->seq;
    if (syn) {
        dseq = s->seq + 1;
        if (!d->init || (f->pub.bytes[dir] == 0 && d->head == NULL && !d->fin)) {
            d->init = true;
            d->next = dseq;
        }
    } else if (!d->init) {
        d->init = true;
        d->next = s->seq;
    }
    if (s->wire_len > 0 && !d->done)
        on_data(t, f, dir, dseq, s->payload, s->len, s->wire_len, s->ts_us);
    if ((s->flags & WW_TCP_FIN) && !d->fin) {
        d->fin = true;
        d->fin_seq = dseq + s->wire_len;
    }
    /* the peer acknowledged past a hole in the other direction: it will not be filled */
    if ((s->flags & WW_TCP_ACK) && o->init && o->head != NULL && seq_lt(o->next, s->ack)) {
        while (o->head != NULL && seq_le(o->head->seq, s->ack))
            skip_hole(t, f, !dir, s->ts_us);
    }
    for (int i = 0; i < 2; i++) {
        dir_st *x = &f->d[i];
        if (x->fin && !x->done && seq_le(x->fin_seq, x->next))
            x->done = true;
    }
    if (s->flags & WW_TCP_RST)
        flow_close(t, f, WW_CLOSE_RST, s->ts_us);
    else if (f->d[0].done && f->d[1].done)
        flow_close(t, f, WW_CLOSE_FIN, s->ts_us);
}

void ww_tcp_tick(ww_tcp *t, uint64_t now_us)
{
    WW_ASSERT(t != NULL);
    for (int i = 0; i < TICK_CHECKS && t->lru_tail != NULL; i++) {
        flow *f = t->lru_tail;
        /* closed flows linger no longer than open ones idle, so the LRU tail stays the
         * first to expire */
        uint64_t limit = t->cfg.idle_timeout_us;
        if (f->closed && limit > LINGER_US)
            limit = LINGER_US;
        if (now_us <= f->pub.last_ts_us || now_us - f->pub.last_ts_us <= limit)
            break;
        if (!f->closed) {
            t->st.timeouts++;
            flow_close(t, f, WW_CLOSE_TIMEOUT, now_us);
        }
        flow_free(t, f);
    }
}

/* Idle flows closed and lingering ones freed, all of them, in LRU order: what one flow's
 * fate is depends on that flow alone (a table split in shards closes the same flows). */
void ww_tcp_sweep(ww_tcp *t, uint64_t now_us)
{
    WW_ASSERT(t != NULL);
    for (flow *f = t->lru_tail, *prev; f != NULL; f = prev) {
        prev = f->lprev;
        uint64_t limit = t->cfg.idle_timeout_us;
        if (f->closed && limit > LINGER_US)
            limit = LINGER_US;
        if (now_us <= f->pub.last_ts_us || now_us - f->pub.last_ts_us <= limit)
            continue;
        if (!f->closed) {
            t->st.timeouts++;
            flow_close(t, f, WW_CLOSE_TIMEOUT, now_us);
        }
        flow_free(t, f);
    }
}

void ww_tcp_set_seq(ww_tcp *t, uint64_t seq)
{
    t->cur_seq = seq;
}

uint64_t ww_tcp_flow_touch(const ww_flow *f)
{
    return ((const flow *)(const void *)f)->touch;
}

void ww_tcp_finish(ww_tcp *t, uint64_t now_us)
{
    WW_ASSERT(t != NULL);
    /* oldest first, so close events come in a stable order */
    while (t->lru_tail != NULL) {
        flow *f = t->lru_tail;
        if (!f->closed)
            flow_close(t, f, WW_CLOSE_END, now_us);
        flow_free(t, f);
    }
}

const ww_tcp_stats *ww_tcp_stats_get(const ww_tcp *t)
{
    WW_ASSERT(t != NULL);
    return &t->st;
}

void ww_tcp_free(ww_tcp *t)
{
    if (t == NULL)
        return;
    while (t->lru_tail != NULL)
        flow_free(t, t->lru_tail);
    ww_free(t->mem, t->tab);
    ww_free(t->mem, t);
}

uint64_t ww_tcp_next_flow_id(ww_tcp *t)
{
    WW_ASSERT(t != NULL);
    return ++t->next_id;
}
