/*
 * pktdec.c - packet decoding down to TCP: link layers, 802.1Q/QinQ, IPv4 (RFC 791),
 * IPv6 (RFC 8200) with extension headers, IP fragment reassembly, the TCP header (RFC 9293).
 *
 *   IPv4   0      4      8             16    19             31
 *         +------+------+-------------+-----+---------------+
 *         | ver  | IHL  |    TOS      |     total length    |
 *         |     identification        |flags| frag offset   |
 *         |   TTL       |  protocol   |  header checksum    |
 *         |   source address / destination address / options (IHL*4 - 20)
 *
 *   IPv6   ver(4) tc(8) flow(20) | payload length(16) next header(8) hop limit(8) |
 *          source(128) | destination(128) | extension headers...
 *          ext: next(8) hdr-ext-len(8, 8-octet units not counting the first; AH: 4-octet
 *          units minus 2); fragment: next(8) resv(8) offset(13) res(2) M(1) | id(32)
 *
 *   TCP    sport(16) dport(16) | seq(32) | ack(32) | doff(4) rsv(4) flags(8) win(16) | ...
 *
 * Fragments: queues keyed on (family, src, dst, id, protocol) with one buffer per queue and a
 * bitmap of received 8-octet units; first copy wins on overlap. Caps on bytes held and queues,
 * oldest queue dropped first, timeouts checked when fragments arrive.
 */
#include "capture/capture.h"

#include <stdarg.h>

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define FRAG_MAX_DGRAM 65535u
#define FRAG_UNITS ((FRAG_MAX_DGRAM + 8) / 8)
#define FRAG_HASH 256u
#define MAX_VLAN_TAGS 4
#define MAX_EXT_HDRS 16

typedef struct frag_q {
    struct frag_q *hnext;      /* hash chain */
    struct frag_q *prev, *next; /* age list, oldest first */
    uint8_t family, proto;
    uint32_t id;
    uint8_t src[16], dst[16];
    uint64_t first_ts;
    uint32_t total;   /* datagram payload length once the last fragment is seen, else 0 */
    bool have_last;
    uint32_t units;   /* 8-octet units received */
    uint32_t hi;      /* highest byte end received */
    size_t held;      /* bytes accounted against max_frag_bytes (= allocated) */
    uint8_t *data;    /* held bytes of the datagram, grown as fragments arrive */
    uint8_t bits[FRAG_UNITS / 8 + 1];
} frag_q;

struct ww_pktdec {
    const ww_mem *mem;
    ww_pktdec_cfg cfg;
    ww_anomaly_fn anomaly;
    void *ud;
    ww_pktdec_stats st;
    frag_q *hash[FRAG_HASH];
    frag_q *oldest, *newest;
    size_t n_q, held;
    uint8_t *done; /* payload of the last reassembled datagram (lives until the next call) */
    ww_udp_fn udp_fn; /* NULL: UDP skipped */
    void *udp_ud;
};

static void dec_anomaly(ww_pktdec *d, uint64_t ts, const char *layer, const char *type,
                        const char *fmt, ...) WW_PRINTF(5, 6);
static void dec_anomaly(ww_pktdec *d, uint64_t ts, const char *layer, const char *type,
                        const char *fmt, ...)
{
    if (d->anomaly == NULL)
        return;
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    d->anomaly(d->ud, ts, NULL, layer, type, detail);
}

ww_pktdec *ww_pktdec_new(const ww_mem *mem, const ww_pktdec_cfg *cfg, ww_anomaly_fn anomaly,
                         void *ud)
{
    if (mem == NULL)
        mem = ww_mem_default();
    ww_pktdec *d = ww_calloc(mem, 1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->mem = mem;
    d->cfg.max_frag_bytes = 4u << 20;
    d->cfg.max_frag_queues = 1024;
    d->cfg.frag_timeout_us = 30000000u;
    if (cfg != NULL) {
        if (cfg->max_frag_bytes)
            d->cfg.max_frag_bytes = cfg->max_frag_bytes;
        if (cfg->max_frag_queues)
            d->cfg.max_frag_queues = cfg->max_frag_queues;
        if (cfg->frag_timeout_us)
            d->cfg.frag_timeout_us = cfg->frag_timeout_us;
    }
    d->anomaly = anomaly;
    d->ud = ud;
    return d;
}

/* ---- fragments ---- */

static unsigned frag_hash(uint8_t family, const uint8_t *src, const uint8_t *dst, uint32_t id)
{
    size_t n = family == 4 ? 4 : 16;
    uint32_t h = id * 2654435761u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ src[i] ^ ((uint32_t)dst[i] << 8)) * 16777619u;
    return (h ^ (h >> 15)) & (FRAG_HASH - 1);
}

static void frag_unlink(ww_pktdec *d, frag_q *q)
{
    unsigned h = frag_hash(q->family, q->src, q->dst, q->id);
    for (frag_q **pp = &d->hash[h]; *pp != NULL; pp = &(*pp)->hnext) {
        if (*pp == q) {
            *pp = q->hnext;
            break;
        }
    }
    if (q->prev)
        q->prev->next = q->next;
    else
        d->oldest = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        d->newest = q->prev;
    d->n_q--;
    d->held -= q->held;
}

static void frag_drop(ww_pktdec *d, frag_q *q)
{
    frag_unlink(d, q);
    ww_free(d->mem, q->data);
    ww_free(d->mem, q);
    d->st.frag_dropped++;
}

static void frag_expire(ww_pktdec *d, uint64_t now)
{
    while (d->oldest != NULL && now > d->oldest->first_ts &&
           now - d->oldest->first_ts > d->cfg.frag_timeout_us) {
        dec_anomaly(d, now, "ip", "frag-timeout", "fragment queue id %u timed out incomplete",
                    d->oldest->id);
        frag_drop(d, d->oldest);
    }
}

/* The queue of datagram (family, src, dst, id, proto), made when it is the first fragment (the
 * oldest queue dropped at the cap). NULL when out of memory. */
static frag_q *frag_queue(ww_pktdec *d, uint64_t ts, uint8_t family, const uint8_t *src,
                          const uint8_t *dst, uint32_t id, uint8_t proto)
{
    size_t an = family == 4 ? 4 : 16;
    unsigned h = frag_hash(family, src, dst, id);
    for (frag_q *q = d->hash[h]; q != NULL; q = q->hnext)
        if (q->id == id && q->family == family && q->proto == proto &&
            memcmp(q->src, src, an) == 0 && memcmp(q->dst, dst, an) == 0)
            return q;
    while (d->n_q >= d->cfg.max_frag_queues && d->oldest != NULL) {
        dec_anomaly(d, ts, "ip", "frag-queue-cap", "too many fragment queues; oldest dropped");
        frag_drop(d, d->oldest);
    }
    frag_q *q = ww_calloc(d->mem, 1, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->family = family;
    q->proto = proto;
    q->id = id;
    memcpy(q->src, src, an);
    memcpy(q->dst, dst, an);
    q->first_ts = ts;
    q->hnext = d->hash[h];
    d->hash[h] = q;
    q->prev = d->newest;
    if (d->newest)
        d->newest->next = q;
    else
        d->oldest = q;
    d->newest = q;
    d->n_q++;
    return q;
}

/* A fragment ending at end (the last one when !more) against what q knows of the datagram's
 * end: WW_OK, or q is dropped as inconsistent. */
static int frag_check_end(ww_pktdec *d, uint64_t ts, frag_q *q, uint32_t end, bool more)
{
    if (!more) {
        if (q->have_last && q->total != end) {
            dec_anomaly(d, ts, "ip", "frag-inconsistent", "two last fragments disagree (%u, %u)",
                        q->total, end);
            goto bad;
        }
        if (end < q->hi) {
            dec_anomaly(d, ts, "ip", "frag-inconsistent", "data past the last fragment");
            goto bad;
        }
        q->have_last = true;
        q->total = end;
    } else if (q->have_last && end > q->total) {
        dec_anomaly(d, ts, "ip", "frag-inconsistent", "fragment past the last fragment");
        goto bad;
    }
    return WW_OK;
bad:
    frag_drop(d, q);
    return WW_E_INVALID;
}

/* Room in q's buffer up to end: it grows in 2 KiB steps within the byte cap of all queues (the
 * oldest dropped first). WW_OK, or q is dropped. */
static int frag_reserve(ww_pktdec *d, uint64_t ts, frag_q *q, uint32_t end)
{
    size_t want = ((size_t)end + 2047) & ~(size_t)2047;
    size_t grow = want > q->held ? want - q->held : 0;
    while (grow > 0 && d->held + grow > d->cfg.max_frag_bytes) {
        frag_q *o = d->oldest;
        if (o == NULL || o == q) {
            dec_anomaly(d, ts, "ip", "frag-byte-cap", "fragment bytes over the cap; dropped");
            frag_drop(d, q);
            return WW_E_TOOBIG;
        }
        dec_anomaly(d, ts, "ip", "frag-byte-cap", "fragment bytes over the cap; oldest dropped");
        frag_drop(d, o);
    }
    if (grow > 0) {
        uint8_t *nd = ww_realloc(d->mem, q->data, want);
        if (nd == NULL) {
            frag_drop(d, q);
            return WW_E_NOMEM;
        }
        q->data = nd;
        q->held = want;
        d->held += grow;
    }
    return WW_OK;
}

/* Copies the 8-byte units of p (offset off, ending at end) that q does not have yet: the first
 * copy wins; an overlap is an anomaly (a conflicting one named so). */
static void frag_copy(ww_pktdec *d, uint64_t ts, frag_q *q, uint32_t off, uint32_t end,
                      const uint8_t *p)
{
    bool overlap = false, conflict = false;
    for (uint32_t u = off / 8; u * 8 < end; u++) {
        uint32_t a = u * 8, b = WW_MIN(a + 8, end);
        uint8_t bit = (uint8_t)(1u << (u & 7));
        if (q->bits[u >> 3] & bit) {
            overlap = true;
            if (memcmp(q->data + a, p + (a - off), b - a) != 0)
                conflict = true;
            continue;
        }
        memcpy(q->data + a, p + (a - off), b - a);
        q->bits[u >> 3] |= bit;
        q->units++;
    }
    if (end > q->hi)
        q->hi = end;
    if (overlap)
        dec_anomaly(d, ts, "ip", conflict ? "frag-overlap-conflict" : "frag-overlap",
                    "overlapping fragment at offset %u (id %u); first copy kept", off, q->id);
}

/*
 * Adds one fragment. off/len in bytes of the fragmentable part; more = MF.
 * Returns 1 with *out and *out_len = the whole datagram payload (owned by d->done), 0 when held,
 * negative when dropped.
 */
static int frag_add(ww_pktdec *d, uint64_t ts, uint8_t family, const uint8_t *src,
                    const uint8_t *dst, uint32_t id, uint8_t proto, uint32_t off,
                    const uint8_t *p, uint32_t len, bool more, const uint8_t **out,
                    uint32_t *out_len)
{
    d->st.frags++;
    frag_expire(d, ts);
    if ((uint64_t)off + len > FRAG_MAX_DGRAM) {
        dec_anomaly(d, ts, "ip", "frag-too-big", "fragment ends at %llu, past 65535",
                    (unsigned long long)off + len);
        d->st.frag_dropped++;
        return WW_E_INVALID;
    }
    if (more && (len & 7) != 0) {
        dec_anomaly(d, ts, "ip", "frag-bad-length",
                    "non-final fragment of %u bytes (not a multiple of 8)", len);
        d->st.frag_dropped++;
        return WW_E_INVALID;
    }
    frag_q *q = frag_queue(d, ts, family, src, dst, id, proto);
    if (q == NULL)
        return WW_E_NOMEM;
    uint32_t end = off + len;
    int rc = frag_check_end(d, ts, q, end, more);
    if (rc == WW_OK)
        rc = frag_reserve(d, ts, q, end);
    if (rc != WW_OK)
        return rc;
    frag_copy(d, ts, q, off, end, p);
    if (!q->have_last || q->units != (q->total + 7) / 8)
        return 0;
    /* complete */
    frag_unlink(d, q);
    ww_free(d->mem, d->done);
    d->done = q->data;
    *out = q->data;
    *out_len = q->total;
    ww_free(d->mem, q);
    d->st.reassembled++;
    return 1;
}

/* ---- TCP ---- */

static int dec_tcp(ww_pktdec *d, const ww_pkt *pkt, ww_seg *seg, const uint8_t *p,
                   uint32_t caplen, uint32_t wirelen)
{
    ww_rd r = ww_rd_init(p, caplen);
    uint16_t sp, dp, win;
    uint32_t seq, ack;
    uint8_t offx, fl;
    if (wirelen < 20) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "tcp", "tcp-too-short", "TCP segment of %u bytes", wirelen);
        return WW_E_INVALID;
    }
    if (!ww_rd_be16(&r, &sp) || !ww_rd_be16(&r, &dp) || !ww_rd_be32(&r, &seq) ||
        !ww_rd_be32(&r, &ack) || !ww_rd_u8(&r, &offx) || !ww_rd_u8(&r, &fl) ||
        !ww_rd_be16(&r, &win)) {
        d->st.truncated++;
        dec_anomaly(d, pkt->ts_us, "tcp", "snaplen-truncated", "TCP header cut by snaplen");
        return WW_E_TRUNC;
    }
    uint32_t hl = (uint32_t)(offx >> 4) * 4;
    if (hl < 20 || hl > wirelen) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "tcp", "bad-tcp-header-length",
                    "data offset %u bytes (segment %u bytes)", hl, wirelen);
        return WW_E_INVALID;
    }
    if (hl > caplen) {
        d->st.truncated++;
        dec_anomaly(d, pkt->ts_us, "tcp", "snaplen-truncated", "TCP options cut by snaplen");
        return WW_E_TRUNC;
    }
    seg->ts_us = pkt->ts_us;
    seg->sport = sp;
    seg->dport = dp;
    seg->seq = seq;
    seg->ack = ack;
    seg->flags = fl;
    seg->win = win;
    seg->payload = p + hl;
    seg->len = caplen - hl;
    seg->wire_len = wirelen - hl;
    return 1;
}

/* ---- UDP (RFC 768) ----
 *   sport(16) dport(16) | length(16) checksum(16) | payload
 * Only when a UDP callback is set; returns 0 (no TCP segment) or a negative WW_E_*. */

static int dec_udp(ww_pktdec *d, const ww_pkt *pkt, const ww_seg *ips, const uint8_t *p,
                   uint32_t caplen, uint32_t wirelen)
{
    ww_rd r = ww_rd_init(p, caplen);
    uint16_t sp, dp, ulen, csum;
    d->st.non_tcp++;
    if (wirelen < 8) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "udp", "udp-too-short", "UDP datagram of %u bytes", wirelen);
        return WW_E_INVALID;
    }
    if (!ww_rd_be16(&r, &sp) || !ww_rd_be16(&r, &dp) || !ww_rd_be16(&r, &ulen) ||
        !ww_rd_be16(&r, &csum)) {
        d->st.truncated++;
        dec_anomaly(d, pkt->ts_us, "udp", "snaplen-truncated", "UDP header cut by snaplen");
        return WW_E_TRUNC;
    }
    /* length 0: a jumbogram (RFC 2675) or a TSO capture; take the IP payload */
    if (ulen != 0 && (ulen < 8 || ulen > wirelen)) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "udp", "bad-udp-length", "UDP length %u, IP payload %u",
                    ulen, wirelen);
        return WW_E_INVALID;
    }
    uint32_t wlen = (ulen != 0 ? ulen : wirelen) - 8;
    uint32_t avail = caplen - 8;
    if (avail > wlen)
        avail = wlen; /* IP payload longer than the UDP length: trailing padding */
    ww_udp_dgram dg;
    dg.ts_us = pkt->ts_us;
    dg.src = ips->src;
    dg.dst = ips->dst;
    dg.sport = sp;
    dg.dport = dp;
    dg.payload = r.p;
    dg.len = avail;
    dg.wire_len = wlen;
    d->st.udp++;
    d->udp_fn(d->udp_ud, &dg);
    return 0;
}

void ww_pktdec_set_udp_fn(ww_pktdec *d, ww_udp_fn fn, void *ud)
{
    WW_ASSERT(d != NULL);
    d->udp_fn = fn;
    d->udp_ud = ud;
}

/* ---- IPv4 ---- */

static int dec_ipv4(ww_pktdec *d, const ww_pkt *pkt, ww_seg *seg, const uint8_t *p, size_t n,
                    bool cut)
{
    ww_rd r = ww_rd_init(p, n);
    uint8_t vihl, tos, ttl, proto;
    uint16_t tot, id, foff, csum;
    ww_slice sa, da;
    if (!ww_rd_u8(&r, &vihl) || !ww_rd_u8(&r, &tos) || !ww_rd_be16(&r, &tot) ||
        !ww_rd_be16(&r, &id) || !ww_rd_be16(&r, &foff) || !ww_rd_u8(&r, &ttl) ||
        !ww_rd_u8(&r, &proto) || !ww_rd_be16(&r, &csum) || !ww_rd_bytes(&r, &sa, 4) ||
        !ww_rd_bytes(&r, &da, 4)) {
        if (cut) {
            d->st.truncated++;
            dec_anomaly(d, pkt->ts_us, "ip", "snaplen-truncated", "IPv4 header cut by snaplen");
            return WW_E_TRUNC;
        }
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "ip", "ip-too-short", "IPv4 packet of %zu bytes", n);
        return WW_E_INVALID;
    }
    if ((vihl >> 4) != 4) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "ip", "bad-ip-version", "version %u in an IPv4 frame",
                    vihl >> 4);
        return WW_E_INVALID;
    }
    size_t hl = (size_t)(vihl & 15) * 4;
    if (hl < 20) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "ip", "bad-ip-header-length", "IHL %zu bytes", hl);
        return WW_E_INVALID;
    }
    /* total length 0: TSO/GSO capture on the sending host; take what is there */
    size_t wire_total = tot ? tot : n;
    if (tot != 0 && tot < hl) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "ip", "bad-ip-total-length",
                    "total length %u below header length %zu", tot, hl);
        return WW_E_INVALID;
    }
    if (!ww_rd_skip(&r, hl - 20)) { /* options */
        if (cut || hl <= wire_total) {
            d->st.truncated++;
            dec_anomaly(d, pkt->ts_us, "ip", "snaplen-truncated", "IPv4 options cut");
            return WW_E_TRUNC;
        }
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "ip", "bad-ip-header-length", "IHL %zu past the packet", hl);
        return WW_E_INVALID;
    }
    size_t avail = n - hl;
    size_t wpay = wire_total - hl;
    if (wire_total > n && !cut) {
        /* the IP header claims more than the frame held, without snaplen saying so */
        dec_anomaly(d, pkt->ts_us, "ip", "ip-length-exceeds-frame",
                    "total length %zu, frame holds %zu", wire_total, n);
        cut = true;
    }
    if (avail > wpay)
        avail = wpay; /* link padding */
    seg->src.family = seg->dst.family = 4;
    memcpy(seg->src.a, sa.ptr, 4);
    memcpy(seg->dst.a, da.ptr, 4);
    bool udp = proto == IPPROTO_UDP_ && d->udp_fn != NULL;
    if (proto != IPPROTO_TCP_ && !udp) {
        d->st.non_tcp++;
        return 0;
    }
    const uint8_t *pl = r.p;
    bool mf = (foff & 0x2000) != 0;
    uint32_t fo = (uint32_t)(foff & 0x1fff) * 8;
    if (mf || fo != 0) {
        if (avail < wpay) {
            d->st.frags++;
            d->st.frag_dropped++;
            d->st.truncated++;
            dec_anomaly(d, pkt->ts_us, "ip", "snaplen-truncated",
                        "IPv4 fragment cut by snaplen; not reassembled");
            return WW_E_TRUNC;
        }
        const uint8_t *whole;
        uint32_t wlen;
        int rc = frag_add(d, pkt->ts_us, 4, sa.ptr, da.ptr, id, proto, fo, pl, (uint32_t)avail,
                          mf, &whole, &wlen);
        if (rc != 1)
            return rc < 0 ? rc : 0;
        if (udp)
            return dec_udp(d, pkt, seg, whole, wlen, wlen);
        return dec_tcp(d, pkt, seg, whole, wlen, wlen);
    }
    if (avail < wpay)
        d->st.truncated++;
    if (udp)
        return dec_udp(d, pkt, seg, pl, (uint32_t)avail, (uint32_t)wpay);
    return dec_tcp(d, pkt, seg, pl, (uint32_t)avail, (uint32_t)wpay);
}

/* ---- IPv6 ---- */

/* What ipv6_frag found besides dec_ipv6's own return values. */
enum { FRAG6_GO_ON = 2, FRAG6_CUT = 3 };

/* The fragment header at r (RFC 8200 4.5) of a datagram whose payload starts at pay and is wpay
 * bytes on the wire: an atomic fragment goes on with *nh; a fragment goes to its datagram
 * (frag_add) and, once that is whole, r becomes the reassembled payload. Returns FRAG6_GO_ON
 * (parse *nh at r), FRAG6_CUT (the header is cut short), or what dec_ipv6 returns. */
static int ipv6_frag(ww_pktdec *d, const ww_pkt *pkt, ww_rd *r, const uint8_t *sa,
                     const uint8_t *da, const uint8_t *pay, size_t wpay, uint8_t *nh,
                     bool *reassembled)
{
    uint8_t next, resv;
    uint16_t fo;
    uint32_t id;
    if (*reassembled) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "ip", "frag-nested",
                    "fragment header inside a reassembled datagram");
        return WW_E_INVALID;
    }
    if (!ww_rd_u8(r, &next) || !ww_rd_u8(r, &resv) || !ww_rd_be16(r, &fo) || !ww_rd_be32(r, &id))
        return FRAG6_CUT;
    uint32_t off = (uint32_t)(fo >> 3) * 8;
    bool more = (fo & 1) != 0;
    if (off == 0 && !more) { /* atomic fragment */
        *nh = next;
        return FRAG6_GO_ON;
    }
    if (next != IPPROTO_TCP_ && next != 0 && next != 43 && next != 60 && next != 51 &&
        !(next == IPPROTO_UDP_ && d->udp_fn != NULL)) {
        d->st.non_tcp++;
        return 0;
    }
    size_t left = ww_rd_left(r);
    size_t wleft = wpay - (size_t)(r->p - pay);
    if (left < wleft) {
        d->st.frags++;
        d->st.frag_dropped++;
        d->st.truncated++;
        dec_anomaly(d, pkt->ts_us, "ip", "snaplen-truncated",
                    "IPv6 fragment cut by snaplen; not reassembled");
        return WW_E_TRUNC;
    }
    const uint8_t *whole;
    uint32_t wlen;
    int rc = frag_add(d, pkt->ts_us, 6, sa, da, id, next, off, r->p, (uint32_t)left, more, &whole,
                      &wlen);
    if (rc != 1)
        return rc < 0 ? rc : 0;
    *reassembled = true;
    *r = ww_rd_init(whole, wlen);
    *nh = next;
    return FRAG6_GO_ON;
}

/* An extension header that only says what comes next (hop-by-hop, routing, destination options,
 * AH, mobility): skipped. Returns false when it is cut short. */
static bool ipv6_ext_skip(ww_rd *r, uint8_t *nh)
{
    uint8_t next, hlen;
    const uint8_t *hstart = r->p;
    if (!ww_rd_u8(r, &next) || !ww_rd_u8(r, &hlen))
        return false;
    size_t total = *nh == 51 ? ((size_t)hlen + 2) * 4 : ((size_t)hlen + 1) * 8;
    r->p = hstart;
    if (!ww_rd_skip(r, total))
        return false;
    *nh = next;
    return true;
}

static int dec_ipv6(ww_pktdec *d, const ww_pkt *pkt, ww_seg *seg, const uint8_t *p, size_t n,
                    bool cut)
{
    ww_rd r = ww_rd_init(p, n);
    uint32_t vtf;
    uint16_t plen;
    uint8_t nh, hop;
    ww_slice sa, da;
    if (!ww_rd_be32(&r, &vtf) || !ww_rd_be16(&r, &plen) || !ww_rd_u8(&r, &nh) ||
        !ww_rd_u8(&r, &hop) || !ww_rd_bytes(&r, &sa, 16) || !ww_rd_bytes(&r, &da, 16)) {
        if (cut) {
            d->st.truncated++;
            dec_anomaly(d, pkt->ts_us, "ip", "snaplen-truncated", "IPv6 header cut by snaplen");
            return WW_E_TRUNC;
        }
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "ip", "ip-too-short", "IPv6 packet of %zu bytes", n);
        return WW_E_INVALID;
    }
    if ((vtf >> 28) != 6) {
        d->st.malformed++;
        dec_anomaly(d, pkt->ts_us, "ip", "bad-ip-version", "version %u in an IPv6 frame",
                    vtf >> 28);
        return WW_E_INVALID;
    }
    size_t avail = ww_rd_left(&r);
    size_t wpay = plen ? plen : avail; /* 0: jumbogram or TSO; take what is there */
    if (wpay > avail && !cut) {
        dec_anomaly(d, pkt->ts_us, "ip", "ip-length-exceeds-frame",
                    "payload length %zu, frame holds %zu", wpay, avail);
        cut = true;
    }
    if (avail > wpay)
        avail = wpay;
    r = ww_rd_init(r.p, avail);
    seg->src.family = seg->dst.family = 6;
    memcpy(seg->src.a, sa.ptr, 16);
    memcpy(seg->dst.a, da.ptr, 16);

    bool reassembled = false;
    for (int i = 0; i < MAX_EXT_HDRS; i++) {
        if (nh == IPPROTO_TCP_ || (nh == IPPROTO_UDP_ && d->udp_fn != NULL)) {
            size_t left = ww_rd_left(&r);
            size_t wleft = reassembled ? left : wpay - (size_t)(r.p - (p + 40));
            if (left < wleft)
                d->st.truncated++;
            return nh == IPPROTO_TCP_ ? dec_tcp(d, pkt, seg, r.p, (uint32_t)left, (uint32_t)wleft)
                                      : dec_udp(d, pkt, seg, r.p, (uint32_t)left, (uint32_t)wleft);
        }
        switch (nh) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 51:  /* AH */
        case 135: /* mobility */
            if (!ipv6_ext_skip(&r, &nh))
                goto trunc;
            break;
        case 44: { /* fragment */
            int rc = ipv6_frag(d, pkt, &r, sa.ptr, da.ptr, p + 40, wpay, &nh, &reassembled);
            if (rc == FRAG6_CUT)
                goto trunc;
            if (rc != FRAG6_GO_ON)
                return rc;
            break;
        }
        default:
            d->st.non_tcp++;
            return 0;
        }
    }
    d->st.malformed++;
    dec_anomaly(d, pkt->ts_us, "ip", "ipv6-ext-chain", "more than %d extension headers",
                MAX_EXT_HDRS);
    return WW_E_INVALID;
trunc:
    if (cut) {
        d->st.truncated++;
        dec_anomaly(d, pkt->ts_us, "ip", "snaplen-truncated", "IPv6 extension header cut");
        return WW_E_TRUNC;
    }
    d->st.malformed++;
    dec_anomaly(d, pkt->ts_us, "ip", "bad-ipv6-ext-header", "extension header %u past the "
                                                             "payload", nh);
    return WW_E_INVALID;
}

/* ---- link ---- */

static int dec_ethertype(ww_pktdec *d, const ww_pkt *pkt, ww_seg *seg, ww_rd *r, uint16_t et,
                         bool cut)
{
    for (int tags = 0; et == 0x8100 || et == 0x88a8 || et == 0x9100; tags++) {
        uint16_t tci;
        if (tags >= MAX_VLAN_TAGS) {
            d->st.malformed++;
            dec_anomaly(d, pkt->ts_us, "link", "vlan-too-deep", "more than %d VLAN tags",
                        MAX_VLAN_TAGS);
            return WW_E_INVALID;
        }
        if (!ww_rd_be16(r, &tci) || !ww_rd_be16(r, &et)) {
            d->st.truncated++;
            dec_anomaly(d, pkt->ts_us, "link", cut ? "snaplen-truncated" : "link-too-short",
                        "VLAN tag cut");
            return WW_E_TRUNC;
        }
    }
    if (et == 0x0800)
        return dec_ipv4(d, pkt, seg, r->p, ww_rd_left(r), cut);
    if (et == 0x86dd)
        return dec_ipv6(d, pkt, seg, r->p, ww_rd_left(r), cut);
    d->st.non_ip++;
    return 0;
}

static int dec_af(ww_pktdec *d, const ww_pkt *pkt, ww_seg *seg, ww_rd *r, uint32_t af, bool cut)
{
    if (af == 2)
        return dec_ipv4(d, pkt, seg, r->p, ww_rd_left(r), cut);
    if (af == 24 || af == 28 || af == 30 || af == 10)
        return dec_ipv6(d, pkt, seg, r->p, ww_rd_left(r), cut);
    d->st.non_ip++;
    return 0;
}

int ww_pktdec_decode(ww_pktdec *d, const ww_pkt *pkt, ww_seg *seg)
{
    WW_ASSERT(d != NULL && pkt != NULL && seg != NULL);
    d->st.packets++;
    d->st.bytes += pkt->len;
    bool cut = pkt->len > pkt->caplen;
    ww_rd r = ww_rd_init(pkt->data, pkt->caplen);
    seg->has_src_mac = false;
    switch (pkt->linktype) {
    case WW_LINK_ETHERNET: {
        uint16_t et;
        if (!ww_rd_skip(&r, 12) || !ww_rd_be16(&r, &et))
            break;
        memcpy(seg->src_mac, pkt->data + 6, 6); /* the 14 bytes were read */
        seg->has_src_mac = true;
        return dec_ethertype(d, pkt, seg, &r, et, cut);
    }
    case WW_LINK_SLL: { /* type, ARPHRD, address length, address[8], protocol */
        uint16_t et;
        if (!ww_rd_skip(&r, 14) || !ww_rd_be16(&r, &et))
            break;
        seg->has_src_mac = pkt->data[4] == 0 && pkt->data[5] == 6;
        memcpy(seg->src_mac, pkt->data + 6, 6);
        return dec_ethertype(d, pkt, seg, &r, et, cut);
    }
    case WW_LINK_SLL2: { /* protocol, reserved, ifindex, ARPHRD, type, address length, address[8] */
        uint16_t et;
        if (!ww_rd_be16(&r, &et) || !ww_rd_skip(&r, 18))
            break;
        seg->has_src_mac = pkt->data[11] == 6;
        memcpy(seg->src_mac, pkt->data + 12, 6);
        return dec_ethertype(d, pkt, seg, &r, et, cut);
    }
    case WW_LINK_NULL: {
        uint32_t af;
        if (!ww_rd_le32(&r, &af))
            break;
        if (af > 0xffff) /* written by a big-endian host */
            af = ((af & 0xff) << 24) | ((af & 0xff00) << 8) | ((af >> 8) & 0xff00) | (af >> 24);
        return dec_af(d, pkt, seg, &r, af, cut);
    }
    case WW_LINK_LOOP: {
        uint32_t af;
        if (!ww_rd_be32(&r, &af))
            break;
        return dec_af(d, pkt, seg, &r, af, cut);
    }
    case WW_LINK_RAW:
    case 12:
    case 14: {
        if (pkt->caplen < 1)
            break;
        int v = pkt->data[0] >> 4;
        if (v == 4)
            return dec_ipv4(d, pkt, seg, pkt->data, pkt->caplen, cut);
        if (v == 6)
            return dec_ipv6(d, pkt, seg, pkt->data, pkt->caplen, cut);
        d->st.non_ip++;
        return 0;
    }
    case WW_LINK_IPV4:
        return dec_ipv4(d, pkt, seg, pkt->data, pkt->caplen, cut);
    case WW_LINK_IPV6:
        return dec_ipv6(d, pkt, seg, pkt->data, pkt->caplen, cut);
    default:
        d->st.non_ip++;
        return 0;
    }
    /* link header cut */
    d->st.truncated++;
    dec_anomaly(d, pkt->ts_us, "link", cut ? "snaplen-truncated" : "link-too-short",
                "link header of linktype %d cut (%u bytes)", pkt->linktype, pkt->caplen);
    return WW_E_TRUNC;
}

const ww_pktdec_stats *ww_pktdec_stats_get(const ww_pktdec *d)
{
    WW_ASSERT(d != NULL);
    return &d->st;
}

void ww_pktdec_free(ww_pktdec *d)
{
    if (d == NULL)
        return;
    while (d->oldest != NULL) {
        frag_q *q = d->oldest;
        frag_unlink(d, q);
        ww_free(d->mem, q->data);
        ww_free(d->mem, q);
    }
    ww_free(d->mem, d->done);
    ww_free(d->mem, d);
}
