/*
 * engine.h - the walletwatch pipeline, wired once. Every entry point runs it: the command
 * line (replay and live capture), the end-to-end tests, the whole-pipeline fuzzers and
 * `make bench` (through the command line).
 *
 *   packets (file, memory, live)
 *     -> offline BPF filter (replay only; live filters on the handle)
 *     -> pktdec (link, IP, fragments)  -> subscribers' packet()   (evidence rings)
 *     -> tcp (reassembly)              [a UDP -> quic path plugs in beside tcp]
 *     -> app (TLS, HTTP/1.1, HTTP/2, WebSocket -> the HTTP message layer)
 *     -> served facts -> subscribers' served() -> detect
 *     -> detect (rules) -> the event writer (JSON lines, text, JUnit)
 *                       -> alerts -> subscribers' alert()  (HTML report, evidence, latency)
 *   key logs (files, files followed while they grow, pcapng DSBs) -> the engine's key log
 *   the clock: packet time; idle ticks from the wall clock while a live source is quiet
 *
 * An engine holds no global state: several can run at once (one per worker thread later).
 * It never calls back into its caller except through subscribers the caller registered.
 */
#ifndef WW_ENGINE_H
#define WW_ENGINE_H

#include "capture/capture.h"
#include "decode/decode.h"
#include "detect/detect.h"

#include <signal.h>
#include <stdio.h>

typedef struct ww_engine ww_engine;

/* What a subscriber hears. Every function may be NULL. Called in registration order. */
typedef struct ww_engine_sub {
    void *ud;
    /* a decoded TCP packet (seg: its segment), before reassembly takes it */
    void (*packet)(void *ud, const ww_pkt *pkt, const ww_seg *seg);
    /* an address served to a client on ctx->flow (never NULL), before detection weighs it */
    void (*served)(void *ud, const ww_ctx *ctx, const ww_addr *addr);
    /* an alert, after the event writer wrote it (ctx->flow NULL when it has no flow) */
    void (*alert)(void *ud, const ww_ctx *ctx, const ww_alert *a);
    /* a flow ends, after the application layer released it */
    void (*flow_close)(void *ud, const ww_flow *f);
} ww_engine_sub;

#define WW_ENGINE_MAX_SUBS 8
#define WW_ENGINE_MAX_WORKERS 64

typedef struct ww_engine_cfg {
    const ww_mem *mem;
    FILE *log; /* warnings and -v notes ("walletwatch: ..."); NULL = silent */
    int verbose;
    bool quiet;
    /* stages; zero fields take each stage's defaults */
    ww_app_cfg app;
    ww_detect_cfg detect;        /* alert_raised is the engine's own */
    const ww_pktdec_cfg *pktdec; /* NULL = defaults */
    const ww_tcp_cfg *tcp;       /* NULL = defaults */
    /* the event writer: out.jsonl is replaced by out_path when that is set */
    ww_out_cfg out;
    const char *out_path; /* -o: opened here ('-' = standard output), reopened on request;
                             appended to unless out_truncate */
    bool out_truncate;    /* --truncate: -o starts empty */
    bool out_flush;       /* -l, -U: -o flushed after every event, -w after every packet */
    const char *bpf;      /* filter replayed packets with this (tcpdump syntax) */
    /* built-in subscribers, registered in this order */
    bool report;               /* gather an HTML report (ww_engine_write_report) */
    bool live;                 /* live capture: alert latency measured (packet time -> alert
                                  written), late keys wait key_grace_us after their close */
    uint64_t key_grace_us;     /* live late-key grace period (0: WW_LATE_KEY_GRACE_US) */
    size_t key_wait_budget;    /* bytes waiting for keys, all sessions (0: WW_KEYWAIT_BUDGET) */
    /* --workers: decoding threads, flows sharded over them, detection in packet order (the
       events are the same for any N, late keys included). 0 or 1: one thread, no queues.
       Runs with -w evidence stay on one thread. */
    unsigned workers;
    const char *evidence_path; /* -w: pcapng of flagged flows and the flows that served */
    bool evidence_secrets;     /* ... with the key log in DSBs */
} ww_engine_cfg;

/* Builds the whole pipeline and opens its outputs. WW_OK, or WW_E_INVALID (bad filter),
 * WW_E_IO (an output cannot be opened), WW_E_NOMEM; errbuf says which. */
int ww_engine_new(ww_engine **out, const ww_engine_cfg *cfg, char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/* Adds a subscriber (copied). WW_OK or WW_E_TOOBIG when WW_ENGINE_MAX_SUBS are taken. */
int ww_engine_subscribe(ww_engine *e, const ww_engine_sub *sub) WW_WUR;

/* ---- key material ---- */
/* Loads an NSS key log file now (WW_OK, WW_E_IO with errbuf). */
int ww_engine_load_keylog(ww_engine *e, const char *path, char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/* Reads a key log now and again as it grows (live: polled between packets); a file that is
 * truncated or replaced is read from its start. WW_OK, WW_E_IO (errno set), WW_E_TOOBIG. */
int ww_engine_follow_keylog(ww_engine *e, const char *path) WW_WUR;
size_t ww_engine_keylog_bad_lines(const ww_engine *e);
/* Secrets a capture file carries (pcapng DSBs) go to the engine's key log. */
void ww_engine_attach(ww_engine *e, ww_source *src);

/* ---- input ---- */
/* One packet through the pipeline (the offline filter first). Returns 1 processed, 0
 * filtered out, WW_E_INVALID when the filter cannot be compiled for its link type. */
int ww_engine_packet(ww_engine *e, const ww_pkt *pkt);
/* The clock moves without a packet (idle flows time out, late keys are retried and, live,
 * closed sessions past their grace period given up). With --workers, returns once the events
 * this released are written. */
void ww_engine_tick(ww_engine *e, uint64_t now_us);

/* Loop control from the caller's signal handlers (NULL members: never) and the sensor's
 * hooks (zero members: off). */
typedef struct ww_engine_ctl {
    const volatile sig_atomic_t *stop; /* leave the loop */
    volatile sig_atomic_t *reopen;     /* reopen -o (log rotation); cleared here */
    uint64_t max_packets;       /* -c: the loops end once this many packets were kept by the
                                   filter, counted over every input of the engine (as tcpdump) */
    uint64_t stats_interval_us; /* a stats event this often: packet time on a replay, wall
                                   time on live capture (ww_engine_write_interval_stats) */
    /* Called after every packet and whenever a live source is idle (at least every 100 ms),
     * from the loop, never from a signal handler: progress, counts on request. */
    void (*poll)(void *ud, ww_engine *e, ww_source *src);
    void *poll_ud;
} ww_engine_ctl;
/* Reads a capture to its end (path names it in messages). A truncated or corrupt file ends
 * with an anomaly event and a warning. Returns 0; 1 ctl->max_packets were reached (the rest
 * is not read); -1 the file could not be read; -2 the filter failed; -3 the output can no
 * longer be written. */
int ww_engine_replay(ww_engine *e, ww_source *src, const char *path, const ww_engine_ctl *ctl);
/* Live capture until ctl->stop, ctl->max_packets (1), a capture error (-1) or a write error
 * (-3); followed key logs are polled before the packets that may need them. */
int ww_engine_live(ww_engine *e, ww_source *src, const ww_engine_ctl *ctl);
/* The counters so far (the run goes on): what SIGUSR1 prints. drops: packets the live
 * source lost so far. */
void ww_engine_counts(const ww_engine *e, uint64_t drops, ww_run_stats *st);
/* A stats event now, of the same shape as the last one (JSON lines only: no text summary),
 * with the counters so far. */
void ww_engine_write_interval_stats(ww_engine *e, uint64_t ts_us, uint64_t drops);
/* Replaces the -o stream now (SIGHUP). false when it could not be reopened. */
bool ww_engine_reopen_output(ww_engine *e);
/* Has an output failed (a write, a reopen)? */
bool ww_engine_output_failed(const ww_engine *e);

/* ---- the end ---- */
/* Ends the input: every flow closes (end of input), followed key logs are read one last time
 * and every session still waiting for a key is retried, then given up; counters gathered.
 * drops: packets the source(s) lost. */
void ww_engine_end(ww_engine *e, uint64_t drops);
const ww_run_stats *ww_engine_stats(const ww_engine *e);
/* The last event (stats) and the text summary. */
void ww_engine_write_stats(ww_engine *e);
/* The HTML report (cfg.report) to path. WW_OK or WW_E_IO (errno set). */
int ww_engine_write_report(ww_engine *e, const char *path, const char *title) WW_WUR;
/* ... to a stream the caller opened (and closes). WW_OK or WW_E_IO. */
int ww_engine_write_report_to(ww_engine *e, FILE *f, const char *title) WW_WUR;
/* Flushes the event writer (and writes JUnit). WW_OK, or WW_E_IO when any write failed. */
int ww_engine_finish_output(ww_engine *e) WW_WUR;
/* errno of the first failed write; 0 when none failed or it is unknown. */
int ww_engine_output_errno(const ww_engine *e);
/* Closes the evidence file. WW_OK or WW_E_IO; nothing to do without -w. */
int ww_engine_close_evidence(ww_engine *e) WW_WUR;
/* Highest alert severity raised (WW_SEV_NONE when none). */
int ww_engine_worst(const ww_engine *e);
/* After ww_engine_write_stats: NULL, or "inconclusive: <what could not be seen>" (exit 3). */
const char *ww_engine_inconclusive(const ww_engine *e);
/* Alert latency (live): alerts measured, mean and max in microseconds. */
void ww_engine_latency(const ww_engine *e, uint64_t *n, uint64_t *sum_us, uint64_t *max_us);
const ww_evidence_stats *ww_engine_evidence_stats(const ww_engine *e); /* NULL without -w */
void ww_engine_free(ww_engine *e);

#endif /* WW_ENGINE_H */
