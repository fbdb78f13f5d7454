/*
 * test_tls.c - TLS record layer and decryption.
 *
 * Unit cases build a TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 connection by hand (ClientHello,
 * ServerHello, CCS, Finished, application data encrypted here with OpenSSL from a chosen
 * master secret) and feed it whole, byte by byte, with a wrong key, a late key, a gap, an
 * unknown suite. The key schedule is checked against RFC 8448 section 3. Corpus cases decrypt
 * the Wireshark captures (../shared/corpus/wireshark) and compare length and SHA-256 of the
 * application data per direction with tshark's (`tls_appdata` in *.expected.jsonl).
 */
#include <openssl/evp.h>
#include <unistd.h>

#include "decode/decode.h"
#include "decode/tls_int.h"
#include "tests/t.h"

/* ---- a recorder for the callbacks ---- */
typedef struct rec {
    uint8_t pt[2][4096];
    size_t n[2];
    int handshakes;
    int anomalies;
    char last_anomaly[64];
    ww_tls_info info;
} rec;

static void on_pt(void *ud, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    rec *r = ud;
    (void)ts;
    if (r->n[dir] + n <= sizeof r->pt[dir])
        memcpy(r->pt[dir] + r->n[dir], p, n);
    r->n[dir] += n;
}
static void on_hs(void *ud, const ww_tls_info *i)
{
    rec *r = ud;
    r->handshakes++;
    r->info = *i;
}
static void on_an(void *ud, const char *type, const char *detail)
{
    rec *r = ud;
    (void)detail;
    r->anomalies++;
    snprintf(r->last_anomaly, sizeof r->last_anomaly, "%s", type);
}

/* ---- building a TLS 1.2 AES-128-GCM connection ---- */
typedef struct conn {
    uint8_t b[2][4096];
    size_t n[2];
    uint8_t key[2][16], salt[2][4];
    uint64_t seq[2];
} conn;

static const uint8_t CR[32] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                               0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                               0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x42};
#define CR_HEX "1111111111111111111111111111111111111111111111111111111111111142"
#define MS_HEX "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"
#define MS_BAD "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333334"
static const char *REQ = "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n";
static const char *RESP = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static void put(conn *c, int dir, const void *p, size_t n)
{
    memcpy(c->b[dir] + c->n[dir], p, n);
    c->n[dir] += n;
}
static void put_rec(conn *c, int dir, uint8_t type, const uint8_t *p, size_t n)
{
    uint8_t h[5] = {type, 3, 3, (uint8_t)(n >> 8), (uint8_t)n};
    put(c, dir, h, 5);
    put(c, dir, p, n);
}

static void put_enc(conn *c, int dir, uint8_t type, const uint8_t *p, size_t n)
{
    uint8_t out[1024], nonce[12], aad[13];
    uint64_t s = c->seq[dir]++;
    int l = 0;
    memcpy(nonce, c->salt[dir], 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = aad[i] = (uint8_t)(s >> (56 - 8 * i));
    aad[8] = type;
    aad[9] = 3;
    aad[10] = 3;
    aad[11] = (uint8_t)(n >> 8);
    aad[12] = (uint8_t)n;
    memcpy(out, nonce + 4, 8);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    T_CHECK(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, c->key[dir], nonce) == 1);
    T_CHECK(EVP_EncryptUpdate(ctx, NULL, &l, aad, 13) == 1);
    T_CHECK(EVP_EncryptUpdate(ctx, out + 8, &l, p, (int)n) == 1);
    T_CHECK(EVP_EncryptFinal_ex(ctx, out + 8 + l, &l) == 1);
    T_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + 8 + n) == 1);
    EVP_CIPHER_CTX_free(ctx);
    put_rec(c, dir, type, out, 8 + n + 16);
}

/* ClientHello with SNI example.org and ALPN h2,http/1.1; ServerHello choosing suite. */
static void build(conn *c, uint16_t suite)
{
    static const uint8_t ch_tail[] = {
        0x00,                               /* session id */
        0x00, 0x04, 0xc0, 0x2f, 0x13, 0x01, /* cipher suites */
        0x01, 0x00,                         /* compression */
        0x00, 0x2a,                         /* extensions: 42 bytes */
        0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x00, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
        '.', 'o', 'r', 'g', /* server_name */
        0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h', '2', 0x08, 'h', 't', 't', 'p', '/', '1',
        '.', '1',               /* ALPN */
        0x00, 0x17, 0x00, 0x00, /* extended_master_secret */
    };
    uint8_t ch[256], sh[128], ms[48], seed[64], kb[40];
    size_t k = 0;
    memset(c, 0, sizeof *c);
    ch[k++] = 1; /* ClientHello */
    k += 3;
    ch[k++] = 3;
    ch[k++] = 3;
    memcpy(ch + k, CR, 32);
    k += 32;
    memcpy(ch + k, ch_tail, sizeof ch_tail);
    k += sizeof ch_tail;
    ch[1] = 0;
    ch[2] = (uint8_t)((k - 4) >> 8);
    ch[3] = (uint8_t)(k - 4);
    put_rec(c, 0, 22, ch, k);
    /* ServerHello: version, random, sid 0, suite, comp 0, ALPN h2 */
    static const uint8_t sh_ext[] = {0x00, 0x09, 0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h', '2'};
    k = 0;
    sh[k++] = 2;
    k += 3;
    sh[k++] = 3;
    sh[k++] = 3;
    memset(sh + k, 0x22, 32);
    k += 32;
    sh[k++] = 0;
    sh[k++] = (uint8_t)(suite >> 8);
    sh[k++] = (uint8_t)suite;
    sh[k++] = 0;
    memcpy(sh + k, sh_ext, sizeof sh_ext);
    k += sizeof sh_ext;
    sh[1] = 0;
    sh[2] = 0;
    sh[3] = (uint8_t)(k - 4);
    put_rec(c, 1, 22, sh, k);
    static const uint8_t shd[] = {14, 0, 0, 0}; /* ServerHelloDone */
    put_rec(c, 1, 22, shd, sizeof shd);
    /* keys: key block = PRF(ms, "key expansion", sr || cr): ckey sk civ siv */
    T_CHECK(ww_hex_decode(ms, sizeof ms, MS_HEX, 96) == 48);
    memset(seed, 0x22, 32);
    memcpy(seed + 32, CR, 32);
    T_EQ_INT(ww_tls_prf(kb, sizeof kb, "SHA256", ms, 48, "key expansion", seed, 64), WW_OK);
    memcpy(c->key[0], kb, 16);
    memcpy(c->key[1], kb + 16, 16);
    memcpy(c->salt[0], kb + 32, 4);
    memcpy(c->salt[1], kb + 36, 4);
    /* client: CKE (fake), CCS, Finished, data; server: CCS, Finished, data */
    static const uint8_t cke[] = {16, 0, 0, 2, 1, 0x55};
    static const uint8_t ccs[] = {1};
    uint8_t fin[16] = {20, 0, 0, 12};
    put_rec(c, 0, 22, cke, sizeof cke);
    put_rec(c, 0, 20, ccs, 1);
    put_enc(c, 0, 22, fin, sizeof fin);
    put_rec(c, 1, 20, ccs, 1);
    put_enc(c, 1, 22, fin, sizeof fin);
    put_enc(c, 0, 23, (const uint8_t *)REQ, strlen(REQ));
    put_enc(c, 1, 23, (const uint8_t *)RESP, strlen(RESP));
}

static ww_keylog *keylog_with(const char *ms_hex)
{
    ww_keylog *kl = ww_keylog_new(NULL);
    char line[256];
    snprintf(line, sizeof line, "CLIENT_RANDOM %s %s\n", CR_HEX, ms_hex);
    ww_keylog_add_text(kl, (const uint8_t *)line, strlen(line));
    return kl;
}

static ww_tls *new_tls(ww_keylog *kl, rec *r)
{
    ww_tls_cbs cbs = {r, on_pt, on_hs, on_an};
    memset(r, 0, sizeof *r);
    return ww_tls_new(NULL, kl, &cbs);
}

/* feeds both directions in chunks of `step` bytes, client first */
static void feed(ww_tls *t, const conn *c, size_t step)
{
    for (int dir = 0; dir < 2; dir++)
        for (size_t i = 0; i < c->n[dir]; i += step)
            ww_tls_data(t, dir, t_guard(c->b[dir] + i, WW_MIN(step, c->n[dir] - i)),
                        WW_MIN(step, c->n[dir] - i), 0);
}

T_CASE(tls_names)
{
    T_EQ_STR(ww_tls_version_name(0x0303), "TLS 1.2");
    T_EQ_STR(ww_tls_version_name(0x0304), "TLS 1.3");
    T_EQ_STR(ww_tls_cipher_name(0x1302), "TLS_AES_256_GCM_SHA384");
    T_EQ_STR(ww_tls_cipher_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    T_CHECK(ww_tls_cipher_name(0xfefe) == NULL);
    uint8_t ch[] = {22, 3, 1, 0, 200, 1};
    T_CHECK(ww_tls_probe(ch, sizeof ch));
    T_CHECK(ww_tls_probe(ch, 1));
    T_CHECK(!ww_tls_probe((const uint8_t *)"GET / HTTP/1.1", 14));
    T_CHECK(!ww_tls_probe(ch, 0));
}

/* RFC 8448 section 3 (Simple 1-RTT Handshake): traffic secrets -> key and iv. */
T_CASE(tls_hkdf_rfc8448)
{
    static const struct {
        const char *secret, *key, *iv;
    } v[] = {
        {"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
         "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"}, /* server handshake */
        {"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
         "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"}, /* client handshake */
        {"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
         "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"}, /* server application */
    };
    for (size_t i = 0; i < WW_ARRAY_LEN(v); i++) {
        uint8_t s[32], k[16], iv[12], wk[16], wiv[12];
        T_CHECK(ww_hex_decode(s, sizeof s, v[i].secret, 64) == 32);
        T_CHECK(ww_hex_decode(wk, sizeof wk, v[i].key, 32) == 16);
        T_CHECK(ww_hex_decode(wiv, sizeof wiv, v[i].iv, 24) == 12);
        T_EQ_INT(ww_tls_hkdf_expand_label(k, 16, "SHA256", s, 32, "key", NULL, 0), WW_OK);
        T_EQ_INT(ww_tls_hkdf_expand_label(iv, 12, "SHA256", s, 32, "iv", NULL, 0), WW_OK);
        T_EQ_MEM(k, wk, 16);
        T_EQ_MEM(iv, wiv, 12);
    }
    /* server finished_key = HKDF-Expand-Label(s_hs_traffic, "finished", "", 32) */
    uint8_t s[32], fk[32], want[32];
    T_CHECK(ww_hex_decode(s, sizeof s, v[0].secret, 64) == 32);
    T_CHECK(ww_hex_decode(want, sizeof want,
                          "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8", 64) == 32);
    T_EQ_INT(ww_tls_hkdf_expand_label(fk, 32, "SHA256", s, 32, "finished", NULL, 0), WW_OK);
    T_EQ_MEM(fk, want, 32);
}

T_CASE(tls12_gcm_decrypts_whole_and_byte_by_byte)
{
    static const size_t steps[] = {100000, 1, 3, 7, 64};
    conn c;
    build(&c, 0xc02f);
    for (size_t i = 0; i < WW_ARRAY_LEN(steps); i++) {
        ww_keylog *kl = keylog_with(MS_HEX);
        rec r;
        ww_tls *t = new_tls(kl, &r);
        feed(t, &c, steps[i]);
        T_EQ_INT(r.n[0], strlen(REQ));
        T_EQ_INT(r.n[1], strlen(RESP));
        T_EQ_MEM(r.pt[0], REQ, strlen(REQ));
        T_EQ_MEM(r.pt[1], RESP, strlen(RESP));
        T_EQ_INT(r.anomalies, 0);
        T_EQ_INT(r.handshakes, 1);
        T_EQ_STR(r.info.sni, "example.org");
        T_EQ_STR(r.info.alpn, "h2");
        T_EQ_STR(ww_tls_alpn_offered(t), "h2,http/1.1");
        T_EQ_INT(r.info.version, 0x0303);
        T_EQ_INT(r.info.cipher, 0xc02f);
        T_CHECK(ww_tls_decrypted(t));
        T_CHECK(!ww_tls_undecryptable(t));
        ww_tls_free(t);
        ww_keylog_free(kl);
    }
}

T_CASE(tls12_many_records_per_chunk)
{
    conn c;
    build(&c, 0xc02f);
    /* append 20 more application records to the client side and feed it in one chunk */
    for (int i = 0; i < 20; i++)
        put_enc(&c, 0, 23, (const uint8_t *)"x", 1);
    ww_keylog *kl = keylog_with(MS_HEX);
    rec r;
    ww_tls *t = new_tls(kl, &r);
    ww_tls_data(t, 1, c.b[1], c.n[1], 0);
    ww_tls_data(t, 0, c.b[0], c.n[0], 0);
    T_EQ_INT(r.n[0], strlen(REQ) + 20);
    T_EQ_INT(r.anomalies, 0);
    ww_tls_free(t);
    ww_keylog_free(kl);
}

T_CASE(tls12_wrong_key_is_anomaly_without_plaintext)
{
    conn c;
    build(&c, 0xc02f);
    ww_keylog *kl = keylog_with(MS_BAD);
    rec r;
    ww_tls *t = new_tls(kl, &r);
    feed(t, &c, 100000);
    T_EQ_INT(r.n[0], 0);
    T_EQ_INT(r.n[1], 0);
    T_EQ_INT(r.anomalies, 2); /* once per direction */
    T_EQ_STR(r.last_anomaly, "decrypt-failed");
    T_CHECK(!ww_tls_decrypted(t));
    T_CHECK(ww_tls_undecryptable(t));
    ww_tls_free(t);
    ww_keylog_free(kl);
}

T_CASE(tls12_tampered_record_is_dropped)
{
    conn c;
    build(&c, 0xc02f);
    c.b[1][c.n[1] - 20] ^= 1; /* inside the response's ciphertext */
    ww_keylog *kl = keylog_with(MS_HEX);
    rec r;
    ww_tls *t = new_tls(kl, &r);
    feed(t, &c, 100000);
    T_EQ_INT(r.n[0], strlen(REQ));
    T_EQ_INT(r.n[1], 0);
    T_EQ_INT(r.anomalies, 1);
    T_EQ_STR(r.last_anomaly, "decrypt-failed");
    ww_tls_free(t);
    ww_keylog_free(kl);
}

T_CASE(tls12_key_arrives_late)
{
    conn c;
    build(&c, 0xc02f);
    ww_keylog *kl = ww_keylog_new(NULL);
    rec r;
    ww_tls *t = new_tls(kl, &r);
    /* everything but the server's last record (its application data) */
    size_t last = 5 + 8 + strlen(RESP) + 16;
    ww_tls_data(t, 0, c.b[0], c.n[0], 0);
    ww_tls_data(t, 1, c.b[1], c.n[1] - last, 0);
    T_EQ_INT(r.n[0], 0);
    T_CHECK(ww_tls_undecryptable(t)); /* for now: records wait */
    T_EQ_INT(r.anomalies, 0);
    char line[256];
    snprintf(line, sizeof line, "CLIENT_RANDOM %s %s\n", CR_HEX, MS_HEX);
    ww_keylog_add_text(kl, (const uint8_t *)line, strlen(line));
    ww_tls_data(t, 1, c.b[1] + c.n[1] - last, last, 0);
    T_EQ_INT(r.n[0], strlen(REQ));
    T_EQ_MEM(r.pt[0], REQ, strlen(REQ));
    T_EQ_INT(r.n[1], strlen(RESP));
    T_EQ_INT(r.anomalies, 0);
    T_CHECK(!ww_tls_undecryptable(t));
    ww_tls_free(t);
    ww_keylog_free(kl);
}

T_CASE(tls12_backlog_is_bounded)
{
    conn c;
    build(&c, 0xc02f);
    ww_keylog *kl = ww_keylog_new(NULL);
    rec r;
    ww_tls *t = new_tls(kl, &r);
    feed(t, &c, 100000);
    /* 300 KiB more of client records without a key: over the 256 KiB bound */
    static uint8_t big[16384];
    uint8_t h[5] = {23, 3, 3, 0x40, 0x00};
    for (int i = 0; i < 20; i++) {
        ww_tls_data(t, 0, h, 5, 0);
        ww_tls_data(t, 0, big, sizeof big, 0);
    }
    T_EQ_INT(r.anomalies, 1);
    T_EQ_STR(r.last_anomaly, "no-key");
    T_CHECK(ww_tls_undecryptable(t));
    /* the key now comes too late for the client side, but the server side still decrypts */
    char line[256];
    snprintf(line, sizeof line, "CLIENT_RANDOM %s %s\n", CR_HEX, MS_HEX);
    ww_keylog_add_text(kl, (const uint8_t *)line, strlen(line));
    ww_tls_data(t, 1, NULL, 0, 0);
    T_EQ_INT(r.n[0], 0);
    T_EQ_INT(r.n[1], strlen(RESP));
    ww_tls_free(t);
    ww_keylog_free(kl);
}

T_CASE(tls12_unknown_cipher_suite)
{
    conn c;
    build(&c, 0x1304); /* TLS_AES_128_CCM_SHA256: named, not decrypted */
    ww_keylog *kl = keylog_with(MS_HEX);
    rec r;
    ww_tls *t = new_tls(kl, &r);
    feed(t, &c, 100000);
    T_EQ_INT(r.anomalies, 1);
    T_EQ_STR(r.last_anomaly, "unsupported-cipher");
    T_EQ_INT(r.handshakes, 1);
    T_EQ_INT(r.info.cipher, 0x1304);
    T_EQ_INT(r.n[0] + r.n[1], 0);
    T_CHECK(ww_tls_undecryptable(t));
    ww_tls_free(t);
    ww_keylog_free(kl);

    build(&c, 0xfefe); /* not even named */
    kl = keylog_with(MS_HEX);
    t = new_tls(kl, &r);
    feed(t, &c, 5);
    T_EQ_STR(r.last_anomaly, "unsupported-cipher");
    T_EQ_INT(r.n[0] + r.n[1], 0);
    ww_tls_free(t);
    ww_keylog_free(kl);
}

T_CASE(tls_truncated_record_and_gap)
{
    conn c;
    build(&c, 0xc02f);
    ww_keylog *kl = keylog_with(MS_HEX);
    rec r;
    ww_tls *t = new_tls(kl, &r);
    /* the client's stream stops 10 bytes into its last record, then a gap */
    size_t last = 5 + 8 + strlen(REQ) + 16;
    ww_tls_data(t, 1, c.b[1], c.n[1], 0);
    ww_tls_data(t, 0, c.b[0], c.n[0] - last + 10, 0);
    T_EQ_INT(r.n[0], 0);
    ww_tls_gap(t, 0, 1000, 0);
    T_EQ_INT(r.anomalies, 1);
    T_EQ_STR(r.last_anomaly, "gap");
    ww_tls_data(t, 0, c.b[0] + c.n[0] - last + 10, last - 10, 0); /* ignored now */
    T_EQ_INT(r.n[0], 0);
    T_EQ_INT(r.n[1], strlen(RESP)); /* the other direction is untouched */
    ww_tls_free(t);
    ww_keylog_free(kl);

    /* a record header that is not TLS: one anomaly, the rest ignored */
    t = new_tls(kl = keylog_with(MS_HEX), &r);
    ww_tls_data(t, 0, (const uint8_t *)"\x16\x03\x01\xff\xff junk", 10, 0);
    ww_tls_data(t, 0, c.b[0], c.n[0], 0);
    T_EQ_INT(r.anomalies, 1);
    T_EQ_STR(r.last_anomaly, "bad-record");
    ww_tls_free(t);
    ww_keylog_free(kl);
}

/* Writes the synthetic connection as fuzz_tls seeds when WW_TLS_SEED_DIR is set
 * (how tests/corpus/fuzz_tls/ was made); otherwise checks the encoding only. */
static size_t seed_chunk(uint8_t *out, uint8_t flags, const uint8_t *p, size_t n)
{
    out[0] = flags;
    out[1] = (uint8_t)(n >> 8);
    out[2] = (uint8_t)n;
    if (p != NULL)
        memcpy(out + 3, p, n);
    return 3 + (p != NULL ? n : 0);
}

T_CASE(tls_fuzz_seeds)
{
    static uint8_t buf[16384];
    static const uint8_t modes[] = {0x80, 0x40, 0x06, 0x00};
    conn c;
    build(&c, 0xc02f);
    const char *dir = getenv("WW_TLS_SEED_DIR");
    for (size_t m = 0; m < WW_ARRAY_LEN(modes); m++) {
        size_t k = 0;
        buf[k++] = modes[m];
        k += seed_chunk(buf + k, 0, c.b[0], 200);         /* ClientHello ... */
        k += seed_chunk(buf + k, 1, c.b[1], c.n[1]);      /* the whole server side */
        if (m == 3)
            k += seed_chunk(buf + k, 4, NULL, 100);       /* a gap in the client side */
        else
            k += seed_chunk(buf + k, 0, c.b[0] + 200, c.n[0] - 200);
        T_CHECK(k < sizeof buf);
        if (dir != NULL) {
            char path[512];
            snprintf(path, sizeof path, "%s/synthetic_tls12_%zu", dir, m);
            FILE *f = fopen(path, "wb");
            T_CHECK(f != NULL);
            if (f != NULL) {
                fwrite(buf, 1, k, f);
                fclose(f);
            }
        }
    }
}

/* One budget for the bytes of every session waiting for a key: 40 key-less sessions with
 * 48 KiB waiting each against a 1 MiB budget: bytes waiting never exceed it, the sessions that
 * waited longest are given up first (counted), and a late key still decrypts the newest. */
T_CASE(tls_keywait_budget_shared)
{
    conn c;
    build(&c, 0xc02f);
    ww_keylog *kl = ww_keylog_new(NULL);
    ww_keylog_set_wait_budget(kl, 1u << 20);
    enum { N = 40 };
    static rec rs[N];
    ww_tls *t[N];
    static uint8_t big[16384];
    uint8_t h[5] = {23, 3, 3, 0x40, 0x00};
    bool within = true;
    for (int i = 0; i < N; i++) {
        t[i] = new_tls(kl, &rs[i]);
        feed(t[i], &c, 100000);
        for (int k = 0; k < 3; k++) {
            ww_tls_data(t[i], 0, h, 5, 0);
            ww_tls_data(t[i], 0, big, sizeof big, 0);
        }
        within = within && ww_keylog_wait_stats(kl)->bytes_waiting <= (1u << 20);
    }
    const ww_keywait_stats *ws = ww_keylog_wait_stats(kl);
    T_CHECK(within);
    T_CHECK(ws->bytes_peak <= (1u << 20));
    T_CHECK(ws->evicted >= 20);
    T_CHECK(ws->bytes_evicted >= N * 3 * 16384u - (1u << 20));
    /* the oldest went first: session 0 was given up, the newest still waits */
    T_EQ_STR(rs[0].last_anomaly, "no-key");
    T_EQ_INT(rs[N - 1].anomalies, 0);
    /* the key arrives: the newest session's waiting records decrypt (the big ones are junk:
     * tag failures, but its server side decrypts the response) */
    char line[256];
    snprintf(line, sizeof line, "CLIENT_RANDOM %s %s\n", CR_HEX, MS_HEX);
    ww_keylog_add_text(kl, (const uint8_t *)line, strlen(line));
    ww_tls_data(t[N - 1], 1, NULL, 0, 0);
    T_EQ_INT(rs[N - 1].n[1], strlen(RESP));
    T_EQ_INT(rs[N - 1].n[0], strlen(REQ));
    for (int i = 0; i < N; i++)
        ww_tls_free(t[i]);
    T_EQ_INT(ww_keylog_wait_stats(kl)->bytes_waiting, 0); /* freed sessions leave the budget */
    ww_keylog_free(kl);
}

/* No key can arrive later (classic pcap replay, every -k loaded): nothing is kept after the
 * ServerHello; 4,000 key-less sessions hold no waiting bytes. */
T_CASE(tls_keywait_none_when_no_key_can_come)
{
    conn c;
    build(&c, 0xc02f);
    ww_keylog *kl = ww_keylog_new(NULL);
    ww_keylog_set_keys_may_come(kl, false);
    static uint8_t big[16384];
    uint8_t h[5] = {23, 3, 3, 0x40, 0x00};
    uint64_t most = 0;
    for (int i = 0; i < 4000; i++) {
        rec r;
        ww_tls *t = new_tls(kl, &r);
        feed(t, &c, 100000);
        ww_tls_data(t, 0, h, 5, 0);
        ww_tls_data(t, 0, big, sizeof big, 0);
        if (ww_keylog_wait_stats(kl)->bytes_waiting > most)
            most = ww_keylog_wait_stats(kl)->bytes_waiting;
        if (i == 0) {
            T_CHECK(ww_tls_undecryptable(t));
            T_EQ_STR(r.last_anomaly, "no-key");
        }
        ww_tls_free(t);
    }
    T_EQ_INT(most, 0);
    /* only what came before the ServerHello waited (the client's first records), never more */
    T_CHECK(ww_keylog_wait_stats(kl)->bytes_peak < 1024);
    ww_keylog_free(kl);
}

/* The late-key API: a session whose records wait can still decrypt after its connection closed
 * (the owner keeps it, retries when the key log grows); not when no key can come. */
T_CASE(tls_late_key_api)
{
    conn c;
    build(&c, 0xc02f);
    ww_keylog *kl = ww_keylog_new(NULL);
    T_EQ_INT(ww_keylog_late_key_grace_us(kl), WW_LATE_KEY_GRACE_US);
    ww_keylog_set_late_key_grace_us(kl, 500000);
    T_EQ_INT(ww_keylog_late_key_grace_us(kl), 500000);
    rec r;
    ww_tls *t = new_tls(kl, &r);
    feed(t, &c, 100000); /* the whole connection, no key yet: "closed" now */
    T_CHECK(ww_tls_waiting(t));
    T_CHECK(ww_tls_may_still_decrypt(t));
    T_EQ_INT(r.n[0], 0);
    char line[256];
    snprintf(line, sizeof line, "CLIENT_RANDOM %s %s\n", CR_HEX, MS_HEX);
    ww_keylog_add_text(kl, (const uint8_t *)line, strlen(line));
    ww_tls_retry(t, 5);
    T_EQ_INT(r.n[0], strlen(REQ));
    T_EQ_INT(r.n[1], strlen(RESP));
    T_CHECK(!ww_tls_waiting(t));
    T_CHECK(!ww_tls_may_still_decrypt(t));
    ww_tls_free(t);
    ww_keylog_free(kl);
}

/* ---- a TLS 1.3 record opened piece by piece (ww_tlsc_open_begin / update / final, used for
 * records split over TCP segments) gives what ww_tlsc_open gives on the whole record ---- */

/* Seals pt[0..n) as a TLS 1.3 record (5-byte header, ciphertext, tag) into r13. */
static size_t seal13(int kind, const uint8_t *key, size_t kl, const uint8_t iv[12], uint64_t seq,
                     const uint8_t *pt, size_t n, uint8_t *r13)
{
    uint8_t nonce[12];
    int l = 0;
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
    r13[0] = 23;
    r13[1] = 3;
    r13[2] = 3;
    r13[3] = (uint8_t)((n + 16) >> 8);
    r13[4] = (uint8_t)(n + 16);
    const EVP_CIPHER *ciph = kind == WW_TLSC_CHACHA ? EVP_chacha20_poly1305()
                             : kl == 32             ? EVP_aes_256_gcm()
                                                    : EVP_aes_128_gcm();
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    T_CHECK(EVP_EncryptInit_ex(ctx, ciph, NULL, key, nonce) == 1);
    T_CHECK(EVP_EncryptUpdate(ctx, NULL, &l, r13, 5) == 1);
    T_CHECK(EVP_EncryptUpdate(ctx, r13 + 5, &l, pt, (int)n) == 1);
    T_CHECK(EVP_EncryptFinal_ex(ctx, r13 + 5 + l, &l) == 1);
    T_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, r13 + 5 + n) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return 5 + n + 16;
}

T_CASE(tls13_record_opened_piece_by_piece)
{
    static const struct {
        int kind;
        size_t kl;
    } suites[] = {{WW_TLSC_AES_GCM, 16}, {WW_TLSC_AES_GCM, 32}, {WW_TLSC_CHACHA, 32}};
    static const size_t STEPS[] = {1, 7, 16, 1448, 5000};
    uint8_t key[32], iv[12], pt[3001], r13[3100], whole[3100], got[3100], tag[16];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 29 + 1);
    for (size_t i = 0; i < sizeof iv; i++)
        iv[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof pt; i++)
        pt[i] = (uint8_t)(i * 131 + 5);
    pt[sizeof pt - 1] = 23; /* inner content type */
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        ww_tlsc a = {0}, b = {0};
        T_EQ_INT(ww_tlsc_set_key(&a, suites[s].kind, key, suites[s].kl, iv, 12, NULL, 0, NULL),
                 WW_OK);
        T_EQ_INT(ww_tlsc_set_key(&b, suites[s].kind, key, suites[s].kl, iv, 12, NULL, 0, NULL),
                 WW_OK);
        a.tls13 = b.tls13 = true;
        for (size_t st = 0; st < sizeof STEPS / sizeof STEPS[0]; st++) {
            for (int tamper = 0; tamper < 3; tamper++) { /* none, ciphertext, tag */
                size_t rn = seal13(suites[s].kind, key, suites[s].kl, iv, a.seq, pt, sizeof pt, r13);
                size_t ct_len = rn - 5 - 16, wl = 0;
                if (tamper == 1)
                    r13[5 + 1000] ^= 1;
                else if (tamper == 2)
                    r13[rn - 3] ^= 0x80;
                uint64_t seq0 = a.seq;
                int rw = ww_tlsc_open(&b, whole, sizeof whole, &wl, r13, r13 + 5, rn - 5);
                T_EQ_INT(ww_tlsc_open_begin(&a, r13), WW_OK);
                bool ok = true;
                for (size_t off = 0; off < ct_len; off += STEPS[st]) {
                    size_t k = WW_MIN(STEPS[st], ct_len - off);
                    ok = ok && ww_tlsc_open_update(&a, got + off, r13 + 5 + off, k) == WW_OK;
                }
                memcpy(tag, r13 + 5 + ct_len, 16);
                int rp = ok ? ww_tlsc_open_final(&a, tag) : WW_E_CRYPTO;
                T_EQ_INT(rp, rw);
                T_EQ_INT(rw, tamper == 0 ? WW_OK : WW_E_CRYPTO);
                T_EQ_INT(a.seq, b.seq);
                T_EQ_INT(a.seq, seq0 + (tamper == 0));
                if (tamper == 0) {
                    T_EQ_INT(wl, ct_len);
                    T_CHECK(memcmp(got, whole, ct_len) == 0 && memcmp(got, pt, ct_len) == 0);
                } else {
                    b.seq = a.seq = seq0 + 1; /* as decrypt_failed: the record is skipped */
                }
            }
        }
        ww_tlsc_free(&a);
        ww_tlsc_free(&b);
    }
}
