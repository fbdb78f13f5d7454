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

/* "0x" + 1..64 hex digits (leading zeros tolerated, as wallets send them). */
static bool hex_quantity(ww_u256 *v, const char *s)
{
    size_t n;
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    s += 2;
    n = strlen(s);
    while (n > 1 && s[0] == '0') {
        s++;
        n--;
    }
    if (n == 0 || n > 64)
        return false;
    memset(v->be, 0, 32);
    for (size_t i = 0; i < n; i++) {
        int h = ww_hex_val((unsigned char)s[n - 1 - i]);
        if (h < 0)
            return false;
        v->be[31 - i / 2] |= (uint8_t)(i & 1 ? h << 4 : h);
    }
    return true;
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

/* Decodes "0x..." hex into a fresh buffer (caller frees). NULL on bad hex or OOM. */
static uint8_t *hex_bytes(const char *s, size_t *len)
{
    size_t n;
    uint8_t *b;
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return NULL;
    s += 2;
    n = strlen(s);
    if (n % 2 != 0)
        return NULL;
    b = ww_malloc(NULL, n / 2 + 1);
    if (b == NULL)
        return NULL;
    if (ww_hex_decode(b, n / 2 + 1, s, n) != (ssize_t)(n / 2)) {
        ww_free(NULL, b);
        return NULL;
    }
    *len = n / 2;
    return b;
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
    if (s != NULL && hex_quantity(&v, s))
        ww_u256_to_dec(wc->value, &v);
    else if (present)
        anomaly(d, "jsonrpc", "bad-params", "value is not a hex quantity");
    s = get_str(tx, "chainId", &present);
    if (s != NULL && hex_quantity(&v, s) && u256_to_u64(&v, &wc->chain_id))
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
        data = hex_bytes(s, &dn);
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
    ww_evm_tx_info info;
    size_t n;
    uint8_t *raw;

    if (!cJSON_IsString(p0) || (raw = hex_bytes(p0->valuestring, &n)) == NULL) {
        anomaly(d, "jsonrpc", "bad-params", "params[0] is not a hex string");
        return false;
    }
    int rc = ww_evm_decode_raw_tx(wc, &info, raw, n);
    ww_free(NULL, raw);
    if (rc == WW_E_CRYPTO)
        anomaly(d, "evm", "bad-signature", info.error);
    else if (rc != WW_OK)
        anomaly(d, "evm", "bad-rlp", info.error ? info.error : ww_strerror(rc));
    if (info.calldata_bad)
        anomaly(d, "evm", "bad-calldata", info.calldata_error);
    if (info.n_auth_bad > 0)
        anomaly(d, "evm", "bad-signature", "EIP-7702 authorization does not recover");
    return rc == WW_OK || rc == WW_E_CRYPTO || wc->tx_hash[0] != '\0';
}

/* One request object. Returns 1 when it is a JSON-RPC request (has a method), else 0. */
static int decode_one(const rpcdec *d, const cJSON *o, ww_wallet_call *out, size_t cap,
                      size_t *count, bool *overflow)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
    ww_wallet_call tmp;

    if (!cJSON_IsObject(o) || !cJSON_IsString(m))
        return 0;
    const char *method = m->valuestring;
    bool is_tx = strcmp(method, "eth_sendTransaction") == 0 ||
                 strcmp(method, "eth_signTransaction") == 0;
    bool is_raw = strcmp(method, "eth_sendRawTransaction") == 0;
    if (!is_tx && !is_raw)
        return 1;
    if (*count >= cap) {
        *overflow = true;
        return 1;
    }
    ww_wallet_call *wc = &tmp;
    memset(wc, 0, sizeof *wc);
    wc->chain = WW_CHAIN_EVM;
    wc->signature_valid = -1;
    copy_str(wc->method, sizeof wc->method, method);
    id_text(wc->rpc_id, sizeof wc->rpc_id, cJSON_GetObjectItemCaseSensitive(o, "id"));
    bool keep = is_tx ? decode_tx_object(d, wc, params) : decode_raw(d, wc, params);
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
