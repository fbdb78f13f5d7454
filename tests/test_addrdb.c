/* test_addrdb.c - feeds (list, CSV, JSON array), bad lines, the bundled set, lookups. */
#include "t.h"

#include "addrdb/addrdb.h"

#include <stdlib.h>
#include <unistd.h>

static ww_addr A(int chain, const char *s)
{
    ww_addr a;
    T_CHECK(ww_addr_parse(&a, chain, s, strlen(s)) == WW_OK);
    return a;
}

T_CASE(addrdb_bundled)
{
    ww_addrdb *db = ww_addrdb_new(NULL);
    T_EQ_INT(ww_addrdb_load_bundled(db), 280);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_EVM), 60);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_BITCOIN), 80);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_TRON), 40);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_LITECOIN), 40);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_BITCOINCASH), 40);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_SOLANA), 20);
    /* the eth_sendTransaction replacement, in any case */
    ww_addr a = A(WW_CHAIN_EVM, "0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976");
    const ww_addrdb_entry *e = ww_addrdb_lookup(db, &a);
    T_CHECK(e != NULL);
    T_CHECK(e != NULL && strstr(e->label, "npm-qix-2025-09") != NULL);
    T_CHECK(e != NULL && strstr(e->source, "sohankanna") != NULL);
    ww_addr b = A(WW_CHAIN_EVM, "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976");
    T_CHECK(ww_addrdb_lookup(db, &b) == e);
    ww_addr c = A(WW_CHAIN_EVM, "0x0000000000000000000000000000000000000001");
    T_CHECK(ww_addrdb_lookup(db, &c) == NULL);
    ww_addr t = A(WW_CHAIN_TRON, "TB9emsCq6fQw6wRk4HBxxNnU6Hwt1DnV67");
    T_CHECK(ww_addrdb_lookup(db, &t) != NULL);
    ww_addrdb_free(db);
}

T_CASE(addrdb_bundled_matches_corpus)
{
    size_t n;
    char *text = (char *)t_read_file(t_shared("corpus/iocs/qix_2025-09_attacker_addresses.csv"), &n);
    if (text == NULL)
        T_SKIP("../shared/corpus/iocs is absent: the bundled DB is not cross-checked");
    ww_addrdb *db = ww_addrdb_new(NULL);
    T_EQ_INT(ww_addrdb_load_bundled(db), 280);
    /* every row of the source CSV (chain,address,source_repo,source_path) is listed */
    size_t rows = 0, listed = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char chain[16], addr[128];
        if (sscanf(line, "%15[^,],%127[^,]", chain, addr) != 2 || strcmp(chain, "chain") == 0)
            continue;
        rows++;
        ww_addr a;
        int ch = ww_chain_from_name(chain, strlen(chain));
        if (ww_addrdb_addr(&a, ch, addr, strlen(addr)) == WW_OK && ww_addrdb_lookup(db, &a))
            listed++;
    }
    T_EQ_INT(rows, 280);
    T_EQ_INT(listed, rows);
    free(text);
    ww_addrdb_free(db);
}

T_CASE(addrdb_feeds_and_bad_lines)
{
    const char *csv = "chain,address,label,source\n"
                      "evm,0x1111111111111111111111111111111111111111,drainer,feedA\n"
                      "# a comment\n"
                      "\n"
                      "evm,not-an-address,x,feedA\n"
                      "nochain,0x2222222222222222222222222222222222222222,x,feedA\n"
                      "evm,0x1111111111111111111111111111111111111111,dupe,feedA\n"
                      "evm,0x3333333333333333333333333333333333333333\r\n";
    ww_addrdb *db = ww_addrdb_new(NULL);
    ww_addrdb_report rep;
    T_CHECK(ww_addrdb_load_text(db, csv, strlen(csv), "mine.csv", &rep) == WW_OK);
    T_EQ_INT(rep.added, 2);
    T_EQ_INT(rep.dupes, 1);
    T_EQ_INT(rep.bad, 2);
    T_EQ_INT(rep.bad_line_no[0], 5);
    T_EQ_INT(rep.bad_line_no[1], 6);
    ww_addr a = A(WW_CHAIN_EVM, "0x1111111111111111111111111111111111111111");
    const ww_addrdb_entry *e = ww_addrdb_lookup(db, &a);
    T_CHECK(e != NULL && strcmp(e->label, "drainer") == 0 && strcmp(e->source, "feedA") == 0);
    ww_addr b = A(WW_CHAIN_EVM, "0x3333333333333333333333333333333333333333");
    e = ww_addrdb_lookup(db, &b);
    T_CHECK(e != NULL && strcmp(e->source, "mine.csv") == 0);

    const char *list = "0x4444444444444444444444444444444444444444\nzzz\n";
    T_CHECK(ww_addrdb_load_text(db, list, strlen(list), "list.txt", &rep) == WW_OK);
    T_EQ_INT(rep.added, 1);
    T_EQ_INT(rep.bad, 1);
    T_EQ_INT(rep.bad_line_no[0], 2);

    const char *json = " [\"0x5555555555555555555555555555555555555555\", 7, \"bogus\"]";
    T_CHECK(ww_addrdb_load_text(db, json, strlen(json), "scam.json", &rep) == WW_OK);
    T_EQ_INT(rep.added, 1);
    T_EQ_INT(rep.bad, 2);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_NONE), 4);

    const char *broken = "[\"0x6666";
    T_CHECK(ww_addrdb_load_text(db, broken, strlen(broken), "b.json", &rep) == WW_E_INVALID);
    ww_addrdb_free(db);
}

T_CASE(addrdb_scamsniffer_feed)
{
    char errbuf[WW_ERRBUF_SIZE];
    ww_addrdb_report rep;
    const char *path = t_shared("corpus/iocs/scamsniffer_blacklist_address.json");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        T_SKIP("../shared/corpus/iocs is absent: ScamSniffer feed not loaded");
    fclose(f);
    ww_addrdb *db = ww_addrdb_new(NULL);
    T_CHECK(ww_addrdb_load_file(db, path, &rep, errbuf) == WW_OK);
    T_EQ_INT(rep.added, 2530);
    T_EQ_INT(rep.bad, 0);
    ww_addr a = A(WW_CHAIN_EVM, "0x101ce0cedd142f199c9ef61739ae59b6611a0fc0");
    const ww_addrdb_entry *e = ww_addrdb_lookup(db, &a);
    T_CHECK(e != NULL && strcmp(e->source, "scamsniffer_blacklist_address.json") == 0);
    ww_addrdb_free(db);
}

T_CASE(addrdb_file_errors)
{
    char errbuf[WW_ERRBUF_SIZE];
    ww_addrdb *db = ww_addrdb_new(NULL);
    T_CHECK(ww_addrdb_load_file(db, "/nonexistent/feed.csv", NULL, errbuf) == WW_E_IO);
    T_CHECK(strstr(errbuf, "/nonexistent/feed.csv") != NULL);
    char tmpl[] = "/tmp/ww-feed-XXXXXX";
    int fd = mkstemp(tmpl);
    T_CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("hello world\nthis is not a feed\n", f);
    fclose(f);
    T_CHECK(ww_addrdb_load_file(db, tmpl, NULL, errbuf) == WW_E_INVALID);
    /* an empty feed is fine: an empty DB */
    f = fopen(tmpl, "w");
    fclose(f);
    T_CHECK(ww_addrdb_load_file(db, tmpl, NULL, errbuf) == WW_OK);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_NONE), 0);
    unlink(tmpl);
    ww_addrdb_free(db);
}

T_CASE(addrdb_many_entries)
{
    ww_addrdb *db = ww_addrdb_new(NULL);
    char s[43];
    unsigned added = 0;
    for (unsigned i = 0; i < 100000; i++) {
        ww_addr a;
        snprintf(s, sizeof s, "0x%040x", i * 2654435761u);
        if (ww_addr_parse(&a, WW_CHAIN_EVM, s, 42) == WW_OK && ww_addrdb_add(db, &a, "l", "s") == WW_OK)
            added++;
    }
    T_EQ_INT(added, 100000);
    unsigned found = 0;
    for (unsigned i = 0; i < 100000; i++) {
        ww_addr a;
        snprintf(s, sizeof s, "0x%040x", i * 2654435761u);
        if (ww_addr_parse(&a, WW_CHAIN_EVM, s, 42) == WW_OK && ww_addrdb_lookup(db, &a) != NULL)
            found++;
    }
    T_EQ_INT(found, 100000);
    ww_addrdb_free(db);
}

/* ---- compiled index ---- */

#include <time.h>
#include <unistd.h>

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void nearest(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    (void)e;
    strcpy((char *)ud, a->text);
}

T_CASE(addrdb_index_million)
{
    /* 1,000,000 entries (WW_TEST_ADDRDB_N to change): compile, map, look up, near-search */
    const char *env = getenv("WW_TEST_ADDRDB_N");
    size_t n = env ? (size_t)strtoull(env, NULL, 10) : 1000000;
    char path[] = "/tmp/test_addrdb_XXXXXX";
    char errbuf[WW_ERRBUF_SIZE];
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    ww_addrdb *db = ww_addrdb_new(NULL);
    uint64_t x = 88172645463325252ULL;
    ww_addr a, probe[4];
    size_t add_failed = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t raw[20];
        for (int k = 0; k < 20; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            raw[k] = (uint8_t)x;
        }
        ww_addr_from_evm(&a, raw);
        if (i % (n / 4 + 1) == 0)
            probe[i / (n / 4 + 1)] = a;
        add_failed += ww_addrdb_add(db, &a, i % 2 ? "odd" : "even", "gen") != WW_OK;
    }
    T_EQ_INT(add_failed, 0);
    T_CHECK(ww_addrdb_load_bundled(db) == 280);
    double t0 = cpu_s();
    T_EQ_INT(ww_addrdb_write_index(db, path, errbuf), WW_OK);
    double t1 = cpu_s();
    ww_addrdb_free(db);
    db = ww_addrdb_new(NULL);
    T_EQ_INT(ww_addrdb_map_file(db, path, errbuf), WW_OK);
    double t2 = cpu_s();
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_NONE), n + 280);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_EVM), n + 60);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_TRON), 40);
    for (int i = 0; i < 4; i++) {
        const ww_addrdb_entry *e = ww_addrdb_lookup(db, &probe[i]);
        T_CHECK(e != NULL && strcmp(e->source, "gen") == 0);
    }
    ww_addr att;
    T_CHECK(ww_addr_parse(&att, WW_CHAIN_EVM, "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976", 42) ==
            WW_OK);
    const ww_addrdb_entry *e = ww_addrdb_lookup(db, &att);
    T_CHECK(e != NULL && strstr(e->label, "npm-qix-2025-09") != NULL);
    /* not listed */
    ww_addr other = probe[0];
    other.text[41] = other.text[41] == '0' ? '1' : '0';
    T_CHECK(ww_addrdb_lookup(db, &other) == NULL);
    /* near: a lookalike of probe[1] (8 leading characters kept) finds it */
    ww_addr look = probe[1];
    memset(look.text + 10, '0', 32);
    char got[WW_ADDR_TEXT_MAX] = "";
    size_t v = ww_addrdb_near(db, &look, 8, 16, nearest, got);
    T_CHECK(v >= 1);
    T_EQ_STR(got, probe[1].text);
    /* timings (CPU time), reported */
    double l0 = cpu_s();
    size_t hit = 0;
    for (int r = 0; r < 100000; r++)
        hit += ww_addrdb_lookup(db, &probe[r & 3]) != NULL;
    double l1 = cpu_s();
    T_EQ_INT(hit, 100000);
    printf("addrdb index: %zu entries: compile %.0f ms, map %.2f ms, warm lookup %.0f ns\n",
           n + 280, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (l1 - l0) / 100000 * 1e9);
    T_CHECK(t2 - t1 < 0.5); /* "milliseconds": generous for a loaded machine and ASan */
    ww_addrdb_free(db);

    /* the same file damaged: truncated, another version, a flipped byte */
    FILE *f = fopen(path, "r+b");
    T_CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, size / 2, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
    db = ww_addrdb_new(NULL);
    T_EQ_INT(ww_addrdb_map_file(db, path, errbuf), WW_E_INVALID);
    T_CHECK(strstr(errbuf, "checksum") != NULL);
    T_CHECK(truncate(path, size / 3) == 0);
    T_EQ_INT(ww_addrdb_map_file(db, path, errbuf), WW_E_TRUNC);
    T_CHECK(strstr(errbuf, "truncated") != NULL);
    T_EQ_INT(ww_addrdb_count(db, WW_CHAIN_NONE), 0); /* nothing half-loaded */
    ww_addrdb_free(db);
    unlink(path);
}
