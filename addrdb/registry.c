/*
 * registry.c - canonical protocol contracts (registry.h). A sorted array of (address, row)
 * looked up by binary search; rows are few (hundreds), so loading re-sorts.
 */
#include "addrdb/registry.h"

#include <errno.h>

static const char bundled_registry[] =
#include "registry.inc"
    ;

typedef struct reg_row {
    ww_addr addr;
    ww_registry_entry e;
} reg_row;

struct ww_registry {
    const ww_mem *mem;
    reg_row *v;
    size_t n, cap;
    ww_arena strings; /* names, chain ids, sources */
};

ww_registry *ww_registry_new(const ww_mem *mem)
{
    ww_registry *r = ww_calloc(mem, 1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->mem = mem;
    ww_arena_init(&r->strings, mem, (size_t)16 << 20);
    return r;
}

void ww_registry_free(ww_registry *r)
{
    if (r == NULL)
        return;
    ww_free(r->mem, r->v);
    ww_arena_free(&r->strings);
    ww_free(r->mem, r);
}

static int row_cmp(const void *a, const void *b)
{
    const ww_addr *x = &((const reg_row *)a)->addr, *y = &((const reg_row *)b)->addr;
    if (x->chain != y->chain)
        return x->chain < y->chain ? -1 : 1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->text, y->text, x->len);
}

const ww_registry_entry *ww_registry_lookup(const ww_registry *r, const ww_addr *a)
{
    if (r == NULL || r->n == 0)
        return NULL;
    reg_row key;
    key.addr = *a;
    const reg_row *hit = bsearch(&key, r->v, r->n, sizeof(reg_row), row_cmp);
    return hit != NULL ? &hit->e : NULL;
}

size_t ww_registry_count(const ww_registry *r)
{
    return r != NULL ? r->n : 0;
}

void ww_registry_each(const ww_registry *r, int chain, ww_registry_row_fn fn, void *ud)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (chain == WW_CHAIN_NONE || r->v[i].addr.chain == chain)
            fn(ud, &r->v[i].addr, &r->v[i].e);
}

static const char *keep(ww_registry *r, const char *s, size_t n)
{
    char *p = ww_arena_alloc(&r->strings, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Splits one line into at most max comma-separated fields (trimmed). */
static size_t split(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n && k < max; i++) {
        if (i == n || s[i] == ',') {
            size_t a = start, b = i;
            while (a < b && (s[a] == ' ' || s[a] == '\t'))
                a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
                b--;
            f[k] = s + a;
            fl[k] = b - a;
            k++;
            start = i + 1;
        }
    }
    return k;
}

int ww_registry_load_text(ww_registry *r, const char *text, size_t n, ww_registry_report *rep)
{
    ww_registry_report local;
    if (rep == NULL)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    size_t line_no = 0, pos = 0, before = r->n;
    while (pos < n) {
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', n - pos);
        size_t ll = nl ? (size_t)(nl - ls) : n - pos;
        pos += ll + (nl ? 1 : 0);
        line_no++;
        while (ll > 0 && (ls[ll - 1] == '\r' || ls[ll - 1] == ' '))
            ll--;
        if (ll == 0 || ls[0] == '#')
            continue;
        const char *f[5];
        size_t fl[5];
        size_t k = split(ls, ll, f, fl, 5);
        if (k >= 2 && fl[0] == 5 && memcmp(f[0], "chain", 5) == 0)
            continue; /* header */
        rep->lines++;
        ww_addr a;
        int chain = k >= 2 ? ww_chain_from_name(f[0], fl[0]) : WW_CHAIN_NONE;
        if (chain == WW_CHAIN_NONE || ww_addr_parse(&a, chain, f[1], fl[1]) != WW_OK) {
            if (rep->bad++ == 0)
                rep->first_bad_line = line_no;
            continue;
        }
        a.flags = 0;
        if (ww_registry_lookup(r, &a) != NULL) {
            rep->dupes++;
            continue;
        }
        if (r->n == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 256;
            reg_row *v = ww_realloc(r->mem, r->v, nc * sizeof(reg_row));
            if (v == NULL)
                return WW_E_NOMEM;
            r->v = v;
            r->cap = nc;
        }
        reg_row *row = &r->v[r->n];
        row->addr = a;
        row->e.name = keep(r, k > 2 ? f[2] : "", k > 2 ? fl[2] : 0);
        row->e.chain_ids = keep(r, k > 3 && fl[3] ? f[3] : "*", k > 3 && fl[3] ? fl[3] : 1);
        row->e.source = keep(r, k > 4 ? f[4] : "", k > 4 ? fl[4] : 0);
        if (row->e.name == NULL || row->e.chain_ids == NULL || row->e.source == NULL)
            return WW_E_NOMEM;
        r->n++;
        rep->added++;
        /* kept sorted as rows come (lookups above see every earlier row) */
        for (size_t i = r->n - 1; i > 0 && row_cmp(&r->v[i - 1], &r->v[i]) > 0; i--) {
            reg_row t = r->v[i];
            r->v[i] = r->v[i - 1];
            r->v[i - 1] = t;
        }
    }
    (void)before;
    return WW_OK;
}

int ww_registry_load_bundled(ww_registry *r)
{
    ww_registry_report rep;
    int rc = ww_registry_load_text(r, bundled_registry, sizeof bundled_registry - 1, &rep);
    return rc < 0 ? rc : (int)rep.added;
}

int ww_registry_load_file(ww_registry *r, const char *path, ww_registry_report *rep,
                          char errbuf[WW_ERRBUF_SIZE])
{
    ww_registry_report local;
    if (rep == NULL)
        rep = &local;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return WW_E_IO;
    }
    ww_buf b;
    ww_buf_init(&b, r->mem, (size_t)64 << 20);
    int rc = ww_buf_read_file(&b, f, path, errbuf);
    fclose(f);
    if (rc != WW_OK) {
        ww_buf_free(&b);
        return WW_E_IO;
    }
    rc = ww_registry_load_text(r, (const char *)b.data, b.len, rep);
    ww_buf_free(&b);
    if (rc == WW_OK && rep->added + rep->dupes == 0) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: no registry row (chain,address,name,...)", path);
        return WW_E_INVALID;
    }
    return rc;
}
