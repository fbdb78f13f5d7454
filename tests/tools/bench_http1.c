/*
 * bench_http1.c - HTTP/1 parser throughput: a synthetic keep-alive connection fed in
 * 1448-byte segments (a TCP MSS), bodies skipped or kept, large and small messages.
 * Usage: build/tools/bench_http1 [MB]   (default 512 MB of traffic per run)
 */
#include "decode/http1_int.h"

#include <time.h>

static uint64_t n_msgs;
static bool keep;

static bool b_want(void *ud, const ww_http_msg *m)
{
    (void)ud;
    (void)m;
    return keep;
}

static void b_msg(void *ud, const ww_http_msg *m, uint64_t ts)
{
    (void)ud;
    (void)m;
    (void)ts;
    n_msgs++;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request + response pair with a body of body_n bytes (chunked when chunked). */
static size_t make_pair(uint8_t *out, size_t cap, size_t body_n, bool chunked, size_t *req_n)
{
    int k = snprintf((char *)out, cap,
                     "GET /api/v1/items?id=12345&page=2 HTTP/1.1\r\nHost: api.example.com\r\n"
                     "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\n"
                     "Accept: application/json\r\nAccept-Language: en-US,en;q=0.5\r\n"
                     "Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\n"
                     "Cookie: session=0123456789abcdef0123456789abcdef\r\n\r\n");
    *req_n = (size_t)k;
    size_t o = (size_t)k;
    if (chunked) {
        o += (size_t)snprintf((char *)out + o, cap - o,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: chunked\r\nServer: nginx\r\n\r\n");
        size_t left = body_n;
        while (left > 0) {
            size_t c = left < 8192 ? left : 8192;
            o += (size_t)snprintf((char *)out + o, cap - o, "%zx\r\n", c);
            memset(out + o, 'a', c);
            o += c;
            memcpy(out + o, "\r\n", 2);
            o += 2;
            left -= c;
        }
        memcpy(out + o, "0\r\n\r\n", 5);
        o += 5;
    } else {
        o += (size_t)snprintf((char *)out + o, cap - o,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\nServer: nginx\r\n\r\n",
                              body_n);
        memset(out + o, 'a', body_n);
        o += body_n;
    }
    return o;
}

static void run(const char *name, size_t body_n, bool chunked, bool kp, size_t total_mb)
{
    static uint8_t pair[1 << 21];
    size_t req_n;
    size_t n = make_pair(pair, sizeof pair, body_n, chunked, &req_n);
    size_t reps = (total_mb << 20) / n + 1;
    keep = kp;
    n_msgs = 0;
    ww_h1_cbs cbs = {NULL, b_want, b_msg, NULL, NULL, NULL, NULL};
    ww_h1 *h = ww_h1_new(NULL, NULL, &cbs);
    double t0 = now();
    for (size_t r = 0; r < reps; r++) {
        ww_h1_data(h, WW_DIR_TOSERVER, pair, req_n, 1);
        for (size_t o = req_n; o < n; o += 1448)
            ww_h1_data(h, WW_DIR_TOCLIENT, pair + o, WW_MIN((size_t)1448, n - o), 1);
    }
    double dt = now() - t0;
    double mb = (double)(reps * n) / 1e6;
    printf("%-34s %9.0f MB/s %10.0f msgs/s  (%llu msgs, %llu anomalies)\n", name, mb / dt,
           (double)n_msgs / dt, (unsigned long long)n_msgs,
           (unsigned long long)ww_h1_stats_get(h)->anomalies);
    ww_h1_free(h);
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 512;
    run("64 KiB bodies, Content-Length, skip", 65536, false, false, mb);
    run("64 KiB bodies, chunked 8K, skip", 65536, true, false, mb);
    run("64 KiB bodies, Content-Length, keep", 65536, false, true, mb);
    run("1 KiB bodies, skip (header-bound)", 1024, false, false, mb / 4);
    run("no bodies, skip (header-bound)", 0, false, false, mb / 8);
    return 0;
}
