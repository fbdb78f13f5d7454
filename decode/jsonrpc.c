/*
 * jsonrpc.c - JSON-RPC 2.0 wallet requests (EIP-1193 provider calls as they go to an RPC
 * node or a wallet backend) and responses.
 *
 *   {"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x02f8..."]}
 *   {"jsonrpc":"2.0","id":2,"method":"eth_sendTransaction",
 *    "params":[{"from":"0x..","to":"0x..","value":"0x..","data":"0x..","chainId":"0x1"}]}
 *   [ {...}, {...} ]   (batch)
 *
 * The body is first pre-scanned for nesting depth (brackets outside strings) so that cJSON,
 * whose parser recurses, never sees more than max_depth levels.
 */
#include <cjson/cJSON.h>

#include "decode/evm_int.h"
#include "decode/solana_int.h"
#include "decode/wallet_int.h"

#define DEFAULT_DEPTH 64
#define MAX_BATCH 1024 /* requests looked at in one batch; the rest are counted only */

/* Returns WW_OK when no bracket nests deeper than max_depth, else WW_E_DEPTH. */
static int depth_prescan(const uint8_t *p, size_t n, int max_depth)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return WW_E_DEPTH;
        } else if (c == ']' || c == '}') {
            if (depth > 0)
                depth--;
        }
    }
    return WW_OK;
}

typedef struct rpcdec {
    ww_decode_anomaly_fn fn;
    void *ud;
} rpcdec;

static void anomaly(const rpcdec *d, const char *layer, const char *type, const char *detail)
{
    if (d->fn != NULL)
        d->fn(d->ud, layer, type, detail);
}

static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
}

/* Compact JSON text of v into out; false when it does not fit. cJSON asks for some slack
 * in a preallocated buffer, hence the larger scratch. */
static bool json_text(char *out, size_t cap, const cJSON *v)
{
    char tmp[WW_JSONRPC_RESULT_MAX + 64];
    out[0] = '\0';
    if (!cJSON_PrintPreallocated((cJSON *)v, tmp, (int)sizeof tmp, false))
        return false;
    if (strlen(tmp) >= cap)
        return false;
    memcpy(out, tmp, strlen(tmp) + 1);
    return true;
}

static void id_text(char *out, size_t cap, const cJSON *id)
{
    out[0] = '\0';
    if (id != NULL)
        (void)json_text(out, cap, id); /* "" when it does not fit: cannot be matched anyway */
}

static bool u256_to_u64(const ww_u256 *v, uint64_t *out)
{
    uint64_t x = 0;
    for (int i = 0; i < 24; i++)
        if (v->be[i] != 0)
            return false;
    for (int i = 24; i < 32; i++)
        x = (x << 8) | v->be[i];
    *out = x;
    return true;
}

static const char *get_str(const cJSON *o, const char *k, bool *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (present != NULL)
        *present = v != NULL && !cJSON_IsNull(v);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* eth_sendTransaction / eth_signTransaction: params[0] is the transaction object. */
static bool decode_tx_object(const rpcdec *d, ww_wallet_call *wc, const cJSON *params)
{
    const cJSON *tx = cJSON_IsArray(params) ? cJSON_GetArrayItem(params, 0) : NULL;
    const char *s, *why = NULL;
    bool present;
    ww_u256 v;

    if (!cJSON_IsObject(tx)) {
        anomaly(d, "jsonrpc", "bad-params", "params[0] is not a transaction object");
        return false;
    }
    wc->signature_valid = -1;
    s = get_str(tx, "from", &present);
    if (s != NULL && ww_addr_parse(&wc->from, WW_CHAIN_EVM, s, strlen(s)) == WW_OK)
        wc->has_from = true;
    else if (present)
        anomaly(d, "jsonrpc", "bad-address", "from");
    s = get_str(tx, "to", &present);
    bool bad_to = false;
    if (s != NULL && ww_addr_parse(&wc->to, WW_CHAIN_EVM, s, strlen(s)) == WW_OK) {
        wc->has_to = true;
    } else if (present) {
        anomaly(d, "jsonrpc", "bad-address", "to");
        bad_to = true;
    }
    s = get_str(tx, "value", &present);
    if (s != NULL && ww_u256_from_quantity(&v, s))
        ww_u256_to_dec(wc->value, &v);
    else if (present)
        anomaly(d, "jsonrpc", "bad-params", "value is not a hex quantity");
    s = get_str(tx, "chainId", &present);
    if (s != NULL && ww_u256_from_quantity(&v, s) && u256_to_u64(&v, &wc->chain_id))
        wc->has_chain_id = true;
    else if (present)
        anomaly(d, "jsonrpc", "bad-params", "chainId is not a hex quantity");

    /* geth: "input" wins over "data" */
    bool has_input;
    s = get_str(tx, "input", &has_input);
    if (!has_input)
        s = get_str(tx, "data", &present);
    else
        present = true;
    size_t dn = 0;
    uint8_t *data = NULL;
    if (s != NULL)
        data = ww_hex_dup0x(s, &dn);
    if (present && data == NULL) {
        anomaly(d, "jsonrpc", "bad-calldata", "data is not hex");
        copy_str(wc->kind, sizeof wc->kind, "contract-call");
        return true;
    }
    if (bad_to) {
        copy_str(wc->kind, sizeof wc->kind, "contract-call");
        if (data != NULL && dn >= 4)
            snprintf(wc->selector, sizeof wc->selector, "0x%02x%02x%02x%02x", data[0], data[1],
                     data[2], data[3]);
    } else if (ww_evm_decode_calldata(wc, data, dn, &why) != WW_OK) {
        anomaly(d, "evm", "bad-calldata", why);
    }
    ww_free(NULL, data);
    return true;
}

static bool decode_raw(const rpcdec *d, ww_wallet_call *wc, const cJSON *params)
{
    const cJSON *p0 = cJSON_IsArray(params) ? cJSON_GetArrayItem(params, 0) : NULL;
    size_t n;
    uint8_t *raw;

    if (!cJSON_IsString(p0) || (raw = ww_hex_dup0x(p0->valuestring, &n)) == NULL) {
        anomaly(d, "jsonrpc", "bad-params", "params[0] is not a hex string");
        return false;
    }
    bool keep = ww_decode_evm_tx(wc, raw, n, d->fn, d->ud);
    ww_free(NULL, raw);
    return keep;
}

/* ---- Solana ---- */

#define SOL_TX_MAX 8192 /* a wire transaction is at most 1232 bytes; be generous */

/* Decodes a serialized transaction given as text. enc: "base58", "base64", or NULL = try
 * base58 then base64. */
static bool decode_sol_text(const rpcdec *d, ww_wallet_call *wc, const char *s, const char *enc,
                            bool allow_message)
{
    static uint8_t buf[SOL_TX_MAX];
    ssize_t n = ww_solana_tx_bytes(buf, sizeof buf, s, strlen(s), enc);
    if (n <= 0) {
        anomaly(d, "jsonrpc", "bad-params", "transaction is not base58/base64");
        return false;
    }
    return ww_decode_solana_tx(wc, buf, (size_t)n, allow_message, d->fn, d->ud);
}

static const char *sol_tx_field(const cJSON *o)
{
    const char *s = get_str(o, "transaction", NULL);
    if (s == NULL)
        s = get_str(o, "message", NULL);
    if (s == NULL)
        s = get_str(o, "serializedTransaction", NULL);
    return s;
}

/* sendTransaction / simulateTransaction: [tx, {encoding}]; wallet-standard forwards:
 * {transaction|message} or [tx] or [{transaction}]. */
static bool decode_solana(const rpcdec *d, ww_wallet_call *wc, const cJSON *params, bool rpc)
{
    const cJSON *p0 = cJSON_IsArray(params) ? cJSON_GetArrayItem(params, 0) : params;
    const char *tx = NULL, *enc = NULL;
    if (cJSON_IsString(p0))
        tx = p0->valuestring;
    else if (cJSON_IsObject(p0))
        tx = sol_tx_field(p0);
    if (tx == NULL) {
        anomaly(d, "jsonrpc", "bad-params", "no serialized Solana transaction");
        return false;
    }
    if (rpc) {
        const cJSON *cfg = cJSON_IsArray(params) ? cJSON_GetArrayItem(params, 1) : NULL;
        enc = cJSON_IsObject(cfg) ? get_str(cfg, "encoding", NULL) : NULL;
        if (enc == NULL)
            enc = "base58"; /* the RPC default */
    }
    return decode_sol_text(d, wc, tx, enc, !rpc);
}

static bool is_solana_method(const char *m, bool *rpc)
{
    static const char *const wallet[] = {"solana_signTransaction", "solana_signAndSendTransaction",
                                         "signTransaction", "signAndSendTransaction",
                                         "solana:signTransaction",
                                         "solana:signAndSendTransaction"};
    *rpc = strcmp(m, "sendTransaction") == 0 || strcmp(m, "simulateTransaction") == 0;
    if (*rpc)
        return true;
    for (size_t i = 0; i < WW_ARRAY_LEN(wallet); i++)
        if (strcmp(m, wallet[i]) == 0)
            return true;
    return false;
}

/* One request object. Returns 1 when it is a JSON-RPC request (has a method), else 0. */
static int decode_one(const rpcdec *d, const cJSON *o, ww_wallet_call *out, size_t cap,
                      size_t *count, bool *overflow)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
    ww_wallet_call tmp;

    if (!cJSON_IsObject(o))
        return 0;
    if (!cJSON_IsString(m)) {
        /* a wallet-standard payload forwarded to a backend: {"transaction":"<base64|58>"} */
        const char *t = sol_tx_field(o);
        if (t == NULL)
            return 0;
        if (*count >= cap) {
            *overflow = true;
            return 1;
        }
        memset(&tmp, 0, sizeof tmp);
        copy_str(tmp.method, sizeof tmp.method, "transaction");
        if (decode_sol_text(d, &tmp, t, NULL, true))
            out[(*count)++] = tmp;
        return 1;
    }
    const char *method = m->valuestring;
    bool is_tx = strcmp(method, "eth_sendTransaction") == 0 ||
                 strcmp(method, "eth_signTransaction") == 0;
    bool is_raw = strcmp(method, "eth_sendRawTransaction") == 0;
    bool sol_rpc = false, is_sol = is_solana_method(method, &sol_rpc);
    bool is_msg = strcmp(method, "personal_sign") == 0 || strcmp(method, "eth_sign") == 0;
    bool is_typed = strncmp(method, "eth_signTypedData", 17) == 0;
    bool is_multi = strcmp(method, "wallet_sendCalls") == 0 ||
                    strcmp(method, "eth_sendUserOperation") == 0;
    if (!is_tx && !is_raw && !is_sol && !is_msg && !is_typed && !is_multi)
        return 1;
    if (*count >= cap) {
        *overflow = true;
        return 1;
    }
    ww_wallet_call *wc = &tmp;
    memset(wc, 0, sizeof *wc);
    wc->chain = is_sol ? WW_CHAIN_SOLANA : WW_CHAIN_EVM;
    wc->signature_valid = -1;
    copy_str(wc->method, sizeof wc->method, method);
    id_text(wc->rpc_id, sizeof wc->rpc_id, cJSON_GetObjectItemCaseSensitive(o, "id"));
    if (is_multi) {
        /* one wallet_call per inner call (see wallet_int.h) */
        size_t room = cap - *count;
        int rc = ww_wallet_decode_multi(out + *count, &room, wc, params, d->fn, d->ud);
        *count += room;
        if (rc == WW_E_TOOBIG)
            *overflow = true;
        return 1;
    }
    bool keep;
    if (is_msg) {
        copy_str(wc->kind, sizeof wc->kind, "message");
        keep = true;
    } else if (is_typed) {
        keep = ww_eip712_decode_params(wc, params, d->fn, d->ud) == WW_OK;
    } else if (is_sol) {
        keep = decode_solana(d, wc, params, sol_rpc);
    } else {
        keep = is_tx ? decode_tx_object(d, wc, params) : decode_raw(d, wc, params);
    }
    if (keep)
        out[(*count)++] = *wc;
    return 1;
}

int ww_jsonrpc_decode_request(ww_wallet_call *out, size_t *num, const uint8_t *body, size_t n,
                              int max_depth, ww_decode_anomaly_fn anomaly_fn, void *ud)
{
    rpcdec d = {anomaly_fn, ud};
    size_t cap, count = 0;
    bool overflow = false;
    int seen = 0;
    cJSON *root;

    WW_ASSERT(num != NULL && (out != NULL || *num == 0));
    cap = *num;
    *num = 0;
    if (max_depth <= 0)
        max_depth = DEFAULT_DEPTH;
    if (depth_prescan(body, n, max_depth) != WW_OK) {
        anomaly(&d, "jsonrpc", "json-too-deep", "nesting deeper than the limit");
        return WW_E_DEPTH;
    }
    root = cJSON_ParseWithLength((const char *)body, n);
    if (root == NULL) {
        anomaly(&d, "jsonrpc", "invalid-json", NULL);
        return WW_E_INVALID;
    }
    if (cJSON_IsArray(root)) {
        const cJSON *e;
        int looked = 0;
        cJSON_ArrayForEach(e, root)
        {
            if (looked++ >= MAX_BATCH) {
                if (cJSON_IsObject(e) &&
                    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "method")))
                    seen++;
                overflow = true;
                continue;
            }
            seen += decode_one(&d, e, out, cap, &count, &overflow);
        }
    } else {
        seen = decode_one(&d, root, out, cap, &count, &overflow);
    }
    cJSON_Delete(root);
    if (overflow)
        anomaly(&d, "jsonrpc", "batch-too-large", "wallet calls over capacity were dropped");
    *num = count;
    return seen > 0 ? seen : WW_E_INVALID;
}

/* ---- responses ---- */

static int decode_resp(const cJSON *o, ww_jsonrpc_resp *r)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "result");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (!cJSON_IsObject(o) || (res == NULL && err == NULL))
        return 0;
    if (r == NULL)
        return 1;
    memset(r, 0, sizeof *r);
    id_text(r->rpc_id, sizeof r->rpc_id, cJSON_GetObjectItemCaseSensitive(o, "id"));
    if (err != NULL && !cJSON_IsNull(err)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "code");
        const char *m = get_str(err, "message", NULL);
        r->is_error = true;
        if (cJSON_IsNumber(c) && c->valuedouble >= -9.2e18 && c->valuedouble <= 9.2e18)
            r->error_code = (int64_t)c->valuedouble;
        if (m != NULL)
            copy_str(r->error_msg, sizeof r->error_msg, m);
        return 1;
    }
    if (cJSON_IsString(res)) {
        if (strlen(res->valuestring) >= sizeof r->result)
            r->result_truncated = true;
        else
            copy_str(r->result, sizeof r->result, res->valuestring);
    } else if (!json_text(r->result, sizeof r->result, res)) {
        r->result_truncated = true;
    }
    return 1;
}

int ww_jsonrpc_decode_response(ww_jsonrpc_resp *out, size_t *num, const uint8_t *body, size_t n,
                               int max_depth)
{
    size_t cap, count = 0;
    int seen = 0;
    cJSON *root;

    WW_ASSERT(num != NULL && (out != NULL || *num == 0));
    cap = *num;
    *num = 0;
    if (max_depth <= 0)
        max_depth = DEFAULT_DEPTH;
    if (depth_prescan(body, n, max_depth) != WW_OK)
        return WW_E_DEPTH;
    root = cJSON_ParseWithLength((const char *)body, n);
    if (root == NULL)
        return WW_E_INVALID;
    if (cJSON_IsArray(root)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, root)
        {
            int k = decode_resp(e, count < cap ? &out[count] : NULL);
            seen += k;
            if (k && count < cap)
                count++;
        }
    } else {
        int k = decode_resp(root, cap > 0 ? &out[0] : NULL);
        seen = k;
        count = (k && cap > 0) ? 1 : 0;
    }
    cJSON_Delete(root);
    *num = count;
    return seen > 0 ? seen : WW_E_INVALID;
}
