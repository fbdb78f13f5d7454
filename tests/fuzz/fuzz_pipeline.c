/*
 * fuzz_pipeline.c - a whole capture through everything walletwatch runs: source -> pktdec ->
 * tcp -> app (TLS with a fixed key log, HTTP/1.1, codings, JSON-RPC, EVM, address scan) ->
 * detect (bundled DB) -> JSON-lines output to /dev/null. Seeds: the project's own pcaps.
 */
#include "addrdb/addrdb.h"
#include "capture/capture.h"
#include "decode/decode.h"
#include "detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ww_addrdb *db;

static void on_secrets(void *ud, uint32_t type, const uint8_t *p, size_t n)
{
    if (type == 0x544c534bU)
        ww_keylog_add_text(ud, p, n);
}
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[WW_ERRBUF_SIZE];
    ww_source *s;
    if (db == NULL) {
        db = ww_addrdb_new(NULL);
        if (db == NULL || ww_addrdb_load_bundled(db) < 0)
            return 0;
        devnull = fopen("/dev/null", "w");
    }
    if (ww_source_open_mem(&s, data, size, err) != WW_OK)
        return 0;
    ww_keylog *kl = ww_keylog_new(NULL);
    ww_source_set_secrets_fn(s, on_secrets, kl);
    ww_out_cfg oc = {0};
    oc.jsonl = devnull;
    oc.format = WW_FMT_JSONL;
    oc.log_http = true;
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dcfg = {0};
    dcfg.db = db;
    dcfg.max_clients = 8;
    dcfg.max_served = 16;
    ww_detect *det = ww_detect_new(NULL, &dcfg, out);
    ww_decode_sink sink;
    ww_detect_sink(det, &sink);
    ww_app_cfg ac = {0};
    ac.max_header_bytes = 4096;
    ac.max_body_bytes = 65536;
    ac.hash_bodies = (size & 1) != 0; /* both body policies */
    ww_app *app = ww_app_new(NULL, &ac, &sink, kl);
    ww_stream_cbs cbs = {app, ww_app_on_open, ww_app_on_data, ww_app_on_gap, ww_app_on_close,
                         ww_app_on_anomaly};
    ww_pktdec_cfg pc = {64 * 1024, 8, 1000000};
    ww_tcp_cfg tc = {16, 16384, 65536, 2000000};
    ww_pktdec *d = ww_pktdec_new(NULL, &pc, ww_app_on_anomaly, app);
    ww_tcp *t = ww_tcp_new(NULL, &tc, &cbs);
    ww_pkt p;
    uint64_t last = 0;
    int n = 0;
    while (n++ < 20000 && ww_source_next(s, &p, err) == 1) {
        ww_seg seg;
        last = p.ts_us;
        if (ww_pktdec_decode(d, &p, &seg) == 1)
            ww_tcp_segment(t, &seg);
        ww_tcp_tick(t, p.ts_us);
    }
    ww_tcp_finish(t, last);
    ww_tcp_free(t);
    ww_pktdec_free(d);
    ww_app_free(app);
    ww_detect_free(det);
    ww_out_free(out);
    ww_keylog_free(kl);
    ww_source_free(s);
    return 0;
}
