/*
 * fuzz_baseline.c - CI baseline files (ww_baseline_parse): any text parses or is rejected line
 * by line; what parsed answers matches without reading past its strings.
 */
#include "detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_baseline *b = NULL;
    ww_baseline_report rep;
    if (ww_baseline_parse(&b, NULL, (const char *)data, size, 1767225600, &rep) != WW_OK)
        return 0;
    if (rep.entries != ww_baseline_count(b) || rep.entries + rep.bad + rep.expired > rep.lines)
        __builtin_trap();
    static const char *const Q[] = {"0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976",
                                    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"};
    for (size_t i = 0; i < WW_ARRAY_LEN(Q); i++) {
        ww_addr a;
        const char *why = NULL;
        if (ww_addr_parse(&a, WW_CHAIN_NONE, Q[i], strlen(Q[i])) != WW_OK)
            continue;
        if (ww_baseline_match(b, "unrequested-recipient", &a, "pay.example", &why))
            (void)strlen(why);
        (void)ww_baseline_match(b, "known-attacker", NULL, NULL, NULL);
    }
    ww_baseline_free(b);
    return 0;
}
