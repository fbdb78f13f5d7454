/*
 * fuzz_tls.c - libFuzzer target for the TLS record layer and decryption (decode/tls.c).
 *
 * Input: byte 0 picks how chunks are split (bits 0-5: piece size - 1; bit 6: byte by byte),
 * then chunks of [flags 1][length 2, big-endian][bytes]: flags bit 0 = direction (0 client,
 * 1 server); bit 1 = the bytes are key log text (added to the key log: late keys); bit 2 =
 * a gap of `length` bytes in that direction (no bytes follow).
 * The key log starts with secrets for the client random 11..11 42 (the unit tests'
 * synthetic connection: master secret 33..33) so that decryption paths are reached.
 */
#include "decode/decode.h"
#include "decode/tls_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_keylog[] =
    "CLIENT_RANDOM 1111111111111111111111111111111111111111111111111111111111111142 "
    "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333\n"
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET 1111111111111111111111111111111111111111111111111111111111111142 "
    "4444444444444444444444444444444444444444444444444444444444444444\n"
    "SERVER_HANDSHAKE_TRAFFIC_SECRET 1111111111111111111111111111111111111111111111111111111111111142 "
    "5555555555555555555555555555555555555555555555555555555555555555\n"
    "CLIENT_TRAFFIC_SECRET_0 1111111111111111111111111111111111111111111111111111111111111142 "
    "6666666666666666666666666666666666666666666666666666666666666666\n"
    "SERVER_TRAFFIC_SECRET_0 1111111111111111111111111111111111111111111111111111111111111142 "
    "7777777777777777777777777777777777777777777777777777777777777777\n";

static size_t sink;
static void on_pt(void *ud, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    (void)ud;
    (void)ts;
    sink += n + (size_t)dir + (n > 0 ? p[0] + p[n - 1] : 0); /* touch the bytes */
}
static void on_hs(void *ud, const ww_tls_info *i)
{
    (void)ud;
    sink += strlen(i->sni) + strlen(i->alpn);
}
static void on_an(void *ud, const char *type, const char *detail)
{
    (void)ud;
    sink += strlen(type) + strlen(detail);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ww_keylog *kl = ww_keylog_new(NULL);
    if (kl == NULL)
        return 0;
    ww_keylog_add_text(kl, (const uint8_t *)fixed_keylog, sizeof fixed_keylog - 1);
    ww_tls_cbs cbs = {NULL, on_pt, on_hs, on_an};
    ww_tls *t = ww_tls_new(NULL, kl, &cbs);
    if (t == NULL) {
        ww_keylog_free(kl);
        return 0;
    }
    size_t piece = (data[0] & 0x40) ? 1 : (size_t)(data[0] & 0x3f) + 1;
    if (data[0] & 0x80)
        piece = 100000; /* whole chunks */
    ww_rd r = ww_rd_init(data + 1, size - 1);
    uint8_t flags;
    uint16_t len;
    while (ww_rd_u8(&r, &flags) && ww_rd_be16(&r, &len)) {
        int dir = flags & 1;
        if (flags & 4) {
            ww_tls_gap(t, dir, len, 0);
            continue;
        }
        ww_slice s;
        if (!ww_rd_bytes(&r, &s, WW_MIN((size_t)len, ww_rd_left(&r))))
            break;
        if (flags & 2) {
            ww_keylog_add_text(kl, s.ptr, s.len);
            continue;
        }
        for (size_t i = 0; i < s.len; i += piece)
            ww_tls_data(t, dir, s.ptr + i, WW_MIN(piece, s.len - i), 0);
    }
    (void)ww_tls_info_get(t);
    (void)ww_tls_decrypted(t);
    (void)ww_tls_undecryptable(t);
    ww_tls_free(t);
    ww_keylog_free(kl);
    return 0;
}
