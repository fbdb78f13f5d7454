/*
 * engine_int.h - the engine's insides, shared by engine.c (the pipeline, one thread) and
 * workers.c (--workers N: decoding sharded per flow over threads, detection in packet order).
 */
#ifndef WW_ENGINE_INT_H
#define WW_ENGINE_INT_H

#include "engine/engine.h"
#include "engine/follow.h"
#include "decode/quic.h"

#include <pcap/pcap.h>

#define BPF_LINKTYPES_MAX 8
#define FOLLOW_MAX 64
#define FOLLOW_POLL_US 100000      /* live: key logs are read again at least this often */
#define DSB_TLS_KEYLOG 0x544c534bU /* "TLSK" */

/* The offline filter, compiled once per link type met. */
typedef struct bpf_cache {
    const char *expr;
    int linktype[BPF_LINKTYPES_MAX];
    struct bpf_program prog[BPF_LINKTYPES_MAX];
    size_t n;
} bpf_cache;

/* -w: the evidence writer, a built-in subscriber. */
typedef struct evidence_sub {
    ww_evidence *ev;
    ww_pcapngw *w;
    bool secrets;
    size_t secrets_embedded; /* key log secrets count at the last embedded DSB */
    bool failed;
    size_t sub; /* its index in subs[] */
} evidence_sub;

typedef struct latency_sub {
    uint64_t n, sum_us, max_us;
} latency_sub;

struct ww_engine {
    ww_engine_cfg cfg;
    /* stages, in packet order */
    ww_pktdec *pd;
    ww_tcp *tcp;
    ww_quic *quic; /* UDP datagrams from pktdec: QUIC connections, HTTP/3 into app */
    ww_app *app;
    ww_detect *det;
    ww_decode_sink det_sink; /* detect's own sink: the engine's forwards to it */
    ww_out *out;
    ww_keylog *kl;
    /* subscribers */
    ww_engine_sub subs[WW_ENGINE_MAX_SUBS];
    size_t n_subs;
    ww_report *report;
    evidence_sub evid;
    latency_sub lat;
    /* inputs */
    bpf_cache bpf;
    ww_kl_follow follow[FOLLOW_MAX];
    size_t n_follow;
    /* -o */
    FILE *jsonl;
    bool jsonl_owned;
    bool reopen_failed;
    /* the clock and the run */
    uint64_t first_ts, last_ts;
    uint64_t seq;       /* packets processed (after the filter): the number of the current one */
    uint64_t next_tick; /* packet time of the next tick point (idle flows swept) */
    uint64_t next_idle_sweep; /* live: wall time of the next sweep while nothing comes */
    const ww_pkt *cur_pkt; /* the packet being processed (for QUIC datagrams' evidence) */
    uint64_t filtered;
    uint64_t kept;          /* packets the filter kept (-c counts them) */
    uint64_t next_stats_us; /* --stats-interval: when the next stats event is due (0: unset) */
    uint64_t drops;
    bool interrupted; /* a replay stopped (SIGINT) before the end of its input */
    bool keys_may_come; /* a followed key log or a pcapng input: late keys */
    ww_decode_sink sink; /* the engine's sink (subscribers' served(), then detect) */
    struct ww_workers *wk; /* --workers N > 1, once started; NULL: one thread */
    bool wk_tried;         /* sharding was decided (started or not) */
    ww_run_stats st;
};


/* engine.c, for workers.c */
void ww_engine_say(const ww_engine *e, const char *fmt, ...) WW_PRINTF(2, 3);
#define WW_ENGINE_TICK_US 1000000u /* idle sweeps: once per second of packet time */
/* live, while the ring is empty: idle flows swept at most this often (wall time). The ring runs
 * empty whenever the engine has caught up, hundreds of times a second at high rates, and a sweep
 * visits every flow (a closed flow lingers less long than an open one idles, so the LRU order
 * does not end the walk): swept at each, it took 5% of the CPU at 600 Mbit/s. */
#define WW_ENGINE_IDLE_SWEEP_US 100000u
/* A TCP connection picked up mid-stream this soon after the capture's first packet was open
 * before the capture began: its browser's earlier traffic is unseen (ww_detect_history_unseen).
 * Later, a mid-stream pickup of a browser detection already knows is a flow that idled out
 * and came back (or lost its SYN to a drop, which the drops say). */
#define WW_ENGINE_START_US 60000000u
/* st_open's and the workers' merge: a flow picked up mid-stream, to detection */
void ww_engine_midstream(ww_engine *e, const ww_ip *cli, uint64_t ts_us);
/* The run's counters from these stages' (drops: the source's so far) and detection's now. */
void ww_engine_fill_stats(const ww_engine *e, uint64_t drops, const ww_pktdec_stats *ps,
                          const ww_tcp_stats *ts, const ww_app_stats *as,
                          const ww_quic_stats *qs, const ww_keywait_stats *kw, ww_run_stats *st);

/* ---- workers.c ---- */
/* Starts the workers when cfg.workers > 1 and the run allows it (no subscriber of packets
 * but -w evidence); true when they run. Called once, before the first packet. */
bool ww_workers_start(ww_engine *e);
/* true: key text that comes during the run reaches the engine's key log when merged
 * (ww_workers_keys records it), not when read (-w --evidence-secrets) */
bool ww_workers_keys_merged(const ww_engine *e);
/* -w with --workers: the merge hands the evidence writer the packets and flow ends the
 * workers saw, at the point of the fact stream where one thread would have. */
void ww_engine_evidence_packet(ww_engine *e, const ww_pkt *pkt, const ww_seg *seg);
void ww_engine_evidence_close(ww_engine *e, const ww_flow *f);
/* One packet (past the filter) through the reader: decode, hand to its worker, merge. */
void ww_workers_packet(ww_engine *e, const ww_pkt *pkt);
/* An anomaly of the reader's side (pktdec, the source, the end of a file), flow NULL. */
void ww_workers_reader_anomaly(ww_engine *e, uint64_t ts_us, const char *layer,
                               const char *type, const char *detail);
/* pktdec's UDP datagrams, to their worker. */
void ww_workers_udp(ww_engine *e, const ww_udp_dgram *dg);
/* Key log text that came now (a DSB, a followed key log's new lines; NULL, 0: keys may come
 * from now on): every worker's copy gets it before the next packet, and every worker retries
 * what waits for keys after that packet, as the one-thread engine does. */
void ww_workers_keys(ww_engine *e, const uint8_t *p, size_t n);
/* From now on, key text goes with the end (ww_workers_end): applied after the flows closed,
 * before the last retry. */
void ww_workers_end_keys(ww_engine *e);
/* The clock moved without a packet (live idle): every worker sweeps at now. */
void ww_workers_tick(ww_engine *e, uint64_t now_us, bool sweep);
/* Every packet dispatched so far decoded and its events out (the end of an input file: the
 * next may be a pipe that waits; live: the ring was found empty). */
void ww_workers_drain(ww_engine *e);
/* --stats-interval: a stats event due after the packet just dispatched, written when the
 * merge reaches it, with every worker's counters as of that packet (the same as one thread's).
 * drops: the source's so far. */
void ww_workers_interval_stats(ww_engine *e, uint64_t ts_us, uint64_t drops);
/* End of input: every worker closes its flows; every fact merged; threads joined. */
void ww_workers_end(ww_engine *e);
/* The workers' counters summed, as of the last block each finished (all of them after
 * ww_workers_end). */
void ww_workers_stats(const ww_engine *e, ww_tcp_stats *ts, ww_app_stats *as, ww_quic_stats *qs,
                      ww_keywait_stats *kw);
void ww_workers_free(ww_engine *e);

#endif /* WW_ENGINE_INT_H */
