/*
 * mem_pool.h - a bounded cache of freed large blocks behind the ww_mem interface, for the
 * decoder windows and body buffers that are allocated per stream / message and freed: the
 * ISA-L and zlib inflate states and windows, brotli's ring buffer and tables, zstd's context
 * and window, the decoded body being gathered.
 *
 * Every block carries a 16-byte header (its size class). Requests of more than WW_POOL_MIN
 * bytes (header included) are rounded up to a class (four per power of two: 4, 5, 6, 7 << k,
 * so at most 25% is wasted) up to WW_POOL_MAX; a freed block of a class is kept for the next
 * request of that class while the idle bytes of the pool stay within idle_max, and given back
 * to the C library otherwise. Smaller and larger requests go to the C library directly (with
 * the header). Reuse means no page faults on fresh memory and no heap fragmentation from
 * blocks of every size freed in any order.
 *
 * The pool never raises what a decoder may use (every cap of the callers stays as it is): it
 * adds at most idle_max bytes of idle blocks, plus the rounding up to a class.
 * Thread-safe (one mutex; a block may be freed by another thread than the one that got it).
 */
#ifndef WW_MEM_POOL_H
#define WW_MEM_POOL_H

#include "util/ww.h"

#define WW_POOL_MIN ((size_t)4096)     /* smaller requests go to the C library */
#define WW_POOL_MAX ((size_t)32 << 20) /* larger requests go to the C library */
/* idle bytes kept by the process-wide pool (ww_pool_windows); a build may set another */
#ifndef WW_POOL_IDLE_MAX
#define WW_POOL_IDLE_MAX ((size_t)64 << 20)
#endif

typedef struct ww_pool ww_pool;

typedef struct ww_pool_stats {
    uint64_t allocs;      /* requests of a pooled size */
    uint64_t reused;      /* of which served from an idle block */
    uint64_t released;    /* frees given back to the C library (over idle_max) */
    size_t idle_bytes;    /* bytes of idle blocks now */
    size_t idle_blocks;
    size_t idle_max;
} ww_pool_stats;

/* A pool keeping at most idle_max bytes of idle blocks. NULL on OOM. */
ww_pool *ww_pool_new(size_t idle_max);
/* Releases the idle blocks and the pool. Blocks still in use must not be freed afterwards. */
void ww_pool_free(ww_pool *p);
/* The allocator over the pool (valid as long as the pool). */
const ww_mem *ww_pool_mem(ww_pool *p);
/* Gives every idle block back to the C library. */
void ww_pool_trim(ww_pool *p);
void ww_pool_get_stats(ww_pool *p, ww_pool_stats *out);
/* The size class a request of n bytes gets (usable bytes), or 0 when n is not pooled. */
size_t ww_pool_class_size(size_t n);

/*
 * The process-wide pool of decoder windows (WW_POOL_IDLE_MAX idle bytes at most), created on
 * first use and kept until exit. Content-coding decoders (decode/coding.c), WebSocket
 * permessage-deflate and gathered HTTP bodies allocate through it when their caller gave the
 * default allocator.
 */
ww_pool *ww_pool_windows(void);
/* ww_pool_mem(ww_pool_windows()), or the default allocator when the pool could not be made. */
const ww_mem *ww_mem_windows(void);
/* mem itself, or the windows pool when mem is NULL or the default allocator. */
const ww_mem *ww_mem_windows_or(const ww_mem *mem);

#endif
