/*
 * capture.h - packet sources, link/IP/TCP decoding, TCP reassembly and the flow table.
 *
 * Data flows one way:  ww_source (pcap, pcapng, live) -> ww_pkt
 *                      -> ww_pktdec (link, 802.1Q/QinQ, IPv4/IPv6, ext headers, fragments) -> ww_seg
 *                      -> ww_tcp (flow table, per-direction reassembly) -> ww_stream_cbs
 * Nothing here knows about TLS or HTTP.
 */
#ifndef WW_CAPTURE_H
#define WW_CAPTURE_H

#include "util/ww.h"

/* Link types (LINKTYPE_* values as in pcap files). */
enum {
    WW_LINK_NULL = 0,    /* BSD loopback, host-endian AF_ */
    WW_LINK_ETHERNET = 1,
    WW_LINK_RAW = 101,   /* raw IPv4 or IPv6 */
    WW_LINK_LOOP = 108,  /* OpenBSD loopback, big-endian AF_ */
    WW_LINK_SLL = 113,   /* Linux cooked v1 */
    WW_LINK_IPV4 = 228,
    WW_LINK_IPV6 = 229,
    WW_LINK_SLL2 = 276,  /* Linux cooked v2 */
};

/* One captured packet. data is valid until the next ww_source_next() on that source. */
typedef struct ww_pkt {
    uint64_t ts_us;   /* microseconds since the epoch */
    uint32_t caplen;  /* bytes in data */
    uint32_t len;     /* bytes on the wire (>= caplen) */
    int linktype;
    const uint8_t *data;
} ww_pkt;

/* Called for each Decryption Secrets Block (pcapng), in file order, before the packets
 * that follow it. secrets_type is e.g. 0x544c534b ("TLSK", an NSS key log). */
typedef void (*ww_secrets_fn)(void *ud, uint32_t secrets_type, const uint8_t *data, size_t len);

/* Something malformed was seen: reported as an `anomaly` event by whoever owns the callback.
 * flow may be NULL. layer: "pcap", "link", "ip", "tcp", "http", "tls", "jsonrpc", "evm"...;
 * type: a short stable token ("snaplen-truncated", "bad-ip-header-length"); detail: free text. */
struct ww_flow;
typedef void (*ww_anomaly_fn)(void *ud, uint64_t ts_us, const struct ww_flow *flow,
                              const char *layer, const char *type, const char *detail);

typedef struct ww_source ww_source;

/*
 * Opens a pcap or pcapng file ("-" = standard input; gzip-compressed files are read too).
 * Returns: WW_OK; WW_E_IO (cannot open/read: errbuf says why); WW_E_INVALID (not a capture
 * file: errbuf says so). Both are exit-2 conditions for the CLI.
 */
int ww_source_open_file(ww_source **out, const char *path, char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/*
 * Opens a capture held in memory (pcap, pcapng, or either gzip-compressed). p is borrowed:
 * it must stay valid and unchanged until ww_source_free(). Returns as ww_source_open_file.
 * (Added by the capture module: fuzzing and tests.)
 */
int ww_source_open_mem(ww_source **out, const uint8_t *p, size_t n,
                       char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
void ww_source_set_secrets_fn(ww_source *s, ww_secrets_fn fn, void *ud);
/* Optional: recoverable oddities of the file itself (a corrupt pcapng block that was skipped,
 * a block trailer that does not match) are reported here with layer "pcap". */
void ww_source_set_anomaly_fn(ww_source *s, ww_anomaly_fn fn, void *ud);
/*
 * Next packet. Returns 1 with *pkt filled, 0 at a clean end of input, WW_E_TRUNC when the
 * file ends inside a record (everything before was delivered; errbuf says where), or
 * WW_E_INVALID for a corrupt record that cannot be skipped (errbuf says why).
 */
int ww_source_next(ww_source *s, ww_pkt *pkt, char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/*
 * What a file source could not read, for stats and the "inconclusive" verdict. Every count
 * also went out as a "pcap" anomaly (damaged packet blocks: the first 8, then at powers of 2).
 */
typedef struct ww_source_damage {
    uint64_t damaged_blocks; /* blocks / records with a defect (short IDB, bad length, bad
                                trailer, short packet or DSB block, truncated at the end...) */
    uint64_t packets_lost;   /* packet blocks / records that could not be delivered */
    uint64_t bytes_unread;   /* bytes skipped or never read after a damaged block */
    bool ended_early;        /* the input ended inside a block, or at one that could not be
                                skipped: the rest of the capture was not read */
} ww_source_damage;
const ww_source_damage *ww_source_damage_get(const ww_source *s);
/*
 * For SIGINT/SIGTERM handlers (async-signal-safe): every file source reading a pipe or a
 * terminal stops waiting at once (poll() on a self-pipe); its input ends there (next returns
 * 0, or WW_E_TRUNC inside a record). ww_source_interrupted() then says the input did not end
 * by itself (stats "interrupted", exit 3 "inconclusive").
 */
void ww_source_interrupt(void);
/* Also async-signal-safe: a file source waiting on an idle pipe or terminal calls its wake
 * hook (set with ww_source_on_wake, called on the reading thread) and goes on waiting. */
void ww_source_wake(void);
void ww_source_on_wake(ww_source *s, void (*fn)(void *ud), void *ud);
/* A file source reading a pipe, terminal or socket that has nothing to read calls its idle
 * hook (on the reading thread) once before it waits, and again only after more input came:
 * what the input gave so far can be finished while it is idle (--workers: the events of the
 * packets in hand go out, with -U at once). */
void ww_source_on_idle(ww_source *s, void (*fn)(void *ud), void *ud);
/* true for a pcapng file: Decryption Secrets Blocks may bring TLS keys later in the input */
bool ww_source_may_carry_secrets(const ww_source *s);
bool ww_source_interrupted(void);
/* Counts for stats: packets the source delivered, and for live sources, kernel drops. */
uint64_t ww_source_drops(const ww_source *s);
/* How far a file source got: input bytes consumed (compressed bytes for gzip) and the input's
 * size (0 when unknown: a pipe, a live source). For progress lines only. */
void ww_source_progress(const ww_source *s, uint64_t *done, uint64_t *total);
void ww_source_free(ww_source *s);

/* ---- writing (tests, evidence) ---- */
typedef struct ww_pcapw ww_pcapw;
/* Classic pcap, microsecond timestamps. */
int ww_pcapw_open(ww_pcapw **out, const char *path, int linktype, uint32_t snaplen,
                  char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
int ww_pcapw_write(ww_pcapw *w, uint64_t ts_us, const uint8_t *p, uint32_t caplen,
                   uint32_t len) WW_WUR;
int ww_pcapw_close(ww_pcapw *w); /* WW_OK or WW_E_IO */

/* ---- addresses ---- */
typedef struct ww_ip {
    uint8_t family; /* 4 or 6 */
    uint8_t a[16];  /* IPv4 in the first 4 bytes; the other 12 are undefined (compare
                       with ww_ip_eq, hash only the address's own bytes) */
} ww_ip;
/* Text form into out (at least 46 bytes). Returns out. */
const char *ww_ip_str(const ww_ip *ip, char *out, size_t out_size);
bool ww_ip_eq(const ww_ip *a, const ww_ip *b);

/* ---- one TCP segment, decoded from a packet ---- */
#define WW_TCP_FIN 0x01
#define WW_TCP_SYN 0x02
#define WW_TCP_RST 0x04
#define WW_TCP_PSH 0x08
#define WW_TCP_ACK 0x10

typedef struct ww_seg {
    uint64_t ts_us;
    ww_ip src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    const uint8_t *payload; /* points into the packet (or the defrag buffer); same lifetime */
    uint32_t len;           /* payload bytes captured */
    uint32_t wire_len;      /* payload bytes per the IP header; > len when snaplen cut it */
    bool has_src_mac;       /* the link header gave the sender's 6-byte address (Ethernet,
                               Linux cooked v1/v2 with address length 6) */
    uint8_t src_mac[6];
} ww_seg;

typedef struct ww_pktdec ww_pktdec;
typedef struct ww_pktdec_cfg {
    size_t max_frag_bytes;  /* all IP fragments held at once (default 4 MiB) */
    size_t max_frag_queues; /* datagrams being reassembled at once (default 1024) */
    uint64_t frag_timeout_us; /* default 30 s */
} ww_pktdec_cfg;
typedef struct ww_pktdec_stats {
    uint64_t packets, bytes, non_ip, non_tcp, truncated, malformed, frags, reassembled,
        frag_dropped;
    uint64_t udp; /* UDP datagrams handed to the UDP callback (also counted in non_tcp) */
} ww_pktdec_stats;

/* ---- one UDP datagram, decoded from a packet (QUIC) ---- */
typedef struct ww_udp_dgram {
    uint64_t ts_us;
    ww_ip src, dst;
    uint16_t sport, dport;
    const uint8_t *payload; /* points into the packet (or the defrag buffer); valid for the call */
    uint32_t len;           /* payload bytes captured */
    uint32_t wire_len;      /* payload bytes per the UDP header; > len when snaplen cut it */
} ww_udp_dgram;
/* Called from ww_pktdec_decode for every UDP datagram (after IP reassembly). */
typedef void (*ww_udp_fn)(void *ud, const ww_udp_dgram *dg);

/* cfg may be NULL (defaults). */
ww_pktdec *ww_pktdec_new(const ww_mem *mem, const ww_pktdec_cfg *cfg, ww_anomaly_fn anomaly,
                         void *ud);
/*
 * Decodes one packet down to TCP. Returns 1 with *seg filled (seg points into pkt or into the
 * decoder's reassembly buffer, valid until the next call), 0 when there is no TCP segment to
 * hand on (not IP/TCP, or a fragment held for reassembly), or a negative WW_E_* after
 * reporting an anomaly (malformed/truncated header). Never reads past pkt->caplen.
 */
int ww_pktdec_decode(ww_pktdec *d, const ww_pkt *pkt, ww_seg *seg);
/*
 * Optional: UDP datagrams are handed to fn (ww_pktdec_decode then returns 0 for them, as for
 * any non-TCP packet). Without it (fn NULL, the default) UDP is skipped as before. A UDP
 * header that is too short or whose length field disagrees with the IP payload is an
 * anomaly ("udp" layer) and the datagram is not handed on.
 */
void ww_pktdec_set_udp_fn(ww_pktdec *d, ww_udp_fn fn, void *ud);
const ww_pktdec_stats *ww_pktdec_stats_get(const ww_pktdec *d);
void ww_pktdec_free(ww_pktdec *d);

/* ---- flows and reassembly ---- */
enum { WW_DIR_TOSERVER = 0, WW_DIR_TOCLIENT = 1 };

enum ww_close_reason {
    WW_CLOSE_FIN = 1,     /* both sides finished */
    WW_CLOSE_RST = 2,
    WW_CLOSE_TIMEOUT = 3, /* idle longer than the timeout */
    WW_CLOSE_EVICT = 4,   /* pushed out by the flow or memory cap */
    WW_CLOSE_END = 5,     /* end of input */
};

typedef struct ww_flow {
    uint64_t id;        /* stable for one connection within a run: the engine makes it the
                           number of the packet that opened it (1, 2, ... without an engine) */
    ww_ip cli_ip, srv_ip; /* client = sender of the SYN; when picked up mid-stream, the side
                             with the higher port (ephemeral) */
    uint16_t cli_port, srv_port;
    uint64_t first_ts_us, last_ts_us;
    bool midstream;     /* picked up without seeing the SYN */
    uint64_t bytes[2];  /* payload bytes delivered per direction */
    void *app;          /* owned by the stream callbacks' user (the app layer) */
} ww_flow;

typedef struct ww_stream_cbs {
    void *ud;
    void (*open)(void *ud, ww_flow *f, uint64_t ts_us);
    /* In-order bytes of one direction; p is valid only during the call. */
    void (*data)(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
    /* len bytes of that direction will never come (lost, over a cap, snaplen). */
    void (*gap)(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts_us);
    /* After this, f is freed; f->app must be released by the callee. */
    void (*close)(void *ud, ww_flow *f, int reason, uint64_t ts_us);
    ww_anomaly_fn anomaly;
} ww_stream_cbs;

typedef struct ww_tcp_cfg {
    size_t max_flows;          /* default 65536; the least recently used is evicted */
    size_t max_flow_ooo_bytes; /* out-of-order bytes held per direction (default 1 MiB) */
    size_t max_ooo_bytes;      /* all flows together (default 256 MiB) */
    uint64_t idle_timeout_us;  /* default 300 s; RST/FIN-closed flows linger 10 s */
} ww_tcp_cfg;

typedef struct ww_tcp_stats {
    uint64_t segments, flows, flows_midstream, retransmissions, overlaps_conflicting,
        out_of_order, gaps, gap_bytes, evicted, timeouts, ooo_dropped_bytes;
} ww_tcp_stats;

typedef struct ww_tcp ww_tcp;
ww_tcp *ww_tcp_new(const ww_mem *mem, const ww_tcp_cfg *cfg, const ww_stream_cbs *cbs);
void ww_tcp_segment(ww_tcp *t, const ww_seg *seg);
/* Time moved to now (packet time): closes idle flows. Cheap; call per packet. */
void ww_tcp_tick(ww_tcp *t, uint64_t now_us);
/* Time moved to now: closes every idle flow (frees every lingering one), oldest touched
 * first, whatever the others' state (ww_tcp_tick stops at the first that is not idle). */
/* FNV-1a over one endpoint (address, port); the sum over both ends is direction-free. */
uint32_t ww_endpoint_hash(const ww_ip *ip, uint16_t port);
/* Spreads a hash's bits (murmur3's finaliser steps), before a table index or a shard. */
static inline uint32_t ww_hash_mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}
void ww_tcp_sweep(ww_tcp *t, uint64_t now_us);
/* The number of the packet being handed in (the engine's packet sequence): a flow remembers
 * the last one that touched it. ww_tcp_flow_touch: that number, for a flow of this table
 * (LRU order is ascending touch order; sweeps and finish close flows in it). */
void ww_tcp_set_seq(ww_tcp *t, uint64_t seq);
uint64_t ww_tcp_flow_touch(const ww_flow *f);
/* End of input: deliver what can be delivered (reporting gaps), close every flow. */
void ww_tcp_finish(ww_tcp *t, uint64_t now_us);
const ww_tcp_stats *ww_tcp_stats_get(const ww_tcp *t);
/* Takes the next flow id, for a flow of another transport (QUIC) numbered with TCP's. */
uint64_t ww_tcp_next_flow_id(ww_tcp *t);
void ww_tcp_free(ww_tcp *t);

/* ---- live capture (capture/live.c, libpcap) ---- */
/* Returned by ww_source_next on a live source when the read timeout (100 ms) expired with no
 * packet: *pkt is untouched. File sources never return it. */
#define WW_SRC_IDLE 2

typedef struct ww_live_stats {
    uint64_t received; /* ps_recv: packets the filter accepted */
    uint64_t dropped;  /* ps_drop: dropped by the kernel (buffer full) */
    uint64_t ifdropped; /* ps_ifdrop: dropped by the interface/driver */
} ww_live_stats;

/*
 * Opens a live capture on iface ("any", "lo", "eth0"...): pcap_create, snaplen (0 = 262144),
 * buffer_kib (kernel ring in KiB as tcpdump -B; 0 = 128 MiB), promiscuous mode, pcap_activate,
 * then filter (a BPF expression, NULL = none) compiled on the live handle. Not immediate:
 * TPACKET_V3 ring blocks handed over when full or after a 2 ms read timeout (throughput,
 * alerts a few ms late). immediate: each packet as it arrives (TPACKET_V2 frames of the
 * interface's MTU, a 100 ms read timeout). On a loopback device the kernel leaves the
 * outgoing copy of each packet out of the ring (libpcap discards it anyway).
 * Returns: WW_OK; WW_E_IO (no such device, no permission, cannot activate: errbuf says
 * which); WW_E_INVALID (bad filter: errbuf). All are exit-2 conditions.
 * ww_source_next on it returns 1 (packet), WW_SRC_IDLE (the ring found empty: once at once,
 * then after each wait of up to 100 ms), 0 (ww_source_breakloop was called) or WW_E_IO.
 * ww_source_drops = ps_drop + ps_ifdrop.
 */
int ww_source_open_live(ww_source **out, const char *iface, const char *filter,
                        uint32_t snaplen, uint32_t buffer_kib, bool promisc, bool immediate,
                        char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/* Makes a blocked ww_source_next on a live source return (pcap_breakloop). Safe to call from
 * a signal handler; does nothing on file sources. */
void ww_source_breakloop(ww_source *s);
/* Kernel counters of a live source. Returns WW_OK, or WW_E_UNSUPPORTED for a file source. */
int ww_source_live_stats(ww_source *s, ww_live_stats *st) WW_WUR;
/* An extra descriptor (an eventfd, a pipe's read end; -1: none) that ends the wait of
 * ww_source_next on a live source with WW_SRC_IDLE when it becomes readable (what it holds is
 * read and discarded): another thread tells the reading one that it has results to handle.
 * Returns WW_OK, or WW_E_UNSUPPORTED for a file source. */
int ww_source_live_wake_fd(ww_source *s, int fd);
/* Link type of a live source (DLT mapped to LINKTYPE); -1 for file sources. */
int ww_source_live_linktype(const ww_source *s);

/* ---- pcapng writer (capture/pcapngw.c): evidence files ---- */
typedef struct ww_pcapngw ww_pcapngw;
/* Creates path ("-": standard output) and writes the Section Header Block with comment (may
 * be NULL) and shb_userappl "walletwatch VERSION". Returns WW_OK or WW_E_IO (errbuf). */
int ww_pcapngw_open(ww_pcapngw **out, const char *path, const char *comment,
                    char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/* One Enhanced Packet Block; an Interface Description Block is written before the first
 * packet of each link type. Returns WW_OK or WW_E_IO (sticky). */
int ww_pcapngw_packet(ww_pcapngw *w, int linktype, uint64_t ts_us, const uint8_t *p,
                      uint32_t caplen, uint32_t len) WW_WUR;
/* One Decryption Secrets Block (type 0x544c534b = TLS key log). Returns WW_OK or WW_E_IO. */
int ww_pcapngw_secrets(ww_pcapngw *w, uint32_t type, const uint8_t *p, size_t n) WW_WUR;
int ww_pcapngw_flush(ww_pcapngw *w) WW_WUR;
int ww_pcapngw_close(ww_pcapngw *w); /* WW_OK or WW_E_IO */

/* ---- evidence of flagged flows (capture/evidence.c) ---- */
/*
 * Keeps a bounded ring of the recent packets of every TCP connection (by its 4-tuple); when
 * a flow is flagged, its ring and every later packet of it go to a pcapng writer. Flows that
 * served addresses to a client are kept (ring pinned after close) so that flagging a flow of
 * that client writes them too: the evidence replays to the same alerts on its own.
 */
typedef struct ww_evidence_cfg {
    size_t max_flows;         /* 4-tuples tracked (default 65536) */
    uint32_t max_flow_pkts;   /* per-flow ring: packets (default 256) */
    size_t max_flow_bytes;    /* per-flow ring: bytes (default 1 MiB) */
    size_t max_total_bytes;   /* all rings together (default 64 MiB) */
} ww_evidence_cfg;
typedef struct ww_evidence_stats {
    uint64_t flows_flagged, packets_written, packets_forgotten; /* dropped from rings/caps */
} ww_evidence_stats;
typedef struct ww_evidence ww_evidence;
/* w is borrowed. cfg may be NULL. Returns NULL when out of memory. */
ww_evidence *ww_evidence_new(const ww_mem *mem, const ww_evidence_cfg *cfg, ww_pcapngw *w);
/* A packet that decoded to seg: kept in its flow's ring, or written when the flow is flagged.
 * Call before ww_tcp_segment(seg), so an alert raised on this packet includes it. */
void ww_evidence_packet(ww_evidence *e, const ww_pkt *pkt, const ww_seg *seg);
/* f served addresses to its client (the decode sink's `served`). */
void ww_evidence_served(ww_evidence *e, const ww_flow *f);
/* An alert on f: flag it and every kept flow that served f's client; write their rings in
 * packet order. Returns WW_OK or WW_E_IO. */
int ww_evidence_flag(ww_evidence *e, const ww_flow *f) WW_WUR;
/* f closed (ww_stream_cbs.close): forget it unless it served addresses. */
void ww_evidence_close(ww_evidence *e, const ww_flow *f);
const ww_evidence_stats *ww_evidence_stats_get(const ww_evidence *e);
void ww_evidence_free(ww_evidence *e);

#endif /* WW_CAPTURE_H */
