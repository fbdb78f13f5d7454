/*
 * fuzz_ws.c - libFuzzer target for the WebSocket decoder (decode/ws.c).
 *
 * Input: byte 0 = config (bit 0 permessage-deflate, bit 1 client_no_context_takeover,
 * bit 2 server_no_context_takeover, bit 3 small caps); then records: one control byte c, then
 * data: c & 0x80 == 0: (c & 0x40 ? TOCLIENT : TOSERVER) data of length c & 0x3f (clamped);
 * else a gap in that direction. Every message must respect the cap.
 */
#include "decode/ws_int.h"

#include <stdlib.h>

static uint64_t sink_sum;
static size_t cap_now;

static void w_msg(void *ud, int dir, int op, const uint8_t *p, size_t n, bool tr, uint64_t ts)
{
    (void)ud;
    (void)ts;
    if (n > cap_now)
        abort();
    sink_sum += (uint64_t)dir + (uint64_t)op + tr;
    for (size_t i = 0; i < n; i++)
        sink_sum += p[i];
}

static void w_anom(void *ud, const char *t, const char *d)
{
    (void)ud;
    sink_sum += strlen(t) + strlen(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t c0 = data[0];
    ww_ws_pmd pmd = {.enabled = (c0 & 1) != 0,
                     .no_context_takeover = {(c0 & 2) != 0, (c0 & 4) != 0},
                     .max_window_bits = {15, 15}};
    cap_now = (c0 & 8) ? 64 : 1 << 16;
    ww_ws_cbs cbs = {NULL, w_msg, w_anom};
    ww_ws *w = ww_ws_new(NULL, &pmd, cap_now, 10, &cbs);
    if (w == NULL)
        return 0;
    size_t i = 1;
    uint64_t ts = 0;
    while (i < size) {
        uint8_t c = data[i++];
        ts++;
        int dir = (c & 0x40) ? WW_DIR_TOCLIENT : WW_DIR_TOSERVER;
        if ((c & 0x80) == 0) {
            size_t n = c & 0x3f;
            if (n > size - i)
                n = size - i;
            ww_ws_data(w, dir, data + i, n, ts);
            i += n;
        } else {
            ww_ws_gap(w, dir, c & 0x3f);
        }
    }
    /* the extension parser too, over the same bytes */
    ww_ws_pmd p2;
    if (ww_ws_parse_extensions(&p2, (const char *)data + 1, size - 1) == WW_OK)
        sink_sum += p2.enabled;
    ww_ws_free(w);
    return 0;
}
