/*
 * test_capture.c - sources (pcap, pcapng, gzip), link/IP/TCP decoding, fragments, TCP
 * reassembly, and replay of the shared corpus.
 */
#define _GNU_SOURCE
#include "capture/capture.h"
#include "tests/t.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <zlib.h>

/* ---------- packet builders ---------- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* TCP header (20 bytes + optlen) + payload at p. Returns length. */
static size_t mk_tcp(uint8_t *p, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack,
                     uint8_t flags, const void *pl, size_t n)
{
    memset(p, 0, 20);
    put16(p, sp);
    put16(p + 2, dp);
    put32(p + 4, seq);
    put32(p + 8, ack);
    p[12] = 5 << 4;
    p[13] = flags;
    put16(p + 14, 65535);
    if (n)
        memcpy(p + 20, pl, n);
    return 20 + n;
}

/* IPv4 header with optlen option bytes (multiple of 4) around a transport payload. */
static size_t mk_ip4(uint8_t *p, const char *src, const char *dst, uint8_t proto, size_t optlen,
                     const uint8_t *l4, size_t n, uint16_t id, uint16_t frag)
{
    size_t hl = 20 + optlen;
    memset(p, 0, hl);
    p[0] = (uint8_t)(0x40 | (hl / 4));
    put16(p + 2, (uint16_t)(hl + n));
    put16(p + 4, id);
    put16(p + 6, frag);
    p[8] = 64;
    p[9] = proto;
    inet_pton(AF_INET, src, p + 12);
    inet_pton(AF_INET, dst, p + 16);
    for (size_t i = 0; i < optlen; i++)
        p[20 + i] = 1; /* NOP */
    memcpy(p + hl, l4, n);
    return hl + n;
}

static size_t mk_ip6(uint8_t *p, const char *src, const char *dst, uint8_t nh,
                     const uint8_t *rest, size_t n)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, (uint16_t)n);
    p[6] = nh;
    p[7] = 64;
    inet_pton(AF_INET6, src, p + 8);
    inet_pton(AF_INET6, dst, p + 24);
    memcpy(p + 40, rest, n);
    return 40 + n;
}

static size_t mk_eth(uint8_t *p, uint16_t et, const uint8_t *l3, size_t n)
{
    memset(p, 0, 12);
    p[0] = 2, p[6] = 4;
    put16(p + 12, et);
    memcpy(p + 14, l3, n);
    return 14 + n;
}

/* ---------- collector ---------- */

#define MAXF 8
typedef struct coll {
    int opens, closes;
    int close_reason[MAXF];
    uint64_t ids[MAXF];
    bool midstream[MAXF];
    uint8_t data[MAXF][2][4096];
    size_t len[MAXF][2];
    uint64_t gap[MAXF][2];
    int ngaps;
    int anomalies;
    char last_anomaly[64];
} coll;

static int fidx(const ww_flow *f)
{
    return (int)((f->id - 1) % MAXF);
}
static void c_open(void *ud, ww_flow *f, uint64_t ts)
{
    coll *c = ud;
    (void)ts;
    c->ids[fidx(f)] = f->id;
    c->midstream[fidx(f)] = f->midstream;
    c->opens++;
}
static void c_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    coll *c = ud;
    (void)ts;
    int i = fidx(f);
    size_t room = sizeof(c->data[0][0]) - c->len[i][dir];
    size_t k = n < room ? n : room;
    memcpy(c->data[i][dir] + c->len[i][dir], p, k);
    c->len[i][dir] += k;
}
static void c_gap(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts)
{
    coll *c = ud;
    (void)ts;
    c->gap[fidx(f)][dir] += len;
    c->ngaps++;
    /* mark the gap in the stream so order can be checked */
    int i = fidx(f);
    if (c->len[i][dir] < sizeof(c->data[0][0]))
        c->data[i][dir][c->len[i][dir]++] = '#';
}
static void c_close(void *ud, ww_flow *f, int reason, uint64_t ts)
{
    coll *c = ud;
    (void)ts;
    c->close_reason[fidx(f)] = reason;
    c->closes++;
}
static void c_anom(void *ud, uint64_t ts, const struct ww_flow *f, const char *layer,
                   const char *type, const char *detail)
{
    coll *c = ud;
    (void)ts, (void)f, (void)layer, (void)detail;
    c->anomalies++;
    snprintf(c->last_anomaly, sizeof(c->last_anomaly), "%s", type);
}

typedef struct rig {
    coll c;
    ww_pktdec *d;
    ww_tcp *t;
} rig;

static void rig_init(rig *r, const ww_tcp_cfg *tcfg, const ww_pktdec_cfg *dcfg)
{
    memset(&r->c, 0, sizeof(r->c));
    ww_stream_cbs cbs = {&r->c, c_open, c_data, c_gap, c_close, c_anom};
    r->d = ww_pktdec_new(NULL, dcfg, c_anom, &r->c);
    r->t = ww_tcp_new(NULL, tcfg, &cbs);
}
static void rig_free(rig *r)
{
    ww_tcp_free(r->t);
    ww_pktdec_free(r->d);
}
/* Decodes one packet and hands a segment to TCP. Returns the decoder's result. */
static int rig_pkt(rig *r, int lt, const uint8_t *p, uint32_t caplen, uint32_t len, uint64_t ts)
{
    ww_pkt pkt = {ts, caplen, len, lt, p};
    ww_seg seg;
    int rc = ww_pktdec_decode(r->d, &pkt, &seg);
    if (rc == 1) {
        ww_tcp_tick(r->t, ts);
        ww_tcp_segment(r->t, &seg);
    }
    return rc;
}

/* One TCP/IPv4/Ethernet segment between 10.0.0.1:40000 (client) and 10.0.0.2:80. */
static int seg4(rig *r, bool c2s, uint32_t seq, uint32_t ack, uint8_t fl, const char *pl,
                uint64_t ts)
{
    uint8_t t4[2048], ip[2100], fr[2200];
    size_t n = pl ? strlen(pl) : 0;
    size_t tl = c2s ? mk_tcp(t4, 40000, 80, seq, ack, fl, pl, n)
                    : mk_tcp(t4, 80, 40000, seq, ack, fl, pl, n);
    size_t il = mk_ip4(ip, c2s ? "10.0.0.1" : "10.0.0.2", c2s ? "10.0.0.2" : "10.0.0.1", 6, 0,
                       t4, tl, 1, 0x4000);
    size_t fl2 = mk_eth(fr, 0x0800, ip, il);
    return rig_pkt(r, WW_LINK_ETHERNET, fr, (uint32_t)fl2, (uint32_t)fl2, ts);
}

#define S WW_TCP_SYN
#define A WW_TCP_ACK
#define F WW_TCP_FIN
#define R WW_TCP_RST
#define P WW_TCP_PSH

static void handshake(rig *r, uint32_t cisn, uint32_t sisn)
{
    seg4(r, true, cisn, 0, S, NULL, 1000);
    seg4(r, false, sisn, cisn + 1, S | A, NULL, 1001);
    seg4(r, true, cisn + 1, sisn + 1, A, NULL, 1002);
}

/* ---------- link types ---------- */

static size_t tcp4_packet(uint8_t *ip, const char *payload)
{
    uint8_t t4[256];
    size_t tl = mk_tcp(t4, 5555, 443, 1, 0, A | P, payload, strlen(payload));
    return mk_ip4(ip, "192.0.2.1", "192.0.2.2", 6, 0, t4, tl, 7, 0);
}
static size_t tcp6_packet(uint8_t *ip, const char *payload)
{
    uint8_t t4[256];
    size_t tl = mk_tcp(t4, 5555, 443, 1, 0, A | P, payload, strlen(payload));
    return mk_ip6(ip, "2001:db8::1", "2001:db8::2", 6, t4, tl);
}

static void check_decodes(int lt, const uint8_t *p, size_t n, const char *want, int fam)
{
    ww_pktdec *d = ww_pktdec_new(NULL, NULL, NULL, NULL);
    ww_pkt pkt = {5, (uint32_t)n, (uint32_t)n, lt, p};
    ww_seg seg;
    int rc = ww_pktdec_decode(d, &pkt, &seg);
    T_EQ_INT(rc, 1);
    if (rc == 1) {
        T_EQ_INT(seg.len, strlen(want));
        T_EQ_MEM(seg.payload, want, strlen(want));
        T_EQ_INT(seg.sport, 5555);
        T_EQ_INT(seg.dport, 443);
        T_EQ_INT(seg.src.family, fam);
        T_EQ_INT(seg.wire_len, seg.len);
    }
    ww_pktdec_free(d);
}

T_CASE(link_types)
{
    uint8_t ip4[512], ip6[512], fr[600];
    size_t n4 = tcp4_packet(ip4, "hello4"), n6 = tcp6_packet(ip6, "hello6");
    /* Ethernet */
    size_t n = mk_eth(fr, 0x0800, ip4, n4);
    check_decodes(WW_LINK_ETHERNET, fr, n, "hello4", 4);
    n = mk_eth(fr, 0x86dd, ip6, n6);
    check_decodes(WW_LINK_ETHERNET, fr, n, "hello6", 6);
    /* with ethernet padding after a short IP packet */
    n = mk_eth(fr, 0x0800, ip4, n4);
    memset(fr + n, 0xee, 10);
    check_decodes(WW_LINK_ETHERNET, fr, n + 10, "hello4", 4);
    /* 802.1Q */
    memset(fr, 0, 12);
    put16(fr + 12, 0x8100);
    put16(fr + 14, 100);
    put16(fr + 16, 0x0800);
    memcpy(fr + 18, ip4, n4);
    check_decodes(WW_LINK_ETHERNET, fr, 18 + n4, "hello4", 4);
    /* QinQ 0x88a8 + 0x8100, and 0x9100 */
    put16(fr + 12, 0x88a8);
    put16(fr + 14, 5);
    put16(fr + 16, 0x8100);
    put16(fr + 18, 6);
    put16(fr + 20, 0x86dd);
    memcpy(fr + 22, ip6, n6);
    check_decodes(WW_LINK_ETHERNET, fr, 22 + n6, "hello6", 6);
    put16(fr + 12, 0x9100);
    check_decodes(WW_LINK_ETHERNET, fr, 22 + n6, "hello6", 6);
    /* SLL v1 */
    memset(fr, 0, 16);
    put16(fr + 14, 0x0800);
    memcpy(fr + 16, ip4, n4);
    check_decodes(WW_LINK_SLL, fr, 16 + n4, "hello4", 4);
    /* SLL v2 */
    memset(fr, 0, 20);
    put16(fr, 0x86dd);
    memcpy(fr + 20, ip6, n6);
    check_decodes(WW_LINK_SLL2, fr, 20 + n6, "hello6", 6);
    /* the sender's link address: Ethernet bytes 6..11; SLL/SLL2 when its length is 6 */
    {
        ww_pktdec *d = ww_pktdec_new(NULL, NULL, NULL, NULL);
        ww_seg seg;
        n = mk_eth(fr, 0x0800, ip4, n4);
        memcpy(fr + 6, "\x02\x01\x02\x03\x04\x05", 6);
        ww_pkt pk = {5, (uint32_t)n, (uint32_t)n, WW_LINK_ETHERNET, fr};
        T_EQ_INT(ww_pktdec_decode(d, &pk, &seg), 1);
        T_CHECK(seg.has_src_mac);
        T_EQ_MEM(seg.src_mac, "\x02\x01\x02\x03\x04\x05", 6);
        memset(fr, 0, 16);
        put16(fr + 4, 6);
        memcpy(fr + 6, "\x02\x0a\x0b\x0c\x0d\x0e", 6);
        put16(fr + 14, 0x0800);
        memcpy(fr + 16, ip4, n4);
        ww_pkt p1 = {5, (uint32_t)(16 + n4), (uint32_t)(16 + n4), WW_LINK_SLL, fr};
        T_EQ_INT(ww_pktdec_decode(d, &p1, &seg), 1);
        T_CHECK(seg.has_src_mac);
        T_EQ_MEM(seg.src_mac, "\x02\x0a\x0b\x0c\x0d\x0e", 6);
        put16(fr + 4, 0); /* no address */
        T_EQ_INT(ww_pktdec_decode(d, &p1, &seg), 1);
        T_CHECK(!seg.has_src_mac);
        memset(fr, 0, 20);
        put16(fr, 0x86dd);
        fr[11] = 6;
        memcpy(fr + 12, "\x02\x21\x22\x23\x24\x25", 6);
        memcpy(fr + 20, ip6, n6);
        ww_pkt p2 = {5, (uint32_t)(20 + n6), (uint32_t)(20 + n6), WW_LINK_SLL2, fr};
        T_EQ_INT(ww_pktdec_decode(d, &p2, &seg), 1);
        T_CHECK(seg.has_src_mac);
        T_EQ_MEM(seg.src_mac, "\x02\x21\x22\x23\x24\x25", 6);
        fr[11] = 8; /* an 8-byte address: not a MAC */
        T_EQ_INT(ww_pktdec_decode(d, &p2, &seg), 1);
        T_CHECK(!seg.has_src_mac);
        ww_pkt p3 = {5, (uint32_t)n6, (uint32_t)n6, WW_LINK_RAW, ip6};
        T_EQ_INT(ww_pktdec_decode(d, &p3, &seg), 1);
        T_CHECK(!seg.has_src_mac);
        ww_pktdec_free(d);
    }
    /* NULL: host-endian AF, both orders; IPv6 as 24/28/30 */
    uint8_t af_le[4] = {2, 0, 0, 0}, af_be[4] = {0, 0, 0, 2};
    memcpy(fr, af_le, 4);
    memcpy(fr + 4, ip4, n4);
    check_decodes(WW_LINK_NULL, fr, 4 + n4, "hello4", 4);
    memcpy(fr, af_be, 4);
    check_decodes(WW_LINK_NULL, fr, 4 + n4, "hello4", 4);
    uint32_t v6afs[3] = {24, 28, 30};
    for (int i = 0; i < 3; i++) {
        memset(fr, 0, 4);
        fr[0] = (uint8_t)v6afs[i];
        memcpy(fr + 4, ip6, n6);
        check_decodes(WW_LINK_NULL, fr, 4 + n6, "hello6", 6);
    }
    /* LOOP: big-endian */
    memcpy(fr, af_be, 4);
    memcpy(fr + 4, ip4, n4);
    check_decodes(WW_LINK_LOOP, fr, 4 + n4, "hello4", 4);
    /* raw */
    check_decodes(WW_LINK_RAW, ip4, n4, "hello4", 4);
    check_decodes(WW_LINK_RAW, ip6, n6, "hello6", 6);
    check_decodes(12, ip4, n4, "hello4", 4);
    check_decodes(14, ip6, n6, "hello6", 6);
    check_decodes(WW_LINK_IPV4, ip4, n4, "hello4", 4);
    check_decodes(WW_LINK_IPV6, ip6, n6, "hello6", 6);

    /* non-IP and unknown link types hand nothing on */
    ww_pktdec *d = ww_pktdec_new(NULL, NULL, NULL, NULL);
    ww_seg seg;
    n = mk_eth(fr, 0x0806, ip4, 28);
    ww_pkt pk = {0, (uint32_t)n, (uint32_t)n, WW_LINK_ETHERNET, fr};
    T_EQ_INT(ww_pktdec_decode(d, &pk, &seg), 0);
    pk.linktype = 147;
    T_EQ_INT(ww_pktdec_decode(d, &pk, &seg), 0);
    T_EQ_INT(ww_pktdec_stats_get(d)->non_ip, 2);
    ww_pktdec_free(d);
}

T_CASE(ip_options_and_ipv6_ext_headers)
{
    uint8_t t4[128], ip[512], ext[512];
    size_t tl = mk_tcp(t4, 5555, 443, 1, 0, A, "opt", 3);
    size_t n = mk_ip4(ip, "192.0.2.1", "192.0.2.2", 6, 12, t4, tl, 1, 0);
    check_decodes(WW_LINK_RAW, ip, n, "opt", 4);

    /* HBH(8) -> routing(16) -> dest opts(8) -> AH(12+4=16) -> atomic fragment -> TCP */
    size_t o = 0;
    memset(ext, 0, sizeof(ext));
    ext[o] = 43, ext[o + 1] = 0, o += 8;
    ext[o] = 60, ext[o + 1] = 1, o += 16;
    ext[o] = 51, ext[o + 1] = 0, o += 8;
    ext[o] = 44, ext[o + 1] = 2, o += 16; /* AH: (2+2)*4 */
    ext[o] = 6, o += 8;                   /* fragment header, offset 0, M=0 */
    memcpy(ext + o, t4, tl);
    n = mk_ip6(ip, "2001:db8::1", "2001:db8::2", 0, ext, o + tl);
    check_decodes(WW_LINK_RAW, ip, n, "opt", 6);

    /* no next header (59) -> nothing */
    ww_pktdec *d = ww_pktdec_new(NULL, NULL, NULL, NULL);
    n = mk_ip6(ip, "2001:db8::1", "2001:db8::2", 59, ext, 0);
    ww_pkt pk = {0, (uint32_t)n, (uint32_t)n, WW_LINK_RAW, ip};
    ww_seg seg;
    T_EQ_INT(ww_pktdec_decode(d, &pk, &seg), 0);
    /* an extension header longer than the packet: anomaly + negative */
    ext[0] = 6, ext[1] = 200;
    n = mk_ip6(ip, "2001:db8::1", "2001:db8::2", 0, ext, 8);
    pk.caplen = pk.len = (uint32_t)n;
    T_CHECK(ww_pktdec_decode(d, &pk, &seg) < 0);
    T_EQ_INT(ww_pktdec_stats_get(d)->malformed, 1);
    ww_pktdec_free(d);
}

T_CASE(bogus_header_lengths)
{
    rig r;
    rig_init(&r, NULL, NULL);
    uint8_t t4[128], ip[512];
    size_t tl = mk_tcp(t4, 5555, 443, 1, 0, A, "x", 1);
    size_t n = mk_ip4(ip, "192.0.2.1", "192.0.2.2", 6, 0, t4, tl, 1, 0);
    ip[0] = 0x43; /* IHL 12 bytes */
    T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 1), WW_E_INVALID);
    T_EQ_STR(r.c.last_anomaly, "bad-ip-header-length");
    ip[0] = 0x4f; /* IHL 60 > packet */
    T_CHECK(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 1) < 0);
    ip[0] = 0x45;
    put16(ip + 2, 10); /* total length below the header */
    T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 1), WW_E_INVALID);
    T_EQ_STR(r.c.last_anomaly, "bad-ip-total-length");
    put16(ip + 2, (uint16_t)n);
    ip[20 + 12] = 0x30; /* TCP data offset 12 bytes */
    T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 1), WW_E_INVALID);
    T_EQ_STR(r.c.last_anomaly, "bad-tcp-header-length");
    ip[20 + 12] = 0xf0; /* 60 > segment */
    T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 1), WW_E_INVALID);
    T_EQ_STR(r.c.last_anomaly, "bad-tcp-header-length");
    /* every prefix of a good packet: never a crash, never a segment past the cut */
    ip[20 + 12] = 0x50;
    for (uint32_t k = 0; k < n; k++) {
        const uint8_t *g = t_guard(ip, k);
        ww_pkt pk = {0, k, (uint32_t)n, WW_LINK_RAW, g};
        ww_seg seg;
        int rc = ww_pktdec_decode(r.d, &pk, &seg);
        if (k < 40)
            T_CHECK(rc < 0);
        else
            T_CHECK(rc == 1 && seg.len == k - 40 && seg.wire_len == 1);
    }
    T_EQ_INT(r.c.opens, 0);
    rig_free(&r);
}

T_CASE(snaplen_truncated_gap)
{
    rig r;
    rig_init(&r, NULL, NULL);
    handshake(&r, 100, 500);
    /* "hello world" cut after 5 bytes by snaplen */
    uint8_t t4[128], ip[512], fr[600];
    size_t tl = mk_tcp(t4, 40000, 80, 101, 501, A, "hello world", 11);
    size_t il = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 6, 0, t4, tl, 1, 0);
    size_t fl = mk_eth(fr, 0x0800, ip, il);
    T_EQ_INT(rig_pkt(&r, WW_LINK_ETHERNET, fr, (uint32_t)fl - 6, (uint32_t)fl, 2000), 1);
    seg4(&r, true, 112, 501, A, "next", 2001);
    ww_tcp_finish(r.t, 3000);
    T_EQ_INT(r.c.len[0][0], 10);
    T_EQ_MEM(r.c.data[0][0], "hello#next", 10);
    T_EQ_INT(r.c.gap[0][0], 6);
    T_EQ_INT(ww_pktdec_stats_get(r.d)->truncated, 1);
    rig_free(&r);
}

/* ---------- fragments ---------- */

static size_t frag4(uint8_t *out, const uint8_t *l4, size_t off, size_t n, bool more)
{
    return mk_ip4(out, "10.0.0.1", "10.0.0.2", 6, 0, l4 + off, n, 77,
                  (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
}

T_CASE(ipv4_fragments)
{
    uint8_t seg[200], ip[300];
    char pl[101];
    for (int i = 0; i < 100; i++)
        pl[i] = (char)('a' + i % 26);
    pl[100] = 0;
    size_t tl = mk_tcp(seg, 40000, 80, 1, 0, A, pl, 100); /* 120 bytes */
    size_t cuts[4] = {0, 48, 96, tl};
    int orders[3][3] = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}};
    for (int o = 0; o < 3; o++) {
        rig r;
        rig_init(&r, NULL, NULL);
        int got = 0;
        for (int k = 0; k < 3; k++) {
            int i = orders[o][k];
            size_t n = frag4(ip, seg, cuts[i], cuts[i + 1] - cuts[i], i < 2);
            int rc = rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 10);
            got += rc == 1;
            T_EQ_INT(rc, k == 2 ? 1 : 0);
        }
        T_EQ_INT(got, 1);
        T_EQ_INT(r.c.len[0][1] + r.c.len[0][0], 100);
        T_EQ_MEM(r.c.len[0][0] ? r.c.data[0][0] : r.c.data[0][1], pl, 100);
        T_EQ_INT(ww_pktdec_stats_get(r.d)->reassembled, 1);
        rig_free(&r);
    }
    /* overlapping: a conflicting copy of [48,96) first-copy-wins, anomaly reported */
    {
        rig r;
        rig_init(&r, NULL, NULL);
        size_t n = frag4(ip, seg, 0, 96, true);
        T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 10), 0);
        uint8_t bad[200];
        memcpy(bad, seg, sizeof(bad));
        memset(bad + 48, 'Z', 48);
        n = frag4(ip, bad, 48, 72, false);
        T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 11), 1);
        T_EQ_STR(r.c.last_anomaly, "frag-overlap-conflict");
        T_EQ_MEM(r.c.data[0][0], pl, 100);
        rig_free(&r);
    }
    /* over the byte cap: dropped, nothing delivered, no crash */
    {
        rig r;
        ww_pktdec_cfg dc = {4096, 2, 1000000};
        rig_init(&r, NULL, &dc);
        static uint8_t big[6000], qs[5000];
        memset(qs, 'q', sizeof(qs));
        size_t bl = mk_tcp(big, 40000, 80, 1, 0, A, qs, 5000);
        size_t n = frag4(ip, big, 0, 16, true);
        T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 10), 0);
        static uint8_t ipb[6100];
        n = frag4(ipb, big, 16, bl - 16, false); /* datagram end > 4096 */
        T_CHECK(rig_pkt(&r, WW_LINK_RAW, ipb, (uint32_t)n, (uint32_t)n, 11) < 0);
        T_CHECK(ww_pktdec_stats_get(r.d)->frag_dropped >= 1);
        /* queue cap: three datagrams, cap 2 -> the oldest goes */
        for (int i = 0; i < 3; i++) {
            n = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 6, 0, seg, 16, (uint16_t)(200 + i), 0x2000);
            T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 12), 0);
        }
        n = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 6, 0, seg + 16, tl - 16, 200, 2);
        T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 13), 0); /* 200 gone */
        n = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 6, 0, seg + 16, tl - 16, 202, 2);
        T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 14), 1);
        /* timeout: the held queue 201 expires */
        n = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 6, 0, seg + 16, tl - 16, 201, 2);
        T_EQ_INT(rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 5000000), 0);
        T_EQ_INT(r.c.len[0][0], 100);
        rig_free(&r);
    }
}

T_CASE(ipv6_fragments)
{
    uint8_t seg[200], body[300], ip[400];
    char pl[81];
    memset(pl, 'k', 80);
    pl[79] = '!';
    pl[80] = 0;
    size_t tl = mk_tcp(seg, 40000, 80, 1, 0, A, pl, 80); /* 100 bytes */
    for (int order = 0; order < 2; order++) {
        rig r;
        rig_init(&r, NULL, NULL);
        int rcs[2];
        for (int k = 0; k < 2; k++) {
            int i = order ? 1 - k : k;
            size_t off = i ? 56 : 0, len = i ? tl - 56 : 56;
            memset(body, 0, 8);
            body[0] = 6;
            put16(body + 2, (uint16_t)(off | (i ? 0 : 1)));
            put32(body + 4, 0xabcdef);
            memcpy(body + 8, seg + off, len);
            size_t n = mk_ip6(ip, "2001:db8::1", "2001:db8::2", 44, body, 8 + len);
            rcs[k] = rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 10);
        }
        T_EQ_INT(rcs[0], 0);
        T_EQ_INT(rcs[1], 1);
        T_EQ_INT(r.c.len[0][0], 80);
        T_EQ_MEM(r.c.data[0][0], pl, 80);
        rig_free(&r);
    }
}

/* ---------- TCP ---------- */

T_CASE(tcp_in_order_fin)
{
    rig r;
    rig_init(&r, NULL, NULL);
    handshake(&r, 1000, 9000);
    seg4(&r, true, 1001, 9001, A | P, "GET / HTTP/1.1\r\n\r\n", 2000);
    seg4(&r, false, 9001, 1019, A | P, "HTTP/1.1 200 OK\r\n", 2001);
    seg4(&r, true, 1019, 9018, F | A, NULL, 2002);
    T_EQ_INT(r.c.closes, 0);
    seg4(&r, false, 9018, 1020, F | A, NULL, 2003);
    T_EQ_INT(r.c.closes, 1);
    T_EQ_INT(r.c.close_reason[0], WW_CLOSE_FIN);
    T_EQ_INT(r.c.len[0][0], 18);
    T_EQ_INT(r.c.len[0][1], 17);
    T_EQ_MEM(r.c.data[0][1], "HTTP/1.1 200 OK\r\n", 17);
    T_CHECK(!r.c.midstream[0]);
    /* late retransmission on the lingering flow: no new flow */
    seg4(&r, true, 1001, 9001, A | P, "GET / HTTP/1.1\r\n\r\n", 2004);
    T_EQ_INT(r.c.opens, 1);
    ww_tcp_finish(r.t, 3000);
    T_EQ_INT(r.c.closes, 1);
    T_EQ_INT(ww_tcp_stats_get(r.t)->flows, 1);
    rig_free(&r);
}

T_CASE(tcp_out_of_order_and_retransmission)
{
    rig r;
    rig_init(&r, NULL, NULL);
    handshake(&r, 0, 0);
    seg4(&r, true, 7, 1, A, "CCC", 10);
    seg4(&r, true, 4, 1, A, "BBB", 11);
    T_EQ_INT(r.c.len[0][0], 0);
    seg4(&r, true, 1, 1, A, "AAA", 12);
    T_EQ_INT(r.c.len[0][0], 9);
    T_EQ_MEM(r.c.data[0][0], "AAABBBCCC", 9);
    seg4(&r, true, 4, 1, A, "BBB", 13); /* retransmission */
    seg4(&r, true, 8, 1, A, "CCDD", 14); /* partial overlap */
    T_EQ_INT(r.c.len[0][0], 11);
    T_EQ_MEM(r.c.data[0][0], "AAABBBCCCDD", 11);
    const ww_tcp_stats *st = ww_tcp_stats_get(r.t);
    T_EQ_INT(st->retransmissions, 1);
    T_EQ_INT(st->out_of_order, 2);
    T_EQ_INT(st->overlaps_conflicting, 0);
    T_EQ_INT(r.c.ngaps, 0);
    rig_free(&r);
}

T_CASE(tcp_overlap_same_and_conflicting)
{
    rig r;
    rig_init(&r, NULL, NULL);
    handshake(&r, 0, 0);
    seg4(&r, true, 5, 1, A, "EFGH", 10);   /* held */
    seg4(&r, true, 7, 1, A, "GHIJ", 11);   /* same bytes in overlap */
    T_EQ_INT(r.c.anomalies, 0);
    seg4(&r, true, 6, 1, A, "Fxx", 12);    /* conflicting with held GH */
    T_EQ_INT(r.c.anomalies, 1);
    T_EQ_STR(r.c.last_anomaly, "overlap-conflict");
    seg4(&r, true, 1, 1, A, "ABCDEzz", 13); /* fills the hole, conflicts on FG */
    T_EQ_INT(r.c.anomalies, 2);
    T_EQ_INT(r.c.len[0][0], 10);
    T_EQ_MEM(r.c.data[0][0], "ABCDEFGHIJ", 10);
    T_EQ_INT(ww_tcp_stats_get(r.t)->overlaps_conflicting, 2);
    rig_free(&r);
}

T_CASE(tcp_midstream_and_wraparound)
{
    rig r;
    rig_init(&r, NULL, NULL);
    /* no SYN; server port 80 < client port 40000, first packet from the server */
    seg4(&r, false, 0xfffffffe, 0x10, A, "wxyz", 10); /* wraps past 0 */
    seg4(&r, false, 2, 0x10, A, "56", 11);
    seg4(&r, true, 0x10, 4, A, "req", 12);
    T_EQ_INT(r.c.opens, 1);
    T_CHECK(r.c.midstream[0]);
    T_EQ_INT(r.c.len[0][1], 6);
    T_EQ_MEM(r.c.data[0][1], "wxyz56", 6);
    T_EQ_INT(r.c.len[0][0], 3);
    /* out of order across the wrap */
    rig_free(&r);
    rig_init(&r, NULL, NULL);
    handshake(&r, 0xfffffff0, 0);
    seg4(&r, true, 0xfffffffd, 1, A, "456", 10);
    seg4(&r, true, 0x0, 1, A, "789", 11);
    seg4(&r, true, 0xfffffff1, 1, A, "0123456789ab", 12);
    T_EQ_INT(r.c.len[0][0], 18);
    T_EQ_MEM(r.c.data[0][0], "0123456789ab456789", 18);
    T_EQ_INT(ww_tcp_stats_get(r.t)->flows_midstream, 0);
    rig_free(&r);
}

T_CASE(tcp_rst_and_timeout)
{
    rig r;
    ww_tcp_cfg tc = {0, 0, 0, 5000000};
    rig_init(&r, &tc, NULL);
    handshake(&r, 0, 0);
    seg4(&r, true, 1, 1, A, "abc", 10);
    seg4(&r, true, 7, 1, A, "ghi", 11); /* hole 4..6 */
    seg4(&r, false, 1, 4, R | A, NULL, 12);
    T_EQ_INT(r.c.closes, 1);
    T_EQ_INT(r.c.close_reason[0], WW_CLOSE_RST);
    T_EQ_MEM(r.c.data[0][0], "abc#ghi", 7);
    T_EQ_INT(r.c.gap[0][0], 3);
    /* a second flow goes idle */
    uint8_t t4[64], ip[128];
    size_t tl = mk_tcp(t4, 50000, 443, 1, 0, A, "zz", 2);
    size_t n = mk_ip4(ip, "10.0.0.9", "10.0.0.2", 6, 0, t4, tl, 1, 0);
    rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, 100);
    T_EQ_INT(r.c.opens, 2);
    ww_tcp_tick(r.t, 4000000);
    T_EQ_INT(r.c.closes, 1);
    ww_tcp_tick(r.t, 6000000);
    T_EQ_INT(r.c.closes, 2);
    T_EQ_INT(r.c.close_reason[1], WW_CLOSE_TIMEOUT);
    T_EQ_INT(ww_tcp_stats_get(r.t)->timeouts, 1);
    ww_tcp_finish(r.t, 7000000);
    T_EQ_INT(r.c.closes, 2);
    rig_free(&r);
}

T_CASE(tcp_flow_ooo_cap_gap)
{
    rig r;
    ww_tcp_cfg tc = {0, 8, 0, 0};
    rig_init(&r, &tc, NULL);
    handshake(&r, 0, 0);
    seg4(&r, true, 1, 1, A, "aa", 10);
    seg4(&r, true, 6, 1, A, "ffff", 11);  /* hole 3..5, held 4 */
    seg4(&r, true, 10, 1, A, "jjjj", 12); /* held 8 */
    T_EQ_INT(r.c.ngaps, 0);
    seg4(&r, true, 14, 1, A, "nn", 13);   /* over the cap: hole given up */
    T_EQ_INT(r.c.ngaps, 1);
    T_EQ_INT(r.c.gap[0][0], 3);
    T_EQ_INT(r.c.len[0][0], 13);
    T_EQ_MEM(r.c.data[0][0], "aa#ffffjjjjnn", 13);
    seg4(&r, true, 16, 1, A, "pp", 14);   /* and in order afterwards */
    T_EQ_MEM(r.c.data[0][0] + 13, "pp", 2);
    /* a late copy of the hole is a retransmission now */
    seg4(&r, true, 3, 1, A, "ccc", 15);
    T_EQ_INT(r.c.len[0][0], 15);
    T_EQ_INT(ww_tcp_stats_get(r.t)->gap_bytes, 3);
    rig_free(&r);
}

T_CASE(tcp_ack_past_hole)
{
    rig r;
    rig_init(&r, NULL, NULL);
    handshake(&r, 0, 0);
    seg4(&r, false, 1, 1, A, "hello ", 10);
    seg4(&r, false, 12, 1, A, "world", 11); /* 7..11 missing */
    T_EQ_INT(r.c.len[0][1], 6);
    seg4(&r, true, 1, 17, A, NULL, 12);     /* client acks all */
    T_EQ_INT(r.c.gap[0][1], 5);
    T_EQ_MEM(r.c.data[0][1], "hello #world", 12);
    rig_free(&r);
}

T_CASE(tcp_flow_cap_eviction)
{
    rig r;
    ww_tcp_cfg tc = {2, 0, 0, 0};
    rig_init(&r, &tc, NULL);
    uint8_t t4[64], ip[128];
    for (int i = 0; i < 3; i++) {
        size_t tl = mk_tcp(t4, (uint16_t)(50000 + i), 443, 1, 0, A, "d", 1);
        size_t n = mk_ip4(ip, "10.0.0.9", "10.0.0.2", 6, 0, t4, tl, 1, 0);
        rig_pkt(&r, WW_LINK_RAW, ip, (uint32_t)n, (uint32_t)n, (uint64_t)100 + i);
    }
    T_EQ_INT(r.c.opens, 3);
    T_EQ_INT(r.c.closes, 1);
    T_EQ_INT(r.c.close_reason[0], WW_CLOSE_EVICT);
    T_EQ_INT(ww_tcp_stats_get(r.t)->evicted, 1);
    T_EQ_INT(r.c.ids[2], 3);
    ww_tcp_finish(r.t, 200);
    T_EQ_INT(r.c.closes, 3);
    T_EQ_INT(r.c.close_reason[2], WW_CLOSE_END);
    rig_free(&r);
}

/* ---------- sources ---------- */

static const char *tmp_path(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "/tmp/ww_test_capture_%d_%s", (int)getpid(), name);
    return buf;
}

/* Writes a pcap with 3 packets; returns its size. */
static long write_pcap3(const char *path)
{
    char err[WW_ERRBUF_SIZE];
    ww_pcapw *w;
    if (ww_pcapw_open(&w, path, WW_LINK_RAW, 65535, err) != WW_OK)
        return -1;
    uint8_t ip[512];
    for (int i = 0; i < 3; i++) {
        char pl[16];
        snprintf(pl, sizeof(pl), "pkt%d", i);
        size_t n = tcp4_packet(ip, pl);
        if (ww_pcapw_write(w, 1700000000000000ull + (uint64_t)i, ip, (uint32_t)n,
                           (uint32_t)n) != WW_OK)
            return -1;
    }
    if (ww_pcapw_close(w) != WW_OK)
        return -1;
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fclose(f);
    return sz;
}

static int count_packets(ww_source *s, int *rc_out, char *err)
{
    ww_pkt p;
    int n = 0, rc;
    while ((rc = ww_source_next(s, &p, err)) == 1)
        n++;
    *rc_out = rc;
    return n;
}

T_CASE(pcap_read_truncated_invalid)
{
    const char *path = tmp_path("a.pcap");
    long sz = write_pcap3(path);
    T_CHECK(sz > 0);
    char err[WW_ERRBUF_SIZE] = "";
    ww_source *s;
    T_EQ_INT(ww_source_open_file(&s, path, err), WW_OK);
    ww_pkt p;
    T_EQ_INT(ww_source_next(s, &p, err), 1);
    T_EQ_INT(p.linktype, WW_LINK_RAW);
    T_EQ_INT(p.ts_us, 1700000000000000ull);
    int rc;
    T_EQ_INT(count_packets(s, &rc, err), 2);
    T_EQ_INT(rc, 0);
    ww_source_free(s);

    size_t len;
    uint8_t *all = t_read_file(path, &len);
    T_CHECK(all != NULL && (long)len == sz);
    /* cut inside the last record and inside the last record header */
    for (int cut = 1; cut <= 20; cut += 19) {
        T_EQ_INT(ww_source_open_mem(&s, all, len - (size_t)cut, err), WW_OK);
        T_EQ_INT(count_packets(s, &rc, err), 2);
        T_EQ_INT(rc, WW_E_TRUNC);
        T_CHECK(strstr(err, "truncated") != NULL);
        ww_source_free(s);
    }
    /* not a capture */
    static const uint8_t junk[] = "GET / HTTP/1.1\r\n\r\n";
    T_EQ_INT(ww_source_open_mem(&s, junk, sizeof(junk), err), WW_E_INVALID);
    T_CHECK(strstr(err, "not a pcap or pcapng file") != NULL);
    T_EQ_INT(ww_source_open_mem(&s, junk, 0, err), WW_E_INVALID);
    FILE *f = fopen(tmp_path("junk"), "wb");
    fwrite(junk, 1, sizeof(junk), f);
    fclose(f);
    T_EQ_INT(ww_source_open_file(&s, tmp_path("junk"), err), WW_E_INVALID);
    T_EQ_INT(ww_source_open_file(&s, "/nonexistent/x.pcap", err), WW_E_IO);

    /* big-endian, nanosecond pcap built by hand */
    uint8_t be[24 + 16 + 4];
    memset(be, 0, sizeof(be));
    put32(be, 0xa1b23c4d);
    be[4] = 0, be[5] = 2, be[6] = 0, be[7] = 4;
    put32(be + 16, 65535);
    put32(be + 20, 1);
    put32(be + 24, 10);
    put32(be + 28, 5000);
    put32(be + 32, 4);
    put32(be + 36, 60);
    T_EQ_INT(ww_source_open_mem(&s, be, sizeof(be), err), WW_OK);
    T_EQ_INT(ww_source_next(s, &p, err), 1);
    T_EQ_INT(p.ts_us, 10000005);
    T_EQ_INT(p.caplen, 4);
    T_EQ_INT(p.len, 60);
    T_EQ_INT(p.linktype, 1);
    T_EQ_INT(ww_source_next(s, &p, err), 0);
    ww_source_free(s);

    /* gzip of the same pcap, through a file and memory */
    const char *gzp = tmp_path("a.pcap.gz");
    gzFile gz = gzopen(gzp, "wb");
    gzwrite(gz, all, (unsigned)len);
    gzclose(gz);
    T_EQ_INT(ww_source_open_file(&s, gzp, err), WW_OK);
    T_EQ_INT(count_packets(s, &rc, err), 3);
    T_EQ_INT(rc, 0);
    ww_source_free(s);
    size_t glen;
    uint8_t *g = t_read_file(gzp, &glen);
    T_EQ_INT(ww_source_open_mem(&s, g, glen - 12, err), WW_OK); /* cut gzip */
    count_packets(s, &rc, err);
    T_EQ_INT(rc, WW_E_TRUNC);
    ww_source_free(s);
    free(g);
    free(all);
    unlink(path);
    unlink(gzp);
    unlink(tmp_path("junk"));
}

/* pcapng builder */
typedef struct ngb {
    uint8_t b[4096];
    size_t n;
    bool be;
} ngb;
static void ng32(ngb *g, uint32_t v)
{
    if (g->be)
        put32(g->b + g->n, v);
    else {
        g->b[g->n] = (uint8_t)v, g->b[g->n + 1] = (uint8_t)(v >> 8);
        g->b[g->n + 2] = (uint8_t)(v >> 16), g->b[g->n + 3] = (uint8_t)(v >> 24);
    }
    g->n += 4;
}
static void ng16(ngb *g, uint16_t v)
{
    if (g->be)
        put16(g->b + g->n, v);
    else
        g->b[g->n] = (uint8_t)v, g->b[g->n + 1] = (uint8_t)(v >> 8);
    g->n += 2;
}
static void ngbytes(ngb *g, const void *p, size_t n)
{
    memcpy(g->b + g->n, p, n);
    g->n += n;
    while (g->n & 3)
        g->b[g->n++] = 0;
}
/* Opens a block; returns its start. ng_end() patches the lengths. */
static size_t ng_begin(ngb *g, uint32_t type)
{
    size_t st = g->n;
    ng32(g, type);
    ng32(g, 0);
    return st;
}
static void ng_end(ngb *g, size_t st)
{
    size_t total = g->n + 4 - st;
    ng32(g, (uint32_t)total);
    size_t save = g->n;
    g->n = st + 4;
    ng32(g, (uint32_t)total);
    g->n = save;
}
static void ng_shb(ngb *g, bool be)
{
    g->be = be;
    size_t st = ng_begin(g, 0x0a0d0d0a);
    ng32(g, 0x1a2b3c4d);
    ng16(g, 1);
    ng16(g, 0);
    ng32(g, 0xffffffff);
    ng32(g, 0xffffffff);
    ng_end(g, st);
}
static void ng_idb(ngb *g, uint16_t lt, int tsres)
{
    size_t st = ng_begin(g, 1);
    ng16(g, lt);
    ng16(g, 0);
    ng32(g, 0);
    if (tsres >= 0) {
        ng16(g, 9);
        ng16(g, 1);
        uint8_t v = (uint8_t)tsres;
        ngbytes(g, &v, 1);
        ng16(g, 0);
        ng16(g, 0);
    }
    ng_end(g, st);
}
static void ng_epb(ngb *g, uint32_t ifid, uint64_t ts, const void *p, uint32_t n)
{
    size_t st = ng_begin(g, 6);
    ng32(g, ifid);
    ng32(g, (uint32_t)(ts >> 32));
    ng32(g, (uint32_t)ts);
    ng32(g, n);
    ng32(g, n + 10);
    ngbytes(g, p, n);
    ng_end(g, st);
}

typedef struct sec_rec {
    int n;
    uint32_t type;
    char data[64];
} sec_rec;
static void on_secrets(void *ud, uint32_t type, const uint8_t *p, size_t n)
{
    sec_rec *s = ud;
    s->n++;
    s->type = type;
    snprintf(s->data, sizeof(s->data), "%.*s", (int)n, (const char *)p);
}

T_CASE(pcapng_blocks)
{
    ngb g;
    memset(&g, 0, sizeof(g));
    ng_shb(&g, false);
    ng_idb(&g, WW_LINK_RAW, 9);         /* ns */
    ng_idb(&g, WW_LINK_ETHERNET, 0x80 | 10); /* 2^-10 s */
    size_t st = ng_begin(&g, 0x0a);     /* DSB */
    ng32(&g, 0x544c534b);
    ng32(&g, 11);
    ngbytes(&g, "CLIENT_KEY!", 11);
    ng_end(&g, st);
    ng_epb(&g, 0, 1500000000123456789ull, "ABCD", 4);
    st = ng_begin(&g, 0x0bad); /* unknown block: skipped */
    ng32(&g, 1);
    ng_end(&g, st);
    ng_epb(&g, 1, 1024 * 3 + 512, "EF", 2);
    st = ng_begin(&g, 3); /* SPB on interface 0 */
    ng32(&g, 3);
    ngbytes(&g, "GHI", 3);
    ng_end(&g, st);
    st = ng_begin(&g, 2); /* obsolete packet block */
    ng16(&g, 0);
    ng16(&g, 0);
    ng32(&g, 0);
    ng32(&g, 2000);
    ng32(&g, 1);
    ng32(&g, 1);
    ngbytes(&g, "J", 1);
    ng_end(&g, st);
    /* second section, big-endian, microsecond */
    ng_shb(&g, true);
    ng_idb(&g, WW_LINK_SLL, -1);
    ng_epb(&g, 0, 77, "KLMNO", 5);
    size_t full = g.n;

    char err[WW_ERRBUF_SIZE] = "";
    ww_source *s;
    sec_rec sr = {0, 0, ""};
    T_EQ_INT(ww_source_open_mem(&s, g.b, full, err), WW_OK);
    ww_source_set_secrets_fn(s, on_secrets, &sr);
    ww_pkt p;
    T_EQ_INT(ww_source_next(s, &p, err), 1);
    T_EQ_INT(sr.n, 1);
    T_EQ_INT(sr.type, 0x544c534b);
    T_EQ_STR(sr.data, "CLIENT_KEY!");
    T_EQ_INT(p.caplen, 4);
    T_EQ_INT(p.len, 14);
    T_EQ_MEM(p.data, "ABCD", 4);
    T_EQ_INT(p.ts_us, 1500000000123456ull);
    T_EQ_INT(p.linktype, WW_LINK_RAW);
    T_EQ_INT(ww_source_next(s, &p, err), 1);
    T_EQ_INT(p.ts_us, 3500000);
    T_EQ_INT(p.linktype, WW_LINK_ETHERNET);
    T_EQ_MEM(p.data, "EF", 2);
    T_EQ_INT(ww_source_next(s, &p, err), 1);
    T_EQ_INT(p.caplen, 3);
    T_EQ_MEM(p.data, "GHI", 3);
    T_EQ_INT(ww_source_next(s, &p, err), 1);
    T_EQ_MEM(p.data, "J", 1);
    T_EQ_INT(p.ts_us, 2); /* 2000 units of ns */
    T_EQ_INT(ww_source_next(s, &p, err), 1);
    T_EQ_INT(p.linktype, WW_LINK_SLL);
    T_EQ_INT(p.ts_us, 77);
    T_EQ_MEM(p.data, "KLMNO", 5);
    T_EQ_INT(ww_source_next(s, &p, err), 0);
    ww_source_free(s);

    /* every cut: packets before delivered, then TRUNC (or a clean end at a block edge) */
    int truncs = 0;
    for (size_t cut = 28; cut < full; cut++) {
        const uint8_t *gp = t_guard(g.b, cut);
        if (ww_source_open_mem(&s, gp, cut, err) != WW_OK)
            continue;
        int rc;
        (void)count_packets(s, &rc, err);
        T_CHECK(rc == 0 || rc == WW_E_TRUNC);
        truncs += rc == WW_E_TRUNC;
        ww_source_free(s);
    }
    T_CHECK(truncs > 100);
    /* a block length over the cap is INVALID */
    ngb h;
    memset(&h, 0, sizeof(h));
    ng_shb(&h, false);
    ng32(&h, 6);
    ng32(&h, 0x7ffffff0);
    ng32(&h, 0);
    T_EQ_INT(ww_source_open_mem(&s, h.b, h.n, err), WW_OK);
    T_EQ_INT(ww_source_next(s, &p, err), WW_E_INVALID);
    ww_source_free(s);
}

T_CASE(pcap_file_to_stream)
{
    /* a full pipeline through a pcap file written with ww_pcapw */
    const char *path = tmp_path("b.pcap");
    char err[WW_ERRBUF_SIZE];
    ww_pcapw *w;
    T_EQ_INT(ww_pcapw_open(&w, path, WW_LINK_ETHERNET, 65535, err), WW_OK);
    const char *parts[3] = {"one ", "two ", "three"};
    uint32_t seqs[3] = {1, 5, 9}, order[3] = {2, 0, 1};
    for (int k = 0; k < 3; k++) {
        int i = (int)order[k];
        uint8_t t4[64], ip[128], fr[160];
        size_t tl = mk_tcp(t4, 40000, 80, seqs[i], 1, A, parts[i], strlen(parts[i]));
        size_t il = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 6, 0, t4, tl, 1, 0);
        size_t fl = mk_eth(fr, 0x0800, ip, il);
        T_EQ_INT(ww_pcapw_write(w, 1000 + (uint64_t)k, fr, (uint32_t)fl, (uint32_t)fl), WW_OK);
    }
    T_EQ_INT(ww_pcapw_close(w), WW_OK);
    rig r;
    rig_init(&r, NULL, NULL);
    ww_source *s;
    T_EQ_INT(ww_source_open_file(&s, path, err), WW_OK);
    ww_pkt p;
    int rc;
    while ((rc = ww_source_next(s, &p, err)) == 1)
        rig_pkt(&r, p.linktype, p.data, p.caplen, p.len, p.ts_us);
    T_EQ_INT(rc, 0);
    ww_source_free(s);
    /* midstream: first seen seq is 9 ("three"); the earlier ones are then old */
    ww_tcp_finish(r.t, 2000);
    T_EQ_INT(r.c.opens, 1);
    T_CHECK(r.c.len[0][0] >= 5);
    rig_free(&r);
    unlink(path);
}

/* ---------- corpus ---------- */

typedef struct big_coll {
    ww_buf s[2];
    uint64_t gaps[2];
    int flows;
    int dsb_tlsk;
} big_coll;

static void b_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    big_coll *b = ud;
    (void)ts;
    if (f->id == 1)
        if (ww_buf_append(&b->s[dir], p, n) != WW_OK)
            b->gaps[dir] += 1000000000;
}
static void b_gap(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts)
{
    big_coll *b = ud;
    (void)ts;
    if (f->id == 1)
        b->gaps[dir] += len;
}
static void b_open(void *ud, ww_flow *f, uint64_t ts)
{
    big_coll *b = ud;
    (void)f, (void)ts;
    b->flows++;
}
static void b_secrets(void *ud, uint32_t type, const uint8_t *p, size_t n)
{
    big_coll *b = ud;
    (void)p;
    if (type == 0x544c534b && n > 0)
        b->dsb_tlsk++;
}

/* Replays a corpus file; returns the source's last code. */
static int replay(const char *path, big_coll *b, ww_tcp_stats *ts_out)
{
    char err[WW_ERRBUF_SIZE] = "";
    ww_source *s;
    memset(b, 0, sizeof(*b));
    ww_buf_init(&b->s[0], NULL, 8u << 20);
    ww_buf_init(&b->s[1], NULL, 8u << 20);
    int rc = ww_source_open_file(&s, path, err);
    if (rc != WW_OK) {
        fprintf(stderr, "%s: %s\n", path, err);
        return rc;
    }
    ww_source_set_secrets_fn(s, b_secrets, b);
    ww_stream_cbs cbs = {b, b_open, b_data, b_gap, NULL, NULL};
    ww_pktdec *d = ww_pktdec_new(NULL, NULL, NULL, NULL);
    ww_tcp *t = ww_tcp_new(NULL, NULL, &cbs);
    ww_pkt p;
    uint64_t last = 0;
    while ((rc = ww_source_next(s, &p, err)) == 1) {
        ww_seg seg;
        last = p.ts_us;
        ww_tcp_tick(t, p.ts_us);
        if (ww_pktdec_decode(d, &p, &seg) == 1)
            ww_tcp_segment(t, &seg);
    }
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", path, err);
    ww_tcp_finish(t, last);
    if (ts_out)
        *ts_out = *ww_tcp_stats_get(t);
    ww_tcp_free(t);
    ww_pktdec_free(d);
    ww_source_free(s);
    return rc;
}

static const char *find_after(const ww_buf *b, const char *from, const char *needle)
{
    const char *start = from ? from : (const char *)b->data;
    size_t left = (size_t)((const char *)b->data + b->len - start);
    const char *r = memmem(start, left, needle, strlen(needle));
    return r;
}

T_CASE(corpus_http_ooo)
{
    const char *path = t_shared("corpus/wireshark/http-ooo.pcap");
    if (access(path, R_OK) != 0)
        T_SKIP("../shared/corpus/wireshark absent");
    big_coll b;
    T_EQ_INT(replay(path, &b, NULL), 0);
    const char *reqs[5] = {"PUT /1 ", "GET /2 ", "PUT /3 ", "PUT /4 ", "PUT /5 "};
    const char *at = NULL;
    for (int i = 0; i < 5; i++) {
        const char *x = find_after(&b.s[0], at, reqs[i]);
        T_CHECK(x != NULL);
        if (x == NULL)
            break;
        at = x + 1;
    }
    T_EQ_INT(b.gaps[0], 0);
    ww_buf_free(&b.s[0]);
    ww_buf_free(&b.s[1]);

    path = t_shared("corpus/wireshark/http-ooo2.pcap");
    T_EQ_INT(replay(path, &b, NULL), 0);
    int count = 0;
    for (const char *x = NULL; (x = find_after(&b.s[0], x, "PUT /0")) != NULL; x++)
        count++;
    T_EQ_INT(count, 1);
    ww_buf_free(&b.s[0]);
    ww_buf_free(&b.s[1]);
}

T_CASE(corpus_challenge01)
{
    const char *path = t_shared("corpus/wireshark/challenge01_ooo_stream.pcapng.gz");
    if (access(path, R_OK) != 0)
        T_SKIP("../shared/corpus/wireshark absent");
    big_coll b;
    ww_tcp_stats st;
    T_EQ_INT(replay(path, &b, &st), 0);
    T_CHECK(b.dsb_tlsk >= 1);
    T_EQ_INT(b.flows, 1);
    /* TLS records must chain over the whole server->client stream */
    size_t off = 0, recs = 0, appdata = 0;
    while (off + 5 <= b.s[1].len) {
        const uint8_t *h = b.s[1].data + off;
        if (h[0] < 20 || h[0] > 24 || h[1] != 3)
            break;
        size_t rl = ((size_t)h[3] << 8) | h[4];
        if (h[0] == 23)
            appdata += rl;
        off += 5 + rl;
        recs++;
    }
    T_EQ_INT(off, b.s[1].len);
    T_CHECK(recs > 100);
    /* 1470678 bytes of decrypted data, plus per-record overhead (type byte + 16-byte tag) */
    T_CHECK(appdata >= 1470678 + 17 * 90);
    T_EQ_INT(b.gaps[1], 0);
    T_CHECK(st.out_of_order > 0);
    fprintf(stderr, "challenge01: s2c %zu bytes, %zu records, appdata %zu, ooo %llu, "
                    "gaps c2s %llu\n",
            b.s[1].len, recs, appdata, (unsigned long long)st.out_of_order,
            (unsigned long long)b.gaps[0]);
    ww_buf_free(&b.s[0]);
    ww_buf_free(&b.s[1]);
}

T_CASE(corpus_read_all)
{
    const char *dir = t_shared("corpus/wireshark");
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "ls %s 2>/dev/null | grep -E '\\.(pcap|pcapng)(\\.gz)?$'", dir);
    if (access(dir, R_OK) != 0)
        T_SKIP("../shared/corpus/wireshark absent");
    char base[512];
    snprintf(base, sizeof(base), "%s", dir);
    FILE *ls = popen(cmd, "r");
    T_CHECK(ls != NULL);
    if (ls == NULL)
        return;
    char name[256];
    int files = 0;
    while (fgets(name, sizeof(name), ls) != NULL) {
        name[strcspn(name, "\n")] = 0;
        char path[800];
        snprintf(path, sizeof(path), "%s/%s", base, name);
        char err[WW_ERRBUF_SIZE] = "";
        ww_source *s;
        int rc = ww_source_open_file(&s, path, err);
        T_EQ_INT(rc, WW_OK);
        if (rc != WW_OK)
            continue;
        int n = count_packets(s, &rc, err);
        if (rc != 0)
            fprintf(stderr, "%s: %s\n", name, err);
        T_EQ_INT(rc, 0);
        T_CHECK(n > 0);
        ww_source_free(s);
        files++;
    }
    pclose(ls);
    T_CHECK(files >= 15);
}

T_CASE(stdin_source)
{
    const char *path = tmp_path("stdin.pcap");
    T_CHECK(write_pcap3(path) > 0);
    int saved = dup(0);
    FILE *f = fopen(path, "rb");
    T_CHECK(f != NULL && saved >= 0);
    if (f == NULL || saved < 0)
        return;
    dup2(fileno(f), 0);
    char err[WW_ERRBUF_SIZE];
    ww_source *s;
    int rc;
    T_EQ_INT(ww_source_open_file(&s, "-", err), WW_OK);
    T_EQ_INT(count_packets(s, &rc, err), 3);
    T_EQ_INT(rc, 0);
    ww_source_free(s);
    dup2(saved, 0);
    close(saved);
    fclose(f);
    unlink(path);
}

/* ---------- UDP (handed on for QUIC) ---------- */

typedef struct udp_coll {
    int n;
    ww_udp_dgram last;
    uint8_t data[2048];
} udp_coll;

static void u_fn(void *ud, const ww_udp_dgram *dg)
{
    udp_coll *u = ud;
    u->n++;
    u->last = *dg;
    memcpy(u->data, dg->payload, dg->len < sizeof u->data ? dg->len : sizeof u->data);
}

static size_t mk_udp(uint8_t *p, uint16_t sp, uint16_t dp, const void *pl, size_t n)
{
    put16(p, sp);
    put16(p + 2, dp);
    put16(p + 4, (uint16_t)(8 + n));
    put16(p + 6, 0);
    memcpy(p + 8, pl, n);
    return 8 + n;
}

T_CASE(udp_datagrams)
{
    uint8_t u4[200], ip[300], fr[400];
    size_t ul = mk_udp(u4, 51000, 443, "quic-bytes", 10);
    size_t il = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 17, 0, u4, ul, 1, 0);
    size_t fl = mk_eth(fr, 0x0800, ip, il);
    ww_pkt pk = {5, (uint32_t)fl, (uint32_t)fl, WW_LINK_ETHERNET, fr};
    ww_seg seg;

    /* without a callback: skipped exactly as before (non_tcp, nothing else) */
    ww_pktdec *d = ww_pktdec_new(NULL, NULL, NULL, NULL);
    T_EQ_INT(ww_pktdec_decode(d, &pk, &seg), 0);
    T_EQ_INT(ww_pktdec_stats_get(d)->non_tcp, 1);
    T_EQ_INT(ww_pktdec_stats_get(d)->udp, 0);
    ww_pktdec_free(d);

    coll c;
    memset(&c, 0, sizeof c);
    udp_coll u;
    memset(&u, 0, sizeof u);
    d = ww_pktdec_new(NULL, NULL, c_anom, &c);
    ww_pktdec_set_udp_fn(d, u_fn, &u);
    T_EQ_INT(ww_pktdec_decode(d, &pk, &seg), 0);
    T_EQ_INT(u.n, 1);
    T_EQ_INT(u.last.sport, 51000);
    T_EQ_INT(u.last.dport, 443);
    T_EQ_INT(u.last.len, 10);
    T_EQ_INT(u.last.wire_len, 10);
    T_EQ_INT(u.last.ts_us, 5);
    T_EQ_INT(u.last.src.family, 4);
    T_EQ_MEM(u.data, "quic-bytes", 10);
    T_EQ_INT(ww_pktdec_stats_get(d)->udp, 1);

    /* TCP still goes on as a segment */
    uint8_t t4[100];
    size_t tl = mk_tcp(t4, 40000, 80, 1, 0, 0x10, "x", 1);
    il = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 6, 0, t4, tl, 1, 0);
    ww_pkt pt = {6, (uint32_t)il, (uint32_t)il, WW_LINK_RAW, ip};
    T_EQ_INT(ww_pktdec_decode(d, &pt, &seg), 1);
    T_EQ_INT(u.n, 1);

    /* IPv6 */
    il = mk_ip6(ip, "2001:db8::1", "2001:db8::2", 17, u4, ul);
    ww_pkt p6 = {7, (uint32_t)il, (uint32_t)il, WW_LINK_RAW, ip};
    T_EQ_INT(ww_pktdec_decode(d, &p6, &seg), 0);
    T_EQ_INT(u.n, 2);
    T_EQ_INT(u.last.src.family, 6);
    T_EQ_INT(u.last.len, 10);

    /* snaplen cut: len < wire_len */
    p6.caplen = (uint32_t)il - 4;
    T_EQ_INT(ww_pktdec_decode(d, &p6, &seg), 0);
    T_EQ_INT(u.n, 3);
    T_EQ_INT(u.last.len, 6);
    T_EQ_INT(u.last.wire_len, 10);

    /* a UDP length past the IP payload, and below 8: anomaly, nothing handed on */
    put16(u4 + 4, 200);
    il = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 17, 0, u4, ul, 1, 0);
    ww_pkt pb = {8, (uint32_t)il, (uint32_t)il, WW_LINK_RAW, ip};
    T_EQ_INT(ww_pktdec_decode(d, &pb, &seg), WW_E_INVALID);
    T_EQ_STR(c.last_anomaly, "bad-udp-length");
    put16(ip + 20 + 4, 3);
    T_EQ_INT(ww_pktdec_decode(d, &pb, &seg), WW_E_INVALID);
    T_EQ_INT(u.n, 3);
    /* a UDP length shorter than the IP payload: the rest is padding */
    put16(ip + 20 + 4, 8 + 4);
    T_EQ_INT(ww_pktdec_decode(d, &pb, &seg), 0);
    T_EQ_INT(u.n, 4);
    T_EQ_INT(u.last.len, 4);

    /* every prefix: never a crash, never a payload past the cut */
    put16(ip + 20 + 4, (uint16_t)ul);
    for (uint32_t k = 0; k < il; k++) {
        const uint8_t *g = t_guard(ip, k);
        ww_pkt pp = {9, k, (uint32_t)il, WW_LINK_RAW, g};
        int before = u.n;
        int rc = ww_pktdec_decode(d, &pp, &seg);
        if (k < 28) {
            T_CHECK(rc < 0);
            T_EQ_INT(u.n, before);
        } else {
            T_EQ_INT(rc, 0);
            T_CHECK(u.n == before + 1 && u.last.len == k - 28 && u.last.wire_len == 10);
        }
    }

    /* IPv4 fragments of a UDP datagram are reassembled and handed on */
    uint8_t big[120];
    char pl[100];
    memset(pl, 'u', sizeof pl);
    size_t bl = mk_udp(big, 1234, 4433, pl, 100); /* 108 bytes */
    il = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 17, 0, big, 56, 99, 0x2000);
    ww_pkt f1 = {10, (uint32_t)il, (uint32_t)il, WW_LINK_RAW, ip};
    int before = u.n;
    T_EQ_INT(ww_pktdec_decode(d, &f1, &seg), 0);
    T_EQ_INT(u.n, before);
    il = mk_ip4(ip, "10.0.0.1", "10.0.0.2", 17, 0, big + 56, bl - 56, 99, 56 / 8);
    ww_pkt f2 = {11, (uint32_t)il, (uint32_t)il, WW_LINK_RAW, ip};
    T_EQ_INT(ww_pktdec_decode(d, &f2, &seg), 0);
    T_EQ_INT(u.n, before + 1);
    T_EQ_INT(u.last.len, 100);
    T_EQ_INT(u.last.dport, 4433);
    ww_pktdec_free(d);
}

/* ---- damaged captures: every damaged block and lost packet is reported and counted ---- */
typedef struct dmg_rec {
    int n;
    char types[512];
    char last[256];
} dmg_rec;
static void d_anom(void *ud, uint64_t ts, const struct ww_flow *f, const char *layer,
                   const char *type, const char *detail)
{
    dmg_rec *d = ud;
    (void)ts;
    (void)f;
    (void)layer;
    d->n++;
    size_t l = strlen(d->types);
    snprintf(d->types + l, sizeof d->types - l, "%s;", type);
    snprintf(d->last, sizeof d->last, "%s", detail);
}

static ww_source *open_dmg(const ngb *g, dmg_rec *d, char *err)
{
    ww_source *s = NULL;
    memset(d, 0, sizeof *d);
    if (ww_source_open_mem(&s, g->b, g->n, err) != WW_OK)
        return NULL;
    ww_source_set_anomaly_fn(s, d_anom, d);
    return s;
}

T_CASE(pcapng_damage_reported)
{
    char err[WW_ERRBUF_SIZE] = "";
    dmg_rec d;
    ngb g;
    int rc;
    /* a short first IDB (4 bytes of body): reported; its packets still come (link type
     * unknown, for the decoder to report), nothing vanishes silently */
    memset(&g, 0, sizeof g);
    ng_shb(&g, false);
    size_t st = ng_begin(&g, 1);
    ng16(&g, WW_LINK_RAW);
    ng16(&g, 0);
    ng_end(&g, st);
    ng_epb(&g, 0, 1, "ABCD", 4);
    ww_source *s = open_dmg(&g, &d, err);
    T_CHECK(s != NULL);
    ww_pkt p;
    T_EQ_INT(ww_source_next(s, &p, err), 1);
    T_EQ_INT(p.linktype, 0xffff);
    T_EQ_INT(ww_source_next(s, &p, err), 0);
    T_CHECK(strstr(d.types, "bad-idb") != NULL);
    T_EQ_INT(ww_source_damage_get(s)->damaged_blocks, 1);
    ww_source_free(s);

    /* packets for an interface id out of range: each counted as lost, reported */
    memset(&g, 0, sizeof g);
    ng_shb(&g, false);
    ng_idb(&g, WW_LINK_RAW, -1);
    ng_epb(&g, 0, 1, "ok", 2);
    for (int i = 0; i < 20; i++)
        ng_epb(&g, 7, 2, "lost", 4);
    ng_epb(&g, 0, 3, "ok", 2);
    s = open_dmg(&g, &d, err);
    T_EQ_INT(count_packets(s, &rc, err), 2);
    T_EQ_INT(rc, 0);
    T_EQ_INT(ww_source_damage_get(s)->packets_lost, 20);
    T_EQ_INT(d.n, 8 + 1); /* the first 8, then the 16th */
    T_CHECK(strstr(d.last, "interface 7 of 1 declared") != NULL);
    T_CHECK(strstr(d.last, "16 so far") != NULL);
    ww_source_free(s);

    /* a block with a huge length in the middle: reported with what was skipped, and the
     * packets after it are still read */
    memset(&g, 0, sizeof g);
    ng_shb(&g, false);
    ng_idb(&g, WW_LINK_RAW, -1);
    ng_epb(&g, 0, 1, "one", 3);
    size_t bad = g.n;
    ng_epb(&g, 0, 2, "torn", 4);
    g.b[bad + 4] = 0xf0, g.b[bad + 5] = 0xff, g.b[bad + 6] = 0xff, g.b[bad + 7] = 0x7f;
    ng_epb(&g, 0, 3, "two", 3);
    ng_epb(&g, 0, 4, "three", 5);
    s = open_dmg(&g, &d, err);
    T_EQ_INT(count_packets(s, &rc, err), 3);
    T_EQ_INT(rc, 0);
    T_CHECK(strstr(d.types, "bad-block-length") != NULL);
    T_CHECK(strstr(d.last, "bytes skipped to the next valid block") != NULL);
    T_EQ_INT(ww_source_damage_get(s)->damaged_blocks, 1);
    T_EQ_INT(ww_source_damage_get(s)->bytes_unread, 32 + 4); /* the torn EPB */
    T_CHECK(!ww_source_damage_get(s)->ended_early);
    ww_source_free(s);

    /* a huge length with nothing valid after it: the error says how much was not read */
    memset(&g, 0, sizeof g);
    ng_shb(&g, false);
    ng_idb(&g, WW_LINK_RAW, -1);
    ng_epb(&g, 0, 1, "one", 3);
    ng32(&g, 6);
    ng32(&g, 0x7ffffff0);
    for (int i = 0; i < 100; i++)
        ng32(&g, 0x11111111);
    s = open_dmg(&g, &d, err);
    T_EQ_INT(count_packets(s, &rc, err), 1);
    T_EQ_INT(rc, WW_E_INVALID);
    T_CHECK(strstr(err, "408 bytes after it are not read") != NULL);
    if (strstr(err, "408 bytes") == NULL)
        t_fail_msg(__FILE__, __LINE__, "  %s", err);
    T_CHECK(ww_source_damage_get(s)->ended_early);
    T_EQ_INT(ww_source_damage_get(s)->bytes_unread, 408);
    ww_source_free(s);

    /* a truncated last packet block: TRUNC, counted as a lost packet */
    memset(&g, 0, sizeof g);
    ng_shb(&g, false);
    ng_idb(&g, WW_LINK_RAW, -1);
    ng_epb(&g, 0, 1, "one", 3);
    ng_epb(&g, 0, 2, "cut here", 8);
    g.n -= 10;
    s = open_dmg(&g, &d, err);
    T_EQ_INT(count_packets(s, &rc, err), 1);
    T_EQ_INT(rc, WW_E_TRUNC);
    T_EQ_INT(ww_source_damage_get(s)->packets_lost, 1);
    T_CHECK(ww_source_damage_get(s)->ended_early);
    ww_source_free(s);

    /* a bad trailer and a short DSB: damaged blocks, reported */
    memset(&g, 0, sizeof g);
    ng_shb(&g, false);
    ng_idb(&g, WW_LINK_RAW, -1);
    st = ng_begin(&g, 0x0a);
    ng32(&g, 0x544c534b);
    ng32(&g, 200);
    ngbytes(&g, "short", 5);
    ng_end(&g, st);
    ng_epb(&g, 0, 1, "one", 3);
    g.b[g.n - 4] ^= 0x04; /* trailer */
    s = open_dmg(&g, &d, err);
    T_EQ_INT(count_packets(s, &rc, err), 1);
    T_CHECK(strstr(d.types, "bad-dsb") != NULL && strstr(d.types, "bad-block-trailer") != NULL);
    T_EQ_INT(ww_source_damage_get(s)->damaged_blocks, 2);
    ww_source_free(s);
}

/* Classic pcap: a record header with an impossible captured length (over the snaplen and any
 * sane one, or past the end of the input) is skipped to the next plausible record — reported
 * with the bytes skipped, the packets after it read. */
static size_t put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return 4;
}

/* pcap3 (3 records) with, before record `at` (0..3), a header of captured length bad and
 * then junk (n bytes, or a fake record whose next header is junk when fake). */
static size_t pcap3_damaged(uint8_t *o, const uint8_t *in, size_t n, int at, uint32_t bad,
                            size_t junk, bool fake)
{
    size_t off = 24;
    for (int i = 0; i < at; i++)
        off += 16 + (in[off + 8] | (size_t)in[off + 9] << 8);
    memcpy(o, in, off);
    size_t k = off;
    memcpy(o + k, in + 24, 8); /* the first packet's time */
    k += 8;
    k += put_le32(o + k, bad);
    k += put_le32(o + k, bad);
    if (fake) { /* a plausible header and record, but junk where the next header would be */
        memcpy(o + k, in + 24, 8);
        k += 8;
        k += put_le32(o + k, 4);
        k += put_le32(o + k, 4);
        memcpy(o + k, "abcd", 4);
        k += 4;
    }
    memset(o + k, 0xee, junk);
    k += junk;
    memcpy(o + k, in + off, n - off);
    return k + n - off;
}

T_CASE(pcap_damaged_record_resync)
{
    const char *path = tmp_path("r.pcap");
    long sz = write_pcap3(path);
    size_t n = 0;
    uint8_t *in = t_read_file(path, &n);
    T_CHECK(sz > 0 && in != NULL && in[0] == 0xd4); /* little-endian, snaplen 65535 */
    if (in == NULL)
        return;
    char err[WW_ERRBUF_SIZE] = "";
    dmg_rec d;
    ngb g; /* (open_dmg reads g.b, g.n) */
    int rc;
    ww_source *s;
    T_CHECK(n + 256 <= sizeof g.b);

    /* over the cap, in memory: skipped, the 3 packets read */
    for (int at = 0; at <= 2; at++) {
        g.n = pcap3_damaged(g.b, in, n, at, 0x7ffffff0u, 37, false);
        s = open_dmg(&g, &d, err);
        T_CHECK(s != NULL);
        T_EQ_INT(count_packets(s, &rc, err), 3);
        T_EQ_INT(rc, 0);
        T_EQ_INT(d.n, 1);
        T_CHECK(strstr(d.types, "bad-record-length") != NULL);
        T_CHECK(strstr(d.last, "53 bytes skipped to the next valid record") != NULL);
        T_EQ_INT(ww_source_damage_get(s)->damaged_blocks, 1);
        T_EQ_INT(ww_source_damage_get(s)->packets_lost, 1);
        T_EQ_INT(ww_source_damage_get(s)->bytes_unread, 16 + 37);
        T_CHECK(!ww_source_damage_get(s)->ended_early);
        ww_source_free(s);
    }
    /* over the snaplen and 256 KiB (not the 16 MiB cap), read from a file: the same */
    g.n = pcap3_damaged(g.b, in, n, 1, 300000, 37, false);
    FILE *f = fopen(path, "wb");
    T_CHECK(f != NULL && fwrite(g.b, 1, g.n, f) == g.n);
    fclose(f);
    memset(&d, 0, sizeof d);
    T_EQ_INT(ww_source_open_file(&s, path, err), WW_OK);
    ww_source_set_anomaly_fn(s, d_anom, &d);
    T_EQ_INT(count_packets(s, &rc, err), 3);
    T_EQ_INT(rc, 0);
    T_CHECK(strstr(d.last, "captured length 300000 over the snaplen: 53 bytes skipped") != NULL);
    ww_source_free(s);
    /* past the end of the input (within the snaplen): the same */
    g.n = pcap3_damaged(g.b, in, n, 2, 60000, 37, false);
    s = open_dmg(&g, &d, err);
    T_EQ_INT(count_packets(s, &rc, err), 3);
    T_EQ_INT(rc, 0);
    T_CHECK(strstr(d.last, "past the end of the input: 53 bytes skipped") != NULL);
    ww_source_free(s);
    /* a plausible-looking record in the junk whose next header is junk is not taken */
    g.n = pcap3_damaged(g.b, in, n, 1, 0x7ffffff0u, 16, true);
    s = open_dmg(&g, &d, err);
    T_EQ_INT(count_packets(s, &rc, err), 3);
    T_EQ_INT(rc, 0);
    T_EQ_INT(ww_source_damage_get(s)->bytes_unread, 16 + 20 + 16);
    ww_source_free(s);
    /* nothing valid after it, from a file: INVALID, the error says what was not read */
    g.n = pcap3_damaged(g.b, in, n, 3, 0x7ffffff0u, 100, false);
    f = fopen(path, "wb");
    T_CHECK(f != NULL && fwrite(g.b, 1, g.n, f) == g.n);
    fclose(f);
    T_EQ_INT(ww_source_open_file(&s, path, err), WW_OK);
    T_EQ_INT(count_packets(s, &rc, err), 3);
    T_EQ_INT(rc, WW_E_INVALID);
    T_CHECK(strstr(err, "the 116 bytes after it") != NULL);
    T_CHECK(ww_source_damage_get(s)->ended_early);
    T_EQ_INT(ww_source_damage_get(s)->bytes_unread, 116);
    ww_source_free(s);
    /* past the end with nothing after it: a truncated record, as before */
    g.n = pcap3_damaged(g.b, in, n, 3, 60000, 100, false);
    s = open_dmg(&g, &d, err);
    T_EQ_INT(count_packets(s, &rc, err), 3);
    T_EQ_INT(rc, WW_E_TRUNC);
    T_EQ_INT(d.n, 0);
    T_EQ_INT(ww_source_damage_get(s)->packets_lost, 1);
    ww_source_free(s);
    free(in);
    unlink(path);
}
