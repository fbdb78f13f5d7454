/*
 * coding_int.h - HTTP content codings (RFC 9110 8.4): streaming gzip, deflate (zlib-wrapped
 * or raw, sniffed from the first two bytes, as servers send both), br (RFC 7932, libbrotlidec)
 * and identity, stacked ("gzip, br": decoded br first, then gzip).
 *
 * Bomb guard: the decoded output is capped at max_out bytes and at
 * ratio * encoded_in + 1 MiB, checked while inflating, in bounded chunks (WW_CODING_CHUNK
 * bytes at a time): the decoder never produces more than the cap, whatever the input.
 * Intermediate stages of a stack obey the same limits.
 */
#ifndef WW_CODING_INT_H
#define WW_CODING_INT_H

#include "util/ww.h"

#include <zlib.h>

enum ww_coding_kind {
    WW_CODING_IDENTITY = 0,
    WW_CODING_GZIP,    /* also "x-gzip" */
    WW_CODING_DEFLATE, /* zlib (RFC 1950) or raw (RFC 1951) */
    WW_CODING_BR,
    WW_CODING_ZSTD, /* RFC 8878 frames, window <= 8 MiB (RFC 9659) */
};

/* ww_coding_new2 flags */
#define WW_CODING_F_ZLIB 1u /* gzip / deflate through zlib even when ISA-L is built in */

#define WW_CODING_MAX_STACK 4
#define WW_CODING_CHUNK 16384
#define WW_CODING_SLACK ((size_t)1 << 20) /* the "+ 1 MiB" of the ratio cap */

/*
 * Parses a Content-Encoding / Transfer-Encoding value ("gzip, br", case-insensitive tokens,
 * OWS around commas, empty list elements ignored). identity is dropped; with
 * skip_chunked, "chunked" is dropped too (Transfer-Encoding).
 * Out: kinds[] in the order the codings were applied; *num = capacity in, count out.
 * Returns: WW_OK, WW_E_UNSUPPORTED (a coding we do not decode: compress, Chromium's
 * shared-dictionary dcb / dcz...: the caller reports the body as not decodable, a blind spot),
 * WW_E_TOOBIG (more than the capacity), WW_E_INVALID (not a token list).
 */
int ww_coding_parse_list(uint8_t *kinds, size_t *num, const char *s, size_t n,
                         bool skip_chunked) WW_WUR;

/* Receives decoded bytes, at most WW_CODING_CHUNK at a time. Returns WW_OK, or a negative
 * WW_E_* that stops decoding and is returned by ww_coding_feed. */
typedef int (*ww_coding_out_fn)(void *ud, const uint8_t *p, size_t n);

typedef struct ww_coding ww_coding;
/*
 * A decoder for kinds[0..n) as applied by the sender (decoded in reverse order).
 * max_out: cap on decoded bytes; ratio: cap on decoded/encoded (0 = no ratio cap).
 * Returns NULL on OOM or n > WW_CODING_MAX_STACK. n == 0 is identity (a pass-through).
 */
ww_coding *ww_coding_new(const ww_mem *mem, const uint8_t *kinds, size_t n, size_t max_out,
                         size_t ratio);
/* The same with WW_CODING_F_* flags (tests compare ISA-L with zlib through WW_CODING_F_ZLIB). */
ww_coding *ww_coding_new2(const ww_mem *mem, const uint8_t *kinds, size_t n, size_t max_out,
                          size_t ratio, unsigned flags);
/* true when gzip / deflate go through ISA-L by default (the build found libisal). */
bool ww_coding_have_isal(void);
/*
 * Feeds the next encoded bytes; decoded output goes to out(ud, ...) in chunks.
 * Returns: WW_OK; WW_E_TOOBIG (a cap was reached: the output so far is exactly the capped
 * prefix; also a zstd frame asking for a window over 8 MiB); WW_E_INVALID (corrupt stream, bad
 * checksum); WW_E_NOMEM; or the out function's error. After an
 * error every later call returns the same error.
 */
int ww_coding_feed(ww_coding *c, const uint8_t *p, size_t n, ww_coding_out_fn out,
                   void *ud) WW_WUR;
/* The encoded input ended. Returns WW_OK when every stage saw its end of stream,
 * WW_E_TRUNC when a stream is incomplete, or the sticky error. */
int ww_coding_finish(ww_coding *c) WW_WUR;
size_t ww_coding_total_in(const ww_coding *c);
size_t ww_coding_total_out(const ww_coding *c);
void ww_coding_free(ww_coding *c);

/*
 * One-shot: decodes in[0..n) through kinds into out (a ww_buf; its own cap applies too).
 * Returns WW_OK, WW_E_TRUNC (incomplete stream; out holds the prefix), or the
 * ww_coding_feed errors (out holds the prefix decoded so far).
 */
int ww_coding_decode(const ww_mem *mem, const uint8_t *kinds, size_t nk, const uint8_t *in,
                     size_t n, size_t max_out, size_t ratio, ww_buf *out) WW_WUR;

const char *ww_coding_name(int kind);

/* zlib allocator callbacks over a ww_mem (opaque = the ww_mem): the state and window of an
 * inflater count against the budget of its owner. */
voidpf ww_zalloc(voidpf opaque, uInt items, uInt size);
void ww_zfree(voidpf opaque, voidpf p);

#endif
