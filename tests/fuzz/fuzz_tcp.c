/*
 * fuzz_tcp.c - libFuzzer target for TCP flows and reassembly on their own (capture/tcp.c),
 * without packet decoding: the input is a list of segments over up to 4 connections, with
 * small caps (3 flows, 4 KiB out of order per direction, 8 KiB in all) so eviction, the
 * out-of-order caps, gaps, wrap-around and timeouts are all reached.
 *
 * Input: records of  ctl(1) seq(2) ack(1) len(1) dt(1) payload(len, clamped)
 *   ctl bit 0-1: connection (4 of them, fixed addresses and ports); bit 2: direction
 *   (server -> client); bits 3-7: SYN, FIN, RST, ACK, PSH.
 *   seq: offset from a per-connection ISN near 2^32 (so sequence numbers wrap);
 *   dt: time step in 100 ms units.
 * Checks: callbacks come in order open < data/gap < close per flow, never after close; the
 * bytes a flow reports delivered equal what its data callbacks received; every flow is closed
 * by ww_tcp_finish.
 */
#include "capture/capture.h"

#include <stdlib.h>

#define MAXF 4096

typedef struct fstate {
    uint8_t st; /* 0 unseen, 1 open, 2 closed */
    uint64_t got[2];
} fstate;

static fstate fs[MAXF];
static uint64_t sum;

static fstate *F(const ww_flow *f)
{
    if (f->id == 0 || f->id >= MAXF)
        abort();
    return &fs[f->id];
}

static void t_open(void *ud, ww_flow *f, uint64_t ts)
{
    (void)ud;
    (void)ts;
    fstate *s = F(f);
    if (s->st != 0)
        abort();
    s->st = 1;
}

static void t_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    (void)ud;
    (void)ts;
    fstate *s = F(f);
    if (s->st != 1 || (dir != 0 && dir != 1) || n == 0)
        abort();
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    s->got[dir] += n;
    if (f->bytes[dir] != s->got[dir])
        abort();
}

static void t_gap(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts)
{
    (void)ud;
    (void)ts;
    fstate *s = F(f);
    if (s->st != 1 || (dir != 0 && dir != 1) || len == 0)
        abort();
}

static void t_close(void *ud, ww_flow *f, int reason, uint64_t ts)
{
    (void)ud;
    (void)ts;
    fstate *s = F(f);
    if (s->st != 1 || reason < WW_CLOSE_FIN || reason > WW_CLOSE_END)
        abort();
    if (f->bytes[0] != s->got[0] || f->bytes[1] != s->got[1])
        abort();
    s->st = 2;
}

static void t_anom(void *ud, uint64_t ts, const struct ww_flow *f, const char *layer,
                   const char *type, const char *detail)
{
    (void)ud;
    (void)ts;
    (void)f;
    sum += strlen(layer) + strlen(type) + strlen(detail);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(fs, 0, sizeof fs);
    ww_stream_cbs cbs = {NULL, t_open, t_data, t_gap, t_close, t_anom};
    ww_tcp_cfg cfg = {3, 4096, 8192, 2000000};
    ww_tcp *t = ww_tcp_new(NULL, &cfg, &cbs);
    if (t == NULL)
        return 0;
    static const uint32_t isn[4][2] = {{0xfffffff0u, 0x10u},
                                       {0x7fffffffu, 0xfffff000u},
                                       {0, 1},
                                       {0xffff0000u, 0x80000000u}};
    uint64_t now = 1000000;
    size_t i = 0;
    uint8_t pay[256];
    while (i + 6 <= size) {
        uint8_t ctl = data[i], len = data[i + 4], dt = data[i + 5];
        uint32_t off = (uint32_t)data[i + 1] << 8 | data[i + 2];
        uint32_t ackoff = (uint32_t)data[i + 3] << 4;
        i += 6;
        size_t n = WW_MIN((size_t)len, size - i);
        memcpy(pay, data + i, n); /* a copy: the decoder must not keep pointers into it */
        i += n;
        int c = ctl & 3, dir = (ctl >> 2) & 1;
        ww_seg s;
        memset(&s, 0, sizeof s);
        now += (uint64_t)dt * 100000;
        s.ts_us = now;
        ww_ip a = {4, {10, 0, 0, (uint8_t)(1 + c)}}, b = {4, {10, 0, 1, 1}};
        s.src = dir ? b : a;
        s.dst = dir ? a : b;
        s.sport = dir ? 443 : (uint16_t)(40000 + c);
        s.dport = dir ? (uint16_t)(40000 + c) : 443;
        s.seq = isn[c][dir] + off;
        s.ack = isn[c][1 - dir] + ackoff;
        s.flags = (uint8_t)(((ctl >> 3) & 1 ? 0x02 : 0) | ((ctl >> 4) & 1 ? 0x01 : 0) |
                            ((ctl >> 5) & 1 ? 0x04 : 0) | ((ctl >> 6) & 1 ? 0x10 : 0) |
                            ((ctl >> 7) & 1 ? 0x08 : 0));
        s.win = 65535;
        s.payload = pay;
        s.len = (uint32_t)n;
        s.wire_len = (uint32_t)n + (len > n ? (uint32_t)(len - n) : 0);
        ww_tcp_segment(t, &s);
        ww_tcp_tick(t, now);
    }
    ww_tcp_finish(t, now);
    for (size_t k = 1; k < MAXF; k++)
        if (fs[k].st == 1)
            abort(); /* opened and never closed */
    ww_tcp_free(t);
    return sum == 0xffffffffffffffffull ? 1 : 0;
}
