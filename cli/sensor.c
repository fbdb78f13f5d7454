/*
 * sensor.c - what the command line adds around the engine for people who know tcpdump and
 * for a sensor that runs for weeks: `-D` (the interfaces, numbered as tcpdump -D prints them),
 * the "listening on" line, the counts SIGUSR1 asks for, and the progress line of a long
 * replay on a terminal.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <pcap/pcap.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_EVERY_US 500000u  /* the line is redrawn this often */

/* The flag words of tcpdump -D (tcpdump.c show_devices_and_exit). */
static void print_flags(FILE *f, bpf_u_int32 flags)
{
    static const struct {
        bpf_u_int32 bit;
        const char *word;
    } words[] = {{PCAP_IF_UP, "Up"},
                 {PCAP_IF_RUNNING, "Running"},
                 {PCAP_IF_LOOPBACK, "Loopback"},
                 {PCAP_IF_WIRELESS, "Wireless"}};
    bool any = false;
    fputs(" [", f);
    for (size_t i = 0; i < WW_ARRAY_LEN(words); i++) {
        if (flags & words[i].bit) {
            fprintf(f, "%s%s", any ? ", " : "", words[i].word);
            any = true;
        }
    }
    if (!any)
        fputs("none", f);
    bool wireless = (flags & PCAP_IF_WIRELESS) != 0;
    switch (flags & PCAP_IF_CONNECTION_STATUS) {
    case PCAP_IF_CONNECTION_STATUS_UNKNOWN:
        fputs(wireless ? ", Association status unknown" : ", Connection status unknown", f);
        break;
    case PCAP_IF_CONNECTION_STATUS_CONNECTED:
        fputs(wireless ? ", Associated" : ", Connected", f);
        break;
    case PCAP_IF_CONNECTION_STATUS_DISCONNECTED:
        fputs(wireless ? ", Not associated" : ", Disconnected", f);
        break;
    default: /* not applicable */
        break;
    }
    fputc(']', f);
}

int ww_cli_list_interfaces(FILE *f)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_if_t *devs = NULL;
    err[0] = '\0';
    if (pcap_findalldevs(&devs, err) != 0) {
        fprintf(stderr, "walletwatch: -D: %s\n", err);
        return -1;
    }
    if (devs == NULL) {
        fprintf(stderr, "walletwatch: -D: no interfaces found%s\n",
                geteuid() != 0 ? " (capturing may need root or CAP_NET_RAW)" : "");
        return -1;
    }
    int i = 1;
    for (pcap_if_t *d = devs; d != NULL; d = d->next, i++) {
        fprintf(f, "%d.%s", i, d->name);
        if (d->description != NULL)
            fprintf(f, " (%s)", d->description);
        if (d->flags != 0)
            print_flags(f, d->flags);
        fputc('\n', f);
    }
    pcap_freealldevs(devs);
    return fflush(f) == 0 ? 0 : -1;
}

void ww_cli_listening(FILE *f, const char *iface, int linktype, uint32_t snaplen)
{
    int dlt = linktype;
#ifdef DLT_RAW
    if (linktype == 101) /* LINKTYPE_RAW: DLT_RAW differs between platforms */
        dlt = DLT_RAW;
#endif
    const char *name = pcap_datalink_val_to_name(dlt);
    const char *desc = pcap_datalink_val_to_description(dlt);
    if (name != NULL)
        fprintf(f, "walletwatch: listening on %s, link-type %s (%s), snapshot length %" PRIu32
                   " bytes\n",
                iface, name, desc != NULL ? desc : name, snaplen);
    else
        fprintf(f, "walletwatch: listening on %s, link-type %d, snapshot length %" PRIu32
                   " bytes\n",
                iface, linktype, snaplen);
    fflush(f);
}

void ww_cli_print_counts(FILE *f, const ww_run_stats *st, const ww_live_stats *ls)
{
    fprintf(f,
            "walletwatch: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " dropped, %" PRIu64
            " flows, %" PRIu64 " wallet calls, %" PRIu64 " alerts, %" PRIu64 " anomalies",
            st->packets, st->bytes, st->drops, st->flows, st->wallet_calls, st->alerts,
            st->anomalies);
    if (ls != NULL)
        fprintf(f, "; %" PRIu64 " received by filter, %" PRIu64 " dropped by kernel, %" PRIu64
                   " dropped by interface",
                ls->received, ls->dropped, ls->ifdropped);
    fputc('\n', f);
    fflush(f);
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* 1536 -> "1.5 KB"... (decimal units, as transfer rates are given) */
static void human(char *out, size_t n, double v)
{
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB"};
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < WW_ARRAY_LEN(unit)) {
        v /= 1000.0;
        u++;
    }
    snprintf(out, n, u == 0 ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

void ww_progress_start(ww_progress *p, FILE *tty, const char *name, size_t index, size_t count,
                       uint64_t after_us)
{
    memset(p, 0, sizeof *p);
    p->tty = tty;
    p->name = name;
    p->index = index;
    p->count = count;
    p->after_us = after_us;
    p->t0 = mono_us();
}

void ww_progress_update(ww_progress *p, ww_source *src)
{
    if (p->tty == NULL || (++p->calls & 255) != 0)
        return; /* the clock is read every 256 packets */
    uint64_t now = mono_us();
    if (now - p->t0 < p->after_us || now < p->next)
        return;
    p->next = now + PROGRESS_EVERY_US;
    uint64_t done, total;
    ww_source_progress(src, &done, &total);
    if (total == 0 || done > total)
        return; /* a pipe: no end to measure against */
    double secs = (double)(now - p->t0) / 1e6;
    double rate = (double)done / secs;
    char d[32], t[32], r[32], eta[32], of[32] = "";
    human(d, sizeof d, (double)done);
    human(t, sizeof t, (double)total);
    human(r, sizeof r, rate);
    if (rate > 0) {
        uint64_t left = (uint64_t)((double)(total - done) / rate + 0.5);
        snprintf(eta, sizeof eta, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, left / 3600,
                 left / 60 % 60, left % 60);
    } else {
        snprintf(eta, sizeof eta, "?");
    }
    if (p->count > 1)
        snprintf(of, sizeof of, " [%zu/%zu]", p->index + 1, p->count);
    fprintf(p->tty, "\r\033[Kwalletwatch: %s%s: %s of %s (%.0f%%), %s/s, ETA %s", p->name, of, d,
            t, 100.0 * (double)done / (double)total, r, eta);
    fflush(p->tty);
    p->shown = true;
}

void ww_progress_end(ww_progress *p)
{
    if (p->tty != NULL && p->shown) {
        fputs("\r\033[K", p->tty); /* the line goes away: what follows starts clean */
        fflush(p->tty);
    }
    p->shown = false;
}
