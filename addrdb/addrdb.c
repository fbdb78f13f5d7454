/*
 * addrdb.c - attacker address DB: feed parsing (list, CSV, JSON array) and an
 * open-addressing hash index over normalized addresses.
 */
#include "addrdb/addrdb.h"

#include <cJSON.h>
#include <errno.h>

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
    ww_addrdb_entry *entries; /* built lazily? no: one per rec, kept in step */
    size_t count_by_chain[WW_CHAIN_COUNT];
};

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
    ww_free(db->mem, db);
}

static int intern(ww_addrdb *db, const char *s, uint32_t *out)
{
    if (s == NULL)
        s = "";
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
    if (!found)
        return NULL;
    return &db->entries[db->slots[i] - 1];
}

size_t ww_addrdb_count(const ww_addrdb *db, int chain)
{
    if (chain == WW_CHAIN_NONE)
        return db->n;
    if (chain < 0 || chain >= WW_CHAIN_COUNT)
        return 0;
    return db->count_by_chain[chain];
}

void ww_addrdb_each(const ww_addrdb *db, ww_addrdb_entry_fn fn, void *ud)
{
    for (size_t i = 0; i < db->n; i++)
        fn(ud, &db->recs[i].addr, &db->entries[i]);
}

void ww_addrdb_each_source(const ww_addrdb *db, ww_addrdb_source_fn fn, void *ud)
{
    for (size_t s = 0; s < db->nstrs; s++) {
        for (int c = 1; c < WW_CHAIN_COUNT; c++) {
            size_t count = 0;
            for (size_t i = 0; i < db->n; i++)
                if (db->recs[i].source == s && db->recs[i].addr.chain == c)
                    count++;
            if (count > 0)
                fn(ud, db->strs[s], c, count);
        }
    }
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
    char chunk[65536];
    size_t r;
    int rc;
    const char *base;
    FILE *f = fopen(path, "rb");

    if (rep == NULL)
        rep = &local;
    if (f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return WW_E_IO;
    }
    ww_buf_init(&b, db->mem, (size_t)1 << 30);
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if ((rc = ww_buf_append(&b, chunk, r)) != WW_OK) {
            snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, ww_strerror(rc));
            fclose(f);
            ww_buf_free(&b);
            return rc == WW_E_NOMEM ? rc : WW_E_IO;
        }
    }
    if (ferror(f)) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: read error", path);
        fclose(f);
        ww_buf_free(&b);
        return WW_E_IO;
    }
    fclose(f);
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
    return (int)rep.added;
}
