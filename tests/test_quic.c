/*
 * test_quic.c - QUIC (RFC 9000/9001/9369): the Appendix A vectors of RFC 9001 and RFC 9369,
 * generated connections (stream reassembly, key update, CID changes, late keys, malformed
 * packets at every truncation point, caps) and the real Chrome -> Cloudflare capture.
 */
#define _GNU_SOURCE
#include "decode/quic.h"
#include "decode/tls_int.h"
#include "tests/quic_build.h"
#include "tests/t.h"

#include <arpa/inet.h>

static size_t unhex(uint8_t *out, size_t cap, const char *s)
{
    size_t n = 0;
    while (*s && n < cap) {
        while (*s == ' ' || *s == '\n')
            s++;
        if (!s[0] || !s[1])
            break;
        out[n++] = (uint8_t)(ww_hex_val(s[0]) << 4 | ww_hex_val(s[1]));
        s += 2;
    }
    return n;
}

static bool eq_hex(const uint8_t *p, size_t n, const char *hex)
{
    uint8_t b[256];
    size_t k = unhex(b, sizeof b, hex);
    return k == n && memcmp(b, p, n) == 0;
}

/* ---------- RFC 9001 Appendix A ---------- */

static const char *a2_packet =
#include "tests/quic_rfc9001_a2.inc"
    ;

static const uint8_t rfc_dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

T_CASE(rfc9001_initial_keys)
{
    ww_quic_keys k;
    T_EQ_INT(ww_quic_initial_keys(&k, WW_QUIC_V1, false, rfc_dcid, 8), WW_OK);
    T_CHECK(eq_hex(k.key, 16, "1f369613dd76d5467730efcbe3b1a22d"));
    T_CHECK(eq_hex(k.iv, 12, "fa044b2f42a3fd3b46fb255c"));
    T_CHECK(eq_hex(k.hp, 16, "9f50449e04a0e810283a1e9933adedd2"));
    T_EQ_INT(ww_quic_initial_keys(&k, WW_QUIC_V1, true, rfc_dcid, 8), WW_OK);
    T_CHECK(eq_hex(k.key, 16, "cf3a5331653c364c88f0f379b6067e37"));
    T_CHECK(eq_hex(k.iv, 12, "0ac1493ca1905853b0bba03e"));
    T_CHECK(eq_hex(k.hp, 16, "c206b8d9b9f0f37644430b490eeaa314"));
    /* header protection masks of A.2 and A.3 */
    uint8_t s[16], mask[5];
    T_EQ_INT(ww_quic_initial_keys(&k, WW_QUIC_V1, false, rfc_dcid, 8), WW_OK);
    unhex(s, 16, "d1b1c98dd7689fb8ec11d242b123dc9b");
    T_EQ_INT(ww_quic_hp_mask(mask, 0x1301, k.hp, s), WW_OK);
    T_CHECK(eq_hex(mask, 5, "437b9aec36"));
    T_EQ_INT(ww_quic_initial_keys(&k, WW_QUIC_V1, true, rfc_dcid, 8), WW_OK);
    unhex(s, 16, "2cd0991cd25b0aac406a5816b6394100");
    T_EQ_INT(ww_quic_hp_mask(mask, 0x1301, k.hp, s), WW_OK);
    T_CHECK(eq_hex(mask, 5, "2ec0d8356a"));
    /* RFC 9369 A.1 */
    T_EQ_INT(ww_quic_initial_keys(&k, WW_QUIC_V2, false, rfc_dcid, 8), WW_OK);
    T_CHECK(eq_hex(k.key, 16, "8b1a0bc121284290a29e0971b5cd045d"));
    T_CHECK(eq_hex(k.iv, 12, "91f73e2351d8fa91660e909f"));
    T_CHECK(eq_hex(k.hp, 16, "45b95e15235d6f45a6b19cbcb0294ba9"));
    T_EQ_INT(ww_quic_initial_keys(&k, WW_QUIC_V2, true, rfc_dcid, 8), WW_OK);
    T_CHECK(eq_hex(k.key, 16, "82db637861d55e1d011f19ea71d5d2a7"));
    T_CHECK(eq_hex(k.iv, 12, "dd13c276499c0249d3310652"));
    T_CHECK(eq_hex(k.hp, 16, "edf6d05c83121201b436e16877593c3a"));
    T_EQ_INT(ww_quic_initial_keys(&k, 0xff00001d, false, rfc_dcid, 8), WW_E_UNSUPPORTED);
}

/* A.5 (RFC 9001) and A.5 (RFC 9369): ChaCha20-Poly1305 short header, pn 654360564 */
T_CASE(rfc_chacha_short_header)
{
    static const struct {
        uint32_t ver;
        const char *key, *iv, *hp, *mask, *packet;
    } v[] = {
        {WW_QUIC_V1, "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8",
         "e0459b3474bdd0e44a41c144",
         "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4", "aefefe7d03",
         "4cfe4189655e5cd55c41f69080575d7999c25a5bfb"},
        {WW_QUIC_V2, "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2",
         "a6b5bc6ab7dafce30ffff5dd",
         "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2", "97580e32bf",
         "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba"},
    };
    uint8_t secret[32];
    unhex(secret, 32, "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
    for (size_t i = 0; i < WW_ARRAY_LEN(v); i++) {
        ww_quic_keys k;
        T_EQ_INT(ww_quic_keys_from_secret(&k, v[i].ver, 0x1303, secret, 32), WW_OK);
        T_CHECK(eq_hex(k.key, 32, v[i].key));
        T_CHECK(eq_hex(k.iv, 12, v[i].iv));
        T_CHECK(eq_hex(k.hp, 32, v[i].hp));
        uint8_t pkt[21], mask[5];
        unhex(pkt, sizeof pkt, v[i].packet);
        T_EQ_INT(ww_quic_hp_mask(mask, 0x1303, k.hp, pkt + 5), WW_OK);
        T_CHECK(eq_hex(mask, 5, v[i].mask));
        /* remove header protection: 3-byte packet number, pn 654360564 */
        uint8_t hdr[4];
        hdr[0] = (uint8_t)(pkt[0] ^ (mask[0] & 0x1f));
        for (int j = 0; j < 3; j++)
            hdr[1 + j] = pkt[1 + j] ^ mask[1 + j];
        T_CHECK(eq_hex(hdr, 4, "4200bff4"));
        ww_tlsc c;
        memset(&c, 0, sizeof c);
        T_EQ_INT(ww_tlsc_set_key(&c, WW_TLSC_CHACHA, k.key, 32, k.iv, 12, NULL, 0, NULL), WW_OK);
        uint8_t out[32];
        size_t ol = 0;
        T_EQ_INT(ww_tlsc_open_aad(&c, out, sizeof out, &ol, hdr, 4, 654360564, pkt + 4, 17), WW_OK);
        T_CHECK(ol == 1 && out[0] == 0x01);
        /* and a flipped bit fails */
        pkt[10] ^= 1;
        T_EQ_INT(ww_tlsc_open_aad(&c, out, sizeof out, &ol, hdr, 4, 654360564, pkt + 4, 17),
                 WW_E_CRYPTO);
        ww_tlsc_free(&c);
    }
}

/* ---------- a collector ---------- */

#define SMAX 64
typedef struct coll {
    int opens, closes, handshakes, close_reason;
    ww_quic_info info;
    int anomalies;
    char last_anomaly[64];
    char anomaly_types[65536];
    struct {
        uint64_t id;
        int dir;
        uint8_t data[16384];
        size_t len;
        bool fin;
        int resets;
    } s[SMAX];
    int ns;
    int frames;
    ww_flow *flow;
} coll;

static int cidx(coll *c, uint64_t id, int dir)
{
    for (int i = 0; i < c->ns; i++)
        if (c->s[i].id == id && c->s[i].dir == dir)
            return i;
    if (c->ns >= SMAX)
        return -1;
    c->s[c->ns].id = id;
    c->s[c->ns].dir = dir;
    return c->ns++;
}

static void c_open(void *ud, ww_flow *f, uint64_t ts)
{
    coll *c = ud;
    (void)ts;
    c->opens++;
    c->flow = f;
}
static void c_hs(void *ud, ww_flow *f, const ww_quic_info *info)
{
    coll *c = ud;
    (void)f;
    c->handshakes++;
    c->info = *info;
}
static void c_data(void *ud, ww_flow *f, int dir, uint64_t id, const uint8_t *p, size_t n, bool fin,
                   uint64_t ts)
{
    coll *c = ud;
    (void)f, (void)ts;
    int i = cidx(c, id, dir);
    if (i < 0)
        return;
    size_t room = sizeof c->s[i].data - c->s[i].len;
    size_t k = n < room ? n : room;
    if (k > 0)
        memcpy(c->s[i].data + c->s[i].len, p, k);
    c->s[i].len += k;
    if (fin) {
        T_CHECK(!c->s[i].fin); /* FIN once */
        c->s[i].fin = true;
    }
}
static void c_reset(void *ud, ww_flow *f, int dir, uint64_t id, uint64_t err, uint64_t ts)
{
    coll *c = ud;
    (void)f, (void)err, (void)ts;
    int i = cidx(c, id, dir);
    if (i >= 0)
        c->s[i].resets++;
}
static void c_close(void *ud, ww_flow *f, int reason, uint64_t ts)
{
    coll *c = ud;
    (void)ts;
    c->closes++;
    c->close_reason = reason;
    c->info = *ww_quic_conn_info(f);
    c->flow = NULL;
}
static void c_anom(void *ud, uint64_t ts, const ww_flow *f, const char *layer, const char *type,
                   const char *detail)
{
    coll *c = ud;
    (void)ts, (void)f, (void)detail;
    T_EQ_STR(layer, "quic");
    c->anomalies++;
    snprintf(c->last_anomaly, sizeof c->last_anomaly, "%s", type);
    size_t l = strlen(c->anomaly_types);
    snprintf(c->anomaly_types + l, sizeof c->anomaly_types - l, "%s ", type);
}
static void c_frame(void *ud, ww_flow *f, int dir, uint64_t pn, uint64_t id, uint64_t off,
                    size_t len, bool has_len, bool fin)
{
    coll *c = ud;
    (void)f, (void)dir, (void)pn, (void)id, (void)off, (void)len, (void)has_len, (void)fin;
    c->frames++;
}

static ww_quic *mk_quic(coll *c, ww_keylog *kl, const ww_quic_cfg *cfg)
{
    memset(c, 0, sizeof *c);
    ww_quic_cbs cb = {c, c_open, c_hs, c_data, c_reset, c_close, c_anom, c_frame, NULL};
    return ww_quic_new(NULL, cfg, &cb, kl);
}

static const uint8_t *stream_of(coll *c, uint64_t id, int dir, size_t *len)
{
    for (int i = 0; i < c->ns; i++)
        if (c->s[i].id == id && c->s[i].dir == dir) {
            *len = c->s[i].len;
            return c->s[i].data;
        }
    *len = 0;
    return NULL;
}

static bool stream_fin(coll *c, uint64_t id, int dir)
{
    for (int i = 0; i < c->ns; i++)
        if (c->s[i].id == id && c->s[i].dir == dir)
            return c->s[i].fin;
    return false;
}

static void feed(ww_quic *q, bool from_client, const uint8_t *p, size_t n, uint64_t ts)
{
    ww_udp_dgram dg;
    memset(&dg, 0, sizeof dg);
    ww_ip a = {4, {10, 0, 0, 1}}, b = {4, {10, 0, 0, 2}};
    dg.ts_us = ts;
    dg.src = from_client ? a : b;
    dg.dst = from_client ? b : a;
    dg.sport = from_client ? 50000 : 443;
    dg.dport = from_client ? 443 : 50000;
    dg.payload = p;
    dg.len = dg.wire_len = (uint32_t)n;
    (void)ww_quic_datagram(q, &dg);
}

T_CASE(rfc9001_sample_packets)
{
    coll c;
    ww_quic *q = mk_quic(&c, NULL, NULL);
    uint8_t pkt[1200];
    T_EQ_INT(unhex(pkt, sizeof pkt, a2_packet), 1200);
    feed(q, true, pkt, 1200, 1);
    T_EQ_INT(c.opens, 1);
    T_EQ_INT(c.anomalies, 0);
    T_EQ_INT(ww_quic_stats_get(q)->decrypted, 1);
    T_CHECK(c.flow != NULL);
    const ww_quic_info *info = ww_quic_conn_info(c.flow);
    T_EQ_STR(info->sni, "example.com");
    T_EQ_STR(info->alpn, "alpn"); /* the offered one, until EncryptedExtensions */
    T_EQ_INT(info->version, WW_QUIC_V1);
    /* A.3: the server's Initial (empty DCID: found by its 5-tuple): ServerHello, 0x1301 */
    static const char *a3 = "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
                            "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
                            "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
                            "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
                            "2158407dd074ee";
    uint8_t sp[135];
    T_EQ_INT(unhex(sp, sizeof sp, a3), 135);
    feed(q, false, sp, 135, 2);
    T_EQ_INT(ww_quic_stats_get(q)->decrypted, 2);
    T_EQ_INT(info->cipher, 0x1301);
    T_EQ_INT(c.anomalies, 0);
    /* the same client packet with one bit flipped is not taken as a new connection */
    coll c2;
    ww_quic *q2 = mk_quic(&c2, NULL, NULL);
    pkt[600] ^= 0x10;
    feed(q2, true, pkt, 1200, 1);
    T_EQ_INT(c2.opens, 0);
    T_EQ_INT(c2.anomalies, 0);
    T_EQ_INT(ww_quic_stats_get(q2)->not_quic, 1);
    ww_quic_finish(q2, 3);
    ww_quic_free(q2);
    ww_quic_finish(q, 3);
    T_EQ_INT(c.closes, 1);
    T_EQ_INT(c.close_reason, WW_CLOSE_END);
    ww_quic_free(q);
}

/* ---------- generated connections ---------- */

typedef struct sess {
    uint32_t ver;
    uint16_t suite;
    uint8_t odcid[8], cscid[8], sscid[8];
    uint8_t cr[32];
    ww_quic_keys ci, si, ch, sh, c1, s1;
    uint8_t c1_secret[48];
    size_t hl;
    uint64_t cpn, spn;
    char keylog[2048];
} sess;

static void hexs(char *out, const uint8_t *p, size_t n)
{
    ww_hex_encode(out, p, n);
}

static void sess_init(sess *s, uint32_t ver, uint16_t suite)
{
    memset(s, 0, sizeof *s);
    s->ver = ver;
    s->suite = suite;
    for (int i = 0; i < 8; i++) {
        s->odcid[i] = (uint8_t)(0xd0 + i);
        s->cscid[i] = (uint8_t)(0xc0 + i);
        s->sscid[i] = (uint8_t)(0xe0 + i);
    }
    for (int i = 0; i < 32; i++)
        s->cr[i] = (uint8_t)(i * 7 + 1);
    s->hl = suite == 0x1302 ? 48 : 32;
    uint8_t sec[4][48];
    for (int j = 0; j < 4; j++)
        for (size_t i = 0; i < s->hl; i++)
            sec[j][i] = (uint8_t)(j * 31 + i);
    T_EQ_INT(ww_quic_initial_keys(&s->ci, ver, false, s->odcid, 8), WW_OK);
    T_EQ_INT(ww_quic_initial_keys(&s->si, ver, true, s->odcid, 8), WW_OK);
    T_EQ_INT(ww_quic_keys_from_secret(&s->ch, ver, suite, sec[0], s->hl), WW_OK);
    T_EQ_INT(ww_quic_keys_from_secret(&s->sh, ver, suite, sec[1], s->hl), WW_OK);
    T_EQ_INT(ww_quic_keys_from_secret(&s->c1, ver, suite, sec[2], s->hl), WW_OK);
    T_EQ_INT(ww_quic_keys_from_secret(&s->s1, ver, suite, sec[3], s->hl), WW_OK);
    memcpy(s->c1_secret, sec[2], s->hl);
    static const char *labels[4] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                    "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                    "SERVER_TRAFFIC_SECRET_0"};
    char crh[65], sh[97];
    hexs(crh, s->cr, 32);
    size_t o = 0;
    for (int j = 0; j < 4; j++) {
        hexs(sh, sec[j], s->hl);
        o +=
            (size_t)snprintf(s->keylog + o, sizeof s->keylog - o, "%s %s %s\n", labels[j], crh, sh);
    }
}

/* Client Initial (ClientHello, padded to 1200), server Initial (ServerHello) + Handshake (EE). */
static void sess_handshake(sess *s, ww_quic *q, uint64_t ts)
{
    uint8_t pt[1400], hs[512], pkt[1500];
    size_t hl = qb_client_hello(hs, s->cr, "wallet.example");
    size_t n = qb_crypto(pt, 0, hs, hl);
    memset(pt + n, 0, 1100 - n); /* PADDING */
    n = 1100;
    size_t pl =
        qb_long(pkt, s->ver, QB_INITIAL, 0x1301, &s->ci, s->odcid, 8, s->cscid, 8, s->cpn++, pt, n);
    feed(q, true, pkt, pl, ts);
    /* server: Initial(SH) + Handshake(EE) coalesced */
    hl = qb_server_hello(hs, s->suite);
    n = qb_crypto(pt, 0, hs, hl);
    pl =
        qb_long(pkt, s->ver, QB_INITIAL, 0x1301, &s->si, s->cscid, 8, s->sscid, 8, s->spn++, pt, n);
    hl = qb_encrypted_extensions(hs);
    n = qb_crypto(pt, 0, hs, hl);
    pl += qb_long(pkt + pl, s->ver, QB_HANDSHAKE, s->suite, &s->sh, s->cscid, 8, s->sscid, 8, 0, pt,
                  n);
    feed(q, false, pkt, pl, ts + 1);
}

static void c1rtt(sess *s, ww_quic *q, const uint8_t *frames, size_t n, uint64_t ts)
{
    uint8_t pkt[2048];
    size_t pl = qb_short(pkt, s->suite, &s->c1, 0, s->sscid, 8, s->cpn++, frames, n);
    feed(q, true, pkt, pl, ts);
}

static void s1rtt(sess *s, ww_quic *q, const uint8_t *frames, size_t n, uint64_t ts)
{
    uint8_t pkt[2048];
    size_t pl = qb_short(pkt, s->suite, &s->s1, 0, s->cscid, 8, s->spn++, frames, n);
    feed(q, false, pkt, pl, ts);
}

static ww_keylog *sess_keylog(sess *s)
{
    ww_keylog *kl = ww_keylog_new(NULL);
    ww_keylog_add_text(kl, (const uint8_t *)s->keylog, strlen(s->keylog));
    return kl;
}

T_CASE(generated_connection_streams)
{
    static const uint16_t suites[] = {0x1301, 0x1302, 0x1303};
    static const uint32_t vers[] = {WW_QUIC_V1, WW_QUIC_V2};
    for (size_t vi = 0; vi < 2; vi++) {
        for (size_t si = 0; si < 3; si++) {
            sess s;
            sess_init(&s, vers[vi], suites[si]);
            ww_keylog *kl = sess_keylog(&s);
            coll c;
            ww_quic *q = mk_quic(&c, kl, NULL);
            sess_handshake(&s, q, 10);
            T_EQ_INT(c.opens, 1);
            T_EQ_INT(c.handshakes, 1);
            T_EQ_STR(c.info.sni, "wallet.example");
            T_EQ_STR(c.info.alpn, "h3");
            T_EQ_INT(c.info.cipher, suites[si]);
            T_EQ_INT(c.info.version, vers[vi]);
            uint8_t fr[1024];
            /* in order, out of order, retransmitted, overlapping; then FIN */
            size_t n = qb_stream(fr, 0, 0, "GET /a", 6, false);
            c1rtt(&s, q, fr, n, 20);
            n = qb_stream(fr, 0, 10, "3456", 4, true); /* ahead: held */
            c1rtt(&s, q, fr, n, 21);
            n = qb_stream(fr, 0, 0, "GET /a", 6, false); /* duplicate */
            c1rtt(&s, q, fr, n, 22);
            n = qb_stream(fr, 0, 4, "/abc12", 6, false); /* overlaps 4..6, fills 6..10 */
            c1rtt(&s, q, fr, n, 23);
            size_t len;
            const uint8_t *d = stream_of(&c, 0, WW_DIR_TOSERVER, &len);
            T_EQ_INT(len, 14);
            T_CHECK(d != NULL && memcmp(d, "GET /abc123456", 14) == 0);
            T_CHECK(stream_fin(&c, 0, WW_DIR_TOSERVER));
            /* server answers on the same bidirectional stream, a uni stream too */
            n = qb_stream(fr, 0, 0, "200 OK", 6, true);
            n += qb_stream(fr + n, 3, 0, "\x00\x04", 2, false);
            s1rtt(&s, q, fr, n, 24);
            d = stream_of(&c, 0, WW_DIR_TOCLIENT, &len);
            T_CHECK(len == 6 && memcmp(d, "200 OK", 6) == 0);
            d = stream_of(&c, 3, WW_DIR_TOCLIENT, &len);
            T_EQ_INT(len, 2);
            /* a client sending on the server's uni stream: anomaly, nothing delivered */
            n = qb_stream(fr, 3, 2, "zz", 2, false);
            c1rtt(&s, q, fr, n, 25);
            T_EQ_STR(c.last_anomaly, "quic-stream-direction");
            /* RESET_STREAM */
            n = qb_stream(fr, 4, 0, "part", 4, false);
            fr[n++] = 0x04;
            fr[n++] = 4;
            fr[n++] = 0;
            fr[n++] = 4;
            c1rtt(&s, q, fr, n, 26);
            T_EQ_INT(c.s[cidx(&c, 4, WW_DIR_TOSERVER)].resets, 1);
            T_EQ_INT(ww_quic_stats_get(q)->decrypt_failed, 0);
            ww_quic_finish(q, 100);
            T_EQ_INT(c.closes, 1);
            ww_quic_free(q);
            ww_keylog_free(kl);
        }
    }
}

T_CASE(key_update_and_cid_change)
{
    sess s;
    sess_init(&s, WW_QUIC_V1, 0x1301);
    ww_keylog *kl = sess_keylog(&s);
    coll c;
    ww_quic *q = mk_quic(&c, kl, NULL);
    sess_handshake(&s, q, 10);
    uint8_t fr[512], pkt[1024];
    size_t n = qb_stream(fr, 0, 0, "abc", 3, false);
    c1rtt(&s, q, fr, n, 20);
    /* key update: next secret by "quic ku", key phase 1 */
    uint8_t ns[48];
    T_EQ_INT(ww_tls_hkdf_expand_label(ns, 32, "SHA256", s.c1_secret, 32, "quic ku", NULL, 0),
             WW_OK);
    ww_quic_keys k2;
    T_EQ_INT(ww_quic_keys_from_secret(&k2, WW_QUIC_V1, 0x1301, ns, 32), WW_OK);
    k2.key_len = 16;
    memcpy(k2.hp, s.c1.hp, 16); /* header protection keys do not change */
    n = qb_stream(fr, 0, 3, "def", 3, false);
    size_t pl = qb_short(pkt, 0x1301, &k2, 1, s.sscid, 8, s.cpn++, fr, n);
    feed(q, true, pkt, pl, 21);
    /* a late packet of phase 0 still opens */
    n = qb_stream(fr, 0, 6, "ghi", 3, false);
    pl = qb_short(pkt, 0x1301, &s.c1, 0, s.sscid, 8, s.cpn - 3, fr, n);
    feed(q, true, pkt, pl, 22);
    T_EQ_INT(ww_quic_stats_get(q)->key_updates, 1);
    T_CHECK(c.flow != NULL && ww_quic_conn_decrypted(c.flow));
    /* the server names a new CID; the client moves to it from a new address */
    static const uint8_t ncid[12] = {0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    n = 0;
    fr[n++] = 0x18;
    fr[n++] = 1; /* seq */
    fr[n++] = 0; /* retire prior to */
    fr[n++] = 12;
    memcpy(fr + n, ncid, 12);
    n += 12;
    memset(fr + n, 0x77, 16);
    n += 16;
    s1rtt(&s, q, fr, n, 23);
    n = qb_stream(fr, 0, 9, "jkl", 3, true);
    pl = qb_short(pkt, 0x1301, &k2, 1, ncid, 12, s.cpn++, fr, n);
    ww_udp_dgram dg;
    memset(&dg, 0, sizeof dg);
    ww_ip a = {4, {192, 168, 7, 7}}, b = {4, {10, 0, 0, 2}};
    dg.ts_us = 24;
    dg.src = a;
    dg.dst = b;
    dg.sport = 6000;
    dg.dport = 443;
    dg.payload = pkt;
    dg.len = dg.wire_len = (uint32_t)pl;
    T_CHECK(ww_quic_datagram(q, &dg));
    T_EQ_INT(ww_quic_stats_get(q)->migrations, 1);
    size_t len;
    const uint8_t *d = stream_of(&c, 0, WW_DIR_TOSERVER, &len);
    T_CHECK(len == 12 && memcmp(d, "abcdefghijkl", 12) == 0);
    T_CHECK(stream_fin(&c, 0, WW_DIR_TOSERVER));
    T_EQ_INT(c.anomalies, 0);
    T_CHECK(c.flow != NULL && c.flow->cli_port == 6000);
    /* the server's packets to the client's new address find it by CID */
    n = qb_stream(fr, 0, 0, "ok", 2, true);
    s1rtt(&s, q, fr, n, 25);
    d = stream_of(&c, 0, WW_DIR_TOCLIENT, &len);
    T_CHECK(len == 2 && d != NULL && memcmp(d, "ok", 2) == 0);
    ww_quic_finish(q, 100);
    ww_quic_free(q);
    ww_keylog_free(kl);
}

T_CASE(late_keys_backlog)
{
    sess s;
    sess_init(&s, WW_QUIC_V1, 0x1303);
    ww_keylog *kl = ww_keylog_new(NULL); /* empty: the keys come later */
    coll c;
    ww_quic *q = mk_quic(&c, kl, NULL);
    sess_handshake(&s, q, 10);
    T_EQ_INT(c.opens, 1);
    uint8_t fr[256];
    size_t n = qb_stream(fr, 0, 0, "late", 4, true);
    c1rtt(&s, q, fr, n, 20);
    size_t len;
    T_CHECK(stream_of(&c, 0, WW_DIR_TOSERVER, &len) == NULL);
    ww_keylog_add_text(kl, (const uint8_t *)s.keylog, strlen(s.keylog));
    ww_quic_tick(q, 21);
    const uint8_t *d = stream_of(&c, 0, WW_DIR_TOSERVER, &len);
    T_CHECK(len == 4 && d != NULL && memcmp(d, "late", 4) == 0);
    T_EQ_STR(c.info.alpn, "h3"); /* EncryptedExtensions came out of the backlog too */
    ww_quic_finish(q, 100);
    T_EQ_INT(c.anomalies, 0);
    ww_quic_free(q);
    ww_keylog_free(kl);

    /* never: "quic-no-key" at the end, the connection undecryptable */
    kl = ww_keylog_new(NULL);
    q = mk_quic(&c, kl, NULL);
    sess_handshake(&s, q, 10);
    c1rtt(&s, q, fr, n, 20);
    T_CHECK(c.flow != NULL && !ww_quic_conn_undecryptable(c.flow));
    T_CHECK(!ww_quic_conn_decrypted(c.flow));
    ww_quic_finish(q, 100);
    T_CHECK(strstr(c.anomaly_types, "quic-no-key") != NULL);
    T_CHECK(ww_quic_stats_get(q)->no_key >= 2);
    ww_quic_free(q);
    ww_keylog_free(kl);
}

T_CASE(malformed_packets)
{
    sess s;
    sess_init(&s, WW_QUIC_V1, 0x1301);
    ww_keylog *kl = sess_keylog(&s);
    coll c;
    ww_quic *q = mk_quic(&c, kl, NULL);
    sess_handshake(&s, q, 10);
    uint8_t fr[256], pkt[1024];
    size_t n = qb_stream(fr, 0, 0, "hello", 5, false);
    size_t pl = qb_short(pkt, 0x1301, &s.c1, 0, s.sscid, 8, s.cpn++, fr, n);
    /* every truncation point of a 1-RTT packet: an anomaly or silence, never data, never a
     * crash (guard page behind the cut) */
    for (size_t k = 0; k < pl; k++) {
        int before = c.anomalies;
        uint64_t failed = ww_quic_stats_get(q)->decrypt_failed;
        const uint8_t *g = t_guard(pkt, k);
        feed(q, true, g, k, 11);
        /* an anomaly each time; tag failures are reported 4 in a row, then only counted */
        if (k > 0)
            T_CHECK(c.anomalies > before || ww_quic_stats_get(q)->decrypt_failed > failed);
    }
    size_t len;
    T_CHECK(stream_of(&c, 0, WW_DIR_TOSERVER, &len) == NULL);
    /* the whole packet still decodes afterwards */
    feed(q, true, pkt, pl, 12);
    const uint8_t *d = stream_of(&c, 0, WW_DIR_TOSERVER, &len);
    T_CHECK(len == 5 && d != NULL && memcmp(d, "hello", 5) == 0);

    /* every truncation point of a coalesced long-header datagram */
    uint8_t hs[64];
    size_t hl = qb_encrypted_extensions(hs);
    size_t m = qb_crypto(fr, 100, hs, hl);
    pl = qb_long(pkt, WW_QUIC_V1, QB_HANDSHAKE, 0x1301, &s.sh, s.cscid, 8, s.sscid, 8, 5, fr, m);
    for (size_t k = 1; k < pl; k++) {
        int before = c.anomalies;
        feed(q, false, t_guard(pkt, k), k, 13);
        if (k >= 1 + 4 + 1 + 8) /* its DCID names the connection: then an anomaly */
            T_CHECK(c.anomalies > before);
    }
    /* a forged Length (longer than the datagram): "quic-bad-length", nothing opened */
    uint64_t dec = ww_quic_stats_get(q)->decrypted;
    uint8_t forged[1024];
    memcpy(forged, pkt, pl);
    size_t lo = 1 + 4 + 1 + 8 + 1 + 8;
    forged[lo] = 0x7f;
    forged[lo + 1] = 0xff;
    feed(q, false, forged, pl, 14);
    T_EQ_STR(c.last_anomaly, "quic-bad-length");
    T_EQ_INT(ww_quic_stats_get(q)->decrypted, dec);
    /* a shorter forged Length: the tag fails, the next coalesced packet is read on */
    forged[lo] = 0x40;
    forged[lo + 1] = 30;
    feed(q, false, forged, pl, 15);
    T_CHECK(strstr(c.anomaly_types, "quic-decrypt-failed") != NULL);

    /* a STREAM frame at offset 2^62: anomaly, the frames after it are still read */
    n = 0;
    fr[n++] = 0x0e;
    n += qb_varint(fr + n, 8);
    n += qb_varint(fr + n, ((uint64_t)1 << 62) - 1);
    n += qb_varint(fr + n, 2);
    fr[n++] = 'x';
    fr[n++] = 'y';
    n += qb_stream(fr + n, 12, 0, "after", 5, true);
    c1rtt(&s, q, fr, n, 16);
    T_CHECK(strstr(c.anomaly_types, "quic-offset-too-large") != NULL);
    d = stream_of(&c, 12, WW_DIR_TOSERVER, &len);
    T_CHECK(len == 5 && d != NULL && memcmp(d, "after", 5) == 0);
    /* an unknown frame type: anomaly, the rest of that packet dropped */
    n = 0;
    fr[n++] = 0x21;
    n += qb_stream(fr + n, 16, 0, "lost", 4, true);
    c1rtt(&s, q, fr, n, 17);
    T_EQ_STR(c.last_anomaly, "quic-unknown-frame");
    T_CHECK(stream_of(&c, 16, WW_DIR_TOSERVER, &len) == NULL);
    /* a tag failure */
    n = qb_stream(fr, 20, 0, "bad", 3, false);
    pl = qb_short(pkt, 0x1301, &s.c1, 0, s.sscid, 8, s.cpn++, fr, n);
    pkt[pl - 3] ^= 1;
    feed(q, true, pkt, pl, 18);
    T_EQ_STR(c.last_anomaly, "quic-decrypt-failed");
    ww_quic_finish(q, 100);
    ww_quic_free(q);
    ww_keylog_free(kl);
}

T_CASE(stream_flood_bounded)
{
    sess s;
    sess_init(&s, WW_QUIC_V1, 0x1301);
    ww_keylog *kl = sess_keylog(&s);
    coll c;
    ww_quic_cfg cfg = {0};
    cfg.max_streams = 16;
    cfg.max_stream_ooo = 4096;
    cfg.max_conn_ooo = 8192;
    ww_quic *q = mk_quic(&c, kl, &cfg);
    sess_handshake(&s, q, 10);
    uint8_t fr[1200];
    /* 100 streams opened and never finished: 16 kept, the rest an anomaly each */
    for (uint64_t i = 0; i < 100; i++) {
        size_t n = qb_stream(fr, i * 4, 0, "x", 1, false);
        c1rtt(&s, q, fr, n, 20 + i);
    }
    T_CHECK(strstr(c.anomaly_types, "quic-stream-limit") != NULL);
    T_EQ_INT(c.ns, 16);
    /* out-of-order bytes beyond the per-stream cap: dropped with an anomaly, stream reset */
    static uint8_t junk[1000];
    for (int i = 0; i < 8; i++) {
        size_t n = qb_stream(fr, 0, 100 + 1000 * (uint64_t)i, junk, sizeof junk, false);
        c1rtt(&s, q, fr, n, 200 + (uint64_t)i);
    }
    T_CHECK(strstr(c.anomaly_types, "quic-ooo-overflow") != NULL);
    T_CHECK(ww_quic_stats_get(q)->ooo_dropped_bytes > 0);
    T_EQ_INT(c.s[cidx(&c, 0, WW_DIR_TOSERVER)].resets, 1);
    /* finished streams free their slot: new ones open */
    for (uint64_t i = 1; i < 16; i++) {
        size_t n = qb_stream(fr, i * 4, 1, "", 0, true);
        c1rtt(&s, q, fr, n, 300 + i);
        n = qb_stream(fr, i * 4, 0, "ok", 2, true);
        s1rtt(&s, q, fr, n, 300 + i);
    }
    size_t n = qb_stream(fr, 1000 * 4, 0, "new", 3, true);
    c1rtt(&s, q, fr, n, 400);
    size_t len;
    T_CHECK(stream_of(&c, 4000, WW_DIR_TOSERVER, &len) != NULL && len == 3);
    ww_quic_finish(q, 1000);
    ww_quic_free(q);
    ww_keylog_free(kl);
}

T_CASE(not_quic)
{
    coll c;
    ww_quic *q = mk_quic(&c, NULL, NULL);
    static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
    feed(q, true, dns, sizeof dns, 1);
    uint8_t fake[1200];
    memset(fake, 0, sizeof fake);
    fake[0] = 0xc3;
    fake[4] = 1;
    fake[5] = 8;
    feed(q, true, fake, sizeof fake, 2);
    feed(q, true, fake, 0, 3);
    T_EQ_INT(c.opens, 0);
    T_EQ_INT(c.anomalies, 0);
    T_EQ_INT(ww_quic_stats_get(q)->not_quic, 3);
    ww_quic_free(q);
}

/* ---------- the real capture: Chrome 107 -> cloudflare-quic.com (../shared) ---------- */

typedef struct corpus_rig {
    coll *c;
    ww_quic *q;
    uint64_t frame_no;
    /* STREAM frames seen, per capture frame */
    struct {
        uint64_t frame, id, off;
        size_t len;
        bool has_len, fin;
    } f[256];
    int nf;
    /* optional: passed on (HTTP/3 test) */
    void (*data_hook)(void *ud, int dir, uint64_t id, const uint8_t *p, size_t n, bool fin,
                      uint64_t ts);
    void *hook_ud;
} corpus_rig;

static corpus_rig *g_rig;

static void r_frame(void *ud, ww_flow *f, int dir, uint64_t pn, uint64_t id, uint64_t off,
                    size_t len, bool has_len, bool fin)
{
    corpus_rig *r = g_rig;
    c_frame(ud, f, dir, pn, id, off, len, has_len, fin);
    if (r->nf < 256) {
        r->f[r->nf].frame = r->frame_no;
        r->f[r->nf].id = id;
        r->f[r->nf].off = off;
        r->f[r->nf].len = len;
        r->f[r->nf].has_len = has_len;
        r->f[r->nf].fin = fin;
        r->nf++;
    }
}

static void r_data(void *ud, ww_flow *f, int dir, uint64_t id, const uint8_t *p, size_t n, bool fin,
                   uint64_t ts)
{
    c_data(ud, f, dir, id, p, n, fin, ts);
    if (g_rig->data_hook != NULL)
        g_rig->data_hook(g_rig->hook_ud, dir, id, p, n, fin, ts);
}

static void r_udp(void *ud, const ww_udp_dgram *dg)
{
    corpus_rig *r = ud;
    (void)ww_quic_datagram(r->q, dg);
}

static void r_secrets(void *ud, uint32_t type, const uint8_t *data, size_t len)
{
    if (type == 0x544c534b)
        ww_keylog_add_text(ud, data, len);
}

/* Replays a capture through source -> pktdec (UDP) -> quic. Returns false when absent. */
static bool corpus_run(const char *rel, corpus_rig *r, coll *c)
{
    char path[512], err[WW_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s", t_shared(rel));
    ww_source *src = NULL;
    if (ww_source_open_file(&src, path, err) != WW_OK)
        return false;
    ww_keylog *kl = ww_keylog_new(NULL);
    ww_source_set_secrets_fn(src, r_secrets, kl);
    memset(c, 0, sizeof *c);
    g_rig = r;
    r->c = c;
    ww_quic_cbs cb = {c, c_open, c_hs, r_data, c_reset, c_close, c_anom, r_frame, NULL};
    r->q = ww_quic_new(NULL, NULL, &cb, kl);
    ww_pktdec *dec = ww_pktdec_new(NULL, NULL, NULL, NULL);
    ww_pktdec_set_udp_fn(dec, r_udp, r);
    ww_pkt pkt;
    ww_seg seg;
    uint64_t last = 0;
    while (ww_source_next(src, &pkt, err) == 1) {
        r->frame_no++;
        last = pkt.ts_us;
        (void)ww_pktdec_decode(dec, &pkt, &seg);
        ww_quic_tick(r->q, pkt.ts_us);
    }
    ww_quic_finish(r->q, last);
    ww_pktdec_free(dec);
    ww_source_free(src);
    ww_keylog_free(kl);
    return true;
}

static bool split_u64(const char *s, uint64_t *out, int *n)
{
    *n = 0;
    while (*s && *s != '\t' && *n < 8) {
        char *e;
        out[(*n)++] = strtoull(s, &e, 10);
        s = *e == ',' ? e + 1 : e;
    }
    return true;
}

T_CASE(corpus_chrome_cloudflare_streams)
{
    static coll c;
    static corpus_rig r;
    memset(&r, 0, sizeof r);
    if (!corpus_run("corpus/quic/chrome-cloudflare-quic-with-secrets.pcapng", &r, &c))
        T_SKIP("../shared/corpus/quic absent");
    T_EQ_INT(c.opens, 1);
    T_EQ_STR(c.info.sni, "cloudflare-quic.com");
    T_EQ_STR(c.info.alpn, "h3");
    T_EQ_INT(c.info.version, WW_QUIC_V1);
    T_CHECK(c.info.cipher == 0x1301 || c.info.cipher == 0x1302 || c.info.cipher == 0x1303);
    T_EQ_INT(ww_quic_stats_get(r.q)->decrypt_failed, 0);
    T_EQ_INT(ww_quic_stats_get(r.q)->no_key, 0);
    T_EQ_INT(c.anomalies, 0);
    if (c.anomalies)
        fprintf(stderr, "  anomalies: %s\n", c.anomaly_types);
    /* every line of tshark's list: the same frames, stream ids, offsets, lengths and FINs */
    size_t tl;
    uint8_t *tsv = t_read_file(t_shared("corpus/quic/chrome-cloudflare-quic-with-secrets."
                                        "streams.tsv"),
                               &tl);
    T_CHECK(tsv != NULL);
    int lines = 0, matched = 0;
    char *save = NULL;
    char *text = tsv ? strndup((char *)tsv, tl) : NULL;
    for (char *ln = text ? strtok_r(text, "\n", &save) : NULL; ln != NULL;
         ln = strtok_r(NULL, "\n", &save)) {
        char *col[5] = {0};
        int k = 0;
        for (char *p = ln; k < 5;) {
            col[k++] = p;
            char *t = strchr(p, '\t');
            if (t == NULL)
                break;
            *t = '\0';
            p = t + 1;
        }
        if (k < 5)
            continue;
        lines++;
        uint64_t frame = strtoull(col[0], NULL, 10);
        uint64_t ids[8], offs[8], lens[8], fins[8];
        int ni, no, nl, nfin;
        split_u64(col[1], ids, &ni);
        split_u64(col[2], offs, &no);
        split_u64(col[3], lens, &nl);
        split_u64(col[4], fins, &nfin);
        int got = 0, off_ok = 0, len_ok = 0;
        bool ids_ok = true;
        for (int i = 0; i < r.nf; i++) {
            if (r.f[i].frame != frame)
                continue;
            if (got < ni && (r.f[i].id != ids[got] || (uint64_t)r.f[i].fin != fins[got]))
                ids_ok = false;
            for (int j = 0; j < no; j++)
                off_ok += r.f[i].off == offs[j] && r.f[i].off != 0;
            for (int j = 0; j < nl; j++)
                len_ok += r.f[i].has_len && r.f[i].len == lens[j];
            got++;
        }
        /* tshark lists an offset only when the frame carries one (never 0 here) and a length
         * only when the frame has a Length field */
        int want_off = 0;
        for (int j = 0; j < no; j++)
            want_off += offs[j] != 0;
        bool ok = got == ni && ids_ok && off_ok >= want_off && len_ok >= nl;
        if (!ok)
            t_fail_msg(__FILE__, __LINE__, "  frame %llu: got %d STREAM frames, want %d",
                       (unsigned long long)frame, got, ni);
        matched += ok;
    }
    T_EQ_INT(lines, 17);
    T_EQ_INT(matched, lines);
    /* stream 0: the request, then the 10,288-byte response body (with its HTTP/3 framing) */
    size_t len;
    T_CHECK(stream_of(&c, 0, WW_DIR_TOSERVER, &len) != NULL);
    T_CHECK(stream_fin(&c, 0, WW_DIR_TOSERVER));
    T_CHECK(stream_of(&c, 0, WW_DIR_TOCLIENT, &len) != NULL);
    T_EQ_INT(len, 10288);
    T_CHECK(stream_fin(&c, 0, WW_DIR_TOCLIENT));
    free(text);
    free(tsv);
    ww_quic_free(r.q);
}

T_CASE(corpus_initial_only_captures)
{
    static const char *files[] = {"corpus/quic/quic-tls-handshake.pcapng",
                                  "corpus/quic/quic-with-several-tls-frames.pcapng"};
    for (size_t i = 0; i < WW_ARRAY_LEN(files); i++) {
        static coll c;
        static corpus_rig r;
        memset(&r, 0, sizeof r);
        if (!corpus_run(files[i], &r, &c))
            T_SKIP("../shared/corpus/quic absent");
        T_EQ_INT(c.opens, 1);
        T_CHECK(c.info.sni[0] != '\0');
        T_CHECK(c.info.alpn[0] != '\0');
        T_EQ_INT(c.anomalies, 0);
        fprintf(stderr, "  %s: sni %s alpn %s\n", files[i], c.info.sni, c.info.alpn);
        ww_quic_free(r.q);
    }
}

/* HTTP/3 on top: stream 0 is a GET / of cloudflare-quic.com and its response */
typedef struct h3rec {
    int n;
    ww_http_msg m[8];
    char method[8][16], url[8][64], host[8][64], ctype[8][64], cenc[8][32];
    int64_t body_len[8];
    bool truncated[8];
    int anomalies;
    char types[2048];
    uint64_t data_bytes;
} h3rec;

static bool h3_want(void *ud, const ww_http_msg *m)
{
    (void)ud, (void)m;
    return true;
}

static void h3_msg(void *ud, const ww_http_msg *m, uint64_t sid, uint64_t ts)
{
    h3rec *r = ud;
    (void)ts, (void)sid;
    if (r->n >= 8)
        return;
    int i = r->n++;
    r->m[i] = *m;
    snprintf(r->method[i], 16, "%s", m->method ? m->method : "");
    snprintf(r->url[i], 64, "%s", m->url ? m->url : "");
    snprintf(r->host[i], 64, "%s", m->host ? m->host : "");
    snprintf(r->ctype[i], 64, "%s", m->content_type ? m->content_type : "");
    snprintf(r->cenc[i], 32, "%s", m->content_encoding ? m->content_encoding : "");
    r->body_len[i] = m->body_len;
    r->truncated[i] = m->body_truncated;
}

static void h3_anom(void *ud, const char *type, const char *detail)
{
    h3rec *r = ud;
    (void)detail;
    r->anomalies++;
    size_t l = strlen(r->types);
    snprintf(r->types + l, sizeof r->types - l, "%s(%s) ", type, detail);
}

static ww_h3 *g_h3_raw; /* a second decoder that keeps no body: body_len = DATA bytes */

static void h3_hook(void *ud, int dir, uint64_t id, const uint8_t *p, size_t n, bool fin,
                    uint64_t ts)
{
    ww_h3_stream_data(ud, dir, id, p, n, fin, ts);
    ww_h3_stream_data(g_h3_raw, dir, id, p, n, fin, ts);
}

T_CASE(corpus_chrome_cloudflare_http3)
{
    static coll c;
    static corpus_rig r;
    static h3rec hr;
    memset(&r, 0, sizeof r);
    memset(&hr, 0, sizeof hr);
    ww_h3_cbs hc = {&hr, h3_want, h3_msg, h3_anom, NULL, NULL, NULL};
    ww_h3 *h = ww_h3_new(NULL, NULL, &hc);
    static h3rec raw;
    memset(&raw, 0, sizeof raw);
    ww_h3_cbs rc = {&raw, NULL, h3_msg, h3_anom, NULL, NULL, NULL};
    g_h3_raw = ww_h3_new(NULL, NULL, &rc);
    r.data_hook = h3_hook;
    r.hook_ud = h;
    if (!corpus_run("corpus/quic/chrome-cloudflare-quic-with-secrets.pcapng", &r, &c)) {
        ww_h3_free(h);
        T_SKIP("../shared/corpus/quic absent");
    }
    ww_h3_close(h, 0);
    if (hr.anomalies)
        fprintf(stderr, "  h3 anomalies: %s\n", hr.types);
    T_EQ_INT(hr.anomalies, 0);
    T_EQ_INT(hr.n, 2);
    T_CHECK(hr.m[0].is_request);
    T_EQ_STR(hr.method[0], "GET");
    T_EQ_STR(hr.url[0], "/");
    T_EQ_STR(hr.host[0], "cloudflare-quic.com");
    T_CHECK(!hr.m[1].is_request);
    T_EQ_INT(hr.m[1].status, 200);
    T_EQ_STR(hr.url[1], "/");
    T_CHECK(!hr.truncated[1]);
    T_CHECK(hr.body_len[1] > 0);
    fprintf(stderr,
            "  h3 response: status %d, content-type %s, content-encoding %s, "
            "body %lld bytes decoded\n",
            hr.m[1].status, hr.ctype[1], hr.cenc[1], (long long)hr.body_len[1]);
    /* the 10,288 bytes of stream 0 from the server: two reserved (grease) frames, a HEADERS
     * frame of 122 bytes, DATA frames of 4226 + 2147 + 1019 + 2718 + 1 + 0 bytes (checked
     * by hand from the reassembled stream): 10,111 body bytes on the wire */
    ww_h3_close(g_h3_raw, 0);
    T_EQ_INT(raw.n, 2);
    fprintf(stderr, "  h3 response body on the wire: %lld bytes (stream 0: 10288)\n",
            (long long)raw.body_len[1]);
    T_EQ_INT(raw.body_len[1], 10111);
    ww_h3_free(g_h3_raw);
    ww_h3_free(h);
    ww_quic_free(r.q);
}

T_CASE(zero_rtt_with_early_secret)
{
    sess s;
    sess_init(&s, WW_QUIC_V1, 0x1301);
    uint8_t early[32];
    for (int i = 0; i < 32; i++)
        early[i] = (uint8_t)(0xe0 ^ i);
    char line[256], crh[65], eh[65];
    ww_hex_encode(crh, s.cr, 32);
    ww_hex_encode(eh, early, 32);
    snprintf(line, sizeof line, "CLIENT_EARLY_TRAFFIC_SECRET %s %s\n", crh, eh);
    ww_keylog *kl = sess_keylog(&s);
    ww_keylog_add_text(kl, (const uint8_t *)line, strlen(line));
    ww_quic_keys ek;
    T_EQ_INT(ww_quic_keys_from_secret(&ek, WW_QUIC_V1, 0x1301, early, 32), WW_OK);
    coll c;
    ww_quic *q = mk_quic(&c, kl, NULL);
    /* one datagram: Initial (ClientHello) + 0-RTT (a request on stream 0) */
    uint8_t pt[1400], hs[512], pkt[3000], fr[256];
    size_t hl = qb_client_hello(hs, s.cr, "early.example");
    size_t n = qb_crypto(pt, 0, hs, hl);
    memset(pt + n, 0, 900 - n);
    size_t pl =
        qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &s.ci, s.odcid, 8, s.cscid, 8, 0, pt, 900);
    size_t fl = qb_stream(fr, 0, 0, "GET /early", 10, true);
    pl += qb_long(pkt + pl, WW_QUIC_V1, QB_ZRTT, 0x1301, &ek, s.odcid, 8, s.cscid, 8, 1, fr, fl);
    feed(q, true, pkt, pl, 1);
    size_t len;
    const uint8_t *d = stream_of(&c, 0, WW_DIR_TOSERVER, &len);
    T_CHECK(len == 10 && d != NULL && memcmp(d, "GET /early", 10) == 0);
    T_CHECK(stream_fin(&c, 0, WW_DIR_TOSERVER));
    T_EQ_INT(c.anomalies, 0);
    ww_quic_finish(q, 2);
    ww_quic_free(q);
    ww_keylog_free(kl);
}

T_CASE(retry_reset_timeout_evict)
{
    sess s;
    sess_init(&s, WW_QUIC_V1, 0x1301);
    ww_keylog *kl = sess_keylog(&s);
    coll c;
    ww_quic_cfg cfg = {0};
    cfg.max_conns = 2;
    cfg.idle_timeout_us = 1000;
    ww_quic *q = mk_quic(&c, kl, &cfg);
    /* client Initial, then a Retry naming a new server CID: the next Initial is keyed by it */
    uint8_t pt[1400], hs[512], pkt[1500];
    size_t hl = qb_client_hello(hs, s.cr, "retry.example");
    size_t n = qb_crypto(pt, 0, hs, hl);
    memset(pt + n, 0, 1100 - n);
    size_t pl =
        qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &s.ci, s.odcid, 8, s.cscid, 8, 0, pt, 1100);
    feed(q, true, pkt, pl, 10);
    T_EQ_INT(c.opens, 1);
    static const uint8_t rscid[8] = {0x99, 1, 2, 3, 4, 5, 6, 7};
    uint8_t retry[64];
    size_t rl = 0;
    retry[rl++] = 0xf0;
    retry[rl++] = 0, retry[rl++] = 0, retry[rl++] = 0, retry[rl++] = 1;
    retry[rl++] = 8;
    memcpy(retry + rl, s.cscid, 8);
    rl += 8;
    retry[rl++] = 8;
    memcpy(retry + rl, rscid, 8);
    rl += 8;
    memcpy(retry + rl, "token", 5);
    rl += 5;
    memset(retry + rl, 0xaa, 16); /* integrity tag (not checked) */
    rl += 16;
    feed(q, false, retry, rl, 11);
    ww_quic_keys rk, rsk;
    T_EQ_INT(ww_quic_initial_keys(&rk, WW_QUIC_V1, false, rscid, 8), WW_OK);
    T_EQ_INT(ww_quic_initial_keys(&rsk, WW_QUIC_V1, true, rscid, 8), WW_OK);
    pl = qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &rk, rscid, 8, s.cscid, 8, 1, pt, 1100);
    feed(q, true, pkt, pl, 12);
    hl = qb_server_hello(hs, 0x1301);
    n = qb_crypto(pt, 0, hs, hl);
    pl = qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &rsk, s.cscid, 8, s.sscid, 8, 0, pt, n);
    feed(q, false, pkt, pl, 13);
    T_EQ_INT(ww_quic_stats_get(q)->decrypt_failed, 0);
    T_EQ_INT(c.anomalies, 0);
    T_CHECK(c.flow != NULL && ww_quic_conn_info(c.flow)->cipher == 0x1301);
    T_EQ_INT(c.opens, 1);
    /* the server gives a CID with a reset token, then resets: closed, no anomaly */
    uint8_t fr[128];
    static const uint8_t ncid[8] = {0x77, 1, 2, 3, 4, 5, 6, 7};
    static const uint8_t tok[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    n = 0;
    fr[n++] = 0x18, fr[n++] = 1, fr[n++] = 0, fr[n++] = 8;
    memcpy(fr + n, ncid, 8);
    n += 8;
    memcpy(fr + n, tok, 16);
    n += 16;
    s1rtt(&s, q, fr, n, 14);
    uint8_t rst[40];
    memset(rst, 0x5c, sizeof rst);
    rst[0] = 0x45;
    memcpy(rst + 1, s.cscid, 8); /* looks like a short header to the client */
    memcpy(rst + sizeof rst - 16, tok, 16);
    feed(q, false, rst, sizeof rst, 15);
    T_EQ_INT(c.closes, 1);
    T_EQ_INT(c.close_reason, WW_CLOSE_RST);
    T_EQ_INT(ww_quic_stats_get(q)->stateless_resets, 1);
    T_EQ_INT(c.anomalies, 0);
    /* idle timeout, and the connection cap (2): the oldest evicted */
    for (int i = 0; i < 3; i++) {
        sess t;
        sess_init(&t, WW_QUIC_V1, 0x1301);
        t.odcid[0] = (uint8_t)(0x10 + i);
        T_EQ_INT(ww_quic_initial_keys(&t.ci, WW_QUIC_V1, false, t.odcid, 8), WW_OK);
        hl = qb_client_hello(hs, t.cr, "x.example");
        n = qb_crypto(pt, 0, hs, hl);
        memset(pt + n, 0, 1100 - n);
        pl = qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &t.ci, t.odcid, 8, t.cscid, 8, 0, pt,
                     1100);
        feed(q, true, pkt, pl, 100 + (uint64_t)i);
    }
    T_EQ_INT(c.opens, 4);
    T_EQ_INT(c.closes, 2);
    T_EQ_INT(c.close_reason, WW_CLOSE_EVICT);
    ww_quic_tick(q, 5000);
    T_EQ_INT(c.closes, 4);
    T_EQ_INT(c.close_reason, WW_CLOSE_TIMEOUT);
    ww_quic_finish(q, 6000);
    ww_quic_free(q);
    ww_keylog_free(kl);
}

T_CASE(global_budgets)
{
    sess s;
    sess_init(&s, WW_QUIC_V1, 0x1301);
    coll c;
    ww_quic_cfg cfg = {0};
    cfg.max_ooo_bytes = 1500;
    cfg.max_backlog_total = 600;
    ww_keylog *kl = ww_keylog_new(NULL); /* no keys yet: 1-RTT packets wait */
    ww_quic *q = mk_quic(&c, kl, &cfg);
    sess_handshake(&s, q, 10);
    static uint8_t junk[1000], fr[1100];
    size_t n = qb_stream(fr, 0, 0, "x", 1, false);
    c1rtt(&s, q, fr, n, 11); /* about 40 bytes waiting */
    n = qb_stream(fr, 0, 1, junk, 600, false);
    c1rtt(&s, q, fr, n, 12); /* over the 600-byte budget for all connections */
    T_CHECK(strstr(c.anomaly_types, "quic-no-key") != NULL);
    ww_keylog_add_text(kl, (const uint8_t *)s.keylog, strlen(s.keylog));
    ww_quic_tick(q, 13);
    size_t len;
    T_CHECK(stream_of(&c, 0, WW_DIR_TOSERVER, &len) != NULL && len == 1);
    /* out-of-order bytes over the budget for all connections */
    n = qb_stream(fr, 4, 100, junk, 1000, false);
    c1rtt(&s, q, fr, n, 14);
    T_CHECK(strstr(c.anomaly_types, "quic-ooo-overflow") == NULL);
    n = qb_stream(fr, 8, 100, junk, 1000, false);
    c1rtt(&s, q, fr, n, 15);
    T_CHECK(strstr(c.anomaly_types, "quic-ooo-overflow") != NULL);
    ww_quic_finish(q, 20);
    ww_quic_free(q);
    ww_keylog_free(kl);
}
