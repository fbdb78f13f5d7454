/*
 * jsonrpc.c - JSON-RPC 2.0 wallet requests (EIP-1193 provider calls as they go to an RPC
 * node or a wallet backend) and responses.
 *
 *   {"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x02f8..."]}
 *   {"jsonrpc":"2.0","id":2,"method":"eth_sendTransaction",
 *    "params":[{"from":"0x..","to":"0x..","value":"0x..","data":"0x..","chainId":"0x1"}]}
 *   [ {...}, {...} ]   (batch)
 *
 * The body is walked by a bounded scanner (below): only the members a wallet call needs are
 * built with cJSON, each depth- and size-limited, so cJSON (whose parser recurses) never sees
 * a hostile nesting, and junk beside a call hides nothing.
 */
#include <cjson/cJSON.h>

#include "decode/evm_int.h"
#include "decode/solana_int.h"
#include "decode/wallet_int.h"

#define DEFAULT_DEPTH 64
#define MAX_BATCH 1024 /* requests looked at in one batch; the rest are counted only */

/* ---- a bounded JSON scanner: spans, depth, no recursion, nothing built ----
 *
 * The body is walked once at the top (a request object, or a batch of them): each member is
 * skipped by counting brackets outside strings, whatever its depth or size, and only the
 * members a wallet call needs (method, params, id, a Solana payload) are built, each with
 * cJSON limits of its own (build_pruned). So a junk member beside them, deep or huge, costs a
 * pass over its bytes and an anomaly, and hides nothing. The skipper counts brackets of both
 * kinds alike: a mismatched junk member ("[}") is accepted as balanced, which at worst decodes
 * a call that a strict node would refuse as invalid JSON. */

enum { SK_OK = 0, SK_TRUNC = 1, SK_BAD = 2 };

static size_t skip_ws(const uint8_t *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* p[i] == '"': *i past the closing quote. */
static int skip_string(const uint8_t *p, size_t n, size_t *i)
{
    for (size_t j = *i + 1; j < n; j++) {
        if (p[j] == '\\') {
            j++;
        } else if (p[j] == '"') {
            *i = j + 1;
            return SK_OK;
        } else if (p[j] < 0x20) {
            return SK_BAD;
        }
    }
    return SK_TRUNC;
}

static bool scalar_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '+' || c == '-' || c == '.';
}

/* Skips the value at p[*i] (whitespace already skipped). *depth: the deepest bracket nesting
 * inside it (0 for a scalar), also on SK_TRUNC (what was seen). */
static int skip_value(const uint8_t *p, size_t n, size_t *i, int *depth)
{
    size_t j = *i;
    *depth = 0;
    if (j >= n)
        return SK_TRUNC;
    if (p[j] == '"')
        return skip_string(p, n, i);
    if (p[j] != '{' && p[j] != '[') {
        while (j < n && scalar_char(p[j]))
            j++;
        if (j == *i)
            return SK_BAD;
        *i = j;
        return SK_OK; /* a scalar ending the input is checked by whoever needs it whole */
    }
    int d = 0;
    for (; j < n; j++) {
        uint8_t c = p[j];
        if (c == '"') {
            int rc = skip_string(p, n, &j);
            if (rc != SK_OK)
                return rc;
            j--; /* the loop's j++ */
        } else if (c == '{' || c == '[') {
            if (++d > *depth)
                *depth = d;
        } else if (c == '}' || c == ']') {
            if (--d == 0) {
                *i = j + 1;
                return SK_OK;
            }
        }
    }
    return SK_TRUNC;
}

/* ---- building a member: cJSON, depth- and size-limited, iterative ----
 * Containers nested deeper than keep_depth below the member, and any container or non-string
 * scalar once `budget` nodes were built, are skipped: left out of an object, null in an array
 * (so indexes keep their meaning); *pruned counts them. Strings are built up to 4 * budget
 * nodes (an address or hex field after junk still counts). Returns NULL on invalid JSON or
 * OOM; the value must be complete in p[0..n). */
#define BUILD_MAX_DEPTH 64
#define BUILD_BUDGET ((size_t)1 << 17)

static cJSON *parse_leaf(const uint8_t *p, size_t n)
{
    return cJSON_ParseWithLength((const char *)p, n);
}

static cJSON *build_pruned(const uint8_t *p, size_t n, int keep_depth, size_t budget,
                           size_t *pruned)
{
    cJSON *stack[BUILD_MAX_DEPTH + 1];
    int sp = 0, d;
    size_t i = skip_ws(p, n, 0), nodes = 0;
    cJSON *root = NULL, *key = NULL;

    if (keep_depth > BUILD_MAX_DEPTH)
        keep_depth = BUILD_MAX_DEPTH;
    for (;;) {
        /* a value at p[i]; its parent is stack[sp-1] (with `key` when an object) */
        cJSON *v = NULL;
        bool container = i < n && (p[i] == '{' || p[i] == '[');
        bool is_str = i < n && p[i] == '"';
        bool opened = false;
        size_t s = i;
        if (sp > 0 && ((container && sp >= keep_depth) || (!is_str && nodes >= budget) ||
                       (is_str && nodes >= 4 * budget))) {
            if (skip_value(p, n, &i, &d) != SK_OK)
                goto bad;
            ++*pruned;
            if (cJSON_IsArray(stack[sp - 1]) && (v = cJSON_CreateNull()) == NULL)
                goto bad;
        } else if (container) {
            v = p[i] == '{' ? cJSON_CreateObject() : cJSON_CreateArray();
            if (v == NULL)
                goto bad;
            opened = true;
            i++;
        } else {
            if (skip_value(p, n, &i, &d) != SK_OK || (v = parse_leaf(p + s, i - s)) == NULL)
                goto bad;
        }
        if (v != NULL) {
            nodes++;
            if (sp == 0) {
                root = v;
            } else if (cJSON_IsArray(stack[sp - 1])) {
                if (!cJSON_AddItemToArray(stack[sp - 1], v)) {
                    cJSON_Delete(v);
                    goto bad;
                }
            } else if (!cJSON_AddItemToObject(stack[sp - 1], key->valuestring, v)) {
                cJSON_Delete(v);
                goto bad;
            }
        }
        cJSON_Delete(key);
        key = NULL;
        bool want_member = false;
        if (opened) {
            stack[sp++] = v;
            i = skip_ws(p, n, i);
            if (i < n && (p[i] == '}' || p[i] == ']')) {
                if ((p[i] == '}') != cJSON_IsObject(v))
                    goto bad;
                sp--;
                i++;
            } else {
                want_member = true;
            }
        }
        /* after a value: ',' or the end of its container */
        while (!want_member) {
            if (sp == 0)
                return root;
            i = skip_ws(p, n, i);
            if (i >= n)
                goto bad;
            if (p[i] == ',') {
                i++;
                break;
            }
            if ((p[i] != '}' && p[i] != ']') || (p[i] == '}') != cJSON_IsObject(stack[sp - 1]))
                goto bad;
            sp--;
            i++;
        }
        i = skip_ws(p, n, i);
        if (cJSON_IsObject(stack[sp - 1])) {
            size_t ks = i;
            if (i >= n || p[i] != '"' || skip_string(p, n, &i) != SK_OK)
                goto bad;
            key = parse_leaf(p + ks, i - ks);
            if (!cJSON_IsString(key))
                goto bad;
            i = skip_ws(p, n, i);
            if (i >= n || p[i] != ':')
                goto bad;
            i = skip_ws(p, n, i + 1);
        }
    }
bad:
    cJSON_Delete(key);
    cJSON_Delete(root);
    return NULL;
}

/* ---- walking one object's members ---- */
typedef struct span {
    bool present;
    size_t off, len;
    int depth;  /* bracket nesting inside the value (0: a scalar) */
} span;

enum { K_METHOD, K_PARAMS, K_ID, K_TRANSACTION, K_MESSAGE, K_SERIALIZED, K_RESULT, K_ERROR,
       K_COUNT };
static const char *const key_names[K_COUNT] = {"method",  "params",  "id",
                                               "transaction", "message", "serializedTransaction",
                                               "result", "error"};

typedef struct objscan {
    span m[K_COUNT];
    size_t n_deep;      /* members skipped as nested deeper than the limit */
    size_t n_dup;       /* a wanted member given twice (the last one counts, as JSON.parse) */
    int status;         /* SK_OK (object closed), SK_TRUNC (input ended inside), SK_BAD */
    size_t end;         /* past the closing brace when SK_OK */
} objscan;

/* The key at p[*i] (a string): which wanted member, or -1. Escapes are decoded (a key
 * written "met\u0068od" is "method" to a server too). */
static int key_of(const uint8_t *p, size_t n, size_t *i, int *st)
{
    size_t s = *i;
    *st = skip_string(p, n, i);
    if (*st != SK_OK)
        return -1;
    size_t len = *i - s - 2;
    const uint8_t *k = p + s + 1;
    int which = -1;
    if (memchr(k, '\\', len) != NULL && len < 256) {
        cJSON *kj = parse_leaf(p + s, *i - s);
        if (cJSON_IsString(kj))
            for (int w = 0; w < K_COUNT; w++)
                if (strcmp(kj->valuestring, key_names[w]) == 0)
                    which = w;
        cJSON_Delete(kj);
        return which;
    }
    for (int w = 0; w < K_COUNT; w++)
        if (strlen(key_names[w]) == len && memcmp(k, key_names[w], len) == 0)
            return w;
    return -1;
}

/* An unknown request member nested deeper than this is reported (json-too-deep) even within
 * max_depth: no wallet or node API has one; a hostile sender pads with it. */
#define JUNK_DEPTH 32

/* p[i] == '{' at nesting `base` (1 for a body's own object, 2 in a batch). */
static void scan_object(objscan *o, const uint8_t *p, size_t n, size_t i, int base,
                        int max_depth)
{
    memset(o, 0, sizeof *o);
    i = skip_ws(p, n, i + 1);
    if (i < n && p[i] == '}') {
        o->end = i + 1;
        return;
    }
    for (;;) {
        int st, d;
        if (i >= n) {
            o->status = SK_TRUNC;
            return;
        }
        if (p[i] != '"') {
            o->status = SK_BAD;
            return;
        }
        int which = key_of(p, n, &i, &st);
        if (st != SK_OK) {
            o->status = st;
            return;
        }
        i = skip_ws(p, n, i);
        if (i >= n || p[i] != ':') {
            o->status = i >= n ? SK_TRUNC : SK_BAD;
            return;
        }
        i = skip_ws(p, n, i + 1);
        size_t vs = i;
        st = skip_value(p, n, &i, &d);
        if (base + d > max_depth || (which < 0 && d > JUNK_DEPTH))
            o->n_deep++;
        if (st != SK_OK) {
            o->status = st;
            return;
        }
        if (which >= 0) {
            if (o->m[which].present)
                o->n_dup++;
            o->m[which] = (span){true, vs, i - vs, d};
        }
        i = skip_ws(p, n, i);
        if (i >= n) {
            o->status = SK_TRUNC;
            return;
        }
        if (p[i] == '}') {
            o->end = i + 1;
            return;
        }
        if (p[i] != ',') {
            o->status = SK_BAD;
            return;
        }
        i = skip_ws(p, n, i + 1);
    }
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
    } else {
        if (ww_evm_decode_calldata(wc, data, dn, &why) != WW_OK)
            anomaly(d, "evm", "bad-calldata", why);
        if (ww_evm_decode_selfcall(wc, data, dn) == WW_E_INVALID)
            anomaly(d, "evm", "bad-calldata", "self-call arguments malformed");
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
    uint8_t *buf = ww_malloc(NULL, SOL_TX_MAX); /* no static buffer: reentrant */
    if (buf == NULL) {
        anomaly(d, "jsonrpc", "out-of-memory", "Solana transaction not decoded");
        return false;
    }
    ssize_t n = ww_solana_tx_bytes(buf, SOL_TX_MAX, s, strlen(s), enc);
    if (n <= 0) {
        ww_free(NULL, buf);
        anomaly(d, "jsonrpc", "bad-params", "transaction is not base58/base64");
        return false;
    }
    bool keep = ww_decode_solana_tx(wc, buf, (size_t)n, allow_message, d->fn, d->ud);
    ww_free(NULL, buf);
    return keep;
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

static bool is_wallet_method(const char *method)
{
    bool sol_rpc;
    return strcmp(method, "eth_sendTransaction") == 0 ||
           strcmp(method, "eth_signTransaction") == 0 ||
           strcmp(method, "eth_sendRawTransaction") == 0 || is_solana_method(method, &sol_rpc) ||
           strcmp(method, "personal_sign") == 0 || strcmp(method, "eth_sign") == 0 ||
           strncmp(method, "eth_signTypedData", 17) == 0 ||
           strcmp(method, "wallet_sendCalls") == 0 ||
           strcmp(method, "eth_sendUserOperation") == 0;
}

#define LEAF_MAX ((size_t)4 << 20) /* a string member built whole (a raw tx with blobs fits) */

typedef struct reqscan {
    rpcdec d;
    ww_wallet_call *out;
    size_t cap, count;
    bool overflow;
    int max_depth;
    bool prefix;
    ww_jsonrpc_req_info info;
} reqscan;

/* Adds member w of o (a string or small scalar) to obj. */
static void add_leaf(cJSON *obj, const objscan *o, int w, const uint8_t *p)
{
    if (!o->m[w].present || o->m[w].len > LEAF_MAX || o->m[w].depth > 0)
        return;
    cJSON *v = parse_leaf(p + o->m[w].off, o->m[w].len);
    if (v != NULL && !cJSON_AddItemToObject(obj, key_names[w], v))
        cJSON_Delete(v);
}

/* The method of a scanned object: "" when absent, not a string, or too long to be one we
 * know (still a request then when a string). */
static bool method_of(char *out, size_t cap, const objscan *o, const uint8_t *p)
{
    out[0] = '\0';
    if (!o->m[K_METHOD].present || p[o->m[K_METHOD].off] != '"')
        return false;
    if (o->m[K_METHOD].len < 256) {
        cJSON *v = parse_leaf(p + o->m[K_METHOD].off, o->m[K_METHOD].len);
        if (cJSON_IsString(v))
            snprintf(out, cap, "%s", v->valuestring);
        cJSON_Delete(v);
    }
    return true;
}

/* One scanned request object (complete, or cut by the prefix with method and params whole).
 * Returns 1 when it is a JSON-RPC request (or a bare Solana payload), else 0. */
static int request_of(reqscan *r, const objscan *o, const uint8_t *p, int base)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL) {
        anomaly(&r->d, "jsonrpc", "out-of-memory", "request not decoded");
        return 0;
    }
    add_leaf(obj, o, K_METHOD, p);
    add_leaf(obj, o, K_ID, p);
    add_leaf(obj, o, K_TRANSACTION, p);
    add_leaf(obj, o, K_MESSAGE, p);
    add_leaf(obj, o, K_SERIALIZED, p);
    const span *ps = &o->m[K_PARAMS];
    char method[64];
    bool has_method = method_of(method, sizeof method, o, p);
    if (ps->present && (!has_method || is_wallet_method(method))) {
        size_t pruned = 0;
        cJSON *v = build_pruned(p + ps->off, ps->len, r->max_depth - base, BUILD_BUDGET, &pruned);
        if (v == NULL) {
            anomaly(&r->d, "jsonrpc", "invalid-json", "params");
        } else if (!cJSON_AddItemToObject(obj, "params", v)) {
            cJSON_Delete(v);
        }
        if (pruned > 0) {
            r->info.n_pruned += pruned;
            anomaly(&r->d, "jsonrpc", "json-pruned",
                    "params: values nested too deep or over the size budget were skipped");
        }
    }
    int k = decode_one(&r->d, obj, r->out, r->cap, &r->count, &r->overflow);
    cJSON_Delete(obj);
    return k;
}

static void note_scan(reqscan *r, const objscan *o)
{
    if (o->n_deep > 0) {
        r->info.n_skipped_deep += o->n_deep;
        anomaly(&r->d, "jsonrpc", "json-too-deep",
                "a member nested deeper than the limit was skipped");
    }
    if (o->n_dup > 0)
        anomaly(&r->d, "jsonrpc", "duplicate-member",
                "a request member given twice (the last one is decoded)");
}

/* An object at p[i] (nesting `base`). Returns requests seen; *st: SK_* of the scan, *end. */
static int request_object(reqscan *r, const uint8_t *p, size_t n, size_t i, int base,
                          bool decode, int *st, size_t *end)
{
    objscan o;
    char method[64];
    scan_object(&o, p, n, i, base, r->max_depth);
    note_scan(r, &o);
    *st = o.status;
    *end = o.end;
    bool has_method = method_of(method, sizeof method, &o, p);
    if (o.status == SK_BAD)
        return 0;
    if (o.status == SK_TRUNC) {
        if (!r->prefix)
            return 0;
        /* cut by the cap: decode what is whole; say when a wallet call may be past it */
        bool wallet = has_method && is_wallet_method(method);
        if (has_method && !wallet)
            return 1;
        if (wallet && o.m[K_PARAMS].present && decode)
            return request_of(r, &o, p, base);
        r->info.unchecked = true;
        return has_method ? 1 : 0;
    }
    if (!decode)
        return has_method ? 1 : 0;
    return request_of(r, &o, p, base);
}

int ww_jsonrpc_decode_request_prefix(ww_wallet_call *out, size_t *num, const uint8_t *body,
                                     size_t n, bool prefix, int max_depth,
                                     ww_jsonrpc_req_info *info, ww_decode_anomaly_fn anomaly_fn,
                                     void *ud)
{
    reqscan r;
    int seen = 0, st = SK_OK, d;
    size_t i, end;

    WW_ASSERT(num != NULL && (out != NULL || *num == 0));
    memset(&r, 0, sizeof r);
    r.d = (rpcdec){anomaly_fn, ud};
    r.out = out;
    r.cap = *num;
    r.max_depth = max_depth <= 0 ? DEFAULT_DEPTH : max_depth;
    r.prefix = prefix;
    *num = 0;

    i = skip_ws(body, n, 0);
    if (i >= n) {
        if (prefix && n > 0)
            r.info.unchecked = true; /* only whitespace before the cut */
        else
            anomaly(&r.d, "jsonrpc", "invalid-json", NULL);
    } else if (body[i] == '{') {
        seen = request_object(&r, body, n, i, 1, true, &st, &end);
    } else if (body[i] == '[') {
        int looked = 0;
        i = skip_ws(body, n, i + 1);
        if (i < n && body[i] == ']')
            i = n + 1; /* empty batch */
        while (i < n) {
            if (body[i] == '{') {
                seen += request_object(&r, body, n, i, 2, looked < MAX_BATCH, &st, &end);
                if (looked++ >= MAX_BATCH)
                    r.overflow = true;
                if (st != SK_OK)
                    break;
                i = end;
            } else {
                st = skip_value(body, n, &i, &d);
                if (1 + d > r.max_depth) {
                    r.info.n_skipped_deep++;
                    anomaly(&r.d, "jsonrpc", "json-too-deep",
                            "a batch element nested deeper than the limit was skipped");
                }
                if (st != SK_OK)
                    break;
            }
            i = skip_ws(body, n, i);
            if (i >= n) {
                st = SK_TRUNC;
                break;
            }
            if (body[i] == ']')
                break;
            if (body[i] != ',') {
                st = SK_BAD;
                break;
            }
            i = skip_ws(body, n, i + 1);
            if (i >= n)
                st = SK_TRUNC;
        }
        if (st == SK_TRUNC && prefix)
            r.info.unchecked = true; /* the batch goes on past the cut */
    } else {
        /* a bare scalar: JSON, but not JSON-RPC */
        size_t s = i;
        st = skip_value(body, n, &i, &d);
        cJSON *v = st == SK_OK ? parse_leaf(body + s, i - s) : NULL;
        if (v == NULL && !prefix)
            st = SK_BAD;
        cJSON_Delete(v);
    }
    if (st == SK_BAD || (st == SK_TRUNC && !prefix))
        anomaly(&r.d, "jsonrpc", "invalid-json", st == SK_TRUNC ? "ends inside a value" : NULL);
    if (r.overflow)
        anomaly(&r.d, "jsonrpc", "batch-too-large", "wallet calls over capacity were dropped");
    if (r.info.unchecked)
        anomaly(&r.d, "jsonrpc", "unchecked-body",
                "a request that may be a wallet call goes on past the body cap");
    r.info.requests = seen;
    if (info != NULL)
        *info = r.info;
    *num = r.count;
    if (seen > 0)
        return seen;
    return r.info.n_skipped_deep > 0 ? WW_E_DEPTH : WW_E_INVALID;
}

int ww_jsonrpc_decode_request(ww_wallet_call *out, size_t *num, const uint8_t *body, size_t n,
                              int max_depth, ww_decode_anomaly_fn anomaly_fn, void *ud)
{
    return ww_jsonrpc_decode_request_prefix(out, num, body, n, false, max_depth, NULL,
                                            anomaly_fn, ud);
}

/* ---- responses ---- */

#define RESULT_SPAN_MAX ((size_t)64 << 10) /* a result longer than this is only "truncated" */

/* One scanned response object. Returns 1 when it has a result or an error, else 0. */
static int decode_resp(const objscan *o, const uint8_t *p, int base, int max_depth,
                       ww_jsonrpc_resp *r)
{
    const span *res = &o->m[K_RESULT], *err = &o->m[K_ERROR];
    if (!res->present && !err->present)
        return 0;
    if (r == NULL)
        return 1;
    memset(r, 0, sizeof *r);
    if (o->m[K_ID].present && o->m[K_ID].len < 256) {
        cJSON *id = parse_leaf(p + o->m[K_ID].off, o->m[K_ID].len);
        id_text(r->rpc_id, sizeof r->rpc_id, id);
        cJSON_Delete(id);
    }
    size_t pruned = 0;
    if (err->present && !(err->len == 4 && memcmp(p + err->off, "null", 4) == 0)) {
        cJSON *e = build_pruned(p + err->off, err->len, max_depth - base, BUILD_BUDGET, &pruned);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
        const char *m = get_str(e, "message", NULL);
        r->is_error = true;
        if (cJSON_IsNumber(c) && c->valuedouble >= -9.2e18 && c->valuedouble <= 9.2e18)
            r->error_code = (int64_t)c->valuedouble;
        if (m != NULL)
            copy_str(r->error_msg, sizeof r->error_msg, m);
        cJSON_Delete(e);
        return 1;
    }
    if (!res->present || res->len > RESULT_SPAN_MAX) {
        r->result_truncated = true;
        return 1;
    }
    cJSON *v = build_pruned(p + res->off, res->len, max_depth - base, BUILD_BUDGET, &pruned);
    if (v == NULL || pruned > 0) {
        r->result_truncated = true;
    } else if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) >= sizeof r->result)
            r->result_truncated = true;
        else
            copy_str(r->result, sizeof r->result, v->valuestring);
    } else if (!json_text(r->result, sizeof r->result, v)) {
        r->result_truncated = true;
    }
    cJSON_Delete(v);
    return 1;
}

int ww_jsonrpc_decode_response(ww_jsonrpc_resp *out, size_t *num, const uint8_t *body, size_t n,
                               int max_depth)
{
    size_t cap, count = 0, i, deep = 0;
    int seen = 0, d;
    objscan o;

    WW_ASSERT(num != NULL && (out != NULL || *num == 0));
    cap = *num;
    *num = 0;
    if (max_depth <= 0)
        max_depth = DEFAULT_DEPTH;
    i = skip_ws(body, n, 0);
    if (i < n && body[i] == '{') {
        scan_object(&o, body, n, i, 1, max_depth);
        deep = o.n_deep;
        if (o.status == SK_OK) {
            seen = decode_resp(&o, body, 1, max_depth, cap > 0 ? &out[0] : NULL);
            count = (seen && cap > 0) ? 1 : 0;
        }
    } else if (i < n && body[i] == '[') {
        i = skip_ws(body, n, i + 1);
        while (i < n && body[i] != ']') {
            int st;
            if (body[i] == '{') {
                scan_object(&o, body, n, i, 2, max_depth);
                deep += o.n_deep;
                st = o.status;
                if (st == SK_OK) {
                    int k = decode_resp(&o, body, 2, max_depth, count < cap ? &out[count] : NULL);
                    seen += k;
                    if (k && count < cap)
                        count++;
                    i = o.end;
                }
            } else {
                st = skip_value(body, n, &i, &d);
                if (1 + d > max_depth)
                    deep++;
            }
            if (st != SK_OK)
                break;
            i = skip_ws(body, n, i);
            if (i < n && body[i] == ',')
                i = skip_ws(body, n, i + 1);
            else
                break;
        }
    }
    *num = count;
    if (seen > 0)
        return seen;
    return deep > 0 ? WW_E_DEPTH : WW_E_INVALID;
}
