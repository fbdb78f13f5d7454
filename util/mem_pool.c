/*
 * mem_pool.c - a bounded cache of freed large blocks behind ww_mem (see mem_pool.h).
 *
 *   block:  | hdr (16 bytes): magic, class, usable size | user bytes ... |
 *
 * Class i holds blocks of (4 + i % 4) << (10 + i / 4) bytes, header included: 4 KiB, 5, 6,
 * 7 KiB, 8 KiB, 10, 12, 14 KiB, ... 32 MiB. Idle blocks of a class are a LIFO list (the most
 * recently used block, the one most likely still in cache, goes out first).
 */
#include "util/mem_pool.h"

#include <pthread.h>
#include <stdlib.h>

#define HDR_MAGIC 0x77777070u /* "wwpp" */
#define CLS_NONE 0xffffffffu  /* a block straight from the C library */
#define NCLASS 53             /* class 52: 4 << 23 = 32 MiB = WW_POOL_MAX */

typedef struct hdr {
    uint32_t magic;
    uint32_t cls;
    union {
        size_t size;      /* in use: usable bytes */
        struct hdr *next; /* idle: the next idle block of the class */
    } u;
} hdr;
_Static_assert(sizeof(hdr) == 16, "the header keeps the user bytes 16-byte aligned");

struct ww_pool {
    ww_mem mem; /* user_data: the pool */
    pthread_mutex_t mx;
    size_t idle_max, idle_bytes, idle_blocks;
    uint64_t allocs, reused, released;
    hdr *idle[NCLASS];
};

static size_t cls_bytes(unsigned i)
{
    return (size_t)(4 + (i & 3)) << (10 + (i >> 2));
}

/* The smallest class holding t bytes (header included), for WW_POOL_MIN < t <= WW_POOL_MAX.
 * With m = t - 1 = 2^k + r, the class is (5 + top) << (k - 2) where top is the two bits
 * under m's leading one. */
static unsigned cls_of(size_t t)
{
    size_t m = t - 1;
    unsigned k = 63u - (unsigned)__builtin_clzll((unsigned long long)m);
    unsigned top = (unsigned)(m >> (k - 2)) & 3u;
    return (k - 12) * 4 + top + 1;
}

size_t ww_pool_class_size(size_t n)
{
    if (n > WW_POOL_MAX - sizeof(hdr) || n + sizeof(hdr) <= WW_POOL_MIN)
        return 0;
    return cls_bytes(cls_of(n + sizeof(hdr))) - sizeof(hdr);
}

static void *pool_malloc(size_t size, void *ud)
{
    ww_pool *p = ud;
    if (size > SIZE_MAX - sizeof(hdr))
        return NULL;
    size_t t = size + sizeof(hdr);
    if (t <= WW_POOL_MIN || t > WW_POOL_MAX) {
        hdr *h = malloc(t);
        if (h == NULL)
            return NULL;
        h->magic = HDR_MAGIC;
        h->cls = CLS_NONE;
        h->u.size = size;
        return h + 1;
    }
    unsigned c = cls_of(t);
    hdr *h = NULL;
    pthread_mutex_lock(&p->mx);
    p->allocs++;
    if (p->idle[c] != NULL) {
        h = p->idle[c];
        p->idle[c] = h->u.next;
        p->idle_bytes -= cls_bytes(c);
        p->idle_blocks--;
        p->reused++;
    }
    pthread_mutex_unlock(&p->mx);
    if (h == NULL) {
        h = malloc(cls_bytes(c));
        if (h == NULL)
            return NULL;
        h->magic = HDR_MAGIC;
        h->cls = c;
    }
    h->u.size = cls_bytes(c) - sizeof(hdr);
    return h + 1;
}

static hdr *hdr_of(void *ptr)
{
    hdr *h = (hdr *)ptr - 1;
    WW_ASSERT(h->magic == HDR_MAGIC); /* a block of this allocator */
    return h;
}

static void pool_free(void *ptr, void *ud)
{
    ww_pool *p = ud;
    if (ptr == NULL)
        return;
    hdr *h = hdr_of(ptr);
    if (h->cls == CLS_NONE) {
        free(h);
        return;
    }
    unsigned c = h->cls;
    size_t b = cls_bytes(c);
    bool keep = false;
    pthread_mutex_lock(&p->mx);
    if (p->idle_bytes + b <= p->idle_max) {
        h->u.next = p->idle[c];
        p->idle[c] = h;
        p->idle_bytes += b;
        p->idle_blocks++;
        keep = true;
    } else {
        p->released++;
    }
    pthread_mutex_unlock(&p->mx);
    if (!keep)
        free(h);
}

static void *pool_calloc(size_t nmemb, size_t size, void *ud)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        return NULL;
    void *q = pool_malloc(nmemb * size, ud);
    if (q != NULL)
        memset(q, 0, nmemb * size);
    return q;
}

static void *pool_realloc(void *ptr, size_t size, void *ud)
{
    if (ptr == NULL)
        return pool_malloc(size, ud);
    if (size == 0) {
        pool_free(ptr, ud);
        return NULL;
    }
    hdr *h = hdr_of(ptr);
    if (h->cls != CLS_NONE && size <= h->u.size)
        return ptr; /* still fits its class */
    if (h->cls == CLS_NONE && ww_pool_class_size(size) == 0 && size <= SIZE_MAX - sizeof(hdr)) {
        hdr *n = realloc(h, size + sizeof(hdr)); /* both unpooled: the C library's realloc */
        if (n == NULL)
            return NULL;
        n->u.size = size;
        return n + 1;
    }
    void *q = pool_malloc(size, ud);
    if (q == NULL)
        return NULL;
    memcpy(q, ptr, WW_MIN(h->u.size, size));
    pool_free(ptr, ud);
    return q;
}

ww_pool *ww_pool_new(size_t idle_max)
{
    ww_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    if (pthread_mutex_init(&p->mx, NULL) != 0) {
        free(p);
        return NULL;
    }
    p->mem = (ww_mem){p, pool_malloc, pool_free, pool_calloc, pool_realloc};
    p->idle_max = idle_max;
    return p;
}

void ww_pool_trim(ww_pool *p)
{
    pthread_mutex_lock(&p->mx);
    hdr *all = NULL;
    for (unsigned c = 0; c < NCLASS; c++) {
        while (p->idle[c] != NULL) {
            hdr *h = p->idle[c];
            p->idle[c] = h->u.next;
            h->u.next = all;
            all = h;
        }
    }
    p->idle_bytes = p->idle_blocks = 0;
    pthread_mutex_unlock(&p->mx);
    while (all != NULL) {
        hdr *nx = all->u.next;
        free(all);
        all = nx;
    }
}

void ww_pool_free(ww_pool *p)
{
    if (p == NULL)
        return;
    ww_pool_trim(p);
    pthread_mutex_destroy(&p->mx);
    free(p);
}

const ww_mem *ww_pool_mem(ww_pool *p)
{
    return &p->mem;
}

void ww_pool_get_stats(ww_pool *p, ww_pool_stats *out)
{
    pthread_mutex_lock(&p->mx);
    out->allocs = p->allocs;
    out->reused = p->reused;
    out->released = p->released;
    out->idle_bytes = p->idle_bytes;
    out->idle_blocks = p->idle_blocks;
    out->idle_max = p->idle_max;
    pthread_mutex_unlock(&p->mx);
}

static ww_pool *g_windows;
static pthread_once_t g_windows_once = PTHREAD_ONCE_INIT;

static void windows_init(void)
{
    g_windows = ww_pool_new(WW_POOL_IDLE_MAX);
}

ww_pool *ww_pool_windows(void)
{
    pthread_once(&g_windows_once, windows_init);
    return g_windows;
}

const ww_mem *ww_mem_windows(void)
{
    ww_pool *p = ww_pool_windows();
    return p != NULL ? ww_pool_mem(p) : ww_mem_default();
}

const ww_mem *ww_mem_windows_or(const ww_mem *mem)
{
    return mem == NULL || mem == ww_mem_default() ? ww_mem_windows() : mem;
}
