/*
 * fuzz_expect.c - the `--expect FILE` parser (cli/expect.c, ww_expect_read) fed arbitrary
 * file contents through fmemopen. Checks: every address kept is well-formed and parses
 * again to itself; no more addresses than lines.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > (1 << 16))
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (f == NULL)
        return 0;
    ww_addr *out = NULL;
    size_t n = 0;
    int rc = ww_expect_read(f, "fuzz", &out, &n);
    fclose(f);
    if (rc != 0 && rc != -1)
        __builtin_trap();
    if (n > 0 && out == NULL)
        __builtin_trap();
    if (n > size / 2 + 1)
        __builtin_trap(); /* an address needs more than one byte and its line end */
    for (size_t i = 0; i < n; i++) {
        ww_addr b;
        const ww_addr *a = &out[i];
        if (a->chain <= WW_CHAIN_NONE || a->chain >= WW_CHAIN_COUNT || a->len == 0 ||
            a->len >= WW_ADDR_TEXT_MAX || strlen(a->text) != a->len)
            __builtin_trap();
        if (ww_addr_parse(&b, a->chain, a->text, a->len) != WW_OK || !ww_addr_eq(a, &b))
            __builtin_trap();
    }
    free(out);
    return 0;
}
