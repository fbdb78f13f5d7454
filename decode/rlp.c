/*
 * rlp.c - Recursive Length Prefix, the Ethereum serialization (Yellow Paper appendix B).
 *
 *   first byte   meaning                         payload
 *   0x00..0x7f   that byte                       -
 *   0x80..0xb7   string, len = b - 0x80 (< 56)   next len bytes
 *   0xb8..0xbf   string, lenlen = b - 0xb7       len (BE, lenlen bytes, >= 56), then payload
 *   0xc0..0xf7   list, len = b - 0xc0 (< 56)     concatenated items
 *   0xf8..0xff   list, lenlen = b - 0xf7         len (BE, >= 56), then items
 *
 * Only canonical encodings are accepted (what geth's rlp package enforces): 0x81 0x00..0x7f,
 * a length with a leading zero byte, and the long form for a payload under 56 bytes are
 * all WW_E_INVALID. Lengths are checked against the input before any pointer is formed.
 */
#include "decode/evm_int.h"

ssize_t ww_rlp_item_parse(ww_rlp_item *out, const uint8_t *p, size_t n)
{
    ww_rd r = ww_rd_init(p, n);
    uint8_t b;
    size_t len, hdr;
    bool is_list;

    if (!ww_rd_u8(&r, &b))
        return WW_E_TRUNC;
    if (b < 0x80) {
        out->is_list = false;
        out->ptr = p;
        out->len = 1;
        out->raw = p;
        out->raw_len = 1;
        return 1;
    }
    is_list = b >= 0xc0;
    uint8_t base = is_list ? 0xc0 : 0x80;
    if (b - base < 56) {
        len = (size_t)(b - base);
        hdr = 1;
        if (!is_list && len == 1) {
            if (ww_rd_left(&r) < 1)
                return WW_E_TRUNC;
            if (r.p[0] < 0x80)
                return WW_E_INVALID; /* a single byte < 0x80 is its own encoding */
        }
    } else {
        unsigned lenlen = (unsigned)(b - base - 55);
        uint64_t v = 0;
        for (unsigned i = 0; i < lenlen; i++) {
            uint8_t c;
            if (!ww_rd_u8(&r, &c))
                return WW_E_TRUNC;
            if (i == 0 && c == 0)
                return WW_E_INVALID; /* leading zero in the length */
            v = (v << 8) | c;        /* lenlen <= 8: cannot overflow 64 bits */
        }
        if (v < 56)
            return WW_E_INVALID; /* long form for a short payload */
        if (v > (uint64_t)SIZE_MAX - (1 + lenlen))
            return WW_E_OVERFLOW;
        len = (size_t)v;
        hdr = 1 + lenlen;
    }
    if (ww_rd_left(&r) < len)
        return WW_E_TRUNC;
    out->is_list = is_list;
    out->ptr = r.p;
    out->len = len;
    out->raw = p;
    out->raw_len = hdr + len;
    return (ssize_t)(hdr + len);
}

int ww_rlp_next(ww_rd *r, ww_rlp_item *out)
{
    size_t left = ww_rd_left(r);
    if (left == 0)
        return WW_E_NOTFOUND;
    ssize_t k = ww_rlp_item_parse(out, r->p, left);
    if (k < 0)
        return (int)k;
    r->p += k;
    return WW_OK;
}

static int validate_payload(const uint8_t *p, size_t n, int depth_left)
{
    ww_rd r = ww_rd_init(p, n);
    ww_rlp_item it;
    int rc;

    while ((rc = ww_rlp_next(&r, &it)) == WW_OK) {
        if (it.is_list) {
            if (depth_left <= 0)
                return WW_E_DEPTH;
            rc = validate_payload(it.ptr, it.len, depth_left - 1);
            if (rc != WW_OK)
                return rc == WW_E_TRUNC ? WW_E_INVALID : rc; /* item overruns its list */
        }
    }
    return rc == WW_E_NOTFOUND ? WW_OK : (rc == WW_E_TRUNC ? WW_E_INVALID : rc);
}

int ww_rlp_validate(const uint8_t *p, size_t n, int max_depth)
{
    ww_rlp_item it;
    ssize_t k = ww_rlp_item_parse(&it, p, n);
    if (k < 0)
        return (int)k;
    if ((size_t)k != n)
        return WW_E_INVALID;
    if (!it.is_list)
        return WW_OK;
    if (max_depth <= 0)
        return WW_E_DEPTH;
    return validate_payload(it.ptr, it.len, max_depth - 1);
}
