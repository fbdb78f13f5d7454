/*
 * solana.c - Solana transactions as a page hands them to a wallet or an RPC node
 * (sendTransaction / simulateTransaction, wallet-standard signAndSendTransaction).
 *
 * Wire transaction (solana-sdk, "transaction format"):
 *
 *   cu16 n_sigs | n_sigs x 64-byte ed25519 signature | message
 *   message (legacy) = header[3] | cu16 n | n x 32-byte key | blockhash[32] | cu16 n_ix | ix*
 *   message (v0)     = 0x80 | legacy layout | cu16 n_alt | lookups
 *
 * Signature i is over the message bytes with key i. Programs decoded (instruction data):
 *
 *   System   u32 LE tag: 1 Assign{owner}  2 Transfer{lamports u64}
 *                        11 TransferWithSeed{lamports u64, seed (u64 len + bytes), owner}
 *   SPL Token / Token-2022, u8 tag: 3 Transfer{amount}  4 Approve{amount}
 *            6 SetAuthority{type u8, COption<Pubkey>}  9 CloseAccount
 *            12 TransferChecked{amount, decimals}  13 ApproveChecked{amount, decimals}
 *   Associated Token Account: "" / 0 Create, 1 CreateIdempotent
 *            accounts [payer, ata, wallet, mint, system, token program]
 *
 * A token transfer pays a token account, not a wallet. When the same transaction creates that
 * account through the ATA program, the wallet it names is the payee. Otherwise the party is the
 * token account, marked sol_token_account with its mint (when known) and token program, and
 * detect/ asks ww_solana_ata_is() whether it is the ATA of a wallet the page was served.
 *
 * PDA: SHA-256 over the seeds, the bump, the program id and "ProgramDerivedAddress"; a valid
 * PDA is NOT an ed25519 point. "Point" here means what Solana's curve25519-dalek accepts in
 * CompressedEdwardsY::decompress (y reduced mod p, (y^2-1)/(d y^2+1) a square); libsodium's
 * crypto_core_ed25519_is_valid_point also rejects points outside the prime-order subgroup
 * (7 in 8 curve points), which would derive the wrong bump, so the check is done here with
 * OpenSSL BIGNUM arithmetic.
 */
#include <openssl/bn.h>
#include <sodium.h>

#include "decode/evm_int.h"
#include "decode/solana_int.h"

/* ---- base64 (base58: util/ww.c) ---- */

static int b64_val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

ssize_t ww_b64_decode(uint8_t *out, size_t cap, const char *s, size_t n)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (ssize_t)o;
}

/* ---- program ids ---- */
static const uint8_t SYSTEM_PROGRAM[32] = {0};
/* TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA */
static const uint8_t TOKEN_PROGRAM[32] = {
    0x06, 0xdd, 0xf6, 0xe1, 0xd7, 0x65, 0xa1, 0x93, 0xd9, 0xcb, 0xe1, 0x46, 0xce, 0xeb, 0x79, 0xac,
    0x1c, 0xb4, 0x85, 0xed, 0x5f, 0x5b, 0x37, 0x91, 0x3a, 0x8c, 0xf5, 0x85, 0x7e, 0xff, 0x00, 0xa9};
/* TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb */
static const uint8_t TOKEN22_PROGRAM[32] = {
    0x06, 0xdd, 0xf6, 0xe1, 0xee, 0x75, 0x8f, 0xde, 0x18, 0x42, 0x5d, 0xbc, 0xe4, 0x6c, 0xcd, 0xda,
    0xb6, 0x1a, 0xfc, 0x4d, 0x83, 0xb9, 0x0d, 0x27, 0xfe, 0xbd, 0xf9, 0x28, 0xd8, 0xa1, 0x8b, 0xfc};
/* ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL */
static const uint8_t ATA_PROGRAM[32] = {
    0x8c, 0x97, 0x25, 0x8f, 0x4e, 0x24, 0x89, 0xf1, 0xbb, 0x3d, 0x10, 0x29, 0x14, 0x8e, 0x0d, 0x83,
    0x0b, 0x5a, 0x13, 0x99, 0xda, 0xff, 0x10, 0x84, 0x04, 0x8e, 0x7b, 0xd8, 0xdb, 0xe9, 0xf8, 0x59};

/* ---- curve check and PDAs ---- */

/* Would curve25519-dalek decompress these 32 bytes to an Edwards point? */
static bool on_curve(const uint8_t b[32])
{
    uint8_t be[32];
    bool ok = false;
    BN_CTX *ctx = BN_CTX_new();
    if (ctx == NULL)
        return true; /* OOM: say "on curve" so that no PDA is claimed */
    BN_CTX_start(ctx);
    BIGNUM *p = BN_CTX_get(ctx), *y = BN_CTX_get(ctx), *d = BN_CTX_get(ctx),
           *t = BN_CTX_get(ctx), *u = BN_CTX_get(ctx), *v = BN_CTX_get(ctx),
           *e = BN_CTX_get(ctx);
    if (e == NULL)
        goto out;
    for (int i = 0; i < 32; i++)
        be[i] = b[31 - i];
    be[0] &= 0x7f; /* sign bit of x */
    /* p = 2^255 - 19; d = -121665 / 121666 */
    if (!BN_set_bit(p, 255) || !BN_sub_word(p, 19) || !BN_bin2bn(be, 32, y) ||
        !BN_nnmod(y, y, p, ctx) || !BN_set_word(t, 121666) || !BN_mod_inverse(t, t, p, ctx) ||
        !BN_set_word(d, 121665) || !BN_mod_mul(d, d, t, p, ctx) || !BN_sub(d, p, d))
        goto out;
    /* u = y^2 - 1, v = d y^2 + 1 */
    if (!BN_mod_sqr(t, y, p, ctx) || !BN_mod_sub(u, t, BN_value_one(), p, ctx) ||
        !BN_mod_mul(v, d, t, p, ctx) || !BN_mod_add(v, v, BN_value_one(), p, ctx))
        goto out;
    if (BN_is_zero(v))
        goto out; /* no x: not a point */
    if (!BN_mod_inverse(v, v, p, ctx) || !BN_mod_mul(t, u, v, p, ctx))
        goto out;
    if (BN_is_zero(t)) {
        ok = true;
        goto out;
    }
    /* Euler's criterion: t^((p-1)/2) == 1 */
    if (!BN_sub(e, p, BN_value_one()) || !BN_rshift1(e, e) || !BN_mod_exp(u, t, e, p, ctx))
        goto out;
    ok = BN_is_one(u);
out:
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return ok;
}

bool ww_solana_ata(uint8_t out[32], const uint8_t wallet[32], const uint8_t mint[32],
                   const uint8_t token_program[32])
{
    static const char MARK[] = "ProgramDerivedAddress";
    for (int bump = 255; bump >= 0; bump--) {
        crypto_hash_sha256_state c;
        uint8_t b = (uint8_t)bump, h[32];
        crypto_hash_sha256_init(&c);
        crypto_hash_sha256_update(&c, wallet, 32);
        crypto_hash_sha256_update(&c, token_program, 32);
        crypto_hash_sha256_update(&c, mint, 32);
        crypto_hash_sha256_update(&c, &b, 1);
        crypto_hash_sha256_update(&c, ATA_PROGRAM, 32);
        crypto_hash_sha256_update(&c, (const uint8_t *)MARK, sizeof MARK - 1);
        crypto_hash_sha256_final(&c, h);
        if (!on_curve(h)) {
            memcpy(out, h, 32);
            return true;
        }
    }
    return false;
}

static bool addr_key(uint8_t out[32], const ww_addr *a)
{
    return a->chain == WW_CHAIN_SOLANA && ww_b58_decode(out, 32, a->text, a->len) == 32;
}

bool ww_solana_ata_is(const ww_addr *account, const ww_addr *wallet, const uint8_t mint[32],
                      const uint8_t token_program[32])
{
    uint8_t acc[32], w[32], ata[32];
    if (!addr_key(acc, account) || !addr_key(w, wallet))
        return false;
    return ww_solana_ata(ata, w, mint, token_program) && memcmp(ata, acc, 32) == 0;
}

/* ---- message ---- */

/* compact-u16: 1..3 bytes, 7 bits each; canonical (no trailing zero group), <= 0xffff. */
static bool rd_cu16(ww_rd *r, size_t *v, int *err)
{
    uint32_t x = 0;
    for (int i = 0; i < 3; i++) {
        uint8_t b;
        if (!ww_rd_u8(r, &b)) {
            *err = WW_E_TRUNC;
            return false;
        }
        if (i == 2 && b > 0x03) {
            *err = WW_E_INVALID;
            return false;
        }
        x |= (uint32_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            if (i > 0 && b == 0) {
                *err = WW_E_INVALID; /* non-canonical */
                return false;
            }
            *v = x;
            return true;
        }
    }
    *err = WW_E_INVALID;
    return false;
}

static bool rd_slice(ww_rd *r, const uint8_t **p, size_t n, int *err)
{
    ww_slice s;
    if (!ww_rd_bytes(r, &s, n)) {
        *err = WW_E_TRUNC;
        return false;
    }
    *p = s.ptr;
    return true;
}

ssize_t ww_solana_msg_parse(ww_sol_msg *m, const uint8_t *p, size_t n)
{
    ww_rd r = ww_rd_init(p, n);
    int err = WW_E_INVALID;
    uint8_t b;
    size_t k;

    memset(m, 0, sizeof *m);
    m->version = -1;
    if (!ww_rd_u8(&r, &b))
        return WW_E_TRUNC;
    if (b & 0x80) {
        if ((b & 0x7f) != 0)
            return WW_E_UNSUPPORTED;
        m->version = 0;
        if (!ww_rd_u8(&r, &b))
            return WW_E_TRUNC;
    }
    m->n_required_sigs = b;
    if (!ww_rd_u8(&r, &m->n_readonly_signed) || !ww_rd_u8(&r, &m->n_readonly_unsigned))
        return WW_E_TRUNC;
    if (!rd_cu16(&r, &m->n_keys, &err))
        return err;
    if (m->n_keys > ww_rd_left(&r) / 32)
        return WW_E_TRUNC;
    if (!rd_slice(&r, &m->keys, 32 * m->n_keys, &err) || !rd_slice(&r, &m->blockhash, 32, &err))
        return err;
    if (!rd_cu16(&r, &m->n_ix_total, &err))
        return err;
    for (size_t i = 0; i < m->n_ix_total; i++) {
        ww_sol_ix ix;
        if (!ww_rd_u8(&r, &ix.program))
            return WW_E_TRUNC;
        if (!rd_cu16(&r, &ix.n_acc, &err) || !rd_slice(&r, &ix.acc, ix.n_acc, &err) ||
            !rd_cu16(&r, &ix.n_data, &err) || !rd_slice(&r, &ix.data, ix.n_data, &err))
            return err;
        if (m->n_ix < WW_SOL_MAX_IX)
            m->ix[m->n_ix++] = ix;
    }
    if (m->version == 0) {
        /* kit accepts a v0 message that ends before the lookup count: so do we */
        if (ww_rd_left(&r) > 0) {
            if (!rd_cu16(&r, &k, &err))
                return err;
            for (size_t i = 0; i < k; i++) {
                ww_sol_alt a;
                if (!rd_slice(&r, &a.table, 32, &err) || !rd_cu16(&r, &a.n_writable, &err) ||
                    !rd_slice(&r, &a.writable, a.n_writable, &err) ||
                    !rd_cu16(&r, &a.n_readonly, &err) ||
                    !rd_slice(&r, &a.readonly, a.n_readonly, &err))
                    return err;
                m->n_alt_keys += a.n_writable + a.n_readonly;
                if (m->n_alt < WW_SOL_MAX_ALT)
                    m->alt[m->n_alt++] = a;
            }
        }
    }
    return (ssize_t)(n - ww_rd_left(&r));
}

/* ---- instructions ---- */

typedef struct soldec {
    ww_wallet_call *wc;
    ww_solana_tx_info *info;
    const ww_sol_msg *m;
    bool have_value, have_amount;
    bool from_set;              /* from names the funds' owner (funds_owner) */
    bool cur_amount_ok;         /* the instruction being decoded moves cur_amount ... */
    uint64_t cur_amount;
    const uint8_t *cur_mint;    /* ... of this mint (NULL: not named) */
} soldec;

static void set_kind(ww_wallet_call *wc, const char *k)
{
    if (wc->kind[0] == '\0' || strcmp(wc->kind, "program-call") == 0 ||
        strcmp(wc->kind, "ata-create") == 0)
        snprintf(wc->kind, sizeof wc->kind, "%s", k);
}

static void key_addr(ww_addr *a, const uint8_t *k)
{
    char t[96];
    size_t n = ww_b58_encode(t, sizeof t, k, 32);
    memset(a, 0, sizeof *a);
    a->chain = WW_CHAIN_SOLANA;
    a->len = (uint8_t)n;
    memcpy(a->text, t, n + 1);
}

/* Account j of instruction ix: NULL (counted) when it lies behind a lookup table. */
static const uint8_t *ix_key(soldec *d, const ww_sol_ix *ix, size_t j)
{
    if (j >= ix->n_acc)
        return NULL;
    if (ix->acc[j] >= d->m->n_keys) {
        d->info->n_unresolved++;
        return NULL;
    }
    return d->m->keys + 32 * (size_t)ix->acc[j];
}

static ww_party *add(soldec *d, int role, bool payee, bool unlimited, const uint8_t *key)
{
    ww_addr a;
    key_addr(&a, key);
    if (!ww_wc_add_party(d->wc, role, payee, unlimited, &a)) {
        d->info->n_parties_dropped++;
        return NULL;
    }
    return &d->wc->parties[d->wc->n_parties - 1];
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void u64_dec(char *out, size_t cap, uint64_t v)
{
    snprintf(out, cap, "%llu", (unsigned long long)v);
}

static void funds_owner(soldec *d, const ww_sol_ix *ix, size_t j);

static void do_system(soldec *d, const ww_sol_ix *ix)
{
    const uint8_t *k;
    uint32_t tag;
    ww_rd r = ww_rd_init(ix->data, ix->n_data);
    if (!ww_rd_le32(&r, &tag))
        return;
    if (tag == 2 && ix->n_data >= 12) { /* Transfer {lamports} [from, to] */
        set_kind(d->wc, "sol-transfer");
        if (!d->have_value) {
            u64_dec(d->wc->value, sizeof d->wc->value, le64(ix->data + 4));
            d->have_value = true;
        }
        funds_owner(d, ix, 0);
        if ((k = ix_key(d, ix, 1)) != NULL) {
            ww_party *p = add(d, WW_ROLE_RECIPIENT, true, false, k);
            if (p != NULL)
                u64_dec(p->amount, sizeof p->amount, le64(ix->data + 4));
        }
    } else if (tag == 11 && ix->n_data >= 20) { /* TransferWithSeed [from, base, to] */
        set_kind(d->wc, "sol-transferWithSeed");
        if (!d->have_value) {
            u64_dec(d->wc->value, sizeof d->wc->value, le64(ix->data + 4));
            d->have_value = true;
        }
        funds_owner(d, ix, 1); /* the base signs for the derived account */
        if ((k = ix_key(d, ix, 2)) != NULL) {
            ww_party *p = add(d, WW_ROLE_RECIPIENT, true, false, k);
            if (p != NULL)
                u64_dec(p->amount, sizeof p->amount, le64(ix->data + 4));
        }
    } else if (tag == 1 && ix->n_data >= 36) { /* Assign {owner} [account] */
        set_kind(d->wc, "sol-assign");
        (void)add(d, WW_ROLE_AUTHORITY, false, false, ix->data + 4);
    } else {
        set_kind(d->wc, "program-call");
    }
}

/* The wallet named by an ATA-create instruction of this transaction whose ATA is account. */
static const uint8_t *ata_owner(soldec *d, const uint8_t *account, const uint8_t **mint)
{
    for (size_t i = 0; i < d->m->n_ix; i++) {
        const ww_sol_ix *ix = &d->m->ix[i];
        if (memcmp(d->m->keys + 32 * (size_t)ix->program, ATA_PROGRAM, 32) != 0)
            continue;
        if (ix->n_data > 1 || (ix->n_data == 1 && ix->data[0] > 1) || ix->n_acc < 4)
            continue;
        if (ix->acc[1] >= d->m->n_keys || ix->acc[2] >= d->m->n_keys ||
            ix->acc[3] >= d->m->n_keys)
            continue;
        if (memcmp(d->m->keys + 32 * (size_t)ix->acc[1], account, 32) == 0) {
            *mint = d->m->keys + 32 * (size_t)ix->acc[3];
            return d->m->keys + 32 * (size_t)ix->acc[2];
        }
    }
    return NULL;
}

/* The party's own amount and token (the mint) from the instruction being decoded. */
static void amount_of(soldec *d, ww_party *p)
{
    if (d->cur_amount_ok)
        u64_dec(p->amount, sizeof p->amount, d->cur_amount);
    if (d->cur_mint != NULL) {
        key_addr(&p->token, d->cur_mint);
        p->has_token = true;
    }
}

/* `from` is whose funds move (issue 13.4): the source authority of the first instruction that
 * moves or grants them, not a fee payer sponsoring the transaction. */
static void funds_owner(soldec *d, const ww_sol_ix *ix, size_t j)
{
    /* a signer behind a lookup table cannot be: signers are static keys; no count here */
    if (d->from_set || j >= ix->n_acc || ix->acc[j] >= d->m->n_keys)
        return;
    key_addr(&d->wc->from, d->m->keys + 32 * (size_t)ix->acc[j]);
    d->wc->has_from = true;
    d->from_set = true;
}

static void token_recipient(soldec *d, const uint8_t *dest, const uint8_t *mint,
                            const uint8_t *prog)
{
    const uint8_t *m2 = NULL, *owner = ata_owner(d, dest, &m2);
    if (mint == NULL)
        mint = m2;
    d->cur_mint = mint;
    if (mint != NULL && !d->wc->has_token) {
        key_addr(&d->wc->token, mint);
        d->wc->has_token = true;
    }
    if (owner != NULL) {
        ww_party *o = add(d, WW_ROLE_RECIPIENT, true, false, owner);
        if (o != NULL) {
            o->sol_has_account = true; /* the token account, beside its owner */
            key_addr(&o->sol_account, dest);
            amount_of(d, o);
        }
        return;
    }
    ww_party *p = add(d, WW_ROLE_RECIPIENT, true, false, dest);
    if (p == NULL)
        return;
    amount_of(d, p);
    p->sol_token_account = true;
    memcpy(p->sol_token_program, prog, 32);
    if (mint != NULL) {
        p->sol_has_mint = true;
        memcpy(p->sol_mint, mint, 32);
    }
}

static void set_amount(soldec *d, const ww_sol_ix *ix)
{
    if (!d->have_amount) {
        u64_dec(d->wc->amount, sizeof d->wc->amount, le64(ix->data + 1));
        d->have_amount = true;
    }
}

static void do_token(soldec *d, const ww_sol_ix *ix, const uint8_t *prog)
{
    const uint8_t *k, *mint;
    if (ix->n_data < 1)
        return;
    uint8_t tag = ix->data[0];
    d->cur_amount_ok = (tag == 3 || tag == 12) && ix->n_data >= 9;
    d->cur_amount = d->cur_amount_ok ? le64(ix->data + 1) : 0;
    d->cur_mint = NULL;
    switch (tag) {
    case 3: /* Transfer [source, destination, owner] */
        if (ix->n_data < 9)
            break;
        set_kind(d->wc, "spl-transfer");
        set_amount(d, ix);
        funds_owner(d, ix, 2);
        if ((k = ix_key(d, ix, 1)) != NULL)
            token_recipient(d, k, NULL, prog);
        return;
    case 12: /* TransferChecked [source, mint, destination, owner] */
        if (ix->n_data < 10)
            break;
        set_kind(d->wc, "spl-transferChecked");
        set_amount(d, ix);
        funds_owner(d, ix, 3);
        mint = ix_key(d, ix, 1);
        if ((k = ix_key(d, ix, 2)) != NULL) {
            token_recipient(d, k, mint, prog);
        } else if (mint != NULL && !d->wc->has_token) {
            /* destination behind a lookup table: the mint is still known */
            key_addr(&d->wc->token, mint);
            d->wc->has_token = true;
        }
        return;
    case 4:  /* Approve [source, delegate, owner] */
    case 13: /* ApproveChecked [source, mint, delegate, owner] */
        if (ix->n_data < (tag == 4 ? 9u : 10u))
            break;
        set_kind(d->wc, tag == 4 ? "spl-approve" : "spl-approveChecked");
        set_amount(d, ix);
        if (tag == 13 && (mint = ix_key(d, ix, 1)) != NULL && !d->wc->has_token) {
            key_addr(&d->wc->token, mint);
            d->wc->has_token = true;
        }
        funds_owner(d, ix, tag == 4 ? 2 : 3);
        if ((k = ix_key(d, ix, tag == 4 ? 1 : 2)) != NULL) {
            ww_party *p = add(d, WW_ROLE_SPENDER, true, le64(ix->data + 1) == UINT64_MAX, k);
            if (p != NULL) {
                u64_dec(p->amount, sizeof p->amount, le64(ix->data + 1));
                p->revocation = le64(ix->data + 1) == 0;
                if (tag == 13 && (mint = ix_key(d, ix, 1)) != NULL) {
                    key_addr(&p->token, mint);
                    p->has_token = true;
                }
            }
        }
        return;
    case 6: /* SetAuthority {type u8, COption<Pubkey>} [account, current] */
        if (ix->n_data < 3)
            break;
        set_kind(d->wc, "spl-setAuthority");
        if (ix->data[2] == 1 && ix->n_data >= 35)
            (void)add(d, WW_ROLE_AUTHORITY, false, false, ix->data + 3);
        return;
    case 9: /* CloseAccount [account, destination, owner] */
        set_kind(d->wc, "spl-closeAccount");
        funds_owner(d, ix, 2);
        if ((k = ix_key(d, ix, 1)) != NULL)
            (void)add(d, WW_ROLE_RECIPIENT, true, false, k);
        return;
    default:
        break;
    }
    set_kind(d->wc, "program-call");
}

static void do_instructions(soldec *d)
{
    for (size_t i = 0; i < d->m->n_ix; i++) {
        const ww_sol_ix *ix = &d->m->ix[i];
        const uint8_t *prog = d->m->keys + 32 * (size_t)ix->program;
        if (memcmp(prog, SYSTEM_PROGRAM, 32) == 0)
            do_system(d, ix);
        else if (memcmp(prog, TOKEN_PROGRAM, 32) == 0 || memcmp(prog, TOKEN22_PROGRAM, 32) == 0)
            do_token(d, ix, prog);
        else if (memcmp(prog, ATA_PROGRAM, 32) == 0)
            set_kind(d->wc, "ata-create");
        else
            d->info->n_ix_unknown++;
    }
    if (d->wc->kind[0] == '\0')
        snprintf(d->wc->kind, sizeof d->wc->kind, "program-call");
}

/* Semantic checks a runtime applies (the codec accepts any structure): the header fits the
 * keys, program ids are static keys, account indices are in range. */
static bool msg_valid(const ww_sol_msg *m)
{
    size_t total = m->n_keys + m->n_alt_keys;
    if (m->n_required_sigs == 0 || m->n_required_sigs > m->n_keys ||
        m->n_readonly_signed >= m->n_required_sigs ||
        m->n_readonly_unsigned > m->n_keys - m->n_required_sigs)
        return false;
    for (size_t i = 0; i < m->n_ix; i++) {
        if (m->ix[i].program >= m->n_keys)
            return false;
        for (size_t j = 0; j < m->ix[i].n_acc; j++)
            if (m->ix[i].acc[j] >= total)
                return false;
    }
    return true;
}

static void fill_from_message(ww_wallet_call *wc, ww_solana_tx_info *info, const ww_sol_msg *m)
{
    soldec d = {.wc = wc, .info = info, .m = m};
    info->version = m->version;
    if (m->n_keys > 0) {
        key_addr(&wc->from, m->keys);
        wc->has_from = true;
    }
    do_instructions(&d);
}

static void sodium_once(void)
{
    static bool done; /* atomic: --workers decode on several threads */
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        if (sodium_init() < 0) /* thread-safe itself */
            return;
        __atomic_store_n(&done, true, __ATOMIC_RELEASE);
    }
}

int ww_solana_decode_tx(ww_wallet_call *wc, ww_solana_tx_info *info, const uint8_t *p, size_t n,
                        bool allow_message)
{
    ww_solana_tx_info dummy;
    ww_sol_msg m;
    ww_rd r = ww_rd_init(p, n);
    size_t nsig = 0;
    int err = WW_E_INVALID;
    const uint8_t *sigs = NULL;
    ssize_t ml;

    if (info == NULL)
        info = &dummy;
    memset(info, 0, sizeof *info);
    info->version = -1;
    wc->chain = WW_CHAIN_SOLANA;
    wc->signature_valid = -1;
    if (rd_cu16(&r, &nsig, &err) && nsig > 0 && nsig <= WW_SOL_MAX_SIGS &&
        nsig <= ww_rd_left(&r) / 64 && rd_slice(&r, &sigs, 64 * nsig, &err)) {
        ml = ww_solana_msg_parse(&m, r.p, ww_rd_left(&r));
        if (ml > 0 && (size_t)ml == ww_rd_left(&r) && m.n_required_sigs == nsig &&
            msg_valid(&m)) {
            const uint8_t *msg = r.p;
            info->n_sigs = nsig;
            sodium_once();
            for (size_t i = 0; i < nsig; i++) {
                static const uint8_t ZERO[64];
                if (memcmp(sigs + 64 * i, ZERO, 64) == 0) {
                    info->n_sigs_zero++;
                    continue;
                }
                if (crypto_sign_verify_detached(sigs + 64 * i, msg, (unsigned long long)ml,
                                                m.keys + 32 * i) != 0)
                    info->n_sigs_bad++;
            }
            if (info->n_sigs_bad > 0)
                wc->signature_valid = 0;
            else if (info->n_sigs_zero == 0)
                wc->signature_valid = 1;
            if (info->n_sigs_zero == 0 || memcmp(sigs, (const uint8_t[64]){0}, 64) != 0)
                (void)ww_b58_encode(wc->tx_hash, sizeof wc->tx_hash, sigs, 64);
            fill_from_message(wc, info, &m);
            if (info->n_sigs_bad > 0) {
                info->error = "a signature does not verify";
                return WW_E_CRYPTO;
            }
            return WW_OK;
        }
        if (!allow_message) {
            info->error = ml < 0 ? "malformed message" : "signature count does not match";
            return ml < 0 ? (int)ml : WW_E_INVALID;
        }
    } else if (!allow_message) {
        info->error = "malformed signature section";
        return err;
    }
    ml = ww_solana_msg_parse(&m, p, n);
    if (ml < 0) {
        info->error = ml == WW_E_UNSUPPORTED ? "unsupported message version" : "malformed message";
        return (int)ml;
    }
    if ((size_t)ml != n || !msg_valid(&m)) {
        info->error = (size_t)ml != n ? "bytes after the message" : "inconsistent message";
        return WW_E_INVALID;
    }
    info->bare_message = true;
    fill_from_message(wc, info, &m);
    return WW_OK;
}
