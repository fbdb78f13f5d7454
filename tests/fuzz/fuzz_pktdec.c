/*
 * fuzz_pktdec.c - one packet; the first byte picks the link type.
 */
#include "capture/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[] = {WW_LINK_ETHERNET, WW_LINK_RAW, WW_LINK_NULL, WW_LINK_LOOP,
                            WW_LINK_SLL,      WW_LINK_SLL2, WW_LINK_IPV4, WW_LINK_IPV6,
                            12,               14};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ww_pktdec *d = ww_pktdec_new(NULL, NULL, NULL, NULL);
    if (d == NULL)
        return 0;
    uint8_t sel = data[0];
    ww_pkt p = {1, (uint32_t)(size - 1), (uint32_t)(size - 1) + (sel & 0x80 ? 100 : 0),
                links[(sel & 0x7f) % (sizeof(links) / sizeof(links[0]))], data + 1};
    ww_seg seg;
    unsigned sum = 0;
    if (ww_pktdec_decode(d, &p, &seg) == 1) {
        for (uint32_t i = 0; i < seg.len; i++)
            sum += seg.payload[i];
    }
    ww_pktdec_free(d);
    return sum == 0xffffffffu ? 1 : 0;
}
