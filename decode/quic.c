/*
 * quic.c - passive QUIC: RFC 9000 (transport), RFC 9001 (TLS for QUIC), RFC 9369 (version 2).
 *
 *   long header:  |1|1|T T|X X X X| Version (32) | DCID Len (8) | DCID (0..160) |
 *                 | SCID Len (8) | SCID (0..160) | [Initial: Token Length (i), Token]
 *                 | Length (i) | Packet Number (8..32) | Protected Payload |
 *   short header: |0|1|S|R R|K|P P| DCID (length known from the connection) |
 *                 | Packet Number (8..32) | Protected Payload |
 *
 * A connection starts with a client Initial whose payload opens with the keys derived from its
 * Destination Connection ID (RFC 9001 5.2; nothing else is taken as QUIC: the AEAD tag decides).
 * Connections are found by the connection IDs each side chose (long headers name them; short
 * headers are matched against every CID length in use), then by 5-tuple for zero-length CIDs;
 * NEW_CONNECTION_ID adds CIDs, a known CID from a new address is a migration.
 *
 * Per packet: header protection removed (AES-ECB or ChaCha20 over a 16-byte sample, RFC 9001
 * 5.4), the packet number recovered (RFC 9000 A.3), the payload opened (AEAD, nonce = iv ^ pn,
 * AAD = the header) into one buffer per ww_quic, frames parsed. Keys: Initial from the DCID;
 * Handshake, 0-RTT and 1-RTT from the key log secrets of the ClientHello's random; key update
 * ("quic ku") on the key phase bit. Packets that need a key we do not have yet wait in a
 * bounded backlog per connection and are retried when the key log grows (ww_quic_tick) and at
 * the end (ww_quic_finish).
 *
 * STREAM data is reassembled per stream and direction by offset (zero copy when in order;
 * out-of-order data held up to per-stream and per-connection caps), CRYPTO data per level
 * (ClientHello: SNI, ALPN, random; ServerHello: cipher; EncryptedExtensions: ALPN).
 * One EVP context per direction and level for AEAD and for header protection, created once;
 * keys are wiped on free.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "decode/quic.h"
#include "decode/tls_int.h"

#include <stdarg.h>

#define MAX_CIDS 16
#define CID_MAX 20
#define CID_HASH 4096u
#define TUPLE_HASH 4096u
#define HS_MSG_MAX (16 * 1024) /* ClientHello / ServerHello / EncryptedExtensions */
#define CRYPTO_OOO_MAX (64 * 1024)
#define PKT_MAX 65536 /* a UDP payload */
#define CLOSED_RING 256
#define FAILS_REPORTED 4
#define OFFSET_MAX ((uint64_t)1 << 62)

enum { LV_INITIAL = 0, LV_ZRTT, LV_HS, LV_AP, LV_COUNT };
enum { SP_INITIAL = 0, SP_HS, SP_AP, SP_COUNT };
static const char *lv_name[LV_COUNT] = {"Initial", "0-RTT", "Handshake", "1-RTT"};

static const uint8_t salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
static const uint8_t salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

const char *ww_quic_version_name(uint32_t v)
{
    if (v == WW_QUIC_V1)
        return "1";
    if (v == WW_QUIC_V2)
        return "2";
    return NULL;
}

/* ---- keys ---- */

typedef struct suite_q {
    uint16_t id;
    int aead; /* WW_TLSC_AES_GCM / WW_TLSC_CHACHA */
    size_t key_len;
    const char *md;
    size_t hash_len;
} suite_q;

static const suite_q *suite_for(uint16_t id)
{
    static const suite_q s[] = {
        {0x1301, WW_TLSC_AES_GCM, 16, "SHA256", 32},
        {0x1302, WW_TLSC_AES_GCM, 32, "SHA384", 48},
        {0x1303, WW_TLSC_CHACHA, 32, "SHA256", 32},
    };
    for (size_t i = 0; i < WW_ARRAY_LEN(s); i++)
        if (s[i].id == id)
            return &s[i];
    return NULL;
}

static const char *lbl(uint32_t version, const char *what)
{
    bool v2 = version == WW_QUIC_V2;
    if (strcmp(what, "key") == 0)
        return v2 ? "quicv2 key" : "quic key";
    if (strcmp(what, "iv") == 0)
        return v2 ? "quicv2 iv" : "quic iv";
    if (strcmp(what, "hp") == 0)
        return v2 ? "quicv2 hp" : "quic hp";
    return v2 ? "quicv2 ku" : "quic ku";
}

int ww_quic_keys_from_secret(ww_quic_keys *out, uint32_t version, uint16_t suite,
                             const uint8_t *secret, size_t secret_len)
{
    const suite_q *s = suite_for(suite);
    if (s == NULL)
        return WW_E_UNSUPPORTED;
    memset(out, 0, sizeof *out);
    out->key_len = s->key_len;
    int rc = ww_tls_hkdf_expand_label(out->key, s->key_len, s->md, secret, secret_len,
                                      lbl(version, "key"), NULL, 0);
    if (rc == WW_OK)
        rc = ww_tls_hkdf_expand_label(out->iv, 12, s->md, secret, secret_len, lbl(version, "iv"),
                                      NULL, 0);
    if (rc == WW_OK)
        rc = ww_tls_hkdf_expand_label(out->hp, s->key_len, s->md, secret, secret_len,
                                      lbl(version, "hp"), NULL, 0);
    return rc;
}

/* client_initial_secret / server_initial_secret (32 bytes) */
static int initial_secret(uint8_t out[32], uint32_t version, bool server, const uint8_t *dcid,
                          size_t dcid_len)
{
    uint8_t is[32];
    if (version != WW_QUIC_V1 && version != WW_QUIC_V2)
        return WW_E_UNSUPPORTED;
    int rc = ww_tls_hkdf_extract(is, 32, "SHA256", version == WW_QUIC_V2 ? salt_v2 : salt_v1, 20,
                                 dcid, dcid_len);
    if (rc == WW_OK)
        rc = ww_tls_hkdf_expand_label(out, 32, "SHA256", is, 32, server ? "server in" : "client in",
                                      NULL, 0);
    ww_wipe(is, sizeof is);
    return rc;
}

int ww_quic_initial_keys(ww_quic_keys *out, uint32_t version, bool server, const uint8_t *dcid,
                         size_t dcid_len)
{
    uint8_t s[32];
    int rc = initial_secret(s, version, server, dcid, dcid_len);
    if (rc == WW_OK)
        rc = ww_quic_keys_from_secret(out, version, 0x1301, s, 32);
    ww_wipe(s, sizeof s);
    return rc;
}

static int hp_mask_ctx(EVP_CIPHER_CTX *ctx, int aead, uint8_t mask[5], const uint8_t sample[16])
{
    uint8_t block[16];
    int l = 0;
    if (aead == WW_TLSC_CHACHA) {
        static const uint8_t zero[5];
        /* counter = sample[0..4) little-endian, nonce = sample[4..16): OpenSSL's 16-byte IV */
        if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, sample) != 1 ||
            EVP_EncryptUpdate(ctx, mask, &l, zero, 5) != 1)
            return WW_E_CRYPTO;
        return WW_OK;
    }
    if (EVP_EncryptUpdate(ctx, block, &l, sample, 16) != 1 || l != 16)
        return WW_E_CRYPTO;
    memcpy(mask, block, 5);
    return WW_OK;
}

static EVP_CIPHER_CTX *hp_ctx_new(EVP_CIPHER_CTX *ctx, int aead, const uint8_t *key, size_t key_len)
{
    const EVP_CIPHER *c = aead == WW_TLSC_CHACHA ? EVP_chacha20()
                          : key_len == 16        ? EVP_aes_128_ecb()
                                                 : EVP_aes_256_ecb();
    if (ctx == NULL && (ctx = EVP_CIPHER_CTX_new()) == NULL)
        return NULL;
    if (EVP_CIPHER_CTX_reset(ctx) != 1 || EVP_EncryptInit_ex(ctx, c, NULL, key, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    return ctx;
}

int ww_quic_hp_mask(uint8_t mask[5], uint16_t suite, const uint8_t *hp_key,
                    const uint8_t sample[16])
{
    const suite_q *s = suite_for(suite);
    if (s == NULL)
        return WW_E_UNSUPPORTED;
    EVP_CIPHER_CTX *ctx = hp_ctx_new(NULL, s->aead, hp_key, s->key_len);
    if (ctx == NULL)
        return WW_E_CRYPTO;
    int rc = hp_mask_ctx(ctx, s->aead, mask, sample);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* ---- state ---- */

typedef struct qseg {
    struct qseg *next;
    uint64_t off;
    size_t len;
    uint8_t data[];
} qseg;

/* one direction of a byte stream (a STREAM or a CRYPTO level) */
typedef struct qrx {
    uint64_t next; /* bytes delivered */
    qseg *ooo;     /* held segments, sorted by offset (may overlap) */
    size_t held;
    uint64_t fin_off;
    bool fin_known, done, broken;
} qrx;

typedef struct qstream {
    uint64_t id;
    qrx rx[2];
} qstream;

/* one direction at one level: packet protection */
typedef struct qkey {
    ww_tlsc aead;
    bool ready;
    uint64_t gen; /* 1-RTT key generation */
    uint8_t secret[WW_KEYLOG_SECRET_MAX];
    size_t secret_len;
} qkey;

typedef struct qhs { /* handshake messages of one direction at one level */
    uint8_t hdr[4];
    uint8_t hdr_have;
    uint32_t len, have;
    bool keep;
    ww_buf msg;
} qhs;

typedef struct qdir {
    qkey lv[LV_COUNT];    /* LV_AP: the current 1-RTT key */
    qkey ap_other;        /* 1-RTT: the next generation, or the previous one */
    int ap_phase;         /* key phase bit of lv[LV_AP] */
    uint64_t ap_first_pn; /* first packet number of the current phase */
    EVP_CIPHER_CTX *hp[LV_COUNT];
    bool hp_ready[LV_COUNT];
    int hp_aead[LV_COUNT];
    uint64_t largest_pn[SP_COUNT];
    bool have_pn[SP_COUNT];
    qrx crypto[LV_COUNT];
    qhs hs[LV_COUNT];
    unsigned fails;
} qdir;

typedef struct qcid {
    struct qcid *hnext;
    struct qconn *conn;
    uint8_t len, role; /* role: the direction of packets carrying it as DCID */
    bool used, retired, has_token;
    uint8_t token[16]; /* its stateless reset token (NEW_CONNECTION_ID) */
    uint64_t seq;
    uint8_t id[CID_MAX];
} qcid;

typedef struct qconn {
    ww_flow flow;              /* first: ww_quic_conn_info casts back */
    struct qconn *tnext;       /* 5-tuple hash chain */
    struct qconn *prev, *next; /* LRU list, oldest first */
    uint64_t touch;            /* packet number (ww_quic_set_seq) that last touched it */
    unsigned tbucket;
    ww_quic_info info;
    uint8_t odcid[CID_MAX];
    uint8_t odcid_len;
    uint8_t client_random[32];
    bool have_cr, have_sh, hs_fired, undecryptable, nokey_reported, closing, reset;
    bool ap_decrypted; /* a 1-RTT (or 0-RTT) packet was opened */
    const suite_q *suite;
    qcid cids[MAX_CIDS];
    qdir d[2];
    qstream **streams;
    size_t n_streams;
    uint64_t closed[CLOSED_RING];
    size_t closed_pos;
    size_t ooo_held;
    ww_buf backlog; /* packets waiting for keys: dir(1) ts(8) len(4) bytes */
    uint64_t kl_gen;
} qconn;

struct ww_quic {
    const ww_mem *mem;
    ww_quic_cfg cfg;
    ww_quic_cbs cbs;
    ww_keylog *kl;
    ww_quic_stats st;
    qcid *cid_hash[CID_HASH];
    qconn *tuple_hash[TUPLE_HASH];
    unsigned cid_lens[CID_MAX + 1]; /* CIDs registered per length */
    qconn *oldest, *newest;
    size_t n_conns;
    uint64_t next_id;
    uint64_t cur_seq; /* ww_quic_set_seq */
    uint64_t kl_gen;
    size_t ooo_total;     /* out-of-order bytes held, all connections */
    size_t backlog_total; /* bytes waiting for keys, all connections */
    uint8_t hdr[PKT_MAX]; /* the unprotected header (AAD) of the packet being opened */
    uint8_t pt[PKT_MAX];  /* its plaintext */
    size_t pt_used;       /* how much of pt was ever written: wiped at the end */
};

/* ---- helpers ---- */

static void q_anomaly(ww_quic *q, qconn *c, uint64_t ts, const char *type, const char *fmt, ...)
    WW_PRINTF(5, 6);
static void q_anomaly(ww_quic *q, qconn *c, uint64_t ts, const char *type, const char *fmt, ...)
{
    char d[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    q->st.anomalies++;
    if (q->cbs.anomaly != NULL)
        q->cbs.anomaly(q->cbs.ud, ts, c != NULL ? &c->flow : NULL, "quic", type, d);
}

/* RFC 9000 16: variable-length integer */
static bool rd_varint(ww_rd *r, uint64_t *v)
{
    uint8_t b;
    if (ww_rd_left(r) < 1)
        return false;
    b = r->p[0];
    size_t n = (size_t)1 << (b >> 6);
    if (ww_rd_left(r) < n)
        return false;
    uint64_t x = b & 0x3f;
    for (size_t i = 1; i < n; i++)
        x = (x << 8) | r->p[i];
    r->p += n;
    *v = x;
    return true;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n, uint32_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static unsigned cid_bucket(const uint8_t *id, size_t len)
{
    return hash_bytes(id, len, 2166136261u ^ (uint32_t)len) % CID_HASH;
}

static unsigned ep_hash(const ww_ip *ip, uint16_t port)
{
    uint32_t h = hash_bytes(ip->a, ip->family == 4 ? 4 : 16, 2166136261u);
    return hash_bytes((const uint8_t[]){(uint8_t)(port >> 8), (uint8_t)port}, 2, h);
}

static unsigned tuple_bucket(const ww_ip *a, uint16_t ap, const ww_ip *b, uint16_t bp)
{
    return (ep_hash(a, ap) ^ ep_hash(b, bp)) % TUPLE_HASH; /* the same both ways */
}

static void tuple_unlink(ww_quic *q, qconn *c)
{
    qconn **pp = &q->tuple_hash[c->tbucket];
    while (*pp != NULL && *pp != c)
        pp = &(*pp)->tnext;
    if (*pp == c)
        *pp = c->tnext;
    c->tnext = NULL;
}

static void tuple_link(ww_quic *q, qconn *c)
{
    c->tbucket = tuple_bucket(&c->flow.cli_ip, c->flow.cli_port, &c->flow.srv_ip, c->flow.srv_port);
    c->tnext = q->tuple_hash[c->tbucket];
    q->tuple_hash[c->tbucket] = c;
}

static qconn *tuple_find(ww_quic *q, const ww_udp_dgram *dg, int *dir)
{
    for (qconn *c = q->tuple_hash[tuple_bucket(&dg->src, dg->sport, &dg->dst, dg->dport)];
         c != NULL; c = c->tnext) {
        if (c->flow.cli_port == dg->sport && c->flow.srv_port == dg->dport &&
            ww_ip_eq(&c->flow.cli_ip, &dg->src) && ww_ip_eq(&c->flow.srv_ip, &dg->dst)) {
            *dir = WW_DIR_TOSERVER;
            return c;
        }
        if (c->flow.srv_port == dg->sport && c->flow.cli_port == dg->dport &&
            ww_ip_eq(&c->flow.srv_ip, &dg->src) && ww_ip_eq(&c->flow.cli_ip, &dg->dst)) {
            *dir = WW_DIR_TOCLIENT;
            return c;
        }
    }
    return NULL;
}

static qcid *cid_find(ww_quic *q, const uint8_t *id, size_t len)
{
    for (qcid *e = q->cid_hash[cid_bucket(id, len)]; e != NULL; e = e->hnext)
        if (e->len == len && memcmp(e->id, id, len) == 0)
            return e;
    return NULL;
}

static void cid_unlink(ww_quic *q, qcid *e)
{
    qcid **pp = &q->cid_hash[cid_bucket(e->id, e->len)];
    while (*pp != NULL && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp == e)
        *pp = e->hnext;
    q->cid_lens[e->len]--;
    e->used = false;
}

/* Registers a CID (len > 0) of c used as DCID by packets of direction role. */
static qcid *cid_add(ww_quic *q, qconn *c, const uint8_t *id, size_t len, int role, uint64_t seq,
                     uint64_t ts)
{
    if (len == 0 || len > CID_MAX)
        return NULL;
    qcid *e = cid_find(q, id, len);
    if (e != NULL) {
        if (e->conn != c) {
            q_anomaly(q, c, ts, "quic-cid-conflict", "connection ID already used by flow %llu",
                      (unsigned long long)e->conn->flow.id);
            return NULL;
        }
        return e;
    }
    qcid *slot = NULL;
    for (int i = 0; i < MAX_CIDS && slot == NULL; i++)
        if (!c->cids[i].used)
            slot = &c->cids[i];
    for (int i = 0; i < MAX_CIDS && slot == NULL; i++)
        if (c->cids[i].retired) {
            cid_unlink(q, &c->cids[i]);
            slot = &c->cids[i];
        }
    if (slot == NULL) {
        q_anomaly(q, c, ts, "quic-cid-limit", "more than %d connection IDs", MAX_CIDS);
        return NULL;
    }
    memset(slot, 0, sizeof *slot);
    slot->conn = c;
    slot->len = (uint8_t)len;
    slot->role = (uint8_t)role;
    slot->seq = seq;
    slot->used = true;
    memcpy(slot->id, id, len);
    unsigned b = cid_bucket(id, len);
    slot->hnext = q->cid_hash[b];
    q->cid_hash[b] = slot;
    q->cid_lens[len]++;
    return slot;
}

/* ---- connections ---- */

static void lru_unlink(ww_quic *q, qconn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        q->oldest = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        q->newest = c->prev;
    c->prev = c->next = NULL;
}

static void lru_push(ww_quic *q, qconn *c)
{
    c->touch = q->cur_seq;
    c->prev = q->newest;
    c->next = NULL;
    if (q->newest != NULL)
        q->newest->next = c;
    else
        q->oldest = c;
    q->newest = c;
}

static void rx_free(ww_quic *q, qconn *c, qrx *rx)
{
    while (rx->ooo != NULL) {
        qseg *s = rx->ooo;
        rx->ooo = s->next;
        c->ooo_held -= s->len;
        q->ooo_total -= s->len;
        ww_free(q->mem, s);
    }
    rx->held = 0;
}

static void key_free(qkey *k)
{
    ww_tlsc_free(&k->aead);
    ww_wipe(k, sizeof *k);
}

static void fire_handshake(ww_quic *q, qconn *c)
{
    if (c->hs_fired)
        return;
    c->hs_fired = true;
    if (q->cbs.handshake != NULL)
        q->cbs.handshake(q->cbs.ud, &c->flow, &c->info);
}

static void conn_free(ww_quic *q, qconn *c)
{
    for (int i = 0; i < MAX_CIDS; i++)
        if (c->cids[i].used)
            cid_unlink(q, &c->cids[i]);
    tuple_unlink(q, c);
    lru_unlink(q, c);
    for (size_t i = 0; i < c->n_streams; i++) {
        rx_free(q, c, &c->streams[i]->rx[0]);
        rx_free(q, c, &c->streams[i]->rx[1]);
        ww_free(q->mem, c->streams[i]);
    }
    ww_free(q->mem, c->streams);
    for (int dir = 0; dir < 2; dir++) {
        qdir *d = &c->d[dir];
        for (int l = 0; l < LV_COUNT; l++) {
            key_free(&d->lv[l]);
            EVP_CIPHER_CTX_free(d->hp[l]);
            rx_free(q, c, &d->crypto[l]);
            ww_buf_free(&d->hs[l].msg);
        }
        key_free(&d->ap_other);
    }
    q->backlog_total -= c->backlog.len;
    ww_wipe(c->backlog.data, c->backlog.len);
    ww_buf_free(&c->backlog);
    q->n_conns--;
    ww_wipe(c, sizeof *c);
    ww_free(q->mem, c);
}

static void conn_close(ww_quic *q, qconn *c, int reason, uint64_t ts)
{
    fire_handshake(q, c);
    if (q->cbs.close != NULL)
        q->cbs.close(q->cbs.ud, &c->flow, reason, ts);
    conn_free(q, c);
}

static qconn *conn_new(ww_quic *q, const ww_udp_dgram *dg, uint32_t version, uint64_t ts)
{
    (void)ts;
    qconn *c = ww_calloc(q->mem, 1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->streams = ww_calloc(q->mem, q->cfg.max_streams, sizeof *c->streams);
    if (c->streams == NULL) {
        ww_free(q->mem, c);
        return NULL;
    }
    c->flow.cli_ip = dg->src;
    c->flow.srv_ip = dg->dst;
    c->flow.cli_port = dg->sport;
    c->flow.srv_port = dg->dport;
    c->flow.first_ts_us = c->flow.last_ts_us = ts;
    c->info.version = version;
    c->kl_gen = ww_keylog_generation(q->kl);
    for (int dir = 0; dir < 2; dir++)
        for (int l = 0; l < LV_COUNT; l++)
            ww_buf_init(&c->d[dir].hs[l].msg, q->mem, HS_MSG_MAX);
    ww_buf_init(&c->backlog, q->mem, q->cfg.max_backlog);
    tuple_link(q, c);
    lru_push(q, c);
    q->n_conns++;
    return c;
}

static void conn_touch(ww_quic *q, qconn *c, uint64_t ts)
{
    if (ts > c->flow.last_ts_us)
        c->flow.last_ts_us = ts;
    c->touch = q->cur_seq;
    if (q->newest != c) {
        lru_unlink(q, c);
        lru_push(q, c);
    }
}

/* ---- key installation ---- */

static int key_install(qkey *k, const suite_q *s, uint32_t version, const uint8_t *secret,
                       size_t secret_len, EVP_CIPHER_CTX **hp, int *hp_aead, bool *hp_ready)
{
    ww_quic_keys ks;
    int rc = ww_quic_keys_from_secret(&ks, version, s->id, secret, secret_len);
    if (rc == WW_OK)
        rc = ww_tlsc_set_key(&k->aead, s->aead, ks.key, ks.key_len, ks.iv, 12, NULL, 0, NULL);
    if (rc == WW_OK && hp != NULL) {
        EVP_CIPHER_CTX *ctx = hp_ctx_new(*hp, s->aead, ks.hp, ks.key_len);
        if (ctx == NULL) {
            *hp = NULL;
            rc = WW_E_CRYPTO;
        } else {
            *hp = ctx;
            *hp_aead = s->aead;
            *hp_ready = true;
        }
    }
    if (rc == WW_OK) {
        k->ready = true;
        memcpy(k->secret, secret, secret_len);
        k->secret_len = secret_len;
    }
    ww_wipe(&ks, sizeof ks);
    return rc;
}

static int install_initial(qconn *c, const uint8_t *dcid, size_t dcid_len)
{
    static const suite_q *s;
    s = suite_for(0x1301);
    for (int dir = 0; dir < 2; dir++) {
        uint8_t sec[32];
        qdir *d = &c->d[dir];
        int rc = initial_secret(sec, c->info.version, dir == WW_DIR_TOCLIENT, dcid, dcid_len);
        if (rc == WW_OK)
            rc = key_install(&d->lv[LV_INITIAL], s, c->info.version, sec, 32, &d->hp[LV_INITIAL],
                             &d->hp_aead[LV_INITIAL], &d->hp_ready[LV_INITIAL]);
        ww_wipe(sec, sizeof sec);
        if (rc != WW_OK)
            return rc;
    }
    return WW_OK;
}

/* Handshake / 0-RTT / 1-RTT keys of (dir, level) from the key log. WW_OK or WW_E_NOKEY. */
static int install_from_log(ww_quic *q, qconn *c, int dir, int lv)
{
    qdir *d = &c->d[dir];
    if (d->lv[lv].ready)
        return WW_OK;
    if (!c->have_cr || q->kl == NULL)
        return WW_E_NOKEY;
    int label;
    const suite_q *s = c->suite;
    if (lv == LV_ZRTT) {
        if (dir != WW_DIR_TOSERVER)
            return WW_E_INVALID;
        label = WW_KL_CLIENT_EARLY;
        /* 0-RTT precedes the ServerHello: its suite is the offered/resumed one; the secret's
         * length tells SHA-384 apart, AES-128-GCM is taken for 32 bytes when unknown */
    } else if (lv == LV_HS) {
        label = dir == WW_DIR_TOSERVER ? WW_KL_CLIENT_HS : WW_KL_SERVER_HS;
    } else {
        label = dir == WW_DIR_TOSERVER ? WW_KL_CLIENT_AP0 : WW_KL_SERVER_AP0;
    }
    if (s == NULL && lv != LV_ZRTT)
        return WW_E_NOKEY; /* the ServerHello (cipher) is not known yet */
    uint8_t sec[WW_KEYLOG_SECRET_MAX];
    size_t sl = ww_keylog_lookup(q->kl, c->client_random, label, sec);
    if (sl == 0)
        return WW_E_NOKEY;
    if (s == NULL)
        s = suite_for(sl == 48 ? 0x1302 : 0x1301);
    int rc = WW_E_CRYPTO;
    if (sl == s->hash_len)
        rc = key_install(&d->lv[lv], s, c->info.version, sec, sl, &d->hp[lv], &d->hp_aead[lv],
                         &d->hp_ready[lv]);
    ww_wipe(sec, sizeof sec);
    return rc;
}

/* 1-RTT key update (RFC 9001 6.1): secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku") */
static int derive_next(qconn *c, const qkey *cur, qkey *next)
{
    uint8_t ns[WW_KEYLOG_SECRET_MAX];
    const suite_q *s = c->suite;
    int rc = ww_tls_hkdf_expand_label(ns, cur->secret_len, s->md, cur->secret, cur->secret_len,
                                      lbl(c->info.version, "ku"), NULL, 0);
    if (rc == WW_OK)
        rc = key_install(next, s, c->info.version, ns, cur->secret_len, NULL, NULL, NULL);
    if (rc == WW_OK)
        next->gen = cur->gen + 1;
    ww_wipe(ns, sizeof ns);
    return rc;
}

/* ---- byte stream reassembly ---- */

typedef void (*deliver_fn)(ww_quic *q, qconn *c, int dir, uint64_t id, const uint8_t *p, size_t n,
                           bool fin, uint64_t ts);

/* Adds [off, off+n) (+fin) to rx; delivers what is in order. cap: ooo bytes for this rx.
 * Returns false when bytes were dropped over a cap. */
static bool rx_add(ww_quic *q, qconn *c, qrx *rx, int dir, uint64_t id, uint64_t off,
                   const uint8_t *p, size_t n, bool fin, size_t cap, deliver_fn fn, uint64_t ts)
{
    if (rx->done || rx->broken)
        return true;
    uint64_t end = off + n;
    if (fin) {
        if ((rx->fin_known && rx->fin_off != end) || end < rx->next) {
            q_anomaly(q, c, ts, "quic-final-size", "stream %llu: final size %llu changed",
                      (unsigned long long)id, (unsigned long long)end);
            return true;
        }
        rx->fin_known = true;
        rx->fin_off = end;
    }
    if (rx->fin_known && end > rx->fin_off) {
        q_anomaly(q, c, ts, "quic-final-size", "stream %llu: data past its final size",
                  (unsigned long long)id);
        return true;
    }
    if (off <= rx->next) {
        if (end > rx->next || (end == rx->next && rx->fin_known && rx->fin_off == end)) {
            size_t skip = (size_t)(rx->next - off);
            rx->next = end;
            /* held segments now inside what was delivered go */
            bool more = rx->ooo != NULL && rx->ooo->off <= rx->next;
            bool fin_now = rx->fin_known && rx->next == rx->fin_off && !more;
            if (fin_now)
                rx->done = true;
            fn(q, c, dir, id, p + skip, n - skip, fin_now, ts);
            while (!rx->done && !rx->broken && rx->ooo != NULL && rx->ooo->off <= rx->next) {
                qseg *s = rx->ooo;
                rx->ooo = s->next;
                rx->held -= s->len;
                c->ooo_held -= s->len;
                q->ooo_total -= s->len;
                uint64_t send = s->off + s->len;
                if (send > rx->next) {
                    size_t k = (size_t)(rx->next - s->off);
                    rx->next = send;
                    more = rx->ooo != NULL && rx->ooo->off <= rx->next;
                    fin_now = rx->fin_known && rx->next == rx->fin_off && !more;
                    if (fin_now)
                        rx->done = true;
                    fn(q, c, dir, id, s->data + k, s->len - k, fin_now, ts);
                } else if (rx->fin_known && rx->next == rx->fin_off && rx->ooo == NULL) {
                    rx->done = true;
                    fn(q, c, dir, id, NULL, 0, true, ts);
                }
                ww_free(q->mem, s);
            }
        }
        return true;
    }
    if (n == 0)
        return true;
    /* out of order: hold a copy, bounded */
    if (rx->held + n > cap || c->ooo_held + n > q->cfg.max_conn_ooo ||
        q->ooo_total + n > q->cfg.max_ooo_bytes) {
        q->st.ooo_dropped_bytes += n;
        q_anomaly(q, c, ts, "quic-ooo-overflow", "stream %llu: %zu out-of-order bytes over the cap",
                  (unsigned long long)id, n);
        return false;
    }
    qseg *s = ww_malloc(q->mem, sizeof *s + n);
    if (s == NULL)
        return false;
    s->off = off;
    s->len = n;
    memcpy(s->data, p, n);
    qseg **pp = &rx->ooo;
    while (*pp != NULL && (*pp)->off <= off)
        pp = &(*pp)->next;
    s->next = *pp;
    *pp = s;
    rx->held += n;
    c->ooo_held += n;
    q->ooo_total += n;
    return true;
}

/* ---- handshake messages in CRYPTO frames ---- */

static void hs_message(ww_quic *q, qconn *c, int dir, int lv, uint8_t type, const uint8_t *p,
                       size_t n, uint64_t ts)
{
    ww_tls_hello h;
    if (type == 1 && dir == WW_DIR_TOSERVER && lv == LV_INITIAL && !c->have_cr) {
        if (ww_tls_hello_parse(&h, 1, p, n) != WW_OK) {
            q_anomaly(q, c, ts, "quic-bad-handshake", "malformed ClientHello");
            return;
        }
        if (h.ext_bad)
            q_anomaly(q, c, ts, "quic-bad-handshake", "malformed ClientHello extensions");
        memcpy(c->client_random, h.random, 32);
        c->have_cr = true;
        memcpy(c->info.sni, h.sni, sizeof c->info.sni);
        size_t k = strcspn(h.alpn, ",");
        if (k < sizeof c->info.alpn) {
            memcpy(c->info.alpn, h.alpn, k);
            c->info.alpn[k] = '\0';
        }
    } else if (type == 2 && dir == WW_DIR_TOCLIENT && lv == LV_INITIAL && !c->have_sh) {
        if (ww_tls_hello_parse(&h, 2, p, n) != WW_OK) {
            q_anomaly(q, c, ts, "quic-bad-handshake", "malformed ServerHello");
            return;
        }
        c->have_sh = true;
        c->info.cipher = h.cipher;
        c->suite = suite_for(h.cipher);
        if (c->suite == NULL)
            q_anomaly(q, c, ts, "quic-unsupported-cipher", "cipher suite 0x%04x", h.cipher);
    } else if (type == 8 && dir == WW_DIR_TOCLIENT && lv == LV_HS) {
        if (ww_tls_hello_parse(&h, 8, p, n) != WW_OK || h.ext_bad)
            q_anomaly(q, c, ts, "quic-bad-handshake", "malformed EncryptedExtensions");
        else if (h.alpn[0] != '\0' && strlen(h.alpn) < sizeof c->info.alpn)
            memcpy(c->info.alpn, h.alpn, sizeof c->info.alpn);
        fire_handshake(q, c);
    }
}

static void crypto_deliver(ww_quic *q, qconn *c, int dir, uint64_t lv64, const uint8_t *p, size_t n,
                           bool fin, uint64_t ts)
{
    int lv = (int)lv64;
    qhs *hs = &c->d[dir].hs[lv];
    (void)fin;
    while (n > 0) {
        if (hs->hdr_have < 4) {
            hs->hdr[hs->hdr_have++] = *p++;
            n--;
            if (hs->hdr_have < 4)
                continue;
            hs->len = (uint32_t)hs->hdr[1] << 16 | (uint32_t)hs->hdr[2] << 8 | hs->hdr[3];
            hs->have = 0;
            uint8_t ty = hs->hdr[0];
            hs->keep = hs->len <= HS_MSG_MAX && (ty == 1 || ty == 2 || ty == 8);
            ww_buf_reset(&hs->msg);
        }
        size_t take = WW_MIN(n, (size_t)(hs->len - hs->have));
        if (hs->keep && ww_buf_append(&hs->msg, p, take) != WW_OK)
            hs->keep = false;
        hs->have += (uint32_t)take;
        p += take;
        n -= take;
        if (hs->have == hs->len) {
            static const uint8_t empty[1];
            if (hs->keep)
                hs_message(q, c, dir, lv, hs->hdr[0], hs->msg.len > 0 ? hs->msg.data : empty,
                           hs->msg.len, ts);
            hs->hdr_have = 0;
            ww_buf_reset(&hs->msg);
        }
    }
}

/* ---- streams ---- */

static void stream_deliver(ww_quic *q, qconn *c, int dir, uint64_t id, const uint8_t *p, size_t n,
                           bool fin, uint64_t ts)
{
    q->st.stream_bytes += n;
    c->flow.bytes[dir] += n;
    if (q->cbs.stream_data != NULL)
        q->cbs.stream_data(q->cbs.ud, &c->flow, dir, id, p, n, fin, ts);
}

static bool stream_closed(const qconn *c, uint64_t id)
{
    for (size_t i = 0; i < CLOSED_RING; i++)
        if (c->closed[i] == id + 1)
            return true;
    return false;
}

static qstream *stream_get(ww_quic *q, qconn *c, uint64_t id, bool create, uint64_t ts)
{
    for (size_t i = 0; i < c->n_streams; i++)
        if (c->streams[i]->id == id)
            return c->streams[i];
    if (!create || stream_closed(c, id))
        return NULL;
    if (c->n_streams >= q->cfg.max_streams) {
        q_anomaly(q, c, ts, "quic-stream-limit", "stream %llu: more than %zu open streams",
                  (unsigned long long)id, q->cfg.max_streams);
        return NULL;
    }
    qstream *s = ww_calloc(q->mem, 1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->id = id;
    /* a unidirectional stream carries nothing the other way */
    if (id & 2) {
        int sender = (id & 1) ? WW_DIR_TOCLIENT : WW_DIR_TOSERVER;
        s->rx[1 - sender].done = true;
    }
    c->streams[c->n_streams++] = s;
    return s;
}

static void stream_maybe_free(ww_quic *q, qconn *c, qstream *s)
{
    if (!(s->rx[0].done || s->rx[0].broken) || !(s->rx[1].done || s->rx[1].broken))
        return;
    for (size_t i = 0; i < c->n_streams; i++) {
        if (c->streams[i] == s) {
            c->streams[i] = c->streams[--c->n_streams];
            break;
        }
    }
    c->closed[c->closed_pos++ % CLOSED_RING] = s->id + 1;
    rx_free(q, c, &s->rx[0]);
    rx_free(q, c, &s->rx[1]);
    ww_free(q->mem, s);
}

/* Direction dir may send on stream id? (RFC 9000 2.1) */
static bool stream_dir_ok(uint64_t id, int dir)
{
    if (!(id & 2))
        return true;
    int sender = (id & 1) ? WW_DIR_TOCLIENT : WW_DIR_TOSERVER;
    return sender == dir;
}

static void stream_frame(ww_quic *q, qconn *c, int dir, uint64_t id, uint64_t off, const uint8_t *p,
                         size_t n, bool fin, uint64_t ts)
{
    if (!stream_dir_ok(id, dir)) {
        q_anomaly(q, c, ts, "quic-stream-direction", "stream %llu: data from the receiver",
                  (unsigned long long)id);
        return;
    }
    qstream *s = stream_get(q, c, id, true, ts);
    if (s == NULL)
        return;
    qrx *rx = &s->rx[dir];
    if (!rx_add(q, c, rx, dir, id, off, p, n, fin, q->cfg.max_stream_ooo, stream_deliver, ts)) {
        /* dropped over a cap: this direction cannot be read in order any more */
        rx->broken = true;
        rx_free(q, c, rx);
        if (q->cbs.stream_reset != NULL)
            q->cbs.stream_reset(q->cbs.ud, &c->flow, dir, id, UINT64_MAX, ts);
    }
    stream_maybe_free(q, c, s);
}

static void stream_reset(ww_quic *q, qconn *c, int dir, uint64_t id, uint64_t err, uint64_t ts)
{
    if (!stream_dir_ok(id, dir))
        return;
    qstream *s = stream_get(q, c, id, true, ts);
    if (s == NULL || s->rx[dir].done || s->rx[dir].broken)
        return;
    s->rx[dir].broken = true;
    rx_free(q, c, &s->rx[dir]);
    if (q->cbs.stream_reset != NULL)
        q->cbs.stream_reset(q->cbs.ud, &c->flow, dir, id, err, ts);
    stream_maybe_free(q, c, s);
}

/* ---- frames (RFC 9000 19) ---- */

/* Returns false when the packet's remaining frames cannot be read (anomaly reported). */
/* What a frame parser found: the frame parsed (or ignored), cut short, or a packet that is not
 * to be read further (an anomaly was raised). */
enum { FR_OK, FR_TRUNC, FR_STOP };

/* ACK / ACK_ECN: ranges and counts skipped */
static int frame_ack(ww_rd *r, uint64_t type)
{
    uint64_t largest, delay, count, first, a, b, cc;
    if (!rd_varint(r, &largest) || !rd_varint(r, &delay) || !rd_varint(r, &count) ||
        !rd_varint(r, &first))
        return FR_TRUNC;
    for (uint64_t i = 0; i < count; i++)
        if (!rd_varint(r, &a) || !rd_varint(r, &b))
            return FR_TRUNC;
    if (type == 0x03 && (!rd_varint(r, &a) || !rd_varint(r, &b) || !rd_varint(r, &cc)))
        return FR_TRUNC;
    return FR_OK;
}

/* CRYPTO: the handshake bytes of level lv, reassembled in order */
static int frame_crypto(ww_quic *q, qconn *c, int dir, int lv, ww_rd *r, uint64_t ts)
{
    uint64_t off, len;
    ww_slice s;
    if (!rd_varint(r, &off) || !rd_varint(r, &len) || !ww_rd_bytes(r, &s, len))
        return FR_TRUNC;
    if (off + len >= OFFSET_MAX) {
        q_anomaly(q, c, ts, "quic-offset-too-large", "CRYPTO offset %llu",
                  (unsigned long long)off);
        return FR_OK;
    }
    if (lv == LV_ZRTT || lv == LV_AP)
        return FR_OK; /* NewSessionTicket and the like: not needed */
    (void)rx_add(q, c, &c->d[dir].crypto[lv], dir, (uint64_t)lv, off, s.ptr, s.len, false,
                 CRYPTO_OOO_MAX, crypto_deliver, ts);
    return FR_OK;
}

/* STREAM (types 0x08-0x0f: OFF, LEN, FIN bits) */
static int frame_stream(ww_quic *q, qconn *c, int dir, int lv, uint64_t pn, uint64_t type,
                        ww_rd *r, uint64_t ts)
{
    uint64_t id, off = 0, len;
    ww_slice s;
    bool has_len = (type & 0x02) != 0, fin = (type & 0x01) != 0;
    if (!rd_varint(r, &id))
        return FR_TRUNC;
    if ((type & 0x04) && !rd_varint(r, &off))
        return FR_TRUNC;
    if (has_len) {
        if (!rd_varint(r, &len) || !ww_rd_bytes(r, &s, len))
            return FR_TRUNC;
    } else {
        (void)ww_rd_bytes(r, &s, ww_rd_left(r));
    }
    if (lv != LV_ZRTT && lv != LV_AP) {
        q_anomaly(q, c, ts, "quic-frame-not-allowed", "STREAM in a %s packet", lv_name[lv]);
        return FR_STOP;
    }
    if (q->cbs.stream_frame != NULL)
        q->cbs.stream_frame(q->cbs.ud, &c->flow, dir, pn, id, off, s.len, has_len, fin);
    if (off > OFFSET_MAX - 1 - s.len) {
        q_anomaly(q, c, ts, "quic-offset-too-large", "stream %llu: offset %llu + %zu",
                  (unsigned long long)id, (unsigned long long)off, s.len);
        return FR_OK;
    }
    stream_frame(q, c, dir, id, off, s.ptr, s.len, fin, ts);
    return FR_OK;
}

/* NEW_CONNECTION_ID: seq, retire prior to, len(8), cid, token(16) */
static int frame_new_cid(ww_quic *q, qconn *c, int dir, ww_rd *r, uint64_t ts)
{
    uint64_t seq, prior;
    uint8_t cl;
    ww_slice id, tok;
    if (!rd_varint(r, &seq) || !rd_varint(r, &prior) || !ww_rd_u8(r, &cl) ||
        !ww_rd_bytes(r, &id, cl) || !ww_rd_bytes(r, &tok, 16))
        return FR_TRUNC;
    if (cl < 1 || cl > CID_MAX || prior > seq) {
        q_anomaly(q, c, ts, "quic-bad-frame", "NEW_CONNECTION_ID length %u", cl);
        return FR_STOP;
    }
    /* a CID of the sender: the peer sends to it (packets of the other direction) */
    qcid *e = cid_add(q, c, id.ptr, id.len, 1 - dir, seq, ts);
    if (e != NULL) {
        memcpy(e->token, tok.ptr, 16);
        e->has_token = true;
    }
    return FR_OK;
}

/* One frame of type `type` (read already) of a packet of level lv. */
static int frame_one(ww_quic *q, qconn *c, int dir, int lv, uint64_t pn, uint64_t type, ww_rd *r,
                     uint64_t ts)
{
    uint64_t a, b, cc, len;
    switch (type) {
    case 0x01: /* PING */
    case 0x1e: /* HANDSHAKE_DONE */
        return FR_OK;
    case 0x02:
    case 0x03:
        return frame_ack(r, type);
    case 0x04: /* RESET_STREAM: id, error, final size */
        if (!rd_varint(r, &a) || !rd_varint(r, &b) || !rd_varint(r, &cc))
            return FR_TRUNC;
        stream_reset(q, c, dir, a, b, ts);
        return FR_OK;
    case 0x05: /* STOP_SENDING */
    case 0x11: /* MAX_STREAM_DATA */
    case 0x15: /* STREAM_DATA_BLOCKED */
        return rd_varint(r, &a) && rd_varint(r, &b) ? FR_OK : FR_TRUNC;
    case 0x06:
        return frame_crypto(q, c, dir, lv, r, ts);
    case 0x07: /* NEW_TOKEN */
    case 0x31: /* DATAGRAM with a length (RFC 9221) */
        return rd_varint(r, &len) && ww_rd_skip(r, len) ? FR_OK : FR_TRUNC;
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x0e:
    case 0x0f:
        return frame_stream(q, c, dir, lv, pn, type, r, ts);
    case 0x10: /* MAX_DATA */
    case 0x12:
    case 0x13: /* MAX_STREAMS */
    case 0x14: /* DATA_BLOCKED */
    case 0x16:
    case 0x17: /* STREAMS_BLOCKED */
        return rd_varint(r, &a) ? FR_OK : FR_TRUNC;
    case 0x19: /* RETIRE_CONNECTION_ID */
        if (!rd_varint(r, &a))
            return FR_TRUNC;
        /* the sender no longer uses the peer's CID seq a as DCID: it is kept (late packets)
         * and replaced first when room is needed */
        for (int i = 0; i < MAX_CIDS; i++)
            if (c->cids[i].used && c->cids[i].role == dir && c->cids[i].seq == a)
                c->cids[i].retired = true;
        return FR_OK;
    case 0x18:
        return frame_new_cid(q, c, dir, r, ts);
    case 0x1a: /* PATH_CHALLENGE */
    case 0x1b: /* PATH_RESPONSE */
        return ww_rd_skip(r, 8) ? FR_OK : FR_TRUNC;
    case 0x1c:
    case 0x1d: /* CONNECTION_CLOSE */
        if (!rd_varint(r, &a) || (type == 0x1c && !rd_varint(r, &b)) || !rd_varint(r, &len) ||
            !ww_rd_skip(r, len))
            return FR_TRUNC;
        c->closing = true;
        return FR_OK;
    case 0x30: /* DATAGRAM (RFC 9221), to the end of the packet */
        (void)ww_rd_skip(r, ww_rd_left(r));
        return FR_OK;
    default:
        q_anomaly(q, c, ts, "quic-unknown-frame", "frame type 0x%llx in %s packet %llu",
                  (unsigned long long)type, lv_name[lv], (unsigned long long)pn);
        return FR_STOP;
    }
}

static bool parse_frames(ww_quic *q, qconn *c, int dir, int lv, uint64_t pn, const uint8_t *p,
                         size_t n, uint64_t ts)
{
    ww_rd r = ww_rd_init(p, n);
    if (n == 0) {
        q_anomaly(q, c, ts, "quic-empty-packet", "%s packet %llu without frames", lv_name[lv],
                  (unsigned long long)pn);
        return false;
    }
    while (ww_rd_left(&r) > 0) {
        uint64_t type;
        int rc = rd_varint(&r, &type) ? FR_OK : FR_TRUNC;
        if (rc == FR_OK && type == 0x00) { /* PADDING: skip the run */
            while (ww_rd_left(&r) > 0 && r.p[0] == 0)
                r.p++;
            continue;
        }
        if (rc == FR_OK)
            rc = frame_one(q, c, dir, lv, pn, type, &r, ts);
        if (rc == FR_STOP)
            return false;
        if (rc == FR_TRUNC) {
            q_anomaly(q, c, ts, "quic-bad-frame", "%s packet %llu: frame cut short", lv_name[lv],
                      (unsigned long long)pn);
            return false;
        }
    }
    return true;
}

/* ---- packets ---- */

/* RFC 9000 A.3 */
static uint64_t decode_pn(uint64_t largest, bool have, uint64_t truncated, unsigned nbits)
{
    uint64_t expected = have ? largest + 1 : 0;
    uint64_t win = (uint64_t)1 << nbits, hwin = win / 2, mask = win - 1;
    uint64_t cand = (expected & ~mask) | truncated;
    if (cand + hwin <= expected && cand < ((uint64_t)1 << 62) - win)
        return cand + win;
    if (cand > expected + hwin && cand >= win)
        return cand - win;
    return cand;
}

static int long_type_level(uint32_t version, unsigned t)
{
    /* v1: 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry; v2: 1 Initial, 2 0-RTT, 3 Handshake, 0 Retry */
    if (version == WW_QUIC_V2)
        t = (t + 3) & 3;
    switch (t) {
    case 0:
        return LV_INITIAL;
    case 1:
        return LV_ZRTT;
    case 2:
        return LV_HS;
    default:
        return -1; /* Retry */
    }
}

static int space_of(int lv)
{
    return lv == LV_INITIAL ? SP_INITIAL : lv == LV_HS ? SP_HS : SP_AP;
}

static void backlog_add(ww_quic *q, qconn *c, int dir, const uint8_t *p, size_t n, size_t sdl,
                        uint64_t ts)
{
    uint8_t h[13];
    h[0] = (uint8_t)(dir | (sdl << 1));
    for (int i = 0; i < 8; i++)
        h[1 + i] = (uint8_t)(ts >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        h[9 + i] = (uint8_t)(n >> (24 - 8 * i));
    if (c->backlog.len + sizeof h + n > c->backlog.cap ||
        q->backlog_total + sizeof h + n > q->cfg.max_backlog_total) {
        q->st.no_key++;
        if (!c->nokey_reported) {
            c->nokey_reported = true;
            q_anomaly(q, c, ts, "quic-no-key", "packets waiting for a key over %zu bytes",
                      c->backlog.cap);
        }
        c->undecryptable = true;
        return;
    }
    size_t before = c->backlog.len;
    if (ww_buf_append(&c->backlog, h, sizeof h) != WW_OK ||
        ww_buf_append(&c->backlog, p, n) != WW_OK) {
        c->backlog.len = before;
        return;
    }
    q->backlog_total += c->backlog.len - before;
}

/* Removes header protection (RFC 9001 5.4) of a packet of level lv: q->hdr gets the header as
 * sent (the AAD), *hl its length, *first its first byte, *pn the full packet number. */
static int unprotect(ww_quic *q, qconn *c, qdir *d, int lv, bool is_long, const uint8_t *p,
                     size_t n, size_t pn_off, uint64_t ts, bool probe, size_t *hl, uint8_t *first,
                     uint64_t *pn)
{
    if (pn_off + 4 + 16 > n) {
        if (!probe)
            q_anomaly(q, c, ts, "quic-packet-too-short", "%s packet of %zu bytes: no sample",
                      lv_name[lv], n);
        return WW_E_INVALID;
    }
    uint8_t mask[5];
    if (hp_mask_ctx(d->hp[lv], d->hp_aead[lv], mask, p + pn_off + 4) != WW_OK)
        return WW_E_CRYPTO;
    *first = (uint8_t)(p[0] ^ (mask[0] & (is_long ? 0x0f : 0x1f)));
    unsigned pn_len = (*first & 3) + 1u;
    *hl = pn_off + pn_len;
    if (*hl + 16 > n) {
        if (!probe)
            q_anomaly(q, c, ts, "quic-packet-too-short", "%s packet of %zu bytes", lv_name[lv], n);
        return WW_E_INVALID;
    }
    memcpy(q->hdr, p, *hl);
    q->hdr[0] = *first;
    uint64_t tpn = 0;
    for (unsigned i = 0; i < pn_len; i++) {
        q->hdr[pn_off + i] = (uint8_t)(p[pn_off + i] ^ mask[1 + i]);
        tpn = (tpn << 8) | q->hdr[pn_off + i];
    }
    int sp = space_of(lv);
    *pn = decode_pn(d->largest_pn[sp], d->have_pn[sp], tpn, pn_len * 8);
    return WW_OK;
}

/* The 1-RTT keys for a packet whose key phase bit is in first (RFC 9001 6): the current ones, the
 * previous generation for a late packet, or the next (*next: a key update if it opens). */
static int ap_keys(qconn *c, qdir *d, uint8_t first, uint64_t pn, qkey **k, bool *next)
{
    *k = &d->lv[LV_AP];
    *next = false;
    if ((int)((first >> 2) & 1) == d->ap_phase)
        return WW_OK;
    if (d->ap_other.ready && d->ap_other.gen + 1 == (*k)->gen && pn < d->ap_first_pn) {
        *k = &d->ap_other; /* a late packet of the previous phase */
        return WW_OK;
    }
    if ((!d->ap_other.ready || d->ap_other.gen != (*k)->gen + 1) &&
        derive_next(c, *k, &d->ap_other) != WW_OK)
        return WW_E_CRYPTO;
    *k = &d->ap_other;
    *next = true;
    return WW_OK;
}

/* A packet that did not open: a stateless reset (RFC 9000 10.3: ends with a token the sender
 * gave; WW_OK), or a decryption failure, counted and reported (the first few). */
static int open_failed(ww_quic *q, qconn *c, qdir *d, int dir, int lv, bool is_long,
                       const uint8_t *p, size_t n, uint64_t pn, uint64_t ts)
{
    if (!is_long && n >= 21) {
        for (int i = 0; i < MAX_CIDS; i++) {
            const qcid *e = &c->cids[i];
            if (e->used && e->has_token && CRYPTO_memcmp(e->token, p + n - 16, 16) == 0) {
                q->st.stateless_resets++;
                c->closing = c->reset = true;
                return WW_OK;
            }
        }
    }
    q->st.decrypt_failed++;
    d->fails++;
    if (lv == LV_AP)
        c->undecryptable = true;
    if (d->fails <= FAILS_REPORTED)
        q_anomaly(q, c, ts, "quic-decrypt-failed", "%s packet %llu (%s)", lv_name[lv],
                  (unsigned long long)pn, dir == WW_DIR_TOSERVER ? "client" : "server");
    return WW_E_CRYPTO;
}

/* A packet opened: a key update takes effect (the old generation kept for late packets), the
 * packet number space moves on. */
static void opened(ww_quic *q, qconn *c, qdir *d, int lv, uint64_t pn, bool key_update)
{
    if (key_update) {
        qkey tmp = d->lv[LV_AP];
        d->lv[LV_AP] = d->ap_other;
        d->ap_other = tmp;
        d->ap_phase ^= 1;
        d->ap_first_pn = pn;
        q->st.key_updates++;
    }
    d->fails = 0;
    int sp = space_of(lv);
    if (!d->have_pn[sp] || pn > d->largest_pn[sp]) {
        d->largest_pn[sp] = pn;
        d->have_pn[sp] = true;
    }
    q->st.decrypted++;
    if (lv == LV_AP || lv == LV_ZRTT)
        c->ap_decrypted = true;
    if (lv == LV_AP)
        fire_handshake(q, c); /* EncryptedExtensions may never be seen (no handshake keys) */
}

/*
 * One packet (p/n exactly its bytes; for long headers the Length has been checked).
 * pn_off: bytes before the packet number; lv: level. Returns WW_OK, WW_E_NOKEY (backlogged),
 * or another WW_E_* (anomaly reported). probe: only whether it opens (no state changes).
 */
static int open_packet(ww_quic *q, qconn *c, int dir, int lv, bool is_long, const uint8_t *p,
                       size_t n, size_t pn_off, uint64_t ts, bool probe)
{
    size_t sdl = is_long ? 0 : pn_off - 1;
    qdir *d = &c->d[dir];
    if (lv == LV_ZRTT && dir != WW_DIR_TOSERVER) {
        q_anomaly(q, c, ts, "quic-bad-packet", "0-RTT packet from the server");
        return WW_E_INVALID;
    }
    if ((!d->lv[lv].ready && lv != LV_INITIAL && install_from_log(q, c, dir, lv) != WW_OK) ||
        !d->lv[lv].ready || !d->hp_ready[lv]) {
        backlog_add(q, c, dir, p, n, sdl, ts);
        return WW_E_NOKEY;
    }
    size_t hl;
    uint8_t first;
    uint64_t pn;
    int rc = unprotect(q, c, d, lv, is_long, p, n, pn_off, ts, probe, &hl, &first, &pn);
    if (rc != WW_OK)
        return rc;
    qkey *k = &d->lv[lv];
    bool key_update = false;
    if (lv == LV_AP && ap_keys(c, d, first, pn, &k, &key_update) != WW_OK)
        return WW_E_CRYPTO;
    size_t pt_len = 0;
    q->pt_used = WW_MIN(WW_MAX(q->pt_used, n - hl), sizeof q->pt);
    rc = ww_tlsc_open_aad(&k->aead, q->pt, sizeof q->pt, &pt_len, q->hdr, hl, pn, p + hl, n - hl);
    if (probe) {
        ww_wipe(q->pt, pt_len);
        return rc;
    }
    if (rc != WW_OK)
        return open_failed(q, c, d, dir, lv, is_long, p, n, pn, ts);
    opened(q, c, d, lv, pn, key_update);
    (void)parse_frames(q, c, dir, lv, pn, q->pt, pt_len, ts);
    return WW_OK;
}

static void drain_backlog(ww_quic *q, qconn *c, uint64_t ts);

/*
 * The packets of one datagram for connection c (direction dir). from_backlog: p is one packet
 * re-presented from the backlog.
 */
static void packets(ww_quic *q, qconn *c, int dir, const uint8_t *p, size_t n, size_t sdl,
                    uint64_t ts)
{
    ww_rd r = ww_rd_init(p, n);
    while (ww_rd_left(&r) > 0) {
        const uint8_t *start = r.p;
        uint8_t b;
        (void)ww_rd_u8(&r, &b);
        if (b == 0 && start != p) {
            /* zero padding after coalesced packets */
            break;
        }
        q->st.packets++;
        if (b & 0x80) {
            uint32_t ver;
            uint8_t dl, sl;
            ww_slice dcid, scid, tok;
            uint64_t tl = 0, len;
            if (!ww_rd_be32(&r, &ver) || !ww_rd_u8(&r, &dl) || !ww_rd_bytes(&r, &dcid, dl) ||
                !ww_rd_u8(&r, &sl) || !ww_rd_bytes(&r, &scid, sl)) {
                q_anomaly(q, c, ts, "quic-truncated", "long header cut at %zu bytes",
                          (size_t)(r.end - start));
                return;
            }
            if (ver == 0)
                return; /* Version Negotiation */
            if (ver != c->info.version) {
                q_anomaly(q, c, ts, "quic-version-mismatch", "version 0x%08x in a %s connection",
                          ver, ww_quic_version_name(c->info.version));
                return;
            }
            if (dl > CID_MAX || sl > CID_MAX) {
                q_anomaly(q, c, ts, "quic-bad-header", "connection ID of %u bytes",
                          dl > CID_MAX ? dl : sl);
                return;
            }
            int lv = long_type_level(ver, (b >> 4) & 3);
            if (lv < 0) { /* Retry: the client's next Initial uses its SCID */
                if (dir == WW_DIR_TOCLIENT && sl > 0) {
                    cid_add(q, c, scid.ptr, scid.len, WW_DIR_TOSERVER, 0, ts);
                    if (install_initial(c, scid.ptr, scid.len) != WW_OK)
                        q_anomaly(q, c, ts, "quic-bad-packet", "Retry: key derivation failed");
                    c->d[0].have_pn[SP_INITIAL] = c->d[1].have_pn[SP_INITIAL] = false;
                }
                return;
            }
            if (lv == LV_INITIAL && (!rd_varint(&r, &tl) || !ww_rd_bytes(&r, &tok, tl))) {
                q_anomaly(q, c, ts, "quic-truncated", "Initial token cut");
                return;
            }
            if (!rd_varint(&r, &len)) {
                q_anomaly(q, c, ts, "quic-truncated", "long header cut before its length");
                return;
            }
            if (len > ww_rd_left(&r)) {
                q_anomaly(q, c, ts, "quic-bad-length",
                          "%s packet length %llu, %zu bytes left in the datagram", lv_name[lv],
                          (unsigned long long)len, ww_rd_left(&r));
                return;
            }
            size_t pn_off = (size_t)(r.p - start);
            /* the server's CID, as it names itself (the client then sends to it) */
            if (dir == WW_DIR_TOCLIENT && sl > 0 && cid_find(q, scid.ptr, scid.len) == NULL)
                cid_add(q, c, scid.ptr, scid.len, WW_DIR_TOSERVER, 0, ts);
            if (dir == WW_DIR_TOSERVER && sl > 0 && cid_find(q, scid.ptr, scid.len) == NULL)
                cid_add(q, c, scid.ptr, scid.len, WW_DIR_TOCLIENT, 0, ts);
            (void)open_packet(q, c, dir, lv, true, start, pn_off + (size_t)len, pn_off, ts, false);
            r.p += len;
        } else {
            /* short header: the DCID length was found by the caller (sdl) */
            size_t dl = sdl;
            if ((b & 0x40) == 0) {
                q_anomaly(q, c, ts, "quic-bad-header", "short header without the fixed bit");
                return;
            }
            if (1 + dl > n - (size_t)(start - p)) {
                q_anomaly(q, c, ts, "quic-truncated", "short header cut");
                return;
            }
            size_t plen = (size_t)(r.end - start);
            (void)open_packet(q, c, dir, LV_AP, false, start, plen, 1 + dl, ts, false);
            return; /* a short header packet runs to the end of the datagram */
        }
        if (c->closing)
            return;
    }
}

static void drain_backlog(ww_quic *q, qconn *c, uint64_t ts)
{
    if (c->backlog.len == 0)
        return;
    ww_buf b = c->backlog; /* take it: packets that still lack keys are appended anew */
    ww_buf_init(&c->backlog, q->mem, q->cfg.max_backlog);
    q->backlog_total -= b.len;
    ww_rd r = ww_rd_init(b.data, b.len);
    while (ww_rd_left(&r) >= 13) {
        uint8_t h0 = 0;
        uint64_t pts = 0;
        uint32_t len = 0;
        ww_slice pk;
        (void)ww_rd_u8(&r, &h0);
        for (int i = 0; i < 8; i++)
            pts = (pts << 8) | r.p[i];
        r.p += 8;
        (void)ww_rd_be32(&r, &len);
        if (!ww_rd_bytes(&r, &pk, len))
            break;
        packets(q, c, h0 & 1, pk.ptr, pk.len, (size_t)(h0 >> 1), pts);
        if (c->closing)
            break;
    }
    (void)ts;
    ww_wipe(b.data, b.len);
    ww_buf_free(&b);
}

/* Is this a client Initial of a new connection? Its first packet must open with the keys of
 * its DCID (the AEAD tag decides); otherwise nothing is kept and nothing reported. */
static qconn *try_new_conn(ww_quic *q, const ww_udp_dgram *dg)
{
    ww_rd r = ww_rd_init(dg->payload, dg->len);
    uint8_t b, dl, sl;
    uint32_t ver;
    uint64_t tl, len;
    ww_slice dcid, scid, tok;
    if (!ww_rd_u8(&r, &b) || (b & 0xc0) != 0xc0 || !ww_rd_be32(&r, &ver) ||
        (ver != WW_QUIC_V1 && ver != WW_QUIC_V2) ||
        long_type_level(ver, (b >> 4) & 3) != LV_INITIAL || !ww_rd_u8(&r, &dl) || dl < 8 ||
        dl > CID_MAX || !ww_rd_bytes(&r, &dcid, dl) || !ww_rd_u8(&r, &sl) || sl > CID_MAX ||
        !ww_rd_bytes(&r, &scid, sl) || !rd_varint(&r, &tl) || !ww_rd_bytes(&r, &tok, tl) ||
        !rd_varint(&r, &len) || len > ww_rd_left(&r))
        return NULL;
    size_t pn_off = (size_t)(r.p - dg->payload);
    qconn *c = conn_new(q, dg, ver, dg->ts_us);
    if (c == NULL)
        return NULL;
    memcpy(c->odcid, dcid.ptr, dl);
    c->odcid_len = dl;
    if (install_initial(c, dcid.ptr, dcid.len) != WW_OK ||
        open_packet(q, c, WW_DIR_TOSERVER, LV_INITIAL, true, dg->payload, pn_off + (size_t)len,
                    pn_off, dg->ts_us, true) != WW_OK) {
        conn_free(q, c);
        return NULL;
    }
    /* it is QUIC: make room (the least recently used connection goes) */
    while (q->n_conns > q->cfg.max_conns && q->oldest != NULL && q->oldest != c) {
        q->st.evicted++;
        q_anomaly(q, q->oldest, dg->ts_us, "quic-conn-evicted", "connection table full (%zu)",
                  q->cfg.max_conns);
        conn_close(q, q->oldest, WW_CLOSE_EVICT, dg->ts_us);
    }
    c->flow.id = q->cbs.next_flow_id != NULL ? q->cbs.next_flow_id(q->cbs.ud) : ++q->next_id;
    q->st.conns++;
    cid_add(q, c, dcid.ptr, dcid.len, WW_DIR_TOSERVER, 0, dg->ts_us);
    if (q->cbs.open != NULL)
        q->cbs.open(q->cbs.ud, &c->flow, dg->ts_us);
    return c;
}

bool ww_quic_datagram(ww_quic *q, const ww_udp_dgram *dg)
{
    WW_ASSERT(q != NULL && dg != NULL);
    q->st.datagrams++;
    const uint8_t *p = dg->payload;
    size_t n = dg->len;
    if (n < 1) {
        q->st.not_quic++;
        return false;
    }
    qconn *c = NULL;
    int dir = WW_DIR_TOSERVER;
    bool by_cid = false;
    size_t sdl = 0;
    if (p[0] & 0x80) {
        ww_rd r = ww_rd_init(p, n);
        uint8_t b, dl;
        uint32_t ver;
        ww_slice dcid;
        if (ww_rd_u8(&r, &b) && ww_rd_be32(&r, &ver) && ww_rd_u8(&r, &dl) && dl <= CID_MAX &&
            ww_rd_bytes(&r, &dcid, dl)) {
            if (dl > 0) {
                qcid *e = cid_find(q, dcid.ptr, dl);
                if (e != NULL) {
                    c = e->conn;
                    dir = e->role;
                    by_cid = true;
                }
            }
        }
    } else if (p[0] & 0x40) {
        for (size_t l = 1; l <= CID_MAX && l < n; l++) {
            if (q->cid_lens[l] == 0)
                continue;
            qcid *e = cid_find(q, p + 1, l);
            if (e != NULL) {
                c = e->conn;
                dir = e->role;
                by_cid = true;
                sdl = l;
                break;
            }
        }
    }
    bool fresh = false;
    if (c == NULL && (p[0] & 0x80)) {
        /* an unknown DCID in a long header: a new connection's client Initial (even on a
         * 5-tuple in use: ports are reused) */
        c = try_new_conn(q, dg);
        fresh = c != NULL;
        dir = WW_DIR_TOSERVER;
    }
    if (c == NULL)
        c = tuple_find(q, dg, &dir); /* zero-length connection IDs */
    if (c == NULL) {
        q->st.not_quic++;
        return false;
    }
    uint64_t ts = dg->ts_us;
    if (fresh) {
        /* announced by try_new_conn */
    } else if (by_cid) {
        /* a known CID from another address: migration (or NAT rebinding) */
        const ww_ip *src = dir == WW_DIR_TOSERVER ? &c->flow.cli_ip : &c->flow.srv_ip;
        uint16_t sport = dir == WW_DIR_TOSERVER ? c->flow.cli_port : c->flow.srv_port;
        if (sport != dg->sport || !ww_ip_eq(src, &dg->src)) {
            tuple_unlink(q, c);
            if (dir == WW_DIR_TOSERVER) {
                c->flow.cli_ip = dg->src;
                c->flow.cli_port = dg->sport;
                c->flow.srv_ip = dg->dst;
                c->flow.srv_port = dg->dport;
            } else {
                c->flow.srv_ip = dg->src;
                c->flow.srv_port = dg->sport;
                c->flow.cli_ip = dg->dst;
                c->flow.cli_port = dg->dport;
            }
            tuple_link(q, c);
            q->st.migrations++;
        }
    }
    conn_touch(q, c, ts);
    bool had_cr = c->have_cr, had_sh = c->have_sh;
    packets(q, c, dir, p, n, sdl, ts);
    if (dg->len < dg->wire_len)
        q_anomaly(q, c, ts, "snaplen-truncated", "UDP datagram cut (%u of %u bytes)", dg->len,
                  dg->wire_len);
    if (c->closing) {
        conn_close(q, c, c->reset ? WW_CLOSE_RST : WW_CLOSE_FIN, ts);
        return true;
    }
    if ((c->have_cr != had_cr || c->have_sh != had_sh) && c->backlog.len > 0)
        drain_backlog(q, c, ts);
    if (c->closing)
        conn_close(q, c, c->reset ? WW_CLOSE_RST : WW_CLOSE_FIN, ts);
    return true;
}

void ww_quic_tick(ww_quic *q, uint64_t now_us)
{
    ww_quic_tick_keys(q, now_us);
    ww_quic_tick_idle(q, now_us);
}

void ww_quic_tick_keys(ww_quic *q, uint64_t now_us)
{
    WW_ASSERT(q != NULL);
    uint64_t gen = ww_keylog_generation(q->kl);
    if (gen != q->kl_gen) {
        q->kl_gen = gen;
        for (qconn *c = q->oldest, *nx; c != NULL; c = nx) {
            nx = c->next;
            if (c->backlog.len > 0) {
                drain_backlog(q, c, now_us);
                if (c->closing)
                    conn_close(q, c, c->reset ? WW_CLOSE_RST : WW_CLOSE_FIN, now_us);
            }
        }
    }
}

void ww_quic_tick_idle(ww_quic *q, uint64_t now_us)
{
    WW_ASSERT(q != NULL);
    /* every idle connection, oldest touched first, whatever the others' state */
    for (qconn *c = q->oldest, *nx; c != NULL; c = nx) {
        nx = c->next;
        if (c->flow.last_ts_us + q->cfg.idle_timeout_us < now_us)
            conn_close(q, c, WW_CLOSE_TIMEOUT, now_us);
    }
}

void ww_quic_set_seq(ww_quic *q, uint64_t seq)
{
    q->cur_seq = seq;
}

uint64_t ww_quic_flow_touch(const ww_flow *f)
{
    return ((const qconn *)(const void *)f)->touch;
}

void ww_quic_finish(ww_quic *q, uint64_t now_us)
{
    WW_ASSERT(q != NULL);
    while (q->oldest != NULL) {
        qconn *c = q->oldest;
        if (c->backlog.len > 0) {
            drain_backlog(q, c, now_us);
            if (c->backlog.len > 0) {
                size_t pk = 0;
                ww_rd r = ww_rd_init(c->backlog.data, c->backlog.len);
                while (ww_rd_left(&r) >= 13) {
                    uint32_t len = 0;
                    r.p += 9;
                    (void)ww_rd_be32(&r, &len);
                    if (!ww_rd_skip(&r, len))
                        break;
                    pk++;
                }
                q->st.no_key += pk;
                c->undecryptable = true;
                q_anomaly(q, c, now_us, "quic-no-key", "%zu packets never got a key", pk);
            }
        }
        conn_close(q, c, WW_CLOSE_END, now_us);
    }
}

const ww_quic_info *ww_quic_conn_info(const ww_flow *f)
{
    return &((const qconn *)(const void *)f)->info;
}

bool ww_quic_conn_decrypted(const ww_flow *f)
{
    return ((const qconn *)(const void *)f)->ap_decrypted;
}

bool ww_quic_conn_undecryptable(const ww_flow *f)
{
    return ((const qconn *)(const void *)f)->undecryptable;
}

const ww_quic_stats *ww_quic_stats_get(const ww_quic *q)
{
    return &q->st;
}

ww_quic *ww_quic_new(const ww_mem *mem, const ww_quic_cfg *cfg, const ww_quic_cbs *cbs,
                     ww_keylog *kl)
{
    ww_quic *q = ww_calloc(mem, 1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->mem = mem;
    if (cfg != NULL)
        q->cfg = *cfg;
    if (q->cfg.max_conns == 0)
        q->cfg.max_conns = 4096;
    if (q->cfg.max_streams == 0)
        q->cfg.max_streams = 256;
    if (q->cfg.max_stream_ooo == 0)
        q->cfg.max_stream_ooo = (size_t)1 << 20;
    if (q->cfg.max_conn_ooo == 0)
        q->cfg.max_conn_ooo = (size_t)4 << 20;
    if (q->cfg.max_backlog == 0)
        q->cfg.max_backlog = 256 * 1024;
    if (q->cfg.max_ooo_bytes == 0)
        q->cfg.max_ooo_bytes = (size_t)256 << 20;
    if (q->cfg.max_backlog_total == 0)
        q->cfg.max_backlog_total = (size_t)64 << 20;
    if (q->cfg.idle_timeout_us == 0)
        q->cfg.idle_timeout_us = 60ull * 1000000;
    if (cbs != NULL)
        q->cbs = *cbs;
    q->kl = kl;
    q->kl_gen = ww_keylog_generation(kl);
    return q;
}

void ww_quic_free(ww_quic *q)
{
    if (q == NULL)
        return;
    ww_quic_cbs none = {0};
    q->cbs = none;
    while (q->oldest != NULL)
        conn_close(q, q->oldest, WW_CLOSE_END, 0);
    ww_wipe(q->pt, q->pt_used);
    ww_free(q->mem, q);
}
