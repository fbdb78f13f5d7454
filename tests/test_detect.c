/* test_detect.c - the served store, the rules, similarity and the JSON/text writers. */
#include "t.h"

#include "addrdb/addrdb.h"
#include "detect/detect.h"

#include <cJSON.h>
#include <stdlib.h>

#define SERVED "0x1111222233334444555566667777888899990000"
#define OTHER_CLIENT_SERVED "0xabcdefabcdefabcdefabcdefabcdefabcdefabcd"
#define ATTACKER "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976"
#define RANDOM_PAYEE "0x9e3779b97f4a7c15f39cc0605cedc8341082276b"
#define LOOKALIKE "0x111122aaaaaaaaaaaaaaaaaaaaaaaaaaaa990000" /* 6+6 hex chars like SERVED */
#define TOKEN "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"

typedef struct fixture {
    FILE *jsonl;
    ww_out *out;
    ww_addrdb *db;
    ww_detect *det;
    ww_decode_sink sink;
    ww_flow flow, flow2;
} fixture;

static void fx_init(fixture *fx, const ww_addr *expect, size_t n_expect, uint64_t window_us)
{
    memset(fx, 0, sizeof(*fx));
    fx->jsonl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = fx->jsonl;
    oc.format = WW_FMT_JSONL;
    fx->out = ww_out_new(NULL, &oc);
    fx->db = ww_addrdb_new(NULL);
    T_CHECK(ww_addrdb_load_bundled(fx->db) == 280);
    ww_detect_cfg dc = {0};
    dc.db = fx->db;
    dc.expect = expect;
    dc.n_expect = n_expect;
    dc.window_us = window_us;
    fx->det = ww_detect_new(NULL, &dc, fx->out);
    ww_detect_sink(fx->det, &fx->sink);
    fx->flow.id = 1;
    fx->flow.cli_ip.family = 4;
    memcpy(fx->flow.cli_ip.a, "\x0a\x01\x00\x05", 4);
    fx->flow.srv_ip.family = 4;
    memcpy(fx->flow.srv_ip.a, "\x0a\x01\x00\x02", 4);
    fx->flow.cli_port = 50000;
    fx->flow.srv_port = 80;
    fx->flow2 = fx->flow;
    fx->flow2.id = 2;
    fx->flow2.cli_ip.a[3] = 9; /* another browser */
}

static void fx_free(fixture *fx)
{
    ww_detect_free(fx->det);
    ww_out_free(fx->out);
    ww_addrdb_free(fx->db);
    fclose(fx->jsonl);
}

static ww_addr A(const char *s)
{
    ww_addr a;
    int rc = ww_addr_parse(&a, WW_CHAIN_EVM, s, strlen(s));
    T_CHECK(rc == WW_OK);
    return a;
}

static void serve(fixture *fx, const ww_flow *f, const char *addr, uint64_t ts)
{
    ww_ctx ctx = {0};
    ww_http_info http = {"dapp.example", "/api/invoice", "GET", 200, "application/json"};
    ww_addr a = A(addr);
    ctx.ts_us = ts;
    ctx.flow = f;
    ctx.dir = WW_DIR_TOCLIENT;
    ctx.app_proto = "http";
    ctx.http = &http;
    fx->sink.served(fx->sink.ud, &ctx, &a);
}

static void add_party(ww_wallet_call *wc, int role, bool payee, bool unlimited, const char *s)
{
    ww_party *p = &wc->parties[wc->n_parties++];
    p->role = (uint8_t)role;
    p->payee = payee;
    p->unlimited = unlimited;
    p->addr = A(s);
}

static void call(fixture *fx, const ww_flow *f, const ww_wallet_call *wc, uint64_t ts)
{
    ww_ctx ctx = {0};
    ww_http_info http = {"rpc.example", "/", "POST", 0, "application/json"};
    ctx.ts_us = ts;
    ctx.flow = f;
    ctx.dir = WW_DIR_TOSERVER;
    ctx.app_proto = "http";
    ctx.http = &http;
    fx->sink.wallet_call(fx->sink.ud, &ctx, wc);
}

static ww_wallet_call native(const char *to)
{
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    strcpy(wc.method, "eth_sendTransaction");
    strcpy(wc.kind, "native-transfer");
    strcpy(wc.value, "1000000000000000000");
    wc.signature_valid = -1;
    wc.has_to = true;
    wc.to = A(to);
    add_party(&wc, WW_ROLE_TO, true, false, to);
    return wc;
}

/* Collects the alerts written so far as "rule role observed expected" lines. */
static char *alerts(fixture *fx)
{
    static char buf[8192];
    char line[4096];
    buf[0] = '\0';
    fflush(fx->jsonl);
    rewind(fx->jsonl);
    while (fgets(line, sizeof line, fx->jsonl) != NULL) {
        cJSON *j = cJSON_Parse(line);
        T_CHECK(j != NULL); /* every line is JSON */
        const cJSON *al = cJSON_GetObjectItem(j, "alert");
        if (al != NULL) {
            const cJSON *r = cJSON_GetObjectItem(al, "rule");
            const cJSON *role = cJSON_GetObjectItem(al, "role");
            const cJSON *obs = cJSON_GetObjectItem(al, "observed");
            const cJSON *exp = cJSON_GetObjectItem(al, "expected");
            char one[512];
            snprintf(one, sizeof one, "%s %s %s %s;", r ? r->valuestring : "?",
                     role ? role->valuestring : "-", obs ? obs->valuestring : "-",
                     exp ? exp->valuestring : "-");
            strncat(buf, one, sizeof buf - strlen(buf) - 1);
        }
        cJSON_Delete(j);
    }
    fseek(fx->jsonl, 0, SEEK_END);
    return buf;
}

T_CASE(detect_clean_payment_no_alert)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    ww_wallet_call wc = native(SERVED);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    T_EQ_INT(ww_detect_stats_get(fx.det)->intents, 1);
    T_EQ_INT(ww_detect_stats_get(fx.det)->worst, WW_SEV_NONE);
    fx_free(&fx);
}

T_CASE(detect_known_attacker_and_unrequested)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    ww_wallet_call wc = native(ATTACKER);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "known-attacker to " ATTACKER " " SERVED
                          ";unrequested-recipient to " ATTACKER " " SERVED ";");
    T_EQ_INT(ww_detect_stats_get(fx.det)->worst, WW_SEV_CRITICAL);
    fx_free(&fx);
}

T_CASE(detect_attacker_even_when_nothing_served)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    ww_wallet_call wc = native(ATTACKER);
    call(&fx, &fx.flow, &wc, 2000);
    /* nothing served: no unrequested-recipient, but the DB still catches it */
    T_EQ_STR(alerts(&fx), "known-attacker to " ATTACKER " -;");
    fx_free(&fx);
}

T_CASE(detect_served_to_another_client_does_not_count)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    serve(&fx, &fx.flow2, OTHER_CLIENT_SERVED, 1000);
    ww_wallet_call wc = native(OTHER_CLIENT_SERVED);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "unrequested-recipient to " OTHER_CLIENT_SERVED " " SERVED ";");
    fx_free(&fx);
}

T_CASE(detect_lookalike)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    ww_wallet_call wc = native(LOOKALIKE);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "lookalike-recipient to " LOOKALIKE " " SERVED ";");
    fx_free(&fx);
}

T_CASE(detect_window_expires)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 60ULL * 1000000); /* 1 minute */
    serve(&fx, &fx.flow, SERVED, 1000000);
    serve(&fx, &fx.flow, RANDOM_PAYEE, 1000000);
    serve(&fx, &fx.flow, OTHER_CLIENT_SERVED, 100ULL * 1000000); /* keeps the chain "served" */
    ww_wallet_call wc = native(SERVED);
    call(&fx, &fx.flow, &wc, 120ULL * 1000000 + 1000000); /* 2 minutes later */
    T_CHECK(strstr(alerts(&fx), "unrequested-recipient to " SERVED) != NULL);
    fx_free(&fx);
}

T_CASE(detect_erc20_transfer_recipient_not_token)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    strcpy(wc.method, "eth_sendTransaction");
    strcpy(wc.kind, "erc20-transfer");
    wc.signature_valid = -1;
    add_party(&wc, WW_ROLE_TO, false, false, TOKEN); /* the token contract: never unrequested */
    add_party(&wc, WW_ROLE_RECIPIENT, true, false, SERVED);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    fx_free(&fx);
}

T_CASE(detect_unlimited_approval)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    strcpy(wc.method, "eth_sendTransaction");
    strcpy(wc.kind, "erc20-approve");
    add_party(&wc, WW_ROLE_TO, false, false, TOKEN);
    add_party(&wc, WW_ROLE_SPENDER, true, true, RANDOM_PAYEE);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "unrequested-recipient spender " RANDOM_PAYEE " " SERVED
                          ";unlimited-approval spender " RANDOM_PAYEE " " SERVED ";");
    /* the same approval to a served spender raises nothing */
    fx_free(&fx);
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, RANDOM_PAYEE, 1000);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    fx_free(&fx);
}

T_CASE(detect_bad_checksum)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    ww_wallet_call wc = native(SERVED);
    /* a mixed-case spelling of SERVED with a wrong EIP-55 checksum */
    wc.parties[0].addr.flags = WW_ADDR_F_MIXEDCASE | WW_ADDR_F_BAD_CHECKSUM;
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "bad-checksum to " SERVED " -;");
    T_EQ_INT(ww_detect_stats_get(fx.det)->worst, WW_SEV_MEDIUM);
    fx_free(&fx);
}

T_CASE(detect_expect_list)
{
    ww_addr ex = A(SERVED);
    fixture fx;
    fx_init(&fx, &ex, 1, 0);
    ww_detect_start(fx.det);
    ww_wallet_call ok = native(SERVED);
    call(&fx, &fx.flow, &ok, 2000);
    T_EQ_STR(alerts(&fx), "");
    ww_wallet_call bad = native(RANDOM_PAYEE);
    call(&fx, &fx.flow, &bad, 3000);
    T_EQ_STR(alerts(&fx), "unrequested-recipient to " RANDOM_PAYEE " " SERVED ";");
    fx_free(&fx);
}

T_CASE(detect_response_serving_attacker)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, ATTACKER, 1000);
    T_EQ_STR(alerts(&fx), "known-attacker - " ATTACKER " -;");
    /* served again within the window: no second intent, no second alert */
    serve(&fx, &fx.flow, ATTACKER, 2000);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 1);
    T_EQ_INT(ww_detect_stats_get(fx.det)->intents, 1);
    fx_free(&fx);
}

T_CASE(similarity_counts)
{
    ww_addr a = A(SERVED), b = A(LOOKALIKE), c = A(RANDOM_PAYEE);
    unsigned p, s;
    double bits;
    ww_similarity(&a, &b, 1, &p, &s, &bits);
    T_EQ_INT(p, 6);
    T_EQ_INT(s, 6);
    /* 48 bits of characters, minus log2(1 + 12 * 15/16): any split of 12 between the ends */
    T_CHECK(bits > 44.3 && bits < 44.5);
    ww_similarity(&a, &b, 16, &p, &s, &bits);
    T_CHECK(bits > 40.3 && bits < 40.5); /* minus log2(16) */
    ww_similarity(&a, &c, 1, &p, &s, &bits);
    T_CHECK(p + s <= 2);
    ww_similarity(&a, &a, 1, &p, &s, &bits);
    T_EQ_INT(p + s, 40); /* identical: every character, counted once */
}

T_CASE(output_jsonl_fields)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1757337360123456ULL);
    char line[4096];
    fflush(fx.jsonl);
    rewind(fx.jsonl);
    T_CHECK(fgets(line, sizeof line, fx.jsonl) != NULL);
    /* EVE common fields: +0000 offset, hashed flow_id, Community ID v1 (checked against an
     * independent computation: python hashlib over the spec's layout) */
    char want[2048];
    snprintf(want, sizeof want,
             "{\"timestamp\":\"2025-09-08T13:16:00.123456+0000\",\"flow_id\":%llu,"
             "\"event_type\":\"intent\",\"src_ip\":\"10.1.0.2\",\"src_port\":80,\"dest_ip\":"
             "\"10.1.0.5\",\"dest_port\":50000,\"proto\":\"TCP\","
             "\"community_id\":\"1:G8hkZcHrvdFsT/WDvpr5lRNdQe8=\",\"app_proto\":\"http\","
             "\"intent\":{\"chain\":\"evm\",\"address\":\"" SERVED "\",\"source\":"
             "\"response\",\"url\":\"/api/invoice\"},\"http\":{\"hostname\":"
             "\"dapp.example\",\"url\":\"/api/invoice\",\"http_method\":\"GET\","
             "\"status\":200,\"http_content_type\":\"application/json\"}}\n",
             (unsigned long long)ww_out_flow_id(&fx.flow, false, 0));
    T_EQ_STR(line, want);
    fx_free(&fx);
}

T_CASE(output_write_failure_reported)
{
    FILE *full = fopen("/dev/full", "w");
    if (full == NULL)
        T_SKIP("/dev/full is not available");
    ww_out_cfg oc = {0};
    oc.jsonl = full;
    oc.format = WW_FMT_JSONL;
    ww_out *o = ww_out_new(NULL, &oc);
    ww_run_stats st = {0};
    ww_out_stats(o, 0, &st);
    T_CHECK(ww_out_failed(o));
    T_CHECK(ww_out_finish(o) == WW_E_IO);
    ww_out_free(o);
    fclose(full);
}

T_CASE(severity_names)
{
    bool ok;
    T_EQ_INT(ww_severity_from_name("high", &ok), WW_SEV_HIGH);
    T_CHECK(ok);
    T_EQ_INT(ww_severity_from_name("none", &ok), WW_SEV_NONE);
    T_CHECK(ok);
    (void)ww_severity_from_name("bogus", &ok);
    T_CHECK(!ok);
    T_EQ_STR(ww_severity_name(WW_SEV_CRITICAL), "critical");
}

/* One browser (10.0.0.1) and a detector with max_served addresses per browser, events to a
 * temporary JSONL file: the served-store tests below. */
typedef struct ring_fx {
    FILE *jl;
    ww_out *out;
    ww_detect *det;
    ww_decode_sink sink;
    ww_flow f;
    ww_ctx ctx;
} ring_fx;

static void ring_fx_init(ring_fx *r, size_t max_served)
{
    memset(r, 0, sizeof *r);
    r->jl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = r->jl;
    oc.format = WW_FMT_JSONL;
    r->out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    dc.max_served = max_served;
    r->det = ww_detect_new(NULL, &dc, r->out);
    ww_detect_sink(r->det, &r->sink);
    r->f.id = 1;
    r->f.cli_ip.family = 4;
    memcpy(r->f.cli_ip.a, "\x0a\x00\x00\x01", 4);
    r->ctx.flow = &r->f;
    r->ctx.dir = WW_DIR_TOCLIENT;
}

static void ring_fx_free(ring_fx *r)
{
    ww_detect_free(r->det);
    ww_out_free(r->out);
    fclose(r->jl);
}

T_CASE(detect_served_store_ring_eviction)
{
    /* max_served 8: after 100 addresses, exactly the last 8 are still expected */
    ring_fx r;
    ring_fx_init(&r, 8);
    ww_detect *det = r.det;
    ww_decode_sink sink = r.sink;
    ww_ctx ctx = r.ctx;
    char s[43];
    for (unsigned i = 0; i < 100; i++) {
        snprintf(s, sizeof s, "0x%040x", i * 2654435761u + 1);
        ww_addr a = A(s);
        ctx.ts_us = 1000 + i;
        sink.served(sink.ud, &ctx, &a);
    }
    T_EQ_INT(ww_detect_stats_get(det)->intents, 100);
    unsigned flagged = 0, kept_ok = 0;
    for (unsigned i = 0; i < 100; i++) {
        uint64_t before = ww_detect_stats_get(det)->alerts;
        snprintf(s, sizeof s, "0x%040x", i * 2654435761u + 1);
        ww_wallet_call wc = native(s);
        ctx.dir = WW_DIR_TOSERVER;
        ctx.ts_us = 5000;
        sink.wallet_call(sink.ud, &ctx, &wc);
        bool alerted = ww_detect_stats_get(det)->alerts > before;
        if (i >= 92 && !alerted)
            kept_ok++;
        if (i < 92 && alerted)
            flagged++;
    }
    T_EQ_INT(kept_ok, 8);
    T_EQ_INT(flagged, 92);
    ring_fx_free(&r);
}

/* The JSONL a ring fixture wrote so far (NUL-terminated, malloc'ed). */
static char *ring_fx_text(ring_fx *r, size_t *len)
{
    fflush(r->jl);
    long n = ftell(r->jl);
    char *t = malloc((size_t)n + 1);
    rewind(r->jl);
    *len = fread(t, 1, (size_t)n, r->jl);
    t[*len] = '\0';
    return t;
}

T_CASE(detect_served_run_same_as_one_by_one)
{
    /* served_run (the body scanners' runs, prefetched ahead) against served address by
     * address: the same events, byte for byte, the same counters. 3000 addresses through a
     * browser that keeps 256, in runs of 1..40, half of them seen before (found, prefetched
     * entries), some lookalike pairs among them. */
    ring_fx one, run;
    ring_fx_init(&one, 256);
    ring_fx_init(&run, 256);
    static ww_addr a[3000];
    char s[43];
    for (unsigned i = 0; i < 3000; i++) {
        unsigned k = i % 2 ? (i * 7919u) % (i + 1) : i; /* odd ones: an earlier address again */
        snprintf(s, sizeof s, "0x%040x", k * 2654435761u + 3);
        if (k % 97 == 5) /* a 4+4 lookalike of address k - 1 */
            snprintf(s, sizeof s, "0x%04x%032x%04x", 0xabcd, k, 0x1234);
        a[i] = A(s);
    }
    ww_ctx ctx = one.ctx;
    for (unsigned i = 0, len = 1; i < 3000; i += len, len = len % 40 + 1) {
        unsigned m = i + len <= 3000 ? len : 3000 - i;
        ctx.ts_us = 1000 + i;
        for (unsigned j = 0; j < m; j++)
            one.sink.served(one.sink.ud, &ctx, &a[i + j]);
        run.sink.served_run(run.sink.ud, &ctx, &a[i], m);
    }
    const ww_detect_stats *x = ww_detect_stats_get(one.det), *y = ww_detect_stats_get(run.det);
    T_CHECK(x->intents > 1000);
    T_EQ_INT(x->intents, y->intents);
    T_EQ_INT(x->served_dropped, y->served_dropped);
    T_EQ_INT(x->served_pairs, y->served_pairs);
    T_CHECK(x->served_dropped > 0);
    size_t n1, n2;
    char *t1 = ring_fx_text(&one, &n1), *t2 = ring_fx_text(&run, &n2);
    T_CHECK(n1 > 0 && n1 == n2 && memcmp(t1, t2, n1) == 0);
    free(t1);
    free(t2);
    ring_fx_free(&one);
    ring_fx_free(&run);
}

T_CASE(detect_served_store_ring_many)
{
    /* max_served 64: 2000 addresses, each but the first ten followed by the one ten before it
     * again (still stored: found, not added). The exact index deletes and re-inserts over and
     * over in its 128 slots; every lookup must still find exactly the last 64. */
    ring_fx r;
    ring_fx_init(&r, 64);
    ww_detect *det = r.det;
    ww_decode_sink sink = r.sink;
    ww_ctx ctx = r.ctx;
    char s[43];
    for (unsigned i = 0; i < 2000; i++) {
        snprintf(s, sizeof s, "0x%040x", i * 2654435761u + 7);
        ww_addr a = A(s);
        ctx.ts_us = 1000 + i;
        sink.served(sink.ud, &ctx, &a);
        if (i >= 10) {
            snprintf(s, sizeof s, "0x%040x", (i - 10) * 2654435761u + 7);
            a = A(s);
            sink.served(sink.ud, &ctx, &a);
        }
    }
    T_EQ_INT(ww_detect_stats_get(det)->intents, 2000);
    T_EQ_INT(ww_detect_stats_get(det)->served_dropped, 2000 - 64);
    unsigned flagged = 0, kept_ok = 0;
    for (unsigned i = 0; i < 2000; i++) {
        uint64_t before = ww_detect_stats_get(det)->alerts;
        snprintf(s, sizeof s, "0x%040x", i * 2654435761u + 7);
        ww_wallet_call wc = native(s);
        ctx.dir = WW_DIR_TOSERVER;
        ctx.ts_us = 5000;
        sink.wallet_call(sink.ud, &ctx, &wc);
        bool alerted = ww_detect_stats_get(det)->alerts > before;
        if (i >= 2000 - 64 && !alerted)
            kept_ok++;
        if (i < 2000 - 64 && alerted)
            flagged++;
    }
    T_EQ_INT(kept_ok, 64);
    T_EQ_INT(flagged, 2000 - 64);
    ring_fx_free(&r);
}

T_CASE(similarity_thresholds_and_formats)
{
    /* MetaMask's 4+4 against one served address: 28.9 bits, under the default 30 */
    double b44 = ww_similarity_bits(8, 4.0, 1);
    T_CHECK(b44 > 28.8 && b44 < 29.0);
    T_CHECK(ww_similarity_bits(9, 4.0, 1) >= 30.0); /* 4+5 is flagged */
    T_CHECK(ww_similarity_bits(8, 4.0, 1) < 30.0);
    /* bech32: "bc1q" is fixed, 5 bits per character; a legacy address compares with nothing */
    ww_addr x, y, z;
    T_CHECK(ww_addr_parse(&x, WW_CHAIN_BITCOIN, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 42) == WW_OK);
    T_CHECK(ww_addr_parse(&y, WW_CHAIN_BITCOIN, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", 42) == WW_OK);
    T_CHECK(ww_addr_parse(&z, WW_CHAIN_BITCOIN, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", 34) == WW_OK);
    unsigned p, s;
    double bits;
    ww_similarity(&x, &y, 1, &p, &s, &bits);
    T_EQ_INT(p, 0); /* 'a' vs 'w' right after bc1q */
    ww_similarity(&x, &x, 1, &p, &s, &bits);
    T_EQ_INT(p + s, 38);
    T_CHECK(bits > 38 * 5 - 8 && bits < 38 * 5);
    ww_similarity(&x, &z, 1, &p, &s, &bits);
    T_EQ_INT(p + s, 0);
    T_EQ_INT(ww_addr_fixed_len(&x), 4);
    T_EQ_INT(ww_addr_fixed_len(&z), 1);
    T_CHECK(ww_addr_char_bits(&z) > 5.85 && ww_addr_char_bits(&z) < 5.86);
}

static void serve_addr(fixture *fx, const ww_addr *a, uint64_t ts)
{
    ww_ctx ctx = {0};
    ww_http_info http = {"dapp.example", "/api/invoice", "GET", 200, "application/json"};
    ctx.ts_us = ts;
    ctx.flow = &fx->flow;
    ctx.dir = WW_DIR_TOCLIENT;
    ctx.app_proto = "http";
    ctx.http = &http;
    fx->sink.served(fx->sink.ud, &ctx, a);
}

T_CASE(detect_served_lookalike_of_db_entry)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    /* the bundled attacker 0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976 with 6+6 characters kept */
    serve(&fx, &fx.flow, "0xfc4a48000000000000000000000000004c166976", 1000);
    T_CHECK(strstr(alerts(&fx), "lookalike-recipient - 0xfc4a48000000000000000000000000004c166976 "
                               ATTACKER ";") != NULL);
    /* 3+3: not beyond chance against 60 EVM entries */
    serve(&fx, &fx.flow, "0xfc4000000000000000000000000000000000f976", 2000);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 1);
    /* an address served that is in the DB: known-attacker, not also a lookalike */
    serve(&fx, &fx.flow, ATTACKER, 3000);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 2);
    T_CHECK(strstr(alerts(&fx), "known-attacker - " ATTACKER " -;") != NULL);
    /* other chains: a Tron lookalike of a bundled Tron address (10+0 characters after 'T') */
    ww_addr t;
    T_CHECK(ww_addr_parse(&t, WW_CHAIN_TRON, "TB9emsCq6fQwxxxxxxxxxxxxxxxxxxxxxx", 34) != WW_OK);
    memset(&t, 0, sizeof t);
    t.chain = WW_CHAIN_TRON;
    strcpy(t.text, "TB9emsCq6fQ222222222222222222222222");
    t.len = 34;
    t.text[34] = 0;
    serve_addr(&fx, &t, 4000);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 3);
    T_CHECK(strstr(alerts(&fx), "TB9emsCq6fQw6wRk4HBxxNnU6Hwt1DnV67") != NULL);
    fx_free(&fx);
}

static void script(fixture *fx, const ww_addr *v, size_t n)
{
    ww_ctx ctx = {0};
    ww_http_info http = {"cdn.example", "/npm/chalk.min.js", "GET", 200,
                         "application/javascript"};
    ctx.ts_us = 5000;
    ctx.flow = &fx->flow;
    ctx.dir = WW_DIR_TOCLIENT;
    ctx.app_proto = "http";
    ctx.http = &http;
    fx->sink.script(fx->sink.ud, &ctx, v, n);
}

typedef struct scanned {
    ww_addr v[400];
    size_t n;
} scanned;

static void on_scanned(void *ud, const ww_addr *a)
{
    scanned *s = ud;
    if (s->n < 400)
        s->v[s->n++] = *a;
}

static void js_entry(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    ww_buf *b = ud;
    (void)e;
    char line[160];
    int k = snprintf(line, sizeof line, "\"%s\",", a->text);
    T_CHECK(ww_buf_append(b, line, (size_t)k) == WW_OK);
}

T_CASE(detect_drainer_script)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    T_CHECK(fx.sink.script != NULL);
    /* a script with only ordinary addresses: nothing */
    ww_addr plain[2] = {A(SERVED), A(RANDOM_PAYEE)};
    script(&fx, plain, 2);
    script(&fx, plain, 0);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 0);
    /* a script shaped like the payload: every bundled address in a JS array, scanned */
    ww_buf b;
    ww_buf_init(&b, NULL, 1 << 20);
    T_CHECK(ww_buf_append(&b, "var _0x=[", 9) == WW_OK);
    ww_addrdb_each(fx.db, js_entry, &b);
    T_CHECK(ww_buf_append(&b, "];", 2) == WW_OK);
    static scanned sc;
    sc.n = 0;
    (void)ww_addr_scan(b.data, b.len, on_scanned, &sc);
    T_EQ_INT(sc.n, 279); /* the Solana literal 1911...1111 is a string IOC, not scanned */
    sc.v[sc.n++] = sc.v[0]; /* a repeat is counted once */
    script(&fx, sc.v, sc.n);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 1);
    char *got = alerts(&fx);
    T_CHECK(strncmp(got, "drainer-script - ", 17) == 0);
    /* the signature carries the URL and the count */
    char line[8192];
    rewind(fx.jsonl);
    bool seen = false;
    while (fgets(line, sizeof line, fx.jsonl) != NULL)
        if (strstr(line, "drainer-script") != NULL)
            seen = strstr(line, "cdn.example/npm/chalk.min.js embeds 279 attacker-DB addresses") != NULL &&
                   strstr(line, "\"where\":\"script\"") != NULL &&
                   strstr(line, "\"level\":\"critical\"") != NULL;
    T_CHECK(seen);
    ww_buf_free(&b);
    fx_free(&fx);
}

/* ---- issue 13/14: nearest-address lookalikes, pairs, provenance, unverified, memory ---- */

/* A copy of base (EVM) keeping exactly p leading and s trailing hex characters; the rest
 * derived from seed, with the characters next to the kept ones changed. */
static void mk_lookalike(char out[43], const char *base, unsigned p, unsigned s, unsigned seed)
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, base, 43);
    uint64_t x = 0x9e3779b97f4a7c15ULL * (seed + 1);
    for (unsigned i = p; i < 40 - s; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
        out[2 + i] = hex[(x >> 40) & 15];
    }
    if (out[2 + p] == base[2 + p])
        out[2 + p] = base[2 + p] == 'a' ? 'b' : 'a';
    if (out[41 - s] == base[41 - s])
        out[41 - s] = base[41 - s] == 'a' ? 'b' : 'a';
}

static void rand_addr(char out[43], unsigned seed)
{
    mk_lookalike(out, "0x0000000000000000000000000000000000000000", 0, 0, seed * 7919u + 13);
}

T_CASE(detect_lookalike_as_attackers_make_them)
{
    static const struct { unsigned p, s; bool flagged; } cases[] = {
        {4, 4, true}, {3, 4, true}, {4, 3, true}, {2, 5, true}, {5, 5, true},
        {2, 2, false}, {3, 3, false}, {1, 5, false}, {9, 0, true}, {0, 6, false},
    };
    for (size_t k = 0; k < WW_ARRAY_LEN(cases); k++) {
        fixture fx;
        fx_init(&fx, NULL, 0, 0);
        serve(&fx, &fx.flow, SERVED, 1000);
        char la[43];
        mk_lookalike(la, SERVED, cases[k].p, cases[k].s, (unsigned)k);
        ww_wallet_call wc = native(la);
        call(&fx, &fx.flow, &wc, 2000);
        char want[256];
        snprintf(want, sizeof want, "%s to %s " SERVED ";",
                 cases[k].flagged ? "lookalike-recipient" : "unrequested-recipient", la);
        T_EQ_STR(alerts(&fx), want);
        fx_free(&fx);
    }
}

T_CASE(detect_lookalike_not_diluted_by_many_served)
{
    /* a 200-token list beside the invoice: a 5+5 (and a 4+4) copy still is a lookalike */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    char r[43];
    for (unsigned i = 0; i < 200; i++) {
        rand_addr(r, i);
        serve(&fx, &fx.flow, r, 500 + i);
    }
    serve(&fx, &fx.flow, SERVED, 1000);
    char la[43];
    mk_lookalike(la, SERVED, 5, 5, 77);
    ww_wallet_call wc = native(la);
    call(&fx, &fx.flow, &wc, 2000);
    char want[200];
    snprintf(want, sizeof want, "lookalike-recipient to %s " SERVED ";", la);
    T_EQ_STR(alerts(&fx), want);
    fx_free(&fx);
}

T_CASE(detect_fake_token_contract_is_lookalike)
{
    /* the call target of an ERC-20 transfer is a 4+4 copy of the served USDC: critical */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, TOKEN, 1000);
    serve(&fx, &fx.flow, SERVED, 1000);
    char fake[43];
    mk_lookalike(fake, TOKEN, 4, 4, 5);
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    strcpy(wc.method, "eth_sendTransaction");
    strcpy(wc.kind, "erc20-transfer");
    add_party(&wc, WW_ROLE_TO, false, false, fake);
    add_party(&wc, WW_ROLE_RECIPIENT, true, false, SERVED);
    call(&fx, &fx.flow, &wc, 2000);
    char want[200];
    snprintf(want, sizeof want, "lookalike-recipient to %s " TOKEN ";", fake);
    T_EQ_STR(alerts(&fx), want);
    T_EQ_INT(ww_detect_stats_get(fx.det)->worst, WW_SEV_CRITICAL);
    /* clean: the real token contract raises nothing */
    fx_free(&fx);
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, TOKEN, 1000);
    serve(&fx, &fx.flow, SERVED, 1000);
    wc.parties[0].addr = A(TOKEN);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    fx_free(&fx);
}

/* Does any line of the JSON-lines output contain needle? */
static bool jsonl_has(fixture *fx, const char *needle)
{
    static char line[16384];
    bool found = false;
    fflush(fx->jsonl);
    rewind(fx->jsonl);
    while (!found && fgets(line, sizeof line, fx->jsonl) != NULL)
        found = strstr(line, needle) != NULL;
    fseek(fx->jsonl, 0, SEEK_END);
    return found;
}

static char *jsonl_text(fixture *fx)
{
    static char buf[65536];
    fflush(fx->jsonl);
    rewind(fx->jsonl);
    size_t n = fread(buf, 1, sizeof buf - 1, fx->jsonl);
    buf[n] = '\0';
    fseek(fx->jsonl, 0, SEEK_END);
    return buf;
}

T_CASE(detect_poisoned_feed_pair)
{
    /* the activity API lists a real transfer to P and the poisoner's 0-value transfer from a
     * 6+6 lookalike L; the user copies L and pays it */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    char r[43], L[43];
    for (unsigned i = 0; i < 50; i++) {
        rand_addr(r, 1000 + i);
        serve(&fx, &fx.flow, r, 500 + i);
    }
    serve(&fx, &fx.flow, SERVED, 1000);
    mk_lookalike(L, SERVED, 6, 6, 3);
    serve(&fx, &fx.flow, L, 1100);
    T_EQ_INT(ww_detect_stats_get(fx.det)->served_pairs, 1);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 0); /* recorded, not yet an alert */
    ww_wallet_call wc = native(L);
    call(&fx, &fx.flow, &wc, 2000);
    char want[200];
    snprintf(want, sizeof want, "lookalike-recipient to %s " SERVED ";", L);
    T_EQ_STR(alerts(&fx), want);
    /* the signature names both and where each was served */
    const char *t = jsonl_text(&fx);
    T_CHECK(strstr(t, "one of two lookalike addresses served to this client") != NULL);
    T_CHECK(strstr(t, "from dapp.example (body-json)") != NULL);
    /* paying the other member is flagged too */
    ww_wallet_call wc2 = native(SERVED);
    call(&fx, &fx.flow, &wc2, 3000);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 2);
    fx_free(&fx);
    /* clean: 50 unrelated served addresses, paying one of them raises nothing */
    fx_init(&fx, NULL, 0, 0);
    for (unsigned i = 0; i < 50; i++) {
        rand_addr(r, 1000 + i);
        serve(&fx, &fx.flow, r, 500 + i);
    }
    T_EQ_INT(ww_detect_stats_get(fx.det)->served_pairs, 0);
    wc = native(r);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    fx_free(&fx);
}

static void serve_as(fixture *fx, const ww_flow *f, const char *addr, uint64_t ts, int prov)
{
    ww_ctx ctx = {0};
    ww_http_info http = {"app.example", "/assets/index.js", "GET", 200, "text/javascript"};
    ww_addr a = A(addr);
    ctx.ts_us = ts;
    ctx.flow = f;
    ctx.dir = WW_DIR_TOCLIENT;
    ctx.app_proto = "http";
    ctx.http = &http;
    T_CHECK(fx->sink.served_prov != NULL);
    fx->sink.served_prov(fx->sink.ud, &ctx, &a, prov);
}

#define PERMIT2 "0x000000000022d473030f116ddee9f6b43ac78ba3"
#define ROUTER "0x66a9893cc07d91d95644aedd05d03f95e1dba8af"

static ww_wallet_call approve(const char *token, const char *spender)
{
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    strcpy(wc.method, "eth_sendTransaction");
    strcpy(wc.kind, "erc20-approve");
    add_party(&wc, WW_ROLE_TO, false, false, token);
    add_party(&wc, WW_ROLE_SPENDER, true, true, spender);
    return wc;
}

T_CASE(detect_provenance_script_names_spender_and_target)
{
    /* approve(Permit2, max) then a router call, both named only in the page's JS bundle */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, TOKEN, 1000); /* the token list */
    serve_as(&fx, &fx.flow, PERMIT2, 1000, WW_PROV_SCRIPT);
    serve_as(&fx, &fx.flow, ROUTER, 1000, WW_PROV_SCRIPT);
    ww_wallet_call wc = approve(TOKEN, PERMIT2);
    call(&fx, &fx.flow, &wc, 2000);
    ww_wallet_call ex;
    memset(&ex, 0, sizeof ex);
    ex.chain = WW_CHAIN_EVM;
    strcpy(ex.method, "eth_sendTransaction");
    strcpy(ex.kind, "contract-call");
    add_party(&ex, WW_ROLE_TO, false, false, ROUTER);
    call(&fx, &fx.flow, &ex, 2100);
    T_EQ_STR(alerts(&fx), "");
    /* a payee of value found only in a script stays suspicious (a clipper's pool is a script) */
    serve_as(&fx, &fx.flow, RANDOM_PAYEE, 1000, WW_PROV_SCRIPT);
    ww_wallet_call pay = native(RANDOM_PAYEE);
    call(&fx, &fx.flow, &pay, 2200);
    T_EQ_STR(alerts(&fx), "unrequested-recipient to " RANDOM_PAYEE " " TOKEN ";");
    T_CHECK(strstr(jsonl_text(&fx), "named only in a script") != NULL);
    fx_free(&fx);
    /* attack: the same approval to a spender nothing named */
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, TOKEN, 1000);
    wc = approve(TOKEN, RANDOM_PAYEE);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "unrequested-recipient spender " RANDOM_PAYEE " " TOKEN
                          ";unlimited-approval spender " RANDOM_PAYEE " " TOKEN ";");
    fx_free(&fx);
}

T_CASE(detect_provenance_other_kinds_serve)
{
    /* a payee only in a Location header, only as an ABI word of an eth_call result, only in
     * calldata a trading API returned: each is served */
    static const int provs[] = {WW_PROV_HEADER, WW_PROV_RPC_WORD, WW_PROV_CALLDATA,
                                WW_PROV_WEBSOCKET};
    for (size_t i = 0; i < WW_ARRAY_LEN(provs); i++) {
        fixture fx;
        fx_init(&fx, NULL, 0, 0);
        serve(&fx, &fx.flow, TOKEN, 1000);
        serve_as(&fx, &fx.flow, RANDOM_PAYEE, 1000, provs[i]);
        ww_wallet_call pay = native(RANDOM_PAYEE);
        call(&fx, &fx.flow, &pay, 2000);
        T_EQ_STR(alerts(&fx), "");
        fx_free(&fx);
    }
    T_EQ_STR(ww_prov_name(WW_PROV_RPC_WORD), "rpc-word");
    T_EQ_STR(ww_prov_name(WW_PROV_SCRIPT), "script");
    T_EQ_STR(ww_prov_name(99), "unknown");
}

T_CASE(detect_registry_contracts_not_unrequested)
{
    ww_registry *reg = ww_registry_new(NULL);
    T_CHECK(reg != NULL);
    T_CHECK(ww_registry_load_bundled(reg) > 10);
    ww_addr p2 = A(PERMIT2);
    const ww_registry_entry *re = ww_registry_lookup(reg, &p2);
    T_CHECK(re != NULL && strstr(re->name, "Permit2") != NULL && re->source[0] != '\0');
    ww_addr rnd = A(RANDOM_PAYEE);
    T_CHECK(ww_registry_lookup(reg, &rnd) == NULL);
    /* a user file extends it; bad lines counted */
    ww_registry_report rep;
    const char *user = "chain,address,name,chain_ids,source\n"
                       "evm," RANDOM_PAYEE ",Our settlement,1,ops\n"
                       "evm,0x12,broken,1,ops\n";
    T_EQ_INT(ww_registry_load_text(reg, user, strlen(user), &rep), WW_OK);
    T_EQ_INT(rep.added, 1);
    T_EQ_INT(rep.bad, 1);
    T_EQ_INT(rep.first_bad_line, 3);
    T_CHECK(ww_registry_lookup(reg, &rnd) != NULL);

    FILE *jl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = jl;
    oc.format = WW_FMT_JSONL;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    dc.registry = reg;
    ww_detect *det = ww_detect_new(NULL, &dc, out);
    ww_decode_sink sink;
    ww_detect_sink(det, &sink);
    fixture fx; /* only for its helpers */
    memset(&fx, 0, sizeof fx);
    fx.sink = sink;
    fx.jsonl = jl;
    fx.flow.cli_ip.family = 4;
    memcpy(fx.flow.cli_ip.a, "\x0a\x01\x00\x05", 4);
    serve(&fx, &fx.flow, TOKEN, 1000);
    /* approve(Permit2, max) with Permit2 served nowhere: the registry names it */
    ww_wallet_call wc = approve(TOKEN, PERMIT2);
    call(&fx, &fx.flow, &wc, 2000);
    /* value sent to the Universal Router (payee: it receives ETH) */
    ww_wallet_call sw = native(ROUTER);
    call(&fx, &fx.flow, &sw, 2100);
    T_EQ_STR(alerts(&fx), "");
    /* value to a contract nothing served: unrequested-recipient */
    ww_wallet_call bad = native("0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c");
    call(&fx, &fx.flow, &bad, 2200);
    T_EQ_STR(alerts(&fx), "unrequested-recipient to 0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c "
                          TOKEN ";");
    ww_detect_free(det);
    ww_out_free(out);
    fclose(jl);
    ww_registry_free(reg);
}

T_CASE(detect_unverified_recipient)
{
    /* a payee checked while nothing of its chain was served: medium */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    ww_wallet_call wc = native(RANDOM_PAYEE);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "unverified-recipient to " RANDOM_PAYEE " -;");
    T_EQ_INT(ww_detect_stats_get(fx.det)->worst, WW_SEV_MEDIUM);
    /* a script alone does not count as "something of its chain was served" */
    serve_as(&fx, &fx.flow, SERVED, 2500, WW_PROV_SCRIPT);
    call(&fx, &fx.flow, &wc, 3000);
    T_EQ_INT(ww_detect_stats_get(fx.det)->alerts, 2);
    fx_free(&fx);
    /* with --expect (of another chain): high */
    ww_addr sol;
    T_CHECK(ww_addr_parse(&sol, WW_CHAIN_SOLANA, "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM", 44) ==
            WW_OK);
    fx_init(&fx, &sol, 1, 0);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "unverified-recipient to " RANDOM_PAYEE " -;");
    T_EQ_INT(ww_detect_stats_get(fx.det)->worst, WW_SEV_HIGH);
    fx_free(&fx);
    /* clean: served, nothing */
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, RANDOM_PAYEE, 1000);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    fx_free(&fx);
}

T_CASE(detect_mac_joins_ipv4_and_ipv6)
{
    /* the API went over IPv6, the RPC over IPv4: one host (one MAC) is one browser */
    static const uint8_t mac[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    ww_flow v6 = fx.flow;
    v6.cli_ip.family = 6;
    memcpy(v6.cli_ip.a, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05", 16);
    serve(&fx, &v6, SERVED, 1000);
    ww_detect_learn_mac(fx.det, mac, &v6.cli_ip, 1000);
    ww_detect_learn_mac(fx.det, mac, &fx.flow.cli_ip, 1500);
    T_EQ_INT(ww_detect_stats_get(fx.det)->mac_aliases, 1);
    ww_wallet_call wc = native(SERVED);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    /* served to the IPv4 address after the join counts for the IPv6 one too */
    serve(&fx, &fx.flow, RANDOM_PAYEE, 2500);
    wc = native(RANDOM_PAYEE);
    call(&fx, &v6, &wc, 3000);
    T_EQ_STR(alerts(&fx), "");
    fx_free(&fx);
    /* without the MAC: the IPv4 browser was served nothing -> unverified-recipient */
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &v6, SERVED, 1000);
    wc = native(SERVED);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "unverified-recipient to " SERVED " -;");
    fx_free(&fx);
    /* a router's MAC (two IPv4 addresses) joins nothing */
    fx_init(&fx, NULL, 0, 0);
    ww_ip b = fx.flow.cli_ip;
    b.a[3] = 77;
    ww_detect_learn_mac(fx.det, mac, &b, 900);
    ww_detect_learn_mac(fx.det, mac, &fx.flow.cli_ip, 1000);
    ww_detect_learn_mac(fx.det, mac, &v6.cli_ip, 1100);
    T_EQ_INT(ww_detect_stats_get(fx.det)->mac_aliases, 0);
    fx_free(&fx);
}

T_CASE(baseline_parse_and_match)
{
    const char *text = "# accepted findings\n"
                       "unrequested-recipient " RANDOM_PAYEE " host=pay.example expires=2099-12-31 payroll wallet\n"
                       "unlimited-approval 0x1111222233334444555566667777888899990000 our vault\n"
                       "lookalike-recipient " SERVED " expires=2020-01-01 old\n"
                       "* * host=test.example  staging noise\n"
                       "* *   no host: refused\n"
                       "Bad_Rule " SERVED "\n"
                       "unrequested-recipient 0x123\n"
                       "unrequested-recipient " SERVED " expires=2021-02-30\n";
    ww_baseline *b = NULL;
    ww_baseline_report rep;
    T_EQ_INT(ww_baseline_parse(&b, NULL, text, strlen(text), 1767225600 /* 2026-01-01 */, &rep),
             WW_OK);
    T_EQ_INT(rep.lines, 8);
    T_EQ_INT(rep.entries, 3);
    T_EQ_INT(rep.expired, 1);
    T_EQ_INT(rep.bad, 4);
    T_EQ_INT(rep.bad_line_no[0], 6);
    T_EQ_INT(rep.bad_line_no[3], 9);
    ww_addr p = A(RANDOM_PAYEE), s = A(SERVED);
    const char *why = NULL;
    T_CHECK(ww_baseline_match(b, "unrequested-recipient", &p, "PAY.example", &why));
    T_EQ_STR(why, "payroll wallet");
    T_CHECK(!ww_baseline_match(b, "unrequested-recipient", &p, "other.example", NULL));
    T_CHECK(!ww_baseline_match(b, "unrequested-recipient", &p, NULL, NULL));
    T_CHECK(ww_baseline_match(b, "unlimited-approval", &s, NULL, NULL));
    T_CHECK(!ww_baseline_match(b, "lookalike-recipient", &s, NULL, NULL)); /* expired */
    T_CHECK(ww_baseline_match(b, "known-attacker", &s, "test.example", NULL));
    /* EIP-55 spelling of an entry matches (addresses are normalized) */
    ww_addr mixed;
    T_CHECK(ww_addr_parse(&mixed, WW_CHAIN_EVM, "0x9E3779B97F4A7C15F39CC0605CEDC8341082276B", 42) == WW_OK);
    T_CHECK(ww_baseline_match(b, "unrequested-recipient", &mixed, "pay.example", NULL));
    ww_baseline_free(b);
}

T_CASE(detect_baseline_suppresses)
{
    const char *text = "unrequested-recipient " RANDOM_PAYEE " host=rpc.example accepted payee\n";
    ww_baseline *b = NULL;
    T_EQ_INT(ww_baseline_parse(&b, NULL, text, strlen(text), 0, NULL), WW_OK);
    FILE *jl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = jl;
    oc.format = WW_FMT_JSONL;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    dc.baseline = b;
    ww_detect *det = ww_detect_new(NULL, &dc, out);
    fixture fx;
    memset(&fx, 0, sizeof fx);
    ww_detect_sink(det, &fx.sink);
    fx.jsonl = jl;
    fx.flow.cli_ip.family = 4;
    memcpy(fx.flow.cli_ip.a, "\x0a\x01\x00\x05", 4);
    serve(&fx, &fx.flow, SERVED, 1000);
    ww_wallet_call wc = native(RANDOM_PAYEE);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    T_EQ_INT(ww_detect_stats_get(det)->suppressed, 1);
    T_EQ_INT(ww_detect_stats_get(det)->alerts, 0);
    /* another payee is still an alert */
    ww_wallet_call wc2 = native(OTHER_CLIENT_SERVED);
    call(&fx, &fx.flow, &wc2, 2100);
    T_EQ_INT(ww_detect_stats_get(det)->alerts, 1);
    ww_detect_free(det);
    ww_out_free(out);
    fclose(jl);
    ww_baseline_free(b);
}

T_CASE(detect_eviction_counted_and_incomplete)
{
    /* a 2 MiB budget; a victim is served its invoice, then 20,000 other browsers are served
     * one address each: the victim is evicted (counted, an anomaly), and its later payment
     * of an address it is no longer known to have been served is not a high finding */
    FILE *jl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = jl;
    oc.format = WW_FMT_JSONL;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    dc.max_bytes = (size_t)4 << 20;
    ww_detect *det = ww_detect_new(NULL, &dc, out);
    fixture fx;
    memset(&fx, 0, sizeof fx);
    ww_detect_sink(det, &fx.sink);
    fx.jsonl = jl;
    fx.flow.cli_ip.family = 4;
    memcpy(fx.flow.cli_ip.a, "\x0a\x01\x00\x05", 4);
    serve(&fx, &fx.flow, SERVED, 1000);
    T_CHECK(!ww_detect_client_incomplete(det, &fx.flow.cli_ip));
    ww_flow other = fx.flow;
    char r[43];
    for (unsigned i = 0; i < 20000; i++) {
        other.cli_ip.a[0] = 11;
        other.cli_ip.a[1] = (uint8_t)(i >> 16);
        other.cli_ip.a[2] = (uint8_t)(i >> 8);
        other.cli_ip.a[3] = (uint8_t)i;
        rand_addr(r, i);
        serve(&fx, &other, r, 2000 + i);
    }
    const ww_detect_stats *st = ww_detect_stats_get(det);
    T_CHECK(st->clients_evicted > 0);
    /* over the budget at most by one growth step of the browser table */
    T_CHECK(st->state_peak_bytes <= dc.max_bytes + dc.max_bytes / 2);
    T_CHECK(st->state_bytes <= dc.max_bytes);
    T_EQ_INT(st->anomalies, st->clients_evicted);
    T_CHECK(ww_detect_client_incomplete(det, &fx.flow.cli_ip));
    T_CHECK(jsonl_has(&fx, "\"browser-evicted\""));
    /* the victim comes back: something else is served, then it pays its invoice */
    serve(&fx, &fx.flow, OTHER_CLIENT_SERVED, 30000);
    ww_wallet_call wc = native(SERVED);
    call(&fx, &fx.flow, &wc, 31000);
    T_EQ_STR(alerts(&fx), "unrequested-recipient to " SERVED " " OTHER_CLIENT_SERVED ";");
    T_EQ_INT(st->worst, WW_SEV_MEDIUM);
    ww_detect_free(det);
    ww_out_free(out);
    fclose(jl);
}

T_CASE(detect_many_browsers_small_state)
{
    /* 12,000 browsers with 5 addresses each: state grows by use, no 8 MiB blocks */
    FILE *jl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = jl;
    oc.format = WW_FMT_JSONL;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    ww_detect *det = ww_detect_new(NULL, &dc, out);
    ww_decode_sink sink;
    ww_detect_sink(det, &sink);
    ww_flow f = {0};
    f.cli_ip.family = 4;
    ww_ctx ctx = {0};
    ctx.flow = &f;
    ctx.dir = WW_DIR_TOCLIENT;
    char r[43];
    for (unsigned i = 0; i < 12000; i++) {
        f.cli_ip.a[0] = 10;
        f.cli_ip.a[1] = (uint8_t)(i >> 16);
        f.cli_ip.a[2] = (uint8_t)(i >> 8);
        f.cli_ip.a[3] = (uint8_t)i;
        for (unsigned k = 0; k < 5; k++) {
            rand_addr(r, i * 5 + k);
            ww_addr a = A(r);
            ctx.ts_us = 1000 + i;
            sink.served(sink.ud, &ctx, &a);
        }
    }
    const ww_detect_stats *st = ww_detect_stats_get(det);
    T_EQ_INT(st->clients, 12000);
    T_EQ_INT(st->clients_evicted, 0);
    T_CHECK(st->state_bytes < (size_t)40 << 20);
    ww_detect_free(det);
    ww_out_free(out);
    fclose(jl);
}

T_CASE(detect_sentinel_is_no_lookalike)
{
    /* the zero address against a served leading-zero vanity contract (Permit2): no lookalike */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, PERMIT2, 1000);
    ww_wallet_call wc = native("0x0000000000000000000000000000000000000000");
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "unrequested-recipient to 0x0000000000000000000000000000000000000000 " PERMIT2 ";");
    fx_free(&fx);
}

T_CASE(detect_incomplete_only_while_the_hole_matters)
{
    /* max_served 4: the fifth address overwrites the first; a payee checked within the window
     * of the lost one is medium, one checked after it (the lost one would have expired) high */
    FILE *jl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = jl;
    oc.format = WW_FMT_JSONL;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    dc.max_served = 4;
    dc.window_us = 1000000;
    ww_detect *det = ww_detect_new(NULL, &dc, out);
    fixture fx;
    memset(&fx, 0, sizeof fx);
    ww_detect_sink(det, &fx.sink);
    fx.jsonl = jl;
    fx.flow.cli_ip.family = 4;
    memcpy(fx.flow.cli_ip.a, "\x0a\x01\x00\x05", 4);
    char r[43];
    for (unsigned i = 0; i < 5; i++) {
        rand_addr(r, 500 + i);
        serve(&fx, &fx.flow, r, 1000 + i);
    }
    T_EQ_INT(ww_detect_stats_get(det)->served_dropped, 1);
    T_CHECK(ww_detect_client_incomplete(det, &fx.flow.cli_ip));
    ww_wallet_call wc = native(RANDOM_PAYEE);
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_INT(ww_detect_stats_get(det)->worst, WW_SEV_MEDIUM);
    for (unsigned i = 0; i < 4; i++) { /* keep the rest in the window */
        rand_addr(r, 500 + 1 + i);
        serve(&fx, &fx.flow, r, 1500000);
    }
    call(&fx, &fx.flow, &wc, 1600000);
    T_CHECK(!ww_detect_client_incomplete(det, &fx.flow.cli_ip));
    T_EQ_INT(ww_detect_stats_get(det)->worst, WW_SEV_HIGH);
    ww_detect_free(det);
    ww_out_free(out);
    fclose(jl);
}

T_CASE(detect_history_unseen_marks_once_and_expires)
{
    /* a browser whose connection was picked up mid-stream at the capture's start: an unserved
     * payee is medium, says why, and is counted unchecked (history-unseen -> blind); after the
     * window it is high again; later pickups of a known browser (a flow that idled out) mark
     * nothing; an unknown browser is marked whenever it is first seen mid-stream */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    ww_detect *det = fx.det;
    ww_detect_history_unseen(det, &fx.flow.cli_ip, 1000, true);
    ww_detect_history_unseen(det, &fx.flow.cli_ip, 1100, true);
    T_EQ_INT(ww_detect_stats_get(det)->clients_unseen, 1);
    T_CHECK(ww_detect_client_incomplete(det, &fx.flow.cli_ip));
    serve(&fx, &fx.flow, OTHER_CLIENT_SERVED, 2000);
    ww_wallet_call wc = native(RANDOM_PAYEE);
    call(&fx, &fx.flow, &wc, 3000);
    T_EQ_INT(ww_detect_stats_get(det)->worst, WW_SEV_MEDIUM);
    T_CHECK(jsonl_has(&fx, "its connections were open before the capture began"));
    T_CHECK(jsonl_has(&fx, "\"type\":\"history-unseen\""));
    /* the window (30 min) after the pickup: what came before has expired */
    uint64_t later = 1000 + 31ULL * 60 * 1000000;
    serve(&fx, &fx.flow, OTHER_CLIENT_SERVED, later);
    call(&fx, &fx.flow, &wc, later + 1000);
    T_EQ_INT(ww_detect_stats_get(det)->worst, WW_SEV_HIGH);
    /* a known browser picked up mid-stream later in the capture: nothing */
    ww_detect_history_unseen(det, &fx.flow.cli_ip, later + 2000, false);
    T_CHECK(!ww_detect_client_incomplete(det, &fx.flow.cli_ip));
    /* an unknown one: marked */
    ww_ip other = fx.flow.cli_ip;
    other.a[3] ^= 0x55;
    ww_detect_history_unseen(det, &other, later + 3000, false);
    T_CHECK(ww_detect_client_incomplete(det, &other));
    T_EQ_INT(ww_detect_stats_get(det)->clients_unseen, 2);
    fx_free(&fx);
}

T_CASE(detect_copy_of_registry_contract)
{
    /* approve(fake Permit2, max), the fake a 4+4 copy served by a poisoned API: critical */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    char fake[43];
    mk_lookalike(fake, "0x000000000022d473030f116ddee9f6b43ac78ba3", 4, 4, 9);
    serve(&fx, &fx.flow, TOKEN, 1000);
    serve(&fx, &fx.flow, fake, 1000);
    ww_wallet_call wc = approve(TOKEN, fake);
    call(&fx, &fx.flow, &wc, 2000);
    char want[200];
    snprintf(want, sizeof want, "lookalike-recipient spender %s " PERMIT2 ";", fake);
    T_EQ_STR(alerts(&fx), want);
    T_CHECK(jsonl_has(&fx, "looks like Uniswap Permit2 (registry of protocol contracts)"));
    fx_free(&fx);
}

T_CASE(detect_protocol_families_are_not_lookalikes)
{
    /* 1inch's v5 router shares "1111111254" with the registry's v6 router, and a leading-zero
     * contract shares a run of zeros with Permit2: neither is a copy */
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, TOKEN, 1000);
    ww_wallet_call wc = approve(TOKEN, "0x1111111254eeb25477b68fb85ed929f73a960582");
    call(&fx, &fx.flow, &wc, 2000);
    ww_wallet_call wc2 = approve(TOKEN, "0x00000000000017c75025d397b91d284bbe8fc7f2");
    call(&fx, &fx.flow, &wc2, 2100);
    T_CHECK(strstr(alerts(&fx), "lookalike") == NULL);
    /* ... while a payee with 6 zeros + 4 characters of Permit2's end is one */
    ww_wallet_call wc3 = approve(TOKEN, "0x000000c0ffee17c75025d397b91d284bbe8f8ba3");
    call(&fx, &fx.flow, &wc3, 2200);
    T_CHECK(strstr(alerts(&fx), "lookalike-recipient spender 0x000000c0ffee17c75025d397b91d284bbe8f8ba3 " PERMIT2) != NULL);
    fx_free(&fx);
}

/* Issue 13.4: a revocation (approve(s, 0), setApprovalForAll(op, false)) grants nothing: the
 * approval rules skip it; a known attacker named by it is still said. */
T_CASE(detect_revocation_skips_approval_rules)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    serve(&fx, &fx.flow, TOKEN, 1000);
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    strcpy(wc.method, "eth_sendTransaction");
    strcpy(wc.kind, "erc20-approve");
    add_party(&wc, WW_ROLE_TO, false, false, TOKEN);
    add_party(&wc, WW_ROLE_SPENDER, true, false, RANDOM_PAYEE);
    wc.parties[1].revocation = true;
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "");
    /* the same call as a grant: unrequested */
    wc.parties[1].revocation = false;
    call(&fx, &fx.flow, &wc, 3000);
    T_CHECK(strstr(alerts(&fx), "unrequested-recipient spender " RANDOM_PAYEE " ") != NULL);
    fx_free(&fx);

    /* setApprovalForAll(attacker, false): known-attacker only */
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    strcpy(wc.method, "eth_sendTransaction");
    strcpy(wc.kind, "contract-call");
    add_party(&wc, WW_ROLE_TO, false, false, TOKEN);
    add_party(&wc, WW_ROLE_OPERATOR, true, false, ATTACKER);
    wc.parties[1].revocation = true;
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "known-attacker operator " ATTACKER " " SERVED ";");
    fx_free(&fx);
}

/* One alert per (rule, role, observed) and wallet call: a Permit2 PermitBatch naming one
 * spender party per token gives one unrequested-recipient and one unlimited-approval. */
T_CASE(detect_alerts_deduplicated_per_call)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    serve(&fx, &fx.flow, SERVED, 1000);
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    strcpy(wc.method, "eth_signTypedData_v4");
    strcpy(wc.kind, "permit2-batch");
    for (int i = 0; i < 3; i++) {
        add_party(&wc, WW_ROLE_SPENDER, true, true, ATTACKER);
        wc.parties[i].has_token = true;
        wc.parties[i].token = A(i == 0 ? TOKEN : i == 1 ? OTHER_CLIENT_SERVED : SERVED);
    }
    call(&fx, &fx.flow, &wc, 2000);
    T_EQ_STR(alerts(&fx), "known-attacker spender " ATTACKER " " SERVED
                          ";unrequested-recipient spender " ATTACKER " " SERVED
                          ";unlimited-approval spender " ATTACKER " " SERVED ";");
    /* another call with the same spender: alerted again (dedup is per call) */
    call(&fx, &fx.flow, &wc, 3000);
    T_CHECK(strstr(alerts(&fx) + 1, "unlimited-approval spender " ATTACKER " " SERVED
                                    ";known-attacker") != NULL);
    fx_free(&fx);
}

static void serve_url(fixture *fx, const char *addr, const char *url, uint64_t ts)
{
    ww_ctx ctx = {0};
    ww_http_info http = {"dapp.example", url, "GET", 200, "application/json"};
    ww_addr a = A(addr);
    ctx.ts_us = ts;
    ctx.flow = &fx->flow;
    ctx.dir = WW_DIR_TOCLIENT;
    ctx.app_proto = "http";
    ctx.http = &http;
    fx->sink.served(fx->sink.ud, &ctx, &a);
}

/* The served_url an alert reports is the response that last served the expected address,
 * whichever URL was interned last, cut at 299 bytes like the snprintf it replaced. */
T_CASE(detect_served_url_last_response)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    char lng[420], want[400], L[43], *t;
    memset(lng, 'x', sizeof lng - 1);
    lng[0] = '/';
    lng[sizeof lng - 1] = '\0';
    mk_lookalike(L, SERVED, 6, 6, 3);
    serve_url(&fx, SERVED, "/a", 1000);
    serve_url(&fx, OTHER_CLIENT_SERVED, "/b", 1001);
    serve_url(&fx, SERVED, lng, 1002); /* a new URL, long */
    ww_wallet_call wc = native(L);
    call(&fx, &fx.flow, &wc, 2000);
    /* "http://dapp.example" is 19 bytes: 280 of the target's */
    snprintf(want, sizeof want, "\"served_url\":\"http://dapp.example%.280s\"", lng);
    t = jsonl_text(&fx);
    T_CHECK(strstr(t, want) != NULL);
    serve_url(&fx, OTHER_CLIENT_SERVED, "/b", 3000);
    serve_url(&fx, SERVED, "/a", 3001); /* back to an URL interned before */
    serve_url(&fx, SERVED, "/a", 3002);
    call(&fx, &fx.flow, &wc, 4000);
    t = jsonl_text(&fx);
    T_CHECK(strstr(t, "\"served_url\":\"http://dapp.example/a\",\"served_at\":"
                      "\"1970-01-01T00:00:00.003002+0000\"") != NULL);
    fx_free(&fx);
}

/* The exact-address index under ring overwrites (deletions in the middle of probe runs):
 * max_served 64, 20000 serves drawn from 150 addresses; whether each was new (an intent) is
 * checked against a plain FIFO model of the ring. */
T_CASE(detect_served_index_matches_ring_model)
{
    ring_fx r;
    ring_fx_init(&r, 64);
    ww_detect *det = r.det;
    ww_decode_sink sink = r.sink;
    ww_ctx ctx = r.ctx;
    unsigned ring[64], n = 0, next = 0, x = 12345, mismatches = 0;
    uint64_t want = 0;
    char s[43];
    for (unsigned k = 0; k < 20000; k++) {
        x = x * 1103515245u + 12345u;
        unsigned id = (x >> 8) % 150;
        bool present = false;
        for (unsigned j = 0; j < n && !present; j++)
            present = ring[j] == id;
        if (!present) {
            want++;
            if (n < 64)
                ring[n++] = id;
            else {
                ring[next] = id;
                next = (next + 1) % 64;
            }
        }
        snprintf(s, sizeof s, "0x%040x", id * 2654435761u + 7);
        ww_addr a = A(s);
        ctx.ts_us = 1000 + k;
        sink.served(sink.ud, &ctx, &a);
        if (ww_detect_stats_get(det)->intents != want)
            mismatches++;
        want = ww_detect_stats_get(det)->intents;
    }
    T_EQ_INT(mismatches, 0);
    T_CHECK(ww_detect_stats_get(det)->served_dropped > 1000);
    ring_fx_free(&r);
}

/* Events of different flows in turn: each line carries its own flow's Community ID (output
 * keeps the last one computed; it must follow the flow). */
T_CASE(output_community_id_follows_flow)
{
    fixture fx;
    fx_init(&fx, NULL, 0, 0);
    char c1[48], c2[48], want1[80], want2[80];
    (void)ww_community_id(&fx.flow, false, 0, c1, sizeof c1);
    (void)ww_community_id(&fx.flow2, false, 0, c2, sizeof c2);
    T_CHECK(strcmp(c1, c2) != 0);
    snprintf(want1, sizeof want1, "\"community_id\":\"%s\"", c1);
    snprintf(want2, sizeof want2, "\"community_id\":\"%s\"", c2);
    serve(&fx, &fx.flow, SERVED, 1000);
    serve(&fx, &fx.flow2, SERVED, 1001);
    serve(&fx, &fx.flow, LOOKALIKE, 1002);
    fflush(fx.jsonl);
    rewind(fx.jsonl);
    char line[4096];
    unsigned ok = 0, n = 0;
    while (fgets(line, sizeof line, fx.jsonl) != NULL) {
        const char *w = n == 1 ? want2 : want1;
        if (strstr(line, w) != NULL)
            ok++;
        n++;
    }
    T_EQ_INT(n, 3);
    T_EQ_INT(ok, 3);
    fx_free(&fx);
}
