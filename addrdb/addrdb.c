/*
 * addrdb.c - attacker address DB: feed parsing (list, CSV, JSON array), an open-addressing
 * hash index over normalized addresses, compiled index files (written by `addrdb build`,
 * mapped read-only at start-up: see the layout below) and the prefix/suffix tables that find
 * DB entries resembling an address.
 */
#define _GNU_SOURCE /* qsort_r: a comparator with a context, no global */
#include "addrdb/addrdb.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A compiled index file, mapped. Every offset in it is checked before use. */
typedef struct mapped {
    uint8_t *base;
    size_t size;
    uint32_t n, dir_bits, n_pairs;
    const uint8_t *dir, *recs, *pfx, *sfx, *pairs;
    const char *str;
    size_t str_size;
    ww_addrdb_entry *entries; /* one per (label, source) pair, pointing into str */
    uint32_t count_by_chain[WW_CHAIN_COUNT];
} mapped;

#define MAX_MAPPED 16

typedef struct rec {
    ww_addr addr;
    uint32_t label; /* index into strs */
    uint32_t source;
} rec;

struct ww_addrdb {
    const ww_mem *mem;
    rec *recs;
    size_t n, alloc;
    uint32_t *slots; /* rec index + 1; 0 = empty */
    size_t nslots;   /* power of two */
    char **strs;     /* interned labels and sources */
    size_t nstrs, astrs;
    ww_addrdb_entry *entries; /* one per rec, kept in step */
    size_t count_by_chain[WW_CHAIN_COUNT];
    uint32_t last_str[2];     /* the last two interned strings: feeds repeat them line after line */
    mapped maps[MAX_MAPPED];
    size_t n_maps;
    uint32_t *pfx, *sfx;      /* in-memory recs sorted by prefix / suffix (ww_addrdb_seal) */
    size_t n_sealed;          /* recs covered by pfx/sfx; == n when sealed */
};

static const ww_addrdb_entry *mapped_lookup(const mapped *m, const ww_addr *a);
static void unmap_all(ww_addrdb *db);

static uint64_t addr_hash(const ww_addr *a)
{
    uint64_t h = 1469598103934665603ULL ^ a->chain;
    for (size_t i = 0; i < a->len; i++) {
        h ^= (uint8_t)a->text[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

ww_addrdb *ww_addrdb_new(const ww_mem *mem)
{
    ww_addrdb *db = ww_calloc(mem, 1, sizeof(*db));
    if (db == NULL)
        return NULL;
    db->mem = mem;
    db->nslots = 1024;
    db->slots = ww_calloc(mem, db->nslots, sizeof(uint32_t));
    if (db->slots == NULL) {
        ww_free(mem, db);
        return NULL;
    }
    return db;
}

void ww_addrdb_free(ww_addrdb *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->nstrs; i++)
        ww_free(db->mem, db->strs[i]);
    ww_free(db->mem, db->strs);
    ww_free(db->mem, db->recs);
    ww_free(db->mem, db->entries);
    ww_free(db->mem, db->slots);
    ww_free(db->mem, db->pfx);
    ww_free(db->mem, db->sfx);
    unmap_all(db);
    ww_free(db->mem, db);
}

static int intern(ww_addrdb *db, const char *s, uint32_t *out)
{
    if (s == NULL)
        s = "";
    for (int k = 0; k < 2; k++) {
        if (db->last_str[k] < db->nstrs && strcmp(db->strs[db->last_str[k]], s) == 0) {
            *out = db->last_str[k];
            return WW_OK;
        }
    }
    /* labels and sources are few: linear search over the interned set */
    for (size_t i = 0; i < db->nstrs; i++) {
        if (strcmp(db->strs[i], s) == 0) {
            *out = (uint32_t)i;
            return WW_OK;
        }
    }
    if (db->nstrs == db->astrs) {
        size_t na = db->astrs ? db->astrs * 2 : 16;
        char **ns = ww_realloc(db->mem, db->strs, na * sizeof(char *));
        if (ns == NULL)
            return WW_E_NOMEM;
        db->strs = ns;
        db->astrs = na;
    }
    size_t len = strlen(s);
    char *copy = ww_malloc(db->mem, len + 1);
    if (copy == NULL)
        return WW_E_NOMEM;
    memcpy(copy, s, len + 1);
    db->strs[db->nstrs] = copy;
    *out = (uint32_t)db->nstrs++;
    db->last_str[1] = db->last_str[0];
    db->last_str[0] = *out;
    return WW_OK;
}

static size_t find_slot(const ww_addrdb *db, const ww_addr *a, bool *found)
{
    size_t mask = db->nslots - 1;
    size_t i = (size_t)addr_hash(a) & mask;
    for (;;) {
        uint32_t s = db->slots[i];
        if (s == 0) {
            *found = false;
            return i;
        }
        if (ww_addr_eq(&db->recs[s - 1].addr, a)) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int grow(ww_addrdb *db)
{
    size_t ns = db->nslots * 2;
    uint32_t *slots = ww_calloc(db->mem, ns, sizeof(uint32_t));
    if (slots == NULL)
        return WW_E_NOMEM;
    ww_free(db->mem, db->slots);
    db->slots = slots;
    db->nslots = ns;
    for (size_t r = 0; r < db->n; r++) {
        bool found;
        size_t i = find_slot(db, &db->recs[r].addr, &found);
        db->slots[i] = (uint32_t)(r + 1);
    }
    return WW_OK;
}

int ww_addrdb_add(ww_addrdb *db, const ww_addr *a, const char *label, const char *source)
{
    bool found;
    size_t i;
    uint32_t li, si;
    int rc;

    WW_ASSERT(db != NULL && a != NULL);
    i = find_slot(db, a, &found);
    if (found)
        return 1;
    for (size_t m = 0; m < db->n_maps; m++)
        if (mapped_lookup(&db->maps[m], a) != NULL)
            return 1;
    if ((db->n + 1) * 2 > db->nslots) {
        if ((rc = grow(db)) != WW_OK)
            return rc;
        i = find_slot(db, a, &found);
    }
    if (db->n == db->alloc) {
        size_t na = db->alloc ? db->alloc * 2 : 256;
        rec *nr = ww_realloc(db->mem, db->recs, na * sizeof(rec));
        if (nr == NULL)
            return WW_E_NOMEM;
        db->recs = nr;
        ww_addrdb_entry *ne = ww_realloc(db->mem, db->entries, na * sizeof(ww_addrdb_entry));
        if (ne == NULL)
            return WW_E_NOMEM;
        db->entries = ne;
        db->alloc = na;
    }
    if ((rc = intern(db, label, &li)) != WW_OK || (rc = intern(db, source, &si)) != WW_OK)
        return rc;
    db->recs[db->n].addr = *a;
    db->recs[db->n].addr.flags = 0;
    db->recs[db->n].label = li;
    db->recs[db->n].source = si;
    db->entries[db->n].label = db->strs[li];
    db->entries[db->n].source = db->strs[si];
    db->slots[i] = (uint32_t)(db->n + 1);
    db->n++;
    if (a->chain < WW_CHAIN_COUNT)
        db->count_by_chain[a->chain]++;
    return WW_OK;
}

const ww_addrdb_entry *ww_addrdb_lookup(const ww_addrdb *db, const ww_addr *a)
{
    bool found;
    size_t i = find_slot(db, a, &found);
    if (found)
        return &db->entries[db->slots[i] - 1];
    for (size_t m = 0; m < db->n_maps; m++) {
        const ww_addrdb_entry *e = mapped_lookup(&db->maps[m], a);
        if (e != NULL)
            return e;
    }
    return NULL;
}

size_t ww_addrdb_count(const ww_addrdb *db, int chain)
{
    size_t n = 0;
    if (chain < 0 || chain >= WW_CHAIN_COUNT)
        return 0;
    n = chain == WW_CHAIN_NONE ? db->n : db->count_by_chain[chain];
    for (size_t m = 0; m < db->n_maps; m++)
        n += chain == WW_CHAIN_NONE ? db->maps[m].n : db->maps[m].count_by_chain[chain];
    return n;
}

static bool mapped_rec(const mapped *m, size_t i, ww_addr *a, const ww_addrdb_entry **e);

void ww_addrdb_each(const ww_addrdb *db, ww_addrdb_entry_fn fn, void *ud)
{
    for (size_t i = 0; i < db->n; i++)
        fn(ud, &db->recs[i].addr, &db->entries[i]);
    for (size_t m = 0; m < db->n_maps; m++) {
        for (size_t i = 0; i < db->maps[m].n; i++) {
            ww_addr a;
            const ww_addrdb_entry *e;
            if (mapped_rec(&db->maps[m], i, &a, &e))
                fn(ud, &a, e);
        }
    }
}

typedef struct src_count {
    const char *source;
    size_t count[WW_CHAIN_COUNT];
} src_count;

typedef struct src_tally {
    src_count *v;
    size_t n, cap;
    bool failed;
} src_tally;

static void tally_entry(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    src_tally *t = ud;
    size_t i;
    for (i = 0; i < t->n; i++)
        if (t->v[i].source == e->source || strcmp(t->v[i].source, e->source) == 0)
            break;
    if (i == t->n) {
        if (t->n == t->cap) {
            size_t nc = t->cap ? t->cap * 2 : 16;
            src_count *nv = realloc(t->v, nc * sizeof(*nv));
            if (nv == NULL) {
                t->failed = true;
                return;
            }
            t->v = nv;
            t->cap = nc;
        }
        memset(&t->v[t->n], 0, sizeof(t->v[0]));
        t->v[t->n++].source = e->source;
    }
    if (a->chain < WW_CHAIN_COUNT)
        t->v[i].count[a->chain]++;
}

void ww_addrdb_each_source(const ww_addrdb *db, ww_addrdb_source_fn fn, void *ud)
{
    src_tally t = {0};
    ww_addrdb_each(db, tally_entry, &t);
    for (size_t i = 0; i < t.n; i++)
        for (int c = 1; c < WW_CHAIN_COUNT; c++)
            if (t.v[i].count[c] > 0)
                fn(ud, t.v[i].source, c, t.v[i].count[c]);
    free(t.v);
}

/* ---- feeds ---- */

static void note_bad(ww_addrdb_report *rep, size_t line_no)
{
    if (rep->bad < WW_ADDRDB_BAD_LINES_KEPT)
        rep->bad_line_no[rep->bad] = line_no;
    rep->bad++;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t' || **s == '"')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r' ||
                      (*s)[*n - 1] == '"'))
        (*n)--;
}

/* Splits a CSV line on commas (no quoting beyond trimming surrounding quotes). */
static size_t split_csv(const char *s, size_t n, const char *f[], size_t fl[], size_t maxf)
{
    size_t nf = 0, start = 0;
    for (size_t i = 0; i <= n && nf < maxf; i++) {
        if (i == n || s[i] == ',') {
            f[nf] = s + start;
            fl[nf] = i - start;
            trim(&f[nf], &fl[nf]);
            nf++;
            start = i + 1;
        }
    }
    return nf;
}

/*
 * A feed line that names its chain but is not a valid address of it may still be a reliable
 * string IOC: the September 2025 payload writes the literal 19111111111111111111111111111111
 * (24 bytes once decoded, not a Solana key) into Solana calls. Kept as written when it is
 * base58 of a plausible length; never guessed for lines without a chain.
 */
static bool string_ioc(ww_addr *out, int chain, const char *s, size_t n)
{
    static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if (chain != WW_CHAIN_SOLANA || n < 32 || n > 44)
        return false;
    for (size_t i = 0; i < n; i++)
        if (memchr(b58, s[i], sizeof(b58) - 1) == NULL)
            return false;
    memset(out, 0, sizeof(*out));
    out->chain = (uint8_t)chain;
    out->len = (uint8_t)n;
    memcpy(out->text, s, n);
    return true;
}

int ww_addrdb_addr(ww_addr *out, int chain, const char *s, size_t n)
{
    if (ww_addr_parse(out, chain, s, n) == WW_OK)
        return WW_OK;
    if (chain != WW_CHAIN_NONE && string_ioc(out, chain, s, n))
        return WW_OK;
    return WW_E_INVALID;
}

static int add_one(ww_addrdb *db, int chain, const char *a, size_t an, const char *label,
                   const char *source, ww_addrdb_report *rep, size_t line_no)
{
    ww_addr addr;
    int rc;
    if (ww_addrdb_addr(&addr, chain, a, an) != WW_OK) {
        note_bad(rep, line_no);
        return WW_OK;
    }
    rc = ww_addrdb_add(db, &addr, label, source);
    if (rc == 1)
        rep->dupes++;
    else if (rc == WW_OK)
        rep->added++;
    else
        return rc;
    return WW_OK;
}

static int load_json_array(ww_addrdb *db, const char *text, size_t n, const char *source,
                           ww_addrdb_report *rep)
{
    cJSON *root = cJSON_ParseWithLength(text, n);
    const cJSON *it;
    size_t idx = 0;
    int rc = WW_OK;
    if (root == NULL || !cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return WW_E_INVALID;
    }
    cJSON_ArrayForEach(it, root)
    {
        idx++;
        rep->lines++;
        if (cJSON_IsString(it) && it->valuestring != NULL) {
            rc = add_one(db, WW_CHAIN_NONE, it->valuestring, strlen(it->valuestring), "", source,
                         rep, idx);
            if (rc != WW_OK)
                break;
        } else if (cJSON_IsObject(it)) {
            const cJSON *ad = cJSON_GetObjectItemCaseSensitive(it, "address");
            const cJSON *ch = cJSON_GetObjectItemCaseSensitive(it, "chain");
            const cJSON *lb = cJSON_GetObjectItemCaseSensitive(it, "label");
            const cJSON *sr = cJSON_GetObjectItemCaseSensitive(it, "source");
            int chain = WW_CHAIN_NONE;
            if (cJSON_IsString(ch))
                chain = ww_chain_from_name(ch->valuestring, strlen(ch->valuestring));
            if (!cJSON_IsString(ad)) {
                note_bad(rep, idx);
                continue;
            }
            rc = add_one(db, chain, ad->valuestring, strlen(ad->valuestring),
                         cJSON_IsString(lb) ? lb->valuestring : "",
                         cJSON_IsString(sr) ? sr->valuestring : source, rep, idx);
            if (rc != WW_OK)
                break;
        } else {
            note_bad(rep, idx);
        }
    }
    cJSON_Delete(root);
    return rc;
}

int ww_addrdb_load_text(ww_addrdb *db, const char *text, size_t n, const char *default_source,
                        ww_addrdb_report *rep)
{
    ww_addrdb_report local;
    size_t pos = 0, line_no = 0;
    bool header_checked = false;
    int rc;

    if (rep == NULL)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    if (default_source == NULL)
        default_source = "";

    /* JSON array? */
    {
        size_t i = 0;
        while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
            i++;
        if (i < n && text[i] == '[')
            return load_json_array(db, text + i, n - i, default_source, rep);
    }

    while (pos < n) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) : n - pos;
        pos += len + (nl ? 1 : 0);
        line_no++;
        trim(&line, &len);
        if (len == 0 || line[0] == '#')
            continue;
        const char *f[4];
        size_t fl[4];
        size_t nf = split_csv(line, len, f, fl, 4);
        if (!header_checked) {
            header_checked = true;
            if (nf >= 2 && fl[0] == 5 && strncmp(f[0], "chain", 5) == 0)
                continue; /* CSV header */
        }
        rep->lines++;
        if (nf == 1) {
            rc = add_one(db, WW_CHAIN_NONE, f[0], fl[0], "", default_source, rep, line_no);
        } else {
            char label[256], source[256];
            int chain = ww_chain_from_name(f[0], fl[0]);
            if (chain == WW_CHAIN_NONE) {
                note_bad(rep, line_no);
                continue;
            }
            snprintf(label, sizeof label, "%.*s", nf > 2 ? (int)WW_MIN(fl[2], 255) : 0,
                     nf > 2 ? f[2] : "");
            snprintf(source, sizeof source, "%.*s", nf > 3 ? (int)WW_MIN(fl[3], 255) : 0,
                     nf > 3 ? f[3] : "");
            rc = add_one(db, chain, f[1], fl[1], label, source[0] ? source : default_source, rep,
                         line_no);
        }
        if (rc != WW_OK)
            return rc;
    }
    return WW_OK;
}

int ww_addrdb_load_file(ww_addrdb *db, const char *path, ww_addrdb_report *rep,
                        char errbuf[WW_ERRBUF_SIZE])
{
    ww_addrdb_report local;
    ww_buf b;
    int rc;
    const char *base;
    FILE *f = fopen(path, "rb");
    uint8_t magic[8];

    if (rep == NULL)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    if (f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return WW_E_IO;
    }
    if (fread(magic, 1, sizeof magic, f) == sizeof magic && ww_addrdb_is_index(magic, 8)) {
        fclose(f);
        return ww_addrdb_map_file(db, path, errbuf);
    }
    rewind(f);
    ww_buf_init(&b, db->mem, (size_t)1 << 30);
    rc = ww_buf_read_file(&b, f, path, errbuf);
    fclose(f);
    if (rc != WW_OK) {
        ww_buf_free(&b);
        return rc == WW_E_NOMEM ? rc : WW_E_IO;
    }
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    rc = ww_addrdb_load_text(db, b.data ? (const char *)b.data : "", b.len, base, rep);
    ww_buf_free(&b);
    if (rc == WW_E_INVALID) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: not an address feed (JSON that is not an array)",
                 path);
        return rc;
    }
    if (rc != WW_OK) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, ww_strerror(rc));
        return rc;
    }
    if (rep->lines > 0 && rep->added + rep->dupes == 0) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: no valid address in %zu lines (first bad line %zu)",
                 path, rep->lines, rep->bad_line_no[0]);
        return WW_E_INVALID;
    }
    if ((rc = ww_addrdb_seal(db)) != WW_OK) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, ww_strerror(rc));
        return rc;
    }
    return WW_OK;
}

/* ---- bundled ---- */

static const char bundled_csv[] =
#include "bundled_db.inc"
    ;

int ww_addrdb_load_bundled(ww_addrdb *db)
{
    ww_addrdb_report rep;
    int rc = ww_addrdb_load_text(db, bundled_csv, sizeof(bundled_csv) - 1, "walletwatch-bundled",
                                 &rep);
    if (rc != WW_OK)
        return rc;
    if ((rc = ww_addrdb_seal(db)) != WW_OK)
        return rc;
    return (int)rep.added;
}

/* ---- compiled index files ----
 *
 * `walletwatch addrdb build` writes, and start-up maps (mmap, read-only, never parsed):
 *
 *   offset  size  field (little-endian)
 *        0     8  magic "WWADDRDB"
 *        8     4  format version (WW_ADDRDB_FORMAT)
 *       12     4  header size (128)
 *       16     8  file size
 *       24     8  checksum: ww64 (below) of bytes [32, file size)
 *       32     4  n: entries
 *       36     4  dir_bits: the directory has 2^dir_bits + 1 entries
 *       40     4  n_pairs: distinct (label, source) pairs
 *       44     4  0
 *       48     8  dir offset    u32[2^dir_bits + 1]: first record whose hash's top dir_bits
 *                               bits are >= i; the last is n
 *       56     8  rec offset    n x 20 bytes, sorted by hash:
 *                               u64 hash, u32 text offset, u32 pair, u8 chain, u8 len, u16 0
 *       64     8  pfx offset    u32[n]: record numbers sorted by (chain, text after its fixed part)
 *       72     8  sfx offset    u32[n]: record numbers sorted by (chain, text read backwards)
 *       80     8  pair offset   n_pairs x (u32 label offset, u32 source offset)
 *       88     8  str offset    string table: NUL-terminated address texts, labels, sources
 *       96     8  str size      (its last byte is NUL: any offset in it is a C string)
 *      104    24  u32 entries per chain, chains 1..6
 *
 * hash = fmix64(FNV-1a 64 over chain byte then the normalized text). The directory gives a
 * lookup one bucket of ~1 record: two cache lines in the mapping, whatever n.
 * Load checks the magic, version, sizes, that every section lies inside the file, that the
 * directory is monotone, and the checksum; records are bounds-checked again when read.
 */
#define IDX_MAGIC "WWADDRDB"
#define IDX_HDR 128
#define IDX_REC 20

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* one load; the file is little-endian */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t key_hash(int chain, const char *text, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    h = (h ^ (uint8_t)chain) * 1099511628211ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)text[i]) * 1099511628211ULL;
    return fmix64(h);
}

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* ww64: a fast non-cryptographic checksum (4 lanes of 64-bit multiply-rotate, xxh64-like). */
static uint64_t ww64(const uint8_t *p, size_t n)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL;
    uint64_t v[4] = {P1 + P2, P2, 0, (uint64_t)0 - P1};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            v[k] = rotl64(v[k] + rd64(p + i + 8 * k) * P2, 31) * P1;
    uint64_t h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) + rotl64(v[3], 18) + n;
    for (; i < n; i++)
        h = rotl64(h ^ (p[i] * P1), 11) * P2;
    return fmix64(h);
}

static void unmap_all(ww_addrdb *db)
{
    for (size_t m = 0; m < db->n_maps; m++) {
        munmap(db->maps[m].base, db->maps[m].size);
        ww_free(db->mem, db->maps[m].entries);
    }
    db->n_maps = 0;
}

/* Record i: its address text (bounds-checked) and entry. False when the record is damaged. */
static bool mapped_rec(const mapped *m, size_t i, ww_addr *a, const ww_addrdb_entry **e)
{
    const uint8_t *r = m->recs + i * IDX_REC;
    uint32_t off = rd32(r + 8), pair = rd32(r + 12);
    uint8_t chain = r[16], len = r[17];
    if (pair >= m->n_pairs || off >= m->str_size || len >= WW_ADDR_TEXT_MAX ||
        m->str_size - off <= len || chain >= WW_CHAIN_COUNT)
        return false;
    memset(a, 0, sizeof(*a));
    a->chain = chain;
    a->len = len;
    memcpy(a->text, m->str + off, len);
    *e = &m->entries[pair];
    return true;
}

static const ww_addrdb_entry *mapped_lookup(const mapped *m, const ww_addr *a)
{
    uint64_t h = key_hash(a->chain, a->text, a->len);
    size_t b = (size_t)(h >> (64 - m->dir_bits));
    uint32_t lo = rd32(m->dir + 4 * b), hi = rd32(m->dir + 4 * (b + 1));
    for (uint32_t i = lo; i < hi; i++) {
        const uint8_t *r = m->recs + (size_t)i * IDX_REC;
        uint64_t rh = rd64(r);
        if (rh < h)
            continue;
        if (rh > h)
            break;
        uint32_t off = rd32(r + 8), pair = rd32(r + 12);
        if (r[16] == a->chain && r[17] == a->len && off < m->str_size &&
            m->str_size - off > a->len && memcmp(m->str + off, a->text, a->len) == 0 &&
            pair < m->n_pairs)
            return &m->entries[pair];
    }
    return NULL;
}

bool ww_addrdb_is_index(const uint8_t *p, size_t n)
{
    return n >= 8 && memcmp(p, IDX_MAGIC, 8) == 0;
}

/* Validates an index image. Returns WW_OK or WW_E_INVALID / WW_E_TRUNC with errbuf set. */
static int index_check(mapped *m, const uint8_t *p, size_t n, char errbuf[WW_ERRBUF_SIZE])
{
    uint64_t off[6];
    if (n < IDX_HDR || !ww_addrdb_is_index(p, n)) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "compiled DB truncated (%zu bytes, header is %d)", n,
                 IDX_HDR);
        return n < IDX_HDR && ww_addrdb_is_index(p, n) ? WW_E_TRUNC : WW_E_INVALID;
    }
    if (rd32(p + 8) != WW_ADDRDB_FORMAT) {
        snprintf(errbuf, WW_ERRBUF_SIZE,
                 "compiled DB format version %u, this walletwatch reads version %d: rebuild it "
                 "with `walletwatch addrdb build`",
                 rd32(p + 8), WW_ADDRDB_FORMAT);
        return WW_E_INVALID;
    }
    if (rd32(p + 12) != IDX_HDR) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "compiled DB header size %u is not %d", rd32(p + 12),
                 IDX_HDR);
        return WW_E_INVALID;
    }
    if (rd64(p + 16) != n) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "compiled DB %s (%zu bytes, header says %llu)",
                 rd64(p + 16) > n ? "truncated" : "has trailing bytes", n,
                 (unsigned long long)rd64(p + 16));
        return rd64(p + 16) > n ? WW_E_TRUNC : WW_E_INVALID;
    }
    if (ww64(p + 32, n - 32) != rd64(p + 24)) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "compiled DB corrupted (checksum mismatch)");
        return WW_E_INVALID;
    }
    m->n = rd32(p + 32);
    m->dir_bits = rd32(p + 36);
    m->n_pairs = rd32(p + 40);
    for (int i = 0; i < 6; i++)
        off[i] = rd64(p + 48 + 8 * i);
    uint64_t str_size = rd64(p + 96);
    uint64_t need[6];
    bool ok = m->dir_bits >= 1 && m->dir_bits <= 26 && m->n <= (1u << 30) &&
              m->n_pairs <= m->n + 1;
    if (ok) {
        need[0] = (((uint64_t)1 << m->dir_bits) + 1) * 4;
        need[1] = (uint64_t)m->n * IDX_REC;
        need[2] = need[3] = (uint64_t)m->n * 4;
        need[4] = (uint64_t)m->n_pairs * 8;
        need[5] = str_size;
        for (int i = 0; i < 6 && ok; i++)
            ok = off[i] >= IDX_HDR && off[i] <= n && need[i] <= n - off[i];
    }
    if (!ok || str_size == 0 || p[off[5] + str_size - 1] != 0) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "compiled DB corrupted (bad section table)");
        return WW_E_INVALID;
    }
    m->dir = p + off[0];
    m->recs = p + off[1];
    m->pfx = p + off[2];
    m->sfx = p + off[3];
    m->pairs = p + off[4];
    m->str = (const char *)p + off[5];
    m->str_size = (size_t)str_size;
    uint32_t prev = 0;
    for (size_t i = 0; i <= ((size_t)1 << m->dir_bits); i++) {
        uint32_t d = rd32(m->dir + 4 * i);
        if (d < prev || d > m->n || (i == 0 && d != 0)) {
            ok = false;
            break;
        }
        prev = d;
    }
    if (!ok || prev != m->n) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "compiled DB corrupted (bad directory)");
        return WW_E_INVALID;
    }
    for (uint32_t i = 0; i < m->n_pairs; i++)
        if (rd32(m->pairs + 8 * i) >= m->str_size || rd32(m->pairs + 8 * i + 4) >= m->str_size) {
            snprintf(errbuf, WW_ERRBUF_SIZE, "compiled DB corrupted (bad label table)");
            return WW_E_INVALID;
        }
    uint64_t total = 0;
    for (int c = 1; c < WW_CHAIN_COUNT; c++) {
        m->count_by_chain[c] = rd32(p + 104 + 4 * (c - 1));
        total += m->count_by_chain[c];
    }
    if (total != m->n) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "compiled DB corrupted (chain counts)");
        return WW_E_INVALID;
    }
    return WW_OK;
}

static int attach(ww_addrdb *db, mapped *m, char errbuf[WW_ERRBUF_SIZE])
{
    if (db->n_maps == MAX_MAPPED) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "more than %d compiled DBs", MAX_MAPPED);
        return WW_E_TOOBIG;
    }
    m->entries = ww_calloc(db->mem, m->n_pairs ? m->n_pairs : 1, sizeof(ww_addrdb_entry));
    if (m->entries == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "out of memory");
        return WW_E_NOMEM;
    }
    for (uint32_t i = 0; i < m->n_pairs; i++) {
        m->entries[i].label = m->str + rd32(m->pairs + 8 * i);
        m->entries[i].source = m->str + rd32(m->pairs + 8 * i + 4);
    }
    db->maps[db->n_maps++] = *m;
    return WW_OK;
}

int ww_addrdb_map_file(ww_addrdb *db, const char *path, char errbuf[WW_ERRBUF_SIZE])
{
    struct stat st;
    mapped m;
    char why[WW_ERRBUF_SIZE];
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
    memset(&m, 0, sizeof m);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return WW_E_IO;
    }
    if (st.st_size < IDX_HDR) {
        uint8_t h[IDX_HDR];
        ssize_t r = read(fd, h, sizeof h);
        close(fd);
        rc = index_check(&m, h, r > 0 ? (size_t)r : 0, why);
        snprintf(errbuf, WW_ERRBUF_SIZE, "%.80s: %.160s", path, why);
        return rc == WW_OK ? WW_E_INVALID : rc;
    }
    m.size = (size_t)st.st_size;
    m.base = mmap(NULL, m.size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (m.base == MAP_FAILED) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: mmap: %s", path, strerror(errno));
        return WW_E_IO;
    }
    if ((rc = index_check(&m, m.base, m.size, why)) != WW_OK ||
        (rc = attach(db, &m, why)) != WW_OK) {
        munmap(m.base, m.size);
        snprintf(errbuf, WW_ERRBUF_SIZE, "%.80s: %.160s", path, why);
        return rc;
    }
    return WW_OK;
}

/* ---- prefix / suffix order ---- */

/* Compares the informative part of two addresses of one chain; then chain; backwards if rev. */
static int affix_cmp(const ww_addr *x, const ww_addr *y, bool rev, size_t k)
{
    if (x->chain != y->chain)
        return x->chain < y->chain ? -1 : 1;
    size_t fx = ww_addr_fixed_len(x), fy = ww_addr_fixed_len(y);
    size_t nx = x->len - fx, ny = y->len - fy, m = WW_MIN(WW_MIN(nx, ny), k);
    for (size_t i = 0; i < m; i++) {
        uint8_t a = (uint8_t)(rev ? x->text[x->len - 1 - i] : x->text[fx + i]);
        uint8_t b = (uint8_t)(rev ? y->text[y->len - 1 - i] : y->text[fy + i]);
        if (a != b)
            return a < b ? -1 : 1;
    }
    if (m == k)
        return 0;
    return nx == ny ? 0 : nx < ny ? -1 : 1;
}

typedef struct build_rec {
    uint64_t hash;
    ww_addr addr;
    const char *label, *source;
    uint32_t text_off, pair;
} build_rec;

static int cmp_hash(const void *a, const void *b)
{
    const build_rec *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    if (x->addr.chain != y->addr.chain)
        return x->addr.chain < y->addr.chain ? -1 : 1;
    return strcmp(x->addr.text, y->addr.text);
}

/* Sorting record indexes by address prefix or suffix (qsort_r's context: where the records
 * are and which end counts). Ties keep index order, so the order is total. */
typedef struct affix_sort {
    const char *base;  /* the records */
    size_t stride;     /* sizeof one record */
    size_t addr_off;   /* offsetof its ww_addr */
    bool rev;          /* suffixes: compare from the end */
} affix_sort;

static int cmp_affix_idx(const void *a, const void *b, void *ctx)
{
    const affix_sort *as = ctx;
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    const ww_addr *x = (const ww_addr *)(as->base + i * as->stride + as->addr_off);
    const ww_addr *y = (const ww_addr *)(as->base + j * as->stride + as->addr_off);
    int c = affix_cmp(x, y, as->rev, SIZE_MAX);
    return c != 0 ? c : (i < j ? -1 : i > j);
}

/* pfx and sfx: the indexes 0..n-1 of records at base, sorted by prefix and by suffix. */
static void sort_affixes(uint32_t *pfx, uint32_t *sfx, size_t n, const void *base, size_t stride,
                         size_t addr_off)
{
    affix_sort as = {base, stride, addr_off, false};
    for (size_t i = 0; i < n; i++)
        pfx[i] = sfx[i] = (uint32_t)i;
    qsort_r(pfx, n, sizeof(uint32_t), cmp_affix_idx, &as);
    as.rev = true;
    qsort_r(sfx, n, sizeof(uint32_t), cmp_affix_idx, &as);
}

/* String table with content dedupe (labels, sources repeat). */
typedef struct strtab {
    ww_buf buf;
    uint32_t *slots; /* offset + 1 */
    size_t nslots, used;
} strtab;

static uint64_t str_hash(const char *s)
{
    return key_hash(0, s, strlen(s));
}

static int strtab_add(strtab *t, const char *s, bool dedupe, uint32_t *off)
{
    size_t len = strlen(s), i = 0;
    if (dedupe) {
        if ((t->used + 1) * 2 > t->nslots) {
            size_t ns = t->nslots ? t->nslots * 2 : 1024;
            uint32_t *nsl = calloc(ns, sizeof(uint32_t));
            if (nsl == NULL)
                return WW_E_NOMEM;
            for (size_t k = 0; k < t->nslots; k++) {
                if (t->slots[k] == 0)
                    continue;
                size_t j = (size_t)str_hash((const char *)t->buf.data + t->slots[k] - 1) & (ns - 1);
                while (nsl[j] != 0)
                    j = (j + 1) & (ns - 1);
                nsl[j] = t->slots[k];
            }
            free(t->slots);
            t->slots = nsl;
            t->nslots = ns;
        }
        i = (size_t)str_hash(s) & (t->nslots - 1);
        while (t->slots[i] != 0) {
            if (strcmp((const char *)t->buf.data + t->slots[i] - 1, s) == 0) {
                *off = t->slots[i] - 1;
                return WW_OK;
            }
            i = (i + 1) & (t->nslots - 1);
        }
    }
    if (t->buf.len > UINT32_MAX - len - 2)
        return WW_E_TOOBIG;
    *off = (uint32_t)t->buf.len;
    int rc = ww_buf_append(&t->buf, s, len + 1);
    if (rc != WW_OK)
        return rc;
    if (dedupe) {
        t->slots[i] = *off + 1;
        t->used++;
    }
    return WW_OK;
}

typedef struct gather {
    build_rec *v;
    size_t n, cap;
} gather;

static void gather_entry(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    gather *g = ud;
    if (g->n < g->cap) {
        g->v[g->n].addr = *a;
        g->v[g->n].label = e->label;
        g->v[g->n].source = e->source;
        g->v[g->n].hash = key_hash(a->chain, a->text, a->len);
        g->n++;
    }
}

/* Label/source pairs, deduplicated (through a string table of "label\1source"): each
 * record's pair number, the pairs as (label offset, source offset) in st. */
static int build_pairs(build_rec *v, size_t n, strtab *st, ww_buf *pairs)
{
    strtab pt;
    memset(&pt, 0, sizeof pt);
    ww_buf_init(&pt.buf, NULL, (size_t)UINT32_MAX);
    uint32_t npairs = 0;
    int rc = WW_OK;
    uint32_t *pair_of_off = NULL; /* pt offset -> pair number, grown alongside */
    size_t pcap = 0;
    for (size_t i = 0; i < n; i++) {
        char key[1024];
        uint32_t lo, so, ko;
        snprintf(key, sizeof key, "%s%c%s", v[i].label, 1, v[i].source);
        if ((rc = strtab_add(st, v[i].label, true, &lo)) != WW_OK ||
            (rc = strtab_add(st, v[i].source, true, &so)) != WW_OK)
            break;
        size_t before = pt.buf.len;
        if ((rc = strtab_add(&pt, key, true, &ko)) != WW_OK)
            break;
        if (pt.buf.len != before) { /* a new pair */
            if (ko >= pcap) {
                size_t nc = pcap ? pcap * 2 : 4096;
                while (nc <= ko)
                    nc *= 2;
                uint32_t *np = realloc(pair_of_off, nc * sizeof(uint32_t));
                if (np == NULL) {
                    rc = WW_E_NOMEM;
                    break;
                }
                pair_of_off = np;
                pcap = nc;
            }
            pair_of_off[ko] = npairs++;
            uint8_t pr[8];
            wr32(pr, lo);
            wr32(pr + 4, so);
            if ((rc = ww_buf_append(pairs, pr, 8)) != WW_OK)
                break;
        }
        v[i].pair = pair_of_off[ko];
    }
    free(pair_of_off);
    free(pt.slots);
    ww_buf_free(&pt.buf);
    return rc;
}

/* The parts of an index image, gathered before it is laid out. */
typedef struct idx_parts {
    const build_rec *v;
    size_t n;
    uint32_t bits;          /* hash bits of the directory */
    size_t ndir;            /* 2^bits + 1 */
    uint32_t *dir, *pfx, *sfx;
    const ww_buf *pairs, *str;
    uint32_t count[WW_CHAIN_COUNT];
} idx_parts;

/* The hash directory (dir[b]: the first record whose top `bits` hash bits are >= b) and the
 * prefix/suffix orders. WW_OK or WW_E_NOMEM. */
static int build_dir_and_orders(idx_parts *ip)
{
    const build_rec *v = ip->v;
    size_t n = ip->n;
    ip->bits = 1;
    while (ip->bits < 24 && ((size_t)1 << ip->bits) < n)
        ip->bits++;
    ip->ndir = ((size_t)1 << ip->bits) + 1;
    ip->dir = calloc(ip->ndir, sizeof(uint32_t));
    ip->pfx = malloc((n ? n : 1) * sizeof(uint32_t));
    ip->sfx = malloc((n ? n : 1) * sizeof(uint32_t));
    if (ip->dir == NULL || ip->pfx == NULL || ip->sfx == NULL)
        return WW_E_NOMEM;
    for (size_t b = 0, i = 0; b < ip->ndir; b++) {
        while (i < n && (b == ip->ndir - 1 || (size_t)(v[i].hash >> (64 - ip->bits)) < b))
            i++;
        ip->dir[b] = (uint32_t)i;
    }
    sort_affixes(ip->pfx, ip->sfx, n, v, sizeof(build_rec), offsetof(build_rec, addr));
    return WW_OK;
}

/* Lays the index out (header, directory, records, prefix and suffix orders, pairs, strings;
 * see the format at the top of the index section). NULL on OOM. */
static uint8_t *index_image(const idx_parts *ip, size_t *total_out)
{
    size_t n = ip->n;
    size_t o_dir = IDX_HDR, o_rec = o_dir + ip->ndir * 4, o_pfx = o_rec + n * IDX_REC,
           o_sfx = o_pfx + n * 4, o_pair = o_sfx + n * 4, o_str = o_pair + ip->pairs->len,
           total = o_str + ip->str->len;
    uint8_t *img = calloc(1, total);
    if (img == NULL)
        return NULL;
    memcpy(img, IDX_MAGIC, 8);
    wr32(img + 8, WW_ADDRDB_FORMAT);
    wr32(img + 12, IDX_HDR);
    wr64(img + 16, total);
    wr32(img + 32, (uint32_t)n);
    wr32(img + 36, ip->bits);
    wr32(img + 40, (uint32_t)(ip->pairs->len / 8));
    size_t offs[6] = {o_dir, o_rec, o_pfx, o_sfx, o_pair, o_str};
    for (int i = 0; i < 6; i++)
        wr64(img + 48 + 8 * i, offs[i]);
    wr64(img + 96, ip->str->len);
    for (int c = 1; c < WW_CHAIN_COUNT; c++)
        wr32(img + 104 + 4 * (c - 1), ip->count[c]);
    for (size_t i = 0; i < ip->ndir; i++)
        wr32(img + o_dir + 4 * i, ip->dir[i]);
    for (size_t i = 0; i < n; i++) {
        uint8_t *r = img + o_rec + i * IDX_REC;
        wr64(r, ip->v[i].hash);
        wr32(r + 8, ip->v[i].text_off);
        wr32(r + 12, ip->v[i].pair);
        r[16] = ip->v[i].addr.chain;
        r[17] = ip->v[i].addr.len;
        wr32(img + o_pfx + 4 * i, ip->pfx[i]);
        wr32(img + o_sfx + 4 * i, ip->sfx[i]);
    }
    if (ip->pairs->len > 0)
        memcpy(img + o_pair, ip->pairs->data, ip->pairs->len);
    memcpy(img + o_str, ip->str->data, ip->str->len);
    wr64(img + 24, ww64(img + 32, total - 32));
    *total_out = total;
    return img;
}

/* p[0..n) to path through path.tmp and a rename (a reader never sees half a file). */
static int write_atomic(const char *path, const uint8_t *p, size_t n,
                        char errbuf[WW_ERRBUF_SIZE])
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%.160s: %.80s", tmp, strerror(errno));
        return WW_E_IO;
    }
    if (fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%.160s: write failed", tmp);
        remove(tmp);
        return WW_E_IO;
    }
    if (rename(tmp, path) != 0) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        remove(tmp);
        return WW_E_IO;
    }
    return WW_OK;
}

/* The entries sorted by key hash, equal keys once (two compiled DBs given together may
 * overlap: the first is kept). NULL on OOM; *n their number. */
static build_rec *gather_sorted(const ww_addrdb *db, size_t *n)
{
    size_t cap = ww_addrdb_count(db, WW_CHAIN_NONE);
    gather g = {calloc(cap ? cap : 1, sizeof(build_rec)), 0, cap};
    if (g.v == NULL)
        return NULL;
    ww_addrdb_each(db, gather_entry, &g);
    qsort(g.v, g.n, sizeof(build_rec), cmp_hash);
    *n = 0;
    for (size_t i = 0; i < g.n; i++)
        if (*n == 0 || cmp_hash(&g.v[*n - 1], &g.v[i]) != 0)
            g.v[(*n)++] = g.v[i];
    return g.v;
}

int ww_addrdb_write_index(const ww_addrdb *db, const char *path, char errbuf[WW_ERRBUF_SIZE])
{
    idx_parts ip;
    strtab st;
    ww_buf pairs;
    uint8_t *img = NULL;
    size_t total = 0;
    int rc = WW_E_NOMEM;
    build_rec *v;

    memset(&ip, 0, sizeof ip);
    memset(&st, 0, sizeof st);
    ww_buf_init(&st.buf, NULL, (size_t)UINT32_MAX);
    ww_buf_init(&pairs, NULL, (size_t)1 << 34);
    if ((v = gather_sorted(db, &ip.n)) == NULL)
        goto out;
    ip.v = v;
    ip.pairs = &pairs;
    ip.str = &st.buf;
    if (ip.n > (1u << 30)) {
        rc = WW_E_TOOBIG;
        goto out;
    }
    if ((rc = build_pairs(v, ip.n, &st, &pairs)) != WW_OK)
        goto out;
    for (size_t i = 0; i < ip.n; i++) {
        if ((rc = strtab_add(&st, v[i].addr.text, false, &v[i].text_off)) != WW_OK)
            goto out;
        if (v[i].addr.chain < WW_CHAIN_COUNT)
            ip.count[v[i].addr.chain]++;
    }
    if (st.buf.len == 0 && (rc = ww_buf_append(&st.buf, "", 1)) != WW_OK)
        goto out;
    rc = WW_E_NOMEM;
    if (build_dir_and_orders(&ip) != WW_OK || (img = index_image(&ip, &total)) == NULL)
        goto out;
    rc = write_atomic(path, img, total, errbuf);
out:
    if (rc == WW_E_NOMEM || rc == WW_E_TOOBIG)
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, ww_strerror(rc));
    free(img);
    free(ip.dir);
    free(ip.pfx);
    free(ip.sfx);
    free(st.slots);
    ww_buf_free(&st.buf);
    ww_buf_free(&pairs);
    free(v);
    return rc;
}

/* ---- entries that resemble an address ---- */

int ww_addrdb_seal(ww_addrdb *db)
{
    if (db->n_sealed == db->n && db->pfx != NULL)
        return WW_OK;
    uint32_t *p = ww_realloc(db->mem, db->pfx, (db->n ? db->n : 1) * sizeof(uint32_t));
    if (p == NULL)
        return WW_E_NOMEM;
    db->pfx = p;
    uint32_t *s = ww_realloc(db->mem, db->sfx, (db->n ? db->n : 1) * sizeof(uint32_t));
    if (s == NULL)
        return WW_E_NOMEM;
    db->sfx = s;
    sort_affixes(db->pfx, db->sfx, db->n, db->recs, sizeof(rec), offsetof(rec, addr));
    db->n_sealed = db->n;
    return WW_OK;
}

typedef struct near_src {
    const ww_addrdb *db; /* in-memory part, or */
    const mapped *m;     /* one mapped file */
    const uint8_t *tab;  /* mapped pfx/sfx */
} near_src;

static bool near_get(const near_src *s, bool rev, size_t i, ww_addr *a, const ww_addrdb_entry **e)
{
    if (s->m == NULL) {
        uint32_t r = (rev ? s->db->sfx : s->db->pfx)[i];
        *a = s->db->recs[r].addr;
        *e = &s->db->entries[r];
        return true;
    }
    uint32_t r = rd32(s->tab + 4 * i);
    return r < s->m->n && mapped_rec(s->m, r, a, e);
}

/* Visits the entries of src whose first (last if rev) k informative characters equal a's. */
static size_t near_side(const near_src *s, size_t n, bool rev, const ww_addr *a, size_t k,
                        size_t max, ww_addrdb_entry_fn fn, void *ud)
{
    size_t lo = 0, hi = n, visited = 0;
    ww_addr x;
    const ww_addrdb_entry *e;
    while (lo < hi) { /* first index not below a (on k characters) */
        size_t mid = lo + (hi - lo) / 2;
        if (!near_get(s, rev, mid, &x, &e))
            return visited; /* damaged record: give up on this table */
        if (affix_cmp(&x, a, rev, k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < n && visited < max; i++) {
        if (!near_get(s, rev, i, &x, &e) || affix_cmp(&x, a, rev, k) != 0)
            break;
        visited++;
        fn(ud, &x, e);
    }
    return visited;
}

size_t ww_addrdb_near(const ww_addrdb *db, const ww_addr *a, size_t k, size_t max,
                      ww_addrdb_entry_fn fn, void *ud)
{
    size_t visited = 0, fa = ww_addr_fixed_len(a);
    if (a->len <= fa || k == 0)
        return 0;
    k = WW_MIN(k, (size_t)(a->len - fa));
    for (int rev = 0; rev < 2; rev++) {
        if (db->n_sealed == db->n) {
            near_src s = {db, NULL, NULL};
            visited += near_side(&s, db->n, rev, a, k, max - WW_MIN(max, visited), fn, ud);
        } else {
            /* not sealed (entries added since): a linear pass over the in-memory part */
            for (size_t i = 0; i < db->n && visited < max; i++) {
                const ww_addr *x = &db->recs[i].addr;
                if (affix_cmp(x, a, rev, k) == 0) {
                    visited++;
                    fn(ud, x, &db->entries[i]);
                }
            }
        }
        for (size_t m = 0; m < db->n_maps; m++) {
            near_src s = {db, &db->maps[m], rev ? db->maps[m].sfx : db->maps[m].pfx};
            visited += near_side(&s, db->maps[m].n, rev, a, k, max - WW_MIN(max, visited), fn,
                                 ud);
        }
    }
    return visited;
}
