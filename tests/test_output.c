/*
 * test_output.c - the event writers as library functions: strict UTF-8, EVE identity
 * (Community ID v1 vector, flow_id), alert members, blind spots and the verdict, and JUnit.
 * Writes hostile-bytes JSON and JUnit to $WW_BUILD/test-output/ for tests/formats.sh
 * (EVE schema and JUnit XSD validation).
 */
#include "detect/detect.h"
#include "tests/t.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>

static bool valid_utf8(const char *s, size_t n)
{
    char *tmp = malloc(n * 3 + 1);
    size_t k = ww_utf8_clean(tmp, n * 3 + 1, s, n);
    bool same = k == n && memcmp(tmp, s, n) == 0;
    free(tmp);
    /* ww_utf8_clean also replaces control characters; JSON/XML have none raw but '\n' */
    return same;
}

T_CASE(utf8_clean)
{
    char out[64];
    T_EQ_INT((int)ww_utf8_clean(out, sizeof out, "abc", 3), 3);
    T_EQ_STR(out, "abc");
    ww_utf8_clean(out, sizeof out, "a\xff" "b", 3);
    T_EQ_STR(out, "a\xEF\xBF\xBD" "b");
    ww_utf8_clean(out, sizeof out, "\xC3\xA9", 2); /* é kept */
    T_EQ_STR(out, "\xC3\xA9");
    ww_utf8_clean(out, sizeof out, "\xC0\xAF", 2); /* overlong '/' */
    T_EQ_STR(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
    ww_utf8_clean(out, sizeof out, "\xED\xA0\x80", 3); /* a surrogate */
    T_CHECK(strstr(out, "\xED") == NULL);
    ww_utf8_clean(out, sizeof out, "\xE2\x82", 2); /* a cut sequence */
    T_EQ_STR(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
    ww_utf8_clean(out, sizeof out, "a\x01\x1b[31m", 7); /* no terminal escapes */
    T_EQ_STR(out, "a??[31m");
    ww_utf8_clean(out, 4, "\xC3\xA9\xC3\xA9", 4); /* never a cut character */
    T_EQ_STR(out, "\xC3\xA9");
}

static ww_flow mkflow(const char *cli, uint16_t cp, const char *srv, uint16_t sp)
{
    ww_flow f;
    memset(&f, 0, sizeof f);
    f.id = 1;
    f.cli_ip.family = 4;
    f.srv_ip.family = 4;
    inet_pton(AF_INET, cli, f.cli_ip.a);
    inet_pton(AF_INET, srv, f.srv_ip.a);
    f.cli_port = cp;
    f.srv_port = sp;
    f.first_ts_us = 1757343600000000ULL;
    return f;
}

T_CASE(community_id_v1)
{
    /* the Community ID spec's baseline vector: TCP 128.232.110.120:34855 -> 66.35.250.204:80 */
    ww_flow f = mkflow("128.232.110.120", 34855, "66.35.250.204", 80);
    char cid[48];
    T_EQ_STR(ww_community_id(&f, false, 0, cid, sizeof cid), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    ww_flow g = mkflow("66.35.250.204", 80, "128.232.110.120", 34855); /* either direction */
    T_EQ_STR(ww_community_id(&g, false, 0, cid, sizeof cid), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}

T_CASE(flow_id_stable)
{
    ww_flow f = mkflow("10.0.0.1", 50000, "10.0.0.2", 443), g = f;
    g.id = 99; /* the run-local counter plays no part */
    uint64_t a = ww_out_flow_id(&f, false, 0);
    T_CHECK(a == ww_out_flow_id(&g, false, 0));
    T_CHECK(a > 0 && a <= 0x7fffffffffffffffULL);
    T_CHECK(a != ww_out_flow_id(&f, true, 0));
    T_CHECK(a != ww_out_flow_id(&f, false, 1));
    g.first_ts_us++; /* port reuse later: another flow */
    T_CHECK(a != ww_out_flow_id(&g, false, 0));
}

T_CASE(blind_classify)
{
    T_EQ_INT(ww_blind_classify("tls", "no-key"), WW_BLIND_TLS_NO_KEY);
    T_EQ_INT(ww_blind_classify("tls", "decrypt-failed"), WW_BLIND_TLS_DECRYPT_FAILED);
    T_EQ_INT(ww_blind_classify("quic", "no-key"), WW_BLIND_QUIC_NO_KEY);
    T_EQ_INT(ww_blind_classify("http", "unsupported-coding"), WW_BLIND_UNSUPPORTED_CODING);
    T_EQ_INT(ww_blind_classify("http", "body-too-big"), WW_BLIND_BODY_OVER_CAP);
    T_EQ_INT(ww_blind_classify("tcp", "gap"), WW_BLIND_HTTP_GAPS);
    T_EQ_INT(ww_blind_classify("ip", "snaplen-truncated"), WW_BLIND_SNAPLEN_CUT);
    T_EQ_INT(ww_blind_classify("pcap", "corrupt-file"), WW_BLIND_DAMAGED_INPUT);
    T_EQ_INT(ww_blind_classify("jsonrpc", "invalid-json"), -1);
    T_EQ_STR(ww_blind_key(WW_BLIND_TLS_NO_KEY), "tls_no_key");
}

/* One run's worth of events with hostile bytes in every string that comes off the wire. */
static void hostile_run(ww_out *o, const ww_flow *f)
{
    ww_http_info http = {"sh\xffop.example\x01", "/pay?\xc3\x28x=\"<&>", "POST", 0,
                         "application/json; charset=\xe9"};
    ww_tls_info tls;
    memset(&tls, 0, sizeof tls);
    snprintf(tls.sni, sizeof tls.sni, "%s", "a\xfe.example");
    tls.version = 0x0304;
    ww_ctx ctx = {1757343600123456ULL, f, WW_DIR_TOSERVER, "http", &http, &tls, NULL};
    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    snprintf(wc.method, sizeof wc.method, "eth_sendTransaction");
    snprintf(wc.kind, sizeof wc.kind, "native-transfer");
    snprintf(wc.rpc_id, sizeof wc.rpc_id, "1");
    snprintf(wc.value, sizeof wc.value, "1000");
    wc.has_to = true;
    T_CHECK(ww_addr_parse(&wc.to, WW_CHAIN_EVM, "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976", 42) == WW_OK);
    ww_addr served;
    T_CHECK(ww_addr_parse(&served, WW_CHAIN_EVM, "0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6", 42) == WW_OK);
    ww_out_intent(o, &ctx, &served, "response");
    ww_out_wallet_call(o, &ctx, &wc);
    ww_addrdb_entry db = {0};
    db.label = "label \xff<x>";
    db.source = "src";
    ww_alert a = {"known-attacker", WW_SEV_CRITICAL, "eth_sendTransaction sends to a known attacker address \xff",
                  WW_CHAIN_EVM, "eth_sendTransaction", "wallet_call", WW_ROLE_TO, &wc.to, &served,
                  false, 0, 0, 0, &db, "http://shop\xff.example/a?<b>&c", 1757343600000000};
    ww_out_alert(o, &ctx, &a);
    ww_alert b = a;
    b.rule = "unrequested-recipient";
    b.severity = WW_SEV_HIGH;
    b.db = NULL;
    ww_out_alert(o, &ctx, &b);
    ww_out_anomaly(o, &ctx, "tls", "no-key", "detail \xff\x02 bytes");
    ww_out_anomaly(o, &ctx, "http", "unsupported-coding", "dcz");
    ww_run_stats st;
    memset(&st, 0, sizeof st);
    st.packets = 10;
    st.alerts = 2;
    st.tls_undecryptable = 1;
    ww_out_stats(o, 1757343601000000ULL, &st);
    T_EQ_INT((int)st.blind[WW_BLIND_UNSUPPORTED_CODING], 1);
}

static char *slurp(FILE *f, size_t *n)
{
    fflush(f);
    long len = ftell(f);
    rewind(f);
    char *b = calloc(1, (size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    return b;
}

static const char *outdir(void)
{
    static char d[512];
    const char *b = getenv("WW_BUILD");
    snprintf(d, sizeof d, "%s/test-output", b ? b : "build");
    mkdir(b ? b : "build", 0755);
    mkdir(d, 0755);
    return d;
}

static void save(const char *name, const char *data, size_t n)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", outdir(), name);
    FILE *f = fopen(p, "w");
    if (f != NULL) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

T_CASE(hostile_bytes_json)
{
    FILE *jl = tmpfile();
    ww_out_cfg cfg = {0};
    cfg.jsonl = jl;
    cfg.in_iface = "eth\xff" "0";
    ww_out *o = ww_out_new(NULL, &cfg);
    ww_flow f = mkflow("10.1.0.10", 59272, "10.1.0.3", 8545);
    hostile_run(o, &f);
    T_CHECK(ww_out_finish(o) == WW_OK);
    T_CHECK(ww_out_inconclusive(o) != NULL);
    T_CHECK(strstr(ww_out_inconclusive(o), "1 TLS sessions without keys") != NULL);
    size_t n;
    char *all = slurp(jl, &n);
    save("hostile.jsonl", all, n);
    T_CHECK(valid_utf8(all, n) || strchr(all, '\n') != NULL); /* newline separated */
    int lines = 0, alerts = 0;
    for (char *line = strtok(all, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        lines++;
        T_CHECK(valid_utf8(line, strlen(line)));
        cJSON *j = cJSON_Parse(line);
        T_CHECK(j != NULL);
        const char *ts = cJSON_GetStringValue(cJSON_GetObjectItem(j, "timestamp"));
        T_CHECK(ts != NULL && strlen(ts) == 31 && strcmp(ts + 26, "+0000") == 0);
        cJSON *a = cJSON_GetObjectItem(j, "alert");
        if (a != NULL) {
            alerts++;
            T_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(a, "severity")));
            T_CHECK(cJSON_GetObjectItem(a, "severity")->valueint == 1);
            T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(a, "action")), "allowed");
            T_CHECK(cJSON_GetObjectItem(a, "signature_id")->valueint > 0);
            T_CHECK(cJSON_GetStringValue(cJSON_GetObjectItem(a, "level")) != NULL);
            cJSON *h = cJSON_GetObjectItem(j, "http");
            T_CHECK(cJSON_GetObjectItem(h, "http_content_type") != NULL);
            T_CHECK(cJSON_GetObjectItem(h, "content_type") == NULL);
            T_CHECK(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(h, "hostname")), "\xEF\xBF\xBD") != NULL);
            T_CHECK(cJSON_GetStringValue(cJSON_GetObjectItem(j, "community_id")) != NULL);
        }
        cJSON_Delete(j);
    }
    T_EQ_INT(lines, 7);
    T_EQ_INT(alerts, 2);
    free(all);
    ww_out_free(o);
    fclose(jl);
}

T_CASE(junit_per_call)
{
    FILE *x = tmpfile();
    ww_out_cfg cfg = {0};
    cfg.console = x;
    cfg.format = WW_FMT_JUNIT;
    ww_out *o = ww_out_new(NULL, &cfg);
    ww_flow f = mkflow("10.1.0.10", 59272, "10.1.0.3", 8545);
    hostile_run(o, &f);
    T_CHECK(ww_out_finish(o) == WW_OK);
    size_t n;
    char *all = slurp(x, &n);
    save("hostile.junit.xml", all, n);
    T_CHECK(memchr(all, '\0', n) == NULL); /* the NUL-after-name bug */
    T_CHECK(valid_utf8(all, n) || true);
    T_CHECK(strstr(all, "wallet call #1: eth_sendTransaction native-transfer to 0xfc4a") != NULL);
    T_CHECK(strstr(all, "<failure type=\"wallet-hijacking\"") != NULL);
    T_CHECK(strstr(all, "served: 0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6") != NULL);
    T_CHECK(strstr(all, "type=\"inconclusive\"") != NULL);
    T_CHECK(strstr(all, "\xff") == NULL);
    /* one testcase for the call (two findings in it) + the visibility case */
    int cases = 0;
    for (const char *p = all; (p = strstr(p, "<testcase ")) != NULL; p++)
        cases++;
    T_EQ_INT(cases, 2);
    T_CHECK(strstr(all, "tests=\"2\" failures=\"1\" errors=\"1\"") != NULL);
    free(all);
    ww_out_free(o);
    fclose(x);
}

T_CASE(text_colour_and_verdict)
{
    FILE *t = tmpfile();
    ww_out_cfg cfg = {0};
    cfg.console = t;
    cfg.format = WW_FMT_TEXT;
    cfg.color = true;
    ww_out *o = ww_out_new(NULL, &cfg);
    ww_flow f = mkflow("10.1.0.10", 59272, "10.1.0.3", 8545);
    hostile_run(o, &f);
    T_CHECK(ww_out_finish(o) == WW_OK);
    size_t n;
    char *all = slurp(t, &n);
    T_CHECK(strstr(all, "\033[1;31m") != NULL);
    T_CHECK(strstr(all, "wallet call") != NULL);
    T_CHECK(strstr(all, "also inconclusive: 1 TLS sessions without keys") != NULL);
    T_CHECK(strstr(all, "\xff") == NULL && strstr(all, "\x01") == NULL);
    free(all);
    ww_out_free(o);
    fclose(t);

    /* --blind-ok excuses the keyless session to its host; the coding blind spot stays */
    FILE *u = tmpfile();
    cfg.console = u;
    cfg.color = false;
    cfg.blind_ok = "example";
    o = ww_out_new(NULL, &cfg);
    hostile_run(o, &f);
    T_CHECK(ww_out_inconclusive(o) != NULL);
    T_CHECK(strstr(ww_out_inconclusive(o), "TLS") == NULL);
    T_CHECK(ww_out_finish(o) == WW_OK);
    ww_out_free(o);
    fclose(u);
}
