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

#endif /* WW_CLI_H */
