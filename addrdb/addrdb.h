/*
 * addrdb.h - the attacker address DB: feeds in, lookups out.
 *
 * Feeds: a plain list (one address per line, chain guessed), CSV `chain,address,label,source`
 * (a header line is recognised and skipped; label and source optional), or a JSON array of
 * address strings (the ScamSniffer blacklist format). '#' starts a comment line. Addresses are
 * normalized (ww_addr_parse) and deduplicated; bad lines are counted with their line numbers
 * and skipped, losing nothing else. The bundled default is the September 2025 npm "qix"
 * crypto-clipper set (addrdb/bundled.csv, sources named there).
 */
#ifndef WW_ADDRDB_H
#define WW_ADDRDB_H

#include "decode/decode.h"
#include "util/ww.h"

typedef struct ww_addrdb ww_addrdb;

typedef struct ww_addrdb_entry {
    const char *label;  /* never NULL ("" when the feed gave none) */
    const char *source; /* never NULL: the feed's own source column, or the feed file's name */
} ww_addrdb_entry;

#define WW_ADDRDB_BAD_LINES_KEPT 16
typedef struct ww_addrdb_report {
    size_t lines;    /* data lines read (comments and blank lines not counted) */
    size_t added;    /* new entries */
    size_t dupes;    /* already present (first label wins) */
    size_t bad;      /* lines that were not a valid address */
    size_t bad_line_no[WW_ADDRDB_BAD_LINES_KEPT]; /* the first few bad line numbers (1-based) */
} ww_addrdb_report;

ww_addrdb *ww_addrdb_new(const ww_mem *mem);
void ww_addrdb_free(ww_addrdb *db);

/* Adds one entry. Returns WW_OK, 1 when already present, or WW_E_NOMEM. */
int ww_addrdb_add(ww_addrdb *db, const ww_addr *a, const char *label, const char *source) WW_WUR;

/* The bundled September 2025 set. Returns entries added, or a negative WW_E_*. */
int ww_addrdb_load_bundled(ww_addrdb *db) WW_WUR;

/*
 * Loads a feed file (format detected from its content), or maps a compiled index (detected by
 * its magic, see ww_addrdb_map_file). rep may be NULL (it stays zero for an index). Ends with
 * ww_addrdb_seal.
 * Returns WW_OK; WW_E_IO when the file cannot be read (errbuf says why); WW_E_INVALID when
 * nothing in it is a feed line at all (errbuf says why). Bad lines alone are not an error.
 */
int ww_addrdb_load_file(ww_addrdb *db, const char *path, ww_addrdb_report *rep,
                        char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/* The same over text in memory; default_source names entries whose line has no source. */
int ww_addrdb_load_text(ww_addrdb *db, const char *text, size_t n, const char *default_source,
                        ww_addrdb_report *rep) WW_WUR;

/* An address as the DB keys it: ww_addr_parse, or for a line that names its chain, a string
 * IOC kept as written (e.g. the payload's Solana literal 1911...1111, which is no valid key).
 * Returns WW_OK or WW_E_INVALID. */
int ww_addrdb_addr(ww_addr *out, int chain, const char *s, size_t n) WW_WUR;

/* NULL when a is not listed. The entry lives as long as db. */
const ww_addrdb_entry *ww_addrdb_lookup(const ww_addrdb *db, const ww_addr *a);

/* Entries for one chain (WW_CHAIN_NONE: all). */
size_t ww_addrdb_count(const ww_addrdb *db, int chain);

/* Calls fn for each distinct source with its entry count per chain (for `addrdb stats`). */
typedef void (*ww_addrdb_source_fn)(void *ud, const char *source, int chain, size_t count);
void ww_addrdb_each_source(const ww_addrdb *db, ww_addrdb_source_fn fn, void *ud);

/* Calls fn for each entry (any order). */
typedef void (*ww_addrdb_entry_fn)(void *ud, const ww_addr *a, const ww_addrdb_entry *e);
void ww_addrdb_each(const ww_addrdb *db, ww_addrdb_entry_fn fn, void *ud);

/* ---- compiled index (layout: addrdb/addrdb.c) ---- */
#define WW_ADDRDB_FORMAT 1

/* Does this data start with the compiled-index magic? */
bool ww_addrdb_is_index(const uint8_t *p, size_t n);

/*
 * Writes every entry of db (normalized, deduplicated, first label wins) as a compiled index
 * to path (through path.tmp, renamed). Returns WW_OK, WW_E_IO or WW_E_NOMEM (errbuf set).
 */
int ww_addrdb_write_index(const ww_addrdb *db, const char *path,
                          char errbuf[WW_ERRBUF_SIZE]) WW_WUR;

/*
 * Maps a compiled index read-only and adds it to db (up to 16 files). Nothing is parsed or
 * copied: its entries are looked up in the mapping, which lives until ww_addrdb_free.
 * Returns WW_OK; WW_E_IO (cannot open/map); WW_E_TRUNC (shorter than its header says);
 * WW_E_INVALID (another format version, bad checksum, inconsistent tables): errbuf says which.
 */
int ww_addrdb_map_file(ww_addrdb *db, const char *path, char errbuf[WW_ERRBUF_SIZE]) WW_WUR;

/* ---- entries resembling an address (lookalike of a DB entry) ---- */

/*
 * Sorts the in-memory entries by prefix and by suffix (after each address's fixed part,
 * ww_addr_fixed_len) so ww_addrdb_near is two binary searches. The loaders call it; call it
 * again after ww_addrdb_add (until then ww_addrdb_near scans the in-memory entries).
 * Returns WW_OK or WW_E_NOMEM.
 */
int ww_addrdb_seal(ww_addrdb *db) WW_WUR;

/*
 * Calls fn for the entries of a's chain whose first k, or last k, informative characters are
 * a's (an entry matching both ends is visited twice), at most max calls. Any entry sharing
 * p leading + s trailing characters with p + s >= 2k - 1 is visited. Returns the calls made.
 * Cost: O(log n) per table + the matches; compiled indexes carry their own tables.
 */
size_t ww_addrdb_near(const ww_addrdb *db, const ww_addr *a, size_t k, size_t max,
                      ww_addrdb_entry_fn fn, void *ud);

#endif /* WW_ADDRDB_H */
