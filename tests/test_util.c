/* test_util.c - the shared helpers: u256 from hex/quantity, decimal, capped buffer, arena. */
#include "t.h"

#include "util/ww.h"

T_CASE(u256_from_hex_and_quantity)
{
    ww_u256 v;
    char dec[79];
    T_CHECK(ww_u256_from_quantity(&v, "0xde0b6b3a7640000"));
    ww_u256_to_dec(dec, &v);
    T_EQ_STR(dec, "1000000000000000000");
    T_CHECK(ww_u256_from_quantity(&v, "0X0000001")); /* leading zeros, as wallets send them */
    ww_u256_to_dec(dec, &v);
    T_EQ_STR(dec, "1");
    T_CHECK(ww_u256_from_quantity(&v, "0x0"));
    T_CHECK(ww_u256_is_zero(&v));
    T_CHECK(ww_u256_from_quantity(&v, "0x" "ffffffffffffffffffffffffffffffff"
                                          "ffffffffffffffffffffffffffffffff"));
    T_CHECK(ww_u256_is_max(&v));
    T_CHECK(!ww_u256_from_quantity(&v, "0x1" "0000000000000000000000000000000000000000000000000000000000000000"));
    T_CHECK(!ww_u256_from_quantity(&v, "0x"));
    T_CHECK(!ww_u256_from_quantity(&v, "0xg1"));
    T_CHECK(!ww_u256_from_quantity(&v, "12"));
    T_CHECK(!ww_u256_from_quantity(&v, NULL));
    T_CHECK(ww_u256_is_zero(&v)); /* zeroed on failure */
    T_CHECK(ww_u256_from_hex(&v, "00ff", 4) && v.be[31] == 0xff && v.be[30] == 0);
    T_CHECK(!ww_u256_from_hex(&v, "", 0));
}

T_CASE(buf_cap_and_arena_cap)
{
    ww_buf b;
    ww_buf_init(&b, NULL, 10);
    T_EQ_INT(ww_buf_append(&b, "12345", 5), WW_OK);
    T_EQ_INT(ww_buf_append(&b, "123456", 6), WW_E_TOOBIG); /* over the cap: refused whole */
    T_EQ_INT(b.len, 5);
    ww_buf_consume(&b, 2);
    T_EQ_MEM(b.data, "345", 3);
    ww_buf_free(&b);
    ww_arena a;
    ww_arena_init(&a, NULL, 1000);
    T_CHECK(ww_arena_alloc(&a, 600) != NULL);
    T_CHECK(ww_arena_alloc(&a, 600) == NULL); /* over the cap */
    ww_arena_reset(&a);
    T_CHECK(ww_arena_alloc(&a, 600) != NULL);
    ww_arena_free(&a);
}

T_CASE(hex_roundtrip)
{
    uint8_t in[3] = {0x00, 0xab, 0xff}, out[3];
    char hex[7];
    ww_hex_encode(hex, in, 3);
    T_EQ_STR(hex, "00abff");
    T_EQ_INT(ww_hex_decode(out, sizeof out, "00ABff", 6), 3);
    T_EQ_MEM(out, in, 3);
    T_EQ_INT(ww_hex_decode(out, sizeof out, "0g", 2), -1);
    T_EQ_INT(ww_hex_decode(out, sizeof out, "abc", 3), -1);
    T_EQ_INT(ww_hex_decode(out, 1, "abcd", 4), -1);
    T_CHECK(ww_ascii_ieq("Content-Type", 12, "content-type"));
    T_CHECK(!ww_ascii_ieq("Content-Typ", 11, "content-type"));
}

T_CASE(hex_dup0x)
{
    size_t n = 0;
    uint8_t *b = ww_hex_dup0x("0x0aFF", &n);
    T_CHECK(b != NULL && n == 2 && b[0] == 0x0a && b[1] == 0xff);
    ww_free(NULL, b);
    b = ww_hex_dup0x("0X", &n);
    T_CHECK(b != NULL && n == 0);
    ww_free(NULL, b);
    T_CHECK(ww_hex_dup0x("0x1", &n) == NULL);   /* odd */
    T_CHECK(ww_hex_dup0x("abcd", &n) == NULL);  /* no 0x */
    T_CHECK(ww_hex_dup0x("0xzz", &n) == NULL);
    T_CHECK(ww_hex_dup0x(NULL, &n) == NULL);
}

/* One base58 for addresses (base58check, Solana keys) and Solana transactions. */
T_CASE(base58)
{
    uint8_t out[64];
    char txt[100];
    T_EQ_INT(ww_b58_decode(out, sizeof out, "2g", 2), 1); /* "a" */
    T_EQ_INT(out[0], 0x61);
    T_EQ_INT(ww_b58_decode(out, sizeof out, "11", 2), 2); /* leading '1's are zero bytes */
    T_CHECK(out[0] == 0 && out[1] == 0);
    T_EQ_INT(ww_b58_decode(out, sizeof out, "0OIl", 4), -1);    /* not in the alphabet */
    T_EQ_INT(ww_b58_decode(out, 1, "5Q", 2), 1);                /* 255 */
    T_EQ_INT(ww_b58_decode(out, 1, "5R", 2), -1);               /* 256: over cap */
    T_EQ_INT(ww_b58_val('0'), -1);
    T_EQ_INT(ww_b58_val('z'), 57);
    /* (round trips: test_wallet.c) the system program id: 32 zero bytes */
    uint8_t key[32];
    memset(key, 0, 32);
    T_EQ_INT(ww_b58_encode(txt, sizeof txt, key, 32), 32);
    T_EQ_STR(txt, "11111111111111111111111111111111");
}

/* The limb decoder (cap <= 128) against the byte-wise one (cap > 128): random base58 strings
 * of 1..200 characters (some with leading '1's, some with a stray '0'), every cap from 0 to
 * 70: the same bytes when the value fits, -1 when it does not. */
T_CASE(base58_limbs_match_bytewise)
{
    static const char A58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    unsigned x = 4242, bad = 0, rounds = 3000;
    for (unsigned r = 0; r < rounds; r++) {
        char s[200];
        x = x * 1103515245u + 12345u;
        size_t n = 1 + (x >> 8) % (r % 10 == 0 ? 200 : 60);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            s[i] = A58[(x >> 10) % 58];
        }
        if (r % 5 == 1)
            for (size_t i = 0; i < n && i < (r % 7); i++)
                s[i] = '1';
        if (r % 13 == 2)
            s[(x >> 4) % n] = '0';
        uint8_t ref[300], got[128];
        ssize_t want = ww_b58_decode(ref, sizeof ref, s, n);
        for (size_t cap = 0; cap <= 70; cap++) {
            ssize_t k = ww_b58_decode(got, cap, s, n);
            bool fits = want >= 0 && (size_t)want <= cap;
            if (fits ? (k != want || memcmp(got, ref, (size_t)want) != 0) : k != -1)
                bad++;
        }
    }
    T_EQ_INT(bad, 0);
}
