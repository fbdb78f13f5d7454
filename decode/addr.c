/*
 * addr.c - chain names, address parsing and normalization, and the EVM address scanner
 * for response bodies.
 *
 *   EVM      "0x" + 40 hex; EIP-55 mixed-case checksum: hex digit i is upper case iff
 *            nibble i of keccak256(lowercase hex text) >= 8.
 *   bitcoin  base58check P2PKH/P2SH (version 0x00 / 0x05), or bech32/bech32m "bc1..."
 *            (BIP-173 / BIP-350; checksum verified, normalized to lower case)
 *   litecoin base58check (0x30 L, 0x32 M, 0x05 3) or "ltc1..." bech32
 *   bitcoincash  cashaddr "bitcoincash:q.../p..." (prefix optional, normalized WITH it,
 *            lower case; charset and length only), or a legacy base58check address
 *   tron     base58check, 21 bytes, version 0x41 ("T...")
 *   solana   base58 of exactly 32 bytes
 */
#include <openssl/sha.h>

#include "decode/evm_int.h"

static const char *const CHAIN_NAMES[WW_CHAIN_COUNT] = {
    "none", "evm", "solana", "bitcoin", "litecoin", "bitcoincash", "tron",
};

const char *ww_chain_name(int chain)
{
    if (chain <= WW_CHAIN_NONE || chain >= WW_CHAIN_COUNT)
        return "none";
    return CHAIN_NAMES[chain];
}

int ww_chain_from_name(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int chain;
    } T[] = {
        {"evm", WW_CHAIN_EVM},           {"eth", WW_CHAIN_EVM},
        {"ethereum", WW_CHAIN_EVM},      {"solana", WW_CHAIN_SOLANA},
        {"sol", WW_CHAIN_SOLANA},        {"bitcoin", WW_CHAIN_BITCOIN},
        {"btc", WW_CHAIN_BITCOIN},       {"litecoin", WW_CHAIN_LITECOIN},
        {"ltc", WW_CHAIN_LITECOIN},      {"bitcoincash", WW_CHAIN_BITCOINCASH},
        {"bch", WW_CHAIN_BITCOINCASH},   {"tron", WW_CHAIN_TRON},
        {"trx", WW_CHAIN_TRON},
    };
    if (s == NULL)
        return WW_CHAIN_NONE;
    for (size_t i = 0; i < WW_ARRAY_LEN(T); i++)
        if (ww_ascii_ieq(s, n, T[i].name))
            return T[i].chain;
    return WW_CHAIN_NONE;
}

const char *ww_role_name(int role)
{
    static const char *const R[WW_ROLE_COUNT] = {"to",       "recipient", "spender",
                                                 "operator", "delegate",  "authority"};
    if (role < 0 || role >= WW_ROLE_COUNT)
        return "unknown";
    return R[role];
}

/* ---- EVM ---- */

static const char HEXL[] = "0123456789abcdef";

void ww_addr_from_evm(ww_addr *out, const uint8_t raw[20])
{
    memset(out, 0, sizeof *out);
    out->chain = WW_CHAIN_EVM;
    out->text[0] = '0';
    out->text[1] = 'x';
    for (int i = 0; i < 20; i++) {
        out->text[2 + 2 * i] = HEXL[raw[i] >> 4];
        out->text[3 + 2 * i] = HEXL[raw[i] & 15];
    }
    out->text[42] = '\0';
    out->len = 42;
}

void ww_addr_evm_checksum(char out[43], const char *lower)
{
    uint8_t h[32];
    char low[40];
    for (int i = 0; i < 40; i++) {
        char c = lower[2 + i];
        low[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    ww_keccak256(h, (const uint8_t *)low, 40);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        char c = low[i];
        int nib = (i & 1) ? (h[i / 2] & 15) : (h[i / 2] >> 4);
        if (c >= 'a' && c <= 'f' && nib >= 8)
            c = (char)(c - 'a' + 'A');
        out[2 + i] = c;
    }
    out[42] = '\0';
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* s points at 40 hex digits (already checked). Fills out (lower case) and flags. */
static void evm_from_hex40(ww_addr *out, const char *s)
{
    bool up = false, low = false;
    memset(out, 0, sizeof *out);
    out->chain = WW_CHAIN_EVM;
    out->text[0] = '0';
    out->text[1] = 'x';
    for (int i = 0; i < 40; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F') {
            up = true;
            c = (char)(c - 'A' + 'a');
        } else if (c >= 'a' && c <= 'f') {
            low = true;
        }
        out->text[2 + i] = c;
    }
    out->text[42] = '\0';
    out->len = 42;
    if (up && low) {
        char ck[43];
        out->flags |= WW_ADDR_F_MIXEDCASE;
        ww_addr_evm_checksum(ck, out->text);
        if (memcmp(ck + 2, s, 40) != 0)
            out->flags |= WW_ADDR_F_BAD_CHECKSUM;
        /* the form as written, after the normalized text's NUL (ww_addr_written) */
        memcpy(out->text + 43, "0x", 2);
        memcpy(out->text + 45, s, 40);
    }
}

#if defined(__SSE2__)
/* 16 bytes at s: into *bad the bits of the bytes that are not hex digits, into *up / *lo those
 * of A-F / a-f; at dst the bytes with 0x20 set (lower case, for a hex digit). */
static inline void hex16(const char *s, char *dst, unsigned *bad, unsigned *up, unsigned *lo)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i v20 = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i d = _mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0')));
    __m128i is_digit = _mm_cmplt_epi8(d, _mm_set1_epi8((char)(-128 + 10)));
    __m128i l = _mm_add_epi8(v20, _mm_set1_epi8((char)(0x80 - 'a')));
    __m128i is_af = _mm_cmplt_epi8(l, _mm_set1_epi8((char)(-128 + 6)));
    __m128i lower = _mm_cmpeq_epi8(v, v20); /* 0x20 was set */
    *bad |= ~(unsigned)_mm_movemask_epi8(_mm_or_si128(is_digit, is_af)) & 0xffffu;
    *up |= (unsigned)_mm_movemask_epi8(_mm_andnot_si128(lower, is_af));
    *lo |= (unsigned)_mm_movemask_epi8(_mm_and_si128(lower, is_af));
    _mm_storeu_si128((__m128i *)(void *)dst, v20);
}
#endif

/* s points at 40 bytes: false when one is not a hex digit, else evm_from_hex40(out, s). */
static bool evm_scan_hex40(ww_addr *out, const char *s)
{
#if defined(__SSE2__)
    char low[48];
    unsigned bad = 0, up = 0, lo = 0;
    hex16(s, low, &bad, &up, &lo);
    hex16(s + 16, low + 16, &bad, &up, &lo);
    hex16(s + 24, low + 24, &bad, &up, &lo); /* overlaps the second by 8: the same bytes */
    if (bad != 0)
        return false;
    if (up != 0 && lo != 0) {
        evm_from_hex40(out, s); /* mixed case: EIP-55 and the form as written */
        return true;
    }
    memset(out, 0, sizeof *out);
    out->chain = WW_CHAIN_EVM;
    out->text[0] = '0';
    out->text[1] = 'x';
    memcpy(out->text + 2, low, 40);
    out->len = 42;
    return true;
#else
    for (size_t i = 0; i < 40; i++)
        if (ww_hex_val((unsigned char)s[i]) < 0)
            return false;
    evm_from_hex40(out, s);
    return true;
#endif
}

static int parse_evm(ww_addr *out, const char *s, size_t n)
{
    if (n != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return WW_E_INVALID;
    for (size_t i = 2; i < 42; i++)
        if (ww_hex_val((unsigned char)s[i]) < 0)
            return WW_E_INVALID;
    evm_from_hex40(out, s + 2);
    return WW_OK;
}

/* ---- base58check (base58 itself: util/ww.c) ---- */

/* base58check: payload of exactly want bytes (version included) + 4-byte checksum. */
static bool b58check(const char *s, size_t n, size_t want, uint8_t *version)
{
    uint8_t d[64], h1[32], h2[32];
    ssize_t k = ww_b58_decode(d, sizeof d, s, n);
    if (k < 0 || (size_t)k != want + 4)
        return false;
    SHA256(d, want, h1);
    SHA256(h1, 32, h2);
    if (memcmp(h2, d + want, 4) != 0)
        return false;
    *version = d[0];
    return true;
}

/* ---- bech32 (BIP-173/350) ---- */

static const char B32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static int b32_val(unsigned char c)
{
    const char *q;
    if (c >= 'A' && c <= 'Z')
        c = (unsigned char)(c - 'A' + 'a');
    if (c == 0)
        return -1;
    q = strchr(B32, c);
    return q ? (int)(q - B32) : -1;
}

static uint32_t b32_polymod_step(uint32_t pre)
{
    uint8_t b = (uint8_t)(pre >> 25);
    return ((pre & 0x1ffffff) << 5) ^ (-((b >> 0) & 1) & 0x3b6a57b2UL) ^
           (-((b >> 1) & 1) & 0x26508e6dUL) ^ (-((b >> 2) & 1) & 0x1ea119faUL) ^
           (-((b >> 3) & 1) & 0x3d4233ddUL) ^ (-((b >> 4) & 1) & 0x2a1462b3UL);
}

/* Segwit address for hrp ("bc", "ltc"): case-consistent, checksum bech32 or bech32m. */
static bool bech32_segwit(const char *s, size_t n, const char *hrp)
{
    size_t hl = strlen(hrp), i;
    bool up = false, low = false;
    uint32_t chk = 1;
    if (n < hl + 1 + 6 + 1 || n > 90)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126)
            return false;
        if (c >= 'a' && c <= 'z')
            low = true;
        if (c >= 'A' && c <= 'Z')
            up = true;
    }
    if (up && low)
        return false;
    for (i = 0; i < hl; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != hrp[i])
            return false;
    }
    if (s[hl] != '1')
        return false;
    for (i = 0; i < hl; i++)
        chk = b32_polymod_step(chk) ^ ((unsigned char)hrp[i] >> 5);
    chk = b32_polymod_step(chk);
    for (i = 0; i < hl; i++)
        chk = b32_polymod_step(chk) ^ ((unsigned char)hrp[i] & 31);
    int ver = -1, last = 0;
    for (i = hl + 1; i < n; i++) {
        int v = b32_val((unsigned char)s[i]);
        if (v < 0)
            return false;
        if (ver < 0)
            ver = v;
        if (i == n - 7)
            last = v; /* last 5-bit group of the program */
        chk = b32_polymod_step(chk) ^ (uint32_t)v;
    }
    if (ver > 16)
        return false;
    size_t data5 = n - hl - 1 - 1 - 6; /* program, in 5-bit groups */
    size_t prog = data5 * 5 / 8, pad = data5 * 5 - prog * 8;
    if (prog < 2 || prog > 40 || (ver == 0 && prog != 20 && prog != 32))
        return false;
    if (pad > 4 || (last & ((1 << pad) - 1)) != 0)
        return false; /* BIP-173: at most 4 zero padding bits */
    return ver == 0 ? chk == 1 : chk == 0x2bc830a3UL;
}

static void set_text(ww_addr *out, int chain, const char *s, size_t n, bool lower)
{
    memset(out, 0, sizeof *out);
    out->chain = (uint8_t)chain;
    if (!lower) {
        memcpy(out->text, s, n); /* base58 as is: the scanner's Solana / base58check hits */
    } else {
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            out->text[i] = c;
        }
    }
    out->text[n] = '\0';
    out->len = (uint8_t)n;
}

static bool starts_ci(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && ww_ascii_ieq(s, k, lit);
}

static int parse_btc_like(ww_addr *out, int chain, const char *s, size_t n)
{
    uint8_t ver;
    const char *hrp = chain == WW_CHAIN_LITECOIN ? "ltc" : "bc";
    if (starts_ci(s, n, chain == WW_CHAIN_LITECOIN ? "ltc1" : "bc1")) {
        if (!bech32_segwit(s, n, hrp))
            return WW_E_INVALID;
        set_text(out, chain, s, n, true);
        return WW_OK;
    }
    if (n < 26 || n > 35 || !b58check(s, n, 21, &ver))
        return WW_E_INVALID;
    if (chain == WW_CHAIN_LITECOIN ? (ver != 0x30 && ver != 0x32 && ver != 0x05)
                                   : (ver != 0x00 && ver != 0x05))
        return WW_E_INVALID;
    set_text(out, chain, s, n, false);
    return WW_OK;
}

/* cashaddr checksum (BCH spec "cashaddr.md"): BCH code over GF(32), 40-bit generator. */
static uint64_t cash_polymod_step(uint64_t c, unsigned d)
{
    uint8_t c0 = (uint8_t)(c >> 35);
    c = ((c & 0x07ffffffffULL) << 5) ^ d;
    if (c0 & 0x01)
        c ^= 0x98f2bc8e61ULL;
    if (c0 & 0x02)
        c ^= 0x79b76d99e2ULL;
    if (c0 & 0x04)
        c ^= 0xf33e5fb3c4ULL;
    if (c0 & 0x08)
        c ^= 0xae2eabe2a8ULL;
    if (c0 & 0x10)
        c ^= 0x1e4f43e470ULL;
    return c;
}

/*
 * A cashaddr payload (after "bitcoincash:", any case but not mixed): version byte (type and
 * hash size) + hash + 40-bit checksum over the prefix "bitcoincash". True when the checksum,
 * the padding and the hash size the version byte announces all hold.
 */
static bool cashaddr_body_ok(const char *body, size_t bn)
{
    static const unsigned SIZES[8] = {20, 24, 28, 32, 40, 48, 56, 64};
    static const char PFX[] = "bitcoincash";
    uint64_t c = 1;
    bool up = false, low = false;
    unsigned v0 = 0, v1 = 0;

    if (bn < 42 || bn > 112 - 12)
        return false;
    for (size_t i = 0; i < sizeof PFX - 1; i++)
        c = cash_polymod_step(c, (unsigned)PFX[i] & 31);
    c = cash_polymod_step(c, 0);
    for (size_t i = 0; i < bn; i++) {
        unsigned char ch = (unsigned char)body[i];
        int v;
        if (ch >= 'A' && ch <= 'Z')
            up = true;
        else if (ch >= 'a' && ch <= 'z')
            low = true;
        if ((v = b32_val(ch)) < 0)
            return false;
        if (i == 0)
            v0 = (unsigned)v;
        else if (i == 1)
            v1 = (unsigned)v;
        c = cash_polymod_step(c, (unsigned)v);
    }
    if (up && low)
        return false;
    if ((c ^ 1) != 0)
        return false;
    /* payload: (bn - 8) 5-bit groups = version byte + hash, zero-padded to a 5-bit boundary */
    unsigned version = (v0 << 3) | (v1 >> 2);
    size_t groups = bn - 8, bytes = groups * 5 / 8, pad = groups * 5 - bytes * 8;
    if ((version & 0x80) != 0 || pad > 4)
        return false;
    if ((version >> 3) != 0 && (version >> 3) != 1)
        return false; /* type 0 = P2PKH (q), 1 = P2SH (p) */
    return bytes == 1 + SIZES[version & 7];
}

static int parse_cashaddr(ww_addr *out, const char *s, size_t n)
{
    static const char PFX[] = "bitcoincash:";
    const size_t pl = sizeof PFX - 1;
    char buf[WW_ADDR_TEXT_MAX];
    const char *body = s;
    size_t bn = n;

    if (starts_ci(s, n, PFX)) {
        body = s + pl;
        bn = n - pl;
    }
    if (bn + pl >= sizeof buf || !cashaddr_body_ok(body, bn))
        return WW_E_INVALID;
    memcpy(buf, PFX, pl);
    memcpy(buf + pl, body, bn);
    set_text(out, WW_CHAIN_BITCOINCASH, buf, pl + bn, true);
    return WW_OK;
}

static int parse_one(ww_addr *out, int chain, const char *s, size_t n)
{
    uint8_t ver, d[64];
    switch (chain) {
    case WW_CHAIN_EVM:
        return parse_evm(out, s, n);
    case WW_CHAIN_BITCOIN:
    case WW_CHAIN_LITECOIN:
        return parse_btc_like(out, chain, s, n);
    case WW_CHAIN_BITCOINCASH:
        if (parse_cashaddr(out, s, n) == WW_OK)
            return WW_OK;
        if (n >= 26 && n <= 35 && b58check(s, n, 21, &ver) && (ver == 0x00 || ver == 0x05)) {
            set_text(out, chain, s, n, false);
            return WW_OK;
        }
        return WW_E_INVALID;
    case WW_CHAIN_TRON:
        if (n != 34 || s[0] != 'T' || !b58check(s, n, 21, &ver) || ver != 0x41)
            return WW_E_INVALID;
        set_text(out, chain, s, n, false);
        return WW_OK;
    case WW_CHAIN_SOLANA:
        if (n < 32 || n > 44 || ww_b58_decode(d, sizeof d, s, n) != 32)
            return WW_E_INVALID;
        set_text(out, chain, s, n, false);
        return WW_OK;
    default:
        return WW_E_INVALID;
    }
}

int ww_addr_parse(ww_addr *out, int chain, const char *s, size_t n)
{
    static const int GUESS[] = {WW_CHAIN_EVM,  WW_CHAIN_BITCOIN,     WW_CHAIN_LITECOIN,
                                WW_CHAIN_TRON, WW_CHAIN_BITCOINCASH, WW_CHAIN_SOLANA};
    if (s == NULL || n == 0 || n >= WW_ADDR_TEXT_MAX)
        return WW_E_INVALID;
    if (chain != WW_CHAIN_NONE)
        return parse_one(out, chain, s, n);
    for (size_t i = 0; i < WW_ARRAY_LEN(GUESS); i++)
        if (parse_one(out, GUESS[i], s, n) == WW_OK)
            return WW_OK;
    return WW_E_INVALID;
}

size_t ww_addr_fixed_len(const ww_addr *a)
{
    switch (a->chain) {
    case WW_CHAIN_EVM:
        return a->len >= 2 ? 2 : 0; /* 0x */
    case WW_CHAIN_BITCOIN:
        if (a->len > 4 && memcmp(a->text, "bc1", 3) == 0)
            return 4; /* hrp, separator, witness version */
        return a->len > 0 ? 1 : 0;
    case WW_CHAIN_LITECOIN:
        if (a->len > 5 && memcmp(a->text, "ltc1", 4) == 0)
            return 5;
        return a->len > 0 ? 1 : 0;
    case WW_CHAIN_BITCOINCASH: {
        const char *colon = memchr(a->text, ':', a->len);
        size_t k = colon ? (size_t)(colon - a->text) + 2 : 1; /* prefix, ':', q/p */
        return k <= a->len ? k : 0;
    }
    case WW_CHAIN_TRON:
        return a->len > 0 ? 1 : 0;
    default:
        return 0;
    }
}

double ww_addr_char_bits(const ww_addr *a)
{
    switch (a->chain) {
    case WW_CHAIN_EVM:
        return 4.0;
    case WW_CHAIN_BITCOINCASH:
        return 5.0;
    case WW_CHAIN_BITCOIN:
    case WW_CHAIN_LITECOIN:
        if (a->text[0] == 'b' || a->text[0] == 'l')
            return 5.0;
        return 5.857981; /* log2(58) */
    default:
        return 5.857981;
    }
}

const char *ww_addr_written(const ww_addr *a)
{
    if ((a->flags & WW_ADDR_F_MIXEDCASE) && a->len == 42 && a->text[43] == '0' &&
        a->text[85] == '\0')
        return a->text + 43;
    return a->text;
}

/* ---- scanner ---- */

/*
 * One pass over the body, by runs of [0-9A-Za-z] (an address is always one whole run: what
 * precedes and follows it is not a letter or digit). Per byte only a table lookup; a run is
 * looked at only when its length fits a format:
 *
 *   42        "0x" + 40 hex                      EVM (the common case, checked first)
 *   14..90    "bc1" / "ltc1" + bech32 charset    segwit v0 (bech32) / v1+ (bech32m), checksum
 *   42, 61    bech32 charset, starts q/p         cashaddr, with or without "bitcoincash:";
 *                                                40-bit BCH checksum over the prefix
 *   26..35    base58                             base58check, 21-byte payload: version 0x00/0x05
 *                                                bitcoin, 0x30/0x32 litecoin, 0x41 tron
 *   32..44    base58, decodes to 32 bytes        solana, with the heuristic below
 *
 * Solana keys carry no checksum, so a random run of base58 letters would be taken for one.
 * A run is kept only when (1) it contains a digit, an upper-case and a lower-case letter
 * (English words, identifiers in minified JS, hex digests and decimal numbers do not), and
 * (2) the bytes around it are delimiters an address is written between - start/end of the
 * body, white space, quotes, and , ; : = ( ) [ ] { } < > & ? | - and NOT '+' '/' '-' '_' '.'
 * '%' '\\' '$' '#' '@' (base64 and base64url blobs, JWTs, paths, minified property chains and
 * escapes are split into alphanumeric runs by exactly those characters). Measured false
 * positives: tests/test_addr.c scan_solana_false_positives.
 */
enum {
    CC_ALNUM = 1,
    CC_HEX = 2,
    CC_B58 = 4,
    CC_B32 = 8, /* bech32 charset, either case */
    CC_DIGIT = 16,
    CC_UPPER = 32,
    CC_LOWER = 64,
    CC_DELIM = 128, /* may stand next to a Solana address */
};

static uint8_t CC[256];
static bool cc_ready;

static void cc_init(void)
{
    for (int c = 0; c < 256; c++) {
        uint8_t k = 0;
        bool digit = c >= '0' && c <= '9', up = c >= 'A' && c <= 'Z', lo = c >= 'a' && c <= 'z';
        if (digit || up || lo)
            k |= CC_ALNUM;
        if (ww_hex_val((unsigned char)c) >= 0)
            k |= CC_HEX;
        if (ww_b58_val(c) >= 0)
            k |= CC_B58;
        if ((digit || up || lo) && b32_val((unsigned char)c) >= 0)
            k |= CC_B32;
        if (digit)
            k |= CC_DIGIT;
        if (up)
            k |= CC_UPPER;
        if (lo)
            k |= CC_LOWER;
        if (c != 0 && strchr(" \t\r\n\f\v\"'`,;:=()[]{}<>&?|", c) != NULL)
            k |= CC_DELIM;
        CC[c] = k;
    }
    __atomic_store_n(&cc_ready, true, __ATOMIC_RELEASE);
}

static bool delim_ok(const uint8_t *p, size_t n, size_t start, size_t end)
{
    return (start == 0 || (CC[p[start - 1]] & CC_DELIM)) && (end == n || (CC[p[end]] & CC_DELIM));
}

/* Classifies one run p[start, end) (all alphanumeric). True with *a filled when an address. */
static bool scan_run(const uint8_t *p, size_t n, size_t start, size_t end, ww_addr *a)
{
    const char *s = (const char *)p + start;
    size_t len = end - start;
    uint8_t ver, any = 0, all = 0xff;

    if (len == 42 && s[0] == '0' && (s[1] | 0x20) == 'x')
        return evm_scan_hex40(a, s + 2);
    if (len >= 14 && len <= 90 && ((s[0] | 0x20) == 'b' || (s[0] | 0x20) == 'l')) {
        if (starts_ci(s, len, "bc1"))
            return parse_btc_like(a, WW_CHAIN_BITCOIN, s, len) == WW_OK;
        if (starts_ci(s, len, "ltc1"))
            return parse_btc_like(a, WW_CHAIN_LITECOIN, s, len) == WW_OK;
    }
    /* the character classes of the run: only the formats below need them (an EVM address or
     * a long hex string never gets here, or stops at its first character, '0') */
    if ((len == 42 || len == 61) && ((s[0] | 0x20) == 'q' || (s[0] | 0x20) == 'p')) {
        for (size_t i = 0; i < len; i++)
            all &= CC[(uint8_t)s[i]];
        if ((all & CC_B32) && parse_cashaddr(a, s, len) == WW_OK)
            return true;
        all = 0xff;
    }
    for (size_t i = 0; i < len && (all & CC_B58); i++) {
        uint8_t k = CC[(uint8_t)s[i]];
        any |= k;
        all &= k;
    }
    if (!(all & CC_B58))
        return false;
    if (len >= 26 && len <= 35 && b58check(s, len, 21, &ver)) {
        int chain = WW_CHAIN_NONE;
        if (ver == 0x00 || ver == 0x05)
            chain = WW_CHAIN_BITCOIN;
        else if (ver == 0x30 || ver == 0x32)
            chain = WW_CHAIN_LITECOIN;
        else if (ver == 0x41 && len == 34)
            chain = WW_CHAIN_TRON;
        if (chain != WW_CHAIN_NONE) {
            set_text(a, chain, s, len, false);
            return true;
        }
        return false;
    }
    if (len >= 32 && len <= 44 && (any & (CC_DIGIT | CC_UPPER | CC_LOWER)) ==
                                      (CC_DIGIT | CC_UPPER | CC_LOWER) &&
        delim_ok(p, n, start, end)) {
        uint8_t d[64];
        if (ww_b58_decode(d, sizeof d, s, len) == 32) {
            set_text(a, WW_CHAIN_SOLANA, s, len, false);
            return true;
        }
    }
    return false;
}

#if defined(__SSE2__)
/* Bit k set when p[k] is [0-9A-Za-z], for 16 bytes. */
static inline unsigned alnum16(const uint8_t *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i d = _mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0')));
    __m128i is_digit = _mm_cmplt_epi8(d, _mm_set1_epi8((char)(-128 + 10)));
    __m128i l = _mm_add_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8((char)(0x80 - 'a')));
    __m128i is_letter = _mm_cmplt_epi8(l, _mm_set1_epi8((char)(-128 + 26)));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(is_digit, is_letter));
}
#endif

/*
 * Skips, 64 bytes at a time, text whose runs of letters and digits are all shorter than the
 * shortest address (14): returns the start of the first run that may be long enough, or a
 * run start before the last partial block. i must not be inside a run (the start of p or just
 * after a non-alphanumeric byte). Without SSE2, returns i (the scalar scan does all).
 */
static size_t skip_short_runs(const uint8_t *p, size_t n, size_t i)
{
#if defined(__SSE2__)
    size_t b = i, tail = 0; /* tail: letters/digits just before b, all at or after i */
    while (b + 64 <= n) {
        uint64_t m = (uint64_t)alnum16(p + b) | (uint64_t)alnum16(p + b + 16) << 16 |
                     (uint64_t)alnum16(p + b + 32) << 32 | (uint64_t)alnum16(p + b + 48) << 48;
        uint64_t lead = ~m == 0 ? 64 : (uint64_t)__builtin_ctzll(~m);
        if (tail + lead >= 14)
            return b - tail; /* a run that began before b is long enough */
        uint64_t x = m;
        x &= x >> 1; /* bit k: k, k+1 set */
        x &= x >> 2; /* k..k+3 */
        x &= x >> 4; /* k..k+7 */
        x &= x >> 6; /* k..k+13 */
        if (x != 0)
            return b + (size_t)__builtin_ctzll(x); /* the first 14-long run starts there */
        uint64_t trail = m == ~0ULL ? 64 : (uint64_t)__builtin_clzll(~m);
        tail = trail == 64 ? tail + 64 : (size_t)trail;
        b += 64;
    }
    return b - tail;
#else
    (void)p;
    (void)n;
    return i;
#endif
}

/* The end of the run of [0-9A-Za-z] at i (the first byte after it, or n). */
static size_t run_end(const uint8_t *p, size_t n, size_t i)
{
#if defined(__SSE2__)
    while (i + 16 <= n) {
        unsigned m = alnum16(p + i);
        if (m != 0xffffu)
            return i + (size_t)__builtin_ctz(~m & 0xffffu);
        i += 16;
    }
#endif
    while (i < n && (CC[p[i]] & CC_ALNUM))
        i++;
    return i;
}

size_t ww_addr_scan(const uint8_t *p, size_t n, ww_addr_found_fn fn, void *ud)
{
    size_t found = 0, i = 0;
    if (!__atomic_load_n(&cc_ready, __ATOMIC_ACQUIRE))
        cc_init();
    while (i < n) {
        i = skip_short_runs(p, n, i);
        /* skip what is not a letter or digit */
        while (i < n && !(CC[p[i]] & CC_ALNUM))
            i++;
        if (i >= n)
            break;
        size_t start = i;
        i = run_end(p, n, i);
        size_t len = i - start;
        if (len < 14 || len > WW_ADDR_RUN_MAX)
            continue;
        ww_addr a;
        if (scan_run(p, n, start, i, &a)) {
            found++;
            if (fn != NULL)
                fn(ud, &a);
        }
    }
    return found;
}

/*
 * Streaming. Every address is one whole run of [0-9A-Za-z] of at most WW_ADDR_RUN_MAX
 * characters, judged by the run itself and (Solana) by the byte before and the byte after it.
 * A piece of a body can therefore be scanned up to the start t of its trailing run: every run
 * before t is complete and its right neighbour p[t-1] is in the piece. What is kept is p[t-1..]:
 * the delimiter (left context for the Solana rule) and the unfinished run.
 *
 * A trailing run already longer than WW_ADDR_RUN_MAX is no address whatever follows; of it
 * only its last WW_ADDR_RUN_MAX + 1 characters are kept, so that presented again the run is
 * still too long (and still skipped, as in a whole scan) and never becomes a shorter, fresh
 * run; a long base64 or hex blob never grows the carry. The carry is thus at most
 * WW_ADDR_RUN_MAX + 1 bytes and the scan needs no state between pieces.
 */
size_t ww_addr_scan_cut(const uint8_t *p, size_t n)
{
    size_t r = n;
    if (!__atomic_load_n(&cc_ready, __ATOMIC_ACQUIRE))
        cc_init();
    while (r > 0 && (CC[p[r - 1]] & CC_ALNUM))
        r--;
    return r;
}

size_t ww_addr_scan_chunk(const uint8_t *p, size_t n, bool last, ww_addr_found_fn fn, void *ud,
                          size_t *found)
{
    size_t k;
    if (last) {
        k = ww_addr_scan(p, n, fn, ud);
        if (found != NULL)
            *found += k;
        return n;
    }
    size_t t = ww_addr_scan_cut(p, n);
    if (t == 0 && n <= WW_ADDR_RUN_MAX)
        return 0; /* one unfinished run: wait for more */
    k = ww_addr_scan(p, t, fn, ud); /* p[t-1], when t > 0, is not a letter or digit */
    if (found != NULL)
        *found += k;
    if (n - t > WW_ADDR_RUN_MAX)
        return n - (WW_ADDR_RUN_MAX + 1); /* keep the over-long run's tail: still too long */
    return t - 1; /* keep the delimiter and the unfinished run */
}
