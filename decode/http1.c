/*
 * http1.c - passive HTTP/1.1 parser (RFC 9112) for one TCP connection, both directions.
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   status-line  = HTTP-version SP status-code [ SP reason-phrase ] CRLF
 *   field-line   = field-name ":" OWS field-value OWS CRLF      (bare LF accepted)
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF ; last-chunk, trailers, CRLF
 *
 * Per direction a small state machine:
 *
 *   HDR --head--> BODY_LEN | CHUNK_SIZE <-> CHUNK_DATA -> CHUNK_END | BODY_CLOSE --> HDR
 *    \--bad start line / bad head / gap--> RESYNC --line start that looks like a message--> HDR
 *
 * Header blocks are parsed in place when whole within one call; otherwise gathered in a
 * buffer capped at max_header_bytes. The fields a message needs later (method, url,
 * host...) are copied into a small per-direction buffer, so nothing points into the
 * caller's data after a call returns. Skipped bodies cost O(1) per call (Content-Length)
 * or O(chunks) (chunked): no copy, no decoding; kept bodies are decoded through
 * decode/coding.c into a buffer capped at max_body_bytes.
 */
#include "decode/anom_int.h"
#include "decode/httpmsg_int.h"
#include "decode/http1_int.h"

#include "decode/coding_int.h"

#include <stdarg.h>

#define H1_MAX_PENDING 64        /* requests waiting for their response */
#define H1_CHUNK_LINE_MAX 4096   /* chunk-size line with extensions */
#define H1_METHOD_MAX 24
#define H1_BODY_KEEP_ALLOC (256 * 1024) /* kept-body buffer memory retained between messages */

enum h1_state {
    ST_HDR = 0,
    ST_BODY_LEN,
    ST_CHUNK_SIZE,
    ST_CHUNK_DATA,
    ST_CHUNK_END,
    ST_TRAILER,
    ST_BODY_CLOSE,
    ST_RESYNC,
};

enum h1_field {
    F_METHOD, F_URL, F_HOST, F_VERSION, F_CTYPE, F_CENC, F_TENC, F_UPGRADE,
    F_LOCATION, F_CLOCATION, F_LINK, /* response headers that may name addresses */
    F_COUNT
};

enum { RQ_HEAD = 1, RQ_CONNECT = 2, RQ_HAS_HOST = 4 };

/* What parse_head finds in one header block (slices into the block). */
typedef struct h1_head {
    ww_slice method, url, version;
    int status;
    ww_slice f[F_COUNT];
    bool has[F_COUNT];
    int64_t clen;          /* -1 when absent */
    bool te_chunked;       /* Transfer-Encoding present, chunked final */
} h1_head;

typedef struct h1_dir {
    int dir;
    int state;
    /* head gathering */
    ww_buf hdr;
    size_t scan;          /* hdr: where the search for the blank line resumes */
    size_t l1scan;        /* hdr: where the search for the first LF resumes */
    bool line1_ok;
    bool resyncing;       /* bad lines are passed over silently */
    bool at_line_start;   /* RESYNC: the next byte starts a line */
    /* the message in progress */
    ww_buf meta;
    int32_t off[F_COUNT];
    int status;
    int64_t clen;
    bool has_body, keep, truncated, stopped;
    uint64_t remaining;   /* BODY_LEN: body bytes left; CHUNK_DATA: chunk bytes left */
    uint64_t raw_len;     /* body bytes as sent (dechunked) */
    ww_coding *coding;
    ww_buf body;
    bool stream;          /* kept body streamed through body_chunk (body = the window) */
    uint64_t streamed;    /* decoded bytes already handed on and dropped */
    /* chunk-size line and trailers */
    uint64_t chunk_size;
    uint8_t cs_state;     /* 0 no digit yet, 1 digits, 2 extension, 3 after CR */
    bool ce_cr;
    size_t cs_len;
    size_t tline_len;
    uint8_t tline_first;
    size_t trailer_bytes;
} h1_dir;

struct ww_h1 {
    const ww_mem *mem;
    ww_app_cfg cfg;
    ww_h1_cbs cbs;
    h1_dir d[2];
    ww_buf reqq;          /* records: u32 len, u8 flags, "method\0url\0host\0" */
    size_t nreq;
    bool upgraded;
    const uint8_t *rest;
    size_t rest_len;
    ww_h1_stats st;
};

/* ---- small helpers ---- */

static const uint8_t tchar_tab[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* Header names and tokens are compared as ASCII, case-insensitively (lit is lower-case). */
static inline bool ieq(const uint8_t *p, size_t n, const char *lit)
{
    return ww_ascii_ieq((const char *)p, n, lit);
}

/* an anomaly of this connection, counted (detail printf-formatted, at most 159 bytes) */
#define anom(h, type, ...)                                                                         \
    ww_anomf((h)->cbs.anomaly, (h)->cbs.ud, &(h)->st.anomalies, 160, (type), __VA_ARGS__)

static const char *dir_name(const h1_dir *d)
{
    return d->dir == WW_DIR_TOSERVER ? "request" : "response";
}

/* ---- start line ---- */

/*
 * Quick check of the first bytes of a would-be start line (p[0..n) may be partial).
 * Returns the index of the first byte that cannot belong to one, or SIZE_MAX when all
 * look fine so far.
 */
static size_t start_prefix_bad(int dir, const uint8_t *p, size_t n)
{
    if (dir == WW_DIR_TOCLIENT) {
        static const char v[] = "HTTP/1.";
        for (size_t i = 0; i < n && i < 8; i++) {
            if (i < 7 ? p[i] != (uint8_t)v[i] : (p[i] < '0' || p[i] > '9'))
                return i;
        }
        return SIZE_MAX;
    }
    for (size_t i = 0; i < n && i <= H1_METHOD_MAX; i++) {
        if (p[i] == ' ')
            return i > 0 ? SIZE_MAX : i;
        if (!tchar_tab[p[i]])
            return i;
    }
    return n > H1_METHOD_MAX ? H1_METHOD_MAX : SIZE_MAX;
}

static bool parse_version(const uint8_t *p, size_t n)
{
    return n == 8 && memcmp(p, "HTTP/1.", 7) == 0 && p[7] >= '0' && p[7] <= '9';
}

/* Parses the start line p[0..n) (LF excluded, CR included when there). */
static bool parse_start(int dir, const uint8_t *p, size_t n, h1_head *hd)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    ww_rd r = ww_rd_init(p, n);
    if (dir == WW_DIR_TOCLIENT) {
        ww_slice ver, code;
        if (!ww_rd_bytes(&r, &ver, 8) || !parse_version(ver.ptr, ver.len))
            return false;
        uint8_t c;
        if (!ww_rd_u8(&r, &c) || c != ' ')
            return false;
        if (!ww_rd_bytes(&r, &code, 3))
            return false;
        int st = 0;
        for (size_t i = 0; i < 3; i++) {
            if (code.ptr[i] < '0' || code.ptr[i] > '9')
                return false;
            st = st * 10 + (code.ptr[i] - '0');
        }
        if (st < 100)
            return false;
        if (ww_rd_left(&r) > 0) {
            if (!ww_rd_u8(&r, &c) || c != ' ')
                return false;
            for (const uint8_t *q = r.p; q < r.end; q++)
                if ((*q < 0x20 && *q != '\t') || *q == 0x7f)
                    return false;
        }
        hd->version = ver;
        hd->status = st;
        return true;
    }
    size_t i = 0;
    while (i < n && i <= H1_METHOD_MAX && tchar_tab[p[i]])
        i++;
    if (i == 0 || i > H1_METHOD_MAX || i >= n || p[i] != ' ')
        return false;
    hd->method.ptr = p;
    hd->method.len = i;
    size_t u = ++i;
    while (i < n && p[i] > 0x20 && p[i] != 0x7f)
        i++;
    if (i == u || i >= n || p[i] != ' ')
        return false;
    hd->url.ptr = p + u;
    hd->url.len = i - u;
    i++;
    if (!parse_version(p + i, n - i))
        return false;
    hd->version.ptr = p + i;
    hd->version.len = 8;
    hd->status = 0;
    return true;
}

/*
 * Finds the end of a header block in p[0..n): the offset just past the blank line, or 0
 * when it is not there yet; *from is where the search resumes next time.
 */
static size_t find_end(const uint8_t *p, size_t n, size_t *from)
{
    size_t i = *from;
    while (i < n) {
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        if (nl == NULL) {
            i = n;
            break;
        }
        size_t k = (size_t)(nl - p);
        if (k + 1 >= n) {
            i = k;
            break;
        }
        if (p[k + 1] == '\n')
            return k + 2;
        if (p[k + 1] == '\r') {
            if (k + 2 >= n) {
                i = k;
                break;
            }
            if (p[k + 2] == '\n')
                return k + 3;
        }
        i = k + 1;
    }
    *from = i;
    return 0;
}

static bool is_ctl(uint8_t c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Index of the first CTL (not HTAB) or DEL in p[0..n), or n. Eight bytes at a time. */
static size_t find_ctl(const uint8_t *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t x, d;
        memcpy(&x, p + i, 8);
        d = x ^ (0x7f * ones);
        if ((((x - 0x20 * ones) & ~x) | ((d - ones) & ~d)) & highs)
            break; /* a byte < 0x20 (maybe HTAB) or 0x7f in this word: look closer */
    }
    for (; i < n; i++)
        if (is_ctl(p[i]))
            return i;
    return n;
}

/* Content-Length: 1*DIGIT, or a list of identical values ("5, 5"). -1 when invalid. */
static int64_t parse_clen(const uint8_t *p, size_t n)
{
    int64_t val = -1;
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        int64_t v = 0;
        size_t b = i;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return -1;
            v = v * 10 + (p[i] - '0');
            i++;
        }
        if (i == b)
            return -1;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i < n && p[i] != ',')
            return -1;
        i++;
        if (val >= 0 && v != val)
            return -1;
        val = v;
    }
    return val;
}

/* Is the last coding of a Transfer-Encoding value "chunked"? */
static bool te_last_chunked(const uint8_t *p, size_t n)
{
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == ','))
        n--;
    size_t b = n;
    while (b > 0 && p[b - 1] != ',' && p[b - 1] != ' ' && p[b - 1] != '\t')
        b--;
    return ieq(p + b, n - b, "chunked");
}

/*
 * Parses a whole header block p[0..n) (ends with its blank line). Returns NULL, or the
 * anomaly type (detail in *why) for a message that cannot be trusted.
 */
static const char *parse_head(ww_h1 *h, int dir, const uint8_t *p, size_t n, h1_head *hd,
                              const char **why)
{
    memset(hd, 0, sizeof(*hd));
    hd->clen = -1;
    const uint8_t *nl = memchr(p, '\n', n);
    if (nl == NULL || !parse_start(dir, p, (size_t)(nl - p), hd)) {
        *why = "malformed start line";
        return dir == WW_DIR_TOSERVER ? "bad-request-line" : "bad-status-line";
    }
    size_t pos = (size_t)(nl - p) + 1;
    int last = -1; /* field of the previous line, for obs-fold */
    bool clen_seen = false, clen_bad = false, te_seen = false;
    while (pos < n) {
        nl = memchr(p + pos, '\n', n - pos);
        if (nl == NULL)
            break; /* cannot happen: the block ends with LF */
        size_t le = (size_t)(nl - p), ll = le;
        if (ll > pos && p[ll - 1] == '\r')
            ll--;
        const uint8_t *L = p + pos;
        size_t len = ll - pos;
        pos = le + 1;
        if (len == 0)
            break;
        size_t bad = find_ctl(L, len);
        if (bad < len) {
            *why = L[bad] == 0 ? "NUL in header" : "control character in header";
            return "bad-header";
        }
        if (L[0] == ' ' || L[0] == '\t') {
            if (last == F_COUNT) {
                *why = "obs-fold in a framing header";
                return "obs-fold";
            }
            anom(h, "obs-fold", "folded header line ignored");
            continue;
        }
        size_t i = 0;
        while (i < len && tchar_tab[L[i]])
            i++;
        if (i == 0 || i >= len || L[i] != ':') {
            *why = "malformed header name";
            return "bad-header";
        }
        const uint8_t *name = L;
        size_t nlen = i;
        size_t vb = i + 1, ve = len;
        while (vb < ve && (L[vb] == ' ' || L[vb] == '\t'))
            vb++;
        while (ve > vb && (L[ve - 1] == ' ' || L[ve - 1] == '\t'))
            ve--;
        ww_slice v = {L + vb, ve - vb};
        int f = -1;
        last = -1;
        switch (nlen) {
        case 4:
            if (ieq(name, nlen, "host"))
                f = F_HOST;
            else if (ieq(name, nlen, "link"))
                f = F_LINK;
            break;
        case 8:
            if (ieq(name, nlen, "location"))
                f = F_LOCATION;
            break;
        case 7:
            if (ieq(name, nlen, "upgrade"))
                f = F_UPGRADE;
            break;
        case 12:
            if (ieq(name, nlen, "content-type"))
                f = F_CTYPE;
            break;
        case 14:
            if (ieq(name, nlen, "content-length")) {
                int64_t cl = parse_clen(v.ptr, v.len);
                if (cl < 0 || (clen_seen && cl != hd->clen))
                    clen_bad = true;
                clen_seen = true;
                hd->clen = cl;
                last = F_COUNT;
            }
            break;
        case 16:
            if (ieq(name, nlen, "content-encoding"))
                f = F_CENC;
            else if (ieq(name, nlen, "content-location"))
                f = F_CLOCATION;
            break;
        case 17:
            if (ieq(name, nlen, "transfer-encoding")) {
                f = F_TENC;
                te_seen = true;
                hd->te_chunked = te_last_chunked(v.ptr, v.len);
                last = F_COUNT;
            }
            break;
        default:
            break;
        }
        if (f >= 0 && (!hd->has[f] || f == F_TENC || f == F_CENC)) {
            hd->f[f] = v;
            hd->has[f] = true;
        }
    }
    if (clen_bad) {
        *why = "invalid or conflicting Content-Length";
        return "bad-content-length";
    }
    if (te_seen) {
        if (clen_seen)
            anom(h, "cl-and-te", "Content-Length ignored beside Transfer-Encoding");
        hd->clen = -1;
        if (dir == WW_DIR_TOSERVER && !hd->te_chunked) {
            *why = "request Transfer-Encoding without final chunked";
            return "bad-transfer-encoding";
        }
    }
    return NULL;
}

/* ---- per-message bookkeeping ---- */

static void meta_put(h1_dir *d, int f, const void *p, size_t n)
{
    size_t o = d->meta.len;
    d->off[f] = -1;
    if (p == NULL)
        return;
    if (ww_buf_append(&d->meta, p, n) != WW_OK || ww_buf_append(&d->meta, "", 1) != WW_OK) {
        d->meta.len = o;
        return;
    }
    d->off[f] = (int32_t)o;
}

static const char *mstr(const h1_dir *d, int f)
{
    return d->off[f] < 0 ? NULL : (const char *)d->meta.data + d->off[f];
}

static void build_msg(const h1_dir *d, ww_http_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->is_request = d->dir == WW_DIR_TOSERVER;
    m->method = mstr(d, F_METHOD);
    m->url = mstr(d, F_URL);
    m->host = mstr(d, F_HOST);
    m->version = mstr(d, F_VERSION);
    m->status = d->status;
    m->content_type = mstr(d, F_CTYPE);
    m->content_encoding = mstr(d, F_CENC);
    m->transfer_encoding = mstr(d, F_TENC);
    m->location = mstr(d, F_LOCATION);
    m->content_location = mstr(d, F_CLOCATION);
    m->link = mstr(d, F_LINK);
    m->content_length = d->clen;
    m->body_len = -1;
}

static void msg_reset(h1_dir *d)
{
    ww_coding_free(d->coding);
    d->coding = NULL;
    ww_buf_reset(&d->meta);
    for (int f = 0; f < F_COUNT; f++)
        d->off[f] = -1;
    d->status = 0;
    d->clen = -1;
    d->has_body = d->keep = d->truncated = d->stopped = d->stream = false;
    d->remaining = d->raw_len = d->streamed = 0;
    if (d->body.alloc > H1_BODY_KEEP_ALLOC)
        ww_buf_free(&d->body);
    ww_buf_reset(&d->body);
}

static void msg_end(ww_h1 *h, h1_dir *d, uint64_t ts)
{
    ww_http_msg m;
    if (d->coding != NULL && !d->stopped) {
        int r = ww_coding_finish(d->coding);
        if (r != WW_OK) {
            anom(h, "bad-coding", "%s body: compressed stream incomplete", dir_name(d));
            d->truncated = true;
        }
    }
    build_msg(d, &m);
    if (d->has_body) {
        m.body_len = d->keep ? (int64_t)(d->streamed + d->body.len) : (int64_t)d->raw_len;
        m.body_truncated = d->truncated;
        ww_http_msg_set_body(&m, d->keep, d->stream, d->body.data, d->body.len,
                             h->cfg.hash_bodies);
        if (d->keep) {
            h->st.bodies_kept++;
            h->st.body_bytes_kept += d->raw_len;
        } else {
            h->st.bodies_skipped++;
            h->st.body_bytes_skipped += d->raw_len;
        }
    }
    if (m.is_request)
        h->st.requests++;
    else
        h->st.responses++;
    if (h->cbs.message != NULL)
        h->cbs.message(h->cbs.ud, &m, ts);
    msg_reset(d);
    d->state = ST_HDR;
}

static void go_resync(h1_dir *d, bool at_line_start)
{
    ww_buf_reset(&d->hdr);
    d->scan = d->l1scan = 0;
    d->line1_ok = false;
    d->state = ST_RESYNC;
    d->resyncing = true;
    d->at_line_start = at_line_start;
}

static void req_push(ww_h1 *h, const h1_head *hd)
{
    uint8_t flags = 0;
    if (ieq(hd->method.ptr, hd->method.len, "head"))
        flags |= RQ_HEAD;
    if (ieq(hd->method.ptr, hd->method.len, "connect"))
        flags |= RQ_CONNECT;
    if (hd->has[F_HOST])
        flags |= RQ_HAS_HOST;
    size_t hl = hd->has[F_HOST] ? hd->f[F_HOST].len : 0;
    size_t len = 5 + hd->method.len + 1 + hd->url.len + 1 + hl + 1;
    size_t o = h->reqq.len;
    uint32_t l32 = (uint32_t)len;
    if (h->nreq >= H1_MAX_PENDING || len > UINT32_MAX ||
        ww_buf_append(&h->reqq, &l32, 4) != WW_OK || ww_buf_append(&h->reqq, &flags, 1) != WW_OK ||
        ww_buf_append(&h->reqq, hd->method.ptr, hd->method.len) != WW_OK ||
        ww_buf_append(&h->reqq, "", 1) != WW_OK ||
        ww_buf_append(&h->reqq, hd->url.ptr, hd->url.len) != WW_OK ||
        ww_buf_append(&h->reqq, "", 1) != WW_OK ||
        ww_buf_append(&h->reqq, hl ? hd->f[F_HOST].ptr : (const uint8_t *)"", hl) != WW_OK ||
        ww_buf_append(&h->reqq, "", 1) != WW_OK) {
        h->reqq.len = o;
        anom(h, "pipeline-overflow", "too many requests waiting for a response");
        return;
    }
    h->nreq++;
}

/* Pops the oldest pending request into the response's fields. Returns its flags, or -1. */
static int req_pop(ww_h1 *h, h1_dir *d)
{
    if (h->nreq == 0)
        return -1;
    uint32_t len;
    memcpy(&len, h->reqq.data, 4);
    uint8_t flags = h->reqq.data[4];
    const char *m = (const char *)h->reqq.data + 5;
    const char *u = m + strlen(m) + 1;
    const char *ho = u + strlen(u) + 1;
    meta_put(d, F_METHOD, m, strlen(m));
    meta_put(d, F_URL, u, strlen(u));
    if (flags & RQ_HAS_HOST)
        meta_put(d, F_HOST, ho, strlen(ho));
    ww_buf_consume(&h->reqq, len);
    h->nreq--;
    return flags;
}

static int body_sink(void *ud, const uint8_t *p, size_t n)
{
    return ww_buf_append(&((h1_dir *)ud)->body, p, n);
}

/* Streamed body: the window is full, hand it on and drop what the callback consumed. */
static void stream_flush(ww_h1 *h, h1_dir *d)
{
    ww_http_msg m;
    build_msg(d, &m);
    size_t c = h->cbs.body_chunk(h->cbs.ud, &m, d->body.data, d->body.len);
    if (c > d->body.len || d->body.len - c > WW_HTTP_STREAM_WINDOW / 2)
        c = d->body.len; /* a callback that keeps too much: the window must not stall */
    ww_buf_consume(&d->body, c);
    d->streamed += c;
}

/* Decoded bytes of a streamed body into the window, handed on as soon as they arrive (a
 * stream that never ends, SSE or a long poll, is scanned as it goes; issue 12). */
static int stream_append(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t take = WW_MIN(n, WW_HTTP_STREAM_WINDOW - d->body.len);
        int r = ww_buf_append(&d->body, p, take);
        if (r != WW_OK)
            return r;
        p += take;
        n -= take;
        stream_flush(h, d);
    }
    return WW_OK;
}

typedef struct stream_sink_ctx {
    ww_h1 *h;
    h1_dir *d;
} stream_sink_ctx;

static int stream_sink(void *ud, const uint8_t *p, size_t n)
{
    stream_sink_ctx *sc = ud;
    return stream_append(sc->h, sc->d, p, n);
}

/* Body bytes as sent (dechunked). Skipped bodies: only counted. */
static void body_data(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t n)
{
    d->raw_len += n;
    if (!d->keep || d->stopped)
        return;
    size_t cap = d->stream ? h->cfg.max_scan_bytes : h->cfg.max_body_bytes;
    if (d->coding != NULL) {
        stream_sink_ctx sc = {h, d};
        int r = d->stream ? ww_coding_feed(d->coding, p, n, stream_sink, &sc)
                          : ww_coding_feed(d->coding, p, n, body_sink, d);
        if (r == WW_OK)
            return;
        d->stopped = true;
        d->truncated = true;
        if (r == WW_E_TOOBIG)
            anom(h, "decompression-cap", "%s body: decoded %zu bytes from %zu, over the %s cap",
                 dir_name(d), ww_coding_total_out(d->coding), ww_coding_total_in(d->coding),
                 ww_coding_total_out(d->coding) >= cap ? "size" : "ratio");
        else
            anom(h, "bad-coding", "%s body: %s", dir_name(d), ww_strerror(r));
        return;
    }
    uint64_t have = d->streamed + d->body.len;
    size_t room = have < cap ? (size_t)(cap - have) : 0;
    size_t take = WW_MIN(room, n);
    int r = d->stream ? stream_append(h, d, p, take) : ww_buf_append(&d->body, p, take);
    if (r != WW_OK || take < n) {
        d->stopped = true;
        d->truncated = true;
        if (d->stream)
            anom(h, "body-too-big", "%s body over max_scan_bytes (%zu), scanned in part",
                 dir_name(d), h->cfg.max_scan_bytes);
        else
            anom(h, "body-too-big", "%s body over max_body_bytes (%zu)", dir_name(d),
                 h->cfg.max_body_bytes);
    }
}

/* After a response head: 101, or 2xx to CONNECT. */
static void do_upgrade(ww_h1 *h, h1_dir *d, uint64_t ts)
{
    char up[256];
    const char *u = mstr(d, F_UPGRADE);
    int status = d->status;
    if (u != NULL) {
        snprintf(up, sizeof up, "%s", u);
        u = up;
    }
    msg_end(h, d, ts);
    h->upgraded = true;
    h->st.upgrades++;
    if (h->cbs.upgrade != NULL)
        h->cbs.upgrade(h->cbs.ud, status, u);
}

/* A parsed head p[0..n): set up the message. */
static void msg_begin(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
    h1_head hd;
    const char *why = NULL;
    const char *bad = parse_head(h, d->dir, p, n, &hd, &why);
    bool resyncing = d->resyncing;
    d->resyncing = false;
    if (bad != NULL) {
        if (!(resyncing && (strcmp(bad, "bad-request-line") == 0 ||
                            strcmp(bad, "bad-status-line") == 0)))
            anom(h, bad, "%s", why);
        go_resync(d, true);
        return;
    }
    msg_reset(d);
    bool is_req = d->dir == WW_DIR_TOSERVER;
    int rqf = 0;
    if (!is_req) {
        if (hd.status < 200 && hd.status != 101) {
            h->st.interim++; /* 100 Continue, 103 Early Hints: the final response follows */
            d->state = ST_HDR;
            return;
        }
        rqf = req_pop(h, d);
        if (rqf < 0)
            rqf = 0;
    } else {
        meta_put(d, F_METHOD, hd.method.ptr, hd.method.len);
        meta_put(d, F_URL, hd.url.ptr, hd.url.len);
        if (hd.has[F_HOST])
            meta_put(d, F_HOST, hd.f[F_HOST].ptr, hd.f[F_HOST].len);
        req_push(h, &hd);
    }
    meta_put(d, F_VERSION, hd.version.ptr, hd.version.len);
    for (int f = F_CTYPE; f < F_COUNT; f++)
        if (hd.has[f])
            meta_put(d, f, hd.f[f].ptr, hd.f[f].len);
    d->status = hd.status;
    d->clen = hd.clen;

    if (!is_req && (hd.status == 101 || ((rqf & RQ_CONNECT) && hd.status / 100 == 2))) {
        do_upgrade(h, d, ts);
        return;
    }
    int next;
    if (!is_req && ((rqf & RQ_HEAD) || hd.status == 204 || hd.status == 304))
        next = ST_HDR;
    else if (hd.te_chunked)
        next = ST_CHUNK_SIZE;
    else if (hd.has[F_TENC] && !is_req)
        next = ST_BODY_CLOSE;
    else if (hd.clen >= 0)
        next = ST_BODY_LEN;
    else
        next = is_req ? ST_HDR : ST_BODY_CLOSE;
    if (next == ST_HDR) {
        msg_end(h, d, ts);
        return;
    }
    d->has_body = true;
    if (h->cfg.hash_bodies) {
        d->keep = true;
    } else if (h->cbs.want_body != NULL) {
        ww_http_msg m;
        build_msg(d, &m);
        d->keep = h->cbs.want_body(h->cbs.ud, &m);
        if (d->keep && h->cbs.stream_body != NULL && h->cbs.body_chunk != NULL)
            d->stream = h->cbs.stream_body(h->cbs.ud, &m);
    }
    /* the body buffer: the whole body, or the streaming window */
    d->body.cap = d->stream ? WW_HTTP_STREAM_WINDOW : h->cfg.max_body_bytes;
    if (d->keep) {
        uint8_t kinds[WW_CODING_MAX_STACK * 2];
        size_t nk = WW_CODING_MAX_STACK, nt = WW_CODING_MAX_STACK;
        int r = WW_OK, rt = WW_OK;
        if (hd.has[F_CENC])
            r = ww_coding_parse_list(kinds, &nk, (const char *)hd.f[F_CENC].ptr,
                                     hd.f[F_CENC].len, false);
        else
            nk = 0;
        /* transfer codings were applied after the content codings */
        if (r == WW_OK && hd.has[F_TENC])
            rt = ww_coding_parse_list(kinds + nk, &nt, (const char *)hd.f[F_TENC].ptr,
                                      hd.f[F_TENC].len, true);
        else
            nt = 0;
        if (r != WW_OK || rt != WW_OK) {
            anom(h, r == WW_E_UNSUPPORTED || rt == WW_E_UNSUPPORTED ? "unsupported-coding"
                                                                    : "bad-coding",
                 "%s body kept as sent", dir_name(d));
        } else if (nk + nt > 0) {
            if (nk + nt > WW_CODING_MAX_STACK) {
                anom(h, "bad-coding", "too many stacked codings; body kept as sent");
            } else {
                d->coding = ww_coding_new(h->mem, kinds, nk + nt,
                                          d->stream ? h->cfg.max_scan_bytes
                                                    : h->cfg.max_body_bytes,
                                          h->cfg.max_decoded_ratio);
                if (d->coding == NULL) {
                    anom(h, "nomem", "no memory for a decoder");
                    d->keep = false;
                }
            }
        }
    }
    d->state = next;
    if (next == ST_BODY_LEN) {
        d->remaining = (uint64_t)hd.clen;
        if (d->remaining == 0)
            msg_end(h, d, ts);
    } else if (next == ST_CHUNK_SIZE) {
        d->chunk_size = 0;
        d->cs_state = 0;
        d->cs_len = 0;
    }
}

/* ---- states ---- */

/* Bad first line (bad at index k of the data at hand; nl: that line ends at nl). */
static void bad_start(ww_h1 *h, h1_dir *d, bool whole_line)
{
    if (!d->resyncing)
        anom(h, d->dir == WW_DIR_TOSERVER ? "bad-request-line" : "bad-status-line",
             "not an HTTP/1 %s start line", dir_name(d));
    go_resync(d, whole_line);
}

static void head_done(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t e, const uint8_t *rest,
                      size_t rest_len, uint64_t ts)
{
    h->rest = rest;
    h->rest_len = rest_len;
    d->line1_ok = false;
    d->scan = d->l1scan = 0;
    msg_begin(h, d, p, e, ts);
    h->rest = NULL;
    h->rest_len = 0;
    ww_buf_reset(&d->hdr);
    if (d->hdr.alloc > 2 * 65536)
        ww_buf_free(&d->hdr);
}

static size_t st_hdr(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
    size_t cap = h->cfg.max_header_bytes;
    if (d->hdr.len == 0) {
        size_t k = 0;
        if (!d->resyncing) /* RFC 9112 2.2: empty lines before a start line are ignored */
            while (k < n && (p[k] == '\r' || p[k] == '\n'))
                k++;
        if (k > 0)
            return k;
        size_t lim = WW_MIN(n, cap);
        size_t bad = start_prefix_bad(d->dir, p, lim);
        if (bad != SIZE_MAX) {
            bad_start(h, d, false);
            return bad;
        }
        const uint8_t *nl = memchr(p, '\n', lim);
        if (nl != NULL) {
            h1_head tmp;
            if (!parse_start(d->dir, p, (size_t)(nl - p), &tmp)) {
                bad_start(h, d, true);
                return (size_t)(nl - p) + 1;
            }
            d->line1_ok = true;
        }
        size_t from = nl != NULL ? (size_t)(nl - p) : 0;
        size_t e = find_end(p, lim, &from);
        if (e > 0) {
            head_done(h, d, p, e, p + e, n - e, ts);
            return e;
        }
        if (lim == cap) {
            anom(h, "header-too-long", "%s header block over %zu bytes", dir_name(d), cap);
            go_resync(d, false);
            return lim;
        }
        if (ww_buf_append(&d->hdr, p, n) != WW_OK) {
            anom(h, "nomem", "no memory for a header block");
            go_resync(d, false);
            return n;
        }
        d->scan = from;
        d->l1scan = nl != NULL ? 0 : n;
        return n;
    }
    /* gathering: the block began in an earlier call */
    size_t old = d->hdr.len;
    size_t take = WW_MIN(n, cap - old);
    if (ww_buf_append(&d->hdr, p, take) != WW_OK) {
        anom(h, "nomem", "no memory for a header block");
        go_resync(d, false);
        return take;
    }
    const uint8_t *b = d->hdr.data;
    size_t bl = d->hdr.len;
    if (!d->line1_ok) {
        size_t bad = start_prefix_bad(d->dir, b, bl);
        if (bad != SIZE_MAX) {
            bad_start(h, d, false);
            return bad > old ? bad - old : 0;
        }
        const uint8_t *nl = memchr(b + d->l1scan, '\n', bl - d->l1scan);
        if (nl != NULL) {
            h1_head tmp;
            size_t k = (size_t)(nl - b);
            if (!parse_start(d->dir, b, k, &tmp)) {
                bad_start(h, d, true);
                return k + 1 > old ? k + 1 - old : 0;
            }
            d->line1_ok = true;
            if (d->scan < k)
                d->scan = k;
        } else {
            d->l1scan = bl;
        }
    }
    size_t e = find_end(b, bl, &d->scan);
    if (e > 0) {
        if (e <= old) { /* cannot happen: the end would have been found before */
            go_resync(d, false);
            return take;
        }
        size_t used = e - old;
        d->hdr.len = e;
        head_done(h, d, d->hdr.data, e, p + used, n - used, ts);
        return used;
    }
    if (d->hdr.len >= cap) {
        anom(h, "header-too-long", "%s header block over %zu bytes", dir_name(d), cap);
        go_resync(d, false);
    }
    return take;
}

static size_t st_resync(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t n)
{
    if (d->at_line_start) {
        bool plausible = d->dir == WW_DIR_TOCLIENT ? p[0] == 'H' : (p[0] >= 'A' && p[0] <= 'Z');
        if (plausible) {
            d->state = ST_HDR;
            d->resyncing = true;
            return 0;
        }
        d->at_line_start = false;
    }
    const uint8_t *nl = memchr(p, '\n', n);
    size_t k = nl != NULL ? (size_t)(nl - p) + 1 : n;
    d->at_line_start = nl != NULL;
    h->st.resync_bytes += k;
    return k;
}

/* Broken chunked framing: the message goes out truncated, then resync. */
static void chunk_broken(ww_h1 *h, h1_dir *d, const char *type, const char *why, uint64_t ts)
{
    anom(h, type, "%s: %s", dir_name(d), why);
    d->truncated = true;
    msg_end(h, d, ts);
    go_resync(d, false);
}

static size_t st_chunk_size(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
    size_t i = 0;
    for (; i < n; i++) {
        uint8_t c = p[i];
        if (++d->cs_len > H1_CHUNK_LINE_MAX) {
            chunk_broken(h, d, "bad-chunk-size", "chunk-size line too long", ts);
            return i;
        }
        if (d->cs_state <= 1) {
            int v = ww_hex_val(c);
            if (v >= 0) {
                if (d->chunk_size >> 59) {
                    chunk_broken(h, d, "bad-chunk-size", "chunk size overflows", ts);
                    return i;
                }
                d->chunk_size = (d->chunk_size << 4) | (uint64_t)v;
                d->cs_state = 1;
                continue;
            }
            if (d->cs_state == 0) {
                chunk_broken(h, d, "bad-chunk-size", "no hex digit in chunk size", ts);
                return i;
            }
            if (c == ';' || c == ' ' || c == '\t') {
                d->cs_state = 2;
                continue;
            }
            if (c == '\r') {
                d->cs_state = 3;
                continue;
            }
            if (c == '\n')
                break;
            chunk_broken(h, d, "bad-chunk-size", "bad character after chunk size", ts);
            return i;
        }
        if (d->cs_state == 2) { /* extension: up to LF */
            const uint8_t *nl = memchr(p + i, '\n', n - i);
            size_t k = nl != NULL ? (size_t)(nl - p) : n;
            d->cs_len += k - i;
            if (d->cs_len > H1_CHUNK_LINE_MAX) {
                chunk_broken(h, d, "bad-chunk-size", "chunk extension too long", ts);
                return k;
            }
            if (nl == NULL)
                return n;
            i = k;
            break;
        }
        /* cs_state 3: after CR */
        if (c == '\n')
            break;
        chunk_broken(h, d, "bad-chunk-size", "CR without LF after chunk size", ts);
        return i;
    }
    if (i == n)
        return n;
    d->cs_len = 0;
    d->cs_state = 0;
    if (d->chunk_size == 0) {
        d->state = ST_TRAILER;
        d->tline_len = 0;
        d->trailer_bytes = 0;
    } else {
        d->state = ST_CHUNK_DATA;
        d->remaining = d->chunk_size;
        d->chunk_size = 0;
    }
    return i + 1;
}

static size_t st_trailer(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t k = nl != NULL ? (size_t)(nl - p) : n;
    if (k > 0 && d->tline_len == 0)
        d->tline_first = p[0];
    d->tline_len += k;
    d->trailer_bytes += k + (nl != NULL);
    if (d->trailer_bytes > h->cfg.max_header_bytes) {
        anom(h, "header-too-long", "%s trailers over %zu bytes", dir_name(d),
             h->cfg.max_header_bytes);
        d->truncated = true;
        msg_end(h, d, ts);
        go_resync(d, false);
        return k;
    }
    if (nl == NULL)
        return n;
    bool blank = d->tline_len == 0 || (d->tline_len == 1 && d->tline_first == '\r');
    d->tline_len = 0;
    if (blank)
        msg_end(h, d, ts);
    return k + 1;
}

static void dir_feed(ww_h1 *h, h1_dir *d, const uint8_t *p, size_t n, uint64_t ts)
{
    while (n > 0) {
        if (h->upgraded) {
            h->st.ignored_bytes += n;
            return;
        }
        size_t k = 0;
        switch (d->state) {
        case ST_HDR:
            k = st_hdr(h, d, p, n, ts);
            break;
        case ST_BODY_LEN:
            k = (size_t)WW_MIN((uint64_t)n, d->remaining);
            body_data(h, d, p, k);
            d->remaining -= k;
            if (d->remaining == 0)
                msg_end(h, d, ts);
            break;
        case ST_CHUNK_SIZE:
            k = st_chunk_size(h, d, p, n, ts);
            break;
        case ST_CHUNK_DATA:
            k = (size_t)WW_MIN((uint64_t)n, d->remaining);
            body_data(h, d, p, k);
            d->remaining -= k;
            if (d->remaining == 0) {
                d->state = ST_CHUNK_END;
                d->ce_cr = false;
            }
            break;
        case ST_CHUNK_END:
            if (p[0] == '\r' && !d->ce_cr) {
                d->ce_cr = true;
                k = 1;
            } else if (p[0] == '\n') {
                d->state = ST_CHUNK_SIZE;
                k = 1;
            } else {
                chunk_broken(h, d, "bad-chunk", "no CRLF after chunk data", ts);
            }
            break;
        case ST_TRAILER:
            k = st_trailer(h, d, p, n, ts);
            break;
        case ST_BODY_CLOSE:
            k = n;
            body_data(h, d, p, n);
            break;
        case ST_RESYNC:
            k = st_resync(h, d, p, n);
            break;
        default:
            k = n;
            break;
        }
        p += k;
        n -= k;
    }
}

/* ---- public ---- */

ww_h1 *ww_h1_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_h1_cbs *cbs)
{
    ww_h1 *h = ww_calloc(mem, 1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->mem = mem;
    if (cfg != NULL)
        h->cfg = *cfg;
    ww_app_cfg_defaults(&h->cfg);
    if (h->cfg.max_header_bytes < 64)
        h->cfg.max_header_bytes = 64;
    if (cbs != NULL)
        h->cbs = *cbs;
    ww_buf_init(&h->reqq, mem, 4 * h->cfg.max_header_bytes + 4096);
    for (int i = 0; i < 2; i++) {
        h1_dir *d = &h->d[i];
        d->dir = i;
        ww_buf_init(&d->hdr, mem, h->cfg.max_header_bytes);
        ww_buf_init(&d->meta, mem, 2 * h->cfg.max_header_bytes + 4096);
        ww_buf_init(&d->body, mem, h->cfg.max_body_bytes);
        msg_reset(d);
        d->state = ST_HDR;
    }
    return h;
}

void ww_h1_data(ww_h1 *h, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    WW_ASSERT(h != NULL && (dir == WW_DIR_TOSERVER || dir == WW_DIR_TOCLIENT));
    dir_feed(h, &h->d[dir], p, n, ts_us);
}

void ww_h1_gap(ww_h1 *h, int dir, uint64_t len, uint64_t ts_us)
{
    WW_ASSERT(h != NULL && (dir == WW_DIR_TOSERVER || dir == WW_DIR_TOCLIENT));
    h1_dir *d = &h->d[dir];
    h->st.gap_bytes += len;
    if (h->upgraded || len == 0)
        return;
    anom(h, "gap", "%s stream: %llu bytes lost", dir_name(d), (unsigned long long)len);
    switch (d->state) {
    case ST_BODY_LEN:
    case ST_CHUNK_DATA:
        if (len <= d->remaining) { /* the framing still holds: a hole in the body */
            d->truncated = true;
            d->stopped = true;
            d->raw_len += len;
            d->remaining -= len;
            if (d->remaining == 0) {
                if (d->state == ST_BODY_LEN) {
                    msg_end(h, d, ts_us);
                } else {
                    d->state = ST_CHUNK_END;
                    d->ce_cr = false;
                }
            }
            return;
        }
        d->truncated = true;
        msg_end(h, d, ts_us);
        break;
    case ST_BODY_CLOSE:
        d->truncated = true;
        d->stopped = true;
        d->raw_len += len;
        return;
    case ST_CHUNK_SIZE:
    case ST_CHUNK_END:
    case ST_TRAILER:
        d->truncated = true;
        msg_end(h, d, ts_us);
        break;
    default: /* ST_HDR (a partial head is dropped), ST_RESYNC */
        break;
    }
    go_resync(d, true);
}

void ww_h1_close(ww_h1 *h, uint64_t ts_us)
{
    WW_ASSERT(h != NULL);
    for (int i = 0; i < 2; i++) {
        h1_dir *d = &h->d[i];
        if (h->upgraded)
            break;
        switch (d->state) {
        case ST_BODY_CLOSE:
            msg_end(h, d, ts_us);
            break;
        case ST_BODY_LEN:
            anom(h, "content-length-mismatch", "%s closed %llu bytes short of Content-Length",
                 dir_name(d), (unsigned long long)d->remaining);
            d->truncated = true;
            msg_end(h, d, ts_us);
            break;
        case ST_CHUNK_SIZE:
        case ST_CHUNK_DATA:
        case ST_CHUNK_END:
        case ST_TRAILER:
            anom(h, "body-truncated", "%s closed inside a chunked body", dir_name(d));
            d->truncated = true;
            msg_end(h, d, ts_us);
            break;
        case ST_HDR:
            if (d->hdr.len > 0 && !d->resyncing)
                anom(h, "truncated-header", "%s closed inside a header block (%zu bytes)",
                     dir_name(d), d->hdr.len);
            ww_buf_reset(&d->hdr);
            break;
        default:
            break;
        }
        d->state = ST_RESYNC;
        d->at_line_start = true;
    }
}

void ww_h1_free(ww_h1 *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        h1_dir *d = &h->d[i];
        ww_coding_free(d->coding);
        ww_buf_free(&d->hdr);
        ww_buf_free(&d->meta);
        ww_buf_free(&d->body);
    }
    ww_buf_free(&h->reqq);
    ww_free(h->mem, h);
}

const ww_h1_stats *ww_h1_stats_get(const ww_h1 *h)
{
    return &h->st;
}

void ww_h1_upgrade_rest(const ww_h1 *h, ww_slice *out)
{
    out->ptr = h->rest;
    out->len = h->rest_len;
}
