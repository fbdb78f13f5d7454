/*
 * test_evm.c - Keccak-256, RLP, signed transactions (ethereum/tests corpus), calldata.
 */
#include <cjson/cJSON.h>

#include "decode/evm_int.h"
#include "tests/t.h"

static size_t unhex(uint8_t *out, size_t cap, const char *h)
{
    if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
        h += 2;
    size_t n = strlen(h);
    ssize_t k = (n % 2 == 0) ? ww_hex_decode(out, cap, h, n) : -1;
    if (k < 0) {
        t_fail_msg(__FILE__, __LINE__, "bad hex in test: %.40s", h);
        return 0;
    }
    return (size_t)k;
}

static void hexstr(char *out, const uint8_t *p, size_t n)
{
    ww_hex_encode(out, p, n);
}

/* ---- Keccak ---- */

T_CASE(keccak_vectors)
{
    static const struct {
        const char *msg;
        size_t repeat;
        const char *hex;
    } V[] = {
        {"", 1, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
        {"abc", 1, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
        {"testing", 1, "5f16f4c7f149ac4f9510d9cf8cf384038ad348b3bcdc01915f95de12df9d1b02"},
        /* 200 x 0xa3 (the NIST SHA-3 "1600-bit" message), Keccak-256 */
        {"\xa3", 200, "3a57666b048777f2c953dc4456f45a2588e1cb6f2da760122d530ac2ce607d4a"},
        {"The quick brown fox jumps over the lazy dog", 1,
         "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"},
    };
    static uint8_t buf[4096];
    for (size_t i = 0; i < WW_ARRAY_LEN(V); i++) {
        size_t l = strlen(V[i].msg), n = 0;
        for (size_t r = 0; r < V[i].repeat; r++, n += l)
            memcpy(buf + n, V[i].msg, l);
        uint8_t h[32], h2[32];
        char hx[65];
        ww_keccak256(h, buf, n);
        hexstr(hx, h, 32);
        T_EQ_STR(hx, V[i].hex);
        /* incremental, odd chunks */
        ww_keccak_ctx kc;
        ww_keccak_init(&kc);
        for (size_t o = 0; o < n; o += 7)
            ww_keccak_update(&kc, buf + o, WW_MIN((size_t)7, n - o));
        ww_keccak_final(&kc, h2);
        T_EQ_MEM(h, h2, 32);
    }
    /* multi-block: 1000 x 'a' vs incremental over every block boundary */
    memset(buf, 'a', 1000);
    for (size_t n = 130; n < 420; n++) {
        uint8_t h[32], h2[32];
        ww_keccak_ctx kc;
        ww_keccak256(h, buf, n);
        ww_keccak_init(&kc);
        ww_keccak_update(&kc, buf, n / 3);
        ww_keccak_update(&kc, buf + n / 3, n - n / 3);
        ww_keccak_final(&kc, h2);
        if (memcmp(h, h2, 32) != 0) {
            T_CHECK(!"incremental keccak differs");
            break;
        }
    }
    /* keccak256("transfer(address,uint256)") starts with the ERC-20 selector */
    uint8_t h[32];
    ww_keccak256(h, (const uint8_t *)"transfer(address,uint256)", 25);
    T_CHECK(h[0] == 0xa9 && h[1] == 0x05 && h[2] == 0x9c && h[3] == 0xbb);
}

/* ---- RLP ---- */

T_CASE(rlp_items)
{
    static const struct {
        const char *hex;
        int rc; /* >0: consumed; else error */
        bool is_list;
        size_t len;
    } V[] = {
        {"00", 1, false, 1},
        {"7f", 1, false, 1},
        {"80", 1, false, 0},
        {"8180", 2, false, 1},
        {"83646f67", 4, false, 3},
        {"c0", 1, true, 0},
        {"c88363617483646f67", 9, true, 8},
        {"b838"
         "4c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164"
         "697069736963",
         WW_E_TRUNC, false, 0},
        {"8100", WW_E_INVALID, false, 0},       /* single byte < 0x80 as a string */
        {"817f", WW_E_INVALID, false, 0},
        {"b800", WW_E_INVALID, false, 0},       /* leading zero in length */
        {"b837" "00", WW_E_INVALID, false, 0},  /* long form for 55 */
        {"f800", WW_E_INVALID, false, 0},
        {"f837", WW_E_INVALID, false, 0},
        {"b90000", WW_E_INVALID, false, 0},
        {"bfffffffffffffffff", WW_E_OVERFLOW, false, 0},
        {"ffffffffffffffffff", WW_E_OVERFLOW, false, 0},
        {"bf0100000000000000", WW_E_TRUNC, false, 0},
        {"", WW_E_TRUNC, false, 0},
        {"81", WW_E_TRUNC, false, 0},
        {"c1", WW_E_TRUNC, false, 0},
    };
    uint8_t b[256];
    for (size_t i = 0; i < WW_ARRAY_LEN(V); i++) {
        size_t n = unhex(b, sizeof b, V[i].hex);
        ww_rlp_item it;
        const uint8_t *g = t_guard(b, n);
        ssize_t k = ww_rlp_item_parse(&it, g, n);
        T_EQ_INT(k, V[i].rc);
        if (k > 0) {
            T_EQ_INT(it.is_list, V[i].is_list);
            T_EQ_INT(it.len, V[i].len);
        }
    }
}

T_CASE(rlp_prefixes_and_nesting)
{
    /* a 60-byte long string, a nested list, and long list */
    static const char *const GOOD[] = {
        "c7c0c1c0c3c0c1c0",                                   /* set theoretic 3 */
        "f83e83646f67b838" "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f3031323334353637",
        "cb83646f67c6c58363617480",
    };
    uint8_t b[256];
    for (size_t i = 0; i < WW_ARRAY_LEN(GOOD); i++) {
        size_t n = unhex(b, sizeof b, GOOD[i]);
        T_EQ_INT(ww_rlp_validate(t_guard(b, n), n, 8), WW_OK);
        for (size_t pre = 0; pre < n; pre++) {
            int rc = ww_rlp_validate(t_guard(b, pre), pre, 8);
            if (rc == WW_OK || rc == WW_E_INTERNAL) {
                t_fail_msg(__FILE__, __LINE__, "prefix %zu of vector %zu: rc %d", pre, i, rc);
                T_CHECK(rc != WW_OK);
            }
        }
        /* trailing byte */
        b[n] = 0x80;
        T_EQ_INT(ww_rlp_validate(b, n + 1, 8), WW_E_INVALID);
    }
    /* depth: 20 nested empty lists */
    uint8_t d[20];
    for (int i = 0; i < 20; i++)
        d[i] = (uint8_t)(0xc0 + 19 - i);
    T_EQ_INT(ww_rlp_validate(d, 20, 32), WW_OK);
    T_EQ_INT(ww_rlp_validate(d, 20, 5), WW_E_DEPTH);
    /* an item inside a list that runs past the list */
    static const uint8_t over[] = {0xc2, 0x83, 0x61, 0x62, 0x63};
    T_CHECK(ww_rlp_validate(over, sizeof over, 8) != WW_OK);
}

/* ---- ethereum corpus ---- */

/* Exceptions that are consensus rules (gas, fork, chain state, network chain id),
 * not properties of the bytes: a decoder may accept the transaction. */
static const struct {
    const char *exc, *reason;
} NOT_FROM_BYTES[] = {
        {"INTRINSIC_GAS_TOO_LOW", "intrinsic gas depends on the fork's gas schedule (no fork rules applied)"},
        {"INITCODE_SIZE_EXCEEDED", "initcode cap is a Shanghai rule (no fork rules applied)"},
        {"INSUFFICIENT_MAX_FEE_PER_GAS", "needs the block base fee"},
        {"INSUFFICIENT_MAX_FEE_PER_BLOB_GAS", "needs the blob base fee"},
        {"GAS_LIMIT_EXCEEDS_MAXIMUM", "EIP-7825 tx gas cap is an Osaka rule (no fork rules applied)"},
        {"TYPE_3_TX_BLOB_COUNT_EXCEEDED", "blob count limit is per fork (no fork rules applied)"},
        {"TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED", "blob gas limit is per fork (no fork rules applied)"},
        {"TYPE_3_TX_PRE_FORK", "type 3 before Cancun: fork activation"},
        {"INVALID_CHAINID", "the network's chain id (1) is not in the bytes"},
        {"NONCE_TOO_BIG", "nonce 2^64-1 (EIP-2681): account state rule"},
};
static int skip_count[WW_ARRAY_LEN(NOT_FROM_BYTES)];

/* index into NOT_FROM_BYTES, or -1 */
static int not_from_bytes(const char *exc)
{
    if (exc == NULL)
        return -1;
    for (size_t i = 0; i < WW_ARRAY_LEN(NOT_FROM_BYTES); i++)
        if (strstr(exc, NOT_FROM_BYTES[i].exc) != NULL)
            return (int)i;
    return -1;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int corpus_checked, corpus_skipped;

static void run_corpus_file(const char *rel)
{
    size_t len;
    uint8_t *txt = t_read_file(t_shared(rel), &len);
    if (txt == NULL) {
        t_fail_msg(__FILE__, __LINE__, "cannot read %s", rel);
        T_CHECK(txt != NULL);
        return;
    }
    cJSON *root = cJSON_ParseWithLength((const char *)txt, len);
    free(txt);
    T_CHECK(root != NULL);
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(root, "tests"), *t;
    static uint8_t raw[1 << 20];
    cJSON_ArrayForEach(t, tests)
    {
        const char *name = jstr(t, "name"), *rlp = jstr(t, "rlp"), *exc = jstr(t, "exception");
        const char *sender = jstr(t, "sender"), *hash = jstr(t, "hash");
        bool valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "valid"));
        if (rlp == NULL)
            continue;
        size_t n = unhex(raw, sizeof raw, rlp);
        ww_wallet_call wc;
        ww_evm_tx_info info;
        memset(&wc, 0, sizeof wc);
        int rc = ww_evm_decode_raw_tx(&wc, &info, raw, n);
        corpus_checked++;
        if (valid) {
            bool ok = rc == WW_OK && wc.signature_valid == 1;
            if (ok && sender != NULL)
                ok = strcmp(wc.from.text, sender) == 0;
            if (ok) {
                char want[67] = "0x";
                if (hash == NULL) {
                    uint8_t h[32];
                    ww_keccak256(h, raw, n);
                    hexstr(want + 2, h, 32);
                    hash = want;
                }
                ok = strcmp(wc.tx_hash, hash) == 0;
            }
            const cJSON *to = cJSON_GetObjectItemCaseSensitive(t, "to");
            if (ok && cJSON_IsString(to))
                ok = wc.has_to && strcmp(wc.to.text, to->valuestring) == 0;
            if (ok && cJSON_IsNull(to))
                ok = !wc.has_to && strcmp(wc.kind, "contract-creation") == 0;
            /* EIP-7702 signers */
            const cJSON *al = cJSON_GetObjectItemCaseSensitive(t, "authorizationList"), *a;
            cJSON_ArrayForEach(a, al)
            {
                const char *signer = jstr(a, "signer"), *sv = jstr(a, "s");
                bool seen = false, high_s = false;
                if (signer == NULL)
                    continue;
                if (sv != NULL) { /* EIP-7702: s > n/2 makes the tuple invalid */
                    char pad[65];
                    const char *h = sv + 2;
                    size_t hl = strlen(h);
                    if (hl <= 64) {
                        memset(pad, '0', 64 - hl);
                        memcpy(pad + 64 - hl, h, hl + 1);
                        high_s = strcmp(pad, "7fffffffffffffffffffffffffffffff5d576e7357a4501d"
                                             "dfe92f46681b20a0") > 0;
                    }
                }
                for (size_t i = 0; i < wc.n_parties; i++)
                    if (wc.parties[i].role == WW_ROLE_AUTHORITY &&
                        strcmp(wc.parties[i].addr.text, signer) == 0)
                        seen = true;
                if (high_s)
                    ok = ok && !seen;
                else
                    ok = ok && (seen || wc.n_parties == WW_WC_MAX_PARTIES);
            }
            if (!ok) {
                t_fail_msg(__FILE__, __LINE__, "%s: %s: rc %d sig %d from %s hash %s (%s)", rel,
                           name, rc, wc.signature_valid, wc.from.text, wc.tx_hash,
                           info.error ? info.error : "");
                T_CHECK(ok);
            }
        } else {
            bool rejected = rc != WW_OK || wc.signature_valid != 1;
            int why = not_from_bytes(exc);
            if (!rejected && why >= 0) {
                corpus_checked--;
                corpus_skipped++;
                skip_count[why]++;
                printf("  accepted, not decidable from bytes: %s: %s\n", rel, name);
                continue;
            }
            if (!rejected) {
                t_fail_msg(__FILE__, __LINE__, "%s: %s (%s) accepted", rel, name,
                           exc ? exc : "?");
                T_CHECK(rejected);
            }
            /* invalid but recoverable state tests state the sender: if we recovered, agree */
            if (rc == WW_OK && sender != NULL)
                T_EQ_STR(wc.from.text, sender);
        }
        /* every prefix fails cleanly */
        if (n < 2000) {
            for (size_t pre = 0; pre < n; pre++) {
                ww_wallet_call w2;
                memset(&w2, 0, sizeof w2);
                int r2 = ww_evm_decode_raw_tx(&w2, NULL, t_guard(raw, pre), pre);
                if (r2 == WW_OK) {
                    t_fail_msg(__FILE__, __LINE__, "%s: prefix %zu accepted", name, pre);
                    T_CHECK(r2 != WW_OK);
                    break;
                }
            }
        }
    }
    cJSON_Delete(root);
}

T_CASE(ethereum_corpus)
{
    static const char *const FILES[] = {
        "corpus/ethereum/tt_legacy_pre_eip155.json", "corpus/ethereum/tt_eip155.json",
        "corpus/ethereum/tt_eip2930.json",           "corpus/ethereum/tt_eip1559.json",
        "corpus/ethereum/tt_high_s_and_s_range.json", "corpus/ethereum/tt_invalid_signature.json",
        "corpus/ethereum/tt_bad_rlp.json",           "corpus/ethereum/tt_other_invalid.json",
        "corpus/ethereum/tt_rlp_element_count.json", "corpus/ethereum/st_type0_legacy.json",
        "corpus/ethereum/st_type1_eip2930.json",     "corpus/ethereum/st_type2_eip1559.json",
        "corpus/ethereum/st_type3_eip4844_blob.json",
        "corpus/ethereum/st_type4_eip7702_setcode.json",
    };
    FILE *f = fopen(t_shared(FILES[0]), "rb");
    if (f == NULL)
        T_SKIP("../shared/corpus/ethereum absent");
    fclose(f);
    corpus_checked = corpus_skipped = 0;
    memset(skip_count, 0, sizeof skip_count);
    for (size_t i = 0; i < WW_ARRAY_LEN(FILES); i++)
        run_corpus_file(FILES[i]);
    printf("ethereum corpus: %d vectors checked, %d skipped (consensus rules not in the bytes)\n",
           corpus_checked, corpus_skipped);
    for (size_t i = 0; i < WW_ARRAY_LEN(NOT_FROM_BYTES); i++)
        if (skip_count[i] > 0)
            printf("  skipped %2d x %s: %s\n", skip_count[i], NOT_FROM_BYTES[i].exc,
                   NOT_FROM_BYTES[i].reason);
    T_CHECK(corpus_checked >= 200);
}

/* ---- built transactions (fixed test key) ---- */
#include "tests/evm_build.h"

#define TOKEN "0xdac17f958d2ee523a2206206994597c13d831ec7"
#define TRANSFER_DATA                                                                              \
    "0xa9059cbb000000000000000000000000111122223333444455556666777788889999aaaa"                \
    "00000000000000000000000000000000000000000000000000000000000f4240"

T_CASE(tx_types_roundtrip)
{
    uint8_t raw[8192];
    for (int type = 0; type <= 4; type++) {
        size_t n = build_tx(raw, sizeof raw, type, 1, TOKEN, type == 0 ? 5 : 0, TRANSFER_DATA,
                            "0x00000000000000000000000000000000deadbeef", SIG_OK);
        ww_wallet_call wc;
        ww_evm_tx_info info;
        memset(&wc, 0, sizeof wc);
        int rc = ww_evm_decode_raw_tx(&wc, &info, t_guard(raw, n), n);
        T_EQ_INT(rc, WW_OK);
        T_EQ_INT(info.type, type);
        T_EQ_INT(wc.signature_valid, 1);
        T_EQ_STR(wc.from.text, TEST_KEY_ADDR);
        T_EQ_STR(wc.to.text, TOKEN);
        T_CHECK(wc.has_chain_id && wc.chain_id == 1);
        T_EQ_STR(wc.value, type == 0 ? "5" : "0");
        T_EQ_STR(wc.kind, "erc20-transfer");
        T_EQ_STR(wc.selector, "0xa9059cbb");
        T_EQ_STR(wc.amount, "1000000");
        T_CHECK(wc.has_token && strcmp(wc.token.text, TOKEN) == 0);
        T_CHECK(wc.n_parties >= 2);
        T_EQ_INT(wc.parties[0].role, WW_ROLE_TO);
        T_CHECK(wc.parties[0].payee == (type == 0)); /* the token gets value in type 0 */
        T_EQ_INT(wc.parties[1].role, WW_ROLE_RECIPIENT);
        T_CHECK(wc.parties[1].payee);
        T_EQ_STR(wc.parties[1].addr.text, "0x111122223333444455556666777788889999aaaa");
        uint8_t h[32];
        char hx[67] = "0x";
        ww_keccak256(h, raw, n);
        ww_hex_encode(hx + 2, h, 32);
        T_EQ_STR(wc.tx_hash, hx);
        if (type == 4) {
            T_EQ_INT(wc.n_parties, 4);
            T_EQ_INT(wc.parties[2].role, WW_ROLE_DELEGATE);
            T_CHECK(wc.parties[2].payee);
            T_EQ_STR(wc.parties[2].addr.text, "0x00000000000000000000000000000000deadbeef");
            T_EQ_INT(wc.parties[3].role, WW_ROLE_AUTHORITY);
            T_EQ_STR(wc.parties[3].addr.text, TEST_KEY_ADDR);
            T_EQ_INT(info.n_auth, 1);
            T_EQ_INT(info.n_auth_bad, 0);
        }
        /* every prefix fails, every single-byte flip never crashes */
        for (size_t pre = 0; pre < n; pre++) {
            ww_wallet_call w2;
            memset(&w2, 0, sizeof w2);
            if (ww_evm_decode_raw_tx(&w2, NULL, t_guard(raw, pre), pre) == WW_OK) {
                t_fail_msg(__FILE__, __LINE__, "type %d prefix %zu accepted", type, pre);
                T_CHECK(0);
                break;
            }
        }
        for (size_t i = 0; i < n; i++) {
            ww_wallet_call w2;
            uint8_t save = raw[i];
            raw[i] ^= 0x5a;
            memset(&w2, 0, sizeof w2);
            (void)ww_evm_decode_raw_tx(&w2, NULL, t_guard(raw, n), n);
            raw[i] = save;
        }
    }
    /* native transfer and creation */
    size_t n = build_tx(raw, sizeof raw, 2, 10, "0x3535353535353535353535353535353535353535",
                        1000000000000000000ULL, "", NULL, SIG_OK);
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    T_EQ_INT(ww_evm_decode_raw_tx(&wc, NULL, raw, n), WW_OK);
    T_EQ_STR(wc.kind, "native-transfer");
    T_EQ_STR(wc.value, "1000000000000000000");
    T_EQ_INT(wc.n_parties, 1);
    T_CHECK(wc.parties[0].payee);
    T_CHECK(wc.chain_id == 10);
    n = build_tx(raw, sizeof raw, 0, 1, "", 0, "0x6000", NULL, SIG_OK);
    memset(&wc, 0, sizeof wc);
    T_EQ_INT(ww_evm_decode_raw_tx(&wc, NULL, raw, n), WW_OK);
    T_EQ_STR(wc.kind, "contract-creation");
    T_CHECK(!wc.has_to);
    T_EQ_INT(wc.n_parties, 0);
}

T_CASE(tx_bad_signatures)
{
    uint8_t raw[8192];
    static const int MODES[] = {SIG_HIGH_S, SIG_BAD_V, SIG_ZERO_R};
    for (int type = 0; type <= 4; type++) {
        for (size_t m = 0; m < WW_ARRAY_LEN(MODES); m++) {
            size_t n = build_tx(raw, sizeof raw, type, 1, TOKEN, 0, TRANSFER_DATA,
                                "0x00000000000000000000000000000000deadbeef", MODES[m]);
            ww_wallet_call wc;
            ww_evm_tx_info info;
            memset(&wc, 0, sizeof wc);
            T_EQ_INT(ww_evm_decode_raw_tx(&wc, &info, raw, n), WW_E_CRYPTO);
            T_EQ_INT(wc.signature_valid, 0);
            T_CHECK(!wc.has_from);
            T_EQ_STR(wc.to.text, TOKEN); /* the fields are still there */
            T_EQ_STR(wc.kind, "erc20-transfer");
            T_CHECK(info.error != NULL);
        }
        /* signed over other bytes: recovers, but to someone else */
        size_t n = build_tx(raw, sizeof raw, type, 1, TOKEN, 0, "", "0x00000000000000000000000000000000deadbeef", SIG_WRONG_HASH);
        ww_wallet_call wc;
        memset(&wc, 0, sizeof wc);
        T_EQ_INT(ww_evm_decode_raw_tx(&wc, NULL, raw, n), WW_OK);
        T_CHECK(strcmp(wc.from.text, TEST_KEY_ADDR) != 0);
    }
    /* an r that is no curve point's x: does not recover */
    int norecover = 0;
    for (int r = 1; r < 40; r++) {
        tb_force_r = (uint8_t)r;
        size_t n = build_tx(raw, sizeof raw, 2, 1, TOKEN, 0, "", NULL, SIG_FORCE_R);
        ww_wallet_call wc;
        ww_evm_tx_info info;
        memset(&wc, 0, sizeof wc);
        int rc = ww_evm_decode_raw_tx(&wc, &info, raw, n);
        T_CHECK(rc == WW_OK || rc == WW_E_CRYPTO);
        if (rc == WW_E_CRYPTO && strstr(info.error, "does not recover"))
            norecover++;
    }
    T_CHECK(norecover > 0);
    /* unknown type, trailing byte */
    static const uint8_t t5[] = {0x05, 0xc0};
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    T_EQ_INT(ww_evm_decode_raw_tx(&wc, NULL, t5, sizeof t5), WW_E_UNSUPPORTED);
    size_t n = build_tx(raw, sizeof raw, 2, 1, TOKEN, 0, "", NULL, SIG_OK);
    raw[n] = 0;
    T_EQ_INT(ww_evm_decode_raw_tx(&wc, NULL, raw, n + 1), WW_E_INVALID);
}

/* ---- calldata ---- */

static int calldata(ww_wallet_call *wc, const char *hex, const char **why)
{
    static uint8_t b[1024];
    memset(wc, 0, sizeof *wc);
    wc->has_to = true;
    T_EQ_INT(ww_addr_parse(&wc->to, WW_CHAIN_EVM, TOKEN, strlen(TOKEN)), WW_OK);
    size_t n = hex[0] ? unhex(b, sizeof b, hex) : 0;
    return ww_evm_decode_calldata(wc, b, n, why);
}

#define W_ADDR(a) "000000000000000000000000" a
#define W_MAX "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define W_1E18 "0000000000000000000000000000000000000000000000000de0b6b3a7640000"

T_CASE(calldata_erc20)
{
    ww_wallet_call wc;
    const char *why;
    T_EQ_INT(calldata(&wc, "a9059cbb" W_ADDR("1111111111111111111111111111111111111111") W_1E18,
                      &why),
             WW_OK);
    T_EQ_STR(wc.kind, "erc20-transfer");
    T_EQ_STR(wc.amount, "1000000000000000000");
    T_EQ_INT(wc.n_parties, 2);
    T_EQ_STR(wc.parties[1].addr.text, "0x1111111111111111111111111111111111111111");

    T_EQ_INT(calldata(&wc,
                      "23b872dd" W_ADDR("1111111111111111111111111111111111111111")
                          W_ADDR("2222222222222222222222222222222222222222") W_1E18,
                      &why),
             WW_OK);
    T_EQ_STR(wc.kind, "erc20-transferFrom");
    T_EQ_INT(wc.parties[1].role, WW_ROLE_RECIPIENT);
    T_EQ_STR(wc.parties[1].addr.text, "0x2222222222222222222222222222222222222222");
    T_CHECK(wc.parties[1].payee);

    T_EQ_INT(calldata(&wc, "095ea7b3" W_ADDR("3333333333333333333333333333333333333333") W_MAX,
                      &why),
             WW_OK);
    T_EQ_STR(wc.kind, "erc20-approve");
    T_EQ_INT(wc.parties[1].role, WW_ROLE_SPENDER);
    T_CHECK(wc.parties[1].unlimited && wc.parties[1].payee);
    T_EQ_STR(wc.amount,
             "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    T_EQ_INT(calldata(&wc, "095ea7b3" W_ADDR("3333333333333333333333333333333333333333") W_1E18,
                      &why),
             WW_OK);
    T_CHECK(!wc.parties[1].unlimited);

    /* malformed: short, dirty address word -> contract-call, nothing guessed */
    T_EQ_INT(calldata(&wc, "a9059cbb" W_ADDR("1111111111111111111111111111111111111111"), &why),
             WW_E_INVALID);
    T_EQ_STR(wc.kind, "contract-call");
    T_EQ_INT(wc.n_parties, 1);
    T_EQ_STR(wc.amount, "");
    T_EQ_INT(calldata(&wc,
                      "a9059cbb" "000000000000000000000001" "1111111111111111111111111111111111111111" W_1E18,
                      &why),
             WW_E_INVALID);
    T_EQ_STR(wc.kind, "contract-call");
    T_EQ_INT(wc.n_parties, 1);
    T_CHECK(why != NULL);
    /* trailing bytes: decoded as the contract would, but reported */
    T_EQ_INT(calldata(&wc, "a9059cbb" W_ADDR("1111111111111111111111111111111111111111") W_1E18 "cafe",
                      &why),
             WW_E_INVALID);
    T_EQ_STR(wc.kind, "erc20-transfer");
    /* unknown selector, 3 bytes, empty */
    T_EQ_INT(calldata(&wc, "12345678ab", &why), WW_OK);
    T_EQ_STR(wc.kind, "contract-call");
    T_EQ_STR(wc.selector, "0x12345678");
    T_CHECK(wc.parties[0].payee); /* calldata not decoded: the target may pay anyone */
    T_EQ_INT(calldata(&wc, "123456", &why), WW_E_INVALID);
    T_EQ_STR(wc.selector, "");
    T_EQ_INT(calldata(&wc, "", &why), WW_OK);
    T_EQ_STR(wc.kind, "native-transfer");
    T_CHECK(wc.parties[0].payee);
}

T_CASE(tx_blob_network_wrapper)
{
    uint8_t raw[8192], wrapped[9000];
    size_t n = build_tx(raw, sizeof raw, 3, 1, TOKEN, 0, "", NULL, SIG_OK);
    tb w, pl;
    memset(&w, 0, sizeof w);
    memset(&pl, 0, sizeof pl);
    tb_put(&pl, raw + 1, n - 1); /* the body list */
    uint8_t blob[100] = {0};
    tb empty;
    memset(&empty, 0, sizeof empty);
    tb_str(&empty, blob, sizeof blob);
    tb_list(&pl, &empty); /* blobs */
    tb_list(&pl, &empty); /* commitments */
    tb_list(&pl, &empty); /* proofs */
    uint8_t t3 = 3;
    tb_put(&w, &t3, 1);
    tb_list(&w, &pl);
    memcpy(wrapped, w.b, w.n);
    ww_wallet_call a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    T_EQ_INT(ww_evm_decode_raw_tx(&a, NULL, raw, n), WW_OK);
    T_EQ_INT(ww_evm_decode_raw_tx(&b, NULL, wrapped, w.n), WW_OK);
    T_EQ_STR(a.tx_hash, b.tx_hash); /* hash of the canonical form */
    T_EQ_STR(b.from.text, TEST_KEY_ADDR);
    T_EQ_STR(b.kind, "native-transfer");
}
