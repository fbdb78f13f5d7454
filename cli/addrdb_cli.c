/*
 * addrdb_cli.c - `walletwatch addrdb build|lookup|stats` (SPEC.md "walletwatch addrdb").
 *
 *   addrdb build FEED... -o FILE [--csv]   compile feeds (and compiled DBs) into an index file
 *                                          (--csv: a normalized, deduplicated CSV feed instead)
 *   addrdb lookup [--db FILE]... [--no-default-db] ADDR...
 *   addrdb stats  [--db FILE]... [--no-default-db]
 *
 * Exit: 0 ok (lookup: every address listed), 1 lookup: some address not listed, 2 usage or
 * unreadable/corrupt DB.
 */
#include "cli/cli.h"

#include <errno.h>
#include <time.h>

enum { CLI_OK = 0, CLI_MISS = 1, CLI_ERR = 2 };

int ww_addrdb_load_all(ww_addrdb *db, const char *const *paths, size_t n, bool no_default)
{
    char errbuf[WW_ERRBUF_SIZE];
    if (!no_default && ww_addrdb_load_bundled(db) < 0) {
        fprintf(stderr, "walletwatch: cannot load the bundled attacker DB\n");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        ww_addrdb_report rep;
        if (ww_addrdb_load_file(db, paths[i], &rep, errbuf) != WW_OK) {
            size_t len = strlen(paths[i]);
            if (strncmp(errbuf, paths[i], len) == 0 && errbuf[len] == ':')
                fprintf(stderr, "walletwatch: --db %s\n", errbuf);
            else /* the compiled-index checks do not name the file */
                fprintf(stderr, "walletwatch: --db %s: %s\n", paths[i], errbuf);
            return -1;
        }
        if (rep.bad > 0) {
            fprintf(stderr, "walletwatch: %s: %zu bad lines skipped (line", paths[i], rep.bad);
            for (size_t k = 0; k < WW_MIN(rep.bad, (size_t)WW_ADDRDB_BAD_LINES_KEPT); k++)
                fprintf(stderr, " %zu", rep.bad_line_no[k]);
            fprintf(stderr, "%s)\n", rep.bad > WW_ADDRDB_BAD_LINES_KEPT ? " ..." : "");
        }
    }
    return 0;
}

typedef struct csv_ctx {
    FILE *f;
    bool failed;
} csv_ctx;

static void write_entry(void *ud, const ww_addr *a, const ww_addrdb_entry *e)
{
    csv_ctx *c = ud;
    if (fprintf(c->f, "%s,%s,%s,%s\n", ww_chain_name(a->chain), a->text, e->label, e->source) < 0)
        c->failed = true;
}

static void print_source(void *ud, const char *source, int chain, size_t count)
{
    (void)ud;
    printf("  %-12s %8zu  %s\n", ww_chain_name(chain), count, source[0] ? source : "(none)");
}

static int build(ww_addrdb *db, char **args, size_t n_args, const char *out, bool csv)
{
    char errbuf[WW_ERRBUF_SIZE];
    struct timespec t0, t1;
    if (out == NULL || n_args == 0) {
        fprintf(stderr, "usage: walletwatch addrdb build FEED... -o FILE [--csv]\n");
        return CLI_ERR;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (ww_addrdb_load_all(db, (const char *const *)args, n_args, true) != 0)
        return CLI_ERR;
    if (csv) {
        FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
        if (f == NULL) {
            fprintf(stderr, "walletwatch addrdb: %s: %s\n", out, strerror(errno));
            return CLI_ERR;
        }
        csv_ctx c = {f, false};
        fprintf(f, "# walletwatch address DB (normalized, deduplicated)\n"
                   "chain,address,label,source\n");
        ww_addrdb_each(db, write_entry, &c);
        if (f != stdout && fclose(f) != 0)
            c.failed = true;
        if (c.failed) {
            fprintf(stderr, "walletwatch addrdb: %s: write failed\n", out);
            return CLI_ERR;
        }
    } else if (ww_addrdb_write_index(db, out, errbuf) != WW_OK) {
        fprintf(stderr, "walletwatch addrdb: %s\n", errbuf);
        return CLI_ERR;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "walletwatch addrdb: %zu entries written to %s (%s, %.2f s)\n",
            ww_addrdb_count(db, WW_CHAIN_NONE), out, csv ? "CSV" : "compiled index",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return CLI_OK;
}

static int lookup(ww_addrdb *db, char **args, size_t n_args)
{
    int rc = CLI_OK;
    if (n_args == 0) {
        fprintf(stderr, "usage: walletwatch addrdb lookup [--db FILE] ADDR...\n");
        return CLI_ERR;
    }
    for (size_t i = 0; i < n_args; i++) {
        ww_addr a;
        if (ww_addrdb_addr(&a, WW_CHAIN_NONE, args[i], strlen(args[i])) != WW_OK &&
            ww_addrdb_addr(&a, WW_CHAIN_SOLANA, args[i], strlen(args[i])) != WW_OK) {
            printf("%s not an address\n", args[i]);
            rc = CLI_MISS;
            continue;
        }
        const ww_addrdb_entry *e = ww_addrdb_lookup(db, &a);
        if (e != NULL) {
            printf("%s listed %s (%s)\n", a.text, e->label[0] ? e->label : "-", e->source);
        } else {
            printf("%s not listed\n", a.text);
            rc = CLI_MISS;
        }
    }
    return rc;
}

static const char ADDRDB_USAGE[] =
    "usage: walletwatch addrdb build FEED... -o FILE [--csv]\n"
    "       walletwatch addrdb lookup [--db FILE]... [--no-default-db] ADDR...\n"
    "       walletwatch addrdb stats [--db FILE]... [--no-default-db]\n"
    "\n"
    "  build    compile feeds (address lists, CSV chain,address,label,source, JSON arrays) and\n"
    "           compiled DBs into one compiled index at FILE ('-' with --csv: standard output);\n"
    "           --csv writes a normalized, deduplicated CSV feed instead\n"
    "  lookup   one line per address: normalized, then 'listed LABEL (SOURCE)' or 'not listed';\n"
    "           exit 0 when every address is listed, 1 when one is not\n"
    "  stats    entries per chain and per source\n"
    "  --db FILE        a feed or compiled index added to the bundled DB; repeatable\n"
    "  --no-default-db  leave the bundled attacker DB out\n"
    "exit status: 0 ok, 1 lookup: an address not listed, 2 usage or unreadable DB\n";

int ww_addrdb_cli(int argc, char **argv)
{
    char *dbs[64];
    size_t n_dbs = 0;
    const char *out = NULL;
    bool no_default = false, csv = false;
    char **args;
    size_t n_args = 0;
    int rc = CLI_OK;

    if (argc < 2) {
        fprintf(stderr, "walletwatch addrdb: build, lookup or stats\n"
                        "see walletwatch addrdb --help\n");
        return CLI_ERR;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(ADDRDB_USAGE, stdout);
            return fflush(stdout) == 0 ? CLI_OK : CLI_ERR;
        }
    }
    const char *sub = argv[1];
    args = calloc((size_t)argc, sizeof(char *));
    if (args == NULL)
        return CLI_ERR;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            if (n_dbs == WW_ARRAY_LEN(dbs)) {
                fprintf(stderr, "walletwatch addrdb: too many --db (at most 64)\n");
                free(args);
                return CLI_ERR;
            }
            dbs[n_dbs++] = argv[++i];
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--no-default-db") == 0) {
            no_default = true;
        } else if (strcmp(argv[i], "--csv") == 0) {
            csv = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "walletwatch addrdb: unknown option %s\nsee walletwatch addrdb --help\n",
                    argv[i]);
            free(args);
            return CLI_ERR;
        } else {
            args[n_args++] = argv[i];
        }
    }
    ww_addrdb *db = ww_addrdb_new(NULL);
    if (db == NULL) {
        free(args);
        return CLI_ERR;
    }
    if (strcmp(sub, "build") == 0) {
        rc = build(db, args, n_args, out, csv);
    } else if (strcmp(sub, "lookup") == 0) {
        rc = n_args > 0 && ww_addrdb_load_all(db, (const char *const *)dbs, n_dbs, no_default) != 0
                 ? CLI_ERR
                 : lookup(db, args, n_args);
    } else if (strcmp(sub, "stats") == 0) {
        if (ww_addrdb_load_all(db, (const char *const *)dbs, n_dbs, no_default) != 0) {
            rc = CLI_ERR;
        } else {
            printf("entries: %zu\n", ww_addrdb_count(db, WW_CHAIN_NONE));
            for (int c = 1; c < WW_CHAIN_COUNT; c++)
                printf("  %-12s %8zu\n", ww_chain_name(c), ww_addrdb_count(db, c));
            printf("by source:\n");
            ww_addrdb_each_source(db, print_source, NULL);
        }
    } else {
        fprintf(stderr, "walletwatch addrdb: unknown subcommand '%s'\n"
                        "see walletwatch addrdb --help\n", sub);
        rc = CLI_ERR;
    }
    ww_addrdb_free(db);
    free(args);
    return rc;
}
