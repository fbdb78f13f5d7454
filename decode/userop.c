/*
 * userop.c - batched wallet requests: EIP-5792 wallet_sendCalls and ERC-4337
 * eth_sendUserOperation (EntryPoint v0.6 and v0.7 JSON forms; both carry sender + callData).
 *
 *   wallet_sendCalls      [{"version","chainId","from","calls":[{"to","value","data"},...]}]
 *   eth_sendUserOperation [{"sender","nonce","callData",...}, "0xEntryPoint"]
 *
 * A user operation's callData is a call on the smart account itself; the account entry
 * points below are unwrapped to the calls it will make (ww_account_calls):
 *   execute(address,uint256,bytes)                0xb61d27f6  SimpleAccount, Coinbase
 *   execute(address,uint256,bytes,uint8)          0x51945447  Kernel v2
 *   execute(bytes32 mode, bytes)                  0xe9ae5c53  Kernel v3 / ERC-7579
 *                                                   (single: target|value|data packed;
 *                                                    batch: abi.encode(Execution[]))
 *   executeBatch(address[],bytes[])               0x18dfb3c7  SimpleAccount v0.6
 *   executeBatch(address[],uint256[],bytes[])     0x47e1da2a  SimpleAccount v0.7
 *   executeBatch((address,uint256,bytes)[])       0x34fcd5be  Coinbase Smart Wallet
 *   execTransaction(to,value,data,op,...)         0x6a761202  Safe
 *   executeUserOp(address,uint256,bytes,uint8)    0x7bb37428  Safe 4337 module
 *   multiSend(bytes)                              0x8d80ff0a  Safe MultiSend (packed:
 *                                                   op u8 | to 20 | value 32 | len 32 | data)
 */
#include "decode/wallet_int.h"

#define MAX_CALLS 16

static uint32_t sel_of(const uint8_t *d)
{
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

static bool push(ww_abi_call *out, size_t cap, size_t *k, const uint8_t *t, const uint8_t *v,
                 const uint8_t *d, size_t n)
{
    if (*k >= cap)
        return true; /* counted out: the rest is dropped */
    out[*k].target = t;
    if (v != NULL)
        memcpy(out[*k].value, v, 32);
    else
        memset(out[*k].value, 0, 32);
    out[*k].data = d;
    out[*k].n = n;
    (*k)++;
    return true;
}

/* Safe MultiSend packed transactions. */
static bool multisend(ww_abi_call *out, size_t cap, size_t *k, const uint8_t *p, size_t n)
{
    ww_rd r = ww_rd_init(p, n);
    while (ww_rd_left(&r) > 0) {
        ww_slice to, val, len, data;
        uint8_t op;
        size_t l = 0;
        if (!ww_rd_u8(&r, &op) || !ww_rd_bytes(&r, &to, 20) || !ww_rd_bytes(&r, &val, 32) ||
            !ww_rd_bytes(&r, &len, 32))
            return false;
        for (int i = 0; i < 24; i++)
            if (len.ptr[i] != 0)
                return false;
        for (int i = 24; i < 32; i++)
            l = (l << 8) | len.ptr[i];
        if (!ww_rd_bytes(&r, &data, l))
            return false;
        (void)push(out, cap, k, to.ptr, val.ptr, data.ptr, data.len);
    }
    return true;
}

/* Execution[] (address,uint256,bytes)[] encoded at word `word` of args. */
static bool executions(ww_abi_call *out, size_t cap, size_t *k, const uint8_t *args, size_t an,
                       size_t word)
{
    const uint8_t *el;
    size_t elen, cnt;
    if (!ww_abi_array(&el, &elen, &cnt, args, an, word))
        return false;
    for (size_t i = 0; i < cnt && i < MAX_CALLS; i++) {
        const uint8_t *w = ww_abi_word(el, elen, i), *d;
        size_t off = 0, dn;
        uint8_t t[20];
        if (w == NULL)
            return false;
        for (int b = 0; b < 24; b++)
            if (w[b] != 0)
                return false;
        for (int b = 24; b < 32; b++)
            off = (off << 8) | w[b];
        if (off >= elen)
            return false;
        const uint8_t *tu = el + off;
        size_t tn = elen - off;
        if (!ww_abi_addr(t, tu, tn, 0) || ww_abi_word(tu, tn, 1) == NULL ||
            !ww_abi_bytes(&d, &dn, tu, tn, 2))
            return false;
        (void)push(out, cap, k, tu + 12, ww_abi_word(tu, tn, 1), d, dn);
    }
    return true;
}

int ww_account_calls(ww_abi_call *out, size_t cap, const uint8_t *data, size_t n)
{
    const uint8_t *args, *d, *el1, *el2, *el3;
    size_t an, dn, k = 0, l1, l2, l3, c1, c2, c3;
    uint8_t t[20];
    if (n < 4)
        return 0;
    args = data + 4;
    an = n - 4;
    switch (sel_of(data)) {
    case 0xb61d27f6:
    case 0x51945447:
    case 0x7bb37428:
    case 0x6a761202:
        if (!ww_abi_addr(t, args, an, 0) || ww_abi_word(args, an, 1) == NULL ||
            !ww_abi_bytes(&d, &dn, args, an, 2))
            return -1;
        if (dn >= 4 && sel_of(d) == 0x8d80ff0a) { /* (delegate)call to MultiSend */
            const uint8_t *p;
            size_t pn;
            if (!ww_abi_bytes(&p, &pn, d + 4, dn - 4, 0) || !multisend(out, cap, &k, p, pn))
                return -1;
            return (int)k;
        }
        (void)push(out, cap, &k, args + 12, ww_abi_word(args, an, 1), d, dn);
        return (int)k;
    case 0x8d80ff0a: {
        const uint8_t *p;
        size_t pn;
        if (!ww_abi_bytes(&p, &pn, args, an, 0) || !multisend(out, cap, &k, p, pn))
            return -1;
        return (int)k;
    }
    case 0x18dfb3c7: /* executeBatch(address[],bytes[]) */
    case 0x47e1da2a: /* executeBatch(address[],uint256[],bytes[]) */
    {
        bool three = sel_of(data) == 0x47e1da2a;
        if (!ww_abi_array(&el1, &l1, &c1, args, an, 0) ||
            !ww_abi_array(&el3, &l3, &c3, args, an, three ? 2 : 1))
            return -1;
        if (three && !ww_abi_array(&el2, &l2, &c2, args, an, 1))
            return -1;
        if (c3 != c1 || (three && c2 != c1 && c2 != 0))
            return -1;
        for (size_t i = 0; i < c1 && i < MAX_CALLS; i++) {
            if (!ww_abi_addr(t, el1, l1, i) || !ww_abi_bytes(&d, &dn, el3, l3, i))
                return -1;
            (void)push(out, cap, &k, el1 + 32 * i + 12,
                       three && c2 > 0 ? ww_abi_word(el2, l2, i) : NULL, d, dn);
        }
        return (int)k;
    }
    case 0x34fcd5be:
        return executions(out, cap, &k, args, an, 0) ? (int)k : -1;
    case 0xe9ae5c53: { /* ERC-7579 execute(bytes32 mode, bytes executionCalldata) */
        const uint8_t *mode = ww_abi_word(args, an, 0);
        if (mode == NULL || !ww_abi_bytes(&d, &dn, args, an, 1))
            return -1;
        if (mode[0] == 0x00) { /* single: target(20) | value(32) | calldata */
            if (dn < 52)
                return -1;
            (void)push(out, cap, &k, d, d + 20, d + 52, dn - 52);
            return (int)k;
        }
        if (mode[0] == 0x01)
            return executions(out, cap, &k, d, dn, 0) ? (int)k : -1;
        return 0; /* delegatecall / static: not unwrapped */
    }
    default:
        return 0;
    }
}

typedef struct mdec {
    ww_decode_anomaly_fn fn;
    void *ud;
} mdec;

static void anomaly(const mdec *d, const char *type, const char *detail)
{
    if (d->fn != NULL)
        d->fn(d->ud, "jsonrpc", type, detail);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Emits one wallet call for (to, value, data). Returns false when out is full. */
static bool emit(const mdec *md, ww_wallet_call *out, size_t cap, size_t *k,
                 const ww_wallet_call *base, const uint8_t *to20, const ww_addr *to,
                 const uint8_t *value, const uint8_t *data, size_t dn)
{
    const char *why = NULL;
    if (*k >= cap)
        return false;
    ww_wallet_call *wc = &out[(*k)++];
    *wc = *base;
    if (to20 != NULL) {
        ww_addr_from_evm(&wc->to, to20);
        wc->has_to = true;
    } else if (to != NULL) {
        wc->to = *to;
        wc->has_to = true;
    }
    if (value != NULL) {
        ww_u256 v;
        memcpy(v.be, value, 32);
        if (!ww_u256_is_zero(&v) || dn == 0)
            ww_u256_to_dec(wc->value, &v);
    }
    if (ww_evm_decode_calldata(wc, data, dn, &why) != WW_OK)
        anomaly(md, "bad-calldata", why);
    return true;
}

int ww_wallet_decode_multi(ww_wallet_call *out, size_t *num, const ww_wallet_call *base,
                           const cJSON *params, ww_decode_anomaly_fn anomaly_fn, void *ud)
{
    mdec md = {anomaly_fn, ud};
    const cJSON *p0 = cJSON_IsArray(params) ? cJSON_GetArrayItem(params, 0) : NULL, *e;
    size_t cap = *num, k = 0;
    ww_wallet_call b = *base;
    bool full = false;
    const char *s;
    ww_u256 v;

    *num = 0;
    b.chain = WW_CHAIN_EVM;
    b.signature_valid = -1;
    if (!cJSON_IsObject(p0)) {
        anomaly(&md, "bad-params", "params[0] is not an object");
        return WW_E_INVALID;
    }
    s = jstr(p0, "chainId");
    if (s != NULL && ww_u256_from_quantity(&v, s)) {
        uint64_t x = 0;
        for (int i = 24; i < 32; i++)
            x = (x << 8) | v.be[i];
        b.chain_id = x;
        b.has_chain_id = true;
    }
    if (strcmp(base->method, "wallet_sendCalls") == 0) {
        if ((s = jstr(p0, "from")) != NULL &&
            ww_addr_parse(&b.from, WW_CHAIN_EVM, s, strlen(s)) == WW_OK)
            b.has_from = true;
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(p0, "calls");
        int i = 0;
        if (!cJSON_IsArray(calls))
            calls = NULL;
        cJSON_ArrayForEach(e, calls)
        {
            ww_addr to;
            size_t dn = 0;
            uint8_t *data = NULL;
            if (i++ >= 64 || !cJSON_IsObject(e))
                continue;
            bool has_to = (s = jstr(e, "to")) != NULL &&
                          ww_addr_parse(&to, WW_CHAIN_EVM, s, strlen(s)) == WW_OK;
            if ((s = jstr(e, "data")) != NULL && (data = ww_hex_dup0x(s, &dn)) == NULL)
                anomaly(&md, "bad-calldata", "data is not hex");
            bool hv = ww_u256_from_quantity(&v, jstr(e, "value"));
            if (!emit(&md, out, cap, &k, &b, NULL, has_to ? &to : NULL, hv ? v.be : NULL, data,
                      dn))
                full = true;
            ww_free(NULL, data);
        }
    } else { /* eth_sendUserOperation */
        ww_addr sender;
        size_t dn = 0;
        uint8_t *data = NULL;
        ww_abi_call calls[MAX_CALLS];
        if ((s = jstr(p0, "sender")) == NULL ||
            ww_addr_parse(&sender, WW_CHAIN_EVM, s, strlen(s)) != WW_OK) {
            anomaly(&md, "bad-params", "user operation without a sender");
            return WW_E_INVALID;
        }
        b.from = sender;
        b.has_from = true;
        if ((s = jstr(p0, "callData")) == NULL || (data = ww_hex_dup0x(s, &dn)) == NULL) {
            anomaly(&md, "bad-params", "user operation callData is not hex");
            return WW_E_INVALID;
        }
        int nc = ww_account_calls(calls, MAX_CALLS, data, dn);
        if (nc < 0)
            anomaly(&md, "bad-calldata", "malformed smart-account execute arguments");
        if (nc <= 0) {
            /* unknown entry point: the call on the account itself, recorded */
            full = !emit(&md, out, cap, &k, &b, NULL, &sender, NULL, data, dn);
        }
        for (int i = 0; i < nc; i++)
            if (!emit(&md, out, cap, &k, &b, calls[i].target, NULL, calls[i].value,
                      calls[i].data, calls[i].n))
                full = true;
        ww_free(NULL, data);
    }
    *num = k;
    return full ? WW_E_TOOBIG : WW_OK;
}
