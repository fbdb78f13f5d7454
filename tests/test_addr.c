/*
 * test_addr.c - chain names, address parsing (EIP-55; base58check, bech32, cashaddr,
 * TRON, Solana against ../shared/corpus/addresses), and the response-body scanner.
 */
#include <cjson/cJSON.h>
#include <time.h>

#include "decode/evm_int.h"
#include "tests/t.h"

static cJSON *load(const char *rel)
{
    size_t n;
    uint8_t *b = t_read_file(t_shared(rel), &n);
    if (b == NULL)
        return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)b, n);
    free(b);
    return j;
}

static int parse(ww_addr *a, int chain, const char *s)
{
    return ww_addr_parse(a, chain, s, strlen(s));
}

T_CASE(chain_and_role_names)
{
    T_EQ_STR(ww_chain_name(WW_CHAIN_EVM), "evm");
    T_EQ_STR(ww_chain_name(WW_CHAIN_BITCOINCASH), "bitcoincash");
    T_EQ_STR(ww_chain_name(99), "none");
    T_EQ_INT(ww_chain_from_name("eth", 3), WW_CHAIN_EVM);
    T_EQ_INT(ww_chain_from_name("BTC", 3), WW_CHAIN_BITCOIN);
    T_EQ_INT(ww_chain_from_name("solana", 6), WW_CHAIN_SOLANA);
    T_EQ_INT(ww_chain_from_name("trx", 3), WW_CHAIN_TRON);
    T_EQ_INT(ww_chain_from_name("bch", 3), WW_CHAIN_BITCOINCASH);
    T_EQ_INT(ww_chain_from_name("ltc", 3), WW_CHAIN_LITECOIN);
    T_EQ_INT(ww_chain_from_name("evmx", 4), WW_CHAIN_NONE);
    T_EQ_INT(ww_chain_from_name("ev", 2), WW_CHAIN_NONE);
    for (int c = 1; c < WW_CHAIN_COUNT; c++) {
        const char *n = ww_chain_name(c);
        T_EQ_INT(ww_chain_from_name(n, strlen(n)), c);
    }
    T_EQ_STR(ww_role_name(WW_ROLE_TO), "to");
    T_EQ_STR(ww_role_name(WW_ROLE_SPENDER), "spender");
    T_EQ_STR(ww_role_name(WW_ROLE_AUTHORITY), "authority");
    T_EQ_STR(ww_role_name(WW_ROLE_DELEGATE), "delegate");
}

T_CASE(evm_parse)
{
    ww_addr a, b;
    T_EQ_INT(parse(&a, WW_CHAIN_EVM, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), WW_OK);
    T_EQ_STR(a.text, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    T_EQ_INT(a.len, 42);
    T_EQ_INT(a.flags, WW_ADDR_F_MIXEDCASE);
    /* one letter's case flipped */
    T_EQ_INT(parse(&b, WW_CHAIN_EVM, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), WW_OK);
    T_EQ_INT(b.flags, WW_ADDR_F_MIXEDCASE | WW_ADDR_F_BAD_CHECKSUM);
    T_CHECK(ww_addr_eq(&a, &b));
    T_EQ_INT(parse(&b, WW_CHAIN_NONE, "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"), WW_OK);
    T_EQ_INT(b.flags, 0);
    T_EQ_INT(b.chain, WW_CHAIN_EVM);
    T_CHECK(ww_addr_eq(&a, &b));
    static const char *const BAD[] = {
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",   /* 39 */
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd", /* 41 */
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",
        "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00",
        " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
        "",
    };
    for (size_t i = 0; i < WW_ARRAY_LEN(BAD); i++)
        T_EQ_INT(parse(&a, WW_CHAIN_EVM, BAD[i]), WW_E_INVALID);
    uint8_t raw[20];
    for (int i = 0; i < 20; i++)
        raw[i] = (uint8_t)(i * 13);
    ww_addr_from_evm(&a, raw);
    T_EQ_STR(a.text, "0x000d1a2734414e5b6875828f9ca9b6c3d0ddeaf7");
}

T_CASE(eip55_vectors)
{
    cJSON *j = load("corpus/addresses/eip55.json");
    if (j == NULL)
        T_SKIP("../shared/corpus/addresses/eip55.json absent");
    const cJSON *t;
    int n = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(j, "tests"))
    {
        const char *s = cJSON_GetObjectItem(t, "address")->valuestring;
        ww_addr a;
        char ck[43];
        T_EQ_INT(parse(&a, WW_CHAIN_EVM, s), WW_OK);
        T_CHECK((a.flags & WW_ADDR_F_BAD_CHECKSUM) == 0);
        ww_addr_evm_checksum(ck, a.text);
        T_EQ_STR(ck, s);
        /* flip the case of the first letter: a mixed-case string with a bad checksum */
        char m[43];
        memcpy(m, s, 43);
        for (int i = 2; i < 42; i++)
            if ((m[i] | 0x20) >= 'a' && (m[i] | 0x20) <= 'f') {
                m[i] ^= 0x20;
                break;
            }
        T_EQ_INT(parse(&a, WW_CHAIN_EVM, m), WW_OK);
        bool mixed = (a.flags & WW_ADDR_F_MIXEDCASE) != 0;
        if (mixed)
            T_CHECK(a.flags & WW_ADDR_F_BAD_CHECKSUM);
        n++;
    }
    T_EQ_INT(n, 8);
    cJSON_Delete(j);
}

T_CASE(bitcoin_vectors)
{
    cJSON *v = load("corpus/addresses/bitcoin_key_io_valid_mainnet.json");
    cJSON *inv = load("corpus/addresses/bitcoin_key_io_invalid.json");
    cJSON *b350 = load("corpus/addresses/bech32m_bip350.json");
    cJSON *b173 = load("corpus/addresses/bech32_bip173.json");
    if (v == NULL || inv == NULL || b350 == NULL || b173 == NULL) {
        cJSON_Delete(v), cJSON_Delete(inv), cJSON_Delete(b350), cJSON_Delete(b173);
        T_SKIP("../shared/corpus/addresses bitcoin files absent");
    }
    const cJSON *e;
    int nv = 0, ni = 0;
    ww_addr a;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(v, "vectors"))
    {
        const char *s = cJSON_GetArrayItem(e, 0)->valuestring;
        bool priv = cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 2), "isPrivkey"));
        int rc = parse(&a, WW_CHAIN_BITCOIN, s);
        if (priv) {
            T_EQ_INT(rc, WW_E_INVALID); /* a WIF key is not an address */
            continue;
        }
        nv++;
        if (rc != WW_OK)
            t_fail_msg(__FILE__, __LINE__, "valid %s rejected", s);
        T_EQ_INT(rc, WW_OK);
        T_EQ_INT(a.chain, WW_CHAIN_BITCOIN);
        T_EQ_INT(parse(&a, WW_CHAIN_NONE, s), WW_OK);
        T_EQ_INT(a.chain, WW_CHAIN_BITCOIN);
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(inv, "vectors"))
    {
        const cJSON *s0 = cJSON_GetArrayItem(e, 0);
        if (!cJSON_IsString(s0))
            continue;
        int rc = parse(&a, WW_CHAIN_BITCOIN, s0->valuestring);
        if (rc == WW_OK)
            t_fail_msg(__FILE__, __LINE__, "invalid %s accepted", s0->valuestring);
        T_EQ_INT(rc, WW_E_INVALID);
        ni++;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(b350, "valid_segwit_addresses"))
    {
        const char *s = cJSON_GetObjectItem(e, "string")->valuestring;
        if (strncasecmp(s, "bc1", 3) != 0)
            continue;
        T_EQ_INT(parse(&a, WW_CHAIN_BITCOIN, s), WW_OK);
        T_CHECK(a.len == strlen(s) && strncmp(a.text, "bc1", 3) == 0); /* lower-cased */
        nv++;
    }
    const cJSON *files[2] = {b350, b173};
    for (int f = 0; f < 2; f++)
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(files[f], "invalid_segwit_addresses"))
        {
            const cJSON *s = cJSON_GetObjectItem(e, "string");
            if (!cJSON_IsString(s))
                continue;
            int rc = parse(&a, WW_CHAIN_BITCOIN, s->valuestring);
            if (rc == WW_OK)
                t_fail_msg(__FILE__, __LINE__, "invalid segwit %s accepted", s->valuestring);
            T_EQ_INT(rc, WW_E_INVALID);
            ni++;
        }
    printf("bitcoin: %d valid, %d invalid vectors checked\n", nv, ni);
    T_CHECK(nv >= 10 && ni >= 60);
    cJSON_Delete(v), cJSON_Delete(inv), cJSON_Delete(b350), cJSON_Delete(b173);
}

T_CASE(tron_solana_vectors)
{
    cJSON *tr = load("corpus/addresses/tron.json");
    cJSON *so = load("corpus/addresses/solana_pubkeys.json");
    if (tr == NULL || so == NULL) {
        cJSON_Delete(tr), cJSON_Delete(so);
        T_SKIP("../shared/corpus/addresses tron/solana files absent");
    }
    const cJSON *e;
    ww_addr a;
    int n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(tr, "isAddress_valid"))
    {
        const char *s = cJSON_GetObjectItem(e, "input")->valuestring;
        if (strcmp(cJSON_GetObjectItem(e, "form")->valuestring, "base58") != 0)
            continue; /* 41-hex form: not a written address */
        T_EQ_INT(parse(&a, WW_CHAIN_TRON, s), WW_OK);
        T_EQ_STR(a.text, s);
        n++;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(tr, "isAddress_invalid"))
    {
        const char *s = cJSON_GetObjectItem(e, "input")->valuestring;
        T_EQ_INT(parse(&a, WW_CHAIN_TRON, s), WW_E_INVALID);
        n++;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(tr, "create2_addresses_valid_base58"))
    {
        const char *s = cJSON_GetObjectItem(e, "address")->valuestring;
        T_EQ_INT(parse(&a, WW_CHAIN_TRON, s), WW_OK);
        T_EQ_INT(parse(&a, WW_CHAIN_NONE, s), WW_OK);
        T_EQ_INT(a.chain, WW_CHAIN_TRON);
        n++;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(so, "addresses"))
    {
        const cJSON *s = cJSON_GetObjectItem(e, "address");
        const cJSON *valid = cJSON_GetObjectItem(e, "valid");
        if (!cJSON_IsString(s) || !cJSON_IsBool(valid))
            continue;
        int rc = parse(&a, WW_CHAIN_SOLANA, s->valuestring);
        if ((rc == WW_OK) != cJSON_IsTrue(valid))
            t_fail_msg(__FILE__, __LINE__, "solana %s: rc %d", s->valuestring, rc);
        T_EQ_INT(rc == WW_OK, cJSON_IsTrue(valid));
        n++;
    }
    printf("tron + solana: %d vectors checked\n", n);
    T_CHECK(n > 100);
    cJSON_Delete(tr), cJSON_Delete(so);
}

T_CASE(other_chains_syntax)
{
    ww_addr a;
    /* BCH cashaddr (from the cashaddr spec), with and without prefix, upper case */
    T_EQ_INT(parse(&a, WW_CHAIN_BITCOINCASH, "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"),
             WW_OK);
    T_EQ_STR(a.text, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a");
    T_EQ_INT(parse(&a, WW_CHAIN_BITCOINCASH,
                   "BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A"),
             WW_OK);
    T_EQ_STR(a.text, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a");
    T_EQ_INT(parse(&a, WW_CHAIN_NONE, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"),
             WW_OK);
    T_EQ_INT(a.chain, WW_CHAIN_BITCOINCASH);
    T_EQ_INT(parse(&a, WW_CHAIN_BITCOINCASH, "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdxbb"),
             WW_E_INVALID); /* 'b' is not in the charset */
    T_EQ_INT(parse(&a, WW_CHAIN_BITCOINCASH, "bitcoincash:Qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"),
             WW_E_INVALID); /* mixed case */
    /* Litecoin: legacy L..., M..., and ltc1 (BIP-173 style) */
    T_EQ_INT(parse(&a, WW_CHAIN_LITECOIN, "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1"), WW_OK);
    T_EQ_INT(parse(&a, WW_CHAIN_BITCOIN, "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1"), WW_E_INVALID);
    T_EQ_INT(parse(&a, WW_CHAIN_NONE, "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1"), WW_OK);
    T_EQ_INT(a.chain, WW_CHAIN_LITECOIN);
    T_EQ_INT(parse(&a, WW_CHAIN_NONE, "not an address"), WW_E_INVALID);
    T_EQ_INT(parse(&a, WW_CHAIN_SOLANA, "0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl"), WW_E_INVALID);
}

/* ---- scanner ---- */

typedef struct found {
    int n;
    ww_addr a[16];
} found;

static void on_found(void *ud, const ww_addr *a)
{
    found *f = ud;
    if (f->n < 16)
        f->a[f->n] = *a;
    f->n++;
}

T_CASE(scan_basic)
{
    static const char body[] =
        "{\"to\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",\"x\":\"0x5aAeb6053F3E94C9b9A09f"
        "33669435E7Ef1BeAeD\" 0Xde709f2102306220921060314715629080e2fb77"
        " a0x27b1fdb04752bbc536007a920d24acb045561c26"               /* preceded by alnum */
        " 0x27b1fdb04752bbc536007a920d24acb045561c2677"              /* longer run */
        " 0x27b1fdb04752bbc536007a920d24acb045561c2"                 /* 39 digits */
        " 0x0x52908400098527886e0f7030069857d2e4169ee7"              /* "0x" before: 'x' alnum */
        " 0x52908400098527886e0f7030069857d2e4169ee7_"               /* followed by '_': ok */
        " 0x8617e340b3d01fa5f11f306f4090fd50e238070d";               /* at the very end */
    found f;
    memset(&f, 0, sizeof f);
    size_t n = strlen(body);
    size_t k = ww_addr_scan(t_guard(body, n), n, on_found, &f);
    T_EQ_INT(k, 5);
    T_EQ_INT(f.n, 5);
    T_EQ_STR(f.a[0].text, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    T_EQ_INT(f.a[0].flags, WW_ADDR_F_MIXEDCASE);
    T_EQ_INT(f.a[1].flags, WW_ADDR_F_MIXEDCASE | WW_ADDR_F_BAD_CHECKSUM);
    T_EQ_STR(f.a[2].text, "0xde709f2102306220921060314715629080e2fb77");
    T_EQ_STR(f.a[3].text, "0x52908400098527886e0f7030069857d2e4169ee7");
    T_EQ_STR(f.a[4].text, "0x8617e340b3d01fa5f11f306f4090fd50e238070d");
    /* every prefix: never reads past n */
    for (size_t i = 0; i <= n; i++)
        (void)ww_addr_scan(t_guard(body, i), i, NULL, NULL);
    T_EQ_INT(ww_addr_scan((const uint8_t *)"", 0, NULL, NULL), 0);
    T_EQ_INT(ww_addr_scan((const uint8_t *)"0x", 2, NULL, NULL), 0);
}

static void on_one(void *ud, const ww_addr *a)
{
    *(ww_addr *)ud = *a;
}

/* The scanner's EVM path (vectorized) against ww_addr_parse (scalar): 42-character runs of
 * random case, some with one byte that is not a hex digit (each class boundary: / : @ G ` g),
 * found or not alike, and when found the same bytes (text, flags, the form as written). */
T_CASE(scan_evm_matches_parse)
{
    static const char hex[] = "0123456789abcdefABCDEF", odd[] = "/:@G`gxX";
    unsigned x = 777, same = 0, rounds = 20000;
    for (unsigned r = 0; r < rounds; r++) {
        char s[43];
        s[0] = '0';
        s[1] = 'x';
        unsigned mode = r % 4; /* 0 lower, 1 upper, 2 mixed, 3 mixed */
        for (int i = 2; i < 42; i++) {
            x = x * 1103515245u + 12345u;
            char c = hex[(x >> 8) % 16];
            if (mode == 1 && c >= 'a')
                c = (char)(c - 32);
            if (mode >= 2 && c >= 'a' && ((x >> 20) & 1))
                c = (char)(c - 32);
            s[i] = c;
        }
        x = x * 1103515245u + 12345u;
        if ((x >> 16) % 3 == 0)
            s[2 + (x >> 4) % 40] = odd[(x >> 24) % 8];
        s[42] = '\0';
        ww_addr want, got;
        memset(&want, 0, sizeof want);
        memset(&got, 0, sizeof got);
        bool ok = ww_addr_parse(&want, WW_CHAIN_EVM, s, 42) == WW_OK;
        size_t k = ww_addr_scan(t_guard(s, 42), 42, on_one, &got);
        if (k == (ok ? 1u : 0u) && (!ok || memcmp(&want, &got, sizeof want) == 0))
            same++;
    }
    T_EQ_INT(same, rounds);
}

T_CASE(scan_speed)
{
    /* 8 MiB of hex-heavy JSON with an address every ~4 KiB */
    size_t n = 8u << 20;
    uint8_t *b = malloc(n);
    T_CHECK(b != NULL);
    if (b == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)"0123456789abcdef\":,0x"[i % 21];
    size_t want = 0;
    for (size_t i = 100; i + 50 < n; i += 4096) {
        memcpy(b + i, " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed ", 44);
        want++;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t k = ww_addr_scan(b, n, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("scan: %zu addresses in 8 MiB, %.1f MB/s\n", k, (double)n / 1e6 / s);
    T_EQ_INT(k, want);
    T_CHECK(s < 2.0);
    free(b);
}

/* ---- scanner: every format ---- */

#include "addrdb/addrdb.h"

typedef struct collect {
    size_t n, cap;
    ww_addr *a;
} collect;

static void on_collect(void *ud, const ww_addr *a)
{
    collect *c = ud;
    if (c->n < c->cap)
        c->a[c->n] = *a;
    c->n++;
}

typedef struct body {
    char *p;
    size_t n, cap;
    size_t want;
} body;

static void add_to_body(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    body *b = ud;
    (void)e;
    if (a->chain == WW_CHAIN_SOLANA && strcmp(a->text, "19111111111111111111111111111111") == 0)
        return; /* the payload's literal: a DB string IOC, not a Solana key */
    /* upper-case a bech32/cashaddr one in three: written in upper case is valid too */
    char t[WW_ADDR_TEXT_MAX];
    memcpy(t, a->text, a->len + 1);
    if ((a->chain == WW_CHAIN_BITCOINCASH || strncmp(t, "bc1", 3) == 0) && b->want % 3 == 0)
        for (char *q = t; *q; q++)
            if (*q >= 'a' && *q <= 'z')
                *q = (char)(*q - 32);
    b->n += (size_t)snprintf(b->p + b->n, b->cap - b->n, "{\"%s\":\"%s\", \"n\":%zu}\n",
                             ww_chain_name(a->chain), t, b->want);
    b->want++;
}

T_CASE(scan_every_format_bundled)
{
    /* every address the September 2025 payload carries, in a JSON body: all found, right chain */
    ww_addrdb *db = ww_addrdb_new(NULL);
    T_CHECK(ww_addrdb_load_bundled(db) == 280);
    body b = {malloc(1 << 16), 0, 1 << 16, 0};
    ww_addrdb_each(db, add_to_body, &b);
    T_EQ_INT(b.want, 279);
    collect c = {0, 400, calloc(400, sizeof(ww_addr))};
    size_t k = ww_addr_scan(t_guard(b.p, b.n), b.n, on_collect, &c);
    T_EQ_INT(k, 279);
    size_t per[WW_CHAIN_COUNT] = {0};
    for (size_t i = 0; i < WW_MIN(c.n, c.cap); i++) {
        per[c.a[i].chain]++;
        if (ww_addrdb_lookup(db, &c.a[i]) == NULL)
            t_fail_msg(__FILE__, __LINE__, "scanned %s not the DB's form", c.a[i].text);
    }
    T_EQ_INT(per[WW_CHAIN_EVM], 60);
    T_EQ_INT(per[WW_CHAIN_BITCOIN], 80);
    T_EQ_INT(per[WW_CHAIN_LITECOIN], 40);
    T_EQ_INT(per[WW_CHAIN_BITCOINCASH], 40);
    T_EQ_INT(per[WW_CHAIN_TRON], 40);
    T_EQ_INT(per[WW_CHAIN_SOLANA], 19);
    free(c.a);
    free(b.p);
    ww_addrdb_free(db);
}

static size_t scan_str(const char *s, collect *c)
{
    c->n = 0;
    return ww_addr_scan(t_guard(s, strlen(s)), strlen(s), on_collect, c);
}

T_CASE(scan_formats_valid_invalid)
{
    ww_addr buf[8];
    collect c = {0, 8, buf};
    /* cashaddr with and without prefix, upper case; one character off: checksum fails */
    T_EQ_INT(scan_str("pay bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a now", &c), 1);
    T_EQ_STR(buf[0].text, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a");
    T_EQ_INT(scan_str("\"QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A\"", &c), 1);
    T_EQ_INT(buf[0].chain, WW_CHAIN_BITCOINCASH);
    T_EQ_INT(scan_str("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6q", &c), 0);
    T_EQ_INT(scan_str("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6aq", &c), 0);
    /* segwit v0 and v1 (BIP-173/350), litecoin; a bech32 (not m) v1 is invalid */
    T_EQ_INT(scan_str("\"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4\"", &c), 1);
    T_EQ_STR(buf[0].text, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    T_EQ_INT(scan_str("\"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T5\"", &c), 0);
    T_EQ_INT(scan_str("\"bC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4\"", &c), 0); /* mixed */
    T_EQ_INT(scan_str("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", &c), 0);
    T_EQ_INT(scan_str("to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq.", &c), 1);
    T_EQ_INT(buf[0].chain, WW_CHAIN_BITCOIN);
    T_EQ_INT(scan_str("to BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ.", &c), 1);
    T_EQ_STR(buf[0].text, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq");
    T_EQ_INT(scan_str("to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdz.", &c), 0);
    T_EQ_INT(scan_str("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", &c), 1);
    T_EQ_INT(scan_str("LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1", &c), 1);
    T_EQ_INT(buf[0].chain, WW_CHAIN_LITECOIN);
    T_EQ_INT(scan_str("LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc2", &c), 0);
    /* legacy bitcoin P2PKH and P2SH, tron; one character changed: checksum fails */
    T_EQ_INT(scan_str("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", &c),
             2);
    T_EQ_INT(buf[0].chain, WW_CHAIN_BITCOIN);
    T_EQ_INT(buf[1].chain, WW_CHAIN_BITCOIN);
    T_EQ_INT(scan_str("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", &c), 0);
    T_EQ_INT(scan_str("{\"tron\":\"TB9emsCq6fQw6wRk4HBxxNnU6Hwt1DnV67\"}", &c), 1);
    T_EQ_INT(buf[0].chain, WW_CHAIN_TRON);
    T_EQ_INT(scan_str("{\"tron\":\"TB9emsCq6fQw6wRk4HBxxNnU6Hwt1DnV68\"}", &c), 0);
    /* solana: delimited, mixed case + digits, 32 bytes */
    T_EQ_INT(scan_str("{\"owner\":\"5VVyuV5K6c2gMq1zVeQUFAmo8shPZH28MJCVzccrsZG6\"}", &c), 1);
    T_EQ_INT(buf[0].chain, WW_CHAIN_SOLANA);
    T_EQ_INT(scan_str("owner=5VVyuV5K6c2gMq1zVeQUFAmo8shPZH28MJCVzccrsZG6&x=1", &c), 1);
    T_EQ_INT(scan_str("a+5VVyuV5K6c2gMq1zVeQUFAmo8shPZH28MJCVzccrsZG6/b", &c), 0); /* base64 */
    T_EQ_INT(scan_str("x.5VVyuV5K6c2gMq1zVeQUFAmo8shPZH28MJCVzccrsZG6", &c), 0);
    T_EQ_INT(scan_str("\"11111111111111111111111111111111\"", &c), 0); /* no letters */
    T_EQ_INT(scan_str("\"ThisIsAVeryLongCamelCaseIdentifierWithNoDigits\"", &c), 0);
    T_EQ_INT(scan_str("\"5VVyuV5K6c2gMq1zVeQUFAmo8shPZH28MJCVzccrsZG6xx\"", &c), 0); /* 46 */
    /* runs glued to other letters are not addresses */
    T_EQ_INT(scan_str("x1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", &c), 0);
    /* every prefix of a mixed body: no over-read (guard page) */
    static const char mix[] =
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq "
        "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a TB9emsCq6fQw6wRk4HBxxNnU6Hwt1DnV67 "
        "\"5VVyuV5K6c2gMq1zVeQUFAmo8shPZH28MJCVzccrsZG6\" LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1";
    T_EQ_INT(scan_str(mix, &c), 6);
    for (size_t i = 0; i <= sizeof mix - 1; i++)
        (void)ww_addr_scan(t_guard(mix, i), i, NULL, NULL);
}

/* Deterministic pseudo-random bytes (xorshift). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

T_CASE(scan_false_positives)
{
    /* realistic bodies with no address in them: what the scanner reports is a false positive */
    size_t n = 4u << 20;
    char *b = malloc(n + 1);
    size_t k;
    static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char B64U[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    /* 1. base64 of random bytes (a data: URI or an embedded blob), in one JSON string */
    for (size_t i = 0; i < n; i++)
        b[i] = B64[rnd() & 63];
    b[0] = b[n - 1] = '"';
    k = ww_addr_scan((const uint8_t *)b, n, NULL, NULL);
    printf("false positives: base64 4 MiB: %zu\n", k);
    T_EQ_INT(k, 0);
    /* 2. base64url tokens (JWT-like), 200 chars each, quoted, comma-separated */
    for (size_t i = 0; i < n; i++)
        b[i] = (i % 203 == 0) ? '"' : (i % 203 == 201) ? '"' : (i % 203 == 202) ? ','
                                                                                : B64U[rnd() & 63];
    k = ww_addr_scan((const uint8_t *)b, n, NULL, NULL);
    printf("false positives: base64url tokens 4 MiB: %zu\n", k);
    T_CHECK(k <= 2);
    /* 3. English-like text: words of 1-12 letters, capitalized sometimes, digits sometimes */
    size_t i = 0;
    while (i < n) {
        size_t w = 1 + rnd() % 12;
        for (size_t j = 0; j < w && i < n; j++)
            b[i++] = (char)((j == 0 && rnd() % 5 == 0 ? 'A' : 'a') + (int)(rnd() % 26));
        if (i < n)
            b[i++] = " .,;\n"[rnd() % 5];
    }
    k = ww_addr_scan((const uint8_t *)b, n, NULL, NULL);
    printf("false positives: English-like text 4 MiB: %zu\n", k);
    T_EQ_INT(k, 0);
    /* 4. hex digests (sha256, tx hashes) and long decimal numbers in JSON */
    i = 0;
    while (i + 80 < n) {
        b[i++] = '"';
        for (int j = 0; j < 64; j++)
            b[i++] = "0123456789abcdef"[rnd() & 15];
        b[i++] = '"';
        b[i++] = ',';
        for (int j = 0; j < 10; j++)
            b[i++] = (char)('0' + rnd() % 10);
        b[i++] = ',';
    }
    k = ww_addr_scan((const uint8_t *)b, i, NULL, NULL);
    printf("false positives: hex digests + numbers 4 MiB: %zu\n", k);
    T_EQ_INT(k, 0);
    free(b);
    /* 5. minified JavaScript: a real bundle when the shared corpus or the system has one */
    static const char *const JS[] = {"/usr/lib/node_modules/npm/node_modules/tar/dist/commonjs/index.min.js"};
    for (size_t f = 0; f < WW_ARRAY_LEN(JS); f++) {
        size_t jn;
        uint8_t *js = t_read_file(JS[f], &jn);
        if (js == NULL)
            continue;
        k = ww_addr_scan(js, jn, NULL, NULL);
        printf("false positives: %s (%zu bytes): %zu\n", JS[f], jn, k);
        T_EQ_INT(k, 0);
        free(js);
    }
}

/* ---- ABI address words in responses (issue 13.1) ---- */

typedef struct words_rec {
    char text[8][WW_ADDR_TEXT_MAX];
    int prov[8];
    size_t n;
} words_rec;

static void on_word(void *ud, const ww_addr *a, int prov)
{
    words_rec *r = ud;
    if (r->n < 8) {
        snprintf(r->text[r->n], sizeof r->text[0], "%s", a->text);
        r->prov[r->n] = prov;
    }
    r->n++;
}

static size_t words_of(words_rec *r, const char *s, size_t *open_at)
{
    memset(r, 0, sizeof *r);
    return ww_abi_words_scan((const uint8_t *)s, strlen(s), WW_ABI_WORDS_MAX, on_word, r, open_at);
}

#define W0 "000000000000000000000000"
#define ENS_ADDR "d8da6bf26964af9d7eed9e03e53415d37aa96045"
#define ROUTER "66a9893cc07d91d95644aedd05d03f95e1dba8af"
#define MAXW "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

T_CASE(abi_words_rpc_result_and_calldata)
{
    words_rec r;
    size_t open_at;
    /* eth_call to an ENS resolver's addr(bytes32): one ABI word */
    T_EQ_INT(words_of(&r, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x" W0 ENS_ADDR "\"}", &open_at), 1);
    T_EQ_STR(r.text[0], "0x" ENS_ADDR);
    T_EQ_INT(r.prov[0], WW_PROV_RPC_WORD);
    T_CHECK(open_at == strlen("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x" W0 ENS_ADDR "\"}"));
    /* a batch, spaces around the colon, an upper-case 0X and digits */
    T_EQ_INT(words_of(&r, "[{\"result\" : \"0X" W0 "D8DA6BF26964AF9D7EED9E03E53415D37AA96045\"},"
                          "{\"result\":\"0x" W0 ROUTER W0 ENS_ADDR "\"}]", NULL), 3);
    T_EQ_STR(r.text[0], "0x" ENS_ADDR);
    T_EQ_STR(r.text[1], "0x" ROUTER);
    /* a trading API's {to, data}: approve(router, max), the selector skipped */
    T_EQ_INT(words_of(&r, "{\"to\":\"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48\",\"data\":\"0x095ea7b3"
                          W0 ROUTER MAXW "\",\"value\":\"0\"}", NULL), 1);
    T_EQ_STR(r.text[0], "0x" ROUTER);
    T_EQ_INT(r.prov[0], WW_PROV_CALLDATA);
    T_EQ_INT(words_of(&r, "{\"tx\":{\"input\":\"0x095ea7b3" W0 ROUTER MAXW "\"},\"calldata\":\"0x"
                          W0 ENS_ADDR "\"}", NULL), 2);
    /* not addresses: amounts (1e18, 2^96 - 1), a sentinel, all-ones, a tx hash, a quantity */
    T_EQ_INT(words_of(&r, "{\"result\":\"0x" W0 "0000000000000000000000000de0b6b3a7640000\"}", NULL), 0);
    T_EQ_INT(words_of(&r, "{\"result\":\"0x" W0 "0000000000000000ffffffffffffffffffffffff\"}", NULL), 0);
    T_EQ_INT(words_of(&r, "{\"result\":\"0x" W0 "000000000000000fffffffffffffffffffffffff\"}", NULL), 1);
    T_EQ_INT(words_of(&r, "{\"result\":\"0x" MAXW "\"}", NULL), 0);
    T_EQ_INT(words_of(&r, "{\"result\":\"0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b\"}", NULL), 0);
    T_EQ_INT(words_of(&r, "{\"result\":\"0x1bc16d674ec80000\"}", NULL), 0);
    /* a result is never read with a selector; other members, a value that is not a string,
     * a non-hex string, a name inside a longer one */
    T_EQ_INT(words_of(&r, "{\"result\":\"0x095ea7b3" W0 ROUTER "\"}", NULL), 0);
    T_EQ_INT(words_of(&r, "{\"metadata\":\"0x" W0 ROUTER "\",\"other\":\"0x" W0 ROUTER "\"}", NULL), 0);
    T_EQ_INT(words_of(&r, "{\"data\":[\"0x" W0 ROUTER "\"],\"data\":\"0xzz\"}", NULL), 0);
    T_EQ_INT(words_of(&r, "[\"data\",\"0x" W0 ROUTER "\"]", NULL), 0);
    /* a hex string cut by the end: where its member starts, nothing reported from it */
    const char *cut = "{\"a\":1,\"data\":\"0x095ea7b3" W0 "66a9893cc0";
    T_EQ_INT(words_of(&r, cut, &open_at), 0);
    T_EQ_INT(open_at, 7);
    T_EQ_INT(words_of(&r, "{\"a\":1,\"result\"", &open_at), 0);
    T_EQ_INT(open_at, 7);
    T_EQ_INT(words_of(&r, "{\"a\":1,\"result\": \"0", &open_at), 0);
    T_EQ_INT(open_at, 7);
    /* bounded: at most max_words words looked at */
    char big[64 * 40 + 64];
    size_t k = (size_t)snprintf(big, sizeof big, "{\"result\":\"0x");
    for (int i = 0; i < 30; i++)
        k += (size_t)snprintf(big + k, sizeof big - k, "%s", W0 ROUTER);
    snprintf(big + k, sizeof big - k, "\"}");
    memset(&r, 0, sizeof r);
    T_EQ_INT(ww_abi_words_scan((const uint8_t *)big, strlen(big), 5, on_word, &r, NULL), 5);
}
