/*
 * bench_h2.c - HTTP/2 decoder throughput: a connection of many streams, each a GET and a
 * 64 KiB response in 16 KiB DATA frames, fed in 1400-byte chunks (TCP segments).
 *   build/tools/bench_h2 [MB] [keep]
 * keep = 1: bodies kept (and hashed) as for served-candidate responses; 0: only counted.
 */
#include "decode/h2_int.h"

#include <time.h>

static uint64_t nmsg;

static bool want(void *ud, const ww_http_msg *m)
{
    (void)m;
    return *(bool *)ud;
}

static void msg(void *ud, const ww_http_msg *m, uint32_t sid, uint64_t ts)
{
    (void)ud;
    (void)m;
    (void)sid;
    (void)ts;
    nmsg++;
}

static size_t frame(uint8_t *o, uint8_t type, uint8_t flags, uint32_t sid, const uint8_t *p,
                    size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
                    (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
    memcpy(o, h, 9);
    if (n)
        memcpy(o + 9, p, n);
    return 9 + n;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 256;
    bool keep = argc > 2 && atoi(argv[2]) != 0;
    ww_app_cfg cfg = {.max_header_bytes = 65536, .max_body_bytes = 8 << 20,
                      .max_decoded_ratio = 100, .json_max_depth = 64, .hash_bodies = keep};
    ww_h2_cbs cbs = {&keep, want, msg, NULL, NULL, NULL, NULL, NULL};
    ww_h2 *h = ww_h2_new(NULL, &cfg, &cbs);
    static uint8_t resp[70000], data[16384];
    memset(data, 'a', sizeof data);
    ww_h2_data(h, WW_DIR_TOSERVER, (const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24, 0);
    size_t total = 0, target = mb << 20;
    uint32_t sid = 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (total < target) {
        uint8_t req[64];
        size_t rn = frame(req, 1, 5, sid, (const uint8_t *)"\x82\x84\x86", 3);
        ww_h2_data(h, WW_DIR_TOSERVER, req, rn, 0);
        size_t n = frame(resp, 1, 4, sid, (const uint8_t *)"\x88", 1);
        for (int i = 0; i < 4; i++)
            n += frame(resp + n, 0, i == 3 ? 1 : 0, sid, data, sizeof data);
        for (size_t o = 0; o < n; o += 1400)
            ww_h2_data(h, WW_DIR_TOCLIENT, resp + o, WW_MIN((size_t)1400, n - o), 0);
        total += n + rn;
        sid += 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("h2: %zu MB, %llu messages, %.3f s, %.0f MB/s (bodies %s)\n", total >> 20,
           (unsigned long long)nmsg, s, (double)total / 1048576.0 / s,
           keep ? "kept+hashed" : "counted only");
    ww_h2_free(h);
    return 0;
}
