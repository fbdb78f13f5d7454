/*
 * fuzz_app.c - protocol dispatch on its own (decode/app.c): the ww_app stream callbacks fed
 * arbitrary bytes on up to 2 flows, without pcap framing or TCP reassembly (much faster than
 * fuzz_pipeline). No key log: TLS is probed and parsed but not decrypted.
 *
 * Input: a config byte (bit 0: small caps, bit 1: hash bodies), then records of
 *   ctl(1) len(2, little endian) payload(len, clamped to what is left)
 *   ctl bit 0: direction (1 = server -> client); bit 1: flow (2 flows); bits 2-3: op
 *   (0, 1: data, 2: gap of len bytes, 3: close with reason ctl >> 4 and reopen);
 *   data records split into two calls at an offset given by the payload's first byte.
 * Checks: every sink call names one of the open flows (or none), its strings are
 * NUL-terminated, addresses are well-formed and wallet calls bounded.
 * The ww_app is new for each input; its large blocks come from a cache (tests/fuzz/fuzz_mem.h)
 * instead of an mmap/munmap per input.
 */
#include "decode/decode.h"
#include "tests/fuzz/fuzz_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ww_flow flows[2];
static bool open_[2];
static uint64_t nsink;

static void chk_ctx(const ww_ctx *ctx)
{
    if (ctx == NULL)
        __builtin_trap();
    if (ctx->flow != NULL && ctx->flow != &flows[0] && ctx->flow != &flows[1])
        __builtin_trap();
    if (ctx->flow != NULL && !open_[ctx->flow - flows])
        __builtin_trap(); /* a callback for a closed flow */
    if (ctx->app_proto != NULL)
        (void)strlen(ctx->app_proto);
    nsink++;
}

static void chk_addr(const ww_addr *a)
{
    if (a->chain <= WW_CHAIN_NONE || a->chain >= WW_CHAIN_COUNT || a->len == 0 ||
        a->len >= WW_ADDR_TEXT_MAX || strlen(a->text) != a->len)
        __builtin_trap();
}

static void s_served(void *ud, const ww_ctx *ctx, const ww_addr *a)
{
    (void)ud;
    chk_ctx(ctx);
    chk_addr(a);
}

static void s_served_prov(void *ud, const ww_ctx *ctx, const ww_addr *a, int prov)
{
    (void)prov;
    s_served(ud, ctx, a);
}

static void s_wallet(void *ud, const ww_ctx *ctx, const ww_wallet_call *wc)
{
    (void)ud;
    chk_ctx(ctx);
    if (wc->n_parties > WW_WC_MAX_PARTIES)
        __builtin_trap();
    if (strnlen(wc->method, sizeof wc->method) == sizeof wc->method ||
        strnlen(wc->rpc_id, sizeof wc->rpc_id) == sizeof wc->rpc_id ||
        strnlen(wc->kind, sizeof wc->kind) == sizeof wc->kind ||
        strnlen(wc->tx_hash, sizeof wc->tx_hash) == sizeof wc->tx_hash ||
        strnlen(wc->selector, sizeof wc->selector) == sizeof wc->selector)
        __builtin_trap();
    if (wc->has_to)
        chk_addr(&wc->to);
    if (wc->has_from)
        chk_addr(&wc->from);
}

static void s_anomaly(void *ud, const ww_ctx *ctx, const char *layer, const char *type,
                      const char *detail)
{
    (void)ud;
    chk_ctx(ctx);
    if (layer == NULL || type == NULL)
        __builtin_trap();
    (void)strlen(layer);
    (void)strlen(type);
    if (detail != NULL)
        (void)strlen(detail);
}

static void s_http(void *ud, const ww_ctx *ctx, const ww_http_msg *m)
{
    (void)ud;
    chk_ctx(ctx);
    const char *s[] = {m->method, m->url, m->host, m->version, m->content_type,
                       m->content_encoding, m->transfer_encoding};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (s[i] != NULL)
            (void)strlen(s[i]);
}

static void do_open(ww_app *app, int i, uint64_t ts)
{
    ww_flow *f = &flows[i];
    memset(f, 0, sizeof *f);
    f->id = (uint64_t)i + 1;
    f->cli_ip.family = 4;
    f->cli_ip.a[0] = 10;
    f->cli_ip.a[3] = (uint8_t)(i + 1);
    f->srv_ip.family = 4;
    f->srv_ip.a[0] = 192;
    f->srv_ip.a[3] = 1;
    f->cli_port = (uint16_t)(40000 + i);
    f->srv_port = i == 0 ? 80 : 443;
    f->first_ts_us = f->last_ts_us = ts;
    open_[i] = true;
    ww_app_on_open(app, f, ts);
}

static void do_close(ww_app *app, int i, int reason, uint64_t ts)
{
    ww_app_on_close(app, &flows[i], reason, ts);
    if (flows[i].app != NULL)
        __builtin_trap(); /* close must release the flow's app state */
    open_[i] = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ww_app_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    if (data[0] & 1) {
        cfg.max_header_bytes = 512;
        cfg.max_body_bytes = 2048;
        cfg.max_scan_bytes = 8192;
        cfg.json_max_depth = 8;
        cfg.max_decoded_ratio = 4;
    }
    cfg.hash_bodies = (data[0] & 2) != 0;
    ww_app_cfg_defaults(&cfg);
    ww_decode_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.served = s_served;
    sink.served_prov = (data[0] & 4) ? s_served_prov : NULL;
    sink.wallet_call = s_wallet;
    sink.anomaly = s_anomaly;
    sink.http = (data[0] & 8) ? s_http : NULL;
    ww_app *app = ww_app_new(&fuzz_mem, &cfg, &sink, NULL);
    if (app == NULL)
        return 0;
    uint64_t ts = 1700000000000000ull;
    do_open(app, 0, ts);
    do_open(app, 1, ts);
    size_t off = 1;
    while (off + 3 <= size) {
        uint8_t ctl = data[off];
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        int dir = ctl & 1, fi = (ctl >> 1) & 1, op = (ctl >> 2) & 3;
        ts += 1000;
        if (!open_[fi])
            do_open(app, fi, ts);
        ww_flow *f = &flows[fi];
        f->last_ts_us = ts;
        if (op == 2) {
            ww_app_on_gap(app, f, dir, len, ts);
            continue;
        }
        if (op == 3) {
            int reason = 1 + (ctl >> 4) % 5;
            do_close(app, fi, reason, ts);
            do_open(app, fi, ts);
            continue;
        }
        if (len > size - off)
            len = size - off;
        const uint8_t *p = data + off;
        off += len;
        size_t cut = len > 0 ? p[0] % (len + 1) : 0;
        if (cut > 0) {
            f->bytes[dir] += cut;
            ww_app_on_data(app, f, dir, p, cut, ts);
        }
        if (len > cut) {
            f->bytes[dir] += len - cut;
            ww_app_on_data(app, f, dir, p + cut, len - cut, ts);
        }
    }
    do_close(app, 0, WW_CLOSE_END, ts + 1);
    do_close(app, 1, WW_CLOSE_END, ts + 1);
    const ww_app_stats *st = ww_app_stats_get(app);
    if (st == NULL || st->tls_decrypted > st->tls_sessions)
        __builtin_trap();
    ww_app_free(app);
    return 0;
}
