/*
 * fuzz_writers.c - the event writers (detect/output.c: EVE JSON lines, text, JUnit) and the
 * HTML report (detect/report.c) fed events whose strings come from the fuzzer: non-UTF-8,
 * control characters, quotes, '<', '&', overlong runs. The input is split at 0xff bytes into
 * up to 16 strings that fill the hostile fields (HTTP host/url/method/content type, SNI,
 * ALPN, anomaly layer/type/detail, DB label/source, alert signature/rule, intent source,
 * wallet call method/kind/rpc_id, the HTML title); the first byte picks the console format.
 * Checks: every EVE line parses with cJSON, is one line and valid UTF-8; the JUnit XML and
 * the HTML page are valid UTF-8 with no NUL or control bytes other than tab/CR/LF.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSTR 16

/* The checks below are the harness's, not the code under test: no coverage feedback from
 * them (faster, and the corpus is not grown for the checker's own branches). */
#if defined(__clang__)
#define NOCOV __attribute__((no_sanitize("coverage")))
#else
#define NOCOV
#endif

NOCOV static bool utf8_ok(const unsigned char *p, size_t n, bool allow_ctl)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c == 0 || (!allow_ctl && c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
                (!allow_ctl && c == 0x7f))
                return false;
            i++;
            continue;
        }
        size_t k;
        unsigned min;
        unsigned cp;
        if ((c & 0xe0) == 0xc0) {
            k = 1, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

NOCOV static void check_jsonl(const char *buf, size_t n)
{
    size_t s = 0;
    while (s < n) {
        const char *nl = memchr(buf + s, '\n', n - s);
        if (nl == NULL)
            __builtin_trap(); /* a line without its end */
        size_t l = (size_t)(nl - (buf + s));
        if (!utf8_ok((const unsigned char *)buf + s, l, false))
            __builtin_trap();
        cJSON *j = cJSON_ParseWithLength(buf + s, l);
        if (j == NULL || !cJSON_IsObject(j))
            __builtin_trap();
        cJSON_Delete(j);
        s += l + 1;
    }
}

NOCOV static void check_markup(const char *buf, size_t n)
{
    if (!utf8_ok((const unsigned char *)buf, n, false))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    /* the hostile strings (NUL-terminated copies) */
    static char sbuf[8192 + NSTR];
    const char *str[NSTR];
    size_t o = 0, start = 1;
    int ns = 0;
    for (size_t i = 1; i <= size && ns < NSTR; i++) {
        if (i == size || data[i] == 0xff) {
            size_t l = i - start;
            memcpy(sbuf + o, data + start, l);
            sbuf[o + l] = '\0';
            str[ns++] = sbuf + o;
            o += l + 1;
            start = i + 1;
        }
    }
    while (ns < NSTR)
        str[ns++] = "";
    int fmt = data[0] % 3;

    char *jb = NULL, *cb = NULL, *hb = NULL;
    size_t jn = 0, cn = 0, hn = 0;
    FILE *jf = open_memstream(&jb, &jn), *cf = open_memstream(&cb, &cn);
    FILE *hf = open_memstream(&hb, &hn);
    if (jf == NULL || cf == NULL || hf == NULL)
        abort();

    ww_out_cfg oc;
    memset(&oc, 0, sizeof oc);
    oc.jsonl = jf;
    oc.console = cf;
    oc.format = fmt == 0 ? WW_FMT_TEXT : fmt == 1 ? WW_FMT_JSONL : WW_FMT_JUNIT;
    oc.log_http = true;
    oc.verbose = (data[0] >> 2) & 3;
    oc.color = (data[0] & 0x10) != 0;
    oc.in_iface = (data[0] & 0x20) ? str[15] : NULL;
    oc.blind_ok = (data[0] & 0x40) ? str[14] : NULL;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_report *rep = ww_report_new();
    if (out == NULL || rep == NULL)
        abort();

    ww_flow fl;
    memset(&fl, 0, sizeof fl);
    fl.id = 1;
    fl.cli_ip.family = 4;
    fl.cli_ip.a[0] = 10;
    fl.srv_ip.family = 6;
    fl.srv_ip.a[0] = 0x20;
    fl.cli_port = 51000;
    fl.srv_port = 443;
    ww_http_info hi = {str[0], str[1], str[2], 200, str[3]};
    ww_tls_info ti;
    memset(&ti, 0, sizeof ti);
    snprintf(ti.sni, sizeof ti.sni, "%s", str[4]);
    snprintf(ti.alpn, sizeof ti.alpn, "%s", str[5]);
    ti.version = 0x0304;
    ti.cipher = 0x1301;
    ww_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.ts_us = 1700000000000000ull;
    ctx.flow = &fl;
    ctx.dir = WW_DIR_TOCLIENT;
    ctx.app_proto = "http2";
    ctx.http = &hi;
    ctx.tls = &ti;

    ww_addr obs, exp;
    if (ww_addr_parse(&obs, WW_CHAIN_EVM, "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976", 42) !=
            WW_OK ||
        ww_addr_parse(&exp, WW_CHAIN_EVM, "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166977", 42) !=
            WW_OK)
        abort();
    ww_addrdb_entry dbe = {str[6], str[7]};
    ww_alert al;
    memset(&al, 0, sizeof al);
    al.rule = str[8];
    al.severity = WW_SEV_CRITICAL;
    al.signature = str[9];
    al.chain = WW_CHAIN_EVM;
    al.method = str[10];
    al.where = "wallet_call";
    al.role = -1;
    al.observed = &obs;
    al.expected = (data[0] & 0x80) ? &exp : NULL;
    al.has_similarity = al.expected != NULL;
    al.prefix = 6;
    al.suffix = 4;
    al.bits = 37.5;
    al.db = &dbe;

    ww_wallet_call wc;
    memset(&wc, 0, sizeof wc);
    wc.chain = WW_CHAIN_EVM;
    snprintf(wc.method, sizeof wc.method, "%s", str[10]);
    /* the id is JSON text, as the JSON-RPC decoder prints it with cJSON (which keeps bytes
     * that are not UTF-8 raw inside strings) */
    cJSON *idj = (data[0] & 1) ? cJSON_CreateString(str[11]) : cJSON_CreateRaw("12");
    char *idt = idj != NULL ? cJSON_PrintUnformatted(idj) : NULL;
    if (idt != NULL && strlen(idt) < sizeof wc.rpc_id)
        memcpy(wc.rpc_id, idt, strlen(idt) + 1);
    cJSON_free(idt);
    cJSON_Delete(idj);
    snprintf(wc.kind, sizeof wc.kind, "%s", str[12]);
    wc.has_to = true;
    wc.to = obs;
    wc.signature_valid = -1;

    ww_http_msg hm;
    memset(&hm, 0, sizeof hm);
    hm.is_request = false;
    hm.method = str[2];
    hm.url = str[1];
    hm.host = str[0];
    hm.version = str[13];
    hm.status = 200;
    hm.content_type = str[3];
    hm.location = str[14];
    hm.content_length = -1;
    hm.body_len = -1;

    ww_out_alert(out, &ctx, &al);
    ww_report_alert(rep, &ctx, &al);
    ww_out_wallet_call(out, &ctx, &wc);
    ww_out_anomaly(out, &ctx, str[11], str[12], str[13]);
    ww_out_http(out, &ctx, &hm);
    ww_out_intent(out, NULL, &obs, str[15]);
    ctx.http = NULL;
    ctx.tls = NULL;
    ww_out_alert(out, &ctx, &al);
    ww_report_alert(rep, &ctx, &al);

    ww_run_stats st;
    memset(&st, 0, sizeof st);
    st.packets = 10;
    st.tls_sessions = 1;
    st.tls_undecryptable = 1;
    ww_out_stats(out, ctx.ts_us + 1, &st);
    ww_report_stats(rep, &st, ctx.ts_us, ctx.ts_us + 1);
    ww_report_inconclusive(rep, ww_out_inconclusive(out));
    if (ww_out_finish(out) != WW_OK || ww_report_write(rep, hf, str[0]) != WW_OK)
        abort(); /* memory streams do not fail */
    ww_out_free(out);
    ww_report_free(rep);
    fclose(jf);
    fclose(cf);
    fclose(hf);

    check_jsonl(jb, jn);
    if (fmt == 1)
        check_jsonl(cb, cn);
    else if (fmt == 2)
        check_markup(cb, cn);
    else if (!utf8_ok((const unsigned char *)cb, cn, oc.color))
        __builtin_trap(); /* text: ANSI escapes only when colour is on */
    check_markup(hb, hn);
    free(jb);
    free(cb);
    free(hb);
    return 0;
}
