/*
 * fuzz_pipeline.c - a whole capture through the engine every entry point runs: source ->
 * pktdec -> tcp -> app (TLS with the capture's DSB key log, HTTP/1.1, HTTP/2, WebSocket,
 * codings, JSON-RPC, EVM, Solana, address scan) -> detect (bundled DB) -> JSON lines to
 * /dev/null, with the CLI's clock. Small caps so the cap paths run. Seeds: the project's pcaps.
 * The bundled address DB and protocol registry are loaded once (LLVMFuzzerInitialize) and
 * lent read-only to the engine, which is new for each input; its large blocks come from a
 * cache (tests/fuzz/fuzz_mem.h) instead of an mmap/munmap per input.
 */
#include "addrdb/addrdb.h"
#include "engine/engine.h"
#include "tests/fuzz/fuzz_mem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ww_addrdb *db;
static ww_registry *reg;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    db = ww_addrdb_new(NULL);
    reg = ww_registry_new(NULL);
    devnull = fopen("/dev/null", "w");
    if (db == NULL || ww_addrdb_load_bundled(db) < 0 || reg == NULL ||
        ww_registry_load_bundled(reg) < 0 || devnull == NULL)
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[WW_ERRBUF_SIZE];
    ww_source *s;
    ww_engine *e;
    if (ww_source_open_mem(&s, data, size, err) != WW_OK)
        return 0;
    ww_pktdec_cfg pc = {64 * 1024, 8, 1000000};
    ww_tcp_cfg tc = {16, 16384, 65536, 2000000};
    ww_engine_cfg ec = {0};
    ec.mem = &fuzz_mem;
    ec.out.jsonl = devnull;
    ec.out.format = WW_FMT_JSONL;
    ec.out.log_http = true;
    ec.detect.db = db;
    ec.detect.registry = reg;
    ec.detect.max_clients = 8;
    ec.detect.max_served = 16;
    ec.app.max_header_bytes = 4096;
    ec.app.max_body_bytes = 65536;
    ec.app.hash_bodies = (size & 1) != 0; /* both body policies */
    ec.pktdec = &pc;
    ec.tcp = &tc;
    if (ww_engine_new(&e, &ec, err) != WW_OK) {
        ww_source_free(s);
        return 0;
    }
    ww_engine_attach(e, s);
    ww_pkt p;
    int n = 0;
    while (n++ < 20000 && ww_source_next(s, &p, err) == 1)
        (void)ww_engine_packet(e, &p);
    ww_engine_end(e, 0);
    ww_engine_write_stats(e);
    (void)!ww_engine_finish_output(e);
    ww_engine_free(e);
    ww_source_free(s);
    return 0;
}
