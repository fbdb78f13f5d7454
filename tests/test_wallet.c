/*
 * test_wallet.c - issue 4: Solana transactions (corpus vectors, ATA derivation checked
 * against @solana/spl-token), EIP-712 permits, personal_sign, user operations, extended
 * calldata (bounds), and the detection rules they feed (authority-change, Solana token
 * owners through the ATA of a served wallet).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "decode/solana_int.h"
#include "decode/wallet_int.h"
#include "detect/detect.h"
#include "tests/t.h"

static ww_wallet_call WC[32];
static int n_anom;
static void on_anom(void *ud, const char *l, const char *t, const char *d)
{
    (void)ud;
    (void)l;
    (void)t;
    (void)d;
    n_anom++;
}

static int req(const char *body, size_t *num)
{
    size_t n = strlen(body);
    n_anom = 0;
    *num = WW_ARRAY_LEN(WC);
    memset(WC, 0, sizeof WC);
    return ww_jsonrpc_decode_request(WC, num, t_guard(body, n), n, 64, on_anom, NULL);
}

static const ww_party *party(const ww_wallet_call *wc, int role)
{
    for (size_t i = 0; i < wc->n_parties; i++)
        if (wc->parties[i].role == role)
            return &wc->parties[i];
    return NULL;
}

static size_t hexbytes(uint8_t *out, size_t cap, const char *hex)
{
    ssize_t n = ww_hex_decode(out, cap, hex, strlen(hex));
    T_CHECK(n >= 0);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- base58 / ATA ---- */

T_CASE(sol_b58_roundtrip)
{
    uint8_t k[32], back[32];
    char t[96];
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(i * 37 + 1);
    k[0] = 0;
    size_t n = ww_b58_encode(t, sizeof t, k, 32);
    T_CHECK(n > 0 && t[0] == '1');
    T_EQ_INT(ww_b58_decode(back, sizeof back, t, n), 32);
    T_EQ_MEM(back, k, 32);
    T_EQ_INT(ww_b58_decode(back, sizeof back, "0OIl", 4), -1);
    T_EQ_INT(ww_b58_decode(back, 2, "zzzzzz", 6), -1); /* does not fit */
}

T_CASE(sol_ata_matches_spl_token)
{
    size_t len;
    uint8_t *txt = t_read_file(t_src("tests/gen/wallet/ata_vectors.json"), &len);
    T_CHECK(txt != NULL);
    if (txt == NULL)
        return;
    cJSON *root = cJSON_ParseWithLength((const char *)txt, len), *e;
    int n = 0;
    cJSON_ArrayForEach(e, root)
    {
        uint8_t w[32], m[32], p[32], want[32], got[32];
        const char *f[4] = {"wallet", "mint", "program", "ata"};
        uint8_t *dst[4] = {w, m, p, want};
        for (int i = 0; i < 4; i++) {
            const char *s = cJSON_GetObjectItem(e, f[i])->valuestring;
            T_EQ_INT(ww_b58_decode(dst[i], 32, s, strlen(s)), 32);
        }
        T_CHECK(ww_solana_ata(got, w, m, p));
        T_EQ_MEM(got, want, 32);
        n++;
    }
    T_EQ_INT(n, 12);
    cJSON_Delete(root);
    free(txt);
}

/* ---- corpus ---- */

static cJSON *load_shared(const char *rel)
{
    size_t len;
    uint8_t *b = t_read_file(t_shared(rel), &len);
    if (b == NULL)
        return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)b, len);
    free(b);
    return j;
}

T_CASE(sol_corpus_web3js_wire)
{
    cJSON *j = load_shared("corpus/solana/web3js_v1_wire_transactions.json");
    if (j == NULL)
        T_SKIP("../shared/corpus/solana absent");
    cJSON *v = cJSON_GetObjectItem(j, "vectors");
    static uint8_t buf[4096];
    for (int i = 0; i < 3; i++) {
        const char *b64 = cJSON_GetObjectItem(cJSON_GetArrayItem(v, i), "wire_base64")->valuestring;
        ssize_t n = ww_b64_decode(buf, sizeof buf, b64, strlen(b64));
        T_CHECK(n > 0);
        ww_wallet_call wc;
        ww_solana_tx_info info;
        memset(&wc, 0, sizeof wc);
        int rc = ww_solana_decode_tx(&wc, &info, buf, (size_t)n, false);
        T_EQ_INT(rc, WW_OK);
        if (i < 2) {
            T_EQ_INT(info.version, -1);
            T_EQ_STR(wc.kind, "sol-transfer");
            T_EQ_STR(wc.from.text, "2KW2XRd9kwqet15Aha2oK3tYvd3nWbTFH1MBiRAv1BE1");
            T_EQ_STR(wc.value, "49");
            const ww_party *p = party(&wc, WW_ROLE_RECIPIENT);
            T_CHECK(p != NULL && p->payee);
            if (p)
                T_EQ_STR(p->addr.text, "J3dxNj7nDRRqRRXuEMynDG57DkZK4jYRuv3Garmb1i99");
            T_EQ_INT(wc.signature_valid, i == 0 ? 1 : -1);
            T_CHECK(i == 0 ? wc.tx_hash[0] != '\0' : wc.tx_hash[0] == '\0');
            /* one flipped signature bit: invalid */
            if (i == 0) {
                buf[5] ^= 1;
                memset(&wc, 0, sizeof wc);
                T_EQ_INT(ww_solana_decode_tx(&wc, &info, buf, (size_t)n, false), WW_E_CRYPTO);
                T_EQ_INT(wc.signature_valid, 0);
            }
            /* every prefix fails cleanly */
            for (ssize_t k = 0; k < n; k++) {
                const uint8_t *g = t_guard(buf, (size_t)k);
                memset(&wc, 0, sizeof wc);
                T_CHECK(ww_solana_decode_tx(&wc, &info, g, (size_t)k, false) < 0);
            }
        } else {
            T_EQ_INT(info.version, 0);
            T_EQ_INT(wc.signature_valid, 1);
        }
    }
    cJSON_Delete(j);
}

T_CASE(sol_corpus_kit_messages)
{
    cJSON *j = load_shared("corpus/solana/kit_message_codec_vectors.json"), *e;
    if (j == NULL)
        T_SKIP("../shared/corpus/solana absent");
    static uint8_t buf[4096];
    int checked = 0, rejected = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "vectors"))
    {
        const cJSON *hx = cJSON_GetObjectItem(e, "bytes_hex");
        const cJSON *exp = cJSON_GetObjectItem(e, "expected");
        if (!cJSON_IsString(hx))
            continue;
        size_t n = hexbytes(buf, sizeof buf, hx->valuestring);
        ww_sol_msg m;
        ssize_t rc = ww_solana_msg_parse(&m, buf, n);
        const cJSON *ver = cJSON_GetObjectItem(exp, "version");
        if (!cJSON_IsObject(exp) && n > 1 && (buf[0] & 0x80) == 0x80 && buf[0] != 0x80) {
            T_CHECK(rc == WW_E_UNSUPPORTED); /* v1, v2: refused cleanly */
            rejected++;
            continue;
        }
        if (!cJSON_IsObject(exp)) {
            T_CHECK(rc == (ssize_t)n); /* assertion-only vector: decodes */
            continue;
        }
        if (cJSON_GetObjectItem(exp, "header") == NULL || (cJSON_IsNumber(ver) && ver->valueint >= 1)) {
            /* v1 / v2 / error vectors: we do not decode them; they must be refused cleanly */
            T_CHECK(rc < 0);
            rejected++;
            continue;
        }
        T_EQ_INT(rc, (ssize_t)n);
        const cJSON *h = cJSON_GetObjectItem(exp, "header");
        T_EQ_INT(m.n_required_sigs, cJSON_GetObjectItem(h, "numSignerAccounts")->valueint);
        T_EQ_INT(m.n_readonly_signed, cJSON_GetObjectItem(h, "numReadonlySignerAccounts")->valueint);
        T_EQ_INT(m.n_readonly_unsigned,
                 cJSON_GetObjectItem(h, "numReadonlyNonSignerAccounts")->valueint);
        T_EQ_INT(m.version, cJSON_IsString(ver) ? -1 : ver->valueint);
        const cJSON *sa = cJSON_GetObjectItem(exp, "staticAccounts");
        T_EQ_INT(m.n_keys, cJSON_GetArraySize(sa));
        for (size_t k = 0; k < m.n_keys; k++) {
            char t[96];
            ww_b58_encode(t, sizeof t, m.keys + 32 * k, 32);
            T_EQ_STR(t, cJSON_GetArrayItem(sa, (int)k)->valuestring);
        }
        char bh[96];
        ww_b58_encode(bh, sizeof bh, m.blockhash, 32);
        T_EQ_STR(bh, cJSON_GetObjectItem(exp, "lifetimeToken")->valuestring);
        const cJSON *ixs = cJSON_GetObjectItem(exp, "instructions");
        T_EQ_INT(m.n_ix, cJSON_GetArraySize(ixs));
        for (size_t k = 0; k < m.n_ix && k < (size_t)cJSON_GetArraySize(ixs); k++) {
            const cJSON *x = cJSON_GetArrayItem(ixs, (int)k);
            T_EQ_INT(m.ix[k].program, cJSON_GetObjectItem(x, "programAddressIndex")->valueint);
            const cJSON *d = cJSON_GetObjectItem(x, "data");
            T_EQ_INT(m.ix[k].n_data, d ? cJSON_GetArraySize(d) : 0);
            for (size_t b = 0; b < m.ix[k].n_data && d; b++)
                T_EQ_INT(m.ix[k].data[b], cJSON_GetArrayItem(d, (int)b)->valueint);
        }
        const cJSON *alts = cJSON_GetObjectItem(exp, "addressTableLookups");
        T_EQ_INT(m.n_alt, alts ? cJSON_GetArraySize(alts) : 0);
        checked++;
    }
    T_CHECK(checked >= 7);
    T_CHECK(rejected >= 1);
    cJSON_Delete(j);
}

/* ---- a synthetic SPL transaction (message only) ---- */

typedef struct msgb {
    uint8_t b[1024];
    size_t n;
} msgb;
static void mb(msgb *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void mb1(msgb *m, uint8_t x)
{
    mb(m, &x, 1);
}

static void key_of(uint8_t out[32], const char *b58)
{
    T_EQ_INT(ww_b58_decode(out, 32, b58, strlen(b58)), 32);
}

#define TOKEN_PROG "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
#define MINT "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
#define PAYER "2KW2XRd9kwqet15Aha2oK3tYvd3nWbTFH1MBiRAv1BE1"
#define OWNER "J3dxNj7nDRRqRRXuEMynDG57DkZK4jYRuv3Garmb1i99"

/* legacy message: [payer, src, dest, mint, token program]; transferChecked 1000000 dec 6 */
static size_t build_transfer_checked(uint8_t *out, const char *dest_owner, bool approve_max)
{
    msgb m = {.n = 0};
    uint8_t k[5][32], dest[32];
    key_of(k[0], PAYER);
    memset(k[1], 0x33, 32);
    key_of(k[3], MINT);
    key_of(k[4], TOKEN_PROG);
    uint8_t w[32];
    key_of(w, dest_owner);
    T_CHECK(ww_solana_ata(dest, w, k[3], k[4]));
    memcpy(k[2], dest, 32);
    mb1(&m, 1);
    mb1(&m, 0);
    mb1(&m, 2);
    mb1(&m, 5);
    for (int i = 0; i < 5; i++)
        mb(&m, k[i], 32);
    uint8_t bh[32];
    memset(bh, 0x44, 32);
    mb(&m, bh, 32);
    mb1(&m, approve_max ? 2 : 1);
    mb1(&m, 4); /* program index */
    mb1(&m, 4);
    mb(&m, "\x01\x03\x02\x00", 4);
    mb1(&m, 10);
    mb(&m, "\x0c\x40\x42\x0f\x00\x00\x00\x00\x00\x06", 10);
    if (approve_max) { /* Approve u64::MAX to account 2 as delegate */
        mb1(&m, 4);
        mb1(&m, 3);
        mb(&m, "\x01\x02\x00", 3);
        mb1(&m, 9);
        mb(&m, "\x04\xff\xff\xff\xff\xff\xff\xff\xff", 9);
    }
    memcpy(out, m.b, m.n);
    return m.n;
}

T_CASE(sol_spl_transfer_checked)
{
    uint8_t b[1024];
    size_t n = build_transfer_checked(b, OWNER, true);
    ww_wallet_call wc;
    ww_solana_tx_info info;
    memset(&wc, 0, sizeof wc);
    T_EQ_INT(ww_solana_decode_tx(&wc, &info, t_guard(b, n), n, true), WW_OK);
    T_CHECK(info.bare_message);
    T_EQ_STR(wc.kind, "spl-transferChecked");
    T_EQ_STR(wc.amount, "1000000");
    T_CHECK(wc.has_token);
    T_EQ_STR(wc.token.text, MINT);
    const ww_party *p = party(&wc, WW_ROLE_RECIPIENT);
    T_CHECK(p != NULL && p->sol_token_account && p->sol_has_mint);
    const ww_party *s = party(&wc, WW_ROLE_SPENDER);
    T_CHECK(s != NULL && s->unlimited);
    /* detect's question: is the destination the ATA of the served owner? */
    ww_addr own;
    T_EQ_INT(ww_addr_parse(&own, WW_CHAIN_SOLANA, OWNER, strlen(OWNER)), WW_OK);
    if (p) {
        T_CHECK(ww_solana_ata_is(&p->addr, &own, p->sol_mint, p->sol_token_program));
        ww_addr att;
        T_EQ_INT(ww_addr_parse(&att, WW_CHAIN_SOLANA, PAYER, strlen(PAYER)), WW_OK);
        T_CHECK(!ww_solana_ata_is(&p->addr, &att, p->sol_mint, p->sol_token_program));
    }
    for (size_t k = 0; k < n; k++) {
        memset(&wc, 0, sizeof wc);
        T_CHECK(ww_solana_decode_tx(&wc, &info, t_guard(b, k), k, true) < 0);
    }
}

T_CASE(sol_rpc_methods)
{
    size_t num;
    int rc = req("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"simulateTransaction\",\"params\":["
                 "\"AVuErQHaXv0SG0/PchunfxHKt8wMRfMZzqV0tkC5qO6owYxWU2v871AoWywGoFQr4z+q/7mE8lIufNl/"
                 "kxj+nQ0BAAEDE5j2LG0aRXxRumpLXz29L2n8qTIWIY3ImX5Ba9F9k8r9Q5/Mtmcn8onFxt47xKj+"
                 "XdXXd3C8j/FcPu7csUrz/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAxJrndgN4IFTxep3s6k"
                 "O0ROug7bEsbx0xxuDkqEvwUusBAgIAAQwCAAAAMQAAAAAAAAA=\",{\"encoding\":\"base64\"}]}",
                 &num);
    T_EQ_INT(rc, 1);
    T_EQ_INT(num, 1);
    T_EQ_INT(WC[0].chain, WW_CHAIN_SOLANA);
    T_EQ_STR(WC[0].value, "49");
    /* default encoding is base58: base64 text must then fail, not be guessed */
    rc = req("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"sendTransaction\",\"params\":[\"AVuE+/=\"]}",
             &num);
    T_EQ_INT(num, 0);
    T_CHECK(n_anom > 0);
    /* a forwarded wallet-standard payload without a method */
    uint8_t b[1024];
    char b58[2048];
    size_t n = build_transfer_checked(b, OWNER, false);
    /* base58 of a long buffer: encode in 64-byte-free way via the decoder's inverse is not
     * exposed; use base64 through "transaction" instead */
    static const char T64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) |
                     (i + 2 < n ? b[i + 2] : 0);
        b58[o++] = T64[v >> 18];
        b58[o++] = T64[(v >> 12) & 63];
        b58[o++] = i + 1 < n ? T64[(v >> 6) & 63] : '=';
        b58[o++] = i + 2 < n ? T64[v & 63] : '=';
    }
    b58[o] = '\0';
    char body[4096];
    snprintf(body, sizeof body, "{\"transaction\":\"%s\"}", b58);
    rc = req(body, &num);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "spl-transferChecked");
    T_EQ_STR(WC[0].method, "transaction");
}

/* ---- EVM: typed data, personal_sign, user operations, calldata ---- */

#define SPENDER "0x1111111111111111111111111111111111111111"

T_CASE(evm_typed_permit2_single)
{
    size_t num;
    int rc = req(
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"eth_signTypedData_v4\",\"params\":["
        "\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\",\"{\\\"types\\\":{},\\\"primaryType\\\":"
        "\\\"PermitSingle\\\",\\\"domain\\\":{\\\"name\\\":\\\"Permit2\\\",\\\"chainId\\\":\\\"1\\\","
        "\\\"verifyingContract\\\":\\\"0x000000000022D473030F116dDEE9F6B43aC78BA3\\\"},"
        "\\\"message\\\":{\\\"details\\\":{\\\"token\\\":\\\"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48\\\","
        "\\\"amount\\\":\\\"1461501637330902918203684832716283019655932542975\\\",\\\"expiration\\\":1,"
        "\\\"nonce\\\":0},\\\"spender\\\":\\\"" SPENDER "\\\",\\\"sigDeadline\\\":1}}\"]}",
        &num);
    T_EQ_INT(rc, 1);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "permit2-single");
    T_CHECK(WC[0].has_chain_id && WC[0].chain_id == 1);
    T_EQ_STR(WC[0].token.text, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
    const ww_party *s = party(&WC[0], WW_ROLE_SPENDER);
    T_CHECK(s != NULL && s->unlimited && s->payee);
    const ww_party *t = party(&WC[0], WW_ROLE_TO);
    T_CHECK(t != NULL && !t->payee);
    T_EQ_STR(WC[0].amount, "1461501637330902918203684832716283019655932542975");
}

T_CASE(evm_typed_permit_dai_seaport)
{
    size_t num;
    req("{\"id\":1,\"method\":\"eth_signTypedData_v4\",\"params\":[\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
        "{\"primaryType\":\"Permit\",\"domain\":{\"chainId\":1,\"verifyingContract\":"
        "\"0x6b175474e89094c44da98b954eedeac495271d0f\"},\"message\":{\"holder\":"
        "\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\",\"spender\":\"" SPENDER "\",\"nonce\":0,"
        "\"expiry\":0,\"allowed\":true}}]}",
        &num);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "permit");
    const ww_party *s = party(&WC[0], WW_ROLE_SPENDER);
    T_CHECK(s != NULL && s->unlimited);
    /* ERC-2612 with a bad EIP-55 spender keeps the flag */
    req("{\"id\":1,\"method\":\"eth_signTypedData_v3\",\"params\":[\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
        "{\"primaryType\":\"Permit\",\"domain\":{\"chainId\":\"0x1\"},\"message\":{\"owner\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
        "\"spender\":\"0x5AAEB6053F3E94C9b9A09f33669435E7Ef1BeAeD\",\"value\":\"5\"}}]}",
        &num);
    s = party(&WC[0], WW_ROLE_SPENDER);
    T_CHECK(s != NULL && !s->unlimited && (s->addr.flags & WW_ADDR_F_BAD_CHECKSUM));
    T_EQ_STR(WC[0].amount, "5");
    req("{\"id\":1,\"method\":\"eth_signTypedData_v4\",\"params\":[\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
        "{\"primaryType\":\"OrderComponents\",\"domain\":{\"chainId\":1},\"message\":{\"offerer\":"
        "\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\",\"consideration\":[{\"recipient\":"
        "\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"},{\"recipient\":\"" SPENDER "\"}]}}]}",
        &num);
    T_EQ_STR(WC[0].kind, "seaport-order");
    T_EQ_INT(WC[0].n_parties, 1);
    T_EQ_STR(WC[0].parties[0].addr.text, SPENDER);
}

T_CASE(evm_personal_sign)
{
    size_t num;
    req("{\"id\":1,\"method\":\"personal_sign\",\"params\":[\"0x68656c6c6f\",\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"]}",
        &num);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "message");
    T_EQ_INT(WC[0].n_parties, 0);
}

/* transfer(SPENDER, 1000) */
#define XFER "a9059cbb000000000000000000000000111111111111111111111111111111111111111100000000000000000000000000000000000000000000000000000000000003e8"

T_CASE(evm_userop_simple_account)
{
    size_t num;
    /* execute(token, 0, transfer(...)) */
    req("{\"id\":1,\"method\":\"eth_sendUserOperation\",\"params\":[{\"sender\":"
        "\"0x9999999999999999999999999999999999999999\",\"callData\":\"0xb61d27f6"
        "000000000000000000000000a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000060"
        "0000000000000000000000000000000000000000000000000000000000000044" XFER
        "00000000000000000000000000000000000000000000000000000000\"},"
        "\"0x0000000071727De22E5E9d8BAf0edAc6f37da032\"]}",
        &num);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "erc20-transfer");
    T_EQ_STR(WC[0].from.text, "0x9999999999999999999999999999999999999999");
    T_EQ_STR(WC[0].to.text, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
    T_EQ_STR(WC[0].amount, "1000");
    const ww_party *r = party(&WC[0], WW_ROLE_RECIPIENT);
    T_CHECK(r != NULL && r->payee);
    /* a length word pointing past the end: malformed, nothing guessed */
    req("{\"id\":1,\"method\":\"eth_sendUserOperation\",\"params\":[{\"sender\":"
        "\"0x9999999999999999999999999999999999999999\",\"callData\":\"0xb61d27f6"
        "000000000000000000000000a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000060"
        "00000000000000000000000000000000000000000000000000000000ffffffff\"}]}",
        &num);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "contract-call");
    T_CHECK(n_anom > 0);
}

T_CASE(evm_wallet_send_calls)
{
    size_t num;
    req("{\"id\":1,\"method\":\"wallet_sendCalls\",\"params\":[{\"version\":\"1.0\",\"chainId\":\"0x1\","
        "\"from\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\",\"calls\":["
        "{\"to\":\"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48\",\"data\":\"0x" XFER "\"},"
        "{\"to\":\"" SPENDER "\",\"value\":\"0x10\"}]}]}",
        &num);
    T_EQ_INT(num, 2);
    T_EQ_STR(WC[0].kind, "erc20-transfer");
    T_EQ_STR(WC[1].kind, "native-transfer");
    T_EQ_STR(WC[1].value, "16");
    T_CHECK(WC[1].has_chain_id && WC[1].chain_id == 1);
}

T_CASE(evm_calldata_more)
{
    uint8_t d[512];
    ww_wallet_call wc;
    const char *why;
    /* setApprovalForAll(SPENDER, true) */
    size_t n = hexbytes(d, sizeof d,
                        "a22cb465000000000000000000000000111111111111111111111111111111111111111"
                        "10000000000000000000000000000000000000000000000000000000000000001");
    memset(&wc, 0, sizeof wc);
    T_EQ_INT(ww_addr_parse(&wc.to, WW_CHAIN_EVM, "0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d", 42), WW_OK);
    wc.has_to = true;
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    T_EQ_STR(wc.kind, "setApprovalForAll");
    const ww_party *o = party(&wc, WW_ROLE_OPERATOR);
    T_CHECK(o != NULL && o->unlimited && o->payee);
    T_CHECK(!wc.parties[0].payee); /* the NFT contract called is not a payee */
    /* multicall(bytes[]) with one transfer inside */
    n = hexbytes(d, sizeof d,
                 "ac9650d8"
                 "0000000000000000000000000000000000000000000000000000000000000020"
                 "0000000000000000000000000000000000000000000000000000000000000001"
                 "0000000000000000000000000000000000000000000000000000000000000020"
                 "0000000000000000000000000000000000000000000000000000000000000044" XFER
                 "00000000000000000000000000000000000000000000000000000000");
    memset(&wc, 0, sizeof wc);
    T_EQ_INT(ww_addr_parse(&wc.to, WW_CHAIN_EVM, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", 42), WW_OK);
    wc.has_to = true;
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    T_CHECK(party(&wc, WW_ROLE_RECIPIENT) != NULL);
    /* every truncation of it is refused or decoded without reading past the end */
    for (size_t k = 4; k < n; k++) {
        memset(&wc, 0, sizeof wc);
        wc.has_to = true;
        (void)ww_evm_decode_calldata(&wc, t_guard(d, k), k, &why);
    }
    /* huge array count */
    n = hexbytes(d, sizeof d,
                 "ac9650d8"
                 "0000000000000000000000000000000000000000000000000000000000000020"
                 "00000000000000000000000000000000000000000000000000000000ffffffff");
    memset(&wc, 0, sizeof wc);
    wc.has_to = true;
    T_EQ_INT(ww_evm_decode_calldata(&wc, t_guard(d, n), n, &why), WW_E_INVALID);
}

/* Universal Router: execute(bytes commands, bytes[] inputs, uint256 deadline) built word by
 * word: TRANSFER to R, V3_SWAP_EXACT_IN to MSG_SENDER (not a party), an unknown 0x21. */
#define W0 "0000000000000000000000000000000000000000000000000000000000000000"
#define WADDR(a40) "000000000000000000000000" a40
#define WN(h2) "00000000000000000000000000000000000000000000000000000000000000" h2
static void call_to(ww_wallet_call *wc, const char *to, const char *value)
{
    memset(wc, 0, sizeof *wc);
    T_EQ_INT(ww_addr_parse(&wc->to, WW_CHAIN_EVM, to, strlen(to)), WW_OK);
    wc->has_to = true;
    snprintf(wc->value, sizeof wc->value, "%s", value);
}

/* issue 13.4: the target is a payee when it gets value or its calldata is not decoded; grants
 * and revocations told apart; every token of a batch on its own party. */
T_CASE(evm_payees_and_revocations)
{
    uint8_t d[1024];
    ww_wallet_call wc;
    const char *why;
    const char *C = "0x1111111111111111111111111111111111111111";
    /* SecurityUpdate() (0x5fba79f5) with 3 ETH to a contract: the contract is a payee */
    size_t n = hexbytes(d, sizeof d, "5fba79f5");
    call_to(&wc, C, "3000000000000000000");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    T_CHECK(wc.parties[0].role == WW_ROLE_TO && wc.parties[0].payee);
    /* ... and without value too (calldata not decoded: it may pay anyone) */
    call_to(&wc, C, "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    T_CHECK(wc.parties[0].payee);
    /* a decoded ERC-20 transfer without value: the token contract is not a payee; the
     * recipient carries the token and amount */
    n = hexbytes(d, sizeof d, "a9059cbb" WADDR("2222222222222222222222222222222222222222") WN("64"));
    call_to(&wc, C, "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    T_CHECK(!wc.parties[0].payee);
    const ww_party *r = party(&wc, WW_ROLE_RECIPIENT);
    T_CHECK(r != NULL && r->has_token && strcmp(r->token.text, C) == 0);
    T_EQ_STR(r->amount, "100");
    /* the same with value: payee */
    call_to(&wc, C, "5");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    T_CHECK(wc.parties[0].payee);

    /* approve(s, 0): a revocation, not unlimited */
    n = hexbytes(d, sizeof d, "095ea7b3" WADDR("2222222222222222222222222222222222222222") W0);
    call_to(&wc, C, "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    r = party(&wc, WW_ROLE_SPENDER);
    T_CHECK(r != NULL && r->revocation && !r->unlimited);
    /* approve(s, max): a grant */
    n = hexbytes(d, sizeof d, "095ea7b3" WADDR("2222222222222222222222222222222222222222")
                 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    call_to(&wc, C, "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    r = party(&wc, WW_ROLE_SPENDER);
    T_CHECK(r != NULL && !r->revocation && r->unlimited);
    /* setApprovalForAll(op, false) / (op, true) */
    n = hexbytes(d, sizeof d, "a22cb465" WADDR("3333333333333333333333333333333333333333") W0);
    call_to(&wc, C, "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    r = party(&wc, WW_ROLE_OPERATOR);
    T_CHECK(r != NULL && r->revocation && !r->unlimited);
    n = hexbytes(d, sizeof d, "a22cb465" WADDR("3333333333333333333333333333333333333333") WN("01"));
    call_to(&wc, C, "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    r = party(&wc, WW_ROLE_OPERATOR);
    T_CHECK(r != NULL && !r->revocation && r->unlimited);
    /* DAI permit(holder, spender, nonce, expiry, allowed=false, v, r, s) */
    n = hexbytes(d, sizeof d, "8fcbaf0c" WADDR("4444444444444444444444444444444444444444")
                 WADDR("3333333333333333333333333333333333333333") W0 WN("ff") W0 WN("1b") W0 W0);
    call_to(&wc, C, "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    r = party(&wc, WW_ROLE_SPENDER);
    T_CHECK(r != NULL && r->revocation && !r->unlimited);
    /* Permit2 approve(token, spender, 0, exp) */
    n = hexbytes(d, sizeof d, "87517c45" WADDR("dac17f958d2ee523a2206206994597c13d831ec7")
                 WADDR("3333333333333333333333333333333333333333") W0 WN("ff"));
    call_to(&wc, "0x000000000022d473030f116ddee9f6b43ac78ba3", "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    r = party(&wc, WW_ROLE_SPENDER);
    T_CHECK(r != NULL && r->revocation && r->has_token &&
            strcmp(r->token.text, "0xdac17f958d2ee523a2206206994597c13d831ec7") == 0);
    T_EQ_STR(r->amount, "0");
}

/* Universal Router 0x03 PERMIT2_PERMIT_BATCH granting the maximum of two tokens to A */
T_CASE(evm_router_permit_batch)
{
    uint8_t d[2048];
    ww_wallet_call wc;
    const char *why;
#define MAX160 "000000000000000000000000ffffffffffffffffffffffffffffffffffffffff"
    /* input: abi.encode(PermitBatch pb, bytes sig): [off pb=0x40][off sig] pb: [off details=0x60]
     * [spender][sigDeadline] details: [2] (tok, amt, exp, nonce) x2; sig: [0] */
    const char *input =
        WN("40") "0000000000000000000000000000000000000000000000000000000000000180"
        WN("60") WADDR("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") WN("ff")
        WN("02") WADDR("dac17f958d2ee523a2206206994597c13d831ec7") MAX160 WN("01") W0
        WADDR("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48") WN("05") WN("01") WN("01") W0;
    char hex[4096];
    snprintf(hex, sizeof hex,
             "24856bc3" WN("40") WN("80") /* commands@0x40, inputs@0x80 */
             WN("01") "0300000000000000000000000000000000000000000000000000000000000000"
             WN("01") WN("20") "%064zx%s",
             strlen(input) / 2, input);
    size_t n = hexbytes(d, sizeof d, hex);
    T_CHECK(n > 0);
    call_to(&wc, "0x66a9893cc07d91d95644aedd05d03f95e1dba8af", "0");
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    T_EQ_INT((int)wc.n_parties, 3);
    T_CHECK(wc.parties[1].role == WW_ROLE_SPENDER && wc.parties[1].unlimited);
    T_EQ_STR(wc.parties[1].addr.text, "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    T_EQ_STR(wc.parties[1].token.text, "0xdac17f958d2ee523a2206206994597c13d831ec7");
    T_CHECK(!wc.parties[2].unlimited);
    T_EQ_STR(wc.parties[2].amount, "5");
    T_EQ_STR(wc.parties[2].token.text, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
    for (size_t k = 4; k < n; k++) {
        call_to(&wc, "0x66a9893cc07d91d95644aedd05d03f95e1dba8af", "0");
        (void)ww_evm_decode_calldata(&wc, t_guard(d, k), k, &why);
    }
}

/* EIP-7702 self-call: executeBatch((address,uint256,bytes)[]) 0x34fcd5be sent to the sender's
 * own delegated account: 1 ETH to P, and USDC transfer to Q. */
T_CASE(evm_7702_self_call)
{
    uint8_t d[2048];
    ww_wallet_call wc;
    const char *why;
    const char *self = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
    const char *hex =
        "34fcd5be" WN("20") WN("02") WN("40") WN("c0")
        /* call 0: (P, 1e18, "") */
        WADDR("1212121212121212121212121212121212121212")
        "0000000000000000000000000000000000000000000000000de0b6b3a7640000" WN("60") W0
        /* call 1: (USDC, 0, transfer(Q, 7)) */
        WADDR("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48") W0 WN("60") WN("44")
        "a9059cbb" WADDR("3434343434343434343434343434343434343434") WN("07")
        "00000000000000000000000000000000000000000000000000000000";
    size_t n = hexbytes(d, sizeof d, hex);
    T_CHECK(n > 0);
    call_to(&wc, self, "0");
    (void)ww_evm_decode_calldata(&wc, d, n, &why);
    T_CHECK(wc.parties[0].payee); /* not known as a self-call yet (from unknown) */
    T_EQ_INT(ww_addr_parse(&wc.from, WW_CHAIN_EVM, self, 42), WW_OK);
    wc.has_from = true;
    T_EQ_INT(ww_evm_decode_selfcall(&wc, d, n), WW_OK);
    T_EQ_STR(wc.kind, "self-call");
    T_CHECK(!wc.parties[0].payee); /* the account itself */
    bool saw_p = false, saw_q = false;
    for (size_t i = 0; i < wc.n_parties; i++) {
        const ww_party *p = &wc.parties[i];
        if (strcmp(p->addr.text, "0x1212121212121212121212121212121212121212") == 0)
            saw_p = p->role == WW_ROLE_RECIPIENT && p->payee &&
                    strcmp(p->amount, "1000000000000000000") == 0;
        if (strcmp(p->addr.text, "0x3434343434343434343434343434343434343434") == 0)
            saw_q = p->role == WW_ROLE_RECIPIENT && p->has_token && strcmp(p->amount, "7") == 0;
    }
    T_CHECK(saw_p);
    T_CHECK(saw_q);
    /* not a self-call: untouched */
    call_to(&wc, "0x1111111111111111111111111111111111111111", "0");
    T_EQ_INT(ww_addr_parse(&wc.from, WW_CHAIN_EVM, self, 42), WW_OK);
    wc.has_from = true;
    T_EQ_INT(ww_evm_decode_selfcall(&wc, d, n), WW_E_NOTFOUND);
    /* every truncation: never past the end */
    for (size_t k = 0; k < n; k++) {
        call_to(&wc, self, "0");
        T_EQ_INT(ww_addr_parse(&wc.from, WW_CHAIN_EVM, self, 42), WW_OK);
        wc.has_from = true;
        (void)ww_evm_decode_selfcall(&wc, t_guard(d, k), k);
    }
}

T_CASE(evm_universal_router)
{
    uint8_t d[1024];
    ww_wallet_call wc;
    const char *why;
    const char *hex =
        "3593564c" WN("60") WN("a0") WN("ff") /* commands@0x60, inputs@0xa0, deadline */
        WN("03") "05803f" "0000000000000000000000000000000000000000000000000000000000" /* 3 cmds */
        WN("03") WN("60") WN("e0") WN("e0") /* inputs: 3 offsets (3rd shares the 2nd's bytes) */
        WN("60") WADDR("dac17f958d2ee523a2206206994597c13d831ec7")
        WADDR("2222222222222222222222222222222222222222") WN("05")
        WN("40") WADDR("0000000000000000000000000000000000000001") WN("09");
    size_t n = hexbytes(d, sizeof d, hex);
    T_CHECK(n > 0);
    memset(&wc, 0, sizeof wc);
    T_EQ_INT(ww_addr_parse(&wc.to, WW_CHAIN_EVM, "0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad", 42), WW_OK);
    wc.has_to = true;
    /* 0x3f is no command of the router: decoded around, reported (not skipped silently) */
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_E_INVALID);
    T_CHECK(why != NULL && strstr(why, "not known") != NULL);
    T_EQ_STR(wc.kind, "universal-router");
    T_EQ_INT((int)wc.n_parties, 2); /* the router (TO) + R; MSG_SENDER and 0x3f are not parties */
    const ww_party *r = party(&wc, WW_ROLE_RECIPIENT);
    T_CHECK(r != NULL && r->payee && strcmp(r->addr.text, "0x2222222222222222222222222222222222222222") == 0);
    /* every truncation: refused or decoded, never read past the end */
    for (size_t k = 4; k < n; k++) {
        memset(&wc, 0, sizeof wc);
        wc.has_to = true;
        (void)ww_evm_decode_calldata(&wc, t_guard(d, k), k, &why);
        T_CHECK(wc.n_parties <= 2);
    }
    /* commands and inputs of different lengths: malformed, nothing decoded */
    d[4 + 32 * 3 + 31] = 0x02;
    memset(&wc, 0, sizeof wc);
    wc.has_to = true;
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_E_INVALID);
    T_CHECK(party(&wc, WW_ROLE_RECIPIENT) == NULL);
    /* PERMIT2_PERMIT alone: the spender, unlimited at 2^160-1 */
    hex = "24856bc3" WN("40") WN("80") WN("01") "0a00000000000000000000000000000000000000000000000000000000000000"
          WN("01") WN("20") WN("e0")
          WADDR("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
          "000000000000000000000000ffffffffffffffffffffffffffffffffffffffff" W0 W0
          WADDR("3333333333333333333333333333333333333333") WN("10") WN("e0");
    n = hexbytes(d, sizeof d, hex);
    memset(&wc, 0, sizeof wc);
    wc.has_to = true;
    T_EQ_INT(ww_evm_decode_calldata(&wc, d, n, &why), WW_OK);
    const ww_party *sp = party(&wc, WW_ROLE_SPENDER);
    T_CHECK(sp != NULL && sp->unlimited &&
            strcmp(sp->addr.text, "0x3333333333333333333333333333333333333333") == 0);
}

/* ---- detection ---- */

typedef struct dfx {
    FILE *f;
    ww_out *out;
    ww_detect *det;
    ww_decode_sink sink;
    ww_flow flow;
} dfx;

static void dfx_init(dfx *x)
{
    memset(x, 0, sizeof *x);
    x->f = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = x->f;
    oc.format = WW_FMT_JSONL;
    x->out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    x->det = ww_detect_new(NULL, &dc, x->out);
    ww_detect_sink(x->det, &x->sink);
    x->flow.id = 1;
    x->flow.cli_ip.family = 4;
    memcpy(x->flow.cli_ip.a, "\x0a\x00\x00\x05", 4);
}

static int count_rule(dfx *x, const char *rule)
{
    char line[4096];
    int n = 0;
    char pat[64];
    snprintf(pat, sizeof pat, "\"rule\":\"%s\"", rule);
    fflush(x->f);
    rewind(x->f);
    while (fgets(line, sizeof line, x->f))
        if (strstr(line, pat))
            n++;
    return n;
}

static void dfx_free(dfx *x)
{
    ww_detect_free(x->det);
    ww_out_free(x->out);
    fclose(x->f);
}

static void serve_sol(dfx *x, const char *a)
{
    ww_ctx ctx = {0};
    ww_addr ad;
    T_EQ_INT(ww_addr_parse(&ad, WW_CHAIN_SOLANA, a, strlen(a)), WW_OK);
    ctx.ts_us = 1000;
    ctx.flow = &x->flow;
    ctx.dir = WW_DIR_TOCLIENT;
    x->sink.served(x->sink.ud, &ctx, &ad);
}

static void call(dfx *x, const ww_wallet_call *wc)
{
    ww_ctx ctx = {0};
    ctx.ts_us = 2000;
    ctx.flow = &x->flow;
    ctx.dir = WW_DIR_TOSERVER;
    x->sink.wallet_call(x->sink.ud, &ctx, wc);
}

T_CASE(detect_sol_ata_owner)
{
    uint8_t b[1024];
    ww_wallet_call wc;
    for (int hijack = 0; hijack < 2; hijack++) {
        dfx x;
        dfx_init(&x);
        serve_sol(&x, OWNER);
        size_t n = build_transfer_checked(b, hijack ? PAYER : OWNER, false);
        memset(&wc, 0, sizeof wc);
        snprintf(wc.method, sizeof wc.method, "sendTransaction");
        T_EQ_INT(ww_solana_decode_tx(&wc, NULL, b, n, true), WW_OK);
        call(&x, &wc);
        T_EQ_INT(count_rule(&x, "unrequested-recipient"), hijack ? 1 : 0);
        dfx_free(&x);
    }
}

T_CASE(detect_authority_change)
{
    dfx x;
    dfx_init(&x);
    serve_sol(&x, OWNER);
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_SOLANA;
    snprintf(wc.method, sizeof wc.method, "signTransaction");
    ww_addr a;
    T_EQ_INT(ww_addr_parse(&a, WW_CHAIN_SOLANA, PAYER, strlen(PAYER)), WW_OK);
    T_CHECK(ww_wc_add_party(&wc, WW_ROLE_AUTHORITY, false, false, &a));
    call(&x, &wc);
    T_EQ_INT(count_rule(&x, "authority-change"), 1);
    T_EQ_INT(count_rule(&x, "unrequested-recipient"), 0); /* not a payee */
    /* served authority: no alert */
    wc.parties[0].addr.len = 0;
    T_EQ_INT(ww_addr_parse(&wc.parties[0].addr, WW_CHAIN_SOLANA, OWNER, strlen(OWNER)), WW_OK);
    call(&x, &wc);
    T_EQ_INT(count_rule(&x, "authority-change"), 1);
    /* EIP-7702 delegate not served */
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    snprintf(wc.method, sizeof wc.method, "eth_sendRawTransaction");
    T_EQ_INT(ww_addr_parse(&a, WW_CHAIN_EVM, SPENDER, 42), WW_OK);
    T_CHECK(ww_wc_add_party(&wc, WW_ROLE_DELEGATE, true, false, &a));
    call(&x, &wc);
    T_EQ_INT(count_rule(&x, "authority-change"), 2);
    dfx_free(&x);
}

/* wallet_call output: operator / delegate / authority / mint fields, and a `parties` array
 * when a role has several parties (the field keeps the first). */
static bool out_has(dfx *x, const char *needle)
{
    char line[8192];
    bool found = false;
    fflush(x->f);
    rewind(x->f);
    while (fgets(line, sizeof line, x->f) != NULL)
        if (strstr(line, "\"event_type\":\"wallet_call\"") != NULL && strstr(line, needle) != NULL)
            found = true;
    return found;
}

T_CASE(output_wallet_call_roles)
{
    dfx x;
    dfx_init(&x);
    ww_wallet_call wc;
    ww_addr a, b, c;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    snprintf(wc.method, sizeof wc.method, "eth_sendRawTransaction");
    snprintf(wc.kind, sizeof wc.kind, "multicall");
    T_EQ_INT(ww_addr_parse(&a, WW_CHAIN_EVM, "0x1111111111111111111111111111111111111111", 42), WW_OK);
    T_EQ_INT(ww_addr_parse(&b, WW_CHAIN_EVM, "0x2222222222222222222222222222222222222222", 42), WW_OK);
    T_EQ_INT(ww_addr_parse(&c, WW_CHAIN_EVM, "0x3333333333333333333333333333333333333333", 42), WW_OK);
    T_CHECK(ww_wc_add_party(&wc, WW_ROLE_OPERATOR, true, true, &a));
    T_CHECK(ww_wc_add_party(&wc, WW_ROLE_DELEGATE, true, false, &b));
    T_CHECK(ww_wc_add_party(&wc, WW_ROLE_AUTHORITY, false, false, &c));
    call(&x, &wc);
    T_CHECK(out_has(&x, "\"operator\":\"0x1111111111111111111111111111111111111111\""));
    T_CHECK(out_has(&x, "\"delegate\":\"0x2222222222222222222222222222222222222222\""));
    T_CHECK(out_has(&x, "\"authority\":\"0x3333333333333333333333333333333333333333\""));
    T_CHECK(!out_has(&x, "\"parties\"")); /* one party per role: no array */
    /* two recipients: the first in the field, both in `parties` */
    T_CHECK(ww_wc_add_party(&wc, WW_ROLE_RECIPIENT, true, false, &b));
    T_CHECK(ww_wc_add_party(&wc, WW_ROLE_RECIPIENT, true, false, &c));
    call(&x, &wc);
    T_CHECK(out_has(&x, "\"recipient\":\"0x2222222222222222222222222222222222222222\""));
    T_CHECK(out_has(&x, "\"parties\":[{\"role\":\"operator\",\"address\":\"0x1111111111111111111111111111111111111111\",\"unlimited\":true},"));
    T_CHECK(out_has(&x, "{\"role\":\"recipient\",\"address\":\"0x3333333333333333333333333333333333333333\"}]"));
    /* Solana: the mint of the token operation */
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_SOLANA;
    snprintf(wc.method, sizeof wc.method, "sendTransaction");
    T_EQ_INT(ww_addr_parse(&wc.token, WW_CHAIN_SOLANA, OWNER, strlen(OWNER)), WW_OK);
    wc.has_token = true;
    call(&x, &wc);
    char want[128];
    snprintf(want, sizeof want, "\"mint\":\"%s\"", OWNER);
    T_CHECK(out_has(&x, want));
    dfx_free(&x);
}

/* Issue 13.4: an unchecked SPL Transfer (no mint) to ATA(served owner, mint) for any mint the
 * session saw (served, or named by an earlier call of this browser), under either token
 * program. Vectors from tests/gen/wallet/ata_vectors.json (derived by @solana/spl-token). */
#define V1_WALLET "6LFZNfJUX5fJNKSeDT5HYHjPjVU5UTmkzNuCMhUK88tK"
#define V1_MINT "9cfBkPsoQ2NV7wwMfcd5syMmDbbAB7YT3aPoaphgrLcF"
#define V1_ATA "ExGxaRw85XD28SrU4Y5FejYxi3gkGd3fggvg6CDcdZxc" /* SPL Token */
#define V2_WALLET "qyQUJc8dmNFZnPAPrwQDgSEgLZXbRWyoAMSMsX8n2X4"
#define V2_MINT "1sQquPWdvcKSJXsxS1QqCx9xdEHgYpqB1eHsWBqvisZ"
#define V2_ATA "HbHB1BCbet9eYoAKH23Ze5xdHkEmRHxDjYPsckNAdvrB" /* Token-2022 */

static ww_wallet_call sol_unchecked(const char *dest)
{
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_SOLANA;
    snprintf(wc.method, sizeof wc.method, "signAndSendTransaction");
    snprintf(wc.kind, sizeof wc.kind, "spl-transfer");
    wc.n_parties = 1;
    ww_party *p = &wc.parties[0];
    p->role = WW_ROLE_RECIPIENT;
    p->payee = true;
    T_EQ_INT(ww_addr_parse(&p->addr, WW_CHAIN_SOLANA, dest, strlen(dest)), WW_OK);
    p->sol_token_account = true;
    /* the SPL Token program id whatever the account's: both are tried */
    T_EQ_INT(ww_b58_decode(p->sol_token_program, 32, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
                           43),
             32);
    return wc;
}

T_CASE(detect_sol_unchecked_transfer_any_mint)
{
    ww_wallet_call wc;
    for (int hijack = 0; hijack < 2; hijack++) {
        dfx x;
        dfx_init(&x);
        serve_sol(&x, V1_WALLET);
        serve_sol(&x, V1_MINT); /* the page serves the mint beside the payee */
        serve_sol(&x, V2_WALLET);
        /* V2_ATA is V2_WALLET's for V2_MINT, a mint this session never saw */
        wc = sol_unchecked(hijack ? V2_ATA : V1_ATA);
        call(&x, &wc);
        T_EQ_INT(count_rule(&x, "unrequested-recipient"), hijack ? 1 : 0);
        dfx_free(&x);
    }
    /* a Token-2022 account, its mint known only from an earlier call of this browser */
    dfx x;
    dfx_init(&x);
    serve_sol(&x, V2_WALLET);
    wc = sol_unchecked(V2_WALLET);
    wc.parties[0].sol_token_account = false; /* transferChecked to the served owner... */
    wc.parties[0].sol_has_mint = true;       /* ...naming the mint */
    T_EQ_INT(ww_b58_decode(wc.parties[0].sol_mint, 32, V2_MINT, strlen(V2_MINT)), 32);
    call(&x, &wc);
    T_EQ_INT(count_rule(&x, "unrequested-recipient"), 0);
    wc = sol_unchecked(V2_ATA);
    call(&x, &wc);
    T_EQ_INT(count_rule(&x, "unrequested-recipient"), 0);
    wc = sol_unchecked(V1_ATA); /* V1_WALLET not served here: unrequested */
    call(&x, &wc);
    T_EQ_INT(count_rule(&x, "unrequested-recipient"), 1);
    dfx_free(&x);
}

/* Issue 13.4: a Solana wallet_call names `from` and, beside the recipient (owner), the
 * destination token account. */
T_CASE(output_sol_from_and_token_account)
{
    dfx x;
    dfx_init(&x);
    ww_wallet_call wc = sol_unchecked(V1_WALLET);
    wc.parties[0].sol_token_account = false;
    wc.parties[0].sol_has_account = true;
    T_EQ_INT(ww_addr_parse(&wc.parties[0].sol_account, WW_CHAIN_SOLANA, V1_ATA, strlen(V1_ATA)),
             WW_OK);
    wc.has_from = true;
    T_EQ_INT(ww_addr_parse(&wc.from, WW_CHAIN_SOLANA, V2_WALLET, strlen(V2_WALLET)), WW_OK);
    call(&x, &wc);
    T_CHECK(out_has(&x, "\"from\":\"" V2_WALLET "\""));
    T_CHECK(out_has(&x, "\"recipient\":\"" V1_WALLET "\",\"token_account\":\"" V1_ATA "\""));
    dfx_free(&x);
}
