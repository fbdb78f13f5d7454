/*
 * source.c - packet sources: classic pcap and pcapng files, plain or gzip-compressed,
 * from a path, standard input ("-") or memory.
 *
 * Classic pcap (draft-ietf-opsawg-pcap):
 *
 *   file header (24)  magic a1b2c3d4 (us) | a1b23c4d (ns) | a1b2cd34 (Kuznetzov), either order
 *                     version 2.4, thiszone, sigfigs, snaplen, linktype (low 16 bits)
 *   record header (16, 24 for Kuznetzov)  ts_sec, ts_frac, incl_len, orig_len, then incl_len bytes
 *
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks
 *
 *   +-----------+-------------------+------------------------+-------------------+
 *   | type (32) | total length (32) | body (padded to 32 bit) | total length (32) |
 *   +-----------+-------------------+------------------------+-------------------+
 *
 *   SHB 0x0a0d0d0a (byte-order magic 1a2b3c4d starts a section), IDB 1, PB 2 (obsolete),
 *   SPB 3, EPB 6, DSB 0x0a; everything else is skipped. Block sizes are capped at
 *   WW_SRC_MAX_BLOCK (as libpcap's INITIAL_MAX_BLOCKSIZE).
 *
 * Input is read through one large buffer: records are handed out as pointers into it (no
 * per-packet allocation or copy). Compressed input (gzip magic 1f 8b only) is inflated into
 * that same buffer. The source kind is behind a small vtable so a live libpcap source can be
 * added without touching the callers.
 */
#include "capture/capture.h"
#include "capture/source_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <unistd.h>
#include <zlib.h>

#define WW_SRC_BUF_SIZE (1u << 20)          /* initial buffer */
#define WW_SRC_MAX_BLOCK (16u * 1024 * 1024) /* largest record / block accepted */
#define WW_SRC_ZIN_SIZE (256u * 1024)       /* compressed input chunk */
#define WW_SRC_MAX_IFACES 4096

enum { FMT_PCAP = 1, FMT_PCAPNG = 2 };

typedef ww_src_ops src_ops; /* capture/source_int.h */

typedef struct ng_iface {
    int linktype;
    uint32_t snaplen;
    uint8_t tsres_pow2; /* 1: resolution is 2^-tsres, 0: 10^-tsres */
    uint8_t tsres;
    int64_t tsoffset_us;
} ng_iface;

struct ww_source {
    const src_ops *ops;
    void *impl; /* state of a non-file kind (capture/live.c) */
    const ww_mem *mem;
    ww_secrets_fn secrets_fn;
    void *secrets_ud;
    void (*wake_fn)(void *ud); /* ww_source_on_wake */
    void *wake_ud;
    void (*idle_fn)(void *ud); /* ww_source_on_idle */
    void *idle_ud;
    bool idle_told; /* the idle hook ran since the last bytes came */
    ww_anomaly_fn anomaly_fn;
    void *anomaly_ud;
    uint64_t drops;
    ww_source_damage dmg;
    uint64_t last_ts; /* of the last packet delivered: the time of a damage report */
    uint64_t file_size; /* a regular uncompressed file's size, else 0 (unknown) */
    bool pollable;      /* a pipe, terminal or socket: reads wait in poll() with the wake-up pipe */

    /* raw input: a file descriptor or borrowed memory */
    int fd;
    bool close_fd;
    const uint8_t *min;
    size_t min_len, min_pos;

    /* gzip */
    bool gz;
    bool z_init;
    z_stream z;
    uint8_t *zin;
    bool raw_eof;

    /* uncompressed bytes: buf[pos..len) are unread; off = file offset of buf[pos] */
    uint8_t *buf;
    size_t cap, pos, len;
    bool own_buf;
    bool eof;
    uint64_t off;

    /* format */
    int fmt;
    bool be;     /* fields are big-endian (pcap: per magic; pcapng: per section) */
    bool nsec;   /* pcap: nanosecond timestamps */
    int hdr_len; /* pcap: record header length */
    int linktype;
    ng_iface *ifs;
    size_t n_ifs, ifs_cap;

    uint32_t snaplen; /* pcap: the file header's snapshot length (what a record can hold) */
};

static void errf(char errbuf[WW_ERRBUF_SIZE], const char *fmt, ...) WW_PRINTF(2, 3);
static void errf(char errbuf[WW_ERRBUF_SIZE], const char *fmt, ...)
{
    va_list ap;
    if (errbuf == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, WW_ERRBUF_SIZE, fmt, ap);
    va_end(ap);
}

static void src_anomaly(ww_source *s, const char *type, const char *detail)
{
    if (s->anomaly_fn != NULL)
        s->anomaly_fn(s->anomaly_ud, s->last_ts, NULL, "pcap", type, detail);
}

/* A damaged block: counted, reported with where it is. */
static void damaged(ww_source *s, const char *type, const char *what)
{
    char d[256];
    s->dmg.damaged_blocks++;
    snprintf(d, sizeof d, "%s at offset %llu", what, (unsigned long long)s->off);
    src_anomaly(s, type, d);
}

/* A packet block that could not be delivered: counted; reported for the first 8, then at
 * every power of two (a capture full of them must not flood the output). */
static void packet_lost(ww_source *s, const char *type, const char *what)
{
    uint64_t n = ++s->dmg.packets_lost;
    s->dmg.damaged_blocks++;
    if (n <= 8 || (n & (n - 1)) == 0) {
        char d[256];
        snprintf(d, sizeof d, "%s at offset %llu: packet dropped (%llu so far)", what,
                 (unsigned long long)s->off, (unsigned long long)n);
        src_anomaly(s, type, d);
    }
}

/* The input ends here, damaged: how much of the file is not read, for the message. */
static const char *unread_note(ww_source *s, char *buf, size_t n)
{
    s->dmg.ended_early = true;
    if (s->file_size > s->off) {
        s->dmg.bytes_unread = s->file_size - s->off;
        snprintf(buf, n, "; the %llu bytes after it (%.1f%% of the file) are not read",
                 (unsigned long long)s->dmg.bytes_unread,
                 100.0 * (double)s->dmg.bytes_unread / (double)s->file_size);
    } else if (!s->eof) {
        snprintf(buf, n, "; the rest of the input is not read");
    } else {
        buf[0] = '\0';
    }
    return buf;
}

static inline bool rd_u32(ww_rd *r, bool be, uint32_t *v)
{
    return be ? ww_rd_be32(r, v) : ww_rd_le32(r, v);
}
static inline bool rd_u16(ww_rd *r, bool be, uint16_t *v)
{
    return be ? ww_rd_be16(r, v) : ww_rd_le16(r, v);
}

/* ---- raw input ---- */

/*
 * Interruption (SIGINT/SIGTERM while a read waits on an idle pipe): the signal handler calls
 * ww_source_interrupt(), which sets a flag and writes a byte to a self-pipe; reads from a pipe
 * or terminal wait in poll() on both, so they return at once and the input ends there.
 * ww_source_wake() writes the byte without the flag: the waiting read calls the source's wake
 * hook (SIGUSR1's counts while nothing comes) and goes on waiting.
 */
static volatile sig_atomic_t src_intr;
static int intr_pipe[2] = {-1, -1};

void ww_source_interrupt(void)
{
    src_intr = 1;
    if (intr_pipe[1] >= 0) {
        char c = 0;
        ssize_t k = write(intr_pipe[1], &c, 1);
        (void)k; /* full pipe: a wake-up is already pending */
    }
}

void ww_source_wake(void)
{
    if (intr_pipe[1] >= 0) {
        char c = 1;
        ssize_t k = write(intr_pipe[1], &c, 1);
        (void)k;
    }
}

void ww_source_on_wake(ww_source *s, void (*fn)(void *ud), void *ud)
{
    s->wake_fn = fn;
    s->wake_ud = ud;
}

void ww_source_on_idle(ww_source *s, void (*fn)(void *ud), void *ud)
{
    s->idle_fn = fn;
    s->idle_ud = ud;
}

/* A pollable input with nothing to read: the idle hook, once per idle spell. */
static void tell_idle(ww_source *s)
{
    if (s->idle_fn == NULL || s->idle_told)
        return;
    struct pollfd pf = {s->fd, POLLIN, 0};
    if (poll(&pf, 1, 0) != 0)
        return; /* bytes (or the end, or an error) are there: not idle */
    s->idle_told = true;
    s->idle_fn(s->idle_ud);
}

bool ww_source_interrupted(void)
{
    return src_intr != 0;
}

/* Sets up the self-pipe once (before a pollable source is read). */
static void intr_pipe_init(void)
{
    if (intr_pipe[0] >= 0)
        return;
    int p[2];
    if (pipe(p) != 0)
        return; /* then reads still return on EINTR (no SA_RESTART), if the signal hits them */
    for (int i = 0; i < 2; i++) {
        (void)fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        (void)fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    intr_pipe[0] = p[0];
    intr_pipe[1] = p[1];
}

/* Reads up to n raw bytes. Returns bytes read (0 at end, or when interrupted) or -1 (errno). */
static ssize_t raw_read(ww_source *s, uint8_t *dst, size_t n)
{
    if (s->fd < 0) {
        size_t k = WW_MIN(n, s->min_len - s->min_pos);
        memcpy(dst, s->min + s->min_pos, k);
        s->min_pos += k;
        return (ssize_t)k;
    }
    for (;;) {
        if (src_intr)
            return 0; /* the input ends here; ww_source_interrupted() tells why */
        if (s->pollable) {
            tell_idle(s);
            struct pollfd pf[2] = {{s->fd, POLLIN, 0}, {intr_pipe[0], POLLIN, 0}};
            int pr = poll(pf, intr_pipe[0] >= 0 ? 2 : 1, -1);
            if (pr < 0 && errno != EINTR)
                return -1;
            if (pr <= 0 || (pf[0].revents == 0)) {
                /* a signal or a wake-up: the interrupt flag is checked above; otherwise
                 * ww_source_wake() asked for the wake hook while the input is idle */
                if (pr > 0 && (pf[1].revents & POLLIN)) {
                    char junk[64];
                    while (read(intr_pipe[0], junk, sizeof junk) > 0)
                        ;
                    if (!src_intr && s->wake_fn != NULL)
                        s->wake_fn(s->wake_ud);
                }
                continue;
            }
        }
        ssize_t k = read(s->fd, dst, n);
        if (k > 0)
            s->idle_told = false;
        if (k >= 0 || errno != EINTR)
            return k;
    }
}

/* Compressed input for the inflater when it has none left and the file has more. */
static int gz_refill(ww_source *s, char errbuf[WW_ERRBUF_SIZE])
{
    if (s->z.avail_in > 0 || s->raw_eof)
        return WW_OK;
    ssize_t k = raw_read(s, s->zin, WW_SRC_ZIN_SIZE);
    if (k < 0) {
        errf(errbuf, "read error: %s", strerror(errno));
        return WW_E_IO;
    }
    if (k == 0)
        s->raw_eof = true;
    s->z.next_in = s->zin;
    s->z.avail_in = (uInt)k;
    return WW_OK;
}

/* Inflates into dst. Returns bytes produced (0 at end), or a negative WW_E_*. */
static ssize_t gz_read(ww_source *s, uint8_t *dst, size_t n, char errbuf[WW_ERRBUF_SIZE])
{
    s->z.next_out = dst;
    s->z.avail_out = (uInt)WW_MIN(n, (size_t)UINT32_MAX);
    while (s->z.avail_out > 0) {
        if (gz_refill(s, errbuf) != WW_OK)
            return WW_E_IO;
        if (s->z.avail_in == 0 && s->raw_eof)
            break; /* a cut gzip stream ends like the file: the record reader says TRUNC */
        int rc = inflate(&s->z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            /* concatenated members go on; anything else after the end is ignored */
            if (gz_refill(s, errbuf) != WW_OK)
                return WW_E_IO;
            if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
                inflateReset(&s->z);
                continue;
            }
            s->z.avail_in = 0;
            s->raw_eof = true;
            break;
        }
        if (rc == Z_BUF_ERROR)
            continue; /* needs input: loop reads more or ends */
        if (rc != Z_OK) {
            errf(errbuf, "gzip data error at compressed offset %lu: %s",
                 (unsigned long)s->z.total_in, s->z.msg ? s->z.msg : "corrupt");
            return WW_E_INVALID;
        }
    }
    return (ssize_t)(n - s->z.avail_out);
}

/*
 * Makes at least `want` unread bytes available in buf[pos..].
 * Returns: 1 available; 0 the input ended first (len-pos bytes remain); WW_E_IO / WW_E_INVALID
 * (gzip) on errors, with errbuf filled.
 */
static int need(ww_source *s, size_t want, char errbuf[WW_ERRBUF_SIZE])
{
    if (WW_LIKELY(s->len - s->pos >= want))
        return 1;
    if (s->eof || !s->own_buf)
        return 0;
    if (want > s->cap - s->pos) {
        size_t have = s->len - s->pos;
        if (want > s->cap) {
            size_t ncap = s->cap;
            while (ncap < want)
                ncap *= 2;
            uint8_t *nb = ww_malloc(s->mem, ncap);
            if (nb == NULL) {
                errf(errbuf, "out of memory (buffer of %zu bytes)", ncap);
                return WW_E_NOMEM;
            }
            memcpy(nb, s->buf + s->pos, have);
            ww_free(s->mem, s->buf);
            s->buf = nb;
            s->cap = ncap;
        } else {
            memmove(s->buf, s->buf + s->pos, have);
        }
        s->pos = 0;
        s->len = have;
    }
    while (s->len - s->pos < want) {
        ssize_t k;
        if (s->gz)
            k = gz_read(s, s->buf + s->len, s->cap - s->len, errbuf);
        else {
            k = raw_read(s, s->buf + s->len, s->cap - s->len);
            if (k < 0) {
                errf(errbuf, "read error: %s", strerror(errno));
                return WW_E_IO;
            }
        }
        if (k < 0)
            return (int)k;
        if (k == 0) {
            s->eof = true;
            return 0;
        }
        s->len += (size_t)k;
    }
    return 1;
}

static inline void consume(ww_source *s, size_t n)
{
    s->pos += n;
    s->off += n;
}

/* ---- classic pcap ---- */

#define PCAP_SANE_CAPLEN (256u * 1024)        /* tcpdump's largest snaplen */
#define PCAP_TS_BEHIND_US (3600ull * 1000000) /* how far a resync may go back in time */
#define PCAP_TS_AHEAD_US (86400ull * 1000000) /* and forward */

/* The largest captured length a record of this file can honestly have. */
static uint32_t pcap_max_caplen(const ww_source *s)
{
    return WW_MAX(s->snaplen <= WW_SRC_MAX_BLOCK ? s->snaplen : 0, PCAP_SANE_CAPLEN);
}

/* The header at p (hl bytes): is it a plausible record header? *ts_us and *incl set. */
static bool pcap_hdr_plausible(const ww_source *s, const uint8_t *p, uint64_t *ts_us,
                               uint32_t *incl)
{
    ww_rd r = ww_rd_init(p, 16);
    uint32_t sec = 0, frac = 0, orig = 0;
    (void)rd_u32(&r, s->be, &sec);
    (void)rd_u32(&r, s->be, &frac);
    (void)rd_u32(&r, s->be, incl);
    (void)rd_u32(&r, s->be, &orig);
    *ts_us = (uint64_t)sec * 1000000u + (s->nsec ? frac / 1000u : frac);
    return frac < (s->nsec ? 1000000000u : 1000000u) && *incl <= orig && orig > 0 &&
           orig <= WW_SRC_MAX_BLOCK && *incl <= pcap_max_caplen(s);
}

static bool ts_near(uint64_t ts, uint64_t ref)
{
    return ref == 0 || (ts + PCAP_TS_BEHIND_US >= ref && ts <= ref + PCAP_TS_AHEAD_US);
}

/*
 * After a record header that cannot be right (a captured length over the cap or past the end
 * of the input): looks for the next plausible record, one byte at a time from the byte after
 * the bad header's start, consuming what it skips (memory stays one record). A candidate is
 * plausible when its header is (caplen <= len, caplen within the snaplen, a time near the
 * last packet's) and so is the header right after its record, or its record ends the input.
 * Returns 1 positioned on it, 0 when none is found before the end of the input (everything
 * consumed), or a negative error.
 */
static int pcap_resync(ww_source *s, char errbuf[WW_ERRBUF_SIZE])
{
    size_t hl = (size_t)s->hdr_len;
    for (;;) {
        consume(s, WW_MIN((size_t)1, s->len - s->pos));
        int rc = need(s, hl, errbuf);
        if (rc != 1) {
            if (rc < 0)
                return rc;
            consume(s, s->len - s->pos);
            return 0;
        }
        uint64_t ts = 0, ts2 = 0;
        uint32_t incl = 0, incl2 = 0;
        if (!pcap_hdr_plausible(s, s->buf + s->pos, &ts, &incl) || !ts_near(ts, s->last_ts))
            continue;
        rc = need(s, hl + incl + hl, errbuf);
        if (rc < 0)
            return rc;
        if (rc == 0) { /* the input ends: the candidate must end it exactly */
            if (s->len - s->pos == hl + incl)
                return 1;
            continue;
        }
        if (pcap_hdr_plausible(s, s->buf + s->pos + hl + incl, &ts2, &incl2) && ts_near(ts2, ts))
            return 1;
    }
}

/*
 * The record at buf[pos] has an impossible captured length `incl` (what: why). Skips to the
 * next plausible record (pcap_resync): an anomaly says how many bytes were skipped, and the
 * packets after it are read. Returns 1 when positioned there, 0 when there is none (the
 * caller reports the record as before), or a negative error.
 */
static int pcap_skip_damage(ww_source *s, uint32_t incl, const char *what,
                            char errbuf[WW_ERRBUF_SIZE])
{
    uint64_t at = s->off;
    size_t pos0 = s->pos;
    /* the whole rest of the input is in buf: a failed search is undone */
    bool buffered = s->eof || !s->own_buf;
    int rc = pcap_resync(s, errbuf);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        if (buffered)
            s->pos = pos0;
        s->off = at; /* (for the caller's message; else the input is all consumed) */
        return 0;
    }
    char d[256];
    uint64_t skipped = s->off - at;
    s->dmg.damaged_blocks++;
    s->dmg.packets_lost++;
    s->dmg.bytes_unread += skipped;
    snprintf(d, sizeof d,
             "pcap record at offset %llu: captured length %u %s: %llu bytes skipped to the "
             "next valid record at offset %llu",
             (unsigned long long)at, incl, what, (unsigned long long)skipped,
             (unsigned long long)s->off);
    src_anomaly(s, "bad-record-length", d);
    return 1;
}

static int pcap_next_rec(ww_source *s, ww_pkt *pkt, char errbuf[WW_ERRBUF_SIZE])
{
    size_t hl = (size_t)s->hdr_len;
    int rc = need(s, hl, errbuf);
    if (WW_UNLIKELY(rc != 1)) {
        if (rc < 0)
            return rc;
        if (s->len == s->pos)
            return 0;
        s->dmg.damaged_blocks++;
        s->dmg.ended_early = true;
        errf(errbuf, "truncated pcap record header at offset %llu (%zu of %zu bytes)",
             (unsigned long long)s->off, s->len - s->pos, hl);
        return WW_E_TRUNC;
    }
    ww_rd r = ww_rd_init(s->buf + s->pos, hl);
    uint32_t sec = 0, frac = 0, incl = 0, orig = 0;
    (void)rd_u32(&r, s->be, &sec);
    (void)rd_u32(&r, s->be, &frac);
    (void)rd_u32(&r, s->be, &incl);
    (void)rd_u32(&r, s->be, &orig);
    if (WW_UNLIKELY(incl > pcap_max_caplen(s))) {
        char note[128];
        rc = pcap_skip_damage(s, incl, "over the snaplen", errbuf);
        if (rc != 0)
            return rc < 0 ? rc : pcap_next_rec(s, pkt, errbuf);
        s->dmg.damaged_blocks++;
        errf(errbuf,
             "pcap record at offset %llu: captured length %u over the %u-byte limit, and no "
             "valid record after it%s",
             (unsigned long long)s->off, incl, pcap_max_caplen(s),
             unread_note(s, note, sizeof note));
        return WW_E_INVALID;
    }
    rc = need(s, hl + incl, errbuf);
    if (WW_UNLIKELY(rc != 1)) {
        if (rc < 0)
            return rc;
        rc = pcap_skip_damage(s, incl, "past the end of the input", errbuf);
        if (rc != 0)
            return rc < 0 ? rc : pcap_next_rec(s, pkt, errbuf);
        s->dmg.damaged_blocks++;
        s->dmg.packets_lost++;
        s->dmg.ended_early = true;
        errf(errbuf, "truncated pcap record at offset %llu: %zu of %zu bytes",
             (unsigned long long)s->off, s->len - s->pos, hl + incl);
        return WW_E_TRUNC;
    }
    pkt->ts_us = (uint64_t)sec * 1000000u + (s->nsec ? frac / 1000u : frac);
    pkt->caplen = incl;
    pkt->len = orig < incl ? incl : orig;
    pkt->linktype = s->linktype;
    pkt->data = s->buf + s->pos + hl;
    consume(s, hl + incl);
    return 1;
}

/* ---- pcapng ---- */

#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_PB 2u
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_DSB 0x0au
#define NG_BOM 0x1a2b3c4du

static uint64_t ng_ts_us(const ng_iface *ifc, uint64_t ts)
{
    uint64_t us;
    if (ifc->tsres_pow2) {
        unsigned __int128 x = (unsigned __int128)ts * 1000000u;
        us = (uint64_t)(x >> ifc->tsres);
    } else if (ifc->tsres == 6) {
        us = ts;
    } else if (ifc->tsres < 6) {
        uint64_t m = 1;
        for (int i = ifc->tsres; i < 6; i++)
            m *= 10;
        us = ts * m;
    } else {
        uint64_t dv = 1;
        for (int i = 6; i < ifc->tsres && i < 26; i++)
            dv = dv > UINT64_MAX / 10 ? dv : dv * 10;
        us = ts / dv;
    }
    return us + (uint64_t)ifc->tsoffset_us;
}

/* Parses an IDB body (after type/length). Returns WW_OK or WW_E_INVALID / WW_E_NOMEM. */
static int ng_idb(ww_source *s, ww_rd r, char errbuf[WW_ERRBUF_SIZE])
{
    uint16_t lt = 0, resv = 0;
    uint32_t snap = 0;
    if (!rd_u16(&r, s->be, &lt) || !rd_u16(&r, s->be, &resv) || !rd_u32(&r, s->be, &snap)) {
        /* the interface still takes its id (the packets that name it are reported as lost,
         * not silently dropped); its link type is unknown */
        damaged(s, "bad-idb", "interface description block too short: link type unknown");
        lt = 0xffff;
        r = ww_rd_init(NULL, 0);
    }
    if (s->n_ifs >= WW_SRC_MAX_IFACES) {
        errf(errbuf, "pcapng: more than %u interfaces in a section", WW_SRC_MAX_IFACES);
        return WW_E_INVALID;
    }
    if (s->n_ifs == s->ifs_cap) {
        size_t nc = s->ifs_cap ? s->ifs_cap * 2 : 8;
        ng_iface *n = ww_realloc(s->mem, s->ifs, nc * sizeof(*n));
        if (n == NULL) {
            errf(errbuf, "out of memory");
            return WW_E_NOMEM;
        }
        s->ifs = n;
        s->ifs_cap = nc;
    }
    ng_iface *ifc = &s->ifs[s->n_ifs++];
    ifc->linktype = lt;
    ifc->snaplen = snap;
    ifc->tsres_pow2 = 0;
    ifc->tsres = 6;
    ifc->tsoffset_us = 0;
    /* options: code(16) len(16) value padded to 32 bits */
    for (;;) {
        uint16_t code, olen;
        ww_slice v;
        if (!rd_u16(&r, s->be, &code) || !rd_u16(&r, s->be, &olen) || code == 0)
            break;
        if (!ww_rd_bytes(&r, &v, olen))
            break;
        (void)ww_rd_skip(&r, (4 - (olen & 3)) & 3);
        if (code == 9 && olen >= 1) { /* if_tsresol */
            uint8_t res = v.ptr[0];
            if (res & 0x80) {
                if ((res & 0x7f) <= 63) {
                    ifc->tsres_pow2 = 1;
                    ifc->tsres = res & 0x7f;
                } else
                    damaged(s, "bad-if-tsresol", "power-of-2 resolution over 2^-63");
            } else if (res <= 19) {
                ifc->tsres = res;
            } else {
                damaged(s, "bad-if-tsresol", "decimal resolution over 10^-19");
            }
        } else if (code == 14 && olen == 8) { /* if_tsoffset, seconds */
            ww_rd o = ww_rd_init(v.ptr, 8);
            uint64_t sec = 0;
            if (s->be)
                (void)ww_rd_be64(&o, &sec);
            else
                (void)ww_rd_le64(&o, &sec);
            ifc->tsoffset_us = (int64_t)sec * 1000000;
        }
    }
    return WW_OK;
}

/* Parses an SHB whose total length is blen and that starts at buf[pos]. */
static int ng_shb(ww_source *s, size_t blen, char errbuf[WW_ERRBUF_SIZE])
{
    ww_rd r = ww_rd_init(s->buf + s->pos + 8, blen - 8);
    uint32_t bom = 0;
    uint16_t major = 0;
    (void)ww_rd_le32(&r, &bom);
    if (bom == NG_BOM)
        s->be = false;
    else if (bom == 0x4d3c2b1au)
        s->be = true;
    else {
        errf(errbuf, "pcapng: bad byte-order magic at offset %llu", (unsigned long long)s->off);
        return WW_E_INVALID;
    }
    if (!rd_u16(&r, s->be, &major) || major != 1) {
        errf(errbuf, "pcapng: unsupported section version %u at offset %llu", major,
             (unsigned long long)s->off);
        return WW_E_INVALID;
    }
    s->n_ifs = 0;
    return WW_OK;
}

/*
 * After a block whose length cannot be right (a bit flip, a torn write): looks for the next
 * block that is plausible — a known type, a sane length, and the trailing copy of that length
 * where it belongs — 4 bytes at a time, consuming what it skips (memory stays one block).
 * Returns 1 positioned on that block, 0 when the input ends first, or a negative error.
 */
static int ng_resync(ww_source *s, char errbuf[WW_ERRBUF_SIZE])
{
    for (;;) {
        size_t step = WW_MIN((size_t)4, s->len - s->pos);
        consume(s, step);
        int rc = need(s, 12, errbuf);
        if (rc != 1) {
            if (rc < 0)
                return rc;
            consume(s, s->len - s->pos);
            return 0;
        }
        ww_rd r = ww_rd_init(s->buf + s->pos, 8);
        uint32_t t = 0, l = 0;
        (void)rd_u32(&r, s->be, &t);
        (void)rd_u32(&r, s->be, &l);
        if (t != NG_IDB && t != NG_PB && t != NG_SPB && t != NG_EPB && t != NG_DSB && t != 4 &&
            t != 5)
            continue; /* (an SHB is not taken: its byte order would be a guess) */
        if (l < 12 || (l & 3) != 0 || l > WW_SRC_MAX_BLOCK)
            continue;
        rc = need(s, l, errbuf);
        if (rc < 0)
            return rc;
        if (rc != 1)
            continue;
        ww_rd tr = ww_rd_init(s->buf + s->pos + l - 4, 4);
        uint32_t trail = 0;
        (void)rd_u32(&tr, s->be, &trail);
        if (trail == l)
            return 1;
    }
}

/*
 * Reads the type and length of the block at buf[pos] and makes the whole block available.
 * Returns 1 (*type, *blen set), 0 clean end, or a negative code.
 */
static int ng_block(ww_source *s, uint32_t *type, size_t *blen, char errbuf[WW_ERRBUF_SIZE])
{
    int rc = need(s, 12, errbuf);
    if (rc != 1) {
        if (rc < 0)
            return rc;
        if (s->len == s->pos)
            return 0;
        s->dmg.damaged_blocks++;
        s->dmg.ended_early = true;
        errf(errbuf, "truncated pcapng block header at offset %llu (%zu bytes left)",
             (unsigned long long)s->off, s->len - s->pos);
        return WW_E_TRUNC;
    }
    ww_rd r = ww_rd_init(s->buf + s->pos, 12);
    uint32_t t = 0, l = 0;
    (void)rd_u32(&r, s->be, &t);
    if (t == NG_SHB) {
        /* the section's byte order decides how its length reads */
        uint32_t bom = 0;
        ww_rd b = ww_rd_init(s->buf + s->pos + 8, 4);
        (void)ww_rd_le32(&b, &bom);
        bool be = bom == 0x4d3c2b1au;
        r = ww_rd_init(s->buf + s->pos + 4, 4);
        (void)rd_u32(&r, be, &l);
    } else {
        (void)rd_u32(&r, s->be, &l);
    }
    if (l < 12 || (l & 3) != 0 || l > WW_SRC_MAX_BLOCK) {
        char d[200];
        uint64_t at = s->off;
        s->dmg.damaged_blocks++;
        rc = ng_resync(s, errbuf);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            snprintf(d, sizeof d,
                     "block length %u (type 0x%x) at offset %llu: %llu bytes skipped to the next "
                     "valid block at offset %llu",
                     l, t, (unsigned long long)at, (unsigned long long)(s->off - at),
                     (unsigned long long)s->off);
            s->dmg.bytes_unread += s->off - at;
            src_anomaly(s, "bad-block-length", d);
            return ng_block(s, type, blen, errbuf);
        }
        s->dmg.ended_early = true;
        s->dmg.bytes_unread += s->off - at;
        errf(errbuf,
             "pcapng: bad block length %u (type 0x%x) at offset %llu, and no valid block after "
             "it: the %llu bytes after it are not read",
             l, t, (unsigned long long)at, (unsigned long long)(s->off - at));
        return WW_E_INVALID;
    }
    rc = need(s, l, errbuf);
    if (rc != 1) {
        if (rc < 0)
            return rc;
        s->dmg.damaged_blocks++;
        s->dmg.ended_early = true;
        if (t == NG_EPB || t == NG_PB || t == NG_SPB)
            s->dmg.packets_lost++;
        errf(errbuf, "truncated pcapng block (type 0x%x) at offset %llu: %zu of %u bytes", t,
             (unsigned long long)s->off, s->len - s->pos, l);
        return WW_E_TRUNC;
    }
    *type = t;
    *blen = l;
    return 1;
}

/* The trailing length of a block must repeat the leading one (an SHB says its own byte order). */
static void check_trailer(ww_source *s, uint32_t type, const uint8_t *blk, size_t blen)
{
    ww_rd t = ww_rd_init(blk + blen - 4, 4);
    uint32_t trail = 0;
    bool be = s->be;
    if (type == NG_SHB) {
        ww_rd b = ww_rd_init(blk + 8, 4);
        uint32_t bom = 0;
        (void)ww_rd_le32(&b, &bom);
        be = bom == 0x4d3c2b1au;
    }
    (void)rd_u32(&t, be, &trail);
    if (trail != blen)
        damaged(s, "bad-block-trailer", "pcapng block trailer length differs");
}

/* An enhanced or (obsolete) packet block: 1 with *pkt filled, or 0 when the block is lost. */
static int ng_packet(ww_source *s, uint32_t type, ww_rd r, size_t blen, ww_pkt *pkt)
{
    uint32_t ifid = 0, hi = 0, lo = 0, cl = 0, ol = 0;
    uint16_t if16 = 0, drops = 0;
    ww_slice data;
    bool ok;
    if (type == NG_EPB)
        ok = rd_u32(&r, s->be, &ifid);
    else {
        ok = rd_u16(&r, s->be, &if16) && rd_u16(&r, s->be, &drops);
        ifid = if16;
    }
    ok = ok && rd_u32(&r, s->be, &hi) && rd_u32(&r, s->be, &lo) &&
         rd_u32(&r, s->be, &cl) && rd_u32(&r, s->be, &ol) && ww_rd_bytes(&r, &data, cl);
    if (!ok || ifid >= s->n_ifs) {
        char w[96];
        if (ok)
            snprintf(w, sizeof w, "packet block for interface %u of %zu declared", ifid,
                     s->n_ifs);
        packet_lost(s, "bad-packet-block",
                    ok ? w : "packet block shorter than its captured length");
        return 0;
    }
    const ng_iface *ifc = &s->ifs[ifid];
    pkt->ts_us = ng_ts_us(ifc, ((uint64_t)hi << 32) | lo);
    pkt->caplen = cl;
    pkt->len = ol < cl ? cl : ol;
    pkt->linktype = ifc->linktype;
    pkt->data = data.ptr;
    consume(s, blen);
    return 1;
}

/* A simple packet block (interface 0, no timestamp): 1 with *pkt filled, or 0 when lost. */
static int ng_simple(ww_source *s, ww_rd r, size_t blen, ww_pkt *pkt)
{
    uint32_t ol = 0;
    if (s->n_ifs == 0 || !rd_u32(&r, s->be, &ol)) {
        packet_lost(s, "bad-packet-block", "simple packet block without interface");
        return 0;
    }
    const ng_iface *ifc = &s->ifs[0];
    size_t cl = WW_MIN((size_t)ol, ww_rd_left(&r));
    if (ifc->snaplen != 0 && cl > ifc->snaplen)
        cl = ifc->snaplen;
    pkt->ts_us = 0;
    pkt->caplen = (uint32_t)cl;
    pkt->len = ol;
    pkt->linktype = ifc->linktype;
    pkt->data = r.p;
    consume(s, blen);
    return 1;
}

/* A decryption secrets block goes to the secrets callback. */
static void ng_dsb(ww_source *s, ww_rd r)
{
    uint32_t st = 0, sl = 0;
    ww_slice data;
    if (!rd_u32(&r, s->be, &st) || !rd_u32(&r, s->be, &sl) || !ww_rd_bytes(&r, &data, sl)) {
        damaged(s, "bad-dsb", "decryption secrets block shorter than its length");
        return;
    }
    if (s->secrets_fn != NULL)
        s->secrets_fn(s->secrets_ud, st, data.ptr, data.len);
}

static int pcapng_next(ww_source *s, ww_pkt *pkt, char errbuf[WW_ERRBUF_SIZE])
{
    for (;;) {
        uint32_t type = 0;
        size_t blen = 0;
        int rc = ng_block(s, &type, &blen, errbuf);
        if (rc != 1)
            return rc;
        const uint8_t *blk = s->buf + s->pos;
        ww_rd r = ww_rd_init(blk + 8, blen - 12); /* body */
        check_trailer(s, type, blk, blen);
        switch (type) {
        case NG_SHB:
            if (blen < 28) {
                errf(errbuf, "pcapng: section header block too short at offset %llu",
                     (unsigned long long)s->off);
                return WW_E_INVALID;
            }
            rc = ng_shb(s, blen, errbuf);
            if (rc != WW_OK)
                return rc;
            break;
        case NG_IDB:
            rc = ng_idb(s, r, errbuf);
            if (rc != WW_OK)
                return rc;
            break;
        case NG_EPB:
        case NG_PB:
            if (ng_packet(s, type, r, blen, pkt) == 1)
                return 1;
            break;
        case NG_SPB:
            if (ng_simple(s, r, blen, pkt) == 1)
                return 1;
            break;
        case NG_DSB:
            ng_dsb(s, r);
            break;
        default:
            break; /* NRB, ISB, custom... */
        }
        consume(s, blen);
    }
}

static uint64_t file_drops(const ww_source *s)
{
    return s->drops;
}

static void file_destroy(ww_source *s)
{
    if (s->z_init)
        inflateEnd(&s->z);
    if (s->close_fd && s->fd >= 0)
        close(s->fd);
    if (s->own_buf)
        ww_free(s->mem, s->buf);
    ww_free(s->mem, s->zin);
    ww_free(s->mem, s->ifs);
}

static const src_ops pcap_ops = {pcap_next_rec, file_drops, file_destroy};
static const src_ops pcapng_ops = {pcapng_next, file_drops, file_destroy};

/* ---- opening ---- */

/* Allocates the read buffers and peeks at the first raw bytes; sets up inflate on gzip. Plain
 * memory is read in place. */
static int open_input(ww_source *s, char errbuf[WW_ERRBUF_SIZE])
{
    if (s->fd < 0 && !(s->min_len >= 2 && s->min[0] == 0x1f && s->min[1] == 0x8b)) {
        /* plain memory: read in place, nothing to allocate or copy */
        s->buf = (uint8_t *)(uintptr_t)s->min;
        s->len = s->min_len;
        s->cap = s->min_len;
        s->min_pos = s->min_len;
        s->eof = true;
        return WW_OK;
    }
    s->zin = ww_malloc(s->mem, WW_SRC_ZIN_SIZE);
    if (s->zin == NULL) {
        errf(errbuf, "out of memory");
        return WW_E_NOMEM;
    }
    /* peek at the first raw bytes */
    size_t got = 0;
    while (got < 2) {
        ssize_t k = raw_read(s, s->zin + got, WW_SRC_ZIN_SIZE - got);
        if (k < 0) {
            errf(errbuf, "read error: %s", strerror(errno));
            return WW_E_IO;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    if (got >= 2 && s->zin[0] == 0x1f && s->zin[1] == 0x8b) {
        s->gz = true;
        s->file_size = 0; /* compressed: file offsets do not say how much is left */
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
            errf(errbuf, "zlib init failed");
            return WW_E_NOMEM;
        }
        s->z_init = true;
        s->z.next_in = s->zin;
        s->z.avail_in = (uInt)got;
    }
    s->own_buf = true;
    s->cap = WW_SRC_BUF_SIZE;
    s->buf = ww_malloc(s->mem, s->cap);
    if (s->buf == NULL) {
        errf(errbuf, "out of memory");
        return WW_E_NOMEM;
    }
    if (!s->gz) {
        memcpy(s->buf, s->zin, got);
        s->len = got;
    }
    return WW_OK;
}

/* After the SHB block type: checks the byte-order magic. */
static int start_pcapng(ww_source *s, char errbuf[WW_ERRBUF_SIZE])
{
    int rc;
    ww_rd r;
    s->fmt = FMT_PCAPNG;
    s->ops = &pcapng_ops;
    rc = need(s, 12, errbuf);
    if (rc < 0)
        return rc;
    r = ww_rd_init(s->buf + s->pos + 8, rc == 1 ? 4 : 0);
    uint32_t bom = 0;
    if (rc == 0 || !ww_rd_le32(&r, &bom) || (bom != NG_BOM && bom != 0x4d3c2b1au)) {
        errf(errbuf, "not a pcap or pcapng file (pcapng block type without byte-order "
                     "magic)");
        return WW_E_INVALID;
    }
    s->be = bom != NG_BOM;
    /* the first SHB is parsed by pcapng_next like any other */
    return WW_OK;
}

/* Classic pcap: the magic says byte order and time resolution, then the 24-byte header. */
static int start_pcap(ww_source *s, uint32_t magic, char errbuf[WW_ERRBUF_SIZE])
{
    int rc;
    ww_rd r;
    bool be;
    switch (magic) {
    case 0xa1b2c3d4u: be = false; s->nsec = false; s->hdr_len = 16; break;
    case 0xd4c3b2a1u: be = true; s->nsec = false; s->hdr_len = 16; break;
    case 0xa1b23c4du: be = false; s->nsec = true; s->hdr_len = 16; break;
    case 0x4d3cb2a1u: be = true; s->nsec = true; s->hdr_len = 16; break;
    case 0xa1b2cd34u: be = false; s->nsec = false; s->hdr_len = 24; break;
    case 0x34cdb2a1u: be = true; s->nsec = false; s->hdr_len = 24; break;
    default:
        errf(errbuf, "not a pcap or pcapng file (magic %02x %02x %02x %02x)", s->buf[s->pos],
             s->buf[s->pos + 1], s->buf[s->pos + 2], s->buf[s->pos + 3]);
        return WW_E_INVALID;
    }
    s->be = be;
    rc = need(s, 24, errbuf);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        errf(errbuf, "truncated pcap file header (%zu of 24 bytes)", s->len - s->pos);
        return WW_E_TRUNC;
    }
    r = ww_rd_init(s->buf + s->pos + 4, 20);
    uint16_t vmaj = 0, vmin = 0;
    uint32_t zone = 0, sig = 0, snap = 0, lt = 0;
    (void)rd_u16(&r, be, &vmaj);
    (void)rd_u16(&r, be, &vmin);
    (void)rd_u32(&r, be, &zone);
    (void)rd_u32(&r, be, &sig);
    (void)rd_u32(&r, be, &snap);
    (void)rd_u32(&r, be, &lt);
    if (vmaj != 2) {
        errf(errbuf, "unsupported pcap version %u.%u", vmaj, vmin);
        return WW_E_INVALID;
    }
    s->linktype = (int)(lt & 0xffff);
    s->snaplen = snap;
    s->fmt = FMT_PCAP;
    s->ops = &pcap_ops;
    consume(s, 24);
    return WW_OK;
}

/* Sets up input (gzip detection) and reads the file header. */
static int src_start(ww_source *s, char errbuf[WW_ERRBUF_SIZE])
{
    int rc = open_input(s, errbuf);
    if (rc != WW_OK)
        return rc;
    rc = need(s, 4, errbuf);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        errf(errbuf, "not a pcap or pcapng file (%s)",
             s->len == s->pos ? "empty input" : "too short");
        return WW_E_INVALID;
    }
    ww_rd r = ww_rd_init(s->buf + s->pos, 4);
    uint32_t magic = 0;
    (void)ww_rd_le32(&r, &magic);
    if (magic == NG_SHB)
        return start_pcapng(s, errbuf);
    return start_pcap(s, magic, errbuf);
}

static ww_source *src_alloc(void)
{
    const ww_mem *mem = ww_mem_default();
    ww_source *s = ww_calloc(mem, 1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->mem = mem;
    s->fd = -1;
    return s;
}

int ww_source_open_file(ww_source **out, const char *path, char errbuf[WW_ERRBUF_SIZE])
{
    WW_ASSERT(out != NULL && path != NULL);
    *out = NULL;
    ww_source *s = src_alloc();
    if (s == NULL) {
        errf(errbuf, "out of memory");
        return WW_E_NOMEM;
    }
    if (strcmp(path, "-") == 0) {
        s->fd = 0;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            errf(errbuf, "%s: %s", path, strerror(errno));
            ww_free(s->mem, s);
            return WW_E_IO;
        }
        s->close_fd = true;
#ifdef POSIX_FADV_SEQUENTIAL
        (void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    struct stat sb;
    if (fstat(s->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        s->file_size = (uint64_t)sb.st_size;
    } else {
        s->pollable = true;
        intr_pipe_init();
    }
    s->own_buf = true;
    int rc = src_start(s, errbuf);
    if (rc != WW_OK && src_intr && s->buf != NULL && s->len == s->pos) {
        /* interrupted before the first bytes came: an empty capture, not a bad one */
        s->ops = &pcap_ops;
        s->fmt = FMT_PCAP;
        s->hdr_len = 16;
        s->eof = true;
        rc = WW_OK;
    }
    if (rc != WW_OK) {
        file_destroy(s);
        ww_free(s->mem, s);
        return rc;
    }
    *out = s;
    return WW_OK;
}

ww_source *ww_source_new_impl(const ww_src_ops *ops, void *impl)
{
    WW_ASSERT(ops != NULL);
    ww_source *s = src_alloc();
    if (s == NULL)
        return NULL;
    s->ops = ops;
    s->impl = impl;
    return s;
}

void *ww_source_impl(const ww_source *s, const ww_src_ops *ops)
{
    return s != NULL && s->ops == ops ? s->impl : NULL;
}

int ww_source_open_mem(ww_source **out, const uint8_t *p, size_t n, char errbuf[WW_ERRBUF_SIZE])
{
    WW_ASSERT(out != NULL && (p != NULL || n == 0));
    static const uint8_t empty[1];
    *out = NULL;
    ww_source *s = src_alloc();
    if (s == NULL) {
        errf(errbuf, "out of memory");
        return WW_E_NOMEM;
    }
    s->min = p ? p : empty;
    s->min_len = n;
    s->own_buf = false;
    int rc = src_start(s, errbuf);
    if (rc != WW_OK) {
        file_destroy(s);
        ww_free(s->mem, s);
        return rc;
    }
    *out = s;
    return WW_OK;
}

void ww_source_set_secrets_fn(ww_source *s, ww_secrets_fn fn, void *ud)
{
    WW_ASSERT(s != NULL);
    s->secrets_fn = fn;
    s->secrets_ud = ud;
}

bool ww_source_may_carry_secrets(const ww_source *s)
{
    WW_ASSERT(s != NULL);
    return s->fmt == FMT_PCAPNG;
}

const ww_source_damage *ww_source_damage_get(const ww_source *s)
{
    WW_ASSERT(s != NULL);
    return &s->dmg;
}

void ww_source_set_anomaly_fn(ww_source *s, ww_anomaly_fn fn, void *ud)
{
    WW_ASSERT(s != NULL);
    s->anomaly_fn = fn;
    s->anomaly_ud = ud;
}

int ww_source_next(ww_source *s, ww_pkt *pkt, char errbuf[WW_ERRBUF_SIZE])
{
    WW_ASSERT(s != NULL && pkt != NULL);
    int rc = s->ops->next(s, pkt, errbuf);
    if (rc == 1 && pkt->ts_us != 0)
        s->last_ts = pkt->ts_us;
    return rc;
}

uint64_t ww_source_drops(const ww_source *s)
{
    WW_ASSERT(s != NULL);
    return s->ops->drops(s);
}

void ww_source_free(ww_source *s)
{
    if (s == NULL)
        return;
    s->ops->destroy(s);
    ww_free(s->mem, s);
}

void ww_source_progress(const ww_source *s, uint64_t *done, uint64_t *total)
{
    struct stat sb;
    *done = *total = 0;
    if (s->ops != &pcap_ops && s->ops != &pcapng_ops)
        return; /* not a file source */
    if (s->fd < 0) {
        *done = s->min_pos;
        *total = s->min_len;
        return;
    }
    if (fstat(s->fd, &sb) == 0 && S_ISREG(sb.st_mode))
        *total = (uint64_t)sb.st_size;
    *done = s->gz ? (uint64_t)s->z.total_in : s->off;
}
