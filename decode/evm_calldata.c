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
 */
#include "decode/evm_int.h"

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
    set_kind(wc, "contract-call");
    (void)ww_wc_add_party(wc, WW_ROLE_TO, false, false, &wc->to);
    if (n < 4) {
        *why = "calldata shorter than a selector";
        return WW_E_INVALID;
    }
    snprintf(wc->selector, sizeof wc->selector, "0x%02x%02x%02x%02x", data[0], data[1], data[2],
             data[3]);

    bool is_transfer = memcmp(data, SEL_TRANSFER, 4) == 0;
    bool is_from = memcmp(data, SEL_TRANSFER_FROM, 4) == 0;
    bool is_approve = memcmp(data, SEL_APPROVE, 4) == 0;
    if (!is_transfer && !is_from && !is_approve)
        return WW_OK;

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
    if (is_transfer) {
        set_kind(wc, "erc20-transfer");
        (void)ww_wc_add_party(wc, WW_ROLE_RECIPIENT, true, false, &a1);
    } else if (is_from) {
        set_kind(wc, "erc20-transferFrom");
        (void)ww_wc_add_party(wc, WW_ROLE_RECIPIENT, true, false, &a2);
    } else {
        set_kind(wc, "erc20-approve");
        (void)ww_wc_add_party(wc, WW_ROLE_SPENDER, true, ww_u256_is_max(&amt), &a1);
    }
    if (n > want) {
        *why = "bytes after the ERC-20 arguments";
        return WW_E_INVALID;
    }
    return WW_OK;
}
