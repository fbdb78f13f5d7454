/*
 * evm_build.h - test-only builder of signed EVM transactions (RLP encoder + libsecp256k1
 * signing with a fixed test key), shared by test_evm.c and test_jsonrpc.c.
 */
#ifndef WW_TESTS_EVM_BUILD_H
#define WW_TESTS_EVM_BUILD_H

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "decode/evm_int.h"

typedef struct tb {
    uint8_t b[8192];
    size_t n;
} tb;

static void tb_put(tb *t, const void *p, size_t n)
{
    if (t->n + n <= sizeof t->b) {
        memcpy(t->b + t->n, p, n);
        t->n += n;
    }
}

static void tb_hdr(tb *t, uint8_t base, size_t len)
{
    uint8_t h[9];
    if (len < 56) {
        h[0] = (uint8_t)(base + len);
        tb_put(t, h, 1);
        return;
    }
    int k = 0;
    uint8_t be[8];
    for (size_t v = len; v; v >>= 8)
        be[k++] = (uint8_t)v;
    h[0] = (uint8_t)(base + 55 + k);
    for (int i = 0; i < k; i++)
        h[1 + i] = be[k - 1 - i];
    tb_put(t, h, (size_t)(1 + k));
}

static void tb_str(tb *t, const uint8_t *p, size_t n)
{
    if (n == 1 && p[0] < 0x80) {
        tb_put(t, p, 1);
        return;
    }
    tb_hdr(t, 0x80, n);
    tb_put(t, p, n);
}

static void tb_hex(tb *t, const char *hex) /* "" or "0x.." */
{
    uint8_t buf[2048];
    if (hex[0] == '0' && hex[1] == 'x')
        hex += 2;
    ssize_t k = ww_hex_decode(buf, sizeof buf, hex, strlen(hex));
    tb_str(t, buf, k > 0 ? (size_t)k : 0);
}

static void tb_uint(tb *t, uint64_t v)
{
    uint8_t be[8];
    int k = 0;
    for (; v; v >>= 8)
        be[k++] = (uint8_t)v;
    uint8_t o[8];
    for (int i = 0; i < k; i++)
        o[i] = be[k - 1 - i];
    tb_str(t, o, (size_t)k);
}

static void tb_int_be(tb *t, const uint8_t *be, size_t n) /* strips leading zeros */
{
    while (n > 0 && be[0] == 0) {
        be++;
        n--;
    }
    tb_str(t, be, n);
}

static void tb_list(tb *t, const tb *payload)
{
    tb_hdr(t, 0xc0, payload->n);
    tb_put(t, payload->b, payload->n);
}

/* the EIP-155 example key 0x4646...46 */
static const uint8_t TEST_KEY[32] = {
    0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
    0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46};
#define TEST_KEY_ADDR "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f"

enum { SIG_OK, SIG_HIGH_S, SIG_BAD_V, SIG_WRONG_HASH, SIG_ZERO_R, SIG_FORCE_R };
static uint8_t tb_force_r; /* SIG_FORCE_R: r = this small value */

static void sign_hash(const uint8_t h[32], uint8_t rs[64], int *recid, int mode)
{
    static secp256k1_context *ctx;
    secp256k1_ecdsa_recoverable_signature sig;
    static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    if (ctx == NULL)
        ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t hh[32];
    memcpy(hh, h, 32);
    if (mode == SIG_WRONG_HASH)
        hh[0] ^= 1;
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, hh, TEST_KEY, NULL, NULL))
        abort();
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, recid, &sig);
    if (mode == SIG_HIGH_S) { /* s' = n - s, parity flips: still a valid ECDSA signature */
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
            int d = N[i] - rs[32 + i] - borrow;
            borrow = d < 0;
            rs[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
        }
        *recid ^= 1;
    }
    if (mode == SIG_ZERO_R || mode == SIG_FORCE_R)
        memset(rs, 0, 32);
    if (mode == SIG_FORCE_R)
        rs[31] = tb_force_r;
}

/*
 * A signed transaction of the given type to `to_hex` ("" = creation) with value and
 * calldata; type 4 carries one authorization (delegate) signed by the same key.
 */
static size_t build_tx(uint8_t *out, size_t cap, int type, uint64_t chain_id, const char *to_hex,
                       uint64_t value, const char *data_hex, const char *delegate_hex, int mode)
{
    tb f, body, all, auth, tup, tmp;
    uint8_t h[32], rs[64];
    int recid;
    memset(&f, 0, sizeof f);
    if (type != 0)
        tb_uint(&f, chain_id);
    tb_uint(&f, 7);                 /* nonce */
    if (type >= 2)
        tb_uint(&f, 1000000000);    /* max priority fee */
    tb_uint(&f, 30000000000ULL);    /* gas price / max fee */
    tb_uint(&f, 100000);            /* gas */
    tb_hex(&f, to_hex);
    tb_uint(&f, value);
    tb_hex(&f, data_hex);
    if (type != 0) {
        memset(&tmp, 0, sizeof tmp);
        tb_list(&f, &tmp); /* empty access list */
    }
    if (type == 3) {
        tb_uint(&f, 1);
        memset(&tmp, 0, sizeof tmp);
        tb_hex(&tmp, "0x01000000000000000000000000000000000000000000000000000000000000aa");
        tb_list(&f, &tmp);
    }
    if (type == 4) {
        memset(&tup, 0, sizeof tup);
        tb_uint(&tup, chain_id);
        tb_hex(&tup, delegate_hex);
        tb_uint(&tup, 8);
        memset(&tmp, 0, sizeof tmp);
        uint8_t five = 5;
        tb_put(&tmp, &five, 1);
        tb_list(&tmp, &tup);
        ww_keccak256(h, tmp.b, tmp.n);
        sign_hash(h, rs, &recid, SIG_OK);
        tb_uint(&tup, (uint64_t)recid);
        tb_int_be(&tup, rs, 32);
        tb_int_be(&tup, rs + 32, 32);
        memset(&auth, 0, sizeof auth);
        tb_list(&auth, &tup);
        tb_list(&f, &auth);
    }
    /* signing hash */
    memset(&tmp, 0, sizeof tmp);
    if (type != 0) {
        uint8_t t = (uint8_t)type;
        tb_put(&tmp, &t, 1);
        tb_list(&tmp, &f);
    } else {
        tb g = f;
        tb_uint(&g, chain_id);
        tb_uint(&g, 0);
        tb_uint(&g, 0);
        tb_list(&tmp, &g);
    }
    ww_keccak256(h, tmp.b, tmp.n);
    sign_hash(h, rs, &recid, mode);
    body = f;
    if (type == 0)
        tb_uint(&body, (uint64_t)(mode == SIG_BAD_V ? 30 : (int)chain_id * 2 + 35 + recid));
    else
        tb_uint(&body, (uint64_t)(mode == SIG_BAD_V ? 2 : recid));
    tb_int_be(&body, rs, 32);
    tb_int_be(&body, rs + 32, 32);
    memset(&all, 0, sizeof all);
    if (type != 0) {
        uint8_t t = (uint8_t)type;
        tb_put(&all, &t, 1);
    }
    tb_list(&all, &body);
    if (all.n > cap)
        abort();
    memcpy(out, all.b, all.n);
    return all.n;
}

#endif
