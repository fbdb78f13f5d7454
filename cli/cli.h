/*
 * cli.h - pieces of the command line that are not the library: compiled into the
 * walletwatch binary only (the Makefile links the cli/ files into it, never into libwalletwatch.a).
 */
#ifndef WW_CLI_H
#define WW_CLI_H

#include "addrdb/addrdb.h"
#include "capture/capture.h"
#include "detect/detect.h"

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

/* ---- cli/sensor.c: tcpdump habits and sensor operations ---- */
/* -D: the capture interfaces, numbered and flagged as tcpdump -D prints them. Returns 0, or -1
 * after saying why on stderr. */
int ww_cli_list_interfaces(FILE *f);
/* "walletwatch: listening on IFACE, link-type NAME (DESCRIPTION), snapshot length N bytes" */
void ww_cli_listening(FILE *f, const char *iface, int linktype, uint32_t snaplen);
/* SIGUSR1: the counts so far on one line (ls: the kernel's, live capture only; may be NULL). */
void ww_cli_print_counts(FILE *f, const ww_run_stats *st, const ww_live_stats *ls);

/* The progress line of a replay on a terminal: bytes, %, rate, ETA, redrawn in place ('\r')
 * twice a second once the replay has run a few seconds; never written when tty is NULL. */
typedef struct ww_progress {
    FILE *tty;          /* stderr when it is a terminal, else NULL (nothing is written) */
    const char *name;   /* the input */
    size_t index, count; /* input index of count (shown as [i/n] when count > 1) */
    uint64_t t0, next;  /* monotonic microseconds: start, next redraw */
    uint64_t after_us;  /* quiet this long after the start */
    uint64_t calls;
    bool shown;         /* a line is on the terminal (ww_progress_end clears it) */
} ww_progress;
void ww_progress_start(ww_progress *p, FILE *tty, const char *name, size_t index, size_t count,
                       uint64_t after_us);
/* After each packet: redraws when due. */
void ww_progress_update(ww_progress *p, ww_source *src);
void ww_progress_end(ww_progress *p);

#endif /* WW_CLI_H */
