/*
 * quic_build.h - builds protected QUIC packets for tests, the fuzz seeds and the bench: the
 * sender's side of RFC 9001 5 (AEAD seal through OpenSSL EVP, then header protection), so
 * walletwatch's receiver can be checked against packets whose contents are known.
 * Header-only (static functions); test code, not part of the library.
 */
#ifndef WW_QUIC_BUILD_H
#define WW_QUIC_BUILD_H

#include <openssl/evp.h>

#include "decode/quic.h"

/* v1 long header types; v2 renumbers them (RFC 9369 3.2) */
enum { QB_INITIAL = 0, QB_ZRTT = 1, QB_HANDSHAKE = 2 };

static inline size_t qb_varint(uint8_t *p, uint64_t v)
{
    if (v < 64) {
        p[0] = (uint8_t)v;
        return 1;
    }
    if (v < 16384) {
        p[0] = (uint8_t)(0x40 | (v >> 8));
        p[1] = (uint8_t)v;
        return 2;
    }
    if (v < (1u << 30)) {
        for (int i = 0; i < 4; i++)
            p[i] = (uint8_t)(v >> (24 - 8 * i));
        p[0] |= 0x80;
        return 4;
    }
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    p[0] |= 0xc0;
    return 8;
}

/* AEAD seal: out = ct || tag. Returns 0 on success. */
static inline int qb_aead_seal(uint8_t *out, uint16_t suite, const ww_quic_keys *k, uint64_t pn,
                               const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t n)
{
    uint8_t nonce[12];
    int l = 0;
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(pn >> (56 - 8 * i));
    const EVP_CIPHER *c = suite == 0x1303    ? EVP_chacha20_poly1305()
                          : k->key_len == 16 ? EVP_aes_128_gcm()
                                             : EVP_aes_256_gcm();
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL && EVP_EncryptInit_ex(ctx, c, NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
             EVP_EncryptInit_ex(ctx, NULL, NULL, k->key, nonce) == 1 &&
             EVP_EncryptUpdate(ctx, NULL, &l, aad, (int)aad_len) == 1 &&
             (n == 0 || EVP_EncryptUpdate(ctx, out, &l, pt, (int)n) == 1) &&
             EVP_EncryptFinal_ex(ctx, out + n, &l) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

/*
 * A protected packet. hdr/hl: the unprotected header ending with its packet number (pn_len
 * bytes); the first byte's low bits already say pn_len - 1. Returns the packet length.
 */
static inline size_t qb_protect(uint8_t *out, uint16_t suite, const ww_quic_keys *k,
                                const uint8_t *hdr, size_t hl, unsigned pn_len, uint64_t pn,
                                const uint8_t *pt, size_t n)
{
    memcpy(out, hdr, hl);
    if (qb_aead_seal(out + hl, suite, k, pn, hdr, hl, pt, n) != 0)
        return 0;
    size_t pn_off = hl - pn_len;
    uint8_t mask[5];
    if (ww_quic_hp_mask(mask, suite, k->hp, out + pn_off + 4) != WW_OK)
        return 0;
    out[0] ^= (uint8_t)(mask[0] & ((out[0] & 0x80) ? 0x0f : 0x1f));
    for (unsigned i = 0; i < pn_len; i++)
        out[pn_off + i] ^= mask[1 + i];
    return hl + n + 16;
}

/* A long header packet (type QB_*) with a 2-byte Length and a pn_len-byte packet number. */
static inline size_t qb_long(uint8_t *out, uint32_t version, int type, uint16_t suite,
                             const ww_quic_keys *k, const uint8_t *dcid, size_t dl,
                             const uint8_t *scid, size_t sl, uint64_t pn, const uint8_t *pt,
                             size_t n)
{
    uint8_t h[128];
    size_t o = 0;
    unsigned pn_len = 4;
    unsigned t = (unsigned)type;
    if (version == WW_QUIC_V2)
        t = (t + 1) & 3;
    h[o++] = (uint8_t)(0xc0 | (t << 4) | (pn_len - 1));
    for (int i = 0; i < 4; i++)
        h[o++] = (uint8_t)(version >> (24 - 8 * i));
    h[o++] = (uint8_t)dl;
    memcpy(h + o, dcid, dl);
    o += dl;
    h[o++] = (uint8_t)sl;
    memcpy(h + o, scid, sl);
    o += sl;
    if (type == QB_INITIAL)
        h[o++] = 0; /* no token */
    size_t len = pn_len + n + 16;
    h[o++] = (uint8_t)(0x40 | (len >> 8));
    h[o++] = (uint8_t)len;
    for (unsigned i = 0; i < pn_len; i++)
        h[o++] = (uint8_t)(pn >> (8 * (pn_len - 1 - i)));
    return qb_protect(out, suite, k, h, o, pn_len, pn, pt, n);
}

/* A short header (1-RTT) packet with a 4-byte packet number. */
static inline size_t qb_short(uint8_t *out, uint16_t suite, const ww_quic_keys *k, int phase,
                              const uint8_t *dcid, size_t dl, uint64_t pn, const uint8_t *pt,
                              size_t n)
{
    uint8_t h[64];
    size_t o = 0;
    h[o++] = (uint8_t)(0x40 | (phase ? 0x04 : 0) | 3);
    memcpy(h + o, dcid, dl);
    o += dl;
    for (int i = 0; i < 4; i++)
        h[o++] = (uint8_t)(pn >> (24 - 8 * i));
    return qb_protect(out, suite, k, h, o, 4, pn, pt, n);
}

/* A STREAM frame with offset and length fields (always present). */
static inline size_t qb_stream(uint8_t *out, uint64_t id, uint64_t off, const void *data, size_t n,
                               bool fin)
{
    size_t o = 0;
    out[o++] = (uint8_t)(0x08 | 0x04 | 0x02 | (fin ? 1 : 0));
    o += qb_varint(out + o, id);
    o += qb_varint(out + o, off);
    o += qb_varint(out + o, n);
    if (n > 0)
        memcpy(out + o, data, n);
    return o + n;
}

static inline size_t qb_crypto(uint8_t *out, uint64_t off, const void *data, size_t n)
{
    size_t o = 0;
    out[o++] = 0x06;
    o += qb_varint(out + o, off);
    o += qb_varint(out + o, n);
    memcpy(out + o, data, n);
    return o + n;
}

/* ClientHello (with its 4-byte handshake header): random, one suite, SNI, ALPN "h3". */
static inline size_t qb_client_hello(uint8_t *out, const uint8_t random[32], const char *sni)
{
    uint8_t *p = out + 4;
    size_t o = 0, sl = strlen(sni);
    p[o++] = 3, p[o++] = 3;
    memcpy(p + o, random, 32);
    o += 32;
    p[o++] = 0; /* session id */
    p[o++] = 0, p[o++] = 2, p[o++] = 0x13, p[o++] = 0x01;
    p[o++] = 1, p[o++] = 0; /* compression */
    size_t ext_len_at = o;
    o += 2;
    /* server_name */
    p[o++] = 0, p[o++] = 0;
    p[o++] = (uint8_t)((sl + 5) >> 8), p[o++] = (uint8_t)(sl + 5);
    p[o++] = (uint8_t)((sl + 3) >> 8), p[o++] = (uint8_t)(sl + 3);
    p[o++] = 0;
    p[o++] = (uint8_t)(sl >> 8), p[o++] = (uint8_t)sl;
    memcpy(p + o, sni, sl);
    o += sl;
    /* ALPN h3 */
    static const uint8_t alpn[] = {0, 16, 0, 5, 0, 3, 2, 'h', '3'};
    memcpy(p + o, alpn, sizeof alpn);
    o += sizeof alpn;
    size_t el = o - ext_len_at - 2;
    p[ext_len_at] = (uint8_t)(el >> 8), p[ext_len_at + 1] = (uint8_t)el;
    out[0] = 1, out[1] = 0, out[2] = (uint8_t)(o >> 8), out[3] = (uint8_t)o;
    return o + 4;
}

/* ServerHello selecting suite, TLS 1.3 */
static inline size_t qb_server_hello(uint8_t *out, uint16_t suite)
{
    uint8_t *p = out + 4;
    size_t o = 0;
    p[o++] = 3, p[o++] = 3;
    memset(p + o, 0x5a, 32);
    o += 32;
    p[o++] = 0;
    p[o++] = (uint8_t)(suite >> 8), p[o++] = (uint8_t)suite;
    p[o++] = 0;
    static const uint8_t ext[] = {0, 6, 0, 43, 0, 2, 3, 4};
    memcpy(p + o, ext, sizeof ext);
    o += sizeof ext;
    out[0] = 2, out[1] = 0, out[2] = (uint8_t)(o >> 8), out[3] = (uint8_t)o;
    return o + 4;
}

/* EncryptedExtensions with ALPN "h3" */
static inline size_t qb_encrypted_extensions(uint8_t *out)
{
    static const uint8_t ee[] = {8, 0, 0, 11, 0, 9, 0, 16, 0, 5, 0, 3, 2, 'h', '3'};
    memcpy(out, ee, sizeof ee);
    return sizeof ee;
}

#endif
