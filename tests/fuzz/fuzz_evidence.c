/*
 * fuzz_evidence.c - the evidence writer (capture/evidence.c + capture/pcapngw.c): packets of
 * 4 connections kept in bounded rings (small caps: 3 flows, 8 packets / 2 KiB per ring,
 * 6 KiB in all), flows marked as having served addresses, flagged and closed in an order
 * from the input. The pcapng written is read back (ww_source) and must hold exactly the
 * packets the writer counted, with the times given. The file is an anonymous memory file
 * (memfd, made once): written through its /proc/self/fd path (opening it truncates it) and
 * read back from memory with ww_source_open_mem, so no input touches a disk or a directory.
 *
 * Input: records of  ctl(1) len(1) payload(len, clamped)
 *   ctl bits 0-1: connection; bit 2: direction; bits 3-4: op (0 packet, 1 served, 2 flag,
 *   3 close); bits 5-7: caplen cut (len - that).
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mfd = -1;
static char path[64];
static uint8_t *rbuf; /* the file read back */
static size_t rcap;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mfd = memfd_create("fuzz_evidence.pcapng", 0);
    if (mfd < 0)
        __builtin_trap();
    snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char err[WW_ERRBUF_SIZE];
    ww_pcapngw *w = NULL;
    if (ww_pcapngw_open(&w, path, "fuzz \"evidence\"\n<comment>", err) != WW_OK)
        abort();
    ww_evidence_cfg cfg = {3, 8, 2048, 6144};
    ww_evidence *e = ww_evidence_new(NULL, &cfg, w);
    if (e == NULL)
        abort();
    ww_flow fl[4];
    memset(fl, 0, sizeof fl);
    for (int i = 0; i < 4; i++) {
        fl[i].id = (uint64_t)i + 1;
        fl[i].cli_ip.family = i == 3 ? 6 : 4;
        fl[i].cli_ip.a[0] = 10;
        fl[i].cli_ip.a[3] = (uint8_t)(1 + (i & 1)); /* two clients */
        fl[i].srv_ip.family = fl[i].cli_ip.family;
        fl[i].srv_ip.a[0] = 192;
        fl[i].cli_port = (uint16_t)(50000 + i);
        fl[i].srv_port = 443;
    }
    uint64_t ts = 1700000000000000ull;
    size_t off = 0, given = 0;
    while (off + 2 <= size) {
        uint8_t ctl = data[off];
        size_t len = data[off + 1];
        off += 2;
        ww_flow *f = &fl[ctl & 3];
        int dir = (ctl >> 2) & 1, op = (ctl >> 3) & 3;
        ts += 1000;
        if (op == 1) {
            ww_evidence_served(e, f);
            continue;
        }
        if (op == 2) {
            if (ww_evidence_flag(e, f) != WW_OK)
                __builtin_trap(); /* memory caps are small, writes to memory do not fail */
            continue;
        }
        if (op == 3) {
            ww_evidence_close(e, f);
            continue;
        }
        if (len > size - off)
            len = size - off;
        size_t cut = (size_t)(ctl >> 5) * 8;
        size_t caplen = cut < len ? len - cut : 0;
        ww_pkt pkt = {ts, (uint32_t)caplen, (uint32_t)len, 1, data + off};
        ww_seg seg;
        memset(&seg, 0, sizeof seg);
        seg.ts_us = ts;
        seg.src = dir ? f->srv_ip : f->cli_ip;
        seg.dst = dir ? f->cli_ip : f->srv_ip;
        seg.sport = dir ? f->srv_port : f->cli_port;
        seg.dport = dir ? f->cli_port : f->srv_port;
        seg.flags = 0x18;
        seg.payload = data + off;
        seg.len = (uint32_t)caplen;
        seg.wire_len = (uint32_t)len;
        ww_evidence_packet(e, &pkt, &seg);
        given++;
        off += len;
    }
    uint64_t written = ww_evidence_stats_get(e)->packets_written;
    ww_evidence_free(e);
    if (ww_pcapngw_close(w) != WW_OK)
        abort();
    if (written > given)
        __builtin_trap();
    struct stat sb;
    if (fstat(mfd, &sb) != 0)
        abort();
    size_t flen = (size_t)sb.st_size;
    if (flen > rcap) {
        free(rbuf);
        rcap = flen * 2;
        if ((rbuf = malloc(rcap)) == NULL)
            abort();
    }
    if (pread(mfd, rbuf, flen, 0) != (ssize_t)flen)
        abort();
    ww_source *s = NULL;
    if (ww_source_open_mem(&s, rbuf, flen, err) != WW_OK)
        __builtin_trap(); /* the evidence file does not read back */
    ww_pkt p;
    uint64_t n = 0;
    int rc;
    while ((rc = ww_source_next(s, &p, err)) == 1) {
        /* (not in time order across flags: a later flag writes the older packets of the
         * client's served flows) */
        if (p.caplen > p.len || p.ts_us <= 1700000000000000ull || p.ts_us > ts)
            __builtin_trap();
        n++;
    }
    ww_source_free(s);
    if (rc != 0 || n != written)
        __builtin_trap();
    return 0;
}
