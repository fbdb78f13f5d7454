/*
 * bench_inflate.c - content-coding throughput (make bench): a gzip-heavy body like the browsing
 * mix of issue 15 (JSON API responses with many addresses, gzip level 6) decoded through
 * decode/coding.c with ISA-L's igzip (the default when built with libisal) and with zlib
 * (WW_CODING_F_ZLIB), fed in 16 KiB pieces as TCP delivers it; also deflate, zstd and br for
 * reference. Prints decoded MB per CPU-second. Usage: bench_inflate [MB of plain text] [reps]
 */
#include <brotli/encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include "decode/coding_int.h"

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* CPU time: the machine is shared */
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rs = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* JSON records with EVM addresses, amounts and names: compresses ~4-5x at gzip -6, as API
 * responses do. */
static size_t make_json(uint8_t *p, size_t cap)
{
    static const char *names[] = {"transfer", "swap", "approve", "deposit", "withdraw", "mint"};
    size_t n = 0;
    n += (size_t)snprintf((char *)p, cap, "{\"items\":[");
    while (n + 256 < cap) {
        char addr[41];
        for (int i = 0; i < 40; i++)
            addr[i] = "0123456789abcdef"[rnd() & 15];
        addr[40] = 0;
        n += (size_t)snprintf((char *)p + n, cap - n,
                              "{\"id\":%llu,\"type\":\"%s\",\"to\":\"0x%s\",\"value\":\"%llu\","
                              "\"chainId\":1,\"status\":\"confirmed\"},",
                              (unsigned long long)(rnd() % 1000000), names[rnd() % 6], addr,
                              (unsigned long long)(rnd() % 100000000000ULL));
    }
    p[n++] = ']';
    p[n++] = '}';
    return n;
}

static uint8_t *zc(const uint8_t *in, size_t n, int wbits, size_t *out_n)
{
    z_stream z = {0};
    deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&z, (uLong)n);
    uint8_t *o = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = o;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    return o;
}

static int null_sink(void *ud, const uint8_t *p, size_t n)
{
    *(size_t *)ud += n + (p[0] & 0); /* touch the output */
    return WW_OK;
}

static void run(const char *name, uint8_t kind, unsigned flags, const uint8_t *e, size_t en,
                size_t plain_n, int reps)
{
    size_t got = 0;
    double t0 = cpu_s();
    for (int r = 0; r < reps; r++) {
        ww_coding *c = ww_coding_new2(NULL, &kind, 1, plain_n + 1, 0, flags);
        for (size_t off = 0; off < en; off += 16384) {
            size_t k = en - off < 16384 ? en - off : 16384;
            if (ww_coding_feed(c, e + off, k, null_sink, &got) != WW_OK) {
                fprintf(stderr, "%s: decode error\n", name);
                exit(1);
            }
        }
        if (ww_coding_finish(c) != WW_OK) {
            fprintf(stderr, "%s: incomplete\n", name);
            exit(1);
        }
        ww_coding_free(c);
    }
    double dt = cpu_s() - t0;
    if (got != plain_n * (size_t)reps) {
        fprintf(stderr, "%s: %zu bytes decoded, want %zu\n", name, got, plain_n * (size_t)reps);
        exit(1);
    }
    printf("  %-22s %8.1f MB/s decoded per CPU-second  (%zu -> %zu bytes, %d reps, %.2f s)\n", name,
           (double)got / 1e6 / dt, en, plain_n, reps, dt);
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 32;
    int reps = argc > 2 ? atoi(argv[2]) : 4;
    size_t cap = mb << 20;
    uint8_t *plain = malloc(cap);
    size_t n = make_json(plain, cap);
    size_t gn, dn, zn, bn = BrotliEncoderMaxCompressedSize(n);
    uint8_t *g = zc(plain, n, 31, &gn);
    uint8_t *d = zc(plain, n, 15, &dn);
    uint8_t *z = malloc(ZSTD_compressBound(n));
    zn = ZSTD_compress(z, ZSTD_compressBound(n), plain, n, 3);
    uint8_t *b = malloc(bn);
    BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, n, plain, &bn, b);
    printf("content codings on %.1f MB of JSON with addresses (gzip -6: %.1f MB):\n", n / 1e6,
           gn / 1e6);
    if (ww_coding_have_isal()) {
        run("gzip   ISA-L igzip", WW_CODING_GZIP, 0, g, gn, n, reps);
        run("deflate ISA-L igzip", WW_CODING_DEFLATE, 0, d, dn, n, reps);
    } else {
        printf("  (built without libisal: ISA-L not measured)\n");
    }
    run("gzip   zlib", WW_CODING_GZIP, WW_CODING_F_ZLIB, g, gn, n, reps);
    run("deflate zlib", WW_CODING_DEFLATE, WW_CODING_F_ZLIB, d, dn, n, reps);
    run("zstd   libzstd", WW_CODING_ZSTD, 0, z, zn, n, reps);
    run("br     libbrotlidec", WW_CODING_BR, 0, b, bn, n, reps);
    free(plain);
    free(g);
    free(d);
    free(z);
    free(b);
    return 0;
}
