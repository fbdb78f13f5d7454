/*
 * registry.h - canonical protocol contracts (Permit2, Universal Router, ERC-4337 EntryPoints,
 * Multicall3, Seaport, CoW settlement, 1inch, 0x ...), taken from each protocol's own published
 * deployments (addrdb/registry.csv names the source of every row). detect/ treats an address
 * listed here as served to every browser with provenance "registry": a call target, spender or
 * value receiver that is a canonical protocol contract is not "unrequested".
 *
 * CSV: chain,address,name,chain_ids,source  ('#' comment lines; a header line is skipped;
 * chain_ids is ';'-separated or '*' for a deterministic deployment on every chain).
 */
#ifndef WW_REGISTRY_H
#define WW_REGISTRY_H

#include "decode/decode.h"
#include "util/ww.h"

typedef struct ww_registry ww_registry;

typedef struct ww_registry_entry {
    const char *name;      /* "Uniswap Permit2" */
    const char *chain_ids; /* "*" or "1;10;137" */
    const char *source;    /* "npm @uniswap/permit2-sdk@1.4.0 dist/constants" */
} ww_registry_entry;

typedef struct ww_registry_report {
    size_t lines, added, dupes, bad;
    size_t first_bad_line; /* 1-based; 0 when none */
} ww_registry_report;

ww_registry *ww_registry_new(const ww_mem *mem);
void ww_registry_free(ww_registry *r);
/* The bundled rows (addrdb/registry.csv). Returns entries added or a negative WW_E_*. */
int ww_registry_load_bundled(ww_registry *r) WW_WUR;
/* A user's own file in the same CSV (extends the bundled rows). WW_OK, WW_E_IO (errbuf),
 * WW_E_INVALID (no row in it at all); bad lines are counted in rep (may be NULL). */
int ww_registry_load_file(ww_registry *r, const char *path, ww_registry_report *rep,
                          char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
int ww_registry_load_text(ww_registry *r, const char *text, size_t n, ww_registry_report *rep)
    WW_WUR;
/* NULL when a is not listed (r may be NULL). */
const ww_registry_entry *ww_registry_lookup(const ww_registry *r, const ww_addr *a);
size_t ww_registry_count(const ww_registry *r);
/* Calls fn for each row of chain (all rows: WW_CHAIN_NONE), in address order. Rows are few
 * (hundreds): detect/ compares an unlisted call target or spender with each of them. */
typedef void (*ww_registry_row_fn)(void *ud, const ww_addr *a, const ww_registry_entry *e);
void ww_registry_each(const ww_registry *r, int chain, ww_registry_row_fn fn, void *ud);

#endif /* WW_REGISTRY_H */
