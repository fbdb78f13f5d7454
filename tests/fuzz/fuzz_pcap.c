/*
 * fuzz_pcap.c - a whole capture file (pcap, pcapng, gzip) through source -> pktdec -> tcp.
 */
#include "capture/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void f_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    uint64_t *sum = ud;
    (void)f, (void)dir, (void)ts;
    for (size_t i = 0; i < n; i++) /* touch every delivered byte */
        *sum += p[i];
}

static void f_secrets(void *ud, uint32_t type, const uint8_t *p, size_t n)
{
    uint64_t *sum = ud;
    (void)type;
    for (size_t i = 0; i < n; i++)
        *sum += p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[WW_ERRBUF_SIZE];
    ww_source *s;
    uint64_t sum = 0;
    if (ww_source_open_mem(&s, data, size, err) != WW_OK)
        return 0;
    ww_source_set_secrets_fn(s, f_secrets, &sum);
    ww_stream_cbs cbs = {&sum, NULL, f_data, NULL, NULL, NULL};
    /* small caps so the cap paths run */
    ww_pktdec_cfg dc = {64 * 1024, 8, 1000000};
    ww_tcp_cfg tc = {16, 4096, 16384, 2000000};
    ww_pktdec *d = ww_pktdec_new(NULL, &dc, NULL, NULL);
    ww_tcp *t = ww_tcp_new(NULL, &tc, &cbs);
    ww_pkt p;
    uint64_t last = 0;
    int n = 0;
    while (n++ < 100000 && ww_source_next(s, &p, err) == 1) {
        ww_seg seg;
        last = p.ts_us;
        ww_tcp_tick(t, p.ts_us);
        if (ww_pktdec_decode(d, &p, &seg) == 1) {
            for (uint32_t i = 0; i < seg.len; i++)
                sum += seg.payload[i];
            ww_tcp_segment(t, &seg);
        }
    }
    ww_tcp_finish(t, last);
    ww_tcp_free(t);
    ww_pktdec_free(d);
    ww_source_free(s);
    return sum == 1 ? 1 : 0;
}
