/*
 * test_e2e.c - the whole pipeline in-process (packets -> capture -> decode -> detect -> JSON
 * lines), on sessions built here packet by packet. Each bad input is followed by a good
 * hijacked call: the bad input must become an anomaly, and the alert after it must still come.
 */
#include "t.h"

#include "addrdb/addrdb.h"
#include "capture/capture.h"
#include "decode/decode.h"
#include "detect/detect.h"
#include "engine/engine.h"
#include "tests/quic_build.h"

#include <nghttp3/nghttp3.h>

#include <cJSON.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define SERVED "0x1111222233334444555566667777888899990000"
#define ATTACKER "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976"

/* ---- the pipeline: the engine every entry point runs ---- */
typedef struct pipe_ {
    FILE *jsonl;
    ww_addrdb *db;
    ww_engine *e;
    uint64_t ts;
} pipe_;

static ww_yara *e2e_yara; /* set by a case before pipe_init */
static const char *e2e_evidence; /* -w with --evidence-secrets, when a case sets it */
static double last_mac_aliases = -1; /* the stats event of the last pipe_finish */

static void pipe_init(pipe_ *p)
{
    char err[WW_ERRBUF_SIZE];
    memset(p, 0, sizeof(*p));
    p->jsonl = tmpfile();
    p->db = ww_addrdb_new(NULL);
    T_CHECK(ww_addrdb_load_bundled(p->db) == 280);
    ww_engine_cfg ec = {0};
    ec.out.jsonl = p->jsonl;
    ec.out.format = WW_FMT_JSONL;
    ec.detect.db = p->db;
    ec.app.max_body_bytes = 1 << 20;
    ec.detect.yara = e2e_yara;
    ec.evidence_path = e2e_evidence;
    ec.evidence_secrets = e2e_evidence != NULL;
    T_EQ_INT(ww_engine_new(&p->e, &ec, err), WW_OK);
    p->ts = 1757343600000000ULL;
}

static char e2e_raw[65536]; /* the JSON lines of the last pipe_finish */

/* Finishes the run and returns the events as "type:detail" tokens joined by ';'. */
static char *pipe_finish(pipe_ *p)
{
    static char buf[16384];
    char line[8192];
    ww_engine_end(p->e, 0);
    ww_engine_write_stats(p->e);
    T_EQ_INT(ww_engine_finish_output(p->e), WW_OK);
    ww_engine_free(p->e);
    ww_addrdb_free(p->db);
    buf[0] = '\0';
    e2e_raw[0] = '\0';
    fflush(p->jsonl);
    rewind(p->jsonl);
    while (fgets(line, sizeof line, p->jsonl) != NULL) {
        strncat(e2e_raw, line, sizeof e2e_raw - strlen(e2e_raw) - 1);
        cJSON *j = cJSON_Parse(line);
        T_CHECK(j != NULL);
        if (j == NULL)
            continue;
        const char *type = cJSON_GetObjectItem(j, "event_type")->valuestring;
        char one[512];
        one[0] = '\0';
        if (strcmp(type, "alert") == 0) {
            const cJSON *a = cJSON_GetObjectItem(j, "alert");
            const cJSON *obs = cJSON_GetObjectItem(a, "observed");
            snprintf(one, sizeof one, "alert:%s:%s;", cJSON_GetObjectItem(a, "rule")->valuestring,
                     obs != NULL ? obs->valuestring : "-");
        } else if (strcmp(type, "anomaly") == 0) {
            const cJSON *a = cJSON_GetObjectItem(j, "anomaly");
            snprintf(one, sizeof one, "anomaly:%s/%s;",
                     cJSON_GetObjectItem(a, "layer")->valuestring,
                     cJSON_GetObjectItem(a, "type")->valuestring);
        } else if (strcmp(type, "wallet_call") == 0) {
            snprintf(one, sizeof one, "wallet_call;");
        } else if (strcmp(type, "stats") == 0) {
            const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "walletwatch"), "mac_aliases");
            last_mac_aliases = cJSON_IsNumber(m) ? m->valuedouble : -1;
        }
        strncat(buf, one, sizeof buf - strlen(buf) - 1);
        cJSON_Delete(j);
    }
    fclose(p->jsonl);
    return buf;
}

/* ---- packets ---- */
typedef struct conn {
    uint8_t cli[4], srv[4];
    uint16_t cport, sport;
    uint32_t cseq, sseq;
    int v6;                   /* IPv6: cli6/srv6 instead of cli/srv */
    uint8_t cli6[16], srv6[16];
    uint8_t cmac[6], smac[6]; /* Ethernet sources (zero: none) */
} conn;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One Ethernet/IPv4/TCP packet; caplen_cut > 0 truncates the capture (snaplen). */
static void send_pkt(pipe_ *p, const conn *c, int dir, uint8_t flags, uint32_t seq, uint32_t ack,
                     const void *data, size_t n, size_t caplen_cut, int bogus)
{
    static uint8_t pkt[70000];
    size_t iphl = c->v6 ? 40 : 20, len = 14 + iphl + 20 + n;
    memset(pkt, 0, 74);
    memcpy(pkt + 6, dir == 0 ? c->cmac : c->smac, 6);
    uint8_t *ip = pkt + 14, *tcp = ip + iphl;
    if (c->v6) {
        pkt[12] = 0x86;
        pkt[13] = 0xdd;
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)(20 + n));
        ip[6] = 6;
        ip[7] = 64;
        memcpy(ip + 8, dir == 0 ? c->cli6 : c->srv6, 16);
        memcpy(ip + 24, dir == 0 ? c->srv6 : c->cli6, 16);
    } else {
        pkt[12] = 0x08;
        ip[0] = bogus == 1 ? 0x4f : 0x45; /* bogus: IHL 60 bytes, past the packet's TCP header */
        put16(ip + 2, (uint16_t)(20 + 20 + n));
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, dir == 0 ? c->cli : c->srv, 4);
        memcpy(ip + 16, dir == 0 ? c->srv : c->cli, 4);
    }
    put16(tcp, dir == 0 ? c->cport : c->sport);
    put16(tcp + 2, dir == 0 ? c->sport : c->cport);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = bogus == 2 ? 0x10 : 0x50; /* bogus: data offset 4 bytes */
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (n > 0)
        memcpy(tcp + 20, data, n);
    ww_pkt pk = {p->ts, (uint32_t)(caplen_cut ? caplen_cut : len), (uint32_t)len,
                 WW_LINK_ETHERNET, pkt};
    p->ts += 1000;
    T_EQ_INT(ww_engine_packet(p->e, &pk), 1);
}

static void conn_start(pipe_ *p, conn *c);

static void conn_open(pipe_ *p, conn *c, uint16_t cport, uint16_t sport)
{
    memset(c, 0, sizeof *c);
    memcpy(c->cli, "\x0a\x00\x00\x05", 4);
    memcpy(c->srv, "\x0a\x00\x00\x02", 4);
    c->cport = cport;
    c->sport = sport;
    conn_start(p, c);
}

/* The handshake of a conn whose addresses are set. */
static void conn_start(pipe_ *p, conn *c)
{
    c->cseq = 1000;
    c->sseq = 5000;
    send_pkt(p, c, 0, WW_TCP_SYN, c->cseq++, 0, NULL, 0, 0, 0);
    send_pkt(p, c, 1, WW_TCP_SYN | WW_TCP_ACK, c->sseq++, c->cseq, NULL, 0, 0, 0);
    send_pkt(p, c, 0, WW_TCP_ACK, c->cseq, c->sseq, NULL, 0, 0, 0);
}

static void conn_send(pipe_ *p, conn *c, int dir, const void *data, size_t n)
{
    const uint8_t *d = data;
    while (n > 0) {
        size_t k = WW_MIN(n, (size_t)1448);
        uint32_t *seq = dir == 0 ? &c->cseq : &c->sseq;
        send_pkt(p, c, dir, WW_TCP_ACK | WW_TCP_PSH, *seq, dir == 0 ? c->sseq : c->cseq, d, k, 0,
                 0);
        *seq += (uint32_t)k;
        d += k;
        n -= k;
    }
}

static void conn_close(pipe_ *p, conn *c)
{
    send_pkt(p, c, 0, WW_TCP_FIN | WW_TCP_ACK, c->cseq++, c->sseq, NULL, 0, 0, 0);
    send_pkt(p, c, 1, WW_TCP_FIN | WW_TCP_ACK, c->sseq++, c->cseq, NULL, 0, 0, 0);
    send_pkt(p, c, 0, WW_TCP_ACK, c->cseq, c->sseq, NULL, 0, 0, 0);
}

static void http_send(pipe_ *p, conn *c, int dir, const char *head, const void *body, size_t n)
{
    conn_send(p, c, dir, head, strlen(head));
    if (n > 0)
        conn_send(p, c, dir, body, n);
}

static void serve_invoice(pipe_ *p, conn *c)
{
    const char *req = "GET /api/invoice HTTP/1.1\r\nHost: dapp.test\r\n\r\n";
    const char *body = "{\"payTo\":\"" SERVED "\",\"amount\":\"1.5\"}";
    char head[256];
    http_send(p, c, 0, req, NULL, 0);
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    http_send(p, c, 1, head, body, strlen(body));
}

static void rpc_post(pipe_ *p, conn *c, const char *body)
{
    char head[256];
    snprintf(head, sizeof head,
             "POST / HTTP/1.1\r\nHost: rpc.test\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    http_send(p, c, 0, head, body, strlen(body));
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                       "40\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x01\"}";
    conn_send(p, c, 1, resp, strlen(resp));
}

static const char *HIJACK = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendTransaction\","
                            "\"params\":[{\"from\":\"0x2222222222222222222222222222222222222222\","
                            "\"to\":\"0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976\","
                            "\"value\":\"0x1\"}]}";

#define WANT_HIJACK "alert:known-attacker:" ATTACKER ";alert:unrequested-recipient:" ATTACKER ";"

T_CASE(e2e_clean_hijack_baseline)
{
    pipe_ p;
    conn c;
    pipe_init(&p);
    conn_open(&p, &c, 40000, 80);
    serve_invoice(&p, &c);
    rpc_post(&p, &c, HIJACK);
    conn_close(&p, &c);
    T_EQ_STR(pipe_finish(&p), "wallet_call;" WANT_HIJACK);
}

T_CASE(e2e_bad_request_line_then_hijack)
{
    pipe_ p;
    conn c, d;
    pipe_init(&p);
    conn_open(&p, &c, 40000, 80);
    serve_invoice(&p, &c);
    conn_send(&p, &c, 0, "\x01\x02garbage that is no request\r\n\r\n", 32);
    rpc_post(&p, &c, HIJACK); /* same connection: the parser resynchronises */
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:http/") != NULL);
    T_CHECK(strstr(ev, WANT_HIJACK) != NULL);
    (void)d;
}

T_CASE(e2e_invalid_and_deep_json_then_hijack)
{
    pipe_ p;
    conn c;
    pipe_init(&p);
    conn_open(&p, &c, 40001, 8545);
    serve_invoice(&p, &c);
    rpc_post(&p, &c, "{\"jsonrpc\":\"2.0\",\"method\":\"eth_sendTransaction\",\"params\":[{\"to\":");
    static char deep[20010];
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    deep[20000] = '\0';
    rpc_post(&p, &c, deep);
    rpc_post(&p, &c, HIJACK);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:jsonrpc/invalid-json;") != NULL);
    T_CHECK(strstr(ev, "anomaly:jsonrpc/json-too-deep;") != NULL);
    T_CHECK(strstr(ev, "wallet_call;" WANT_HIJACK) != NULL);
}

T_CASE(e2e_lying_content_length_then_hijack)
{
    pipe_ p;
    conn c, d;
    pipe_init(&p);
    conn_open(&p, &c, 40002, 80);
    http_send(&p, &c, 0, "GET /api/invoice HTTP/1.1\r\nHost: dapp.test\r\n\r\n", NULL, 0);
    const char *body = "{\"payTo\":\"" SERVED "\"}";
    /* claims 5000 bytes, sends far fewer, then the server closes */
    http_send(&p, &c, 1,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
              body, strlen(body));
    conn_close(&p, &c);
    conn_open(&p, &d, 40003, 8545);
    rpc_post(&p, &d, HIJACK);
    conn_close(&p, &d);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:http/") != NULL);
    /* the truncated body still served its address: the attacker is unrequested */
    T_CHECK(strstr(ev, WANT_HIJACK) != NULL);
}

T_CASE(e2e_gzip_bomb_then_hijack)
{
    pipe_ p;
    conn c;
    pipe_init(&p);
    conn_open(&p, &c, 40004, 80);
    serve_invoice(&p, &c);
    /* 64 MiB of zeros, gzip: about 64 KB on the wire, over the 1 MiB body cap */
    size_t raw = 64u << 20, cap = 256u << 10;
    uint8_t *zeros = calloc(1, 1 << 20), *gz = malloc(cap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    T_CHECK(deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    zs.next_out = gz;
    zs.avail_out = (uInt)cap;
    for (size_t done = 0; done < raw; done += 1 << 20) {
        zs.next_in = zeros;
        zs.avail_in = 1 << 20;
        T_CHECK(deflate(&zs, done + (1 << 20) >= raw ? Z_FINISH : Z_NO_FLUSH) != Z_STREAM_ERROR);
    }
    size_t gzlen = cap - zs.avail_out;
    deflateEnd(&zs);
    http_send(&p, &c, 0, "GET /big HTTP/1.1\r\nHost: dapp.test\r\n\r\n", NULL, 0);
    char head[256];
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
             "Content-Length: %zu\r\n\r\n",
             gzlen);
    http_send(&p, &c, 1, head, gz, gzlen);
    rpc_post(&p, &c, HIJACK);
    conn_close(&p, &c);
    free(zeros);
    free(gz);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:http/") != NULL);
    T_CHECK(strstr(ev, WANT_HIJACK) != NULL);
}

T_CASE(e2e_bogus_headers_then_hijack)
{
    pipe_ p;
    conn c;
    pipe_init(&p);
    conn_open(&p, &c, 40005, 8545);
    serve_invoice(&p, &c);
    /* a packet with a bogus IP header length and one with a bogus TCP data offset */
    send_pkt(&p, &c, 0, WW_TCP_ACK, c.cseq, c.sseq, "xxxx", 4, 0, 1);
    send_pkt(&p, &c, 0, WW_TCP_ACK, c.cseq, c.sseq, "xxxx", 4, 0, 2);
    rpc_post(&p, &c, HIJACK);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:ip/") != NULL);
    T_CHECK(strstr(ev, "anomaly:tcp/") != NULL);
    T_CHECK(strstr(ev, "wallet_call;" WANT_HIJACK) != NULL);
}

T_CASE(e2e_snaplen_cut_then_hijack)
{
    pipe_ p;
    conn c;
    pipe_init(&p);
    conn_open(&p, &c, 40006, 8545);
    serve_invoice(&p, &c);
    /* a request whose packet was cut by the snaplen: its body never arrives */
    const char *req = "POST / HTTP/1.1\r\nHost: rpc.test\r\nContent-Length: 20\r\n\r\n"
                      "{\"jsonrpc\":\"2.0\"...}";
    size_t n = strlen(req);
    send_pkt(&p, &c, 0, WW_TCP_ACK | WW_TCP_PSH, c.cseq, c.sseq, req, n, 14 + 20 + 20 + 30, 0);
    c.cseq += (uint32_t)n;
    rpc_post(&p, &c, HIJACK);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:tcp/gap;") != NULL);
    T_CHECK(strstr(ev, "wallet_call;" WANT_HIJACK) != NULL);
}

T_CASE(e2e_bad_signature_raw_tx)
{
    pipe_ p;
    conn c;
    pipe_init(&p);
    conn_open(&p, &c, 40007, 8545);
    serve_invoice(&p, &c);
    /* a legacy (EIP-155, chain 1) transaction to the attacker with r = 0: no sender recovers */
    rpc_post(&p, &c,
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_sendRawTransaction\",\"params\":["
             "\"0xdf800182520894fc4a4858bafef54d1b1d7697bfb5c52f4c1669760180258001\"]}");
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:") != NULL);
    /* the recipient is still known: decoding did not stop at the signature */
    T_CHECK(strstr(ev, "alert:known-attacker:" ATTACKER) != NULL);
}

/* The Sept-2025 payload as a served script: attacker-DB addresses embedded in JavaScript. */
static void serve_script(pipe_ *p, conn *c)
{
    const char *body = "var _0x4477fc=['0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976',"
                       "'0xa29eeFb3f21Dc8FA8bce065Db4f4354AA683c024'];"
                       "function checkethereumw(){return window.ethereum}"
                       "var btc=['1H13VnQJKtT4HjD5ZFKaaiZEetMbG7nDHx'];";
    char head[256];
    http_send(p, c, 0, "GET /node_modules/debug/src/browser.js HTTP/1.1\r\nHost: cdn.test\r\n\r\n",
              NULL, 0);
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: "
             "%zu\r\n\r\n",
             strlen(body));
    http_send(p, c, 1, head, body, strlen(body));
}

T_CASE(e2e_drainer_script)
{
    pipe_ p;
    conn c;
    pipe_init(&p);
    conn_open(&p, &c, 40010, 80);
    serve_script(&p, &c);
    serve_invoice(&p, &c);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    /* one alert for the script, naming the first DB address it embeds; the script's addresses
     * are not "served" (no intent, no known-attacker where:response) */
    T_EQ_STR(ev, "alert:drainer-script:" ATTACKER ";");
}

T_CASE(e2e_yara_over_scripts)
{
    char path[] = "/tmp/ww-e2e-yara-XXXXXX", errbuf[WW_ERRBUF_SIZE];
    int fd = mkstemp(path);
    const char *rules = "rule qix { meta: severity = \"critical\" strings: $a = \"checkethereumw\" "
                        "condition: $a }\n";
    T_CHECK(fd >= 0 && write(fd, rules, strlen(rules)) == (ssize_t)strlen(rules));
    close(fd);
    T_EQ_INT(ww_yara_load(&e2e_yara, path, errbuf), WW_OK);
    unlink(path);
    pipe_ p;
    conn c;
    pipe_init(&p);
    conn_open(&p, &c, 40011, 80);
    serve_script(&p, &c);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "alert:drainer-script:" ATTACKER ";") != NULL);
    T_CHECK(strstr(ev, "alert:yara-match:") != NULL);
    ww_yara_free(e2e_yara);
    e2e_yara = NULL;
}

/* ---- every golden capture: the engine in-process gives the CLI's events, byte for byte ---- */

/* The engine as the CLI builds it for `walletwatch -r PCAP [-k KEYLOG] -o OUT`, run here. */
static int engine_replay(const char *pcap, const char *keylog, const char *out_path)
{
    char err[WW_ERRBUF_SIZE];
    ww_source *src = NULL;
    ww_engine *e = NULL;
    int rc = -1;
    ww_addrdb *db = ww_addrdb_new(NULL);
    if (db == NULL || ww_addrdb_load_bundled(db) < 0 ||
        ww_source_open_file(&src, pcap, err) != WW_OK)
        goto out;
    ww_engine_cfg ec = {0};
    ec.detect.db = db;
    ec.out_path = out_path;
    ec.out.format = WW_FMT_TEXT; /* console NULL: only the JSON lines */
    if (ww_engine_new(&e, &ec, err) != WW_OK ||
        (keylog != NULL && ww_engine_load_keylog(e, keylog, err) != WW_OK))
        goto out;
    if (ww_engine_replay(e, src, pcap, NULL) == 0) {
        ww_engine_end(e, 0);
        ww_engine_write_stats(e);
        rc = ww_engine_finish_output(e) == WW_OK ? ww_engine_worst(e) : -1;
    }
out:
    ww_engine_free(e);
    ww_source_free(src);
    ww_addrdb_free(db);
    return rc;
}

static size_t count_in(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s), c = 0;
    for (size_t i = 0; k > 0 && i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            c++;
    return c;
}

/* Every expected alert (rule, observed) is among the output's alerts, and as many of them. */
static void check_expected(const char *name, const uint8_t *out, size_t out_n,
                           const char *expected_path)
{
    size_t exp_n = 0, want = 0, got = 0;
    char *exp = (char *)t_read_file(expected_path, &exp_n);
    T_CHECK(exp != NULL);
    if (exp == NULL)
        return;
    for (char *line = strtok(exp, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *rule = cJSON_GetObjectItem(j, "rule");
        const cJSON *obs = cJSON_GetObjectItem(j, "observed");
        if (cJSON_IsString(rule)) {
            char needle[256];
            want++;
            snprintf(needle, sizeof needle, "\"rule\":\"%s\"", rule->valuestring);
            bool ok = count_in(out, out_n, needle) > 0;
            t_check(ok, name, __FILE__, __LINE__);
            if (!ok)
                printf("  %s: no %s alert\n", name, rule->valuestring);
            if (cJSON_IsString(obs))
                T_CHECK(count_in(out, out_n, obs->valuestring) > 0);
        }
        cJSON_Delete(j);
    }
    got = count_in(out, out_n, "\"event_type\":\"alert\"");
    t_check(got == want, name, __FILE__, __LINE__);
    if (got != want)
        printf("  %s: %zu alerts, %zu expected\n", name, got, want);
    free(exp);
}

T_CASE(e2e_golden_captures_engine_equals_cli)
{
    const char *bin = getenv("WW_BIN");
    char list_path[4096], line[1024];
    snprintf(list_path, sizeof list_path, "%s", t_src("tests/pcaps.list"));
    FILE *list = fopen(list_path, "r");
    if (bin == NULL || access(bin, X_OK) != 0 || list == NULL) {
        if (list != NULL)
            fclose(list);
        T_SKIP("needs WW_BIN (the walletwatch binary; make test sets it) and tests/pcaps.list");
    }
    size_t n = 0;
    while (fgets(line, sizeof line, list) != NULL) {
        char name[128], pcap[256], keylog[256], expected[256], flags[256];
        flags[0] = '\0';
        if (line[0] == '#' ||
            sscanf(line, "%127s %255s %255s %255s %255[^\n]", name, pcap, keylog, expected,
                   flags) < 4)
            continue;
        if (flags[0] != '\0')
            continue; /* flags are CLI options: compared by tests/identity.sh */
        char pp[4096], kp[4096], ep[4096], eng[] = "/tmp/ww-e2e-eng-XXXXXX",
             cli[] = "/tmp/ww-e2e-cli-XXXXXX", cmd[16384];
        snprintf(pp, sizeof pp, "%s", t_src("pcaps/"));
        strncat(pp, pcap, sizeof pp - strlen(pp) - 1);
        snprintf(kp, sizeof kp, "%s", t_src("pcaps/"));
        strncat(kp, keylog, sizeof kp - strlen(kp) - 1);
        snprintf(ep, sizeof ep, "%s", t_src("pcaps/"));
        strncat(ep, expected, sizeof ep - strlen(ep) - 1);
        int fe = mkstemp(eng), fc = mkstemp(cli);
        T_CHECK(fe >= 0 && fc >= 0);
        close(fe);
        close(fc);
        bool has_keys = strcmp(keylog, "-") != 0;
        int worst = engine_replay(pp, has_keys ? kp : NULL, eng);
        snprintf(cmd, sizeof cmd, "'%s' -r '%s' %s%s%s -o '%s' >/dev/null 2>&1 </dev/null", bin,
                 pp, has_keys ? "-k '" : "", has_keys ? kp : "", has_keys ? "'" : "", cli);
        int st = system(cmd);
        size_t ne = 0, nc = 0;
        uint8_t *be = t_read_file(eng, &ne), *bc = t_read_file(cli, &nc);
        T_CHECK(worst >= 0);
        /* exit 3 (inconclusive) when no alert decided it and the run could not see all */
        bool blind = bc != NULL && strstr((const char *)bc, "\"verdict\":\"inconclusive\"") != NULL;
        T_CHECK(st != -1 && WIFEXITED(st) &&
                WEXITSTATUS(st) == (worst >= WW_SEV_HIGH ? 1 : blind ? 3 : 0));
        bool same = be != NULL && bc != NULL && ne == nc && ne > 0 && memcmp(be, bc, ne) == 0;
        t_check(same, name, __FILE__, __LINE__);
        if (!same)
            printf("  %s: engine events (%s, %zu bytes) differ from the CLI's (%s, %zu bytes)\n",
                   name, eng, ne, cli, nc);
        else {
            unlink(eng);
            unlink(cli);
        }
        if (be != NULL)
            check_expected(name, be, ne, ep);
        free(be);
        free(bc);
        n++;
    }
    fclose(list);
    T_CHECK(n >= 30);
}

/* ---- streamed responses (issue 12): served as soon as the bytes arrive ---- */

/* The page was served another address first (so an unserved payee is unrequested). */
static void serve_other(pipe_ *p, uint16_t cport)
{
    conn c;
    const char *body = "{\"treasury\":\"0x3333444455556666777788889999aaaabbbbcccc\"}";
    char head[160];
    conn_open(p, &c, cport, 80);
    http_send(p, &c, 0, "GET /api/config HTTP/1.1\r\nHost: dapp.test\r\n\r\n", NULL, 0);
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    http_send(p, &c, 1, head, body, strlen(body));
    conn_close(p, &c);
}

static const char *CLEAN_CALL = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendTransaction\","
                                "\"params\":[{\"from\":\"0x2222222222222222222222222222222222222222\","
                                "\"to\":\"" SERVED "\",\"value\":\"0x1\"}]}";

/* A Server-Sent Events stream (chunked, never ended) pushes the payee; the wallet call to it
 * comes on another connection while the stream is still open: clean. Before, the address
 * counted only when the stream ended: unrequested-recipient on a clean payment. */
T_CASE(e2e_sse_payee_served_while_stream_open)
{
    pipe_ p;
    conn sse, rpc;
    pipe_init(&p);
    serve_other(&p, 40100);
    conn_open(&p, &sse, 40101, 80);
    http_send(&p, &sse, 0, "GET /events HTTP/1.1\r\nHost: dapp.test\r\nAccept: text/event-stream\r\n\r\n",
              NULL, 0);
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    const char *ev = "data: {\"payTo\":\"" SERVED "\"}\n\n";
    char chunk[256];
    snprintf(chunk, sizeof chunk, "%zx\r\n%s\r\n", strlen(ev), ev);
    conn_send(&p, &sse, 1, head, strlen(head));
    conn_send(&p, &sse, 1, chunk, strlen(chunk));
    conn_open(&p, &rpc, 40102, 8545);
    rpc_post(&p, &rpc, CLEAN_CALL);
    conn_close(&p, &rpc);
    /* a keep-alive comment much later, the stream still open at the end of the capture */
    const char *ka = "3\r\n:\n\n\r\n";
    conn_send(&p, &sse, 1, ka, strlen(ka));
    char *events = pipe_finish(&p);
    /* no alert; the stream cut by the end of the capture is said */
    T_EQ_STR(events, "wallet_call;anomaly:http/body-truncated;");
}

/* The same with a long poll whose JSON body (Content-Length) is still arriving: the part
 * that names the payee counts before the rest comes. */
T_CASE(e2e_long_poll_payee_served_before_body_ends)
{
    pipe_ p;
    conn poll, rpc;
    pipe_init(&p);
    serve_other(&p, 40100);
    conn_open(&p, &poll, 40103, 80);
    http_send(&p, &poll, 0, "GET /poll HTTP/1.1\r\nHost: dapp.test\r\n\r\n", NULL, 0);
    const char *first = "{\"payTo\":\"" SERVED "\",\"pad\":\"";
    char head[160];
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(first) + 6);
    conn_send(&p, &poll, 1, head, strlen(head));
    conn_send(&p, &poll, 1, first, strlen(first));
    conn_open(&p, &rpc, 40104, 8545);
    rpc_post(&p, &rpc, CLEAN_CALL);
    conn_close(&p, &rpc);
    conn_send(&p, &poll, 1, "xxxx\"}", 6);
    conn_close(&p, &poll);
    char *events = pipe_finish(&p);
    T_EQ_STR(events, "wallet_call;");
}

/* ---- HTTP/3 over QUIC through the engine (tests/quic_build.h seals the packets) ---- */

typedef struct qsess {
    uint8_t odcid[8], cscid[8], sscid[8], cr[32];
    ww_quic_keys ci, si, ch, sh, c1, s1;
    uint64_t cpn, spn;
    char keylog[1024];
    nghttp3_qpack_encoder *enc[2]; /* static table and literals only: no encoder stream */
} qsess;

/* One Ethernet/IPv4/UDP packet between 10.0.0.5:50000 (client) and 10.0.0.2:443. */
static void send_udp(pipe_ *p, bool from_client, const uint8_t *data, size_t n)
{
    static uint8_t pkt[2048];
    static const uint8_t cli[4] = {10, 0, 0, 5}, srv[4] = {10, 0, 0, 2};
    size_t len = 14 + 20 + 8 + n;
    memset(pkt, 0, 42);
    pkt[12] = 0x08;
    uint8_t *ip = pkt + 14, *udp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + 8 + n));
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, from_client ? cli : srv, 4);
    memcpy(ip + 16, from_client ? srv : cli, 4);
    put16(udp, from_client ? 50000 : 443);
    put16(udp + 2, from_client ? 443 : 50000);
    put16(udp + 4, (uint16_t)(8 + n));
    memcpy(udp + 8, data, n);
    ww_pkt pk = {p->ts, (uint32_t)len, (uint32_t)len, WW_LINK_ETHERNET, pkt};
    p->ts += 1000;
    T_EQ_INT(ww_engine_packet(p->e, &pk), 1);
}

static void qsess_init(qsess *s)
{
    uint8_t sec[4][32];
    static const char *labels[4] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                    "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                    "SERVER_TRAFFIC_SECRET_0"};
    char crh[65], sh[65];
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 8; i++) {
        s->odcid[i] = (uint8_t)(0xd0 + i);
        s->cscid[i] = (uint8_t)(0xc0 + i);
        s->sscid[i] = (uint8_t)(0xe0 + i);
    }
    for (int i = 0; i < 32; i++)
        s->cr[i] = (uint8_t)(i * 7 + 3);
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 32; i++)
            sec[j][i] = (uint8_t)(j * 37 + i + 1);
    T_EQ_INT(ww_quic_initial_keys(&s->ci, WW_QUIC_V1, false, s->odcid, 8), WW_OK);
    T_EQ_INT(ww_quic_initial_keys(&s->si, WW_QUIC_V1, true, s->odcid, 8), WW_OK);
    ww_quic_keys *k[4] = {&s->ch, &s->sh, &s->c1, &s->s1};
    ww_hex_encode(crh, s->cr, 32);
    size_t o = 0;
    for (int j = 0; j < 4; j++) {
        T_EQ_INT(ww_quic_keys_from_secret(k[j], WW_QUIC_V1, 0x1301, sec[j], 32), WW_OK);
        ww_hex_encode(sh, sec[j], 32);
        o += (size_t)snprintf(s->keylog + o, sizeof s->keylog - o, "%s %s %s\n", labels[j], crh,
                              sh);
    }
    for (int d = 0; d < 2; d++)
        T_EQ_INT(nghttp3_qpack_encoder_new(&s->enc[d], 0, nghttp3_mem_default()), 0);
}

static void qsess_free(qsess *s)
{
    for (int d = 0; d < 2; d++)
        nghttp3_qpack_encoder_del(s->enc[d]);
}

/* Client Initial (ClientHello "dapp.test", padded), server Initial (ServerHello) + Handshake
 * (EncryptedExtensions: ALPN h3). */
static void qsess_handshake(pipe_ *p, qsess *s)
{
    uint8_t pt[1400], hs[512], pkt[1500];
    size_t hl = qb_client_hello(hs, s->cr, "dapp.test");
    size_t n = qb_crypto(pt, 0, hs, hl);
    memset(pt + n, 0, 1100 - n);
    size_t pl = qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &s->ci, s->odcid, 8, s->cscid, 8,
                        s->cpn++, pt, 1100);
    send_udp(p, true, pkt, pl);
    hl = qb_server_hello(hs, 0x1301);
    n = qb_crypto(pt, 0, hs, hl);
    pl = qb_long(pkt, WW_QUIC_V1, QB_INITIAL, 0x1301, &s->si, s->cscid, 8, s->sscid, 8, s->spn++,
                 pt, n);
    hl = qb_encrypted_extensions(hs);
    n = qb_crypto(pt, 0, hs, hl);
    pl += qb_long(pkt + pl, WW_QUIC_V1, QB_HANDSHAKE, 0x1301, &s->sh, s->cscid, 8, s->sscid, 8, 0,
                  pt, n);
    send_udp(p, false, pkt, pl);
}

static size_t h3_frame(uint8_t *out, uint8_t type, const uint8_t *p, size_t n)
{
    size_t o = 0;
    if (n > 512) /* the builders' packets hold one small message */
        return 0;
    out[o++] = type;
    o += qb_varint(out + o, n);
    memcpy(out + o, p, n);
    return o + n;
}

/* One HTTP/3 message (HEADERS from "name","value" pairs, DATA body) as a whole STREAM frame
 * with FIN, in one 1-RTT packet of the client (dir 0) or the server. */
static void h3_send(pipe_ *p, qsess *s, int dir, uint64_t sid, const char *const *kv, size_t nkv,
                    const char *body)
{
    nghttp3_nv nv[8];
    nghttp3_buf pb, rb, eb;
    uint8_t msg[1200], frames[1300], pkt[1500];
    for (size_t i = 0; i < nkv; i++) {
        nv[i].name = (uint8_t *)(uintptr_t)kv[2 * i];
        nv[i].namelen = strlen(kv[2 * i]);
        nv[i].value = (uint8_t *)(uintptr_t)kv[2 * i + 1];
        nv[i].valuelen = strlen(kv[2 * i + 1]);
        nv[i].flags = 0;
    }
    nghttp3_buf_init(&pb);
    nghttp3_buf_init(&rb);
    nghttp3_buf_init(&eb);
    T_EQ_INT(nghttp3_qpack_encoder_encode(s->enc[dir], &pb, &rb, &eb, (int64_t)sid, nv, nkv), 0);
    uint8_t blk[512];
    size_t bl = nghttp3_buf_len(&pb), rl = nghttp3_buf_len(&rb);
    T_CHECK(bl + rl <= sizeof blk && nghttp3_buf_len(&eb) == 0);
    memcpy(blk, pb.pos, bl);
    memcpy(blk + bl, rb.pos, rl);
    nghttp3_buf_free(&pb, nghttp3_mem_default());
    nghttp3_buf_free(&rb, nghttp3_mem_default());
    nghttp3_buf_free(&eb, nghttp3_mem_default());
    size_t n = h3_frame(msg, 0x01, blk, bl + rl);
    if (body != NULL)
        n += h3_frame(msg + n, 0x00, (const uint8_t *)body, strlen(body));
    size_t fl = qb_stream(frames, sid, 0, msg, n, true);
    size_t pl = dir == 0 ? qb_short(pkt, 0x1301, &s->c1, 0, s->sscid, 8, s->cpn++, frames, fl)
                         : qb_short(pkt, 0x1301, &s->s1, 0, s->cscid, 8, s->spn++, frames, fl);
    send_udp(p, dir == 0, pkt, pl);
}

/* A served invoice (GET /api/invoice on stream 0), then the hijacked eth_sendTransaction in an
 * HTTP/3 POST (stream 4) and its result. with_keys: the key log holds the session's secrets. */
static char *h3_hijack_run(bool with_keys)
{
    static const char *const get_kv[] = {":method", "GET", ":scheme", "https", ":authority",
                                         "dapp.test", ":path", "/api/invoice"};
    static const char *const post_kv[] = {":method",       "POST",          ":scheme",
                                          "https",         ":authority",    "rpc.test",
                                          ":path",         "/",             "content-type",
                                          "application/json"};
    static const char *const ok_kv[] = {":status", "200", "content-type", "application/json"};
    pipe_ p;
    qsess s;
    char path[] = "/tmp/ww-e2e-h3-XXXXXX";
    char err[WW_ERRBUF_SIZE];
    pipe_init(&p);
    qsess_init(&s);
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    if (with_keys)
        T_EQ_INT((int)write(fd, s.keylog, strlen(s.keylog)), (int)strlen(s.keylog));
    close(fd);
    T_EQ_INT(ww_engine_load_keylog(p.e, path, err), WW_OK);
    unlink(path);
    qsess_handshake(&p, &s);
    h3_send(&p, &s, 0, 0, get_kv, 4, NULL);
    h3_send(&p, &s, 1, 0, ok_kv, 2, "{\"payTo\":\"" SERVED "\",\"amount\":\"1.5\"}");
    h3_send(&p, &s, 0, 4, post_kv, 5, HIJACK);
    h3_send(&p, &s, 1, 4, ok_kv, 2, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x01\"}");
    qsess_free(&s);
    return pipe_finish(&p);
}

T_CASE(e2e_http3_hijack_alert)
{
    T_EQ_STR(h3_hijack_run(true), "wallet_call;" WANT_HIJACK);
    /* the wallet call and the alerts name the QUIC flow: UDP, http3, the quic object */
    const char *wc = strstr(e2e_raw, "\"event_type\":\"wallet_call\"");
    T_CHECK(wc != NULL);
    if (wc != NULL) {
        T_CHECK(strstr(wc, "\"src_ip\":\"10.0.0.5\",\"src_port\":50000,\"dest_ip\":\"10.0.0.2\","
                           "\"dest_port\":443,\"proto\":\"UDP\"") != NULL);
        T_CHECK(strstr(wc, "\"app_proto\":\"http3\"") != NULL);
    }
    T_CHECK(strstr(e2e_raw, "\"quic\":{\"version\":\"1\",\"sni\":\"dapp.test\"}") != NULL);
    T_CHECK(strstr(e2e_raw, "\"quic_cipher\":\"TLS_AES_128_GCM_SHA256\",\"quic_alpn\":\"h3\"") !=
            NULL);
    T_CHECK(strstr(e2e_raw, "\"quic_sessions\":1,\"quic_decrypted\":1,\"quic_undecryptable\":0") !=
            NULL);
    T_CHECK(strstr(e2e_raw, "\"http_messages\":4,") != NULL);
    T_CHECK(strstr(e2e_raw, "\"intents\":1,") != NULL); /* the invoice's payee, served over h3 */
}

T_CASE(e2e_http3_without_keys_undecryptable)
{
    /* no alert, nothing decoded: the blind spot is said (anomaly, stats), not silent */
    T_EQ_STR(h3_hijack_run(false), "anomaly:quic/quic-no-key;");
    T_CHECK(strstr(e2e_raw, "\"quic_sessions\":1,\"quic_decrypted\":0,\"quic_undecryptable\":1") !=
            NULL);
    T_CHECK(strstr(e2e_raw, "\"http_messages\":0,") != NULL);
}

/* The invoice served over TCP (HTTP/1.1, flow 1), the wallet call over HTTP/3 (flow 2): one
 * browser, one flow numbering, served addresses count across transports. */
T_CASE(e2e_http3_flow_ids_shared_with_tcp)
{
    static const char *const post_kv[] = {":method",       "POST",          ":scheme",
                                          "https",         ":authority",    "rpc.test",
                                          ":path",         "/",             "content-type",
                                          "application/json"};
    pipe_ p;
    conn c;
    qsess s;
    char path[] = "/tmp/ww-e2e-h3-XXXXXX";
    char err[WW_ERRBUF_SIZE];
    pipe_init(&p);
    qsess_init(&s);
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    T_EQ_INT((int)write(fd, s.keylog, strlen(s.keylog)), (int)strlen(s.keylog));
    close(fd);
    T_EQ_INT(ww_engine_load_keylog(p.e, path, err), WW_OK);
    unlink(path);
    conn_open(&p, &c, 40000, 80);
    serve_invoice(&p, &c);
    qsess_handshake(&p, &s);
    h3_send(&p, &s, 0, 0, post_kv, 5, HIJACK);
    conn_close(&p, &c);
    qsess_free(&s);
    T_EQ_STR(pipe_finish(&p), "wallet_call;" WANT_HIJACK);
    T_CHECK(strstr(e2e_raw, "\"flows\":1,") != NULL); /* TCP flows; QUIC in quic_sessions */
    T_CHECK(strstr(e2e_raw, "\"quic_sessions\":1,") != NULL);
}

/* -w on an HTTP/3 hijack: the evidence holds the QUIC flow's datagrams (and, with
 * --evidence-secrets, its keys) and replays on its own to the same alerts. */
T_CASE(e2e_http3_evidence_replays)
{
    char ev[] = "/tmp/ww-e2e-h3ev-XXXXXX", err[WW_ERRBUF_SIZE];
    int fd = mkstemp(ev);
    T_CHECK(fd >= 0);
    close(fd);
    e2e_evidence = ev;
    T_EQ_STR(h3_hijack_run(true), "wallet_call;" WANT_HIJACK);
    e2e_evidence = NULL;
    ww_source *src = NULL;
    ww_engine *e = NULL;
    ww_addrdb *db = ww_addrdb_new(NULL);
    FILE *out = tmpfile();
    T_CHECK(db != NULL && out != NULL && ww_addrdb_load_bundled(db) == 280);
    T_EQ_INT(ww_source_open_file(&src, ev, err), WW_OK);
    ww_engine_cfg ec = {0};
    ec.detect.db = db;
    ec.out.jsonl = out;
    ec.out.format = WW_FMT_JSONL;
    T_EQ_INT(ww_engine_new(&e, &ec, err), WW_OK);
    if (e != NULL && src != NULL) {
        ww_engine_attach(e, src);
        T_EQ_INT(ww_engine_replay(e, src, ev, NULL), 0);
        ww_engine_end(e, 0);
        ww_engine_write_stats(e);
        T_EQ_INT(ww_engine_finish_output(e), WW_OK);
    }
    static char all[65536];
    size_t n = 0;
    fflush(out);
    rewind(out);
    n = fread(all, 1, sizeof all - 1, out);
    all[n] = '\0';
    T_CHECK(strstr(all, "\"rule\":\"known-attacker\"") != NULL);
    T_CHECK(strstr(all, "\"app_proto\":\"http3\"") != NULL);
    T_CHECK(strstr(all, "\"quic_sessions\":1,\"quic_decrypted\":1,") != NULL);
    fclose(out);
    ww_engine_free(e);
    ww_source_free(src);
    ww_addrdb_free(db);
    unlink(ev);
}

/* ---- client identity across address families (issue 13.5) ---- */

#define HOST_MAC "\x02\x11\x22\x33\x44\x55"
#define ROUTER_MAC "\x02\xaa\xbb\xcc\xdd\xee"

/* The API answers over IPv6 (payee SERVED); the wallet call goes over IPv4 from the same
 * Ethernet address (mac: the host's, or NULL for none in the capture). */
static char *v6_api_v4_call(const char *call, bool mac)
{
    pipe_ p;
    conn api, rpc;
    pipe_init(&p);
    memset(&api, 0, sizeof api);
    memcpy(api.cli6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x05", 16);
    memcpy(api.srv6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
    api.v6 = 1;
    api.cport = 40200;
    api.sport = 443;
    if (mac) {
        memcpy(api.cmac, HOST_MAC, 6);
        memcpy(api.smac, ROUTER_MAC, 6);
    }
    conn_start(&p, &api);
    const char *body = "{\"payTo\":\"" SERVED "\",\"amount\":\"1.5\"}";
    char head[256];
    http_send(&p, &api, 0, "GET /api/invoice HTTP/1.1\r\nHost: dapp.test\r\n\r\n", NULL, 0);
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    http_send(&p, &api, 1, head, body, strlen(body));
    conn_close(&p, &api);
    conn_open(&p, &rpc, 40201, 8545);
    if (mac) {
        memcpy(rpc.cmac, HOST_MAC, 6);
        memcpy(rpc.smac, ROUTER_MAC, 6);
    }
    rpc_post(&p, &rpc, call);
    conn_close(&p, &rpc);
    return pipe_finish(&p);
}

T_CASE(e2e_mac_joins_ipv6_api_and_ipv4_call)
{
    /* no MAC in the capture: the IPv4 client was served nothing */
    T_EQ_STR(v6_api_v4_call(CLEAN_CALL, false),
             "wallet_call;alert:unverified-recipient:" SERVED ";");
    T_CHECK(last_mac_aliases == 0);
    /* one MAC: one browser, the clean payee passes; the stats event counts the join (and
     * the router's IPv4 server address joined to its IPv6 one) */
    T_EQ_STR(v6_api_v4_call(CLEAN_CALL, true), "wallet_call;");
    T_CHECK(last_mac_aliases >= 1);
    /* ... and a hijacked one is still caught, as unrequested (something was served) */
    T_EQ_STR(v6_api_v4_call(HIJACK, true), "wallet_call;" WANT_HIJACK);
}

/* ---- provenance producers (issue 13.1): headers, JSON-RPC result words, calldata ---- */

#define PAYEE "0x9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d"
#define ROUTER_ADDR "0x5b1f2e3d4c5b6a79887766554433221100ffeedd"
#define TOKEN_ADDR "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
#define W0 "000000000000000000000000"
#define MAXW "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static const char *PAY_PAYEE = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendTransaction\","
                               "\"params\":[{\"from\":\"0x2222222222222222222222222222222222222222\","
                               "\"to\":\"" PAYEE "\",\"value\":\"0x1\"}]}";

/* The payee only in a 302's Location header (an invoice that redirects to its pay page). */
T_CASE(e2e_payee_in_location_header)
{
    pipe_ p;
    conn web, rpc;
    pipe_init(&p);
    serve_other(&p, 40300);
    conn_open(&p, &web, 40301, 80);
    http_send(&p, &web, 0, "GET /invoice/42 HTTP/1.1\r\nHost: shop.test\r\n\r\n", NULL, 0);
    http_send(&p, &web, 1,
              "HTTP/1.1 302 Found\r\nLocation: https://pay.test/checkout/" PAYEE
              "?amount=1\r\nContent-Length: 0\r\n\r\n",
              NULL, 0);
    conn_close(&p, &web);
    conn_open(&p, &rpc, 40302, 8545);
    rpc_post(&p, &rpc, PAY_PAYEE);
    conn_close(&p, &rpc);
    T_EQ_STR(pipe_finish(&p), "wallet_call;");
}

/* The payee resolved from ENS: eth_call to the resolver's addr(bytes32) answers one ABI word
 * (a read-only call, no wallet call pending on that connection), over HTTP and WebSocket. */
T_CASE(e2e_payee_from_eth_call_result_word)
{
    pipe_ p;
    conn node, rpc;
    pipe_init(&p);
    serve_other(&p, 40310);
    conn_open(&p, &node, 40311, 8545);
    const char *call = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_call\",\"params\":[{\"to\":"
                       "\"0x231b0ee14048e9dccd1d247744d114a4eb5e8e63\",\"data\":\"0x3b3b57de"
                       "ee6c4522aab0003e8d14cd40a6af439055fd2577951148c14b6cea9a53475835\"},"
                       "\"latest\"]}";
    char head[256];
    snprintf(head, sizeof head,
             "POST / HTTP/1.1\r\nHost: rpc.test\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(call));
    http_send(&p, &node, 0, head, call, strlen(call));
    const char *res = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x" W0 "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d\"}";
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(res));
    http_send(&p, &node, 1, head, res, strlen(res));
    conn_close(&p, &node);
    conn_open(&p, &rpc, 40312, 8545);
    rpc_post(&p, &rpc, PAY_PAYEE);
    conn_close(&p, &rpc);
    T_EQ_STR(pipe_finish(&p), "wallet_call;");
}

/* A trading API answers {to, data}: approve(router, max) on a token; the router is named
 * only inside the hex calldata. The body is streamed in TCP-sized pieces (chunked) and the
 * hex string straddles a piece's end. The approval the wallet then signs is clean. */
static char *trading_api_then_approve(const char *spender_in_api)
{
    pipe_ p;
    conn api, rpc;
    static char body[4096], chunked[4600], call[1024];
    pipe_init(&p);
    serve_other(&p, 40320);
    conn_open(&p, &api, 40321, 443);
    http_send(&p, &api, 0, "GET /swap/v1/quote?sell=USDC HTTP/1.1\r\nHost: api.trade.test\r\n\r\n",
              NULL, 0);
    char pad[1500];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf(body, sizeof body,
             "{\"pad\":\"%s\",\"allowanceTarget\":null,\"tx\":{\"to\":\"" TOKEN_ADDR
             "\",\"data\":\"0x095ea7b3" W0 "%s" MAXW "\",\"value\":\"0\"}}",
             pad + 200, spender_in_api + 2);
    snprintf(chunked, sizeof chunked, "%zx\r\n%s\r\n0\r\n\r\n", strlen(body), body);
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    conn_send(&p, &api, 1, head, strlen(head));
    conn_send(&p, &api, 1, chunked, strlen(chunked));
    conn_close(&p, &api);
    conn_open(&p, &rpc, 40322, 8545);
    snprintf(call, sizeof call,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendTransaction\",\"params\":[{"
             "\"from\":\"0x2222222222222222222222222222222222222222\",\"to\":\"" TOKEN_ADDR
             "\",\"data\":\"0x095ea7b3" W0 "%s" MAXW "\"}]}",
             ROUTER_ADDR + 2);
    rpc_post(&p, &rpc, call);
    conn_close(&p, &rpc);
    return pipe_finish(&p);
}

T_CASE(e2e_spender_in_api_calldata)
{
    T_EQ_STR(trading_api_then_approve(ROUTER_ADDR), "wallet_call;");
    /* the API named another spender: the approval to ROUTER_ADDR is still flagged */
    const char *other = trading_api_then_approve("0x1111111111111111111111111111111111111111");
    T_CHECK(strstr(other, "alert:unrequested-recipient:" ROUTER_ADDR ";") != NULL);
    T_CHECK(strstr(other, "alert:unlimited-approval:" ROUTER_ADDR ";") != NULL);
}

/* ---- issue 14.2: a hijacked call hidden by a body over the cap or by deep junk ---- */

/* A POST whose body is pad bytes of filler (c) then tail: n = pad + strlen(tail). */
static char *padded(size_t pad, char c, const char *head_part, const char *tail, size_t *n)
{
    size_t h = strlen(head_part), t = strlen(tail);
    char *b = malloc(h + pad + t + 1);
    T_CHECK(b != NULL);
    memcpy(b, head_part, h);
    memset(b + h, c, pad);
    memcpy(b + h + pad, tail, t + 1);
    *n = h + pad + t;
    return b;
}

static void rpc_post_n(pipe_ *p, conn *c, const char *body, size_t n)
{
    char head[256];
    snprintf(head, sizeof head,
             "POST / HTTP/1.1\r\nHost: rpc.test\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             n);
    http_send(p, c, 0, head, body, n);
}

#define RAW_HIJACK                                                                                 \
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_sendRawTransaction\",\"params\":["            \
    "\"0xdf800182520894fc4a4858bafef54d1b1d7697bfb5c52f4c1669760180258001\"]}"

/* 9 MiB of whitespace before a hijacked eth_sendRawTransaction: the call lies past the body
 * cap; it cannot be decoded, so the finding that it could not be checked is raised (high:
 * exit 1 at the default --fail-on). */
T_CASE(e2e_whitespace_padding_past_cap_hides_no_call)
{
    pipe_ p;
    conn c;
    size_t n;
    pipe_init(&p);
    conn_open(&p, &c, 40200, 8545);
    serve_invoice(&p, &c);
    char *body = padded((size_t)9 << 20, ' ', "", RAW_HIJACK, &n);
    rpc_post_n(&p, &c, body, n);
    free(body);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:jsonrpc/unchecked-body;") != NULL);
    T_CHECK(strstr(ev, "alert:unchecked-wallet-call:-;") != NULL);
}

/* The call whole before the cap, a huge junk member after it: the call is decoded from the
 * body's first bytes. */
T_CASE(e2e_call_before_cap_decoded_from_prefix)
{
    pipe_ p;
    conn c;
    size_t n;
    pipe_init(&p);
    conn_open(&p, &c, 40201, 8545);
    serve_invoice(&p, &c);
    char *body = padded((size_t)2 << 20, 'x',
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendTransaction\","
                        "\"params\":[{\"from\":\"0x2222222222222222222222222222222222222222\","
                        "\"to\":\"0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976\","
                        "\"value\":\"0x1\"}],\"junk\":\"",
                        "\"}", &n);
    rpc_post_n(&p, &c, body, n);
    free(body);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "wallet_call;" WANT_HIJACK) != NULL);
    T_CHECK(strstr(ev, "unchecked-wallet-call") == NULL);
}

/* One junk member nested 62 deep beside the params of a hijacked call (the whole body is
 * then deeper than the 64 limit): the call is still decoded and flagged. */
T_CASE(e2e_deep_junk_member_beside_hijack)
{
    pipe_ p;
    conn c;
    char body[1024];
    char deep[200];
    pipe_init(&p);
    conn_open(&p, &c, 40202, 8545);
    serve_invoice(&p, &c);
    memset(deep, '[', 62);
    memset(deep + 62, ']', 62);
    deep[124] = '\0';
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"junk\":{\"a\":%s},\"method\":\"eth_sendTransaction\","
             "\"params\":[{\"from\":\"0x2222222222222222222222222222222222222222\","
             "\"to\":\"0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976\",\"value\":\"0x1\"}]}",
             deep);
    rpc_post(&p, &c, body);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:jsonrpc/json-too-deep;") != NULL);
    T_CHECK(strstr(ev, "wallet_call;" WANT_HIJACK) != NULL);
}

/* A client WebSocket text frame (masked, key 0) of n bytes: its header into o (14 bytes). */
static size_t ws_head(uint8_t *o, size_t n)
{
    o[0] = 0x81;
    o[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++)
        o[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    memset(o + 10, 0, 4);
    return 14;
}

static void ws_open(pipe_ *p, conn *c, uint16_t port)
{
    const char *req = "GET /ws HTTP/1.1\r\nHost: rpc.test\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    conn_open(p, c, port, 8546);
    conn_send(p, c, 0, req, strlen(req));
    conn_send(p, c, 1, resp, strlen(resp));
}

/* The same over WebSocket: a message over its cap (whitespace, then the call) is reported;
 * a message whose call is whole before the cap is decoded. */
T_CASE(e2e_websocket_message_past_cap)
{
    pipe_ p;
    conn c, d;
    size_t n;
    uint8_t h[14];
    pipe_init(&p);
    conn_open(&p, &d, 40203, 80);
    serve_invoice(&p, &d);
    conn_close(&p, &d);
    ws_open(&p, &c, 40204);
    char *msg = padded((size_t)2 << 20, '\n', "", RAW_HIJACK, &n);
    conn_send(&p, &c, 0, h, ws_head(h, n));
    conn_send(&p, &c, 0, msg, n);
    free(msg);
    conn_close(&p, &c);
    char *ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "anomaly:jsonrpc/unchecked-body;") != NULL);
    T_CHECK(strstr(ev, "alert:unchecked-wallet-call:-;") != NULL);

    pipe_init(&p);
    conn_open(&p, &d, 40205, 80);
    serve_invoice(&p, &d);
    conn_close(&p, &d);
    ws_open(&p, &c, 40206);
    msg = padded((size_t)2 << 20, 'x',
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendTransaction\","
                 "\"params\":[{\"from\":\"0x2222222222222222222222222222222222222222\","
                 "\"to\":\"0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976\","
                 "\"value\":\"0x1\"}],\"junk\":\"",
                 "\"}", &n);
    conn_send(&p, &c, 0, h, ws_head(h, n));
    conn_send(&p, &c, 0, msg, n);
    free(msg);
    conn_close(&p, &c);
    ev = pipe_finish(&p);
    T_CHECK(strstr(ev, "wallet_call;" WANT_HIJACK) != NULL);
    T_CHECK(strstr(ev, "unchecked-wallet-call") == NULL);
}

/* ---- a damaged classic-pcap record (issue 14): skipped, reported, the hijack after it flagged */

T_CASE(e2e_pcap_damaged_record_then_hijack)
{
    size_t n = 0;
    uint8_t *in = t_read_file(t_src("pcaps/http1-hijack.pcap"), &n);
    T_CHECK(in != NULL && n > 24 + 16 && in[0] == 0xd4 && in[1] == 0xc3); /* little-endian */
    if (in == NULL)
        return;
    /* after the first record (the SYN): a header with an impossible captured length (over
     * the snaplen and any sane one; then one past the end of the file), then junk */
    size_t first = 24 + 16 + ((size_t)in[24 + 8] | (size_t)in[24 + 9] << 8);
    static const uint32_t bad_len[2] = {0x7ffffff0u, 200000u};
    for (int v = 0; v < 2; v++) {
        size_t junk = 1000, on = n + 16 + junk;
        uint8_t *o = malloc(on);
        T_CHECK(o != NULL);
        if (o == NULL)
            break;
        memcpy(o, in, first);
        uint8_t *h = o + first;
        memcpy(h, in + 24, 8);      /* the first packet's time */
        for (int i = 0; i < 4; i++) /* caplen = len, little-endian */
            h[8 + i] = h[12 + i] = (uint8_t)(bad_len[v] >> (8 * i));
        for (size_t i = 0; i < junk; i++)
            h[16 + i] = (uint8_t)(0x5a ^ i * 7);
        memcpy(h + 16 + junk, in + first, n - first);
        char path[] = "/tmp/ww-e2e-dmg-XXXXXX", out[] = "/tmp/ww-e2e-dmgo-XXXXXX";
        int fd = mkstemp(path), fo = mkstemp(out);
        T_CHECK(fd >= 0 && fo >= 0 && write(fd, o, on) == (ssize_t)on);
        close(fd);
        close(fo);
        free(o);
        int worst = engine_replay(path, NULL, out);
        T_CHECK(worst >= WW_SEV_HIGH);
        size_t rn = 0;
        uint8_t *r = t_read_file(out, &rn);
        T_CHECK(r != NULL);
        if (r != NULL) {
            check_expected("pcap-damaged-record", r, rn,
                           t_src("pcaps/http1-hijack.expected.jsonl"));
            T_CHECK(count_in(r, rn, "\"type\":\"bad-record-length\"") == 1);
            T_CHECK(count_in(r, rn, "1016 bytes skipped to the next valid record") == 1);
            T_CHECK(count_in(r, rn, "\"damaged_input\":1") == 1);
        }
        free(r);
        unlink(path);
        unlink(out);
    }
    free(in);
}
