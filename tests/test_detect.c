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

T_CASE(detect_served_store_ring_eviction)
{
    /* max_served 8: after 100 addresses, exactly the last 8 are still expected */
    FILE *jl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = jl;
    oc.format = WW_FMT_JSONL;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    dc.max_served = 8;
    ww_detect *det = ww_detect_new(NULL, &dc, out);
    ww_decode_sink sink;
    ww_detect_sink(det, &sink);
    ww_flow f = {0};
    f.id = 1;
    f.cli_ip.family = 4;
    memcpy(f.cli_ip.a, "\x0a\x00\x00\x01", 4);
    ww_ctx ctx = {0};
    ctx.flow = &f;
    ctx.dir = WW_DIR_TOCLIENT;
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
    ww_detect_free(det);
    ww_out_free(out);
    fclose(jl);
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
