/*
 * expect.c - the `--expect FILE` list (addresses this session may pay/approve): one address a
 * line, "address" or "chain,address"; blank lines and '#' comments skipped; a line that is not
 * an address is reported on stderr (with its number) and skipped.
 */
#include <errno.h>

#include "cli/cli.h"

int ww_expect_read(FILE *f, const char *path, ww_addr **out, size_t *n)
{
    char line[512];
    size_t cap = 0, line_no = 0;
    *out = NULL;
    *n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        size_t l = strlen(line);
        line_no++;
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        /* "chain,address" or "address" */
        int chain = WW_CHAIN_NONE;
        char *comma = strchr(s, ',');
        if (comma != NULL) {
            chain = ww_chain_from_name(s, (size_t)(comma - s));
            s = comma + 1;
        }
        ww_addr a;
        if (ww_addr_parse(&a, chain, s, strlen(s)) != WW_OK) {
            fprintf(stderr, "walletwatch: --expect %s:%zu: not an address: %s\n", path, line_no, s);
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            ww_addr *na = realloc(*out, cap * sizeof(ww_addr));
            if (na == NULL)
                return -1;
            *out = na;
        }
        (*out)[(*n)++] = a;
    }
    return 0;
}

int ww_expect_load(const char *path, ww_addr **out, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "walletwatch: --expect %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = ww_expect_read(f, path, out, n);
    fclose(f);
    return rc;
}
