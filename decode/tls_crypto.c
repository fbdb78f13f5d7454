/*
 * tls_crypto.c - key derivation and record protection for passive TLS decryption, all
 * through OpenSSL 3 EVP:
 *
 *   HKDF-Expand-Label   RFC 8446 7.1   EVP_KDF "HKDF", mode EXPAND_ONLY
 *   TLS 1.0-1.2 PRF     RFC 2246 5 / RFC 5246 5   EVP_KDF "TLS1-PRF" (MD5-SHA1, SHA256, SHA384)
 *   AEAD records        RFC 5288 (GCM, explicit nonce), RFC 7905 (ChaCha20-Poly1305),
 *                       RFC 8446 5.2/5.3 (TLS 1.3: nonce = iv ^ seq, AAD = record header)
 *   CBC records         RFC 5246 6.2.3.2 (MAC-then-encrypt, explicit IV in 1.1+, chained IV
 *                       in 1.0), HMAC via EVP_MAC
 *
 * One EVP_CIPHER_CTX per direction, created once and re-keyed in place; per record only the
 * nonce is set, so there is no allocation on the record path. Keys are wiped on free.
 * seq moves on only when a record opens; the caller skips a failed record with seq++.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <limits.h>

#include "decode/tls_int.h"

/* One of OpenSSL's KDFs ("HKDF", "TLS1-PRF") with the given parameters. */
static int kdf_derive(const char *name, uint8_t *out, size_t out_len, const OSSL_PARAM *params)
{
    int rc = WW_E_CRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
    EVP_KDF_CTX *kc = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kc != NULL && EVP_KDF_derive(kc, out, out_len, params) > 0)
        rc = WW_OK;
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    return rc;
}

int ww_tls_hkdf_expand_label(uint8_t *out, size_t out_len, const char *md, const uint8_t *secret,
                             size_t secret_len, const char *label, const uint8_t *ctx,
                             size_t ctx_len)
{
    /* struct { uint16 length; opaque label<7..255> = "tls13 " + label; opaque context<0..255>; } */
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t ll = strlen(label), k = 0;
    if (ll > 255 - 6 || ctx_len > 255 || out_len > 0xffff)
        return WW_E_INVALID;
    info[k++] = (uint8_t)(out_len >> 8);
    info[k++] = (uint8_t)out_len;
    info[k++] = (uint8_t)(6 + ll);
    memcpy(info + k, "tls13 ", 6);
    k += 6;
    memcpy(info + k, label, ll);
    k += ll;
    info[k++] = (uint8_t)ctx_len;
    if (ctx_len > 0)
        memcpy(info + k, ctx, ctx_len);
    k += ctx_len;

    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, k),
        OSSL_PARAM_construct_end(),
    };
    return kdf_derive("HKDF", out, out_len, params);
}

int ww_tls_hkdf_extract(uint8_t *out, size_t out_len, const char *md, const uint8_t *salt,
                        size_t salt_len, const uint8_t *ikm, size_t ikm_len)
{
    int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_end(),
    };
    return kdf_derive("HKDF", out, out_len, params);
}

int ww_tls_prf(uint8_t *out, size_t out_len, const char *md, const uint8_t *secret,
               size_t secret_len, const char *label, const uint8_t *seed, size_t seed_len)
{
    uint8_t s[128];
    size_t ll = strlen(label);
    if (ll > sizeof s || seed_len > sizeof s - ll)
        return WW_E_INVALID;
    memcpy(s, label, ll);
    memcpy(s + ll, seed, seed_len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, s, ll + seed_len),
        OSSL_PARAM_construct_end(),
    };
    return kdf_derive("TLS1-PRF", out, out_len, params);
}

static const EVP_CIPHER *cipher_for(int kind, size_t key_len)
{
    switch (kind) {
    case WW_TLSC_AES_GCM:
        return key_len == 16 ? EVP_aes_128_gcm() : key_len == 32 ? EVP_aes_256_gcm() : NULL;
    case WW_TLSC_CHACHA:
        return key_len == 32 ? EVP_chacha20_poly1305() : NULL;
    case WW_TLSC_AES_CBC:
        return key_len == 16 ? EVP_aes_128_cbc() : key_len == 32 ? EVP_aes_256_cbc() : NULL;
    default:
        return NULL;
    }
}

int ww_tlsc_set_key(ww_tlsc *c, int kind, const uint8_t *key, size_t key_len,
                    const uint8_t *iv, size_t iv_len, const uint8_t *mac_key, size_t mac_len,
                    const char *mac_md)
{
    const EVP_CIPHER *ciph = cipher_for(kind, key_len);
    if (ciph == NULL || iv_len > sizeof c->iv || mac_len > sizeof c->mac_key)
        return WW_E_CRYPTO;
    if (c->ctx == NULL && (c->ctx = EVP_CIPHER_CTX_new()) == NULL)
        return WW_E_NOMEM;
    if (kind == WW_TLSC_AES_CBC && c->mac == NULL) {
        EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
        c->mac = m != NULL ? EVP_MAC_CTX_new(m) : NULL;
        EVP_MAC_free(m);
        if (c->mac == NULL)
            return WW_E_NOMEM;
    }
    c->kind = kind;
    c->key_len = key_len;
    c->iv_len = iv_len;
    c->mac_len = mac_len;
    c->mac_md = mac_md;
    c->seq = 0;
    memcpy(c->key, key, key_len);
    if (iv_len > 0)
        memcpy(c->iv, iv, iv_len);
    if (mac_len > 0)
        memcpy(c->mac_key, mac_key, mac_len);
    EVP_CIPHER_CTX *ctx = c->ctx;
    if (EVP_CIPHER_CTX_reset(ctx) != 1 || EVP_DecryptInit_ex(ctx, ciph, NULL, NULL, NULL) != 1)
        return WW_E_CRYPTO;
    if (kind == WW_TLSC_AES_CBC) {
        /* TLS 1.0: the key block IV starts the chain; 1.1+: any IV, the first block is dropped */
        if (EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv_len == 16 ? iv : NULL) != 1)
            return WW_E_CRYPTO;
        EVP_CIPHER_CTX_set_padding(ctx, 0);
    } else {
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
            EVP_DecryptInit_ex(ctx, NULL, NULL, key, NULL) != 1)
            return WW_E_CRYPTO;
    }
    return WW_OK;
}

/* TLS 1.3, RFC 7905 and QUIC: nonce = iv ^ (0^32 || seq) */
static void xor_nonce(uint8_t nonce[12], const uint8_t *iv, uint64_t seq)
{
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
}

/* Decrypts ct (ct_len bytes, followed by its 16-byte tag) into out, authenticating aad. */
static int aead_core(EVP_CIPHER_CTX *ctx, uint8_t *out, size_t *out_len, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len)
{
    uint8_t tag[16];
    int l1 = 0, l2 = 0;
    memcpy(tag, ct + ct_len, 16);
    if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1)
        return WW_E_CRYPTO;
    if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &l1, aad, (int)aad_len) != 1)
        return WW_E_CRYPTO;
    if (ct_len > 0 && EVP_DecryptUpdate(ctx, out, &l1, ct, (int)ct_len) != 1)
        return WW_E_CRYPTO;
    if (ct_len == 0)
        l1 = 0;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1)
        return WW_E_CRYPTO;
    if (EVP_DecryptFinal_ex(ctx, out + l1, &l2) != 1) {
        ww_wipe(out, ct_len); /* never leave unauthenticated plaintext behind */
        return WW_E_CRYPTO;
    }
    *out_len = (size_t)l1 + (size_t)l2;
    return WW_OK;
}

static int open_aead(ww_tlsc *c, uint8_t *out, size_t out_cap, size_t *out_len,
                     const uint8_t hdr[5], const uint8_t *body, size_t n)
{
    EVP_CIPHER_CTX *ctx = c->ctx;
    uint8_t nonce[12], aad[13];
    size_t aad_len, ct_len;
    const uint8_t *ct;

    if (c->kind == WW_TLSC_AES_GCM && !c->tls13) {
        /* RFC 5288: nonce = salt(4) || explicit(8) carried at the start of the record */
        if (n < 8 + 16)
            return WW_E_INVALID;
        memcpy(nonce, c->iv, 4);
        memcpy(nonce + 4, body, 8);
        ct = body + 8;
        ct_len = n - 8 - 16;
    } else {
        /* TLS 1.3 and RFC 7905: nonce = iv ^ (0^32 || seq) */
        if (n < 16)
            return WW_E_INVALID;
        xor_nonce(nonce, c->iv, c->seq);
        ct = body;
        ct_len = n - 16;
    }
    if (ct_len > out_cap)
        return WW_E_INVALID;
    if (c->tls13) {
        memcpy(aad, hdr, 5);
        aad_len = c->no_aad ? 0 : 5;
    } else {
        for (int i = 0; i < 8; i++)
            aad[i] = (uint8_t)(c->seq >> (56 - 8 * i));
        aad[8] = hdr[0];
        aad[9] = hdr[1];
        aad[10] = hdr[2];
        aad[11] = (uint8_t)(ct_len >> 8);
        aad[12] = (uint8_t)ct_len;
        aad_len = 13;
    }
    int rc = aead_core(ctx, out, out_len, nonce, aad, aad_len, ct, ct_len);
    if (rc == WW_OK)
        c->seq++;
    return rc;
}

int ww_tlsc_open_aad(ww_tlsc *c, uint8_t *out, size_t out_cap, size_t *out_len,
                     const uint8_t *aad, size_t aad_len, uint64_t seq, const uint8_t *body,
                     size_t n)
{
    uint8_t nonce[12];
    if (c->ctx == NULL || (c->kind != WW_TLSC_AES_GCM && c->kind != WW_TLSC_CHACHA))
        return WW_E_NOKEY;
    if (n < 16 || n - 16 > out_cap || aad_len > INT_MAX)
        return WW_E_INVALID;
    xor_nonce(nonce, c->iv, seq);
    return aead_core(c->ctx, out, out_len, nonce, aad, aad_len, body, n - 16);
}

int ww_tlsc_open_begin(ww_tlsc *c, const uint8_t hdr[5])
{
    uint8_t nonce[12];
    int l = 0;
    if (c->ctx == NULL || !c->tls13 || (c->kind != WW_TLSC_AES_GCM && c->kind != WW_TLSC_CHACHA))
        return WW_E_INVALID;
    xor_nonce(nonce, c->iv, c->seq);
    if (EVP_DecryptInit_ex(c->ctx, NULL, NULL, NULL, nonce) != 1 ||
        (!c->no_aad && EVP_DecryptUpdate(c->ctx, NULL, &l, hdr, 5) != 1))
        return WW_E_CRYPTO;
    return WW_OK;
}

int ww_tlsc_open_update(ww_tlsc *c, uint8_t *out, const uint8_t *ct, size_t n)
{
    int l = 0;
    if (n == 0)
        return WW_OK;
    if (n > INT_MAX || EVP_DecryptUpdate(c->ctx, out, &l, ct, (int)n) != 1 || (size_t)l != n)
        return WW_E_CRYPTO; /* GCM and ChaCha20-Poly1305 give back as many bytes as they take */
    return WW_OK;
}

int ww_tlsc_open_final(ww_tlsc *c, const uint8_t tag[16])
{
    uint8_t t[16], last[16];
    int l = 0;
    memcpy(t, tag, 16);
    if (EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, 16, t) != 1 ||
        EVP_DecryptFinal_ex(c->ctx, last, &l) != 1 || l != 0)
        return WW_E_CRYPTO;
    c->seq++;
    return WW_OK;
}

static int open_cbc(ww_tlsc *c, uint8_t *out, size_t out_cap, size_t *out_len,
                    const uint8_t hdr[5], const uint8_t *body, size_t n)
{
    EVP_CIPHER_CTX *ctx = c->ctx;
    EVP_MAC_CTX *mac = c->mac;
    size_t skip = c->explicit_iv ? 16 : 0;
    uint8_t pre[13], md[64];
    size_t md_len = 0;
    int l = 0;

    if (n % 16 != 0 || n < skip + 16 || n > out_cap)
        return WW_E_INVALID;
    /* In 1.1+ the previous chain value only garbles the explicit IV block, which we drop. */
    if (EVP_DecryptUpdate(ctx, out, &l, body, (int)n) != 1 || (size_t)l != n)
        return WW_E_CRYPTO;
    uint8_t *pt = out + skip;
    size_t len = n - skip;
    size_t pad = pt[len - 1];
    if (pad + 1 + c->mac_len > len)
        goto fail;
    for (size_t i = 0; i < pad; i++)
        if (pt[len - 2 - i] != pad)
            goto fail;
    len -= pad + 1 + c->mac_len;
    for (int i = 0; i < 8; i++)
        pre[i] = (uint8_t)(c->seq >> (56 - 8 * i));
    pre[8] = hdr[0];
    pre[9] = hdr[1];
    pre[10] = hdr[2];
    pre[11] = (uint8_t)(len >> 8);
    pre[12] = (uint8_t)len;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)c->mac_md, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(mac, c->mac_key, c->mac_len, params) != 1 ||
        EVP_MAC_update(mac, pre, sizeof pre) != 1 || EVP_MAC_update(mac, pt, len) != 1 ||
        EVP_MAC_final(mac, md, &md_len, sizeof md) != 1 || md_len != c->mac_len)
        goto fail;
    if (CRYPTO_memcmp(md, pt + len, c->mac_len) != 0)
        goto fail;
    if (skip > 0)
        memmove(out, pt, len);
    *out_len = len;
    c->seq++;
    return WW_OK;
fail:
    ww_wipe(out, n);
    return WW_E_CRYPTO;
}

int ww_tlsc_open(ww_tlsc *c, uint8_t *out, size_t out_cap, size_t *out_len, const uint8_t hdr[5],
                 const uint8_t *body, size_t n)
{
    if (c->ctx == NULL || c->kind == WW_TLSC_NONE)
        return WW_E_NOKEY;
    if (c->kind == WW_TLSC_AES_CBC)
        return open_cbc(c, out, out_cap, out_len, hdr, body, n);
    return open_aead(c, out, out_cap, out_len, hdr, body, n);
}

void ww_tlsc_free(ww_tlsc *c)
{
    EVP_CIPHER_CTX_free(c->ctx); /* cleanses its key schedule */
    EVP_MAC_CTX_free(c->mac);
    ww_wipe(c, sizeof *c);
}
