/*
 * fuzz_addrdb.c - attacker DB inputs: feed text (list, CSV, JSON array) and compiled index
 * bytes. The first byte picks: even = feed text, odd = a compiled index file (written to a
 * temporary file and mapped, as `--db` does). Whatever loads must answer lookups and
 * near-searches without reading outside the mapping.
 */
#include <unistd.h>

#include "addrdb/addrdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void visit(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    if (a->len >= WW_ADDR_TEXT_MAX || e->label == NULL || e->source == NULL)
        __builtin_trap();
    (void)strlen(e->label);
    (void)strlen(e->source);
    ++*(size_t *)ud;
}

static void probe(ww_addrdb *db)
{
    static const char *const Q[] = {"0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976",
                                    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
                                    "TB9emsCq6fQw6wRk4HBxxNnU6Hwt1DnV67"};
    size_t n = 0;
    for (size_t i = 0; i < WW_ARRAY_LEN(Q); i++) {
        ww_addr a;
        if (ww_addr_parse(&a, WW_CHAIN_NONE, Q[i], strlen(Q[i])) != WW_OK)
            continue;
        (void)ww_addrdb_lookup(db, &a);
        (void)ww_addrdb_near(db, &a, 2, 64, visit, &n);
    }
    n = 0;
    ww_addrdb_each(db, visit, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_addrdb *db;
    if (size == 0)
        return 0;
    db = ww_addrdb_new(NULL);
    if (db == NULL)
        return 0;
    if ((data[0] & 1) == 0) {
        ww_addrdb_report rep;
        if (ww_addrdb_load_text(db, (const char *)data + 1, size - 1, "fuzz", &rep) == WW_OK &&
            ww_addrdb_seal(db) == WW_OK)
            probe(db);
        /* and round-trip through a compiled index */
        char path[] = "/tmp/fuzz_addrdb_XXXXXX";
        char errbuf[WW_ERRBUF_SIZE];
        int fd = mkstemp(path);
        if (fd >= 0) {
            close(fd);
            if (ww_addrdb_write_index(db, path, errbuf) == WW_OK) {
                ww_addrdb *db2 = ww_addrdb_new(NULL);
                if (db2 == NULL || ww_addrdb_map_file(db2, path, errbuf) != WW_OK ||
                    ww_addrdb_count(db2, WW_CHAIN_NONE) != ww_addrdb_count(db, WW_CHAIN_NONE))
                    __builtin_trap();
                probe(db2);
                ww_addrdb_free(db2);
            }
            unlink(path);
        }
    } else {
        char path[] = "/tmp/fuzz_addrdb_XXXXXX";
        char errbuf[WW_ERRBUF_SIZE];
        int fd = mkstemp(path);
        if (fd >= 0) {
            bool ok = write(fd, data + 1, size - 1) == (ssize_t)(size - 1);
            close(fd);
            if (ok && ww_addrdb_map_file(db, path, errbuf) == WW_OK)
                probe(db);
            unlink(path);
        }
    }
    ww_addrdb_free(db);
    return 0;
}
