/* test_yara.c - --yara rules over served scripts: compile errors, matches, metas, the alert. */
#include "t.h"

#include "detect/yara_int.h"
#include "detect/detect.h"

#include <stdlib.h>
#include <unistd.h>

static const char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/ww-yara-XXXXXX");
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    T_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

typedef struct hits {
    int n;
    char rule[64], severity[32], description[128];
} hits;

static void on_match(void *ud, const char *rule, const char *severity, const char *description)
{
    hits *h = ud;
    h->n++;
    snprintf(h->rule, sizeof h->rule, "%s", rule);
    snprintf(h->severity, sizeof h->severity, "%s", severity ? severity : "-");
    snprintf(h->description, sizeof h->description, "%s", description ? description : "-");
}

static const char *RULES = "rule qix_clipper {\n"
                           "  meta: severity = \"critical\" description = \"Sept 2025 clipper\"\n"
                           "  strings: $a = \"stealthProxyControl\" $b = \"checkethereumw\"\n"
                           "  condition: any of them\n"
                           "}\n"
                           "rule plain { strings: $x = \"drain(\" condition: $x }\n";

T_CASE(yara_compile_and_scan)
{
    char errbuf[WW_ERRBUF_SIZE];
    ww_yara *y;
    const char *path = write_tmp(RULES);
    T_EQ_INT(ww_yara_load(&y, path, errbuf), WW_OK);
    unlink(path);
    hits h = {0};
    const char *js = "var x=1;function checkethereumw(){return window.ethereum}";
    T_EQ_INT(ww_yara_scan(y, (const uint8_t *)js, strlen(js), on_match, &h), 1);
    T_EQ_STR(h.rule, "qix_clipper");
    T_EQ_STR(h.severity, "critical");
    T_EQ_STR(h.description, "Sept 2025 clipper");
    memset(&h, 0, sizeof h);
    const char *js2 = "drain(wallet)";
    T_EQ_INT(ww_yara_scan(y, (const uint8_t *)js2, strlen(js2), on_match, &h), 1);
    T_EQ_STR(h.rule, "plain");
    T_EQ_STR(h.severity, "-");
    memset(&h, 0, sizeof h);
    T_EQ_INT(ww_yara_scan(y, (const uint8_t *)"harmless", 8, on_match, &h), 0);
    T_EQ_INT(h.n, 0);
    T_EQ_INT(ww_yara_scan(y, (const uint8_t *)"", 0, on_match, &h), 0);
    ww_yara_free(y);
}

T_CASE(yara_bad_rules)
{
    char errbuf[WW_ERRBUF_SIZE];
    ww_yara *y;
    const char *path = write_tmp("rule broken {\n  strings: $a = \"x\"\n  condition: $b\n}\n");
    T_EQ_INT(ww_yara_load(&y, path, errbuf), WW_E_INVALID);
    T_CHECK(y == NULL);
    /* file:line: message, as libyara reports it (the end of the bad condition) */
    T_CHECK(strncmp(errbuf, path, strlen(path)) == 0);
    T_CHECK(strstr(errbuf, ":4: undefined string \"$b\"") != NULL);
    unlink(path);
    T_EQ_INT(ww_yara_load(&y, "/nonexistent/rules.yar", errbuf), WW_E_IO);
    T_CHECK(strstr(errbuf, "/nonexistent/rules.yar") != NULL);
}

T_CASE(yara_alert)
{
    FILE *jl = tmpfile();
    ww_out_cfg oc = {0};
    oc.jsonl = jl;
    oc.format = WW_FMT_JSONL;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    char errbuf[WW_ERRBUF_SIZE];
    const char *rules = "rule qix_clipper { meta: severity = \"critical\" description = \"Sept "
                        "2025 clipper\" strings: $a = \"checkethereumw\" condition: $a }\n"
                        "rule plain { strings: $x = \"drain(\" condition: $x }\n"
                        "rule odd { meta: severity = \"severe\" strings: $x = \"drain(\" "
                        "condition: $x }\n";
    const char *path = write_tmp(rules);
    T_EQ_INT(ww_yara_load(&dc.yara, path, errbuf), WW_OK);
    unlink(path);
    ww_detect *det = ww_detect_new(NULL, &dc, out);
    ww_decode_sink sink;
    ww_detect_sink(det, &sink);
    T_CHECK(sink.script_body != NULL); /* rules loaded: decode gathers scripts whole */
    ww_flow f = {0};
    f.id = 4;
    f.cli_ip.family = f.srv_ip.family = 4;
    ww_http_info http = {"cdn.example", "/npm/debug.js", "GET", 200, "application/javascript"};
    ww_ctx ctx = {0};
    ctx.flow = &f;
    ctx.dir = WW_DIR_TOCLIENT;
    ctx.http = &http;
    /* qix_clipper (critical), plain (no severity: high), odd (unknown severity: high) */
    const char *js = "function checkethereumw(){ drain(1) }";
    sink.script_body(sink.ud, &ctx, (const uint8_t *)js, strlen(js));
    T_EQ_INT(ww_detect_stats_get(det)->alerts, 3);
    T_EQ_INT(ww_detect_stats_get(det)->worst, WW_SEV_CRITICAL);
    ww_out_free(out);
    fflush(jl);
    rewind(jl);
    char line[2048];
    int crit = 0, high = 0;
    while (fgets(line, sizeof line, jl) != NULL) {
        T_CHECK(strstr(line, "\"rule\":\"yara-match\"") != NULL);
        T_CHECK(strstr(line, "\"where\":\"script\"") != NULL);
        T_CHECK(strstr(line, "\"chain\"") == NULL); /* no chain: omitted, not "none" */
        crit += strstr(line, "\"level\":\"critical\"") != NULL;
        high += strstr(line, "\"level\":\"high\"") != NULL;
    }
    T_EQ_INT(crit, 1);
    T_EQ_INT(high, 2);
    ww_detect_free(det);
    ww_yara_free(dc.yara);
    /* without rules detect asks for no whole scripts */
    ww_detect_cfg dc0 = {0};
    det = ww_detect_new(NULL, &dc0, NULL);
    ww_detect_sink(det, &sink);
    T_CHECK(sink.script_body == NULL);
    ww_detect_free(det);
    fclose(jl);
}
