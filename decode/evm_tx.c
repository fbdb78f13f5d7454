/*
 * evm_tx.c - signed Ethereum transactions as sent with eth_sendRawTransaction.
 *
 * EIP-2718 envelope: the first byte tells the type.
 *   >= 0xc0  legacy   rlp([nonce, gasPrice, gas, to, value, data, v, r, s])
 *                     v = 27/28 (recid = v-27), or EIP-155 v = chainId*2 + 35 + recid;
 *                     signing hash keccak(rlp([nonce..data])) or, with EIP-155,
 *                     keccak(rlp([nonce..data, chainId, 0, 0]))
 *   0x01     EIP-2930 0x01 || rlp([chainId, nonce, gasPrice, gas, to, value, data,
 *                                  accessList, yParity, r, s])
 *   0x02     EIP-1559 0x02 || rlp([chainId, nonce, maxPriorityFee, maxFee, gas, to, value,
 *                                  data, accessList, yParity, r, s])
 *   0x03     EIP-4844 0x03 || rlp([chainId, nonce, maxPriorityFee, maxFee, gas, to, value,
 *                                  data, accessList, maxFeePerBlobGas, blobHashes, yParity,
 *                                  r, s])  -- or the network form rlp([body, blobs,
 *                                  commitments, proofs]); the hash is over 0x03 || body
 *   0x04     EIP-7702 0x04 || rlp([chainId, nonce, maxPriorityFee, maxFee, gas, to, value,
 *                                  data, accessList, authorizationList, yParity, r, s])
 *            authorization = [chainId, address, nonce, yParity, r, s], signed as
 *            keccak(0x05 || rlp([chainId, address, nonce]))
 * Typed signing hash: keccak(type || rlp(fields without yParity, r, s)).
 * tx hash: keccak of the bytes as sent (typed: type || rlp(body)).
 *
 * Integers are canonical big-endian (no leading zero, zero is the empty string). Signatures
 * follow EIP-2: 0 < r < n, 0 < s <= n/2.
 */
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "decode/evm_int.h"

#define MAX_FIELDS 16

static const uint8_t SECP_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t SECP_HALF_N[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

typedef struct txdec {
    ww_wallet_call *wc;
    ww_evm_tx_info *info;
} txdec;

static int fail(txdec *d, int rc, const char *why)
{
    if (d->info->error == NULL)
        d->info->error = why;
    return rc;
}

/* Splits a list payload into items. WW_OK, or an error (too many: WW_E_INVALID). */
static int split(ww_rlp_item *f, size_t cap, size_t *nf, const ww_rlp_item *list)
{
    ww_rd r = ww_rd_init(list->ptr, list->len);
    ww_rlp_item it;
    int rc;
    *nf = 0;
    while ((rc = ww_rlp_next(&r, &it)) == WW_OK) {
        if (*nf >= cap)
            return WW_E_INVALID;
        f[(*nf)++] = it;
    }
    if (rc == WW_E_TRUNC)
        return WW_E_INVALID; /* an item runs past the end of its list */
    return rc == WW_E_NOTFOUND ? WW_OK : rc;
}

/* A canonical integer of at most maxb bytes. */
static bool int_ok(const ww_rlp_item *it, size_t maxb)
{
    return !it->is_list && it->len <= maxb && (it->len == 0 || it->ptr[0] != 0);
}

static uint64_t int_u64(const ww_rlp_item *it) /* after int_ok(it, 8) */
{
    uint64_t v = 0;
    for (size_t i = 0; i < it->len; i++)
        v = (v << 8) | it->ptr[i];
    return v;
}

/* canonical integers: compare by length, then bytes */
static int u256_cmp(const ww_rlp_item *a, const ww_rlp_item *b)
{
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return memcmp(a->ptr, b->ptr, a->len);
}

/* true when the (<= 32-byte) integer times g does not fit in 256 bits */
static bool mul_overflows(const ww_rlp_item *a, uint64_t g)
{
    uint8_t be[32] = {0};
    unsigned __int128 carry = 0;
    memcpy(be + 32 - a->len, a->ptr, a->len);
    for (int i = 31; i >= 0; i--) {
        carry += (unsigned __int128)be[i] * g;
        carry >>= 8;
    }
    return carry != 0;
}

static bool str_len(const ww_rlp_item *it, size_t len)
{
    return !it->is_list && it->len == len;
}

/* accessList = [[address(20), [key(32), ...]], ...] */
static int access_list_ok(const ww_rlp_item *al)
{
    ww_rd r, rk;
    ww_rlp_item e, k;
    int rc;
    if (!al->is_list)
        return WW_E_INVALID;
    r = ww_rd_init(al->ptr, al->len);
    while ((rc = ww_rlp_next(&r, &e)) == WW_OK) {
        ww_rlp_item f[3];
        size_t nf;
        if (!e.is_list || split(f, 3, &nf, &e) != WW_OK || nf != 2 || !str_len(&f[0], 20) ||
            !f[1].is_list)
            return WW_E_INVALID;
        rk = ww_rd_init(f[1].ptr, f[1].len);
        while ((rc = ww_rlp_next(&rk, &k)) == WW_OK)
            if (!str_len(&k, 32))
                return WW_E_INVALID;
        if (rc != WW_E_NOTFOUND)
            return WW_E_INVALID;
    }
    return rc == WW_E_NOTFOUND ? WW_OK : WW_E_INVALID;
}

static void put_list_header(ww_keccak_ctx *kc, size_t len)
{
    uint8_t h[9];
    size_t hn = 0;
    if (len < 56) {
        h[hn++] = (uint8_t)(0xc0 + len);
    } else {
        uint8_t be[8];
        int k = 0;
        for (size_t v = len; v != 0; v >>= 8)
            be[k++] = (uint8_t)v;
        h[hn++] = (uint8_t)(0xf7 + k);
        while (k > 0)
            h[hn++] = be[--k];
    }
    ww_keccak_update(kc, h, hn);
}

static size_t enc_u64(uint8_t out[9], uint64_t v)
{
    uint8_t be[8];
    int k = 0;
    if (v == 0) {
        out[0] = 0x80;
        return 1;
    }
    if (v < 0x80) {
        out[0] = (uint8_t)v;
        return 1;
    }
    for (; v != 0; v >>= 8)
        be[k++] = (uint8_t)v;
    out[0] = (uint8_t)(0x80 + k);
    for (int i = 1; k > 0; i++)
        out[i] = be[--k];
    return (size_t)(1 + (out[0] - 0x80));
}

/* keccak(prefix? || rlp_list(raw of f[0..k) [+ extra])) */
static void signing_hash(uint8_t out[32], int type_byte, const ww_rlp_item *f, size_t k,
                         const uint8_t *extra, size_t extra_len)
{
    ww_keccak_ctx kc;
    size_t total = extra_len;
    for (size_t i = 0; i < k; i++)
        total += f[i].raw_len;
    ww_keccak_init(&kc);
    if (type_byte >= 0) {
        uint8_t t = (uint8_t)type_byte;
        ww_keccak_update(&kc, &t, 1);
    }
    put_list_header(&kc, total);
    if (k > 0) /* the fields are contiguous in the input */
        ww_keccak_update(&kc, f[0].raw, (size_t)(f[k - 1].raw + f[k - 1].raw_len - f[0].raw));
    if (extra_len > 0)
        ww_keccak_update(&kc, extra, extra_len);
    ww_keccak_final(&kc, out);
}

/* r, s: canonical integers. Returns WW_OK or WW_E_CRYPTO with *why. */
static int check_rs(const ww_rlp_item *r, const ww_rlp_item *s, uint8_t rs[64], const char **why)
{
    if (r->len == 0 || s->len == 0) {
        *why = "signature r or s is zero";
        return WW_E_CRYPTO;
    }
    memset(rs, 0, 64);
    memcpy(rs + 32 - r->len, r->ptr, r->len);
    memcpy(rs + 64 - s->len, s->ptr, s->len);
    if (memcmp(rs, SECP_N, 32) >= 0 || memcmp(rs + 32, SECP_N, 32) >= 0) {
        *why = "signature r or s >= n";
        return WW_E_CRYPTO;
    }
    if (memcmp(rs + 32, SECP_HALF_N, 32) > 0) {
        *why = "signature s > n/2 (EIP-2)";
        return WW_E_CRYPTO;
    }
    return WW_OK;
}

static bool recover(uint8_t addr[20], const uint8_t rs[64], int recid, const uint8_t hash[32])
{
    secp256k1_ecdsa_recoverable_signature sig;
    secp256k1_pubkey pk;
    uint8_t pub[65], h[32];
    size_t pl = sizeof pub;
    const secp256k1_context *ctx = secp256k1_context_static;

    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, rs, recid) ||
        !secp256k1_ecdsa_recover(ctx, &pk, &sig, hash) ||
        !secp256k1_ec_pubkey_serialize(ctx, pub, &pl, &pk, SECP256K1_EC_UNCOMPRESSED))
        return false;
    ww_keccak256(h, pub + 1, 64);
    memcpy(addr, h + 12, 20);
    return true;
}

/* EIP-7702 authorization list: validates every tuple, adds delegate/authority parties. */
static int do_auths(txdec *d, const ww_rlp_item *al)
{
    ww_rd r;
    ww_rlp_item e;
    int rc;
    if (!al->is_list)
        return fail(d, WW_E_INVALID, "authorization list is not a list");
    r = ww_rd_init(al->ptr, al->len);
    while ((rc = ww_rlp_next(&r, &e)) == WW_OK) {
        ww_rlp_item f[6];
        size_t nf;
        uint8_t rs[64], h[32], who[20];
        const char *why = NULL;
        ww_addr a;
        if (!e.is_list || split(f, 6, &nf, &e) != WW_OK || nf != 6 || !int_ok(&f[0], 32) ||
            !str_len(&f[1], 20) || !int_ok(&f[2], 8) || !int_ok(&f[3], 1) ||
            !int_ok(&f[4], 32) || !int_ok(&f[5], 32))
            return fail(d, WW_E_INVALID, "malformed authorization tuple");
        d->info->n_auth++;
        ww_addr_from_evm(&a, f[1].ptr);
        if (!ww_wc_add_party(d->wc, WW_ROLE_DELEGATE, true, false, &a))
            d->info->n_parties_dropped++;
        uint64_t y = int_u64(&f[3]);
        if (y > 1 || check_rs(&f[4], &f[5], rs, &why) != WW_OK) {
            d->info->n_auth_bad++;
            continue;
        }
        signing_hash(h, 0x05, f, 3, NULL, 0);
        if (!recover(who, rs, (int)y, h)) {
            d->info->n_auth_bad++;
            continue;
        }
        ww_addr_from_evm(&a, who);
        if (!ww_wc_add_party(d->wc, WW_ROLE_AUTHORITY, false, false, &a))
            d->info->n_parties_dropped++;
    }
    if (rc != WW_E_NOTFOUND)
        return fail(d, WW_E_INVALID, "malformed authorization list");
    if (d->info->n_auth == 0)
        return fail(d, WW_E_INVALID, "empty authorization list");
    return WW_OK;
}

static int blob_hashes_ok(const ww_rlp_item *bh)
{
    ww_rd r;
    ww_rlp_item e;
    int rc;
    size_t n = 0;
    if (!bh->is_list)
        return WW_E_INVALID;
    r = ww_rd_init(bh->ptr, bh->len);
    while ((rc = ww_rlp_next(&r, &e)) == WW_OK) {
        if (!str_len(&e, 32) || e.ptr[0] != 0x01) /* VERSIONED_HASH_VERSION_KZG */
            return WW_E_INVALID;
        n++;
    }
    return rc == WW_E_NOTFOUND && n > 0 ? WW_OK : WW_E_INVALID;
}

int ww_evm_decode_raw_tx(ww_wallet_call *wc, ww_evm_tx_info *info, const uint8_t *p, size_t n)
{
    ww_evm_tx_info dummy;
    txdec d = {wc, info != NULL ? info : &dummy};
    ww_rlp_item outer, f[MAX_FIELDS];
    size_t nf, nexp, body_off = 0;
    int type, rc;
    const uint8_t *hp = p; /* bytes the tx hash covers */
    size_t hn = n;
    uint8_t hash[32], rs[64], from[20];
    const char *why = NULL;

    memset(d.info, 0, sizeof *d.info);
    d.info->type = -1;
    wc->chain = WW_CHAIN_EVM;
    wc->signature_valid = 0;

    if (n == 0)
        return fail(&d, WW_E_TRUNC, "empty transaction");
    if (p[0] >= 0xc0) {
        type = 0;
    } else if (p[0] >= 1 && p[0] <= 4) {
        type = p[0];
        body_off = 1;
    } else if (p[0] >= 0x80) {
        return fail(&d, WW_E_INVALID, "transaction is an RLP string, not a list");
    } else {
        return fail(&d, WW_E_UNSUPPORTED, "unknown transaction type");
    }
    d.info->type = type;

    ssize_t k = ww_rlp_item_parse(&outer, p + body_off, n - body_off);
    if (k < 0)
        return fail(&d, (int)k, k == WW_E_TRUNC ? "truncated RLP" : "malformed RLP");
    if ((size_t)k != n - body_off)
        return fail(&d, WW_E_INVALID, "bytes after the transaction");
    if (!outer.is_list)
        return fail(&d, WW_E_INVALID, "transaction body is not a list");
    rc = ww_rlp_validate(outer.raw, outer.raw_len, WW_RLP_MAX_DEPTH);
    if (rc != WW_OK)
        return fail(&d, rc, "malformed RLP inside the transaction");
    if (split(f, MAX_FIELDS, &nf, &outer) != WW_OK)
        return fail(&d, WW_E_INVALID, "too many transaction fields");

    if (type == 3 && nf == 4 && f[0].is_list) {
        /* network form: [body, blobs, commitments, proofs] */
        ww_rlp_item body = f[0];
        for (int i = 1; i < 4; i++)
            if (!f[i].is_list)
                return fail(&d, WW_E_INVALID, "malformed blob transaction wrapper");
        if (split(f, MAX_FIELDS, &nf, &body) != WW_OK)
            return fail(&d, WW_E_INVALID, "too many transaction fields");
        hp = NULL; /* hash: 0x03 || body */
        outer = body;
    }

    static const size_t NEXP[5] = {9, 11, 12, 14, 13};
    nexp = NEXP[type];
    if (nf != nexp)
        return fail(&d, WW_E_INVALID, nf < nexp ? "too few transaction fields"
                                                : "too many transaction fields");

    /* field positions */
    size_t i_chain = 0, i_nonce, i_gas, i_to, i_value, i_data, i_al = 0;
    size_t i_v = nf - 3, i_r = nf - 2, i_s = nf - 1;
    if (type == 0) {
        i_nonce = 0;
        i_gas = 2;
    } else {
        i_nonce = 1;
        i_gas = type == 1 ? 3 : 4;
    }
    i_to = i_gas + 1;
    i_value = i_gas + 2;
    i_data = i_gas + 3;
    if (type != 0)
        i_al = i_gas + 4;

    /* integers: nonce (EIP-2681) and gas are 64-bit, fees and value 256-bit */
    if (type != 0 && !int_ok(&f[i_chain], 8))
        return fail(&d, WW_E_INVALID, "chain id not a canonical 64-bit integer");
    if (!int_ok(&f[i_nonce], 8))
        return fail(&d, WW_E_INVALID, "nonce not a canonical 64-bit integer");
    for (size_t i = i_nonce + 1; i < i_gas; i++)
        if (!int_ok(&f[i], 32))
            return fail(&d, WW_E_INVALID, "gas price not a canonical 256-bit integer");
    if (!int_ok(&f[i_gas], 8))
        return fail(&d, WW_E_INVALID, "gas limit not a canonical 64-bit integer");
    if (!int_ok(&f[i_value], 32))
        return fail(&d, WW_E_INVALID, "value not a canonical 256-bit integer");
    if (f[i_data].is_list)
        return fail(&d, WW_E_INVALID, "data is a list");
    if (f[i_to].is_list || (f[i_to].len != 0 && f[i_to].len != 20))
        return fail(&d, WW_E_INVALID, "to is not 20 bytes");
    if (type >= 3 && f[i_to].len == 0)
        return fail(&d, WW_E_INVALID, "blob / set-code transaction without to");
    if (type != 0 && access_list_ok(&f[i_al]) != WW_OK)
        return fail(&d, WW_E_INVALID, "malformed access list");
    if (type == 3 && (!int_ok(&f[9], 32) || blob_hashes_ok(&f[10]) != WW_OK))
        return fail(&d, WW_E_INVALID, "malformed blob fields");
    if (!int_ok(&f[i_v], 8) || !int_ok(&f[i_r], 32) || !int_ok(&f[i_s], 32))
        return fail(&d, WW_E_INVALID, "signature values not canonical integers");

    /* fee rules that hold in every fork (EIP-1559; 256-bit gas * price must not overflow) */
    if (type >= 2 && u256_cmp(&f[2], &f[3]) > 0)
        return fail(&d, WW_E_INVALID, "max priority fee above max fee");
    if (mul_overflows(&f[i_gas - 1], int_u64(&f[i_gas])))
        return fail(&d, WW_E_INVALID, "gas limit * fee overflows 256 bits");

    /* fill what the call says */
    ww_u256 v256;
    if (type != 0) {
        wc->has_chain_id = true;
        wc->chain_id = int_u64(&f[i_chain]);
    }
    if (f[i_to].len == 20) {
        wc->has_to = true;
        ww_addr_from_evm(&wc->to, f[i_to].ptr);
    }
    (void)ww_u256_from_be(&v256, f[i_value].ptr, f[i_value].len);
    ww_u256_to_dec(wc->value, &v256);
    if (hp != NULL) {
        ww_keccak256(hash, hp, hn);
    } else {
        ww_keccak_ctx kc;
        uint8_t t = 3;
        ww_keccak_init(&kc);
        ww_keccak_update(&kc, &t, 1);
        ww_keccak_update(&kc, outer.raw, outer.raw_len);
        ww_keccak_final(&kc, hash);
    }
    wc->tx_hash[0] = '0';
    wc->tx_hash[1] = 'x';
    ww_hex_encode(wc->tx_hash + 2, hash, 32);

    if (ww_evm_decode_calldata(wc, f[i_data].ptr, f[i_data].len, &d.info->calldata_error) !=
        WW_OK)
        d.info->calldata_bad = true;
    if (type == 4 && (rc = do_auths(&d, &f[9])) != WW_OK)
        return rc;

    /* signature */
    uint64_t v = int_u64(&f[i_v]);
    int recid;
    uint8_t extra[9 + 2];
    size_t extra_len = 0;
    if (type == 0) {
        if (v == 27 || v == 28) {
            recid = (int)(v - 27);
        } else if (v >= 35) {
            uint64_t cid = (v - 35) / 2;
            recid = (int)((v - 35) & 1);
            wc->has_chain_id = true;
            wc->chain_id = cid;
            extra_len = enc_u64(extra, cid);
            extra[extra_len++] = 0x80;
            extra[extra_len++] = 0x80;
        } else {
            return fail(&d, WW_E_CRYPTO, "legacy v is neither 27/28 nor EIP-155");
        }
    } else {
        if (v > 1)
            return fail(&d, WW_E_CRYPTO, "y parity is not 0 or 1");
        recid = (int)v;
    }
    if ((rc = check_rs(&f[i_r], &f[i_s], rs, &why)) != WW_OK)
        return fail(&d, rc, why);
    signing_hash(hash, type == 0 ? -1 : type, f, nf - 3, extra, extra_len);
    if (!recover(from, rs, recid, hash))
        return fail(&d, WW_E_CRYPTO, "signature does not recover");
    wc->has_from = true;
    ww_addr_from_evm(&wc->from, from);
    wc->signature_valid = 1;
    /* a self-call of a delegated (EIP-7702) account: its inner calls, now that from is known */
    if (ww_evm_decode_selfcall(wc, f[i_data].ptr, f[i_data].len) == WW_E_INVALID) {
        d.info->calldata_bad = true;
        d.info->calldata_error = "self-call arguments malformed";
    }
    return WW_OK;
}
