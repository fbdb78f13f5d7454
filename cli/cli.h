/*
 * cli.h - pieces of the command line that are not the library: compiled into the
 * walletwatch binary only (the Makefile links the cli/ files into it, never into libwalletwatch.a).
 */
#ifndef WW_CLI_H
#define WW_CLI_H

#include "addrdb/addrdb.h"

/*
 * Loads the bundled set (unless no_default) and then each feed or compiled index in paths,
 * reporting on stderr what cannot be read and the bad lines of each feed (with line numbers).
 * Returns 0, or -1 when something cannot be read at all (an exit-2 condition for the CLI).
 */
int ww_addrdb_load_all(ww_addrdb *db, const char *const *paths, size_t n, bool no_default) WW_WUR;

/* `walletwatch addrdb ...`: argv[0] is "addrdb", argv[1] the subcommand (cli/addrdb_cli.c).
 * Returns the exit code: 0, 1 (lookup: an address not listed), 2 (usage, unreadable DB). */
int ww_addrdb_cli(int argc, char **argv);

/* `walletwatch decode [--chain evm|solana] DATA` (cli/decode_cli.c): the exit code. */
int ww_decode_cli(int argc, char **argv);

/* `--expect FILE` (cli/expect.c): the addresses of f, one a line ("address" or
 * "chain,address", '#' comments), into a malloc'd *out (the caller frees it, also on failure);
 * bad lines are reported on stderr with path and line number and skipped. Returns 0, or -1
 * when out of memory (or, for ww_expect_load, when path cannot be opened: said on stderr). */
int ww_expect_read(FILE *f, const char *path, ww_addr **out, size_t *n) WW_WUR;
int ww_expect_load(const char *path, ww_addr **out, size_t *n) WW_WUR;

/* The input detection of `walletwatch decode` (cli/decode_cli.c): text p[0..n) (surrounding
 * white space ignored) starting with '{' or '[' is a JSON-RPC request or batch, anything else a
 * bare transaction of chain (WW_CHAIN_EVM: hex, "0x" optional; WW_CHAIN_SOLANA: base58 or
 * base64). Up to *num calls are decoded into calls; *num is set to how many. Returns < 0 when
 * the input is not in any accepted form (said on stderr), else >= 0. */
int ww_decode_text(ww_wallet_call *calls, size_t *num, int chain, const uint8_t *p, size_t n);

#endif /* WW_CLI_H */
