/*
 * eip712.c - EIP-712 typed-data signing requests (eth_signTypedData_v3/_v4): the permits and
 * orders a page can have a wallet sign to move funds without a transaction.
 *
 *   {"types":{...},"primaryType":"PermitSingle",
 *    "domain":{"name":"Permit2","chainId":1,"verifyingContract":"0x0000..22d473..."},
 *    "message":{"details":{"token":"0x..","amount":"1461501637330902918203684832716283019655932542975",
 *               "expiration":..,"nonce":..},"spender":"0x..","sigDeadline":..}}
 *
 * Only the message fields that name who may take funds are read (see wallet_int.h); the
 * struct hash is not recomputed (nothing here is signed by us). Addresses keep their
 * EIP-55 finding (ww_addr_parse), so a mixed-case bad checksum raises bad-checksum.
 */
#include "decode/wallet_int.h"

typedef struct tdec {
    ww_wallet_call *wc;
    ww_decode_anomaly_fn fn;
    void *ud;
} tdec;

static void anomaly(const tdec *d, const char *type, const char *detail)
{
    if (d->fn != NULL)
        d->fn(d->ud, "eip712", type, detail);
}

/* A uint from a JSON number, decimal string or 0x hex string. */
static bool json_uint(ww_u256 *v, const cJSON *j)
{
    memset(v->be, 0, 32);
    if (cJSON_IsBool(j)) {
        v->be[31] = cJSON_IsTrue(j) ? 1 : 0;
        return true;
    }
    if (cJSON_IsNumber(j)) {
        if (j->valuedouble < 0 || j->valuedouble > 9007199254740991.0)
            return false;
        uint64_t x = (uint64_t)j->valuedouble;
        for (int i = 0; i < 8; i++)
            v->be[31 - i] = (uint8_t)(x >> (8 * i));
        return true;
    }
    if (!cJSON_IsString(j))
        return false;
    const char *s = j->valuestring;
    size_t n = strlen(s);
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return ww_u256_from_hex(v, s + 2, n - 2);
    if (n == 0 || n > 78)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned carry = (unsigned)(s[i] - '0');
        for (int k = 31; k >= 0; k--) {
            carry += 10u * v->be[k];
            v->be[k] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry != 0)
            return false; /* over 2^256 */
    }
    return true;
}

static bool is_max_bits(const ww_u256 *v, int bits)
{
    int zero = (256 - bits) / 8;
    for (int k = 0; k < 32; k++)
        if (v->be[k] != (k < zero ? 0x00 : 0xff))
            return false;
    return true;
}

static bool get_addr(const tdec *d, ww_addr *a, const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(j))
        return false;
    if (ww_addr_parse(a, WW_CHAIN_EVM, j->valuestring, strlen(j->valuestring)) != WW_OK) {
        anomaly(d, "bad-address", k);
        return false;
    }
    return true;
}

static void set_amount(ww_wallet_call *wc, const ww_u256 *v)
{
    if (wc->amount[0] == '\0')
        ww_u256_to_dec(wc->amount, v);
}

static void set_token(ww_wallet_call *wc, const ww_addr *t)
{
    if (!wc->has_token) {
        wc->token = *t;
        wc->has_token = true;
    }
}

static void kind(ww_wallet_call *wc, const char *k)
{
    snprintf(wc->kind, sizeof wc->kind, "%s", k);
}

/* {token, amount} of Permit2 details / permitted: the call's first token/amount, and the
 * party's own when pt is not NULL (revocation at 0). Returns true when amount is the max. */
static bool token_amount(const tdec *d, const cJSON *o, int bits, ww_party *pt)
{
    ww_addr t;
    ww_u256 v;
    bool unl = false;
    if (get_addr(d, &t, o, "token")) {
        set_token(d->wc, &t);
        if (pt != NULL) {
            pt->has_token = true;
            pt->token = t;
        }
    }
    if (json_uint(&v, cJSON_GetObjectItemCaseSensitive(o, "amount"))) {
        set_amount(d->wc, &v);
        unl = is_max_bits(&v, bits);
        if (pt != NULL) {
            ww_u256_to_dec(pt->amount, &v);
            pt->revocation = bits == 160 && ww_u256_is_zero(&v);
        }
    }
    return unl;
}

/* A SPENDER party (NULL when the call is full). */
static ww_party *spender(ww_wallet_call *wc, const ww_addr *a)
{
    if (!ww_wc_add_party(wc, WW_ROLE_SPENDER, true, false, a))
        return NULL;
    return &wc->parties[wc->n_parties - 1];
}

static void decode_message(const tdec *d, const char *ptype, const cJSON *msg)
{
    ww_wallet_call *wc = d->wc;
    ww_addr a;
    ww_u256 v;

    if (strcmp(ptype, "Permit") == 0) {
        kind(wc, "permit");
        const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(msg, "allowed");
        bool unl = false, revoke = false, has_v = false;
        if (allowed != NULL) { /* DAI: allowed=false withdraws the allowance */
            unl = cJSON_IsTrue(allowed) ||
                  (json_uint(&v, allowed) && !ww_u256_is_zero(&v));
            revoke = !unl;
        } else if (json_uint(&v, cJSON_GetObjectItemCaseSensitive(msg, "value"))) {
            set_amount(wc, &v);
            unl = ww_u256_is_max(&v);
            revoke = ww_u256_is_zero(&v);
            has_v = true;
        }
        if (wc->has_to)
            set_token(wc, &wc->to);
        ww_party *pt = get_addr(d, &a, msg, "spender") ? spender(wc, &a) : NULL;
        if (pt != NULL) {
            pt->unlimited = unl;
            pt->revocation = revoke;
            if (wc->has_to) {
                pt->has_token = true;
                pt->token = wc->to;
            }
            if (has_v)
                ww_u256_to_dec(pt->amount, &v);
        }
    } else if (strcmp(ptype, "PermitSingle") == 0 || strcmp(ptype, "PermitBatch") == 0) {
        /* one SPENDER party per token granted, each with its token, amount, unlimited */
        bool single = ptype[6] == 'S';
        bool has_sp = get_addr(d, &a, msg, "spender");
        const cJSON *det = cJSON_GetObjectItemCaseSensitive(msg, "details"), *e;
        kind(wc, single ? "permit2-single" : "permit2-batch");
        if (single && cJSON_IsObject(det)) {
            ww_party *pt = has_sp ? spender(wc, &a) : NULL;
            bool unl = token_amount(d, det, 160, pt);
            if (pt != NULL)
                pt->unlimited = unl && !pt->revocation;
        } else if (!single && cJSON_IsArray(det)) {
            int i = 0;
            cJSON_ArrayForEach(e, det)
            {
                if (i++ >= 64)
                    break;
                if (!cJSON_IsObject(e))
                    continue;
                ww_party *pt = has_sp ? spender(wc, &a) : NULL;
                bool unl = token_amount(d, e, 160, pt);
                if (pt != NULL)
                    pt->unlimited = unl && !pt->revocation;
            }
        } else if (has_sp) {
            (void)spender(wc, &a);
        }
    } else if (strcmp(ptype, "PermitTransferFrom") == 0 ||
               strcmp(ptype, "PermitWitnessTransferFrom") == 0 ||
               strcmp(ptype, "PermitBatchTransferFrom") == 0 ||
               strcmp(ptype, "PermitBatchWitnessTransferFrom") == 0) {
        /* the spender may pull each permitted token: a party per token */
        const cJSON *pm = cJSON_GetObjectItemCaseSensitive(msg, "permitted"), *e;
        bool has_sp = get_addr(d, &a, msg, "spender");
        kind(wc, "permit2-transfer");
        if (cJSON_IsObject(pm)) {
            (void)token_amount(d, pm, 256, has_sp ? spender(wc, &a) : NULL);
        } else if (cJSON_IsArray(pm) && cJSON_GetArraySize(pm) > 0) {
            int i = 0;
            cJSON_ArrayForEach(e, pm)
            {
                if (i++ >= 64)
                    break;
                if (cJSON_IsObject(e))
                    (void)token_amount(d, e, 256, has_sp ? spender(wc, &a) : NULL);
            }
        } else if (has_sp) {
            (void)spender(wc, &a);
        }
    } else if (strcmp(ptype, "OrderComponents") == 0 || strcmp(ptype, "BulkOrder") == 0) {
        ww_addr off;
        bool has_off = get_addr(d, &off, msg, "offerer");
        const cJSON *cons = cJSON_GetObjectItemCaseSensitive(msg, "consideration"), *e;
        int i = 0;
        kind(wc, "seaport-order");
        if (!cJSON_IsArray(cons))
            cons = NULL;
        cJSON_ArrayForEach(e, cons)
        {
            if (i++ >= 64)
                break;
            if (!cJSON_IsObject(e) || !get_addr(d, &a, e, "recipient"))
                continue;
            if (has_off && ww_addr_eq(&a, &off))
                continue; /* the signer paid back: not a party to weigh */
            (void)ww_wc_add_party(wc, WW_ROLE_RECIPIENT, true, false, &a);
        }
    } else {
        kind(wc, "typed-data");
    }
}

static int decode_typed(const tdec *d, const cJSON *td)
{
    ww_wallet_call *wc = d->wc;
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(td, "domain");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(td, "primaryType");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(td, "message");
    ww_u256 v;

    if (!cJSON_IsObject(msg) || !cJSON_IsString(pt)) {
        anomaly(d, "bad-typed-data", "no primaryType/message");
        return WW_E_INVALID;
    }
    if (cJSON_IsObject(dom)) {
        if (json_uint(&v, cJSON_GetObjectItemCaseSensitive(dom, "chainId"))) {
            uint64_t x = 0;
            bool fits = true;
            for (int i = 0; i < 24; i++)
                fits = fits && v.be[i] == 0;
            for (int i = 24; i < 32; i++)
                x = (x << 8) | v.be[i];
            if (fits) {
                wc->chain_id = x;
                wc->has_chain_id = true;
            }
        }
        if (get_addr(d, &wc->to, dom, "verifyingContract")) {
            wc->has_to = true;
            (void)ww_wc_add_party(wc, WW_ROLE_TO, false, false, &wc->to);
        }
    }
    decode_message(d, pt->valuestring, msg);
    return WW_OK;
}

int ww_eip712_decode_params(ww_wallet_call *wc, const cJSON *params,
                            ww_decode_anomaly_fn anomaly_fn, void *ud)
{
    tdec d = {wc, anomaly_fn, ud};
    const cJSON *e, *typed = NULL, *orig = params;
    cJSON *parsed = NULL;
    int rc, i = 0;

    wc->chain = WW_CHAIN_EVM;
    snprintf(wc->kind, sizeof wc->kind, "typed-data");
    if (!cJSON_IsArray(params))
        params = NULL;
    cJSON_ArrayForEach(e, params)
    {
        if (i++ >= 4)
            break;
        if (cJSON_IsObject(e)) {
            typed = e;
        } else if (cJSON_IsString(e)) {
            const char *s = e->valuestring;
            if (s[0] == '{' && typed == NULL) {
                typed = e; /* parsed below */
            } else if (!wc->has_from &&
                       ww_addr_parse(&wc->from, WW_CHAIN_EVM, s, strlen(s)) == WW_OK) {
                wc->has_from = true;
            }
        }
    }
    if (typed == NULL) {
        anomaly(&d, "bad-typed-data", "no typed data in params");
        return cJSON_IsArray(orig) && cJSON_GetArraySize(orig) > 0 ? WW_OK : WW_E_INVALID;
    }
    if (cJSON_IsString(typed)) {
        /* the JSON text is as deep as the outer body allowed: jsonrpc.c pre-scanned the body,
         * and the string, unescaped, cannot nest deeper than its own length permits; bound it */
        const char *s = typed->valuestring;
        size_t n = strlen(s), depth = 0, maxd = 0;
        for (size_t k = 0; k < n; k++) {
            if (s[k] == '{' || s[k] == '[')
                maxd = WW_MAX(maxd, ++depth);
            else if ((s[k] == '}' || s[k] == ']') && depth > 0)
                depth--;
        }
        if (maxd > 64) {
            anomaly(&d, "json-too-deep", "typed data nested too deep");
            return WW_OK;
        }
        parsed = cJSON_ParseWithLength(s, n);
        if (parsed == NULL) {
            anomaly(&d, "bad-typed-data", "typed data is not JSON");
            return WW_OK;
        }
        typed = parsed;
    }
    rc = decode_typed(&d, typed);
    cJSON_Delete(parsed);
    (void)rc;
    return WW_OK;
}
