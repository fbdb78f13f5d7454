/*
 * source_int.h - internal to capture/: the packet source vtable, so that source kinds other
 * than files (capture/live.c: libpcap) plug in behind ww_source without the callers knowing.
 */
#ifndef WW_SOURCE_INT_H
#define WW_SOURCE_INT_H

#include "capture/capture.h"

typedef struct ww_src_ops {
    /* as ww_source_next */
    int (*next)(ww_source *s, ww_pkt *pkt, char errbuf[WW_ERRBUF_SIZE]);
    uint64_t (*drops)(const ww_source *s);
    /* releases what the kind owns (not s itself) */
    void (*destroy)(ww_source *s);
} ww_src_ops;

/* A source of another kind: ops are static, impl is the kind's state (freed by destroy).
 * Returns NULL when out of memory. */
ww_source *ww_source_new_impl(const ww_src_ops *ops, void *impl);
/* The impl pointer when s is of the kind ops, else NULL. */
void *ww_source_impl(const ww_source *s, const ww_src_ops *ops);

#endif /* WW_SOURCE_INT_H */
