/*
 * live.c - live capture through libpcap, as a ww_source (capture/source_int.h).
 *
 * Opened as tcpdump does: pcap_create, snaplen, promiscuous mode, kernel buffer size (-B),
 * a read timeout, pcap_activate, then the BPF filter compiled on the live handle.
 *
 * Built for throughput with a bounded delay: not in immediate mode, libpcap on Linux uses a
 * TPACKET_V3 ring: 256 KiB blocks that the kernel fills with packets back to back (a packet
 * takes its own size, not a frame of the interface's MTU: 64 KiB each on lo) and hands over
 * whole, when full or after the read timeout (LIVE_BLOCK_TIMEOUT_MS: the kernel's
 * block-retire timer). One wakeup per block rather than per packet, and a ring of
 * LIVE_DEFAULT_BUFFER_KIB holds about that many bytes of traffic (0.8 s at 1.24 Gbit/s) while
 * the engine is busy or descheduled. At low rates the ring runs out of blocks before it runs out
 * of bytes: each block is retired after the timeout however little it holds, so the ring bridges
 * a stall of (ring / 256 KiB) x timeout at most: 512 x 2 ms, about 1 s, by default. On a
 * loopback device the kernel is told to leave the outgoing copy of each packet out of the ring
 * (PACKET_IGNORE_OUTGOING: libpcap discards that copy anyway, so the packets seen are the same,
 * and the ring is not filled twice).
 *
 * ww_source_next hands out the packet through pcap_next_ex, valid until the next call (as for
 * files); no system call per packet. (pcap_next_ex copies the packet out of the ring block,
 * which libpcap hands back to the kernel after its last packet; reading the block in place
 * would need the engine to run inside pcap_dispatch's callback: measured, that saves ~5% of
 * walletwatch's CPU on a browsing capture, the cache misses on the ring being paid either way.)
 * When the ring is found empty, ww_source_next first returns WW_SRC_IDLE at once (the caller
 * may flush what it batched: nothing more is pending), then waits on the handle (non-blocking)
 * with poll() for at most LIVE_POLL_MS, and on the caller's wake fd if it set one: when no
 * block comes, the wake fd fires or a signal interrupts the wait, it returns WW_SRC_IDLE so
 * that the caller does its periodic work (follow the key log, reopen the output, notice a stop
 * request, merge what other threads produced).
 * Immediate mode (each packet delivered as it arrives, TPACKET_V2 frames) remains available to
 * callers that ask for it.
 */
#include "capture/capture.h"
#include "capture/source_int.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#ifdef __linux__
#include <netpacket/packet.h>
#include <sys/socket.h>
#endif

#define LIVE_POLL_MS 100 /* the longest wait without WW_SRC_IDLE */
/* The read timeout: how long the kernel may keep a partly filled ring block (TPACKET_V3
 * block-retire timer) before handing it over. It bounds the delay added to an alert at low
 * rates (kernels whose timer counts in clock ticks round it up to one); at high rates blocks
 * fill sooner. 4 ms would double the stall a ring bridges at low rates, but alerts then came
 * up to 10 ms after their packet on a loaded machine (2-4 ms with 2 ms). */
#define LIVE_BLOCK_TIMEOUT_MS 2
#define LIVE_DEFAULT_SNAPLEN 262144
/* The kernel ring (-B): 128 MiB of packets back to back, ~0.8 s of 1.24 Gbit/s; 512 blocks, ~1 s
 * of a stall at low rates. */
#define LIVE_DEFAULT_BUFFER_KIB (128u * 1024)

typedef struct live {
    pcap_t *p;
    int fd; /* pcap_get_selectable_fd */
    int linktype;
    volatile sig_atomic_t stop; /* ww_source_breakloop was called */
    bool drained; /* the ring was found empty and WW_SRC_IDLE returned; no packet since */
    int wake_fd;  /* ww_source_live_wake_fd, or -1 */
} live;

static int live_next(ww_source *s, ww_pkt *pkt, char errbuf[WW_ERRBUF_SIZE]);
static uint64_t live_drops(const ww_source *s);
static void live_destroy(ww_source *s);
static const ww_src_ops live_ops = {live_next, live_drops, live_destroy};

static int live_next(ww_source *s, ww_pkt *pkt, char errbuf[WW_ERRBUF_SIZE])
{
    live *l = ww_source_impl(s, &live_ops);
    struct pcap_pkthdr *h;
    const u_char *d;
    if (l->stop) {
        l->stop = 0;
        return 0;
    }
    int rc = pcap_next_ex(l->p, &h, &d);
    if (rc == 0 && l->fd >= 0) {
        if (!l->drained) { /* the ring is empty: say so once before waiting */
            l->drained = true;
            return WW_SRC_IDLE;
        }
        struct pollfd pfd[2] = {{l->fd, POLLIN, 0}, {l->wake_fd, POLLIN, 0}};
        int prc = poll(pfd, l->wake_fd >= 0 ? 2 : 1, LIVE_POLL_MS);
        if (prc <= 0 && (prc == 0 || errno == EINTR))
            return WW_SRC_IDLE;
        if (prc > 0 && l->wake_fd >= 0 && (pfd[1].revents & POLLIN) != 0) {
            char buf[64]; /* an eventfd's counter or a pipe's bytes: consumed */
            ssize_t n = read(l->wake_fd, buf, sizeof buf);
            (void)n; /* nothing to read (another reader took it): a wakeup all the same */
            return WW_SRC_IDLE;
        }
        rc = pcap_next_ex(l->p, &h, &d);
    }
    if (rc == 1) {
        l->drained = false;
        pkt->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        pkt->caplen = h->caplen;
        pkt->len = h->len;
        pkt->linktype = l->linktype;
        pkt->data = d;
        return 1;
    }
    if (rc == 0)
        return WW_SRC_IDLE;
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (errbuf != NULL)
        snprintf(errbuf, WW_ERRBUF_SIZE, "capture error: %.230s", pcap_geterr(l->p));
    return WW_E_IO;
}

static uint64_t live_drops(const ww_source *s)
{
    live *l = ww_source_impl(s, &live_ops);
    struct pcap_stat ps;
    if (pcap_stats(l->p, &ps) != 0)
        return 0;
    return (uint64_t)ps.ps_drop + (uint64_t)ps.ps_ifdrop;
}

static void live_destroy(ww_source *s)
{
    live *l = ww_source_impl(s, &live_ops);
    if (l == NULL)
        return;
    if (l->p != NULL)
        pcap_close(l->p);
    free(l);
}

/* DLT_ values that differ from their LINKTYPE_ (pcap-linktype(7)); the rest are equal. */
static int dlt_to_linktype(int dlt)
{
#ifdef DLT_RAW
    if (dlt == DLT_RAW)
        return WW_LINK_RAW;
#endif
    return dlt;
}

/* Whether iface is a loopback device (libpcap's device list). */
static bool is_loopback(const char *iface)
{
    pcap_if_t *all = NULL;
    char perr[PCAP_ERRBUF_SIZE];
    bool lo = false;
    if (pcap_findalldevs(&all, perr) != 0)
        return false;
    for (const pcap_if_t *d = all; d != NULL; d = d->next)
        if (d->name != NULL && strcmp(d->name, iface) == 0)
            lo = (d->flags & PCAP_IF_LOOPBACK) != 0;
    pcap_freealldevs(all);
    return lo;
}

/* On a loopback device every packet passes twice, outgoing and incoming; libpcap discards the
 * outgoing copy after the kernel has put it in the ring (pcap-linux.c linux_check_direction).
 * Tell the kernel not to queue it at all (PACKET_IGNORE_OUTGOING, Linux 4.20): the same
 * packets reach the caller, the ring holds twice as many and the sender's CPU copies half.
 * Best effort: without it, the capture is the same, only the ring fills sooner. */
static void ignore_outgoing(pcap_t *p)
{
#if defined(__linux__) && defined(PACKET_IGNORE_OUTGOING)
    int one = 1;
    int fd = pcap_fileno(p);
    if (fd >= 0)
        (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#else
    (void)p;
#endif
}

int ww_source_open_live(ww_source **out, const char *iface, const char *filter,
                        uint32_t snaplen, uint32_t buffer_kib, bool promisc, bool immediate,
                        char errbuf[WW_ERRBUF_SIZE])
{
    WW_ASSERT(out != NULL && iface != NULL);
    char perr[PCAP_ERRBUF_SIZE];
    *out = NULL;
    perr[0] = '\0';
    pcap_t *p = pcap_create(iface, perr);
    if (p == NULL) {
        snprintf(errbuf, WW_ERRBUF_SIZE, "%.64s: %.180s", iface, perr);
        return WW_E_IO;
    }
    (void)pcap_set_snaplen(p, snaplen ? (int)WW_MIN(snaplen, (uint32_t)INT32_MAX)
                                      : LIVE_DEFAULT_SNAPLEN);
    (void)pcap_set_promisc(p, promisc ? 1 : 0);
    (void)pcap_set_timeout(p, immediate ? LIVE_POLL_MS : LIVE_BLOCK_TIMEOUT_MS);
    if (immediate)
        (void)pcap_set_immediate_mode(p, 1);
    if (buffer_kib == 0)
        buffer_kib = LIVE_DEFAULT_BUFFER_KIB;
    (void)pcap_set_buffer_size(p, (int)WW_MIN((uint64_t)buffer_kib * 1024u, (uint64_t)INT32_MAX));
    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *why = pcap_geterr(p);
        switch (rc) {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            snprintf(errbuf, WW_ERRBUF_SIZE, "%.64s: no such interface (%.150s)", iface, why);
            break;
        case PCAP_ERROR_PERM_DENIED:
            snprintf(errbuf, WW_ERRBUF_SIZE,
                     "%.64s: permission denied: capturing needs root or CAP_NET_RAW (%.120s)", iface,
                     why);
            break;
        default:
            snprintf(errbuf, WW_ERRBUF_SIZE, "%.64s: cannot capture: %.60s (%.100s)", iface,
                     pcap_statustostr(rc), why);
        }
        pcap_close(p);
        return WW_E_IO;
    }
    if (is_loopback(iface))
        ignore_outgoing(p);
    if (filter != NULL) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(errbuf, WW_ERRBUF_SIZE, "bad filter '%.80s': %.150s", filter, pcap_geterr(p));
            pcap_close(p);
            return WW_E_INVALID;
        }
        int frc = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (frc != 0) {
            snprintf(errbuf, WW_ERRBUF_SIZE, "cannot set filter '%.80s': %.140s", filter,
                     pcap_geterr(p));
            pcap_close(p);
            return WW_E_INVALID;
        }
    }
    live *l = calloc(1, sizeof *l);
    ww_source *s = l ? ww_source_new_impl(&live_ops, l) : NULL;
    if (s == NULL) {
        free(l);
        pcap_close(p);
        snprintf(errbuf, WW_ERRBUF_SIZE, "out of memory");
        return WW_E_NOMEM;
    }
    l->p = p;
    l->linktype = dlt_to_linktype(pcap_datalink(p));
    l->wake_fd = -1;
    l->fd = pcap_get_selectable_fd(p);
    if (l->fd >= 0 && pcap_setnonblock(p, 1, perr) != 0)
        l->fd = -1; /* blocking reads then: still correct, only less periodic */
    *out = s;
    return WW_OK;
}

void ww_source_breakloop(ww_source *s)
{
    live *l = ww_source_impl(s, &live_ops);
    if (l != NULL && l->p != NULL) {
        l->stop = 1;
        pcap_breakloop(l->p);
    }
}

int ww_source_live_stats(ww_source *s, ww_live_stats *st)
{
    live *l = ww_source_impl(s, &live_ops);
    struct pcap_stat ps;
    memset(st, 0, sizeof *st);
    if (l == NULL)
        return WW_E_UNSUPPORTED;
    if (pcap_stats(l->p, &ps) != 0)
        return WW_E_IO;
    st->received = ps.ps_recv;
    st->dropped = ps.ps_drop;
    st->ifdropped = ps.ps_ifdrop;
    return WW_OK;
}

int ww_source_live_wake_fd(ww_source *s, int fd)
{
    live *l = ww_source_impl(s, &live_ops);
    if (l == NULL)
        return WW_E_UNSUPPORTED;
    l->wake_fd = fd;
    return WW_OK;
}

int ww_source_live_linktype(const ww_source *s)
{
    live *l = ww_source_impl(s, &live_ops);
    return l != NULL ? l->linktype : -1;
}
