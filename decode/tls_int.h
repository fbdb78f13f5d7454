/*
 * tls_int.h - passive TLS 1.2/1.3 decryption for one connection with keys from a key log.
 *
 * Records are reassembled per direction (a record may span many segments; a segment may carry
 * many records); handshake messages are reassembled across records. ClientHello gives the
 * client random, SNI and offered ALPN; ServerHello the version, cipher and ALPN. Keys come from
 * ww_keylog (CLIENT_RANDOM for 1.2; *_TRAFFIC_SECRET_0, CLIENT_HANDSHAKE_TRAFFIC_SECRET... for
 * 1.3). Application data plaintext is handed on in order per direction. A record that arrives
 * before its key waits in a bounded backlog. A tag failure is an anomaly; no garbage is ever
 * handed on. Secrets and derived keys are wiped on free.
 */
#ifndef WW_TLS_INT_H
#define WW_TLS_INT_H

#include "decode/decode.h"

typedef struct ww_tls_cbs {
    void *ud;
    /* decrypted application data of one direction, in order */
    void (*plaintext)(void *ud, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
    /* once the ServerHello is parsed (info stays valid as long as the ww_tls) */
    void (*handshake)(void *ud, const ww_tls_info *info);
    void (*anomaly)(void *ud, const char *type, const char *detail);
} ww_tls_cbs;

typedef struct ww_tls ww_tls;

/* The key-wait budget shared by the sessions of one key log (kept inside the ww_keylog). */
struct tls_dir;
typedef struct ww_keywait {
    size_t cap;
    bool keys_may_come;
    ww_keywait_stats st;
    struct tls_dir *oldest, *newest; /* directions with records waiting, oldest first */
} ww_keywait;
ww_keywait *ww_keylog_keywait(ww_keylog *kl); /* NULL when kl is NULL */

/* Does this look like the start of a TLS connection (a handshake record)? n may be small. */
bool ww_tls_probe(const uint8_t *p, size_t n);
ww_tls *ww_tls_new(const ww_mem *mem, ww_keylog *kl, const ww_tls_cbs *cbs);
void ww_tls_data(ww_tls *t, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
void ww_tls_gap(ww_tls *t, int dir, uint64_t len, uint64_t ts_us);
const ww_tls_info *ww_tls_info_get(const ww_tls *t);
/* true once any application record was decrypted */
bool ww_tls_decrypted(const ww_tls *t);
/* true when application data was seen that could not be decrypted (no key, bad tag...) */
bool ww_tls_undecryptable(const ww_tls *t);
/*
 * Late keys (a key log line or DSB that comes after the connection closed). On the flow's
 * close the owner may keep the session instead of freeing it while ww_tls_may_still_decrypt():
 * records wait for a key that can still arrive (their bytes stay inside the key log's shared
 * key-wait budget, which may give them up at any time). It calls ww_tls_retry() when the key
 * log grew (ww_keylog_generation changed) and frees the session once it no longer waits, when
 * the grace period (ww_keylog_late_key_grace_us, live) has passed, or at the end of the input.
 */
bool ww_tls_waiting(const ww_tls *t);
bool ww_tls_may_still_decrypt(const ww_tls *t);
void ww_tls_retry(ww_tls *t, uint64_t ts_us);
void ww_tls_free(ww_tls *t);


/* ---- key log lookups (decode/keylog.c), for the TLS layer and its tests ---- */
enum ww_keylog_label {
    WW_KL_CLIENT_RANDOM = 0, /* TLS 1.2 master secret (48 bytes) */
    WW_KL_CLIENT_EARLY,      /* CLIENT_EARLY_TRAFFIC_SECRET */
    WW_KL_CLIENT_HS,         /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    WW_KL_SERVER_HS,         /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    WW_KL_CLIENT_AP0,        /* CLIENT_TRAFFIC_SECRET_0 */
    WW_KL_SERVER_AP0,        /* SERVER_TRAFFIC_SECRET_0 */
    WW_KL_COUNT
};
#define WW_KEYLOG_SECRET_MAX 48

/*
 * Copies the secret logged for (client_random, label) into out.
 * Returns: its length (32 or 48), or 0 when it is not (yet) logged.
 * The caller wipes out when done.
 */
size_t ww_keylog_lookup(const ww_keylog *kl, const uint8_t client_random[32], int label,
                        uint8_t out[WW_KEYLOG_SECRET_MAX]);
/* Bumped whenever a new secret is stored: a cheap "anything new?" test. */
uint64_t ww_keylog_generation(const ww_keylog *kl);

/* ---- TLS 1.3 key schedule helper (decode/tls_crypto.c), exposed for tests ---- */
/*
 * HKDF-Expand-Label (RFC 8446 7.1) with the "tls13 " prefix: out = HKDF-Expand(secret,
 * HkdfLabel(out_len, label, context), out_len). md: "SHA256" or "SHA384".
 * Returns: WW_OK, WW_E_CRYPTO (OpenSSL failure) or WW_E_INVALID (label/context too long).
 */
int ww_tls_hkdf_expand_label(uint8_t *out, size_t out_len, const char *md, const uint8_t *secret,
                             size_t secret_len, const char *label, const uint8_t *ctx,
                             size_t ctx_len) WW_WUR;

/* Offered ALPN protocols of the ClientHello, comma-separated ("h2,http/1.1"); "" when none. */
const char *ww_tls_alpn_offered(const ww_tls *t);

/* ---- hello parsing (decode/tls.c), shared with QUIC (decode/quic.c) ---- */
typedef struct ww_tls_hello {
    uint8_t random[32];     /* CH / SH */
    uint16_t legacy_version;
    uint16_t version;       /* SH: supported_versions' selection, else legacy_version */
    uint16_t cipher;        /* SH: the selected suite */
    char sni[256];          /* CH server_name; "" when absent (unprintables as '?') */
    char alpn[128];         /* CH: offered, comma-joined; SH/EE: the selected one; "" */
    bool early_offered;     /* CH: early_data extension */
    bool etm;               /* SH: encrypt_then_mac */
    bool ext_bad;           /* the extensions block was malformed (fields before it are good) */
} ww_tls_hello;
/*
 * Parses the body of one handshake message (after its 4-byte header): hs_type 1 ClientHello,
 * 2 ServerHello, 8 EncryptedExtensions. Returns WW_OK (out filled; ext_bad says whether the
 * extensions were whole), WW_E_INVALID (the fixed part is malformed) or WW_E_UNSUPPORTED.
 */
int ww_tls_hello_parse(ww_tls_hello *out, int hs_type, const uint8_t *p, size_t n) WW_WUR;

/* ---- internal to decode/tls*.c: one direction's record protection ---- */
enum ww_tlsc_kind { WW_TLSC_NONE = 0, WW_TLSC_AES_GCM, WW_TLSC_CHACHA, WW_TLSC_AES_CBC };

typedef struct ww_tlsc {
    void *ctx;          /* EVP_CIPHER_CTX, created once, reused for every record */
    void *mac;          /* EVP_MAC_CTX (HMAC), CBC only */
    int kind;           /* enum ww_tlsc_kind */
    bool tls13;         /* TLS 1.3 record format (inner content type, nonce = iv ^ seq) */
    bool no_aad;        /* TLS 1.3 drafts before 25: empty additional data */
    bool explicit_iv;   /* CBC in TLS 1.1+: the first block is the record's IV */
    size_t key_len, iv_len, mac_len;
    const char *mac_md; /* "SHA1", "SHA256", "SHA384" (CBC) */
    uint64_t seq;
    uint8_t key[32];
    uint8_t iv[16];
    uint8_t mac_key[48];
} ww_tlsc;

/* Installs keys (creating the contexts on first use). Returns WW_OK or WW_E_CRYPTO/NOMEM. */
int ww_tlsc_set_key(ww_tlsc *c, int kind, const uint8_t *key, size_t key_len,
                    const uint8_t *iv, size_t iv_len, const uint8_t *mac_key, size_t mac_len,
                    const char *mac_md) WW_WUR;
/*
 * Opens one record (hdr: its 5-byte header; body/n: its fragment) into out (capacity
 * out_cap >= n). TLS 1.3: *out_len covers the inner plaintext with its content type and
 * padding (the caller strips them). Increments seq on success only.
 * Returns: WW_OK; WW_E_CRYPTO (tag/MAC/padding failure); WW_E_INVALID (too short).
 */
int ww_tlsc_open(ww_tlsc *c, uint8_t *out, size_t out_cap, size_t *out_len, const uint8_t hdr[5],
                 const uint8_t *body, size_t n) WW_WUR;
/*
 * The same opening for a TLS 1.3 AEAD record whose fragment arrives in pieces (split over TCP
 * segments): decrypted as the pieces come instead of gathered first. begin with the record's
 * header (its fragment is ct_len bytes then the 16-byte tag; WW_E_INVALID when c is not TLS
 * 1.3 AES-GCM or ChaCha20-Poly1305), update with the ciphertext in order (out gets n bytes of
 * plaintext, not yet authenticated: the caller keeps it to itself until final), final with
 * the tag: WW_OK and seq incremented, or WW_E_CRYPTO (the caller wipes what update wrote).
 */
int ww_tlsc_open_begin(ww_tlsc *c, const uint8_t hdr[5]) WW_WUR;
int ww_tlsc_open_update(ww_tlsc *c, uint8_t *out, const uint8_t *ct, size_t n) WW_WUR;
int ww_tlsc_open_final(ww_tlsc *c, const uint8_t tag[16]) WW_WUR;
void ww_tlsc_free(ww_tlsc *c); /* wipes keys, frees contexts */
/*
 * AEAD open with an explicit additional data and sequence number (QUIC, RFC 9001 5.3:
 * nonce = iv ^ packet number, AAD = the unprotected header). body/n: ciphertext then its
 * 16-byte tag; out_cap >= n - 16. c->seq is not used or moved.
 * Returns: WW_OK; WW_E_CRYPTO (tag failure: out wiped); WW_E_INVALID; WW_E_NOKEY.
 */
int ww_tlsc_open_aad(ww_tlsc *c, uint8_t *out, size_t out_cap, size_t *out_len,
                     const uint8_t *aad, size_t aad_len, uint64_t seq, const uint8_t *body,
                     size_t n) WW_WUR;
/* HKDF-Extract (RFC 5869 2.2): out (out_len = the hash length) = HMAC-md(salt, ikm). */
int ww_tls_hkdf_extract(uint8_t *out, size_t out_len, const char *md, const uint8_t *salt,
                        size_t salt_len, const uint8_t *ikm, size_t ikm_len) WW_WUR;
/* TLS 1.0-1.2 PRF (md "SHA256", "SHA384" or "MD5-SHA1"): out = PRF(secret, label, seed). */
int ww_tls_prf(uint8_t *out, size_t out_len, const char *md, const uint8_t *secret,
               size_t secret_len, const char *label, const uint8_t *seed, size_t seed_len) WW_WUR;

#endif
