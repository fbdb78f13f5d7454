/*
 * engine.c - the pipeline wired once (engine.h): stages, inputs, the loops every run mode
 * uses, and the fan-out of packets, served facts and alerts to subscribers.
 */
#include "engine/engine_int.h"
#include "decode/quic.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <time.h>

static uint64_t now_us(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void ww_engine_say(const ww_engine *e, const char *fmt, ...)
{
    va_list ap;
    if (e->cfg.log == NULL)
        return;
    va_start(ap, fmt);
    fputs("walletwatch: ", e->cfg.log);
    vfprintf(e->cfg.log, fmt, ap);
    fputc('\n', e->cfg.log);
    va_end(ap);
}
#define say ww_engine_say

/* ---- the offline filter ---- */

static int bpf_get(bpf_cache *bc, int linktype, struct bpf_program **out, char *err, size_t errn)
{
    for (size_t i = 0; i < bc->n; i++) {
        if (bc->linktype[i] == linktype) {
            *out = &bc->prog[i];
            return 0;
        }
    }
    if (bc->n == BPF_LINKTYPES_MAX) {
        snprintf(err, errn, "too many link types for the filter");
        return -1;
    }
    pcap_t *dead = pcap_open_dead(linktype, 262144);
    if (dead == NULL) {
        snprintf(err, errn, "cannot compile the filter for link type %d", linktype);
        return -1;
    }
    if (pcap_compile(dead, &bc->prog[bc->n], bc->expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errn, "bad filter '%s': %s", bc->expr, pcap_geterr(dead));
        pcap_close(dead);
        return -1;
    }
    pcap_close(dead);
    bc->linktype[bc->n] = linktype;
    *out = &bc->prog[bc->n++];
    return 0;
}

static void bpf_free(bpf_cache *bc)
{
    for (size_t i = 0; i < bc->n; i++)
        pcap_freecode(&bc->prog[i]);
    bc->n = 0;
}

/* 1 the packet passes, 0 it does not, -1 the filter cannot be compiled (err). */
static int bpf_pass(bpf_cache *bc, const ww_pkt *pkt, char *err, size_t errn)
{
    struct bpf_program *prog;
    struct pcap_pkthdr h;
    if (bc->expr == NULL)
        return 1;
    if (bpf_get(bc, pkt->linktype, &prog, err, errn) != 0)
        return -1;
    h.ts.tv_sec = (time_t)(pkt->ts_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(pkt->ts_us % 1000000);
    h.caplen = pkt->caplen;
    h.len = pkt->len;
    return pcap_offline_filter(prog, &h, pkt->data) != 0;
}

/* ---- built-in subscribers: alert latency, evidence ---- */

static void latency_alert(void *ud, const ww_ctx *ctx, const ww_alert *a)
{
    latency_sub *l = ud;
    (void)a;
    if (ctx == NULL || ctx->ts_us == 0)
        return;
    uint64_t now = now_us(CLOCK_REALTIME);
    uint64_t lat = now > ctx->ts_us ? now - ctx->ts_us : 0;
    l->n++;
    l->sum_us += lat;
    if (lat > l->max_us)
        l->max_us = lat;
}

void ww_engine_evidence_packet(ww_engine *e, const ww_pkt *pkt, const ww_seg *seg)
{
    ww_evidence_packet(e->evid.ev, pkt, seg);
    if (e->cfg.out_flush && ww_pcapngw_flush(e->evid.w) != WW_OK) /* -U, as tcpdump -w */
        e->evid.failed = true;
}

static void evidence_packet(void *ud, const ww_pkt *pkt, const ww_seg *seg)
{
    ww_engine_evidence_packet(ud, pkt, seg);
}

static void evidence_served(void *ud, const ww_ctx *ctx, const ww_addr *addr)
{
    ww_engine *e = ud;
    (void)addr;
    ww_evidence_served(e->evid.ev, ctx->flow);
}

/* Before the flagged packets: the key log so far, when --evidence-secrets (every secret of the
 * run, not only this flow's; a DSB is written again only when new secrets came). */
static void evidence_embed_secrets(ww_engine *e)
{
    evidence_sub *es = &e->evid;
    if (!es->secrets || ww_keylog_count(e->kl) <= es->secrets_embedded)
        return;
    ww_buf b;
    ww_buf_init(&b, NULL, 64u << 20);
    if (ww_keylog_export(e->kl, &b) != WW_OK ||
        ww_pcapngw_secrets(es->w, DSB_TLS_KEYLOG, b.data, b.len) != WW_OK)
        es->failed = true;
    else
        es->secrets_embedded = ww_keylog_count(e->kl);
    if (b.data != NULL)
        ww_wipe(b.data, b.len);
    ww_buf_free(&b);
}

static void evidence_alert(void *ud, const ww_ctx *ctx, const ww_alert *a)
{
    ww_engine *e = ud;
    (void)a;
    if (ctx == NULL || ctx->flow == NULL)
        return;
    evidence_embed_secrets(e);
    if (ww_evidence_flag(e->evid.ev, ctx->flow) != WW_OK)
        e->evid.failed = true;
    if (e->cfg.out_flush && ww_pcapngw_flush(e->evid.w) != WW_OK)
        e->evid.failed = true;
}

void ww_engine_evidence_close(ww_engine *e, const ww_flow *f)
{
    ww_evidence_close(e->evid.ev, f);
}

static void evidence_flow_close(void *ud, const ww_flow *f)
{
    ww_engine_evidence_close(ud, f);
}

static int evidence_open(ww_engine *e, char errbuf[WW_ERRBUF_SIZE])
{
    char err[WW_ERRBUF_SIZE];
    const char *comment =
        e->cfg.evidence_secrets
            ? "walletwatch evidence: the packets of flagged flows and of the flows that "
              "served addresses to their clients. Holds TLS secrets (Decryption Secrets "
              "Blocks, --evidence-secrets): handle it as secret material."
            : "walletwatch evidence: the packets of flagged flows and of the flows that "
              "served addresses to their clients. No key material: TLS stays encrypted "
              "(run with --evidence-secrets to embed the key log).";
    if (ww_pcapngw_open(&e->evid.w, e->cfg.evidence_path, comment, err) != WW_OK) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "-w %.*s", WW_ERRBUF_SIZE - 4, err);
        return WW_E_IO;
    }
    e->evid.ev = ww_evidence_new(e->cfg.mem, NULL, e->evid.w);
    if (e->evid.ev == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "out of memory");
        return WW_E_NOMEM;
    }
    e->evid.secrets = e->cfg.evidence_secrets;
    return WW_OK;
}

/* ---- fan-out ---- */

static void fan_packet(ww_engine *e, const ww_pkt *pkt, const ww_seg *seg)
{
    for (size_t i = 0; i < e->n_subs; i++)
        if (e->subs[i].packet != NULL)
            e->subs[i].packet(e->subs[i].ud, pkt, seg);
}

static void fan_alert(void *ud, const ww_ctx *ctx, const ww_alert *a)
{
    ww_engine *e = ud;
    for (size_t i = 0; i < e->n_subs; i++)
        if (e->subs[i].alert != NULL)
            e->subs[i].alert(e->subs[i].ud, ctx, a);
}

static void fan_flow_close(ww_engine *e, const ww_flow *f)
{
    for (size_t i = 0; i < e->n_subs; i++)
        if (e->subs[i].flow_close != NULL)
            e->subs[i].flow_close(e->subs[i].ud, f);
}

/* The decode sink the app layer sees: served facts go to the subscribers, then everything to
 * detect's own sink. The optional members stay NULL where detect's are (the app layer's
 * body policy depends on which are wanted). */
static void notify_served(const ww_engine *e, const ww_ctx *ctx, const ww_addr *addr)
{
    if (ctx->flow != NULL)
        for (size_t i = 0; i < e->n_subs; i++)
            if (e->subs[i].served != NULL)
                e->subs[i].served(e->subs[i].ud, ctx, addr);
}
static void fw_served(void *ud, const ww_ctx *ctx, const ww_addr *addr)
{
    const ww_engine *e = ud;
    notify_served(e, ctx, addr);
    e->det_sink.served(e->det_sink.ud, ctx, addr);
}
static void fw_served_run(void *ud, const ww_ctx *ctx, const ww_addr *a, size_t n)
{
    const ww_engine *e = ud;
    for (size_t i = 0; i < n; i++) {
        ww_detect_prefetch_run(e->det, ctx, a, n, i);
        notify_served(e, ctx, &a[i]);
        e->det_sink.served(e->det_sink.ud, ctx, &a[i]);
    }
}
static void fw_served_prov(void *ud, const ww_ctx *ctx, const ww_addr *addr, int prov)
{
    const ww_engine *e = ud;
    notify_served(e, ctx, addr);
    e->det_sink.served_prov(e->det_sink.ud, ctx, addr, prov);
}
static void fw_wallet_call(void *ud, const ww_ctx *ctx, const ww_wallet_call *wc)
{
    const ww_engine *e = ud;
    e->det_sink.wallet_call(e->det_sink.ud, ctx, wc);
}
static void fw_anomaly(void *ud, const ww_ctx *ctx, const char *layer, const char *type,
                       const char *detail)
{
    const ww_engine *e = ud;
    e->det_sink.anomaly(e->det_sink.ud, ctx, layer, type, detail);
}
static void fw_http(void *ud, const ww_ctx *ctx, const ww_http_msg *msg)
{
    const ww_engine *e = ud;
    e->det_sink.http(e->det_sink.ud, ctx, msg);
}
static void fw_script(void *ud, const ww_ctx *ctx, const ww_addr *addrs, size_t n)
{
    const ww_engine *e = ud;
    e->det_sink.script(e->det_sink.ud, ctx, addrs, n);
}
static void fw_script_body(void *ud, const ww_ctx *ctx, const uint8_t *p, size_t n)
{
    const ww_engine *e = ud;
    e->det_sink.script_body(e->det_sink.ud, ctx, p, n);
}
static void fw_rpc_result(void *ud, const ww_ctx *ctx, const char *method,
                          const struct ww_jsonrpc_resp *resp)
{
    const ww_engine *e = ud;
    e->det_sink.rpc_result(e->det_sink.ud, ctx, method, resp);
}
static void fw_unchecked_call(void *ud, const ww_ctx *ctx, const char *detail)
{
    const ww_engine *e = ud;
    e->det_sink.unchecked_call(e->det_sink.ud, ctx, detail);
}

static void engine_sink(ww_engine *e, ww_decode_sink *s)
{
    const ww_decode_sink *d = &e->det_sink;
    memset(s, 0, sizeof *s);
    s->ud = e;
    s->served = d->served ? fw_served : NULL;
    s->served_run = d->served ? fw_served_run : NULL;
    s->served_prov = d->served_prov ? fw_served_prov : NULL;
    s->wallet_call = d->wallet_call ? fw_wallet_call : NULL;
    s->anomaly = d->anomaly ? fw_anomaly : NULL;
    s->http = d->http ? fw_http : NULL;
    s->script = d->script ? fw_script : NULL;
    s->script_body = d->script_body ? fw_script_body : NULL;
    s->rpc_result = d->rpc_result ? fw_rpc_result : NULL;
    s->unchecked_call = d->unchecked_call ? fw_unchecked_call : NULL;
}

/* ---- TCP stream callbacks: the app layer, then the subscribers ---- */

void ww_engine_midstream(ww_engine *e, const ww_ip *cli, uint64_t ts_us)
{
    bool start = ts_us <= e->first_ts || ts_us - e->first_ts <= WW_ENGINE_START_US;
    ww_detect_history_unseen(e->det, cli, ts_us, start);
}

static void st_open(void *ud, ww_flow *f, uint64_t ts_us)
{
    ww_engine *e = ud;
    f->id = e->seq; /* the number of the packet that opened it: the same with any --workers */
    if (f->midstream)
        ww_engine_midstream(e, &f->cli_ip, ts_us);
    ww_app_on_open(e->app, f, ts_us);
}
static void st_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    ww_app_on_data(((ww_engine *)ud)->app, f, dir, p, n, ts_us);
}
static void st_gap(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts_us)
{
    ww_app_on_gap(((ww_engine *)ud)->app, f, dir, len, ts_us);
}
static void st_close(void *ud, ww_flow *f, int reason, uint64_t ts_us)
{
    ww_engine *e = ud;
    ww_app_on_close(e->app, f, reason, ts_us);
    fan_flow_close(e, f);
}
static void st_anomaly(void *ud, uint64_t ts_us, const ww_flow *f, const char *layer,
                       const char *type, const char *detail)
{
    ww_engine *e = ud;
    if (e->wk != NULL) /* sharded: only pktdec (the reader's) reports here, without a flow */
        ww_workers_reader_anomaly(e, ts_us, layer, type, detail);
    else
        ww_app_on_anomaly(e->app, ts_us, f, layer, type, detail);
}

/* ---- QUIC callbacks (UDP from pktdec): the app layer's HTTP/3, then the subscribers ---- */

/* A QUIC datagram also goes to the evidence rings (by its 4-tuple, as a TCP segment): after
 * QUIC took it, so an alert it raised has flagged its flow and it is written right after the
 * ring. Other UDP is not kept. */
static void on_udp(void *ud, const ww_udp_dgram *dg)
{
    ww_engine *e = ud;
    if (e->wk != NULL) {
        ww_workers_udp(e, dg);
        return;
    }
    if (ww_quic_datagram(e->quic, dg) && e->evid.ev != NULL && e->cur_pkt != NULL) {
        ww_seg seg = {.ts_us = dg->ts_us, .src = dg->src, .dst = dg->dst, .sport = dg->sport,
                      .dport = dg->dport, .payload = dg->payload, .len = dg->len,
                      .wire_len = dg->wire_len};
        ww_evidence_packet(e->evid.ev, e->cur_pkt, &seg);
    }
}
static void q_open(void *ud, ww_flow *f, uint64_t ts_us)
{
    ww_app_quic_open(((ww_engine *)ud)->app, f, ts_us);
}
static void q_stream(void *ud, ww_flow *f, int dir, uint64_t sid, const uint8_t *p, size_t n,
                     bool fin, uint64_t ts_us)
{
    ww_app_quic_stream(((ww_engine *)ud)->app, f, dir, sid, p, n, fin, ts_us);
}
static void q_reset(void *ud, ww_flow *f, int dir, uint64_t sid, uint64_t error_code,
                    uint64_t ts_us)
{
    (void)error_code;
    ww_app_quic_reset(((ww_engine *)ud)->app, f, dir, sid, ts_us);
}
static void q_close(void *ud, ww_flow *f, int reason, uint64_t ts_us)
{
    ww_engine *e = ud;
    (void)reason;
    ww_app_quic_close(e->app, f, ts_us);
    fan_flow_close(e, f);
}
static uint64_t q_next_flow_id(void *ud)
{
    return ((ww_engine *)ud)->seq;
}

/* ---- construction ---- */

static int open_output(ww_engine *e, char errbuf[WW_ERRBUF_SIZE])
{
    const char *path = e->cfg.out_path;
    if (path == NULL) {
        e->jsonl = e->cfg.out.jsonl;
        return WW_OK;
    }
    if (strcmp(path, "-") == 0) {
        e->jsonl = stdout;
        return WW_OK;
    }
    /* appended to by default: a restarted sensor keeps the events it wrote before */
    e->jsonl = fopen(path, e->cfg.out_truncate ? "w" : "a");
    if (e->jsonl == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "-o %s: %s", path, strerror(errno));
        return WW_E_IO;
    }
    if (e->cfg.out_flush) /* every event is one line */
        (void)setvbuf(e->jsonl, NULL, _IOLBF, 0);
    e->jsonl_owned = true;
    return WW_OK;
}

static int add_builtin_subs(ww_engine *e)
{
    int rc = WW_OK;
    if (e->cfg.live) {
        ww_engine_sub s = {.ud = &e->lat, .alert = latency_alert};
        rc |= ww_engine_subscribe(e, &s);
    }
    if (e->evid.ev != NULL) {
        ww_engine_sub s = {e, evidence_packet, evidence_served, evidence_alert,
                           evidence_flow_close};
        e->evid.sub = e->n_subs;
        rc |= ww_engine_subscribe(e, &s);
    }
    return rc;
}

/* detect -> the writer; app -> (engine sink) -> detect; pktdec and tcp -> app. */
static int build_stages(ww_engine *e)
{
    const ww_mem *mem = e->cfg.mem;
    ww_out_cfg oc = e->cfg.out;
    oc.jsonl = e->jsonl;
    oc.report = e->report; /* the HTML report hears calls, findings and answers from the writer */
    if (oc.jsonl == stdout && oc.format == WW_FMT_JSONL)
        oc.console = NULL; /* -o - with --format jsonl: the events once */
    e->out = ww_out_new(mem, &oc);
    if (e->out == NULL)
        return WW_E_NOMEM;
    ww_detect_cfg dc = e->cfg.detect;
    dc.alert_raised = fan_alert;
    dc.alert_ud = e;
    e->det = ww_detect_new(mem, &dc, e->out);
    if (e->det == NULL)
        return WW_E_NOMEM;
    ww_detect_sink(e->det, &e->det_sink);
    engine_sink(e, &e->sink);
    e->app = ww_app_new(mem, &e->cfg.app, &e->sink, e->kl);
    if (e->app == NULL)
        return WW_E_NOMEM;
    ww_stream_cbs cbs = {e, st_open, st_data, st_gap, st_close, st_anomaly};
    e->pd = ww_pktdec_new(mem, e->cfg.pktdec, st_anomaly, e);
    e->tcp = e->pd ? ww_tcp_new(mem, e->cfg.tcp, &cbs) : NULL;
    if (e->tcp == NULL)
        return WW_E_NOMEM;
    ww_quic_cbs qc = {.ud = e, .open = q_open, .stream_data = q_stream, .stream_reset = q_reset,
                      .close = q_close, .anomaly = st_anomaly, .next_flow_id = q_next_flow_id};
    e->quic = ww_quic_new(mem, NULL, &qc, e->kl); /* the key log TLS gets: files, follows, DSBs */
    if (e->quic == NULL)
        return WW_E_NOMEM;
    ww_pktdec_set_udp_fn(e->pd, on_udp, e);
    return WW_OK;
}

int ww_engine_new(ww_engine **out, const ww_engine_cfg *cfg, char errbuf[WW_ERRBUF_SIZE])
{
    int rc;
    *out = NULL;
    ww_engine *e = ww_calloc(cfg->mem, 1, sizeof(*e));
    if (e == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "out of memory");
        return WW_E_NOMEM;
    }
    e->cfg = *cfg;
    e->bpf.expr = cfg->bpf;
    if (cfg->bpf != NULL) { /* checked before the first packet */
        struct bpf_program *prog;
        if (bpf_get(&e->bpf, WW_LINK_ETHERNET, &prog, errbuf, WW_ERRBUF_SIZE) != 0) {
            ww_engine_free(e);
            return WW_E_INVALID;
        }
    }
    e->kl = ww_keylog_new(cfg->mem);
    if (e->kl != NULL) /* records wait for a key only while one can come: a followed key log
                          or a pcapng input (DSBs) says so (ww_engine_follow_keylog/_attach) */
        ww_keylog_set_keys_may_come(e->kl, false);
    if (e->kl != NULL && cfg->key_wait_budget > 0)
        ww_keylog_set_wait_budget(e->kl, cfg->key_wait_budget);
    if (e->kl != NULL && cfg->key_grace_us > 0)
        ww_keylog_set_late_key_grace_us(e->kl, cfg->key_grace_us);
    rc = e->kl != NULL ? open_output(e, errbuf) : WW_E_NOMEM;
    if (rc == WW_OK && cfg->evidence_path != NULL)
        rc = evidence_open(e, errbuf);
    if (rc == WW_OK && cfg->report && (e->report = ww_report_new()) == NULL)
        rc = WW_E_NOMEM;
    if (rc == WW_OK)
        rc = build_stages(e);
    if (rc == WW_OK && add_builtin_subs(e) != WW_OK)
        rc = WW_E_NOMEM;
    if (rc != WW_OK) {
        if (rc == WW_E_NOMEM)
            snprintf(errbuf, WW_ERRBUF_SIZE, "out of memory");
        ww_engine_free(e);
        return rc;
    }
    *out = e;
    return WW_OK;
}

int ww_engine_subscribe(ww_engine *e, const ww_engine_sub *sub)
{
    if (e->n_subs == WW_ENGINE_MAX_SUBS)
        return WW_E_TOOBIG;
    e->subs[e->n_subs++] = *sub;
    return WW_OK;
}

/* ---- key material ---- */

int ww_engine_load_keylog(ww_engine *e, const char *path, char errbuf[WW_ERRBUF_SIZE])
{
    return ww_keylog_load_file(e->kl, path, errbuf);
}

/* Key log text that came during the run (a DSB, a followed file's new lines): the engine's
 * key log, and with --workers every worker's copy at this point of its input. */
static void keys_text(void *ud, const uint8_t *p, size_t n)
{
    ww_engine *e = ud;
    if (e->wk == NULL || !ww_workers_keys_merged(e))
        ww_keylog_add_text(e->kl, p, n);
    if (e->wk != NULL)
        ww_workers_keys(e, p, n);
}

int ww_engine_follow_keylog(ww_engine *e, const char *path)
{
    if (e->n_follow == FOLLOW_MAX)
        return WW_E_TOOBIG;
    ww_kl_follow *f = &e->follow[e->n_follow++];
    memset(f, 0, sizeof *f);
    ww_keylog_set_keys_may_come(e->kl, true); /* a followed key log grows */
    e->keys_may_come = true;
    f->path = path;
    if (e->wk != NULL) /* keys may come from now on: the workers' copies too */
        ww_workers_keys(e, NULL, 0);
    return ww_kl_follow_poll(f, keys_text, e) ? WW_OK : WW_E_IO;
}

size_t ww_engine_keylog_bad_lines(const ww_engine *e)
{
    return ww_keylog_bad_lines(e->kl);
}

static void on_secrets(void *ud, uint32_t type, const uint8_t *data, size_t len)
{
    if (type == DSB_TLS_KEYLOG)
        keys_text(ud, data, len);
}

/* A replayed pipe that has nothing to read: the workers finish the packets in hand, so their
 * events are out (with -U flushed) while the writer of the pipe pauses, as with one thread. */
static void on_input_idle(void *ud)
{
    ww_engine *e = ud;
    if (e->wk != NULL)
        ww_workers_drain(e);
}

void ww_engine_attach(ww_engine *e, ww_source *src)
{
    ww_source_set_secrets_fn(src, on_secrets, e);
    ww_source_on_idle(src, on_input_idle, e);
    ww_source_set_anomaly_fn(src, st_anomaly, e); /* damaged blocks */
    if (ww_source_may_carry_secrets(src)) { /* pcapng: DSBs may bring keys later */
        ww_keylog_set_keys_may_come(e->kl, true);
        e->keys_may_come = true;
        if (e->wk != NULL) /* a pcapng after a classic pcap: the workers' copies too */
            ww_workers_keys(e, NULL, 0);
    }
}

static void follow_all(ww_engine *e)
{
    for (size_t i = 0; i < e->n_follow; i++)
        if (!ww_kl_follow_poll(&e->follow[i], keys_text, e) && e->cfg.verbose > 0)
            say(e, "key log %s: %s", e->follow[i].path, strerror(errno));
}

/* ---- packets and the clock ---- */

/* Late keys: sessions of closed connections retried when the key log grew; live, given up
 * once their grace period passed (a replay waits for the end of its input). */
static void keys_tick(ww_engine *e, uint64_t now, bool final)
{
    ww_app_keys_tick(e->app, now, e->cfg.live ? ww_keylog_late_key_grace_us(e->kl) : UINT64_MAX,
                     final);
}

/* Idle flows are swept at tick points: the first packet of each second of packet time (a
 * sweep closes every idle flow, whatever the others: the same flows close at the same packet
 * whether one table holds them or --workers shards do). */
static inline bool tick_point(ww_engine *e)
{
    if (e->last_ts < e->next_tick)
        return false;
    e->next_tick = (e->last_ts / WW_ENGINE_TICK_US + 1) * WW_ENGINE_TICK_US;
    return true;
}

/* One packet through decode -> (subscribers) -> reassembly; the clock is packet time. */
static inline void process(ww_engine *e, const ww_pkt *pkt)
{
    ww_seg seg;
    if (pkt->ts_us > e->last_ts)
        e->last_ts = pkt->ts_us;
    if (e->first_ts == 0 || pkt->ts_us < e->first_ts)
        e->first_ts = pkt->ts_us;
    e->seq++;
    if (!e->wk_tried) { /* --workers: decided before the first packet */
        e->wk_tried = true;
        (void)ww_workers_start(e);
    }
    if (e->wk != NULL) {
        ww_workers_packet(e, pkt);
        return;
    }
    e->cur_pkt = pkt;
    ww_tcp_set_seq(e->tcp, e->seq);
    ww_quic_set_seq(e->quic, e->seq);
    int r = ww_pktdec_decode(e->pd, pkt, &seg);
    e->cur_pkt = NULL;
    if (r == 1) {
        if (seg.has_src_mac) /* a host's IPv4 and IPv6 addresses are one browser (issue 13.5) */
            ww_detect_learn_mac(e->det, seg.src_mac, &seg.src, seg.ts_us);
        fan_packet(e, pkt, &seg);
        ww_tcp_segment(e->tcp, &seg);
    }
    bool tick = tick_point(e);
    if (tick)
        ww_tcp_sweep(e->tcp, e->last_ts);
    ww_quic_tick_keys(e->quic, e->last_ts);
    if (tick)
        ww_quic_tick_idle(e->quic, e->last_ts);
    keys_tick(e, e->last_ts, false);
}

int ww_engine_packet(ww_engine *e, const ww_pkt *pkt)
{
    char err[WW_ERRBUF_SIZE];
    int pass = bpf_pass(&e->bpf, pkt, err, sizeof err);
    if (pass < 0) {
        say(e, "%s", err);
        return WW_E_INVALID;
    }
    if (pass == 0) {
        e->filtered++;
        return 0;
    }
    e->kept++;
    process(e, pkt);
    return 1;
}

void ww_engine_tick(ww_engine *e, uint64_t now_us_)
{
    follow_all(e); /* followed key logs: read what they gained */
    if (e->wk != NULL) { /* what the tick released is out when this returns */
        ww_workers_tick(e, now_us_, true);
        ww_workers_drain(e);
        return;
    }
    ww_tcp_sweep(e->tcp, now_us_);
    ww_quic_tick(e->quic, now_us_);
    keys_tick(e, now_us_, false);
}

/* ---- -o rotation ---- */

bool ww_engine_reopen_output(ww_engine *e)
{
    const char *path = e->cfg.out_path;
    if (!e->jsonl_owned)
        return true;
    FILE *nf = fopen(path, "a");
    if (nf == NULL) {
        say(e, "SIGHUP: cannot reopen -o %s: %s", path, strerror(errno));
        e->reopen_failed = true;
        return false;
    }
    if (e->cfg.out_flush)
        (void)setvbuf(nf, NULL, _IOLBF, 0);
    ww_out_set_jsonl(e->out, nf);
    if (fclose(e->jsonl) != 0)
        e->reopen_failed = true;
    e->jsonl = nf;
    if (e->cfg.verbose > 0)
        say(e, "SIGHUP: reopened %s", path);
    return true;
}

bool ww_engine_output_failed(const ww_engine *e)
{
    return ww_out_failed(e->out) || e->reopen_failed;
}

static bool ctl_stop(const ww_engine_ctl *ctl)
{
    return ctl != NULL && ctl->stop != NULL && *ctl->stop;
}

static void ctl_poll(ww_engine *e, const ww_engine_ctl *ctl)
{
    if (ctl == NULL || ctl->reopen == NULL || !*ctl->reopen)
        return;
    *ctl->reopen = 0;
    (void)ww_engine_reopen_output(e);
}

/* -c: has the count been reached? */
static bool ctl_count_reached(const ww_engine *e, const ww_engine_ctl *ctl)
{
    return ctl != NULL && ctl->max_packets > 0 && e->kept >= ctl->max_packets;
}

/* Between packets (and on idle live reads): a periodic stats event when one is due (packet
 * time on a replay, wall time live), then the caller's poll. */
static void ctl_between(ww_engine *e, const ww_engine_ctl *ctl, ww_source *src)
{
    if (ctl == NULL)
        return;
    if (ctl->stats_interval_us > 0) {
        uint64_t now = e->cfg.live ? now_us(CLOCK_REALTIME_COARSE) : e->last_ts;
        if (e->next_stats_us == 0 && now > 0) {
            e->next_stats_us = now + ctl->stats_interval_us;
        } else if (e->next_stats_us > 0 && now >= e->next_stats_us) {
            if (e->wk != NULL) /* in the events' order: the counters as of this packet */
                ww_workers_interval_stats(e, now, ww_source_drops(src));
            else
                ww_engine_write_interval_stats(e, now, ww_source_drops(src));
            e->next_stats_us += ctl->stats_interval_us;
            if (e->next_stats_us <= now) /* a gap in the capture: one event, then on */
                e->next_stats_us = now + ctl->stats_interval_us;
        }
    }
    if (ctl->poll != NULL)
        ctl->poll(ctl->poll_ud, e, src);
}

/* ---- the loops ---- */

int ww_engine_replay(ww_engine *e, ww_source *src, const char *path, const ww_engine_ctl *ctl)
{
    ww_pkt pkt;
    char errbuf[WW_ERRBUF_SIZE];
    int rc;
    ww_engine_attach(e, src);
    if (ctl_count_reached(e, ctl))
        return 1;
    while (!ctl_stop(ctl) && (rc = ww_source_next(src, &pkt, errbuf)) == 1) {
        ctl_poll(e, ctl);
        if (ww_engine_output_failed(e))
            return -3;
        if (ww_engine_packet(e, &pkt) < 0)
            return -2;
        ctl_between(e, ctl, src);
        if (ctl_count_reached(e, ctl)) { /* -c: the rest of the input is not read */
            e->drops += ww_source_drops(src);
            return 1;
        }
    }
    if (e->wk != NULL) /* this input's events out before the next input is waited for */
        ww_workers_drain(e);
    e->drops += ww_source_drops(src);
    if (ctl_stop(ctl)) {
        e->interrupted = true; /* the verdict says so (exit 3) */
        return 0;
    }
    if (rc == WW_E_TRUNC || rc == WW_E_INVALID) {
        say(e, "warning: %s: %s", path, errbuf);
        st_anomaly(e, e->last_ts, NULL, "pcap",
                   rc == WW_E_TRUNC ? "truncated-file" : "corrupt-file", errbuf);
        return 0;
    }
    if (rc < 0) {
        say(e, "%s: %s", path, errbuf);
        return -1;
    }
    return 0;
}

int ww_engine_live(ww_engine *e, ww_source *src, const ww_engine_ctl *ctl)
{
    ww_pkt pkt;
    char errbuf[WW_ERRBUF_SIZE];
    uint64_t next_poll = 0;
    while (!ctl_stop(ctl)) {
        ctl_poll(e, ctl);
        int rc = ww_source_next(src, &pkt, errbuf);
        if (e->n_follow > 0) { /* the key log before the packet that may need it */
            uint64_t now = now_us(CLOCK_MONOTONIC_COARSE);
            if (now >= next_poll || rc == WW_SRC_IDLE) {
                follow_all(e);
                next_poll = now + FOLLOW_POLL_US;
            }
        }
        if (rc == 1) {
            e->kept++;
            process(e, &pkt);
        } else if (rc == WW_SRC_IDLE) {
            uint64_t wall = now_us(CLOCK_REALTIME);
            /* idle flows time out while nothing comes (swept every WW_ENGINE_IDLE_SWEEP_US) */
            bool sweep = wall > e->last_ts && wall >= e->next_idle_sweep;
            if (sweep)
                e->next_idle_sweep = wall + WW_ENGINE_IDLE_SWEEP_US;
            if (e->wk != NULL) {
                if (wall > e->last_ts)
                    ww_workers_tick(e, wall, sweep);
                /* the ring is empty: wait for the workers to finish the packets in hand, so
                 * their alerts are out now, not after the source's next wait (LIVE_POLL_MS) */
                ww_workers_drain(e);
            } else {
                if (sweep)
                    ww_tcp_sweep(e->tcp, wall);
                if (wall > e->last_ts)
                    ww_quic_tick_keys(e->quic, wall);
                if (sweep)
                    ww_quic_tick_idle(e->quic, wall);
                keys_tick(e, WW_MAX(wall, e->last_ts), false); /* grown key logs, grace periods */
            }
        } else if (rc == 0) {
            break;
        } else {
            say(e, "%s", errbuf);
            return -1;
        }
        if (ww_engine_output_failed(e))
            return -3;
        ctl_between(e, ctl, src);
        if (ctl_count_reached(e, ctl))
            return 1;
    }
    return 0;
}

/* ---- the end ---- */

/* The counters of every stage into st (the run may go on). */
static void fill_stats(const ww_engine *e, uint64_t drops, ww_run_stats *st)
{
    const ww_keywait_stats *kw = ww_keylog_wait_stats(e->kl);
    const ww_pktdec_stats *ps = ww_pktdec_stats_get(e->pd);
    const ww_tcp_stats *ts = ww_tcp_stats_get(e->tcp);
    const ww_app_stats *as = ww_app_stats_get(e->app);
    const ww_quic_stats *qs = ww_quic_stats_get(e->quic);
    ww_tcp_stats wts;
    ww_app_stats was;
    ww_quic_stats wqs;
    ww_keywait_stats wkw;
    if (e->wk != NULL) { /* --workers: their counters summed (as of their last block) */
        ww_workers_stats(e, &wts, &was, &wqs, &wkw);
        ts = &wts, as = &was, qs = &wqs, kw = &wkw;
    }
    ww_engine_fill_stats(e, drops, ps, ts, as, qs, kw, st);
}

void ww_engine_fill_stats(const ww_engine *e, uint64_t drops, const ww_pktdec_stats *ps,
                          const ww_tcp_stats *ts, const ww_app_stats *as,
                          const ww_quic_stats *qs, const ww_keywait_stats *kw, ww_run_stats *st)
{
    const ww_detect_stats *ds = ww_detect_stats_get(e->det);
    memset(st, 0, sizeof *st);
    st->packets = ps->packets;
    st->bytes = ps->bytes;
    st->flows = ts->flows;
    st->tls_sessions = as->tls_sessions;
    st->tls_decrypted = as->tls_decrypted;
    st->tls_undecryptable = as->tls_undecryptable;
    st->http_messages = as->http_messages;
    st->rpc_calls = as->rpc_calls;
    st->wallet_calls = ds->wallet_calls;
    st->intents = ds->intents;
    st->alerts = ds->alerts;
    st->anomalies = ds->anomalies;
    st->drops = e->drops + drops;
    st->keywait_bytes_peak = kw->bytes_peak;
    st->keywait_evicted = kw->evicted;
    st->quic_sessions = qs->conns;
    st->quic_decrypted = as->quic_decrypted;
    st->quic_undecryptable = as->quic_undecryptable;
    st->suppressed = ds->suppressed;
    st->clients_evicted = ds->clients_evicted;
    st->served_dropped = ds->served_dropped;
    st->served_pairs = ds->served_pairs;
    st->mac_aliases = ds->mac_aliases;
    st->clients_unseen = ds->clients_unseen;
    st->evicted = ts->evicted;
    st->interrupted = e->interrupted;
}

void ww_engine_end(ww_engine *e, uint64_t drops)
{
    if (e->wk != NULL) { /* every worker's flows closed, their facts merged, threads joined */
        ww_workers_end_keys(e); /* what follow_all reads now goes with the end, after the */
        follow_all(e);          /* flows closed and before the last retry, as below */
        ww_workers_end(e);
    }
    ww_tcp_finish(e->tcp, e->last_ts);
    ww_quic_finish(e->quic, e->last_ts);
    follow_all(e); /* keys written since the last poll */
    keys_tick(e, e->last_ts, true);
    fill_stats(e, drops, &e->st);
}

void ww_engine_counts(const ww_engine *e, uint64_t drops, ww_run_stats *st)
{
    fill_stats(e, drops, st);
}

void ww_engine_write_interval_stats(ww_engine *e, uint64_t ts_us, uint64_t drops)
{
    ww_run_stats st;
    fill_stats(e, drops, &st);
    ww_out_stats_interval(e->out, ts_us, &st);
}

const ww_run_stats *ww_engine_stats(const ww_engine *e)
{
    return &e->st;
}

void ww_engine_write_stats(ww_engine *e)
{
    uint64_t ts = e->last_ts; /* live: now, after the --stats-interval events (wall time) */
    if (e->cfg.live && e->next_stats_us > 0)
        ts = WW_MAX(ts, now_us(CLOCK_REALTIME));
    ww_out_stats(e->out, ts, &e->st);
}

int ww_engine_write_report(ww_engine *e, const char *path, const char *title)
{
    if (e->report == NULL)
        return WW_OK;
    FILE *hf = fopen(path, "w");
    if (hf == NULL)
        return WW_E_IO;
    int rc = ww_engine_write_report_to(e, hf, title);
    if (fclose(hf) != 0)
        rc = WW_E_IO;
    return rc;
}

int ww_engine_write_report_to(ww_engine *e, FILE *f, const char *title)
{
    if (e->report == NULL)
        return WW_OK;
    ww_report_stats(e->report, &e->st, e->first_ts, e->last_ts);
    ww_report_inconclusive(e->report, ww_out_inconclusive(e->out));
    int rc = ww_report_write(e->report, f, title);
    if (fflush(f) != 0 || ferror(f))
        rc = WW_E_IO;
    return rc;
}

int ww_engine_finish_output(ww_engine *e)
{
    if (e->reopen_failed)
        return WW_E_IO;
    return ww_out_finish(e->out) != WW_OK || ww_out_failed(e->out) ? WW_E_IO : WW_OK;
}

int ww_engine_output_errno(const ww_engine *e)
{
    return ww_out_errno(e->out);
}

int ww_engine_close_evidence(ww_engine *e)
{
    if (e->evid.w == NULL)
        return WW_OK;
    int rc = ww_pcapngw_close(e->evid.w);
    e->evid.w = NULL;
    return rc != WW_OK || e->evid.failed ? WW_E_IO : WW_OK;
}

const char *ww_engine_inconclusive(const ww_engine *e)
{
    return ww_out_inconclusive(e->out);
}

int ww_engine_worst(const ww_engine *e)
{
    return ww_detect_stats_get(e->det)->worst;
}

void ww_engine_latency(const ww_engine *e, uint64_t *n, uint64_t *sum_us, uint64_t *max_us)
{
    *n = e->lat.n;
    *sum_us = e->lat.sum_us;
    *max_us = e->lat.max_us;
}

const ww_evidence_stats *ww_engine_evidence_stats(const ww_engine *e)
{
    return e->evid.ev != NULL ? ww_evidence_stats_get(e->evid.ev) : NULL;
}

void ww_engine_free(ww_engine *e)
{
    if (e == NULL)
        return;
    ww_workers_free(e);
    if (e->tcp != NULL)
        ww_tcp_free(e->tcp);
    ww_quic_free(e->quic);
    if (e->pd != NULL)
        ww_pktdec_free(e->pd);
    ww_evidence_free(e->evid.ev);
    if (e->evid.w != NULL)
        (void)!ww_pcapngw_close(e->evid.w);
    ww_app_free(e->app);
    ww_detect_free(e->det);
    ww_out_free(e->out);
    if (e->jsonl_owned && e->jsonl != NULL)
        fclose(e->jsonl);
    if (e->kl != NULL)
        ww_keylog_free(e->kl);
    ww_report_free(e->report);
    bpf_free(&e->bpf);
    ww_free(e->cfg.mem, e);
}
