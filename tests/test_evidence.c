/*
 * test_evidence.c - the pcapng evidence writer (read back through ww_source), the bounded
 * per-flow rings of capture/evidence.c, and ww_keylog_export.
 */
#include "capture/capture.h"
#include "decode/decode.h"
#include "decode/tls_int.h"
#include "tests/t.h"

#include <fcntl.h>
#include <unistd.h>

/* An Ethernet/IPv4/TCP packet from 10.0.0.a:pa to 10.0.0.b:pb with a 4-byte payload id. */
static size_t mkpkt(uint8_t *p, uint8_t a, uint16_t pa, uint8_t b, uint16_t pb, uint32_t seq,
                    uint32_t id)
{
    memset(p, 0, 58);
    p[12] = 0x08;
    uint8_t *ip = p + 14;
    ip[0] = 0x45;
    ip[3] = 44; /* total length 20 + 20 + 4 */
    ip[8] = 64;
    ip[9] = 6;
    ip[12] = 10, ip[15] = a;
    ip[16] = 10, ip[19] = b;
    uint8_t *tcp = ip + 20;
    tcp[0] = (uint8_t)(pa >> 8), tcp[1] = (uint8_t)pa;
    tcp[2] = (uint8_t)(pb >> 8), tcp[3] = (uint8_t)pb;
    tcp[4] = (uint8_t)(seq >> 24), tcp[5] = (uint8_t)(seq >> 16), tcp[6] = (uint8_t)(seq >> 8),
    tcp[7] = (uint8_t)seq;
    tcp[12] = 0x50;
    tcp[13] = WW_TCP_ACK | WW_TCP_PSH;
    memcpy(tcp + 20, &id, 4);
    return 58;
}

static char tmpl[64];

static const char *tmp_path(void)
{
    snprintf(tmpl, sizeof tmpl, "/tmp/ww_test_evidence_%ld.pcapng", (long)getpid());
    return tmpl;
}

typedef struct rd_ctx {
    uint32_t ids[1024];
    size_t n;
    size_t secrets;
    size_t secrets_len;
} rd_ctx;

static void on_sec(void *ud, uint32_t type, const uint8_t *d, size_t n)
{
    rd_ctx *c = ud;
    (void)d;
    if (type == 0x544c534bU) {
        c->secrets++;
        c->secrets_len += n;
    }
}

/* Reads the file back: ids of the packets in file order. */
static int read_back(const char *path, rd_ctx *c)
{
    char err[WW_ERRBUF_SIZE];
    ww_source *s;
    memset(c, 0, sizeof *c);
    if (ww_source_open_file(&s, path, err) != WW_OK)
        return -1;
    ww_source_set_secrets_fn(s, on_sec, c);
    ww_pkt pkt;
    int rc;
    while ((rc = ww_source_next(s, &pkt, err)) == 1) {
        if (pkt.caplen >= 58 && c->n < 1024)
            memcpy(&c->ids[c->n++], pkt.data + 54, 4);
        if (pkt.linktype != WW_LINK_ETHERNET)
            rc = -99;
    }
    ww_source_free(s);
    return rc;
}

T_CASE(pcapngw_round_trip)
{
    char err[WW_ERRBUF_SIZE];
    ww_pcapngw *w;
    uint8_t p[64];
    T_EQ_INT(ww_pcapngw_open(&w, tmp_path(), "a comment", err), WW_OK);
    T_EQ_INT(ww_pcapngw_secrets(w, 0x544c534bU, (const uint8_t *)"CLIENT_RANDOM x y\n", 18), WW_OK);
    for (uint32_t i = 0; i < 5; i++) {
        size_t n = mkpkt(p, 1, 1000, 2, 80, i, i + 100);
        T_EQ_INT(ww_pcapngw_packet(w, WW_LINK_ETHERNET, 1700000000000000ull + i, p, (uint32_t)n,
                                   (uint32_t)n),
                 WW_OK);
    }
    T_EQ_INT(ww_pcapngw_close(w), WW_OK);
    rd_ctx c;
    T_EQ_INT(read_back(tmp_path(), &c), 0);
    T_EQ_INT(c.n, 5);
    T_EQ_INT(c.ids[0], 100);
    T_EQ_INT(c.ids[4], 104);
    T_EQ_INT(c.secrets, 1);
    T_EQ_INT(c.secrets_len, 18);
    unlink(tmp_path());
    T_CHECK(ww_pcapngw_open(&w, "/nonexistent-dir/x.pcapng", NULL, err) == WW_E_IO);
}

/* Feeds packets through pktdec and the evidence keeper. */
static void feed(ww_evidence *e, ww_pktdec *pd, uint8_t a, uint16_t pa, uint8_t b, uint16_t pb,
                 uint32_t id)
{
    uint8_t p[64];
    size_t n = mkpkt(p, a, pa, b, pb, id, id);
    ww_pkt pkt = {1700000000000000ull + id, (uint32_t)n, (uint32_t)n, WW_LINK_ETHERNET, p};
    ww_seg seg;
    if (ww_pktdec_decode(pd, &pkt, &seg) == 1)
        ww_evidence_packet(e, &pkt, &seg);
}

static ww_flow mkflow(uint8_t cli, uint16_t cport, uint8_t srv, uint16_t sport)
{
    ww_flow f;
    memset(&f, 0, sizeof f);
    f.cli_ip.family = 4;
    f.cli_ip.a[0] = 10, f.cli_ip.a[3] = cli;
    f.srv_ip.family = 4;
    f.srv_ip.a[0] = 10, f.srv_ip.a[3] = srv;
    f.cli_port = cport;
    f.srv_port = sport;
    return f;
}

T_CASE(evidence_rings_and_flagging)
{
    char err[WW_ERRBUF_SIZE];
    ww_pcapngw *w;
    T_EQ_INT(ww_pcapngw_open(&w, tmp_path(), NULL, err), WW_OK);
    ww_evidence_cfg cfg = {0};
    cfg.max_flow_pkts = 8;
    ww_evidence *e = ww_evidence_new(NULL, &cfg, w);
    ww_pktdec *pd = ww_pktdec_new(NULL, NULL, NULL, NULL);
    T_CHECK(e != NULL && pd != NULL);
    /* flow S (client .1:1000 -> .2:80) serves an address; flow A (client .1:1001 -> .3:8545)
     * gets the alert; flow O (client .9) is unrelated; both directions count as one flow */
    feed(e, pd, 1, 1000, 2, 80, 1);
    feed(e, pd, 2, 80, 1, 1000, 2);
    feed(e, pd, 9, 2000, 2, 80, 3);
    for (uint32_t i = 0; i < 20; i++) /* over the ring of 8: only the last ones stay */
        feed(e, pd, 1, 1001, 3, 8545, 10 + i);
    ww_flow s = mkflow(1, 1000, 2, 80), a = mkflow(1, 1001, 3, 8545), o = mkflow(9, 2000, 2, 80);
    ww_evidence_served(e, &s);
    ww_evidence_close(e, &s); /* closed, but kept: it served */
    ww_evidence_close(e, &o); /* forgotten */
    T_EQ_INT(ww_evidence_flag(e, &a), WW_OK);
    feed(e, pd, 3, 8545, 1, 1001, 50); /* after the flag: written at once */
    feed(e, pd, 9, 2000, 2, 80, 51);   /* unrelated: not written */
    const ww_evidence_stats *st = ww_evidence_stats_get(e);
    T_EQ_INT(st->flows_flagged, 2);
    T_CHECK(st->packets_forgotten >= 12);
    ww_evidence_free(e);
    ww_pktdec_free(pd);
    T_EQ_INT(ww_pcapngw_close(w), WW_OK);
    rd_ctx c;
    T_EQ_INT(read_back(tmp_path(), &c), 0);
    /* served flow's 2 packets, then the alert flow's last 4..8, in capture order, then 50 */
    T_CHECK(c.n >= 2 + 4 + 1 && c.n <= 2 + 8 + 1);
    T_EQ_INT(c.ids[0], 1);
    T_EQ_INT(c.ids[1], 2);
    T_EQ_INT(c.ids[c.n - 2], 29);
    T_EQ_INT(c.ids[c.n - 1], 50);
    bool ordered = true, other = false;
    for (size_t i = 1; i < c.n; i++) {
        ordered &= c.ids[i] > c.ids[i - 1];
        other |= c.ids[i] == 3 || c.ids[i] == 51;
    }
    T_CHECK(ordered);
    T_CHECK(!other);
    unlink(tmp_path());
}

T_CASE(evidence_total_cap)
{
    char err[WW_ERRBUF_SIZE];
    ww_pcapngw *w;
    T_EQ_INT(ww_pcapngw_open(&w, tmp_path(), NULL, err), WW_OK);
    ww_evidence_cfg cfg = {0};
    cfg.max_flows = 4;
    cfg.max_total_bytes = 3 * 4096;
    ww_evidence *e = ww_evidence_new(NULL, &cfg, w);
    ww_pktdec *pd = ww_pktdec_new(NULL, NULL, NULL, NULL);
    for (uint32_t i = 0; i < 64; i++) /* 64 flows through a pool of 4 */
        feed(e, pd, 1, (uint16_t)(1000 + i), 2, 80, i);
    ww_flow last = mkflow(1, 1063, 2, 80);
    T_EQ_INT(ww_evidence_flag(e, &last), WW_OK);
    T_EQ_INT(ww_evidence_stats_get(e)->packets_written, 1);
    ww_evidence_free(e);
    ww_pktdec_free(pd);
    T_EQ_INT(ww_pcapngw_close(w), WW_OK);
    unlink(tmp_path());
}

T_CASE(keylog_export_round_trip)
{
    char text[512];
    char s48[97], s32[65];
    memset(s48, 'a', 96);
    s48[96] = '\0';
    memset(s32, 'b', 64);
    s32[64] = '\0';
    snprintf(text, sizeof text,
             "# a comment\nCLIENT_RANDOM %s %s\nCLIENT_TRAFFIC_SECRET_0 %s %s\n",
             "0101010101010101010101010101010101010101010101010101010101010101", s48,
             "0202020202020202020202020202020202020202020202020202020202020202", s32);
    ww_keylog *a = ww_keylog_new(NULL), *b = ww_keylog_new(NULL);
    ww_keylog_add_text(a, (const uint8_t *)text, strlen(text) - 1); /* last line unterminated */
    ww_keylog_add_text(a, (const uint8_t *)"\n", 1);
    T_EQ_INT(ww_keylog_count(a), 2);
    ww_buf out;
    ww_buf_init(&out, NULL, 1 << 20);
    T_EQ_INT(ww_keylog_export(a, &out), WW_OK);
    T_CHECK(out.len > 0 && memchr(out.data, '#', out.len) == NULL);
    ww_keylog_add_text(b, out.data, out.len);
    T_EQ_INT(ww_keylog_count(b), 2);
    T_EQ_INT(ww_keylog_bad_lines(b), 0);
    uint8_t cr[32], s1[WW_KEYLOG_SECRET_MAX], s2[WW_KEYLOG_SECRET_MAX];
    memset(cr, 2, 32);
    T_EQ_INT(ww_keylog_lookup(b, cr, WW_KL_CLIENT_AP0, s1), 32);
    T_EQ_INT(ww_keylog_lookup(a, cr, WW_KL_CLIENT_AP0, s2), 32);
    T_EQ_MEM(s1, s2, 32);
    memset(cr, 1, 32);
    T_EQ_INT(ww_keylog_lookup(b, cr, WW_KL_CLIENT_RANDOM, s1), 48);
    T_CHECK(s1[0] == 0xaa && s1[47] == 0xaa);
    ww_buf small;
    ww_buf_init(&small, NULL, 10);
    T_EQ_INT(ww_keylog_export(a, &small), WW_E_TOOBIG);
    ww_wipe(out.data, out.len);
    ww_buf_free(&out);
    ww_buf_free(&small);
    ww_keylog_free(a);
    ww_keylog_free(b);
}

T_CASE(live_open_errors)
{
    char err[WW_ERRBUF_SIZE];
    ww_source *s = NULL;
    int rc = ww_source_open_live(&s, "ww-no-such0", NULL, 0, 0, false, true, err);
    T_EQ_INT(rc, WW_E_IO);
    T_CHECK(s == NULL);
    if (getuid() != 0) {
        T_SKIP("not root: opening lo needs CAP_NET_RAW");
        return;
    }
    rc = ww_source_open_live(&s, "lo", "tcp port nonsense", 0, 0, false, true, err);
    T_EQ_INT(rc, WW_E_INVALID);
    T_CHECK(strstr(err, "bad filter") != NULL);
    rc = ww_source_open_live(&s, "lo", "tcp port 9", 0, 1024, false, true, err);
    T_EQ_INT(rc, WW_OK);
    if (rc == WW_OK) {
        ww_pkt pkt;
        ww_live_stats ls;
        T_EQ_INT(ww_source_live_linktype(s), WW_LINK_ETHERNET);
        T_EQ_INT(ww_source_next(s, &pkt, err), WW_SRC_IDLE); /* nothing on port 9 */
        ww_source_breakloop(s);
        T_EQ_INT(ww_source_next(s, &pkt, err), 0);
        T_EQ_INT(ww_source_live_stats(s, &ls), WW_OK);
        T_EQ_INT(ls.dropped, 0);
        ww_source_free(s);
    }
    /* TPACKET_V3 blocks (not immediate), the default ring: an empty ring is said at once,
     * then the wait ends on the wake fd, whose byte is consumed */
    rc = ww_source_open_live(&s, "lo", "tcp port 9", 0, 0, false, false, err);
    T_EQ_INT(rc, WW_OK);
    if (rc == WW_OK) {
        ww_pkt pkt;
        int pfd[2];
        T_EQ_INT(ww_source_next(s, &pkt, err), WW_SRC_IDLE);
        T_EQ_INT(pipe(pfd), 0);
        T_EQ_INT(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
        T_EQ_INT(ww_source_live_wake_fd(s, pfd[0]), WW_OK);
        T_EQ_INT((int)write(pfd[1], "w", 1), 1);
        T_EQ_INT(ww_source_next(s, &pkt, err), WW_SRC_IDLE);
        char c;
        T_EQ_INT((int)read(pfd[0], &c, 1), -1); /* consumed by the wait */
        ww_source_breakloop(s);
        T_EQ_INT(ww_source_next(s, &pkt, err), 0);
        ww_source_free(s);
        close(pfd[0]);
        close(pfd[1]);
    }
    ww_source *f;
    T_EQ_INT(ww_source_open_file(&f, t_src("pcaps/http1-clean.pcap"), err), WW_OK);
    ww_live_stats ls;
    T_EQ_INT(ww_source_live_wake_fd(f, 0), WW_E_UNSUPPORTED);
    T_EQ_INT(ww_source_live_stats(f, &ls), WW_E_UNSUPPORTED);
    T_EQ_INT(ww_source_live_linktype(f), -1);
    ww_source_breakloop(f); /* a no-op on files */
    ww_source_free(f);
}
