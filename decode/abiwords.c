/*
 * abiwords.c - ABI address words inside the hex strings a response carries (issue 13.1):
 * a JSON-RPC result ("result": "0x" + 32-byte words, e.g. an ENS resolver's addr() answered
 * to eth_call) and hex calldata ("data" / "input" / "calldata": "0x" + 4-byte selector +
 * words, as trading APIs return {to, data}). One pass, no allocation, no state between calls.
 */
#include "decode/decode.h"

#define KEY_MAX 8 /* "calldata" */

/* The member name ending at the quote p[q] (its opening quote before), when it is one of
 * ours. Returns the provenance, 0 when not. *k0: where the name's opening quote is. */
static int member_of(const uint8_t *p, size_t q, size_t *k0)
{
    static const struct {
        const char *name;
        size_t len;
        int prov;
    } K[] = {{"result", 6, WW_PROV_RPC_WORD},
             {"data", 4, WW_PROV_CALLDATA},
             {"input", 5, WW_PROV_CALLDATA},
             {"calldata", 8, WW_PROV_CALLDATA}};
    /* most quotes close or open something else: every name of ours ends in 't' or 'a' */
    if (q < 5 || (p[q - 1] != 't' && p[q - 1] != 'a'))
        return 0;
    for (size_t i = 0; i < WW_ARRAY_LEN(K); i++) {
        size_t l = K[i].len;
        if (q >= l + 1 && p[q - l - 1] == '"' && memcmp(p + q - l, K[i].name, l) == 0) {
            *k0 = q - l - 1;
            return K[i].prov;
        }
    }
    return 0;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The next quote at or after i that may close a member name of ours (member_of() is 0 for every
 * other quote: its names all end in 't' or 'a'), else n. SSE2: 16 bytes per step. */
static size_t next_name_quote(const uint8_t *p, size_t n, size_t i)
{
    if (i < 5)
        i = 5; /* member_of() needs q >= 5 */
#if defined(__SSE2__)
    const __m128i dq = _mm_set1_epi8('"'), t = _mm_set1_epi8('t'), a = _mm_set1_epi8('a');
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i - 1));
        __m128i m = _mm_and_si128(_mm_cmpeq_epi8(v, dq),
                                  _mm_or_si128(_mm_cmpeq_epi8(b, t), _mm_cmpeq_epi8(b, a)));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits != 0)
            return i + (size_t)__builtin_ctz(bits);
        i += 16;
    }
#endif
    for (; i < n; i++)
        if (p[i] == '"' && (p[i - 1] == 't' || p[i - 1] == 'a'))
            return i;
    return n;
}

static size_t skip_ws(const uint8_t *p, size_t n, size_t j)
{
    while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' || p[j] == '\n'))
        j++;
    return j;
}

/* One 64-hex-digit word: an address when its top 12 bytes are zero and the low 20 bytes
 * have at most WW_ABI_WORD_MAX_ZERO_DIGITS leading zero digits. */
static bool word_addr(const uint8_t *h, ww_addr *out)
{
    uint8_t raw[20];
    size_t z = 0;
    for (size_t i = 0; i < 24; i++)
        if (h[i] != '0')
            return false;
    while (z < 40 && h[24 + z] == '0')
        z++;
    if (z > WW_ABI_WORD_MAX_ZERO_DIGITS)
        return false;
    if (ww_hex_decode(raw, sizeof raw, (const char *)h + 24, 40) != 20)
        return false;
    ww_addr_from_evm(out, raw);
    return true;
}

size_t ww_abi_words_scan(const uint8_t *p, size_t n, size_t max_words, ww_abi_word_fn fn,
                         void *ud, size_t *open_at)
{
    size_t found = 0, words = 0, i = 0;
    if (open_at != NULL)
        *open_at = n;
    while (i < n) {
        size_t q = next_name_quote(p, n, i), k0 = 0;
        if (q >= n)
            break;
        i = q + 1;
        int prov = member_of(p, q, &k0);
        if (prov == 0)
            continue;
        /* "name" : "0x<hex>" ; a value cut by the end of p is presented again */
        size_t j = skip_ws(p, n, q + 1);
        if (j < n && p[j] != ':')
            continue;
        if (j < n)
            j = skip_ws(p, n, j + 1);
        if (j + 3 > n) {
            if (open_at != NULL)
                *open_at = k0;
            break;
        }
        if (p[j] != '"' || p[j + 1] != '0' || (p[j + 2] | 0x20) != 'x')
            continue;
        size_t h0 = j + 3, h = h0;
        while (h < n && ww_hex_val(p[h]) >= 0)
            h++;
        if (h >= n) { /* the string runs past p: present it again whole */
            if (open_at != NULL)
                *open_at = k0;
            break;
        }
        i = h;
        if (p[h] != '"')
            continue;
        size_t len = h - h0, first;
        if (len % 64 == 0)
            first = 0;
        else if (len % 64 == 8 && prov == WW_PROV_CALLDATA)
            first = 8; /* the selector */
        else
            continue; /* not ABI-encoded words */
        for (size_t w = h0 + first; w + 64 <= h && words < max_words; w += 64, words++) {
            ww_addr a;
            if (word_addr(p + w, &a)) {
                found++;
                fn(ud, &a, prov);
            }
        }
    }
    return found;
}
