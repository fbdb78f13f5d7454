/*
 * mkbench_tls.c - writes a large, deterministic classic pcap of TLS 1.3 browsing and its key log
 * for tests/bench.sh (throughput, memory and detection of walletwatch, beside tshark).
 *
 *   build/tools/mkbench_tls OUT.pcap KEYS [MEGABYTES] [--twin CLEAR.pcap]   (default 1100 MB)
 *
 * --twin also writes the cleartext twin (tests/bench_live.sh replays it onto lo): the same
 * connections, requests, bodies and wallet calls without TLS (no handshake, server port 80, the
 * application bytes of each TLS segment sent at its timestamp); OUT.pcap stays byte for byte
 * what it is without --twin (the twin draws nothing from the PRNG).
 *
 * Also writes OUT.pcap.info: what was planted, one "name value" a line (wallet_calls, hijacks,
 * rpc_methods, connections, ...), read by tests/bench.sh to check walletwatch and tshark.
 *
 * The mix (issue 15): MAX_ACTIVE (900) TLS 1.3 connections open at once from N_CLIENTS browsers
 * (10.2.0.0/16) to web servers (10.3.0.x:443), JSON API servers (10.5.0.x:443) and JSON-RPC
 * nodes (10.4.0.x:443). Cipher suites: ~80% TLS_AES_128_GCM_SHA256, ~12%
 * TLS_AES_256_GCM_SHA384, ~8% TLS_CHACHA20_POLY1305_SHA256. ~70% of connections speak HTTP/2
 * (ALPN h2: HPACK by nghttp2's deflater, several streams interleaved frame by frame), the rest
 * HTTP/1.1 keep-alive. Web servers send HTML, CSS, JS bundles (20 KB - 1.5 MB) and images
 * (random bytes: incompressible); API servers send JSON bodies of 10 KB - 2 MB (activity feeds
 * and portfolios: many EVM and Solana addresses from a pool of N_EVM_POOL + N_SOL_POOL), ~45%
 * gzip, ~10% br, ~8% zstd, and now and then a small invoice serving the browser its payees;
 * RPC nodes answer read-only JSON-RPC (eth_blockNumber, eth_getBalance, eth_call, batches).
 * About one RPC request per WALLET_EVERY bytes of capture is a wallet call from a browser that
 * was served an invoice: eth_sendTransaction (value or ERC-20 transfer), eth_sendRawTransaction
 * (EIP-1559, signed with libsecp256k1) or Solana sendTransaction (a System transfer, signed with
 * libsodium). Every HIJACK_EVERY-th wallet call pays a 4+4 lookalike of the served payee
 * instead (a planted hijack: walletwatch must raise exactly one lookalike-recipient for each).
 *
 * TLS: ClientHello / ServerHello in the clear, then the server's EncryptedExtensions (ALPN) +
 * Finished and the client's Finished under the handshake keys, application data under the
 * traffic keys; all secrets are random (deterministic PRNG) and written to KEYS in the NSS key
 * log format (CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_/SERVER_TRAFFIC_SECRET_0); keys
 * and IVs come from them by HKDF-Expand-Label (RFC 8446 7.3, OpenSSL's HKDF), records are
 * sealed with one EVP cipher context per direction. No Certificate (a resumption-like
 * handshake): nothing checks it, and neither tshark nor walletwatch needs it.
 *
 * Deterministic: a fixed-seed xorshift PRNG and a synthetic clock (2025-09-08 12:00 UTC plus a
 * few microseconds per packet); the same size gives the same bytes. Content is built once into
 * pools (and compressed once per coding), so 1 GB takes seconds. IPv4 and TCP checksums are
 * correct.
 */
#include <nghttp2/nghttp2.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include <brotli/encode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "decode/evm_int.h" /* ww_keccak256 */

#define MAX_ACTIVE 900
#define N_CLIENTS 100
#define N_WEB 40
#define N_API 24
#define N_RPC 6
#define SEG 1448
#define REC_MAX 16384
#define Q_CAP (REC_MAX + 256 + SEG)
#define MAX_ITEMS 8
#define HDR_MAX 1024
#define POOL_SIZE (2u << 20)
#define N_EVM_POOL 400
#define N_SOL_POOL 120
#define N_JSON 48
#define N_JS 16
#define N_TEXT 8
#define WALLET_EVERY 3100000ull /* ~320 wallet calls per GB */
#define HIJACK_EVERY 10

static const char UA[] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/128.0.0.0 Safari/537.36";
static const char USDC[] = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
static const char MERCHANT[] = "0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6";
static const char FROM[] = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
static const char HX[] = "0123456789abcdef";

/* ------------------------------------------------------------------ PRNG */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)((rnd() >> 11) % n);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = rnd();
        memcpy(p + i, &v, n - i < 8 ? n - i : 8);
    }
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HX[p[i] >> 4];
        out[2 * i + 1] = HX[p[i] & 15];
    }
    out[2 * n] = 0;
}

static void fatal(const char *what)
{
    fprintf(stderr, "mkbench_tls: %s\n", what);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL)
        fatal("out of memory");
    return p;
}

/* base58 (Bitcoin alphabet) of n bytes; out needs 2n chars */
static void b58(char *out, const uint8_t *p, size_t n)
{
    static const char A[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    uint8_t d[128] = {0};
    size_t nd = 0, z = 0;
    while (z < n && p[z] == 0)
        z++;
    for (size_t i = z; i < n; i++) {
        unsigned carry = p[i];
        for (size_t j = 0; j < nd; j++) {
            carry += (unsigned)d[j] << 8;
            d[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            d[nd++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < z; i++)
        out[k++] = '1';
    for (size_t i = nd; i-- > 0;)
        out[k++] = A[d[i]];
    out[k] = 0;
}

/* base58 text -> 32 bytes; 0 on success */
static int b58_dec32(const char *s, uint8_t out[32])
{
    static const char A[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    uint8_t b[40] = {0};
    for (; *s; s++) {
        const char *q = strchr(A, *s);
        if (!q)
            return -1;
        unsigned carry = (unsigned)(q - A);
        for (int j = 39; j >= 0; j--) {
            carry += 58u * b[j];
            b[j] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry)
            return -1;
    }
    for (int j = 0; j < 8; j++)
        if (b[j])
            return -1;
    memcpy(out, b + 8, 32);
    return 0;
}

/* ------------------------------------------------------------------ pcap writer */
static FILE *pcap_out;
static uint64_t pcap_bytes, pcap_packets;
static uint64_t now_us = 1757332800ull * 1000000ull; /* 2025-09-08 12:00:00 UTC */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static FILE *pcap_open(const char *path)
{
    uint8_t h[24] = {0};
    FILE *out = fopen(path, "wb");
    if (!out)
        fatal("cannot create the pcap");
    setvbuf(out, NULL, _IOFBF, 1u << 22);
    put_le32(h, 0xa1b2c3d4u);
    h[4] = 2;
    h[6] = 4;
    put_le32(h + 16, 262144);
    put_le32(h + 20, 1);
    if (fwrite(h, 1, sizeof h, out) != sizeof h)
        fatal("write error");
    return out;
}

/* one's-complement sum, 16-bit big-endian words, 8 bytes at a time */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s0)
{
    uint64_t s = s0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v = __builtin_bswap64(v);
        s += (v >> 48) + ((v >> 32) & 0xffff) + ((v >> 16) & 0xffff) + (v & 0xffff);
    }
    for (; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)(s & 0xffff) + (uint32_t)(s >> 16);
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* ------------------------------------------------------------------ content */
typedef struct asset {
    const uint8_t *p;
    size_t n;
    const char *ctype;
    const char *enc; /* NULL: identity */
    size_t plain;    /* decoded size (0: n) */
} asset;

static uint8_t *pool_text, *pool_js, *pool_img;
static char evm_pool[N_EVM_POOL][43];
static char sol_pool[N_SOL_POOL][48];
static asset json_as[N_JSON][4]; /* identity, gzip, br, zstd */
static asset js_as[N_JS][3];     /* identity, gzip, br */
static asset html_as[N_TEXT][2], css_as[N_TEXT][2];

static void fill_text(uint8_t *p, size_t n, int js)
{
    static const char *const words[] = {
        "order",   "receipt", "checkout", "network", "merchant", "shipping", "support",
        "account", "total",   "confirm",  "secure",  "delivery", "customer", "review",
        "product", "catalog", "summary",  "gallery", "profile",  "settings"};
    static const char *const js_words[] = {
        "function", "return",  "const",     "let",   "=>",         "this.state", "props",
        "await",    "async",   "Promise",   "null",  "undefined",  "typeof",     "if(",
        "){",       "};",      "document.", "fetch", "JSON.parse", "Object.assign"};
    size_t i = 0;
    while (i < n) {
        const char *w = js ? js_words[rnd_below(20)] : words[rnd_below(20)];
        size_t l = strlen(w);
        for (size_t k = 0; k < l && i < n; k++)
            p[i++] = (uint8_t)w[k];
        if (i < n)
            p[i++] = (rnd_below(12) == 0) ? '\n' : ' ';
    }
}

static void gz_compress(const uint8_t *in, size_t n, uint8_t **out, size_t *on)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    size_t cap = compressBound((uLong)n) + 64;
    *out = xmalloc(cap);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fatal("deflateInit2");
    zs.next_in = (uint8_t *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = *out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        fatal("deflate");
    *on = zs.total_out;
    deflateEnd(&zs);
}

static void br_compress(const uint8_t *in, size_t n, uint8_t **out, size_t *on)
{
    size_t cap = BrotliEncoderMaxCompressedSize(n);
    *out = xmalloc(cap);
    *on = cap;
    if (!BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, n, in, on, *out))
        fatal("brotli");
}

static void zstd_compress(const uint8_t *in, size_t n, uint8_t **out, size_t *on)
{
    size_t cap = ZSTD_compressBound(n);
    *out = xmalloc(cap);
    *on = ZSTD_compress(*out, cap, in, n, 3);
    if (ZSTD_isError(*on))
        fatal("zstd");
}

static void codings(asset *a, int n_enc, const uint8_t *p, size_t n, const char *ctype)
{
    uint8_t *o;
    size_t on;
    a[0] = (asset){p, n, ctype, NULL, n};
    gz_compress(p, n, &o, &on);
    a[1] = (asset){o, on, ctype, "gzip", n};
    if (n_enc > 2) {
        br_compress(p, n, &o, &on);
        a[2] = (asset){o, on, ctype, "br", n};
    }
    if (n_enc > 3) {
        zstd_compress(p, n, &o, &on);
        a[3] = (asset){o, on, ctype, "zstd", n};
    }
}

/* A JSON API body of about n bytes: an activity feed (EVM) or a portfolio (Solana). */
static uint8_t *make_json(size_t n, int sol, size_t *out_n)
{
    uint8_t *p = xmalloc(n + 4096);
    size_t k = 0;
    uint8_t h[32];
    char th[65], sig[100];
    k += (size_t)sprintf((char *)p, sol ? "{\"owner\":\"%s\",\"tokens\":[" :
                                          "{\"address\":\"%s\",\"page\":1,\"items\":[",
                         sol ? sol_pool[rnd_below(N_SOL_POOL)] : evm_pool[rnd_below(N_EVM_POOL)]);
    for (unsigned i = 0; k < n; i++) {
        if (i)
            p[k++] = ',';
        if (sol) {
            rnd_bytes(h, 32);
            uint8_t s64[64];
            rnd_bytes(s64, 64);
            b58(sig, s64, 64);
            k += (size_t)sprintf((char *)p + k,
                                 "{\"mint\":\"%s\",\"account\":\"%s\",\"amount\":\"%llu\","
                                 "\"decimals\":%u,\"lastSignature\":\"%s\",\"slot\":%u,"
                                 "\"symbol\":\"TKN%u\",\"verified\":%s}",
                                 sol_pool[rnd_below(N_SOL_POOL)], sol_pool[rnd_below(N_SOL_POOL)],
                                 (unsigned long long)(rnd() >> 20), 6 + rnd_below(4), sig,
                                 280000000u + rnd_below(1000000), rnd_below(1000),
                                 rnd_below(2) ? "true" : "false");
        } else {
            rnd_bytes(h, 32);
            hex(th, h, 32);
            k += (size_t)sprintf((char *)p + k,
                                 "{\"hash\":\"0x%s\",\"blockNumber\":%u,\"from\":\"%s\","
                                 "\"to\":\"%s\",\"token\":\"%s\",\"symbol\":\"USDC\","
                                 "\"value\":\"%llu\",\"fee\":\"0.000%u\",\"status\":\"%s\","
                                 "\"timestamp\":%u,\"method\":\"transfer\"}",
                                 th, 20700000u + rnd_below(100000), evm_pool[rnd_below(N_EVM_POOL)],
                                 evm_pool[rnd_below(N_EVM_POOL)], evm_pool[rnd_below(64)],
                                 (unsigned long long)(rnd() >> 24), 100 + rnd_below(900),
                                 rnd_below(10) ? "confirmed" : "pending",
                                 1757300000u + rnd_below(30000));
        }
    }
    k += (size_t)sprintf((char *)p + k, "],\"next\":null}");
    *out_n = k;
    return p;
}

static void make_pools(void)
{
    pool_text = xmalloc(POOL_SIZE);
    pool_js = xmalloc(POOL_SIZE);
    pool_img = xmalloc(POOL_SIZE);
    fill_text(pool_text, POOL_SIZE, 0);
    fill_text(pool_js, POOL_SIZE, 1);
    rnd_bytes(pool_img, POOL_SIZE);
    for (int i = 0; i < N_EVM_POOL; i++) {
        uint8_t a[20];
        rnd_bytes(a, 20);
        evm_pool[i][0] = '0';
        evm_pool[i][1] = 'x';
        hex(evm_pool[i] + 2, a, 20);
    }
    for (int i = 0; i < N_SOL_POOL; i++) {
        uint8_t a[32];
        rnd_bytes(a, 32);
        a[0] |= 0x10; /* no leading '1' */
        b58(sol_pool[i], a, 32);
    }
    double sz = 10000;
    for (int i = 0; i < N_JSON; i++, sz *= 1.11934) { /* 10 KB .. 2 MB, log-uniform */
        size_t n;
        uint8_t *p = make_json((size_t)sz, i % 5 == 4, &n);
        codings(json_as[i], 4, p, n, "application/json; charset=utf-8");
    }
    sz = 20000;
    for (int i = 0; i < N_JS; i++, sz *= 1.33) { /* 20 KB .. 1.4 MB */
        size_t off = rnd_below(POOL_SIZE - (uint32_t)sz);
        codings(js_as[i], 3, pool_js + off, (size_t)sz, "application/javascript");
    }
    for (int i = 0; i < N_TEXT; i++) {
        size_t n = 5000 + rnd_below(75000), off = rnd_below(POOL_SIZE - (uint32_t)n);
        codings(html_as[i], 2, pool_text + off, n, "text/html; charset=utf-8");
        n = 5000 + rnd_below(55000);
        off = rnd_below(POOL_SIZE - (uint32_t)n);
        codings(css_as[i], 2, pool_text + off, n, "text/css");
    }
}

/* the payees served to browser c (deterministic) */
static void client_payee(unsigned c, char out[43])
{
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        uint64_t v = mix64(((uint64_t)c << 8) | (unsigned)(i / 16));
        out[2 + i] = HX[(v >> ((i % 16) * 4)) & 15];
    }
    out[42] = 0;
}

static void client_sol_payee(unsigned c, uint8_t pk[32], char text[48])
{
    uint8_t seed[32], sk[64];
    for (int i = 0; i < 4; i++) {
        uint64_t v = mix64(((uint64_t)c << 16) | 0x5000u | (unsigned)i);
        memcpy(seed + 8 * i, &v, 8);
    }
    crypto_sign_seed_keypair(pk, sk, seed);
    b58(text, pk, 32);
}

/* ------------------------------------------------------------------ TLS 1.3 */
static EVP_KDF *hkdf;

static void hkdf_expand_label(uint8_t *out, size_t out_len, const char *md, const uint8_t *secret,
                              size_t sl, const char *label)
{
    uint8_t info[64];
    size_t ll = strlen(label), k = 0;
    info[k++] = (uint8_t)(out_len >> 8);
    info[k++] = (uint8_t)out_len;
    info[k++] = (uint8_t)(6 + ll);
    memcpy(info + k, "tls13 ", 6);
    k += 6;
    memcpy(info + k, label, ll);
    k += ll;
    info[k++] = 0;
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(hkdf);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, sl),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, k),
        OSSL_PARAM_construct_end(),
    };
    if (kc == NULL || EVP_KDF_derive(kc, out, out_len, params) <= 0)
        fatal("HKDF-Expand-Label");
    EVP_KDF_CTX_free(kc);
}

typedef struct suite {
    uint16_t id;
    const char *md;
    size_t hash_len, key_len;
    const EVP_CIPHER *(*cipher)(void);
} suite;

static const suite SUITES[3] = {
    {0x1301, "SHA256", 32, 16, EVP_aes_128_gcm},
    {0x1302, "SHA384", 48, 32, EVP_aes_256_gcm},
    {0x1303, "SHA256", 32, 32, EVP_chacha20_poly1305},
};

typedef struct sealer {
    EVP_CIPHER_CTX *ctx;
    uint8_t iv[12];
    uint64_t seq;
} sealer;

static void sealer_key(sealer *s, const suite *su, const uint8_t *secret)
{
    uint8_t key[32];
    hkdf_expand_label(key, su->key_len, su->md, secret, su->hash_len, "key");
    hkdf_expand_label(s->iv, 12, su->md, secret, su->hash_len, "iv");
    if (s->ctx == NULL && (s->ctx = EVP_CIPHER_CTX_new()) == NULL)
        fatal("EVP_CIPHER_CTX_new");
    if (EVP_EncryptInit_ex(s->ctx, su->cipher(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
        EVP_EncryptInit_ex(s->ctx, NULL, NULL, key, NULL) != 1)
        fatal("EVP_EncryptInit_ex");
    s->seq = 0;
}

/* seals one TLS 1.3 record (inner type ctype) into out; returns its length */
static size_t seal(sealer *s, uint8_t ctype, const uint8_t *pt, size_t n, uint8_t *out)
{
    uint8_t nonce[12];
    int l = 0, l2 = 0;
    size_t clen = n + 1 + 16;
    memcpy(nonce, s->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(s->seq >> (56 - 8 * i));
    s->seq++;
    out[0] = 0x17;
    out[1] = 3;
    out[2] = 3;
    put_be16(out + 3, (unsigned)clen);
    memcpy(out + 5, pt, n);
    out[5 + n] = ctype;
    if (EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, nonce) != 1 ||
        EVP_EncryptUpdate(s->ctx, NULL, &l, out, 5) != 1 ||
        EVP_EncryptUpdate(s->ctx, out + 5, &l, out + 5, (int)n + 1) != 1 ||
        EVP_EncryptFinal_ex(s->ctx, out + 5 + l, &l2) != 1 ||
        EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + 5 + n + 1) != 1)
        fatal("seal");
    return 5 + clen;
}

/* ------------------------------------------------------------------ connections */
enum { K_WEB, K_API, K_RPC };
enum { ST_SYN, ST_REQ, ST_RESP, ST_FIN };

typedef struct item {
    uint8_t hdr[HDR_MAX]; /* h1: the header text; h2: the complete HEADERS frame; raw: bytes */
    size_t hdr_n, hdr_off;
    const uint8_t *body;
    size_t body_n, body_off;
    uint8_t *own; /* body storage owned by the item */
    uint32_t sid; /* h2 stream, 0: raw bytes / h1 */
    int serve;    /* >= 0: this browser was served its payees once the item is sent */
} item;

typedef struct dirq {
    sealer s;
    uint8_t q[Q_CAP];
    size_t q_off, q_n;
    item *it[MAX_ITEMS];
    int n_it, rr;
    int serve_after; /* >= 0: a browser served its payees once the queued record is out */
    nghttp2_hd_deflater *hd;
} dirq;

typedef struct conn {
    uint8_t cli[4], srv[4];
    uint16_t cport;
    uint32_t seq[2];
    uint16_t ipid[2];
    uint32_t tsv[2];
    unsigned client;
    int kind, h2, state, left, unacked, settings_ack;
    uint32_t next_sid;
    const suite *su;
    uint8_t secret_ap[2][48];
    char host[32];
    dirq d[2];
    /* the cleartext twin (--twin): its own sequence numbers and IP ids, and per direction the
     * application bytes produced but not yet sent in it */
    uint32_t tseq[2];
    uint16_t tipid[2];
    uint8_t *tq[2];
    size_t tq_off[2], tq_n[2], tq_cap[2];
} conn;

static conn *active[MAX_ACTIVE];
static uint16_t next_port[N_CLIENTS];
static uint8_t served[N_CLIENTS];
static unsigned recent[64];
static unsigned n_recent;
static uint64_t n_wallet, n_hijack, n_conns, n_invoice, n_rpc_methods, n_h2_conns, n_requests;
static uint64_t body_wire, body_plain, body_coded_wire, body_coded_plain;
static uint64_t n_suite[3], wallet_kind[4], hijack_kind[4], next_wallet = WALLET_EVERY;
static int stopping;
static int live_bulk; /* web and API connections open: RPC traffic goes on while they finish */
static uint64_t pending; /* response bytes queued, not yet sent: stop early enough */
static FILE *keys_out;
static FILE *twin_out; /* --twin: the same sessions without TLS, server port 80 */
static uint64_t twin_bytes, twin_packets;
static secp256k1_context *secp;

static void mac_of(const uint8_t ip[4], uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x42;
    memcpy(mac + 2, ip, 4);
}

/* Writes one TCP segment of c in direction dir with payload p[0..n), TCP timestamps of now_us,
 * captured at rec_us: server port sport, sequence numbers seq[], IP ids ipid[]; returns the
 * bytes written. */
static size_t frame(FILE *out, conn *c, int dir, uint8_t flags, const uint8_t *p, size_t n,
                    unsigned sport, uint32_t seq[2], uint16_t ipid[2], uint64_t rec_us)
{
    uint8_t f[14 + 20 + 40 + SEG];
    const uint8_t *src = dir ? c->srv : c->cli, *dst = dir ? c->cli : c->srv;
    size_t optlen = (flags & 0x02) ? 20 : 12;
    size_t tcplen = 20 + optlen, iplen = 20 + tcplen + n, flen = 14 + iplen;
    uint8_t *ip = f + 14, *t = ip + 20, pseudo[12], rec[16];
    uint32_t tsv = c->tsv[dir] + (uint32_t)(now_us / 1000);

    mac_of(dst, f);
    mac_of(src, f + 6);
    put_be16(f + 12, 0x0800);
    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, (unsigned)iplen);
    put_be16(ip + 4, ipid[dir]++);
    put_be16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    ip[10] = ip[11] = 0;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    put_be16(ip + 10, fold(sum16(ip, 20, 0)));
    put_be16(t, dir ? sport : c->cport);
    put_be16(t + 2, dir ? c->cport : sport);
    put_be32(t + 4, seq[dir]);
    put_be32(t + 8, (flags & 0x10) ? seq[!dir] : 0);
    t[12] = (uint8_t)((tcplen / 4) << 4);
    t[13] = flags;
    put_be16(t + 14, (flags & 0x02) ? 64240 : (dir ? 509 : 501));
    t[16] = t[17] = t[18] = t[19] = 0;
    if (flags & 0x02) {
        static const uint8_t syn[20] = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0,
                                        0, 0, 0, 0, 0,    0, 1, 3, 3, 7};
        memcpy(t + 20, syn, 20);
        put_be32(t + 28, tsv);
        put_be32(t + 32, dir ? c->tsv[0] + (uint32_t)(now_us / 1000) : 0);
    } else {
        t[20] = 1;
        t[21] = 1;
        t[22] = 8;
        t[23] = 10;
        put_be32(t + 24, tsv);
        put_be32(t + 28, c->tsv[!dir] + (uint32_t)(now_us / 1000) - 1);
    }
    if (n)
        memcpy(t + tcplen, p, n);
    memcpy(pseudo, src, 4);
    memcpy(pseudo + 4, dst, 4);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put_be16(pseudo + 10, (unsigned)(tcplen + n));
    put_be16(t + 16, fold(sum16(t, tcplen + n, sum16(pseudo, 12, 0))));

    seq[dir] += (uint32_t)n + ((flags & 0x03) ? 1u : 0u);
    put_le32(rec, (uint32_t)(rec_us / 1000000));
    put_le32(rec + 4, (uint32_t)(rec_us % 1000000));
    put_le32(rec + 8, (uint32_t)flen);
    put_le32(rec + 12, (uint32_t)flen);
    if (fwrite(rec, 1, 16, out) != 16 || fwrite(f, 1, flen, out) != flen)
        fatal("write error");
    return 16 + flen;
}

/* The twin's segments for one TLS segment of n bytes: a segment of the application bytes queued
 * in that direction (all of them when the TLS segment ends a burst or the connection), none
 * while only handshake bytes go, and a segment without payload for SYN, FIN and ACK. */
static void emit_twin(conn *c, int dir, uint8_t flags, size_t n, uint64_t rec_us)
{
    int all = (flags & 0x09) != 0; /* PSH (the end of a burst), FIN */
    while (c->tq_off[dir] < c->tq_n[dir]) {
        size_t take = c->tq_n[dir] - c->tq_off[dir] < SEG ? c->tq_n[dir] - c->tq_off[dir] : SEG;
        int end = c->tq_off[dir] + take == c->tq_n[dir];
        uint8_t fl = (uint8_t)(0x10 | (end && all ? flags & 0x08 : 0));
        twin_bytes += frame(twin_out, c, dir, fl, c->tq[dir] + c->tq_off[dir], take, 80, c->tseq,
                            c->tipid, rec_us);
        twin_packets++;
        c->tq_off[dir] += take;
        if (!all)
            break;
    }
    if (c->tq_off[dir] == c->tq_n[dir])
        c->tq_off[dir] = c->tq_n[dir] = 0;
    if (n == 0 || (flags & 0x03)) {
        twin_bytes += frame(twin_out, c, dir, flags, NULL, 0, 80, c->tseq, c->tipid, rec_us);
        twin_packets++;
    }
}

/* Emits one TCP segment of c in direction dir (0 = to the server) with payload p[0..n), and its
 * cleartext twin. */
static void emit(conn *c, int dir, uint8_t flags, const uint8_t *p, size_t n)
{
    uint64_t rec_us = now_us + 2 + (n >> 9) + rnd_below(3);
    pcap_bytes += frame(pcap_out, c, dir, flags, p, n, 443, c->seq, c->ipid, rec_us);
    pcap_packets++;
    if (twin_out != NULL)
        emit_twin(c, dir, flags, n, rec_us);
    now_us = rec_us;
}

static void keylog(const conn *c, const uint8_t cr[32], const char *label, const uint8_t *s)
{
    char a[65], b[97];
    hex(a, cr, 32);
    hex(b, s, c->su->hash_len);
    fprintf(keys_out, "%s %s %s\n", label, a, b);
}

static size_t put_ext(uint8_t *p, unsigned type, const uint8_t *body, size_t n)
{
    put_be16(p, type);
    put_be16(p + 2, (unsigned)n);
    memcpy(p + 4, body, n);
    return 4 + n;
}

/* appends a plaintext TLS record (handshake or CCS) to q */
static void q_plain(dirq *d, uint8_t type, const uint8_t *p, size_t n)
{
    uint8_t *o = d->q + d->q_n;
    o[0] = type;
    o[1] = 3;
    o[2] = 3;
    put_be16(o + 3, (unsigned)n);
    memcpy(o + 5, p, n);
    d->q_n += 5 + n;
}

/* The handshake flights: ClientHello | ServerHello, CCS, {EE, Finished} | CCS, {Finished} */
static void tls_handshake(conn *c)
{
    uint8_t cr[32], sr[32], sid[32], ks[32], m[512], ext[400], hs[4][48];
    size_t k = 0, e = 0;
    const suite *su = c->su;
    rnd_bytes(cr, 32);
    rnd_bytes(sr, 32);
    rnd_bytes(sid, 32);
    rnd_bytes(ks, 32);
    for (int i = 0; i < 2; i++) {
        rnd_bytes(hs[i], su->hash_len);
        rnd_bytes(c->secret_ap[i], su->hash_len);
    }
    /* ClientHello */
    {
        uint8_t b[64];
        size_t hl = strlen(c->host);
        put_be16(b, (unsigned)(hl + 3));
        b[2] = 0;
        put_be16(b + 3, (unsigned)hl);
        memcpy(b + 5, c->host, hl);
        e += put_ext(ext + e, 0, b, hl + 5);
        static const uint8_t groups[] = {0, 4, 0, 0x1d, 0, 0x17};
        e += put_ext(ext + e, 10, groups, sizeof groups);
        static const uint8_t sigalgs[] = {0, 8, 4, 3, 8, 4, 4, 1, 5, 3};
        e += put_ext(ext + e, 13, sigalgs, sizeof sigalgs);
        static const uint8_t alpn[] = {0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
        e += put_ext(ext + e, 16, alpn, sizeof alpn);
        static const uint8_t vers[] = {2, 3, 4};
        e += put_ext(ext + e, 43, vers, sizeof vers);
        static const uint8_t psk_modes[] = {1, 1};
        e += put_ext(ext + e, 45, psk_modes, sizeof psk_modes);
        put_be16(b, 36);
        put_be16(b + 2, 0x1d);
        put_be16(b + 4, 32);
        memcpy(b + 6, ks, 32);
        e += put_ext(ext + e, 51, b, 38);
    }
    m[k++] = 1;
    k += 3;
    m[k++] = 3;
    m[k++] = 3;
    memcpy(m + k, cr, 32);
    k += 32;
    m[k++] = 32;
    memcpy(m + k, sid, 32);
    k += 32;
    static const uint8_t cs[] = {0, 6, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 1, 0};
    memcpy(m + k, cs, sizeof cs);
    k += sizeof cs;
    put_be16(m + k, (unsigned)e);
    k += 2;
    memcpy(m + k, ext, e);
    k += e;
    put_be24(m + 1, (uint32_t)(k - 4));
    {
        uint8_t *o = c->d[0].q + c->d[0].q_n;
        o[0] = 0x16;
        o[1] = 3;
        o[2] = 1;
        put_be16(o + 3, (unsigned)k);
        memcpy(o + 5, m, k);
        c->d[0].q_n += 5 + k;
    }
    /* ServerHello */
    k = e = 0;
    {
        static const uint8_t vers[] = {3, 4};
        e += put_ext(ext + e, 43, vers, sizeof vers);
        uint8_t b[40];
        put_be16(b, 0x1d);
        put_be16(b + 2, 32);
        rnd_bytes(b + 4, 32);
        e += put_ext(ext + e, 51, b, 36);
    }
    m[k++] = 2;
    k += 3;
    m[k++] = 3;
    m[k++] = 3;
    memcpy(m + k, sr, 32);
    k += 32;
    m[k++] = 32;
    memcpy(m + k, sid, 32);
    k += 32;
    put_be16(m + k, su->id);
    k += 2;
    m[k++] = 0;
    put_be16(m + k, (unsigned)e);
    k += 2;
    memcpy(m + k, ext, e);
    k += e;
    put_be24(m + 1, (uint32_t)(k - 4));
    q_plain(&c->d[1], 0x16, m, k);
    static const uint8_t ccs[1] = {1};
    q_plain(&c->d[1], 0x14, ccs, 1);
    /* {EncryptedExtensions (ALPN), Finished} */
    k = 0;
    m[k++] = 8;
    k += 3;
    const char *proto = c->h2 ? "h2" : "http/1.1";
    size_t pl = strlen(proto);
    put_be16(m + k, (unsigned)(4 + 3 + pl));
    k += 2;
    put_be16(m + k, 16);
    put_be16(m + k + 2, (unsigned)(3 + pl));
    put_be16(m + k + 4, (unsigned)(1 + pl));
    m[k + 6] = (uint8_t)pl;
    memcpy(m + k + 7, proto, pl);
    k += 7 + pl;
    put_be24(m + 1, (uint32_t)(k - 4));
    m[k++] = 20;
    put_be24(m + k, (uint32_t)su->hash_len);
    k += 3;
    rnd_bytes(m + k, su->hash_len);
    k += su->hash_len;
    sealer_key(&c->d[1].s, su, hs[1]);
    c->d[1].q_n += seal(&c->d[1].s, 0x16, m, k, c->d[1].q + c->d[1].q_n);
    sealer_key(&c->d[0].s, su, hs[0]);
    keylog(c, cr, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", hs[0]);
    keylog(c, cr, "SERVER_HANDSHAKE_TRAFFIC_SECRET", hs[1]);
    keylog(c, cr, "CLIENT_TRAFFIC_SECRET_0", c->secret_ap[0]);
    keylog(c, cr, "SERVER_TRAFFIC_SECRET_0", c->secret_ap[1]);
}

/* the client's CCS and {Finished}, after the server's flight */
static void tls_client_finished(conn *c)
{
    static const uint8_t ccs[1] = {1};
    uint8_t m[64];
    size_t k = 0;
    q_plain(&c->d[0], 0x14, ccs, 1);
    m[k++] = 20;
    put_be24(m + k, (uint32_t)c->su->hash_len);
    k += 3;
    rnd_bytes(m + k, c->su->hash_len);
    k += c->su->hash_len;
    c->d[0].q_n += seal(&c->d[0].s, 0x16, m, k, c->d[0].q + c->d[0].q_n);
}

static item *item_add(conn *c, int dir)
{
    dirq *d = &c->d[dir];
    if (d->n_it >= MAX_ITEMS)
        fatal("too many items");
    item *it = calloc(1, sizeof *it);
    if (!it)
        fatal("out of memory");
    it->serve = -1;
    d->it[d->n_it++] = it;
    return it;
}

static void item_done(conn *c, int dir, int i)
{
    dirq *d = &c->d[dir];
    item *it = d->it[i];
    if (it->serve >= 0)
        d->serve_after = it->serve;
    free(it->own);
    free(it);
    memmove(d->it + i, d->it + i + 1, (size_t)(d->n_it - i - 1) * sizeof d->it[0]);
    d->n_it--;
    if (d->rr > i)
        d->rr--;
}

static void item_raw(conn *c, int dir, const uint8_t *p, size_t n)
{
    item *it = item_add(c, dir);
    memcpy(it->hdr, p, n);
    it->hdr_n = n;
}

/* An HTTP/2 stream's HEADERS frame (HPACK by nghttp2) into it->hdr. */
static void h2_headers(conn *c, int dir, item *it, const nghttp2_nv *nv, size_t nn, int end_stream)
{
    ssize_t r = nghttp2_hd_deflate_hd(c->d[dir].hd, it->hdr + 9, HDR_MAX - 9, nv, nn);
    if (r < 0)
        fatal("nghttp2_hd_deflate_hd");
    put_be24(it->hdr, (uint32_t)r);
    it->hdr[3] = 1;
    it->hdr[4] = (uint8_t)(4 | (end_stream ? 1 : 0));
    put_be32(it->hdr + 5, it->sid);
    it->hdr_n = 9 + (size_t)r;
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

/* Queues a request (dir 0); body may be NULL (GET). Returns the stream id (h2) or 0. */
static uint32_t request(conn *c, const char *method, const char *path, uint8_t *body, size_t n)
{
    item *it = item_add(c, 0);
    char len[24];
    snprintf(len, sizeof len, "%zu", n);
    n_requests++;
    if (c->h2) {
        char referer[64];
        snprintf(referer, sizeof referer, "https://%s/", c->host);
        it->sid = c->next_sid;
        c->next_sid += 2;
        nghttp2_nv get[] = {NV(":method", method),
                            NV(":authority", c->host),
                            NV(":scheme", "https"),
                            NV(":path", path),
                            NV("user-agent", UA),
                            NV("accept", body ? "application/json" : "*/*"),
                            NV("referer", referer),
                            NV("accept-encoding", "gzip, deflate, br, zstd"),
                            NV("accept-language", "en-US,en;q=0.9"),
                            NV("content-type", "application/json"),
                            NV("content-length", len)};
        h2_headers(c, 0, it, get, body ? 11 : 9, body == NULL);
    } else {
        it->hdr_n = (size_t)snprintf(
            (char *)it->hdr, HDR_MAX,
            "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\nUser-Agent: %s\r\n"
            "Accept: %s\r\nReferer: https://%s/\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
            "Accept-Language: en-US,en;q=0.9\r\n%s%s%s\r\n",
            method, path, c->host, UA, body ? "application/json" : "*/*", c->host,
            body ? "Content-Type: application/json\r\nContent-Length: " : "", body ? len : "",
            body ? "\r\n" : "");
    }
    it->own = body;
    it->body = body;
    it->body_n = body ? n : 0;
    return it->sid;
}

static void response(conn *c, uint32_t sid, const asset *a, uint8_t *own, int serve)
{
    item *it = item_add(c, 1);
    char len[24];
    snprintf(len, sizeof len, "%zu", a->n);
    it->sid = sid;
    it->serve = serve;
    if (c->h2) {
        nghttp2_nv nv[] = {NV(":status", "200"),
                           NV("server", c->kind == K_RPC ? "cloudflare" : "nginx"),
                           NV("date", "Mon, 08 Sep 2025 12:00:00 GMT"),
                           NV("content-type", a->ctype),
                           NV("content-length", len),
                           NV("cache-control", c->kind == K_WEB ? "max-age=600" : "no-store"),
                           NV("vary", "Accept-Encoding"),
                           NV("content-encoding", a->enc ? a->enc : "")};
        h2_headers(c, 1, it, nv, a->enc ? 8 : 7, 0);
    } else {
        it->hdr_n = (size_t)snprintf(
            (char *)it->hdr, HDR_MAX,
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 08 Sep 2025 12:00:00 GMT\r\n"
            "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s%sConnection: keep-alive\r\n"
            "Cache-Control: %s\r\n\r\n",
            a->ctype, a->n, a->enc ? "Content-Encoding: " : "", a->enc ? a->enc : "",
            a->enc ? "\r\nVary: Accept-Encoding\r\n" : "",
            c->kind == K_WEB ? "max-age=600" : "no-store");
    }
    it->own = own;
    it->body = a->p;
    it->body_n = a->n;
    pending += a->n;
    size_t plain = a->plain ? a->plain : a->n;
    body_wire += a->n;
    body_plain += plain;
    if (a->enc) {
        body_coded_wire += a->n;
        body_coded_plain += plain;
    }
}

/* Produces the next plaintext of direction dir (<= REC_MAX bytes). 0: nothing to send. */
static size_t produce(conn *c, int dir, uint8_t *out)
{
    dirq *d = &c->d[dir];
    size_t n = 0;
    while (d->n_it > 0) {
        if (d->rr >= d->n_it)
            d->rr = 0;
        item *it = d->it[d->rr];
        if (it->hdr_off < it->hdr_n) {
            size_t take = it->hdr_n - it->hdr_off;
            if (!c->h2 || it->sid == 0) {
                take = take < REC_MAX - n ? take : REC_MAX - n;
            } else if (take > REC_MAX - n) {
                break; /* a HEADERS frame stays whole */
            }
            memcpy(out + n, it->hdr + it->hdr_off, take);
            it->hdr_off += take;
            n += take;
        } else if (it->body_off < it->body_n) {
            if (!c->h2 || it->sid == 0) {
                size_t take = it->body_n - it->body_off;
                take = take < REC_MAX - n ? take : REC_MAX - n;
                memcpy(out + n, it->body + it->body_off, take);
                it->body_off += take;
                n += take;
                if (dir == 1)
                    pending -= take;
            } else {
                if (REC_MAX - n < 9 + 256)
                    break;
                size_t take = it->body_n - it->body_off;
                take = take < REC_MAX - n - 9 ? take : REC_MAX - n - 9;
                int last = it->body_off + take == it->body_n;
                put_be24(out + n, (uint32_t)take);
                out[n + 3] = 0;
                out[n + 4] = last ? 1 : 0;
                put_be32(out + n + 5, it->sid);
                memcpy(out + n + 9, it->body + it->body_off, take);
                it->body_off += take;
                if (dir == 1)
                    pending -= take;
                n += 9 + take;
            }
        }
        if (it->hdr_off == it->hdr_n && it->body_off == it->body_n) {
            item_done(c, dir, d->rr);
            if (!c->h2)
                break; /* HTTP/1.1: a record ends with the message */
        } else if (c->h2 && it->sid != 0) {
            d->rr++; /* next stream's turn */
        }
        if (n >= REC_MAX - 64)
            break;
    }
    return n;
}

/* Appends application bytes to the twin's queue of direction dir. */
static void twin_queue(conn *c, int dir, const uint8_t *p, size_t n)
{
    if (c->tq_n[dir] + n > c->tq_cap[dir]) {
        size_t cap = (c->tq_n[dir] + n) * 2;
        uint8_t *q = realloc(c->tq[dir], cap);
        if (q == NULL)
            fatal("out of memory");
        c->tq[dir] = q;
        c->tq_cap[dir] = cap;
    }
    memcpy(c->tq[dir] + c->tq_n[dir], p, n);
    c->tq_n[dir] += n;
}

/* Sends up to burst segments of direction dir. Returns 1 when everything queued was sent. */
static int send_dir(conn *c, int dir, int burst)
{
    dirq *d = &c->d[dir];
    static uint8_t pt[REC_MAX + 64];
    uint8_t seg[SEG];
    while (burst-- > 0) {
        size_t k = 0;
        while (k < SEG) {
            if (d->q_off == d->q_n) {
                d->q_off = d->q_n = 0;
                size_t n = produce(c, dir, pt);
                if (n == 0)
                    break;
                if (twin_out != NULL)
                    twin_queue(c, dir, pt, n);
                d->q_n = seal(&d->s, 0x17, pt, n, d->q);
            }
            size_t take = d->q_n - d->q_off < SEG - k ? d->q_n - d->q_off : SEG - k;
            memcpy(seg + k, d->q + d->q_off, take);
            d->q_off += take;
            k += take;
        }
        if (k == 0)
            return 1;
        int last = d->q_off == d->q_n && d->n_it == 0;
        emit(c, dir, (uint8_t)(0x10 | (last ? 0x08 : 0)), seg, k);
        if (++c->unacked >= 2 || last) {
            emit(c, !dir, 0x10, NULL, 0);
            c->unacked = 0;
        }
        if (d->serve_after >= 0 && d->q_off == d->q_n) {
            served[d->serve_after] = 1;
            recent[n_recent++ % 64] = (unsigned)d->serve_after;
            d->serve_after = -1;
        }
        if (last)
            return 1;
    }
    return d->q_off == d->q_n && d->n_it == 0;
}

static conn *conn_new(void)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        fatal("out of memory");
    uint32_t r = rnd_below(100);
    c->kind = r < 52 ? K_WEB : r < 85 ? K_API : K_RPC;
    c->client = c->kind == K_RPC && n_recent && rnd_below(4) ? recent[rnd_below(n_recent < 64 ? n_recent : 64)]
                                                             : rnd_below(N_CLIENTS);
    c->cli[0] = 10;
    c->cli[1] = 2;
    c->cli[2] = (uint8_t)(c->client / 250);
    c->cli[3] = (uint8_t)(c->client % 250 + 1);
    c->srv[0] = 10;
    c->srv[1] = c->kind == K_WEB ? 3 : c->kind == K_API ? 5 : 4;
    c->srv[2] = 0;
    c->srv[3] = (uint8_t)(1 + rnd_below(c->kind == K_WEB ? N_WEB : c->kind == K_API ? N_API : N_RPC));
    snprintf(c->host, sizeof c->host, "%s%u.example",
             c->kind == K_WEB ? "shop" : c->kind == K_API ? "api" : "rpc", c->srv[3]);
    if (next_port[c->client] < 32768)
        next_port[c->client] = (uint16_t)(32768 + rnd_below(20000));
    c->cport = next_port[c->client]++;
    c->seq[0] = (uint32_t)rnd();
    c->seq[1] = (uint32_t)rnd();
    c->ipid[0] = (uint16_t)rnd();
    c->ipid[1] = (uint16_t)rnd();
    memcpy(c->tseq, c->seq, sizeof c->tseq);
    memcpy(c->tipid, c->ipid, sizeof c->tipid);
    c->tsv[0] = (uint32_t)rnd();
    c->tsv[1] = (uint32_t)rnd();
    c->h2 = rnd_below(10) < 7;
    r = rnd_below(100);
    int s = r < 80 ? 0 : r < 92 ? 1 : 2;
    c->su = &SUITES[s];
    n_suite[s]++;
    c->left = c->kind == K_RPC ? 20 + (int)rnd_below(200) : 4 + (int)rnd_below(40);
    c->next_sid = 1;
    for (int i = 0; i < 2; i++) {
        c->d[i].serve_after = -1;
        if (nghttp2_hd_deflate_new(&c->d[i].hd, 4096) != 0)
            fatal("nghttp2_hd_deflate_new");
    }
    c->state = ST_SYN;
    n_conns++;
    n_h2_conns += (uint64_t)c->h2;
    live_bulk += c->kind != K_RPC;
    return c;
}

static void conn_free(conn *c)
{
    live_bulk -= c->kind != K_RPC;
    for (int i = 0; i < 2; i++) {
        while (c->d[i].n_it > 0)
            item_done(c, i, 0);
        EVP_CIPHER_CTX_free(c->d[i].s.ctx);
        nghttp2_hd_deflate_del(c->d[i].hd);
        free(c->tq[i]);
    }
    free(c);
}

/* ------------------------------------------------------------------ wallet calls */
static size_t rlp_bytes(uint8_t *o, const uint8_t *p, size_t n)
{
    if (n == 1 && p[0] < 0x80) {
        o[0] = p[0];
        return 1;
    }
    if (n <= 55) {
        o[0] = (uint8_t)(0x80 + n);
        memcpy(o + 1, p, n);
        return 1 + n;
    }
    o[0] = 0xb8;
    o[1] = (uint8_t)n;
    memcpy(o + 2, p, n);
    return 2 + n;
}

static size_t rlp_uint(uint8_t *o, uint64_t v)
{
    uint8_t b[8];
    size_t n = 0;
    for (int i = 7; i >= 0; i--)
        if (n || (v >> (8 * i)) & 0xff)
            b[n++] = (uint8_t)(v >> (8 * i));
    if (n == 1 && b[0] < 0x80) {
        o[0] = b[0];
        return 1;
    }
    o[0] = (uint8_t)(0x80 + n);
    memcpy(o + 1, b, n);
    return 1 + n;
}

static size_t rlp_list(uint8_t *o, const uint8_t *items, size_t n)
{
    size_t h;
    if (n <= 55) {
        o[0] = (uint8_t)(0xc0 + n);
        h = 1;
    } else {
        o[0] = 0xf8;
        o[1] = (uint8_t)n;
        h = 2;
    }
    memmove(o + h, items, n);
    return h + n;
}

static void hex_to_bytes(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *a = strchr(HX, h[2 * i]), *b = strchr(HX, h[2 * i + 1]);
        out[i] = (uint8_t)((a - HX) << 4 | (b - HX));
    }
}

/* EIP-1559 transfer to `to` (0x + 40 hex), signed; out: "0x02..." */
static void raw_tx(const char *to, uint64_t nonce, char *out)
{
    uint8_t f[256], l[300], tx[320], h[32], addr[20], rs[64];
    size_t k = 0;
    hex_to_bytes(to + 2, addr, 20);
    k += rlp_uint(f + k, 1);                   /* chainId */
    k += rlp_uint(f + k, nonce);               /* nonce */
    k += rlp_uint(f + k, 1000000000ull);       /* maxPriorityFeePerGas */
    k += rlp_uint(f + k, 30000000000ull);      /* maxFeePerGas */
    k += rlp_uint(f + k, 21000);               /* gas */
    k += rlp_bytes(f + k, addr, 20);           /* to */
    k += rlp_uint(f + k, 50000000000000000ull); /* value 0.05 ETH */
    k += rlp_bytes(f + k, NULL, 0);            /* data */
    f[k++] = 0xc0;                             /* accessList */
    size_t unsigned_k = k;
    l[0] = 2;
    size_t ln = rlp_list(l + 1, f, k);
    ww_keccak256(h, l, 1 + ln);
    uint8_t sk[32];
    for (int i = 0; i < 4; i++) {
        uint64_t v = mix64(0x77aa00u + (unsigned)i);
        memcpy(sk + 8 * i, &v, 8);
    }
    secp256k1_ecdsa_recoverable_signature sig;
    int recid = 0;
    if (!secp256k1_ecdsa_sign_recoverable(secp, &sig, h, sk, NULL, NULL) ||
        !secp256k1_ecdsa_recoverable_signature_serialize_compact(secp, rs, &recid, &sig))
        fatal("secp256k1 sign");
    k = unsigned_k;
    k += rlp_uint(f + k, (uint64_t)recid);
    size_t z = 0;
    while (z < 31 && rs[z] == 0)
        z++;
    k += rlp_bytes(f + k, rs + z, 32 - z);
    z = 32;
    while (z < 63 && rs[z] == 0)
        z++;
    k += rlp_bytes(f + k, rs + z, 64 - z);
    tx[0] = 2;
    ln = rlp_list(tx + 1, f, k);
    out[0] = '0';
    out[1] = 'x';
    hex(out + 2, tx, 1 + ln);
}

/* Solana System transfer from the bench's key to `to`, signed; out: base64 */
static void sol_tx(const uint8_t to[32], uint64_t lamports, char *out)
{
    static uint8_t pk[32], sk[64];
    static int have;
    uint8_t m[256], tx[400];
    size_t k = 0;
    if (!have) {
        uint8_t seed[32];
        memset(seed, 0x42, 32);
        crypto_sign_seed_keypair(pk, sk, seed);
        have = 1;
    }
    m[k++] = 1; /* header: 1 signature, 0 readonly signed, 1 readonly unsigned */
    m[k++] = 0;
    m[k++] = 1;
    m[k++] = 3;
    memcpy(m + k, pk, 32);
    k += 32;
    memcpy(m + k, to, 32);
    k += 32;
    memset(m + k, 0, 32); /* the System program */
    k += 32;
    rnd_bytes(m + k, 32); /* recent blockhash */
    k += 32;
    m[k++] = 1;
    m[k++] = 2; /* program index */
    m[k++] = 2;
    m[k++] = 0;
    m[k++] = 1;
    m[k++] = 12;
    put_le32(m + k, 2);
    k += 4;
    for (int i = 0; i < 8; i++)
        m[k++] = (uint8_t)(lamports >> (8 * i));
    tx[0] = 1;
    crypto_sign_detached(tx + 1, NULL, m, k, sk);
    memcpy(tx + 65, m, k);
    EVP_EncodeBlock((unsigned char *)out, tx, (int)(65 + k));
}

/* a 4+4 lookalike of a served address: same first and last 4 characters */
static void lookalike_evm(const char *a, char *out)
{
    memcpy(out, a, 43);
    for (int i = 6; i < 38; i++) {
        char ch;
        do
            ch = HX[rnd_below(16)];
        while (ch == a[i]);
        out[i] = ch;
    }
}

static void lookalike_sol(const char *a, uint8_t out[32])
{
    static const char A[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    char t[48];
    size_t n = strlen(a);
    for (;;) {
        memcpy(t, a, n + 1);
        for (size_t i = 4; i + 4 < n; i++) {
            char ch;
            do
                ch = A[rnd_below(58)];
            while (ch == a[i]);
            t[i] = ch;
        }
        char back[48];
        if (b58_dec32(t, out) == 0 && (b58(back, out, 32), strcmp(back, t) == 0))
            return;
    }
}

/* The body of a wallet call of browser c (malloc'd), hijacked or not. */
static uint8_t *wallet_call(conn *c, size_t *n)
{
    static unsigned id = 5000;
    char payee[43], to[43], sp[48], big[1024];
    uint8_t spk[32], tpk[32];
    uint8_t *b = xmalloc(2048);
    int hijack = (n_wallet % HIJACK_EVERY) == HIJACK_EVERY / 2;
    int kind = (int)(n_wallet % 4);
    n_wallet++;
    wallet_kind[kind]++;
    if (hijack) {
        n_hijack++;
        hijack_kind[kind]++;
    }
    client_payee(c->client, payee);
    if (hijack)
        lookalike_evm(payee, to);
    else
        memcpy(to, payee, 43);
    switch (kind) {
    case 0:
        *n = (size_t)sprintf((char *)b,
                             "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_sendTransaction\","
                             "\"params\":[{\"from\":\"%s\",\"to\":\"%s\",\"value\":"
                             "\"0xb1a2bc2ec50000\",\"gas\":\"0x5208\"}]}",
                             id++, FROM, to);
        break;
    case 1:
        *n = (size_t)sprintf((char *)b,
                             "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_sendTransaction\","
                             "\"params\":[{\"from\":\"%s\",\"to\":\"%s\",\"data\":\"0xa9059cbb"
                             "000000000000000000000000%s0000000000000000000000000000000000000000"
                             "0000000000000000017d7840\",\"gas\":\"0xfde8\"}]}",
                             id++, FROM, USDC, to + 2);
        break;
    case 2:
        raw_tx(to, n_wallet, big);
        *n = (size_t)sprintf((char *)b,
                             "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_sendRawTransaction\","
                             "\"params\":[\"%s\"]}",
                             id++, big);
        break;
    default:
        client_sol_payee(c->client, spk, sp);
        if (hijack)
            lookalike_sol(sp, tpk);
        else
            memcpy(tpk, spk, 32);
        sol_tx(tpk, 250000000ull, big);
        *n = (size_t)sprintf((char *)b,
                             "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"sendTransaction\","
                             "\"params\":[\"%s\",{\"encoding\":\"base64\"}]}",
                             id++, big);
        break;
    }
    return b;
}

/* ------------------------------------------------------------------ exchanges */
static const char *rpc_call(char *o, unsigned id)
{
    uint32_t r = rnd_below(100);
    if (r < 40)
        sprintf(o, "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_blockNumber\",\"params\":[]}", id);
    else if (r < 70)
        sprintf(o, "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_getBalance\",\"params\":[\"%s\","
                   "\"latest\"]}", id, FROM);
    else
        sprintf(o, "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_call\",\"params\":[{\"to\":\"%s\","
                   "\"data\":\"0x70a08231000000000000000000000000%s\"},\"latest\"]}", id, USDC, FROM + 2);
    n_rpc_methods++;
    return o;
}

static void rpc_exchange(conn *c, uint32_t *sid, uint8_t **rbody, size_t *rn)
{
    static unsigned id = 1;
    uint8_t *b;
    size_t n;
    int batch = 0;
    if (pcap_bytes >= next_wallet && served[c->client]) {
        next_wallet += WALLET_EVERY;
        b = wallet_call(c, &n);
        n_rpc_methods++;
    } else if (rnd_below(8) == 0) { /* a batch of 2..10 read-only calls */
        batch = 2 + (int)rnd_below(9);
        b = xmalloc(4096);
        n = 0;
        b[n++] = '[';
        for (int i = 0; i < batch; i++) {
            char one[400];
            n += (size_t)sprintf((char *)b + n, "%s%s", i ? "," : "", rpc_call(one, id++));
        }
        b[n++] = ']';
    } else {
        char one[400];
        rpc_call(one, id++);
        n = strlen(one);
        b = xmalloc(n + 1);
        memcpy(b, one, n);
    }
    *sid = request(c, "POST", "/", b, n);
    /* the answer */
    uint8_t *a = xmalloc(4096);
    size_t k = 0;
    int cnt = batch ? batch : 1;
    if (batch)
        a[k++] = '[';
    for (int i = 0; i < cnt; i++)
        k += (size_t)sprintf((char *)a + k,
                             "%s{\"jsonrpc\":\"2.0\",\"id\":%u,\"result\":\"0x%016llx\"}",
                             i ? "," : "", id + (unsigned)i, (unsigned long long)(rnd() >> 8));
    if (batch)
        a[k++] = ']';
    *rbody = a;
    *rn = k;
}

/* queues one exchange (h1) or a batch of streams (h2) */
static void exchange(conn *c)
{
    int k = c->h2 ? 1 + (int)rnd_below(c->kind == K_WEB ? 6 : 3) : 1;
    if (c->h2 && c->settings_ack == 1) {
        static const uint8_t ack[9] = {0, 0, 0, 4, 1, 0, 0, 0, 0};
        item_raw(c, 0, ack, 9);
        c->settings_ack = 2;
    }
    for (int i = 0; i < k; i++) {
        uint32_t sid;
        asset a;
        uint8_t *own = NULL;
        int serve = -1;
        uint32_t r = rnd_below(100);
        if (c->kind == K_RPC) {
            size_t n;
            rpc_exchange(c, &sid, &own, &n);
            a = (asset){own, n, "application/json", NULL, 0};
        } else if (c->kind == K_API) {
            if (r < 8) { /* an invoice: serves this browser its payees */
                char payee[43], sp[48];
                uint8_t spk[32];
                client_payee(c->client, payee);
                client_sol_payee(c->client, spk, sp);
                own = xmalloc(1024);
                size_t n = (size_t)sprintf(
                    (char *)own,
                    "{\"invoice\":\"INV-%u\",\"currency\":\"USDC\",\"amount\":\"%u\","
                    "\"payee\":\"%s\",\"merchant\":\"%s\",\"token\":\"%s\",\"solanaPayee\":\"%s\","
                    "\"chainId\":1}",
                    rnd_below(100000), rnd_below(1000000000), payee, MERCHANT, USDC, sp);
                a = (asset){own, n, "application/json; charset=utf-8", NULL, 0};
                serve = (int)c->client;
                n_invoice++;
                char path[32];
                snprintf(path, sizeof path, "/v1/invoice/INV-%u", (unsigned)n_invoice);
                sid = request(c, "GET", path, NULL, 0);
            } else {
                int j = (int)rnd_below(N_JSON);
                uint32_t e = rnd_below(100);
                a = json_as[j][e < 45 ? 1 : e < 55 ? 2 : e < 63 ? 3 : 0];
                static const char *const paths[] = {"/v1/activity", "/v1/portfolio",
                                                    "/v1/tokens", "/v1/history?page=1"};
                sid = request(c, "GET", paths[j & 3], NULL, 0);
            }
        } else {
            static const char *const paths[] = {"/", "/assets/app.js", "/assets/vendor.js",
                                                "/assets/app.css", "/img/hero.jpg",
                                                "/img/thumb.webp", "/favicon.ico"};
            int p = (int)rnd_below(7);
            uint32_t e = rnd_below(100);
            switch (p) {
            case 0:
                a = html_as[rnd_below(N_TEXT)][e < 60];
                break;
            case 1:
            case 2:
                a = js_as[rnd_below(N_JS)][e < 50 ? 1 : e < 80 ? 2 : 0];
                break;
            case 3:
                a = css_as[rnd_below(N_TEXT)][e < 60];
                break;
            case 4:
            case 5: {
                size_t n = r < 10 ? 200000 + rnd_below(400000) : 2000 + rnd_below(120000);
                a = (asset){pool_img + rnd_below(POOL_SIZE - (uint32_t)n), n,
                            p == 4 ? "image/jpeg" : "image/webp", NULL, 0};
                break;
            }
            default:
                a = (asset){pool_img, 1150, "image/x-icon", NULL, 0};
                break;
            }
            sid = request(c, "GET", paths[p], NULL, 0);
        }
        if (c->h2 && c->settings_ack == 0) {
            static const uint8_t st[] = {0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100,
                                         0, 4, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 4, 1, 0, 0, 0, 0};
            item_raw(c, 1, st, sizeof st);
            c->settings_ack = 1;
        }
        response(c, sid, &a, own, serve);
    }
}

static void step(conn *c)
{
    switch (c->state) {
    case ST_SYN:
        emit(c, 0, 0x02, NULL, 0);
        emit(c, 1, 0x12, NULL, 0);
        emit(c, 0, 0x10, NULL, 0);
        tls_handshake(c); /* ClientHello | ServerHello, CCS, {EE, Finished} */
        c->unacked = 0;
        send_dir(c, 0, 1 << 20);
        send_dir(c, 1, 1 << 20);
        tls_client_finished(c); /* sent with the first requests */
        sealer_key(&c->d[0].s, c->su, c->secret_ap[0]);
        sealer_key(&c->d[1].s, c->su, c->secret_ap[1]);
        if (c->h2) {
            static const uint8_t pre[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                         "\0\0\x0c\x04\0\0\0\0\0" "\0\x02\0\0\0\0" "\0\x04\x7f\xff\xff\xff"
                                         "\0\0\x04\x08\0\0\0\0\0" "\x7f\xff\0\0";
            item_raw(c, 0, pre, sizeof pre - 1);
        }
        c->state = ST_REQ;
        return;
    case ST_REQ:
        if (stopping && (c->kind != K_RPC || live_bulk == 0)) {
            c->state = ST_FIN;
            return;
        }
        if (stopping && rnd_below(16) != 0)
            return; /* RPC polling goes on, at its pace, while the bulk transfers finish */
        exchange(c);
        c->unacked = 0;
        send_dir(c, 0, 1 << 20);
        c->unacked = 0;
        c->state = ST_RESP;
        return;
    case ST_RESP:
        if (send_dir(c, 1, 2 + (int)rnd_below(9)))
            c->state = (--c->left <= 0 || (stopping && c->kind != K_RPC)) ? ST_FIN : ST_REQ;
        return;
    default:
        emit(c, 0, 0x11, NULL, 0);
        emit(c, 1, 0x11, NULL, 0);
        emit(c, 0, 0x10, NULL, 0);
        c->state = -1;
        return;
    }
}

int main(int argc, char **argv)
{
    const char *twin = NULL;
    if (argc >= 3 && strcmp(argv[argc - 2], "--twin") == 0) {
        twin = argv[argc - 1];
        argc -= 2;
    }
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: mkbench_tls OUT.pcap KEYS [MEGABYTES (default 1100)] "
                        "[--twin CLEARTEXT.pcap]\n");
        return 2;
    }
    uint64_t target = (argc == 4 ? strtoull(argv[3], NULL, 10) : 1100) * 1000000ull;
    if (target == 0) {
        fprintf(stderr, "mkbench_tls: bad size\n");
        return 2;
    }
    if (sodium_init() < 0)
        fatal("sodium_init");
    hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!hkdf || !secp)
        fatal("OpenSSL HKDF / secp256k1");
    make_pools();
    keys_out = fopen(argv[2], "w");
    if (!keys_out)
        fatal("cannot create the key log");
    pcap_out = pcap_open(argv[1]);
    pcap_bytes = 24;
    if (twin != NULL) {
        twin_out = pcap_open(twin);
        twin_bytes = 24;
    }
    int live = 0;
    for (int i = 0; i < MAX_ACTIVE; i++) {
        active[i] = conn_new();
        live++;
    }
    while (live > 0) {
        int i = (int)rnd_below(MAX_ACTIVE);
        if (!active[i])
            continue;
        step(active[i]);
        if (active[i]->state == -1) {
            conn_free(active[i]);
            active[i] = NULL;
            live--;
            if (!stopping) {
                active[i] = conn_new();
                live++;
            }
        }
        if (!stopping && pcap_bytes + pending + pending / 16 >= target)
            stopping = 1;
    }
    if (fclose(pcap_out) != 0 || fclose(keys_out) != 0 || (twin_out && fclose(twin_out) != 0))
        fatal("write error");
    char info[4096];
    snprintf(info, sizeof info,
             "bytes %llu\npackets %llu\nconnections %llu\nh2_connections %llu\n"
             "aes128gcm %llu\naes256gcm %llu\nchacha20 %llu\nrequests %llu\ninvoices %llu\n"
             "rpc_methods %llu\nwallet_calls %llu\nhijacks %llu\n"
             "send_transaction %llu\nsend_erc20 %llu\nsend_raw %llu\nsolana %llu\n"
             "response_body_bytes %llu\nresponse_body_decoded_bytes %llu\n"
             "coded_body_bytes %llu\ncoded_body_decoded_bytes %llu\n"
             "twin_bytes %llu\ntwin_packets %llu\n",
             (unsigned long long)pcap_bytes, (unsigned long long)pcap_packets,
             (unsigned long long)n_conns, (unsigned long long)n_h2_conns,
             (unsigned long long)n_suite[0], (unsigned long long)n_suite[1],
             (unsigned long long)n_suite[2], (unsigned long long)n_requests,
             (unsigned long long)n_invoice, (unsigned long long)n_rpc_methods,
             (unsigned long long)n_wallet, (unsigned long long)n_hijack,
             (unsigned long long)wallet_kind[0], (unsigned long long)wallet_kind[1],
             (unsigned long long)wallet_kind[2], (unsigned long long)wallet_kind[3],
             (unsigned long long)body_wire, (unsigned long long)body_plain,
             (unsigned long long)body_coded_wire, (unsigned long long)body_coded_plain,
             (unsigned long long)twin_bytes, (unsigned long long)twin_packets);
    char ipath[4096];
    snprintf(ipath, sizeof ipath, "%s.info", argv[1]);
    FILE *f = fopen(ipath, "w");
    if (!f || fputs(info, f) < 0 || fclose(f) != 0)
        fatal("cannot write the .info file");
    printf("mkbench_tls: %s (keys %s):\n%s", argv[1], argv[2], info);
    return 0;
}
