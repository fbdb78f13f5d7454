/*
 * fuzz_mem.h - a ww_mem for fuzz targets that build their state (ww_app, ww_engine...) for
 * every input: blocks of FUZZ_MEM_BIG bytes or more are kept when freed and handed out
 * again for the same size, instead of going back to the sanitizer's allocator, which maps
 * and unmaps every large block (an mmap, a TLB flush and fresh zero pages each time: most of
 * the time of such a target). A kept block is poisoned while parked, so a use after free is
 * still reported (until the block is handed out again); calloc zeroes it as before; a block
 * never freed is still a leak (the cache only knows blocks that were freed).
 * Smaller blocks, and reallocs, go to malloc/calloc/realloc/free as with ww_mem_default().
 */
#ifndef WW_FUZZ_MEM_H
#define WW_FUZZ_MEM_H

#include <sanitizer/asan_interface.h>
#include <stdlib.h>
#include <string.h>

#include "util/ww.h"

#define FUZZ_MEM_BIG (64u * 1024)
#define FUZZ_MEM_SLOTS 64

static struct fuzz_mem_slot {
    void *p;
    size_t n;
    bool parked; /* free, kept for reuse; else handed out */
} fuzz_mem_slots[FUZZ_MEM_SLOTS];

static void *fuzz_mem_big(size_t n)
{
    int empty = -1, other = -1;
    for (int i = 0; i < FUZZ_MEM_SLOTS; i++) {
        struct fuzz_mem_slot *s = &fuzz_mem_slots[i];
        if (s->p != NULL && s->parked && s->n == n) {
            s->parked = false;
            ASAN_UNPOISON_MEMORY_REGION(s->p, n);
            return s->p;
        }
        if (s->p == NULL && empty < 0)
            empty = i;
        if (s->p != NULL && s->parked)
            other = i;
    }
    if (empty < 0 && other >= 0) { /* all slots used: a parked block of another size goes */
        ASAN_UNPOISON_MEMORY_REGION(fuzz_mem_slots[other].p, fuzz_mem_slots[other].n);
        free(fuzz_mem_slots[other].p);
        fuzz_mem_slots[other].p = NULL;
        empty = other;
    }
    void *p = malloc(n);
    if (p != NULL && empty >= 0) {
        fuzz_mem_slots[empty].p = p;
        fuzz_mem_slots[empty].n = n;
        fuzz_mem_slots[empty].parked = false;
    }
    return p;
}

static void *fuzz_mem_malloc(size_t n, void *ud)
{
    (void)ud;
    return n >= FUZZ_MEM_BIG ? fuzz_mem_big(n) : malloc(n);
}

static void *fuzz_mem_calloc(size_t k, size_t n, void *ud)
{
    (void)ud;
    if (n != 0 && k > SIZE_MAX / n)
        return NULL;
    if (k * n < FUZZ_MEM_BIG)
        return calloc(k, n);
    void *p = fuzz_mem_big(k * n);
    if (p != NULL)
        memset(p, 0, k * n);
    return p;
}

static void fuzz_mem_free(void *p, void *ud)
{
    (void)ud;
    if (p == NULL)
        return;
    for (int i = 0; i < FUZZ_MEM_SLOTS; i++) {
        struct fuzz_mem_slot *s = &fuzz_mem_slots[i];
        if (s->p == p) {
            if (s->parked)
                __builtin_trap(); /* a double free */
            s->parked = true;
            ASAN_POISON_MEMORY_REGION(p, s->n);
            return;
        }
    }
    free(p);
}

static void *fuzz_mem_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    for (int i = 0; p != NULL && i < FUZZ_MEM_SLOTS; i++) {
        struct fuzz_mem_slot *s = &fuzz_mem_slots[i];
        if (s->p == p && !s->parked) {
            /* a kept block grows or shrinks: moved to a block of the new size */
            void *q = n >= FUZZ_MEM_BIG ? fuzz_mem_big(n) : malloc(n);
            if (q == NULL)
                return NULL;
            memcpy(q, p, WW_MIN(n, s->n));
            fuzz_mem_free(p, ud);
            return q;
        }
    }
    return realloc(p, n);
}

static const ww_mem fuzz_mem = {NULL, fuzz_mem_malloc, fuzz_mem_free, fuzz_mem_calloc,
                                fuzz_mem_realloc};

#endif /* WW_FUZZ_MEM_H */
