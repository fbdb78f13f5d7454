/*
 * test_differential.c - walletwatch's wallet-call decoding against the real libraries.
 *
 * tests/gen/wallet/gen_fixtures.mjs (ethers v6, @solana/web3.js, @solana/spl-token, seeded)
 * wrote one case per line: a JSON-RPC request body and the calls it must decode to (sender,
 * hash, target, value, chain id, signature validity, kind, amount, token, every party). This
 * test needs no node: it reads the committed fixture (fixtures.jsonl, or fixtures.jsonl.gz as
 * committed) and runs every body through ww_jsonrpc_decode_request.
 *
 * A field absent from the truth is not checked. Parties compare as multisets of
 * role|address|unlimited (Solana: |token-account|mint too). Solana parties the generator put
 * behind an address lookup table ("alt") cannot be named from the transaction: the decoder
 * must raise unresolved-account instead.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <zlib.h>

#include "decode/decode.h"
#include "decode/solana_int.h"
#include "t.h"

#define MAX_FIXTURE (16u << 20)
#define MAX_CALLS 32
#define MAX_P 40

static uint8_t *read_fixture(size_t *len)
{
    const char *names[] = {"tests/gen/wallet/fixtures.jsonl", "tests/gen/wallet/fixtures.jsonl.gz"};
    for (size_t k = 0; k < 2; k++) {
        gzFile f = gzopen(t_src(names[k]), "rb");
        if (f == NULL)
            continue;
        size_t cap = 1u << 20, n = 0;
        uint8_t *b = malloc(cap + 1);
        int r;
        while (b != NULL && (r = gzread(f, b + n, (unsigned)(cap - n))) > 0) {
            n += (size_t)r;
            if (n == cap && cap < MAX_FIXTURE) {
                uint8_t *nb = realloc(b, 2 * cap + 1);
                if (nb == NULL) {
                    free(b);
                    b = NULL;
                    break;
                }
                b = nb;
                cap *= 2;
            }
        }
        gzclose(f);
        if (b != NULL) {
            b[n] = '\0';
            *len = n;
            return b;
        }
    }
    return NULL;
}

typedef struct actx {
    int unresolved;
    int anomalies;
} actx;

static void on_anomaly(void *ud, const char *layer, const char *type, const char *detail)
{
    actx *a = ud;
    (void)layer;
    (void)detail;
    a->anomalies++;
    if (strcmp(type, "unresolved-account") == 0)
        a->unresolved++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int n_bad;

static void bad(const char *id, const char *what, const char *want, const char *got)
{
    n_bad++;
    if (n_bad <= 25 || getenv("WW_DIFF_ALL") != NULL)
        fprintf(stderr, "  differential %s: %s: want \"%s\" got \"%s\"\n", id, what, want, got);
}

static void check_str(const char *id, const cJSON *tc, const char *k, const char *got)
{
    const char *want = jstr(tc, k);
    if (want == NULL)
        return;
    bool ok = strcmp(want, got) == 0;
    T_CHECK(ok);
    if (!ok)
        bad(id, k, want, got);
}

static void check_int(const char *id, const cJSON *tc, const char *k, long long got)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(tc, k);
    char w[32], g[32];
    if (!cJSON_IsNumber(v))
        return;
    bool ok = (long long)v->valuedouble == got;
    T_CHECK(ok);
    if (!ok) {
        snprintf(w, sizeof w, "%lld", (long long)v->valuedouble);
        snprintf(g, sizeof g, "%lld", got);
        bad(id, k, w, g);
    }
}

/* "role|addr|unl|revocation" (EVM) or "role|addr|unl|ta|mint" (Solana) for one decoded party. */
static void party_text(char *out, size_t cap, const ww_wallet_call *wc, const ww_party *p)
{
    if (wc->chain != WW_CHAIN_SOLANA) {
        snprintf(out, cap, "%s|%s|%d|%d", ww_role_name(p->role), p->addr.text, p->unlimited,
                 p->revocation);
        return;
    }
    char mint[96] = "";
    if (p->sol_token_account && p->sol_has_mint)
        (void)ww_b58_encode(mint, sizeof mint, p->sol_mint, 32);
    snprintf(out, cap, "%s|%s|%d|%d|%s", ww_role_name(p->role), p->addr.text, p->unlimited,
             p->sol_token_account, mint);
}

static bool truth_party_text(char *out, size_t cap, const cJSON *e, bool sol)
{
    const cJSON *r = cJSON_GetArrayItem(e, 0), *a = cJSON_GetArrayItem(e, 1),
                *u = cJSON_GetArrayItem(e, 2), *ta = cJSON_GetArrayItem(e, 3),
                *m = cJSON_GetArrayItem(e, 4);
    if (!cJSON_IsString(r) || !cJSON_IsString(a) || !cJSON_IsNumber(u))
        return false;
    if (!sol) /* EVM: [role, address, unlimited, revocation] */
        snprintf(out, cap, "%s|%s|%d|%d", r->valuestring, a->valuestring, u->valueint,
                 cJSON_IsNumber(ta) ? ta->valueint : 0);
    else
        snprintf(out, cap, "%s|%s|%d|%d|%s", r->valuestring, a->valuestring, u->valueint,
                 cJSON_IsNumber(ta) ? ta->valueint : 0, cJSON_IsString(m) ? m->valuestring : "");
    return true;
}

static void check_parties(const char *id, const cJSON *tc, const ww_wallet_call *wc)
{
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(tc, "parties"), *e;
    static char wbuf[MAX_P][160], gbuf[MAX_P][160];
    char *w[MAX_P], *g[MAX_P];
    size_t nw = 0, ng = 0;
    bool sol = wc->chain == WW_CHAIN_SOLANA;
    if (!cJSON_IsArray(tp))
        return;
    cJSON_ArrayForEach(e, tp)
    {
        if (nw < MAX_P && truth_party_text(wbuf[nw], sizeof wbuf[nw], e, sol)) {
            w[nw] = wbuf[nw];
            nw++;
        }
    }
    for (size_t i = 0; i < wc->n_parties && ng < MAX_P; i++) {
        party_text(gbuf[ng], sizeof gbuf[ng], wc, &wc->parties[i]);
        g[ng] = gbuf[ng];
        ng++;
    }
    qsort(w, nw, sizeof w[0], cmp_str);
    qsort(g, ng, sizeof g[0], cmp_str);
    bool ok = nw == ng;
    for (size_t i = 0; ok && i < nw; i++)
        ok = strcmp(w[i], g[i]) == 0;
    T_CHECK(ok);
    if (!ok) {
        char ws[2048] = "", gs[2048] = "";
        for (size_t i = 0; i < nw; i++)
            snprintf(ws + strlen(ws), sizeof ws - strlen(ws), "%s%s", i ? " " : "", w[i]);
        for (size_t i = 0; i < ng; i++)
            snprintf(gs + strlen(gs), sizeof gs - strlen(gs), "%s%s", i ? " " : "", g[i]);
        bad(id, "parties", ws, gs);
    }
}

typedef struct fam_stat {
    char name[24];
    int cases, calls;
} fam_stat;

T_CASE(differential_fixtures)
{
    size_t len;
    uint8_t *buf = read_fixture(&len);
    static ww_wallet_call out[MAX_CALLS];
    fam_stat fams[16];
    size_t nfam = 0;
    int cases = 0, calls = 0, alt_parties = 0;

    if (buf == NULL)
        T_SKIP("tests/gen/wallet/fixtures.jsonl(.gz) absent: run node gen_fixtures.mjs there");
    n_bad = 0;
    memset(fams, 0, sizeof fams);
    for (char *line = (char *)buf, *nl; line < (char *)buf + len; line = nl + 1) {
        nl = strchr(line, '\n');
        if (nl == NULL)
            nl = (char *)buf + len;
        if (nl == line)
            continue;
        cJSON *c = cJSON_ParseWithLength(line, (size_t)(nl - line));
        T_CHECK(c != NULL);
        if (c == NULL)
            continue;
        const char *id = jstr(c, "id");
        const cJSON *body = cJSON_GetObjectItemCaseSensitive(c, "body");
        const cJSON *truth = cJSON_GetObjectItemCaseSensitive(c, "calls");
        char *text = cJSON_PrintUnformatted(body);
        T_CHECK(id != NULL && text != NULL && cJSON_IsArray(truth));
        if (id == NULL || text == NULL || !cJSON_IsArray(truth)) {
            free(text);
            cJSON_Delete(c);
            continue;
        }
        /* per-family counts (id = family-N) */
        size_t fl = strlen(id);
        while (fl > 0 && id[fl - 1] != '-')
            fl--;
        size_t fi;
        for (fi = 0; fi < nfam; fi++)
            if (strlen(fams[fi].name) == fl - 1 && strncmp(fams[fi].name, id, fl - 1) == 0)
                break;
        if (fi == nfam && nfam < WW_ARRAY_LEN(fams))
            snprintf(fams[nfam++].name, sizeof fams[0].name, "%.*s", (int)(fl - 1), id);

        actx ac = {0, 0};
        size_t num = MAX_CALLS;
        int rc = ww_jsonrpc_decode_request(out, &num, (const uint8_t *)text, strlen(text), 0,
                                           on_anomaly, &ac);
        int want_n = cJSON_GetArraySize(truth);
        T_CHECK(rc == 1);
        T_CHECK((int)num == want_n);
        if ((int)num != want_n) {
            char w[16], g[16];
            snprintf(w, sizeof w, "%d", want_n);
            snprintf(g, sizeof g, "%zu", num);
            bad(id, "number of calls", w, g);
        }
        cases++;
        if (fi < nfam)
            fams[fi].cases++;
        for (int i = 0; i < want_n && i < (int)num; i++) {
            const cJSON *tc = cJSON_GetArrayItem(truth, i);
            const ww_wallet_call *wc = &out[i];
            calls++;
            if (fi < nfam)
                fams[fi].calls++;
            check_str(id, tc, "from", wc->has_from ? wc->from.text : "");
            check_str(id, tc, "to", wc->has_to ? wc->to.text : "");
            check_str(id, tc, "value", wc->value);
            check_str(id, tc, "hash", wc->tx_hash);
            check_str(id, tc, "kind", wc->kind);
            check_str(id, tc, "amount", wc->amount);
            check_str(id, tc, "token", wc->has_token ? wc->token.text : "");
            check_int(id, tc, "sig", wc->signature_valid);
            check_int(id, tc, "chain", wc->has_chain_id ? (long long)wc->chain_id : -1);
            check_parties(id, tc, wc);
            const cJSON *alt = cJSON_GetObjectItemCaseSensitive(tc, "alt");
            if (cJSON_GetArraySize(alt) > 0) {
                alt_parties += cJSON_GetArraySize(alt);
                T_CHECK(ac.unresolved > 0);
                if (ac.unresolved == 0)
                    bad(id, "unresolved-account anomaly", "1", "0");
            }
        }
        free(text);
        cJSON_Delete(c);
    }
    free(buf);
    fprintf(stderr, "  differential: %d cases, %d calls, %d mismatches; %d Solana parties behind "
                    "lookup tables (unresolved-account expected)\n",
            cases, calls, n_bad, alt_parties);
    for (size_t i = 0; i < nfam; i++)
        fprintf(stderr, "    %-12s %4d cases %4d calls\n", fams[i].name, fams[i].cases,
                fams[i].calls);
    T_CHECK(cases >= 1000);
}
