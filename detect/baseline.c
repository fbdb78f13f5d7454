/*
 * baseline.c - CI baselines: findings a team accepted (detect.h "CI baselines").
 *
 *     # rule            address                                     options        reason
 *     unrequested-recipient 0x1111...0000 host=pay.example expires=2027-01-31 our payroll wallet
 *
 * Entries are few (a team's list): matched one by one.
 */
#include "detect/detect.h"

#include <errno.h>
#include <strings.h>
#include <time.h>

typedef struct bl_entry {
    char rule[40];      /* "" = any ('*') */
    bool any_addr;
    ww_addr addr;
    char host[128];     /* "" = any */
    char reason[160];
} bl_entry;

struct ww_baseline {
    const ww_mem *mem;
    bl_entry *v;
    size_t n, cap;
};

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DD" -> the first second after that day (UTC), or -1. */
static int64_t parse_expiry(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -1;
    return (days_from_civil(y, m, d) + 1) * 86400;
}

static void bad(ww_baseline_report *rep, size_t line_no)
{
    if (rep->bad < WW_BASELINE_BAD_LINES_KEPT)
        rep->bad_line_no[rep->bad] = line_no;
    rep->bad++;
}

/* The next blank-separated token of s[*pos..n); false at the end. */
static bool token(const char *s, size_t n, size_t *pos, const char **t, size_t *tl)
{
    size_t i = *pos;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == n)
        return false;
    size_t st = i;
    while (i < n && s[i] != ' ' && s[i] != '\t')
        i++;
    *t = s + st;
    *tl = i - st;
    *pos = i;
    return true;
}

int ww_baseline_parse(ww_baseline **out, const ww_mem *mem, const char *text, size_t n,
                      int64_t now_unix, ww_baseline_report *rep)
{
    ww_baseline_report local;
    if (rep == NULL)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    ww_baseline *b = ww_calloc(mem, 1, sizeof(*b));
    if (b == NULL)
        return WW_E_NOMEM;
    b->mem = mem;
    size_t pos = 0, line_no = 0;
    while (pos < n) {
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', n - pos);
        size_t ll = nl ? (size_t)(nl - ls) : n - pos;
        pos += ll + (nl ? 1 : 0);
        line_no++;
        while (ll > 0 && (ls[ll - 1] == '\r' || ls[ll - 1] == ' ' || ls[ll - 1] == '\t'))
            ll--;
        size_t lp = 0;
        const char *t;
        size_t tl;
        if (!token(ls, ll, &lp, &t, &tl) || t[0] == '#')
            continue;
        rep->lines++;
        bl_entry e;
        memset(&e, 0, sizeof e);
        /* rule: a name of letters, digits and '-' or '*' */
        bool ok = tl > 0 && tl < sizeof e.rule;
        for (size_t i = 0; ok && i < tl; i++)
            ok = (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '-' ||
                 (t[i] == '*' && tl == 1);
        if (!ok) {
            bad(rep, line_no);
            continue;
        }
        if (!(tl == 1 && t[0] == '*'))
            memcpy(e.rule, t, tl);
        if (!token(ls, ll, &lp, &t, &tl)) {
            bad(rep, line_no);
            continue;
        }
        if (tl == 1 && t[0] == '*') {
            e.any_addr = true;
        } else if (ww_addrdb_addr(&e.addr, WW_CHAIN_NONE, t, tl) != WW_OK) {
            bad(rep, line_no);
            continue;
        }
        e.addr.flags = 0;
        int64_t expiry = 0;
        size_t save;
        for (;;) {
            save = lp;
            if (!token(ls, ll, &lp, &t, &tl))
                break;
            if (tl > 5 && memcmp(t, "host=", 5) == 0 && tl - 5 < sizeof e.host) {
                memcpy(e.host, t + 5, tl - 5);
            } else if (tl > 8 && memcmp(t, "expires=", 8) == 0) {
                expiry = parse_expiry(t + 8, tl - 8);
                if (expiry < 0)
                    break;
            } else {
                lp = save;
                break;
            }
        }
        if (expiry < 0) {
            bad(rep, line_no);
            continue;
        }
        if (e.any_addr && !e.host[0]) {
            bad(rep, line_no); /* "accept everything" is turning the rule off */
            continue;
        }
        while (lp < ll && (ls[lp] == ' ' || ls[lp] == '\t'))
            lp++;
        snprintf(e.reason, sizeof e.reason, "%.*s", (int)(ll - lp), ls + lp);
        if (expiry > 0 && now_unix >= expiry) {
            rep->expired++;
            continue;
        }
        if (b->n == b->cap) {
            size_t nc = b->cap ? b->cap * 2 : 16;
            bl_entry *v = ww_realloc(mem, b->v, nc * sizeof(bl_entry));
            if (v == NULL) {
                ww_baseline_free(b);
                return WW_E_NOMEM;
            }
            b->v = v;
            b->cap = nc;
        }
        b->v[b->n++] = e;
        rep->entries++;
    }
    *out = b;
    return WW_OK;
}

int ww_baseline_load_file(ww_baseline **out, const ww_mem *mem, const char *path,
                          int64_t now_unix, ww_baseline_report *rep,
                          char errbuf[WW_ERRBUF_SIZE])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return WW_E_IO;
    }
    ww_buf buf;
    ww_buf_init(&buf, mem, (size_t)16 << 20);
    int rc = ww_buf_read_file(&buf, f, path, errbuf);
    fclose(f);
    if (rc != WW_OK) {
        ww_buf_free(&buf);
        return WW_E_IO;
    }
    rc = ww_baseline_parse(out, mem, buf.data ? (const char *)buf.data : "", buf.len, now_unix,
                           rep);
    ww_buf_free(&buf);
    return rc;
}

bool ww_baseline_match(const ww_baseline *b, const char *rule, const ww_addr *a,
                       const char *host, const char **reason)
{
    if (b == NULL)
        return false;
    for (size_t i = 0; i < b->n; i++) {
        const bl_entry *e = &b->v[i];
        if (e->rule[0] && strcmp(e->rule, rule) != 0)
            continue;
        if (!e->any_addr && (a == NULL || !ww_addr_eq(&e->addr, a)))
            continue;
        if (e->host[0] && (host == NULL || strcasecmp(e->host, host) != 0))
            continue;
        if (reason != NULL)
            *reason = e->reason;
        return true;
    }
    return false;
}

size_t ww_baseline_count(const ww_baseline *b)
{
    return b != NULL ? b->n : 0;
}

void ww_baseline_free(ww_baseline *b)
{
    if (b == NULL)
        return;
    ww_free(b->mem, b->v);
    ww_free(b->mem, b);
}
