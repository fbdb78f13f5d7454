/*
 * ws.c - WebSocket (RFC 6455) frames and messages, permessage-deflate (RFC 7692) through zlib
 * raw inflate. See ws_int.h for the frame layout and the contract.
 */
#include "decode/anom_int.h"
#include "decode/ws_int.h"
#include "decode/coding_int.h"

#include <stdarg.h>
#include <strings.h>
#include <zlib.h>

#define WS_CHUNK 4096

typedef struct ws_dir {
    int dir;
    bool dead;
    uint8_t hdr[14];
    size_t hlen, hneed;
    bool in_frame;
    bool fin, rsv1, masked;
    uint8_t opcode;
    uint8_t mask[4];
    uint64_t left;       /* payload bytes of the current frame still to come */
    uint64_t mask_off;
    /* the data message being reassembled */
    bool in_msg;
    int msg_opcode;
    bool msg_compressed, msg_truncated, msg_stopped;
    uint64_t msg_in;     /* compressed bytes fed */
    ww_buf msg;
    z_stream z;
    bool z_init;
    bool z_desync;       /* context lost (a message not inflated whole): compressed data is
                            undecodable until the sender resets (no_context_takeover) */
} ws_dir;

struct ww_ws {
    const ww_mem *mem;
    ww_ws_pmd pmd;
    size_t max_message, ratio;
    ww_ws_cbs cbs;
    ww_ws_stats st;
    ws_dir d[2];
};

/* an anomaly of this session, counted (detail printf-formatted) */
#define anom(w, type, ...)                                                                         \
    ww_anomf((w)->cbs.anomaly, (w)->cbs.ud, &(w)->st.anomalies, 256, (type), __VA_ARGS__)

static const char *dname(int dir)
{
    return dir == WW_DIR_TOSERVER ? "client" : "server";
}

/* ---- Sec-WebSocket-Extensions ---- */

static bool tok_eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

int ww_ws_parse_extensions(ww_ws_pmd *out, const char *s, size_t n)
{
    memset(out, 0, sizeof(*out));
    out->max_window_bits[0] = out->max_window_bits[1] = 15;
    size_t i = 0;
    while (i <= n) {
        /* one extension: up to ',' */
        size_t e = i;
        while (e < n && s[e] != ',')
            e++;
        const char *ext = s + i;
        size_t en = e - i;
        size_t k = 0;
        while (k < en && ext[k] != ';')
            k++;
        const char *name = ext;
        size_t nn = k;
        trim(&name, &nn);
        if (tok_eq(name, nn, "permessage-deflate") && !out->enabled) {
            ww_ws_pmd p;
            memset(&p, 0, sizeof p);
            p.enabled = true;
            p.max_window_bits[0] = p.max_window_bits[1] = 15;
            while (k < en) {
                size_t a = k + 1, b = a;
                while (b < en && ext[b] != ';')
                    b++;
                const char *prm = ext + a;
                size_t pn = b - a;
                trim(&prm, &pn);
                size_t eq = 0;
                while (eq < pn && prm[eq] != '=')
                    eq++;
                const char *pname = prm, *val = prm + eq;
                size_t pnl = eq, vl = 0;
                trim(&pname, &pnl);
                if (eq < pn) {
                    val = prm + eq + 1;
                    vl = pn - eq - 1;
                    trim(&val, &vl);
                    if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
                        val++;
                        vl -= 2;
                    }
                }
                int side = -1;
                if (tok_eq(pname, pnl, "client_no_context_takeover"))
                    p.no_context_takeover[WW_DIR_TOSERVER] = true;
                else if (tok_eq(pname, pnl, "server_no_context_takeover"))
                    p.no_context_takeover[WW_DIR_TOCLIENT] = true;
                else if (tok_eq(pname, pnl, "client_max_window_bits"))
                    side = WW_DIR_TOSERVER;
                else if (tok_eq(pname, pnl, "server_max_window_bits"))
                    side = WW_DIR_TOCLIENT;
                else if (pnl > 0)
                    return WW_E_INVALID;
                if (side >= 0 && vl > 0) {
                    int v = 0;
                    for (size_t j = 0; j < vl && j < 3; j++) {
                        if (val[j] < '0' || val[j] > '9')
                            return WW_E_INVALID;
                        v = v * 10 + (val[j] - '0');
                    }
                    if (vl > 2 || v < 8 || v > 15)
                        return WW_E_INVALID;
                    p.max_window_bits[side] = v;
                }
                k = b;
            }
            *out = p;
        }
        i = e + 1;
    }
    return WW_OK;
}

/* ---- messages ---- */

static void msg_reset(ws_dir *d)
{
    d->in_msg = d->msg_compressed = d->msg_truncated = d->msg_stopped = false;
    d->msg_in = 0;
    ww_buf_reset(&d->msg);
    if (d->msg.alloc > 256 * 1024)
        ww_buf_free(&d->msg);
}

/* The message cannot be decoded further; with context takeover, the context is lost. */
static void msg_stop(ww_ws *w, ws_dir *d, const char *type, const char *why)
{
    if (d->msg_stopped)
        return;
    d->msg_stopped = d->msg_truncated = true;
    anom(w, type, "%s message: %s", dname(d->dir), why);
    if (d->msg_compressed && !w->pmd.no_context_takeover[d->dir])
        d->z_desync = true;
}

/* The inflater of a direction lives as long as the connection (RFC 7692 context takeover:
 * the window carries over from message to message) and is reset, not remade, where the
 * context is not taken over. */
static void inflate_some(ww_ws *w, ws_dir *d, const uint8_t *p, size_t n)
{
    uint8_t out[16384];
    if (!d->z_init) {
        memset(&d->z, 0, sizeof d->z);
        d->z.zalloc = ww_zalloc; /* the state and the 32 KiB window through ww_mem */
        d->z.zfree = ww_zfree;
        d->z.opaque = (voidpf)w->mem;
        if (inflateInit2(&d->z, -15) != Z_OK) {
            msg_stop(w, d, "out-of-memory", "no inflater");
            return;
        }
        d->z_init = true;
    }
    d->msg_in += n;
    d->z.next_in = (Bytef *)(uintptr_t)p;
    d->z.avail_in = (uInt)n;
    while (!d->msg_stopped) {
        d->z.next_out = out;
        d->z.avail_out = sizeof out;
        int r = inflate(&d->z, Z_SYNC_FLUSH);
        size_t got = sizeof out - d->z.avail_out;
        if (r != Z_OK && r != Z_STREAM_END && !(r == Z_BUF_ERROR && got == 0)) {
            msg_stop(w, d, "ws-bad-deflate", d->z.msg ? d->z.msg : "corrupt deflate data");
            d->z_desync = true;
            return;
        }
        if (got > 0) {
            uint64_t limit = d->msg_in <= (UINT64_MAX - WW_CODING_SLACK) / w->ratio
                                 ? d->msg_in * w->ratio + WW_CODING_SLACK
                                 : UINT64_MAX;
            if (d->msg.len + got > w->max_message || d->msg.len + got > limit) {
                size_t room = w->max_message > d->msg.len ? w->max_message - d->msg.len : 0;
                /* keep the capped prefix; an OOM here only makes it shorter */
                int r2 = ww_buf_append(&d->msg, out, WW_MIN(room, got));
                (void)r2;
                msg_stop(w, d, "ws-decompression-cap",
                         "inflated size over the cap (deflate bomb?): truncated");
                return;
            }
            if (ww_buf_append(&d->msg, out, got) != WW_OK) {
                msg_stop(w, d, "out-of-memory", "message buffer");
                return;
            }
        }
        if (r == Z_STREAM_END) {
            /* a final block: the sender starts a fresh stream next time */
            inflateReset(&d->z);
            if (d->z.avail_in == 0)
                return;
            continue;
        }
        if (d->z.avail_in == 0 && d->z.avail_out != 0)
            return;
    }
}

static void msg_bytes(ww_ws *w, ws_dir *d, const uint8_t *p, size_t n)
{
    if (d->msg_stopped || n == 0)
        return;
    if (d->msg_compressed) {
        inflate_some(w, d, p, n);
        return;
    }
    size_t room = w->max_message - d->msg.len;
    if (n > room) {
        int r2 = ww_buf_append(&d->msg, p, room); /* the capped prefix */
        (void)r2;
        msg_stop(w, d, "ws-message-too-big", "over the message cap: truncated");
        return;
    }
    if (ww_buf_append(&d->msg, p, n) != WW_OK)
        msg_stop(w, d, "out-of-memory", "message buffer");
}

static void msg_end(ww_ws *w, ws_dir *d, uint64_t ts)
{
    static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};
    if (d->msg_compressed && !d->msg_stopped)
        inflate_some(w, d, tail, sizeof tail);
    if (d->msg_compressed && w->pmd.no_context_takeover[d->dir] && d->z_init) {
        inflateReset(&d->z);
        d->z_desync = false;
    }
    w->st.messages++;
    if (w->cbs.message != NULL)
        w->cbs.message(w->cbs.ud, d->dir, d->msg_opcode, d->msg.data, d->msg.len,
                       d->msg_truncated, ts);
    msg_reset(d);
}

/* ---- frames ---- */

static void kill_dir(ww_ws *w, ws_dir *d, const char *type, const char *why)
{
    if (d->dead)
        return;
    d->dead = true;
    anom(w, type, "%s: %s; direction abandoned", dname(d->dir), why);
}

/* The header is complete: start the frame. Returns false when the direction died. */
/* Reads a complete frame header into d (first byte into *b0, payload length into *lenp); false
 * when the length is impossible (both directions are then abandoned). */
static bool read_frame_header(ww_ws *w, ws_dir *d, uint8_t *b0, uint64_t *lenp)
{
    ww_rd r = ww_rd_init(d->hdr, d->hlen);
    uint8_t b1 = 0;
    *b0 = 0;
    (void)ww_rd_u8(&r, b0);
    (void)ww_rd_u8(&r, &b1);
    d->fin = (*b0 & 0x80) != 0;
    d->rsv1 = (*b0 & 0x40) != 0;
    d->opcode = *b0 & 0x0f;
    d->masked = (b1 & 0x80) != 0;
    uint64_t len = b1 & 0x7f;
    if (len == 126) {
        uint16_t v = 0;
        (void)ww_rd_be16(&r, &v);
        len = v;
    } else if (len == 127) {
        (void)ww_rd_be64(&r, &len);
        if (len >> 63) {
            anom(w, "ws-bad-length", "%s frame claims %llu bytes (top bit set); connection abandoned",
                 dname(d->dir), (unsigned long long)len);
            w->d[0].dead = w->d[1].dead = true;
            return false;
        }
    }
    if (len > WW_WS_MAX_FRAME) {
        anom(w, "ws-bad-length", "%s frame claims %llu bytes; connection abandoned", dname(d->dir),
             (unsigned long long)len);
        w->d[0].dead = w->d[1].dead = true;
        return false;
    }
    if (d->masked)
        (void)ww_rd_copy(&r, d->mask, 4);
    *lenp = len;
    d->left = len;
    d->mask_off = 0;
    d->in_frame = true;
    w->st.frames++;
    return true;
}

/* The first frame of a text or binary message (a pending message is dropped). */
static void start_message(ww_ws *w, ws_dir *d)
{
    if (d->in_msg) {
        anom(w, "ws-bad-frame", "%s new message before the previous one ended: it is dropped",
             dname(d->dir));
        msg_reset(d);
    }
    d->in_msg = true;
    d->msg_opcode = d->opcode;
    if (d->rsv1) {
        if (!w->pmd.enabled) {
            anom(w, "ws-unnegotiated-deflate",
                 "%s compressed message without a negotiated permessage-deflate: inflating anyway",
                 dname(d->dir));
            w->pmd.enabled = true;
            w->pmd.max_window_bits[0] = w->pmd.max_window_bits[1] = 15;
        }
        d->msg_compressed = true;
        w->st.compressed++;
        if (d->z_desync) {
            d->msg_stopped = d->msg_truncated = true;
            anom(w, "ws-deflate-desync",
                 "%s compressed message after a lost context: not decodable", dname(d->dir));
        }
    }
}

static bool frame_start(ww_ws *w, ws_dir *d)
{
    uint8_t b0;
    uint64_t len;
    if (!read_frame_header(w, d, &b0, &len))
        return false;
    if ((b0 & 0x30) != 0) {
        kill_dir(w, d, "ws-bad-frame", "RSV2/RSV3 set (no extension defines them)");
        return false;
    }
    if (d->opcode >= 8) {
        if (!d->fin || len > 125 || d->rsv1 || d->opcode > WW_WS_PONG) {
            kill_dir(w, d, "ws-bad-frame", "malformed control frame");
            return false;
        }
        w->st.control++;
        return true;
    }
    if (d->opcode == WW_WS_CONT) {
        if (!d->in_msg) {
            kill_dir(w, d, "ws-bad-frame", "continuation frame without a message");
            return false;
        }
        if (d->rsv1) {
            kill_dir(w, d, "ws-bad-frame", "RSV1 on a continuation frame");
            return false;
        }
        return true;
    }
    if (d->opcode != WW_WS_TEXT && d->opcode != WW_WS_BINARY) {
        kill_dir(w, d, "ws-bad-frame", "reserved opcode");
        return false;
    }
    start_message(w, d);
    return true;
}

static void frame_end(ww_ws *w, ws_dir *d, uint64_t ts)
{
    d->in_frame = false;
    d->hlen = 0;
    d->hneed = 2;
    if (d->opcode < 8 && d->fin)
        msg_end(w, d, ts);
}

static void frame_payload(ww_ws *w, ws_dir *d, const uint8_t *p, size_t n)
{
    if (d->opcode >= 8)
        return; /* ping/pong/close: nothing we need */
    if (d->msg_stopped) {
        w->st.bytes_skipped += n;
        return;
    }
    if (!d->masked) {
        msg_bytes(w, d, p, n);
        return;
    }
    uint8_t tmp[WS_CHUNK];
    while (n > 0) {
        size_t k = WW_MIN(n, sizeof tmp);
        for (size_t i = 0; i < k; i++)
            tmp[i] = p[i] ^ d->mask[(d->mask_off + i) & 3];
        d->mask_off += k;
        msg_bytes(w, d, tmp, k);
        p += k;
        n -= k;
    }
}

void ww_ws_data(ww_ws *w, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    WW_ASSERT(dir == 0 || dir == 1);
    ws_dir *d = &w->d[dir];
    while (n > 0 && !d->dead) {
        if (!d->in_frame) {
            size_t k = WW_MIN(n, d->hneed - d->hlen);
            memcpy(d->hdr + d->hlen, p, k);
            d->hlen += k;
            p += k;
            n -= k;
            if (d->hlen < d->hneed)
                return;
            if (d->hlen == 2) {
                uint8_t l7 = d->hdr[1] & 0x7f;
                d->hneed = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((d->hdr[1] & 0x80) ? 4 : 0);
                if (d->hlen < d->hneed)
                    continue;
            }
            if (!frame_start(w, d))
                return;
            if (d->left == 0)
                frame_end(w, d, ts_us);
            continue;
        }
        size_t k = d->left < n ? (size_t)d->left : n;
        frame_payload(w, d, p, k);
        d->left -= k;
        p += k;
        n -= k;
        if (d->left == 0)
            frame_end(w, d, ts_us);
    }
}

ww_ws *ww_ws_new(const ww_mem *mem, const ww_ws_pmd *pmd, size_t max_message, size_t ratio,
                 const ww_ws_cbs *cbs)
{
    ww_ws *w = ww_calloc(mem, 1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->mem = mem;
    if (pmd != NULL)
        w->pmd = *pmd;
    w->max_message = max_message ? max_message : (size_t)1 << 20;
    w->ratio = ratio ? ratio : 100;
    w->cbs = *cbs;
    for (int k = 0; k < 2; k++) {
        w->d[k].dir = k;
        w->d[k].hneed = 2;
        ww_buf_init(&w->d[k].msg, mem, w->max_message);
    }
    return w;
}

void ww_ws_gap(ww_ws *w, int dir, uint64_t len)
{
    char why[64];
    snprintf(why, sizeof why, "%llu bytes missing", (unsigned long long)len);
    kill_dir(w, &w->d[dir], "ws-gap", why);
}

bool ww_ws_dead(const ww_ws *w, int dir)
{
    return w->d[dir].dead;
}

const ww_ws_stats *ww_ws_stats_get(const ww_ws *w)
{
    return &w->st;
}

void ww_ws_free(ww_ws *w)
{
    if (w == NULL)
        return;
    for (int k = 0; k < 2; k++) {
        ww_buf_free(&w->d[k].msg);
        if (w->d[k].z_init)
            inflateEnd(&w->d[k].z);
    }
    ww_free(w->mem, w);
}
