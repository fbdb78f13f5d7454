/*
 * fuzz_detect.c - the served store under any sequence of events: a tiny memory budget and
 * max_served so eviction, ring overwrite, index growth, pairs and MAC joins all run. Each
 * 4-byte op: [kind, client, a, b]; addresses are derived from the bytes so that prefixes and
 * suffixes collide often (lookalikes, pairs). Invariants: no crash, the state stays within
 * its budget (plus one browser), every eviction is an anomaly.
 * At most the first 128 ops are run (a longer input is a slower one, not a deeper one: the
 * caps below are reached within that), and 16 browsers at most so eviction comes early.
 * The bundled registry is loaded once (LLVMFuzzerInitialize) and lent to every detector;
 * the detector itself (all the per-input state) is new for each input.
 */
#include "detect/detect.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ww_registry *reg; /* read-only once loaded: shared by the inputs */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    reg = ww_registry_new(NULL);
    if (reg == NULL || ww_registry_load_bundled(reg) < 0)
        __builtin_trap();
    return 0;
}

static void mk(ww_addr *out, uint8_t a, uint8_t b)
{
    uint8_t raw[20];
    for (int i = 0; i < 20; i++)
        raw[i] = (uint8_t)(i < 3 ? a : i >= 17 ? b : (a * 31 + b * 7 + i));
    ww_addr_from_evm(out, raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t end = WW_MIN(size, (size_t)512); /* 128 ops */
    ww_out_cfg oc = {0};
    ww_out *out = ww_out_new(NULL, &oc);
    ww_detect_cfg dc = {0};
    dc.max_bytes = 2u << 20;
    dc.max_served = 16;
    dc.max_clients = 16;
    dc.max_pairs = 2;
    dc.no_registry = (size & 1) != 0;
    dc.registry = dc.no_registry ? NULL : reg;
    ww_detect *d = ww_detect_new(NULL, &dc, out);
    if (out == NULL || d == NULL) {
        ww_detect_free(d);
        ww_out_free(out);
        return 0;
    }
    ww_decode_sink sink;
    ww_detect_sink(d, &sink);
    ww_flow f = {0};
    ww_ctx ctx = {0};
    ww_http_info http = {"h.example", "/", "GET", 200, "application/json"};
    ctx.flow = &f;
    ctx.http = &http;
    uint64_t extra = 0; /* anomalies fed through the sink */
    for (size_t i = 0; i + 4 <= end; i += 4) {
        const uint8_t *op = data + i;
        f.cli_ip.family = (op[1] & 0x80) ? 6 : 4;
        memset(f.cli_ip.a, 0, 16);
        f.cli_ip.a[0] = 10;
        f.cli_ip.a[3] = op[1] & 0x7f;
        ctx.ts_us = 1000 + i * 1000;
        ww_addr a;
        mk(&a, op[2], op[3]);
        switch (op[0] % 7) {
        case 0:
        case 1:
            ctx.dir = WW_DIR_TOCLIENT;
            sink.served_prov(sink.ud, &ctx, &a, op[0] % WW_PROV_COUNT);
            break;
        case 2: {
            ww_wallet_call wc;
            memset(&wc, 0, sizeof wc);
            wc.chain = WW_CHAIN_EVM;
            strcpy(wc.method, "eth_sendTransaction");
            wc.n_parties = 1;
            wc.parties[0].role = (uint8_t)(op[0] % WW_ROLE_COUNT);
            wc.parties[0].payee = op[0] & 8;
            wc.parties[0].unlimited = op[0] & 16;
            wc.parties[0].addr = a;
            ctx.dir = WW_DIR_TOSERVER;
            sink.wallet_call(sink.ud, &ctx, &wc);
            break;
        }
        case 3: {
            uint8_t mac[6] = {2, 0, 0, 0, op[2] & 3, op[3] & 1};
            ww_detect_learn_mac(d, mac, &f.cli_ip, ctx.ts_us);
            break;
        }
        case 5: /* a connection picked up mid-stream: at the capture's start or later */
            ww_detect_history_unseen(d, &f.cli_ip, ctx.ts_us, op[2] & 1);
            break;
        case 6: /* bytes lost on their way to the browser (HTTP: marks it; else nothing) */
            ctx.dir = WW_DIR_TOCLIENT;
            ctx.app_proto = (op[2] & 1) ? "http" : NULL;
            sink.anomaly(sink.ud, &ctx, "tcp", "gap", "lost");
            ctx.app_proto = NULL;
            extra++;
            break;
        default:
            (void)ww_detect_client_incomplete(d, &f.cli_ip);
            break;
        }
        /* anomalies: evictions, the gaps fed, one history-unseen per unchecked payee */
        const ww_detect_stats *st = ww_detect_stats_get(d);
        if (st->anomalies < st->clients_evicted + extra)
            __builtin_trap();
    }
    ww_detect_free(d);
    ww_out_free(out);
    return 0;
}
