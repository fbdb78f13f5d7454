/*
 * bench_quic.c - QUIC + HTTP/3 decoder throughput on generated traffic: one connection
 * (handshake with the keys in a key log), then a server response on stream 0 (one HEADERS
 * frame, one large DATA frame) in 1-RTT packets of 1200 bytes, AES-128-GCM (or another suite),
 * sealed in-process with our own keys. Packets are made in batches of 64 MiB; only the decoding
 * (ww_quic_datagram -> stream reassembly -> ww_h3 -> body chunks) is timed.
 *   build/tools/bench_quic [MB] [suite]      (default 256 MB, 0x1301)
 * Prints MB/s (UDP payload bytes) and packets/s.
 */
#include "decode/quic.h"
#include "decode/tls_int.h"
#include "tests/quic_build.h"

#include <time.h>

static uint64_t body_bytes, nmsg;

static bool want(void *ud, const ww_http_msg *m)
{
    (void)ud, (void)m;
    return true;
}
static bool streamed(void *ud, const ww_http_msg *m)
{
    (void)ud, (void)m;
    return true;
}
static size_t chunk(void *ud, const ww_http_msg *m, const uint8_t *p, size_t n)
{
    (void)ud, (void)m, (void)p;
    body_bytes += n;
    return n;
}
static void msg(void *ud, const ww_http_msg *m, uint64_t sid, uint64_t ts)
{
    (void)ud, (void)sid, (void)ts;
    nmsg++;
    if (m->body_kept)
        body_bytes += m->body.len;
}
static void h3_anom(void *ud, const char *t, const char *d)
{
    (void)ud;
    fprintf(stderr, "h3 anomaly: %s %s\n", t, d);
}

static void q_data(void *ud, ww_flow *f, int dir, uint64_t id, const uint8_t *p, size_t n, bool fin,
                   uint64_t ts)
{
    (void)f;
    ww_h3_stream_data(ud, dir, id, p, n, fin, ts);
}
static void q_anom(void *ud, uint64_t ts, const ww_flow *f, const char *layer, const char *t,
                   const char *d)
{
    (void)ud, (void)ts, (void)f, (void)layer;
    fprintf(stderr, "quic anomaly: %s %s\n", t, d);
}

static void dgram(ww_quic *q, bool cli, const uint8_t *p, size_t n, uint64_t ts)
{
    ww_udp_dgram dg;
    memset(&dg, 0, sizeof dg);
    ww_ip a = {4, {10, 0, 0, 1}}, b = {4, {10, 0, 0, 2}};
    dg.ts_us = ts;
    dg.src = cli ? a : b;
    dg.dst = cli ? b : a;
    dg.sport = cli ? 50000 : 443;
    dg.dport = cli ? 443 : 50000;
    dg.payload = p;
    dg.len = dg.wire_len = (uint32_t)n;
    (void)ww_quic_datagram(q, &dg);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 256;
    uint16_t suite = argc > 2 ? (uint16_t)strtoul(argv[2], NULL, 0) : 0x1301;
    size_t hl = suite == 0x1302 ? 48 : 32;
    static const uint8_t odcid[8] = {0xd0, 1, 2, 3, 4, 5, 6, 7};
    static const uint8_t cscid[8] = {0xc0, 1, 2, 3, 4, 5, 6, 7};
    static const uint8_t sscid[8] = {0xe0, 1, 2, 3, 4, 5, 6, 7};
    uint8_t cr[32], sec[4][48];
    for (size_t i = 0; i < 48; i++)
        for (int j = 0; j < 4; j++)
            sec[j][i] = (uint8_t)(j * 50 + i);
    for (int i = 0; i < 32; i++)
        cr[i] = (uint8_t)(i + 9);
    static const char *labels[4] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                    "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                    "SERVER_TRAFFIC_SECRET_0"};
    char text[1024], crh[65], sh[97];
    size_t o = 0;
    ww_hex_encode(crh, cr, 32);
    for (int j = 0; j < 4; j++) {
        ww_hex_encode(sh, sec[j], hl);
        o += (size_t)snprintf(text + o, sizeof text - o, "%s %s %s\n", labels[j], crh, sh);
    }
    ww_keylog *kl = ww_keylog_new(NULL);
    ww_keylog_add_text(kl, (const uint8_t *)text, o);

    ww_h3_cbs hc = {NULL, want, msg, h3_anom, NULL, streamed, chunk};
    ww_app_cfg acfg = {0};
    acfg.max_decoded_ratio = 100;
    acfg.max_scan_bytes = SIZE_MAX; /* every body byte goes through the body stage */
    ww_h3 *h3 = ww_h3_new(NULL, &acfg, &hc);
    ww_quic_cbs qc = {h3, NULL, NULL, q_data, NULL, NULL, q_anom, NULL, NULL};
    ww_quic *q = ww_quic_new(NULL, NULL, &qc, kl);
    ww_quic_keys ki[2], kh, ka;
    if (ww_quic_initial_keys(&ki[0], WW_QUIC_V1, false, odcid, 8) != WW_OK ||
        ww_quic_initial_keys(&ki[1], WW_QUIC_V1, true, odcid, 8) != WW_OK ||
        ww_quic_keys_from_secret(&kh, WW_QUIC_V1, suite, sec[1], hl) != WW_OK ||
        ww_quic_keys_from_secret(&ka, WW_QUIC_V1, suite, sec[3], hl) != WW_OK) {
        fprintf(stderr, "bench_quic: key derivation failed\n");
        return 2;
    }
    static uint8_t pkt[4096], pt[1400], hs[512];
    size_t l = qb_client_hello(hs, cr, "bench.example");
    size_t n = qb_crypto(pt, 0, hs, l);
    memset(pt + n, 0, 1100 - n);
    l = qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &ki[0], odcid, 8, cscid, 8, 0, pt, 1100);
    dgram(q, true, pkt, l, 1);
    l = qb_server_hello(hs, suite);
    n = qb_crypto(pt, 0, hs, l);
    l = qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &ki[1], cscid, 8, sscid, 8, 0, pt, n);
    size_t el = qb_encrypted_extensions(hs);
    n = qb_crypto(pt, 0, hs, el);
    l += qb_long(pkt + l, WW_QUIC_V1, QB_HANDSHAKE, suite, &kh, cscid, 8, sscid, 8, 0, pt, n);
    dgram(q, false, pkt, l, 2);
    /* the client's request: a static-table GET (no timing) */
    static const uint8_t req[] = {0x01, 0x10, 0,   0,   0xd1, 0xd7, 0xc1, 0x50, 9,
                                  'a',  '.',  'e', 'x', 'a',  'm',  'p',  'l',  'e'};
    ww_h3_stream_data(h3, WW_DIR_TOSERVER, 0, req, sizeof req, true, 3);

    /* response stream: HEADERS (:status 200) + one DATA frame of the whole body */
    uint64_t total = (uint64_t)mb << 20;
    size_t per = 1200 - (1 + 8 + 4 + 16) - 1 - 1 - 8 - 2; /* STREAM frame payload per packet */
    uint64_t npk = total / 1200 + 1;
    uint64_t body = npk * per;
    uint8_t prefix[16];
    size_t pl = 0;
    prefix[pl++] = 0x01, prefix[pl++] = 3, prefix[pl++] = 0, prefix[pl++] = 0, prefix[pl++] = 0xd9;
    prefix[pl++] = 0x00;
    /* DATA length: the body minus these frame headers (8-byte varint: its size is known) */
    pl += 8;
    for (int i = 0; i < 8; i++)
        prefix[pl - 8 + i] = (uint8_t)((body - pl) >> (56 - 8 * i));
    prefix[pl - 8] |= 0xc0;
    (void)prefix;

    size_t batch = (64u << 20) / 1200;
    uint8_t *buf = malloc(batch * 1200);
    uint16_t *lens = malloc(batch * sizeof *lens);
    if (buf == NULL || lens == NULL)
        return 2;
    static uint8_t payload[1400];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)('a' + i % 26);
    uint64_t off = 0, pn = 0, bytes = 0, pkts = 0;
    double t = 0;
    bool first = true;
    while (pn < npk) {
        size_t k = 0;
        for (; k < batch && pn < npk; k++, pn++) {
            uint8_t fr[1300];
            size_t fl;
            if (first) {
                /* the HTTP/3 frame headers lead the stream */
                uint8_t d[1300];
                memcpy(d, prefix, pl);
                memcpy(d + pl, payload, per - pl);
                fl = qb_stream(fr, 0, off, d, per, false);
                first = false;
            } else {
                fl = qb_stream(fr, 0, off, payload, per, pn + 1 == npk);
            }
            off += per;
            lens[k] = (uint16_t)qb_short(buf + k * 1200, suite, &ka, 0, cscid, 8, pn, fr, fl);
        }
        double t0 = now();
        for (size_t i = 0; i < k; i++)
            dgram(q, false, buf + i * 1200, lens[i], 10 + pkts + i);
        t += now() - t0;
        for (size_t i = 0; i < k; i++)
            bytes += lens[i];
        pkts += k;
    }
    ww_quic_finish(q, 10 + pkts + 1);
    ww_h3_close(h3, 10 + pkts + 2);
    const ww_quic_stats *st = ww_quic_stats_get(q);
    printf("bench_quic: %.1f MB of 1-RTT packets (suite 0x%04x), %llu packets, %llu decrypted, "
           "%llu body bytes to HTTP/3, %llu messages\n",
           (double)bytes / 1e6, suite, (unsigned long long)pkts, (unsigned long long)st->decrypted,
           (unsigned long long)body_bytes, (unsigned long long)nmsg);
    printf("bench_quic: %.3f s decoding: %.1f MB/s, %.0f packets/s\n", t, (double)bytes / 1e6 / t,
           (double)pkts / t);
    int rc = st->decrypted >= pkts && nmsg == 2 ? 0 : 1;
    free(buf);
    free(lens);
    ww_h3_free(h3);
    ww_quic_free(q);
    ww_keylog_free(kl);
    return rc;
}
