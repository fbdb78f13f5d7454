/*
 * fuzz_registry.c - registry CSV (ww_registry_load_text) on top of the bundled rows: bad lines
 * are counted, rows that load answer lookups with NUL-terminated strings.
 */
#include "addrdb/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_registry *r = ww_registry_new(NULL);
    if (r == NULL)
        return 0;
    size_t before = 0;
    if (size > 0 && (data[0] & 1)) {
        if (ww_registry_load_bundled(r) < 0)
            __builtin_trap();
        before = ww_registry_count(r);
    }
    ww_registry_report rep;
    if (ww_registry_load_text(r, (const char *)data, size, &rep) == WW_OK &&
        ww_registry_count(r) != before + rep.added)
        __builtin_trap();
    ww_addr a;
    static const char p2[] = "0x000000000022d473030f116ddee9f6b43ac78ba3";
    if (ww_addr_parse(&a, WW_CHAIN_EVM, p2, sizeof p2 - 1) == WW_OK) {
        const ww_registry_entry *e = ww_registry_lookup(r, &a);
        if (e != NULL)
            (void)(strlen(e->name) + strlen(e->chain_ids) + strlen(e->source));
    }
    ww_registry_free(r);
    return 0;
}
