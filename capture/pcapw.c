/*
 * pcapw.c - classic pcap writer (microsecond timestamps, little-endian), for tests and tools.
 */
#include "capture/capture.h"

#include <errno.h>

struct ww_pcapw {
    FILE *f;
    uint32_t snaplen;
    bool err;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int ww_pcapw_open(ww_pcapw **out, const char *path, int linktype, uint32_t snaplen,
                  char errbuf[WW_ERRBUF_SIZE])
{
    WW_ASSERT(out != NULL && path != NULL);
    *out = NULL;
    ww_pcapw *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "out of memory");
        return WW_E_NOMEM;
    }
    w->f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (w->f == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        free(w);
        return WW_E_IO;
    }
    w->snaplen = snaplen ? snaplen : 262144;
    uint8_t h[24];
    put32(h, 0xa1b2c3d4u);
    h[4] = 2, h[5] = 0, h[6] = 4, h[7] = 0;
    put32(h + 8, 0);
    put32(h + 12, 0);
    put32(h + 16, w->snaplen);
    put32(h + 20, (uint32_t)linktype);
    if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h)) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: write error", path);
        if (w->f != stdout)
            fclose(w->f);
        free(w);
        return WW_E_IO;
    }
    *out = w;
    return WW_OK;
}

int ww_pcapw_write(ww_pcapw *w, uint64_t ts_us, const uint8_t *p, uint32_t caplen, uint32_t len)
{
    WW_ASSERT(w != NULL && (p != NULL || caplen == 0));
    uint8_t h[16];
    if (len < caplen)
        len = caplen;
    put32(h, (uint32_t)(ts_us / 1000000u));
    put32(h + 4, (uint32_t)(ts_us % 1000000u));
    put32(h + 8, caplen);
    put32(h + 12, len);
    if (fwrite(h, 1, 16, w->f) != 16 || (caplen && fwrite(p, 1, caplen, w->f) != caplen)) {
        w->err = true;
        return WW_E_IO;
    }
    return WW_OK;
}

int ww_pcapw_close(ww_pcapw *w)
{
    if (w == NULL)
        return WW_OK;
    int rc = w->err ? WW_E_IO : WW_OK;
    if (w->f == stdout) {
        if (fflush(w->f) != 0)
            rc = WW_E_IO;
    } else if (fclose(w->f) != 0) {
        rc = WW_E_IO;
    }
    free(w);
    return rc;
}
