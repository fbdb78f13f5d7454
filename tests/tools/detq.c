/*
 * detq.c - detection quality (make bench). Prints two tables:
 *
 * 1. Lookalikes of a served EVM address keeping p leading + s trailing characters (2+2 .. 6+6,
 *    the rest random) against one served address: recall of lookalike-recipient at the
 *    threshold (default 30 bits; argv[1]), and how often an UNRELATED random address matches
 *    at least that many characters (measured over 10^7 random pairs, and exact).
 * 2. The September 2025 payload's own choice: for a random served address the Levenshtein-
 *    closest of its 60 EVM pool addresses (addrdb/bundled.csv) replaces it. How many victims
 *    each rule catches: known-attacker, unrequested-recipient, a 4+4 lookalike rule, the
 *    bits threshold.
 */
#include <math.h>

#include "addrdb/addrdb.h"
#include "detect/detect.h"

static uint64_t rs = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rand_evm(ww_addr *a)
{
    uint8_t raw[24];
    for (int i = 0; i < 24; i += 8) {
        uint64_t r = rnd();
        memcpy(raw + i, &r, 8);
    }
    ww_addr_from_evm(a, raw);
}

static const char HEX[] = "0123456789abcdef";

/* A lookalike of s with exactly p leading and q trailing hex characters equal. */
static void lookalike(ww_addr *out, const ww_addr *s, unsigned p, unsigned q)
{
    *out = *s;
    for (unsigned i = p; i < 40 - q; i++)
        out->text[2 + i] = HEX[rnd() & 15];
    char c = s->text[2 + p];
    while (out->text[2 + p] == c)
        out->text[2 + p] = HEX[rnd() & 15];
    c = s->text[41 - q];
    while (out->text[41 - q] == c)
        out->text[41 - q] = HEX[rnd() & 15];
}

static int lev(const char *a, const char *b, size_t n)
{
    int row[64], prev;
    for (size_t j = 0; j <= n; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= n; j++) {
            int cur = row[j];
            int sub = prev + (a[i - 1] != b[j - 1]);
            int del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    return row[n];
}

typedef struct pool {
    ww_addr v[64];
    size_t n;
} pool;

static void take_evm(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    pool *p = ud;
    (void)e;
    if (a->chain == WW_CHAIN_EVM && p->n < 64)
        p->v[p->n++] = *a;
}

int main(int argc, char **argv)
{
    double thr = argc > 1 ? atof(argv[1]) : 30.0;
    const size_t TRIALS = 100000, PAIRS = 10000000, VICTIMS = 3000;
    unsigned p, s;
    double bits;

    /* random pairs: the distribution of p+s for unrelated addresses */
    static size_t at_least[41];
    ww_addr a, b;
    for (size_t i = 0; i < PAIRS; i++) {
        rand_evm(&a);
        rand_evm(&b);
        ww_similarity(&a, &b, 1, &p, &s, &bits);
        for (unsigned m = 0; m <= p + s && m <= 40; m++)
            at_least[m]++;
    }
    printf("detq: lookalikes of one served EVM address; threshold %.1f bits "
           "(lookalike-recipient), %zu trials per level\n", thr, TRIALS);
    printf("  %-6s %6s %9s %11s   %-28s\n", "level", "bits", "recall", "4+4 rule",
           "unrelated random address matching >= p+s chars");
    printf("  %-6s %6s %9s %11s   %13s %14s\n", "", "", "", "", "measured", "exact");
    for (unsigned k = 2; k <= 6; k++) {
        size_t hit = 0, hit44 = 0;
        for (size_t t = 0; t < TRIALS; t++) {
            rand_evm(&a);
            lookalike(&b, &a, k, k);
            ww_similarity(&b, &a, 1, &p, &s, &bits);
            hit += bits >= thr;
            hit44 += p >= 4 && s >= 4;
        }
        unsigned m = 2 * k;
        double exact = pow(16.0, -(double)m) * (1.0 + m * 15.0 / 16.0);
        char meas[32];
        if (at_least[m] > 0)
            snprintf(meas, sizeof meas, "%.2e", (double)at_least[m] / (double)PAIRS);
        else
            snprintf(meas, sizeof meas, "0 in %.0e", (double)PAIRS);
        printf("  %u+%u    %6.1f %8.1f%% %10.1f%%   %13s %14.2e\n", k, k,
               ww_similarity_bits(m, 4.0, 1), 100.0 * (double)hit / (double)TRIALS,
               100.0 * (double)hit44 / (double)TRIALS, meas, exact);
    }
    unsigned mmin = 1;
    while (ww_similarity_bits(mmin, 4.0, 1) < thr)
        mmin++;
    printf("  flagged from %u matched characters (any split); random false positives at the "
           "threshold: %.2e per comparison\n",
           mmin, pow(16.0, -(double)mmin) * (1.0 + mmin * 15.0 / 16.0));

    /* the September 2025 choice rule */
    ww_addrdb *db = ww_addrdb_new(NULL);
    if (db == NULL || ww_addrdb_load_bundled(db) != 280) {
        fprintf(stderr, "detq: bundled DB\n");
        return 1;
    }
    pool pl = {.n = 0};
    ww_addrdb_each(db, take_evm, &pl);
    size_t ka = 0, unreq = 0, l44 = 0, lbits = 0, sum_ps = 0, max_ps = 0;
    for (size_t v = 0; v < VICTIMS; v++) {
        ww_addr served, *best = NULL;
        int bd = 1 << 30;
        rand_evm(&served);
        for (size_t i = 0; i < pl.n; i++) {
            int d = lev(served.text, pl.v[i].text, 42);
            if (d < bd) {
                bd = d;
                best = &pl.v[i];
            }
        }
        ka += ww_addrdb_lookup(db, best) != NULL;
        unreq += !ww_addr_eq(best, &served);
        ww_similarity(best, &served, 1, &p, &s, &bits);
        l44 += p >= 4 && s >= 4;
        lbits += bits >= thr;
        sum_ps += p + s;
        if (p + s > max_ps)
            max_ps = p + s;
    }
    printf("\ndetq: September 2025 choice rule (Levenshtein-closest of %zu pool EVM addresses) "
           "against %zu random victims\n", pl.n, VICTIMS);
    printf("  %-34s %8s\n", "rule", "caught");
    printf("  %-34s %7.1f%%\n", "known-attacker", 100.0 * (double)ka / (double)VICTIMS);
    printf("  %-34s %7.1f%%\n", "unrequested-recipient", 100.0 * (double)unreq / (double)VICTIMS);
    printf("  %-34s %7.1f%%\n", "4+4 lookalike rule alone", 100.0 * (double)l44 / (double)VICTIMS);
    printf("  %-34s %7.1f%%\n", "lookalike-recipient (bits)",
           100.0 * (double)lbits / (double)VICTIMS);
    printf("  matched leading+trailing characters: mean %.2f, max %zu\n",
           (double)sum_ps / (double)VICTIMS, max_ps);
    ww_addrdb_free(db);
    return ka == VICTIMS && unreq == VICTIMS && l44 == 0 ? 0 : 1;
}
