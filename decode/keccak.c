/*
 * keccak.c - Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not SHA3's 0x06).
 * OpenSSL 3.0 has no KECCAK-256, hence this. Keccak-f[1600], rate 1088 bits (136 bytes).
 * Tested against the official vectors in tests/test_evm.c (keccak256("") = c5d24601...5d85a470).
 */
#include "decode/evm_int.h"

static const uint64_t RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
static const unsigned ROT[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                 25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};

static inline uint64_t rol64(uint64_t x, unsigned n)
{
    return n == 0 ? x : (x << n) | (x >> (64 - n));
}

static void keccak_f(uint64_t s[25])
{
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], d[5], b[25];
        for (int x = 0; x < 5; x++)
            c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
        for (int x = 0; x < 5; x++)
            d[x] = c[(x + 4) % 5] ^ rol64(c[(x + 1) % 5], 1);
        for (int i = 0; i < 25; i++)
            s[i] ^= d[i % 5];
        /* rho and pi: b[y, 2x+3y] = rol(s[x, y], r[x, y]) */
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = rol64(s[x + 5 * y], ROT[x + 5 * y]);
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                s[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
        s[0] ^= RC[round];
    }
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void ww_keccak256(uint8_t out[32], const uint8_t *p, size_t n)
{
    enum { RATE = 136 };
    uint64_t s[25] = {0};
    uint8_t block[RATE];

    while (n >= RATE) {
        for (int i = 0; i < RATE / 8; i++)
            s[i] ^= load_le64(p + 8 * i);
        keccak_f(s);
        p += RATE;
        n -= RATE;
    }
    memset(block, 0, sizeof block);
    if (n > 0)
        memcpy(block, p, n);
    block[n] ^= 0x01;
    block[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++)
        s[i] ^= load_le64(block + 8 * i);
    keccak_f(s);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            out[8 * i + j] = (uint8_t)(s[i] >> (8 * j));
}

void ww_keccak_init(ww_keccak_ctx *c)
{
    memset(c, 0, sizeof *c);
}

void ww_keccak_update(ww_keccak_ctx *c, const uint8_t *p, size_t n)
{
    enum { RATE = 136 };
    while (n > 0) {
        size_t take = WW_MIN(n, (size_t)RATE - c->n);
        memcpy(c->buf + c->n, p, take);
        c->n += take;
        p += take;
        n -= take;
        if (c->n == RATE) {
            for (int i = 0; i < RATE / 8; i++)
                c->s[i] ^= load_le64(c->buf + 8 * i);
            keccak_f(c->s);
            c->n = 0;
        }
    }
}

void ww_keccak_final(ww_keccak_ctx *c, uint8_t out[32])
{
    enum { RATE = 136 };
    memset(c->buf + c->n, 0, RATE - c->n);
    c->buf[c->n] ^= 0x01;
    c->buf[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++)
        c->s[i] ^= load_le64(c->buf + 8 * i);
    keccak_f(c->s);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            out[8 * i + j] = (uint8_t)(c->s[i] >> (8 * j));
}
