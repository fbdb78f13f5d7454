/*
 * pcapngw.c - pcapng writer for evidence files (draft-ietf-opsawg-pcapng), little-endian.
 *
 *   SHB 0x0a0d0d0a  byte-order magic 1a2b3c4d, version 1.0, section length -1,
 *                   options shb_comment (1), shb_userappl (4)
 *   IDB 0x00000001  linktype, snaplen 262144 (default microsecond resolution), one per link type
 *   EPB 0x00000006  interface id, timestamp (us) high/low, captured and original length, data
 *   DSB 0x0000000a  secrets type, length, data (e.g. "TLSK": an NSS key log)
 *
 * Every block is  type | total length | body padded to 32 bits | total length.
 */
#include "capture/capture.h"

#include <errno.h>
#include <unistd.h>

#define NGW_MAX_IFACES 16
#define NGW_SNAPLEN 262144u

struct ww_pcapngw {
    FILE *f;
    bool err;
    int linktypes[NGW_MAX_IFACES];
    uint32_t n_ifaces;
};

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static size_t pad4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

static void put(ww_pcapngw *w, const void *p, size_t n)
{
    static const uint8_t zero[4];
    if (w->err || n == 0)
        return;
    if (fwrite(p != NULL ? p : zero, 1, n, w->f) != n)
        w->err = true;
}

/* One option: code, length, value padded. */
static void put_opt(ww_pcapngw *w, uint16_t code, const void *v, size_t n)
{
    uint8_t h[4];
    le16(h, code);
    le16(h + 2, (uint16_t)n);
    put(w, h, 4);
    put(w, v, n);
    put(w, NULL, pad4(n) - n);
}

static size_t opt_size(size_t n)
{
    return 4 + pad4(n);
}

int ww_pcapngw_open(ww_pcapngw **out, const char *path, const char *comment,
                    char errbuf[WW_ERRBUF_SIZE])
{
    WW_ASSERT(out != NULL && path != NULL);
    *out = NULL;
    ww_pcapngw *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "out of memory");
        return WW_E_NOMEM;
    }
    if (strcmp(path, "-") == 0) { /* standard output, as tcpdump -w - */
        int fd = dup(STDOUT_FILENO);
        w->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (fd >= 0 && w->f == NULL)
            close(fd);
    } else {
        w->f = fopen(path, "wb");
    }
    if (w->f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        free(w);
        return WW_E_IO;
    }
    const char *appl = "walletwatch " WW_VERSION;
    size_t clen = comment ? WW_MIN(strlen(comment), (size_t)60000) : 0;
    size_t alen = strlen(appl);
    size_t total = 28 + (clen ? opt_size(clen) : 0) + opt_size(alen) + 4 /* end */;
    uint8_t h[24];
    le32(h, 0x0a0d0d0au);
    le32(h + 4, (uint32_t)total);
    le32(h + 8, 0x1a2b3c4du);
    le16(h + 12, 1);
    le16(h + 14, 0);
    memset(h + 16, 0xff, 8); /* section length unknown */
    put(w, h, 24);
    if (clen)
        put_opt(w, 1, comment, clen);
    put_opt(w, 4, appl, alen);
    put_opt(w, 0, NULL, 0);
    le32(h, (uint32_t)total);
    put(w, h, 4);
    if (w->err || fflush(w->f) != 0) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: write error: %s", path, strerror(errno));
        fclose(w->f);
        free(w);
        return WW_E_IO;
    }
    *out = w;
    return WW_OK;
}

/* Interface id for a link type, writing its IDB the first time. -1 when over the cap. */
static int iface_for(ww_pcapngw *w, int linktype)
{
    for (uint32_t i = 0; i < w->n_ifaces; i++)
        if (w->linktypes[i] == linktype)
            return (int)i;
    if (w->n_ifaces == NGW_MAX_IFACES)
        return -1;
    uint8_t b[20];
    le32(b, 1);
    le32(b + 4, 20);
    le16(b + 8, (uint16_t)linktype);
    le16(b + 10, 0);
    le32(b + 12, NGW_SNAPLEN);
    le32(b + 16, 20);
    put(w, b, 20);
    w->linktypes[w->n_ifaces] = linktype;
    return (int)w->n_ifaces++;
}

int ww_pcapngw_packet(ww_pcapngw *w, int linktype, uint64_t ts_us, const uint8_t *p,
                      uint32_t caplen, uint32_t len)
{
    WW_ASSERT(w != NULL && (p != NULL || caplen == 0));
    int ifc = iface_for(w, linktype);
    if (ifc < 0)
        return WW_E_TOOBIG;
    if (len < caplen)
        len = caplen;
    size_t total = 32 + pad4(caplen);
    uint8_t h[28];
    le32(h, 6);
    le32(h + 4, (uint32_t)total);
    le32(h + 8, (uint32_t)ifc);
    le32(h + 12, (uint32_t)(ts_us >> 32));
    le32(h + 16, (uint32_t)ts_us);
    le32(h + 20, caplen);
    le32(h + 24, len);
    put(w, h, 28);
    put(w, p, caplen);
    put(w, NULL, pad4(caplen) - caplen);
    le32(h, (uint32_t)total);
    put(w, h, 4);
    return w->err ? WW_E_IO : WW_OK;
}

int ww_pcapngw_secrets(ww_pcapngw *w, uint32_t type, const uint8_t *p, size_t n)
{
    WW_ASSERT(w != NULL && (p != NULL || n == 0));
    if (n > 64u * 1024 * 1024)
        return WW_E_TOOBIG;
    size_t total = 20 + pad4(n);
    uint8_t h[16];
    le32(h, 0x0a);
    le32(h + 4, (uint32_t)total);
    le32(h + 8, type);
    le32(h + 12, (uint32_t)n);
    put(w, h, 16);
    put(w, p, n);
    put(w, NULL, pad4(n) - n);
    le32(h, (uint32_t)total);
    put(w, h, 4);
    return w->err ? WW_E_IO : WW_OK;
}

int ww_pcapngw_flush(ww_pcapngw *w)
{
    if (!w->err && fflush(w->f) != 0)
        w->err = true;
    return w->err ? WW_E_IO : WW_OK;
}

int ww_pcapngw_close(ww_pcapngw *w)
{
    if (w == NULL)
        return WW_OK;
    int rc = ww_pcapngw_flush(w);
    if (fclose(w->f) != 0)
        rc = WW_E_IO;
    free(w);
    return rc;
}
