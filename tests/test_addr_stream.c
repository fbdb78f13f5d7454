/*
 * test_addr_stream.c - the streamed response-body scan (ww_addr_scan_cut, ww_addr_scan_chunk): a body fed in pieces reports exactly the addresses, in the same order,
 * of one whole-body scan, whatever the cut points, and keeps at most WW_ADDR_RUN_MAX + 1 bytes.
 */
#include <cjson/cJSON.h>

#include "addrdb/addrdb.h"
#include "decode/evm_int.h"
#include "tests/t.h"

/* ---- a pool of address-like strings: the bundled DB and every corpus string ---- */
#define POOL_MAX 4096
static char *pool[POOL_MAX];
static size_t npool;

static void pool_add(const char *s)
{
    size_t n = strlen(s);
    if (npool < POOL_MAX && n >= 10 && n <= 120)
        pool[npool++] = strdup(s);
}

static void from_db(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    (void)ud;
    (void)e;
    pool_add(a->text);
}

static void from_json(const cJSON *j)
{
    for (; j != NULL; j = j->next) {
        if (cJSON_IsString(j) && j->valuestring != NULL)
            pool_add(j->valuestring);
        from_json(j->child);
    }
}

static bool corpus_loaded;

static void pool_init(void)
{
    static const char *const FILES[] = {
        "corpus/addresses/bech32_bip173.json",        "corpus/addresses/bech32m_bip350.json",
        "corpus/addresses/bitcoin_key_io_valid_mainnet.json",
        "corpus/addresses/bitcoin_key_io_invalid.json", "corpus/addresses/eip55.json",
        "corpus/addresses/solana_pubkeys.json",       "corpus/addresses/tron.json",
    };
    if (npool > 0)
        return;
    ww_addrdb *db = ww_addrdb_new(NULL);
    if (db != NULL) {
        if (ww_addrdb_load_bundled(db) <= 0)
            fprintf(stderr, "  bundled DB did not load\n");
        ww_addrdb_each(db, from_db, NULL);
        ww_addrdb_free(db);
    }
    for (size_t i = 0; i < WW_ARRAY_LEN(FILES); i++) {
        size_t n;
        uint8_t *b = t_read_file(t_shared(FILES[i]), &n);
        if (b == NULL)
            continue;
        cJSON *j = cJSON_ParseWithLength((const char *)b, n);
        free(b);
        if (j != NULL) {
            corpus_loaded = true;
            from_json(j);
            cJSON_Delete(j);
        }
    }
    /* hand-made edge cases: cashaddr with its prefix, upper-case bech32 */
    pool_add("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a");
    pool_add("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4");
}

/* ---- deterministic PRNG ---- */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

typedef struct sbuf {
    uint8_t *p;
    size_t n, cap;
} sbuf;

static void put(sbuf *b, const void *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 1024;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}
static void run_of(sbuf *b, const char *alpha, size_t n)
{
    size_t k = strlen(alpha);
    for (size_t i = 0; i < n; i++)
        put(b, &alpha[rnd() % k], 1);
}

static const char ALNUM[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char HEX[] = "0123456789abcdef";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/* every delimiter class: Solana-ok ones, the ones that are not, and a few bytes over 0x7f */
static const char DELIMS[] = " \t\r\n\"'`,;:=()[]{}<>&?|+/-_.%\\$#@!*~^\x80\xff";

/* A body of one of several styles, mixing pool strings with JSON, blobs, hex and JS. */
static void make_body(sbuf *b, int style, size_t target)
{
    b->n = 0;
    while (b->n < target) {
        const char *a = pool[rnd() % npool];
        switch (style) {
        case 0: /* JSON */
            puts_(b, "{\"address\":\"");
            puts_(b, a);
            puts_(b, "\",\"n\":");
            run_of(b, "0123456789", 1 + rnd() % 20);
            puts_(b, "},\n");
            break;
        case 1: /* base64 blob with addresses embedded */
            run_of(b, B64, rnd() % 600);
            put(b, &DELIMS[rnd() % (sizeof DELIMS - 1)], 1);
            puts_(b, a);
            put(b, &DELIMS[rnd() % (sizeof DELIMS - 1)], 1);
            break;
        case 2: /* long hex runs, "0x" prefixes inside and next to them */
            if (rnd() % 2)
                puts_(b, "0x");
            run_of(b, HEX, rnd() % 3 ? 40 : 30 + rnd() % 400);
            puts_(b, rnd() % 2 ? "\"" : ",");
            if (rnd() % 3 == 0) {
                puts_(b, a);
                puts_(b, " ");
            }
            break;
        case 3: /* minified JS */
            puts_(b, rnd() % 2 ? "a.b=\"" : "c(");
            puts_(b, a);
            puts_(b, rnd() % 2 ? "\";" : ")+");
            run_of(b, ALNUM, rnd() % 12);
            put(b, &".(){};=+-/"[rnd() % 10], 1);
            break;
        default: /* anything: runs of every length around the limits, any delimiter */
            switch (rnd() % 5) {
            case 0:
                puts_(b, a);
                break;
            case 4: /* an address glued to the end of an over-long run: never one */
                run_of(b, ALNUM, rnd() % 2 ? WW_ADDR_RUN_MAX + 1 : 1 + rnd() % 400);
                puts_(b, a);
                break;
            case 1:
                run_of(b, ALNUM, WW_ADDR_RUN_MAX - 3 + rnd() % 7);
                break;
            case 2:
                run_of(b, ALNUM, rnd() % 300);
                break;
            default:
                puts_(b, a);
                puts_(b, a); /* two glued: one run too long or not an address */
                break;
            }
            put(b, &DELIMS[rnd() % (sizeof DELIMS - 1)], 1);
            break;
        }
    }
}

typedef struct found {
    ww_addr *a;
    size_t n, cap;
} found;

static void on_found(void *ud, const ww_addr *a)
{
    found *f = ud;
    if (f->n == f->cap) {
        f->cap = f->cap * 2 + 64;
        f->a = realloc(f->a, f->cap * sizeof *f->a);
    }
    f->a[f->n++] = *a;
}

/*
 * Feeds body b as a parser would: pieces of the given sizes (split == 0: random 1..600)
 * appended to a window, ww_addr_scan_chunk after each, consumed prefix dropped.
 * Returns false (and says why) when the result differs from the whole scan in want.
 */
static bool chunked_equals(const uint8_t *body, size_t n, size_t split, const found *want,
                           size_t *max_carry)
{
    size_t nfound = 0;
    found got = {NULL, 0, 0};
    uint8_t *win = malloc(n + 1);
    size_t wn = 0, off = 0;
    bool ok = true;
    while (off < n) {
        size_t k = split ? split : 1 + rnd() % 600;
        if (k > n - off)
            k = n - off;
        memcpy(win + wn, body + off, k);
        wn += k;
        off += k;
        size_t c = ww_addr_scan_chunk(t_guard(win, wn), wn, false, on_found, &got, &nfound);
        if (c > wn) {
            ok = false;
            break;
        }
        memmove(win, win + c, wn - c);
        wn -= c;
        if (wn > *max_carry)
            *max_carry = wn;
    }
    (void)ww_addr_scan_chunk(t_guard(win, wn), wn, true, on_found, &got, &nfound);
    if (got.n != want->n || nfound != want->n) {
        t_fail_msg(__FILE__, __LINE__, "split %zu: %zu addresses, whole scan %zu", split, got.n,
                   want->n);
        ok = false;
    } else {
        for (size_t i = 0; i < got.n; i++)
            if (!ww_addr_eq(&got.a[i], &want->a[i])) {
                t_fail_msg(__FILE__, __LINE__, "split %zu: #%zu %s, whole scan %s", split, i,
                           got.a[i].text, want->a[i].text);
                ok = false;
                break;
            }
    }
    free(got.a);
    free(win);
    return ok;
}

T_CASE(stream_cut_basics)
{
    const char *s = "{\"a\":\"0x52908400098527886E0F7030069857D2E4169EE7\",\"b\":\"abc";
    size_t n = strlen(s);
    /* the trailing run "abc" is undecided; the cut is its start */
    T_EQ_INT(ww_addr_scan_cut((const uint8_t *)s, n), n - 3);
    /* ends with a delimiter: everything is decided */
    T_EQ_INT(ww_addr_scan_cut((const uint8_t *)"ab, ", 4), 4);
    /* one run shorter than any limit: nothing is decided */
    T_EQ_INT(ww_addr_scan_cut((const uint8_t *)"abcdef", 6), 0);
    T_EQ_INT(ww_addr_scan_cut((const uint8_t *)"", 0), 0);
    /* chunk: a run of RUN_MAX may still be an address (kept whole, with the delimiter);
     * one more char and it never is: only RUN_MAX + 1 of it are kept */
    char r[200];
    memset(r, 'a', sizeof r);
    r[0] = ' ';
    T_EQ_INT(ww_addr_scan_cut((const uint8_t *)r, sizeof r), 1);
    T_EQ_INT(ww_addr_scan_chunk((const uint8_t *)r, 1 + WW_ADDR_RUN_MAX, false, NULL, NULL, NULL), 0);
    T_EQ_INT(ww_addr_scan_chunk((const uint8_t *)r + 1, WW_ADDR_RUN_MAX, false, NULL, NULL, NULL), 0);
    T_EQ_INT(ww_addr_scan_chunk((const uint8_t *)r, 2 + WW_ADDR_RUN_MAX, false, NULL, NULL, NULL), 1);
    T_EQ_INT(ww_addr_scan_chunk((const uint8_t *)r, sizeof r, false, NULL, NULL, NULL),
             sizeof r - WW_ADDR_RUN_MAX - 1);
    T_EQ_INT(ww_addr_scan_chunk((const uint8_t *)r, sizeof r, true, NULL, NULL, NULL), sizeof r);
    /* an address glued to the end of a long run, presented after the run's kept tail */
    char g[WW_ADDR_RUN_MAX + 1 + 44];
    memset(g, 'a', WW_ADDR_RUN_MAX + 1);
    memcpy(g + WW_ADDR_RUN_MAX + 1, "0x52908400098527886E0F7030069857D2E4169EE7 ", 43);
    size_t nf = 0;
    (void)ww_addr_scan_chunk((const uint8_t *)g, sizeof g - 1, true, NULL, NULL, &nf);
    T_EQ_INT(nf, 0);
}

T_CASE(stream_solana_left_context)
{
    /* a Solana key after '/' is not one (path); after '"' it is. A cut right after the '/'
     * must not lose that context. */
    const char *key = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
    found whole = {NULL, 0, 0};
    char body[128];
    snprintf(body, sizeof body, "x/%s\"", key);
    T_EQ_INT(ww_addr_scan((const uint8_t *)body, strlen(body), NULL, NULL), 0);
    snprintf(body, sizeof body, "x\"%s\"", key);
    T_EQ_INT(ww_addr_scan((const uint8_t *)body, strlen(body), NULL, NULL), 1);
    for (int q = 0; q < 2; q++) {
        snprintf(body, sizeof body, q ? "x\"%s\"" : "x/%s\"", key);
        size_t n = strlen(body), mc = 0;
        whole.n = 0;
        (void)ww_addr_scan((const uint8_t *)body, n, on_found, &whole);
        for (size_t split = 1; split <= n; split++)
            T_CHECK(chunked_equals((const uint8_t *)body, n, split, &whole, &mc));
    }
    free(whole.a);
}

T_CASE(stream_equals_whole_scan)
{
    static const size_t SPLITS[] = {1, 2, 3, 7, 64, 4096, 0, 0, 0};
    pool_init();
    if (!corpus_loaded)
        fprintf(stderr, "  note: ../shared corpus absent; bundled DB addresses only\n");
    T_CHECK(npool >= 280);
    size_t total = 0, max_carry = 0, bodies = 0;
    for (int style = 0; style < 5; style++) {
        for (int rep = 0; rep < 3; rep++) {
            sbuf b = {NULL, 0, 0};
            make_body(&b, style, rep == 0 ? 3000 : 40000);
            found whole = {NULL, 0, 0};
            size_t k = ww_addr_scan(b.p, b.n, on_found, &whole);
            T_EQ_INT(k, whole.n);
            total += k;
            bodies++;
            for (size_t s = 0; s < WW_ARRAY_LEN(SPLITS); s++) {
                size_t mc = 0;
                T_CHECK(chunked_equals(b.p, b.n, SPLITS[s], &whole, &mc));
                /* the window never keeps more than the carry plus the last piece */
                size_t piece = SPLITS[s] ? SPLITS[s] : 600;
                T_CHECK(mc <= WW_ADDR_RUN_MAX + 1 + piece);
                if (SPLITS[s] == 1 && mc > max_carry)
                    max_carry = mc;
            }
            free(whole.a);
            free(b.p);
        }
    }
    /* byte by byte, what is kept is the carry itself */
    T_CHECK(max_carry <= WW_ADDR_RUN_MAX + 2);
    /* the bodies did carry addresses of every style */
    T_CHECK(total > 500);
    fprintf(stderr, "  %zu bodies, %zu addresses, byte-by-byte carry <= %zu\n", bodies, total,
            max_carry);
}

T_CASE(stream_glued_to_long_run)
{
    /* 91..400 letters then an EVM address, no delimiter: one run, no address, whatever the
     * cut points (the rest of a dropped over-long run is never a fresh run) */
    const char *evm = "0x52908400098527886E0F7030069857D2E4169EE7";
    for (size_t junk = WW_ADDR_RUN_MAX - 2; junk < 400; junk += 7) {
        sbuf b = {NULL, 0, 0};
        puts_(&b, "\"");
        run_of(&b, "abc", junk);
        puts_(&b, evm);
        puts_(&b, "\" ");
        puts_(&b, evm);
        found whole = {NULL, 0, 0};
        T_EQ_INT(ww_addr_scan(b.p, b.n, on_found, &whole), 1);
        for (size_t split = 1; split < 100; split += 1 + split / 4) {
            size_t mc = 0;
            T_CHECK(chunked_equals(b.p, b.n, split, &whole, &mc));
        }
        free(whole.a);
        free(b.p);
    }
}

T_CASE(stream_long_blob_no_growth)
{
    /* 1 MB of base64 without a break: the window stays small, no address comes out of it */
    size_t n = 1 << 20;
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)ALNUM[rnd() % 62];
    size_t kept = 0, maxk = 0, nf = 0;
    uint8_t win[8192];
    for (size_t off = 0; off < n; off += 4096) {
        memcpy(win + kept, p + off, 4096);
        kept += 4096;
        size_t c = ww_addr_scan_chunk(win, kept, false, NULL, NULL, &nf);
        memmove(win, win + c, kept - c);
        kept -= c;
        if (kept > maxk)
            maxk = kept;
    }
    (void)ww_addr_scan_chunk(win, kept, true, NULL, NULL, &nf);
    T_EQ_INT(nf, 0);
    T_CHECK(maxk <= WW_ADDR_RUN_MAX + 1);
    free(p);
}

/*
 * The 64-byte skip (SSE2) against a reference that needs none: every address is one whole run
 * judged by itself and its two neighbours, so scanning each run alone, with one byte of
 * context either side, must give exactly what one scan of the whole body gives.
 */
T_CASE(scan_skip_matches_per_run_reference)
{
    pool_init();
    unsigned mismatches = 0, bodies = 0;
    size_t total = 0;
    for (int style = 0; style < 6; style++) {
        for (int rep = 0; rep < 8; rep++) {
            sbuf b = {0};
            make_body(&b, style, 20000 + 3000 * (size_t)rep);
            found whole = {0}, ref = {0};
            (void)ww_addr_scan(b.p, b.n, on_found, &whole);
            size_t i = 0;
            while (i < b.n) {
                bool an = (b.p[i] >= '0' && b.p[i] <= '9') || ((b.p[i] | 0x20) >= 'a' && (b.p[i] | 0x20) <= 'z');
                if (!an) {
                    i++;
                    continue;
                }
                size_t s = i;
                while (i < b.n && ((b.p[i] >= '0' && b.p[i] <= '9') ||
                                   ((b.p[i] | 0x20) >= 'a' && (b.p[i] | 0x20) <= 'z')))
                    i++;
                size_t lo = s > 0 ? s - 1 : 0, hi = i < b.n ? i + 1 : i;
                (void)ww_addr_scan(b.p + lo, hi - lo, on_found, &ref);
            }
            bodies++;
            total += whole.n;
            bool same = whole.n == ref.n;
            for (size_t k = 0; same && k < whole.n; k++)
                same = ww_addr_eq(&whole.a[k], &ref.a[k]);
            if (!same)
                mismatches++;
            free(whole.a);
            free(ref.a);
            free(b.p);
        }
    }
    T_EQ_INT(mismatches, 0);
    T_CHECK(bodies == 48);
    T_CHECK(total > 100); /* the bodies carry addresses: the comparison means something */
    if (total <= 100)
        fprintf(stderr, "  only %zu addresses found\n", total);
}
