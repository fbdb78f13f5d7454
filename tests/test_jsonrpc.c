/*
 * test_jsonrpc.c - JSON-RPC wallet requests and responses.
 */
#include <time.h>

#include "tests/evm_build.h"
#include "tests/t.h"

typedef struct anom {
    int n;
    char types[16][32];
} anom;

static void on_anomaly(void *ud, const char *layer, const char *type, const char *detail)
{
    anom *a = ud;
    (void)layer;
    (void)detail;
    if (a->n < 16)
        snprintf(a->types[a->n], sizeof a->types[0], "%s", type);
    a->n++;
}

static bool has_anomaly(const anom *a, const char *type)
{
    for (int i = 0; i < a->n && i < 16; i++)
        if (strcmp(a->types[i], type) == 0)
            return true;
    return false;
}

static ww_wallet_call WC[8];

static int req(const char *body, size_t *num, anom *a)
{
    memset(a, 0, sizeof *a);
    *num = WW_ARRAY_LEN(WC);
    size_t n = strlen(body);
    return ww_jsonrpc_decode_request(WC, num, t_guard(body, n), n, 64, on_anomaly, a);
}

T_CASE(rpc_send_transaction)
{
    size_t num;
    anom a;
    int rc = req("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_sendTransaction\",\"params\":[{"
                 "\"from\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\","
                 "\"to\":\"0xdAC17F958D2ee523a2206206994597C13D831ec7\",\"value\":\"0x0\","
                 "\"chainId\":\"0x1\",\"gas\":\"0x5208\",\"data\":\"0x095ea7b3"
                 "0000000000000000000000001111111111111111111111111111111111111111"
                 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"}]}",
                 &num, &a);
    T_EQ_INT(rc, 1);
    T_EQ_INT(num, 1);
    T_EQ_INT(a.n, 0);
    ww_wallet_call *w = &WC[0];
    T_EQ_STR(w->method, "eth_sendTransaction");
    T_EQ_STR(w->rpc_id, "7");
    T_EQ_INT(w->chain, WW_CHAIN_EVM);
    T_CHECK(w->has_chain_id && w->chain_id == 1);
    T_EQ_STR(w->from.text, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    T_EQ_STR(w->to.text, "0xdac17f958d2ee523a2206206994597c13d831ec7");
    T_EQ_INT(w->to.flags, WW_ADDR_F_MIXEDCASE);
    T_EQ_STR(w->kind, "erc20-approve");
    T_EQ_STR(w->value, "0");
    T_EQ_INT(w->signature_valid, -1);
    T_EQ_STR(w->tx_hash, "");
    T_EQ_INT(w->n_parties, 2);
    T_CHECK(w->parties[1].unlimited);

    /* bad checksum on `to`, "input" field, string id, value in hex with leading zeros */
    rc = req("{\"id\":\"a\\\"b\",\"method\":\"eth_sendTransaction\",\"params\":[{"
             "\"from\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
             "\"to\":\"0xdAC17F958D2ee523a2206206994597C13D831eC7\",\"value\":\"0x0de0b6b3a7640000\","
             "\"input\":\"0x\"}]}",
             &num, &a);
    T_EQ_INT(rc, 1);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].rpc_id, "\"a\\\"b\"");
    T_EQ_INT(WC[0].to.flags, WW_ADDR_F_MIXEDCASE | WW_ADDR_F_BAD_CHECKSUM);
    T_EQ_INT(WC[0].parties[0].addr.flags, WW_ADDR_F_MIXEDCASE | WW_ADDR_F_BAD_CHECKSUM);
    T_EQ_STR(WC[0].kind, "native-transfer");
    T_EQ_STR(WC[0].value, "1000000000000000000");
    T_CHECK(!WC[0].has_chain_id);

    /* invalid addresses and value: anomalies, still a call */
    rc = req("{\"id\":1,\"method\":\"eth_signTransaction\",\"params\":[{\"from\":\"0x12\","
             "\"to\":\"0xzz17F958D2ee523a2206206994597C13D831ec7\",\"value\":\"12\",\"data\":\"0x1\"}]}",
             &num, &a);
    T_EQ_INT(rc, 1);
    T_EQ_INT(num, 1);
    T_CHECK(has_anomaly(&a, "bad-address"));
    T_CHECK(has_anomaly(&a, "bad-params"));
    T_CHECK(has_anomaly(&a, "bad-calldata"));
    T_CHECK(!WC[0].has_to && !WC[0].has_from);
    T_EQ_STR(WC[0].kind, "contract-call");

    /* params not an array of object */
    rc = req("{\"id\":1,\"method\":\"eth_sendTransaction\",\"params\":\"x\"}", &num, &a);
    T_EQ_INT(rc, 1);
    T_EQ_INT(num, 0);
    T_CHECK(has_anomaly(&a, "bad-params"));
    /* malformed ERC-20 calldata */
    rc = req("{\"id\":1,\"method\":\"eth_sendTransaction\",\"params\":[{"
             "\"to\":\"0xdac17f958d2ee523a2206206994597c13d831ec7\",\"data\":\"0xa9059cbb00\"}]}",
             &num, &a);
    T_EQ_INT(num, 1);
    T_CHECK(has_anomaly(&a, "bad-calldata"));
    T_EQ_STR(WC[0].kind, "contract-call");
    T_EQ_STR(WC[0].selector, "0xa9059cbb");
}

static char *raw_request(int type, int mode, const char *id)
{
    static char body[20000];
    uint8_t raw[8192];
    char hex[16400];
    size_t n = build_tx(raw, sizeof raw, type, 1, "0xdac17f958d2ee523a2206206994597c13d831ec7", 0,
                        "0xa9059cbb0000000000000000000000001111111111111111111111111111111111111111"
                        "0000000000000000000000000000000000000000000000000000000000000064",
                        "0x2222222222222222222222222222222222222222", mode);
    ww_hex_encode(hex, raw, n);
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"eth_sendRawTransaction\","
             "\"params\":[\"0x%s\"]}",
             id, hex);
    return body;
}

T_CASE(rpc_send_raw_each_type)
{
    size_t num;
    anom a;
    for (int type = 0; type <= 4; type++) {
        int rc = req(raw_request(type, SIG_OK, "42"), &num, &a);
        T_EQ_INT(rc, 1);
        T_EQ_INT(num, 1);
        T_EQ_INT(a.n, 0);
        T_EQ_STR(WC[0].method, "eth_sendRawTransaction");
        T_EQ_STR(WC[0].rpc_id, "42");
        T_EQ_INT(WC[0].signature_valid, 1);
        T_EQ_STR(WC[0].from.text, TEST_KEY_ADDR);
        T_EQ_STR(WC[0].kind, "erc20-transfer");
        T_EQ_STR(WC[0].amount, "100");
        T_EQ_INT(strlen(WC[0].tx_hash), 66);
        if (type == 4) {
            T_EQ_INT(WC[0].n_parties, 4);
            T_EQ_INT(WC[0].parties[2].role, WW_ROLE_DELEGATE);
        }
        /* high-s: anomaly, still a call with signature_valid 0 */
        rc = req(raw_request(type, SIG_HIGH_S, "43"), &num, &a);
        T_EQ_INT(rc, 1);
        T_EQ_INT(num, 1);
        T_CHECK(has_anomaly(&a, "bad-signature"));
        T_EQ_INT(WC[0].signature_valid, 0);
        T_EQ_STR(WC[0].to.text, "0xdac17f958d2ee523a2206206994597c13d831ec7");
    }
    /* garbage RLP */
    int rc = req("{\"id\":1,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0xf80102\"]}", &num,
                 &a);
    T_EQ_INT(rc, 1);
    T_CHECK(has_anomaly(&a, "bad-rlp"));
    T_EQ_INT(num, 0);
    rc = req("{\"id\":1,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0xzz\"]}", &num, &a);
    T_CHECK(has_anomaly(&a, "bad-params"));
}

T_CASE(rpc_batch_and_errors)
{
    size_t num;
    anom a;
    char body[40000];
    char *one = raw_request(2, SIG_OK, "\"x\"");
    snprintf(body, sizeof body,
             "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]},%s,"
             "{\"id\":3,\"method\":\"eth_blockNumber\"},{\"not\":\"rpc\"},17]",
             one);
    int rc = req(body, &num, &a);
    T_EQ_INT(rc, 3);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].rpc_id, "\"x\"");

    /* capacity: 10 sendRaw in a batch, 8 slots */
    size_t off = 0;
    body[off++] = '[';
    for (int i = 0; i < 10; i++) {
        char *r = raw_request(0, SIG_OK, "1");
        size_t l = strlen(r);
        memcpy(body + off, r, l);
        off += l;
        body[off++] = i == 9 ? ']' : ',';
        if (off > sizeof body - 4000)
            break;
    }
    body[off] = '\0';
    rc = req(body, &num, &a);
    T_EQ_INT(num, 8);
    T_CHECK(rc >= 8);
    T_CHECK(has_anomaly(&a, "batch-too-large"));

    /* other methods only counted */
    rc = req("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[]}", &num, &a);
    T_EQ_INT(rc, 1);
    T_EQ_INT(num, 0);
    T_EQ_INT(a.n, 0);
    /* not JSON-RPC, not JSON */
    T_EQ_INT(req("{\"hello\":\"world\"}", &num, &a), WW_E_INVALID);
    T_EQ_INT(a.n, 0);
    T_EQ_INT(req("[]", &num, &a), WW_E_INVALID);
    T_EQ_INT(req("\"0x12\"", &num, &a), WW_E_INVALID);
    T_EQ_INT(req("{\"method\":\"eth_sendTransaction\",", &num, &a), WW_E_INVALID);
    T_CHECK(has_anomaly(&a, "invalid-json"));
    T_EQ_INT(req("", &num, &a), WW_E_INVALID);
    /* depth: brackets inside strings do not count */
    T_EQ_INT(req("{\"id\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\","
                 "\"method\":\"x\"}",
                 &num, &a),
             1);
}

T_CASE(rpc_deep_nesting)
{
    size_t n = 10000 * 2, num;
    char *b = malloc(n + 1);
    anom a;
    T_CHECK(b != NULL);
    if (b == NULL)
        return;
    for (size_t i = 0; i < 10000; i++) {
        b[i] = '[';
        b[n - 1 - i] = ']';
    }
    b[n] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = req(b, &num, &a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    T_EQ_INT(rc, WW_E_DEPTH);
    T_CHECK(has_anomaly(&a, "json-too-deep"));
    T_CHECK(t1.tv_sec - t0.tv_sec < 1);
    /* objects too, and unbalanced */
    for (size_t i = 0; i < 10000; i++) {
        b[2 * i] = '{';
        b[2 * i + 1] = i % 2 ? '[' : '{';
    }
    T_EQ_INT(req(b, &num, &a), WW_E_INVALID); /* not JSON at its second byte */
    T_CHECK(has_anomaly(&a, "invalid-json"));
    /* exactly at the limit (64) is accepted by the pre-scan */
    char ok[200];
    memset(ok, '[', 64);
    memset(ok + 64, ']', 64);
    ok[128] = '\0';
    T_EQ_INT(req(ok, &num, &a), WW_E_INVALID); /* JSON, but not JSON-RPC */
    T_CHECK(!has_anomaly(&a, "json-too-deep"));
    ok[0] = '[';
    memmove(ok + 1, ok, 128);
    ok[129] = ']';
    ok[130] = '\0';
    T_EQ_INT(req(ok, &num, &a), WW_E_DEPTH);
    free(b);
}

T_CASE(rpc_responses)
{
    ww_jsonrpc_resp r[4];
    size_t num = 4;
    const char *b = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b\"},"
                    "{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"error\":{\"code\":-32000,\"message\":\"nonce too low\"}},"
                    "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"a\":[1,2]}},{\"method\":\"x\"}]";
    int rc = ww_jsonrpc_decode_response(r, &num, (const uint8_t *)b, strlen(b), 0);
    T_EQ_INT(rc, 3);
    T_EQ_INT(num, 3);
    T_EQ_STR(r[0].rpc_id, "1");
    T_CHECK(!r[0].is_error);
    T_EQ_STR(r[0].result, "0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b");
    T_EQ_STR(r[1].rpc_id, "\"b\"");
    T_CHECK(r[1].is_error);
    T_EQ_INT(r[1].error_code, -32000);
    T_EQ_STR(r[1].error_msg, "nonce too low");
    T_EQ_STR(r[2].result, "{\"a\":[1,2]}");
    num = 1;
    rc = ww_jsonrpc_decode_response(r, &num, (const uint8_t *)b, strlen(b), 0);
    T_EQ_INT(rc, 3);
    T_EQ_INT(num, 1);
    num = 4;
    T_EQ_INT(ww_jsonrpc_decode_response(r, &num, (const uint8_t *)"{\"x\":1}", 7, 0), WW_E_INVALID);
    T_EQ_INT(ww_jsonrpc_decode_response(r, &num, (const uint8_t *)"[[[[", 4, 2), WW_E_DEPTH);
    num = 4;
    T_EQ_INT(ww_jsonrpc_decode_response(r, &num, (const uint8_t *)"{\"id\":1,\"result\":null}", 22, 0), 1);
    T_EQ_INT(num, 1);
    T_EQ_STR(r[0].result, "null");
}

/* "[[[...]]]" nested `depth` deep, into out (NUL-terminated). */
static void nest(char *out, int depth)
{
    memset(out, '[', (size_t)depth);
    memset(out + depth, ']', (size_t)depth);
    out[2 * depth] = '\0';
}

T_CASE(rpc_junk_beside_call)
{
    static char body[60000];
    char junk[300];
    size_t num;
    anom a;
    const char *raw = raw_request(2, SIG_OK, "5");
    const char *params = strstr(raw, "\"params\":");
    T_CHECK(params != NULL);
    /* issue 14.2: a member 62 deep beside the real params of eth_sendRawTransaction (64 in
     * all with the body's own object, within the limit: still reported) */
    nest(junk, 62);
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":5,\"junk\":%s,"
             "\"method\":\"eth_sendRawTransaction\",%s", junk, params);
    T_EQ_INT(req(body, &num, &a), 1);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "erc20-transfer");
    T_EQ_INT(WC[0].signature_valid, 1);
    T_CHECK(has_anomaly(&a, "json-too-deep"));
    nest(junk, 66);
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":5,\"junk\":%s,"
             "\"method\":\"eth_sendRawTransaction\",%s", junk, params);
    T_EQ_INT(req(body, &num, &a), 1);
    T_EQ_INT(num, 1);
    T_CHECK(has_anomaly(&a, "json-too-deep"));
    /* 10,000 deep, after params: the same */
    char *deep = malloc(20001 + sizeof body);
    T_CHECK(deep != NULL);
    if (deep == NULL)
        return;
    size_t rl = strlen(raw);
    memcpy(deep, raw, rl - 1); /* without the closing brace */
    size_t off = rl - 1;
    memcpy(deep + off, ",\"x\":", 5);
    off += 5;
    memset(deep + off, '[', 10000);
    memset(deep + off + 10000, ']', 10000);
    off += 20000;
    deep[off++] = '}';
    deep[off] = '\0';
    T_EQ_INT(req(deep, &num, &a), 1);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].rpc_id, "5");
    T_CHECK(has_anomaly(&a, "json-too-deep"));
    /* a huge unknown member (1 MiB of numbers) is skipped, not built */
    free(deep);
    deep = malloc(3u << 20);
    T_CHECK(deep != NULL);
    if (deep == NULL)
        return;
    off = (size_t)sprintf(deep, "{\"pad\":[");
    for (int i = 0; i < 500000; i++)
        off += (size_t)sprintf(deep + off, "1,");
    off += (size_t)sprintf(deep + off, "1],\"id\":1,\"method\":\"eth_sendTransaction\","
                                       "\"params\":[{\"to\":\"0x1111111111111111111111111111111111111111\","
                                       "\"value\":\"0x1\"}]}");
    T_EQ_INT(req(deep, &num, &a), 1);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "native-transfer");
    T_EQ_INT(a.n, 0);
    free(deep);

    /* eth_sendTransaction whose tx object holds the junk: pruned, the call kept */
    nest(junk, 100);
    snprintf(body, sizeof body,
             "{\"id\":2,\"method\":\"eth_sendTransaction\",\"params\":[{\"junk\":%s,"
             "\"to\":\"0x1111111111111111111111111111111111111111\",\"value\":\"0x2\"},%s]}",
             junk, junk);
    T_EQ_INT(req(body, &num, &a), 1);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].to.text, "0x1111111111111111111111111111111111111111");
    T_EQ_STR(WC[0].value, "2");
    T_CHECK(has_anomaly(&a, "json-pruned"));

    /* a batch: one deep element does not hide the others */
    nest(junk, 120);
    snprintf(body, sizeof body,
             "[%s,{\"id\":1,\"method\":\"eth_sendTransaction\",\"x\":%s,\"params\":[{\"to\":"
             "\"0x1111111111111111111111111111111111111111\"}]},{\"id\":2,\"method\":"
             "\"personal_sign\",\"params\":[\"0x00\",\"0x1111111111111111111111111111111111111111\"]}]",
             junk, junk);
    T_EQ_INT(req(body, &num, &a), 2);
    T_EQ_INT(num, 2);
    T_EQ_STR(WC[0].rpc_id, "1");
    T_EQ_STR(WC[1].kind, "message");
    T_CHECK(has_anomaly(&a, "json-too-deep"));

    /* duplicate method (the last counts, as JSON.parse), escaped key */
    T_EQ_INT(req("{\"id\":1,\"method\":\"eth_chainId\",\"me\\u0074hod\":\"eth_sendTransaction\","
                 "\"params\":[{\"to\":\"0x1111111111111111111111111111111111111111\"}]}",
                 &num, &a),
             1);
    T_EQ_INT(num, 1);
    T_CHECK(has_anomaly(&a, "duplicate-member"));
}

static ww_jsonrpc_req_info prefix_req(const char *body, size_t n, size_t *num, anom *a)
{
    ww_jsonrpc_req_info info;
    memset(a, 0, sizeof *a);
    *num = WW_ARRAY_LEN(WC);
    (void)ww_jsonrpc_decode_request_prefix(WC, num, t_guard(body, n), n, true, 64, &info,
                                           on_anomaly, a);
    return info;
}

T_CASE(rpc_prefix_bodies)
{
    size_t num;
    anom a;
    ww_jsonrpc_req_info info;
    char *body = malloc(1u << 20);
    T_CHECK(body != NULL);
    if (body == NULL)
        return;
    /* the call, then padding past the cap: decoded, nothing unchecked */
    const char *raw = raw_request(2, SIG_OK, "9");
    size_t rl = strlen(raw);
    memcpy(body, raw, rl);
    memset(body + rl, ' ', 4096);
    info = prefix_req(body, rl + 4096, &num, &a);
    T_EQ_INT(num, 1);
    T_CHECK(!info.unchecked);
    /* cut inside a trailing junk member: still decoded */
    memcpy(body, raw, rl - 1);
    memcpy(body + rl - 1, ",\"pad\":\"aaaa", 12);
    info = prefix_req(body, rl + 11, &num, &a);
    T_EQ_INT(num, 1);
    T_EQ_STR(WC[0].kind, "erc20-transfer");
    T_CHECK(!info.unchecked);
    /* padding first: nothing to decode, a body too big to check */
    memset(body, ' ', 8192);
    info = prefix_req(body, 8192, &num, &a);
    T_EQ_INT(num, 0);
    T_CHECK(info.unchecked);
    T_CHECK(has_anomaly(&a, "unchecked-body"));
    /* junk member first, cut inside it */
    info = prefix_req("{\"id\":1,\"pad\":[1,2,3,4", 22, &num, &a);
    T_CHECK(info.unchecked);
    /* cut inside params of a wallet method */
    info = prefix_req(raw, rl / 2, &num, &a);
    T_EQ_INT(num, 0);
    T_CHECK(info.unchecked);
    T_EQ_INT(info.requests, 1);
    /* a method that is not a wallet call, cut: nothing unchecked */
    info = prefix_req("{\"id\":1,\"method\":\"eth_getLogs\",\"params\":[{\"a\":", 44, &num, &a);
    T_CHECK(!info.unchecked);
    T_EQ_INT(info.requests, 1);
    /* a batch cut after its first call: that one decoded, the rest unchecked */
    size_t off = 0;
    body[off++] = '[';
    memcpy(body + off, raw, rl);
    off += rl;
    body[off++] = ',';
    memcpy(body + off, raw, rl / 2);
    off += rl / 2;
    info = prefix_req(body, off, &num, &a);
    T_EQ_INT(num, 1);
    T_CHECK(info.unchecked);
    /* every cut of a request: never more than the whole, never a crash; whole = no flag */
    for (size_t k = 0; k <= rl; k++) {
        info = prefix_req(raw, k, &num, &a);
        T_CHECK(num <= 1);
        if (k == rl)
            T_CHECK(num == 1 && !info.unchecked);
        size_t n2 = WW_ARRAY_LEN(WC);
        anom a2;
        memset(&a2, 0, sizeof a2);
        int rc = ww_jsonrpc_decode_request(WC, &n2, t_guard(raw, k), k, 64, on_anomaly, &a2);
        T_CHECK(k == rl ? rc == 1 : (n2 == 0 || rc == 1));
    }
    free(body);
}

T_CASE(rpc_response_junk)
{
    ww_jsonrpc_resp r[4];
    size_t num = 4;
    char b[1000], junk[300];
    nest(junk, 130);
    snprintf(b, sizeof b, "{\"jsonrpc\":\"2.0\",\"x\":%s,\"id\":7,\"result\":\"0xabc\"}", junk);
    T_EQ_INT(ww_jsonrpc_decode_response(r, &num, (const uint8_t *)b, strlen(b), 0), 1);
    T_EQ_INT(num, 1);
    T_EQ_STR(r[0].rpc_id, "7");
    T_EQ_STR(r[0].result, "0xabc");
    /* a deep result is only "truncated" */
    num = 4;
    snprintf(b, sizeof b, "[%s,{\"id\":8,\"result\":%s}]", junk, junk);
    T_EQ_INT(ww_jsonrpc_decode_response(r, &num, (const uint8_t *)b, strlen(b), 0), 1);
    T_CHECK(r[0].result_truncated);
    T_EQ_STR(r[0].rpc_id, "8");
}
