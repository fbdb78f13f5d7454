/*
 * solana_int.h - Solana decoding inside decode/: base58/base64, compiled messages (legacy
 * and v0), wire transactions (signatures verified with libsodium), System / SPL Token /
 * Token-2022 / Associated Token Account instructions.
 */
#ifndef WW_SOLANA_INT_H
#define WW_SOLANA_INT_H

#include "decode/decode.h"

#define WW_SOL_MAX_SIGS 64  /* signatures in one wire transaction */
#define WW_SOL_MAX_IX 64    /* instructions looked at in one message */
#define WW_SOL_MAX_ALT 32   /* address-table lookups in one v0 message */

/* Base64 (standard or URL-safe, padding optional). Returns the decoded length or -1. */
ssize_t ww_b64_decode(uint8_t *out, size_t cap, const char *s, size_t n);

/* One compiled instruction: slices into the message bytes. */
typedef struct ww_sol_ix {
    uint8_t program;            /* index into the account list */
    const uint8_t *acc;         /* account indices */
    size_t n_acc;
    const uint8_t *data;
    size_t n_data;
} ww_sol_ix;

/* One v0 address-table lookup. */
typedef struct ww_sol_alt {
    const uint8_t *table;       /* 32-byte lookup table address */
    const uint8_t *writable;    /* indices into the table */
    size_t n_writable;
    const uint8_t *readonly;
    size_t n_readonly;
} ww_sol_alt;

/*
 *   legacy message:  header(3) | cu16 n_keys | keys(32*n) | blockhash(32) | cu16 n_ix | ix...
 *   v0 message:      0x80 | the same | cu16 n_alt | (table(32) cu16 n_w w... cu16 n_r r...)...
 *   instruction:     program index u8 | cu16 n | indices u8*n | cu16 len | data
 *   cu16 = compact-u16 (1..3 bytes, 7 bits each, little-endian groups, canonical)
 */
typedef struct ww_sol_msg {
    int version;                 /* -1 legacy, 0 v0 */
    uint8_t n_required_sigs, n_readonly_signed, n_readonly_unsigned;
    size_t n_keys;               /* static account keys */
    const uint8_t *keys;         /* 32 * n_keys */
    const uint8_t *blockhash;    /* 32 bytes */
    size_t n_ix;                 /* instructions stored (<= WW_SOL_MAX_IX) */
    size_t n_ix_total;           /* instructions in the message */
    ww_sol_ix ix[WW_SOL_MAX_IX];
    size_t n_alt;
    size_t n_alt_keys;           /* accounts loaded through lookup tables (unresolved) */
    ww_sol_alt alt[WW_SOL_MAX_ALT];
} ww_sol_msg;

/*
 * Parses one compiled message (no signatures), structurally, as kit's codec does: header and
 * indices are not checked against the keys here (ww_solana_decode_tx does that before any
 * index is used). Slices point into p.
 * Returns bytes consumed, WW_E_TRUNC (ends early), WW_E_INVALID (bad compact-u16),
 * WW_E_UNSUPPORTED (message version > 0).
 */
ssize_t ww_solana_msg_parse(ww_sol_msg *m, const uint8_t *p, size_t n) WW_WUR;

typedef struct ww_solana_tx_info {
    int version;              /* -1 legacy, 0 v0 */
    const char *error;        /* static text when not WW_OK */
    size_t n_sigs;            /* signature slots */
    size_t n_sigs_zero;       /* ... left empty (not signed yet) */
    size_t n_sigs_bad;        /* ... that do not verify */
    size_t n_unresolved;      /* instruction accounts behind lookup tables that mattered */
    size_t n_ix_unknown;      /* instructions of programs not decoded */
    size_t n_parties_dropped;
    bool bare_message;        /* the input was a message without signatures */
} ww_solana_tx_info;

/*
 * Decodes a serialized transaction (wire format: cu16 n_sigs | sigs(64*n) | message), or
 * when that fails and allow_message, a bare compiled message. Fills wc: chain SOLANA, kind,
 * from (fee payer), tx_hash (first signature, base58, when signed), signature_valid
 * (1 all present and valid, 0 one does not verify, -1 some or all slots empty), value
 * (lamports of the first System transfer), amount/token (first token operation: amount and
 * mint), parties (recipients, spenders, authorities, closeAccount destinations).
 * Returns WW_OK, WW_E_CRYPTO (well-formed, a signature does not verify), or the parse error.
 */
int ww_solana_decode_tx(ww_wallet_call *wc, ww_solana_tx_info *info, const uint8_t *p, size_t n,
                        bool allow_message);

#endif
