/*
 * fuzz_pcap.c - a whole capture file (pcap, pcapng, gzip) through the engine's capture half:
 * source -> pktdec -> tcp, the packets and segments seen by a subscriber that touches every
 * byte. Small caps so the cap paths run; no DB, no output. The engine is new for each input,
 * with the bundled protocol registry loaded once (LLVMFuzzerInitialize) and lent to it, and
 * its large blocks from a cache (tests/fuzz/fuzz_mem.h).
 */
#include "engine/engine.h"
#include "tests/fuzz/fuzz_mem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ww_registry *reg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    reg = ww_registry_new(NULL);
    if (reg == NULL || ww_registry_load_bundled(reg) < 0)
        __builtin_trap();
    return 0;
}

static void on_packet(void *ud, const ww_pkt *pkt, const ww_seg *seg)
{
    uint64_t *sum = ud;
    (void)pkt;
    for (uint32_t i = 0; i < seg->len; i++) /* touch every delivered byte */
        *sum += seg->payload[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[WW_ERRBUF_SIZE];
    ww_source *s;
    ww_engine *e;
    uint64_t sum = 0;
    if (ww_source_open_mem(&s, data, size, err) != WW_OK)
        return 0;
    ww_pktdec_cfg dc = {64 * 1024, 8, 1000000};
    ww_tcp_cfg tc = {16, 4096, 16384, 2000000};
    ww_engine_cfg ec = {0};
    ec.mem = &fuzz_mem;
    ec.detect.registry = reg;
    ec.detect.max_clients = 64; /* (not 2^20: its 2 MiB eviction table would be zeroed per input) */
    ec.pktdec = &dc;
    ec.tcp = &tc;
    ec.app.max_body_bytes = 16384;
    if (ww_engine_new(&e, &ec, err) != WW_OK) {
        ww_source_free(s);
        return 0;
    }
    ww_engine_sub sub = {.ud = &sum, .packet = on_packet};
    if (ww_engine_subscribe(e, &sub) == WW_OK) {
        ww_engine_attach(e, s); /* DSB secrets into the engine's key log */
        ww_pkt p;
        int n = 0;
        while (n++ < 100000 && ww_source_next(s, &p, err) == 1)
            (void)ww_engine_packet(e, &p);
        ww_engine_end(e, 0);
    }
    ww_engine_free(e);
    ww_source_free(s);
    return sum == 1 ? 1 : 0;
}
