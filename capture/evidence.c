/*
 * evidence.c - the packets of flagged flows, for -w (a pcapng that replays on its own).
 *
 * Every TCP connection (canonical 4-tuple) gets a ring of its recent packets, bounded per
 * flow (packets and bytes) and over all flows. Rings are linear buffers of records
 * [ev_rec header | data, padded to 8]; when one is full its oldest half is dropped at once
 * (amortised O(1), no per-packet allocation). When a flow is flagged, its ring and the rings
 * of the flows that served addresses to the same client are written in capture order, then
 * every later packet of those flows is written as it arrives.
 *
 * Entries live in a fixed pool (max_flows) with hash chains; over the pool or the byte cap,
 * an unflagged entry is reclaimed by a clock hand (served-and-closed entries are kept until
 * then: a later alert of that client still finds them).
 */
#include "capture/capture.h"

#define EV_DEF_FLOWS 65536
#define EV_DEF_PKTS 256
#define EV_DEF_FLOW_BYTES (1u << 20)
#define EV_DEF_TOTAL_BYTES (64u << 20)

typedef struct ev_key {
    uint8_t family;
    uint8_t a[16], b[16];
    uint16_t pa, pb;
} ev_key;

typedef struct ev_rec {
    uint64_t seq, ts_us;
    uint32_t caplen, len;
    int32_t linktype;
    uint32_t pad;
} ev_rec;

typedef struct ev_flow {
    struct ev_flow *next; /* hash chain */
    bool used, flagged, served, closed;
    ev_key key;
    ww_ip cli;            /* client address (known once served/flagged) */
    uint8_t *buf;         /* records in [start, len) */
    size_t start, len, cap;
    uint32_t n;
} ev_flow;

struct ww_evidence {
    const ww_mem *mem;
    ww_evidence_cfg cfg;
    ww_pcapngw *w;
    ev_flow *pool;
    ev_flow **buckets;
    size_t n_buckets, hand, total_bytes;
    uint64_t seq;
    ww_evidence_stats st;
};

static void key_side(uint8_t dst[16], const ww_ip *ip)
{
    memset(dst, 0, 16);
    memcpy(dst, ip->a, ip->family == 4 ? 4 : 16);
}

static void make_key(ev_key *k, const ww_ip *x, uint16_t px, const ww_ip *y, uint16_t py)
{
    uint8_t ax[16], ay[16];
    memset(k, 0, sizeof *k);
    key_side(ax, x);
    key_side(ay, y);
    int c = memcmp(ax, ay, 16);
    bool swap = c > 0 || (c == 0 && px > py);
    k->family = x->family;
    memcpy(k->a, swap ? ay : ax, 16);
    memcpy(k->b, swap ? ax : ay, 16);
    k->pa = swap ? py : px;
    k->pb = swap ? px : py;
}

static size_t key_hash(const ev_key *k)
{
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = (const uint8_t *)k;
    for (size_t i = 0; i < sizeof *k; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (size_t)h;
}

ww_evidence *ww_evidence_new(const ww_mem *mem, const ww_evidence_cfg *cfg, ww_pcapngw *w)
{
    ww_evidence *e = ww_calloc(mem, 1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->mem = mem;
    if (cfg != NULL)
        e->cfg = *cfg;
    if (e->cfg.max_flows == 0)
        e->cfg.max_flows = EV_DEF_FLOWS;
    if (e->cfg.max_flow_pkts == 0)
        e->cfg.max_flow_pkts = EV_DEF_PKTS;
    if (e->cfg.max_flow_bytes == 0)
        e->cfg.max_flow_bytes = EV_DEF_FLOW_BYTES;
    if (e->cfg.max_total_bytes == 0)
        e->cfg.max_total_bytes = EV_DEF_TOTAL_BYTES;
    e->w = w;
    e->n_buckets = 1;
    while (e->n_buckets < e->cfg.max_flows)
        e->n_buckets <<= 1;
    e->pool = ww_calloc(mem, e->cfg.max_flows, sizeof *e->pool);
    e->buckets = ww_calloc(mem, e->n_buckets, sizeof *e->buckets);
    if (e->pool == NULL || e->buckets == NULL) {
        ww_evidence_free(e);
        return NULL;
    }
    return e;
}

static void ring_free(ww_evidence *e, ev_flow *f)
{
    e->st.packets_forgotten += f->n;
    e->total_bytes -= f->cap;
    ww_free(e->mem, f->buf);
    f->buf = NULL;
    f->start = f->len = f->cap = 0;
    f->n = 0;
}

static void entry_remove(ww_evidence *e, ev_flow *f)
{
    ev_flow **pp = &e->buckets[key_hash(&f->key) & (e->n_buckets - 1)];
    while (*pp != NULL && *pp != f)
        pp = &(*pp)->next;
    if (*pp == f)
        *pp = f->next;
    ring_free(e, f);
    memset(f, 0, sizeof *f);
}

/* Reclaims one unflagged entry (or only its ring when ring_only) other than keep.
 * Returns false when there is none. */
static bool reclaim(ww_evidence *e, const ev_flow *keep, bool ring_only)
{
    for (size_t i = 0; i < e->cfg.max_flows; i++) {
        ev_flow *f = &e->pool[e->hand];
        e->hand = (e->hand + 1) % e->cfg.max_flows;
        if (f == keep || (f->used && f->flagged))
            continue;
        if (!ring_only && (!f->used || !f->flagged)) {
            if (f->used)
                entry_remove(e, f);
            return true;
        }
        if (ring_only && f->used && f->cap > 0) {
            ring_free(e, f);
            return true;
        }
    }
    return false;
}

static ev_flow *lookup(ww_evidence *e, const ev_key *k, bool create)
{
    size_t b = key_hash(k) & (e->n_buckets - 1);
    for (ev_flow *f = e->buckets[b]; f != NULL; f = f->next)
        if (memcmp(&f->key, k, sizeof *k) == 0)
            return f;
    if (!create)
        return NULL;
    ev_flow *f = NULL;
    for (int round = 0; round < 2 && f == NULL; round++) {
        for (size_t i = 0; i < e->cfg.max_flows; i++) {
            ev_flow *c = &e->pool[e->hand];
            e->hand = (e->hand + 1) % e->cfg.max_flows;
            if (!c->used) {
                f = c;
                break;
            }
        }
        if (f == NULL && !reclaim(e, NULL, false))
            return NULL;
    }
    if (f == NULL)
        return NULL;
    memset(f, 0, sizeof *f);
    f->used = true;
    f->key = *k;
    f->next = e->buckets[b];
    e->buckets[b] = f;
    return f;
}

static size_t rec_size(uint32_t caplen)
{
    return sizeof(ev_rec) + (((size_t)caplen + 7u) & ~(size_t)7u);
}

/* Drops the oldest records until at most half the caps are used. */
static void ring_halve(ww_evidence *e, ev_flow *f)
{
    while (f->n > 0 && (f->n > e->cfg.max_flow_pkts / 2 ||
                        f->len - f->start > e->cfg.max_flow_bytes / 2)) {
        ev_rec r;
        memcpy(&r, f->buf + f->start, sizeof r);
        f->start += rec_size(r.caplen);
        f->n--;
        e->st.packets_forgotten++;
    }
    memmove(f->buf, f->buf + f->start, f->len - f->start);
    f->len -= f->start;
    f->start = 0;
}

static void ring_add(ww_evidence *e, ev_flow *f, const ww_pkt *pkt)
{
    size_t need = rec_size(pkt->caplen);
    if (need > e->cfg.max_flow_bytes) {
        e->st.packets_forgotten++;
        return;
    }
    if (f->n >= e->cfg.max_flow_pkts || f->len + need > e->cfg.max_flow_bytes)
        ring_halve(e, f);
    if (f->len + need > f->cap) {
        size_t nc = f->cap ? f->cap : 4096;
        while (nc < f->len + need)
            nc *= 2;
        nc = WW_MIN(nc, e->cfg.max_flow_bytes);
        while (e->total_bytes + (nc - f->cap) > e->cfg.max_total_bytes)
            if (!reclaim(e, f, true))
                break;
        if (e->total_bytes + (nc - f->cap) > e->cfg.max_total_bytes) {
            e->st.packets_forgotten++;
            return;
        }
        uint8_t *nb = ww_realloc(e->mem, f->buf, nc);
        if (nb == NULL) {
            e->st.packets_forgotten++;
            return;
        }
        e->total_bytes += nc - f->cap;
        f->buf = nb;
        f->cap = nc;
    }
    ev_rec r;
    memset(&r, 0, sizeof r);
    r.seq = e->seq;
    r.ts_us = pkt->ts_us;
    r.caplen = pkt->caplen;
    r.len = pkt->len;
    r.linktype = pkt->linktype;
    memcpy(f->buf + f->len, &r, sizeof r);
    if (pkt->caplen > 0)
        memcpy(f->buf + f->len + sizeof r, pkt->data, pkt->caplen);
    f->len += need;
    f->n++;
}

void ww_evidence_packet(ww_evidence *e, const ww_pkt *pkt, const ww_seg *seg)
{
    ev_key k;
    make_key(&k, &seg->src, seg->sport, &seg->dst, seg->dport);
    e->seq++;
    ev_flow *f = lookup(e, &k, true);
    if (f == NULL) {
        e->st.packets_forgotten++;
        return;
    }
    if (f->flagged) {
        if (ww_pcapngw_packet(e->w, pkt->linktype, pkt->ts_us, pkt->data, pkt->caplen,
                              pkt->len) == WW_OK)
            e->st.packets_written++;
        if (ww_pcapngw_flush(e->w) != WW_OK)
            e->st.packets_forgotten++; /* the writer's error is sticky: close reports it */
        return;
    }
    ring_add(e, f, pkt);
}

static ev_flow *find_flow(ww_evidence *e, const ww_flow *fl, bool create)
{
    ev_key k;
    make_key(&k, &fl->cli_ip, fl->cli_port, &fl->srv_ip, fl->srv_port);
    ev_flow *f = lookup(e, &k, create);
    if (f != NULL)
        f->cli = fl->cli_ip;
    return f;
}

void ww_evidence_served(ww_evidence *e, const ww_flow *fl)
{
    ev_flow *f = find_flow(e, fl, true);
    if (f != NULL)
        f->served = true;
}

typedef struct ev_ptr {
    uint64_t seq;
    const uint8_t *rec;
} ev_ptr;

static int cmp_ptr(const void *a, const void *b)
{
    const ev_ptr *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int ww_evidence_flag(ww_evidence *e, const ww_flow *fl)
{
    ev_flow *f = find_flow(e, fl, true);
    if (f == NULL)
        return WW_OK;
    /* the flows to write now: f and the unflagged served flows of its client */
    size_t n = 0, cap = 0;
    ev_ptr *v = NULL;
    int rc = WW_OK;
    for (size_t i = 0; i < e->cfg.max_flows; i++) {
        ev_flow *c = &e->pool[i];
        if (!c->used || c->flagged)
            continue;
        if (c != f && !(c->served && ww_ip_eq(&c->cli, &fl->cli_ip)))
            continue;
        c->flagged = true;
        e->st.flows_flagged++;
        for (size_t off = c->start; off < c->len;) {
            ev_rec r;
            memcpy(&r, c->buf + off, sizeof r);
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                ev_ptr *nv = ww_realloc(e->mem, v, nc * sizeof *v);
                if (nv == NULL) {
                    rc = WW_E_NOMEM;
                    break;
                }
                v = nv;
                cap = nc;
            }
            v[n].seq = r.seq;
            v[n].rec = c->buf + off;
            n++;
            off += rec_size(r.caplen);
        }
    }
    if (n > 0)
        qsort(v, n, sizeof *v, cmp_ptr);
    for (size_t i = 0; i < n; i++) {
        ev_rec r;
        memcpy(&r, v[i].rec, sizeof r);
        if (ww_pcapngw_packet(e->w, r.linktype, r.ts_us, v[i].rec + sizeof r, r.caplen, r.len) !=
            WW_OK) {
            rc = WW_E_IO;
            break;
        }
        e->st.packets_written++;
    }
    ww_free(e->mem, v);
    /* written: the rings of flagged flows are no longer needed */
    for (size_t i = 0; i < e->cfg.max_flows; i++) {
        ev_flow *c = &e->pool[i];
        if (c->used && c->flagged && c->cap > 0) {
            e->total_bytes -= c->cap;
            ww_free(e->mem, c->buf);
            c->buf = NULL;
            c->start = c->len = c->cap = 0;
            c->n = 0;
        }
    }
    if (ww_pcapngw_flush(e->w) != WW_OK)
        rc = WW_E_IO;
    return rc;
}

void ww_evidence_close(ww_evidence *e, const ww_flow *fl)
{
    ev_flow *f = find_flow(e, fl, false);
    if (f == NULL)
        return;
    if (f->served && !f->flagged) {
        f->closed = true; /* kept for a later alert of this client */
        return;
    }
    entry_remove(e, f);
}

const ww_evidence_stats *ww_evidence_stats_get(const ww_evidence *e)
{
    return &e->st;
}

void ww_evidence_free(ww_evidence *e)
{
    if (e == NULL)
        return;
    if (e->pool != NULL)
        for (size_t i = 0; i < e->cfg.max_flows; i++)
            ww_free(e->mem, e->pool[i].buf);
    ww_free(e->mem, e->pool);
    ww_free(e->mem, e->buckets);
    ww_free(e->mem, e);
}
