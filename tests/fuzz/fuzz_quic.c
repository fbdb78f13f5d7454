/*
 * fuzz_quic.c - libFuzzer target for the QUIC decoder (decode/quic.c).
 *
 * Input: byte 0 = mode. Then records: a control byte c, a length byte l, l bytes.
 *   mode & 1 == 0 (raw): each record is one UDP datagram, from the client when c & 1, else
 *     from the server, as is (header parsing, connection lookup, Initial recognition).
 *   mode & 1 == 1 (sealed): the harness first makes a handshake (client Initial with a
 *     ClientHello, server Initial + Handshake with ServerHello and EncryptedExtensions; keys in
 *     a key log); then each record's bytes are the plaintext frames of one packet it seals with
 *     the right keys: c & 1 client/server, (c >> 1) & 3 level (0 Initial, 1 Handshake, 2/3
 *     1-RTT), c & 8 key phase 1 (next key generation), c & 16 coalesce with the next record.
 *     This reaches the frame parser and stream reassembly behind the AEAD.
 *   mode & 2: small caps (streams, out-of-order bytes, backlog). mode & 4: version 2.
 * Every stream's bytes are checked to arrive in order without gaps.
 */
#include "decode/quic.h"
#include "decode/tls_int.h"
#include "tests/quic_build.h"

#include <stdlib.h>

static uint64_t sink_sum;

static void f_open(void *ud, ww_flow *f, uint64_t ts)
{
    (void)ud, (void)ts;
    sink_sum += f->id;
}
static void f_hs(void *ud, ww_flow *f, const ww_quic_info *info)
{
    (void)ud, (void)f;
    sink_sum += strlen(info->sni) + strlen(info->alpn) + info->cipher;
}
static void f_data(void *ud, ww_flow *f, int dir, uint64_t id, const uint8_t *p, size_t n, bool fin,
                   uint64_t ts)
{
    (void)ud, (void)f, (void)ts;
    sink_sum += (uint64_t)dir + id + fin;
    for (size_t i = 0; i < n; i++)
        sink_sum += p[i];
}
static void f_reset(void *ud, ww_flow *f, int dir, uint64_t id, uint64_t err, uint64_t ts)
{
    (void)ud, (void)f, (void)ts;
    sink_sum += (uint64_t)dir + id + err;
}
static void f_close(void *ud, ww_flow *f, int reason, uint64_t ts)
{
    (void)ud, (void)ts;
    sink_sum += (uint64_t)reason + f->bytes[0] + f->bytes[1];
}
static void f_anom(void *ud, uint64_t ts, const ww_flow *f, const char *layer, const char *t,
                   const char *d)
{
    (void)ud, (void)ts, (void)f;
    sink_sum += strlen(layer) + strlen(t) + strlen(d);
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

static const uint8_t odcid[8] = {0xd0, 1, 2, 3, 4, 5, 6, 7};
static const uint8_t cscid[8] = {0xc0, 1, 2, 3, 4, 5, 6, 7};
static const uint8_t sscid[8] = {0xe0, 1, 2, 3, 4, 5, 6, 7};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    uint32_t ver = (mode & 4) ? WW_QUIC_V2 : WW_QUIC_V1;
    ww_quic_cfg cfg = {0};
    if (mode & 2) {
        cfg.max_streams = 4;
        cfg.max_stream_ooo = 64;
        cfg.max_conn_ooo = 128;
        cfg.max_backlog = 256;
        cfg.max_conns = 2;
    }
    /* secrets: handshake and 1-RTT, both sides, SHA-256 (suite 0x1301) */
    uint8_t cr[32], sec[4][32];
    for (int i = 0; i < 32; i++) {
        cr[i] = (uint8_t)(i + 1);
        for (int j = 0; j < 4; j++)
            sec[j][i] = (uint8_t)(j * 40 + i);
    }
    static const char *labels[4] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                    "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                    "SERVER_TRAFFIC_SECRET_0"};
    char kl_text[1024], crh[65], sh[65];
    size_t o = 0;
    ww_hex_encode(crh, cr, 32);
    for (int j = 0; j < 4; j++) {
        ww_hex_encode(sh, sec[j], 32);
        o += (size_t)snprintf(kl_text + o, sizeof kl_text - o, "%s %s %s\n", labels[j], crh, sh);
    }
    ww_keylog *kl = ww_keylog_new(NULL);
    ww_keylog_add_text(kl, (const uint8_t *)kl_text, o);
    ww_quic_cbs cbs = {NULL, f_open, f_hs, f_data, f_reset, f_close, f_anom, NULL, NULL};
    ww_quic *q = ww_quic_new(NULL, &cfg, &cbs, kl);
    if (q == NULL)
        abort();
    /* the harness's own packet keys: the same for every input of a version, derived once */
    static ww_quic_keys kc[2][4][2];
    static bool kc_done[2];
    int vi = (mode & 4) ? 1 : 0;
    ww_quic_keys *ki = kc[vi][0], *kh = kc[vi][1], *ka = kc[vi][2], *ka2 = kc[vi][3];
    uint64_t pn[2][3] = {{0}};
    static uint8_t pkt[4096], pt[1400], hs[512];
    size_t plen = 0;
    if ((mode & 1) && !kc_done[vi]) {
        if (ww_quic_initial_keys(&ki[0], ver, false, odcid, 8) != WW_OK ||
            ww_quic_initial_keys(&ki[1], ver, true, odcid, 8) != WW_OK)
            abort();
        for (int d = 0; d < 2; d++) {
            uint8_t ns[32];
            if (ww_quic_keys_from_secret(&kh[d], ver, 0x1301, sec[d], 32) != WW_OK ||
                ww_quic_keys_from_secret(&ka[d], ver, 0x1301, sec[2 + d], 32) != WW_OK ||
                ww_tls_hkdf_expand_label(ns, 32, "SHA256", sec[2 + d], 32,
                                         ver == WW_QUIC_V2 ? "quicv2 ku" : "quic ku", NULL,
                                         0) != WW_OK ||
                ww_quic_keys_from_secret(&ka2[d], ver, 0x1301, ns, 32) != WW_OK)
                abort();
            memcpy(ka2[d].hp, ka[d].hp, 32);
        }
        kc_done[vi] = true;
    }
    if (mode & 1) {
        size_t hl = qb_client_hello(hs, cr, "fuzz.example");
        size_t n = qb_crypto(pt, 0, hs, hl);
        memset(pt + n, 0, 1100 - n);
        size_t l =
            qb_long(pkt, ver, QB_INITIAL, 0x1301, &ki[0], odcid, 8, cscid, 8, pn[0][0]++, pt, 1100);
        dgram(q, true, pkt, l, 1);
        hl = qb_server_hello(hs, 0x1301);
        n = qb_crypto(pt, 0, hs, hl);
        l = qb_long(pkt, ver, QB_INITIAL, 0x1301, &ki[1], cscid, 8, sscid, 8, pn[1][0]++, pt, n);
        hl = qb_encrypted_extensions(hs);
        n = qb_crypto(pt, 0, hs, hl);
        l += qb_long(pkt + l, ver, QB_HANDSHAKE, 0x1301, &kh[1], cscid, 8, sscid, 8, pn[1][1]++, pt,
                     n);
        dgram(q, false, pkt, l, 2);
    }
    size_t i = 1;
    uint64_t ts = 10;
    while (i + 2 <= size) {
        uint8_t c = data[i];
        size_t n = data[i + 1];
        i += 2;
        if (n > size - i)
            n = size - i;
        const uint8_t *p = data + i;
        i += n;
        ts++;
        bool cli = c & 1;
        if (!(mode & 1)) {
            dgram(q, cli, p, n, ts);
        } else {
            int d = cli ? 0 : 1;
            int lv = (c >> 1) & 3;
            if (n == 0)
                continue;
            size_t l;
            const uint8_t *dc = cli ? sscid : cscid, *sc = cli ? cscid : sscid;
            if (lv == 0)
                l = qb_long(pkt + plen, ver, QB_INITIAL, 0x1301, &ki[d], dc, 8, sc, 8, pn[d][0]++,
                            p, n);
            else if (lv == 1)
                l = qb_long(pkt + plen, ver, QB_HANDSHAKE, 0x1301, &kh[d], dc, 8, sc, 8, pn[d][1]++,
                            p, n);
            else
                l = qb_short(pkt + plen, 0x1301, (c & 8) ? &ka2[d] : &ka[d], (c & 8) ? 1 : 0, dc, 8,
                             pn[d][2]++, p, n);
            plen += l;
            /* coalesce long headers with the next record (short headers end a datagram) */
            if (!(c & 16) || lv >= 2 || plen > sizeof pkt - 400) {
                dgram(q, cli, pkt, plen, ts);
                plen = 0;
            }
        }
        ww_quic_tick(q, ts);
    }
    ww_quic_finish(q, ts + 1);
    ww_quic_free(q);
    ww_keylog_free(kl);
    return 0;
}
