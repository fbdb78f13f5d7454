/* test_pool.c - util/mem_pool: size classes, reuse of freed blocks, the idle bound, realloc and
 * calloc, blocks outside the classes, frees from another thread; decoders through the pool. */
#include "decode/coding_int.h"
#include "tests/t.h"
#include "util/mem_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <zlib.h>

/* The classes: (4 + i % 4) << (10 + i / 4) bytes with the 16-byte header, the smallest that
 * fits, for every size in the pooled range (checked against that definition). */
T_CASE(pool_classes)
{
    T_EQ_INT(ww_pool_class_size(0), 0);
    T_EQ_INT(ww_pool_class_size(WW_POOL_MIN - 16), 0); /* small: the C library */
    T_EQ_INT(ww_pool_class_size(WW_POOL_MIN - 15), 5120 - 16);
    T_EQ_INT(ww_pool_class_size(WW_POOL_MAX - 16), WW_POOL_MAX - 16);
    T_EQ_INT(ww_pool_class_size(WW_POOL_MAX - 15), 0); /* huge: the C library */
    T_EQ_INT(ww_pool_class_size(SIZE_MAX), 0);
    unsigned i = 1;
    size_t bad = 0;
    for (size_t n = WW_POOL_MIN - 15; n <= WW_POOL_MAX - 16; n += (n < (1u << 20) ? 1 : 61)) {
        while (((size_t)(4 + (i & 3)) << (10 + (i >> 2))) < n + 16)
            i++;
        size_t want = ((size_t)(4 + (i & 3)) << (10 + (i >> 2))) - 16;
        if (ww_pool_class_size(n) != want && bad++ < 5)
            t_fail_msg(__FILE__, __LINE__, "  n %zu: class %zu, want %zu", n,
                       ww_pool_class_size(n), want);
    }
    T_EQ_INT(bad, 0);
    /* at most 25% more than asked (plus the header) */
    for (size_t n = WW_POOL_MIN; n < WW_POOL_MAX - 16; n = n * 9 / 8)
        T_CHECK(ww_pool_class_size(n) + 16 <= (n + 16) + (n + 16) / 4);
}

T_CASE(pool_reuse_and_bound)
{
    ww_pool *p = ww_pool_new(256 * 1024);
    T_CHECK(p != NULL);
    const ww_mem *m = ww_pool_mem(p);
    ww_pool_stats st;
    uint8_t *a = ww_malloc(m, 100000);
    T_CHECK(a != NULL && ((uintptr_t)a & 15) == 0);
    memset(a, 0xab, 100000);
    ww_free(m, a);
    ww_pool_get_stats(p, &st);
    T_EQ_INT(st.idle_blocks, 1);
    T_EQ_INT(st.idle_bytes, ww_pool_class_size(100000) + 16);
    /* the same class comes back: the same block, no new memory */
    uint8_t *b = ww_malloc(m, 110000);
    T_CHECK(b == a);
    ww_pool_get_stats(p, &st);
    T_EQ_INT(st.idle_blocks, 0);
    T_EQ_INT(st.allocs, 2);
    T_EQ_INT(st.reused, 1);
    /* calloc on a reused block zeroes it */
    ww_free(m, b);
    uint8_t *z = ww_calloc(m, 1100, 100);
    T_CHECK(z == a);
    size_t nz = 0;
    for (size_t k = 0; k < 110000; k++)
        nz += z[k] != 0;
    T_EQ_INT(nz, 0);
    ww_free(m, z);
    /* the bound: at most 256 KiB idle; frees beyond go back to the C library */
    void *v[8];
    for (int k = 0; k < 8; k++)
        v[k] = ww_malloc(m, 60000);
    for (int k = 0; k < 8; k++)
        ww_free(m, v[k]);
    ww_pool_get_stats(p, &st);
    T_CHECK(st.idle_bytes <= 256 * 1024);
    T_CHECK(st.released >= 1);
    T_EQ_INT(st.idle_max, 256 * 1024);
    ww_pool_trim(p);
    ww_pool_get_stats(p, &st);
    T_EQ_INT(st.idle_bytes, 0);
    T_EQ_INT(st.idle_blocks, 0);
    /* overflowing calloc */
    T_CHECK(ww_calloc(m, SIZE_MAX / 2, 4) == NULL);
    ww_pool_free(p);
}

T_CASE(pool_realloc)
{
    ww_pool *p = ww_pool_new(1 << 20);
    const ww_mem *m = ww_pool_mem(p);
    /* grows from small (C library) through several classes; the content follows */
    uint8_t *d = NULL;
    size_t len = 0;
    for (size_t sz = 100; sz < (3u << 20); sz = sz * 3 / 2) {
        uint8_t *nd = ww_realloc(m, d, sz);
        T_CHECK(nd != NULL);
        d = nd;
        for (size_t k = len; k < sz; k++)
            d[k] = (uint8_t)(k * 7);
        len = sz;
    }
    size_t bad = 0;
    for (size_t k = 0; k < len; k++)
        bad += d[k] != (uint8_t)(k * 7);
    T_EQ_INT(bad, 0);
    /* shrinking within the class keeps the block */
    uint8_t *s = ww_realloc(m, d, len - 10);
    T_CHECK(s == d);
    /* down to a small size: content kept */
    s = ww_realloc(m, s, 1000);
    T_CHECK(s != NULL && s[999] == (uint8_t)(999 * 7));
    /* huge (over WW_POOL_MAX) and back */
    s = ww_realloc(m, s, WW_POOL_MAX + 1);
    T_CHECK(s != NULL && s[999] == (uint8_t)(999 * 7));
    s[WW_POOL_MAX] = 1;
    s = ww_realloc(m, s, WW_POOL_MAX + 4096);
    T_CHECK(s != NULL && s[WW_POOL_MAX] == 1 && s[0] == 0);
    s = ww_realloc(m, s, 50000);
    T_CHECK(s != NULL && s[999] == (uint8_t)(999 * 7));
    T_CHECK(ww_realloc(m, s, 0) == NULL); /* frees */
    ww_pool_free(p);
}

typedef struct {
    const ww_mem *m;
    void *blocks[64];
} thr_arg;

static void *thr_free(void *ud)
{
    thr_arg *a = ud;
    for (int k = 0; k < 64; k++)
        ww_free(a->m, a->blocks[k]);
    for (int k = 0; k < 64; k++)
        a->blocks[k] = ww_malloc(a->m, 8192 + (size_t)k * 1000);
    return NULL;
}

/* Blocks got on one thread may be freed on another (a worker's decoders freed at teardown). */
T_CASE(pool_threads)
{
    ww_pool *p = ww_pool_new(4 << 20);
    thr_arg a[2];
    pthread_t th[2];
    for (int t = 0; t < 2; t++) {
        a[t].m = ww_pool_mem(p);
        for (int k = 0; k < 64; k++)
            a[t].blocks[k] = ww_malloc(a[t].m, 5000 + (size_t)k * 3000);
    }
    for (int t = 0; t < 2; t++)
        T_CHECK(pthread_create(&th[t], NULL, thr_free, &a[t]) == 0);
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 64; k++) {
            T_CHECK(a[t].blocks[k] != NULL);
            ww_free(a[t].m, a[t].blocks[k]);
        }
    ww_pool_stats st;
    ww_pool_get_stats(p, &st);
    T_EQ_INT(st.allocs, 4 * 64);
    T_CHECK(st.idle_bytes <= (4u << 20));
    ww_pool_free(p);
}

/* Decoders made with the default allocator go through the windows pool: a second body of the
 * same coding reuses the first one's blocks, and decodes the same. */
T_CASE(pool_decoders_reuse)
{
    ww_pool *p = ww_pool_windows();
    T_CHECK(p != NULL);
    T_CHECK(ww_mem_windows_or(NULL) == ww_pool_mem(p));
    T_CHECK(ww_mem_windows_or(ww_mem_default()) == ww_pool_mem(p));
    static uint8_t plain[300000];
    for (size_t k = 0; k < sizeof plain; k++)
        plain[k] = (uint8_t)("0123456789abcdef\"x,: "[(k * k + k / 7) % 21]);
    uLongf zn = compressBound(sizeof plain);
    uint8_t *zd = malloc(zn);
    T_CHECK(compress2(zd, &zn, plain, sizeof plain, 6) == Z_OK);
    const uint8_t kinds[] = {WW_CODING_DEFLATE};
    ww_pool_stats s0, s1;
    for (int round = 0; round < 3; round++) {
        ww_buf out;
        ww_buf_init(&out, NULL, 1 << 20);
        ww_pool_get_stats(p, &s0);
        T_EQ_INT(ww_coding_decode(NULL, kinds, 1, zd, zn, 1 << 20, 100, &out), WW_OK);
        ww_pool_get_stats(p, &s1);
        T_CHECK(s1.allocs > s0.allocs); /* the inflater's state came from the pool */
        if (round > 0)
            T_EQ_INT(s1.reused - s0.reused, s1.allocs - s0.allocs); /* all of it reused */
        T_EQ_INT(out.len, sizeof plain);
        T_CHECK(out.len == sizeof plain && memcmp(out.data, plain, sizeof plain) == 0);
        ww_buf_free(&out);
    }
    free(zd);
}
