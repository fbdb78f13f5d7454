/*
 * keylog.c - NSS key log (SSLKEYLOGFILE) parsing and lookup by client random.
 *
 * Format (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/):
 *
 *   # comment
 *   <LABEL> <client_random: 64 hex> <secret: 64 or 96 hex>
 *   RSA <first 8 bytes of the encrypted PMS: 16 hex> <PMS: 96 hex>   (counted, ignored)
 *
 * Lines end with LF, CRLF or CR; hex in either case; blanks are spaces or tabs. Malformed
 * lines are counted (ww_keylog_bad_lines) and skipped. Text may arrive in pieces (a pcapng
 * DSB, lines appended to a followed file): the last, unterminated line is kept. A complete-
 * looking unterminated line is applied at once (a DSB need not end with a newline) and parsed
 * again when its end arrives (storing is idempotent).
 *
 * Secrets live in entries of a chained hash table keyed by the 32-byte client random; every
 * entry and the pending-line buffer are wiped before they are freed. Nothing here prints key
 * material.
 */
#include <errno.h>

#include "decode/decode.h"
#include "decode/tls_int.h"

#define KL_LINE_MAX 512          /* longest valid line is ~ 31 + 1 + 64 + 1 + 96 */
#define KL_MAX_ENTRIES (1u << 20) /* cap on client randoms held */

typedef struct kl_entry {
    struct kl_entry *next;
    uint8_t cr[32];
    uint8_t len[WW_KL_COUNT];
    uint8_t secret[WW_KL_COUNT][WW_KEYLOG_SECRET_MAX];
} kl_entry;

struct ww_keylog {
    const ww_mem *mem;
    kl_entry **buckets;
    size_t n_buckets; /* power of two */
    size_t n_entries;
    size_t n_secrets;
    size_t bad_lines;
    size_t ignored_lines; /* RSA, EXPORTER_SECRET ... */
    uint64_t generation;
    /* the unterminated last line */
    char line[KL_LINE_MAX];
    size_t line_len;
    bool line_overlong; /* the pending line went over KL_LINE_MAX: bad when it ends */
    ww_keywait wait;    /* records of all sessions waiting for a key (decode/tls.c) */
    uint64_t grace_us;  /* live: how long a closed connection's records wait for a late key */
};

ww_keylog *ww_keylog_new(const ww_mem *mem)
{
    ww_keylog *kl = ww_calloc(mem, 1, sizeof *kl);
    if (kl == NULL)
        return NULL;
    kl->mem = mem;
    kl->wait.cap = WW_KEYWAIT_BUDGET;
    kl->wait.keys_may_come = true;
    kl->grace_us = WW_LATE_KEY_GRACE_US;
    kl->n_buckets = 256;
    kl->buckets = ww_calloc(mem, kl->n_buckets, sizeof *kl->buckets);
    if (kl->buckets == NULL) {
        ww_free(mem, kl);
        return NULL;
    }
    return kl;
}

static size_t kl_hash(const uint8_t cr[32])
{
    /* client randoms are random: their first bytes are a fine hash */
    uint64_t h;
    memcpy(&h, cr, sizeof h);
    return (size_t)(h ^ (h >> 29));
}

static kl_entry *kl_find(const ww_keylog *kl, const uint8_t cr[32])
{
    for (kl_entry *e = kl->buckets[kl_hash(cr) & (kl->n_buckets - 1)]; e != NULL; e = e->next)
        if (memcmp(e->cr, cr, 32) == 0)
            return e;
    return NULL;
}

static void kl_grow(ww_keylog *kl)
{
    size_t nb = kl->n_buckets * 2;
    kl_entry **b = ww_calloc(kl->mem, nb, sizeof *b);
    if (b == NULL)
        return; /* keep the old table: longer chains, still correct */
    for (size_t i = 0; i < kl->n_buckets; i++) {
        kl_entry *e = kl->buckets[i];
        while (e != NULL) {
            kl_entry *next = e->next;
            size_t j = kl_hash(e->cr) & (nb - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    ww_free(kl->mem, kl->buckets);
    kl->buckets = b;
    kl->n_buckets = nb;
}

/* Stores one secret. Returns false when over the cap or out of memory. */
static bool kl_store(ww_keylog *kl, const uint8_t cr[32], int label, const uint8_t *sec,
                     size_t len)
{
    kl_entry *e = kl_find(kl, cr);
    if (e == NULL) {
        if (kl->n_entries >= KL_MAX_ENTRIES)
            return false;
        e = ww_calloc(kl->mem, 1, sizeof *e);
        if (e == NULL)
            return false;
        memcpy(e->cr, cr, 32);
        size_t i = kl_hash(cr) & (kl->n_buckets - 1);
        e->next = kl->buckets[i];
        kl->buckets[i] = e;
        kl->n_entries++;
        if (kl->n_entries > kl->n_buckets)
            kl_grow(kl);
    }
    if (e->len[label] == len && memcmp(e->secret[label], sec, len) == 0)
        return true; /* same line again: nothing new */
    if (e->len[label] == 0)
        kl->n_secrets++;
    memcpy(e->secret[label], sec, len);
    e->len[label] = (uint8_t)len;
    kl->generation++;
    return true;
}

static const struct {
    const char *name;
    int label; /* -1: well-formed but ignored */
} kl_labels[] = {
    {"CLIENT_RANDOM", WW_KL_CLIENT_RANDOM},
    {"CLIENT_EARLY_TRAFFIC_SECRET", WW_KL_CLIENT_EARLY},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", WW_KL_CLIENT_HS},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", WW_KL_SERVER_HS},
    {"CLIENT_TRAFFIC_SECRET_0", WW_KL_CLIENT_AP0},
    {"SERVER_TRAFFIC_SECRET_0", WW_KL_SERVER_AP0},
    {"EXPORTER_SECRET", -1},
    {"EARLY_EXPORTER_SECRET", -1},
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits the next blank-separated token off [*s, end). */
static bool next_token(const char **s, const char *end, const char **tok, size_t *tok_len)
{
    const char *p = *s;
    while (p < end && is_blank(*p))
        p++;
    if (p == end)
        return false;
    *tok = p;
    while (p < end && !is_blank(*p))
        p++;
    *tok_len = (size_t)(p - *tok);
    *s = p;
    return true;
}

/*
 * Parses one line (no terminator). tentative: an unterminated line seen so far; it is applied
 * when valid but never counted as bad (it may still grow).
 */
static void kl_line(ww_keylog *kl, const char *s, size_t n, bool tentative)
{
    const char *p = s, *end = s + n;
    const char *lab, *h1, *h2, *extra;
    size_t lab_n, h1_n, h2_n, extra_n;
    uint8_t cr[32], sec[WW_KEYLOG_SECRET_MAX];

    while (p < end && is_blank(*p))
        p++;
    if (p == end || *p == '#')
        return;
    if (!next_token(&p, end, &lab, &lab_n) || !next_token(&p, end, &h1, &h1_n) ||
        !next_token(&p, end, &h2, &h2_n) || next_token(&p, end, &extra, &extra_n))
        goto bad;

    if (lab_n == 3 && memcmp(lab, "RSA", 3) == 0) {
        if (h1_n == 16 && h2_n == 96 && ww_hex_decode(sec, sizeof sec, h2, h2_n) == 48 &&
            ww_hex_decode(cr, sizeof cr, h1, h1_n) == 8) {
            if (!tentative)
                kl->ignored_lines++;
            ww_wipe(sec, sizeof sec);
            return;
        }
        goto bad;
    }
    for (size_t i = 0; i < WW_ARRAY_LEN(kl_labels); i++) {
        if (strlen(kl_labels[i].name) != lab_n || memcmp(kl_labels[i].name, lab, lab_n) != 0)
            continue;
        int label = kl_labels[i].label;
        if (h1_n != 64 || ww_hex_decode(cr, sizeof cr, h1, h1_n) != 32)
            goto bad;
        if (label == WW_KL_CLIENT_RANDOM ? h2_n != 96 : (h2_n != 64 && h2_n != 96))
            goto bad;
        ssize_t sl = ww_hex_decode(sec, sizeof sec, h2, h2_n);
        if (sl < 0)
            goto bad;
        if (label < 0) {
            if (!tentative)
                kl->ignored_lines++;
        } else if (!kl_store(kl, cr, label, sec, (size_t)sl) && !tentative) {
            kl->bad_lines++; /* over the cap: counted as not used */
        }
        ww_wipe(sec, sizeof sec);
        return;
    }
bad:
    ww_wipe(sec, sizeof sec);
    if (!tentative)
        kl->bad_lines++;
}

/* The pending line ended (a terminator arrived, or the end of a file). */
static void kl_end_line(ww_keylog *kl)
{
    if (kl->line_overlong)
        kl->bad_lines++;
    else if (kl->line_len > 0)
        kl_line(kl, kl->line, kl->line_len, false);
    ww_wipe(kl->line, kl->line_len);
    kl->line_len = 0;
    kl->line_overlong = false;
}

void ww_keylog_add_text(ww_keylog *kl, const uint8_t *p, size_t n)
{
    WW_ASSERT(kl != NULL);
    size_t i = 0;
    while (i < n) {
        /* a whole line inside p with nothing pending: parse it in place */
        size_t j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r')
            j++;
        if (j == n) { /* unterminated: keep it */
            size_t take = n - i;
            if (kl->line_overlong || take > KL_LINE_MAX - kl->line_len) {
                kl->line_overlong = true;
            } else {
                memcpy(kl->line + kl->line_len, p + i, take);
                kl->line_len += take;
            }
            break;
        }
        if (kl->line_len == 0 && !kl->line_overlong) {
            kl_line(kl, (const char *)p + i, j - i, false);
        } else {
            size_t take = j - i;
            if (!kl->line_overlong && take <= KL_LINE_MAX - kl->line_len) {
                memcpy(kl->line + kl->line_len, p + i, take);
                kl->line_len += take;
            } else {
                kl->line_overlong = true;
            }
            kl_end_line(kl);
        }
        i = j + 1; /* skip the terminator; CRLF leaves an empty line, which is nothing */
    }
    if (kl->line_len > 0 && !kl->line_overlong)
        kl_line(kl, kl->line, kl->line_len, true);
}

int ww_keylog_load_file(ww_keylog *kl, const char *path, char errbuf[WW_ERRBUF_SIZE])
{
    WW_ASSERT(kl != NULL && path != NULL);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return WW_E_IO;
    }
    uint8_t buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        ww_keylog_add_text(kl, buf, got);
    int err = ferror(f);
    fclose(f);
    kl_end_line(kl); /* a last line without a terminator */
    ww_wipe(buf, sizeof buf);
    if (err) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: read error", path);
        return WW_E_IO;
    }
    return WW_OK;
}

size_t ww_keylog_lookup(const ww_keylog *kl, const uint8_t client_random[32], int label,
                        uint8_t out[WW_KEYLOG_SECRET_MAX])
{
    if (kl == NULL || label < 0 || label >= WW_KL_COUNT)
        return 0;
    const kl_entry *e = kl_find(kl, client_random);
    if (e == NULL || e->len[label] == 0)
        return 0;
    memcpy(out, e->secret[label], e->len[label]);
    return e->len[label];
}

uint64_t ww_keylog_generation(const ww_keylog *kl)
{
    return kl != NULL ? kl->generation : 0;
}

size_t ww_keylog_count(const ww_keylog *kl)
{
    return kl->n_secrets;
}

size_t ww_keylog_bad_lines(const ww_keylog *kl)
{
    return kl->bad_lines;
}

int ww_keylog_export(const ww_keylog *kl, ww_buf *out)
{
    WW_ASSERT(kl != NULL && out != NULL);
    char line[KL_LINE_MAX];
    int rc = WW_OK;
    for (size_t b = 0; b < kl->n_buckets && rc == WW_OK; b++) {
        for (const kl_entry *e = kl->buckets[b]; e != NULL && rc == WW_OK; e = e->next) {
            for (size_t i = 0; i < WW_ARRAY_LEN(kl_labels) && rc == WW_OK; i++) {
                int label = kl_labels[i].label;
                if (label < 0 || e->len[label] == 0)
                    continue;
                size_t k = strlen(kl_labels[i].name);
                memcpy(line, kl_labels[i].name, k);
                line[k++] = ' ';
                ww_hex_encode(line + k, e->cr, 32);
                k += 64;
                line[k++] = ' ';
                ww_hex_encode(line + k, e->secret[label], e->len[label]);
                k += 2u * e->len[label];
                line[k++] = '\n';
                rc = ww_buf_append(out, line, k);
            }
        }
    }
    ww_wipe(line, sizeof line);
    return rc;
}

int ww_keylog_export_pending(const ww_keylog *kl, ww_buf *out)
{
    WW_ASSERT(kl != NULL && out != NULL);
    if (!kl->line_overlong)
        return ww_buf_append(out, kl->line, kl->line_len);
    char junk[KL_LINE_MAX + 1]; /* the copy's pending line is overlong too: bad when it ends */
    memset(junk, 'x', sizeof junk);
    return ww_buf_append(out, junk, sizeof junk);
}

ww_keywait *ww_keylog_keywait(ww_keylog *kl)
{
    return kl != NULL ? &kl->wait : NULL;
}

void ww_keylog_set_wait_budget(ww_keylog *kl, size_t bytes)
{
    WW_ASSERT(kl != NULL);
    kl->wait.cap = bytes;
}

void ww_keylog_set_late_key_grace_us(ww_keylog *kl, uint64_t us)
{
    WW_ASSERT(kl != NULL);
    kl->grace_us = us;
}

uint64_t ww_keylog_late_key_grace_us(const ww_keylog *kl)
{
    WW_ASSERT(kl != NULL);
    return kl->grace_us;
}

void ww_keylog_set_keys_may_come(ww_keylog *kl, bool may)
{
    WW_ASSERT(kl != NULL);
    kl->wait.keys_may_come = may;
}

void ww_keylog_wait_peak_reset(ww_keylog *kl)
{
    WW_ASSERT(kl != NULL);
    kl->wait.st.bytes_peak = kl->wait.st.bytes_waiting;
}

const ww_keywait_stats *ww_keylog_wait_stats(const ww_keylog *kl)
{
    WW_ASSERT(kl != NULL);
    return &kl->wait.st;
}

void ww_keylog_free(ww_keylog *kl)
{
    if (kl == NULL)
        return;
    for (size_t i = 0; i < kl->n_buckets; i++) {
        kl_entry *e = kl->buckets[i];
        while (e != NULL) {
            kl_entry *next = e->next;
            ww_wipe(e, sizeof *e);
            ww_free(kl->mem, e);
            e = next;
        }
    }
    ww_free(kl->mem, kl->buckets);
    ww_wipe(kl->line, sizeof kl->line);
    ww_free(kl->mem, kl);
}
