/*
 * evm_calldata.c - what a transaction's calldata asks for (Solidity ABI, ERC-20).
 *
 *   selector (4 bytes = keccak256(signature)[0..4]) | 32-byte words ...
 *   transfer(address,uint256)              0xa9059cbb  to, amount
 *   transferFrom(address,address,uint256)  0x23b872dd  from, to, amount
 *   approve(address,uint256)               0x095ea7b3  spender, amount
 *
 * An address word is 12 zero bytes + 20 address bytes; anything else is malformed (the ABI
 * v2 decoder reverts on it), so the call is recorded as a plain contract-call with an
 * anomaly rather than guessed at. Bytes after the last expected word are ignored by the
 * Solidity decoder, so the call is decoded as the contract will execute it, and reported.
 *
 * Beyond ERC-20 (issue 4), each adding parties, never guessing at unknown selectors:
 *   increaseAllowance(address,uint256)          0x39509351  spender
 *   permit(owner,spender,value,deadline,v,r,s)   0xd505accf  spender (max = unlimited)
 *   permit(holder,spender,nonce,expiry,allowed,..) 0x8fcbaf0c DAI: allowed = unlimited
 *   setApprovalForAll(address,bool)              0xa22cb465  operator (true = unlimited)
 *   ERC-721 safeTransferFrom(from,to,id[,data])  0x42842e0e / 0xb88d4fde  recipient
 *   ERC-1155 safeTransferFrom / safeBatchTransferFrom 0xf242432a / 0x2eb2c2d6  recipient
 *   Permit2 approve(token,spender,uint160,uint48) 0x87517c45  spender (2^160-1 = unlimited)
 *   Permit2 transferFrom(from,to,uint160,token)  0x36c78516  recipient
 *   multicall(bytes[]) 0xac9650d8, multicall(uint256,bytes[]) 0x5ae401dc: inner calls on the
 *     same target; aggregate((address,bytes)[]) 0x252dba42, aggregate3 0x82ad56cb: inner
 *     calls on their own targets (TO, not payee). Nesting at most MAX_DEPTH.
 *   Universal Router execute(bytes,bytes[][,uint256]) 0x3593564c / 0x24856bc3: the
 *     recipient / spender of each command it decodes (see decode_router).
 * ABI offsets/lengths are checked against the calldata length before any read.
 */
#include "decode/evm_int.h"
#include "decode/wallet_int.h"

bool ww_wc_add_party(ww_wallet_call *wc, int role, bool payee, bool unlimited, const ww_addr *a)
{
    if (wc->n_parties >= WW_WC_MAX_PARTIES)
        return false;
    ww_party *p = &wc->parties[wc->n_parties++];
    memset(p, 0, sizeof *p);
    p->role = (uint8_t)role;
    p->payee = payee;
    p->unlimited = unlimited;
    p->addr = *a;
    return true;
}

static void set_kind(ww_wallet_call *wc, const char *k)
{
    snprintf(wc->kind, sizeof wc->kind, "%s", k);
}

static bool addr_word(ww_addr *out, const uint8_t *w)
{
    for (int i = 0; i < 12; i++)
        if (w[i] != 0)
            return false;
    ww_addr_from_evm(out, w + 12);
    return true;
}

/* ---- ABI reading ---- */

const uint8_t *ww_abi_word(const uint8_t *args, size_t n, size_t i)
{
    if (i >= n / 32)
        return NULL;
    return args + 32 * i;
}

bool ww_abi_addr(uint8_t out[20], const uint8_t *args, size_t n, size_t i)
{
    const uint8_t *w = ww_abi_word(args, n, i);
    if (w == NULL)
        return false;
    for (int k = 0; k < 12; k++)
        if (w[k] != 0)
            return false;
    memcpy(out, w + 12, 20);
    return true;
}

/* A word as a size bounded by lim; false when larger. */
static bool word_size(size_t *out, const uint8_t *w, size_t lim)
{
    uint64_t v = 0;
    for (int k = 0; k < 24; k++)
        if (w[k] != 0)
            return false;
    for (int k = 24; k < 32; k++)
        v = (v << 8) | w[k];
    if (v > lim)
        return false;
    *out = (size_t)v;
    return true;
}

bool ww_abi_bytes(const uint8_t **p, size_t *len, const uint8_t *args, size_t n, size_t i)
{
    const uint8_t *w = ww_abi_word(args, n, i);
    size_t off, l;
    if (w == NULL || !word_size(&off, w, n) || n - off < 32)
        return false;
    if (!word_size(&l, args + off, n - off - 32))
        return false;
    *p = args + off + 32;
    *len = l;
    return true;
}

bool ww_abi_array(const uint8_t **elems, size_t *elen, size_t *count, const uint8_t *args,
                  size_t n, size_t i)
{
    const uint8_t *w = ww_abi_word(args, n, i);
    size_t off, c;
    if (w == NULL || !word_size(&off, w, n) || n - off < 32)
        return false;
    if (!word_size(&c, args + off, (n - off - 32) / 32))
        return false;
    *elems = args + off + 32;
    *elen = n - off - 32;
    *count = c;
    return true;
}

#define MAX_DEPTH 4
#define MAX_INNER 16

static bool is_max_bits(const uint8_t *w, int bits)
{
    int zero = (256 - bits) / 8;
    for (int k = 0; k < 32; k++)
        if (w[k] != (k < zero ? 0x00 : 0xff))
            return false;
    return true;
}

static ww_party *party20(ww_wallet_call *wc, int role, bool payee, bool unlimited,
                         const uint8_t *a)
{
    ww_addr x;
    ww_addr_from_evm(&x, a);
    if (!ww_wc_add_party(wc, role, payee, unlimited, &x))
        return NULL;
    return &wc->parties[wc->n_parties - 1];
}

static bool word_zero(const uint8_t *w)
{
    for (int k = 0; k < 32; k++)
        if (w[k] != 0)
            return false;
    return true;
}

/* The party's own token (20 bytes, or NULL) and amount (a word, or NULL). */
static ww_party *with_token(ww_party *p, const uint8_t *token, const uint8_t *amount)
{
    if (p == NULL)
        return NULL;
    if (token != NULL) {
        ww_addr_from_evm(&p->token, token);
        p->has_token = true;
    }
    if (amount != NULL) {
        ww_u256 v;
        memcpy(v.be, amount, 32);
        ww_u256_to_dec(p->amount, &v);
    }
    return p;
}

/* An approval party: unlimited at the maximum, a revocation at zero. */
static void approval(ww_party *p, bool unlimited, bool revoke)
{
    if (p == NULL)
        return;
    p->unlimited = unlimited && !revoke;
    p->revocation = revoke;
}

static void first_amount(ww_wallet_call *wc, const uint8_t *w)
{
    ww_u256 v;
    if (wc->amount[0] != '\0' || w == NULL)
        return;
    memcpy(v.be, w, 32);
    ww_u256_to_dec(wc->amount, &v);
}

static void first_kind(ww_wallet_call *wc, const char *k)
{
    if (strcmp(wc->kind, "contract-call") == 0)
        snprintf(wc->kind, sizeof wc->kind, "%s", k);
}

static int decode_more(ww_wallet_call *wc, const uint8_t *target, const uint8_t *data,
                       size_t n, int depth);

/* Inner calls of multicall/aggregate. */
static int decode_batch(ww_wallet_call *wc, const uint8_t *target, const uint8_t *args,
                        size_t n, size_t word, bool with_target, int stride_words, int depth)
{
    const uint8_t *el, *p;
    size_t elen, cnt, l;
    uint8_t t[20];
    if (!ww_abi_array(&el, &elen, &cnt, args, n, word))
        return WW_E_INVALID;
    for (size_t i = 0; i < cnt && i < MAX_INNER; i++) {
        if (!with_target) {
            if (!ww_abi_bytes(&p, &l, el, elen, i))
                return WW_E_INVALID;
            (void)decode_more(wc, target, p, l, depth + 1);
            continue;
        }
        /* array of tuples with a dynamic member: word i is the offset of tuple i */
        const uint8_t *w = ww_abi_word(el, elen, i);
        size_t off;
        if (w == NULL || !word_size(&off, w, elen))
            return WW_E_INVALID;
        const uint8_t *tu = el + off;
        size_t tn = elen - off;
        if (!ww_abi_addr(t, tu, tn, 0) || !ww_abi_bytes(&p, &l, tu, tn, (size_t)stride_words - 1))
            return WW_E_INVALID;
        party20(wc, WW_ROLE_TO, false, false, t);
        (void)decode_more(wc, t, p, l, depth + 1);
    }
    return WW_OK;
}

/* Universal Router recipients that stand for the caller / the router itself: not parties. */
static bool ur_special(const uint8_t a[20])
{
    for (int k = 0; k < 19; k++)
        if (a[k] != 0)
            return false;
    return a[19] == 1 || a[19] == 2; /* MSG_SENDER, ADDRESS_THIS */
}

/* A payee of a router command or V4 action: MSG_SENDER / ADDRESS_THIS are not parties. */
static ww_party *ur_payee(ww_wallet_call *wc, int role, const uint8_t *a20, const uint8_t *token,
                          const uint8_t *amount)
{
    if (ur_special(a20))
        return NULL;
    return with_token(party20(wc, role, true, false, a20), token, amount);
}

/* Address word i of in[0..n) (12 zero bytes + address), or false. */
static bool ur_addr(uint8_t out[20], const uint8_t *in, size_t n, size_t i)
{
    return ww_abi_addr(out, in, n, i);
}

/*
 * Uniswap v4 actions (v4-periphery Actions.sol), abi.encode(bytes actions, bytes[] params),
 * as V4_SWAP carries them and PositionManager.modifyLiquidities unlocks them. Payees:
 *   0x02 MINT_POSITION (PoolKey(5 words), tickLower, tickUpper, liquidity, amount0Max,
 *        amount1Max, owner, hookData)                        owner = word 10
 *   0x0e TAKE (currency, recipient, amount)                  recipient = word 1
 *   0x10 TAKE_PORTION (currency, recipient, bips)            recipient = word 1
 *   0x11 TAKE_PAIR (currency0, currency1, recipient)         recipient = word 2
 *   0x13 CLEAR_OR_TAKE, 0x12 CLOSE_CURRENCY, 0x0f TAKE_ALL: to the caller (no party)
 *   0x14 SWEEP (currency, to)                                recipient = word 1
 * Other actions (liquidity, swaps, settles, wrap/unwrap, 6909) name no payee; an action
 * past 0x18 is unknown (*unknown counts it).
 */
static int decode_v4_actions(ww_wallet_call *wc, const uint8_t *in, size_t n, size_t *unknown)
{
    const uint8_t *act, *el, *pa;
    size_t nact, elen, cnt, pn;
    uint8_t a[20], t[20];
    if (!ww_abi_bytes(&act, &nact, in, n, 0) || !ww_abi_array(&el, &elen, &cnt, in, n, 1) ||
        cnt != nact)
        return WW_E_INVALID;
    for (size_t i = 0; i < nact && i < 64; i++) {
        if (!ww_abi_bytes(&pa, &pn, el, elen, i))
            return WW_E_INVALID;
        switch (act[i]) {
        case 0x02:
            if (!ur_addr(a, pa, pn, 10) || !ur_addr(t, pa, pn, 0))
                return WW_E_INVALID;
            (void)ur_payee(wc, WW_ROLE_RECIPIENT, a, NULL, NULL);
            break;
        case 0x0e:
        case 0x10:
        case 0x14:
            if (!ur_addr(t, pa, pn, 0) || !ur_addr(a, pa, pn, 1))
                return WW_E_INVALID;
            (void)ur_payee(wc, WW_ROLE_RECIPIENT, a, t,
                           act[i] == 0x0e ? ww_abi_word(pa, pn, 2) : NULL);
            break;
        case 0x11:
            if (!ur_addr(a, pa, pn, 2))
                return WW_E_INVALID;
            (void)ur_payee(wc, WW_ROLE_RECIPIENT, a, NULL, NULL);
            break;
        default:
            if (act[i] > 0x18)
                ++*unknown;
            break;
        }
    }
    return WW_OK;
}

/* Permit2 PermitBatch as the router's 0x03 input: abi.encode(PermitBatch, bytes signature),
 * PermitBatch = ((token, uint160 amount, uint48, uint48)[] details, spender, sigDeadline).
 * One SPENDER party per detail, with its token and amount (2^160-1 unlimited, 0 revocation). */
static int decode_permit_batch(ww_wallet_call *wc, const uint8_t *in, size_t n)
{
    const uint8_t *w = ww_abi_word(in, n, 0), *el;
    size_t off, elen, cnt;
    uint8_t sp[20], tok[20];
    if (w == NULL || !word_size(&off, w, n))
        return WW_E_INVALID;
    const uint8_t *pb = in + off;
    size_t pbn = n - off;
    if (!ww_abi_array(&el, &elen, &cnt, pb, pbn, 0) || !ww_abi_addr(sp, pb, pbn, 1) ||
        elen / 128 < cnt)
        return WW_E_INVALID;
    for (size_t i = 0; i < cnt && i < MAX_INNER; i++) {
        const uint8_t *d = el + 128 * i, *amt = d + 32;
        if (!ww_abi_addr(tok, d, 128, 0))
            return WW_E_INVALID;
        approval(with_token(party20(wc, WW_ROLE_SPENDER, true, false, sp), tok, amt),
                 is_max_bits(amt, 160), word_zero(amt));
    }
    return WW_OK;
}

/*
 * Universal Router execute(bytes commands, bytes[] inputs[, uint256 deadline]): one input per
 * command byte (flag 0x80 = allow revert, type = byte & 0x3f). Every command of the current
 * router (Commands.sol, checked against @uniswap/universal-router-sdk CommandType):
 *   0x00 V3_SWAP_EXACT_IN, 0x01 V3_SWAP_EXACT_OUT, 0x08 V2_SWAP_EXACT_IN, 0x09 V2_SWAP_EXACT_OUT
 *        (address recipient, ...)                                     recipient = word 0
 *   0x02 PERMIT2_TRANSFER_FROM (token, recipient, uint160 amount)      recipient = word 1
 *   0x03 PERMIT2_PERMIT_BATCH (PermitBatch, bytes)                     a spender per token
 *   0x04 SWEEP (token, recipient, amountMin), 0x05 TRANSFER (token, recipient, value),
 *   0x06 PAY_PORTION (token, recipient, bips)                          recipient = word 1
 *   0x0a PERMIT2_PERMIT (((token, uint160 amount, uint48, uint48), spender, sigDeadline), bytes)
 *                                                                      spender = word 4
 *   0x0b WRAP_ETH, 0x0c UNWRAP_WETH (recipient, amountMin)             recipient = word 0
 *   0x0d PERMIT2_TRANSFER_FROM_BATCH ((from, to, uint160 amount, token)[])  each `to`
 *   0x0e BALANCE_CHECK_ERC20 (owner, token, minBalance), 0x13 V4_INITIALIZE_POOL: no payee
 *   0x10 V4_SWAP (bytes actions, bytes[] params): see decode_v4_actions
 *   0x11 V3_POSITION_MANAGER_PERMIT (NonfungiblePositionManager.permit calldata): spender
 *   0x12 V3_POSITION_MANAGER_CALL (its calldata: collect's recipient, safeTransferFrom ...)
 *   0x14 V4_POSITION_MANAGER_CALL (modifyLiquidities(bytes unlockData, deadline)): actions
 *   0x21 EXECUTE_SUB_PLAN (bytes commands, bytes[] inputs): decoded the same way (nested)
 * Any other command type is unknown: decoded around, and counted (*unknown) so the caller
 * reports it instead of skipping it silently. Returns WW_OK or WW_E_INVALID (lengths differ,
 * an input too short for its command, an address word with high bytes set).
 */
static int decode_router_cmds(ww_wallet_call *wc, const uint8_t *args, size_t an, int depth,
                              size_t *unknown)
{
    const uint8_t *cmd, *el, *in, *p;
    size_t ncmd, elen, cnt, in_n, pn;
    uint8_t a[20], t[20];
    if (depth > MAX_DEPTH)
        return WW_E_INVALID;
    if (!ww_abi_bytes(&cmd, &ncmd, args, an, 0) || !ww_abi_array(&el, &elen, &cnt, args, an, 1) ||
        cnt != ncmd)
        return WW_E_INVALID;
    first_kind(wc, "universal-router");
    for (size_t i = 0; i < ncmd && i < 64; i++) {
        size_t word;
        const uint8_t *tok = NULL, *amt = NULL;
        if (!ww_abi_bytes(&in, &in_n, el, elen, i))
            return WW_E_INVALID;
        switch (cmd[i] & 0x3f) {
        case 0x00:
        case 0x01:
        case 0x08:
        case 0x09:
        case 0x0b:
        case 0x0c:
            word = 0;
            break;
        case 0x02:
        case 0x04:
        case 0x05:
        case 0x06:
            word = 1;
            tok = in_n >= 32 ? in + 12 : NULL;
            if ((cmd[i] & 0x3f) == 0x02 || (cmd[i] & 0x3f) == 0x05)
                amt = ww_abi_word(in, in_n, 2);
            break;
        case 0x03:
            if (decode_permit_batch(wc, in, in_n) != WW_OK)
                return WW_E_INVALID;
            continue;
        case 0x0a: {
            const uint8_t *pa = ww_abi_word(in, in_n, 1);
            if (pa == NULL || !ww_abi_addr(t, in, in_n, 0) || !ww_abi_addr(a, in, in_n, 4))
                return WW_E_INVALID;
            approval(with_token(party20(wc, WW_ROLE_SPENDER, true, false, a), t, pa),
                     is_max_bits(pa, 160), word_zero(pa));
            continue;
        }
        case 0x0d: {
            const uint8_t *te;
            size_t tl, tc;
            if (!ww_abi_array(&te, &tl, &tc, in, in_n, 0) || tl / 128 < tc)
                return WW_E_INVALID;
            for (size_t k = 0; k < tc && k < MAX_INNER; k++) {
                const uint8_t *d = te + 128 * k;
                if (!ww_abi_addr(a, d, 128, 1) || !ww_abi_addr(t, d, 128, 3))
                    return WW_E_INVALID;
                (void)ur_payee(wc, WW_ROLE_RECIPIENT, a, t, d + 64);
            }
            continue;
        }
        case 0x0e:
        case 0x13:
            continue;
        case 0x10:
            if (decode_v4_actions(wc, in, in_n, unknown) != WW_OK)
                return WW_E_INVALID;
            continue;
        case 0x11: /* permit(spender, tokenId, deadline, v, r, s) */
            if (in_n < 4 || !ww_abi_addr(a, in + 4, in_n - 4, 0))
                return WW_E_INVALID;
            (void)ur_payee(wc, WW_ROLE_SPENDER, a, NULL, NULL);
            continue;
        case 0x12:
            /* collect((tokenId, recipient, amount0Max, amount1Max)) 0xfc6f7865 */
            if (in_n >= 4 && in[0] == 0xfc && in[1] == 0x6f && in[2] == 0x78 && in[3] == 0x65) {
                if (!ww_abi_addr(a, in + 4, in_n - 4, 1))
                    return WW_E_INVALID;
                (void)ur_payee(wc, WW_ROLE_RECIPIENT, a, NULL, NULL);
            } else if (decode_more(wc, NULL, in, in_n, depth + 1) == WW_E_INVALID) {
                return WW_E_INVALID;
            }
            continue;
        case 0x14: /* modifyLiquidities(bytes unlockData, uint256 deadline) 0xdd46508f */
            if (in_n < 4 || !ww_abi_bytes(&p, &pn, in + 4, in_n - 4, 0) ||
                decode_v4_actions(wc, p, pn, unknown) != WW_OK)
                return WW_E_INVALID;
            continue;
        case 0x21:
            if (decode_router_cmds(wc, in, in_n, depth + 1, unknown) != WW_OK)
                return WW_E_INVALID;
            continue;
        default:
            ++*unknown; /* not guessed; reported by the caller */
            continue;
        }
        if (!ww_abi_addr(a, in, in_n, word) || ww_abi_word(in, in_n, word + 1) == NULL)
            return WW_E_INVALID;
        (void)ur_payee(wc, WW_ROLE_RECIPIENT, a, tok, amt);
    }
    return WW_OK;
}

/* WW_OK, WW_E_INVALID, or WW_E_UNSUPPORTED: decoded, but with unknown commands/actions. */
static int decode_router(ww_wallet_call *wc, const uint8_t *args, size_t an, int depth)
{
    size_t unknown = 0;
    int rc = decode_router_cmds(wc, args, an, depth, &unknown);
    if (rc == WW_OK && unknown > 0)
        return WW_E_UNSUPPORTED;
    return rc;
}

/* Known selectors beyond the top-level ERC-20 three (and those too, for inner calls). */
static int decode_more(ww_wallet_call *wc, const uint8_t *target, const uint8_t *data,
                       size_t n, int depth)
{
    uint8_t a[20], b[20];
    const uint8_t *args = data + 4;
    size_t an;
    uint32_t sel;
    if (n < 4 || depth > MAX_DEPTH)
        return WW_E_INVALID;
    an = n - 4;
    sel = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    switch (sel) {
    case 0xa9059cbb: /* transfer */
    case 0x23b872dd: /* transferFrom */
    case 0x095ea7b3: /* approve */
    case 0x39509351: /* increaseAllowance */
    {
        size_t ai = sel == 0x23b872dd ? 1 : 0;
        const uint8_t *amt = ww_abi_word(args, an, ai + 1);
        if (!ww_abi_addr(a, args, an, ai) || amt == NULL)
            return WW_E_INVALID;
        bool appr = sel == 0x095ea7b3 || sel == 0x39509351;
        first_kind(wc, sel == 0xa9059cbb   ? "erc20-transfer"
                       : sel == 0x23b872dd ? "erc20-transferFrom"
                       : appr              ? (sel == 0x39509351 ? "erc20-increaseAllowance"
                                                                : "erc20-approve")
                                           : "contract-call");
        first_amount(wc, amt);
        if (!wc->has_token && target != NULL) {
            ww_addr_from_evm(&wc->token, target);
            wc->has_token = true;
        }
        ww_party *pt = with_token(party20(wc, appr ? WW_ROLE_SPENDER : WW_ROLE_RECIPIENT, true,
                                          false, a),
                                  target, amt);
        if (appr)
            approval(pt, is_max_bits(amt, 256), sel == 0x095ea7b3 && word_zero(amt));
        break;
    }
    case 0xd505accf: /* ERC-2612 permit */
    case 0x8fcbaf0c: /* DAI permit */
    {
        const uint8_t *w4 = ww_abi_word(args, an, sel == 0x8fcbaf0c ? 4 : 2);
        if (!ww_abi_addr(b, args, an, 1) || w4 == NULL)
            return WW_E_INVALID;
        bool dai = sel == 0x8fcbaf0c;
        bool unl = dai ? !word_zero(w4) : is_max_bits(w4, 256);
        first_kind(wc, "erc20-permit");
        if (!dai)
            first_amount(wc, w4);
        ww_party *pt = with_token(party20(wc, WW_ROLE_SPENDER, true, false, b), target,
                                  dai ? NULL : w4);
        approval(pt, unl, word_zero(w4)); /* DAI allowed=false, or a value of 0 */
        break;
    }
    case 0xa22cb465: { /* setApprovalForAll(operator, approved) */
        const uint8_t *w = ww_abi_word(args, an, 1);
        if (!ww_abi_addr(a, args, an, 0) || w == NULL)
            return WW_E_INVALID;
        first_kind(wc, "setApprovalForAll");
        approval(with_token(party20(wc, WW_ROLE_OPERATOR, true, false, a), target, NULL),
                 !word_zero(w), word_zero(w));
        break;
    }
    case 0x42842e0e: /* ERC-721 safeTransferFrom(from,to,id) */
    case 0xb88d4fde: /* ... (from,to,id,data) */
    case 0xf242432a: /* ERC-1155 safeTransferFrom(from,to,id,amount,data) */
    case 0x2eb2c2d6: /* ERC-1155 safeBatchTransferFrom */
        if (!ww_abi_addr(b, args, an, 1) || ww_abi_word(args, an, 2) == NULL)
            return WW_E_INVALID;
        first_kind(wc, sel == 0xf242432a || sel == 0x2eb2c2d6 ? "erc1155-transfer"
                                                               : "erc721-transfer");
        if (sel == 0xf242432a)
            first_amount(wc, ww_abi_word(args, an, 3));
        /* safeBatchTransferFrom: one recipient (a party per id would repeat it); the
         * amounts stay in the calldata, the first one is `amount` */
        if (sel == 0x2eb2c2d6) {
            const uint8_t *amts;
            size_t al, ac;
            if (ww_abi_array(&amts, &al, &ac, args, an, 3) && ac > 0)
                first_amount(wc, ww_abi_word(amts, al, 0));
        }
        with_token(party20(wc, WW_ROLE_RECIPIENT, true, false, b), target,
                   sel == 0xf242432a ? ww_abi_word(args, an, 3) : NULL);
        break;
    case 0x87517c45: { /* Permit2 approve(token, spender, uint160, uint48) */
        const uint8_t *amt = ww_abi_word(args, an, 2);
        if (!ww_abi_addr(a, args, an, 0) || !ww_abi_addr(b, args, an, 1) || amt == NULL)
            return WW_E_INVALID;
        first_kind(wc, "permit2-approve");
        first_amount(wc, amt);
        if (!wc->has_token) {
            ww_addr_from_evm(&wc->token, a);
            wc->has_token = true;
        }
        approval(with_token(party20(wc, WW_ROLE_SPENDER, true, false, b), a, amt),
                 is_max_bits(amt, 160), word_zero(amt));
        break;
    }
    case 0x36c78516: /* Permit2 transferFrom(from, to, uint160, token) */
        if (!ww_abi_addr(b, args, an, 1) || !ww_abi_addr(a, args, an, 3))
            return WW_E_INVALID;
        first_kind(wc, "permit2-transferFrom");
        first_amount(wc, ww_abi_word(args, an, 2));
        if (!wc->has_token) {
            ww_addr_from_evm(&wc->token, a);
            wc->has_token = true;
        }
        with_token(party20(wc, WW_ROLE_RECIPIENT, true, false, b), a, ww_abi_word(args, an, 2));
        break;
    case 0xac9650d8: /* multicall(bytes[]) */
        first_kind(wc, "multicall");
        return decode_batch(wc, target, args, an, 0, false, 0, depth);
    case 0x5ae401dc: /* multicall(uint256 deadline, bytes[]) */
        first_kind(wc, "multicall");
        return decode_batch(wc, target, args, an, 1, false, 0, depth);
    case 0x252dba42: /* aggregate((address,bytes)[]) */
        first_kind(wc, "multicall");
        return decode_batch(wc, target, args, an, 0, true, 2, depth);
    case 0x82ad56cb: /* aggregate3((address,bool,bytes)[]) */
        first_kind(wc, "multicall");
        return decode_batch(wc, target, args, an, 0, true, 3, depth);
    case 0x3593564c: /* Universal Router execute(bytes,bytes[],uint256) */
    case 0x24856bc3: /* ... execute(bytes,bytes[]) */
        return decode_router(wc, args, an, depth);
    default:
        return WW_E_NOTFOUND;
    }
    return WW_OK;
}

int ww_evm_decode_calldata(ww_wallet_call *wc, const uint8_t *data, size_t n, const char **why)
{
    static const uint8_t SEL_TRANSFER[4] = {0xa9, 0x05, 0x9c, 0xbb};
    static const uint8_t SEL_TRANSFER_FROM[4] = {0x23, 0xb8, 0x72, 0xdd};
    static const uint8_t SEL_APPROVE[4] = {0x09, 0x5e, 0xa7, 0xb3};
    const char *dummy;
    ww_addr a1, a2;
    ww_u256 amt;
    size_t want;

    if (why == NULL)
        why = &dummy;
    *why = NULL;
    wc->selector[0] = '\0';
    if (!wc->has_to) {
        set_kind(wc, "contract-creation");
        return WW_OK;
    }
    if (n == 0) {
        set_kind(wc, "native-transfer");
        (void)ww_wc_add_party(wc, WW_ROLE_TO, true, false, &wc->to);
        return WW_OK;
    }
    /* the target is a payee when it receives native value, or when its calldata is not
     * decoded (it may pay anyone: issue 13.4); payee cleared below once decoded */
    bool has_value = wc->value[0] != '\0' && strcmp(wc->value, "0") != 0;
    set_kind(wc, "contract-call");
    size_t to_i = wc->n_parties;
    bool to_added = ww_wc_add_party(wc, WW_ROLE_TO, true, false, &wc->to);
    if (n < 4) {
        *why = "calldata shorter than a selector";
        return WW_E_INVALID;
    }
    snprintf(wc->selector, sizeof wc->selector, "0x%02x%02x%02x%02x", data[0], data[1], data[2],
             data[3]);

    bool is_transfer = memcmp(data, SEL_TRANSFER, 4) == 0;
    bool is_from = memcmp(data, SEL_TRANSFER_FROM, 4) == 0;
    bool is_approve = memcmp(data, SEL_APPROVE, 4) == 0;
    if (!is_transfer && !is_from && !is_approve) {
        uint8_t t[20];
        if (ww_hex_decode(t, sizeof t, wc->to.text + 2, 40) != 20)
            memset(t, 0, sizeof t);
        int rc = decode_more(wc, t, data, n, 0);
        if (rc == WW_E_INVALID) {
            *why = "malformed ABI arguments";
            return WW_E_INVALID;
        }
        if (rc == WW_E_NOTFOUND)
            return WW_OK; /* an unknown selector is recorded, not guessed: target a payee */
        if (to_added)
            wc->parties[to_i].payee = has_value;
        if (rc == WW_E_UNSUPPORTED) {
            *why = "Universal Router command or v4 action not known (not decoded)";
            return WW_E_INVALID;
        }
        return WW_OK;
    }
    if (to_added)
        wc->parties[to_i].payee = has_value;

    want = 4 + 32 * (is_from ? 3 : 2);
    if (n < want) {
        *why = "ERC-20 calldata too short";
        return WW_E_INVALID;
    }
    const uint8_t *w = data + 4;
    if (!addr_word(&a1, w) || (is_from && !addr_word(&a2, w + 32))) {
        *why = "ERC-20 address word with nonzero high bytes";
        return WW_E_INVALID;
    }
    memcpy(amt.be, w + (is_from ? 64 : 32), 32);
    ww_u256_to_dec(wc->amount, &amt);
    wc->has_token = true;
    wc->token = wc->to;
    bool added;
    if (is_transfer) {
        set_kind(wc, "erc20-transfer");
        added = ww_wc_add_party(wc, WW_ROLE_RECIPIENT, true, false, &a1);
    } else if (is_from) {
        set_kind(wc, "erc20-transferFrom");
        added = ww_wc_add_party(wc, WW_ROLE_RECIPIENT, true, false, &a2);
    } else {
        set_kind(wc, "erc20-approve");
        added = ww_wc_add_party(wc, WW_ROLE_SPENDER, true, false, &a1);
        if (added)
            approval(&wc->parties[wc->n_parties - 1], ww_u256_is_max(&amt),
                     ww_u256_is_zero(&amt));
    }
    if (added) {
        ww_party *pt = &wc->parties[wc->n_parties - 1];
        pt->has_token = true;
        pt->token = wc->to;
        snprintf(pt->amount, sizeof pt->amount, "%s", wc->amount);
    }
    if (n > want) {
        *why = "bytes after the ERC-20 arguments";
        return WW_E_INVALID;
    }
    return WW_OK;
}

int ww_evm_decode_selfcall(ww_wallet_call *wc, const uint8_t *data, size_t n)
{
    ww_abi_call calls[MAX_INNER];
    if (!wc->has_from || !wc->has_to || !ww_addr_eq(&wc->from, &wc->to) || data == NULL || n < 4)
        return WW_E_NOTFOUND;
    int k = ww_account_calls(calls, MAX_INNER, data, n);
    if (k == 0)
        return WW_E_NOTFOUND;
    if (k < 0)
        return WW_E_INVALID;
    /* the account itself is called, not paid */
    for (size_t i = 0; i < wc->n_parties; i++)
        if (wc->parties[i].role == WW_ROLE_TO && ww_addr_eq(&wc->parties[i].addr, &wc->from))
            wc->parties[i].payee = false;
    set_kind(wc, "self-call");
    for (int i = 0; i < k; i++) {
        const ww_abi_call *c = &calls[i];
        ww_addr target = wc->from;
        if (c->target != NULL)
            ww_addr_from_evm(&target, c->target);
        bool value = !word_zero(c->value);
        if (c->n == 0) {
            /* a plain value transfer: the target is the recipient of that value */
            ww_party *pt = ww_wc_add_party(wc, WW_ROLE_RECIPIENT, true, false, &target)
                               ? &wc->parties[wc->n_parties - 1]
                               : NULL;
            if (pt != NULL) {
                ww_u256 v;
                memcpy(v.be, c->value, 32);
                ww_u256_to_dec(pt->amount, &v);
            }
            continue;
        }
        if (!ww_wc_add_party(wc, WW_ROLE_TO, true, false, &target))
            break;
        size_t ti = wc->n_parties - 1;
        uint8_t t20[20];
        if (ww_hex_decode(t20, sizeof t20, target.text + 2, 40) != 20)
            memset(t20, 0, sizeof t20);
        int rc = decode_more(wc, t20, c->data, c->n, 1);
        /* payee: value sent, or calldata not decoded; not the account calling itself */
        wc->parties[ti].payee = !ww_addr_eq(&target, &wc->from) &&
                                (value || rc == WW_E_NOTFOUND || rc == WW_E_INVALID);
    }
    return WW_OK;
}
